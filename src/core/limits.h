/*
 * limits.h - every bound in SocialBank, named, each with its reason.
 *
 * Going over a limit is a clear error (SB_ELIMIT, HTTP 413/429/400) and, for
 * a connection, a disconnect.  Unauthenticated peers get the lower caps.
 * Modules add their own limits here so that they can be read in one place.
 */
#ifndef SB_LIMITS_H
#define SB_LIMITS_H

/* ---- HTTP ---- */
/* JSON bodies of the API are small; a batch import uses the larger cap. */
#define SB_HTTP_BODY_BYTES_MAX (1024 * 1024)
/* Before authentication nobody needs more than a login form. */
#define SB_HTTP_BODY_BYTES_MAX_UNAUTH (16 * 1024)
/* Ingest batches of posts (issue 6) may be larger. */
#define SB_HTTP_INGEST_BODY_BYTES_MAX (8 * 1024 * 1024)
/* All request headers together; browsers send a few KiB. */
#define SB_HTTP_HEADER_BYTES_MAX (16 * 1024)
/* A request must arrive complete within this time (slowloris). */
#define SB_HTTP_REQUEST_TIMEOUT_MS 10000
/* Idle keep-alive connections are closed after this. */
#define SB_HTTP_IDLE_TIMEOUT_MS 30000
/* Path parameters per route pattern. */
#define SB_HTTP_PATH_PARAMS_MAX 8
/* Path length; longer paths get 414. */
#define SB_HTTP_PATH_BYTES_MAX 2048
/* Routes the router can hold. */
#define SB_HTTP_ROUTES_MAX 256
/* Connections per server thread; beyond it new ones are refused. */
#define SB_HTTP_CONNECTIONS_MAX 65536
/* Connections of the whole server; beyond it new ones are closed at once. */
#define SB_HTTP_CONNECTIONS_TOTAL_MAX 65536
/* Connections from one client address (serve --connections-per-address);
 * one address cannot take the server's memory or file descriptors. */
#define SB_HTTP_CONNECTIONS_PER_ADDRESS_MAX 512
/* A chunked body's decoded bytes may pass the route's cap by this much
 * (the undecoded tail of the last read) before it is cut off with a 413. */
#define SB_HTTP_CHUNKED_SLACK_BYTES 1024
/* Graceful shutdown waits at most this for in-flight requests. */
#define SB_SHUTDOWN_GRACE_MS 5000
/* Event loop threads. */
#define SB_THREADS_MAX 64
/* Threads of one offload pool (core/offload.c). */
#define SB_OFFLOAD_THREADS_MAX 16
/* Password checks (argon2id, 64 MiB and about 0.1 s each) run on their own
 * pool off the event loops: this many at once by default... */
#define SB_PASSWORD_THREADS_DEFAULT 2
/* ...and at most this many accepted and not answered (running or waiting);
 * past it a login is answered 503 busy at once, so memory and waiting stay bounded. */
#define SB_PASSWORD_JOBS_MAX_DEFAULT 32
/* Upper bound serve accepts for the above. */
#define SB_PASSWORD_JOBS_MAX 1024

/* ---- api (src/api) ---- */
/* Static files of the console larger than this are not served. */
#define SB_HTTP_STATIC_FILE_BYTES_MAX (8 * 1024 * 1024)
/* Connections accepted per wake-up of a listener, so accepting cannot starve a loop. */
#define SB_HTTP_ACCEPTS_PER_WAKE_MAX 64
/* A route pattern in bytes, and '/'-separated segments in a pattern or a routed path. */
#define SB_HTTP_ROUTE_PATTERN_BYTES_MAX 256
#define SB_HTTP_PATH_SEGMENTS_MAX 32
/* The Prometheus text of /metrics (routes x statuses x buckets stays far below). */
#define SB_HTTP_METRICS_TEXT_BYTES_MAX (8 * 1024 * 1024)
/* A /metrics bearer token (--metrics-token): long enough for 256 bits in any encoding, short enough to keep on a stack.
 */
#define SB_HTTP_METRICS_TOKEN_BYTES_MAX 256
/* At least this long: a scrape token is a secret, not a password to guess. */
#define SB_HTTP_METRICS_TOKEN_BYTES_MIN 16
/* Ledger verify jobs kept for polling (GET /api/admin/ledger/verify/:id): the newest few; one runs at a time. */
#define SB_HTTP_VERIFY_JOBS_KEPT 8
/* Staff listed by GET /api/admin/staff. */
#define SB_HTTP_STAFF_LIST_MAX 10000

/* ---- JSON ---- */
/* Nesting depth accepted in a JSON body (jansson enforces 2048 by itself). */
#define SB_JSON_DEPTH_MAX 32

/* ---- WebSocket ---- */
/* One frame/message from a client; chat messages are far smaller. */
#define SB_WS_MESSAGE_BYTES_MAX (64 * 1024)
/* Messages waiting to be sent to one connection; a slow reader past this is dropped. */
#define SB_WS_SEND_QUEUE_MAX 1024
/* Bytes waiting to be sent to one connection. */
#define SB_WS_SEND_QUEUE_BYTES_MAX (4 * 1024 * 1024)
/* Ping interval; a peer that misses two pongs is closed.  Each ping also
 * re-checks the connection's session (expired or revoked: closed with 4001). */
#define SB_WS_PING_INTERVAL_MS 30000
/* The shortest ping interval serve accepts (tests shorten it). */
#define SB_WS_PING_INTERVAL_MS_MIN 100
/* Sessions one thread re-checks in the store per ping tick (one indexed
 * read each); the rest wait for the next tick, so a tick stays short. */
#define SB_WS_SESSION_CHECKS_PER_TICK_MAX 2048
/* Messages a client may send per second before it is rate limited. */
#define SB_WS_CLIENT_MESSAGES_PER_S_MAX 50
/* Message sends gathered from frames on one server thread before they are
 * written in one transaction (at the end of the loop turn, or when full). */
