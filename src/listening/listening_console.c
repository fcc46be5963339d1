/*
 * listening_console.c - what the staff console needs beyond the case
 * workflow: the post stream with full-text search (FTS5 over normalised
 * text) and filters, its CSV export and saved views; the audit log of staff
 * views of customers' data and the grants that let staff see payments; the
 * customer panel's listening side (who the author is, consent, earlier cases
 * and posts); canned replies with variables; replies' delivery states; the
 * dashboard's figures.  Queries only: the HTTP routes
 * (src/api/routes_listening.c) decide roles and add identity and payments.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "listening/listening_int.h"
#include "text/text.h"

#define HOUR_MS (60LL * 60 * 1000)

static int add(json_t *arr, json_t *v) { return v && json_array_append_new(arr, v) == 0 ? SB_OK : SB_ENOMEM; }
static int set(json_t *o, const char *k, json_t *v) {
    return v && json_object_set_new(o, k, v) == 0 ? SB_OK : SB_ENOMEM;
}
static json_t *text_of(store_stmt *st, int col) {
    const char *t = store_col_text(st, col);
    return store_col_is_null(st, col) ? json_null() : json_string(t ? t : "");
}
static json_t *int_of(store_stmt *st, int col) {
    return store_col_is_null(st, col) ? json_null() : json_integer(store_col_int64(st, col));
}
static int finish_read(listening *l, int result) {
    if (result == SB_OK) return store_commit(l->s);
    store_rollback(l->s);
    return result;
}
static bool short_text_ok(const char *t, size_t max) {
    if (!t || !*t) return false;
    size_t n = strnlen(t, max + 1);
    return n <= max && sb_utf8_valid(t, n);
}

/* ---- full-text search ---- */

int listening_search_index(listening *l, int64_t post_id, const char *text, size_t len) {
    sb_buf norm;
    sb_buf_init(&norm, SB_TEXT_NORMALIZED_BYTES_MAX);
    int result = text_normalize(text, len, &norm);
    if (result != SB_OK) return result;
    result = store_exec(l->s, "INSERT OR REPLACE INTO listening_posts_fts(rowid, body) VALUES (?, ?)", "it", post_id,
                        norm.len ? norm.data : "");
    sb_buf_free(&norm);
    return result;
}

/* The FTS5 query for what a person typed: normalised like the index, every
 * token a quoted phrase (so nothing typed is FTS5 syntax), the last one a
 * prefix.  *fts is "" when nothing searchable was typed. */
static int search_query(const char *q, sb_buf *fts) {
    size_t len = strlen(q);
    if (len > SB_LISTENING_SEARCH_BYTES_MAX) return SB_ELIMIT;
    sb_buf norm;
    sb_buf_init(&norm, SB_TEXT_NORMALIZED_BYTES_MAX);
    int result = text_normalize(q, len, &norm);
    if (result != SB_OK) return result;
    text_token_iter it;
    text_token_iter_init(&it, norm.data ? norm.data : "", norm.len);
    const char *tok;
    size_t tok_len, tokens = 0;
    while (result == SB_OK && text_token_next(&it, &tok, &tok_len)) {
        if (++tokens > SB_LISTENING_SEARCH_TOKENS_MAX) {
            result = SB_ELIMIT;
            break;
        }
        if (fts->len) result = sb_buf_append(fts, " ", 1);
        if (result == SB_OK) result = sb_buf_append(fts, "\"", 1);
        for (size_t k = 0; result == SB_OK && k < tok_len; k++)
            result = tok[k] == '"' ? sb_buf_append(fts, "\"\"", 2) : sb_buf_append(fts, &tok[k], 1);
        if (result == SB_OK) result = sb_buf_append(fts, "\"", 1);
    }
    if (result == SB_OK && fts->len) result = sb_buf_append(fts, "*", 1);
    if (result == SB_OK) result = sb_buf_append(fts, "", 0);
    sb_buf_free(&norm);
    return result;
}

#define STREAM_COLUMNS                                                                                                 \
    "SELECT p.id, p.source, p.author, p.author_reach, p.posted_at_ms, p.text, e.lang, e.sentiment, e.kind, e.topic, "  \
    "(SELECT group_concat(s.name, ',') FROM listening_signals s WHERE s.post_id = p.id AND s.kind = 'risk'), "         \
    "(SELECT group_concat(s.name, ',') FROM listening_signals s WHERE s.post_id = p.id AND s.kind = 'competitor'), "   \
    "(SELECT cp.case_id FROM listening_case_posts cp WHERE cp.post_id = p.id LIMIT 1) "                                \
    "FROM listening_posts p LEFT JOIN listening_effective e ON e.post_id = p.id "
#define STREAM_CONDITIONS                                                                                              \
    "(?2 IS NULL OR e.lang = ?2) AND (?3 IS NULL OR e.sentiment = ?3) AND (?4 IS NULL OR e.kind = ?4) AND (?5 IS "     \
    "NULL OR e.topic = ?5) AND (?6 IS NULL OR p.source = ?6) AND (?7 IS NULL OR EXISTS (SELECT 1 FROM "                \
    "listening_signals s WHERE s.post_id = p.id AND s.kind = 'risk' AND s.name = ?7)) AND (?8 IS NULL OR EXISTS "      \
    "(SELECT 1 FROM listening_signals s WHERE s.post_id = p.id AND s.kind = 'competitor' AND s.name = ?8)) AND "       \
    "p.posted_at_ms >= ?9 AND p.posted_at_ms < ?10 AND (?11 = 0 OR p.id < ?11) ORDER BY p.id DESC LIMIT ?12"

