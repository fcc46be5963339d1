/*
 * listening_alerts.c - where listening alerts go once raised: the open
 * WebSockets of analyst and admin staff, and a webhook.
 *
 * listening_tick (serve's maintenance thread) commits an alert, then calls
 * the sink (api_listening_alert_sink), which only copies the alert into a
 * fixed ring of SB_LISTENING_ALERT_QUEUE_MAX entries (no allocation, never
 * blocking; a full ring drops the new alert with a log line - its row stays
 * in the store and GET /api/listening/alerts lists it).  A thread of its own
 * takes each alert, renders {"type":"listening.alert","alert":{...}} once,
 * pushes it with api_ws_send_to_user to every analyst and admin (looked up
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

#include "api/api_int.h"

static struct {
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
} alerts = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

/* ---- time ---- */

static int step_timeout_ms(void *arg) {
    (void)arg;
    int64_t timeout_ms = SB_LISTENING_WEBHOOK_STEP_TIMEOUT_MS;
    pthread_mutex_lock(&alerts.lock);
    if (alerts.stopping) {
        int64_t left_ms = (alerts.stop_deadline_ns - sb_mono_ns()) / 1000000;
        if (left_ms < timeout_ms) timeout_ms = left_ms;
    }
    pthread_mutex_unlock(&alerts.lock);
    return timeout_ms < 0 ? 0 : (int)timeout_ms;
}

static bool past_stop_deadline(void) {
    pthread_mutex_lock(&alerts.lock);
    bool past = alerts.stopping && sb_mono_ns() >= alerts.stop_deadline_ns;
    pthread_mutex_unlock(&alerts.lock);
    return past;
}

