/*
 * listening_channel.c - comments on the bank's own channel as listening
 * posts, and the feed that carries them from the thread they arrive on to
 * the store without making that thread wait.
 *
 * A comment arrives on an HTTP thread, right after its own commit, with no
 * store handle to spare and a client waiting; understanding it (the text
 * engine) and storing it take longer than the request itself.  So the
 * comment is copied into a bounded queue (one allocation) and the request
 * goes on; one feed thread with its own store connection and listening
 * context takes up to SB_LISTENING_FEED_BATCH_MAX queued posts at a time
 * and ingests them in one transaction, through the same listening_ingest
 * every other post goes through (dedup by (own_channel, CHAT/SEQ), so a
 * comment fed twice is one post).
 *
 * When the queue is full the comment is dropped from listening, counted in
 * `dropped` and logged once per thousand drops; it stays in the messenger.
 * Stopping stores everything still queued, then joins the thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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
    pthread_mutex_t lock;
    pthread_cond_t changed;
    feed_item **ring;
    size_t cap, head, count;
    size_t in_hand; /* taken by the thread, not yet stored */
    bool stop, started;
    pthread_t thread;
    char *location;
    listening_config cfg;
    listening_feed_stats stats;
};

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
static void feed_store(listening_feed *f, listening *l, feed_item **items, size_t n) {
    listening_post posts[SB_LISTENING_FEED_BATCH_MAX];
    for (size_t k = 0; k < n; k++)
        posts[k] = items[k]->post;
    listening_ingest_result r;
    memset(&r, 0, sizeof r);
    int result = listening_ingest(l, posts, n, sb_now_ms(), &r);
    if (result == SB_EBUSY) result = listening_ingest(l, posts, n, sb_now_ms(), &r); /* the lock: once more */
    pthread_mutex_lock(&f->lock);
    if (result == SB_OK) {
        f->stats.accepted += r.accepted;
        f->stats.duplicates += r.duplicates;
        f->stats.rejected += r.rejected;
        f->stats.not_understood += r.not_understood;
    } else {
        f->stats.failed += n;
    }
    f->in_hand = 0;
    pthread_cond_broadcast(&f->changed);
    pthread_mutex_unlock(&f->lock);
    if (result != SB_OK) sb_log(SB_LOG_ERROR, "listening.feed", "%zu channel posts lost: %s", n, sb_strerror(result));
    for (size_t k = 0; k < n; k++)
        sb_free(items[k]);
}

static void *feed_main(void *arg) {
    listening_feed *f = arg;
    store *s = NULL;
    listening *l = NULL;
    int result = store_open(f->location, NULL, &s);
    if (result == SB_OK) result = listening_open(s, &f->cfg, &l);
    if (result != SB_OK)
        sb_log(SB_LOG_ERROR, "listening.feed", "cannot open the store: %s (channel posts are dropped)",
               sb_strerror(result));
    feed_item *items[SB_LISTENING_FEED_BATCH_MAX];
    pthread_mutex_lock(&f->lock);
    for (;;) {
        while (!f->stop && f->count == 0)
            pthread_cond_wait(&f->changed, &f->lock);
        if (f->count == 0) break; /* stopping, queue empty */
        size_t n = 0;
        while (f->count > 0 && n < SB_ARRAY_LEN(items)) {
            items[n++] = f->ring[f->head];
            f->head = (f->head + 1) % f->cap;
            f->count--;
        }
        f->in_hand = n;
        pthread_mutex_unlock(&f->lock);
        if (l) {
            feed_store(f, l, items, n);
        } else {
            for (size_t k = 0; k < n; k++)
                sb_free(items[k]);
            pthread_mutex_lock(&f->lock);
            f->stats.failed += n;
            f->in_hand = 0;
            pthread_cond_broadcast(&f->changed);
            pthread_mutex_unlock(&f->lock);
        }
        pthread_mutex_lock(&f->lock);
    }
    pthread_mutex_unlock(&f->lock);
    listening_close(l);
    store_close(s);
    return NULL;
}

