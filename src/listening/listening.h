/*
 * listening.h - every post about the bank, understood and acted on.
 *
 * Data flow (docs/ARCHITECTURE.md, "listening"):
 *   connector (JSONL, CSV, a network's own file) -> listening_post
 *   -> listening_ingest: validate (limits, UTF-8, known source), redact
 *      (cards, phones, national IDs, IBAN, e-mails), optionally seal the raw
 *      text, dedup by (source, external id) merging counts
 *   -> understand (the text engine, through listening_understander) -> store
 *   -> rules -> cases (departments, business-hour deadlines), statistics,
 *      leads (only with consent); listening_tick: escalations, reassignment,
 *      alerts; suggestions and advocates are queries.
 *
 * Everything takes a `listening` context: the caller's store connection (one
 * thread), the raw-text key if raw storage is on, and the interfaces other
 * modules fill later (understander, alert sink, messenger reply hook).  Time
 * is always passed in (now_ms) so tests are deterministic.
 *
 * Labels are the corpus's (scripts/corpus_stats.py): sentiment
 * positive|negative|neutral; kind complaint|suggestion|question|praise|other;
 * topic cards|transfers|fees|loans|call_center|app_online|branch|
 * fraud_security|staff|other; risks card_misuse|threat_leave|threat_sue|
 * insolvency_rumour; life events new_child|travel_abroad|wedding|new_home|
 * new_job|studies.
 */
#ifndef SB_LISTENING_H
#define SB_LISTENING_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "store/store.h"
#include "text/text.h"

/* ---- vocabularies -------------------------------------------------------- */
/* True if `name` is a known source (twitter, instagram, telegram, linkedin,
 * facebook, forum, app_store, google_play, own_channel, messenger, news,
 * youtube, vk). */
bool listening_source_valid(const char *name);
/* True if label is valid for head ("sentiment", "kind" or "topic"). */
bool listening_label_valid(const char *head, const char *label);
bool listening_risk_valid(const char *name);
bool listening_life_event_valid(const char *name);
/* The offer a life event suggests ("child_savings", ...); NULL if unknown. */
const char *listening_life_event_offer(const char *life_event);

/* ---- posts ----------------------------------------------------------------- */
/* One post as a connector produced it.  Strings are borrowed (they belong to
 * the record the connector read) and need not outlive listening_ingest. */
typedef struct {
    const char *source;
    const char *external_id;
    const char *author;
    int64_t author_reach;
    int64_t posted_at_ms;
    const char *text;
    size_t text_len;
    int64_t likes;
    int64_t shares;
    int64_t replies;
    char external_id_buf[24]; /* a connector's copy of a numeric id */
} listening_post;

/* ---- understanding: what the text engine fills ---------------------------- */
#define LISTENING_LABEL_BYTES 32
#define LISTENING_TRIGGER_BYTES 96
#define LISTENING_SIGNALS_MAX 8
typedef struct {
    char name[LISTENING_LABEL_BYTES]; /* risk / life event name, or competitor bank */
    int permille;                     /* 0..1000 */
    char trigger[LISTENING_TRIGGER_BYTES];
} listening_signal;
typedef struct {
    char lang[8]; /* "fa", "uk", "ru", "en", "ar", "other" ("" = other) */
    char sentiment[LISTENING_LABEL_BYTES];
    int sentiment_permille;
    char kind[LISTENING_LABEL_BYTES];
    int kind_permille;
    char topic[LISTENING_LABEL_BYTES];
    int topic_permille;
    size_t risk_count;
    listening_signal risks[LISTENING_SIGNALS_MAX];
    size_t life_event_count;
    listening_signal life_events[LISTENING_SIGNALS_MAX];
    size_t competitor_count;
    listening_signal competitors[LISTENING_SIGNALS_MAX];
    char model[64];
} listening_understanding;

/* The text engine behind an interface: fill *out for the redacted text.
 * Return SB_OK, or an error (the post is then stored without understanding
 * and counted in listening_ingest_result.not_understood). */
typedef struct {
    int (*understand)(void *arg, const char *redacted_text, size_t len, listening_understanding *out);
    void *arg;
} listening_understander;

/* The text engine (src/text) behind that interface (listening_text.c):
 * language, the classifier's sentiment/kind/topic heads (a label outside the
 * listening vocabulary, or a head the model lacks, is left empty) and the
 * signals.  One engine serves any number of threads. */
typedef struct listening_text_engine listening_text_engine;
/* Load the model file at model_path.  Errors as text_model_load (err names
 * the problem). */
int listening_text_engine_open(const char *model_path, listening_text_engine **out,
                               char err[TEXT_ERROR_BYTES]) SB_MUST_CHECK;
/* Use a model the caller keeps (it must outlive the engine). SB_ENOMEM. */
int listening_text_engine_wrap(const text_model *model, const char *name, listening_text_engine **out) SB_MUST_CHECK;
void listening_text_engine_free(listening_text_engine *e);
/* The understander over e (borrowed: e must outlive its use). */
listening_understander listening_text_understander(listening_text_engine *e);

/* ---- alerts ------------------------------------------------------------------ */
typedef struct {
    int64_t id;
    char metric[64]; /* "negative" or "risk:insolvency_rumour" */
    int64_t raised_at_ms;
    int64_t window_start_ms;
    int64_t observed;         /* posts in the last hour */
    double baseline_per_hour; /* mean of the previous baseline_hours */
    int64_t baseline_hours;
    double p_value;          /* Poisson P(X >= observed | baseline) */
    double p_threshold;      /* alert when p_value < p_threshold ... */
    int64_t min_count;       /* ... and observed >= min_count */
    int64_t threshold_count; /* smallest count that would have alerted */
} listening_alert;
/* Where alerts go (the server's WebSocket and webhook fill it later).  Called
 * after the alert row is committed; its result is logged, not propagated. */
typedef struct {
    int (*raise)(void *arg, const listening_alert *alert);
    void *arg;
} listening_alert_sink;

/* Delivers a reply to a messenger user (the messenger module fills it).
 * SB_OK marks the reply delivered; anything else leaves it pending. */
typedef struct {
    int (*deliver)(void *arg, int64_t case_id, const char *author, const char *text);
    void *arg;
} listening_reply_hook;

/* ---- the context --------------------------------------------------------------- */
#define LISTENING_KEY_BYTES 32
typedef struct {
    bool store_raw;                             /* keep the raw text, sealed */
    unsigned char raw_key[LISTENING_KEY_BYTES]; /* secretbox key when store_raw */
    listening_understander understander;        /* understand may be NULL */
    listening_alert_sink alert_sink;            /* raise may be NULL */
    listening_reply_hook reply_hook;            /* deliver may be NULL */
    /* An outbound connector is running (listening_outbound_start): replies to
     * external networks wait for it as 'pending' instead of 'to_post'. */
    bool outbound;
    /* Alert test parameters (0 = the defaults in limits.h). */
    int64_t alert_baseline_hours;
    int64_t alert_min_count;
    double alert_p_threshold;
} listening_config;