typedef int (*stream_row_fn)(store_stmt *st, void *arg);

static int stream_rows(listening *l, const listening_stream_filter *f, size_t limit_max, stream_row_fn row, void *arg,
                       size_t *rows_out, int64_t *last_id_out) {
    *rows_out = 0;
    if (f->limit == 0 || f->limit > limit_max || f->before_id < 0 || (f->to_ms && f->to_ms <= f->from_ms))
        return SB_EINVAL;
    sb_buf fts;
    sb_buf_init(&fts, 8 * SB_LISTENING_SEARCH_BYTES_MAX);
    int result = f->q ? search_query(f->q, &fts) : SB_OK;
    if (result != SB_OK) return result;
    const char *match = fts.len ? fts.data : NULL;
    int64_t to_ms = f->to_ms ? f->to_ms : INT64_MAX;
    store_stmt *st;
    /* Two statements: FTS5 is asked only when there is something to match. */
    if (match)
        result = store_query(l->s, &st,
                             STREAM_COLUMNS "WHERE p.id IN (SELECT rowid FROM listening_posts_fts WHERE "
                                            "listening_posts_fts MATCH ?1) AND " STREAM_CONDITIONS,
                             "ttttttttiiii", match, f->lang, f->sentiment, f->kind, f->topic, f->source, f->risk,
                             f->competitor, f->from_ms, to_ms, f->before_id, (int64_t)f->limit);
    else
        result = store_query(l->s, &st, STREAM_COLUMNS "WHERE ?1 IS NULL AND " STREAM_CONDITIONS, "ntttttttiiii",
                             f->lang, f->sentiment, f->kind, f->topic, f->source, f->risk, f->competitor, f->from_ms,
                             to_ms, f->before_id, (int64_t)f->limit);
    sb_buf_free(&fts);
    if (result != SB_OK) return result;
    while ((result = store_step(st)) == STORE_ROW) {
        *last_id_out = store_col_int64(st, 0);
        (*rows_out)++;
        result = row(st, arg);
        if (result != SB_OK) break;
    }
    store_stmt_done(st);
    return result == STORE_DONE ? SB_OK : result;
}

/* "a,b" -> ["a","b"]; NULL -> []. */
static json_t *names_of(store_stmt *st, int col) {
    json_t *arr = json_array();
    const char *t = store_col_text(st, col);
    while (arr && t && *t) {
        const char *comma = strchr(t, ',');
        size_t n = comma ? (size_t)(comma - t) : strlen(t);
        if (add(arr, json_stringn(t, n)) != SB_OK) {
            json_decref(arr);
            return NULL;
        }
        t += n + (comma ? 1 : 0);
    }
    return arr;
}

static int stream_json_row(store_stmt *st, void *arg) {
    json_t *o = json_pack("{s:I, s:o, s:o, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
                          (json_int_t)store_col_int64(st, 0), "source", text_of(st, 1), "author", text_of(st, 2),
                          "author_reach", (json_int_t)store_col_int64(st, 3), "posted_at_ms",
                          (json_int_t)store_col_int64(st, 4), "text", text_of(st, 5), "lang", text_of(st, 6),
                          "sentiment", text_of(st, 7), "kind", text_of(st, 8), "topic", text_of(st, 9), "risks",
                          names_of(st, 10), "competitors", names_of(st, 11), "case_id", int_of(st, 12));
    return add(arg, o);
}

int listening_stream_json(listening *l, const listening_stream_filter *f, json_t **out) {
    *out = NULL;
    json_t *list = json_array();
    if (!list) return SB_ENOMEM;
    size_t rows = 0;
    int64_t last_id = 0;
    int result = store_begin_read(l->s);
    if (result == SB_OK) {
        result = stream_rows(l, f, SB_LISTENING_PAGE_MAX, stream_json_row, list, &rows, &last_id);
        result = finish_read(l, result);
    }
    if (result == SB_OK)
        *out = json_pack("{s:o, s:o}", "posts", list, "next_cursor",
                         rows == f->limit ? json_integer(last_id) : json_null());
    else
        json_decref(list);
    return result != SB_OK ? result : *out ? SB_OK : SB_ENOMEM;
}

/* One CSV cell: quoted when needed; a leading = + - @ gets a ' (formula injection). */
static int csv_cell(sb_buf *out, const char *t, bool last) {
    if (!t) t = "";
    int result = SB_OK;
    bool formula = t[0] == '=' || t[0] == '+' || t[0] == '-' || t[0] == '@';
    bool quote = formula || strpbrk(t, ",\"\r\n") != NULL;
    if (quote) result = sb_buf_append(out, "\"", 1);
    if (result == SB_OK && formula) result = sb_buf_append(out, "'", 1);
    for (const char *p = t; result == SB_OK && *p; p++)
        result = *p == '"' ? sb_buf_append(out, "\"\"", 2) : sb_buf_append(out, p, 1);
    if (result == SB_OK && quote) result = sb_buf_append(out, "\"", 1);
    if (result == SB_OK) result = last ? sb_buf_append(out, "\r\n", 2) : sb_buf_append(out, ",", 1);
    return result;
}

