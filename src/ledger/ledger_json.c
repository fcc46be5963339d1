/*
 * ledger_json.c - the JSON form of accounts, transfers and results, so that
 * an HTTP route is only: parse body -> ledger_transfer_from_json ->
 * ledger_submit_transfers -> ledger_transfer_result_to_json.
 *
 * Decoding is strict: unknown keys, wrong types, malformed hex ids and
 * unknown flag names are errors with a sentence naming the field; money is a
 * JSON integer (int64 minor units), never a float.  Whether the values make
 * a valid transfer is the ledger's decision (rejections are data), not the
 * decoder's.
 */
#include <stdio.h>
#include <string.h>

#include "ledger/ledger.h"

#define ERR(...) (snprintf(err, LEDGER_JSON_ERR_BYTES, __VA_ARGS__), SB_EINVAL)

static int get_id(const json_t *v, const char *key, ledger_id *out, char *err) {
    if (!json_is_string(v)) return ERR("'%s' must be a string of 1 to 32 hex digits", key);
    if (ledger_id_parse(json_string_value(v), json_string_length(v), out) != SB_OK)
        return ERR("'%s' must be 1 to 32 hex digits", key);
    return SB_OK;
}

static int get_int(const json_t *v, const char *key, int64_t min, int64_t max, int64_t *out, char *err) {
    if (!json_is_integer(v)) return ERR("'%s' must be an integer", key);
    json_int_t x = json_integer_value(v);
    if (x < min || x > max) return ERR("'%s' is out of range", key);
    *out = (int64_t)x;
    return SB_OK;
}

typedef struct {
    const char *name;
    uint32_t bit;
} flag_name;

static const flag_name transfer_flags[] = {{"linked", LEDGER_TRANSFER_LINKED},
                                           {"pending", LEDGER_TRANSFER_PENDING},
                                           {"post_pending", LEDGER_TRANSFER_POST_PENDING},
                                           {"void_pending", LEDGER_TRANSFER_VOID_PENDING}};
static const flag_name account_flags[] = {
    {"debits_must_not_exceed_credits", LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS},
    {"credits_must_not_exceed_debits", LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS}};

static int get_flags(const json_t *v, const flag_name *names, size_t count, uint32_t *out, char *err) {
    if (!json_is_array(v) || json_array_size(v) > count)
        return ERR("'flags' must be an array of at most %zu names", count);
    uint32_t flags = 0;
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item) {
        size_t k = 0;
        while (k < count && !(json_is_string(item) && strcmp(json_string_value(item), names[k].name) == 0))
            k++;
        if (k == count) return ERR("'flags' item %zu is not a known flag", i);
        flags |= names[k].bit;
    }
    *out = flags;
    return SB_OK;
}

static json_t *flags_json(uint32_t flags, const flag_name *names, size_t count) {
    json_t *arr = json_array();
    for (size_t k = 0; arr && k < count; k++)
        if ((flags & names[k].bit) && json_array_append_new(arr, json_string(names[k].name)) != 0) {
            json_decref(arr);
            return NULL;
        }
    return arr;
}

static json_t *id_json(ledger_id id) {
    char hex[LEDGER_ID_HEX_BYTES];
    ledger_id_format(id, hex);
    return json_string(hex);
}

int ledger_transfer_from_json(const json_t *obj, ledger_transfer *out, char *err) {
    memset(out, 0, sizeof *out);
    err[0] = '\0';
    if (!json_is_object(obj)) return ERR("a transfer must be a JSON object");
    const char *key;
    json_t *v;
    bool have_id = false;
    json_object_foreach((json_t *)obj, key, v) {
        int result;
        int64_t x = 0;
        if (strcmp(key, "id") == 0) {
            result = get_id(v, key, &out->id, err);
            have_id = true;
        } else if (strcmp(key, "debit_account_id") == 0) {
            result = get_id(v, key, &out->debit_account_id, err);
        } else if (strcmp(key, "credit_account_id") == 0) {
            result = get_id(v, key, &out->credit_account_id, err);
        } else if (strcmp(key, "pending_id") == 0) {
            result = get_id(v, key, &out->pending_id, err);
        } else if (strcmp(key, "user_data") == 0) {
            result = get_id(v, key, &out->user_data, err);
        } else if (strcmp(key, "amount") == 0) {
            result = get_int(v, key, INT64_MIN, INT64_MAX, &out->amount_minor, err);
        } else if (strcmp(key, "timeout_ms") == 0) {
            result = get_int(v, key, INT64_MIN, INT64_MAX, &out->timeout_ms, err);
        } else if (strcmp(key, "code") == 0) {
            result = get_int(v, key, 0, UINT32_MAX, &x, err);
            out->code = (uint32_t)x;
        } else if (strcmp(key, "flags") == 0) {
            result = get_flags(v, transfer_flags, SB_ARRAY_LEN(transfer_flags), &out->flags, err);
        } else {
            result = ERR("unknown field '%.64s'", key);
        }
        if (result != SB_OK) return result;
    }
    if (!have_id) return ERR("'id' is required");
    return SB_OK;
}

