/*
 * ws.c - WebSocket connections at /api/ws.
 *
 * The upgrade is authenticated like any route (bearer header or ?token=).
 * A connection lives on the thread that accepted it.  Frames: text frames
 * carrying one JSON object each, dispatched by "type" through one table
 * (api_ws_frame_types in routes.c: "ping" and "echo" here, the messenger's
 * "send", "receipt" and "typing" in ws_messenger.c; another module adds a
 * line there and its handler file).  This file is the transport: it calls
 * no frame handler's module directly, and pushes from above (push.c)
 * reach it through api_ws_send_to_users.  Every frame is hostile: bad JSON, an unknown type or a
 * refused request is answered with an error frame and the connection stays
 * up.  A binary frame
 * closes with 1003, a message over SB_WS_MESSAGE_BYTES_MAX with 1009 (wslay
 * enforces it), more than SB_WS_CLIENT_MESSAGES_PER_S_MAX messages a second
 * are answered with a rate_limited error and dropped, twice that closes with
 * 1008.  The server pings every SB_WS_PING_INTERVAL_MS (serve --ws-ping-ms)
 * and drops a peer silent for two intervals.
 *
 * Sessions: a connection remembers the session it was opened with.  Signing
 * out (api_ws_session_end) closes every connection of that session at once
 * with 4001 "session_revoked", on other threads through their inbox; each
 * ping tick closes connections whose session has expired (4001
 * "session_expired") and re-reads up to SB_WS_SESSION_CHECKS_PER_TICK_MAX
 * sessions from the store, so a revocation made anywhere else (another
 * process, a lost message) is seen within an interval.  After the close
 * frame nothing more is read or pushed; a peer that does not answer the
 * close is dropped at the next tick but one.
 *
 * Sending: every message goes through wslay's queue, bounded by
 * SB_WS_SEND_QUEUE_MAX messages and SB_WS_SEND_QUEUE_BYTES_MAX bytes; a
 * connection past either is dropped (on the next loop turn, never inside
 * wslay's callbacks), so a slow reader never slows anybody else.  Queued
 * messages are written at the end of the loop turn: a connection that got
 * something is put on the thread's dirty list once, and one zero-delay timer
 * writes every dirty connection after all reads of the turn (so ten pushes
 * to one socket cost one write, and nothing is written inside a callback).
 *
 * Pushes from any thread (api_ws_send_to_user): a registry under one mutex
 * maps a user to the set of threads holding a connection of theirs (a bit
 * mask, updated only when a thread gains its first or loses its last
 * connection of that user).  api_ws_send_to_users takes the lock once for a
 * whole recipient list: users on the calling loop thread get the text
 * directly, and each other thread gets ONE queued message holding the text
 * once and the ids of its users.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "api/api_int.h"

/* Close code of a connection whose session ended (4000-4999: private use). */
#define WS_CLOSE_SESSION_ENDED 4001

struct api_ws_conn {
    h2o_websocket_conn_t *ws;
    api_thread *thread;
    int64_t user_id;
    int role;
    int64_t session_id;            /* 0 for a bot (no session) */
    int64_t session_expires_at_ms; /* wall clock */
    int64_t session_checked_ms;    /* loop clock of the last store check */
    bool closing;                  /* session ended: the close frame is queued */
    int64_t closing_since_ms;
    api_ws_conn *bucket_next;
    api_ws_conn *prev, *next; /* the thread's list */
    int64_t window_start_ms;
    uint32_t window_count;
    int64_t last_seen_ms;
    bool doomed;
    bool dirty; /* on the thread's dirty list */
    api_ws_conn *dirty_prev, *dirty_next;
    uint64_t id;
    h2o_timeout_entry_t close_entry;
    /* Bytes wslay has framed, written as ONE h2o_socket_write (see ws_send_cb). */
    uint8_t *out;
    size_t out_len, out_cap;
};

static ssize_t ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *user_data);

/* The ping interval of t's server. */
static int64_t ping_interval_ms(const api_thread *t) {
    int ms = t->server->cfg.ws_ping_interval_ms;
    return ms > 0 ? ms : SB_WS_PING_INTERVAL_MS;
}

/* The loop thread running on this OS thread (NULL elsewhere). */
static _Thread_local api_thread *ws_current_thread;

typedef api_ws_presence presence;

