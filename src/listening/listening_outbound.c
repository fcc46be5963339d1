/*
 * listening_outbound.c - replies to external networks leave through an
 * outbound connector: the interface (listening_outbound_connector), the
 * webhook connector that POSTs each reply to the bank's integration service
 * (which holds the networks' credentials), and the sender thread.
 *
 * The queue is the replies table itself: listening_case_reply records an
 * external reply as 'pending' with next_attempt_ms = now when a connector
 * runs (cfg.outbound).  The sender thread, with its own store connection,
 * takes at most SB_LISTENING_OUTBOUND_BATCH_MAX due replies a pass (oldest
 * due first), sends each one outside any transaction, and records the
 * outcome: 'sent'; or, for a network error or a 5xx/408/429 answer, another
 * attempt after a doubling backoff with jitter (next_attempt_ms), up to
 * SB_LISTENING_OUTBOUND_ATTEMPTS_MAX attempts, then 'failed'; a final
 * refusal (another 4xx) is 'failed' at once.  attempts and last_error show
 * on the case.  A route wakes the thread after a reply's commit; otherwise
 * it looks every SB_LISTENING_OUTBOUND_IDLE_MS.  A restart resumes what is
 * pending, and reply_id lets the receiver drop a repeat of a send whose
 * answer was lost.
 *
 * One thread, one bounded batch, one stop flag: the shape the generic
 * background-work primitive takes, so this file can move onto it.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "listening/listening_int.h"

/* ---- the webhook connector ---- */

static int webhook_send(void *arg, const listening_outbound_item *item, int *status_out) {
    listening_outbound_webhook_state *state = arg;
    *status_out = 0;
    json_t *body =
        json_pack("{s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:s}", "type", "listening.reply", "reply_id",
                  (json_int_t)item->reply_id, "case_id", (json_int_t)item->case_id, "source", item->source, "author",
                  item->author, "in_reply_to", item->in_reply_to, "agent", item->agent, "text", item->text);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text) return SB_ENOMEM;
    sb_http_options options = {.ca_file = state->ca_file,
                               .connect_timeout_ms = SB_LISTENING_WEBHOOK_STEP_TIMEOUT_MS,
                               .total_timeout_ms = 2 * SB_LISTENING_WEBHOOK_STEP_TIMEOUT_MS};
    int result = sb_http_post_json(&options, state->url, text, strlen(text), status_out);
    free(text);
    return result;
}

listening_outbound_connector listening_outbound_webhook(listening_outbound_webhook_state *state) {
    return (listening_outbound_connector){.name = "webhook", .send = webhook_send, .arg = state};
}

/* ---- the sender ---- */

struct listening_outbound {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop, woken;
    pthread_t thread;
    store *s;
    listening *l;
    listening_outbound_connector connector;
    int64_t backoff_ms;
    listening_outbound_stats stats;
};

typedef struct {
    int64_t reply_id, case_id, attempts;
    char source[SB_LISTENING_SOURCE_BYTES_MAX + 1];
    char author[SB_LISTENING_AUTHOR_BYTES_MAX + 1];
    char in_reply_to[SB_LISTENING_EXTERNAL_ID_BYTES_MAX + 1];
    char agent[SB_USERNAME_BYTES_MAX + 1];
    char *text;
} due_reply;

/* The wait before attempt n+1 (n >= 1): backoff * 2^(n-1), capped, with up
 * to a quarter more of jitter so replies failing together spread out. */
static int64_t retry_wait_ms(int64_t backoff_ms, int64_t attempts) {
    int64_t wait = backoff_ms;
    for (int64_t k = 1; k < attempts && wait < SB_LISTENING_OUTBOUND_BACKOFF_MS_MAX; k++)
        wait *= 2;
    if (wait > SB_LISTENING_OUTBOUND_BACKOFF_MS_MAX) wait = SB_LISTENING_OUTBOUND_BACKOFF_MS_MAX;
    uint32_t r;
    sb_random_bytes(&r, sizeof r);
    return wait + (int64_t)(r % (uint32_t)(wait / 4 + 1));
}

