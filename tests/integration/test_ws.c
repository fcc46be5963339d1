/*
 * test_ws.c - the WebSocket endpoint /api/ws against the contract
 * (docs/API.md): the upgrade needs a token (header or ?token=), hello,
 * ping/pong (JSON and protocol frames), echo (also fragmented), invalid JSON
 * answered without closing, binary closed with 1003, oversize closed with
 * 1009, a flooding client rate limited while another keeps its prompt
 * echoes, a reader too slow to drain its queue disconnected while another is
 * unaffected, the connection gauge, and close 1001 on SIGTERM.
 *
 * One server for the group (stopped at the end with a required exit status
 * of 0); the shutdown test runs its own.
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

/* A bound on one answer, generous for ASan on a loaded machine ("prompt"
 * here means "not starved", never a speed claim). */
#define ANSWER_BOUND_MS 5000

static harness_server *srv;
static char customer_token[HARNESS_TOKEN_BYTES];
static json_int_t customer_id;
static char agent_token[HARNESS_TOKEN_BYTES];

static int group_setup(void **state) {
    (void)state;
    if (harness_server_up(NULL, &srv) != SB_OK) return -1;
    json_t *user;
    if (harness_customer_login(srv, "09121230001", customer_token, &user) != SB_OK) return -1;
    customer_id = json_integer_value(json_object_get(user, "id"));
    json_decref(user);
    if (harness_staff_token(srv, "agent", agent_token, NULL) != SB_OK) return -1;
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    return harness_server_down(&srv) == SB_OK ? 0 : -1;
}

/* Connect with the customer's token and consume the hello. */
static harness_ws *open_ws(int rcvbuf_bytes) {
    harness_ws *ws;
    if (rcvbuf_bytes == 0) {
        assert_int_equal(harness_ws_open(srv->port, customer_token, &ws, NULL), SB_OK);
        return ws;
    }
    assert_int_equal(
        harness_ws_connect(srv->port, "/api/ws", customer_token, rcvbuf_bytes, HARNESS_HTTP_TIMEOUT_MS, &ws, NULL),
        SB_OK);
    json_t *hello;
    assert_int_equal(harness_ws_expect_type(ws, "hello", ANSWER_BOUND_MS, &hello), SB_OK);
    json_decref(hello);
    return ws;
}

static const char *type_of(json_t *msg) { return json_string_value(json_object_get(msg, "type")); }

