/*
 * payments_ops.c - the payment operations on the ledger: the bank's
 * accounts and customers' wallets, the exactly-once executor (receipt row
 * first, one linked ledger batch, then the receipt is done), pay a person,
 * deposit, bill payment, top-up, card-to-card with its hold, and receipts.
 */
#include <string.h>

#include "messenger/messenger.h"
#include "payments/ops_int.h"

#define WALLET_TAG 0x57414c4c4554ULL /* "WALLET" */
#define BANK_TAG 0x42414e4bULL       /* "BANK" */
#define SETTLE_XOR 0x5345544c45ULL   /* a card-to-card post/void id: the hold id with this mixed in */
#define FEE_CODE_BASE 100

const char *payops_kind_name(payops_kind kind) {
    static const char *const names[] = {"transfer", "card_to_card", "bill", "topup", "request", "deposit"};
    return (unsigned)kind < SB_ARRAY_LEN(names) ? names[kind] : "unknown";
}

void payops_tracking_code(const char *transfer_id, char out[PAYOPS_TRACKING_DIGITS + 1]) {
    out[0] = '\0';
    if (!transfer_id) return;
    /* The first 15 hex digits (60 bits) of the random transfer id, reduced to 12 decimal digits. */
    uint64_t v = 0;
    for (size_t i = 0; i < 15; i++) {
        char c = transfer_id[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) return;
        v = v << 4 | (uint64_t)d;
    }
    snprintf(out, PAYOPS_TRACKING_DIGITS + 1, "%012llu", (unsigned long long)(v % 1000000000000ULL));
}

const char *payops_receipt_state_name(payops_receipt_state state) {
    static const char *const names[] = {"pending", "done", "declined", "manual"};
    return (unsigned)state < SB_ARRAY_LEN(names) ? names[state] : "unknown";
}

static int state_parse(const char *text, payops_receipt_state *out) {
    for (int i = 0; i <= PAYOPS_RECEIPT_MANUAL; i++)
        if (text && strcmp(text, payops_receipt_state_name((payops_receipt_state)i)) == 0) {
            *out = (payops_receipt_state)i;
            return SB_OK;
        }
    return SB_ECORRUPT;
}

ledger_id payops_wallet_id(int64_t user_id) { return (ledger_id){WALLET_TAG, (uint64_t)user_id}; }
ledger_id payops_bank_account_id(payops_bank_account which) { return (ledger_id){BANK_TAG, (uint64_t)which}; }
ledger_id payops_biller_account_id(payments_bill_type type) { return (ledger_id){BANK_TAG, 0x100u + (uint64_t)type}; }
ledger_id payops_operator_account_id(payments_operator op) { return (ledger_id){BANK_TAG, 0x200u + (uint64_t)op}; }

static ledger_account bank_account(ledger_id id, int kind) {
    ledger_account a;
    memset(&a, 0, sizeof a);
    a.id = id;
    memcpy(a.currency, "IRR", 4);
    a.kind = kind;
    a.code = (uint32_t)kind;
    return a;
}

int payops_init(const payops_ctx *ctx) {
    ledger_account a[4 + 10 + PAYMENTS_OPERATOR_COUNT];
    size_t n = 0;
    a[n++] = bank_account(payops_bank_account_id(PAYOPS_BANK_SETTLEMENT), LEDGER_KIND_BANK_SETTLEMENT);
    a[n++] = bank_account(payops_bank_account_id(PAYOPS_BANK_FEES), LEDGER_KIND_FEES);
    a[n++] = bank_account(payops_bank_account_id(PAYOPS_BANK_CARD_SWITCH), LEDGER_KIND_EXTERNAL_CARD_SWITCH);
    a[n++] = bank_account(payops_bank_account_id(PAYOPS_BANK_SUSPENSE), LEDGER_KIND_SUSPENSE);
    for (int t = PAYMENTS_BILL_WATER; t <= PAYMENTS_BILL_TRAFFIC_FINES; t++)
        if (t != 7) a[n++] = bank_account(payops_biller_account_id((payments_bill_type)t), LEDGER_KIND_EXTERNAL_BILLER);
    for (int op = PAYMENTS_OPERATOR_MCI; op < PAYMENTS_OPERATOR_COUNT; op++)
        a[n++] = bank_account(payops_operator_account_id((payments_operator)op), LEDGER_KIND_EXTERNAL_OPERATOR);
    ledger_account_result r[SB_ARRAY_LEN(a)];
    int result = ledger_create_accounts(ctx->l, a, n, r);
    if (result != SB_OK) return result;
    for (size_t i = 0; i < n; i++)
        if (r[i] != LEDGER_ACCOUNT_OK && r[i] != LEDGER_ACCOUNT_EXISTS) {
            sb_log(SB_LOG_ERROR, "payops.init", "bank account %zu: %s", i, ledger_account_result_name(r[i]));
            return SB_ECORRUPT;
        }
    return SB_OK;
}

int payops_wallet_ensure(const payops_ctx *ctx, int64_t user_id, int64_t now_ms, ledger_id *out) {
    char name[PAYOPS_NAME_BYTES];
    int result = payops__display_name(ctx->s, user_id, name);
    if (result != SB_OK) return result;
    return payops__wallet_ensure_any(ctx, user_id, now_ms, out);
}

