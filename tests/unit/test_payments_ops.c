/*
 * test_payments_ops.c - paying a person by alias end to end on a real store
 * and ledger: resolving (phone in Persian digits, @username, e-mail, links)
 * shows only a name and a masked card; quote then confirm; idempotent
 * retries; a key reused for another payment; insufficient funds moves
 * nothing; fees and daily limits; links with a fixed amount, single use and
 * expiry; bills (a bad check digit refused before money moves) and top-up;
 * receipts readable by their owner only; held quotes confirmed by id (the
 * payee shown is the payee paid; expired, changed and used quotes refused,
 * nothing moved).  Amounts are worked out by hand.
 */
#include <pthread.h>

#include "messenger/messenger.h"
#include "payops_fixture.h"

static int setup(void **state) {
    *state = pfix_new();
    return 0;
}

static int teardown(void **state) {
    pfix_free(*state);
    return 0;
}

static void test_resolve(void **state) {
    pfix *f = *state;
    payops_payee p;
    /* Sara's number in Persian digits, 0-prefixed. */
    assert_int_equal(payops_resolve(&f->ctx, ALI, "۰۹۳۵ ۱۲۳ ۴۵۶۷", NOW, &p), SB_OK);
    assert_string_equal(p.display_name, "Sara Ahmadi");
    assert_string_equal(p.masked_card, "");
    payments_card card;
    assert_int_equal(payments_card_parse(DEST_CARD, &card, NULL), SB_OK);
    assert_int_equal(payops_card_on_file_set(&f->ctx, SARA, &card), SB_OK);
    payments_card_wipe(&card);
    assert_int_equal(payops_resolve(&f->ctx, ALI, "@Sara", NOW, &p), SB_OK);
    assert_string_equal(p.display_name, "Sara Ahmadi");
    assert_string_equal(p.masked_card, "621986******9007");
    /* Reza has no name and no username: a masked phone. */
    assert_int_equal(payops_resolve(&f->ctx, ALI, "+98 919 111 2233", NOW, &p), SB_OK);
    assert_string_equal(p.display_name, "+98919***2233");
    /* E-mail. */
    assert_int_equal(payops_email_set(&f->ctx, MINA, "Mina.K@Example.org"), SB_OK);
    assert_int_equal(payops_email_set(&f->ctx, MINA, "mina.k@example.org"), SB_OK);
    assert_int_equal(payops_email_set(&f->ctx, ALI, "mina.k@example.org"), SB_EEXISTS);
    assert_int_equal(payops_email_set(&f->ctx, ALI, "no-at-sign"), SB_EINVAL);
    assert_int_equal(payops_resolve(&f->ctx, ALI, "MINA.K@example.ORG", NOW, &p), SB_OK);
    assert_string_equal(p.display_name, "Mina K");
    /* Unknown, junk, oneself. */
    assert_int_equal(payops_resolve(&f->ctx, ALI, "@nobody", NOW, &p), SB_ENOTFOUND);
    assert_int_equal(payops_resolve(&f->ctx, ALI, "09120000000", NOW, &p), SB_ENOTFOUND);
    assert_int_equal(payops_resolve(&f->ctx, ALI, "who@nowhere.ir", NOW, &p), SB_ENOTFOUND);
    assert_int_equal(payops_resolve(&f->ctx, ALI, "hello", NOW, &p), SB_EINVAL);
    assert_int_equal(payops_resolve(&f->ctx, ALI, "", NOW, &p), SB_EINVAL);
    assert_int_equal(payops_resolve(&f->ctx, ALI, "@ali", NOW, &p), SB_EINVAL);
    assert_int_equal(payops_resolve(&f->ctx, ALI, "00000000000000000000000000000000", NOW, &p), SB_ENOTFOUND);
}

/* What the payee allowed, nothing else: a hidden customer's phone and
 * @username resolve exactly as nobody's, their registered e-mail and their
 * links still work; one who blocked the payer is hidden by every alias but
 * a link; a block either way stops requests and split shares. */
