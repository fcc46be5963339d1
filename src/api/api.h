/*
 * api.h - the HTTP and WebSocket front of SocialBank.
 *
 * The server (h2o, evloop flavour) runs one event loop per thread, each with
 * its own listening socket (SO_REUSEPORT), its own store connection and its
 * own metrics counters.  A request goes: accept -> h2o -> router (method and
 * path pattern, 404/405) -> limits (path, header bytes, body) -> auth (bearer
 * token, role bits of identity.h) -> JSON body -> handler -> JSON answer ->
 * access log and metrics.
 *
 * Other modules add routes from their own file, src/api/routes_<module>.c,
 * which exposes `void api_routes_<module>(api_router *r)` (declared below and
 * listed in routes.c).  A handler reads what it needs from its api_ctx and
 * answers with one of the api_reply_* functions; if it returns a negative
 * SB_E* code without answering, the error is mapped to the one error shape
 *   {"error":{"code":"...","message":"..."}}
 * (SB_EINVAL 400 invalid, SB_EAUTH 401, SB_EPERM 403, SB_ENOTFOUND 404,
 * SB_EEXISTS/SB_ECONFLICT 409 conflict, SB_ELIMIT 413, SB_ERATE 429,
 * SB_ECLOSED/SB_EBUSY 503, anything else 500 internal).
 */
#ifndef SB_API_H
#define SB_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/app.h"
#include "core/core.h"
#include "identity/identity.h"
#include "listening/listening.h"
#include "messenger/messenger.h"
#include "payments/ops.h"
#include "store/store.h"

typedef struct api_router api_router;
typedef struct api_ctx api_ctx;
typedef struct api_request api_request; /* private to the api module */

/* ---- routes ---- */
/* `roles` of a route: identity_role bits allowed to call it, or API_PUBLIC. */
#define API_PUBLIC 0
/* Flag or-ed into roles: the bearer token may also come as ?token= (WebSocket
 * upgrades from browsers cannot set headers). */
#define API_QUERY_TOKEN (1 << 16)
#define API_ROLES_MASK 0xffff
/* Flag or-ed into API_PUBLIC for a route that authenticates callers by its
 * own key (POST /api/ingest: X-Api-Key) instead of a bearer token: the
 * pipeline checks no token, allows a body up to SB_HTTP_INGEST_BODY_BYTES_MAX
 * (every other route keeps its own cap) and leaves the body unparsed: the
 * handler checks the key first (api_header_get), then calls api_body_parse.
 * GET /api/routes lists its roles as "api_key". */
#define API_KEY_AUTH (1 << 17)
/* Flag or-ed into roles for a route whose body is bytes, not JSON (a media
 * upload): the pipeline allows up to SB_MEDIA_UPLOAD_BYTES_MAX (h2o refuses
 * a larger announced Content-Length before reading it) and leaves the body
 * unparsed; the handler reads it with api_body_raw. */
#define API_RAW_BODY (1 << 18)
/* Role bit of a bot authenticated with "Authorization: Bot <token>"
 * (routes_bots.c); not an identity role: only bot routes carry it. */
#define API_ROLE_BOT (1 << 8)

/* A handler answers with an api_reply_* call and returns SB_OK, or returns a
 * negative SB_E* code without answering (mapped as described above). */
typedef int (*api_handler_fn)(api_ctx *c);

/* Add a route.  method is "GET", "POST", "PUT", "PATCH" or "DELETE"; pattern
 * is an absolute path whose segments are literals or ":name" parameters
 * (e.g. "/api/chats/:id/messages"; at most SB_HTTP_PATH_PARAMS_MAX).  A
 * literal segment wins over a parameter at the same place.  The pattern text
 * is copied.  Errors (bad pattern, duplicate route, more than
 * SB_HTTP_ROUTES_MAX) are kept in the router and reported by api_router_check,
 * so a module's registration function needs no error handling. */
void api_router_add(api_router *r, const char *method, const char *pattern, int roles, api_handler_fn handler);
/* SB_OK if every api_router_add succeeded; otherwise the first error, with a
 * message naming the route in *message_out (static to the router). */
int api_router_check(const api_router *r, const char **message_out) SB_MUST_CHECK;

/* Registration functions, one per module (listed in routes.c). */
void api_routes_system(api_router *r);
void api_routes_auth(api_router *r);
void api_routes_payments(api_router *r);
void api_routes_messenger(api_router *r);
void api_routes_chatpay(api_router *r);
void api_routes_listening(api_router *r);
void api_routes_bots(api_router *r);
void api_routes_botapi(api_router *r);

