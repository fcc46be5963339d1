/*
 * ledger.c - the ledger's writer: a bounded queue of submissions, one thread
 * that owns a durable store connection, and the rules of every transfer.
 *
 * Data flow: a caller (any thread) puts its submission on the queue and
 * sleeps on a condition variable.  The writer takes every waiting submission
 * (up to SB_LEDGER_COMMIT_MAX transfers), opens ONE SQLite transaction,
 * expires due pending transfers, applies each transfer against its in-memory
 * cache of account balances (inserting the journal row as it goes), writes
 * the balances of the accounts it touched, and COMMITs (synchronous=FULL, so
 * the commit is on disk).  Only then are the callers woken with their
 * results.  If anything fails at the store level the whole transaction is
 * rolled back, the cache is dropped (the database is the truth) and every
 * caller of the batch gets the error: nothing of theirs was committed.
 *
 * Linked chains run inside a SAVEPOINT with an undo log of the cache, so a
 * failing member rolls back exactly its chain.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "ledger/ledger_int.h"

/* ---- the account cache (writer only) ---- */

typedef struct {
    ledger_account a;
    int64_t num;
    bool dirty;
    /* Balances when the batch first touched it (set by touch): the
     * invariant check compares them with the balances at commit. */
    int64_t before_debits_pending, before_debits_posted, before_credits_pending, before_credits_posted;
} cached_account;

/* A balance change queued by ledger_test_corrupt_balance (tests only). */
typedef struct {
    ledger_id account;
    int64_t debits_posted_delta, credits_posted_delta;
} test_corruption;

enum { TEST_CORRUPTIONS_MAX = 4 };

typedef struct {
    cached_account *account;
    int64_t debits_pending, debits_posted, credits_pending, credits_posted;
} undo_entry;

enum { REQ_ACCOUNTS = 1, REQ_TRANSFERS = 2 };

typedef struct request {
    struct request *next;
    int type;
    size_t count;
    const ledger_account *accounts;
    ledger_account_result *account_results;
    ledger_transfer *transfers;
    ledger_result *results;
    int status;
    bool done;
    pthread_cond_t done_cv; /* this caller's own: a commit wakes only its callers */
} request;

struct ledger {
    pthread_mutex_t mu;
    pthread_cond_t work_cv;
    request *head, *tail;
    size_t queued;
    size_t queue_max;
    bool closing;
    pthread_t thread;
    ledger_stats stats;                                /* copied from wstats under mu after each batch */
    test_corruption corruptions[TEST_CORRUPTIONS_MAX]; /* under mu */
    int corruption_count;                              /* under mu */
    _Atomic int corruption_pending;                    /* a lock-free peek at corruption_count */

    /* Writer-only state. */
    store *db;
    int64_t (*clock_ns)(void *arg);
    void *clock_arg;
    bool per_transfer;
    cached_account **slots; /* open addressing by id */
    size_t slot_count;      /* power of two */
    size_t cached;
    cached_account **dirty;
    size_t dirty_count, dirty_cap;
    undo_entry *undo;
    size_t undo_count, undo_cap;
    bool in_chain;
    int64_t last_ts;
    int64_t next_expiry_ns; /* INT64_MIN: unknown, look it up */
    int64_t batch_now_ns;
    int64_t commit_seq; /* ledger_meta.commit_seq as of our last commit; -1 unknown */
    int64_t checked_ts; /* the last timestamp the invariant check saw (its own record) */
    bool halted;        /* an invariant failed: no batch is committed any more */
    ledger_stats wstats;
};

static uint64_t id_hash(ledger_id id) {
    uint64_t h = id.hi * 0x9E3779B97F4A7C15ULL ^ id.lo;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

static void cache_clear(ledger *l) {
    for (size_t i = 0; i < l->slot_count; i++) {
        sb_free(l->slots[i]);
        l->slots[i] = NULL;
    }
    l->cached = 0;
    l->dirty_count = 0;
    l->undo_count = 0;
}

static int cache_insert(ledger *l, cached_account *ca) {
    if ((l->cached + 1) * 2 > l->slot_count) {
        size_t count = l->slot_count ? l->slot_count * 2 : 1024;
        cached_account **slots = sb_calloc(count, sizeof *slots);
        if (!slots) return SB_ENOMEM;
        for (size_t i = 0; i < l->slot_count; i++) {
            cached_account *e = l->slots[i];
            if (!e) continue;
            size_t j = id_hash(e->a.id) & (count - 1);
            while (slots[j])
                j = (j + 1) & (count - 1);
            slots[j] = e;
        }
        sb_free(l->slots);
        l->slots = slots;
        l->slot_count = count;
    }
    size_t j = id_hash(ca->a.id) & (l->slot_count - 1);
    while (l->slots[j])
        j = (j + 1) & (l->slot_count - 1);
    l->slots[j] = ca;
    l->cached++;
    return SB_OK;
}

/* The cached account with this id, loading it from the store on a miss.
 * *out is NULL (and SB_OK returned) when there is no such account. */
static int cache_get(ledger *l, ledger_id id, cached_account **out) {
    *out = NULL;
    if (l->slot_count) {
        size_t j = id_hash(id) & (l->slot_count - 1);
        for (size_t probes = 0; probes < l->slot_count && l->slots[j]; probes++) {
            if (ledger_id_equal(l->slots[j]->a.id, id)) {
                *out = l->slots[j];
                return SB_OK;
            }
            j = (j + 1) & (l->slot_count - 1);
        }
    }
    uint8_t key[16];
    ledger__id_to_bytes(id, key);
    store_stmt *st;
    int result =
        store_query(l->db, &st, "SELECT " LEDGER__ACCOUNT_COLUMNS " FROM ledger_accounts WHERE id = ?", "b", key, 16);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_DONE) {
        store_stmt_done(st);
        return SB_OK;
    }
    if (result != STORE_ROW) {
        store_stmt_done(st);
        return result;
    }
    cached_account *ca = sb_calloc(1, sizeof *ca);
    if (!ca) {
        store_stmt_done(st);
        return SB_ENOMEM;
    }
    result = ledger__account_from_row(st, &ca->a, &ca->num);
    store_stmt_done(st);
    if (result == SB_OK) result = cache_insert(l, ca);
    if (result != SB_OK) {
        sb_free(ca);
        return result;
    }
    *out = ca;
    return SB_OK;
}

/* Remember the balances before a change (for chain rollback) and mark the
 * account for writing back at the end of the batch. */
