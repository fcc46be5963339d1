/*
 * test_races.c - limits and exactly-once answers under parallel requests,
 * against the real server (threads in the test, released together):
 *   - 100 parallel wrong passwords for one staff account: exactly
 *     SB_LOGIN_FAILURES_PER_15_MIN are checked (401), the rest 429;
 *   - 12 parallel one-time-code requests for one phone: exactly
 *     SB_OTP_REQUESTS_PER_PHONE_PER_HOUR accepted (202), the rest 429;
 *   - 20 parallel deposits and 20 parallel payments with one idempotency
 *     key each: exactly one answer says created (201, replayed:false), the
 *     others replayed (200, replayed:true), all the same receipt, the money
 *     moved once;
 *   - 20 parallel pays of one money request under 20 keys: exactly one
 *     pays (201), the others get the receipt that paid it (200,
 *     replayed:true), none is 503 busy, the money moved once.
 * No timing is asserted: only counts of answers.
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
static char admin[HARNESS_TOKEN_BYTES];
static int customers;

/* The burst of logins below is about the failure limit, not the password
 * pool's cap on checks in flight (32 by default, past which logins are
 * answered 503 busy; test_security covers that): room for the whole burst. */
static int group_setup(void **state) {
    (void)state;
    static const char *const args[] = {"--password-jobs-max", "128", NULL};
    static const harness_options opts = {.extra_args = args};
    if (harness_server_up(&opts, &srv) != SB_OK) return -1;
    if (harness_staff_token(srv, "admin", admin, NULL) == SB_OK) return 0;
    if (harness_server_down(&srv) != SB_OK) fprintf(stderr, "the server did not stop cleanly\n");
    return -1;
}

static int group_teardown(void **state) {
    (void)state;
    return harness_server_down(&srv) == SB_OK ? 0 : -1;
}

#define RACERS 20

/* Count the answers of a burst by status; every request must have been
 * answered.  Frees nothing. */
static void count_statuses(const harness_parallel_request *q, size_t n, int *count_by_status) {
    for (size_t i = 0; i < n; i++) {
        if (q[i].result != SB_OK) fprintf(stderr, "request %zu: %s\n", i, sb_strerror(q[i].result));
        assert_int_equal(q[i].result, SB_OK);
        int status = q[i].response.status;
        assert_true(status >= 100 && status < 600);
        count_by_status[status]++;
    }
}

static void free_all(harness_parallel_request *q, size_t n) {
    for (size_t i = 0; i < n; i++)
        harness_response_free(&q[i].response);
}

static int64_t balance(const char *token) {
    harness_response r = harness_call(srv, "GET", "/api/wallet", token, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    int64_t b = harness_json_int(r.json, "available_minor");
    harness_response_free(&r);
    return b;
}

/* Exactly one answer 201 replayed:false, the others 200 replayed:true,
 * all naming the same receipt. */
static void expect_one_created(harness_parallel_request *q, size_t n) {
    int by_status[600] = {0};
    count_statuses(q, n, by_status);
    if (by_status[201] != 1 || by_status[200] != (int)n - 1)
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "answer %zu: %d %.300s\n", i, q[i].response.status, q[i].response.body);
    assert_int_equal(by_status[201], 1);
    assert_int_equal(by_status[200], (int)n - 1);
    json_int_t receipt_id = harness_json_int(q[0].response.json, "id");
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(harness_json_int(q[i].response.json, "id"), receipt_id);
        json_t *replayed = json_object_get(q[i].response.json, "replayed");
        assert_true(json_is_boolean(replayed));
        assert_int_equal(json_is_true(replayed), q[i].response.status == 200);
    }
}

/* Race n copies of one unauthenticated POST: exactly `accepted` answer
 * ok_status, the others 429 rate_limited. */
static void expect_limit_in_burst(const char *what, const char *path, const char *body, size_t n, int ok_status,
                                  int accepted) {
    static harness_parallel_request q[HARNESS_PARALLEL_MAX];
    assert_true(n <= HARNESS_PARALLEL_MAX);
    for (size_t i = 0; i < n; i++)
        q[i] = (harness_parallel_request){.method = "POST", .path = path, .json_text = body};
    assert_int_equal(harness_http_parallel(srv->port, q, n), SB_OK);
    int by_status[600] = {0};
    count_statuses(q, n, by_status);
    fprintf(stderr, "%s: %d accepted (%d), %d refused (429)\n", what, by_status[ok_status], ok_status, by_status[429]);
    assert_int_equal(by_status[ok_status], accepted);
    assert_int_equal(by_status[429], (int)n - accepted);
    free_all(q, n);
}

static void test_login_failures_limit_holds_in_parallel(void **state) {
    (void)state;
    assert_int_equal(harness_user_add(srv, "agent.race", "correct horse battery", "agent", NULL), SB_OK);
    expect_limit_in_burst("wrong passwords", "/api/auth/login",
                          "{\"username\":\"agent.race\",\"password\":\"wrong password\"}", 100, 401,
                          SB_LOGIN_FAILURES_PER_15_MIN);
    /* The right password is refused too now: the account is locked for the window. */
    harness_response r = harness_call(srv, "POST", "/api/auth/login", NULL,
                                      "{\"username\":\"agent.race\",\"password\":\"correct horse battery\"}");
    HARNESS_ASSERT_ERROR(r, 429, "rate_limited");
    harness_response_free(&r);
}

