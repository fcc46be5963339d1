/*
 * test_security.c - regression tests for what a hostile review of the
 * running server found (each case names its finding):
 *   - signing out closes every WebSocket of the session with 4001, on every
 *     server thread, and a connection whose session expired or was revoked
 *     behind the server's back is closed at its next session check;
 *   - an empty ingest batch is answered cleanly (qsort(NULL, 0) under UBSan);
 *   - web pages carry a Content-Security-Policy with frame-ancestors 'none'
 *     and the other protective headers;
 *   - password hashing runs off the event loops: /healthz answers while
 *     logins are pending, and a full hashing queue answers 503 busy;
 *   - body caps are applied per route before the body is buffered, and
 *     connections are capped per client address;
 *   - a second serve on the same data directory refuses to start;
 *   - backups are written 0600.
 *
 * Each group runs its own server (the options differ); every server must
 * stop with exit status 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "integration/harness.h"
#include "store/store.h"

/* A bound on one answer, generous for ASan on a loaded machine (never a
 * speed claim). */
#define ANSWER_BOUND_MS 10000

static int phone_counter;

/* Read until a close frame arrives (pushes and pongs skipped); its code and
 * reason.  Fails the test on anything else. */
static int wait_close(harness_ws *ws, char *reason_out, size_t reason_size) {
    int64_t deadline = harness_now_ms() + ANSWER_BOUND_MS;
    for (int frames = 0; frames < 1000; frames++) {
        int64_t left = deadline - harness_now_ms();
        assert_true(left > 0);
        harness_ws_message m;
        int result = harness_ws_read(ws, (int)left, &m);
        if (result != SB_OK) fprintf(stderr, "no close frame: %s\n", sb_strerror(result));
        assert_int_equal(result, SB_OK);
        if (m.opcode == HARNESS_WS_CLOSE) {
            int code = m.close_code;
            if (reason_out) snprintf(reason_out, reason_size, "%s", m.data ? m.data : "");
            harness_ws_message_free(&m);
            return code;
        }
        harness_ws_message_free(&m);
    }
    fail_msg("no close frame among 1000 frames");
    return 0;
}

/* After its close the connection takes nothing: an echo gets no answer. */
static void assert_cannot_send(harness_ws *ws) {
    if (harness_ws_send_text(ws, "{\"type\":\"echo\",\"data\":\"still here?\"}") != SB_OK) return;
    json_t *reply = NULL;
    int result = harness_ws_read_json(ws, 2000, &reply, NULL);
    if (result == SB_OK) fprintf(stderr, "answered after the close: %s\n", harness_json_text(reply));
    json_decref(reply);
    assert_int_not_equal(result, SB_OK);
}

/* Echo round trip on a live connection. */
static void assert_echo(harness_ws *ws) {
    assert_int_equal(harness_ws_send_text(ws, "{\"type\":\"echo\",\"data\":1}"), SB_OK);
    json_t *reply = NULL;
    assert_int_equal(harness_ws_expect_type(ws, "echo", ANSWER_BOUND_MS, &reply), SB_OK);
    json_decref(reply);
}

/* ---- finding 1: sessions end their WebSockets ---- */

static harness_server *ws_srv;

static int ws_setup(void **state) {
    (void)state;
    /* three loops, so connections of one session spread over threads; the
     * default (long) ping interval, so only the sign-out can close them in
     * time in the first test */
    static const harness_options opts = {.threads = 3};
    return harness_server_up(&opts, &ws_srv) == SB_OK ? 0 : -1;
}

static int ws_teardown(void **state) {
    (void)state;
    return harness_server_down(&ws_srv) == SB_OK ? 0 : -1;
}

#define SESSION_SOCKETS 6

