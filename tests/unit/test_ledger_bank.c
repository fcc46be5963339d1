/*
 * test_ledger_bank.c - the bank test, as Jepsen runs it, in one process.
 *
 * Ten wallets (debits must not exceed credits) are funded with 100,000 each
 * from a settlement account.  Writer threads then move random amounts
 * between the wallets (plain transfers, linked transfer-plus-fee pairs,
 * pending transfers later posted for less or voided, some too large to be
 * allowed) while reader threads, each on its own store connection, read
 * every balance inside one read transaction again and again.  At every read:
 * the wallets' total (credits_posted - debits_posted) is exactly 1,000,000,
 * pending debits equal pending credits, no wallet breaks its flag, and the
 * settlement account shows exactly the funding.  At the end verify passes.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "ledger_fixture.h"

#define WALLETS 10
#define FUNDING 100000
#define WRITERS 6
#define READERS 2
#define SUBMISSIONS_PER_WRITER 120

typedef struct {
    fixture *f;
    uint64_t seed;
    int64_t ok;
    int error;
} writer_arg;

typedef struct {
    const char *dir;
    atomic_bool *stop;
    int64_t reads;
    char failure[256];
} reader_arg;

static atomic_uint_fast64_t next_id = 100000;

static uint64_t xs(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void *writer_main(void *p) {
    writer_arg *w = p;
    uint64_t s = w->seed;
    ledger_transfer t[32];
    ledger_result r[32];
    ledger_id open_pending[32];
    int open_count = 0;
    for (int round = 0; round < SUBMISSIONS_PER_WRITER && !w->error; round++) {
        int n = 0;
        for (int i = 0; i < open_count; i++, n++) {
            memset(&t[n], 0, sizeof t[n]);
            t[n].id = ledger_id_from_u64(atomic_fetch_add(&next_id, 1));
            t[n].pending_id = open_pending[i];
            t[n].flags = xs(&s) % 2 ? LEDGER_TRANSFER_POST_PENDING : LEDGER_TRANSFER_VOID_PENDING;
            t[n].amount_minor = (int64_t)(xs(&s) % 3); /* 0 = all; 1 or 2 = post for less */
            if (t[n].flags == LEDGER_TRANSFER_VOID_PENDING) t[n].amount_minor = 0;
            t[n].code = 1;
        }
        open_count = 0;
        int want = n + 1 + (int)(xs(&s) % 12);
        while (n < want && n < 30) {
            uint64_t from = 2 + xs(&s) % WALLETS, to = 2 + xs(&s) % WALLETS;
            if (from == to) to = 2 + (from - 1) % WALLETS;
            t[n] = xfer(atomic_fetch_add(&next_id, 1), from, to, 1 + (int64_t)(xs(&s) % 30000));
            uint64_t kind = xs(&s) % 8;
            if (kind == 0) {
                t[n].flags = LEDGER_TRANSFER_PENDING;
            } else if (kind == 1) {
                t[n].flags = LEDGER_TRANSFER_LINKED; /* fee to another wallet */
                n++;
                t[n] =
                    xfer(atomic_fetch_add(&next_id, 1), from, 2 + (from + 1 - 2) % WALLETS, 1 + (int64_t)(xs(&s) % 50));
            }
            n++;
        }
        int result = ledger_submit_transfers(w->f->l, t, (size_t)n, r);
        if (result != SB_OK) {
            w->error = result;
            break;
        }
        for (int i = 0; i < n; i++) {
            if (r[i] != LEDGER_OK) continue;
            w->ok++;
            if (t[i].flags & LEDGER_TRANSFER_PENDING) open_pending[open_count++] = t[i].id;
        }
    }
    return NULL;
}

typedef struct {
    int64_t wallets_net, pending_debits, pending_credits;
    int64_t settlement_debits, settlement_credits;
    int count;
    char broken[128];
} totals;

static int add_account(const ledger_account *a, void *arg) {
    totals *t = arg;
    t->count++;
    if (a->id.lo == 1) {
        t->settlement_debits = a->debits_posted;
        t->settlement_credits = a->credits_posted;
        return 0;
    }
    t->wallets_net += a->credits_posted - a->debits_posted;
    t->pending_debits += a->debits_pending;
    t->pending_credits += a->credits_pending;
    if (a->debits_pending + a->debits_posted > a->credits_posted)
        snprintf(t->broken, sizeof t->broken, "wallet %llu debits %lld > credits %lld", (unsigned long long)a->id.lo,
                 (long long)(a->debits_pending + a->debits_posted), (long long)a->credits_posted);
    return 0;
}

