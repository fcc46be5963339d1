/*
 * test_payments_ops_flow.c - money requests (create, pay, decline, cancel,
 * expire, retries, strangers), a group bill split settled by every member
 * (shares worked out by hand, totals conserved, ledger verify passing), and
 * card-to-card through the switch simulator: approve, decline, a lost and an
 * applied timeout, and a silent switch reconciled later - never a pending
 * hold left behind, never money moved twice.
 */
#include "payops_fixture.h"

static int setup(void **state) {
    *state = pfix_new();
    return 0;
}

static int teardown(void **state) {
    pfix_free(*state);
    return 0;
}

#define assert_verdict(actual, expected)                                                                               \
    assert_string_equal(payments_request_verdict_name(actual), payments_request_verdict_name(expected))

static void test_requests(void **state) {
    pfix *f = *state;
    deposit(f, ALI, 100000, "dep");
    int64_t rq = 0;
    /* Sara asks Ali (request-first). */
    assert_int_equal(payops_request_create(&f->ctx, SARA, "@ali", 30000, "dinner", NOW + 3600000, NOW, &rq), SB_OK);
    assert_int_equal(payops_request_create(&f->ctx, SARA, "@sara", 30000, "", NOW + 1, NOW, &rq), SB_EINVAL);
    assert_int_equal(payops_request_create(&f->ctx, SARA, "@ali", 0, "", NOW + 1, NOW, &rq), SB_EINVAL);
    assert_int_equal(payops_request_create(&f->ctx, SARA, "@ali", 5, "", NOW, NOW, &rq), SB_EINVAL);
    assert_int_equal(payops_request_create(&f->ctx, SARA, "@nobody", 5, "", NOW + 1, NOW, &rq), SB_ENOTFOUND);
    assert_int_equal(payops_request_create(&f->ctx, SARA, "@ali", 5,
                                           "a note far longer than sixty-three bytes, which is the limit of notes",
                                           NOW + 1, NOW, &rq),
                     SB_EINVAL);
    int64_t dinner = 0;
    assert_int_equal(payops_request_create(&f->ctx, SARA, "09121234567", 30000, "dinner", NOW + 3600000, NOW, &dinner),
                     SB_OK);
    payops_request got;
    assert_int_equal(payops_request_get(&f->ctx, ALI, dinner, &got), SB_OK);
    assert_int_equal(got.req.amount_minor, 30000);
    assert_string_equal(got.note, "dinner");
    assert_int_equal(payops_request_get(&f->ctx, REZA, dinner, &got), SB_ENOTFOUND);

    payops_receipt r, again;
    /* The requester cannot pay her own request; a stranger does not see it. */
    assert_int_equal(payops_request_pay(&f->ctx, SARA, dinner, "x", NOW, &r), SB_EPERM);
    assert_verdict(r.verdict, PAYMENTS_REQUEST_NOT_THE_PAYER);
    assert_int_equal(payops_request_pay(&f->ctx, REZA, dinner, "x", NOW, &r), SB_ENOTFOUND);
    assert_int_equal(payops_request_pay(&f->ctx, ALI, dinner, "p1", NOW, &r), SB_OK);
    assert_string_equal(payops_kind_name(r.kind), "request");
    assert_int_equal(r.request_id, dinner);
    assert_string_equal(r.counterparty, "Sara Ahmadi");
    assert_int_equal(balance(f, ALI), 70000);
    assert_int_equal(balance(f, SARA), 30000);
    assert_int_equal(payops_request_get(&f->ctx, SARA, dinner, &got), SB_OK);
    assert_string_equal(payments_request_state_name(got.req.state), "paid");
    assert_int_equal(got.req.settled_by_id, ALI);
    /* Retries, with the same key or another: one payment. */
    assert_int_equal(payops_request_pay(&f->ctx, ALI, dinner, "p1", NOW, &again), SB_OK);
    assert_int_equal(again.id, r.id);
    assert_int_equal(payops_request_pay(&f->ctx, ALI, dinner, "p2", NOW, &again), SB_OK);
    assert_int_equal(again.id, r.id);
    assert_int_equal(balance(f, ALI), 70000);
    payments_request_verdict v;
    assert_int_equal(payops_request_decline(&f->ctx, ALI, dinner, NOW, &v), SB_EPERM);
    assert_verdict(v, PAYMENTS_REQUEST_ALREADY_PAID);

    /* Decline, then paying is refused; declining again is a retry. */
    int64_t second = 0;
    assert_int_equal(payops_request_create(&f->ctx, SARA, "@ali", 1000, "", NOW + 3600000, NOW, &second), SB_OK);
    assert_int_equal(payops_request_decline(&f->ctx, SARA, second, NOW, &v), SB_EPERM);
    assert_verdict(v, PAYMENTS_REQUEST_NOT_THE_PAYER);
    assert_int_equal(payops_request_decline(&f->ctx, ALI, second, NOW, &v), SB_OK);
    assert_int_equal(payops_request_decline(&f->ctx, ALI, second, NOW, &v), SB_OK);
    assert_verdict(v, PAYMENTS_REQUEST_EXISTS);
    assert_int_equal(payops_request_pay(&f->ctx, ALI, second, "p3", NOW, &r), SB_EPERM);
    assert_verdict(r.verdict, PAYMENTS_REQUEST_ALREADY_DECLINED);

    /* Cancel by the requester only. */
    int64_t third = 0;
    assert_int_equal(payops_request_create(&f->ctx, SARA, "@ali", 1000, "", NOW + 3600000, NOW, &third), SB_OK);
    assert_int_equal(payops_request_cancel(&f->ctx, ALI, third, NOW, &v), SB_EPERM);
    assert_verdict(v, PAYMENTS_REQUEST_NOT_THE_REQUESTER);
    assert_int_equal(payops_request_cancel(&f->ctx, SARA, third, NOW, &v), SB_OK);
    assert_int_equal(payops_request_pay(&f->ctx, ALI, third, "p4", NOW, &r), SB_EPERM);
    assert_verdict(r.verdict, PAYMENTS_REQUEST_ALREADY_CANCELLED);

    /* Expiry: due at NOW + 1000. */
    int64_t fourth = 0, n = 0;
    assert_int_equal(payops_request_create(&f->ctx, SARA, "@ali", 1000, "", NOW + 1000, NOW, &fourth), SB_OK);
    assert_int_equal(payops_request_expire_due(&f->ctx, NOW + 999, SB_PAYOPS_REQUEST_EXPIRE_PASS_MAX, &n), SB_OK);
    assert_int_equal(n, 0);
    assert_int_equal(payops_request_pay(&f->ctx, ALI, fourth, "p5", NOW + 1000, &r), SB_EPERM);
    assert_verdict(r.verdict, PAYMENTS_REQUEST_EXPIRED_NOW);
    assert_int_equal(payops_request_expire_due(&f->ctx, NOW + 1000, SB_PAYOPS_REQUEST_EXPIRE_PASS_MAX, &n), SB_OK);
    assert_int_equal(n, 1); /* the first request was paid, the others settled */
    assert_int_equal(payops_request_get(&f->ctx, ALI, fourth, &got), SB_OK);
    assert_string_equal(payments_request_state_name(got.req.state), "expired");
    assert_int_equal(payops_request_pay(&f->ctx, ALI, fourth, "p5", NOW + 2000, &r), SB_EPERM);
    assert_verdict(r.verdict, PAYMENTS_REQUEST_ALREADY_EXPIRED);

    /* Insufficient funds: nothing moves and the request stays pending. */
    int64_t fifth = 0;
    assert_int_equal(payops_request_create(&f->ctx, SARA, "@ali", 70001, "", NOW + 3600000, NOW, &fifth), SB_OK);
    assert_int_equal(payops_request_pay(&f->ctx, ALI, fifth, "p6", NOW, &r), SB_ECONFLICT);
    assert_int_equal(payops_request_get(&f->ctx, ALI, fifth, &got), SB_OK);
    assert_string_equal(payments_request_state_name(got.req.state), "pending");
    assert_int_equal(balance(f, ALI), 70000);
    assert_int_equal(balance(f, SARA), 30000);
    verify_ok(f);
}

