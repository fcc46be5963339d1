/*
 * cli_serve.c - `socialbank serve`: migrate the store, start the code sender,
 * open the ledger and the payment operations (with the card-switch simulator
 * when asked), run the HTTP/WebSocket server until SIGTERM or SIGINT, and
 * close the ledger after the HTTP loops have stopped.  Beside the loops a
 * maintenance thread expires due money requests and reconciles card-to-card
 * transfers the switch left unanswered, so no hold is left hanging.  Comments
 * on the bank's channel go to listening through a bounded feed with its own
 * thread (the channel listening block below).
 */
#include <errno.h>
#include <stdlib.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "chatpay/chatpay.h"
#include "bankbot/bankbot.h"
#include "cli/cli.h"
#include "core/core.h"
#include "identity/identity.h"
#include "ledger/ledger.h"
#include "listening/listening.h"
#include "messenger/messenger.h"
#include "payments/ops.h"
#include "payments/switch.h"
#include "store/store.h"

/* The bank's source card the simulator debits for card-to-card (a
 * persian-tools test vector, Keshavarzi), and its float in the simulator. */
#define SERVE_SIM_SOURCE_CARD "6037701689095443"
#define SERVE_SIM_SOURCE_FLOAT_MINOR INT64_C(1000000000000)
/* A destination card the simulator knows (persian-tools vector, Saman), so
 * that card-to-card can be tried end to end; other cards are unknown (404). */
#define SERVE_SIM_DEST_CARD "6219861034529007"

typedef struct {
    ledger *l;
    payments_policy policy;
    payments_switch_sim *sim;
    payments_switch sw;
    payments_card source;
} serve_money;

static void serve_money_close(serve_money *m) {
    ledger_close(m->l);
    payments_switch_sim_free(m->sim);
    payments_card_wipe(&m->source);
    m->l = NULL;
    m->sim = NULL;
}

/* Migrate, open the ledger, create the bank's accounts; the simulator when
 * switch_name is "sim".  On error everything is closed again. */
static int serve_money_open(const char *data, const char *switch_name, serve_money *m) {
    store *s;
    int result = store_open(data, NULL, &s);
    if (result != SB_OK) return result;
    result = store_migrate(s, NULL);
    ledger_options options = {.location = data};
    if (result == SB_OK) result = ledger_open(&options, &m->l);
    payments_policy_default(&m->policy);
    if (result == SB_OK && strcmp(switch_name, "sim") == 0) {
        payments_reason reason;
        result = payments_switch_sim_create(&m->sim);
        if (result == SB_OK) result = payments_card_parse(SERVE_SIM_SOURCE_CARD, &m->source, &reason);
        if (result == SB_OK)
            result =
                payments_switch_sim_add_card(m->sim, SERVE_SIM_SOURCE_CARD, "SocialBank", SERVE_SIM_SOURCE_FLOAT_MINOR);
        if (result == SB_OK) result = payments_switch_sim_add_card(m->sim, SERVE_SIM_DEST_CARD, "Sim Card Holder", 0);
        if (result == SB_OK) m->sw = payments_switch_sim_adapter(m->sim);
    }
    payops_ctx ctx = {.s = s, .l = m->l, .policy = &m->policy};
    if (result == SB_OK) result = payops_init(&ctx);
    store_close(s);
    if (result != SB_OK) serve_money_close(m);
    return result;
}

/* ---- maintenance: one thread, its own store connection ---- */
typedef struct {
    payops_ctx ctx; /* store filled by the thread */
    const char *data;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;
    pthread_t thread;
    bool started;
    /* listening (listenapi): its tick, may be NULL */
    const cli_serve_listening *listening;
} serve_maintenance;

static void serve_push(store *s, const messenger_events *events, void *arg) {
    (void)arg;
    api_messenger_push(s, events);
}

/* One pass: expire due requests (and their chat messages), then (with a
 * switch) reconcile. */