/* ---- the request context a handler gets ---- */
struct api_ctx {
    sb_app *app;                         /* the server's application context */
    store *store;                        /* this thread's connection */
    const identity_principal *principal; /* NULL on a public route */
    const char *token;                   /* bearer token when authenticated, else NULL */
    json_t *body;                        /* parsed JSON object, NULL without a body; borrowed */
    int64_t now_ms;                      /* wall clock at the start of the request */
    api_request *request;                /* private */
};

/* Path parameter `name` (without the colon), percent-decoded and
 * NUL-terminated, valid for the request; NULL if the route has none. */
const char *api_param(const api_ctx *c, const char *name);
/* A path parameter as a positive int64; SB_EINVAL if absent or malformed. */
int api_param_int64(const api_ctx *c, const char *name, int64_t *out) SB_MUST_CHECK;
/* Query parameter `name` percent-decoded into out (out_size bytes);
 * SB_ENOTFOUND if absent, SB_ELIMIT if it does not fit. */
int api_query_get(const api_ctx *c, const char *name, char *out, size_t out_size) SB_MUST_CHECK;
/* The value of request header `name` (case-insensitive): *value_out points
 * into the request (not NUL-terminated), *len_out its length.  SB_ENOTFOUND. */
int api_header_get(const api_ctx *c, const char *name, const char **value_out, size_t *len_out) SB_MUST_CHECK;
/* For API_KEY_AUTH routes, after the key check: parse the body as the
 * pipeline does for other routes (application/json, depth, strict JSON
 * object) into c->body.  On failure it answers (415, 400 invalid_json or
 * invalid) and returns SB_EINVAL; no body: SB_OK with c->body NULL. */
int api_body_parse(api_ctx *c) SB_MUST_CHECK;
/* The request body as bytes (valid for the request): *data_out NULL and
 * *len_out 0 without one. */
void api_body_raw(const api_ctx *c, const unsigned char **data_out, size_t *len_out);
void api_routes_media(api_router *r);
/* The peer address as text ("127.0.0.1"), valid for the request. */
const char *api_client_addr(api_ctx *c);

/* A string field of the JSON body.  On a missing (when required), non-string,
 * invalid UTF-8 or too long (> max_bytes) field this answers 400 invalid
 * naming the field and returns SB_EINVAL, so the handler just returns it.
 * Absent and optional: *out = NULL and SB_OK.  *out is borrowed from the body. */
int api_body_string(api_ctx *c, const char *field, bool required, size_t max_bytes, const char **out) SB_MUST_CHECK;
/* The one integer reader of the routes, body and query alike, with one
 * argument order: name, (required,) min, max, default, out.  A JSON integer
 * field / a decimal query parameter in [min, max]; absent and optional (a
 * query parameter always is): *out = dflt.  Otherwise it answers 400
 * invalid naming the field and the range and returns SB_EINVAL. */
int api_body_int64(api_ctx *c, const char *field, bool required, int64_t min, int64_t max, int64_t dflt,
                   int64_t *out) SB_MUST_CHECK;
int api_query_int64(api_ctx *c, const char *name, int64_t min, int64_t max, int64_t dflt, int64_t *out) SB_MUST_CHECK;

/* ---- answers (exactly one per request) ---- */
/* Answer `status` with body_take serialised (ownership taken, even on error;
 * NULL answers a JSON null). */
void api_reply_json(api_ctx *c, int status, json_t *body_take);
/* Answer the error shape with an explicit status and code. */
void api_reply_error(api_ctx *c, int status, const char *code, const char *fmt, ...) SB_PRINTF(4, 5);
/* Answer the error shape for an SB_E* code; message NULL uses sb_strerror. */
void api_reply_sb_error(api_ctx *c, int sb_code, const char *message);
/* Answer with no body (204). */
void api_reply_empty(api_ctx *c, int status);
/* Answer raw bytes (copied) with a content type. */
void api_reply_raw(api_ctx *c, int status, const char *content_type, const char *data, size_t len);
/* Add a response header before answering (name lower-case; both copied). */
void api_set_header(api_ctx *c, const char *name, const char *value);

