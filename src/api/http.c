/*
 * http.c - the HTTP server: threads, listening sockets, the request pipeline,
 * answers, the access log, static files and graceful shutdown.
 *
 * Threads: the main thread binds one listening socket per thread (all on the
 * same port with SO_REUSEPORT, so the kernel spreads connections), opens one
 * store connection per thread, then starts the loops and waits for SIGTERM
 * or SIGINT with sigwait.  Each loop thread runs h2o's evloop; a
 * h2o_multithread queue per loop carries cross-thread messages (shutdown,
 * WebSocket pushes).
 *
 * A request (on_req): path length (414), header bytes (431), shutting down
 * (503), route match (404, 405 + Allow), bearer token (401) and role (403),
 * body size (413, lower on public routes), content type (415), JSON (400),
 * handler, answer; then the metrics slot of the route and one access log line.
 * Everything a handler needs lives on the stack or in h2o's request pool.
 *
 * Limits: a request must arrive within SB_HTTP_REQUEST_TIMEOUT_MS (our
 * per-connection timer answers 408; h2o's own closes a second later).  Each
 * route's body cap (SB_HTTP_BODY_BYTES_MAX_UNAUTH on public routes,
 * SB_HTTP_BODY_BYTES_MAX on others, SB_HTTP_INGEST_BODY_BYTES_MAX on POST
 * /api/ingest, the largest and h2o's own cap) is applied while the body
 * arrives by the guard in http_guard.c, and exactly again by the pipeline.
 * Connections are counted per client address and in total at accept.
 *
 * Answers made off the loop (api_defer, api_defer_to): the password pool
 * or the media pool runs the work and posts the job back to the request's
 * loop, which answers it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "api/api_int.h"
#include "core/offload.h"

static _Thread_local api_thread *current_thread;

/* h2o keeps freed buffers and pool chunks in per-thread recycle lists
 * (thread-local, never released when a loop thread ends), and h2o 2.2's
 * h2o_multithread_destroy_queue leaves part of the queue allocated;
 * LeakSanitizer reports both after the threads are joined.  They are h2o's,
 * not ours: tell LSan so, naming only those two allocators. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
    return "leak:h2o_mem_alloc_recycle\nleak:h2o_multithread_create_queue\n";
}

api_server *api_ctx_server(const api_ctx *c) { return c->request->thread->server; }
api_push_counters *api_server_push_counters(api_server *srv) { return &srv->push; }

/* Keep the /metrics token (copied into srv); SB_EINVAL for one too short or too long. */
static int keep_metrics_token(api_server *srv, const char *token) {
    srv->cfg.metrics_token = NULL;
    if (!token) return SB_OK;
    size_t len = strlen(token);
    if (len < SB_HTTP_METRICS_TOKEN_BYTES_MIN || len > SB_HTTP_METRICS_TOKEN_BYTES_MAX) {
        sb_log(SB_LOG_ERROR, "http.metrics", "the metrics token must be %d to %d bytes",
               SB_HTTP_METRICS_TOKEN_BYTES_MIN, SB_HTTP_METRICS_TOKEN_BYTES_MAX);
        return SB_EINVAL;
    }
    memcpy(srv->metrics_token, token, len + 1);
    srv->cfg.metrics_token = srv->metrics_token;
    return SB_OK;
}

/* Mozilla's "intermediate" TLS 1.2 suites: forward secret, AEAD only (TLS
 * 1.3 suites are OpenSSL's defaults, all of them modern). */
#define API_TLS12_CIPHERS                                                                                              \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"                         \
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

static void tls_log_errors(const char *what, const char *file) {
    unsigned long code = ERR_get_error();
    char text[256] = "no detail";
    if (code) ERR_error_string_n(code, text, sizeof text);
    ERR_clear_error();
    sb_log(SB_LOG_ERROR, "http.tls", "%s %s: %s", what, file ? file : "", text);
}

/* The TLS context of the server, or NULL (and SB_OK) without TLS. */
static int tls_context_new(const api_server_config *cfg, SSL_CTX **out) {
    *out = NULL;
    if (!cfg->tls_cert_file && !cfg->tls_key_file) return SB_OK;
    if (!cfg->tls_cert_file || !cfg->tls_key_file) {
        sb_log(SB_LOG_ERROR, "http.tls", "TLS needs both a certificate and a key file");
        return SB_EINVAL;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) return SB_ENOMEM;
    int result = SB_OK;
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(ctx, API_TLS12_CIPHERS) != 1) {
        tls_log_errors("cannot set the TLS version and ciphers", NULL);
        result = SB_EINVAL;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (result == SB_OK && SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert_file) != 1) {
        tls_log_errors("cannot load the certificate", cfg->tls_cert_file);
        result = SB_EINVAL;
    }
    if (result == SB_OK && SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key_file, SSL_FILETYPE_PEM) != 1) {
        tls_log_errors("cannot load the private key", cfg->tls_key_file);
        result = SB_EINVAL;
    }
    if (result == SB_OK && SSL_CTX_check_private_key(ctx) != 1) {
        tls_log_errors("the private key does not match the certificate", cfg->tls_key_file);
        result = SB_EINVAL;
    }
    if (result != SB_OK) {
        SSL_CTX_free(ctx);
        return result;
    }
    h2o_ssl_register_alpn_protocols(ctx, h2o_http2_alpn_protocols);
    *out = ctx;
    return SB_OK;
}

/* ---- answers ---- */

#define json_content_type_literal "application/json; charset=utf-8"
static const char json_content_type[] = json_content_type_literal;

static bool is_head(const h2o_req_t *req) {
    return req->input.method.len == 4 && memcmp(req->input.method.base, "HEAD", 4) == 0;
}

static api_conn *conn_of(h2o_req_t *req);

/* Send status + body (which must live until the request is disposed). */
static void send_answer(api_request *rq, int status, const char *content_type, h2o_iovec_t body) {
    static h2o_generator_t generator = {NULL, NULL};
    h2o_req_t *req = rq->req;
    SB_ASSERT(!rq->replied);
    rq->replied = true;
    rq->status = status;
    req->res.status = status;
    req->res.reason = api_reason_phrase(status);
    if (status != 204 && status != 304) {
        req->res.content_length = body.len;
        if (content_type)
            h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type,
                           strlen(content_type));
    } else {
        body.len = 0;
    }
    h2o_start_response(req, &generator);
    if (body.len == 0 || is_head(req))
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
    else
        h2o_send(req, &body, 1, H2O_SEND_STATE_FINAL);
    /* h2o starts reading the next request from the write's callback */
    api_conn *conn = conn_of(req);
    if (conn) api_guard_wrap(conn);
}

void api_reply_static(api_ctx *c, int status, const char *content_type, const char *data, size_t len) {
    send_answer(c->request, status, content_type, h2o_iovec_init(data, len));
}

void api_reply_mark(api_ctx *c, int status) {
    c->request->replied = true;
    c->request->status = status;
}

void api_reply_raw(api_ctx *c, int status, const char *content_type, const char *data, size_t len) {
    char *copy = h2o_mem_alloc_pool(&c->request->req->pool, len + 1);
    memcpy(copy, data, len);
    copy[len] = '\0';
    send_answer(c->request, status, content_type, h2o_iovec_init(copy, len));
}

void api_reply_empty(api_ctx *c, int status) { send_answer(c->request, status, NULL, h2o_iovec_init(NULL, 0)); }

void api_set_header(api_ctx *c, const char *name, const char *value) {
    h2o_req_t *req = c->request->req;
    size_t name_len = strlen(name);
    char *n = h2o_mem_alloc_pool(&req->pool, name_len);
    memcpy(n, name, name_len);
    h2o_strtolower(n, name_len);
    h2o_iovec_t v = h2o_strdup(&req->pool, value, strlen(value));
    h2o_add_header_by_str(&req->pool, &req->res.headers, n, name_len, 0, NULL, v.base, v.len);
}

