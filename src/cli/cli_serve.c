/*
 * cli_serve.c - `socialbank serve`: read the options, build the application
 * context (src/app/app.h: ledger, payments, listening, the bank's bot, the
 * channel feed, the maintenance thread) and the HTTP/WebSocket server that
 * pushes for it, serve until SIGTERM or SIGINT, then stop the server's
 * loops first and the context's threads after them.  The one-time-code
 * sender runs beside them.
 */
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "app/app.h"
#include "cli/cli.h"
#include "core/core.h"
#include "identity/identity.h"
#include "listening/listening.h"

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
    sb_app_options options = {
        .data_location = cli_value(opts, "data"),
        .card_switch = switch_name,
        .listening_webhook = cli_value(opts, "listening-webhook"),
        .maintenance = true,
    };
    const char *store_raw = cli_value(opts, "listening-store-raw");
    if (store_raw && strcmp(store_raw, "0") != 0 && strcmp(store_raw, "false") != 0) {
        int loaded = listening_key_load(cli_value(opts, "listening-key-file"), options.listening_key);
        if (loaded != SB_OK) {
            fprintf(stderr,
                    "socialbank serve: --listening-store-raw needs a key (--listening-key-file FILE with 32 bytes or "
                    "64 hex characters, or SOCIALBANK_LISTENING_KEY): %s\n",
                    sb_strerror(loaded));
            return 2;
        }
        options.listening_store_raw = true;
    }
    char model_path[4096];
    int result = cli_model_path(cli_value(opts, "listening-model"), model_path, sizeof model_path);
    if (result == SB_OK)
        options.model_path = model_path;
    else
        sb_log(SB_LOG_WARN, "listening.model", "no model path (%s): posts are stored without understanding",
               sb_strerror(result));
    api_server_config cfg = {
        .bind_addr = cli_value(opts, "bind"),
        .port = (int)port,
        .data_location = options.data_location,
        .threads = (int)threads,
        .web_dir = cli_value(opts, "web"),
    };
    /* SIGTERM and SIGINT are waited for by api_server_run: blocked before
     * any thread starts, so that no other thread takes them. */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    sb_app app;
    api_server *server = NULL;
    result = api_server_new(&app, &cfg, &server);
    if (result != SB_OK) {
        fprintf(stderr, "socialbank serve: %s\n", sb_strerror(result));
        sodium_memzero(&options, sizeof options);
        return 2;
    }
    result = sb_app_init(&app, &options, api_server_push_sink(server));
    sodium_memzero(options.listening_key, sizeof options.listening_key);
    if (result != SB_OK) {
        fprintf(stderr,
                "socialbank serve: cannot start (the ledger, the alert sender with --listening-webhook "
                "http://HOST[:PORT]/PATH, or a background thread): %s\n",
                sb_strerror(result));
        api_server_free(server);
        return result == SB_EINVAL ? 2 : 1;
    }
    result = identity_sender_start(cli_value(opts, "otp-sender"), cli_value(opts, "otp-webhook"));
    if (result != SB_OK) {
        fprintf(stderr,
                "socialbank serve: cannot start the code sender (--otp-sender log|webhook, --otp-webhook "
                "http://HOST[:PORT]/PATH): %s\n",
                sb_strerror(result));
        sb_app_close(&app);
        api_server_free(server);
        return 2;
    }
    result = api_server_run(server); /* the loops stop before the context's threads */
    sb_app_close(&app);
    api_server_free(server);
    identity_sender_stop();
    if (result != SB_OK) {
        fprintf(stderr, "socialbank serve: %s\n", sb_strerror(result));
        return 1;
    }
    return 0;
}
