/*
 * ledger_read.c - the readers of the ledger: account and transfer lookups on
 * the caller's own store connection, and `verify`, which recomputes every
 * balance from the journal inside one read snapshot and names the first
 * account that does not add up.  Nothing here writes; readers never block
 * the writer (WAL).
 */
#include <stdio.h>
#include <string.h>

#include "ledger/ledger_int.h"

void ledger__id_to_bytes(ledger_id id, uint8_t out[16]) {
    for (int i = 0; i < 8; i++) {
        out[i] = (uint8_t)(id.hi >> (56 - 8 * i));
        out[8 + i] = (uint8_t)(id.lo >> (56 - 8 * i));
    }
}

int ledger__id_from_bytes(const void *data, int len, ledger_id *out) {
    *out = (ledger_id){0, 0};
    if (!data || len != 16) return SB_ECORRUPT;
    const uint8_t *b = data;
    for (int i = 0; i < 8; i++) {
        out->hi = (out->hi << 8) | b[i];
        out->lo = (out->lo << 8) | b[8 + i];
    }
    return SB_OK;
}

int ledger__account_from_row(store_stmt *st, ledger_account *out, int64_t *num_out) {
    memset(out, 0, sizeof *out);
    if (num_out) *num_out = store_col_int64(st, 0);
    int result = ledger__id_from_bytes(store_col_blob(st, 1), store_col_bytes(st, 1), &out->id);
    if (result == SB_OK) result = ledger__id_from_bytes(store_col_blob(st, 2), store_col_bytes(st, 2), &out->user_data);
    if (result != SB_OK) return result;
    const char *currency = store_col_text(st, 3);
    if (!currency || strlen(currency) != 3) return SB_ECORRUPT;
    memcpy(out->currency, currency, 4);
    out->kind = (int)store_col_int64(st, 4);
    out->flags = (uint32_t)store_col_int64(st, 5);
    out->code = (uint32_t)store_col_int64(st, 6);
    out->debits_pending = store_col_int64(st, 7);
    out->debits_posted = store_col_int64(st, 8);
    out->credits_pending = store_col_int64(st, 9);
    out->credits_posted = store_col_int64(st, 10);
    out->timestamp_ns = store_col_int64(st, 11);
    return SB_OK;
}

int ledger__transfer_from_row(store_stmt *st, ledger__transfer_row *out) {
    memset(out, 0, sizeof *out);
    ledger_transfer *t = &out->transfer;
    t->timestamp_ns = store_col_int64(st, 0);
    int result = ledger__id_from_bytes(store_col_blob(st, 1), store_col_bytes(st, 1), &t->id);
    if (result == SB_OK)
        result = ledger__id_from_bytes(store_col_blob(st, 2), store_col_bytes(st, 2), &t->debit_account_id);
    if (result == SB_OK)
        result = ledger__id_from_bytes(store_col_blob(st, 3), store_col_bytes(st, 3), &t->credit_account_id);
    if (result == SB_OK && !store_col_is_null(st, 5))
        result = ledger__id_from_bytes(store_col_blob(st, 5), store_col_bytes(st, 5), &t->pending_id);
    if (result == SB_OK) result = ledger__id_from_bytes(store_col_blob(st, 6), store_col_bytes(st, 6), &t->user_data);
    if (result != SB_OK) return result;
    t->amount_minor = store_col_int64(st, 4);
    t->timeout_ms = store_col_int64(st, 7);
    t->code = (uint32_t)store_col_int64(st, 8);
    t->flags = (uint32_t)store_col_int64(st, 9);
    out->state = (ledger_transfer_state)store_col_int64(st, 10);
    out->debit_num = store_col_int64(st, 11);
    out->credit_num = store_col_int64(st, 12);
    return SB_OK;
}

int ledger__find_transfer(store *s, ledger_id id, ledger__transfer_row *out) {
    uint8_t key[16];
    ledger__id_to_bytes(id, key);
    store_stmt *st;
    int result = store_query(s, &st, LEDGER__TRANSFER_SELECT "WHERE t.id = ?", "b", key, 16);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_ROW) {
        result = ledger__transfer_from_row(st, out);
    } else if (result == STORE_DONE) {
        result = SB_ENOTFOUND;
    }
    store_stmt_done(st);
    return result;
}

