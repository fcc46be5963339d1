/*
 * identity_sender.c - delivers one-time codes on its own thread.
 *
 * Requests only enqueue (a fixed ring of SB_OTP_SENDER_QUEUE_MAX entries, no
 * allocation, never blocking), so a slow SMS gateway never stalls a request.
 * Two kinds:
 *   "log"      development: each code is logged at info as event "otp.code"
 *              with fields {"phone":...,"code":...}.
 *   "webhook"  production: POST {"phone":...,"code":...} as JSON to an
 *              http:// URL over a plain socket (HTTP/1.1, Connection: close),
 *              with a timeout on connect, write and read, and up to
 *              SB_OTP_WEBHOOK_ATTEMPTS_MAX attempts with doubling backoff on a
 *              network error or a 5xx/429 answer.  A 2xx answer is success;
 *              other answers are final.  Give the host as an IP address:
 *              a name is resolved with getaddrinfo, whose own timeouts
 *              apply.  There is no TLS here: to reach an
 *              https:// gateway, point the URL at a local relay (stunnel,
 *              nginx, haproxy on loopback) that adds it.
 * Codes are wiped from the queue once handled, and never logged by the
 * webhook kind.  Stop delivers what is queued for at most
 * SB_OTP_SENDER_STOP_WAIT_MS, then drops the rest (logged) and joins.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "identity/identity.h"
#include "identity/identity_int.h"

typedef enum { SENDER_LOG = 1, SENDER_WEBHOOK = 2 } sender_kind;

typedef struct {
    char phone[SB_PHONE_BYTES];
    char code[SB_OTP_DIGITS + 1];
} sender_entry;

typedef struct {
    char host[256];      /* without brackets for IPv6 literals */
    char port[6];        /* decimal */
    char authority[300]; /* Host header: as written in the URL */
    char path[SB_OTP_WEBHOOK_URL_BYTES_MAX];
} sender_url;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool running;
    bool stopping;
    int64_t stop_deadline_ns;
    pthread_t thread;
    sender_kind kind;
    sender_url url;
    sender_entry queue[SB_OTP_SENDER_QUEUE_MAX];
    size_t head, count;
} sender = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

/* ---- URL ---- */

static int url_parse(const char *text, sender_url *out) {
    if (!text) return SB_EINVAL;
    size_t len = strnlen(text, SB_OTP_WEBHOOK_URL_BYTES_MAX + 1);
    if (len > SB_OTP_WEBHOOK_URL_BYTES_MAX - 1) return SB_EINVAL;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)text[i] <= 0x20 || (unsigned char)text[i] >= 0x7F) return SB_EINVAL;
    if (strncasecmp(text, "http://", 7) != 0) return SB_EINVAL;
    const char *authority = text + 7;
    const char *slash = strchr(authority, '/');
    size_t authority_len = slash ? (size_t)(slash - authority) : strlen(authority);
    if (authority_len == 0 || authority_len >= sizeof out->authority) return SB_EINVAL;
    if (memchr(authority, '@', authority_len) || memchr(authority, '?', authority_len) ||
        memchr(authority, '#', authority_len))
        return SB_EINVAL; /* no credentials in the URL; no query without a path */
    memcpy(out->authority, authority, authority_len);
    out->authority[authority_len] = '\0';

    const char *host = out->authority, *port = NULL;
    size_t host_len;
    if (host[0] == '[') {
        const char *close = strchr(host, ']');
        if (!close) return SB_EINVAL;
        host_len = (size_t)(close - host - 1);
        host++;
        if (close[1] == ':')
            port = close + 2;
        else if (close[1] != '\0')
            return SB_EINVAL;
    } else {
        const char *colon = strchr(host, ':');
        host_len = colon ? (size_t)(colon - host) : strlen(host);
        if (colon) port = colon + 1;
    }
    if (host_len == 0 || host_len >= sizeof out->host) return SB_EINVAL;
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';
    if (port) {
        int64_t number;
        if (strlen(port) > 5 || sb_parse_int64(port, &number) != SB_OK || number < 1 || number > 65535 ||
            port[0] == '-')
            return SB_EINVAL;
        snprintf(out->port, sizeof out->port, "%d", (int)number);
    } else {
        snprintf(out->port, sizeof out->port, "80");
    }
    const char *path = slash ? slash : "/";
    size_t path_len = strlen(path);
    if (path_len >= sizeof out->path) return SB_EINVAL;
    memcpy(out->path, path, path_len + 1);
    char *fragment = strchr(out->path, '#');
    if (fragment) *fragment = '\0';
    return SB_OK;
}