#define SB_WS_SEND_BATCH_MAX 256
/* Framed bytes gathered for one socket write to a connection (the rest of
 * its queue follows when the write completes). */
#define SB_WS_WRITE_BYTES_MAX (256 * 1024)

/* ---- identity ---- */
/* One-time codes: digits, lifetime, attempts. */
#define SB_OTP_DIGITS 6
#define SB_OTP_TTL_MS (5 * 60 * 1000)
#define SB_OTP_ATTEMPTS_MAX 5
/* Code requests per phone number per hour, and per client address per hour. */
#define SB_OTP_REQUESTS_PER_PHONE_PER_HOUR 5
#define SB_OTP_REQUESTS_PER_ADDR_PER_HOUR 30
/* Failed staff logins per username per 15 minutes. */
#define SB_LOGIN_FAILURES_PER_15_MIN 10
/* Session lifetime. */
#define SB_SESSION_TTL_MS (30LL * 24 * 60 * 60 * 1000)
/* Random bytes in a bearer token (shown as hex). */
#define SB_TOKEN_BYTES 32
/* Staff passwords: argon2id needs a bound on input too. */
#define SB_PASSWORD_BYTES_MIN 10
#define SB_PASSWORD_BYTES_MAX 256
#define SB_USERNAME_BYTES_MAX 64
#define SB_DISPLAY_NAME_BYTES_MAX 128
/* A customer's @username: short enough to type, long enough to be unique. */
#define SB_CUSTOMER_USERNAME_BYTES_MIN 3
#define SB_CUSTOMER_USERNAME_BYTES_MAX 32
/* A profile's IANA time zone name ("America/Argentina/ComodRivadavia" is 32). */
#define SB_TIME_ZONE_BYTES_MAX 64
/* A profile's language code ("fa", "uk", "ru", "en"). */
#define SB_LANGUAGE_BYTES_MAX 7
/* Phone numbers in one contacts lookup: a phone book imported a page at a time. */
#define SB_CONTACTS_LOOKUP_MAX 100
/* Staff accounts a customer's new name is compared with (their names'
 * confusable skeletons); a bank has far fewer staff logins than this. */
#define SB_NAME_STAFF_COMPARED_MAX 10000
/* A name's confusable skeleton: NFKC and case folding can grow text about
 * threefold, the skeleton again (prototypes of several characters). */
#define SB_NAME_SKELETON_BYTES_MAX (16 * SB_DISPLAY_NAME_BYTES_MAX)
/* Rate-limit windows (sliding) behind the per-hour and per-15-minute caps. */
#define SB_OTP_RATE_WINDOW_MS (60LL * 60 * 1000)
#define SB_LOGIN_RATE_WINDOW_MS (15LL * 60 * 1000)
/* Old rate events, codes and sessions deleted per write, so pruning never stalls a request. */
#define SB_IDENTITY_PRUNE_BATCH 64
/* A client address as a rate-limit key (IPv6 text is at most 45 bytes). */
#define SB_CLIENT_ADDR_BYTES_MAX 64
/* Outbound HTTP (core/http_client.c): the longest URL any sender takes,
 * and the answer bytes read before the exchange is ended (a webhook's
 * answer is a status; a peer streaming more is cut off). */
#define SB_HTTP_URL_BYTES_MAX 2048
#define SB_HTTP_RESPONSE_BYTES_MAX 65536
/* Extra header lines of one outbound POST (a bot webhook's secret token):
 * how many, and the bytes of one "Name: value" line. */
#define SB_HTTP_OUT_HEADERS_MAX 8
#define SB_HTTP_OUT_HEADER_BYTES_MAX 512
/* Background workers (core/worker.c): the largest queue, job and batch any
 * worker may ask for, the most attempts, the longest stop deadline, how
 * long stop waits past it for a job in hand before abandoning the thread,
 * and the bytes of a worker's name. */
#define SB_WORKER_QUEUE_MAX 100000
#define SB_WORKER_JOB_BYTES_MAX 4096
#define SB_WORKER_BATCH_MAX 1024
#define SB_WORKER_ATTEMPTS_MAX 16
#define SB_WORKER_STOP_WAIT_MS_MAX 60000
#define SB_WORKER_STOP_GRACE_MS 1000
#define SB_WORKER_NAME_BYTES 32
/* Codes waiting for the sender thread; past it enqueue answers SB_EBUSY. */
#define SB_OTP_SENDER_QUEUE_MAX 1024
/* Webhook sender: URL length, the connect and the total timeout of one
 * POST, delivery attempts, the first backoff cap and the largest (the
 * worker doubles the cap each retry and draws the delay under it), and how
 * long stop waits for the queue. */
#define SB_OTP_WEBHOOK_URL_BYTES_MAX 2048
#define SB_OTP_WEBHOOK_TIMEOUT_MS 5000
#define SB_OTP_WEBHOOK_ATTEMPTS_MAX 4
#define SB_OTP_WEBHOOK_BACKOFF_MS 200
#define SB_OTP_WEBHOOK_BACKOFF_MAX_MS 5000
#define SB_OTP_SENDER_STOP_WAIT_MS 5000

/* ---- phone numbers (core/phone.c) ---- */
/* Bytes of a typed phone number: 15 Persian digits (2 bytes each) plus generous separators. */
#define SB_PHONE_INPUT_BYTES_MAX 64
/* Digits in any accepted form; E.164 allows 15 after the '+'. */
#define SB_PHONE_DIGITS_MAX 15

/* ---- payments (src/payments/) ---- */
/* Bytes of one typed instrument (card, Sheba, bill or payment ID): 34 IBAN
 * characters in Persian digits (2 bytes each) with spaces fit easily. */
