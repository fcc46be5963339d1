/*
 * bench_messenger.c - the messenger's network benchmark (issue 5): a load
 * client in C that opens many WebSocket connections to a running server,
 * sends chat messages as "send" frames at a given rate into groups and 1:1
 * chats, and measures the messages delivered to the OTHER members' devices
 * per second and the delivery latency (the send time travels in the text).
 * The baseline is the same client against the server's plain "echo" frame,
 * run by bench/messenger.sh in the same run.
 *
 *   bench_messenger setup DIR USERS GROUP_SIZE OUT
 *     Prepare a fresh data dir through the identity and messenger modules
 *     (no server, no backdoor): USERS customers, each with a session token,
 *     in groups of GROUP_SIZE and in 1:1 chats by pairs.  OUT gets one line
 *     per user: "user_id token group_chat_id direct_chat_id".
 *
 *   bench_messenger run PORT USERS_FILE MODE CONNECTIONS SECONDS RATE [GROUP_SHARE]
 *     MODE "messenger": RATE send frames a second, each from a random
 *     connection into its group (with probability GROUP_SHARE, default 0.9)
 *     or its 1:1 chat; "echo": RATE echo frames a second.  Prints the figures
 *     and one line "result: mode=... delivered_per_s=... p50_ms=... ...".
 *
 * The client is one thread: epoll, non-blocking sockets, its own minimal
 * RFC 6455 framing (client frames masked, server pings answered).  Sends are
 * paced every millisecond from the target rate; a delivery is counted when
 * it arrives inside the sending window, and its latency is receive time
 * minus the send time written in the text (one clock, one machine).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "identity/identity.h"
#include "messenger/messenger.h"

/* ---- bounds ---- */
#define USERS_MAX 100000
#define CONNECTING_AT_ONCE 256          /* handshakes in flight */
#define IN_BYTES_MAX (8 * 1024 * 1024)  /* a connection's unparsed input */
#define OUT_BYTES_MAX (1 * 1024 * 1024) /* a connection's unsent output */
#define CONNECT_TIMEOUT_S 120           /* all connections open */
#define DRAIN_QUIET_MS 1000             /* after the window: read until quiet this long... */
#define DRAIN_MAX_S 20                  /* ...or this long (late deliveries: counted, not in the rate) */
#define LATENCY_BUCKET_US 100           /* histogram resolution */
#define LATENCY_BUCKETS 200000          /* 20 s */
#define EVENTS_PER_WAIT 1024
#define SENDS_PER_TURN_MAX 200 /* frames sent between two polls */

static void die(const char *what, int result) {
    fprintf(stderr, "bench_messenger: %s: %s\n", what, result ? sb_strerror(result) : strerror(errno));
    exit(1);
}

/* ---- setup: users, sessions, chats through the modules ---- */

