/*
 * listening_api.c - the listening side of the HTTP server: per-source API
 * keys (shown once, stored as a BLAKE2b hash, bound to their sources), the
 * read queries the console needs as JSON (cases with filters and a cursor,
 * one case with its posts, departments, history and replies, one post with
 * its corrections, departments, statistics, consents, leads), alerts as
 * JSON, and thanking an advocate.  Every query is a prepared statement with
 * a row cap from limits.h; reads run in one read transaction so that a page
 * is consistent.
 */
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "listening/listening_int.h"

#define HOUR_MS (60LL * 60 * 1000)
#define DAY_MS (24 * HOUR_MS)

/* ---- small JSON helpers ---- */

/* Append to an array or object; a NULL value (out of memory) fails. */
static int arr_add(json_t *arr, json_t *v) { return v && json_array_append_new(arr, v) == 0 ? SB_OK : SB_ENOMEM; }
static int obj_set(json_t *o, const char *k, json_t *v) {
    return v && json_object_set_new(o, k, v) == 0 ? SB_OK : SB_ENOMEM;
}

/* A column as JSON: integer, text or null. */
static json_t *col_int_or_null(store_stmt *st, int col) {
    return store_col_is_null(st, col) ? json_null() : json_integer(store_col_int64(st, col));
}
static json_t *col_text_or_null(store_stmt *st, int col) {
    return store_col_is_null(st, col) ? json_null() : json_string(store_col_text(st, col));
}
static json_t *col_text(store_stmt *st, int col) {
    const char *t = store_col_text(st, col);
    return json_string(t ? t : "");
}

/* End a read: the statement result (< 0 an error) decides. */
static int read_end(listening *l, int result) {
    if (result == SB_OK) return store_commit(l->s);
    store_rollback(l->s);
    return result;
}

/* ---- API keys ---- */

static bool key_name_ok(const char *name) {
    if (!name || !*name) return false;
    size_t len = strnlen(name, SB_LISTENING_API_KEY_NAME_BYTES_MAX + 1);
    if (len > SB_LISTENING_API_KEY_NAME_BYTES_MAX || !sb_utf8_valid(name, len)) return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f) return false;
    return true;
}

int listening_api_key_create(listening *l, const char *name, const char *const *sources, size_t source_count,
                             const char *created_by, int64_t now_ms, char key_out[2 * SB_TOKEN_BYTES + 1],
                             int64_t *id_out) {
    key_out[0] = '\0';
    if (!key_name_ok(name) || !created_by || !*created_by || !sources || source_count == 0 ||
        source_count > LISTENING_API_KEY_SOURCES_MAX)
        return SB_EINVAL;
    for (size_t i = 0; i < source_count; i++) {
        if (!sources[i] || !listening_source_valid(sources[i])) return SB_EINVAL;
        for (size_t j = 0; j < i; j++)
            if (strcmp(sources[i], sources[j]) == 0) return SB_EINVAL;
    }
    char key[2 * SB_TOKEN_BYTES + 1];
    unsigned char hash[SB_TOKEN_HASH_BYTES];
    sb_random_hex(key, SB_TOKEN_BYTES);
    int result = sb_token_hash(key, true, hash);
    if (result != SB_OK) return SB_EINTERNAL;
    result = store_begin(l->s);
    if (result != SB_OK) return result;
    result = store_exec(l->s,
                        "INSERT INTO listening_api_keys(name, key_hash, created_by, created_at_ms) VALUES (?, ?, ?, ?)",
                        "tbti", name, hash, (int)sizeof hash, created_by, now_ms);
    int64_t id = store_last_insert_id(l->s);
    for (size_t i = 0; i < source_count && result == SB_OK; i++)
        result = store_exec(l->s, "INSERT INTO listening_api_key_sources(key_id, source) VALUES (?, ?)", "it", id,
                            sources[i]);
    if (result == SB_OK) result = store_commit(l->s);
    if (result != SB_OK) {
        store_rollback(l->s);
        sodium_memzero(key, sizeof key);
        return result;
    }
    memcpy(key_out, key, sizeof key);
    sodium_memzero(key, sizeof key);
    if (id_out) *id_out = id;
    return SB_OK;
}

