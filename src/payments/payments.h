/*
 * payments.h - the payments module: every instrument validated before any
 * money could move, and the pure arithmetic of splits, fees and limits.
 *
 * This half of the module needs nothing but core: it parses and checks what
 * a customer types (bank card numbers, Sheba/IBAN, Iranian bill ID + payment
 * ID, mobile numbers for top-up), says what the value tells (issuing bank,
 * bill type and amount, operator), splits an amount among shares without
 * losing or inventing a rial, and computes fees and daily limits from a
 * policy.  The operations that move money (aliases, card-to-card through
 * the switch, bill payment, top-up, requests, split settlement, receipts)
 * sit on the ledger and come in the next step.
 *
 * Conventions:
 *   - Parsers accept Persian (U+06F0..) and Arabic-Indic (U+0660..) digits
 *     wherever digits are, and the usual separators (space, '-'; more where
 *     stated).  Input longer than SB_PAYMENTS_INPUT_BYTES_MAX is rejected.
 *   - A parser returns SB_OK, or SB_EINVAL with *reason_out telling why (a
 *     payments_reason; payments_reason_name/_text give a stable code and a
 *     sentence).  On failure the out struct is zeroed: nothing half-written.
 *   - Reasons and messages never contain the input: a full card number must
 *     never reach a log or an error message.  Show cards only masked.
 *   - Money is int64_t minor units (rials for IRR); every sum is checked.
 */
#ifndef SB_PAYMENTS_H
#define SB_PAYMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

/* ---- reasons --------------------------------------------------------- */
/* Why a value was rejected.  The order is the order checks run in. */
typedef enum {
    PAYMENTS_OK = 0,
    PAYMENTS_REASON_EMPTY,                 /* nothing given */
    PAYMENTS_REASON_TOO_LONG,              /* over SB_PAYMENTS_INPUT_BYTES_MAX */
    PAYMENTS_REASON_BAD_CHARACTER,         /* a character that is neither a digit nor an allowed separator */
    PAYMENTS_REASON_BAD_LENGTH,            /* wrong number of digits */
    PAYMENTS_REASON_BAD_CHECK_DIGIT,       /* Luhn (card) or mod 11 (bill ID) failed */
    PAYMENTS_REASON_UNKNOWN_BANK,          /* card BIN or Sheba bank code not in the Shetab table */
    PAYMENTS_REASON_NOT_IBAN,              /* does not start with two letters and two check digits */
    PAYMENTS_REASON_BAD_IBAN_CHECKSUM,     /* ISO 7064 mod 97-10 failed */
    PAYMENTS_REASON_NOT_IRANIAN_IBAN,      /* a well-formed IBAN of another country */
    PAYMENTS_REASON_BAD_BILL_ID_CHECK,     /* bill ID's check digit */
    PAYMENTS_REASON_UNKNOWN_BILL_TYPE,     /* the bill ID's type digit is 0 or 7 */
    PAYMENTS_REASON_BAD_PAYMENT_ID_CHECK1, /* payment ID's first check digit */
    PAYMENTS_REASON_BAD_PAYMENT_ID_CHECK2, /* payment ID's second check digit (over bill ID + payment ID) */
    PAYMENTS_REASON_NOT_MOBILE,       /* not an Iranian or Ukrainian mobile number (landline, other country, junk) */
    PAYMENTS_REASON_UNKNOWN_OPERATOR, /* a mobile range with no operator in our table */
    PAYMENTS_REASON_COUNT
} payments_reason;

/* Stable snake_case code, e.g. "bad_check_digit" (static string). */
const char *payments_reason_name(payments_reason reason);
/* A short English sentence for users (static string, never contains input). */
const char *payments_reason_text(payments_reason reason);

/* ---- banks of the Shetab network --------------------------------------- */
typedef struct {
    const char *id;         /* stable slug, e.g. "melli" */
    const char *name_en;    /* "Bank Melli Iran" */
    const char *name_fa;    /* "بانک ملی ایران" (UTF-8) */
    const char *sheba_code; /* three digits in a Sheba, e.g. "017", or NULL if none */
} payments_bank;

/* The issuer of a card from its first six digits (ASCII), or NULL. */
const payments_bank *payments_bank_by_bin(const char bin[6]);
/* The bank for a three-digit Sheba bank code (ASCII), or NULL. */
const payments_bank *payments_bank_by_sheba_code(const char code[3]);
/* Every bank in the table, for listings and tests (count in *count_out). */
const payments_bank *payments_banks(size_t *count_out);
/* The n-th known BIN (six digits) and its bank; false past the end. */
bool payments_bin_at(size_t index, const char **bin_out, const payments_bank **bank_out);

