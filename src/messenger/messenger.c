/*
 * messenger.c - chats, members and messages on the store.
 *
 * Every public call is one transaction: begin, check who the caller is in the
 * chat (one query joining the chat and the caller's membership), change,
 * collect the events with their recipients (one query per event), commit.
 * On any failure the transaction is rolled back and the events cleared, so a
 * caller sees either everything or nothing.
 *
 * A send takes the chat's next seq and rev with one UPDATE ... RETURNING
 * inside the write transaction (BEGIN IMMEDIATE holds the write lock), so
 * seqs are dense and strictly increasing whatever the number of connections.
 */
#include <sodium.h>
#include <string.h>

#include "messenger/messenger.h"
#include "messenger/messenger_int.h"

/* ---- small helpers ---- */

void messenger_message_clear(messenger_message *m) {
    if (!m) return;
    sb_free(m->text);
    sb_free(m->payload_json);
    memset(m, 0, sizeof *m);
}

void messenger_messages_clear(messenger_message *list, size_t count) {
    for (size_t i = 0; list && i < count; i++)
        messenger_message_clear(&list[i]);
}

static void event_clear(messenger_event *ev) {
    sb_free(ev->recipients);
    sb_free(ev->bot_recipients);
    sb_free(ev->callback_data);
    messenger_message_clear(&ev->message);
    memset(ev, 0, sizeof *ev);
}

void messenger_events_clear(messenger_events *events) {
    if (!events) return;
    for (size_t i = 0; i < MESSENGER_EVENTS_PER_CALL_MAX; i++)
        event_clear(&events->items[i]);
    events->count = 0;
}

/* The next free event slot, or NULL when the caller passed no list. */
static messenger_event *event_add(messenger_events *events, int type, int64_t chat_id, int64_t actor_id) {
    if (!events) return NULL;
    SB_ASSERT(events->count < MESSENGER_EVENTS_PER_CALL_MAX);
    messenger_event *ev = &events->items[events->count++];
    memset(ev, 0, sizeof *ev);
    ev->type = type;
    ev->chat_id = chat_id;
    ev->actor_id = actor_id;
    return ev;
}

/* Run `body` in a write transaction; roll back and clear events on failure. */
static int finish_tx(store *s, int result, messenger_events *events) {
    if (result == SB_OK) result = store_commit(s);
    if (result != SB_OK) {
        store_rollback(s);
        messenger_events_clear(events);
    }
    return result;
}

static int step_none(int result) { return result == STORE_DONE ? SB_OK : result == STORE_ROW ? SB_OK : result; }

/* ---- messages from rows ---- */

#define MESSAGE_COLUMNS                                                                                                \
    "chat_id, seq, rev, sender_id, kind, body, payload, reply_to_seq, client_id, status, created_at_ms, "              \
    "edited_at_ms, deleted_at_ms, like_count, comment_count, share_count"

static int message_from_row(store_stmt *st, messenger_message *m) {
    memset(m, 0, sizeof *m);
    m->chat_id = store_col_int64(st, 0);
    m->seq = store_col_int64(st, 1);
    m->rev = store_col_int64(st, 2);
    m->sender_id = store_col_int64(st, 3);
    m->kind = messenger__message_kind_parse(store_col_text(st, 4));
    const char *body = store_col_text(st, 5);
    const char *payload = store_col_text(st, 6);
    m->reply_to_seq = store_col_int64(st, 7);
    const char *client_id = store_col_text(st, 8);
    if (client_id) {
        size_t n = strnlen(client_id, SB_MESSENGER_CLIENT_ID_BYTES_MAX);
        memcpy(m->client_id, client_id, n);
        m->client_id[n] = '\0';
    }
    m->status = messenger__status_parse(store_col_text(st, 9));
    m->created_at_ms = store_col_int64(st, 10);
    m->edited_at_ms = store_col_int64(st, 11);
    m->deleted_at_ms = store_col_int64(st, 12);
    m->like_count = store_col_int64(st, 13);
    m->comment_count = store_col_int64(st, 14);
    m->share_count = store_col_int64(st, 15);
    if (m->kind == 0) return SB_ECORRUPT;
    if (body && !(m->text = sb_strdup(body))) return SB_ENOMEM;
    if (payload && !(m->payload_json = sb_strdup(payload))) {
        messenger_message_clear(m);
        return SB_ENOMEM;
    }
    return SB_OK;
}

static int message_load(store *s, int64_t chat_id, int64_t seq, messenger_message *out) {
    store_stmt *st;
    int result = store_query(s, &st, "SELECT " MESSAGE_COLUMNS " FROM msg_messages WHERE chat_id = ? AND seq = ?", "ii",
                             chat_id, seq);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_ROW)
        result = message_from_row(st, out);
    else if (result == STORE_DONE)
        result = SB_ENOTFOUND;
    store_stmt_done(st);
    return result;
}

static int message_copy(const messenger_message *from, messenger_message *to) {
    *to = *from;
    to->text = NULL;
    to->payload_json = NULL;
    if (from->text && !(to->text = sb_strdup(from->text))) return SB_ENOMEM;
    if (from->payload_json && !(to->payload_json = sb_strdup(from->payload_json))) {
        messenger_message_clear(to);
        return SB_ENOMEM;
    }
    return SB_OK;
}

/* ---- membership ---- */

typedef struct {
    int kind;
    int role; /* 0: not a member */
    int64_t pair_lo, pair_hi;
    int64_t last_seq;
} chat_access;

/* The chat's kind and the user's role in it.  SB_EPERM when the chat does not
 * exist or the user is not a member: the two answers are the same on purpose. */
static int access_load(store *s, int64_t chat_id, int64_t user_id, chat_access *out) {
    store_stmt *st;
    int result = store_query(s, &st,
                             "SELECT c.kind, m.role, c.pair_lo, c.pair_hi, c.last_seq FROM msg_chats c "
                             "JOIN msg_members m ON m.chat_id = c.id AND m.user_id = ? WHERE c.id = ?",
                             "ii", user_id, chat_id);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_ROW) {
        out->kind = messenger__chat_kind_parse(store_col_text(st, 0));
        out->role = messenger__role_parse(store_col_text(st, 1));
        out->pair_lo = store_col_int64(st, 2);
        out->pair_hi = store_col_int64(st, 3);
        out->last_seq = store_col_int64(st, 4);
        result = out->kind && out->role ? SB_OK : SB_ECORRUPT;
    } else if (result == STORE_DONE) {
        result = SB_EPERM;
    }
    store_stmt_done(st);
    return result;
}

int messenger_blocked_either(store *s, int64_t a, int64_t b, bool *out) {
    int64_t n = 0;
    int result = store_query_int64(s, &n,
                                   "SELECT COUNT(*) FROM msg_blocks WHERE (blocker_id = ? AND blocked_id = ?) "
                                   "OR (blocker_id = ? AND blocked_id = ?)",
                                   "iiii", a, b, b, a);
    *out = n > 0;
    return result;
}

static int blocked_either(store *s, int64_t a, int64_t b, bool *out) { return messenger_blocked_either(s, a, b, out); }

static int user_exists(store *s, int64_t user_id) {
    int64_t id;
    return store_query_int64(s, &id, "SELECT id FROM users WHERE id = ?", "i", user_id);
}

static int is_bot(store *s, int64_t user_id, bool *out) {
    int64_t n = 0;
    int result = store_query_int64(s, &n, "SELECT COUNT(*) FROM msg_bots WHERE user_id = ?", "i", user_id);
    *out = n > 0;
    return result;
}

/* Load every member of chat_id (but exclude_id, 0 for none) into ev's
 * recipient lists: one query, bots flagged by a join. */
