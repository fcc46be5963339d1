/*
 * listening_channel.c - comments on the bank's own channel as listening
 * posts, and the feed that carries them from the thread they arrive on to
 * the store without making that thread wait.
 *
 * A comment arrives on an HTTP thread, right after its own commit, with no
 * store handle to spare and a client waiting; understanding it (the text
 * engine) and storing it take longer than the request itself.  So the
 * comment is copied (one allocation) into the bounded queue of a worker
 * (core's sb_worker) and the request goes on; the worker's thread, with its
 * own store connection and listening context, takes up to
 * SB_LISTENING_FEED_BATCH_MAX queued posts at a time
 * and ingests them in one transaction, through the same listening_ingest
 * every other post goes through (dedup by (own_channel, CHAT/SEQ), so a
 * comment fed twice is one post).
 *
 * When the queue is full the comment is dropped from listening, counted in
 * `dropped` and logged once per thousand drops; it stays in the messenger.
 * Stopping stores everything still queued (for at most
 * SB_LISTENING_FEED_STOP_WAIT_MS), then joins the thread.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "listening/listening_int.h"

void listening_channel_post(int64_t chat_id, int64_t seq, int64_t sender_id, int64_t created_at_ms, const char *text,
                            listening_post *out, char ids_buf[LISTENING_CHANNEL_IDS_BYTES]) {
    memset(out, 0, sizeof *out);
    int n = snprintf(ids_buf, LISTENING_CHANNEL_IDS_BYTES, "%lld/%lld", (long long)chat_id, (long long)seq);
    SB_ASSERT(n > 0 && n < LISTENING_CHANNEL_IDS_BYTES / 2); /* two int64 and a slash: 40 */
    char *author = ids_buf + n + 1;
    snprintf(author, LISTENING_CHANNEL_IDS_BYTES - (size_t)n - 1, "user:%lld", (long long)sender_id);
    out->source = "own_channel";
    out->external_id = ids_buf;
    out->author = author;
    out->posted_at_ms = created_at_ms;
    out->text = text;
    out->text_len = text ? strlen(text) : 0;
}

/* ---- the feed ---- */
/* One queued post: the struct and its strings in one allocation. */
typedef struct {
    listening_post post;
    char bytes[];
} feed_item;

struct listening_feed {
    pthread_mutex_t lock; /* guards stats */
    char *location;
    listening_config cfg;
    listening_feed_stats stats; /* what ingest said; queued/dropped come from the worker */
    sb_worker *worker;          /* jobs: feed_item pointers, owned by the queue */
};

/* The worker thread's own store and listening context. */
typedef struct {
    store *s;
    listening *l;
} feed_local;

static char *item_copy(char **at, const char *s, size_t len) {
    if (!s) return NULL;
    char *dst = *at;
    memcpy(dst, s, len);
    dst[len] = '\0';
    *at += len + 1;
    return dst;
}

static feed_item *item_new(const listening_post *p) {
    size_t source_len = p->source ? strnlen(p->source, SB_LISTENING_SOURCE_BYTES_MAX + 1) : 0;
    size_t id_len = p->external_id ? strnlen(p->external_id, SB_LISTENING_EXTERNAL_ID_BYTES_MAX + 1) : 0;
    size_t author_len = p->author ? strnlen(p->author, SB_LISTENING_AUTHOR_BYTES_MAX + 1) : 0;
    /* An over-long text is cut one byte past the limit: the check still rejects it. */
    size_t text_len = p->text_len > SB_LISTENING_TEXT_BYTES_MAX ? SB_LISTENING_TEXT_BYTES_MAX + 1 : p->text_len;
    feed_item *item = sb_malloc(sizeof *item + source_len + id_len + author_len + text_len + 4);
    if (!item) return NULL;
    item->post = *p;
    char *at = item->bytes;
    item->post.source = item_copy(&at, p->source, source_len);
    item->post.external_id = item_copy(&at, p->external_id, id_len);
    item->post.author = item_copy(&at, p->author, author_len);
    item->post.text = item_copy(&at, p->text, text_len);
    item->post.text_len = p->text ? text_len : 0;
    return item;
}

