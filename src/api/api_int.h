/*
 * api_int.h - the inside of the api module, shared by its files and exposed
 * to tests/unit/test_api.c and tests/fuzz/fuzz_api.c: the router's table and
 * matcher, JSON body validation, error mapping, and the metrics counters.
 */
#ifndef SB_API_INT_H
#define SB_API_INT_H

#include <stdatomic.h>

#include "api/api.h"

#define API_PATTERN_BYTES_MAX SB_HTTP_ROUTE_PATTERN_BYTES_MAX
#define API_SEGMENTS_MAX SB_HTTP_PATH_SEGMENTS_MAX
#define API_METRICS_TEXT_BYTES_MAX SB_HTTP_METRICS_TEXT_BYTES_MAX

/* ---- router ---- */
typedef struct {
    char method[8];
    char pattern[API_PATTERN_BYTES_MAX];
    int roles; /* identity_role bits | API_QUERY_TOKEN, or API_PUBLIC */
    api_handler_fn handler;
    int nsegments;
    uint16_t seg_off[API_SEGMENTS_MAX]; /* offsets into pattern (after the '/') */
    uint16_t seg_len[API_SEGMENTS_MAX];
    uint16_t seg_prefix[API_SEGMENTS_MAX]; /* a parameter's literal prefix ("bot" of "bot:token"), else 0 */
    uint32_t param_mask;                   /* bit i set: segment i is a ":name" parameter */
    int index;                             /* position in the table: also its metrics slot */
} api_route;

struct api_router {
    api_route routes[SB_HTTP_ROUTES_MAX];
    int count;
    int error;
    char error_message[320];
};

typedef struct {
    const char *name; /* into the route pattern, not NUL-terminated */
    size_t name_len;
    const char *value; /* raw (still percent-encoded) into the request path */
    size_t value_len;
} api_param_ref;

typedef struct {
    const api_route *route;
    int nparams;
    api_param_ref params[SB_HTTP_PATH_PARAMS_MAX];
} api_match;

enum { API_MATCH_FOUND = 0, API_MATCH_NOT_FOUND = 1, API_MATCH_BAD_METHOD = 2 };

void api_router_init(api_router *r);
/* Find the route for method + path (the path without its query string).  HEAD
 * matches GET routes.  Returns API_MATCH_FOUND (*out filled),
 * API_MATCH_NOT_FOUND, or API_MATCH_BAD_METHOD with the methods the path
 * does allow written to allow ("GET, HEAD, POST"; allow_size >= 64). */
int api_router_match(const api_router *r, const char *method, size_t method_len, const char *path, size_t path_len,
                     api_match *out, char *allow, size_t allow_size);
/* Register every module's routes (routes.c). */
void api_routes_register_all(api_router *r);

/* Percent-decode in into out (out_size >= in_len + 1).  SB_EINVAL for a
 * broken escape or an encoded NUL.  *out_len gets the decoded length. */
int api_percent_decode(const char *in, size_t in_len, char *out, size_t out_size, size_t *out_len) SB_MUST_CHECK;

/* ---- JSON bodies ---- */
/* Parse a request body: non-recursive depth check (SB_JSON_DEPTH_MAX), valid
 * UTF-8, strict jansson parse without duplicate keys, top level an object.
 * On success *out is a new reference owned by the caller.  On failure the
 * message (naming line and column for syntax errors) goes to err (err_size
 * bytes) and the result is SB_EINVAL (bad JSON, *err_is_syntax true) or
 * SB_EINVAL with *err_is_syntax false (valid JSON but not an object). */
int api_json_parse_body(const char *data, size_t len, json_t **out, char *err, size_t err_size,
                        bool *err_is_syntax) SB_MUST_CHECK;
/* Deepest nesting of arrays/objects in a JSON text (strings skipped), or -1
 * once it exceeds max_depth (the scan stops there). */
int api_json_depth(const char *data, size_t len, int max_depth);

