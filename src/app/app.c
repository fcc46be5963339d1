/*
 * app.c - building and closing the application context `serve` runs with:
 * the ledger and payment operations (with the card-switch simulator when
 * asked), the text engine as listening's understander (loaded once, shared
 * read-only by every thread), the alert sender, the maintenance thread,
 * @bankbot and the channel-comment feed.  Every one of them is reached
 * through the context; nothing here is process-wide.
 *
 * Who owns which thread (see docs/ARCHITECTURE.md, "Run-time wiring"):
 * the ledger's writer (ledger_open), and the workers (core's sb_worker) of
 * the code sender (identity_sender_start), the alert sender
 * (listening_alerts_start), the maintenance tick (below), the bot's
 * delivery (bankbot_delivery_start) and the channel feed
 * (listening_feed_start) belong to the context and stop in sb_app_close;
 * the HTTP loops belong to the api server.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "bankbot/bankbot.h"
#include "chatpay/chatpay.h"
#include "ledger/ledger.h"
#include "payments/switch.h"

/* The bank's source card the simulator debits for card-to-card (a
 * persian-tools test vector, Keshavarzi), and its float in the simulator. */
#define APP_SIM_SOURCE_CARD "6037701689095443"
#define APP_SIM_SOURCE_FLOAT_MINOR INT64_C(1000000000000)
/* A destination card the simulator knows (persian-tools vector, Saman), so
 * that card-to-card can be tried end to end; other cards are unknown (404). */
#define APP_SIM_DEST_CARD "6219861034529007"

struct sb_app_parts {
    ledger *ledger;
    payments_policy policy;
    payments_switch_sim *sim;
    payments_switch sw;
    payments_card source;
    listening_text_engine *engine;
    listening_alerts *alerts;
    listening_outbound_webhook_state outbound_state;
    sb_worker *maintenance; /* periodic: no jobs, a tick */
    int64_t c2c_cursor;     /* the maintenance tick's: where the next reconcile pass goes on */
    bankbot *bot;
    listening_feed *feed;
};

/* ---- pushing ---- */

void sb_app_push_events(const sb_app *app, store *s, const messenger_events *events) {
    if (!app || !events) return;
    if (app->push.events) app->push.events(app->push.arg, s, events);
    if (s) messenger_dispatch_bots(s, events, app->bot_hook, app->bot_hook_arg);
}

void sb_app_push_callback(store *s, const messenger_events *events, void *arg) { sb_app_push_events(arg, s, events); }

int sb_app_payments(const sb_app *app, store *s, payops_ctx *out) {
    if (!app || !app->payments_ready) return SB_ECLOSED;
    *out = app->payments;
    out->s = s;
    return SB_OK;
}

static int app_push_text(void *arg, const int64_t *user_ids, size_t count, const char *text, size_t len) {
    const sb_app *app = arg;
    if (!app->push.text) return SB_ECLOSED;
    return app->push.text(app->push.arg, user_ids, count, text, len);
}

size_t sb_app_workers(const sb_app *app, sb_worker **out, size_t out_max) {
    size_t n = 0;
    if (!app || out_max < SB_APP_WORKERS_MAX) return 0;
    if (app->otp) out[n++] = identity_sender_worker(app->otp);
    const sb_app_parts *p = app->parts;
    if (p && p->alerts) out[n++] = listening_alerts_worker(p->alerts);
    if (p && p->feed) out[n++] = listening_feed_worker(p->feed);
    if (p && p->bot) out[n++] = bankbot_delivery_worker(p->bot);
    if (p && p->maintenance) out[n++] = p->maintenance;
    return n;
}

/* ---- money ---- */

/* Migrate, open the ledger, create the bank's accounts; the simulator when
 * switch_name is "sim". */
static int money_open(const char *data, const char *switch_name, sb_app_parts *p) {
    store *s;
    int result = store_open(data, NULL, &s);
    if (result != SB_OK) return result;
    result = store_migrate(s, NULL);
    ledger_options options = {.location = data};
    if (result == SB_OK) result = ledger_open(&options, &p->ledger);
    payments_policy_default(&p->policy);
    if (result == SB_OK && strcmp(switch_name, "sim") == 0) {
        payments_reason reason;
        result = payments_switch_sim_create(&p->sim);
        if (result == SB_OK) result = payments_card_parse(APP_SIM_SOURCE_CARD, &p->source, &reason);
        if (result == SB_OK)
            result =
                payments_switch_sim_add_card(p->sim, APP_SIM_SOURCE_CARD, "SocialBank", APP_SIM_SOURCE_FLOAT_MINOR);
        if (result == SB_OK) result = payments_switch_sim_add_card(p->sim, APP_SIM_DEST_CARD, "Sim Card Holder", 0);
        if (result == SB_OK) p->sw = payments_switch_sim_adapter(p->sim);
    }
    payops_ctx ctx = {.s = s, .l = p->ledger, .policy = &p->policy};
    if (result == SB_OK) result = payops_init(&ctx);
    store_close(s);
    return result;
}

