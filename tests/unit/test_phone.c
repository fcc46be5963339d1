/*
 * test_phone.c - sb_phone_normalize: every accepted prefix form for Iranian
 * and Ukrainian mobiles, Persian and Arabic-Indic digits, separators, and the
 * rejections (landlines, unassigned ranges, wrong lengths, junk, other
 * countries).  Expected values are hand-checked against the numbering plans
 * (Iran: 0 + 9XX XXX XXXX; Ukraine: 0 + XX XXX XX XX).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"

typedef struct {
    const char *in;
    const char *e164;
    sb_phone_country country;
} accept_case;

static const accept_case accepted[] = {
    /* Iran: the five prefix forms of one number */
    {"09121234567", "+989121234567", SB_PHONE_COUNTRY_IR},
    {"+989121234567", "+989121234567", SB_PHONE_COUNTRY_IR},
    {"00989121234567", "+989121234567", SB_PHONE_COUNTRY_IR},
    {"989121234567", "+989121234567", SB_PHONE_COUNTRY_IR},
    {"9121234567", "+989121234567", SB_PHONE_COUNTRY_IR},
    /* separators */
    {"0912 123 4567", "+989121234567", SB_PHONE_COUNTRY_IR},
    {"+98 (912) 123-4567", "+989121234567", SB_PHONE_COUNTRY_IR},
    {"0912.123.45.67", "+989121234567", SB_PHONE_COUNTRY_IR},
    {" \t0098 912 1234567 ", "+989121234567", SB_PHONE_COUNTRY_IR},
    /* Persian digits ۰۹۱۲۱۲۳۴۵۶۷ */
    {"\xDB\xB0\xDB\xB9\xDB\xB1\xDB\xB2\xDB\xB1\xDB\xB2\xDB\xB3\xDB\xB4\xDB\xB5\xDB\xB6\xDB\xB7", "+989121234567",
     SB_PHONE_COUNTRY_IR},
    /* Arabic-Indic digits ٠٩٣٥ ١٢٣ ٤٥٦٧ with spaces */
    {"\xD9\xA0\xD9\xA9\xD9\xA3\xD9\xA5 \xD9\xA1\xD9\xA2\xD9\xA3 \xD9\xA4\xD9\xA5\xD9\xA6\xD9\xA7", "+989351234567",
     SB_PHONE_COUNTRY_IR},
    /* Persian + sign-less mixed with ASCII: +۹۸ 912... */
    {"+\xDB\xB9\xDB\xB8 9121234567", "+989121234567", SB_PHONE_COUNTRY_IR},
    /* each Iranian mobile range */
    {"09011234567", "+989011234567", SB_PHONE_COUNTRY_IR}, /* Irancell 0901 */
    {"09201234567", "+989201234567", SB_PHONE_COUNTRY_IR}, /* RighTel 0920 */
    {"09321234567", "+989321234567", SB_PHONE_COUNTRY_IR}, /* Taliya 0932 */
    {"09411234567", "+989411234567", SB_PHONE_COUNTRY_IR}, /* Irancell TD-LTE 0941 */
    {"09981234567", "+989981234567", SB_PHONE_COUNTRY_IR}, /* Shatel Mobile 0998 */
    {"09901234567", "+989901234567", SB_PHONE_COUNTRY_IR}, /* MCI 0990 */
    /* Ukraine: the four prefix forms */
    {"+380501234567", "+380501234567", SB_PHONE_COUNTRY_UA},
    {"00380501234567", "+380501234567", SB_PHONE_COUNTRY_UA},
    {"380501234567", "+380501234567", SB_PHONE_COUNTRY_UA},
    {"0501234567", "+380501234567", SB_PHONE_COUNTRY_UA},
    {"+380 (67) 123-45-67", "+380671234567", SB_PHONE_COUNTRY_UA}, /* Kyivstar */
    {"063 123 45 67", "+380631234567", SB_PHONE_COUNTRY_UA},       /* lifecell */
    {"099-123-45-67", "+380991234567", SB_PHONE_COUNTRY_UA},       /* Vodafone */
    {"+380 39 123 45 67", "+380391234567", SB_PHONE_COUNTRY_UA},   /* Kyivstar (ex-Golden Telecom) */
    {"0771234567", "+380771234567", SB_PHONE_COUNTRY_UA},          /* Kyivstar 2021 range */
    /* Ukrainian number written in Arabic-Indic digits still works */
    {"\xD9\xA0\xD9\xA6\xD9\xA7\xD9\xA1\xD9\xA2\xD9\xA3\xD9\xA4\xD9\xA5\xD9\xA6\xD9\xA7", "+380671234567",
     SB_PHONE_COUNTRY_UA},
};

static void test_accepted_forms(void **state) {
    (void)state;
    for (size_t i = 0; i < SB_ARRAY_LEN(accepted); i++) {
        char out[SB_PHONE_BYTES];
        sb_phone_country country = 0;
        int rc = sb_phone_normalize(accepted[i].in, out, &country);
        if (rc != SB_OK) print_error("case %zu: '%s' rejected\n", i, accepted[i].in);
        assert_int_equal(rc, SB_OK);
        assert_string_equal(out, accepted[i].e164);
        assert_int_equal(country, accepted[i].country);
        /* idempotent: the normalised form normalises to itself */
        char again[SB_PHONE_BYTES];
        assert_int_equal(sb_phone_normalize(out, again, NULL), SB_OK);
        assert_string_equal(again, out);
    }
}

