/*
 * test_ledger_model.c - the ledger against a reference model.
 *
 * A seeded random workload (valid and invalid transfers, retries of old ids
 * with the same or other fields, pending transfers with and without
 * timeouts, posts and voids of real and unknown pending ids, linked chains,
 * overflow-sized amounts, a clock that jumps so that transfers expire) is
 * applied to the real ledger and to a deliberately simple in-memory model
 * written from the documented rules (ledger.h).  After each batch every
 * result code and every balance must agree, and verify must pass.
 */
#include "ledger_fixture.h"

#define M_ACCOUNTS 9
#define M_TRANSFERS_MAX 20000

typedef struct {
    uint64_t id;
    char currency[4];
    uint32_t flags;
    int64_t dp, dpo, cp, cpo;
} m_account;

typedef struct {
    uint64_t id, debit, credit, pending_id, user;
    int64_t amount, timeout_ms, expires;
    uint32_t code, flags;
    int state;
} m_transfer;

typedef struct {
    m_account accounts[M_ACCOUNTS];
    m_transfer transfers[M_TRANSFERS_MAX];
    int transfer_count;
    int64_t last_ts;
    int64_t now;
} model;

static m_account *m_find_account(model *m, uint64_t id) {
    for (int i = 0; i < M_ACCOUNTS; i++)
        if (m->accounts[i].id == id) return &m->accounts[i];
    return NULL;
}

static m_transfer *m_find_transfer(model *m, uint64_t id) {
    for (int i = 0; i < m->transfer_count; i++)
        if (m->transfers[i].id == id) return &m->transfers[i];
    return NULL;
}

static bool add_overflows(int64_t a, int64_t b) {
    int64_t r;
    return __builtin_add_overflow(a, b, &r);
}

static int m_exists(const m_transfer *e, const ledger_transfer *t, uint64_t debit, uint64_t credit, int64_t amount) {
    if (e->flags != t->flags) return LEDGER_EXISTS_WITH_DIFFERENT_FLAGS;
    if (e->debit != debit) return LEDGER_EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID;
    if (e->credit != credit) return LEDGER_EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID;
    if (e->pending_id != t->pending_id.lo) return LEDGER_EXISTS_WITH_DIFFERENT_PENDING_ID;
    if (e->amount != amount) return LEDGER_EXISTS_WITH_DIFFERENT_AMOUNT;
    if (e->timeout_ms != t->timeout_ms) return LEDGER_EXISTS_WITH_DIFFERENT_TIMEOUT;
    if (e->code != t->code) return LEDGER_EXISTS_WITH_DIFFERENT_CODE;
    if (e->user != t->user_data.lo) return LEDGER_EXISTS_WITH_DIFFERENT_USER_DATA;
    return LEDGER_EXISTS;
}

static int64_t m_ts(model *m) { return m->last_ts + 1 > m->now ? m->last_ts + 1 : m->now; }

