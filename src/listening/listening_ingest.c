/*
 * listening_ingest.c - ingest in two stages.
 *
 * Prepare (no store, any thread): each row is checked (a bad row is a
 * rejection with its reason, the rest go on), redacted, sealed if raw
 * storage is on, and understood through the understander; everything is
 * copied into the prepared batch so the caller's records may go.
 *
 * Store (the context's connection, one write transaction a batch): a row
 * whose (source, external id) exists merges its counts; a new one is
 * inserted with its understanding and signals, counted in the statistics,
 * routed by the rules and may raise a lead.  A store failure rolls the
 * whole batch back: nothing half-written.
 *
 * Understanding is the expensive part (see bench pipeline), which is why
 * the stages are apart: the importer prepares batch k+1 on worker threads
 * while this connection stores batch k.
 */
#include <string.h>

#include "listening/listening_int.h"

typedef struct {
    const char *reason;                               /* rejected: why (static), else NULL */
    size_t source, external_id, author, text, sealed; /* offsets into the arena */
    size_t text_len, sealed_len;
    int64_t author_reach, posted_at_ms, likes, shares, replies, redactions;
    bool has_sealed;
    bool understood;
    listening_understanding u;
} prepared_post;

struct listening_prepared {
    size_t count;
    prepared_post *posts;
    sb_buf arena; /* NUL-terminated strings and sealed blobs */
};

/* Append len bytes and a NUL to the arena; the offset goes to *at. */
static int arena_add(sb_buf *arena, const void *data, size_t len, size_t *at) {
    *at = arena->len;
    int result = sb_buf_append(arena, data, len);
    if (result == SB_OK) result = sb_buf_append(arena, "", 1);
    return result;
}

void listening_prepared_free(listening_prepared *p) {
    if (!p) return;
    sb_buf_free(&p->arena);
    sb_free(p->posts);
    sb_free(p);
}

/* Redact, seal and understand one checked post into pp. */
static int prepare_one(const listening *l, const listening_post *post, sb_buf *redacted, listening_prepared *p,
                       prepared_post *pp) {
    listening_redaction_counts counts;
    int result = listening_redact(post->text, post->text_len, redacted, &counts);
    if (result == SB_EINVAL || result == SB_ELIMIT) {
        pp->reason = "invalid_text";
        return SB_OK;
    }
    if (result != SB_OK) return result;
    pp->redactions = (int64_t)(counts.cards + counts.phones + counts.national_ids + counts.ibans + counts.emails);
    const char *text = redacted->len ? redacted->data : "";
    result = arena_add(&p->arena, post->source, strlen(post->source), &pp->source);
    if (result == SB_OK) result = arena_add(&p->arena, post->external_id, strlen(post->external_id), &pp->external_id);
    if (result == SB_OK) result = arena_add(&p->arena, post->author, strlen(post->author), &pp->author);
    if (result == SB_OK) result = arena_add(&p->arena, text, redacted->len, &pp->text);
    pp->text_len = redacted->len;
    if (result != SB_OK) return result;
    pp->author_reach = post->author_reach;
    pp->posted_at_ms = post->posted_at_ms;
    pp->likes = post->likes;
    pp->shares = post->shares;
    pp->replies = post->replies;
    if (l->cfg.store_raw) {
        unsigned char *sealed = NULL;
        size_t sealed_len = 0;
        result = listening_seal(l->cfg.raw_key, post->text, post->text_len, &sealed, &sealed_len);
        if (result == SB_OK) result = arena_add(&p->arena, sealed, sealed_len, &pp->sealed);
        sb_free(sealed);
        if (result != SB_OK) return result;
        pp->has_sealed = true;
        pp->sealed_len = sealed_len;
    }
    if (l->cfg.understander.understand &&
        l->cfg.understander.understand(l->cfg.understander.arg, text, redacted->len, &pp->u) == SB_OK &&
        listening_understanding_check(&pp->u) == SB_OK)
        pp->understood = true;
    return SB_OK;
}

