/*
 * listening_import.c - a whole export through ingest: read, prepare on
 * worker threads, store in file order.
 *
 * The caller's thread reads records with the format and copies each into a
 * batch (the format's strings live only until its next record); a full
 * batch goes to the worker threads, which run listening_prepare (check,
 * redact, understand: the expensive part, no store); the caller's thread
 * stores prepared batches strictly in the order they were read (so the
 * first copy of a duplicate is the one kept) with listening_ingest_prepared,
 * one transaction each.  At most threads + 2 batches are in flight, so
 * memory is bounded by the batch size whatever the file's size.
 *
 * Rejections keep their line: a record the format could not read is
 * rejected with its reason right away (kept in its batch so that reasons
 * come out in line order), a record ingest rejects maps back through its
 * index in the batch.
 */
#include <pthread.h>
#include <string.h>

#include "listening/listening_int.h"

#define IMPORT_BATCH_DEFAULT SB_LISTENING_IMPORT_BATCH_DEFAULT

typedef struct {
    size_t line;
    const char *reason;
} line_reason;

typedef struct {
    listening_post *posts;
    size_t *lines;
    size_t count, cap;
    line_reason *bad; /* records the format could not read, in line order */
    size_t bad_count, bad_cap;
    sb_buf arena;     /* the copied strings; posts hold offsets until sealed */
    size_t bytes_end; /* format position after the batch's last record */
    listening_prepared *prepared;
    int prepare_result;
    bool ready;
} import_batch;

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    import_batch *slots;
    size_t slot_count;
    uint64_t submitted, taken, stored; /* batch sequence numbers */
    bool stop;
    const listening *l;
    int64_t now_ms;
} import_pool;

static void batch_free(import_batch *b) {
    sb_free(b->posts);
    sb_free(b->lines);
    sb_free(b->bad);
    sb_buf_free(&b->arena);
    listening_prepared_free(b->prepared);
    memset(b, 0, sizeof *b);
}

static void batch_clear(import_batch *b) {
    b->count = 0;
    b->bad_count = 0;
    sb_buf_reset(&b->arena);
    listening_prepared_free(b->prepared);
    b->prepared = NULL;
    b->prepare_result = SB_OK;
    b->ready = false;
}

/* Copy a string (len bytes, or strlen when len is SIZE_MAX) into the
 * arena; the offset (plus one, 0 for NULL) is parked in *slot. */
static int arena_copy(sb_buf *arena, const char *s, size_t len, const char **slot) {
    if (!s) {
        *slot = NULL;
        return SB_OK;
    }
    if (len == SIZE_MAX) len = strlen(s);
    size_t at = arena->len;
    int result = sb_buf_append(arena, s, len);
    if (result == SB_OK) result = sb_buf_append(arena, "", 1);
    *slot = (const char *)(uintptr_t)(at + 1);
    return result;
}

static const char *arena_resolve(const sb_buf *arena, const char *slot) {
    return slot ? arena->data + ((uintptr_t)slot - 1) : NULL;
}

static int batch_add_post(import_batch *b, const listening_post *post, size_t line, const char *default_source) {
    if (b->count == b->cap) return SB_ELIMIT;
    listening_post *p = &b->posts[b->count];
    memset(p, 0, sizeof *p);
    const char *source = post->source && *post->source ? post->source : default_source;
    int result = arena_copy(&b->arena, source, SIZE_MAX, &p->source);
    if (result == SB_OK) result = arena_copy(&b->arena, post->external_id, SIZE_MAX, &p->external_id);
    if (result == SB_OK) result = arena_copy(&b->arena, post->author, SIZE_MAX, &p->author);
    if (result == SB_OK) result = arena_copy(&b->arena, post->text, post->text_len, &p->text);
    if (result != SB_OK) return result;
    p->text_len = post->text_len;
    p->author_reach = post->author_reach;
    p->posted_at_ms = post->posted_at_ms;
    p->likes = post->likes;
    p->shares = post->shares;
    p->replies = post->replies;
    b->lines[b->count++] = line;
    return SB_OK;
}

static int batch_add_bad(import_batch *b, size_t line, const char *reason) {
    if (b->bad_count == b->bad_cap) {
        size_t cap = b->bad_cap ? 2 * b->bad_cap : 16;
        line_reason *grown = sb_realloc(b->bad, cap * sizeof *grown);
        if (!grown) return SB_ENOMEM;
        b->bad = grown;
        b->bad_cap = cap;
    }
    b->bad[b->bad_count++] = (line_reason){line, reason};
    return SB_OK;
}