/* ---- Bot API parameters (botapi_params.c) ---- */
/* The parameters of a Bot API call into *out (a new JSON object owned by the
 * caller): the query string (query may be NULL), then a body that is
 * application/json (an object), application/x-www-form-urlencoded or
 * multipart/form-data (no file parts), body fields winning.  SB_EINVAL with
 * Telegram's description in why (a body over SB_BOTAPI_BODY_BYTES_MAX, an
 * unknown content type, a malformed form, more than SB_BOTAPI_PARAMS_MAX
 * fields, a name not of [A-Za-z0-9_], a value not UTF-8 or with NUL), SB_ENOMEM. */
int api_botapi_params_parse(const char *query, size_t query_len, const char *content_type, size_t content_type_len,
                            const char *body, size_t body_len, json_t **out, char *why, size_t why_size) SB_MUST_CHECK;

/* ---- errors ---- */
/* HTTP status and error code for an SB_E* result. */
int api_status_for_error(int sb_code, const char **code_out);
/* Reason phrase for a status ("Not Found"); "Unknown" otherwise. */
const char *api_reason_phrase(int status);
/* The error body {"error":{"code":...,"message":...}} into out (reset first). */
int api_error_body(sb_buf *out, const char *code, const char *message) SB_MUST_CHECK;

/* ---- metrics ---- */
/* Slots: one per route (its index), then pseudo routes for requests that
 * matched no route (by method) and for static files. */
enum {
    API_SLOT_UNMATCHED = SB_HTTP_ROUTES_MAX,  /* + method group 0..7 */
    API_SLOT_STATIC = SB_HTTP_ROUTES_MAX + 8, /* + 0 GET, 1 HEAD */
    API_SLOTS = SB_HTTP_ROUTES_MAX + 10,
};
#define API_METHOD_GROUPS 8
#define API_STATUS_SLOTS 24
#define API_LATENCY_BUCKETS 14 /* 13 bounds + the +Inf bucket */

/* One thread's counters.  Only the owning thread writes (relaxed atomic
 * load+store, no lock, no read-modify-write); /metrics reads all threads. */
typedef struct {
    _Atomic uint64_t requests[API_SLOTS][API_STATUS_SLOTS];
    _Atomic uint64_t latency[API_SLOTS][API_LATENCY_BUCKETS]; /* per bucket, not cumulative */
    _Atomic uint64_t latency_sum_ns[API_SLOTS];
    _Atomic int64_t websockets_open;
    _Atomic uint64_t websockets_dropped_slow; /* send queue full: the reader was too slow */
} api_metrics;

/* Process-wide counters of messenger pushes (any thread pushes: relaxed
 * atomic adds).  A push is one event sent to its recipients' sockets. */
typedef struct {
    _Atomic uint64_t pushed;      /* events sent to at least one open socket */
    _Atomic uint64_t no_listener; /* events whose recipients had no open socket */
    _Atomic uint64_t failed;      /* not rendered or not queued (memory, size) */
} api_push_counters;
api_push_counters *api_server_push_counters(api_server *srv);

/* Method group of a method name (GET 0, HEAD 1, POST 2, PUT 3, PATCH 4,
 * DELETE 5, OPTIONS 6, anything else 7), and its label. */
int api_method_group(const char *method, size_t len);
const char *api_method_group_name(int group);
/* Count one request in m (owned by the calling thread). */
void api_metrics_record(api_metrics *m, int slot, int status, uint64_t duration_ns);
void api_metrics_ws_add(api_metrics *m, int delta);
/* Render the Prometheus text (format 0.0.4) summed over the given threads,
 * labelling slots with the router's patterns.  out is reset first. */
int api_metrics_render(const api_router *r, api_metrics *const *threads, int nthreads, sb_buf *out) SB_MUST_CHECK;
/* Append the families beyond HTTP: WebSocket drops, messenger pushes, and
 * from srv's application context the ledger writer and the channel feed
 * (when it runs them). */
int api_metrics_render_runtime(api_server *srv, api_metrics *const *threads, int nthreads, sb_buf *out) SB_MUST_CHECK;

/* ---- internals shared between the api's own files ---- */
/* Prometheus histogram bounds in seconds (text) and ns. */
extern const char *const api_latency_bounds_text[API_LATENCY_BUCKETS - 1];
extern const uint64_t api_latency_bounds_ns[API_LATENCY_BUCKETS - 1];

