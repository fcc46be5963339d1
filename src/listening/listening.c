/*
 * listening.c - posts: vocabularies, validation, batch ingest with dedup,
 * understanding, corrections and their export, erasure, and the statistics
 * every post contributes to.
 *
 * Ingest itself (check, redact, seal, understand, store, count, route) is in
 * listening_ingest.c.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "listening/listening_int.h"

/* ---- vocabularies ---- */
static const char *const sources[] = {"twitter", "instagram", "telegram",    "linkedin",    "facebook",
                                      "forum",   "app_store", "google_play", "own_channel", "messenger",
                                      "news",    "youtube",   "vk"};
static const char *const sentiments[] = {"positive", "negative", "neutral"};
static const char *const kinds[] = {"complaint", "suggestion", "question", "praise", "other"};
static const char *const topics[] = {"cards",      "transfers", "fees",           "loans", "call_center",
                                     "app_online", "branch",    "fraud_security", "staff", "other"};
static const char *const risks[] = {"card_misuse", "threat_leave", "threat_sue", "insolvency_rumour"};
static const char *const life_events[][2] = {
    {"new_child", "child_savings"},
    {"travel_abroad", "travel_insurance_fx_card"},
    {"wedding", "wedding_loan"},
    {"new_home", "mortgage"},
    {"new_job", "salary_account_credit_card"},
    {"studies", "student_loan_education_savings"},
};

static bool in_list(const char *const *list, size_t n, const char *name) {
    if (!name) return false;
    for (size_t k = 0; k < n; k++)
        if (strcmp(list[k], name) == 0) return true;
    return false;
}

bool listening_source_valid(const char *name) { return in_list(sources, SB_ARRAY_LEN(sources), name); }
bool listening_risk_valid(const char *name) { return in_list(risks, SB_ARRAY_LEN(risks), name); }
bool listening_label_valid(const char *head, const char *label) {
    if (!head) return false;
    if (strcmp(head, "sentiment") == 0) return in_list(sentiments, SB_ARRAY_LEN(sentiments), label);
    if (strcmp(head, "kind") == 0) return in_list(kinds, SB_ARRAY_LEN(kinds), label);
    if (strcmp(head, "topic") == 0) return in_list(topics, SB_ARRAY_LEN(topics), label);
    return false;
}
const char *listening_life_event_offer(const char *name) {
    if (!name) return NULL;
    for (size_t k = 0; k < SB_ARRAY_LEN(life_events); k++)
        if (strcmp(life_events[k][0], name) == 0) return life_events[k][1];
    return NULL;
}
bool listening_life_event_valid(const char *name) { return listening_life_event_offer(name) != NULL; }

/* ---- context ---- */
int listening_open(store *s, const listening_config *cfg, listening **out) {
    *out = NULL;
    if (!s) return SB_EINVAL;
    listening *l = sb_calloc(1, sizeof *l);
    if (!l) return SB_ENOMEM;
    l->s = s;
    if (cfg) l->cfg = *cfg;
    if (l->cfg.alert_baseline_hours <= 0) l->cfg.alert_baseline_hours = SB_LISTENING_ALERT_BASELINE_HOURS;
    if (l->cfg.alert_min_count <= 0) l->cfg.alert_min_count = SB_LISTENING_ALERT_MIN_COUNT;
    if (l->cfg.alert_p_threshold <= 0) l->cfg.alert_p_threshold = SB_LISTENING_ALERT_P_THRESHOLD;
    *out = l;
    return SB_OK;
}

void listening_close(listening *l) {
    if (!l) return;
    sodium_memzero(l->cfg.raw_key, sizeof l->cfg.raw_key);
    sb_free(l);
}

/* ---- validation ---- */
static bool text_field_ok(const char *s, size_t max, const char **reason_out, const char *missing, const char *too_long,
                          const char *bad_utf8) {
    if (!s || !*s) {
        *reason_out = missing;
        return false;
    }
    size_t len = strnlen(s, max + 1);
    if (len > max) {
        *reason_out = too_long;
        return false;
    }
    if (!sb_utf8_valid(s, len)) {
        *reason_out = bad_utf8;
        return false;
    }
    for (size_t k = 0; k < len; k++)
        if ((unsigned char)s[k] < 0x20) {
            *reason_out = bad_utf8;
            return false;
        }
    return true;
}