/* Send {"type":"echo","data":data} and require the same data back. */
static void assert_echo(harness_ws *ws, json_t *data) {
    json_t *msg = json_pack("{s:s, s:O}", "type", "echo", "data", data);
    char *text = json_dumps(msg, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(msg);
    assert_non_null(text);
    assert_int_equal(harness_ws_send_text(ws, text), SB_OK);
    free(text);
    json_t *reply;
    assert_int_equal(harness_ws_read_json(ws, ANSWER_BOUND_MS, &reply, NULL), SB_OK);
    if (!type_of(reply) || strcmp(type_of(reply), "echo") != 0 || !json_equal(json_object_get(reply, "data"), data)) {
        char *got = harness_json_text(reply), *want = harness_json_text(data);
        fprintf(stderr, "echo: got %.300s, want data %.300s\n", got, want);
        sb_free(got);
        sb_free(want);
    }
    assert_string_equal(type_of(reply), "echo");
    assert_true(json_equal(json_object_get(reply, "data"), data));
    json_decref(reply);
}

static void assert_error_reply(harness_ws *ws, const char *code) {
    json_t *reply;
    assert_int_equal(harness_ws_read_json(ws, ANSWER_BOUND_MS, &reply, NULL), SB_OK);
    assert_string_equal(type_of(reply), "error");
    assert_string_equal(json_string_value(harness_json_path(reply, "error.code")), code);
    json_decref(reply);
}

/* Read until the server's close frame; return its code (0 if the TCP
 * connection ended without one). */
static int read_until_close(harness_ws *ws, int timeout_ms) {
    int64_t deadline = harness_now_ms() + timeout_ms;
    for (;;) {
        harness_ws_message m;
        int left = (int)(deadline - harness_now_ms());
        assert_true(left > 0);
        int result = harness_ws_read(ws, left, &m);
        if (result == SB_ECLOSED) return 0;
        assert_int_equal(result, SB_OK);
        bool is_close = m.opcode == HARNESS_WS_CLOSE;
        int code = m.close_code;
        harness_ws_message_free(&m);
        if (is_close) return code;
    }
}

/* ---- the upgrade ---- */

static void test_upgrade_needs_token(void **state) {
    (void)state;
    harness_ws *ws;
    harness_response refusal;
    assert_int_equal(harness_ws_connect(srv->port, "/api/ws", NULL, 0, HARNESS_HTTP_TIMEOUT_MS, &ws, &refusal),
                     SB_EPERM);
    HARNESS_ASSERT_ERROR(refusal, 401, "unauthorized");
    harness_response_free(&refusal);

    char bogus[HARNESS_TOKEN_BYTES];
    sb_random_hex(bogus, SB_TOKEN_BYTES);
    assert_int_equal(harness_ws_connect(srv->port, "/api/ws", bogus, 0, HARNESS_HTTP_TIMEOUT_MS, &ws, &refusal),
                     SB_EPERM);
    HARNESS_ASSERT_ERROR(refusal, 401, "unauthorized");
    harness_response_free(&refusal);
    char path[160];
    snprintf(path, sizeof path, "/api/ws?token=%s", bogus);
    assert_int_equal(harness_ws_connect(srv->port, path, NULL, 0, HARNESS_HTTP_TIMEOUT_MS, &ws, &refusal), SB_EPERM);
    HARNESS_ASSERT_ERROR(refusal, 401, "unauthorized");
    harness_response_free(&refusal);

    /* The token in the query string works like the header. */
    snprintf(path, sizeof path, "/api/ws?token=%s", customer_token);
    assert_int_equal(harness_ws_connect(srv->port, path, NULL, 0, HARNESS_HTTP_TIMEOUT_MS, &ws, &refusal), SB_OK);
    json_t *hello;
    assert_int_equal(harness_ws_expect_type(ws, "hello", ANSWER_BOUND_MS, &hello), SB_OK);
    json_decref(hello);
    int code;
    assert_int_equal(harness_ws_close(ws, 1000, ANSWER_BOUND_MS, &code), SB_OK);
    assert_int_equal(code, 1000);
    harness_ws_free(ws);
}

static void test_hello(void **state) {
    (void)state;
    const char *tokens[] = {customer_token, agent_token};
    const char *roles[] = {"customer", "agent"};
    for (size_t i = 0; i < 2; i++) {
        harness_ws *ws;
        assert_int_equal(harness_ws_connect(srv->port, "/api/ws", tokens[i], 0, HARNESS_HTTP_TIMEOUT_MS, &ws, NULL),
                         SB_OK);
        json_t *hello;
        /* The hello is the first message. */
        assert_int_equal(harness_ws_read_json(ws, ANSWER_BOUND_MS, &hello, NULL), SB_OK);
        assert_string_equal(type_of(hello), "hello");
        assert_string_equal(json_string_value(json_object_get(hello, "role")), roles[i]);
        assert_true(json_is_integer(json_object_get(hello, "user_id")));
        if (i == 0) assert_int_equal(json_integer_value(json_object_get(hello, "user_id")), customer_id);
        json_decref(hello);
        harness_response me;
        assert_int_equal(harness_http_get(srv->port, "/api/me", tokens[i], &me), SB_OK);
        HARNESS_ASSERT_STATUS(me, 200);
        harness_response_free(&me);
        harness_ws_free(ws);
    }
}

/* ---- messages ---- */

static void test_ping_pong(void **state) {
    (void)state;
    harness_ws *ws = open_ws(0);
    const char *ids[] = {"7", "\"abc\"", "{\"n\":[1,2]}"};
    for (size_t i = 0; i < SB_ARRAY_LEN(ids); i++) {
        char text[128];
        snprintf(text, sizeof text, "{\"type\":\"ping\",\"id\":%s}", ids[i]);
        assert_int_equal(harness_ws_send_text(ws, text), SB_OK);
        json_t *pong, *want = json_loads(ids[i], JSON_DECODE_ANY, NULL);
        assert_int_equal(harness_ws_read_json(ws, ANSWER_BOUND_MS, &pong, NULL), SB_OK);
        assert_string_equal(type_of(pong), "pong");
        assert_true(json_equal(json_object_get(pong, "id"), want));
        json_decref(pong);
        json_decref(want);
    }
    /* A protocol-level ping frame gets a pong frame with the same payload. */
    assert_int_equal(harness_ws_send_frame(ws, HARNESS_WS_PING, true, "heartbeat", 9), SB_OK);
    harness_ws_message m;
    assert_int_equal(harness_ws_read(ws, ANSWER_BOUND_MS, &m), SB_OK);
    assert_int_equal(m.opcode, HARNESS_WS_PONG);
    assert_int_equal((int)m.len, 9);
    assert_memory_equal(m.data, "heartbeat", 9);
    harness_ws_message_free(&m);
    harness_ws_free(ws);
}

static void test_echo(void **state) {
    (void)state;
    harness_ws *ws = open_ws(0);
    const char *values[] = {"{\"a\":[1,2,{\"b\":null}],\"c\":\"d\"}", "\"سلام دنیا، Привіт\"", "12345",
                            "[true,false,0.5]", "\"\""};
    for (size_t i = 0; i < SB_ARRAY_LEN(values); i++) {
        json_t *data = json_loads(values[i], JSON_DECODE_ANY, NULL);
        assert_non_null(data);
        assert_echo(ws, data);
        json_decref(data);
    }
    /* A large message, still under the cap. */
    size_t big = SB_WS_MESSAGE_BYTES_MAX - 64;
    char *s = malloc(big + 1);
    assert_non_null(s);
    memset(s, 'x', big);
    s[big] = '\0';
    json_t *data = json_string(s);
    free(s);
    assert_echo(ws, data);
    json_decref(data);

    /* Fragmented: three frames, with a protocol ping between two of them. */
    const char *msg = "{\"type\":\"echo\",\"data\":\"in three pieces\"}";
    size_t n = strlen(msg);
    assert_int_equal(harness_ws_send_frame(ws, HARNESS_WS_TEXT, false, msg, 10), SB_OK);
    assert_int_equal(harness_ws_send_frame(ws, HARNESS_WS_CONTINUATION, false, msg + 10, 10), SB_OK);
    assert_int_equal(harness_ws_send_frame(ws, HARNESS_WS_PING, true, "mid", 3), SB_OK);
    assert_int_equal(harness_ws_send_frame(ws, HARNESS_WS_CONTINUATION, true, msg + 20, n - 20), SB_OK);
    bool got_pong = false, got_echo = false;
    for (int i = 0; i < 2; i++) {
        harness_ws_message m;
        assert_int_equal(harness_ws_read(ws, ANSWER_BOUND_MS, &m), SB_OK);
        if (m.opcode == HARNESS_WS_PONG) {
            got_pong = true;
        } else {
            assert_int_equal(m.opcode, HARNESS_WS_TEXT);
            json_t *reply = json_loadb(m.data, m.len, 0, NULL);
            assert_non_null(reply);
            assert_string_equal(type_of(reply), "echo");
            assert_string_equal(json_string_value(json_object_get(reply, "data")), "in three pieces");
            json_decref(reply);
            got_echo = true;
        }
        harness_ws_message_free(&m);
    }
    assert_true(got_pong && got_echo);
    harness_ws_free(ws);
}

static void test_invalid_json_keeps_connection(void **state) {
    (void)state;
    harness_ws *ws = open_ws(0);
    const char *bad[] = {"not json at all", "[1,2,3]", "\"a string\"", "{\"type\":\"echo\",", ""};
    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        assert_int_equal(harness_ws_send_text(ws, bad[i]), SB_OK);
        assert_error_reply(ws, "invalid_json");
    }
    assert_int_equal(harness_ws_send_text(ws, "{\"type\":\"no-such-type\"}"), SB_OK);
    assert_error_reply(ws, "unknown_type");
    json_t *data = json_string("still here");
    assert_echo(ws, data);
    json_decref(data);
    harness_ws_free(ws);
}

