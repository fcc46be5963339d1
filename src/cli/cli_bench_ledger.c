/*
 * cli_bench_ledger.c - `socialbank bench ledger`: durable transfers per
 * second on SQLite (synchronous=FULL) with the ledger's group commit, against
 * the naive way (one SQLite transaction per transfer, same schema, same code,
 * same durability) measured in the same run.
 *
 * Scenarios: submissions of 1, 100 and 8000 transfers from several caller
 * threads at once, each for --seconds.  Transfers move random amounts
 * between random wallets (flag debits_must_not_exceed_credits, funded so
 * that nothing is refused); ids are time-ordered with a random low half (ULID
 * style, as TigerBeetle recommends to clients).  For each submission the time
 * until the caller has its answer (i.e. the batch is durable) goes into a
 * log-linear histogram, from which p99 is read.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/core.h"
#include "ledger/ledger.h"
#include "store/store.h"

#define HIST_BUCKETS (64 * 16) /* log2 exponent x 16 sub-buckets: about 6% resolution */
#define BENCH_THREADS_MAX 64

typedef struct {
    int64_t counts[HIST_BUCKETS];
} histogram;

static int hist_index(uint64_t v) {
    if (v < 16) return (int)v;
    int exp = 63 - __builtin_clzll(v);      /* >= 4 */
    int sub = (int)((v >> (exp - 4)) & 15); /* next four bits */
    return (exp - 3) * 16 + sub;
}

static uint64_t hist_upper(int index) {
    if (index < 16) return (uint64_t)index;
    int exp = index / 16 + 3, sub = index % 16;
    return ((uint64_t)(16 + sub + 1) << (exp - 4)) - 1;
}

static uint64_t hist_percentile(const histogram *h, double p) {
    int64_t total = 0;
    for (int i = 0; i < HIST_BUCKETS; i++)
        total += h->counts[i];
    if (total == 0) return 0;
    int64_t want = (int64_t)((double)total * p + 0.5), seen = 0;
    if (want < 1) want = 1;
    for (int i = 0; i < HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= want) return hist_upper(i);
    }
    return hist_upper(HIST_BUCKETS - 1);
}

typedef struct {
    ledger *l;
    int batch;
    int wallets;
    int64_t deadline_ns;
    uint64_t thread_index;
    int64_t ok;
    int64_t refused;
    int failed;
    histogram hist; /* latency in microseconds */
} worker;

