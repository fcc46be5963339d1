/*
 * listening_connector.c - the generic connectors: one JSON object a line
 * (JSONL, or the objects of an API batch) and a CSV export with a header
 * row.  Both accept the same field names and aliases, so most exports need
 * no code; a network whose export differs gets its own file with its own
 * listening_connector.  Nothing here touches the store: a connector only
 * turns a record into a listening_post whose strings point into the record.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "listening/listening.h"

/* Aliases per field, in LISTENING_FIELD_* order; first match wins. */
static const char *const field_aliases[LISTENING_FIELD_COUNT][5] = {
    [LISTENING_FIELD_SOURCE] = {"source", "network", "platform", NULL},
    [LISTENING_FIELD_EXTERNAL_ID] = {"external_id", "id", "post_id", NULL},
    [LISTENING_FIELD_AUTHOR] = {"author", "author_handle", "handle", "user", NULL},
    [LISTENING_FIELD_REACH] = {"author_reach", "followers", "reach", NULL},
    [LISTENING_FIELD_TIME] = {"posted_at", "time", "created_at", "posted_at_ms", NULL},
    [LISTENING_FIELD_TEXT] = {"text", "message", "body", NULL},
    [LISTENING_FIELD_LIKES] = {"likes", "reactions", NULL},
    [LISTENING_FIELD_SHARES] = {"shares", "reposts", "retweets", NULL},
    [LISTENING_FIELD_REPLIES] = {"replies", "comments", NULL},
};

/* ---- time ---- */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool digits_at(const char *t, size_t len, size_t at, size_t n, int64_t *out) {
    if (at + n > len) return false;
    int64_t v = 0;
    for (size_t k = 0; k < n; k++) {
        if (t[at + k] < '0' || t[at + k] > '9') return false;
        v = v * 10 + (t[at + k] - '0');
    }
    *out = v;
    return true;
}

int listening_time_parse(const char *t, size_t len, int64_t *ms_out) {
    if (!t || len == 0 || len > 40) return SB_EINVAL;
    bool all_digits = true;
    for (size_t k = 0; k < len; k++)
        if (t[k] < '0' || t[k] > '9') all_digits = false;
    if (all_digits) {
        if (len > 15) return SB_EINVAL;
        int64_t v;
        if (!digits_at(t, len, 0, len, &v)) return SB_EINVAL;
        *ms_out = v <= LISTENING_EPOCH_SECONDS_MAX ? v * 1000 : v;
        return SB_OK;
    }
    int64_t y, mo, d, h, mi, s, frac_ms = 0;
    if (!digits_at(t, len, 0, 4, &y) || len < 19 || t[4] != '-' || !digits_at(t, len, 5, 2, &mo) || t[7] != '-' ||
        !digits_at(t, len, 8, 2, &d) || (t[10] != 'T' && t[10] != 't' && t[10] != ' ') ||
        !digits_at(t, len, 11, 2, &h) || t[13] != ':' || !digits_at(t, len, 14, 2, &mi) || t[16] != ':' ||
        !digits_at(t, len, 17, 2, &s))
        return SB_EINVAL;
    static const int month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > month_days[mo - 1] || h > 23 || mi > 59 || s > 60) return SB_EINVAL;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap) return SB_EINVAL;
    size_t at = 19;
    if (at < len && t[at] == '.') {
        at++;
        size_t n = 0;
        int64_t scale = 100;
        while (at < len && t[at] >= '0' && t[at] <= '9' && n < 9) {
            frac_ms += (t[at] - '0') * scale;
            scale /= 10;
            at++;
            n++;
        }
        if (n == 0) return SB_EINVAL;
    }
    int64_t offset_min = 0;
    if (at < len && (t[at] == 'Z' || t[at] == 'z')) {
        at++;
    } else if (at < len && (t[at] == '+' || t[at] == '-')) {
        int64_t oh, om;
        if (!digits_at(t, len, at + 1, 2, &oh) || at + 3 >= len || t[at + 3] != ':' ||
            !digits_at(t, len, at + 4, 2, &om) || oh > 14 || om > 59)
            return SB_EINVAL;
        offset_min = (oh * 60 + om) * (t[at] == '-' ? -1 : 1);
        at += 6;
    } else {
        return SB_EINVAL; /* a time without a zone is ambiguous */
    }
    if (at != len) return SB_EINVAL;
    int64_t days = days_from_civil(y, mo, d);
    *ms_out = ((days * 24 + h) * 60 + mi - offset_min) * 60000 + s * 1000 + frac_ms;
    return SB_OK;
}