static void test_binary_closes_1003(void **state) {
    (void)state;
    harness_ws *ws = open_ws(0);
    assert_int_equal(harness_ws_send_frame(ws, HARNESS_WS_BINARY, true, "\x01\x02\x03", 3), SB_OK);
    assert_int_equal(read_until_close(ws, ANSWER_BOUND_MS), 1003);
    harness_ws_free(ws);
}

static char *echo_of_size(size_t total) {
    const char *head = "{\"type\":\"echo\",\"data\":\"";
    size_t hl = strlen(head);
    char *text = malloc(total + 1);
    assert_non_null(text);
    memcpy(text, head, hl);
    memset(text + hl, 'o', total - hl - 2);
    memcpy(text + total - 2, "\"}", 2);
    text[total] = '\0';
    return text;
}

static void test_oversize_closes_1009(void **state) {
    (void)state;
    /* Exactly the cap is fine. */
    harness_ws *ws = open_ws(0);
    char *text = echo_of_size(SB_WS_MESSAGE_BYTES_MAX);
    assert_int_equal(harness_ws_send_text(ws, text), SB_OK);
    json_t *reply;
    assert_int_equal(harness_ws_expect_type(ws, "echo", ANSWER_BOUND_MS, &reply), SB_OK);
    json_decref(reply);
    free(text);
    /* One byte over, in one frame. */
    text = echo_of_size(SB_WS_MESSAGE_BYTES_MAX + 1);
    assert_int_equal(harness_ws_send_text(ws, text), SB_OK);
    assert_int_equal(read_until_close(ws, ANSWER_BOUND_MS), 1009);
    harness_ws_free(ws);
    /* Over the cap only when the fragments are put together. */
    ws = open_ws(0);
    size_t half = (SB_WS_MESSAGE_BYTES_MAX + 1) / 2;
    assert_int_equal(harness_ws_send_frame(ws, HARNESS_WS_TEXT, false, text, half), SB_OK);
    int result =
        harness_ws_send_frame(ws, HARNESS_WS_CONTINUATION, true, text + half, SB_WS_MESSAGE_BYTES_MAX + 1 - half);
    assert_true(result == SB_OK || result == SB_ECLOSED);
    assert_int_equal(read_until_close(ws, ANSWER_BOUND_MS), 1009);
    harness_ws_free(ws);
    free(text);
}