static void test_resolve_follows_contact_rules(void **state) {
    pfix *f = *state;
    enum { HIDDEN = 9 };
    add_hidden_customer(f, HIDDEN, "+989127778899", "hidden_h", "Hidden H");
    payops_payee p;
    assert_int_equal(payops_resolve(&f->ctx, ALI, "09127778899", NOW, &p), SB_ENOTFOUND);
    assert_int_equal(payops_resolve(&f->ctx, ALI, "@hidden_h", NOW, &p), SB_ENOTFOUND);
    assert_string_equal(p.display_name, ""); /* nothing of them leaves */
    int64_t request_id = 0;
    assert_int_equal(payops_request_create(&f->ctx, ALI, "09127778899", 1000, "", NOW + 60000, NOW, &request_id),
                     SB_ENOTFOUND);
    int64_t member = 0;
    assert_int_equal(payops_split_member_resolve(&f->ctx, ALI, "@hidden_h", NOW, &member), SB_ENOTFOUND);
    /* By id, a hidden stranger is out of reach too. */
    const int64_t members[] = {ALI, HIDDEN};
    payments_split_spec spec = {.count = 2, .subtotal_minor = 2000};
    int64_t split_id = 0;
    assert_int_equal(payops_split_create(&f->ctx, ALI, members, 2, &spec, "", NOW + 60000, NOW, &split_id),
                     SB_ENOTFOUND);
    /* What they handed out themselves still works. */
    assert_int_equal(payops_email_set(&f->ctx, HIDDEN, "h@example.org"), SB_OK);
    assert_int_equal(payops_resolve(&f->ctx, ALI, "h@example.org", NOW, &p), SB_OK);
    assert_string_equal(p.display_name, "Hidden H");
    char link[PAYOPS_LINK_TOKEN_CHARS + 1];
    assert_int_equal(payops_link_create(&f->ctx, HIDDEN, 0, NOW + 60000, true, NOW, link), SB_OK);
    assert_int_equal(payops_resolve(&f->ctx, ALI, link, NOW, &p), SB_OK);
    /* Sara (findable) blocks Ali: hidden from him by phone, name and e-mail. */
    assert_int_equal(payops_email_set(&f->ctx, SARA, "sara@example.org"), SB_OK);
    assert_int_equal(payops_resolve(&f->ctx, ALI, "@sara", NOW, &p), SB_OK);
    assert_int_equal(messenger_block(f->s, SARA, ALI, NOW), SB_OK);
    assert_int_equal(payops_resolve(&f->ctx, ALI, "@sara", NOW, &p), SB_ENOTFOUND);
    assert_int_equal(payops_resolve(&f->ctx, ALI, "+989351234567", NOW, &p), SB_ENOTFOUND);
    assert_int_equal(payops_resolve(&f->ctx, ALI, "sara@example.org", NOW, &p), SB_ENOTFOUND);
    assert_int_equal(payops_request_create_user(&f->ctx, ALI, SARA, 1000, "", NOW + 60000, NOW, &request_id),
                     SB_ENOTFOUND);
    assert_int_equal(messenger_unblock(f->s, SARA, ALI), SB_OK);
    /* Ali blocks Sara: she is found, but he may not ask her for money. */
    assert_int_equal(messenger_block(f->s, ALI, SARA, NOW), SB_OK);
    assert_int_equal(payops_resolve(&f->ctx, ALI, "@sara", NOW, &p), SB_OK);
    assert_int_equal(payops_request_create(&f->ctx, ALI, "@sara", 1000, "", NOW + 60000, NOW, &request_id),
                     SB_ENOTFOUND);
    assert_int_equal(payops_request_create_user(&f->ctx, ALI, SARA, 1000, "", NOW + 60000, NOW, &request_id), SB_EPERM);
    const int64_t with_sara[] = {ALI, SARA};
    assert_int_equal(payops_split_create(&f->ctx, ALI, with_sara, 2, &spec, "", NOW + 60000, NOW, &split_id), SB_EPERM);
    assert_int_equal(messenger_unblock(f->s, ALI, SARA), SB_OK);
    assert_int_equal(payops_split_create(&f->ctx, ALI, with_sara, 2, &spec, "", NOW + 60000, NOW, &split_id), SB_OK);
}

