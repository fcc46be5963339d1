/*
 * messenger_botapi.c - what the Telegram-shaped Bot API (src/api/
 * routes_botapi.c) needs from the messenger beyond messenger_bots.c: each
 * bot's API state (migration 0450: which updates it confirmed, its webhook,
 * the kinds of update it asked for, the last delivery error), the chats a
 * bot may name (a 1:1 chat by its peer's user id, as Telegram names private
 * chats by the user), and edits a bot makes to its own messages (text and
 * keyboard together, as editMessageText and editMessageReplyMarkup do).
 * Every read and write checks that the bot is a member, and an unknown chat
 * and a chat the bot is not in give the same answer.
 */
#include <stdio.h>
#include <string.h>

#include "messenger/messenger_int.h"

static void copy_text(char *dst, size_t size, const char *src) { snprintf(dst, size, "%s", src ? src : ""); }

int messenger_botapi_state_get(store *s, int64_t bot_id, messenger_botapi_state *out) {
    memset(out, 0, sizeof *out);
    store_stmt *st;
    int result = store_query(s, &st,
                             "SELECT confirmed_id, webhook_url, secret_token, allowed_updates, last_error_at_ms, "
                             "last_error_message FROM msg_botapi_state WHERE bot_id = ?",
                             "i", bot_id);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_ROW) {
        out->confirmed_id = store_col_int64(st, 0);
        copy_text(out->webhook_url, sizeof out->webhook_url, store_col_text(st, 1));
        copy_text(out->secret_token, sizeof out->secret_token, store_col_text(st, 2));
        out->allowed_updates = store_col_int64(st, 3);
        out->last_error_at_ms = store_col_int64(st, 4);
        copy_text(out->last_error_message, sizeof out->last_error_message, store_col_text(st, 5));
    }
    store_stmt_done(st);
    return result < 0 ? result : SB_OK;
}

/* The state row exists (defaults) so that the updates below can be plain UPDATEs. */
static int state_row(store *s, int64_t bot_id) {
    return store_exec(s, "INSERT INTO msg_botapi_state(bot_id) VALUES (?) ON CONFLICT(bot_id) DO NOTHING", "i", bot_id);
}

int messenger_botapi_confirm(store *s, int64_t bot_id, int64_t below_id) {
    if (below_id <= 0) return SB_OK;
    int result = state_row(s, bot_id);
    if (result == SB_OK)
        result = store_exec(s, "UPDATE msg_botapi_state SET confirmed_id = max(confirmed_id, ?) WHERE bot_id = ?", "ii",
                            below_id, bot_id);
    return result;
}

int messenger_botapi_allowed_set(store *s, int64_t bot_id, int64_t mask) {
    if (mask < 0) return SB_EINVAL;
    int result = state_row(s, bot_id);
    if (result == SB_OK)
        result = store_exec(s, "UPDATE msg_botapi_state SET allowed_updates = ? WHERE bot_id = ?", "ii", mask, bot_id);
    return result;
}

int messenger_botapi_webhook_set(store *s, int64_t bot_id, const char *url, const char *secret_token, int64_t mask,
                                 bool drop_pending) {
    if (!url || !secret_token || mask < 0 || strlen(url) > SB_BOTAPI_WEBHOOK_URL_BYTES_MAX ||
        strlen(secret_token) > SB_BOTAPI_SECRET_TOKEN_BYTES_MAX)
        return SB_EINVAL;
    int result = store_begin(s);
    if (result != SB_OK) return result;
    result = state_row(s, bot_id);
    if (result == SB_OK)
        result = store_exec(s,
                            "UPDATE msg_botapi_state SET webhook_url = ?, secret_token = ?, allowed_updates = ?, "
                            "last_error_at_ms = 0, last_error_message = '' WHERE bot_id = ?",
                            "ttii", url, secret_token, mask, bot_id);
    if (result == SB_OK && drop_pending)
        result = store_exec(s,
                            "UPDATE msg_botapi_state SET confirmed_id = max(confirmed_id, (SELECT coalesce(max(id), 0) "
                            "+ 1 FROM msg_bot_updates WHERE bot_id = ?1)) WHERE bot_id = ?1",
                            "i", bot_id);
    return messenger__finish(s, result, NULL);
}

int messenger_botapi_error_set(store *s, int64_t bot_id, int64_t now_ms, const char *message) {
    char text[SB_BOTAPI_ERROR_MESSAGE_BYTES_MAX + 1];
    copy_text(text, sizeof text, message);
    int result = state_row(s, bot_id);
    if (result == SB_OK)
        result =
            store_exec(s, "UPDATE msg_botapi_state SET last_error_at_ms = ?, last_error_message = ? WHERE bot_id = ?",
                       "iti", text[0] ? now_ms : (int64_t)0, text, bot_id);
    return result;
}

