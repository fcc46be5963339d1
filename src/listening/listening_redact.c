/*
 * listening_redact.c - privacy: what analysts see has no card numbers,
 * phone numbers, Iranian national IDs, IBAN/Sheba or e-mail addresses; the
 * raw text, when the bank keeps it, is sealed with libsodium secretbox.
 *
 * Redaction works in two passes over the original bytes: e-mail spans first
 * (around each '@'), then numeric runs.  A numeric run is digits (ASCII,
 * Persian U+06F0.., Arabic-Indic U+0660..) in groups separated by one or two
 * of " -.()" and may start with '+'.  Within a run, spans of consecutive
 * groups are tried leftmost-longest: 16 digits that pass Luhn or are written
 * 4-4-4-4 (and 15-19 digits in one group passing Luhn) are a card; what
 * sb_phone_normalize accepts is a phone; 10 digits with a valid national-ID
 * check digit are a national ID; 24 digits (or "IR" + 24 digits) are a
 * Sheba/IBAN.  Ordinary amounts ("1,500,000", "250 000"), dates
 * ("1402/05/12", "2026-11-23") and times fall in none of these.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "listening/listening.h"

typedef enum { SPAN_CARD, SPAN_PHONE, SPAN_NATIONAL_ID, SPAN_IBAN, SPAN_EMAIL } span_kind;
static const char *const span_tokens[] = {"[card]", "[phone]", "[national_id]", "[iban]", "[email]"};

typedef struct {
    size_t start, end;
    span_kind kind;
} span;

typedef struct {
    span *items;
    size_t count, cap;
} span_list;

static int span_push(span_list *list, size_t start, size_t end, span_kind kind) {
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 16;
        span *items = sb_realloc(list->items, cap * sizeof *items);
        if (!items) return SB_ENOMEM;
        list->items = items;
        list->cap = cap;
    }
    list->items[list->count++] = (span){start, end, kind};
    return SB_OK;
}

/* Decode one code point of valid UTF-8 at s[i]; *width gets its bytes. */
static uint32_t decode(const unsigned char *s, size_t len, size_t i, size_t *width) {
    unsigned char c = s[i];
    if (c < 0x80) {
        *width = 1;
        return c;
    }
    size_t w = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    if (i + w > len) {
        *width = 1;
        return 0xFFFD;
    }
    uint32_t cp = c & (w == 2 ? 0x1F : w == 3 ? 0x0F : 0x07);
    for (size_t k = 1; k < w; k++)
        cp = cp << 6 | (s[i + k] & 0x3F);
    *width = w;
    return cp;
}

static int digit_value(uint32_t cp) {
    if (cp >= '0' && cp <= '9') return (int)(cp - '0');
    if (cp >= 0x06F0 && cp <= 0x06F9) return (int)(cp - 0x06F0);
    if (cp >= 0x0660 && cp <= 0x0669) return (int)(cp - 0x0660);
    return -1;
}

static bool is_run_separator(uint32_t cp) { return cp == ' ' || cp == '-' || cp == '.' || cp == '(' || cp == ')'; }

/* An invisible formatting character (Unicode category Cf: ZWJ, ZWNJ,
 * LRM/RLM, bidi embeddings and isolates, word joiner, soft hyphen...).
 * Between digits it hides nothing from a reader, so it must hide nothing
 * from the redactor either: runs are read as if it were not there. */
static bool is_invisible(uint32_t cp) {
    return cp < 0x110000 && utf8proc_category((utf8proc_int32_t)cp) == UTF8PROC_CATEGORY_CF;
}

/* The byte after any invisible characters starting at i (i itself if none). */
static size_t skip_invisible(const unsigned char *s, size_t len, size_t i) {
    size_t width;
    while (i < len && is_invisible(decode(s, len, i, &width)))
        i += width;
    return i;
}

bool listening_luhn_valid(const char *digits, size_t count) {
    if (count < 2) return false;
    int sum = 0;
    for (size_t k = 0; k < count; k++) {
        int d = digits[count - 1 - k] - '0';
        if (d < 0 || d > 9) return false;
        if (k % 2 == 1) {
            d *= 2;
            if (d > 9) d -= 9;
        }
        sum += d;
    }
    return sum % 10 == 0;
}