static void test_pay_by_alias(void **state) {
    pfix *f = *state;
    deposit(f, ALI, 1000000, "dep-1");
    deposit(f, ALI, 1000000, "dep-1"); /* a retry: once */
    assert_int_equal(balance(f, ALI), 1000000);
    payops_quote q;
    payments_limit_verdict lv;
    assert_int_equal(payops_pay_quote(&f->ctx, ALI, "@sara", 250000, NOW, &q, &lv), SB_OK);
    assert_string_equal(q.payee.display_name, "Sara Ahmadi");
    assert_int_equal(q.amount_minor, 250000);
    assert_int_equal(q.fee_minor, 0); /* the default policy: transfers are free */
    assert_int_equal(q.total_minor, 250000);
    assert_int_equal(balance(f, ALI), 1000000); /* a quote moves nothing */

    payops_receipt r, again;
    assert_int_equal(payops_pay_confirm(&f->ctx, ALI, "@sara", 250000, "pay-1", NOW, &r), SB_OK);
    assert_string_equal(payops_receipt_state_name(r.state), "done");
    assert_string_equal(payops_kind_name(r.kind), "transfer");
    assert_string_equal(r.counterparty, "Sara Ahmadi");
    assert_int_equal(r.amount_minor, 250000);
    assert_int_equal(strlen(r.transfer_id), 32);
    assert_string_equal(r.fee_transfer_id, "");
    assert_int_equal(balance(f, ALI), 750000);
    assert_int_equal(balance(f, SARA), 250000);
    /* The ledger transfer carries the receipt id. */
    ledger_id tid;
    ledger_transfer t;
    assert_int_equal(ledger_id_parse(r.transfer_id, 32, &tid), SB_OK);
    assert_int_equal(ledger_lookup_transfer(f->s, tid, &t, NULL), SB_OK);
    assert_true(t.user_data.lo == (uint64_t)r.id);
    assert_true(ledger_id_equal(t.credit_account_id, payops_wallet_id(SARA)));

    /* Same key: the same receipt, nothing moves again. */
    assert_int_equal(payops_pay_confirm(&f->ctx, ALI, "@sara", 250000, "pay-1", NOW, &again), SB_OK);
    assert_int_equal(again.id, r.id);
    assert_string_equal(again.transfer_id, r.transfer_id);
    assert_int_equal(balance(f, ALI), 750000);
    /* The same payee by phone is the same operation. */
    assert_int_equal(payops_pay_confirm(&f->ctx, ALI, "09351234567", 250000, "pay-1", NOW, &again), SB_OK);
    assert_int_equal(again.id, r.id);
    /* The key for another amount or payee: conflict. */
    assert_int_equal(payops_pay_confirm(&f->ctx, ALI, "@sara", 250001, "pay-1", NOW, &again), SB_ECONFLICT);
    assert_int_equal(payops_pay_confirm(&f->ctx, ALI, "@mina", 250000, "pay-1", NOW, &again), SB_ECONFLICT);
    assert_int_equal(balance(f, ALI), 750000);
    /* Bad keys and amounts. */
    assert_int_equal(payops_pay_confirm(&f->ctx, ALI, "@sara", 1, "", NOW, &again), SB_EINVAL);
    assert_int_equal(payops_pay_confirm(&f->ctx, ALI, "@sara", 1, "bad key", NOW, &again), SB_EINVAL);
    assert_int_equal(payops_pay_confirm(&f->ctx, ALI, "@sara", 0, "k0", NOW, &again), SB_EINVAL);
    assert_int_equal(payops_pay_confirm(&f->ctx, ALI, "@sara", -5, "k0", NOW, &again), SB_EINVAL);
    assert_int_equal(payops_pay_confirm(&f->ctx, ALI, "@nobody", 5, "k0", NOW, &again), SB_ENOTFOUND);

    /* Receipts: the owner only. */
    payops_receipt got;
    assert_int_equal(payops_receipt_get(&f->ctx, ALI, r.id, &got), SB_OK);
    assert_int_equal(got.amount_minor, 250000);
    assert_string_equal(got.counterparty, "Sara Ahmadi");
    assert_int_equal(payops_receipt_get(&f->ctx, SARA, r.id, &got), SB_ENOTFOUND);
    assert_int_equal(payops_receipt_get(&f->ctx, ALI, 999, &got), SB_ENOTFOUND);
    /* The statement: Ali's deposit and payment, oldest first; Sara has none. */
    payops_receipt list[4];
    size_t n = 0;
    assert_int_equal(payops_receipt_list(&f->ctx, ALI, 0, list, 4, &n), SB_OK);
    assert_int_equal(n, 2);
    assert_string_equal(payops_kind_name(list[0].kind), "deposit");
    assert_int_equal(list[1].id, r.id);
    assert_int_equal(payops_receipt_list(&f->ctx, ALI, list[0].id, list, 1, &n), SB_OK);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].id, r.id);
    assert_int_equal(payops_receipt_list(&f->ctx, SARA, 0, list, 4, &n), SB_OK);
    assert_int_equal(n, 0);
    verify_ok(f);
}

static void test_insufficient_funds(void **state) {
    pfix *f = *state;
    deposit(f, ALI, 1000, "dep");
    int64_t receipts = receipt_count(f);
    payops_receipt r;
    assert_int_equal(payops_pay_confirm(&f->ctx, ALI, "@sara", 5000, "big", NOW, &r), SB_ECONFLICT);
    assert_string_equal(ledger_result_name(r.ledger_result), "exceeds_credits");
    assert_int_equal(balance(f, ALI), 1000);
    assert_int_equal(balance(f, SARA), 0);
    assert_int_equal(receipt_count(f), receipts); /* no trace */
    /* Funded, the same key is judged afresh. */
    deposit(f, ALI, 4000, "dep-2");
    assert_int_equal(payops_pay_confirm(&f->ctx, ALI, "@sara", 5000, "big", NOW, &r), SB_OK);
    assert_int_equal(balance(f, ALI), 0);
    assert_int_equal(balance(f, SARA), 5000);
    verify_ok(f);
}