static int touch(ledger *l, cached_account *ca) {
    if (l->in_chain) {
        if (l->undo_count == l->undo_cap) {
            size_t cap = l->undo_cap ? l->undo_cap * 2 : 64;
            undo_entry *grown = sb_realloc(l->undo, cap * sizeof *grown);
            if (!grown) return SB_ENOMEM;
            l->undo = grown;
            l->undo_cap = cap;
        }
        l->undo[l->undo_count++] =
            (undo_entry){ca, ca->a.debits_pending, ca->a.debits_posted, ca->a.credits_pending, ca->a.credits_posted};
    }
    if (!ca->dirty) {
        if (l->dirty_count == l->dirty_cap) {
            size_t cap = l->dirty_cap ? l->dirty_cap * 2 : 64;
            cached_account **grown = sb_realloc(l->dirty, cap * sizeof *grown);
            if (!grown) return SB_ENOMEM;
            l->dirty = grown;
            l->dirty_cap = cap;
        }
        l->dirty[l->dirty_count++] = ca;
        ca->dirty = true;
        ca->before_debits_pending = ca->a.debits_pending;
        ca->before_debits_posted = ca->a.debits_posted;
        ca->before_credits_pending = ca->a.credits_pending;
        ca->before_credits_posted = ca->a.credits_posted;
    }
    return SB_OK;
}

static void undo_chain(ledger *l) {
    for (size_t i = l->undo_count; i-- > 0;) {
        undo_entry *u = &l->undo[i];
        u->account->a.debits_pending = u->debits_pending;
        u->account->a.debits_posted = u->debits_posted;
        u->account->a.credits_pending = u->credits_pending;
        u->account->a.credits_posted = u->credits_posted;
    }
    l->undo_count = 0;
}

/* Does the row of ca hold exactly the cache's balances?  SB_ECORRUPT if not. */
static int read_back(ledger *l, const cached_account *ca) {
    store_stmt *st;
    int result = store_query(l->db, &st,
                             "SELECT debits_pending, debits_posted, credits_pending, credits_posted FROM "
                             "ledger_accounts WHERE num = ?",
                             "i", ca->num);
    if (result != SB_OK) return result;
    result = store_step(st);
    bool same = result == STORE_ROW && store_col_int64(st, 0) == ca->a.debits_pending &&
                store_col_int64(st, 1) == ca->a.debits_posted && store_col_int64(st, 2) == ca->a.credits_pending &&
                store_col_int64(st, 3) == ca->a.credits_posted;
    store_stmt_done(st);
    if (result != STORE_ROW && result != STORE_DONE) return result;
    if (same) return SB_OK;
    sb_log(SB_LOG_ERROR, "ledger.invariant", "account row %lld reads back other balances than were written",
           (long long)ca->num);
    return SB_ECORRUPT;
}

/* Write the balances of every touched account; each UPDATE must change
 * exactly its row.  Then read back up to SB_LEDGER_READBACK_ACCOUNTS_MAX of
 * them (a different slice each batch): the database must hold what the
 * cache says, in release builds too, at a bounded cost per batch (reading
 * every row back costs a third of the throughput of large batches). */
static int flush_dirty(ledger *l) {
    for (size_t i = 0; i < l->dirty_count; i++) {
        cached_account *ca = l->dirty[i];
        int result = store_exec(
            l->db,
            "UPDATE ledger_accounts SET debits_pending = ?, debits_posted = ?, credits_pending = ?, "
            "credits_posted = ? WHERE num = ?",
            "iiiii", ca->a.debits_pending, ca->a.debits_posted, ca->a.credits_pending, ca->a.credits_posted, ca->num);
        if (result != SB_OK) return result;
        if (store_changes(l->db) != 1) { /* the row vanished behind our back */
            sb_log(SB_LOG_ERROR, "ledger.corrupt", "account row %lld is missing", (long long)ca->num);
            return SB_ECORRUPT;
        }
    }
    size_t count = l->dirty_count < SB_LEDGER_READBACK_ACCOUNTS_MAX ? l->dirty_count : SB_LEDGER_READBACK_ACCOUNTS_MAX;
    size_t start = l->dirty_count ? (size_t)((uint64_t)l->wstats.batches % l->dirty_count) : 0;
    for (size_t k = 0; k < count; k++) {
        int result = read_back(l, l->dirty[(start + k) % l->dirty_count]);
        if (result != SB_OK) return result;
    }
    return SB_OK;
}

/* Tests only: apply the corruptions queued by ledger_test_corrupt_balance to
 * the accounts this batch touched, as a stray write to memory would. */
static void apply_test_corruptions(ledger *l) {
    if (atomic_load_explicit(&l->corruption_pending, memory_order_relaxed) == 0) return;
    pthread_mutex_lock(&l->mu);
    int kept = 0;
    for (int c = 0; c < l->corruption_count; c++) {
        test_corruption *tc = &l->corruptions[c];
        bool applied = false;
        for (size_t i = 0; i < l->dirty_count && !applied; i++) {
            if (!ledger_id_equal(l->dirty[i]->a.id, tc->account)) continue;
            l->dirty[i]->a.debits_posted += tc->debits_posted_delta;
            l->dirty[i]->a.credits_posted += tc->credits_posted_delta;
            applied = true;
        }
        if (!applied) l->corruptions[kept++] = *tc;
    }
    l->corruption_count = kept;
    atomic_store_explicit(&l->corruption_pending, kept, memory_order_relaxed);
    pthread_mutex_unlock(&l->mu);
}

/* The money invariants of a batch, checked in every build before COMMIT
 * (TigerBeetle checks its own on every commit): across the accounts the batch
 * touched, the change in debits equals the change in credits (pending and
 * posted apart); no balance is negative or breaks its account's flags.  The
 * timestamps' strict rise is checked as they are taken (check_timestamp).
 * SB_ECORRUPT with a log line naming the account if anything is off. */
