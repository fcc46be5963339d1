/*
 * listening_alerts.c - where listening alerts go once raised: the open
 * WebSockets of analyst and admin staff, and a webhook.
 *
 * listening_tick (serve's maintenance thread) commits an alert, then calls
 * the sink (api_listening_alert_sink), which only copies the alert into a
 * fixed ring of SB_LISTENING_ALERT_QUEUE_MAX entries (no allocation, never
 * blocking; a full ring drops the new alert with a log line - its row stays
 * in the store and GET /api/listening/alerts lists it).  A thread of its own
 * takes each alert, renders {"type":"listening.alert","alert":{...}} once,
 * pushes it with api_ws_send_to_user to every analyst and admin (looked up
 * with identity_user_list on the thread's own store connection; staff
 * without an open WebSocket are skipped), then, with a URL, POSTs the same
 * JSON to it: HTTP/1.1 over a plain socket, Connection: close, a timeout on
 * connect, write and read (SB_LISTENING_WEBHOOK_STEP_TIMEOUT_MS), up to
 * SB_LISTENING_WEBHOOK_ATTEMPTS_MAX attempts with doubling backoff on a
 * network error or a 5xx/408/429 answer; 2xx is success, anything else
 * final (the OTP webhook sender's pattern in src/identity).  Give the host as
 * an IP address (a name is resolved by getaddrinfo with its own timeouts);
 * https needs a local TLS relay.  Stop delivers what is queued for at most
 * SB_LISTENING_ALERT_STOP_WAIT_MS, then drops the rest (logged) and joins.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/api_int.h"

typedef struct {
    char host[256];
    char port[6];
    char authority[300];
    char path[SB_LISTENING_WEBHOOK_URL_BYTES_MAX];
} alert_url;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool running;
    bool stopping;
    int64_t stop_deadline_ns;
    pthread_t thread;
    bool has_url;
    alert_url url;
    store *s;
    listening_alert queue[SB_LISTENING_ALERT_QUEUE_MAX];
    size_t head, count;
} alerts = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

/* ---- URL: http://HOST[:PORT][/PATH] ---- */

static int url_parse(const char *text, alert_url *out) {
    memset(out, 0, sizeof *out);
    size_t len = strnlen(text, SB_LISTENING_WEBHOOK_URL_BYTES_MAX + 1);
    if (len >= SB_LISTENING_WEBHOOK_URL_BYTES_MAX) return SB_EINVAL;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)text[i] <= 0x20 || (unsigned char)text[i] >= 0x7F) return SB_EINVAL;
    if (strncasecmp(text, "http://", 7) != 0) return SB_EINVAL;
    const char *authority = text + 7;
    const char *slash = strchr(authority, '/');
    size_t authority_len = slash ? (size_t)(slash - authority) : strlen(authority);
    if (authority_len == 0 || authority_len >= sizeof out->authority || memchr(authority, '@', authority_len) ||
        memchr(authority, '?', authority_len) || memchr(authority, '#', authority_len))
        return SB_EINVAL;
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
    if (port && (strlen(port) > 5 || port[0] == '-' || sb_parse_int64(port, &number) != SB_OK || number < 1 ||
                 number > 65535))
        return SB_EINVAL;
    snprintf(out->port, sizeof out->port, "%d", (int)number);
    const char *path = slash ? slash : "/";
    snprintf(out->path, sizeof out->path, "%s", path);
    char *fragment = strchr(out->path, '#');
    if (fragment) *fragment = '\0';
    return SB_OK;
}

/* ---- time ---- */

static int step_timeout_ms(void) {
    int64_t timeout_ms = SB_LISTENING_WEBHOOK_STEP_TIMEOUT_MS;
    pthread_mutex_lock(&alerts.lock);
    if (alerts.stopping) {
        int64_t left_ms = (alerts.stop_deadline_ns - sb_mono_ns()) / 1000000;
        if (left_ms < timeout_ms) timeout_ms = left_ms;
    }
    pthread_mutex_unlock(&alerts.lock);
    return timeout_ms < 0 ? 0 : (int)timeout_ms;
}

static bool past_stop_deadline(void) {
    pthread_mutex_lock(&alerts.lock);
    bool past = alerts.stopping && sb_mono_ns() >= alerts.stop_deadline_ns;
    pthread_mutex_unlock(&alerts.lock);
    return past;
}

