/*
 * core.h - the conventions every SocialBank module shares.
 *
 * Error codes, the one allocation wrapper (so tests can fail the Nth
 * allocation), assertions that stay on in release, structured JSON logging,
 * bounded buffers, clocks, random tokens and digit normalisation (Persian and
 * Arabic-Indic digits to ASCII).  Nothing here depends on any other module.
 *
 * Conventions (see ../../docs/ARCHITECTURE.md):
 *   - fallible functions return int: SB_OK (0) or a negative SB_E* code, and
 *     hand results back through out-parameters; they are SB_MUST_CHECK.
 *   - ownership is stated on every function that allocates or takes a pointer;
 *     transfers of ownership are named *_take.
 */
#ifndef SB_CORE_H
#define SB_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"

#define SB_MUST_CHECK __attribute__((warn_unused_result))
#define SB_PRINTF(fmt_index, args_index) __attribute__((format(printf, fmt_index, args_index)))
#define SB_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- error codes ------------------------------------------------------ */
enum {
    SB_OK = 0,
    SB_ENOMEM = -1,     /* allocation failed */
    SB_EINVAL = -2,     /* argument or input is malformed */
    SB_ENOTFOUND = -3,  /* no such object */
    SB_EEXISTS = -4,    /* already exists (idempotent retries use this) */
    SB_EIO = -5,        /* storage or system I/O failed */
    SB_ELIMIT = -6,     /* a named limit was exceeded */
    SB_EPERM = -7,      /* caller may not do this */
    SB_ECONFLICT = -8,  /* state does not allow it (e.g. same id, other fields) */
    SB_EBUSY = -9,      /* try again later (lock, queue full) */
    SB_ETIMEOUT = -10,  /* deadline passed */
    SB_ECORRUPT = -11,  /* stored data or a file failed its check */
    SB_EAUTH = -12,     /* not authenticated or bad credentials */
    SB_ERATE = -13,     /* rate limited */
    SB_EINTERNAL = -14, /* a bug: an invariant did not hold */
    SB_ECLOSED = -15,   /* object or service is shutting down */
};

/* A short stable name such as "not_found" for an SB_E* code (static string). */
const char *sb_error_name(int code);
/* A human sentence for an SB_E* code (static string). */
const char *sb_strerror(int code);

/* ---- allocation -------------------------------------------------------- */
/* All heap memory goes through these so tests can inject failures.
 * sb_malloc(0) returns a valid unique pointer. Free with sb_free. */
void *sb_malloc(size_t size);
void *sb_calloc(size_t count, size_t size);
void *sb_realloc(void *ptr, size_t size);
void sb_free(void *ptr);
/* Copy of a NUL-terminated string, or NULL on allocation failure. Caller frees. */
char *sb_strdup(const char *s);
/* Copy of the first len bytes plus a NUL. Caller frees. */
char *sb_strndup(const char *s, size_t len);
/* Test hook: after `count` more successful allocations, every allocation fails
 * until sb_alloc_fail_reset(). count < 0 disables injection. Thread-safe. */
void sb_alloc_fail_after(long count);
void sb_alloc_fail_reset(void);

/* ---- assertions -------------------------------------------------------- */
/* SB_ASSERT stays on in release: for invariants that protect money and data.
 * It logs file and line, then aborts. Never use it on external input. */
void sb_assert_fail(const char *expr, const char *file, int line, const char *func) __attribute__((noreturn));
#define SB_ASSERT(expr) ((expr) ? (void)0 : sb_assert_fail(#expr, __FILE__, __LINE__, __func__))
#ifdef NDEBUG
#define SB_DEBUG_ASSERT(expr) ((void)0)
#else
#define SB_DEBUG_ASSERT(expr) SB_ASSERT(expr)
#endif

/* ---- logging ----------------------------------------------------------- */
/* One JSON object a line on stderr:
 *   {"ts":"2026-11-23T09:40:00.123Z","level":"info","event":"http.start","msg":"..."}
 * Extra fields may be given as a JSON object text in sb_log_fields. */