static void serve_maintenance_pass(serve_maintenance *m) {
    int64_t now_ms = sb_now_ms(), expired = 0, settled = 0;
    int result = payops_request_expire_due(&m->ctx, now_ms, &expired);
    if (result != SB_OK) sb_log(SB_LOG_WARN, "serve.maintenance", "request expiry failed: %s", sb_strerror(result));
    /* Chat messages of the requests just expired turn expired, pushed live. */
    chatpay_ctx chat = {.ops = m->ctx, .push = serve_push};
    int64_t chat_updated = 0;
    result = chatpay_expire_due(&chat, now_ms, &chat_updated);
    if (result != SB_OK) sb_log(SB_LOG_WARN, "serve.maintenance", "chat payment expiry failed: %s", sb_strerror(result));
    if (m->ctx.sw) {
        result = payops_c2c_reconcile(&m->ctx, now_ms, &settled);
        if (result != SB_OK)
            sb_log(SB_LOG_WARN, "serve.maintenance", "card-to-card reconcile failed: %s", sb_strerror(result));
    }
    if (expired || settled)
        sb_log(SB_LOG_INFO, "serve.maintenance", "%lld requests expired, %lld card-to-card transfers settled",
               (long long)expired, (long long)settled);
    /* ---- listening (listenapi): escalations, reassignment, alerts ---- */
    cli_serve_listening_tick(m->listening, m->ctx.s, sb_now_ms());
}

static void *serve_maintenance_main(void *arg) {
    serve_maintenance *m = arg;
    store *s = NULL;
    int result = store_open(m->data, NULL, &s);
    if (result != SB_OK) {
        sb_log(SB_LOG_ERROR, "serve.maintenance", "cannot open the store: %s", sb_strerror(result));
        return NULL;
    }
    m->ctx.s = s;
    pthread_mutex_lock(&m->lock);
    while (!m->stop) {
        pthread_mutex_unlock(&m->lock);
        serve_maintenance_pass(m);
        pthread_mutex_lock(&m->lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += SB_SERVE_MAINTENANCE_INTERVAL_MS / 1000;
        until.tv_nsec += (SB_SERVE_MAINTENANCE_INTERVAL_MS % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!m->stop && pthread_cond_timedwait(&m->wake, &m->lock, &until) != ETIMEDOUT) {
        }
    }
    pthread_mutex_unlock(&m->lock);
    store_close(s);
    return NULL;
}

static int serve_maintenance_start(serve_maintenance *m, const payops_ctx *base, const char *data) {
    m->ctx = *base;
    m->data = data;
    m->stop = false;
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->wake, NULL);
    if (pthread_create(&m->thread, NULL, serve_maintenance_main, m) != 0) {
        pthread_cond_destroy(&m->wake);
        pthread_mutex_destroy(&m->lock);
        return SB_EINTERNAL;
    }
    m->started = true;
    return SB_OK;
}

/* Wake the thread, let its pass finish, join it. */
static void serve_maintenance_stop(serve_maintenance *m) {
    if (!m->started) return;
    pthread_mutex_lock(&m->lock);
    m->stop = true;
    pthread_cond_signal(&m->wake);
    pthread_mutex_unlock(&m->lock);
    pthread_join(m->thread, NULL);
    pthread_cond_destroy(&m->wake);
    pthread_mutex_destroy(&m->lock);
    m->started = false;
}

/* ---- the bank's service bot ---- */
typedef struct {
    bankbot *bot;
} serve_bot;

static void serve_bot_push(store *s, const messenger_events *events, void *arg) {
    (void)arg;
    api_messenger_push(s, events);
}

/* Create @bankbot if missing, hook it into the messenger, start its
 * delivery thread, and let agents' case replies reach its chats.  It
 * understands and hands off through serve's listening configuration (the
 * one model serve loaded; raw-text sealing as configured). */
static int serve_bot_start(serve_bot *sb, const char *data, const payops_ctx *base, const listening_config *lcfg) {
    store *s = NULL;
    int result = store_open(data, NULL, &s);
    bankbot_config cfg = {.payments = *base, .listening = *lcfg, .push = serve_bot_push};
    if (result == SB_OK) result = bankbot_open(s, &cfg, sb_now_ms(), &sb->bot);
    store_close(s);
    sodium_memzero(&cfg.listening, sizeof cfg.listening);
    if (result == SB_OK) result = bankbot_delivery_start(sb->bot, data);
    if (result != SB_OK) {
        bankbot_close(sb->bot);
        sb->bot = NULL;
        return result;
    }
    bankbot_attach(sb->bot);
    api_listening_reply_hook_set(bankbot_reply_hook(sb->bot));
    return SB_OK;
}

static void serve_bot_stop(serve_bot *sb) {
    api_listening_reply_hook_set((listening_reply_hook){0});
    bankbot_close(sb->bot);
    sb->bot = NULL;
}
/* ---- listening: comments on the bank's channel (ingest helper) ----------
 * The messenger hands each channel comment to the comment hook right after
 * its commit, on the HTTP thread that took the request, without a store.
 * The hook only copies the comment into the listening feed's bounded queue
 * (src/listening/listening_channel.c) and returns: the feed's own thread,
 * with its own store connection, understands it with the default model and
 * ingests it as an own_channel post, so a slow classifier never slows HTTP.
 * When the queue is full (SB_LISTENING_FEED_QUEUE_MAX) the comment is
 * dropped from listening, counted and logged; it stays in the messenger.
 * It understands with serve's one listening configuration (the model loaded
 * once; without one, comments are stored without understanding). */
