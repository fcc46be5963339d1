/*
 * phone.c - Iranian and Ukrainian mobile numbers to E.164.
 *
 * Users type numbers in many shapes: "0912 123 4567", "+98 (912) 123-4567",
 * "00989121234567", "۰۹۱۲۱۲۳۴۵۶۷" (Persian digits), "٠٩١٢..." (Arabic-Indic),
 * "+380 50 123 45 67", "050-123-45-67".  sb_phone_normalize folds the digits
 * to ASCII, drops the separators (space, tab, '-', '.', '(', ')'), allows a
 * single '+' only before the first digit, and then decides by the exact
 * digit count and prefix:
 *
 *   Iran (national significant number: 10 digits, "9" + operator range)
 *     +98 9XXXXXXXXX   0098 9XXXXXXXXX   98 9XXXXXXXXX   0 9XXXXXXXXX
 *     9XXXXXXXXX (bare, 10 digits starting with 9)
 *   Ukraine (national significant number: 9 digits, 2-digit operator code)
 *     +380 XXXXXXXXX   00380 XXXXXXXXX   380 XXXXXXXXX   0 XXXXXXXXX
 *
 * Anything else is SB_EINVAL: landlines (Tehran 021..., Kyiv 044...),
 * unassigned ranges, wrong lengths, letters, a second '+', other countries.
 * The Iranian mobile ranges are 090x-094x and 099x (operators in
 * src/payments/); the Ukrainian mobile operator codes are listed below.
 * No recursion, no allocation; the input is read at most
 * SB_PHONE_INPUT_BYTES_MAX bytes.
 */
#include <string.h>

#include "core/core.h"

/* Ukrainian mobile operator codes (the two digits after +380): Kyivstar 67,
 * 68, 96, 97, 98, 77 (2021), 39 (ex-Golden Telecom); Vodafone 50, 66, 95, 99,
 * 75 (2021); lifecell 63, 73, 93; 3Mob/TriMob 91; PEOPLEnet 92;
 * Intertelecom 89, 94. */
static const char ua_mobile_codes[][3] = {"39", "50", "63", "66", "67", "68", "73", "75", "77", "89",
                                          "91", "92", "93", "94", "95", "96", "97", "98", "99"};

static bool ua_code_is_mobile(const char *nsn) {
    for (size_t i = 0; i < SB_ARRAY_LEN(ua_mobile_codes); i++)
        if (nsn[0] == ua_mobile_codes[i][0] && nsn[1] == ua_mobile_codes[i][1]) return true;
    return false;
}

/* An Iranian national significant number: 10 digits, "9", then a mobile
 * range second digit (0-4 or 9: 090x..094x, 099x). */
static bool ir_nsn_is_mobile(const char *nsn, size_t len) {
    if (len != 10 || nsn[0] != '9') return false;
    char second = nsn[1];
    return (second >= '0' && second <= '4') || second == '9';
}

static bool is_separator(char c) { return c == ' ' || c == '\t' || c == '-' || c == '.' || c == '(' || c == ')'; }

/* Write "+<cc><nsn>" into out. */
static void format_e164(const char *cc, const char *nsn, size_t nsn_len, char out[SB_PHONE_BYTES]) {
    size_t cc_len = strlen(cc);
    SB_ASSERT(1 + cc_len + nsn_len < SB_PHONE_BYTES);
    out[0] = '+';
    memcpy(out + 1, cc, cc_len);
    memcpy(out + 1 + cc_len, nsn, nsn_len);
    out[1 + cc_len + nsn_len] = '\0';
}

int sb_phone_normalize(const char *in, char out[SB_PHONE_BYTES], sb_phone_country *country_out) {
    if (!in || !out) return SB_EINVAL;
    out[0] = '\0';
    size_t in_len = strnlen(in, SB_PHONE_INPUT_BYTES_MAX + 1);
    if (in_len == 0 || in_len > SB_PHONE_INPUT_BYTES_MAX) return SB_EINVAL;

    char folded[SB_PHONE_INPUT_BYTES_MAX + 1];
    size_t folded_len = sb_digits_to_ascii(in, in_len, folded);

    /* Gather the digits; note a leading '+'. */
    char digits[SB_PHONE_DIGITS_MAX + 1];
    size_t n = 0;
    bool plus = false;
    for (size_t i = 0; i < folded_len; i++) {
        char c = folded[i];
        if (c >= '0' && c <= '9') {
            if (n == SB_PHONE_DIGITS_MAX) return SB_EINVAL; /* too many digits for any accepted form */
            digits[n++] = c;
        } else if (c == '+') {
            if (plus || n > 0) return SB_EINVAL; /* '+' only once, before the digits */
            plus = true;
        } else if (!is_separator(c)) {
            return SB_EINVAL;
        }
    }
    digits[n] = '\0';
    if (n == 0) return SB_EINVAL;

    /* Strip the international prefix (00 or +) to get "cc + nsn", or handle
     * national forms. */
    const char *intl = NULL; /* digits starting at the country code */
    size_t intl_len = 0;
    if (plus) {
        intl = digits;
        intl_len = n;
    } else if (n >= 2 && digits[0] == '0' && digits[1] == '0') {
        intl = digits + 2;
        intl_len = n - 2;
    } else if (n == 12 && (memcmp(digits, "98", 2) == 0 || memcmp(digits, "380", 3) == 0)) {
        intl = digits; /* country code without '+' or 00 */
        intl_len = n;
    }

    if (intl) {
        if (intl_len == 12 && memcmp(intl, "98", 2) == 0 && ir_nsn_is_mobile(intl + 2, 10)) {
            format_e164("98", intl + 2, 10, out);
            if (country_out) *country_out = SB_PHONE_COUNTRY_IR;
            return SB_OK;
        }
        if (intl_len == 12 && memcmp(intl, "380", 3) == 0 && ua_code_is_mobile(intl + 3)) {
            format_e164("380", intl + 3, 9, out);
            if (country_out) *country_out = SB_PHONE_COUNTRY_UA;
            return SB_OK;
        }
        return SB_EINVAL;
    }

    /* National forms. */
    if (n == 11 && digits[0] == '0' && ir_nsn_is_mobile(digits + 1, 10)) {
        format_e164("98", digits + 1, 10, out);
        if (country_out) *country_out = SB_PHONE_COUNTRY_IR;
        return SB_OK;
    }
    if (n == 10 && digits[0] == '9' && ir_nsn_is_mobile(digits, 10)) {
        format_e164("98", digits, 10, out);
        if (country_out) *country_out = SB_PHONE_COUNTRY_IR;
        return SB_OK;
    }
    if (n == 10 && digits[0] == '0' && ua_code_is_mobile(digits + 1)) {
        format_e164("380", digits + 1, 9, out);
        if (country_out) *country_out = SB_PHONE_COUNTRY_UA;
        return SB_OK;
    }
    return SB_EINVAL;
}