static int check_batch_invariants(ledger *l) {
    __int128 debits_pending = 0, debits_posted = 0, credits_pending = 0, credits_posted = 0;
    for (size_t i = 0; i < l->dirty_count; i++) {
        const cached_account *ca = l->dirty[i];
        const ledger_account *a = &ca->a;
        debits_pending += (__int128)a->debits_pending - ca->before_debits_pending;
        debits_posted += (__int128)a->debits_posted - ca->before_debits_posted;
        credits_pending += (__int128)a->credits_pending - ca->before_credits_pending;
        credits_posted += (__int128)a->credits_posted - ca->before_credits_posted;
        const char *broken = NULL;
        if (a->debits_pending < 0 || a->debits_posted < 0 || a->credits_pending < 0 || a->credits_posted < 0)
            broken = "a negative balance";
        else if ((a->flags & LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS) &&
                 (__int128)a->debits_pending + a->debits_posted > a->credits_posted)
            broken = "debits above credits (debits_must_not_exceed_credits)";
        else if ((a->flags & LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS) &&
                 (__int128)a->credits_pending + a->credits_posted > a->debits_posted)
            broken = "credits above debits (credits_must_not_exceed_debits)";
        if (broken) {
            sb_log(SB_LOG_ERROR, "ledger.invariant", "account row %lld has %s; the batch is not committed",
                   (long long)ca->num, broken);
            return SB_ECORRUPT;
        }
    }
    if (debits_pending != credits_pending || debits_posted != credits_posted) {
        sb_log(SB_LOG_ERROR, "ledger.invariant",
               "debits do not equal credits across the %zu accounts of the batch (pending %lld vs %lld, posted %lld "
               "vs %lld); the batch is not committed",
               l->dirty_count, (long long)debits_pending, (long long)credits_pending, (long long)debits_posted,
               (long long)credits_posted);
        return SB_ECORRUPT;
    }
    return SB_OK;
}

/* Every timestamp the writer records must be above the last one recorded
 * (the journal is ordered by them); checked against the check's own record,
 * which check_timestamp_used advances once a row with it is written. */
static int check_timestamp(const ledger *l, int64_t ts) {
    if (ts > l->checked_ts) return SB_OK;
    sb_log(SB_LOG_ERROR, "ledger.invariant", "timestamp %lld does not rise above %lld; the batch is not committed",
           (long long)ts, (long long)l->checked_ts);
    return SB_ECORRUPT;
}

static void check_timestamp_used(ledger *l, int64_t ts) { l->checked_ts = ts; }

static void clear_dirty(ledger *l) {
    for (size_t i = 0; i < l->dirty_count; i++)
        l->dirty[i]->dirty = false;
    l->dirty_count = 0;
}

static int64_t next_timestamp(ledger *l) {
    int64_t ts = l->batch_now_ns;
    if (ts <= l->last_ts) ts = l->last_ts + 1;
    l->last_ts = ts;
    return ts;
}

/* ---- accounts ---- */

static bool currency_valid(const char c[4]) {
    for (int i = 0; i < 3; i++)
        if (c[i] < 'A' || c[i] > 'Z') return false;
    return c[3] == '\0';
}

static int create_account(ledger *l, const ledger_account *a, ledger_account_result *out) {
    if (ledger_id_is_zero(a->id)) return *out = LEDGER_ACCOUNT_ID_MUST_NOT_BE_ZERO, SB_OK;
    if (ledger_id_is_max(a->id)) return *out = LEDGER_ACCOUNT_ID_MUST_NOT_BE_INT_MAX, SB_OK;
    if (a->flags & ~LEDGER_ACCOUNT_FLAGS_ALL) return *out = LEDGER_ACCOUNT_RESERVED_FLAG, SB_OK;
    if (a->flags == LEDGER_ACCOUNT_FLAGS_ALL) return *out = LEDGER_ACCOUNT_FLAGS_ARE_MUTUALLY_EXCLUSIVE, SB_OK;
    if (!currency_valid(a->currency)) return *out = LEDGER_ACCOUNT_CURRENCY_INVALID, SB_OK;
    if (!ledger_account_kind_name(a->kind)) return *out = LEDGER_ACCOUNT_KIND_INVALID, SB_OK;
    if (a->code == 0) return *out = LEDGER_ACCOUNT_CODE_MUST_NOT_BE_ZERO, SB_OK;
    cached_account *e;
    int result = cache_get(l, a->id, &e);
    if (result != SB_OK) return result;
    if (e) {
        if (e->a.flags != a->flags)
            *out = LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_FLAGS;
        else if (memcmp(e->a.currency, a->currency, 4) != 0)
            *out = LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_CURRENCY;
        else if (e->a.kind != a->kind)
            *out = LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_KIND;
        else if (e->a.code != a->code)
            *out = LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_CODE;
        else if (!ledger_id_equal(e->a.user_data, a->user_data))
            *out = LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_USER_DATA;
        else
            *out = LEDGER_ACCOUNT_EXISTS;
        return SB_OK;
    }
    uint8_t id[16], user_data[16];
    ledger__id_to_bytes(a->id, id);
    ledger__id_to_bytes(a->user_data, user_data);
    int64_t ts = next_timestamp(l);
    if ((result = check_timestamp(l, ts)) != SB_OK) return result;
    result = store_exec(l->db,
                        "INSERT INTO ledger_accounts(id, user_data, currency, kind, flags, code, timestamp_ns) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        "bbtiiii", id, 16, user_data, 16, a->currency, (int64_t)a->kind, (int64_t)a->flags,
                        (int64_t)a->code, ts);
    if (result != SB_OK) return result;
    check_timestamp_used(l, ts);
    cached_account *ca = sb_calloc(1, sizeof *ca);
    if (!ca) return SB_ENOMEM;
    ca->a = *a;
    ca->a.debits_pending = ca->a.debits_posted = ca->a.credits_pending = ca->a.credits_posted = 0;
    ca->a.timestamp_ns = ts;
    ca->num = store_last_insert_id(l->db);
    result = cache_insert(l, ca);
    if (result != SB_OK) {
        sb_free(ca);
        return result;
    }
    *out = LEDGER_ACCOUNT_OK;
    return SB_OK;
}

/* ---- transfers ---- */

