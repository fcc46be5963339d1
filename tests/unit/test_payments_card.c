/*
 * test_payments_card.c - bank card numbers: Luhn, length, Persian and
 * Arabic-Indic digits, separators, issuing bank from the BIN, masking, and
 * that no failure leaves the full number behind.
 *
 * Published vectors are from persian-tools
 * (github.com/persian-tools/persian-tools, test/verifyCardNumber.spec.ts and
 * test/getBankNameFromCardNumber.spec.ts); the rest are hand-checked (Luhn
 * computed digit by digit in the comments).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "payments/payments.h"

static int parse(const char *in, payments_card *card, payments_reason *reason) {
    return payments_card_parse(in, card, reason);
}

/* persian-tools test/verifyCardNumber.spec.ts: valid cards. */
static void test_published_valid(void **state) {
    (void)state;
    payments_card card;
    payments_reason reason;
    assert_int_equal(parse("6037701689095443", &card, &reason), SB_OK);
    assert_int_equal(reason, PAYMENTS_OK);
    /* persian-tools test/getBankNameFromCardNumber.spec.ts: 6037701689095443 -> بانک کشاورزی */
    assert_string_equal(card.bank->id, "keshavarzi");
    assert_string_equal(card.bank->name_fa, "بانک کشاورزی");
    assert_string_equal(card.masked, "603770******5443");
    assert_string_equal(card.bin, "603770");
    assert_string_equal(card.number, "6037701689095443");
    payments_card_wipe(&card);
    assert_int_equal(card.number[0], '\0');

    assert_int_equal(parse("6219861034529007", &card, &reason), SB_OK);
    /* persian-tools: 6219861034529007 -> بانک سامان */
    assert_string_equal(card.bank->id, "saman");
    assert_string_equal(card.bank->name_fa, "بانک سامان");
    assert_string_equal(card.masked, "621986******9007");
    payments_card_wipe(&card);
}

