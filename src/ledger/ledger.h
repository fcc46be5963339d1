/*
 * ledger.h - the double-entry ledger under every payment (TigerBeetle is the
 * model): accounts with debits and credits only, transfers with client-chosen
 * 128-bit ids, two-phase (pending) transfers, linked batches, and group commit.
 *
 * Identity.  Accounts and transfers are named by a 128-bit id chosen by the
 * client (ledger_id; 32 hex digits in text APIs).  Internally an account also
 * has a small integer row number that the journal refers to; it never leaves
 * this module.  Submitting a transfer whose id is already recorded with the
 * same fields gives LEDGER_EXISTS and changes nothing: that is how clients
 * retry safely.  The same id with other fields gives an
 * LEDGER_EXISTS_WITH_DIFFERENT_* code.  Only successful transfers are recorded:
 * a rejected transfer leaves no trace, so retrying it is evaluated afresh.
 *
 * Rejections are data, not process errors: ledger_submit_transfers returns
 * SB_OK when the batch was processed and durable, and one ledger_result per
 * transfer.  When a transfer breaks several rules the FIRST code in the
 * documented order of enum ledger_result is reported (the order is part of
 * the contract and tested).
 *
 * Balances.  Each account carries debits_pending, debits_posted,
 * credits_pending, credits_posted (int64 minor units).  The journal is the
 * transfers table itself: posted = sum of single and post_pending transfers,
 * pending = sum of pending transfers still pending.  `ledger_verify`
 * recomputes every balance from the journal.  Every sum is overflow-checked.
 *
 * Threads and durability.  One writer thread owns a durable store connection
 * (synchronous=FULL) and applies queued submissions in batches inside one
 * SQLite transaction (group commit).  A caller of ledger_submit_* blocks until
 * the COMMIT holding its submission has returned, so an SB_OK answer means the
 * transfers are on disk.  Callers may be on any thread.  Readers
 * (ledger_lookup_*, ledger_verify) take their own store connection (store
 * connections are per thread) and never block the writer (WAL).
 *
 * For HTTP routes: ids as hex via ledger_id_parse/format, names of results via
 * ledger_result_name, kinds via ledger_account_kind_parse/name; a route decodes
 * JSON into ledger_transfer, calls ledger_submit_transfers and encodes the
 * results.  Nothing else is needed.
 */
#ifndef SB_LEDGER_H
#define SB_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/core.h"
#include "store/store.h"

/* ---- ids ---------------------------------------------------------------- */
typedef struct {
    uint64_t hi;
    uint64_t lo;
} ledger_id;

#define LEDGER_ID_HEX_BYTES 33 /* 32 hex digits and a NUL */

/* Parse 1..32 hex digits (either case, no prefix) into *out.  SB_EINVAL for
 * anything else (empty, too long, non-hex). */
int ledger_id_parse(const char *text, size_t len, ledger_id *out) SB_MUST_CHECK;
/* Format as exactly 32 lowercase hex digits. */
void ledger_id_format(ledger_id id, char out[LEDGER_ID_HEX_BYTES]);
bool ledger_id_is_zero(ledger_id id);
bool ledger_id_is_max(ledger_id id); /* all 128 bits set: reserved */
bool ledger_id_equal(ledger_id a, ledger_id b);
ledger_id ledger_id_from_u64(uint64_t lo);
/* A fresh random id (libsodium; sb_crypto_init must have run). */
ledger_id ledger_id_random(void);

/* ---- accounts ----------------------------------------------------------- */
typedef enum {
    LEDGER_KIND_CUSTOMER_WALLET = 1,
    LEDGER_KIND_BANK_SETTLEMENT = 2,
    LEDGER_KIND_FEES = 3,
    LEDGER_KIND_SUSPENSE = 4,
    LEDGER_KIND_EXTERNAL_CARD_SWITCH = 5,
    LEDGER_KIND_EXTERNAL_BILLER = 6,
    LEDGER_KIND_EXTERNAL_OPERATOR = 7,
} ledger_account_kind;
#define LEDGER_KIND_MAX 7

/* "customer_wallet", ... or NULL for an unknown value. */
const char *ledger_account_kind_name(int kind);
int ledger_account_kind_parse(const char *text, ledger_account_kind *out) SB_MUST_CHECK;