/* Checks that need nothing but the transfer itself, in precedence order. */
static ledger_result validate_transfer(const ledger_transfer *t) {
    if (ledger_id_is_zero(t->id)) return LEDGER_ID_MUST_NOT_BE_ZERO;
    if (ledger_id_is_max(t->id)) return LEDGER_ID_MUST_NOT_BE_INT_MAX;
    if (t->flags & ~LEDGER_TRANSFER_FLAGS_ALL) return LEDGER_RESERVED_FLAG;
    uint32_t kinds = t->flags & (LEDGER_TRANSFER_PENDING | LEDGER_TRANSFER_POST_PENDING | LEDGER_TRANSFER_VOID_PENDING);
    if (kinds & (kinds - 1)) return LEDGER_FLAGS_ARE_MUTUALLY_EXCLUSIVE;
    bool pv = (t->flags & (LEDGER_TRANSFER_POST_PENDING | LEDGER_TRANSFER_VOID_PENDING)) != 0;
    if (!pv && ledger_id_is_zero(t->debit_account_id)) return LEDGER_DEBIT_ACCOUNT_ID_MUST_NOT_BE_ZERO;
    if (ledger_id_is_max(t->debit_account_id)) return LEDGER_DEBIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX;
    if (!pv && ledger_id_is_zero(t->credit_account_id)) return LEDGER_CREDIT_ACCOUNT_ID_MUST_NOT_BE_ZERO;
    if (ledger_id_is_max(t->credit_account_id)) return LEDGER_CREDIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX;
    if (!ledger_id_is_zero(t->debit_account_id) && ledger_id_equal(t->debit_account_id, t->credit_account_id))
        return LEDGER_ACCOUNTS_MUST_BE_DIFFERENT;
    if (!pv) {
        if (!ledger_id_is_zero(t->pending_id)) return LEDGER_PENDING_ID_MUST_BE_ZERO;
    } else {
        if (ledger_id_is_zero(t->pending_id)) return LEDGER_PENDING_ID_MUST_NOT_BE_ZERO;
        if (ledger_id_is_max(t->pending_id)) return LEDGER_PENDING_ID_MUST_NOT_BE_INT_MAX;
        if (ledger_id_equal(t->pending_id, t->id)) return LEDGER_PENDING_ID_MUST_BE_DIFFERENT;
    }
    if (!(t->flags & LEDGER_TRANSFER_PENDING) && t->timeout_ms != 0)
        return LEDGER_TIMEOUT_RESERVED_FOR_PENDING_TRANSFER;
    if (t->timeout_ms < 0 || t->timeout_ms > SB_LEDGER_TIMEOUT_MS_MAX) return LEDGER_TIMEOUT_OUT_OF_RANGE;
    if (pv ? t->amount_minor < 0 : t->amount_minor <= 0) return LEDGER_AMOUNT_MUST_BE_POSITIVE;
    if (t->code == 0) return LEDGER_CODE_MUST_NOT_BE_ZERO;
    return LEDGER_OK;
}

/* The same id is recorded: compare field by field (resolved values). */
static ledger_result compare_existing(const ledger__transfer_row *e, const ledger_transfer *t, int64_t debit_num,
                                      int64_t credit_num, int64_t amount) {
    if (e->transfer.flags != t->flags) return LEDGER_EXISTS_WITH_DIFFERENT_FLAGS;
    if (e->debit_num != debit_num) return LEDGER_EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID;
    if (e->credit_num != credit_num) return LEDGER_EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID;
    if (!ledger_id_equal(e->transfer.pending_id, t->pending_id)) return LEDGER_EXISTS_WITH_DIFFERENT_PENDING_ID;
    if (e->transfer.amount_minor != amount) return LEDGER_EXISTS_WITH_DIFFERENT_AMOUNT;
    if (e->transfer.timeout_ms != t->timeout_ms) return LEDGER_EXISTS_WITH_DIFFERENT_TIMEOUT;
    if (e->transfer.code != t->code) return LEDGER_EXISTS_WITH_DIFFERENT_CODE;
    if (!ledger_id_equal(e->transfer.user_data, t->user_data)) return LEDGER_EXISTS_WITH_DIFFERENT_USER_DATA;
    return LEDGER_EXISTS;
}

/* If t->id is recorded, *out gets the exists code and SB_OK; SB_ENOTFOUND if not. */
static int check_exists(ledger *l, ledger_transfer *t, int64_t debit_num, int64_t credit_num, int64_t amount,
                        ledger_result *out) {
    ledger__transfer_row e;
    int result = ledger__find_transfer(l->db, t->id, &e);
    if (result != SB_OK) return result;
    *out = compare_existing(&e, t, debit_num, credit_num, amount);
    if (*out == LEDGER_EXISTS) t->timestamp_ns = e.transfer.timestamp_ns;
    return SB_OK;
}

static int insert_transfer(ledger *l, const ledger_transfer *t, int64_t ts, int64_t debit_num, int64_t credit_num,
                           int64_t amount, int state, int64_t expires_at_ns) {
    int result = check_timestamp(l, ts);
    if (result != SB_OK) return result;
    uint8_t id[16], pending_id[16], user_data[16];
    ledger__id_to_bytes(t->id, id);
    ledger__id_to_bytes(t->pending_id, pending_id);
    ledger__id_to_bytes(t->user_data, user_data);
    bool pv = (t->flags & (LEDGER_TRANSFER_POST_PENDING | LEDGER_TRANSFER_VOID_PENDING)) != 0;
    store_stmt *st;
    result =
        store_query(l->db, &st,
                    "INSERT INTO ledger_transfers(timestamp_ns, id, debit_account, credit_account, amount, "
                    "pending_id, user_data, timeout_ms, code, flags, state, expires_at_ns) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    "ibiiibbiiiii", ts, id, 16, debit_num, credit_num, amount, pv ? pending_id : NULL, 16, user_data,
                    16, t->timeout_ms, (int64_t)t->code, (int64_t)t->flags, (int64_t)state, expires_at_ns);
    if (result != SB_OK) return result;
    if (expires_at_ns == 0) result = store_bind_null(st, 12);
    if (result == SB_OK) result = store_step(st);
    store_stmt_done(st);
    if (result != STORE_DONE) return result;
    check_timestamp_used(l, ts);
    return SB_OK;
}

/* Balance checks of a single or pending transfer, in precedence order. */
static ledger_result check_balances(const cached_account *dr, const cached_account *cr, const ledger_transfer *t,
                                    int64_t ts, int64_t *expires_out) {
    int64_t amount = t->amount_minor, sum, debits, credits;
    bool pending = (t->flags & LEDGER_TRANSFER_PENDING) != 0;
    *expires_out = 0;
    if (pending) {
        if (sb_add_int64(dr->a.debits_pending, amount, &sum) != SB_OK) return LEDGER_OVERFLOWS_DEBITS_PENDING;
        if (sb_add_int64(cr->a.credits_pending, amount, &sum) != SB_OK) return LEDGER_OVERFLOWS_CREDITS_PENDING;
    } else {
        if (sb_add_int64(dr->a.debits_posted, amount, &sum) != SB_OK) return LEDGER_OVERFLOWS_DEBITS_POSTED;
        if (sb_add_int64(cr->a.credits_posted, amount, &sum) != SB_OK) return LEDGER_OVERFLOWS_CREDITS_POSTED;
    }
    if (sb_add_int64(dr->a.debits_pending, dr->a.debits_posted, &debits) != SB_OK ||
        sb_add_int64(debits, amount, &debits) != SB_OK)
        return LEDGER_OVERFLOWS_DEBITS;
    if (sb_add_int64(cr->a.credits_pending, cr->a.credits_posted, &credits) != SB_OK ||
        sb_add_int64(credits, amount, &credits) != SB_OK)
        return LEDGER_OVERFLOWS_CREDITS;
    if (pending && t->timeout_ms > 0) {
        int64_t timeout_ns;
        if (sb_mul_int64(t->timeout_ms, 1000000, &timeout_ns) != SB_OK ||
            sb_add_int64(ts, timeout_ns, expires_out) != SB_OK)
            return LEDGER_OVERFLOWS_TIMEOUT;
    }
    if ((dr->a.flags & LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS) && debits > dr->a.credits_posted)
        return LEDGER_EXCEEDS_CREDITS;
    if ((cr->a.flags & LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS) && credits > cr->a.debits_posted)
        return LEDGER_EXCEEDS_DEBITS;
    return LEDGER_OK;
}