#define SB_PAYMENTS_INPUT_BYTES_MAX 128
/* Shares in one split: a group bill among at most this many people. */
#define SB_PAYMENTS_SPLIT_SHARES_MAX 1000
/* Inputs one `socialbank check` run accepts. */
#define SB_PAYMENTS_CHECK_INPUTS_MAX 10000
/* Card switch: inquiries after a timed-out transfer, then reversals, before
 * the hold is left to the operator (each call waits its own timeout). */
#define SB_PAYMENTS_SWITCH_INQUIRIES_MAX 3
#define SB_PAYMENTS_SWITCH_REVERSALS_MAX 5
/* The in-memory switch simulator (tests, demos): cards, references, script. */
#define SB_PAYMENTS_SWITCH_SIM_CARDS_MAX 64
#define SB_PAYMENTS_SWITCH_SIM_REFS_MAX 1024
#define SB_PAYMENTS_SWITCH_SIM_SCRIPT_MAX 64
/* ---- listening (issue 6) ---- */
/* Posts per ingest call: one transaction; a CLI import is split into batches. */
#define SB_LISTENING_BATCH_POSTS_MAX 10000
/* Bytes of one post's text: long forum posts fit, a pasted book does not. */
#define SB_LISTENING_TEXT_BYTES_MAX (16 * 1024)
/* Source names, external ids and author handles. */
#define SB_LISTENING_SOURCE_BYTES_MAX 32
#define SB_LISTENING_EXTERNAL_ID_BYTES_MAX 128
#define SB_LISTENING_AUTHOR_BYTES_MAX 128
/* Followers and engagement counts beyond any real network's. */
#define SB_LISTENING_COUNT_MAX 100000000000LL
/* A post may be dated at most this far ahead of the ingest clock (clock skew). */
#define SB_LISTENING_FUTURE_SKEW_MS (24LL * 60 * 60 * 1000)
/* Posts older than 2000-01-01 are not social media. */
#define SB_LISTENING_TIME_MIN_MS 946684800000LL
/* CSV: one field, one row (all fields), fields per row. */
#define SB_LISTENING_CSV_FIELD_BYTES_MAX (64 * 1024)
#define SB_LISTENING_CSV_ROW_BYTES_MAX (256 * 1024)
#define SB_LISTENING_CSV_FIELDS_MAX 64
/* One JSONL line (a post plus its metadata). */
#define SB_LISTENING_JSONL_LINE_BYTES_MAX (256 * 1024)
/* Redaction: digit groups looked at in one numeric run (a card is 4-5 groups). */
#define SB_LISTENING_REDACT_GROUPS_MAX 64
/* Opening periods per weekday in a department's calendar. */
#define SB_LISTENING_PERIODS_PER_DAY_MAX 4
/* Business-hour arithmetic walks at most this many days (a deadline a year off). */
#define SB_LISTENING_CALENDAR_DAYS_MAX 400
/* Departments one rule routes to. */
#define SB_LISTENING_RULE_DEPARTMENTS_MAX 8
/* Rules evaluated per post (the table an admin edits). */
#define SB_LISTENING_RULES_MAX 256
/* Posts from one author on one topic join an open case within this window. */
#define SB_LISTENING_CASE_JOIN_WINDOW_MS (72LL * 60 * 60 * 1000)
/* Case notes and replies. */
#define SB_LISTENING_NOTE_BYTES_MAX 4096
/* Cases handled per tick (escalations, reassignments), so a tick is bounded. */
#define SB_LISTENING_TICK_CASES_MAX 1000
/* Alerts: the baseline hours, the minimum observed count and the p-value. */
#define SB_LISTENING_ALERT_BASELINE_HOURS 24
#define SB_LISTENING_ALERT_MIN_COUNT 10
#define SB_LISTENING_ALERT_P_THRESHOLD 1e-4
/* A burst is one alert until its metric has been quiet this long. */
#define SB_LISTENING_ALERT_QUIET_MS (6LL * 60 * 60 * 1000)
/* A quiet baseline is taken as at least this many posts an hour (no division by zero, no alert on 3 posts). */
#define SB_LISTENING_ALERT_BASELINE_FLOOR 0.5
/* Risk metrics checked per tick. */
#define SB_LISTENING_ALERT_METRICS_MAX 32
/* Suggestions: posts analysed per call, bigrams per post. */
#define SB_LISTENING_SUGGEST_POSTS_MAX 50000
#define SB_LISTENING_SUGGEST_BIGRAMS_PER_POST 64
/* Words per post considered for bigrams and the bytes of one word. */
#define SB_LISTENING_WORD_BYTES_MAX 60

/* ---- listening on the server (listening_api.c, routes_listening.c) ---- */
/* The name an admin gives a per-source API key. */
#define SB_LISTENING_API_KEY_NAME_BYTES_MAX 64
/* Rows of one page (cases, leads, consents) and the default page. */
#define SB_LISTENING_PAGE_MAX 200
#define SB_LISTENING_PAGE_DEFAULT 50
/* Posts, events and replies shown with one case. */
#define SB_LISTENING_CASE_ITEMS_MAX 500
/* Statistic rows of one query and the widest range (92 days). */
#define SB_LISTENING_STATS_ROWS_MAX 5000
#define SB_LISTENING_STATS_RANGE_MS_MAX (92LL * 24 * 60 * 60 * 1000)
/* Rejections listed with their index in one ingest answer (all are counted). */
#define SB_LISTENING_INGEST_REJECTIONS_SHOWN_MAX 1000
/* Alerts waiting for the WebSocket push and the webhook; when it is full a
 * new alert is dropped (logged; its row stays in the store). */
#define SB_LISTENING_ALERT_QUEUE_MAX 64
/* The alert webhook: URL bytes, the connect and the total timeout of one
 * POST, attempts with the worker's backoff (first cap, largest cap), and
 * how long stop waits for what is queued. */
