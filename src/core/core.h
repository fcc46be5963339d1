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
void sb_log_fields(sb_log_level level, const char *event, const char *fields_json, const char *fmt, ...)
    SB_PRINTF(4, 5);
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
int64_t sb_now_ms(void);  /* wall clock, ms since the Unix epoch */
int64_t sb_mono_ns(void); /* monotonic clock in ns, for durations */
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

/* ---- background work (src/core/worker.c) ---------------------------------
 * One primitive for every background job, as Redis keeps its background
 * jobs in bio.c: a bounded queue of fixed-size jobs (copied in), one thread,
 * retries with exponential backoff and full jitter, an optional periodic
 * tick, a stop deadline, and counters for /metrics.
 *
 * A job is run (in batches of up to batch_max) until run answers DONE or
 * FAILED, or attempts_max attempts have been made; between attempts the
 * thread sleeps sb_worker_backoff_ms, cut short by the stop deadline.
 * sb_worker_stop starts the deadline (stop_wait_ms): queued jobs keep being
 * run until it passes, then the rest are dropped (finish called, counted).
 * A job still running past the deadline plus SB_WORKER_STOP_GRACE_MS is
 * abandoned: stop returns, the thread is detached and, when (if) the job
 * returns, frees the worker and ends WITHOUT calling any callback again
 * (thread_end included: what thread_start opened for it is leaked and
 * logged); stop says so (false), and the owner then leaks arg rather than
 * free what the stuck job still uses.  A job that can block should be
 * bounded by sb_worker_time_left_ms (the webhook client is). */
typedef struct sb_worker sb_worker;
typedef enum { SB_WORKER_DONE = 0, SB_WORKER_RETRY = 1, SB_WORKER_FAILED = 2 } sb_worker_outcome;
typedef struct {
    const char *name; /* metrics label and log field: [a-z0-9_], < SB_WORKER_NAME_BYTES; copied */
    size_t job_bytes; /* one job, copied into the queue: 1..SB_WORKER_JOB_BYTES_MAX */
    size_t queue_max; /* 1..SB_WORKER_QUEUE_MAX */
    size_t batch_max; /* jobs handed to run at once: 1..SB_WORKER_BATCH_MAX (0 = 1) */
    int attempts_max; /* 1..SB_WORKER_ATTEMPTS_MAX (0 = 1) */
    int64_t backoff_base_ms, backoff_max_ms; /* the first retry's cap and the largest */
    int64_t stop_wait_ms;                    /* the stop deadline: 0..SB_WORKER_STOP_WAIT_MS_MAX */
    int64_t period_ms;                       /* > 0: tick at start, then every period_ms while idle */
    void *arg;                               /* given to every callback; borrowed */
    /* On the worker's thread: open what its jobs use (a store connection)
     * into *local_out; a failure is logged and local is NULL.  May be NULL.
     * They get thread_arg (NULL: arg), so a shared opener such as
     * store_open_local can take the location directly. */
    int (*thread_start)(void *thread_arg, void **local_out);
    void (*thread_end)(void *thread_arg, void *local);
    void *thread_arg;
    /* Run count jobs (contiguous, job_bytes each; writable) for the
     * attempt-th time (1-based).  Required unless period_ms > 0. */
    sb_worker_outcome (*run)(void *arg, void *local, sb_worker *w, void *jobs, size_t count, int attempt);
    /* The periodic job (period_ms > 0). */
    void (*tick)(void *arg, void *local, sb_worker *w);
    /* Once per job at its end: outcome DONE or FAILED after `attempts` runs,
     * FAILED with attempts 0 when dropped at stop.  For logs and for freeing
     * or wiping what the job owns; the slot is zeroed after it.  May be NULL. */
    void (*finish)(void *arg, void *job, sb_worker_outcome outcome, int attempts);
} sb_worker_config;
typedef struct {
    uint64_t queued;  /* accepted by submit */
    uint64_t done;    /* ended DONE */
    uint64_t retried; /* attempts after the first */
    uint64_t failed;  /* ended FAILED (attempts exhausted, a final refusal, the stop deadline) */
    uint64_t dropped; /* refused because the queue was full, or dropped at the stop deadline */
    size_t depth;     /* waiting now (not counting the batch being run) */
} sb_worker_stats;
/* Create a worker and its queue (no thread yet).  cfg is copied.  SB_EINVAL
 * for a bad cfg, SB_ENOMEM.  *out: sb_worker_stop. */
int sb_worker_create(const sb_worker_config *cfg, sb_worker **out) SB_MUST_CHECK;
/* Start its thread.  SB_EBUSY if started, SB_EINTERNAL if it cannot start. */
int sb_worker_start(sb_worker *w) SB_MUST_CHECK;
/* Create and start; on error nothing is left (*out NULL). */
int sb_worker_launch(const sb_worker_config *cfg, sb_worker **out) SB_MUST_CHECK;
/* Copy a job (job_bytes) into the queue; never blocks.  SB_EBUSY when full
 * (counted as dropped; the caller still owns what the job points to),
 * SB_ECLOSED once stopping.  Thread-safe. */