/* ---- money routes: what routes_payments.c shares with routes_chatpay.c ---- */
/* The handler's payops context (c->app's, store = the thread's); while
 * payments are not running it answers 503 and returns SB_ECLOSED. */
int api_payments_ctx(api_ctx *c, payops_ctx *out) SB_MUST_CHECK;
/* Answer a payops error as the payment routes do (docs/API.md), using the
 * reason, limit, ledger result or verdict in why (may be NULL).  SB_OK when
 * answered, else the code itself for the generic mapping. */
int api_payments_reply_error(api_ctx *c, int result, const payops_receipt *why) SB_MUST_CHECK;
/* A receipt as the payment routes show it (new reference, NULL on ENOMEM). */
json_t *api_payments_receipt_json(const payops_receipt *r);
/* A relative "expires_in_s" body field as an absolute time; answers 400
 * naming the field and returns SB_EINVAL. */
int api_payments_body_expiry(api_ctx *c, int64_t *expires_at_ms_out) SB_MUST_CHECK;
/* The split fields of a body (members, subtotal_minor, tax_minor, tip_minor,
 * mode, values, remainder_share, title, expires_in_s) into the caller's
 * arrays (members_max entries each) and *spec (values points into values).
 * A member may be a user id or an alias (@username, mobile, e-mail): ids
 * are filled in, aliases are left 0 for a caller that resolves them
 * (POST /api/splits); a caller that takes ids only refuses the 0.
 * SB_OK, or answered 400 and a negative code. */
int api_payments_split_body(api_ctx *c, size_t members_max, int64_t *members, int64_t *values,
                            payments_split_spec *spec, const char **title, int64_t *expires_at) SB_MUST_CHECK;

/* ---- the server's inside (h2o types): shared by http.c, ws.c, routes ---- */
#include <h2o.h>
#include <h2o/websocket.h>
#include <pthread.h>

typedef struct api_ws_conn api_ws_conn;
#define API_WS_BUCKETS 1024
/* Buckets of the cross-thread WebSocket registry. */
#define API_WS_REGISTRY_BUCKETS 4096

/* One event loop thread: everything in it is touched only by that thread,
 * except `receiver` (the cross-thread queue) and `metrics` (read by scrapes). */
typedef struct api_thread {
    struct api_server *server;
    int index;
    pthread_t tid;
    bool started;
    h2o_evloop_t *loop;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    int listen_fd;
    h2o_socket_t *listener;
    store *store;
    api_metrics *metrics;
    h2o_multithread_queue_t *queue;
    h2o_multithread_receiver_t receiver;
    bool stopping;
    h2o_socket_cb h2o_read; /* h2o's HTTP/1 read callback, learned at the first accept (http_guard.c) */
    int64_t connections;    /* open client connections (HTTP and WebSocket) */
    int64_t refused_logged_ms;
    h2o_linklist_t conns;
    h2o_timeout_t request_timeout;
    /* WebSockets of this thread: by user (chained buckets) and all of them. */
    api_ws_conn *ws_buckets[API_WS_BUCKETS];
    api_ws_conn *ws_all;
    int ws_count;
    h2o_timeout_t ws_ping_timeout;
    h2o_timeout_entry_t ws_ping_entry;
    h2o_timeout_t ws_zero_timeout;
    /* Connections with queued messages, written once at the end of the loop
     * turn (so many pushes to one connection cost one write). */
    api_ws_conn *ws_dirty;
    h2o_timeout_entry_t ws_write_entry;
    uint64_t ws_next_conn_id;
    /* Message sends gathered from frames during a loop turn (ws_messenger.c). */
    struct api_ws_send_batch *ws_sends;
    /* Parked Bot API long polls (botapi_poll.c) and their tick; the count is
     * read by other threads to skip waking a thread with none. */
    struct botapi_poll *botapi_polls;
    bool botapi_tick_ready;
    h2o_timeout_t botapi_tick;
    h2o_timeout_entry_t botapi_tick_entry;
    _Atomic int botapi_parked;
} api_thread;

