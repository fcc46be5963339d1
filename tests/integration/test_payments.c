/*
 * test_payments.c - the money routes over HTTP against the real server
 * (docs/API.md): two customers signed in by one-time code, funded by the
 * admin's deposit route; pay by @username and by phone; the same
 * idempotency key again gives the same receipt and moves nothing; not
 * enough money is 409 exceeds_credits with balances unchanged; someone
 * else's request or receipt is not reachable; malformed amounts are 400
 * naming the field; a bill with a bad check digit is 400 and nothing moves;
 * card-to-card is 503 without a switch and works through the simulator
 * (holder and masked card only); a held quote is confirmed by its id (once;
 * the same key again is the same receipt); split members named by alias,
 * an unknown one 404 naming it; the admin's ledger check passes at
 * the end, and `socialbank ledger verify` agrees after the server stops.
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

static harness_server *srv;
static char ali[HARNESS_TOKEN_BYTES], sara[HARNESS_TOKEN_BYTES], admin[HARNESS_TOKEN_BYTES];
static int64_t ali_id, sara_id;

static int64_t user_id_of(json_t *user) { return (int64_t)json_integer_value(json_object_get(user, "id")); }

static int setup(void **state) {
    (void)state;
    if (harness_server_up(NULL, &srv) != SB_OK) return -1;
    json_t *user = NULL;
    if (harness_customer_login(srv, "09121110001", ali, &user) != SB_OK) return -1;
    ali_id = user_id_of(user);
    json_decref(user);
    if (harness_customer_login(srv, "09351110002", sara, &user) != SB_OK) return -1;
    sara_id = user_id_of(user);
    json_decref(user);
    if (harness_staff_token(srv, "admin", admin, NULL) != SB_OK) return -1;
    /* Both may be found by phone and @username (payops_resolve's rule). */
    const char *const tokens[] = {ali, sara};
    for (size_t i = 0; i < 2; i++) {
        harness_response r;
        if (harness_http_json(srv->port, "PUT", "/api/me/discoverable", tokens[i], "{\"discoverable\":true}", &r) !=
                SB_OK ||
            r.status != 200)
            return -1;
        harness_response_free(&r);
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    if (!srv) return 0;
    int exit_status = -1;
    int result = srv->pid > 0 ? harness_server_stop(srv, &exit_status) : SB_OK;
    if (result == SB_OK && exit_status == 0) {
        /* The command line's verify agrees with the route's. */
        char data_arg[HARNESS_PATH_BYTES + 8];
        snprintf(data_arg, sizeof data_arg, "%s", srv->data_dir);
        const char *args[] = {"ledger", "verify", "--data", data_arg, NULL};
        int status = -1;
        char *out = NULL;
        result = harness_run(args, NULL, HARNESS_CLI_TIMEOUT_MS, &status, &out, NULL);
        if (result == SB_OK && status != 0) {
            fprintf(stderr, "ledger verify: status %d: %s\n", status, out ? out : "");
            result = SB_ECORRUPT;
        }
        sb_free(out);
    }
    harness_server_free(srv);
    srv = NULL;
    if (result != SB_OK || exit_status != 0) {
        fprintf(stderr, "server stop: %s, exit status %d (want 0)\n", sb_strerror(result), exit_status);
        return -1;
    }
    return 0;
}

static void call(const char *method, const char *path, const char *token, const char *json, harness_response *r) {
    assert_int_equal(harness_http_json(srv->port, method, path, token, json, r), SB_OK);
}

static int64_t balance(const char *token) {
    harness_response r;
    call("GET", "/api/wallet", token, NULL, &r);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "currency")), "IRR");
    int64_t b = (int64_t)json_integer_value(json_object_get(r.json, "available_minor"));
    harness_response_free(&r);
    return b;
}

static void deposit(int64_t user_id, int64_t amount, const char *key, int want_status) {
    char body[256];
    snprintf(body, sizeof body, "{\"user_id\":%lld,\"amount_minor\":%lld,\"idempotency_key\":\"%s\"}",
             (long long)user_id, (long long)amount, key);
    harness_response r;
    call("POST", "/api/admin/deposits", admin, body, &r);
    HARNESS_ASSERT_STATUS(r, want_status);
    harness_response_free(&r);
}