#define SB_LISTENING_WEBHOOK_URL_BYTES_MAX 512
#define SB_LISTENING_WEBHOOK_STEP_TIMEOUT_MS 3000
#define SB_LISTENING_WEBHOOK_ATTEMPTS_MAX 3
#define SB_LISTENING_WEBHOOK_BACKOFF_MS 200
#define SB_LISTENING_WEBHOOK_BACKOFF_MAX_MS 5000
#define SB_LISTENING_ALERT_STOP_WAIT_MS 5000
/* Staff users an alert is pushed to over the WebSocket. */
#define SB_LISTENING_ALERT_STAFF_MAX 1000
/* The channel feed (listening_feed): comments waiting for the feed thread,
 * and posts it stores in one transaction.  Past the queue a comment is
 * dropped from listening (it stays in the messenger). */
#define SB_LISTENING_FEED_QUEUE_MAX 10000
#define SB_LISTENING_FEED_BATCH_MAX 256
/* How long stopping the feed stores what is queued before dropping the rest. */
#define SB_LISTENING_FEED_STOP_WAIT_MS 30000
/* socialbank ingest: posts per transaction by default, and the largest file
 * or stdin spool it maps (2^40: bounded, far beyond any export). */
#define SB_LISTENING_IMPORT_BATCH_DEFAULT 1000
#define SB_LISTENING_IMPORT_FILE_BYTES_MAX (1LL << 40)
/* Page cache of an importing connection: the posts' indexes and the cases
 * stay in memory while a large export lands (see bench pipeline). */
#define SB_LISTENING_INGEST_CACHE_KIB (64 * 1024)
/* ---- the staff console (listening_console.c, listening_outbound.c) ---- */
/* Cases in one bulk action: a screenful an agent selected, one request. */
#define SB_LISTENING_BULK_CASES_MAX 200
/* Rows in one CSV export of the post stream (a narrower filter gets the rest). */
#define SB_LISTENING_EXPORT_ROWS_MAX 20000
/* A full-text query: bytes typed and tokens kept (each one a phrase in FTS5). */
#define SB_LISTENING_SEARCH_BYTES_MAX 256
#define SB_LISTENING_SEARCH_TOKENS_MAX 16
/* A saved view: its name and the filter it keeps (a small JSON object). */
#define SB_LISTENING_VIEW_NAME_BYTES_MAX 64
#define SB_LISTENING_VIEW_QUERY_BYTES_MAX 2048
/* Saved views per staff member. */
#define SB_LISTENING_VIEWS_PER_OWNER_MAX 100
/* A canned reply's shortcut and its template (a reply after expansion must
 * still fit SB_LISTENING_NOTE_BYTES_MAX). */
#define SB_LISTENING_CANNED_SHORTCUT_BYTES_MAX 32
#define SB_LISTENING_CANNED_MAX 500
/* Earlier cases and posts of an author shown in the customer panel. */
#define SB_LISTENING_PANEL_ITEMS_MAX 20
/* Payments shown in the customer panel. */
#define SB_LISTENING_PANEL_PAYMENTS_MAX 10
/* Cases the dashboard reads for response times (the range is capped too). */
#define SB_LISTENING_DASHBOARD_CASES_MAX 20000
/* Outbound replies: attempts before 'failed', the first retry's wait (doubled
 * each time, with jitter), the replies one pass of the sender takes. */
#define SB_LISTENING_OUTBOUND_ATTEMPTS_MAX 5
#define SB_LISTENING_OUTBOUND_BACKOFF_MS 2000
#define SB_LISTENING_OUTBOUND_BACKOFF_MS_MAX (10LL * 60 * 1000)
#define SB_LISTENING_OUTBOUND_BATCH_MAX 32
/* How long the sender sleeps when nothing is due and nobody wakes it. */
#define SB_LISTENING_OUTBOUND_IDLE_MS 5000
/* Payment operations (src/payments/ops.h): a client's idempotency key, an
 * e-mail alias (RFC 5321 path), a request note or split title, and the wait
 * for each card-switch call when the caller sets none. */
#define SB_PAYOPS_IDEM_KEY_BYTES_MAX 64
#define SB_PAYOPS_EMAIL_BYTES_MAX 254
#define SB_PAYOPS_NOTE_BYTES_MAX 63
#define SB_PAYOPS_C2C_TIMEOUT_MS_DEFAULT 10000
/* Requests one maintenance pass expires (one small transaction each): a backlog drains over passes, a pass stays short.
 */
#define SB_PAYOPS_REQUEST_EXPIRE_PASS_MAX 256
/* Card-to-card receipts one maintenance pass reconciles: each may wait on up to 1 + inquiries + reversals switch
 * timeouts. */
#define SB_PAYOPS_C2C_RECONCILE_PASS_MAX 8
/* Held pay-a-person quotes: how long one may be confirmed, how long an
 * expired one is kept (so confirming it says "expired", not "unknown"), and
 * how many one payer may hold (expired ones kept included). */
#define SB_PAYOPS_QUOTE_TTL_MS (10 * 60 * 1000)
#define SB_PAYOPS_QUOTE_KEEP_EXPIRED_MS (60 * 60 * 1000)
#define SB_PAYOPS_QUOTES_PER_PAYER_MAX 200
/* A money request being paid under another key: how long a second payer's
 * call waits for that payment to finish (its receipt done or gone) before it
 * answers busy, and the longest pause between two looks at it.  Same order
 * as the store's busy timeout: both are one row's turn. */
#define SB_PAYOPS_PAID_WAIT_MS 5000
#define SB_PAYOPS_PAID_POLL_MS_MAX 20

/* ---- payment routes (src/api/routes_payments.c) ---- */
/* expires_in_s of links, requests and splits: default and largest. */
#define SB_HTTP_PAY_EXPIRES_IN_S_DEFAULT (7 * 24 * 3600)
#define SB_HTTP_PAY_EXPIRES_IN_S_MAX (90 * 24 * 3600)
/* Receipts in one GET /api/receipts page. */
#define SB_HTTP_RECEIPTS_PAGE_MAX 100
/* Members of one split in a request (<= SB_PAYMENTS_SPLIT_SHARES_MAX). */
#define SB_HTTP_SPLIT_MEMBERS_MAX 100