int listening_api_key_check(listening *l, const char *key_text, int64_t now_ms, listening_api_key *out) {
    memset(out, 0, sizeof *out);
    unsigned char hash[SB_TOKEN_HASH_BYTES];
    if (sb_token_hash(key_text, false, hash) != SB_OK) return SB_EAUTH;
    store_stmt *st;
    int result = store_query(l->s, &st,
                             "SELECT k.id, k.name, s.source FROM listening_api_keys k JOIN listening_api_key_sources s "
                             "ON s.key_id = k.id WHERE k.key_hash = ? AND k.revoked_at_ms IS NULL ORDER BY s.source",
                             "b", hash, (int)sizeof hash);
    if (result != SB_OK) return result;
    while ((result = store_step(st)) == STORE_ROW) {
        out->id = store_col_int64(st, 0);
        snprintf(out->name, sizeof out->name, "%s", store_col_text(st, 1));
        if (out->source_count < LISTENING_API_KEY_SOURCES_MAX)
            snprintf(out->sources[out->source_count++], sizeof out->sources[0], "%s", store_col_text(st, 2));
    }
    store_stmt_done(st);
    if (result < 0) return result;
    if (out->id == 0) return SB_EAUTH;
    /* the last use is a convenience for the admin: its failure is not the caller's */
    if (store_exec(l->s, "UPDATE listening_api_keys SET last_used_at_ms = ? WHERE id = ?", "ii", now_ms, out->id) !=
        SB_OK)
        sb_log(SB_LOG_WARN, "listening.api_key", "could not note the use of key %lld", (long long)out->id);
    return SB_OK;
}

bool listening_api_key_allows(const listening_api_key *key, const char *source) {
    if (!source) return false;
    for (size_t i = 0; i < key->source_count; i++)
        if (strcmp(key->sources[i], source) == 0) return true;
    return false;
}

int listening_api_key_revoke(listening *l, int64_t key_id, int64_t now_ms) {
    int result =
        store_exec(l->s, "UPDATE listening_api_keys SET revoked_at_ms = ? WHERE id = ? AND revoked_at_ms IS NULL", "ii",
                   now_ms, key_id);
    if (result == SB_OK && store_changes(l->s) == 0) return SB_ENOTFOUND;
    return result;
}

int listening_api_keys_json(listening *l, json_t **out) {
    *out = NULL;
    json_t *list = json_array();
    if (!list) return SB_ENOMEM;
    int result = store_begin_read(l->s);
    if (result != SB_OK) {
        json_decref(list);
        return result;
    }
    store_stmt *st;
    result = store_query(l->s, &st,
                         "SELECT id, name, created_by, created_at_ms, last_used_at_ms, revoked_at_ms, (SELECT "
                         "group_concat(source, ',') FROM (SELECT source FROM listening_api_key_sources WHERE key_id = "
                         "k.id ORDER BY source)) FROM listening_api_keys k ORDER BY id DESC LIMIT ?",
                         "i", (int64_t)SB_LISTENING_PAGE_MAX);
    if (result == SB_OK) {
        while ((result = store_step(st)) == STORE_ROW) {
            json_t *sources = json_array();
            const char *csv = store_col_text(st, 6);
            for (const char *p = csv ? csv : ""; sources && *p;) {
                const char *comma = strchr(p, ',');
                size_t n = comma ? (size_t)(comma - p) : strlen(p);
                json_array_append_new(sources, json_stringn(p, n));
                p += n + (comma ? 1 : 0);
            }
            json_t *o = json_pack("{s:I, s:s, s:o, s:s, s:I, s:o, s:o}", "id", (json_int_t)store_col_int64(st, 0),
                                  "name", store_col_text(st, 1), "sources", sources, "created_by",
                                  store_col_text(st, 2), "created_at_ms", (json_int_t)store_col_int64(st, 3),
                                  "last_used_at_ms", col_int_or_null(st, 4), "revoked_at_ms", col_int_or_null(st, 5));
            if (arr_add(list, o) != SB_OK) {
                result = SB_ENOMEM;
                break;
            }
        }
        store_stmt_done(st);
        if (result == STORE_DONE) result = SB_OK;
    }
    result = read_end(l, result);
    if (result != SB_OK) {
        json_decref(list);
        return result;
    }
    *out = list;
    return SB_OK;
}

/* ---- cases ---- */

static bool state_valid(const char *s) {
    return strcmp(s, "open") == 0 || strcmp(s, "acknowledged") == 0 || strcmp(s, "waiting") == 0 ||
           strcmp(s, "resolved") == 0;
}
static bool priority_valid(const char *p) {
    return strcmp(p, "urgent") == 0 || strcmp(p, "high") == 0 || strcmp(p, "normal") == 0 || strcmp(p, "low") == 0;
}

/* The departments of a case as a JSON array of names. */
static int case_departments_names(listening *l, int64_t case_id, json_t **out) {
    *out = json_array();
    if (!*out) return SB_ENOMEM;
    store_stmt *st;
    int result = store_query(l->s, &st,
                             "SELECT department FROM listening_case_departments WHERE case_id = ? ORDER BY department",
                             "i", case_id);
    if (result != SB_OK) return result;
    while ((result = store_step(st)) == STORE_ROW)
        if (arr_add(*out, col_text(st, 0)) != SB_OK) {
            result = SB_ENOMEM;
            break;
        }
    store_stmt_done(st);
    return result < 0 ? result : SB_OK;
}