static int m_apply(model *m, const ledger_transfer *t) {
    uint32_t f = t->flags;
    bool pv = f & (LEDGER_TRANSFER_POST_PENDING | LEDGER_TRANSFER_VOID_PENDING);
    int kinds =
        !!(f & LEDGER_TRANSFER_PENDING) + !!(f & LEDGER_TRANSFER_POST_PENDING) + !!(f & LEDGER_TRANSFER_VOID_PENDING);
    uint64_t id = t->id.lo, dr_id = t->debit_account_id.lo, cr_id = t->credit_account_id.lo, pid = t->pending_id.lo;
    if (id == 0) return LEDGER_ID_MUST_NOT_BE_ZERO;
    if (f > 15) return LEDGER_RESERVED_FLAG;
    if (kinds > 1) return LEDGER_FLAGS_ARE_MUTUALLY_EXCLUSIVE;
    if (!pv && dr_id == 0) return LEDGER_DEBIT_ACCOUNT_ID_MUST_NOT_BE_ZERO;
    if (!pv && cr_id == 0) return LEDGER_CREDIT_ACCOUNT_ID_MUST_NOT_BE_ZERO;
    if (dr_id != 0 && dr_id == cr_id) return LEDGER_ACCOUNTS_MUST_BE_DIFFERENT;
    if (!pv && pid != 0) return LEDGER_PENDING_ID_MUST_BE_ZERO;
    if (pv && pid == 0) return LEDGER_PENDING_ID_MUST_NOT_BE_ZERO;
    if (pv && pid == id) return LEDGER_PENDING_ID_MUST_BE_DIFFERENT;
    if (!(f & LEDGER_TRANSFER_PENDING) && t->timeout_ms != 0) return LEDGER_TIMEOUT_RESERVED_FOR_PENDING_TRANSFER;
    if (t->timeout_ms < 0 || t->timeout_ms > SB_LEDGER_TIMEOUT_MS_MAX) return LEDGER_TIMEOUT_OUT_OF_RANGE;
    if (pv ? t->amount_minor < 0 : t->amount_minor <= 0) return LEDGER_AMOUNT_MUST_BE_POSITIVE;
    if (t->code == 0) return LEDGER_CODE_MUST_NOT_BE_ZERO;
    m_account *dr = dr_id ? m_find_account(m, dr_id) : NULL, *cr = cr_id ? m_find_account(m, cr_id) : NULL;
    if (dr_id && !dr) return LEDGER_DEBIT_ACCOUNT_NOT_FOUND;
    if (cr_id && !cr) return LEDGER_CREDIT_ACCOUNT_NOT_FOUND;
    if (dr && cr && strcmp(dr->currency, cr->currency) != 0) return LEDGER_ACCOUNTS_MUST_HAVE_THE_SAME_CURRENCY;
    m_transfer *e = m_find_transfer(m, id);
    int64_t ts = m_ts(m);
    if (pv) {
        m_transfer *p = m_find_transfer(m, pid);
        if (!p) return LEDGER_PENDING_TRANSFER_NOT_FOUND;
        if (!(p->flags & LEDGER_TRANSFER_PENDING)) return LEDGER_PENDING_TRANSFER_NOT_PENDING;
        if (dr && dr->id != p->debit) return LEDGER_PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID;
        if (cr && cr->id != p->credit) return LEDGER_PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID;
        bool post = f & LEDGER_TRANSFER_POST_PENDING;
        int64_t amount = t->amount_minor ? t->amount_minor : p->amount;
        if (post && amount > p->amount) return LEDGER_EXCEEDS_PENDING_TRANSFER_AMOUNT;
        if (!post && amount != p->amount) return LEDGER_PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT;
        if (e) return m_exists(e, t, p->debit, p->credit, amount);
        if (p->state == LEDGER_STATE_POSTED) return LEDGER_PENDING_TRANSFER_ALREADY_POSTED;
        if (p->state == LEDGER_STATE_VOIDED) return LEDGER_PENDING_TRANSFER_ALREADY_VOIDED;
        if (p->state == LEDGER_STATE_EXPIRED) return LEDGER_PENDING_TRANSFER_EXPIRED;
        m_account *pd = m_find_account(m, p->debit), *pc = m_find_account(m, p->credit);
        if (post && add_overflows(pd->dpo, amount)) return LEDGER_OVERFLOWS_DEBITS_POSTED;
        if (post && add_overflows(pc->cpo, amount)) return LEDGER_OVERFLOWS_CREDITS_POSTED;
        pd->dp -= p->amount;
        pc->cp -= p->amount;
        if (post) pd->dpo += amount, pc->cpo += amount;
        p->state = post ? LEDGER_STATE_POSTED : LEDGER_STATE_VOIDED;
        m->transfers[m->transfer_count++] =
            (m_transfer){id, p->debit, p->credit, pid, t->user_data.lo, amount, 0, 0, t->code, f, 0};
        m->last_ts = ts;
        return LEDGER_OK;
    }
    if (e) return m_exists(e, t, dr->id, cr->id, t->amount_minor);
    int64_t a = t->amount_minor;
    bool pending = f & LEDGER_TRANSFER_PENDING;
    if (pending && add_overflows(dr->dp, a)) return LEDGER_OVERFLOWS_DEBITS_PENDING;
    if (pending && add_overflows(cr->cp, a)) return LEDGER_OVERFLOWS_CREDITS_PENDING;
    if (!pending && add_overflows(dr->dpo, a)) return LEDGER_OVERFLOWS_DEBITS_POSTED;
    if (!pending && add_overflows(cr->cpo, a)) return LEDGER_OVERFLOWS_CREDITS_POSTED;
    if (add_overflows(dr->dp, dr->dpo) || add_overflows(dr->dp + dr->dpo, a)) return LEDGER_OVERFLOWS_DEBITS;
    if (add_overflows(cr->cp, cr->cpo) || add_overflows(cr->cp + cr->cpo, a)) return LEDGER_OVERFLOWS_CREDITS;
    int64_t expires = 0;
    if (pending && t->timeout_ms > 0 && add_overflows(ts, t->timeout_ms * 1000000)) return LEDGER_OVERFLOWS_TIMEOUT;
    if (pending && t->timeout_ms > 0) expires = ts + t->timeout_ms * 1000000;
    if ((dr->flags & LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS) && dr->dp + dr->dpo + a > dr->cpo)
        return LEDGER_EXCEEDS_CREDITS;
    if ((cr->flags & LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS) && cr->cp + cr->cpo + a > cr->dpo)
        return LEDGER_EXCEEDS_DEBITS;
    if (pending) {
        dr->dp += a;
        cr->cp += a;
    } else {
        dr->dpo += a;
        cr->cpo += a;
    }
    m->transfers[m->transfer_count++] = (m_transfer){id,
                                                     dr->id,
                                                     cr->id,
                                                     0,
                                                     t->user_data.lo,
                                                     a,
                                                     t->timeout_ms,
                                                     expires,
                                                     t->code,
                                                     f,
                                                     pending ? LEDGER_STATE_PENDING : 0};
    m->last_ts = ts;
    return LEDGER_OK;
}

