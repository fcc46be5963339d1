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
/* Graceful shutdown waits at most this for in-flight requests. */
#define SB_SHUTDOWN_GRACE_MS 5000
/* Event loop threads. */
#define SB_THREADS_MAX 64

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
/* Ping interval; a peer that misses two pongs is closed. */
#define SB_WS_PING_INTERVAL_MS 30000
/* Messages a client may send per second before it is rate limited. */
#define SB_WS_CLIENT_MESSAGES_PER_S_MAX 50

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
/* Rate-limit windows (sliding) behind the per-hour and per-15-minute caps. */
#define SB_OTP_RATE_WINDOW_MS (60LL * 60 * 1000)
#define SB_LOGIN_RATE_WINDOW_MS (15LL * 60 * 1000)
/* Old rate events, codes and sessions deleted per write, so pruning never stalls a request. */
#define SB_IDENTITY_PRUNE_BATCH 64
/* A client address as a rate-limit key (IPv6 text is at most 45 bytes). */
#define SB_CLIENT_ADDR_BYTES_MAX 64
/* Codes waiting for the sender thread; past it enqueue answers SB_EBUSY. */
#define SB_OTP_SENDER_QUEUE_MAX 1024
/* Webhook sender: URL length, per-step socket timeout (connect, write, read),
 * delivery attempts and the first backoff (doubled each retry), the bytes of
 * response read to find the status, and how long stop waits for the queue. */
#define SB_OTP_WEBHOOK_URL_BYTES_MAX 2048
#define SB_OTP_WEBHOOK_TIMEOUT_MS 5000
#define SB_OTP_WEBHOOK_ATTEMPTS_MAX 4
#define SB_OTP_WEBHOOK_BACKOFF_MS 200
#define SB_OTP_WEBHOOK_RESPONSE_BYTES_MAX 4096
#define SB_OTP_SENDER_STOP_WAIT_MS 5000

/* ---- phone numbers (core/phone.c) ---- */
/* Bytes of a typed phone number: 15 Persian digits (2 bytes each) plus generous separators. */
#define SB_PHONE_INPUT_BYTES_MAX 64
/* Digits in any accepted form; E.164 allows 15 after the '+'. */
#define SB_PHONE_DIGITS_MAX 15

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
/* Page cache of the writer's connection: the journal's id index and the
 * accounts must stay in memory or every batch re-reads them (measured: 26k ->
 * 77k transfers/s with the history indexes, see bench ledger). */
#define SB_LEDGER_WRITER_CACHE_KIB (64 * 1024)
/* How long the idle writer sleeps before looking for expired transfers. */
#define SB_LEDGER_EXPIRY_POLL_MS 1000

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
/* One rendered event (a message with its payload and envelope). */
#define SB_MESSENGER_EVENT_JSON_BYTES_MAX (64 * 1024)
/* Recipients of one event: the channel may have many subscribers. */
#define SB_MESSENGER_RECIPIENTS_MAX (1 << 20)
/* A contact search query (a typed phone number or @username). */
#define SB_MESSENGER_QUERY_BYTES_MAX 128

/* ---- command line ---- */
#define SB_CLI_LINE_BYTES_MAX (1024 * 1024)

_Static_assert(SB_HTTP_BODY_BYTES_MAX_UNAUTH <= SB_HTTP_BODY_BYTES_MAX, "unauthenticated cap must be lower");
_Static_assert(SB_HTTP_BODY_BYTES_MAX <= SB_HTTP_INGEST_BODY_BYTES_MAX, "ingest cap is the largest");
_Static_assert(SB_CUSTOMER_USERNAME_BYTES_MAX <= SB_USERNAME_BYTES_MAX, "customer names fit the username column");
_Static_assert(SB_LOGIN_RATE_WINDOW_MS <= SB_OTP_RATE_WINDOW_MS, "pruning keeps the longest window");
_Static_assert(SB_OTP_DIGITS >= 4 && SB_OTP_DIGITS <= 9, "a code fits a uint32_t");
_Static_assert(SB_WS_MESSAGE_BYTES_MAX <= SB_WS_SEND_QUEUE_BYTES_MAX, "a queued message must fit the queue");

_Static_assert(SB_LEDGER_SUBMIT_MAX <= SB_LEDGER_COMMIT_MAX, "a submission must fit one commit");
_Static_assert(SB_LEDGER_COMMIT_MAX <= SB_LEDGER_QUEUE_TRANSFERS_MAX, "a commit is drawn from the queue");

_Static_assert(SB_MESSENGER_TEXT_BYTES_MAX + SB_MESSENGER_PAYLOAD_BYTES_MAX + 4096 <= SB_MESSENGER_EVENT_JSON_BYTES_MAX,
               "a message with its payload fits one event");
_Static_assert(SB_MESSENGER_EVENT_JSON_BYTES_MAX <= SB_WS_MESSAGE_BYTES_MAX, "an event fits one WebSocket message");
_Static_assert(SB_MESSENGER_GROUP_MEMBERS_MAX <= SB_MESSENGER_RECIPIENTS_MAX, "a group's members are recipients");

#endif /* SB_LIMITS_H */
