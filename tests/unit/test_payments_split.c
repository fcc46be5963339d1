/*
 * test_payments_split.c - splitting a bill: equal, custom amounts, share
 * counts and percentages, tax and tip pro rata, largest remainder or
 * remainder to a stated share; hand-checked examples, every error path, and
 * a seeded random sweep checking the properties that protect money (each
 * column sums to its input, no share is negative, a share never differs
 * from its exact proportional value by a whole unit or more under the
 * largest-remainder rule).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "payments/payments.h"

static void test_equal_hand_checked(void **state) {
    (void)state;
    /* 100,000 rials among 3: 33,333 each, one leftover rial to share 0
     * (all remainders equal, ties to the lower index). */
    payments_split_spec spec = {.mode = PAYMENTS_SPLIT_EQUAL, .count = 3, .subtotal_minor = 100000};
    payments_share s[3];
    assert_int_equal(payments_split(&spec, s), SB_OK);
    assert_int_equal(s[0].total_minor, 33334);
    assert_int_equal(s[1].total_minor, 33333);
    assert_int_equal(s[2].total_minor, 33333);
    /* the same with the remainder stated to go to share 2 (the payer) */
    spec.rule = PAYMENTS_REMAINDER_TO_SHARE;
    spec.remainder_share = 2;
    assert_int_equal(payments_split(&spec, s), SB_OK);
    assert_int_equal(s[0].total_minor, 33333);
    assert_int_equal(s[1].total_minor, 33333);
    assert_int_equal(s[2].total_minor, 33334);
}

static void test_tax_and_tip_pro_rata(void **state) {
    (void)state;
    /* Custom amounts 50,000 / 30,000 / 20,000 (subtotal 100,000), tax 9%
     * = 9,000, tip 10,001: tax 4,500 / 2,700 / 1,800 exactly; tip
     * 5,000.5 / 3,000.3 / 2,000.2 -> floors 5,000/3,000/2,000 and the one
     * leftover rial to the largest remainder (.5, share 0). */
    int64_t amounts[3] = {50000, 30000, 20000};
    payments_split_spec spec = {.mode = PAYMENTS_SPLIT_AMOUNTS,
                                .count = 3,
                                .values = amounts,
                                .subtotal_minor = 100000,
                                .tax_minor = 9000,
                                .tip_minor = 10001};
    payments_share s[3];
    assert_int_equal(payments_split(&spec, s), SB_OK);
    assert_int_equal(s[0].base_minor, 50000);
    assert_int_equal(s[0].tax_minor, 4500);
    assert_int_equal(s[0].tip_minor, 5001);
    assert_int_equal(s[0].total_minor, 59501);
    assert_int_equal(s[1].tax_minor, 2700);
    assert_int_equal(s[1].tip_minor, 3000);
    assert_int_equal(s[1].total_minor, 35700);
    assert_int_equal(s[2].tip_minor, 2000);
    assert_int_equal(s[2].total_minor, 23800);
    /* custom amounts must sum to the subtotal */
    amounts[2] = 19999;
    assert_int_equal(payments_split(&spec, s), SB_EINVAL);
}

