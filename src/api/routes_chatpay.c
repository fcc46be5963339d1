/*
 * routes_chatpay.c - payments inside chats over HTTP, a thin layer over
 * chatpay.h: send, request, split, bill and top-up from a chat, pay /
 * decline / cancel a payment message, read one with its shares, and mute
 * the bank's notices.  Customers only.  Every change is pushed to the
 * members' WebSockets through api_thread_push (chatpay calls it after
 * each commit).
 *
 * Answers follow the messenger routes for the chat (a non-member or an
 * unknown chat: 404 not_found, so chat ids cannot be probed) and the
 * payment routes for money (api_payments_reply_error: 400 with the
 * instrument's reason, 422 with the limit, 409 with the ledger's result or
 * the request verdict); chatpay's own refusals have their own codes (see
 * docs/API.md).  A creation answers 201, or 200 with "replayed":true when an
 * earlier request with the same idempotency_key did it.
 */
#include <string.h>

#include "api/api_int.h"
#include "chatpay/chatpay.h"

/* ---- context and helpers ---- */

/* chatpay pushes over the request's own connection: arg is its loop thread. */
static void push_events(store *s, const messenger_events *events, void *arg) {
    (void)s;
    api_thread_push(arg, events);
}

/* The chatpay context of this request; 503 answered while payments are down. */
static int chatpay_context(api_ctx *c, chatpay_ctx *out) {
    memset(out, 0, sizeof *out);
    if (api_payments_ctx(c, &out->ops) != SB_OK) return SB_ECLOSED;
    out->push = push_events;
    out->push_arg = c->request->thread;
    return SB_OK;
}

static int chat_param(api_ctx *c, int64_t *out) {
    if (api_param_int64(c, "id", out) != SB_OK) {
        api_reply_error(c, 404, "not_found", "no such chat");
        return SB_ENOTFOUND;
    }
    return SB_OK;
}

static int seq_param(api_ctx *c, int64_t *out) {
    if (api_param_int64(c, "seq", out) != SB_OK) {
        api_reply_error(c, 404, "not_found", "no such payment message in this chat");
        return SB_ENOTFOUND;
    }
    return SB_OK;
}

static int body_key(api_ctx *c, const char **out) {
    return api_body_string(c, "idempotency_key", true, SB_PAYOPS_IDEM_KEY_BYTES_MAX, out);
}

/* Answer a chatpay refusal, else a payops error. */
static int reply_refusal(api_ctx *c, int result, const chatpay_outcome *o) {
    switch (o->refusal) {
    case CHATPAY_REFUSED_NOT_MEMBER:
        api_reply_error(c, 404, "not_found", "no such chat");
        return SB_OK;
    case CHATPAY_REFUSED_PAYEE_NOT_MEMBER:
        api_reply_error(c, 403, "not_a_member", "that user is not a member of this chat");
        return SB_OK;
    case CHATPAY_REFUSED_CHAT_KIND:
        api_reply_error(c, 409, "not_a_payment_chat", "payments are made in 1:1 chats and groups only");
        return SB_OK;
    case CHATPAY_REFUSED_BLOCKED:
        api_reply_error(c, 403, "blocked", "one of you has blocked the other");
        return SB_OK;
    case CHATPAY_REFUSED_NOT_THE_PAYER:
        api_reply_error(c, 403, "not_the_payer", "you owe nothing on this payment message");
        return SB_OK;
    case CHATPAY_REFUSED_NOT_THE_REQUESTER:
        api_reply_error(c, 403, "not_the_requester", "only who asked for the money can cancel it");
        return SB_OK;
    case CHATPAY_REFUSED_NO_SUCH_PAYMENT:
        api_reply_error(c, 404, "not_found", "no such payment message in this chat");
        return SB_OK;
    case CHATPAY_REFUSED_NOT_PAYABLE:
        api_reply_error(c, 409, "not_payable", "this payment message has nothing to pay, decline or cancel");
        return SB_OK;
    case CHATPAY_REFUSED_KEY_REUSED:
        api_reply_error(c, 409, "idempotency_conflict", "this idempotency_key was used for another operation");
        return SB_OK;
    case CHATPAY_REFUSED_SELF:
        api_reply_error(c, 400, "invalid", "you cannot pay or ask yourself");
        return SB_OK;
    case CHATPAY_REFUSED_BAD_INPUT:
        api_reply_error(c, 400, "invalid",
                        "amount_minor must be > 0, note at most %d bytes of text on one line, idempotency_key 1 to "
                        "%d of A-Z a-z 0-9 _ . : -, and an expiry in the future",
                        SB_PAYOPS_NOTE_BYTES_MAX, SB_PAYOPS_IDEM_KEY_BYTES_MAX);
        return SB_OK;
    case CHATPAY_REFUSED_TOO_MANY:
        api_reply_error(c, 413, "too_large", "a split in a chat has at most %d members", SB_CHATPAY_SPLIT_MEMBERS_MAX);
        return SB_OK;
    default:
        return api_payments_reply_error(c, result, &o->receipt);
    }
}

