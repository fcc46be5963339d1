/*
 * instruments.c - the parsers of what customers type: bank card numbers
 * (Luhn, Shetab BIN), Sheba/IBAN (ISO 7064 mod 97-10), Iranian bill ID +
 * payment ID (mod 11 check digits, type, amount) and mobile numbers with
 * their operator for top-up.
 *
 * All of them first fold Persian and Arabic-Indic digits to ASCII
 * (sb_digits_to_ascii), then read the text once, left to right, with a
 * bounded loop and no allocation.  Rejections are payments_reason values in
 * the order the checks run; the out struct is zeroed first so that a failed
 * parse leaves nothing half-written.  Temporary copies of card numbers are
 * wiped (sodium_memzero) before returning, and no message ever contains the
 * input.
 */
#include <sodium.h>
#include <string.h>

#include "payments/payments.h"

/* ---- reasons ---------------------------------------------------------- */

static const struct {
    const char *name;
    const char *text;
} reasons[PAYMENTS_REASON_COUNT] = {
    [PAYMENTS_OK] = {"ok", "valid"},
    [PAYMENTS_REASON_EMPTY] = {"empty", "nothing was given"},
    [PAYMENTS_REASON_TOO_LONG] = {"too_long", "the value is too long"},
    [PAYMENTS_REASON_BAD_CHARACTER] = {"bad_character", "the value contains a character that is not a digit"},
    [PAYMENTS_REASON_BAD_LENGTH] = {"bad_length", "the value has the wrong number of digits"},
    [PAYMENTS_REASON_BAD_CHECK_DIGIT] = {"bad_check_digit", "the check digit is wrong (a digit was mistyped)"},
    [PAYMENTS_REASON_UNKNOWN_BANK] = {"unknown_bank", "the issuing bank is not a member of the Shetab network"},
    [PAYMENTS_REASON_NOT_IBAN] = {"not_iban", "not an IBAN: expected two letters, two check digits, then the account"},
    [PAYMENTS_REASON_BAD_IBAN_CHECKSUM] = {"bad_iban_checksum", "the IBAN check digits are wrong (mod 97)"},
    [PAYMENTS_REASON_NOT_IRANIAN_IBAN] = {"not_iranian_iban", "a valid IBAN, but not an Iranian Sheba (IR)"},
    [PAYMENTS_REASON_BAD_BILL_ID_CHECK] = {"bad_bill_id_check", "the bill ID's check digit is wrong"},
    [PAYMENTS_REASON_UNKNOWN_BILL_TYPE] = {"unknown_bill_type", "the bill ID names no known bill type"},
    [PAYMENTS_REASON_BAD_PAYMENT_ID_CHECK1] = {"bad_payment_id_check", "the payment ID's first check digit is wrong"},
    [PAYMENTS_REASON_BAD_PAYMENT_ID_CHECK2] = {"bill_payment_mismatch",
                                               "the payment ID does not belong to this bill ID (second check digit)"},
    [PAYMENTS_REASON_NOT_MOBILE] = {"not_mobile", "not an Iranian or Ukrainian mobile number"},
    [PAYMENTS_REASON_UNKNOWN_OPERATOR] = {"unknown_operator", "no mobile operator is known for this number's prefix"},
};

const char *payments_reason_name(payments_reason reason) {
    if ((unsigned)reason >= PAYMENTS_REASON_COUNT) return "unknown";
    return reasons[reason].name;
}

const char *payments_reason_text(payments_reason reason) {
    if ((unsigned)reason >= PAYMENTS_REASON_COUNT) return "unknown reason";
    return reasons[reason].text;
}

static int reject(payments_reason *reason_out, payments_reason reason) {
    if (reason_out) *reason_out = reason;
    return SB_EINVAL;
}

/* Fold digits and collect the ASCII digits of `in` into digits (at most
 * digits_max; more is BAD_LENGTH).  Spaces, tabs and dashes are skipped
 * anywhere; anything else is BAD_CHARACTER.  On success *len_out is the
 * number of digits and digits is NUL-terminated.  The folded copy is
 * wiped. */