int listening_post_check(const listening_post *p, int64_t now_ms, const char **reason_out) {
    const char *reason = NULL;
    if (!p)
        reason = "missing_post";
    else if (!p->source || !*p->source)
        reason = "missing_source";
    else if (!listening_source_valid(p->source))
        reason = "unknown_source";
    else if (!text_field_ok(p->external_id, SB_LISTENING_EXTERNAL_ID_BYTES_MAX, &reason, "missing_external_id",
                            "external_id_too_long", "bad_external_id")) {
    } else if (!text_field_ok(p->author, SB_LISTENING_AUTHOR_BYTES_MAX, &reason, "missing_author", "author_too_long",
                              "bad_author")) {
    } else if (!p->text || p->text_len == 0)
        reason = "missing_text";
    else if (p->text_len > SB_LISTENING_TEXT_BYTES_MAX)
        reason = "text_too_long";
    else if (!sb_utf8_valid(p->text, p->text_len) || memchr(p->text, '\0', p->text_len))
        reason = "invalid_utf8";
    else if (p->posted_at_ms < SB_LISTENING_TIME_MIN_MS)
        reason = "time_too_old";
    else if (p->posted_at_ms > now_ms + SB_LISTENING_FUTURE_SKEW_MS)
        reason = "time_in_future";
    else if (p->author_reach < 0 || p->author_reach > SB_LISTENING_COUNT_MAX)
        reason = "bad_reach";
    else if (p->likes < 0 || p->likes > SB_LISTENING_COUNT_MAX || p->shares < 0 || p->shares > SB_LISTENING_COUNT_MAX ||
             p->replies < 0 || p->replies > SB_LISTENING_COUNT_MAX)
        reason = "bad_count";
    if (reason_out) *reason_out = reason;
    if (!reason) return SB_OK;
    return strcmp(reason, "text_too_long") == 0 || strstr(reason, "too_long") ? SB_ELIMIT : SB_EINVAL;
}

static bool bounded_string(const char *s, size_t max) { return strnlen(s, max) < max; }

int listening_understanding_check(const listening_understanding *u) {
    if (!u) return SB_EINVAL;
    if (!bounded_string(u->lang, sizeof u->lang) || !bounded_string(u->model, sizeof u->model)) return SB_EINVAL;
    static const char *const langs[] = {"", "fa", "ar", "uk", "ru", "en", "other"};
    if (!in_list(langs, SB_ARRAY_LEN(langs), u->lang)) return SB_EINVAL;
    if (!listening_label_valid("sentiment", u->sentiment) || !listening_label_valid("kind", u->kind) ||
        !listening_label_valid("topic", u->topic))
        return SB_EINVAL;
    if (u->sentiment_permille < 0 || u->sentiment_permille > 1000 || u->kind_permille < 0 || u->kind_permille > 1000 ||
        u->topic_permille < 0 || u->topic_permille > 1000)
        return SB_EINVAL;
    if (u->risk_count > LISTENING_SIGNALS_MAX || u->life_event_count > LISTENING_SIGNALS_MAX ||
        u->competitor_count > LISTENING_SIGNALS_MAX)
        return SB_EINVAL;
    const listening_signal *lists[] = {u->risks, u->life_events, u->competitors};
    size_t counts[] = {u->risk_count, u->life_event_count, u->competitor_count};
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < counts[k]; i++) {
            const listening_signal *sig = &lists[k][i];
            if (!bounded_string(sig->name, sizeof sig->name) || !bounded_string(sig->trigger, sizeof sig->trigger) ||
                !sig->name[0] || !sb_utf8_valid(sig->name, strlen(sig->name)) ||
                !sb_utf8_valid(sig->trigger, strlen(sig->trigger)) || sig->permille < 0 || sig->permille > 1000)
                return SB_EINVAL;
            if (k == 0 && !listening_risk_valid(sig->name)) return SB_EINVAL;
            if (k == 1 && !listening_life_event_valid(sig->name)) return SB_EINVAL;
        }
    if (!sb_utf8_valid(u->lang, strlen(u->lang)) || !sb_utf8_valid(u->model, strlen(u->model))) return SB_EINVAL;
    return SB_OK;
}