/* ---- store ---- */
/* Prepared statements cached per connection. */
#define SB_STORE_STMT_CACHE_MAX 256
/* SQLite busy timeout. */
#define SB_STORE_BUSY_TIMEOUT_MS 5000
/* Paths given on the command line. */
#define SB_PATH_BYTES_MAX 4096

/* ---- ledger ---- */
/* Transfers or accounts in one submission (TigerBeetle's batch is 8190). */
#define SB_LEDGER_SUBMIT_MAX 8190
/* Transfers the writer applies in one SQLite transaction (several submissions). */
#define SB_LEDGER_COMMIT_MAX 32768
/* Transfers waiting for the writer; past it submitters get SB_EBUSY. */
#define SB_LEDGER_QUEUE_TRANSFERS_MAX 131072
/* Longest pending-transfer timeout: 30 days. */
#define SB_LEDGER_TIMEOUT_MS_MAX (30LL * 24 * 60 * 60 * 1000)
/* Pending transfers expired per batch (the rest wait for the next one). */
#define SB_LEDGER_EXPIRE_PER_BATCH_MAX 4096
/* Accounts the writer keeps in its balance cache; past it the cache is dropped. */
#define SB_LEDGER_CACHE_ACCOUNTS_MAX (1 << 20)
/* Distinct currencies that `ledger verify` reports totals for. */
#define SB_LEDGER_CURRENCIES_MAX 64
/* Accounts ledger verify holds in memory at once (about 110 bytes each, 7 MiB): more accounts take one more pass over
 * the journal per chunk. */
#define SB_LEDGER_VERIFY_CHUNK_ACCOUNTS 65536
/* Written account rows the ledger writer reads back per batch (a rotating slice): bounded cost, every row in time. */
#define SB_LEDGER_READBACK_ACCOUNTS_MAX 8
/* Page cache of the writer's connection: the journal's id index and the
 * accounts must stay in memory or every batch re-reads them (measured: 26k ->
 * 77k transfers/s with the history indexes, see bench ledger). */
#define SB_LEDGER_WRITER_CACHE_KIB (64 * 1024)
/* How long the idle writer sleeps before looking for expired transfers. */
#define SB_LEDGER_EXPIRY_POLL_MS 1000

/* ---- text (textcore: normalise, langid, signals) ---- */
/* One post, review or bot message; longer texts are documents, not posts. */
#define SB_TEXT_INPUT_BYTES_MAX (64 * 1024)
/* Normalised output: NFKC expands some code points (U+FDFA -> 18) and short
 * tokens gain markers (":)" -> "<emo_pos>"); 16x the input always fits. */
#define SB_TEXT_NORMALIZED_BYTES_MAX (16 * SB_TEXT_INPUT_BYTES_MAX)
/* Code points after NFKC decomposition, bounded before composition. */
#define SB_TEXT_CODEPOINTS_MAX (6 * SB_TEXT_INPUT_BYTES_MAX)
/* One token; a longer "word" is cut (nothing real is longer). */
#define SB_TEXT_TOKEN_BYTES_MAX 128
/* Language identification reads this many bytes at most: enough to decide. */
#define SB_TEXT_LANGID_BYTES_MAX 4096
/* Signals reported for one text. */
#define SB_TEXT_SIGNALS_MAX 32
/* ---- messenger ---- */
/* Bytes of a chat message's text (Telegram allows 4096 characters, which is
 * up to 16 KiB of UTF-8); it must fit a WebSocket message with its envelope. */
#define SB_MESSENGER_TEXT_BYTES_MAX (16 * 1024)
/* A group's title and a keyboard button's label. */
#define SB_MESSENGER_TITLE_BYTES_MAX 128
/* A client's idempotency key for a send (a UUID is 36). */
#define SB_MESSENGER_CLIENT_ID_BYTES_MAX 64
/* A payment or keyboard payload's JSON text. */
#define SB_MESSENGER_PAYLOAD_BYTES_MAX 4096
/* Members of a group: bounded so that one send's recipient list stays small. */
#define SB_MESSENGER_GROUP_MEMBERS_MAX 1000
/* Sends applied in one transaction by messenger_send_batch (one commit for
 * many messages: a commit costs far more than an insert, see bench
 * messenger_store). */
#define SB_MESSENGER_SEND_BATCH_MAX 256
/* Messages in one history or changes page. */
#define SB_MESSENGER_PAGE_MAX 200
/* A bot keyboard: rows, buttons per row, bytes of a button's data. */
#define SB_MESSENGER_KEYBOARD_ROWS_MAX 8
#define SB_MESSENGER_KEYBOARD_COLS_MAX 8
#define SB_MESSENGER_BUTTON_DATA_BYTES_MAX 64
/* A URL button's address (Telegram's own links are far shorter). */
#define SB_MESSENGER_BUTTON_URL_BYTES_MAX 512
/* One rendered event (a message with its payload and envelope). */
#define SB_MESSENGER_EVENT_JSON_BYTES_MAX (64 * 1024)
/* Recipients of one event: the channel may have many subscribers. */
#define SB_MESSENGER_RECIPIENTS_MAX (1 << 20)
/* A contact search query (a typed phone number or @username). */
#define SB_MESSENGER_QUERY_BYTES_MAX 128