static void money_close(sb_app_parts *p) {
    ledger_close(p->ledger);
    payments_switch_sim_free(p->sim);
    payments_card_wipe(&p->source);
    p->ledger = NULL;
    p->sim = NULL;
}

/* ---- maintenance: one thread, its own store connection ---- */

/* The listening tick: escalations, reassignment, alerts. */
static void listening_tick_pass(const sb_app *app, store *s, int64_t now_ms) {
    if (!app->listening_ready) return;
    listening *l;
    int result = listening_open(s, &app->listening, &l);
    listening_tick_result r = {0};
    if (result == SB_OK) result = listening_tick(l, now_ms, &r);
    listening_close(l);
    if (result != SB_OK) {
        sb_log(SB_LOG_WARN, "serve.maintenance", "listening tick failed: %s", sb_strerror(result));
        return;
    }
    if (r.escalated || r.reassigned || r.alerts)
        sb_log(SB_LOG_INFO, "serve.maintenance", "listening: %zu escalated, %zu reassigned, %zu alerts", r.escalated,
               r.reassigned, r.alerts);
}

/* One pass, bounded: expire at most SB_PAYOPS_REQUEST_EXPIRE_PASS_MAX due
 * requests (and at most SB_CHATPAY_EXPIRE_BATCH_MAX chat messages), then
 * (with a switch) reconcile at most SB_PAYOPS_C2C_RECONCILE_PASS_MAX
 * card-to-cards from the cursor, then the listening tick; what is left waits
 * for the next pass. */
static void maintenance_pass(sb_app *app, store *s, int64_t *c2c_cursor) {
    int64_t now_ms = sb_now_ms(), expired = 0, settled = 0;
    payops_ctx ctx;
    if (sb_app_payments(app, s, &ctx) == SB_OK) {
        int result = payops_request_expire_due(&ctx, now_ms, SB_PAYOPS_REQUEST_EXPIRE_PASS_MAX, &expired);
        if (result != SB_OK) sb_log(SB_LOG_WARN, "serve.maintenance", "request expiry failed: %s", sb_strerror(result));
        /* Chat messages of the requests just expired turn expired, pushed live. */
        chatpay_ctx chat = {.ops = ctx, .push = sb_app_push_callback, .push_arg = app};
        int64_t chat_updated = 0;
        result = chatpay_expire_due(&chat, now_ms, &chat_updated);
        if (result != SB_OK)
            sb_log(SB_LOG_WARN, "serve.maintenance", "chat payment expiry failed: %s", sb_strerror(result));
        if (ctx.sw) {
            result = payops_c2c_reconcile(&ctx, now_ms, SB_PAYOPS_C2C_RECONCILE_PASS_MAX, c2c_cursor, &settled);
            if (result != SB_OK)
                sb_log(SB_LOG_WARN, "serve.maintenance", "card-to-card reconcile failed: %s", sb_strerror(result));
        }
        if (expired || settled)
            sb_log(SB_LOG_INFO, "serve.maintenance", "%lld requests expired, %lld card-to-card transfers settled",
                   (long long)expired, (long long)settled);
    }
    listening_tick_pass(app, s, sb_now_ms());
    if (app->media) {
        size_t removed = 0;
        int result = media_sweep(app->media, s, sb_now_ms(), &removed);
        if (result != SB_OK) sb_log(SB_LOG_WARN, "serve.maintenance", "media sweep failed: %s", sb_strerror(result));
        if (removed) sb_log(SB_LOG_INFO, "serve.maintenance", "%zu media files no message holds removed", removed);
    }
}

static void maintenance_tick(void *arg, void *local, sb_worker *w) {
    (void)w;
    sb_app *app = arg;
    if (local) maintenance_pass(app, local, &app->parts->c2c_cursor); /* without a store: logged at start */
}

/* The maintenance worker: a tick at start, then every
 * SB_SERVE_MAINTENANCE_INTERVAL_MS; stop lets the pass in hand finish. */
static int maintenance_start(sb_app *app) {
    sb_worker_config cfg = {.name = "maintenance",
                            .job_bytes = 1,
                            .queue_max = 1,
                            .period_ms = SB_SERVE_MAINTENANCE_INTERVAL_MS,
                            .stop_wait_ms = SB_SERVE_MAINTENANCE_STOP_WAIT_MS,
                            .arg = app,
                            .thread_start = store_open_local,
                            .thread_end = store_close_local,
                            .thread_arg = (void *)app->data_location,
                            .tick = maintenance_tick};
    return sb_worker_launch(&cfg, &app->parts->maintenance);
}

