/*
 * test_payments_switch.c - the card-switch adapter's reconciliation rules
 * and the simulator: approve, decline, time out (lost, applied, late), the
 * inquiry/reversal paths, idempotent retries, a silent switch, and a seeded
 * random sweep checking that money moved at the switch exactly when the
 * hold would be posted (never doubled, never lost), and that the cards'
 * total never changes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "payments/switch.h"

#define PAYER "6037701689095443" /* Keshavarzi (persian-tools vector) */
#define PAYEE "6219861034529007" /* Saman (persian-tools vector) */

typedef struct {
    payments_switch_sim *sim;
    payments_switch sw;
    payments_card payer, payee;
} fixture;

static int setup(void **state) {
    fixture *f = sb_calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(payments_switch_sim_create(&f->sim), SB_OK);
    f->sw = payments_switch_sim_adapter(f->sim);
    payments_reason reason;
    assert_int_equal(payments_card_parse(PAYER, &f->payer, &reason), SB_OK);
    assert_int_equal(payments_card_parse(PAYEE, &f->payee, &reason), SB_OK);
    assert_int_equal(payments_switch_sim_add_card(f->sim, PAYER, "Ali Rezaei", 1000000), SB_OK);
    assert_int_equal(payments_switch_sim_add_card(f->sim, PAYEE, "Sara Ahmadi", 0), SB_OK);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    payments_card_wipe(&f->payer);
    payments_card_wipe(&f->payee);
    payments_switch_sim_free(f->sim);
    sb_free(f);
    return 0;
}

static payments_switch_transfer request(fixture *f, const char *reference, int64_t amount) {
    payments_switch_transfer t;
    memset(&t, 0, sizeof t);
    snprintf(t.reference, sizeof t.reference, "%s", reference);
    t.source = &f->payer;
    t.destination = &f->payee;
    t.amount_minor = amount;
    t.timeout_ms = 1000;
    return t;
}

static int64_t balance(fixture *f, const char *number) {
    int64_t b;
    assert_int_equal(payments_switch_sim_balance(f->sim, number, &b), SB_OK);
    return b;
}

static payments_c2c_step run(fixture *f, const char *reference, int64_t amount, payments_switch_result *result) {
    payments_switch_transfer t = request(f, reference, amount);
    payments_c2c_step final;
    assert_int_equal(payments_c2c_run(&f->sw, &t, &final, result), SB_OK);
    return final;
}

/* ---- the rules, step by step ---- */