static void rfc3339(int64_t ms, char out[64]) {
    int64_t days = ms >= 0 ? ms / 86400000 : (ms - 86399999) / 86400000;
    int64_t rem = ms - days * 86400000;
    /* civil_from_days (Howard Hinnant) */
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097, doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365, y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp + (mp < 10 ? 3 : -9);
    y += m <= 2;
    snprintf(out, 64, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ", (long long)y, (long long)m, (long long)d,
             (long long)(rem / 3600000), (long long)(rem / 60000 % 60), (long long)(rem / 1000 % 60));
}

static int stream_csv_row(store_stmt *st, void *arg) {
    sb_buf *out = arg;
    char id[24], time[64];
    snprintf(id, sizeof id, "%lld", (long long)store_col_int64(st, 0));
    rfc3339(store_col_int64(st, 4), time);
    const char *risks = store_col_text(st, 10), *competitors = store_col_text(st, 11);
    int result = csv_cell(out, id, false);
    if (result == SB_OK) result = csv_cell(out, time, false);
    for (int col = 1; result == SB_OK && col <= 2; col++)
        result = csv_cell(out, store_col_text(st, col), false);
    for (int col = 6; result == SB_OK && col <= 9; col++)
        result = csv_cell(out, store_col_text(st, col), false);
    if (result == SB_OK) result = csv_cell(out, risks, false);
    if (result == SB_OK) result = csv_cell(out, competitors, false);
    if (result == SB_OK) result = csv_cell(out, store_col_text(st, 5), true);
    return result;
}

int listening_stream_csv(listening *l, const listening_stream_filter *f, sb_buf *out, size_t *rows_out) {
    *rows_out = 0;
    int result =
        sb_buf_append_str(out, "id,posted_at,source,author,lang,sentiment,kind,topic,risks,competitors,text\r\n");
    if (result != SB_OK) return result;
    int64_t last_id = 0;
    result = store_begin_read(l->s);
    if (result != SB_OK) return result;
    result = stream_rows(l, f, SB_LISTENING_EXPORT_ROWS_MAX, stream_csv_row, out, rows_out, &last_id);
    return finish_read(l, result);
}

/* ---- saved views ---- */

int listening_view_save(listening *l, const char *owner, const char *name, const char *query, int64_t now_ms,
                        int64_t *id_out) {
    if (!short_text_ok(owner, SB_USERNAME_BYTES_MAX) || !short_text_ok(name, SB_LISTENING_VIEW_NAME_BYTES_MAX) ||
        !short_text_ok(query, SB_LISTENING_VIEW_QUERY_BYTES_MAX))
        return SB_EINVAL;
    int result = store_begin(l->s);
    if (result != SB_OK) return result;
    int64_t count = 0;
    result = store_query_int64(l->s, &count, "SELECT COUNT(*) FROM listening_saved_views WHERE owner = ?", "t", owner);
    if (result == SB_OK && count >= SB_LISTENING_VIEWS_PER_OWNER_MAX) result = SB_ELIMIT;
    if (result == SB_OK)
        result =
            store_exec(l->s, "INSERT INTO listening_saved_views(owner, name, query, created_at_ms) VALUES (?, ?, ?, ?)",
                       "ttti", owner, name, query, now_ms);
    if (result == SB_OK && id_out) *id_out = store_last_insert_id(l->s);
    if (result == SB_OK) return store_commit(l->s);
    store_rollback(l->s);
    return result;
}

int listening_views_json(listening *l, const char *owner, json_t **out) {
    *out = NULL;
    json_t *list = json_array();
    if (!list) return SB_ENOMEM;
    store_stmt *st;
    int result = store_query(
        l->s, &st, "SELECT id, name, query, created_at_ms FROM listening_saved_views WHERE owner = ? ORDER BY name",
        "t", owner);
    bool prepared1 = result == SB_OK;
    while (result == SB_OK && (result = store_step(st)) == STORE_ROW) {
        json_error_t err;
        json_t *query = json_loads(store_col_text(st, 2), 0, &err);
        result = add(list, json_pack("{s:I, s:o, s:o, s:I}", "id", (json_int_t)store_col_int64(st, 0), "name",
                                     text_of(st, 1), "query", query ? query : json_object(), "created_at_ms",
                                     (json_int_t)store_col_int64(st, 3)));
    }
    if (prepared1) store_stmt_done(st);
    result = result == STORE_DONE ? SB_OK : result;
    if (result == SB_OK)
        *out = json_pack("{s:o}", "views", list);
    else
        json_decref(list);
    return result != SB_OK ? result : *out ? SB_OK : SB_ENOMEM;
}

int listening_view_delete(listening *l, const char *owner, int64_t id) {
    int result = store_exec(l->s, "DELETE FROM listening_saved_views WHERE id = ? AND owner = ?", "it", id, owner);
    if (result == SB_OK && store_changes(l->s) == 0) result = SB_ENOTFOUND;
    return result;
}

/* ---- audit log and grants ---- */

int listening_audit_add(listening *l, const char *actor, const char *action, int64_t customer_id, const char *source,
                        const char *author, int64_t case_id, const char *detail, int64_t now_ms) {
    if (!short_text_ok(actor, SB_USERNAME_BYTES_MAX) || !action) return SB_EINVAL;
    return store_exec(l->s,
                      "INSERT INTO listening_audit(at_ms, actor, action, customer_id, source, author, case_id, detail) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                      "ittittit", now_ms, actor, action, customer_id > 0 ? customer_id : 0, source ? source : "",
                      author ? author : "", case_id, detail ? detail : "");
}

