/*
 * test_ledger.c - the ledger's rules one by one: every rejection code and
 * its precedence, ids as hex, idempotent retries and same-id-other-fields,
 * currencies, overflow, account flags, two-phase transfers (post in full and
 * for less, void, expiry by the writer's clock), linked chains, limits of a
 * submission, and `verify` catching a row tampered with through SQL.
 * Expected values are worked out by hand in the comments.
 */
#include <pthread.h>

#include "ledger/ledger_int.h"
#include "ledger_fixture.h"

enum { BANK = 1, ALICE = 2, BOB = 3, EURO = 4, CAROL = 5 };

static int setup(void **state) {
    fixture *f = fixture_new();
    create_account_ok(f, BANK, "IRR", 0);
    create_account_ok(f, ALICE, "IRR", LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    create_account_ok(f, BOB, "IRR", LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    create_account_ok(f, EURO, "EUR", 0);
    create_account_ok(f, CAROL, "IRR", LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture_free(*state);
    return 0;
}

static void test_id_hex(void **state) {
    (void)state;
    ledger_id id;
    char hex[LEDGER_ID_HEX_BYTES];
    assert_int_equal(ledger_id_parse("ff", 2, &id), SB_OK);
    assert_true(id.hi == 0 && id.lo == 255);
    assert_int_equal(ledger_id_parse("0123456789abcdefFEDCBA9876543210", 32, &id), SB_OK);
    assert_true(id.hi == 0x0123456789abcdefULL && id.lo == 0xfedcba9876543210ULL);
    ledger_id_format(id, hex);
    assert_string_equal(hex, "0123456789abcdeffedcba9876543210");
    assert_int_equal(ledger_id_parse("", 0, &id), SB_EINVAL);
    assert_int_equal(ledger_id_parse("0123456789abcdef0123456789abcdef0", 33, &id), SB_EINVAL);
    assert_int_equal(ledger_id_parse("12g4", 4, &id), SB_EINVAL);
    assert_int_equal(ledger_id_parse("-1", 2, &id), SB_EINVAL);
    ledger_account_kind k;
    assert_int_equal(ledger_account_kind_parse("external_biller", &k), SB_OK);
    assert_int_equal(k, LEDGER_KIND_EXTERNAL_BILLER);
    assert_int_equal(ledger_account_kind_parse("wallet", &k), SB_EINVAL);
    assert_string_equal(ledger_result_name(LEDGER_EXCEEDS_DEBITS), "exceeds_debits");
    assert_string_equal(ledger_result_name(LEDGER_RESULT_COUNT), "unknown");
    /* Every code has its own name (the names are the wire format). */
    for (int i = 0; i < LEDGER_RESULT_COUNT; i++) {
        assert_string_not_equal(ledger_result_name(i), "unknown");
        for (int j = 0; j < i; j++)
            assert_string_not_equal(ledger_result_name(i), ledger_result_name(j));
    }
    for (int i = 0; i < LEDGER_ACCOUNT_RESULT_COUNT; i++)
        assert_string_not_equal(ledger_account_result_name(i), "unknown");
}

static void test_account_rules(void **state) {
    fixture *f = *state;
    ledger_account a[9];
    ledger_account_result r[9];
    a[0] = make_account(0, "IRR", 0);                                                 /* id zero */
    a[1] = make_account(10, "IRR", 0), a[1].id = (ledger_id){UINT64_MAX, UINT64_MAX}; /* int max */
    a[2] = make_account(11, "IRR", 4);                                                /* reserved flag */
    a[3] = make_account(12, "IRR", 3);                                                /* both flags */
    a[4] = make_account(13, "irr", 0);                                                /* lowercase currency */
    a[5] = make_account(14, "IRR", 0), a[5].kind = 99;                                /* kind */
    a[6] = make_account(15, "IRR", 0), a[6].code = 0;                                 /* code */
    a[7] = make_account(ALICE, "IRR", LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS); /* exact retry */
    a[8] = make_account(BOB, "USD", LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);   /* other currency */
    assert_int_equal(ledger_create_accounts(f->l, a, 9, r), SB_OK);
    const char *want[9] = {"id_must_not_be_zero",
                           "id_must_not_be_int_max",
                           "reserved_flag",
                           "flags_are_mutually_exclusive",
                           "currency_invalid",
                           "kind_invalid",
                           "code_must_not_be_zero",
                           "exists",
                           "exists_with_different_currency"};
    for (int i = 0; i < 9; i++)
        assert_string_equal(ledger_account_result_name(r[i]), want[i]);
    /* Precedence: zero id beats a bad currency. */
    a[0] = make_account(0, "??", 7);
    assert_int_equal(ledger_create_accounts(f->l, a, 1, r), SB_OK);
    assert_string_equal(ledger_account_result_name(r[0]), "id_must_not_be_zero");
    assert_int_equal(ledger_create_accounts(f->l, a, 0, r), SB_EINVAL);
}

/* Each row breaks one rule; together they walk the precedence list. */
static void test_every_validation_code(void **state) {
    fixture *f = *state;
    ledger_transfer t;
    t = xfer(0, BANK, ALICE, 1);
    assert_result(submit1(f, t), LEDGER_ID_MUST_NOT_BE_ZERO);
    t = xfer(1, BANK, ALICE, 1), t.id = (ledger_id){UINT64_MAX, UINT64_MAX};
    assert_result(submit1(f, t), LEDGER_ID_MUST_NOT_BE_INT_MAX);
    t = xfer(1, BANK, ALICE, 1), t.flags = 1u << 7;
    assert_result(submit1(f, t), LEDGER_RESERVED_FLAG);
    t = xfer(1, BANK, ALICE, 1), t.flags = LEDGER_TRANSFER_PENDING | LEDGER_TRANSFER_VOID_PENDING;
    assert_result(submit1(f, t), LEDGER_FLAGS_ARE_MUTUALLY_EXCLUSIVE);
    t = xfer(1, 0, ALICE, 1);
    assert_result(submit1(f, t), LEDGER_DEBIT_ACCOUNT_ID_MUST_NOT_BE_ZERO);
    t = xfer(1, BANK, ALICE, 1), t.debit_account_id = (ledger_id){UINT64_MAX, UINT64_MAX};
    assert_result(submit1(f, t), LEDGER_DEBIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX);
    t = xfer(1, BANK, 0, 1);
    assert_result(submit1(f, t), LEDGER_CREDIT_ACCOUNT_ID_MUST_NOT_BE_ZERO);
    t = xfer(1, BANK, ALICE, 1), t.credit_account_id = (ledger_id){UINT64_MAX, UINT64_MAX};
    assert_result(submit1(f, t), LEDGER_CREDIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX);
    t = xfer(1, ALICE, ALICE, 1);
    assert_result(submit1(f, t), LEDGER_ACCOUNTS_MUST_BE_DIFFERENT);
    t = xfer(1, BANK, ALICE, 1), t.pending_id = ledger_id_from_u64(5);
    assert_result(submit1(f, t), LEDGER_PENDING_ID_MUST_BE_ZERO);
    t = xfer(1, 0, 0, 0), t.flags = LEDGER_TRANSFER_POST_PENDING;
    assert_result(submit1(f, t), LEDGER_PENDING_ID_MUST_NOT_BE_ZERO);
    t.pending_id = (ledger_id){UINT64_MAX, UINT64_MAX};
    assert_result(submit1(f, t), LEDGER_PENDING_ID_MUST_NOT_BE_INT_MAX);
    t.pending_id = t.id;
    assert_result(submit1(f, t), LEDGER_PENDING_ID_MUST_BE_DIFFERENT);
    t = xfer(1, BANK, ALICE, 1), t.timeout_ms = 10;
    assert_result(submit1(f, t), LEDGER_TIMEOUT_RESERVED_FOR_PENDING_TRANSFER);
    t.flags = LEDGER_TRANSFER_PENDING, t.timeout_ms = -1;
    assert_result(submit1(f, t), LEDGER_TIMEOUT_OUT_OF_RANGE);
    t.timeout_ms = SB_LEDGER_TIMEOUT_MS_MAX + 1;
    assert_result(submit1(f, t), LEDGER_TIMEOUT_OUT_OF_RANGE);
    t = xfer(1, BANK, ALICE, 0);
    assert_result(submit1(f, t), LEDGER_AMOUNT_MUST_BE_POSITIVE);
    t = xfer(1, BANK, ALICE, -5);
    assert_result(submit1(f, t), LEDGER_AMOUNT_MUST_BE_POSITIVE);
    t = xfer(1, BANK, ALICE, 5), t.code = 0;
    assert_result(submit1(f, t), LEDGER_CODE_MUST_NOT_BE_ZERO);
    t = xfer(1, 77, ALICE, 5);
    assert_result(submit1(f, t), LEDGER_DEBIT_ACCOUNT_NOT_FOUND);
    t = xfer(1, BANK, 77, 5);
    assert_result(submit1(f, t), LEDGER_CREDIT_ACCOUNT_NOT_FOUND);
    t = xfer(1, BANK, EURO, 5);
    assert_result(submit1(f, t), LEDGER_ACCOUNTS_MUST_HAVE_THE_SAME_CURRENCY);
    t = xfer(1, 0, 0, 0), t.flags = LEDGER_TRANSFER_VOID_PENDING, t.pending_id = ledger_id_from_u64(999);
    assert_result(submit1(f, t), LEDGER_PENDING_TRANSFER_NOT_FOUND);
    /* ALICE has nothing: exceeds_credits; CAROL may not be credited beyond her debits. */
    t = xfer(1, ALICE, BOB, 5);
    assert_result(submit1(f, t), LEDGER_EXCEEDS_CREDITS);
    t = xfer(1, BANK, CAROL, 5);
    assert_result(submit1(f, t), LEDGER_EXCEEDS_DEBITS);
    /* Nothing above moved money. */
    ledger_account a = get_account(f, BANK);
    assert_int_equal(a.debits_posted + a.credits_posted + a.debits_pending + a.credits_pending, 0);
    assert_verify_ok(f);
}

/* When a transfer breaks several rules the first in the list wins. */
static void test_precedence_pairs(void **state) {
    fixture *f = *state;
    ledger_transfer t = xfer(0, 0, 0, -1); /* zero id, zero accounts, bad amount */
    t.code = 0;
    assert_result(submit1(f, t), LEDGER_ID_MUST_NOT_BE_ZERO);
    t.id = ledger_id_from_u64(40);
    assert_result(submit1(f, t), LEDGER_DEBIT_ACCOUNT_ID_MUST_NOT_BE_ZERO);
    t.debit_account_id = ledger_id_from_u64(ALICE);
    t.credit_account_id = ledger_id_from_u64(ALICE);
    assert_result(submit1(f, t), LEDGER_ACCOUNTS_MUST_BE_DIFFERENT);
    t.credit_account_id = ledger_id_from_u64(88); /* unknown */
    assert_result(submit1(f, t), LEDGER_AMOUNT_MUST_BE_POSITIVE);
    t.amount_minor = 3;
    assert_result(submit1(f, t), LEDGER_CODE_MUST_NOT_BE_ZERO);
    t.code = 9;
    t.debit_account_id = ledger_id_from_u64(87); /* both unknown: debit first */
    assert_result(submit1(f, t), LEDGER_DEBIT_ACCOUNT_NOT_FOUND);
    t.debit_account_id = ledger_id_from_u64(EURO);
    t.credit_account_id = ledger_id_from_u64(ALICE); /* currency beats the flags check */
    assert_result(submit1(f, t), LEDGER_ACCOUNTS_MUST_HAVE_THE_SAME_CURRENCY);
    /* exceeds_credits (debit side) is reported before exceeds_debits (credit side). */
    t = xfer(41, ALICE, CAROL, 5);
    assert_result(submit1(f, t), LEDGER_EXCEEDS_CREDITS);
}

static void test_idempotent_retry_and_different_fields(void **state) {
    fixture *f = *state;
    ledger_transfer t = xfer(100, BANK, ALICE, 1000);
    t.user_data = ledger_id_from_u64(0xabc);
    assert_result(submit1(f, t), LEDGER_OK);
    ledger_transfer again = t;
    ledger_result r;
    assert_int_equal(ledger_submit_transfers(f->l, &again, 1, &r), SB_OK);
    assert_result(r, LEDGER_EXISTS);
    ledger_transfer stored;
    assert_int_equal(ledger_lookup_transfer(f->reader, t.id, &stored, NULL), SB_OK);
    assert_int_equal(again.timestamp_ns, stored.timestamp_ns); /* the first answer's timestamp */
    assert_int_equal(get_account(f, ALICE).credits_posted, 1000);
    /* Now ALICE spends it all: a retry of the funding must still be exists,
     * never exceeds_credits. */
    assert_result(submit1(f, xfer(101, ALICE, BOB, 1000)), LEDGER_OK);
    assert_result(submit1(f, t), LEDGER_EXISTS);
    ledger_transfer d;
    d = t, d.flags = LEDGER_TRANSFER_PENDING;
    assert_result(submit1(f, d), LEDGER_EXISTS_WITH_DIFFERENT_FLAGS);
    d = t, d.debit_account_id = ledger_id_from_u64(BOB);
    assert_result(submit1(f, d), LEDGER_EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID);
    d = t, d.credit_account_id = ledger_id_from_u64(BOB);
    assert_result(submit1(f, d), LEDGER_EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID);
    d = t, d.amount_minor = 999;
    assert_result(submit1(f, d), LEDGER_EXISTS_WITH_DIFFERENT_AMOUNT);
    d = t, d.code = 2;
    assert_result(submit1(f, d), LEDGER_EXISTS_WITH_DIFFERENT_CODE);
    d = t, d.user_data = ledger_id_from_u64(1);
    assert_result(submit1(f, d), LEDGER_EXISTS_WITH_DIFFERENT_USER_DATA);
    /* A huge amount on a retry: overflow would apply, exists comes first. */
    d = t, d.amount_minor = INT64_MAX;
    assert_result(submit1(f, d), LEDGER_EXISTS_WITH_DIFFERENT_AMOUNT);
    assert_int_equal(get_account(f, ALICE).credits_posted, 1000);
    assert_int_equal(get_account(f, BOB).credits_posted, 1000);
    /* The same id twice inside one submission: the second is exists. */
    ledger_transfer two[2] = {xfer(102, BANK, BOB, 7), xfer(102, BANK, BOB, 7)};
    ledger_result rr[2];
    assert_int_equal(ledger_submit_transfers(f->l, two, 2, rr), SB_OK);
    assert_result(rr[0], LEDGER_OK);
    assert_result(rr[1], LEDGER_EXISTS);
    assert_int_equal(get_account(f, BOB).credits_posted, 1007);
    assert_verify_ok(f);
}

static void test_overflow(void **state) {
    fixture *f = *state;
    /* BANK credits ALICE INT64_MAX: fine.  One more minor unit overflows
     * ALICE's credits_posted (and BANK's debits_posted, but the debit side
     * is checked first: overflows_debits_posted applies to BANK? BANK has
     * INT64_MAX debits_posted too, so debits first). */
    assert_result(submit1(f, xfer(200, BANK, ALICE, INT64_MAX)), LEDGER_OK);
    assert_result(submit1(f, xfer(201, BANK, ALICE, 1)), LEDGER_OVERFLOWS_DEBITS_POSTED);
    /* From BOB's side: a new settlement account credits ALICE -> credits overflow. */
    create_account_ok(f, 20, "IRR", 0);
    assert_result(submit1(f, xfer(202, 20, ALICE, 1)), LEDGER_OVERFLOWS_CREDITS_POSTED);
    /* Pending: ALICE may spend INT64_MAX as pending; then posted+pending overflows. */
    ledger_transfer p = xfer(203, ALICE, BOB, INT64_MAX);
    p.flags = LEDGER_TRANSFER_PENDING;
    assert_result(submit1(f, p), LEDGER_OK);
    ledger_transfer p2 = xfer(204, ALICE, BOB, 1);
    p2.flags = LEDGER_TRANSFER_PENDING;
    assert_result(submit1(f, p2), LEDGER_OVERFLOWS_DEBITS_PENDING);
    /* Pending timeout that would pass INT64_MAX ns: the clock is near the end. */
    create_account_ok(f, 21, "IRR", 0);
    create_account_ok(f, 22, "IRR", 0);
    f->now_ns = INT64_MAX - 1000;
    ledger_transfer q = xfer(205, 21, 22, 5);
    q.flags = LEDGER_TRANSFER_PENDING;
    q.timeout_ms = 1;
    assert_result(submit1(f, q), LEDGER_OVERFLOWS_TIMEOUT);
    assert_verify_ok(f);
}

static void test_flags_and_currency(void **state) {
    fixture *f = *state;
    assert_result(submit1(f, xfer(300, BANK, ALICE, 500)), LEDGER_OK);
    assert_result(submit1(f, xfer(301, ALICE, BOB, 501)), LEDGER_EXCEEDS_CREDITS);
    assert_result(submit1(f, xfer(302, ALICE, BOB, 500)), LEDGER_OK);
    assert_result(submit1(f, xfer(303, ALICE, BOB, 1)), LEDGER_EXCEEDS_CREDITS);
    /* CAROL: credits must not exceed debits. */
    create_account_ok(f, 30, "IRR", 0);
    assert_result(submit1(f, xfer(304, CAROL, 30, 50)), LEDGER_OK);
    assert_result(submit1(f, xfer(305, BANK, CAROL, 51)), LEDGER_EXCEEDS_DEBITS);
    assert_result(submit1(f, xfer(306, BANK, CAROL, 50)), LEDGER_OK);
    assert_result(submit1(f, xfer(307, EURO, BANK, 1)), LEDGER_ACCOUNTS_MUST_HAVE_THE_SAME_CURRENCY);
    ledger_account a = get_account(f, ALICE), b = get_account(f, BOB);
    assert_int_equal(a.debits_posted, 500);
    assert_int_equal(a.credits_posted, 500);
    assert_int_equal(b.credits_posted, 500);
    assert_verify_ok(f);
}

static ledger_transfer pending(uint64_t id, uint64_t debit, uint64_t credit, int64_t amount, int64_t timeout_ms) {
    ledger_transfer t = xfer(id, debit, credit, amount);
    t.flags = LEDGER_TRANSFER_PENDING;
    t.timeout_ms = timeout_ms;
    return t;
}

static ledger_transfer resolve(uint64_t id, uint64_t pending_id, int64_t amount, bool post) {
    ledger_transfer t = xfer(id, 0, 0, amount);
    t.flags = post ? LEDGER_TRANSFER_POST_PENDING : LEDGER_TRANSFER_VOID_PENDING;
    t.pending_id = ledger_id_from_u64(pending_id);
    return t;
}

static void test_two_phase(void **state) {
    fixture *f = *state;
    assert_result(submit1(f, xfer(400, BANK, ALICE, 1000)), LEDGER_OK);
    /* Reserve 600: ALICE can spend only 400 more meanwhile. */
    assert_result(submit1(f, pending(401, ALICE, BOB, 600, 0)), LEDGER_OK);
    ledger_account a = get_account(f, ALICE);
    assert_int_equal(a.debits_pending, 600);
    assert_int_equal(a.debits_posted, 0);
    assert_result(submit1(f, xfer(402, ALICE, BOB, 401)), LEDGER_EXCEEDS_CREDITS);
    /* Post for less (450): 150 released. */
    assert_result(submit1(f, resolve(403, 401, 601, true)), LEDGER_EXCEEDS_PENDING_TRANSFER_AMOUNT);
    ledger_transfer wrong = resolve(403, 401, 450, true);
    wrong.debit_account_id = ledger_id_from_u64(BANK);
    assert_result(submit1(f, wrong), LEDGER_PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID);
    wrong = resolve(403, 401, 450, true), wrong.credit_account_id = ledger_id_from_u64(BANK);
    assert_result(submit1(f, wrong), LEDGER_PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID);
    ledger_transfer post = resolve(403, 401, 450, true);
    post.debit_account_id = ledger_id_from_u64(ALICE); /* equal to the pending's: allowed */
    assert_result(submit1(f, post), LEDGER_OK);
    a = get_account(f, ALICE);
    ledger_account b = get_account(f, BOB);
    assert_int_equal(a.debits_pending, 0);
    assert_int_equal(a.debits_posted, 450);
    assert_int_equal(b.credits_pending, 0);
    assert_int_equal(b.credits_posted, 450);
    ledger_transfer_state st;
    ledger_transfer got;
    assert_int_equal(ledger_lookup_transfer(f->reader, ledger_id_from_u64(401), &got, &st), SB_OK);
    assert_int_equal(st, LEDGER_STATE_POSTED);
    /* Retrying the post is exists; another post/void of it is refused. */
    assert_result(submit1(f, post), LEDGER_EXISTS);
    assert_result(submit1(f, resolve(404, 401, 0, true)), LEDGER_PENDING_TRANSFER_ALREADY_POSTED);
    assert_result(submit1(f, resolve(404, 401, 0, false)), LEDGER_PENDING_TRANSFER_ALREADY_POSTED);
    /* A post of a transfer that is not pending. */
    assert_result(submit1(f, resolve(405, 400, 0, true)), LEDGER_PENDING_TRANSFER_NOT_PENDING);
    /* Full post with amount 0, then void. */
    assert_result(submit1(f, pending(406, ALICE, BOB, 100, 0)), LEDGER_OK);
    assert_result(submit1(f, resolve(407, 406, 0, true)), LEDGER_OK);
    assert_int_equal(get_account(f, ALICE).debits_posted, 550);
    assert_result(submit1(f, pending(408, ALICE, BOB, 200, 0)), LEDGER_OK);
    assert_result(submit1(f, resolve(409, 408, 199, false)), LEDGER_PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT);
    assert_result(submit1(f, resolve(409, 408, 200, false)), LEDGER_OK);
    assert_result(submit1(f, resolve(410, 408, 0, true)), LEDGER_PENDING_TRANSFER_ALREADY_VOIDED);
    a = get_account(f, ALICE);
    assert_int_equal(a.debits_pending, 0);
    assert_int_equal(a.debits_posted, 550);
    assert_verify_ok(f);
}

static void test_expiry(void **state) {
    fixture *f = *state;
    assert_result(submit1(f, xfer(500, BANK, ALICE, 1000)), LEDGER_OK);
    assert_result(submit1(f, pending(501, ALICE, BOB, 700, 5000)), LEDGER_OK);
    f->now_ns += 4999LL * 1000000; /* not yet */
    assert_result(submit1(f, xfer(502, ALICE, BOB, 301)), LEDGER_EXCEEDS_CREDITS);
    assert_int_equal(get_account(f, ALICE).debits_pending, 700);
    f->now_ns += 2LL * 1000000; /* past the timeout: the next batch expires it */
    assert_result(submit1(f, xfer(503, ALICE, BOB, 301)), LEDGER_OK);
    ledger_account a = get_account(f, ALICE);
    assert_int_equal(a.debits_pending, 0);
    assert_int_equal(a.debits_posted, 301);
    ledger_transfer got;
    ledger_transfer_state st;
    assert_int_equal(ledger_lookup_transfer(f->reader, ledger_id_from_u64(501), &got, &st), SB_OK);
    assert_int_equal(st, LEDGER_STATE_EXPIRED);
    assert_result(submit1(f, resolve(504, 501, 0, true)), LEDGER_PENDING_TRANSFER_EXPIRED);
    assert_result(submit1(f, resolve(504, 501, 0, false)), LEDGER_PENDING_TRANSFER_EXPIRED);
    /* Expiry survives a restart: the new writer finds the due transfer. */
    assert_result(submit1(f, pending(505, ALICE, BOB, 10, 1000)), LEDGER_OK);
    ledger_close(f->l);
    f->now_ns += 2000LL * 1000000;
    fixture_open_ledger(f);
    assert_result(submit1(f, xfer(506, BANK, BOB, 1)), LEDGER_OK);
    assert_int_equal(get_account(f, ALICE).debits_pending, 0);
    ledger_stats s;
    ledger_get_stats(f->l, &s);
    assert_int_equal(s.expired, 1);
    assert_verify_ok(f);
}

static void test_linked_chains(void **state) {
    fixture *f = *state;
    assert_result(submit1(f, xfer(600, BANK, ALICE, 100)), LEDGER_OK);
    /* Chain: ALICE pays BOB 80 and a fee of 30 to BANK: 110 > 100, all fail. */
    ledger_transfer chain[3] = {xfer(601, ALICE, BOB, 80), xfer(602, ALICE, BANK, 30), xfer(603, BANK, BOB, 1)};
    chain[0].flags = chain[1].flags = LEDGER_TRANSFER_LINKED; /* 601+602+603 are one chain */
    ledger_result r[3];
    assert_int_equal(ledger_submit_transfers(f->l, chain, 3, r), SB_OK);
    assert_result(r[0], LEDGER_LINKED_EVENT_FAILED);
    assert_result(r[1], LEDGER_EXCEEDS_CREDITS);
    assert_result(r[2], LEDGER_LINKED_EVENT_FAILED);
    assert_int_equal(get_account(f, ALICE).debits_posted, 0);
    assert_int_equal(get_account(f, BOB).credits_posted, 0);
    ledger_transfer got;
    assert_int_equal(ledger_lookup_transfer(f->reader, ledger_id_from_u64(601), &got, NULL), SB_ENOTFOUND);
    /* Fee of 20 instead: all succeed (603, without LINKED, closes the chain). */
    chain[1].amount_minor = 20;
    assert_int_equal(ledger_submit_transfers(f->l, chain, 3, r), SB_OK);
    assert_result(r[0], LEDGER_OK);
    assert_result(r[1], LEDGER_OK);
    assert_result(r[2], LEDGER_OK);
    assert_int_equal(get_account(f, ALICE).debits_posted, 100);
    /* Retrying the whole submission: exists each, nothing moves. */
    assert_int_equal(ledger_submit_transfers(f->l, chain, 3, r), SB_OK);
    for (int i = 0; i < 3; i++)
        assert_result(r[i], LEDGER_EXISTS);
    assert_int_equal(get_account(f, BOB).credits_posted, 81);
    /* An open chain at the end of a submission fails as a whole. */
    ledger_transfer open[2] = {xfer(610, BANK, BOB, 1), xfer(611, BANK, BOB, 1)};
    open[0].flags = open[1].flags = LEDGER_TRANSFER_LINKED;
    assert_int_equal(ledger_submit_transfers(f->l, open, 2, r), SB_OK);
    assert_result(r[0], LEDGER_LINKED_EVENT_FAILED);
    assert_result(r[1], LEDGER_LINKED_EVENT_CHAIN_OPEN);
    /* A chain may post a pending transfer it created; failure undoes both. */
    ledger_transfer pp[3] = {pending(620, BANK, BOB, 50, 0), resolve(621, 620, 50, true), xfer(622, ALICE, BOB, 1)};
    pp[0].flags |= LEDGER_TRANSFER_LINKED;
    pp[1].flags |= LEDGER_TRANSFER_LINKED;
    assert_int_equal(ledger_submit_transfers(f->l, pp, 3, r), SB_OK);
    assert_result(r[0], LEDGER_LINKED_EVENT_FAILED);
    assert_result(r[1], LEDGER_LINKED_EVENT_FAILED);
    assert_result(r[2], LEDGER_EXCEEDS_CREDITS);
    ledger_account b = get_account(f, BOB);
    assert_int_equal(b.credits_pending, 0);
    assert_int_equal(b.credits_posted, 81);
    pp[2] = xfer(622, BANK, BOB, 1);
    assert_int_equal(ledger_submit_transfers(f->l, pp, 3, r), SB_OK);
    for (int i = 0; i < 3; i++)
        assert_result(r[i], LEDGER_OK);
    b = get_account(f, BOB);
    assert_int_equal(b.credits_posted, 132);
    assert_verify_ok(f);
}

static void test_submission_limits(void **state) {
    fixture *f = *state;
    ledger_transfer t = xfer(700, BANK, ALICE, 1);
    ledger_result r;
    assert_int_equal(ledger_submit_transfers(f->l, &t, 0, &r), SB_EINVAL);
    assert_int_equal(ledger_submit_transfers(f->l, &t, SB_LEDGER_SUBMIT_MAX + 1, &r), SB_ELIMIT);
    /* A full-size submission is fine. */
    ledger_transfer *many = calloc(SB_LEDGER_SUBMIT_MAX, sizeof *many);
    ledger_result *rs = calloc(SB_LEDGER_SUBMIT_MAX, sizeof *rs);
    for (int i = 0; i < SB_LEDGER_SUBMIT_MAX; i++)
        many[i] = xfer(10000 + (uint64_t)i, BANK, ALICE, 2);
    assert_int_equal(ledger_submit_transfers(f->l, many, SB_LEDGER_SUBMIT_MAX, rs), SB_OK);
    for (int i = 0; i < SB_LEDGER_SUBMIT_MAX; i++)
        assert_int_equal(rs[i], LEDGER_OK);
    assert_int_equal(get_account(f, ALICE).credits_posted, 2 * SB_LEDGER_SUBMIT_MAX);
    free(many);
    free(rs);
    assert_verify_ok(f);
}

static void test_verify_catches_tampering(void **state) {
    fixture *f = *state;
    assert_result(submit1(f, xfer(800, BANK, ALICE, 100)), LEDGER_OK);
    assert_result(submit1(f, xfer(801, ALICE, BOB, 40)), LEDGER_OK);
    assert_verify_ok(f);
    ledger_close(f->l);
    f->l = NULL;
    /* Someone edits BOB's balance behind the ledger's back. */
    uint8_t key[16] = {0};
    key[15] = BOB;
    assert_int_equal(store_exec(f->reader, "UPDATE ledger_accounts SET credits_posted = 41 WHERE id = ?", "b", key, 16),
                     SB_OK);
    ledger_verify_report rep;
    assert_int_equal(ledger_verify(f->reader, &rep), SB_ECORRUPT);
    assert_false(rep.ok);
    assert_true(rep.has_broken_account);
    assert_true(ledger_id_equal(rep.broken_account, ledger_id_from_u64(BOB)));
    assert_non_null(strstr(rep.problem, "00000000000000000000000000000003"));
    assert_non_null(strstr(rep.problem, "credits_posted is 41 but the journal gives 40"));
    /* Balances that agree with a tampered journal still fail on the totals. */
    assert_int_equal(store_exec(f->reader, "UPDATE ledger_accounts SET credits_posted = 40 WHERE id = ?", "b", key, 16),
                     SB_OK);
    assert_int_equal(store_exec(f->reader, "UPDATE ledger_transfers SET amount = 50 WHERE amount = 40", NULL), SB_OK);
    assert_int_equal(ledger_verify(f->reader, &rep), SB_ECORRUPT);
    assert_true(rep.has_broken_account);
    fixture_open_ledger(f);
}

/* The two-phase rules of verify: a post whose pending transfer is marked
 * voided, and a pending transfer marked posted with no post at all. */
static void test_verify_catches_two_phase_tampering(void **state) {
    fixture *f = *state;
    assert_result(submit1(f, xfer(900, BANK, ALICE, 1000)), LEDGER_OK);
    assert_result(submit1(f, pending(901, ALICE, BOB, 600, 0)), LEDGER_OK);
    assert_result(submit1(f, resolve(902, 901, 600, true)), LEDGER_OK);
    assert_result(submit1(f, pending(903, ALICE, BOB, 100, 0)), LEDGER_OK);
    assert_verify_ok(f);
    ledger_close(f->l);
    f->l = NULL;
    uint8_t key[16] = {0};
    key[14] = 901 >> 8;
    key[15] = 901 & 0xff;
    assert_int_equal(store_exec(f->reader, "UPDATE ledger_transfers SET state = 3 WHERE id = ?", "b", key, 16), SB_OK);
    ledger_verify_report rep;
    assert_int_equal(ledger_verify(f->reader, &rep), SB_ECORRUPT);
    assert_false(rep.ok);
    assert_non_null(strstr(rep.problem, "post/void transfer at "));
    assert_non_null(strstr(rep.problem, " does not match its pending transfer"));
    assert_int_equal(store_exec(f->reader, "UPDATE ledger_transfers SET state = 2 WHERE id = ?", "b", key, 16), SB_OK);
    key[15] = 903 & 0xff;
    assert_int_equal(store_exec(f->reader, "UPDATE ledger_transfers SET state = 2 WHERE id = ?", "b", key, 16), SB_OK);
    /* ... with balances that agree, so that only the two-phase rule sees it. */
    uint8_t account[16] = {0};
    account[15] = ALICE;
    assert_int_equal(
        store_exec(f->reader, "UPDATE ledger_accounts SET debits_pending = 0 WHERE id = ?", "b", account, 16), SB_OK);
    account[15] = BOB;
    assert_int_equal(
        store_exec(f->reader, "UPDATE ledger_accounts SET credits_pending = 0 WHERE id = ?", "b", account, 16), SB_OK);
    assert_int_equal(ledger_verify(f->reader, &rep), SB_ECORRUPT);
    assert_non_null(strstr(rep.problem, "resolved pending transfer at "));
    assert_non_null(strstr(rep.problem, " has no single post or void"));
    fixture_open_ledger(f);
}

/* ---- queue full: the writer is held inside its clock while the queue fills ---- */

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool hold;
    bool holding;
    int64_t now;
} held_clock;

static int64_t held_clock_ns(void *arg) {
    held_clock *c = arg;
    pthread_mutex_lock(&c->mu);
    while (c->hold) {
        c->holding = true;
        pthread_cond_broadcast(&c->cv);
        pthread_cond_wait(&c->cv, &c->mu);
    }
    c->holding = false;
    int64_t now = c->now;
    pthread_mutex_unlock(&c->mu);
    return now;
}

typedef struct {
    ledger *l;
    ledger_transfer t[10];
    ledger_result r[10];
    int n;
    int rc;
} submitter;

static void *submit_thread(void *p) {
    submitter *s = p;
    s->rc = ledger_submit_transfers(s->l, s->t, (size_t)s->n, s->r);
    return NULL;
}

static void test_queue_full_is_busy(void **state) {
    fixture *f = *state;
    ledger_close(f->l);
    held_clock c = {.now = f->now_ns};
    pthread_mutex_init(&c.mu, NULL);
    pthread_cond_init(&c.cv, NULL);
    ledger_options o = {.location = f->dir, .clock_ns = held_clock_ns, .clock_arg = &c, .queue_transfers_max = 10};
    assert_int_equal(ledger_open(&o, &f->l), SB_OK);
    ledger_transfer big[11];
    ledger_result r[11];
    for (int i = 0; i < 11; i++)
        big[i] = xfer(900 + (uint64_t)i, BANK, ALICE, 1);
    assert_int_equal(ledger_submit_transfers(f->l, big, 11, r), SB_ELIMIT); /* can never fit */
    /* Hold the writer, give it one submission (it takes it and stops in the
     * clock), then fill the queue with ten more. */
    pthread_mutex_lock(&c.mu);
    c.hold = true;
    pthread_mutex_unlock(&c.mu);
    submitter a = {.l = f->l, .n = 1}, b = {.l = f->l, .n = 10};
    a.t[0] = xfer(910, BANK, ALICE, 1);
    for (int i = 0; i < 10; i++)
        b.t[i] = xfer(920 + (uint64_t)i, BANK, ALICE, 1);
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, submit_thread, &a), 0);
    pthread_mutex_lock(&c.mu);
    while (!c.holding)
        pthread_cond_wait(&c.cv, &c.mu);
    pthread_mutex_unlock(&c.mu);
    assert_int_equal(pthread_create(&tb, NULL, submit_thread, &b), 0);
    ledger_stats st;
    do {
        ledger_get_stats(f->l, &st);
    } while (st.queued != 10);
    ledger_transfer one = xfer(930, BANK, ALICE, 1);
    ledger_result r1;
    assert_int_equal(ledger_submit_transfers(f->l, &one, 1, &r1), SB_EBUSY);
    pthread_mutex_lock(&c.mu);
    c.hold = false;
    pthread_cond_broadcast(&c.cv);
    pthread_mutex_unlock(&c.mu);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.rc, SB_OK);
    assert_int_equal(b.rc, SB_OK);
    assert_result(a.r[0], LEDGER_OK);
    for (int i = 0; i < 10; i++)
        assert_result(b.r[i], LEDGER_OK);
    /* Room again: the refused one goes through now. */
    assert_int_equal(ledger_submit_transfers(f->l, &one, 1, &r1), SB_OK);
    assert_result(r1, LEDGER_OK);
    assert_int_equal(get_account(f, ALICE).credits_posted, 12);
    ledger_close(f->l);
    f->l = NULL;
    pthread_mutex_destroy(&c.mu);
    pthread_cond_destroy(&c.cv);
    fixture_open_ledger(f);
    assert_verify_ok(f);
}