static void test_pay_and_retry(void **state) {
    (void)state;
    harness_response r;
    call("PATCH", "/api/me", sara, "{\"username\":\"sara_pay\",\"display_name\":\"Sara Ahmadi\"}", &r);
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);
    /* Only the admin funds; a customer cannot. */
    call("POST", "/api/admin/deposits", ali, "{\"user_id\":1,\"amount_minor\":5,\"idempotency_key\":\"x\"}", &r);
    HARNESS_ASSERT_ERROR(r, 403, "forbidden");
    harness_response_free(&r);
    deposit(ali_id, 1000000, "fund-ali-1", 201);
    harness_sleep_ms(2);
    deposit(ali_id, 1000000, "fund-ali-1", 200); /* the retry moves nothing */
    assert_int_equal(balance(ali), 1000000);
    assert_int_equal(balance(sara), 0);

    /* What the payer sees: the display name, nothing else. */
    call("POST", "/api/payments/resolve", ali, "{\"alias\":\"@sara_pay\"}", &r);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "display_name")), "Sara Ahmadi");
    assert_null(strstr(r.body, "09351110002"));
    harness_response_free(&r);
    call("POST", "/api/payments/quote", ali, "{\"alias\":\"@sara_pay\",\"amount_minor\":250000}", &r);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "total_minor")), 250000);
    harness_response_free(&r);

    /* Pay by @username: 201, then the same key: 200 with the same receipt. */
    const char *pay1 = "{\"alias\":\"@sara_pay\",\"amount_minor\":250000,\"idempotency_key\":\"pay-1\"}";
    call("POST", "/api/payments/pay", ali, pay1, &r);
    HARNESS_ASSERT_STATUS(r, 201);
    int64_t receipt_id = (int64_t)json_integer_value(json_object_get(r.json, "id"));
    assert_true(receipt_id > 0);
    assert_string_equal(json_string_value(json_object_get(r.json, "state")), "done");
    assert_string_equal(json_string_value(json_object_get(r.json, "counterparty")), "Sara Ahmadi");
    harness_response_free(&r);
    harness_sleep_ms(2); /* the retry is a later request */
    call("POST", "/api/payments/pay", ali, pay1, &r);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "id")), receipt_id);
    harness_response_free(&r);
    /* The same key for another payment is a conflict. */
    call("POST", "/api/payments/pay", ali, "{\"alias\":\"@sara_pay\",\"amount_minor\":1,\"idempotency_key\":\"pay-1\"}",
         &r);
    HARNESS_ASSERT_ERROR(r, 409, "idempotency_conflict");
    harness_response_free(&r);
    assert_int_equal(balance(ali), 750000);
    assert_int_equal(balance(sara), 250000);

    /* Pay by phone, in another spelling. */
    call("POST", "/api/payments/pay", ali,
         "{\"alias\":\"+989351110002\",\"amount_minor\":50000,\"idempotency_key\":\"pay-2\"}", &r);
    HARNESS_ASSERT_STATUS(r, 201);
    harness_response_free(&r);
    assert_int_equal(balance(ali), 700000);
    assert_int_equal(balance(sara), 300000);

    /* Not enough money: 409 with the ledger's result, nothing moves. */
    call("POST", "/api/payments/pay", sara,
         "{\"alias\":\"09121110001\",\"amount_minor\":300001,\"idempotency_key\":\"big\"}", &r);
    HARNESS_ASSERT_ERROR(r, 409, "exceeds_credits");
    harness_response_free(&r);
    assert_int_equal(balance(ali), 700000);
    assert_int_equal(balance(sara), 300000);

    /* Receipts: the owner sees it, the other customer does not. */
    char path[64];
    snprintf(path, sizeof path, "/api/receipts/%lld", (long long)receipt_id);
    call("GET", path, ali, NULL, &r);
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);
    call("GET", path, sara, NULL, &r);
    HARNESS_ASSERT_ERROR(r, 404, "not_found");
    harness_response_free(&r);
    call("GET", "/api/receipts", ali, NULL, &r);
    HARNESS_ASSERT_STATUS(r, 200);
    json_t *list = json_object_get(r.json, "receipts");
    assert_int_equal(json_array_size(list), 3); /* one deposit, two payments */
    harness_response_free(&r);
}