/* ---- text (classifier: models, training) ---- */
/* A model file; models of real corpora are a few MiB, this bounds a hostile one. */
#define SB_TEXT_MODEL_BYTES_MAX (512u * 1024 * 1024)
/* Embedding size; fastText's useful range is 10..300. */
#define SB_TEXT_MODEL_DIM_MAX 1024
/* Hash space of features (rows are only kept for features seen). */
#define SB_TEXT_MODEL_BUCKETS_MAX (1u << 26)
/* Heads trained together in one model (the product needs three). */
#define SB_TEXT_MODEL_HEADS_MAX 8
/* Labels of one head (Banking77 has 77 intents). */
#define SB_TEXT_MODEL_LABELS_MAX 4096
/* One label or head name. */
#define SB_TEXT_LABEL_BYTES_MAX 128
/* Character n-gram length; longer adds nothing a word unigram lacks. */
#define SB_TEXT_CHAR_NGRAM_MAX 8
/* Features of one text; the rest of a very long text is not read by the model. */
#define SB_TEXT_FEATURES_PER_TEXT_MAX 32768
/* Training set bounds: examples, and features stored over all of them. */
#define SB_TEXT_TRAIN_EXAMPLES_MAX 5000000
#define SB_TEXT_TRAIN_FEATURES_MAX (256u * 1024 * 1024)
#define SB_TEXT_TRAIN_EPOCHS_MAX 1000
/* Bad rows reported one by one before only counting them. */
#define SB_TEXT_TRAIN_BAD_ROWS_REPORTED 20

/* ---- command line ---- */
#define SB_CLI_LINE_BYTES_MAX (1024 * 1024)

/* ---- bench text (src/cli/cli_bench_text.c) ---- */
/* Rows read from one Banking77 split. */
#define SB_BENCH_TEXT_ROWS_MAX 1000000
/* Copies of the dev texts in the throughput run. */
#define SB_BENCH_TEXT_REPEAT_MAX 10000
/* Longest a fasttext child may run before it is killed. */
#define SB_BENCH_TEXT_CHILD_TIMEOUT_S 1800

_Static_assert(SB_HTTP_BODY_BYTES_MAX_UNAUTH <= SB_HTTP_BODY_BYTES_MAX, "unauthenticated cap must be lower");
_Static_assert(SB_HTTP_BODY_BYTES_MAX <= SB_HTTP_INGEST_BODY_BYTES_MAX, "ingest cap is the largest");
_Static_assert(SB_HTTP_CONNECTIONS_PER_ADDRESS_MAX <= SB_HTTP_CONNECTIONS_TOTAL_MAX,
               "one address is a part of the whole");
_Static_assert(SB_CUSTOMER_USERNAME_BYTES_MAX <= SB_USERNAME_BYTES_MAX, "customer names fit the username column");
_Static_assert(SB_LOGIN_RATE_WINDOW_MS <= SB_OTP_RATE_WINDOW_MS, "pruning keeps the longest window");
_Static_assert(SB_OTP_DIGITS >= 4 && SB_OTP_DIGITS <= 9, "a code fits a uint32_t");
_Static_assert(SB_PHONE_INPUT_BYTES_MAX <= SB_PAYMENTS_INPUT_BYTES_MAX, "a phone number is one payments input");
_Static_assert(SB_HTTP_PATH_SEGMENTS_MAX <= 32, "the router keeps a 32-bit mask of parameter segments");
_Static_assert(SB_HTTP_PATH_PARAMS_MAX <= SB_HTTP_PATH_SEGMENTS_MAX, "parameters are segments");
_Static_assert(SB_PASSWORD_THREADS_DEFAULT <= SB_OFFLOAD_THREADS_MAX, "the default pool fits");
_Static_assert(SB_PASSWORD_JOBS_MAX_DEFAULT <= SB_PASSWORD_JOBS_MAX, "the default cap is allowed");
_Static_assert(SB_THREADS_MAX <= 64, "the WebSocket registry keeps a 64-bit mask of threads");
_Static_assert(SB_WS_MESSAGE_BYTES_MAX <= SB_WS_SEND_QUEUE_BYTES_MAX, "a queued message must fit the queue");

_Static_assert(SB_HTTP_SPLIT_MEMBERS_MAX <= SB_PAYMENTS_SPLIT_SHARES_MAX, "a split request fits a split");
_Static_assert(SB_LEDGER_SUBMIT_MAX <= SB_LEDGER_COMMIT_MAX, "a submission must fit one commit");
_Static_assert(SB_LEDGER_COMMIT_MAX <= SB_LEDGER_QUEUE_TRANSFERS_MAX, "a commit is drawn from the queue");
_Static_assert(SB_LISTENING_CSV_FIELD_BYTES_MAX <= SB_LISTENING_CSV_ROW_BYTES_MAX, "a field fits a row");
_Static_assert(SB_LISTENING_TEXT_BYTES_MAX <= SB_LISTENING_CSV_FIELD_BYTES_MAX, "a post text fits a CSV field");
_Static_assert(SB_LISTENING_ALERT_BASELINE_HOURS >= 1, "a baseline needs an hour");
_Static_assert(SB_LISTENING_FEED_BATCH_MAX <= SB_LISTENING_BATCH_POSTS_MAX, "a feed batch is one ingest call");
_Static_assert(SB_LISTENING_FEED_BATCH_MAX <= SB_WORKER_BATCH_MAX, "a feed batch is one worker batch");
_Static_assert(SB_LISTENING_FEED_QUEUE_MAX <= SB_WORKER_QUEUE_MAX, "the feed's queue is a worker's");
_Static_assert(SB_LISTENING_FEED_STOP_WAIT_MS <= SB_WORKER_STOP_WAIT_MS_MAX, "the feed stops within a worker's bound");
_Static_assert(SB_LISTENING_IMPORT_BATCH_DEFAULT <= SB_LISTENING_BATCH_POSTS_MAX, "an import batch is one ingest call");
_Static_assert(SB_TEXT_INPUT_BYTES_MAX <= SB_CLI_LINE_BYTES_MAX, "a CLI line can carry a whole text");

_Static_assert(SB_MESSENGER_TEXT_BYTES_MAX + SB_MESSENGER_PAYLOAD_BYTES_MAX + 4096 <= SB_MESSENGER_EVENT_JSON_BYTES_MAX,
               "a message with its payload fits one event");
