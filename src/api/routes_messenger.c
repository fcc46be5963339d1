/*
 * routes_messenger.c - the messenger over HTTP, mapped onto messenger.h:
 * contacts and blocks, 1:1 chats and groups, messages with cursor history
 * and reconnect changes, receipts, typing, and the bank's channel.
 *
 * Live push: every successful mutating call renders each event it produced
 * (messenger_event_render) and hands the text to api_ws_send_to_user for
 * every recipient, so all open WebSockets of every member get it; then bot
 * recipients are dispatched in process (messenger_dispatch_bots).  A
 * recipient with no open WebSocket simply misses the push and catches up
 * with GET /api/chats/:id/changes.
 *
 * Chat ids cannot be probed: the messenger answers SB_EPERM both for an
 * unknown chat and for a chat the caller is not a member of.  These routes
 * answer 404 not_found for both; a MEMBER refused an action (a plain member
 * renaming a group, editing another's message) gets 403 forbidden.
 */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "messenger/messenger.h"

/* GET /api/chats answers at most this many chats per page. */
#define API_CHATS_PAGE_MAX 100
/* GET /api/chats/:id lists at most this many members. */
#define API_MEMBERS_PAGE_MAX 200
/* Default page of history, changes and channel posts. */
#define API_MESSAGES_PAGE_DEFAULT 50

/* ---- small helpers ---- */

/* The chat id path parameter ":id"; a malformed one is "no such chat". */
static int chat_param(api_ctx *c, const char *name, int64_t *out) {
    if (api_param_int64(c, name, out) != SB_OK) {
        api_reply_error(c, 404, "not_found", "no such chat");
        return SB_ENOTFOUND;
    }
    return SB_OK;
}

/* Map a refusal about chat_id: SB_EPERM for a non-member (or unknown chat)
 * becomes 404 not_found, for a member 403 forbidden.  Other codes pass. */
static int chat_refusal(api_ctx *c, int64_t chat_id, int result) {
    if (result != SB_EPERM) return result;
    messenger_chat chat;
    int member = messenger_chat_get(c->store, c->principal->user_id, chat_id, &chat);
    if (member == SB_EPERM) {
        api_reply_error(c, 404, "not_found", "no such chat");
        return SB_ENOTFOUND;
    }
    api_reply_error(c, 403, "forbidden", "not allowed in this chat");
    return SB_EPERM;
}

/* A rendered message as a JSON value (NULL on failure). */
static json_t *message_json(const messenger_message *m) {
    char *text = NULL;
    if (messenger_message_render(m, &text, NULL) != SB_OK) return NULL;
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    sb_free(text);
    return v;
}

static json_t *chat_json(const messenger_chat *chat) {
    const char *kind = messenger_chat_kind_name(chat->kind);
    const char *role = messenger_member_role_name(chat->my_role);
    return json_pack("{s:I, s:s, s:s, s:I, s:I, s:I, s:I, s:s, s:I, s:I}", "id", (json_int_t)chat->id, "kind",
                     kind ? kind : "unknown", "title", chat->title, "last_seq", (json_int_t)chat->last_seq, "last_rev",
                     (json_int_t)chat->last_rev, "member_count", (json_int_t)chat->member_count, "created_at_ms",
                     (json_int_t)chat->created_at_ms, "my_role", role ? role : "unknown", "my_delivered_seq",
                     (json_int_t)chat->my_delivered_seq, "my_read_seq", (json_int_t)chat->my_read_seq);
}

/* Set "display_name" and "username" of user_id on obj (so pages never show
 * "User 5"); a user gone meanwhile is left without them. */
static int put_user_names(api_ctx *c, json_t *obj, int64_t user_id) {
    identity_principal u;
    int result = identity_user_get(c->store, user_id, &u);
    if (result == SB_ENOTFOUND) return SB_OK;
    if (result != SB_OK) return result;
    json_object_set_new(obj, "display_name", json_string(u.display_name));
    json_object_set_new(obj, "username", u.username[0] ? json_string(u.username) : json_null());
    return SB_OK;
}

/* CHAT, plus for a 1:1 chat "peer":{"user_id","display_name","username"}: the
 * other member, whom the caller already talks to. */
static json_t *chat_json_for(api_ctx *c, const messenger_chat *chat, int *result_out) {
    *result_out = SB_OK;
    json_t *body = chat_json(chat);
    if (!body || chat->kind != MESSENGER_CHAT_DIRECT) return body;
    messenger_member two[2];
    size_t count = 0;
    int result = messenger_member_list(c->store, c->principal->user_id, chat->id, 0, two, 2, &count);
    for (size_t i = 0; result == SB_OK && i < count; i++) {
        if (two[i].user_id == c->principal->user_id) continue;
        json_t *peer = json_pack("{s:I}", "user_id", (json_int_t)two[i].user_id);
        result = peer ? put_user_names(c, peer, two[i].user_id) : SB_ENOMEM;
        if (peer) json_object_set_new(body, "peer", peer);
    }
    if (result == SB_EPERM || result == SB_ENOTFOUND) result = SB_OK;
    *result_out = result;
    return body;
}