/* Answer an outcome: {"message":{...},"replayed":b[,"receipt":{...}]}
 * with 201 for something new (created) or 200; frees the outcome. */
static int reply_outcome(api_ctx *c, int result, chatpay_outcome *o, bool creates) {
    if (result != SB_OK) {
        result = reply_refusal(c, result, o);
        chatpay_outcome_clear(o);
        return result;
    }
    char *text = NULL;
    result = messenger_message_render(&o->message, &text, NULL);
    json_t *message = result == SB_OK ? json_loads(text, 0, NULL) : NULL;
    sb_free(text);
    json_t *body = message ? json_pack("{s:o, s:b}", "message", message, "replayed", o->replayed) : NULL;
    if (body && o->receipt.id) json_object_set_new(body, "receipt", api_payments_receipt_json(&o->receipt));
    bool replayed = o->replayed;
    chatpay_outcome_clear(o);
    if (!body) return result == SB_OK ? SB_ENOMEM : result;
    api_reply_json(c, creates && !replayed ? 201 : 200, body);
    return SB_OK;
}

/* ---- starting a payment in a chat ---- */

static int post_send(api_ctx *c) {
    int64_t chat_id, to, amount;
    const char *note, *key;
    if (chat_param(c, &chat_id) != SB_OK) return SB_OK;
    int result = api_body_int64(c, "to_user_id", true, 1, INT64_MAX, 0, &to);
    if (result == SB_OK) result = api_body_int64(c, "amount_minor", true, 1, INT64_MAX, 0, &amount);
    if (result == SB_OK) result = api_body_string(c, "note", false, SB_PAYOPS_NOTE_BYTES_MAX, &note);
    if (result == SB_OK) result = body_key(c, &key);
    if (result != SB_OK) return result;
    chatpay_ctx ctx;
    if (chatpay_context(c, &ctx) != SB_OK) return SB_OK;
    chatpay_outcome o;
    result = chatpay_send(&ctx, c->principal->user_id, chat_id, to, amount, note, key, c->now_ms, &o);
    return reply_outcome(c, result, &o, true);
}

static int post_request(api_ctx *c) {
    int64_t chat_id, from, amount, expires_at;
    const char *note, *key;
    if (chat_param(c, &chat_id) != SB_OK) return SB_OK;
    int result = api_body_int64(c, "from_user_id", true, 1, INT64_MAX, 0, &from);
    if (result == SB_OK) result = api_body_int64(c, "amount_minor", true, 1, INT64_MAX, 0, &amount);
    if (result == SB_OK) result = api_body_string(c, "note", false, SB_PAYOPS_NOTE_BYTES_MAX, &note);
    if (result == SB_OK) result = api_payments_body_expiry(c, &expires_at);
    if (result == SB_OK) result = body_key(c, &key);
    if (result != SB_OK) return result;
    chatpay_ctx ctx;
    if (chatpay_context(c, &ctx) != SB_OK) return SB_OK;
    chatpay_outcome o;
    result = chatpay_request(&ctx, c->principal->user_id, chat_id, from, amount, note, expires_at, key, c->now_ms, &o);
    return reply_outcome(c, result, &o, true);
}

static int post_split(api_ctx *c) {
    int64_t chat_id, expires_at;
    /* Read as many members as /api/splits takes, so that a split too large
     * for a chat is told so (413) by chatpay rather than as a malformed body. */
    int64_t members[SB_HTTP_SPLIT_MEMBERS_MAX], values[SB_HTTP_SPLIT_MEMBERS_MAX];
    const char *title = NULL, *key;
    payments_split_spec spec;
    if (chat_param(c, &chat_id) != SB_OK) return SB_OK;
    if (api_payments_split_body(c, SB_HTTP_SPLIT_MEMBERS_MAX, members, values, &spec, &title, &expires_at) != SB_OK)
        return SB_OK; /* answered */
    int result = body_key(c, &key);
    if (result != SB_OK) return result;
    chatpay_ctx ctx;
    if (chatpay_context(c, &ctx) != SB_OK) return SB_OK;
    chatpay_outcome o;
    result = chatpay_split(&ctx, c->principal->user_id, chat_id, members, spec.count, &spec, title, expires_at, key,
                           c->now_ms, &o);
    return reply_outcome(c, result, &o, true);
}

static int post_bill(api_ctx *c) {
    int64_t chat_id;
    const char *bill_id, *payment_id, *key;
    if (chat_param(c, &chat_id) != SB_OK) return SB_OK;
    int result = api_body_string(c, "bill_id", true, SB_PAYMENTS_INPUT_BYTES_MAX, &bill_id);
    if (result == SB_OK) result = api_body_string(c, "payment_id", true, SB_PAYMENTS_INPUT_BYTES_MAX, &payment_id);
    if (result == SB_OK) result = body_key(c, &key);
    if (result != SB_OK) return result;
    chatpay_ctx ctx;
    if (chatpay_context(c, &ctx) != SB_OK) return SB_OK;
    chatpay_outcome o;
    result = chatpay_bill(&ctx, c->principal->user_id, chat_id, bill_id, payment_id, key, c->now_ms, &o);
    return reply_outcome(c, result, &o, true);
}