typedef struct listening listening;
/* Create a context over `s` (borrowed; must outlive the context).  cfg is
 * copied (NULL = defaults: no raw storage, no interfaces).  SB_ENOMEM. */
int listening_open(store *s, const listening_config *cfg, listening **out) SB_MUST_CHECK;
/* Wipe the key and free. NULL allowed. */
void listening_close(listening *l);

/* Load the 32-byte raw-text key: from the file at `path` (32 raw bytes, or
 * 64 hex characters and an optional newline) or, when path is NULL, from the
 * environment variable SOCIALBANK_LISTENING_KEY (64 hex characters).
 * SB_ENOTFOUND if neither is there, SB_EINVAL for a malformed key, SB_EIO. */
int listening_key_load(const char *path, unsigned char key_out[LISTENING_KEY_BYTES]) SB_MUST_CHECK;

/* ---- ingest ---------------------------------------------------------------------- */
/* Why a row was rejected: a stable name (static string) and its index. */
typedef struct {
    size_t index;
    const char *reason;
} listening_rejection;

typedef struct {
    size_t accepted;   /* new posts stored */
    size_t duplicates; /* merged into an existing post */
    size_t rejected;
    size_t not_understood; /* stored, but the understander failed or is absent */
    size_t cases_opened;
    size_t cases_joined;
    size_t leads;
    /* Caller-provided array (may be NULL) receiving the first
     * rejections_cap rejections; `rejected` counts them all. */
    listening_rejection *rejections;
    size_t rejections_cap;
} listening_ingest_result;

/* Check one post against every limit; *reason_out gets a stable name
 * ("unknown_source", "missing_external_id", "text_too_long", "invalid_utf8",
 * ...).  SB_OK or SB_EINVAL/SB_ELIMIT.  now_ms bounds times in the future. */
int listening_post_check(const listening_post *post, int64_t now_ms, const char **reason_out) SB_MUST_CHECK;

/* Ingest a batch (at most SB_LISTENING_BATCH_POSTS_MAX) in one transaction.
 * Each bad row is rejected with its reason and the rest still land; a new
 * post is redacted, sealed (if configured), understood, stored, counted in
 * the statistics, matched against the rules and may raise a lead; a
 * duplicate (source, external_id) merges its counts (the larger wins) and
 * reach.  `result` counts are reset first.  Errors: SB_ELIMIT for too many
 * posts (nothing stored), a store error (everything rolled back). */
int listening_ingest(listening *l, const listening_post *posts, size_t count, int64_t now_ms,
                     listening_ingest_result *result) SB_MUST_CHECK;

/* Store (or replace) the understanding of a stored post: statistics move,
 * rules run, leads may appear.  SB_ENOTFOUND, SB_EINVAL for bad labels. */
int listening_understanding_set(listening *l, int64_t post_id, const listening_understanding *u,
                                int64_t now_ms) SB_MUST_CHECK;
/* Validate an understanding's labels, ranges and strings. SB_EINVAL. */
int listening_understanding_check(const listening_understanding *u) SB_MUST_CHECK;

/* The stored post id for (source, external_id). SB_ENOTFOUND. */
int listening_post_find(listening *l, const char *source, const char *external_id, int64_t *post_id_out) SB_MUST_CHECK;
/* The raw text of a post, unsealed: *out is owned by the caller (sb_free).
 * SB_ENOTFOUND if the post or its raw text is absent, SB_ECORRUPT if the
 * key does not open it, SB_EPERM if raw storage is off in this context. */
int listening_post_raw(listening *l, int64_t post_id, char **out, size_t *len_out) SB_MUST_CHECK;

/* ---- redaction and sealing ---------------------------------------------------- */
typedef struct {
    size_t cards, phones, national_ids, ibans, emails;
} listening_redaction_counts;
/* Replace card numbers, phone numbers, Iranian national IDs, IBAN/Sheba and
 * e-mail addresses in `text` (valid UTF-8, len bytes) by [card] [phone]
 * [national_id] [iban] [email].  out is reset and filled (its max must allow
 * 3*len+16 bytes).  counts may be NULL.  SB_EINVAL for invalid UTF-8,
 * SB_ELIMIT for text over SB_LISTENING_TEXT_BYTES_MAX, SB_ENOMEM. */
int listening_redact(const char *text, size_t len, sb_buf *out, listening_redaction_counts *counts) SB_MUST_CHECK;
/* Luhn check over ASCII digits. */
bool listening_luhn_valid(const char *digits, size_t count);
/* Iranian national ID check digit over 10 ASCII digits. */
bool listening_national_id_valid(const char *digits10);

/* Seal `len` bytes with secretbox under key: *out (nonce || box, owned by
 * the caller) of *out_len bytes.  SB_ENOMEM, SB_ELIMIT. */
int listening_seal(const unsigned char key[LISTENING_KEY_BYTES], const void *plain, size_t len, unsigned char **out,
                   size_t *out_len) SB_MUST_CHECK;
/* Open a sealed blob: *out is NUL-terminated, owned by the caller.
 * SB_ECORRUPT for a wrong key or a damaged blob. */
int listening_unseal(const unsigned char key[LISTENING_KEY_BYTES], const void *sealed, size_t len, char **out,
                     size_t *out_len) SB_MUST_CHECK;

/* ---- CSV ------------------------------------------------------------------------- */
/* RFC 4180 reader without recursion: quoted fields, "" escapes, newlines
 * inside quotes, CRLF or LF, a UTF-8 BOM at the start, bounded field size
 * and field count.  The caller feeds the whole input (a file mapped or
 * read) and pulls rows; fields point into the reader's own buffer, valid
 * until the next call. */
typedef struct {
    const char *data;
    size_t len;
    size_t pos;
    size_t line;      /* 1-based line where the current row started */
    size_t next_line; /* the line at pos */
    char *scratch;    /* owned: unescaped field bytes */
    size_t scratch_cap;
    size_t field_count;
    const char *fields[SB_LISTENING_CSV_FIELDS_MAX];
    size_t field_lens[SB_LISTENING_CSV_FIELDS_MAX];
} listening_csv_reader;
/* Borrow `data` (must outlive the reader).  SB_ENOMEM. */
int listening_csv_init(listening_csv_reader *r, const char *data, size_t len) SB_MUST_CHECK;
void listening_csv_free(listening_csv_reader *r);
/* Read the next row.  Returns STORE_ROW-like 1 for a row, 0 at the end, or
 * SB_EINVAL (unterminated quote, junk after a closing quote) / SB_ELIMIT
 * (field or row too large, too many fields); *reason_out names it.  After an
 * error the reader has skipped to the next line, so reading may go on. */
int listening_csv_next(listening_csv_reader *r, const char **reason_out) SB_MUST_CHECK;