/* Turn the parked offsets into pointers (the arena no longer grows). */
static void batch_seal(import_batch *b) {
    for (size_t k = 0; k < b->count; k++) {
        listening_post *p = &b->posts[k];
        p->source = arena_resolve(&b->arena, p->source);
        p->external_id = arena_resolve(&b->arena, p->external_id);
        p->author = arena_resolve(&b->arena, p->author);
        p->text = arena_resolve(&b->arena, p->text);
    }
}

/* ---- the worker pool ---- */
static void *worker_main(void *arg) {
    import_pool *pool = arg;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (!pool->stop && pool->taken == pool->submitted)
            pthread_cond_wait(&pool->changed, &pool->lock);
        if (pool->taken == pool->submitted) break; /* stopping and nothing left */
        import_batch *b = &pool->slots[pool->taken++ % pool->slot_count];
        pthread_mutex_unlock(&pool->lock);
        int result = listening_prepare(pool->l, b->posts, b->count, pool->now_ms, &b->prepared);
        pthread_mutex_lock(&pool->lock);
        b->prepare_result = result;
        b->ready = true;
        pthread_cond_broadcast(&pool->changed);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

/* ---- results ---- */
static void add_rejection(listening_import_result *r, size_t line, const char *reason) {
    r->rejected++;
    size_t k = 0;
    while (k < r->reason_count && strcmp(r->reasons[k].reason, reason) != 0)
        k++;
    if (k == r->reason_count && k < LISTENING_IMPORT_REASONS_MAX) {
        r->reasons[k].reason = reason;
        r->reasons[k].count = 0;
        r->reason_count++;
    }
    if (k < r->reason_count) r->reasons[k].count++;
    if (r->first_count < LISTENING_IMPORT_FIRST_REJECTIONS)
        r->first[r->first_count++] = (listening_import_rejection){line, reason};
}

/* Store one prepared batch and account for it, rejections in line order. */
static int batch_store(listening *l, import_batch *b, int64_t now_ms, listening_rejection *rejections,
                       listening_import_result *r) {
    listening_ingest_result ir;
    memset(&ir, 0, sizeof ir);
    ir.rejections = rejections;
    ir.rejections_cap = SB_LISTENING_BATCH_POSTS_MAX;
    int result = b->prepare_result;
    if (result == SB_OK) result = listening_ingest_prepared(l, b->prepared, now_ms, &ir);
    if (result != SB_OK) return result;
    size_t i = 0, j = 0;
    while (i < b->bad_count || j < ir.rejected) {
        size_t bad_line = i < b->bad_count ? b->bad[i].line : SIZE_MAX;
        size_t ingest_line = j < ir.rejected ? b->lines[rejections[j].index] : SIZE_MAX;
        if (bad_line <= ingest_line) {
            add_rejection(r, bad_line, b->bad[i].reason);
            i++;
        } else {
            add_rejection(r, ingest_line, rejections[j].reason);
            j++;
        }
    }
    r->accepted += ir.accepted;
    r->duplicates += ir.duplicates;
    r->not_understood += ir.not_understood;
    r->cases_opened += ir.cases_opened;
    r->cases_joined += ir.cases_joined;
    r->leads += ir.leads;
    r->batches++;
    return SB_OK;
}

/* Fill b with up to batch_posts records; *eof when the format is done. */
static int batch_read(const listening_format *f, void *state, import_batch *b, const char *default_source,
                      listening_import_result *r, bool *eof) {
    while (b->count < b->cap) {
        listening_post post;
        memset(&post, 0, sizeof post);
        size_t line = 0;
        const char *reason = NULL;
        int got = f->next(state, &post, &line, &reason);
        if (got < 0) return got;
        if (got == 0) {
            *eof = true;
            break;
        }
        r->records++;
        int result = reason ? batch_add_bad(b, line, reason) : batch_add_post(b, &post, line, default_source);
        if (result != SB_OK) return result;
    }
    b->bytes_end = f->position ? f->position(state) : 0;
    batch_seal(b);
    return SB_OK;
}

int listening_import(listening *l, const listening_format *f, const char *data, size_t len,
                     const listening_import_options *options, int64_t now_ms, listening_import_result *r,
                     const char **reason_out) {
    if (reason_out) *reason_out = NULL;
    if (r) memset(r, 0, sizeof *r);
    if (!l || !f || !r || (!data && len)) return SB_EINVAL;
    listening_import_options opt = {0};
    if (options) opt = *options;
    if (opt.batch_posts == 0) opt.batch_posts = IMPORT_BATCH_DEFAULT;
    if (opt.batch_posts > SB_LISTENING_BATCH_POSTS_MAX || opt.threads < 0 || opt.threads > SB_THREADS_MAX)
        return SB_EINVAL;
    void *state = NULL;
    const char *reason = NULL;
    int result = f->open(data ? data : "", len, &state, &reason);
    if (result != SB_OK) {
        if (reason_out) *reason_out = reason;
        return result;
    }
    import_pool pool;
    memset(&pool, 0, sizeof pool);
    pool.l = l;
    pool.now_ms = now_ms;
    pool.slot_count = (size_t)opt.threads + 2;
    pool.slots = sb_calloc(pool.slot_count, sizeof *pool.slots);
    listening_rejection *rejections = sb_malloc(SB_LISTENING_BATCH_POSTS_MAX * sizeof *rejections);
    pthread_t threads[SB_THREADS_MAX];
    int started = 0;
    if (!pool.slots || !rejections) result = SB_ENOMEM;
    for (size_t k = 0; result == SB_OK && k < pool.slot_count; k++) {
        import_batch *b = &pool.slots[k];
        b->cap = opt.batch_posts;
        b->posts = sb_malloc(b->cap * sizeof *b->posts);
        b->lines = sb_malloc(b->cap * sizeof *b->lines);
        /* A record is at most one JSONL line or one CSV row. */
        sb_buf_init(&b->arena, b->cap * (size_t)(SB_LISTENING_CSV_ROW_BYTES_MAX + 4));
        if (!b->posts || !b->lines) result = SB_ENOMEM;
    }
    pthread_mutex_init(&pool.lock, NULL);
    pthread_cond_init(&pool.changed, NULL);
    for (; result == SB_OK && started < opt.threads; started++)
        if (pthread_create(&threads[started], NULL, worker_main, &pool) != 0) result = SB_EINTERNAL;

    bool eof = false;
    while (result == SB_OK) {
        /* Read ahead while there is a free slot. */
        while (result == SB_OK && !eof && pool.submitted - pool.stored < pool.slot_count) {
            import_batch *b = &pool.slots[pool.submitted % pool.slot_count];
            batch_clear(b);
            result = batch_read(f, state, b, opt.default_source, r, &eof);
            if (result != SB_OK) break;
            if (b->count == 0 && b->bad_count == 0) break; /* nothing more */
            if (opt.threads == 0) {
                b->prepare_result = listening_prepare(l, b->posts, b->count, now_ms, &b->prepared);
                b->ready = true;
                pool.submitted++;
                break; /* store it before reading on */
            }
            pthread_mutex_lock(&pool.lock);
            pool.submitted++;
            pthread_cond_broadcast(&pool.changed);
            pthread_mutex_unlock(&pool.lock);
        }
        if (result != SB_OK || pool.stored == pool.submitted) break;
        import_batch *b = &pool.slots[pool.stored % pool.slot_count];
        pthread_mutex_lock(&pool.lock);
        while (!b->ready)
            pthread_cond_wait(&pool.changed, &pool.lock);
        pthread_mutex_unlock(&pool.lock);
        result = batch_store(l, b, now_ms, rejections, r);
        size_t bytes_done = b->bytes_end;
        pthread_mutex_lock(&pool.lock);
        pool.stored++;
        pthread_mutex_unlock(&pool.lock);
        if (result == SB_OK && opt.progress) opt.progress(opt.progress_arg, bytes_done, len, r);
    }

    pthread_mutex_lock(&pool.lock);
    pool.stop = true;
    pool.taken = pool.submitted; /* batches not started are abandoned */
    pthread_cond_broadcast(&pool.changed);
    pthread_mutex_unlock(&pool.lock);
    for (int k = 0; k < started; k++)
        pthread_join(threads[k], NULL);
    pthread_cond_destroy(&pool.changed);
    pthread_mutex_destroy(&pool.lock);
    for (size_t k = 0; pool.slots && k < pool.slot_count; k++)
        batch_free(&pool.slots[k]);
    sb_free(pool.slots);
    sb_free(rejections);
    if (f->close) f->close(state);
    return result;
}