/* ---- out of memory inside the writer: the batch is rolled back whole ---- */

static void test_allocation_failures_roll_back(void **state) {
    fixture *f = *state;
    int saw_nomem = 0;
    for (long n = 0; n < 40; n++) {
        /* A fresh writer each time, so its cache is cold and it must allocate. */
        ledger_close(f->l);
        fixture_open_ledger(f);
        ledger_transfer t[3] = {xfer(1000 + (uint64_t)n * 4, BANK, ALICE, 5),
                                xfer(1001 + (uint64_t)n * 4, ALICE, BOB, 2),
                                xfer(1002 + (uint64_t)n * 4, BANK, CAROL, 1)};
        t[0].flags = LEDGER_TRANSFER_LINKED;
        ledger_result r[3];
        sb_alloc_fail_after(n);
        int rc = ledger_submit_transfers(f->l, t, 3, r);
        sb_alloc_fail_reset();
        if (rc == SB_ENOMEM) {
            saw_nomem++;
            /* Nothing of it was committed. */
            ledger_transfer got;
            assert_int_equal(ledger_lookup_transfer(f->reader, t[0].id, &got, NULL), SB_ENOTFOUND);
        } else {
            assert_int_equal(rc, SB_OK);
        }
        /* The retry with the same ids lands exactly once. */
        assert_int_equal(ledger_submit_transfers(f->l, t, 3, r), SB_OK);
        assert_true(r[0] == LEDGER_OK || r[0] == LEDGER_EXISTS);
        assert_true(r[1] == LEDGER_OK || r[1] == LEDGER_EXISTS);
        assert_result(r[2], LEDGER_EXCEEDS_DEBITS);
        assert_verify_ok(f);
    }
    assert_true(saw_nomem > 0);
    ledger_account a = get_account(f, ALICE);
    assert_int_equal(a.credits_posted, 40 * 5);
    assert_int_equal(a.debits_posted, 40 * 2);
}