int payops__wallet_ensure_any(const payops_ctx *ctx, int64_t user_id, int64_t now_ms, ledger_id *out) {
    int result;
    ledger_id id = payops_wallet_id(user_id);
    int64_t present = 0;
    result =
        store_query_int64(ctx->s, &present, "SELECT count(*) FROM payments_wallets WHERE user_id = ?", "i", user_id);
    if (result != SB_OK) return result;
    if (!present) {
        ledger_account a = bank_account(id, LEDGER_KIND_CUSTOMER_WALLET);
        a.flags = LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS;
        a.user_data = ledger_id_from_u64((uint64_t)user_id);
        ledger_account_result r;
        result = ledger_create_accounts(ctx->l, &a, 1, &r);
        if (result != SB_OK) return result;
        if (r != LEDGER_ACCOUNT_OK && r != LEDGER_ACCOUNT_EXISTS) return SB_ECORRUPT;
        char hex[LEDGER_ID_HEX_BYTES];
        ledger_id_format(id, hex);
        result = store_exec(ctx->s,
                            "INSERT INTO payments_wallets(user_id, account_id, created_at_ms) VALUES (?, ?, ?) "
                            "ON CONFLICT(user_id) DO NOTHING",
                            "iti", user_id, hex, now_ms);
        if (result != SB_OK) return result;
    }
    if (out) *out = id;
    return SB_OK;
}

int payops_wallet_balance(const payops_ctx *ctx, int64_t user_id, int64_t *available_minor_out) {
    ledger_account a;
    int result = ledger_lookup_account(ctx->s, payops_wallet_id(user_id), &a);
    if (result == SB_ENOTFOUND) {
        *available_minor_out = 0;
        return SB_OK;
    }
    if (result != SB_OK) return result;
    /* The ledger keeps debits_pending + debits_posted <= credits_posted. */
    *available_minor_out = a.credits_posted - a.debits_posted - a.debits_pending;
    return SB_OK;
}

/* ---- receipts ------------------------------------------------------------- */

#define RECEIPT_COLUMNS                                                                                                \
    "id, owner_id, kind, state, amount_minor, fee_minor, counterparty_name, masked_card, reference, transfer_id, "     \
    "coalesce(fee_transfer_id, ''), coalesce(settle_transfer_id, ''), rrn, coalesce(request_id, 0), "                  \
    "created_at_ms, coalesce(counterparty_id, 0), credit_account, coalesce(link_token, '')"

static int receipt_from_row(store_stmt *st, payops_receipt *out) {
    memset(out, 0, sizeof *out);
    out->id = store_col_int64(st, 0);
    out->owner_id = store_col_int64(st, 1);
    out->kind = (payops_kind)store_col_int64(st, 2);
    if (state_parse(store_col_text(st, 3), &out->state) != SB_OK) return SB_ECORRUPT;
    out->amount_minor = store_col_int64(st, 4);
    out->fee_minor = store_col_int64(st, 5);
    payops__copy(out->counterparty, sizeof out->counterparty, store_col_text(st, 6));
    payops__copy(out->masked_card, sizeof out->masked_card, store_col_text(st, 7));
    payops__copy(out->reference, sizeof out->reference, store_col_text(st, 8));
    payops__copy(out->transfer_id, sizeof out->transfer_id, store_col_text(st, 9));
    payops__copy(out->fee_transfer_id, sizeof out->fee_transfer_id, store_col_text(st, 10));
    payops__copy(out->settle_transfer_id, sizeof out->settle_transfer_id, store_col_text(st, 11));
    payops__copy(out->rrn, sizeof out->rrn, store_col_text(st, 12));
    out->request_id = store_col_int64(st, 13);
    out->created_at_ms = store_col_int64(st, 14);
    return SB_OK;
}

int payops__receipt_load(store *s, int64_t receipt_id, payops_receipt *out) {
    store_stmt *st;
    int result = store_query(s, &st, "SELECT " RECEIPT_COLUMNS " FROM payments_receipts WHERE id = ?", "i", receipt_id);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_ROW)
        result = receipt_from_row(st, out);
    else if (result == STORE_DONE)
        result = SB_ENOTFOUND;
    store_stmt_done(st);
    return result;
}

int payops_receipt_get(const payops_ctx *ctx, int64_t owner_id, int64_t receipt_id, payops_receipt *out) {
    int result = payops__receipt_load(ctx->s, receipt_id, out);
    if (result == SB_OK && out->owner_id != owner_id) {
        memset(out, 0, sizeof *out);
        return SB_ENOTFOUND; /* someone else's: as if it did not exist */
    }
    return result;
}

int payops_receipt_list(const payops_ctx *ctx, int64_t owner_id, int64_t after_id, payops_receipt *out, size_t out_max,
                        size_t *count_out) {
    *count_out = 0;
    if (out_max == 0) return SB_OK;
    if (out_max > INT64_MAX) return SB_EINVAL;
    store_stmt *st;
    int result = store_query(ctx->s, &st,
                             "SELECT " RECEIPT_COLUMNS " FROM payments_receipts WHERE owner_id = ? AND id > ? "
                             "ORDER BY id LIMIT ?",
                             "iii", owner_id, after_id, (int64_t)out_max);
    if (result != SB_OK) return result;
    size_t n = 0;
    while (n < out_max && (result = store_step(st)) == STORE_ROW) {
        result = receipt_from_row(st, &out[n]);
        if (result != SB_OK) break;
        n++;
    }
    store_stmt_done(st);
    if (result < 0) return result;
    *count_out = n;
    return SB_OK;
}

/* ---- the executor ------------------------------------------------------------ */