/* Answer {"messages":[...], ...extra} for count messages; frees them. */
static int reply_messages(api_ctx *c, messenger_message *list, size_t count, json_t *extra_take) {
    json_t *arr = json_array();
    int result = arr ? SB_OK : SB_ENOMEM;
    for (size_t i = 0; result == SB_OK && i < count; i++) {
        json_t *m = message_json(&list[i]);
        if (!m || json_array_append_new(arr, m) != 0) result = SB_ENOMEM;
    }
    messenger_messages_clear(list, count);
    sb_free(list);
    if (result != SB_OK) {
        json_decref(arr);
        json_decref(extra_take);
        return result;
    }
    json_t *body = extra_take ? extra_take : json_object();
    if (!body || json_object_set_new(body, "messages", arr) != 0) {
        json_decref(body);
        return SB_ENOMEM;
    }
    api_reply_json(c, 200, body);
    return SB_OK;
}

/* ---- the shared tail of the handlers ---- */

/* How a handler answers one refusal of the messenger: result code to HTTP
 * status, error code and message.  A "{n}" in the message stands for
 * number (a limit).  Tables end with a {0} entry. */
typedef struct {
    int result;
    int status;
    const char *code;
    const char *message;
    long number;
} refusal;

/* The general answer a handler gives after its own table: chat_refusal,
 * text_refusal, channel_refusal ... or NULL to pass the result on. */
typedef int (*refusal_map_fn)(api_ctx *c, int64_t chat_id, int result);

/* Answer with one table entry. */
static void reply_refusal(api_ctx *c, const refusal *r) {
    const char *at = strstr(r->message, "{n}");
    if (!at) {
        api_reply_error(c, r->status, r->code, "%s", r->message);
        return;
    }
    api_reply_error(c, r->status, r->code, "%.*s%ld%s", (int)(at - r->message), r->message, r->number, at + 3);
}

/* The tail every handler shares once the messenger has answered `result`:
 * the events of a successful call (events may be NULL) are pushed to their
 * recipients, and the events are cleared either way.  On success *done is
 * false and SB_OK is returned: the handler replies.  On failure *done is
 * true and the refusal is answered: by the first entry of own (may be NULL)
 * with that result, else by map (with chat_id), else the result is returned
 * for the router to answer; the handler returns what this returns. */
static int finish(api_ctx *c, int result, messenger_events *events, const refusal *own, refusal_map_fn map,
                  int64_t chat_id, bool *done) {
    if (events) {
        if (result == SB_OK) api_ctx_push(c, events);
        messenger_events_clear(events);
    }
    *done = result != SB_OK;
    if (result == SB_OK) return SB_OK;
    for (const refusal *r = own; r && r->result; r++) {
        if (r->result == result) {
            reply_refusal(c, r);
            return SB_OK;
        }
    }
    return map ? map(c, chat_id, result) : result;
}

/* finish, then on success answer 204 with no body. */
static int finish_empty(api_ctx *c, int result, messenger_events *events, const refusal *own, refusal_map_fn map,
                        int64_t chat_id) {
    bool done;
    result = finish(c, result, events, own, map, chat_id, &done);
    if (done) return result;
    api_reply_empty(c, 204);
    return SB_OK;
}

/* finish, then on success answer {"message": m, ...extra_take} with status;
 * m is cleared and extra_take released either way. */
static int finish_message(api_ctx *c, int result, messenger_events *events, const refusal *own, refusal_map_fn map,
                          int64_t chat_id, messenger_message *m, int status, json_t *extra_take) {
    bool done;
    result = finish(c, result, events, own, map, chat_id, &done);
    json_t *mj = done ? NULL : message_json(m);
    messenger_message_clear(m);
    if (done || !mj) {
        json_decref(extra_take);
        return done ? result : SB_ENOMEM;
    }
    json_t *body = json_object();
    int failed = !body || json_object_set_new(body, "message", mj) != 0 ||
                 (extra_take && json_object_update(body, extra_take) != 0);
    json_decref(extra_take);
    if (failed) {
        json_decref(body);
        return SB_ENOMEM;
    }
    api_reply_json(c, status, body);
    return SB_OK;
}

/* Text a message carries: too long is 413, malformed 400; anything else is
 * a chat refusal (chat_id set) or passed on. */