void api_ws_registry_init(api_server *srv) {
    pthread_mutex_init(&srv->registry_lock, NULL);
    pthread_mutex_init(&srv->order_lock, NULL);
    for (int i = 0; i < SB_THREADS_MAX; i++)
        pthread_mutex_init(&srv->inboxes[i].lock, NULL);
}

void api_ws_registry_dispose(api_server *srv) {
    for (int i = 0; i < SB_THREADS_MAX; i++) {
        api_thread_msg *msg = srv->inboxes[i].head;
        while (msg) {
            api_thread_msg *next = msg->inbox_next;
            sb_free(msg);
            msg = next;
        }
        pthread_mutex_destroy(&srv->inboxes[i].lock);
    }
    pthread_mutex_destroy(&srv->order_lock);
    pthread_mutex_destroy(&srv->registry_lock);
}

void api_ws_order_lock(api_server *srv) { pthread_mutex_lock(&srv->order_lock); }
void api_ws_order_unlock(api_server *srv) { pthread_mutex_unlock(&srv->order_lock); }

/* Append msg (taken) to thread t's inbox; wake t if it was empty. */
static int inbox_put(api_thread *t, api_thread_msg *msg) {
    api_thread_msg *wake = NULL;
    pthread_mutex_lock(&t->server->inboxes[t->index].lock);
    msg->inbox_next = NULL;
    if (!t->server->inboxes[t->index].head) {
        wake = sb_calloc(1, sizeof *wake);
        if (!wake) {
            pthread_mutex_unlock(&t->server->inboxes[t->index].lock);
            sb_free(msg);
            return SB_ENOMEM;
        }
        t->server->inboxes[t->index].head = msg;
    } else {
        t->server->inboxes[t->index].tail->inbox_next = msg;
    }
    t->server->inboxes[t->index].tail = msg;
    pthread_mutex_unlock(&t->server->inboxes[t->index].lock);
    if (wake) {
        wake->kind = API_MSG_WS_SEND; /* no users: just "drain your inbox" */
        h2o_multithread_send_message(&t->receiver, &wake->super);
    }
    return SB_OK;
}

static void deliver_one(api_thread *t, const api_thread_msg *msg);

/* Write everything in t's inbox, oldest first (on t). */
static void inbox_drain(api_thread *t) {
    pthread_mutex_lock(&t->server->inboxes[t->index].lock);
    api_thread_msg *msg = t->server->inboxes[t->index].head;
    t->server->inboxes[t->index].head = t->server->inboxes[t->index].tail = NULL;
    pthread_mutex_unlock(&t->server->inboxes[t->index].lock);
    while (msg) {
        api_thread_msg *next = msg->inbox_next;
        deliver_one(t, msg);
        sb_free(msg);
        msg = next;
    }
}

static size_t user_hash(int64_t user_id, size_t buckets) {
    uint64_t x = (uint64_t)user_id * 0x9E3779B97F4A7C15ull;
    return (size_t)(x >> 32) % buckets;
}

void api_ws_registry_open(api_server *srv) {
    pthread_mutex_lock(&srv->registry_lock);
    srv->registry_open = true;
    pthread_mutex_unlock(&srv->registry_lock);
}

void api_ws_registry_close(api_server *srv) {
    pthread_mutex_lock(&srv->registry_lock);
    srv->registry_open = false;
    for (size_t i = 0; i < API_WS_REGISTRY_BUCKETS; i++) {
        presence *p = srv->registry[i];
        while (p) {
            presence *next = p->next;
            sb_free(p);
            p = next;
        }
        srv->registry[i] = NULL;
    }
    pthread_mutex_unlock(&srv->registry_lock);
}

/* Mark (present=true) or clear the thread's bit for user_id. */
static int registry_set(api_server *srv, int64_t user_id, int thread_index, bool present) {
    int result = SB_OK;
    pthread_mutex_lock(&srv->registry_lock);
    presence **slot = &srv->registry[user_hash(user_id, API_WS_REGISTRY_BUCKETS)];
    while (*slot && (*slot)->user_id != user_id)
        slot = &(*slot)->next;
    if (present) {
        if (!*slot) {
            presence *p = sb_calloc(1, sizeof *p);
            if (!p) {
                result = SB_ENOMEM;
            } else {
                p->user_id = user_id;
                *slot = p;
            }
        }
        if (*slot) (*slot)->thread_mask |= (uint64_t)1 << thread_index;
    } else if (*slot) {
        (*slot)->thread_mask &= ~((uint64_t)1 << thread_index);
        if ((*slot)->thread_mask == 0) {
            presence *gone = *slot;
            *slot = gone->next;
            sb_free(gone);
        }
    }
    pthread_mutex_unlock(&srv->registry_lock);
    return result;
}