void api_message_utf8(char *message) {
    if (!sb_utf8_valid(message, strlen(message)))
        for (char *p = message; *p; p++)
            if ((unsigned char)*p >= 0x80) *p = '?';
}

void api_reply_error(api_ctx *c, int status, const char *code, const char *fmt, ...) {
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    api_message_utf8(message); /* jansson's messages quote the input */
    sb_buf buf;
    sb_buf_init(&buf, 8 * sizeof message); /* every byte escaped as \u00XX still fits */
    int result = api_error_body(&buf, code, message);
    if (result != SB_OK) {
        static const char fallback[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";
        send_answer(c->request, 500, json_content_type, h2o_iovec_init(fallback, sizeof fallback - 1));
        return;
    }
    char *copy = h2o_mem_alloc_pool(&c->request->req->pool, buf.len);
    memcpy(copy, buf.data, buf.len);
    send_answer(c->request, status, json_content_type, h2o_iovec_init(copy, buf.len));
    sb_buf_free(&buf);
}

void api_reply_sb_error(api_ctx *c, int sb_code, const char *message) {
    const char *code;
    int status = api_status_for_error(sb_code, &code);
    if (status == 429) api_set_header(c, "retry-after", "60");
    if (status == 401) api_set_header(c, "www-authenticate", "Bearer");
    api_reply_error(c, status, code, "%s", message ? message : sb_strerror(sb_code));
}

void api_reply_json(api_ctx *c, int status, json_t *body_take) {
    size_t flags = JSON_COMPACT | JSON_ENCODE_ANY;
    size_t len = body_take ? json_dumpb(body_take, NULL, 0, flags) : 4;
    if (body_take && len == 0) {
        json_decref(body_take);
        api_reply_error(c, 500, "internal", "could not encode the answer");
        return;
    }
    char *text = h2o_mem_alloc_pool(&c->request->req->pool, len);
    if (body_take)
        json_dumpb(body_take, text, len, flags);
    else
        memcpy(text, "null", 4);
    json_decref(body_take);
    send_answer(c->request, status, json_content_type, h2o_iovec_init(text, len));
}

/* ---- request helpers ---- */

const char *api_param(const api_ctx *c, const char *name) {
    api_request *rq = c->request;
    size_t name_len = strlen(name);
    for (int i = 0; i < rq->match.nparams; i++) {
        const api_param_ref *p = &rq->match.params[i];
        if (p->name_len != name_len || memcmp(p->name, name, name_len) != 0) continue;
        if (!rq->param_values[i]) {
            char *out = h2o_mem_alloc_pool(&rq->req->pool, p->value_len + 1);
            size_t out_len;
            if (api_percent_decode(p->value, p->value_len, out, p->value_len + 1, &out_len) != SB_OK) return NULL;
            rq->param_values[i] = out;
        }
        return rq->param_values[i];
    }
    return NULL;
}

int api_param_int64(const api_ctx *c, const char *name, int64_t *out) {
    const char *text = api_param(c, name);
    int64_t value;
    if (!text || text[0] == '-' || text[0] == '+' || sb_parse_int64(text, &value) != SB_OK || value <= 0)
        return SB_EINVAL;
    *out = value;
    return SB_OK;
}

int api_query_get(const api_ctx *c, const char *name, char *out, size_t out_size) {
    const h2o_req_t *req = c->request->req;
    if (req->query_at == SIZE_MAX) return SB_ENOTFOUND;
    const char *q = req->path.base + req->query_at + 1;
    size_t qlen = req->path.len - req->query_at - 1, name_len = strlen(name);
    size_t pos = 0;
    while (pos <= qlen) {
        const char *amp = memchr(q + pos, '&', qlen - pos);
        size_t end = amp ? (size_t)(amp - q) : qlen;
        const char *pair = q + pos;
        size_t pair_len = end - pos;
        if (pair_len > name_len && memcmp(pair, name, name_len) == 0 && pair[name_len] == '=') {
            size_t out_len;
            size_t vlen = pair_len - name_len - 1;
            if (vlen + 1 > out_size) return SB_ELIMIT;
            return api_percent_decode(pair + name_len + 1, vlen, out, out_size, &out_len);
        }
        pos = end + 1;
    }
    return SB_ENOTFOUND;
}

const char *api_client_addr(api_ctx *c) {
    api_request *rq = c->request;
    if (rq->client_addr[0]) return rq->client_addr;
    struct sockaddr_storage ss;
    socklen_t len = rq->req->conn->callbacks->get_peername(rq->req->conn, (struct sockaddr *)&ss);
    const void *addr = NULL;
    if (len > 0 && ss.ss_family == AF_INET) addr = &((struct sockaddr_in *)&ss)->sin_addr;
    if (len > 0 && ss.ss_family == AF_INET6) addr = &((struct sockaddr_in6 *)&ss)->sin6_addr;
    if (!addr || !inet_ntop(ss.ss_family, addr, rq->client_addr, sizeof rq->client_addr))
        snprintf(rq->client_addr, sizeof rq->client_addr, "unknown");
    return rq->client_addr;
}

int api_body_int64(api_ctx *c, const char *field, bool required, int64_t min, int64_t max, int64_t dflt, int64_t *out) {
    json_t *v = c->body && json_is_object(c->body) ? json_object_get(c->body, field) : NULL;
    if (!v || json_is_null(v)) {
        if (!required) {
            *out = dflt;
            return SB_OK;
        }
        api_reply_error(c, 400, "invalid", "field '%s' is required", field);
        return SB_EINVAL;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        api_reply_error(c, 400, "invalid", "field '%s' must be an integer from %lld to %lld", field, (long long)min,
                        (long long)max);
        return SB_EINVAL;
    }
    *out = (int64_t)json_integer_value(v);
    return SB_OK;
}

int api_query_int64(api_ctx *c, const char *name, int64_t min, int64_t max, int64_t dflt, int64_t *out) {
    char text[32];
    int result = api_query_get(c, name, text, sizeof text);
    if (result == SB_ENOTFOUND) {
        *out = dflt;
        return SB_OK;
    }
    int64_t v = 0;
    /* digits only (an optional leading minus when min allows it): no '+', no spaces */
    bool ok = result == SB_OK && text[0] != '\0' && text[0] != '+' && sb_parse_int64(text, &v) == SB_OK;
    if (!ok || v < min || v > max) {
        api_reply_error(c, 400, "invalid", "query parameter '%s' must be an integer from %lld to %lld", name,
                        (long long)min, (long long)max);
        return SB_EINVAL;
    }
    *out = v;
    return SB_OK;
}

int api_body_string(api_ctx *c, const char *field, bool required, size_t max_bytes, const char **out) {
    *out = NULL;
    json_t *v = c->body ? json_object_get(c->body, field) : NULL;
    if (!v || json_is_null(v)) {
        if (!required) return SB_OK;
        api_reply_error(c, 400, "invalid", "field '%s' is required", field);
        return SB_EINVAL;
    }
    if (!json_is_string(v)) {
        api_reply_error(c, 400, "invalid", "field '%s' must be a string", field);
        return SB_EINVAL;
    }
    if (json_string_length(v) > max_bytes) {
        api_reply_error(c, 400, "invalid", "field '%s' is longer than %zu bytes", field, max_bytes);
        return SB_EINVAL;
    }
    if (strlen(json_string_value(v)) != json_string_length(v)) {
        api_reply_error(c, 400, "invalid", "field '%s' contains a NUL character", field);
        return SB_EINVAL;
    }
    *out = json_string_value(v);
    return SB_OK;
}

/* ---- static files ---- */

static const char *content_type_for(const char *path) {
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".json", "application/json; charset=utf-8"},
        {".webmanifest", "application/manifest+json; charset=utf-8"},
        {".map", "application/json; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".gif", "image/gif"},
        {".ico", "image/x-icon"},
        {".webp", "image/webp"},
        {".woff2", "font/woff2"},
        {".woff", "font/woff"},
        {".txt", "text/plain; charset=utf-8"},
        {".wasm", "application/wasm"},
    };
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (dot && (!slash || dot > slash))
        for (size_t i = 0; i < SB_ARRAY_LEN(types); i++)
            if (strcasecmp(dot, types[i].ext) == 0) return types[i].type;
    return "application/octet-stream";
}

