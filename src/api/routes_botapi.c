/*
 * routes_botapi.c - the Telegram Bot API, so that bots written for Telegram
 * or Bale (python-telegram-bot, aiogram, telegraf, grammY...) run here by
 * changing their base URL.
 *
 *   GET|POST /bot<token>/<method>
 *
 * The token is "<bot id>:<secret>" (routes_bots.c shows it once; only the
 * secret's hash is stored).  Parameters come from the query string and a
 * JSON, form or multipart body (botapi_params.c); values may be strings
 * ("123", "true", a JSON-encoded reply_markup) as Telegram allows.  Every
 * answer is Telegram's shape:
 *   {"ok":true,"result":...}
 *   {"ok":false,"error_code":N,"description":"...","parameters":{...}}
 * with Telegram's status codes and, where this server has an equivalent,
 * its descriptions (docs/API.md lists the methods and every difference).
 *
 * Names.  A private chat's id is the user's id (Telegram's rule: a bot
 * answers message.from.id or message.chat.id alike); a group's is minus its
 * chat id; the bank's channel's is -(10^12 + id), as Telegram's -100...
 * ids.  message_id is the chat's seq; dates are epoch seconds.  A bot names
 * only chats it is in: an unknown group and one it is not in are both "chat
 * not found"; a user who never opened a chat with it is "bot can't initiate
 * conversation with a user".  Users are shown with id, is_bot, first_name
 * and username, never their phone number.
 *
 * Updates are the bot's inbox (messenger_bots.c) turned into Telegram
 * Update objects when read: message, edited_message, callback_query and
 * the payment ones (botapi_pay.c).  getUpdates' offset confirms what lies
 * below it; a long poll (timeout) is parked without a thread (botapi_poll.c)
 * and answered when an update arrives or the time is up; a webhook gets each
 * update POSTed by one sender thread (botapi_webhook.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/botapi_int.h"

#define CHANNEL_ID_BASE 1000000000000LL

/* ---- answers ---- */

void api_botapi_reply_ok(api_ctx *c, json_t *result_take) {
    json_t *body = json_object();
    if (!body || json_object_set_new(body, "ok", json_true()) != 0 ||
        json_object_set_new(body, "result", result_take ? result_take : json_true()) != 0) {
        json_decref(body);
        api_reply_error(c, 500, "internal", "out of memory");
        return;
    }
    api_reply_json(c, 200, body);
}

void api_botapi_reply_fail(api_ctx *c, int code, int retry_after_s, const char *fmt, ...) {
    char description[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(description, sizeof description, fmt, ap);
    va_end(ap);
    api_message_utf8(description);
    json_t *body = json_pack("{s:b, s:i, s:s}", "ok", 0, "error_code", code, "description", description);
    if (body && retry_after_s > 0) {
        json_object_set_new(body, "parameters", json_pack("{s:i}", "retry_after", retry_after_s));
        char seconds[16];
        snprintf(seconds, sizeof seconds, "%d", retry_after_s);
        api_set_header(c, "retry-after", seconds);
    }
    if (!body) {
        api_reply_error(c, 500, "internal", "out of memory");
        return;
    }
    api_reply_json(c, code, body);
}

#define FAIL(call, code, ...) (api_botapi_reply_fail((call)->c, (code), 0, __VA_ARGS__), SB_EINVAL)

/* An error the store gave (not the caller's fault): 500 in Telegram's shape. */
int api_botapi_fail_internal(botapi_call *call, int result) {
    sb_log(SB_LOG_WARN, "botapi.error", "bot %lld: %s", (long long)call->bot_id, sb_strerror(result));
    if (result == SB_EBUSY) {
        api_botapi_reply_fail(call->c, 429, 1, "Too Many Requests: retry after 1");
        return SB_EINVAL;
    }
    return FAIL(call, 500, "Internal Server Error");
}

/* ---- parameters ---- */

static json_t *param(const botapi_call *call, const char *name) {
    json_t *v = json_object_get(call->params, name);
    return v && !json_is_null(v) ? v : NULL;
}

/* An Integer: a JSON integer or a decimal string. */
int api_botapi_param_int(botapi_call *call, const char *name, bool required, int64_t *out, bool *present_out) {
    json_t *v = param(call, name);
    if (present_out) *present_out = v != NULL;
    if (!v) return required ? FAIL(call, 400, "Bad Request: %s is empty", name) : SB_OK;
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return SB_OK;
    }
    const char *text = json_string_value(v);
    int64_t value = 0;
    bool negative = text && text[0] == '-';
    const char *digits = text ? text + negative : NULL;
    if (!text || json_string_length(v) > 20 || digits[0] < '0' || digits[0] > '9' ||
        (negative ? sb_parse_int64(text + 1, &value) : sb_parse_int64(text, &value)) != SB_OK)
        return FAIL(call, 400, "Bad Request: field \"%s\" must be an Integer", name);
    *out = negative ? -value : value;
    return SB_OK;
}

/* A String of at most max bytes (numbers are taken as their text, as Telegram does). */
int api_botapi_param_string(botapi_call *call, const char *name, bool required, size_t max, const char **out) {
    *out = NULL;
    json_t *v = param(call, name);
    if (!v) return required ? FAIL(call, 400, "Bad Request: %s is empty", name) : SB_OK;
    if (json_is_integer(v)) {
        char text[24];
        snprintf(text, sizeof text, "%lld", (long long)json_integer_value(v));
        json_object_set_new(call->params, name, json_string(text));
        v = json_object_get(call->params, name);
    }
    if (!json_is_string(v)) return FAIL(call, 400, "Bad Request: field \"%s\" must be a String", name);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return FAIL(call, 400, "Bad Request: field \"%s\" contains a NUL character", name);
    if (json_string_length(v) > max) return FAIL(call, 400, "Bad Request: field \"%s\" is too long", name);
    *out = json_string_value(v);
    return SB_OK;
}

int api_botapi_param_bool(botapi_call *call, const char *name, bool *out) {
    *out = false;
    json_t *v = param(call, name);
    if (!v) return SB_OK;
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return SB_OK;
    }
    if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1)) {
        *out = json_integer_value(v) == 1;
        return SB_OK;
    }
    const char *t = json_string_value(v); /* forms; python-telegram-bot sends "True" */
    if (t && (strcasecmp(t, "true") == 0 || strcmp(t, "1") == 0)) {
        *out = true;
        return SB_OK;
    }
    if (t && (strcasecmp(t, "false") == 0 || strcmp(t, "0") == 0 || t[0] == '\0')) return SB_OK;
    return FAIL(call, 400, "Bad Request: field \"%s\" must be a Boolean", name);
}