int listening_cases_json(listening *l, const listening_case_filter *f, json_t **out) {
    *out = NULL;
    if ((f->state && !state_valid(f->state)) || (f->priority && !priority_valid(f->priority)) ||
        (f->department && strnlen(f->department, 65) > 64) ||
        (f->assignee && strnlen(f->assignee, SB_USERNAME_BYTES_MAX + 1) > SB_USERNAME_BYTES_MAX) || f->limit == 0 ||
        f->limit > SB_LISTENING_PAGE_MAX || f->before_id < 0)
        return SB_EINVAL;
    json_t *list = json_array();
    if (!list) return SB_ENOMEM;
    int result = store_begin_read(l->s);
    if (result != SB_OK) {
        json_decref(list);
        return result;
    }
    store_stmt *st;
    /* One statement: a NULL parameter disables its condition. */
    result = store_query(
        l->s, &st,
        "SELECT c.id, c.source, c.author, c.topic, c.priority, c.state, c.assignee, c.opened_at_ms, c.last_post_at_ms, "
        "c.resolved_at_ms, c.reopen_count, (SELECT COUNT(*) FROM listening_case_posts cp WHERE cp.case_id = c.id), "
        "(SELECT MIN(deadline_ms) FROM listening_case_departments d WHERE d.case_id = c.id), (SELECT p.text FROM "
        "listening_case_posts cp JOIN listening_posts p ON p.id = cp.post_id WHERE cp.case_id = c.id ORDER BY "
        "p.posted_at_ms DESC, p.id DESC LIMIT 1), (SELECT u.lang FROM listening_case_posts cp JOIN "
        "listening_understanding u ON u.post_id = cp.post_id WHERE cp.case_id = c.id ORDER BY cp.post_id DESC LIMIT 1) "
        "FROM listening_cases c "
        "WHERE (?1 IS NULL OR c.state = ?1) AND (?2 IS NULL OR c.priority = ?2) AND (?3 IS NULL OR (CASE WHEN ?3 = '' "
        "THEN c.assignee IS NULL ELSE c.assignee = ?3 END)) AND (?4 IS NULL OR EXISTS (SELECT 1 FROM "
        "listening_case_departments d WHERE d.case_id = c.id AND d.department = ?4)) AND (?5 = 0 OR c.id < ?5) "
        "ORDER BY c.id DESC LIMIT ?6",
        "ttttii", f->state, f->priority, f->assignee, f->department, f->before_id, (int64_t)f->limit);
    int64_t last_id = 0;
    size_t rows = 0;
    if (result == SB_OK) {
        while ((result = store_step(st)) == STORE_ROW) {
            int64_t id = store_col_int64(st, 0);
            json_t *o = json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:o, s:I, s:I, s:o}", "id",
                                  (json_int_t)id, "source", col_text(st, 1), "author", col_text(st, 2), "topic",
                                  col_text(st, 3), "priority", col_text(st, 4), "state", col_text(st, 5), "assignee",
                                  col_text_or_null(st, 6), "opened_at_ms", (json_int_t)store_col_int64(st, 7),
                                  "last_post_at_ms", (json_int_t)store_col_int64(st, 8), "resolved_at_ms",
                                  col_int_or_null(st, 9), "reopen_count", (json_int_t)store_col_int64(st, 10), "posts",
                                  (json_int_t)store_col_int64(st, 11), "next_deadline_ms", col_int_or_null(st, 12));
            if (o && (obj_set(o, "text", col_text(st, 13)) != SB_OK || obj_set(o, "lang", col_text(st, 14)) != SB_OK)) {
                json_decref(o);
                o = NULL;
            }
            if (arr_add(list, o) != SB_OK) {
                result = SB_ENOMEM;
                break;
            }
            last_id = id;
            rows++;
        }
        store_stmt_done(st);
        if (result == STORE_DONE) result = SB_OK;
    }
    /* departments of each listed case (a second pass: no nested statements) */
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c) {
        if (result != SB_OK) break;
        json_t *deps;
        result = case_departments_names(l, json_integer_value(json_object_get(c, "id")), &deps);
        if (result == SB_OK)
            result = obj_set(c, "departments", deps);
        else
            json_decref(deps);
    }
    result = read_end(l, result);
    if (result != SB_OK) {
        json_decref(list);
        return result;
    }
    *out =
        json_pack("{s:o, s:o}", "cases", list, "next_cursor", rows == f->limit ? json_integer(last_id) : json_null());
    return *out ? SB_OK : SB_ENOMEM;
}

