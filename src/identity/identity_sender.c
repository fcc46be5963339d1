/*
 * identity_sender.c - delivers one-time codes through a worker (core's
 * sb_worker: a bounded queue, one thread, retries, a stop deadline).
 *
 * Requests only enqueue (SB_OTP_SENDER_QUEUE_MAX jobs, copied, never
 * blocking), so a slow SMS gateway never stalls a request.  Two kinds:
 *   "log"      development: each code is logged at info as event "otp.code"
 *              with fields {"phone":...,"code":...}.
 *   "webhook"  production: POST {"phone":...,"code":...} as JSON to an
 *              http:// or https:// URL through the one outbound client
 *              (core's sb_webhook_deliver: certificates verified, a CA file
 *              for private gateways, connect and total timeouts, proxies from
 *              the environment, no redirects), up to
 *              SB_OTP_WEBHOOK_ATTEMPTS_MAX attempts with the worker's
 *              exponential backoff and full jitter on a network or TLS error
 *              or a 5xx/408/429 answer.  A 2xx answer is success; other
 *              answers are final.
 * Codes are wiped from the queue once handled (the worker zeroes every
 * slot), and never logged by the webhook kind.  Stop delivers what is
 * queued for at most SB_OTP_SENDER_STOP_WAIT_MS, then drops the rest
 * (logged) and joins.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "identity/identity.h"
#include "identity/identity_int.h"

typedef enum { SENDER_LOG = 1, SENDER_WEBHOOK = 2 } sender_kind;

typedef struct {
    char phone[SB_PHONE_BYTES];
    char code[SB_OTP_DIGITS + 1];
    bool refused; /* the gateway refused it for good: already logged */
} sender_job;

struct identity_sender {
    sender_kind kind;
    char url[SB_OTP_WEBHOOK_URL_BYTES_MAX];
    sb_http_options http;
    sb_worker *worker;
};

static sb_worker_outcome send_webhook(identity_sender *sender, sb_worker *w, sender_job *job, int attempt) {
    char body[96];
    int body_len = snprintf(body, sizeof body, "{\"phone\":\"%s\",\"code\":\"%s\"}", job->phone, job->code);
    SB_ASSERT(body_len > 0 && (size_t)body_len < sizeof body);
    int result = SB_OK, status = 0;
    sb_worker_outcome outcome =
        sb_webhook_deliver(w, &sender->http, sender->url, body, (size_t)body_len, &result, &status);
    sodium_memzero(body, sizeof body);
    char fields[128];
    snprintf(fields, sizeof fields, "{\"phone\":\"%s\",\"attempt\":%d,\"status\":%d}", job->phone, attempt, status);
    if (outcome == SB_WORKER_DONE) {
        sb_log_fields(SB_LOG_INFO, "otp.sent", fields, "one-time code delivered to the webhook");
    } else if (result == SB_EINVAL) {
        job->refused = true;
        sb_log_fields(SB_LOG_ERROR, "otp.send_failed", fields, "the webhook refused the code; not retrying");
    } else {
        sb_log_fields(SB_LOG_WARN, "otp.send_retry", fields, "webhook attempt failed: %s", sb_strerror(result));
    }
    return outcome;
}

static sb_worker_outcome sender_run(void *arg, void *local, sb_worker *w, void *jobs, size_t count, int attempt) {
    (void)local;
    identity_sender *sender = arg;
    sender_job *job = jobs;
    SB_ASSERT(count == 1);
    if (sender->kind == SENDER_WEBHOOK) return send_webhook(sender, w, job, attempt);
    char fields[96];
    snprintf(fields, sizeof fields, "{\"phone\":\"%s\",\"code\":\"%s\"}", job->phone, job->code);
    sb_log_fields(SB_LOG_INFO, "otp.code", fields, "one-time code (log sender, development only)");
    sodium_memzero(fields, sizeof fields);
    return SB_WORKER_DONE;
}