/* An object or array, or a string holding one (form bodies).  *out is a new reference or NULL when absent. */
int api_botapi_param_json(botapi_call *call, const char *name, json_t **out) {
    *out = NULL;
    json_t *v = param(call, name);
    if (!v) return SB_OK;
    if (json_is_object(v) || json_is_array(v)) {
        *out = json_incref(v);
        return SB_OK;
    }
    const char *t = json_string_value(v);
    json_t *parsed = NULL;
    if (t && api_json_depth(t, json_string_length(v), SB_JSON_DEPTH_MAX) >= 0)
        parsed = json_loadb(t, json_string_length(v), JSON_REJECT_DUPLICATES, NULL);
    if (!parsed || !(json_is_object(parsed) || json_is_array(parsed))) {
        json_decref(parsed);
        return FAIL(call, 400, "Bad Request: can't parse %s JSON object", name);
    }
    *out = parsed;
    return SB_OK;
}

/* ---- objects ---- */

json_t *api_botapi_user(store *s, int64_t user_id) {
    identity_principal p;
    bool is_bot = false;
    if (identity_user_get(s, user_id, &p) != SB_OK || messenger_bot_is(s, user_id, &is_bot) != SB_OK) return NULL;
    const char *first = p.display_name[0] ? p.display_name : p.username[0] ? p.username : "User";
    json_t *u = json_pack("{s:I, s:b, s:s}", "id", (json_int_t)user_id, "is_bot", is_bot, "first_name", first);
    if (u && p.username[0]) json_object_set_new(u, "username", json_string(p.username));
    return u;
}

int64_t api_botapi_chat_id(const messenger_botapi_chat *chat) {
    switch (chat->kind) {
    case MESSENGER_CHAT_DIRECT:
        return chat->peer_id;
    case MESSENGER_CHAT_GROUP:
        return -chat->chat_id;
    default:
        return -(CHANNEL_ID_BASE + chat->chat_id);
    }
}

json_t *api_botapi_chat(store *s, const messenger_botapi_chat *chat) {
    json_int_t id = (json_int_t)api_botapi_chat_id(chat);
    if (chat->kind == MESSENGER_CHAT_DIRECT) {
        json_t *peer = api_botapi_user(s, chat->peer_id);
        if (!peer) return NULL;
        json_t *out = json_pack("{s:I, s:s, s:O}", "id", id, "type", "private", "first_name",
                                json_object_get(peer, "first_name"));
        json_t *username = json_object_get(peer, "username");
        if (out && username) json_object_set(out, "username", username);
        json_decref(peer);
        return out;
    }
    return json_pack("{s:I, s:s, s:s}", "id", id, "type", chat->kind == MESSENGER_CHAT_GROUP ? "group" : "channel",
                     "title", chat->title[0] ? chat->title : "Chat");
}

/* Our keyboard payload as Telegram's reply_markup of a Message (inline keyboards only, as Telegram shows). */
static json_t *inline_markup(json_t *payload) {
    json_t *rows = json_object_get(payload, "buttons");
    if (!json_is_array(rows)) return NULL;
    json_t *out_rows = json_array();
    for (size_t r = 0; out_rows && r < json_array_size(rows); r++) {
        json_t *row = json_array_get(rows, r), *out_row = json_array();
        for (size_t b = 0; out_row && b < json_array_size(row); b++) {
            json_t *button = json_array_get(row, b);
            json_t *url = json_object_get(button, "url");
            json_array_append_new(out_row, json_pack("{s:O, s:O}", "text", json_object_get(button, "text"),
                                                     url ? "url" : "callback_data",
                                                     url ? url : json_object_get(button, "data")));
        }
        json_array_append_new(out_rows, out_row);
    }
    return out_rows ? json_pack("{s:o}", "inline_keyboard", out_rows) : NULL;
}

json_t *api_botapi_message(store *s, const messenger_botapi_chat *chat, json_t *m) {
    json_int_t sender = json_integer_value(json_object_get(m, "sender_id"));
    json_t *from = sender > 0 ? api_botapi_user(s, sender) : NULL;
    json_t *chat_obj = api_botapi_chat(s, chat);
    json_int_t created = json_integer_value(json_object_get(m, "created_at_ms"));
    json_t *out = chat_obj ? json_pack("{s:I, s:o, s:I}", "message_id", json_integer_value(json_object_get(m, "seq")),
                                       "chat", chat_obj, "date", created / 1000)
                           : NULL;
    if (!out) {
        json_decref(from);
        return NULL;
    }
    if (from) json_object_set_new(out, "from", from);
    json_t *text = json_object_get(m, "text");
    if (json_is_string(text)) json_object_set(out, "text", text);
    json_int_t edited = json_integer_value(json_object_get(m, "edited_at_ms"));
    if (edited > 0) json_object_set_new(out, "edit_date", json_integer(edited / 1000));
    json_t *payload = json_object_get(m, "payload");
    json_t *markup = json_is_object(payload) ? inline_markup(payload) : NULL;
    if (markup) json_object_set_new(out, "reply_markup", markup);
    if (json_is_object(payload) && json_object_get(payload, "invoice"))
        api_botapi_invoice_fields(out, json_object_get(payload, "invoice"));
    return out;
}

/* A stored message (messenger_message) as a Telegram Message. */
json_t *api_botapi_message_of(store *s, const messenger_botapi_chat *chat, const messenger_message *m) {
    char *text = NULL;
    if (messenger_message_render(m, &text, NULL) != SB_OK) return NULL;
    json_t *internal = json_loads(text, 0, NULL);
    sb_free(text);
    json_t *out = internal ? api_botapi_message(s, chat, internal) : NULL;
    json_decref(internal);
    return out;
}

/* A contact the user shared with the bots of a chat (POST /api/chats/:id/contact): a Message with "contact", its
 * message_id the update's id (it is not a message of the chat).  The phone number is read now: only a user who
 * shared it is ever shown with one. */
static json_t *contact_message(store *s, const messenger_botapi_chat *chat, json_t *ev, int64_t update_id) {
    int64_t user_id = json_integer_value(json_object_get(ev, "user_id"));
    identity_principal p;
    if (identity_user_get(s, user_id, &p) != SB_OK || !p.phone[0]) return NULL;
    json_t *from = api_botapi_user(s, user_id);
    json_t *chat_obj = api_botapi_chat(s, chat);
    if (!from || !chat_obj) {
        json_decref(from);
        json_decref(chat_obj);
        return NULL;
    }
    json_t *card = json_pack("{s:s, s:O, s:I}", "phone_number", p.phone, "first_name",
                             json_object_get(from, "first_name"), "user_id", (json_int_t)user_id);
    return json_pack("{s:I, s:o, s:o, s:I, s:o}", "message_id", (json_int_t)update_id, "from", from, "chat", chat_obj,
                     "date", json_integer_value(json_object_get(ev, "date")), "contact", card);
}

/* One inbox row as a Telegram Update: NULL when it is no kind a bot sees
 * (receipts, typing, members, its own messages...) or not one it asked for. */