static void test_malformed_amounts(void **state) {
    (void)state;
    static const char *const bodies[] = {
        "{\"alias\":\"@sara_pay\",\"amount_minor\":1.5,\"idempotency_key\":\"m1\"}",
        "{\"alias\":\"@sara_pay\",\"amount_minor\":\"100\",\"idempotency_key\":\"m2\"}",
        "{\"alias\":\"@sara_pay\",\"amount_minor\":-5,\"idempotency_key\":\"m3\"}",
        "{\"alias\":\"@sara_pay\",\"amount_minor\":0,\"idempotency_key\":\"m4\"}",
        "{\"alias\":\"@sara_pay\",\"idempotency_key\":\"m5\"}",
    };
    int64_t before = balance(ali);
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        harness_response r;
        call("POST", "/api/payments/pay", ali, bodies[i], &r);
        HARNESS_ASSERT_ERROR(r, 400, "invalid");
        const char *message = harness_error_message(&r);
        assert_non_null(message);
        assert_non_null(strstr(message, "amount_minor"));
        harness_response_free(&r);
    }
    /* Beyond int64: the JSON parser itself refuses the body. */
    harness_response r;
    call("POST", "/api/payments/pay", ali,
         "{\"alias\":\"@sara_pay\",\"amount_minor\":9223372036854775808,\"idempotency_key\":\"m6\"}", &r);
    HARNESS_ASSERT_ERROR(r, 400, "invalid_json");
    harness_response_free(&r);
    assert_int_equal(balance(ali), before);
}

static void test_bills_and_c2c(void **state) {
    (void)state;
    int64_t before = balance(ali);
    harness_response r;
    call("POST", "/api/bills/pay", ali,
         "{\"bill_id\":\"2050327604614\",\"payment_id\":\"1070189\",\"idempotency_key\":\"b0\"}", &r);
    HARNESS_ASSERT_ERROR(r, 400, "invalid");
    assert_non_null(strstr(harness_error_message(&r), "bad_bill_id_check"));
    harness_response_free(&r);
    assert_int_equal(balance(ali), before);
    call("POST", "/api/card-transfers", ali,
         "{\"dest_card\":\"6219861034529007\",\"amount_minor\":1000,\"idempotency_key\":\"c1\"}", &r);
    HARNESS_ASSERT_ERROR(r, 503, "unavailable");
    assert_null(strstr(r.body, "6219861034529007"));
    harness_response_free(&r);
    assert_int_equal(balance(ali), before);
}