/* Two writers on one database (the server and an operator's command): each
 * notices the other's commits and never writes stale balances. */
static void test_two_writers_share_a_database(void **state) {
    fixture *f = *state;
    ledger *second;
    ledger_options o = {.location = f->dir};
    assert_int_equal(ledger_open(&o, &second), SB_OK);
    assert_result(submit1(f, xfer(1100, BANK, ALICE, 100)), LEDGER_OK);
    ledger_transfer t = xfer(1101, ALICE, BOB, 60);
    ledger_result r;
    assert_int_equal(ledger_submit_transfers(second, &t, 1, &r), SB_OK);
    assert_result(r, LEDGER_OK);
    /* The first writer's cache still says ALICE has 100: it must not. */
    assert_result(submit1(f, xfer(1102, ALICE, BOB, 50)), LEDGER_EXCEEDS_CREDITS);
    assert_result(submit1(f, xfer(1103, ALICE, BOB, 40)), LEDGER_OK);
    t = xfer(1104, ALICE, BOB, 1);
    assert_int_equal(ledger_submit_transfers(second, &t, 1, &r), SB_OK);
    assert_result(r, LEDGER_EXCEEDS_CREDITS);
    ledger_close(second);
    ledger_account a = get_account(f, ALICE);
    assert_int_equal(a.debits_posted, 100);
    assert_int_equal(a.credits_posted, 100);
    assert_verify_ok(f);
}

