/*
 * botapi_int.h - the inside of the Telegram-shaped Bot API, shared by its
 * files: routes_botapi.c (the route, parameters, objects, methods),
 * botapi_poll.c (parked long polls), botapi_webhook.c (the webhook sender)
 * and botapi_pay.c (invoices and pre-checkout queries).
 */
#ifndef SB_BOTAPI_INT_H
#define SB_BOTAPI_INT_H

#include "api/api_int.h"
#include "messenger/messenger.h"

/* Kinds of update, as bits of allowed_updates. */
enum {
    API_BOTAPI_MESSAGE = 1,
    API_BOTAPI_EDITED_MESSAGE = 2,
    API_BOTAPI_CALLBACK_QUERY = 4,
    API_BOTAPI_PRE_CHECKOUT_QUERY = 8,
};

/* A token bucket of the rate limits, in thousandths of a message. */
typedef struct {
    int64_t key_a, key_b;
    int64_t level_milli;
    int64_t at_ms;
} api_botapi_bucket;

/* One server's Bot API state (api_server.botapi): made by api_botapi_start,
 * freed by api_botapi_stop.  The sender's fields belong to botapi_webhook.c. */
typedef struct api_botapi {
    api_server *server;
    /* wakes of parked polls (botapi_poll.c) */
    pthread_mutex_t wake_lock;
    bool wake_open;
    _Atomic int parked_total;
    /* rate limits (routes_botapi.c) */
    pthread_mutex_t rate_lock;
    api_botapi_bucket buckets[SB_BOTAPI_RATE_BUCKETS];
    /* the sender thread (botapi_webhook.c) */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool running;
    _Atomic bool stopping;
    pthread_t tid;
    store *store;
    const char *ca_file; /* the context's CA file for https webhooks (NULL: the system's) */
    int64_t queue[SB_BOTAPI_WEBHOOK_QUEUE_MAX];
    size_t head, count;
} api_botapi;

/* The sender (botapi_webhook.c): start it on b (its own store connection to
 * the server's data location), stop and join it.  SB_EIO, store errors. */
int api_botapi_sender_start(api_botapi *b) SB_MUST_CHECK;
void api_botapi_sender_stop(api_botapi *b);

/* One method call: the request, the bot, its parameters (borrowed). */
typedef struct botapi_call {
    api_ctx *c;
    store *s;
    int64_t bot_id;
    json_t *params;
} botapi_call;

/* Answers in Telegram's shape: {"ok":true,"result":R} (R taken; NULL is
 * true) and {"ok":false,"error_code":code,"description":...} with
 * "parameters":{"retry_after":N} and a Retry-After header when N > 0. */
void api_botapi_reply_ok(api_ctx *c, json_t *result_take);
void api_botapi_reply_fail(api_ctx *c, int code, int retry_after_s, const char *fmt, ...) SB_PRINTF(4, 5);

/* Parameter readers of a call: on a missing required or malformed value
 * they answer 400 in Telegram's shape and return SB_EINVAL, so a method just
 * returns.  Integers and booleans may come as strings (form bodies). */
int api_botapi_param_int(botapi_call *call, const char *name, bool required, int64_t *out, bool *present_out);
int api_botapi_param_string(botapi_call *call, const char *name, bool required, size_t max, const char **out);
/* A Boolean: true/false, or "true"/"True"/"1"/"false"/"0" (false when absent). */
int api_botapi_param_bool(botapi_call *call, const char *name, bool *out);
/* An object or array, or a string holding one; *out a new reference or NULL when absent. */
int api_botapi_param_json(botapi_call *call, const char *name, json_t **out);
/* The inbox update a query id (callback_query.id, pre_checkout_query.id)
 * names, as its event JSON in *event_out (a new reference; NULL when there
 * is no such update of this bot) and its id in *id_out (may be NULL).  A
 * store error is answered (500) and SB_EINVAL returned. */