static void test_weights_and_percent(void **state) {
    (void)state;
    /* share counts 2:1:1 of 10,001: 5,000.5 / 2,500.25 / 2,500.25 ->
     * 5,000 / 2,500 / 2,500 and the leftover rial to share 0 (.5). */
    int64_t weights[3] = {2, 1, 1};
    payments_split_spec spec = {.mode = PAYMENTS_SPLIT_WEIGHTS, .count = 3, .values = weights, .subtotal_minor = 10001};
    payments_share s[3];
    assert_int_equal(payments_split(&spec, s), SB_OK);
    assert_int_equal(s[0].total_minor, 5001);
    assert_int_equal(s[1].total_minor, 2500);
    assert_int_equal(s[2].total_minor, 2500);
    /* 33.33% / 33.33% / 33.34% of 1,000: 333.3 / 333.3 / 333.4 -> 333/333/333,
     * leftover to the largest remainder: share 2 (.4). */
    int64_t bp[3] = {3333, 3333, 3334};
    spec.mode = PAYMENTS_SPLIT_PERCENT_BP;
    spec.values = bp;
    spec.subtotal_minor = 1000;
    assert_int_equal(payments_split(&spec, s), SB_OK);
    assert_int_equal(s[0].total_minor, 333);
    assert_int_equal(s[1].total_minor, 333);
    assert_int_equal(s[2].total_minor, 334);
    bp[2] = 3333; /* sums to 9,999 */
    assert_int_equal(payments_split(&spec, s), SB_EINVAL);
    bp[2] = 10001;
    assert_int_equal(payments_split(&spec, s), SB_EINVAL);
    /* a zero weight gets nothing, even of the remainder */
    int64_t w2[3] = {0, 1, 1};
    payments_split_spec spec2 = {
        .mode = PAYMENTS_SPLIT_WEIGHTS, .count = 3, .values = w2, .subtotal_minor = 7, .tax_minor = 3};
    assert_int_equal(payments_split(&spec2, s), SB_OK);
    assert_int_equal(s[0].total_minor, 0);
    assert_int_equal(s[1].total_minor + s[2].total_minor, 10);
}

static void test_errors(void **state) {
    (void)state;
    payments_share s[4];
    int64_t w[4] = {1, 1, 1, 1};
    payments_split_spec spec = {.mode = PAYMENTS_SPLIT_WEIGHTS, .count = 4, .values = w, .subtotal_minor = 100};
    assert_int_equal(payments_split(NULL, s), SB_EINVAL);
    assert_int_equal(payments_split(&spec, NULL), SB_EINVAL);
    spec.count = 0;
    assert_int_equal(payments_split(&spec, s), SB_EINVAL);
    spec.count = SB_PAYMENTS_SPLIT_SHARES_MAX + 1;
    assert_int_equal(payments_split(&spec, s), SB_ELIMIT);
    spec.count = 4;
    spec.subtotal_minor = -1;
    assert_int_equal(payments_split(&spec, s), SB_EINVAL);
    spec.subtotal_minor = 100;
    spec.tax_minor = -5;
    assert_int_equal(payments_split(&spec, s), SB_EINVAL);
    spec.tax_minor = INT64_MAX;
    assert_int_equal(payments_split(&spec, s), SB_ELIMIT); /* subtotal + tax overflows */
    spec.tax_minor = 0;
    w[1] = -1;
    assert_int_equal(payments_split(&spec, s), SB_EINVAL);
    w[1] = 0;
    w[0] = w[2] = w[3] = 0;
    assert_int_equal(payments_split(&spec, s), SB_EINVAL); /* all-zero weights */
    w[0] = INT64_MAX;
    w[1] = 1;
    assert_int_equal(payments_split(&spec, s), SB_ELIMIT); /* weights overflow */
    w[0] = w[1] = w[2] = w[3] = 1;
    spec.values = NULL;
    assert_int_equal(payments_split(&spec, s), SB_EINVAL);
    spec.values = w;
    spec.rule = PAYMENTS_REMAINDER_TO_SHARE;
    spec.remainder_share = 4;
    assert_int_equal(payments_split(&spec, s), SB_EINVAL);
    spec.rule = (payments_remainder_rule)7;
    assert_int_equal(payments_split(&spec, s), SB_EINVAL);
    spec.rule = PAYMENTS_REMAINDER_LARGEST;
    spec.mode = (payments_split_mode)9;
    assert_int_equal(payments_split(&spec, s), SB_EINVAL);
    /* custom amounts all zero cannot carry a tax */
    int64_t zero[2] = {0, 0};
    payments_split_spec z = {.mode = PAYMENTS_SPLIT_AMOUNTS, .count = 2, .values = zero, .tax_minor = 10};
    assert_int_equal(payments_split(&z, s), SB_EINVAL);
    z.tax_minor = 0;
    assert_int_equal(payments_split(&z, s), SB_OK);
    assert_int_equal(s[0].total_minor + s[1].total_minor, 0);
}