static int usage_load(store *s, int64_t owner_id, int64_t day, payments_usage *usage) {
    memset(usage, 0, sizeof *usage);
    store_stmt *st;
    int result = store_query(s, &st,
                             "SELECT kind, sum(amount_minor), count(*) FROM payments_receipts "
                             "WHERE owner_id = ? AND day = ? AND kind < 5 AND state IN ('pending', 'done', 'manual') "
                             "GROUP BY kind",
                             "ii", owner_id, day);
    if (result != SB_OK) return result;
    while ((result = store_step(st)) == STORE_ROW) {
        int64_t kind = store_col_int64(st, 0);
        if (kind < 0 || kind >= PAYMENTS_OP_COUNT) continue;
        usage->amount_minor[kind] = store_col_int64(st, 1);
        int64_t count = store_col_int64(st, 2);
        usage->count[kind] = count > INT32_MAX ? INT32_MAX : (int32_t)count;
    }
    store_stmt_done(st);
    return result == STORE_DONE ? SB_OK : result;
}

/* The stored receipt for (owner, key), with its credit account and link. */
static int receipt_by_key(store *s, int64_t owner_id, const char *key, payops_receipt *out, int64_t *counterparty_out,
                          char credit_out[LEDGER_ID_HEX_BYTES], char link_out[PAYOPS_LINK_TOKEN_CHARS + 1]) {
    store_stmt *st;
    int result =
        store_query(s, &st, "SELECT " RECEIPT_COLUMNS " FROM payments_receipts WHERE owner_id = ? AND idem_key = ?",
                    "it", owner_id, key);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_ROW) {
        result = receipt_from_row(st, out);
        *counterparty_out = store_col_int64(st, 15);
        payops__copy(credit_out, LEDGER_ID_HEX_BYTES, store_col_text(st, 16));
        payops__copy(link_out, PAYOPS_LINK_TOKEN_CHARS + 1, store_col_text(st, 17));
    } else if (result == STORE_DONE) {
        result = SB_ENOTFOUND;
    }
    store_stmt_done(st);
    return result;
}

static int parse_hex_id(const char *hex, ledger_id *out) {
    if (!hex[0]) {
        *out = (ledger_id){0, 0};
        return SB_OK;
    }
    return ledger_id_parse(hex, strlen(hex), out) == SB_OK ? SB_OK : SB_ECORRUPT;
}

/* Insert the pending receipt (limits, link use) in one store transaction.
 * SB_EEXISTS: another receipt already holds this request or bill. */
static int receipt_insert(const payops_ctx *ctx, const payops_op *op, int64_t now_ms, payops_receipt *out) {
    int64_t day = payments_policy_day(ctx->policy, now_ms);
    int result;
    if (op->kind != PAYOPS_DEPOSIT) {
        payments_usage usage;
        result = usage_load(ctx->s, op->owner_id, day, &usage);
        if (result != SB_OK) return result;
        payments_limit_verdict verdict = PAYMENTS_LIMIT_OK;
        result = payments_limit_check(ctx->policy, (payments_op_kind)op->kind, &usage, op->amount_minor, &verdict);
        if (result != SB_OK) {
            out->limit = verdict;
            return result;
        }
    }
    if (op->link_token) {
        /* Take one use of the link (a single-use link has none left after). */
        result = store_exec(ctx->s,
                            "UPDATE payments_links SET uses = uses + 1 WHERE token = ? AND expires_at_ms > ? "
                            "AND (multi_use = 1 OR uses = 0)",
                            "ti", op->link_token, now_ms);
        if (result != SB_OK) return result;
        if (store_changes(ctx->s) != 1) return SB_ENOTFOUND;
    }
    char credit[LEDGER_ID_HEX_BYTES], tid[LEDGER_ID_HEX_BYTES], fid[LEDGER_ID_HEX_BYTES];
    ledger_id_format(op->credit, credit);
    ledger_id_format(ledger_id_random(), tid);
    ledger_id_format(ledger_id_random(), fid);
    store_stmt *st;
    result = store_query(ctx->s, &st,
                         "INSERT INTO payments_receipts(owner_id, idem_key, kind, state, amount_minor, fee_minor, "
                         "counterparty_id, counterparty_name, masked_card, reference, credit_account, transfer_id, "
                         "fee_transfer_id, link_token, day, created_at_ms) "
                         "VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         "itiiiitttttttii", op->owner_id, op->idem_key, (int64_t)op->kind, op->amount_minor,
                         op->fee_minor, op->counterparty_id, op->counterparty_name ? op->counterparty_name : "",
                         op->masked_card ? op->masked_card : "", op->reference ? op->reference : "", credit, tid,
                         op->fee_minor > 0 ? fid : NULL, op->link_token, day, now_ms);
    if (result != SB_OK) return result;
    result = store_step(st);
    store_stmt_done(st);
    if (result != STORE_DONE) return result < 0 ? result : SB_EIO;
    int64_t id = store_last_insert_id(ctx->s);
    /* request_id is set apart: NULL when there is none (it has a unique index). */
    if (op->request_id) {
        result =
            store_exec(ctx->s, "UPDATE payments_receipts SET request_id = ? WHERE id = ?", "ii", op->request_id, id);
        if (result != SB_OK) return result;
    }
    return payops__receipt_load(ctx->s, id, out);
}