static int setup(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: bench_messenger setup DIR USERS GROUP_SIZE OUT\n");
        return 2;
    }
    int64_t users = 0, group_size = 0;
    if (sb_parse_int64(argv[3], &users) != SB_OK || users < 2 || users > USERS_MAX) die("USERS", SB_EINVAL);
    if (sb_parse_int64(argv[4], &group_size) != SB_OK || group_size < 2 || group_size > SB_MESSENGER_GROUP_MEMBERS_MAX)
        die("GROUP_SIZE", SB_EINVAL);
    sb_log_set_level(SB_LOG_ERROR);
    store *s = NULL;
    int result = store_open(argv[2], &(store_options){.durable = 0}, &s);
    if (result != SB_OK) die("open", result);
    if ((result = store_migrate(s, NULL)) != SB_OK) die("migrate", result);
    FILE *out = fopen(argv[5], "w");
    if (!out) die(argv[5], 0);
    int64_t *ids = sb_malloc((size_t)users * sizeof *ids);
    int64_t *groups = sb_malloc((size_t)users * sizeof *groups);
    int64_t *directs = sb_malloc((size_t)users * sizeof *directs);
    char(*tokens)[IDENTITY_TOKEN_CHARS + 1] = sb_malloc((size_t)users * sizeof *tokens);
    if (!ids || !groups || !directs || !tokens) die("memory", SB_ENOMEM);
    int64_t now = sb_now_ms(), t0 = sb_mono_ns();
    for (int64_t i = 0; i < users; i++) {
        char phone[32], code[SB_OTP_DIGITS + 1];
        snprintf(phone, sizeof phone, "+98935%07lld", (long long)i + 1);
        bool created = false;
        if ((result = identity_otp_request(s, phone, NULL, now, code)) != SB_OK) die("otp request", result);
        if ((result = identity_otp_verify(s, phone, code, now, &ids[i], &created)) != SB_OK) die("otp verify", result);
        if ((result = identity_session_create(s, ids[i], now, tokens[i])) != SB_OK) die("session", result);
    }
    for (int64_t first = 0; first < users; first += group_size) {
        int64_t chat = 0;
        if ((result = messenger_group_create(s, ids[first], "bench", now, &chat, NULL)) != SB_OK) die("group", result);
        groups[first] = chat;
        for (int64_t k = first + 1; k < first + group_size && k < users; k++) {
            if ((result = messenger_group_add(s, ids[first], chat, ids[k], now, NULL)) != SB_OK) die("add", result);
            groups[k] = chat;
        }
    }
    for (int64_t i = 0; i < users; i++) {
        int64_t peer = i ^ 1;
        if (peer >= users) peer = 0; /* an odd user count: the last talks to the first */
        if ((result = messenger_direct_open(s, ids[i], ids[peer], now, &directs[i], NULL)) != SB_OK)
            die("direct", result);
    }
    for (int64_t i = 0; i < users; i++)
        fprintf(out, "%lld %s %lld %lld\n", (long long)ids[i], tokens[i], (long long)groups[i], (long long)directs[i]);
    if (fclose(out) != 0) die(argv[5], 0);
    store_close(s);
    fprintf(stderr, "setup: %lld users in groups of %lld and 1:1 pairs in %.1f s\n", (long long)users,
            (long long)group_size, (double)(sb_mono_ns() - t0) / 1e9);
    sb_free(ids);
    sb_free(groups);
    sb_free(directs);
    sb_free(tokens);
    return 0;
}

/* ---- the load client ---- */

enum { C_IDLE, C_CONNECTING, C_HANDSHAKE, C_OPEN, C_CLOSED };

typedef struct {
    int fd;
    int state;
    int64_t user_id;
    int64_t group_chat, direct_chat;
    char token[IDENTITY_TOKEN_CHARS + 1];
    uint8_t *in;
    size_t in_len, in_cap;
    uint8_t *out;
    size_t out_len, out_cap;
    bool want_out;
    bool upgraded; /* the 101 was read */
} conn;

static struct {
    int ep;
    int port;
    conn *conns;
    size_t nconns;
    int connecting;
    size_t opened, closed, failed;
    bool echo;
    uint64_t rng;
    /* window */
    int64_t window_start_ns, window_end_ns;
    uint64_t sent, acked, errors, delivered, delivered_in_window, late, own, foreign;
    uint64_t *hist;
    uint64_t hist_count;
    double latency_max_ms;
    int errors_shown;
} B;

static uint64_t rnd(void) {
    B.rng ^= B.rng << 13;
    B.rng ^= B.rng >> 7;
    B.rng ^= B.rng << 17;
    return B.rng;
}