static json_t *update_of(store *s, int64_t bot_id, const messenger_bot_update *row, int64_t allowed) {
    json_t *ev = json_loads(row->event_json, 0, NULL);
    if (!ev) return NULL;
    const char *type = json_string_value(json_object_get(ev, "type"));
    json_t *m = json_object_get(ev, "message");
    int64_t chat_id = json_integer_value(json_object_get(ev, "chat_id"));
    int kind = 0;
    bool payment = false, contact = false;
    const char *field = NULL;
    if (type && (strcmp(type, "message.new") == 0 || strcmp(type, "message.edited") == 0)) {
        const char *mkind = json_string_value(json_object_get(m, "kind"));
        if (mkind && (strcmp(mkind, "text") == 0 || strcmp(mkind, "keyboard") == 0)) {
            bool edited = type[8] == 'e';
            kind = edited ? API_BOTAPI_EDITED_MESSAGE : API_BOTAPI_MESSAGE;
            field = edited ? "edited_message" : "message";
        }
    } else if (type && strcmp(type, "bot.callback") == 0) {
        kind = API_BOTAPI_CALLBACK_QUERY;
        field = "callback_query";
    } else if (type && strcmp(type, "bot.payment") == 0) {
        kind = api_botapi_payment_kind(ev, &field);
        payment = true;
    } else if (type && strcmp(type, "bot.contact") == 0) {
        kind = API_BOTAPI_MESSAGE;
        field = "message";
        contact = true;
    }
    json_t *out = NULL;
    messenger_botapi_chat chat;
    if (kind && (allowed == 0 || (allowed & kind)) &&
        messenger_botapi_chat_describe(s, bot_id, chat_id, &chat) == SB_OK) {
        json_t *value = NULL;
        if (payment) {
            value = api_botapi_payment_update(s, bot_id, &chat, ev, row->id);
        } else if (contact) {
            value = contact_message(s, &chat, ev, row->id);
        } else if (kind == API_BOTAPI_MESSAGE || kind == API_BOTAPI_EDITED_MESSAGE) {
            bool sender_is_bot = true;
            int64_t sender = json_integer_value(json_object_get(m, "sender_id"));
            if (sender > 0 && messenger_bot_is(s, sender, &sender_is_bot) == SB_OK && !sender_is_bot)
                value = api_botapi_message(s, &chat, m);
        } else if (kind == API_BOTAPI_CALLBACK_QUERY) {
            messenger_message keyboard = {0};
            int64_t seq = json_integer_value(json_object_get(ev, "seq"));
            json_t *from = api_botapi_user(s, json_integer_value(json_object_get(ev, "user_id")));
            json_t *message = messenger_message_get(s, bot_id, chat_id, seq, &keyboard) == SB_OK
                                  ? api_botapi_message_of(s, &chat, &keyboard)
                                  : NULL;
            messenger_message_clear(&keyboard);
            char id[24], instance[24];
            snprintf(id, sizeof id, "%lld", (long long)row->id);
            snprintf(instance, sizeof instance, "%lld", (long long)chat_id);
            if (from && message)
                value = json_pack("{s:s, s:O, s:O, s:s, s:O}", "id", id, "from", from, "message", message,
                                  "chat_instance", instance, "data", json_object_get(ev, "data"));
            json_decref(from);
            json_decref(message);
        }
        if (value) out = json_pack("{s:I, s:o}", "update_id", (json_int_t)row->id, field, value);
    }
    json_decref(ev);
    return out;
}

int api_botapi_collect(store *s, int64_t bot_id, int64_t from_id, size_t limit, int64_t allowed, json_t **updates_out,
                       int64_t *skipped_below_out) {
    *updates_out = NULL;
    *skipped_below_out = 0;
    json_t *arr = json_array();
    if (!arr) return SB_ENOMEM;
    messenger_bot_update rows[SB_MESSENGER_BOT_UPDATES_PAGE_MAX];
    int64_t after = from_id > 0 ? from_id - 1 : 0;
    size_t scanned = 0;
    int result = SB_OK;
    while (result == SB_OK && json_array_size(arr) < limit && scanned < SB_BOTAPI_SCAN_ROWS_MAX) {
        size_t count = 0;
        result = messenger_bot_updates(s, bot_id, after, SB_MESSENGER_BOT_UPDATES_PAGE_MAX, rows, &count);
        if (result != SB_OK || count == 0) break;
        for (size_t i = 0; i < count && json_array_size(arr) < limit; i++) {
            json_t *u = update_of(s, bot_id, &rows[i], allowed);
            if (u)
                json_array_append_new(arr, u);
            else if (json_array_size(arr) == 0)
                *skipped_below_out = rows[i].id + 1; /* nothing to show before it: confirmable */
            after = rows[i].id;
        }
        scanned += count;
        messenger_bot_updates_clear(rows, count);
    }
    if (result != SB_OK) {
        json_decref(arr);
        return result;
    }
    *updates_out = arr;
    return SB_OK;
}

/* ---- allowed_updates ---- */

static const struct {
    const char *name;
    int bit;
} update_kinds[] = {
    {"message", API_BOTAPI_MESSAGE},
    {"edited_message", API_BOTAPI_EDITED_MESSAGE},
    {"callback_query", API_BOTAPI_CALLBACK_QUERY},
    {"pre_checkout_query", API_BOTAPI_PRE_CHECKOUT_QUERY},
};

/* allowed_updates into *mask; *present false when absent (keep the stored one).  Unknown kinds are ignored, as
 * Telegram ignores kinds this server never sends. */
static int param_allowed(botapi_call *call, int64_t *mask, bool *present) {
    json_t *v = NULL;
    *present = false;
    int result = api_botapi_param_json(call, "allowed_updates", &v);
    if (result != SB_OK || !v) return result;
    if (!json_is_array(v) || json_array_size(v) > 32) {
        json_decref(v);
        return FAIL(call, 400, "Bad Request: allowed_updates must be an Array of String");
    }
    *mask = 0;
    for (size_t i = 0; i < json_array_size(v); i++) {
        const char *name = json_string_value(json_array_get(v, i));
        if (!name) {
            json_decref(v);
            return FAIL(call, 400, "Bad Request: allowed_updates must be an Array of String");
        }
        for (size_t k = 0; k < SB_ARRAY_LEN(update_kinds); k++)
            if (strcmp(name, update_kinds[k].name) == 0) *mask |= update_kinds[k].bit;
    }
    /* an empty list means "the default": every kind */
    *present = true;
    json_decref(v);
    return SB_OK;
}

static json_t *allowed_names(int64_t mask) {
    json_t *arr = json_array();
    for (size_t k = 0; arr && k < SB_ARRAY_LEN(update_kinds); k++)
        if (mask == 0 || (mask & update_kinds[k].bit)) json_array_append_new(arr, json_string(update_kinds[k].name));
    return arr;
}

/* ---- chats ---- */

