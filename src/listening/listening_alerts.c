/*
 * listening_alerts.c - the delivery side of listening: where alerts go once
 * raised, the open WebSockets of analyst and admin staff (through the push
 * callback the server gives: this module does not depend on the api) and a
 * webhook.  One sender object per running server (listening_alerts_start).
 *
 * listening_tick (serve's maintenance thread) commits an alert, then calls
 * the sink (listening_alerts_sink), which only copies the alert into a
 * fixed ring of SB_LISTENING_ALERT_QUEUE_MAX entries (no allocation, never
 * blocking; a full ring drops the new alert with a log line - its row stays
 * in the store and GET /api/listening/alerts lists it).  A thread of its own
 * takes each alert, renders {"type":"listening.alert","alert":{...}} once,
 * pushes it through the push callback to every analyst and admin (looked up
 * with identity_user_list on the thread's own store connection; staff
 * without an open WebSocket are skipped), then, with a URL, POSTs the same
 * JSON to it: HTTP/1.1 over a plain socket, Connection: close, a timeout on
 * connect, write and read (SB_LISTENING_WEBHOOK_STEP_TIMEOUT_MS), up to
 * SB_LISTENING_WEBHOOK_ATTEMPTS_MAX attempts with doubling backoff on a
 * network error or a 5xx/408/429 answer; 2xx is success, anything else
 * final (the POST itself is sb_webhook_post_once in core, shared with the
 * OTP sender in src/identity).  Give the host as
 * an IP address (a name is resolved by getaddrinfo with its own timeouts);
 * https needs a local TLS relay.  Stop delivers what is queued for at most
 * SB_LISTENING_ALERT_STOP_WAIT_MS, then drops the rest (logged) and joins.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "identity/identity.h"
#include "listening/listening.h"

struct listening_alerts {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool running;
    bool stopping;
    int64_t stop_deadline_ns;
    pthread_t thread;
    bool has_url;
    sb_webhook_url url;
    store *s;
    listening_alert queue[SB_LISTENING_ALERT_QUEUE_MAX];
    size_t head, count;
    listening_push_text_fn push;
    void *push_arg;
};

/* ---- time ---- */

static int step_timeout_ms(void *arg) {
    listening_alerts *alerts = arg;
    int64_t timeout_ms = SB_LISTENING_WEBHOOK_STEP_TIMEOUT_MS;
    pthread_mutex_lock(&alerts->lock);
    if (alerts->stopping) {
        int64_t left_ms = (alerts->stop_deadline_ns - sb_mono_ns()) / 1000000;
        if (left_ms < timeout_ms) timeout_ms = left_ms;
    }
    pthread_mutex_unlock(&alerts->lock);
    return timeout_ms < 0 ? 0 : (int)timeout_ms;
}

static bool past_stop_deadline(listening_alerts *alerts) {
    pthread_mutex_lock(&alerts->lock);
    bool past = alerts->stopping && sb_mono_ns() >= alerts->stop_deadline_ns;
    pthread_mutex_unlock(&alerts->lock);
    return past;
}