static void check_totals(const totals *t, char *failure, size_t len) {
    if (t->count != WALLETS + 1)
        snprintf(failure, len, "saw %d accounts", t->count);
    else if (t->wallets_net != (int64_t)WALLETS * FUNDING)
        snprintf(failure, len, "wallet total %lld != %lld", (long long)t->wallets_net, (long long)WALLETS * FUNDING);
    else if (t->pending_debits != t->pending_credits)
        snprintf(failure, len, "pending debits %lld != pending credits %lld", (long long)t->pending_debits,
                 (long long)t->pending_credits);
    else if (t->settlement_debits != (int64_t)WALLETS * FUNDING || t->settlement_credits != 0)
        snprintf(failure, len, "settlement %lld/%lld", (long long)t->settlement_debits,
                 (long long)t->settlement_credits);
    else if (t->broken[0])
        snprintf(failure, len, "%s", t->broken);
}

static void *reader_main(void *p) {
    reader_arg *r = p;
    store *s;
    if (store_open(r->dir, NULL, &s) != SB_OK) {
        snprintf(r->failure, sizeof r->failure, "reader cannot open the store");
        return NULL;
    }
    while (!atomic_load(r->stop) && !r->failure[0]) {
        totals t;
        memset(&t, 0, sizeof t);
        if (store_begin_read(s) != SB_OK) {
            snprintf(r->failure, sizeof r->failure, "begin_read failed");
            break;
        }
        int result = ledger_each_account(s, add_account, &t);
        store_rollback(s);
        if (result != SB_OK) {
            snprintf(r->failure, sizeof r->failure, "read failed: %s", sb_strerror(result));
            break;
        }
        check_totals(&t, r->failure, sizeof r->failure);
        r->reads++;
    }
    store_close(s);
    return NULL;
}

static void test_bank(void **state) {
    (void)state;
    fixture *f = fixture_new();
    create_account_ok(f, 1, "IRR", 0);
    ledger_transfer fund[WALLETS];
    ledger_result fr[WALLETS];
    for (int i = 0; i < WALLETS; i++) {
        create_account_ok(f, 2 + (uint64_t)i, "IRR", LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
        fund[i] = xfer(50 + (uint64_t)i, 1, 2 + (uint64_t)i, FUNDING);
    }
    assert_int_equal(ledger_submit_transfers(f->l, fund, WALLETS, fr), SB_OK);
    for (int i = 0; i < WALLETS; i++)
        assert_result(fr[i], LEDGER_OK);

    atomic_bool stop = false;
    pthread_t wt[WRITERS], rt[READERS];
    writer_arg wa[WRITERS];
    reader_arg ra[READERS];
    for (int i = 0; i < READERS; i++) {
        ra[i] = (reader_arg){.dir = f->dir, .stop = &stop};
        assert_int_equal(pthread_create(&rt[i], NULL, reader_main, &ra[i]), 0);
    }
    for (int i = 0; i < WRITERS; i++) {
        wa[i] = (writer_arg){.f = f, .seed = 0x1234567ULL * (uint64_t)(i + 1)};
        assert_int_equal(pthread_create(&wt[i], NULL, writer_main, &wa[i]), 0);
    }
    int64_t ok = 0;
    for (int i = 0; i < WRITERS; i++) {
        pthread_join(wt[i], NULL);
        assert_int_equal(wa[i].error, SB_OK);
        ok += wa[i].ok;
    }
    atomic_store(&stop, true);
    int64_t reads = 0;
    for (int i = 0; i < READERS; i++) {
        pthread_join(rt[i], NULL);
        if (ra[i].failure[0]) fail_msg("reader %d: %s", i, ra[i].failure);
        reads += ra[i].reads;
    }
    /* A final read after everything, and the full verify. */
    totals t;
    memset(&t, 0, sizeof t);
    assert_int_equal(ledger_each_account(f->reader, add_account, &t), SB_OK);
    char failure[256] = "";
    check_totals(&t, failure, sizeof failure);
    assert_string_equal(failure, "");
    assert_verify_ok(f);
    ledger_stats st;
    ledger_get_stats(f->l, &st);
    printf("bank: %lld transfers ok, %lld reads, %lld batches for %lld transfers\n", (long long)ok, (long long)reads,
           (long long)st.batches, (long long)st.transfers);
    assert_true(ok > WRITERS * SUBMISSIONS_PER_WRITER); /* the load was real */
    assert_true(reads > 0);
    fixture_free(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_bank)};
    return cmocka_run_group_tests_name("ledger_bank", tests, NULL, NULL);
}