static int recipients_load(store *s, int64_t chat_id, int64_t exclude_id, messenger_event *ev) {
    if (!ev) return SB_OK;
    store_stmt *st;
    int result = store_query(s, &st,
                             "SELECT m.user_id, b.user_id IS NOT NULL FROM msg_members m "
                             "LEFT JOIN msg_bots b ON b.user_id = m.user_id WHERE m.chat_id = ? ORDER BY m.user_id",
                             "i", chat_id);
    if (result != SB_OK) return result;
    size_t cap = 0, bot_cap = 0;
    while ((result = store_step(st)) == STORE_ROW) {
        int64_t id = store_col_int64(st, 0);
        if (id == exclude_id) continue;
        if (ev->recipient_count == SB_MESSENGER_RECIPIENTS_MAX) {
            result = SB_ELIMIT;
            break;
        }
        if (ev->recipient_count == cap) {
            size_t next = cap ? cap * 2 : 8;
            int64_t *grown = sb_realloc(ev->recipients, next * sizeof *grown);
            if (!grown) {
                result = SB_ENOMEM;
                break;
            }
            ev->recipients = grown;
            cap = next;
        }
        ev->recipients[ev->recipient_count++] = id;
        if (store_col_int64(st, 1)) {
            if (ev->bot_recipient_count == bot_cap) {
                size_t next = bot_cap ? bot_cap * 2 : 2;
                int64_t *grown = sb_realloc(ev->bot_recipients, next * sizeof *grown);
                if (!grown) {
                    result = SB_ENOMEM;
                    break;
                }
                ev->bot_recipients = grown;
                bot_cap = next;
            }
            ev->bot_recipients[ev->bot_recipient_count++] = id;
        }
    }
    store_stmt_done(st);
    return result == STORE_DONE ? SB_OK : result;
}

/* A message event: a copy of the message and the chat's members. */
static int message_event(store *s, messenger_events *events, int type, const messenger_message *m, int64_t actor_id) {
    messenger_event *ev = event_add(events, type, m->chat_id, actor_id);
    if (!ev) return SB_OK;
    ev->seq = m->seq;
    ev->rev = m->rev;
    int result = message_copy(m, &ev->message);
    if (result == SB_OK) result = recipients_load(s, m->chat_id, 0, ev);
    return result;
}

static int members_event(store *s, messenger_events *events, int64_t chat_id, int64_t actor_id, int action,
                         int64_t subject_id, int subject_role, const char *title, int64_t also_notify) {
    messenger_event *ev = event_add(events, MESSENGER_EVENT_MEMBERS, chat_id, actor_id);
    if (!ev) return SB_OK;
    ev->action = action;
    ev->subject_id = subject_id;
    ev->subject_role = subject_role;
    if (title) {
        size_t n = strnlen(title, SB_MESSENGER_TITLE_BYTES_MAX);
        memcpy(ev->title, title, n);
        ev->title[n] = '\0';
    }
    int result = recipients_load(s, chat_id, 0, ev);
    /* The one who was removed or left hears about it too. */
    if (result == SB_OK && also_notify) {
        int64_t *grown = sb_realloc(ev->recipients, (ev->recipient_count + 1) * sizeof *grown);
        if (!grown) return SB_ENOMEM;
        ev->recipients = grown;
        ev->recipients[ev->recipient_count++] = also_notify;
    }
    return result;
}

/* Take the chat's next seq (when new_message) and rev. */
static int chat_advance(store *s, int64_t chat_id, bool new_message, int64_t *seq_out, int64_t *rev_out) {
    store_stmt *st;
    int result = new_message ? store_query(s, &st,
                                           "UPDATE msg_chats SET last_seq = last_seq + 1, last_rev = last_rev + 1 "
                                           "WHERE id = ? RETURNING last_seq, last_rev",
                                           "i", chat_id)
                             : store_query(s, &st,
                                           "UPDATE msg_chats SET last_rev = last_rev + 1 "
                                           "WHERE id = ? RETURNING last_seq, last_rev",
                                           "i", chat_id);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_ROW) {
        if (seq_out) *seq_out = store_col_int64(st, 0);
        *rev_out = store_col_int64(st, 1);
        result = SB_OK;
    } else if (result == STORE_DONE) {
        result = SB_ENOTFOUND;
    }
    /* Finish the statement so the UPDATE is complete before anything else. */
    if (result == SB_OK) result = step_none(store_step(st));
    store_stmt_done(st);
    return result;
}

static int next_join_order(store *s, int64_t *out) {
    int result = store_exec(s, "UPDATE msg_join_counter SET value = value + 1 WHERE id = 1", NULL);
    if (result == SB_OK) result = store_query_int64(s, out, "SELECT value FROM msg_join_counter WHERE id = 1", NULL);
    return result;
}

/* Insert a member row and count it. */
static int member_insert(store *s, int64_t chat_id, int64_t user_id, int role, int64_t now_ms) {
    int64_t order;
    int result = next_join_order(s, &order);
    if (result == SB_OK)
        result = store_exec(s,
                            "INSERT INTO msg_members(chat_id, user_id, role, joined_order, joined_at_ms) "
                            "VALUES (?, ?, ?, ?, ?)",
                            "iitii", chat_id, user_id, messenger_member_role_name(role), order, now_ms);
    if (result == SB_OK)
        result = store_exec(s, "UPDATE msg_chats SET member_count = member_count + 1 WHERE id = ?", "i", chat_id);
    return result;
}

static int member_delete(store *s, int64_t chat_id, int64_t user_id) {
    int result = store_exec(s, "DELETE FROM msg_members WHERE chat_id = ? AND user_id = ?", "ii", chat_id, user_id);
    if (result != SB_OK) return result;
    if (store_changes(s) != 1) return SB_ENOTFOUND;
    return store_exec(s, "UPDATE msg_chats SET member_count = member_count - 1 WHERE id = ?", "i", chat_id);
}

/* ---- settings, contacts, blocks ---- */

int messenger_discoverable_set(store *s, int64_t user_id, bool discoverable) {
    return messenger_discoverability_set(s, user_id, discoverable, discoverable);
}

int messenger_discoverability_set(store *s, int64_t user_id, int by_phone, int by_username) {
    if (by_phone < -1 || by_phone > 1 || by_username < -1 || by_username > 1) return SB_EINVAL;
    bool phone_now, name_now;
    int result = messenger_discoverability_get(s, user_id, &phone_now, &name_now);
    if (result != SB_OK) return result;
    int64_t phone = by_phone < 0 ? phone_now : by_phone, name = by_username < 0 ? name_now : by_username;
    return store_exec(s,
                      "INSERT INTO msg_settings(user_id, by_phone, by_username, discoverable) VALUES (?, ?, ?, ?) "
                      "ON CONFLICT(user_id) DO UPDATE SET by_phone = excluded.by_phone, "
                      "by_username = excluded.by_username, discoverable = excluded.discoverable",
                      "iiii", user_id, phone, name, (int64_t)(phone || name));
}

int messenger_discoverability_get(store *s, int64_t user_id, bool *by_phone_out, bool *by_username_out) {
    *by_phone_out = *by_username_out = false;
    int result = user_exists(s, user_id);
    if (result != SB_OK) return result;
    store_stmt *st;
    result = store_query(s, &st, "SELECT by_phone, by_username FROM msg_settings WHERE user_id = ?", "i", user_id);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_ROW) {
        *by_phone_out = store_col_int64(st, 0) != 0;
        *by_username_out = store_col_int64(st, 1) != 0;
    }
    store_stmt_done(st);
    return result == STORE_ROW || result == STORE_DONE ? SB_OK : result;
}

int messenger_contact_lookup_phone(store *s, int64_t caller_id, const char *phone_e164, int64_t *user_id_out) {
    if (!phone_e164 || phone_e164[0] != '+') return SB_EINVAL;
    int64_t id = 0;
    int result =
        store_query_int64(s, &id,
                          "SELECT u.id FROM users u LEFT JOIN msg_settings g ON g.user_id = u.id "
                          "WHERE u.phone = ? AND u.role = 'customer' AND u.id <> ? "
                          "AND (g.by_phone = 1 OR EXISTS (SELECT 1 FROM msg_chats c WHERE c.kind = 'direct' "
                          "AND c.pair_lo = min(u.id, ?) AND c.pair_hi = max(u.id, ?))) "
                          "AND NOT EXISTS (SELECT 1 FROM msg_blocks b WHERE b.blocker_id = u.id AND b.blocked_id = ?)",
                          "tiiii", phone_e164, caller_id, caller_id, caller_id, caller_id);
    if (result == SB_OK) *user_id_out = id;
    return result;
}