/* Presence of user_id (lock held), or NULL. */
static presence *presence_find(api_server *srv, int64_t user_id) {
    presence *p = srv->registry[user_hash(user_id, API_WS_REGISTRY_BUCKETS)];
    while (p && p->user_id != user_id)
        p = p->next;
    return p;
}

int api_ws_send_to_users(api_server *srv, const int64_t *user_ids, size_t count, const char *json_text, size_t len) {
    if (len > SB_WS_MESSAGE_BYTES_MAX) return SB_ELIMIT;
    if (count == 0) return SB_OK;
    if (count > SB_MESSENGER_RECIPIENTS_MAX) return SB_ELIMIT;
    api_thread *self = ws_current_thread;
    /* Pass 1 (under the lock): how many users live on each thread. */
    size_t per_thread[SB_THREADS_MAX] = {0};
    uint64_t *masks = sb_malloc(count * sizeof *masks);
    if (!masks) return SB_ENOMEM;
    int result = SB_OK;
    pthread_mutex_lock(&srv->registry_lock);
    int nthreads = srv->nthreads;
    if (!srv->registry_open) result = SB_ECLOSED;
    for (size_t i = 0; result == SB_OK && i < count; i++) {
        presence *p = presence_find(srv, user_ids[i]);
        masks[i] = p ? p->thread_mask : 0;
        for (int t = 0; masks[i] && t < nthreads; t++)
            if (masks[i] & ((uint64_t)1 << t)) per_thread[t]++;
    }
    pthread_mutex_unlock(&srv->registry_lock);
    /* Pass 2: one message per other thread (text once, then its user ids);
     * the calling loop thread's users are written to directly. */
    for (int t = 0; result == SB_OK && t < nthreads; t++) {
        if (per_thread[t] == 0) continue;
        size_t text_bytes = (len + 1 + 7) & ~(size_t)7; /* the ids start 8-aligned */
        api_thread_msg *msg = sb_malloc(sizeof *msg + text_bytes + per_thread[t] * sizeof(int64_t));
        if (!msg) {
            result = SB_ENOMEM;
            break;
        }
        memset(&msg->super, 0, sizeof msg->super);
        msg->kind = API_MSG_WS_SEND;
        msg->len = len;
        memcpy(msg->text, json_text, len);
        msg->text[len] = '\0';
        int64_t *ids = (int64_t *)(void *)(msg->text + text_bytes);
        size_t n = 0;
        for (size_t i = 0; i < count && n < per_thread[t]; i++)
            if (masks[i] & ((uint64_t)1 << t)) ids[n++] = user_ids[i];
        msg->user_count = n;
        msg->user_ids = ids;
        api_thread *target = &srv->threads[t];
        if (target == self) {
            inbox_drain(self); /* what other threads pushed earlier goes first */
            deliver_one(self, msg);
            sb_free(msg);
        } else {
            result = inbox_put(target, msg);
        }
    }
    sb_free(masks);
    return result;
}

int api_ws_send_to_user(api_server *srv, int64_t user_id, const char *json_text, size_t len) {
    if (len > SB_WS_MESSAGE_BYTES_MAX) return SB_ELIMIT;
    pthread_mutex_lock(&srv->registry_lock);
    bool present = srv->registry_open && presence_find(srv, user_id) != NULL;
    bool open = srv->registry_open;
    pthread_mutex_unlock(&srv->registry_lock);
    if (!open) return SB_ECLOSED;
    if (!present) return SB_ENOTFOUND;
    return api_ws_send_to_users(srv, &user_id, 1, json_text, len);
}

/* ---- one connection ---- */

static int64_t loop_now_ms(api_thread *t) { return (int64_t)h2o_now(t->loop); }

static bool user_on_thread(api_thread *t, int64_t user_id, const api_ws_conn *except) {
    for (api_ws_conn *w = t->ws_buckets[user_hash(user_id, API_WS_BUCKETS)]; w; w = w->bucket_next)
        if (w != except && w->user_id == user_id) return true;
    return false;
}

/* Unlink from every list, close the socket, free.  Never call it from inside
 * wslay's callbacks for another reason than h2o's close notice. */
