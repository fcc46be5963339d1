/*
 * webhook.c - the one HTTP/1.1 client SocialBank needs: POST a JSON body to
 * an http:// URL and read the status line, with a timeout on every step
 * (connect, each write, each read) that the caller supplies per step (so a
 * sender shutting down can cut it short).  Used by the one-time-code sender
 * (identity) and the listening alert sender (api); each keeps its own queue,
 * retries and logging.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/core.h"

int sb_webhook_url_parse(const char *text, size_t max_bytes, sb_webhook_url *out) {
    memset(out, 0, sizeof *out);
    if (!text || max_bytes > SB_WEBHOOK_URL_BYTES_MAX) return SB_EINVAL;
    size_t len = strnlen(text, max_bytes + 1);
    if (len >= max_bytes) return SB_EINVAL;
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
    int64_t number = 80;
    if (port &&
        (strlen(port) > 5 || port[0] == '-' || sb_parse_int64(port, &number) != SB_OK || number < 1 || number > 65535))
        return SB_EINVAL;
    snprintf(out->port, sizeof out->port, "%d", (int)number);
    const char *path = slash ? slash : "/";
    size_t path_len = strlen(path);
    if (path_len >= sizeof out->path) return SB_EINVAL;
    memcpy(out->path, path, path_len + 1);
    char *fragment = strchr(out->path, '#');
    if (fragment) *fragment = '\0';
    return SB_OK;
}

int sb_http_status_parse(const char *buf, size_t len, int *status_out) {
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

typedef struct {
    int (*step_timeout_ms)(void *arg);
    void *arg;
} step_clock;

static int wait_fd(int fd, short events, const step_clock *clock) {
    struct pollfd p = {.fd = fd, .events = events};
    for (;;) {
        int n = poll(&p, 1, clock->step_timeout_ms(clock->arg));
        if (n > 0) return SB_OK;
        if (n == 0) return SB_ETIMEOUT;
        if (errno != EINTR) return SB_EIO;
    }
}

static int connect_any(const sb_webhook_url *url, const step_clock *clock, int *fd_out) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *list = NULL;
    if (getaddrinfo(url->host, url->port, &hints, &list) != 0 || !list) return SB_EIO;
    int result = SB_EIO;
    for (struct addrinfo *a = list; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        int rc = connect(fd, a->ai_addr, a->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            result = wait_fd(fd, POLLOUT, clock);
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

static int send_all(int fd, const char *data, size_t len, const step_clock *clock) {
    size_t done = 0;
    while (done < len) {
        ssize_t n = send(fd, data + done, len - done, MSG_NOSIGNAL);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int result = wait_fd(fd, POLLOUT, clock);
            if (result != SB_OK) return result;
            continue;
        }
        return SB_EIO;
    }
    return SB_OK;
}

/* Read until the status line is complete; parse its code. */
static int read_status(int fd, const step_clock *clock, int *status_out) {
    char buf[SB_WEBHOOK_RESPONSE_BYTES_MAX + 1];
    size_t len = 0;
    for (;;) {
        if (len > 0 && memchr(buf, '\n', len)) break;
        if (len == sizeof buf - 1) return SB_EIO; /* no status line in the first bytes */
        int result = wait_fd(fd, POLLIN, clock);
        if (result != SB_OK) return result;
        ssize_t n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (n > 0) {
            len += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
        return SB_EIO; /* closed or failed before a whole status line */
    }
    return sb_http_status_parse(buf, len, status_out);
}

int sb_webhook_post_once(const sb_webhook_url *url, const char *body, size_t body_len,
                         int (*step_timeout_ms)(void *arg), void *arg, int *status_out) {
    return sb_webhook_post_headers(url, NULL, body, body_len, step_timeout_ms, arg, status_out);
}

int sb_webhook_post_headers(const sb_webhook_url *url, const char *extra_headers, const char *body, size_t body_len,
                            int (*step_timeout_ms)(void *arg), void *arg, int *status_out) {
    step_clock clock = {step_timeout_ms, arg};
    *status_out = 0;
    if (!extra_headers) extra_headers = "";
    if (strlen(extra_headers) > SB_WEBHOOK_EXTRA_HEADER_BYTES_MAX) return SB_EINVAL;
    char head[SB_WEBHOOK_URL_BYTES_MAX + 512 + SB_WEBHOOK_EXTRA_HEADER_BYTES_MAX];
    int head_len = snprintf(head, sizeof head,
                            "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: socialbank/" SB_VERSION "\r\n"
                            "Content-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n",
                            url->path, url->authority, body_len, extra_headers);
    if (head_len < 0 || (size_t)head_len >= sizeof head) return SB_EINVAL;
    int fd = -1;
    int result = connect_any(url, &clock, &fd);
    if (result != SB_OK) return result;
    result = send_all(fd, head, (size_t)head_len, &clock);
    if (result == SB_OK) result = send_all(fd, body, body_len, &clock);
    int status = 0;
    if (result == SB_OK) result = read_status(fd, &clock, &status);
    close(fd);
    *status_out = status;
    if (result != SB_OK) return result;
    if (status >= 200 && status <= 299) return SB_OK;
    if (status >= 500 || status == 429 || status == 408) return SB_EBUSY;
    return SB_EINVAL;
}