/* Signals of a post as {"risks":[{name,permille,trigger}],"life_events":...,"competitors":...}. */
static int post_signals(listening *l, int64_t post_id, json_t *post) {
    json_t *risks = json_array(), *events = json_array(), *competitors = json_array();
    int result = obj_set(post, "risks", risks);
    if (result == SB_OK) result = obj_set(post, "life_events", events);
    if (result == SB_OK) result = obj_set(post, "competitors", competitors);
    if (result != SB_OK) return result;
    store_stmt *st;
    result = store_query(l->s, &st,
                         "SELECT kind, name, permille, trigger_words FROM listening_signals WHERE post_id = ? ORDER BY "
                         "kind, name",
                         "i", post_id);
    if (result != SB_OK) return result;
    while ((result = store_step(st)) == STORE_ROW) {
        const char *kind = store_col_text(st, 0);
        json_t *target = strcmp(kind, "risk") == 0 ? risks : strcmp(kind, "life_event") == 0 ? events : competitors;
        json_t *o = json_pack("{s:o, s:I, s:o}", "name", col_text(st, 1), "permille",
                              (json_int_t)store_col_int64(st, 2), "trigger", col_text(st, 3));
        if (arr_add(target, o) != SB_OK) {
            result = SB_ENOMEM;
            break;
        }
    }
    store_stmt_done(st);
    return result < 0 ? result : SB_OK;
}

/* The post columns every post view shows, and its JSON. */
#define POST_COLUMNS                                                                                                   \
    "p.id, p.source, p.external_id, p.author, p.author_reach, p.posted_at_ms, p.text, p.likes, p.shares, p.replies, "  \
    "p.redactions, e.lang, e.sentiment, e.sentiment_permille, e.kind, e.kind_permille, e.topic, e.topic_permille"
#define POST_FROM " FROM listening_posts p LEFT JOIN listening_effective e ON e.post_id = p.id"

static json_t *post_row_json(store_stmt *st) {
    json_t *labels = store_col_is_null(st, 12)
                         ? json_null()
                         : json_pack("{s:o, s:o, s:I, s:o, s:I, s:o, s:I}", "lang", col_text(st, 11), "sentiment",
                                     col_text(st, 12), "sentiment_permille", (json_int_t)store_col_int64(st, 13),
                                     "kind", col_text(st, 14), "kind_permille", (json_int_t)store_col_int64(st, 15),
                                     "topic", col_text(st, 16), "topic_permille", (json_int_t)store_col_int64(st, 17));
    return json_pack(
        "{s:I, s:o, s:o, s:o, s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:o}", "id", (json_int_t)store_col_int64(st, 0),
        "source", col_text(st, 1), "external_id", col_text(st, 2), "author", col_text(st, 3), "author_reach",
        (json_int_t)store_col_int64(st, 4), "posted_at_ms", (json_int_t)store_col_int64(st, 5), "text", col_text(st, 6),
        "likes", (json_int_t)store_col_int64(st, 7), "shares", (json_int_t)store_col_int64(st, 8), "replies",
        (json_int_t)store_col_int64(st, 9), "redactions", (json_int_t)store_col_int64(st, 10), "labels", labels);
}

/* Rows of a query (one int64 parameter) as a JSON array, each by `row`. */
static int rows_json(listening *l, const char *sql, int64_t param, json_t *(*row)(store_stmt *st), json_t **out) {
    *out = json_array();
    if (!*out) return SB_ENOMEM;
    store_stmt *st;
    int result = store_query(l->s, &st, sql, "ii", param, (int64_t)SB_LISTENING_CASE_ITEMS_MAX);
    if (result != SB_OK) return result;
    while ((result = store_step(st)) == STORE_ROW)
        if (arr_add(*out, row(st)) != SB_OK) {
            result = SB_ENOMEM;
            break;
        }
    store_stmt_done(st);
    return result < 0 ? result : SB_OK;
}