static void test_fees_and_limits(void **state) {
    pfix *f = *state;
    /* Transfers: 100 + 1% fee, at most 2 a day, 50,000 a day, 30,000 each. */
    f->policy.fee[PAYMENTS_OP_TRANSFER] = (payments_fee_rule){100, 100, 0, INT64_MAX};
    f->policy.limit[PAYMENTS_OP_TRANSFER] = (payments_limit_rule){30000, 50000, 2};
    deposit(f, ALI, 100000, "dep");
    payops_quote q;
    payments_limit_verdict lv;
    assert_int_equal(payops_pay_quote(&f->ctx, ALI, "@sara", 10000, NOW, &q, &lv), SB_OK);
    assert_int_equal(q.fee_minor, 200); /* 100 + 10000 * 1% */
    assert_int_equal(q.total_minor, 10200);
    assert_int_equal(payops_pay_quote(&f->ctx, ALI, "@sara", 30001, NOW, &q, &lv), SB_ELIMIT);
    assert_string_equal(payments_limit_verdict_name(lv), payments_limit_verdict_name(PAYMENTS_LIMIT_OPERATION_MAX));
    payops_receipt r;
    assert_int_equal(payops_pay_confirm(&f->ctx, ALI, "@sara", 10000, "a", NOW, &r), SB_OK);
    assert_int_equal(r.fee_minor, 200);
    assert_int_equal(strlen(r.fee_transfer_id), 32);
    assert_int_equal(payops_pay_confirm(&f->ctx, ALI, "@sara", 30000, "b", NOW, &r), SB_OK);
    assert_int_equal(r.fee_minor, 400);
    /* 100,000 - 10,200 - 30,400 */
    assert_int_equal(balance(f, ALI), 59400);
    assert_int_equal(balance(f, SARA), 40000);
    assert_int_equal(account_net(f, payops_bank_account_id(PAYOPS_BANK_FEES)), 600);
    /* A third payment today breaks the count. */
    assert_int_equal(payops_pay_confirm(&f->ctx, ALI, "@sara", 100, "c", NOW, &r), SB_ELIMIT);
    assert_string_equal(payments_limit_verdict_name(r.limit), payments_limit_verdict_name(PAYMENTS_LIMIT_DAILY_COUNT));
    assert_int_equal(balance(f, ALI), 59400);
    /* A retry of a counted one is still fine. */
    assert_int_equal(payops_pay_confirm(&f->ctx, ALI, "@sara", 30000, "b", NOW, &r), SB_OK);
    /* The next bank day (Tehran midnight) starts afresh; daily amount: 40,000 + 10,001 > 50,000 is the same day only.
     */
    int64_t tomorrow = NOW + 24LL * 3600 * 1000;
    assert_int_equal(payops_pay_confirm(&f->ctx, ALI, "@sara", 100, "c", tomorrow, &r), SB_OK);
    assert_int_equal(balance(f, ALI), 59400 - 201);
    verify_ok(f);
}