static void test_extremes(void **state) {
    (void)state;
    /* the largest total that fits, among the most shares, with huge weights */
    static payments_share s[SB_PAYMENTS_SPLIT_SHARES_MAX];
    static int64_t w[SB_PAYMENTS_SPLIT_SHARES_MAX];
    for (size_t i = 0; i < SB_PAYMENTS_SPLIT_SHARES_MAX; i++)
        w[i] = INT64_MAX / SB_PAYMENTS_SPLIT_SHARES_MAX - (int64_t)i;
    payments_split_spec spec = {.mode = PAYMENTS_SPLIT_WEIGHTS,
                                .count = SB_PAYMENTS_SPLIT_SHARES_MAX,
                                .values = w,
                                .subtotal_minor = INT64_MAX - 2,
                                .tax_minor = 1,
                                .tip_minor = 1};
    assert_int_equal(payments_split(&spec, s), SB_OK);
    int64_t sum = 0;
    for (size_t i = 0; i < SB_PAYMENTS_SPLIT_SHARES_MAX; i++) {
        assert_true(s[i].total_minor >= 0);
        assert_int_equal(sb_add_int64(sum, s[i].total_minor, &sum), SB_OK);
    }
    assert_true(sum == INT64_MAX);
    spec.tip_minor = 2;
    assert_int_equal(payments_split(&spec, s), SB_ELIMIT);
}

