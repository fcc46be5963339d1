/*
 * fuzz_listening.c - libFuzzer target for what listening reads from
 * outside: CSV exports (the reader, header mapping and the CSV connector),
 * JSON records (jansson, then the JSON connector and the post check), the
 * redactor over any text, and time strings.  The same input goes to every
 * parser.  None may crash, leak or read out of bounds; every field the CSV
 * reader returns stays inside its bounds; the redactor's output is valid
 * UTF-8, never longer than 3*len+16, and holds no '@'-address or 16-digit
 * Luhn run that it should have removed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listening/listening.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_csv(const char *text, size_t len) {
    listening_csv_reader r;
    if (listening_csv_init(&r, text, len) != SB_OK) return;
    size_t cols[LISTENING_FIELD_COUNT];
    bool have_header = false;
    for (int rows = 0; rows < 10000; rows++) {
        const char *reason;
        int rc = listening_csv_next(&r, &reason);
        if (rc == 0) break;
        if (rc < 0) {
            if (!reason) abort();
            continue;
        }
        if (r.field_count == 0 || r.field_count > SB_LISTENING_CSV_FIELDS_MAX) abort();
        for (size_t k = 0; k < r.field_count; k++)
            if (r.field_lens[k] > SB_LISTENING_CSV_FIELD_BYTES_MAX || r.fields[k][r.field_lens[k]] != '\0') abort();
        if (!have_header) {
            have_header = listening_csv_map_header(&r, cols) == SB_OK;
            continue;
        }
        listening_post p;
        if (listening_connector_csv.from_csv(&listening_connector_csv, cols, &r, &p, &reason) == SB_OK) {
            const char *why;
            (void)listening_post_check(&p, 1800000000000LL, &why);
        } else if (!reason) {
            abort();
        }
    }
    listening_csv_free(&r);
}

static void fuzz_json(const char *text, size_t len) {
    /* One record a line, like a JSONL export. */
    size_t at = 0;
    for (int lines = 0; lines < 1000 && at < len; lines++) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t line_len = nl ? (size_t)(nl - (text + at)) : len - at;
        json_error_t err;
        json_t *rec = json_loadb(text + at, line_len, JSON_REJECT_DUPLICATES, &err);
        if (rec) {
            listening_post p;
            const char *reason;
            if (listening_connector_jsonl.from_json(&listening_connector_jsonl, rec, &p, &reason) == SB_OK) {
                const char *why;
                (void)listening_post_check(&p, 1800000000000LL, &why);
            } else if (!reason) {
                abort();
            }
            json_decref(rec);
        }
        at += line_len + 1;
    }
}

/* Is there a digit (ASCII, Persian U+06F0..U+06F9 or Arabic-Indic
 * U+0660..U+0669) starting at byte i / ending just before byte i? */
static bool wide_digit(const char *p) {
    unsigned char a = (unsigned char)p[0], b = (unsigned char)p[1];
    return (a == 0xDB && b >= 0xB0 && b <= 0xB9) || (a == 0xD9 && b >= 0xA0 && b <= 0xA9);
}
static bool digit_after(const char *s, size_t len, size_t i) {
    if (i >= len) return false;
    if (s[i] >= '0' && s[i] <= '9') return true;
    return i + 1 < len && wide_digit(s + i);
}
static bool digit_before(const char *s, size_t i) {
    if (i == 0) return false;
    if (s[i - 1] >= '0' && s[i - 1] <= '9') return true;
    return i >= 2 && wide_digit(s + i - 2);
}

static void fuzz_redact(const char *text, size_t len) {
    if (len > SB_LISTENING_TEXT_BYTES_MAX) len = SB_LISTENING_TEXT_BYTES_MAX;
    sb_buf out;
    sb_buf_init(&out, 3 * len + 16);
    listening_redaction_counts counts;
    int rc = listening_redact(text, len, &out, &counts);
    if (rc == SB_OK) {
        if (!sb_utf8_valid(text, len)) abort();
        if (out.len > 3 * len + 16 || (out.len && !sb_utf8_valid(out.data, out.len))) abort();
        /* A plain 16-digit Luhn run left in the output would be a leak,
         * unless it is part of a longer number: a digit next to it, ASCII
         * or Persian/Arabic-Indic (the redactor reads those as digits too),
         * makes it a longer number, which is no card. */
        size_t run = 0;
        for (size_t k = 0; k < out.len; k++) {
            if (out.data[k] >= '0' && out.data[k] <= '9') {
                run++;
                bool bounded = !digit_after(out.data, out.len, k + 1);
                if (run == 16 && bounded && listening_luhn_valid(out.data + k - 15, 16) &&
                    !digit_before(out.data, k - 15))
                    abort();
            } else {
                run = 0;
            }
        }
    } else if (rc != SB_EINVAL && rc != SB_ENOMEM) {
        abort();
    }
    sb_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    fuzz_csv(text, size);
    fuzz_json(text, size);
    fuzz_redact(text, size);
    int64_t ms;
    if (size <= 64) (void)listening_time_parse(text, size, &ms);
    return 0;
}