/* persian-tools test/verifyCardNumber.spec.ts: invalid cards. */
static void test_published_invalid(void **state) {
    (void)state;
    payments_card card;
    payments_reason reason;
    assert_int_equal(parse("6219861034529008", &card, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_BAD_CHECK_DIGIT);
    assert_string_equal(card.number, ""); /* the full number is not kept */
    assert_string_equal(card.masked, "621986******9008");
    assert_int_equal(parse("621986103452900", &card, &reason), SB_EINVAL); /* too short */
    assert_int_equal(reason, PAYMENTS_REASON_BAD_LENGTH);
    assert_int_equal(parse("1234567890123456789", &card, &reason), SB_EINVAL); /* too long */
    assert_int_equal(reason, PAYMENTS_REASON_BAD_LENGTH);
    assert_int_equal(parse("123456789012345", &card, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_BAD_LENGTH);
    assert_int_equal(parse("abcd1234567890ab", &card, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_BAD_CHARACTER);
    /* Luhn-valid but not Iranian (persian-tools rejects them too): */
    assert_int_equal(parse("4444333322221111", &card, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_UNKNOWN_BANK);
    assert_int_equal(parse("2222444499996666", &card, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_UNKNOWN_BANK);
    assert_int_equal(parse("4000000000000002", &card, &reason), SB_EINVAL); /* Visa test number */
    assert_int_equal(reason, PAYMENTS_REASON_UNKNOWN_BANK);
    assert_int_equal(parse("5555555555554444", &card, &reason), SB_EINVAL); /* Mastercard test number */
    assert_int_equal(reason, PAYMENTS_REASON_UNKNOWN_BANK);
    assert_int_equal(parse("0000000000000000", &card, &reason), SB_EINVAL); /* Luhn sum 0, no bank */
    assert_int_equal(reason, PAYMENTS_REASON_UNKNOWN_BANK);
    assert_int_equal(parse("1111111111111111", &card, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_BAD_CHECK_DIGIT);
    assert_int_equal(parse("1234567890123456", &card, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_BAD_CHECK_DIGIT);
    assert_int_equal(parse("", &card, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_EMPTY);
    assert_int_equal(parse(NULL, &card, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_EMPTY);
}

/* Hand-checked: 6037 9900 0000 0006 (Melli BIN 603799).  Luhn from the
 * right: 6 + (0)*2 ... the only non-zero digits are 6,0,3,7,9,9 at the
 * front and the check 6: doubled positions (from the right, odd index)
 * hold 6->12->3, 3->6, 9->18->9; plain ones 0, 7, 9 (and zeros): sum =
 * 3+6+9 + 0+7+9 + 6 = 40. */
static void test_hand_checked_melli(void **state) {
    (void)state;
    payments_card card;
    payments_reason reason;
    assert_int_equal(parse("6037990000000006", &card, &reason), SB_OK);
    assert_string_equal(card.bank->id, "melli");
    assert_string_equal(card.masked, "603799******0006");
    payments_card_wipe(&card);
    /* one digit changed: check fails */
    assert_int_equal(parse("6037990000000016", &card, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_BAD_CHECK_DIGIT);
}

static void test_digits_and_separators(void **state) {
    (void)state;
    payments_card card;
    payments_reason reason;
    assert_int_equal(parse("6037-7016-8909-5443", &card, &reason), SB_OK);
    assert_string_equal(card.masked, "603770******5443");
    assert_int_equal(parse(" 6037 7016 8909 5443 ", &card, &reason), SB_OK);
    assert_string_equal(card.number, "6037701689095443");
    /* Persian digits ۶۰۳۷۷۰۱۶۸۹۰۹۵۴۴۳ */
    assert_int_equal(parse("\xDB\xB6\xDB\xB0\xDB\xB3\xDB\xB7\xDB\xB7\xDB\xB0\xDB\xB1\xDB\xB6"
                           "\xDB\xB8\xDB\xB9\xDB\xB0\xDB\xB9\xDB\xB5\xDB\xB4\xDB\xB4\xDB\xB3",
                           &card, &reason),
                     SB_OK);
    assert_string_equal(card.number, "6037701689095443");
    /* Arabic-Indic digits ٦٢١٩ ٨٦١٠ ٣٤٥٢ ٩٠٠٧ with spaces */
    assert_int_equal(parse("\xD9\xA6\xD9\xA2\xD9\xA1\xD9\xA9 \xD9\xA8\xD9\xA6\xD9\xA1\xD9\xA0 "
                           "\xD9\xA3\xD9\xA4\xD9\xA5\xD9\xA2 \xD9\xA9\xD9\xA0\xD9\xA0\xD9\xA7",
                           &card, &reason),
                     SB_OK);
    assert_string_equal(card.bank->id, "saman");
    payments_card_wipe(&card);
    assert_int_equal(parse("6037.7016.8909.5443", &card, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_BAD_CHARACTER);
    assert_int_equal(parse("6037701689095443\n", &card, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_BAD_CHARACTER);
    char long_in[SB_PAYMENTS_INPUT_BYTES_MAX + 2];
    memset(long_in, ' ', sizeof long_in);
    memcpy(long_in, "6037701689095443", 16);
    long_in[sizeof long_in - 1] = '\0';
    assert_int_equal(parse(long_in, &card, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_TOO_LONG);
}

/* Every BIN in the table yields its bank, for a Luhn-valid number built on
 * it; reason texts never contain digits (so they cannot carry a card). */
static void test_every_bin(void **state) {
    (void)state;
    const char *bin;
    const payments_bank *bank;
    size_t n = 0;
    for (size_t i = 0; payments_bin_at(i, &bin, &bank); i++, n++) {
        char number[17];
        memcpy(number, bin, 6);
        memcpy(number + 6, "123456789", 9);
        number[16] = '\0';
        for (char check = '0'; check <= '9'; check++) {
            number[15] = check;
            if (payments_luhn_valid(number, 16)) break;
        }
        payments_card card;
        payments_reason reason;
        assert_int_equal(payments_card_parse(number, &card, &reason), SB_OK);
        assert_ptr_equal(card.bank, bank);
        assert_ptr_equal(payments_bank_by_bin(bin), bank);
        payments_card_wipe(&card);
    }
    assert_true(n >= 50);
    size_t nbanks;
    const payments_bank *all = payments_banks(&nbanks);
    assert_true(nbanks >= 35);
    for (size_t i = 0; i < nbanks; i++) {
        assert_non_null(all[i].id);
        assert_non_null(all[i].name_en);
        assert_non_null(all[i].name_fa);
    }
    for (int r = 0; r < PAYMENTS_REASON_COUNT; r++) {
        const char *text = payments_reason_text((payments_reason)r);
        for (const char *p = text; *p; p++)
            assert_false(*p >= '0' && *p <= '9' && r != PAYMENTS_REASON_BAD_IBAN_CHECKSUM);
    }
}

static void test_luhn_and_mask(void **state) {
    (void)state;
    assert_true(payments_luhn_valid("79927398713", 11)); /* the classic Luhn example */
    assert_false(payments_luhn_valid("79927398710", 11));
    assert_false(payments_luhn_valid("", 0));
    assert_false(payments_luhn_valid("12a4", 4));
    char masked[PAYMENTS_CARD_MASKED_BYTES];
    payments_card_mask("6037991234561234", masked);
    assert_string_equal(masked, "603799******1234");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_published_valid),    cmocka_unit_test(test_published_invalid),
        cmocka_unit_test(test_hand_checked_melli), cmocka_unit_test(test_digits_and_separators),
        cmocka_unit_test(test_every_bin),          cmocka_unit_test(test_luhn_and_mask),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
