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

#include <utf8proc.h>

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

/* The value of a digit the redactor reads (ASCII, Persian U+06F0..U+06F9,
 * Arabic-Indic U+0660..U+0669), or -1. */
static int digit_of(utf8proc_int32_t cp) {
    if (cp >= '0' && cp <= '9') return (int)(cp - '0');
    if (cp >= 0x06F0 && cp <= 0x06F9) return (int)(cp - 0x06F0);
    if (cp >= 0x0660 && cp <= 0x0669) return (int)(cp - 0x0660);
    return -1;
}

/* A card left in the redactor's output is a leak: a number of exactly 16
 * ASCII digits passing Luhn.  A number is a maximal run of digits (ASCII,
 * Persian or Arabic-Indic: the redactor reads them all) in which invisible
 * formatting characters (Unicode Cf: ZWNJ, ZWJ, LRM, bidi isolates, soft
 * hyphen...) are ignored, as the redactor ignores them; a run with a
 * digit of another script or more than 16 digits is a longer number, no
 * card. */
static bool card_left(const char *s, size_t len) {
    char digits[17];
    size_t count = 0;
    bool ascii_only = true;
    for (size_t i = 0; i <= len;) {
        utf8proc_int32_t cp = -1;
        utf8proc_ssize_t width = 1;
        if (i < len) {
            width = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &cp);
            if (width <= 0) width = 1, cp = -1;
        }
        int d = cp >= 0 ? digit_of(cp) : -1;
        if (d >= 0) {
            if (count < 16) digits[count] = (char)('0' + d);
            count++;
            if (cp > '9') ascii_only = false;
        } else if (cp < 0 || utf8proc_category(cp) != UTF8PROC_CATEGORY_CF) {
            if (count == 16 && ascii_only && listening_luhn_valid(digits, 16)) return true;
            count = 0;
            ascii_only = true;
        }
        i += (size_t)width;
    }
    return false;
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
        if (card_left(out.data, out.len)) abort();
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