/* ---- connectors -------------------------------------------------------------------- */
/* A connector turns one record into a post.  Fields it sets point into the
 * record (the JSON object or the CSV row) and live as long as it.  A new
 * network or export format is one new file with one of these. */
typedef struct listening_connector {
    const char *name;
    /* From a JSON object; NULL if the connector does not read JSON. */
    int (*from_json)(const struct listening_connector *c, const json_t *record, listening_post *out,
                     const char **reason_out);
    /* From a CSV row given its header row; NULL if it does not read CSV. */
    int (*from_csv)(const struct listening_connector *c, const size_t *column_of_field, const listening_csv_reader *row,
                    listening_post *out, const char **reason_out);
} listening_connector;
/* The generic connectors (listening_connector.c): one JSON object a line
 * and a CSV export with a header row.  Fields: source, external_id (id),
 * author (author_handle, handle, user), author_reach (followers, reach),
 * posted_at (time, created_at: RFC 3339 text or epoch milliseconds),
 * text (message, body), likes, shares (reposts, retweets), replies (comments). */
extern const listening_connector listening_connector_jsonl;
extern const listening_connector listening_connector_csv;
/* The fields a CSV header may name, in this order (column_of_field index). */
enum {
    LISTENING_FIELD_SOURCE,
    LISTENING_FIELD_EXTERNAL_ID,
    LISTENING_FIELD_AUTHOR,
    LISTENING_FIELD_REACH,
    LISTENING_FIELD_TIME,
    LISTENING_FIELD_TEXT,
    LISTENING_FIELD_LIKES,
    LISTENING_FIELD_SHARES,
    LISTENING_FIELD_REPLIES,
    LISTENING_FIELD_COUNT
};
/* Map the header row's columns to fields: column_of_field[f] is the column
 * index or SIZE_MAX.  SB_EINVAL if text or external_id is missing. */
int listening_csv_map_header(const listening_csv_reader *header,
                             size_t column_of_field[LISTENING_FIELD_COUNT]) SB_MUST_CHECK;
/* The largest integer time read as epoch seconds (9999999999 s is the year
 * 2286); anything larger is epoch milliseconds (1e10 ms is 1970-04-26, long
 * before SB_LISTENING_TIME_MIN_MS, so no post time is ambiguous). */
#define LISTENING_EPOCH_SECONDS_MAX 9999999999LL
/* Parse "2026-11-23T09:40:00Z" (or a space for T), with an optional
 * fraction and a Z or +hh:mm offset, or an integer text: epoch seconds up to
 * LISTENING_EPOCH_SECONDS_MAX, else epoch milliseconds.  A JSON integer time
 * follows the same rule.  SB_EINVAL. */
int listening_time_parse(const char *text, size_t len, int64_t *ms_out) SB_MUST_CHECK;

/* ---- file formats and the importer ------------------------------------------------- */
/* A file format reads a whole export (a file mapped or read into memory)
 * record after record.  Adding a network or a changed export is one new
 * file defining a listening_format, plus its line in listening_formats[]
 * (listening_formats.c).  State is the format's own; records come back in
 * file order with the 1-based line where each starts. */
typedef struct listening_format {
    const char *name;      /* "jsonl", "csv", "telegram" (--format) */
    const char *extension; /* file name ending picked by default: "jsonl", "csv", "json" */
    const char *summary;   /* one line for --help */
    /* Start reading data[0..len) (borrowed: it outlives the state).
     * SB_EINVAL with *reason_out when the file as a whole is unusable (a CSV
     * header without text or id, not a Telegram export), SB_ENOMEM. */
    int (*open)(const char *data, size_t len, void **state_out, const char **reason_out);
    /* The next record: 1 with *out filled (its strings live until the next
     * call) and *reason_out NULL; 1 with *reason_out set for a record that
     * could not be read (bad JSON, a malformed CSV line, invalid UTF-8): the
     * caller rejects it and reads on; 0 at the end; a negative SB_E* for a
     * failure that stops the file (SB_ENOMEM).  *line_out gets the line. */
    int (*next)(void *state, listening_post *out, size_t *line_out, const char **reason_out);
    void (*close)(void *state); /* NULL allowed */
    /* Bytes of data read so far (for progress). */
    size_t (*position)(void *state);
} listening_format;

/* The registered formats, NULL-terminated (listening_formats.c). */
extern const listening_format *const listening_formats[];
extern const listening_format listening_format_jsonl;
extern const listening_format listening_format_csv;
/* A Telegram Desktop chat or channel export (result.json): listening_telegram.c. */
extern const listening_format listening_format_telegram;
/* The format named `name`, or NULL. */
const listening_format *listening_format_find(const char *name);
/* The format whose extension ends `path` (case-insensitive, after the last
 * '.'), or NULL. */
const listening_format *listening_format_for_path(const char *path);

/* Ingest, split in two stages so that understanding (the expensive part)
 * can run on other threads than the store: listening_prepare needs no store
 * (check, redact, seal, understand), listening_ingest_prepared stores a
 * prepared batch in one transaction.  listening_ingest is both in turn. */
typedef struct listening_prepared listening_prepared;
/* Prepare up to SB_LISTENING_BATCH_POSTS_MAX posts with l's configuration
 * only (its store is not touched, so any thread may call it while another
 * uses the store, as long as the understander is thread-safe; the text
 * engine's is).  Everything needed is copied: posts may go after the call.
 * *out is owned by the caller (listening_prepared_free).  SB_ELIMIT for too
 * many posts, SB_ENOMEM. */
int listening_prepare(const listening *l, const listening_post *posts, size_t count, int64_t now_ms,
                      listening_prepared **out) SB_MUST_CHECK;
void listening_prepared_free(listening_prepared *p);
/* Store a prepared batch in one transaction with the semantics of
 * listening_ingest (rejections carry the index within the batch). */
int listening_ingest_prepared(listening *l, const listening_prepared *p, int64_t now_ms,
                              listening_ingest_result *result) SB_MUST_CHECK;

/* Importing a whole file (listening_import.c): records are read, copied
 * into batches of batch_posts, prepared on `threads` worker threads (0:
 * inline) and stored in file order on the caller's thread, one transaction
 * a batch.  A bad record never stops the rest. */
