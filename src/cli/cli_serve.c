/*
 * cli_serve.c - `socialbank serve`: read the options, build the application
 * context (src/app/app.h: ledger, payments, listening, the bank's bot, the
 * channel feed, the maintenance thread) and the HTTP/WebSocket server that
 * pushes for it, serve until SIGTERM or SIGINT, then stop the server's
 * loops first and the context's threads after them.
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
#include "store/store.h"

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
        {"web", "SOCIALBANK_WEB",
         "directory of the web console's static files (default: web/ beside the binary, else "
         "PREFIX/share/socialbank/web)",
         NULL, false, NULL, false},
        {"otp-sender", "SOCIALBANK_OTP_SENDER", "how one-time codes leave: log or webhook", "log", false, NULL, false},
        {"otp-webhook", "SOCIALBANK_OTP_WEBHOOK", "http(s):// URL the webhook sender POSTs codes to", NULL, false, NULL,
         false},
        {"metrics-token", "SOCIALBANK_METRICS_TOKEN",
         "bearer token /metrics requires (16+ bytes); without one /metrics answers loopback peers only", NULL, false,
         NULL, false},
        {"tls-cert", "SOCIALBANK_TLS_CERT", "PEM certificate chain: serve HTTPS (TLS 1.2+, HTTP/2 by ALPN)", NULL,
         false, NULL, false},
        {"tls-key", "SOCIALBANK_TLS_KEY", "PEM private key of --tls-cert", NULL, false, NULL, false},
        {"ca-file", "SOCIALBANK_CA_FILE", "PEM file of CAs outbound HTTPS trusts (default: the system's)", NULL, false,
         NULL, false},
        {"card-switch", "SOCIALBANK_CARD_SWITCH", "card-to-card switch: none or sim (the simulator)", "none", false,
         NULL, false},
        {"ws-ping-ms", "SOCIALBANK_WS_PING_MS", "WebSocket ping and session re-check interval (ms)", "30000", false,
         NULL, false},
        {"password-threads", "SOCIALBANK_PASSWORD_THREADS", "password checks run at once, off the event loops", "2",
         false, NULL, false},
        {"password-jobs-max", "SOCIALBANK_PASSWORD_JOBS_MAX", "password checks accepted at once; then 503 busy", "32",
         false, NULL, false},
        {"connections-per-address", "SOCIALBANK_CONNECTIONS_PER_ADDRESS",
         "open connections one client address may hold; more are closed", "512", false, NULL, false},
        /* ---- listening (listenapi) ---- */
        {"listening-model", "SOCIALBANK_MODEL", "classifier model for listening (default: models/default.sbm)", NULL,
         false, NULL, false},
        {"listening-store-raw", "SOCIALBANK_LISTENING_STORE_RAW", "keep posts' raw text, sealed (needs a key)", NULL,
         true, NULL, false},
        {"listening-key-file", "SOCIALBANK_LISTENING_KEY_FILE",
         "raw-text key file (32 bytes or 64 hex); else $SOCIALBANK_LISTENING_KEY", NULL, false, NULL, false},
        {"listening-outbound", "SOCIALBANK_LISTENING_OUTBOUND",
         "http(s):// URL of the integration service agents' replies to external networks are POSTed to", NULL, false,
         NULL, false},
        {"listening-outbound-backoff-ms", "SOCIALBANK_LISTENING_OUTBOUND_BACKOFF_MS",
         "first retry's wait for an outbound reply (doubles each attempt)", NULL, false, NULL, false},
        {"listening-webhook", "SOCIALBANK_LISTENING_WEBHOOK", "http(s):// URL listening alerts are POSTed to", NULL,
         false, NULL, false},
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
    long ws_ping_ms, password_threads, password_jobs_max, per_address;
    if ((rc = cli_int(opts, "ws-ping-ms", SB_WS_PING_INTERVAL_MS_MIN, SB_WS_PING_INTERVAL_MS, &ws_ping_ms)) != 0)
        return rc;
    if ((rc = cli_int(opts, "password-threads", 1, SB_OFFLOAD_THREADS_MAX, &password_threads)) != 0) return rc;
    if ((rc = cli_int(opts, "password-jobs-max", 1, SB_PASSWORD_JOBS_MAX, &password_jobs_max)) != 0) return rc;
    if ((rc = cli_int(opts, "connections-per-address", 1, SB_HTTP_CONNECTIONS_TOTAL_MAX, &per_address)) != 0) return rc;
    sb_log_level level;
    if (sb_log_level_parse(cli_value(opts, "log-level"), &level) != SB_OK) {
        fprintf(stderr, "socialbank serve: --log-level must be debug, info, warn or error\n");
        return 2;
    }
    sb_log_set_level(level);
    if ((cli_value(opts, "tls-cert") == NULL) != (cli_value(opts, "tls-key") == NULL)) {
        fprintf(stderr, "socialbank serve: --tls-cert and --tls-key go together\n");
        return 2;
    }
    const char *switch_name = cli_value(opts, "card-switch");
    if (strcmp(switch_name, "none") != 0 && strcmp(switch_name, "sim") != 0) {
        fprintf(stderr, "socialbank serve: --card-switch must be none or sim\n");
        return 2;
    }
    sb_app_options options = {
        .data_location = cli_value(opts, "data"),
        .card_switch = switch_name,
        .listening_webhook = cli_value(opts, "listening-webhook"),
        .listening_outbound = cli_value(opts, "listening-outbound"),
        .maintenance = true,
        .otp_sender = cli_value(opts, "otp-sender"),
        .otp_webhook = cli_value(opts, "otp-webhook"),
        .ca_file = cli_value(opts, "ca-file"),
    };
    const char *backoff = cli_value(opts, "listening-outbound-backoff-ms");
    if (backoff && (sb_parse_int64(backoff, &options.listening_outbound_backoff_ms) != SB_OK ||
                    options.listening_outbound_backoff_ms < 1 ||
                    options.listening_outbound_backoff_ms > SB_LISTENING_OUTBOUND_BACKOFF_MS_MAX)) {
        fprintf(stderr, "socialbank serve: --listening-outbound-backoff-ms must be 1 to %lld\n",
                (long long)SB_LISTENING_OUTBOUND_BACKOFF_MS_MAX);
        return 2;
    }
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
    char web_dir[SB_PATH_BYTES_MAX];
    const char *web = cli_value(opts, "web");
    if (!web) web = cli_shipped_path("web", web_dir, sizeof web_dir) == SB_OK ? web_dir : "./web";
    api_server_config cfg = {
        .bind_addr = cli_value(opts, "bind"),
        .port = (int)port,
        .data_location = options.data_location,
        .threads = (int)threads,
        .web_dir = web,
        .metrics_token = cli_value(opts, "metrics-token"),
        .tls_cert_file = cli_value(opts, "tls-cert"),
        .tls_key_file = cli_value(opts, "tls-key"),
        .ws_ping_interval_ms = (int)ws_ping_ms,
        .password_threads = (int)password_threads,
        .password_jobs_max = (int)password_jobs_max,
        .connections_per_address_max = (int)per_address,
    };
    /* one server per SQLite data directory, for the whole life of the
     * process, taken before anything opens the store */
    char lock_err[SB_PATH_BYTES_MAX + 128];
    int lock_fd = -1;
    result = store_lock_exclusive(options.data_location, &lock_fd, lock_err, sizeof lock_err);
    if (result != SB_OK) {
        fprintf(stderr, "socialbank serve: %s\n",
                result == SB_EBUSY || result == SB_EIO ? lock_err : sb_strerror(result));
        sodium_memzero(&options, sizeof options);
        return 1;
    }
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
                "socialbank serve: cannot start (the ledger, the code sender with --otp-sender log|webhook and "
                "--otp-webhook http(s)://HOST[:PORT]/PATH, the alert sender with --listening-webhook "
                "http(s)://HOST[:PORT]/PATH, the outbound replies with --listening-outbound "
                "http(s)://HOST[:PORT]/PATH, or a background thread): %s\n",
                sb_strerror(result));
        api_server_free(server);
        return result == SB_EINVAL ? 2 : 1;
    }
    result = api_server_run(server); /* the loops stop before the context's threads */
    sb_app_close(&app);
    api_server_free(server);
    store_unlock(lock_fd); /* (an early return above leaves it to the process's exit) */
    if (result != SB_OK) {
        fprintf(stderr, "socialbank serve: %s\n", sb_strerror(result));
        return 1;
    }
    return 0;
}