static payments_reason collect_digits(const char *in, char *digits, size_t digits_max, size_t *len_out) {
    *len_out = 0;
    digits[0] = '\0';
    if (!in) return PAYMENTS_REASON_EMPTY;
    size_t in_len = strnlen(in, SB_PAYMENTS_INPUT_BYTES_MAX + 1);
    if (in_len > SB_PAYMENTS_INPUT_BYTES_MAX) return PAYMENTS_REASON_TOO_LONG;
    char folded[SB_PAYMENTS_INPUT_BYTES_MAX + 1];
    size_t folded_len = sb_digits_to_ascii(in, in_len, folded);
    size_t n = 0;
    payments_reason result = PAYMENTS_OK;
    bool too_many = false;
    for (size_t i = 0; i < folded_len; i++) {
        char c = folded[i];
        if (c >= '0' && c <= '9') {
            if (n < digits_max)
                digits[n++] = c;
            else
                too_many = true;
        } else if (c != ' ' && c != '\t' && c != '-') {
            result = PAYMENTS_REASON_BAD_CHARACTER;
            break;
        }
    }
    sodium_memzero(folded, sizeof folded);
    if (result == PAYMENTS_OK && n == 0) result = PAYMENTS_REASON_EMPTY;
    if (result == PAYMENTS_OK && too_many) result = PAYMENTS_REASON_BAD_LENGTH;
    if (result != PAYMENTS_OK) {
        sodium_memzero(digits, digits_max);
        digits[0] = '\0';
        return result;
    }
    digits[n] = '\0';
    *len_out = n;
    return PAYMENTS_OK;
}

/* ---- bank cards -------------------------------------------------------- */

bool payments_luhn_valid(const char *digits, size_t len) {
    if (!digits || len == 0) return false;
    unsigned sum = 0;
    for (size_t i = 0; i < len; i++) {
        char c = digits[len - 1 - i];
        if (c < '0' || c > '9') return false;
        unsigned d = (unsigned)(c - '0');
        if (i % 2 == 1) {
            d *= 2;
            if (d > 9) d -= 9;
        }
        sum += d;
    }
    return sum % 10 == 0;
}

void payments_card_mask(const char number[PAYMENTS_CARD_DIGITS], char out[PAYMENTS_CARD_MASKED_BYTES]) {
    memcpy(out, number, 6);
    memset(out + 6, '*', 6);
    memcpy(out + 12, number + 12, 4);
    out[16] = '\0';
}

void payments_card_wipe(payments_card *card) {
    if (card) sodium_memzero(card->number, sizeof card->number);
}

int payments_card_parse(const char *in, payments_card *out, payments_reason *reason_out) {
    if (reason_out) *reason_out = PAYMENTS_OK;
    if (!out) return reject(reason_out, PAYMENTS_REASON_EMPTY);
    memset(out, 0, sizeof *out);
    char digits[PAYMENTS_CARD_DIGITS + 1];
    size_t n;
    payments_reason r = collect_digits(in, digits, PAYMENTS_CARD_DIGITS, &n);
    if (r != PAYMENTS_OK) return reject(reason_out, r);
    if (n != PAYMENTS_CARD_DIGITS) {
        sodium_memzero(digits, sizeof digits);
        return reject(reason_out, PAYMENTS_REASON_BAD_LENGTH);
    }
    /* From here errors can name the card, masked. */
    char masked[PAYMENTS_CARD_MASKED_BYTES];
    payments_card_mask(digits, masked);
    if (!payments_luhn_valid(digits, n))
        r = PAYMENTS_REASON_BAD_CHECK_DIGIT;
    else if (!payments_bank_by_bin(digits))
        r = PAYMENTS_REASON_UNKNOWN_BANK;
    if (r != PAYMENTS_OK) {
        sodium_memzero(digits, sizeof digits);
        memcpy(out->masked, masked, sizeof masked);
        return reject(reason_out, r);
    }
    memcpy(out->number, digits, sizeof digits);
    memcpy(out->masked, masked, sizeof masked);
    memcpy(out->bin, digits, 6);
    out->bin[6] = '\0';
    out->bank = payments_bank_by_bin(digits);
    sodium_memzero(digits, sizeof digits);
    return SB_OK;
}