static void test_rules_table(void **state) {
    (void)state;
    const struct {
        payments_c2c_step from;
        payments_switch_status status;
        payments_c2c_step to;
    } rules[] = {
        {PAYMENTS_C2C_SEND, PAYMENTS_SWITCH_APPROVED, PAYMENTS_C2C_POST},
        {PAYMENTS_C2C_SEND, PAYMENTS_SWITCH_DECLINED, PAYMENTS_C2C_VOID},
        {PAYMENTS_C2C_SEND, PAYMENTS_SWITCH_TIMEOUT, PAYMENTS_C2C_INQUIRE},
        {PAYMENTS_C2C_SEND, PAYMENTS_SWITCH_REVERSED, PAYMENTS_C2C_INQUIRE},
        {PAYMENTS_C2C_SEND, PAYMENTS_SWITCH_NOT_FOUND, PAYMENTS_C2C_INQUIRE},
        {PAYMENTS_C2C_INQUIRE, PAYMENTS_SWITCH_APPROVED, PAYMENTS_C2C_POST},
        {PAYMENTS_C2C_INQUIRE, PAYMENTS_SWITCH_DECLINED, PAYMENTS_C2C_VOID},
        {PAYMENTS_C2C_INQUIRE, PAYMENTS_SWITCH_REVERSED, PAYMENTS_C2C_VOID},
        {PAYMENTS_C2C_INQUIRE, PAYMENTS_SWITCH_NOT_FOUND, PAYMENTS_C2C_REVERSE},
        {PAYMENTS_C2C_INQUIRE, PAYMENTS_SWITCH_TIMEOUT, PAYMENTS_C2C_INQUIRE},
        {PAYMENTS_C2C_REVERSE, PAYMENTS_SWITCH_REVERSED, PAYMENTS_C2C_VOID},
        {PAYMENTS_C2C_REVERSE, PAYMENTS_SWITCH_NOT_FOUND, PAYMENTS_C2C_VOID},
        {PAYMENTS_C2C_REVERSE, PAYMENTS_SWITCH_APPROVED, PAYMENTS_C2C_POST},
        {PAYMENTS_C2C_REVERSE, PAYMENTS_SWITCH_DECLINED, PAYMENTS_C2C_MANUAL},
        {PAYMENTS_C2C_REVERSE, PAYMENTS_SWITCH_TIMEOUT, PAYMENTS_C2C_REVERSE},
        {PAYMENTS_C2C_POST, PAYMENTS_SWITCH_DECLINED, PAYMENTS_C2C_POST},
        {PAYMENTS_C2C_VOID, PAYMENTS_SWITCH_APPROVED, PAYMENTS_C2C_VOID},
        {PAYMENTS_C2C_MANUAL, PAYMENTS_SWITCH_APPROVED, PAYMENTS_C2C_MANUAL},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(rules); i++) {
        payments_c2c_state s;
        payments_c2c_init(&s);
        s.step = rules[i].from;
        payments_c2c_step got = payments_c2c_next(&s, rules[i].status);
        if (got != rules[i].to)
            print_error("rule %zu: %s + %s -> %s, expected %s\n", i, payments_c2c_step_name(rules[i].from),
                        payments_switch_status_name(rules[i].status), payments_c2c_step_name(got),
                        payments_c2c_step_name(rules[i].to));
        assert_int_equal(got, rules[i].to);
    }
}

static void test_rules_bounded(void **state) {
    (void)state;
    /* a switch that never answers: send, the inquiries, the reversals, then manual */
    payments_c2c_state s;
    payments_c2c_init(&s);
    int calls = 0;
    while (!payments_c2c_is_final(s.step)) {
        payments_c2c_next(&s, PAYMENTS_SWITCH_TIMEOUT);
        calls++;
        assert_true(calls <= 1 + SB_PAYMENTS_SWITCH_INQUIRIES_MAX + SB_PAYMENTS_SWITCH_REVERSALS_MAX);
    }
    assert_int_equal(s.step, PAYMENTS_C2C_MANUAL);
    assert_int_equal(calls, 1 + SB_PAYMENTS_SWITCH_INQUIRIES_MAX + SB_PAYMENTS_SWITCH_REVERSALS_MAX);
    assert_int_equal(s.inquiries, SB_PAYMENTS_SWITCH_INQUIRIES_MAX);
    assert_int_equal(s.reversals, SB_PAYMENTS_SWITCH_REVERSALS_MAX);
}

/* ---- against the simulator ---- */

static void test_approve_and_idempotent_retry(void **state) {
    fixture *f = *state;
    payments_switch_result r;
    assert_int_equal(run(f, "a1", 250000, &r), PAYMENTS_C2C_POST);
    assert_int_equal(r.status, PAYMENTS_SWITCH_APPROVED);
    assert_string_equal(r.response_code, "00");
    assert_int_equal(strlen(r.rrn), 12);
    assert_int_equal(balance(f, PAYER), 750000);
    assert_int_equal(balance(f, PAYEE), 250000);
    /* the client retries the same reference: same answer, no second move */
    char rrn[PAYMENTS_SWITCH_RRN_BYTES];
    memcpy(rrn, r.rrn, sizeof rrn);
    assert_int_equal(run(f, "a1", 250000, &r), PAYMENTS_C2C_POST);
    assert_string_equal(r.rrn, rrn);
    assert_int_equal(payments_switch_sim_applied_count(f->sim, "a1"), 1);
    assert_int_equal(balance(f, PAYER), 750000);
}