static void test_split_settled_by_everyone(void **state) {
    pfix *f = *state;
    deposit(f, SARA, 500000, "dep");
    deposit(f, REZA, 500000, "dep");
    deposit(f, MINA, 500000, "dep");
    /* Ali paid the restaurant 1,190,000: subtotal 1,000,000 + tax 90,000 +
     * tip 100,000, equal shares among Ali, Sara, Reza.  By hand (largest
     * remainder, ties to the lower index): base 333,334 / 333,333 / 333,333;
     * tax 30,000 each; tip 33,334 / 33,333 / 33,333; totals 396,668 /
     * 396,666 / 396,666 = 1,190,000. */
    int64_t members[3] = {ALI, SARA, REZA};
    payments_split_spec spec = {
        .mode = PAYMENTS_SPLIT_EQUAL, .count = 3, .subtotal_minor = 1000000, .tax_minor = 90000, .tip_minor = 100000};
    int64_t split = 0;
    int64_t dup[3] = {ALI, SARA, SARA};
    assert_int_equal(payops_split_create(&f->ctx, ALI, dup, 3, &spec, "Shandiz", NOW + 86400000, NOW, &split),
                     SB_EINVAL);
    assert_int_equal(payops_split_create(&f->ctx, ALI, members, 2, &spec, "Shandiz", NOW + 86400000, NOW, &split),
                     SB_EINVAL);
    assert_int_equal(payops_split_create(&f->ctx, ALI, members, 3, &spec, "Shandiz", NOW + 86400000, NOW, &split),
                     SB_OK);
    payops_split_member m[4];
    size_t count = 0;
    int64_t total = 0;
    assert_int_equal(payops_split_status(&f->ctx, SARA, split, m, 4, &count, &total), SB_OK);
    assert_int_equal(count, 3);
    assert_int_equal(total, 1190000);
    assert_int_equal(m[0].member_id, ALI);
    assert_int_equal(m[0].share_minor, 396668);
    assert_int_equal(m[0].request_id, 0);
    assert_string_equal(payments_request_state_name(m[0].state), "paid");
    assert_int_equal(m[1].share_minor, 396666);
    assert_int_equal(m[2].share_minor, 396666);
    assert_string_equal(payments_request_state_name(m[1].state), "pending");
    assert_int_equal(m[0].share_minor + m[1].share_minor + m[2].share_minor, total);
    assert_int_equal(payops_split_status(&f->ctx, MINA, split, m, 4, &count, &total), SB_ENOTFOUND);
    assert_int_equal(payops_split_status(&f->ctx, ALI, split, m, 2, &count, &total), SB_ELIMIT);

    payops_receipt r;
    assert_int_equal(payops_request_pay(&f->ctx, SARA, m[1].request_id, "share", NOW, &r), SB_OK);
    assert_int_equal(r.amount_minor, 396666);
    assert_int_equal(payops_split_status(&f->ctx, ALI, split, m, 4, &count, &total), SB_OK);
    assert_string_equal(payments_request_state_name(m[1].state), "paid");
    assert_string_equal(payments_request_state_name(m[2].state), "pending");
    assert_int_equal(payops_request_pay(&f->ctx, REZA, m[2].request_id, "share", NOW, &r), SB_OK);
    assert_int_equal(payops_request_pay(&f->ctx, REZA, m[2].request_id, "share", NOW, &r), SB_OK); /* retry */
    assert_int_equal(payops_split_status(&f->ctx, REZA, split, m, 4, &count, &total), SB_OK);
    for (size_t i = 0; i < count; i++)
        assert_string_equal(payments_request_state_name(m[i].state), "paid");
    /* Ali got exactly the others' shares; nothing lost or invented. */
    assert_int_equal(balance(f, ALI), 396666 * 2);
    assert_int_equal(balance(f, SARA), 500000 - 396666);
    assert_int_equal(balance(f, REZA), 500000 - 396666);
    assert_int_equal(balance(f, ALI) + balance(f, SARA) + balance(f, REZA) + balance(f, MINA),
                     -account_net(f, payops_bank_account_id(PAYOPS_BANK_SETTLEMENT)));
    verify_ok(f);

    /* Percentages with a stated remainder share: 33.33% / 33.33% / 33.34% of 100 rials + tip 1. */
    int64_t bp[3] = {3333, 3333, 3334};
    payments_split_spec pct = {.mode = PAYMENTS_SPLIT_PERCENT_BP,
                               .count = 3,
                               .values = bp,
                               .subtotal_minor = 100,
                               .tip_minor = 1,
                               .rule = PAYMENTS_REMAINDER_TO_SHARE,
                               .remainder_share = 0};
    assert_int_equal(payops_split_create(&f->ctx, SARA, members, 3, &pct, "tea", NOW + 86400000, NOW, &split), SB_OK);
    assert_int_equal(payops_split_status(&f->ctx, SARA, split, m, 4, &count, &total), SB_OK);
    assert_int_equal(total, 101);
    assert_int_equal(m[0].share_minor + m[1].share_minor + m[2].share_minor, 101);
    assert_string_equal(payments_request_state_name(m[1].state), "paid"); /* Sara is the payer */
}

