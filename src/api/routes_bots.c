/*
 * routes_bots.c - the bot API over HTTP, mapped onto messenger.h.
 *
 * A bot is a user with a token (messenger_bot_create: an admin creates it,
 * the token is shown once).  A bot authenticates with
 *   Authorization: Bot <token>
 * (http.c: the principal is the bot's user with the API_ROLE_BOT bit, so a
 * route says "bots may call me" in its roles like any other role; a bot
 * token on any other route is 403, a session token on a bot route 403).
 * A bot reads its inbox with a cursor (GET /api/bot/updates?after=N: every
 * event addressed to it, recorded by api_messenger_push, in order, each
 * once) and writes into chats it is a member of (text, optionally with an
 * inline keyboard).  Customers find a bot by @username, open a 1:1 chat with
 * it (POST /api/chats/direct) and press its buttons (POST
 * /api/chats/:id/messages/:seq/press), which reaches the bot as a
 * bot.callback update.  As everywhere, a chat the caller is not in answers
 * 404 not_found, the same as a chat that does not exist.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "messenger/messenger.h"

static json_t *message_json(const messenger_message *m) {
    char *text = NULL;
    if (messenger_message_render(m, &text, NULL) != SB_OK) return NULL;
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    sb_free(text);
    return v;
}

/* ---- admin ---- */

/* POST /api/admin/bots {"username":"weatherbot"} -> 201 {"bot":{...},"token":"..."} */
static int post_admin_bot(api_ctx *c) {
    const char *username;
    int result = api_body_string(c, "username", true, SB_USERNAME_BYTES_MAX, &username);
    if (result != SB_OK) return result;
    char token[MESSENGER_BOT_TOKEN_CHARS + 1];
    int64_t bot_id = 0;
    result = messenger_bot_create(c->store, username, c->now_ms, token, &bot_id);
    if (result == SB_EINVAL) {
        api_reply_error(c, 400, "invalid", "field 'username' must be a valid @username ending in 'bot'");
        return SB_OK;
    }
    if (result == SB_EEXISTS) {
        api_reply_error(c, 409, "conflict", "the username is taken");
        return SB_OK;
    }
    if (result != SB_OK) return result;
    identity_principal p;
    char full[MESSENGER_BOT_TOKEN_TEXT_MAX + 1];
    result = identity_user_get(c->store, bot_id, &p);
    if (result == SB_OK) result = messenger_bot_token_format(bot_id, token, full, sizeof full);
    if (result == SB_OK) {
        sb_log(SB_LOG_INFO, "bots.create", "admin %lld created bot %lld @%s", (long long)c->principal->user_id,
               (long long)bot_id, p.username);
        api_reply_json(
            c, 201,
            json_pack("{s:{s:I, s:s}, s:s}", "bot", "id", (json_int_t)bot_id, "username", p.username, "token", full));
    }
    sodium_memzero(token, sizeof token);
    sodium_memzero(full, sizeof full);
    return result;
}

/* ---- customers ---- */

/* GET /api/bots/:username -> {"id":..,"username":..}: whom to open a chat with. */
static int get_bot(api_ctx *c) {
    int64_t bot_id = 0;
    int result = messenger_bot_find(c->store, api_param(c, "username"), &bot_id);
    if (result == SB_ENOTFOUND || result == SB_EINVAL) {
        api_reply_error(c, 404, "not_found", "no such bot");
        return SB_OK;
    }
    if (result != SB_OK) return result;
    identity_principal p;
    result = identity_user_get(c->store, bot_id, &p);
    if (result != SB_OK) return result;
    api_reply_json(c, 200, json_pack("{s:I, s:s}", "id", (json_int_t)bot_id, "username", p.username));
    return SB_OK;
}