int messenger_botapi_pending(store *s, int64_t bot_id, int64_t *count_out) {
    return store_query_int64(s, count_out,
                             "SELECT count(*) FROM msg_bot_updates WHERE bot_id = ?1 AND id >= coalesce((SELECT "
                             "confirmed_id FROM msg_botapi_state WHERE bot_id = ?1), 0)",
                             "i", bot_id);
}

int messenger_botapi_last_id(store *s, int64_t bot_id, int64_t *id_out) {
    return store_query_int64(s, id_out, "SELECT coalesce(max(id), 0) FROM msg_bot_updates WHERE bot_id = ?", "i",
                             bot_id);
}

int messenger_botapi_update_get(store *s, int64_t bot_id, int64_t update_id, messenger_bot_update *out) {
    size_t count = 0;
    int result = messenger_bot_updates(s, bot_id, update_id - 1, 1, out, &count);
    if (result != SB_OK) return result;
    if (count == 1 && out->id == update_id) return SB_OK;
    messenger_bot_updates_clear(out, count);
    return SB_ENOTFOUND;
}

/* The first column of every row of st (at most max), then st is given back. */
static int read_ids(store_stmt *st, int64_t *ids, size_t max, size_t *count_out) {
    size_t n = 0;
    int result;
    while ((result = store_step(st)) == STORE_ROW && n < max)
        ids[n++] = store_col_int64(st, 0);
    store_stmt_done(st);
    if (result < 0) return result;
    *count_out = n;
    return SB_OK;
}

int messenger_botapi_webhook_bots(store *s, int64_t *ids, size_t max, size_t *count_out) {
    *count_out = 0;
    store_stmt *st;
    int result = store_query(s, &st,
                             "SELECT bot_id FROM msg_botapi_state st WHERE webhook_url <> '' AND EXISTS (SELECT 1 "
                             "FROM msg_bot_updates u WHERE u.bot_id = st.bot_id AND u.id >= st.confirmed_id) "
                             "ORDER BY bot_id LIMIT ?",
                             "i", (int64_t)max);
    return result == SB_OK ? read_ids(st, ids, max, count_out) : result;
}

int messenger_botapi_chat_bots(store *s, int64_t chat_id, int64_t *ids, size_t max, size_t *count_out) {
    *count_out = 0;
    store_stmt *st;
    int result = store_query(s, &st,
                             "SELECT m.user_id FROM msg_members m JOIN msg_bots b ON b.user_id = m.user_id "
                             "WHERE m.chat_id = ? ORDER BY m.user_id LIMIT ?",
                             "ii", chat_id, (int64_t)max);
    return result == SB_OK ? read_ids(st, ids, max, count_out) : result;
}

int messenger_botapi_direct_find(store *s, int64_t bot_id, int64_t user_id, int64_t *chat_id_out) {
    if (user_id <= 0 || user_id == bot_id) return SB_ENOTFOUND;
    int64_t lo = bot_id < user_id ? bot_id : user_id, hi = bot_id < user_id ? user_id : bot_id;
    return store_query_int64(s, chat_id_out,
                             "SELECT c.id FROM msg_chats c JOIN msg_members m ON m.chat_id = c.id AND m.user_id = ? "
                             "WHERE c.kind = 'direct' AND c.pair_lo = ? AND c.pair_hi = ?",
                             "iii", bot_id, lo, hi);
}

int messenger_botapi_chat_describe(store *s, int64_t bot_id, int64_t chat_id, messenger_botapi_chat *out) {
    memset(out, 0, sizeof *out);
    int kind = 0, role = 0;
    int result = messenger__access(s, chat_id, bot_id, &kind, &role);
    if (result != SB_OK) return result;
    store_stmt *st;
    result = store_query(s, &st,
                         "SELECT title, coalesce(pair_lo, 0), coalesce(pair_hi, 0), member_count "
                         "FROM msg_chats WHERE id = ?",
                         "i", chat_id);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_ROW) {
        out->chat_id = chat_id;
        out->kind = kind;
        out->bot_role = role;
        copy_text(out->title, sizeof out->title, store_col_text(st, 0));
        int64_t lo = store_col_int64(st, 1), hi = store_col_int64(st, 2);
        if (kind == MESSENGER_CHAT_DIRECT) out->peer_id = lo == bot_id ? hi : lo;
        out->member_count = store_col_int64(st, 3);
    }
    store_stmt_done(st);
    if (result == STORE_DONE) return SB_EPERM;
    return result < 0 ? result : SB_OK;
}