/* Which threads hold an open WebSocket of a user (ws.c). */
typedef struct api_ws_presence {
    int64_t user_id;
    uint64_t thread_mask;
    struct api_ws_presence *next;
} api_ws_presence;

struct api_thread_msg;
struct api_peer;
struct sb_offload;

/* Buckets of a server's table of connections per client address. */
#define API_PEER_BUCKETS 4096

/* One server (http.c creates it; ws.c keeps its registry and inboxes). */
struct api_server {
    sb_app *app;
    api_server_config cfg;
    api_router router;
    h2o_globalconf_t config;
    bool config_ready;
    api_thread *threads;
    int nthreads;
    int port;
    bool running; /* between a successful start and stop */
    int web_fd;
    char healthz[160];
    size_t healthz_len;
    /* The cross-thread registry: user -> threads with a WebSocket of theirs. */
    pthread_mutex_t registry_lock;
    bool registry_open;
    api_ws_presence *registry[API_WS_REGISTRY_BUCKETS];
    /* Per-thread ordered inboxes: pushes from other threads, FIFO. */
    struct {
        pthread_mutex_t lock;
        struct api_thread_msg *head, *tail;
    } inboxes[SB_THREADS_MAX];
    /* Held from a messenger write's commit to the end of its pushes. */
    pthread_mutex_t order_lock;
    /* Open connections per client address and in total (http_guard.c). */
    pthread_mutex_t peers_lock;
    struct api_peer *peers[API_PEER_BUCKETS];
    int64_t peers_total;
    /* Password checks, off the loops (api_defer). */
    struct sb_offload *passwords;
    /* Media uploads (decode, re-encode, hash, store), off the loops. */
    struct sb_offload *media_jobs;
    /* The Bot API's state: wakes, rate buckets, the sender (botapi_int.h). */
    struct api_botapi *botapi;
    /* cfg.metrics_token points here (a copy, wiped when freed). */
    char metrics_token[SB_HTTP_METRICS_TOKEN_BYTES_MAX + 1];
    api_push_counters push;         /* messenger pushes (push.c) */
    SSL_CTX *tls;                   /* NULL: plain HTTP */
    struct api_verify_jobs *verify; /* ledger verify jobs (verify_jobs.c) */
};

/* One client connection: counted per thread and per address, its request
 * timer (http.c), and its body guard (http_guard.c). */
typedef struct api_conn {
    api_thread *thread;
    h2o_socket_t *sock;
    h2o_timeout_entry_t timer;
    h2o_linklist_t link; /* the thread's connections */
    struct api_peer *peer;
    h2o_socket_cb h2o_write; /* the write callback of h2o's our guard stands in for */
    bool upgraded;           /* a WebSocket now: the guard lets go */
    bool refused;            /* answered 413 by the guard; closing */
    bool closed;             /* h2o closed it inside a callback the guard runs: freed there */
    int in_callback;
} api_conn;

/* The head of a request as the guard sees it (pointers into the scanned
 * bytes; path without the query). */
typedef struct {
    const char *method, *path;
    size_t method_len, path_len, head_len;
    int64_t content_length; /* the largest Content-Length, -1 if none */
    bool chunked;
} api_head;
/* Scan the head at the start of data.  SB_OK (complete), SB_ENOTFOUND (not
 * all there yet), SB_EINVAL (malformed or longer than the header caps: left
 * to h2o to answer). */
int api_head_scan(const char *data, size_t len, api_head *out) SB_MUST_CHECK;
/* The body cap of the route method + path would reach on srv (public routes
 * and unknown paths SB_HTTP_BODY_BYTES_MAX_UNAUTH, ingest
 * SB_HTTP_INGEST_BODY_BYTES_MAX, others SB_HTTP_BODY_BYTES_MAX). */
size_t api_server_body_cap(const api_server *srv, const char *method, size_t method_len, const char *path,
                           size_t path_len);
/* Count a new connection of srv against its address and the total:
 * SB_ELIMIT over a cap (close it), SB_ENOMEM.  Any thread. */