/* Ingest a batch taken from the queue; the thread's own context. */
static sb_worker_outcome feed_run(void *arg, void *localp, sb_worker *w, void *jobs, size_t n, int attempt) {
    (void)w;
    (void)attempt;
    listening_feed *f = arg;
    feed_local *local = localp;
    feed_item **items = jobs;
    int result = SB_ECLOSED;
    listening_ingest_result r;
    memset(&r, 0, sizeof r);
    if (local && local->l) {
        listening_post posts[SB_LISTENING_FEED_BATCH_MAX];
        for (size_t k = 0; k < n; k++)
            posts[k] = items[k]->post;
        result = listening_ingest(local->l, posts, n, sb_now_ms(), &r);
        if (result == SB_EBUSY)
            result = listening_ingest(local->l, posts, n, sb_now_ms(), &r); /* the lock: once more */
    }
    pthread_mutex_lock(&f->lock);
    if (result == SB_OK) {
        f->stats.accepted += r.accepted;
        f->stats.duplicates += r.duplicates;
        f->stats.rejected += r.rejected;
        f->stats.not_understood += r.not_understood;
    } else {
        f->stats.failed += n;
    }
    pthread_mutex_unlock(&f->lock);
    if (result != SB_OK) sb_log(SB_LOG_ERROR, "listening.feed", "%zu channel posts lost: %s", n, sb_strerror(result));
    return result == SB_OK ? SB_WORKER_DONE : SB_WORKER_FAILED;
}

/* Every job ends here (stored, lost or dropped at stop): free its copy. */
static void feed_finish(void *arg, void *job, sb_worker_outcome outcome, int attempts) {
    (void)arg;
    (void)outcome;
    (void)attempts;
    feed_item **item = job;
    sb_free(*item);
}

static int feed_thread_start(void *arg, void **local_out) {
    listening_feed *f = arg;
    feed_local *local = sb_calloc(1, sizeof *local);
    if (!local) return SB_ENOMEM;
    int result = store_open(f->location, NULL, &local->s);
    if (result == SB_OK) result = listening_open(local->s, &f->cfg, &local->l);
    if (result != SB_OK)
        sb_log(SB_LOG_ERROR, "listening.feed", "cannot open the store: %s (channel posts are dropped)",
               sb_strerror(result));
    *local_out = local;
    return SB_OK;
}

static void feed_thread_end(void *arg, void *localp) {
    (void)arg;
    feed_local *local = localp;
    if (!local) return;
    listening_close(local->l);
    store_close(local->s);
    sb_free(local);
}

int listening_feed_start(const char *location, const listening_config *cfg, size_t queue_max, listening_feed **out) {
    *out = NULL;
    if (!location || queue_max == 0 || queue_max > SB_LISTENING_FEED_QUEUE_MAX) return SB_EINVAL;
    listening_feed *f = sb_calloc(1, sizeof *f);
    if (!f) return SB_ENOMEM;
    if (!(f->location = sb_strdup(location))) {
        sb_free(f);
        return SB_ENOMEM;
    }
    if (cfg) f->cfg = *cfg;
    pthread_mutex_init(&f->lock, NULL);
    sb_worker_config wc = {.name = "listening_feed",
                           .job_bytes = sizeof(feed_item *),
                           .queue_max = queue_max,
                           .batch_max = SB_LISTENING_FEED_BATCH_MAX,
                           .stop_wait_ms = SB_LISTENING_FEED_STOP_WAIT_MS,
                           .arg = f,
                           .thread_start = feed_thread_start,
                           .thread_end = feed_thread_end,
                           .run = feed_run,
                           .finish = feed_finish};
    int result = sb_worker_launch(&wc, &f->worker);
    if (result != SB_OK) {
        listening_feed_stop(f);
        return result;
    }
    *out = f;
    return SB_OK;
}

int listening_feed_push(listening_feed *f, const listening_post *post) {
    if (!f || !post) return SB_EINVAL;
    feed_item *item = item_new(post); /* the copy is the slow part; the queue takes the pointer */
    if (!item) return SB_ENOMEM;
    int result = sb_worker_submit(f->worker, &item);
    if (result != SB_OK) sb_free(item); /* full: counted and logged by the worker */
    return result;
}

void listening_feed_stats_get(listening_feed *f, listening_feed_stats *out) {
    memset(out, 0, sizeof *out);
    if (!f) return;
    pthread_mutex_lock(&f->lock);
    *out = f->stats;
    pthread_mutex_unlock(&f->lock);
    sb_worker_stats ws;
    sb_worker_stats_get(f->worker, &ws);
    out->queued = ws.queued;
    out->dropped = ws.dropped;
}

int listening_feed_flush(listening_feed *f, int64_t timeout_ms) {
    if (!f) return SB_EINVAL;
    return sb_worker_flush(f->worker, timeout_ms);
}

sb_worker *listening_feed_worker(listening_feed *f) { return f ? f->worker : NULL; }

void listening_feed_stop(listening_feed *f) {
    if (!f) return;
    /* stores what is queued, bounded by its deadline; a stuck batch keeps the feed */
    if (!sb_worker_stop(f->worker)) return;
    pthread_mutex_destroy(&f->lock);
    sb_free(f->location);
    sb_free(f);
}
