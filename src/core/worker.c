/*
 * worker.c - the one background-work primitive (see core.h): a bounded
 * ring of fixed-size jobs, one thread, retries with exponential backoff and
 * full jitter, an optional periodic tick, a stop deadline, counters.
 *
 * Locking: one mutex guards the ring, the counters and the state; the
 * thread never holds it while running a job, sleeping a backoff or ticking.
 * Waits use a condition variable on the monotonic clock, so a wall-clock
 * step neither stalls nor hurries a worker.
 *
 * Ownership at stop: normally stop joins the thread and frees the worker.
 * If a job is still running SB_WORKER_STOP_GRACE_MS past the deadline the
 * worker is abandoned: `abandoned` is set under the lock and the thread is
 * detached; the thread frees the worker when its job returns and calls no
 * callback any more (the owner may already have freed arg).
 */
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/core.h"

struct sb_worker {
    sb_worker_config cfg;
    char name[SB_WORKER_NAME_BYTES];
    pthread_mutex_t lock;
    pthread_cond_t changed; /* jobs queued, stop asked, batch done, thread ended */
    unsigned char *ring;    /* queue_max * job_bytes */
    size_t head, count;
    unsigned char *batch; /* batch_max * job_bytes: the jobs in hand */
    size_t in_hand;
    bool started, stopping, ended, abandoned;
    int64_t stop_deadline_ns;
    pthread_t thread;
    sb_worker_stats stats;
};

static atomic_int threads_alive;

int sb_worker_threads_alive(void) { return atomic_load(&threads_alive); }

const char *sb_worker_name(const sb_worker *w) { return w->name; }

/* ---- time ---- */

static void deadline_after_ns(int64_t ns, struct timespec *out) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t at = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec + (ns > 0 ? ns : 0);
    out->tv_sec = (time_t)(at / 1000000000);
    out->tv_nsec = (long)(at % 1000000000);
}

/* Wait on `changed` for at most ns (lock held). */
static void wait_ns(sb_worker *w, int64_t ns) {
    struct timespec until;
    deadline_after_ns(ns, &until);
    pthread_cond_timedwait(&w->changed, &w->lock, &until);
}

int64_t sb_worker_backoff_cap_ms(int64_t base_ms, int64_t max_ms, int attempt) {
    if (base_ms <= 0 || max_ms <= 0) return 0;
    int64_t cap = base_ms;
    for (int i = 1; i < attempt && cap < max_ms; i++)
        cap = cap > max_ms / 2 ? max_ms : cap * 2;
    return cap < max_ms ? cap : max_ms;
}

int64_t sb_worker_backoff_ms(int64_t base_ms, int64_t max_ms, int attempt) {
    int64_t cap = sb_worker_backoff_cap_ms(base_ms, max_ms, attempt);
    if (cap <= 0) return 0;
    if (cap >= (int64_t)UINT32_MAX) cap = (int64_t)UINT32_MAX - 1;
    return (int64_t)randombytes_uniform((uint32_t)cap + 1);
}

bool sb_worker_stopping(sb_worker *w) {
    pthread_mutex_lock(&w->lock);
    bool stopping = w->stopping;
    pthread_mutex_unlock(&w->lock);
    return stopping;
}

int64_t sb_worker_time_left_ms(sb_worker *w, int64_t step_ms) {
    pthread_mutex_lock(&w->lock);
    int64_t left = step_ms;
    if (w->stopping) {
        /* rounded up: a step cut to the deadline must not end just before
         * it, or the loop would start the next job with under 1 ms left
         * instead of dropping it */
        int64_t until = (w->stop_deadline_ns - sb_mono_ns() + 999999) / 1000000;
        if (until < left) left = until;
    }
    pthread_mutex_unlock(&w->lock);
    return left < 0 ? 0 : left;
}

static bool past_deadline_locked(const sb_worker *w) { return w->stopping && sb_mono_ns() >= w->stop_deadline_ns; }

/* ---- create, submit ---- */

static bool name_ok(const char *name) {
    size_t len = name ? strnlen(name, SB_WORKER_NAME_BYTES) : 0;
    if (len == 0 || len >= SB_WORKER_NAME_BYTES) return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    }
    return true;
}

