/*
 * cli_check.c - `socialbank check card|sheba|bill|phone VALUE...`: validate
 * payment instruments the way the server will before any money moves, and
 * print one JSON object per input, one a line:
 *
 *   {"kind":"card","valid":true,"masked":"603770******5443","bank":"keshavarzi",...}
 *   {"kind":"bill","valid":false,"reason":"bad_bill_id_check","message":"...",...}
 *
 * A card's input is never echoed (only its masked form, when 16 digits were
 * read); other inputs are echoed as "input" when they are valid UTF-8.
 * Exit code 0 if every input is valid, 1 if any is not, 2 on a usage error.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/core.h"
#include "payments/payments.h"

/* One output line is small: names, a few numbers, an echoed input. */
#define CHECK_LINE_BYTES_MAX (4 * 1024)

typedef struct {
    sb_buf buf;
    int result; /* first error while building the line */
} json_line;

static void line_begin(json_line *line, const char *kind) {
    sb_buf_init(&line->buf, CHECK_LINE_BYTES_MAX);
    line->result = sb_buf_printf(&line->buf, "{\"kind\":\"%s\"", kind);
}

static void field_str(json_line *line, const char *name, const char *value) {
    if (line->result != SB_OK || !value) return;
    line->result = sb_buf_printf(&line->buf, ",\"%s\":\"", name);
    if (line->result == SB_OK) line->result = sb_buf_append_json_escaped(&line->buf, value, strlen(value));
    if (line->result == SB_OK) line->result = sb_buf_append_str(&line->buf, "\"");
}

static void field_int(json_line *line, const char *name, int64_t value) {
    if (line->result != SB_OK) return;
    line->result = sb_buf_printf(&line->buf, ",\"%s\":%lld", name, (long long)value);
}

static void field_bool(json_line *line, const char *name, bool value) {
    if (line->result != SB_OK) return;
    line->result = sb_buf_printf(&line->buf, ",\"%s\":%s", name, value ? "true" : "false");
}

/* Echo a user's input only when it is short, valid UTF-8 text. */
static void field_input(json_line *line, const char *name, const char *input) {
    size_t len = strnlen(input, SB_PAYMENTS_INPUT_BYTES_MAX + 1);
    if (len <= SB_PAYMENTS_INPUT_BYTES_MAX && sb_utf8_valid(input, len)) field_str(line, name, input);
}

static void field_verdict(json_line *line, int rc, payments_reason reason) {
    field_bool(line, "valid", rc == SB_OK);
    if (rc != SB_OK) {
        field_str(line, "reason", payments_reason_name(reason));
        field_str(line, "message", payments_reason_text(reason));
    }
}

static void field_bank(json_line *line, const payments_bank *bank) {
    if (!bank) return;
    field_str(line, "bank", bank->id);
    field_str(line, "bank_name", bank->name_en);
    field_str(line, "bank_name_fa", bank->name_fa);
}

/* Print the line; returns 0 if printed, 1 if it could not be built. */
static int line_end(json_line *line) {
    if (line->result == SB_OK) line->result = sb_buf_append_str(&line->buf, "}\n");
    int failed = line->result != SB_OK;
    if (!failed)
        fwrite(line->buf.data, 1, line->buf.len, stdout);
    else
        fprintf(stderr, "socialbank check: an output line could not be built: %s\n", sb_strerror(line->result));
    sb_buf_free(&line->buf);
    return failed;
}

static bool check_card(const char *value) {
    payments_card card;
    payments_reason reason;
    int rc = payments_card_parse(value, &card, &reason);
    json_line line;
    line_begin(&line, "card");
    field_verdict(&line, rc, reason);
    if (card.masked[0]) field_str(&line, "masked", card.masked);
    if (rc == SB_OK) {
        field_str(&line, "bin", card.bin);
        field_bank(&line, card.bank);
    }
    payments_card_wipe(&card);
    return line_end(&line) == 0 && rc == SB_OK;
}

static bool check_sheba(const char *value) {
    payments_sheba sheba;
    payments_reason reason;
    int rc = payments_sheba_parse(value, &sheba, &reason);
    json_line line;
    line_begin(&line, "sheba");
    field_input(&line, "input", value);
    field_verdict(&line, rc, reason);
    if (sheba.country[0]) field_str(&line, "country", sheba.country);
    if (rc == SB_OK) {
        field_str(&line, "normalized", sheba.iban);
        field_str(&line, "bank_code", sheba.bank_code);
        field_bank(&line, sheba.bank);
        field_str(&line, "account_number", sheba.account_number);
    }
    return line_end(&line) == 0 && rc == SB_OK;
}