static const char *const rejected[] = {
    "",
    " ",
    "+",
    "0",
    "abc",
    "02112345678",      /* Tehran landline */
    "+982112345678",    /* Tehran landline, international */
    "00983112345678",   /* Isfahan landline */
    "09512345678",      /* 095x: not a mobile range */
    "09812345678",      /* 098x: not a mobile range */
    "0902123456",       /* Iranian Irancell, one digit short (90 is no Ukrainian code either) */
    "091212345678",     /* one digit too many */
    "+98912123456",     /* +98 with 9 digits */
    "+9891212345678",   /* +98 with 11 digits */
    "+9809121234567",   /* trunk 0 after country code */
    "989121234567 8",   /* extra digit after a space */
    "0912123456a",      /* letter */
    "0912-123-4567x",   /* trailing junk */
    "++989121234567",   /* two pluses */
    "0912+1234567",     /* plus in the middle */
    "+380441234567",    /* Kyiv landline */
    "0441234567",       /* Kyiv landline, national */
    "+38050123456",     /* Ukrainian, one digit short */
    "+3805012345678",   /* Ukrainian, one digit too many */
    "050123456",        /* national, short */
    "501234567",        /* bare 9 digits: ambiguous, not accepted */
    "+14155552671",     /* United States */
    "+447911123456",    /* United Kingdom */
    "00447911123456",   /* United Kingdom, 00 form */
    "+7 912 123 45 67", /* Russia */
    "0000000000000000", /* too many digits */
    "0912/123/4567",    /* slash is not a separator we accept */
    ("0912\xC2\xA0"
     "1234567"),                /* no-break space: rejected rather than guessed */
    "\xDB\xB0\xDB\xB9\xDB\xB1", /* Persian digits, too short */
    "\xDB",                     /* truncated UTF-8 */
};

static void test_rejected(void **state) {
    (void)state;
    for (size_t i = 0; i < SB_ARRAY_LEN(rejected); i++) {
        char out[SB_PHONE_BYTES];
        sb_phone_country country = 0;
        int rc = sb_phone_normalize(rejected[i], out, &country);
        if (rc != SB_EINVAL) print_error("case %zu: '%s' accepted as '%s'\n", i, rejected[i], out);
        assert_int_equal(rc, SB_EINVAL);
        assert_string_equal(out, ""); /* nothing half-written */
    }
}

static void test_null_and_long_input(void **state) {
    (void)state;
    char out[SB_PHONE_BYTES];
    assert_int_equal(sb_phone_normalize(NULL, out, NULL), SB_EINVAL);
    /* separators beyond the input byte limit: rejected even though the digits are fine */
    char long_in[SB_PHONE_INPUT_BYTES_MAX + 16];
    memset(long_in, ' ', sizeof long_in);
    memcpy(long_in + sizeof long_in - 12, "09121234567", 11);
    long_in[sizeof long_in - 1] = '\0';
    assert_true(strlen(long_in) > SB_PHONE_INPUT_BYTES_MAX);
    assert_int_equal(sb_phone_normalize(long_in, out, NULL), SB_EINVAL);
    /* exactly at the limit is fine */
    char at_limit[SB_PHONE_INPUT_BYTES_MAX + 1];
    memset(at_limit, ' ', SB_PHONE_INPUT_BYTES_MAX);
    memcpy(at_limit + SB_PHONE_INPUT_BYTES_MAX - 11, "09121234567", 11);
    at_limit[SB_PHONE_INPUT_BYTES_MAX] = '\0';
    assert_int_equal(sb_phone_normalize(at_limit, out, NULL), SB_OK);
    assert_string_equal(out, "+989121234567");
}

/* The one ambiguity of the contract (core.h): "0" + 9 digits is read as
 * Ukrainian when the two digits after the 0 are a Ukrainian operator code,
 * so an Iranian number typed one digit short ("091212345" + "6") becomes a
 * valid Ukrainian 3Mob number.  The country is returned so callers can show
 * it and the user can notice. */
static void test_ten_digit_zero_form_is_ukrainian(void **state) {
    (void)state;
    char out[SB_PHONE_BYTES];
    sb_phone_country country = 0;
    assert_int_equal(sb_phone_normalize("0912123456", out, &country), SB_OK);
    assert_string_equal(out, "+380912123456");
    assert_int_equal(country, SB_PHONE_COUNTRY_UA);
}

/* Every output fits SB_PHONE_BYTES and is "+" and digits only. */
static void test_output_shape(void **state) {
    (void)state;
    char out[SB_PHONE_BYTES];
    assert_int_equal(sb_phone_normalize("00989991234567", out, NULL), SB_OK);
    assert_int_equal(strlen(out), 13);
    assert_int_equal(sb_phone_normalize("00380991234567", out, NULL), SB_OK);
    assert_int_equal(strlen(out), 13);
    assert_true(strlen(out) < SB_PHONE_BYTES);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted_forms),
        cmocka_unit_test(test_rejected),
        cmocka_unit_test(test_null_and_long_input),
        cmocka_unit_test(test_output_shape),
        cmocka_unit_test(test_ten_digit_zero_form_is_ukrainian),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