static void conn_close(conn *c) {
    if (c->state == C_CLOSED || c->state == C_IDLE) return;
    if (c->state == C_CONNECTING || c->state == C_HANDSHAKE) {
        B.connecting--;
        B.failed++;
    }
    epoll_ctl(B.ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->state = C_CLOSED;
    B.closed++;
}

static void set_want_out(conn *c, bool want) {
    if (c->want_out == want) return;
    c->want_out = want;
    struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(B.ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void flush_out(conn *c) {
    while (c->out_len > 0) {
        ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            if (errno == EINTR) continue;
            conn_close(c);
            return;
        }
        memmove(c->out, c->out + n, c->out_len - (size_t)n);
        c->out_len -= (size_t)n;
    }
    set_want_out(c, c->out_len > 0);
}

static bool out_append(conn *c, const void *data, size_t len) {
    if (c->out_len + len > OUT_BYTES_MAX) return false;
    if (c->out_len + len > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 1024;
        while (cap < c->out_len + len)
            cap *= 2;
        uint8_t *grown = sb_realloc(c->out, cap);
        if (!grown) return false;
        c->out = grown;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
    return true;
}

/* One masked client frame. */
static void send_frame(conn *c, int opcode, const char *payload, size_t len) {
    uint8_t head[14];
    size_t h = 0;
    head[h++] = (uint8_t)(0x80 | opcode);
    if (len < 126) {
        head[h++] = (uint8_t)(0x80 | len);
    } else if (len < 65536) {
        head[h++] = 0x80 | 126;
        head[h++] = (uint8_t)(len >> 8);
        head[h++] = (uint8_t)len;
    } else {
        head[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            head[h++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    uint32_t key = (uint32_t)rnd();
    uint8_t mask[4] = {(uint8_t)key, (uint8_t)(key >> 8), (uint8_t)(key >> 16), (uint8_t)(key >> 24)};
    memcpy(head + h, mask, 4);
    h += 4;
    uint8_t masked[1024];
    if (len > sizeof masked || !out_append(c, head, h)) {
        conn_close(c);
        return;
    }
    for (size_t i = 0; i < len; i++)
        masked[i] = (uint8_t)payload[i] ^ mask[i & 3];
    if (!out_append(c, masked, len)) {
        conn_close(c);
        return;
    }
    flush_out(c);
}

static void conn_start(conn *c) {
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0) die("socket (raise ulimit -n)", 0);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)B.port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) != 0 && errno != EINPROGRESS) die("connect", 0);
    c->state = C_CONNECTING;
    B.connecting++;
    c->want_out = true;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    if (epoll_ctl(B.ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) die("epoll_ctl", 0);
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET /api/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                     "Authorization: Bearer %s\r\n\r\n",
                     c->token);
    if (!out_append(c, req, (size_t)n)) die("request", SB_ENOMEM);
}

/* The decimal number at p (stops at the first non-digit). */
static int64_t parse_num(const char *p, const char *end) {
    int64_t v = 0;
    while (p < end && *p >= '0' && *p <= '9')
        v = v * 10 + (*p++ - '0');
    return v;
}

static void record_latency(int64_t sent_ns, int64_t now_ns) {
    if (sent_ns < B.window_start_ns || sent_ns > B.window_end_ns) return;
    double ms = (double)(now_ns - sent_ns) / 1e6;
    if (ms > B.latency_max_ms) B.latency_max_ms = ms;
    int64_t b = (now_ns - sent_ns) / 1000 / LATENCY_BUCKET_US;
    if (b < 0) b = 0;
    if (b >= LATENCY_BUCKETS) b = LATENCY_BUCKETS - 1;
    B.hist[b]++;
    B.hist_count++;
}

/* A delivery: the text carries "b <send_ns> <sender index>". */
static void on_delivery(conn *c, const char *marker, const char *end, int64_t now_ns) {
    const char *p = marker + 2;
    int64_t sent_ns = parse_num(p, end);
    while (p < end && *p != ' ')
        p++;
    int64_t sender = p < end ? parse_num(p + 1, end) : -1;
    if (!B.echo && sender == c - B.conns) {
        B.own++; /* the sender's own device: not counted */
        return;
    }
    B.delivered++;
    if (now_ns >= B.window_start_ns && now_ns <= B.window_end_ns)
        B.delivered_in_window++;
    else if (now_ns > B.window_end_ns && sent_ns <= B.window_end_ns)
        B.late++;
    record_latency(sent_ns, now_ns);
}

static const char *find(const char *hay, size_t len, const char *needle) {
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, n) == 0) return hay + i;
    return NULL;
}

static void on_text(conn *c, const char *text, size_t len, int64_t now_ns) {
    const char *end = text + len;
    /* Each mode counts only its own frames: a server still working off the
     * previous run's backlog must not inflate this one. */
    if (!B.echo && len > 22 && memcmp(text, "{\"type\":\"message.new\"", 21) == 0) {
        const char *m = find(text, len, "\"text\":\"b ");
        if (m)
            on_delivery(c, m + 8, end, now_ns);
        else
            B.foreign++;
    } else if (B.echo && len > 15 && memcmp(text, "{\"type\":\"echo\"", 14) == 0) {
        const char *m = find(text, len, "\"data\":\"b ");
        if (m) on_delivery(c, m + 8, end, now_ns);
    } else if (len > 15 && memcmp(text, "{\"type\":\"sent\"", 14) == 0) {
        B.acked++;
    } else if (len > 16 && memcmp(text, "{\"type\":\"error\"", 15) == 0) {
        B.errors++;
        if (B.errors_shown++ < 5) fprintf(stderr, "error frame: %.*s\n", (int)(len < 300 ? len : 300), text);
    } else if (len > 16 && memcmp(text, "{\"type\":\"hello\"", 15) == 0) {
        if (c->state == C_HANDSHAKE) {
            c->state = C_OPEN;
            B.connecting--;
            B.opened++;
        }
    }
}