/* ---- statistics ---- */
#define HOUR_MS (60LL * 60 * 1000)
#define DAY_MS (24 * HOUR_MS)

static int64_t floor_to(int64_t t, int64_t unit) { return t >= 0 ? t - t % unit : t - ((t % unit) + unit) % unit; }

static int stat_add(listening *l, const char *dimension, const char *value, int64_t posted_at_ms, const char *sentiment,
                    int sign) {
    int64_t pos = strcmp(sentiment, "positive") == 0, neg = strcmp(sentiment, "negative") == 0;
    int64_t neu = !pos && !neg;
    static const char *const grains[] = {"hour", "day"};
    const int64_t units[] = {HOUR_MS, DAY_MS};
    for (int g = 0; g < 2; g++) {
        int64_t bucket = floor_to(posted_at_ms, units[g]);
        int result;
        if (sign > 0)
            result =
                store_exec(l->s,
                           "INSERT INTO listening_stats(granularity, bucket_ms, dimension, value, posts, positive, "
                           "negative, neutral) VALUES (?, ?, ?, ?, 1, ?, ?, ?) ON CONFLICT(granularity, bucket_ms, "
                           "dimension, value) DO UPDATE SET posts = posts + 1, positive = positive + "
                           "excluded.positive, negative = negative + excluded.negative, neutral = neutral + "
                           "excluded.neutral",
                           "tittiii", grains[g], bucket, dimension, value, pos, neg, neu);
        else
            result = store_exec(l->s,
                                "UPDATE listening_stats SET posts = posts - 1, positive = positive - ?, negative = "
                                "negative - ?, neutral = neutral - ? WHERE granularity = ? AND bucket_ms = ? AND "
                                "dimension = ? AND value = ? AND posts > 0",
                                "iiititt", pos, neg, neu, grains[g], bucket, dimension, value);
        if (result != SB_OK) return result;
    }
    return SB_OK;
}

int listening__stats_apply(listening *l, int64_t post_id, int sign) {
    store_stmt *st;
    int result = store_query(l->s, &st,
                             "SELECT source, lang, sentiment, topic, posted_at_ms FROM listening_effective WHERE "
                             "post_id = ?",
                             "i", post_id);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result != STORE_ROW) {
        store_stmt_done(st);
        return result < 0 ? result : SB_OK; /* not understood: contributes nothing */
    }
    char source[SB_LISTENING_SOURCE_BYTES_MAX + 1], lang[8], sentiment[LISTENING_LABEL_BYTES],
        topic[LISTENING_LABEL_BYTES];
    snprintf(source, sizeof source, "%s", store_col_text(st, 0));
    snprintf(lang, sizeof lang, "%s", store_col_text(st, 1));
    snprintf(sentiment, sizeof sentiment, "%s", store_col_text(st, 2));
    snprintf(topic, sizeof topic, "%s", store_col_text(st, 3));
    int64_t at = store_col_int64(st, 4);
    store_stmt_done(st);
    result = stat_add(l, "all", "", at, sentiment, sign);
    if (result == SB_OK) result = stat_add(l, "source", source, at, sentiment, sign);
    if (result == SB_OK) result = stat_add(l, "lang", lang, at, sentiment, sign);
    if (result == SB_OK) result = stat_add(l, "topic", topic, at, sentiment, sign);
    if (result != SB_OK) return result;
    /* Competitors and risks: at most LISTENING_SIGNALS_MAX each. */
    char names[2 * LISTENING_SIGNALS_MAX][LISTENING_LABEL_BYTES];
    char dims[2 * LISTENING_SIGNALS_MAX][12];
    size_t n = 0;
    result = store_query(l->s, &st,
                         "SELECT kind, name FROM listening_signals WHERE post_id = ? AND kind IN ('competitor', "
                         "'risk') ORDER BY kind, name",
                         "i", post_id);
    if (result != SB_OK) return result;
    while ((result = store_step(st)) == STORE_ROW && n < SB_ARRAY_LEN(names)) {
        snprintf(dims[n], sizeof dims[n], "%s", store_col_text(st, 0));
        snprintf(names[n], sizeof names[n], "%s", store_col_text(st, 1));
        n++;
    }
    store_stmt_done(st);
    if (result < 0) return result;
    for (size_t k = 0; k < n && result >= 0; k++)
        result = stat_add(l, dims[k], names[k], at, sentiment, sign);
    return result < 0 ? result : SB_OK;
}

