/*
 * listening.c - posts: vocabularies, validation, batch ingest with dedup,
 * understanding, corrections and their export, erasure, and the statistics
 * every post contributes to.
 *
 * Ingest runs a batch in one write transaction: each row is checked first
 * (a bad row is a rejection with its reason, the rest go on), then a new post
 * is redacted, sealed if raw storage is on, understood through the
 * understander interface, stored, counted, routed by the rules and may raise
 * a lead.  A store failure rolls the whole batch back: nothing half-written.
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

    /* Life events: nothing about the author is kept unless they consented. */
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
    int64_t customer_id;
    result = listening__consent_customer(l, source, author, now_ms, &customer_id);
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

/* Understand and route a stored post inside the caller's transaction. */
static int post_understood(listening *l, int64_t post_id, const listening_understanding *u, int64_t now_ms,
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
    if (result == SB_OK) result = post_understood(l, post_id, u, now_ms, NULL);
    if (result == SB_OK) return store_commit(l->s);
    store_rollback(l->s);
    return result;
}

/* ---- ingest ---- */
static void reject(listening_ingest_result *r, size_t index, const char *reason) {
    if (r->rejections && r->rejected < r->rejections_cap)
        r->rejections[r->rejected] = (listening_rejection){index, reason};
    r->rejected++;
}

/* One checked post; caller holds the transaction. */
static int ingest_one(listening *l, const listening_post *p, int64_t now_ms, sb_buf *redacted,
                      listening_ingest_result *r, size_t index) {
    int64_t id;
    int result = store_query_int64(l->s, &id, "SELECT id FROM listening_posts WHERE source = ? AND external_id = ?",
                                   "tt", p->source, p->external_id);
    if (result == SB_OK) {
        r->duplicates++;
        return store_exec(l->s,
                          "UPDATE listening_posts SET likes = max(likes, ?), shares = max(shares, ?), replies = "
                          "max(replies, ?), author_reach = max(author_reach, ?), updated_at_ms = ? WHERE id = ?",
                          "iiiiii", p->likes, p->shares, p->replies, p->author_reach, now_ms, id);
    }
    if (result != SB_ENOTFOUND) return result;
    listening_redaction_counts counts;
    result = listening_redact(p->text, p->text_len, redacted, &counts);
    if (result == SB_EINVAL || result == SB_ELIMIT) {
        reject(r, index, "invalid_text");
        return SB_OK;
    }
    if (result != SB_OK) return result;
    unsigned char *sealed = NULL;
    size_t sealed_len = 0;
    if (l->cfg.store_raw) {
        result = listening_seal(l->cfg.raw_key, p->text, p->text_len, &sealed, &sealed_len);
        if (result != SB_OK) return result;
    }
    const char *text = redacted->len ? redacted->data : "";
    int64_t redactions = (int64_t)(counts.cards + counts.phones + counts.national_ids + counts.ibans + counts.emails);
    if (sealed)
        result = store_exec(l->s,
                            "INSERT INTO listening_posts(source, external_id, author, author_reach, posted_at_ms, "
                            "text, raw_sealed, redactions, likes, shares, replies, ingested_at_ms, updated_at_ms) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            "tttiitbiiiiii", p->source, p->external_id, p->author, p->author_reach, p->posted_at_ms,
                            text, sealed, (int)sealed_len, redactions, p->likes, p->shares, p->replies, now_ms, now_ms);
    else
        result = store_exec(l->s,
                            "INSERT INTO listening_posts(source, external_id, author, author_reach, posted_at_ms, "
                            "text, raw_sealed, redactions, likes, shares, replies, ingested_at_ms, updated_at_ms) "
                            "VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?)",
                            "tttiitiiiiii", p->source, p->external_id, p->author, p->author_reach, p->posted_at_ms,
                            text, redactions, p->likes, p->shares, p->replies, now_ms, now_ms);
    sb_free(sealed);
    if (result != SB_OK) return result;
    id = store_last_insert_id(l->s);
    r->accepted++;
    if (!l->cfg.understander.understand) {
        r->not_understood++;
        return SB_OK;
    }
    listening_understanding u;
    memset(&u, 0, sizeof u);
    if (l->cfg.understander.understand(l->cfg.understander.arg, text, strlen(text), &u) != SB_OK ||
        listening_understanding_check(&u) != SB_OK) {
        r->not_understood++;
        return SB_OK;
    }
    return post_understood(l, id, &u, now_ms, r);
}

int listening_ingest(listening *l, const listening_post *posts, size_t count, int64_t now_ms,
                     listening_ingest_result *r) {
    if (!l || !r) return SB_EINVAL;
    listening_rejection *rejections = r->rejections;
    size_t cap = r->rejections_cap;
    memset(r, 0, sizeof *r);
    r->rejections = rejections;
    r->rejections_cap = cap;
    if (count > SB_LISTENING_BATCH_POSTS_MAX) return SB_ELIMIT;
    if (count == 0) return SB_OK;
    if (!posts) return SB_EINVAL;
    sb_buf redacted;
    sb_buf_init(&redacted, 3 * SB_LISTENING_TEXT_BYTES_MAX + 16);
    int result = store_begin(l->s);
    for (size_t k = 0; k < count && result == SB_OK; k++) {
        const char *reason;
        if (listening_post_check(&posts[k], now_ms, &reason) != SB_OK) {
            reject(r, k, reason);
            continue;
        }
        result = ingest_one(l, &posts[k], now_ms, &redacted, r, k);
    }
    sb_buf_free(&redacted);
    if (result == SB_OK) result = store_commit(l->s);
    if (result != SB_OK) {
        store_rollback(l->s);
        size_t rejected = r->rejected;
        memset(r, 0, sizeof *r);
        r->rejections = rejections;
        r->rejections_cap = cap;
        r->rejected = rejected;
    }
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