#define LISTENING_IMPORT_REASONS_MAX 48
#define LISTENING_IMPORT_FIRST_REJECTIONS 10
typedef struct {
    size_t line;
    const char *reason; /* static string */
} listening_import_rejection;
typedef struct {
    size_t records; /* read from the file, rejected ones included */
    size_t accepted, duplicates, rejected, not_understood, cases_opened, cases_joined, leads;
    size_t batches;
    /* Rejections per reason, in order of first appearance. */
    size_t reason_count;
    struct {
        const char *reason;
        size_t count;
    } reasons[LISTENING_IMPORT_REASONS_MAX];
    /* The first rejected records with their lines. */
    size_t first_count;
    listening_import_rejection first[LISTENING_IMPORT_FIRST_REJECTIONS];
} listening_import_result;
typedef struct {
    size_t batch_posts;         /* 0 = 1000; at most SB_LISTENING_BATCH_POSTS_MAX */
    int threads;                /* understanding workers; 0 = inline */
    const char *default_source; /* for records without a source (NULL: none) */
    /* Called after each stored batch (bytes of data read so far). */
    void (*progress)(void *arg, size_t bytes_done, size_t bytes_total, const listening_import_result *sofar);
    void *progress_arg;
} listening_import_options;
/* Import data[0..len) read as format f.  *result is filled even on error
 * (what was committed before it).  SB_EINVAL with *reason_out (may be NULL)
 * when the format cannot open the file, SB_EINVAL for bad options, a store
 * error (the failing batch is rolled back; earlier batches stay), SB_ENOMEM,
 * SB_EINTERNAL when a thread cannot start. */
int listening_import(listening *l, const listening_format *f, const char *data, size_t len,
                     const listening_import_options *options, int64_t now_ms, listening_import_result *result,
                     const char **reason_out) SB_MUST_CHECK;

/* ---- the bank's own channel ------------------------------------------------------- */
/* A comment on the bank's channel as a post (listening_channel.c): source
 * own_channel, external id "CHAT/SEQ", author "user:ID", reach 0.  Strings
 * point into ids_buf (LISTENING_CHANNEL_IDS_BYTES) and text. */
#define LISTENING_CHANNEL_IDS_BYTES 96
void listening_channel_post(int64_t chat_id, int64_t seq, int64_t sender_id, int64_t created_at_ms, const char *text,
                            listening_post *out, char ids_buf[LISTENING_CHANNEL_IDS_BYTES]);

/* The feed: posts handed over by a thread that must not wait for the store
 * (the HTTP thread a channel comment arrives on) go into a bounded queue;
 * one feed thread, with its own store connection and listening context,
 * drains it in batches through listening_ingest.  When the queue is full a
 * post is dropped, counted and logged (the comment itself is safe in the
 * messenger; HTTP never slows down for listening). */
typedef struct listening_feed listening_feed;
typedef struct {
    uint64_t queued;   /* accepted into the queue */
    uint64_t accepted; /* stored as new posts */
    uint64_t duplicates, rejected, not_understood;
    uint64_t dropped; /* the queue was full */
    uint64_t failed;  /* lost to a store error */
} listening_feed_stats;
/* Start a feed over the store at `location` (opened by the feed thread)
 * with cfg (copied; its understander must outlive the feed) and room for
 * queue_max posts (1..SB_LISTENING_FEED_QUEUE_MAX).  SB_EINVAL, SB_ENOMEM,
 * SB_EINTERNAL if the thread cannot start.  *out: listening_feed_stop. */
int listening_feed_start(const char *location, const listening_config *cfg, size_t queue_max,
                         listening_feed **out) SB_MUST_CHECK;
/* Queue a copy of post; never waits for the store.  SB_EBUSY when the
 * queue is full (dropped and counted), SB_ECLOSED once stopping, SB_ENOMEM.
 * Thread-safe. */
int listening_feed_push(listening_feed *f, const listening_post *post) SB_MUST_CHECK;
void listening_feed_stats_get(listening_feed *f, listening_feed_stats *out);
/* Wait until everything queued so far has been handled.  SB_ETIMEOUT. */
int listening_feed_flush(listening_feed *f, int64_t timeout_ms) SB_MUST_CHECK;
/* Store what is still queued (for at most SB_LISTENING_FEED_STOP_WAIT_MS),
 * end the thread, free.  NULL allowed. */
void listening_feed_stop(listening_feed *f);
/* Its worker, for /metrics (NULL for NULL). */
sb_worker *listening_feed_worker(listening_feed *f);

/* ---- delivery: alerts (listening_alerts.c) ------------------------------------------ */
/* How delivery reaches people's open connections without depending on the
 * api: push a JSON text (len bytes, copied) to every open WebSocket of the
 * count users (those without one are skipped).  SB_ECLOSED when the server
 * is not running; other SB_E* codes are logged by the caller. */
typedef int (*listening_push_text_fn)(void *arg, const int64_t *user_ids, size_t count, const char *text, size_t len);
/* The alert sender: a worker (core's sb_worker) that pushes every alert to
 * the analysts and admins ({"type":"listening.alert","alert":{...}})
 * through push (push_arg; NULL push: no pushes) and POSTs it as JSON to
 * webhook_url (http(s)://HOST[:PORT][/PATH], NULL for none; ca_file NULL:
 * the system's CAs) with timeouts and retries.  Its thread opens its own
 * store connection to data_location (the staff list).  SB_EINVAL for a bad
 * URL, SB_ENOMEM, SB_EINTERNAL.  *out: listening_alerts_stop. */
typedef struct listening_alerts listening_alerts;
int listening_alerts_start(const char *data_location, const char *webhook_url, const char *ca_file,
                           listening_push_text_fn push, void *push_arg, listening_alerts **out) SB_MUST_CHECK;
/* Its worker, for /metrics (NULL for NULL). */
sb_worker *listening_alerts_worker(listening_alerts *alerts);
/* Deliver what is queued (at most SB_LISTENING_ALERT_STOP_WAIT_MS), stop,
 * join, free.  NULL allowed. */
void listening_alerts_stop(listening_alerts *alerts);
/* The sink that queues for that sender (raise never blocks; a full queue
 * drops the alert with a log line: the alert row stays in the store).
 * NULL alerts: a sink without raise. */
listening_alert_sink listening_alerts_sink(listening_alerts *alerts);

/* ---- corrections -------------------------------------------------------------------- */
/* Record an analyst's label for a post's head ("sentiment", "kind",
 * "topic"); it wins over the model's label everywhere (the view
 * listening_effective), statistics move with it.  SB_EINVAL, SB_ENOTFOUND. */
int listening_correct(listening *l, int64_t post_id, const char *head, const char *label, const char *analyst,
                      int64_t now_ms) SB_MUST_CHECK;
/* The effective label of a post's head into out (LISTENING_LABEL_BYTES). */
int listening_label_get(listening *l, int64_t post_id, const char *head, char out[LISTENING_LABEL_BYTES]) SB_MUST_CHECK;
/* Append every corrected post as training JSONL to `out` (one
 * {"text":...,"lang":...,"sentiment":...,"kind":...,"topic":...} a line, the
 * redacted text, effective labels); *rows_out (may be NULL) gets the count. */
int listening_corrections_export(listening *l, sb_buf *out, size_t *rows_out) SB_MUST_CHECK;

/* ---- erasure -------------------------------------------------------------------- */
typedef struct {
    size_t posts, cases, consents;
} listening_erase_result;
/* Erase an author on one source: posts (with understanding, signals,
 * corrections, leads, raw text), their cases (events, replies, departments),
 * their consents, and their contribution to the statistics.  One
 * transaction.  result may be NULL. */