static void test_links(void **state) {
    pfix *f = *state;
    deposit(f, ALI, 100000, "dep");
    char once[PAYOPS_LINK_TOKEN_CHARS + 1], many[PAYOPS_LINK_TOKEN_CHARS + 1];
    assert_int_equal(payops_link_create(&f->ctx, SARA, 5000, NOW + 60000, false, NOW, once), SB_OK);
    assert_int_equal(payops_link_create(&f->ctx, SARA, 0, NOW + 60000, true, NOW, many), SB_OK);
    assert_int_equal(strlen(once), 32);
    assert_string_not_equal(once, many);
    assert_int_equal(payops_link_create(&f->ctx, SARA, 0, NOW, true, NOW, many), SB_EINVAL); /* already expired */
    payops_payee p;
    assert_int_equal(payops_resolve(&f->ctx, ALI, once, NOW, &p), SB_OK);
    assert_string_equal(p.display_name, "Sara Ahmadi");
    assert_int_equal(p.fixed_amount_minor, 5000);
    payops_receipt r, again;
    assert_int_equal(payops_pay_confirm(&f->ctx, ALI, once, 4000, "l1", NOW, &r), SB_EINVAL); /* not its amount */
    assert_int_equal(payops_pay_confirm(&f->ctx, ALI, once, 5000, "l1", NOW, &r), SB_OK);
    /* Used up: a new payment is refused, the retry gets its receipt. */
    assert_int_equal(payops_resolve(&f->ctx, ALI, once, NOW, &p), SB_ENOTFOUND);
    assert_int_equal(payops_pay_confirm(&f->ctx, ALI, once, 5000, "l2", NOW, &again), SB_ENOTFOUND);
    assert_int_equal(payops_pay_confirm(&f->ctx, ALI, once, 5000, "l1", NOW, &again), SB_OK);
    assert_int_equal(again.id, r.id);
    /* ...also when the crash left it pending: finished, not paid twice. */
    assert_int_equal(store_exec(f->s, "UPDATE payments_receipts SET state = 'pending' WHERE id = ?", "i", r.id), SB_OK);
    assert_int_equal(payops_pay_confirm(&f->ctx, ALI, once, 5000, "l1", NOW, &again), SB_OK);
    assert_int_equal(again.id, r.id);
    assert_string_equal(payops_receipt_state_name(again.state), "done");
    assert_int_equal(balance(f, SARA), 5000);
    /* Multi-use: any amount, twice; expired after its time. */
    assert_int_equal(payops_pay_confirm(&f->ctx, ALI, many, 700, "m1", NOW, &r), SB_OK);
    assert_int_equal(payops_pay_confirm(&f->ctx, ALI, many, 300, "m2", NOW, &r), SB_OK);
    assert_int_equal(payops_pay_confirm(&f->ctx, ALI, many, 300, "m3", NOW + 60000, &r), SB_ENOTFOUND);
    assert_int_equal(balance(f, SARA), 6000);
    assert_int_equal(balance(f, ALI), 94000);
    /* A link whose payment the ledger refused gives its use back. */
    char dear[PAYOPS_LINK_TOKEN_CHARS + 1];
    assert_int_equal(payops_link_create(&f->ctx, SARA, 1000000, NOW + 60000, false, NOW, dear), SB_OK);
    assert_int_equal(payops_pay_confirm(&f->ctx, ALI, dear, 1000000, "d1", NOW, &r), SB_ECONFLICT);
    assert_int_equal(payops_resolve(&f->ctx, ALI, dear, NOW, &p), SB_OK);
    verify_ok(f);
}

static void test_bill_and_topup(void **state) {
    pfix *f = *state;
    deposit(f, ALI, 100000, "dep");
    int64_t receipts = receipt_count(f);
    payops_receipt r, again;
    /* A bad bill-ID check digit: refused before anything. */
    assert_int_equal(payops_bill_pay(&f->ctx, ALI, "2050327604614", "1070189", "b0", NOW, &r), SB_EINVAL);
    assert_string_equal(payments_reason_name(r.reason), "bad_bill_id_check");
    assert_int_equal(payops_bill_pay(&f->ctx, ALI, "2050327604613", "1070188", "b0", NOW, &r), SB_EINVAL);
    assert_int_equal(receipt_count(f), receipts);
    assert_int_equal(balance(f, ALI), 100000);
    /* 2050327604613 / 1070189: water, 10,000 rials (persian-tools). */
    assert_int_equal(payops_bill_pay(&f->ctx, ALI, "2050327604613", "1070189", "b1", NOW, &r), SB_OK);
    assert_int_equal(r.amount_minor, 10000);
    assert_string_equal(r.counterparty, "water bill");
    assert_string_equal(r.reference, "2050327604613/1070189");
    assert_int_equal(account_net(f, payops_biller_account_id(PAYMENTS_BILL_WATER)), 10000);
    assert_int_equal(payops_bill_pay(&f->ctx, ALI, "2050327604613", "1070189", "b1", NOW, &again), SB_OK);
    assert_int_equal(again.id, r.id);
    /* The same bill under another key: already paid. */
    assert_int_equal(payops_bill_pay(&f->ctx, ALI, "۲۰۵۰۳۲۷۶۰۴۶۱۳", "1070189", "b2", NOW, &again), SB_EEXISTS);
    assert_int_equal(balance(f, ALI), 90000);
    /* Top-up: the operator from the number. */
    assert_int_equal(payops_topup(&f->ctx, ALI, "0912 123 4567", 20000, "t1", NOW, &r), SB_OK);
    assert_string_equal(r.reference, "+989121234567");
    assert_int_equal(account_net(f, payops_operator_account_id(PAYMENTS_OPERATOR_MCI)), 20000);
    assert_int_equal(payops_topup(&f->ctx, ALI, "0912 123 4567", 20000, "t1", NOW, &again), SB_OK);
    assert_int_equal(again.id, r.id);
    assert_int_equal(payops_topup(&f->ctx, ALI, "02188776655", 20000, "t2", NOW, &r), SB_EINVAL); /* landline */
    assert_string_equal(payments_reason_name(r.reason), "not_mobile");
    assert_int_equal(payops_topup(&f->ctx, ALI, "09351234567", 200000, "t3", NOW, &r), SB_ECONFLICT); /* funds */
    assert_int_equal(balance(f, ALI), 70000);
    verify_ok(f);
}

/* A crash after the ledger committed but before the receipt said done: the
 * retry with the same key finds it pending, resubmits the same transfer ids
 * (the ledger answers exists) and finishes - the money moved once. */
