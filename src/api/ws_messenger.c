/*
 * ws_messenger.c - the messenger's WebSocket frames: "send", "receipt" and
 * "typing" (docs/API.md, WebSocket).  ws.c parses a frame and dispatches it
 * here by type; the messenger does every check and all the SQL.
 *
 * Sends are gathered, not written one by one: a "send" frame is checked for
 * shape (chat_id, text, client_id, reply_to_seq), copied into its thread's
 * batch, and the batch is written with messenger_send_batch (ONE transaction,
 * a savepoint per send) at the end of the loop turn, or at once when it holds
 * SB_WS_SEND_BATCH_MAX sends.  A commit costs far more than an insert, so a
 * server gathering the frames of many connections writes many messages for
 * the price of one commit.  Then each sender gets {"type":"sent",...} or an
 * error naming its client_id, and every event is pushed once
 * (api_messenger_push: rendered once, one queued message per other thread).
 *
 * A sender whose connection went while its send waited in the batch is
 * found missing by id (api_ws_conn_find): its message is still written (it
 * was accepted) and reaches its other devices; the client learns it through
 * /changes, and a retry with the same client_id is answered as a duplicate.
 *
 * Errors: "invalid" (a field missing or malformed, text not valid),
 * "too_large" (text over SB_MESSENGER_TEXT_BYTES_MAX), "not_found" (an
 * unknown chat, a chat the sender is not a member of, a reply_to_seq that is
 * not in the chat: one answer for the first two, so chat ids cannot be
 * probed), "unavailable" (the store refused the batch: nothing was written,
 * the client may retry with the same client_id).
 */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "messenger/messenger.h"

typedef struct {
    int64_t user_id;
    uint64_t conn_id;
    int64_t chat_id;
    int64_t reply_to_seq;
    char *text; /* owned */
    char client_id[SB_MESSENGER_CLIENT_ID_BYTES_MAX + 1];
} pending_send;

struct api_ws_send_batch {
    api_thread *thread;
    h2o_timeout_entry_t entry; /* in the thread's zero timeout while count > 0 */
    size_t count;
    pending_send items[SB_WS_SEND_BATCH_MAX];
    messenger_send_request reqs[SB_WS_SEND_BATCH_MAX];
    messenger_send_outcome outcomes[SB_WS_SEND_BATCH_MAX];
};

/* The error frame for a refused send or request. */
static void reply_refusal(api_ws_conn *w, const char *client_id, int result) {
    switch (result) {
    case SB_ELIMIT:
        api_ws_reply_error(w, client_id, "too_large", "'text' is longer than the limit");
        break;
    case SB_EINVAL:
        api_ws_reply_error(w, client_id, "invalid",
                           "'text' must be valid UTF-8 without control characters (newline allowed), not blank");
        break;
    case SB_EPERM:
        api_ws_reply_error(w, client_id, "not_found", "no such chat");
        break;
    case SB_ENOTFOUND:
        api_ws_reply_error(w, client_id, "not_found", "reply_to_seq is not a message of this chat");
        break;
    case SB_ENOMEM:
    case SB_EBUSY:
    case SB_ECLOSED:
    case SB_EIO:
        api_ws_reply_error(w, client_id, "unavailable", "the message was not stored; retry with the same client_id");
        break;
    default:
        api_ws_reply_error(w, client_id, "internal", sb_strerror(result));
        break;
    }
}

