/*
 * fees.c - fees and per-customer daily limits as pure functions over a
 * policy: no clock, no store, no global state, so the same inputs always
 * give the same answer and the ledger-backed operations can call them
 * inside a transfer's checks.
 *
 * A fee is fixed + amount * rate (basis points, rounded down: the customer
 * never pays a fraction of a rial more than the stated rate), clamped to
 * [min, max].  A limit check looks at one operation's amount against the
 * per-operation cap, the number of operations of that kind today, the
 * kind's daily cap and the daily cap over all kinds, in that order; the
 * first that fails is the verdict.  All arithmetic is checked.
 */
#include <string.h>

#include "payments/payments.h"

#define MS_PER_DAY (24LL * 60 * 60 * 1000)

const char *payments_op_kind_name(payments_op_kind kind) {
    switch (kind) {
    case PAYMENTS_OP_TRANSFER:
        return "transfer";
    case PAYMENTS_OP_CARD_TO_CARD:
        return "card_to_card";
    case PAYMENTS_OP_BILL:
        return "bill";
    case PAYMENTS_OP_TOPUP:
        return "topup";
    case PAYMENTS_OP_REQUEST:
        return "request";
    default:
        return "unknown";
    }
}

const char *payments_limit_verdict_name(payments_limit_verdict verdict) {
    switch (verdict) {
    case PAYMENTS_LIMIT_OK:
        return "ok";
    case PAYMENTS_LIMIT_AMOUNT_NOT_POSITIVE:
        return "amount_not_positive";
    case PAYMENTS_LIMIT_OPERATION_MAX:
        return "operation_max";
    case PAYMENTS_LIMIT_DAILY_COUNT:
        return "daily_count";
    case PAYMENTS_LIMIT_DAILY_KIND:
        return "daily_kind_amount";
    case PAYMENTS_LIMIT_DAILY_TOTAL:
        return "daily_total_amount";
    default:
        return "unknown";
    }
}

/* An example policy in rials; a bank sets its own.  The shape follows the
 * Iranian retail rules of thumb: card-to-card over Shetab carries a small
 * fee and a daily cap of 100,000,000 rials per customer; wallet transfers
 * and request payments are free; bills and top-ups are free to the payer. */
void payments_policy_default(payments_policy *policy_out) {
    memset(policy_out, 0, sizeof *policy_out);
    for (int k = 0; k < PAYMENTS_OP_COUNT; k++) {
        policy_out->fee[k] = (payments_fee_rule){0, 0, 0, INT64_MAX};
        policy_out->limit[k] = (payments_limit_rule){500000000, 2000000000, 200};
    }
    policy_out->fee[PAYMENTS_OP_CARD_TO_CARD] = (payments_fee_rule){6000, 2, 6000, 50000};
    policy_out->limit[PAYMENTS_OP_CARD_TO_CARD] = (payments_limit_rule){100000000, 100000000, 50};
    policy_out->limit[PAYMENTS_OP_TOPUP] = (payments_limit_rule){10000000, 50000000, 50};
    policy_out->daily_total_max_minor = 3000000000;
    policy_out->day_offset_minutes = 210; /* Tehran, UTC+03:30 (no DST since 2022) */
}

int payments_policy_validate(const payments_policy *policy) {
    if (!policy) return SB_EINVAL;
    for (int k = 0; k < PAYMENTS_OP_COUNT; k++) {
        const payments_fee_rule *f = &policy->fee[k];
        if (f->fixed_minor < 0 || f->rate_bp < 0 || f->rate_bp > 10000 || f->min_minor < 0 ||
            f->max_minor < f->min_minor)
            return SB_EINVAL;
        const payments_limit_rule *l = &policy->limit[k];
        if (l->amount_max_minor <= 0 || l->daily_amount_max_minor < 0 || l->daily_count_max < 0) return SB_EINVAL;
    }
    if (policy->daily_total_max_minor < 0) return SB_EINVAL;
    if (policy->day_offset_minutes < -12 * 60 || policy->day_offset_minutes > 14 * 60) return SB_EINVAL;
    return SB_OK;
}

int payments_fee(const payments_policy *policy, payments_op_kind kind, int64_t amount_minor, int64_t *fee_minor_out) {
    if (!policy || !fee_minor_out || (unsigned)kind >= PAYMENTS_OP_COUNT || amount_minor <= 0) return SB_EINVAL;
    const payments_fee_rule *rule = &policy->fee[kind];
    if (rule->rate_bp < 0 || rule->rate_bp > 10000 || rule->fixed_minor < 0) return SB_EINVAL;
    /* amount * rate / 10000 <= amount: the 128-bit product cannot overflow
     * and the quotient fits int64. */
    int64_t proportional = (int64_t)(((__int128)amount_minor * rule->rate_bp) / 10000);
    int64_t fee;
    if (sb_add_int64(rule->fixed_minor, proportional, &fee) != SB_OK) return SB_ELIMIT;
    if (fee < rule->min_minor) fee = rule->min_minor;
    if (fee > rule->max_minor) fee = rule->max_minor;
    *fee_minor_out = fee;
    return SB_OK;
}

int payments_limit_check(const payments_policy *policy, payments_op_kind kind, const payments_usage *usage,
                         int64_t amount_minor, payments_limit_verdict *verdict_out) {
    if (!policy || !usage || !verdict_out || (unsigned)kind >= PAYMENTS_OP_COUNT) return SB_EINVAL;
    int64_t used_total = 0;
    for (int k = 0; k < PAYMENTS_OP_COUNT; k++) {
        if (usage->amount_minor[k] < 0 || usage->count[k] < 0) return SB_EINVAL;
        if (sb_add_int64(used_total, usage->amount_minor[k], &used_total) != SB_OK) used_total = INT64_MAX;
    }
    const payments_limit_rule *rule = &policy->limit[kind];
    payments_limit_verdict verdict = PAYMENTS_LIMIT_OK;
    int64_t after;
    if (amount_minor <= 0)
        verdict = PAYMENTS_LIMIT_AMOUNT_NOT_POSITIVE;
    else if (amount_minor > rule->amount_max_minor)
        verdict = PAYMENTS_LIMIT_OPERATION_MAX;
    else if (usage->count[kind] >= rule->daily_count_max)
        verdict = PAYMENTS_LIMIT_DAILY_COUNT;
    else if (sb_add_int64(usage->amount_minor[kind], amount_minor, &after) != SB_OK ||
             after > rule->daily_amount_max_minor)
        verdict = PAYMENTS_LIMIT_DAILY_KIND;
    else if (sb_add_int64(used_total, amount_minor, &after) != SB_OK || after > policy->daily_total_max_minor)
        verdict = PAYMENTS_LIMIT_DAILY_TOTAL;
    *verdict_out = verdict;
    return verdict == PAYMENTS_LIMIT_OK ? SB_OK : SB_ELIMIT;
}

int64_t payments_policy_day(const payments_policy *policy, int64_t epoch_ms) {
    int64_t local_ms;
    if (sb_add_int64(epoch_ms, (int64_t)policy->day_offset_minutes * 60 * 1000, &local_ms) != SB_OK)
        local_ms = epoch_ms; /* only within 14 hours of the int64 range's ends: no real clock is there */
    int64_t day = local_ms / MS_PER_DAY;
    if (local_ms % MS_PER_DAY < 0) day -= 1; /* floor for times before 1970 */
    return day;
}