typedef enum { SB_LOG_DEBUG = 0, SB_LOG_INFO = 1, SB_LOG_WARN = 2, SB_LOG_ERROR = 3 } sb_log_level;
void sb_log_set_level(sb_log_level level);
sb_log_level sb_log_get_level(void);
/* Parse "debug|info|warn|error". Returns SB_EINVAL on anything else. */
int sb_log_level_parse(const char *text, sb_log_level *out) SB_MUST_CHECK;
/* Log a line; msg is printf-formatted and JSON-escaped. */
void sb_log(sb_log_level level, const char *event, const char *fmt, ...) SB_PRINTF(3, 4);
/* Log a line with extra fields: fields_json must be a JSON object text
 * such as {"route":"/healthz","status":200} (its braces are merged). */
void sb_log_fields(sb_log_level level, const char *event, const char *fields_json, const char *fmt, ...) SB_PRINTF(4, 5);
/* Redirect log output (tests); NULL restores stderr. */
void sb_log_set_sink(void (*sink)(const char *line, size_t len, void *arg), void *arg);

/* ---- bounded buffer ---------------------------------------------------- */
/* A growable byte buffer that knows its maximum (like curl's dynbuf).
 * Always NUL-terminated when len > 0. On any failure the buffer is freed
 * and reset, so callers need not clean up after an error. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
} sb_buf;
void sb_buf_init(sb_buf *buf, size_t max_bytes);
void sb_buf_free(sb_buf *buf);
void sb_buf_reset(sb_buf *buf); /* keeps the allocation, len = 0 */
int sb_buf_append(sb_buf *buf, const void *data, size_t len) SB_MUST_CHECK;
int sb_buf_append_str(sb_buf *buf, const char *s) SB_MUST_CHECK;
int sb_buf_printf(sb_buf *buf, const char *fmt, ...) SB_PRINTF(2, 3) SB_MUST_CHECK;
/* Append s as the inside of a JSON string (quotes not added). */
int sb_buf_append_json_escaped(sb_buf *buf, const char *s, size_t len) SB_MUST_CHECK;
/* Hand the data to the caller (who frees it with sb_free); buffer is reset. */
char *sb_buf_take(sb_buf *buf, size_t *len_out);

/* ---- time -------------------------------------------------------------- */
int64_t sb_now_ms(void);      /* wall clock, ms since the Unix epoch */
int64_t sb_mono_ns(void);     /* monotonic clock in ns, for durations */
/* Format ms-since-epoch as RFC 3339 UTC with milliseconds into out (>= 25 bytes). */
void sb_time_format_ms(int64_t epoch_ms, char out[32]);

/* ---- random ------------------------------------------------------------ */
/* Initialise libsodium; call once at start (idempotent, thread-safe). */
int sb_crypto_init(void) SB_MUST_CHECK;
void sb_random_bytes(void *out, size_t len);
/* len random bytes as lowercase hex into out (2*len+1 bytes). */
void sb_random_hex(char *out, size_t len);
uint32_t sb_random_uniform(uint32_t upper_exclusive);
/* Bearer tokens (sessions, bots) are SB_TOKEN_BYTES random bytes shown as
 * 2*SB_TOKEN_BYTES hex characters and stored only as a BLAKE2b hash.
 * Decode exactly that many hex characters (lowercase only when
 * lowercase_only) and hash the bytes into out.  SB_EAUTH for anything else
 * (NULL, wrong length, a non-hex character); the decoded bytes are wiped. */
#define SB_TOKEN_HASH_BYTES 32
int sb_token_hash(const char *token, bool lowercase_only, unsigned char out[SB_TOKEN_HASH_BYTES]) SB_MUST_CHECK;

/* ---- text helpers ------------------------------------------------------ */
/* Convert Persian (U+06F0..U+06F9) and Arabic-Indic (U+0660..U+0669) digits in
 * UTF-8 `in` to ASCII, copying everything else. out must hold in_len+1 bytes
 * (the result is never longer). Returns bytes written (excluding the NUL). */