/* Sleep ms on the monotonic clock, cut short by the stop deadline. */
static void backoff_sleep(int64_t ms) {
    int64_t until_ns = sb_mono_ns() + ms * 1000000;
    while (sb_mono_ns() < until_ns && !past_stop_deadline()) {
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
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

static int connect_any(const alert_url *url, int *fd_out) {
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

/* Read until the status line is complete and parse "HTTP/1.x NNN". */
static int read_status(int fd, int *status_out) {
    char buf[512];
    size_t len = 0;
    while (!(len > 0 && memchr(buf, '\n', len))) {
        if (len == sizeof buf) return SB_EIO;
        int result = wait_fd(fd, POLLIN, step_timeout_ms());
        if (result != SB_OK) return result;
        ssize_t n = recv(fd, buf + len, sizeof buf - len, 0);
        if (n > 0) {
            len += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
        return SB_EIO;
    }
    if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ') return SB_EIO;
    int status = 0;
    for (int i = 9; i < 12; i++) {
        if (buf[i] < '0' || buf[i] > '9') return SB_EIO;
        status = status * 10 + (buf[i] - '0');
    }
    if (status < 100) return SB_EIO;
    *status_out = status;
    return SB_OK;
}

/* One attempt: SB_OK on 2xx, SB_EBUSY worth retrying, SB_EINVAL final. */
static int webhook_post_once(const char *body, size_t body_len, int *status_out) {
    char head[SB_LISTENING_WEBHOOK_URL_BYTES_MAX + 512];
    int head_len = snprintf(head, sizeof head,
                            "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: socialbank/" SB_VERSION "\r\n"
                            "Content-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                            alerts.url.path, alerts.url.authority, body_len);
    if (head_len < 0 || (size_t)head_len >= sizeof head) return SB_EINVAL;
    int fd = -1;
    int result = connect_any(&alerts.url, &fd);
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

static void deliver_webhook(int64_t alert_id, const char *body, size_t body_len) {
    char fields[128];
    int64_t backoff_ms = SB_LISTENING_WEBHOOK_BACKOFF_MS;
    int result = SB_EIO;
    for (int attempt = 1; attempt <= SB_LISTENING_WEBHOOK_ATTEMPTS_MAX && !past_stop_deadline(); attempt++) {
        int status = 0;
        result = webhook_post_once(body, body_len, &status);
        snprintf(fields, sizeof fields, "{\"alert_id\":%lld,\"attempt\":%d,\"status\":%d}", (long long)alert_id,
                 attempt, status);
        if (result == SB_OK) {
            sb_log_fields(SB_LOG_INFO, "listening.alert_webhook", fields, "alert delivered to the webhook");
            return;
        }
        if (result == SB_EINVAL) break;
        sb_log_fields(SB_LOG_WARN, "listening.alert_webhook_retry", fields, "webhook attempt failed: %s",
                      sb_strerror(result));
        if (attempt < SB_LISTENING_WEBHOOK_ATTEMPTS_MAX) {
            backoff_sleep(backoff_ms);
            backoff_ms *= 2;
        }
    }
    snprintf(fields, sizeof fields, "{\"alert_id\":%lld}", (long long)alert_id);
    sb_log_fields(SB_LOG_ERROR, "listening.alert_webhook_failed", fields, "alert not delivered to the webhook: %s",
                  sb_strerror(result));
}

/* ---- WebSocket ---- */

/* Push to every analyst and admin with an open WebSocket; the count pushed. */
static size_t deliver_staff(const char *text, size_t len) {
    identity_principal users[100];
    int64_t after = 0;
    size_t seen = 0, pushed = 0;
    while (alerts.s && seen < SB_LISTENING_ALERT_STAFF_MAX) {
        size_t n = 0;
        int result = identity_user_list(alerts.s, IDENTITY_ROLE_ANALYST | IDENTITY_ROLE_ADMIN, after, users,
                                        SB_ARRAY_LEN(users), &n);
        if (result != SB_OK) {
            sb_log(SB_LOG_ERROR, "listening.alert_push", "cannot list the staff: %s", sb_strerror(result));
            break;
        }
        for (size_t i = 0; i < n; i++)
            if (api_ws_send_to_user(users[i].user_id, text, len) == SB_OK) pushed++;
        seen += n;
        if (n < SB_ARRAY_LEN(users)) break;
        after = users[n - 1].user_id;
    }
    return pushed;
}

static void deliver(const listening_alert *a) {
    json_t *alert = listening_alert_to_json(a);
    json_t *message = alert ? json_pack("{s:s, s:o}", "type", "listening.alert", "alert", alert) : NULL;
    char *text = message ? json_dumps(message, JSON_COMPACT) : NULL;
    json_decref(message);
    if (!text) {
        sb_log(SB_LOG_ERROR, "listening.alert_push", "out of memory rendering alert %lld", (long long)a->id);
        return;
    }
    size_t len = strlen(text);
    size_t pushed = deliver_staff(text, len);
    char fields[96];
    snprintf(fields, sizeof fields, "{\"alert_id\":%lld,\"pushed\":%zu}", (long long)a->id, pushed);
    sb_log_fields(SB_LOG_INFO, "listening.alert_push", fields, "alert %s pushed to %zu staff connections", a->metric,
                  pushed);
    if (alerts.has_url) deliver_webhook(a->id, text, len);
    sb_free(text);
}

static void *alerts_main(void *arg) {
    (void)arg;
    pthread_mutex_lock(&alerts.lock);
    for (;;) {
        while (alerts.count == 0 && !alerts.stopping)
            pthread_cond_wait(&alerts.wake, &alerts.lock);
        if (alerts.count == 0) break;
        if (alerts.stopping && sb_mono_ns() >= alerts.stop_deadline_ns) {
            sb_log(SB_LOG_WARN, "listening.alert_drop", "stopping: %zu alerts not delivered", alerts.count);
            alerts.count = 0;
            break;
        }
        listening_alert a = alerts.queue[alerts.head];
        alerts.head = (alerts.head + 1) % SB_LISTENING_ALERT_QUEUE_MAX;
        alerts.count--;
        pthread_mutex_unlock(&alerts.lock);
        deliver(&a);
        pthread_mutex_lock(&alerts.lock);
    }
    pthread_mutex_unlock(&alerts.lock);
    return NULL;
}

int api_listening_alerts_start(const char *data_location, const char *webhook_url) {
    alert_url url;
    bool has_url = webhook_url && *webhook_url;
    if (has_url && url_parse(webhook_url, &url) != SB_OK) return SB_EINVAL;
    pthread_mutex_lock(&alerts.lock);
    bool running = alerts.running;
    pthread_mutex_unlock(&alerts.lock);
    if (running) return SB_EBUSY;
    store *s = NULL;
    int result = store_open(data_location, NULL, &s);
    if (result != SB_OK) return result;
    pthread_mutex_lock(&alerts.lock);
    alerts.s = s;
    alerts.has_url = has_url;
    if (has_url) alerts.url = url;
    alerts.head = alerts.count = 0;
    alerts.stopping = false;
    alerts.running = true;
    if (pthread_create(&alerts.thread, NULL, alerts_main, NULL) != 0) {
        alerts.running = false;
        alerts.s = NULL;
        pthread_mutex_unlock(&alerts.lock);
        store_close(s);
        return SB_EINTERNAL;
    }
    pthread_mutex_unlock(&alerts.lock);
    return SB_OK;
}

void api_listening_alerts_stop(void) {
    pthread_mutex_lock(&alerts.lock);
    if (!alerts.running) {
        pthread_mutex_unlock(&alerts.lock);
        return;
    }
    alerts.stopping = true;
    alerts.stop_deadline_ns = sb_mono_ns() + (int64_t)SB_LISTENING_ALERT_STOP_WAIT_MS * 1000000;
    pthread_cond_signal(&alerts.wake);
    pthread_mutex_unlock(&alerts.lock);
    pthread_join(alerts.thread, NULL);
    pthread_mutex_lock(&alerts.lock);
    alerts.running = false;
    store_close(alerts.s);
    alerts.s = NULL;
    pthread_mutex_unlock(&alerts.lock);
}

static int alerts_raise(void *arg, const listening_alert *a) {
    (void)arg;
    pthread_mutex_lock(&alerts.lock);
    int result = SB_OK;
    if (!alerts.running || alerts.stopping)
        result = SB_ECLOSED;
    else if (alerts.count == SB_LISTENING_ALERT_QUEUE_MAX)
        result = SB_EBUSY;
    else {
        alerts.queue[(alerts.head + alerts.count) % SB_LISTENING_ALERT_QUEUE_MAX] = *a;
        alerts.count++;
        pthread_cond_signal(&alerts.wake);
    }
    pthread_mutex_unlock(&alerts.lock);
    if (result == SB_EBUSY)
        sb_log(SB_LOG_WARN, "listening.alert_drop", "the alert queue is full: alert %lld is only in the store",
               (long long)a->id);
    return result;
}

listening_alert_sink api_listening_alert_sink(void) {
    listening_alert_sink sink = {.raise = alerts_raise, .arg = NULL};
    return sink;
}