/* splitmix64: a small seeded generator so the sweep is reproducible. */
static uint64_t rng_state;
static uint64_t rng_next(void) {
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
/* Uniform-ish in [lo, hi] for 0 <= lo <= hi (the span + 1 fits uint64). */
static int64_t rng_range(int64_t lo, int64_t hi) {
    uint64_t span = (uint64_t)hi - (uint64_t)lo + 1;
    return lo + (int64_t)(rng_next() % span);
}

/* A random amount of a random magnitude, so small totals, totals near the
 * share count and huge ones all occur. */
static int64_t random_amount(void) {
    switch (rng_next() % 5) {
    case 0:
        return rng_range(0, 10);
    case 1:
        return rng_range(0, 100000);
    case 2:
        return rng_range(0, 10000000000LL);
    case 3:
        return rng_range(0, INT64_MAX / 4);
    default:
        return rng_range(INT64_MAX - 1000, INT64_MAX); /* near the edge: sums may overflow */
    }
}

static void check_column(const char *what, int64_t input, const int64_t *got, const int64_t *weights, size_t count,
                         payments_remainder_rule rule) {
    int64_t sum = 0;
    int64_t weight_sum = 0;
    for (size_t i = 0; i < count; i++)
        weight_sum += weights[i];
    for (size_t i = 0; i < count; i++) {
        if (got[i] < 0) fail_msg("%s: share %zu is negative (%lld)", what, i, (long long)got[i]);
        sum += got[i];
        if (rule == PAYMENTS_REMAINDER_LARGEST && weight_sum > 0) {
            /* |got - exact| < 1, i.e. floor(exact) <= got <= floor(exact) + 1 */
            __int128 product = (__int128)input * weights[i];
            int64_t floor_part = (int64_t)(product / weight_sum);
            if (got[i] < floor_part || got[i] - floor_part > 1)
                fail_msg("%s: share %zu is %lld, exact floor %lld", what, i, (long long)got[i], (long long)floor_part);
        }
    }
    if (sum != input) fail_msg("%s: shares sum to %lld, input %lld", what, (long long)sum, (long long)input);
}

static void test_random_sweep(void **state) {
    (void)state;
    static payments_share s[SB_PAYMENTS_SPLIT_SHARES_MAX];
    static int64_t values[SB_PAYMENTS_SPLIT_SHARES_MAX];
    static int64_t weights[SB_PAYMENTS_SPLIT_SHARES_MAX];
    static int64_t col[SB_PAYMENTS_SPLIT_SHARES_MAX];
    rng_state = 20261123; /* fixed seed: a failure reproduces */
    int ok = 0, overflow = 0;
    for (int iter = 0; iter < 20000; iter++) {
        size_t count = (size_t)(rng_next() % 3 == 0 ? rng_range(1, SB_PAYMENTS_SPLIT_SHARES_MAX) : rng_range(1, 12));
        payments_split_spec spec = {0};
        spec.count = count;
        spec.mode = (payments_split_mode)(rng_next() % 4);
        spec.rule = (payments_remainder_rule)(rng_next() % 2);
        spec.remainder_share = (size_t)rng_range(0, (int64_t)count - 1);
        spec.subtotal_minor = random_amount();
        spec.tax_minor = rng_next() % 2 ? random_amount() / (int64_t)(rng_next() % 2 + 1) : 0;
        spec.tip_minor = rng_next() % 4 == 0 ? random_amount() : 0;
        if (spec.mode == PAYMENTS_SPLIT_EQUAL) {
            for (size_t i = 0; i < count; i++)
                weights[i] = 1;
        } else if (spec.mode == PAYMENTS_SPLIT_WEIGHTS) {
            for (size_t i = 0; i < count; i++)
                values[i] = weights[i] = rng_range(0, rng_next() % 2 ? 10 : 1000000000);
            values[0] = weights[0] = weights[0] + 1; /* never all zero */
            spec.values = values;
        } else if (spec.mode == PAYMENTS_SPLIT_PERCENT_BP) {
            /* random cut points of 10000 */
            int64_t left = 10000;
            for (size_t i = 0; i + 1 < count; i++) {
                values[i] = left > 0 ? rng_range(0, left) / (rng_next() % 3 + 1) : 0;
                left -= values[i];
            }
            values[count - 1] = left;
            for (size_t i = 0; i < count; i++)
                weights[i] = values[i];
            spec.values = values;
        } else { /* AMOUNTS: random parts of the subtotal */
            int64_t left = spec.subtotal_minor;
            for (size_t i = 0; i + 1 < count; i++) {
                values[i] = left > 0 ? rng_range(0, left) / (int64_t)(rng_next() % (count + 1) + 1) : 0;
                left -= values[i];
            }
            values[count - 1] = left;
            for (size_t i = 0; i < count; i++)
                weights[i] = values[i];
            spec.values = values;
            if (spec.subtotal_minor == 0) spec.tax_minor = spec.tip_minor = 0;
        }
        int64_t total;
        bool fits = sb_add_int64(spec.subtotal_minor, spec.tax_minor, &total) == SB_OK &&
                    sb_add_int64(total, spec.tip_minor, &total) == SB_OK;
        int rc = payments_split(&spec, s);
        if (!fits) {
            assert_int_equal(rc, SB_ELIMIT);
            overflow++;
            continue;
        }
        if (rc != SB_OK) fail_msg("iteration %d: mode %d count %zu returned %d", iter, spec.mode, count, rc);
        ok++;
        for (size_t i = 0; i < count; i++)
            col[i] = s[i].base_minor;
        if (spec.mode == PAYMENTS_SPLIT_AMOUNTS) {
            for (size_t i = 0; i < count; i++)
                if (col[i] != values[i]) fail_msg("iteration %d: custom amount %zu changed", iter, i);
        }
        check_column("subtotal", spec.subtotal_minor, col, weights, count, spec.rule);
        for (size_t i = 0; i < count; i++)
            col[i] = s[i].tax_minor;
        check_column("tax", spec.tax_minor, col, weights, count, spec.rule);
        for (size_t i = 0; i < count; i++)
            col[i] = s[i].tip_minor;
        check_column("tip", spec.tip_minor, col, weights, count, spec.rule);
        int64_t sum = 0;
        for (size_t i = 0; i < count; i++) {
            assert_true(s[i].total_minor == s[i].base_minor + s[i].tax_minor + s[i].tip_minor);
            sum += s[i].total_minor;
        }
        assert_true(sum == total);
    }
    /* the sweep must have exercised both outcomes */
    assert_true(ok > 10000);
    assert_true(overflow > 100);
    print_message("split sweep: %d splits checked, %d overflows rejected\n", ok, overflow);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equal_hand_checked),
        cmocka_unit_test(test_tax_and_tip_pro_rata),
        cmocka_unit_test(test_weights_and_percent),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_extremes),
        cmocka_unit_test(test_random_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
