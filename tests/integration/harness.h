/*
 * harness.h - the integration-test harness: runs the real `socialbank`
 * binary on a free loopback port and talks to it the way clients do.
 *
 * Every integration test (tests/integration/test_*.c, linked with harness.c
 * by tests/CMakeLists.txt; ctest passes SB_BINARY and SB_SOURCE_DIR) uses it:
 *
 *   harness_server *srv;
 *   assert_int_equal(harness_server_up(NULL, &srv), SB_OK);   // migrate + serve
 *   harness_response r;
 *   assert_int_equal(harness_http_get(srv->port, "/healthz", NULL, &r), SB_OK);
 *   assert_int_equal(r.status, 200);
 *   harness_response_free(&r);
 *   int exit_status;
 *   assert_int_equal(harness_server_stop(srv, &exit_status), SB_OK);  // SIGTERM
 *   assert_int_equal(exit_status, 0);
 *   harness_server_free(srv);                                 // removes the temp dir
 *
 * What it offers, in order below:
 *   - processes: run a CLI subcommand with stdin and a timeout; create a data
 *     directory (migrated) in a fresh temp dir; start `serve` on --port 0 with
 *     stderr captured to a file, read the port from the "http.listen" log
 *     line, wait for /healthz; stop with SIGTERM and return the exit status;
 *     SIGKILL and restart on the same data for crash tests;
 *   - the server's log: find or wait for a line by event and field (e.g. the
 *     "otp.code" line that carries a one-time code);
 *   - a small HTTP/1.1 client over raw sockets (Content-Length and chunked
 *     bodies, JSON bodies parsed with jansson, keep-alive connections, raw
 *     bytes for malformed requests);
 *   - a WebSocket client (handshake with a token, masked frames of every
 *     kind, fragmented messages, frames read with a timeout);
 *   - logins: a customer by one-time code, a staff user by password, and
 *     `socialbank user add`;
 *   - small helpers for JSON paths and Prometheus metrics text;
 *   - fixtures cmocka test files share: a group's server (with an admin
 *     token), a fresh customer, asserting JSON getters, a request wrapper.
 *
 * Rules it keeps: every wait has a bound (the *_TIMEOUT_MS below or an
 * explicit timeout_ms), every read has a maximum size, nothing recurses.
 * Functions return SB_OK or a negative SB_E* code from core/core.h:
 *   SB_ETIMEOUT  the bound passed;      SB_ECLOSED  the peer closed/reset;
 *   SB_EIO       a system call failed;  SB_EINVAL   malformed answer/argument;
 *   SB_ELIMIT    an answer over a cap;  SB_EPERM    the server refused (see each).
 * On failure a one-line diagnostic goes to stderr so a failed assertion in a
 * test has its cause next to it.  Servers still running when the test process
 * exits are killed (atexit, and PR_SET_PDEATHSIG if the test crashes); temp
 * dirs are removed unless SB_KEEP_TMP=1 is set in the environment.
 * Not thread-safe: use from the test's main thread.
 */
#ifndef SB_TESTS_HARNESS_H
#define SB_TESTS_HARNESS_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "core/core.h"

/* ---- bounds ---- */
/* Starting serve until /healthz answers (generous: ASan builds on 2 cores). */
#define HARNESS_START_TIMEOUT_MS 30000
/* SIGTERM until exit; the server itself waits at most SB_SHUTDOWN_GRACE_MS. */
#define HARNESS_STOP_TIMEOUT_MS (SB_SHUTDOWN_GRACE_MS + 15000)
/* A CLI subcommand (migrate, user add: argon2id is slow on purpose). */
#define HARNESS_CLI_TIMEOUT_MS 60000
/* Default bound on one HTTP exchange or one WebSocket read. */
#define HARNESS_HTTP_TIMEOUT_MS 10000
/* Waiting for a log line such as "otp.code" (the sender has its own thread). */
#define HARNESS_LOG_TIMEOUT_MS 10000
/* Status line and headers of a response. */
#define HARNESS_RESPONSE_HEADER_BYTES_MAX (64 * 1024)
/* Body of a response. */
#define HARNESS_RESPONSE_BODY_BYTES_MAX (16 * 1024 * 1024)
/* Headers kept per response (more is SB_ELIMIT). */
#define HARNESS_HEADERS_MAX 64
/* One WebSocket message received (all fragments together). */
#define HARNESS_WS_MESSAGE_BYTES_MAX (16 * 1024 * 1024)
/* Fragments in one received WebSocket message. */
#define HARNESS_WS_FRAGMENTS_MAX 4096
/* Output captured from a CLI subcommand (each of stdout and stderr). */
#define HARNESS_CLI_OUTPUT_BYTES_MAX (1024 * 1024)
/* A server log read back (tests log a few MiB at most). */
#define HARNESS_LOG_BYTES_MAX (256 * 1024 * 1024)
/* Paths of temp dirs and files. */
#define HARNESS_PATH_BYTES 1024
/* Arguments of a subcommand, extra serve arguments, extra env entries. */
#define HARNESS_ARGS_MAX 48
/* Servers alive at once in one test process. */
#define HARNESS_SERVERS_MAX 16
/* A bearer token: 64 hex characters and the NUL. */
#define HARNESS_TOKEN_BYTES 65