int listening_stats_recompute(listening *l) {
    int result = store_begin(l->s);
    if (result != SB_OK) return result;
    result = store_exec(l->s, "DELETE FROM listening_stats", "");
    int64_t last = 0;
    while (result == SB_OK) {
        int64_t ids[256];
        size_t n = 0;
        store_stmt *st;
        result = store_query(l->s, &st,
                             "SELECT post_id FROM listening_understanding WHERE post_id > ? ORDER BY "
                             "post_id LIMIT 256",
                             "i", last);
        if (result != SB_OK) break;
        while ((result = store_step(st)) == STORE_ROW)
            ids[n++] = store_col_int64(st, 0);
        store_stmt_done(st);
        if (result < 0) break;
        result = SB_OK;
        if (n == 0) break;
        for (size_t k = 0; k < n && result == SB_OK; k++)
            result = listening__stats_apply(l, ids[k], +1);
        last = ids[n - 1];
    }
    if (result == SB_OK) return store_commit(l->s);
    store_rollback(l->s);
    return result;
}

int listening_stat_get(listening *l, const char *granularity, int64_t bucket_ms, const char *dimension,
                       const char *value, listening_stat *out) {
    memset(out, 0, sizeof *out);
    store_stmt *st;
    int result = store_query(l->s, &st,
                             "SELECT posts, positive, negative, neutral FROM listening_stats WHERE granularity = ? "
                             "AND bucket_ms = ? AND dimension = ? AND value = ?",
                             "titt", granularity, bucket_ms, dimension, value ? value : "");
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_ROW) {
        out->posts = store_col_int64(st, 0);
        out->positive = store_col_int64(st, 1);
        out->negative = store_col_int64(st, 2);
        out->neutral = store_col_int64(st, 3);
    }
    store_stmt_done(st);
    return result < 0 ? result : SB_OK;
}

/* ---- statistics of a batch of new posts ---- */
typedef struct {
    bool used;
    int grain; /* 0 hour, 1 day */
    int64_t bucket_ms;
    char dimension[12];
    char value[SB_LISTENING_SOURCE_BYTES_MAX + LISTENING_LABEL_BYTES];
    int64_t posts, positive, negative, neutral;
} stats_cell;

struct listening__stats_batch {
    stats_cell *cells;
    size_t cap, used; /* cap is a power of two, kept at most half full */
};

int listening__stats_batch_open(listening__stats_batch **out) {
    *out = NULL;
    listening__stats_batch *b = sb_calloc(1, sizeof *b);
    if (!b) return SB_ENOMEM;
    b->cap = 1024;
    b->cells = sb_calloc(b->cap, sizeof *b->cells);
    if (!b->cells) {
        sb_free(b);
        return SB_ENOMEM;
    }
    *out = b;
    return SB_OK;
}

void listening__stats_batch_free(listening__stats_batch *b) {
    if (!b) return;
    sb_free(b->cells);
    sb_free(b);
}

static uint64_t cell_hash(int grain, int64_t bucket, const char *dimension, const char *value) {
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)grain ^ ((uint64_t)bucket * 0x9E3779B97F4A7C15ULL);
    for (const char *p = dimension; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ 0xFF) * 1099511628211ULL;
    for (const char *p = value; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h;
}