int messenger_official_mute(store *s, int64_t user_id, bool muted) {
    int result = user_exists(s, user_id);
    if (result != SB_OK) return result;
    return store_exec(s,
                      "INSERT INTO msg_settings(user_id, official_muted) VALUES (?, ?) "
                      "ON CONFLICT(user_id) DO UPDATE SET official_muted = excluded.official_muted",
                      "ii", user_id, (int64_t)muted);
}

int messenger_findable_check(store *s, int64_t viewer_id, int64_t target_id) {
    int64_t n = 0;
    int result = store_query_int64(s, &n,
                                   "SELECT COUNT(*) FROM users u JOIN msg_settings g ON g.user_id = u.id "
                                   "AND g.discoverable = 1 WHERE u.id = ? AND u.role = 'customer' AND NOT EXISTS "
                                   "(SELECT 1 FROM msg_blocks b WHERE b.blocker_id = u.id AND b.blocked_id = ?)",
                                   "ii", target_id, viewer_id);
    if (result != SB_OK) return result;
    return n > 0 ? SB_OK : SB_ENOTFOUND;
}

int messenger_reach_check(store *s, int64_t actor_id, int64_t target_id) {
    store_stmt *st;
    int result = store_query(s, &st,
                             "SELECT u.role, EXISTS (SELECT 1 FROM msg_bots b WHERE b.user_id = u.id), "
                             "coalesce((SELECT g.discoverable FROM msg_settings g WHERE g.user_id = u.id), 0), "
                             "EXISTS (SELECT 1 FROM msg_members mine JOIN msg_members theirs "
                             "ON theirs.chat_id = mine.chat_id AND theirs.user_id = u.id "
                             "JOIN msg_chats c ON c.id = mine.chat_id AND c.kind IN ('direct', 'group') "
                             "WHERE mine.user_id = ?), EXISTS (SELECT 1 FROM msg_bots b WHERE b.user_id = ?) "
                             "FROM users u WHERE u.id = ?",
                             "iii", actor_id, actor_id, target_id);
    if (result != SB_OK) return result;
    bool customer = false, bot = false, discoverable = false, shared = false, actor_bot = false;
    result = store_step(st);
    if (result == STORE_ROW) {
        const char *role = store_col_text(st, 0);
        customer = role && strcmp(role, "customer") == 0;
        bot = store_col_int64(st, 1) != 0;
        discoverable = store_col_int64(st, 2) != 0;
        shared = store_col_int64(st, 3) != 0;
        actor_bot = store_col_int64(st, 4) != 0;
        result = SB_OK;
    } else if (result == STORE_DONE) {
        result = SB_ENOTFOUND;
    }
    store_stmt_done(st);
    if (result != SB_OK) return result;
    bool blocked = false;
    result = blocked_either(s, actor_id, target_id, &blocked);
    if (result != SB_OK) return result;
    if (bot) return blocked ? SB_EPERM : SB_OK;
    if (!customer) return SB_ENOTFOUND; /* staff: never reached by id */
    /* The bank's bots answer customers (a case's reply reaches the
     * customer's chat with the bot); the bot API itself opens no chats. */
    if (shared || actor_bot) return blocked ? SB_EPERM : SB_OK;
    /* Otherwise only as a lookup would find them: discoverable, and not
     * blocking the actor (then hidden, not "blocked"). */
    bool blocks_actor = false;
    result = messenger_is_blocked(s, target_id, actor_id, &blocks_actor);
    if (result != SB_OK) return result;
    if (!discoverable || blocks_actor) return SB_ENOTFOUND;
    return blocked ? SB_EPERM : SB_OK;
}

int messenger_contact_find(store *s, int64_t caller_id, const char *query, int64_t *user_id_out) {
    if (!query) return SB_EINVAL;
    size_t len = strnlen(query, SB_MESSENGER_QUERY_BYTES_MAX + 1);
    if (len == 0 || len > SB_MESSENGER_QUERY_BYTES_MAX) return SB_EINVAL;
    char phone[SB_PHONE_BYTES];
    char name[SB_CUSTOMER_USERNAME_BYTES_MAX + 1];
    bool by_phone = false;
    if (query[0] == '@') {
        if (identity_username_check(query + 1) != SB_OK) return SB_EINVAL;
    } else if (sb_phone_normalize(query, phone, NULL) == SB_OK) {
        by_phone = true;
    } else if (identity_username_check(query) != SB_OK) {
        return SB_EINVAL;
    }
    if (!by_phone) {
        const char *n = query[0] == '@' ? query + 1 : query;
        size_t nl = strlen(n);
        for (size_t i = 0; i < nl; i++)
            name[i] = (n[i] >= 'A' && n[i] <= 'Z') ? (char)(n[i] - 'A' + 'a') : n[i];
        name[nl] = '\0';
    }
    int64_t id = 0;
    int result = store_query_int64(s, &id,
                                   by_phone ? "SELECT id FROM users WHERE phone = ? AND role = 'customer'"
                                            : "SELECT id FROM users WHERE username = ? AND role = 'customer'",
                                   "t", by_phone ? phone : name);
    if (result == SB_OK) result = messenger_findable_check(s, caller_id, id);
    /* Found by phone only if discoverable by phone, by @username only by @username. */
    int64_t half = 0;
    if (result == SB_OK)
        result = store_query_int64(s, &half,
                                   by_phone ? "SELECT COUNT(*) FROM msg_settings WHERE user_id = ? AND by_phone = 1"
                                            : "SELECT COUNT(*) FROM msg_settings WHERE user_id = ? AND by_username = 1",
                                   "i", id);
    if (result == SB_OK && half == 0) result = SB_ENOTFOUND;
    if (result == SB_OK) *user_id_out = id;
    return result;
}

int messenger_block(store *s, int64_t blocker_id, int64_t blocked_id, int64_t now_ms) {
    if (blocker_id == blocked_id) return SB_EINVAL;
    int result = user_exists(s, blocked_id);
    if (result != SB_OK) return result;
    return store_exec(s, "INSERT OR IGNORE INTO msg_blocks(blocker_id, blocked_id, created_at_ms) VALUES (?, ?, ?)",
                      "iii", blocker_id, blocked_id, now_ms);
}

int messenger_unblock(store *s, int64_t blocker_id, int64_t blocked_id) {
    return store_exec(s, "DELETE FROM msg_blocks WHERE blocker_id = ? AND blocked_id = ?", "ii", blocker_id,
                      blocked_id);
}

int messenger_is_blocked(store *s, int64_t blocker_id, int64_t blocked_id, bool *blocked_out) {
    int64_t n = 0;
    int result = store_query_int64(s, &n, "SELECT COUNT(*) FROM msg_blocks WHERE blocker_id = ? AND blocked_id = ?",
                                   "ii", blocker_id, blocked_id);
    if (result == SB_OK) *blocked_out = n > 0;
    return result;
}

/* ---- chats ---- */

int messenger_direct_open(store *s, int64_t caller_id, int64_t peer_id, int64_t now_ms, int64_t *chat_id_out,
                          bool *created_out) {
    if (caller_id == peer_id) return SB_EINVAL;
    int64_t lo = caller_id < peer_id ? caller_id : peer_id, hi = caller_id < peer_id ? peer_id : caller_id;
    int result = store_begin(s);
    if (result != SB_OK) return result;
    bool blocked = false, created = false;
    int64_t chat_id = 0;
    result = user_exists(s, caller_id);
    if (result == SB_OK) result = messenger_reach_check(s, caller_id, peer_id);
    if (result == SB_OK) result = blocked_either(s, caller_id, peer_id, &blocked);
    if (result == SB_OK && blocked) result = SB_EPERM;
    if (result == SB_OK) {
        result = store_query_int64(s, &chat_id,
                                   "SELECT id FROM msg_chats WHERE kind = 'direct' AND pair_lo = ? AND pair_hi = ?",
                                   "ii", lo, hi);
        if (result == SB_ENOTFOUND) {
            result = store_exec(s,
                                "INSERT INTO msg_chats(kind, pair_lo, pair_hi, created_at_ms) "
                                "VALUES ('direct', ?, ?, ?)",
                                "iii", lo, hi, now_ms);
            if (result == SB_OK) chat_id = store_last_insert_id(s);
            if (result == SB_OK) result = member_insert(s, chat_id, lo, MESSENGER_ROLE_MEMBER, now_ms);
            if (result == SB_OK) result = member_insert(s, chat_id, hi, MESSENGER_ROLE_MEMBER, now_ms);
            created = true;
        }
    }
    result = finish_tx(s, result, NULL);
    if (result == SB_OK) {
        *chat_id_out = chat_id;
        if (created_out) *created_out = created;
    }
    return result;
}

