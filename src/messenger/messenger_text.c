/*
 * messenger_text.c - the messenger's pure functions: names of kinds,
 * validation of everything a client types or sends (text, titles, client
 * ids, payment and keyboard payloads) and the JSON rendering of messages and
 * events.  No storage here, so the fuzzer drives all of it directly.
 *
 * Payloads are parsed with jansson (no recursion of ours; jansson bounds its
 * own depth and we check the shape strictly) and stored in canonical compact
 * form, so the renderer can embed them as they are.
 */
#include <jansson.h>
#include <string.h>

#include "messenger/messenger.h"
#include "messenger/messenger_int.h"

/* ---- names ---- */

static const char *const chat_kind_names[] = {NULL, "direct", "group", "channel", "official"};
static const char *const role_names[] = {NULL, "member", "admin", "owner"};
static const char *const message_kind_names[] = {NULL,      "text",  "payment", "post",
                                                 "comment", "share", "notice",  "keyboard", "media"};
static const char *const payment_status_names[] = {NULL, "pending", "paid", "declined", "expired"};
static const char *const event_type_names[] = {
    NULL,      "message.new", "message.edited", "message.deleted", "payment.status",
    "receipt", "members",     "post.counts",    "typing",          "bot.callback"};
static const char *const members_action_names[] = {NULL,   "created", "added",   "removed",
                                                   "left", "role",    "renamed", "joined"};

#define NAME_OF(table, index) ((index) > 0 && (size_t)(index) < SB_ARRAY_LEN(table) ? (table)[(index)] : NULL)

const char *messenger_chat_kind_name(int kind) { return NAME_OF(chat_kind_names, kind); }
const char *messenger_member_role_name(int role) { return NAME_OF(role_names, role); }
const char *messenger_message_kind_name(int kind) { return NAME_OF(message_kind_names, kind); }
const char *messenger_payment_status_name(int status) { return NAME_OF(payment_status_names, status); }

static int name_parse(const char *const *table, size_t count, const char *name) {
    if (!name) return 0;
    for (size_t i = 1; i < count; i++)
        if (strcmp(table[i], name) == 0) return (int)i;
    return 0;
}

int messenger_payment_status_parse(const char *name, int *status_out) {
    int v = name_parse(payment_status_names, SB_ARRAY_LEN(payment_status_names), name);
    if (!v) return SB_EINVAL;
    *status_out = v;
    return SB_OK;
}

int messenger__chat_kind_parse(const char *name) {
    return name_parse(chat_kind_names, SB_ARRAY_LEN(chat_kind_names), name);
}
int messenger__role_parse(const char *name) { return name_parse(role_names, SB_ARRAY_LEN(role_names), name); }
int messenger__message_kind_parse(const char *name) {
    return name_parse(message_kind_names, SB_ARRAY_LEN(message_kind_names), name);
}
int messenger__status_parse(const char *name) {
    return name_parse(payment_status_names, SB_ARRAY_LEN(payment_status_names), name);
}

/* ---- validation ---- */

/* Decode one UTF-8 code point at s[i] (already known valid).  Returns its
 * length and writes the code point. */
static size_t utf8_next(const unsigned char *s, size_t i, uint32_t *cp) {
    unsigned char c = s[i];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c < 0xE0) {
        *cp = (uint32_t)(c & 0x1F) << 6 | (s[i + 1] & 0x3F);
        return 2;
    }
    if (c < 0xF0) {
        *cp = (uint32_t)(c & 0x0F) << 12 | (uint32_t)(s[i + 1] & 0x3F) << 6 | (s[i + 2] & 0x3F);
        return 3;
    }
    *cp = (uint32_t)(c & 0x07) << 18 | (uint32_t)(s[i + 1] & 0x3F) << 12 | (uint32_t)(s[i + 2] & 0x3F) << 6 |
          (s[i + 3] & 0x3F);
    return 4;
}