int listening_audit_json(listening *l, int64_t customer_id, int64_t before_id, size_t limit, json_t **out) {
    *out = NULL;
    if (limit == 0 || limit > SB_LISTENING_PAGE_MAX || before_id < 0) return SB_EINVAL;
    json_t *list = json_array();
    if (!list) return SB_ENOMEM;
    store_stmt *st;
    int result = store_query(l->s, &st,
                             "SELECT id, at_ms, actor, action, NULLIF(customer_id, 0), source, author, "
                             "NULLIF(case_id, 0), detail FROM listening_audit WHERE (?1 = 0 OR customer_id = ?1) AND "
                             "(?2 = 0 OR id < ?2) ORDER BY id DESC LIMIT ?3",
                             "iii", customer_id, before_id, (int64_t)limit);
    size_t rows = 0;
    int64_t last = 0;
    bool prepared2 = result == SB_OK;
    while (result == SB_OK && (result = store_step(st)) == STORE_ROW) {
        last = store_col_int64(st, 0);
        rows++;
        result = add(list, json_pack("{s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id", (json_int_t)last, "at_ms",
                                     (json_int_t)store_col_int64(st, 1), "actor", text_of(st, 2), "action",
                                     text_of(st, 3), "customer_id", int_of(st, 4), "source", text_of(st, 5), "author",
                                     text_of(st, 6), "case_id", int_of(st, 7), "detail", text_of(st, 8)));
    }
    if (prepared2) store_stmt_done(st);
    result = result == STORE_DONE ? SB_OK : result;
    if (result == SB_OK)
        *out =
            json_pack("{s:o, s:o}", "entries", list, "next_cursor", rows == limit ? json_integer(last) : json_null());
    else
        json_decref(list);
    return result != SB_OK ? result : *out ? SB_OK : SB_ENOMEM;
}

int listening_staff_grant_set(listening *l, const char *username, bool payments, const char *by, int64_t now_ms) {
    if (!short_text_ok(username, SB_USERNAME_BYTES_MAX) || !short_text_ok(by, SB_USERNAME_BYTES_MAX)) return SB_EINVAL;
    return store_exec(l->s,
                      "INSERT INTO listening_staff_grants(username, payments, granted_by, updated_at_ms) VALUES (?, "
                      "?, ?, ?) ON CONFLICT(username) DO UPDATE SET payments = excluded.payments, granted_by = "
                      "excluded.granted_by, updated_at_ms = excluded.updated_at_ms",
                      "titi", username, (int64_t)(payments ? 1 : 0), by, now_ms);
}

int listening_staff_grant_payments(listening *l, const char *username, bool *payments_out) {
    int64_t v = 0;
    int result =
        store_query_int64(l->s, &v, "SELECT payments FROM listening_staff_grants WHERE username = ?", "t", username);
    *payments_out = result == SB_OK && v == 1;
    return result == SB_ENOTFOUND ? SB_OK : result;
}