static json_t *department_row(store_stmt *st) {
    return json_pack("{s:o, s:I, s:I, s:o, s:o, s:I, s:o}", "department", col_text(st, 0), "budget_ms",
                     (json_int_t)store_col_int64(st, 1), "business_ms_used", (json_int_t)store_col_int64(st, 2),
                     "clock_started_ms", col_int_or_null(st, 3), "deadline_ms", col_int_or_null(st, 4),
                     "escalation_level", (json_int_t)store_col_int64(st, 5), "escalated_deadline_ms",
                     col_int_or_null(st, 6));
}
static json_t *event_row(store_stmt *st) {
    return json_pack("{s:I, s:I, s:o, s:o, s:o}", "id", (json_int_t)store_col_int64(st, 0), "at_ms",
                     (json_int_t)store_col_int64(st, 1), "actor", col_text(st, 2), "type", col_text(st, 3), "detail",
                     col_text(st, 4));
}
static json_t *reply_row(store_stmt *st) {
    return json_pack("{s:I, s:o, s:o, s:o, s:o, s:I, s:o, s:I, s:o, s:o}", "id", (json_int_t)store_col_int64(st, 0),
                     "agent", col_text(st, 1), "text", col_text(st, 2), "channel", col_text(st, 3), "delivery",
                     col_text(st, 4), "created_at_ms", (json_int_t)store_col_int64(st, 5), "in_reply_to",
                     col_text(st, 6), "attempts", (json_int_t)store_col_int64(st, 7), "next_attempt_ms",
                     col_int_or_null(st, 8), "last_error", col_text(st, 9));
}

int listening_case_json(listening *l, int64_t case_id, json_t **out) {
    *out = NULL;
    int result = store_begin_read(l->s);
    if (result != SB_OK) return result;
    json_t *c = NULL;
    store_stmt *st;
    result = store_query(l->s, &st,
                         "SELECT id, source, author, topic, priority, state, assignee, last_agent_activity_ms, "
                         "opened_at_ms, last_post_at_ms, resolved_at_ms, reopen_count, updated_at_ms FROM "
                         "listening_cases WHERE id = ?",
                         "i", case_id);
    if (result == SB_OK) {
        result = store_step(st);
        if (result == STORE_ROW) {
            c = json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:o, s:I, s:I}", "id",
                          (json_int_t)store_col_int64(st, 0), "source", col_text(st, 1), "author", col_text(st, 2),
                          "topic", col_text(st, 3), "priority", col_text(st, 4), "state", col_text(st, 5), "assignee",
                          col_text_or_null(st, 6), "last_agent_activity_ms", col_int_or_null(st, 7), "opened_at_ms",
                          (json_int_t)store_col_int64(st, 8), "last_post_at_ms", (json_int_t)store_col_int64(st, 9),
                          "resolved_at_ms", col_int_or_null(st, 10), "reopen_count",
                          (json_int_t)store_col_int64(st, 11), "updated_at_ms", (json_int_t)store_col_int64(st, 12));
            result = c ? SB_OK : SB_ENOMEM;
        } else if (result == STORE_DONE) {
            result = SB_ENOTFOUND;
        }
        store_stmt_done(st);
    }
    json_t *part = NULL;
    if (result == SB_OK)
        result = rows_json(l,
                           "SELECT " POST_COLUMNS POST_FROM
                           " JOIN listening_case_posts cp ON cp.post_id = p.id WHERE cp.case_id = ? ORDER BY "
                           "p.posted_at_ms, p.id LIMIT ?",
                           case_id, post_row_json, &part);
    if (result == SB_OK) {
        size_t i;
        json_t *p;
        json_array_foreach(part, i, p) {
            result = post_signals(l, json_integer_value(json_object_get(p, "id")), p);
            if (result != SB_OK) break;
        }
    }
    if (part) {
        if (result == SB_OK)
            result = obj_set(c, "posts", part);
        else
            json_decref(part);
        part = NULL;
    }
    if (result == SB_OK)
        result = rows_json(l,
                           "SELECT department, budget_ms, business_ms_used, clock_started_ms, deadline_ms, "
                           "escalation_level, escalated_deadline_ms FROM listening_case_departments WHERE case_id = ? "
                           "ORDER BY department LIMIT ?",
                           case_id, department_row, &part);
    if (part) {
        if (result == SB_OK)
            result = obj_set(c, "departments", part);
        else
            json_decref(part);
        part = NULL;
    }
    if (result == SB_OK)
        result = rows_json(l,
                           "SELECT id, at_ms, actor, type, detail FROM listening_case_events WHERE case_id = ? ORDER "
                           "BY id LIMIT ?",
                           case_id, event_row, &part);
    if (part) {
        if (result == SB_OK)
            result = obj_set(c, "history", part);
        else
            json_decref(part);
        part = NULL;
    }
    if (result == SB_OK)
        result = rows_json(l,
                           "SELECT id, agent, text, channel, delivery, created_at_ms, in_reply_to, attempts, "
                           "next_attempt_ms, last_error FROM listening_replies WHERE "
                           "case_id = ? ORDER BY id LIMIT ?",
                           case_id, reply_row, &part);
    if (part) {
        if (result == SB_OK)
            result = obj_set(c, "replies", part);
        else
            json_decref(part);
    }
    result = read_end(l, result);
    if (result != SB_OK) {
        json_decref(c);
        return result;
    }
    *out = c;
    return SB_OK;
}