int messenger_botapi_member_get(store *s, int64_t bot_id, int64_t chat_id, int64_t user_id, int *role_out) {
    int kind = 0, role = 0;
    int result = messenger__access(s, chat_id, bot_id, &kind, &role);
    if (result != SB_OK) return result;
    result = messenger__access(s, chat_id, user_id, &kind, role_out);
    return result == SB_EPERM ? SB_ENOTFOUND : result;
}

int messenger_botapi_edit(store *s, int64_t bot_id, int64_t chat_id, int64_t seq, const char *text,
                          const char *payload_json, bool markup_remove, int64_t now_ms, messenger_events *events) {
    messenger_events_clear(events);
    if (!text && !payload_json && !markup_remove) return SB_EINVAL;
    size_t text_len = text ? strnlen(text, SB_MESSENGER_TEXT_BYTES_MAX + 1) : 0;
    int result = text ? messenger_text_check(text, text_len) : SB_OK;
    char *canonical = NULL;
    if (result == SB_OK && payload_json)
        result = messenger_keyboard_payload_check(payload_json, strlen(payload_json), &canonical);
    if (result != SB_OK) return result;
    result = store_begin(s);
    if (result != SB_OK) {
        sb_free(canonical);
        return result;
    }
    int kind = 0, role = 0;
    messenger_message m = {0};
    result = messenger__access(s, chat_id, bot_id, &kind, &role);
    if (result == SB_OK) result = messenger__message_load(s, chat_id, seq, &m);
    if (result == SB_OK && m.sender_id != bot_id) result = SB_EPERM;
    if (result == SB_OK && (m.deleted_at_ms || (m.kind != MESSENGER_MSG_TEXT && m.kind != MESSENGER_MSG_KEYBOARD)))
        result = SB_ECONFLICT;
    if (result == SB_OK && text) {
        char *copy = sb_strndup(text, text_len);
        if (!copy) result = SB_ENOMEM;
        sb_free(m.text);
        m.text = copy;
    }
    if (result == SB_OK && (canonical || markup_remove)) {
        sb_free(m.payload_json);
        m.payload_json = canonical;
        canonical = NULL;
        m.kind = m.payload_json ? MESSENGER_MSG_KEYBOARD : MESSENGER_MSG_TEXT;
    }
    if (result == SB_OK) result = messenger__chat_advance(s, chat_id, &m.rev);
    if (result == SB_OK) {
        m.edited_at_ms = now_ms;
        result = store_exec(s,
                            "UPDATE msg_messages SET body = ?, payload = ?, kind = ?, edited_at_ms = ?, rev = ? "
                            "WHERE chat_id = ? AND seq = ?",
                            "tttiiii", m.text, m.payload_json, messenger_message_kind_name(m.kind), now_ms, m.rev,
                            chat_id, seq);
    }
    sb_free(canonical);
    if (result == SB_OK) result = messenger__message_event(s, events, MESSENGER_EVENT_MESSAGE_EDITED, &m, bot_id);
    messenger_message_clear(&m);
    return messenger__finish(s, result, events);
}

/* ---- invoices (migration 0451) ---- */

static const char *const invoice_states[] = {NULL, "open", "checkout", "paid", "refused", "expired", "refunded"};

const char *messenger_invoice_state_name(int state) {
    return state >= 1 && state < (int)SB_ARRAY_LEN(invoice_states) ? invoice_states[state] : NULL;
}

static int invoice_state_parse(const char *name) {
    for (int i = 1; name && i < (int)SB_ARRAY_LEN(invoice_states); i++)
        if (strcmp(name, invoice_states[i]) == 0) return i;
    return 0;
}

int messenger_botapi_invoice_create(store *s, const messenger_botapi_invoice *in, int64_t now_ms, int64_t *id_out) {
    int result = store_exec(s,
                            "INSERT INTO msg_botapi_invoices(bot_id, chat_id, title, description, payload, currency, "
                            "total_minor, prices, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            "iittttitii", in->bot_id, in->chat_id, in->title, in->description, in->payload,
                            in->currency, in->total_minor, in->prices_json, now_ms, now_ms);
    if (result == SB_OK) *id_out = store_last_insert_id(s);
    return result;
}

int messenger_botapi_invoice_attach(store *s, int64_t id, int64_t seq) {
    return store_exec(s, "UPDATE msg_botapi_invoices SET seq = ? WHERE id = ?", "ii", seq, id);
}

int messenger_botapi_invoice_delete(store *s, int64_t id) {
    return store_exec(s, "DELETE FROM msg_botapi_invoices WHERE id = ? AND state = 'open'", "i", id);
}