/* Sleep ms on the monotonic clock, cut short by the stop deadline. */
static void backoff_sleep(int64_t ms) {
    int64_t until_ns = sb_mono_ns() + ms * 1000000;
    while (sb_mono_ns() < until_ns && !past_stop_deadline()) {
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void deliver_webhook(int64_t alert_id, const char *body, size_t body_len) {
    char fields[128];
    int64_t backoff_ms = SB_LISTENING_WEBHOOK_BACKOFF_MS;
    int result = SB_EIO;
    for (int attempt = 1; attempt <= SB_LISTENING_WEBHOOK_ATTEMPTS_MAX && !past_stop_deadline(); attempt++) {
        int status = 0;
        result = sb_webhook_post_once(&alerts.url, body, body_len, step_timeout_ms, NULL, &status);
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
            backoff_sleep(backoff_ms);
            backoff_ms *= 2;
        }
    }
    snprintf(fields, sizeof fields, "{\"alert_id\":%lld}", (long long)alert_id);
    sb_log_fields(SB_LOG_ERROR, "listening.alert_webhook_failed", fields, "alert not delivered to the webhook: %s",
                  sb_strerror(result));
}

/* ---- WebSocket ---- */

/* Push to every analyst and admin with an open WebSocket; the count pushed. */
static size_t deliver_staff(const char *text, size_t len) {
    identity_principal users[100];
    int64_t after = 0;
    size_t seen = 0, pushed = 0;
    while (alerts.s && seen < SB_LISTENING_ALERT_STAFF_MAX) {
        size_t n = 0;
        int result = identity_user_list(alerts.s, IDENTITY_ROLE_ANALYST | IDENTITY_ROLE_ADMIN, after, users,
                                        SB_ARRAY_LEN(users), &n);
        if (result != SB_OK) {
            sb_log(SB_LOG_ERROR, "listening.alert_push", "cannot list the staff: %s", sb_strerror(result));
            break;
        }
        for (size_t i = 0; i < n; i++)
            if (api_ws_send_to_user(users[i].user_id, text, len) == SB_OK) pushed++;
        seen += n;
        if (n < SB_ARRAY_LEN(users)) break;
        after = users[n - 1].user_id;
    }
    return pushed;
}

static void deliver(const listening_alert *a) {
    json_t *alert = listening_alert_to_json(a);
    json_t *message = alert ? json_pack("{s:s, s:o}", "type", "listening.alert", "alert", alert) : NULL;
    char *text = message ? json_dumps(message, JSON_COMPACT) : NULL;
    json_decref(message);
    if (!text) {
        sb_log(SB_LOG_ERROR, "listening.alert_push", "out of memory rendering alert %lld", (long long)a->id);
        return;
    }
    size_t len = strlen(text);
    size_t pushed = deliver_staff(text, len);
    char fields[96];
    snprintf(fields, sizeof fields, "{\"alert_id\":%lld,\"pushed\":%zu}", (long long)a->id, pushed);
    sb_log_fields(SB_LOG_INFO, "listening.alert_push", fields, "alert %s pushed to %zu staff connections", a->metric,
                  pushed);
    if (alerts.has_url) deliver_webhook(a->id, text, len);
    sb_free(text);
}

static void *alerts_main(void *arg) {
    (void)arg;
    pthread_mutex_lock(&alerts.lock);
    for (;;) {
        while (alerts.count == 0 && !alerts.stopping)
            pthread_cond_wait(&alerts.wake, &alerts.lock);
        if (alerts.count == 0) break;
        if (alerts.stopping && sb_mono_ns() >= alerts.stop_deadline_ns) {
            sb_log(SB_LOG_WARN, "listening.alert_drop", "stopping: %zu alerts not delivered", alerts.count);
            alerts.count = 0;
            break;
        }
        listening_alert a = alerts.queue[alerts.head];
        alerts.head = (alerts.head + 1) % SB_LISTENING_ALERT_QUEUE_MAX;
        alerts.count--;
        pthread_mutex_unlock(&alerts.lock);
        deliver(&a);
        pthread_mutex_lock(&alerts.lock);
    }
    pthread_mutex_unlock(&alerts.lock);
    return NULL;
}

int api_listening_alerts_start(const char *data_location, const char *webhook_url) {
    sb_webhook_url url;
    bool has_url = webhook_url && *webhook_url;
    if (has_url && sb_webhook_url_parse(webhook_url, SB_LISTENING_WEBHOOK_URL_BYTES_MAX, &url) != SB_OK) return SB_EINVAL;
    pthread_mutex_lock(&alerts.lock);
    bool running = alerts.running;
    pthread_mutex_unlock(&alerts.lock);
    if (running) return SB_EBUSY;
    store *s = NULL;
    int result = store_open(data_location, NULL, &s);
    if (result != SB_OK) return result;
    pthread_mutex_lock(&alerts.lock);
    alerts.s = s;
    alerts.has_url = has_url;
    if (has_url) alerts.url = url;
    alerts.head = alerts.count = 0;
    alerts.stopping = false;
    alerts.running = true;
    if (pthread_create(&alerts.thread, NULL, alerts_main, NULL) != 0) {
        alerts.running = false;
        alerts.s = NULL;
        pthread_mutex_unlock(&alerts.lock);
        store_close(s);
        return SB_EINTERNAL;
    }
    pthread_mutex_unlock(&alerts.lock);
    return SB_OK;
}

void api_listening_alerts_stop(void) {
    pthread_mutex_lock(&alerts.lock);
    if (!alerts.running) {
        pthread_mutex_unlock(&alerts.lock);
        return;
    }
    alerts.stopping = true;
    alerts.stop_deadline_ns = sb_mono_ns() + (int64_t)SB_LISTENING_ALERT_STOP_WAIT_MS * 1000000;
    pthread_cond_signal(&alerts.wake);
    pthread_mutex_unlock(&alerts.lock);
    pthread_join(alerts.thread, NULL);
    pthread_mutex_lock(&alerts.lock);
    alerts.running = false;
    store_close(alerts.s);
    alerts.s = NULL;
    pthread_mutex_unlock(&alerts.lock);
}

static int alerts_raise(void *arg, const listening_alert *a) {
    (void)arg;
    pthread_mutex_lock(&alerts.lock);
    int result = SB_OK;
    if (!alerts.running || alerts.stopping)
        result = SB_ECLOSED;
    else if (alerts.count == SB_LISTENING_ALERT_QUEUE_MAX)
        result = SB_EBUSY;
    else {
        alerts.queue[(alerts.head + alerts.count) % SB_LISTENING_ALERT_QUEUE_MAX] = *a;
        alerts.count++;
        pthread_cond_signal(&alerts.wake);
    }
    pthread_mutex_unlock(&alerts.lock);
    if (result == SB_EBUSY)
        sb_log(SB_LOG_WARN, "listening.alert_drop", "the alert queue is full: alert %lld is only in the store",
               (long long)a->id);
    return result;
}

listening_alert_sink api_listening_alert_sink(void) {
    listening_alert_sink sink = {.raise = alerts_raise, .arg = NULL};
    return sink;
}
