/*
 * test_payments_sheba.c - Sheba (Iranian IBAN): ISO 7064 mod 97-10, the
 * bank from its code, the account part, and other countries' IBANs.
 *
 * Published vectors: persian-tools (github.com/persian-tools/persian-tools,
 * test/sheba.spec.ts) for IR820540102680020817909002 (Parsian, code 054,
 * account 020817909002) and its invalid examples; the ISO 13616 / SWIFT
 * IBAN registry examples for GB82WEST12345698765432 and
 * DE89370400440532013000 and UA213223130000026007233566001.  Hand-checked: the Melli Sheba built below, whose
 * check digits were computed by the mod 97 rule (98 - (BBAN||"IR00") mod 97).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "payments/payments.h"

static void test_published_parsian(void **state) {
    (void)state;
    payments_sheba sheba;
    payments_reason reason;
    assert_int_equal(payments_sheba_parse("IR820540102680020817909002", &sheba, &reason), SB_OK);
    assert_int_equal(reason, PAYMENTS_OK);
    assert_string_equal(sheba.iban, "IR820540102680020817909002");
    assert_string_equal(sheba.bank_code, "054");
    assert_string_equal(sheba.bank->id, "parsian");
    assert_string_equal(sheba.account_number, "020817909002"); /* persian-tools: accountNumber */
    assert_string_equal(sheba.account_field, "102680020817909002");
    assert_int_equal(sheba.account_type, '0');
    /* the same, typed with spaces, lower case and Persian digits: ir۸۲ ۰۵۴۰ ... */
    assert_int_equal(payments_sheba_parse("ir\xDB\xB8\xDB\xB2 0540 1026 8002 0817 9090 02", &sheba, &reason), SB_OK);
    assert_string_equal(sheba.iban, "IR820540102680020817909002");
    /* without "IR": 24 digits */
    assert_int_equal(payments_sheba_parse("820540102680020817909002", &sheba, &reason), SB_OK);
    assert_string_equal(sheba.iban, "IR820540102680020817909002");
}