static int due_load(listening_outbound *o, int64_t now_ms, due_reply *out, size_t *count_out) {
    *count_out = 0;
    store_stmt *st;
    int result = store_query(o->s, &st,
                             "SELECT r.id, r.case_id, r.attempts, c.source, c.author, r.in_reply_to, r.agent, r.text "
                             "FROM listening_replies r JOIN listening_cases c ON c.id = r.case_id WHERE r.delivery = "
                             "'pending' AND r.channel = 'external' AND r.next_attempt_ms <= ? ORDER BY "
                             "r.next_attempt_ms, r.id LIMIT ?",
                             "ii", now_ms, (int64_t)SB_LISTENING_OUTBOUND_BATCH_MAX);
    if (result != SB_OK) return result;
    size_t n = 0;
    while ((result = store_step(st)) == STORE_ROW) {
        due_reply *d = &out[n];
        memset(d, 0, sizeof *d);
        d->reply_id = store_col_int64(st, 0);
        d->case_id = store_col_int64(st, 1);
        d->attempts = store_col_int64(st, 2);
        snprintf(d->source, sizeof d->source, "%s", store_col_text(st, 3));
        snprintf(d->author, sizeof d->author, "%s", store_col_text(st, 4));
        snprintf(d->in_reply_to, sizeof d->in_reply_to, "%s", store_col_text(st, 5));
        snprintf(d->agent, sizeof d->agent, "%s", store_col_text(st, 6));
        const char *text = store_col_text(st, 7);
        d->text = sb_strndup(text, strlen(text));
        if (!d->text) {
            result = SB_ENOMEM;
            break;
        }
        n++;
    }
    store_stmt_done(st);
    *count_out = n;
    return result == STORE_DONE ? SB_OK : result;
}

static void send_one(listening_outbound *o, due_reply *d) {
    listening_outbound_item item = {.reply_id = d->reply_id,
                                    .case_id = d->case_id,
                                    .source = d->source,
                                    .author = d->author,
                                    .in_reply_to = d->in_reply_to,
                                    .agent = d->agent,
                                    .text = d->text};
    int status = 0;
    int result = o->connector.send(o->connector.arg, &item, &status);
    int64_t now_ms = sb_now_ms(), attempts = d->attempts + 1;
    char error[96] = "";
    const char *delivery = "sent";
    int64_t next_ms = 0;
    if (result != SB_OK) {
        if (status)
            snprintf(error, sizeof error, "HTTP %d", status);
        else
            snprintf(error, sizeof error, "%s", sb_strerror(result));
        bool retry = result == SB_EBUSY || result == SB_EIO || result == SB_ETIMEOUT || result == SB_ECLOSED;
        if (retry && attempts < SB_LISTENING_OUTBOUND_ATTEMPTS_MAX) {
            delivery = "pending";
            next_ms = now_ms + retry_wait_ms(o->backoff_ms, attempts);
        } else {
            delivery = "failed";
        }
    }
    int written = listening_reply_delivery_set(o->l, d->reply_id, delivery, attempts, next_ms, error, now_ms);
    char fields[160];
    snprintf(fields, sizeof fields, "{\"reply_id\":%lld,\"case_id\":%lld,\"attempts\":%lld,\"status\":%d}",
             (long long)d->reply_id, (long long)d->case_id, (long long)attempts, status);
    pthread_mutex_lock(&o->lock);
    if (strcmp(delivery, "sent") == 0)
        o->stats.sent++;
    else if (strcmp(delivery, "failed") == 0)
        o->stats.failed++;
    else
        o->stats.retried++;
    pthread_mutex_unlock(&o->lock);
    sb_log_fields(strcmp(delivery, "failed") == 0 ? SB_LOG_WARN : SB_LOG_INFO, "listening.outbound", fields,
                  "reply %s through %s%s%s", delivery, o->connector.name, error[0] ? ": " : "", error);
    if (written != SB_OK)
        sb_log(SB_LOG_ERROR, "listening.outbound", "cannot record reply %lld as %s: %s", (long long)d->reply_id,
               delivery, sb_strerror(written));
}

