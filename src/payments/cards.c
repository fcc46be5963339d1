/*
 * cards.c - a customer's card on file and its block.  The card is kept
 * masked only (payments_cards, migration 0200); a block (migration 0210) is
 * keyed by the owner and the masked form, so blocking survives a later
 * change of the card on file and a blocked card can never come back by
 * being put on file again.  card-to-card (payments_ops.c) asks
 * payops__card_blocked before anything moves.
 */
#include <string.h>

#include "payments/ops_int.h"

/* The masked card on file and whether it is blocked. */
static int card_load(store *s, int64_t user_id, char masked[PAYMENTS_CARD_MASKED_BYTES], bool *blocked_out) {
    store_stmt *st;
    int result = store_query(s, &st,
                             "SELECT c.masked, EXISTS (SELECT 1 FROM payments_card_blocks b WHERE b.user_id = "
                             "c.user_id AND b.masked = c.masked) FROM payments_cards c WHERE c.user_id = ?",
                             "i", user_id);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_ROW) {
        payops__copy(masked, PAYMENTS_CARD_MASKED_BYTES, store_col_text(st, 0));
        *blocked_out = store_col_int64(st, 1) != 0;
        result = SB_OK;
    } else if (result == STORE_DONE) {
        result = SB_ENOTFOUND;
    }
    store_stmt_done(st);
    return result;
}

int payops_card_get(const payops_ctx *ctx, int64_t user_id, char masked_out[PAYMENTS_CARD_MASKED_BYTES],
                    bool *blocked_out) {
    bool blocked = false;
    char masked[PAYMENTS_CARD_MASKED_BYTES];
    int result = card_load(ctx->s, user_id, masked, &blocked);
    if (result != SB_OK) return result;
    memcpy(masked_out, masked, sizeof masked);
    *blocked_out = blocked;
    return SB_OK;
}

int payops_card_block(const payops_ctx *ctx, int64_t user_id, const char *reason, int64_t now_ms,
                      char masked_out[PAYMENTS_CARD_MASKED_BYTES], bool *already_out) {
    if (reason && strnlen(reason, 65) > 64) return SB_EINVAL;
    int result = store_begin(ctx->s);
    if (result != SB_OK) return result;
    char masked[PAYMENTS_CARD_MASKED_BYTES];
    bool blocked = false;
    result = card_load(ctx->s, user_id, masked, &blocked);
    if (result == SB_OK && !blocked)
        result = store_exec(ctx->s,
                            "INSERT INTO payments_card_blocks(user_id, masked, blocked_at_ms, reason) VALUES (?, ?, ?, ?)",
                            "itit", user_id, masked, now_ms, reason ? reason : "");
    if (result == SB_OK) result = store_commit(ctx->s);
    if (result != SB_OK) {
        store_rollback(ctx->s);
        return result;
    }
    memcpy(masked_out, masked, sizeof masked);
    if (already_out) *already_out = blocked;
    return SB_OK;
}

int payops__card_blocked(store *s, int64_t user_id, bool *blocked_out) {
    char masked[PAYMENTS_CARD_MASKED_BYTES];
    *blocked_out = false;
    int result = card_load(s, user_id, masked, blocked_out);
    return result == SB_ENOTFOUND ? SB_OK : result;
}