/* Forget a receipt whose batch the ledger refused: nothing moved. */
static int receipt_forget(const payops_ctx *ctx, const payops_receipt *r, const char *link_token) {
    int result = store_begin(ctx->s);
    if (result != SB_OK) return result;
    result = store_exec(ctx->s, "DELETE FROM payments_receipts WHERE id = ? AND state = 'pending'", "i", r->id);
    if (result == SB_OK && link_token && link_token[0])
        result = store_exec(ctx->s, "UPDATE payments_links SET uses = uses - 1 WHERE token = ? AND uses > 0", "t",
                            link_token);
    if (result == SB_OK) result = store_commit(ctx->s);
    if (result != SB_OK) store_rollback(ctx->s);
    return result;
}

/* Submit the receipt's batch: the transfer and its fee, linked. */
static int submit_batch(const payops_ctx *ctx, const payops_op *op, const payops_receipt *r, ledger_result *why) {
    ledger_transfer t[2];
    ledger_result res[2] = {LEDGER_OK, LEDGER_OK};
    memset(t, 0, sizeof t);
    size_t n = 1;
    int result = parse_hex_id(r->transfer_id, &t[0].id);
    if (result != SB_OK) return result;
    t[0].debit_account_id = op->debit;
    t[0].credit_account_id = op->credit;
    t[0].amount_minor = r->amount_minor;
    t[0].code = (uint32_t)r->kind + 1;
    t[0].user_data = ledger_id_from_u64((uint64_t)r->id);
    t[0].flags = op->two_phase ? LEDGER_TRANSFER_PENDING : 0;
    if (r->fee_minor > 0) {
        result = parse_hex_id(r->fee_transfer_id, &t[1].id);
        if (result != SB_OK) return result;
        t[0].flags |= LEDGER_TRANSFER_LINKED;
        t[1].debit_account_id = op->debit;
        t[1].credit_account_id = payops_bank_account_id(PAYOPS_BANK_FEES);
        t[1].amount_minor = r->fee_minor;
        t[1].code = FEE_CODE_BASE + (uint32_t)r->kind;
        t[1].user_data = t[0].user_data;
        t[1].flags = op->two_phase ? LEDGER_TRANSFER_PENDING : 0;
        n = 2;
    }
    result = ledger_submit_transfers(ctx->l, t, n, res);
    if (result != SB_OK) return result;
    *why = LEDGER_OK;
    for (size_t i = 0; i < n; i++)
        if (res[i] != LEDGER_OK && res[i] != LEDGER_EXISTS && (*why == LEDGER_OK || *why == LEDGER_LINKED_EVENT_FAILED))
            *why = res[i];
    return SB_OK;
}

static bool same_op(const payops_op *op, const payops_receipt *r, int64_t counterparty, const char *credit) {
    char want[LEDGER_ID_HEX_BYTES];
    ledger_id_format(op->credit, want);
    return r->kind == op->kind && r->amount_minor == op->amount_minor && counterparty == op->counterparty_id &&
           strcmp(credit, want) == 0 && r->request_id == op->request_id &&
           strcmp(r->reference, op->reference ? op->reference : "") == 0;
}

int payops__execute(const payops_ctx *ctx, const payops_op *op, int64_t now_ms, payops_receipt *out) {
    memset(out, 0, sizeof *out);
    if (payops_idem_key_check(op->idem_key) != SB_OK || op->amount_minor <= 0 || op->fee_minor < 0) return SB_EINVAL;
    int64_t total;
    if (sb_add_int64(op->amount_minor, op->fee_minor, &total) != SB_OK) return SB_ELIMIT;
    int result = store_begin(ctx->s);
    if (result != SB_OK) return result;
    int64_t counterparty = 0;
    char credit[LEDGER_ID_HEX_BYTES], link[PAYOPS_LINK_TOKEN_CHARS + 1];
    result = receipt_by_key(ctx->s, op->owner_id, op->idem_key, out, &counterparty, credit, link);
    if (result == SB_OK) {
        store_rollback(ctx->s);
        if (!same_op(op, out, counterparty, credit)) {
            memset(out, 0, sizeof *out);
            return SB_ECONFLICT;
        }
        out->replayed = true;                                   /* an earlier call inserted it */
        if (out->state != PAYOPS_RECEIPT_PENDING) return SB_OK; /* the retry of a finished one */
    } else if (result == SB_ENOTFOUND) {
        result = receipt_insert(ctx, op, now_ms, out);
        if (result == SB_OK) result = store_commit(ctx->s);
        if (result != SB_OK) {
            store_rollback(ctx->s);
            payments_limit_verdict limit = out->limit;
            memset(out, 0, sizeof *out);
            out->limit = limit;
            return result;
        }
        payops__copy(link, sizeof link, op->link_token);
        out->replayed = false; /* this call made it: the one answer that says created */
    } else {
        store_rollback(ctx->s);
        return result;
    }
    /* The receipt is pending with its ids: ask the ledger (again). */
    ledger_result why = LEDGER_OK;
    result = submit_batch(ctx, op, out, &why);
    if (result != SB_OK) return result; /* still pending: a retry resubmits the same ids */
    if (why != LEDGER_OK) {
        result = receipt_forget(ctx, out, link);
        memset(out, 0, sizeof *out);
        out->ledger_result = why;
        return result != SB_OK ? result : SB_ECONFLICT;
    }
    if (op->two_phase) return SB_OK; /* the hold stands; the caller settles it */
    bool replayed = out->replayed;
    result = store_exec(ctx->s, "UPDATE payments_receipts SET state = 'done' WHERE id = ?", "i", out->id);
    if (result != SB_OK) return result;
    out->state = PAYOPS_RECEIPT_DONE;
    out->replayed = replayed;
    return SB_OK;
}