static void test_requests(void **state) {
    (void)state;
    harness_response r;
    int64_t ali_before = balance(ali), sara_before = balance(sara);
    /* Sara asks Ali for 40,000. */
    call("POST", "/api/requests", sara, "{\"payer_alias\":\"09121110001\",\"amount_minor\":40000,\"note\":\"dinner\"}",
         &r);
    HARNESS_ASSERT_STATUS(r, 201);
    int64_t id = (int64_t)json_integer_value(json_object_get(r.json, "id"));
    assert_string_equal(json_string_value(json_object_get(r.json, "state")), "pending");
    harness_response_free(&r);
    char path[96];
    /* A third customer sees nothing of it and cannot pay it. */
    char eve[HARNESS_TOKEN_BYTES];
    assert_int_equal(harness_customer_login(srv, "09121110003", eve, NULL), SB_OK);
    /* Split members are people the payer may reach: Eve lets herself be found. */
    call("PUT", "/api/me/discoverable", eve, "{\"discoverable\":true}", &r);
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);
    snprintf(path, sizeof path, "/api/requests/%lld", (long long)id);
    call("GET", path, eve, NULL, &r);
    HARNESS_ASSERT_ERROR(r, 404, "not_found");
    harness_response_free(&r);
    snprintf(path, sizeof path, "/api/requests/%lld/pay", (long long)id);
    call("POST", path, eve, "{\"idempotency_key\":\"e1\"}", &r);
    assert_true(r.status == 403 || r.status == 404);
    harness_response_free(&r);
    /* The requester cannot pay her own request. */
    call("POST", path, sara, "{\"idempotency_key\":\"s1\"}", &r);
    assert_true(r.status == 403 || r.status == 404);
    harness_response_free(&r);
    /* Ali pays, twice with the same key. */
    call("POST", path, ali, "{\"idempotency_key\":\"r1\"}", &r);
    HARNESS_ASSERT_STATUS(r, 201);
    int64_t receipt_id = (int64_t)json_integer_value(json_object_get(r.json, "id"));
    harness_response_free(&r);
    harness_sleep_ms(2);
    call("POST", path, ali, "{\"idempotency_key\":\"r1\"}", &r);
    assert_true(r.status == 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "id")), receipt_id);
    harness_response_free(&r);
    assert_int_equal(balance(ali), ali_before - 40000);
    assert_int_equal(balance(sara), sara_before + 40000);
    snprintf(path, sizeof path, "/api/requests/%lld", (long long)id);
    call("GET", path, sara, NULL, &r);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "state")), "paid");
    harness_response_free(&r);
    /* Declining a paid request is refused. */
    snprintf(path, sizeof path, "/api/requests/%lld/decline", (long long)id);
    call("POST", path, ali, NULL, &r);
    HARNESS_ASSERT_ERROR(r, 409, "already_paid");
    harness_response_free(&r);

    /* A split: Ali paid 90,000 for three; Sara and Eve each get a request. */
    harness_response me;
    call("GET", "/api/me", eve, NULL, &me);
    int64_t eve_id = (int64_t)json_integer_value(json_object_get(me.json, "id"));
    harness_response_free(&me);
    char body[256];
    snprintf(body, sizeof body, "{\"members\":[%lld,%lld,%lld],\"subtotal_minor\":90000,\"title\":\"pizza\"}",
             (long long)ali_id, (long long)sara_id, (long long)eve_id);
    call("POST", "/api/splits", ali, body, &r);
    HARNESS_ASSERT_STATUS(r, 201);
    int64_t split_id = (int64_t)json_integer_value(json_object_get(r.json, "id"));
    harness_response_free(&r);
    snprintf(path, sizeof path, "/api/splits/%lld", (long long)split_id);
    call("GET", path, sara, NULL, &r);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "total_minor")), 90000);
    json_t *members = json_object_get(r.json, "members");
    assert_int_equal(json_array_size(members), 3);
    int64_t sum = 0;
    for (size_t i = 0; i < 3; i++)
        sum += (int64_t)json_integer_value(json_object_get(json_array_get(members, i), "share_minor"));
    assert_int_equal(sum, 90000);
    harness_response_free(&r);
}