static uint64_t next_random(uint64_t *state) { /* xorshift64*: cheap, per thread */
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static void *worker_main(void *arg) {
    worker *w = arg;
    ledger_transfer *t = sb_calloc((size_t)w->batch, sizeof *t);
    ledger_result *r = sb_calloc((size_t)w->batch, sizeof *r);
    uint64_t rng = 0x9E3779B97F4A7C15ULL * (w->thread_index + 1) ^ (uint64_t)sb_mono_ns();
    if (!t || !r) {
        w->failed = SB_ENOMEM;
        goto done;
    }
    while (sb_mono_ns() < w->deadline_ns) {
        for (int i = 0; i < w->batch; i++) {
            uint64_t from = 2 + next_random(&rng) % (uint64_t)w->wallets;
            uint64_t to = 2 + next_random(&rng) % (uint64_t)w->wallets;
            if (to == from) to = 2 + (from - 1) % (uint64_t)w->wallets;
            memset(&t[i], 0, sizeof t[i]);
            t[i].id = (ledger_id){(uint64_t)sb_now_ms() << 16 | (w->thread_index & 0xffff), next_random(&rng) | 1};
            t[i].debit_account_id = ledger_id_from_u64(from);
            t[i].credit_account_id = ledger_id_from_u64(to);
            t[i].amount_minor = 1 + (int64_t)(next_random(&rng) % 1000);
            t[i].code = 1;
        }
        int64_t start = sb_mono_ns();
        int result = ledger_submit_transfers(w->l, t, (size_t)w->batch, r);
        int64_t took_us = (sb_mono_ns() - start) / 1000;
        if (result == SB_EBUSY) {
            usleep(100);
            continue;
        }
        if (result != SB_OK) {
            w->failed = result;
            break;
        }
        w->hist.counts[hist_index((uint64_t)took_us)]++;
        for (int i = 0; i < w->batch; i++) {
            if (r[i] == LEDGER_OK) {
                w->ok++;
            } else {
                w->refused++;
            }
        }
    }
done:
    sb_free(t);
    sb_free(r);
    return NULL;
}

typedef struct {
    double per_s;
    double p99_ms;
    double p50_ms;
    int64_t refused;
} scenario_result;

static int run_scenario(const char *data, bool naive, int batch, int threads, int wallets, double seconds,
                        scenario_result *out) {
    ledger_options o = {.location = data, .transaction_per_transfer = naive};
    ledger *l;
    int result = ledger_open(&o, &l);
    if (result != SB_OK) return result;
    worker *ws = sb_calloc((size_t)threads, sizeof *ws);
    pthread_t *tids = sb_calloc((size_t)threads, sizeof *tids);
    if (!ws || !tids) {
        sb_free(ws);
        sb_free(tids);
        ledger_close(l);
        return SB_ENOMEM;
    }
    int64_t start = sb_mono_ns();
    int started = 0;
    for (int i = 0; i < threads; i++) {
        ws[i] = (worker){.l = l,
                         .batch = batch,
                         .wallets = wallets,
                         .thread_index = (uint64_t)i,
                         .deadline_ns = start + (int64_t)(seconds * 1e9)};
        if (pthread_create(&tids[i], NULL, worker_main, &ws[i]) != 0) break;
        started++;
    }
    histogram total;
    memset(&total, 0, sizeof total);
    int64_t ok = 0, refused = 0;
    for (int i = 0; i < started; i++) {
        pthread_join(tids[i], NULL);
        ok += ws[i].ok;
        refused += ws[i].refused;
        for (int b = 0; b < HIST_BUCKETS; b++)
            total.counts[b] += ws[i].hist.counts[b];
        if (ws[i].failed) result = ws[i].failed;
    }
    double elapsed = (double)(sb_mono_ns() - start) / 1e9;
    ledger_close(l);
    sb_free(ws);
    sb_free(tids);
    if (started < threads) return SB_EIO;
    out->per_s = (double)ok / elapsed;
    out->p99_ms = (double)hist_percentile(&total, 0.99) / 1000.0;
    out->p50_ms = (double)hist_percentile(&total, 0.50) / 1000.0;
    out->refused = refused;
    return result;
}

static int setup_accounts(const char *data, int wallets) {
    store *s;
    int result = store_open(data, NULL, &s);
    if (result != SB_OK) return result;
    result = store_migrate(s, NULL);
    store_close(s);
    if (result != SB_OK) return result;
    ledger_options o = {.location = data};
    ledger *l;
    if ((result = ledger_open(&o, &l)) != SB_OK) return result;
    ledger_account *a = sb_calloc((size_t)wallets + 1, sizeof *a);
    ledger_account_result *ar = sb_calloc((size_t)wallets + 1, sizeof *ar);
    ledger_transfer *t = sb_calloc((size_t)wallets, sizeof *t);
    ledger_result *tr = sb_calloc((size_t)wallets, sizeof *tr);
    if (!a || !ar || !t || !tr) result = SB_ENOMEM;
    for (int i = 0; result == SB_OK && i <= wallets; i++) {
        a[i].id = ledger_id_from_u64(1 + (uint64_t)i);
        memcpy(a[i].currency, "IRR", 4);
        a[i].kind = i == 0 ? LEDGER_KIND_BANK_SETTLEMENT : LEDGER_KIND_CUSTOMER_WALLET;
        a[i].flags = i == 0 ? 0 : LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS;
        a[i].code = 1;
    }
    for (int done = 0; result == SB_OK && done <= wallets; done += SB_LEDGER_SUBMIT_MAX) {
        int n = wallets + 1 - done < SB_LEDGER_SUBMIT_MAX ? wallets + 1 - done : SB_LEDGER_SUBMIT_MAX;
        result = ledger_create_accounts(l, a + done, (size_t)n, ar + done);
    }
    for (int i = 0; result == SB_OK && i < wallets; i++) {
        t[i].id = (ledger_id){0xF00D, (uint64_t)i + 1};
        t[i].debit_account_id = ledger_id_from_u64(1);
        t[i].credit_account_id = ledger_id_from_u64(2 + (uint64_t)i);
        t[i].amount_minor = 1000000000000LL; /* enough that no bench transfer is refused */
        t[i].code = 1;
    }
    for (int done = 0; result == SB_OK && done < wallets; done += SB_LEDGER_SUBMIT_MAX) {
        int n = wallets - done < SB_LEDGER_SUBMIT_MAX ? wallets - done : SB_LEDGER_SUBMIT_MAX;
        result = ledger_submit_transfers(l, t + done, (size_t)n, tr + done);
    }
    sb_free(a);
    sb_free(ar);
    sb_free(t);
    sb_free(tr);
    ledger_close(l);
    return result;
}

int cli_bench_ledger(int argc, char **argv) {
    cli_option opts[] = {{"data", NULL, "directory for the database (default: a new temporary one, removed after)",
                          NULL, false, NULL, false},
                         {"seconds", NULL, "seconds per scenario", "4", false, NULL, false},
                         {"wallets", NULL, "accounts transfers move between", "10000", false, NULL, false},
                         {"threads", NULL, "caller threads for batch sizes 1 and 100", "32", false, NULL, false},
                         {NULL}};
    int rc;
    if (cli_begin(argc, argv, "bench ledger [--seconds S] [--data DIR]",
                  "Durable transfers/s with group commit (submissions of 1, 100, 8000 transfers from concurrent\n"
                  "callers) against one SQLite transaction per transfer, and the p99 time to an answer.",
                  opts, NULL, 0, NULL, &rc))
        return rc;
    long seconds, wallets, threads;
    if ((rc = cli_int(opts, "seconds", 1, 600, &seconds)) || (rc = cli_int(opts, "wallets", 2, 1000000, &wallets)) ||
        (rc = cli_int(opts, "threads", 1, BENCH_THREADS_MAX, &threads)))
        return rc;
    char tmp[64] = "";
    const char *data = cli_value(opts, "data");
    if (!data) {
        snprintf(tmp, sizeof tmp, "/tmp/sb-bench-ledger-XXXXXX");
        if (!mkdtemp(tmp)) {
            perror("socialbank bench ledger: mkdtemp");
            return 1;
        }
        data = tmp;
    }
    sb_log_set_level(SB_LOG_WARN);
    int result = setup_accounts(data, (int)wallets);
    struct {
        const char *label;
        bool naive;
        int batch;
        int threads;
        double seconds;
    } plan[] = {
        {"naive (1 tx per transfer)", true, 1, (int)threads, (double)seconds / 2},
        {"group commit, batch 1", false, 1, (int)threads, (double)seconds},
        {"group commit, batch 100", false, 100, (int)threads, (double)seconds},
        {"group commit, batch 8000", false, 8000, 4, (double)seconds},
    };
    scenario_result res[4];
    memset(res, 0, sizeof res);
    printf("ledger bench: SQLite WAL synchronous=FULL, %ld wallets, %ld s per scenario, %ld cores online\n", wallets,
           seconds, sysconf(_SC_NPROCESSORS_ONLN));
    for (size_t i = 0; i < 4 && result == SB_OK; i++) {
        result =
            run_scenario(data, plan[i].naive, plan[i].batch, plan[i].threads, (int)wallets, plan[i].seconds, &res[i]);
        if (result == SB_OK)
            printf("  %-28s callers=%-3d %10.0f transfers/s  p50=%.2f ms  p99=%.2f ms  refused=%lld\n", plan[i].label,
                   plan[i].threads, res[i].per_s, res[i].p50_ms, res[i].p99_ms, (long long)res[i].refused);
        fflush(stdout);
    }
    if (result == SB_OK) {
        /* verify the books after the run: a benchmark that breaks them measured nothing. */
        store *s;
        result = store_open(data, NULL, &s);
        if (result == SB_OK) {
            ledger_verify_report rep;
            result = ledger_verify(s, &rep);
            if (result != SB_OK)
                fprintf(stderr, "bench ledger: verify failed: %s\n", rep.problem);
            else
                printf("  verify: ok, %lld transfers in the journal\n", (long long)rep.transfers);
            store_close(s);
        }
    }
    if (tmp[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
        if (system(cmd) != 0) fprintf(stderr, "bench ledger: could not remove %s\n", tmp);
    }
    if (result != SB_OK) {
        fprintf(stderr, "socialbank bench ledger: %s\n", sb_strerror(result));
        return 1;
    }
    size_t best = 1;
    for (size_t i = 2; i < 4; i++)
        if (res[i].per_s > res[best].per_s) best = i;
    double ratio = res[0].per_s > 0 ? res[best].per_s / res[0].per_s : 0;
    printf("bench: ledger value=%.0f unit=transfers/s baseline=naive baseline_value=%.0f ratio=%.1f p99_ms=%.2f "
           "batch=%d\n",
           res[best].per_s, res[0].per_s, ratio, res[best].p99_ms, plan[best].batch);
    return 0;
}
