/*
 * test_two_servers.c - two SocialBank servers in one process share nothing.
 *
 * Each server is built the way `serve` builds one (sb_app_init: ledger,
 * payments, listening, @bankbot, the channel feed; api_server_new with its
 * push sink) over its own data directory, on its own port.  Both stores get
 * the same users in the same order, so the same user ids exist on both
 * sides: a process-wide WebSocket registry, push queue, ledger or hook
 * would show up as a message or a balance crossing over.  Checked:
 *   - a message sent on A reaches bob's WebSocket on A and not bob's (same
 *     id) on B, whose next frame is B's own message;
 *   - a deposit on A changes alice's wallet on A only; each ledger verifies;
 *   - each server's /healthz and routes answer on its own port, /metrics
 *     lists the context's workers, and both stop cleanly (the contexts after
 *     the loops).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/api.h"
#include "app/app.h"
#include "harness.h"
#include "identity/identity.h"
#include "messenger/messenger.h"

#define WS_WAIT_MS 20000

typedef struct {
    char dir[64];
    sb_app app;
    api_server *server;
    int port;
    int64_t alice, bob, chat;
    char alice_token[IDENTITY_TOKEN_CHARS + 1], bob_token[IDENTITY_TOKEN_CHARS + 1];
    char admin_token[IDENTITY_TOKEN_CHARS + 1];
} side;

static int64_t customer(store *s, const char *phone) {
    char code[SB_OTP_DIGITS + 1];
    int64_t id = 0;
    bool created = false;
    assert_int_equal(identity_otp_request(s, phone, NULL, sb_now_ms(), code), SB_OK);
    assert_int_equal(identity_otp_verify(s, phone, code, sb_now_ms(), &id, &created), SB_OK);
    /* Findable, so that the other may open a chat with them by id. */
    assert_int_equal(messenger_discoverable_set(s, id, true), SB_OK);
    return id;
}

/* The same users, in the same order, in a fresh store; then the server. */
static void side_up(side *x) {
    snprintf(x->dir, sizeof x->dir, "/tmp/sb-two-servers-XXXXXX");
    assert_non_null(mkdtemp(x->dir));
    store *s;
    assert_int_equal(store_open(x->dir, NULL, &s), SB_OK);
    assert_int_equal(store_migrate(s, NULL), SB_OK);
    x->alice = customer(s, "+989121111111");
    x->bob = customer(s, "+989122222222");
    int64_t admin;
    assert_int_equal(identity_staff_create(s, "root", "correct horse battery", IDENTITY_ROLE_ADMIN, &admin), SB_OK);
    assert_int_equal(identity_session_create(s, x->alice, sb_now_ms(), x->alice_token), SB_OK);
    assert_int_equal(identity_session_create(s, x->bob, sb_now_ms(), x->bob_token), SB_OK);
    assert_int_equal(identity_session_create(s, admin, sb_now_ms(), x->admin_token), SB_OK);
    assert_int_equal(messenger_direct_open(s, x->alice, x->bob, sb_now_ms(), &x->chat, NULL), SB_OK);
    store_close(s);

    api_server_config cfg = {.bind_addr = "127.0.0.1", .port = 0, .data_location = x->dir, .threads = 2};
    assert_int_equal(api_server_new(&x->app, &cfg, &x->server), SB_OK);
    sb_app_options options = {.data_location = x->dir, .card_switch = "none", .maintenance = true};
    assert_int_equal(sb_app_init(&x->app, &options, api_server_push_sink(x->server)), SB_OK);
    assert_int_equal(api_server_start(x->server), SB_OK);
    x->port = api_server_port(x->server);
    assert_true(x->port > 0);
}

static void side_down(side *x) {
    api_server_stop(x->server);
    sb_app_close(&x->app);
    api_server_free(x->server);
    const char *files[] = {"socialbank.db", "socialbank.db-wal", "socialbank.db-shm"};
    for (size_t i = 0; i < SB_ARRAY_LEN(files); i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s", x->dir, files[i]);
        unlink(path);
    }
    rmdir(x->dir);
}

static void send_text(const side *x, const char *text) {
    char path[96], body[160];
    snprintf(path, sizeof path, "/api/chats/%lld/messages", (long long)x->chat);
    snprintf(body, sizeof body, "{\"text\":\"%s\"}", text);
    harness_response r;
    assert_int_equal(harness_http_json(x->port, "POST", path, x->alice_token, body, &r), SB_OK);
    assert_int_equal(r.status, 201);
    harness_response_free(&r);
}