/* ---- the bank's service bot ---- */

/* Create @bankbot if missing, hook it into the context, start its delivery
 * thread, and let agents' case replies reach its chats.  It understands and
 * hands off through the context's listening configuration. */
static int bot_start(sb_app *app) {
    sb_app_parts *p = app->parts;
    store *s = NULL;
    int result = store_open(app->data_location, NULL, &s);
    bankbot_config cfg = {
        .payments = app->payments, .listening = app->listening, .push = sb_app_push_callback, .push_arg = app};
    if (result == SB_OK) result = bankbot_open(s, &cfg, sb_now_ms(), &p->bot);
    store_close(s);
    sodium_memzero(&cfg.listening, sizeof cfg.listening);
    if (result != SB_OK) return result;
    /* hooked before its delivery thread starts: that thread pushes through app */
    app->bot_hook = bankbot_on_event;
    app->bot_hook_arg = p->bot;
    result = bankbot_delivery_start(p->bot, app->data_location);
    if (result != SB_OK) {
        app->bot_hook = NULL;
        app->bot_hook_arg = NULL;
        bankbot_close(p->bot);
        p->bot = NULL;
        return result;
    }
    app->listening.reply_hook = bankbot_reply_hook(p->bot);
    return SB_OK;
}

/* ---- listening: comments on the bank's channel ----
 * The comment hook runs right after the comment's commit on the HTTP thread
 * that took the request, without a store: it only copies the comment into
 * the feed's bounded queue (listening_channel.c) and returns; the feed's
 * own thread, with its own store connection, understands it and ingests it
 * as an own_channel post, so a slow classifier never slows HTTP.  When the
 * queue is full (SB_LISTENING_FEED_QUEUE_MAX) the comment is dropped from
 * listening, counted and logged; it stays in the messenger. */
static void channel_comment(const messenger_message *comment, void *arg) {
    listening_feed *feed = arg;
    if (!comment->text) return; /* deleted before it got here */
    listening_post post;
    char ids[LISTENING_CHANNEL_IDS_BYTES];
    listening_channel_post(comment->chat_id, comment->seq, comment->sender_id, comment->created_at_ms, comment->text,
                           &post, ids);
    int result = listening_feed_push(feed, &post);
    if (result != SB_OK && result != SB_EBUSY) /* full: counted and logged by the feed */
        sb_log(SB_LOG_WARN, "listening.channel", "comment %lld/%lld not queued: %s", (long long)comment->chat_id,
               (long long)comment->seq, sb_strerror(result));
}

static void feed_stop(listening_feed *feed) {
    if (!feed) return;
    listening_feed_stats stats;
    listening_feed_stats_get(feed, &stats);
    listening_feed_stop(feed);
    sb_log(SB_LOG_INFO, "listening.channel", "%llu comments queued, %llu dropped, %llu lost to store errors",
           (unsigned long long)stats.queued, (unsigned long long)stats.dropped, (unsigned long long)stats.failed);
}

/* ---- the listening configuration ---- */

static int listening_open_parts(sb_app *app, const sb_app_options *o) {
    sb_app_parts *p = app->parts;
    if (o->model_path) {
        char err[TEXT_ERROR_BYTES] = "";
        int loaded = listening_text_engine_open(o->model_path, &p->engine, err);
        if (loaded != SB_OK)
            sb_log(SB_LOG_WARN, "listening.model",
                   "cannot load the model %s (%s): posts are stored without understanding", o->model_path,
                   err[0] ? err : sb_strerror(loaded));
        else
            sb_log(SB_LOG_INFO, "listening.model", "understanding posts with the model %s", o->model_path);
    }
    if (p->engine) app->listening.understander = listening_text_understander(p->engine);
    if (o->listening_store_raw) {
        app->listening.store_raw = true;
        memcpy(app->listening.raw_key, o->listening_key, LISTENING_KEY_BYTES);
    }
    int result =
        listening_alerts_start(app->data_location, o->listening_webhook, o->ca_file, app_push_text, app, &p->alerts);
    if (result != SB_OK) return result;
    app->listening.alert_sink = listening_alerts_sink(p->alerts);
    if (o->listening_outbound) {
        result = sb_http_url_check(o->listening_outbound, SB_LISTENING_WEBHOOK_URL_BYTES_MAX);
        if (result == SB_OK) {
            snprintf(p->outbound_state.url, sizeof p->outbound_state.url, "%s", o->listening_outbound);
            p->outbound_state.ca_file = o->ca_file;
        }
        if (result == SB_OK)
            result = listening_outbound_start(app->data_location, listening_outbound_webhook(&p->outbound_state),
                                              o->listening_outbound_backoff_ms, &app->outbound);
        if (result != SB_OK) return result;
        app->listening.outbound = true;
        sb_log(SB_LOG_INFO, "listening.outbound", "replies to external networks go to the webhook connector");
    }
    app->listening_ready = true;
    return SB_OK;
}