/* ---- bank card numbers -------------------------------------------------- */
#define PAYMENTS_CARD_DIGITS 16
#define PAYMENTS_CARD_MASKED_BYTES (PAYMENTS_CARD_DIGITS + 1)
typedef struct {
    char number[PAYMENTS_CARD_DIGITS + 1]; /* SENSITIVE: the full number; never log it; wipe with payments_card_wipe */
    char masked[PAYMENTS_CARD_MASKED_BYTES]; /* "603799******1234": safe to show and log */
    char bin[7];                             /* first six digits */
    const payments_bank *bank;               /* issuing bank */
} payments_card;

/* Parse a card number: exactly 16 digits (ASCII, Persian or Arabic-Indic),
 * spaces and dashes allowed anywhere, Luhn check, and the BIN must belong to
 * a Shetab bank.  On SB_EINVAL *reason_out says why and *out is zeroed
 * (out->masked is filled whenever 16 digits were read, so errors can say
 * which card without showing it).  reason_out may be NULL. */
int payments_card_parse(const char *in, payments_card *out, payments_reason *reason_out) SB_MUST_CHECK;
/* True if the 16 ASCII digits pass the Luhn (mod 10) check. */
bool payments_luhn_valid(const char *digits, size_t len);
/* Write "first six + ****** + last four" of 16 ASCII digits into out. */
void payments_card_mask(const char number[PAYMENTS_CARD_DIGITS], char out[PAYMENTS_CARD_MASKED_BYTES]);
/* Zero the sensitive fields of a parsed card (also safe on a zeroed one). */
void payments_card_wipe(payments_card *card);

/* ---- Sheba (Iranian IBAN) ----------------------------------------------- */
#define PAYMENTS_IBAN_CHARS_MAX 34 /* ISO 13616 */
#define PAYMENTS_SHEBA_CHARS 26    /* "IR" + 2 check digits + 22 digits */
typedef struct {
    char iban[PAYMENTS_SHEBA_CHARS + 1]; /* normalised: "IR820540102680020817909002" */
    char country[3];                     /* "IR"; on NOT_IRANIAN_IBAN, the other country's code */
    char bank_code[4];                   /* "054" */
    char account_type;                   /* the digit after the bank code ('0' = deposit account) */
    char account_field[19];              /* the 18-digit account field as written */
    char account_number[20];             /* the bank's account number, per bank rules (see instruments.c) */
    const payments_bank *bank;
} payments_sheba;

/* Parse a Sheba: "IR" (either case) + 24 digits, or the 24 digits alone
 * (as Iranian banking apps show them), spaces and dashes allowed, Persian
 * digits accepted, ISO 7064 mod 97-10, bank from the bank code.  A valid IBAN
 * of another country is rejected with PAYMENTS_REASON_NOT_IRANIAN_IBAN and
 * out->country set (the rest of *out zeroed).  reason_out may be NULL. */
int payments_sheba_parse(const char *in, payments_sheba *out, payments_reason *reason_out) SB_MUST_CHECK;
/* ISO 7064 mod 97-10 over an uppercase IBAN (letters and digits only). */
bool payments_iban_checksum_valid(const char *iban, size_t len);

/* ---- Iranian bill ID + payment ID ---------------------------------------- */
#define PAYMENTS_BILL_ID_DIGITS_MIN 6
#define PAYMENTS_BILL_ID_DIGITS_MAX 13
#define PAYMENTS_PAYMENT_ID_DIGITS_MIN 6
#define PAYMENTS_PAYMENT_ID_DIGITS_MAX 13
typedef enum {
    PAYMENTS_BILL_UNKNOWN = 0,
    PAYMENTS_BILL_WATER = 1,
    PAYMENTS_BILL_ELECTRICITY = 2,
    PAYMENTS_BILL_GAS = 3,
    PAYMENTS_BILL_FIXED_PHONE = 4,
    PAYMENTS_BILL_MOBILE = 5,
    PAYMENTS_BILL_MUNICIPALITY = 6,
    PAYMENTS_BILL_TAX = 8,
    PAYMENTS_BILL_TRAFFIC_FINES = 9,
} payments_bill_type;
typedef struct {
    char bill_id[PAYMENTS_BILL_ID_DIGITS_MAX + 1];       /* digits, leading zeros dropped */
    char payment_id[PAYMENTS_PAYMENT_ID_DIGITS_MAX + 1]; /* digits, leading zeros dropped */
    payments_bill_type type;
    char company_code[4];                             /* the three digits before the type digit */
    char subscriber[PAYMENTS_BILL_ID_DIGITS_MAX + 1]; /* the file/subscription part before the company code */
    int64_t amount_rials;                             /* payment ID without its last five digits, times 1000 */
    int year_digit;                                   /* last digit of the (Solar Hijri) year */
    int period;                                       /* billing period, two digits */
} payments_bill;