static void test_declines(void **state) {
    fixture *f = *state;
    payments_switch_result r;
    /* truthful decline: insufficient funds */
    assert_int_equal(run(f, "b1", 1000001, &r), PAYMENTS_C2C_VOID);
    assert_string_equal(r.response_code, "51");
    /* scripted decline */
    assert_int_equal(payments_switch_sim_script(f->sim, PAYMENTS_SIM_DECLINE, "57"), SB_OK);
    assert_int_equal(run(f, "b2", 100, &r), PAYMENTS_C2C_VOID);
    assert_int_equal(r.status, PAYMENTS_SWITCH_DECLINED);
    assert_string_equal(r.response_code, "57");
    /* unknown destination card at the switch */
    payments_card other;
    payments_reason reason;
    assert_int_equal(payments_card_parse("6037990000000006", &other, &reason), SB_OK);
    payments_switch_transfer t = request(f, "b3", 100);
    t.destination = &other;
    payments_c2c_step final;
    assert_int_equal(payments_c2c_run(&f->sw, &t, &final, &r), SB_OK);
    assert_int_equal(final, PAYMENTS_C2C_VOID);
    assert_string_equal(r.response_code, "14");
    assert_int_equal(balance(f, PAYER), 1000000);
    assert_int_equal(balance(f, PAYEE), 0);
}

static void test_timeout_lost(void **state) {
    fixture *f = *state;
    payments_switch_result r;
    /* the request never reached the switch: inquiry says not found, the
     * reversal fences the reference, the hold is voided */
    assert_int_equal(payments_switch_sim_script(f->sim, PAYMENTS_SIM_TIMEOUT, NULL), SB_OK);
    assert_int_equal(run(f, "c1", 5000, &r), PAYMENTS_C2C_VOID);
    assert_int_equal(payments_switch_sim_applied_count(f->sim, "c1"), 0);
    payments_switch_sim_stats st = payments_switch_sim_get_stats(f->sim);
    assert_int_equal(st.transfers, 1);
    assert_int_equal(st.inquiries, 1);
    assert_int_equal(st.reversals, 1);
    /* a client retry of the same reference is refused now (fenced) */
    assert_int_equal(run(f, "c1", 5000, &r), PAYMENTS_C2C_VOID);
    assert_int_equal(payments_switch_sim_applied_count(f->sim, "c1"), 0);
    assert_int_equal(balance(f, PAYER), 1000000);
}

static void test_timeout_applied(void **state) {
    fixture *f = *state;
    payments_switch_result r;
    /* the switch moved the money but the answer was lost: the inquiry finds
     * it approved, the hold is posted, nothing is doubled */
    assert_int_equal(payments_switch_sim_script(f->sim, PAYMENTS_SIM_TIMEOUT_APPLIED, NULL), SB_OK);
    assert_int_equal(run(f, "d1", 7000, &r), PAYMENTS_C2C_POST);
    assert_int_equal(r.status, PAYMENTS_SWITCH_APPROVED);
    assert_int_equal(payments_switch_sim_applied_count(f->sim, "d1"), 1);
    assert_int_equal(balance(f, PAYEE), 7000);
    /* applied, then the inquiries time out too: reversed, hold voided, money back */
    assert_int_equal(payments_switch_sim_script(f->sim, PAYMENTS_SIM_TIMEOUT_APPLIED, NULL), SB_OK);
    for (int i = 0; i < SB_PAYMENTS_SWITCH_INQUIRIES_MAX; i++)
        assert_int_equal(payments_switch_sim_script(f->sim, PAYMENTS_SIM_TIMEOUT, NULL), SB_OK);
    assert_int_equal(run(f, "d2", 9000, &r), PAYMENTS_C2C_VOID);
    assert_int_equal(payments_switch_sim_applied_count(f->sim, "d2"), 0);
    assert_int_equal(balance(f, PAYEE), 7000);
    assert_int_equal(balance(f, PAYER), 1000000 - 7000);
}

