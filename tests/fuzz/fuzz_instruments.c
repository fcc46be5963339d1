/*
 * fuzz_instruments.c - libFuzzer target over every payments parser and the
 * split arithmetic.
 *
 * The input is one text: it is given whole to the card, Sheba and mobile
 * parsers and to sb_phone_normalize, and split at its first newline into a
 * bill ID and a payment ID.  The raw bytes also drive a split spec (mode,
 * rule, count, values).  Beyond "no crash, no sanitizer report", each
 * success is checked against what it claims: a parsed card is 16 digits
 * with a good Luhn sum and a known BIN and its mask is first six + last
 * four; a Sheba passes mod 97 again; a bill's check digits recompute; a
 * phone is "+" and digits and normalises to itself; split columns sum to
 * their inputs.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "payments/payments.h"

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond)) abort();                                                                                          \
    } while (0)

static void fuzz_split(const uint8_t *data, size_t size) {
    if (size < 4) return;
    payments_split_spec spec = {0};
    spec.mode = (payments_split_mode)(data[0] % 5); /* 4 is invalid on purpose */
    spec.rule = (payments_remainder_rule)(data[1] % 3);
    spec.count = (size_t)(data[2] % 40);
    spec.remainder_share = (size_t)(data[3] % 41);
    int64_t values[40];
    size_t at = 4;
    for (size_t i = 0; i < 40; i++) {
        int64_t v = 0;
        for (int b = 0; b < 3 && at < size; b++)
            v = (v << 8) | data[at++];
        values[i] = v;
    }
    spec.values = values;
    int64_t sum = 0;
    for (size_t i = 0; i < spec.count; i++)
        sum += values[i];
    spec.subtotal_minor = spec.mode == PAYMENTS_SPLIT_AMOUNTS ? sum : (at < size ? (int64_t)data[at] * 1000003 : 0);
    spec.tax_minor = size > 8 ? data[size - 1] * 7 : 0;
    spec.tip_minor = size > 9 ? data[size - 2] : 0;
    payments_share shares[40];
    if (payments_split(&spec, shares) == SB_OK) {
        int64_t b = 0, t = 0, p = 0;
        for (size_t i = 0; i < spec.count; i++) {
            CHECK(shares[i].base_minor >= 0 && shares[i].tax_minor >= 0 && shares[i].tip_minor >= 0);
            b += shares[i].base_minor;
            t += shares[i].tax_minor;
            p += shares[i].tip_minor;
        }
        CHECK(b == spec.subtotal_minor && t == spec.tax_minor && p == spec.tip_minor);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 4 * SB_PAYMENTS_INPUT_BYTES_MAX) return 0;
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    payments_reason reason;
    payments_card card;
    if (payments_card_parse(text, &card, &reason) == SB_OK) {
        CHECK(strlen(card.number) == 16 && payments_luhn_valid(card.number, 16));
        CHECK(card.bank && payments_bank_by_bin(card.number) == card.bank);
        CHECK(memcmp(card.masked, card.number, 6) == 0 && memcmp(card.masked + 6, "******", 6) == 0 &&
              memcmp(card.masked + 12, card.number + 12, 4) == 0);
        payments_card_wipe(&card);
    } else {
        CHECK(reason != PAYMENTS_OK && card.number[0] == '\0');
    }

    payments_sheba sheba;
    if (payments_sheba_parse(text, &sheba, &reason) == SB_OK) {
        CHECK(strlen(sheba.iban) == 26 && payments_iban_checksum_valid(sheba.iban, 26) && sheba.bank);
    } else {
        CHECK(reason != PAYMENTS_OK && sheba.iban[0] == '\0');
    }

    payments_mobile mobile;
    if (payments_mobile_parse(text, &mobile, &reason) == SB_OK) CHECK(mobile.operator_id != PAYMENTS_OPERATOR_NONE);
    char e164[SB_PHONE_BYTES];
    if (sb_phone_normalize(text, e164, NULL) == SB_OK) {
        CHECK(e164[0] == '+' && strlen(e164) == 13);
        char again[SB_PHONE_BYTES];
        CHECK(sb_phone_normalize(e164, again, NULL) == SB_OK && strcmp(again, e164) == 0);
    }

    char *newline = strchr(text, '\n');
    const char *payment = "";
    if (newline) {
        *newline = '\0';
        payment = newline + 1;
    }
    payments_bill bill;
    if (payments_bill_parse(text, payment, &bill, &reason) == SB_OK) {
        size_t bl = strlen(bill.bill_id), pl = strlen(bill.payment_id);
        CHECK(payments_bill_check_digit(bill.bill_id, bl - 1) == bill.bill_id[bl - 1] - '0');
        CHECK(payments_bill_check_digit(bill.payment_id, pl - 2) == bill.payment_id[pl - 2] - '0');
        CHECK(bill.amount_rials > 0 && bill.amount_rials % 1000 == 0);
        CHECK(strcmp(payments_bill_type_name(bill.type), "unknown") != 0);
    }
    free(text);
    fuzz_split(data, size);
    return 0;
}
