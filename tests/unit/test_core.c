/*
 * test_core.c - the shared conventions: buffers and their limits, digit
 * normalisation, UTF-8 validation, checked arithmetic, integer parsing,
 * allocation failure injection and log lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"

static void test_buf_grows_and_respects_max(void **state) {
    (void)state;
    sb_buf b;
    sb_buf_init(&b, 10);
    assert_int_equal(sb_buf_append_str(&b, "hello"), SB_OK);
    assert_int_equal(sb_buf_printf(&b, "%d", 1234), SB_OK);
    assert_string_equal(b.data, "hello1234");
    /* Two more bytes go over the maximum: the buffer frees itself. */
    assert_int_equal(sb_buf_append_str(&b, "xy"), SB_ELIMIT);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    sb_buf_free(&b);
}

static void test_buf_json_escape_and_take(void **state) {
    (void)state;
    sb_buf b;
    sb_buf_init(&b, 1024);
    const char raw[] = "a\"b\\c\nd\x01";
    assert_int_equal(sb_buf_append_json_escaped(&b, raw, sizeof raw - 1), SB_OK);
    size_t len;
    char *taken = sb_buf_take(&b, &len);
    assert_string_equal(taken, "a\\\"b\\\\c\\nd\\u0001");
    assert_int_equal(len, strlen(taken));
    assert_null(b.data);
    sb_free(taken);
}

static void test_digits_to_ascii(void **state) {
    (void)state;
    /* Persian ۰۹۱۲ and Arabic-Indic ٣٤٥ mixed with ASCII */
    const char in[] = "\xDB\xB0\xDB\xB9\xDB\xB1\xDB\xB2-\xD9\xA3\xD9\xA4\xD9\xA5x7";
    char out[sizeof in];
    size_t n = sb_digits_to_ascii(in, sizeof in - 1, out);
    assert_string_equal(out, "0912-345x7");
    assert_int_equal(n, 10);
}

static void test_utf8_valid(void **state) {
    (void)state;
    assert_true(sb_utf8_valid("plain", 5));
    assert_true(sb_utf8_valid("\xD8\xB3\xD9\x84\xD8\xA7\xD9\x85", 8));         /* سلام */
    assert_true(sb_utf8_valid("\xF0\x9F\x98\x80", 4));                         /* emoji */
    assert_false(sb_utf8_valid("\xC0\xAF", 2));                                /* overlong */
    assert_false(sb_utf8_valid("\xED\xA0\x80", 3));                            /* surrogate */
    assert_false(sb_utf8_valid("\xE2\x82", 2));                                /* truncated */
    assert_false(sb_utf8_valid("\xF4\x90\x80\x80", 4));                        /* > U+10FFFF */
    assert_false(sb_utf8_valid("\xFF", 1));
}

static void test_parse_int64(void **state) {
    (void)state;
    int64_t v;
    assert_int_equal(sb_parse_int64("0", &v), SB_OK);
    assert_int_equal(v, 0);
    assert_int_equal(sb_parse_int64("-42", &v), SB_OK);
    assert_int_equal(v, -42);
    assert_int_equal(sb_parse_int64("9223372036854775807", &v), SB_OK);
    assert_true(v == INT64_MAX);
    assert_int_equal(sb_parse_int64("-9223372036854775808", &v), SB_OK);
    assert_true(v == INT64_MIN);
    assert_int_equal(sb_parse_int64("9223372036854775808", &v), SB_ELIMIT);
    assert_int_equal(sb_parse_int64("12a", &v), SB_EINVAL);
    assert_int_equal(sb_parse_int64("", &v), SB_EINVAL);
    assert_int_equal(sb_parse_int64("-", &v), SB_EINVAL);
    assert_int_equal(sb_parse_int64(" 1", &v), SB_EINVAL);
}

static void test_checked_arithmetic(void **state) {
    (void)state;
    int64_t r;
    assert_int_equal(sb_add_int64(INT64_MAX - 1, 1, &r), SB_OK);
    assert_int_equal(sb_add_int64(INT64_MAX, 1, &r), SB_ELIMIT);
    assert_int_equal(sb_mul_int64(INT64_MAX / 2, 3, &r), SB_ELIMIT);
    assert_int_equal(sb_mul_int64(-7, 6, &r), SB_OK);
    assert_int_equal(r, -42);
}