/* Parse and check a bill: bill ID check digit (mod 11, weights 2..7 from the
 * right), a known type, the payment ID's two check digits (the first over
 * the payment ID's leading part, the second over bill ID + payment ID + the
 * first check digit), amount, year and period.  Digits only (any script),
 * spaces and dashes allowed.  Errors in check order; *out zeroed. */
int payments_bill_parse(const char *bill_id, const char *payment_id, payments_bill *out,
                        payments_reason *reason_out) SB_MUST_CHECK;
/* The mod 11 check digit of `len` ASCII digits (the scheme of bills). */
int payments_bill_check_digit(const char *digits, size_t len);
/* "water", "electricity", ... or "unknown" (static). */
const char *payments_bill_type_name(payments_bill_type type);

/* ---- mobile numbers and operators (top-up) --------------------------------- */
typedef enum {
    PAYMENTS_OPERATOR_NONE = 0,
    PAYMENTS_OPERATOR_MCI,      /* Hamrah-e Aval */
    PAYMENTS_OPERATOR_IRANCELL, /* MTN Irancell */
    PAYMENTS_OPERATOR_RIGHTEL,
    PAYMENTS_OPERATOR_TALIYA,
    PAYMENTS_OPERATOR_SHATEL, /* Shatel Mobile */
    PAYMENTS_OPERATOR_KYIVSTAR,
    PAYMENTS_OPERATOR_VODAFONE_UA,
    PAYMENTS_OPERATOR_LIFECELL,
    PAYMENTS_OPERATOR_3MOB,
    PAYMENTS_OPERATOR_PEOPLENET,
    PAYMENTS_OPERATOR_INTERTELECOM,
    PAYMENTS_OPERATOR_COUNT
} payments_operator;
typedef struct {
    char e164[SB_PHONE_BYTES]; /* "+989121234567" */
    sb_phone_country country;
    char prefix[4]; /* operator prefix: "912" (Iran) or "50" (Ukraine) */
    payments_operator operator_id;
} payments_mobile;

/* Normalise with sb_phone_normalize and find the operator by prefix.
 * PAYMENTS_REASON_NOT_MOBILE if the number is not an accepted mobile,
 * PAYMENTS_REASON_UNKNOWN_OPERATOR if its range has no operator we know
 * (e164 and country are then still filled, operator NONE). */
int payments_mobile_parse(const char *in, payments_mobile *out, payments_reason *reason_out) SB_MUST_CHECK;
/* Stable slug ("mci", "irancell", "kyivstar"...) and display name (static). */
const char *payments_operator_id(payments_operator op);
const char *payments_operator_name(payments_operator op);

/* ---- splitting an amount ------------------------------------------------- */
typedef enum {
    PAYMENTS_SPLIT_EQUAL = 0,  /* values unused */
    PAYMENTS_SPLIT_AMOUNTS,    /* values are each share's part of the subtotal; must sum to it */
    PAYMENTS_SPLIT_WEIGHTS,    /* values are share counts (>= 0, not all 0) */
    PAYMENTS_SPLIT_PERCENT_BP, /* values are basis points (>= 0) summing to exactly 10000 */
} payments_split_mode;
typedef enum {
    PAYMENTS_REMAINDER_LARGEST = 0, /* largest remainder (Hamilton); ties to the lower index */
    PAYMENTS_REMAINDER_TO_SHARE,    /* every leftover unit to share remainder_share */
} payments_remainder_rule;
typedef struct {
    payments_split_mode mode;
    size_t count;           /* shares, 1..SB_PAYMENTS_SPLIT_SHARES_MAX */
    const int64_t *values;  /* count values (see mode); NULL for EQUAL */
    int64_t subtotal_minor; /* >= 0: the bill before tax and tip */
    int64_t tax_minor;      /* >= 0: spread pro rata */
    int64_t tip_minor;      /* >= 0: spread pro rata */
    payments_remainder_rule rule;
    size_t remainder_share; /* index, for PAYMENTS_REMAINDER_TO_SHARE */
} payments_split_spec;
typedef struct {
    int64_t base_minor; /* part of the subtotal */
    int64_t tax_minor;
    int64_t tip_minor;
    int64_t total_minor; /* base + tax + tip */
} payments_share;

