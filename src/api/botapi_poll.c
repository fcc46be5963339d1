/*
 * botapi_poll.c - getUpdates long polls without a thread each.
 *
 * An empty getUpdates with a timeout is parked: the request stays open in
 * h2o (no answer yet), a small record of what it asked (bot, first update
 * id, limit, kinds, deadline) goes on its loop thread's list, and the
 * thread's own event loop goes on serving.  It is answered, on that thread,
 * by whichever comes first:
 *   - updates for its bot: api_messenger_push records them, then
 *     api_botapi_updates_arrived sends one API_MSG_BOT_WAKE per thread that
 *     has parked polls; the thread re-reads the bot's inbox and answers;
 *   - its deadline: a tick every SB_BOTAPI_POLL_TICK_MS answers [];
 *   - shutdown: every parked poll is answered [] before connections close.
 * A client that goes away frees the request; the record lives in the
 * request's pool and its dispose callback takes it off the list.  At most
 * SB_BOTAPI_POLLS_PARKED_MAX are parked in the process.
 */
#include <string.h>

#include "api/botapi_int.h"

#define SB_BOTAPI_POLL_TICK_MS 250

typedef struct botapi_poll {
    struct botapi_poll *next;
    api_thread *thread;
    h2o_req_t *req;
    int64_t bot_id;
    int64_t from_id;
    size_t limit;
    int64_t allowed;
    int64_t deadline_ms; /* monotonic */
    bool parked;
} botapi_poll;

static int64_t mono_ms(void) { return sb_mono_ns() / 1000000; }

static void unlink_poll(botapi_poll *p) {
    if (!p->parked) return;
    api_thread *t = p->thread;
    for (botapi_poll **at = &t->botapi_polls; *at; at = &(*at)->next)
        if (*at == p) {
            *at = p->next;
            break;
        }
    p->parked = false;
    atomic_fetch_sub(&t->botapi_parked, 1);
    atomic_fetch_sub(&t->server->botapi->parked_total, 1);
}

/* The request's pool is being freed (answered, or the client left). */
static void on_dispose(void *obj) { unlink_poll(obj); }

static void answer(botapi_poll *p, json_t *updates_take) {
    static h2o_generator_t generator = {NULL, NULL};
    unlink_poll(p);
    h2o_req_t *req = p->req;
    json_t *body = json_pack("{s:b, s:o}", "ok", 1, "result", updates_take ? updates_take : json_array());
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    static const char fallback[] = "{\"ok\":false,\"error_code\":500,\"description\":\"Internal Server Error\"}";
    const char *out = text ? text : fallback;
    size_t len = strlen(out);
    char *copy = h2o_mem_alloc_pool(&req->pool, len);
    memcpy(copy, out, len);
    free(text); /* jansson's allocation */
    req->res.status = text ? 200 : 500;
    req->res.reason = text ? "OK" : "Internal Server Error";
    req->res.content_length = len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("application/json; charset=utf-8"));
    h2o_iovec_t iov = h2o_iovec_init(copy, len);
    h2o_start_response(req, &generator);
    h2o_send(req, &iov, 1, H2O_SEND_STATE_FINAL);
}

static void on_tick(h2o_timeout_entry_t *entry) {
    api_thread *t = H2O_STRUCT_FROM_MEMBER(api_thread, botapi_tick_entry, entry);
    int64_t now = mono_ms();
    botapi_poll *p = t->botapi_polls;
    while (p) {
        botapi_poll *next = p->next;
        if (now >= p->deadline_ms) answer(p, NULL);
        p = next;
    }
    if (t->botapi_polls) h2o_timeout_link(t->loop, &t->botapi_tick, &t->botapi_tick_entry);
}

int api_botapi_poll_park(api_ctx *c, int64_t bot_id, int64_t from_id, size_t limit, int64_t allowed, int timeout_s) {
    api_thread *t = c->request->thread;
    api_botapi *b = t->server->botapi;
    if (atomic_fetch_add(&b->parked_total, 1) >= SB_BOTAPI_POLLS_PARKED_MAX) {
        atomic_fetch_sub(&b->parked_total, 1);
        return SB_ELIMIT;
    }
    h2o_req_t *req = c->request->req;
    botapi_poll *p = h2o_mem_alloc_shared(&req->pool, sizeof *p, on_dispose);
    *p = (botapi_poll){.next = t->botapi_polls,
                       .thread = t,
                       .req = req,
                       .bot_id = bot_id,
                       .from_id = from_id,
                       .limit = limit,
                       .allowed = allowed,
                       .deadline_ms = mono_ms() + (int64_t)timeout_s * 1000,
                       .parked = true};
    t->botapi_polls = p;
    atomic_fetch_add(&t->botapi_parked, 1);
    if (!t->botapi_tick_ready) {
        h2o_timeout_init(t->loop, &t->botapi_tick, SB_BOTAPI_POLL_TICK_MS);
        t->botapi_tick_entry.cb = on_tick;
        t->botapi_tick_ready = true;
    }
    if (!h2o_timeout_is_linked(&t->botapi_tick_entry))
        h2o_timeout_link(t->loop, &t->botapi_tick, &t->botapi_tick_entry);
    api_connection_upgraded(req); /* the request is complete: no slow-request timer while it waits */
    api_reply_mark(c, 200);       /* answered later, by answer() */
    return SB_OK;
}

