/*
 * listening_alerts.c - the delivery side of listening: where alerts go once
 * raised, the open WebSockets of analyst and admin staff (through the push
 * callback the server gives: this module does not depend on the api) and a
 * webhook.  One sender object per running server (listening_alerts_start).
 *
 * listening_tick (the maintenance thread) commits an alert, then calls the
 * sink (listening_alerts_sink), which only submits a copy to the sender's
 * worker (core's sb_worker: SB_LISTENING_ALERT_QUEUE_MAX jobs, never
 * blocking; a full queue drops the new alert with a log line - its row
 * stays in the store and GET /api/listening/alerts lists it).  The worker's
 * thread renders {"type":"listening.alert","alert":{...}}, pushes it once
 * through the push callback to every analyst and admin (looked up with
 * identity_user_list on the thread's own store connection; staff without
 * an open WebSocket are skipped), then, with a URL, POSTs the same JSON
 * through the one outbound client (sb_webhook_deliver: http or https with
 * verified certificates, connect and total timeouts), up to
 * SB_LISTENING_WEBHOOK_ATTEMPTS_MAX attempts with the worker's backoff and
 * jitter on a network or TLS error or a 5xx/408/429 answer; 2xx is success,
 * anything else final.  Stop delivers what is queued for at most
 * SB_LISTENING_ALERT_STOP_WAIT_MS, then drops the rest (logged) and joins.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "identity/identity.h"
#include "listening/listening.h"

struct listening_alerts {
    bool has_url;
    char url[SB_LISTENING_WEBHOOK_URL_BYTES_MAX];
    sb_http_options http;
    char *data_location; /* the worker thread's store */
    listening_push_text_fn push;
    void *push_arg;
    sb_worker *worker;
};

/* One queued alert, and what its delivery has done so far (a retry only
 * re-POSTs: the WebSocket push happened on the first attempt). */
typedef struct {
    listening_alert alert;
    bool pushed;
} alert_job;

/* ---- WebSocket ---- */

/* Push to every analyst and admin (those with an open WebSocket get it);
 * the count of staff addressed. */
static size_t deliver_staff(listening_alerts *alerts, store *s, const char *text, size_t len) {
    identity_principal users[100];
    int64_t ids[SB_ARRAY_LEN(users)];
    int64_t after = 0;
    size_t seen = 0;
    while (s && alerts->push && seen < SB_LISTENING_ALERT_STAFF_MAX) {
        size_t n = 0;
        int result =
            identity_user_list(s, IDENTITY_ROLE_ANALYST | IDENTITY_ROLE_ADMIN, after, users, SB_ARRAY_LEN(users), &n);
        if (result != SB_OK) {
            sb_log(SB_LOG_ERROR, "listening.alert_push", "cannot list the staff: %s", sb_strerror(result));
            break;
        }
        for (size_t i = 0; i < n; i++)
            ids[i] = users[i].user_id;
        result = n ? alerts->push(alerts->push_arg, ids, n, text, len) : SB_OK;
        if (result != SB_OK && result != SB_ECLOSED)
            sb_log(SB_LOG_WARN, "listening.alert_push", "push to %zu staff failed: %s", n, sb_strerror(result));
        seen += n;
        if (n < SB_ARRAY_LEN(users)) break;
        after = users[n - 1].user_id;
    }
    return seen;
}

/* The alert as {"type":"listening.alert","alert":{...}} (sb_free), or NULL. */
static char *alert_text(const listening_alert *a, size_t *len_out) {
    json_t *alert = listening_alert_to_json(a);
    json_t *message = alert ? json_pack("{s:s, s:o}", "type", "listening.alert", "alert", alert) : NULL;
    char *text = message ? json_dumps(message, JSON_COMPACT) : NULL;
    json_decref(message);
    *len_out = text ? strlen(text) : 0;
    return text;
}

static sb_worker_outcome alerts_run(void *arg, void *local, sb_worker *w, void *jobs, size_t count, int attempt) {
    listening_alerts *alerts = arg;
    alert_job *job = jobs;
    SB_ASSERT(count == 1);
    const listening_alert *a = &job->alert;
    size_t len = 0;
    char *text = alert_text(a, &len);
    if (!text) {
        sb_log(SB_LOG_ERROR, "listening.alert_push", "out of memory rendering alert %lld", (long long)a->id);
        return SB_WORKER_RETRY;
    }
    char fields[128];
    if (!job->pushed) {
        size_t staff = deliver_staff(alerts, local, text, len);
        job->pushed = true;
        snprintf(fields, sizeof fields, "{\"alert_id\":%lld,\"staff\":%zu}", (long long)a->id, staff);
        sb_log_fields(SB_LOG_INFO, "listening.alert_push", fields, "alert %s pushed to %zu staff", a->metric, staff);
    }
    sb_worker_outcome outcome = SB_WORKER_DONE;
    if (alerts->has_url) {
        int result = SB_OK, status = 0;
        outcome = sb_webhook_deliver(w, &alerts->http, alerts->url, text, len, &result, &status);
        snprintf(fields, sizeof fields, "{\"alert_id\":%lld,\"attempt\":%d,\"status\":%d}", (long long)a->id, attempt,
                 status);
        if (outcome == SB_WORKER_DONE)
            sb_log_fields(SB_LOG_INFO, "listening.alert_webhook", fields, "alert delivered to the webhook");
        else
            sb_log_fields(SB_LOG_WARN, "listening.alert_webhook_retry", fields, "webhook attempt failed: %s",
                          sb_strerror(result));
    }
    sb_free(text);
    return outcome;
}