/* The index.html the harness writes into its temp web dir (the default --web). */
#define HARNESS_INDEX_HTML "<!doctype html><title>SocialBank harness</title><p>harness index</p>\n"

/* ---- processes ---- */

/* $SB_BINARY (the socialbank binary ctest points at); aborts the test
 * process with a message if it is not set. */
const char *harness_binary(void);

/* Run `$SB_BINARY args...` (args NULL-terminated, at most HARNESS_ARGS_MAX),
 * writing stdin_text (may be NULL) to its stdin, for at most timeout_ms.
 * *exit_status_out: the exit code, or 128+signal if it was killed by one.
 * stdout_out/stderr_out (may be NULL): the captured output, NUL-terminated,
 * freed by the caller with sb_free.  SB_ETIMEOUT (the child is killed),
 * SB_ELIMIT (output over HARNESS_CLI_OUTPUT_BYTES_MAX), SB_EIO. */
int harness_run(const char *const *args, const char *stdin_text, int timeout_ms, int *exit_status_out,
                char **stdout_out, char **stderr_out) SB_MUST_CHECK;

/* How serve is started; a zeroed struct (or NULL) gives the defaults.
 * The pointers are borrowed and must outlive the server. */
typedef struct {
    int threads;                   /* --threads; 0 means 2 */
    const char *log_level;         /* --log-level; NULL means "info" */
    const char *web_dir;           /* --web; NULL means a temp dir holding HARNESS_INDEX_HTML */
    const char *const *extra_args; /* NULL-terminated, appended to serve's arguments */
    const char *const *env;        /* NULL-terminated "NAME=value" added to serve's environment */
} harness_options;

/* One server under test: a temp dir with data/, web/ and one log file per
 * start.  Read the fields; change them only through these functions. */
typedef struct {
    pid_t pid;                         /* the running serve process, 0 when stopped */
    int port;                          /* its loopback port (valid while running) */
    int starts;                        /* how many times serve was started */
    harness_options opts;              /* as given */
    char root[HARNESS_PATH_BYTES];     /* the temp dir */
    char data_dir[HARNESS_PATH_BYTES]; /* --data */
    char web_dir[HARNESS_PATH_BYTES];  /* --web */
    char log_path[HARNESS_PATH_BYTES]; /* stderr of the current (or last) serve: root/serve-N.log */
} harness_server;

/* Create a temp dir with a migrated data dir (runs `migrate --data`), without
 * starting serve, so that users can be added first.  *srv_out is owned by the
 * caller: harness_server_free.  SB_EIO if the dir or migrate fails. */
int harness_server_new(const harness_options *opts, harness_server **srv_out) SB_MUST_CHECK;

/* Start serve on the server's data dir: --port 0 --bind 127.0.0.1 --data
 * --web --threads --log-level --otp-sender log, stderr to a new
 * root/serve-N.log.  Reads the port from the "http.listen" line, then waits
 * for GET /healthz to answer 200, within HARNESS_START_TIMEOUT_MS.  On any
 * failure the process is killed, the log's tail printed, and SB_ETIMEOUT or
 * SB_EIO returned.  Also the restart after harness_server_kill/stop. */
int harness_server_start(harness_server *srv) SB_MUST_CHECK;