/* Scripts, styles and connections only from the app itself (no inline
 * script or style attribute, no eval), and no framing by anybody
 * (frame-ancestors, and X-Frame-Options for older browsers). */
static const char page_csp[] = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                               "frame-ancestors 'none'";

static void set_page_headers(api_ctx *c) {
    api_set_header(c, "content-security-policy", page_csp);
    api_set_header(c, "x-frame-options", "DENY");
    api_set_header(c, "x-content-type-options", "nosniff");
    api_set_header(c, "referrer-policy", "no-referrer");
}

/* Serve a file under --web.  The decoded path must consist of plain
 * segments: no "." or ".." and no hidden files, no backslashes; the last
 * component may not be a symbolic link. */
static void serve_static(api_ctx *c, const char *path, size_t path_len) {
    api_server *srv = api_ctx_server(c);
    if (srv->web_fd < 0) {
        api_reply_error(c, 404, "not_found", "no such file");
        return;
    }
    char decoded[SB_HTTP_PATH_BYTES_MAX + 16];
    size_t len;
    if (api_percent_decode(path, path_len, decoded, SB_HTTP_PATH_BYTES_MAX + 1, &len) != SB_OK) {
        api_reply_error(c, 404, "not_found", "no such file");
        return;
    }
    if (len == 0 || decoded[len - 1] == '/') {
        memcpy(decoded + len, "index.html", sizeof "index.html");
        len += sizeof "index.html" - 1;
    }
    const char *rel = decoded + 1;
    for (const char *seg = rel; *seg;) {
        const char *slash = strchr(seg, '/');
        size_t seg_len = slash ? (size_t)(slash - seg) : strlen(seg);
        if (seg_len == 0 || seg[0] == '.' || memchr(seg, '\\', seg_len)) {
            api_reply_error(c, 404, "not_found", "no such file");
            return;
        }
        seg += seg_len + (slash ? 1 : 0);
    }
    int fd = openat(srv->web_fd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > SB_HTTP_STATIC_FILE_BYTES_MAX) {
        if (fd >= 0) close(fd);
        api_reply_error(c, 404, "not_found", "no such file");
        return;
    }
    size_t size = (size_t)st.st_size;
    char *data = h2o_mem_alloc_pool(&c->request->req->pool, size + 1);
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, data + got, size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(fd);
    if (got != size) {
        api_reply_error(c, 500, "internal", "could not read the file");
        return;
    }
    api_set_header(c, "cache-control", "no-cache");
    set_page_headers(c);
    send_answer(c->request, 200, content_type_for(rel), h2o_iovec_init(data, size));
}

/* ---- the pipeline ---- */

static bool is_hex_token(const char *s, size_t len) {
    if (len != IDENTITY_TOKEN_CHARS) return false;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F'))) return false;
    }
    return true;
}

/* The bearer token of the request into token (IDENTITY_TOKEN_CHARS + 1). */
static bool find_token(api_ctx *c, bool allow_query, char *token) {
    h2o_req_t *req = c->request->req;
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (i >= 0) {
        h2o_iovec_t v = req->headers.entries[i].value;
        if (v.len < 7 || !h2o_lcstris(v.base, 7, H2O_STRLIT("bearer "))) return false;
        const char *t = v.base + 7;
        size_t len = v.len - 7;
        while (len && *t == ' ')
            t++, len--;
        while (len && t[len - 1] == ' ')
            len--;
        if (!is_hex_token(t, len)) return false;
        memcpy(token, t, len);
        token[len] = '\0';
        return true;
    }
    if (!allow_query) return false;
    char buf[IDENTITY_TOKEN_CHARS + 2];
    if (api_query_get(c, "token", buf, sizeof buf) != SB_OK || !is_hex_token(buf, strlen(buf))) return false;
    memcpy(token, buf, IDENTITY_TOKEN_CHARS + 1);
    return true;
}

/* A bot's token from "Authorization: Bot <token>" into token
 * (MESSENGER_BOT_TOKEN_TEXT_MAX + 1): the secret alone or "<bot id>:<secret>".
 * *present_out: the header uses the Bot scheme at all (then a malformed token
 * is a 401, not a missing one). */
static bool find_bot_token(api_ctx *c, char *token, bool *present_out) {
    h2o_req_t *req = c->request->req;
    *present_out = false;
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (i < 0) return false;
    h2o_iovec_t v = req->headers.entries[i].value;
    if (v.len < 4 || !h2o_lcstris(v.base, 4, H2O_STRLIT("bot "))) return false;
    *present_out = true;
    const char *t = v.base + 4;
    size_t len = v.len - 4;
    while (len && *t == ' ')
        t++, len--;
    while (len && t[len - 1] == ' ')
        len--;
    size_t id_len = 0;
    while (id_len < len && id_len <= 20 && t[id_len] >= '0' && t[id_len] <= '9')
        id_len++;
    size_t skip = id_len > 0 && id_len < len && t[id_len] == ':' ? id_len + 1 : 0;
    if (!is_hex_token(t + skip, len - skip)) return false;
    memcpy(token, t, len);
    token[len] = '\0';
    return true;
}

/* Authenticate a bot (API_ROLE_BOT) by its token: the principal is the bot's
 * user with the bot role bit.  Answers 401/403 itself and returns false. */
static bool authenticate_bot(api_ctx *c, int roles, char *token, identity_principal *principal) {
    bool present;
    int64_t bot_id = 0;
    int result = find_bot_token(c, token, &present) ? messenger_bot_authenticate(c->store, token, &bot_id) : SB_EAUTH;
    if (result == SB_EAUTH || result == SB_EINVAL) {
        api_set_header(c, "www-authenticate", "Bot");
        api_reply_error(c, 401, "unauthorized", "the bot token is unknown");
        return false;
    }
    if (result != SB_OK) {
        api_reply_sb_error(c, result, "could not check the token");
        return false;
    }
    if ((roles & API_ROLE_BOT) == 0) {
        api_reply_error(c, 403, "forbidden", "a bot may not call this route");
        return false;
    }
    memset(principal, 0, sizeof *principal);
    principal->user_id = bot_id;
    principal->role = API_ROLE_BOT;
    return true;
}

static bool content_type_is_json(h2o_req_t *req) {
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (i < 0) return false;
    h2o_iovec_t v = req->headers.entries[i].value;
    static const char want[] = "application/json";
    size_t wl = sizeof want - 1;
    if (v.len < wl || !h2o_lcstris(v.base, wl, want, wl)) return false;
    return v.len == wl || v.base[wl] == ';' || v.base[wl] == ' ';
}

/* Bytes of the request head; *folded_out when a header line had no name
 * (an obsolete folded continuation line, which RFC 9112 lets us refuse). */
static size_t header_bytes(const h2o_req_t *req, bool *folded_out) {
    size_t total = req->input.method.len + req->input.path.len + req->input.authority.len + 16;
    *folded_out = false;
    for (size_t i = 0; i < req->headers.size; i++) {
        const h2o_header_t *h = &req->headers.entries[i];
        if (h->name == NULL || h->name->len == 0) *folded_out = true;
        total += (h->name ? h->name->len : 0) + h->value.len + 4;
    }
    return total;
}

static size_t route_body_cap(const api_route *route) {
    if (!route) return SB_HTTP_BODY_BYTES_MAX_UNAUTH; /* static files and unknown paths take no body */
    if (route->roles & API_KEY_AUTH) return SB_HTTP_INGEST_BODY_BYTES_MAX;
    if (route->roles & API_RAW_BODY) return SB_MEDIA_UPLOAD_BYTES_MAX; /* a media upload */
    return (route->roles & API_ROLES_MASK) == API_PUBLIC ? SB_HTTP_BODY_BYTES_MAX_UNAUTH : SB_HTTP_BODY_BYTES_MAX;
}