int listening_feed_start(const char *location, const listening_config *cfg, size_t queue_max, listening_feed **out) {
    *out = NULL;
    if (!location || queue_max == 0 || queue_max > SB_LISTENING_FEED_QUEUE_MAX) return SB_EINVAL;
    listening_feed *f = sb_calloc(1, sizeof *f);
    if (!f) return SB_ENOMEM;
    f->ring = sb_calloc(queue_max, sizeof *f->ring);
    f->location = sb_strdup(location);
    if (!f->ring || !f->location) {
        sb_free(f->ring);
        sb_free(f->location);
        sb_free(f);
        return SB_ENOMEM;
    }
    f->cap = queue_max;
    if (cfg) f->cfg = *cfg;
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->changed, NULL);
    if (pthread_create(&f->thread, NULL, feed_main, f) != 0) {
        f->started = false;
        listening_feed_stop(f);
        return SB_EINTERNAL;
    }
    f->started = true;
    *out = f;
    return SB_OK;
}

int listening_feed_push(listening_feed *f, const listening_post *post) {
    if (!f || !post) return SB_EINVAL;
    pthread_mutex_lock(&f->lock);
    bool full = f->count == f->cap, stopping = f->stop;
    uint64_t dropped = full && !stopping ? ++f->stats.dropped : 0;
    pthread_mutex_unlock(&f->lock);
    if (stopping) return SB_ECLOSED;
    if (full) {
        if (dropped % 1000 == 1)
            sb_log(SB_LOG_WARN, "listening.feed", "queue full (%zu): %llu channel posts dropped so far", f->cap,
                   (unsigned long long)dropped);
        return SB_EBUSY;
    }
    feed_item *item = item_new(post); /* outside the lock: the copy is the slow part */
    if (!item) return SB_ENOMEM;
    pthread_mutex_lock(&f->lock);
    int result = SB_OK;
    if (f->stop) {
        result = SB_ECLOSED;
    } else if (f->count == f->cap) {
        f->stats.dropped++;
        result = SB_EBUSY;
    } else {
        f->ring[(f->head + f->count) % f->cap] = item;
        f->count++;
        f->stats.queued++;
        pthread_cond_broadcast(&f->changed);
    }
    pthread_mutex_unlock(&f->lock);
    if (result != SB_OK) sb_free(item);
    return result;
}

void listening_feed_stats_get(listening_feed *f, listening_feed_stats *out) {
    memset(out, 0, sizeof *out);
    if (!f) return;
    pthread_mutex_lock(&f->lock);
    *out = f->stats;
    pthread_mutex_unlock(&f->lock);
}

int listening_feed_flush(listening_feed *f, int64_t timeout_ms) {
    if (!f) return SB_EINVAL;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)(timeout_ms / 1000);
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    int result = SB_OK;
    pthread_mutex_lock(&f->lock);
    while (f->count > 0 || f->in_hand > 0)
        if (pthread_cond_timedwait(&f->changed, &f->lock, &until) == ETIMEDOUT) {
            result = SB_ETIMEOUT;
            break;
        }
    pthread_mutex_unlock(&f->lock);
    return result;
}

void listening_feed_stop(listening_feed *f) {
    if (!f) return;
    if (f->started) {
        pthread_mutex_lock(&f->lock);
        f->stop = true;
        pthread_cond_broadcast(&f->changed);
        pthread_mutex_unlock(&f->lock);
        pthread_join(f->thread, NULL);
    }
    for (size_t k = 0; k < f->count; k++)
        sb_free(f->ring[(f->head + k) % f->cap]);
    pthread_cond_destroy(&f->changed);
    pthread_mutex_destroy(&f->lock);
    sb_free(f->ring);
    sb_free(f->location);
    sb_free(f);
}
