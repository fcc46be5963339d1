/*
 * split.c - splitting a bill among shares in whole minor units, so that
 * rounding never loses or invents a rial.
 *
 * Each of subtotal, tax and tip is allocated on its own in proportion to the
 * shares' weights: share i first gets floor(amount * w_i / W) (the product
 * is taken in 128 bits, so no weight or amount can overflow it), and the
 * leftover units -- fewer than the number of shares -- go either one each
 * to the shares with the largest remainders (Hamilton's method, ties to the
 * lower index, so the result is deterministic) or all to one stated share.
 * Every column therefore sums exactly to its input, and every share is
 * >= 0.  For custom amounts the subtotal column is the amounts themselves
 * and tax and tip follow them pro rata.  No floating point anywhere.
 */
#include <string.h>

#include "payments/payments.h"

/* Allocate amount (>= 0) over count weights summing to weight_sum (> 0). */
static void allocate(int64_t amount, const int64_t *weights, size_t count, int64_t weight_sum,
                     payments_remainder_rule rule, size_t remainder_share, int64_t *out) {
    SB_ASSERT(amount >= 0 && weight_sum > 0 && count <= SB_PAYMENTS_SPLIT_SHARES_MAX);
    __int128 remainders[SB_PAYMENTS_SPLIT_SHARES_MAX];
    bool bumped[SB_PAYMENTS_SPLIT_SHARES_MAX];
    int64_t assigned = 0;
    for (size_t i = 0; i < count; i++) {
        __int128 product = (__int128)amount * weights[i];
        out[i] = (int64_t)(product / weight_sum);
        remainders[i] = product % weight_sum;
        bumped[i] = false;
        assigned += out[i]; /* sum of floors <= amount: cannot overflow */
    }
    int64_t leftover = amount - assigned;
    SB_ASSERT(leftover >= 0 && (uint64_t)leftover < count + 0u);
    if (rule == PAYMENTS_REMAINDER_TO_SHARE) {
        out[remainder_share] += leftover;
        return;
    }
    /* Hamilton: the sum of remainders is leftover * weight_sum, so there are
     * at least `leftover` shares with a positive remainder. */
    for (int64_t k = 0; k < leftover; k++) {
        size_t best = count;
        for (size_t i = 0; i < count; i++) {
            if (bumped[i]) continue;
            if (best == count || remainders[i] > remainders[best]) best = i;
        }
        SB_ASSERT(best < count && remainders[best] > 0);
        bumped[best] = true;
        out[best] += 1;
    }
}

int payments_split(const payments_split_spec *spec, payments_share *shares_out) {
    if (!spec || !shares_out) return SB_EINVAL;
    size_t count = spec->count;
    if (count == 0) return SB_EINVAL;
    if (count > SB_PAYMENTS_SPLIT_SHARES_MAX) return SB_ELIMIT;
    if (spec->subtotal_minor < 0 || spec->tax_minor < 0 || spec->tip_minor < 0) return SB_EINVAL;
    if (spec->rule != PAYMENTS_REMAINDER_LARGEST && spec->rule != PAYMENTS_REMAINDER_TO_SHARE) return SB_EINVAL;
    if (spec->rule == PAYMENTS_REMAINDER_TO_SHARE && spec->remainder_share >= count) return SB_EINVAL;
    int64_t total;
    if (sb_add_int64(spec->subtotal_minor, spec->tax_minor, &total) != SB_OK ||
        sb_add_int64(total, spec->tip_minor, &total) != SB_OK)
        return SB_ELIMIT;

    int64_t weights[SB_PAYMENTS_SPLIT_SHARES_MAX];
    int64_t weight_sum = 0;
    switch (spec->mode) {
    case PAYMENTS_SPLIT_EQUAL:
        for (size_t i = 0; i < count; i++)
            weights[i] = 1;
        weight_sum = (int64_t)count;
        break;
    case PAYMENTS_SPLIT_AMOUNTS:
    case PAYMENTS_SPLIT_WEIGHTS:
    case PAYMENTS_SPLIT_PERCENT_BP:
        if (!spec->values) return SB_EINVAL;
        for (size_t i = 0; i < count; i++) {
            int64_t v = spec->values[i];
            if (v < 0) return SB_EINVAL;
            if (spec->mode == PAYMENTS_SPLIT_PERCENT_BP && v > 10000) return SB_EINVAL;
            if (sb_add_int64(weight_sum, v, &weight_sum) != SB_OK)
                return spec->mode == PAYMENTS_SPLIT_AMOUNTS ? SB_EINVAL : SB_ELIMIT;
            weights[i] = v;
        }
        break;
    default:
        return SB_EINVAL;
    }
    if (spec->mode == PAYMENTS_SPLIT_AMOUNTS && weight_sum != spec->subtotal_minor) return SB_EINVAL;
    if (spec->mode == PAYMENTS_SPLIT_PERCENT_BP && weight_sum != 10000) return SB_EINVAL;
    if (spec->mode == PAYMENTS_SPLIT_WEIGHTS && weight_sum == 0) return SB_EINVAL;
    /* Custom amounts that are all zero cannot carry tax or tip pro rata. */
    if (weight_sum == 0 && (spec->tax_minor > 0 || spec->tip_minor > 0)) return SB_EINVAL;

    int64_t base[SB_PAYMENTS_SPLIT_SHARES_MAX], tax[SB_PAYMENTS_SPLIT_SHARES_MAX], tip[SB_PAYMENTS_SPLIT_SHARES_MAX];
    if (spec->mode == PAYMENTS_SPLIT_AMOUNTS) {
        memcpy(base, weights, count * sizeof base[0]);
    } else {
        allocate(spec->subtotal_minor, weights, count, weight_sum, spec->rule, spec->remainder_share, base);
    }
    if (weight_sum > 0) {
        allocate(spec->tax_minor, weights, count, weight_sum, spec->rule, spec->remainder_share, tax);
        allocate(spec->tip_minor, weights, count, weight_sum, spec->rule, spec->remainder_share, tip);
    } else {
        memset(tax, 0, count * sizeof tax[0]);
        memset(tip, 0, count * sizeof tip[0]);
    }

    /* The invariant that protects money: the columns sum to their inputs. */
    int64_t sum_base = 0, sum_tax = 0, sum_tip = 0, sum_total = 0;
    for (size_t i = 0; i < count; i++) {
        SB_ASSERT(base[i] >= 0 && tax[i] >= 0 && tip[i] >= 0);
        sum_base += base[i];
        sum_tax += tax[i];
        sum_tip += tip[i];
        shares_out[i].base_minor = base[i];
        shares_out[i].tax_minor = tax[i];
        shares_out[i].tip_minor = tip[i];
        shares_out[i].total_minor = base[i] + tax[i] + tip[i]; /* <= total: no overflow */
        sum_total += shares_out[i].total_minor;
    }
    SB_ASSERT(sum_base == spec->subtotal_minor && sum_tax == spec->tax_minor && sum_tip == spec->tip_minor);
    SB_ASSERT(sum_total == total);
    return SB_OK;
}