enum {
    /* debits_pending + debits_posted <= credits_posted (a wallet cannot go below zero). */
    LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS = 1u << 0,
    /* credits_pending + credits_posted <= debits_posted. */
    LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS = 1u << 1,
};
#define LEDGER_ACCOUNT_FLAGS_ALL 3u

typedef struct {
    ledger_id id;        /* client-chosen, not zero, not all ones */
    ledger_id user_data; /* free for the client (e.g. the owner's customer id) */
    char currency[4];    /* ISO 4217 code, three capital letters, NUL */
    int kind;            /* ledger_account_kind */
    uint32_t flags;      /* LEDGER_ACCOUNT_* */
    uint32_t code;       /* client's category of account; not zero */
    /* Set by the ledger (ignored on create). */
    int64_t debits_pending;
    int64_t debits_posted;
    int64_t credits_pending;
    int64_t credits_posted;
    int64_t timestamp_ns;
} ledger_account;

/* Results of ledger_create_accounts, in precedence order. */
typedef enum {
    LEDGER_ACCOUNT_OK = 0,
    LEDGER_ACCOUNT_ID_MUST_NOT_BE_ZERO,
    LEDGER_ACCOUNT_ID_MUST_NOT_BE_INT_MAX,
    LEDGER_ACCOUNT_RESERVED_FLAG,
    LEDGER_ACCOUNT_FLAGS_ARE_MUTUALLY_EXCLUSIVE,
    LEDGER_ACCOUNT_CURRENCY_INVALID,
    LEDGER_ACCOUNT_KIND_INVALID,
    LEDGER_ACCOUNT_CODE_MUST_NOT_BE_ZERO,
    LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_FLAGS,
    LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_CURRENCY,
    LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_KIND,
    LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_CODE,
    LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_USER_DATA,
    LEDGER_ACCOUNT_EXISTS,
    LEDGER_ACCOUNT_RESULT_COUNT
} ledger_account_result;
const char *ledger_account_result_name(int result);

/* ---- transfers ---------------------------------------------------------- */
enum {
    /* Linked to the next transfer of the same submission: the chain ends at
     * the first transfer without this flag; all of it succeeds or none.  The
     * failing member reports why, the others linked_event_failed.  A member
     * answering exists counts as success, so a retried chain answers exists
     * for each member and changes nothing. */
    LEDGER_TRANSFER_LINKED = 1u << 0,
    /* Reserve: moves amount to the pending balances until posted, voided or
     * expired (timeout_ms > 0 makes it expire). */
    LEDGER_TRANSFER_PENDING = 1u << 1,
    /* Post the pending transfer pending_id, for amount (0 = its whole
     * amount; less posts less and releases the rest). */
    LEDGER_TRANSFER_POST_PENDING = 1u << 2,
    /* Void the pending transfer pending_id (amount 0 or its amount). */
    LEDGER_TRANSFER_VOID_PENDING = 1u << 3,
};
#define LEDGER_TRANSFER_FLAGS_ALL 15u

typedef struct {
    ledger_id id;                /* client-chosen, not zero, not all ones */
    ledger_id debit_account_id;  /* for post/void: zero (taken from the pending transfer) or equal to it */
    ledger_id credit_account_id; /* idem */
    ledger_id pending_id;        /* post/void only: the pending transfer */
    ledger_id user_data;         /* the client's reference (e.g. a payment id) */
    int64_t amount_minor;        /* > 0; post/void: >= 0, 0 meaning the pending amount */
    int64_t timeout_ms;          /* pending only: 0 = never expires */
    uint32_t code;               /* the client's reason code; not zero */
    uint32_t flags;              /* LEDGER_TRANSFER_* */
    /* Set by the ledger: when it was recorded (ns since the epoch, unique and
     * strictly rising).  Filled in on LEDGER_OK and LEDGER_EXISTS. */
    int64_t timestamp_ns;
} ledger_transfer;

/* Results of a transfer, in PRECEDENCE ORDER: when several apply, the
 * first one listed is reported.  The names (ledger_result_name) are the
 * lowercase enum names without the prefix, e.g. "exceeds_credits". */