static void *sender_main(void *arg) {
    listening_outbound *o = arg;
    due_reply *due = sb_calloc(SB_LISTENING_OUTBOUND_BATCH_MAX, sizeof *due);
    for (;;) {
        pthread_mutex_lock(&o->lock);
        bool stop = o->stop;
        o->woken = false;
        pthread_mutex_unlock(&o->lock);
        if (stop) break;
        size_t n = 0;
        int result = due ? due_load(o, sb_now_ms(), due, &n) : SB_ENOMEM;
        if (result != SB_OK)
            sb_log(SB_LOG_ERROR, "listening.outbound", "cannot read due replies: %s", sb_strerror(result));
        for (size_t k = 0; k < n; k++) {
            pthread_mutex_lock(&o->lock);
            stop = o->stop;
            pthread_mutex_unlock(&o->lock);
            if (!stop) send_one(o, &due[k]);
            sb_free(due[k].text);
            due[k].text = NULL;
        }
        if (n == SB_LISTENING_OUTBOUND_BATCH_MAX && result == SB_OK) continue; /* more may be due */
        /* Sleep until woken, stopped, or the idle time passes (a retry's
         * time comes within it when the backoff is shorter). */
        int64_t idle_ms = o->backoff_ms < SB_LISTENING_OUTBOUND_IDLE_MS ? o->backoff_ms : SB_LISTENING_OUTBOUND_IDLE_MS;
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += (time_t)(idle_ms / 1000);
        until.tv_nsec += (long)(idle_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&o->lock);
        while (!o->stop && !o->woken)
            if (pthread_cond_timedwait(&o->wake, &o->lock, &until) != 0) break;
        pthread_mutex_unlock(&o->lock);
    }
    sb_free(due);
    return NULL;
}

int listening_outbound_start(const char *location, listening_outbound_connector connector, int64_t backoff_ms,
                             listening_outbound **out) {
    *out = NULL;
    if (!connector.send || backoff_ms < 0) return SB_EINVAL;
    listening_outbound *o = sb_calloc(1, sizeof *o);
    if (!o) return SB_ENOMEM;
    o->connector = connector;
    o->backoff_ms = backoff_ms ? backoff_ms : SB_LISTENING_OUTBOUND_BACKOFF_MS;
    int result = store_open(location, NULL, &o->s);
    if (result == SB_OK) result = listening_open(o->s, NULL, &o->l);
    pthread_condattr_t attr;
    bool cond = false;
    if (result == SB_OK) {
        pthread_mutex_init(&o->lock, NULL);
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        cond = pthread_cond_init(&o->wake, &attr) == 0;
        pthread_condattr_destroy(&attr);
        if (!cond) result = SB_EIO;
    }
    if (result == SB_OK && pthread_create(&o->thread, NULL, sender_main, o) != 0) result = SB_EIO;
    if (result != SB_OK) {
        if (cond) {
            pthread_cond_destroy(&o->wake);
            pthread_mutex_destroy(&o->lock);
        }
        listening_close(o->l);
        store_close(o->s);
        sb_free(o);
        return result;
    }
    *out = o;
    return SB_OK;
}

void listening_outbound_wake(listening_outbound *o) {
    if (!o) return;
    pthread_mutex_lock(&o->lock);
    o->woken = true;
    pthread_cond_signal(&o->wake);
    pthread_mutex_unlock(&o->lock);
}

void listening_outbound_stats_get(listening_outbound *o, listening_outbound_stats *out) {
    memset(out, 0, sizeof *out);
    if (!o) return;
    pthread_mutex_lock(&o->lock);
    *out = o->stats;
    pthread_mutex_unlock(&o->lock);
}

void listening_outbound_stop(listening_outbound *o) {
    if (!o) return;
    pthread_mutex_lock(&o->lock);
    o->stop = true;
    pthread_cond_signal(&o->wake);
    pthread_mutex_unlock(&o->lock);
    pthread_join(o->thread, NULL);
    pthread_cond_destroy(&o->wake);
    pthread_mutex_destroy(&o->lock);
    listening_close(o->l);
    store_close(o->s);
    sb_free(o);
}