/* ---- abuse ---- */

static void test_flood_is_rate_limited(void **state) {
    (void)state;
    harness_ws *flood = open_ws(0), *calm = open_ws(0);
    const int burst = 6 * SB_WS_CLIENT_MESSAGES_PER_S_MAX;
    int sent = 0;
    for (int i = 0; i < burst; i++) {
        char text[64];
        snprintf(text, sizeof text, "{\"type\":\"echo\",\"data\":%d}", i);
        if (harness_ws_send_text(flood, text) != SB_OK) break; /* closed on us: fine */
        sent++;
        if (i % 60 == 59) {
            json_t *data = json_integer(i);
            assert_echo(calm, data); /* the calm client is still answered */
            json_decref(data);
        }
    }
    int echoes = 0, limited = 0, close_code = 0;
    for (;;) {
        json_t *msg;
        int result = harness_ws_read_json(flood, 2000, &msg, &close_code);
        if (result != SB_OK) break; /* closed, or quiet for 2 s: the flood is over */
        const char *type = type_of(msg);
        if (type && strcmp(type, "echo") == 0) echoes++;
        const char *code = json_string_value(harness_json_path(msg, "error.code"));
        if (type && strcmp(type, "error") == 0 && code && strcmp(code, "rate_limited") == 0) limited++;
        json_decref(msg);
    }
    fprintf(stderr, "flood: sent %d, echoed %d, rate_limited %d, close code %d\n", sent, echoes, limited, close_code);
    assert_true(limited > 0 || close_code == 1008);
    assert_true(echoes < sent);
    assert_true(echoes <= 2 * SB_WS_CLIENT_MESSAGES_PER_S_MAX + SB_WS_CLIENT_MESSAGES_PER_S_MAX);
    json_t *data = json_string("after the flood");
    assert_echo(calm, data);
    json_decref(data);
    harness_ws_free(flood);
    harness_ws_free(calm);
}