int listening_staff_grants_json(listening *l, json_t **out) {
    *out = json_object();
    if (!*out) return SB_ENOMEM;
    store_stmt *st;
    int result = store_query(l->s, &st, "SELECT username, payments FROM listening_staff_grants ORDER BY username", "");
    bool prepared3 = result == SB_OK;
    while (result == SB_OK && (result = store_step(st)) == STORE_ROW)
        result = set(*out, store_col_text(st, 0), json_pack("{s:b}", "payments", store_col_int64(st, 1) == 1));
    if (prepared3) store_stmt_done(st);
    result = result == STORE_DONE ? SB_OK : result;
    if (result != SB_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return result;
}

/* ---- the customer panel's listening side ---- */

static json_t *panel_case_row(store_stmt *st) {
    return json_pack("{s:I, s:o, s:o, s:I}", "id", (json_int_t)store_col_int64(st, 0), "topic", text_of(st, 1), "state",
                     text_of(st, 2), "opened_at_ms", (json_int_t)store_col_int64(st, 3));
}
static json_t *panel_post_row(store_stmt *st) {
    return json_pack("{s:I, s:o, s:o, s:I, s:o}", "id", (json_int_t)store_col_int64(st, 0), "source", text_of(st, 1),
                     "text", text_of(st, 2), "posted_at_ms", (json_int_t)store_col_int64(st, 3), "sentiment",
                     text_of(st, 4));
}

static int panel_list(listening *l, const char *sql, const char *source, const char *author, int64_t case_id,
                      json_t *(*row)(store_stmt *), json_t **out) {
    *out = json_array();
    if (!*out) return SB_ENOMEM;
    store_stmt *st;
    int result = store_query(l->s, &st, sql, "ttii", source, author, case_id, (int64_t)SB_LISTENING_PANEL_ITEMS_MAX);
    bool prepared4 = result == SB_OK;
    while (result == SB_OK && (result = store_step(st)) == STORE_ROW)
        result = add(*out, row(st));
    if (prepared4) store_stmt_done(st);
    return result == STORE_DONE ? SB_OK : result;
}

int listening_case_customer_json(listening *l, int64_t case_id, int64_t now_ms, int64_t *customer_id_out,
                                 json_t **out) {
    *out = NULL;
    *customer_id_out = 0;
    char source[SB_LISTENING_SOURCE_BYTES_MAX + 1] = "", author[SB_LISTENING_AUTHOR_BYTES_MAX + 1] = "";
    int result = store_begin_read(l->s);
    if (result != SB_OK) return result;
    store_stmt *st;
    result = store_query(l->s, &st, "SELECT source, author FROM listening_cases WHERE id = ?", "i", case_id);
    if (result == SB_OK) {
        result = store_step(st);
        if (result == STORE_ROW) {
            snprintf(source, sizeof source, "%s", store_col_text(st, 0));
            snprintf(author, sizeof author, "%s", store_col_text(st, 1));
        }
        store_stmt_done(st);
        result = result == STORE_ROW ? SB_OK : result < 0 ? result : SB_ENOTFOUND;
    }
    json_t *o = result == SB_OK ? json_pack("{s:s, s:s, s:n}", "source", source, "author", author, "consent") : NULL;
    if (result == SB_OK && !o) result = SB_ENOMEM;
    /* The newest consent for the handle, active or withdrawn. */
    if (result == SB_OK)
        result = store_query(l->s, &st,
                             "SELECT id, customer_id, consented_at_ms, withdrawn_at_ms FROM listening_consents WHERE "
                             "source = ? AND handle = ? ORDER BY id DESC LIMIT 1",
                             "tt", source, author);
    if (result == SB_OK) {
        result = store_step(st);
        if (result == STORE_ROW) {
            bool active = store_col_is_null(st, 3) && store_col_int64(st, 2) <= now_ms;
            if (active) *customer_id_out = store_col_int64(st, 1);
            result =
                set(o, "consent",
                    json_pack("{s:I, s:I, s:I, s:o, s:b}", "id", (json_int_t)store_col_int64(st, 0), "customer_id",
                              (json_int_t)store_col_int64(st, 1), "consented_at_ms", (json_int_t)store_col_int64(st, 2),
                              "withdrawn_at_ms", int_of(st, 3), "active", active));
        } else if (result == STORE_DONE) {
            result = SB_OK;
        }
        store_stmt_done(st);
    }
    /* A messenger or channel author is a customer of the bank already. */
    if (result == SB_OK && (strcmp(source, "messenger") == 0 || strcmp(source, "own_channel") == 0) &&
        strncmp(author, "user:", 5) == 0) {
        int64_t id = 0;
        if (sb_parse_int64(author + 5, &id) == SB_OK && id > 0) *customer_id_out = id;
    }
    json_t *part = NULL;
    if (result == SB_OK)
        result = panel_list(l,
                            "SELECT id, topic, state, opened_at_ms FROM listening_cases WHERE source = ?1 AND author = "
                            "?2 AND id <> ?3 ORDER BY id DESC LIMIT ?4",
                            source, author, case_id, panel_case_row, &part);
    if (part) {
        int r2 = set(o, "earlier_cases", part);
        if (result == SB_OK) result = r2;
    }
    part = NULL;
    if (result == SB_OK)
        result = panel_list(l,
                            "SELECT p.id, p.source, p.text, p.posted_at_ms, e.sentiment FROM listening_posts p LEFT "
                            "JOIN listening_effective e ON e.post_id = p.id WHERE p.source = ?1 AND p.author = ?2 AND "
                            "?3 = ?3 ORDER BY p.posted_at_ms DESC, p.id DESC LIMIT ?4",
                            source, author, case_id, panel_post_row, &part);
    if (part) {
        int r2 = set(o, "posts", part);
        if (result == SB_OK) result = r2;
    }
    result = finish_read(l, result);
    if (result != SB_OK) {
        json_decref(o);
        *customer_id_out = 0;
        return result;
    }
    *out = o;
    return SB_OK;
}

/* ---- canned replies ---- */

static const char *const canned_vars[] = {"{name}", "{case}", "{agent}"};

int listening_canned_check(const char *text, const char **bad_out) {
    static char bad[48];
    if (bad_out) *bad_out = NULL;
    for (const char *p = strchr(text, '{'); p; p = strchr(p + 1, '{')) {
        const char *close = strchr(p, '}');
        size_t n = close ? (size_t)(close - p) + 1 : strlen(p);
        bool known = false;
        for (size_t k = 0; k < SB_ARRAY_LEN(canned_vars); k++)
            if (close && n == strlen(canned_vars[k]) && memcmp(p, canned_vars[k], n) == 0) known = true;
        if (!known) {
            if (bad_out) {
                snprintf(bad, sizeof bad, "%.*s", (int)(n < 40 ? n : 40), p);
                *bad_out = bad;
            }
            return SB_EINVAL;
        }
    }
    return SB_OK;
}

static bool lang_ok(const char *lang) {
    return lang &&
           (strcmp(lang, "fa") == 0 || strcmp(lang, "uk") == 0 || strcmp(lang, "ru") == 0 || strcmp(lang, "en") == 0);
}

int listening_canned_set(listening *l, const char *shortcut, const char *lang, const char *text, const char *by,
                         int64_t now_ms, int64_t *id_out) {
    if (!short_text_ok(shortcut, SB_LISTENING_CANNED_SHORTCUT_BYTES_MAX) || !lang_ok(lang) ||
        !short_text_ok(text, SB_LISTENING_NOTE_BYTES_MAX) || !short_text_ok(by, SB_USERNAME_BYTES_MAX) ||
        listening_canned_check(text, NULL) != SB_OK)
        return SB_EINVAL;
    int result = store_begin(l->s);
    if (result != SB_OK) return result;
    int64_t count = 0;
    result = store_query_int64(l->s, &count, "SELECT COUNT(*) FROM listening_canned_replies", "");
    if (result == SB_OK && count >= SB_LISTENING_CANNED_MAX) result = SB_ELIMIT;
    if (result == SB_OK)
        result = store_exec(l->s,
                            "INSERT INTO listening_canned_replies(shortcut, lang, text, updated_by, updated_at_ms) "
                            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(shortcut, lang) DO UPDATE SET text = excluded.text, "
                            "updated_by = excluded.updated_by, updated_at_ms = excluded.updated_at_ms",
                            "tttti", shortcut, lang, text, by, now_ms);
    if (result == SB_OK && id_out)
        result =
            store_query_int64(l->s, id_out, "SELECT id FROM listening_canned_replies WHERE shortcut = ? AND lang = ?",
                              "tt", shortcut, lang);
    if (result == SB_OK) return store_commit(l->s);
    store_rollback(l->s);
    return result;
}

int listening_canned_delete(listening *l, int64_t id) {
    int result = store_exec(l->s, "DELETE FROM listening_canned_replies WHERE id = ?", "i", id);
    if (result == SB_OK && store_changes(l->s) == 0) result = SB_ENOTFOUND;
    return result;
}

int listening_canned_json(listening *l, const char *lang, json_t **out) {
    *out = NULL;
    json_t *list = json_array();
    if (!list) return SB_ENOMEM;
    store_stmt *st;
    int result = store_query(l->s, &st,
                             "SELECT id, shortcut, lang, text, updated_by, updated_at_ms FROM listening_canned_replies "
                             "WHERE ?1 IS NULL OR lang = ?1 ORDER BY shortcut, lang",
                             "t", lang);
    bool prepared5 = result == SB_OK;
    while (result == SB_OK && (result = store_step(st)) == STORE_ROW)
        result =
            add(list, json_pack("{s:I, s:o, s:o, s:o, s:o, s:I}", "id", (json_int_t)store_col_int64(st, 0), "shortcut",
                                text_of(st, 1), "lang", text_of(st, 2), "text", text_of(st, 3), "updated_by",
                                text_of(st, 4), "updated_at_ms", (json_int_t)store_col_int64(st, 5)));
    if (prepared5) store_stmt_done(st);
    result = result == STORE_DONE ? SB_OK : result;
    if (result == SB_OK)
        *out = json_pack("{s:o}", "canned", list);
    else
        json_decref(list);
    return result != SB_OK ? result : *out ? SB_OK : SB_ENOMEM;
}

int listening_canned_render(listening *l, const char *shortcut, const char *lang, const char *name, int64_t case_id,
                            const char *agent, char **out, const char **bad_out) {
    *out = NULL;
    if (bad_out) *bad_out = NULL;
    store_stmt *st;
    int result = store_query(l->s, &st, "SELECT text FROM listening_canned_replies WHERE shortcut = ? AND lang = ?",
                             "tt", shortcut, lang);
    if (result != SB_OK) return result;
    result = store_step(st);
    char *tmpl = result == STORE_ROW ? sb_strndup(store_col_text(st, 0), strlen(store_col_text(st, 0))) : NULL;
    store_stmt_done(st);
    if (result != STORE_ROW) return result < 0 ? result : SB_ENOTFOUND;
    if (!tmpl) return SB_ENOMEM;
    result = listening_canned_check(tmpl, bad_out);
    char case_text[24];
    snprintf(case_text, sizeof case_text, "%lld", (long long)case_id);
    /* Names go in as bidi isolates (U+2068 ... U+2069): a Latin handle at the
     * start of a Persian reply must not turn the whole reply left to right. */
    const char *values[] = {name ? name : "", case_text, agent ? agent : ""};
    const bool isolate[] = {true, false, true};
    sb_buf b;
    sb_buf_init(&b, SB_LISTENING_NOTE_BYTES_MAX + 1);
    for (const char *p = tmpl; result == SB_OK && *p;) {
        size_t k = 0;
        while (k < SB_ARRAY_LEN(canned_vars) && strncmp(p, canned_vars[k], strlen(canned_vars[k])) != 0)
            k++;
        if (k < SB_ARRAY_LEN(canned_vars)) {
            if (isolate[k]) result = sb_buf_append_str(&b, "\xE2\x81\xA8");
            if (result == SB_OK) result = sb_buf_append_str(&b, values[k]);
            if (result == SB_OK && isolate[k]) result = sb_buf_append_str(&b, "\xE2\x81\xA9");
            p += strlen(canned_vars[k]);
        } else {
            result = sb_buf_append(&b, p, 1);
            p++;
        }
    }
    if (result == SB_OK) result = sb_buf_append(&b, "", 0);
    sb_free(tmpl);
    if (result == SB_OK && b.len > SB_LISTENING_NOTE_BYTES_MAX) result = SB_ELIMIT;
    if (result != SB_OK) {
        sb_buf_free(&b);
        return result;
    }
    *out = sb_strndup(b.data, b.len);
    sb_buf_free(&b);
    return *out ? SB_OK : SB_ENOMEM;
}

/* ---- replies' delivery ---- */

int listening_reply_delivery_set(listening *l, int64_t reply_id, const char *delivery, int64_t attempts,
                                 int64_t next_attempt_ms, const char *error, int64_t now_ms) {
    int result = store_exec(l->s,
                            "UPDATE listening_replies SET delivery = ?, attempts = ?, next_attempt_ms = NULLIF(?, 0), "
                            "last_error = ?, updated_at_ms = ? WHERE id = ?",
                            "tiitii", delivery, attempts, next_attempt_ms, error ? error : "", now_ms, reply_id);
    if (result == SB_OK && store_changes(l->s) == 0) result = SB_ENOTFOUND;
    return result;
}

int listening_reply_target(listening *l, int64_t reply_id, char channel[16],
                           char in_reply_to[SB_LISTENING_EXTERNAL_ID_BYTES_MAX + 1]) {
    store_stmt *st;
    int result =
        store_query(l->s, &st, "SELECT channel, in_reply_to FROM listening_replies WHERE id = ?", "i", reply_id);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_ROW) {
        snprintf(channel, 16, "%s", store_col_text(st, 0));
        snprintf(in_reply_to, SB_LISTENING_EXTERNAL_ID_BYTES_MAX + 1, "%s", store_col_text(st, 1));
    }
    store_stmt_done(st);
    return result == STORE_ROW ? SB_OK : result < 0 ? result : SB_ENOTFOUND;
}