static void test_alloc_failure_injection(void **state) {
    (void)state;
    sb_alloc_fail_after(2);
    void *a = sb_malloc(8), *b = sb_malloc(8), *c = sb_malloc(8);
    sb_alloc_fail_reset();
    assert_non_null(a);
    assert_non_null(b);
    assert_null(c);
    sb_free(a);
    sb_free(b);
    /* A buffer that cannot grow reports it and leaves nothing behind. */
    sb_buf buf;
    sb_buf_init(&buf, 100);
    sb_alloc_fail_after(0);
    assert_int_equal(sb_buf_append_str(&buf, "x"), SB_ENOMEM);
    sb_alloc_fail_reset();
    assert_null(buf.data);
}

static char last_line[1024];
static void capture(const char *line, size_t len, void *arg) {
    (void)arg;
    size_t n = len < sizeof last_line - 1 ? len : sizeof last_line - 1;
    memcpy(last_line, line, n);
    last_line[n] = '\0';
}

static void test_log_lines_are_json(void **state) {
    (void)state;
    sb_log_set_sink(capture, NULL);
    sb_log_fields(SB_LOG_WARN, "test.event", "{\"status\":404}", "say \"%s\"", "hi");
    sb_log_set_sink(NULL, NULL);
    assert_non_null(strstr(last_line, "\"level\":\"warn\""));
    assert_non_null(strstr(last_line, "\"event\":\"test.event\""));
    assert_non_null(strstr(last_line, "\"msg\":\"say \\\"hi\\\"\""));
    assert_non_null(strstr(last_line, ",\"status\":404}"));
    sb_log_level level;
    assert_int_equal(sb_log_level_parse("debug", &level), SB_OK);
    assert_int_equal(level, SB_LOG_DEBUG);
    assert_int_equal(sb_log_level_parse("loud", &level), SB_EINVAL);
}

static void test_random_hex(void **state) {
    (void)state;
    assert_int_equal(sb_crypto_init(), SB_OK);
    char a[65], b[65];
    sb_random_hex(a, 32);
    sb_random_hex(b, 32);
    assert_int_equal(strlen(a), 64);
    assert_string_not_equal(a, b);
    assert_true(sb_equal_ct(a, a, 64));
    assert_false(sb_equal_ct(a, b, 64));
}

static void test_token_hash(void **state) {
    (void)state;
    assert_int_equal(sb_crypto_init(), SB_OK);
    char lower[2 * SB_TOKEN_BYTES + 1], upper[2 * SB_TOKEN_BYTES + 1];
    sb_random_hex(lower, SB_TOKEN_BYTES);
    for (size_t i = 0; i <= 2 * SB_TOKEN_BYTES; i++)
        upper[i] = (char)((lower[i] >= 'a' && lower[i] <= 'f') ? lower[i] - 32 : lower[i]);
    unsigned char a[SB_TOKEN_HASH_BYTES], b[SB_TOKEN_HASH_BYTES];
    assert_int_equal(sb_token_hash(lower, true, a), SB_OK);
    assert_int_equal(sb_token_hash(upper, false, b), SB_OK);
    assert_memory_equal(a, b, SB_TOKEN_HASH_BYTES); /* the same bytes, whatever the case */
    if (strcmp(lower, upper) != 0) assert_int_equal(sb_token_hash(upper, true, b), SB_EAUTH);
    char other[2 * SB_TOKEN_BYTES + 1];
    memcpy(other, lower, sizeof other);
    other[0] = other[0] == '0' ? '1' : '0';
    assert_int_equal(sb_token_hash(other, true, b), SB_OK);
    assert_memory_not_equal(a, b, SB_TOKEN_HASH_BYTES);
    other[5] = 'g';
    assert_int_equal(sb_token_hash(other, false, b), SB_EAUTH);
    assert_int_equal(sb_token_hash(NULL, false, b), SB_EAUTH);
    lower[2 * SB_TOKEN_BYTES - 1] = '\0';
    assert_int_equal(sb_token_hash(lower, false, b), SB_EAUTH); /* one short */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_grows_and_respects_max), cmocka_unit_test(test_buf_json_escape_and_take),
        cmocka_unit_test(test_digits_to_ascii),            cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_parse_int64),                cmocka_unit_test(test_checked_arithmetic),
        cmocka_unit_test(test_alloc_failure_injection),    cmocka_unit_test(test_log_lines_are_json),
        cmocka_unit_test(test_random_hex),                 cmocka_unit_test(test_token_hash),
    };
    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