int api_peer_acquire(api_server *srv, h2o_socket_t *sock, struct api_peer **out) SB_MUST_CHECK;
void api_peer_release(api_server *srv, struct api_peer *peer);
/* Free what is left of srv's table (api_server_free). */
void api_peers_dispose(api_server *srv);
/* After h2o_accept: stand in front of h2o's read callback. */
void api_guard_start(api_conn *conn);
/* After h2o was given an answer to write, or read something: stand in
 * front of its callbacks again. */
void api_guard_wrap(api_conn *conn);

/* The private part of a request, behind api_ctx.request. */
struct api_request {
    h2o_req_t *req;
    api_thread *thread;
    api_match match;
    const api_route *route;
    bool replied;
    bool deferred; /* api_defer took it: answered later, logged then */
    int status;
    int method_group;
    uint64_t start_ns;
    char *param_values[SB_HTTP_PATH_PARAMS_MAX]; /* decoded on first use, in the request pool */
    char client_addr[64];
};

/* Keep an error message valid UTF-8 (it may quote the input): when it is
 * not, every non-ASCII byte becomes '?'. */
void api_message_utf8(char *message);

/* Answer with bytes that outlive the request (not copied). */
void api_reply_static(api_ctx *c, int status, const char *content_type, const char *data, size_t len);
/* Note an answer given by other means (the 101 of a WebSocket upgrade). */
void api_reply_mark(api_ctx *c, int status);

/* ---- answers made off the loop (http.c) ----
 * A handler whose work is CPU-heavy (argon2id) hands it to the password
 * pool: run happens on a pool thread with that thread's own store
 * connection (never NULL: for a worker without one the request is answered
 * with SB_EIO's error and run is skipped), then answer
 * runs back on the request's loop thread and answers with api_reply_*
 * (c->store is the loop's; c->body and c->principal are gone by then: copy
 * what run and answer need into data).  free runs exactly once, on either
 * path, and should wipe secrets.  If the client has gone by then, answer is
 * skipped.  If the pool stops first, the request is answered 503. */
typedef struct {
    void (*run)(void *data, store *worker_store);
    void (*answer)(api_ctx *c, void *data);
    void (*free)(void *data);
} api_deferred_ops;
/* Defer the answer of c's request (data taken).  SB_OK: answered later, or
 * already answered 503 "busy" with Retry-After when the pool is full (or
 * 503 "unavailable" when it is stopping); the handler returns SB_OK.
 * SB_ENOMEM: nothing deferred, data freed. */
int api_defer(api_ctx *c, const api_deferred_ops *ops, void *data_take) SB_MUST_CHECK;
/* The pools api_defer_to hands work to. */
enum { API_POOL_PASSWORD = 0, API_POOL_MEDIA = 1 };
/* api_defer onto another pool (API_POOL_MEDIA: media uploads). */
int api_defer_to(api_ctx *c, int pool, const api_deferred_ops *ops, void *data_take) SB_MUST_CHECK;

/* The server of the request (c->request->thread->server). */
api_server *api_ctx_server(const api_ctx *c);
/* api_ctx_push for code on a loop thread without a request (frames). */
void api_thread_push(api_thread *t, const messenger_events *events);

/* A connection became a WebSocket, or parked its request (a Bot API long
 * poll): its request timer stops. */
void api_connection_upgraded(h2o_req_t *req);

/* WebSockets (ws.c). */
int api_ws_handle(api_ctx *c);              /* GET /api/ws */
void api_ws_thread_init(api_thread *t);     /* in the thread, before the loop runs */
void api_ws_thread_shutdown(api_thread *t); /* close every connection with 1001 */
void api_ws_thread_dispose(api_thread *t);  /* drop what is left; stop timers */
/* Set up / tear down a server's registry and inboxes (api_server_new,
 * api_server_free); open/close it (api_ws_send_to_user refuses when closed). */
void api_ws_registry_init(api_server *srv);
void api_ws_registry_dispose(api_server *srv);
void api_ws_registry_open(api_server *srv);
void api_ws_registry_close(api_server *srv);
/* Session session_id of user_id ended (signed out): close each of its
 * WebSockets on srv with 4001 "session_revoked", on whatever thread it
 * lives (this thread's at once, others' through their inbox).  Any thread;
 * never fails the caller: connections a message could not reach find out at
 * their next session check (the ping timer). */
