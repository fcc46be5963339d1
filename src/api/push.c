/*
 * push.c - delivering messenger events: each event is rendered once and
 * sent to every open WebSocket of every recipient (on whatever thread it
 * lives; one registry lookup and one queued message per thread for the whole
 * recipient list), then the events addressed to bots are recorded in their
 * inbox (messenger_bot_updates_record, read by GET /api/bot/updates); a
 * request's pushes then reach the context's in-process bot hook.  Also the
 * push sink a server gives its application context.
 * Shared by the messenger routes, the WebSocket frames, the payment glue and
 * the maintenance thread, so every change reaches devices the same way.
 */
#include "api/api_int.h"
#include "messenger/messenger.h"

void api_messenger_push(api_server *srv, store *s, const messenger_events *events) {
    if (!events) return;
    for (size_t i = 0; i < events->count; i++) {
        const messenger_event *e = &events->items[i];
        char *json = NULL;
        size_t len = 0;
        int result = messenger_event_render(e, &json, &len);
        api_push_counters *counted = api_server_push_counters(srv);
        if (result != SB_OK) {
            atomic_fetch_add_explicit(&counted->failed, 1, memory_order_relaxed);
            sb_log(SB_LOG_ERROR, "messenger.push", "cannot render an event of chat %lld: %s", (long long)e->chat_id,
                   sb_strerror(result));
            continue;
        }
        result = api_ws_send_to_users(srv, e->recipients, e->recipient_count, json, len);
        atomic_fetch_add_explicit(result == SB_OK                                  ? &counted->pushed
                                  : result == SB_ENOTFOUND || result == SB_ECLOSED ? &counted->no_listener
                                                                                   : &counted->failed,
                                  1, memory_order_relaxed);
        if (result != SB_OK && result != SB_ECLOSED)
            sb_log(SB_LOG_WARN, "messenger.push", "push of an event of chat %lld to %zu users failed: %s",
                   (long long)e->chat_id, e->recipient_count, sb_strerror(result));
        sb_free(json);
    }
    if (!s) return;
    /* Third-party bots read their inbox over HTTP (GET /api/bot/updates). */
    int recorded = messenger_bot_updates_record(s, events, sb_now_ms());
    if (recorded != SB_OK)
        sb_log(SB_LOG_WARN, "messenger.push", "cannot record bot updates: %s", sb_strerror(recorded));
    else
        api_botapi_updates_arrived(srv, events); /* long polls waiting for them, webhooks */
}

void api_thread_push(api_thread *t, const messenger_events *events) {
    api_messenger_push(t->server, t->store, events);
    const sb_app *app = t->server->app;
    if (events) messenger_dispatch_bots(t->store, events, app->bot_hook, app->bot_hook_arg);
}

void api_ctx_push(api_ctx *c, const messenger_events *events) { api_thread_push(c->request->thread, events); }

/* ---- the push sink the application context's background threads use ---- */

static void sink_events(void *arg, store *s, const messenger_events *events) { api_messenger_push(arg, s, events); }

static int sink_text(void *arg, const int64_t *user_ids, size_t count, const char *text, size_t len) {
    return api_ws_send_to_users(arg, user_ids, count, text, len);
}

sb_app_push api_server_push_sink(api_server *srv) {
    sb_app_push push = {.events = sink_events, .text = sink_text, .arg = srv};
    return push;
}