static stats_cell *cell_find(stats_cell *cells, size_t cap, int grain, int64_t bucket, const char *dimension,
                             const char *value) {
    size_t at = (size_t)cell_hash(grain, bucket, dimension, value) & (cap - 1);
    for (;;) { /* never full: at most half the slots are used */
        stats_cell *c = &cells[at];
        if (!c->used || (c->grain == grain && c->bucket_ms == bucket && strcmp(c->dimension, dimension) == 0 &&
                         strcmp(c->value, value) == 0))
            return c;
        at = (at + 1) & (cap - 1);
    }
}

static int stats_batch_count(listening__stats_batch *b, const char *dimension, const char *value, int64_t posted_at_ms,
                             int pos, int neg) {
    const int64_t units[] = {HOUR_MS, DAY_MS};
    for (int g = 0; g < 2; g++) {
        if (2 * (b->used + 1) > b->cap) {
            size_t cap = 2 * b->cap;
            stats_cell *cells = sb_calloc(cap, sizeof *cells);
            if (!cells) return SB_ENOMEM;
            for (size_t k = 0; k < b->cap; k++)
                if (b->cells[k].used)
                    *cell_find(cells, cap, b->cells[k].grain, b->cells[k].bucket_ms, b->cells[k].dimension,
                               b->cells[k].value) = b->cells[k];
            sb_free(b->cells);
            b->cells = cells;
            b->cap = cap;
        }
        int64_t bucket = floor_to(posted_at_ms, units[g]);
        stats_cell *c = cell_find(b->cells, b->cap, g, bucket, dimension, value);
        if (!c->used) {
            c->used = true;
            c->grain = g;
            c->bucket_ms = bucket;
            snprintf(c->dimension, sizeof c->dimension, "%s", dimension);
            snprintf(c->value, sizeof c->value, "%s", value);
            b->used++;
        }
        c->posts++;
        c->positive += pos;
        c->negative += neg;
        c->neutral += !pos && !neg;
    }
    return SB_OK;
}

/* Names of a signal list without repeats (the table keeps the first). */
static bool name_seen_before(const listening_signal *list, size_t k) {
    for (size_t i = 0; i < k; i++)
        if (strcmp(list[i].name, list[k].name) == 0) return true;
    return false;
}

int listening__stats_batch_add(listening__stats_batch *b, const char *source, int64_t posted_at_ms,
                               const listening_understanding *u) {
    int pos = strcmp(u->sentiment, "positive") == 0, neg = strcmp(u->sentiment, "negative") == 0;
    int result = stats_batch_count(b, "all", "", posted_at_ms, pos, neg);
    if (result == SB_OK) result = stats_batch_count(b, "source", source, posted_at_ms, pos, neg);
    if (result == SB_OK) result = stats_batch_count(b, "lang", u->lang[0] ? u->lang : "other", posted_at_ms, pos, neg);
    if (result == SB_OK) result = stats_batch_count(b, "topic", u->topic, posted_at_ms, pos, neg);
    for (size_t k = 0; k < u->competitor_count && result == SB_OK; k++)
        if (!name_seen_before(u->competitors, k))
            result = stats_batch_count(b, "competitor", u->competitors[k].name, posted_at_ms, pos, neg);
    for (size_t k = 0; k < u->risk_count && result == SB_OK; k++)
        if (!name_seen_before(u->risks, k))
            result = stats_batch_count(b, "risk", u->risks[k].name, posted_at_ms, pos, neg);
    return result;
}

int listening__stats_batch_flush(listening *l, listening__stats_batch *b) {
    static const char *const grains[] = {"hour", "day"};
    int result = SB_OK;
    for (size_t k = 0; k < b->cap && result == SB_OK; k++) {
        stats_cell *c = &b->cells[k];
        if (!c->used) continue;
        result = store_exec(l->s,
                            "INSERT INTO listening_stats(granularity, bucket_ms, dimension, value, posts, positive, "
                            "negative, neutral) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(granularity, bucket_ms, "
                            "dimension, value) DO UPDATE SET posts = posts + excluded.posts, positive = positive + "
                            "excluded.positive, negative = negative + excluded.negative, neutral = neutral + "
                            "excluded.neutral",
                            "tittiiii", grains[c->grain], c->bucket_ms, c->dimension, c->value, c->posts, c->positive,
                            c->negative, c->neutral);
    }
    memset(b->cells, 0, b->cap * sizeof *b->cells);
    b->used = 0;
    return result;
}