static int text_refusal(api_ctx *c, int64_t chat_id, int result) {
    static const refusal text[] = {
        {SB_ELIMIT, 413, "too_large", "field 'text' is longer than {n} bytes", SB_MESSENGER_TEXT_BYTES_MAX},
        {SB_EINVAL, 400, "invalid",
         "field 'text' must be valid UTF-8 without control characters (newline allowed), not blank; "
         "'client_id' 1 to {n} of A-Z a-z 0-9 . _ : -",
         SB_MESSENGER_CLIENT_ID_BYTES_MAX},
        {0}};
    bool done;
    return finish(c, result, NULL, text, chat_id ? chat_refusal : NULL, chat_id, &done);
}

/* A channel refusal: a non-subscriber is told to subscribe (409), so that
 * the answer is the same whether or not the post exists. */
static int channel_refusal(api_ctx *c, int64_t chat_id, int result) {
    static const refusal channel[] = {
        {SB_EPERM, 409, "conflict", "subscribe to the channel first (POST /api/channel/subscribe)", 0},
        {SB_ENOTFOUND, 404, "not_found", "no such post", 0},
        {0}};
    bool done;
    return finish(c, result, NULL, channel, NULL, chat_id, &done);
}

/* A comment's text refusals first, then the channel's. */
static int comment_refusal(api_ctx *c, int64_t chat_id, int result) {
    if (result == SB_ELIMIT || result == SB_EINVAL) return text_refusal(c, 0, result);
    return channel_refusal(c, chat_id, result);
}

/* The refusal of a group title. */
#define TITLE_REFUSAL                                                                                                  \
    {                                                                                                                  \
        SB_EINVAL, 400, "invalid", "field 'title' must be 1 to {n} bytes of text on one line",                         \
            SB_MESSENGER_TITLE_BYTES_MAX                                                                               \
    }

/* ---- contacts and blocks ---- */

static int post_contacts_find(api_ctx *c) {
    static const refusal own[] = {
        {SB_ENOTFOUND, 404, "not_found", "nobody found by that phone or username", 0},
        {SB_EINVAL, 400, "invalid", "field 'query' must be a phone number or an @username", 0},
        {0}};
    const char *query;
    int result = api_body_string(c, "query", true, SB_MESSENGER_QUERY_BYTES_MAX, &query);
    if (result != SB_OK) return result;
    int64_t user_id;
    bool done;
    result =
        finish(c, messenger_contact_find(c->store, c->principal->user_id, query, &user_id), NULL, own, NULL, 0, &done);
    if (done) return result;
    identity_principal u;
    result = identity_user_get(c->store, user_id, &u);
    if (result != SB_OK) return result == SB_ENOTFOUND ? SB_EINTERNAL : result;
    api_reply_json(c, 200,
                   json_pack("{s:I, s:s?, s:s}", "user_id", (json_int_t)user_id, "username",
                             u.username[0] ? u.username : NULL, "display_name", u.display_name));
    return SB_OK;
}

/* A boolean field: 1/0, -1 when absent; SB_EINVAL (answered) when not a boolean. */
static int optional_bool(api_ctx *c, const char *field, int *out) {
    json_t *v = c->body ? json_object_get(c->body, field) : NULL;
    *out = -1;
    if (!v) return SB_OK;
    if (!json_is_boolean(v)) {
        api_reply_error(c, 400, "invalid", "field '%s' must be true or false", field);
        return SB_EINVAL;
    }
    *out = json_is_true(v);
    return SB_OK;
}

/* {"discoverable":bool} sets both halves; {"by_phone"?,"by_username"?} each. */
static int put_discoverable(api_ctx *c) {
    int both, by_phone, by_username;
    if (optional_bool(c, "discoverable", &both) != SB_OK || optional_bool(c, "by_phone", &by_phone) != SB_OK ||
        optional_bool(c, "by_username", &by_username) != SB_OK)
        return SB_OK;
    if (both < 0 && by_phone < 0 && by_username < 0) {
        api_reply_error(c, 400, "invalid", "field 'discoverable' (or 'by_phone', 'by_username') is required");
        return SB_OK;
    }
    if (both >= 0) {
        if (by_phone < 0) by_phone = both;
        if (by_username < 0) by_username = both;
    }
    int result = messenger_discoverability_set(c->store, c->principal->user_id, by_phone, by_username);
    bool phone = false, name = false;
    if (result == SB_OK) result = messenger_discoverability_get(c->store, c->principal->user_id, &phone, &name);
    if (result != SB_OK) return result;
    api_reply_json(c, 200,
                   json_pack("{s:b, s:b, s:b}", "discoverable", phone || name, "by_phone", phone, "by_username", name));
    return SB_OK;
}