/* Split subtotal, tax and tip among the shares.  Each of the three is
 * allocated separately in proportion to the shares' weights (for AMOUNTS the
 * amounts themselves), exactly in integers: floor parts, then the leftover
 * units by the rule.  The sums of each column equal the inputs, every share
 * is >= 0.  SB_EINVAL for a bad spec (negative values, amounts that do not
 * sum to the subtotal, basis points not summing to 10000, all-zero weights,
 * count 0, remainder_share out of range); SB_ELIMIT for count over
 * SB_PAYMENTS_SPLIT_SHARES_MAX or a total that overflows int64.  shares_out
 * holds spec->count entries, written only on success. */
int payments_split(const payments_split_spec *spec, payments_share *shares_out) SB_MUST_CHECK;

/* ---- fees and daily limits ---------------------------------------------- */
typedef enum {
    PAYMENTS_OP_TRANSFER = 0, /* wallet to wallet, by alias */
    PAYMENTS_OP_CARD_TO_CARD,
    PAYMENTS_OP_BILL,
    PAYMENTS_OP_TOPUP,
    PAYMENTS_OP_REQUEST, /* paying a money request or a split share */
    PAYMENTS_OP_COUNT
} payments_op_kind;
/* fee = clamp(fixed + floor(amount * rate_bp / 10000), min, max) */
typedef struct {
    int64_t fixed_minor; /* >= 0 */
    int32_t rate_bp;     /* 0..10000 */
    int64_t min_minor;   /* >= 0 */
    int64_t max_minor;   /* >= min; INT64_MAX for none */
} payments_fee_rule;
typedef struct {
    int64_t amount_max_minor;       /* one operation at most this; INT64_MAX for none */
    int64_t daily_amount_max_minor; /* sum of one customer's operations of this kind in a day */
    int32_t daily_count_max;        /* operations of this kind in a day */
} payments_limit_rule;
typedef struct {
    payments_fee_rule fee[PAYMENTS_OP_COUNT];
    payments_limit_rule limit[PAYMENTS_OP_COUNT];
    int64_t daily_total_max_minor; /* all kinds together per customer and day */
    int32_t day_offset_minutes;    /* the bank's day starts at local midnight: UTC offset (Tehran +210) */
} payments_policy;
/* One customer's use so far in the current day (from the ledger). */
typedef struct {
    int64_t amount_minor[PAYMENTS_OP_COUNT];
    int32_t count[PAYMENTS_OP_COUNT];
} payments_usage;
typedef enum {
    PAYMENTS_LIMIT_OK = 0,
    PAYMENTS_LIMIT_AMOUNT_NOT_POSITIVE,
    PAYMENTS_LIMIT_OPERATION_MAX, /* the single operation is too large */
    PAYMENTS_LIMIT_DAILY_COUNT,   /* too many operations of this kind today */
    PAYMENTS_LIMIT_DAILY_KIND,    /* today's amount for this kind would exceed its cap */
    PAYMENTS_LIMIT_DAILY_TOTAL,   /* today's amount over all kinds would exceed the cap */
} payments_limit_verdict;

/* Check a policy's own consistency (ranges above). SB_EINVAL if broken. */
int payments_policy_validate(const payments_policy *policy) SB_MUST_CHECK;
/* An example policy in rials for tests and demos (see fees.c): free
 * transfers, requests, bills and top-ups; card-to-card 6,000 rials + 0.02%,
 * at most 50,000; daily caps per kind and in total; Tehran's day. */
void payments_policy_default(payments_policy *policy_out);
/* The fee for one operation of `amount_minor` (> 0).  SB_EINVAL for a bad
 * kind or amount, SB_ELIMIT on overflow. */
int payments_fee(const payments_policy *policy, payments_op_kind kind, int64_t amount_minor,
                 int64_t *fee_minor_out) SB_MUST_CHECK;