void api_botapi_polls_wake(api_thread *t, int64_t bot_id) {
    botapi_poll *p = t->botapi_polls;
    while (p) {
        botapi_poll *next = p->next;
        if (p->bot_id == bot_id) {
            json_t *updates = NULL;
            int64_t skipped = 0;
            int result = api_botapi_collect(t->store, bot_id, p->from_id, p->limit, p->allowed, &updates, &skipped);
            if (result != SB_OK)
                sb_log(SB_LOG_WARN, "botapi.poll", "bot %lld: cannot read updates: %s", (long long)bot_id,
                       sb_strerror(result));
            if (result == SB_OK && json_array_size(updates) > 0)
                answer(p, updates);
            else
                json_decref(updates);
        }
        p = next;
    }
}

void api_botapi_polls_shutdown(api_thread *t) {
    while (t->botapi_polls)
        answer(t->botapi_polls, NULL);
    if (t->botapi_tick_ready) {
        if (h2o_timeout_is_linked(&t->botapi_tick_entry)) h2o_timeout_unlink(&t->botapi_tick_entry);
        h2o_timeout_dispose(t->loop, &t->botapi_tick);
        t->botapi_tick_ready = false;
    }
}

int api_botapi_start(api_server *srv) {
    api_botapi *b = sb_calloc(1, sizeof *b);
    if (!b) return SB_ENOMEM;
    b->server = srv;
    pthread_mutex_init(&b->wake_lock, NULL);
    pthread_mutex_init(&b->rate_lock, NULL);
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->cond, NULL);
    b->wake_open = true;
    srv->botapi = b;
    int result = api_botapi_sender_start(b);
    if (result != SB_OK)
        sb_log(SB_LOG_ERROR, "botapi.sender",
               "the Bot API sender is not running (no webhooks, no invoice deadlines): %s", sb_strerror(result));
    return SB_OK;
}

void api_botapi_wake_close(api_server *srv) {
    api_botapi *b = srv->botapi;
    if (!b) return;
    pthread_mutex_lock(&b->wake_lock);
    b->wake_open = false;
    pthread_mutex_unlock(&b->wake_lock);
}

void api_botapi_stop(api_server *srv) {
    api_botapi *b = srv->botapi;
    if (!b) return;
    api_botapi_wake_close(srv);
    api_botapi_sender_stop(b);
    srv->botapi = NULL;
    pthread_mutex_destroy(&b->wake_lock);
    pthread_mutex_destroy(&b->rate_lock);
    pthread_mutex_destroy(&b->lock);
    pthread_cond_destroy(&b->cond);
    sb_free(b);
}

static void wake_threads(api_server *srv, int64_t bot_id) {
    for (int i = 0; i < srv->nthreads; i++) {
        api_thread *t = &srv->threads[i];
        if (atomic_load(&t->botapi_parked) == 0) continue;
        api_thread_msg *msg = sb_calloc(1, sizeof *msg);
        if (!msg) {
            sb_log(SB_LOG_WARN, "botapi.poll", "out of memory: a long poll of bot %lld waits for its deadline",
                   (long long)bot_id);
            continue;
        }
        msg->kind = API_MSG_BOT_WAKE;
        msg->bot_id = bot_id;
        h2o_multithread_send_message(&t->receiver, &msg->super);
    }
}

void api_botapi_updates_arrived(api_server *srv, const messenger_events *events) {
    api_botapi *b = srv ? srv->botapi : NULL;
    if (!events || !b) return;
    pthread_mutex_lock(&b->wake_lock);
    bool open = b->wake_open;
    for (size_t i = 0; open && i < events->count; i++) {
        const messenger_event *ev = &events->items[i];
        for (size_t k = 0; k < ev->bot_recipient_count; k++) {
            if (ev->bot_recipients[k] == ev->actor_id) continue; /* not recorded: a bot does not hear itself */
            if (atomic_load(&b->parked_total) > 0) wake_threads(srv, ev->bot_recipients[k]);
            api_botapi_webhook_queue(srv, ev->bot_recipients[k]);
        }
    }
    pthread_mutex_unlock(&b->wake_lock);
}

void api_botapi_wake_bot(api_server *srv, int64_t bot_id) {
    int64_t one = bot_id;
    messenger_events events = {0};
    events.count = 1;
    events.items[0].bot_recipients = &one;
    events.items[0].bot_recipient_count = 1;
    api_botapi_updates_arrived(srv, &events); /* not cleared: nothing in it is owned */
}