/* harness_server_new + harness_server_start; on failure nothing is left. */
int harness_server_up(const harness_options *opts, harness_server **srv_out) SB_MUST_CHECK;

/* Send a signal to the running server (e.g. SIGTERM while a request is in
 * flight); the process is not reaped: use harness_server_wait. */
int harness_server_signal(harness_server *srv, int signal_number) SB_MUST_CHECK;

/* Wait at most timeout_ms for the server to exit and reap it.  Exit status as
 * in harness_run.  SB_ETIMEOUT if it is still running (it is left running). */
int harness_server_wait(harness_server *srv, int timeout_ms, int *exit_status_out) SB_MUST_CHECK;

/* Graceful stop: SIGTERM, then wait HARNESS_STOP_TIMEOUT_MS.  If it does not
 * exit it is SIGKILLed and SB_ETIMEOUT returned.  When the exit status is not
 * 0 the log's tail is printed to stderr. */
int harness_server_stop(harness_server *srv, int *exit_status_out) SB_MUST_CHECK;

/* Crash: SIGKILL and reap (for recovery tests; then harness_server_start). */
int harness_server_kill(harness_server *srv) SB_MUST_CHECK;

/* Kill the server if it still runs, remove the temp dir (kept when
 * SB_KEEP_TMP=1), free srv.  NULL is fine. */
void harness_server_free(harness_server *srv);

/* The teardown test groups share: a graceful stop (harness_server_stop) if
 * the server still runs (one the test killed counts as stopped), then
 * harness_server_free, and *srv_io = NULL.  SB_OK when it exited with status
 * 0 (or *srv_io was NULL); else the stop's error, or SB_EIO for another exit
 * status, the failure printed to stderr. */
int harness_server_down(harness_server **srv_io) SB_MUST_CHECK;

/* Print the last max_lines lines of the current log to stderr. */
void harness_server_print_log(const harness_server *srv, int max_lines);

/* `socialbank user add --data DIR --username U --role ROLE` with the password
 * on stdin (works whether serve runs or not).  *user_id_out (may be NULL)
 * from the printed {"id":N,...}.  SB_EIO if the command fails. */
int harness_user_add(harness_server *srv, const char *username, const char *password, const char *role,
                     int64_t *user_id_out) SB_MUST_CHECK;

/* ---- the server's log (one JSON object a line) ---- */

/* The current size of the log: pass it as `from` to see only later lines. */
size_t harness_log_mark(const harness_server *srv);

/* Find the first complete line at or after byte offset `from` whose "event"
 * equals event and, when field is not NULL, whose top-level field equals
 * value (a string field compared as text, an integer field compared with its
 * decimal text).  *line_out (caller json_decref's; may be NULL) gets the
 * line, *next_out (may be NULL) the offset just after it.  SB_ENOTFOUND. */
int harness_log_find(const harness_server *srv, size_t from, const char *event, const char *field, const char *value,
                     json_t **line_out, size_t *next_out) SB_MUST_CHECK;

/* As harness_log_find, polling until a line appears or timeout_ms passes
 * (SB_ETIMEOUT). */
int harness_log_wait(const harness_server *srv, size_t from, const char *event, const char *field, const char *value,
                     int timeout_ms, json_t **line_out) SB_MUST_CHECK;

/* Lines with this event at or after `from`. */
size_t harness_log_count(const harness_server *srv, size_t from, const char *event);

/* ---- HTTP/1.1 client ---- */

typedef struct {
    char *name;
    char *value;
} harness_header;

/* A response.  body is NUL-terminated (body_len excludes the NUL; "" when
 * empty); json is the body parsed by jansson when it is JSON, else NULL.
 * Everything is owned by the response: harness_response_free. */
typedef struct {
    int status;
    harness_header headers[HARNESS_HEADERS_MAX];
    size_t header_count;
    char *body;
    size_t body_len;
    json_t *json;
} harness_response;

/* Free what a response holds and zero it (safe on a zeroed response). */
void harness_response_free(harness_response *response);
/* The first header of that name (case-insensitive), or NULL. */
const char *harness_header_get(const harness_response *response, const char *name);
/* error.code / error.message of an error body, or NULL. */
const char *harness_error_code(const harness_response *response);
const char *harness_error_message(const harness_response *response);