static int chat_from_row(store_stmt *st, messenger_chat *out) {
    memset(out, 0, sizeof *out);
    out->id = store_col_int64(st, 0);
    out->kind = messenger__chat_kind_parse(store_col_text(st, 1));
    const char *title = store_col_text(st, 2);
    if (title) {
        size_t n = strnlen(title, SB_MESSENGER_TITLE_BYTES_MAX);
        memcpy(out->title, title, n);
    }
    out->last_seq = store_col_int64(st, 3);
    out->last_rev = store_col_int64(st, 4);
    out->member_count = store_col_int64(st, 5);
    out->created_at_ms = store_col_int64(st, 6);
    out->my_role = messenger__role_parse(store_col_text(st, 7));
    out->my_delivered_seq = store_col_int64(st, 8);
    out->my_read_seq = store_col_int64(st, 9);
    return out->kind && out->my_role ? SB_OK : SB_ECORRUPT;
}

#define CHAT_SELECT                                                                                                    \
    "SELECT c.id, c.kind, c.title, c.last_seq, c.last_rev, c.member_count, c.created_at_ms, m.role, "                  \
    "m.delivered_seq, m.read_seq FROM msg_chats c JOIN msg_members m ON m.chat_id = c.id AND m.user_id = ? "

int messenger_chat_get(store *s, int64_t caller_id, int64_t chat_id, messenger_chat *out) {
    store_stmt *st;
    int result = store_query(s, &st, CHAT_SELECT "WHERE c.id = ?", "ii", caller_id, chat_id);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_ROW)
        result = chat_from_row(st, out);
    else if (result == STORE_DONE)
        result = SB_EPERM;
    store_stmt_done(st);
    return result;
}

int messenger_chat_list(store *s, int64_t caller_id, int64_t after_chat_id, messenger_chat *out, size_t out_max,
                        size_t *count_out) {
    *count_out = 0;
    if (out_max > SB_MESSENGER_PAGE_MAX) out_max = SB_MESSENGER_PAGE_MAX;
    store_stmt *st;
    int result = store_query(s, &st, CHAT_SELECT "WHERE c.id > ? ORDER BY c.id LIMIT ?", "iii", caller_id,
                             after_chat_id, (int64_t)out_max);
    if (result != SB_OK) return result;
    size_t n = 0;
    while (n < out_max && (result = store_step(st)) == STORE_ROW) {
        result = chat_from_row(st, &out[n]);
        if (result != SB_OK) break;
        n++;
    }
    store_stmt_done(st);
    if (result == STORE_DONE || result == STORE_ROW) result = SB_OK;
    if (result == SB_OK) *count_out = n;
    return result;
}

int messenger_member_list(store *s, int64_t caller_id, int64_t chat_id, int64_t after_user_id, messenger_member *out,
                          size_t out_max, size_t *count_out) {
    *count_out = 0;
    chat_access a;
    int result = access_load(s, chat_id, caller_id, &a);
    if (result != SB_OK) return result;
    /* The channel's subscriber list is not for its subscribers. */
    if (a.kind == MESSENGER_CHAT_CHANNEL && a.role == MESSENGER_ROLE_MEMBER) return SB_EPERM;
    if (out_max > SB_MESSENGER_PAGE_MAX) out_max = SB_MESSENGER_PAGE_MAX;
    store_stmt *st;
    result = store_query(s, &st,
                         "SELECT user_id, role, delivered_seq, read_seq, joined_at_ms FROM msg_members "
                         "WHERE chat_id = ? AND user_id > ? ORDER BY user_id LIMIT ?",
                         "iii", chat_id, after_user_id, (int64_t)out_max);
    if (result != SB_OK) return result;
    size_t n = 0;
    while (n < out_max && (result = store_step(st)) == STORE_ROW) {
        out[n].user_id = store_col_int64(st, 0);
        out[n].role = messenger__role_parse(store_col_text(st, 1));
        out[n].delivered_seq = store_col_int64(st, 2);
        out[n].read_seq = store_col_int64(st, 3);
        out[n].joined_at_ms = store_col_int64(st, 4);
        n++;
    }
    store_stmt_done(st);
    if (result == STORE_DONE || result == STORE_ROW) result = SB_OK;
    if (result == SB_OK) *count_out = n;
    return result;
}

/* ---- groups ---- */

int messenger_group_create(store *s, int64_t owner_id, const char *title, int64_t now_ms, int64_t *chat_id_out,
                           messenger_events *events) {
    messenger_events_clear(events);
    int result = messenger_title_check(title);
    if (result != SB_OK) return result == SB_ELIMIT ? SB_EINVAL : result;
    result = store_begin(s);
    if (result != SB_OK) return result;
    int64_t chat_id = 0;
    result = user_exists(s, owner_id);
    if (result == SB_OK)
        result = store_exec(s, "INSERT INTO msg_chats(kind, title, created_at_ms) VALUES ('group', ?, ?)", "ti", title,
                            now_ms);
    if (result == SB_OK) chat_id = store_last_insert_id(s);
    if (result == SB_OK) result = member_insert(s, chat_id, owner_id, MESSENGER_ROLE_OWNER, now_ms);
    if (result == SB_OK)
        result = members_event(s, events, chat_id, owner_id, MESSENGER_MEMBERS_CREATED, owner_id, MESSENGER_ROLE_OWNER,
                               title, 0);
    result = finish_tx(s, result, events);
    if (result == SB_OK) *chat_id_out = chat_id;
    return result;
}

/* The actor must be an owner or admin of a group. */
static int group_manager(store *s, int64_t chat_id, int64_t actor_id, chat_access *a) {
    int result = access_load(s, chat_id, actor_id, a);
    if (result != SB_OK) return result;
    if (a->kind != MESSENGER_CHAT_GROUP || a->role == MESSENGER_ROLE_MEMBER) return SB_EPERM;
    return SB_OK;
}

static int member_role_of(store *s, int64_t chat_id, int64_t user_id, int *role_out) {
    store_stmt *st;
    int result =
        store_query(s, &st, "SELECT role FROM msg_members WHERE chat_id = ? AND user_id = ?", "ii", chat_id, user_id);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_ROW) {
        *role_out = messenger__role_parse(store_col_text(st, 0));
        result = SB_OK;
    } else if (result == STORE_DONE) {
        result = SB_ENOTFOUND;
    }
    store_stmt_done(st);
    return result;
}

int messenger_group_add(store *s, int64_t actor_id, int64_t chat_id, int64_t user_id, int64_t now_ms,
                        messenger_events *events) {
    messenger_events_clear(events);
    int result = store_begin(s);
    if (result != SB_OK) return result;
    chat_access a;
    bool blocked = false;
    int64_t count = 0;
    int role;
    result = group_manager(s, chat_id, actor_id, &a);
    if (result == SB_OK) result = messenger_reach_check(s, actor_id, user_id);
    if (result == SB_OK) result = blocked_either(s, actor_id, user_id, &blocked);
    if (result == SB_OK && blocked) result = SB_EPERM;
    if (result == SB_OK) {
        result = member_role_of(s, chat_id, user_id, &role);
        result = result == SB_OK ? SB_EEXISTS : result == SB_ENOTFOUND ? SB_OK : result;
    }
    if (result == SB_OK)
        result = store_query_int64(s, &count, "SELECT member_count FROM msg_chats WHERE id = ?", "i", chat_id);
    if (result == SB_OK && count >= SB_MESSENGER_GROUP_MEMBERS_MAX) result = SB_ELIMIT;
    if (result == SB_OK) result = member_insert(s, chat_id, user_id, MESSENGER_ROLE_MEMBER, now_ms);
    if (result == SB_OK)
        result = members_event(s, events, chat_id, actor_id, MESSENGER_MEMBERS_ADDED, user_id, MESSENGER_ROLE_MEMBER,
                               NULL, 0);
    return finish_tx(s, result, events);
}