/* Shared by text and titles: valid UTF-8, no C0/C1 controls or DEL (newline
 * only if allowed), not only white space. */
static int text_rules(const char *text, size_t len, size_t max, bool newline_ok) {
    if (!text || len == 0) return SB_EINVAL;
    if (len > max) return SB_ELIMIT;
    if (!sb_utf8_valid(text, len)) return SB_EINVAL;
    const unsigned char *u = (const unsigned char *)text;
    bool visible = false;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        i += utf8_next(u, i, &cp);
        if (cp == '\n') {
            if (!newline_ok) return SB_EINVAL;
            continue;
        }
        if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) return SB_EINVAL;
        /* Bidi overrides and isolates can disguise text (Trojan Source). */
        if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069)) return SB_EINVAL;
        if (cp != ' ' && cp != 0x00A0 && cp != 0x200C && cp != 0x200B && cp != 0x3000 && cp != 0xFEFF) visible = true;
    }
    return visible ? SB_OK : SB_EINVAL;
}

int messenger_text_check(const char *text, size_t len) {
    return text_rules(text, len, SB_MESSENGER_TEXT_BYTES_MAX, true);
}

int messenger_title_check(const char *title) {
    if (!title) return SB_EINVAL;
    return text_rules(title, strnlen(title, SB_MESSENGER_TITLE_BYTES_MAX + 1), SB_MESSENGER_TITLE_BYTES_MAX, false);
}

static bool ascii_token(const char *s, size_t min, size_t max, const char *extra) {
    if (!s) return false;
    size_t n = strnlen(s, max + 1);
    if (n < min || n > max) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  (c != '\0' && strchr(extra, c) != NULL);
        if (!ok) return false;
    }
    return true;
}

int messenger_client_id_check(const char *client_id) {
    return ascii_token(client_id, 1, SB_MESSENGER_CLIENT_ID_BYTES_MAX, "._:-") ? SB_OK : SB_EINVAL;
}

/* Parse a JSON object text strictly (bounded, duplicates refused). */
static int object_load(const char *json, size_t len, json_t **out) {
    if (!json) return SB_EINVAL;
    if (len > SB_MESSENGER_PAYLOAD_BYTES_MAX) return SB_ELIMIT;
    json_error_t err;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
    if (!root) return SB_EINVAL;
    if (!json_is_object(root)) {
        json_decref(root);
        return SB_EINVAL;
    }
    *out = root;
    return SB_OK;
}

/* Hand back the canonical form through sb_malloc. */
static int canonical_take(json_t *root, char **canonical_out) {
    if (!canonical_out) return SB_OK;
    char *dumped = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
    if (!dumped) return SB_ENOMEM;
    char *copy = sb_strdup(dumped);
    free(dumped);
    if (!copy) return SB_ENOMEM;
    *canonical_out = copy;
    return SB_OK;
}

static bool string_field_ok(json_t *v, size_t max, bool (*check)(const char *, size_t)) {
    if (!json_is_string(v)) return false;
    size_t n = json_string_length(v);
    return n >= 1 && n <= max && check(json_string_value(v), n);
}

static bool transfer_id_ok(const char *s, size_t n) { return strlen(s) == n && ascii_token(s, 1, 64, "_-"); }
static bool note_ok(const char *s, size_t n) { return messenger_text_check(s, n) == SB_OK; }
static bool title_ok(const char *s, size_t n) { return strlen(s) == n && messenger_title_check(s) == SB_OK; }
static bool data_ok(const char *s, size_t n) {
    if (strlen(s) != n) return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7E) return false;
    return true;
}

static bool int_at_least(json_t *v, json_int_t min) { return json_is_integer(v) && json_integer_value(v) >= min; }

/* A payment status name as a JSON string (no embedded NUL): its value, or 0. */
static int status_of(json_t *v) {
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) return 0;
    return messenger__status_parse(json_string_value(v));
}

