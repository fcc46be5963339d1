/*
 * test_chatpay.c - payments inside chats over real HTTP and WebSocket
 * connections (docs/API.md, "Payments in chats"): two users send, request,
 * decline and pay in their 1:1 chat with every status arriving over the
 * WebSocket; a group of four splits a restaurant bill, every member pays its
 * share from the chat, every member sees each share turn paid live, the
 * message ends paid, the balances are exactly right and the admin's ledger
 * check passes; retries with the same key move nothing; a non-member and a
 * forged member id are refused; a bill with a bad check digit moves
 * nothing; a request with a short expiry turns expired (the server's
 * maintenance pass, every SB_SERVE_MAINTENANCE_INTERVAL_MS); muted notices
 * arrive silent.
 *
 * Money comes from the admin's deposit route.  Waits are bounds, not speed
 * claims: an event must arrive within PUSH_BOUND_MS (the expiry within one
 * maintenance interval and a margin).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "integration/harness.h"

#define PUSH_BOUND_MS 5000
#define EXPIRY_BOUND_MS (SB_SERVE_MAINTENANCE_INTERVAL_MS * 2 + 5000)

static harness_server *srv;
static char admin[HARNESS_TOKEN_BYTES];
static int phones;

typedef harness_customer user;

HARNESS_GROUP_FIXTURES(srv, admin)

static user login(void) {
    return harness_customer_next(srv, "0912444", &phones);
}

static int64_t wallet(const user *u) {
    harness_response r = harness_callf(srv, "GET", "/api/wallet", u->token, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    int64_t b = harness_json_int(r.json, "available_minor");
    harness_response_free(&r);
    return b;
}

static void deposit(const user *u, int64_t amount, const char *key) {
    harness_response r = harness_callf(srv, "POST", "/api/admin/deposits", admin,
                              "{\"user_id\":%lld,\"amount_minor\":%lld,\"idempotency_key\":\"%s\"}", (long long)u->id,
                              (long long)amount, key);
    HARNESS_ASSERT_STATUS(r, 201);
    harness_response_free(&r);
}

static json_int_t receipts_count(const user *u) {
    harness_response r = harness_callf(srv, "GET", "/api/receipts", u->token, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    json_int_t n = (json_int_t)json_array_size(json_object_get(r.json, "receipts"));
    harness_response_free(&r);
    return n;
}

static json_int_t direct(const user *a, const user *b) {
    harness_response r = harness_callf(srv, "POST", "/api/chats/direct", a->token, "{\"user_id\":%lld}", (long long)b->id);
    assert_true(r.status == 200 || r.status == 201);
    json_int_t id = harness_json_int(r.json, "id");
    harness_response_free(&r);
    return id;
}

static harness_ws *ws_of(const user *u) {
    harness_ws *ws;
    assert_int_equal(harness_ws_open(srv->port, u->token, &ws, NULL), SB_OK);
    return ws;
}

/* The next event of this type about chat (and seq, when not 0); events of
 * other chats (the bank's notices) and other types are skipped. */
static json_t *wait_event(harness_ws *ws, const char *type, json_int_t chat, json_int_t seq, int bound_ms) {
    int64_t until = harness_now_ms() + bound_ms;
    for (;;) {
        int left = (int)(until - harness_now_ms());
        assert_true(left > 0);
        json_t *ev = NULL;
        int result = harness_ws_expect_type(ws, type, left, &ev);
        if (result != SB_OK) fprintf(stderr, "no %s event for chat %lld seq %lld\n", type, (long long)chat, (long long)seq);
        assert_int_equal(result, SB_OK);
        if (harness_json_int(ev, "chat_id") == chat && (!seq || harness_json_int(ev, "seq") == seq)) return ev;
        json_decref(ev);
    }
}

/* A payment status event for chat/seq carrying this status. */
static json_t *wait_status(harness_ws *ws, json_int_t chat, json_int_t seq, const char *status, int bound_ms) {
    json_t *ev = wait_event(ws, "payment.status", chat, seq, bound_ms);
    if (strcmp(harness_json_str(ev, "message.status"), status) != 0) {
        char *t = harness_json_text(ev);
        fprintf(stderr, "want status %s: %s\n", status, t);
        sb_free(t);
        fail();
    }
    return ev;
}