static void test_timeout_late_is_fenced(void **state) {
    fixture *f = *state;
    payments_switch_result r;
    /* the message is delayed in the network: not found on inquiry, the
     * reversal fences it, and when it finally arrives it is refused */
    assert_int_equal(payments_switch_sim_script(f->sim, PAYMENTS_SIM_TIMEOUT_LATE, NULL), SB_OK);
    assert_int_equal(run(f, "e1", 3000, &r), PAYMENTS_C2C_VOID);
    assert_int_equal(payments_switch_sim_deliver_late(f->sim), 0);
    assert_int_equal(payments_switch_sim_applied_count(f->sim, "e1"), 0);
    assert_int_equal(balance(f, PAYEE), 0);
    /* without a reversal a late message would land: the simulator does
     * model it (a transfer left hanging would be money moved behind our back) */
    payments_switch_transfer t = request(f, "e2", 3000);
    assert_int_equal(payments_switch_sim_script(f->sim, PAYMENTS_SIM_TIMEOUT_LATE, NULL), SB_OK);
    assert_int_equal(f->sw.transfer(f->sw.ctx, &t, &r), SB_OK);
    assert_int_equal(r.status, PAYMENTS_SWITCH_TIMEOUT);
    assert_int_equal(payments_switch_sim_deliver_late(f->sim), 1);
    assert_int_equal(payments_switch_sim_applied_count(f->sim, "e2"), 1);
    /* and the inquiry then finds it, so the rules post it */
    payments_c2c_state s;
    payments_c2c_init(&s);
    payments_c2c_next(&s, PAYMENTS_SWITCH_TIMEOUT);
    assert_int_equal(f->sw.inquire(f->sw.ctx, "e2", 1000, &r), SB_OK);
    assert_int_equal(payments_c2c_next(&s, r.status), PAYMENTS_C2C_POST);
}

static void test_silent_switch_goes_manual(void **state) {
    fixture *f = *state;
    payments_switch_result r;
    /* applied, then nothing answers again: the hold must not be voided */
    assert_int_equal(payments_switch_sim_script(f->sim, PAYMENTS_SIM_TIMEOUT_APPLIED, NULL), SB_OK);
    for (int i = 0; i < SB_PAYMENTS_SWITCH_INQUIRIES_MAX + SB_PAYMENTS_SWITCH_REVERSALS_MAX; i++)
        assert_int_equal(payments_switch_sim_script(f->sim, PAYMENTS_SIM_TIMEOUT, NULL), SB_OK);
    assert_int_equal(run(f, "f1", 1000, &r), PAYMENTS_C2C_MANUAL);
    assert_int_equal(r.status, PAYMENTS_SWITCH_TIMEOUT);
    assert_int_equal(payments_switch_sim_applied_count(f->sim, "f1"), 1);
    payments_switch_sim_stats st = payments_switch_sim_get_stats(f->sim);
    assert_int_equal(st.inquiries, SB_PAYMENTS_SWITCH_INQUIRIES_MAX);
    assert_int_equal(st.reversals, SB_PAYMENTS_SWITCH_REVERSALS_MAX);
}

static void test_holder_inquiry_and_bad_input(void **state) {
    fixture *f = *state;
    char name[PAYMENTS_SWITCH_NAME_BYTES];
    assert_int_equal(f->sw.holder_inquiry(f->sw.ctx, &f->payee, 1000, name), SB_OK);
    assert_string_equal(name, "Sara Ahmadi");
    payments_card other;
    payments_reason reason;
    assert_int_equal(payments_card_parse("6037990000000006", &other, &reason), SB_OK);
    assert_int_equal(f->sw.holder_inquiry(f->sw.ctx, &other, 1000, name), SB_ENOTFOUND);
    payments_switch_result r;
    payments_c2c_step final;
    payments_switch_transfer t = request(f, "g1", 0);
    assert_int_equal(payments_c2c_run(&f->sw, &t, &final, &r), SB_EINVAL); /* amount 0 */
    t = request(f, "not hex!", 10);
    assert_int_equal(payments_c2c_run(&f->sw, &t, &final, &r), SB_EINVAL);
    t = request(f, "", 10);
    assert_int_equal(payments_c2c_run(&f->sw, &t, &final, &r), SB_EINVAL);
    t = request(f, "g2", 10);
    t.timeout_ms = 0;
    assert_int_equal(payments_c2c_run(&f->sw, &t, &final, &r), SB_EINVAL);
    assert_int_equal(payments_switch_sim_add_card(f->sim, PAYER, "dup", 0), SB_EEXISTS);
    assert_int_equal(payments_switch_sim_add_card(f->sim, "123", "short", 0), SB_EINVAL);
    assert_int_equal(payments_switch_sim_script(f->sim, (payments_sim_action)99, NULL), SB_EINVAL);
    for (int i = 0; i < SB_PAYMENTS_SWITCH_SIM_SCRIPT_MAX; i++)
        assert_int_equal(payments_switch_sim_script(f->sim, PAYMENTS_SIM_ANSWER, NULL), SB_OK);
    assert_int_equal(payments_switch_sim_script(f->sim, PAYMENTS_SIM_ANSWER, NULL), SB_ELIMIT);
    assert_int_equal(payments_switch_sim_get_stats(f->sim).transfers, 0); /* nothing reached the switch */
}

