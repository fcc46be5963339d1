/*
 * ledger_fixture.h - shared set-up for the ledger tests: a migrated store in
 * a temporary directory, a ledger on it with a clock the test controls, and
 * short builders for accounts and transfers.  Header-only (static functions)
 * so that every test executable can include it.
 */
#ifndef SB_TEST_LEDGER_FIXTURE_H
#define SB_TEST_LEDGER_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ledger/ledger.h"
#include "store/store.h"

typedef struct {
    char dir[64];
    store *reader;
    ledger *l;
    int64_t now_ns; /* the ledger's clock */
} fixture;

static int64_t fixture_clock(void *arg) { return ((fixture *)arg)->now_ns; }

static __attribute__((unused)) void fixture_open_ledger(fixture *f) {
    ledger_options o = {.location = f->dir, .clock_ns = fixture_clock, .clock_arg = f};
    assert_int_equal(ledger_open(&o, &f->l), SB_OK);
}

static __attribute__((unused)) fixture *fixture_new(void) {
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sb-ledger-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(store_open(f->dir, NULL, &f->reader), SB_OK);
    assert_int_equal(store_migrate(f->reader, NULL), SB_OK);
    f->now_ns = 1700000000LL * 1000000000LL;
    fixture_open_ledger(f);
    return f;
}

static __attribute__((unused)) void fixture_free(fixture *f) {
    ledger_close(f->l);
    store_close(f->reader);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
}

static __attribute__((unused)) ledger_account make_account(uint64_t id, const char *currency, uint32_t flags) {
    ledger_account a;
    memset(&a, 0, sizeof a);
    a.id = ledger_id_from_u64(id);
    snprintf(a.currency, sizeof a.currency, "%s", currency);
    a.kind = flags ? LEDGER_KIND_CUSTOMER_WALLET : LEDGER_KIND_BANK_SETTLEMENT;
    a.flags = flags;
    a.code = 1;
    return a;
}

static __attribute__((unused)) void create_account_ok(fixture *f, uint64_t id, const char *currency, uint32_t flags) {
    ledger_account a = make_account(id, currency, flags);
    ledger_account_result r = 99;
    assert_int_equal(ledger_create_accounts(f->l, &a, 1, &r), SB_OK);
    assert_string_equal(ledger_account_result_name(r), "ok");
}

static __attribute__((unused)) ledger_transfer xfer(uint64_t id, uint64_t debit, uint64_t credit, int64_t amount) {
    ledger_transfer t;
    memset(&t, 0, sizeof t);
    t.id = ledger_id_from_u64(id);
    t.debit_account_id = ledger_id_from_u64(debit);
    t.credit_account_id = ledger_id_from_u64(credit);
    t.amount_minor = amount;
    t.code = 1;
    return t;
}

/* Submit one transfer and return its result code. */
static __attribute__((unused)) int submit1(fixture *f, ledger_transfer t) {
    ledger_result r = 99;
    assert_int_equal(ledger_submit_transfers(f->l, &t, 1, &r), SB_OK);
    return (int)r;
}

static __attribute__((unused)) ledger_account get_account(fixture *f, uint64_t id) {
    ledger_account a;
    assert_int_equal(ledger_lookup_account(f->reader, ledger_id_from_u64(id), &a), SB_OK);
    return a;
}

/* Compare result names so failures print both sides readably. */
#define assert_result(actual, expected) assert_string_equal(ledger_result_name(actual), ledger_result_name(expected))

static __attribute__((unused)) void assert_verify_ok(fixture *f) {
    ledger_verify_report rep;
    int rc = ledger_verify(f->reader, &rep);
    if (rc != SB_OK) fprintf(stderr, "verify: %s\n", rep.problem);
    assert_int_equal(rc, SB_OK);
    assert_true(rep.ok);
}

#endif /* SB_TEST_LEDGER_FIXTURE_H */
