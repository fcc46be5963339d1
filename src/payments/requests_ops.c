/*
 * requests_ops.c - money requests (the request-first flow: the payee asks,
 * the payer approves) and group bill splits whose shares are requests.
 * State rules are payments_request_apply's; the money moves through the
 * exactly-once executor (payments_ops.c).
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "messenger/messenger.h"
#include "payments/ops_int.h"

#define REQUEST_COLUMNS                                                                                                \
    "id, requester_id, payer_id, amount_minor, expires_at_ms, state, settled_by_id, settled_at_ms, note, "             \
    "coalesce(split_id, 0)"

static int request_load(store *s, int64_t id, payops_request *out) {
    memset(out, 0, sizeof *out);
    store_stmt *st;
    int result = store_query(s, &st, "SELECT " REQUEST_COLUMNS " FROM payments_requests WHERE id = ?", "i", id);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_ROW) {
        out->id = store_col_int64(st, 0);
        out->req.requester_id = store_col_int64(st, 1);
        out->req.payer_id = store_col_int64(st, 2);
        out->req.amount_minor = store_col_int64(st, 3);
        out->req.expires_at_ms = store_col_int64(st, 4);
        int64_t state = store_col_int64(st, 5);
        out->req.state = (payments_request_state)state;
        out->req.settled_by_id = store_col_int64(st, 6);
        out->req.settled_at_ms = store_col_int64(st, 7);
        payops__copy(out->note, sizeof out->note, store_col_text(st, 8));
        out->split_id = store_col_int64(st, 9);
        result = (state >= PAYMENTS_REQUEST_PENDING && state <= PAYMENTS_REQUEST_EXPIRED) ? SB_OK : SB_ECORRUPT;
    } else if (result == STORE_DONE) {
        result = SB_ENOTFOUND;
    }
    store_stmt_done(st);
    return result;
}

static int request_save(store *s, const payops_request *r) {
    return store_exec(s, "UPDATE payments_requests SET state = ?, settled_by_id = ?, settled_at_ms = ? WHERE id = ?",
                      "iiii", (int64_t)r->req.state, r->req.settled_by_id, r->req.settled_at_ms, r->id);
}

int payops_request_get(const payops_ctx *ctx, int64_t viewer_id, int64_t request_id, payops_request *out) {
    int result = request_load(ctx->s, request_id, out);
    if (result == SB_OK && viewer_id != out->req.requester_id && viewer_id != out->req.payer_id) {
        memset(out, 0, sizeof *out);
        return SB_ENOTFOUND;
    }
    return result;
}

/* Insert a checked request; the caller holds the transaction if it needs one. */
static int request_insert(store *s, int64_t requester_id, int64_t payer_id, int64_t amount_minor, const char *note,
                          int64_t expires_at_ms, int64_t now_ms, int64_t split_id, int64_t *id_out) {
    payments_request r;
    if (payments_request_init(&r, requester_id, payer_id, amount_minor, now_ms, expires_at_ms) != SB_OK ||
        payer_id == 0)
        return SB_EINVAL;
    if (note && strnlen(note, SB_PAYOPS_NOTE_BYTES_MAX + 1) > SB_PAYOPS_NOTE_BYTES_MAX) return SB_EINVAL;
    char text[PAYOPS_REFERENCE_BYTES];
    payops__copy(text, sizeof text, note);
    if (!sb_utf8_valid(text, strlen(text))) return SB_EINVAL;
    int result = store_exec(s,
                            "INSERT INTO payments_requests(requester_id, payer_id, amount_minor, expires_at_ms, state, "
                            "note, created_at_ms) VALUES (?, ?, ?, ?, 0, ?, ?)",
                            "iiiiti", requester_id, payer_id, amount_minor, expires_at_ms, text, now_ms);
    if (result != SB_OK) return result;
    *id_out = store_last_insert_id(s);
    if (split_id)
        result = store_exec(s, "UPDATE payments_requests SET split_id = ? WHERE id = ?", "ii", split_id, *id_out);
    return result;
}

/* Neither may have blocked the other: a block stops money requests and
 * split shares both ways.  SB_EPERM. */