static void test_logout_closes_every_websocket(void **state) {
    (void)state;
    harness_customer me = harness_customer_next(ws_srv, "0912777", &phone_counter);
    harness_customer other = harness_customer_next(ws_srv, "0912777", &phone_counter);
    /* a second session of the same user (another device) stays signed in */
    char second_token[HARNESS_TOKEN_BYTES];
    char phone[32];
    snprintf(phone, sizeof phone, "0912777%04d", phone_counter - 1);
    assert_int_equal(harness_customer_login(ws_srv, phone, second_token, NULL), SB_OK);
    harness_ws *mine[SESSION_SOCKETS];
    for (int i = 0; i < SESSION_SOCKETS; i++)
        assert_int_equal(harness_ws_open(ws_srv->port, me.token, &mine[i], NULL), SB_OK);
    harness_ws *theirs, *my_other_device;
    assert_int_equal(harness_ws_open(ws_srv->port, other.token, &theirs, NULL), SB_OK);
    assert_int_equal(harness_ws_open(ws_srv->port, second_token, &my_other_device, NULL), SB_OK);

    harness_response r = harness_call(ws_srv, "POST", "/api/auth/logout", me.token, NULL);
    HARNESS_ASSERT_STATUS(r, 204);
    harness_response_free(&r);

    for (int i = 0; i < SESSION_SOCKETS; i++) {
        char reason[128];
        assert_int_equal(wait_close(mine[i], reason, sizeof reason), 4001);
        assert_string_equal(reason, "session_revoked");
        assert_cannot_send(mine[i]);
        harness_ws_free(mine[i]);
    }
    /* nobody else's connection, nor the user's other session, was touched */
    assert_echo(theirs);
    assert_echo(my_other_device);
    harness_ws_free(theirs);
    harness_ws_free(my_other_device);
    /* and the token no longer opens one */
    harness_ws *again = NULL;
    assert_int_equal(harness_ws_connect(ws_srv->port, "/api/ws", me.token, 0, ANSWER_BOUND_MS, &again, NULL), SB_EPERM);
    harness_ws_free(again);
}

/* ---- finding 1: expiry and revocation behind the server's back ---- */

static harness_server *check_srv;

static int check_setup(void **state) {
    (void)state;
    static const char *const args[] = {"--ws-ping-ms", "200", NULL};
    static const harness_options opts = {.threads = 2, .extra_args = args};
    return harness_server_up(&opts, &check_srv) == SB_OK ? 0 : -1;
}

static int check_teardown(void **state) {
    (void)state;
    return harness_server_down(&check_srv) == SB_OK ? 0 : -1;
}

/* Change every session of user_id straight in the store (as another
 * process, or the clock, would). */
static void sessions_update(const char *data_dir, const char *sql, int64_t value, int64_t user_id) {
    store *s;
    assert_int_equal(store_open(data_dir, NULL, &s), SB_OK);
    assert_int_equal(store_exec(s, sql, "ii", value, user_id), SB_OK);
    assert_true(store_changes(s) >= 1);
    store_close(s);
}

static void test_expired_session_closes_websocket(void **state) {
    (void)state;
    harness_customer me = harness_customer_next(check_srv, "0912778", &phone_counter);
    harness_customer other = harness_customer_next(check_srv, "0912778", &phone_counter);
    harness_ws *ws, *theirs;
    assert_int_equal(harness_ws_open(check_srv->port, me.token, &ws, NULL), SB_OK);
    assert_int_equal(harness_ws_open(check_srv->port, other.token, &theirs, NULL), SB_OK);
    assert_echo(ws);
    sessions_update(check_srv->data_dir, "UPDATE sessions SET expires_at_ms = ? WHERE user_id = ?",
                    (int64_t)sb_now_ms() - 1, (int64_t)me.id);
    char reason[128];
    assert_int_equal(wait_close(ws, reason, sizeof reason), 4001);
    assert_string_equal(reason, "session_expired");
    assert_cannot_send(ws);
    harness_ws_free(ws);
    assert_echo(theirs);
    harness_ws_free(theirs);
}