/* Parse what arrived: the 101 first, then server frames. */
static void on_input(conn *c, int64_t now_ns) {
    size_t pos = 0;
    if (!c->upgraded) {
        c->state = C_HANDSHAKE;
        const char *hdr_end = find((const char *)c->in, c->in_len, "\r\n\r\n");
        if (!hdr_end) {
            if (c->in_len > 4096) conn_close(c);
            return;
        }
        if (c->in_len < 12 || memcmp(c->in, "HTTP/1.1 101", 12) != 0) {
            fprintf(stderr, "upgrade refused: %.*s\n", (int)(c->in_len < 200 ? c->in_len : 200), c->in);
            conn_close(c);
            return;
        }
        pos = (size_t)(hdr_end - (const char *)c->in) + 4;
        c->upgraded = true; /* open once the hello frame arrives */
    }
    while (c->state != C_CLOSED) {
        size_t avail = c->in_len - pos;
        if (avail < 2) break;
        const uint8_t *h = c->in + pos;
        int opcode = h[0] & 0x0f;
        uint64_t len = h[1] & 0x7f;
        size_t hl = 2;
        if (len == 126) {
            if (avail < 4) break;
            len = ((uint64_t)h[2] << 8) | h[3];
            hl = 4;
        } else if (len == 127) {
            if (avail < 10) break;
            len = 0;
            for (int i = 0; i < 8; i++)
                len = (len << 8) | h[2 + i];
            hl = 10;
        }
        if (len > IN_BYTES_MAX) {
            conn_close(c);
            return;
        }
        if (avail < hl + len) break;
        const char *payload = (const char *)h + hl;
        if (opcode == 0x1)
            on_text(c, payload, (size_t)len, now_ns);
        else if (opcode == 0x9)
            send_frame(c, 0xA, payload, (size_t)len);
        else if (opcode == 0x8) {
            if (len >= 2 && B.errors_shown++ < 5)
                fprintf(stderr, "closed by the server: %d %.*s\n", ((uint8_t)payload[0] << 8) | (uint8_t)payload[1],
                        (int)len - 2, payload + 2);
            conn_close(c);
            return;
        }
        pos += hl + (size_t)len;
    }
    if (c->state == C_CLOSED) return;
    memmove(c->in, c->in + pos, c->in_len - pos);
    c->in_len -= pos;
}

static void on_readable(conn *c, int64_t now_ns) {
    for (;;) {
        if (c->in_cap - c->in_len < 16384) {
            size_t cap = c->in_cap ? c->in_cap * 2 : 65536;
            if (cap > IN_BYTES_MAX) {
                conn_close(c);
                return;
            }
            uint8_t *grown = sb_realloc(c->in, cap);
            if (!grown) die("memory", SB_ENOMEM);
            c->in = grown;
            c->in_cap = cap;
        }
        ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (n > 0) {
            c->in_len += (size_t)n;
            if (c->in_len < c->in_cap) break;
            continue;
        }
        if (n == 0) {
            conn_close(c);
            return;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR) continue;
        conn_close(c);
        return;
    }
    on_input(c, now_ns);
}

static void poll_once(int timeout_ms) {
    struct epoll_event events[EVENTS_PER_WAIT];
    int n = epoll_wait(B.ep, events, EVENTS_PER_WAIT, timeout_ms);
    int64_t now = sb_mono_ns();
    for (int i = 0; i < n; i++) {
        conn *c = events[i].data.ptr;
        if (c->state == C_CLOSED) continue;
        if (events[i].events & (EPOLLERR | EPOLLHUP) && !(events[i].events & EPOLLIN)) {
            conn_close(c);
            continue;
        }
        if (events[i].events & EPOLLOUT) flush_out(c);
        if (c->state != C_CLOSED && (events[i].events & EPOLLIN)) on_readable(c, now);
    }
}