/* The chat named by parameter `name` (Telegram's id rules above); answers itself when it is not the bot's. */
int api_botapi_resolve_chat(botapi_call *call, const char *name, messenger_botapi_chat *out) {
    int64_t tg = 0;
    json_t *v = param(call, name);
    if (json_is_string(v) && json_string_value(v)[0] == '@') return FAIL(call, 400, "Bad Request: chat not found");
    int result = api_botapi_param_int(call, name, true, &tg, NULL);
    if (result != SB_OK) return result;
    int64_t chat_id = 0;
    if (tg > 0) {
        result = messenger_botapi_direct_find(call->s, call->bot_id, tg, &chat_id);
        if (result == SB_ENOTFOUND) return FAIL(call, 403, "Forbidden: bot can't initiate conversation with a user");
        if (result != SB_OK) return api_botapi_fail_internal(call, result);
    } else if (tg < 0 && tg > -CHANNEL_ID_BASE) {
        chat_id = -tg;
    } else if (tg < -CHANNEL_ID_BASE && tg > INT64_MIN + CHANNEL_ID_BASE) {
        chat_id = -tg - CHANNEL_ID_BASE;
    } else {
        return FAIL(call, 400, "Bad Request: chat not found");
    }
    result = messenger_botapi_chat_describe(call->s, call->bot_id, chat_id, out);
    if (result == SB_EPERM || result == SB_ENOTFOUND) return FAIL(call, 400, "Bad Request: chat not found");
    if (result != SB_OK) return api_botapi_fail_internal(call, result);
    return SB_OK;
}

/* ---- reply_markup ---- */

static bool markup_rows_ok(json_t *rows) {
    if (!json_is_array(rows) || json_array_size(rows) > SB_MESSENGER_KEYBOARD_ROWS_MAX) return false;
    for (size_t r = 0; r < json_array_size(rows); r++) {
        json_t *row = json_array_get(rows, r);
        if (!json_is_array(row) || json_array_size(row) > SB_MESSENGER_KEYBOARD_COLS_MAX) return false;
    }
    return true;
}

/* Telegram's reply_markup into our keyboard payload text (*payload_out owned, sb_free; NULL: no markup, or
 * "remove" asked with *remove_out).  inline_only: editMessageReplyMarkup and editMessageText take inline
 * keyboards only.  Answers itself on a bad markup. */
static int param_markup(botapi_call *call, bool inline_only, char **payload_out, bool *present_out) {
    *payload_out = NULL;
    json_t *markup = NULL;
    int result = api_botapi_param_json(call, "reply_markup", &markup);
    if (present_out) *present_out = markup != NULL;
    if (result != SB_OK || !markup) return result;
    json_t *payload = NULL;
    const char *why = "Bad Request: can't parse reply keyboard markup JSON object";
    json_t *rows;
    if (json_is_object(markup) && (rows = json_object_get(markup, "inline_keyboard")) != NULL) {
        if (!markup_rows_ok(rows)) why = "Bad Request: reply markup is too long";
        json_t *out_rows = markup_rows_ok(rows) ? json_array() : NULL;
        for (size_t r = 0; out_rows && r < json_array_size(rows); r++) {
            json_t *row = json_array_get(rows, r), *out_row = json_array();
            json_array_append_new(out_rows, out_row);
            for (size_t b = 0; out_row && b < json_array_size(row); b++) {
                json_t *button = json_array_get(row, b);
                json_t *text = json_object_get(button, "text"), *data = json_object_get(button, "callback_data"),
                       *url = json_object_get(button, "url");
                if (!json_is_string(text) || (!data == !url) || (data && !json_is_string(data)) ||
                    (url && !json_is_string(url))) {
                    why = "Bad Request: can't parse inline keyboard button: only text with callback_data or url is "
                          "supported";
                    json_decref(out_rows);
                    out_rows = NULL;
                    break;
                }
                json_array_append_new(out_row,
                                      json_pack("{s:O, s:O}", "text", text, data ? "data" : "url", data ? data : url));
            }
        }
        if (out_rows) payload = json_pack("{s:o}", "buttons", out_rows);
    } else if (!inline_only && json_is_object(markup) && (rows = json_object_get(markup, "keyboard")) != NULL) {
        if (!markup_rows_ok(rows)) why = "Bad Request: reply markup is too long";
        json_t *out_rows = markup_rows_ok(rows) ? json_array() : NULL;
        for (size_t r = 0; out_rows && r < json_array_size(rows); r++) {
            json_t *row = json_array_get(rows, r), *out_row = json_array();
            json_array_append_new(out_rows, out_row);
            for (size_t b = 0; out_row && b < json_array_size(row); b++) {
                json_t *button = json_array_get(row, b);
                json_t *text = json_is_string(button) ? button : json_object_get(button, "text");
                bool contact = json_is_object(button) && json_is_true(json_object_get(button, "request_contact"));
                if (!json_is_string(text)) {
                    json_decref(out_rows);
                    out_rows = NULL;
                    break;
                }
                json_array_append_new(out_row, contact ? json_pack("{s:O, s:b}", "text", text, "request_contact", 1)
                                                       : json_pack("{s:O}", "text", text));
            }
        }
        if (out_rows) payload = json_pack("{s:o}", "reply_keyboard", out_rows);
    } else if (!inline_only && json_is_object(markup) && json_is_true(json_object_get(markup, "remove_keyboard"))) {
        payload = json_pack("{s:b}", "remove_keyboard", 1);
    } else if (!inline_only && json_is_object(markup) && json_object_get(markup, "force_reply")) {
        json_decref(markup);
        return SB_OK; /* shown as a plain message: no reply-forcing here */
    }
    json_decref(markup);
    char *text = payload ? json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(payload);
    if (!text) return FAIL(call, 400, "%s", why);
    int check = messenger_keyboard_payload_check(text, strlen(text), payload_out);
    free(text); /* jansson's allocation */
    if (check == SB_ENOMEM) return api_botapi_fail_internal(call, check);
    if (check != SB_OK)
        return FAIL(call, 400,
                    "Bad Request: can't parse reply keyboard markup: %d rows of %d buttons at most, button text "
                    "1-%d bytes, callback_data 1-%d printable ASCII bytes, url http(s) up to %d bytes",
                    SB_MESSENGER_KEYBOARD_ROWS_MAX, SB_MESSENGER_KEYBOARD_COLS_MAX, SB_MESSENGER_TITLE_BYTES_MAX,
                    SB_MESSENGER_BUTTON_DATA_BYTES_MAX, SB_MESSENGER_BUTTON_URL_BYTES_MAX);
    return SB_OK;
}

/* ---- rate limits ---- */

/* Take one message from the bucket of (a, b) refilled at per_ms_milli thousandths per ms up to capacity;
 * 0 when allowed, else the seconds until one is there. */