static int apply_single(ledger *l, ledger_transfer *t, cached_account *dr, cached_account *cr, ledger_result *out) {
    int64_t ts = l->last_ts + 1 > l->batch_now_ns ? l->last_ts + 1 : l->batch_now_ns;
    int64_t expires = 0;
    ledger_result r = check_balances(dr, cr, t, ts, &expires);
    int result;
    if (r != LEDGER_OK) {
        /* exists comes before the balance checks: a retry is never refused. */
        result = check_exists(l, t, dr->num, cr->num, t->amount_minor, out);
        if (result == SB_ENOTFOUND) {
            *out = r;
            return SB_OK;
        }
        return result;
    }
    bool pending = (t->flags & LEDGER_TRANSFER_PENDING) != 0;
    result = insert_transfer(l, t, ts, dr->num, cr->num, t->amount_minor, pending ? LEDGER_STATE_PENDING : 0, expires);
    if (result == SB_EEXISTS) {
        result = check_exists(l, t, dr->num, cr->num, t->amount_minor, out);
        return result == SB_ENOTFOUND ? SB_EINTERNAL : result;
    }
    if (result != SB_OK) return result;
    l->last_ts = ts;
    if ((result = touch(l, dr)) != SB_OK || (result = touch(l, cr)) != SB_OK) return result;
    /* check_balances proved these sums fit. */
    if (pending) {
        dr->a.debits_pending += t->amount_minor;
        cr->a.credits_pending += t->amount_minor;
        if (expires && l->next_expiry_ns != INT64_MIN && expires < l->next_expiry_ns) l->next_expiry_ns = expires;
    } else {
        dr->a.debits_posted += t->amount_minor;
        cr->a.credits_posted += t->amount_minor;
    }
    t->timestamp_ns = ts;
    *out = LEDGER_OK;
    return SB_OK;
}

static int apply_post_or_void(ledger *l, ledger_transfer *t, cached_account *dr_given, cached_account *cr_given,
                              ledger_result *out) {
    ledger__transfer_row p;
    int result = ledger__find_transfer(l->db, t->pending_id, &p);
    if (result == SB_ENOTFOUND) return *out = LEDGER_PENDING_TRANSFER_NOT_FOUND, SB_OK;
    if (result != SB_OK) return result;
    if (!(p.transfer.flags & LEDGER_TRANSFER_PENDING)) return *out = LEDGER_PENDING_TRANSFER_NOT_PENDING, SB_OK;
    if (dr_given && dr_given->num != p.debit_num)
        return *out = LEDGER_PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID, SB_OK;
    if (cr_given && cr_given->num != p.credit_num)
        return *out = LEDGER_PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID, SB_OK;
    bool post = (t->flags & LEDGER_TRANSFER_POST_PENDING) != 0;
    int64_t amount = t->amount_minor == 0 ? p.transfer.amount_minor : t->amount_minor;
    if (post && amount > p.transfer.amount_minor) return *out = LEDGER_EXCEEDS_PENDING_TRANSFER_AMOUNT, SB_OK;
    if (!post && amount != p.transfer.amount_minor) return *out = LEDGER_PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT, SB_OK;
    if (p.state != LEDGER_STATE_PENDING) {
        result = check_exists(l, t, p.debit_num, p.credit_num, amount, out);
        if (result != SB_ENOTFOUND) return result;
        *out = p.state == LEDGER_STATE_POSTED   ? LEDGER_PENDING_TRANSFER_ALREADY_POSTED
               : p.state == LEDGER_STATE_VOIDED ? LEDGER_PENDING_TRANSFER_ALREADY_VOIDED
                                                : LEDGER_PENDING_TRANSFER_EXPIRED;
        return SB_OK;
    }
    cached_account *dr, *cr;
    if ((result = cache_get(l, p.transfer.debit_account_id, &dr)) != SB_OK) return result;
    if ((result = cache_get(l, p.transfer.credit_account_id, &cr)) != SB_OK) return result;
    if (!dr || !cr || dr->a.debits_pending < p.transfer.amount_minor ||
        cr->a.credits_pending < p.transfer.amount_minor) {
        sb_log(SB_LOG_ERROR, "ledger.corrupt", "pending balances do not hold a pending transfer");
        return SB_ECORRUPT;
    }
    int64_t dposted = dr->a.debits_posted, cposted = cr->a.credits_posted;
    if (post) {
        if (sb_add_int64(dposted, amount, &dposted) != SB_OK) {
            result = check_exists(l, t, p.debit_num, p.credit_num, amount, out);
            if (result == SB_ENOTFOUND) *out = LEDGER_OVERFLOWS_DEBITS_POSTED, result = SB_OK;
            return result;
        }
        if (sb_add_int64(cposted, amount, &cposted) != SB_OK) {
            result = check_exists(l, t, p.debit_num, p.credit_num, amount, out);
            if (result == SB_ENOTFOUND) *out = LEDGER_OVERFLOWS_CREDITS_POSTED, result = SB_OK;
            return result;
        }
    }
    int64_t ts = l->last_ts + 1 > l->batch_now_ns ? l->last_ts + 1 : l->batch_now_ns;
    result = insert_transfer(l, t, ts, p.debit_num, p.credit_num, amount, 0, 0);
    if (result == SB_EEXISTS) {
        result = check_exists(l, t, p.debit_num, p.credit_num, amount, out);
        return result == SB_ENOTFOUND ? SB_EINTERNAL : result;
    }
    if (result != SB_OK) return result;
    l->last_ts = ts;
    result = store_exec(l->db, "UPDATE ledger_transfers SET state = ? WHERE timestamp_ns = ?", "ii",
                        (int64_t)(post ? LEDGER_STATE_POSTED : LEDGER_STATE_VOIDED), p.transfer.timestamp_ns);
    if (result != SB_OK) return result;
    if ((result = touch(l, dr)) != SB_OK || (result = touch(l, cr)) != SB_OK) return result;
    dr->a.debits_pending -= p.transfer.amount_minor;
    cr->a.credits_pending -= p.transfer.amount_minor;
    dr->a.debits_posted = dposted;
    cr->a.credits_posted = cposted;
    t->timestamp_ns = ts;
    *out = LEDGER_OK;
    return SB_OK;
}