/* ---- deposit and pay a person ------------------------------------------------ */

int payops_deposit(const payops_ctx *ctx, int64_t user_id, int64_t amount_minor, const char *idem_key, int64_t now_ms,
                   payops_receipt *out) {
    memset(out, 0, sizeof *out);
    ledger_id wallet;
    int result = payops_wallet_ensure(ctx, user_id, now_ms, &wallet);
    if (result != SB_OK) return result;
    payops_op op = {.kind = PAYOPS_DEPOSIT,
                    .owner_id = user_id,
                    .idem_key = idem_key,
                    .debit = payops_bank_account_id(PAYOPS_BANK_SETTLEMENT),
                    .credit = wallet,
                    .amount_minor = amount_minor,
                    .counterparty_name = "SocialBank"};
    return payops__execute(ctx, &op, now_ms, out);
}

static int fee_and_limit(const payops_ctx *ctx, int64_t payer_id, payops_kind kind, int64_t amount_minor,
                         int64_t now_ms, int64_t *fee_out, payments_limit_verdict *limit_out) {
    *limit_out = PAYMENTS_LIMIT_OK;
    if (amount_minor <= 0) return SB_EINVAL;
    int result = payments_fee(ctx->policy, (payments_op_kind)kind, amount_minor, fee_out);
    if (result != SB_OK) return result;
    payments_usage usage;
    result = usage_load(ctx->s, payer_id, payments_policy_day(ctx->policy, now_ms), &usage);
    if (result != SB_OK) return result;
    return payments_limit_check(ctx->policy, (payments_op_kind)kind, &usage, amount_minor, limit_out);
}

int payops__pay_quote_target(const payops_ctx *ctx, int64_t payer_id, const char *alias, int64_t amount_minor,
                             int64_t now_ms, payops_quote *out, payments_limit_verdict *limit_out,
                             payops_target *target_out) {
    memset(out, 0, sizeof *out);
    *limit_out = PAYMENTS_LIMIT_OK;
    payops_target *t = target_out;
    int result = payops__resolve(ctx, payer_id, alias, now_ms, false, t);
    if (result != SB_OK) return result;
    if (t->payee.fixed_amount_minor && amount_minor != t->payee.fixed_amount_minor) return SB_EINVAL;
    result = fee_and_limit(ctx, payer_id, PAYOPS_TRANSFER, amount_minor, now_ms, &out->fee_minor, limit_out);
    if (result != SB_OK) return result;
    if (sb_add_int64(amount_minor, out->fee_minor, &out->total_minor) != SB_OK) return SB_ELIMIT;
    out->payee = t->payee;
    out->amount_minor = amount_minor;
    return SB_OK;
}

int payops_pay_quote(const payops_ctx *ctx, int64_t payer_id, const char *alias, int64_t amount_minor, int64_t now_ms,
                     payops_quote *out, payments_limit_verdict *limit_out) {
    payops_target t;
    return payops__pay_quote_target(ctx, payer_id, alias, amount_minor, now_ms, out, limit_out, &t);
}

/* Pay the resolved target t (its fixed amount, if a link has one). */
static int pay_target(const payops_ctx *ctx, int64_t payer_id, const payops_target *t, int64_t amount_minor,
                      const char *idem_key, int64_t now_ms, payops_receipt *out) {
    if (t->payee.fixed_amount_minor && amount_minor != t->payee.fixed_amount_minor) return SB_EINVAL;
    int64_t fee = 0;
    if (amount_minor <= 0) return SB_EINVAL;
    int result = payments_fee(ctx->policy, PAYMENTS_OP_TRANSFER, amount_minor, &fee);
    if (result != SB_OK) return result;
    ledger_id from, to;
    result = payops_wallet_ensure(ctx, payer_id, now_ms, &from);
    if (result == SB_OK) result = payops_wallet_ensure(ctx, t->user_id, now_ms, &to);
    if (result != SB_OK) return result;
    payops_op op = {.kind = PAYOPS_TRANSFER,
                    .owner_id = payer_id,
                    .idem_key = idem_key,
                    .debit = from,
                    .credit = to,
                    .amount_minor = amount_minor,
                    .fee_minor = fee,
                    .counterparty_id = t->user_id,
                    .counterparty_name = t->payee.display_name,
                    .masked_card = t->payee.masked_card,
                    .link_token = t->link_token[0] ? t->link_token : NULL};
    return payops__execute(ctx, &op, now_ms, out);
}