typedef enum {
    LEDGER_OK = 0,
    LEDGER_LINKED_EVENT_FAILED,     /* another transfer of its chain failed */
    LEDGER_LINKED_EVENT_CHAIN_OPEN, /* the last transfer of a submission has LINKED */
    LEDGER_ID_MUST_NOT_BE_ZERO,
    LEDGER_ID_MUST_NOT_BE_INT_MAX,
    LEDGER_RESERVED_FLAG,
    LEDGER_FLAGS_ARE_MUTUALLY_EXCLUSIVE, /* more than one of pending, post, void */
    LEDGER_DEBIT_ACCOUNT_ID_MUST_NOT_BE_ZERO,
    LEDGER_DEBIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX,
    LEDGER_CREDIT_ACCOUNT_ID_MUST_NOT_BE_ZERO,
    LEDGER_CREDIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX,
    LEDGER_ACCOUNTS_MUST_BE_DIFFERENT,
    LEDGER_PENDING_ID_MUST_BE_ZERO,
    LEDGER_PENDING_ID_MUST_NOT_BE_ZERO,
    LEDGER_PENDING_ID_MUST_NOT_BE_INT_MAX,
    LEDGER_PENDING_ID_MUST_BE_DIFFERENT,
    LEDGER_TIMEOUT_RESERVED_FOR_PENDING_TRANSFER,
    LEDGER_TIMEOUT_OUT_OF_RANGE, /* negative or above SB_LEDGER_TIMEOUT_MS_MAX */
    LEDGER_AMOUNT_MUST_BE_POSITIVE,
    LEDGER_CODE_MUST_NOT_BE_ZERO,
    LEDGER_DEBIT_ACCOUNT_NOT_FOUND,
    LEDGER_CREDIT_ACCOUNT_NOT_FOUND,
    LEDGER_ACCOUNTS_MUST_HAVE_THE_SAME_CURRENCY,
    LEDGER_PENDING_TRANSFER_NOT_FOUND,
    LEDGER_PENDING_TRANSFER_NOT_PENDING,
    LEDGER_PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID,
    LEDGER_PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID,
    LEDGER_EXCEEDS_PENDING_TRANSFER_AMOUNT,
    LEDGER_PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT, /* void for another amount */
    LEDGER_EXISTS_WITH_DIFFERENT_FLAGS,
    LEDGER_EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID,
    LEDGER_EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID,
    LEDGER_EXISTS_WITH_DIFFERENT_PENDING_ID,
    LEDGER_EXISTS_WITH_DIFFERENT_AMOUNT,
    LEDGER_EXISTS_WITH_DIFFERENT_TIMEOUT,
    LEDGER_EXISTS_WITH_DIFFERENT_CODE,
    LEDGER_EXISTS_WITH_DIFFERENT_USER_DATA,
    LEDGER_EXISTS,
    LEDGER_PENDING_TRANSFER_ALREADY_POSTED,
    LEDGER_PENDING_TRANSFER_ALREADY_VOIDED,
    LEDGER_PENDING_TRANSFER_EXPIRED,
    LEDGER_OVERFLOWS_DEBITS_PENDING,
    LEDGER_OVERFLOWS_CREDITS_PENDING,
    LEDGER_OVERFLOWS_DEBITS_POSTED,
    LEDGER_OVERFLOWS_CREDITS_POSTED,
    LEDGER_OVERFLOWS_DEBITS,
    LEDGER_OVERFLOWS_CREDITS,
    LEDGER_OVERFLOWS_TIMEOUT,
    LEDGER_EXCEEDS_CREDITS, /* debit account has debits_must_not_exceed_credits */
    LEDGER_EXCEEDS_DEBITS,  /* credit account has credits_must_not_exceed_debits */
    LEDGER_RESULT_COUNT
} ledger_result;
const char *ledger_result_name(int result);

/* State of a recorded pending transfer. */
typedef enum {
    LEDGER_STATE_NONE = 0, /* not a pending transfer */
    LEDGER_STATE_PENDING = 1,
    LEDGER_STATE_POSTED = 2,
    LEDGER_STATE_VOIDED = 3,
    LEDGER_STATE_EXPIRED = 4,
} ledger_transfer_state;

/* ---- the writer ----------------------------------------------------------- */
typedef struct ledger ledger;