static int bucket_take(api_botapi *state, int64_t a, int64_t b, int64_t capacity, int64_t refill_ms_per_message,
                       int64_t now_ms) {
    uint64_t h = (uint64_t)a * 0x9E3779B97F4A7C15ull ^ (uint64_t)b * 0xC2B2AE3D27D4EB4Full;
    api_botapi_bucket *k = &state->buckets[h % SB_BOTAPI_RATE_BUCKETS];
    if (k->key_a != a || k->key_b != b || k->at_ms == 0)
        *k = (api_botapi_bucket){.key_a = a, .key_b = b, .level_milli = capacity * 1000, .at_ms = now_ms};
    int64_t elapsed = now_ms > k->at_ms ? now_ms - k->at_ms : 0;
    k->level_milli += elapsed * 1000 / refill_ms_per_message;
    if (k->level_milli > capacity * 1000) k->level_milli = capacity * 1000;
    k->at_ms = now_ms;
    if (k->level_milli >= 1000) {
        k->level_milli -= 1000;
        return 0;
    }
    int64_t wait_ms = (1000 - k->level_milli) * refill_ms_per_message / 1000;
    return (int)((wait_ms + 999) / 1000);
}

/* One message to chat by the bot: 0 when within the limits, else retry_after seconds (nothing is taken then from
 * the buckets that allowed it: close enough, and errs on the strict side). */
static int rate_check(api_botapi *state, int64_t bot_id, const messenger_botapi_chat *chat, int64_t now_ms) {
    pthread_mutex_lock(&state->rate_lock);
    int wait = bucket_take(state, bot_id, 0, SB_BOTAPI_RATE_BOT_PER_S, 1000 / SB_BOTAPI_RATE_BOT_PER_S, now_ms);
    if (wait == 0) {
        if (chat->kind == MESSENGER_CHAT_DIRECT)
            wait = bucket_take(state, bot_id, chat->chat_id, SB_BOTAPI_RATE_CHAT_BURST,
                               1000 / SB_BOTAPI_RATE_CHAT_PER_S, now_ms);
        else
            wait = bucket_take(state, bot_id, chat->chat_id, SB_BOTAPI_RATE_GROUP_PER_MIN,
                               60000 / SB_BOTAPI_RATE_GROUP_PER_MIN, now_ms);
    }
    pthread_mutex_unlock(&state->rate_lock);
    return wait;
}

int api_botapi_rate_limited(botapi_call *call, const messenger_botapi_chat *chat) {
    api_botapi *state = call->c->request->thread->server->botapi;
    int wait = state ? rate_check(state, call->bot_id, chat, call->c->now_ms) : 0;
    if (wait == 0) return SB_OK;
    api_botapi_reply_fail(call->c, 429, wait, "Too Many Requests: retry after %d", wait);
    return SB_ERATE;
}

/* ---- methods ---- */

static int m_get_me(botapi_call *call) {
    json_t *u = api_botapi_user(call->s, call->bot_id);
    if (!u) return api_botapi_fail_internal(call, SB_EIO);
    json_object_set_new(u, "can_join_groups", json_true());
    json_object_set_new(u, "can_read_all_group_messages", json_true());
    json_object_set_new(u, "supports_inline_queries", json_false());
    api_botapi_reply_ok(call->c, u);
    return SB_OK;
}

static int m_get_updates(botapi_call *call) {
    int64_t offset = 0, limit = 100, timeout = 0, mask = 0;
    bool has_offset = false, has_allowed = false;
    if (api_botapi_param_int(call, "offset", false, &offset, &has_offset) != SB_OK ||
        api_botapi_param_int(call, "limit", false, &limit, NULL) != SB_OK ||
        api_botapi_param_int(call, "timeout", false, &timeout, NULL) != SB_OK ||
        param_allowed(call, &mask, &has_allowed) != SB_OK)
        return SB_EINVAL;
    if (limit < 1) limit = 1;
    if (limit > 100) limit = 100;
    if (timeout < 0) timeout = 0;
    if (timeout > SB_BOTAPI_POLL_TIMEOUT_S_MAX) timeout = SB_BOTAPI_POLL_TIMEOUT_S_MAX;
    messenger_botapi_state st;
    int result = messenger_botapi_state_get(call->s, call->bot_id, &st);
    if (result != SB_OK) return api_botapi_fail_internal(call, result);
    if (st.webhook_url[0])
        return FAIL(call, 409,
                    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
                    "webhook first");
    if (has_allowed) {
        result = messenger_botapi_allowed_set(call->s, call->bot_id, mask);
        if (result != SB_OK) return api_botapi_fail_internal(call, result);
        st.allowed_updates = mask;
    }
    int64_t from = st.confirmed_id;
    if (has_offset && offset > 0) {
        result = messenger_botapi_confirm(call->s, call->bot_id, offset);
        if (result != SB_OK) return api_botapi_fail_internal(call, result);
        if (offset > from) from = offset;
    } else if (has_offset && offset < 0) {
        int64_t last = 0;
        result = messenger_botapi_last_id(call->s, call->bot_id, &last);
        if (result != SB_OK) return api_botapi_fail_internal(call, result);
        int64_t tail = last + offset + 1;
        if (tail > from) from = tail;
    }
    json_t *updates = NULL;
    int64_t skipped_below = 0;
    result =
        api_botapi_collect(call->s, call->bot_id, from, (size_t)limit, st.allowed_updates, &updates, &skipped_below);
    if (result != SB_OK) return api_botapi_fail_internal(call, result);
    if (skipped_below > 0 && (!has_offset || offset >= 0)) {
        result = messenger_botapi_confirm(call->s, call->bot_id, skipped_below);
        if (result != SB_OK) {
            json_decref(updates);
            return api_botapi_fail_internal(call, result);
        }
        if (skipped_below > from) from = skipped_below;
    }
    if (json_array_size(updates) == 0 && timeout > 0) {
        json_decref(updates);
        if (api_botapi_poll_park(call->c, call->bot_id, from, (size_t)limit, st.allowed_updates, (int)timeout) == SB_OK)
            return SB_OK;
        updates = json_array(); /* too many parked polls: answer now, as an empty poll */
    }
    api_botapi_reply_ok(call->c, updates);
    return SB_OK;
}