int payops_pay_confirm(const payops_ctx *ctx, int64_t payer_id, const char *alias, int64_t amount_minor,
                       const char *idem_key, int64_t now_ms, payops_receipt *out) {
    memset(out, 0, sizeof *out);
    if (payops_idem_key_check(idem_key) != SB_OK) return SB_EINVAL;
    payops_target t;
    int result = payops__resolve(ctx, payer_id, alias, now_ms, false, &t);
    if (result == SB_ENOTFOUND) {
        /* A used-up single-use link: this may be the retry of the payment that used it. */
        int64_t cp = 0;
        char credit[LEDGER_ID_HEX_BYTES], link[PAYOPS_LINK_TOKEN_CHARS + 1];
        if (receipt_by_key(ctx->s, payer_id, idem_key, out, &cp, credit, link) == SB_OK && strcmp(link, alias) == 0 &&
            out->amount_minor == amount_minor) {
            out->replayed = true;
            if (out->state == PAYOPS_RECEIPT_DONE) return SB_OK;
            /* Pending (a crash mid-way): finish it with its own ids. */
            payops_op op = {.kind = PAYOPS_TRANSFER,
                            .owner_id = payer_id,
                            .idem_key = idem_key,
                            .debit = payops_wallet_id(payer_id),
                            .credit = payops_wallet_id(cp),
                            .amount_minor = out->amount_minor,
                            .fee_minor = out->fee_minor,
                            .counterparty_id = cp,
                            .link_token = alias};
            return payops__execute(ctx, &op, now_ms, out);
        }
        memset(out, 0, sizeof *out);
    }
    if (result != SB_OK) return result;
    return pay_target(ctx, payer_id, &t, amount_minor, idem_key, now_ms, out);
}

int payops_pay_user(const payops_ctx *ctx, int64_t payer_id, int64_t payee_id, int64_t amount_minor,
                    const char *idem_key, int64_t now_ms, payops_receipt *out) {
    memset(out, 0, sizeof *out);
    if (payops_idem_key_check(idem_key) != SB_OK || payee_id == payer_id) return SB_EINVAL;
    int result = messenger_reach_check(ctx->s, payer_id, payee_id);
    payops_target t;
    memset(&t, 0, sizeof t);
    if (result == SB_OK) result = payops__target_user(ctx, payee_id, &t);
    if (result != SB_OK) return result;
    return pay_target(ctx, payer_id, &t, amount_minor, idem_key, now_ms, out);
}

/* ---- bills and top-up ------------------------------------------------------------ */

int payops_bill_pay(const payops_ctx *ctx, int64_t payer_id, const char *bill_id, const char *payment_id,
                    const char *idem_key, int64_t now_ms, payops_receipt *out) {
    memset(out, 0, sizeof *out);
    payments_bill bill;
    payments_reason reason = PAYMENTS_OK;
    if (!bill_id || !payment_id || payments_bill_parse(bill_id, payment_id, &bill, &reason) != SB_OK) {
        out->reason = reason;
        return SB_EINVAL;
    }
    if (bill.amount_rials <= 0) return SB_EINVAL;
    int64_t fee = 0;
    int result = payments_fee(ctx->policy, PAYMENTS_OP_BILL, bill.amount_rials, &fee);
    if (result != SB_OK) return result;
    ledger_id from;
    result = payops_wallet_ensure(ctx, payer_id, now_ms, &from);
    if (result != SB_OK) return result;
    char reference[PAYOPS_REFERENCE_BYTES];
    snprintf(reference, sizeof reference, "%s/%s", bill.bill_id, bill.payment_id);
    char name[PAYOPS_NAME_BYTES];
    snprintf(name, sizeof name, "%s bill", payments_bill_type_name(bill.type));
    payops_op op = {.kind = PAYOPS_BILL,
                    .owner_id = payer_id,
                    .idem_key = idem_key,
                    .debit = from,
                    .credit = payops_biller_account_id(bill.type),
                    .amount_minor = bill.amount_rials,
                    .fee_minor = fee,
                    .counterparty_name = name,
                    .reference = reference};
    return payops__execute(ctx, &op, now_ms, out);
}

int payops_topup(const payops_ctx *ctx, int64_t payer_id, const char *mobile, int64_t amount_minor,
                 const char *idem_key, int64_t now_ms, payops_receipt *out) {
    memset(out, 0, sizeof *out);
    payments_mobile m;
    payments_reason reason = PAYMENTS_OK;
    if (!mobile || payments_mobile_parse(mobile, &m, &reason) != SB_OK) {
        out->reason = reason;
        return SB_EINVAL;
    }
    if (amount_minor <= 0) return SB_EINVAL;
    int64_t fee = 0;
    int result = payments_fee(ctx->policy, PAYMENTS_OP_TOPUP, amount_minor, &fee);
    if (result != SB_OK) return result;
    ledger_id from;
    result = payops_wallet_ensure(ctx, payer_id, now_ms, &from);
    if (result != SB_OK) return result;
    payops_op op = {.kind = PAYOPS_TOPUP,
                    .owner_id = payer_id,
                    .idem_key = idem_key,
                    .debit = from,
                    .credit = payops_operator_account_id(m.operator_id),
                    .amount_minor = amount_minor,
                    .fee_minor = fee,
                    .counterparty_name = payments_operator_name(m.operator_id),
                    .reference = m.e164};
    return payops__execute(ctx, &op, now_ms, out);
}

/* ---- card-to-card ------------------------------------------------------------------ */