static int64_t wallet(const side *x, const char *token) {
    harness_response r;
    assert_int_equal(harness_http_get(x->port, "/api/wallet", token, &r), SB_OK);
    assert_int_equal(r.status, 200);
    int64_t available = (int64_t)harness_json_int(r.json, "available_minor");
    harness_response_free(&r);
    return available;
}

static void test_two_servers_share_nothing(void **state) {
    (void)state;
    assert_int_equal(sb_crypto_init(), SB_OK);
    side a = {0}, b = {0};
    side_up(&a);
    side_up(&b);
    assert_int_not_equal(a.port, b.port);
    /* the same ids on both sides: only separate wiring keeps them apart */
    assert_int_equal(a.alice, b.alice);
    assert_int_equal(a.bob, b.bob);

    /* Bob on both servers. */
    harness_ws *bob_a = NULL, *bob_b = NULL;
    assert_int_equal(harness_ws_open(a.port, a.bob_token, &bob_a, NULL), SB_OK);
    assert_int_equal(harness_ws_open(b.port, b.bob_token, &bob_b, NULL), SB_OK);

    /* A message on A reaches bob on A ... */
    send_text(&a, "only on A");
    json_t *ev = NULL;
    assert_int_equal(harness_ws_expect_type(bob_a, "message.new", WS_WAIT_MS, &ev), SB_OK);
    assert_string_equal(harness_json_str(ev, "message.text"), "only on A");
    json_decref(ev);
    /* ... and not bob on B: his next message.new is B's own. */
    send_text(&b, "only on B");
    assert_int_equal(harness_ws_expect_type(bob_b, "message.new", WS_WAIT_MS, &ev), SB_OK);
    assert_string_equal(harness_json_str(ev, "message.text"), "only on B");
    json_decref(ev);
    /* and A's bob did not get B's either */
    send_text(&a, "second on A");
    assert_int_equal(harness_ws_expect_type(bob_a, "message.new", WS_WAIT_MS, &ev), SB_OK);
    assert_string_equal(harness_json_str(ev, "message.text"), "second on A");
    json_decref(ev);

    /* Each ledger is its own. */
    char body[160];
    snprintf(body, sizeof body, "{\"user_id\":%lld,\"amount_minor\":5000,\"idempotency_key\":\"dep-1\"}",
             (long long)a.alice);
    harness_response r;
    assert_int_equal(harness_http_json(a.port, "POST", "/api/admin/deposits", a.admin_token, body, &r), SB_OK);
    assert_int_equal(r.status, 201);
    harness_response_free(&r);
    assert_int_equal(wallet(&a, a.alice_token), 5000);
    assert_int_equal(wallet(&b, b.alice_token), 0);
    /* A session of one server means nothing on the other (separate stores). */
    assert_int_equal(
        harness_http_get(b.port, "/api/wallet", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", &r),
        SB_OK);
    assert_int_equal(r.status, 401);
    harness_response_free(&r);
    side *both[] = {&a, &b};
    for (size_t i = 0; i < 2; i++) {
        json_t *verified = harness_ledger_verify(both[i]->port, both[i]->admin_token);
        assert_true(json_is_true(json_object_get(verified, "ok")));
        json_decref(verified);
    }

    /* /metrics shows each of the context's workers */
    assert_int_equal(harness_http_get(a.port, "/metrics", NULL, &r), SB_OK);
    assert_int_equal(r.status, 200);
    const char *workers[] = {"otp_sender", "listening_alerts", "listening_feed", "bankbot_delivery", "maintenance"};
    for (size_t i = 0; i < SB_ARRAY_LEN(workers); i++) {
        char line[128];
        snprintf(line, sizeof line, "sb_worker_queue_depth{worker=\"%s\"}", workers[i]);
        print_message("%s\n", line);
        assert_non_null(strstr(r.body, line));
    }
    assert_non_null(strstr(r.body, "sb_worker_jobs_total{worker=\"otp_sender\",result=\"queued\"} 0\n"));
    harness_response_free(&r);

    harness_ws_free(bob_a);
    harness_ws_free(bob_b);
    /* Stopping A leaves B serving. */
    side_down(&a);
    assert_int_equal(harness_http_get(b.port, "/healthz", NULL, &r), SB_OK);
    assert_int_equal(r.status, 200);
    harness_response_free(&r);
    send_text(&b, "B after A stopped");
    side_down(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_two_servers_share_nothing)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