int ledger_lookup_account(store *s, ledger_id id, ledger_account *out) {
    uint8_t key[16];
    ledger__id_to_bytes(id, key);
    store_stmt *st;
    int result =
        store_query(s, &st, "SELECT " LEDGER__ACCOUNT_COLUMNS " FROM ledger_accounts WHERE id = ?", "b", key, 16);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_ROW) {
        result = ledger__account_from_row(st, out, NULL);
    } else if (result == STORE_DONE) {
        result = SB_ENOTFOUND;
    }
    store_stmt_done(st);
    return result;
}

int ledger_lookup_transfer(store *s, ledger_id id, ledger_transfer *out, ledger_transfer_state *state_out) {
    ledger__transfer_row row;
    int result = ledger__find_transfer(s, id, &row);
    if (result != SB_OK) return result;
    *out = row.transfer;
    if (state_out) *state_out = row.state;
    return SB_OK;
}

int ledger_each_account(store *s, int (*fn)(const ledger_account *account, void *arg), void *arg) {
    store_stmt *st;
    int result = store_query(s, &st, "SELECT " LEDGER__ACCOUNT_COLUMNS " FROM ledger_accounts ORDER BY num", NULL);
    if (result != SB_OK) return result;
    for (;;) {
        result = store_step(st);
        if (result != STORE_ROW) break;
        ledger_account a;
        result = ledger__account_from_row(st, &a, NULL);
        if (result != SB_OK) break;
        result = fn(&a, arg);
        if (result != 0) break;
    }
    store_stmt_done(st);
    return result == STORE_DONE ? SB_OK : result;
}

/* ---- verify ---- */

typedef struct {
    int64_t num;
    ledger_account stored;
    int64_t debits_pending; /* recomputed from the journal */
    int64_t debits_posted;
    int64_t credits_pending;
    int64_t credits_posted;
} verify_account;

typedef struct {
    verify_account *accounts;
    size_t count;
    size_t cap;
} verify_state;