/* ---- the whole context ---- */

int sb_app_init(sb_app *app, const sb_app_options *o, sb_app_push push) {
    memset(app, 0, sizeof *app);
    if (!o || !o->data_location || !o->card_switch ||
        (strcmp(o->card_switch, "none") != 0 && strcmp(o->card_switch, "sim") != 0))
        return SB_EINVAL;
    app->data_location = o->data_location;
    app->ca_file = o->ca_file;
    app->push = push;
    if (!(app->parts = sb_calloc(1, sizeof *app->parts))) return SB_ENOMEM;
    sb_app_parts *p = app->parts;
    int result = money_open(o->data_location, o->card_switch, p);
    if (result != SB_OK) {
        sb_log(SB_LOG_ERROR, "serve.ledger", "cannot open the ledger: %s", sb_strerror(result));
        goto fail;
    }
    app->payments = (payops_ctx){.l = p->ledger, .policy = &p->policy};
    if (p->sim) {
        app->payments.sw = &p->sw;
        app->payments.c2c_source = &p->source;
    }
    app->payments_ready = true;
    result = identity_sender_start(o->otp_sender ? o->otp_sender : "log", o->otp_webhook, o->ca_file, &app->otp);
    if (result != SB_OK) {
        sb_log(SB_LOG_ERROR, "serve.otp", "cannot start the code sender: %s", sb_strerror(result));
        goto fail;
    }
    result =
        media_open(&(media_options){.data_location = o->data_location, .scan_cmd = o->media_scan_cmd}, &app->media);
    if (result != SB_OK) {
        sb_log(SB_LOG_ERROR, "serve.media", "cannot open the media store: %s", sb_strerror(result));
        goto fail;
    }
    result = listening_open_parts(app, o);
    if (result != SB_OK) {
        sb_log(SB_LOG_ERROR, "serve.listening", "cannot start the alert sender: %s", sb_strerror(result));
        goto fail;
    }
    /* Without its bot the bank still serves (a user squatting the bot's name
     * must not keep the server down): the failure is logged loudly. */
    int bot = bot_start(app);
    if (bot != SB_OK) sb_log(SB_LOG_ERROR, "serve.bankbot", "the service bot is not running: %s", sb_strerror(bot));
    listening_config feed_cfg = app->listening; /* the one model, raw sealing as configured */
    result = listening_feed_start(app->data_location, &feed_cfg, SB_LISTENING_FEED_QUEUE_MAX, &p->feed);
    sodium_memzero(&feed_cfg, sizeof feed_cfg);
    if (result != SB_OK) {
        sb_log(SB_LOG_ERROR, "serve.listening", "cannot start the channel listening feed: %s", sb_strerror(result));
        goto fail;
    }
    app->comment_hook = channel_comment;
    app->comment_hook_arg = p->feed;
    if (o->maintenance && (result = maintenance_start(app)) != SB_OK) {
        sb_log(SB_LOG_ERROR, "serve.maintenance", "cannot start the maintenance thread");
        goto fail;
    }
    return SB_OK;
fail:
    sb_app_close(app);
    return result;
}

void sb_app_close(sb_app *app) {
    if (!app) return;
    sb_app_parts *p = app->parts;
    if (p) {
        app->comment_hook = NULL;
        feed_stop(p->feed); /* stores what is queued */
        /* the pass in hand finishes; one stuck past the deadline still uses
         * the context and its ledger, so they are left to it (logged) */
        if (!sb_worker_stop(p->maintenance)) {
            sb_log(SB_LOG_ERROR, "serve.maintenance",
                   "a pass is stuck past the stop deadline: the context is left open");
            return;
        }
        bankbot_close(p->bot); /* its delivery thread pushed through the hook */
        app->bot_hook = NULL;
        app->listening.reply_hook = (listening_reply_hook){0};
        app->listening_ready = false;
        listening_outbound_stop(app->outbound); /* a send in flight finishes; the rest stays pending */
        app->outbound = NULL;
        listening_alerts_stop(p->alerts);
        listening_text_engine_free(p->engine);
        identity_sender_stop(app->otp);
        app->otp = NULL;
        app->payments_ready = false;
        media_close(app->media);
        app->media = NULL;
        money_close(p);
        sb_free(p);
    }
    sodium_memzero(app, sizeof *app);
}

listening_feed *sb_app_feed(const sb_app *app) { return app && app->parts ? app->parts->feed : NULL; }
