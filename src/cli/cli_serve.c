/*
 * cli_serve.c - `socialbank serve`: migrate the store, start the code sender
 * and run the HTTP/WebSocket server until SIGTERM or SIGINT.
 */
#include <stdio.h>
#include <unistd.h>

#include "api/api.h"
#include "cli/cli.h"
#include "core/core.h"
#include "identity/identity.h"

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
    int result = identity_sender_start(cli_value(opts, "otp-sender"), cli_value(opts, "otp-webhook"));
    if (result != SB_OK) {
        fprintf(stderr,
                "socialbank serve: cannot start the code sender (--otp-sender log|webhook, --otp-webhook "
                "http://HOST[:PORT]/PATH): %s\n",
                sb_strerror(result));
        return 2;
    }
    api_server_config cfg = {
        .bind_addr = cli_value(opts, "bind"),
        .port = (int)port,
        .data_location = cli_value(opts, "data"),
        .threads = (int)threads,
        .web_dir = cli_value(opts, "web"),
    };
    result = api_server_run(&cfg);
    identity_sender_stop();
    if (result != SB_OK) {
        fprintf(stderr, "socialbank serve: %s\n", sb_strerror(result));
        return 1;
    }
    return 0;
}