int sb_worker_create(const sb_worker_config *cfg, sb_worker **out) {
    *out = NULL;
    if (!cfg || !name_ok(cfg->name) || cfg->job_bytes == 0 || cfg->job_bytes > SB_WORKER_JOB_BYTES_MAX ||
        cfg->queue_max == 0 || cfg->queue_max > SB_WORKER_QUEUE_MAX || cfg->batch_max > SB_WORKER_BATCH_MAX ||
        cfg->attempts_max < 0 || cfg->attempts_max > SB_WORKER_ATTEMPTS_MAX || cfg->stop_wait_ms < 0 ||
        cfg->stop_wait_ms > SB_WORKER_STOP_WAIT_MS_MAX || cfg->backoff_base_ms < 0 ||
        cfg->backoff_max_ms < cfg->backoff_base_ms || cfg->period_ms < 0 || (!cfg->run && cfg->period_ms == 0) ||
        (cfg->period_ms > 0 && !cfg->tick))
        return SB_EINVAL;
    sb_worker *w = sb_calloc(1, sizeof *w);
    if (!w) return SB_ENOMEM;
    w->cfg = *cfg;
    if (w->cfg.batch_max == 0) w->cfg.batch_max = 1;
    if (w->cfg.attempts_max == 0) w->cfg.attempts_max = 1;
    if (w->cfg.batch_max > w->cfg.queue_max) w->cfg.batch_max = w->cfg.queue_max;
    snprintf(w->name, sizeof w->name, "%s", cfg->name);
    w->cfg.name = w->name;
    w->ring = sb_calloc(w->cfg.queue_max, w->cfg.job_bytes);
    w->batch = sb_calloc(w->cfg.batch_max, w->cfg.job_bytes);
    if (!w->ring || !w->batch) {
        sb_free(w->ring);
        sb_free(w->batch);
        sb_free(w);
        return SB_ENOMEM;
    }
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w->changed, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&w->lock, NULL);
    *out = w;
    return SB_OK;
}

static unsigned char *slot(const sb_worker *w, size_t index) {
    return w->ring + ((w->head + index) % w->cfg.queue_max) * w->cfg.job_bytes;
}

int sb_worker_submit(sb_worker *w, const void *job) {
    if (!w || !job) return SB_EINVAL;
    pthread_mutex_lock(&w->lock);
    int result = SB_OK;
    if (w->stopping) {
        result = SB_ECLOSED;
    } else if (w->count == w->cfg.queue_max) {
        w->stats.dropped++;
        result = SB_EBUSY;
    } else {
        memcpy(slot(w, w->count), job, w->cfg.job_bytes);
        w->count++;
        w->stats.queued++;
        pthread_cond_broadcast(&w->changed);
    }
    uint64_t dropped = w->stats.dropped;
    pthread_mutex_unlock(&w->lock);
    if (result == SB_EBUSY && dropped % 1000 == 1) {
        char fields[96];
        snprintf(fields, sizeof fields, "{\"worker\":\"%s\",\"dropped\":%llu}", w->name, (unsigned long long)dropped);
        sb_log_fields(SB_LOG_WARN, "worker.queue_full", fields, "%s: queue full (%zu), %llu jobs dropped so far",
                      w->name, w->cfg.queue_max, (unsigned long long)dropped);
    }
    return result;
}

/* Move up to batch_max jobs from the ring into the batch (lock held). */
static size_t take_batch(sb_worker *w) {
    size_t n = 0;
    while (w->count > 0 && n < w->cfg.batch_max) {
        unsigned char *from = slot(w, 0);
        memcpy(w->batch + n * w->cfg.job_bytes, from, w->cfg.job_bytes);
        sodium_memzero(from, w->cfg.job_bytes);
        w->head = (w->head + 1) % w->cfg.queue_max;
        w->count--;
        n++;
    }
    w->in_hand = n;
    return n;
}