/* Apply one transfer.  Store errors are returned (the batch fails);
 * rejections go to *out. */
static int apply_transfer(ledger *l, ledger_transfer *t, ledger_result *out) {
    t->timestamp_ns = 0;
    ledger_result r = validate_transfer(t);
    if (r != LEDGER_OK) return *out = r, SB_OK;
    bool pv = (t->flags & (LEDGER_TRANSFER_POST_PENDING | LEDGER_TRANSFER_VOID_PENDING)) != 0;
    cached_account *dr = NULL, *cr = NULL;
    int result;
    if (!ledger_id_is_zero(t->debit_account_id)) {
        if ((result = cache_get(l, t->debit_account_id, &dr)) != SB_OK) return result;
        if (!dr) return *out = LEDGER_DEBIT_ACCOUNT_NOT_FOUND, SB_OK;
    }
    if (!ledger_id_is_zero(t->credit_account_id)) {
        if ((result = cache_get(l, t->credit_account_id, &cr)) != SB_OK) return result;
        if (!cr) return *out = LEDGER_CREDIT_ACCOUNT_NOT_FOUND, SB_OK;
    }
    if (dr && cr && memcmp(dr->a.currency, cr->a.currency, 4) != 0)
        return *out = LEDGER_ACCOUNTS_MUST_HAVE_THE_SAME_CURRENCY, SB_OK;
    if (pv) return apply_post_or_void(l, t, dr, cr, out);
    return apply_single(l, t, dr, cr, out);
}

static int exec_simple(ledger *l, const char *sql) { return store_exec(l->db, sql, NULL); }

static int load_last_timestamp(ledger *l) {
    int result = store_query_int64(l->db, &l->last_ts,
                                   "SELECT MAX(COALESCE((SELECT MAX(timestamp_ns) FROM ledger_transfers), 0), "
                                   "COALESCE((SELECT MAX(timestamp_ns) FROM ledger_accounts), 0))",
                                   NULL);
    if (result == SB_OK) l->checked_ts = l->last_ts; /* the committed journal is where the check starts */
    return result;
}

/* At the start of a transaction: if another writer committed since our last
 * commit, our cache and timestamps are stale: drop and reload them. */
static int check_other_writers(ledger *l) {
    int64_t seq = 0;
    int result = store_query_int64(l->db, &seq, "SELECT commit_seq FROM ledger_meta WHERE id = 1", NULL);
    if (result != SB_OK) return result;
    if (seq == l->commit_seq) return SB_OK;
    cache_clear(l);
    l->next_expiry_ns = INT64_MIN;
    l->commit_seq = seq;
    return load_last_timestamp(l);
}

/* Check the batch's invariants, write the balances, count the commit in
 * ledger_meta, COMMIT.  A failed invariant is SB_ECORRUPT: the caller rolls
 * back and the writer halts (see run_batch). */
static int flush_and_commit(ledger *l) {
    apply_test_corruptions(l);
    int result = check_batch_invariants(l);
    if (result == SB_OK) result = flush_dirty(l);
    /* Every change to balances or pending states touches an account, so an
     * untouched batch (an idle expiry check that found nothing, new accounts
     * only) needs no count: two idle writers must not wake each other. */
    bool changed = l->dirty_count > 0;
    if (result == SB_OK && changed)
        result = store_exec(l->db, "UPDATE ledger_meta SET commit_seq = commit_seq + 1 WHERE id = 1", NULL);
    if (result == SB_OK) result = store_commit(l->db);
    if (result == SB_OK && changed) l->commit_seq++;
    return result;
}

/* Apply transfers[0..n) honouring linked chains. */
static int apply_transfers(ledger *l, ledger_transfer *ts, ledger_result *results, size_t n, bool *need_commit_each) {
    size_t i = 0;
    while (i < n) {
        size_t end = i;
        while (end < n && (ts[end].flags & LEDGER_TRANSFER_LINKED))
            end++;
        bool open = end == n;
        if (open) end = n - 1;
        int result;
        if (open) {
            for (size_t k = i; k <= end; k++) {
                ts[k].timestamp_ns = 0;
                results[k] = k == end ? LEDGER_LINKED_EVENT_CHAIN_OPEN : LEDGER_LINKED_EVENT_FAILED;
            }
        } else if (i == end) {
            result = apply_transfer(l, &ts[i], &results[i]);
            if (result != SB_OK) return result;
        } else {
            if ((result = exec_simple(l, "SAVEPOINT ledger_chain")) != SB_OK) return result;
            l->in_chain = true;
            l->undo_count = 0;
            size_t failed = SIZE_MAX;
            for (size_t k = i; k <= end; k++) {
                result = apply_transfer(l, &ts[k], &results[k]);
                if (result != SB_OK) {
                    l->in_chain = false;
                    return result;
                }
                if (results[k] != LEDGER_OK && results[k] != LEDGER_EXISTS) {
                    failed = k;
                    break;
                }
            }
            l->in_chain = false;
            if (failed != SIZE_MAX) {
                undo_chain(l);
                for (size_t k = i; k <= end; k++) {
                    if (k == failed) continue;
                    ts[k].timestamp_ns = 0;
                    results[k] = LEDGER_LINKED_EVENT_FAILED;
                }
                if ((result = exec_simple(l, "ROLLBACK TO ledger_chain")) != SB_OK) return result;
            }
            l->undo_count = 0;
            if ((result = exec_simple(l, "RELEASE ledger_chain")) != SB_OK) return result;
        }
        i = end + 1;
        if (*need_commit_each) {
            /* Baseline mode: one transaction per transfer (or chain). */
            if ((result = flush_and_commit(l)) != SB_OK) return result;
            clear_dirty(l);
            if ((result = store_begin(l->db)) != SB_OK) return result;
            if ((result = check_other_writers(l)) != SB_OK) return result;
        }
    }
    return SB_OK;
}

/* ---- expiry ---- */

typedef struct {
    int64_t timestamp_ns;
    int64_t amount;
    ledger_id debit, credit;
} expiring;