void api_ws_session_end(api_server *srv, int64_t user_id, int64_t session_id);

/* Cross-thread messages to a loop.  API_MSG_WS_SEND: `text` (len bytes, then
 * a NUL) goes to every open WebSocket of the user_count users whose ids
 * follow the text (user_ids points there). */
/* API_MSG_WS_SESSION_END (only in ws.c's inbox): close every WebSocket of
 * session `session_id` of user `session_user_id` with 4001.
 * API_MSG_DEFERRED: the off-loop work of request `deferred` is done (or
 * cancelled): answer it on this loop (http.c).
 * API_MSG_BOT_WAKE: updates arrived for bot `bot_id`: answer its parked
 * long polls on this loop (botapi_poll.c). */
enum {
    API_MSG_SHUTDOWN = 1,
    API_MSG_WS_SEND = 2,
    API_MSG_WS_SESSION_END = 3,
    API_MSG_DEFERRED = 4,
    API_MSG_BOT_WAKE = 5,
};
typedef struct api_thread_msg {
    h2o_multithread_message_t super;
    struct api_thread_msg *inbox_next; /* ws.c's ordered inbox */
    int kind;
    int64_t session_id, session_user_id;
    struct api_deferred *deferred;
    int64_t bot_id; /* API_MSG_BOT_WAKE: the bot with new updates */
    size_t user_count;
    const int64_t *user_ids;
    size_t len;
    char text[];
} api_thread_msg;
/* An API_MSG_WS_SEND arrived: write what the thread's ordered inbox holds
 * (ws.c) to its connections, in the order it was put there. */
void api_ws_deliver(api_thread *t, const api_thread_msg *msg);

/* ---- WebSocket frames: dispatch by "type" ---- */
/* A client's text frame, parsed.  Handlers run on the connection's thread
 * inside wslay's receive callback: they may queue answers (api_ws_reply_*)
 * but never write to sockets or close connections themselves. */
typedef struct {
    api_ws_conn *conn;
    api_thread *thread;
    int64_t user_id;
    int role;
    json_t *root;   /* the frame's JSON object, borrowed */
    int64_t now_ms; /* wall clock */
} api_ws_frame;
typedef void (*api_ws_frame_fn)(const api_ws_frame *f);
/* The frame types (routes.c's table: add a line there for a new type). */
typedef struct {
    const char *type;
    api_ws_frame_fn fn;
} api_ws_frame_type;
extern const api_ws_frame_type api_ws_frame_types[];
extern const size_t api_ws_frame_type_count;
void api_ws_frame_ping(const api_ws_frame *f);    /* ws.c: {"type":"pong","id":...} */
void api_ws_frame_echo(const api_ws_frame *f);    /* ws.c: {"type":"echo","data":...} */
void api_ws_frame_send(const api_ws_frame *f);    /* messenger: send (gathered, batched) */
void api_ws_frame_receipt(const api_ws_frame *f); /* messenger: delivered/read marks */
void api_ws_frame_typing(const api_ws_frame *f);  /* messenger: typing indicator */

/* Queue a JSON text (copied) or object (taken) to one connection; a full
 * queue drops the connection as for any push. */
void api_ws_reply_text(api_ws_conn *w, const char *text, size_t len);
void api_ws_reply_json(api_ws_conn *w, json_t *obj_take);
/* {"type":"error","client_id":K|null,"error":{"code":C,"message":M}};
 * client_id may be NULL. */
void api_ws_reply_error(api_ws_conn *w, const char *client_id, const char *code, const char *message);
/* A connection's id, unique on its thread for the process's life, and the
 * connection of user_id with that id (NULL once it has gone). */
uint64_t api_ws_conn_id(const api_ws_conn *w);
api_ws_conn *api_ws_conn_find(api_thread *t, int64_t user_id, uint64_t conn_id);