size_t sb_digits_to_ascii(const char *in, size_t in_len, char *out);
/* True if s (len bytes) is valid UTF-8 without overlongs or surrogates. */
bool sb_utf8_valid(const char *s, size_t len);
/* Parse a base-10 int64 from the whole of text (optional leading '-'),
 * rejecting overflow, empty text and trailing junk. */
int sb_parse_int64(const char *text, int64_t *out) SB_MUST_CHECK;
/* Checked int64 arithmetic: return SB_ELIMIT on overflow. */
int sb_add_int64(int64_t a, int64_t b, int64_t *out) SB_MUST_CHECK;
int sb_mul_int64(int64_t a, int64_t b, int64_t *out) SB_MUST_CHECK;
/* Phone numbers (src/core/phone.c). */
#define SB_PHONE_BYTES 16 /* "+" and at most 15 digits (E.164), NUL */
typedef enum { SB_PHONE_COUNTRY_IR = 98, SB_PHONE_COUNTRY_UA = 380 } sb_phone_country;
/* Normalise an Iranian or Ukrainian mobile number to E.164 ("+989121234567",
 * "+380501234567").  Accepts Persian and Arabic-Indic digits, spaces, dashes,
 * dots and parentheses, and the +98/0098/98/0 and +380/00380/380/0 prefixes
 * (a bare leading 0 with 11 digits is Iranian "09..."; with 10 digits and a
 * Ukrainian operator code it is Ukrainian "0XX..."). *country_out may be NULL.
 * SB_EINVAL for anything else, including wrong lengths and landlines. */
int sb_phone_normalize(const char *in, char out[SB_PHONE_BYTES], sb_phone_country *country_out) SB_MUST_CHECK;
/* Constant-time comparison of two equal-length byte strings. */
bool sb_equal_ct(const void *a, const void *b, size_t len);

/* ---- webhooks (src/core/webhook.c) --------------------------------------- */
/* An http://HOST[:PORT][/PATH] URL, parsed. */
typedef struct {
    char host[256];      /* without brackets for IPv6 literals */
    char port[6];        /* decimal; 80 when absent */
    char authority[300]; /* the Host header: as written in the URL */
    char path[SB_WEBHOOK_URL_BYTES_MAX]; /* "/" when absent; without a fragment */
} sb_webhook_url;
/* Parse text (shorter than max_bytes, at most SB_WEBHOOK_URL_BYTES_MAX):
 * printable ASCII only, http:// only, no credentials, a host (IPv6 in
 * brackets), an optional port 1..65535.  SB_EINVAL otherwise. */
int sb_webhook_url_parse(const char *text, size_t max_bytes, sb_webhook_url *out) SB_MUST_CHECK;
/* The code of an HTTP/1.x status line ("HTTP/1.1 204 No Content"): SB_EIO
 * unless it is exactly version, space, three digits (>= 100), then a space
 * or the line end. */
int sb_http_status_parse(const char *buf, size_t len, int *status_out) SB_MUST_CHECK;
/* One POST of a JSON body (Connection: close), every step (connect, each
 * write, each read) bounded by step_timeout_ms(arg), asked afresh each time.
 * *status_out gets the status (0 if none was read).  SB_OK for 2xx; SB_EBUSY
 * for an answer worth retrying (5xx, 429, 408); SB_EINVAL for a final
 * refusal; SB_EIO / SB_ETIMEOUT for the network. */
int sb_webhook_post_once(const sb_webhook_url *url, const char *body, size_t body_len,
                         int (*step_timeout_ms)(void *arg), void *arg, int *status_out) SB_MUST_CHECK;
/* The same with extra header lines (each "Name: value\r\n", at most
 * SB_WEBHOOK_EXTRA_HEADER_BYTES_MAX in all; NULL for none), which the caller
 * built from checked values (no CR or LF inside a value).  SB_EINVAL when
 * they are too long. */
int sb_webhook_post_headers(const sb_webhook_url *url, const char *extra_headers, const char *body, size_t body_len,
                            int (*step_timeout_ms)(void *arg), void *arg, int *status_out) SB_MUST_CHECK;

#endif /* SB_CORE_H */