int sb_worker_submit(sb_worker *w, const void *job) SB_MUST_CHECK;
/* Without a thread (tests): run what is queued on the caller's thread with
 * local, one attempt each, no backoff; *ran_out (may be NULL) counts jobs. */
int sb_worker_drain(sb_worker *w, void *local, size_t *ran_out) SB_MUST_CHECK;
/* Wait until the queue is empty and nothing is in hand.  SB_ETIMEOUT. */
int sb_worker_flush(sb_worker *w, int64_t timeout_ms) SB_MUST_CHECK;
/* Stop (see above: bounded by the deadline), join, free.  true when the
 * thread ended; false when a stuck job was abandoned: the job still holds
 * arg, so the owner must then leave alive (leak) what the job uses.  NULL
 * allowed (true). */
bool sb_worker_stop(sb_worker *w);
/* For a job: step_ms, cut to what is left before the stop deadline (0 once
 * it has passed); step_ms when not stopping. */
int64_t sb_worker_time_left_ms(sb_worker *w, int64_t step_ms);
bool sb_worker_stopping(sb_worker *w);
void sb_worker_stats_get(sb_worker *w, sb_worker_stats *out);
const char *sb_worker_name(const sb_worker *w);
/* The backoff before attempt+1: uniform in [0, cap] (full jitter), with cap
 * = min(max_ms, base_ms * 2^(attempt-1)); attempt >= 1; never overflows. */
int64_t sb_worker_backoff_cap_ms(int64_t base_ms, int64_t max_ms, int attempt);
int64_t sb_worker_backoff_ms(int64_t base_ms, int64_t max_ms, int attempt);
/* Append Prometheus lines for these workers (jobs by result, queue depth)
 * to out.  NULL entries are skipped. */
int sb_worker_metrics_render(sb_worker *const *workers, size_t count, sb_buf *out) SB_MUST_CHECK;
/* Worker threads alive in the process (abandoned ones included): for tests. */
int sb_worker_threads_alive(void);

/* ---- outbound HTTP (src/core/http_client.c, libcurl) ----------------------
 * The one client for every outbound call (one-time codes, alerts, later
 * reply connectors and bot webhooks): http:// and https:// with the
 * peer's certificate and host name verified (the system's CAs, or ca_file),
 * TLS 1.2 or newer, a timeout on connecting and on the whole exchange,
 * proxies from the environment (http_proxy, https_proxy, no_proxy, as curl
 * reads them), no redirect followed (a 3xx is a refusal), and at most
 * response_bytes_max bytes of answer read (more ends the exchange). */
typedef struct {
    const char *ca_file;        /* PEM file of CAs to trust instead of the system's; NULL: system */
    int64_t connect_timeout_ms; /* > 0 */
    int64_t total_timeout_ms;   /* > 0; the caller cuts it to a stop deadline */
    size_t response_bytes_max;  /* 0: SB_HTTP_RESPONSE_BYTES_MAX */
    /* Extra request headers, each "Name: value" (a token name, a value of
     * printable ASCII or tabs: no CR, LF or other control byte), at most
     * SB_HTTP_OUT_HEADERS_MAX lines of under SB_HTTP_OUT_HEADER_BYTES_MAX bytes;
     * a bad one makes the call SB_EINVAL before anything is sent. */
    const char *const *headers;
    size_t header_count;
} sb_http_options;
/* Check one such header line.  SB_EINVAL otherwise. */
int sb_http_header_check(const char *line) SB_MUST_CHECK;
/* Check an outbound URL (shorter than max_bytes, at most
 * SB_HTTP_URL_BYTES_MAX): printable ASCII, http or https, a host, no
 * credentials, a port 1..65535 when given.  SB_EINVAL otherwise. */
int sb_http_url_check(const char *url, size_t max_bytes) SB_MUST_CHECK;
/* POST body (len bytes) as application/json to url.  *status_out (may be
 * NULL) gets the HTTP status (0 when none came).  SB_OK for 2xx; SB_EBUSY
 * for an answer worth retrying (5xx, 408, 429); SB_EINVAL for a final
 * refusal (other statuses, a bad URL); SB_ETIMEOUT, SB_EIO (network, TLS,
 * an untrusted certificate) and SB_ELIMIT (an answer over the cap) for the
 * exchange itself; SB_ENOMEM. */
int sb_http_post_json(const sb_http_options *options, const char *url, const char *body, size_t len,
                      int *status_out) SB_MUST_CHECK;
/* The webhook delivery every sender shares, for a worker's run: one POST
 * with the total timeout cut to the worker's stop deadline; DONE for 2xx,
 * FAILED for a final refusal or once the deadline has passed, RETRY for the
 * rest.  *result_out and *status_out (may be NULL) say what happened, for
 * the caller's log line. */
sb_worker_outcome sb_webhook_deliver(sb_worker *w, const sb_http_options *options, const char *url, const char *body,
                                     size_t len, int *result_out, int *status_out);

#endif /* SB_CORE_H */