int messenger_group_remove(store *s, int64_t actor_id, int64_t chat_id, int64_t user_id, messenger_events *events) {
    messenger_events_clear(events);
    if (actor_id == user_id) return messenger_group_leave(s, user_id, chat_id, events);
    int result = store_begin(s);
    if (result != SB_OK) return result;
    chat_access a;
    int role = 0;
    result = group_manager(s, chat_id, actor_id, &a);
    if (result == SB_OK) result = member_role_of(s, chat_id, user_id, &role);
    /* The owner removes anyone; an admin only plain members. */
    if (result == SB_OK && a.role != MESSENGER_ROLE_OWNER && role != MESSENGER_ROLE_MEMBER) result = SB_EPERM;
    if (result == SB_OK) result = member_delete(s, chat_id, user_id);
    if (result == SB_OK)
        result = members_event(s, events, chat_id, actor_id, MESSENGER_MEMBERS_REMOVED, user_id, 0, NULL, user_id);
    return finish_tx(s, result, events);
}

int messenger_group_leave(store *s, int64_t user_id, int64_t chat_id, messenger_events *events) {
    messenger_events_clear(events);
    int result = store_begin(s);
    if (result != SB_OK) return result;
    chat_access a;
    int64_t heir = 0;
    result = access_load(s, chat_id, user_id, &a);
    if (result == SB_OK && a.kind != MESSENGER_CHAT_GROUP) result = SB_EPERM;
    if (result == SB_OK) result = member_delete(s, chat_id, user_id);
    if (result == SB_OK)
        result = members_event(s, events, chat_id, user_id, MESSENGER_MEMBERS_LEFT, user_id, 0, NULL, user_id);
    if (result == SB_OK && a.role == MESSENGER_ROLE_OWNER) {
        /* The oldest admin, else the oldest member. */
        result = store_query_int64(s, &heir,
                                   "SELECT user_id FROM msg_members WHERE chat_id = ? "
                                   "ORDER BY role = 'admin' DESC, joined_order LIMIT 1",
                                   "i", chat_id);
        if (result == SB_OK) {
            result = store_exec(s, "UPDATE msg_members SET role = 'owner' WHERE chat_id = ? AND user_id = ?", "ii",
                                chat_id, heir);
            if (result == SB_OK)
                result = members_event(s, events, chat_id, user_id, MESSENGER_MEMBERS_ROLE, heir, MESSENGER_ROLE_OWNER,
                                       NULL, 0);
        } else if (result == SB_ENOTFOUND) {
            result = SB_OK; /* the last member left: the group stays, empty */
        }
    }
    return finish_tx(s, result, events);
}

int messenger_group_set_role(store *s, int64_t actor_id, int64_t chat_id, int64_t user_id, int role,
                             messenger_events *events) {
    messenger_events_clear(events);
    if (role != MESSENGER_ROLE_ADMIN && role != MESSENGER_ROLE_MEMBER) return SB_EINVAL;
    int result = store_begin(s);
    if (result != SB_OK) return result;
    chat_access a;
    int current = 0;
    result = group_manager(s, chat_id, actor_id, &a);
    if (result == SB_OK && a.role != MESSENGER_ROLE_OWNER) result = SB_EPERM;
    if (result == SB_OK) result = member_role_of(s, chat_id, user_id, &current);
    if (result == SB_OK && current == MESSENGER_ROLE_OWNER) result = SB_EPERM;
    if (result == SB_OK && current != role) {
        result = store_exec(s, "UPDATE msg_members SET role = ? WHERE chat_id = ? AND user_id = ?", "tii",
                            messenger_member_role_name(role), chat_id, user_id);
        if (result == SB_OK)
            result = members_event(s, events, chat_id, actor_id, MESSENGER_MEMBERS_ROLE, user_id, role, NULL, 0);
    }
    return finish_tx(s, result, events);
}

int messenger_group_rename(store *s, int64_t actor_id, int64_t chat_id, const char *title, messenger_events *events) {
    messenger_events_clear(events);
    int result = messenger_title_check(title);
    if (result != SB_OK) return result == SB_ELIMIT ? SB_EINVAL : result;
    result = store_begin(s);
    if (result != SB_OK) return result;
    chat_access a;
    result = group_manager(s, chat_id, actor_id, &a);
    if (result == SB_OK) result = store_exec(s, "UPDATE msg_chats SET title = ? WHERE id = ?", "ti", title, chat_id);
    if (result == SB_OK)
        result = members_event(s, events, chat_id, actor_id, MESSENGER_MEMBERS_RENAMED, actor_id, 0, title, 0);
    return finish_tx(s, result, events);
}

/* ---- messages ---- */

/* Insert a message with the chat's next seq and rev (filled into m): the
 * optional columns are bound as NULL when absent (sender NULL for the bank).
 * Inside a transaction. */