static void ws_destroy(api_ws_conn *w) {
    api_thread *t = w->thread;
    if (h2o_timeout_is_linked(&w->close_entry)) h2o_timeout_unlink(&w->close_entry);
    if (w->dirty) {
        if (w->dirty_prev)
            w->dirty_prev->dirty_next = w->dirty_next;
        else
            t->ws_dirty = w->dirty_next;
        if (w->dirty_next) w->dirty_next->dirty_prev = w->dirty_prev;
        w->dirty = false;
    }
    api_ws_conn **slot = &t->ws_buckets[user_hash(w->user_id, API_WS_BUCKETS)];
    while (*slot && *slot != w)
        slot = &(*slot)->bucket_next;
    if (*slot) *slot = w->bucket_next;
    if (!user_on_thread(t, w->user_id, w) && registry_set(t->server, w->user_id, t->index, false) != SB_OK) {
        /* clearing never allocates */
    }
    if (w->prev)
        w->prev->next = w->next;
    else
        t->ws_all = w->next;
    if (w->next) w->next->prev = w->prev;
    t->ws_count--;
    api_metrics_ws_add(t->metrics, -1);
    /* A close frame wslay framed just before the end (the answer to the
     * peer's close) is still here: one best-effort non-blocking send. */
    if (w->out_len > 0 && w->ws->sock != NULL && !h2o_socket_is_writing(w->ws->sock) &&
        send(h2o_socket_get_fd(w->ws->sock), w->out, w->out_len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
        /* the peer is gone: nothing to do */
    }
    h2o_websocket_close(w->ws);
    sb_free(w->out);
    sb_free(w);
}

static void on_doomed(h2o_timeout_entry_t *entry) {
    api_ws_conn *w = H2O_STRUCT_FROM_MEMBER(api_ws_conn, close_entry, entry);
    ws_destroy(w);
}

/* Drop the connection on the next loop turn. */
static void ws_doom(api_ws_conn *w, const char *why) {
    if (w->doomed) return;
    w->doomed = true;
    char fields[96];
    snprintf(fields, sizeof fields, "{\"user_id\":%lld}", (long long)w->user_id);
    sb_log_fields(SB_LOG_WARN, "ws.drop", fields, "%s", why);
    w->close_entry.cb = on_doomed;
    h2o_timeout_link(w->thread->loop, &w->thread->ws_zero_timeout, &w->close_entry);
}

/* Write w's queue at the end of this loop turn. */
static void ws_mark_dirty(api_ws_conn *w) {
    if (w->dirty) return;
    api_thread *t = w->thread;
    w->dirty = true;
    w->dirty_prev = NULL;
    w->dirty_next = t->ws_dirty;
    if (t->ws_dirty) t->ws_dirty->dirty_prev = w;
    t->ws_dirty = w;
    if (!h2o_timeout_is_linked(&t->ws_write_entry)) h2o_timeout_link(t->loop, &t->ws_zero_timeout, &t->ws_write_entry);
}

/* Queue a text message; drops a connection whose queue is full. */
static int ws_queue_text(api_ws_conn *w, const char *text, size_t len) {
    if (w->doomed || w->closing) return SB_ECLOSED;
    wslay_event_context_ptr ctx = w->ws->ws_ctx;
    if (wslay_event_get_queued_msg_count(ctx) >= SB_WS_SEND_QUEUE_MAX ||
        wslay_event_get_queued_msg_length(ctx) + len > SB_WS_SEND_QUEUE_BYTES_MAX) {
        if (!w->doomed)
            atomic_store_explicit(
                &w->thread->metrics->websockets_dropped_slow,
                atomic_load_explicit(&w->thread->metrics->websockets_dropped_slow, memory_order_relaxed) + 1,
                memory_order_relaxed);
        ws_doom(w, "send queue full: the reader is too slow");
        return SB_EBUSY;
    }
    struct wslay_event_msg msg = {WSLAY_TEXT_FRAME, (const uint8_t *)text, len};
    if (wslay_event_queue_msg(ctx, &msg) != 0) return SB_ECLOSED;
    ws_mark_dirty(w);
    return SB_OK;
}

void api_ws_reply_text(api_ws_conn *w, const char *text, size_t len) {
    if (ws_queue_text(w, text, len) != SB_OK) {
        /* dropped or closing: nothing more to do */
    }
}

void api_ws_reply_json(api_ws_conn *w, json_t *obj_take) {
    if (!obj_take) return;
    char *text = json_dumps(obj_take, JSON_COMPACT);
    json_decref(obj_take);
    if (!text) return;
    api_ws_reply_text(w, text, strlen(text));
    json_free_t free_fn;
    json_get_alloc_funcs(NULL, &free_fn);
    free_fn(text);
}

void api_ws_reply_error(api_ws_conn *w, const char *client_id, const char *code, const char *message) {
    api_ws_reply_json(w, json_pack("{s:s, s:s?, s:{s:s, s:s}}", "type", "error", "client_id", client_id, "error",
                                   "code", code, "message", message));
}

uint64_t api_ws_conn_id(const api_ws_conn *w) { return w->id; }

api_ws_conn *api_ws_conn_find(api_thread *t, int64_t user_id, uint64_t conn_id) {
    for (api_ws_conn *w = t->ws_buckets[user_hash(user_id, API_WS_BUCKETS)]; w; w = w->bucket_next)
        if (w->id == conn_id && w->user_id == user_id) return w->doomed ? NULL : w;
    return NULL;
}

static void ws_close_code(api_ws_conn *w, uint16_t code, const char *reason) {
    if (wslay_event_queue_close(w->ws->ws_ctx, code, (const uint8_t *)reason, strlen(reason)) != 0) {
        /* a close is already queued */
    }
}

/* The session of w ended: queue the 4001 close (written at the end of the
 * turn); from now on nothing is read from or pushed to it. */
static void ws_session_close(api_ws_conn *w, const char *reason) {
    if (w->doomed || w->closing) return;
    w->closing = true;
    w->closing_since_ms = loop_now_ms(w->thread);
    char fields[96];
    snprintf(fields, sizeof fields, "{\"user_id\":%lld,\"thread\":%d}", (long long)w->user_id, w->thread->index);
    sb_log_fields(SB_LOG_INFO, "ws.session_end", fields, "%s: closing with %d", reason, WS_CLOSE_SESSION_ENDED);
    ws_close_code(w, WS_CLOSE_SESSION_ENDED, reason);
    ws_mark_dirty(w);
}

/* On t: close user_id's connections opened with session_id. */
static void ws_session_end_here(api_thread *t, int64_t user_id, int64_t session_id) {
    for (api_ws_conn *w = t->ws_buckets[user_hash(user_id, API_WS_BUCKETS)]; w; w = w->bucket_next)
        if (w->user_id == user_id && w->session_id == session_id) ws_session_close(w, "session_revoked");
}

void api_ws_session_end(api_server *srv, int64_t user_id, int64_t session_id) {
    if (!srv || session_id <= 0) return;
    pthread_mutex_lock(&srv->registry_lock);
    presence *p = srv->registry_open ? presence_find(srv, user_id) : NULL;
    uint64_t mask = p ? p->thread_mask : 0;
    pthread_mutex_unlock(&srv->registry_lock);
    api_thread *self = ws_current_thread;
    for (int i = 0; mask && i < srv->nthreads; i++) {
        if ((mask & ((uint64_t)1 << i)) == 0) continue;
        api_thread *target = &srv->threads[i];
        if (target == self) {
            ws_session_end_here(self, user_id, session_id);
            continue;
        }
        api_thread_msg *msg = sb_calloc(1, sizeof *msg);
        if (!msg) {
            sb_log(SB_LOG_WARN, "ws.session_end", "out of memory: thread %d closes at its next session check", i);
            continue;
        }
        msg->kind = API_MSG_WS_SESSION_END;
        msg->session_id = session_id;
        msg->session_user_id = user_id;
        if (inbox_put(target, msg) != SB_OK)
            sb_log(SB_LOG_WARN, "ws.session_end", "out of memory: thread %d closes at its next session check", i);
    }
}

void api_ws_frame_ping(const api_ws_frame *f) {
    json_t *id = json_object_get(f->root, "id");
    api_ws_reply_json(f->conn, json_pack("{s:s, s:O}", "type", "pong", "id", id ? id : json_null()));
}

void api_ws_frame_echo(const api_ws_frame *f) {
    json_t *payload = json_object_get(f->root, "data");
    api_ws_reply_json(f->conn, json_pack("{s:s, s:O}", "type", "echo", "data", payload ? payload : json_null()));
}

static void handle_text(api_ws_conn *w, const uint8_t *data, size_t len) {
    int64_t now = loop_now_ms(w->thread);
    if (now - w->window_start_ms >= 1000) {
        w->window_start_ms = now;
        w->window_count = 0;
    }
    w->window_count++;
    if (w->window_count > 2u * SB_WS_CLIENT_MESSAGES_PER_S_MAX) {
        ws_close_code(w, 1008, "message rate limit exceeded");
        return;
    }
    if (w->window_count > SB_WS_CLIENT_MESSAGES_PER_S_MAX) {
        api_ws_reply_error(w, NULL, "rate_limited", "too many messages a second; this one was dropped");
        return;
    }
    json_t *root = NULL;
    char err[256];
    bool syntax;
    if (api_json_parse_body((const char *)data, len, &root, err, sizeof err, &syntax) != SB_OK) {
        if (!sb_utf8_valid(err, strlen(err)))
            for (char *p = err; *p; p++)
                if ((unsigned char)*p >= 0x80) *p = '?';
        api_ws_reply_error(w, NULL, "invalid_json", syntax ? err : "a message must be a JSON object");
        return;
    }
    const char *type = json_string_value(json_object_get(root, "type"));
    size_t i = 0;
    while (type && i < api_ws_frame_type_count && strcmp(api_ws_frame_types[i].type, type) != 0)
        i++;
    if (type && i < api_ws_frame_type_count) {
        api_ws_frame f = {.conn = w,
                          .thread = w->thread,
                          .user_id = w->user_id,
                          .role = w->role,
                          .root = root,
                          .now_ms = sb_now_ms()};
        api_ws_frame_types[i].fn(&f);
    } else {
        api_ws_reply_error(w, NULL, "unknown_type",
                           type ? "unknown message type" : "a message needs a string \"type\"");
    }
    json_decref(root);
}

static void on_ws_message(h2o_websocket_conn_t *conn, const struct wslay_event_on_msg_recv_arg *arg) {
    api_ws_conn *w = conn->data;
    if (!arg) { /* closed by the peer, an error, or after our close frame */
        ws_destroy(w);
        return;
    }
    if (w->doomed || w->closing) return; /* after our close: nothing more is taken */
    w->last_seen_ms = loop_now_ms(w->thread);
    switch (arg->opcode) {
    case WSLAY_TEXT_FRAME:
        handle_text(w, arg->msg, arg->msg_length);
        break;
    case WSLAY_BINARY_FRAME:
        ws_close_code(w, 1003, "binary frames are not accepted");
        break;
    default:
        break; /* pings are answered by wslay; pongs and closes need nothing */
    }
}

int api_ws_handle(api_ctx *c) {
    h2o_req_t *req = c->request->req;
    api_thread *t = c->request->thread;
    const char *client_key = NULL;
    if (req->version >= 0x200 || h2o_is_websocket_handshake(req, &client_key) != 0 || client_key == NULL) {
        api_reply_error(c, 400, "invalid", "expected a WebSocket upgrade (Upgrade: websocket, Sec-WebSocket-Key)");
        return SB_EINVAL;
    }
    api_ws_conn *w = sb_calloc(1, sizeof *w);
    if (!w) return SB_ENOMEM;
    w->thread = t;
    w->user_id = c->principal->user_id;
    w->role = c->principal->role;
    w->session_id = c->principal->session_id;
    w->session_expires_at_ms = c->principal->expires_at_ms;
    w->id = ++t->ws_next_conn_id;
    w->last_seen_ms = w->window_start_ms = w->session_checked_ms = loop_now_ms(t);
    if (!user_on_thread(t, w->user_id, NULL) && registry_set(t->server, w->user_id, t->index, true) != SB_OK) {
        sb_free(w);
        return SB_ENOMEM;
    }
    api_connection_upgraded(req);
    w->ws = h2o_upgrade_to_websocket(req, client_key, w, on_ws_message);
    wslay_event_config_set_max_recv_msg_length(w->ws->ws_ctx, SB_WS_MESSAGE_BYTES_MAX);
    w->ws->ws_callbacks.send_callback = ws_send_cb; /* one write per turn, see ws_flush */
    wslay_event_config_set_callbacks(w->ws->ws_ctx, &w->ws->ws_callbacks);
    size_t b = user_hash(w->user_id, API_WS_BUCKETS);
    w->bucket_next = t->ws_buckets[b];
    t->ws_buckets[b] = w;
    w->next = t->ws_all;
    if (t->ws_all) t->ws_all->prev = w;
    t->ws_all = w;
    t->ws_count++;
    api_metrics_ws_add(t->metrics, 1);
    api_reply_mark(c, 101);
    /* sent by h2o once the 101 is written (the socket is not ours yet) */
    api_ws_reply_json(w, json_pack("{s:s, s:I, s:s}", "type", "hello", "user_id", (json_int_t)w->user_id, "role",
                                   identity_role_name(w->role) ? identity_role_name(w->role) : "unknown"));
    return SB_OK;
}

/* Writing.  h2o 2.2's own wslay send callback writes every chunk wslay
 * hands it at once and allows one in flight, so a frame costs two write
 * calls (header, then payload) and two TCP segments.  Ours gathers what
 * wslay frames into the connection's buffer (at most SB_WS_WRITE_BYTES_MAX)
 * and ws_flush writes it with one h2o_socket_write: every frame queued to a
 * connection during a loop turn leaves in one write. */
static void on_ws_write_complete(h2o_socket_t *sock, const char *err) {
    h2o_websocket_conn_t *conn = sock->data;
    api_ws_conn *w = conn->data;
    w->out_len = 0;
    if (err != NULL) {
        ws_destroy(w); /* as h2o's own on_close */
        return;
    }
    /* wslay may have more (it waits while a write is in flight); this may
     * destroy w when the close handshake is over, as in h2o */
    h2o_websocket_proceed(conn);
}

/* Write the gathered bytes (the socket is not writing; w->out stays
 * untouched until on_ws_write_complete). */
static void ws_write_out(api_ws_conn *w) {
    h2o_iovec_t buf = h2o_iovec_init(w->out, w->out_len);
    h2o_socket_write(w->ws->sock, &buf, 1, on_ws_write_complete);
}

static ssize_t ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *user_data) {
    (void)flags;
    h2o_websocket_conn_t *conn = user_data;
    api_ws_conn *w = conn->data;
    size_t room = w->out_len < SB_WS_WRITE_BYTES_MAX ? SB_WS_WRITE_BYTES_MAX - w->out_len : 0;
    if (conn->sock == NULL || h2o_socket_is_writing(conn->sock) || room == 0) {
        /* Full: write it now (as h2o's own callback does), so that h2o's
         * proceed loop, which calls wslay until a write is in flight, ends. */
        if (conn->sock != NULL && !h2o_socket_is_writing(conn->sock) && w->out_len > 0) ws_write_out(w);
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (len > room) len = room; /* wslay sends the rest later */
    if (w->out_len + len > w->out_cap) {
        size_t cap = w->out_cap ? w->out_cap : 1024;
        while (cap < w->out_len + len)
            cap *= 2;
        uint8_t *grown = sb_realloc(w->out, cap);
        if (!grown) {
            wslay_event_set_error(ctx, WSLAY_ERR_NOMEM);
            return -1;
        }
        w->out = grown;
        w->out_cap = cap;
    }
    memcpy(w->out + w->out_len, data, len);
    w->out_len += len;
    ws_mark_dirty(w); /* written at the end of the turn */
    return (ssize_t)len;
}

/* Frame what wslay has queued and write it in one go, outside wslay's
 * callbacks.  Never destroys w here (a failure dooms it; h2o reports write
 * errors later, to on_ws_write_complete). */
static void ws_flush(api_ws_conn *w) {
    h2o_socket_t *sock = w->ws->sock;
    if (sock == NULL || w->doomed || h2o_socket_is_writing(sock)) return;
    if (wslay_event_want_write(w->ws->ws_ctx) && wslay_event_send(w->ws->ws_ctx) != 0) {
        ws_doom(w, "cannot frame a message");
        return;
    }
    /* (wslay_event_send may have started the write itself when the buffer filled) */
    if (w->out_len > 0 && !h2o_socket_is_writing(sock)) ws_write_out(w);
}

void api_ws_deliver(api_thread *t, const api_thread_msg *msg) {
    (void)msg; /* a wake-up: the pushes are in the inbox */
    inbox_drain(t);
}

static void deliver_one(api_thread *t, const api_thread_msg *msg) {
    if (msg->kind == API_MSG_WS_SESSION_END) {
        ws_session_end_here(t, msg->session_user_id, msg->session_id);
        return;
    }
    for (size_t i = 0; i < msg->user_count; i++) {
        int64_t user_id = msg->user_ids[i];
        for (api_ws_conn *w = t->ws_buckets[user_hash(user_id, API_WS_BUCKETS)]; w; w = w->bucket_next)
            if (w->user_id == user_id && ws_queue_text(w, msg->text, msg->len) != SB_OK) {
                /* dropped (queue full) or closing */
            }
    }
}

/* End of the loop turn: write what every dirty connection has queued.  Each
 * is taken off the list before h2o writes, since a write error destroys it. */
static void on_write_turn(h2o_timeout_entry_t *entry) {
    api_thread *t = H2O_STRUCT_FROM_MEMBER(api_thread, ws_write_entry, entry);
    while (t->ws_dirty) {
        api_ws_conn *w = t->ws_dirty;
        t->ws_dirty = w->dirty_next;
        if (t->ws_dirty) t->ws_dirty->dirty_prev = NULL;
        w->dirty = false;
        w->dirty_next = NULL;
        ws_flush(w);
    }
}

/* Has w's session ended?  The expiry it was opened with costs nothing; the
 * store is read when the last read is an interval old and *checks_left
 * allows (a store error leaves the connection alone until the next tick). */
static const char *ws_session_ended(api_ws_conn *w, int64_t now_loop_ms, int64_t now_wall_ms, int *checks_left) {
    if (w->session_id <= 0) return NULL;
    if (now_wall_ms >= w->session_expires_at_ms) return "session_expired";
    if (*checks_left <= 0 || now_loop_ms - w->session_checked_ms < ping_interval_ms(w->thread)) return NULL;
    (*checks_left)--;
    w->session_checked_ms = now_loop_ms;
    int result = identity_session_check(w->thread->store, w->session_id, now_wall_ms);
    if (result == SB_EAUTH) return "session_revoked";
    if (result == SB_ETIMEOUT) return "session_expired";
    return NULL;
}

static void on_ping_timer(h2o_timeout_entry_t *entry) {
    api_thread *t = H2O_STRUCT_FROM_MEMBER(api_thread, ws_ping_entry, entry);
    int64_t now = loop_now_ms(t), now_wall = sb_now_ms(), interval = ping_interval_ms(t);
    int checks_left = SB_WS_SESSION_CHECKS_PER_TICK_MAX;
    api_ws_conn *w = t->ws_all;
    while (w) {
        api_ws_conn *next = w->next;
        const char *ended = NULL;
        if (!w->doomed && w->closing && now - w->closing_since_ms >= interval) {
            ws_doom(w, "no answer to the session's close");
        } else if (w->doomed || w->closing) {
            /* going */
        } else if (now - w->last_seen_ms > 2 * interval) {
            ws_doom(w, "no answer to two pings");
        } else if ((ended = ws_session_ended(w, now, now_wall, &checks_left)) != NULL) {
            ws_session_close(w, ended);
        } else if (!w->doomed && w->ws->sock != NULL) {
            struct wslay_event_msg ping = {WSLAY_PING, (const uint8_t *)"sb", 2};
            if (wslay_event_queue_msg(w->ws->ws_ctx, &ping) == 0) ws_flush(w);
        }
        w = next;
    }
    h2o_timeout_link(t->loop, &t->ws_ping_timeout, &t->ws_ping_entry);
}

void api_ws_thread_init(api_thread *t) {
    h2o_timeout_init(t->loop, &t->ws_ping_timeout, (uint64_t)ping_interval_ms(t));
    h2o_timeout_init(t->loop, &t->ws_zero_timeout, 0);
    t->ws_ping_entry.cb = on_ping_timer;
    t->ws_write_entry.cb = on_write_turn;
    ws_current_thread = t;
    h2o_timeout_link(t->loop, &t->ws_ping_timeout, &t->ws_ping_entry);
}

void api_ws_thread_shutdown(api_thread *t) {
    on_write_turn(&t->ws_write_entry);
    api_ws_conn *w = t->ws_all;
    while (w) {
        api_ws_conn *next = w->next;
        if (!w->doomed && w->ws->sock != NULL) {
            ws_close_code(w, 1001, "server shutting down");
            ws_flush(w);
        }
        w = next;
    }
}

void api_ws_thread_dispose(api_thread *t) {
    while (t->ws_all)
        ws_destroy(t->ws_all);
    inbox_drain(t); /* nobody to write to: frees what is left */
    if (h2o_timeout_is_linked(&t->ws_write_entry)) h2o_timeout_unlink(&t->ws_write_entry);
    if (h2o_timeout_is_linked(&t->ws_ping_entry)) h2o_timeout_unlink(&t->ws_ping_entry);
    h2o_timeout_dispose(t->loop, &t->ws_ping_timeout);
    h2o_timeout_dispose(t->loop, &t->ws_zero_timeout);
}