static int not_blocked(store *s, int64_t a, int64_t b) {
    bool blocked = false;
    int result = messenger_blocked_either(s, a, b, &blocked);
    if (result != SB_OK) return result;
    return blocked ? SB_EPERM : SB_OK;
}

int payops_request_create(const payops_ctx *ctx, int64_t requester_id, const char *payer_alias, int64_t amount_minor,
                          const char *note, int64_t expires_at_ms, int64_t now_ms, int64_t *request_id_out) {
    *request_id_out = 0;
    payops_target t;
    int result = payops__resolve(ctx, requester_id, payer_alias, now_ms, false, &t);
    if (result != SB_OK) return result;
    if (t.link_token[0]) return SB_EINVAL; /* a link is for paying, not for asking */
    /* The requester blocked them: as hidden as the other way round. */
    if (not_blocked(ctx->s, requester_id, t.user_id) != SB_OK) return SB_ENOTFOUND;
    char name[PAYOPS_NAME_BYTES];
    result = payops__display_name(ctx->s, requester_id, name);
    if (result != SB_OK) return result;
    return request_insert(ctx->s, requester_id, t.user_id, amount_minor, note, expires_at_ms, now_ms, 0,
                          request_id_out);
}

int payops_request_create_user(const payops_ctx *ctx, int64_t requester_id, int64_t payer_id, int64_t amount_minor,
                               const char *note, int64_t expires_at_ms, int64_t now_ms, int64_t *request_id_out) {
    *request_id_out = 0;
    if (payer_id == requester_id) return SB_EINVAL;
    int result = messenger_reach_check(ctx->s, requester_id, payer_id);
    if (result == SB_OK) result = not_blocked(ctx->s, requester_id, payer_id);
    char name[PAYOPS_NAME_BYTES];
    if (result == SB_OK) result = payops__display_name(ctx->s, payer_id, name);
    if (result == SB_OK) result = payops__display_name(ctx->s, requester_id, name);
    if (result != SB_OK) return result;
    return request_insert(ctx->s, requester_id, payer_id, amount_minor, note, expires_at_ms, now_ms, 0, request_id_out);
}

/* Apply a non-money action in one store transaction. */
static int request_act(const payops_ctx *ctx, int64_t actor_id, int64_t request_id, payments_request_action action,
                       int64_t now_ms, payments_request_verdict *verdict_out) {
    *verdict_out = PAYMENTS_REQUEST_OK;
    int result = store_begin(ctx->s);
    if (result != SB_OK) return result;
    payops_request r;
    result = request_load(ctx->s, request_id, &r);
    if (result == SB_OK && action != PAYMENTS_REQUEST_EXPIRE && actor_id != r.req.requester_id &&
        actor_id != r.req.payer_id)
        result = SB_ENOTFOUND; /* strangers do not learn it exists */
    if (result == SB_OK) {
        payments_request_verdict v = payments_request_apply(&r.req, action, actor_id, 0, now_ms);
        *verdict_out = v;
        if (v == PAYMENTS_REQUEST_OK)
            result = request_save(ctx->s, &r);
        else if (v != PAYMENTS_REQUEST_EXISTS)
            result = SB_EPERM;
    }
    if (result == SB_OK) result = store_commit(ctx->s);
    if (result != SB_OK) store_rollback(ctx->s);
    return result;
}

int payops_request_decline(const payops_ctx *ctx, int64_t actor_id, int64_t request_id, int64_t now_ms,
                           payments_request_verdict *verdict_out) {
    return request_act(ctx, actor_id, request_id, PAYMENTS_REQUEST_DECLINE, now_ms, verdict_out);
}

int payops_request_cancel(const payops_ctx *ctx, int64_t actor_id, int64_t request_id, int64_t now_ms,
                          payments_request_verdict *verdict_out) {
    return request_act(ctx, actor_id, request_id, PAYMENTS_REQUEST_CANCEL, now_ms, verdict_out);
}