bool listening_national_id_valid(const char *d) {
    for (int k = 0; k < 10; k++)
        if (d[k] < '0' || d[k] > '9') return false;
    bool all_same = true;
    for (int k = 1; k < 10; k++)
        if (d[k] != d[0]) all_same = false;
    if (all_same) return false; /* 0000000000, 1111111111 ... pass the sum but are placeholders */
    int sum = 0;
    for (int k = 0; k < 9; k++)
        sum += (d[k] - '0') * (10 - k);
    int r = sum % 11, check = d[9] - '0';
    return r < 2 ? check == r : check == 11 - r;
}

/* ---- e-mails ---- */
static bool email_local_char(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '%' || c == '+' || c == '-';
}
static bool domain_char(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}
static bool ascii_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static int find_emails(const unsigned char *s, size_t len, span_list *spans) {
    size_t floor = 0; /* an e-mail never starts inside the previous one */
    for (size_t at = 0; at < len; at++) {
        if (s[at] != '@') continue;
        size_t start = at;
        while (start > floor && email_local_char(s[start - 1]))
            start--;
        if (start == at) continue;
        /* Domain: labels separated by single dots; the last one all letters, >= 2. */
        size_t end = at + 1, last_label_start = end, dots = 0;
        size_t good_end = 0;
        while (end < len) {
            size_t label_start = end;
            while (end < len && domain_char(s[end]))
                end++;
            if (end == label_start) break;
            last_label_start = label_start;
            bool tld = end - label_start >= 2;
            for (size_t k = label_start; k < end && tld; k++)
                tld = ascii_alpha(s[k]);
            if (dots > 0 && tld) good_end = end;
            if (end < len && s[end] == '.' && end + 1 < len && domain_char(s[end + 1])) {
                dots++;
                end++;
                continue;
            }
            break;
        }
        (void)last_label_start;
        if (good_end == 0) continue;
        int result = span_push(spans, start, good_end, SPAN_EMAIL);
        if (result != SB_OK) return result;
        floor = good_end;
        at = good_end - 1;
    }
    return SB_OK;
}

/* ---- numeric runs ---- */
typedef struct {
    size_t start, end; /* bytes of the group's digits */
    size_t digit_offset, digit_count;
} group;

static bool inside(const span_list *spans, size_t emails, size_t pos) {
    for (size_t k = 0; k < emails; k++)
        if (pos >= spans->items[k].start && pos < spans->items[k].end) return true;
    return false;
}

/* Classify groups [i..j] of a run; -1 if nothing. */
static int classify(const unsigned char *s, const group *groups, const char *digits, size_t i, size_t j, bool plus,
                    size_t plus_pos) {
    size_t off = groups[i].digit_offset;
    size_t n = groups[j].digit_offset + groups[j].digit_count - off;
    const char *d = digits + off;
    if (n == 16) {
        bool four_by_four = j - i == 3;
        for (size_t k = i; k <= j && four_by_four; k++)
            four_by_four = groups[k].digit_count == 4;
        if (four_by_four || listening_luhn_valid(d, n)) return SPAN_CARD;
    }
    if (n >= 15 && n <= 19 && i == j && listening_luhn_valid(d, n)) return SPAN_CARD;
    if (n == 24) return SPAN_IBAN;
    if (n >= 10 && n <= 14) {
        size_t from = (i == 0 && plus) ? plus_pos : groups[i].start, to = groups[j].end;
        /* The phone as written, without its invisible characters. */
        char buf[SB_PHONE_INPUT_BYTES_MAX + 1], e164[SB_PHONE_BYTES];
        size_t n_buf = 0, width;
        bool fits = true;
        for (size_t k = from; k < to && fits; k += width) {
            if (is_invisible(decode(s, to, k, &width))) continue;
            fits = n_buf + width <= SB_PHONE_INPUT_BYTES_MAX;
            if (fits) memcpy(buf + n_buf, s + k, width);
            n_buf += width;
        }
        if (fits) {
            buf[n_buf] = '\0';
            if (sb_phone_normalize(buf, e164, NULL) == SB_OK) return SPAN_PHONE;
        }
    }
    if (n == 10 && listening_national_id_valid(d)) return SPAN_NATIONAL_ID;
    return -1;
}

/* Scan one run starting at byte `pos` (a digit or a '+' before one).
 * *next gets the byte after the run. */