/* One request on a new connection (Connection: close), HARNESS_HTTP_TIMEOUT_MS.
 * token (may be NULL) becomes "Authorization: Bearer TOKEN"; content_type
 * (may be NULL) a Content-Type header; a body (may be NULL) gets
 * Content-Length; extra_headers (may be NULL) are NULL-terminated full lines
 * without CRLF ("X-Name: value").  *out is zeroed first and must be freed
 * with harness_response_free when SB_OK.  Errors: SB_ECLOSED if the server
 * closed without answering, SB_ETIMEOUT, SB_EINVAL (unparseable answer),
 * SB_ELIMIT, SB_EIO (cannot connect). */
int harness_http(int port, const char *method, const char *path, const char *token, const char *content_type,
                 const void *body, size_t body_len, const char *const *extra_headers,
                 harness_response *out) SB_MUST_CHECK;
/* GET path. */
/* harness_http with its own bound: for exchanges whose work grows with the
 * input (a batch of thousands of posts under a sanitizer on a loaded
 * machine).  A ceiling on a hung call, never a timed assertion. */
#define HARNESS_HTTP_SLOW_TIMEOUT_MS 180000
int harness_http_slow(int port, const char *method, const char *path, const char *token, const char *content_type,
                      const void *body, size_t body_len, const char *const *extra_headers, int timeout_ms,
                      harness_response *out) SB_MUST_CHECK;
int harness_http_get(int port, const char *path, const char *token, harness_response *out) SB_MUST_CHECK;
/* method path with json_text (may be NULL for no body) as application/json. */
int harness_http_json(int port, const char *method, const char *path, const char *token, const char *json_text,
                      harness_response *out) SB_MUST_CHECK;
/* Requests sent together by harness_http_parallel. */
#define HARNESS_PARALLEL_MAX 128
typedef struct {
    const char *method, *path, *token, *json_text; /* borrowed; token and json_text may be NULL */
    int result;                                    /* out: harness_http_json's result */
    harness_response response;                     /* out: valid when result is SB_OK */
} harness_parallel_request;

/* Race count requests (at most HARNESS_PARALLEL_MAX) against the server:
 * one thread and one connection each, released together by a barrier, each
 * with harness_http_json's bound; returns when all have answered or failed
 * (each request's own result in .result).  SB_EINVAL for a bad count,
 * SB_EIO if a thread cannot start (the others still finish first).  The
 * caller frees each SB_OK response with harness_response_free.  The one
 * harness call that runs threads: the HTTP client shares no state. */
int harness_http_parallel(int port, harness_parallel_request *requests, size_t count) SB_MUST_CHECK;

/* Send these exact bytes on a new connection and read one response within
 * timeout_ms.  SB_ECLOSED when the server closes without an answer. */
int harness_http_raw(int port, const void *bytes, size_t len, int timeout_ms, harness_response *out) SB_MUST_CHECK;

/* A client connection for keep-alive, pipelining and partial requests. */
typedef struct {
    int fd;
    sb_buf in; /* received, not yet consumed */
} harness_conn;

/* Connect to 127.0.0.1:port within timeout_ms.  *conn_out is owned by the
 * caller: harness_conn_close.  rcvbuf_bytes > 0 sets SO_RCVBUF first. */
int harness_conn_open(int port, int rcvbuf_bytes, int timeout_ms, harness_conn **conn_out) SB_MUST_CHECK;
/* Send all of bytes within timeout_ms.  SB_ECLOSED if the peer is gone. */
int harness_conn_send(harness_conn *conn, const void *bytes, size_t len, int timeout_ms) SB_MUST_CHECK;
/* Read one response (no body if head_request, or for 1xx/204/304) within
 * timeout_ms; bytes after it stay buffered for the next one.  SB_ECLOSED if
 * the peer closed before a complete response. */
int harness_conn_read_response(harness_conn *conn, bool head_request, int timeout_ms,
                               harness_response *out) SB_MUST_CHECK;
/* Wait at most timeout_ms for the peer to close (EOF or reset), discarding
 * whatever else arrives.  SB_OK when closed, SB_ETIMEOUT if still open. */
int harness_conn_wait_closed(harness_conn *conn, int timeout_ms) SB_MUST_CHECK;
/* Close the socket and free.  NULL is fine. */
void harness_conn_close(harness_conn *conn);

