/*
 * http_guard.c - limits applied to a connection while its bytes arrive,
 * before h2o buffers them: each route's body cap, and the number of
 * connections per client address and in total.
 *
 * Body caps.  h2o 2.2 reads a whole request body into the socket's input
 * buffer before any handler runs, with one cap for every path
 * (max_request_entity_size, which must be the largest: the ingest route's
 * 8 MiB).  So that a public route's 16 KiB cap holds while the body
 * arrives, our callback stands in front of h2o's HTTP/1 read callback: on
 * every read it scans the head of the request h2o is reading (it always
 * starts the input buffer: h2o consumes a request only after answering it),
 * finds the route by method and path, and refuses a Content-Length over
 * that route's cap with a 413 before a byte of the body is kept; a chunked
 * body (which h2o decodes in place) is cut off with a 413 once the decoded
 * part passes the cap.  Refusing = one best-effort write of the 413 and a
 * shutdown of the socket; h2o sees the end of the stream and closes.  h2o
 * re-installs its own read callback when it starts reading the next request
 * on a kept-alive connection (from its write-complete callback), so we also
 * stand in front of the write callbacks of HTTP answers and put ours back
 * after each.  A WebSocket (upgraded) connection is left alone.
 *
 * Connections.  A table of the server's, under one mutex, counts the open
 * connections of each client address across all its threads; past the per-address cap, or past the
 * total cap, a new connection is closed at once (logged at most once a
 * second per thread).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "api/api_int.h"

/* ---- the head scanner ---- */

static bool name_is(const char *name, size_t len, const char *want) {
    size_t want_len = strlen(want);
    if (len != want_len) return false;
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        if (ch >= 'A' && ch <= 'Z') ch = (char)(ch - 'A' + 'a');
        if (ch != want[i]) return false;
    }
    return true;
}

static bool value_has_chunked(const char *v, size_t len) {
    static const char word[] = "chunked";
    for (size_t i = 0; i + sizeof word - 1 <= len; i++)
        if (name_is(v + i, sizeof word - 1, word)) return true;
    return false;
}

int api_head_scan(const char *data, size_t len, api_head *out) {
    memset(out, 0, sizeof *out);
    out->content_length = -1;
    size_t pos = 0;
    while (pos < len && (data[pos] == '\r' || data[pos] == '\n') && pos < 4) /* h2o skips stray CRLFs */
        pos++;
    size_t scan = len < SB_HTTP_HEADER_BYTES_MAX + SB_HTTP_PATH_BYTES_MAX
                      ? len
                      : SB_HTTP_HEADER_BYTES_MAX + SB_HTTP_PATH_BYTES_MAX;
    const char *end = scan > pos ? memmem(data + pos, scan - pos, "\r\n\r\n", 4) : NULL;
    if (!end) return scan == len ? SB_ENOTFOUND : SB_EINVAL;
    out->head_len = (size_t)(end - data) + 4;
    /* request line: METHOD SP TARGET SP VERSION */
    const char *line = data + pos;
    const char *line_end = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
    const char *sp = memchr(line, ' ', (size_t)(line_end - line));
    if (!sp || sp == line) return SB_EINVAL;
    out->method = line;
    out->method_len = (size_t)(sp - line);
    const char *target = sp + 1;
    const char *sp2 = memchr(target, ' ', (size_t)(line_end - target));
    if (!sp2 || sp2 == target) return SB_EINVAL;
    const char *query = memchr(target, '?', (size_t)(sp2 - target));
    out->path = target;
    out->path_len = (size_t)((query ? query : sp2) - target);
    /* headers: the largest Content-Length (h2o takes the first; the
     * largest is the safe side), any Transfer-Encoding naming chunked */
    const char *h = line_end + 2;
    for (int lines = 0; h < end + 2 && lines < 1000; lines++) {
        const char *eol = memmem(h, (size_t)(end + 2 - h), "\r\n", 2);
        if (!eol) break;
        const char *colon = memchr(h, ':', (size_t)(eol - h));
        if (colon) {
            const char *v = colon + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            size_t vlen = (size_t)(eol - v);
            if (name_is(h, (size_t)(colon - h), "content-length")) {
                int64_t value = 0;
                size_t i = 0;
                for (; i < vlen && v[i] >= '0' && v[i] <= '9'; i++) {
                    if (value > (INT64_MAX - 9) / 10) return SB_EINVAL;
                    value = value * 10 + (v[i] - '0');
                }
                if (i == 0) return SB_EINVAL;
                if (value > out->content_length) out->content_length = value;
            } else if (name_is(h, (size_t)(colon - h), "transfer-encoding") && value_has_chunked(v, vlen)) {
                out->chunked = true;
            }
        }
        h = eol + 2;
    }
    return SB_OK;
}