static void test_crash_between_ledger_and_receipt(void **state) {
    pfix *f = *state;
    f->policy.fee[PAYMENTS_OP_TRANSFER] = (payments_fee_rule){50, 0, 0, INT64_MAX};
    deposit(f, ALI, 10000, "dep");
    payops_receipt r, again;
    assert_int_equal(payops_pay_confirm(&f->ctx, ALI, "@sara", 4000, "crash", NOW, &r), SB_OK);
    assert_int_equal(store_exec(f->s, "UPDATE payments_receipts SET state = 'pending' WHERE id = ?", "i", r.id), SB_OK);
    assert_int_equal(payops_pay_confirm(&f->ctx, ALI, "@sara", 4000, "crash", NOW, &again), SB_OK);
    assert_string_equal(payops_receipt_state_name(again.state), "done");
    assert_int_equal(again.id, r.id);
    assert_string_equal(again.fee_transfer_id, r.fee_transfer_id);
    assert_int_equal(balance(f, ALI), 10000 - 4050);
    assert_int_equal(balance(f, SARA), 4000);
    assert_int_equal(account_net(f, payops_bank_account_id(PAYOPS_BANK_FEES)), 50);
    /* A crash before the ledger saw it: a pending row whose ids were never
     * submitted (written here as the executor writes it). */
    char sara[LEDGER_ID_HEX_BYTES];
    ledger_id_format(payops_wallet_id(SARA), sara);
    assert_int_equal(store_exec(f->s,
                                "INSERT INTO payments_receipts(owner_id, idem_key, kind, state, amount_minor, "
                                "fee_minor, counterparty_id, counterparty_name, credit_account, transfer_id, "
                                "fee_transfer_id, day, created_at_ms) VALUES (?, 'early', 0, 'pending', 1000, 50, ?, "
                                "'Sara Ahmadi', ?, '0000000000000000000000000000e001', "
                                "'0000000000000000000000000000e002', 0, ?)",
                                "iiti", (int64_t)ALI, (int64_t)SARA, sara, NOW),
                     SB_OK);
    assert_int_equal(balance(f, ALI), 10000 - 4050);
    assert_int_equal(payops_pay_confirm(&f->ctx, ALI, "@sara", 1000, "early", NOW, &r), SB_OK);
    assert_string_equal(payops_receipt_state_name(r.state), "done");
    assert_string_equal(r.transfer_id, "0000000000000000000000000000e001");
    assert_int_equal(balance(f, ALI), 10000 - 4050 - 1050);
    assert_int_equal(payops_pay_confirm(&f->ctx, ALI, "@sara", 1000, "early", NOW, &r), SB_OK);
    assert_int_equal(balance(f, ALI), 10000 - 4050 - 1050);
    verify_ok(f);
}

/* Eight clients at once, each on its own store connection. */
typedef struct {
    pfix *f;
    char key[16];
    int rc;
    payops_receipt r;
} racer;

static void *race_pay(void *arg) {
    racer *x = arg;
    store *s = NULL;
    if (store_open(x->f->dir, NULL, &s) != SB_OK) {
        x->rc = SB_EIO;
        return NULL;
    }
    payops_ctx ctx = x->f->ctx;
    ctx.s = s;
    x->rc = payops_pay_confirm(&ctx, ALI, "@sara", 3000, x->key, NOW, &x->r);
    store_close(s);
    return NULL;
}

static void run_racers(pfix *f, racer *x, int n) {
    pthread_t th[8];
    for (int i = 0; i < n; i++) {
        x[i].f = f;
        assert_int_equal(pthread_create(&th[i], NULL, race_pay, &x[i]), 0);
    }
    for (int i = 0; i < n; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
}

static void test_concurrent_clients(void **state) {
    pfix *f = *state;
    deposit(f, ALI, 10000, "dep");
    /* The same key from eight clients: one payment, one receipt. */
    racer same[8];
    memset(same, 0, sizeof same);
    for (int i = 0; i < 8; i++)
        snprintf(same[i].key, sizeof same[i].key, "same");
    run_racers(f, same, 8);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(same[i].rc, SB_OK);
        assert_int_equal(same[i].r.id, same[0].r.id);
    }
    assert_int_equal(balance(f, ALI), 7000);
    /* Eight different payments of 3,000 with 7,000 left: exactly two succeed,
     * the others are refused by the ledger and leave no receipt. */
    racer diff[8];
    memset(diff, 0, sizeof diff);
    for (int i = 0; i < 8; i++)
        snprintf(diff[i].key, sizeof diff[i].key, "k%d", i);
    run_racers(f, diff, 8);
    int ok = 0;
    for (int i = 0; i < 8; i++) {
        if (diff[i].rc == SB_OK)
            ok++;
        else
            assert_int_equal(diff[i].rc, SB_ECONFLICT);
    }
    assert_int_equal(ok, 2);
    assert_int_equal(balance(f, ALI), 1000);
    assert_int_equal(balance(f, SARA), 9000);
    assert_int_equal(receipt_count(f), 1 + 1 + 2); /* deposit, "same", two */
    verify_ok(f);
}