/* ---- understanding ---- */
/* Store u for post_id (replacing), with life events only for consenting
 * authors, leads for them; caller holds the transaction. */
static int understanding_store(listening *l, int64_t post_id, const listening_understanding *u, int64_t now_ms,
                               size_t *leads) {
    int result = store_exec(l->s, "DELETE FROM listening_signals WHERE post_id = ?", "i", post_id);
    if (result == SB_OK)
        result = store_exec(l->s,
                            "INSERT INTO listening_understanding(post_id, lang, sentiment, sentiment_permille, kind, "
                            "kind_permille, topic, topic_permille, model) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON "
                            "CONFLICT(post_id) DO UPDATE SET lang = excluded.lang, sentiment = excluded.sentiment, "
                            "sentiment_permille = excluded.sentiment_permille, kind = excluded.kind, kind_permille = "
                            "excluded.kind_permille, topic = excluded.topic, topic_permille = excluded.topic_permille, "
                            "model = excluded.model",
                            "ittititit", post_id, u->lang[0] ? u->lang : "other", u->sentiment,
                            (int64_t)u->sentiment_permille, u->kind, (int64_t)u->kind_permille, u->topic,
                            (int64_t)u->topic_permille, u->model);
    for (size_t k = 0; k < u->risk_count && result == SB_OK; k++)
        result = store_exec(l->s,
                            "INSERT OR IGNORE INTO listening_signals(post_id, kind, name, permille, trigger_words) "
                            "VALUES (?, 'risk', ?, ?, ?)",
                            "itit", post_id, u->risks[k].name, (int64_t)u->risks[k].permille, u->risks[k].trigger);
    for (size_t k = 0; k < u->competitor_count && result == SB_OK; k++)
        result = store_exec(l->s,
                            "INSERT OR IGNORE INTO listening_signals(post_id, kind, name, permille, trigger_words) "
                            "VALUES (?, 'competitor', ?, ?, ?)",
                            "itit", post_id, u->competitors[k].name, (int64_t)u->competitors[k].permille,
                            u->competitors[k].trigger);
    if (result != SB_OK || u->life_event_count == 0) return result;
    char source[SB_LISTENING_SOURCE_BYTES_MAX + 1], author[SB_LISTENING_AUTHOR_BYTES_MAX + 1];
    store_stmt *st;
    result = store_query(l->s, &st, "SELECT source, author FROM listening_posts WHERE id = ?", "i", post_id);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_ROW) {
        snprintf(source, sizeof source, "%s", store_col_text(st, 0));
        snprintf(author, sizeof author, "%s", store_col_text(st, 1));
    }
    store_stmt_done(st);
    if (result != STORE_ROW) return result < 0 ? result : SB_ENOTFOUND;
    return listening__life_events_store(l, post_id, source, author, u, now_ms, leads);
}

int listening__life_events_store(listening *l, int64_t post_id, const char *source, const char *author,
                                 const listening_understanding *u, int64_t now_ms, size_t *leads) {
    if (u->life_event_count == 0) return SB_OK;
    /* Life events: nothing about the author is kept unless they consented. */
    int64_t customer_id;
    int result = listening__consent_customer(l, source, author, now_ms, &customer_id);
    if (result == SB_ENOTFOUND) return SB_OK;
    if (result != SB_OK) return result;
    for (size_t k = 0; k < u->life_event_count && result == SB_OK; k++) {
        const listening_signal *sig = &u->life_events[k];
        result = store_exec(l->s,
                            "INSERT OR IGNORE INTO listening_signals(post_id, kind, name, permille, trigger_words) "
                            "VALUES (?, 'life_event', ?, ?, ?)",
                            "itit", post_id, sig->name, (int64_t)sig->permille, sig->trigger);
        if (result == SB_OK)
            result =
                store_exec(l->s,
                           "INSERT OR IGNORE INTO listening_leads(post_id, customer_id, life_event, offer, "
                           "created_at_ms) VALUES (?, ?, ?, ?, ?)",
                           "iitti", post_id, customer_id, sig->name, listening_life_event_offer(sig->name), now_ms);
        if (result == SB_OK && store_changes(l->s) > 0 && leads) (*leads)++;
    }
    return result;
}