/* A phone book lookup: {"phones":[...]} -> {"found":[{"index","phone","user_id","display_name","username"}],
 * "invalid":[index...]}.  Only people the caller may see are found; a hidden
 * and an unknown number are both simply absent. */
static int post_contacts_lookup(api_ctx *c) {
    json_t *phones = c->body ? json_object_get(c->body, "phones") : NULL;
    if (!json_is_array(phones) || json_array_size(phones) == 0 || json_array_size(phones) > SB_CONTACTS_LOOKUP_MAX) {
        api_reply_error(c, 400, "invalid", "field 'phones' must be a list of 1 to %d phone numbers",
                        SB_CONTACTS_LOOKUP_MAX);
        return SB_OK;
    }
    json_t *found = json_array(), *invalid = json_array();
    int result = found && invalid ? SB_OK : SB_ENOMEM;
    for (size_t i = 0; result == SB_OK && i < json_array_size(phones); i++) {
        const char *text = json_string_value(json_array_get(phones, i));
        char e164[SB_PHONE_BYTES];
        if (!text || strnlen(text, SB_MESSENGER_QUERY_BYTES_MAX + 1) > SB_MESSENGER_QUERY_BYTES_MAX ||
            sb_phone_normalize(text, e164, NULL) != SB_OK) {
            json_array_append_new(invalid, json_integer((json_int_t)i));
            continue;
        }
        int64_t user_id = 0;
        result = messenger_contact_lookup_phone(c->store, c->principal->user_id, e164, &user_id);
        if (result == SB_ENOTFOUND) {
            result = SB_OK;
            continue;
        }
        if (result != SB_OK) break;
        json_t *row =
            json_pack("{s:I, s:s, s:I}", "index", (json_int_t)i, "phone", e164, "user_id", (json_int_t)user_id);
        result = row ? put_user_names(c, row, user_id) : SB_ENOMEM;
        json_array_append_new(found, row);
    }
    if (result != SB_OK) {
        json_decref(found);
        json_decref(invalid);
        return result;
    }
    api_reply_json(c, 200, json_pack("{s:o, s:o}", "found", found, "invalid", invalid));
    return SB_OK;
}

static int block_common(api_ctx *c, bool block) {
    static const refusal own[] = {{SB_ENOTFOUND, 404, "not_found", "no such user", 0},
                                  {SB_EINVAL, 400, "invalid", "you cannot block yourself", 0},
                                  {0}};
    int64_t user_id;
    if (api_param_int64(c, "user_id", &user_id) != SB_OK) {
        api_reply_error(c, 404, "not_found", "no such user");
        return SB_OK;
    }
    int result = block ? messenger_block(c->store, c->principal->user_id, user_id, c->now_ms)
                       : messenger_unblock(c->store, c->principal->user_id, user_id);
    return finish_empty(c, result, NULL, own, NULL, 0);
}

static int post_block(api_ctx *c) { return block_common(c, true); }
static int delete_block(api_ctx *c) { return block_common(c, false); }

/* ---- chats and groups ---- */

static int reply_chat(api_ctx *c, int64_t chat_id, int status, bool with_members) {
    messenger_chat chat;
    int result = messenger_chat_get(c->store, c->principal->user_id, chat_id, &chat);
    if (result == SB_EPERM) {
        api_reply_error(c, 404, "not_found", "no such chat");
        return SB_OK;
    }
    if (result != SB_OK) return result;
    json_t *body = chat_json_for(c, &chat, &result);
    if (!body) return SB_ENOMEM;
    if (result != SB_OK) {
        json_decref(body);
        return result;
    }
    if (with_members) {
        messenger_member *members = sb_malloc(sizeof *members * API_MEMBERS_PAGE_MAX);
        size_t count = 0;
        result = members ? messenger_member_list(c->store, c->principal->user_id, chat_id, 0, members,
                                                 API_MEMBERS_PAGE_MAX, &count)
                         : SB_ENOMEM;
        if (result == SB_OK) {
            json_t *arr = json_array();
            for (size_t i = 0; arr && i < count; i++) {
                const char *role = messenger_member_role_name(members[i].role);
                json_t *m = json_pack("{s:I, s:s, s:I, s:I}", "user_id", (json_int_t)members[i].user_id, "role",
                                      role ? role : "unknown", "delivered_seq", (json_int_t)members[i].delivered_seq,
                                      "read_seq", (json_int_t)members[i].read_seq);
                if (m && result == SB_OK) result = put_user_names(c, m, members[i].user_id);
                json_array_append_new(arr, m);
            }
            json_object_set_new(body, "members", arr ? arr : json_null());
        } else if (result == SB_EPERM) {
            result = SB_OK; /* the channel lists its members to staff only */
        }
        sb_free(members);
        if (result != SB_OK) {
            json_decref(body);
            return result;
        }
    }
    api_reply_json(c, status, body);
    return SB_OK;
}

