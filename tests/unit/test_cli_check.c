/*
 * test_cli_check.c - `socialbank check`: one JSON object a line (parsed
 * back with jansson), the fields each kind reports, that a card's full
 * number never appears in the output, and the exit codes (0 all valid,
 * 1 any invalid, 2 usage).  Runs the real binary named by $SB_BINARY.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <jansson.h>

/* Run a shell command; return its exit status and its stdout. */
static int run_command(const char *cmd, char *out, size_t cap) {
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t len = fread(out, 1, cap - 1, p);
    out[len] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const char *binary_or_skip(void) {
    const char *binary = getenv("SB_BINARY");
    if (!binary) skip(); /* run under ctest, which says where the binary is */
    return binary;
}

/* Parse line `index` (0-based) of out as a JSON object. Caller decrefs. */
static json_t *line_json(const char *out, int index) {
    const char *p = out;
    for (int i = 0; i < index; i++) {
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }
    const char *end = strchr(p, '\n');
    assert_non_null(end);
    json_error_t err;
    json_t *obj = json_loadb(p, (size_t)(end - p), 0, &err);
    if (!obj) fail_msg("line %d is not JSON: %s (%.*s)", index, err.text, (int)(end - p), p);
    assert_true(json_is_object(obj));
    return obj;
}

static int count_lines(const char *out) {
    int n = 0;
    for (const char *p = out; *p; p++)
        n += *p == '\n';
    return n;
}

static void test_card(void **state) {
    (void)state;
    const char *binary = binary_or_skip();
    char cmd[1024], out[8192];
    snprintf(cmd, sizeof cmd, "'%s' check card 6037701689095443 '6219 8610 3452 9008' 4000000000000002", binary);
    assert_int_equal(run_command(cmd, out, sizeof out), 1);
    assert_int_equal(count_lines(out), 3);
    /* the full numbers never appear */
    assert_null(strstr(out, "6037701689095443"));
    assert_null(strstr(out, "6219861034529008"));
    assert_null(strstr(out, "4000000000000002"));
    json_t *o = line_json(out, 0);
    assert_true(json_is_true(json_object_get(o, "valid")));
    assert_string_equal(json_string_value(json_object_get(o, "masked")), "603770******5443");
    assert_string_equal(json_string_value(json_object_get(o, "bank")), "keshavarzi");
    assert_string_equal(json_string_value(json_object_get(o, "bank_name_fa")), "بانک کشاورزی");
    json_decref(o);
    o = line_json(out, 1);
    assert_true(json_is_false(json_object_get(o, "valid")));
    assert_string_equal(json_string_value(json_object_get(o, "reason")), "bad_check_digit");
    assert_string_equal(json_string_value(json_object_get(o, "masked")), "621986******9008");
    json_decref(o);
    o = line_json(out, 2);
    assert_string_equal(json_string_value(json_object_get(o, "reason")), "unknown_bank");
    json_decref(o);
    snprintf(cmd, sizeof cmd, "'%s' check card 6037701689095443 6219861034529007", binary);
    assert_int_equal(run_command(cmd, out, sizeof out), 0);
}

static void test_sheba_bill_phone(void **state) {
    (void)state;
    const char *binary = binary_or_skip();
    char cmd[1024], out[8192];
    snprintf(cmd, sizeof cmd, "'%s' check sheba IR820540102680020817909002 DE89370400440532013000", binary);
    assert_int_equal(run_command(cmd, out, sizeof out), 1);
    json_t *o = line_json(out, 0);
    assert_string_equal(json_string_value(json_object_get(o, "bank")), "parsian");
    assert_string_equal(json_string_value(json_object_get(o, "account_number")), "020817909002");
    json_decref(o);
    o = line_json(out, 1);
    assert_string_equal(json_string_value(json_object_get(o, "reason")), "not_iranian_iban");
    assert_string_equal(json_string_value(json_object_get(o, "country")), "DE");
    json_decref(o);

    snprintf(cmd, sizeof cmd, "'%s' check bill 7748317800142 1770160 2050327604613 1070189", binary);
    assert_int_equal(run_command(cmd, out, sizeof out), 0);
    assert_int_equal(count_lines(out), 2);
    o = line_json(out, 0);
    assert_string_equal(json_string_value(json_object_get(o, "type")), "fixed_phone");
    assert_int_equal(json_integer_value(json_object_get(o, "amount_rials")), 17000);
    json_decref(o);
    o = line_json(out, 1);
    assert_string_equal(json_string_value(json_object_get(o, "type")), "water");
    assert_int_equal(json_integer_value(json_object_get(o, "amount_rials")), 10000);
    json_decref(o);

    snprintf(cmd, sizeof cmd, "'%s' check phone '۰۹۱۲ ۱۲۳ ۴۵۶۷' '+380 67 123 45 67' 02112345678", binary);
    assert_int_equal(run_command(cmd, out, sizeof out), 1);
    o = line_json(out, 0);
    assert_string_equal(json_string_value(json_object_get(o, "normalized")), "+989121234567");
    assert_string_equal(json_string_value(json_object_get(o, "operator")), "mci");
    json_decref(o);
    o = line_json(out, 1);
    assert_string_equal(json_string_value(json_object_get(o, "operator")), "kyivstar");
    assert_string_equal(json_string_value(json_object_get(o, "country")), "UA");
    json_decref(o);
    o = line_json(out, 2);
    assert_string_equal(json_string_value(json_object_get(o, "reason")), "not_mobile");
    json_decref(o);
    /* hostile input: control characters and invalid UTF-8 still give valid JSON */
    snprintf(cmd, sizeof cmd, "'%s' check sheba \"$(printf 'IR\\001\\\"\\377')\"", binary);
    assert_int_equal(run_command(cmd, out, sizeof out), 1);
    o = line_json(out, 0);
    assert_string_equal(json_string_value(json_object_get(o, "reason")), "bad_character");
    json_decref(o);
}

static void test_usage_errors(void **state) {
    (void)state;
    const char *binary = binary_or_skip();
    char cmd[1024], out[8192];
    const char *usages[] = {"check", "check card", "check bill 7748317800142", "check coin 1", "check --bogus"};
    for (size_t i = 0; i < sizeof usages / sizeof usages[0]; i++) {
        snprintf(cmd, sizeof cmd, "'%s' %s 2>/dev/null", binary, usages[i]);
        assert_int_equal(run_command(cmd, out, sizeof out), 2);
        assert_string_equal(out, "");
    }
    snprintf(cmd, sizeof cmd, "'%s' check --help", binary);
    assert_int_equal(run_command(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "BILL_ID PAYMENT_ID"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_card),
        cmocka_unit_test(test_sheba_bill_phone),
        cmocka_unit_test(test_usage_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