/* The codes the other tests do not reach, each worked out by hand. */
static void test_remaining_codes(void **state) {
    fixture *f = *state;
    for (uint64_t id = 40; id <= 44; id++)
        create_account_ok(f, id, "IRR", 0);
    /* 40 has debits_posted = MAX-10 and 41 credits_posted = MAX-10. */
    assert_result(submit1(f, xfer(1200, 40, 41, INT64_MAX - 10)), LEDGER_OK);
    /* Pending 20 from 40: its pending alone fits, pending + posted does not. */
    assert_result(submit1(f, pending(1201, 40, 42, 20, 0)), LEDGER_OVERFLOWS_DEBITS);
    /* Pending 20 to 41: same on the credit side. */
    assert_result(submit1(f, pending(1202, 43, 41, 20, 0)), LEDGER_OVERFLOWS_CREDITS);
    /* 43 gets MAX pending credits; one more pending unit overflows them. */
    assert_result(submit1(f, pending(1203, 42, 43, INT64_MAX, 0)), LEDGER_OK);
    assert_result(submit1(f, pending(1204, 44, 43, 1, 0)), LEDGER_OVERFLOWS_CREDITS_PENDING);
    /* exists_with_different_timeout. */
    assert_result(submit1(f, xfer(1205, BANK, ALICE, 1000)), LEDGER_OK);
    assert_result(submit1(f, pending(1206, ALICE, BOB, 10, 1000)), LEDGER_OK);
    assert_result(submit1(f, pending(1206, ALICE, BOB, 10, 2000)), LEDGER_EXISTS_WITH_DIFFERENT_TIMEOUT);
    assert_result(submit1(f, pending(1206, ALICE, BOB, 10, 1000)), LEDGER_EXISTS);
    /* exists_with_different_pending_id: 1208 posted 1206; the same id now
     * names another pending transfer between the same accounts. */
    assert_result(submit1(f, pending(1207, ALICE, BOB, 10, 0)), LEDGER_OK);
    assert_result(submit1(f, resolve(1208, 1206, 0, true)), LEDGER_OK);
    assert_result(submit1(f, resolve(1208, 1207, 0, true)), LEDGER_EXISTS_WITH_DIFFERENT_PENDING_ID);
    assert_result(submit1(f, resolve(1208, 1206, 0, true)), LEDGER_EXISTS);
    ledger_account a = get_account(f, ALICE);
    assert_int_equal(a.debits_pending, 10); /* 1207 still reserved */
    assert_int_equal(a.debits_posted, 10);
    assert_verify_ok(f);
}