json_t *ledger_transfer_to_json(const ledger_transfer *t) {
    json_t *o = json_object();
    if (!o) return NULL;
    int bad = json_object_set_new(o, "id", id_json(t->id));
    bad |= json_object_set_new(o, "debit_account_id", id_json(t->debit_account_id));
    bad |= json_object_set_new(o, "credit_account_id", id_json(t->credit_account_id));
    bad |= json_object_set_new(o, "amount", json_integer(t->amount_minor));
    if (!ledger_id_is_zero(t->pending_id)) bad |= json_object_set_new(o, "pending_id", id_json(t->pending_id));
    bad |= json_object_set_new(o, "user_data", id_json(t->user_data));
    bad |= json_object_set_new(o, "timeout_ms", json_integer(t->timeout_ms));
    bad |= json_object_set_new(o, "code", json_integer(t->code));
    bad |= json_object_set_new(o, "flags", flags_json(t->flags, transfer_flags, SB_ARRAY_LEN(transfer_flags)));
    bad |= json_object_set_new(o, "timestamp_ns", json_integer(t->timestamp_ns));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *ledger_transfer_result_to_json(const ledger_transfer *t, ledger_result result) {
    json_t *o = json_object();
    if (!o) return NULL;
    int bad = json_object_set_new(o, "id", id_json(t->id));
    bad |= json_object_set_new(o, "result", json_string(ledger_result_name(result)));
    if (result == LEDGER_OK || result == LEDGER_EXISTS)
        bad |= json_object_set_new(o, "timestamp_ns", json_integer(t->timestamp_ns));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int ledger_account_from_json(const json_t *obj, ledger_account *out, char *err) {
    memset(out, 0, sizeof *out);
    err[0] = '\0';
    if (!json_is_object(obj)) return ERR("an account must be a JSON object");
    const char *key;
    json_t *v;
    bool have_id = false, have_currency = false, have_kind = false;
    json_object_foreach((json_t *)obj, key, v) {
        int result = SB_OK;
        int64_t x = 0;
        if (strcmp(key, "id") == 0) {
            result = get_id(v, key, &out->id, err);
            have_id = true;
        } else if (strcmp(key, "user_data") == 0) {
            result = get_id(v, key, &out->user_data, err);
        } else if (strcmp(key, "currency") == 0) {
            if (!json_is_string(v) || json_string_length(v) != 3) {
                result = ERR("'currency' must be a 3-letter ISO 4217 code");
            } else {
                memcpy(out->currency, json_string_value(v), 4);
                have_currency = true;
            }
        } else if (strcmp(key, "kind") == 0) {
            ledger_account_kind k;
            if (!json_is_string(v) || ledger_account_kind_parse(json_string_value(v), &k) != SB_OK) {
                result = ERR("'kind' must be one of customer_wallet, bank_settlement, fees, suspense, "
                             "external_card_switch, external_biller, external_operator");
            } else {
                out->kind = k;
                have_kind = true;
            }
        } else if (strcmp(key, "code") == 0) {
            result = get_int(v, key, 0, UINT32_MAX, &x, err);
            out->code = (uint32_t)x;
        } else if (strcmp(key, "flags") == 0) {
            result = get_flags(v, account_flags, SB_ARRAY_LEN(account_flags), &out->flags, err);
        } else {
            result = ERR("unknown field '%.64s'", key);
        }
        if (result != SB_OK) return result;
    }
    if (!have_id || !have_currency || !have_kind) return ERR("'id', 'currency' and 'kind' are required");
    return SB_OK;
}

json_t *ledger_account_to_json(const ledger_account *a) {
    json_t *o = json_object();
    if (!o) return NULL;
    const char *kind = ledger_account_kind_name(a->kind);
    int bad = json_object_set_new(o, "id", id_json(a->id));
    bad |= json_object_set_new(o, "currency", json_string(a->currency));
    bad |= json_object_set_new(o, "kind", json_string(kind ? kind : "unknown"));
    bad |= json_object_set_new(o, "flags", flags_json(a->flags, account_flags, SB_ARRAY_LEN(account_flags)));
    bad |= json_object_set_new(o, "code", json_integer(a->code));
    bad |= json_object_set_new(o, "user_data", id_json(a->user_data));
    bad |= json_object_set_new(o, "debits_pending", json_integer(a->debits_pending));
    bad |= json_object_set_new(o, "debits_posted", json_integer(a->debits_posted));
    bad |= json_object_set_new(o, "credits_pending", json_integer(a->credits_pending));
    bad |= json_object_set_new(o, "credits_posted", json_integer(a->credits_posted));
    bad |= json_object_set_new(o, "timestamp_ns", json_integer(a->timestamp_ns));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}