/* ---- Sheba / IBAN ------------------------------------------------------ */

bool payments_iban_checksum_valid(const char *iban, size_t len) {
    if (!iban || len < 5 || len > PAYMENTS_IBAN_CHARS_MAX) return false;
    /* Move the first four characters to the end, letters to 10..35, and
     * take the number mod 97 digit by digit (ISO 7064 mod 97-10). */
    unsigned remainder = 0;
    for (size_t k = 0; k < len; k++) {
        char c = iban[(k + 4) % len];
        if (c >= '0' && c <= '9') {
            remainder = (remainder * 10 + (unsigned)(c - '0')) % 97;
        } else if (c >= 'A' && c <= 'Z') {
            unsigned v = (unsigned)(c - 'A') + 10;
            remainder = (remainder * 100 + v) % 97;
        } else {
            return false;
        }
    }
    return remainder == 1;
}

/* The account number inside the 18-digit account field.  Generic rule:
 * the field without its leading zeros.  Some banks pack more than the
 * account into the field; persian-tools documents three
 * (src/modules/sheba/codes.skip.ts): Parsian (054) uses the last 12 digits;
 * Pasargad (057) drops leading zeros of type digit + field and its last two
 * digits; Shahr (061) drops leading zeros of type digit + field. */
static void sheba_account_number(const char *bank_code, const char *type_and_field /* 19 digits */, char out[20]) {
    const char *field = type_and_field + 1;
    if (memcmp(bank_code, "054", 3) == 0) {
        memcpy(out, field + 6, 12);
        out[12] = '\0';
        return;
    }
    const char *p = field;
    size_t len = 18;
    if (memcmp(bank_code, "057", 3) == 0 || memcmp(bank_code, "061", 3) == 0) {
        p = type_and_field;
        len = 19;
    }
    while (len > 1 && *p == '0') {
        p++;
        len--;
    }
    if (memcmp(bank_code, "057", 3) == 0 && len > 2) len -= 2;
    memcpy(out, p, len);
    out[len] = '\0';
}