static int scan_run(const unsigned char *s, size_t len, size_t pos, span_list *spans, size_t emails, size_t *next) {
    group groups[SB_LISTENING_REDACT_GROUPS_MAX];
    char digits[SB_LISTENING_REDACT_GROUPS_MAX * 24];
    size_t group_count = 0, digit_count = 0, width;
    bool plus = s[pos] == '+';
    size_t plus_pos = pos, i = plus ? skip_invisible(s, len, pos + 1) : pos;
    /* An "IR" right before the run (with at most one space) makes it a Sheba. */
    size_t iban_from = pos;
    if (!plus) {
        size_t k = pos;
        if (k > 0 && s[k - 1] == ' ') k--;
        if (k >= 2 && (s[k - 2] | 0x20) == 'i' && (s[k - 1] | 0x20) == 'r' && (k == 2 || !ascii_alpha(s[k - 3])))
            iban_from = k - 2;
    }
    while (i < len && group_count < SB_LISTENING_REDACT_GROUPS_MAX) {
        size_t g_start = i, g_digits = digit_count;
        while (i < len) {
            uint32_t cp = decode(s, len, i, &width);
            if (is_invisible(cp) && i > g_start) {
                /* Invisible characters between two digits join them. */
                size_t k = skip_invisible(s, len, i);
                if (k >= len || digit_value(decode(s, len, k, &width)) < 0 || inside(spans, emails, k)) break;
                i = k;
                continue;
            }
            int v = digit_value(cp);
            if (v < 0 || inside(spans, emails, i)) break;
            if (digit_count < sizeof digits) digits[digit_count++] = (char)('0' + v);
            i += width;
        }
        if (i == g_start) break;
        groups[group_count++] = (group){g_start, i, g_digits, digit_count - g_digits};
        /* One or two separators, then a digit, continue the run (invisible
         * characters around the separators do not count). */
        size_t k = skip_invisible(s, len, i), seps = 0;
        while (k < len && seps < 2 && is_run_separator(s[k])) {
            k = skip_invisible(s, len, k + 1);
            seps++;
        }
        if (seps == 0 || k >= len || digit_value(decode(s, len, k, &width)) < 0) break;
        i = k;
    }
    size_t run_end = group_count ? groups[group_count - 1].end : i;
    /* Skip the rest of an over-long run so it is not rescanned digit by digit. */
    for (;;) {
        size_t k = skip_invisible(s, len, run_end);
        if (k >= len || digit_value(decode(s, len, k, &width)) < 0) break;
        run_end = k + width;
    }
    *next = run_end > pos ? run_end : pos + 1;

    for (size_t a = 0; a < group_count;) {
        size_t best_j = SIZE_MAX;
        int best_kind = -1;
        size_t last = a + 7 < group_count ? a + 7 : group_count - 1;
        for (size_t j = last + 1; j-- > a;) {
            int kind = classify(s, groups, digits, a, j, plus, plus_pos);
            if (kind >= 0) {
                best_j = j;
                best_kind = kind;
                break;
            }
        }
        if (best_kind < 0) {
            a++;
            continue;
        }
        size_t from = groups[a].start;
        if (a == 0 && plus) from = plus_pos;
        if (a == 0 && best_kind == SPAN_IBAN) from = iban_from;
        int result = span_push(spans, from, groups[best_j].end, (span_kind)best_kind);
        if (result != SB_OK) return result;
        a = best_j + 1;
    }
    return SB_OK;
}