/* The status of share i in a message's payload. */
static const char *share_status(json_t *message_holder, const char *prefix, json_int_t user_id) {
    char path[96];
    snprintf(path, sizeof path, "%s.payload.shares", prefix);
    json_t *shares = harness_json_path(message_holder, path);
    size_t i;
    json_t *s;
    json_array_foreach(shares, i, s) {
        if (json_integer_value(json_object_get(s, "user_id")) == user_id)
            return json_string_value(json_object_get(s, "status"));
    }
    return "";
}

/* ---- two users in a 1:1 chat ---- */

static void test_direct_send_request_decline(void **state) {
    (void)state;
    user a = login(), b = login();
    deposit(&a, 500000, "dep-a1");
    deposit(&b, 500000, "dep-b1");
    json_int_t chat = direct(&a, &b);
    harness_ws *wa = ws_of(&a), *wb = ws_of(&b);
    char path[128];

    /* A sends 100,000 to B: paid at once, pushed to both, B gets a notice. */
    snprintf(path, sizeof path, "/api/chats/%lld/payments/send", (long long)chat);
    harness_response r = harness_callf(srv, "POST", path, a.token,
                              "{\"to_user_id\":%lld,\"amount_minor\":100000,\"note\":\"rent\",\"idempotency_key\":"
                              "\"k-send-1\"}",
                              (long long)b.id);
    HARNESS_ASSERT_STATUS(r, 201);
    json_int_t seq = harness_json_int(r.json, "message.seq");
    assert_string_equal(harness_json_str(r.json, "message.kind"), "payment");
    assert_string_equal(harness_json_str(r.json, "message.status"), "paid");
    assert_string_equal(harness_json_str(r.json, "message.payload.kind"), "send");
    assert_int_equal(harness_json_int(r.json, "receipt.amount_minor"), 100000);
    harness_response_free(&r);
    json_t *ev = wait_event(wb, "message.new", chat, seq, PUSH_BOUND_MS);
    assert_string_equal(harness_json_str(ev, "message.status"), "paid");
    assert_int_equal(harness_json_int(ev, "message.payload.amount_minor"), 100000);
    json_decref(ev);
    json_decref(wait_event(wa, "message.new", chat, seq, PUSH_BOUND_MS));
    /* The receipt notice from the bank's official account. */
    ev = NULL;
    assert_int_equal(harness_ws_expect_type(wb, "message.new", PUSH_BOUND_MS, &ev), SB_OK);
    assert_string_equal(harness_json_str(ev, "message.kind"), "notice");
    assert_true(json_is_null(harness_json_path(ev, "message.sender_id")));
    assert_non_null(strstr(harness_json_str(ev, "message.text"), "100,000 IRR"));
    json_decref(ev);
    /* Retried with the same key: 200, the same message, nothing moves. */
    r = harness_callf(srv, "POST", path, a.token,
             "{\"to_user_id\":%lld,\"amount_minor\":100000,\"note\":\"rent\",\"idempotency_key\":\"k-send-1\"}",
             (long long)b.id);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_true(json_is_true(json_object_get(r.json, "replayed")));
    assert_int_equal(harness_json_int(r.json, "message.seq"), seq);
    harness_response_free(&r);
    /* The same key for another amount: refused. */
    r = harness_callf(srv, "POST", path, a.token,
             "{\"to_user_id\":%lld,\"amount_minor\":99,\"note\":\"rent\",\"idempotency_key\":\"k-send-1\"}",
             (long long)b.id);
    HARNESS_ASSERT_ERROR(r, 409, "idempotency_conflict");
    harness_response_free(&r);
    /* More than the wallet holds: the ledger's refusal, nothing posted. */
    r = harness_callf(srv, "POST", path, a.token, "{\"to_user_id\":%lld,\"amount_minor\":900000,\"idempotency_key\":\"k-send-2\"}",
             (long long)b.id);
    HARNESS_ASSERT_ERROR(r, 409, "exceeds_credits");
    harness_response_free(&r);
    assert_int_equal(wallet(&a), 400000);
    assert_int_equal(wallet(&b), 600000);

    /* A asks B for 30,000; B declines: both see it live. */
    snprintf(path, sizeof path, "/api/chats/%lld/payments/request", (long long)chat);
    r = harness_callf(srv, "POST", path, a.token,
             "{\"from_user_id\":%lld,\"amount_minor\":30000,\"note\":\"taxi\",\"idempotency_key\":\"k-req-1\"}",
             (long long)b.id);
    HARNESS_ASSERT_STATUS(r, 201);
    json_int_t req1 = harness_json_int(r.json, "message.seq");
    assert_string_equal(harness_json_str(r.json, "message.status"), "pending");
    assert_string_equal(share_status(r.json, "message", b.id), "pending");
    harness_response_free(&r);
    ev = wait_event(wb, "message.new", chat, req1, PUSH_BOUND_MS);
    assert_string_equal(harness_json_str(ev, "message.status"), "pending");
    json_decref(ev);
    snprintf(path, sizeof path, "/api/chats/%lld/payments/%lld/decline", (long long)chat, (long long)req1);
    r = harness_callf(srv, "POST", path, b.token, "{}");
    HARNESS_ASSERT_STATUS(r, 200);
    assert_string_equal(harness_json_str(r.json, "message.status"), "declined");
    harness_response_free(&r);
    json_decref(wait_status(wa, chat, req1, "declined", PUSH_BOUND_MS));
    json_decref(wait_status(wb, chat, req1, "declined", PUSH_BOUND_MS));
    /* Paying a declined request: refused with the verdict. */
    snprintf(path, sizeof path, "/api/chats/%lld/payments/%lld/pay", (long long)chat, (long long)req1);
    r = harness_callf(srv, "POST", path, b.token, "{\"idempotency_key\":\"k-pay-0\"}");
    HARNESS_ASSERT_ERROR(r, 409, "already_declined");
    harness_response_free(&r);

    /* A asks for 40,000 again; B pays from the chat; a retry moves nothing. */
    snprintf(path, sizeof path, "/api/chats/%lld/payments/request", (long long)chat);
    r = harness_callf(srv, "POST", path, a.token, "{\"from_user_id\":%lld,\"amount_minor\":40000,\"idempotency_key\":\"k-req-2\"}",
             (long long)b.id);
    HARNESS_ASSERT_STATUS(r, 201);
    json_int_t req2 = harness_json_int(r.json, "message.seq");
    harness_response_free(&r);
    snprintf(path, sizeof path, "/api/chats/%lld/payments/%lld/pay", (long long)chat, (long long)req2);
    r = harness_callf(srv, "POST", path, b.token, "{\"idempotency_key\":\"k-pay-1\"}");
    HARNESS_ASSERT_STATUS(r, 200);
    assert_string_equal(harness_json_str(r.json, "message.status"), "paid");
    assert_false(json_is_true(json_object_get(r.json, "replayed")));
    harness_response_free(&r);
    json_decref(wait_status(wa, chat, req2, "paid", PUSH_BOUND_MS));
    json_decref(wait_status(wb, chat, req2, "paid", PUSH_BOUND_MS));
    r = harness_callf(srv, "POST", path, b.token, "{\"idempotency_key\":\"k-pay-1\"}");
    HARNESS_ASSERT_STATUS(r, 200);
    assert_true(json_is_true(json_object_get(r.json, "replayed")));
    harness_response_free(&r);
    /* The requester cannot pay its own request. */
    r = harness_callf(srv, "POST", path, a.token, "{\"idempotency_key\":\"k-pay-2\"}");
    HARNESS_ASSERT_ERROR(r, 403, "not_the_payer");
    harness_response_free(&r);
    assert_int_equal(wallet(&a), 440000);
    assert_int_equal(wallet(&b), 560000);
    /* The history shows the three payment messages in order. */
    snprintf(path, sizeof path, "/api/chats/%lld/messages?after=0", (long long)chat);
    r = harness_callf(srv, "GET", path, b.token, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "messages")), 3);
    assert_string_equal(harness_json_str(r.json, "messages.1.status"), "declined");
    assert_string_equal(harness_json_str(r.json, "messages.2.status"), "paid");
    harness_response_free(&r);
    harness_ws_free(wa);
    harness_ws_free(wb);
}