size_t api_server_body_cap(const api_server *srv, const char *method, size_t method_len, const char *path,
                           size_t path_len) {
    api_match match;
    char allow[96];
    if (path_len > SB_HTTP_PATH_BYTES_MAX || api_router_match(&srv->router, method, method_len, path, path_len, &match,
                                                              allow, sizeof allow) != API_MATCH_FOUND)
        return route_body_cap(NULL);
    return route_body_cap(match.route);
}

/* Route, authenticate, parse and run; returns the metrics slot. */
static int pipeline(api_ctx *c, int method_group) {
    api_request *rq = c->request;
    h2o_req_t *req = rq->req;
    size_t path_len = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    int unmatched_slot = API_SLOT_UNMATCHED + method_group;
    if (path_len > SB_HTTP_PATH_BYTES_MAX) {
        api_reply_error(c, 414, "uri_too_long", "path longer than %d bytes", SB_HTTP_PATH_BYTES_MAX);
        return unmatched_slot;
    }
    bool folded;
    if (header_bytes(req, &folded) > SB_HTTP_HEADER_BYTES_MAX) {
        api_reply_error(c, 431, "headers_too_large", "request headers over %d bytes", SB_HTTP_HEADER_BYTES_MAX);
        return unmatched_slot;
    }
    if (folded) {
        api_reply_error(c, 400, "invalid", "folded (continuation) header lines are not accepted");
        return unmatched_slot;
    }
    if (rq->thread->stopping) {
        api_set_header(c, "retry-after", "5");
        api_reply_error(c, 503, "unavailable", "the server is shutting down");
        return unmatched_slot;
    }
    char allow[96];
    int m = api_router_match(&rq->thread->server->router, req->input.method.base, req->input.method.len, req->path.base,
                             path_len, &rq->match, allow, sizeof allow);
    if (m == API_MATCH_NOT_FOUND) {
        bool api_path = (path_len >= 5 && memcmp(req->path.base, "/api/", 5) == 0) ||
                        (path_len == 4 && memcmp(req->path.base, "/api", 4) == 0);
        if ((method_group == 0 || method_group == 1) && !api_path) {
            serve_static(c, req->path.base, path_len);
            return API_SLOT_STATIC + method_group;
        }
        api_reply_error(c, 404, "not_found", "no route for this path");
        return unmatched_slot;
    }
    if (m == API_MATCH_BAD_METHOD) {
        api_set_header(c, "allow", allow);
        api_reply_error(c, 405, "method_not_allowed", "allowed methods: %s", allow);
        return unmatched_slot;
    }
    const api_route *route = rq->match.route;
    rq->route = route;
    int roles = route->roles & API_ROLES_MASK;

    identity_principal principal;
    char token[IDENTITY_TOKEN_CHARS + 1];
    bool key_auth = (route->roles & API_KEY_AUTH) != 0;
    bool bot_scheme = false;
    char bot_token[MESSENGER_BOT_TOKEN_TEXT_MAX + 1];
    if (roles != API_PUBLIC) (void)find_bot_token(c, bot_token, &bot_scheme);
    if (bot_scheme) {
        if (!authenticate_bot(c, roles, bot_token, &principal)) return route->index;
        c->principal = &principal;
        c->token = bot_token;
    } else if (roles != API_PUBLIC) {
        if (!find_token(c, (route->roles & API_QUERY_TOKEN) != 0, token)) {
            api_set_header(c, "www-authenticate", "Bearer");
            api_reply_error(c, 401, "unauthorized", "a valid bearer token is required");
            return route->index;
        }
        int result = identity_session_lookup(c->store, token, c->now_ms, &principal);
        if (result == SB_EAUTH || result == SB_ENOTFOUND || result == SB_EINVAL) {
            api_set_header(c, "www-authenticate", "Bearer");
            api_reply_error(c, 401, "unauthorized", "the token is unknown, expired or revoked");
            return route->index;
        }
        if (result != SB_OK) {
            api_reply_sb_error(c, result, "could not check the token");
            return route->index;
        }
        if ((principal.role & roles) == 0) {
            api_reply_error(c, 403, "forbidden", "the %s role may not call this route",
                            identity_role_name(principal.role) ? identity_role_name(principal.role) : "unknown");
            return route->index;
        }
        c->principal = &principal;
        c->token = token;
    }

    if (req->entity.base != NULL && req->entity.len > 0) {
        /* the guard refused what it could see coming; this is the exact check */
        bool raw = (route->roles & API_RAW_BODY) != 0;
        size_t cap = route_body_cap(route);
        if (req->entity.len > cap) {
            api_reply_error(c, 413, "body_too_large", "body over %zu bytes", cap);
            return route->index;
        }
        /* a key-authenticated route checks its key before the body is parsed */
        if (!key_auth && !raw && api_body_parse(c) != SB_OK) return route->index;
    }

    int result = route->handler(c);
    if (!rq->replied && !rq->deferred) {
        if (result == SB_OK)
            api_reply_error(c, 500, "internal", "the handler gave no answer");
        else
            api_reply_sb_error(c, result, NULL);
    }
    json_decref(c->body);
    c->body = NULL;
    return route->index;
}

void api_body_raw(const api_ctx *c, const unsigned char **data_out, size_t *len_out) {
    h2o_req_t *req = c->request->req;
    *data_out = req->entity.base ? (const unsigned char *)req->entity.base : NULL;
    *len_out = req->entity.base ? req->entity.len : 0;
}

int api_body_parse(api_ctx *c) {
    h2o_req_t *req = c->request->req;
    if (c->body || req->entity.base == NULL || req->entity.len == 0) return SB_OK;
    if (!content_type_is_json(req)) {
        api_reply_error(c, 415, "unsupported_media_type", "the body must be application/json");
        return SB_EINVAL;
    }
    char err[256];
    bool syntax;
    if (api_json_parse_body(req->entity.base, req->entity.len, &c->body, err, sizeof err, &syntax) != SB_OK) {
        api_reply_error(c, 400, syntax ? "invalid_json" : "invalid", "%s", err);
        return SB_EINVAL;
    }
    return SB_OK;
}

int api_header_get(const api_ctx *c, const char *name, const char **value_out, size_t *len_out) {
    const h2o_req_t *req = c->request->req;
    size_t name_len = strlen(name);
    for (size_t i = 0; i < req->headers.size; i++) {
        const h2o_header_t *h = &req->headers.entries[i];
        if (h->name && h->name->len == name_len && h2o_lcstris(h->name->base, h->name->len, name, name_len)) {
            *value_out = h->value.base;
            *len_out = h->value.len;
            return SB_OK;
        }
    }
    return SB_ENOTFOUND;
}

static void access_log(const api_server *srv, const h2o_req_t *req, int slot, int status, uint64_t duration_ns,
                       int method_group) {
    bool quiet = false;
    const char *route_label = "unmatched";
    const char *method = api_method_group_name(method_group);
    if (slot < SB_HTTP_ROUTES_MAX) {
        const api_route *rt = &srv->router.routes[slot];
        route_label = rt->pattern;
        quiet = strcmp(rt->pattern, "/healthz") == 0 || strcmp(rt->pattern, "/metrics") == 0;
    } else if (slot >= API_SLOT_STATIC) {
        route_label = "/*";
    }
    sb_log_level level = quiet ? SB_LOG_DEBUG : SB_LOG_INFO;
    if ((int)level < (int)sb_log_get_level()) return;
    char fields[400];
    snprintf(fields, sizeof fields, "{\"method\":\"%s\",\"route\":\"%s\",\"status\":%d,\"duration_ms\":%.3f}", method,
             route_label, status, (double)duration_ns / 1e6);
    (void)req;
    sb_log_fields(level, "http.request", fields, "%s %s %d", method, route_label, status);
}

