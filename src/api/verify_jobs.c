/*
 * verify_jobs.c - `ledger verify` for the admin route, off the event loop.
 *
 * POST /api/admin/ledger/verify starts a job: a thread with its own store
 * connection runs ledger_verify (a read transaction over the whole journal,
 * seconds on a large ledger) while the event loops keep serving; GET
 * /api/admin/ledger/verify/:id reads its state and, once done, its report.
 * One job runs at a time (a second POST while one runs gets the running
 * one: two full scans at once would only halve each); the last
 * SB_HTTP_VERIFY_JOBS_KEPT jobs are kept for polling, older ids are gone
 * (404).  The thread is joined when the next job starts and when the server
 * stops (api_verify_jobs_close).  Each server has its own (api_server.verify).
 * (When the core worker primitive lands this job becomes one of its users.)
 */
#include <pthread.h>
#include <string.h>

#include "api/api_int.h"

typedef struct {
    int64_t id; /* 0: empty slot */
    api_verify_job_state state;
    int64_t started_at_ms, finished_at_ms;
    int status; /* ledger_verify's result */
    ledger_verify_report report;
} verify_job;

struct api_verify_jobs {
    pthread_mutex_t mu;
    bool open;
    char data_location[SB_PATH_BYTES_MAX];
    verify_job jobs[SB_HTTP_VERIFY_JOBS_KEPT];
    int64_t next_id;
    bool thread_live; /* a thread was started and not joined yet */
    pthread_t thread;
    int64_t running_id; /* the job the thread runs */
};

static verify_job *job_find(struct api_verify_jobs *jobs, int64_t id) {
    for (int i = 0; i < SB_HTTP_VERIFY_JOBS_KEPT; i++)
        if (jobs->jobs[i].id == id && id > 0) return &jobs->jobs[i];
    return NULL;
}

static void *job_main(void *arg) {
    struct api_verify_jobs *jobs = arg;
    pthread_mutex_lock(&jobs->mu);
    int64_t id = jobs->running_id;
    pthread_mutex_unlock(&jobs->mu);
    ledger_verify_report report;
    memset(&report, 0, sizeof report);
    store *s = NULL;
    int status = store_open(jobs->data_location, NULL, &s);
    if (status == SB_OK) status = ledger_verify(s, &report);
    if (status != SB_OK && !report.problem[0])
        snprintf(report.problem, sizeof report.problem, "cannot read the ledger: %s", sb_strerror(status));
    store_close(s);
    pthread_mutex_lock(&jobs->mu);
    verify_job *j = job_find(jobs, id);
    if (j) {
        j->report = report;
        j->status = status;
        j->state = status == SB_OK || status == SB_ECORRUPT ? API_VERIFY_DONE : API_VERIFY_FAILED;
        j->finished_at_ms = sb_now_ms();
    }
    pthread_mutex_unlock(&jobs->mu);
    return NULL;
}

int api_verify_jobs_new(const char *data_location, struct api_verify_jobs **out) {
    *out = NULL;
    if (strlen(data_location) >= SB_PATH_BYTES_MAX) return SB_ELIMIT;
    struct api_verify_jobs *jobs = sb_calloc(1, sizeof *jobs);
    if (!jobs) return SB_ENOMEM;
    pthread_mutex_init(&jobs->mu, NULL);
    snprintf(jobs->data_location, sizeof jobs->data_location, "%s", data_location);
    *out = jobs;
    return SB_OK;
}

void api_verify_jobs_open(struct api_verify_jobs *jobs) {
    pthread_mutex_lock(&jobs->mu);
    jobs->open = true;
    pthread_mutex_unlock(&jobs->mu);
}

void api_verify_jobs_close(struct api_verify_jobs *jobs) {
    pthread_mutex_lock(&jobs->mu);
    jobs->open = false;
    bool live = jobs->thread_live;
    jobs->thread_live = false;
    pthread_t thread = jobs->thread;
    pthread_mutex_unlock(&jobs->mu);
    if (live) pthread_join(thread, NULL); /* a running verify finishes its read transaction */
}

void api_verify_jobs_free(struct api_verify_jobs *jobs) {
    if (!jobs) return;
    api_verify_jobs_close(jobs);
    pthread_mutex_destroy(&jobs->mu);
    sb_free(jobs);
}

int api_verify_job_start(struct api_verify_jobs *jobs, int64_t now_ms, int64_t *id_out) {
    *id_out = 0;
    pthread_mutex_lock(&jobs->mu);
retry:
    if (!jobs->open) {
        pthread_mutex_unlock(&jobs->mu);
        return SB_ECLOSED;
    }
    for (int i = 0; i < SB_HTTP_VERIFY_JOBS_KEPT; i++) {
        if (jobs->jobs[i].id > 0 && jobs->jobs[i].state == API_VERIFY_RUNNING) {
            *id_out = jobs->jobs[i].id; /* one at a time: the running one answers */
            pthread_mutex_unlock(&jobs->mu);
            return SB_OK;
        }
    }
    if (jobs->thread_live) { /* finished (not running): join it before the next */
        pthread_t done = jobs->thread;
        jobs->thread_live = false;
        pthread_mutex_unlock(&jobs->mu);
        pthread_join(done, NULL);
        pthread_mutex_lock(&jobs->mu);
        goto retry; /* another request may have started one meanwhile */
    }
    /* The slot of the oldest job (or an empty one). */
    verify_job *slot = &jobs->jobs[0];
    for (int i = 1; i < SB_HTTP_VERIFY_JOBS_KEPT; i++)
        if (jobs->jobs[i].id < slot->id) slot = &jobs->jobs[i];
    memset(slot, 0, sizeof *slot);
    slot->id = ++jobs->next_id;
    slot->state = API_VERIFY_RUNNING;
    slot->started_at_ms = now_ms;
    jobs->running_id = slot->id;
    int result = SB_OK;
    if (pthread_create(&jobs->thread, NULL, job_main, jobs) != 0) {
        memset(slot, 0, sizeof *slot);
        result = SB_EBUSY;
    } else {
        jobs->thread_live = true;
        *id_out = jobs->next_id;
    }
    pthread_mutex_unlock(&jobs->mu);
    return result;
}

int api_verify_job_get(struct api_verify_jobs *jobs, int64_t id, api_verify_job *out) {
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&jobs->mu);
    verify_job *j = job_find(jobs, id);
    if (j) {
        out->id = j->id;
        out->state = j->state;
        out->started_at_ms = j->started_at_ms;
        out->finished_at_ms = j->finished_at_ms;
        out->status = j->status;
        out->report = j->report;
    }
    pthread_mutex_unlock(&jobs->mu);
    return j ? SB_OK : SB_ENOTFOUND;
}