/* "shares": 1..SB_MESSENGER_PAYMENT_SHARES_MAX objects of exactly
 * {"user_id":>0,"amount_minor":>=0,"status":name}, distinct users, whose
 * amounts sum to the payment's amount. */
static bool shares_ok(json_t *shares, json_int_t amount_minor) {
    size_t n = json_array_size(shares);
    if (!json_is_array(shares) || n < 1 || n > SB_MESSENGER_PAYMENT_SHARES_MAX) return false;
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *share = json_array_get(shares, i);
        if (!json_is_object(share) || json_object_size(share) != 3) return false;
        json_t *user = json_object_get(share, "user_id"), *amount = json_object_get(share, "amount_minor");
        if (!int_at_least(user, 1) || !int_at_least(amount, 0) || !status_of(json_object_get(share, "status")))
            return false;
        if (sb_add_int64(sum, (int64_t)json_integer_value(amount), &sum) != SB_OK) return false;
        for (size_t j = 0; j < i; j++)
            if (json_integer_value(json_object_get(json_array_get(shares, j), "user_id")) == json_integer_value(user))
                return false;
    }
    return sum == amount_minor;
}

/* The shape check of a payment payload on a parsed object. */
static bool payment_shape_ok(json_t *root) {
    const char *key;
    json_t *v, *shares = NULL, *amount = NULL;
    size_t required = 0;
    json_object_foreach(root, key, v) {
        if (strcmp(key, "type") == 0) {
            if (!json_is_string(v) || strcmp(json_string_value(v), "payment") != 0) return false;
            required++;
        } else if (strcmp(key, "transfer_id") == 0) {
            if (!string_field_ok(v, 64, transfer_id_ok)) return false;
            required++;
        } else if (strcmp(key, "amount_minor") == 0) {
            if (!int_at_least(v, 1)) return false;
            amount = v;
            required++;
        } else if (strcmp(key, "currency") == 0) {
            const char *c = json_string_value(v);
            if (!c || json_string_length(v) != 3) return false;
            for (int i = 0; i < 3; i++)
                if (c[i] < 'A' || c[i] > 'Z') return false;
            required++;
        } else if (strcmp(key, "status") == 0) {
            if (!status_of(v)) return false;
            required++;
        } else if (strcmp(key, "note") == 0) {
            if (!string_field_ok(v, SB_MESSENGER_TITLE_BYTES_MAX * 4, note_ok)) return false;
        } else if (strcmp(key, "kind") == 0) {
            static const char *const kinds[] = {"send", "request", "split", "bill", "topup"};
            const char *k = json_string_value(v);
            bool found = false;
            for (size_t i = 0; k && i < SB_ARRAY_LEN(kinds); i++)
                if (strcmp(k, kinds[i]) == 0) found = true;
            if (!found) return false;
        } else if (strcmp(key, "request_id") == 0 || strcmp(key, "split_id") == 0 ||
                   strcmp(key, "receipt_id") == 0 || strcmp(key, "from_user_id") == 0 ||
                   strcmp(key, "to_user_id") == 0) {
            if (!int_at_least(v, 1)) return false;
        } else if (strcmp(key, "fee_minor") == 0) {
            if (!int_at_least(v, 0)) return false;
        } else if (strcmp(key, "counterparty") == 0 || strcmp(key, "reference") == 0) {
            if (!string_field_ok(v, SB_MESSENGER_TITLE_BYTES_MAX, title_ok)) return false;
        } else if (strcmp(key, "shares") == 0) {
            shares = v;
        } else {
            return false;
        }
    }
    if (required != 5) return false;
    return !shares || shares_ok(shares, json_integer_value(amount));
}

int messenger_payment_payload_check(const char *json, size_t len, char **canonical_out) {
    json_t *root;
    int result = object_load(json, len, &root);
    if (result != SB_OK) return result;
    result = payment_shape_ok(root) ? canonical_take(root, canonical_out) : SB_EINVAL;
    json_decref(root);
    return result;
}