/* ---- money invariants, checked in every build before COMMIT ---- */

/* Submitting t fails with SB_ECORRUPT and nothing of it is recorded. */
static void assert_refused_uncommitted(fixture *f, ledger_transfer t) {
    ledger_result r = 99;
    assert_int_equal(ledger_submit_transfers(f->l, &t, 1, &r), SB_ECORRUPT);
    ledger_transfer got;
    assert_int_equal(ledger_lookup_transfer(f->reader, t.id, &got, NULL), SB_ENOTFOUND);
}

/* A stray change to one balance (the test hook stands in for a bad write to
 * memory) leaves debits unequal to credits: the writer refuses to commit,
 * nothing of the batch is in the database, and it refuses every later batch. */
static void test_invariant_debits_equal_credits_halts_writer(void **state) {
    fixture *f = *state;
    assert_result(submit1(f, xfer(1300, BANK, ALICE, 100)), LEDGER_OK);
    assert_int_equal(ledger_test_corrupt_balance(f->l, ledger_id_from_u64(ALICE), 0, 1), SB_OK);
    assert_refused_uncommitted(f, xfer(1301, BANK, ALICE, 5));
    ledger_account a = get_account(f, ALICE);
    assert_int_equal(a.credits_posted, 100);
    /* Halted: a correct transfer is refused too, and nothing is written. */
    assert_refused_uncommitted(f, xfer(1302, BANK, BOB, 7));
    ledger_account_result ar;
    ledger_account na = make_account(60, "IRR", 0);
    assert_int_equal(ledger_create_accounts(f->l, &na, 1, &ar), SB_ECORRUPT);
    ledger_stats st;
    ledger_get_stats(f->l, &st);
    assert_true(st.halted);
    assert_int_equal(st.batches_failed, 1);
    assert_verify_ok(f);
    /* A new writer (the restart after an operator's check) works again. */
    ledger_close(f->l);
    fixture_open_ledger(f);
    assert_result(submit1(f, xfer(1303, BANK, ALICE, 5)), LEDGER_OK);
    assert_int_equal(get_account(f, ALICE).credits_posted, 105);
    assert_verify_ok(f);
}