/* POST /api/chats/:id/messages/:seq/press {"data":"..."} -> 202 */
static int post_press(api_ctx *c) {
    int64_t chat_id, seq;
    if (api_param_int64(c, "id", &chat_id) != SB_OK) {
        api_reply_error(c, 404, "not_found", "no such chat");
        return SB_OK;
    }
    if (api_param_int64(c, "seq", &seq) != SB_OK) {
        api_reply_error(c, 404, "not_found", "no such message");
        return SB_OK;
    }
    const char *data;
    int result = api_body_string(c, "data", true, SB_MESSENGER_BUTTON_DATA_BYTES_MAX, &data);
    if (result != SB_OK) return result;
    messenger_events events = {0};
    result = messenger_bot_press(c->store, c->principal->user_id, chat_id, seq, data, &events);
    if (result == SB_OK) api_ctx_push(c, &events);
    messenger_events_clear(&events);
    switch (result) {
    case SB_OK:
        api_reply_json(c, 202, json_pack("{s:b}", "pressed", 1));
        return SB_OK;
    case SB_EPERM:
        api_reply_error(c, 404, "not_found", "no such chat");
        return SB_OK;
    case SB_ENOTFOUND:
        api_reply_error(c, 404, "not_found", "no such keyboard message or button");
        return SB_OK;
    case SB_EINVAL:
        api_reply_error(c, 400, "invalid", "field 'data' is not a button's data");
        return SB_OK;
    default:
        return result;
    }
}

/* ---- bots ---- */

/* GET /api/bot/me -> {"id":..,"username":..} */
static int get_bot_me(api_ctx *c) {
    identity_principal p;
    int result = identity_user_get(c->store, c->principal->user_id, &p);
    if (result != SB_OK) return result;
    api_reply_json(c, 200, json_pack("{s:I, s:s}", "id", (json_int_t)c->principal->user_id, "username", p.username));
    return SB_OK;
}

/* GET /api/bot/updates?after=N&limit=M -> {"updates":[{"update_id":..,"event":{..}}],"next_after":..} */
static int get_bot_updates(api_ctx *c) {
    int64_t after, limit;
    int result = api_query_int64(c, "after", 0, INT64_MAX, 0, &after);
    if (result == SB_OK)
        result = api_query_int64(c, "limit", 0, SB_MESSENGER_BOT_UPDATES_PAGE_MAX, SB_MESSENGER_BOT_UPDATES_PAGE_MAX,
                                 &limit);
    if (result != SB_OK) return result;
    messenger_bot_update *list = sb_malloc(sizeof *list * SB_MESSENGER_BOT_UPDATES_PAGE_MAX);
    if (!list) return SB_ENOMEM;
    size_t count = 0;
    result = messenger_bot_updates(c->store, c->principal->user_id, after, (size_t)limit, list, &count);
    json_t *arr = result == SB_OK ? json_array() : NULL;
    if (result == SB_OK && !arr) result = SB_ENOMEM;
    int64_t next = after;
    for (size_t i = 0; result == SB_OK && i < count; i++) {
        json_t *event = json_loads(list[i].event_json, 0, NULL);
        json_t *u = event ? json_pack("{s:I, s:o, s:I}", "update_id", (json_int_t)list[i].id, "event", event,
                                      "created_at_ms", (json_int_t)list[i].created_at_ms)
                          : NULL;
        if (!u || json_array_append_new(arr, u) != 0) result = SB_ENOMEM;
        next = list[i].id;
    }
    messenger_bot_updates_clear(list, count);
    sb_free(list);
    if (result != SB_OK) {
        json_decref(arr);
        return result;
    }
    api_reply_json(c, 200, json_pack("{s:o, s:I}", "updates", arr, "next_after", (json_int_t)next));
    return SB_OK;
}

/* POST /api/bot/chats/:id/messages {"text":..,"keyboard":{"buttons":[[..]]},
 * "reply_to_seq":..,"client_id":..} -> 201 {"message":{..},"duplicate":false} */
