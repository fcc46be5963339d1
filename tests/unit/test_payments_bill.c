/*
 * test_payments_bill.c - Iranian bill ID + payment ID: both check digits,
 * bill type, amount in rials, year and period.
 *
 * Published vectors: persian-tools (github.com/persian-tools/persian-tools,
 * test/bill.spec.ts): amounts (currency "rial"), types, isValidBillId and
 * isValidBillPayment for the pairs used below.  Hand-checked: the mod 11
 * computation worked through in test_check_digit_by_hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "payments/payments.h"

static void test_published_valid_pairs(void **state) {
    (void)state;
    payments_bill bill;
    payments_reason reason;
    /* 7748317800142 / 1770160: fixed phone ("تلفن ثابت"), valid, 17,000 rials */
    assert_int_equal(payments_bill_parse("7748317800142", "1770160", &bill, &reason), SB_OK);
    assert_int_equal(reason, PAYMENTS_OK);
    assert_int_equal(bill.type, PAYMENTS_BILL_FIXED_PHONE);
    assert_string_equal(payments_bill_type_name(bill.type), "fixed_phone");
    assert_int_equal(bill.amount_rials, 17000);
    assert_int_equal(bill.year_digit, 7);
    assert_int_equal(bill.period, 1);
    assert_string_equal(bill.company_code, "001");
    assert_string_equal(bill.subscriber, "77483178");
    /* 2050327604613 / 1070189: water ("آب"), valid, 10,000 rials */
    assert_int_equal(payments_bill_parse("2050327604613", "1070189", &bill, &reason), SB_OK);
    assert_int_equal(bill.type, PAYMENTS_BILL_WATER);
    assert_int_equal(bill.amount_rials, 10000);
    /* 1117753200140 / 12070160: 120,000 rials */
    assert_int_equal(payments_bill_parse("1117753200140", "12070160", &bill, &reason), SB_OK);
    assert_int_equal(bill.amount_rials, 120000);
    assert_int_equal(bill.type, PAYMENTS_BILL_FIXED_PHONE);
    /* 1177809000142 / 570108: 5,000 rials (the shortest payment ID) */
    assert_int_equal(payments_bill_parse("1177809000142", "570108", &bill, &reason), SB_OK);
    assert_int_equal(bill.amount_rials, 5000);
}