int api_botapi_update_event(botapi_call *call, const char *id_text, int64_t *id_out, json_t **event_out);
/* The chat named by parameter name, which the bot must be in; answers itself otherwise. */
int api_botapi_resolve_chat(botapi_call *call, const char *name, messenger_botapi_chat *out);
/* A store failure, answered as 500 (or 429 when the store was busy).  Returns SB_EINVAL. */
int api_botapi_fail_internal(botapi_call *call, int result);
/* Deliver a call's events (devices, bots' inboxes, waiting polls, webhooks) and clear them. */
void api_botapi_push(botapi_call *call, messenger_events *events);
/* 0 when the bot may send one more message to chat now, else 429 is answered and SB_ERATE returned. */
int api_botapi_rate_limited(botapi_call *call, const messenger_botapi_chat *chat);

/* Telegram objects (new references, NULL on failure): a User, a chat's id
 * and Chat as the bot sees it, a Message from a rendered message object
 * (messenger_message_render's shape) or a stored message. */
json_t *api_botapi_user(store *s, int64_t user_id);
int64_t api_botapi_chat_id(const messenger_botapi_chat *chat);
json_t *api_botapi_chat(store *s, const messenger_botapi_chat *chat);
json_t *api_botapi_message(store *s, const messenger_botapi_chat *chat, json_t *message);
json_t *api_botapi_message_of(store *s, const messenger_botapi_chat *chat, const messenger_message *m);

/* The bot's updates from from_id on, as Telegram Update objects, at most
 * limit, of the kinds in allowed (0: all), into *updates_out (a new array);
 * *skipped_below_out: rows before the first update shown that no bot sees
 * end below it (the caller may confirm them), 0 when none.  Store errors. */
int api_botapi_collect(store *s, int64_t bot_id, int64_t from_id, size_t limit, int64_t allowed, json_t **updates_out,
                       int64_t *skipped_below_out) SB_MUST_CHECK;

/* Park an empty getUpdates on the request's thread (no thread blocks):
 * answered with the updates as soon as some arrive for the bot, or [] after
 * timeout_s, or [] at shutdown.  SB_ELIMIT when SB_BOTAPI_POLLS_PARKED_MAX
 * are parked (the caller answers at once). */
int api_botapi_poll_park(api_ctx *c, int64_t bot_id, int64_t from_id, size_t limit, int64_t allowed,
                         int timeout_s) SB_MUST_CHECK;
/* An update was added to bot_id's inbox outside api_messenger_push (a
 * payment, a shared contact): wake its parked polls, queue its webhook. */
void api_botapi_wake_bot(api_server *srv, int64_t bot_id);
/* Queue a bot for the webhook sender of srv (no-op when it is not running
 * or the queue is full: the periodic sweep finds it later). */
void api_botapi_webhook_queue(api_server *srv, int64_t bot_id);

/* Payments through bots (botapi_pay.c): the two methods, and what invoices
 * add to rendering: the kind and Update field of a "bot.payment" inbox row
 * (0 when it is no update), its Update value, and a Message's invoice or
 * successful_payment fields from the message payload's "invoice". */
int api_botapi_send_invoice(botapi_call *call);
int api_botapi_answer_pre_checkout(botapi_call *call);
int api_botapi_payment_kind(json_t *event, const char **field_out);
json_t *api_botapi_payment_update(store *s, int64_t bot_id, const messenger_botapi_chat *chat, json_t *event,
                                  int64_t update_id);
void api_botapi_invoice_fields(json_t *message_out, json_t *invoice);
/* Void the holds of pre-checkout queries past their deadline and settle
 * what a crash left unsettled (the sender's sweep, on its own store
 * connection s). */
void api_botapi_invoices_expire(api_server *srv, store *s, int64_t now_ms);
/* The customer's and staff's invoice routes (registered by api_routes_botapi). */
void api_routes_botapi_pay(api_router *r);

#endif /* SB_BOTAPI_INT_H */