static int64_t c2c_fee(int64_t amount) { /* default policy: 6,000 + 0.02%, 6,000..50,000 */
    int64_t fee = 6000 + amount * 2 / 10000;
    return fee < 6000 ? 6000 : fee > 50000 ? 50000 : fee;
}

static void assert_no_hold(pfix *f) {
    assert_int_equal(pending_debits(f, payops_wallet_id(ALI)), 0);
    assert_int_equal(pending_debits(f, payops_bank_account_id(PAYOPS_BANK_CARD_SWITCH)), 0);
}

static void test_c2c(void **state) {
    pfix *f = *state;
    deposit(f, ALI, 10000000, "dep");
    payops_quote q;
    payments_limit_verdict lv;
    assert_int_equal(payops_c2c_quote(&f->ctx, ALI, "6219-8610-3452-9007", 100000, NOW, &q, &lv), SB_OK);
    assert_string_equal(q.payee.display_name, "Sara Ahmadi");
    assert_string_equal(q.payee.masked_card, "621986******9007");
    assert_int_equal(q.fee_minor, 6020);
    assert_int_equal(q.total_minor, 106020);
    payops_receipt r, again;
    assert_int_equal(payops_c2c_send(&f->ctx, ALI, "6219861034529008", 1000, "bad", NOW, &r), SB_EINVAL);
    assert_string_equal(payments_reason_name(r.reason), "bad_check_digit");

    /* Approved: the hold is posted. */
    int64_t wallet = 10000000;
    assert_int_equal(payops_c2c_send(&f->ctx, ALI, DEST_CARD, 100000, "c1", NOW, &r), SB_OK);
    assert_string_equal(payops_receipt_state_name(r.state), "done");
    assert_string_equal(r.masked_card, "621986******9007");
    assert_string_equal(r.counterparty, "Sara Ahmadi");
    assert_int_equal(strlen(r.rrn), 12);
    assert_int_equal(strlen(r.settle_transfer_id), 32);
    wallet -= 100000 + c2c_fee(100000);
    assert_int_equal(balance(f, ALI), wallet);
    assert_no_hold(f);
    int64_t dest = 0;
    assert_int_equal(payments_switch_sim_balance(f->sim, DEST_CARD, &dest), SB_OK);
    assert_int_equal(dest, 100000);
    assert_int_equal(payops_c2c_send(&f->ctx, ALI, DEST_CARD, 100000, "c1", NOW, &again), SB_OK);
    assert_int_equal(again.id, r.id);
    assert_int_equal(payments_switch_sim_applied_count(f->sim, r.transfer_id), 1);
    assert_int_equal(balance(f, ALI), wallet);
    /* A crash after the switch approved, before the receipt was settled: the
     * retry asks the switch again (idempotent per reference) and posts once. */
    assert_int_equal(
        store_exec(f->s, "UPDATE payments_receipts SET state = 'pending', settle_transfer_id = NULL WHERE id = ?", "i",
                   r.id),
        SB_OK);
    assert_int_equal(payops_c2c_send(&f->ctx, ALI, DEST_CARD, 100000, "c1", NOW, &again), SB_OK);
    assert_string_equal(payops_receipt_state_name(again.state), "done");
    assert_string_equal(again.settle_transfer_id, r.settle_transfer_id);
    assert_int_equal(payments_switch_sim_applied_count(f->sim, r.transfer_id), 1);
    assert_int_equal(balance(f, ALI), wallet);
    assert_no_hold(f);

    /* Declined: the hold is voided, nothing moved anywhere. */
    assert_int_equal(payments_switch_sim_script(f->sim, PAYMENTS_SIM_DECLINE, "51"), SB_OK);
    assert_int_equal(payops_c2c_send(&f->ctx, ALI, DEST_CARD, 200000, "c2", NOW, &r), SB_OK);
    assert_string_equal(payops_receipt_state_name(r.state), "declined");
    assert_int_equal(balance(f, ALI), wallet);
    assert_no_hold(f);
    assert_int_equal(payments_switch_sim_applied_count(f->sim, r.transfer_id), 0);

    /* Timed out but applied: the inquiry finds it, the hold is posted once. */
    assert_int_equal(payments_switch_sim_script(f->sim, PAYMENTS_SIM_TIMEOUT_APPLIED, NULL), SB_OK);
    assert_int_equal(payops_c2c_send(&f->ctx, ALI, DEST_CARD, 300000, "c3", NOW, &r), SB_OK);
    assert_string_equal(payops_receipt_state_name(r.state), "done");
    wallet -= 300000 + c2c_fee(300000);
    assert_int_equal(balance(f, ALI), wallet);
    assert_int_equal(payments_switch_sim_applied_count(f->sim, r.transfer_id), 1);
    assert_no_hold(f);

    /* Timed out and lost: inquiry says not found, reversal fences, void. */
    assert_int_equal(payments_switch_sim_script(f->sim, PAYMENTS_SIM_TIMEOUT, NULL), SB_OK);
    assert_int_equal(payops_c2c_send(&f->ctx, ALI, DEST_CARD, 400000, "c4", NOW, &r), SB_OK);
    assert_string_equal(payops_receipt_state_name(r.state), "declined");
    assert_int_equal(balance(f, ALI), wallet);
    assert_int_equal(payments_switch_sim_applied_count(f->sim, r.transfer_id), 0);
    assert_no_hold(f);

    /* A silent switch: the send, every inquiry and every reversal time out:
     * the hold is kept (manual) - then reconciled when the switch answers. */
    for (int i = 0; i < 1 + SB_PAYMENTS_SWITCH_INQUIRIES_MAX + SB_PAYMENTS_SWITCH_REVERSALS_MAX; i++)
        assert_int_equal(payments_switch_sim_script(f->sim, PAYMENTS_SIM_TIMEOUT, NULL), SB_OK);
    assert_int_equal(payops_c2c_send(&f->ctx, ALI, DEST_CARD, 500000, "c5", NOW, &r), SB_OK);
    assert_string_equal(payops_receipt_state_name(r.state), "manual");
    assert_int_equal(pending_debits(f, payops_wallet_id(ALI)), 500000 + c2c_fee(500000));
    assert_int_equal(balance(f, ALI), wallet - 500000 - c2c_fee(500000)); /* held, not spendable */
    payments_switch_sim_script_clear(f->sim);
    /* A client retry leaves a manual one to the reconciler. */
    payments_switch_sim_stats calls = payments_switch_sim_get_stats(f->sim);
    assert_int_equal(payops_c2c_send(&f->ctx, ALI, DEST_CARD, 500000, "c5", NOW, &again), SB_OK);
    assert_string_equal(payops_receipt_state_name(again.state), "manual");
    assert_int_equal(payments_switch_sim_get_stats(f->sim).transfers, calls.transfers);
    int64_t settled = 0, cursor = 0;
    assert_int_equal(payops_c2c_reconcile(&f->ctx, NOW, SB_PAYOPS_C2C_RECONCILE_PASS_MAX, &cursor, &settled), SB_OK);
    assert_int_equal(settled, 1);
    assert_int_equal(payops_receipt_get(&f->ctx, ALI, r.id, &again), SB_OK);
    assert_string_equal(payops_receipt_state_name(again.state), "declined");
    assert_int_equal(balance(f, ALI), wallet);
    assert_int_equal(payments_switch_sim_applied_count(f->sim, r.transfer_id), 0);
    assert_no_hold(f);
    assert_int_equal(payops_c2c_reconcile(&f->ctx, NOW, SB_PAYOPS_C2C_RECONCILE_PASS_MAX, &cursor, &settled), SB_OK);
    assert_int_equal(settled, 0);

    /* A pending one (a crash after approval) is left to its sender for the
     * grace period (2 x 9 calls x 100 ms), then the reconciler finds it
     * approved by inquiry and posts it - once. */
    assert_int_equal(payops_c2c_send(&f->ctx, ALI, DEST_CARD, 1000, "c7", NOW, &r), SB_OK);
    wallet -= 1000 + c2c_fee(1000);
    assert_int_equal(
        store_exec(f->s, "UPDATE payments_receipts SET state = 'pending', settle_transfer_id = NULL WHERE id = ?", "i",
                   r.id),
        SB_OK);
    assert_int_equal(payops_c2c_reconcile(&f->ctx, NOW + 1799, SB_PAYOPS_C2C_RECONCILE_PASS_MAX, &cursor, &settled),
                     SB_OK);
    assert_int_equal(settled, 0);
    assert_int_equal(payops_c2c_reconcile(&f->ctx, NOW + 1800, SB_PAYOPS_C2C_RECONCILE_PASS_MAX, &cursor, &settled),
                     SB_OK);
    assert_int_equal(settled, 1);
    assert_int_equal(payops_receipt_get(&f->ctx, ALI, r.id, &again), SB_OK);
    assert_string_equal(payops_receipt_state_name(again.state), "done");
    assert_string_equal(again.settle_transfer_id, r.settle_transfer_id);
    assert_int_equal(payments_switch_sim_applied_count(f->sim, r.transfer_id), 1);
    assert_int_equal(balance(f, ALI), wallet);
    assert_no_hold(f);

    /* Insufficient funds for the hold: nothing is sent to the switch. */
    payments_switch_sim_stats before = payments_switch_sim_get_stats(f->sim);
    assert_int_equal(payops_c2c_send(&f->ctx, ALI, DEST_CARD, wallet, "c6", NOW, &r), SB_ECONFLICT);
    assert_int_equal(payments_switch_sim_get_stats(f->sim).transfers, before.transfers);
    assert_int_equal(balance(f, ALI), wallet);
    /* The switch moved exactly what the ledger posted. */
    assert_int_equal(payments_switch_sim_balance(f->sim, DEST_CARD, &dest), SB_OK);
    assert_int_equal(dest, account_net(f, payops_bank_account_id(PAYOPS_BANK_CARD_SWITCH)));
    assert_int_equal(dest, 401000);
    verify_ok(f);
}