_Static_assert(SB_MESSENGER_EVENT_JSON_BYTES_MAX <= SB_WS_MESSAGE_BYTES_MAX, "an event fits one WebSocket message");
_Static_assert(SB_MESSENGER_GROUP_MEMBERS_MAX <= SB_MESSENGER_RECIPIENTS_MAX, "a group's members are recipients");
_Static_assert(SB_WS_SEND_BATCH_MAX <= SB_MESSENGER_SEND_BATCH_MAX, "a frame batch is one messenger_send_batch");
_Static_assert(SB_TEXT_LABEL_BYTES_MAX < 65536, "label lengths are u16 in the model file");
_Static_assert(SB_TEXT_MODEL_BUCKETS_MAX < 0xFFFFFFFFu, "UINT32_MAX marks an empty slot");

/* ---- chatpay (src/chatpay: payments inside chats) ---- */
/* Shares listed in one payment message (a split's who-has-paid): each share
 * is at most ~96 bytes of JSON, so 32 of them and the other fields fit one
 * payment payload. */
#define SB_MESSENGER_PAYMENT_SHARES_MAX 32
/* Members of a split made from a chat: one share each in the message. */
#define SB_CHATPAY_SPLIT_MEMBERS_MAX SB_MESSENGER_PAYMENT_SHARES_MAX
/* Chat payment messages brought up to date in one expiry pass (the next
 * pass, 10 s later, takes the rest). */
#define SB_CHATPAY_EXPIRE_BATCH_MAX 256
/* A notification's text (amounts, a name and a note). */
#define SB_CHATPAY_NOTICE_BYTES_MAX 512
_Static_assert(SB_MESSENGER_PAYMENT_SHARES_MAX * 96 + 1024 <= SB_MESSENGER_PAYLOAD_BYTES_MAX,
               "a split's shares fit one payment payload");
_Static_assert(SB_CHATPAY_SPLIT_MEMBERS_MAX <= SB_PAYMENTS_SPLIT_SHARES_MAX, "a chat split is a payments split");
_Static_assert(2 * SB_DISPLAY_NAME_BYTES_MAX + 2 * SB_PAYOPS_NOTE_BYTES_MAX + 128 <= SB_CHATPAY_NOTICE_BYTES_MAX,
               "a notice holds two names, a note, a reference and its words");

/* ---- serve: periodic maintenance ---- */
/* How often `serve` expires due money requests and reconciles card-to-card
 * transfers the switch left unanswered: often enough that a hold never
 * outlives a customer's patience, rarely enough to cost nothing. */
#define SB_SERVE_MAINTENANCE_INTERVAL_MS 10000
/* How long stop waits for a maintenance pass in hand (each works bounded batches). */
#define SB_SERVE_MAINTENANCE_STOP_WAIT_MS 30000

/* ---- bots: the bot API and the bank's service bot ---- */
/* Updates kept per bot: a bot that never reads cannot grow the database. */
#define SB_MESSENGER_BOT_UPDATES_KEPT 1000
/* Updates in one GET /api/bot/updates page. */
#define SB_MESSENGER_BOT_UPDATES_PAGE_MAX 100
/* Receipts the service bot lists for "last transactions". */
#define SB_BANKBOT_RECEIPTS_SHOWN 5
/* Messages of the conversation copied into a hand-off case. */
#define SB_BANKBOT_HANDOFF_MESSAGES 10
/* Agents' replies waiting for the delivery thread (a full queue leaves a
 * reply pending in listening). */
#define SB_BANKBOT_OUTBOX_MAX 256
/* How long closing the bot sends queued replies before dropping the rest. */
#define SB_BANKBOT_STOP_WAIT_MS 10000
/* Bytes of one answer the bot composes. */
#define SB_BANKBOT_ANSWER_BYTES_MAX 4096

/* ---- media in chats (src/media/) ---- */
/* A photo as uploaded: a phone camera's JPEG is 2-6 MB; the h2o cap holds it. */
#define SB_MEDIA_PHOTO_BYTES_MAX (8 * 1024 * 1024)
/* A file (PDF, document): scanned statements and bills; no larger than a body. */
#define SB_MEDIA_FILE_BYTES_MAX (8 * 1024 * 1024)
/* A voice note: Opus at 32 kbit/s for SB_MEDIA_VOICE_DURATION_MS_MAX is ~1.2 MB. */
#define SB_MEDIA_VOICE_BYTES_MAX (2 * 1024 * 1024)
/* A voice note's length: a message, not a podcast. */
#define SB_MEDIA_VOICE_DURATION_MS_MAX (5 * 60 * 1000)
/* The largest upload of any kind: the body cap of the upload route. */
#define SB_MEDIA_UPLOAD_BYTES_MAX SB_MEDIA_PHOTO_BYTES_MAX
/* Pixels of an image we decode: 40 MP covers phone cameras; more is a
 * decompression bomb (a small file that decodes to gigabytes). */
#define SB_MEDIA_IMAGE_PIXELS_MAX (40LL * 1000 * 1000)
/* Either side of an image, in pixels. */
#define SB_MEDIA_IMAGE_SIDE_MAX 16384
/* The longer side of a thumbnail, in pixels: a chat bubble's width. */
#define SB_MEDIA_THUMB_SIDE_PX 320
/* A file name as shown (bytes of UTF-8, after masking). */
#define SB_MEDIA_NAME_BYTES_MAX 255
/* An upload not attached to a message within this time is removed. */
#define SB_MEDIA_UPLOAD_TTL_MS (24LL * 60 * 60 * 1000)
/* A signed URL for a file lives this long. */
#define SB_MEDIA_URL_TTL_MS (5LL * 60 * 1000)
/* Files removed in one sweep (the rest wait for the next one). */
#define SB_MEDIA_SWEEP_BATCH 256
/* Pages of an Ogg stream and elements of a WebM file our parsers read:
 * a voice note under the byte cap has far fewer. */