typedef struct {
    /* The store location (see store_open); the schema must be migrated. */
    const char *location;
    /* Clock in ns since the epoch for timestamps and expiry; NULL = wall
     * clock.  Tests pass their own to expire transfers deterministically. */
    int64_t (*clock_ns)(void *arg);
    void *clock_arg;
    /* Transfers waiting in the queue at most (0 = SB_LEDGER_QUEUE_TRANSFERS_MAX).
     * A submission larger than this can never be queued: SB_ELIMIT. */
    int queue_transfers_max;
    /* Benchmark baseline: commit after every single transfer (linked chain)
     * instead of grouping, with the same schema and durability. */
    bool transaction_per_transfer;
} ledger_options;

/* Open the ledger and start its writer thread with its own durable store
 * connection.  SB_EINVAL if the schema lacks the ledger tables, SB_EIO and
 * others from store_open.  On success *out belongs to the caller, who
 * ledger_close()s it. */
int ledger_open(const ledger_options *opts, ledger **out) SB_MUST_CHECK;
/* Stop accepting work, finish what is queued, stop the writer, free.
 * NULL is allowed.  Callers must not be inside ledger_submit_* any more. */
void ledger_close(ledger *l);

/* Create accounts (1..SB_LEDGER_SUBMIT_MAX); results[i] for accounts[i].
 * Blocks until durable.  Returns SB_OK (see results), SB_EINVAL (count 0),
 * SB_ELIMIT (count above SB_LEDGER_SUBMIT_MAX or the queue's size),
 * SB_EBUSY (queue full now: retry later), SB_ENOMEM (the batch ran out of
 * memory and was rolled back),
 * SB_ECLOSED, SB_EIO (nothing was committed; retrying is safe),
 * SB_ECORRUPT (a money invariant failed before COMMIT: nothing was committed,
 * the writer has halted and refuses every later submission; an operator runs
 * `socialbank ledger verify` and restarts). */
int ledger_create_accounts(ledger *l, const ledger_account *accounts, size_t count,
                           ledger_account_result *results) SB_MUST_CHECK;

/* Submit transfers (1..SB_LEDGER_SUBMIT_MAX) and wait until their batch is
 * committed.  results[i] answers transfers[i]; on LEDGER_OK and LEDGER_EXISTS
 * transfers[i].timestamp_ns is set (the only field written).  Errors as for
 * ledger_create_accounts: with any error nothing of this submission was
 * committed and retrying with the same ids is safe. */
int ledger_submit_transfers(ledger *l, ledger_transfer *transfers, size_t count, ledger_result *results) SB_MUST_CHECK;

/* Counters of the writer since open (for benchmarks, health and /metrics).
 * Histograms count into buckets by upper bound (the last one is +Inf). */
#define LEDGER_BATCH_SIZE_BUCKETS 8
#define LEDGER_COMMIT_LATENCY_BUCKETS 13
/* Upper bounds of the batch size buckets (submitted items per batch). */
extern const int64_t ledger_batch_size_bounds[LEDGER_BATCH_SIZE_BUCKETS - 1];
/* Upper bounds of the commit latency buckets, in ns (BEGIN to durable COMMIT). */
extern const int64_t ledger_commit_latency_bounds_ns[LEDGER_COMMIT_LATENCY_BUCKETS - 1];
typedef struct {
    int64_t batches;        /* committed transactions */
    int64_t transfers;      /* transfers processed (any result) */
    int64_t expired;        /* pending transfers expired */
    int64_t queued;         /* transfers waiting for the writer right now */
    int64_t batches_failed; /* rolled back: their callers got the error */
    bool halted;            /* a money invariant failed: the writer refuses every batch */
    int64_t batch_size_buckets[LEDGER_BATCH_SIZE_BUCKETS]; /* committed batches by items */
    int64_t batch_size_sum;                                /* items in committed batches */
    int64_t commit_latency_buckets[LEDGER_COMMIT_LATENCY_BUCKETS];
    int64_t commit_latency_sum_ns;
    int64_t results[LEDGER_RESULT_COUNT]; /* committed transfers by result */
} ledger_stats;
void ledger_get_stats(ledger *l, ledger_stats *out);