int listening_erase_author(listening *l, const char *source, const char *author,
                           listening_erase_result *result) SB_MUST_CHECK;

/* ---- business hours ------------------------------------------------------------------ */
typedef struct {
    int start_minute, end_minute; /* local, [start, end) */
} listening_period;
typedef struct {
    int utc_offset_minutes;
    size_t period_count[7]; /* weekday 0 = Sunday */
    listening_period periods[7][SB_LISTENING_PERIODS_PER_DAY_MAX];
} listening_calendar;
/* Add a period to a weekday, kept sorted; SB_EINVAL for overlap or bad
 * minutes, SB_ELIMIT when the day is full. */
int listening_calendar_add(listening_calendar *cal, int weekday, int start_minute, int end_minute) SB_MUST_CHECK;
/* The instant at which `business_ms` of open time after start_ms has
 * elapsed.  SB_EINVAL for an empty calendar, SB_ELIMIT past
 * SB_LISTENING_CALENDAR_DAYS_MAX days. */
int listening_business_add(const listening_calendar *cal, int64_t start_ms, int64_t business_ms,
                           int64_t *out_ms) SB_MUST_CHECK;
/* Open time in [from_ms, to_ms) (0 if to <= from). SB_ELIMIT as above. */
int listening_business_between(const listening_calendar *cal, int64_t from_ms, int64_t to_ms,
                               int64_t *out_ms) SB_MUST_CHECK;
/* Load a department's calendar. SB_ENOTFOUND. */
int listening_calendar_load(listening *l, const char *department, listening_calendar *out) SB_MUST_CHECK;

/* ---- rules and cases ------------------------------------------------------------------ */
typedef struct {
    const char *name;
    const char *kind, *sentiment, *topic, *risk, *source; /* NULL = any */
    int min_permille;
    const char *priority; /* urgent|high|normal|low */
    const char *departments[SB_LISTENING_RULE_DEPARTMENTS_MAX];
    size_t department_count;
} listening_rule;
/* Create a rule (id out, may be NULL).  SB_EINVAL for unknown labels,
 * departments or priority; SB_EEXISTS for a taken name. */
int listening_rule_add(listening *l, const listening_rule *rule, int64_t now_ms, int64_t *id_out) SB_MUST_CHECK;
/* Enable or disable a rule. SB_ENOTFOUND. */
int listening_rule_enable(listening *l, int64_t rule_id, bool enabled, int64_t now_ms) SB_MUST_CHECK;
/* Delete one rule (its department links go with it). SB_ENOTFOUND. */
int listening_rule_delete(listening *l, int64_t rule_id) SB_MUST_CHECK;
/* Append every rule as a JSON array to out (for the admin API):
 * [{"id":1,"name":"...","enabled":true,"kind":null,...,"min_permille":600,
 *   "priority":"normal","departments":["support"]}, ...]. */
int listening_rules_json(listening *l, sb_buf *out) SB_MUST_CHECK;
/* Delete every rule (an admin replacing the set, and tests). */
int listening_rules_clear(listening *l) SB_MUST_CHECK;

/* Create or update a department with its calendar and reassignment time. */
int listening_department_set(listening *l, const char *name, const listening_calendar *cal,
                             int reassign_after_minutes) SB_MUST_CHECK;
/* Add an agent to a department's pool. */
int listening_agent_add(listening *l, const char *department, const char *agent) SB_MUST_CHECK;

typedef enum {
    LISTENING_CASE_OPEN,
    LISTENING_CASE_ACKNOWLEDGED,
    LISTENING_CASE_WAITING,
    LISTENING_CASE_RESOLVED,
} listening_case_state;
const char *listening_case_state_name(listening_case_state state);

/* The case a post belongs to. SB_ENOTFOUND. */
int listening_case_of_post(listening *l, int64_t post_id, int64_t *case_id_out) SB_MUST_CHECK;
/* Move a case to a state (acknowledged, waiting, resolved, or open again =
 * reopen).  Resolving stops every department's clock; reopening restarts
 * it with the business time left.  SB_ECONFLICT for a no-op move,
 * SB_ENOTFOUND. */
int listening_case_set_state(listening *l, int64_t case_id, listening_case_state state, const char *actor,
                             int64_t now_ms) SB_MUST_CHECK;
/* Assign to an agent (recorded as activity). */
int listening_case_assign(listening *l, int64_t case_id, const char *agent, const char *actor,
                          int64_t now_ms) SB_MUST_CHECK;
/* An internal note. */
int listening_case_note(listening *l, int64_t case_id, const char *actor, const char *text,
                        int64_t now_ms) SB_MUST_CHECK;
/* A reply by `agent`: for a messenger post the reply hook delivers it (or it
 * stays pending); for a comment on the bank's channel (own_channel) it is
 * recorded 'pending' on channel 'channel' with the comment's CHAT/SEQ in
 * in_reply_to, for the caller to post under the comment
 * (listening_reply_delivery_set); for an external network it waits for the
 * outbound connector ('pending', when cfg.outbound) or is recorded to post
 * ('to_post').  Counts as the agent's activity.  *reply_id_out may be NULL. */
int listening_case_reply(listening *l, int64_t case_id, const char *agent, const char *text, int64_t now_ms,
                         int64_t *reply_id_out) SB_MUST_CHECK;
/* A department's deadline for a case (NULL-clock: SB_ENOTFOUND). */
int listening_case_deadline(listening *l, int64_t case_id, const char *department,
                            int64_t *deadline_ms_out) SB_MUST_CHECK;

typedef struct {
    size_t escalated;
    size_t reassigned;
    size_t alerts;
} listening_tick_result;
/* Apply what time decides, deterministically for now_ms: escalate every
 * department whose deadline passed (once per deadline), reassign cases
 * whose agent has been silent past the department's time, and check the
 * alert metrics.  result may be NULL. */
int listening_tick(listening *l, int64_t now_ms, listening_tick_result *result) SB_MUST_CHECK;

/* ---- reputation ------------------------------------------------------------------ */
/* Drop and rebuild every statistic from the posts (after a bulk repair). */
int listening_stats_recompute(listening *l) SB_MUST_CHECK;
typedef struct {
    int64_t posts, positive, negative, neutral;
} listening_stat;
/* Counts of one bucket: granularity "hour"/"day", bucket start (UTC),
 * dimension "all"/"source"/"topic"/"lang"/"competitor"/"risk" and value
 * ("" for all).  Absent buckets are zero. */
int listening_stat_get(listening *l, const char *granularity, int64_t bucket_ms, const char *dimension,
                       const char *value, listening_stat *out) SB_MUST_CHECK;
/* Check the alert metrics at now_ms (listening_tick calls it).  *raised_out
 * (may be NULL) gets the number of new alerts. */