static json_t *correction_row(store_stmt *st) {
    return json_pack("{s:I, s:o, s:o, s:o, s:I}", "id", (json_int_t)store_col_int64(st, 0), "head", col_text(st, 1),
                     "label", col_text(st, 2), "corrected_by", col_text(st, 3), "corrected_at_ms",
                     (json_int_t)store_col_int64(st, 4));
}

int listening_post_json(listening *l, int64_t post_id, json_t **out) {
    *out = NULL;
    int result = store_begin_read(l->s);
    if (result != SB_OK) return result;
    json_t *p = NULL;
    store_stmt *st;
    result = store_query(l->s, &st,
                         "SELECT " POST_COLUMNS
                         ", u.sentiment, u.kind, u.topic, u.model, (SELECT MIN(case_id) FROM listening_case_posts "
                         "WHERE post_id = p.id)" POST_FROM " LEFT JOIN listening_understanding u ON u.post_id = p.id "
                         "WHERE p.id = ?",
                         "i", post_id);
    if (result == SB_OK) {
        result = store_step(st);
        if (result == STORE_ROW) {
            p = post_row_json(st);
            json_t *model = store_col_is_null(st, 18)
                                ? json_null()
                                : json_pack("{s:o, s:o, s:o, s:o}", "sentiment", col_text(st, 18), "kind",
                                            col_text(st, 19), "topic", col_text(st, 20), "model", col_text(st, 21));
            result = p ? obj_set(p, "model_labels", model) : SB_ENOMEM;
            if (result == SB_OK) result = obj_set(p, "case_id", col_int_or_null(st, 22));
        } else if (result == STORE_DONE) {
            result = SB_ENOTFOUND;
        }
        store_stmt_done(st);
    }
    if (result == SB_OK) result = post_signals(l, post_id, p);
    json_t *corrections = NULL;
    if (result == SB_OK)
        result = rows_json(l,
                           "SELECT id, head, label, corrected_by, corrected_at_ms FROM listening_corrections WHERE "
                           "post_id = ? ORDER BY id LIMIT ?",
                           post_id, correction_row, &corrections);
    if (corrections) {
        if (result == SB_OK)
            result = obj_set(p, "corrections", corrections);
        else
            json_decref(corrections);
    }
    result = read_end(l, result);
    if (result != SB_OK) {
        json_decref(p);
        return result;
    }
    *out = p;
    return SB_OK;
}

/* ---- departments ---- */

int listening_departments_json(listening *l, json_t **out) {
    *out = NULL;
    json_t *list = json_array();
    if (!list) return SB_ENOMEM;
    int result = store_begin_read(l->s);
    if (result != SB_OK) {
        json_decref(list);
        return result;
    }
    store_stmt *st;
    result = store_query(l->s, &st,
                         "SELECT name, utc_offset_minutes, reassign_after_minutes FROM listening_departments ORDER BY "
                         "name LIMIT ?",
                         "i", (int64_t)SB_LISTENING_PAGE_MAX);
    if (result == SB_OK) {
        while ((result = store_step(st)) == STORE_ROW) {
            json_t *o = json_pack("{s:o, s:I, s:I}", "name", col_text(st, 0), "utc_offset_minutes",
                                  (json_int_t)store_col_int64(st, 1), "reassign_after_minutes",
                                  (json_int_t)store_col_int64(st, 2));
            if (arr_add(list, o) != SB_OK) {
                result = SB_ENOMEM;
                break;
            }
        }
        store_stmt_done(st);
        if (result == STORE_DONE) result = SB_OK;
    }
    size_t i;
    json_t *d;
    json_array_foreach(list, i, d) {
        if (result != SB_OK) break;
        const char *name = json_string_value(json_object_get(d, "name"));
        json_t *hours = json_array(), *agents = json_array();
        result = obj_set(d, "hours", hours);
        if (result == SB_OK) result = obj_set(d, "agents", agents);
        if (result == SB_OK)
            result = store_query(l->s, &st,
                                 "SELECT weekday, start_minute, end_minute FROM listening_department_hours WHERE "
                                 "department = ? ORDER BY weekday, start_minute",
                                 "t", name);
        if (result != SB_OK) break;
        while ((result = store_step(st)) == STORE_ROW)
            if (arr_add(hours, json_pack("{s:I, s:I, s:I}", "weekday", (json_int_t)store_col_int64(st, 0),
                                         "start_minute", (json_int_t)store_col_int64(st, 1), "end_minute",
                                         (json_int_t)store_col_int64(st, 2))) != SB_OK) {
                result = SB_ENOMEM;
                break;
            }
        store_stmt_done(st);
        if (result < 0) break;
        result = store_query(
            l->s, &st, "SELECT agent, active FROM listening_agents WHERE department = ? ORDER BY agent", "t", name);
        if (result != SB_OK) break;
        while ((result = store_step(st)) == STORE_ROW)
            if (store_col_int64(st, 1) && arr_add(agents, col_text(st, 0)) != SB_OK) {
                result = SB_ENOMEM;
                break;
            }
        store_stmt_done(st);
        if (result < 0) break;
        result = SB_OK;
    }
    result = read_end(l, result);
    if (result != SB_OK) {
        json_decref(list);
        return result;
    }
    *out = list;
    return SB_OK;
}