/* Sums equal but a balance breaks its account's flag: refused too. */
static void test_invariant_account_flags_halts_writer(void **state) {
    fixture *f = *state;
    assert_result(submit1(f, xfer(1310, BANK, ALICE, 10)), LEDGER_OK);
    /* ALICE (debits must not exceed credits) gets 50 more debits, BOB 50
     * more credits: debits still equal credits, ALICE's flag is broken. */
    assert_int_equal(ledger_test_corrupt_balance(f->l, ledger_id_from_u64(ALICE), 50, 0), SB_OK);
    assert_int_equal(ledger_test_corrupt_balance(f->l, ledger_id_from_u64(BOB), 0, 50), SB_OK);
    assert_refused_uncommitted(f, xfer(1311, ALICE, BOB, 1));
    assert_int_equal(get_account(f, ALICE).debits_posted, 0);
    assert_int_equal(get_account(f, BOB).credits_posted, 0);
    assert_refused_uncommitted(f, xfer(1311, ALICE, BOB, 1)); /* halted: the retry too */
    assert_verify_ok(f);
}

/* The counters /metrics shows: results, batch sizes, commit latency. */
static void test_stats_count_results_and_batches(void **state) {
    fixture *f = *state;
    ledger_stats before;
    ledger_get_stats(f->l, &before);
    ledger_transfer t[3] = {xfer(1320, BANK, ALICE, 10), xfer(1321, ALICE, BOB, 500), xfer(1322, BANK, BOB, 1)};
    ledger_result r[3];
    assert_int_equal(ledger_submit_transfers(f->l, t, 3, r), SB_OK);
    ledger_stats st;
    ledger_get_stats(f->l, &st);
    assert_int_equal(st.results[LEDGER_OK] - before.results[LEDGER_OK], 2);
    assert_int_equal(st.results[LEDGER_EXCEEDS_CREDITS] - before.results[LEDGER_EXCEEDS_CREDITS], 1);
    assert_int_equal(st.batches - before.batches, 1);
    assert_int_equal(st.batch_size_sum - before.batch_size_sum, 3);
    /* 3 items fall in the bucket bounded by 4 (the second). */
    assert_int_equal(st.batch_size_buckets[1] - before.batch_size_buckets[1], 1);
    int64_t latencies = 0;
    for (int b = 0; b < LEDGER_COMMIT_LATENCY_BUCKETS; b++)
        latencies += st.commit_latency_buckets[b];
    assert_int_equal(latencies, st.batches);
    assert_false(st.halted);
}