static bool check_bill(const char *bill_id, const char *payment_id) {
    payments_bill bill;
    payments_reason reason;
    int rc = payments_bill_parse(bill_id, payment_id, &bill, &reason);
    json_line line;
    line_begin(&line, "bill");
    field_input(&line, "bill_id_input", bill_id);
    field_input(&line, "payment_id_input", payment_id);
    field_verdict(&line, rc, reason);
    if (rc == SB_OK) {
        field_str(&line, "bill_id", bill.bill_id);
        field_str(&line, "payment_id", bill.payment_id);
        field_str(&line, "type", payments_bill_type_name(bill.type));
        field_int(&line, "amount_rials", bill.amount_rials);
        field_str(&line, "company_code", bill.company_code);
        field_int(&line, "year_digit", bill.year_digit);
        field_int(&line, "period", bill.period);
    }
    return line_end(&line) == 0 && rc == SB_OK;
}

static bool check_phone(const char *value) {
    payments_mobile m;
    payments_reason reason;
    int rc = payments_mobile_parse(value, &m, &reason);
    json_line line;
    line_begin(&line, "phone");
    field_input(&line, "input", value);
    field_verdict(&line, rc, reason);
    if (m.e164[0]) {
        field_str(&line, "normalized", m.e164);
        field_str(&line, "country", m.country == SB_PHONE_COUNTRY_IR ? "IR" : "UA");
        field_str(&line, "prefix", m.prefix);
    }
    if (rc == SB_OK) {
        field_str(&line, "operator", payments_operator_id(m.operator_id));
        field_str(&line, "operator_name", payments_operator_name(m.operator_id));
    }
    return line_end(&line) == 0 && rc == SB_OK;
}

int cli_check(int argc, char **argv) {
    cli_option opts[] = {{NULL}};
    /* kind + values; one more than allowed so that too many is detected */
    const int positional_max = SB_PAYMENTS_CHECK_INPUTS_MAX + 1;
    const char **pos = sb_calloc((size_t)positional_max, sizeof *pos);
    if (!pos) {
        fprintf(stderr, "socialbank check: out of memory\n");
        return 1;
    }
    int npos, rc;
    if (cli_begin(argc, argv, "check card|sheba|bill|phone VALUE...",
                  "Validate payment instruments as the server does before any money moves, and print one\n"
                  "JSON object per input, one a line: \"valid\": true|false, the \"reason\" (and a \"message\")\n"
                  "when not, and what the value tells.\n"
                  "  card   16-digit bank card: Luhn, Shetab issuing bank; shown only masked (603799******1234)\n"
                  "  sheba  Iranian IBAN (IR + 24 digits): mod 97, bank, account number\n"
                  "  bill   BILL_ID PAYMENT_ID pairs: check digits, bill type, amount in rials, year, period\n"
                  "         e.g. socialbank check bill 7748317800142 1770160 2050327604613 1070189\n"
                  "  phone  Iranian or Ukrainian mobile: normalised E.164 form and operator (for top-up)\n"
                  "Persian and Arabic-Indic digits are accepted; quote values with spaces. Use -- before\n"
                  "values that start with '-'. Exit code: 0 all valid, 1 any invalid, 2 usage error.",
                  opts, pos, positional_max, &npos, &rc)) {
        sb_free(pos);
        return rc;
    }
    const char *kind = npos > 0 ? pos[0] : NULL;
    int nvalues = npos - 1;
    int result = 0;
    if (!kind) {
        fprintf(stderr, "socialbank check: say what to check: card, sheba, bill or phone (see --help)\n");
        result = 2;
    } else if (strcmp(kind, "card") != 0 && strcmp(kind, "sheba") != 0 && strcmp(kind, "bill") != 0 &&
               strcmp(kind, "phone") != 0) {
        fprintf(stderr, "socialbank check: unknown kind '%.32s': use card, sheba, bill or phone\n", kind);
        result = 2;
    } else if (nvalues < 1) {
        fprintf(stderr, "socialbank check %s: give at least one value (see --help)\n", kind);
        result = 2;
    } else if (nvalues > SB_PAYMENTS_CHECK_INPUTS_MAX) {
        fprintf(stderr, "socialbank check: at most %d values per run\n", SB_PAYMENTS_CHECK_INPUTS_MAX);
        result = 2;
    } else if (strcmp(kind, "bill") == 0 && nvalues % 2 != 0) {
        fprintf(stderr, "socialbank check bill: give BILL_ID PAYMENT_ID pairs (got %d values)\n", nvalues);
        result = 2;
    }
    if (result != 0) {
        sb_free(pos);
        return result;
    }
    bool all_valid = true;
    if (strcmp(kind, "bill") == 0) {
        for (int i = 1; i + 1 < npos; i += 2)
            all_valid = check_bill(pos[i], pos[i + 1]) && all_valid;
    } else {
        for (int i = 1; i < npos; i++) {
            bool ok;
            if (strcmp(kind, "card") == 0)
                ok = check_card(pos[i]);
            else if (strcmp(kind, "sheba") == 0)
                ok = check_sheba(pos[i]);
            else
                ok = check_phone(pos[i]);
            all_valid = ok && all_valid;
        }
    }
    fflush(stdout);
    sb_free(pos);
    return all_valid ? 0 : 1;
}