int listening__post_understood(listening *l, int64_t post_id, const listening_understanding *u, int64_t now_ms,
                               listening_ingest_result *r) {
    int result = listening__stats_apply(l, post_id, -1); /* a previous understanding, if any */
    if (result == SB_OK) result = understanding_store(l, post_id, u, now_ms, r ? &r->leads : NULL);
    if (result == SB_OK) result = listening__stats_apply(l, post_id, +1);
    size_t opened = 0, joined = 0;
    if (result == SB_OK) result = listening__cases_route(l, post_id, now_ms, &opened, &joined);
    if (r) {
        r->cases_opened += opened;
        r->cases_joined += joined;
    }
    return result;
}

int listening_understanding_set(listening *l, int64_t post_id, const listening_understanding *u, int64_t now_ms) {
    if (listening_understanding_check(u) != SB_OK) return SB_EINVAL;
    int result = store_begin(l->s);
    if (result != SB_OK) return result;
    int64_t exists;
    result = store_query_int64(l->s, &exists, "SELECT id FROM listening_posts WHERE id = ?", "i", post_id);
    if (result == SB_OK) result = listening__post_understood(l, post_id, u, now_ms, NULL);
    if (result == SB_OK) return store_commit(l->s);
    store_rollback(l->s);
    return result;
}

int listening_post_find(listening *l, const char *source, const char *external_id, int64_t *post_id_out) {
    if (!source || !external_id) return SB_EINVAL;
    return store_query_int64(l->s, post_id_out, "SELECT id FROM listening_posts WHERE source = ? AND external_id = ?",
                             "tt", source, external_id);
}

int listening_post_raw(listening *l, int64_t post_id, char **out, size_t *len_out) {
    *out = NULL;
    *len_out = 0;
    if (!l->cfg.store_raw) return SB_EPERM;
    store_stmt *st;
    int result = store_query(l->s, &st, "SELECT raw_sealed FROM listening_posts WHERE id = ?", "i", post_id);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_ROW && !store_col_is_null(st, 0))
        result = listening_unseal(l->cfg.raw_key, store_col_blob(st, 0), (size_t)store_col_bytes(st, 0), out, len_out);
    else if (result >= 0)
        result = SB_ENOTFOUND;
    store_stmt_done(st);
    return result;
}

/* ---- corrections ---- */
int listening_correct(listening *l, int64_t post_id, const char *head, const char *label, const char *analyst,
                      int64_t now_ms) {
    if (!listening_label_valid(head, label)) return SB_EINVAL;
    if (!analyst || !*analyst || strlen(analyst) > SB_USERNAME_BYTES_MAX || !sb_utf8_valid(analyst, strlen(analyst)))
        return SB_EINVAL;
    int result = store_begin(l->s);
    if (result != SB_OK) return result;
    int64_t exists;
    result =
        store_query_int64(l->s, &exists, "SELECT post_id FROM listening_understanding WHERE post_id = ?", "i", post_id);
    if (result == SB_OK) result = listening__stats_apply(l, post_id, -1);
    if (result == SB_OK)
        result = store_exec(l->s,
                            "INSERT INTO listening_corrections(post_id, head, label, corrected_by, corrected_at_ms) "
                            "VALUES (?, ?, ?, ?, ?)",
                            "ittti", post_id, head, label, analyst, now_ms);
    if (result == SB_OK) result = listening__stats_apply(l, post_id, +1);
    if (result == SB_OK) return store_commit(l->s);
    store_rollback(l->s);
    return result;
}

