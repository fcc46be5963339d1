/*
 * http_client.c - the one outbound HTTP client (libcurl), and the webhook
 * delivery every background sender runs through its worker.
 *
 * One easy handle per call: outbound calls are rare (a code, an alert), so
 * connection reuse is not worth a shared handle across threads.  What is
 * set on every handle, and why:
 *   - protocols http and https only (also for redirects, which are not
 *     followed: a webhook that moves is a configuration error to see);
 *   - certificate and host name verification on (curl's default, set
 *     explicitly), TLS 1.2 at least, the caller's CA file when given;
 *   - CURLOPT_NOSIGNAL (many threads; timeouts without SIGALRM);
 *   - connect and total timeouts from the caller (cut to a stop deadline);
 *   - proxies: curl reads http_proxy/https_proxy/no_proxy itself;
 *   - the answer is counted, not kept: past the cap the exchange ends.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/core.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_status = -1;

/* curl_global_init is not thread-safe on every curl: once, before any use. */
static void curl_init_once(void) { curl_status = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1; }

int sb_http_url_check(const char *url, size_t max_bytes) {
    if (!url || max_bytes > SB_HTTP_URL_BYTES_MAX) return SB_EINVAL;
    size_t len = strnlen(url, max_bytes + 1);
    if (len == 0 || len >= max_bytes) return SB_EINVAL;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7F) return SB_EINVAL;
    /* curl is lenient ("http:///x" names host x): the authority must follow "//" */
    size_t after = strncasecmp(url, "http://", 7) == 0 ? 7 : strncasecmp(url, "https://", 8) == 0 ? 8 : 0;
    if (after == 0 || url[after] == '/' || url[after] == '\0') return SB_EINVAL;
    pthread_once(&curl_once, curl_init_once);
    if (curl_status != 0) return SB_EINTERNAL;
    CURLU *u = curl_url();
    if (!u) return SB_ENOMEM;
    int result = SB_EINVAL;
    char *scheme = NULL, *host = NULL, *user = NULL, *password = NULL, *port = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host[0] &&
        (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) &&
        curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_NO_USER &&
        curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_NO_PASSWORD) {
        CURLUcode pc = curl_url_get(u, CURLUPART_PORT, &port, 0);
        if (pc == CURLUE_NO_PORT) {
            result = SB_OK;
        } else if (pc == CURLUE_OK) {
            char *end = NULL;
            long n = strtol(port, &end, 10);
            if (end && *end == '\0' && n >= 1 && n <= 65535) result = SB_OK;
        }
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(user);
    curl_free(password);
    curl_free(port);
    curl_url_cleanup(u);
    return result;
}

int sb_http_header_check(const char *line) {
    if (!line) return SB_EINVAL;
    size_t len = strnlen(line, SB_HTTP_OUT_HEADER_BYTES_MAX);
    if (len >= SB_HTTP_OUT_HEADER_BYTES_MAX) return SB_EINVAL;
    /* the name: an RFC 9110 token */
    size_t i = 0;
    while (i < len && line[i] != ':') {
        unsigned char ch = (unsigned char)line[i];
        if (ch <= 0x20 || ch >= 0x7F || strchr("\"(),/;<=>?@[\\]{}", ch)) return SB_EINVAL;
        i++;
    }
    if (i == 0 || i == len) return SB_EINVAL;
    /* the value: visible ASCII, spaces and tabs; never CR or LF */
    for (i++; i < len; i++) {
        unsigned char ch = (unsigned char)line[i];
        if ((ch < 0x20 && ch != '\t') || ch >= 0x7F) return SB_EINVAL;
    }
    return SB_OK;
}

typedef struct {
    size_t seen, max;
} answer_count;

/* Count the answer; returning less than given ends the exchange. */
static size_t on_answer(char *data, size_t size, size_t nmemb, void *arg) {
    (void)data;
    answer_count *a = arg;
    size_t n = size * nmemb;
    if (n > a->max - a->seen) return 0;
    a->seen += n;
    return n;
}

static int status_result(long status) {
    if (status >= 200 && status <= 299) return SB_OK;
    if (status >= 500 || status == 408 || status == 429) return SB_EBUSY;
    return SB_EINVAL;
}