int messenger__payment_payload_status(const char *canonical) {
    json_t *root;
    if (!canonical || object_load(canonical, strlen(canonical), &root) != SB_OK) return 0;
    int status = status_of(json_object_get(root, "status"));
    json_decref(root);
    return status;
}

int messenger__payment_payload_set_status(const char *canonical, int status, char **out) {
    *out = NULL;
    const char *name = messenger_payment_status_name(status);
    if (!name || !canonical) return SB_EINVAL;
    json_t *root;
    int result = object_load(canonical, strlen(canonical), &root);
    if (result != SB_OK) return result;
    result = json_object_set_new(root, "status", json_string(name)) == 0 ? canonical_take(root, out) : SB_ENOMEM;
    json_decref(root);
    return result;
}

/* The status a split's shares give: pending while any share is; else paid
 * when all are paid, declined when any was declined, expired otherwise. */
static int shares_status(json_t *shares) {
    bool all_paid = true, any_declined = false;
    for (size_t i = 0; i < json_array_size(shares); i++) {
        int st = status_of(json_object_get(json_array_get(shares, i), "status"));
        if (st == MESSENGER_PAYMENT_PENDING) return MESSENGER_PAYMENT_PENDING;
        if (st != MESSENGER_PAYMENT_PAID) all_paid = false;
        if (st == MESSENGER_PAYMENT_DECLINED) any_declined = true;
    }
    return all_paid ? MESSENGER_PAYMENT_PAID : any_declined ? MESSENGER_PAYMENT_DECLINED : MESSENGER_PAYMENT_EXPIRED;
}

int messenger__payment_payload_merge(const char *stored, const char *update, char **merged_out, int *status_out) {
    *merged_out = NULL;
    *status_out = 0;
    if (!stored || !update) return SB_EINVAL;
    json_t *old_root, *new_root;
    int result = object_load(stored, strlen(stored), &old_root);
    if (result != SB_OK) return result == SB_ELIMIT ? SB_ECORRUPT : result;
    result = object_load(update, strlen(update), &new_root);
    if (result != SB_OK) {
        json_decref(old_root);
        return result;
    }
    result = SB_EINVAL;
    if (!payment_shape_ok(new_root) || json_object_size(old_root) != json_object_size(new_root)) goto done;
    /* Everything but the status and the shares' statuses is immutable. */
    const char *key;
    json_t *v;
    json_object_foreach(old_root, key, v) {
        json_t *w = json_object_get(new_root, key);
        if (!w) goto done;
        if (strcmp(key, "status") == 0 || strcmp(key, "shares") == 0) continue;
        if (!json_equal(v, w)) goto done;
    }
    int status = status_of(json_object_get(new_root, "status"));
    json_t *old_shares = json_object_get(old_root, "shares"), *new_shares = json_object_get(new_root, "shares");
    if (old_shares) {
        if (json_array_size(old_shares) != json_array_size(new_shares)) goto done;
        for (size_t i = 0; i < json_array_size(old_shares); i++) {
            json_t *a = json_array_get(old_shares, i), *b = json_array_get(new_shares, i);
            if (!json_equal(json_object_get(a, "user_id"), json_object_get(b, "user_id")) ||
                !json_equal(json_object_get(a, "amount_minor"), json_object_get(b, "amount_minor")))
                goto done;
            /* A settled share stays as it is: a late update (read before
             * another share settled) cannot take it back. */
            int was = status_of(json_object_get(a, "status"));
            if (was != MESSENGER_PAYMENT_PENDING &&
                json_object_set(b, "status", json_object_get(a, "status")) != 0) {
                result = SB_ENOMEM;
                goto done;
            }
        }
        status = shares_status(new_shares);
        if (json_object_set_new(new_root, "status", json_string(messenger_payment_status_name(status))) != 0) {
            result = SB_ENOMEM;
            goto done;
        }
    }
    result = canonical_take(new_root, merged_out);
    if (result == SB_OK) *status_out = status;
done:
    json_decref(old_root);
    json_decref(new_root);
    return result;
}