/* verify in chunks of accounts (bounded memory): every chunk size gives the
 * same report as one chunk, and a broken account in a later chunk is found. */
static void test_verify_in_chunks(void **state) {
    fixture *f = *state;
    assert_result(submit1(f, xfer(1400, BANK, ALICE, 100)), LEDGER_OK);
    assert_result(submit1(f, xfer(1401, ALICE, BOB, 40)), LEDGER_OK);
    assert_result(submit1(f, pending(1402, BOB, BANK, 5, 0)), LEDGER_OK);
    assert_result(submit1(f, xfer(1403, CAROL, BANK, 7)), LEDGER_OK);
    assert_result(submit1(f, xfer(1404, BANK, CAROL, 3)), LEDGER_OK);
    ledger_verify_report whole, part;
    assert_int_equal(ledger_verify(f->reader, &whole), SB_OK);
    for (size_t chunk = 1; chunk <= 6; chunk++) {
        assert_int_equal(ledger__verify_chunked(f->reader, &part, chunk), SB_OK);
        assert_true(part.ok);
        assert_int_equal(part.accounts, whole.accounts);
        assert_int_equal(part.transfers, whole.transfers);
        assert_int_equal(part.currency_count, whole.currency_count);
        for (int c = 0; c < whole.currency_count; c++) {
            assert_string_equal(part.currencies[c].currency, whole.currencies[c].currency);
            assert_int_equal(part.currencies[c].debits_posted, whole.currencies[c].debits_posted);
            assert_int_equal(part.currencies[c].credits_pending, whole.currencies[c].credits_pending);
        }
    }
    assert_int_equal(whole.accounts, 5);
    assert_int_equal(whole.transfers, 5);
    /* CAROL (the fifth account: the third chunk of two) gets a credit too many. */
    ledger_close(f->l);
    f->l = NULL;
    uint8_t key[16] = {0};
    key[15] = CAROL;
    assert_int_equal(store_exec(f->reader, "UPDATE ledger_accounts SET credits_posted = 4 WHERE id = ?", "b", key, 16),
                     SB_OK);
    assert_int_equal(ledger__verify_chunked(f->reader, &part, 2), SB_ECORRUPT);
    assert_true(part.has_broken_account);
    assert_true(ledger_id_equal(part.broken_account, ledger_id_from_u64(CAROL)));
    assert_non_null(strstr(part.problem, "credits_posted is 4 but the journal gives 3"));
    /* A transfer naming an account that does not exist is found without the accounts in memory. */
    assert_int_equal(store_exec(f->reader, "UPDATE ledger_accounts SET credits_posted = 3 WHERE id = ?", "b", key, 16),
                     SB_OK);
    assert_int_equal(store_exec(f->reader, "PRAGMA foreign_keys = OFF", NULL), SB_OK);
    assert_int_equal(store_exec(f->reader, "UPDATE ledger_transfers SET credit_account = 999 WHERE amount = 40", NULL),
                     SB_OK);
    assert_int_equal(ledger__verify_chunked(f->reader, &part, 2), SB_ECORRUPT);
    assert_non_null(strstr(part.problem, "refers to a missing account"));
    assert_int_equal(store_exec(f->reader, "PRAGMA foreign_keys = ON", NULL), SB_OK);
    fixture_open_ledger(f);
}