static int post_direct(api_ctx *c) {
    static const refusal own[] = {{SB_ENOTFOUND, 404, "not_found", "no such user", 0},
                                  {SB_EINVAL, 400, "invalid", "you cannot open a chat with yourself", 0},
                                  {SB_EPERM, 403, "forbidden", "one of you has blocked the other", 0},
                                  {0}};
    int64_t peer_id;
    int result = api_body_int64(c, "user_id", true, 1, INT64_MAX, 0, &peer_id);
    if (result != SB_OK) return result;
    int64_t chat_id;
    bool created = false, done;
    result = messenger_direct_open(c->store, c->principal->user_id, peer_id, c->now_ms, &chat_id, &created);
    result = finish(c, result, NULL, own, NULL, 0, &done);
    if (done) return result;
    return reply_chat(c, chat_id, created ? 201 : 200, false);
}

static int get_chats(api_ctx *c) {
    int64_t after, limit;
    int result = api_query_int64(c, "after", 0, INT64_MAX, 0, &after);
    if (result == SB_OK) result = api_query_int64(c, "limit", 0, API_CHATS_PAGE_MAX, API_CHATS_PAGE_MAX, &limit);
    if (result != SB_OK) return result;
    if (limit == 0) limit = API_CHATS_PAGE_MAX;
    messenger_chat *chats = sb_malloc(sizeof *chats * (size_t)limit);
    if (!chats) return SB_ENOMEM;
    size_t count = 0;
    result = messenger_chat_list(c->store, c->principal->user_id, after, chats, (size_t)limit, &count);
    json_t *arr = result == SB_OK ? json_array() : NULL;
    if (result == SB_OK && !arr) result = SB_ENOMEM;
    for (size_t i = 0; result == SB_OK && i < count; i++)
        json_array_append_new(arr, chat_json_for(c, &chats[i], &result));
    sb_free(chats);
    if (result != SB_OK) {
        json_decref(arr);
        return result;
    }
    api_reply_json(c, 200, json_pack("{s:o, s:b}", "chats", arr, "more", count == (size_t)limit));
    return SB_OK;
}

static int get_chat(api_ctx *c) {
    int64_t chat_id;
    if (chat_param(c, "id", &chat_id) != SB_OK) return SB_OK;
    return reply_chat(c, chat_id, 200, true);
}

static int post_group(api_ctx *c) {
    static const refusal own[] = {TITLE_REFUSAL, {0}};
    const char *title;
    int result = api_body_string(c, "title", true, SB_MESSENGER_TITLE_BYTES_MAX, &title);
    if (result != SB_OK) return result;
    int64_t chat_id;
    messenger_events events = {0};
    bool done;
    result = messenger_group_create(c->store, c->principal->user_id, title, c->now_ms, &chat_id, &events);
    result = finish(c, result, &events, own, NULL, 0, &done);
    if (done) return result;
    return reply_chat(c, chat_id, 201, true);
}

static int post_group_member(api_ctx *c) {
    static const refusal own[] = {
        {SB_ENOTFOUND, 404, "not_found", "no such user", 0},
        {SB_EEXISTS, 409, "conflict", "already a member", 0},
        {SB_ELIMIT, 413, "too_large", "the group is full ({n} members)", SB_MESSENGER_GROUP_MEMBERS_MAX},
        {0}};
    int64_t chat_id, user_id;
    if (chat_param(c, "id", &chat_id) != SB_OK) return SB_OK;
    int result = api_body_int64(c, "user_id", true, 1, INT64_MAX, 0, &user_id);
    if (result != SB_OK) return result;
    messenger_events events = {0};
    result = messenger_group_add(c->store, c->principal->user_id, chat_id, user_id, c->now_ms, &events);
    return finish_empty(c, result, &events, own, chat_refusal, chat_id);
}

static int delete_group_member(api_ctx *c) {
    static const refusal own[] = {{SB_ENOTFOUND, 404, "not_found", "not a member", 0}, {0}};
    int64_t chat_id, user_id;
    if (chat_param(c, "id", &chat_id) != SB_OK) return SB_OK;
    if (api_param_int64(c, "user_id", &user_id) != SB_OK) {
        reply_refusal(c, &own[0]);
        return SB_OK;
    }
    messenger_events events = {0};
    int result = messenger_group_remove(c->store, c->principal->user_id, chat_id, user_id, &events);
    return finish_empty(c, result, &events, own, chat_refusal, chat_id);
}