/* May a customer with `usage` today make this operation?  SB_OK with
 * *verdict_out PAYMENTS_LIMIT_OK, or SB_ELIMIT with the verdict (checked in
 * the enum's order); SB_EINVAL for a bad kind or a negative usage. The limit
 * counts the amount, not the fee. */
int payments_limit_check(const payments_policy *policy, payments_op_kind kind, const payments_usage *usage,
                         int64_t amount_minor, payments_limit_verdict *verdict_out) SB_MUST_CHECK;
/* The policy day that `epoch_ms` falls in (days since 1970-01-01 local). */
int64_t payments_policy_day(const payments_policy *policy, int64_t epoch_ms);
const char *payments_limit_verdict_name(payments_limit_verdict verdict);
const char *payments_op_kind_name(payments_op_kind kind);

/* ---- money requests (the rules; storage and money come with the ledger) ---- */
typedef enum {
    PAYMENTS_REQUEST_PENDING = 0,
    PAYMENTS_REQUEST_PAID,
    PAYMENTS_REQUEST_DECLINED,
    PAYMENTS_REQUEST_CANCELLED,
    PAYMENTS_REQUEST_EXPIRED,
} payments_request_state;
typedef enum {
    PAYMENTS_REQUEST_PAY = 0, /* the payer pays the exact amount */
    PAYMENTS_REQUEST_DECLINE, /* the payer says no */
    PAYMENTS_REQUEST_CANCEL,  /* the requester withdraws it */
    PAYMENTS_REQUEST_EXPIRE,  /* the clock: at or after expires_at_ms */
} payments_request_action;
typedef struct {
    int64_t requester_id;  /* who asks (a customer id), > 0 */
    int64_t payer_id;      /* who is asked; 0 = anyone but the requester (a payment link) */
    int64_t amount_minor;  /* > 0 */
    int64_t expires_at_ms; /* > 0 */
    payments_request_state state;
    int64_t settled_by_id; /* who paid/declined/cancelled; 0 while pending or when expired */
    int64_t settled_at_ms;
} payments_request;
/* Rejections in precedence order (the first that applies is reported). */
typedef enum {
    PAYMENTS_REQUEST_OK = 0,
    PAYMENTS_REQUEST_ACTION_INVALID,
    PAYMENTS_REQUEST_ACTOR_MUST_NOT_BE_ZERO, /* not for EXPIRE, which is the clock's */
    PAYMENTS_REQUEST_NOT_THE_PAYER,          /* PAY/DECLINE by someone else, or by the requester */
    PAYMENTS_REQUEST_NOT_THE_REQUESTER,      /* CANCEL by someone else */
    PAYMENTS_REQUEST_AMOUNT_MISMATCH,        /* PAY for another amount */
    PAYMENTS_REQUEST_EXISTS,                 /* the same action by the same actor already happened: a retry */
    PAYMENTS_REQUEST_ALREADY_PAID,
    PAYMENTS_REQUEST_ALREADY_DECLINED,
    PAYMENTS_REQUEST_ALREADY_CANCELLED,
    PAYMENTS_REQUEST_ALREADY_EXPIRED,
    PAYMENTS_REQUEST_EXPIRED_NOW,     /* PAY/DECLINE at or after expiry (apply EXPIRE) */
    PAYMENTS_REQUEST_NOT_YET_EXPIRED, /* EXPIRE before expires_at_ms */
    PAYMENTS_REQUEST_VERDICT_COUNT
} payments_request_verdict;

/* Check a new request: ids, amount and expiry after now. SB_EINVAL if not. */
int payments_request_init(payments_request *request, int64_t requester_id, int64_t payer_id, int64_t amount_minor,
                          int64_t now_ms, int64_t expires_at_ms) SB_MUST_CHECK;
/* Apply an action by actor_id (ignored for EXPIRE) at now_ms.  On
 * PAYMENTS_REQUEST_OK the request moves to its new state and records who and
 * when; on any other verdict it is unchanged.  For PAY the ledger transfer is
 * made first and this is applied in the same store transaction; EXISTS tells
 * a retry that it already happened. */
payments_request_verdict payments_request_apply(payments_request *request, payments_request_action action,
                                                int64_t actor_id, int64_t amount_minor, int64_t now_ms);
const char *payments_request_state_name(payments_request_state state);
const char *payments_request_verdict_name(payments_request_verdict verdict);

#endif /* SB_PAYMENTS_H */
