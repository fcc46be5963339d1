/*
 * test_ledger_crash.c - the crash test.
 *
 * `socialbank ledger stress` (the real binary, $SB_BINARY) submits transfers
 * and appends each id to an ack file only after the ledger answered, i.e.
 * after the COMMIT of its batch.  This test SIGKILLs it at seeded random
 * moments, several rounds, restarting it each time on the same data.  Then:
 * every acknowledged transfer is in the journal exactly once with the fields
 * it was submitted with; resubmitting every acknowledged transfer answers
 * `exists` and changes no balance; `ledger verify` (the command) exits 0.
 *
 * (The same against the HTTP server waits for the server's ledger routes.)
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "ledger_fixture.h"

#define ROUNDS 6

static pid_t start_stress(const char *binary, const char *dir, const char *ack) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, 2); /* keep the log lines out of the test output */
        execl(binary, binary, "ledger", "stress", "--data", dir, "--ack", ack, "--wallets", "20", "--batch", "40",
              (char *)NULL);
        _exit(127);
    }
    return pid;
}

static bool parse_line(char *line, ledger_transfer *t) {
    char id[40], dr[40], cr[40], pid[40];
    long long amount, timeout;
    unsigned flags, code;
    memset(t, 0, sizeof *t);
    if (sscanf(line, "%39s %39s %39s %lld %u %39s %lld %u", id, dr, cr, &amount, &flags, pid, &timeout, &code) != 8)
        return false;
    if (ledger_id_parse(id, strlen(id), &t->id) != SB_OK || ledger_id_parse(dr, strlen(dr), &t->debit_account_id) ||
        ledger_id_parse(cr, strlen(cr), &t->credit_account_id) || ledger_id_parse(pid, strlen(pid), &t->pending_id))
        return false;
    t->amount_minor = amount;
    t->flags = flags;
    t->timeout_ms = timeout;
    t->code = code;
    return true;
}

static int snapshot_account(const ledger_account *a, void *arg) {
    int64_t *sum = arg;
    /* A position-weighted checksum of every balance. */
    sum[0] += a->debits_pending + 3 * a->debits_posted + 5 * a->credits_pending + 7 * a->credits_posted;
    sum[1]++;
    return 0;
}