static bool url_ok(const char *s, size_t n) {
    if (!data_ok(s, n)) return false;
    return (n > 7 && strncmp(s, "http://", 7) == 0) || (n > 8 && strncmp(s, "https://", 8) == 0);
}

/* Rows of buttons: 1..ROWS_MAX arrays of 1..COLS_MAX objects, each checked by button_ok. */
static bool rows_ok(json_t *rows, bool (*button_ok)(json_t *button)) {
    size_t row_count = json_array_size(rows);
    if (!json_is_array(rows) || row_count < 1 || row_count > SB_MESSENGER_KEYBOARD_ROWS_MAX) return false;
    for (size_t r = 0; r < row_count; r++) {
        json_t *row = json_array_get(rows, r);
        size_t cols = json_array_size(row);
        if (!json_is_array(row) || cols < 1 || cols > SB_MESSENGER_KEYBOARD_COLS_MAX) return false;
        for (size_t c = 0; c < cols; c++)
            if (!button_ok(json_array_get(row, c))) return false;
    }
    return true;
}

/* {"text":T,"data":D} or {"text":T,"url":U} */
static bool inline_button_ok(json_t *button) {
    if (!json_is_object(button) || json_object_size(button) != 2) return false;
    if (!string_field_ok(json_object_get(button, "text"), SB_MESSENGER_TITLE_BYTES_MAX, title_ok)) return false;
    json_t *url = json_object_get(button, "url");
    if (url) return string_field_ok(url, SB_MESSENGER_BUTTON_URL_BYTES_MAX, url_ok);
    return string_field_ok(json_object_get(button, "data"), SB_MESSENGER_BUTTON_DATA_BYTES_MAX, data_ok);
}

/* {"text":T} or {"text":T,"request_contact":true} */
static bool reply_button_ok(json_t *button) {
    if (!json_is_object(button)) return false;
    if (!string_field_ok(json_object_get(button, "text"), SB_MESSENGER_TITLE_BYTES_MAX, title_ok)) return false;
    json_t *contact = json_object_get(button, "request_contact");
    return json_object_size(button) == 1 || (json_object_size(button) == 2 && json_is_true(contact));
}

/* {"id":>0,"title":T,"description":D,"currency":"IRR"-like,"total_amount":>0} */
static bool invoice_ok(json_t *inv) {
    json_t *currency = json_object_get(inv, "currency");
    return json_is_object(inv) && json_object_size(inv) == 5 && int_at_least(json_object_get(inv, "id"), 1) &&
           int_at_least(json_object_get(inv, "total_amount"), 1) &&
           string_field_ok(json_object_get(inv, "title"), SB_MESSENGER_TITLE_BYTES_MAX, title_ok) &&
           string_field_ok(json_object_get(inv, "description"), SB_MESSENGER_TEXT_BYTES_MAX, note_ok) &&
           json_is_string(currency) && json_string_length(currency) == 3 &&
           ascii_token(json_string_value(currency), 3, 3, "") && strcmp(json_string_value(currency), "IRR") == 0;
}

int messenger_keyboard_payload_check(const char *json, size_t len, char **canonical_out) {
    json_t *root;
    int result = object_load(json, len, &root);
    if (result != SB_OK) return result;
    result = SB_EINVAL;
    if (json_object_size(root) != 1) goto done;
    json_t *v;
    if ((v = json_object_get(root, "buttons")) != NULL) {
        if (!rows_ok(v, inline_button_ok)) goto done;
    } else if ((v = json_object_get(root, "reply_keyboard")) != NULL) {
        if (!rows_ok(v, reply_button_ok)) goto done;
    } else if ((v = json_object_get(root, "invoice")) != NULL) {
        if (!invoice_ok(v)) goto done;
    } else if (!json_is_true(json_object_get(root, "remove_keyboard"))) {
        goto done;
    }
    result = canonical_take(root, canonical_out);
done:
    json_decref(root);
    return result;
}