/* Sleep ms on the monotonic clock, cut short by the stop deadline. */
static void backoff_sleep(listening_alerts *alerts, int64_t ms) {
    int64_t until_ns = sb_mono_ns() + ms * 1000000;
    while (sb_mono_ns() < until_ns && !past_stop_deadline(alerts)) {
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void deliver_webhook(listening_alerts *alerts, int64_t alert_id, const char *body, size_t body_len) {
    char fields[128];
    int64_t backoff_ms = SB_LISTENING_WEBHOOK_BACKOFF_MS;
    int result = SB_EIO;
    for (int attempt = 1; attempt <= SB_LISTENING_WEBHOOK_ATTEMPTS_MAX && !past_stop_deadline(alerts); attempt++) {
        int status = 0;
        result = sb_webhook_post_once(&alerts->url, body, body_len, step_timeout_ms, alerts, &status);
        snprintf(fields, sizeof fields, "{\"alert_id\":%lld,\"attempt\":%d,\"status\":%d}", (long long)alert_id,
                 attempt, status);
        if (result == SB_OK) {
            sb_log_fields(SB_LOG_INFO, "listening.alert_webhook", fields, "alert delivered to the webhook");
            return;
        }
        if (result == SB_EINVAL) break;
        sb_log_fields(SB_LOG_WARN, "listening.alert_webhook_retry", fields, "webhook attempt failed: %s",
                      sb_strerror(result));
        if (attempt < SB_LISTENING_WEBHOOK_ATTEMPTS_MAX) {
            backoff_sleep(alerts, backoff_ms);
            backoff_ms *= 2;
        }
    }
    snprintf(fields, sizeof fields, "{\"alert_id\":%lld}", (long long)alert_id);
    sb_log_fields(SB_LOG_ERROR, "listening.alert_webhook_failed", fields, "alert not delivered to the webhook: %s",
                  sb_strerror(result));
}

/* ---- WebSocket ---- */

/* Push to every analyst and admin (those with an open WebSocket get it);
 * the count of staff addressed. */
static size_t deliver_staff(listening_alerts *alerts, const char *text, size_t len) {
    identity_principal users[100];
    int64_t ids[SB_ARRAY_LEN(users)];
    int64_t after = 0;
    size_t seen = 0;
    while (alerts->s && alerts->push && seen < SB_LISTENING_ALERT_STAFF_MAX) {
        size_t n = 0;
        int result = identity_user_list(alerts->s, IDENTITY_ROLE_ANALYST | IDENTITY_ROLE_ADMIN, after, users,
                                        SB_ARRAY_LEN(users), &n);
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

static void deliver(listening_alerts *alerts, const listening_alert *a) {
    json_t *alert = listening_alert_to_json(a);
    json_t *message = alert ? json_pack("{s:s, s:o}", "type", "listening.alert", "alert", alert) : NULL;
    char *text = message ? json_dumps(message, JSON_COMPACT) : NULL;
    json_decref(message);
    if (!text) {
        sb_log(SB_LOG_ERROR, "listening.alert_push", "out of memory rendering alert %lld", (long long)a->id);
        return;
    }
    size_t len = strlen(text);
    size_t staff = deliver_staff(alerts, text, len);
    char fields[96];
    snprintf(fields, sizeof fields, "{\"alert_id\":%lld,\"staff\":%zu}", (long long)a->id, staff);
    sb_log_fields(SB_LOG_INFO, "listening.alert_push", fields, "alert %s pushed to %zu staff", a->metric, staff);
    if (alerts->has_url) deliver_webhook(alerts, a->id, text, len);
    sb_free(text);
}

static void *alerts_main(void *arg) {
    listening_alerts *alerts = arg;
    pthread_mutex_lock(&alerts->lock);
    for (;;) {
        while (alerts->count == 0 && !alerts->stopping)
            pthread_cond_wait(&alerts->wake, &alerts->lock);
        if (alerts->count == 0) break;
        if (alerts->stopping && sb_mono_ns() >= alerts->stop_deadline_ns) {
            sb_log(SB_LOG_WARN, "listening.alert_drop", "stopping: %zu alerts not delivered", alerts->count);
            alerts->count = 0;
            break;
        }
        listening_alert a = alerts->queue[alerts->head];
        alerts->head = (alerts->head + 1) % SB_LISTENING_ALERT_QUEUE_MAX;
        alerts->count--;
        pthread_mutex_unlock(&alerts->lock);
        deliver(alerts, &a);
        pthread_mutex_lock(&alerts->lock);
    }
    pthread_mutex_unlock(&alerts->lock);
    return NULL;
}

int listening_alerts_start(const char *data_location, const char *webhook_url, listening_push_text_fn push,
                           void *push_arg, listening_alerts **out) {
    *out = NULL;
    sb_webhook_url url;
    bool has_url = webhook_url && *webhook_url;
    if (has_url && sb_webhook_url_parse(webhook_url, SB_LISTENING_WEBHOOK_URL_BYTES_MAX, &url) != SB_OK)
        return SB_EINVAL;
    listening_alerts *alerts = sb_calloc(1, sizeof *alerts);
    if (!alerts) return SB_ENOMEM;
    int result = store_open(data_location, NULL, &alerts->s);
    if (result != SB_OK) {
        sb_free(alerts);
        return result;
    }
    pthread_mutex_init(&alerts->lock, NULL);
    pthread_cond_init(&alerts->wake, NULL);
    alerts->has_url = has_url;
    if (has_url) alerts->url = url;
    alerts->push = push;
    alerts->push_arg = push_arg;
    alerts->running = true;
    if (pthread_create(&alerts->thread, NULL, alerts_main, alerts) != 0) {
        store_close(alerts->s);
        pthread_cond_destroy(&alerts->wake);
        pthread_mutex_destroy(&alerts->lock);
        sb_free(alerts);
        return SB_EINTERNAL;
    }
    *out = alerts;
    return SB_OK;
}

void listening_alerts_stop(listening_alerts *alerts) {
    if (!alerts) return;
    pthread_mutex_lock(&alerts->lock);
    alerts->stopping = true;
    alerts->stop_deadline_ns = sb_mono_ns() + (int64_t)SB_LISTENING_ALERT_STOP_WAIT_MS * 1000000;
    pthread_cond_signal(&alerts->wake);
    pthread_mutex_unlock(&alerts->lock);
    pthread_join(alerts->thread, NULL);
    store_close(alerts->s);
    pthread_cond_destroy(&alerts->wake);
    pthread_mutex_destroy(&alerts->lock);
    sb_free(alerts);
}

static int alerts_raise(void *arg, const listening_alert *a) {
    listening_alerts *alerts = arg;
    pthread_mutex_lock(&alerts->lock);
    int result = SB_OK;
    if (!alerts->running || alerts->stopping)
        result = SB_ECLOSED;
    else if (alerts->count == SB_LISTENING_ALERT_QUEUE_MAX)
        result = SB_EBUSY;
    else {
        alerts->queue[(alerts->head + alerts->count) % SB_LISTENING_ALERT_QUEUE_MAX] = *a;
        alerts->count++;
        pthread_cond_signal(&alerts->wake);
    }
    pthread_mutex_unlock(&alerts->lock);
    if (result == SB_EBUSY)
        sb_log(SB_LOG_WARN, "listening.alert_drop", "the alert queue is full: alert %lld is only in the store",
               (long long)a->id);
    return result;
}

listening_alert_sink listening_alerts_sink(listening_alerts *alerts) {
    listening_alert_sink sink = {.raise = alerts ? alerts_raise : NULL, .arg = alerts};
    return sink;
}
