/*
 * cli_ledger.c - `socialbank ledger verify|account|transfer`: the operator's
 * view of the ledger, and the hidden `ledger stress` load generator that the
 * crash test kills with SIGKILL.
 *
 * stress writes one line per transfer to the --ack file only after the
 * ledger answered ok/exists for it (that is, after the COMMIT of its batch):
 *   ID DEBIT CREDIT AMOUNT FLAGS PENDING_ID TIMEOUT_MS CODE
 * (ids as 32 hex digits).  Every line the test reads must therefore be in the
 * database after any crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/core.h"
#include "ledger/ledger.h"
#include "store/store.h"

static int parse_id_option(const cli_option *opts, const char *name, bool required, ledger_id *out) {
    const char *text = cli_value(opts, name);
    *out = (ledger_id){0, 0};
    if (!text) {
        if (!required) return 0;
        fprintf(stderr, "socialbank ledger: --%s is required\n", name);
        return 2;
    }
    if (ledger_id_parse(text, strlen(text), out) != SB_OK) {
        fprintf(stderr, "socialbank ledger: --%s must be 1 to 32 hex digits (got '%s')\n", name, text);
        return 2;
    }
    return 0;
}

static int open_reader(const char *data, store **out) {
    int result = store_open(data, NULL, out);
    if (result != SB_OK) {
        fprintf(stderr, "socialbank ledger: cannot open the store: %s\n", sb_strerror(result));
        return 1;
    }
    int version = 0;
    if (store_schema_version(*out, &version) != SB_OK || version < 100) {
        fprintf(stderr, "socialbank ledger: no ledger in %s (run `socialbank migrate --data %s`)\n", data, data);
        store_close(*out);
        *out = NULL;
        return 1;
    }
    return 0;
}

static int open_writer(const char *data, ledger **out) {
    store *s;
    int result = store_open(data, NULL, &s);
    if (result != SB_OK) {
        fprintf(stderr, "socialbank ledger: cannot open the store: %s\n", sb_strerror(result));
        return 1;
    }
    result = store_migrate(s, NULL);
    store_close(s);
    if (result == SB_OK) {
        ledger_options o = {.location = data};
        result = ledger_open(&o, out);
    }
    if (result != SB_OK) {
        fprintf(stderr, "socialbank ledger: cannot open the ledger: %s\n", sb_strerror(result));
        return 1;
    }
    return 0;
}

static int ledger_verify_cmd(int argc, char **argv) {
    cli_option opts[] = {CLI_DATA_OPTION, {NULL}};
    int rc;
    if (cli_begin(argc, argv, "ledger verify [--data DIR]",
                  "Recompute every balance from the journal; check debits equal credits in total and per\n"
                  "currency and that no account breaks its flags. Exit 0 with a summary, or 1 naming the\n"
                  "first broken account.",
                  opts, NULL, 0, NULL, &rc))
        return rc;
    store *s;
    if (open_reader(cli_value(opts, "data"), &s)) return 1;
    ledger_verify_report rep;
    int result = ledger_verify(s, &rep);
    store_close(s);
    if (result != SB_OK) {
        fprintf(stderr, "ledger verify: FAILED: %s\n", rep.problem);
        if (rep.has_broken_account) {
            char hex[LEDGER_ID_HEX_BYTES];
            ledger_id_format(rep.broken_account, hex);
            fprintf(stderr, "ledger verify: first broken account: %s\n", hex);
        }
        return 1;
    }
    printf("ledger ok: %lld accounts, %lld transfers\n", (long long)rep.accounts, (long long)rep.transfers);
    for (int i = 0; i < rep.currency_count; i++) {
        const ledger_currency_total *c = &rep.currencies[i];
        printf("  %s: debits posted %lld = credits posted %lld; pending %lld = %lld\n", c->currency,
               (long long)c->debits_posted, (long long)c->credits_posted, (long long)c->debits_pending,
               (long long)c->credits_pending);
    }
    return 0;
}

static void print_account(const ledger_account *a) {
    json_t *o = ledger_account_to_json(a);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    printf("%s\n", text ? text : "{}");
    free(text);
    json_decref(o);
}

static int ledger_account_cmd(int argc, char **argv) {
    cli_option opts[] = {CLI_DATA_OPTION,
                         {"id", NULL, "account id (hex)", NULL, false, NULL, false},
                         {"currency", NULL, "ISO 4217 code, e.g. IRR", NULL, false, NULL, false},
                         {"kind", NULL,
                          "customer_wallet|bank_settlement|fees|suspense|external_card_switch|"
                          "external_biller|external_operator",
                          NULL, false, NULL, false},
                         {"debits-must-not-exceed-credits", NULL, "flag (wallets)", NULL, true, NULL, false},
                         {"credits-must-not-exceed-debits", NULL, "flag", NULL, true, NULL, false},
                         {"code", NULL, "account category code", "1", false, NULL, false},
                         {"user-data", NULL, "owner reference (hex)", NULL, false, NULL, false},
                         {NULL}};
    static const char usage[] =
        "ledger account create --id HEX --currency CUR --kind KIND [flags] | ledger account show HEX";
    static const char summary[] = "Create a ledger account, or print one as JSON.";
    const char *pos[2];
    int npos, rc;
    if (cli_begin(argc, argv, usage, summary, opts, pos, 2, &npos, &rc)) return rc;
    if (npos < 1) {
        cli_print_help(usage, summary, opts);
        return 2;
    }
    if (strcmp(pos[0], "show") == 0) {
        ledger_id id;
        if (npos != 2 || ledger_id_parse(pos[1], strlen(pos[1]), &id) != SB_OK) {
            fprintf(stderr, "socialbank ledger account show: give the account id in hex\n");
            return 2;
        }
        store *s;
        if (open_reader(cli_value(opts, "data"), &s)) return 1;
        ledger_account a;
        int result = ledger_lookup_account(s, id, &a);
        store_close(s);
        if (result != SB_OK) {
            fprintf(stderr, "socialbank ledger account show: %s\n", sb_strerror(result));
            return 1;
        }
        print_account(&a);
        return 0;
    }
    if (strcmp(pos[0], "create") != 0 || npos != 1) {
        fprintf(stderr, "socialbank ledger account: create or show (see --help)\n");
        return 2;
    }
    ledger_account a;
    memset(&a, 0, sizeof a);
    if ((rc = parse_id_option(opts, "id", true, &a.id)) ||
        (rc = parse_id_option(opts, "user-data", false, &a.user_data)))
        return rc;
    const char *currency = cli_value(opts, "currency");
    const char *kind = cli_value(opts, "kind");
    ledger_account_kind k;
    if (!currency || strlen(currency) != 3) {
        fprintf(stderr, "socialbank ledger account create: --currency must be a 3-letter code\n");
        return 2;
    }
    if (!kind || ledger_account_kind_parse(kind, &k) != SB_OK) {
        fprintf(stderr, "socialbank ledger account create: unknown --kind (see --help)\n");
        return 2;
    }
    long code;
    if ((rc = cli_int(opts, "code", 1, UINT32_MAX, &code))) return rc;
    memcpy(a.currency, currency, 4);
    a.kind = k;
    a.code = (uint32_t)code;
    if (cli_value(opts, "debits-must-not-exceed-credits")) a.flags |= LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS;
    if (cli_value(opts, "credits-must-not-exceed-debits")) a.flags |= LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS;
    ledger *l;
    if (open_writer(cli_value(opts, "data"), &l)) return 1;
    ledger_account_result r;
    int result = ledger_create_accounts(l, &a, 1, &r);
    ledger_close(l);
    if (result != SB_OK) {
        fprintf(stderr, "socialbank ledger account create: %s\n", sb_strerror(result));
        return 1;
    }
    printf("%s\n", ledger_account_result_name(r));
    return r == LEDGER_ACCOUNT_OK || r == LEDGER_ACCOUNT_EXISTS ? 0 : 1;
}

static int ledger_transfer_cmd(int argc, char **argv) {
    cli_option opts[] = {CLI_DATA_OPTION,
                         {"id", NULL, "transfer id (hex), chosen by you; reuse it to retry", NULL, false, NULL, false},
                         {"debit", NULL, "debit account id (hex)", NULL, false, NULL, false},
                         {"credit", NULL, "credit account id (hex)", NULL, false, NULL, false},
                         {"amount", NULL, "amount in minor units", "0", false, NULL, false},
                         {"code", NULL, "reason code", "1", false, NULL, false},
                         {"user-data", NULL, "your reference (hex)", NULL, false, NULL, false},
                         {"pending", NULL, "reserve only (two-phase)", NULL, true, NULL, false},
                         {"timeout-ms", NULL, "pending: expire after this", "0", false, NULL, false},
                         {"post", NULL, "post the pending transfer with this id", NULL, false, NULL, false},
                         {"void", NULL, "void the pending transfer with this id", NULL, false, NULL, false},
                         {NULL}};
    int rc;
    if (cli_begin(argc, argv,
                  "ledger transfer --id HEX --debit HEX --credit HEX --amount N [--pending [--timeout-ms N]]\n"
                  "       ledger transfer --id HEX --post|--void PENDING_HEX [--amount N]",
                  "Submit one transfer and print its result (ok, exists, exceeds_credits, ...).", opts, NULL, 0, NULL,
                  &rc))
        return rc;
    ledger_transfer t;
    memset(&t, 0, sizeof t);
    ledger_id post_id, void_id;
    if ((rc = parse_id_option(opts, "id", true, &t.id)) ||
        (rc = parse_id_option(opts, "debit", false, &t.debit_account_id)) ||
        (rc = parse_id_option(opts, "credit", false, &t.credit_account_id)) ||
        (rc = parse_id_option(opts, "user-data", false, &t.user_data)) ||
        (rc = parse_id_option(opts, "post", false, &post_id)) || (rc = parse_id_option(opts, "void", false, &void_id)))
        return rc;
    long code;
    int64_t amount, timeout;
    if ((rc = cli_int(opts, "code", 1, UINT32_MAX, &code))) return rc;
    if (sb_parse_int64(cli_value(opts, "amount"), &amount) != SB_OK ||
        sb_parse_int64(cli_value(opts, "timeout-ms"), &timeout) != SB_OK) {
        fprintf(stderr, "socialbank ledger transfer: --amount and --timeout-ms must be whole numbers\n");
        return 2;
    }
    t.amount_minor = amount;
    t.timeout_ms = timeout;
    t.code = (uint32_t)code;
    if (cli_value(opts, "pending")) t.flags |= LEDGER_TRANSFER_PENDING;
    if (!ledger_id_is_zero(post_id)) t.flags |= LEDGER_TRANSFER_POST_PENDING, t.pending_id = post_id;
    if (!ledger_id_is_zero(void_id)) t.flags |= LEDGER_TRANSFER_VOID_PENDING, t.pending_id = void_id;
    ledger *l;
    if (open_writer(cli_value(opts, "data"), &l)) return 1;
    ledger_result r;
    int result = ledger_submit_transfers(l, &t, 1, &r);
    ledger_close(l);
    if (result != SB_OK) {
        fprintf(stderr, "socialbank ledger transfer: %s\n", sb_strerror(result));
        return 1;
    }
    printf("%s", ledger_result_name(r));
    if (r == LEDGER_OK || r == LEDGER_EXISTS) printf(" timestamp_ns=%lld", (long long)t.timestamp_ns);
    printf("\n");
    return r == LEDGER_OK || r == LEDGER_EXISTS ? 0 : 1;
}

/* ---- stress (hidden; used by the crash test) ---- */