/* ---- the dashboard ---- */

static int dashboard_posts(listening *l, int64_t from_ms, int64_t to_ms, json_t *o) {
    store_stmt *st;
    int result = store_query(l->s, &st,
                             "SELECT (SELECT COUNT(*) FROM listening_posts WHERE posted_at_ms >= ?1 AND posted_at_ms < "
                             "?2), COALESCE(SUM(sentiment = 'positive'), 0), COALESCE(SUM(sentiment = 'negative'), 0), "
                             "COALESCE(SUM(sentiment = 'neutral'), 0) FROM listening_effective WHERE posted_at_ms >= "
                             "?1 AND posted_at_ms < ?2",
                             "ii", from_ms, to_ms);
    if (result != SB_OK) return result;
    result = store_step(st);
    int64_t volume = 0, pos = 0, neg = 0, neu = 0;
    if (result == STORE_ROW) {
        volume = store_col_int64(st, 0);
        pos = store_col_int64(st, 1);
        neg = store_col_int64(st, 2);
        neu = store_col_int64(st, 3);
    }
    store_stmt_done(st);
    if (result != STORE_ROW) return result < 0 ? result : SB_EIO;
    int64_t understood = pos + neg + neu;
    double share_negative = understood ? (double)neg / (double)understood : 0.0;
    double net = understood ? (double)(pos - neg) / (double)understood : 0.0;
    result = set(o, "volume", json_integer(volume));
    if (result == SB_OK)
        result = set(o, "sentiment",
                     json_pack("{s:I, s:I, s:I}", "positive", (json_int_t)pos, "negative", (json_int_t)neg, "neutral",
                               (json_int_t)neu));
    if (result == SB_OK) result = set(o, "share_negative", json_real(share_negative));
    if (result == SB_OK) result = set(o, "net_sentiment", json_real(net));
    if (result != SB_OK) return result;
    /* Share of voice: every post is about the bank; competitor mentions are
     * the competitors' voice in the same stream. */
    json_t *competitors = json_object();
    if (!competitors) return SB_ENOMEM;
    result = store_query(l->s, &st,
                         "SELECT s.name, COUNT(DISTINCT s.post_id) FROM listening_signals s JOIN listening_posts p ON "
                         "p.id = s.post_id WHERE s.kind = 'competitor' AND p.posted_at_ms >= ? AND p.posted_at_ms < ? "
                         "GROUP BY s.name ORDER BY s.name",
                         "ii", from_ms, to_ms);
    int64_t others = 0;
    bool prepared6 = result == SB_OK;
    while (result == SB_OK && (result = store_step(st)) == STORE_ROW) {
        others += store_col_int64(st, 1);
        result = set(competitors, store_col_text(st, 0), json_integer(store_col_int64(st, 1)));
    }
    if (prepared6) store_stmt_done(st);
    result = result == STORE_DONE ? SB_OK : result;
    double bank_share = volume + others ? (double)volume / (double)(volume + others) : 0.0;
    if (result == SB_OK)
        result = set(o, "share_of_voice",
                     json_pack("{s:I, s:O, s:f}", "bank", (json_int_t)volume, "competitors", competitors, "bank_share",
                               bank_share));
    json_decref(competitors);
    return result;
}