static void test_slow_reader_is_dropped(void **state) {
    (void)state;
    /* The slow reader's socket buffer is tiny, and it never reads again after hello. */
    harness_ws *slow = open_ws(4096), *other = open_ws(0);
    size_t payload = SB_WS_MESSAGE_BYTES_MAX - 1024;
    char *text = echo_of_size(payload);
    /* Stay under the message rate limit: at most ~40 a second. */
    const int interval_ms = 1000 / (SB_WS_CLIENT_MESSAGES_PER_S_MAX * 4 / 5);
    int64_t deadline = harness_now_ms() + 30000;
    int sent = 0;
    bool gone = false;
    while (!gone && harness_now_ms() < deadline) {
        int result = harness_ws_send_text(slow, text);
        if (result != SB_OK) {
            gone = true;
            break;
        }
        sent++;
        if (harness_ws_peer_gone(slow)) gone = true;
        if (sent % 20 == 0) {
            json_t *data = json_integer(sent);
            assert_echo(other, data);
            json_decref(data);
        }
        harness_sleep_ms(interval_ms);
    }
    size_t queue_bytes = (size_t)sent * payload;
    fprintf(stderr, "slow reader: %s after %d messages (%zu bytes of echoes owed)\n", gone ? "dropped" : "NOT dropped",
            sent, queue_bytes);
    assert_true(gone);
    free(text);
    json_t *data = json_string("unaffected");
    assert_echo(other, data);
    json_decref(data);
    harness_ws_free(slow);
    harness_ws_free(other);
    harness_response r;
    assert_int_equal(harness_http_get(srv->port, "/healthz", NULL, &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);
}

static double ws_gauge(void) {
    harness_response r;
    assert_int_equal(harness_http_get(srv->port, "/metrics", NULL, &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 200);
    bool found;
    double v = harness_metrics_sum(r.body, "sb_websocket_connections", NULL, &found);
    assert_true(found);
    harness_response_free(&r);
    return v;
}

/* Wait (bounded) for the gauge to reach want; return the last value seen. */
static double wait_gauge(double want) {
    int64_t deadline = harness_now_ms() + ANSWER_BOUND_MS;
    double v = ws_gauge();
    while (v != want && harness_now_ms() < deadline) {
        harness_sleep_ms(50);
        v = ws_gauge();
    }
    return v;
}

static void test_connections_gauge(void **state) {
    (void)state;
    double base = wait_gauge(0);
    assert_true(base == 0); /* every earlier connection has been closed */
    harness_ws *a = open_ws(0), *b = open_ws(0);
    assert_true(wait_gauge(2) == 2);
    int code;
    assert_int_equal(harness_ws_close(a, 1000, ANSWER_BOUND_MS, &code), SB_OK);
    harness_ws_free(a);
    assert_true(wait_gauge(1) == 1);
    harness_ws_free(b); /* just dropped, no close frame */
    assert_true(wait_gauge(0) == 0);
}

static void test_still_healthy(void **state) {
    (void)state;
    harness_response r;
    assert_int_equal(harness_http_get(srv->port, "/healthz", NULL, &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);
    harness_ws *ws = open_ws(0);
    json_t *data = json_string("healthy");
    assert_echo(ws, data);
    json_decref(data);
    harness_ws_free(ws);
}

/* ---- shutdown (its own server) ---- */

static void test_sigterm_closes_1001(void **state) {
    (void)state;
    harness_server *s;
    assert_int_equal(harness_server_up(NULL, &s), SB_OK);
    char token[HARNESS_TOKEN_BYTES];
    assert_int_equal(harness_customer_login(s, "09121230002", token, NULL), SB_OK);
    harness_ws *ws;
    assert_int_equal(harness_ws_connect(s->port, "/api/ws", token, 0, HARNESS_HTTP_TIMEOUT_MS, &ws, NULL), SB_OK);
    json_t *hello;
    assert_int_equal(harness_ws_expect_type(ws, "hello", ANSWER_BOUND_MS, &hello), SB_OK);
    json_decref(hello);
    assert_int_equal(harness_server_signal(s, SIGTERM), SB_OK);
    int code = -1;
    int64_t deadline = harness_now_ms() + SB_SHUTDOWN_GRACE_MS + ANSWER_BOUND_MS;
    for (;;) {
        json_t *msg;
        int left = (int)(deadline - harness_now_ms());
        assert_true(left > 0);
        int result = harness_ws_read_json(ws, left, &msg, &code);
        if (result != SB_OK) break;
        json_decref(msg);
    }
    assert_int_equal(code, 1001);
    harness_ws_free(ws);
    int exit_status;
    assert_int_equal(harness_server_wait(s, HARNESS_STOP_TIMEOUT_MS, &exit_status), SB_OK);
    assert_int_equal(exit_status, 0);
    harness_server_free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upgrade_needs_token),
        cmocka_unit_test(test_hello),
        cmocka_unit_test(test_ping_pong),
        cmocka_unit_test(test_echo),
        cmocka_unit_test(test_invalid_json_keeps_connection),
        cmocka_unit_test(test_binary_closes_1003),
        cmocka_unit_test(test_oversize_closes_1009),
        cmocka_unit_test(test_flood_is_rate_limited),
        cmocka_unit_test(test_slow_reader_is_dropped),
        cmocka_unit_test(test_connections_gauge),
        cmocka_unit_test(test_still_healthy),
        cmocka_unit_test(test_sigterm_closes_1001),
    };
    return cmocka_run_group_tests_name("ws", tests, group_setup, group_teardown);
}
