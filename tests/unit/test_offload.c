/*
 * test_offload.c - core/offload.c, the bounded pool that keeps password
 * hashing off the event loops: jobs run on the pool's threads with their
 * thread's state, the cap on jobs in flight refuses the next one with
 * SB_EBUSY (and then never calls it), and stopping cancels waiting jobs with
 * SB_ECLOSED while running ones finish.  Jobs wait on a gate the test opens,
 * so nothing here depends on timing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <pthread.h>

#include "core/offload.h"

static struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    bool open;
    int running;
    int inits, finis;
} gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0, 0, 0};

typedef struct {
    sb_offload_job job;
    int ran;         /* times run was called */
    int completed;   /* times complete was called */
    int result;      /* complete's result */
    void *state;     /* the worker state run saw */
    bool opens_gate; /* complete opens the gate (a cancelled job, in the stop test) */
} test_job;

static int worker_init(void *arg, void **state_out) {
    pthread_mutex_lock(&gate.lock);
    gate.inits++;
    pthread_mutex_unlock(&gate.lock);
    *state_out = arg;
    return SB_OK;
}

static void worker_fini(void *arg, void *state) {
    assert_ptr_equal(arg, state);
    pthread_mutex_lock(&gate.lock);
    gate.finis++;
    pthread_mutex_unlock(&gate.lock);
}

static void job_run(sb_offload_job *job, void *state) {
    test_job *j = (test_job *)job;
    pthread_mutex_lock(&gate.lock);
    j->ran++;
    j->state = state;
    gate.running++;
    pthread_cond_broadcast(&gate.changed);
    while (!gate.open)
        pthread_cond_wait(&gate.changed, &gate.lock);
    gate.running--;
    pthread_mutex_unlock(&gate.lock);
}

static void job_complete(sb_offload_job *job, int result) {
    test_job *j = (test_job *)job;
    pthread_mutex_lock(&gate.lock);
    j->completed++;
    j->result = result;
    if (j->opens_gate) gate.open = true;
    pthread_cond_broadcast(&gate.changed);
    pthread_mutex_unlock(&gate.lock);
}

static void gate_reset(void) {
    pthread_mutex_lock(&gate.lock);
    gate.open = false;
    gate.running = 0;
    gate.inits = gate.finis = 0;
    pthread_mutex_unlock(&gate.lock);
}

static void wait_running(int n) {
    pthread_mutex_lock(&gate.lock);
    while (gate.running < n)
        pthread_cond_wait(&gate.changed, &gate.lock);
    pthread_mutex_unlock(&gate.lock);
}

static void wait_completed(test_job *j) {
    pthread_mutex_lock(&gate.lock);
    while (j->completed == 0)
        pthread_cond_wait(&gate.changed, &gate.lock);
    pthread_mutex_unlock(&gate.lock);
}

static test_job job_new(void) {
    test_job j;
    memset(&j, 0, sizeof j);
    j.job.run = job_run;
    j.job.complete = job_complete;
    return j;
}

static void test_cap_refuses_and_jobs_complete_once(void **state) {
    (void)state;
    gate_reset();
    static int worker_state;
    sb_offload_config cfg = {.name = "test",
                             .threads = 1,
                             .jobs_max = 2,
                             .thread_init = worker_init,
                             .thread_fini = worker_fini,
                             .arg = &worker_state};
    sb_offload *o;
    assert_int_equal(sb_offload_start(&cfg, &o), SB_OK);
    test_job a = job_new(), b = job_new(), c = job_new();
    assert_int_equal(sb_offload_submit(o, &a.job), SB_OK);
    wait_running(1);                                          /* a holds the one thread */
    assert_int_equal(sb_offload_submit(o, &b.job), SB_OK);    /* waits */
    assert_int_equal(sb_offload_submit(o, &c.job), SB_EBUSY); /* two in flight: full */
    sb_offload_stats stats;
    sb_offload_stats_get(o, &stats);
    assert_int_equal(stats.in_flight, 2);
    assert_int_equal(stats.refused, 1);
    pthread_mutex_lock(&gate.lock);
    gate.open = true;
    pthread_cond_broadcast(&gate.changed);
    pthread_mutex_unlock(&gate.lock);
    wait_completed(&a);
    wait_completed(&b);
    sb_offload_stop(o);
    assert_int_equal(a.ran, 1);
    assert_int_equal(a.completed, 1);
    assert_int_equal(a.result, SB_OK);
    assert_ptr_equal(a.state, &worker_state);
    assert_int_equal(b.ran, 1);
    assert_int_equal(b.completed, 1);
    assert_int_equal(c.ran, 0);
    assert_int_equal(c.completed, 0); /* refused: never called */
    assert_int_equal(gate.inits, 1);
    assert_int_equal(gate.finis, 1);
}

static void test_stop_cancels_waiting_jobs(void **state) {
    (void)state;
    gate_reset();
    sb_offload_config cfg = {.name = "test", .threads = 1, .jobs_max = 3};
    sb_offload *o;
    assert_int_equal(sb_offload_start(&cfg, &o), SB_OK);
    test_job a = job_new(), b = job_new(), c = job_new();
    assert_int_equal(sb_offload_submit(o, &a.job), SB_OK);
    wait_running(1);
    assert_int_equal(sb_offload_submit(o, &b.job), SB_OK);
    c.opens_gate = true; /* its cancellation lets a finish, so stop can join */
    assert_int_equal(sb_offload_submit(o, &c.job), SB_OK);
    sb_offload_stop(o);
    assert_int_equal(a.ran, 1);
    assert_int_equal(a.completed, 1);
    assert_int_equal(a.result, SB_OK);
    assert_null(a.state); /* no thread_init: a NULL state */
    assert_int_equal(b.ran, 0);
    assert_int_equal(b.completed, 1);
    assert_int_equal(b.result, SB_ECLOSED);
    assert_int_equal(c.ran, 0);
    assert_int_equal(c.completed, 1);
    assert_int_equal(c.result, SB_ECLOSED);
}

static void test_bad_arguments(void **state) {
    (void)state;
    sb_offload *o;
    sb_offload_config cfg = {.threads = 0, .jobs_max = 1};
    assert_int_equal(sb_offload_start(&cfg, &o), SB_EINVAL);
    cfg.threads = SB_OFFLOAD_THREADS_MAX + 1;
    assert_int_equal(sb_offload_start(&cfg, &o), SB_EINVAL);
    cfg.threads = 1;
    cfg.jobs_max = 0;
    assert_int_equal(sb_offload_start(&cfg, &o), SB_EINVAL);
    cfg.jobs_max = 1;
    assert_int_equal(sb_offload_start(&cfg, &o), SB_OK);
    sb_offload_job no_callbacks;
    memset(&no_callbacks, 0, sizeof no_callbacks);
    assert_int_equal(sb_offload_submit(o, &no_callbacks), SB_EINVAL);
    sb_offload_stop(o);
    sb_offload_stop(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap_refuses_and_jobs_complete_once),
        cmocka_unit_test(test_stop_cancels_waiting_jobs),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests_name("offload", tests, NULL, NULL);
}