static int message_insert_full(store *s, messenger_message *m) {
    int result = chat_advance(s, m->chat_id, true, &m->seq, &m->rev);
    if (result != SB_OK) return result;
    SB_ASSERT(m->seq > 0 && m->rev >= m->seq);
    store_stmt *st;
    result = store_prepare(s,
                           "INSERT INTO msg_messages(chat_id, seq, rev, sender_id, kind, body, payload, "
                           "reply_to_seq, client_id, status, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           &st);
    if (result != SB_OK) return result;
    result = store_bind_int64(st, 1, m->chat_id);
    if (result == SB_OK) result = store_bind_int64(st, 2, m->seq);
    if (result == SB_OK) result = store_bind_int64(st, 3, m->rev);
    if (result == SB_OK) result = m->sender_id ? store_bind_int64(st, 4, m->sender_id) : store_bind_null(st, 4);
    if (result == SB_OK) result = store_bind_text(st, 5, messenger_message_kind_name(m->kind), -1);
    if (result == SB_OK) result = store_bind_text(st, 6, m->text, -1);
    if (result == SB_OK) result = store_bind_text(st, 7, m->payload_json, -1);
    if (result == SB_OK) result = m->reply_to_seq ? store_bind_int64(st, 8, m->reply_to_seq) : store_bind_null(st, 8);
    if (result == SB_OK) result = store_bind_text(st, 9, m->client_id[0] ? m->client_id : NULL, -1);
    if (result == SB_OK) result = store_bind_text(st, 10, messenger_payment_status_name(m->status), -1);
    if (result == SB_OK) result = store_bind_int64(st, 11, m->created_at_ms);
    if (result == SB_OK) result = store_step(st);
    store_stmt_done(st);
    return result == STORE_DONE ? SB_OK : result == STORE_ROW ? SB_EINTERNAL : result;
}

/* Validate a request's content into m (owning canonical copies). */
static int send_prepare(const messenger_send_request *req, int64_t now_ms, messenger_message *m) {
    memset(m, 0, sizeof *m);
    m->chat_id = req->chat_id;
    m->sender_id = req->sender_id;
    m->kind = req->kind;
    m->reply_to_seq = req->reply_to_seq;
    m->created_at_ms = now_ms;
    if (req->reply_to_seq < 0) return SB_EINVAL;
    if (req->client_id) {
        if (messenger_client_id_check(req->client_id) != SB_OK) return SB_EINVAL;
        memcpy(m->client_id, req->client_id, strlen(req->client_id) + 1);
    }
    int result = SB_OK;
    if (req->text || req->kind != MESSENGER_MSG_PAYMENT) {
        if (!req->text) return SB_EINVAL;
        size_t len = strnlen(req->text, SB_MESSENGER_TEXT_BYTES_MAX + 1);
        result = messenger_text_check(req->text, len);
        if (result != SB_OK) return result;
        if (!(m->text = sb_strndup(req->text, len))) return SB_ENOMEM;
    }
    switch (req->kind) {
    case MESSENGER_MSG_TEXT:
        if (req->payload_json) return SB_EINVAL;
        break;
    case MESSENGER_MSG_PAYMENT:
        if (!req->payload_json) return SB_EINVAL;
        result = messenger_payment_payload_check(
            req->payload_json, strnlen(req->payload_json, SB_MESSENGER_PAYLOAD_BYTES_MAX + 1), &m->payload_json);
        /* A payment starts pending, or paid when the money already moved
         * (a sent payment, a bill's receipt); the payload says which. */
        m->status = result == SB_OK ? messenger__payment_payload_status(m->payload_json) : MESSENGER_PAYMENT_PENDING;
        if (result == SB_OK && m->status != MESSENGER_PAYMENT_PENDING && m->status != MESSENGER_PAYMENT_PAID)
            result = SB_EINVAL;
        break;
    case MESSENGER_MSG_KEYBOARD:
        if (!req->payload_json) return SB_EINVAL;
        result = messenger_keyboard_payload_check(
            req->payload_json, strnlen(req->payload_json, SB_MESSENGER_PAYLOAD_BYTES_MAX + 1), &m->payload_json);
        break;
    default:
        return SB_EINVAL; /* posts, comments, shares, notices have their own calls */
    }
    return result;
}

/* May this member write into the chat with this kind of message? */
static int send_allowed(store *s, const chat_access *a, const messenger_message *m) {
    if (a->kind == MESSENGER_CHAT_CHANNEL || a->kind == MESSENGER_CHAT_OFFICIAL) return SB_EPERM;
    int result;
    if (a->kind == MESSENGER_CHAT_DIRECT) {
        bool blocked = false;
        result = blocked_either(s, a->pair_lo, a->pair_hi, &blocked);
        if (result != SB_OK) return result;
        if (blocked) return SB_EPERM;
    }
    if (m->kind == MESSENGER_MSG_KEYBOARD) {
        bool bot = false;
        result = is_bot(s, m->sender_id, &bot);
        if (result != SB_OK) return result;
        if (!bot) return SB_EPERM;
    }
    return SB_OK;
}

/* The part of a send inside the transaction: m was prepared by
 * send_prepare; on a duplicate it is replaced by the first message. */
static int send_in_tx(store *s, messenger_message *m, bool *duplicate_out, messenger_events *events) {
    chat_access a;
    *duplicate_out = false;
    int result = access_load(s, m->chat_id, m->sender_id, &a);
    if (result == SB_OK) result = send_allowed(s, &a, m);
    if (result == SB_OK && m->client_id[0]) {
        int64_t seq = 0;
        result = store_query_int64(s, &seq,
                                   "SELECT seq FROM msg_messages WHERE chat_id = ? AND sender_id = ? AND client_id = ?",
                                   "iit", m->chat_id, m->sender_id, m->client_id);
        if (result == SB_OK) {
            int64_t chat_id = m->chat_id;
            messenger_message_clear(m);
            *duplicate_out = true;
            return message_load(s, chat_id, seq, m);
        }
        if (result == SB_ENOTFOUND) result = SB_OK;
    }
    if (result == SB_OK && m->reply_to_seq) {
        int64_t one;
        result = store_query_int64(s, &one, "SELECT 1 FROM msg_messages WHERE chat_id = ? AND seq = ?", "ii",
                                   m->chat_id, m->reply_to_seq);
    }
    if (result == SB_OK) result = message_insert_full(s, m);
    if (result == SB_OK) result = message_event(s, events, MESSENGER_EVENT_MESSAGE_NEW, m, m->sender_id);
    return result;
}

int messenger_send(store *s, const messenger_send_request *req, int64_t now_ms, messenger_message *out,
                   bool *duplicate_out, messenger_events *events) {
    messenger_events_clear(events);
    if (duplicate_out) *duplicate_out = false;
    if (!req || req->sender_id <= 0) return SB_EINVAL;
    messenger_message m;
    int result = send_prepare(req, now_ms, &m);
    if (result != SB_OK) {
        messenger_message_clear(&m);
        return result;
    }
    result = store_begin(s);
    if (result != SB_OK) {
        messenger_message_clear(&m);
        return result;
    }
    bool duplicate = false;
    result = send_in_tx(s, &m, &duplicate, events);
    result = finish_tx(s, result, events);
    if (result == SB_OK) {
        if (duplicate_out) *duplicate_out = duplicate;
        if (out) {
            *out = m;
            return SB_OK;
        }
    }
    messenger_message_clear(&m);
    return result;
}

void messenger_send_outcomes_clear(messenger_send_outcome *outcomes, size_t count) {
    for (size_t i = 0; outcomes && i < count; i++) {
        messenger_message_clear(&outcomes[i].message);
        messenger_events_clear(&outcomes[i].events);
        outcomes[i].result = SB_OK;
        outcomes[i].duplicate = false;
    }
}

int messenger_send_batch(store *s, const messenger_send_request *reqs, size_t count, int64_t now_ms,
                         messenger_send_outcome *outcomes) {
    if (count == 0 || count > SB_MESSENGER_SEND_BATCH_MAX || !reqs || !outcomes) return SB_EINVAL;
    memset(outcomes, 0, count * sizeof *outcomes);
    /* Validation needs no transaction: do it before taking the write lock. */
    for (size_t i = 0; i < count; i++) {
        outcomes[i].result = reqs[i].sender_id > 0 ? send_prepare(&reqs[i], now_ms, &outcomes[i].message) : SB_EINVAL;
        if (outcomes[i].result != SB_OK) messenger_message_clear(&outcomes[i].message);
    }
    int result = store_begin(s);
    for (size_t i = 0; result == SB_OK && i < count; i++) {
        messenger_send_outcome *o = &outcomes[i];
        if (o->result != SB_OK) continue;
        /* Each send in a savepoint: one refused or failed send leaves the others. */
        result = store_exec(s, "SAVEPOINT messenger_send", NULL);
        if (result != SB_OK) break;
        o->result = send_in_tx(s, &o->message, &o->duplicate, &o->events);
        if (o->result != SB_OK) {
            messenger_message_clear(&o->message);
            messenger_events_clear(&o->events);
            o->duplicate = false;
            result = store_exec(s, "ROLLBACK TO messenger_send", NULL);
        }
        if (result == SB_OK) result = store_exec(s, "RELEASE messenger_send", NULL);
    }
    if (result == SB_OK) result = store_commit(s);
    if (result != SB_OK) {
        store_rollback(s);
        for (size_t i = 0; i < count; i++) {
            messenger_message_clear(&outcomes[i].message);
            messenger_events_clear(&outcomes[i].events);
            outcomes[i].duplicate = false;
            outcomes[i].result = result;
        }
    }
    return result;
}

/* Load a message of a chat the actor is a member of. */
static int member_message(store *s, int64_t actor_id, int64_t chat_id, int64_t seq, chat_access *a,
                          messenger_message *m) {
    int result = access_load(s, chat_id, actor_id, a);
    if (result == SB_OK) result = message_load(s, chat_id, seq, m);
    return result;
}

int messenger_edit(store *s, int64_t actor_id, int64_t chat_id, int64_t seq, const char *text, int64_t now_ms,
                   messenger_events *events) {
    messenger_events_clear(events);
    if (!text) return SB_EINVAL;
    size_t len = strnlen(text, SB_MESSENGER_TEXT_BYTES_MAX + 1);
    int result = messenger_text_check(text, len);
    if (result != SB_OK) return result;
    result = store_begin(s);
    if (result != SB_OK) return result;
    chat_access a;
    messenger_message m = {0};
    result = member_message(s, actor_id, chat_id, seq, &a, &m);
    if (result == SB_OK && m.sender_id != actor_id) result = SB_EPERM;
    if (result == SB_OK && (m.deleted_at_ms || (m.kind != MESSENGER_MSG_TEXT && m.kind != MESSENGER_MSG_COMMENT &&
                                                m.kind != MESSENGER_MSG_POST)))
        result = SB_ECONFLICT;
    if (result == SB_OK && a.kind == MESSENGER_CHAT_DIRECT) {
        bool blocked = false;
        result = blocked_either(s, a.pair_lo, a.pair_hi, &blocked);
        if (result == SB_OK && blocked) result = SB_EPERM;
    }
    if (result == SB_OK) result = chat_advance(s, chat_id, false, NULL, &m.rev);
    if (result == SB_OK)
        result =
            store_exec(s, "UPDATE msg_messages SET body = ?, edited_at_ms = ?, rev = ? WHERE chat_id = ? AND seq = ?",
                       "tiiii", text, now_ms, m.rev, chat_id, seq);
    if (result == SB_OK) {
        char *copy = sb_strndup(text, len);
        if (!copy) result = SB_ENOMEM;
        sb_free(m.text);
        m.text = copy;
        m.edited_at_ms = now_ms;
    }
    if (result == SB_OK) result = message_event(s, events, MESSENGER_EVENT_MESSAGE_EDITED, &m, actor_id);
    messenger_message_clear(&m);
    return finish_tx(s, result, events);
}

int messenger_delete(store *s, int64_t actor_id, int64_t chat_id, int64_t seq, int64_t now_ms,
                     messenger_events *events) {
    messenger_events_clear(events);
    int result = store_begin(s);
    if (result != SB_OK) return result;
    chat_access a;
    messenger_message m = {0};
    bool already = false;
    result = member_message(s, actor_id, chat_id, seq, &a, &m);
    if (result == SB_OK && m.sender_id != actor_id &&
        !((a.kind == MESSENGER_CHAT_GROUP || a.kind == MESSENGER_CHAT_CHANNEL) && a.role != MESSENGER_ROLE_MEMBER))
        result = SB_EPERM;
    if (result == SB_OK && m.kind == MESSENGER_MSG_PAYMENT) result = SB_ECONFLICT;
    if (result == SB_OK && m.deleted_at_ms) already = true;
    if (result == SB_OK && !already) result = chat_advance(s, chat_id, false, NULL, &m.rev);
    if (result == SB_OK && !already)
        result = store_exec(s,
                            "UPDATE msg_messages SET body = NULL, payload = NULL, deleted_at_ms = ?, rev = ? "
                            "WHERE chat_id = ? AND seq = ?",
                            "iiii", now_ms, m.rev, chat_id, seq);
    if (result == SB_OK && !already) {
        sb_free(m.text);
        sb_free(m.payload_json);
        m.text = m.payload_json = NULL;
        m.deleted_at_ms = now_ms;
        result = message_event(s, events, MESSENGER_EVENT_MESSAGE_DELETED, &m, actor_id);
    }
    messenger_message_clear(&m);
    return finish_tx(s, result, events);
}

int messenger_receipt(store *s, int64_t user_id, int64_t chat_id, int64_t delivered_seq, int64_t read_seq,
                      messenger_events *events) {
    messenger_events_clear(events);
    if (delivered_seq < 0 || read_seq < 0) return SB_EINVAL;
    int result = store_begin(s);
    if (result != SB_OK) return result;
    chat_access a;
    int64_t old_delivered = 0, old_read = 0;
    result = access_load(s, chat_id, user_id, &a);
    if (result == SB_OK && (delivered_seq > a.last_seq || read_seq > a.last_seq)) result = SB_EINVAL;
    if (result == SB_OK) {
        store_stmt *st;
        result =
            store_query(s, &st, "SELECT delivered_seq, read_seq FROM msg_members WHERE chat_id = ? AND user_id = ?",
                        "ii", chat_id, user_id);
        if (result == SB_OK) {
            result = store_step(st);
            if (result == STORE_ROW) {
                old_delivered = store_col_int64(st, 0);
                old_read = store_col_int64(st, 1);
                result = SB_OK;
            } else if (result == STORE_DONE) {
                result = SB_EINTERNAL;
            }
            store_stmt_done(st);
        }
    }
    int64_t new_read = read_seq > old_read ? read_seq : old_read;
    int64_t new_delivered = delivered_seq > old_delivered ? delivered_seq : old_delivered;
    if (new_delivered < new_read) new_delivered = new_read; /* read implies delivered */
    if (result == SB_OK && (new_read != old_read || new_delivered != old_delivered)) {
        result =
            store_exec(s, "UPDATE msg_members SET delivered_seq = ?, read_seq = ? WHERE chat_id = ? AND user_id = ?",
                       "iiii", new_delivered, new_read, chat_id, user_id);
        messenger_event *ev = event_add(events, MESSENGER_EVENT_RECEIPT, chat_id, user_id);
        if (ev && result == SB_OK) {
            ev->seq = new_read > 0 ? new_read : new_delivered;
            ev->delivered_seq = new_delivered;
            ev->read_seq = new_read;
            result = recipients_load(s, chat_id, 0, ev);
        }
    }
    return finish_tx(s, result, events);
}

int messenger_typing(store *s, int64_t user_id, int64_t chat_id, messenger_events *events) {
    messenger_events_clear(events);
    chat_access a;
    int result = store_begin_read(s);
    if (result != SB_OK) return result;
    result = access_load(s, chat_id, user_id, &a);
    if (result == SB_OK && (a.kind == MESSENGER_CHAT_CHANNEL || a.kind == MESSENGER_CHAT_OFFICIAL)) result = SB_EPERM;
    if (result == SB_OK && a.kind == MESSENGER_CHAT_DIRECT) {
        /* A blocked person's typing must not reach the blocker either. */
        bool blocked = false;
        result = blocked_either(s, a.pair_lo, a.pair_hi, &blocked);
        if (result == SB_OK && blocked) result = SB_EPERM;
    }
    messenger_event *ev = result == SB_OK ? event_add(events, MESSENGER_EVENT_TYPING, chat_id, user_id) : NULL;
    if (ev) result = recipients_load(s, chat_id, user_id, ev);
    return finish_tx(s, result, events);
}

/* Read up to limit rows of a message query into out. */
static int messages_read(store_stmt *st, size_t limit, messenger_message *out, size_t *count_out) {
    size_t n = 0;
    int result;
    while (n < limit && (result = store_step(st)) == STORE_ROW) {
        result = message_from_row(st, &out[n]);
        if (result != SB_OK) break;
        n++;
    }
    if (n == limit) result = SB_OK;
    store_stmt_done(st);
    if (result == STORE_DONE) result = SB_OK;
    if (result != SB_OK) {
        messenger_messages_clear(out, n);
        return result;
    }
    *count_out = n;
    return SB_OK;
}

int messenger_history(store *s, int64_t caller_id, int64_t chat_id, int64_t before_seq, int64_t after_seq, size_t limit,
                      messenger_message *out, size_t *count_out) {
    *count_out = 0;
    if (before_seq < 0 || after_seq < 0) return SB_EINVAL;
    if (limit == 0) return SB_EINVAL;
    if (limit > SB_MESSENGER_PAGE_MAX) limit = SB_MESSENGER_PAGE_MAX;
    int result = store_begin_read(s);
    if (result != SB_OK) return result;
    chat_access a;
    result = access_load(s, chat_id, caller_id, &a);
    if (result == SB_OK) {
        store_stmt *st;
        int64_t upper = before_seq > 0 ? before_seq : INT64_MAX;
        if (before_seq > 0 && after_seq == 0)
            result = store_query(s, &st,
                                 "SELECT " MESSAGE_COLUMNS " FROM msg_messages WHERE chat_id = ? AND seq < ? "
                                 "ORDER BY seq DESC LIMIT ?",
                                 "iii", chat_id, upper, (int64_t)limit);
        else
            result = store_query(s, &st,
                                 "SELECT " MESSAGE_COLUMNS " FROM msg_messages WHERE chat_id = ? AND seq > ? "
                                 "AND seq < ? ORDER BY seq LIMIT ?",
                                 "iiii", chat_id, after_seq, upper, (int64_t)limit);
        if (result == SB_OK) result = messages_read(st, limit, out, count_out);
    }
    store_rollback(s); /* a read transaction: nothing to keep */
    return result;
}

int messenger_changes(store *s, int64_t caller_id, int64_t chat_id, int64_t after_rev, size_t limit,
                      messenger_message *out, size_t *count_out) {
    *count_out = 0;
    if (after_rev < 0 || limit == 0) return SB_EINVAL;
    if (limit > SB_MESSENGER_PAGE_MAX) limit = SB_MESSENGER_PAGE_MAX;
    int result = store_begin_read(s);
    if (result != SB_OK) return result;
    chat_access a;
    result = access_load(s, chat_id, caller_id, &a);
    if (result == SB_OK) {
        store_stmt *st;
        result = store_query(s, &st,
                             "SELECT " MESSAGE_COLUMNS " FROM msg_messages WHERE chat_id = ? AND rev > ? "
                             "ORDER BY rev LIMIT ?",
                             "iii", chat_id, after_rev, (int64_t)limit);
        if (result == SB_OK) result = messages_read(st, limit, out, count_out);
    }
    store_rollback(s);
    return result;
}

int messenger_message_get(store *s, int64_t caller_id, int64_t chat_id, int64_t seq, messenger_message *out) {
    int result = store_begin_read(s);
    if (result != SB_OK) return result;
    chat_access a;
    result = member_message(s, caller_id, chat_id, seq, &a, out);
    store_rollback(s);
    return result;
}

/* ---- payment messages ---- */

int messenger_payment_status_set(store *s, int64_t chat_id, int64_t seq, int status, int64_t now_ms,
                                 messenger_events *events) {
    messenger_events_clear(events);
    if (!messenger_payment_status_name(status)) return SB_EINVAL;
    int result = store_begin(s);
    if (result != SB_OK) return result;
    messenger_message m = {0};
    bool same = false;
    char *payload = NULL;
    result = message_load(s, chat_id, seq, &m);
    if (result == SB_OK && m.kind != MESSENGER_MSG_PAYMENT) result = SB_EINVAL;
    if (result == SB_OK) {
        if (m.status == status)
            same = true;
        else if (m.status != MESSENGER_PAYMENT_PENDING || status == MESSENGER_PAYMENT_PENDING)
            result = SB_ECONFLICT; /* only pending moves, and only forward */
    }
    /* The payload's "status" follows the message's. */
    if (result == SB_OK && !same) result = messenger__payment_payload_set_status(m.payload_json, status, &payload);
    if (result == SB_OK && !same) result = chat_advance(s, chat_id, false, NULL, &m.rev);
    if (result == SB_OK && !same)
        result = store_exec(s, "UPDATE msg_messages SET status = ?, payload = ?, rev = ? WHERE chat_id = ? AND seq = ?",
                            "ttiii", messenger_payment_status_name(status), payload, m.rev, chat_id, seq);
    if (result == SB_OK && !same) {
        m.status = status;
        sb_free(m.payload_json);
        m.payload_json = payload;
        payload = NULL;
        result = message_event(s, events, MESSENGER_EVENT_PAYMENT_STATUS, &m, 0);
    }
    (void)now_ms;
    sb_free(payload);
    messenger_message_clear(&m);
    return finish_tx(s, result, events);
}

int messenger_payment_get(store *s, int64_t chat_id, int64_t seq, messenger_message *out) {
    memset(out, 0, sizeof *out);
    int result = store_begin_read(s);
    if (result != SB_OK) return result;
    result = message_load(s, chat_id, seq, out);
    store_rollback(s);
    if (result == SB_OK && out->kind != MESSENGER_MSG_PAYMENT) result = SB_EINVAL;
    if (result != SB_OK) messenger_message_clear(out);
    return result;
}

int messenger_payment_update(store *s, int64_t chat_id, int64_t seq, const char *payload_json, int64_t now_ms,
                             messenger_events *events) {
    messenger_events_clear(events);
    if (!payload_json) return SB_EINVAL;
    if (strnlen(payload_json, SB_MESSENGER_PAYLOAD_BYTES_MAX + 1) > SB_MESSENGER_PAYLOAD_BYTES_MAX) return SB_ELIMIT;
    int result = store_begin(s);
    if (result != SB_OK) return result;
    messenger_message m = {0};
    char *merged = NULL;
    int status = 0;
    bool same = false;
    result = message_load(s, chat_id, seq, &m);
    if (result == SB_OK && m.kind != MESSENGER_MSG_PAYMENT) result = SB_EINVAL;
    if (result == SB_OK) result = messenger__payment_payload_merge(m.payload_json, payload_json, &merged, &status);
    if (result == SB_OK) {
        same = status == m.status && strcmp(merged, m.payload_json) == 0;
        if (!same && status != m.status &&
            (m.status != MESSENGER_PAYMENT_PENDING || status == MESSENGER_PAYMENT_PENDING))
            result = SB_ECONFLICT;
    }
    if (result == SB_OK && !same) result = chat_advance(s, chat_id, false, NULL, &m.rev);
    if (result == SB_OK && !same)
        result = store_exec(s, "UPDATE msg_messages SET status = ?, payload = ?, rev = ? WHERE chat_id = ? AND seq = ?",
                            "ttiii", messenger_payment_status_name(status), merged, m.rev, chat_id, seq);
    if (result == SB_OK && !same) {
        m.status = status;
        sb_free(m.payload_json);
        m.payload_json = merged;
        merged = NULL;
        result = message_event(s, events, MESSENGER_EVENT_PAYMENT_STATUS, &m, 0);
    }
    (void)now_ms;
    sb_free(merged);
    messenger_message_clear(&m);
    return finish_tx(s, result, events);
}

/* ---- bots in process ---- */

void messenger_dispatch_bots(store *s, const messenger_events *events, messenger_bot_hook_fn fn, void *arg) {
    if (!events || !fn) return;
    for (size_t i = 0; i < events->count; i++) {
        const messenger_event *ev = &events->items[i];
        for (size_t b = 0; b < ev->bot_recipient_count; b++) {
            /* A bot does not hear its own messages (no answer loops). */
            if (ev->bot_recipients[b] == ev->actor_id) continue;
            fn(s, ev->bot_recipients[b], ev, arg);
        }
    }
}

/* ---- shared with messenger_bank.c ---- */

int messenger__access(store *s, int64_t chat_id, int64_t user_id, int *kind_out, int *role_out) {
    chat_access a;
    int result = access_load(s, chat_id, user_id, &a);
    if (result == SB_OK) {
        *kind_out = a.kind;
        *role_out = a.role;
    }
    return result;
}
int messenger__member_insert(store *s, int64_t chat_id, int64_t user_id, int role, int64_t now_ms) {
    return member_insert(s, chat_id, user_id, role, now_ms);
}
int messenger__member_delete(store *s, int64_t chat_id, int64_t user_id) { return member_delete(s, chat_id, user_id); }
int messenger__message_insert(store *s, messenger_message *m) { return message_insert_full(s, m); }
int messenger__message_load(store *s, int64_t chat_id, int64_t seq, messenger_message *out) {
    return message_load(s, chat_id, seq, out);
}
int messenger__message_event(store *s, messenger_events *events, int type, const messenger_message *m,
                             int64_t actor_id) {
    return message_event(s, events, type, m, actor_id);
}
int messenger__members_event(store *s, messenger_events *events, int64_t chat_id, int64_t actor_id, int action,
                             int64_t subject_id, int subject_role) {
    return members_event(s, events, chat_id, actor_id, action, subject_id, subject_role, NULL, 0);
}
int messenger__chat_advance(store *s, int64_t chat_id, int64_t *rev_out) {
    return chat_advance(s, chat_id, false, NULL, rev_out);
}
int messenger__finish(store *s, int result, messenger_events *events) { return finish_tx(s, result, events); }
messenger_event *messenger__event_add(messenger_events *events, int type, int64_t chat_id, int64_t actor_id) {
    return event_add(events, type, chat_id, actor_id);
}
int messenger__user_exists(store *s, int64_t user_id) { return user_exists(s, user_id); }