static void m_expire(model *m) {
    for (int i = 0; i < m->transfer_count; i++) {
        m_transfer *p = &m->transfers[i];
        if (p->state != LEDGER_STATE_PENDING || p->expires == 0 || p->expires > m->now) continue;
        p->state = LEDGER_STATE_EXPIRED;
        m_find_account(m, p->debit)->dp -= p->amount;
        m_find_account(m, p->credit)->cp -= p->amount;
    }
}

/* A whole submission, with chains, as the documentation states them. */
static void m_submit(model *m, const ledger_transfer *ts, int n, int *results) {
    m_expire(m);
    static m_account saved_accounts[M_ACCOUNTS];
    static m_transfer saved[M_TRANSFERS_MAX];
    int i = 0;
    while (i < n) {
        int end = i;
        while (end < n && (ts[end].flags & LEDGER_TRANSFER_LINKED))
            end++;
        if (end == n) {
            for (int k = i; k < n; k++)
                results[k] = k == n - 1 ? LEDGER_LINKED_EVENT_CHAIN_OPEN : LEDGER_LINKED_EVENT_FAILED;
            break;
        }
        memcpy(saved_accounts, m->accounts, sizeof saved_accounts);
        memcpy(saved, m->transfers, sizeof(m_transfer) * (size_t)m->transfer_count);
        int saved_count = m->transfer_count;
        int failed = -1;
        for (int k = i; k <= end; k++) {
            results[k] = m_apply(m, &ts[k]);
            if (results[k] != LEDGER_OK && results[k] != LEDGER_EXISTS) {
                failed = k;
                break;
            }
        }
        if (failed >= 0 && end > i) {
            memcpy(m->accounts, saved_accounts, sizeof saved_accounts);
            memcpy(m->transfers, saved, sizeof(m_transfer) * (size_t)saved_count);
            m->transfer_count = saved_count;
            for (int k = i; k <= end; k++)
                if (k != failed) results[k] = LEDGER_LINKED_EVENT_FAILED;
        }
        i = end + 1;
    }
}