static void alerts_finish(void *arg, void *jobp, sb_worker_outcome outcome, int attempts) {
    (void)arg;
    const alert_job *job = jobp;
    if (outcome == SB_WORKER_DONE) return;
    char fields[64];
    snprintf(fields, sizeof fields, "{\"alert_id\":%lld}", (long long)job->alert.id);
    if (attempts == 0)
        sb_log_fields(SB_LOG_WARN, "listening.alert_drop", fields,
                      "stopping: alert not delivered (it stays in the store)");
    else
        sb_log_fields(SB_LOG_ERROR, "listening.alert_webhook_failed", fields,
                      "alert not delivered to the webhook after %d attempts", attempts);
}

int listening_alerts_start(const char *data_location, const char *webhook_url, const char *ca_file,
                           listening_push_text_fn push, void *push_arg, listening_alerts **out) {
    *out = NULL;
    bool has_url = webhook_url && *webhook_url;
    if (!data_location || (has_url && sb_http_url_check(webhook_url, SB_LISTENING_WEBHOOK_URL_BYTES_MAX) != SB_OK))
        return SB_EINVAL;
    listening_alerts *alerts = sb_calloc(1, sizeof *alerts);
    if (!alerts) return SB_ENOMEM;
    if (!(alerts->data_location = sb_strdup(data_location))) {
        sb_free(alerts);
        return SB_ENOMEM;
    }
    alerts->has_url = has_url;
    if (has_url) snprintf(alerts->url, sizeof alerts->url, "%s", webhook_url);
    alerts->http = (sb_http_options){.ca_file = ca_file,
                                     .connect_timeout_ms = SB_LISTENING_WEBHOOK_STEP_TIMEOUT_MS,
                                     .total_timeout_ms = SB_LISTENING_WEBHOOK_STEP_TIMEOUT_MS};
    alerts->push = push;
    alerts->push_arg = push_arg;
    sb_worker_config cfg = {.name = "listening_alerts",
                            .job_bytes = sizeof(alert_job),
                            .queue_max = SB_LISTENING_ALERT_QUEUE_MAX,
                            .attempts_max = SB_LISTENING_WEBHOOK_ATTEMPTS_MAX,
                            .backoff_base_ms = SB_LISTENING_WEBHOOK_BACKOFF_MS,
                            .backoff_max_ms = SB_LISTENING_WEBHOOK_BACKOFF_MAX_MS,
                            .stop_wait_ms = SB_LISTENING_ALERT_STOP_WAIT_MS,
                            .arg = alerts,
                            .thread_start = store_open_local,
                            .thread_end = store_close_local,
                            .thread_arg = alerts->data_location,
                            .run = alerts_run,
                            .finish = alerts_finish};
    int result = sb_worker_launch(&cfg, &alerts->worker);
    if (result != SB_OK) {
        sb_free(alerts->data_location);
        sb_free(alerts);
        return result;
    }
    *out = alerts;
    return SB_OK;
}

void listening_alerts_stop(listening_alerts *alerts) {
    if (!alerts) return;
    if (!sb_worker_stop(alerts->worker)) return; /* a stuck delivery keeps the sender */
    sb_free(alerts->data_location);
    sb_free(alerts);
}

sb_worker *listening_alerts_worker(listening_alerts *alerts) { return alerts ? alerts->worker : NULL; }

static int alerts_raise(void *arg, const listening_alert *a) {
    listening_alerts *alerts = arg;
    alert_job job = {.alert = *a};
    int result = sb_worker_submit(alerts->worker, &job);
    if (result == SB_EBUSY)
        sb_log(SB_LOG_WARN, "listening.alert_drop", "the alert queue is full: alert %lld is only in the store",
               (long long)a->id);
    return result;
}

listening_alert_sink listening_alerts_sink(listening_alerts *alerts) {
    listening_alert_sink sink = {.raise = alerts ? alerts_raise : NULL, .arg = alerts};
    return sink;
}