int sb_http_post_json(const sb_http_options *o, const char *url, const char *body, size_t len, int *status_out) {
    if (status_out) *status_out = 0;
    if (!o || o->connect_timeout_ms <= 0 || o->total_timeout_ms <= 0 || (!body && len > 0)) return SB_EINVAL;
    if (sb_http_url_check(url, SB_HTTP_URL_BYTES_MAX) != SB_OK) return SB_EINVAL;
    if (o->header_count > SB_HTTP_OUT_HEADERS_MAX || (o->header_count > 0 && !o->headers)) return SB_EINVAL;
    for (size_t i = 0; i < o->header_count; i++)
        if (sb_http_header_check(o->headers[i]) != SB_OK) return SB_EINVAL;
    CURL *h = curl_easy_init();
    if (!h) return SB_ENOMEM;
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    struct curl_slist *more = headers ? curl_slist_append(headers, "Expect:") : NULL;
    if (!more) {
        curl_slist_free_all(headers);
        curl_easy_cleanup(h);
        return SB_ENOMEM;
    }
    headers = more;
    for (size_t i = 0; i < o->header_count; i++) {
        more = curl_slist_append(headers, o->headers[i]);
        if (!more) {
            curl_slist_free_all(headers);
            curl_easy_cleanup(h);
            return SB_ENOMEM;
        }
        headers = more;
    }
    answer_count answer = {0, o->response_bytes_max ? o->response_bytes_max : SB_HTTP_RESPONSE_BYTES_MAX};
    char error[CURL_ERROR_SIZE] = "";
    CURLcode set = CURLE_OK;
#define SB_SET(option, value)                                                                                          \
    if (set == CURLE_OK) set = curl_easy_setopt(h, option, value)
    SB_SET(CURLOPT_URL, url);
    SB_SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SB_SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SB_SET(CURLOPT_FOLLOWLOCATION, 0L);
    SB_SET(CURLOPT_NOSIGNAL, 1L);
    SB_SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SB_SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SB_SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (o->ca_file && *o->ca_file) SB_SET(CURLOPT_CAINFO, o->ca_file);
    SB_SET(CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_timeout_ms);
    SB_SET(CURLOPT_TIMEOUT_MS, (long)o->total_timeout_ms);
    SB_SET(CURLOPT_POST, 1L);
    SB_SET(CURLOPT_POSTFIELDS, body ? body : "");
    SB_SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    SB_SET(CURLOPT_HTTPHEADER, headers);
    SB_SET(CURLOPT_USERAGENT, "socialbank/" SB_VERSION);
    SB_SET(CURLOPT_WRITEFUNCTION, on_answer);
    SB_SET(CURLOPT_WRITEDATA, &answer);
    SB_SET(CURLOPT_ERRORBUFFER, error);
#undef SB_SET
    int result;
    if (set != CURLE_OK) {
        result = SB_EINTERNAL;
        sb_log(SB_LOG_ERROR, "http_client.setup", "cannot set up the request: %s", curl_easy_strerror(set));
    } else {
        CURLcode done = curl_easy_perform(h);
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (status_out) *status_out = (int)status;
        switch (done) {
        case CURLE_OK:
            result = status_result(status);
            break;
        case CURLE_WRITE_ERROR: /* our cap: the status line came first */
            result = status >= 200 && status <= 299 ? SB_OK : SB_ELIMIT;
            break;
        case CURLE_OPERATION_TIMEDOUT:
            result = SB_ETIMEOUT;
            break;
        case CURLE_OUT_OF_MEMORY:
            result = SB_ENOMEM;
            break;
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
            result = SB_EINVAL;
            break;
        default:
            result = SB_EIO;
            break;
        }
        if (result == SB_EIO || result == SB_ETIMEOUT)
            sb_log(SB_LOG_WARN, "http_client.error", "%s", error[0] ? error : curl_easy_strerror(done));
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    return result;
}

sb_worker_outcome sb_webhook_deliver(sb_worker *w, const sb_http_options *options, const char *url, const char *body,
                                     size_t len, int *result_out, int *status_out) {
    sb_http_options o = *options;
    o.total_timeout_ms = w ? sb_worker_time_left_ms(w, o.total_timeout_ms) : o.total_timeout_ms;
    if (o.connect_timeout_ms > o.total_timeout_ms) o.connect_timeout_ms = o.total_timeout_ms;
    int status = 0, result = SB_ETIMEOUT;
    if (o.total_timeout_ms > 0) result = sb_http_post_json(&o, url, body, len, &status);
    if (result_out) *result_out = result;
    if (status_out) *status_out = status;
    if (result == SB_OK) return SB_WORKER_DONE;
    if (result == SB_EINVAL || result == SB_ELIMIT || o.total_timeout_ms <= 0) return SB_WORKER_FAILED;
    /* the stop deadline, not the peer, ended this one: no retry */
    if (result == SB_ETIMEOUT && o.total_timeout_ms < options->total_timeout_ms) return SB_WORKER_FAILED;
    return SB_WORKER_RETRY;
}