int listening_prepare(const listening *l, const listening_post *posts, size_t count, int64_t now_ms,
                      listening_prepared **out) {
    *out = NULL;
    if (!l) return SB_EINVAL;
    if (count > SB_LISTENING_BATCH_POSTS_MAX) return SB_ELIMIT;
    if (count && !posts) return SB_EINVAL;
    listening_prepared *p = sb_calloc(1, sizeof *p);
    if (!p) return SB_ENOMEM;
    /* Each post: its strings, its redacted text (at most 3x) and sealed raw text. */
    sb_buf_init(&p->arena, (count + 1) * (size_t)(4 * SB_LISTENING_TEXT_BYTES_MAX + 1024));
    p->posts = sb_calloc(count ? count : 1, sizeof *p->posts);
    if (!p->posts) {
        listening_prepared_free(p);
        return SB_ENOMEM;
    }
    p->count = count;
    sb_buf redacted;
    sb_buf_init(&redacted, 3 * SB_LISTENING_TEXT_BYTES_MAX + 16);
    int result = SB_OK;
    for (size_t k = 0; k < count && result == SB_OK; k++) {
        prepared_post *pp = &p->posts[k];
        if (listening_post_check(&posts[k], now_ms, &pp->reason) != SB_OK) continue;
        result = prepare_one(l, &posts[k], &redacted, p, pp);
    }
    sb_buf_free(&redacted);
    if (result != SB_OK) {
        listening_prepared_free(p);
        return result;
    }
    *out = p;
    return SB_OK;
}

static void reject(listening_ingest_result *r, size_t index, const char *reason) {
    if (r->rejections && r->rejected < r->rejections_cap)
        r->rejections[r->rejected] = (listening_rejection){index, reason};
    r->rejected++;
}

/* What the store stage keeps for a whole batch. */
typedef struct {
    listening__routing *routing; /* loaded on the first understood post */
    listening__stats_batch *stats;
} batch_state;

/* The signals of a new post (risks and competitors; the table keeps the
 * first of a name), then its life events, statistics and case. */
static int store_understanding(listening *l, batch_state *bs, int64_t id, const char *source, const char *author,
                               const prepared_post *pp, int64_t now_ms, listening_ingest_result *r) {
    const listening_understanding *u = &pp->u;
    int result =
        store_exec(l->s,
                   "INSERT INTO listening_understanding(post_id, lang, sentiment, sentiment_permille, kind, "
                   "kind_permille, topic, topic_permille, model) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   "ittititit", id, u->lang[0] ? u->lang : "other", u->sentiment, (int64_t)u->sentiment_permille,
                   u->kind, (int64_t)u->kind_permille, u->topic, (int64_t)u->topic_permille, u->model);
    for (size_t k = 0; k < u->risk_count && result == SB_OK; k++)
        result = store_exec(l->s,
                            "INSERT OR IGNORE INTO listening_signals(post_id, kind, name, permille, trigger_words) "
                            "VALUES (?, 'risk', ?, ?, ?)",
                            "itit", id, u->risks[k].name, (int64_t)u->risks[k].permille, u->risks[k].trigger);
    for (size_t k = 0; k < u->competitor_count && result == SB_OK; k++)
        result = store_exec(l->s,
                            "INSERT OR IGNORE INTO listening_signals(post_id, kind, name, permille, trigger_words) "
                            "VALUES (?, 'competitor', ?, ?, ?)",
                            "itit", id, u->competitors[k].name, (int64_t)u->competitors[k].permille,
                            u->competitors[k].trigger);
    if (result == SB_OK) result = listening__life_events_store(l, id, source, author, u, now_ms, &r->leads);
    if (result == SB_OK) result = listening__stats_batch_add(bs->stats, source, pp->posted_at_ms, u);
    if (result == SB_OK && !bs->routing) result = listening__routing_load(l, &bs->routing);
    if (result != SB_OK) return result;
    /* Risks as the table holds them: first of each name. */
    listening_signal risks[LISTENING_SIGNALS_MAX];
    size_t risk_count = 0;
    for (size_t k = 0; k < u->risk_count; k++) {
        bool seen = false;
        for (size_t i = 0; i < risk_count; i++)
            if (strcmp(risks[i].name, u->risks[k].name) == 0) seen = true;
        if (!seen) risks[risk_count++] = u->risks[k];
    }
    listening__route_input in = {
        .source = source,
        .author = author,
        .kind = u->kind,
        .sentiment = u->sentiment,
        .topic = u->topic,
        .kind_permille = u->kind_permille,
        .sentiment_permille = u->sentiment_permille,
        .topic_permille = u->topic_permille,
        .posted_at_ms = pp->posted_at_ms,
        .risks = risks,
        .risk_count = risk_count,
    };
    return listening__cases_route_with(l, bs->routing, id, &in, now_ms, &r->cases_opened, &r->cases_joined);
}

