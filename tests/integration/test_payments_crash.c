/*
 * test_payments_crash.c - the crash test over HTTP: a customer pays another
 * in a stream of idempotent payments (POST /api/payments/pay, a fresh key
 * each) while a second thread SIGKILLs the server at a random moment; the
 * server is restarted on the same data and every key sent is retried.
 * Checked after several rounds: every acknowledged payment is still there
 * with the same receipt, a retry never makes a second receipt or moves
 * money twice, the payer's receipts are exactly one per key, the balances
 * add up to the deposit, the admin's ledger check and `socialbank ledger
 * verify` pass.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "integration/harness.h"

#define CRASH_ROUNDS 5
/* New keys per round at most, so that all rounds stay under the default
 * policy's 200 transfers a day (a round that reaches it waits for the kill). */
#define CRASH_KEYS_PER_ROUND 35
#define CRASH_KEYS_MAX 4000
#define CRASH_AMOUNT_MINOR 100
#define CRASH_DEPOSIT_MINOR INT64_C(100000000)

static harness_server *srv;
static char payer[HARNESS_TOKEN_BYTES], payee[HARNESS_TOKEN_BYTES], admin[HARNESS_TOKEN_BYTES];

typedef struct {
    int64_t receipt_id; /* 0 until acknowledged */
} crash_key;
static crash_key keys[CRASH_KEYS_MAX];
static int key_count;

static int setup(void **state) {
    (void)state;
    return harness_server_up(NULL, &srv) == SB_OK ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    if (srv) harness_server_free(srv);
    srv = NULL;
    return 0;
}

static void *killer(void *arg) {
    int delay_ms = *(int *)arg;
    harness_sleep_ms(delay_ms);
    if (harness_server_kill(srv) != SB_OK) fprintf(stderr, "crash: kill failed\n");
    return NULL;
}

/* Pay under key i; SB_OK with *receipt_out, or the transport error (the
 * server is gone).  Any other answer fails the test. */
static int pay(int i, int64_t *receipt_out) {
    char body[160];
    snprintf(body, sizeof body, "{\"alias\":\"@crash_payee\",\"amount_minor\":%d,\"idempotency_key\":\"crash-%d\"}",
             CRASH_AMOUNT_MINOR, i);
    harness_response r;
    int result = harness_http_json(srv->port, "POST", "/api/payments/pay", payer, body, &r);
    if (result != SB_OK) return result;
    if (r.status == 503) { /* shutting down under the kill: not acknowledged */
        harness_response_free(&r);
        return SB_ECLOSED;
    }
    if (r.status != 200 && r.status != 201) fprintf(stderr, "crash: key %d: %d %s\n", i, r.status, r.body);
    assert_true(r.status == 200 || r.status == 201);
    *receipt_out = (int64_t)json_integer_value(json_object_get(r.json, "id"));
    assert_true(*receipt_out > 0);
    harness_response_free(&r);
    return SB_OK;
}

