/*
 * payops_fixture.h - shared set-up for the payment operations tests: a
 * migrated temporary SQLite store, a running ledger writer, the bank's
 * accounts, four customers, the default policy and a switch simulator.
 */
#ifndef SB_TEST_PAYOPS_FIXTURE_H
#define SB_TEST_PAYOPS_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "payments/ops.h"

#define BANK_CARD "6037701689095443" /* Keshavarzi (persian-tools vector): the bank's source card */
#define DEST_CARD "6219861034529007" /* Saman (persian-tools vector) */
#define NOW 1700000000000LL

enum { ALI = 1, SARA = 2, REZA = 3, MINA = 4 };

typedef struct {
    char dir[64];
    store *s;
    ledger *l;
    payments_policy policy;
    payments_switch_sim *sim;
    payments_switch sw;
    payments_card source;
    payops_ctx ctx;
} pfix;

/* A customer who has not made themself discoverable: payers cannot find
 * them by phone or @username. */
static __attribute__((unused)) void add_hidden_customer(pfix *f, int64_t id, const char *phone, const char *username,
                                                        const char *name) {
    assert_int_equal(store_exec(f->s,
                                "INSERT INTO users(id, role, phone, username, display_name, created_at_ms, "
                                "updated_at_ms) VALUES (?, 'customer', ?, ?, ?, 0, 0)",
                                "ittt", id, phone, username, name),
                     SB_OK);
}

/* A discoverable customer (found by phone and @username). */
static __attribute__((unused)) void add_customer(pfix *f, int64_t id, const char *phone, const char *username,
                                                 const char *name) {
    add_hidden_customer(f, id, phone, username, name);
    assert_int_equal(store_exec(f->s, "INSERT INTO msg_settings(user_id, discoverable) VALUES (?, 1)", "i", id), SB_OK);
}

static __attribute__((unused)) pfix *pfix_new(void) {
    assert_int_equal(sb_crypto_init(), SB_OK);
    pfix *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sb-payops-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(store_open(f->dir, NULL, &f->s), SB_OK);
    assert_int_equal(store_migrate(f->s, NULL), SB_OK);
    ledger_options o = {.location = f->dir};
    assert_int_equal(ledger_open(&o, &f->l), SB_OK);
    payments_policy_default(&f->policy);
    assert_int_equal(payments_switch_sim_create(&f->sim), SB_OK);
    f->sw = payments_switch_sim_adapter(f->sim);
    assert_int_equal(payments_switch_sim_add_card(f->sim, BANK_CARD, "SocialBank", 1000000000), SB_OK);
    assert_int_equal(payments_switch_sim_add_card(f->sim, DEST_CARD, "Sara Ahmadi", 0), SB_OK);
    assert_int_equal(payments_card_parse(BANK_CARD, &f->source, NULL), SB_OK);
    f->ctx = (payops_ctx){
        .s = f->s, .l = f->l, .policy = &f->policy, .sw = &f->sw, .c2c_source = &f->source, .c2c_timeout_ms = 100};
    assert_int_equal(payops_init(&f->ctx), SB_OK);
    assert_int_equal(payops_init(&f->ctx), SB_OK); /* idempotent */
    add_customer(f, ALI, "+989121234567", "ali", "Ali Rezaei");
    add_customer(f, SARA, "+989351234567", "sara", "Sara Ahmadi");
    add_customer(f, REZA, "+989191112233", NULL, "");
    add_customer(f, MINA, "+380501234567", "mina", "Mina K");
    return f;
}

static __attribute__((unused)) void pfix_free(pfix *f) {
    ledger_close(f->l);
    store_close(f->s);
    payments_switch_sim_free(f->sim);
    payments_card_wipe(&f->source);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
}

static __attribute__((unused)) int64_t balance(pfix *f, int64_t user) {
    int64_t b = -1;
    assert_int_equal(payops_wallet_balance(&f->ctx, user, &b), SB_OK);
    return b;
}

/* Net credit of a bank account (credits_posted - debits_posted). */
static __attribute__((unused)) int64_t account_net(pfix *f, ledger_id id) {
    ledger_account a;
    assert_int_equal(ledger_lookup_account(f->s, id, &a), SB_OK);
    return a.credits_posted - a.debits_posted;
}

static __attribute__((unused)) int64_t pending_debits(pfix *f, ledger_id id) {
    ledger_account a;
    assert_int_equal(ledger_lookup_account(f->s, id, &a), SB_OK);
    return a.debits_pending + a.credits_pending;
}

static __attribute__((unused)) void deposit(pfix *f, int64_t user, int64_t amount, const char *key) {
    payops_receipt r;
    assert_int_equal(payops_deposit(&f->ctx, user, amount, key, NOW, &r), SB_OK);
    assert_string_equal(payops_receipt_state_name(r.state), "done");
}

static __attribute__((unused)) void verify_ok(pfix *f) {
    ledger_verify_report rep;
    int rc = ledger_verify(f->s, &rep);
    if (rc != SB_OK) fprintf(stderr, "verify: %s\n", rep.problem);
    assert_int_equal(rc, SB_OK);
    assert_true(rep.ok);
    /* Conservation: all IRR debits equal all IRR credits. */
    assert_int_equal(rep.currencies[0].debits_posted, rep.currencies[0].credits_posted);
}

static __attribute__((unused)) int64_t receipt_count(pfix *f) {
    int64_t n = -1;
    assert_int_equal(store_query_int64(f->s, &n, "SELECT count(*) FROM payments_receipts", ""), SB_OK);
    return n;
}

#endif