/* End each job of the batch: finish, count, wipe (lock not held). */
static void end_batch(sb_worker *w, size_t n, sb_worker_outcome outcome, int attempts) {
    for (size_t k = 0; k < n; k++) {
        unsigned char *job = w->batch + k * w->cfg.job_bytes;
        if (w->cfg.finish) w->cfg.finish(w->cfg.arg, job, outcome, attempts);
        sodium_memzero(job, w->cfg.job_bytes);
    }
    pthread_mutex_lock(&w->lock);
    if (outcome == SB_WORKER_DONE)
        w->stats.done += n;
    else
        w->stats.failed += n;
    w->in_hand = 0;
    pthread_cond_broadcast(&w->changed);
    pthread_mutex_unlock(&w->lock);
}

/* Drop what is queued (lock held): finish each, count. */
static void drop_queued_locked(sb_worker *w) {
    if (w->count == 0) return;
    char fields[96];
    snprintf(fields, sizeof fields, "{\"worker\":\"%s\",\"dropped\":%zu}", w->name, w->count);
    sb_log_fields(SB_LOG_WARN, "worker.stop_drop", fields, "%s: stop deadline passed, %zu jobs not run", w->name,
                  w->count);
    while (w->count > 0) {
        unsigned char *job = slot(w, 0);
        if (w->cfg.finish) w->cfg.finish(w->cfg.arg, job, SB_WORKER_FAILED, 0);
        sodium_memzero(job, w->cfg.job_bytes);
        w->head = (w->head + 1) % w->cfg.queue_max;
        w->count--;
        w->stats.dropped++;
    }
}

/* ---- the thread ---- */

/* Sleep ms unless stop's deadline comes first; false when the deadline cut it. */
static bool backoff_sleep(sb_worker *w, int64_t ms) {
    int64_t until_ns = sb_mono_ns() + ms * 1000000;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        int64_t now = sb_mono_ns();
        if (past_deadline_locked(w)) {
            pthread_mutex_unlock(&w->lock);
            return false;
        }
        if (now >= until_ns) break;
        int64_t left = until_ns - now;
        if (w->stopping && w->stop_deadline_ns - now < left) left = w->stop_deadline_ns - now;
        wait_ns(w, left);
    }
    pthread_mutex_unlock(&w->lock);
    return true;
}

/* Run one batch through its attempts; the outcome it ended with. */
static sb_worker_outcome run_batch(sb_worker *w, void *local, size_t n, int *attempts_out) {
    sb_worker_outcome outcome = SB_WORKER_FAILED;
    int attempt = 1;
    for (;; attempt++) {
        outcome = w->cfg.run(w->cfg.arg, local, w, w->batch, n, attempt);
        if (outcome != SB_WORKER_RETRY) break;
        if (attempt >= w->cfg.attempts_max) {
            outcome = SB_WORKER_FAILED;
            break;
        }
        int64_t sleep_ms = sb_worker_backoff_ms(w->cfg.backoff_base_ms, w->cfg.backoff_max_ms, attempt);
        if (!backoff_sleep(w, sleep_ms)) {
            outcome = SB_WORKER_FAILED;
            break;
        }
        pthread_mutex_lock(&w->lock);
        w->stats.retried++;
        pthread_mutex_unlock(&w->lock);
    }
    *attempts_out = attempt;
    return outcome;
}

/* After a job returned: if stop abandoned us, free the worker and say so
 * (no callback may run any more). */
static bool abandoned_after_job(sb_worker *w) {
    pthread_mutex_lock(&w->lock);
    bool abandoned = w->abandoned;
    pthread_mutex_unlock(&w->lock);
    if (!abandoned) return false;
    sb_log(SB_LOG_WARN, "worker.abandoned_end", "%s: the stuck job returned after stop; the thread ends", w->name);
    pthread_cond_destroy(&w->changed);
    pthread_mutex_destroy(&w->lock);
    sb_free(w->ring);
    sb_free(w->batch);
    sb_free(w);
    atomic_fetch_sub(&threads_alive, 1);
    return true;
}