/* TESTS ONLY.  Queue a change to one account's cached balances that the
 * writer applies, just before its invariant check, in the next batch that
 * touches the account: a stand-in for a stray write to memory, so that a
 * test of a release build can show the writer refuses to commit (the batch
 * fails with SB_ECORRUPT, nothing is written, every later submission gets
 * SB_ECORRUPT).  Nothing but a test calls it; production code never does.
 * SB_ELIMIT when TEST_CORRUPTIONS_MAX changes are queued already. */
int ledger_test_corrupt_balance(ledger *l, ledger_id account, int64_t debits_posted_delta,
                                int64_t credits_posted_delta) SB_MUST_CHECK;

/* ---- readers (any thread, on the caller's own store connection) ----------- */
/* Look an account up by id.  SB_ENOTFOUND if absent. */
int ledger_lookup_account(store *s, ledger_id id, ledger_account *out) SB_MUST_CHECK;
/* Look a transfer up by id; *state_out (may be NULL) gets its pending state.
 * For post/void transfers the accounts are those of the pending transfer. */
int ledger_lookup_transfer(store *s, ledger_id id, ledger_transfer *out,
                           ledger_transfer_state *state_out) SB_MUST_CHECK;
/* Call fn for every account in creation order; stop early if fn returns
 * non-zero (that value is returned). */
int ledger_each_account(store *s, int (*fn)(const ledger_account *account, void *arg), void *arg) SB_MUST_CHECK;

/* ---- verify --------------------------------------------------------------- */
typedef struct {
    char currency[4];
    /* Sums over its accounts.  Each balance fits int64 but their sum may
     * not: verify adds in 128 bits and, if a sum is beyond int64, shows
     * INT64_MAX here with `saturated` set. */
    int64_t debits_posted;
    int64_t credits_posted;
    int64_t debits_pending;
    int64_t credits_pending;
    bool saturated;
} ledger_currency_total;

typedef struct {
    int64_t accounts;
    int64_t transfers;
    int currency_count;
    ledger_currency_total currencies[SB_LEDGER_CURRENCIES_MAX];
    bool ok;
    bool has_broken_account;  /* the problem is about broken_account */
    ledger_id broken_account; /* the first broken account, in creation order */
    char problem[256];        /* a sentence naming what is off */
} ledger_verify_report;

/* Recompute every balance from the journal inside one read transaction and
 * check: stored balances equal the recomputed ones, debits equal credits in
 * total and per currency, both sides of every transfer share a currency, no
 * account breaks its flags, every post/void refers to a pending transfer in
 * the matching state.  Memory is bounded: accounts are checked in chunks of
 * SB_LEDGER_VERIFY_CHUNK_ACCOUNTS, each with one pass over the journal.
 * Returns SB_OK with report->ok true, SB_ECORRUPT with report->problem (and
 * the account) when something is off, or a store error. */
int ledger_verify(store *s, ledger_verify_report *report) SB_MUST_CHECK;

/* ---- JSON (ledger_json.c): what an HTTP route needs ------------------------ */
/* Ids are hex strings, money a JSON integer, flags an array of names
 * ("linked", "pending", "post_pending", "void_pending";
 * "debits_must_not_exceed_credits", "credits_must_not_exceed_debits"). */
#define LEDGER_JSON_ERR_BYTES 160

/* Decode {"id","debit_account_id","credit_account_id","amount","pending_id",
 * "user_data","timeout_ms","code","flags"} ("id" required, others default to
 * zero).  Strict: unknown keys and wrong types are SB_EINVAL with a sentence
 * in err (LEDGER_JSON_ERR_BYTES).  Validity of the values is the ledger's
 * to judge, as results. */
int ledger_transfer_from_json(const json_t *obj, ledger_transfer *out, char *err) SB_MUST_CHECK;
/* Decode {"id","currency","kind","flags","code","user_data"} (the first three
 * required).  Errors as above. */
int ledger_account_from_json(const json_t *obj, ledger_account *out, char *err) SB_MUST_CHECK;
/* New JSON objects (caller json_decref()s them), NULL when out of memory. */
json_t *ledger_transfer_to_json(const ledger_transfer *t);
json_t *ledger_account_to_json(const ledger_account *a);
/* {"id","result":"exceeds_credits"[,"timestamp_ns" on ok/exists]}. */
json_t *ledger_transfer_result_to_json(const ledger_transfer *t, ledger_result result);

#endif /* SB_LEDGER_H */