static void test_sim_allocation_failure(void **state) {
    (void)state;
    payments_switch_sim *sim = NULL;
    sb_alloc_fail_after(0);
    int rc = payments_switch_sim_create(&sim);
    sb_alloc_fail_reset();
    assert_int_equal(rc, SB_ENOMEM);
    assert_null(sim);
    assert_int_equal(payments_switch_sim_create(NULL), SB_EINVAL);
}

/* splitmix64 */
static uint64_t rng_state;
static uint64_t rng_next(void) {
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void test_random_sweep(void **state) {
    fixture *f = *state;
    rng_state = 77;
    const int64_t total_before = balance(f, PAYER) + balance(f, PAYEE);
    int posted = 0, voided = 0, manual = 0;
    for (int i = 0; i < 800; i++) {
        /* script a few random actions for this transfer's calls */
        int steps = (int)(rng_next() % 6);
        for (int k = 0; k < steps; k++) {
            payments_sim_action a = (payments_sim_action)(rng_next() % 5);
            assert_int_equal(payments_switch_sim_script(f->sim, a, "05"), SB_OK);
        }
        char reference[PAYMENTS_SWITCH_REF_BYTES];
        snprintf(reference, sizeof reference, "%x", 0x1000 + i);
        int64_t amount = (int64_t)(rng_next() % 3000) + 1;
        int64_t payer_before = balance(f, PAYER);
        payments_switch_result r;
        payments_c2c_step final = run(f, reference, amount, &r);
        /* leftover actions must not leak into the next transfer; late
         * messages arrive now (a voided transfer's must have been fenced) */
        payments_switch_sim_script_clear(f->sim);
        payments_switch_sim_deliver_late(f->sim);
        int applied = payments_switch_sim_applied_count(f->sim, reference);
        assert_true(applied == 0 || applied == 1); /* never doubled */
        if (final == PAYMENTS_C2C_POST) {
            assert_int_equal(applied, 1);
            assert_int_equal(balance(f, PAYER), payer_before - amount);
            posted++;
        } else if (final == PAYMENTS_C2C_VOID) {
            if (applied != 0) fail_msg("transfer %s voided but applied at the switch", reference);
            assert_int_equal(balance(f, PAYER), payer_before);
            voided++;
        } else {
            manual++; /* the operator reconciles; either state is possible */
        }
        assert_int_equal(balance(f, PAYER) + balance(f, PAYEE), total_before);
        (void)r;
    }
    print_message("switch sweep: %d posted, %d voided, %d manual\n", posted, voided, manual);
    assert_true(posted > 50 && voided > 50);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_table),
        cmocka_unit_test(test_rules_bounded),
        cmocka_unit_test(test_sim_allocation_failure),
        cmocka_unit_test_setup_teardown(test_approve_and_idempotent_retry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_declines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_applied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_late_is_fenced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silent_switch_goes_manual, setup, teardown),
        cmocka_unit_test_setup_teardown(test_holder_inquiry_and_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_sweep, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