int listening_alerts_check(listening *l, int64_t now_ms, size_t *raised_out) SB_MUST_CHECK;
/* Poisson upper tail P(X >= k) for mean lambda (> 0). */
double listening_poisson_upper_tail(int64_t k, double lambda);
/* Most recent alerts, newest first, up to cap; *count_out. */
int listening_alerts_list(listening *l, listening_alert *out, size_t cap, size_t *count_out) SB_MUST_CHECK;

/* ---- suggestions ---------------------------------------------------------------- */
#define LISTENING_PHRASE_BYTES 128
#define LISTENING_EXAMPLES_MAX 3
#define LISTENING_GROUP_LANGS_MAX 6
typedef struct {
    char kind[LISTENING_LABEL_BYTES];
    char topic[LISTENING_LABEL_BYTES];
    char phrase[LISTENING_PHRASE_BYTES]; /* two words, space-separated, or the concept's English label */
    char concept[LISTENING_LABEL_BYTES]; /* the lexicon idea ("dark_theme"), "" for a word pair */
    size_t lang_count;                   /* languages of the group's posts */
    char langs[LISTENING_GROUP_LANGS_MAX][8];
    size_t count; /* posts in the group */
    size_t example_count;
    int64_t examples[LISTENING_EXAMPLES_MAX]; /* post ids */
} listening_suggestion_group;
/* Group suggestions and complaints posted in [from_ms, to_ms) by topic and
 * idea.  Ideas in the multilingual concept lexicon (listening_insight.c:
 * word stems in en/uk/ru/fa) come first, so the same idea in any language
 * is one group (its concept and languages set, examples one per language
 * first); other posts group by key phrase: per (kind, topic) the word bigrams (stop words removed, per
 * language) are scored by how many posts of the group use them and how
 * distinctive they are against all posts of the period; each post joins its
 * best phrase, and groups with at least min_count posts are returned,
 * largest first, up to cap.  SB_ELIMIT past SB_LISTENING_SUGGEST_POSTS_MAX. */
int listening_suggestions(listening *l, int64_t from_ms, int64_t to_ms, size_t min_count,
                          listening_suggestion_group *out, size_t cap, size_t *count_out) SB_MUST_CHECK;
/* True if `word` (lowercase UTF-8) is a stop word for lang. */
bool listening_stop_word(const char *lang, const char *word, size_t len);

/* ---- advocates and leads ------------------------------------------------------------ */
typedef struct {
    char source[LISTENING_LABEL_BYTES];
    char author[SB_LISTENING_AUTHOR_BYTES_MAX + 1];
    int64_t positive_posts;
    int64_t reach;
    double score; /* positive_posts * log(1 + reach) */
} listening_advocate;
/* Authors ranked by score (ties by name), up to cap. */
int listening_advocates(listening *l, listening_advocate *out, size_t cap, size_t *count_out) SB_MUST_CHECK;

/* Record that customer_id consents to their `handle` on `source` being
 * linked (offers from life events).  *id_out may be NULL. */
int listening_consent_add(listening *l, int64_t customer_id, const char *source, const char *handle, int64_t now_ms,
                          int64_t *id_out) SB_MUST_CHECK;
/* Withdraw every active consent of the handle on the source: no new leads;
 * existing leads of that customer are deleted.  SB_ENOTFOUND. */
int listening_consent_withdraw(listening *l, const char *source, const char *handle, int64_t now_ms) SB_MUST_CHECK;

/* ---- the server side: API keys, queries as JSON, thanks (listening_api.c) ----
 * What the HTTP routes (src/api/routes_listening.c) need beyond the domain
 * calls above.  Every *_json function sets *out to a new JSON value owned by
 * the caller (json_decref) or leaves it NULL on error. */

/* A per-source API key for POST /api/ingest. */
#define LISTENING_API_KEY_SOURCES_MAX 16
typedef struct {
    int64_t id;
    char name[SB_LISTENING_API_KEY_NAME_BYTES_MAX + 1];
    size_t source_count;
    char sources[LISTENING_API_KEY_SOURCES_MAX][SB_LISTENING_SOURCE_BYTES_MAX + 1];
} listening_api_key;
/* Create a key named `name` (1..SB_LISTENING_API_KEY_NAME_BYTES_MAX bytes of
 * UTF-8) bound to `sources` (1..LISTENING_API_KEY_SOURCES_MAX known source
 * names).  The key text (2*SB_TOKEN_BYTES lowercase hex and a NUL) goes to
 * key_out once: only its hash is stored.  *id_out may be NULL.  SB_EINVAL
 * for a bad name, an unknown or repeated source. */
int listening_api_key_create(listening *l, const char *name, const char *const *sources, size_t source_count,
                             const char *created_by, int64_t now_ms, char key_out[2 * SB_TOKEN_BYTES + 1],
                             int64_t *id_out) SB_MUST_CHECK;
/* Authenticate a key text: SB_EAUTH for a malformed, unknown or revoked key,
 * else *out is filled and its last use noted. */
int listening_api_key_check(listening *l, const char *key_text, int64_t now_ms, listening_api_key *out) SB_MUST_CHECK;
/* True if the key may post for source. */
bool listening_api_key_allows(const listening_api_key *key, const char *source);
/* Revoke a key. SB_ENOTFOUND for an unknown or already revoked key. */
int listening_api_key_revoke(listening *l, int64_t key_id, int64_t now_ms) SB_MUST_CHECK;
/* Every key (never its hash): [{"id","name","sources":[...],"created_by",
 * "created_at_ms","last_used_at_ms","revoked_at_ms"}], newest first. */
int listening_api_keys_json(listening *l, json_t **out) SB_MUST_CHECK;

/* Cases, newest first, after a cursor.  NULL filters match anything. */
typedef struct {
    const char *state;      /* open|acknowledged|waiting|resolved */
    const char *department; /* routed to this department */
    const char *priority;   /* urgent|high|normal|low */
    const char *assignee;   /* "" = unassigned */
    int64_t before_id;      /* cursor: only ids below it (0 = from the newest) */
    size_t limit;           /* 1..SB_LISTENING_PAGE_MAX */
} listening_case_filter;
/* {"cases":[{id, source, author, topic, priority, state, assignee,
 * opened_at_ms, last_post_at_ms, resolved_at_ms, reopen_count, posts,
 * departments:[...], next_deadline_ms}], "next_cursor": id or null}.
 * SB_EINVAL for a bad filter value. */
int listening_cases_json(listening *l, const listening_case_filter *filter, json_t **out) SB_MUST_CHECK;
/* One case with its posts (effective labels, signals), departments (budget,
 * deadline, clock, escalation), history (events) and replies. SB_ENOTFOUND. */
int listening_case_json(listening *l, int64_t case_id, json_t **out) SB_MUST_CHECK;
/* One post: redacted text, counts, the model's labels, the effective ones,
 * signals, every correction (who, when) and its case. SB_ENOTFOUND. */
