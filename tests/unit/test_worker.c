/*
 * test_worker.c - the background-work primitive (core/worker.c): backoff
 * caps and full-jitter bounds, retries then success, attempts exhausted, a
 * full queue, the stop deadline with a stuck job (stop returns, the rest is
 * dropped, the thread ends on its own once the job returns), draining at
 * stop, the periodic tick, running without a thread, the counters on
 * /metrics, and bad configurations.  Waits are bounded loops, never timed
 * assertions.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/core.h"

/* ---- backoff ---- */

static void test_backoff_cap(void **state) {
    (void)state;
    assert_int_equal(sb_worker_backoff_cap_ms(100, 1000, 1), 100);
    assert_int_equal(sb_worker_backoff_cap_ms(100, 1000, 2), 200);
    assert_int_equal(sb_worker_backoff_cap_ms(100, 1000, 3), 400);
    assert_int_equal(sb_worker_backoff_cap_ms(100, 1000, 4), 800);
    assert_int_equal(sb_worker_backoff_cap_ms(100, 1000, 5), 1000);
    assert_int_equal(sb_worker_backoff_cap_ms(100, 1000, 60), 1000);
    /* no overflow however large */
    assert_int_equal(sb_worker_backoff_cap_ms(INT64_MAX / 2 + 1, INT64_MAX, 5), INT64_MAX);
    assert_int_equal(sb_worker_backoff_cap_ms(0, 1000, 3), 0);
}

static void test_backoff_jitter_bounds(void **state) {
    (void)state;
    assert_int_equal(sb_crypto_init(), SB_OK);
    int64_t lo = INT64_MAX, hi = -1;
    bool below_half = false, above_half = false;
    for (int i = 0; i < 4000; i++) {
        int64_t ms = sb_worker_backoff_ms(100, 1000, 3); /* cap 400 */
        assert_true(ms >= 0);
        assert_true(ms <= 400);
        if (ms < lo) lo = ms;
        if (ms > hi) hi = ms;
        if (ms < 200) below_half = true;
        if (ms > 200) above_half = true;
    }
    print_message("jitter over 4000 draws: %lld..%lld\n", (long long)lo, (long long)hi);
    assert_true(below_half && above_half); /* spread over [0, cap], not a fixed delay */
    for (int i = 0; i < 100; i++)
        assert_true(sb_worker_backoff_ms(5, 5, 9) <= 5);
    assert_int_equal(sb_worker_backoff_ms(0, 0, 1), 0);
}

/* ---- a controllable job ---- */

typedef struct {
    int id;
    int fail_first; /* answer RETRY this many times, then DONE */
    bool final_fail;
    bool block; /* wait on the gate */
} job;

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool gate_open, gate_entered;
static int runs, finished_done, finished_failed, finished_dropped, ticks, last_attempts;
static int order[64], order_count;

static void reset(void) {
    pthread_mutex_lock(&gate_lock);
    gate_open = gate_entered = false;
    runs = finished_done = finished_failed = finished_dropped = ticks = last_attempts = 0;
    order_count = 0;
    pthread_mutex_unlock(&gate_lock);
}

static sb_worker_outcome run_job(void *arg, void *local, sb_worker *w, void *jobs, size_t count, int attempt) {
    (void)arg;
    (void)local;
    (void)w;
    assert_int_equal(count, 1);
    job *j = jobs;
    pthread_mutex_lock(&gate_lock);
    runs++;
    if (j->block) {
        gate_entered = true;
        pthread_cond_broadcast(&gate_cond);
        while (!gate_open)
            pthread_cond_wait(&gate_cond, &gate_lock);
    }
    pthread_mutex_unlock(&gate_lock);
    if (j->final_fail) return SB_WORKER_FAILED;
    return attempt <= j->fail_first ? SB_WORKER_RETRY : SB_WORKER_DONE;
}

static void finish_job(void *arg, void *jobp, sb_worker_outcome outcome, int attempts) {
    (void)arg;
    job *j = jobp;
    pthread_mutex_lock(&gate_lock);
    if (attempts == 0)
        finished_dropped++;
    else if (outcome == SB_WORKER_DONE)
        finished_done++;
    else
        finished_failed++;
    last_attempts = attempts;
    if (order_count < (int)SB_ARRAY_LEN(order)) order[order_count++] = j->id;
    pthread_mutex_unlock(&gate_lock);
}