#define SB_MEDIA_CONTAINER_STEPS_MAX 200000
/* Uploads decoded and stored at once off the loops (the media pool). */
#define SB_MEDIA_THREADS 2
/* Uploads accepted and unanswered; past it 503 busy (each holds its body). */
#define SB_MEDIA_JOBS_MAX 16
/* The scanning command may run this long before the file is refused. */
#define SB_MEDIA_SCAN_TIMEOUT_MS 60000
_Static_assert(SB_MEDIA_THREADS <= SB_OFFLOAD_THREADS_MAX, "the media pool fits");
_Static_assert(SB_MEDIA_UPLOAD_BYTES_MAX <= SB_HTTP_INGEST_BODY_BYTES_MAX, "h2o buffers an upload under its cap");
_Static_assert(SB_MEDIA_FILE_BYTES_MAX <= SB_MEDIA_UPLOAD_BYTES_MAX &&
                   SB_MEDIA_VOICE_BYTES_MAX <= SB_MEDIA_UPLOAD_BYTES_MAX,
               "every kind fits the upload route's cap");

/* ---- the Telegram-shaped Bot API (src/api/routes_botapi.c, botapi_*.c) ---- */
/* A method call's body: a 4096-character message with a full keyboard fits
 * many times over; bigger bodies are refused before they are parsed. */
#define SB_BOTAPI_BODY_BYTES_MAX (64 * 1024)
/* Parameters of one call (query, form fields, multipart parts). */
#define SB_BOTAPI_PARAMS_MAX 32
/* Text of a message as Telegram counts it is 4096 characters; ours is bytes. */
#define SB_BOTAPI_TEXT_BYTES_MAX SB_MESSENGER_TEXT_BYTES_MAX
/* The longest long poll (getUpdates timeout, seconds): Telegram's own cap. */
#define SB_BOTAPI_POLL_TIMEOUT_S_MAX 50
/* Long polls parked at once in the process: each holds a connection and a
 * few hundred bytes, no thread; past it a poll is answered at once. */
#define SB_BOTAPI_POLLS_PARKED_MAX 1024
/* Rows of a bot's inbox one getUpdates or webhook pass looks at. */
#define SB_BOTAPI_SCAN_ROWS_MAX SB_MESSENGER_BOT_UPDATES_KEPT
/* A webhook URL and its secret token (Telegram: 1-256 of A-Za-z0-9_-). */
#define SB_BOTAPI_WEBHOOK_URL_BYTES_MAX 512
#define SB_BOTAPI_SECRET_TOKEN_BYTES_MAX 256
/* The last delivery error getWebhookInfo shows. */
#define SB_BOTAPI_ERROR_MESSAGE_BYTES_MAX 160
/* Bots waiting for the webhook sender: a full queue leaves a bot's updates
 * in its inbox for the next sweep. */
#define SB_BOTAPI_WEBHOOK_QUEUE_MAX 1024
/* Tries of one update to a webhook before the sender leaves it for the next
 * sweep, the first pause between tries (doubled each time, with jitter),
 * the bound on one POST (connecting, and the whole exchange: stop waits
 * for at most this much of a POST in hand), and how often the sender sweeps (bots with
 * pending updates, pre-checkout deadlines: a second is fine enough for a
 * deadline of SB_BOTAPI_PRECHECKOUT_DEADLINE_MS). */
#define SB_BOTAPI_WEBHOOK_ATTEMPTS_MAX 4
#define SB_BOTAPI_WEBHOOK_BACKOFF_MS 200
#define SB_BOTAPI_WEBHOOK_TIMEOUT_MS 5000
#define SB_BOTAPI_WEBHOOK_SWEEP_MS 1000
/* Updates one webhook pass delivers before it lets other bots go first. */
#define SB_BOTAPI_WEBHOOK_BATCH_MAX 100
/* Rate limits as Telegram states them: about 30 messages a second per bot,
 * one a second per chat (a burst of a few is allowed, as Telegram does),
 * 20 a minute per group.  Buckets live in a fixed table; a collision
 * shares a bucket, which errs on the strict side. */
#define SB_BOTAPI_RATE_BOT_PER_S 30
#define SB_BOTAPI_RATE_CHAT_PER_S 1
#define SB_BOTAPI_RATE_CHAT_BURST 3
#define SB_BOTAPI_RATE_GROUP_PER_MIN 20
#define SB_BOTAPI_RATE_BUCKETS 4096
/* An invoice: title, description and payload bytes (Telegram: 32, 255,
 * 128 bytes), price lines, and how long a bot has to answer a pre-checkout
 * query before the hold is voided (Telegram: 10 seconds). */
#define SB_BOTAPI_INVOICE_TITLE_BYTES_MAX 32
#define SB_BOTAPI_INVOICE_DESCRIPTION_BYTES_MAX 255
#define SB_BOTAPI_INVOICE_PAYLOAD_BYTES_MAX 128
#define SB_BOTAPI_INVOICE_PRICES_MAX 10
#define SB_BOTAPI_PRECHECKOUT_DEADLINE_MS 10000

_Static_assert(SB_BOTAPI_WEBHOOK_URL_BYTES_MAX <= SB_HTTP_URL_BYTES_MAX, "a bot webhook URL fits the client");
_Static_assert(sizeof "X-Telegram-Bot-Api-Secret-Token: " + SB_BOTAPI_SECRET_TOKEN_BYTES_MAX <=
                   SB_HTTP_OUT_HEADER_BYTES_MAX,
               "the secret token header fits one header line");
_Static_assert(SB_BOTAPI_BODY_BYTES_MAX <= SB_HTTP_INGEST_BODY_BYTES_MAX, "h2o buffers a whole Bot API body");

_Static_assert(SB_OTP_WEBHOOK_URL_BYTES_MAX <= SB_HTTP_URL_BYTES_MAX, "an OTP webhook URL fits the client");
_Static_assert(SB_LISTENING_WEBHOOK_URL_BYTES_MAX <= SB_HTTP_URL_BYTES_MAX, "an alert webhook URL fits the client");
#endif /* SB_LIMITS_H */