static int post_group_leave(api_ctx *c) {
    int64_t chat_id;
    if (chat_param(c, "id", &chat_id) != SB_OK) return SB_OK;
    messenger_events events = {0};
    int result = messenger_group_leave(c->store, c->principal->user_id, chat_id, &events);
    return finish_empty(c, result, &events, NULL, chat_refusal, chat_id);
}

static int patch_group(api_ctx *c) {
    static const refusal own[] = {TITLE_REFUSAL, {0}};
    int64_t chat_id;
    if (chat_param(c, "id", &chat_id) != SB_OK) return SB_OK;
    const char *title;
    int result = api_body_string(c, "title", true, SB_MESSENGER_TITLE_BYTES_MAX, &title);
    if (result != SB_OK) return result;
    messenger_events events = {0};
    bool done;
    result = messenger_group_rename(c->store, c->principal->user_id, chat_id, title, &events);
    result = finish(c, result, &events, own, chat_refusal, chat_id, &done);
    if (done) return result;
    return reply_chat(c, chat_id, 200, false);
}

/* ---- messages ---- */

/* The text field: any length is read, so that oversize text is 413 (from
 * the messenger's SB_ELIMIT) rather than a generic 400. */
static int text_field(api_ctx *c, const char **out) {
    return api_body_string(c, "text", true, SB_HTTP_BODY_BYTES_MAX, out);
}

static int post_message(api_ctx *c) {
    static const refusal own[] = {{SB_ENOTFOUND, 404, "not_found", "reply_to_seq is not a message of this chat", 0},
                                  {0}};
    int64_t chat_id, reply_to;
    if (chat_param(c, "id", &chat_id) != SB_OK) return SB_OK;
    const char *text, *client_id;
    int result = text_field(c, &text);
    if (result == SB_OK) result = api_body_int64(c, "reply_to_seq", false, 0, INT64_MAX, 0, &reply_to);
    if (result == SB_OK) result = api_body_string(c, "client_id", false, SB_MESSENGER_CLIENT_ID_BYTES_MAX, &client_id);
    if (result != SB_OK) return result;
    messenger_send_request req = {.chat_id = chat_id,
                                  .sender_id = c->principal->user_id,
                                  .kind = MESSENGER_MSG_TEXT,
                                  .text = text,
                                  .reply_to_seq = reply_to,
                                  .client_id = client_id};
    messenger_message m = {0};
    bool duplicate = false;
    messenger_events events = {0};
    result = messenger_send(c->store, &req, c->now_ms, &m, &duplicate, &events);
    return finish_message(c, result, &events, own, text_refusal, chat_id, &m, duplicate ? 200 : 201,
                          json_pack("{s:b}", "duplicate", duplicate));
}

/* A page of history (?before, ?after, ?limit): {"messages":[...],"more"}.
 * The bank's channel when channel (chat_id is then looked up, answered as
 * "chat_id" too, and refusals are the channel's); else chat_id's. */
static int reply_history(api_ctx *c, int64_t chat_id, bool channel) {
    int64_t before, after, limit;
    int result = api_query_int64(c, "before", 0, INT64_MAX, 0, &before);
    if (result == SB_OK) result = api_query_int64(c, "after", 0, INT64_MAX, 0, &after);
    if (result == SB_OK)
        result = api_query_int64(c, "limit", 0, SB_MESSENGER_PAGE_MAX, API_MESSAGES_PAGE_DEFAULT, &limit);
    if (result != SB_OK) return result;
    if (limit == 0) limit = API_MESSAGES_PAGE_DEFAULT;
    if (channel) {
        result = messenger_channel_id(c->store, c->now_ms, &chat_id);
        if (result != SB_OK) return result;
    }
    messenger_message *list = sb_malloc(sizeof *list * (size_t)limit);
    if (!list) return SB_ENOMEM;
    size_t count = 0;
    result = messenger_history(c->store, c->principal->user_id, chat_id, before, after, (size_t)limit, list, &count);
    if (result != SB_OK) {
        sb_free(list);
        return channel ? channel_refusal(c, chat_id, result) : chat_refusal(c, chat_id, result);
    }
    bool more = count == (size_t)limit;
    return reply_messages(c, list, count,
                          channel ? json_pack("{s:I, s:b}", "chat_id", (json_int_t)chat_id, "more", more)
                                  : json_pack("{s:b}", "more", more));
}

static int get_messages(api_ctx *c) {
    int64_t chat_id;
    if (chat_param(c, "id", &chat_id) != SB_OK) return SB_OK;
    return reply_history(c, chat_id, false);
}

