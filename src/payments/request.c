/*
 * request.c - the rules of money requests: who may pay, decline or cancel a
 * request, when it expires, and what a retry sees.
 *
 * A request is pending until exactly one of: paid by its payer for exactly
 * its amount, declined by its payer, cancelled by its requester, or expired
 * by the clock.  Final states never change.  Rejections are verdicts in a
 * documented precedence order (payments.h), and repeating an action that
 * already happened (same action, same actor) is EXISTS, so clients can retry
 * safely -- the same contract as the ledger's transfer ids.  Pure: no clock,
 * no store; the caller persists the struct.
 */
#include <string.h>

#include "payments/payments.h"

const char *payments_request_state_name(payments_request_state state) {
    switch (state) {
    case PAYMENTS_REQUEST_PENDING:
        return "pending";
    case PAYMENTS_REQUEST_PAID:
        return "paid";
    case PAYMENTS_REQUEST_DECLINED:
        return "declined";
    case PAYMENTS_REQUEST_CANCELLED:
        return "cancelled";
    case PAYMENTS_REQUEST_EXPIRED:
        return "expired";
    default:
        return "unknown";
    }
}

const char *payments_request_verdict_name(payments_request_verdict verdict) {
    static const char *const names[PAYMENTS_REQUEST_VERDICT_COUNT] = {
        "ok",
        "action_invalid",
        "actor_must_not_be_zero",
        "not_the_payer",
        "not_the_requester",
        "amount_mismatch",
        "exists",
        "already_paid",
        "already_declined",
        "already_cancelled",
        "already_expired",
        "expired",
        "not_yet_expired",
    };
    if ((unsigned)verdict >= PAYMENTS_REQUEST_VERDICT_COUNT) return "unknown";
    return names[verdict];
}

int payments_request_init(payments_request *request, int64_t requester_id, int64_t payer_id, int64_t amount_minor,
                          int64_t now_ms, int64_t expires_at_ms) {
    if (!request || requester_id <= 0 || payer_id < 0 || payer_id == requester_id || amount_minor <= 0 ||
        expires_at_ms <= now_ms)
        return SB_EINVAL;
    memset(request, 0, sizeof *request);
    request->requester_id = requester_id;
    request->payer_id = payer_id;
    request->amount_minor = amount_minor;
    request->expires_at_ms = expires_at_ms;
    request->state = PAYMENTS_REQUEST_PENDING;
    return SB_OK;
}

static payments_request_state target_state(payments_request_action action) {
    switch (action) {
    case PAYMENTS_REQUEST_PAY:
        return PAYMENTS_REQUEST_PAID;
    case PAYMENTS_REQUEST_DECLINE:
        return PAYMENTS_REQUEST_DECLINED;
    case PAYMENTS_REQUEST_CANCEL:
        return PAYMENTS_REQUEST_CANCELLED;
    default:
        return PAYMENTS_REQUEST_EXPIRED;
    }
}

static payments_request_verdict already(payments_request_state state) {
    switch (state) {
    case PAYMENTS_REQUEST_PAID:
        return PAYMENTS_REQUEST_ALREADY_PAID;
    case PAYMENTS_REQUEST_DECLINED:
        return PAYMENTS_REQUEST_ALREADY_DECLINED;
    case PAYMENTS_REQUEST_CANCELLED:
        return PAYMENTS_REQUEST_ALREADY_CANCELLED;
    default:
        return PAYMENTS_REQUEST_ALREADY_EXPIRED;
    }
}

payments_request_verdict payments_request_apply(payments_request *request, payments_request_action action,
                                                int64_t actor_id, int64_t amount_minor, int64_t now_ms) {
    if (!request || (unsigned)action > PAYMENTS_REQUEST_EXPIRE) return PAYMENTS_REQUEST_ACTION_INVALID;
    bool by_payer = action == PAYMENTS_REQUEST_PAY || action == PAYMENTS_REQUEST_DECLINE;
    if (action != PAYMENTS_REQUEST_EXPIRE && actor_id <= 0) return PAYMENTS_REQUEST_ACTOR_MUST_NOT_BE_ZERO;
    if (by_payer && (actor_id == request->requester_id || (request->payer_id != 0 && actor_id != request->payer_id)))
        return PAYMENTS_REQUEST_NOT_THE_PAYER;
    if (action == PAYMENTS_REQUEST_CANCEL && actor_id != request->requester_id)
        return PAYMENTS_REQUEST_NOT_THE_REQUESTER;
    if (action == PAYMENTS_REQUEST_PAY && amount_minor != request->amount_minor)
        return PAYMENTS_REQUEST_AMOUNT_MISMATCH;
    payments_request_state target = target_state(action);
    if (request->state != PAYMENTS_REQUEST_PENDING) {
        if (request->state == target && (action == PAYMENTS_REQUEST_EXPIRE || request->settled_by_id == actor_id))
            return PAYMENTS_REQUEST_EXISTS;
        return already(request->state);
    }
    if (by_payer && now_ms >= request->expires_at_ms) return PAYMENTS_REQUEST_EXPIRED_NOW;
    if (action == PAYMENTS_REQUEST_EXPIRE && now_ms < request->expires_at_ms) return PAYMENTS_REQUEST_NOT_YET_EXPIRED;
    request->state = target;
    request->settled_by_id = action == PAYMENTS_REQUEST_EXPIRE ? 0 : actor_id;
    request->settled_at_ms = now_ms;
    return PAYMENTS_REQUEST_OK;
}
