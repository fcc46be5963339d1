/*
 * test_payments_fees.c - fees (fixed + basis points, min/max) and daily
 * limits per customer as pure functions over a policy; every verdict in its
 * order, overflow, the policy's own validation and the policy day.
 * All expected values are hand-checked in the comments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "payments/payments.h"

static void test_fee_rules(void **state) {
    (void)state;
    payments_policy p;
    payments_policy_default(&p);
    assert_int_equal(payments_policy_validate(&p), SB_OK);
    int64_t fee;
    /* default card-to-card: 6,000 + 0.02%, min 6,000, max 50,000 */
    assert_int_equal(payments_fee(&p, PAYMENTS_OP_CARD_TO_CARD, 1000000, &fee), SB_OK);
    assert_int_equal(fee, 6200); /* 6,000 + 1,000,000 * 2 / 10,000 = 6,200 */
    assert_int_equal(payments_fee(&p, PAYMENTS_OP_CARD_TO_CARD, 1, &fee), SB_OK);
    assert_int_equal(fee, 6000); /* 0.0002 rounds down to 0 */
    assert_int_equal(payments_fee(&p, PAYMENTS_OP_CARD_TO_CARD, 1000000000, &fee), SB_OK);
    assert_int_equal(fee, 50000); /* 6,000 + 200,000 capped at 50,000 */
    assert_int_equal(payments_fee(&p, PAYMENTS_OP_TRANSFER, 123456789, &fee), SB_OK);
    assert_int_equal(fee, 0);

    /* a rule with a minimum above fixed + rate */
    p.fee[PAYMENTS_OP_BILL] = (payments_fee_rule){100, 150, 2000, 9000};
    assert_int_equal(payments_fee(&p, PAYMENTS_OP_BILL, 10000, &fee), SB_OK);
    assert_int_equal(fee, 2000); /* 100 + 150 = 250 -> min 2,000 */
    assert_int_equal(payments_fee(&p, PAYMENTS_OP_BILL, 333333, &fee), SB_OK);
    assert_int_equal(fee, 5099); /* 100 + floor(333,333 * 150 / 10,000 = 4,999.995) = 5,099 */
    /* the rate on the largest amount: 128-bit product, no overflow */
    p.fee[PAYMENTS_OP_BILL] = (payments_fee_rule){0, 10000, 0, INT64_MAX};
    assert_int_equal(payments_fee(&p, PAYMENTS_OP_BILL, INT64_MAX, &fee), SB_OK);
    assert_true(fee == INT64_MAX);
    /* fixed + rate overflowing */
    p.fee[PAYMENTS_OP_BILL] = (payments_fee_rule){1, 10000, 0, INT64_MAX};
    assert_int_equal(payments_fee(&p, PAYMENTS_OP_BILL, INT64_MAX, &fee), SB_ELIMIT);
    /* bad arguments */
    assert_int_equal(payments_fee(&p, PAYMENTS_OP_BILL, 0, &fee), SB_EINVAL);
    assert_int_equal(payments_fee(&p, PAYMENTS_OP_BILL, -5, &fee), SB_EINVAL);
    assert_int_equal(payments_fee(&p, PAYMENTS_OP_COUNT, 5, &fee), SB_EINVAL);
    assert_int_equal(payments_fee(NULL, PAYMENTS_OP_BILL, 5, &fee), SB_EINVAL);
}

static void test_policy_validation(void **state) {
    (void)state;
    payments_policy p;
    payments_policy_default(&p);
    p.fee[PAYMENTS_OP_TOPUP].rate_bp = 10001;
    assert_int_equal(payments_policy_validate(&p), SB_EINVAL);
    payments_policy_default(&p);
    p.fee[PAYMENTS_OP_TOPUP].max_minor = -1; /* below min 0 */
    assert_int_equal(payments_policy_validate(&p), SB_EINVAL);
    payments_policy_default(&p);
    p.fee[PAYMENTS_OP_TOPUP].fixed_minor = -1;
    assert_int_equal(payments_policy_validate(&p), SB_EINVAL);
    payments_policy_default(&p);
    p.limit[PAYMENTS_OP_TOPUP].amount_max_minor = 0;
    assert_int_equal(payments_policy_validate(&p), SB_EINVAL);
    payments_policy_default(&p);
    p.limit[PAYMENTS_OP_TOPUP].daily_count_max = -1;
    assert_int_equal(payments_policy_validate(&p), SB_EINVAL);
    payments_policy_default(&p);
    p.day_offset_minutes = 15 * 60;
    assert_int_equal(payments_policy_validate(&p), SB_EINVAL);
    assert_int_equal(payments_policy_validate(NULL), SB_EINVAL);
}