/* ---- WebSocket client (RFC 6455) ---- */

enum {
    HARNESS_WS_CONTINUATION = 0x0,
    HARNESS_WS_TEXT = 0x1,
    HARNESS_WS_BINARY = 0x2,
    HARNESS_WS_CLOSE = 0x8,
    HARNESS_WS_PING = 0x9,
    HARNESS_WS_PONG = 0xA,
};

typedef struct harness_ws harness_ws;

/* One received frame or message.  data is NUL-terminated (len excludes it).
 * For a close, close_code is the peer's code (1005 when none was given) and
 * data the reason.  Free with harness_ws_message_free. */
typedef struct {
    int opcode;
    bool fin;
    char *data;
    size_t len;
    int close_code;
} harness_ws_message;

/* Open a WebSocket: GET path (e.g. "/api/ws" or "/api/ws?token=T") with the
 * upgrade headers and, when token is not NULL, "Authorization: Bearer T".
 * Checks 101 and Sec-WebSocket-Accept.  If the server answers anything else
 * the answer goes to *refusal_out (may be NULL; free it) and SB_EPERM is
 * returned.  rcvbuf_bytes > 0 shrinks the socket's receive buffer (slow
 * reader tests).  *ws_out is owned by the caller: harness_ws_free. */
int harness_ws_connect(int port, const char *path, const char *token, int rcvbuf_bytes, int timeout_ms,
                       harness_ws **ws_out, harness_response *refusal_out) SB_MUST_CHECK;
/* The common case: open /api/ws on port with token in the header, within
 * HARNESS_HTTP_TIMEOUT_MS, and read the {"type":"hello",...} the server sends
 * first (*hello_out, may be NULL; caller json_decref's).  SB_EPERM if the
 * upgrade is refused. */
int harness_ws_open(int port, const char *token, harness_ws **ws_out, json_t **hello_out) SB_MUST_CHECK;
/* Send one masked frame (opcode HARNESS_WS_*, fin false for a fragment that
 * more continuation frames follow).  SB_ECLOSED if the peer is gone. */
int harness_ws_send_frame(harness_ws *ws, int opcode, bool fin, const void *payload, size_t len) SB_MUST_CHECK;
/* One text frame holding text. */
int harness_ws_send_text(harness_ws *ws, const char *text) SB_MUST_CHECK;
/* A close frame with code (and no reason). */
int harness_ws_send_close(harness_ws *ws, int code) SB_MUST_CHECK;
/* Read one frame as it arrives (no reassembly, no automatic answers). */
int harness_ws_read_frame(harness_ws *ws, int timeout_ms, harness_ws_message *out) SB_MUST_CHECK;
/* Read the next message: fragments reassembled, the server's pings answered
 * with pongs and skipped; returns text, binary, pong and close (a close is
 * answered with a close once).  SB_ECLOSED if the connection ends without a
 * close frame, SB_ETIMEOUT, SB_EINVAL on a protocol error by the server. */
int harness_ws_read(harness_ws *ws, int timeout_ms, harness_ws_message *out) SB_MUST_CHECK;
/* The next text message parsed as JSON (*json_out: caller json_decref's).
 * A pong is skipped; a close frame gives SB_ECLOSED (its code in
 * *close_code_out, may be NULL; 0 when the TCP connection just ended);
 * binary or non-JSON text gives SB_EINVAL. */
int harness_ws_read_json(harness_ws *ws, int timeout_ms, json_t **json_out, int *close_code_out) SB_MUST_CHECK;
/* Read JSON messages until one has "type" equal to type (others are
 * discarded), within timeout_ms overall. */
int harness_ws_expect_type(harness_ws *ws, const char *type, int timeout_ms, json_t **json_out) SB_MUST_CHECK;
/* True if the peer has closed or reset the TCP connection (checked without
 * reading what is buffered). */
bool harness_ws_peer_gone(harness_ws *ws);
/* The socket, for poll(). */
int harness_ws_fd(const harness_ws *ws);
/* Close handshake: send close(code), wait at most timeout_ms for the peer's
 * close (its code in *peer_code_out, may be NULL).  The ws stays allocated. */
int harness_ws_close(harness_ws *ws, int code, int timeout_ms, int *peer_code_out) SB_MUST_CHECK;
/* Close the socket and free.  NULL is fine. */
void harness_ws_free(harness_ws *ws);
void harness_ws_message_free(harness_ws_message *message);