/* One prepared post; caller holds the transaction.  The insert is tried
 * first: a (source, external id) already there is a duplicate whose counts
 * merge (the larger wins). */
static int store_one(listening *l, batch_state *bs, const listening_prepared *p, const prepared_post *pp,
                     int64_t now_ms, listening_ingest_result *r) {
    const char *a = p->arena.data;
    const char *source = a + pp->source, *external_id = a + pp->external_id, *author = a + pp->author;
    const char *text = a + pp->text;
    int result;
    if (pp->has_sealed)
        result = store_exec(l->s,
                            "INSERT INTO listening_posts(source, external_id, author, author_reach, posted_at_ms, "
                            "text, raw_sealed, redactions, likes, shares, replies, ingested_at_ms, updated_at_ms) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(source, external_id) DO "
                            "NOTHING",
                            "tttiitbiiiiii", source, external_id, author, pp->author_reach, pp->posted_at_ms, text,
                            a + pp->sealed, (int)pp->sealed_len, pp->redactions, pp->likes, pp->shares, pp->replies,
                            now_ms, now_ms);
    else
        result = store_exec(l->s,
                            "INSERT INTO listening_posts(source, external_id, author, author_reach, posted_at_ms, "
                            "text, raw_sealed, redactions, likes, shares, replies, ingested_at_ms, updated_at_ms) "
                            "VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?) ON CONFLICT(source, external_id) DO "
                            "NOTHING",
                            "tttiitiiiiii", source, external_id, author, pp->author_reach, pp->posted_at_ms, text,
                            pp->redactions, pp->likes, pp->shares, pp->replies, now_ms, now_ms);
    if (result != SB_OK) return result;
    if (store_changes(l->s) == 0) {
        r->duplicates++;
        return store_exec(l->s,
                          "UPDATE listening_posts SET likes = max(likes, ?), shares = max(shares, ?), replies = "
                          "max(replies, ?), author_reach = max(author_reach, ?), updated_at_ms = ? WHERE source = ? "
                          "AND external_id = ?",
                          "iiiiitt", pp->likes, pp->shares, pp->replies, pp->author_reach, now_ms, source, external_id);
    }
    int64_t id = store_last_insert_id(l->s);
    r->accepted++;
    result = listening_search_index(l, id, text, strlen(text));
    if (result != SB_OK) return result;
    if (!pp->understood) {
        r->not_understood++;
        return SB_OK;
    }
    return store_understanding(l, bs, id, source, author, pp, now_ms, r);
}

static void result_reset(listening_ingest_result *r, size_t rejected) {
    listening_rejection *rejections = r->rejections;
    size_t cap = r->rejections_cap;
    memset(r, 0, sizeof *r);
    r->rejections = rejections;
    r->rejections_cap = cap;
    r->rejected = rejected;
}

int listening_ingest_prepared(listening *l, const listening_prepared *p, int64_t now_ms, listening_ingest_result *r) {
    if (!l || !r) return SB_EINVAL;
    result_reset(r, 0);
    if (!p) return SB_EINVAL;
    if (p->count == 0) return SB_OK;
    batch_state bs = {0};
    int result = listening__stats_batch_open(&bs.stats);
    if (result != SB_OK) return result;
    result = store_begin(l->s);
    for (size_t k = 0; k < p->count && result == SB_OK; k++) {
        const prepared_post *pp = &p->posts[k];
        if (pp->reason)
            reject(r, k, pp->reason);
        else
            result = store_one(l, &bs, p, pp, now_ms, r);
    }
    if (result == SB_OK) result = listening__stats_batch_flush(l, bs.stats);
    listening__stats_batch_free(bs.stats);
    listening__routing_free(bs.routing);
    if (result == SB_OK) result = store_commit(l->s);
    if (result != SB_OK) {
        store_rollback(l->s);
        result_reset(r, r->rejected);
    }
    return result;
}

int listening_ingest(listening *l, const listening_post *posts, size_t count, int64_t now_ms,
                     listening_ingest_result *r) {
    if (!l || !r) return SB_EINVAL;
    result_reset(r, 0);
    if (count > SB_LISTENING_BATCH_POSTS_MAX) return SB_ELIMIT;
    if (count == 0) return SB_OK;
    if (!posts) return SB_EINVAL;
    listening_prepared *p;
    int result = listening_prepare(l, posts, count, now_ms, &p);
    if (result != SB_OK) return result;
    result = listening_ingest_prepared(l, p, now_ms, r);
    listening_prepared_free(p);
    return result;
}