static void connection_request_read(h2o_req_t *req);

static int on_req(h2o_handler_t *self, h2o_req_t *req) {
    (void)self;
    api_thread *t = current_thread;
    uint64_t start_ns = (uint64_t)sb_mono_ns();
    connection_request_read(req);
    api_request rq;
    rq.req = req;
    rq.thread = t;
    rq.route = NULL;
    rq.replied = false;
    rq.deferred = false;
    rq.status = 0;
    rq.start_ns = start_ns;
    rq.match.nparams = 0;
    rq.client_addr[0] = '\0';
    memset(rq.param_values, 0, sizeof rq.param_values);
    api_ctx c = {.app = t->server->app,
                 .store = t->store,
                 .principal = NULL,
                 .token = NULL,
                 .body = NULL,
                 .now_ms = 0,
                 .request = &rq};
    /* h2o stamped the request with the loop's cached wall clock: no clock call */
    c.now_ms = (int64_t)req->processed_at.at.tv_sec * 1000 + req->processed_at.at.tv_usec / 1000;
    if (c.now_ms <= 0) c.now_ms = sb_now_ms();
    int method_group = api_method_group(req->input.method.base, req->input.method.len);
    rq.method_group = method_group;
    int slot = pipeline(&c, method_group);
    if (rq.deferred) return 0; /* counted and logged when answered */
    uint64_t duration_ns = (uint64_t)sb_mono_ns() - start_ns;
    api_metrics_record(t->metrics, slot, rq.status, duration_ns);
    access_log(t->server, req, slot, rq.status, duration_ns, method_group);
    return 0;
}

/* ---- h2o's own errors in our shape ----
 * h2o answers some requests before our handler runs (a body over
 * SB_HTTP_BODY_BYTES_MAX announced by Content-Length, broken chunked
 * encoding, an unparsable request line) with a text/plain body, bound to the
 * host's fallback path.  This filter there rewrites them into the one JSON
 * error shape. */

typedef struct {
    h2o_ostream_t super;
    h2o_iovec_t body;
} error_ostream;

static void error_ostream_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t bufcnt,
                               h2o_send_state_t state) {
    (void)bufs;
    (void)bufcnt;
    error_ostream *o = (error_ostream *)self;
    if (h2o_send_state_is_in_progress(state)) {
        h2o_ostream_send_next(self, req, NULL, 0, state);
        return;
    }
    h2o_ostream_send_next(self, req, is_head(req) ? NULL : &o->body, is_head(req) ? 0 : 1, state);
}

