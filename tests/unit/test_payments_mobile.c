/*
 * test_payments_mobile.c - mobile numbers for top-up: normalisation through
 * sb_phone_normalize and the operator from the prefix.
 *
 * Published vectors: persian-tools (github.com/persian-tools/persian-tools,
 * test/phoneNumber.spec.ts): 09022002580 -> Irancell, 09981000000 -> Shatel
 * Mobile, 09300880440 -> Irancell, 09802002580 -> invalid, and the prefix
 * forms +98/98/0098/bare.  Ukrainian operator codes are hand-checked against
 * the regulator's assignments (Kyivstar 67/68/96/97/98, Vodafone 50/66/95/99,
 * lifecell 63/73/93).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "payments/payments.h"

typedef struct {
    const char *in;
    const char *e164;
    payments_operator op;
    const char *prefix;
} mobile_case;

static const mobile_case cases[] = {
    /* persian-tools test/phoneNumber.spec.ts */
    {"09022002580", "+989022002580", PAYMENTS_OPERATOR_IRANCELL, "902"},
    {"09981000000", "+989981000000", PAYMENTS_OPERATOR_SHATEL, "998"},
    {"09300880440", "+989300880440", PAYMENTS_OPERATOR_IRANCELL, "930"},
    {"09122002580", "+989122002580", PAYMENTS_OPERATOR_MCI, "912"},
    {"09322002580", "+989322002580", PAYMENTS_OPERATOR_TALIYA, "932"},
    {"09192002580", "+989192002580", PAYMENTS_OPERATOR_MCI, "919"},
    {"09002002580", "+989002002580", PAYMENTS_OPERATOR_IRANCELL, "900"},
    {"+989022002580", "+989022002580", PAYMENTS_OPERATOR_IRANCELL, "902"},
    {"989022002580", "+989022002580", PAYMENTS_OPERATOR_IRANCELL, "902"},
    {"00989022002580", "+989022002580", PAYMENTS_OPERATOR_IRANCELL, "902"},
    {"9022002580", "+989022002580", PAYMENTS_OPERATOR_IRANCELL, "902"},
    {"+989373708555", "+989373708555", PAYMENTS_OPERATOR_IRANCELL, "937"},
    /* hand-checked, from the operator prefix table */
    {"0920 123 4567", "+989201234567", PAYMENTS_OPERATOR_RIGHTEL, "920"},
    {"09901234567", "+989901234567", PAYMENTS_OPERATOR_MCI, "990"},
    {"09411234567", "+989411234567", PAYMENTS_OPERATOR_IRANCELL, "941"},
    /* Persian digits ۰۹۱۲۳۴۵۶۷۸۹ */
    {"\xDB\xB0\xDB\xB9\xDB\xB1\xDB\xB2\xDB\xB3\xDB\xB4\xDB\xB5\xDB\xB6\xDB\xB7\xDB\xB8\xDB\xB9", "+989123456789",
     PAYMENTS_OPERATOR_MCI, "912"},
    /* Ukraine */
    {"+380 67 123 45 67", "+380671234567", PAYMENTS_OPERATOR_KYIVSTAR, "67"},
    {"0971234567", "+380971234567", PAYMENTS_OPERATOR_KYIVSTAR, "97"},
    {"0501234567", "+380501234567", PAYMENTS_OPERATOR_VODAFONE_UA, "50"},
    {"00380951234567", "+380951234567", PAYMENTS_OPERATOR_VODAFONE_UA, "95"},
    {"380631234567", "+380631234567", PAYMENTS_OPERATOR_LIFECELL, "63"},
    {"093-123-45-67", "+380931234567", PAYMENTS_OPERATOR_LIFECELL, "93"},
    {"0731234567", "+380731234567", PAYMENTS_OPERATOR_LIFECELL, "73"},
};

static void test_operators(void **state) {
    (void)state;
    for (size_t i = 0; i < SB_ARRAY_LEN(cases); i++) {
        payments_mobile m;
        payments_reason reason;
        int rc = payments_mobile_parse(cases[i].in, &m, &reason);
        if (rc != SB_OK) print_error("case %zu (%s): %s\n", i, cases[i].in, payments_reason_name(reason));
        assert_int_equal(rc, SB_OK);
        assert_string_equal(m.e164, cases[i].e164);
        assert_int_equal(m.operator_id, cases[i].op);
        assert_string_equal(m.prefix, cases[i].prefix);
    }
    assert_string_equal(payments_operator_id(PAYMENTS_OPERATOR_MCI), "mci");
    assert_string_equal(payments_operator_name(PAYMENTS_OPERATOR_IRANCELL), "MTN Irancell");
    assert_string_equal(payments_operator_id(PAYMENTS_OPERATOR_COUNT), "none");
}

static void test_rejections(void **state) {
    (void)state;
    payments_mobile m;
    payments_reason reason;
    /* persian-tools: 09802002580 is not a mobile */
    assert_int_equal(payments_mobile_parse("09802002580", &m, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_NOT_MOBILE);
    /* persian-tools normalizer throws on these */
    assert_int_equal(payments_mobile_parse("0", &m, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_NOT_MOBILE);
    assert_int_equal(payments_mobile_parse("+98", &m, &reason), SB_EINVAL);
    assert_int_equal(payments_mobile_parse("99999999999", &m, &reason), SB_EINVAL);
    assert_int_equal(payments_mobile_parse("   99999999     ", &m, &reason), SB_EINVAL);
    /* landline */
    assert_int_equal(payments_mobile_parse("02188776655", &m, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_NOT_MOBILE);
    assert_string_equal(m.e164, "");
    assert_int_equal(payments_mobile_parse("", &m, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_EMPTY);
    /* a mobile range with no operator in the table: number kept, operator none */
    assert_int_equal(payments_mobile_parse("09991234567", &m, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_UNKNOWN_OPERATOR);
    assert_string_equal(m.e164, "+989991234567");
    assert_int_equal(m.operator_id, PAYMENTS_OPERATOR_NONE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_operators),
        cmocka_unit_test(test_rejections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