int payops_c2c_quote(const payops_ctx *ctx, int64_t payer_id, const char *dest_card, int64_t amount_minor,
                     int64_t now_ms, payops_quote *out, payments_limit_verdict *limit_out) {
    memset(out, 0, sizeof *out);
    *limit_out = PAYMENTS_LIMIT_OK;
    if (!ctx->sw || !dest_card) return SB_EINVAL;
    payments_card card;
    if (payments_card_parse(dest_card, &card, NULL) != SB_OK) return SB_EINVAL;
    bool blocked = false;
    int result = payops__card_blocked(ctx->s, payer_id, &blocked);
    if (result != SB_OK || blocked) {
        payments_card_wipe(&card);
        return result != SB_OK ? result : SB_EPERM;
    }
    result = fee_and_limit(ctx, payer_id, PAYOPS_C2C, amount_minor, now_ms, &out->fee_minor, limit_out);
    if (result == SB_OK && sb_add_int64(amount_minor, out->fee_minor, &out->total_minor) != SB_OK) result = SB_ELIMIT;
    if (result == SB_OK) {
        int64_t timeout = ctx->c2c_timeout_ms > 0 ? ctx->c2c_timeout_ms : SB_PAYOPS_C2C_TIMEOUT_MS_DEFAULT;
        result = ctx->sw->holder_inquiry(ctx->sw->ctx, &card, timeout, out->payee.display_name);
    }
    if (result == SB_OK) {
        memcpy(out->payee.masked_card, card.masked, sizeof card.masked);
        out->amount_minor = amount_minor;
    }
    payments_card_wipe(&card);
    return result;
}

static ledger_id settle_id(ledger_id hold) { return (ledger_id){hold.hi ^ SETTLE_XOR, hold.lo ^ SETTLE_XOR}; }

/* Post or void the hold (and its fee hold) of a two-phase receipt
 * (card-to-card, a payment to a bot), and record the final state. */
int payops__hold_settle(const payops_ctx *ctx, payops_receipt *r, bool post, const char *rrn) {
    ledger_transfer t[2];
    ledger_result res[2];
    memset(t, 0, sizeof t);
    size_t n = 1;
    ledger_id hold;
    int result = parse_hex_id(r->transfer_id, &hold);
    if (result != SB_OK) return result;
    t[0].id = settle_id(hold);
    t[0].pending_id = hold;
    t[0].code = (uint32_t)r->kind + 1;
    t[0].user_data = ledger_id_from_u64((uint64_t)r->id);
    t[0].flags = post ? LEDGER_TRANSFER_POST_PENDING : LEDGER_TRANSFER_VOID_PENDING;
    if (r->fee_transfer_id[0]) {
        ledger_id fee_hold;
        result = parse_hex_id(r->fee_transfer_id, &fee_hold);
        if (result != SB_OK) return result;
        t[0].flags |= LEDGER_TRANSFER_LINKED;
        t[1] = t[0];
        t[1].id = settle_id(fee_hold);
        t[1].pending_id = fee_hold;
        t[1].code = FEE_CODE_BASE + (uint32_t)r->kind;
        t[1].flags = post ? LEDGER_TRANSFER_POST_PENDING : LEDGER_TRANSFER_VOID_PENDING;
        n = 2;
    }
    result = ledger_submit_transfers(ctx->l, t, n, res);
    if (result != SB_OK) return result;
    for (size_t i = 0; i < n; i++)
        if (res[i] != LEDGER_OK && res[i] != LEDGER_EXISTS) {
            /* The hold expired or was settled otherwise: a bug or tampering, never silently. */
            sb_log(SB_LOG_ERROR, "payops.c2c", "receipt %lld: settle %s", (long long)r->id, ledger_result_name(res[i]));
            return SB_EINTERNAL;
        }
    char sid[LEDGER_ID_HEX_BYTES];
    ledger_id_format(t[0].id, sid);
    r->state = post ? PAYOPS_RECEIPT_DONE : PAYOPS_RECEIPT_DECLINED;
    payops__copy(r->settle_transfer_id, sizeof r->settle_transfer_id, sid);
    payops__copy(r->rrn, sizeof r->rrn, rrn ? rrn : "");
    return store_exec(ctx->s, "UPDATE payments_receipts SET state = ?, settle_transfer_id = ?, rrn = ? WHERE id = ?",
                      "ttti", payops_receipt_state_name(r->state), sid, r->rrn, r->id);
}

/* Run the switch side for a held receipt and settle the hold. */
static int c2c_drive(const payops_ctx *ctx, payops_receipt *r, const payments_card *dest) {
    payments_switch_transfer req = {.source = ctx->c2c_source,
                                    .destination = dest,
                                    .amount_minor = r->amount_minor,
                                    .timeout_ms = ctx->c2c_timeout_ms > 0 ? ctx->c2c_timeout_ms
                                                                          : SB_PAYOPS_C2C_TIMEOUT_MS_DEFAULT};
    payops__copy(req.reference, sizeof req.reference, r->transfer_id);
    payments_c2c_step step = PAYMENTS_C2C_MANUAL;
    payments_switch_result sr;
    memset(&sr, 0, sizeof sr);
    int result = payments_c2c_run(ctx->sw, &req, &step, &sr);
    if (result != SB_OK) return result;
    if (step == PAYMENTS_C2C_POST) return payops__hold_settle(ctx, r, true, sr.rrn);
    if (step == PAYMENTS_C2C_VOID) return payops__hold_settle(ctx, r, false, NULL);
    r->state = PAYOPS_RECEIPT_MANUAL;
    return store_exec(ctx->s, "UPDATE payments_receipts SET state = 'manual' WHERE id = ?", "i", r->id);
}