static verify_account *find_num(verify_state *v, int64_t num) {
    size_t lo = 0, hi = v->count;
    while (lo < hi) { /* bounded: log2(count) steps */
        size_t mid = lo + (hi - lo) / 2;
        if (v->accounts[mid].num == num) return &v->accounts[mid];
        if (v->accounts[mid].num < num) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

static void fail_account(ledger_verify_report *r, const ledger_account *a, const char *what, int64_t stored,
                         int64_t computed) {
    char hex[LEDGER_ID_HEX_BYTES];
    ledger_id_format(a->id, hex);
    r->ok = false;
    r->has_broken_account = true;
    r->broken_account = a->id;
    snprintf(r->problem, sizeof r->problem, "account %s: %s is %lld but the journal gives %lld", hex, what,
             (long long)stored, (long long)computed);
}

/* The next chunk of accounts: those with num > after, in num order, at most
 * v->cap of them (the array is allocated once, with its maximum). */
static int load_accounts(store *s, verify_state *v, int64_t after) {
    v->count = 0;
    store_stmt *st;
    int result = store_query(
        s, &st, "SELECT " LEDGER__ACCOUNT_COLUMNS " FROM ledger_accounts WHERE num > ? ORDER BY num LIMIT ?", "ii",
        after, (int64_t)v->cap);
    if (result != SB_OK) return result;
    for (;;) {
        result = store_step(st);
        if (result != STORE_ROW || v->count == v->cap) break;
        verify_account *va = &v->accounts[v->count];
        memset(va, 0, sizeof *va);
        result = ledger__account_from_row(st, &va->stored, &va->num);
        if (result != SB_OK) break;
        v->count++;
    }
    store_stmt_done(st);
    return result == STORE_DONE || result == STORE_ROW ? SB_OK : result;
}

/* Add the journal into the recomputed balances of the accounts in v (a
 * transfer whose accounts are in another chunk is skipped here: its chunk's
 * pass counts it).  count_transfers: this is the first pass, count them.
 * Returns SB_ECORRUPT with the report filled when a sum overflows. */
static int replay_journal(store *s, verify_state *v, ledger_verify_report *r, bool count_transfers) {
    store_stmt *st;
    int result = store_query(s, &st,
                             "SELECT debit_account, credit_account, amount, flags, state, timestamp_ns "
                             "FROM ledger_transfers ORDER BY timestamp_ns",
                             NULL);
    if (result != SB_OK) return result;
    int64_t first = v->accounts[0].num, last = v->accounts[v->count - 1].num;
    for (;;) {
        result = store_step(st);
        if (result != STORE_ROW) break;
        if (count_transfers) r->transfers++;
        int64_t debit = store_col_int64(st, 0), credit = store_col_int64(st, 1);
        bool debit_here = debit >= first && debit <= last, credit_here = credit >= first && credit <= last;
        if (!debit_here && !credit_here) continue;
        int64_t amount = store_col_int64(st, 2);
        uint32_t flags = (uint32_t)store_col_int64(st, 3);
        int64_t state = store_col_int64(st, 4);
        verify_account *dr = debit_here ? find_num(v, debit) : NULL;
        verify_account *cr = credit_here ? find_num(v, credit) : NULL;
        int64_t *dsum = NULL, *csum = NULL;
        if (flags & LEDGER_TRANSFER_PENDING) {
            if (state == LEDGER_STATE_PENDING) {
                dsum = dr ? &dr->debits_pending : NULL;
                csum = cr ? &cr->credits_pending : NULL;
            }
        } else if (!(flags & LEDGER_TRANSFER_VOID_PENDING)) {
            dsum = dr ? &dr->debits_posted : NULL; /* single transfers and posts */
            csum = cr ? &cr->credits_posted : NULL;
        }
        if ((dsum && sb_add_int64(*dsum, amount, dsum) != SB_OK) ||
            (csum && sb_add_int64(*csum, amount, csum) != SB_OK)) {
            const ledger_account *a = dsum ? &dr->stored : &cr->stored;
            fail_account(r, a, "a sum of the journal overflows; debits_posted", a->debits_posted, 0);
            result = SB_ECORRUPT;
            break;
        }
    }
    store_stmt_done(st);
    return result == STORE_DONE ? SB_OK : result;
}

/* Every transfer names two existing accounts of one currency and a positive
 * amount (checked in SQL, so no pass needs every account in memory). */
static int check_references(store *s, ledger_verify_report *r) {
    store_stmt *st;
    int result = store_query(s, &st,
                             "SELECT t.timestamp_ns, t.amount, d.num IS NULL OR c.num IS NULL, c.id "
                             "FROM ledger_transfers t "
                             "LEFT JOIN ledger_accounts d ON d.num = t.debit_account "
                             "LEFT JOIN ledger_accounts c ON c.num = t.credit_account "
                             "WHERE d.num IS NULL OR c.num IS NULL OR t.amount <= 0 OR d.currency <> c.currency "
                             "ORDER BY t.timestamp_ns LIMIT 1",
                             NULL);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_ROW) {
        int64_t ts = store_col_int64(st, 0), amount = store_col_int64(st, 1);
        if (store_col_int64(st, 2) || amount <= 0) {
            snprintf(r->problem, sizeof r->problem, "transfer at %lld refers to a missing account or has amount %lld",
                     (long long)ts, (long long)amount);
        } else {
            ledger_account credit;
            memset(&credit, 0, sizeof credit);
            if (ledger__id_from_bytes(store_col_blob(st, 3), store_col_bytes(st, 3), &credit.id) != SB_OK)
                credit.id = ledger_id_from_u64(0);
            fail_account(r, &credit, "currency differs from the debit side; credits_posted", 0, 0);
            snprintf(r->problem + strlen(r->problem), sizeof r->problem - strlen(r->problem), " (transfer at %lld)",
                     (long long)ts);
        }
        result = SB_ECORRUPT;
    }
    store_stmt_done(st);
    return result == STORE_DONE ? SB_OK : result;
}

typedef struct {
    __int128 debits_posted, credits_posted, debits_pending, credits_pending;
} wide_total;

/* Check the accounts of one chunk and add them into the currency sums. */
static int check_accounts(verify_state *v, ledger_verify_report *r, wide_total *sums) {
    for (size_t i = 0; i < v->count; i++) {
        verify_account *va = &v->accounts[i];
        const ledger_account *a = &va->stored;
        /* The four balances as stored against the journal's, in this order. */
        const struct {
            const char *name;
            int64_t stored, journal;
        } balances[] = {
            {"debits_pending", a->debits_pending, va->debits_pending},
            {"debits_posted", a->debits_posted, va->debits_posted},
            {"credits_pending", a->credits_pending, va->credits_pending},
            {"credits_posted", a->credits_posted, va->credits_posted},
        };
        for (size_t k = 0; k < SB_ARRAY_LEN(balances); k++) {
            if (balances[k].stored != balances[k].journal) {
                fail_account(r, a, balances[k].name, balances[k].stored, balances[k].journal);
                return SB_ECORRUPT;
            }
        }
        int64_t debits, credits;
        if (sb_add_int64(a->debits_pending, a->debits_posted, &debits) != SB_OK ||
            sb_add_int64(a->credits_pending, a->credits_posted, &credits) != SB_OK) {
            fail_account(r, a, "pending plus posted overflows; debits_posted", a->debits_posted, 0);
            return SB_ECORRUPT;
        }
        if ((a->flags & LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS) && debits > a->credits_posted) {
            fail_account(r, a, "debits exceed credits (flag debits_must_not_exceed_credits); debits", debits,
                         a->credits_posted);
            return SB_ECORRUPT;
        }
        if ((a->flags & LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS) && credits > a->debits_posted) {
            fail_account(r, a, "credits exceed debits (flag credits_must_not_exceed_debits); credits", credits,
                         a->debits_posted);
            return SB_ECORRUPT;
        }
        /* Totals per currency, in 128 bits: many int64 balances can sum past int64. */
        int c = 0;
        while (c < r->currency_count && memcmp(r->currencies[c].currency, a->currency, 4) != 0)
            c++;
        if (c == r->currency_count) {
            if (r->currency_count == SB_LEDGER_CURRENCIES_MAX) {
                snprintf(r->problem, sizeof r->problem, "more than %d currencies", SB_LEDGER_CURRENCIES_MAX);
                return SB_ELIMIT;
            }
            memset(&r->currencies[c], 0, sizeof r->currencies[c]);
            memcpy(r->currencies[c].currency, a->currency, 4);
            memset(&sums[c], 0, sizeof sums[c]);
            r->currency_count++;
        }
        sums[c].debits_posted += a->debits_posted;
        sums[c].credits_posted += a->credits_posted;
        sums[c].debits_pending += a->debits_pending;
        sums[c].credits_pending += a->credits_pending;
    }
    return SB_OK;
}

/* Debits equal credits in total, per currency (after every chunk). */
static int check_currency_totals(const wide_total *sums, ledger_verify_report *r) {
    for (int c = 0; c < r->currency_count; c++) {
        ledger_currency_total *ct = &r->currencies[c];
        const wide_total *w = &sums[c];
        __int128 values[4] = {w->debits_posted, w->credits_posted, w->debits_pending, w->credits_pending};
        int64_t *fields[4] = {&ct->debits_posted, &ct->credits_posted, &ct->debits_pending, &ct->credits_pending};
        for (int k = 0; k < 4; k++) {
            ct->saturated |= values[k] > INT64_MAX;
            *fields[k] = values[k] > INT64_MAX ? INT64_MAX : (int64_t)values[k];
        }
        if (w->debits_posted != w->credits_posted || w->debits_pending != w->credits_pending) {
            r->ok = false;
            snprintf(r->problem, sizeof r->problem,
                     "%s: debits posted %lld / pending %lld differ from credits posted %lld / pending %lld%s",
                     ct->currency, (long long)ct->debits_posted, (long long)ct->debits_pending,
                     (long long)ct->credits_posted, (long long)ct->credits_pending,
                     ct->saturated ? " (sums beyond int64 shown as its maximum)" : "");
            return SB_ECORRUPT;
        }
    }
    return SB_OK;
}

/* Run a query that selects the timestamp of the first transfer breaking a
 * rule: none is SB_OK; one is SB_ECORRUPT with the problem "SUBJECT at
 * TIMESTAMP FAULT". */
static int check_no_row(store *s, ledger_verify_report *r, const char *sql, const char *subject, const char *fault) {
    store_stmt *st;
    int result = store_query(s, &st, sql, NULL);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_ROW) {
        snprintf(r->problem, sizeof r->problem, "%s at %lld %s", subject, (long long)store_col_int64(st, 0), fault);
        result = SB_ECORRUPT;
    }
    store_stmt_done(st);
    return result == STORE_DONE ? SB_OK : result;
}