/* ---- JSON ---- */
static const json_t *json_field(const json_t *record, int field) {
    for (size_t k = 0; field_aliases[field][k]; k++) {
        const json_t *v = json_object_get(record, field_aliases[field][k]);
        if (v && !json_is_null(v)) return v;
    }
    return NULL;
}

static int json_count(const json_t *record, int field, int64_t *out, const char *reason, const char **reason_out) {
    const json_t *v = json_field(record, field);
    *out = 0;
    if (!v) return SB_OK;
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return SB_OK;
    }
    if (json_is_string(v) && sb_parse_int64(json_string_value(v), out) == SB_OK) return SB_OK;
    *reason_out = reason;
    return SB_EINVAL;
}

static int jsonl_from_json(const listening_connector *c, const json_t *record, listening_post *out,
                           const char **reason_out) {
    (void)c;
    memset(out, 0, sizeof *out);
    *reason_out = NULL;
    if (!json_is_object(record)) {
        *reason_out = "not_an_object";
        return SB_EINVAL;
    }
    const json_t *v = json_field(record, LISTENING_FIELD_SOURCE);
    if (v && !json_is_string(v)) goto bad_type;
    out->source = v ? json_string_value(v) : NULL;
    v = json_field(record, LISTENING_FIELD_EXTERNAL_ID);
    if (v && json_is_integer(v)) {
        snprintf(out->external_id_buf, sizeof out->external_id_buf, "%lld", (long long)json_integer_value(v));
        out->external_id = out->external_id_buf;
    } else if (v && json_is_string(v)) {
        out->external_id = json_string_value(v);
    } else if (v) {
        goto bad_type;
    }
    v = json_field(record, LISTENING_FIELD_AUTHOR);
    if (v && !json_is_string(v)) goto bad_type;
    out->author = v ? json_string_value(v) : NULL;
    v = json_field(record, LISTENING_FIELD_TEXT);
    if (v && !json_is_string(v)) goto bad_type;
    if (v) {
        out->text = json_string_value(v);
        out->text_len = json_string_length(v);
    }
    v = json_field(record, LISTENING_FIELD_TIME);
    if (!v) {
        *reason_out = "missing_time";
        return SB_EINVAL;
    }
    if (json_is_integer(v)) {
        /* The same rule as an integer text: at most 10 digits are seconds. */
        json_int_t t = json_integer_value(v);
        if (t < 0 || t > LISTENING_EPOCH_SECONDS_MAX) {
            out->posted_at_ms = t;
        } else {
            out->posted_at_ms = (int64_t)t * 1000;
        }
    } else if (!json_is_string(v) ||
               listening_time_parse(json_string_value(v), json_string_length(v), &out->posted_at_ms) != SB_OK) {
        *reason_out = "bad_time";
        return SB_EINVAL;
    }
    if (json_count(record, LISTENING_FIELD_REACH, &out->author_reach, "bad_reach", reason_out) != SB_OK ||
        json_count(record, LISTENING_FIELD_LIKES, &out->likes, "bad_count", reason_out) != SB_OK ||
        json_count(record, LISTENING_FIELD_SHARES, &out->shares, "bad_count", reason_out) != SB_OK ||
        json_count(record, LISTENING_FIELD_REPLIES, &out->replies, "bad_count", reason_out) != SB_OK)
        return SB_EINVAL;
    return SB_OK;
bad_type:
    *reason_out = "bad_field_type";
    return SB_EINVAL;
}