int listening_post_json(listening *l, int64_t post_id, json_t **out) SB_MUST_CHECK;
/* Departments with their calendars, reassignment minutes and agents. */
int listening_departments_json(listening *l, json_t **out) SB_MUST_CHECK;
/* Take an agent out of a department's pool. SB_ENOTFOUND. */
int listening_agent_remove(listening *l, const char *department, const char *agent) SB_MUST_CHECK;
/* Statistic buckets of one granularity and dimension (value NULL = every
 * value) with bucket_ms in [from_ms, to_ms), oldest first, at most
 * SB_LISTENING_STATS_ROWS_MAX: [{bucket_ms, value, posts, positive,
 * negative, neutral, net_sentiment}].  SB_EINVAL for a bad name, SB_ELIMIT
 * for a range over SB_LISTENING_STATS_RANGE_MS_MAX. */
int listening_stats_json(listening *l, const char *granularity, const char *dimension, const char *value,
                         int64_t from_ms, int64_t to_ms, json_t **out) SB_MUST_CHECK;
/* An alert as JSON (shared by the list route, the WebSocket push and the
 * webhook): {"id","metric","raised_at_ms","window_start_ms","observed",
 * "baseline_per_hour","baseline_hours","p_value","p_threshold","min_count",
 * "threshold_count"}.  NULL when out of memory. */
json_t *listening_alert_to_json(const listening_alert *a);
/* Consents (active and withdrawn), newest first, at most SB_LISTENING_PAGE_MAX. */
int listening_consents_json(listening *l, json_t **out) SB_MUST_CHECK;
/* Leads after a cursor (ids below before_id; 0 = newest), with the post's
 * source, author, text and time: {"leads":[...],"next_cursor":...}. */
int listening_leads_json(listening *l, int64_t before_id, size_t limit, json_t **out) SB_MUST_CHECK;

/* Thank an author from the console: for messenger and own_channel authors
 * the reply hook delivers `text` as a message (case_id 0: not about a case;
 * 'pending' if it cannot), for other networks the text is recorded to post.
 * The author must have a stored post on source (SB_ENOTFOUND).  *out gets
 * {"id","source","author","channel","delivery","text"}. */
int listening_advocate_thank(listening *l, const char *source, const char *author, const char *text, const char *by,
                             int64_t now_ms, json_t **out) SB_MUST_CHECK;
/* ---- hand-off from a bot to a human (listening_handoff.c) ------------------------------ */
/* A conversation a bot hands to a human agent.  Strings are borrowed. */
typedef struct {
    const char *source;      /* a known source, normally "messenger" */
    const char *external_id; /* unique per hand-off (e.g. "bankbot:CHAT:SEQ") */
    const char *author;      /* whom replies go to (the reply hook gets it), e.g. "user:42" */
    const char *text;        /* the conversation, as the agent should read it */
    size_t text_len;
    const char *priority;           /* urgent|high|normal|low */
    const char *const *departments; /* 1..SB_LISTENING_RULE_DEPARTMENTS_MAX known departments */
    size_t department_count;
    const char *actor; /* recorded as who opened the case */
} listening_handoff;
/* Store the conversation as a post (redacted, sealed if configured,
 * understood if an understander is set) and open exactly ONE case for it,
 * routed to the given departments (not by the rules) with the priority's
 * deadline, in one transaction.  *case_id_out / *post_id_out may be NULL.
 * SB_EINVAL (a field, an unknown department), SB_ELIMIT (text too long),
 * SB_EEXISTS (this external_id was handed off already: no second case),
 * store errors (nothing written). */
int listening_handoff_open(listening *l, const listening_handoff *h, int64_t now_ms, int64_t *case_id_out,
                           int64_t *post_id_out) SB_MUST_CHECK;

/* ---- the staff console (listening_console.c) ------------------------------------------ */
/* Index a stored post's (redacted) text for full-text search: the text is
 * normalised (text_normalize) and stored in listening_posts_fts under the
 * post's id.  Inside the caller's transaction.  SB_EINVAL for invalid UTF-8. */
int listening_search_index(listening *l, int64_t post_id, const char *text, size_t len) SB_MUST_CHECK;

/* The post stream: posts newest first (by id), after a cursor, filtered.
 * NULL strings and 0 times match anything. */
typedef struct {
    const char *q; /* full-text: every word must occur (the last one as a prefix) */
    const char *lang, *sentiment, *kind, *topic, *source, *risk, *competitor;
    int64_t from_ms, to_ms; /* posted_at in [from_ms, to_ms); 0 = open */
    int64_t before_id;      /* cursor: ids below it (0 = from the newest) */
    size_t limit;           /* 1..SB_LISTENING_PAGE_MAX (export: ..SB_LISTENING_EXPORT_ROWS_MAX) */
} listening_stream_filter;
/* {"posts":[{id, source, author, author_reach, posted_at_ms, text, lang,
 * sentiment, kind, topic, risks:[...], competitors:[...], case_id}],
 * "next_cursor"}.  SB_EINVAL naming nothing more than a bad value (the
 * route checks names first), SB_ELIMIT for a query over the limits. */
int listening_stream_json(listening *l, const listening_stream_filter *f, json_t **out) SB_MUST_CHECK;
/* The same rows as CSV (RFC 4180, a header row, CRLF; a cell starting with
 * = + - @ is prefixed with ' so spreadsheets do not run it) appended to out;
 * *rows_out counts them. */
int listening_stream_csv(listening *l, const listening_stream_filter *f, sb_buf *out, size_t *rows_out) SB_MUST_CHECK;

/* Saved views of the stream, per owner: query is a JSON object text of at
 * most SB_LISTENING_VIEW_QUERY_BYTES_MAX bytes (the route checks its
 * fields).  SB_EEXISTS for a taken name (per owner), SB_ELIMIT past
 * SB_LISTENING_VIEWS_PER_OWNER_MAX, SB_EINVAL. */
int listening_view_save(listening *l, const char *owner, const char *name, const char *query, int64_t now_ms,
                        int64_t *id_out) SB_MUST_CHECK;
/* {"views":[{id, name, query:{...}, created_at_ms}]} of owner, by name. */
int listening_views_json(listening *l, const char *owner, json_t **out) SB_MUST_CHECK;
/* Delete one of owner's views. SB_ENOTFOUND (also another owner's). */
int listening_view_delete(listening *l, const char *owner, int64_t id) SB_MUST_CHECK;

/* The audit log of staff views of customers' data (append-only). */
int listening_audit_add(listening *l, const char *actor, const char *action, int64_t customer_id, const char *source,
                        const char *author, int64_t case_id, const char *detail, int64_t now_ms) SB_MUST_CHECK;
/* {"entries":[{id, at_ms, actor, action, customer_id, source, author,
 * case_id, detail}], "next_cursor"}, newest first; customer_id > 0 keeps
 * that customer's entries only. */
int listening_audit_json(listening *l, int64_t customer_id, int64_t before_id, size_t limit,
                         json_t **out) SB_MUST_CHECK;

