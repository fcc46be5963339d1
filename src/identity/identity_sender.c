/*
 * identity_sender.c - delivers one-time codes on its own thread.
 *
 * Requests only enqueue (a fixed ring of SB_OTP_SENDER_QUEUE_MAX entries, no
 * allocation, never blocking), so a slow SMS gateway never stalls a request.
 * Two kinds:
 *   "log"      development: each code is logged at info as event "otp.code"
 *              with fields {"phone":...,"code":...}.
 *   "webhook"  production: POST {"phone":...,"code":...} as JSON to an
 *              http:// URL (sb_webhook_post_once in core: HTTP/1.1, Connection: close),
 *              with a timeout on connect, write and read, and up to
 *              SB_OTP_WEBHOOK_ATTEMPTS_MAX attempts with doubling backoff on a
 *              network error or a 5xx/429 answer.  A 2xx answer is success;
 *              other answers are final.  Give the host as an IP address:
 *              a name is resolved with getaddrinfo, whose own timeouts
 *              apply.  There is no TLS here: to reach an
 *              https:// gateway, point the URL at a local relay (stunnel,
 *              nginx, haproxy on loopback) that adds it.
 * Codes are wiped from the queue once handled, and never logged by the
 * webhook kind.  Stop delivers what is queued for at most
 * SB_OTP_SENDER_STOP_WAIT_MS, then drops the rest (logged) and joins.
 */
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "identity/identity.h"
#include "identity/identity_int.h"

typedef enum { SENDER_LOG = 1, SENDER_WEBHOOK = 2 } sender_kind;

typedef struct {
    char phone[SB_PHONE_BYTES];
    char code[SB_OTP_DIGITS + 1];
} sender_entry;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool running;
    bool stopping;
    int64_t stop_deadline_ns;
    pthread_t thread;
    sender_kind kind;
    sb_webhook_url url;
    sender_entry queue[SB_OTP_SENDER_QUEUE_MAX];
    size_t head, count;
} sender = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

/* ---- time ---- */

/* The time left for one step: the step timeout, cut short by a stop deadline. */
static int step_timeout_ms(void *arg) {
    (void)arg;
    int64_t timeout_ms = SB_OTP_WEBHOOK_TIMEOUT_MS;
    pthread_mutex_lock(&sender.lock);
    if (sender.stopping) {
        int64_t left_ms = (sender.stop_deadline_ns - sb_mono_ns()) / 1000000;
        if (left_ms < timeout_ms) timeout_ms = left_ms;
    }
    pthread_mutex_unlock(&sender.lock);
    return timeout_ms < 0 ? 0 : (int)timeout_ms;
}

static bool past_stop_deadline(void) {
    pthread_mutex_lock(&sender.lock);
    bool past = sender.stopping && sb_mono_ns() >= sender.stop_deadline_ns;
    pthread_mutex_unlock(&sender.lock);
    return past;
}

/* Sleep for ms, or less if stop is asked for and its deadline comes first. */
static void backoff_sleep(int64_t ms) {
    pthread_mutex_lock(&sender.lock);
    int64_t until_ns = sb_mono_ns() + ms * 1000000;
    while (sb_mono_ns() < until_ns) {
        int64_t end_ns = until_ns;
        if (sender.stopping && sender.stop_deadline_ns < end_ns) end_ns = sender.stop_deadline_ns;
        if (sb_mono_ns() >= end_ns) break;
        /* The condition variable uses CLOCK_REALTIME; wait in short slices
         * against the monotonic clock so a clock jump cannot stretch it. */
        int64_t slice_ns = end_ns - sb_mono_ns();
        if (slice_ns > 50 * 1000000LL) slice_ns = 50 * 1000000LL;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + slice_ns;
        ts.tv_sec += ns / 1000000000LL;
        ts.tv_nsec = ns % 1000000000LL;
        pthread_cond_timedwait(&sender.wake, &sender.lock, &ts);
    }
    pthread_mutex_unlock(&sender.lock);
}

/* ---- HTTP ---- */

static void deliver_webhook(const sender_entry *e) {
    char body[96];
    int body_len = snprintf(body, sizeof body, "{\"phone\":\"%s\",\"code\":\"%s\"}", e->phone, e->code);
    SB_ASSERT(body_len > 0 && (size_t)body_len < sizeof body);
    char fields[128];
    int64_t backoff_ms = SB_OTP_WEBHOOK_BACKOFF_MS;
    int result = SB_EIO, status = 0;
    for (int attempt = 1; attempt <= SB_OTP_WEBHOOK_ATTEMPTS_MAX; attempt++) {
        if (past_stop_deadline()) break;
        status = 0;
        result = sb_webhook_post_once(&sender.url, body, (size_t)body_len, step_timeout_ms, NULL, &status);
        snprintf(fields, sizeof fields, "{\"phone\":\"%s\",\"attempt\":%d,\"status\":%d}", e->phone, attempt, status);
        if (result == SB_OK) {
            sb_log_fields(SB_LOG_INFO, "otp.sent", fields, "one-time code delivered to the webhook");
            break;
        }
        if (result == SB_EINVAL) {
            sb_log_fields(SB_LOG_ERROR, "otp.send_failed", fields, "the webhook refused the code; not retrying");
            break;
        }
        sb_log_fields(SB_LOG_WARN, "otp.send_retry", fields, "webhook attempt failed: %s", sb_strerror(result));
        if (attempt < SB_OTP_WEBHOOK_ATTEMPTS_MAX) {
            backoff_sleep(backoff_ms);
            backoff_ms *= 2;
        }
    }
    if (result == SB_EBUSY || result == SB_EIO || result == SB_ETIMEOUT) {
        snprintf(fields, sizeof fields, "{\"phone\":\"%s\"}", e->phone);
        sb_log_fields(SB_LOG_ERROR, "otp.send_failed", fields, "one-time code not delivered: %s", sb_strerror(result));
    }
    sodium_memzero(body, sizeof body);
}

