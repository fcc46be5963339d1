/*
 * quotes_ops.c - pay a person in two steps bound together: the quote the
 * payer is shown is kept under a random id (payments_quotes, migration
 * 0201), and the confirm names that id, so the money goes to the payee, and
 * in the amount and fee, the payer saw, never to whoever the alias names a
 * moment later.  A quote expires, pays once, and is refused when what it
 * showed no longer holds (the alias names someone else, the fee changed).
 * The money moves through the exactly-once executor (payments_ops.c), so
 * idempotency keys mean what they mean for every other payment.  Also the
 * resolver of split members, which may name the payer themself.
 */
#include <string.h>

#include "payments/ops_int.h"

const char *payops_quote_verdict_name(payops_quote_verdict verdict) {
    static const char *const names[] = {"ok", "quote_expired", "quote_changed", "quote_used"};
    return (unsigned)verdict < SB_ARRAY_LEN(names) ? names[verdict] : "unknown";
}

/* A quote as stored. */
typedef struct {
    int64_t payee_id;
    char alias[SB_PAYMENTS_INPUT_BYTES_MAX * 2 + 1];
    char link_token[PAYOPS_LINK_TOKEN_CHARS + 1];
    int64_t amount_minor, fee_minor, fixed_amount_minor, expires_at_ms;
    char payee_name[PAYOPS_NAME_BYTES];
    char masked_card[PAYMENTS_CARD_MASKED_BYTES];
} stored_quote;

int payops_pay_quote_hold(const payops_ctx *ctx, int64_t payer_id, const char *alias, int64_t amount_minor,
                          int64_t now_ms, payops_held_quote *out, payments_limit_verdict *limit_out) {
    memset(out, 0, sizeof *out);
    *limit_out = PAYMENTS_LIMIT_OK;
    payops_target t;
    int result = payops__pay_quote_target(ctx, payer_id, alias, amount_minor, now_ms, &out->quote, limit_out, &t);
    if (result != SB_OK) return result;
    char id[PAYOPS_QUOTE_ID_CHARS + 1];
    sb_random_hex(id, PAYOPS_QUOTE_ID_CHARS / 2);
    int64_t expires_at_ms = now_ms + SB_PAYOPS_QUOTE_TTL_MS;
    result = store_begin(ctx->s);
    if (result != SB_OK) return result;
    result = store_exec(ctx->s, "DELETE FROM payments_quotes WHERE payer_id = ? AND expires_at_ms <= ?", "ii", payer_id,
                        now_ms - SB_PAYOPS_QUOTE_KEEP_EXPIRED_MS);
    int64_t held = 0;
    if (result == SB_OK)
        result =
            store_query_int64(ctx->s, &held, "SELECT count(*) FROM payments_quotes WHERE payer_id = ?", "i", payer_id);
    if (result == SB_OK && held >= SB_PAYOPS_QUOTES_PER_PAYER_MAX) result = SB_ELIMIT;
    if (result == SB_OK)
        result = store_exec(ctx->s,
                            "INSERT INTO payments_quotes(id, payer_id, payee_id, alias, link_token, amount_minor, "
                            "fee_minor, payee_name, masked_card, fixed_amount_minor, expires_at_ms, created_at_ms) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            "tiittiittiii", id, payer_id, t.user_id, alias, t.link_token[0] ? t.link_token : NULL,
                            out->quote.amount_minor, out->quote.fee_minor, out->quote.payee.display_name,
                            out->quote.payee.masked_card, out->quote.payee.fixed_amount_minor, expires_at_ms, now_ms);
    if (result == SB_OK) result = store_commit(ctx->s);
    if (result != SB_OK) {
        store_rollback(ctx->s);
        memset(&out->quote, 0, sizeof out->quote);
        return result;
    }
    memcpy(out->id, id, sizeof id);
    out->expires_at_ms = expires_at_ms;
    return SB_OK;
}

/* The payer's quote by id.  SB_ENOTFOUND for none (or another payer's). */
static int quote_load(store *s, int64_t payer_id, const char *id, stored_quote *out) {
    memset(out, 0, sizeof *out);
    store_stmt *st;
    int result = store_query(s, &st,
                             "SELECT payee_id, alias, coalesce(link_token, ''), amount_minor, fee_minor, "
                             "fixed_amount_minor, expires_at_ms, payee_name, masked_card FROM payments_quotes "
                             "WHERE id = ? AND payer_id = ?",
                             "ti", id, payer_id);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_ROW) {
        out->payee_id = store_col_int64(st, 0);
        payops__copy(out->alias, sizeof out->alias, store_col_text(st, 1));
        payops__copy(out->link_token, sizeof out->link_token, store_col_text(st, 2));
        out->amount_minor = store_col_int64(st, 3);
        out->fee_minor = store_col_int64(st, 4);
        out->fixed_amount_minor = store_col_int64(st, 5);
        out->expires_at_ms = store_col_int64(st, 6);
        payops__copy(out->payee_name, sizeof out->payee_name, store_col_text(st, 7));
        payops__copy(out->masked_card, sizeof out->masked_card, store_col_text(st, 8));
        result = SB_OK;
    } else if (result == STORE_DONE) {
        result = SB_ENOTFOUND;
    }
    store_stmt_done(st);
    return result;
}