typedef struct {
    char name[65];
    listening_calendar cal;
    bool has_cal;
    int64_t cases, replied, response_ms_sum, met, missed;
} department_figures;

static int dashboard_departments(listening *l, int64_t from_ms, int64_t to_ms, int64_t now_ms, json_t *o) {
    department_figures *deps = NULL;
    size_t dep_count = 0;
    store_stmt *st;
    int result = store_query(l->s, &st, "SELECT name FROM listening_departments ORDER BY name", "");
    bool prepared7 = result == SB_OK;
    while (result == SB_OK && (result = store_step(st)) == STORE_ROW) {
        result = SB_OK;
        department_figures *grown = sb_realloc(deps, (dep_count + 1) * sizeof *deps);
        if (!grown) {
            result = SB_ENOMEM;
            break;
        }
        deps = grown;
        memset(&deps[dep_count], 0, sizeof *deps);
        snprintf(deps[dep_count].name, sizeof deps[dep_count].name, "%s", store_col_text(st, 0));
        dep_count++;
    }
    if (prepared7) store_stmt_done(st);
    result = result == STORE_DONE ? SB_OK : result;
    for (size_t d = 0; result == SB_OK && d < dep_count; d++) {
        int r = listening_calendar_load(l, deps[d].name, &deps[d].cal);
        deps[d].has_cal = r == SB_OK;
        if (r != SB_OK && r != SB_ENOTFOUND) result = r;
    }
    /* Each case routed to a department in the range, with its first reply. */
    if (result == SB_OK)
        result = store_query(l->s, &st,
                             "SELECT d.department, c.opened_at_ms, d.budget_ms, (SELECT MIN(r.created_at_ms) FROM "
                             "listening_replies r WHERE r.case_id = c.id) FROM listening_cases c JOIN "
                             "listening_case_departments d ON d.case_id = c.id WHERE c.opened_at_ms >= ? AND "
                             "c.opened_at_ms < ? ORDER BY c.id LIMIT ?",
                             "iii", from_ms, to_ms, (int64_t)SB_LISTENING_DASHBOARD_CASES_MAX);
    bool prepared8 = result == SB_OK;
    while (result == SB_OK && (result = store_step(st)) == STORE_ROW) {
        result = SB_OK;
        const char *name = store_col_text(st, 0);
        department_figures *f = NULL;
        for (size_t d = 0; d < dep_count && !f; d++)
            if (strcmp(deps[d].name, name) == 0) f = &deps[d];
        if (!f) continue;
        int64_t opened = store_col_int64(st, 1), budget = store_col_int64(st, 2);
        bool replied = !store_col_is_null(st, 3);
        int64_t until = replied ? store_col_int64(st, 3) : now_ms;
        f->cases++;
        int64_t business = until - opened;
        if (f->has_cal && listening_business_between(&f->cal, opened, until, &business) != SB_OK)
            business = until - opened;
        if (replied) {
            f->replied++;
            f->response_ms_sum += until - opened;
            if (business <= budget)
                f->met++;
            else
                f->missed++;
        } else if (business > budget) {
            f->missed++;
        }
    }
    if (prepared8) store_stmt_done(st);
    result = result == STORE_DONE ? SB_OK : result;
    json_t *list = result == SB_OK ? json_array() : NULL;
    if (result == SB_OK && !list) result = SB_ENOMEM;
    for (size_t d = 0; result == SB_OK && d < dep_count; d++) {
        department_figures *f = &deps[d];
        json_t *mean = f->replied ? json_integer(f->response_ms_sum / f->replied) : json_null();
        json_t *sla = f->met + f->missed ? json_real((double)f->met / (double)(f->met + f->missed)) : json_null();
        result = add(list, json_pack("{s:s, s:I, s:I, s:o, s:I, s:I, s:o}", "department", f->name, "cases",
                                     (json_int_t)f->cases, "replied", (json_int_t)f->replied, "first_response_ms_mean",
                                     mean, "sla_met", (json_int_t)f->met, "sla_missed", (json_int_t)f->missed,
                                     "sla_attainment", sla));
    }
    sb_free(deps);
    if (list) {
        int r2 = set(o, "departments", list);
        if (result == SB_OK) result = r2;
    }
    return result;
}