int payments_sheba_parse(const char *in, payments_sheba *out, payments_reason *reason_out) {
    if (reason_out) *reason_out = PAYMENTS_OK;
    if (!out) return reject(reason_out, PAYMENTS_REASON_EMPTY);
    memset(out, 0, sizeof *out);
    if (!in || !*in) return reject(reason_out, PAYMENTS_REASON_EMPTY);
    size_t in_len = strnlen(in, SB_PAYMENTS_INPUT_BYTES_MAX + 1);
    if (in_len > SB_PAYMENTS_INPUT_BYTES_MAX) return reject(reason_out, PAYMENTS_REASON_TOO_LONG);
    char folded[SB_PAYMENTS_INPUT_BYTES_MAX + 1];
    size_t folded_len = sb_digits_to_ascii(in, in_len, folded);

    /* Collect letters (uppercased) and digits; skip spaces and dashes. */
    char iban[PAYMENTS_IBAN_CHARS_MAX + 1];
    size_t n = 0;
    for (size_t i = 0; i < folded_len; i++) {
        char c = folded[i];
        if (c == ' ' || c == '\t' || c == '-') continue;
        if (c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return reject(reason_out, PAYMENTS_REASON_BAD_CHARACTER);
        if (n == PAYMENTS_IBAN_CHARS_MAX) return reject(reason_out, PAYMENTS_REASON_BAD_LENGTH);
        iban[n++] = c;
    }
    iban[n] = '\0';
    if (n == 0) return reject(reason_out, PAYMENTS_REASON_EMPTY);
    /* A Sheba may be typed without "IR": 24 digits alone. */
    if (n == 24) {
        bool all_digits = true;
        for (size_t i = 0; i < n; i++)
            all_digits = all_digits && iban[i] >= '0' && iban[i] <= '9';
        if (all_digits) {
            memmove(iban + 2, iban, n + 1);
            iban[0] = 'I';
            iban[1] = 'R';
            n += 2;
        }
    }
    if (n < 5 || !(iban[0] >= 'A' && iban[0] <= 'Z') || !(iban[1] >= 'A' && iban[1] <= 'Z') ||
        !(iban[2] >= '0' && iban[2] <= '9') || !(iban[3] >= '0' && iban[3] <= '9'))
        return reject(reason_out, PAYMENTS_REASON_NOT_IBAN);
    bool iranian = iban[0] == 'I' && iban[1] == 'R';
    if (iranian) {
        if (n != PAYMENTS_SHEBA_CHARS) return reject(reason_out, PAYMENTS_REASON_BAD_LENGTH);
        for (size_t i = 4; i < n; i++)
            if (iban[i] < '0' || iban[i] > '9') return reject(reason_out, PAYMENTS_REASON_BAD_CHARACTER);
    } else if (n < 15) { /* the shortest IBAN (Norway) has 15 characters */
        return reject(reason_out, PAYMENTS_REASON_BAD_LENGTH);
    }
    if (!payments_iban_checksum_valid(iban, n)) return reject(reason_out, PAYMENTS_REASON_BAD_IBAN_CHECKSUM);
    if (!iranian) {
        out->country[0] = iban[0];
        out->country[1] = iban[1];
        return reject(reason_out, PAYMENTS_REASON_NOT_IRANIAN_IBAN);
    }
    const payments_bank *bank = payments_bank_by_sheba_code(iban + 4);
    if (!bank) return reject(reason_out, PAYMENTS_REASON_UNKNOWN_BANK);
    memcpy(out->iban, iban, PAYMENTS_SHEBA_CHARS + 1);
    memcpy(out->country, "IR", 3);
    memcpy(out->bank_code, iban + 4, 3);
    out->bank_code[3] = '\0';
    out->account_type = iban[7];
    memcpy(out->account_field, iban + 8, 18);
    out->account_field[18] = '\0';
    sheba_account_number(out->bank_code, iban + 7, out->account_number);
    out->bank = bank;
    return SB_OK;
}

/* ---- bills ------------------------------------------------------------- */

int payments_bill_check_digit(const char *digits, size_t len) {
    /* Weights 2,3,4,5,6,7,2,3,... from the rightmost digit; sum mod 11;
     * 0 or 1 give check digit 0, otherwise 11 - sum. */
    unsigned sum = 0, weight = 2;
    for (size_t i = 0; i < len; i++) {
        char c = digits[len - 1 - i];
        if (c < '0' || c > '9') return -1;
        sum += (unsigned)(c - '0') * weight;
        weight = weight == 7 ? 2 : weight + 1;
    }
    sum %= 11;
    return sum < 2 ? 0 : (int)(11 - sum);
}

const char *payments_bill_type_name(payments_bill_type type) {
    switch (type) {
    case PAYMENTS_BILL_WATER:
        return "water";
    case PAYMENTS_BILL_ELECTRICITY:
        return "electricity";
    case PAYMENTS_BILL_GAS:
        return "gas";
    case PAYMENTS_BILL_FIXED_PHONE:
        return "fixed_phone";
    case PAYMENTS_BILL_MOBILE:
        return "mobile";
    case PAYMENTS_BILL_MUNICIPALITY:
        return "municipality";
    case PAYMENTS_BILL_TAX:
        return "tax";
    case PAYMENTS_BILL_TRAFFIC_FINES:
        return "traffic_fines";
    default:
        return "unknown";
    }
}

/* Digits of an ID without leading zeros (the IDs are numbers). */
static payments_reason collect_id(const char *in, char *out, size_t min_digits, size_t max_digits, size_t *len_out) {
    /* Room for leading zeros a user may type: they are dropped below. */
    char raw[SB_PAYMENTS_INPUT_BYTES_MAX + 1];
    size_t n;
    payments_reason r = collect_digits(in, raw, SB_PAYMENTS_INPUT_BYTES_MAX, &n);
    if (r != PAYMENTS_OK) return r;
    size_t start = 0;
    while (start < n && raw[start] == '0')
        start++;
    size_t len = n - start;
    if (len < min_digits || len > max_digits) return PAYMENTS_REASON_BAD_LENGTH;
    memcpy(out, raw + start, len);
    out[len] = '\0';
    *len_out = len;
    return PAYMENTS_OK;
}

int payments_bill_parse(const char *bill_id, const char *payment_id, payments_bill *out, payments_reason *reason_out) {
    if (reason_out) *reason_out = PAYMENTS_OK;
    if (!out) return reject(reason_out, PAYMENTS_REASON_EMPTY);
    memset(out, 0, sizeof *out);
    char bid[PAYMENTS_BILL_ID_DIGITS_MAX + 1], pid[PAYMENTS_PAYMENT_ID_DIGITS_MAX + 1];
    size_t blen, plen;
    payments_reason r = collect_id(bill_id, bid, PAYMENTS_BILL_ID_DIGITS_MIN, PAYMENTS_BILL_ID_DIGITS_MAX, &blen);
    if (r != PAYMENTS_OK) return reject(reason_out, r);
    if (payments_bill_check_digit(bid, blen - 1) != bid[blen - 1] - '0')
        return reject(reason_out, PAYMENTS_REASON_BAD_BILL_ID_CHECK);
    int type = bid[blen - 2] - '0';
    if (type == 0 || type == 7) return reject(reason_out, PAYMENTS_REASON_UNKNOWN_BILL_TYPE);

    r = collect_id(payment_id, pid, PAYMENTS_PAYMENT_ID_DIGITS_MIN, PAYMENTS_PAYMENT_ID_DIGITS_MAX, &plen);
    if (r != PAYMENTS_OK) return reject(reason_out, r);
    if (payments_bill_check_digit(pid, plen - 2) != pid[plen - 2] - '0')
        return reject(reason_out, PAYMENTS_REASON_BAD_PAYMENT_ID_CHECK1);
    /* The second check digit covers bill ID + payment ID up to and including
     * the first check digit. */
    char joined[PAYMENTS_BILL_ID_DIGITS_MAX + PAYMENTS_PAYMENT_ID_DIGITS_MAX + 1];
    memcpy(joined, bid, blen);
    memcpy(joined + blen, pid, plen - 1);
    if (payments_bill_check_digit(joined, blen + plen - 1) != pid[plen - 1] - '0')
        return reject(reason_out, PAYMENTS_REASON_BAD_PAYMENT_ID_CHECK2);

    /* Payment ID = amount (thousands of rials) | year digit | period (2) | check | check. */
    int64_t amount_thousands = 0;
    for (size_t i = 0; i + 5 < plen; i++)
        amount_thousands = amount_thousands * 10 + (pid[i] - '0');
    /* At most 8 digits: 99,999,999,000 rials fits easily; asserted, not assumed. */
    SB_ASSERT(plen - 5 <= 8);
    memcpy(out->bill_id, bid, blen + 1);
    memcpy(out->payment_id, pid, plen + 1);
    out->type = (payments_bill_type)type;
    memcpy(out->company_code, bid + blen - 5, 3);
    out->company_code[3] = '\0';
    memcpy(out->subscriber, bid, blen - 5);
    out->subscriber[blen - 5] = '\0';
    out->amount_rials = amount_thousands * 1000;
    out->year_digit = pid[plen - 5] - '0';
    out->period = (pid[plen - 4] - '0') * 10 + (pid[plen - 3] - '0');
    return SB_OK;
}

/* ---- mobile operators --------------------------------------------------- */

static const struct {
    const char *id;
    const char *name;
} operators[PAYMENTS_OPERATOR_COUNT] = {
    [PAYMENTS_OPERATOR_NONE] = {"none", "unknown"},
    [PAYMENTS_OPERATOR_MCI] = {"mci", "MCI (Hamrah-e Aval)"},
    [PAYMENTS_OPERATOR_IRANCELL] = {"irancell", "MTN Irancell"},
    [PAYMENTS_OPERATOR_RIGHTEL] = {"rightel", "RighTel"},
    [PAYMENTS_OPERATOR_TALIYA] = {"taliya", "Taliya"},
    [PAYMENTS_OPERATOR_SHATEL] = {"shatel", "Shatel Mobile"},
    [PAYMENTS_OPERATOR_KYIVSTAR] = {"kyivstar", "Kyivstar"},
    [PAYMENTS_OPERATOR_VODAFONE_UA] = {"vodafone-ua", "Vodafone Ukraine"},
    [PAYMENTS_OPERATOR_LIFECELL] = {"lifecell", "lifecell"},
    [PAYMENTS_OPERATOR_3MOB] = {"3mob", "3Mob"},
    [PAYMENTS_OPERATOR_PEOPLENET] = {"peoplenet", "PEOPLEnet"},
    [PAYMENTS_OPERATOR_INTERTELECOM] = {"intertelecom", "Intertelecom"},
};

const char *payments_operator_id(payments_operator op) {
    if ((unsigned)op >= PAYMENTS_OPERATOR_COUNT) return "none";
    return operators[op].id;
}

const char *payments_operator_name(payments_operator op) {
    if ((unsigned)op >= PAYMENTS_OPERATOR_COUNT) return "unknown";
    return operators[op].name;
}

/* Iranian prefixes (the three digits after +98), from persian-tools
 * src/modules/phoneNumber/utils.ts: MCI 910-919 and 990-996, Irancell
 * 900-905, 930, 933, 935-939 and 941 (TD-LTE), RighTel 920-923, Taliya 932,
 * Shatel Mobile 998.  Ranges not listed (931, 934, 940, 942-949, 997, 999:
 * regional operators and MVNOs) are reported as unknown operators rather
 * than guessed. */
static const struct {
    char prefix[4];
    payments_operator op;
} ir_prefixes[] = {
    {"910", PAYMENTS_OPERATOR_MCI},      {"911", PAYMENTS_OPERATOR_MCI},      {"912", PAYMENTS_OPERATOR_MCI},
    {"913", PAYMENTS_OPERATOR_MCI},      {"914", PAYMENTS_OPERATOR_MCI},      {"915", PAYMENTS_OPERATOR_MCI},
    {"916", PAYMENTS_OPERATOR_MCI},      {"917", PAYMENTS_OPERATOR_MCI},      {"918", PAYMENTS_OPERATOR_MCI},
    {"919", PAYMENTS_OPERATOR_MCI},      {"990", PAYMENTS_OPERATOR_MCI},      {"991", PAYMENTS_OPERATOR_MCI},
    {"992", PAYMENTS_OPERATOR_MCI},      {"993", PAYMENTS_OPERATOR_MCI},      {"994", PAYMENTS_OPERATOR_MCI},
    {"995", PAYMENTS_OPERATOR_MCI},      {"996", PAYMENTS_OPERATOR_MCI},      {"900", PAYMENTS_OPERATOR_IRANCELL},
    {"901", PAYMENTS_OPERATOR_IRANCELL}, {"902", PAYMENTS_OPERATOR_IRANCELL}, {"903", PAYMENTS_OPERATOR_IRANCELL},
    {"904", PAYMENTS_OPERATOR_IRANCELL}, {"905", PAYMENTS_OPERATOR_IRANCELL}, {"930", PAYMENTS_OPERATOR_IRANCELL},
    {"933", PAYMENTS_OPERATOR_IRANCELL}, {"935", PAYMENTS_OPERATOR_IRANCELL}, {"936", PAYMENTS_OPERATOR_IRANCELL},
    {"937", PAYMENTS_OPERATOR_IRANCELL}, {"938", PAYMENTS_OPERATOR_IRANCELL}, {"939", PAYMENTS_OPERATOR_IRANCELL},
    {"941", PAYMENTS_OPERATOR_IRANCELL}, {"920", PAYMENTS_OPERATOR_RIGHTEL},  {"921", PAYMENTS_OPERATOR_RIGHTEL},
    {"922", PAYMENTS_OPERATOR_RIGHTEL},  {"923", PAYMENTS_OPERATOR_RIGHTEL},  {"932", PAYMENTS_OPERATOR_TALIYA},
    {"998", PAYMENTS_OPERATOR_SHATEL},
};

/* Ukrainian operator codes (the two digits after +380), as assigned by the
 * national regulator (NKEK): the same set sb_phone_normalize accepts. */
static const struct {
    char code[3];
    payments_operator op;
} ua_codes[] = {
    {"39", PAYMENTS_OPERATOR_KYIVSTAR},     {"67", PAYMENTS_OPERATOR_KYIVSTAR},
    {"68", PAYMENTS_OPERATOR_KYIVSTAR},     {"77", PAYMENTS_OPERATOR_KYIVSTAR},
    {"96", PAYMENTS_OPERATOR_KYIVSTAR},     {"97", PAYMENTS_OPERATOR_KYIVSTAR},
    {"98", PAYMENTS_OPERATOR_KYIVSTAR},     {"50", PAYMENTS_OPERATOR_VODAFONE_UA},
    {"66", PAYMENTS_OPERATOR_VODAFONE_UA},  {"75", PAYMENTS_OPERATOR_VODAFONE_UA},
    {"95", PAYMENTS_OPERATOR_VODAFONE_UA},  {"99", PAYMENTS_OPERATOR_VODAFONE_UA},
    {"63", PAYMENTS_OPERATOR_LIFECELL},     {"73", PAYMENTS_OPERATOR_LIFECELL},
    {"93", PAYMENTS_OPERATOR_LIFECELL},     {"91", PAYMENTS_OPERATOR_3MOB},
    {"92", PAYMENTS_OPERATOR_PEOPLENET},    {"89", PAYMENTS_OPERATOR_INTERTELECOM},
    {"94", PAYMENTS_OPERATOR_INTERTELECOM},
};

int payments_mobile_parse(const char *in, payments_mobile *out, payments_reason *reason_out) {
    if (reason_out) *reason_out = PAYMENTS_OK;
    if (!out) return reject(reason_out, PAYMENTS_REASON_EMPTY);
    memset(out, 0, sizeof *out);
    if (!in || !*in) return reject(reason_out, PAYMENTS_REASON_EMPTY);
    if (strnlen(in, SB_PAYMENTS_INPUT_BYTES_MAX + 1) > SB_PAYMENTS_INPUT_BYTES_MAX)
        return reject(reason_out, PAYMENTS_REASON_TOO_LONG);
    char e164[SB_PHONE_BYTES];
    sb_phone_country country;
    if (sb_phone_normalize(in, e164, &country) != SB_OK) return reject(reason_out, PAYMENTS_REASON_NOT_MOBILE);
    memcpy(out->e164, e164, sizeof e164);
    out->country = country;
    if (country == SB_PHONE_COUNTRY_IR) {
        memcpy(out->prefix, e164 + 3, 3); /* "+98" then "912" */
        out->prefix[3] = '\0';
        for (size_t i = 0; i < SB_ARRAY_LEN(ir_prefixes); i++)
            if (memcmp(ir_prefixes[i].prefix, out->prefix, 3) == 0) out->operator_id = ir_prefixes[i].op;
    } else {
        memcpy(out->prefix, e164 + 4, 2); /* "+380" then "50" */
        out->prefix[2] = '\0';
        for (size_t i = 0; i < SB_ARRAY_LEN(ua_codes); i++)
            if (memcmp(ua_codes[i].code, out->prefix, 2) == 0) out->operator_id = ua_codes[i].op;
    }
    if (out->operator_id == PAYMENTS_OPERATOR_NONE) return reject(reason_out, PAYMENTS_REASON_UNKNOWN_OPERATOR);
    return SB_OK;
}
