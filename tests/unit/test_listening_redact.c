/*
 * test_listening_redact.c - redaction vectors for every kind (ASCII and
 * Persian digits, separators), no false positives on amounts, dates and
 * times, the check-digit helpers, and sealing: round trip, wrong key,
 * damaged blob, key loading.
 */
#include <sodium.h>
#include <unistd.h>

#include "listening_test_util.h"

static void expect_redacted(const char *in, const char *want) {
    sb_buf out;
    sb_buf_init(&out, 3 * strlen(in) + 16);
    assert_int_equal(listening_redact(in, strlen(in), &out, NULL), SB_OK);
    assert_string_equal(out.len ? out.data : "", want);
    sb_buf_free(&out);
}

static void test_check_digits(void **state) {
    (void)state;
    assert_true(listening_luhn_valid("4111111111111111", 16));
    assert_true(listening_luhn_valid("6037991234567893", 16));
    assert_false(listening_luhn_valid("6037991234567890", 16));
    assert_true(listening_national_id_valid("0012345679"));
    assert_true(listening_national_id_valid("4498765435"));
    assert_false(listening_national_id_valid("0012345678"));
    assert_false(listening_national_id_valid("1111111111")); /* placeholder, though the sum fits */
    assert_false(listening_national_id_valid("1234567890"));
}

static void test_cards(void **state) {
    (void)state;
    expect_redacted("my card 6037991234567893 was charged twice", "my card [card] was charged twice");
    expect_redacted("card: 6037-9912-3456-7893.", "card: [card].");
    expect_redacted("4111 1111 1111 1111 blocked", "[card] blocked");
    /* 4-4-4-4 layout is a card even with a typo in the check digit. */
    expect_redacted("6037 9912 3456 7890", "[card]");
    /* Persian digits with spaces. */
    expect_redacted("کارت ۶۰۳۷ ۹۹۱۲ ۳۴۵۶ ۷۸۹۳ مسدود شد", "کارت [card] مسدود شد");
    /* A card followed by an amount: the card is found inside the longer run. */
    expect_redacted("6037991234567893 500000 rial", "[card] 500000 rial");
}

/* Invisible formatting characters (Unicode Cf) between digits hide nothing
 * from a reader, so they hide nothing from the redactor: ZWNJ, ZWJ, LRM,
 * RLM, bidi isolates, word joiner, soft hyphen, BOM. */
static void test_invisible_between_digits(void **state) {
    (void)state;
    expect_redacted("card 6037\u200c9912\u200c3456\u200c7893 now", "card [card] now");
    expect_redacted("6\u200c0\u200c3\u200c7\u200c9\u200c9\u200c1\u200c2\u200c3\u200c4\u200c5\u200c6\u200c7\u200c8"
                    "\u200c9\u200c3",
                    "[card]");
    expect_redacted("6037\u200d991234567893", "[card]");
    expect_redacted("603799\u200e\u200f1234567893", "[card]");
    expect_redacted("6037\u2068\u2069991234\u2060567893!", "[card]!");
    expect_redacted("6037\u00ad9912\u00ad3456\u00ad7893", "[card]");
    expect_redacted("6037\ufeff9912 \u200c3456\u200c \u200c7893", "[card]");
    expect_redacted("کارت ۶۰۳۷\u200c۹۹۱۲\u200c۳۴۵۶\u200c۷۸۹۳ مسدود", "کارت [card] مسدود");
    expect_redacted("call 0912\u200c123\u200c4567 please", "call [phone] please");
    expect_redacted("+\u200c98 912 123 4567", "[phone]");
    /* Not between digits: the text stays as it was. */
    expect_redacted("\u200cabc\u200c 12\u200c", "\u200cabc\u200c 12\u200c");
    expect_redacted("می\u200cخواهم ۵۰۰ هزار", "می\u200cخواهم ۵۰۰ هزار");
}

static void test_phones(void **state) {
    (void)state;
    expect_redacted("call me 09121234567 please", "call me [phone] please");
    expect_redacted("شماره من ۰۹۱۲۱۲۳۴۵۶۷ است", "شماره من [phone] است");
    expect_redacted("+98 912 123 4567", "[phone]");
    expect_redacted("мій номер +380 50 123 4567, дзвоніть", "мій номер [phone], дзвоніть");
    expect_redacted("тел. 050-123-45-67", "тел. [phone]");
    expect_redacted("(0912) 123-4567", "([phone]");
}

static void test_national_id_iban_email(void **state) {
    (void)state;
    expect_redacted("کد ملی 0012345679 هست", "کد ملی [national_id] هست");
    expect_redacted("code 449-876543-5", "code [national_id]");
    expect_redacted("sheba IR062960000000100324200001 please", "sheba [iban] please");
    expect_redacted("شبا IR06 2960 0000 0010 0324 2000 01", "شبا [iban]");
    expect_redacted("write to ali.rezaei+bank@mail.example.com today", "write to [email] today");
    expect_redacted("ping @support_bank on twitter", "ping @support_bank on twitter");
    expect_redacted("user@localhost is not an address", "user@localhost is not an address");
    sb_buf out;
    sb_buf_init(&out, 1024);
    listening_redaction_counts c;
    const char *all = "a@b.io 09121234567 4111111111111111 0012345679 IR062960000000100324200001";
    assert_int_equal(listening_redact(all, strlen(all), &out, &c), SB_OK);
    assert_string_equal(out.data, "[email] [phone] [card] [national_id] [iban]");
    assert_int_equal(c.emails, 1);
    assert_int_equal(c.phones, 1);
    assert_int_equal(c.cards, 1);
    assert_int_equal(c.national_ids, 1);
    assert_int_equal(c.ibans, 1);
    sb_buf_free(&out);
}