static int dashboard_open_ages(listening *l, int64_t now_ms, json_t *o) {
    static const struct {
        const char *name;
        int64_t below_ms;
    } buckets[] = {{"under_1h", HOUR_MS},
                   {"1h_4h", 4 * HOUR_MS},
                   {"4h_24h", 24 * HOUR_MS},
                   {"1d_3d", 72 * HOUR_MS},
                   {"over_3d", INT64_MAX}};
    int64_t counts[SB_ARRAY_LEN(buckets)] = {0};
    store_stmt *st;
    int result = store_query(l->s, &st, "SELECT opened_at_ms FROM listening_cases WHERE state <> 'resolved' LIMIT ?",
                             "i", (int64_t)SB_LISTENING_DASHBOARD_CASES_MAX);
    bool prepared9 = result == SB_OK;
    while (result == SB_OK && (result = store_step(st)) == STORE_ROW) {
        result = SB_OK;
        int64_t age = now_ms - store_col_int64(st, 0);
        size_t k = 0;
        while (k + 1 < SB_ARRAY_LEN(buckets) && age >= buckets[k].below_ms)
            k++;
        counts[k]++;
    }
    if (prepared9) store_stmt_done(st);
    result = result == STORE_DONE ? SB_OK : result;
    json_t *ages = result == SB_OK ? json_object() : NULL;
    if (result == SB_OK && !ages) result = SB_ENOMEM;
    for (size_t k = 0; result == SB_OK && k < SB_ARRAY_LEN(buckets); k++)
        result = set(ages, buckets[k].name, json_integer(counts[k]));
    if (ages) {
        int r2 = set(o, "open_cases_by_age", ages);
        if (result == SB_OK) result = r2;
    }
    return result;
}

int listening_dashboard_json(listening *l, int64_t from_ms, int64_t to_ms, int64_t now_ms, json_t **out) {
    *out = NULL;
    if (to_ms <= from_ms) return SB_EINVAL;
    if (to_ms - from_ms > SB_LISTENING_STATS_RANGE_MS_MAX) return SB_ELIMIT;
    json_t *o = json_pack("{s:I, s:I}", "from_ms", (json_int_t)from_ms, "to_ms", (json_int_t)to_ms);
    if (!o) return SB_ENOMEM;
    int result = store_begin_read(l->s);
    if (result == SB_OK) {
        result = dashboard_posts(l, from_ms, to_ms, o);
        if (result == SB_OK) result = dashboard_departments(l, from_ms, to_ms, now_ms, o);
        if (result == SB_OK) result = dashboard_open_ages(l, now_ms, o);
        result = finish_read(l, result);
    }
    if (result != SB_OK) {
        json_decref(o);
        return result;
    }
    *out = o;
    return SB_OK;
}