int listening_agent_remove(listening *l, const char *department, const char *agent) {
    if (!department || !agent) return SB_EINVAL;
    int result =
        store_exec(l->s, "DELETE FROM listening_agents WHERE department = ? AND agent = ?", "tt", department, agent);
    if (result == SB_OK && store_changes(l->s) == 0) return SB_ENOTFOUND;
    return result;
}

/* ---- statistics ---- */

int listening_stats_json(listening *l, const char *granularity, const char *dimension, const char *value,
                         int64_t from_ms, int64_t to_ms, json_t **out) {
    *out = NULL;
    static const char *const dims[] = {"all", "source", "topic", "lang", "competitor", "risk"};
    bool dim_ok = false;
    for (size_t i = 0; dimension && i < SB_ARRAY_LEN(dims); i++)
        dim_ok = dim_ok || strcmp(dimension, dims[i]) == 0;
    if (!granularity || (strcmp(granularity, "hour") != 0 && strcmp(granularity, "day") != 0) || !dim_ok ||
        to_ms <= from_ms)
        return SB_EINVAL;
    if (to_ms - from_ms > SB_LISTENING_STATS_RANGE_MS_MAX) return SB_ELIMIT;
    json_t *list = json_array();
    if (!list) return SB_ENOMEM;
    store_stmt *st;
    int result =
        store_query(l->s, &st,
                    "SELECT bucket_ms, value, posts, positive, negative, neutral FROM listening_stats WHERE "
                    "granularity = ? AND dimension = ? AND (?3 IS NULL OR value = ?3) AND bucket_ms >= ? AND "
                    "bucket_ms < ? ORDER BY bucket_ms, value LIMIT ?",
                    "tttiii", granularity, dimension, value, from_ms, to_ms, (int64_t)SB_LISTENING_STATS_ROWS_MAX);
    if (result == SB_OK) {
        while ((result = store_step(st)) == STORE_ROW) {
            int64_t posts = store_col_int64(st, 2), pos = store_col_int64(st, 3), neg = store_col_int64(st, 4);
            double net = posts > 0 ? (double)(pos - neg) / (double)posts : 0.0;
            json_t *o =
                json_pack("{s:I, s:o, s:I, s:I, s:I, s:I, s:f}", "bucket_ms", (json_int_t)store_col_int64(st, 0),
                          "value", col_text(st, 1), "posts", (json_int_t)posts, "positive", (json_int_t)pos, "negative",
                          (json_int_t)neg, "neutral", (json_int_t)store_col_int64(st, 5), "net_sentiment", net);
            if (arr_add(list, o) != SB_OK) {
                result = SB_ENOMEM;
                break;
            }
        }
        store_stmt_done(st);
        if (result == STORE_DONE) result = SB_OK;
    }
    if (result != SB_OK) {
        json_decref(list);
        return result;
    }
    *out = list;
    return SB_OK;
}

/* ---- alerts ---- */

json_t *listening_alert_to_json(const listening_alert *a) {
    return json_pack("{s:I, s:s, s:I, s:I, s:I, s:f, s:I, s:f, s:f, s:I, s:I}", "id", (json_int_t)a->id, "metric",
                     a->metric, "raised_at_ms", (json_int_t)a->raised_at_ms, "window_start_ms",
                     (json_int_t)a->window_start_ms, "observed", (json_int_t)a->observed, "baseline_per_hour",
                     a->baseline_per_hour, "baseline_hours", (json_int_t)a->baseline_hours, "p_value", a->p_value,
                     "p_threshold", a->p_threshold, "min_count", (json_int_t)a->min_count, "threshold_count",
                     (json_int_t)a->threshold_count);
}

/* ---- consents and leads ---- */