int listening_label_get(listening *l, int64_t post_id, const char *head, char out[LISTENING_LABEL_BYTES]) {
    out[0] = '\0';
    const char *sql;
    if (head && strcmp(head, "sentiment") == 0)
        sql = "SELECT sentiment FROM listening_effective WHERE post_id = ?";
    else if (head && strcmp(head, "kind") == 0)
        sql = "SELECT kind FROM listening_effective WHERE post_id = ?";
    else if (head && strcmp(head, "topic") == 0)
        sql = "SELECT topic FROM listening_effective WHERE post_id = ?";
    else
        return SB_EINVAL;
    store_stmt *st;
    int result = store_query(l->s, &st, sql, "i", post_id);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_ROW) snprintf(out, LISTENING_LABEL_BYTES, "%s", store_col_text(st, 0));
    store_stmt_done(st);
    return result == STORE_ROW ? SB_OK : result < 0 ? result : SB_ENOTFOUND;
}

int listening_corrections_export(listening *l, sb_buf *out, size_t *rows_out) {
    if (rows_out) *rows_out = 0;
    store_stmt *st;
    int result = store_query(l->s, &st,
                             "SELECT e.text, e.lang, e.sentiment, e.kind, e.topic FROM listening_effective e WHERE "
                             "EXISTS (SELECT 1 FROM listening_corrections c WHERE c.post_id = e.post_id) ORDER BY "
                             "e.post_id",
                             "");
    if (result != SB_OK) return result;
    size_t rows = 0;
    while ((result = store_step(st)) == STORE_ROW) {
        static const char *const keys[] = {"text", "lang", "sentiment", "kind", "topic"};
        for (int c = 0; c < 5 && result >= 0; c++) {
            const char *v = store_col_text(st, c);
            result = sb_buf_printf(out, "%s\"%s\":\"", c == 0 ? "{" : ",", keys[c]);
            if (result == SB_OK) result = sb_buf_append_json_escaped(out, v ? v : "", v ? strlen(v) : 0);
            if (result == SB_OK) result = sb_buf_append_str(out, "\"");
        }
        if (result == SB_OK) result = sb_buf_append_str(out, "}\n");
        if (result != SB_OK) break;
        rows++;
    }
    store_stmt_done(st);
    if (result < 0) return result;
    if (rows_out) *rows_out = rows;
    return SB_OK;
}

/* ---- erasure ---- */
int listening_erase_author(listening *l, const char *source, const char *author, listening_erase_result *res) {
    if (res) memset(res, 0, sizeof *res);
    if (!source || !author || !*author) return SB_EINVAL;
    int result = store_begin(l->s);
    if (result != SB_OK) return result;
    listening_erase_result counts = {0};
    int64_t last = 0;
    while (result == SB_OK) {
        int64_t ids[256];
        size_t n = 0;
        store_stmt *st;
        result = store_query(l->s, &st,
                             "SELECT id FROM listening_posts WHERE source = ? AND author = ? AND id > ? ORDER BY id "
                             "LIMIT 256",
                             "tti", source, author, last);
        if (result != SB_OK) break;
        while ((result = store_step(st)) == STORE_ROW)
            ids[n++] = store_col_int64(st, 0);
        store_stmt_done(st);
        if (result < 0) break;
        result = SB_OK;
        if (n == 0) break;
        for (size_t k = 0; k < n && result == SB_OK; k++) {
            result = listening__stats_apply(l, ids[k], -1);
            if (result == SB_OK) result = store_exec(l->s, "DELETE FROM listening_posts WHERE id = ?", "i", ids[k]);
            counts.posts++;
        }
        last = ids[n - 1];
    }
    if (result == SB_OK) {
        result = store_exec(l->s, "DELETE FROM listening_cases WHERE source = ? AND author = ?", "tt", source, author);
        counts.cases = (size_t)store_changes(l->s);
    }
    if (result == SB_OK) {
        result =
            store_exec(l->s, "DELETE FROM listening_consents WHERE source = ? AND handle = ?", "tt", source, author);
        counts.consents = (size_t)store_changes(l->s);
    }
    /* the thanks the bank sent them (migration 0510) */
    if (result == SB_OK)
        result = store_exec(l->s, "DELETE FROM listening_thanks WHERE source = ? AND author = ?", "tt", source, author);
    if (result == SB_OK) result = store_commit(l->s);
    if (result != SB_OK) {
        store_rollback(l->s);
        return result;
    }
    if (res) *res = counts;
    return SB_OK;
}