static void test_otp_requests_limit_holds_in_parallel(void **state) {
    (void)state;
    expect_limit_in_burst("code requests", "/api/auth/otp/request", "{\"phone\":\"09127770001\"}", 12, 202,
                          SB_OTP_REQUESTS_PER_PHONE_PER_HOUR);
}

static void test_deposit_one_key_in_parallel(void **state) {
    (void)state;
    harness_customer c = harness_customer_next(srv, "0912555", &customers);
    char body[160];
    snprintf(body, sizeof body, "{\"user_id\":%lld,\"amount_minor\":70000,\"idempotency_key\":\"race-dep-1\"}",
             (long long)c.id);
    harness_parallel_request q[RACERS];
    for (size_t i = 0; i < RACERS; i++)
        q[i] = (harness_parallel_request){
            .method = "POST", .path = "/api/admin/deposits", .token = admin, .json_text = body};
    assert_int_equal(harness_http_parallel(srv->port, q, RACERS), SB_OK);
    expect_one_created(q, RACERS);
    free_all(q, RACERS);
    assert_int_equal(balance(c.token), 70000);
}

/* A fresh payer with money and a payee who can be found by @username. */
static void payer_and_payee(harness_customer *payer, harness_customer *payee, const char *payee_username) {
    *payer = harness_customer_next(srv, "0912555", &customers);
    *payee = harness_customer_next(srv, "0912555", &customers);
    harness_response r = harness_callf(srv, "PATCH", "/api/me", payee->token, "{\"username\":\"%s\"}", payee_username);
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);
    r = harness_call(srv, "PUT", "/api/me/discoverable", payee->token, "{\"discoverable\":true}");
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);
    r = harness_callf(srv, "POST", "/api/admin/deposits", admin,
                      "{\"user_id\":%lld,\"amount_minor\":1000000,\"idempotency_key\":\"fund-%lld\"}",
                      (long long)payer->id, (long long)payer->id);
    HARNESS_ASSERT_STATUS(r, 201);
    harness_response_free(&r);
}

static void test_payment_one_key_in_parallel(void **state) {
    (void)state;
    harness_customer payer, payee;
    payer_and_payee(&payer, &payee, "race_payee");
    const char *body = "{\"alias\":\"@race_payee\",\"amount_minor\":30000,\"idempotency_key\":\"race-pay-1\"}";
    harness_parallel_request q[RACERS];
    for (size_t i = 0; i < RACERS; i++)
        q[i] = (harness_parallel_request){
            .method = "POST", .path = "/api/payments/pay", .token = payer.token, .json_text = body};
    assert_int_equal(harness_http_parallel(srv->port, q, RACERS), SB_OK);
    expect_one_created(q, RACERS);
    free_all(q, RACERS);
    assert_int_equal(balance(payee.token), 30000);
}

static void test_request_paid_once_in_parallel(void **state) {
    (void)state;
    harness_customer payer, requester;
    payer_and_payee(&requester, &payer, "race_payer"); /* requester funded too; the payer is found */
    harness_response r =
        harness_callf(srv, "POST", "/api/admin/deposits", admin,
                      "{\"user_id\":%lld,\"amount_minor\":500000,\"idempotency_key\":\"fund-p\"}", (long long)payer.id);
    HARNESS_ASSERT_STATUS(r, 201);
    harness_response_free(&r);
    r = harness_call(srv, "POST", "/api/requests", requester.token,
                     "{\"payer_alias\":\"@race_payer\",\"amount_minor\":40000,\"note\":\"lunch\"}");
    HARNESS_ASSERT_STATUS(r, 201);
    json_int_t request_id = harness_json_int(r.json, "id");
    harness_response_free(&r);
    int64_t payer_before = balance(payer.token), requester_before = balance(requester.token);

    char path[64], bodies[RACERS][64];
    snprintf(path, sizeof path, "/api/requests/%lld/pay", (long long)request_id);
    harness_parallel_request q[RACERS];
    for (size_t i = 0; i < RACERS; i++) {
        snprintf(bodies[i], sizeof bodies[i], "{\"idempotency_key\":\"race-req-%zu\"}", i);
        q[i] = (harness_parallel_request){.method = "POST", .path = path, .token = payer.token, .json_text = bodies[i]};
    }
    assert_int_equal(harness_http_parallel(srv->port, q, RACERS), SB_OK);
    int by_status[600] = {0};
    count_statuses(q, RACERS, by_status);
    fprintf(stderr, "parallel pays of one request: %d paid (201), %d already paid (200), %d busy (503)\n",
            by_status[201], by_status[200], by_status[503]);
    assert_int_equal(by_status[503], 0);
    expect_one_created(q, RACERS);
    json_int_t fee = harness_json_int(q[0].response.json, "fee_minor");
    free_all(q, RACERS);
    assert_int_equal(balance(requester.token), requester_before + 40000);
    assert_int_equal(balance(payer.token), payer_before - 40000 - fee);
    snprintf(path, sizeof path, "/api/requests/%lld", (long long)request_id);
    r = harness_call(srv, "GET", path, payer.token, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_string_equal(harness_json_str(r.json, "state"), "paid");
    harness_response_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login_failures_limit_holds_in_parallel),
        cmocka_unit_test(test_otp_requests_limit_holds_in_parallel),
        cmocka_unit_test(test_deposit_one_key_in_parallel),
        cmocka_unit_test(test_payment_one_key_in_parallel),
        cmocka_unit_test(test_request_paid_once_in_parallel),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