static int expire_due(ledger *l) {
    int64_t now = l->batch_now_ns;
    int result;
    if (l->next_expiry_ns == INT64_MIN) {
        int64_t next = INT64_MAX;
        result = store_query_int64(l->db, &next,
                                   "SELECT COALESCE(MIN(expires_at_ns), 9223372036854775807) FROM ledger_transfers "
                                   "WHERE state = 1 AND expires_at_ns IS NOT NULL",
                                   NULL);
        if (result != SB_OK) return result;
        l->next_expiry_ns = next;
    }
    if (l->next_expiry_ns > now) return SB_OK;
    expiring *list = sb_malloc(SB_LEDGER_EXPIRE_PER_BATCH_MAX * sizeof *list);
    if (!list) return SB_ENOMEM;
    size_t count = 0;
    store_stmt *st;
    result = store_query(l->db, &st,
                         "SELECT t.timestamp_ns, t.amount, da.id, ca.id FROM ledger_transfers t "
                         "JOIN ledger_accounts da ON da.num = t.debit_account "
                         "JOIN ledger_accounts ca ON ca.num = t.credit_account "
                         "WHERE t.state = 1 AND t.expires_at_ns IS NOT NULL AND t.expires_at_ns <= ? "
                         "ORDER BY t.expires_at_ns, t.timestamp_ns LIMIT ?",
                         "ii", now, (int64_t)SB_LEDGER_EXPIRE_PER_BATCH_MAX);
    if (result != SB_OK) {
        sb_free(list);
        return result;
    }
    while ((result = store_step(st)) == STORE_ROW && count < SB_LEDGER_EXPIRE_PER_BATCH_MAX) {
        expiring *e = &list[count];
        e->timestamp_ns = store_col_int64(st, 0);
        e->amount = store_col_int64(st, 1);
        if ((result = ledger__id_from_bytes(store_col_blob(st, 2), store_col_bytes(st, 2), &e->debit)) != SB_OK) break;
        if ((result = ledger__id_from_bytes(store_col_blob(st, 3), store_col_bytes(st, 3), &e->credit)) != SB_OK) break;
        count++;
    }
    store_stmt_done(st);
    if (result != STORE_DONE && result != STORE_ROW) {
        sb_free(list);
        return result;
    }
    result = SB_OK;
    for (size_t i = 0; i < count && result == SB_OK; i++) {
        cached_account *dr, *cr;
        if ((result = cache_get(l, list[i].debit, &dr)) != SB_OK) break;
        if ((result = cache_get(l, list[i].credit, &cr)) != SB_OK) break;
        if (!dr || !cr || dr->a.debits_pending < list[i].amount || cr->a.credits_pending < list[i].amount) {
            result = SB_ECORRUPT;
            break;
        }
        result = store_exec(l->db, "UPDATE ledger_transfers SET state = 4 WHERE timestamp_ns = ?", "i",
                            list[i].timestamp_ns);
        if (result == SB_OK) result = touch(l, dr);
        if (result == SB_OK) result = touch(l, cr);
        if (result != SB_OK) break;
        dr->a.debits_pending -= list[i].amount;
        cr->a.credits_pending -= list[i].amount;
        l->wstats.expired++;
    }
    sb_free(list);
    l->next_expiry_ns = INT64_MIN; /* look again next batch */
    return result;
}

/* ---- the writer thread ---- */