static int get_changes(api_ctx *c) {
    int64_t chat_id, after_rev, limit;
    if (chat_param(c, "id", &chat_id) != SB_OK) return SB_OK;
    int result = api_query_int64(c, "after_rev", 0, INT64_MAX, 0, &after_rev);
    if (result == SB_OK) result = api_query_int64(c, "limit", 0, SB_MESSENGER_PAGE_MAX, SB_MESSENGER_PAGE_MAX, &limit);
    if (result != SB_OK) return result;
    if (limit == 0) limit = SB_MESSENGER_PAGE_MAX;
    messenger_message *list = sb_malloc(sizeof *list * (size_t)limit);
    if (!list) return SB_ENOMEM;
    size_t count = 0;
    result = messenger_changes(c->store, c->principal->user_id, chat_id, after_rev, (size_t)limit, list, &count);
    if (result != SB_OK) {
        sb_free(list);
        return chat_refusal(c, chat_id, result);
    }
    int64_t last_rev = count ? list[count - 1].rev : after_rev;
    return reply_messages(c, list, count,
                          json_pack("{s:I, s:b}", "last_rev", (json_int_t)last_rev, "more", count == (size_t)limit));
}

static int seq_param(api_ctx *c, int64_t *out) {
    if (api_param_int64(c, "seq", out) != SB_OK) {
        api_reply_error(c, 404, "not_found", "no such message");
        return SB_ENOTFOUND;
    }
    return SB_OK;
}

static int patch_message(api_ctx *c) {
    static const refusal own[] = {
        {SB_ENOTFOUND, 404, "not_found", "no such message", 0},
        {SB_ECONFLICT, 409, "conflict", "only a text message that is not deleted can be edited", 0},
        {0}};
    int64_t chat_id, seq;
    if (chat_param(c, "id", &chat_id) != SB_OK || seq_param(c, &seq) != SB_OK) return SB_OK;
    const char *text;
    int result = text_field(c, &text);
    if (result != SB_OK) return result;
    messenger_events events = {0};
    bool done;
    result = messenger_edit(c->store, c->principal->user_id, chat_id, seq, text, c->now_ms, &events);
    result = finish(c, result, &events, own, text_refusal, chat_id, &done);
    if (done) return result;
    messenger_message m = {0};
    result = messenger_message_get(c->store, c->principal->user_id, chat_id, seq, &m);
    if (result != SB_OK) return result;
    return finish_message(c, SB_OK, NULL, NULL, NULL, chat_id, &m, 200, NULL);
}

static int delete_message(api_ctx *c) {
    static const refusal own[] = {{SB_ENOTFOUND, 404, "not_found", "no such message", 0},
                                  {SB_ECONFLICT, 409, "conflict", "payment messages cannot be deleted", 0},
                                  {0}};
    int64_t chat_id, seq;
    if (chat_param(c, "id", &chat_id) != SB_OK || seq_param(c, &seq) != SB_OK) return SB_OK;
    messenger_events events = {0};
    int result = messenger_delete(c->store, c->principal->user_id, chat_id, seq, c->now_ms, &events);
    return finish_empty(c, result, &events, own, chat_refusal, chat_id);
}

static int post_receipts(api_ctx *c) {
    static const refusal own[] = {{SB_EINVAL, 400, "invalid", "a receipt cannot pass the chat's last message", 0}, {0}};
    int64_t chat_id, delivered, read;
    if (chat_param(c, "id", &chat_id) != SB_OK) return SB_OK;
    int result = api_body_int64(c, "delivered_seq", false, 0, INT64_MAX, 0, &delivered);
    if (result == SB_OK) result = api_body_int64(c, "read_seq", false, 0, INT64_MAX, 0, &read);
    if (result != SB_OK) return result;
    messenger_events events = {0};
    result = messenger_receipt(c->store, c->principal->user_id, chat_id, delivered, read, &events);
    return finish_empty(c, result, &events, own, chat_refusal, chat_id);
}

static int post_typing(api_ctx *c) {
    int64_t chat_id;
    if (chat_param(c, "id", &chat_id) != SB_OK) return SB_OK;
    messenger_events events = {0};
    int result = messenger_typing(c->store, c->principal->user_id, chat_id, &events);
    return finish_empty(c, result, &events, NULL, chat_refusal, chat_id);
}

/* ---- the bank's channel ---- */

static int get_channel_posts(api_ctx *c) { return reply_history(c, 0, true); }

static int post_channel_post(api_ctx *c) {
    static const refusal own[] = {{SB_EPERM, 403, "forbidden", "only marketers and admins post to the channel", 0},
                                  {0}};
    const char *text;
    int result = text_field(c, &text);
    if (result != SB_OK) return result;
    messenger_message m = {0};
    messenger_events events = {0};
    result = messenger_channel_post(c->store, c->principal->user_id, text, c->now_ms, &m, &events);
    return finish_message(c, result, &events, own, text_refusal, 0, &m, 201, NULL);
}