int payops_c2c_send(const payops_ctx *ctx, int64_t payer_id, const char *dest_card, int64_t amount_minor,
                    const char *idem_key, int64_t now_ms, payops_receipt *out) {
    memset(out, 0, sizeof *out);
    if (!ctx->sw || !ctx->c2c_source || !dest_card) return SB_EINVAL;
    payments_card card;
    payments_reason reason = PAYMENTS_OK;
    if (payments_card_parse(dest_card, &card, &reason) != SB_OK) {
        out->reason = reason;
        return SB_EINVAL;
    }
    int64_t fee = 0;
    int result = amount_minor > 0 ? payments_fee(ctx->policy, PAYMENTS_OP_CARD_TO_CARD, amount_minor, &fee) : SB_EINVAL;
    /* A blocked card on file stops card-to-card before anything is written. */
    bool blocked = false;
    if (result == SB_OK) result = payops__card_blocked(ctx->s, payer_id, &blocked);
    if (result == SB_OK && blocked) result = SB_EPERM;
    ledger_id from;
    if (result == SB_OK) result = payops_wallet_ensure(ctx, payer_id, now_ms, &from);
    /* The receipt names the holder the payer confirmed (the bank if the
     * switch cannot say now; the transfer itself will tell). */
    char holder[PAYOPS_NAME_BYTES];
    payops__copy(holder, sizeof holder, card.bank ? card.bank->name_en : "");
    if (result == SB_OK) {
        int64_t timeout = ctx->c2c_timeout_ms > 0 ? ctx->c2c_timeout_ms : SB_PAYOPS_C2C_TIMEOUT_MS_DEFAULT;
        char name[PAYMENTS_SWITCH_NAME_BYTES];
        if (ctx->sw->holder_inquiry(ctx->sw->ctx, &card, timeout, name) == SB_OK)
            payops__copy(holder, sizeof holder, name);
    }
    if (result == SB_OK) {
        payops_op op = {.kind = PAYOPS_C2C,
                        .owner_id = payer_id,
                        .idem_key = idem_key,
                        .debit = from,
                        .credit = payops_bank_account_id(PAYOPS_BANK_CARD_SWITCH),
                        .amount_minor = amount_minor,
                        .fee_minor = fee,
                        .counterparty_name = holder,
                        .masked_card = card.masked,
                        .reference = card.masked,
                        .two_phase = true};
        result = payops__execute(ctx, &op, now_ms, out);
        /* Only a pending one is driven here; a manual one belongs to
         * payops_c2c_reconcile, so that two drivers never race on a hold. */
        if (result == SB_OK && out->state == PAYOPS_RECEIPT_PENDING) result = c2c_drive(ctx, out, &card);
    }
    payments_card_wipe(&card);
    return result;
}

int payops_c2c_reconcile(const payops_ctx *ctx, int64_t now_ms, int64_t max_receipts, int64_t *cursor_io,
                         int64_t *settled_out) {
    *settled_out = 0;
    if (!ctx->sw || max_receipts < 1) return SB_EINVAL;
    int64_t timeout = ctx->c2c_timeout_ms > 0 ? ctx->c2c_timeout_ms : SB_PAYOPS_C2C_TIMEOUT_MS_DEFAULT;
    /* A pending one may still be driven by payops_c2c_send: leave it alone
     * for twice the longest run (every call timing out). */
    int64_t grace = 2 * (1 + SB_PAYMENTS_SWITCH_INQUIRIES_MAX + SB_PAYMENTS_SWITCH_REVERSALS_MAX) * timeout;
    for (int64_t looked = 0; looked < max_receipts; looked++) {
        int64_t id = 0;
        int result = store_query_int64(ctx->s, &id,
                                       "SELECT id FROM payments_receipts WHERE kind = 1 AND id > ? AND "
                                       "(state = 'manual' OR (state = 'pending' AND created_at_ms <= ?)) "
                                       "ORDER BY id LIMIT 1",
                                       "ii", *cursor_io, now_ms - grace);
        if (result == SB_ENOTFOUND) {
            *cursor_io = 0; /* the end: the next pass starts from the first */
            return SB_OK;
        }
        if (result != SB_OK) return result;
        *cursor_io = id;
        payops_receipt r;
        result = payops__receipt_load(ctx->s, id, &r);
        if (result != SB_OK) return result;
        /* Without the card (never stored) a send cannot be repeated: ask, and
         * if the switch has no answer, reverse (which fences the reference). */
        payments_c2c_state st;
        payments_c2c_init(&st);
        st.step = PAYMENTS_C2C_INQUIRE;
        payments_switch_result sr;
        memset(&sr, 0, sizeof sr);
        int calls = 0;
        while (!payments_c2c_is_final(st.step) &&
               calls++ < 1 + SB_PAYMENTS_SWITCH_INQUIRIES_MAX + SB_PAYMENTS_SWITCH_REVERSALS_MAX) {
            if (st.step == PAYMENTS_C2C_INQUIRE)
                result = ctx->sw->inquire(ctx->sw->ctx, r.transfer_id, timeout, &sr);
            else
                result = ctx->sw->reverse(ctx->sw->ctx, r.transfer_id, timeout, &sr);
            if (result != SB_OK) return result;
            payments_c2c_next(&st, sr.status);
        }
        if (st.step == PAYMENTS_C2C_POST || st.step == PAYMENTS_C2C_VOID) {
            result = payops__hold_settle(ctx, &r, st.step == PAYMENTS_C2C_POST, sr.rrn);
            if (result != SB_OK) return result;
            ++*settled_out;
        } else if (r.state != PAYOPS_RECEIPT_MANUAL) {
            result = store_exec(ctx->s, "UPDATE payments_receipts SET state = 'manual' WHERE id = ?", "i", r.id);
            if (result != SB_OK) return result;
        }
    }
    return SB_OK; /* max_receipts looked at: the next pass goes on after *cursor_io */
}
