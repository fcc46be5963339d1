/*
 * listening_formats.c - the file formats `socialbank ingest` reads, and the
 * registry that finds one by name or by file extension.
 *
 * A format walks a whole export held in memory (mapped by the caller) and
 * hands back one listening_post per record with the line it started on.
 * The two generic formats live here: JSONL (one JSON object a line, read
 * by listening_connector_jsonl) and CSV with a header row (read by
 * listening_csv_reader and listening_connector_csv).  A network whose
 * export looks different is one new file with its own listening_format
 * (listening_telegram.c is the example) and one line in listening_formats[].
 *
 * Nothing here touches the store, and a bad record is reported with its
 * reason (the importer rejects it and reads on): a line that is not valid
 * UTF-8 is "invalid_utf8", a JSON syntax error "bad_json", a malformed CSV
 * line the CSV reader's reason ("unterminated_quote", "junk_after_quote",
 * "field_too_large", ...).
 */
#include <string.h>
#include <strings.h>

#include "listening/listening.h"

const listening_format *const listening_formats[] = {
    &listening_format_jsonl,
    &listening_format_csv,
    &listening_format_telegram,
    NULL,
};

const listening_format *listening_format_find(const char *name) {
    if (!name) return NULL;
    for (size_t k = 0; listening_formats[k]; k++)
        if (strcmp(listening_formats[k]->name, name) == 0) return listening_formats[k];
    return NULL;
}

const listening_format *listening_format_for_path(const char *path) {
    if (!path) return NULL;
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    if (!dot || !dot[1]) return NULL;
    for (size_t k = 0; listening_formats[k]; k++)
        if (strcasecmp(listening_formats[k]->extension, dot + 1) == 0) return listening_formats[k];
    return NULL;
}

/* ---- JSONL ---- */
typedef struct {
    const char *data;
    size_t len, pos, line;
    json_t *record; /* the current record; its strings back the post */
} jsonl_state;

static int jsonl_open(const char *data, size_t len, void **state_out, const char **reason_out) {
    *reason_out = NULL;
    jsonl_state *st = sb_calloc(1, sizeof *st);
    if (!st) return SB_ENOMEM;
    st->data = data;
    st->len = len;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) st->pos = 3;
    *state_out = st;
    return SB_OK;
}

static int jsonl_next(void *state, listening_post *out, size_t *line_out, const char **reason_out) {
    jsonl_state *st = state;
    *reason_out = NULL;
    json_decref(st->record);
    st->record = NULL;
    for (;;) {
        if (st->pos >= st->len) return 0;
        const char *start = st->data + st->pos;
        const char *nl = memchr(start, '\n', st->len - st->pos);
        size_t line_len = nl ? (size_t)(nl - start) : st->len - st->pos;
        st->pos += line_len + (nl ? 1 : 0);
        st->line++;
        size_t len = line_len;
        if (len > 0 && start[len - 1] == '\r') len--;
        size_t blank = 0;
        while (blank < len && (start[blank] == ' ' || start[blank] == '\t'))
            blank++;
        if (blank == len) continue; /* empty lines are not records */
        *line_out = st->line;
        if (len > SB_LISTENING_JSONL_LINE_BYTES_MAX) {
            *reason_out = "line_too_long";
            return 1;
        }
        if (!sb_utf8_valid(start, len)) {
            *reason_out = "invalid_utf8";
            return 1;
        }
        json_error_t err;
        st->record = json_loadb(start, len, JSON_REJECT_DUPLICATES, &err);
        if (!st->record) {
            *reason_out = "bad_json";
            return 1;
        }
        const char *reason = NULL;
        if (listening_connector_jsonl.from_json(&listening_connector_jsonl, st->record, out, &reason) != SB_OK)
            *reason_out = reason ? reason : "bad_record";
        return 1;
    }
}

static size_t jsonl_position(void *state) { return ((jsonl_state *)state)->pos; }

static void jsonl_close(void *state) {
    jsonl_state *st = state;
    if (!st) return;
    json_decref(st->record);
    sb_free(st);
}

const listening_format listening_format_jsonl = {
    "jsonl",
    "jsonl",
    "one JSON object a line (source, id, author, followers, time, text, likes, shares, replies)",
    jsonl_open,
    jsonl_next,
    jsonl_close,
    jsonl_position,
};

/* ---- CSV ---- */
typedef struct {
    listening_csv_reader reader;
    size_t column_of_field[LISTENING_FIELD_COUNT];
} csv_state;

static int csv_open(const char *data, size_t len, void **state_out, const char **reason_out) {
    *reason_out = NULL;
    csv_state *st = sb_calloc(1, sizeof *st);
    if (!st) return SB_ENOMEM;
    int result = listening_csv_init(&st->reader, data, len);
    if (result != SB_OK) {
        sb_free(st);
        return result;
    }
    const char *reason = NULL;
    result = listening_csv_next(&st->reader, &reason);
    if (result != 1) {
        *reason_out = result == 0 ? "csv_empty" : "csv_bad_header";
        result = SB_EINVAL;
    } else if (listening_csv_map_header(&st->reader, st->column_of_field) != SB_OK) {
        *reason_out = "csv_header_needs_text_and_id";
        result = SB_EINVAL;
    } else {
        result = SB_OK;
    }
    if (result != SB_OK) {
        listening_csv_free(&st->reader);
        sb_free(st);
        return result;
    }
    *state_out = st;
    return SB_OK;
}

static int csv_next(void *state, listening_post *out, size_t *line_out, const char **reason_out) {
    csv_state *st = state;
    *reason_out = NULL;
    const char *reason = NULL;
    int result = listening_csv_next(&st->reader, &reason);
    *line_out = st->reader.line;
    if (result == 0) return 0;
    if (result < 0) {
        *reason_out = reason ? reason : "bad_csv_line";
        return 1;
    }
    for (size_t c = 0; c < st->reader.field_count; c++)
        if (!sb_utf8_valid(st->reader.fields[c], st->reader.field_lens[c])) {
            *reason_out = "invalid_utf8";
            return 1;
        }
    if (listening_connector_csv.from_csv(&listening_connector_csv, st->column_of_field, &st->reader, out, &reason) !=
        SB_OK)
        *reason_out = reason ? reason : "bad_record";
    return 1;
}

static size_t csv_position(void *state) { return ((csv_state *)state)->reader.pos; }

static void csv_close(void *state) {
    csv_state *st = state;
    if (!st) return;
    listening_csv_free(&st->reader);
    sb_free(st);
}

const listening_format listening_format_csv = {
    "csv",        "csv",    "CSV with a header row naming the same fields (RFC 4180, quoted fields may span lines)",
    csv_open,     csv_next, csv_close,
    csv_position,
};