/* Per-thread send batches (ws_messenger.c): made on the thread's first send
 * frame, flushed at the end of each loop turn that gathered a send (or when
 * full), flushed and freed when the thread stops (http.c's loop calls this
 * before the WebSocket shutdown and again before its dispose). */
void api_ws_sends_thread_dispose(api_thread *t);

/* Push one text to every open WebSocket of count users, on whatever thread
 * each lives: to other threads with one message each in their ordered inbox,
 * on the calling loop thread directly once its own inbox is drained (so
 * pushes made under api_ws_order_lock arrive everywhere in that order).  Same errors as api_ws_send_to_user, except
 * that SB_ENOTFOUND is never returned (users without a socket are skipped). */
/* Held from a messenger write's commit to the end of its pushes, so that
 * every device receives the events of writes in commit order (per-chat seq
 * order), whichever thread made them. */
void api_ws_order_lock(api_server *srv);
void api_ws_order_unlock(api_server *srv);
int api_ws_send_to_users(api_server *srv, const int64_t *user_ids, size_t count, const char *json_text,
                         size_t len) SB_MUST_CHECK;

/* ---- the Bot API's hooks in the server (botapi_poll.c, botapi_webhook.c) ---- */
/* Before the loops start: the server's Bot API state (wakes open, rate
 * buckets) and its sender thread (webhooks, invoice deadlines; a sender that
 * cannot start is logged and bots still poll).  SB_ENOMEM. */
int api_botapi_start(api_server *srv) SB_MUST_CHECK;
/* Before the loops are told to stop: no more wakes. */
void api_botapi_wake_close(api_server *srv);
/* After the loops stopped: stop the sender and free the state.  Safe when not started. */
void api_botapi_stop(api_server *srv);
/* On the loop thread: answer the parked long polls of bot_id that now have
 * updates (an API_MSG_BOT_WAKE arrived). */
void api_botapi_polls_wake(api_thread *t, int64_t bot_id);
/* On the loop thread at shutdown: answer every parked poll with []. */
void api_botapi_polls_shutdown(api_thread *t);
/* Updates were recorded for the bot recipients of events: wake their parked
 * polls on every thread of srv and queue their webhooks.  Any thread; a
 * server without the state (not started) is skipped. */
void api_botapi_updates_arrived(api_server *srv, const messenger_events *events);
/* ---- ledger verify jobs (verify_jobs.c): the admin's check off the event loop ---- */
typedef enum { API_VERIFY_RUNNING = 1, API_VERIFY_DONE, API_VERIFY_FAILED } api_verify_job_state;
typedef struct {
    int64_t id;
    api_verify_job_state state;
    int64_t started_at_ms, finished_at_ms;
    int status;                  /* ledger_verify's result once done: SB_OK, SB_ECORRUPT; else the store error */
    ledger_verify_report report; /* once done */
} api_verify_job;
/* The server's jobs, verifying the store at data_location (copied) on their
 * own connection; closed (no job starts) until api_verify_jobs_open.
 * *out: api_verify_jobs_free.  SB_ELIMIT for a path too long, SB_ENOMEM. */
int api_verify_jobs_new(const char *data_location, struct api_verify_jobs **out) SB_MUST_CHECK;
/* Accept jobs (api_server_start) / accept none and wait for a running one to
 * finish its read transaction (api_server_stop, after the loops stopped). */
void api_verify_jobs_open(struct api_verify_jobs *jobs);
void api_verify_jobs_close(struct api_verify_jobs *jobs);
/* Close and free.  NULL allowed. */
void api_verify_jobs_free(struct api_verify_jobs *jobs);
/* Start a verify job (or, while one runs, name that one): *id_out.
 * SB_ECLOSED when the server is not running, SB_EBUSY if no thread could start. */
int api_verify_job_start(struct api_verify_jobs *jobs, int64_t now_ms, int64_t *id_out) SB_MUST_CHECK;
/* A job's state (and report once done): SB_ENOTFOUND for an id not kept. */
int api_verify_job_get(struct api_verify_jobs *jobs, int64_t id, api_verify_job *out) SB_MUST_CHECK;

#endif /* SB_API_INT_H */