/* A held quote pays the payee it showed: not whoever the alias names at the
 * confirm.  Expired, changed and already used quotes are refused with
 * nothing moved; the same key again returns the same receipt, even once the
 * quote has expired; a ledger refusal frees the quote for another key. */
static void test_held_quote(void **state) {
    pfix *f = *state;
    deposit(f, ALI, 100000, "dep");
    payops_held_quote h;
    payments_limit_verdict lv;
    assert_int_equal(payops_pay_quote_hold(&f->ctx, ALI, "09351234567", 30000, NOW, &h, &lv), SB_OK);
    assert_int_equal(strlen(h.id), PAYOPS_QUOTE_ID_CHARS);
    assert_int_equal(h.expires_at_ms, NOW + SB_PAYOPS_QUOTE_TTL_MS);
    assert_string_equal(h.quote.payee.display_name, "Sara Ahmadi");
    assert_int_equal(h.quote.amount_minor, 30000);
    assert_int_equal(h.quote.total_minor, 30000); /* transfers are free */
    assert_int_equal(balance(f, ALI), 100000);    /* a quote moves nothing */

    payops_receipt r, again;
    /* Someone else's quote, a malformed id or key. */
    assert_int_equal(payops_pay_confirm_quote(&f->ctx, MINA, h.id, "q1", NOW, &r), SB_ENOTFOUND);
    assert_int_equal(payops_pay_confirm_quote(&f->ctx, ALI, "0123", "q1", NOW, &r), SB_EINVAL);
    assert_int_equal(payops_pay_confirm_quote(&f->ctx, ALI, h.id, "bad key", NOW, &r), SB_EINVAL);
    assert_int_equal(payops_pay_confirm_quote(&f->ctx, ALI, "00000000000000000000000000000000", "q1", NOW, &r),
                     SB_ENOTFOUND);

    assert_int_equal(payops_pay_confirm_quote(&f->ctx, ALI, h.id, "q1", NOW + 1000, &r), SB_OK);
    assert_string_equal(payops_receipt_state_name(r.state), "done");
    assert_string_equal(r.counterparty, "Sara Ahmadi");
    assert_int_equal(r.amount_minor, 30000);
    assert_int_equal(balance(f, ALI), 70000);
    assert_int_equal(balance(f, SARA), 30000);
    /* The same key: the same receipt, also after the expiry. */
    assert_int_equal(payops_pay_confirm_quote(&f->ctx, ALI, h.id, "q1", NOW + 2000, &again), SB_OK);
    assert_int_equal(again.id, r.id);
    assert_int_equal(payops_pay_confirm_quote(&f->ctx, ALI, h.id, "q1", NOW + SB_PAYOPS_QUOTE_TTL_MS + 5, &again),
                     SB_OK);
    assert_int_equal(again.id, r.id);
    /* Another key: a quote pays once. */
    assert_int_equal(payops_pay_confirm_quote(&f->ctx, ALI, h.id, "q2", NOW + 2000, &again), SB_EEXISTS);
    int64_t claimed = 0;
    assert_int_equal(store_query_int64(f->s, &claimed,
                                       "SELECT count(*) FROM payments_quotes WHERE id = ? AND idem_key = 'q1'", "t",
                                       h.id),
                     SB_OK);
    assert_int_equal(claimed, 1);
    assert_string_equal(payops_quote_verdict_name(again.quote), "quote_used");
    assert_int_equal(balance(f, ALI), 70000);

    /* Expired: refused, nothing moves. */
    assert_int_equal(payops_pay_quote_hold(&f->ctx, ALI, "@sara", 1000, NOW, &h, &lv), SB_OK);
    assert_int_equal(payops_pay_confirm_quote(&f->ctx, ALI, h.id, "q3", NOW + SB_PAYOPS_QUOTE_TTL_MS, &r), SB_ETIMEOUT);
    assert_string_equal(payops_quote_verdict_name(r.quote), "quote_expired");
    assert_int_equal(balance(f, ALI), 70000);

    /* Changed: Sara's number now belongs to Reza.  The quote showed Sara,
     * so it is refused rather than paying Reza; a fresh quote shows Reza. */
    assert_int_equal(payops_pay_quote_hold(&f->ctx, ALI, "09351234567", 1000, NOW, &h, &lv), SB_OK);
    assert_int_equal(store_exec(f->s, "UPDATE users SET phone = '+989350000000' WHERE id = ?", "i", (int64_t)SARA),
                     SB_OK);
    assert_int_equal(store_exec(f->s, "UPDATE users SET phone = '+989351234567' WHERE id = ?", "i", (int64_t)REZA),
                     SB_OK);
    assert_int_equal(payops_pay_confirm_quote(&f->ctx, ALI, h.id, "q4", NOW + 1000, &r), SB_ECONFLICT);
    assert_string_equal(payops_quote_verdict_name(r.quote), "quote_changed");
    assert_int_equal(balance(f, ALI), 70000);
    assert_int_equal(balance(f, REZA), 0);
    /* (The older confirm by alias re-resolves and would pay Reza.) */
    assert_int_equal(payops_pay_quote_hold(&f->ctx, ALI, "09351234567", 1000, NOW, &h, &lv), SB_OK);
    assert_string_not_equal(h.quote.payee.display_name, "Sara Ahmadi");
    /* Changed: the fee is no longer the one shown. */
    f->policy.fee[PAYMENTS_OP_TRANSFER].fixed_minor = 7;
    assert_int_equal(payops_pay_confirm_quote(&f->ctx, ALI, h.id, "q5", NOW + 1000, &r), SB_ECONFLICT);
    assert_string_equal(payops_quote_verdict_name(r.quote), "quote_changed");
    f->policy.fee[PAYMENTS_OP_TRANSFER].fixed_minor = 0;

    /* A key already used for another payment: an idempotency conflict. */
    assert_int_equal(payops_pay_confirm_quote(&f->ctx, ALI, h.id, "q1", NOW + 1000, &r), SB_ECONFLICT);
    assert_string_equal(payops_quote_verdict_name(r.quote), "ok");
    assert_int_equal(r.ledger_result, LEDGER_OK);

    /* The ledger refuses (too little money): the quote is free again. */
    assert_int_equal(payops_pay_quote_hold(&f->ctx, ALI, "@mina", 90000, NOW, &h, &lv), SB_OK);
    assert_int_equal(payops_pay_confirm_quote(&f->ctx, ALI, h.id, "q6", NOW + 1000, &r), SB_ECONFLICT);
    assert_string_equal(ledger_result_name(r.ledger_result), "exceeds_credits");
    deposit(f, ALI, 20000, "dep-2");
    assert_int_equal(payops_pay_confirm_quote(&f->ctx, ALI, h.id, "q7", NOW + 2000, &r), SB_OK);
    assert_int_equal(balance(f, ALI), 0);
    assert_int_equal(balance(f, MINA), 90000);
    verify_ok(f);
}