/* Write the gathered sends, answer each sender, push the events. */
static void batch_flush(struct api_ws_send_batch *b) {
    if (h2o_timeout_is_linked(&b->entry)) h2o_timeout_unlink(&b->entry);
    size_t n = b->count;
    if (n == 0) return;
    b->count = 0; /* before anything that could re-enter */
    api_thread *t = b->thread;
    for (size_t i = 0; i < n; i++)
        b->reqs[i] = (messenger_send_request){.chat_id = b->items[i].chat_id,
                                              .sender_id = b->items[i].user_id,
                                              .kind = MESSENGER_MSG_TEXT,
                                              .text = b->items[i].text,
                                              .reply_to_seq = b->items[i].reply_to_seq,
                                              .client_id = b->items[i].client_id};
    /* Commit and push under the order lock: every device gets the events of
     * all threads' batches in commit order, which is seq order per chat. */
    api_ws_order_lock(t->server);
    int result = messenger_send_batch(t->store, b->reqs, n, sb_now_ms(), b->outcomes);
    if (result != SB_OK)
        sb_log(SB_LOG_ERROR, "ws.send_batch", "a batch of %zu sends failed: %s", n, sb_strerror(result));
    for (size_t i = 0; i < n; i++) {
        pending_send *p = &b->items[i];
        messenger_send_outcome *o = &b->outcomes[i];
        api_ws_conn *w = api_ws_conn_find(t, p->user_id, p->conn_id);
        if (o->result == SB_OK) {
            if (w) {
                char ack[160 + SB_MESSENGER_CLIENT_ID_BYTES_MAX];
                int len = snprintf(ack, sizeof ack,
                                   "{\"type\":\"sent\",\"client_id\":\"%s\",\"chat_id\":%lld,\"seq\":%lld,"
                                   "\"duplicate\":%s}",
                                   p->client_id, (long long)o->message.chat_id, (long long)o->message.seq,
                                   o->duplicate ? "true" : "false");
                if (len > 0 && (size_t)len < sizeof ack) api_ws_reply_text(w, ack, (size_t)len);
            }
            api_thread_push(t, &o->events);
        } else if (w) {
            reply_refusal(w, p->client_id, o->result);
        }
        sb_free(p->text);
        p->text = NULL;
    }
    api_ws_order_unlock(t->server);
    messenger_send_outcomes_clear(b->outcomes, n);
}

static void on_batch_turn(h2o_timeout_entry_t *entry) {
    struct api_ws_send_batch *b = H2O_STRUCT_FROM_MEMBER(struct api_ws_send_batch, entry, entry);
    batch_flush(b);
}

void api_ws_sends_thread_dispose(api_thread *t) {
    struct api_ws_send_batch *b = t->ws_sends;
    if (!b) return;
    batch_flush(b);
    t->ws_sends = NULL;
    sb_free(b);
}

/* A required chat id: a positive integer. */
static bool chat_id_field(const api_ws_frame *f, const char *client_id, int64_t *out) {
    json_t *v = json_object_get(f->root, "chat_id");
    if (!json_is_integer(v) || json_integer_value(v) <= 0) {
        api_ws_reply_error(f->conn, client_id, "invalid", "'chat_id' must be a positive integer");
        return false;
    }
    *out = (int64_t)json_integer_value(v);
    return true;
}

/* An optional sequence number: absent or null gives 0. */
static bool seq_field(const api_ws_frame *f, const char *client_id, const char *name, int64_t *out) {
    json_t *v = json_object_get(f->root, name);
    *out = 0;
    if (!v || json_is_null(v)) return true;
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        char message[96];
        snprintf(message, sizeof message, "'%s' must be an integer from 0", name);
        api_ws_reply_error(f->conn, client_id, "invalid", message);
        return false;
    }
    *out = (int64_t)json_integer_value(v);
    return true;
}

/* The frame's client_id: required for a send, optional otherwise.  *out is
 * NULL when absent; false (answered) when present but malformed. */
static bool client_id_field(const api_ws_frame *f, bool required, const char **out) {
    json_t *v = json_object_get(f->root, "client_id");
    *out = NULL;
    if (!v && !required) return true;
    const char *id = json_string_value(v);
    if (!id || strlen(id) != json_string_length(v) || messenger_client_id_check(id) != SB_OK) {
        char message[128];
        snprintf(message, sizeof message, "'client_id'%s must be 1 to %d of A-Z a-z 0-9 . _ : -",
                 required ? " is required and" : "", SB_MESSENGER_CLIENT_ID_BYTES_MAX);
        api_ws_reply_error(f->conn, NULL, "invalid", message);
        return false;
    }
    *out = id;
    return true;
}