static void on_setup_error_ostream(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot) {
    (void)self;
    ssize_t ct = h2o_find_header(&req->res.headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (req->res.status >= 400 && ct >= 0 &&
        h2o_memis(req->res.headers.entries[ct].value.base, req->res.headers.entries[ct].value.len,
                  H2O_STRLIT("text/plain; charset=utf-8"))) {
        const char *code = "invalid", *message = "malformed request";
        switch (req->res.status) {
        case 413:
            code = "body_too_large", message = "body too large";
            break;
        case 404:
            code = "not_found", message = "not found";
            break;
        case 405:
            code = "method_not_allowed", message = "method not allowed";
            break;
        case 408:
            code = "request_timeout", message = "the request did not arrive in time";
            break;
        case 503:
            code = "unavailable", message = "service unavailable";
            break;
        default:
            if (req->res.status >= 500) code = "internal", message = "internal error";
            break;
        }
        char storage[256];
        int n = snprintf(storage, sizeof storage, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", code, message);
        error_ostream *o = (error_ostream *)h2o_add_ostream(req, sizeof *o, slot);
        o->body = h2o_strdup(&req->pool, storage, (size_t)n);
        o->super.do_send = error_ostream_send;
        req->res.headers.entries[ct].value = h2o_iovec_init(H2O_STRLIT(json_content_type_literal));
        req->res.content_length = o->body.len;
        slot = &o->super.next;
    }
    h2o_setup_next_ostream(req, slot);
}

/* ---- threads ---- */

/* ---- connections: count, cap, and the 408 ----
 * h2o 2.2's own request timer closes a slow connection without a word.  Ours
 * runs first (h2o's is set a second later): every connection carries a timer
 * started at accept and restarted when a request has been read; when it
 * fires on a connection holding part of a request, we answer 408 in the error
 * shape and close; an idle keep-alive connection is just closed. */

static const char timeout_answer[] =
    "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
    "Content-Type: application/json; charset=utf-8\r\nContent-Length: 83\r\n\r\n"
    "{\"error\":{\"code\":\"request_timeout\",\"message\":\"the request did not arrive in time\"}}";

static void on_connection_closed(void *data) {
    api_conn *conn = data;
    conn->thread->connections--;
    if (h2o_timeout_is_linked(&conn->timer)) h2o_timeout_unlink(&conn->timer);
    h2o_linklist_unlink(&conn->link);
    api_peer_release(conn->thread->server, conn->peer);
    conn->peer = NULL;
    conn->closed = true;
    if (conn->in_callback == 0) sb_free(conn); /* else the guard frees it when h2o's callback returns */
}

/* The connection of req (NULL for one that is not ours). */
static api_conn *conn_of(h2o_req_t *req) {
    h2o_socket_t *sock = req->conn->callbacks->get_socket ? req->conn->callbacks->get_socket(req->conn) : NULL;
    return sock && sock->on_close.cb == on_connection_closed ? sock->on_close.data : NULL;
}

static void on_request_timeout(h2o_timeout_entry_t *entry) {
    api_conn *conn = H2O_STRUCT_FROM_MEMBER(api_conn, timer, entry);
    h2o_socket_t *sock = conn->sock;
    if (h2o_socket_is_writing(sock)) { /* answering: not slow on our side */
        h2o_timeout_link(conn->thread->loop, &conn->thread->request_timeout, &conn->timer);
        return;
    }
    int fd = h2o_socket_get_fd(sock);
    /* Over TLS the plain-text 408 would be garbage inside the stream: just close. */
    if (sock->input->size > 0 && !conn->thread->server->tls) {
        _Static_assert(sizeof "{\"error\":{\"code\":\"request_timeout\",\"message\":\"the request did not arrive in "
                              "time\"}}" -
                               1 ==
                           83,
                       "Content-Length of the 408 answer");
        if (send(fd, timeout_answer, sizeof timeout_answer - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
            /* the peer is gone or its window is full: closing is all we can do */
        }
        api_metrics_record(conn->thread->metrics, API_SLOT_UNMATCHED + API_METHOD_GROUPS - 1, 408, 0);
        sb_log(SB_LOG_INFO, "http.timeout", "request not complete within %d ms: 408", SB_HTTP_REQUEST_TIMEOUT_MS);
    }
    /* h2o sees the end of the stream and closes the connection itself */
    shutdown(fd, SHUT_RDWR);
}

/* The request on req's connection has been read: restart its timer. */
static void connection_request_read(h2o_req_t *req) {
    h2o_socket_t *sock = req->conn->callbacks->get_socket ? req->conn->callbacks->get_socket(req->conn) : NULL;
    if (!sock || sock->on_close.cb != on_connection_closed) return;
    api_conn *conn = sock->on_close.data;
    if (h2o_timeout_is_linked(&conn->timer)) h2o_timeout_unlink(&conn->timer);
    h2o_timeout_link(conn->thread->loop, &conn->thread->request_timeout, &conn->timer);
}

/* Stop req's connection's request timer (upgraded, or answered off the loop). */
static void connection_timer_stop(h2o_req_t *req) {
    api_conn *conn = conn_of(req);
    if (conn && h2o_timeout_is_linked(&conn->timer)) h2o_timeout_unlink(&conn->timer);
}

void api_connection_upgraded(h2o_req_t *req) {
    connection_timer_stop(req);
    api_conn *conn = conn_of(req);
    if (conn) conn->upgraded = true;
}

/* ---- answers made off the loop (api_defer) ----
 * The job lives on the heap; the request's pool holds a slot pointing at
 * it, whose dispose hook (run if h2o frees the request first, e.g. the
 * connection ended) tells the job the request is gone.  Both run on the
 * request's loop thread, so no lock is needed.  The message that brings
 * the job back is allocated up front: a finished job always gets home. */
struct api_deferred {
    sb_offload_job job;
    api_thread *thread;
    h2o_req_t *req;                  /* NULL once h2o has freed the request */
    struct api_deferred **pool_slot; /* in req's pool; valid while req is */
    const api_route *route;
    int method_group;
    uint64_t start_ns;
    const api_deferred_ops *ops;
    void *data;
    int result;     /* SB_OK (ran) or SB_ECLOSED (cancelled) */
    int run_result; /* SB_EIO when there was no store to run with */
    api_thread_msg *msg;
};

static void deferred_on_req_dispose(void *p) {
    struct api_deferred **slot = p;
    if (*slot) (*slot)->req = NULL;
}

static void deferred_run(sb_offload_job *job, void *worker_state) {
    struct api_deferred *d = H2O_STRUCT_FROM_MEMBER(struct api_deferred, job, job);
    if (!worker_state) { /* the worker could not open its store (logged at its start) */
        d->run_result = SB_EIO;
        return;
    }
    d->ops->run(d->data, worker_state);
}

/* On the worker (or the stopping thread): post the job to its loop. */
static void deferred_complete(sb_offload_job *job, int result) {
    struct api_deferred *d = H2O_STRUCT_FROM_MEMBER(struct api_deferred, job, job);
    d->result = result;
    d->msg->kind = API_MSG_DEFERRED;
    d->msg->deferred = d;
    h2o_multithread_send_message(&d->thread->receiver, &d->msg->super);
}

/* On the loop: answer (unless the client has gone), count, log, free. */
static void deferred_finish(api_thread *t, struct api_deferred *d) {
    if (d->req) {
        *d->pool_slot = NULL;
        api_request rq = {.req = d->req, .thread = t, .route = d->route, .method_group = d->method_group};
        api_ctx c = {.app = t->server->app, .store = t->store, .request = &rq, .now_ms = sb_now_ms()};
        connection_request_read(d->req); /* the connection's timer runs again */
        if (d->result == SB_OK && d->run_result == SB_OK) {
            d->ops->answer(&c, d->data);
        } else if (d->result == SB_OK) {
            api_reply_sb_error(&c, d->run_result, NULL);
        } else {
            api_set_header(&c, "retry-after", "5");
            api_reply_error(&c, 503, "unavailable", "the server is shutting down");
        }
        if (!rq.replied) api_reply_error(&c, 500, "internal", "the handler gave no answer");
        uint64_t duration_ns = (uint64_t)sb_mono_ns() - d->start_ns;
        api_metrics_record(t->metrics, d->route->index, rq.status, duration_ns);
        access_log(t->server, d->req, d->route->index, rq.status, duration_ns, d->method_group);
    }
    d->ops->free(d->data);
    sb_free(d);
}

int api_defer(api_ctx *c, const api_deferred_ops *ops, void *data_take) {
    return api_defer_to(c, API_POOL_PASSWORD, ops, data_take);
}

int api_defer_to(api_ctx *c, int pool, const api_deferred_ops *ops, void *data_take) {
    api_request *rq = c->request;
    api_server *srv = rq->thread->server;
    struct api_deferred *d = sb_calloc(1, sizeof *d);
    api_thread_msg *msg = d ? sb_calloc(1, sizeof *msg) : NULL;
    if (!msg) {
        sb_free(d);
        ops->free(data_take);
        return SB_ENOMEM;
    }
    struct api_deferred **slot = h2o_mem_alloc_shared(&rq->req->pool, sizeof *slot, deferred_on_req_dispose);
    *slot = d;
    d->job.run = deferred_run;
    d->job.complete = deferred_complete;
    d->thread = rq->thread;
    d->req = rq->req;
    d->pool_slot = slot;
    d->route = rq->route;
    d->method_group = rq->method_group;
    d->start_ns = rq->start_ns;
    d->ops = ops;
    d->data = data_take;
    d->msg = msg;
    struct sb_offload *o = pool == API_POOL_MEDIA ? srv->media_jobs : srv->passwords;
    int result = o ? sb_offload_submit(o, &d->job) : SB_ECLOSED;
    if (result != SB_OK) {
        *slot = NULL;
        ops->free(data_take);
        sb_free(msg);
        sb_free(d);
        if (result == SB_EBUSY) {
            api_set_header(c, "retry-after", "1");
            api_reply_error(c, 503, "busy", "too many %s in progress; try again shortly",
                            pool == API_POOL_MEDIA ? "uploads" : "password checks");
        } else {
            api_set_header(c, "retry-after", "5");
            api_reply_error(c, 503, "unavailable", "the server is shutting down");
        }
        return SB_OK;
    }
    rq->deferred = true;
    connection_timer_stop(rq->req); /* waiting for the pool is not the client being slow */
    return SB_OK;
}

/* Each password worker reads and writes through its own store connection. */
static int password_worker_init(void *arg, void **state_out) {
    api_server *srv = arg;
    store *s = NULL;
    int result = store_open(srv->cfg.data_location, NULL, &s);
    *state_out = s;
    return result;
}

static void password_worker_fini(void *arg, void *state) {
    (void)arg;
    store_close(state);
}

/* Accept what is waiting; past SB_HTTP_CONNECTIONS_MAX open connections on
 * this thread new ones are closed at once (h2o tells us of every close
 * through the socket's on_close, which survives the WebSocket upgrade). */
static void on_accept(h2o_socket_t *listener, const char *err) {
    if (err != NULL) return;
    api_thread *t = listener->data;
    for (int i = 0; i < SB_HTTP_ACCEPTS_PER_WAKE_MAX; i++) {
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (!sock) break;
        struct api_peer *peer = NULL;
        int counted = t->connections < SB_HTTP_CONNECTIONS_MAX ? api_peer_acquire(t->server, sock, &peer) : SB_ELIMIT;
        api_conn *conn = counted == SB_OK ? sb_calloc(1, sizeof *conn) : NULL;
        if (!conn) {
            api_peer_release(t->server, peer);
            int64_t now = (int64_t)h2o_now(t->loop);
            if (now - t->refused_logged_ms >= 1000) {
                t->refused_logged_ms = now;
                sb_log(SB_LOG_WARN, "http.refused", "a new connection was closed: %s",
                       counted == SB_ELIMIT ? "over the connection caps (per address or in total)" : "out of memory");
            }
            h2o_socket_close(sock);
            continue;
        }
        conn->peer = peer;
        conn->thread = t;
        conn->sock = sock;
        conn->timer.cb = on_request_timeout;
        h2o_timeout_link(t->loop, &t->request_timeout, &conn->timer);
        h2o_linklist_insert(&t->conns, &conn->link);
        t->connections++;
        sock->on_close.cb = on_connection_closed;
        sock->on_close.data = conn;
        conn->in_callback++; /* h2o_accept may close it */
        h2o_accept(&t->accept_ctx, sock);
        conn->in_callback--;
        if (conn->closed)
            sb_free(conn);
        else
            api_guard_start(conn);
    }
}

static void on_thread_messages(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages) {
    api_thread *t = H2O_STRUCT_FROM_MEMBER(api_thread, receiver, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        api_thread_msg *msg = H2O_STRUCT_FROM_MEMBER(api_thread_msg, super.link, messages->next);
        h2o_linklist_unlink(&msg->super.link);
        if (msg->kind == API_MSG_SHUTDOWN)
            t->stopping = true;
        else if (msg->kind == API_MSG_WS_SEND)
            api_ws_deliver(t, msg);
        else if (msg->kind == API_MSG_BOT_WAKE)
            api_botapi_polls_wake(t, msg->bot_id);
        else if (msg->kind == API_MSG_DEFERRED)
            deferred_finish(t, msg->deferred);
        sb_free(msg);
    }
}

typedef struct {
    int connections;
    bool close_all;
} sweep_state;

/* Count the HTTP/1 connections; shut down the idle ones (or all). */
static int sweep_connection(h2o_req_t *req, void *arg) {
    sweep_state *st = arg;
    st->connections++;
    if (st->close_all || req->timestamps.request_begin_at.tv_sec == 0) {
        h2o_socket_t *sock = req->conn->callbacks->get_socket ? req->conn->callbacks->get_socket(req->conn) : NULL;
        if (sock) shutdown(h2o_socket_get_fd(sock), SHUT_RDWR);
    }
    return 0;
}

static int sweep(api_thread *t, bool close_all) {
    sweep_state st = {0, close_all};
    if (t->ctx.globalconf->http1.callbacks.foreach_request)
        t->ctx.globalconf->http1.callbacks.foreach_request(&t->ctx, sweep_connection, &st);
    return st.connections;
}

static void *thread_main(void *arg) {
    api_thread *t = arg;
    current_thread = t;
    h2o_timeout_init(t->loop, &t->request_timeout, SB_HTTP_REQUEST_TIMEOUT_MS);
    h2o_linklist_init_anchor(&t->conns);
    t->listener = h2o_evloop_socket_create(t->loop, t->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    t->listener->data = t;
    h2o_socket_read_start(t->listener, on_accept);
    api_ws_thread_init(t);
    while (!t->stopping)
        h2o_evloop_run(t->loop, INT32_MAX);

    /* graceful: stop accepting, let requests finish, close WebSockets */
    h2o_socket_read_stop(t->listener);
    h2o_socket_close(t->listener);
    t->listener = NULL;
    t->ctx.shutdown_requested = 1;  /* HTTP/1 stops keep-alive; HTTP/2 is not offered */
    api_ws_sends_thread_dispose(t); /* what was gathered is sent and answered first */
    api_ws_thread_shutdown(t);
    api_botapi_polls_shutdown(t);
    int64_t deadline = sb_mono_ns() + (int64_t)SB_SHUTDOWN_GRACE_MS * 1000000;
    while (sb_mono_ns() < deadline) {
        if (sweep(t, false) == 0 && t->ws_count == 0) break;
        h2o_evloop_run(t->loop, 20);
    }
    api_ws_sends_thread_dispose(t);
    api_ws_thread_dispose(t);
    for (int i = 0; i < 50 && sweep(t, true) > 0; i++)
        h2o_evloop_run(t->loop, 10);
    /* whatever is still open is abandoned with the process: stop its timer */
    for (h2o_linklist_t *node = t->conns.next; node != &t->conns; node = node->next) {
        api_conn *conn = H2O_STRUCT_FROM_MEMBER(api_conn, link, node);
        if (h2o_timeout_is_linked(&conn->timer)) h2o_timeout_unlink(&conn->timer);
    }
    h2o_timeout_dispose(t->loop, &t->request_timeout);
    return NULL;
}

/* ---- start and stop ---- */

static int listen_socket(const char *bind_addr, int port, int *fd_out, int *port_out) {
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    char port_text[16];
    snprintf(port_text, sizeof port_text, "%d", port);
    if (getaddrinfo(bind_addr, port_text, &hints, &ai) != 0 || !ai) {
        sb_log(SB_LOG_ERROR, "http.bind", "cannot parse the bind address '%s' (give a numeric IPv4 or IPv6 address)",
               bind_addr);
        return SB_EINVAL;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int on = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
        listen(fd, SOMAXCONN) != 0) {
        sb_log(SB_LOG_ERROR, "http.bind", "cannot listen on %s port %d: %s", bind_addr, port, strerror(errno));
        if (fd >= 0) close(fd);
        freeaddrinfo(ai);
        return SB_EIO;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        close(fd);
        return SB_EIO;
    }
    *port_out = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    *fd_out = fd;
    return SB_OK;
}

static void free_threads(api_server *srv) {
    for (int i = 0; i < srv->nthreads; i++) {
        api_thread *t = &srv->threads[i];
        if (t->queue) {
            h2o_multithread_unregister_receiver(t->queue, &t->receiver);
            h2o_multithread_destroy_queue(t->queue);
            /* h2o 2.2's destroy closes the queue's pipe but forgets to free
             * the queue itself (allocated with malloc by h2o_mem_alloc;
             * later h2o versions free it there) */
            free(t->queue);
            /* the queue's socket is freed on the loop's next turn */
            for (int turn = 0; t->loop && turn < 2; turn++)
                h2o_evloop_run(t->loop, 0);
        }
        if (t->loop) {
            h2o_context_dispose(&t->ctx);
            h2o_evloop_destroy(t->loop);
        }
        if (t->listener == NULL && t->listen_fd >= 0 && !t->started) close(t->listen_fd);
        store_close(t->store);
        sb_free(t->metrics);
    }
    sb_free(srv->threads);
    srv->threads = NULL;
    srv->nthreads = 0;
    if (srv->web_fd >= 0) close(srv->web_fd);
    srv->web_fd = -1;
    if (srv->config_ready) h2o_config_dispose(&srv->config);
    srv->config_ready = false;
    SSL_CTX_free(srv->tls);
    srv->tls = NULL;
}

/* Open the store, migrate it and note the schema version for /healthz. */
static int prepare_store(api_server *srv) {
    store *s;
    const char *location = srv->cfg.data_location;
    int result = store_open(location, NULL, &s);
    if (result != SB_OK) {
        sb_log(SB_LOG_ERROR, "http.store", "cannot open the store at %s: %s", location, sb_strerror(result));
        return result;
    }
    int applied = 0, version = 0;
    result = store_migrate(s, &applied);
    if (result == SB_OK) result = store_schema_version(s, &version);
    store_close(s);
    if (result != SB_OK) {
        sb_log(SB_LOG_ERROR, "http.store", "cannot migrate the store: %s", sb_strerror(result));
        return result;
    }
    int n = snprintf(srv->healthz, sizeof srv->healthz, "{\"status\":\"ok\",\"schema\":%d,\"version\":\"%s\"}", version,
                     SB_VERSION);
    srv->healthz_len = (size_t)n;
    return SB_OK;
}

int api_server_new(sb_app *app, const api_server_config *cfg, api_server **out) {
    *out = NULL;
    if (!app || !cfg || cfg->threads < 1 || cfg->threads > SB_THREADS_MAX || cfg->port < 0 || cfg->port > 65535 ||
        !cfg->bind_addr || !cfg->data_location)
        return SB_EINVAL;
    api_server *srv = sb_calloc(1, sizeof *srv);
    if (!srv) return SB_ENOMEM;
    srv->app = app;
    srv->cfg = *cfg;
    srv->web_fd = -1;
    int result = keep_metrics_token(srv, cfg->metrics_token);
    if (result == SB_OK) result = api_verify_jobs_new(cfg->data_location, &srv->verify);
    if (result != SB_OK) {
        sb_free(srv);
        return result;
    }
    api_router_init(&srv->router);
    api_routes_register_all(&srv->router);
    const char *why;
    if (api_router_check(&srv->router, &why) != SB_OK) {
        sb_log(SB_LOG_ERROR, "http.routes", "%s", why);
        api_verify_jobs_free(srv->verify);
        sb_free(srv);
        return SB_EINTERNAL;
    }
    api_ws_registry_init(srv);
    pthread_mutex_init(&srv->peers_lock, NULL);
    *out = srv;
    return SB_OK;
}

int api_server_port(const api_server *srv) { return srv->port; }

int api_server_start(api_server *srv) {
    if (srv->running || srv->threads) return SB_EBUSY;
    const api_server_config *cfg = &srv->cfg;
    json_set_alloc_funcs(sb_malloc, sb_free);
    signal(SIGPIPE, SIG_IGN);
    int result = prepare_store(srv);
    if (result != SB_OK) return result;
    srv->web_fd = -1;
    if (cfg->web_dir && *cfg->web_dir) {
        srv->web_fd = open(cfg->web_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (srv->web_fd < 0)
            sb_log(SB_LOG_WARN, "http.web", "no static files: cannot open %s: %s", cfg->web_dir, strerror(errno));
    }

    h2o_config_init(&srv->config);
    srv->config_ready = true;
    srv->config.server_name = h2o_iovec_init(H2O_STRLIT("socialbank"));
    /* the largest route cap (POST /api/ingest); the pipeline applies each route's own */
    srv->config.max_request_entity_size = SB_HTTP_INGEST_BODY_BYTES_MAX;
    /* ours answers 408 first (on_request_timeout); h2o's closes a second later */
    srv->config.http1.req_timeout = SB_HTTP_REQUEST_TIMEOUT_MS + 1000;
    srv->config.http1.upgrade_to_http2 = 0;
    srv->config.http2.idle_timeout = SB_HTTP_IDLE_TIMEOUT_MS;
    h2o_hostconf_t *host = h2o_config_register_host(&srv->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pathconf = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(pathconf, sizeof *handler);
    handler->on_req = on_req;
    h2o_filter_t *filter = h2o_create_filter(&host->fallback_path, sizeof *filter);
    filter->on_setup_ostream = on_setup_error_ostream;
    if ((result = tls_context_new(cfg, &srv->tls)) != SB_OK) {
        free_threads(srv);
        return result;
    }

    srv->threads = sb_calloc((size_t)cfg->threads, sizeof *srv->threads);
    if (!srv->threads) {
        free_threads(srv);
        return SB_ENOMEM;
    }
    srv->nthreads = cfg->threads;
    int port = cfg->port;
    for (int i = 0; i < srv->nthreads; i++)
        srv->threads[i].listen_fd = -1;
    for (int i = 0; i < srv->nthreads && result == SB_OK; i++) {
        api_thread *t = &srv->threads[i];
        t->server = srv;
        t->index = i;
        result = listen_socket(cfg->bind_addr, port, &t->listen_fd, &port);
        if (result != SB_OK) break;
        result = store_open(cfg->data_location, NULL, &t->store);
        if (result != SB_OK) {
            sb_log(SB_LOG_ERROR, "http.store", "cannot open a store connection: %s", sb_strerror(result));
            break;
        }
        t->metrics = sb_calloc(1, sizeof *t->metrics);
        if (!t->metrics) {
            result = SB_ENOMEM;
            break;
        }
        t->loop = h2o_evloop_create();
        h2o_context_init(&t->ctx, t->loop, &srv->config);
        t->accept_ctx.ctx = &t->ctx;
        t->accept_ctx.hosts = srv->config.hosts;
        t->accept_ctx.ssl_ctx = srv->tls;
        t->queue = h2o_multithread_create_queue(t->loop);
        h2o_multithread_register_receiver(t->queue, &t->receiver, on_thread_messages);
    }
    if (result != SB_OK) {
        free_threads(srv);
        return result;
    }

    sb_offload_config pool = {
        .name = "password",
        .threads = cfg->password_threads > 0 ? cfg->password_threads : SB_PASSWORD_THREADS_DEFAULT,
        .jobs_max = cfg->password_jobs_max > 0 ? cfg->password_jobs_max : SB_PASSWORD_JOBS_MAX_DEFAULT,
        .thread_init = password_worker_init,
        .thread_fini = password_worker_fini,
        .arg = srv,
    };
    if ((result = sb_offload_start(&pool, &srv->passwords)) != SB_OK) {
        sb_log(SB_LOG_ERROR, "http.thread", "cannot start the password threads: %s", sb_strerror(result));
        free_threads(srv);
        return result;
    }
    sb_offload_config media_pool = pool;
    media_pool.name = "media";
    media_pool.threads = SB_MEDIA_THREADS;
    media_pool.jobs_max = SB_MEDIA_JOBS_MAX;
    if ((result = sb_offload_start(&media_pool, &srv->media_jobs)) != SB_OK) {
        sb_log(SB_LOG_ERROR, "http.thread", "cannot start the media threads: %s", sb_strerror(result));
        sb_offload_stop(srv->passwords);
        srv->passwords = NULL;
        free_threads(srv);
        return result;
    }

    api_ws_registry_open(srv);
    api_verify_jobs_open(srv->verify);
    result = api_botapi_start(srv);
    for (int i = 0; result == SB_OK && i < srv->nthreads; i++) {
        api_thread *t = &srv->threads[i];
        if (pthread_create(&t->tid, NULL, thread_main, t) != 0) {
            sb_log(SB_LOG_ERROR, "http.thread", "cannot start thread %d", i);
            result = SB_EINTERNAL;
            break;
        }
        t->started = true;
    }
    srv->port = port;
    srv->running = true;
    if (result != SB_OK) {
        api_server_stop(srv);
        return result;
    }
    char fields[160];
    snprintf(fields, sizeof fields, "{\"port\":%d,\"threads\":%d,\"bind\":\"%s\",\"tls\":%s}", port, srv->nthreads,
             cfg->bind_addr, srv->tls ? "true" : "false");
    sb_log_fields(SB_LOG_INFO, "http.listen", fields, "listening on %s port %d with %d threads%s", cfg->bind_addr, port,
                  srv->nthreads, srv->tls ? " (TLS, HTTP/2 by ALPN)" : "");
    return SB_OK;
}

void api_server_stop(api_server *srv) {
    if (!srv || !srv->running) return;
    api_ws_registry_close(srv);
    api_botapi_wake_close(srv);
    /* password checks: running ones finish, waiting ones are cancelled; the
     * loops, still running, answer them all before their shutdown message */
    sb_offload_stop(srv->passwords);
    srv->passwords = NULL;
    sb_offload_stop(srv->media_jobs);
    srv->media_jobs = NULL;
    for (int i = 0; i < srv->nthreads; i++) {
        api_thread *t = &srv->threads[i];
        if (!t->started) continue;
        api_thread_msg *msg = sb_calloc(1, sizeof *msg);
        SB_ASSERT(msg != NULL); /* a shutdown that cannot be delivered would hang */
        msg->kind = API_MSG_SHUTDOWN;
        h2o_multithread_send_message(&t->receiver, &msg->super);
    }
    for (int i = 0; i < srv->nthreads; i++)
        if (srv->threads[i].started) pthread_join(srv->threads[i].tid, NULL);
    api_botapi_stop(srv);
    /* messages that arrived after a loop stopped */
    for (int i = 0; i < srv->nthreads; i++)
        h2o_evloop_run(srv->threads[i].loop, 0);
    api_verify_jobs_close(srv->verify);
    free_threads(srv);
    srv->running = false;
    sb_log(SB_LOG_INFO, "http.stop", "stopped");
}

void api_server_free(api_server *srv) {
    if (!srv) return;
    api_server_stop(srv);
    api_ws_registry_dispose(srv);
    api_peers_dispose(srv);
    pthread_mutex_destroy(&srv->peers_lock);
    api_verify_jobs_free(srv->verify);
    memset(srv->metrics_token, 0, sizeof srv->metrics_token);
    sb_free(srv);
}

int api_server_run(api_server *srv) {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    int result = api_server_start(srv);
    if (result == SB_OK) {
        int sig = 0;
        sigwait(&signals, &sig);
        sb_log(SB_LOG_INFO, "http.stopping", "signal %d: stopping gracefully", sig);
        api_server_stop(srv);
    }
    pthread_sigmask(SIG_UNBLOCK, &signals, NULL);
    return result;
}
