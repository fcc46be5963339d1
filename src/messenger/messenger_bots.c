/*
 * messenger_bots.c - what third-party bots need beyond being users: finding
 * a bot by its @username (a customer opens a 1:1 chat with it), and the
 * bot's inbox of updates (migration 0410).  Every event addressed to a bot
 * is recorded, after the change itself committed, by the api layer's one
 * delivery path (api_messenger_push); a bot reads its inbox with a cursor
 * (the last update id it saw), so it misses nothing while offline and sees
 * each update once.  The inbox keeps the newest SB_MESSENGER_BOT_UPDATES_KEPT
 * updates per bot: a bot that never reads cannot grow the database.
 */
#include <string.h>

#include "messenger/messenger_int.h"

void messenger_bot_updates_clear(messenger_bot_update *list, size_t count) {
    if (!list) return;
    for (size_t i = 0; i < count; i++) {
        sb_free(list[i].event_json);
        list[i].event_json = NULL;
    }
}

int messenger_bot_find(store *s, const char *username, int64_t *bot_id_out) {
    if (!username) return SB_EINVAL;
    if (username[0] == '@') username++;
    char name[SB_USERNAME_BYTES_MAX + 1];
    size_t len = strnlen(username, sizeof name);
    if (len == 0 || len >= sizeof name || identity_username_check(username) != SB_OK) return SB_EINVAL;
    for (size_t i = 0; i <= len; i++) {
        char c = username[i];
        name[i] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
    return store_query_int64(s, bot_id_out,
                             "SELECT u.id FROM users u JOIN msg_bots b ON b.user_id = u.id WHERE u.username = ?", "t",
                             name);
}

int messenger_bot_is(store *s, int64_t user_id, bool *is_bot_out) {
    int64_t n = 0;
    int result = store_query_int64(s, &n, "SELECT COUNT(*) FROM msg_bots WHERE user_id = ?", "i", user_id);
    if (result == SB_OK) *is_bot_out = n > 0;
    return result;
}

int messenger_bot_updates_record(store *s, const messenger_events *events, int64_t now_ms) {
    if (!events) return SB_OK;
    size_t wanted = 0;
    for (size_t i = 0; i < events->count; i++)
        for (size_t b = 0; b < events->items[i].bot_recipient_count; b++)
            if (events->items[i].bot_recipients[b] != events->items[i].actor_id) wanted++;
    if (wanted == 0) return SB_OK;
    int result = store_begin(s);
    if (result != SB_OK) return result;
    for (size_t i = 0; result == SB_OK && i < events->count; i++) {
        const messenger_event *ev = &events->items[i];
        char *json = NULL;
        bool rendered = false;
        for (size_t b = 0; result == SB_OK && b < ev->bot_recipient_count; b++) {
            int64_t bot = ev->bot_recipients[b];
            if (bot == ev->actor_id) continue; /* a bot does not hear itself */
            if (!rendered) {
                result = messenger_event_render(ev, &json, NULL);
                rendered = true;
                if (result != SB_OK) break;
            }
            result = store_exec(s, "INSERT INTO msg_bot_updates(bot_id, event_json, created_at_ms) VALUES (?, ?, ?)",
                                "iti", bot, json, now_ms);
            /* Ids are shared by all bots: the cut is this bot's KEPT-th newest. */
            if (result == SB_OK)
                result = store_exec(s,
                                    "DELETE FROM msg_bot_updates WHERE bot_id = ?1 AND id <= (SELECT id FROM "
                                    "msg_bot_updates WHERE bot_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
                                    "ii", bot, (int64_t)SB_MESSENGER_BOT_UPDATES_KEPT);
        }
        sb_free(json);
    }
    if (result == SB_OK) result = store_commit(s);
    if (result != SB_OK) store_rollback(s);
    return result;
}

int messenger_bot_updates(store *s, int64_t bot_id, int64_t after_id, size_t limit, messenger_bot_update *out,
                          size_t *count_out) {
    *count_out = 0;
    if (limit == 0) return SB_OK;
    if (limit > SB_MESSENGER_BOT_UPDATES_PAGE_MAX) limit = SB_MESSENGER_BOT_UPDATES_PAGE_MAX;
    store_stmt *st;
    int result = store_query(s, &st,
                             "SELECT id, event_json, created_at_ms FROM msg_bot_updates WHERE bot_id = ? AND id > ? "
                             "ORDER BY id LIMIT ?",
                             "iii", bot_id, after_id, (int64_t)limit);
    if (result != SB_OK) return result;
    size_t n = 0;
    while ((result = store_step(st)) == STORE_ROW && n < limit) {
        const char *json = store_col_text(st, 1);
        size_t len = json ? strlen(json) : 0;
        char *copy = sb_malloc(len + 1);
        if (!copy) {
            result = SB_ENOMEM;
            break;
        }
        if (len) memcpy(copy, json, len);
        copy[len] = '\0';
        out[n] = (messenger_bot_update){
            .id = store_col_int64(st, 0), .event_json = copy, .created_at_ms = store_col_int64(st, 2)};
        n++;
    }
    store_stmt_done(st);
    if (result < 0) {
        messenger_bot_updates_clear(out, n);
        return result;
    }
    *count_out = n;
    return SB_OK;
}
