/*
 * offload.h - a small bounded pool of threads for CPU-heavy work that must
 * not run on an event loop (argon2id password checks): N threads, a cap on
 * the jobs accepted and not yet completed, and a completion callback that
 * hands the job back to its owner (an event loop posts it to itself).
 *
 * Contract:
 *   - sb_offload_submit either accepts the job (its complete callback will
 *     be called exactly once: after run on a worker thread, or with
 *     SB_ECLOSED without run when the pool stops first) or refuses it
 *     (SB_EBUSY when jobs_max jobs are in flight, SB_ECLOSED when stopping)
 *     and then never calls it.
 *   - each worker runs thread_init once before its first job (its own
 *     database connection, say) and thread_fini when it ends.
 *   - sb_offload_stop: no new jobs; queued jobs are completed with
 *     SB_ECLOSED on the calling thread; running jobs finish; threads join.
 */
#ifndef SB_CORE_OFFLOAD_H
#define SB_CORE_OFFLOAD_H

#include "core/core.h"

typedef struct sb_offload sb_offload;
typedef struct sb_offload_job sb_offload_job;

struct sb_offload_job {
    /* On a worker thread; worker_state is what thread_init made (may be NULL). */
    void (*run)(sb_offload_job *job, void *worker_state);
    /* Exactly once per accepted job: result SB_OK after run (on the worker),
     * SB_ECLOSED when cancelled by sb_offload_stop (on the stopping thread).
     * It must not call back into the pool; the job's memory is the owner's. */
    void (*complete)(sb_offload_job *job, int result);
    sb_offload_job *next_; /* the pool's queue */
};

typedef struct {
    const char *name; /* for logs: "password" */
    int threads;      /* 1..SB_OFFLOAD_THREADS_MAX */
    int jobs_max;     /* accepted and not yet completed, running ones included: >= 1 */
    /* Per worker thread (both may be NULL).  A failed init is logged and the
     * worker runs its jobs with a NULL state (run must cope). */
    int (*thread_init)(void *arg, void **state_out);
    void (*thread_fini)(void *arg, void *state);
    void *arg;
} sb_offload_config;

/* Counters (monotonic, read without a lock). */
typedef struct {
    uint64_t accepted, refused, completed, cancelled;
    int64_t in_flight;
} sb_offload_stats;

/* Start the threads.  *out is owned by the caller: sb_offload_stop.
 * SB_EINVAL for a bad config, SB_ENOMEM, SB_EINTERNAL when a thread cannot
 * start (nothing is left running then). */
int sb_offload_start(const sb_offload_config *cfg, sb_offload **out) SB_MUST_CHECK;
/* Queue job (borrowed until its complete callback).  Any thread. */
int sb_offload_submit(sb_offload *o, sb_offload_job *job) SB_MUST_CHECK;
/* See the contract above; frees o.  NULL is fine. */
void sb_offload_stop(sb_offload *o);
void sb_offload_stats_get(sb_offload *o, sb_offload_stats *out);

#endif /* SB_CORE_OFFLOAD_H */