static void test_limits_in_order(void **state) {
    (void)state;
    payments_policy p;
    payments_policy_default(&p);
    p.limit[PAYMENTS_OP_TRANSFER] = (payments_limit_rule){1000, 2500, 3};
    p.daily_total_max_minor = 4000;
    payments_usage u;
    memset(&u, 0, sizeof u);
    payments_limit_verdict v;
    assert_int_equal(payments_limit_check(&p, PAYMENTS_OP_TRANSFER, &u, 1000, &v), SB_OK);
    assert_int_equal(v, PAYMENTS_LIMIT_OK);
    assert_int_equal(payments_limit_check(&p, PAYMENTS_OP_TRANSFER, &u, 0, &v), SB_ELIMIT);
    assert_int_equal(v, PAYMENTS_LIMIT_AMOUNT_NOT_POSITIVE);
    assert_int_equal(payments_limit_check(&p, PAYMENTS_OP_TRANSFER, &u, 1001, &v), SB_ELIMIT);
    assert_int_equal(v, PAYMENTS_LIMIT_OPERATION_MAX);
    /* two done today for 2,000: a third of 500 fits (2,500), of 501 does not */
    u.count[PAYMENTS_OP_TRANSFER] = 2;
    u.amount_minor[PAYMENTS_OP_TRANSFER] = 2000;
    assert_int_equal(payments_limit_check(&p, PAYMENTS_OP_TRANSFER, &u, 500, &v), SB_OK);
    assert_int_equal(payments_limit_check(&p, PAYMENTS_OP_TRANSFER, &u, 501, &v), SB_ELIMIT);
    assert_int_equal(v, PAYMENTS_LIMIT_DAILY_KIND);
    /* a fourth operation is refused on count before amount */
    u.count[PAYMENTS_OP_TRANSFER] = 3;
    assert_int_equal(payments_limit_check(&p, PAYMENTS_OP_TRANSFER, &u, 1, &v), SB_ELIMIT);
    assert_int_equal(v, PAYMENTS_LIMIT_DAILY_COUNT);
    /* the total over all kinds: 2,000 transfers + 1,900 bills + 101 > 4,000 */
    u.count[PAYMENTS_OP_TRANSFER] = 2;
    u.amount_minor[PAYMENTS_OP_BILL] = 1900;
    assert_int_equal(payments_limit_check(&p, PAYMENTS_OP_TRANSFER, &u, 100, &v), SB_OK);
    assert_int_equal(payments_limit_check(&p, PAYMENTS_OP_TRANSFER, &u, 101, &v), SB_ELIMIT);
    assert_int_equal(v, PAYMENTS_LIMIT_DAILY_TOTAL);
    assert_string_equal(payments_limit_verdict_name(v), "daily_total_amount");
    /* usage that would overflow is a refusal, not a wrap-around */
    u.amount_minor[PAYMENTS_OP_BILL] = INT64_MAX;
    assert_int_equal(payments_limit_check(&p, PAYMENTS_OP_TRANSFER, &u, 1, &v), SB_ELIMIT);
    assert_int_equal(v, PAYMENTS_LIMIT_DAILY_TOTAL);
    u.amount_minor[PAYMENTS_OP_BILL] = 0;
    u.amount_minor[PAYMENTS_OP_TRANSFER] = INT64_MAX;
    p.limit[PAYMENTS_OP_TRANSFER].daily_amount_max_minor = INT64_MAX;
    assert_int_equal(payments_limit_check(&p, PAYMENTS_OP_TRANSFER, &u, 1, &v), SB_ELIMIT);
    assert_int_equal(v, PAYMENTS_LIMIT_DAILY_KIND);
    /* bad input */
    u.amount_minor[PAYMENTS_OP_TRANSFER] = -1;
    assert_int_equal(payments_limit_check(&p, PAYMENTS_OP_TRANSFER, &u, 1, &v), SB_EINVAL);
    assert_int_equal(payments_limit_check(&p, PAYMENTS_OP_COUNT, &u, 1, &v), SB_EINVAL);
    assert_string_equal(payments_op_kind_name(PAYMENTS_OP_CARD_TO_CARD), "card_to_card");
}

static void test_policy_day(void **state) {
    (void)state;
    payments_policy p;
    payments_policy_default(&p); /* Tehran, +03:30 */
    /* 2026-11-23T20:29:59Z is 23:59:59 in Tehran; 20:30:00Z is midnight. */
    const int64_t day_2026_11_23 = 20780; /* days from 1970-01-01 to 2026-11-23 */
    const int64_t t = day_2026_11_23 * 86400000LL;
    assert_true(payments_policy_day(&p, t + (20 * 3600 + 29 * 60 + 59) * 1000LL) == day_2026_11_23);
    assert_true(payments_policy_day(&p, t + (20 * 3600 + 30 * 60) * 1000LL) == day_2026_11_23 + 1);
    /* before 1970: floor, not truncation */
    p.day_offset_minutes = 0;
    assert_true(payments_policy_day(&p, -1) == -1);
    assert_true(payments_policy_day(&p, INT64_MAX) == INT64_MAX / 86400000LL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fee_rules),
        cmocka_unit_test(test_policy_validation),
        cmocka_unit_test(test_limits_in_order),
        cmocka_unit_test(test_policy_day),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
