/*
 * util.c - clocks, random tokens, digit normalisation, UTF-8 validation and
 * checked integer arithmetic shared by every module.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/core.h"

int64_t sb_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sb_mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void sb_time_format_ms(int64_t epoch_ms, char out[32]) {
    time_t secs = (time_t)(epoch_ms / 1000);
    int millis = (int)(epoch_ms % 1000);
    if (millis < 0) {
        millis += 1000;
        secs -= 1;
    }
    struct tm tm;
    gmtime_r(&secs, &tm);
    /* Years past 9999 are clamped so the text always fits its 32 bytes. */
    int year = tm.tm_year + 1900;
    if (year > 9999) year = 9999;
    if (year < 0) year = 0;
    snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", year % 10000, (tm.tm_mon + 1) % 100, tm.tm_mday % 100,
             tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100, millis % 1000);
}

static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;
static int crypto_status = -1;
static void crypto_init_once(void) { crypto_status = sodium_init() < 0 ? -1 : 0; }

int sb_crypto_init(void) {
    pthread_once(&crypto_once, crypto_init_once);
    return crypto_status == 0 ? SB_OK : SB_EINTERNAL;
}

void sb_random_bytes(void *out, size_t len) {
    SB_ASSERT(sb_crypto_init() == SB_OK);
    randombytes_buf(out, len);
}

void sb_random_hex(char *out, size_t len) {
    static const char hex[] = "0123456789abcdef";
    unsigned char bytes[256];
    size_t done = 0;
    while (done < len) {
        size_t chunk = len - done < sizeof bytes ? len - done : sizeof bytes;
        sb_random_bytes(bytes, chunk);
        for (size_t i = 0; i < chunk; i++) {
            out[2 * (done + i)] = hex[bytes[i] >> 4];
            out[2 * (done + i) + 1] = hex[bytes[i] & 15];
        }
        done += chunk;
    }
    out[2 * len] = '\0';
    sodium_memzero(bytes, sizeof bytes);
}

uint32_t sb_random_uniform(uint32_t upper_exclusive) {
    SB_ASSERT(sb_crypto_init() == SB_OK);
    return randombytes_uniform(upper_exclusive);
}

static int hex_digit_value(char c, bool lowercase_only) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (!lowercase_only && c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int sb_token_hash(const char *token, bool lowercase_only, unsigned char out[SB_TOKEN_HASH_BYTES]) {
    if (!token || strnlen(token, 2 * SB_TOKEN_BYTES + 1) != 2 * SB_TOKEN_BYTES) return SB_EAUTH;
    unsigned char raw[SB_TOKEN_BYTES];
    for (size_t i = 0; i < SB_TOKEN_BYTES; i++) {
        int hi = hex_digit_value(token[2 * i], lowercase_only), lo = hex_digit_value(token[2 * i + 1], lowercase_only);
        if (hi < 0 || lo < 0) {
            sodium_memzero(raw, sizeof raw);
            return SB_EAUTH;
        }
        raw[i] = (unsigned char)(hi << 4 | lo);
    }
    crypto_generichash(out, SB_TOKEN_HASH_BYTES, raw, sizeof raw, NULL, 0);
    sodium_memzero(raw, sizeof raw);
    return SB_OK;
}

size_t sb_digits_to_ascii(const char *in, size_t in_len, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < in_len;) {
        unsigned char c0 = (unsigned char)in[i];
        if (i + 1 < in_len && (c0 == 0xDB || c0 == 0xD9)) {
            unsigned char c1 = (unsigned char)in[i + 1];
            /* U+06F0..U+06F9 = DB B0..DB B9; U+0660..U+0669 = D9 A0..D9 A9 */
            if (c0 == 0xDB && c1 >= 0xB0 && c1 <= 0xB9) {
                out[o++] = (char)('0' + (c1 - 0xB0));
                i += 2;
                continue;
            }
            if (c0 == 0xD9 && c1 >= 0xA0 && c1 <= 0xA9) {
                out[o++] = (char)('0' + (c1 - 0xA0));
                i += 2;
                continue;
            }
        }
        out[o++] = (char)c0;
        i++;
    }
    out[o] = '\0';
    return o;
}

bool sb_utf8_valid(const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= n) return false;
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF))) return false;
        if (cp >= 0xD800 && cp <= 0xDFFF) return false;
        i += n + 1;
    }
    return true;
}

int sb_parse_int64(const char *text, int64_t *out) {
    if (!text || !*text) return SB_EINVAL;
    const char *p = text;
    bool negative = false;
    if (*p == '-') {
        negative = true;
        p++;
    }
    if (!*p) return SB_EINVAL;
    uint64_t value = 0;
    const uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; *p; p++) {
        if (*p < '0' || *p > '9') return SB_EINVAL;
        unsigned digit = (unsigned)(*p - '0');
        if (value > (limit - digit) / 10) return SB_ELIMIT;
        value = value * 10 + digit;
    }
    if (negative)
        *out = value == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)value;
    else
        *out = (int64_t)value;
    return SB_OK;
}

int sb_add_int64(int64_t a, int64_t b, int64_t *out) {
    return __builtin_add_overflow(a, b, out) ? SB_ELIMIT : SB_OK;
}

int sb_mul_int64(int64_t a, int64_t b, int64_t *out) {
    return __builtin_mul_overflow(a, b, out) ? SB_ELIMIT : SB_OK;
}

bool sb_equal_ct(const void *a, const void *b, size_t len) { return sodium_memcmp(a, b, len) == 0; }