int messenger_media_payload_check(const char *json, size_t len, char **canonical_out) {
    json_t *root;
    int result = object_load(json, len, &root);
    if (result != SB_OK) return result;
    json_t *id = json_object_get(root, "upload_id");
    json_t *hash = json_object_get(root, "hash");
    if (json_is_integer(id) && json_integer_value(id) > 0 && json_is_string(hash) && json_string_length(hash) == 64)
        result = canonical_take(root, canonical_out);
    else
        result = SB_EINVAL;
    json_decref(root);
    return result;
}

int messenger__keyboard_has_data(const char *canonical, const char *data, bool *found_out) {
    *found_out = false;
    if (!canonical || !data) return SB_OK;
    json_t *root;
    int result = object_load(canonical, strlen(canonical), &root);
    if (result != SB_OK) return result;
    json_t *rows = json_object_get(root, "buttons");
    for (size_t r = 0; r < json_array_size(rows); r++) {
        json_t *row = json_array_get(rows, r);
        for (size_t c = 0; c < json_array_size(row); c++) {
            const char *d = json_string_value(json_object_get(json_array_get(row, c), "data"));
            if (d && strcmp(d, data) == 0) *found_out = true;
        }
    }
    json_decref(root);
    return SB_OK;
}

/* ---- rendering ---- */

static int put_string_or_null(sb_buf *b, const char *key, const char *value) {
    int result = sb_buf_printf(b, ",\"%s\":", key);
    if (result != SB_OK) return result;
    if (!value) return sb_buf_append_str(b, "null");
    result = sb_buf_append(b, "\"", 1);
    if (result == SB_OK) result = sb_buf_append_json_escaped(b, value, strlen(value));
    if (result == SB_OK) result = sb_buf_append(b, "\"", 1);
    return result;
}

static int put_int_or_null(sb_buf *b, const char *key, int64_t value) {
    if (value == 0) return sb_buf_printf(b, ",\"%s\":null", key);
    return sb_buf_printf(b, ",\"%s\":%lld", key, (long long)value);
}

static int message_append(sb_buf *b, const messenger_message *m) {
    int result = sb_buf_printf(b, "{\"chat_id\":%lld,\"seq\":%lld,\"rev\":%lld", (long long)m->chat_id,
                               (long long)m->seq, (long long)m->rev);
    if (result == SB_OK) result = put_int_or_null(b, "sender_id", m->sender_id);
    if (result == SB_OK) result = put_string_or_null(b, "kind", messenger_message_kind_name(m->kind));
    if (result == SB_OK) result = put_string_or_null(b, "text", m->text);
    if (result == SB_OK) result = sb_buf_printf(b, ",\"payload\":%s", m->payload_json ? m->payload_json : "null");
    if (result == SB_OK) result = put_int_or_null(b, "reply_to_seq", m->reply_to_seq);
    if (result == SB_OK) result = put_string_or_null(b, "client_id", m->client_id[0] ? m->client_id : NULL);
    if (result == SB_OK) result = put_string_or_null(b, "status", messenger_payment_status_name(m->status));
    if (result == SB_OK) result = sb_buf_printf(b, ",\"created_at_ms\":%lld", (long long)m->created_at_ms);
    if (result == SB_OK) result = put_int_or_null(b, "edited_at_ms", m->edited_at_ms);
    if (result == SB_OK) result = sb_buf_printf(b, ",\"deleted\":%s", m->deleted_at_ms ? "true" : "false");
    if (result == SB_OK) result = put_int_or_null(b, "deleted_at_ms", m->deleted_at_ms);
    if (result == SB_OK && m->kind == MESSENGER_MSG_POST)
        result = sb_buf_printf(b, ",\"likes\":%lld,\"comments\":%lld,\"shares\":%lld", (long long)m->like_count,
                               (long long)m->comment_count, (long long)m->share_count);
    if (result == SB_OK) result = sb_buf_append(b, "}", 1);
    return result;
}