/* Split members named by alias: @username, a mobile number in any form, an
 * e-mail; the payer may name themself; unknown aliases and payment links
 * are refused. */
static void test_split_member_aliases(void **state) {
    pfix *f = *state;
    int64_t id = -1;
    assert_int_equal(payops_split_member_resolve(&f->ctx, ALI, "@Sara", NOW, &id), SB_OK);
    assert_int_equal(id, SARA);
    assert_int_equal(payops_split_member_resolve(&f->ctx, ALI, "@ali", NOW, &id), SB_OK);
    assert_int_equal(id, ALI);
    assert_int_equal(payops_split_member_resolve(&f->ctx, ALI, "۰۹۱۹۱۱۱۲۲۳۳", NOW, &id), SB_OK);
    assert_int_equal(id, REZA);
    assert_int_equal(payops_email_set(&f->ctx, MINA, "Mina@Example.com"), SB_OK);
    assert_int_equal(payops_split_member_resolve(&f->ctx, ALI, "mina@example.com", NOW, &id), SB_OK);
    assert_int_equal(id, MINA);
    assert_int_equal(payops_split_member_resolve(&f->ctx, ALI, "@nobody", NOW, &id), SB_ENOTFOUND);
    assert_int_equal(id, 0);
    assert_int_equal(payops_split_member_resolve(&f->ctx, ALI, "dinner", NOW, &id), SB_EINVAL);
    char link[PAYOPS_LINK_TOKEN_CHARS + 1];
    assert_int_equal(payops_link_create(&f->ctx, SARA, 0, NOW + 60000, true, NOW, link), SB_OK);
    assert_int_equal(payops_split_member_resolve(&f->ctx, ALI, link, NOW, &id), SB_EINVAL);
}