/* ---- logins ---- */

/* Ask for a one-time code for phone (any accepted form) and read it from the
 * "otp.code" log line.  *status_out (may be NULL) is the request's HTTP
 * status; code_out gets the code, phone_e164_out (may be NULL) the phone the
 * server answered with.  SB_EPERM when the request is not answered with 202. */
int harness_otp_request(harness_server *srv, const char *phone, int *status_out, char code_out[16],
                        char phone_e164_out[SB_PHONE_BYTES]) SB_MUST_CHECK;
/* Log a customer in by phone: request a code, read it from the log, verify
 * it with the same phone text.  token_out gets the bearer token; *user_out
 * (may be NULL; caller json_decref's) the answer's "user".  SB_EPERM if a
 * step is not answered as the contract says. */
int harness_customer_login(harness_server *srv, const char *phone, char token_out[HARNESS_TOKEN_BYTES],
                           json_t **user_out) SB_MUST_CHECK;
/* POST /api/auth/login.  SB_EPERM unless answered 200 with a token. */
int harness_staff_login(harness_server *srv, const char *username, const char *password,
                        char token_out[HARNESS_TOKEN_BYTES], json_t **user_out) SB_MUST_CHECK;

/* A new staff user of role ("agent", "analyst", "marketer", "admin") made
 * with `user add` (username "ROLE.N", a generated password) and logged in.
 * username_out (may be NULL, SB_USERNAME_BYTES_MAX + 1 bytes) gets its name. */
int harness_staff_token(harness_server *srv, const char *role, char token_out[HARNESS_TOKEN_BYTES],
                        char *username_out) SB_MUST_CHECK;

/* ---- helpers ---- */

/* Follow a dotted path ("user.phone", "routes.3.path": array indexes are
 * numbers) from root; a borrowed reference or NULL. */
json_t *harness_json_path(json_t *root, const char *dotted_path);
/* JSON text of value (caller sb_free's), for messages. */
char *harness_json_text(const json_t *value);
/* Sum the values of Prometheus text lines of metric `name` (exactly that
 * name, so "x_bucket" is a different metric) that carry every label pair in
 * labels (NULL-terminated entries such as "route=\"/healthz\"", may be NULL).
 * *found_out (may be NULL) tells whether any line matched. */
double harness_metrics_sum(const char *text, const char *name, const char *const *labels, bool *found_out);
/* Monotonic milliseconds, and a sleep. */
int64_t harness_now_ms(void);
void harness_sleep_ms(int ms);

/* ---- shared fixtures of cmocka test files ----
 * The helpers below that return a value rather than an SB_* code fail the
 * running cmocka test (an assertion) instead: call them only from a test. */

/* A group setup: harness_server_up with the defaults into *srv_out and, when
 * admin_token_out is not NULL, a new admin's token (harness_staff_token).
 * Tear down with harness_server_down(srv_out).  On failure the error is
 * returned, printed, and no server is left (*srv_out NULL). */
int harness_group_up(harness_server **srv_out, char *admin_token_out) SB_MUST_CHECK;

/* A logged-in customer: its bearer token and user id. */
typedef struct {
    char token[HARNESS_TOKEN_BYTES];
    json_int_t id;
} harness_customer;

/* Log a new customer in with the phone phone_prefix followed by ++*counter_io
 * as four digits (e.g. "0912444" and 7 give "09124440007"), so each call in
 * a test file gets a fresh phone.  token_out gets the bearer token,
 * *user_id_out the answer's user.id (0 when missing: the test asserts it).
 * Errors of harness_customer_login; SB_EINVAL if the phone does not fit. */
int harness_customer_new(harness_server *srv, const char *phone_prefix, int *counter_io,
                         char token_out[HARNESS_TOKEN_BYTES], json_int_t *user_id_out) SB_MUST_CHECK;

/* harness_customer_new for a test, then made discoverable (others may find
 * them, open a chat with them, add them to a group): the test fails unless
 * each step succeeds (user id > 0). */
harness_customer harness_customer_next(harness_server *srv, const char *phone_prefix, int *counter_io);
/* The same, left hidden (not discoverable, the default of a new customer). */
harness_customer harness_customer_hidden(harness_server *srv, const char *phone_prefix, int *counter_io);