static void test_published_invalid(void **state) {
    (void)state;
    payments_sheba sheba;
    payments_reason reason;
    /* persian-tools test/sheba.spec.ts "Verify, Should be falsy" */
    assert_int_equal(payments_sheba_parse("IR01234567890123456789", &sheba, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_BAD_LENGTH);
    assert_int_equal(payments_sheba_parse("IR012345678901234567890123456789", &sheba, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_BAD_LENGTH);
    assert_int_equal(payments_sheba_parse("IR012345678901234567890123", &sheba, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_BAD_IBAN_CHECKSUM);
    assert_int_equal(payments_sheba_parse("IR012345678A01234567890123", &sheba, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_BAD_CHARACTER);
    assert_string_equal(sheba.iban, "");
    /* one digit changed in the valid Parsian Sheba */
    assert_int_equal(payments_sheba_parse("IR820540102680020817909003", &sheba, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_BAD_IBAN_CHECKSUM);
    /* two adjacent digits swapped */
    assert_int_equal(payments_sheba_parse("IR820540102680020817900902", &sheba, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_BAD_IBAN_CHECKSUM);
}

static void test_other_countries(void **state) {
    (void)state;
    payments_sheba sheba;
    payments_reason reason;
    /* IBAN registry examples: valid, but not Iranian */
    assert_int_equal(payments_sheba_parse("GB82 WEST 1234 5698 7654 32", &sheba, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_NOT_IRANIAN_IBAN);
    assert_string_equal(sheba.country, "GB");
    assert_int_equal(payments_sheba_parse("DE89370400440532013000", &sheba, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_NOT_IRANIAN_IBAN);
    assert_string_equal(sheba.country, "DE");
    /* Ukraine (IBAN registry example): not Iranian either */
    assert_int_equal(payments_sheba_parse("UA213223130000026007233566001", &sheba, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_NOT_IRANIAN_IBAN);
    assert_string_equal(sheba.country, "UA");
    assert_string_equal(sheba.iban, "");
    /* broken foreign IBAN: checksum, not "not Iranian" */
    assert_int_equal(payments_sheba_parse("GB83WEST12345698765432", &sheba, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_BAD_IBAN_CHECKSUM);
    assert_true(payments_iban_checksum_valid("GB82WEST12345698765432", 22));
    assert_false(payments_iban_checksum_valid("GB82WEST12345698765433", 22));
}

static void test_shape_errors(void **state) {
    (void)state;
    payments_sheba sheba;
    payments_reason reason;
    assert_int_equal(payments_sheba_parse("", &sheba, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_EMPTY);
    assert_int_equal(payments_sheba_parse("   ", &sheba, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_EMPTY);
    assert_int_equal(payments_sheba_parse("1234", &sheba, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_NOT_IBAN);
    assert_int_equal(payments_sheba_parse("IRXX0540102680020817909002", &sheba, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_NOT_IBAN);
    assert_int_equal(payments_sheba_parse("IR82/0540102680020817909002", &sheba, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_BAD_CHARACTER);
    assert_int_equal(payments_sheba_parse("XX12345678901234567890123456789012345", &sheba, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_BAD_LENGTH);
}

/* Build a Sheba for a bank code and account, computing its check digits
 * the ISO way (independently of the parser's rotation loop). */
static void make_sheba(const char *bank_code, const char *type_and_account /* 19 digits */, char out[27]) {
    char bban[23];
    snprintf(bban, sizeof bban, "%s%s", bank_code, type_and_account);
    /* BBAN + "IR00" with I=18, R=27 -> "182700" */
    char numeric[64];
    snprintf(numeric, sizeof numeric, "%s182700", bban);
    unsigned rem = 0;
    for (const char *p = numeric; *p; p++)
        rem = (rem * 10 + (unsigned)(*p - '0')) % 97;
    unsigned check = 98 - rem;
    snprintf(out, 27, "IR%02u%s", check, bban);
}

static void test_banks_and_account_rules(void **state) {
    (void)state;
    char iban[27];
    payments_sheba sheba;
    payments_reason reason;
    make_sheba("017", "0000000000123456789", iban);
    assert_int_equal(payments_sheba_parse(iban, &sheba, &reason), SB_OK);
    assert_string_equal(sheba.bank->id, "melli");
    assert_string_equal(sheba.account_number, "123456789"); /* generic: leading zeros dropped */
    make_sheba("057", "0000080012345678901", iban);
    assert_int_equal(payments_sheba_parse(iban, &sheba, &reason), SB_OK);
    assert_string_equal(sheba.bank->id, "pasargad");
    assert_string_equal(sheba.account_number, "800123456789"); /* Pasargad: last two digits dropped */
    make_sheba("061", "0000000700123456789", iban);
    assert_int_equal(payments_sheba_parse(iban, &sheba, &reason), SB_OK);
    assert_string_equal(sheba.bank->id, "shahr");
    assert_string_equal(sheba.account_number, "700123456789");
    make_sheba("090", "0000000000000000042", iban);
    assert_int_equal(payments_sheba_parse(iban, &sheba, &reason), SB_OK);
    assert_string_equal(sheba.bank->id, "mehr-iran"); /* second code of Mehr Iran */
    /* a well-formed Sheba with no bank behind its code */
    make_sheba("099", "0000000000000000042", iban);
    assert_int_equal(payments_sheba_parse(iban, &sheba, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_UNKNOWN_BANK);
    /* every bank's code round-trips */
    size_t n;
    const payments_bank *banks = payments_banks(&n);
    for (size_t i = 0; i < n; i++) {
        if (!banks[i].sheba_code) continue;
        make_sheba(banks[i].sheba_code, "0000000001234567890", iban);
        assert_int_equal(payments_sheba_parse(iban, &sheba, &reason), SB_OK);
        assert_ptr_equal(sheba.bank, &banks[i]);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_published_parsian),       cmocka_unit_test(test_published_invalid),
        cmocka_unit_test(test_other_countries),         cmocka_unit_test(test_shape_errors),
        cmocka_unit_test(test_banks_and_account_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