/* May username see linked customers' payments (an admin's grant)? */
int listening_staff_grant_set(listening *l, const char *username, bool payments, const char *by,
                              int64_t now_ms) SB_MUST_CHECK;
int listening_staff_grant_payments(listening *l, const char *username, bool *payments_out) SB_MUST_CHECK;
/* {"username": {"payments": true}, ...} of every grant. */
int listening_staff_grants_json(listening *l, json_t **out) SB_MUST_CHECK;

/* Who wrote a case, and which customer that is: a messenger or own_channel
 * author "user:N" is customer N; another network's handle is the customer
 * of its newest consent while that consent is active.  *customer_id_out is
 * 0 when nobody is linked.  The case's panel data: {"source","author",
 * "consent": null or {id, customer_id, consented_at_ms, withdrawn_at_ms,
 * active}, "earlier_cases":[{id, topic, state, opened_at_ms}], "posts":
 * [{id, source, text, posted_at_ms, sentiment}]} (the author's other cases
 * and their newest posts on the source, at most SB_LISTENING_PANEL_ITEMS_MAX
 * each).  SB_ENOTFOUND for an unknown case. */
int listening_case_customer_json(listening *l, int64_t case_id, int64_t now_ms, int64_t *customer_id_out,
                                 json_t **out) SB_MUST_CHECK;

/* Canned replies per language (fa, uk, ru, en) with {name}, {case} and
 * {agent} in the text. */
int listening_canned_set(listening *l, const char *shortcut, const char *lang, const char *text, const char *by,
                         int64_t now_ms, int64_t *id_out) SB_MUST_CHECK;
int listening_canned_delete(listening *l, int64_t id) SB_MUST_CHECK;
/* {"canned":[{id, shortcut, lang, text, updated_by, updated_at_ms}]} for
 * lang (NULL = every language), by shortcut. */
int listening_canned_json(listening *l, const char *lang, json_t **out) SB_MUST_CHECK;
/* The template of (shortcut, lang) with its variables filled: *out is the
 * caller's (sb_free).  SB_ENOTFOUND, SB_EINVAL for a variable other than
 * {name} {case} {agent} (*bad_out names it, may be NULL), SB_ELIMIT when the
 * reply would pass SB_LISTENING_NOTE_BYTES_MAX. */
int listening_canned_render(listening *l, const char *shortcut, const char *lang, const char *name, int64_t case_id,
                            const char *agent, char **out, const char **bad_out) SB_MUST_CHECK;
/* Check a template's variables; SB_EINVAL with *bad_out the first unknown. */
int listening_canned_check(const char *text, const char **bad_out) SB_MUST_CHECK;

/* A reply's delivery: 'delivered', 'sent', 'failed' or 'pending' again with
 * attempts, the next attempt's time (0 = none) and the last error ("" =
 * none).  SB_ENOTFOUND. */
int listening_reply_delivery_set(listening *l, int64_t reply_id, const char *delivery, int64_t attempts,
                                 int64_t next_attempt_ms, const char *error, int64_t now_ms) SB_MUST_CHECK;
/* One reply's channel and in_reply_to (CHAT/SEQ for a channel comment). */
int listening_reply_target(listening *l, int64_t reply_id, char channel[16],
                           char in_reply_to[SB_LISTENING_EXTERNAL_ID_BYTES_MAX + 1]) SB_MUST_CHECK;

/* The dashboard's figures for posts and cases in [from_ms, to_ms): volume,
 * positive/negative/neutral, share_negative and net_sentiment (-1..1, 0
 * with no understood posts), share of voice ({"bank": posts, "competitors":
 * {name: posts}, "bank_share"}), per department the cases, replied ones,
 * mean first-response time in ms and SLA attainment (first reply within the
 * priority's budget of business time; a case still unanswered counts as
 * missed once its budget has passed at now_ms), and open cases by age at
 * now_ms (under 1 h, 1-4 h, 4-24 h, 1-3 days, older). */
int listening_dashboard_json(listening *l, int64_t from_ms, int64_t to_ms, int64_t now_ms, json_t **out) SB_MUST_CHECK;

/* ---- outbound replies (listening_outbound.c) ---------------------------------------------- */
/* One reply to send to an external network (strings borrowed for the call). */
typedef struct {
    int64_t reply_id, case_id;
    const char *source, *author, *in_reply_to, *agent, *text;
} listening_outbound_item;
/* An outbound connector: send one reply.  SB_OK sent; SB_EBUSY, SB_EIO,
 * SB_ETIMEOUT worth retrying; anything else a final refusal.  *status_out
 * (the peer's status, 0 if none) is shown on the case. */
typedef struct {
    const char *name;
    int (*send)(void *arg, const listening_outbound_item *item, int *status_out);
    void *arg;
} listening_outbound_connector;
/* The webhook connector: POST {"type":"listening.reply","reply_id",
 * "case_id","source","author","in_reply_to","agent","text"} to url (the
 * bank's integration service; reply_id makes a retry idempotent there).
 * through the one outbound client (https verified, timeouts); the caller
 * fills *state (url checked with sb_http_url_check), which must outlive the
 * connector. */
typedef struct {
    char url[SB_LISTENING_WEBHOOK_URL_BYTES_MAX];
    const char *ca_file; /* CAs to trust instead of the system's; NULL: system; borrowed */
} listening_outbound_webhook_state;
listening_outbound_connector listening_outbound_webhook(listening_outbound_webhook_state *state);

/* The sender: one thread with its own store connection at `location` takes
 * due 'pending' external replies (at most SB_LISTENING_OUTBOUND_BATCH_MAX a
 * pass), sends each through the connector and records 'sent', or retries
 * with exponential backoff from backoff_ms (0 = SB_LISTENING_OUTBOUND_BACKOFF_MS)
 * with jitter up to SB_LISTENING_OUTBOUND_ATTEMPTS_MAX attempts, then
 * 'failed'; a final refusal is 'failed' at once.  The queue is the
 * replies table (bounded by the batch), so a restart resumes.  *out is the
 * caller's: listening_outbound_stop.  SB_ENOMEM, SB_EIO, store errors. */
typedef struct listening_outbound listening_outbound;
int listening_outbound_start(const char *location, listening_outbound_connector connector, int64_t backoff_ms,
                             listening_outbound **out) SB_MUST_CHECK;
/* Look for due replies now (after a new reply's commit).  NULL is fine. */
void listening_outbound_wake(listening_outbound *o);
typedef struct {
    uint64_t sent, retried, failed;
} listening_outbound_stats;
void listening_outbound_stats_get(listening_outbound *o, listening_outbound_stats *out);
/* Stop the thread (a send in flight finishes, bounded by the webhook's step
 * timeouts) and free.  NULL is fine. */
void listening_outbound_stop(listening_outbound *o);

#endif /* SB_LISTENING_H */
