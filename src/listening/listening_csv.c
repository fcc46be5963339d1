/*
 * listening_csv.c - an RFC 4180 CSV reader for post exports.
 *
 * A loop with explicit state, never recursion: quoted fields with ""
 * escapes and newlines inside, LF or CRLF (or a lone CR) line ends, a UTF-8
 * byte-order mark at the very start, fully empty lines skipped.  Every field
 * and row is bounded (SB_LISTENING_CSV_*); a bad row is an error naming its
 * reason, after which the reader has moved on so the next row can be read.
 * Fields are copied, unescaped and NUL-terminated, into one scratch buffer
 * the reader owns.
 */
#include <string.h>

#include "listening/listening.h"

int listening_csv_init(listening_csv_reader *r, const char *data, size_t len) {
    memset(r, 0, sizeof *r);
    r->scratch = sb_malloc(SB_LISTENING_CSV_ROW_BYTES_MAX);
    if (!r->scratch) return SB_ENOMEM;
    r->scratch_cap = SB_LISTENING_CSV_ROW_BYTES_MAX;
    r->data = data ? data : "";
    r->len = data ? len : 0;
    r->next_line = 1;
    if (r->len >= 3 && memcmp(r->data, "\xEF\xBB\xBF", 3) == 0) r->pos = 3;
    return SB_OK;
}

void listening_csv_free(listening_csv_reader *r) {
    if (!r) return;
    sb_free(r->scratch);
    r->scratch = NULL;
    r->field_count = 0;
}

/* After an error: skip to just after the next line end (outside quotes we
 * cannot know better), or to the end for an unterminated quote. */
static int fail(listening_csv_reader *r, const char *reason, const char **reason_out, bool to_end) {
    if (to_end) {
        r->pos = r->len;
    } else {
        while (r->pos < r->len && r->data[r->pos] != '\n')
            r->pos++;
        if (r->pos < r->len) {
            r->pos++;
            r->next_line++;
        }
    }
    r->field_count = 0;
    if (reason_out) *reason_out = reason;
    return strcmp(reason, "unterminated_quote") == 0 || strcmp(reason, "junk_after_quote") == 0 ? SB_EINVAL : SB_ELIMIT;
}

int listening_csv_next(listening_csv_reader *r, const char **reason_out) {
    if (reason_out) *reason_out = NULL;
    if (!r->scratch) return SB_EINVAL;
    const char *d = r->data;
    /* Skip fully empty lines. */
    while (r->pos < r->len && (d[r->pos] == '\n' || d[r->pos] == '\r')) {
        if (d[r->pos] == '\n' || (d[r->pos] == '\r' && (r->pos + 1 >= r->len || d[r->pos + 1] != '\n'))) r->next_line++;
        r->pos++;
    }
    if (r->pos >= r->len) {
        r->field_count = 0;
        return 0;
    }
    r->line = r->next_line;
    r->field_count = 0;
    size_t used = 0;
    for (;;) {
        if (r->field_count == SB_LISTENING_CSV_FIELDS_MAX) return fail(r, "too_many_fields", reason_out, false);
        size_t start = used;
        if (r->pos < r->len && d[r->pos] == '"') {
            r->pos++;
            for (;;) {
                if (r->pos >= r->len) return fail(r, "unterminated_quote", reason_out, true);
                char c = d[r->pos];
                if (c == '"') {
                    if (r->pos + 1 < r->len && d[r->pos + 1] == '"') {
                        r->pos += 2;
                    } else {
                        r->pos++;
                        break;
                    }
                } else {
                    if (c == '\n') r->next_line++;
                    r->pos++;
                }
                if (used - start >= SB_LISTENING_CSV_FIELD_BYTES_MAX)
                    return fail(r, "field_too_large", reason_out, false);
                if (used + 1 >= r->scratch_cap) return fail(r, "row_too_large", reason_out, false);
                r->scratch[used++] = c;
            }
            if (r->pos < r->len && d[r->pos] != ',' && d[r->pos] != '\n' && d[r->pos] != '\r')
                return fail(r, "junk_after_quote", reason_out, false);
        } else {
            while (r->pos < r->len && d[r->pos] != ',' && d[r->pos] != '\n' && d[r->pos] != '\r') {
                if (used - start >= SB_LISTENING_CSV_FIELD_BYTES_MAX)
                    return fail(r, "field_too_large", reason_out, false);
                if (used + 1 >= r->scratch_cap) return fail(r, "row_too_large", reason_out, false);
                r->scratch[used++] = d[r->pos++];
            }
        }
        if (used + 1 > r->scratch_cap) return fail(r, "row_too_large", reason_out, false);
        r->scratch[used++] = '\0';
        r->fields[r->field_count] = r->scratch + start;
        r->field_lens[r->field_count] = used - 1 - start;
        r->field_count++;
        if (r->pos < r->len && d[r->pos] == ',') {
            r->pos++;
            continue;
        }
        if (r->pos < r->len && d[r->pos] == '\r') r->pos++;
        if (r->pos < r->len && d[r->pos] == '\n') r->pos++;
        r->next_line++;
        return 1;
    }
}