/* Every post/void refers to a pending transfer in the matching state, posts
 * no more than was reserved, and every resolved pending transfer has exactly
 * its one resolution (expired ones have none). */
static int check_two_phase(store *s, ledger_verify_report *r) {
    int result = check_no_row(
        s, r,
        "SELECT t.timestamp_ns FROM ledger_transfers t LEFT JOIN ledger_transfers p ON p.id = t.pending_id "
        "WHERE (t.flags & 12) <> 0 AND (p.id IS NULL OR (p.flags & 2) = 0 OR t.amount > p.amount "
        "OR p.debit_account <> t.debit_account OR p.credit_account <> t.credit_account "
        "OR p.state <> CASE WHEN (t.flags & 4) <> 0 THEN 2 ELSE 3 END) LIMIT 1",
        "post/void transfer", "does not match its pending transfer");
    if (result != SB_OK) return result;
    return check_no_row(s, r,
                        "SELECT p.timestamp_ns FROM ledger_transfers p WHERE (p.flags & 2) <> 0 AND p.state IN (2, 3) "
                        "AND (SELECT COUNT(*) FROM ledger_transfers t WHERE t.pending_id = p.id) <> 1 LIMIT 1",
                        "resolved pending transfer", "has no single post or void");
}

int ledger__verify_chunked(store *s, ledger_verify_report *report, size_t chunk_accounts) {
    memset(report, 0, sizeof *report);
    report->ok = true;
    if (chunk_accounts == 0) return SB_EINVAL;
    verify_state v = {.accounts = sb_malloc(chunk_accounts * sizeof *v.accounts), .cap = chunk_accounts};
    wide_total *sums = sb_calloc(SB_LEDGER_CURRENCIES_MAX, sizeof *sums);
    int result = v.accounts && sums ? store_begin_read(s) : SB_ENOMEM;
    if (result == SB_OK) {
        result = check_references(s, report);
        /* Accounts in chunks of at most chunk_accounts, each with one pass
         * over the journal: memory stays bounded however many accounts. */
        int64_t after = 0;
        for (bool first = true; result == SB_OK; first = false) {
            result = load_accounts(s, &v, after);
            if (result != SB_OK || v.count == 0) break;
            report->accounts += (int64_t)v.count;
            result = replay_journal(s, &v, report, first);
            if (result == SB_OK) result = check_accounts(&v, report, sums);
            after = v.accounts[v.count - 1].num;
            if (v.count < v.cap) break;
        }
        if (result == SB_OK) result = check_currency_totals(sums, report);
        if (result == SB_OK) result = check_two_phase(s, report);
        store_rollback(s); /* read only: nothing to keep */
    }
    sb_free(v.accounts);
    sb_free(sums);
    if (result != SB_OK) report->ok = false;
    if (result != SB_OK && !report->problem[0])
        snprintf(report->problem, sizeof report->problem, "cannot read the ledger: %s", sb_strerror(result));
    return result;
}

int ledger_verify(store *s, ledger_verify_report *report) {
    return ledger__verify_chunked(s, report, SB_LEDGER_VERIFY_CHUNK_ACCOUNTS);
}