/* ---- the server ---- */
typedef struct {
    const char *bind_addr;           /* numeric IPv4 or IPv6 address */
    int port;                        /* 0 binds a free port */
    const char *data_location;       /* store_open location */
    int threads;                     /* 1..SB_THREADS_MAX */
    const char *web_dir;             /* static files; NULL or missing directory: none */
    int ws_ping_interval_ms;         /* WebSocket pings and session re-checks; 0: SB_WS_PING_INTERVAL_MS */
    int password_threads;            /* argon2id checks at once, off the loops; 0: SB_PASSWORD_THREADS_DEFAULT */
    int password_jobs_max;           /* accepted and unanswered; past it 503 busy; 0: SB_PASSWORD_JOBS_MAX_DEFAULT */
    int connections_per_address_max; /* 0: SB_HTTP_CONNECTIONS_PER_ADDRESS_MAX */
    /* GET /metrics: with a token (SB_HTTP_METRICS_TOKEN_BYTES_MIN..MAX bytes,
     * copied) only "Authorization: Bearer TOKEN" is answered, 401 otherwise;
     * without one only loopback peers are, 403 otherwise. */
    const char *metrics_token;
    /* TLS: both PEM files (the certificate chain and its private key) or
     * neither (plain HTTP, for a proxy that terminates TLS in front).  With
     * them the server speaks TLS 1.2+ with forward-secret AEAD ciphers only and
     * offers HTTP/2 by ALPN ("h2"), HTTP/1.1 otherwise (WebSockets). */
    const char *tls_cert_file;
    const char *tls_key_file;
} api_server_config;

/* One server: its loops, router, WebSocket registry and push queues.  As
 * many as wanted in one process (each on its own port and context). */
typedef struct api_server api_server;

/* Create a server (nothing listens yet) for app (borrowed; must outlive the
 * server; its fields may still be filled in until api_server_start) and cfg
 * (copied; the strings are borrowed).  SB_EINVAL for a bad cfg, SB_ENOMEM,
 * SB_EINTERNAL when the routes do not register.  *out: api_server_free. */
int api_server_new(sb_app *app, const api_server_config *cfg, api_server **out) SB_MUST_CHECK;
/* The push sink of this server, for app->push (sb_app_init's argument):
 * pushes made before api_server_start or after api_server_stop are refused
 * (SB_ECLOSED) and otherwise harmless. */
sb_app_push api_server_push_sink(api_server *srv);
/* Migrate the store, listen, start the loops.  Logs "http.listen" (with the
 * real port).  Returns once serving, or the error that prevented it. */
int api_server_start(api_server *srv) SB_MUST_CHECK;
/* The port it listens on (after a successful start). */
int api_server_port(const api_server *srv);
/* Shut down gracefully (stop accepting, finish in-flight requests within
 * SB_SHUTDOWN_GRACE_MS, close WebSockets with 1001) and join the loops;
 * logs "http.stop".  Pushes are refused from here on.  Idempotent. */
void api_server_stop(api_server *srv);
/* Stop if running, free.  NULL allowed. */
void api_server_free(api_server *srv);
/* api_server_start, then wait for SIGTERM or SIGINT (blocked in every
 * thread started from here on), then api_server_stop.  SB_OK after a clean
 * stop. */
int api_server_run(api_server *srv) SB_MUST_CHECK;

/* Push a JSON text (len bytes, copied) to every open WebSocket of user_id,
 * on whatever thread they live.  Callable from any thread, never blocks on
 * I/O.  SB_ENOTFOUND if the user has no open WebSocket, SB_ECLOSED if the
 * server is not running, SB_ELIMIT if the text exceeds SB_WS_MESSAGE_BYTES_MAX,
 * SB_ENOMEM.  A connection whose send queue is full is dropped instead. */
int api_ws_send_to_user(api_server *srv, int64_t user_id, const char *json_text, size_t len) SB_MUST_CHECK;

/* Deliver messenger events: render each once, push it to every open
 * WebSocket of its recipients (users without one are skipped, failures
 * logged), then record bot recipients' events in their inbox
 * (messenger_bot_updates_record) over `s` (the caller's connection, outside
 * any transaction; NULL skips the bots).  The in-process bot hook is the
 * context's (sb_app_push_events, api_ctx_push).  Any thread. */
void api_messenger_push(api_server *srv, store *s, const messenger_events *events);
/* What a handler calls after a messenger change committed: api_messenger_push
 * on its server and connection, then the context's bot hook. */
void api_ctx_push(api_ctx *c, const messenger_events *events);

#endif /* SB_API_H */