/* ---- a group of four splits a restaurant bill ---- */

static void test_group_split_end_to_end(void **state) {
    (void)state;
    user u[4] = {login(), login(), login(), login()};
    user stranger = login();
    for (int i = 1; i < 4; i++) {
        char key[32];
        snprintf(key, sizeof key, "dep-g%d", i);
        deposit(&u[i], 1000000, key);
    }
    harness_response r = harness_callf(srv, "POST", "/api/groups", u[0].token, "{\"title\":\"Friday dinner\"}");
    HARNESS_ASSERT_STATUS(r, 201);
    json_int_t group = harness_json_int(r.json, "id");
    harness_response_free(&r);
    char path[160];
    snprintf(path, sizeof path, "/api/groups/%lld/members", (long long)group);
    for (int i = 1; i < 4; i++) {
        r = harness_callf(srv, "POST", path, u[0].token, "{\"user_id\":%lld}", (long long)u[i].id);
        HARNESS_ASSERT_STATUS(r, 204);
        harness_response_free(&r);
    }
    harness_ws *ws[4];
    for (int i = 0; i < 4; i++)
        ws[i] = ws_of(&u[i]);

    /* A forged member id (the stranger is not in the group): refused. */
    snprintf(path, sizeof path, "/api/chats/%lld/payments/split", (long long)group);
    r = harness_callf(srv, "POST", path, u[0].token,
             "{\"members\":[%lld,%lld],\"subtotal_minor\":1000,\"idempotency_key\":\"k-split-0\"}",
             (long long)u[0].id, (long long)stranger.id);
    HARNESS_ASSERT_ERROR(r, 403, "not_a_member");
    harness_response_free(&r);
    /* More members than a chat split lists: 413 before anything is checked. */
    char many[1024];
    size_t used = 0;
    for (int i = 0; i < SB_CHATPAY_SPLIT_MEMBERS_MAX + 1; i++)
        used += (size_t)snprintf(many + used, sizeof many - used, "%s%d", i ? "," : "", 1000 + i);
    r = harness_callf(srv, "POST", path, u[0].token, "{\"members\":[%s],\"subtotal_minor\":1000,\"idempotency_key\":\"k-split-9\"}",
             many);
    HARNESS_ASSERT_ERROR(r, 413, "too_large");
    harness_response_free(&r);

    /* The bill: 1,000,003 rials split equally among the four.  The
     * remainder rule (largest remainder, ties to the lower index): 250,000
     * each and the three rials left go one each to the first three members,
     * so 250,001 / 250,001 / 250,001 / 250,000.  u[0] paid the restaurant, so
     * its own share counts as paid; the other three owe theirs to u[0]. */
    r = harness_callf(srv, "POST", path, u[0].token,
             "{\"members\":[%lld,%lld,%lld,%lld],\"subtotal_minor\":1000003,\"mode\":\"equal\",\"title\":"
             "\"Restaurant\",\"idempotency_key\":\"k-split-1\"}",
             (long long)u[0].id, (long long)u[1].id, (long long)u[2].id, (long long)u[3].id);
    HARNESS_ASSERT_STATUS(r, 201);
    json_int_t seq = harness_json_int(r.json, "message.seq");
    assert_string_equal(harness_json_str(r.json, "message.status"), "pending");
    assert_int_equal(harness_json_int(r.json, "message.payload.amount_minor"), 1000003);
    static const json_int_t want_share[4] = {250001, 250001, 250001, 250000};
    for (int i = 0; i < 4; i++) {
        char p[64];
        snprintf(p, sizeof p, "message.payload.shares.%d.amount_minor", i);
        assert_int_equal(harness_json_int(r.json, p), want_share[i]);
        snprintf(p, sizeof p, "message.payload.shares.%d.user_id", i);
        assert_int_equal(harness_json_int(r.json, p), u[i].id);
    }
    assert_string_equal(share_status(r.json, "message", u[0].id), "paid");
    harness_response_free(&r);
    /* A retry of the split: the same message, no second split. */
    r = harness_callf(srv, "POST", path, u[0].token,
             "{\"members\":[%lld,%lld,%lld,%lld],\"subtotal_minor\":1000003,\"mode\":\"equal\",\"title\":"
             "\"Restaurant\",\"idempotency_key\":\"k-split-1\"}",
             (long long)u[0].id, (long long)u[1].id, (long long)u[2].id, (long long)u[3].id);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_int_equal(harness_json_int(r.json, "message.seq"), seq);
    harness_response_free(&r);
    for (int i = 0; i < 4; i++)
        json_decref(wait_event(ws[i], "message.new", group, seq, PUSH_BOUND_MS));

    /* Every member pays its share from the chat; all four see each share
     * turn paid live; the message is paid once the last one is. */
    for (int k = 1; k < 4; k++) {
        snprintf(path, sizeof path, "/api/chats/%lld/payments/%lld/pay", (long long)group, (long long)seq);
        char key[32];
        snprintf(key, sizeof key, "k-share-%d", k);
        r = harness_callf(srv, "POST", path, u[k].token, "{\"idempotency_key\":\"%s\"}", key);
        HARNESS_ASSERT_STATUS(r, 200);
        assert_int_equal(harness_json_int(r.json, "receipt.amount_minor"), want_share[k]);
        harness_response_free(&r);
        const char *status = k < 3 ? "pending" : "paid";
        for (int i = 0; i < 4; i++) {
            json_t *ev = wait_status(ws[i], group, seq, status, PUSH_BOUND_MS);
            for (int j = 1; j < 4; j++)
                assert_string_equal(share_status(ev, "message", u[j].id), j <= k ? "paid" : "pending");
            json_decref(ev);
        }
        /* A retried payment with the same key moves nothing. */
        r = harness_callf(srv, "POST", path, u[k].token, "{\"idempotency_key\":\"%s\"}", key);
        HARNESS_ASSERT_STATUS(r, 200);
        assert_true(json_is_true(json_object_get(r.json, "replayed")));
        harness_response_free(&r);
    }
    snprintf(path, sizeof path, "/api/chats/%lld/payments/%lld", (long long)group, (long long)seq);
    r = harness_callf(srv, "GET", path, u[2].token, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_string_equal(harness_json_str(r.json, "message.status"), "paid");
    harness_response_free(&r);
    /* Not a member: the chat does not exist for them. */
    r = harness_callf(srv, "GET", path, stranger.token, NULL);
    HARNESS_ASSERT_ERROR(r, 404, "not_found");
    harness_response_free(&r);
    snprintf(path, sizeof path, "/api/chats/%lld/payments/%lld/pay", (long long)group, (long long)seq);
    r = harness_callf(srv, "POST", path, stranger.token, "{\"idempotency_key\":\"k-x\"}");
    HARNESS_ASSERT_ERROR(r, 404, "not_found");
    harness_response_free(&r);

    /* Exactly the shares moved, and the ledger proves every rial. */
    assert_int_equal(wallet(&u[0]), 250001 + 250001 + 250000);
    assert_int_equal(wallet(&u[1]), 1000000 - 250001);
    assert_int_equal(wallet(&u[2]), 1000000 - 250001);
    assert_int_equal(wallet(&u[3]), 1000000 - 250000);
    json_t *verified = harness_ledger_verify(srv->port, admin);
    assert_true(json_is_true(json_object_get(verified, "ok")));
    json_decref(verified);
    for (int i = 0; i < 4; i++)
        harness_ws_free(ws[i]);
}

/* ---- refusals before money moves ---- */

static void test_refusals(void **state) {
    (void)state;
    user a = login(), b = login(), c = login();
    deposit(&a, 100000, "dep-r1");
    json_int_t chat = direct(&a, &b);
    json_int_t receipts = receipts_count(&a);
    char path[128];
    /* A forged member id: c is not in the a-b chat. */
    snprintf(path, sizeof path, "/api/chats/%lld/payments/send", (long long)chat);
    harness_response r = harness_callf(srv, "POST", path, a.token,
                              "{\"to_user_id\":%lld,\"amount_minor\":1000,\"idempotency_key\":\"k-f1\"}",
                              (long long)c.id);
    HARNESS_ASSERT_ERROR(r, 403, "not_a_member");
    harness_response_free(&r);
    /* A non-member sending in someone else's chat: no such chat. */
    r = harness_callf(srv, "POST", path, c.token, "{\"to_user_id\":%lld,\"amount_minor\":1000,\"idempotency_key\":\"k-f2\"}",
             (long long)b.id);
    HARNESS_ASSERT_ERROR(r, 404, "not_found");
    harness_response_free(&r);
    /* A bill with a bad check digit: 400 with the reason, nothing moves. */
    snprintf(path, sizeof path, "/api/chats/%lld/payments/bill", (long long)chat);
    r = harness_callf(srv, "POST", path, a.token,
             "{\"bill_id\":\"2050327604614\",\"payment_id\":\"1070189\",\"idempotency_key\":\"k-bill-0\"}");
    HARNESS_ASSERT_ERROR(r, 400, "invalid");
    assert_non_null(strstr(harness_error_message(&r), "bad_bill_id_check"));
    harness_response_free(&r);
    assert_int_equal(wallet(&a), 100000);
    assert_int_equal(receipts_count(&a), receipts);
    /* A good bill: the receipt is shared in the chat (10,000 rials, water). */
    r = harness_callf(srv, "POST", path, a.token,
             "{\"bill_id\":\"2050327604613\",\"payment_id\":\"1070189\",\"idempotency_key\":\"k-bill-1\"}");
    HARNESS_ASSERT_STATUS(r, 201);
    assert_string_equal(harness_json_str(r.json, "message.payload.kind"), "bill");
    assert_string_equal(harness_json_str(r.json, "message.payload.counterparty"), "water bill");
    assert_string_equal(harness_json_str(r.json, "message.status"), "paid");
    harness_response_free(&r);
    assert_int_equal(wallet(&a), 90000);
    /* Unknown chats and bad ids: 404. */
    r = harness_callf(srv, "POST", "/api/chats/999999/payments/send", a.token,
             "{\"to_user_id\":%lld,\"amount_minor\":1,\"idempotency_key\":\"k-f3\"}", (long long)b.id);
    HARNESS_ASSERT_ERROR(r, 404, "not_found");
    harness_response_free(&r);
    snprintf(path, sizeof path, "/api/chats/%lld/payments/77", (long long)chat);
    r = harness_callf(srv, "GET", path, a.token, NULL);
    HARNESS_ASSERT_ERROR(r, 404, "not_found");
    harness_response_free(&r);
    /* Bad input: no key, a zero amount. */
    snprintf(path, sizeof path, "/api/chats/%lld/payments/send", (long long)chat);
    r = harness_callf(srv, "POST", path, a.token, "{\"to_user_id\":%lld,\"amount_minor\":10}", (long long)b.id);
    HARNESS_ASSERT_ERROR(r, 400, "invalid");
    harness_response_free(&r);
    r = harness_callf(srv, "POST", path, a.token, "{\"to_user_id\":%lld,\"amount_minor\":0,\"idempotency_key\":\"k\"}",
             (long long)b.id);
    HARNESS_ASSERT_ERROR(r, 400, "invalid");
    harness_response_free(&r);
    assert_int_equal(wallet(&a), 90000);
}

/* ---- notices muted, and a request that expires ---- */

static void test_mute_and_expiry(void **state) {
    (void)state;
    user a = login(), b = login();
    deposit(&a, 100000, "dep-e1");
    json_int_t chat = direct(&a, &b);
    harness_ws *wb = ws_of(&b);
    harness_response r = harness_callf(srv, "PUT", "/api/me/notifications", b.token, "{\"muted\":true}");
    HARNESS_ASSERT_STATUS(r, 200);
    assert_true(json_is_true(json_object_get(r.json, "muted")));
    harness_response_free(&r);
    r = harness_callf(srv, "PUT", "/api/me/notifications", b.token, "{\"muted\":\"yes\"}");
    HARNESS_ASSERT_ERROR(r, 400, "invalid");
    harness_response_free(&r);
    char path[128];
    snprintf(path, sizeof path, "/api/chats/%lld/payments/send", (long long)chat);
    r = harness_callf(srv, "POST", path, a.token, "{\"to_user_id\":%lld,\"amount_minor\":5000,\"idempotency_key\":\"k-m1\"}",
             (long long)b.id);
    HARNESS_ASSERT_STATUS(r, 201);
    json_int_t seq = harness_json_int(r.json, "message.seq");
    harness_response_free(&r);
    json_decref(wait_event(wb, "message.new", chat, seq, PUSH_BOUND_MS));
    json_t *ev = NULL;
    assert_int_equal(harness_ws_expect_type(wb, "message.new", PUSH_BOUND_MS, &ev), SB_OK);
    assert_string_equal(harness_json_str(ev, "message.kind"), "notice");
    assert_true(json_is_true(json_object_get(ev, "silent"))); /* arrives, without an alert */
    json_decref(ev);

    /* A request that expires in a second: the maintenance pass turns it expired, live. */
    snprintf(path, sizeof path, "/api/chats/%lld/payments/request", (long long)chat);
    r = harness_callf(srv, "POST", path, a.token,
             "{\"from_user_id\":%lld,\"amount_minor\":3000,\"expires_in_s\":1,\"idempotency_key\":\"k-e1\"}",
             (long long)b.id);
    HARNESS_ASSERT_STATUS(r, 201);
    json_int_t req = harness_json_int(r.json, "message.seq");
    harness_response_free(&r);
    ev = wait_status(wb, chat, req, "expired", EXPIRY_BOUND_MS);
    assert_string_equal(share_status(ev, "message", b.id), "expired");
    json_decref(ev);
    snprintf(path, sizeof path, "/api/chats/%lld/payments/%lld/pay", (long long)chat, (long long)req);
    r = harness_callf(srv, "POST", path, b.token, "{\"idempotency_key\":\"k-e2\"}");
    HARNESS_ASSERT_ERROR(r, 409, "already_expired");
    harness_response_free(&r);
    assert_int_equal(wallet(&b), 5000);
    harness_ws_free(wb);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_direct_send_request_decline),
        cmocka_unit_test(test_group_split_end_to_end),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_mute_and_expiry),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