/* The 1:1 chat of the customer with token and peer_id (opened if new): its
 * id.  The test fails unless it is answered 200 or 201. */
json_int_t harness_direct_chat(const harness_server *srv, const char *token, json_int_t peer_id);

/* The standard group fixtures of a test file whose server lives in the
 * static `harness_server *srv_var`: defines static group_setup
 * (harness_group_up with admin_token_out, which may be NULL) and
 * group_teardown (harness_server_down: the server must exit with 0). */
#define HARNESS_GROUP_FIXTURES(srv_var, admin_token_out)                                                               \
    static int group_setup(void **state) {                                                                             \
        (void)state;                                                                                                   \
        return harness_group_up(&(srv_var), (admin_token_out)) == SB_OK ? 0 : -1;                                      \
    }                                                                                                                  \
    static int group_teardown(void **state) {                                                                          \
        (void)state;                                                                                                   \
        return harness_server_down(&(srv_var)) == SB_OK ? 0 : -1;                                                      \
    }

/* The integer at dotted_path (as harness_json_path) in root.  When there is
 * none, root's JSON text is printed to stderr and the test fails. */
json_int_t harness_json_int(json_t *root, const char *dotted_path);

/* The string at dotted_path in root (borrowed from root), or "" when there
 * is no string there. */
const char *harness_json_str(json_t *root, const char *dotted_path);

/* harness_http_json to srv with a bearer token (may be NULL) and json_text
 * (may be NULL: no body); the test fails unless an answer came (any status).
 * The caller frees the response with harness_response_free. */
harness_response harness_call(const harness_server *srv, const char *method, const char *path, const char *token,
                              const char *json_text);
/* harness_call with body_take (ownership taken; NULL: no body) as compact
 * JSON; the test fails unless the status is want_status (the body printed
 * first).  Returns the answer's JSON (the caller's: json_decref), or NULL
 * when it had none. */
json_t *harness_call_json(const harness_server *srv, const char *method, const char *path, const char *token,
                          json_t *body_take, int want_status);
/* harness_call with the body made by printf from fmt (NULL: no body). */
harness_response harness_callf(const harness_server *srv, const char *method, const char *path, const char *token,
                               const char *fmt, ...) SB_PRINTF(5, 6);
/* harness_callf with a va_list (for a test's own printf-style wrapper). */
harness_response harness_callv(const harness_server *srv, const char *method, const char *path, const char *token,
                               const char *fmt, va_list ap) SB_PRINTF(5, 0);

/* The admin's ledger check as the route runs it, off the event loop: POST
 * /api/admin/ledger/verify (202 with a job id), then poll GET
 * /api/admin/ledger/verify/:id until the job is no longer running (at most
 * HARNESS_VERIFY_WAIT_MS).  Returns the job's "result" object (owned by the
 * caller: json_decref); the test fails on any other answer or a timeout. */
#define HARNESS_VERIFY_WAIT_MS 60000
json_t *harness_ledger_verify(int port, const char *admin_token);

/* ---- assertions for cmocka tests (expanded in the test, which includes cmocka.h) ---- */
/* The response has this status; on failure the body is printed first. */
#define HARNESS_ASSERT_STATUS(response, want)                                                                          \
    do {                                                                                                               \
        if ((response).status != (want))                                                                               \
            fprintf(stderr, "harness: %s:%d: status %d, want %d; body: %.600s\n", __FILE__, __LINE__,                  \
                    (response).status, (want), (response).body ? (response).body : "");                                \
        assert_int_equal((response).status, (want));                                                                   \
    } while (0)
/* The response is a JSON error with this status and error.code. */
#define HARNESS_ASSERT_ERROR(response, want_status, want_code)                                                         \
    do {                                                                                                               \
        HARNESS_ASSERT_STATUS(response, want_status);                                                                  \
        const char *harness_code_ = harness_error_code(&(response));                                                   \
        if (!harness_code_) fprintf(stderr, "harness: not an error body: %.600s\n", (response).body);                  \
        assert_non_null(harness_code_);                                                                                \
        assert_string_equal(harness_code_, (want_code));                                                               \
    } while (0)

#endif /* SB_TESTS_HARNESS_H */