int payops_request_expire_due(const payops_ctx *ctx, int64_t now_ms, int64_t max_requests, int64_t *count_out) {
    *count_out = 0;
    if (max_requests < 1) return SB_EINVAL;
    while (*count_out < max_requests) {
        int64_t id = 0;
        int result = store_query_int64(ctx->s, &id,
                                       "SELECT id FROM payments_requests WHERE state = 0 AND expires_at_ms <= ? "
                                       "ORDER BY expires_at_ms, id LIMIT 1",
                                       "i", now_ms);
        if (result == SB_ENOTFOUND) return SB_OK;
        if (result != SB_OK) return result;
        payments_request_verdict v;
        result = request_act(ctx, 0, id, PAYMENTS_REQUEST_EXPIRE, now_ms, &v);
        if (result != SB_OK) return result;
        ++*count_out;
    }
    return SB_OK;
}

/* Sleep ms milliseconds (a pause between two looks at a row another call
 * is writing). */
static void pause_ms(int64_t ms) {
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* The request of op is paid, or being paid, under another key (the
 * executor answered SB_EEXISTS: another receipt holds it).  Wait its turn,
 * at most SB_PAYOPS_PAID_WAIT_MS: once that receipt is done, hand it back
 * (replayed: nothing moved now); if it vanished (the ledger refused that
 * payment), try this one again.  SB_EBUSY only if the other payment is still
 * in flight at the deadline. */
static int paid_receipt_wait(const payops_ctx *ctx, const payops_op *op, int64_t now_ms, payops_receipt *out) {
    int64_t deadline_ns = sb_mono_ns() + (int64_t)SB_PAYOPS_PAID_WAIT_MS * 1000000;
    int64_t pause = 1;
    for (;;) {
        int64_t rid = 0;
        int result = store_query_int64(ctx->s, &rid, "SELECT id FROM payments_receipts WHERE request_id = ?", "i",
                                       op->request_id);
        if (result == SB_ENOTFOUND && sb_mono_ns() < deadline_ns) {
            /* The other payment was refused and forgotten: this one may go. */
            result = payops__execute(ctx, op, now_ms, out);
            if (result != SB_EEXISTS) return result;
            continue;
        }
        if (result == SB_OK) result = payops__receipt_load(ctx->s, rid, out);
        if (result != SB_OK) return result;
        if (out->state == PAYOPS_RECEIPT_DONE) {
            out->replayed = true;
            return SB_OK;
        }
        if (sb_mono_ns() >= deadline_ns) {
            memset(out, 0, sizeof *out);
            return SB_EBUSY;
        }
        pause_ms(pause);
        pause = pause * 2 > SB_PAYOPS_PAID_POLL_MS_MAX ? SB_PAYOPS_PAID_POLL_MS_MAX : pause * 2;
    }
}

int payops_request_pay(const payops_ctx *ctx, int64_t payer_id, int64_t request_id, const char *idem_key,
                       int64_t now_ms, payops_receipt *out) {
    memset(out, 0, sizeof *out);
    if (payops_idem_key_check(idem_key) != SB_OK) return SB_EINVAL;
    payops_request r;
    int result = request_load(ctx->s, request_id, &r);
    if (result != SB_OK) return result;
    if (payer_id != r.req.requester_id && payer_id != r.req.payer_id) return SB_ENOTFOUND;
    /* The rules on a copy first: nothing moves unless paying is allowed. */
    payments_request probe = r.req;
    payments_request_verdict v =
        payments_request_apply(&probe, PAYMENTS_REQUEST_PAY, payer_id, r.req.amount_minor, now_ms);
    if (v != PAYMENTS_REQUEST_OK && v != PAYMENTS_REQUEST_EXISTS) {
        out->verdict = v;
        return SB_EPERM;
    }
    int64_t fee = 0;
    result = payments_fee(ctx->policy, PAYMENTS_OP_REQUEST, r.req.amount_minor, &fee);
    if (result != SB_OK) return result;
    ledger_id from, to;
    result = payops_wallet_ensure(ctx, payer_id, now_ms, &from);
    if (result == SB_OK) result = payops_wallet_ensure(ctx, r.req.requester_id, now_ms, &to);
    if (result != SB_OK) return result;
    char name[PAYOPS_NAME_BYTES], reference[PAYOPS_REFERENCE_BYTES];
    result = payops__display_name(ctx->s, r.req.requester_id, name);
    if (result != SB_OK) return result;
    snprintf(reference, sizeof reference, "request %lld", (long long)request_id);
    payops_op op = {.kind = PAYOPS_REQUEST,
                    .owner_id = payer_id,
                    .idem_key = idem_key,
                    .debit = from,
                    .credit = to,
                    .amount_minor = r.req.amount_minor,
                    .fee_minor = fee,
                    .counterparty_id = r.req.requester_id,
                    .counterparty_name = name,
                    .reference = reference,
                    .request_id = request_id};
    result = payops__execute(ctx, &op, now_ms, out);
    if (result == SB_EEXISTS) result = paid_receipt_wait(ctx, &op, now_ms, out);
    if (result != SB_OK) return result;
    /* The money moved: record the request as paid (a retry finds EXISTS). */
    result = store_begin(ctx->s);
    if (result != SB_OK) return result;
    result = request_load(ctx->s, request_id, &r);
    if (result == SB_OK) {
        v = payments_request_apply(&r.req, PAYMENTS_REQUEST_PAY, payer_id, r.req.amount_minor, now_ms);
        if (v == PAYMENTS_REQUEST_EXPIRED_NOW || v == PAYMENTS_REQUEST_ALREADY_EXPIRED ||
            v == PAYMENTS_REQUEST_ALREADY_CANCELLED || v == PAYMENTS_REQUEST_ALREADY_DECLINED) {
            /* It changed while the money moved: the payment stands (the
             * receipt proves it); mark it paid, as the money says. */
            r.req.state = PAYMENTS_REQUEST_PAID;
            r.req.settled_by_id = payer_id;
            r.req.settled_at_ms = now_ms;
            v = PAYMENTS_REQUEST_OK;
        }
        if (v == PAYMENTS_REQUEST_OK) result = request_save(ctx->s, &r);
    }
    if (result == SB_OK) result = store_commit(ctx->s);
    if (result != SB_OK) store_rollback(ctx->s);
    return result;
}

/* ---- splits ----------------------------------------------------------------- */

int payops_split_create(const payops_ctx *ctx, int64_t payer_id, const int64_t *members, size_t member_count,
                        const payments_split_spec *spec, const char *title, int64_t expires_at_ms, int64_t now_ms,
                        int64_t *split_id_out) {
    *split_id_out = 0;
    if (!members || !spec || member_count == 0 || spec->count != member_count) return SB_EINVAL;
    if (title && strnlen(title, SB_PAYOPS_NOTE_BYTES_MAX + 1) > SB_PAYOPS_NOTE_BYTES_MAX) return SB_EINVAL;
    if (member_count > SB_PAYMENTS_SPLIT_SHARES_MAX) return SB_ELIMIT;
    for (size_t i = 0; i < member_count; i++)
        for (size_t j = 0; j < i; j++)
            if (members[i] == members[j]) return SB_EINVAL;
    payments_share *shares = sb_calloc(member_count, sizeof *shares);
    if (!shares) return SB_ENOMEM;
    int result = payments_split(spec, shares);
    int64_t total = 0, want = 0;
    if (result == SB_OK && (sb_add_int64(spec->subtotal_minor, spec->tax_minor, &want) != SB_OK ||
                            sb_add_int64(want, spec->tip_minor, &want) != SB_OK))
        result = SB_ELIMIT;
    for (size_t i = 0; result == SB_OK && i < member_count; i++)
        if (sb_add_int64(total, shares[i].total_minor, &total) != SB_OK) result = SB_ELIMIT;
    if (result == SB_OK && total != want) result = SB_EINTERNAL; /* the split lost or invented a rial */
    if (result == SB_OK && total <= 0) result = SB_EINVAL;
    char name[PAYOPS_NAME_BYTES];
    for (size_t i = 0; result == SB_OK && i < member_count; i++) {
        result = payops__display_name(ctx->s, members[i], name);
        /* Every other member must be reachable by the payer (a contact they
         * may find, or someone they share a chat with) and not blocked
         * either way: a split share is a money request. */
        if (result == SB_OK && members[i] != payer_id) result = messenger_reach_check(ctx->s, payer_id, members[i]);
        if (result == SB_OK && members[i] != payer_id) result = not_blocked(ctx->s, payer_id, members[i]);
    }
    if (result == SB_OK) result = payops__display_name(ctx->s, payer_id, name);
    if (result != SB_OK) {
        sb_free(shares);
        return result;
    }
    result = store_begin(ctx->s);
    int64_t split_id = 0;
    if (result == SB_OK) {
        char text[PAYOPS_REFERENCE_BYTES];
        payops__copy(text, sizeof text, title);
        result = sb_utf8_valid(text, strlen(text)) ? SB_OK : SB_EINVAL;
        if (result == SB_OK)
            result = store_exec(ctx->s,
                                "INSERT INTO payments_splits(payer_id, title, total_minor, created_at_ms) "
                                "VALUES (?, ?, ?, ?)",
                                "itii", payer_id, text, total, now_ms);
        split_id = store_last_insert_id(ctx->s);
        for (size_t i = 0; result == SB_OK && i < member_count; i++) {
            int64_t request_id = 0;
            if (members[i] != payer_id && shares[i].total_minor > 0)
                result = request_insert(ctx->s, payer_id, members[i], shares[i].total_minor, text, expires_at_ms,
                                        now_ms, split_id, &request_id);
            if (result == SB_OK && request_id)
                result = store_exec(ctx->s,
                                    "INSERT INTO payments_split_shares(split_id, position, member_id, share_minor, "
                                    "request_id) VALUES (?, ?, ?, ?, ?)",
                                    "iiiii", split_id, (int64_t)i, members[i], shares[i].total_minor, request_id);
            else if (result == SB_OK) /* the payer's own share, or nothing owed */
                result = store_exec(ctx->s,
                                    "INSERT INTO payments_split_shares(split_id, position, member_id, share_minor, "
                                    "request_id) VALUES (?, ?, ?, ?, NULL)",
                                    "iiii", split_id, (int64_t)i, members[i], shares[i].total_minor);
        }
        if (result == SB_OK) result = store_commit(ctx->s);
        if (result != SB_OK) store_rollback(ctx->s);
    }
    sb_free(shares);
    if (result == SB_OK) *split_id_out = split_id;
    return result;
}

int payops_split_status(const payops_ctx *ctx, int64_t viewer_id, int64_t split_id, payops_split_member *out,
                        size_t out_max, size_t *count_out, int64_t *total_minor_out) {
    *count_out = 0;
    *total_minor_out = 0;
    int result = store_begin_read(ctx->s);
    if (result != SB_OK) return result;
    int64_t payer = 0, visible = 0, count = 0;
    result = store_query_int64(ctx->s, &payer, "SELECT payer_id FROM payments_splits WHERE id = ?", "i", split_id);
    if (result == SB_OK)
        result = store_query_int64(ctx->s, &visible,
                                   "SELECT count(*) FROM payments_split_shares WHERE split_id = ? AND member_id = ?",
                                   "ii", split_id, viewer_id);
    if (result == SB_OK && viewer_id != payer && !visible) result = SB_ENOTFOUND;
    if (result == SB_OK)
        result = store_query_int64(ctx->s, &count, "SELECT count(*) FROM payments_split_shares WHERE split_id = ?", "i",
                                   split_id);
    if (result == SB_OK && (size_t)count > out_max) result = SB_ELIMIT;
    if (result == SB_OK)
        result = store_query_int64(ctx->s, total_minor_out, "SELECT total_minor FROM payments_splits WHERE id = ?", "i",
                                   split_id);
    store_stmt *st = NULL;
    if (result == SB_OK)
        result = store_query(ctx->s, &st,
                             "SELECT s.member_id, s.share_minor, coalesce(s.request_id, 0), coalesce(r.state, 1) "
                             "FROM payments_split_shares s LEFT JOIN payments_requests r ON r.id = s.request_id "
                             "WHERE s.split_id = ? ORDER BY s.position",
                             "i", split_id);
    if (result == SB_OK) {
        size_t n = 0;
        while ((result = store_step(st)) == STORE_ROW && n < out_max) {
            out[n].member_id = store_col_int64(st, 0);
            out[n].share_minor = store_col_int64(st, 1);
            out[n].request_id = store_col_int64(st, 2);
            out[n].state = (payments_request_state)store_col_int64(st, 3);
            n++;
        }
        store_stmt_done(st);
        result = result < 0 ? result : SB_OK;
        *count_out = n;
    }
    store_rollback(ctx->s);
    return result;
}
