/*
 * ledger_names.c - the text side of the ledger's interface: 128-bit ids as
 * hex, account kinds, and the stable names of result codes (the names are
 * what HTTP routes and the CLI show, so they never change once published).
 */
#include <string.h>

#include "ledger/ledger.h"

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int ledger_id_parse(const char *text, size_t len, ledger_id *out) {
    *out = (ledger_id){0, 0};
    if (!text || len == 0 || len > 32) return SB_EINVAL;
    ledger_id id = {0, 0};
    for (size_t i = 0; i < len; i++) {
        int v = hex_value(text[i]);
        if (v < 0) return SB_EINVAL;
        id.hi = (id.hi << 4) | (id.lo >> 60);
        id.lo = (id.lo << 4) | (uint64_t)v;
    }
    *out = id;
    return SB_OK;
}

void ledger_id_format(ledger_id id, char out[LEDGER_ID_HEX_BYTES]) {
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[15 - i] = digits[(id.hi >> (4 * i)) & 15];
        out[31 - i] = digits[(id.lo >> (4 * i)) & 15];
    }
    out[32] = '\0';
}

bool ledger_id_is_zero(ledger_id id) { return id.hi == 0 && id.lo == 0; }
bool ledger_id_is_max(ledger_id id) { return id.hi == UINT64_MAX && id.lo == UINT64_MAX; }
bool ledger_id_equal(ledger_id a, ledger_id b) { return a.hi == b.hi && a.lo == b.lo; }
ledger_id ledger_id_from_u64(uint64_t lo) { return (ledger_id){0, lo}; }

ledger_id ledger_id_random(void) {
    ledger_id id;
    do {
        sb_random_bytes(&id, sizeof id);
    } while (ledger_id_is_zero(id) || ledger_id_is_max(id));
    return id;
}

static const char *const kind_names[LEDGER_KIND_MAX + 1] = {
    NULL,       "customer_wallet",      "bank_settlement", "fees",
    "suspense", "external_card_switch", "external_biller", "external_operator",
};

const char *ledger_account_kind_name(int kind) {
    if (kind < 1 || kind > LEDGER_KIND_MAX) return NULL;
    return kind_names[kind];
}

int ledger_account_kind_parse(const char *text, ledger_account_kind *out) {
    for (int k = 1; k <= LEDGER_KIND_MAX; k++) {
        if (text && strcmp(text, kind_names[k]) == 0) {
            *out = (ledger_account_kind)k;
            return SB_OK;
        }
    }
    return SB_EINVAL;
}

static const char *const account_result_names[LEDGER_ACCOUNT_RESULT_COUNT] = {
    "ok",
    "id_must_not_be_zero",
    "id_must_not_be_int_max",
    "reserved_flag",
    "flags_are_mutually_exclusive",
    "currency_invalid",
    "kind_invalid",
    "code_must_not_be_zero",
    "exists_with_different_flags",
    "exists_with_different_currency",
    "exists_with_different_kind",
    "exists_with_different_code",
    "exists_with_different_user_data",
    "exists",
};

const char *ledger_account_result_name(int result) {
    if (result < 0 || result >= LEDGER_ACCOUNT_RESULT_COUNT) return "unknown";
    return account_result_names[result];
}

static const char *const result_names[LEDGER_RESULT_COUNT] = {
    "ok",
    "linked_event_failed",
    "linked_event_chain_open",
    "id_must_not_be_zero",
    "id_must_not_be_int_max",
    "reserved_flag",
    "flags_are_mutually_exclusive",
    "debit_account_id_must_not_be_zero",
    "debit_account_id_must_not_be_int_max",
    "credit_account_id_must_not_be_zero",
    "credit_account_id_must_not_be_int_max",
    "accounts_must_be_different",
    "pending_id_must_be_zero",
    "pending_id_must_not_be_zero",
    "pending_id_must_not_be_int_max",
    "pending_id_must_be_different",
    "timeout_reserved_for_pending_transfer",
    "timeout_out_of_range",
    "amount_must_be_positive",
    "code_must_not_be_zero",
    "debit_account_not_found",
    "credit_account_not_found",
    "accounts_must_have_the_same_currency",
    "pending_transfer_not_found",
    "pending_transfer_not_pending",
    "pending_transfer_has_different_debit_account_id",
    "pending_transfer_has_different_credit_account_id",
    "exceeds_pending_transfer_amount",
    "pending_transfer_has_different_amount",
    "exists_with_different_flags",
    "exists_with_different_debit_account_id",
    "exists_with_different_credit_account_id",
    "exists_with_different_pending_id",
    "exists_with_different_amount",
    "exists_with_different_timeout",
    "exists_with_different_code",
    "exists_with_different_user_data",
    "exists",
    "pending_transfer_already_posted",
    "pending_transfer_already_voided",
    "pending_transfer_expired",
    "overflows_debits_pending",
    "overflows_credits_pending",
    "overflows_debits_posted",
    "overflows_credits_posted",
    "overflows_debits",
    "overflows_credits",
    "overflows_timeout",
    "exceeds_credits",
    "exceeds_debits",
};

const char *ledger_result_name(int result) {
    if (result < 0 || result >= LEDGER_RESULT_COUNT) return "unknown";
    return result_names[result];
}