#define STRESS_SETTLEMENT 1
#define STRESS_WALLETS_MAX 1000

static int write_all(int fd, const char *data, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return SB_EIO;
        }
        data += n;
        len -= (size_t)n;
    }
    return SB_OK;
}

static int stress_setup(ledger *l, int wallets, int64_t funding) {
    ledger_account a[STRESS_WALLETS_MAX + 1];
    ledger_account_result ar[STRESS_WALLETS_MAX + 1];
    int n = 0;
    memset(a, 0, sizeof a);
    for (int i = 0; i <= wallets; i++, n++) {
        a[n].id = ledger_id_from_u64(STRESS_SETTLEMENT + (uint64_t)i);
        memcpy(a[n].currency, "IRR", 4);
        a[n].kind = i == 0 ? LEDGER_KIND_BANK_SETTLEMENT : LEDGER_KIND_CUSTOMER_WALLET;
        a[n].flags = i == 0 ? 0 : LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS;
        a[n].code = 1;
    }
    int result = ledger_create_accounts(l, a, (size_t)n, ar);
    if (result != SB_OK) return result;
    ledger_transfer t[STRESS_WALLETS_MAX];
    ledger_result tr[STRESS_WALLETS_MAX];
    memset(t, 0, sizeof t);
    for (int i = 0; i < wallets; i++) {
        t[i].id = (ledger_id){0xF00D, (uint64_t)i + 1}; /* fixed ids: funding happens once */
        t[i].debit_account_id = ledger_id_from_u64(STRESS_SETTLEMENT);
        t[i].credit_account_id = ledger_id_from_u64(STRESS_SETTLEMENT + 1 + (uint64_t)i);
        t[i].amount_minor = funding;
        t[i].code = 1;
    }
    return ledger_submit_transfers(l, t, (size_t)wallets, tr);
}