static sb_worker_config config(size_t queue_max, int attempts, int64_t stop_wait_ms) {
    sb_worker_config c = {.name = "test_jobs",
                          .job_bytes = sizeof(job),
                          .queue_max = queue_max,
                          .attempts_max = attempts,
                          .backoff_base_ms = 1,
                          .backoff_max_ms = 4,
                          .stop_wait_ms = stop_wait_ms,
                          .run = run_job,
                          .finish = finish_job};
    return c;
}

static void wait_entered(void) {
    pthread_mutex_lock(&gate_lock);
    while (!gate_entered)
        pthread_cond_wait(&gate_cond, &gate_lock);
    pthread_mutex_unlock(&gate_lock);
}

static void open_gate(void) {
    pthread_mutex_lock(&gate_lock);
    gate_open = true;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
}

static void test_retries_then_done(void **state) {
    (void)state;
    reset();
    sb_worker *w;
    sb_worker_config c = config(8, 5, 5000);
    assert_int_equal(sb_worker_create(&c, &w), SB_OK);
    assert_int_equal(sb_worker_start(w), SB_OK);
    assert_int_equal(sb_worker_start(w), SB_EBUSY);
    job a = {.id = 1, .fail_first = 2}, b = {.id = 2, .fail_first = 9}, d = {.id = 3, .final_fail = true};
    assert_int_equal(sb_worker_submit(w, &a), SB_OK);
    assert_int_equal(sb_worker_flush(w, 60000), SB_OK);
    sb_worker_stats s;
    sb_worker_stats_get(w, &s);
    assert_int_equal(s.queued, 1);
    assert_int_equal(s.done, 1);
    assert_int_equal(s.retried, 2);
    assert_int_equal(last_attempts, 3);
    /* attempts exhausted: failed after attempts_max runs */
    assert_int_equal(sb_worker_submit(w, &b), SB_OK);
    assert_int_equal(sb_worker_flush(w, 60000), SB_OK);
    assert_int_equal(last_attempts, 5);
    /* a final refusal: no retry */
    assert_int_equal(sb_worker_submit(w, &d), SB_OK);
    assert_int_equal(sb_worker_flush(w, 60000), SB_OK);
    assert_int_equal(last_attempts, 1);
    sb_worker_stats_get(w, &s);
    assert_int_equal(s.done, 1);
    assert_int_equal(s.failed, 2);
    assert_int_equal(s.retried, 2 + 4);
    assert_int_equal(s.depth, 0);
    assert_int_equal(runs, 3 + 5 + 1);
    sb_worker_stop(w);
    assert_int_equal(finished_done, 1);
    assert_int_equal(finished_failed, 2);
}