/* Does what the quote showed still hold: the alias names the same payee
 * (the same link, with the same fixed amount) and the fee is the same?
 * SB_OK, SB_ECONFLICT when not, or a store error. */
static int quote_still_holds(const payops_ctx *ctx, int64_t payer_id, const stored_quote *q, int64_t now_ms) {
    payops_target t;
    int result = payops__resolve(ctx, payer_id, q->alias, now_ms, false, &t);
    if (result == SB_ENOTFOUND || result == SB_EINVAL) return SB_ECONFLICT;
    if (result != SB_OK) return result;
    if (t.user_id != q->payee_id || strcmp(t.link_token, q->link_token) != 0 ||
        t.payee.fixed_amount_minor != q->fixed_amount_minor)
        return SB_ECONFLICT;
    int64_t fee = 0;
    result = payments_fee(ctx->policy, PAYMENTS_OP_TRANSFER, q->amount_minor, &fee);
    if (result != SB_OK) return result;
    return fee == q->fee_minor ? SB_OK : SB_ECONFLICT;
}

int payops_pay_confirm_quote(const payops_ctx *ctx, int64_t payer_id, const char *quote_id, const char *idem_key,
                             int64_t now_ms, payops_receipt *out) {
    memset(out, 0, sizeof *out);
    if (!payops__is_hex_token(quote_id, PAYOPS_QUOTE_ID_CHARS) || payops_idem_key_check(idem_key) != SB_OK)
        return SB_EINVAL;
    stored_quote q;
    int result = quote_load(ctx->s, payer_id, quote_id, &q);
    if (result != SB_OK) return result;
    payops_op op = {.kind = PAYOPS_TRANSFER,
                    .owner_id = payer_id,
                    .idem_key = idem_key,
                    .debit = payops_wallet_id(payer_id),
                    .credit = payops_wallet_id(q.payee_id),
                    .amount_minor = q.amount_minor,
                    .fee_minor = q.fee_minor,
                    .counterparty_id = q.payee_id,
                    .counterparty_name = q.payee_name,
                    .masked_card = q.masked_card,
                    .link_token = q.link_token[0] ? q.link_token : NULL};
    /* The key used before: the executor answers (the same receipt, the
     * pending one finished with its own ids, or a conflict), whatever has
     * happened to the quote since. */
    int64_t used = 0;
    result =
        store_query_int64(ctx->s, &used, "SELECT count(*) FROM payments_receipts WHERE owner_id = ? AND idem_key = ?",
                          "it", payer_id, idem_key);
    if (result != SB_OK) return result;
    if (used) return payops__execute(ctx, &op, now_ms, out);
    if (now_ms >= q.expires_at_ms) {
        out->quote = PAYOPS_QUOTE_EXPIRED;
        return SB_ETIMEOUT;
    }
    result = quote_still_holds(ctx, payer_id, &q, now_ms);
    if (result != SB_OK) {
        if (result == SB_ECONFLICT) out->quote = PAYOPS_QUOTE_CHANGED;
        return result;
    }
    /* Take the quote for this key: a quote pays once. */
    result = store_exec(ctx->s,
                        "UPDATE payments_quotes SET idem_key = ? WHERE id = ? AND payer_id = ? "
                        "AND (idem_key IS NULL OR idem_key = ?)",
                        "ttit", idem_key, quote_id, payer_id, idem_key);
    if (result != SB_OK) return result;
    if (store_changes(ctx->s) != 1) {
        out->quote = PAYOPS_QUOTE_USED;
        return SB_EEXISTS;
    }
    ledger_id wallet;
    result = payops_wallet_ensure(ctx, payer_id, now_ms, &wallet);
    if (result == SB_OK) result = payops_wallet_ensure(ctx, q.payee_id, now_ms, &wallet);
    if (result == SB_OK) result = payops__execute(ctx, &op, now_ms, out);
    if (result != SB_OK && (result == SB_ELIMIT || out->ledger_result != LEDGER_OK || result == SB_ENOTFOUND)) {
        /* Refused with nothing kept: the quote may be confirmed again under
         * another key (the same key works either way). */
        int released = store_exec(ctx->s, "UPDATE payments_quotes SET idem_key = NULL WHERE id = ? AND idem_key = ?",
                                  "tt", quote_id, idem_key);
        if (released != SB_OK) return released;
    }
    return result;
}

int payops_split_member_resolve(const payops_ctx *ctx, int64_t payer_id, const char *alias, int64_t now_ms,
                                int64_t *user_id_out) {
    *user_id_out = 0;
    payops_target t;
    /* The payer may name themself (their own share). */
    int result = payops__resolve(ctx, payer_id, alias, now_ms, true, &t);
    if (result != SB_OK) return result;
    if (t.link_token[0]) return SB_EINVAL;
    *user_id_out = t.user_id;
    return SB_OK;
}