static int ledger_stress_cmd(int argc, char **argv) {
    cli_option opts[] = {
        CLI_DATA_OPTION,
        {"ack", NULL, "file that receives one line per acknowledged transfer", NULL, false, NULL, false},
        {"wallets", NULL, "customer wallets", "20", false, NULL, false},
        {"batch", NULL, "transfers per submission", "50", false, NULL, false},
        {"count", NULL, "stop after this many submissions (0 = until killed)", "0", false, NULL, false},
        {NULL}};
    int rc;
    if (cli_begin(argc, argv, "ledger stress --data DIR --ack FILE",
                  "Load generator for the crash test (not for production).", opts, NULL, 0, NULL, &rc))
        return rc;
    long wallets, batch, count;
    if ((rc = cli_int(opts, "wallets", 2, STRESS_WALLETS_MAX, &wallets)) ||
        (rc = cli_int(opts, "batch", 2, SB_LEDGER_SUBMIT_MAX, &batch)) ||
        (rc = cli_int(opts, "count", 0, 1L << 40, &count)))
        return rc;
    const char *ack = cli_value(opts, "ack");
    if (!ack) {
        fprintf(stderr, "socialbank ledger stress: --ack FILE is required\n");
        return 2;
    }
    int fd = open(ack, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "socialbank ledger stress: cannot open %s: %s\n", ack, strerror(errno));
        return 1;
    }
    ledger *l;
    if (open_writer(cli_value(opts, "data"), &l)) {
        close(fd);
        return 1;
    }
    int result = stress_setup(l, (int)wallets, 1000000);
    ledger_transfer *t = sb_calloc((size_t)batch, sizeof *t);
    ledger_result *r = sb_calloc((size_t)batch, sizeof *r);
    ledger_id *open_pending = sb_calloc((size_t)batch, sizeof *open_pending);
    sb_buf out;
    sb_buf_init(&out, (size_t)batch * 256);
    size_t open_count = 0;
    for (long round = 0; result == SB_OK && t && r && open_pending && (count == 0 || round < count); round++) {
        size_t n = 0;
        /* Resolve the pending transfers of the previous round first. */
        for (size_t i = 0; i < open_count && n < (size_t)batch; i++, n++) {
            memset(&t[n], 0, sizeof t[n]);
            t[n].id = ledger_id_random();
            t[n].pending_id = open_pending[i];
            t[n].flags = sb_random_uniform(2) ? LEDGER_TRANSFER_POST_PENDING : LEDGER_TRANSFER_VOID_PENDING;
            t[n].code = 1;
        }
        open_count = 0;
        while (n < (size_t)batch) {
            memset(&t[n], 0, sizeof t[n]);
            uint64_t from = 2 + sb_random_uniform((uint32_t)wallets), to = 2 + sb_random_uniform((uint32_t)wallets);
            if (to == from) to = from == 2 ? 3 : 2;
            t[n].id = ledger_id_random();
            t[n].debit_account_id = ledger_id_from_u64(from);
            t[n].credit_account_id = ledger_id_from_u64(to);
            t[n].amount_minor = 1 + sb_random_uniform(5000);
            t[n].code = 1;
            uint32_t pick = sb_random_uniform(10);
            if (pick == 0) {
                t[n].flags = LEDGER_TRANSFER_PENDING;
                t[n].timeout_ms = sb_random_uniform(2) ? 0 : 50; /* some expire */
            } else if (pick == 1 && n + 1 < (size_t)batch) {
                t[n].flags = LEDGER_TRANSFER_LINKED; /* a transfer and its fee */
                n++;
                memset(&t[n], 0, sizeof t[n]);
                t[n].id = ledger_id_random();
                t[n].debit_account_id = ledger_id_from_u64(from);
                t[n].credit_account_id = ledger_id_from_u64(STRESS_SETTLEMENT);
                t[n].amount_minor = 1 + sb_random_uniform(50);
                t[n].code = 2;
            }
            n++;
        }
        result = ledger_submit_transfers(l, t, n, r);
        if (result == SB_EBUSY) {
            result = SB_OK;
            continue;
        }
        if (result != SB_OK) break;
        sb_buf_reset(&out);
        for (size_t i = 0; i < n && result == SB_OK; i++) {
            if (r[i] != LEDGER_OK && r[i] != LEDGER_EXISTS) continue;
            if ((t[i].flags & LEDGER_TRANSFER_PENDING) && t[i].timeout_ms == 0) open_pending[open_count++] = t[i].id;
            char id[LEDGER_ID_HEX_BYTES], dr[LEDGER_ID_HEX_BYTES], cr[LEDGER_ID_HEX_BYTES], pid[LEDGER_ID_HEX_BYTES];
            ledger_id_format(t[i].id, id);
            ledger_id_format(t[i].debit_account_id, dr);
            ledger_id_format(t[i].credit_account_id, cr);
            ledger_id_format(t[i].pending_id, pid);
            result = sb_buf_printf(&out, "%s %s %s %lld %u %s %lld %u\n", id, dr, cr, (long long)t[i].amount_minor,
                                   t[i].flags, pid, (long long)t[i].timeout_ms, t[i].code);
        }
        /* Only now, after the ledger answered, do the ids become "acknowledged". */
        if (result == SB_OK && out.len > 0) result = write_all(fd, out.data, out.len);
    }
    sb_buf_free(&out);
    sb_free(t);
    sb_free(r);
    sb_free(open_pending);
    ledger_close(l);
    close(fd);
    if (result != SB_OK) {
        fprintf(stderr, "socialbank ledger stress: %s\n", sb_strerror(result));
        return 1;
    }
    return 0;
}

int cli_ledger(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        printf("usage: socialbank ledger verify|account|transfer [OPTIONS]\n\n"
               "  verify     recompute every balance from the journal and check the books\n"
               "  account    create an account, or show one\n"
               "  transfer   submit one transfer (ok, exists, or why it was refused)\n\n"
               "'socialbank ledger SUBCOMMAND --help' describes each.\n");
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "verify") == 0) return ledger_verify_cmd(argc - 1, argv + 1);
    if (strcmp(argv[1], "account") == 0) return ledger_account_cmd(argc - 1, argv + 1);
    if (strcmp(argv[1], "transfer") == 0) return ledger_transfer_cmd(argc - 1, argv + 1);
    if (strcmp(argv[1], "stress") == 0) return ledger_stress_cmd(argc - 1, argv + 1);
    fprintf(stderr, "socialbank ledger: unknown subcommand '%s' (see --help)\n", argv[1]);
    return 2;
}