static int post_channel_like(api_ctx *c) {
    static const refusal own[] = {{SB_EEXISTS, 409, "conflict", "you already like this post", 0}, {0}};
    int64_t seq;
    if (seq_param(c, &seq) != SB_OK) return SB_OK;
    messenger_events events = {0};
    int result = messenger_channel_like(c->store, c->principal->user_id, seq, c->now_ms, &events);
    return finish_empty(c, result, &events, own, channel_refusal, 0);
}

static int post_channel_comment(api_ctx *c) {
    int64_t seq;
    if (seq_param(c, &seq) != SB_OK) return SB_OK;
    const char *text, *client_id;
    int result = text_field(c, &text);
    if (result == SB_OK) result = api_body_string(c, "client_id", false, SB_MESSENGER_CLIENT_ID_BYTES_MAX, &client_id);
    if (result != SB_OK) return result;
    messenger_message m = {0};
    messenger_events events = {0};
    result = messenger_channel_comment(c->store, c->principal->user_id, seq, text, client_id, c->now_ms, &m, &events);
    /* A new comment (a repeated client_id has no events) goes to listening. */
    if (result == SB_OK && events.count > 0 && c->app->comment_hook) c->app->comment_hook(&m, c->app->comment_hook_arg);
    return finish_message(c, result, &events, NULL, comment_refusal, 0, &m, 201, NULL);
}

static int post_channel_subscribe(api_ctx *c) {
    messenger_events events = {0};
    bool done;
    int result = messenger_channel_subscribe(c->store, c->principal->user_id, c->now_ms, &events);
    result = finish(c, result, &events, NULL, NULL, 0, &done);
    if (done) return result;
    int64_t chat_id;
    result = messenger_channel_id(c->store, c->now_ms, &chat_id);
    if (result != SB_OK) return result;
    api_reply_json(c, 200, json_pack("{s:I}", "chat_id", (json_int_t)chat_id));
    return SB_OK;
}

void api_routes_messenger(api_router *r) {
    const int customer = IDENTITY_ROLE_CUSTOMER;
    const int poster = IDENTITY_ROLE_MARKETER | IDENTITY_ROLE_ADMIN;
    api_router_add(r, "POST", "/api/contacts/find", customer, post_contacts_find);
    api_router_add(r, "PUT", "/api/me/discoverable", customer, put_discoverable);
    api_router_add(r, "POST", "/api/contacts/lookup", customer, post_contacts_lookup);
    api_router_add(r, "POST", "/api/blocks/:user_id", customer, post_block);
    api_router_add(r, "DELETE", "/api/blocks/:user_id", customer, delete_block);
    api_router_add(r, "POST", "/api/chats/direct", customer, post_direct);
    api_router_add(r, "GET", "/api/chats", customer, get_chats);
    api_router_add(r, "GET", "/api/chats/:id", customer, get_chat);
    api_router_add(r, "POST", "/api/groups", customer, post_group);
    api_router_add(r, "POST", "/api/groups/:id/members", customer, post_group_member);
    api_router_add(r, "DELETE", "/api/groups/:id/members/:user_id", customer, delete_group_member);
    api_router_add(r, "POST", "/api/groups/:id/leave", customer, post_group_leave);
    api_router_add(r, "PATCH", "/api/groups/:id", customer, patch_group);
    api_router_add(r, "POST", "/api/chats/:id/messages", customer, post_message);
    api_router_add(r, "GET", "/api/chats/:id/messages", customer, get_messages);
    api_router_add(r, "GET", "/api/chats/:id/changes", customer, get_changes);
    api_router_add(r, "PATCH", "/api/chats/:id/messages/:seq", customer, patch_message);
    api_router_add(r, "DELETE", "/api/chats/:id/messages/:seq", customer, delete_message);
    api_router_add(r, "POST", "/api/chats/:id/receipts", customer, post_receipts);
    api_router_add(r, "POST", "/api/chats/:id/typing", customer, post_typing);
    api_router_add(r, "GET", "/api/channel/posts", customer | poster, get_channel_posts);
    api_router_add(r, "POST", "/api/channel/posts", poster, post_channel_post);
    api_router_add(r, "POST", "/api/channel/posts/:seq/like", customer, post_channel_like);
    api_router_add(r, "POST", "/api/channel/posts/:seq/comments", customer, post_channel_comment);
    api_router_add(r, "POST", "/api/channel/subscribe", customer | poster, post_channel_subscribe);
}