/* A payer holds at most SB_PAYOPS_QUOTES_PER_PAYER_MAX quotes; those long
 * expired are dropped, so the cap frees itself. */
static void test_held_quote_cap(void **state) {
    pfix *f = *state;
    payops_held_quote h;
    payments_limit_verdict lv;
    for (int i = 0; i < SB_PAYOPS_QUOTES_PER_PAYER_MAX; i++)
        assert_int_equal(payops_pay_quote_hold(&f->ctx, ALI, "@sara", 100, NOW, &h, &lv), SB_OK);
    assert_int_equal(payops_pay_quote_hold(&f->ctx, ALI, "@sara", 100, NOW, &h, &lv), SB_ELIMIT);
    assert_int_equal(lv, PAYMENTS_LIMIT_OK);
    assert_int_equal(payops_pay_quote_hold(&f->ctx, SARA, "@ali", 100, NOW, &h, &lv), SB_OK); /* per payer */
    /* An expired quote is still told apart from an unknown one for a while. */
    int64_t later = NOW + SB_PAYOPS_QUOTE_TTL_MS + 1;
    payops_receipt r;
    assert_int_equal(payops_pay_confirm_quote(&f->ctx, ALI, h.id, "x", later, &r), SB_ENOTFOUND); /* Sara's */
    int64_t gone = NOW + SB_PAYOPS_QUOTE_TTL_MS + SB_PAYOPS_QUOTE_KEEP_EXPIRED_MS;
    assert_int_equal(payops_pay_quote_hold(&f->ctx, ALI, "@sara", 100, gone, &h, &lv), SB_OK);
    int64_t held = 0;
    assert_int_equal(
        store_query_int64(f->s, &held, "SELECT count(*) FROM payments_quotes WHERE payer_id = ?", "i", (int64_t)ALI),
        SB_OK);
    assert_int_equal(held, 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_resolve, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolve_follows_contact_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pay_by_alias, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insufficient_funds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fees_and_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_links, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bill_and_topup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_between_ledger_and_receipt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_clients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_held_quote, setup, teardown),
        cmocka_unit_test_setup_teardown(test_held_quote_cap, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