static void test_crash_rounds(void **state) {
    (void)state;
    const char *binary = getenv("SB_BINARY");
    if (!binary) {
        print_message("SB_BINARY not set (run through ctest)\n");
        skip();
    }
    char dir[64] = "/tmp/sb-ledger-crash-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char ack[128];
    snprintf(ack, sizeof ack, "%s/ack.txt", dir);
    uint64_t seed = 0xC0FFEE;
    for (int round = 0; round < ROUNDS; round++) {
        struct stat before_start;
        off_t size_before = stat(ack, &before_start) == 0 ? before_start.st_size : 0;
        pid_t pid = start_stress(binary, dir, ack);
        /* Each round first waits (bounded) until this process has acknowledged
         * something, so a slow machine (sanitizers, load) still kills it in
         * the middle of its work rather than during start-up. */
        for (int waited_ms = 0; waited_ms < 60000; waited_ms += 10) {
            struct stat now;
            if (stat(ack, &now) == 0 && now.st_size > size_before) break;
            struct timespec tick = {0, 10 * 1000000L};
            nanosleep(&tick, NULL);
        }
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        long ms = 50 + (long)(seed % 500);
        struct timespec d = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&d, NULL);
        assert_int_equal(kill(pid, SIGKILL), 0);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status)); /* it was killed mid-work, not finished or failed */
    }
    /* Read what was acknowledged (a line cut by the kill is ignored). */
    FILE *fp = fopen(ack, "r");
    assert_non_null(fp);
    size_t cap = 1024, count = 0;
    ledger_transfer *list = malloc(cap * sizeof *list);
    char line[512];
    while (fgets(line, sizeof line, fp)) {
        if (!strchr(line, '\n')) break;
        if (count == cap) list = realloc(list, (cap *= 2) * sizeof *list);
        if (parse_line(line, &list[count])) count++;
    }
    fclose(fp);
    printf("crash: %d rounds, %zu acknowledged transfers\n", ROUNDS, count);
    assert_true(count > 100);

    store *s;
    assert_int_equal(store_open(dir, NULL, &s), SB_OK);
    for (size_t i = 0; i < count; i++) {
        ledger_transfer got;
        char hex[LEDGER_ID_HEX_BYTES];
        ledger_id_format(list[i].id, hex);
        if (ledger_lookup_transfer(s, list[i].id, &got, NULL) != SB_OK) fail_msg("acknowledged %s is missing", hex);
        uint8_t key[16];
        for (int b = 0; b < 8; b++) {
            key[b] = (uint8_t)(list[i].id.hi >> (56 - 8 * b));
            key[8 + b] = (uint8_t)(list[i].id.lo >> (56 - 8 * b));
        }
        int64_t copies = 0;
        assert_int_equal(
            store_query_int64(s, &copies, "SELECT COUNT(*) FROM ledger_transfers WHERE id = ?", "b", key, 16), SB_OK);
        assert_int_equal(copies, 1);
        assert_int_equal(got.flags, list[i].flags);
        assert_int_equal(got.code, list[i].code);
        assert_true(ledger_id_equal(got.pending_id, list[i].pending_id));
        if (list[i].amount_minor != 0) assert_int_equal(got.amount_minor, list[i].amount_minor);
        if (!ledger_id_is_zero(list[i].debit_account_id))
            assert_true(ledger_id_equal(got.debit_account_id, list[i].debit_account_id));
    }

    /* Retry everything with the same ids: exists, and no balance moves. */
    ledger *l;
    ledger_options o = {.location = dir};
    assert_int_equal(ledger_open(&o, &l), SB_OK);
    struct timespec settle = {0, 200 * 1000000L}; /* let every 50 ms timeout pass */
    nanosleep(&settle, NULL);
    ledger_transfer noop = xfer(0, 1, 2, 1); /* rejected, but its batch expires what is due */
    ledger_result r;
    assert_int_equal(ledger_submit_transfers(l, &noop, 1, &r), SB_OK);
    int64_t before[2] = {0, 0}, after[2] = {0, 0};
    assert_int_equal(ledger_each_account(s, snapshot_account, before), SB_OK);
    ledger_result *results = malloc(SB_LEDGER_SUBMIT_MAX * sizeof *results);
    size_t i = 0;
    while (i < count) {
        size_t n = 0;
        /* Cut submissions only after a transfer that closes its chain. */
        while (i + n < count && (n < 500 || (list[i + n - 1].flags & LEDGER_TRANSFER_LINKED)))
            n++;
        assert_int_equal(ledger_submit_transfers(l, &list[i], n, results), SB_OK);
        for (size_t k = 0; k < n; k++)
            assert_result(results[k], LEDGER_EXISTS);
        i += n;
    }
    assert_int_equal(ledger_each_account(s, snapshot_account, after), SB_OK);
    assert_int_equal(before[1], 21);
    assert_int_equal(after[0], before[0]);
    ledger_close(l);
    store_close(s);
    free(results);
    free(list);

    /* The operator's command agrees. */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "'%s' ledger verify --data '%s' >/dev/null", binary, dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* Run a shell command, capture its stdout+stderr into out; return its exit code. */