/* Pay a held quote by its id; split members by alias. */
static void test_quote_id_and_split_aliases(void **state) {
    (void)state;
    harness_response r;
    int64_t ali_before = balance(ali), sara_before = balance(sara);
    call("POST", "/api/payments/quote", ali, "{\"alias\":\"@sara_pay\",\"amount_minor\":10000}", &r);
    HARNESS_ASSERT_STATUS(r, 200);
    const char *qid = json_string_value(json_object_get(r.json, "quote_id"));
    assert_non_null(qid);
    assert_int_equal(strlen(qid), 32);
    char quote_id[33];
    snprintf(quote_id, sizeof quote_id, "%s", qid);
    assert_true(json_integer_value(json_object_get(r.json, "expires_at_ms")) > 0);
    assert_int_equal(json_integer_value(json_object_get(r.json, "total_minor")), 10000);
    harness_response_free(&r);
    assert_int_equal(balance(ali), ali_before); /* a quote moves nothing */

    char body[256];
    snprintf(body, sizeof body, "{\"quote_id\":\"%s\",\"idempotency_key\":\"hq-1\"}", quote_id);
    /* Another customer cannot confirm it: no such quote for her. */
    call("POST", "/api/payments/pay", sara, body, &r);
    HARNESS_ASSERT_ERROR(r, 404, "not_found");
    harness_response_free(&r);
    call("POST", "/api/payments/pay", ali, body, &r);
    HARNESS_ASSERT_STATUS(r, 201);
    int64_t receipt_id = (int64_t)json_integer_value(json_object_get(r.json, "id"));
    assert_string_equal(json_string_value(json_object_get(r.json, "counterparty")), "Sara Ahmadi");
    assert_int_equal(json_integer_value(json_object_get(r.json, "amount_minor")), 10000);
    harness_response_free(&r);
    harness_sleep_ms(2);
    call("POST", "/api/payments/pay", ali, body, &r);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "id")), receipt_id);
    harness_response_free(&r);
    /* A quote pays once. */
    snprintf(body, sizeof body, "{\"quote_id\":\"%s\",\"idempotency_key\":\"hq-2\"}", quote_id);
    call("POST", "/api/payments/pay", ali, body, &r);
    HARNESS_ASSERT_ERROR(r, 409, "quote_used");
    harness_response_free(&r);
    assert_int_equal(balance(ali), ali_before - 10000);
    assert_int_equal(balance(sara), sara_before + 10000);
    /* Malformed: both shapes at once, an id that is not one, an unknown id. */
    snprintf(body, sizeof body, "{\"quote_id\":\"%s\",\"alias\":\"@sara_pay\",\"idempotency_key\":\"hq-3\"}", quote_id);
    call("POST", "/api/payments/pay", ali, body, &r);
    HARNESS_ASSERT_ERROR(r, 400, "invalid");
    harness_response_free(&r);
    call("POST", "/api/payments/pay", ali, "{\"quote_id\":\"zz\",\"idempotency_key\":\"hq-3\"}", &r);
    HARNESS_ASSERT_ERROR(r, 400, "invalid");
    harness_response_free(&r);
    call("POST", "/api/payments/pay", ali,
         "{\"quote_id\":\"00000000000000000000000000000000\",\"idempotency_key\":\"hq-3\"}", &r);
    HARNESS_ASSERT_ERROR(r, 404, "not_found");
    harness_response_free(&r);

    /* A split naming members by @username and phone, the caller by id. */
    char eve[HARNESS_TOKEN_BYTES];
    json_t *user = NULL;
    assert_int_equal(harness_customer_login(srv, "09121110003", eve, &user), SB_OK);
    /* Split members are people the payer may reach: Eve lets herself be found. */
    call("PUT", "/api/me/discoverable", eve, "{\"discoverable\":true}", &r);
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);
    int64_t eve_id = user_id_of(user);
    json_decref(user);
    snprintf(body, sizeof body,
             "{\"members\":[%lld,\"@sara_pay\",\"+989121110003\"],\"subtotal_minor\":30000,\"title\":\"tea\"}",
             (long long)ali_id);
    call("POST", "/api/splits", ali, body, &r);
    HARNESS_ASSERT_STATUS(r, 201);
    int64_t split_id = (int64_t)json_integer_value(json_object_get(r.json, "id"));
    harness_response_free(&r);
    char path[64];
    snprintf(path, sizeof path, "/api/splits/%lld", (long long)split_id);
    call("GET", path, ali, NULL, &r);
    HARNESS_ASSERT_STATUS(r, 200);
    json_t *members = json_object_get(r.json, "members");
    assert_int_equal(json_array_size(members), 3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(members, 1), "member_id")), sara_id);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(members, 2), "member_id")), eve_id);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(members, 2), "share_minor")), 10000);
    harness_response_free(&r);
    /* An alias nobody has: 404 naming the member; not an alias: 400. */
    call("POST", "/api/splits", ali, "{\"members\":[\"@sara_pay\",\"@nobody_here\"],\"subtotal_minor\":100}", &r);
    HARNESS_ASSERT_ERROR(r, 404, "not_found");
    assert_non_null(strstr(r.body, "item 1"));
    assert_non_null(strstr(r.body, "@nobody_here"));
    harness_response_free(&r);
    call("POST", "/api/splits", ali, "{\"members\":[\"@sara_pay\",\"dinner\"],\"subtotal_minor\":100}", &r);
    HARNESS_ASSERT_ERROR(r, 400, "invalid");
    harness_response_free(&r);
    call("POST", "/api/splits", ali, "{\"members\":[\"@sara_pay\",true],\"subtotal_minor\":100}", &r);
    HARNESS_ASSERT_ERROR(r, 400, "invalid");
    harness_response_free(&r);
    /* The same customer twice (by id and by alias) is a bad split. */
    snprintf(body, sizeof body, "{\"members\":[%lld,\"@sara_pay\"],\"subtotal_minor\":100}", (long long)sara_id);
    call("POST", "/api/splits", ali, body, &r);
    HARNESS_ASSERT_ERROR(r, 400, "invalid");
    harness_response_free(&r);
}

/* Card-to-card through the simulator: a server of its own with
 * --card-switch sim; the payer sees the holder and the masked card only. */