static int span_compare(const void *a, const void *b) {
    const span *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

int listening_redact(const char *text, size_t len, sb_buf *out, listening_redaction_counts *counts) {
    if (counts) memset(counts, 0, sizeof *counts);
    if (!out || (!text && len > 0)) return SB_EINVAL;
    sb_buf_reset(out);
    if (len > SB_LISTENING_TEXT_BYTES_MAX) return SB_ELIMIT;
    if (!sb_utf8_valid(text, len)) return SB_EINVAL;
    const unsigned char *s = (const unsigned char *)text;
    span_list spans = {0};
    int result = find_emails(s, len, &spans);
    size_t emails = spans.count;
    for (size_t i = 0; i < len && result == SB_OK;) {
        size_t width;
        uint32_t cp = decode(s, len, i, &width);
        bool starts = digit_value(cp) >= 0;
        if (cp == '+' && i + 1 < len) {
            size_t next_width, k = skip_invisible(s, len, i + 1);
            starts = k < len && digit_value(decode(s, len, k, &next_width)) >= 0;
        }
        if (!starts || inside(&spans, emails, i)) {
            i += width;
            continue;
        }
        size_t next;
        result = scan_run(s, len, i, &spans, emails, &next);
        i = next;
    }
    if (result == SB_OK) {
        if (spans.count > 1) qsort(spans.items, spans.count, sizeof *spans.items, span_compare);
        size_t at = 0;
        for (size_t k = 0; k < spans.count && result == SB_OK; k++) {
            const span *sp = &spans.items[k];
            if (sp->start < at) continue; /* overlap cannot happen, but never emit twice */
            result = sb_buf_append(out, text + at, sp->start - at);
            if (result == SB_OK) result = sb_buf_append_str(out, span_tokens[sp->kind]);
            at = sp->end;
            if (counts) {
                size_t *slot[] = {&counts->cards, &counts->phones, &counts->national_ids, &counts->ibans,
                                  &counts->emails};
                (*slot[sp->kind])++;
            }
        }
        if (result == SB_OK) result = sb_buf_append(out, text + at, len - at);
    }
    sb_free(spans.items);
    if (result != SB_OK) sb_buf_free(out);
    return result;
}

/* ---- sealing ---- */
int listening_seal(const unsigned char key[LISTENING_KEY_BYTES], const void *plain, size_t len, unsigned char **out,
                   size_t *out_len) {
    *out = NULL;
    *out_len = 0;
    if (len > SB_LISTENING_TEXT_BYTES_MAX) return SB_ELIMIT;
    if (sb_crypto_init() != SB_OK) return SB_EINTERNAL;
    size_t total = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
    unsigned char *blob = sb_malloc(total);
    if (!blob) return SB_ENOMEM;
    randombytes_buf(blob, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(blob + crypto_secretbox_NONCEBYTES, plain, len, blob, key);
    *out = blob;
    *out_len = total;
    return SB_OK;
}

int listening_unseal(const unsigned char key[LISTENING_KEY_BYTES], const void *sealed, size_t len, char **out,
                     size_t *out_len) {
    *out = NULL;
    *out_len = 0;
    if (len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) return SB_ECORRUPT;
    if (sb_crypto_init() != SB_OK) return SB_EINTERNAL;
    size_t plain_len = len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    char *plain = sb_malloc(plain_len + 1);
    if (!plain) return SB_ENOMEM;
    const unsigned char *blob = sealed;
    if (crypto_secretbox_open_easy((unsigned char *)plain, blob + crypto_secretbox_NONCEBYTES,
                                   len - crypto_secretbox_NONCEBYTES, blob, key) != 0) {
        sb_free(plain);
        return SB_ECORRUPT;
    }
    plain[plain_len] = '\0';
    *out = plain;
    *out_len = plain_len;
    return SB_OK;
}

static int hex_nibble(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int key_from_hex(const char *hex, size_t len, unsigned char key[LISTENING_KEY_BYTES]) {
    while (len > 0 && (hex[len - 1] == '\n' || hex[len - 1] == '\r'))
        len--;
    if (len != 2 * LISTENING_KEY_BYTES) return SB_EINVAL;
    for (size_t k = 0; k < LISTENING_KEY_BYTES; k++) {
        int hi = hex_nibble(hex[2 * k]), lo = hex_nibble(hex[2 * k + 1]);
        if (hi < 0 || lo < 0) return SB_EINVAL;
        key[k] = (unsigned char)(hi << 4 | lo);
    }
    return SB_OK;
}

int listening_key_load(const char *path, unsigned char key_out[LISTENING_KEY_BYTES]) {
    if (!path) {
        const char *env = getenv("SOCIALBANK_LISTENING_KEY");
        if (!env) return SB_ENOTFOUND;
        return key_from_hex(env, strlen(env), key_out);
    }
    FILE *f = fopen(path, "rb");
    if (!f) return SB_ENOTFOUND;
    unsigned char buf[2 * LISTENING_KEY_BYTES + 3];
    size_t n = fread(buf, 1, sizeof buf, f);
    int io_error = ferror(f);
    fclose(f);
    int result;
    if (io_error)
        result = SB_EIO;
    else if (n == LISTENING_KEY_BYTES) {
        memcpy(key_out, buf, LISTENING_KEY_BYTES);
        result = SB_OK;
    } else
        result = key_from_hex((const char *)buf, n, key_out);
    sodium_memzero(buf, sizeof buf);
    return result;
}