static void *worker_main(void *arg) {
    sb_worker *w = arg;
    void *local = NULL;
    if (w->cfg.thread_start) {
        int result = w->cfg.thread_start(w->cfg.thread_arg ? w->cfg.thread_arg : w->cfg.arg, &local);
        if (result != SB_OK) {
            sb_log(SB_LOG_ERROR, "worker.start", "%s: cannot set up its thread: %s", w->name, sb_strerror(result));
            local = NULL;
        }
    }
    int64_t next_tick_ns = sb_mono_ns(); /* the first tick at start */
    pthread_mutex_lock(&w->lock);
    for (;;) {
        if (past_deadline_locked(w)) {
            drop_queued_locked(w);
            break;
        }
        if (w->count > 0) {
            size_t n = take_batch(w);
            pthread_mutex_unlock(&w->lock);
            int attempts = 0;
            sb_worker_outcome outcome = run_batch(w, local, n, &attempts);
            if (abandoned_after_job(w)) return NULL;
            end_batch(w, n, outcome, attempts);
            pthread_mutex_lock(&w->lock);
            continue;
        }
        if (w->stopping) break; /* nothing queued: done */
        if (w->cfg.period_ms > 0 && sb_mono_ns() >= next_tick_ns) {
            pthread_mutex_unlock(&w->lock);
            w->cfg.tick(w->cfg.arg, local, w);
            if (abandoned_after_job(w)) return NULL;
            next_tick_ns = sb_mono_ns() + w->cfg.period_ms * 1000000;
            pthread_mutex_lock(&w->lock);
            continue;
        }
        if (w->cfg.period_ms > 0)
            wait_ns(w, next_tick_ns - sb_mono_ns());
        else
            pthread_cond_wait(&w->changed, &w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    if (w->cfg.thread_end) w->cfg.thread_end(w->cfg.thread_arg ? w->cfg.thread_arg : w->cfg.arg, local);
    pthread_mutex_lock(&w->lock);
    w->ended = true;
    pthread_cond_broadcast(&w->changed);
    pthread_mutex_unlock(&w->lock);
    atomic_fetch_sub(&threads_alive, 1);
    return NULL;
}

int sb_worker_start(sb_worker *w) {
    pthread_mutex_lock(&w->lock);
    bool busy = w->started || w->stopping;
    pthread_mutex_unlock(&w->lock);
    if (busy) return SB_EBUSY;
    atomic_fetch_add(&threads_alive, 1);
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        atomic_fetch_sub(&threads_alive, 1);
        return SB_EINTERNAL;
    }
    pthread_mutex_lock(&w->lock);
    w->started = true;
    pthread_mutex_unlock(&w->lock);
    return SB_OK;
}

int sb_worker_launch(const sb_worker_config *cfg, sb_worker **out) {
    int result = sb_worker_create(cfg, out);
    if (result == SB_OK) result = sb_worker_start(*out);
    if (result != SB_OK && *out) {
        bool ended = sb_worker_stop(*out); /* never started: frees at once */
        (void)ended;
        *out = NULL;
    }
    return result;
}

int sb_worker_drain(sb_worker *w, void *local, size_t *ran_out) {
    if (ran_out) *ran_out = 0;
    if (!w || !w->cfg.run) return SB_EINVAL;
    pthread_mutex_lock(&w->lock);
    bool threaded = w->started;
    pthread_mutex_unlock(&w->lock);
    if (threaded) return SB_EBUSY;
    size_t ran = 0;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        size_t n = take_batch(w);
        pthread_mutex_unlock(&w->lock);
        if (n == 0) break;
        sb_worker_outcome outcome = w->cfg.run(w->cfg.arg, local, w, w->batch, n, 1);
        end_batch(w, n, outcome == SB_WORKER_DONE ? SB_WORKER_DONE : SB_WORKER_FAILED, 1);
        ran += n;
    }
    if (ran_out) *ran_out = ran;
    return SB_OK;
}

int sb_worker_flush(sb_worker *w, int64_t timeout_ms) {
    if (!w) return SB_EINVAL;
    int64_t until_ns = sb_mono_ns() + timeout_ms * 1000000;
    int result = SB_OK;
    pthread_mutex_lock(&w->lock);
    while (w->count > 0 || w->in_hand > 0) {
        int64_t left = until_ns - sb_mono_ns();
        if (left <= 0) {
            result = SB_ETIMEOUT;
            break;
        }
        wait_ns(w, left);
    }
    pthread_mutex_unlock(&w->lock);
    return result;
}