static int64_t wall_clock_ns(void *arg) {
    (void)arg;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

const int64_t ledger_batch_size_bounds[LEDGER_BATCH_SIZE_BUCKETS - 1] = {1, 4, 16, 64, 256, 1024, 8192};
const int64_t ledger_commit_latency_bounds_ns[LEDGER_COMMIT_LATENCY_BUCKETS - 1] = {
    100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000, 25000000, 50000000, 100000000, 250000000, 1000000000};

static int64_t monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int bucket_of(int64_t value, const int64_t *bounds, int count) {
    int b = 0;
    while (b < count - 1 && value > bounds[b])
        b++;
    return b;
}

/* Count a committed batch: its size, its latency, its transfers by result. */
static void count_batch(ledger *l, request *first, request *stop, int64_t started_ns) {
    int64_t items = 0;
    for (request *r = first; r != stop; r = r->next) {
        items += (int64_t)r->count;
        if (r->type != REQ_TRANSFERS) continue;
        for (size_t i = 0; i < r->count; i++)
            if ((unsigned)r->results[i] < LEDGER_RESULT_COUNT) l->wstats.results[r->results[i]]++;
    }
    int64_t latency = monotonic_ns() - started_ns;
    l->wstats.batches++;
    l->wstats.batch_size_buckets[bucket_of(items, ledger_batch_size_bounds, LEDGER_BATCH_SIZE_BUCKETS)]++;
    l->wstats.batch_size_sum += items;
    l->wstats
        .commit_latency_buckets[bucket_of(latency, ledger_commit_latency_bounds_ns, LEDGER_COMMIT_LATENCY_BUCKETS)]++;
    l->wstats.commit_latency_sum_ns += latency;
}

/* Run one batch: the requests from `first` up to (not including) `stop`.
 * Once a money invariant has failed (SB_ECORRUPT) the writer is halted:
 * every later batch fails at once, nothing more is written. */
static int run_batch(ledger *l, request *first, request *stop) {
    if (l->halted) return SB_ECORRUPT;
    int64_t started_ns = monotonic_ns();
    if (l->cached > SB_LEDGER_CACHE_ACCOUNTS_MAX) cache_clear(l);
    l->batch_now_ns = l->clock_ns(l->clock_arg);
    int result = store_begin(l->db);
    if (result != SB_OK) return result;
    result = check_other_writers(l);
    if (result == SB_OK) result = expire_due(l);
    bool each = l->per_transfer;
    for (request *r = first; r != stop && result == SB_OK; r = r->next) {
        if (r->type == REQ_ACCOUNTS) {
            for (size_t i = 0; i < r->count && result == SB_OK; i++)
                result = create_account(l, &r->accounts[i], &r->account_results[i]);
        } else {
            result = apply_transfers(l, r->transfers, r->results, r->count, &each);
            l->wstats.transfers += (int64_t)r->count;
        }
    }
    if (result == SB_OK) result = flush_and_commit(l);
    if (result != SB_OK) {
        sb_log(SB_LOG_ERROR, "ledger.batch", "batch failed and was rolled back: %s (%s)", sb_strerror(result),
               store_errmsg(l->db));
        store_rollback(l->db);
        cache_clear(l);
        l->next_expiry_ns = INT64_MIN;
        l->commit_seq = -1; /* reload timestamps too */
        l->wstats.batches_failed++;
        if (result == SB_ECORRUPT) {
            l->halted = true;
            l->wstats.halted = true;
            sb_log(SB_LOG_ERROR, "ledger.halt",
                   "the ledger writer has stopped: a money invariant failed; nothing of the batch was committed "
                   "and every later submission is refused; run `socialbank ledger verify` and restart");
        }
        return result;
    }
    clear_dirty(l);
    count_batch(l, first, stop, started_ns);
    return SB_OK;
}

static void *writer_main(void *arg) {
    ledger *l = arg;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        if (!l->head) {
            if (l->closing) break;
            /* Idle: wake up now and then to expire pending transfers. */
            struct timespec deadline;
            clock_gettime(CLOCK_REALTIME, &deadline);
            deadline.tv_sec += SB_LEDGER_EXPIRY_POLL_MS / 1000;
            int wait = pthread_cond_timedwait(&l->work_cv, &l->mu, &deadline);
            if (wait != 0 && !l->head && !l->closing) {
                pthread_mutex_unlock(&l->mu);
                int64_t now = l->clock_ns(l->clock_arg);
                if (!l->halted && (l->next_expiry_ns == INT64_MIN || l->next_expiry_ns <= now)) {
                    if (run_batch(l, NULL, NULL) != SB_OK) sb_log(SB_LOG_WARN, "ledger.expire", "expiry batch failed");
                }
                pthread_mutex_lock(&l->mu);
                l->stats = l->wstats;
            }
            continue;
        }
        /* Take every waiting submission that fits one commit. */
        request *first = l->head, *stop = first->next;
        size_t total = first->count;
        while (stop && total + stop->count <= SB_LEDGER_COMMIT_MAX) {
            total += stop->count;
            stop = stop->next;
        }
        l->head = stop;
        if (!stop) l->tail = NULL;
        l->queued -= total;
        pthread_mutex_unlock(&l->mu);

        int status = run_batch(l, first, stop);

        pthread_mutex_lock(&l->mu);
        l->stats = l->wstats;
        for (request *r = first; r != stop;) {
            request *next = r->next; /* r may vanish once done is seen */
            r->status = status;
            r->done = true;
            pthread_cond_signal(&r->done_cv);
            r = next;
        }
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

int ledger_open(const ledger_options *opts, ledger **out) {
    *out = NULL;
    if (!opts || !opts->location) return SB_EINVAL;
    ledger *l = sb_calloc(1, sizeof *l);
    if (!l) return SB_ENOMEM;
    store_options so = {.durable = 1, .read_only = 0, .cache_kib = SB_LEDGER_WRITER_CACHE_KIB};
    int result = store_open(opts->location, &so, &l->db);
    if (result != SB_OK) {
        sb_free(l);
        return result;
    }
    result = load_last_timestamp(l);
    if (result != SB_OK) {
        sb_log(SB_LOG_ERROR, "ledger.open", "no ledger tables (run `socialbank migrate`): %s", store_errmsg(l->db));
        store_close(l->db);
        sb_free(l);
        return result == SB_EIO || result == SB_EINTERNAL ? SB_EINVAL : result;
    }
    l->commit_seq = -1; /* unknown: the first batch loads it */
    l->next_expiry_ns = INT64_MIN;
    l->clock_ns = opts->clock_ns ? opts->clock_ns : wall_clock_ns;
    l->clock_arg = opts->clock_arg;
    l->per_transfer = opts->transaction_per_transfer;
    l->queue_max = opts->queue_transfers_max > 0 ? (size_t)opts->queue_transfers_max : SB_LEDGER_QUEUE_TRANSFERS_MAX;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->work_cv, NULL);
    if (pthread_create(&l->thread, NULL, writer_main, l) != 0) {
        pthread_mutex_destroy(&l->mu);
        pthread_cond_destroy(&l->work_cv);
        store_close(l->db);
        sb_free(l);
        return SB_EIO;
    }
    *out = l;
    return SB_OK;
}

void ledger_close(ledger *l) {
    if (!l) return;
    pthread_mutex_lock(&l->mu);
    l->closing = true;
    pthread_cond_signal(&l->work_cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    cache_clear(l);
    sb_free(l->slots);
    sb_free(l->dirty);
    sb_free(l->undo);
    store_close(l->db);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->work_cv);
    sb_free(l);
}

static int submit(ledger *l, request *req) {
    if (req->count == 0) return SB_EINVAL;
    if (req->count > SB_LEDGER_SUBMIT_MAX || req->count > l->queue_max) return SB_ELIMIT;
    pthread_mutex_lock(&l->mu);
    if (l->closing) {
        pthread_mutex_unlock(&l->mu);
        return SB_ECLOSED;
    }
    if (l->stats.halted) { /* refused at the door: the writer will not commit again */
        pthread_mutex_unlock(&l->mu);
        return SB_ECORRUPT;
    }
    if (l->queued + req->count > l->queue_max) {
        pthread_mutex_unlock(&l->mu);
        return SB_EBUSY;
    }
    if (l->tail) {
        l->tail->next = req;
    } else {
        l->head = req;
    }
    l->tail = req;
    l->queued += req->count;
    pthread_cond_init(&req->done_cv, NULL);
    pthread_cond_signal(&l->work_cv);
    while (!req->done)
        pthread_cond_wait(&req->done_cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
    pthread_cond_destroy(&req->done_cv);
    return req->status;
}

int ledger_create_accounts(ledger *l, const ledger_account *accounts, size_t count, ledger_account_result *results) {
    request req = {.type = REQ_ACCOUNTS, .count = count, .accounts = accounts, .account_results = results};
    return submit(l, &req);
}

int ledger_submit_transfers(ledger *l, ledger_transfer *transfers, size_t count, ledger_result *results) {
    request req = {.type = REQ_TRANSFERS, .count = count, .transfers = transfers, .results = results};
    return submit(l, &req);
}

void ledger_get_stats(ledger *l, ledger_stats *out) {
    pthread_mutex_lock(&l->mu);
    *out = l->stats;
    out->queued = (int64_t)l->queued;
    pthread_mutex_unlock(&l->mu);
}

int ledger_test_corrupt_balance(ledger *l, ledger_id account, int64_t debits_posted_delta,
                                int64_t credits_posted_delta) {
    pthread_mutex_lock(&l->mu);
    if (l->corruption_count == TEST_CORRUPTIONS_MAX) {
        pthread_mutex_unlock(&l->mu);
        return SB_ELIMIT;
    }
    l->corruptions[l->corruption_count++] = (test_corruption){account, debits_posted_delta, credits_posted_delta};
    atomic_store_explicit(&l->corruption_pending, l->corruption_count, memory_order_relaxed);
    pthread_mutex_unlock(&l->mu);
    return SB_OK;
}
