/*
 * merchant_ops.c - payments to merchants with a two-phase hold, for the
 * invoices bots send (src/api/botapi_pay.c): the customer's confirm holds
 * the amount (a pending ledger transfer from the payer's wallet to the
 * merchant's), the merchant's approval posts it, a refusal or a missed
 * deadline voids it; the bank's staff may refund a posted one.  Each step is
 * exactly once: the hold by (payer, idempotency key) through
 * payops__execute, the settle by the ledger's own idempotence (the settling
 * transfer's id is derived from the hold's), the refund by a key derived
 * from the receipt.  The merchant account is the merchant user's wallet.
 */
#include <stdio.h>
#include <string.h>

#include "identity/identity.h"
#include "payments/ops_int.h"

/* "@username" of the merchant (a bot), or its display name. */
static int merchant_name(store *s, int64_t merchant_id, char out[PAYOPS_NAME_BYTES]) {
    identity_principal p;
    int result = identity_user_get(s, merchant_id, &p);
    if (result != SB_OK) return result;
    if (p.username[0])
        snprintf(out, PAYOPS_NAME_BYTES, "@%s", p.username);
    else
        payops__copy(out, PAYOPS_NAME_BYTES, p.display_name[0] ? p.display_name : "merchant");
    return SB_OK;
}

int payops_merchant_hold(const payops_ctx *ctx, int64_t payer_id, int64_t merchant_id, int64_t amount_minor,
                         const char *reference, const char *idem_key, int64_t now_ms, payops_receipt *out) {
    memset(out, 0, sizeof *out);
    if (payer_id <= 0 || merchant_id <= 0 || payer_id == merchant_id || amount_minor <= 0) return SB_EINVAL;
    ledger_id payer_wallet, merchant_wallet;
    int result = payops_wallet_ensure(ctx, payer_id, now_ms, &payer_wallet);
    if (result == SB_OK) result = payops__wallet_ensure_any(ctx, merchant_id, now_ms, &merchant_wallet);
    if (result != SB_OK) return result;
    char name[PAYOPS_NAME_BYTES];
    result = merchant_name(ctx->s, merchant_id, name);
    if (result != SB_OK) return result;
    payops_op op = {.kind = PAYOPS_TRANSFER,
                    .owner_id = payer_id,
                    .idem_key = idem_key,
                    .debit = payer_wallet,
                    .credit = merchant_wallet,
                    .amount_minor = amount_minor,
                    .counterparty_id = merchant_id,
                    .counterparty_name = name,
                    .reference = reference,
                    .two_phase = true};
    return payops__execute(ctx, &op, now_ms, out);
}

int payops_merchant_settle(const payops_ctx *ctx, int64_t receipt_id, bool post, payops_receipt *out) {
    int result = payops__receipt_load(ctx->s, receipt_id, out);
    if (result != SB_OK) return result;
    if (out->kind != PAYOPS_TRANSFER) return SB_ECONFLICT;
    if (out->state == PAYOPS_RECEIPT_DONE) return post && out->settle_transfer_id[0] ? SB_OK : SB_ECONFLICT;
    if (out->state == PAYOPS_RECEIPT_DECLINED) return post ? SB_ECONFLICT : SB_OK;
    if (out->state != PAYOPS_RECEIPT_PENDING) return SB_ECONFLICT;
    return payops__hold_settle(ctx, out, post, NULL);
}

int payops_merchant_refund(const payops_ctx *ctx, int64_t merchant_id, int64_t receipt_id, int64_t now_ms,
                           payops_receipt *out) {
    payops_receipt paid;
    int result = payops__receipt_load(ctx->s, receipt_id, &paid);
    if (result != SB_OK) return result;
    memset(out, 0, sizeof *out);
    if (paid.kind != PAYOPS_TRANSFER || paid.state != PAYOPS_RECEIPT_DONE || !paid.settle_transfer_id[0])
        return SB_ECONFLICT;
    ledger_id payer_wallet, merchant_wallet;
    result = payops_wallet_ensure(ctx, paid.owner_id, now_ms, &payer_wallet);
    if (result == SB_OK) result = payops__wallet_ensure_any(ctx, merchant_id, now_ms, &merchant_wallet);
    if (result != SB_OK) return result;
    char key[48], reference[48], name[PAYOPS_NAME_BYTES];
    snprintf(key, sizeof key, "refund-%lld", (long long)receipt_id);
    snprintf(reference, sizeof reference, "refund of receipt %lld", (long long)receipt_id);
    result = payops__display_name(ctx->s, paid.owner_id, name);
    if (result != SB_OK) return result;
    payops_op op = {.kind = PAYOPS_TRANSFER,
                    .owner_id = merchant_id,
                    .idem_key = key,
                    .debit = merchant_wallet,
                    .credit = payer_wallet,
                    .amount_minor = paid.amount_minor,
                    .counterparty_id = paid.owner_id,
                    .counterparty_name = name,
                    .reference = reference};
    return payops__execute(ctx, &op, now_ms, out);
}