static void test_queue_full(void **state) {
    (void)state;
    reset();
    sb_worker *w;
    sb_worker_config c = config(4, 1, 30000);
    assert_int_equal(sb_worker_create(&c, &w), SB_OK);
    assert_int_equal(sb_worker_start(w), SB_OK);
    job first = {.id = 0, .block = true};
    assert_int_equal(sb_worker_submit(w, &first), SB_OK);
    wait_entered(); /* the thread holds the first job */
    for (int i = 1; i <= 4; i++) {
        job j = {.id = i};
        assert_int_equal(sb_worker_submit(w, &j), SB_OK);
    }
    job extra = {.id = 99};
    assert_int_equal(sb_worker_submit(w, &extra), SB_EBUSY); /* full, and it did not block */
    sb_worker_stats s;
    sb_worker_stats_get(w, &s);
    assert_int_equal(s.depth, 4);
    assert_int_equal(s.dropped, 1);
    assert_int_equal(s.queued, 5);
    open_gate();
    assert_true(sb_worker_stop(w)); /* drains: everything queued runs */
    assert_int_equal(finished_done, 5);
    assert_int_equal(finished_dropped, 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(order[i], i); /* FIFO */
}

static void test_stop_deadline_with_stuck_job(void **state) {
    (void)state;
    reset();
    int alive_before = sb_worker_threads_alive();
    sb_worker *w;
    sb_worker_config c = config(8, 1, 50);
    assert_int_equal(sb_worker_create(&c, &w), SB_OK);
    assert_int_equal(sb_worker_start(w), SB_OK);
    job stuck = {.id = 0, .block = true};
    assert_int_equal(sb_worker_submit(w, &stuck), SB_OK);
    wait_entered();
    for (int i = 1; i <= 3; i++) {
        job j = {.id = i};
        assert_int_equal(sb_worker_submit(w, &j), SB_OK);
    }
    /* stop returns although the job never ends by itself (the gate is shut) */
    assert_false(sb_worker_stop(w)); /* abandoned */
    pthread_mutex_lock(&gate_lock);
    bool still_blocked = !gate_open;
    int dropped = finished_dropped, done = finished_done;
    pthread_mutex_unlock(&gate_lock);
    assert_true(still_blocked);
    assert_int_equal(dropped, 3); /* the queued ones were dropped, each finished once */
    assert_int_equal(done, 0);
    assert_int_equal(sb_worker_threads_alive(), alive_before + 1); /* the abandoned thread */
    /* once its job returns, the thread frees the worker and ends, calling nothing */
    open_gate();
    for (int i = 0; i < 3000 && sb_worker_threads_alive() != alive_before; i++)
        usleep(10000);
    assert_int_equal(sb_worker_threads_alive(), alive_before);
    assert_int_equal(finished_done, 0); /* no finish after abandonment */
}

static void test_stop_cuts_backoff(void **state) {
    (void)state;
    reset();
    sb_worker *w;
    sb_worker_config c = config(8, 16, 0);
    c.backoff_base_ms = 600000; /* ten minutes: only the deadline can end it */
    c.backoff_max_ms = 600000;
    assert_int_equal(sb_worker_create(&c, &w), SB_OK);
    assert_int_equal(sb_worker_start(w), SB_OK);
    job j = {.id = 1, .fail_first = 99};
    assert_int_equal(sb_worker_submit(w, &j), SB_OK);
    for (int i = 0; i < 3000; i++) { /* until the first attempt ran */
        pthread_mutex_lock(&gate_lock);
        int n = runs;
        pthread_mutex_unlock(&gate_lock);
        if (n > 0) break;
        usleep(10000);
    }
    sb_worker_stop(w); /* deadline 0: the sleep is cut, the job fails */
    assert_int_equal(finished_failed, 1);
    assert_true(runs <= 2); /* at most the attempt that was running when the jitter drew ~0 */
}

static sb_worker_outcome batch_run(void *arg, void *local, sb_worker *w, void *jobs, size_t count, int attempt) {
    (void)w;
    (void)attempt;
    (void)jobs;
    int *sum = arg;
    *sum += (int)count * (local ? 1000 : 1);
    return SB_WORKER_DONE;
}

static void test_drain_without_thread_and_batches(void **state) {
    (void)state;
    int sum = 0;
    sb_worker_config c = {
        .name = "batches", .job_bytes = sizeof(int), .queue_max = 10, .batch_max = 4, .run = batch_run, .arg = &sum};
    sb_worker *w;
    assert_int_equal(sb_worker_create(&c, &w), SB_OK);
    for (int i = 0; i < 10; i++)
        assert_int_equal(sb_worker_submit(w, &i), SB_OK);
    size_t ran = 0;
    int local = 1;
    assert_int_equal(sb_worker_drain(w, &local, &ran), SB_OK);
    assert_int_equal(ran, 10);
    assert_int_equal(sum, 10000);
    sb_worker_stats s;
    sb_worker_stats_get(w, &s);
    assert_int_equal(s.done, 10);
    /* never started: stop drops what is queued */
    int one = 1;
    assert_int_equal(sb_worker_submit(w, &one), SB_OK);
    sb_worker_stop(w);
}

static int tick_count;
static pthread_mutex_t tick_lock = PTHREAD_MUTEX_INITIALIZER;

static void tick(void *arg, void *local, sb_worker *w) {
    (void)arg;
    (void)w;
    assert_ptr_equal(local, &tick_count); /* what thread_start gave */
    pthread_mutex_lock(&tick_lock);
    tick_count++;
    pthread_mutex_unlock(&tick_lock);
}

static int tick_thread_start(void *arg, void **local_out) {
    (void)arg;
    *local_out = &tick_count;
    return SB_OK;
}

static void test_periodic_tick(void **state) {
    (void)state;
    sb_worker_config c = {.name = "ticker",
                          .job_bytes = 1,
                          .queue_max = 1,
                          .period_ms = 5,
                          .tick = tick,
                          .thread_start = tick_thread_start};
    sb_worker *w;
    assert_int_equal(sb_worker_create(&c, &w), SB_OK);
    assert_int_equal(sb_worker_start(w), SB_OK);
    int n = 0;
    for (int i = 0; i < 3000 && n < 3; i++) {
        usleep(10000);
        pthread_mutex_lock(&tick_lock);
        n = tick_count;
        pthread_mutex_unlock(&tick_lock);
    }
    assert_true(n >= 3);
    sb_worker_stop(w);
}

static void test_metrics_and_bad_configs(void **state) {
    (void)state;
    reset();
    sb_worker *w;
    sb_worker_config c = config(2, 1, 1000);
    assert_int_equal(sb_worker_create(&c, &w), SB_OK);
    job j = {.id = 1};
    assert_int_equal(sb_worker_submit(w, &j), SB_OK);
    assert_int_equal(sb_worker_submit(w, &j), SB_OK);
    assert_int_equal(sb_worker_submit(w, &j), SB_EBUSY);
    sb_worker *list[] = {w, NULL};
    sb_buf text;
    sb_buf_init(&text, 1 << 16);
    assert_int_equal(sb_worker_metrics_render(list, 2, &text), SB_OK);
    assert_int_equal(sb_buf_append(&text, "", 1), SB_OK);
    print_message("%s", text.data);
    assert_non_null(strstr(text.data, "sb_worker_jobs_total{worker=\"test_jobs\",result=\"queued\"} 2\n"));
    assert_non_null(strstr(text.data, "sb_worker_jobs_total{worker=\"test_jobs\",result=\"dropped\"} 1\n"));
    assert_non_null(strstr(text.data, "sb_worker_queue_depth{worker=\"test_jobs\"} 2\n"));
    sb_buf_free(&text);
    sb_worker_stop(w);
    assert_int_equal(finished_dropped, 2); /* never started: dropped at stop, each finished */

    sb_worker *bad;
    sb_worker_config b = config(2, 1, 1000);
    b.name = "Bad Name";
    assert_int_equal(sb_worker_create(&b, &bad), SB_EINVAL);
    b = config(0, 1, 1000);
    assert_int_equal(sb_worker_create(&b, &bad), SB_EINVAL);
    b = config(SB_WORKER_QUEUE_MAX + 1, 1, 1000);
    assert_int_equal(sb_worker_create(&b, &bad), SB_EINVAL);
    b = config(2, SB_WORKER_ATTEMPTS_MAX + 1, 1000);
    assert_int_equal(sb_worker_create(&b, &bad), SB_EINVAL);
    b = config(2, 1, SB_WORKER_STOP_WAIT_MS_MAX + 1);
    assert_int_equal(sb_worker_create(&b, &bad), SB_EINVAL);
    b = config(2, 1, 1000);
    b.run = NULL;
    assert_int_equal(sb_worker_create(&b, &bad), SB_EINVAL);
    b = config(2, 1, 1000);
    b.backoff_max_ms = 0;
    b.backoff_base_ms = 5;
    assert_int_equal(sb_worker_create(&b, &bad), SB_EINVAL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_cap),
        cmocka_unit_test(test_backoff_jitter_bounds),
        cmocka_unit_test(test_retries_then_done),
        cmocka_unit_test(test_queue_full),
        cmocka_unit_test(test_stop_deadline_with_stuck_job),
        cmocka_unit_test(test_stop_cuts_backoff),
        cmocka_unit_test(test_drain_without_thread_and_batches),
        cmocka_unit_test(test_periodic_tick),
        cmocka_unit_test(test_metrics_and_bad_configs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
