/*
 * test_payments_request.c - the rules of money requests: each transition,
 * who may make it, expiry, idempotent retries, final states, and the
 * precedence order of the verdicts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "payments/payments.h"

#define ALICE 11 /* requester */
#define BOB 22   /* payer */
#define CAROL 33 /* someone else */
#define T0 1000000
#define EXPIRES (T0 + 3600000)

static payments_request fresh(int64_t payer) {
    payments_request r;
    assert_int_equal(payments_request_init(&r, ALICE, payer, 50000, T0, EXPIRES), SB_OK);
    return r;
}

static void test_init(void **state) {
    (void)state;
    payments_request r;
    assert_int_equal(payments_request_init(&r, ALICE, BOB, 50000, T0, EXPIRES), SB_OK);
    assert_int_equal(r.state, PAYMENTS_REQUEST_PENDING);
    assert_int_equal(payments_request_init(&r, 0, BOB, 50000, T0, EXPIRES), SB_EINVAL);
    assert_int_equal(payments_request_init(&r, ALICE, ALICE, 50000, T0, EXPIRES), SB_EINVAL); /* to oneself */
    assert_int_equal(payments_request_init(&r, ALICE, -1, 50000, T0, EXPIRES), SB_EINVAL);
    assert_int_equal(payments_request_init(&r, ALICE, BOB, 0, T0, EXPIRES), SB_EINVAL);
    assert_int_equal(payments_request_init(&r, ALICE, BOB, 50000, T0, T0), SB_EINVAL); /* already expired */
    assert_int_equal(payments_request_init(NULL, ALICE, BOB, 50000, T0, EXPIRES), SB_EINVAL);
}

static void test_pay(void **state) {
    (void)state;
    payments_request r = fresh(BOB);
    assert_int_equal(payments_request_apply(&r, PAYMENTS_REQUEST_PAY, CAROL, 50000, T0 + 1),
                     PAYMENTS_REQUEST_NOT_THE_PAYER);
    assert_int_equal(payments_request_apply(&r, PAYMENTS_REQUEST_PAY, ALICE, 50000, T0 + 1),
                     PAYMENTS_REQUEST_NOT_THE_PAYER); /* the requester cannot pay herself */
    assert_int_equal(payments_request_apply(&r, PAYMENTS_REQUEST_PAY, BOB, 49999, T0 + 1),
                     PAYMENTS_REQUEST_AMOUNT_MISMATCH);
    assert_int_equal(r.state, PAYMENTS_REQUEST_PENDING); /* unchanged by rejections */
    assert_int_equal(payments_request_apply(&r, PAYMENTS_REQUEST_PAY, BOB, 50000, T0 + 5), PAYMENTS_REQUEST_OK);
    assert_int_equal(r.state, PAYMENTS_REQUEST_PAID);
    assert_int_equal(r.settled_by_id, BOB);
    assert_int_equal(r.settled_at_ms, T0 + 5);
    /* a retry is EXISTS and changes nothing; other actions see "already paid" */
    assert_int_equal(payments_request_apply(&r, PAYMENTS_REQUEST_PAY, BOB, 50000, T0 + 9), PAYMENTS_REQUEST_EXISTS);
    assert_int_equal(r.settled_at_ms, T0 + 5);
    assert_int_equal(payments_request_apply(&r, PAYMENTS_REQUEST_DECLINE, BOB, 0, T0 + 9),
                     PAYMENTS_REQUEST_ALREADY_PAID);
    assert_int_equal(payments_request_apply(&r, PAYMENTS_REQUEST_CANCEL, ALICE, 0, T0 + 9),
                     PAYMENTS_REQUEST_ALREADY_PAID);
    assert_int_equal(payments_request_apply(&r, PAYMENTS_REQUEST_EXPIRE, 0, 0, EXPIRES + 1),
                     PAYMENTS_REQUEST_ALREADY_PAID);
}

static void test_open_request_link(void **state) {
    (void)state;
    /* payer 0: anyone but the requester may pay (a payment link); the
     * first payer wins, a second is told it is already paid */
    payments_request r = fresh(0);
    assert_int_equal(payments_request_apply(&r, PAYMENTS_REQUEST_PAY, ALICE, 50000, T0 + 1),
                     PAYMENTS_REQUEST_NOT_THE_PAYER);
    assert_int_equal(payments_request_apply(&r, PAYMENTS_REQUEST_PAY, CAROL, 50000, T0 + 1), PAYMENTS_REQUEST_OK);
    assert_int_equal(payments_request_apply(&r, PAYMENTS_REQUEST_PAY, BOB, 50000, T0 + 2),
                     PAYMENTS_REQUEST_ALREADY_PAID);
    assert_int_equal(payments_request_apply(&r, PAYMENTS_REQUEST_PAY, CAROL, 50000, T0 + 2), PAYMENTS_REQUEST_EXISTS);
}