void api_ws_frame_send(const api_ws_frame *f) {
    const char *client_id;
    int64_t chat_id, reply_to_seq;
    if (!client_id_field(f, true, &client_id) || !chat_id_field(f, client_id, &chat_id) ||
        !seq_field(f, client_id, "reply_to_seq", &reply_to_seq))
        return;
    json_t *tv = json_object_get(f->root, "text");
    const char *text = json_string_value(tv);
    if (!text) {
        api_ws_reply_error(f->conn, client_id, "invalid", "'text' must be a string");
        return;
    }
    size_t len = json_string_length(tv);
    if (len > SB_MESSENGER_TEXT_BYTES_MAX) {
        reply_refusal(f->conn, client_id, SB_ELIMIT);
        return;
    }
    if (strlen(text) != len) { /* an escaped NUL */
        reply_refusal(f->conn, client_id, SB_EINVAL);
        return;
    }
    api_thread *t = f->thread;
    if (!t->ws_sends) {
        t->ws_sends = sb_calloc(1, sizeof *t->ws_sends);
        if (!t->ws_sends) {
            reply_refusal(f->conn, client_id, SB_ENOMEM);
            return;
        }
        t->ws_sends->thread = t;
        t->ws_sends->entry.cb = on_batch_turn;
    }
    struct api_ws_send_batch *b = t->ws_sends;
    pending_send *p = &b->items[b->count];
    p->text = sb_strndup(text, len);
    if (!p->text) {
        reply_refusal(f->conn, client_id, SB_ENOMEM);
        return;
    }
    p->user_id = f->user_id;
    p->conn_id = api_ws_conn_id(f->conn);
    p->chat_id = chat_id;
    p->reply_to_seq = reply_to_seq;
    snprintf(p->client_id, sizeof p->client_id, "%s", client_id);
    b->count++;
    if (b->count == SB_WS_SEND_BATCH_MAX)
        batch_flush(b); /* full: write now (answers are queued, written at the end of the turn) */
    else if (!h2o_timeout_is_linked(&b->entry))
        h2o_timeout_link(t->loop, &t->ws_zero_timeout, &b->entry);
}

void api_ws_frame_receipt(const api_ws_frame *f) {
    const char *client_id;
    int64_t chat_id, delivered, read;
    if (!client_id_field(f, false, &client_id) || !chat_id_field(f, client_id, &chat_id) ||
        !seq_field(f, client_id, "delivered_seq", &delivered) || !seq_field(f, client_id, "read_seq", &read))
        return;
    messenger_events events = {0};
    int result = messenger_receipt(f->thread->store, f->user_id, chat_id, delivered, read, &events);
    if (result == SB_OK) api_thread_push(f->thread, &events);
    messenger_events_clear(&events);
    if (result == SB_EINVAL)
        api_ws_reply_error(f->conn, client_id, "invalid", "a receipt cannot pass the chat's last message");
    else if (result != SB_OK)
        reply_refusal(f->conn, client_id, result);
    else if (client_id)
        api_ws_reply_json(f->conn,
                          json_pack("{s:s, s:s, s:s}", "type", "ok", "client_id", client_id, "for", "receipt"));
}

void api_ws_frame_typing(const api_ws_frame *f) {
    const char *client_id;
    int64_t chat_id;
    if (!client_id_field(f, false, &client_id) || !chat_id_field(f, client_id, &chat_id)) return;
    messenger_events events = {0};
    int result = messenger_typing(f->thread->store, f->user_id, chat_id, &events);
    if (result == SB_OK) api_thread_push(f->thread, &events);
    messenger_events_clear(&events);
    if (result != SB_OK)
        reply_refusal(f->conn, client_id, result);
    else if (client_id)
        api_ws_reply_json(f->conn, json_pack("{s:s, s:s, s:s}", "type", "ok", "client_id", client_id, "for", "typing"));
}
