/*
 * test_ledger_json.c - the JSON form HTTP routes will use: strict decoding
 * (unknown keys, wrong types, bad hex, unknown flags are errors naming the
 * field), money as integers only, and encodings checked against literal
 * expected text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ledger/ledger.h"

static int decode_transfer(const char *text, ledger_transfer *t, char *err) {
    json_error_t jerr;
    json_t *o = json_loads(text, 0, &jerr);
    assert_non_null(o);
    int rc = ledger_transfer_from_json(o, t, err);
    json_decref(o);
    return rc;
}

static char *dump(json_t *o) {
    assert_non_null(o);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static void test_transfer_round_trip(void **state) {
    (void)state;
    ledger_transfer t;
    char err[LEDGER_JSON_ERR_BYTES];
    assert_int_equal(decode_transfer("{\"id\":\"A1\",\"debit_account_id\":\"2\",\"credit_account_id\":\"3\","
                                     "\"amount\":150000,\"code\":7,\"timeout_ms\":60000,\"user_data\":\"ff\","
                                     "\"flags\":[\"pending\",\"linked\"]}",
                                     &t, err),
                     SB_OK);
    assert_true(t.id.hi == 0 && t.id.lo == 0xa1);
    assert_int_equal(t.debit_account_id.lo, 2);
    assert_int_equal(t.credit_account_id.lo, 3);
    assert_int_equal(t.amount_minor, 150000);
    assert_int_equal(t.code, 7);
    assert_int_equal(t.timeout_ms, 60000);
    assert_int_equal(t.user_data.lo, 255);
    assert_int_equal(t.flags, LEDGER_TRANSFER_PENDING | LEDGER_TRANSFER_LINKED);
    t.timestamp_ns = 42;
    char *s = dump(ledger_transfer_to_json(&t));
    assert_string_equal(s, "{\"id\":\"000000000000000000000000000000a1\","
                           "\"debit_account_id\":\"00000000000000000000000000000002\","
                           "\"credit_account_id\":\"00000000000000000000000000000003\",\"amount\":150000,"
                           "\"user_data\":\"000000000000000000000000000000ff\",\"timeout_ms\":60000,\"code\":7,"
                           "\"flags\":[\"linked\",\"pending\"],\"timestamp_ns\":42}");
    free(s);
    s = dump(ledger_transfer_result_to_json(&t, LEDGER_EXISTS));
    assert_string_equal(s, "{\"id\":\"000000000000000000000000000000a1\",\"result\":\"exists\",\"timestamp_ns\":42}");
    free(s);
    s = dump(ledger_transfer_result_to_json(&t, LEDGER_EXCEEDS_CREDITS));
    assert_string_equal(s, "{\"id\":\"000000000000000000000000000000a1\",\"result\":\"exceeds_credits\"}");
    free(s);
}

static void test_transfer_strict_errors(void **state) {
    (void)state;
    static const struct {
        const char *json;
        const char *err;
    } cases[] = {
        {"[]", "a transfer must be a JSON object"},
        {"{\"debit_account_id\":\"1\"}", "'id' is required"},
        {"{\"id\":\"1\",\"amount\":1.5}", "'amount' must be an integer"},
        {"{\"id\":\"1\",\"amount\":\"100\"}", "'amount' must be an integer"},
        {"{\"id\":\"xyz\"}", "'id' must be 1 to 32 hex digits"},
        {"{\"id\":\"\"}", "'id' must be 1 to 32 hex digits"},
        {"{\"id\":\"1\",\"credit_account_id\":7}", "'credit_account_id' must be a string of 1 to 32 hex digits"},
        {"{\"id\":\"1\",\"code\":-1}", "'code' is out of range"},
        {"{\"id\":\"1\",\"code\":4294967296}", "'code' is out of range"},
        {"{\"id\":\"1\",\"flags\":[\"pending\",\"urgent\"]}", "'flags' item 1 is not a known flag"},
        {"{\"id\":\"1\",\"flags\":\"pending\"}", "'flags' must be an array of at most 4 names"},
        {"{\"id\":\"1\",\"amount_minor\":5}", "unknown field 'amount_minor'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ledger_transfer t;
        char err[LEDGER_JSON_ERR_BYTES];
        assert_int_equal(decode_transfer(cases[i].json, &t, err), SB_EINVAL);
        assert_string_equal(err, cases[i].err);
    }
    /* Negative amounts decode: refusing them is the ledger's (amount_must_be_positive). */
    ledger_transfer t;
    char err[LEDGER_JSON_ERR_BYTES];
    assert_int_equal(decode_transfer("{\"id\":\"1\",\"amount\":-5}", &t, err), SB_OK);
    assert_int_equal(t.amount_minor, -5);
}

static void test_account_json(void **state) {
    (void)state;
    json_error_t jerr;
    json_t *o = json_loads("{\"id\":\"10\",\"currency\":\"UAH\",\"kind\":\"customer_wallet\","
                           "\"flags\":[\"debits_must_not_exceed_credits\"],\"code\":3}",
                           0, &jerr);
    ledger_account a;
    char err[LEDGER_JSON_ERR_BYTES];
    assert_int_equal(ledger_account_from_json(o, &a, err), SB_OK);
    json_decref(o);
    assert_int_equal(a.id.lo, 16);
    assert_string_equal(a.currency, "UAH");
    assert_int_equal(a.kind, LEDGER_KIND_CUSTOMER_WALLET);
    assert_int_equal(a.flags, LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    a.credits_posted = 900;
    char *s = dump(ledger_account_to_json(&a));
    assert_string_equal(s, "{\"id\":\"00000000000000000000000000000010\",\"currency\":\"UAH\","
                           "\"kind\":\"customer_wallet\",\"flags\":[\"debits_must_not_exceed_credits\"],\"code\":3,"
                           "\"user_data\":\"00000000000000000000000000000000\",\"debits_pending\":0,"
                           "\"debits_posted\":0,\"credits_pending\":0,\"credits_posted\":900,\"timestamp_ns\":0}");
    free(s);
    o = json_loads("{\"id\":\"10\",\"currency\":\"UAH\",\"kind\":\"piggy_bank\"}", 0, &jerr);
    assert_int_equal(ledger_account_from_json(o, &a, err), SB_EINVAL);
    assert_non_null(strstr(err, "'kind' must be one of customer_wallet"));
    json_decref(o);
    o = json_loads("{\"id\":\"10\",\"kind\":\"fees\"}", 0, &jerr);
    assert_int_equal(ledger_account_from_json(o, &a, err), SB_EINVAL);
    assert_string_equal(err, "'id', 'currency' and 'kind' are required");
    json_decref(o);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transfer_round_trip),
        cmocka_unit_test(test_transfer_strict_errors),
        cmocka_unit_test(test_account_json),
    };
    return cmocka_run_group_tests_name("ledger_json", tests, NULL, NULL);
}