static int finish(sb_buf *b, int result, char **json_out, size_t *len_out) {
    if (result != SB_OK) {
        sb_buf_free(b);
        return result == SB_ENOMEM ? SB_ENOMEM : SB_ELIMIT;
    }
    size_t len = 0;
    char *text = sb_buf_take(b, &len);
    if (!text) return SB_ENOMEM;
    *json_out = text;
    if (len_out) *len_out = len;
    return SB_OK;
}

int messenger_message_render(const messenger_message *m, char **json_out, size_t *len_out) {
    sb_buf b;
    sb_buf_init(&b, SB_MESSENGER_EVENT_JSON_BYTES_MAX);
    return finish(&b, message_append(&b, m), json_out, len_out);
}

int messenger_event_render(const messenger_event *ev, char **json_out, size_t *len_out) {
    const char *type = NAME_OF(event_type_names, ev->type);
    if (!type) return SB_EINVAL;
    sb_buf b;
    sb_buf_init(&b, SB_MESSENGER_EVENT_JSON_BYTES_MAX);
    int result = sb_buf_printf(&b, "{\"type\":\"%s\",\"chat_id\":%lld", type, (long long)ev->chat_id);
    switch (ev->type) {
    case MESSENGER_EVENT_MESSAGE_NEW:
    case MESSENGER_EVENT_MESSAGE_EDITED:
    case MESSENGER_EVENT_MESSAGE_DELETED:
    case MESSENGER_EVENT_PAYMENT_STATUS:
    case MESSENGER_EVENT_POST_COUNTS:
        if (result == SB_OK)
            result = sb_buf_printf(&b, ",\"seq\":%lld,\"rev\":%lld,\"actor_id\":%lld", (long long)ev->seq,
                                   (long long)ev->rev, (long long)ev->actor_id);
        if (result == SB_OK) result = sb_buf_append_str(&b, ",\"message\":");
        if (result == SB_OK) result = message_append(&b, &ev->message);
        break;
    case MESSENGER_EVENT_RECEIPT:
        if (result == SB_OK)
            result = sb_buf_printf(&b, ",\"user_id\":%lld,\"delivered_seq\":%lld,\"read_seq\":%lld",
                                   (long long)ev->actor_id, (long long)ev->delivered_seq, (long long)ev->read_seq);
        break;
    case MESSENGER_EVENT_MEMBERS:
        if (result == SB_OK)
            result = sb_buf_printf(&b, ",\"actor_id\":%lld,\"user_id\":%lld", (long long)ev->actor_id,
                                   (long long)ev->subject_id);
        if (result == SB_OK) result = put_string_or_null(&b, "action", NAME_OF(members_action_names, ev->action));
        if (result == SB_OK && ev->subject_role)
            result = put_string_or_null(&b, "role", messenger_member_role_name(ev->subject_role));
        if (result == SB_OK && ev->title[0]) result = put_string_or_null(&b, "title", ev->title);
        break;
    case MESSENGER_EVENT_TYPING:
        if (result == SB_OK) result = sb_buf_printf(&b, ",\"user_id\":%lld", (long long)ev->actor_id);
        break;
    case MESSENGER_EVENT_BOT_CALLBACK:
        if (result == SB_OK)
            result = sb_buf_printf(&b, ",\"seq\":%lld,\"user_id\":%lld", (long long)ev->seq, (long long)ev->actor_id);
        if (result == SB_OK) result = put_string_or_null(&b, "data", ev->callback_data);
        break;
    default:
        break;
    }
    if (result == SB_OK && ev->silent) result = sb_buf_append_str(&b, ",\"silent\":true");
    if (result == SB_OK) result = sb_buf_append(&b, "}", 1);
    return finish(&b, result, json_out, len_out);
}