/* ---- time ---- */

/* The time left for one step: the step timeout, cut short by a stop deadline. */
static int step_timeout_ms(void) {
    int64_t timeout_ms = SB_OTP_WEBHOOK_TIMEOUT_MS;
    pthread_mutex_lock(&sender.lock);
    if (sender.stopping) {
        int64_t left_ms = (sender.stop_deadline_ns - sb_mono_ns()) / 1000000;
        if (left_ms < timeout_ms) timeout_ms = left_ms;
    }
    pthread_mutex_unlock(&sender.lock);
    return timeout_ms < 0 ? 0 : (int)timeout_ms;
}

static bool past_stop_deadline(void) {
    pthread_mutex_lock(&sender.lock);
    bool past = sender.stopping && sb_mono_ns() >= sender.stop_deadline_ns;
    pthread_mutex_unlock(&sender.lock);
    return past;
}

/* Sleep for ms, or less if stop is asked for and its deadline comes first. */
static void backoff_sleep(int64_t ms) {
    pthread_mutex_lock(&sender.lock);
    int64_t until_ns = sb_mono_ns() + ms * 1000000;
    while (sb_mono_ns() < until_ns) {
        int64_t end_ns = until_ns;
        if (sender.stopping && sender.stop_deadline_ns < end_ns) end_ns = sender.stop_deadline_ns;
        if (sb_mono_ns() >= end_ns) break;
        /* The condition variable uses CLOCK_REALTIME; wait in short slices
         * against the monotonic clock so a clock jump cannot stretch it. */
        int64_t slice_ns = end_ns - sb_mono_ns();
        if (slice_ns > 50 * 1000000LL) slice_ns = 50 * 1000000LL;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + slice_ns;
        ts.tv_sec += ns / 1000000000LL;
        ts.tv_nsec = ns % 1000000000LL;
        pthread_cond_timedwait(&sender.wake, &sender.lock, &ts);
    }
    pthread_mutex_unlock(&sender.lock);
}

/* ---- HTTP ---- */

static int wait_fd(int fd, short events, int timeout_ms) {
    struct pollfd p = {.fd = fd, .events = events};
    for (;;) {
        int n = poll(&p, 1, timeout_ms);
        if (n > 0) return SB_OK;
        if (n == 0) return SB_ETIMEOUT;
        if (errno != EINTR) return SB_EIO;
    }
}

static int connect_any(const sender_url *url, int *fd_out) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *list = NULL;
    if (getaddrinfo(url->host, url->port, &hints, &list) != 0 || !list) return SB_EIO;
    int result = SB_EIO;
    for (struct addrinfo *a = list; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        int rc = connect(fd, a->ai_addr, a->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            result = wait_fd(fd, POLLOUT, step_timeout_ms());
            int error = 0;
            socklen_t error_len = sizeof error;
            if (result == SB_OK && (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &error_len) != 0 || error != 0))
                result = SB_EIO;
            rc = result == SB_OK ? 0 : -1;
        } else if (rc != 0) {
            result = SB_EIO;
        }
        if (rc == 0) {
            *fd_out = fd;
            result = SB_OK;
            break;
        }
        close(fd);
    }
    freeaddrinfo(list);
    return result;
}

static int send_all(int fd, const char *data, size_t len) {
    size_t done = 0;
    while (done < len) {
        ssize_t n = send(fd, data + done, len - done, MSG_NOSIGNAL);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int result = wait_fd(fd, POLLOUT, step_timeout_ms());
            if (result != SB_OK) return result;
            continue;
        }
        return SB_EIO;
    }
    return SB_OK;
}

int identity__http_status_parse(const char *buf, size_t len, int *status_out) {
    /* "HTTP/1.1 204 No Content": version, one space, three digits, then a space or the line end. */
    if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[7] < '0' || buf[7] > '9' || buf[8] != ' ') return SB_EIO;
    int status = 0;
    for (int i = 9; i < 12; i++) {
        if (buf[i] < '0' || buf[i] > '9') return SB_EIO;
        status = status * 10 + (buf[i] - '0');
    }
    if (len > 12 && buf[12] != ' ' && buf[12] != '\r' && buf[12] != '\n') return SB_EIO;
    if (status < 100) return SB_EIO;
    *status_out = status;
    return SB_OK;
}

int identity__webhook_url_check(const char *url) {
    sender_url parsed;
    return url_parse(url, &parsed);
}