static void test_card_to_card_sim(void **state) {
    (void)state;
    static const char *const extra[] = {"--card-switch", "sim", NULL};
    harness_options opts = {.extra_args = extra};
    harness_server *sim = NULL;
    assert_int_equal(harness_server_up(&opts, &sim), SB_OK);
    char token[HARNESS_TOKEN_BYTES], staff[HARNESS_TOKEN_BYTES];
    json_t *user = NULL;
    assert_int_equal(harness_customer_login(sim, "09121110009", token, &user), SB_OK);
    int64_t id = user_id_of(user);
    json_decref(user);
    assert_int_equal(harness_staff_token(sim, "admin", staff, NULL), SB_OK);
    char body[256];
    snprintf(body, sizeof body, "{\"user_id\":%lld,\"amount_minor\":1000000,\"idempotency_key\":\"f\"}", (long long)id);
    harness_response r;
    assert_int_equal(harness_http_json(sim->port, "POST", "/api/admin/deposits", staff, body, &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 201);
    harness_response_free(&r);
    const char *quote = "{\"dest_card\":\"6219-8610-3452-9007\",\"amount_minor\":100000}";
    assert_int_equal(harness_http_json(sim->port, "POST", "/api/card-transfers/quote", token, quote, &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_string_equal(json_string_value(harness_json_path(r.json, "payee.display_name")), "Sim Card Holder");
    assert_string_equal(json_string_value(harness_json_path(r.json, "payee.masked_card")), "621986******9007");
    int64_t total = (int64_t)json_integer_value(json_object_get(r.json, "total_minor"));
    assert_true(total > 100000); /* card-to-card has a fee */
    harness_response_free(&r);
    const char *send = "{\"dest_card\":\"6219861034529007\",\"amount_minor\":100000,\"idempotency_key\":\"c1\"}";
    assert_int_equal(harness_http_json(sim->port, "POST", "/api/card-transfers", token, send, &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 201);
    assert_string_equal(json_string_value(json_object_get(r.json, "state")), "done");
    assert_null(strstr(r.body, "6219861034529007"));
    harness_response_free(&r);
    assert_int_equal(harness_http_get(sim->port, "/api/wallet", token, &r), SB_OK);
    assert_int_equal(json_integer_value(json_object_get(r.json, "available_minor")), 1000000 - total);
    harness_response_free(&r);
    int exit_status = -1;
    assert_int_equal(harness_server_stop(sim, &exit_status), SB_OK);
    harness_server_free(sim);
    assert_int_equal(exit_status, 0);
}

static void test_ledger_verify(void **state) {
    (void)state;
    harness_response r;
    call("POST", "/api/admin/ledger/verify", sara, NULL, &r);
    HARNESS_ASSERT_ERROR(r, 403, "forbidden");
    harness_response_free(&r);
    call("GET", "/api/admin/ledger/verify/1", sara, NULL, &r);
    HARNESS_ASSERT_ERROR(r, 403, "forbidden");
    harness_response_free(&r);
    /* The check runs as a job off the event loop: 202, then poll it. */
    json_t *result = harness_ledger_verify(srv->port, admin);
    assert_true(json_is_true(json_object_get(result, "ok")));
    assert_true(harness_json_int(result, "transfers") > 0);
    json_decref(result);
    /* A job id never given (or no longer kept) is 404; a malformed one 400. */
    call("GET", "/api/admin/ledger/verify/999999", admin, NULL, &r);
    HARNESS_ASSERT_ERROR(r, 404, "not_found");
    harness_response_free(&r);
    call("GET", "/api/admin/ledger/verify/x", admin, NULL, &r);
    HARNESS_ASSERT_STATUS(r, 400);
    harness_response_free(&r);
    /* The old blocking GET is gone. */
    call("GET", "/api/admin/ledger/verify", admin, NULL, &r);
    HARNESS_ASSERT_STATUS(r, 405);
    harness_response_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pay_and_retry),
        cmocka_unit_test(test_malformed_amounts),
        cmocka_unit_test(test_bills_and_c2c),
        cmocka_unit_test(test_requests),
        cmocka_unit_test(test_quote_id_and_split_aliases),
        cmocka_unit_test(test_card_to_card_sim),
        cmocka_unit_test(test_ledger_verify),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