static void test_published_invalid_pairs(void **state) {
    (void)state;
    payments_bill bill;
    payments_reason reason;
    /* 9174639504124 / 12908197: electricity ("برق"); bill ID valid, payment ID not */
    assert_int_equal(payments_bill_parse("9174639504124", "12908197", &bill, &reason), SB_EINVAL);
    assert_true(reason == PAYMENTS_REASON_BAD_PAYMENT_ID_CHECK1 || reason == PAYMENTS_REASON_BAD_PAYMENT_ID_CHECK2);
    assert_int_equal(bill.amount_rials, 0); /* nothing half-written */
    /* 2234322344613 / 1070189: bill ID invalid */
    assert_int_equal(payments_bill_parse("2234322344613", "1070189", &bill, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_BAD_BILL_ID_CHECK);
    /* 1117753200140 / 1770165: amount 17,000 in persian-tools, but the check digits do not hold */
    assert_int_equal(payments_bill_parse("1117753200140", "1770165", &bill, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_BAD_PAYMENT_ID_CHECK2);
    /* 9100074409151 / 12908190: persian-tools reads type "تلفن همراه" (mobile) from it; its bill ID check fails */
    assert_int_equal(payments_bill_parse("9100074409151", "12908190", &bill, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_BAD_BILL_ID_CHECK);
}

/* 774831780014|2: weights from the right 2,3,4,5,6,7,2,3,4,5,6,7 over
 * 4,1,0,0,8,7,1,3,8,4,7,7 (the digits read right to left):
 * 8+3+0+0+48+49+2+9+32+20+42+49 = 262; 262 mod 11 = 9; 11 - 9 = 2. */
static void test_check_digit_by_hand(void **state) {
    (void)state;
    assert_int_equal(payments_bill_check_digit("774831780014", 12), 2);
    /* payment 17701|6|0: first check over "17701": 1*2+0*3+7*4+7*5+1*6 = 71;
     * 71 mod 11 = 5; 11 - 5 = 6. */
    assert_int_equal(payments_bill_check_digit("17701", 5), 6);
    /* sums of 0 or 1 mod 11 give 0 */
    assert_int_equal(payments_bill_check_digit("0", 1), 0);
    assert_int_equal(payments_bill_check_digit("6", 1), 0); /* 12 mod 11 = 1 */
    assert_int_equal(payments_bill_check_digit("1", 1), 9); /* 2 -> 11 - 2 */
    assert_int_equal(payments_bill_check_digit("1x", 2), -1);
}

/* Build a valid bill ID for a type, and a payment ID for an amount, from
 * the check digit function, and read them back. */
static void make_pair(const char *subscriber_company, int type, int64_t amount_thousands, int year, int period,
                      char bill_id[16], char payment_id[16]) {
    /* Every snprintf's length is checked: the IDs must fit exactly (and gcc
     * at -Og/-Os/-O3 warns about an unchecked one that might not). */
    char body[16];
    int n = snprintf(body, sizeof body, "%s%d", subscriber_company, type);
    assert_true(n > 0 && (size_t)n < sizeof body);
    n = snprintf(bill_id, 16, "%s%d", body, payments_bill_check_digit(body, strlen(body)));
    assert_true(n > 0 && n < 16);
    char pbody[16];
    n = snprintf(pbody, sizeof pbody, "%lld%d%02d", (long long)amount_thousands, year, period);
    assert_true(n > 0 && (size_t)n < sizeof pbody);
    int c1 = payments_bill_check_digit(pbody, strlen(pbody));
    char joined[40];
    n = snprintf(joined, sizeof joined, "%s%s%d", bill_id, pbody, c1);
    assert_true(n > 0 && (size_t)n < sizeof joined);
    int c2 = payments_bill_check_digit(joined, strlen(joined));
    n = snprintf(payment_id, 16, "%s%d%d", pbody, c1, c2);
    assert_true(n > 0 && n < 16);
}

static void test_every_type_and_roundtrip(void **state) {
    (void)state;
    const struct {
        int digit;
        payments_bill_type type;
        const char *name;
    } types[] = {
        {1, PAYMENTS_BILL_WATER, "water"},   {2, PAYMENTS_BILL_ELECTRICITY, "electricity"},
        {3, PAYMENTS_BILL_GAS, "gas"},       {4, PAYMENTS_BILL_FIXED_PHONE, "fixed_phone"},
        {5, PAYMENTS_BILL_MOBILE, "mobile"}, {6, PAYMENTS_BILL_MUNICIPALITY, "municipality"},
        {8, PAYMENTS_BILL_TAX, "tax"},       {9, PAYMENTS_BILL_TRAFFIC_FINES, "traffic_fines"},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(types); i++) {
        char bid[16], pid[16];
        make_pair("12345678123", types[i].digit, 250 + (int64_t)i, 3, 11, bid, pid);
        payments_bill bill;
        payments_reason reason;
        assert_int_equal(payments_bill_parse(bid, pid, &bill, &reason), SB_OK);
        assert_int_equal(bill.type, types[i].type);
        assert_string_equal(payments_bill_type_name(bill.type), types[i].name);
        assert_int_equal(bill.amount_rials, (250 + (int64_t)i) * 1000);
        assert_int_equal(bill.year_digit, 3);
        assert_int_equal(bill.period, 11);
        assert_string_equal(bill.company_code, "123");
        assert_string_equal(bill.subscriber, "12345678");
    }
    /* types 0 and 7 are unknown even with a correct check digit */
    for (int digit = 0; digit <= 7; digit += 7) {
        char bid[16], pid[16];
        make_pair("12345678123", digit, 1, 0, 1, bid, pid);
        payments_bill bill;
        payments_reason reason;
        assert_int_equal(payments_bill_parse(bid, pid, &bill, &reason), SB_EINVAL);
        assert_int_equal(reason, PAYMENTS_REASON_UNKNOWN_BILL_TYPE);
    }
    /* the largest amount field: 8 digits -> 99,999,999,000 rials */
    char bid[16], pid[16];
    make_pair("1234567", 2, 99999999, 9, 99, bid, pid);
    assert_int_equal(strlen(pid), 13);
    payments_bill bill;
    payments_reason reason;
    assert_int_equal(payments_bill_parse(bid, pid, &bill, &reason), SB_OK);
    assert_true(bill.amount_rials == 99999999000LL);
    /* a payment ID from another bill: second check digit fails */
    char bid2[16], pid2[16];
    make_pair("7654321", 2, 500, 9, 1, bid2, pid2);
    assert_int_equal(payments_bill_parse(bid, pid2, &bill, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_BAD_PAYMENT_ID_CHECK2);
}

static void test_shapes(void **state) {
    (void)state;
    payments_bill bill;
    payments_reason reason;
    /* separators, leading zeros, Persian digits: ۷۷۴۸۳۱۷۸۰۰۱۴۲ */
    assert_int_equal(payments_bill_parse("7748-3178-0014-2", "000 1770160", &bill, &reason), SB_OK);
    assert_string_equal(bill.bill_id, "7748317800142");
    assert_string_equal(bill.payment_id, "1770160");
    assert_int_equal(payments_bill_parse("\xDB\xB7\xDB\xB7\xDB\xB4\xDB\xB8\xDB\xB3\xDB\xB1\xDB\xB7\xDB\xB8\xDB\xB0"
                                         "\xDB\xB0\xDB\xB1\xDB\xB4\xDB\xB2",
                                         "\xD9\xA1\xD9\xA7\xD9\xA7\xD9\xA0\xD9\xA1\xD9\xA6\xD9\xA0", &bill, &reason),
                     SB_OK);
    assert_int_equal(bill.amount_rials, 17000);
    assert_int_equal(payments_bill_parse("", "1770160", &bill, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_EMPTY);
    assert_int_equal(payments_bill_parse("7748317800142", NULL, &bill, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_EMPTY);
    assert_int_equal(payments_bill_parse("12345", "1770160", &bill, &reason), SB_EINVAL); /* bill ID too short */
    assert_int_equal(reason, PAYMENTS_REASON_BAD_LENGTH);
    assert_int_equal(payments_bill_parse("77483178001420", "1770160", &bill, &reason), SB_EINVAL); /* 14 digits */
    assert_int_equal(reason, PAYMENTS_REASON_BAD_LENGTH);
    assert_int_equal(payments_bill_parse("7748317800142", "17701", &bill, &reason), SB_EINVAL); /* payment too short */
    assert_int_equal(reason, PAYMENTS_REASON_BAD_LENGTH);
    assert_int_equal(payments_bill_parse("7748317800142", "17701600000000", &bill, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_BAD_LENGTH);
    assert_int_equal(payments_bill_parse("7748317800142", "177016O", &bill, &reason), SB_EINVAL); /* letter O */
    assert_int_equal(reason, PAYMENTS_REASON_BAD_CHARACTER);
    assert_int_equal(payments_bill_parse("7748317800142", "1770170", &bill, &reason), SB_EINVAL);
    assert_int_equal(reason, PAYMENTS_REASON_BAD_PAYMENT_ID_CHECK1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_published_valid_pairs),
        cmocka_unit_test(test_published_invalid_pairs),
        cmocka_unit_test(test_check_digit_by_hand),
        cmocka_unit_test(test_every_type_and_roundtrip),
        cmocka_unit_test(test_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