int messenger_botapi_invoice_get(store *s, int64_t id, messenger_botapi_invoice *out) {
    memset(out, 0, sizeof *out);
    store_stmt *st;
    int result = store_query(s, &st,
                             "SELECT id, bot_id, chat_id, seq, title, description, payload, currency, total_minor, "
                             "prices, state, coalesce(payer_id, 0), coalesce(receipt_id, 0), query_update_id, "
                             "deadline_ms, settled, coalesce(refund_receipt_id, 0), created_at_ms, updated_at_ms "
                             "FROM msg_botapi_invoices WHERE id = ?",
                             "i", id);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_ROW) {
        out->id = store_col_int64(st, 0);
        out->bot_id = store_col_int64(st, 1);
        out->chat_id = store_col_int64(st, 2);
        out->seq = store_col_int64(st, 3);
        copy_text(out->title, sizeof out->title, store_col_text(st, 4));
        copy_text(out->description, sizeof out->description, store_col_text(st, 5));
        copy_text(out->payload, sizeof out->payload, store_col_text(st, 6));
        copy_text(out->currency, sizeof out->currency, store_col_text(st, 7));
        out->total_minor = store_col_int64(st, 8);
        copy_text(out->prices_json, sizeof out->prices_json, store_col_text(st, 9));
        out->state = invoice_state_parse(store_col_text(st, 10));
        out->payer_id = store_col_int64(st, 11);
        out->receipt_id = store_col_int64(st, 12);
        out->query_update_id = store_col_int64(st, 13);
        out->deadline_ms = store_col_int64(st, 14);
        out->settled = store_col_int64(st, 15) != 0;
        out->refund_receipt_id = store_col_int64(st, 16);
        out->created_at_ms = store_col_int64(st, 17);
        out->updated_at_ms = store_col_int64(st, 18);
    }
    store_stmt_done(st);
    if (result == STORE_DONE) return SB_ENOTFOUND;
    return result < 0 ? result : SB_OK;
}

int messenger_botapi_invoice_move(store *s, int64_t id, int from, int to, bool settled_after, int64_t payer_id,
                                  int64_t receipt_id, int64_t query_update_id, int64_t deadline_ms, int64_t now_ms) {
    const char *from_name = messenger_invoice_state_name(from), *to_name = messenger_invoice_state_name(to);
    if (!from_name || !to_name) return SB_EINVAL;
    int result =
        store_exec(s,
                   "UPDATE msg_botapi_invoices SET state = ?, settled = ?, "
                   "payer_id = CASE WHEN ? > 0 THEN ? ELSE payer_id END, "
                   "receipt_id = CASE WHEN ? > 0 THEN ? ELSE receipt_id END, "
                   "query_update_id = CASE WHEN ? > 0 THEN ? ELSE query_update_id END, "
                   "deadline_ms = CASE WHEN ? >= 0 THEN ? ELSE deadline_ms END, updated_at_ms = ? "
                   "WHERE id = ? AND state = ?",
                   "tiiiiiiiiiiit", to_name, (int64_t)settled_after, payer_id, payer_id, receipt_id, receipt_id,
                   query_update_id, query_update_id, deadline_ms, deadline_ms, now_ms, id, from_name);
    if (result != SB_OK) return result;
    if (store_changes(s) == 1) return SB_OK;
    messenger_botapi_invoice inv;
    result = messenger_botapi_invoice_get(s, id, &inv);
    return result == SB_OK ? SB_ECONFLICT : result;
}

int messenger_botapi_invoice_settled(store *s, int64_t id, int64_t refund_receipt_id) {
    return store_exec(s,
                      "UPDATE msg_botapi_invoices SET settled = 1, refund_receipt_id = CASE WHEN ? > 0 THEN ? "
                      "ELSE refund_receipt_id END WHERE id = ?",
                      "iii", refund_receipt_id, refund_receipt_id, id);
}

int messenger_botapi_invoices_due(store *s, int64_t now_ms, int64_t *ids, size_t max, size_t *count_out) {
    *count_out = 0;
    store_stmt *st;
    int result = store_query(s, &st,
                             "SELECT id FROM msg_botapi_invoices WHERE (state = 'checkout' AND deadline_ms < ?) OR "
                             "(settled = 0 AND state IN ('paid', 'refused', 'expired')) ORDER BY id LIMIT ?",
                             "ii", now_ms, (int64_t)max);
    return result == SB_OK ? read_ids(st, ids, max, count_out) : result;
}

int messenger_bot_update_add(store *s, int64_t bot_id, const char *event_json, int64_t now_ms, int64_t *id_out) {
    int result = store_exec(s, "INSERT INTO msg_bot_updates(bot_id, event_json, created_at_ms) VALUES (?, ?, ?)", "iti",
                            bot_id, event_json, now_ms);
    if (result == SB_OK) *id_out = store_last_insert_id(s);
    return result;
}