/* A maintenance pass expires at most its batch, the earliest due first; the
 * backlog drains over the next passes. */
static void test_request_expiry_pass_is_bounded(void **state) {
    pfix *f = *state;
    int64_t ids[5];
    for (int i = 0; i < 5; i++) /* due at NOW + 1000 - i: the last created is due first */
        assert_int_equal(payops_request_create(&f->ctx, SARA, "@ali", 1000, "", NOW + 1000 - i, NOW, &ids[i]), SB_OK);
    int64_t n = -1;
    assert_int_equal(payops_request_expire_due(&f->ctx, NOW + 1000, 0, &n), SB_EINVAL);
    assert_int_equal(payops_request_expire_due(&f->ctx, NOW + 1000, 2, &n), SB_OK);
    assert_int_equal(n, 2);
    payops_request got;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(payops_request_get(&f->ctx, ALI, ids[i], &got), SB_OK);
        assert_string_equal(payments_request_state_name(got.req.state), i >= 3 ? "expired" : "pending");
    }
    assert_int_equal(payops_request_expire_due(&f->ctx, NOW + 1000, 2, &n), SB_OK);
    assert_int_equal(n, 2);
    assert_int_equal(payops_request_expire_due(&f->ctx, NOW + 1000, 2, &n), SB_OK);
    assert_int_equal(n, 1);
    assert_int_equal(payops_request_expire_due(&f->ctx, NOW + 1000, 2, &n), SB_OK);
    assert_int_equal(n, 0);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(payops_request_get(&f->ctx, ALI, ids[i], &got), SB_OK);
        assert_string_equal(payments_request_state_name(got.req.state), "expired");
    }
}