static void test_no_false_positives(void **state) {
    (void)state;
    const char *ordinary[] = {
        "I paid 1,500,000 rials for the transfer",
        "fee went from 250 000 to 300 000 UAH",
        "انتقال ۵۰۰۰۰۰۰ تومان در تاریخ ۱۴۰۲/۰۵/۱۲ انجام شد",
        "on 2026-11-23 at 12:30 the app crashed",
        "order 1234567890 still not delivered", /* fails the national-ID check digit */
        "12 34 56 78 90 12",
        "price 99.99 $ and 2024",
        "version 4.11.1",
        "",
    };
    for (size_t k = 0; k < SB_ARRAY_LEN(ordinary); k++)
        expect_redacted(ordinary[k], ordinary[k]);
}

static void test_bad_input(void **state) {
    (void)state;
    sb_buf out;
    sb_buf_init(&out, 1024);
    assert_int_equal(listening_redact("\xff\xfe", 2, &out, NULL), SB_EINVAL);
    char *big = malloc(SB_LISTENING_TEXT_BYTES_MAX + 1);
    memset(big, '1', SB_LISTENING_TEXT_BYTES_MAX + 1);
    assert_int_equal(listening_redact(big, SB_LISTENING_TEXT_BYTES_MAX + 1, &out, NULL), SB_ELIMIT);
    /* A maximal run of digits is bounded work and stays (no category). */
    sb_buf_init(&out, 3 * SB_LISTENING_TEXT_BYTES_MAX + 16);
    assert_int_equal(listening_redact(big, SB_LISTENING_TEXT_BYTES_MAX, &out, NULL), SB_OK);
    assert_int_equal(out.len, SB_LISTENING_TEXT_BYTES_MAX);
    free(big);
    sb_buf_free(&out);
}

static void test_seal_round_trip_and_wrong_key(void **state) {
    (void)state;
    unsigned char key[LISTENING_KEY_BYTES], other[LISTENING_KEY_BYTES];
    assert_int_equal(sb_crypto_init(), SB_OK);
    randombytes_buf(key, sizeof key);
    randombytes_buf(other, sizeof other);
    const char *plain = "کارت ۶۰۳۷۹۹۱۲۳۴۵۶۷۸۹۳ stolen";
    unsigned char *blob;
    size_t blob_len;
    assert_int_equal(listening_seal(key, plain, strlen(plain), &blob, &blob_len), SB_OK);
    assert_int_equal(blob_len, strlen(plain) + crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES);
    assert_null(memmem(blob, blob_len, "stolen", 6));
    char *back;
    size_t back_len;
    assert_int_equal(listening_unseal(key, blob, blob_len, &back, &back_len), SB_OK);
    assert_string_equal(back, plain);
    sb_free(back);
    assert_int_equal(listening_unseal(other, blob, blob_len, &back, &back_len), SB_ECORRUPT);
    assert_null(back);
    blob[blob_len - 1] ^= 1;
    assert_int_equal(listening_unseal(key, blob, blob_len, &back, &back_len), SB_ECORRUPT);
    assert_int_equal(listening_unseal(key, blob, 10, &back, &back_len), SB_ECORRUPT);
    sb_free(blob);
}

static void test_key_load(void **state) {
    (void)state;
    unsigned char key[LISTENING_KEY_BYTES];
    char path[] = "/tmp/sb-listening-key-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
    assert_int_equal(write(fd, hex, strlen(hex)), (ssize_t)strlen(hex));
    close(fd);
    assert_int_equal(listening_key_load(path, key), SB_OK);
    assert_int_equal(key[0], 0);
    assert_int_equal(key[31], 0x1f);
    unlink(path);
    assert_int_equal(listening_key_load(path, key), SB_ENOTFOUND);
    setenv("SOCIALBANK_LISTENING_KEY", "zz", 1);
    assert_int_equal(listening_key_load(NULL, key), SB_EINVAL);
    setenv("SOCIALBANK_LISTENING_KEY", "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 1);
    assert_int_equal(listening_key_load(NULL, key), SB_OK);
    assert_int_equal(key[0], 0xff);
    unsetenv("SOCIALBANK_LISTENING_KEY");
    assert_int_equal(listening_key_load(NULL, key), SB_ENOTFOUND);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_digits),
        cmocka_unit_test(test_cards),
        cmocka_unit_test(test_invisible_between_digits),
        cmocka_unit_test(test_phones),
        cmocka_unit_test(test_national_id_iban_email),
        cmocka_unit_test(test_no_false_positives),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_seal_round_trip_and_wrong_key),
        cmocka_unit_test(test_key_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