static bool secret_token_ok(const char *t) {
    size_t n = strlen(t);
    if (n < 1 || n > SB_BOTAPI_SECRET_TOKEN_BYTES_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static int webhook_set(botapi_call *call, const char *url, bool deleting) {
    const char *secret = NULL;
    bool drop = false, has_allowed = false;
    int64_t mask = 0;
    if (!deleting &&
        (api_botapi_param_string(call, "secret_token", false, SB_BOTAPI_SECRET_TOKEN_BYTES_MAX, &secret) != SB_OK ||
         param_allowed(call, &mask, &has_allowed) != SB_OK))
        return SB_EINVAL;
    if (api_botapi_param_bool(call, "drop_pending_updates", &drop) != SB_OK) return SB_EINVAL;
    if (secret && !secret_token_ok(secret))
        return FAIL(call, 400, "Bad Request: secret token contains unallowed characters");
    if (param(call, "certificate")) return FAIL(call, 400, "Bad Request: certificates are not supported");
    if (url[0] && sb_http_url_check(url, SB_BOTAPI_WEBHOOK_URL_BYTES_MAX + 1) != SB_OK)
        return FAIL(call, 400, "Bad Request: bad webhook: an http:// or https:// URL with a host is required");
    messenger_botapi_state st;
    int result = messenger_botapi_state_get(call->s, call->bot_id, &st);
    if (result == SB_OK)
        result = messenger_botapi_webhook_set(call->s, call->bot_id, url, secret ? secret : "",
                                              has_allowed ? mask : st.allowed_updates, drop);
    if (result != SB_OK) return api_botapi_fail_internal(call, result);
    if (url[0]) api_botapi_webhook_queue(call->c->request->thread->server, call->bot_id);
    json_t *body = json_pack("{s:b, s:b, s:s}", "ok", 1, "result", 1, "description",
                             deleting ? "Webhook was deleted"
                             : url[0] ? "Webhook was set"
                                      : "Webhook was deleted");
    api_reply_json(call->c, 200, body);
    return SB_OK;
}

static int m_set_webhook(botapi_call *call) {
    const char *url;
    if (api_botapi_param_string(call, "url", true, SB_BOTAPI_WEBHOOK_URL_BYTES_MAX, &url) != SB_OK) return SB_EINVAL;
    return webhook_set(call, url, false);
}

static int m_delete_webhook(botapi_call *call) { return webhook_set(call, "", true); }

static int m_get_webhook_info(botapi_call *call) {
    messenger_botapi_state st;
    int64_t pending = 0;
    int result = messenger_botapi_state_get(call->s, call->bot_id, &st);
    if (result == SB_OK) result = messenger_botapi_pending(call->s, call->bot_id, &pending);
    if (result != SB_OK) return api_botapi_fail_internal(call, result);
    json_t *info = json_pack("{s:s, s:b, s:I}", "url", st.webhook_url, "has_custom_certificate", 0,
                             "pending_update_count", (json_int_t)pending);
    if (info && st.webhook_url[0]) {
        json_object_set_new(info, "max_connections", json_integer(1));
        json_object_set_new(info, "allowed_updates", allowed_names(st.allowed_updates));
    }
    if (info && st.last_error_at_ms > 0) {
        json_object_set_new(info, "last_error_date", json_integer(st.last_error_at_ms / 1000));
        json_object_set_new(info, "last_error_message", json_string(st.last_error_message));
    }
    api_botapi_reply_ok(call->c, info);
    return SB_OK;
}

void api_botapi_push(botapi_call *call, messenger_events *events) {
    api_ctx_push(call->c, events);
    messenger_events_clear(events);
}

/* The text of a message to send or edit; answers itself. */
static int param_text(botapi_call *call, const char **text) {
    json_t *v = param(call, "text");
    if (!v || (json_is_string(v) && json_string_length(v) == 0))
        return FAIL(call, 400, "Bad Request: message text is empty");
    if (json_is_string(v) && json_string_length(v) > SB_BOTAPI_TEXT_BYTES_MAX)
        return FAIL(call, 400, "Bad Request: message is too long");
    return api_botapi_param_string(call, "text", true, SB_BOTAPI_TEXT_BYTES_MAX, text);
}

/* What the messenger says of a text it refused (or a store error). */
static int text_refusal(botapi_call *call, int result) {
    if (result == SB_ELIMIT) return FAIL(call, 400, "Bad Request: message is too long");
    if (result == SB_EINVAL)
        return FAIL(call, 400, "Bad Request: text must be UTF-8 without control characters other than newline");
    return api_botapi_fail_internal(call, result);
}

static int m_send_message(botapi_call *call) {
    messenger_botapi_chat chat;
    const char *text;
    int64_t reply_to = 0;
    char *payload = NULL;
    if (api_botapi_resolve_chat(call, "chat_id", &chat) != SB_OK || param_text(call, &text) != SB_OK ||
        api_botapi_param_int(call, "reply_to_message_id", false, &reply_to, NULL) != SB_OK ||
        param_markup(call, false, &payload, NULL) != SB_OK)
        return SB_EINVAL;
    if (reply_to < 0) reply_to = 0;
    if (api_botapi_rate_limited(call, &chat) != SB_OK) {
        sb_free(payload);
        return SB_OK;
    }
    messenger_send_request req = {.chat_id = chat.chat_id,
                                  .sender_id = call->bot_id,
                                  .kind = payload ? MESSENGER_MSG_KEYBOARD : MESSENGER_MSG_TEXT,
                                  .text = text,
                                  .payload_json = payload,
                                  .reply_to_seq = reply_to};
    messenger_message m = {0};
    messenger_events events = {0};
    int result = messenger_send(call->s, &req, call->c->now_ms, &m, NULL, &events);
    sb_free(payload);
    if (result == SB_OK) api_botapi_push(call, &events);
    messenger_events_clear(&events);
    switch (result) {
    case SB_OK:
        break;
    case SB_EPERM:
        messenger_message_clear(&m);
        return FAIL(call, 403,
                    chat.kind == MESSENGER_CHAT_DIRECT ? "Forbidden: bot was blocked by the user"
                                                       : "Forbidden: bot can't send messages to this chat");
    case SB_ENOTFOUND:
        return FAIL(call, 400, "Bad Request: message to reply not found");
    default:
        return text_refusal(call, result);
    }
    json_t *out = api_botapi_message_of(call->s, &chat, &m);
    messenger_message_clear(&m);
    if (!out) return api_botapi_fail_internal(call, SB_ENOMEM);
    api_botapi_reply_ok(call->c, out);
    return SB_OK;
}

/* editMessageText and editMessageReplyMarkup: chat_id + message_id (no inline messages). */
static int edit(botapi_call *call, bool with_text) {
    if (param(call, "inline_message_id")) return FAIL(call, 400, "Bad Request: inline messages are not supported");
    messenger_botapi_chat chat;
    int64_t seq = 0;
    const char *text = NULL;
    char *payload = NULL;
    if (api_botapi_resolve_chat(call, "chat_id", &chat) != SB_OK ||
        api_botapi_param_int(call, "message_id", true, &seq, NULL) != SB_OK ||
        (with_text && param_text(call, &text) != SB_OK) || param_markup(call, true, &payload, NULL) != SB_OK)
        return SB_EINVAL;
    messenger_events events = {0};
    /* as Telegram: an edit without reply_markup leaves the message without a keyboard */
    int result = seq > 0 ? messenger_botapi_edit(call->s, call->bot_id, chat.chat_id, seq, text, payload, !payload,
                                                 call->c->now_ms, &events)
                         : SB_ENOTFOUND;
    sb_free(payload);
    json_t *out = NULL;
    if (result == SB_OK && events.count > 0) out = api_botapi_message_of(call->s, &chat, &events.items[0].message);
    if (result == SB_OK) api_botapi_push(call, &events);
    messenger_events_clear(&events);
    switch (result) {
    case SB_OK:
        break;
    case SB_ENOTFOUND:
        return FAIL(call, 400, "Bad Request: message to edit not found");
    case SB_EPERM:
    case SB_ECONFLICT:
        return FAIL(call, 400, "Bad Request: message can't be edited");
    default:
        return text_refusal(call, result);
    }
    if (!out) return api_botapi_fail_internal(call, SB_ENOMEM);
    api_botapi_reply_ok(call->c, out);
    return SB_OK;
}

static int m_edit_message_text(botapi_call *call) { return edit(call, true); }
static int m_edit_message_reply_markup(botapi_call *call) { return edit(call, false); }

static int m_delete_message(botapi_call *call) {
    messenger_botapi_chat chat;
    int64_t seq = 0;
    if (api_botapi_resolve_chat(call, "chat_id", &chat) != SB_OK ||
        api_botapi_param_int(call, "message_id", true, &seq, NULL) != SB_OK)
        return SB_EINVAL;
    messenger_events events = {0};
    int result =
        seq > 0 ? messenger_delete(call->s, call->bot_id, chat.chat_id, seq, call->c->now_ms, &events) : SB_ENOTFOUND;
    if (result == SB_OK) api_botapi_push(call, &events);
    messenger_events_clear(&events);
    if (result == SB_ENOTFOUND) return FAIL(call, 400, "Bad Request: message to delete not found");
    if (result == SB_EPERM || result == SB_ECONFLICT) return FAIL(call, 400, "Bad Request: message can't be deleted");
    if (result != SB_OK) return api_botapi_fail_internal(call, result);
    api_botapi_reply_ok(call->c, json_true());
    return SB_OK;
}

int api_botapi_update_event(botapi_call *call, const char *id_text, int64_t *id_out, json_t **event_out) {
    *event_out = NULL;
    int64_t id = 0;
    messenger_bot_update row = {0};
    int result = sb_parse_int64(id_text, &id) == SB_OK && id > 0
                     ? messenger_botapi_update_get(call->s, call->bot_id, id, &row)
                     : SB_ENOTFOUND;
    if (result == SB_ENOTFOUND) return SB_OK;
    if (result != SB_OK) return api_botapi_fail_internal(call, result);
    *event_out = json_loads(row.event_json, 0, NULL);
    messenger_bot_updates_clear(&row, 1);
    if (id_out) *id_out = id;
    return SB_OK;
}

static int m_answer_callback_query(botapi_call *call) {
    const char *id_text, *text = NULL, *url = NULL;
    bool alert = false;
    if (api_botapi_param_string(call, "callback_query_id", true, 24, &id_text) != SB_OK ||
        api_botapi_param_string(call, "text", false, 200, &text) != SB_OK ||
        api_botapi_param_string(call, "url", false, SB_MESSENGER_BUTTON_URL_BYTES_MAX, &url) != SB_OK ||
        api_botapi_param_bool(call, "show_alert", &alert) != SB_OK)
        return SB_EINVAL;
    json_t *ev = NULL;
    if (api_botapi_update_event(call, id_text, NULL, &ev) != SB_OK) return SB_EINVAL;
    const char *type = json_string_value(json_object_get(ev, "type"));
    if (!type || strcmp(type, "bot.callback") != 0) {
        json_decref(ev);
        return FAIL(call, 400, "Bad Request: query is too old and response timeout expired or query ID is invalid");
    }
    /* the presser sees the answer on its devices */
    json_int_t user_id = json_integer_value(json_object_get(ev, "user_id"));
    json_t *note =
        json_pack("{s:s, s:I, s:I, s:I, s:s?, s:b, s:s?}", "type", "bot.callback_answer", "bot_id",
                  (json_int_t)call->bot_id, "chat_id", json_integer_value(json_object_get(ev, "chat_id")), "seq",
                  json_integer_value(json_object_get(ev, "seq")), "text", text, "show_alert", alert, "url", url);
    json_decref(ev);
    char *note_text = note ? json_dumps(note, JSON_COMPACT) : NULL;
    json_decref(note);
    if (note_text) {
        int pushed =
            api_ws_send_to_user(call->c->request->thread->server, (int64_t)user_id, note_text, strlen(note_text));
        (void)pushed; /* a presser with no open socket just does not see it */
        free(note_text);
    }
    api_botapi_reply_ok(call->c, json_true());
    return SB_OK;
}

static int m_send_chat_action(botapi_call *call) {
    static const char *const actions[] = {"typing",        "upload_photo",      "record_video",     "upload_video",
                                          "record_voice",  "upload_voice",      "upload_document",  "choose_sticker",
                                          "find_location", "record_video_note", "upload_video_note"};
    messenger_botapi_chat chat;
    const char *action;
    if (api_botapi_resolve_chat(call, "chat_id", &chat) != SB_OK ||
        api_botapi_param_string(call, "action", true, 32, &action) != SB_OK)
        return SB_EINVAL;
    bool known = false;
    for (size_t i = 0; i < SB_ARRAY_LEN(actions); i++)
        if (strcmp(action, actions[i]) == 0) known = true;
    if (!known) return FAIL(call, 400, "Bad Request: wrong parameter action in request");
    messenger_events events = {0};
    int result = messenger_typing(call->s, call->bot_id, chat.chat_id, &events);
    if (result == SB_OK) api_botapi_push(call, &events);
    messenger_events_clear(&events);
    if (result == SB_EPERM) return FAIL(call, 403, "Forbidden: bot was blocked by the user");
    if (result != SB_OK) return api_botapi_fail_internal(call, result);
    api_botapi_reply_ok(call->c, json_true());
    return SB_OK;
}

static int m_get_chat(botapi_call *call) {
    messenger_botapi_chat chat;
    if (api_botapi_resolve_chat(call, "chat_id", &chat) != SB_OK) return SB_EINVAL;
    json_t *out = api_botapi_chat(call->s, &chat);
    if (!out) return api_botapi_fail_internal(call, SB_ENOMEM);
    api_botapi_reply_ok(call->c, out);
    return SB_OK;
}

static int m_get_chat_member(botapi_call *call) {
    messenger_botapi_chat chat;
    int64_t user_id = 0;
    if (api_botapi_resolve_chat(call, "chat_id", &chat) != SB_OK ||
        api_botapi_param_int(call, "user_id", true, &user_id, NULL) != SB_OK)
        return SB_EINVAL;
    int role = 0;
    int result =
        user_id > 0 ? messenger_botapi_member_get(call->s, call->bot_id, chat.chat_id, user_id, &role) : SB_ENOTFOUND;
    if (result != SB_OK && result != SB_ENOTFOUND) return api_botapi_fail_internal(call, result);
    /* only someone the bot shares this chat with is described: anyone else is "user not found" */
    json_t *user = result == SB_OK ? api_botapi_user(call->s, user_id) : NULL;
    if (!user) return FAIL(call, 400, "Bad Request: user not found");
    const char *status = role == MESSENGER_ROLE_OWNER   ? "creator"
                         : role == MESSENGER_ROLE_ADMIN ? "administrator"
                                                        : "member";
    api_botapi_reply_ok(call->c, json_pack("{s:s, s:o}", "status", status, "user", user));
    return SB_OK;
}

static int m_get_chat_member_count(botapi_call *call) {
    messenger_botapi_chat chat;
    if (api_botapi_resolve_chat(call, "chat_id", &chat) != SB_OK) return SB_EINVAL;
    api_botapi_reply_ok(call->c, json_integer(chat.member_count));
    return SB_OK;
}

typedef int (*method_fn)(botapi_call *call);
static const struct {
    const char *name;
    method_fn fn;
} methods[] = {
    {"getMe", m_get_me},
    {"getUpdates", m_get_updates},
    {"setWebhook", m_set_webhook},
    {"deleteWebhook", m_delete_webhook},
    {"getWebhookInfo", m_get_webhook_info},
    {"sendMessage", m_send_message},
    {"editMessageText", m_edit_message_text},
    {"editMessageReplyMarkup", m_edit_message_reply_markup},
    {"deleteMessage", m_delete_message},
    {"answerCallbackQuery", m_answer_callback_query},
    {"sendChatAction", m_send_chat_action},
    {"getChat", m_get_chat},
    {"getChatMember", m_get_chat_member},
    {"getChatMemberCount", m_get_chat_member_count},
    {"getChatMembersCount", m_get_chat_member_count},
    {"sendInvoice", api_botapi_send_invoice},
    {"answerPreCheckoutQuery", api_botapi_answer_pre_checkout},
};

static int handle(api_ctx *c) {
    const char *token = api_param(c, "token");
    int64_t bot_id = 0;
    int result = token && strlen(token) <= MESSENGER_BOT_TOKEN_TEXT_MAX && strchr(token, ':')
                     ? messenger_bot_authenticate(c->store, token, &bot_id)
                     : SB_EAUTH;
    if (result == SB_EAUTH) {
        api_botapi_reply_fail(c, 401, 0, "Unauthorized");
        return SB_OK;
    }
    if (result != SB_OK) {
        api_botapi_reply_fail(c, 500, 0, "Internal Server Error");
        return SB_OK;
    }
    const char *name = api_param(c, "method");
    method_fn fn = NULL;
    for (size_t i = 0; name && i < SB_ARRAY_LEN(methods); i++)
        if (strcasecmp(name, methods[i].name) == 0) fn = methods[i].fn;
    if (!fn) {
        api_botapi_reply_fail(c, 404, 0, "Not Found: method not found");
        return SB_OK;
    }
    h2o_req_t *req = c->request->req;
    if (req->entity.len > SB_BOTAPI_BODY_BYTES_MAX) {
        api_botapi_reply_fail(c, 413, 0, "Request Entity Too Large");
        return SB_OK;
    }
    const char *content_type = NULL;
    size_t content_type_len = 0;
    if (api_header_get(c, "content-type", &content_type, &content_type_len) != SB_OK) content_type = NULL;
    const char *query = req->query_at != SIZE_MAX ? req->path.base + req->query_at + 1 : NULL;
    size_t query_len = query ? req->path.len - req->query_at - 1 : 0;
    char why[200];
    json_t *params = NULL;
    result = api_botapi_params_parse(query, query_len, content_type, content_type_len, req->entity.base,
                                     req->entity.base ? req->entity.len : 0, &params, why, sizeof why);
    if (result != SB_OK) {
        if (result == SB_ENOMEM)
            api_botapi_reply_fail(c, 500, 0, "Internal Server Error");
        else
            api_botapi_reply_fail(c, 400, 0, "%s", why);
        return SB_OK;
    }
    botapi_call call = {.c = c, .s = c->store, .bot_id = bot_id, .params = params};
    (void)fn(&call);
    json_decref(params);
    if (!c->request->replied) api_botapi_reply_fail(c, 500, 0, "Internal Server Error");
    return SB_OK;
}

/* POST /api/chats/:id/contact -> 202 {"shared_with":[bot ids]}: the caller (a customer, a member) shares its phone
 * number with the bots of the chat, as a reply-keyboard button with request_contact asks; each bot gets a message
 * with "contact".  Nothing else ever shows a bot a phone number. */
static int post_contact(api_ctx *c) {
    int64_t chat_id = 0;
    messenger_chat chat;
    int result = api_param_int64(c, "id", &chat_id) == SB_OK
                     ? messenger_chat_get(c->store, c->principal->user_id, chat_id, &chat)
                     : SB_EPERM;
    if (result == SB_EPERM || result == SB_ENOTFOUND) {
        api_reply_error(c, 404, "not_found", "no such chat");
        return SB_OK;
    }
    if (result != SB_OK) return result;
    int64_t bots[16];
    size_t count = 0;
    result = messenger_botapi_chat_bots(c->store, chat_id, bots, SB_ARRAY_LEN(bots), &count);
    if (result != SB_OK) return result;
    json_t *shared = json_array();
    if (!shared) return SB_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        json_t *ev = json_pack("{s:s, s:I, s:I, s:I}", "type", "bot.contact", "chat_id", (json_int_t)chat_id, "user_id",
                               (json_int_t)c->principal->user_id, "date", (json_int_t)(c->now_ms / 1000));
        char *text = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
        json_decref(ev);
        int64_t id = 0;
        result = text ? messenger_bot_update_add(c->store, bots[i], text, c->now_ms, &id) : SB_ENOMEM;
        free(text); /* jansson's allocation */
        if (result != SB_OK) break;
        json_array_append_new(shared, json_integer(bots[i]));
        api_botapi_wake_bot(c->request->thread->server, bots[i]);
    }
    if (result != SB_OK) {
        json_decref(shared);
        return result;
    }
    sb_log(SB_LOG_INFO, "botapi.contact", "user %lld shared its phone number with %zu bots of chat %lld",
           (long long)c->principal->user_id, count, (long long)chat_id);
    api_reply_json(c, 202, json_pack("{s:o}", "shared_with", shared));
    return SB_OK;
}

void api_routes_botapi(api_router *r) {
    api_router_add(r, "POST", "/api/chats/:id/contact", IDENTITY_ROLE_CUSTOMER, post_contact);
    api_routes_botapi_pay(r);
    /* the path names the bot (its token): the pipeline checks no bearer token and leaves the body to handle() */
    api_router_add(r, "GET", "/bot:token/:method", API_PUBLIC | API_KEY_AUTH, handle);
    api_router_add(r, "POST", "/bot:token/:method", API_PUBLIC | API_KEY_AUTH, handle);
}