/* A reconcile pass looks at most at its batch and goes on from its cursor
 * next time, so every manual card-to-card gets its turn. */
static void test_c2c_reconcile_pass_is_bounded(void **state) {
    pfix *f = *state;
    deposit(f, ALI, 10000000, "dep");
    payops_receipt r[2], got;
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < 1 + SB_PAYMENTS_SWITCH_INQUIRIES_MAX + SB_PAYMENTS_SWITCH_REVERSALS_MAX; i++)
            assert_int_equal(payments_switch_sim_script(f->sim, PAYMENTS_SIM_TIMEOUT, NULL), SB_OK);
        assert_int_equal(payops_c2c_send(&f->ctx, ALI, DEST_CARD, 1000 + k, k ? "m2" : "m1", NOW, &r[k]), SB_OK);
        assert_string_equal(payops_receipt_state_name(r[k].state), "manual");
    }
    payments_switch_sim_script_clear(f->sim);
    int64_t settled = -1, cursor = 0;
    assert_int_equal(payops_c2c_reconcile(&f->ctx, NOW, 0, &cursor, &settled), SB_EINVAL);
    assert_int_equal(payops_c2c_reconcile(&f->ctx, NOW, 1, &cursor, &settled), SB_OK);
    assert_int_equal(settled, 1);
    assert_int_equal(cursor, r[0].id);
    assert_int_equal(payops_receipt_get(&f->ctx, ALI, r[0].id, &got), SB_OK);
    assert_string_equal(payops_receipt_state_name(got.state), "declined");
    assert_int_equal(payops_receipt_get(&f->ctx, ALI, r[1].id, &got), SB_OK);
    assert_string_equal(payops_receipt_state_name(got.state), "manual");
    assert_int_equal(payops_c2c_reconcile(&f->ctx, NOW, 1, &cursor, &settled), SB_OK);
    assert_int_equal(settled, 1);
    assert_int_equal(cursor, r[1].id);
    assert_int_equal(payops_receipt_get(&f->ctx, ALI, r[1].id, &got), SB_OK);
    assert_string_equal(payops_receipt_state_name(got.state), "declined");
    assert_int_equal(payops_c2c_reconcile(&f->ctx, NOW, 1, &cursor, &settled), SB_OK);
    assert_int_equal(settled, 0);
    assert_int_equal(cursor, 0); /* the end: the next pass starts over */
    assert_no_hold(f);
    verify_ok(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_settled_by_everyone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_c2c, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_expiry_pass_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_c2c_reconcile_pass_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_member_aliases, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
