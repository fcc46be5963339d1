/*
 * cli_serve_listening.c - the listening side of `socialbank serve`: the text
 * engine as the understander (the default model, loaded once and shared by
 * every thread), raw-text storage when the bank turns it on (the key from a
 * file or $SOCIALBANK_LISTENING_KEY), the alert sender (WebSocket pushes to
 * analysts and admins, and a webhook), the configuration every listening
 * route uses (api_listening_set), and the tick serve's maintenance thread
 * runs (escalations, reassignment, alerts).  The reply hook stays empty
 * here: the messenger side sets it with api_listening_reply_hook_set.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "cli/cli.h"
#include "core/core.h"
#include "listening/listening.h"

struct cli_serve_listening {
    listening_text_engine *engine;
    listening_config cfg;
    bool alerts_started;
    listening_outbound_webhook_state outbound_state;
    listening_outbound *outbound;
};

int cli_serve_listening_open(const char *model_path, bool store_raw, const char *key_file, const char *webhook_url,
                             const char *data_location, cli_serve_listening **out) {
    *out = NULL;
    cli_serve_listening *sl = sb_calloc(1, sizeof *sl);
    if (!sl) return SB_ENOMEM;
    char path[4096];
    int result = cli_model_path(model_path, path, sizeof path);
    if (result == SB_OK) {
        char err[TEXT_ERROR_BYTES] = "";
        result = listening_text_engine_open(path, &sl->engine, err);
        if (result != SB_OK)
            sb_log(SB_LOG_WARN, "listening.model",
                   "cannot load the model %s (%s): posts are stored without understanding", path,
                   err[0] ? err : sb_strerror(result));
        else
            sb_log(SB_LOG_INFO, "listening.model", "understanding posts with the model %s", path);
    } else {
        sb_log(SB_LOG_WARN, "listening.model", "no model path (%s): posts are stored without understanding",
               sb_strerror(result));
    }
    if (sl->engine) sl->cfg.understander = listening_text_understander(sl->engine);
    if (store_raw) {
        result = listening_key_load(key_file, sl->cfg.raw_key);
        if (result != SB_OK) {
            fprintf(stderr,
                    "socialbank serve: --listening-store-raw needs a key (--listening-key-file FILE with 32 bytes or "
                    "64 hex characters, or SOCIALBANK_LISTENING_KEY): %s\n",
                    sb_strerror(result));
            cli_serve_listening_close(sl);
            return result;
        }
        sl->cfg.store_raw = true;
    }
    result = api_listening_alerts_start(data_location, webhook_url);
    if (result != SB_OK) {
        fprintf(stderr,
                "socialbank serve: cannot start the alert sender (--listening-webhook http://HOST[:PORT]/PATH): "
                "%s\n",
                sb_strerror(result));
        cli_serve_listening_close(sl);
        return result;
    }
    sl->alerts_started = true;
    sl->cfg.alert_sink = api_listening_alert_sink();
    api_listening_set(&sl->cfg);
    *out = sl;
    return SB_OK;
}

const listening_config *cli_serve_listening_config(const cli_serve_listening *sl) { return &sl->cfg; }

int cli_serve_listening_outbound_start(cli_serve_listening *sl, const char *url, const char *backoff_ms_text,
                                       const char *data_location) {
    if (!url) return SB_OK;
    int64_t backoff_ms = 0;
    if (backoff_ms_text && (sb_parse_int64(backoff_ms_text, &backoff_ms) != SB_OK || backoff_ms < 1 ||
                            backoff_ms > SB_LISTENING_OUTBOUND_BACKOFF_MS_MAX)) {
        fprintf(stderr, "socialbank serve: --listening-outbound-backoff-ms must be 1 to %lld\n",
                (long long)SB_LISTENING_OUTBOUND_BACKOFF_MS_MAX);
        return SB_EINVAL;
    }
    int result = sb_webhook_url_parse(url, SB_LISTENING_WEBHOOK_URL_BYTES_MAX, &sl->outbound_state.url);
    if (result == SB_OK)
        result = listening_outbound_start(data_location, listening_outbound_webhook(&sl->outbound_state), backoff_ms,
                                          &sl->outbound);
    if (result != SB_OK) {
        fprintf(
            stderr,
            "socialbank serve: cannot start the outbound replies (--listening-outbound http://HOST[:PORT]/PATH): %s\n",
            sb_strerror(result));
        return result;
    }
    api_listening_outbound_set(sl->outbound);
    sb_log(SB_LOG_INFO, "listening.outbound", "replies to external networks go to the webhook connector");
    return SB_OK;
}

void cli_serve_listening_close(cli_serve_listening *sl) {
    if (!sl) return;
    api_listening_outbound_set(NULL);
    listening_outbound_stop(sl->outbound);
    api_listening_set(NULL);
    if (sl->alerts_started) api_listening_alerts_stop();
    listening_text_engine_free(sl->engine);
    sodium_memzero(&sl->cfg, sizeof sl->cfg);
    sb_free(sl);
}

void cli_serve_listening_tick(const cli_serve_listening *sl, struct store *s, long long now_ms) {
    if (!sl || !s) return;
    listening *l;
    int result = listening_open(s, &sl->cfg, &l);
    listening_tick_result r = {0};
    if (result == SB_OK) result = listening_tick(l, (int64_t)now_ms, &r);
    listening_close(l);
    if (result != SB_OK) {
        sb_log(SB_LOG_WARN, "serve.maintenance", "listening tick failed: %s", sb_strerror(result));
        return;
    }
    if (r.escalated || r.reassigned || r.alerts)
        sb_log(SB_LOG_INFO, "serve.maintenance", "listening: %zu escalated, %zu reassigned, %zu alerts", r.escalated,
               r.reassigned, r.alerts);
}