static void test_revoked_elsewhere_closes_websocket(void **state) {
    (void)state;
    harness_customer me = harness_customer_next(check_srv, "0912778", &phone_counter);
    harness_ws *ws;
    assert_int_equal(harness_ws_open(check_srv->port, me.token, &ws, NULL), SB_OK);
    assert_echo(ws);
    sessions_update(check_srv->data_dir, "UPDATE sessions SET revoked_at_ms = ? WHERE user_id = ?",
                    (int64_t)sb_now_ms(), (int64_t)me.id);
    char reason[128];
    assert_int_equal(wait_close(ws, reason, sizeof reason), 4001);
    assert_string_equal(reason, "session_revoked");
    assert_cannot_send(ws);
    harness_ws_free(ws);
}

/* ---- finding 9 (empty ingest batch) and 12 (page headers) ---- */

static harness_server *web_srv;
static char web_admin_token[HARNESS_TOKEN_BYTES];

static int web_setup(void **state) {
    (void)state;
    static char web_dir[1024];
    const char *source = getenv("SB_SOURCE_DIR");
    snprintf(web_dir, sizeof web_dir, "%s/web", source ? source : ".");
    static harness_options opts = {.threads = 2};
    opts.web_dir = web_dir;
    if (harness_server_up(&opts, &web_srv) != SB_OK) return -1;
    return harness_staff_token(web_srv, "admin", web_admin_token, NULL) == SB_OK ? 0 : -1;
}

static int web_teardown(void **state) {
    (void)state;
    return harness_server_down(&web_srv) == SB_OK ? 0 : -1;
}

