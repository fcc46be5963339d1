/*
 * offload.c - the bounded thread pool of offload.h: one mutex, one
 * condition variable, a FIFO of waiting jobs and a count of jobs in flight
 * (waiting or running) that sb_offload_submit checks against jobs_max, so
 * the work accepted, and the memory it holds (64 MiB an argon2id check),
 * has a bound.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "core/offload.h"

struct sb_offload {
    sb_offload_config cfg;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    sb_offload_job *head, *tail; /* waiting, oldest first */
    int in_flight;               /* waiting + running */
    bool stopping;
    int started;
    pthread_t threads[SB_OFFLOAD_THREADS_MAX];
    _Atomic uint64_t accepted, refused, completed, cancelled;
};

static void *worker_main(void *arg) {
    sb_offload *o = arg;
    void *state = NULL;
    if (o->cfg.thread_init && o->cfg.thread_init(o->cfg.arg, &state) != SB_OK) {
        sb_log(SB_LOG_ERROR, "offload.thread", "%s: a worker could not prepare; its jobs run without", o->cfg.name);
        state = NULL;
    }
    pthread_mutex_lock(&o->lock);
    for (;;) {
        while (!o->head && !o->stopping)
            pthread_cond_wait(&o->wake, &o->lock);
        sb_offload_job *job = o->head;
        if (!job) break; /* stopping and nothing left */
        o->head = job->next_;
        if (!o->head) o->tail = NULL;
        pthread_mutex_unlock(&o->lock);
        job->run(job, state);
        /* its slot is free before its owner hears of it: an owner that
         * answers and is asked again at once finds room */
        pthread_mutex_lock(&o->lock);
        o->in_flight--;
        pthread_mutex_unlock(&o->lock);
        atomic_fetch_add_explicit(&o->completed, 1, memory_order_relaxed);
        job->complete(job, SB_OK);
        pthread_mutex_lock(&o->lock);
    }
    pthread_mutex_unlock(&o->lock);
    if (o->cfg.thread_fini) o->cfg.thread_fini(o->cfg.arg, state);
    return NULL;
}

int sb_offload_start(const sb_offload_config *cfg, sb_offload **out) {
    *out = NULL;
    if (!cfg || cfg->threads < 1 || cfg->threads > SB_OFFLOAD_THREADS_MAX || cfg->jobs_max < 1) return SB_EINVAL;
    sb_offload *o = sb_calloc(1, sizeof *o);
    if (!o) return SB_ENOMEM;
    o->cfg = *cfg;
    if (!o->cfg.name) o->cfg.name = "offload";
    pthread_mutex_init(&o->lock, NULL);
    pthread_cond_init(&o->wake, NULL);
    for (int i = 0; i < cfg->threads; i++) {
        if (pthread_create(&o->threads[i], NULL, worker_main, o) != 0) {
            sb_offload_stop(o);
            return SB_EINTERNAL;
        }
        o->started++;
    }
    *out = o;
    return SB_OK;
}

int sb_offload_submit(sb_offload *o, sb_offload_job *job) {
    if (!o || !job || !job->run || !job->complete) return SB_EINVAL;
    int result = SB_OK;
    pthread_mutex_lock(&o->lock);
    if (o->stopping) {
        result = SB_ECLOSED;
    } else if (o->in_flight >= o->cfg.jobs_max) {
        result = SB_EBUSY;
    } else {
        job->next_ = NULL;
        if (o->tail)
            o->tail->next_ = job;
        else
            o->head = job;
        o->tail = job;
        o->in_flight++;
        pthread_cond_signal(&o->wake);
    }
    pthread_mutex_unlock(&o->lock);
    atomic_fetch_add_explicit(result == SB_OK ? &o->accepted : &o->refused, 1, memory_order_relaxed);
    return result;
}

void sb_offload_stop(sb_offload *o) {
    if (!o) return;
    pthread_mutex_lock(&o->lock);
    o->stopping = true;
    sb_offload_job *cancelled = o->head;
    o->head = o->tail = NULL;
    pthread_cond_broadcast(&o->wake);
    pthread_mutex_unlock(&o->lock);
    while (cancelled) {
        sb_offload_job *next = cancelled->next_;
        pthread_mutex_lock(&o->lock);
        o->in_flight--;
        pthread_mutex_unlock(&o->lock);
        atomic_fetch_add_explicit(&o->cancelled, 1, memory_order_relaxed);
        cancelled->complete(cancelled, SB_ECLOSED);
        cancelled = next;
    }
    for (int i = 0; i < o->started; i++)
        pthread_join(o->threads[i], NULL);
    SB_ASSERT(o->in_flight == 0);
    pthread_cond_destroy(&o->wake);
    pthread_mutex_destroy(&o->lock);
    sb_free(o);
}

void sb_offload_stats_get(sb_offload *o, sb_offload_stats *out) {
    memset(out, 0, sizeof *out);
    if (!o) return;
    out->accepted = atomic_load_explicit(&o->accepted, memory_order_relaxed);
    out->refused = atomic_load_explicit(&o->refused, memory_order_relaxed);
    out->completed = atomic_load_explicit(&o->completed, memory_order_relaxed);
    out->cancelled = atomic_load_explicit(&o->cancelled, memory_order_relaxed);
    pthread_mutex_lock(&o->lock);
    out->in_flight = o->in_flight;
    pthread_mutex_unlock(&o->lock);
}