/* ---- CSV ---- */
int listening_csv_map_header(const listening_csv_reader *header, size_t column_of_field[LISTENING_FIELD_COUNT]) {
    for (int f = 0; f < LISTENING_FIELD_COUNT; f++) {
        column_of_field[f] = SIZE_MAX;
        size_t best_alias = SIZE_MAX;
        for (size_t col = 0; col < header->field_count; col++) {
            const char *name = header->fields[col];
            size_t name_len = header->field_lens[col];
            while (name_len > 0 && (*name == ' ')) {
                name++;
                name_len--;
            }
            while (name_len > 0 && name[name_len - 1] == ' ')
                name_len--;
            for (size_t k = 0; field_aliases[f][k] && k < best_alias; k++) {
                if (strlen(field_aliases[f][k]) == name_len && strncasecmp(field_aliases[f][k], name, name_len) == 0) {
                    column_of_field[f] = col;
                    best_alias = k;
                }
            }
        }
    }
    if (column_of_field[LISTENING_FIELD_TEXT] == SIZE_MAX || column_of_field[LISTENING_FIELD_EXTERNAL_ID] == SIZE_MAX)
        return SB_EINVAL;
    return SB_OK;
}

static const char *csv_cell(const size_t *column_of_field, const listening_csv_reader *row, int field, size_t *len) {
    size_t col = column_of_field[field];
    if (col == SIZE_MAX || col >= row->field_count) {
        *len = 0;
        return NULL;
    }
    *len = row->field_lens[col];
    return row->fields[col];
}

static int csv_count(const size_t *column_of_field, const listening_csv_reader *row, int field, int64_t *out,
                     const char *reason, const char **reason_out) {
    size_t len;
    const char *cell = csv_cell(column_of_field, row, field, &len);
    *out = 0;
    if (!cell || len == 0) return SB_OK;
    if (sb_parse_int64(cell, out) == SB_OK) return SB_OK;
    *reason_out = reason;
    return SB_EINVAL;
}

static int csv_from_row(const listening_connector *c, const size_t *column_of_field, const listening_csv_reader *row,
                        listening_post *out, const char **reason_out) {
    (void)c;
    memset(out, 0, sizeof *out);
    *reason_out = NULL;
    size_t len;
    out->source = csv_cell(column_of_field, row, LISTENING_FIELD_SOURCE, &len);
    out->external_id = csv_cell(column_of_field, row, LISTENING_FIELD_EXTERNAL_ID, &len);
    out->author = csv_cell(column_of_field, row, LISTENING_FIELD_AUTHOR, &len);
    out->text = csv_cell(column_of_field, row, LISTENING_FIELD_TEXT, &out->text_len);
    const char *time = csv_cell(column_of_field, row, LISTENING_FIELD_TIME, &len);
    if (!time || len == 0) {
        *reason_out = "missing_time";
        return SB_EINVAL;
    }
    if (listening_time_parse(time, len, &out->posted_at_ms) != SB_OK) {
        *reason_out = "bad_time";
        return SB_EINVAL;
    }
    if (csv_count(column_of_field, row, LISTENING_FIELD_REACH, &out->author_reach, "bad_reach", reason_out) != SB_OK ||
        csv_count(column_of_field, row, LISTENING_FIELD_LIKES, &out->likes, "bad_count", reason_out) != SB_OK ||
        csv_count(column_of_field, row, LISTENING_FIELD_SHARES, &out->shares, "bad_count", reason_out) != SB_OK ||
        csv_count(column_of_field, row, LISTENING_FIELD_REPLIES, &out->replies, "bad_count", reason_out) != SB_OK)
        return SB_EINVAL;
    return SB_OK;
}

const listening_connector listening_connector_jsonl = {"jsonl", jsonl_from_json, NULL};
const listening_connector listening_connector_csv = {"csv", NULL, csv_from_row};