static void deliver(const sender_entry *e) {
    if (sender.kind == SENDER_LOG) {
        char fields[96];
        snprintf(fields, sizeof fields, "{\"phone\":\"%s\",\"code\":\"%s\"}", e->phone, e->code);
        sb_log_fields(SB_LOG_INFO, "otp.code", fields, "one-time code (log sender, development only)");
        sodium_memzero(fields, sizeof fields);
    } else {
        deliver_webhook(e);
    }
}

static void *sender_main(void *arg) {
    (void)arg;
    pthread_mutex_lock(&sender.lock);
    for (;;) {
        while (sender.count == 0 && !sender.stopping)
            pthread_cond_wait(&sender.wake, &sender.lock);
        if (sender.count == 0) break;
        if (sender.stopping && sb_mono_ns() >= sender.stop_deadline_ns) {
            sb_log(SB_LOG_ERROR, "otp.send_dropped", "sender stopped with %zu code(s) undelivered", sender.count);
            sodium_memzero(sender.queue, sizeof sender.queue);
            sender.count = 0;
            break;
        }
        sender_entry e = sender.queue[sender.head];
        sodium_memzero(&sender.queue[sender.head], sizeof e);
        sender.head = (sender.head + 1) % SB_OTP_SENDER_QUEUE_MAX;
        sender.count--;
        pthread_mutex_unlock(&sender.lock);
        deliver(&e);
        sodium_memzero(&e, sizeof e);
        pthread_mutex_lock(&sender.lock);
    }
    pthread_mutex_unlock(&sender.lock);
    return NULL;
}

int identity_sender_start(const char *kind, const char *webhook_url) {
    if (!kind) return SB_EINVAL;
    sender_kind k;
    sb_webhook_url url = {0};
    if (strcmp(kind, "log") == 0) {
        k = SENDER_LOG;
    } else if (strcmp(kind, "webhook") == 0) {
        k = SENDER_WEBHOOK;
        if (!webhook_url || sb_webhook_url_parse(webhook_url, SB_OTP_WEBHOOK_URL_BYTES_MAX, &url) != SB_OK) {
            sb_log(SB_LOG_ERROR, "otp.sender",
                   "the webhook URL must be http://HOST[:PORT]/PATH (for https, run a "
                   "local TLS relay and give its http:// address)");
            return SB_EINVAL;
        }
    } else {
        return SB_EINVAL;
    }
    pthread_mutex_lock(&sender.lock);
    if (sender.running) {
        pthread_mutex_unlock(&sender.lock);
        return SB_EBUSY;
    }
    sender.kind = k;
    sender.url = url;
    sender.stopping = false;
    sender.head = sender.count = 0;
    int rc = pthread_create(&sender.thread, NULL, sender_main, NULL);
    if (rc == 0) sender.running = true;
    pthread_mutex_unlock(&sender.lock);
    return rc == 0 ? SB_OK : SB_ENOMEM;
}

static bool text_is(const char *s, size_t min_len, size_t max_len, bool plus) {
    size_t len = strnlen(s, max_len + 1);
    if (len < min_len || len > max_len) return false;
    for (size_t i = 0; i < len; i++) {
        if (plus && i == 0) {
            if (s[0] != '+') return false;
            continue;
        }
        if (s[i] < '0' || s[i] > '9') return false;
    }
    return true;
}

int identity_sender_enqueue(const char *phone_e164, const char *code) {
    /* Both end up inside JSON and log lines: only "+digits" and digits pass. */
    if (!phone_e164 || !code || !text_is(phone_e164, 2, SB_PHONE_BYTES - 1, true) ||
        !text_is(code, SB_OTP_DIGITS, SB_OTP_DIGITS, false))
        return SB_EINVAL;
    pthread_mutex_lock(&sender.lock);
    int result = SB_OK;
    if (!sender.running || sender.stopping) {
        result = SB_ECLOSED;
    } else if (sender.count == SB_OTP_SENDER_QUEUE_MAX) {
        result = SB_EBUSY;
    } else {
        sender_entry *e = &sender.queue[(sender.head + sender.count) % SB_OTP_SENDER_QUEUE_MAX];
        memcpy(e->phone, phone_e164, strlen(phone_e164) + 1);
        memcpy(e->code, code, SB_OTP_DIGITS + 1);
        sender.count++;
        pthread_cond_signal(&sender.wake);
    }
    pthread_mutex_unlock(&sender.lock);
    return result;
}

void identity_sender_stop(void) {
    pthread_mutex_lock(&sender.lock);
    if (!sender.running || sender.stopping) {
        pthread_mutex_unlock(&sender.lock);
        return;
    }
    sender.stopping = true;
    sender.stop_deadline_ns = sb_mono_ns() + (int64_t)SB_OTP_SENDER_STOP_WAIT_MS * 1000000;
    pthread_cond_broadcast(&sender.wake);
    pthread_t thread = sender.thread;
    pthread_mutex_unlock(&sender.lock);
    pthread_join(thread, NULL);
    pthread_mutex_lock(&sender.lock);
    sender.running = false;
    sender.stopping = false;
    pthread_mutex_unlock(&sender.lock);
}