static void test_empty_ingest_batch(void **state) {
    (void)state;
    harness_response r = harness_call(web_srv, "POST", "/api/listening/api-keys", web_admin_token,
                                      "{\"name\":\"empty\",\"sources\":[\"twitter\"]}");
    HARNESS_ASSERT_STATUS(r, 201);
    char key_header[200];
    snprintf(key_header, sizeof key_header, "X-Api-Key: %s", harness_json_str(r.json, "key"));
    harness_response_free(&r);
    const char *headers[] = {key_header, NULL};
    static const char body[] = "{\"posts\":[]}";
    assert_int_equal(harness_http(web_srv->port, "POST", "/api/ingest", NULL, "application/json", body, sizeof body - 1,
                                  headers, &r),
                     SB_OK);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_int_equal(harness_json_int(r.json, "received"), 0);
    assert_int_equal(harness_json_int(r.json, "accepted"), 0);
    assert_int_equal(harness_json_int(r.json, "rejected"), 0);
    harness_response_free(&r);
    /* the server is still up (a sanitizer would have stopped it) */
    assert_int_equal(harness_http_get(web_srv->port, "/healthz", NULL, &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);
}

static void assert_page_headers(const char *path) {
    harness_response r;
    assert_int_equal(harness_http_get(web_srv->port, path, NULL, &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 200);
    const char *csp = harness_header_get(&r, "content-security-policy");
    if (!csp) fprintf(stderr, "%s: no Content-Security-Policy\n", path);
    assert_non_null(csp);
    assert_non_null(strstr(csp, "default-src 'self'"));
    assert_non_null(strstr(csp, "script-src 'self'"));
    assert_non_null(strstr(csp, "frame-ancestors 'none'"));
    assert_null(strstr(csp, "unsafe-inline"));
    assert_null(strstr(csp, "unsafe-eval"));
    const char *xfo = harness_header_get(&r, "x-frame-options");
    assert_non_null(xfo);
    assert_string_equal(xfo, "DENY");
    const char *nosniff = harness_header_get(&r, "x-content-type-options");
    assert_non_null(nosniff);
    assert_string_equal(nosniff, "nosniff");
    const char *referrer = harness_header_get(&r, "referrer-policy");
    assert_non_null(referrer);
    assert_string_equal(referrer, "no-referrer");
    /* the page itself has no inline script or event handler for the CSP to block */
    assert_null(strstr(r.body, "<script>"));
    assert_null(strstr(r.body, " onclick="));
    assert_null(strstr(r.body, " onload="));
    assert_null(strstr(r.body, "javascript:"));
    harness_response_free(&r);
}

static void test_pages_carry_csp(void **state) {
    (void)state;
    assert_page_headers("/");
    assert_page_headers("/chat.html");
}

/* ---- finding 3: password hashing off the event loop ---- */

static harness_server *pw_srv;

static int pw_setup(void **state) {
    (void)state;
    /* one loop (a hash on it would hold up everything), one password
     * thread, two checks in flight at most */
    static const char *const args[] = {"--password-threads", "1", "--password-jobs-max", "2", NULL};
    static const harness_options opts = {.threads = 1, .extra_args = args};
    if (harness_server_up(&opts, &pw_srv) != SB_OK) return -1;
    /* A staff user whose stored hash asks argon2id for 40 passes over 64 MiB
     * (twenty times the interactive cost): checking any password against it
     * takes seconds, so logins stay pending while the test looks.  The hash
     * value itself is arbitrary; no password matches it. */
    store *s;
    if (store_open(pw_srv->data_dir, NULL, &s) != SB_OK) return -1;
    int result = store_exec(s,
                            "INSERT INTO users(role, username, display_name, password_hash, created_at_ms, "
                            "updated_at_ms) VALUES ('agent', 'slow.staff', 'slow.staff', ?, ?, ?)",
                            "tii",
                            "$argon2id$v=19$m=65536,t=40,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
                            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                            (int64_t)sb_now_ms(), (int64_t)sb_now_ms());
    store_close(s);
    return result == SB_OK ? 0 : -1;
}

static int pw_teardown(void **state) {
    (void)state;
    return harness_server_down(&pw_srv) == SB_OK ? 0 : -1;
}

static const char slow_login_body[] = "{\"username\":\"slow.staff\",\"password\":\"not-the-password\"}";

static harness_conn *send_slow_login(void) {
    char request[512];
    int n = snprintf(request, sizeof request,
                     "POST /api/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     sizeof slow_login_body - 1, slow_login_body);
    harness_conn *conn;
    assert_int_equal(harness_conn_open(pw_srv->port, 0, ANSWER_BOUND_MS, &conn), SB_OK);
    assert_int_equal(harness_conn_send(conn, request, (size_t)n, ANSWER_BOUND_MS), SB_OK);
    return conn;
}

#define SLOW_LOGINS 3

static void test_logins_do_not_stop_healthz(void **state) {
    (void)state;
    harness_conn *logins[SLOW_LOGINS];
    for (int i = 0; i < SLOW_LOGINS; i++)
        logins[i] = send_slow_login();
    /* the one loop answers while the password checks are under way */
    harness_response r;
    assert_int_equal(harness_http_get(pw_srv->port, "/healthz", NULL, &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);
    int pending = 0;
    harness_response answers[SLOW_LOGINS];
    bool answered[SLOW_LOGINS];
    for (int i = 0; i < SLOW_LOGINS; i++) {
        int result = harness_conn_read_response(logins[i], false, 1, &answers[i]);
        answered[i] = result == SB_OK;
        if (result == SB_ETIMEOUT) pending++;
    }
    if (pending == 0) fprintf(stderr, "every login was answered before /healthz\n");
    assert_true(pending >= 1);
    /* one running, one waiting, the third refused at once; the two checked
     * ones fail as wrong passwords */
    int busy = 0, unauthorized = 0;
    for (int i = 0; i < SLOW_LOGINS; i++) {
        if (answered[i])
            r = answers[i];
        else
            assert_int_equal(harness_conn_read_response(logins[i], false, 120000, &r), SB_OK);
        if (r.status == 503) {
            HARNESS_ASSERT_ERROR(r, 503, "busy");
            assert_non_null(harness_header_get(&r, "retry-after"));
            busy++;
        } else {
            HARNESS_ASSERT_ERROR(r, 401, "unauthorized");
            unauthorized++;
        }
        harness_response_free(&r);
        harness_conn_close(logins[i]);
    }
    assert_int_equal(busy, 1);
    assert_int_equal(unauthorized, 2);
}

static void test_client_gone_during_check(void **state) {
    (void)state;
    harness_conn *gone = send_slow_login();
    harness_conn_close(gone);
    /* a second one is answered normally (the loop may take either first) */
    harness_conn *kept = send_slow_login();
    harness_response r;
    assert_int_equal(harness_conn_read_response(kept, false, 120000, &r), SB_OK);
    HARNESS_ASSERT_ERROR(r, 401, "unauthorized");
    harness_response_free(&r);
    harness_conn_close(kept);
    /* one more queues behind whatever is left of the abandoned one (one
     * thread, first in first out): when it is answered the pool is idle */
    harness_conn *probe = send_slow_login();
    assert_int_equal(harness_conn_read_response(probe, false, 120000, &r), SB_OK);
    HARNESS_ASSERT_ERROR(r, 401, "unauthorized");
    harness_response_free(&r);
    harness_conn_close(probe);
    assert_int_equal(harness_http_get(pw_srv->port, "/healthz", NULL, &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);
}

static void test_good_login_through_pool(void **state) {
    (void)state;
    char token[HARNESS_TOKEN_BYTES];
    assert_int_equal(harness_staff_token(pw_srv, "agent", token, NULL), SB_OK);
    harness_response r = harness_call(pw_srv, "GET", "/api/me", token, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);
}

/* ---- finding 5: body caps while the body arrives; connections per address ---- */

#define PER_ADDRESS_MAX 8

static harness_server *limits_srv;

static int limits_setup(void **state) {
    (void)state;
    static const char *const args[] = {"--connections-per-address", "8", NULL};
    static const harness_options opts = {.threads = 2, .extra_args = args};
    return harness_server_up(&opts, &limits_srv) == SB_OK ? 0 : -1;
}

static int limits_teardown(void **state) {
    (void)state;
    return harness_server_down(&limits_srv) == SB_OK ? 0 : -1;
}

static harness_conn *limits_conn(void) {
    harness_conn *conn;
    assert_int_equal(harness_conn_open(limits_srv->port, 0, ANSWER_BOUND_MS, &conn), SB_OK);
    return conn;
}

static void test_oversized_content_length_refused_before_body(void **state) {
    (void)state;
    /* 1 MB declared (under h2o's global 8 MiB), 16 KiB allowed here; no body sent */
    static const char head[] = "POST /api/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                               "Content-Length: 1000000\r\n\r\n";
    harness_conn *conn = limits_conn();
    assert_int_equal(harness_conn_send(conn, head, sizeof head - 1, ANSWER_BOUND_MS), SB_OK);
    harness_response r;
    int result = harness_conn_read_response(conn, false, 5000, &r);
    if (result != SB_OK) fprintf(stderr, "no answer before the body: %s\n", sb_strerror(result));
    assert_int_equal(result, SB_OK);
    HARNESS_ASSERT_ERROR(r, 413, "body_too_large");
    harness_response_free(&r);
    assert_int_equal(harness_conn_wait_closed(conn, ANSWER_BOUND_MS), SB_OK);
    harness_conn_close(conn);
}

static void test_chunked_body_cut_off_at_cap(void **state) {
    (void)state;
    static const char head[] = "POST /api/auth/otp/request HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                               "Transfer-Encoding: chunked\r\n\r\n";
    harness_conn *conn = limits_conn();
    assert_int_equal(harness_conn_send(conn, head, sizeof head - 1, ANSWER_BOUND_MS), SB_OK);
    /* 64 KiB in 4 KiB chunks and no last chunk: the body never ends */
    static char chunk[4096 + 16];
    int n = snprintf(chunk, sizeof chunk, "1000\r\n");
    memset(chunk + n, ' ', 4096);
    memcpy(chunk + n + 4096, "\r\n", 2);
    for (int i = 0; i < 16; i++)
        if (harness_conn_send(conn, chunk, (size_t)n + 4096 + 2, ANSWER_BOUND_MS) != SB_OK) break; /* cut off */
    harness_response r;
    int result = harness_conn_read_response(conn, false, 5000, &r);
    if (result == SB_OK) {
        HARNESS_ASSERT_ERROR(r, 413, "body_too_large");
        harness_response_free(&r);
    } else {
        /* a reset may overtake the 413; what must not happen is waiting for the rest */
        if (result != SB_ECLOSED) fprintf(stderr, "chunked body not cut off: %s\n", sb_strerror(result));
        assert_int_equal(result, SB_ECLOSED);
    }
    harness_conn_close(conn);
}

static void test_authenticated_cap_still_larger(void **state) {
    (void)state;
    harness_customer me = harness_customer_next(limits_srv, "0912779", &phone_counter);
    /* 100 KiB to an authenticated route (cap 1 MiB) reaches the handler */
    size_t len = 100 * 1024;
    char *body = sb_malloc(len + 1);
    assert_non_null(body);
    memset(body, ' ', len);
    static const char json[] = "{\"display_name\":\"Cap Test\"}";
    memcpy(body, json, sizeof json - 1); /* then spaces: still one JSON object */
    harness_response r;
    assert_int_equal(
        harness_http(limits_srv->port, "PATCH", "/api/me", me.token, "application/json", body, len, NULL, &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);
    sb_free(body);
}

static void test_connections_per_address_capped(void **state) {
    (void)state;
    harness_conn *held[PER_ADDRESS_MAX];
    for (int i = 0; i < PER_ADDRESS_MAX; i++)
        held[i] = limits_conn();
    /* a request on each makes sure the server has accepted them all */
    static const char healthz[] = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
    harness_response r;
    for (int i = 0; i < PER_ADDRESS_MAX; i++) {
        assert_int_equal(harness_conn_send(held[i], healthz, sizeof healthz - 1, ANSWER_BOUND_MS), SB_OK);
        assert_int_equal(harness_conn_read_response(held[i], false, ANSWER_BOUND_MS, &r), SB_OK);
        HARNESS_ASSERT_STATUS(r, 200);
        harness_response_free(&r);
    }
    /* one more from the same address is closed at once */
    harness_conn *extra = limits_conn();
    assert_int_equal(harness_conn_wait_closed(extra, ANSWER_BOUND_MS), SB_OK);
    harness_conn_close(extra);
    /* the held ones still work; when one goes, a new one is taken */
    assert_int_equal(harness_conn_send(held[0], healthz, sizeof healthz - 1, ANSWER_BOUND_MS), SB_OK);
    assert_int_equal(harness_conn_read_response(held[0], false, ANSWER_BOUND_MS, &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);
    harness_conn_close(held[PER_ADDRESS_MAX - 1]);
    int status = 0;
    for (int attempt = 0; attempt < 100 && status != 200; attempt++) {
        if (harness_http_get(limits_srv->port, "/healthz", NULL, &r) == SB_OK) {
            status = r.status;
            harness_response_free(&r);
        } else {
            harness_sleep_ms(50); /* the server has not seen the close yet */
        }
    }
    assert_int_equal(status, 200);
    for (int i = 0; i < PER_ADDRESS_MAX - 1; i++)
        harness_conn_close(held[i]);
}

/* ---- finding 4: one server per data directory; finding 13: backups 0600 ---- */

static void test_second_serve_refuses(void **state) {
    (void)state;
    harness_server *first;
    assert_int_equal(harness_server_up(NULL, &first), SB_OK);
    /* the same directory, another port: it must refuse, not serve (a hang
     * here ends as SB_ETIMEOUT) */
    const char *args[] = {"serve",  "--port",        "0",         "--bind", "127.0.0.1",
                          "--data", first->data_dir, "--threads", "1",      NULL};
    int exit_status = 0;
    char *out = NULL, *err = NULL;
    int result = harness_run(args, NULL, 20000, &exit_status, &out, &err);
    if (result != SB_OK || exit_status == 0)
        fprintf(stderr, "second serve: %s (exit %d)\n%s", sb_strerror(result), exit_status, err ? err : "");
    assert_int_equal(result, SB_OK);
    assert_int_not_equal(exit_status, 0);
    assert_non_null(strstr(err, "another server is running"));
    sb_free(out);
    sb_free(err);
    /* the first one is unharmed, and a CLI writer still works beside it */
    harness_response r;
    assert_int_equal(harness_http_get(first->port, "/healthz", NULL, &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);
    assert_int_equal(harness_user_add(first, "lock.agent", "lock-agent-password", "agent", NULL), SB_OK);
    assert_int_equal(harness_server_down(&first), SB_OK);
}

static void test_serve_after_stop_takes_the_lock(void **state) {
    (void)state;
    harness_server *srv;
    assert_int_equal(harness_server_up(NULL, &srv), SB_OK);
    int exit_status;
    assert_int_equal(harness_server_stop(srv, &exit_status), SB_OK);
    assert_int_equal(exit_status, 0);
    /* stopped (or killed): the lock goes with the process */
    assert_int_equal(harness_server_start(srv), SB_OK);
    assert_int_equal(harness_server_kill(srv), SB_OK);
    assert_int_equal(harness_server_start(srv), SB_OK);
    assert_int_equal(harness_server_down(&srv), SB_OK);
}

static void test_backup_is_private(void **state) {
    (void)state;
    harness_server *srv;
    assert_int_equal(harness_server_up(NULL, &srv), SB_OK);
    char dest[HARNESS_PATH_BYTES + 32];
    snprintf(dest, sizeof dest, "%s/backup.db", srv->root);
    mode_t old_mask = umask(022); /* the usual umask, under which SQLite made it 0644 */
    const char *args[] = {"backup", "--data", srv->data_dir, dest, NULL};
    int exit_status = -1;
    char *out = NULL, *err = NULL;
    int result = harness_run(args, NULL, HARNESS_CLI_TIMEOUT_MS, &exit_status, &out, &err);
    umask(old_mask);
    if (result != SB_OK || exit_status != 0) fprintf(stderr, "backup: %s\n", err ? err : "");
    assert_int_equal(result, SB_OK);
    assert_int_equal(exit_status, 0);
    sb_free(out);
    sb_free(err);
    struct stat st;
    assert_int_equal(stat(dest, &st), 0);
    if ((st.st_mode & 0777) != 0600) fprintf(stderr, "backup mode %o\n", (unsigned)(st.st_mode & 0777));
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_true(st.st_size > 0);
    assert_int_equal(harness_server_down(&srv), SB_OK);
}

int main(void) {
    const struct CMUnitTest ws_tests[] = {
        cmocka_unit_test(test_logout_closes_every_websocket),
    };
    const struct CMUnitTest check_tests[] = {
        cmocka_unit_test(test_expired_session_closes_websocket),
        cmocka_unit_test(test_revoked_elsewhere_closes_websocket),
    };
    const struct CMUnitTest web_tests[] = {
        cmocka_unit_test(test_empty_ingest_batch),
        cmocka_unit_test(test_pages_carry_csp),
    };
    const struct CMUnitTest limits_tests[] = {
        cmocka_unit_test(test_oversized_content_length_refused_before_body),
        cmocka_unit_test(test_chunked_body_cut_off_at_cap),
        cmocka_unit_test(test_authenticated_cap_still_larger),
        cmocka_unit_test(test_connections_per_address_capped),
    };
    const struct CMUnitTest store_tests[] = {
        cmocka_unit_test(test_second_serve_refuses),
        cmocka_unit_test(test_serve_after_stop_takes_the_lock),
        cmocka_unit_test(test_backup_is_private),
    };
    const struct CMUnitTest pw_tests[] = {
        cmocka_unit_test(test_good_login_through_pool),
        cmocka_unit_test(test_logins_do_not_stop_healthz),
        cmocka_unit_test(test_client_gone_during_check),
    };
    int failed = cmocka_run_group_tests_name("security.ws_logout", ws_tests, ws_setup, ws_teardown);
    failed += cmocka_run_group_tests_name("security.ws_session_check", check_tests, check_setup, check_teardown);
    failed += cmocka_run_group_tests_name("security.web", web_tests, web_setup, web_teardown);
    failed += cmocka_run_group_tests_name("security.passwords", pw_tests, pw_setup, pw_teardown);
    failed += cmocka_run_group_tests_name("security.limits", limits_tests, limits_setup, limits_teardown);
    failed += cmocka_run_group_tests_name("security.store", store_tests, NULL, NULL);
    return failed;
}