typedef struct {
    listening_feed *feed;
} serve_channel_listening;

static void serve_channel_comment(const messenger_message *comment, void *arg) {
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

static int serve_channel_listening_start(serve_channel_listening *c, const char *data, const listening_config *base) {
    memset(c, 0, sizeof *c);
    listening_config cfg = *base; /* serve's one model, raw sealing as configured */
    int result = listening_feed_start(data, &cfg, SB_LISTENING_FEED_QUEUE_MAX, &c->feed);
    sodium_memzero(&cfg, sizeof cfg);
    if (result != SB_OK) return result;
    messenger_comment_hook_set(serve_channel_comment, c->feed);
    return SB_OK;
}

/* After the HTTP loops have stopped: unhook, store what is queued, stop. */
static void serve_channel_listening_stop(serve_channel_listening *c) {
    messenger_comment_hook_set(NULL, NULL);
    if (c->feed) {
        listening_feed_stats stats;
        listening_feed_stats_get(c->feed, &stats);
        listening_feed_stop(c->feed);
        sb_log(SB_LOG_INFO, "listening.channel", "%llu comments queued, %llu dropped, %llu lost to store errors",
               (unsigned long long)stats.queued, (unsigned long long)stats.dropped, (unsigned long long)stats.failed);
    }
    memset(c, 0, sizeof *c);
}
/* ---- end of the channel listening block ---- */

int cli_serve(int argc, char **argv) {
    char default_threads[16];
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1) cores = 1;
    if (cores > SB_THREADS_MAX) cores = SB_THREADS_MAX;
    snprintf(default_threads, sizeof default_threads, "%ld", cores);
    cli_option opts[] = {
        {"port", "SOCIALBANK_PORT", "TCP port (0 picks a free one)", "8080", false, NULL, false},
        {"bind", "SOCIALBANK_BIND", "numeric address to listen on", "127.0.0.1", false, NULL, false},
        CLI_DATA_OPTION,
        {"threads", "SOCIALBANK_THREADS", "event loop threads", default_threads, false, NULL, false},
        {"log-level", "SOCIALBANK_LOG_LEVEL", "debug, info, warn or error", "info", false, NULL, false},
        {"web", "SOCIALBANK_WEB", "directory of the web console's static files", "./web", false, NULL, false},
        {"otp-sender", "SOCIALBANK_OTP_SENDER", "how one-time codes leave: log or webhook", "log", false, NULL, false},
        {"otp-webhook", "SOCIALBANK_OTP_WEBHOOK", "http:// URL the webhook sender POSTs codes to", NULL, false, NULL,
         false},
        {"card-switch", "SOCIALBANK_CARD_SWITCH", "card-to-card switch: none or sim (the simulator)", "none", false,
         NULL, false},
        /* ---- listening (listenapi) ---- */
        {"listening-model", "SOCIALBANK_MODEL", "classifier model for listening (default: models/default.sbm)", NULL,
         false, NULL, false},
        {"listening-store-raw", "SOCIALBANK_LISTENING_STORE_RAW", "keep posts' raw text, sealed (needs a key)", NULL,
         true, NULL, false},
        {"listening-key-file", "SOCIALBANK_LISTENING_KEY_FILE",
         "raw-text key file (32 bytes or 64 hex); else $SOCIALBANK_LISTENING_KEY", NULL, false, NULL, false},
        {"listening-webhook", "SOCIALBANK_LISTENING_WEBHOOK", "http:// URL listening alerts are POSTed to", NULL, false,
         NULL, false},
        {NULL}};
    const char *pos[1];
    int npos;
    bool help;
    int rc = cli_parse(argc, argv, opts, pos, 0, &npos, &help);
    if (rc) return rc;
    if (help) {
        cli_print_help("serve [OPTIONS]",
                       "Migrate the database, then serve the HTTP API, the WebSocket endpoint /api/ws and the web\n"
                       "console until SIGTERM or SIGINT (graceful stop, exit 0).",
                       opts);
        return 0;
    }
    long port, threads;
    if ((rc = cli_int(opts, "port", 0, 65535, &port)) != 0) return rc;
    if ((rc = cli_int(opts, "threads", 1, SB_THREADS_MAX, &threads)) != 0) return rc;
    sb_log_level level;
    if (sb_log_level_parse(cli_value(opts, "log-level"), &level) != SB_OK) {
        fprintf(stderr, "socialbank serve: --log-level must be debug, info, warn or error\n");
        return 2;
    }
    sb_log_set_level(level);
    const char *switch_name = cli_value(opts, "card-switch");
    if (strcmp(switch_name, "none") != 0 && strcmp(switch_name, "sim") != 0) {
        fprintf(stderr, "socialbank serve: --card-switch must be none or sim\n");
        return 2;
    }
    serve_money money = {0};
    int result = serve_money_open(cli_value(opts, "data"), switch_name, &money);
    if (result != SB_OK) {
        fprintf(stderr, "socialbank serve: cannot open the ledger: %s\n", sb_strerror(result));
        return 1;
    }
    result = identity_sender_start(cli_value(opts, "otp-sender"), cli_value(opts, "otp-webhook"));
    if (result != SB_OK) {
        fprintf(stderr,
                "socialbank serve: cannot start the code sender (--otp-sender log|webhook, --otp-webhook "
                "http://HOST[:PORT]/PATH): %s\n",
                sb_strerror(result));
        serve_money_close(&money);
        return 2;
    }
    api_server_config cfg = {
        .bind_addr = cli_value(opts, "bind"),
        .port = (int)port,
        .data_location = cli_value(opts, "data"),
        .threads = (int)threads,
        .web_dir = cli_value(opts, "web"),
    };
    payops_ctx base = {.l = money.l, .policy = &money.policy};
    if (money.sim) {
        base.sw = &money.sw;
        base.c2c_source = &money.source;
    }
    api_payments_set(&base);
    /* ---- listening (listenapi): understander, raw key, alert sender, routes' config ---- */
    cli_serve_listening *serve_listen = NULL;
    const char *store_raw = cli_value(opts, "listening-store-raw");
    result = cli_serve_listening_open(
        cli_value(opts, "listening-model"), store_raw && strcmp(store_raw, "0") != 0 && strcmp(store_raw, "false") != 0,
        cli_value(opts, "listening-key-file"), cli_value(opts, "listening-webhook"), cfg.data_location, &serve_listen);
    if (result != SB_OK) {
        api_payments_set(NULL);
        serve_money_close(&money);
        identity_sender_stop();
        return 2;
    }
    serve_maintenance maintenance = {.listening = serve_listen};
    result = serve_maintenance_start(&maintenance, &base, cfg.data_location);
    if (result != SB_OK) {
        fprintf(stderr, "socialbank serve: cannot start the maintenance thread\n");
        cli_serve_listening_close(serve_listen);
        api_payments_set(NULL);
        serve_money_close(&money);
        identity_sender_stop();
        return 1;
    }
    /* Without its bot the bank still serves (a user squatting the bot's name
     * must not keep the server down): the failure is logged loudly. */
    serve_bot bot = {0};
    result = serve_bot_start(&bot, cfg.data_location, &base, cli_serve_listening_config(serve_listen));
    if (result != SB_OK)
        sb_log(SB_LOG_ERROR, "serve.bankbot", "the service bot is not running: %s", sb_strerror(result));
    serve_channel_listening channel; /* channel comments -> listening */
    result = serve_channel_listening_start(&channel, cfg.data_location, cli_serve_listening_config(serve_listen));
    if (result != SB_OK) {
        fprintf(stderr, "socialbank serve: cannot start the channel listening feed: %s\n", sb_strerror(result));
        serve_bot_stop(&bot);
        serve_maintenance_stop(&maintenance);
        cli_serve_listening_close(serve_listen);
        api_payments_set(NULL);
        serve_money_close(&money);
        identity_sender_stop();
        return 1;
    }
    /* Bot API webhooks and invoice deadlines: without the sender, bots still poll */
    bool webhooks = api_botapi_webhooks_start(cfg.data_location) == SB_OK;
    if (!webhooks) sb_log(SB_LOG_ERROR, "serve.botapi", "the Bot API webhook sender is not running");
    result = api_server_run(&cfg);
    if (webhooks) api_botapi_webhooks_stop();
    serve_channel_listening_stop(&channel);
    serve_bot_stop(&bot);
    serve_maintenance_stop(&maintenance);
    cli_serve_listening_close(serve_listen); /* listening (listenapi) */
    api_payments_set(NULL);
    serve_money_close(&money);
    identity_sender_stop();
    if (result != SB_OK) {
        fprintf(stderr, "socialbank serve: %s\n", sb_strerror(result));
        return 1;
    }
    return 0;
}
