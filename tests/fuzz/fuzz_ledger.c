/*
 * fuzz_ledger.c - libFuzzer target for the ledger's rules.
 *
 * The input is read as text for ledger_id_parse (which must round-trip
 * through ledger_id_format when it accepts), as JSON for the strict
 * transfer and account decoders (a decoded transfer must encode and decode
 * to the same fields), then as a batch of up to 16
 * transfers, 12 bytes each: id, debit, credit, pending id, flags (any bits),
 * amount class and magnitude (zero, negative, small, INT64_MAX...), timeout
 * class and code.  The batch goes through the real writer.  Whatever the
 * bytes, the submission must be answered, every result must be a known code,
 * and the books must hold afterwards: debits equal credits (posted and
 * pending, summed in 128 bits) and no account breaks its flag.  Every 256
 * inputs the full verify runs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"

static store *reader;
static ledger *writer;
static char dir[] = "/tmp/sb-fuzz-ledger-XXXXXX";

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void remove_dir(void) {
    ledger_close(writer);
    store_close(reader);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "fuzz_ledger: could not remove %s\n", dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    sb_log_set_level(SB_LOG_ERROR);
    ledger_options o = {.location = dir};
    if (!mkdtemp(dir) || sb_crypto_init() != SB_OK || store_open(dir, NULL, &reader) != SB_OK ||
        store_migrate(reader, NULL) != SB_OK || ledger_open(&o, &writer) != SB_OK)
        abort();
    atexit(remove_dir);
    static const struct {
        const char *currency;
        uint32_t flags;
    } spec[6] = {{"IRR", 0},
                 {"IRR", LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS},
                 {"IRR", LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS},
                 {"IRR", LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS},
                 {"EUR", 0},
                 {"EUR", LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS}};
    ledger_account a[6];
    ledger_account_result r[6];
    memset(a, 0, sizeof a);
    for (int i = 0; i < 6; i++) {
        a[i].id = ledger_id_from_u64((uint64_t)i + 1);
        memcpy(a[i].currency, spec[i].currency, 4);
        a[i].kind = LEDGER_KIND_CUSTOMER_WALLET;
        a[i].flags = spec[i].flags;
        a[i].code = 1;
    }
    if (ledger_create_accounts(writer, a, 6, r) != SB_OK) abort();
    return 0;
}

static int64_t amount_of(uint8_t cls, uint8_t magnitude) {
    switch (cls % 8) {
    case 0:
        return 0;
    case 1:
        return -(int64_t)magnitude - 1;
    case 2:
        return INT64_MAX;
    case 3:
        return INT64_MAX - magnitude;
    case 4:
        return INT64_MIN;
    default:
        return (int64_t)magnitude * (cls / 8 + 1);
    }
}

typedef struct {
    __int128 debits_posted, credits_posted, debits_pending, credits_pending;
    int broken;
} books;

static int add(const ledger_account *a, void *arg) {
    books *b = arg;
    b->debits_posted += a->debits_posted;
    b->credits_posted += a->credits_posted;
    b->debits_pending += a->debits_pending;
    b->credits_pending += a->credits_pending;
    if (a->debits_posted < 0 || a->credits_posted < 0 || a->debits_pending < 0 || a->credits_pending < 0) b->broken = 1;
    if ((a->flags & LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS) &&
        (__int128)a->debits_pending + a->debits_posted > a->credits_posted)
        b->broken = 1;
    if ((a->flags & LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS) &&
        (__int128)a->credits_pending + a->credits_posted > a->debits_posted)
        b->broken = 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static unsigned runs;
    ledger_id id;
    size_t text_len = size < 40 ? size : 40;
    if (ledger_id_parse((const char *)data, text_len, &id) == SB_OK) {
        char hex[LEDGER_ID_HEX_BYTES];
        ledger_id again;
        ledger_id_format(id, hex);
        if (ledger_id_parse(hex, 32, &again) != SB_OK || !ledger_id_equal(id, again)) __builtin_trap();
    }
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)data, size, 0, &jerr);
    if (doc) {
        ledger_transfer a, b;
        ledger_account acct;
        char err[LEDGER_JSON_ERR_BYTES];
        if (ledger_transfer_from_json(doc, &a, err) == SB_OK) {
            json_t *again = ledger_transfer_to_json(&a);
            if (!again || json_object_del(again, "timestamp_ns") != 0 ||
                ledger_transfer_from_json(again, &b, err) != SB_OK || memcmp(&a, &b, sizeof a) != 0)
                __builtin_trap();
            json_decref(again);
        }
        if (ledger_account_from_json(doc, &acct, err) == SB_OK) json_decref(ledger_account_to_json(&acct));
        json_decref(doc);
    }
    ledger_transfer t[16];
    ledger_result r[16];
    size_t n = 0;
    for (size_t off = 0; off + 12 <= size && n < 16; off += 12, n++) {
        const uint8_t *b = data + off;
        memset(&t[n], 0, sizeof t[n]);
        t[n].id = ledger_id_from_u64(b[0] % 200); /* small space: retries and clashes happen */
        if (b[0] == 255) t[n].id = (ledger_id){UINT64_MAX, UINT64_MAX};
        t[n].debit_account_id = ledger_id_from_u64(b[1] % 8); /* 0 and 7 do not exist */
        t[n].credit_account_id = ledger_id_from_u64(b[2] % 8);
        t[n].pending_id = ledger_id_from_u64(b[3] % 4 == 0 ? 0 : b[3] % 200);
        t[n].flags = b[4];
        t[n].amount_minor = amount_of(b[5], b[6]);
        t[n].timeout_ms = b[7] % 4 == 0 ? 0 : b[7] % 4 == 1 ? -1 : (int64_t)b[8] * 1000;
        t[n].code = b[9] % 16;
        t[n].user_data = ledger_id_from_u64(b[10] % 3);
        if (b[11] & 1) t[n].flags &= LEDGER_TRANSFER_FLAGS_ALL;
    }
    if (n == 0) return 0;
    if (ledger_submit_transfers(writer, t, n, r) != SB_OK) __builtin_trap();
    for (size_t i = 0; i < n; i++)
        if (r[i] >= LEDGER_RESULT_COUNT) __builtin_trap();
    books bk;
    memset(&bk, 0, sizeof bk);
    if (ledger_each_account(reader, add, &bk) != SB_OK) __builtin_trap();
    if (bk.broken || bk.debits_posted != bk.credits_posted || bk.debits_pending != bk.credits_pending) __builtin_trap();
    if (++runs % 256 == 0) {
        ledger_verify_report rep;
        if (ledger_verify(reader, &rep) != SB_OK) {
            fprintf(stderr, "verify: %s\n", rep.problem);
            __builtin_trap();
        }
    }
    return 0;
}