/* The writer reads written rows back before COMMIT: a row that does not hold
 * what was written (here a trigger changes it) stops the writer too. */
static void test_read_back_mismatch_halts_writer(void **state) {
    fixture *f = *state;
    assert_result(submit1(f, xfer(1500, BANK, ALICE, 10)), LEDGER_OK);
    assert_int_equal(store_exec(f->reader,
                                "CREATE TRIGGER test_skew AFTER UPDATE OF credits_posted ON ledger_accounts "
                                "BEGIN UPDATE ledger_accounts SET credits_pending = credits_pending + 1 "
                                "WHERE num = NEW.num; END",
                                NULL),
                     SB_OK);
    assert_refused_uncommitted(f, xfer(1501, BANK, ALICE, 5));
    assert_int_equal(get_account(f, ALICE).credits_posted, 10);
    assert_int_equal(get_account(f, ALICE).credits_pending, 0);
    assert_int_equal(store_exec(f->reader, "DROP TRIGGER test_skew", NULL), SB_OK);
    assert_verify_ok(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_hex),
        cmocka_unit_test_setup_teardown(test_account_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_validation_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_precedence_pairs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotent_retry_and_different_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overflow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flags_and_currency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_phase, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_linked_chains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_submission_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_catches_tampering, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_catches_two_phase_tampering, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_full_is_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_writers_share_a_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remaining_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allocation_failures_roll_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invariant_debits_equal_credits_halts_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invariant_account_flags_halts_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats_count_results_and_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_in_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_back_mismatch_halts_writer, setup, teardown),
    };
    return cmocka_run_group_tests_name("ledger", tests, NULL, NULL);
}