int listening_consents_json(listening *l, json_t **out) {
    *out = NULL;
    json_t *list = json_array();
    if (!list) return SB_ENOMEM;
    store_stmt *st;
    int result = store_query(l->s, &st,
                             "SELECT id, customer_id, source, handle, consented_at_ms, withdrawn_at_ms FROM "
                             "listening_consents ORDER BY id DESC LIMIT ?",
                             "i", (int64_t)SB_LISTENING_PAGE_MAX);
    if (result == SB_OK) {
        while ((result = store_step(st)) == STORE_ROW) {
            json_t *o = json_pack("{s:I, s:I, s:o, s:o, s:I, s:o}", "id", (json_int_t)store_col_int64(st, 0),
                                  "customer_id", (json_int_t)store_col_int64(st, 1), "source", col_text(st, 2),
                                  "handle", col_text(st, 3), "consented_at_ms", (json_int_t)store_col_int64(st, 4),
                                  "withdrawn_at_ms", col_int_or_null(st, 5));
            if (arr_add(list, o) != SB_OK) {
                result = SB_ENOMEM;
                break;
            }
        }
        store_stmt_done(st);
        if (result == STORE_DONE) result = SB_OK;
    }
    if (result != SB_OK) {
        json_decref(list);
        return result;
    }
    *out = list;
    return SB_OK;
}

int listening_leads_json(listening *l, int64_t before_id, size_t limit, json_t **out) {
    *out = NULL;
    if (limit == 0 || limit > SB_LISTENING_PAGE_MAX || before_id < 0) return SB_EINVAL;
    json_t *list = json_array();
    if (!list) return SB_ENOMEM;
    store_stmt *st;
    int result = store_query(l->s, &st,
                             "SELECT d.id, d.customer_id, d.life_event, d.offer, d.created_at_ms, p.id, p.source, "
                             "p.author, p.text, p.posted_at_ms FROM listening_leads d JOIN listening_posts p ON p.id = "
                             "d.post_id WHERE (?1 = 0 OR d.id < ?1) ORDER BY d.id DESC LIMIT ?2",
                             "ii", before_id, (int64_t)limit);
    int64_t last_id = 0;
    size_t rows = 0;
    if (result == SB_OK) {
        while ((result = store_step(st)) == STORE_ROW) {
            last_id = store_col_int64(st, 0);
            json_t *o =
                json_pack("{s:I, s:I, s:o, s:o, s:I, s:I, s:o, s:o, s:o, s:I}", "id", (json_int_t)last_id,
                          "customer_id", (json_int_t)store_col_int64(st, 1), "life_event", col_text(st, 2), "offer",
                          col_text(st, 3), "created_at_ms", (json_int_t)store_col_int64(st, 4), "post_id",
                          (json_int_t)store_col_int64(st, 5), "source", col_text(st, 6), "author", col_text(st, 7),
                          "text", col_text(st, 8), "posted_at_ms", (json_int_t)store_col_int64(st, 9));
            if (arr_add(list, o) != SB_OK) {
                result = SB_ENOMEM;
                break;
            }
            rows++;
        }
        store_stmt_done(st);
        if (result == STORE_DONE) result = SB_OK;
    }
    if (result != SB_OK) {
        json_decref(list);
        return result;
    }
    *out = json_pack("{s:o, s:o}", "leads", list, "next_cursor", rows == limit ? json_integer(last_id) : json_null());
    return *out ? SB_OK : SB_ENOMEM;
}

/* ---- thanks ---- */

int listening_advocate_thank(listening *l, const char *source, const char *author, const char *text, const char *by,
                             int64_t now_ms, json_t **out) {
    *out = NULL;
    if (!source || !author || !by || !*by || !text || !*text) return SB_EINVAL;
    size_t len = strnlen(text, SB_LISTENING_NOTE_BYTES_MAX + 1);
    if (len > SB_LISTENING_NOTE_BYTES_MAX || !sb_utf8_valid(text, len)) return SB_EINVAL;
    int64_t post_id;
    int result = store_query_int64(
        l->s, &post_id, "SELECT id FROM listening_posts WHERE source = ? AND author = ? LIMIT 1", "tt", source, author);
    if (result != SB_OK) return result;
    bool message = strcmp(source, "messenger") == 0 || strcmp(source, "own_channel") == 0;
    const char *delivery = message ? "pending" : "to_post";
    if (message && l->cfg.reply_hook.deliver &&
        l->cfg.reply_hook.deliver(l->cfg.reply_hook.arg, 0, author, text) == SB_OK)
        delivery = "delivered";
    result = store_exec(l->s,
                        "INSERT INTO listening_thanks(source, author, text, channel, delivery, thanked_by, "
                        "created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        "tttttti", source, author, text, message ? "messenger" : "external", delivery, by, now_ms);
    if (result != SB_OK) return result;
    *out =
        json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}", "id", (json_int_t)store_last_insert_id(l->s), "source", source,
                  "author", author, "channel", message ? "messenger" : "external", "delivery", delivery, "text", text);
    return *out ? SB_OK : SB_ENOMEM;
}