static int run(char *out, size_t out_len, const char *fmt, ...) SB_PRINTF(3, 4);
static int run(char *out, size_t out_len, const char *fmt, ...) {
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t len = fread(out, 1, out_len - 1, p);
    out[len] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The operator's commands, end to end, and verify naming a tampered account. */
static void test_cli_commands(void **state) {
    (void)state;
    const char *b = getenv("SB_BINARY");
    if (!b) skip();
    char dir[64] = "/tmp/sb-ledger-cli-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char out[4096];
    assert_int_equal(
        run(out, sizeof out,
            "'%s' ledger account create --data %s --id a1 --currency IRR --kind bank_settlement 2>/dev/null", b, dir),
        0);
    assert_string_equal(out, "ok\n");
    assert_int_equal(run(out, sizeof out,
                         "'%s' ledger account create --data %s --id B2 --currency IRR --kind customer_wallet "
                         "--debits-must-not-exceed-credits 2>/dev/null",
                         b, dir),
                     0);
    assert_int_equal(run(out, sizeof out,
                         "'%s' ledger account create --data %s --id b2 --currency USD --kind customer_wallet "
                         "--debits-must-not-exceed-credits 2>/dev/null",
                         b, dir),
                     1);
    assert_string_equal(out, "exists_with_different_currency\n");
    assert_int_equal(run(out, sizeof out,
                         "'%s' ledger account create --data %s --id c3 --currency IRR --kind piggy_bank 2>&1", b, dir),
                     2);
    assert_int_equal(run(out, sizeof out,
                         "'%s' ledger transfer --data %s --id 7 --debit b2 --credit a1 --amount 10 2>/dev/null", b,
                         dir),
                     1);
    assert_string_equal(out, "exceeds_credits\n");
    assert_int_equal(run(out, sizeof out,
                         "'%s' ledger transfer --data %s --id 8 --debit a1 --credit b2 --amount 2500 2>/dev/null", b,
                         dir),
                     0);
    assert_non_null(strstr(out, "ok timestamp_ns="));
    assert_int_equal(run(out, sizeof out,
                         "'%s' ledger transfer --data %s --id 8 --debit a1 --credit b2 --amount 2500 2>/dev/null", b,
                         dir),
                     0);
    assert_non_null(strstr(out, "exists timestamp_ns="));
    assert_int_equal(
        run(out, sizeof out,
            "'%s' ledger transfer --data %s --id 9 --debit b2 --credit a1 --amount 1000 --pending 2>/dev/null", b, dir),
        0);
    assert_int_equal(
        run(out, sizeof out, "'%s' ledger transfer --data %s --id 10 --post 9 --amount 400 2>/dev/null", b, dir), 0);
    assert_int_equal(
        run(out, sizeof out, "'%s' ledger transfer --data %s --id zz --debit a1 --credit b2 --amount 1 2>&1", b, dir),
        2);
    assert_int_equal(run(out, sizeof out, "'%s' ledger account show --data %s 00b2 2>/dev/null", b, dir), 0);
    assert_non_null(strstr(out, "\"debits_posted\":400,\"credits_pending\":0,\"credits_posted\":2500"));
    assert_int_equal(run(out, sizeof out, "'%s' ledger verify --data %s 2>/dev/null", b, dir), 0);
    assert_non_null(strstr(out, "ledger ok: 2 accounts, 3 transfers"));
    assert_non_null(strstr(out, "IRR: debits posted 2900 = credits posted 2900"));
    /* Tamper with the wallet's row through SQL: verify fails and names it. */
    store *s;
    assert_int_equal(store_open(dir, NULL, &s), SB_OK);
    assert_int_equal(
        store_exec(s, "UPDATE ledger_accounts SET debits_posted = 300 WHERE currency = 'IRR' AND flags = 1", NULL),
        SB_OK);
    store_close(s);
    assert_int_equal(run(out, sizeof out, "'%s' ledger verify --data %s 2>&1", b, dir), 1);
    assert_non_null(strstr(out, "first broken account: 000000000000000000000000000000b2"));
    assert_non_null(strstr(out, "debits_posted is 300 but the journal gives 400"));
    snprintf(out, sizeof out, "rm -rf '%s'", dir);
    assert_int_equal(system(out), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_cli_commands), cmocka_unit_test(test_crash_rounds)};
    return cmocka_run_group_tests_name("ledger_crash", tests, NULL, NULL);
}