void sb_worker_stats_get(sb_worker *w, sb_worker_stats *out) {
    memset(out, 0, sizeof *out);
    if (!w) return;
    pthread_mutex_lock(&w->lock);
    *out = w->stats;
    out->depth = w->count;
    pthread_mutex_unlock(&w->lock);
}

static void worker_free(sb_worker *w) {
    pthread_cond_destroy(&w->changed);
    pthread_mutex_destroy(&w->lock);
    sb_free(w->ring);
    sb_free(w->batch);
    sb_free(w);
}

bool sb_worker_stop(sb_worker *w) {
    if (!w) return true;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    w->stop_deadline_ns = sb_mono_ns() + w->cfg.stop_wait_ms * 1000000;
    pthread_cond_broadcast(&w->changed);
    if (!w->started) {
        /* never started: nothing runs them */
        w->stop_deadline_ns = 0;
        drop_queued_locked(w);
        pthread_mutex_unlock(&w->lock);
        worker_free(w);
        return true;
    }
    int64_t give_up_ns = w->stop_deadline_ns + (int64_t)SB_WORKER_STOP_GRACE_MS * 1000000;
    while (!w->ended && sb_mono_ns() < give_up_ns) {
        /* wake a backoff sleep at the deadline itself */
        int64_t to_deadline = w->stop_deadline_ns - sb_mono_ns();
        wait_ns(w, to_deadline > 0 ? to_deadline : give_up_ns - sb_mono_ns());
        pthread_cond_broadcast(&w->changed);
    }
    if (!w->ended) {
        /* a job is stuck: drop the rest, leave the thread the worker */
        drop_queued_locked(w);
        w->abandoned = true;
        char fields[96];
        snprintf(fields, sizeof fields, "{\"worker\":\"%s\",\"in_hand\":%zu}", w->name, w->in_hand);
        sb_log_fields(SB_LOG_ERROR, "worker.abandoned", fields,
                      "%s: a job is still running past the stop deadline; its thread is left to end on its own",
                      w->name);
        pthread_mutex_unlock(&w->lock);
        pthread_detach(w->thread);
        return false;
    }
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    worker_free(w);
    return true;
}

/* ---- metrics ---- */

int sb_worker_metrics_render(sb_worker *const *workers, size_t count, sb_buf *out) {
    int result = sb_buf_append_str(out, "# HELP sb_worker_jobs_total Background jobs by worker and result.\n"
                                        "# TYPE sb_worker_jobs_total counter\n");
    for (size_t i = 0; result == SB_OK && i < count; i++) {
        if (!workers[i]) continue;
        sb_worker_stats s;
        sb_worker_stats_get(workers[i], &s);
        const char *name = sb_worker_name(workers[i]);
        const struct {
            const char *result;
            uint64_t n;
        } rows[] = {{"queued", s.queued},
                    {"done", s.done},
                    {"retried", s.retried},
                    {"failed", s.failed},
                    {"dropped", s.dropped}};
        for (size_t r = 0; result == SB_OK && r < SB_ARRAY_LEN(rows); r++)
            result = sb_buf_printf(out, "sb_worker_jobs_total{worker=\"%s\",result=\"%s\"} %llu\n", name,
                                   rows[r].result, (unsigned long long)rows[r].n);
    }
    if (result == SB_OK)
        result = sb_buf_append_str(out, "# HELP sb_worker_queue_depth Jobs waiting in a worker's queue.\n"
                                        "# TYPE sb_worker_queue_depth gauge\n");
    for (size_t i = 0; result == SB_OK && i < count; i++) {
        if (!workers[i]) continue;
        sb_worker_stats s;
        sb_worker_stats_get(workers[i], &s);
        result = sb_buf_printf(out, "sb_worker_queue_depth{worker=\"%s\"} %zu\n", sb_worker_name(workers[i]), s.depth);
    }
    return result;
}