static int64_t balance(const char *token) {
    harness_response r;
    assert_int_equal(harness_http_get(srv->port, "/api/wallet", token, &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 200);
    int64_t b = (int64_t)json_integer_value(json_object_get(r.json, "available_minor"));
    harness_response_free(&r);
    return b;
}

static void test_crash_rounds(void **state) {
    (void)state;
    json_t *user = NULL;
    assert_int_equal(harness_customer_login(srv, "09121112001", payer, &user), SB_OK);
    int64_t payer_id = (int64_t)json_integer_value(json_object_get(user, "id"));
    json_decref(user);
    assert_int_equal(harness_customer_login(srv, "09121112002", payee, NULL), SB_OK);
    assert_int_equal(harness_staff_token(srv, "admin", admin, NULL), SB_OK);
    harness_response r;
    assert_int_equal(harness_http_json(srv->port, "PATCH", "/api/me", payee, "{\"username\":\"crash_payee\"}", &r),
                     SB_OK);
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);
    /* Payers find the payee by @username only once they allow it. */
    assert_int_equal(harness_http_json(srv->port, "PUT", "/api/me/discoverable", payee, "{\"discoverable\":true}", &r),
                     SB_OK);
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);
    char body[160];
    snprintf(body, sizeof body, "{\"user_id\":%lld,\"amount_minor\":%lld,\"idempotency_key\":\"crash-fund\"}",
             (long long)payer_id, (long long)CRASH_DEPOSIT_MINOR);
    assert_int_equal(harness_http_json(srv->port, "POST", "/api/admin/deposits", admin, body, &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 201);
    harness_response_free(&r);

    srand(12345);
    for (int round = 0; round < CRASH_ROUNDS; round++) {
        int delay_ms = 20 + rand() % 200;
        pthread_t thread;
        assert_int_equal(pthread_create(&thread, NULL, killer, &delay_ms), 0);
        for (int sent = 0; sent < CRASH_KEYS_PER_ROUND; sent++) {
            assert_true(key_count < CRASH_KEYS_MAX);
            int i = key_count++;
            int64_t receipt = 0;
            if (pay(i, &receipt) != SB_OK) break; /* the kill: key i is in doubt */
            keys[i].receipt_id = receipt;
        }
        pthread_join(thread, NULL);
        assert_int_equal(harness_server_start(srv), SB_OK);
        /* Retry every key: the acknowledged ones answer their receipt. */
        for (int i = 0; i < key_count; i++) {
            int64_t receipt = 0;
            assert_int_equal(pay(i, &receipt), SB_OK);
            if (keys[i].receipt_id) assert_int_equal(receipt, keys[i].receipt_id);
            keys[i].receipt_id = receipt;
        }
    }
    /* Exactly one transfer receipt per key, none twice. */
    int transfers = 0;
    int64_t after = 0;
    for (bool more = true; more;) {
        char path[64];
        snprintf(path, sizeof path, "/api/receipts?after=%lld", (long long)after);
        assert_int_equal(harness_http_get(srv->port, path, payer, &r), SB_OK);
        HARNESS_ASSERT_STATUS(r, 200);
        json_t *list = json_object_get(r.json, "receipts");
        size_t n;
        json_t *item;
        json_array_foreach(list, n, item) {
            after = (int64_t)json_integer_value(json_object_get(item, "id"));
            if (strcmp(json_string_value(json_object_get(item, "kind")), "transfer") == 0) transfers++;
        }
        more = json_is_true(json_object_get(r.json, "more"));
        harness_response_free(&r);
    }
    fprintf(stderr, "crash: %d rounds, %d keys, %d transfer receipts\n", CRASH_ROUNDS, key_count, transfers);
    assert_int_equal(transfers, key_count);
    for (int i = 0; i < key_count; i++)
        for (int j = i + 1; j < key_count; j++)
            assert_true(keys[i].receipt_id != keys[j].receipt_id);
    int64_t paid = (int64_t)key_count * CRASH_AMOUNT_MINOR;
    assert_int_equal(balance(payee), paid);
    assert_int_equal(balance(payer), CRASH_DEPOSIT_MINOR - paid);
    json_t *verified = harness_ledger_verify(srv->port, admin);
    assert_true(json_is_true(json_object_get(verified, "ok")));
    json_decref(verified);
    int exit_status = -1;
    assert_int_equal(harness_server_stop(srv, &exit_status), SB_OK);
    assert_int_equal(exit_status, 0);
    const char *args[] = {"ledger", "verify", "--data", srv->data_dir, NULL};
    int status = -1;
    char *out = NULL;
    assert_int_equal(harness_run(args, NULL, HARNESS_CLI_TIMEOUT_MS, &status, &out, NULL), SB_OK);
    if (status != 0) fprintf(stderr, "ledger verify: %s\n", out ? out : "");
    sb_free(out);
    assert_int_equal(status, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crash_rounds),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