/* ---- the workload ---- */

static uint64_t rng_state;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}
static uint64_t below(uint64_t n) { return rnd() % n; }

static uint64_t pick_account(void) {
    static const uint64_t ids[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 99};
    return ids[below(100) < 95 ? below(9) : 9 + below(2)];
}

static int64_t pick_amount(void) {
    switch (below(40)) {
    case 0:
        return 0;
    case 1:
        return -3;
    case 2:
        return INT64_MAX;
    case 3:
        return INT64_MAX / 2;
    default:
        return 1 + (int64_t)below(below(4) == 0 ? 5000 : 300);
    }
}

static ledger_transfer make_transfer(model *m, uint64_t *next_id) {
    ledger_transfer t;
    memset(&t, 0, sizeof t);
    t.code = below(50) == 0 ? 0 : 1 + (uint32_t)below(2);
    t.user_data = ledger_id_from_u64(below(3));
    uint64_t kind = below(100);
    if (kind < 10 && m->transfer_count > 0) {
        /* A retry of a recorded transfer, sometimes altered. */
        m_transfer *e = &m->transfers[below((uint64_t)m->transfer_count)];
        t.id = ledger_id_from_u64(e->id);
        t.flags = e->flags;
        t.debit_account_id = ledger_id_from_u64(e->pending_id ? 0 : e->debit);
        t.credit_account_id = ledger_id_from_u64(e->pending_id ? 0 : e->credit);
        t.pending_id = ledger_id_from_u64(e->pending_id);
        t.amount_minor = e->amount;
        t.timeout_ms = e->timeout_ms;
        t.code = e->code;
        t.user_data = ledger_id_from_u64(e->user);
        switch (below(6)) {
        case 0:
            t.amount_minor = e->amount == INT64_MAX ? 1 : e->amount + 1;
            break;
        case 1:
            t.code += 1;
            break;
        case 2:
            t.user_data.lo += 1;
            break;
        default:
            break; /* identical: exists */
        }
        return t;
    }
    t.id = ledger_id_from_u64(below(60) == 0 ? 0 : (*next_id)++);
    if (kind < 30) {
        /* post or void of a (mostly real) pending transfer */
        t.flags = below(2) ? LEDGER_TRANSFER_POST_PENDING : LEDGER_TRANSFER_VOID_PENDING;
        uint64_t pid = 5000000 + below(1000);
        if (m->transfer_count > 0 && below(5) != 0) pid = m->transfers[below((uint64_t)m->transfer_count)].id;
        t.pending_id = ledger_id_from_u64(pid);
        t.amount_minor = below(3) == 0 ? 0 : pick_amount();
        if (below(10) == 0) t.debit_account_id = ledger_id_from_u64(pick_account());
        return t;
    }
    t.debit_account_id = ledger_id_from_u64(pick_account());
    t.credit_account_id = ledger_id_from_u64(pick_account());
    t.amount_minor = pick_amount();
    if (kind < 50) {
        t.flags = LEDGER_TRANSFER_PENDING;
        t.timeout_ms = below(2) ? 0 : (int64_t)(1 + below(3000));
    }
    if (below(100) == 0) t.flags |= 1u << 5;
    if (below(100) == 0) t.flags |= LEDGER_TRANSFER_VOID_PENDING;
    if (below(100) == 0) t.timeout_ms = -1;
    return t;
}

static void check_balances(fixture *f, model *m, int batch) {
    for (int i = 0; i < M_ACCOUNTS; i++) {
        ledger_account a = get_account(f, m->accounts[i].id);
        if (a.debits_pending != m->accounts[i].dp || a.debits_posted != m->accounts[i].dpo ||
            a.credits_pending != m->accounts[i].cp || a.credits_posted != m->accounts[i].cpo) {
            fail_msg("batch %d account %llu: ledger dp=%lld dpo=%lld cp=%lld cpo=%lld, model dp=%lld dpo=%lld cp=%lld "
                     "cpo=%lld",
                     batch, (unsigned long long)m->accounts[i].id, (long long)a.debits_pending,
                     (long long)a.debits_posted, (long long)a.credits_pending, (long long)a.credits_posted,
                     (long long)m->accounts[i].dp, (long long)m->accounts[i].dpo, (long long)m->accounts[i].cp,
                     (long long)m->accounts[i].cpo);
        }
    }
}