/* Read until the status line is complete; parse its code. */
static int read_status(int fd, int *status_out) {
    char buf[SB_OTP_WEBHOOK_RESPONSE_BYTES_MAX + 1];
    size_t len = 0;
    for (;;) {
        if (len > 0 && memchr(buf, '\n', len)) break;
        if (len == sizeof buf - 1) return SB_EIO; /* no status line in the first bytes */
        int result = wait_fd(fd, POLLIN, step_timeout_ms());
        if (result != SB_OK) return result;
        ssize_t n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (n > 0) {
            len += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
        return SB_EIO; /* closed or failed before a whole status line */
    }
    return identity__http_status_parse(buf, len, status_out);
}

/* One attempt.  SB_OK on 2xx; SB_EBUSY for an answer worth retrying (5xx,
 * 429); SB_EINVAL for a final refusal; SB_EIO/SB_ETIMEOUT for the network. */
static int webhook_post_once(const sender_url *url, const char *body, size_t body_len, int *status_out) {
    char head[SB_OTP_WEBHOOK_URL_BYTES_MAX + 512];
    int head_len = snprintf(head, sizeof head,
                            "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: socialbank/" SB_VERSION "\r\n"
                            "Content-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                            url->path, url->authority, body_len);
    if (head_len < 0 || (size_t)head_len >= sizeof head) return SB_EINVAL;
    int fd = -1;
    int result = connect_any(url, &fd);
    if (result != SB_OK) return result;
    result = send_all(fd, head, (size_t)head_len);
    if (result == SB_OK) result = send_all(fd, body, body_len);
    int status = 0;
    if (result == SB_OK) result = read_status(fd, &status);
    close(fd);
    *status_out = status;
    if (result != SB_OK) return result;
    if (status >= 200 && status <= 299) return SB_OK;
    if (status >= 500 || status == 429 || status == 408) return SB_EBUSY;
    return SB_EINVAL;
}

static void deliver_webhook(const sender_entry *e) {
    char body[96];
    int body_len = snprintf(body, sizeof body, "{\"phone\":\"%s\",\"code\":\"%s\"}", e->phone, e->code);
    SB_ASSERT(body_len > 0 && (size_t)body_len < sizeof body);
    char fields[128];
    int64_t backoff_ms = SB_OTP_WEBHOOK_BACKOFF_MS;
    int result = SB_EIO, status = 0;
    for (int attempt = 1; attempt <= SB_OTP_WEBHOOK_ATTEMPTS_MAX; attempt++) {
        if (past_stop_deadline()) break;
        status = 0;
        result = webhook_post_once(&sender.url, body, (size_t)body_len, &status);
        snprintf(fields, sizeof fields, "{\"phone\":\"%s\",\"attempt\":%d,\"status\":%d}", e->phone, attempt, status);
        if (result == SB_OK) {
            sb_log_fields(SB_LOG_INFO, "otp.sent", fields, "one-time code delivered to the webhook");
            break;
        }
        if (result == SB_EINVAL) {
            sb_log_fields(SB_LOG_ERROR, "otp.send_failed", fields, "the webhook refused the code; not retrying");
            break;
        }
        sb_log_fields(SB_LOG_WARN, "otp.send_retry", fields, "webhook attempt failed: %s", sb_strerror(result));
        if (attempt < SB_OTP_WEBHOOK_ATTEMPTS_MAX) {
            backoff_sleep(backoff_ms);
            backoff_ms *= 2;
        }
    }
    if (result == SB_EBUSY || result == SB_EIO || result == SB_ETIMEOUT) {
        snprintf(fields, sizeof fields, "{\"phone\":\"%s\"}", e->phone);
        sb_log_fields(SB_LOG_ERROR, "otp.send_failed", fields, "one-time code not delivered: %s", sb_strerror(result));
    }
    sodium_memzero(body, sizeof body);
}

static void deliver(const sender_entry *e) {
    if (sender.kind == SENDER_LOG) {
        char fields[96];
        snprintf(fields, sizeof fields, "{\"phone\":\"%s\",\"code\":\"%s\"}", e->phone, e->code);
        sb_log_fields(SB_LOG_INFO, "otp.code", fields, "one-time code (log sender, development only)");
        sodium_memzero(fields, sizeof fields);
    } else {
        deliver_webhook(e);
    }
}

static void *sender_main(void *arg) {
    (void)arg;
    pthread_mutex_lock(&sender.lock);
    for (;;) {
        while (sender.count == 0 && !sender.stopping)
            pthread_cond_wait(&sender.wake, &sender.lock);
        if (sender.count == 0) break;
        if (sender.stopping && sb_mono_ns() >= sender.stop_deadline_ns) {
            sb_log(SB_LOG_ERROR, "otp.send_dropped", "sender stopped with %zu code(s) undelivered", sender.count);
            sodium_memzero(sender.queue, sizeof sender.queue);
            sender.count = 0;
            break;
        }
        sender_entry e = sender.queue[sender.head];
        sodium_memzero(&sender.queue[sender.head], sizeof e);
        sender.head = (sender.head + 1) % SB_OTP_SENDER_QUEUE_MAX;
        sender.count--;
        pthread_mutex_unlock(&sender.lock);
        deliver(&e);
        sodium_memzero(&e, sizeof e);
        pthread_mutex_lock(&sender.lock);
    }
    pthread_mutex_unlock(&sender.lock);
    return NULL;
}

int identity_sender_start(const char *kind, const char *webhook_url) {
    if (!kind) return SB_EINVAL;
    sender_kind k;
    sender_url url = {0};
    if (strcmp(kind, "log") == 0) {
        k = SENDER_LOG;
    } else if (strcmp(kind, "webhook") == 0) {
        k = SENDER_WEBHOOK;
        if (!webhook_url || url_parse(webhook_url, &url) != SB_OK) {
            sb_log(SB_LOG_ERROR, "otp.sender",
                   "the webhook URL must be http://HOST[:PORT]/PATH (for https, run a "
                   "local TLS relay and give its http:// address)");
            return SB_EINVAL;
        }
    } else {
        return SB_EINVAL;
    }
    pthread_mutex_lock(&sender.lock);
    if (sender.running) {
        pthread_mutex_unlock(&sender.lock);
        return SB_EBUSY;
    }
    sender.kind = k;
    sender.url = url;
    sender.stopping = false;
    sender.head = sender.count = 0;
    int rc = pthread_create(&sender.thread, NULL, sender_main, NULL);
    if (rc == 0) sender.running = true;
    pthread_mutex_unlock(&sender.lock);
    return rc == 0 ? SB_OK : SB_ENOMEM;
}

static bool text_is(const char *s, size_t min_len, size_t max_len, bool plus) {
    size_t len = strnlen(s, max_len + 1);
    if (len < min_len || len > max_len) return false;
    for (size_t i = 0; i < len; i++) {
        if (plus && i == 0) {
            if (s[0] != '+') return false;
            continue;
        }
        if (s[i] < '0' || s[i] > '9') return false;
    }
    return true;
}

int identity_sender_enqueue(const char *phone_e164, const char *code) {
    /* Both end up inside JSON and log lines: only "+digits" and digits pass. */
    if (!phone_e164 || !code || !text_is(phone_e164, 2, SB_PHONE_BYTES - 1, true) ||
        !text_is(code, SB_OTP_DIGITS, SB_OTP_DIGITS, false))
        return SB_EINVAL;
    pthread_mutex_lock(&sender.lock);
    int result = SB_OK;
    if (!sender.running || sender.stopping) {
        result = SB_ECLOSED;
    } else if (sender.count == SB_OTP_SENDER_QUEUE_MAX) {
        result = SB_EBUSY;
    } else {
        sender_entry *e = &sender.queue[(sender.head + sender.count) % SB_OTP_SENDER_QUEUE_MAX];
        memcpy(e->phone, phone_e164, strlen(phone_e164) + 1);
        memcpy(e->code, code, SB_OTP_DIGITS + 1);
        sender.count++;
        pthread_cond_signal(&sender.wake);
    }
    pthread_mutex_unlock(&sender.lock);
    return result;
}

void identity_sender_stop(void) {
    pthread_mutex_lock(&sender.lock);
    if (!sender.running || sender.stopping) {
        pthread_mutex_unlock(&sender.lock);
        return;
    }
    sender.stopping = true;
    sender.stop_deadline_ns = sb_mono_ns() + (int64_t)SB_OTP_SENDER_STOP_WAIT_MS * 1000000;
    pthread_cond_broadcast(&sender.wake);
    pthread_t thread = sender.thread;
    pthread_mutex_unlock(&sender.lock);
    pthread_join(thread, NULL);
    pthread_mutex_lock(&sender.lock);
    sender.running = false;
    sender.stopping = false;
    pthread_mutex_unlock(&sender.lock);
}