/* ---- connections per address ---- */

struct api_peer {
    uint8_t addr[16];
    uint8_t family;
    int count;
    struct api_peer *next;
};

static size_t peer_bucket(const uint8_t addr[16], uint8_t family) {
    uint64_t hash = 1469598103934665603ULL; /* FNV-1a */
    for (int i = 0; i < 16; i++)
        hash = (hash ^ addr[i]) * 1099511628211ULL;
    hash = (hash ^ family) * 1099511628211ULL;
    return (size_t)(hash % API_PEER_BUCKETS);
}

int api_peer_acquire(api_server *srv, h2o_socket_t *sock, struct api_peer **out) {
    *out = NULL;
    struct sockaddr_storage ss;
    socklen_t len = h2o_socket_getpeername(sock, (struct sockaddr *)&ss);
    uint8_t addr[16] = {0}, family = 0;
    if (len > 0 && ss.ss_family == AF_INET) {
        memcpy(addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
        family = 4;
    } else if (len > 0 && ss.ss_family == AF_INET6) {
        memcpy(addr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
        family = 6;
    }
    int per_address_max = srv->cfg.connections_per_address_max > 0 ? srv->cfg.connections_per_address_max
                                                                   : SB_HTTP_CONNECTIONS_PER_ADDRESS_MAX;
    int result = SB_OK;
    pthread_mutex_lock(&srv->peers_lock);
    struct api_peer **slot = &srv->peers[peer_bucket(addr, family)];
    while (*slot && ((*slot)->family != family || memcmp((*slot)->addr, addr, 16) != 0))
        slot = &(*slot)->next;
    if (srv->peers_total >= SB_HTTP_CONNECTIONS_TOTAL_MAX || (*slot && (*slot)->count >= per_address_max)) {
        result = SB_ELIMIT;
    } else if (!*slot) {
        struct api_peer *p = sb_calloc(1, sizeof *p);
        if (!p) {
            result = SB_ENOMEM;
        } else {
            memcpy(p->addr, addr, 16);
            p->family = family;
            *slot = p;
        }
    }
    if (result == SB_OK) {
        (*slot)->count++;
        srv->peers_total++;
        *out = *slot;
    }
    pthread_mutex_unlock(&srv->peers_lock);
    return result;
}

void api_peer_release(api_server *srv, struct api_peer *peer) {
    if (!peer) return;
    pthread_mutex_lock(&srv->peers_lock);
    srv->peers_total--;
    if (--peer->count == 0) {
        struct api_peer **slot = &srv->peers[peer_bucket(peer->addr, peer->family)];
        while (*slot && *slot != peer)
            slot = &(*slot)->next;
        if (*slot) *slot = peer->next;
        sb_free(peer);
    }
    pthread_mutex_unlock(&srv->peers_lock);
}

void api_peers_dispose(api_server *srv) {
    for (size_t i = 0; i < API_PEER_BUCKETS; i++) {
        while (srv->peers[i]) {
            struct api_peer *next = srv->peers[i]->next;
            sb_free(srv->peers[i]);
            srv->peers[i] = next;
        }
    }
    srv->peers_total = 0;
}

/* ---- the body guard ---- */

static void guard_on_read(h2o_socket_t *sock, const char *err);
static void guard_on_write(h2o_socket_t *sock, const char *err);

/* Run one of h2o's socket callbacks for conn; false if the connection was
 * closed (and conn freed) inside it. */
static bool guard_call(api_conn *conn, h2o_socket_cb cb, const char *err) {
    conn->in_callback++;
    cb(conn->sock, err);
    conn->in_callback--;
    if (conn->closed) {
        if (conn->in_callback == 0) sb_free(conn);
        return false;
    }
    return true;
}

void api_guard_wrap(api_conn *conn) {
    h2o_socket_t *sock = conn->sock;
    if (conn->upgraded || conn->closed) return;
    if (sock->_cb.read != NULL && sock->_cb.read == conn->thread->h2o_read) sock->_cb.read = guard_on_read;
    if (sock->_cb.write != NULL && sock->_cb.write != guard_on_write) {
        conn->h2o_write = sock->_cb.write;
        sock->_cb.write = guard_on_write;
    }
}

void api_guard_start(api_conn *conn) {
    api_thread *t = conn->thread;
    if (!t->h2o_read && conn->sock->_cb.read) t->h2o_read = conn->sock->_cb.read; /* h2o's HTTP/1 reader */
    api_guard_wrap(conn);
}

/* Write a 413 and end the connection (h2o closes it at the end of the stream). */
static void guard_refuse(api_conn *conn, size_t cap, const char *why) {
    conn->refused = true;
    char body[160], answer[400];
    int body_len = snprintf(body, sizeof body,
                            "{\"error\":{\"code\":\"body_too_large\",\"message\":\"body over %zu bytes\"}}", cap);
    int n = snprintf(answer, sizeof answer,
                     "HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\n"
                     "Content-Type: application/json; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s",
                     body_len, body);
    int fd = h2o_socket_get_fd(conn->sock);
    if (n > 0 && (size_t)n < sizeof answer && send(fd, answer, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
        /* the peer is gone or its window is full: closing is all we can do */
    }
    shutdown(fd, SHUT_RDWR);
    api_metrics_record(conn->thread->metrics, API_SLOT_UNMATCHED + API_METHOD_GROUPS - 1, 413, 0);
    sb_log(SB_LOG_INFO, "http.body_too_large", "%s over the route's cap of %zu bytes: 413 before buffering", why, cap);
}

/* Does the request being read break its route's cap?  Refuses it if so.
 * A declared Content-Length is judged before h2o sees the bytes; a chunked
 * body only once h2o has decoded what arrived (decoded true), since its
 * framing may legitimately be larger than the body. */
static bool guard_check(api_conn *conn, bool decoded) {
    h2o_buffer_t *input = conn->sock->input;
    api_head head;
    if (input->size == 0 || api_head_scan(input->bytes, input->size, &head) != SB_OK) return false;
    size_t cap = api_server_body_cap(conn->thread->server, head.method, head.method_len, head.path, head.path_len);
    if (!head.chunked && head.content_length > (int64_t)cap) {
        guard_refuse(conn, cap, "Content-Length");
        return true;
    }
    if (head.chunked && decoded && input->size - head.head_len > cap + SB_HTTP_CHUNKED_SLACK_BYTES) {
        guard_refuse(conn, cap, "chunked body");
        return true;
    }
    return false;
}

static void guard_on_read(h2o_socket_t *sock, const char *err) {
    api_conn *conn = sock->on_close.data;
    if (conn->refused && err == NULL) { /* what arrives after a refusal is dropped */
        h2o_buffer_consume(&sock->input, sock->input->size);
        return;
    }
    if (err == NULL && guard_check(conn, false)) return;
    if (!guard_call(conn, conn->thread->h2o_read, err)) return;
    /* a chunked body h2o has just decoded further, while it keeps reading */
    if (!conn->refused && h2o_socket_is_reading(sock) && guard_check(conn, true)) return;
    api_guard_wrap(conn);
}

static void guard_on_write(h2o_socket_t *sock, const char *err) {
    api_conn *conn = sock->on_close.data;
    h2o_socket_cb cb = conn->h2o_write;
    conn->h2o_write = NULL;
    if (!cb) return;
    if (!guard_call(conn, cb, err)) return;
    api_guard_wrap(conn); /* h2o may have started reading the next request */
}