static void sender_finish(void *arg, void *jobp, sb_worker_outcome outcome, int attempts) {
    (void)arg;
    const sender_job *job = jobp;
    if (outcome == SB_WORKER_DONE || job->refused) return;
    char fields[64];
    snprintf(fields, sizeof fields, "{\"phone\":\"%s\"}", job->phone);
    if (attempts == 0)
        sb_log_fields(SB_LOG_ERROR, "otp.send_dropped", fields, "sender stopped with this code undelivered");
    else
        sb_log_fields(SB_LOG_ERROR, "otp.send_failed", fields, "one-time code not delivered after %d attempts",
                      attempts);
}

int identity_sender_start(const char *kind, const char *webhook_url, const char *ca_file, identity_sender **out) {
    *out = NULL;
    if (!kind) return SB_EINVAL;
    sender_kind k;
    if (strcmp(kind, "log") == 0) {
        k = SENDER_LOG;
    } else if (strcmp(kind, "webhook") == 0) {
        k = SENDER_WEBHOOK;
        if (!webhook_url || sb_http_url_check(webhook_url, SB_OTP_WEBHOOK_URL_BYTES_MAX) != SB_OK) {
            sb_log(SB_LOG_ERROR, "otp.sender", "the webhook URL must be http(s)://HOST[:PORT]/PATH");
            return SB_EINVAL;
        }
    } else {
        return SB_EINVAL;
    }
    identity_sender *sender = sb_calloc(1, sizeof *sender);
    if (!sender) return SB_ENOMEM;
    sender->kind = k;
    if (k == SENDER_WEBHOOK) snprintf(sender->url, sizeof sender->url, "%s", webhook_url);
    sender->http = (sb_http_options){.ca_file = ca_file,
                                     .connect_timeout_ms = SB_OTP_WEBHOOK_TIMEOUT_MS,
                                     .total_timeout_ms = SB_OTP_WEBHOOK_TIMEOUT_MS};
    sb_worker_config cfg = {.name = "otp_sender",
                            .job_bytes = sizeof(sender_job),
                            .queue_max = SB_OTP_SENDER_QUEUE_MAX,
                            .attempts_max = SB_OTP_WEBHOOK_ATTEMPTS_MAX,
                            .backoff_base_ms = SB_OTP_WEBHOOK_BACKOFF_MS,
                            .backoff_max_ms = SB_OTP_WEBHOOK_BACKOFF_MAX_MS,
                            .stop_wait_ms = SB_OTP_SENDER_STOP_WAIT_MS,
                            .arg = sender,
                            .run = sender_run,
                            .finish = sender_finish};
    int result = sb_worker_launch(&cfg, &sender->worker);
    if (result != SB_OK) {
        sb_free(sender);
        return result;
    }
    *out = sender;
    return SB_OK;
}

sb_worker *identity_sender_worker(identity_sender *sender) { return sender ? sender->worker : NULL; }

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

int identity_sender_enqueue(identity_sender *sender, const char *phone_e164, const char *code) {
    /* Both end up inside JSON and log lines: only "+digits" and digits pass. */
    if (!phone_e164 || !code || !text_is(phone_e164, 2, SB_PHONE_BYTES - 1, true) ||
        !text_is(code, SB_OTP_DIGITS, SB_OTP_DIGITS, false))
        return SB_EINVAL;
    if (!sender) return SB_ECLOSED;
    sender_job job = {0};
    memcpy(job.phone, phone_e164, strlen(phone_e164) + 1);
    memcpy(job.code, code, SB_OTP_DIGITS + 1);
    int result = sb_worker_submit(sender->worker, &job);
    sodium_memzero(&job, sizeof job);
    return result;
}

void identity_sender_stop(identity_sender *sender) {
    if (!sender) return;
    /* delivers what is queued, bounded by the deadline; a stuck job keeps its sender */
    if (!sb_worker_stop(sender->worker)) return;
    sodium_memzero(sender, sizeof *sender);
    sb_free(sender);
}