static void send_one(int64_t now_ns, uint64_t counter, double group_share) {
    for (int tries = 0; tries < 16; tries++) {
        size_t i = (size_t)(rnd() % B.nconns);
        conn *c = &B.conns[i];
        if (c->state != C_OPEN) continue;
        char frame[256];
        int n;
        if (B.echo) {
            n = snprintf(frame, sizeof frame, "{\"type\":\"echo\",\"data\":\"b %lld %zu\"}", (long long)now_ns, i);
        } else {
            bool to_group = (double)(rnd() % 1000000) / 1e6 < group_share;
            n = snprintf(frame, sizeof frame,
                         "{\"type\":\"send\",\"chat_id\":%lld,\"text\":\"b %lld %zu\",\"client_id\":\"k%llu\"}",
                         (long long)(to_group ? c->group_chat : c->direct_chat), (long long)now_ns, i,
                         (unsigned long long)counter);
        }
        send_frame(c, 0x1, frame, (size_t)n);
        B.sent++;
        return;
    }
}

static double percentile_ms(double q) {
    if (B.hist_count == 0) return 0;
    uint64_t want = (uint64_t)((double)B.hist_count * q);
    if (want >= B.hist_count) want = B.hist_count - 1;
    uint64_t seen = 0;
    for (int b = 0; b < LATENCY_BUCKETS; b++) {
        seen += B.hist[b];
        if (seen > want) return (double)(b + 1) * LATENCY_BUCKET_US / 1000.0; /* the bucket's upper edge */
    }
    return (double)LATENCY_BUCKETS * LATENCY_BUCKET_US / 1000.0;
}

