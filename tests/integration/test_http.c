/*
 * test_http.c - the HTTP surface of `socialbank serve` against the contract
 * (docs/API.md): /healthz, /metrics, static files,
 * the error shapes (404, 405 with Allow, 400 invalid_json naming line and
 * column, 415, 413, 431, 414, 408), hostile bytes, and graceful shutdown.
 *
 * One server serves the whole group (started in the group setup); every
 * hostile test ends by checking that it still answers /healthz, and the
 * group teardown stops it with SIGTERM and requires exit status 0 (under
 * ASan that also means no leaks).  The shutdown test runs its own server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "integration/harness.h"

/* How long the server may take to give up on an incomplete request: its own
 * limit plus slack for a loaded CI machine (this is a bound, not a speed claim). */
#define SLOW_REQUEST_BOUND_MS (SB_HTTP_REQUEST_TIMEOUT_MS + 10000)

static harness_server *srv;

static int group_setup(void **state) {
    (void)state;
    return harness_server_up(NULL, &srv) == SB_OK ? 0 : -1;
}

static int group_teardown(void **state) {
    (void)state;
    return harness_server_down(&srv) == SB_OK ? 0 : -1;
}

static void assert_healthy(int port) {
    harness_response r;
    assert_int_equal(harness_http_get(port, "/healthz", NULL, &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);
}

static void assert_json_content_type(const harness_response *r) {
    const char *ct = harness_header_get(r, "Content-Type");
    assert_non_null(ct);
    assert_string_equal(ct, "application/json; charset=utf-8");
}

/* ---- the happy routes ---- */

static void test_healthz(void **state) {
    (void)state;
    harness_response r;
    assert_int_equal(harness_http_get(srv->port, "/healthz", NULL, &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_json_content_type(&r);
    assert_true(json_is_object(r.json));
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "ok");
    assert_string_equal(json_string_value(json_object_get(r.json, "version")), "0.1.0");
    json_t *schema = json_object_get(r.json, "schema");
    assert_true(json_is_integer(schema));

    /* The schema is the one the binary carries: `socialbank version` prints "(schema N)". */
    const char *args[] = {"version", NULL};
    int exit_status;
    char *out = NULL;
    assert_int_equal(harness_run(args, NULL, HARNESS_CLI_TIMEOUT_MS, &exit_status, &out, NULL), SB_OK);
    assert_int_equal(exit_status, 0);
    const char *at = strstr(out, "(schema ");
    assert_non_null(at);
    long carried = strtol(at + 8, NULL, 10);
    assert_int_equal(json_integer_value(schema), carried);
    assert_true(carried >= 1);
    sb_free(out);
    harness_response_free(&r);

    /* The listen line names the real port and the threads asked for (2). */
    json_t *line;
    assert_int_equal(harness_log_find(srv, 0, "http.listen", NULL, NULL, &line, NULL), SB_OK);
    assert_int_equal(json_integer_value(json_object_get(line, "port")), srv->port);
    assert_int_equal(json_integer_value(json_object_get(line, "threads")), 2);
    json_decref(line);
}

static double metric(const char *text, const char *name, const char *const *labels, bool *found) {
    return harness_metrics_sum(text, name, labels, found);
}

static int fetch_metrics(harness_response *r) {
    int result = harness_http_get(srv->port, "/metrics", NULL, r);
    if (result == SB_OK && r->status != 200) {
        harness_response_free(r);
        return SB_EINVAL;
    }
    return result;
}

static void test_metrics_count_requests(void **state) {
    (void)state;
    static const char *const healthz_ok[] = {"route=\"/healthz\"", "method=\"GET\"", "status=\"200\"", NULL};
    harness_response r;
    assert_int_equal(fetch_metrics(&r), SB_OK);
    const char *ct = harness_header_get(&r, "Content-Type");
    assert_non_null(ct);
    assert_non_null(strstr(ct, "text/plain"));
    assert_non_null(strstr(ct, "version=0.0.4"));
    bool found = false;
    double before = metric(r.body, "sb_http_requests_total", healthz_ok, &found);
    assert_true(found); /* the harness's own start-up probes already hit /healthz */
    harness_response_free(&r);
    /* A request answered just before may be counted just after: wait until
     * two scrapes 100 ms apart agree. */
    int64_t settle_deadline = harness_now_ms() + 5000;
    for (;;) {
        harness_sleep_ms(100);
        assert_int_equal(fetch_metrics(&r), SB_OK);
        double again = metric(r.body, "sb_http_requests_total", healthz_ok, &found);
        harness_response_free(&r);
        if (again == before || harness_now_ms() > settle_deadline) break;
        before = again;
    }

    for (int i = 0; i < 3; i++)
        assert_healthy(srv->port);

    /* The counter may be bumped after the response is written: poll briefly. */
    double after = before;
    int64_t deadline = harness_now_ms() + 5000;
    for (;;) {
        assert_int_equal(fetch_metrics(&r), SB_OK);
        after = metric(r.body, "sb_http_requests_total", healthz_ok, &found);
        if (after >= before + 3 || harness_now_ms() > deadline) break;
        harness_response_free(&r);
        harness_sleep_ms(50);
    }
    if (after != before + 3) fprintf(stderr, "metrics:\n%s\n", r.body);
    assert_true(after == before + 3);

    static const char *const healthz_route[] = {"route=\"/healthz\"", NULL};
    assert_non_null(strstr(r.body, "# TYPE sb_http_requests_total counter"));
    assert_non_null(strstr(r.body, "# TYPE sb_http_request_duration_seconds histogram"));
    double count = metric(r.body, "sb_http_request_duration_seconds_count", healthz_route, &found);
    assert_true(found);
    assert_true(count >= 3);
    static const char *const inf_bucket[] = {"route=\"/healthz\"", "le=\"+Inf\"", NULL};
    double inf = metric(r.body, "sb_http_request_duration_seconds_bucket", inf_bucket, &found);
    assert_true(found);
    assert_true(inf == count);
    metric(r.body, "sb_http_request_duration_seconds_sum", healthz_route, &found);
    assert_true(found);
    assert_non_null(strstr(r.body, "# TYPE sb_websocket_connections gauge"));
    metric(r.body, "sb_websocket_connections", NULL, &found);
    assert_true(found);
    harness_response_free(&r);
}

static void test_static_index(void **state) {
    (void)state;
    const char *paths[] = {"/", "/index.html"};
    for (size_t i = 0; i < SB_ARRAY_LEN(paths); i++) {
        harness_response r;
        assert_int_equal(harness_http_get(srv->port, paths[i], NULL, &r), SB_OK);
        HARNESS_ASSERT_STATUS(r, 200);
        assert_string_equal(r.body, HARNESS_INDEX_HTML);
        const char *ct = harness_header_get(&r, "Content-Type");
        assert_non_null(ct);
        assert_non_null(strstr(ct, "text/html"));
        harness_response_free(&r);
    }
    harness_response r;
    assert_int_equal(harness_http_get(srv->port, "/no-such-file.js", NULL, &r), SB_OK);
    HARNESS_ASSERT_ERROR(r, 404, "not_found");
    assert_json_content_type(&r);
    harness_response_free(&r);

    /* Nothing outside --web, however the path is spelt. */
    const char *escapes[] = {"/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                             "/..%2f..%2f..%2f..%2fetc%2fpasswd", "//etc/passwd"};
    for (size_t i = 0; i < SB_ARRAY_LEN(escapes); i++) {
        char raw[256];
        int n = snprintf(raw, sizeof raw, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", escapes[i]);
        int result = harness_http_raw(srv->port, raw, (size_t)n, HARNESS_HTTP_TIMEOUT_MS, &r);
        assert_true(result == SB_OK || result == SB_ECLOSED);
        if (result == SB_OK) {
            if (r.status < 400 || r.status >= 500) fprintf(stderr, "%s -> %d\n", escapes[i], r.status);
            assert_true(r.status >= 400 && r.status < 500);
            assert_null(strstr(r.body, "root:"));
            harness_response_free(&r);
        }
    }
    assert_healthy(srv->port);
}

/* ---- error shapes ---- */

static void test_not_found(void **state) {
    (void)state;
    const char *paths[] = {"/api/no-such-route", "/api", "/api/auth/otp/nothing"};
    for (size_t i = 0; i < SB_ARRAY_LEN(paths); i++) {
        harness_response r;
        assert_int_equal(harness_http_get(srv->port, paths[i], NULL, &r), SB_OK);
        HARNESS_ASSERT_ERROR(r, 404, "not_found");
        assert_json_content_type(&r);
        assert_non_null(harness_error_message(&r));
        harness_response_free(&r);
    }
}

static void test_method_not_allowed(void **state) {
    (void)state;
    struct {
        const char *method, *path, *allowed;
    } cases[] = {
        {"POST", "/healthz", "GET"},
        {"DELETE", "/healthz", "GET"},
        {"GET", "/api/auth/login", "POST"},
        {"PUT", "/api/auth/otp/request", "POST"},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(cases); i++) {
        harness_response r;
        assert_int_equal(harness_http_json(srv->port, cases[i].method, cases[i].path, NULL,
                                           strcmp(cases[i].method, "GET") == 0 ? NULL : "{}", &r),
                         SB_OK);
        HARNESS_ASSERT_ERROR(r, 405, "method_not_allowed");
        const char *allow = harness_header_get(&r, "Allow");
        if (!allow || !strstr(allow, cases[i].allowed))
            fprintf(stderr, "%s %s: Allow: %s (want %s in it)\n", cases[i].method, cases[i].path,
                    allow ? allow : "(none)", cases[i].allowed);
        assert_non_null(allow);
        assert_non_null(strstr(allow, cases[i].allowed));
        assert_null(strstr(allow, cases[i].method));
        harness_response_free(&r);
    }
}

/* The message must name the line and the column where jansson stops. */
static void assert_invalid_json_position(const char *body) {
    json_error_t jerr;
    json_t *doc = json_loads(body, 0, &jerr);
    assert_null(doc);
    char line[32], column[32];
    snprintf(line, sizeof line, "%d", jerr.line);
    snprintf(column, sizeof column, "%d", jerr.column);

    harness_response r;
    assert_int_equal(harness_http_json(srv->port, "POST", "/api/auth/login", NULL, body, &r), SB_OK);
    HARNESS_ASSERT_ERROR(r, 400, "invalid_json");
    assert_json_content_type(&r);
    const char *message = harness_error_message(&r);
    assert_non_null(message);
    fprintf(stderr, "invalid JSON message: %s (jansson: line %s column %s)\n", message, line, column);
    assert_non_null(strstr(message, "line"));
    assert_non_null(strstr(message, "column"));
    assert_non_null(strstr(message, line));
    assert_non_null(strstr(message, column));
    harness_response_free(&r);
}

static void test_invalid_json(void **state) {
    (void)state;
    assert_invalid_json_position("{\"username\": \"a\",\n  \"password\": }");
    assert_invalid_json_position("{\n\n\n    \"username\" \"a\"}");
    assert_invalid_json_position("{\"username\": \"unterminated");

    /* Other bodies that are not JSON objects the server can use: all 400. */
    char deep[256];
    size_t n = 0;
    for (int i = 0; i < 100; i++)
        deep[n++] = '[';
    for (int i = 0; i < 100; i++)
        deep[n++] = ']';
    deep[n] = '\0';
    const char *bad[] = {"", "{\"username\": \"\xff\xfe\"}", deep, "{\"a\":1} trailing"};
    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        harness_response r;
        assert_int_equal(harness_http_json(srv->port, "POST", "/api/auth/login", NULL, bad[i], &r), SB_OK);
        HARNESS_ASSERT_STATUS(r, 400);
        assert_non_null(harness_error_code(&r));
        harness_response_free(&r);
    }
    assert_healthy(srv->port);
}

static void test_wrong_content_type(void **state) {
    (void)state;
    const char *body = "{\"username\":\"nobody\",\"password\":\"not the password\"}";
    const char *types[] = {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", NULL};
    for (size_t i = 0; i < SB_ARRAY_LEN(types); i++) {
        harness_response r;
        assert_int_equal(
            harness_http(srv->port, "POST", "/api/auth/login", NULL, types[i], body, strlen(body), NULL, &r), SB_OK);
        HARNESS_ASSERT_ERROR(r, 415, "unsupported_media_type");
        harness_response_free(&r);
    }
    /* application/json with a charset parameter is JSON: the answer is about the credentials. */
    harness_response r;
    assert_int_equal(harness_http(srv->port, "POST", "/api/auth/login", NULL, "application/json; charset=utf-8", body,
                                  strlen(body), NULL, &r),
                     SB_OK);
    HARNESS_ASSERT_ERROR(r, 401, "unauthorized");
    harness_response_free(&r);
}

/* {"phone":"x","pad":"aaa..."} of exactly total bytes. */
static char *padded_body(size_t total) {
    const char *head = "{\"phone\":\"x\",\"pad\":\"";
    const char *tail = "\"}";
    size_t fixed = strlen(head) + strlen(tail);
    assert_true(total > fixed);
    char *body = malloc(total + 1);
    assert_non_null(body);
    memcpy(body, head, strlen(head));
    memset(body + strlen(head), 'a', total - fixed);
    memcpy(body + total - strlen(tail), tail, strlen(tail));
    body[total] = '\0';
    return body;
}

static void test_body_too_large(void **state) {
    (void)state;
    /* At the limit: parsed (the phone is wrong, so 400), not refused for size. */
    char *body = padded_body(SB_HTTP_BODY_BYTES_MAX_UNAUTH);
    harness_response r;
    assert_int_equal(harness_http_json(srv->port, "POST", "/api/auth/otp/request", NULL, body, &r), SB_OK);
    assert_int_not_equal(r.status, 413);
    HARNESS_ASSERT_STATUS(r, 400);
    harness_response_free(&r);
    free(body);

    /* One byte over the public cap. */
    body = padded_body(SB_HTTP_BODY_BYTES_MAX_UNAUTH + 1);
    assert_int_equal(harness_http_json(srv->port, "POST", "/api/auth/otp/request", NULL, body, &r), SB_OK);
    HARNESS_ASSERT_ERROR(r, 413, "body_too_large");
    harness_response_free(&r);
    free(body);

    /* A huge announced length is refused without waiting for the body. */
    harness_conn *conn;
    assert_int_equal(harness_conn_open(srv->port, 0, HARNESS_HTTP_TIMEOUT_MS, &conn), SB_OK);
    const char *head = "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       "Content-Length: 100000000\r\n\r\n{\"username\":";
    assert_int_equal(harness_conn_send(conn, head, strlen(head), HARNESS_HTTP_TIMEOUT_MS), SB_OK);
    assert_int_equal(harness_conn_read_response(conn, false, HARNESS_HTTP_TIMEOUT_MS, &r), SB_OK);
    HARNESS_ASSERT_ERROR(r, 413, "body_too_large");
    harness_response_free(&r);
    harness_conn_close(conn);
    assert_healthy(srv->port);
}

static void test_headers_too_large(void **state) {
    (void)state;
    /* A few KiB of headers, as browsers send, are fine. */
    char *pad = malloc(SB_HTTP_HEADER_BYTES_MAX + 64);
    assert_non_null(pad);
    size_t n = 4096;
    memcpy(pad, "X-Pad: ", 7);
    memset(pad + 7, 'a', n);
    pad[7 + n] = '\0';
    const char *small[] = {pad, NULL};
    harness_response r;
    assert_int_equal(harness_http(srv->port, "GET", "/healthz", NULL, NULL, NULL, 0, small, &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);

    /* One header larger than all headers may be together. */
    n = SB_HTTP_HEADER_BYTES_MAX + 1;
    memset(pad + 7, 'b', n);
    pad[7 + n] = '\0';
    const char *big[] = {pad, NULL};
    int result = harness_http(srv->port, "GET", "/healthz", NULL, NULL, NULL, 0, big, &r);
    assert_int_equal(result, SB_OK);
    HARNESS_ASSERT_ERROR(r, 431, "headers_too_large");
    harness_response_free(&r);

    /* Many small headers adding up to more than the cap. */
    static char lines[40][512];
    const char *many[41];
    for (int i = 0; i < 40; i++) {
        int len = snprintf(lines[i], sizeof lines[i], "X-Many-%02d: ", i);
        memset(lines[i] + len, 'c', sizeof lines[i] - (size_t)len - 1);
        lines[i][sizeof lines[i] - 1] = '\0';
        many[i] = lines[i];
    }
    many[40] = NULL;
    assert_int_equal(harness_http(srv->port, "GET", "/healthz", NULL, NULL, NULL, 0, many, &r), SB_OK);
    HARNESS_ASSERT_ERROR(r, 431, "headers_too_large");
    harness_response_free(&r);
    free(pad);
    assert_healthy(srv->port);
}

static void test_path_too_long(void **state) {
    (void)state;
    char *path = malloc(SB_HTTP_PATH_BYTES_MAX + 64);
    assert_non_null(path);
    /* Just under the limit: an ordinary 404. */
    path[0] = '/';
    memset(path + 1, 'p', SB_HTTP_PATH_BYTES_MAX - 1);
    path[SB_HTTP_PATH_BYTES_MAX] = '\0';
    harness_response r;
    assert_int_equal(harness_http_get(srv->port, path, NULL, &r), SB_OK);
    HARNESS_ASSERT_ERROR(r, 404, "not_found");
    harness_response_free(&r);
    /* Over it: 414 with a JSON error. */
    memset(path + 1, 'q', SB_HTTP_PATH_BYTES_MAX + 10);
    path[SB_HTTP_PATH_BYTES_MAX + 11] = '\0';
    assert_int_equal(harness_http_get(srv->port, path, NULL, &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 414);
    assert_non_null(harness_error_code(&r));
    harness_response_free(&r);
    free(path);
    assert_healthy(srv->port);
}

/* Garbage gets a 4xx or a closed connection, never a 5xx or a hang. */
static void send_garbage(const void *bytes, size_t len) {
    harness_response r;
    int result = harness_http_raw(srv->port, bytes, len, SLOW_REQUEST_BOUND_MS, &r);
    if (result != SB_OK && result != SB_ECLOSED) fprintf(stderr, "garbage got %s\n", sb_strerror(result));
    assert_true(result == SB_OK || result == SB_ECLOSED);
    if (result == SB_OK) {
        if (r.status < 400 || r.status >= 500) fprintf(stderr, "garbage got status %d\n", r.status);
        assert_true(r.status >= 400 && r.status < 500);
        harness_response_free(&r);
    }
}

static void test_garbage_bytes(void **state) {
    (void)state;
    static const char tls_hello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00\x00\r\n\r\n";
    send_garbage(tls_hello, sizeof tls_hello - 1);
    static const char nuls[] = "\0\0\0\0GET\0/\0HTTP/1.1\r\n\r\n";
    send_garbage(nuls, sizeof nuls - 1);
    const char *texts[] = {
        "HELLO WORLD\r\n\r\n",
        "GET / HTTP/9.9\r\nHost: x\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
        "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -5\r\n\r\n",
        "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: abc\r\n\r\n",
        "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        "GET /healthz\r\n\r\n",
        "\r\n\r\n\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef",
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(texts); i++)
        send_garbage(texts[i], strlen(texts[i]));
    /* Random bytes, seeded so a failure can be replayed. */
    unsigned seed = 20261123;
    for (int round = 0; round < 20; round++) {
        unsigned char junk[512];
        for (size_t i = 0; i < sizeof junk - 4; i++) {
            seed = seed * 1103515245u + 12345u;
            junk[i] = (unsigned char)(seed >> 16);
        }
        memcpy(junk + sizeof junk - 4, "\r\n\r\n", 4);
        send_garbage(junk, sizeof junk);
    }
    assert_healthy(srv->port);
}

static bool conn_resolved(harness_conn *conn, int *status_out) {
    harness_response r;
    int result = harness_conn_read_response(conn, false, 0, &r);
    if (result == SB_OK) {
        *status_out = r.status;
        harness_response_free(&r);
        return true;
    }
    if (result == SB_ECLOSED) {
        *status_out = 0;
        return true;
    }
    return false;
}

static void test_incomplete_requests_time_out(void **state) {
    (void)state;
    /* a: headers never finish; b: the body never finishes; c: headers trickle in forever. */
    harness_conn *conns[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(harness_conn_open(srv->port, 0, HARNESS_HTTP_TIMEOUT_MS, &conns[i]), SB_OK);
    const char *a = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
    const char *b = "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    "Content-Length: 100\r\n\r\n{\"username\":";
    const char *c = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Trickle: ";
    assert_int_equal(harness_conn_send(conns[0], a, strlen(a), HARNESS_HTTP_TIMEOUT_MS), SB_OK);
    assert_int_equal(harness_conn_send(conns[1], b, strlen(b), HARNESS_HTTP_TIMEOUT_MS), SB_OK);
    assert_int_equal(harness_conn_send(conns[2], c, strlen(c), HARNESS_HTTP_TIMEOUT_MS), SB_OK);

    /* Meanwhile the server serves others. */
    assert_healthy(srv->port);

    bool done[3] = {false, false, false};
    int status[3] = {-1, -1, -1};
    int64_t deadline = harness_now_ms() + SLOW_REQUEST_BOUND_MS;
    while (harness_now_ms() < deadline && !(done[0] && done[1] && done[2])) {
        harness_sleep_ms(250);
        if (!done[2] && harness_conn_send(conns[2], "z", 1, 1000) != SB_OK) {
            /* The server closed it: read what it may have said. */
            done[2] = true;
            if (!conn_resolved(conns[2], &status[2])) status[2] = 0;
        }
        for (int i = 0; i < 3; i++)
            if (!done[i]) done[i] = conn_resolved(conns[i], &status[i]);
    }
    for (int i = 0; i < 3; i++) {
        fprintf(stderr, "incomplete request %c: %s, status %d (0 = closed)\n", 'a' + i,
                done[i] ? "ended" : "STILL OPEN", status[i]);
        assert_true(done[i]);
        assert_true(status[i] == 0 || status[i] == 408);
        harness_conn_close(conns[i]);
    }
    assert_healthy(srv->port);
}

static void test_keep_alive_pipelined(void **state) {
    (void)state;
    harness_conn *conn;
    assert_int_equal(harness_conn_open(srv->port, 0, HARNESS_HTTP_TIMEOUT_MS, &conn), SB_OK);
    const char *two = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /api/nothing-here HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(harness_conn_send(conn, two, strlen(two), HARNESS_HTTP_TIMEOUT_MS), SB_OK);
    harness_response r;
    assert_int_equal(harness_conn_read_response(conn, false, HARNESS_HTTP_TIMEOUT_MS, &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "ok");
    harness_response_free(&r);
    assert_int_equal(harness_conn_read_response(conn, false, HARNESS_HTTP_TIMEOUT_MS, &r), SB_OK);
    HARNESS_ASSERT_ERROR(r, 404, "not_found");
    harness_response_free(&r);
    /* The connection is still usable. */
    const char *one = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    assert_int_equal(harness_conn_send(conn, one, strlen(one), HARNESS_HTTP_TIMEOUT_MS), SB_OK);
    assert_int_equal(harness_conn_read_response(conn, false, HARNESS_HTTP_TIMEOUT_MS, &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);
    harness_conn_close(conn);
}

static void test_many_bad_requests(void **state) {
    (void)state;
    char *big = padded_body(SB_HTTP_BODY_BYTES_MAX_UNAUTH + 100);
    for (int i = 0; i < 120; i++) {
        harness_response r;
        switch (i % 6) {
        case 0:
            assert_int_equal(harness_http_json(srv->port, "POST", "/api/auth/login", NULL, "{\"a\":", &r), SB_OK);
            HARNESS_ASSERT_ERROR(r, 400, "invalid_json");
            break;
        case 1:
            assert_int_equal(harness_http(srv->port, "POST", "/api/auth/login", NULL, "text/plain", "{}", 2, NULL, &r),
                             SB_OK);
            HARNESS_ASSERT_ERROR(r, 415, "unsupported_media_type");
            break;
        case 2:
            assert_int_equal(harness_http_get(srv->port, "/api/definitely/not/here", NULL, &r), SB_OK);
            HARNESS_ASSERT_ERROR(r, 404, "not_found");
            break;
        case 3:
            assert_int_equal(harness_http_json(srv->port, "PATCH", "/healthz", NULL, "{}", &r), SB_OK);
            HARNESS_ASSERT_ERROR(r, 405, "method_not_allowed");
            break;
        case 4:
            assert_int_equal(harness_http_json(srv->port, "POST", "/api/auth/otp/request", NULL, big, &r), SB_OK);
            HARNESS_ASSERT_ERROR(r, 413, "body_too_large");
            break;
        default:
            send_garbage("\x01\x02\x03 nonsense\r\n\r\n", 16);
            continue;
        }
        harness_response_free(&r);
    }
    free(big);
    assert_healthy(srv->port);
    harness_response r;
    assert_int_equal(fetch_metrics(&r), SB_OK);
    harness_response_free(&r);
}

/* ---- graceful shutdown (its own server) ---- */

static void send_keepalive_healthz(harness_conn *conn) {
    const char *req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(harness_conn_send(conn, req, strlen(req), HARNESS_HTTP_TIMEOUT_MS), SB_OK);
    harness_response r;
    assert_int_equal(harness_conn_read_response(conn, false, HARNESS_HTTP_TIMEOUT_MS, &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);
}

static void test_graceful_shutdown(void **state) {
    (void)state;
    harness_server *s;
    assert_int_equal(harness_server_new(NULL, &s), SB_OK);
    const char *password = "graceful-shutdown-pw";
    assert_int_equal(harness_user_add(s, "shutdown.admin", password, "admin", NULL), SB_OK);
    assert_int_equal(harness_server_start(s), SB_OK);

    char body[128];
    int body_len = snprintf(body, sizeof body, "{\"username\":\"shutdown.admin\",\"password\":\"%s\"}", password);
    char head[256];
    int head_len = snprintf(head, sizeof head,
                            "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                            "Content-Length: %d\r\n\r\n",
                            body_len);
    /* Both connections are established and known to the server. */
    harness_conn *a, *b;
    assert_int_equal(harness_conn_open(s->port, 0, HARNESS_HTTP_TIMEOUT_MS, &a), SB_OK);
    assert_int_equal(harness_conn_open(s->port, 0, HARNESS_HTTP_TIMEOUT_MS, &b), SB_OK);
    send_keepalive_healthz(a);
    send_keepalive_healthz(b);

    /* b: the head and half the body; a: a whole login (argon2id takes a while). */
    assert_int_equal(harness_conn_send(b, head, (size_t)head_len, HARNESS_HTTP_TIMEOUT_MS), SB_OK);
    assert_int_equal(harness_conn_send(b, body, (size_t)body_len / 2, HARNESS_HTTP_TIMEOUT_MS), SB_OK);
    assert_int_equal(harness_conn_send(a, head, (size_t)head_len, HARNESS_HTTP_TIMEOUT_MS), SB_OK);
    assert_int_equal(harness_conn_send(a, body, (size_t)body_len, HARNESS_HTTP_TIMEOUT_MS), SB_OK);
    /* Long enough for the server to have read a's request on any machine;
     * b's half body keeps a request in flight even if a's is already done. */
    harness_sleep_ms(100);
    assert_int_equal(harness_server_signal(s, SIGTERM), SB_OK);
    harness_sleep_ms(200);
    assert_int_equal(
        harness_conn_send(b, body + body_len / 2, (size_t)(body_len - body_len / 2), HARNESS_HTTP_TIMEOUT_MS), SB_OK);

    /* a's request was being handled: it is finished. */
    harness_response r;
    assert_int_equal(harness_conn_read_response(a, false, HARNESS_HTTP_TIMEOUT_MS, &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_non_null(json_string_value(json_object_get(r.json, "token")));
    harness_response_free(&r);
    /* b's was still arriving: it gets a whole answer, not a dropped connection. */
    assert_int_equal(harness_conn_read_response(b, false, HARNESS_HTTP_TIMEOUT_MS, &r), SB_OK);
    if (r.status != 200) HARNESS_ASSERT_ERROR(r, 503, "unavailable");
    harness_response_free(&r);
    harness_conn_close(a);
    harness_conn_close(b);

    int exit_status;
    assert_int_equal(harness_server_wait(s, HARNESS_STOP_TIMEOUT_MS, &exit_status), SB_OK);
    assert_int_equal(exit_status, 0);
    assert_int_equal(harness_log_find(s, 0, "http.stop", NULL, NULL, NULL, NULL), SB_OK);
    /* Nobody listens any more. */
    harness_conn *late;
    assert_int_not_equal(harness_conn_open(s->port, 0, 2000, &late), SB_OK);

    /* Restarted on the same data, it stops on SIGINT too, and the admin is still there. */
    assert_int_equal(harness_server_start(s), SB_OK);
    char token[HARNESS_TOKEN_BYTES];
    assert_int_equal(harness_staff_login(s, "shutdown.admin", password, token, NULL), SB_OK);
    assert_int_equal(harness_server_signal(s, SIGINT), SB_OK);
    assert_int_equal(harness_server_wait(s, HARNESS_STOP_TIMEOUT_MS, &exit_status), SB_OK);
    assert_int_equal(exit_status, 0);
    harness_server_free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_healthz),
        cmocka_unit_test(test_metrics_count_requests),
        cmocka_unit_test(test_static_index),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_method_not_allowed),
        cmocka_unit_test(test_invalid_json),
        cmocka_unit_test(test_wrong_content_type),
        cmocka_unit_test(test_body_too_large),
        cmocka_unit_test(test_headers_too_large),
        cmocka_unit_test(test_path_too_long),
        cmocka_unit_test(test_garbage_bytes),
        cmocka_unit_test(test_incomplete_requests_time_out),
        cmocka_unit_test(test_keep_alive_pipelined),
        cmocka_unit_test(test_many_bad_requests),
        cmocka_unit_test(test_graceful_shutdown),
    };
    return cmocka_run_group_tests_name("http", tests, group_setup, group_teardown);
}
