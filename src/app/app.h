/*
 * app.h - the application context: everything one running SocialBank
 * server is wired with, built once by `serve` (or by a test) and passed
 * down, as SQLite passes its connection and nginx its cycle.  No module
 * keeps a mutable global or a setter for wiring, so two servers (two data
 * directories, two ports) can run in one process and share nothing.
 *
 * What it holds:
 *   - the store location every thread opens its own connection to;
 *   - payments: the running ledger, the fee and limit policy, the card
 *     switch, as a payops_ctx whose store each user fills with its own;
 *   - listening: the configuration every listening context is opened with
 *     (the understander, raw-text sealing, the alert sink, the reply hook);
 *   - the messenger hooks (the in-process bot hook, the channel-comment hook);
 *   - media: where photos, files and voice notes of chats are stored;
 *   - the push sink: how an event or a JSON text reaches people's open
 *     WebSockets (the api server gives it; this module does not depend on
 *     the api, which takes a pointer to the context).
 *
 * Two ways to build one: field by field (a test that wants a server with
 * only part of the wiring: zero the struct, set what it needs), or
 * sb_app_init, which opens everything `serve` runs and starts the
 * background threads (see docs/ARCHITECTURE.md, "Run-time wiring").
 *
 * Depends on ledger, payments, listening, media, messenger, bankbot, chatpay,
 * identity, store, core.
 */
#ifndef SB_APP_H
#define SB_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "identity/identity.h"
#include "listening/listening.h"
#include "media/media.h"
#include "messenger/messenger.h"
#include "payments/ops.h"
#include "store/store.h"

/* How changes reach devices: `events` renders messenger events and pushes
 * them to their recipients' WebSockets and records bot recipients' updates
 * (not the in-process bot hook: sb_app_push_events adds that); `text`
 * pushes one JSON text to the open WebSockets of count users (SB_ECLOSED
 * while the server is not running).  Both callable from any thread.
 * All NULL: nothing is pushed (a test without a server). */
typedef struct {
    void (*events)(void *arg, store *s, const messenger_events *events);
    int (*text)(void *arg, const int64_t *user_ids, size_t count, const char *text, size_t len);
    void *arg;
} sb_app_push;

typedef struct sb_app_parts sb_app_parts; /* what sb_app_init opened (app.c) */

typedef struct sb_app {
    const char *data_location; /* store_open location; borrowed */
    const char *ca_file;       /* options.ca_file, for the server's outbound calls (bot webhooks); borrowed */
    /* Payments: while !payments_ready the payment routes answer 503. */
    bool payments_ready;
    payops_ctx payments; /* .s is NULL: each user fills in its own connection */
    /* Listening: while !listening_ready the listening routes answer 503. */
    bool listening_ready;
    listening_config listening;
    /* Media in chats (NULL: the media routes answer 503). */
    media *media;
    /* The outbound reply sender (listening.outbound is set with it); NULL: none.
     * Routes wake it after a reply's commit. */
    listening_outbound *outbound;
    /* The messenger hooks (NULL fn: none). */
    messenger_bot_hook_fn bot_hook;
    void *bot_hook_arg;
    messenger_comment_hook_fn comment_hook;
    void *comment_hook_arg;
    sb_app_push push;
    /* One-time codes (routes_auth): NULL answers 503 for a code request. */
    identity_sender *otp;
    sb_app_parts *parts; /* owned by sb_app_init/sb_app_close; NULL when built by hand */
} sb_app;

/* What `serve` asks for. */
typedef struct {
    const char *data_location; /* required; migrated by sb_app_init */
    const char *card_switch;   /* "none" (card-to-card answers 503) or "sim" (the simulator) */
    const char *model_path;    /* the classifier for listening and the bot; NULL or unloadable: none */
    bool listening_store_raw;  /* keep raw text sealed with listening_key */
    unsigned char listening_key[LISTENING_KEY_BYTES];
    const char *listening_webhook; /* http:// URL alerts are POSTed to; NULL: none */
    /* http:// URL of the integration service replies to external networks
     * are POSTed to (the webhook outbound connector); NULL: none, replies are
     * recorded to post by hand.  backoff_ms: the first retry's wait (0: default). */
    const char *listening_outbound;
    int64_t listening_outbound_backoff_ms;
    bool maintenance;           /* run the maintenance thread (serve: true) */
    const char *media_scan_cmd; /* NULL: none; see media_options.scan_cmd */
    const char *otp_sender;     /* "log" or "webhook"; NULL: "log" */
    const char *otp_webhook;    /* http(s):// URL for "webhook" */
    const char *ca_file;        /* CAs outbound HTTPS trusts instead of the system's; NULL: system */
} sb_app_options;

/* Build the whole context into *app (zeroed first) as `serve` runs it:
 * migrate the store; open the ledger and the payment operations (with the
 * card-switch simulator for "sim"); start the code sender; load the model;
 * start the alert sender,
 * the maintenance thread (request expiry, card-to-card reconciliation,
 * chat payment expiry, the listening tick), @bankbot with its delivery
 * thread (a failure to start the bot is logged and the rest runs), and the
 * channel-comment feed.  push is the sink the background threads push
 * through (api_server_push_sink of a server created before, or zeros); it is
 * copied into app->push before any thread starts.  *app must stay at its
 * address until sb_app_close (threads point at it).  SB_EINVAL for bad
 * options (a bad webhook URL, an unknown switch), store, ledger, thread
 * errors; on error nothing is left open. */
int sb_app_init(sb_app *app, const sb_app_options *options, sb_app_push push) SB_MUST_CHECK;

/* Stop what sb_app_init started (the channel feed stores what is queued,
 * the bot sends its queued replies, the maintenance thread finishes its
 * pass, the alert sender delivers for a bounded time), close the ledger and
 * wipe the keys (a maintenance pass stuck past its stop deadline keeps the
 * context: then it is left open, logged).  Call after the server's loops
 * have stopped.  A context
 * built by hand (parts NULL) is only wiped.  NULL allowed. */
void sb_app_close(sb_app *app);

/* Push events through app->push, then hand bot recipients' events to the
 * bot hook over s (the caller's connection, outside any transaction; NULL
 * skips the hook). */
void sb_app_push_events(const sb_app *app, store *s, const messenger_events *events);

/* An adapter for the domain modules' push callbacks (chatpay_push_fn,
 * bankbot_push_fn): arg is the sb_app. */
void sb_app_push_callback(store *s, const messenger_events *events, void *arg);

/* The context's workers (code sender, alert sender, channel feed, bot
 * delivery, maintenance; NULL for one not running) into out (out_max >=
 * SB_APP_WORKERS_MAX); the count written.  For /metrics. */
#define SB_APP_WORKERS_MAX 8
size_t sb_app_workers(const sb_app *app, sb_worker **out, size_t out_max);

/* A context's payops_ctx over s (the caller's connection).  SB_ECLOSED
 * while payments are not ready. */
int sb_app_payments(const sb_app *app, store *s, payops_ctx *out) SB_MUST_CHECK;
/* The channel-comment feed sb_app_init started (its counters are on
 * /metrics), or NULL (none, or a context built by hand).  Borrowed. */
listening_feed *sb_app_feed(const sb_app *app);

#endif /* SB_APP_H */