static void test_decline_cancel_expire(void **state) {
    (void)state;
    payments_request r = fresh(BOB);
    assert_int_equal(payments_request_apply(&r, PAYMENTS_REQUEST_DECLINE, CAROL, 0, T0 + 1),
                     PAYMENTS_REQUEST_NOT_THE_PAYER);
    assert_int_equal(payments_request_apply(&r, PAYMENTS_REQUEST_DECLINE, BOB, 0, T0 + 1), PAYMENTS_REQUEST_OK);
    assert_int_equal(r.state, PAYMENTS_REQUEST_DECLINED);
    assert_int_equal(payments_request_apply(&r, PAYMENTS_REQUEST_DECLINE, BOB, 0, T0 + 2), PAYMENTS_REQUEST_EXISTS);
    assert_int_equal(payments_request_apply(&r, PAYMENTS_REQUEST_PAY, BOB, 50000, T0 + 2),
                     PAYMENTS_REQUEST_ALREADY_DECLINED);

    r = fresh(BOB);
    assert_int_equal(payments_request_apply(&r, PAYMENTS_REQUEST_CANCEL, BOB, 0, T0 + 1),
                     PAYMENTS_REQUEST_NOT_THE_REQUESTER);
    assert_int_equal(payments_request_apply(&r, PAYMENTS_REQUEST_CANCEL, ALICE, 0, T0 + 1), PAYMENTS_REQUEST_OK);
    assert_int_equal(payments_request_apply(&r, PAYMENTS_REQUEST_PAY, BOB, 50000, T0 + 2),
                     PAYMENTS_REQUEST_ALREADY_CANCELLED);

    r = fresh(BOB);
    assert_int_equal(payments_request_apply(&r, PAYMENTS_REQUEST_EXPIRE, 0, 0, EXPIRES - 1),
                     PAYMENTS_REQUEST_NOT_YET_EXPIRED);
    /* at the expiry instant paying is refused, and the clock may expire it */
    assert_int_equal(payments_request_apply(&r, PAYMENTS_REQUEST_PAY, BOB, 50000, EXPIRES),
                     PAYMENTS_REQUEST_EXPIRED_NOW);
    assert_int_equal(payments_request_apply(&r, PAYMENTS_REQUEST_DECLINE, BOB, 0, EXPIRES),
                     PAYMENTS_REQUEST_EXPIRED_NOW);
    assert_int_equal(payments_request_apply(&r, PAYMENTS_REQUEST_EXPIRE, 0, 0, EXPIRES), PAYMENTS_REQUEST_OK);
    assert_int_equal(r.state, PAYMENTS_REQUEST_EXPIRED);
    assert_int_equal(r.settled_by_id, 0);
    assert_int_equal(payments_request_apply(&r, PAYMENTS_REQUEST_EXPIRE, 0, 0, EXPIRES + 5), PAYMENTS_REQUEST_EXISTS);
    assert_int_equal(payments_request_apply(&r, PAYMENTS_REQUEST_PAY, BOB, 50000, EXPIRES + 5),
                     PAYMENTS_REQUEST_ALREADY_EXPIRED);
}

static void test_precedence(void **state) {
    (void)state;
    payments_request r = fresh(BOB);
    /* zero actor before anything else */
    assert_int_equal(payments_request_apply(&r, PAYMENTS_REQUEST_PAY, 0, 1, EXPIRES + 1),
                     PAYMENTS_REQUEST_ACTOR_MUST_NOT_BE_ZERO);
    /* the wrong payer is told so before the amount or the expiry */
    assert_int_equal(payments_request_apply(&r, PAYMENTS_REQUEST_PAY, CAROL, 1, EXPIRES + 1),
                     PAYMENTS_REQUEST_NOT_THE_PAYER);
    /* the amount before the expiry */
    assert_int_equal(payments_request_apply(&r, PAYMENTS_REQUEST_PAY, BOB, 1, EXPIRES + 1),
                     PAYMENTS_REQUEST_AMOUNT_MISMATCH);
    assert_int_equal(payments_request_apply(&r, (payments_request_action)9, BOB, 1, T0),
                     PAYMENTS_REQUEST_ACTION_INVALID);
    assert_int_equal(payments_request_apply(NULL, PAYMENTS_REQUEST_PAY, BOB, 1, T0), PAYMENTS_REQUEST_ACTION_INVALID);
    assert_string_equal(payments_request_verdict_name(PAYMENTS_REQUEST_EXPIRED_NOW), "expired");
    assert_string_equal(payments_request_verdict_name(PAYMENTS_REQUEST_VERDICT_COUNT), "unknown");
    assert_string_equal(payments_request_state_name(PAYMENTS_REQUEST_CANCELLED), "cancelled");
    for (int v = 0; v < PAYMENTS_REQUEST_VERDICT_COUNT; v++)
        assert_string_not_equal(payments_request_verdict_name((payments_request_verdict)v), "unknown");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_pay),
        cmocka_unit_test(test_open_request_link),
        cmocka_unit_test(test_decline_cancel_expire),
        cmocka_unit_test(test_precedence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