static int run(int argc, char **argv) {
    if (argc < 8 || argc > 9) {
        fprintf(stderr, "usage: bench_messenger run PORT USERS_FILE MODE CONNECTIONS SECONDS RATE [GROUP_SHARE]\n");
        return 2;
    }
    int64_t port, connections, seconds, rate;
    if (sb_parse_int64(argv[2], &port) != SB_OK || port < 1 || port > 65535) die("PORT", SB_EINVAL);
    if (sb_parse_int64(argv[5], &connections) != SB_OK || connections < 1 || connections > USERS_MAX)
        die("CONNECTIONS", SB_EINVAL);
    if (sb_parse_int64(argv[6], &seconds) != SB_OK || seconds < 1 || seconds > 3600) die("SECONDS", SB_EINVAL);
    if (sb_parse_int64(argv[7], &rate) != SB_OK || rate < 1 || rate > 10000000) die("RATE", SB_EINVAL);
    double group_share = argc == 9 ? strtod(argv[8], NULL) : 0.9;
    if (!(group_share >= 0 && group_share <= 1)) die("GROUP_SHARE", SB_EINVAL);
    B.port = (int)port;
    B.echo = strcmp(argv[4], "echo") == 0;
    if (!B.echo && strcmp(argv[4], "messenger") != 0) die("MODE (messenger or echo)", SB_EINVAL);
    B.rng = 0x9E3779B97F4A7C15ull ^ (uint64_t)sb_mono_ns();
    B.hist = sb_calloc(LATENCY_BUCKETS, sizeof *B.hist);
    B.conns = sb_calloc((size_t)connections, sizeof *B.conns);
    if (!B.hist || !B.conns) die("memory", SB_ENOMEM);
    FILE *in = fopen(argv[3], "r");
    if (!in) die(argv[3], 0);
    char line[256];
    while (B.nconns < (size_t)connections && fgets(line, sizeof line, in)) {
        conn *c = &B.conns[B.nconns];
        long long uid, g, d;
        char token[IDENTITY_TOKEN_CHARS + 1];
        if (sscanf(line, "%lld %64s %lld %lld", &uid, token, &g, &d) != 4) die("USERS_FILE line", SB_EINVAL);
        c->user_id = uid;
        c->group_chat = g;
        c->direct_chat = d;
        memcpy(c->token, token, sizeof token);
        B.nconns++;
    }
    fclose(in);
    if (B.nconns < (size_t)connections) die("USERS_FILE has fewer users than CONNECTIONS", SB_EINVAL);
    B.ep = epoll_create1(0);
    if (B.ep < 0) die("epoll", 0);

    /* Open every connection, a bounded number of handshakes at a time. */
    int64_t t0 = sb_mono_ns();
    size_t next = 0;
    while (B.opened + B.failed < B.nconns) {
        while (next < B.nconns && B.connecting < CONNECTING_AT_ONCE)
            conn_start(&B.conns[next++]);
        poll_once(10);
        if (sb_mono_ns() - t0 > (int64_t)CONNECT_TIMEOUT_S * 1000000000) die("connect timeout", SB_ETIMEOUT);
    }
    double connect_s = (double)(sb_mono_ns() - t0) / 1e9;
    fprintf(stderr, "%s: %zu connections open (%zu failed) in %.1f s\n", argv[4], B.opened, B.failed, connect_s);
    if (B.opened == 0) die("no connection opened", SB_EIO);

    /* Send at the rate for SECONDS; count deliveries in the window. */
    B.window_start_ns = sb_mono_ns();
    B.window_end_ns = B.window_start_ns + seconds * 1000000000;
    uint64_t counter = 0;
    for (;;) {
        int64_t now = sb_mono_ns();
        if (now >= B.window_end_ns) break;
        uint64_t due = (uint64_t)((double)(now - B.window_start_ns) / 1e9 * (double)rate);
        /* A bounded burst per turn so that reading is never starved; a
         * saturated client falls behind and says so (sent_per_s < RATE). */
        for (int burst = 0; counter < due && burst < SENDS_PER_TURN_MAX; burst++)
            send_one(now, ++counter, group_share);
        poll_once(1);
    }
    /* Drain: what the server still owes arrives late (so that the next run
     * starts on an idle server); stop once quiet. */
    int64_t drain_end = sb_mono_ns() + (int64_t)DRAIN_MAX_S * 1000000000, quiet_since = sb_mono_ns();
    uint64_t seen = B.delivered + B.acked + B.own;
    while (sb_mono_ns() < drain_end && sb_mono_ns() - quiet_since < (int64_t)DRAIN_QUIET_MS * 1000000) {
        poll_once(10);
        if (B.delivered + B.acked + B.own != seen) {
            seen = B.delivered + B.acked + B.own;
            quiet_since = sb_mono_ns();
        }
    }
    double window_s = (double)(B.window_end_ns - B.window_start_ns) / 1e9;
    double delivered_per_s = (double)B.delivered_in_window / window_s;
    double p50 = percentile_ms(0.50), p99 = percentile_ms(0.99);
    size_t alive = 0;
    for (size_t i = 0; i < B.nconns; i++)
        if (B.conns[i].state == C_OPEN) alive++;
    fprintf(stderr,
            "%s: %.0f s at %lld frames/s: sent %llu, acked %llu, errors %llu, delivered %llu (%llu in the window, "
            "%llu after it), own copies %llu, p50 %.1f ms, p99 %.1f ms, max %.1f ms, %zu connections still open\n",
            argv[4], window_s, (long long)rate, (unsigned long long)B.sent, (unsigned long long)B.acked,
            (unsigned long long)B.errors, (unsigned long long)B.delivered, (unsigned long long)B.delivered_in_window,
            (unsigned long long)B.late, (unsigned long long)B.own, p50, p99, B.latency_max_ms, alive);
    printf("result: mode=%s delivered_per_s=%.0f p50_ms=%.1f p99_ms=%.1f max_ms=%.1f sent=%llu sent_per_s=%.0f "
           "acked=%llu errors=%llu delivered=%llu late=%llu connections=%zu open_at_end=%zu connect_s=%.1f\n",
           argv[4], delivered_per_s, p50, p99, B.latency_max_ms, (unsigned long long)B.sent, (double)B.sent / window_s,
           (unsigned long long)B.acked, (unsigned long long)B.errors, (unsigned long long)B.delivered,
           (unsigned long long)B.late, B.opened, alive, connect_s);
    for (size_t i = 0; i < B.nconns; i++) {
        conn_close(&B.conns[i]);
        sb_free(B.conns[i].in);
        sb_free(B.conns[i].out);
    }
    sb_free(B.conns);
    sb_free(B.hist);
    close(B.ep);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "setup") == 0) return setup(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "run") == 0) return run(argc, argv);
    fprintf(stderr, "usage: bench_messenger setup DIR USERS GROUP_SIZE OUT\n"
                    "       bench_messenger run PORT USERS_FILE MODE CONNECTIONS SECONDS RATE [GROUP_SHARE]\n");
    return 2;
}