static void run_seed(uint64_t seed, int batches) {
    fixture *f = fixture_new();
    static model m;
    memset(&m, 0, sizeof m);
    rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
    struct {
        const char *cur;
        uint32_t flags;
    } spec[M_ACCOUNTS] = {{"IRR", 0},
                          {"IRR", LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS},
                          {"IRR", LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS},
                          {"IRR", LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS},
                          {"IRR", LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS},
                          {"IRR", 0},
                          {"EUR", 0},
                          {"EUR", LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS},
                          {"UAH", 0}};
    for (int i = 0; i < M_ACCOUNTS; i++) {
        create_account_ok(f, (uint64_t)i + 1, spec[i].cur, spec[i].flags);
        m.accounts[i] = (m_account){(uint64_t)i + 1, "", spec[i].flags, 0, 0, 0, 0};
        memcpy(m.accounts[i].currency, spec[i].cur, 4);
    }
    m.last_ts = f->now_ns + M_ACCOUNTS - 1; /* account creation took timestamps too */
    m.now = f->now_ns;
    uint64_t next_id = 1000;
    ledger_transfer batch[24];
    ledger_result results[24];
    int expected[24];
    int64_t transfers_ok = 0, kinds_seen[LEDGER_RESULT_COUNT] = {0};
    for (int b = 0; b < batches; b++) {
        int n = 1 + (int)below(below(4) == 0 ? 24 : 6);
        for (int i = 0; i < n; i++) {
            batch[i] = make_transfer(&m, &next_id);
            if (below(5) == 0) batch[i].flags |= LEDGER_TRANSFER_LINKED;
        }
        /* Time moves on: sometimes far enough for timeouts to pass. */
        f->now_ns += (int64_t)below(below(5) == 0 ? 2000 : 20) * 1000000;
        m.now = f->now_ns;
        m_submit(&m, batch, n, expected);
        assert_int_equal(ledger_submit_transfers(f->l, batch, (size_t)n, results), SB_OK);
        for (int i = 0; i < n; i++) {
            if ((int)results[i] != expected[i]) {
                char hex[LEDGER_ID_HEX_BYTES];
                ledger_id_format(batch[i].id, hex);
                fail_msg("seed %llu batch %d transfer %d (id %s flags %u amount %lld): ledger %s, model %s",
                         (unsigned long long)seed, b, i, hex, batch[i].flags, (long long)batch[i].amount_minor,
                         ledger_result_name(results[i]), ledger_result_name(expected[i]));
            }
            kinds_seen[results[i]]++;
            if (results[i] == LEDGER_OK) transfers_ok++;
        }
        check_balances(f, &m, b);
        if (b % 50 == 49) assert_verify_ok(f);
    }
    assert_verify_ok(f);
    int distinct = 0;
    for (int k = 0; k < LEDGER_RESULT_COUNT; k++)
        distinct += kinds_seen[k] > 0;
    printf("seed %llu: %d batches, %lld ok, %d distinct result codes\n", (unsigned long long)seed, batches,
           (long long)transfers_ok, distinct);
    /* The workload must reach deep into the rules to mean anything. */
    assert_true(transfers_ok > batches / 2);
    assert_true(distinct >= 20);
    fixture_free(f);
}

static void test_model_seed_1(void **state) {
    (void)state;
    run_seed(1, 400);
}
static void test_model_seed_2(void **state) {
    (void)state;
    run_seed(2, 400);
}
static void test_model_seed_3(void **state) {
    (void)state;
    run_seed(20261123, 400);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_seed_1),
        cmocka_unit_test(test_model_seed_2),
        cmocka_unit_test(test_model_seed_3),
    };
    return cmocka_run_group_tests_name("ledger_model", tests, NULL, NULL);
}