static int post_bot_message(api_ctx *c) {
    int64_t chat_id;
    if (api_param_int64(c, "id", &chat_id) != SB_OK) {
        api_reply_error(c, 404, "not_found", "no such chat");
        return SB_OK;
    }
    const char *text, *client_id;
    int result = api_body_string(c, "text", true, SB_HTTP_BODY_BYTES_MAX, &text);
    if (result == SB_OK) result = api_body_string(c, "client_id", false, SB_MESSENGER_CLIENT_ID_BYTES_MAX, &client_id);
    if (result != SB_OK) return result;
    json_t *reply = json_object_get(c->body, "reply_to_seq");
    int64_t reply_to = 0;
    if (reply && !json_is_null(reply)) {
        if (!json_is_integer(reply) || json_integer_value(reply) < 0) {
            api_reply_error(c, 400, "invalid", "field 'reply_to_seq' must be a non-negative integer");
            return SB_OK;
        }
        reply_to = (int64_t)json_integer_value(reply);
    }
    json_t *keyboard = json_object_get(c->body, "keyboard");
    char *payload = NULL;
    if (keyboard && !json_is_null(keyboard)) {
        if (!json_is_object(keyboard)) {
            api_reply_error(c, 400, "invalid", "field 'keyboard' must be an object {\"buttons\":[[...]]}");
            return SB_OK;
        }
        payload = json_dumps(keyboard, JSON_COMPACT);
        if (!payload) return SB_ENOMEM;
    }
    messenger_send_request req = {.chat_id = chat_id,
                                  .sender_id = c->principal->user_id,
                                  .kind = payload ? MESSENGER_MSG_KEYBOARD : MESSENGER_MSG_TEXT,
                                  .text = text,
                                  .payload_json = payload,
                                  .reply_to_seq = reply_to,
                                  .client_id = client_id};
    messenger_message m = {0};
    bool duplicate = false;
    messenger_events events = {0};
    result = messenger_send(c->store, &req, c->now_ms, &m, &duplicate, &events);
    free(payload); /* jansson's allocation */
    if (result == SB_OK) api_ctx_push(c, &events);
    messenger_events_clear(&events);
    switch (result) {
    case SB_OK:
        break;
    case SB_EPERM:
        api_reply_error(c, 404, "not_found", "no such chat (a bot writes only in chats it is a member of)");
        return SB_OK;
    case SB_ENOTFOUND:
        api_reply_error(c, 404, "not_found", "reply_to_seq is not a message of this chat");
        return SB_OK;
    case SB_ELIMIT:
        api_reply_error(c, 413, "too_large", "the text or the keyboard is too large");
        return SB_OK;
    case SB_EINVAL:
        api_reply_error(c, 400, "invalid",
                        "'text' must be valid UTF-8 without control characters; 'keyboard' {\"buttons\":[[{\"text\":"
                        "T,\"data\":D}]]} with at most %d rows of %d buttons, data 1 to %d printable ASCII",
                        SB_MESSENGER_KEYBOARD_ROWS_MAX, SB_MESSENGER_KEYBOARD_COLS_MAX,
                        SB_MESSENGER_BUTTON_DATA_BYTES_MAX);
        return SB_OK;
    default:
        return result;
    }
    json_t *mj = message_json(&m);
    messenger_message_clear(&m);
    if (!mj) return SB_ENOMEM;
    api_reply_json(c, duplicate ? 200 : 201, json_pack("{s:o, s:b}", "message", mj, "duplicate", duplicate));
    return SB_OK;
}

void api_routes_bots(api_router *r) {
    api_router_add(r, "POST", "/api/admin/bots", IDENTITY_ROLE_ADMIN, post_admin_bot);
    api_router_add(r, "GET", "/api/bots/:username", IDENTITY_ROLE_CUSTOMER, get_bot);
    api_router_add(r, "POST", "/api/chats/:id/messages/:seq/press", IDENTITY_ROLE_CUSTOMER, post_press);
    api_router_add(r, "GET", "/api/bot/me", API_ROLE_BOT, get_bot_me);
    api_router_add(r, "GET", "/api/bot/updates", API_ROLE_BOT, get_bot_updates);
    api_router_add(r, "POST", "/api/bot/chats/:id/messages", API_ROLE_BOT, post_bot_message);
}
