/*
 * receipts_recent.c - a customer's newest receipts, newest first (the
 * service bot's "last transactions" and "where is my transfer"), without
 * paging through the whole statement: one indexed query for the ids
 * (payments_receipts_owner), then each receipt loaded as everywhere else.
 */
#include "payments/ops_int.h"

int payops_receipt_recent(const payops_ctx *ctx, int64_t owner_id, int kind_mask, payops_receipt *out, size_t out_max,
                          size_t *count_out) {
    *count_out = 0;
    if (out_max == 0) return SB_OK;
    if (out_max > SB_HTTP_RECEIPTS_PAGE_MAX) out_max = SB_HTTP_RECEIPTS_PAGE_MAX;
    int64_t ids[SB_HTTP_RECEIPTS_PAGE_MAX];
    size_t n = 0;
    store_stmt *st;
    /* kind_mask 0: every kind; else bit k selects payops_kind k. */
    int result = store_query(ctx->s, &st,
                             "SELECT id FROM payments_receipts WHERE owner_id = ? AND (? = 0 OR ((? >> kind) & 1) = 1) "
                             "ORDER BY id DESC LIMIT ?",
                             "iiii", owner_id, (int64_t)kind_mask, (int64_t)kind_mask, (int64_t)out_max);
    if (result != SB_OK) return result;
    while ((result = store_step(st)) == STORE_ROW && n < out_max)
        ids[n++] = store_col_int64(st, 0);
    store_stmt_done(st);
    if (result < 0) return result;
    for (size_t i = 0; i < n; i++) {
        result = payops__receipt_load(ctx->s, ids[i], &out[i]);
        if (result != SB_OK) return result;
    }
    *count_out = n;
    return SB_OK;
}