static int post_topup(api_ctx *c) {
    int64_t chat_id, amount;
    const char *mobile, *key;
    if (chat_param(c, &chat_id) != SB_OK) return SB_OK;
    int result = api_body_string(c, "mobile", true, SB_PAYMENTS_INPUT_BYTES_MAX, &mobile);
    if (result == SB_OK) result = api_body_int64(c, "amount_minor", true, 1, INT64_MAX, 0, &amount);
    if (result == SB_OK) result = body_key(c, &key);
    if (result != SB_OK) return result;
    chatpay_ctx ctx;
    if (chatpay_context(c, &ctx) != SB_OK) return SB_OK;
    chatpay_outcome o;
    result = chatpay_topup(&ctx, c->principal->user_id, chat_id, mobile, amount, key, c->now_ms, &o);
    return reply_outcome(c, result, &o, true);
}

/* ---- acting on a payment message ---- */

static int post_pay(api_ctx *c) {
    int64_t chat_id, seq;
    const char *key;
    if (chat_param(c, &chat_id) != SB_OK || seq_param(c, &seq) != SB_OK) return SB_OK;
    int result = body_key(c, &key);
    if (result != SB_OK) return result;
    chatpay_ctx ctx;
    if (chatpay_context(c, &ctx) != SB_OK) return SB_OK;
    chatpay_outcome o;
    result = chatpay_pay(&ctx, c->principal->user_id, chat_id, seq, key, c->now_ms, &o);
    return reply_outcome(c, result, &o, false);
}

static int settle(api_ctx *c, bool decline) {
    int64_t chat_id, seq;
    if (chat_param(c, &chat_id) != SB_OK || seq_param(c, &seq) != SB_OK) return SB_OK;
    chatpay_ctx ctx;
    if (chatpay_context(c, &ctx) != SB_OK) return SB_OK;
    chatpay_outcome o;
    int result = decline ? chatpay_decline(&ctx, c->principal->user_id, chat_id, seq, c->now_ms, &o)
                         : chatpay_cancel(&ctx, c->principal->user_id, chat_id, seq, c->now_ms, &o);
    return reply_outcome(c, result, &o, false);
}

static int post_decline(api_ctx *c) { return settle(c, true); }
static int post_cancel(api_ctx *c) { return settle(c, false); }

static int get_payment(api_ctx *c) {
    int64_t chat_id, seq;
    if (chat_param(c, &chat_id) != SB_OK || seq_param(c, &seq) != SB_OK) return SB_OK;
    chatpay_ctx ctx;
    if (chatpay_context(c, &ctx) != SB_OK) return SB_OK;
    chatpay_outcome o;
    int result = chatpay_get(&ctx, c->principal->user_id, chat_id, seq, c->now_ms, &o);
    return reply_outcome(c, result, &o, false);
}

/* ---- notifications ---- */

static int put_notifications(api_ctx *c) {
    json_t *v = c->body ? json_object_get(c->body, "muted") : NULL;
    if (!json_is_boolean(v)) {
        api_reply_error(c, 400, "invalid", "field 'muted' must be true or false");
        return SB_OK;
    }
    bool muted = json_is_true(v);
    int result = messenger_official_mute(c->store, c->principal->user_id, muted);
    if (result != SB_OK) return result;
    api_reply_json(c, 200, json_pack("{s:b}", "muted", muted));
    return SB_OK;
}

void api_routes_chatpay(api_router *r) {
    const int customer = IDENTITY_ROLE_CUSTOMER;
    api_router_add(r, "POST", "/api/chats/:id/payments/send", customer, post_send);
    api_router_add(r, "POST", "/api/chats/:id/payments/request", customer, post_request);
    api_router_add(r, "POST", "/api/chats/:id/payments/split", customer, post_split);
    api_router_add(r, "POST", "/api/chats/:id/payments/bill", customer, post_bill);
    api_router_add(r, "POST", "/api/chats/:id/payments/topup", customer, post_topup);
    api_router_add(r, "GET", "/api/chats/:id/payments/:seq", customer, get_payment);
    api_router_add(r, "POST", "/api/chats/:id/payments/:seq/pay", customer, post_pay);
    api_router_add(r, "POST", "/api/chats/:id/payments/:seq/decline", customer, post_decline);
    api_router_add(r, "POST", "/api/chats/:id/payments/:seq/cancel", customer, post_cancel);
    api_router_add(r, "PUT", "/api/me/notifications", customer, put_notifications);
}
