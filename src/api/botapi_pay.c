/*
 * botapi_pay.c - payments through bots, as Bale offers them over the Bot
 * API: a bot sends an invoice (sendInvoice: title, description, payload,
 * currency IRR, prices); a member of the chat sees it as a message, opens it
 * (GET /api/bot-invoices/:id) and confirms paying from the wallet (POST
 * /api/bot-invoices/:id/pay {"confirm":true}); the amount is HELD in the
 * payer's wallet (a pending ledger transfer to the bot's wallet,
 * payops_merchant_hold) and the bot gets a pre_checkout_query; it must
 * answer (answerPreCheckoutQuery) within SB_BOTAPI_PRECHECKOUT_DEADLINE_MS:
 * ok posts the hold and the bot gets a message with successful_payment;
 * a refusal, or no answer in time (the sender thread's sweep), voids it and
 * the money is back.  Staff refund a paid invoice
 * (POST /api/admin/bot-invoices/:id/refund).  The payer's devices hear every
 * change as {"type":"bot.invoice","invoice":{...}}.
 *
 * Order that keeps money right: the invoice's state moves first (one
 * conditional update, so a late answer and the deadline sweep cannot both
 * win), marked unsettled; then the ledger settles (idempotent); then the
 * invoice is marked settled.  A crash between leaves it unsettled, and the
 * sweep settles it the way its state says.
 */
#include <stdio.h>
#include <string.h>

#include "api/botapi_int.h"
#include "app/app.h"
#include "payments/ops.h"

static json_t *invoice_json(const messenger_botapi_invoice *inv) {
    json_t *prices = json_loads(inv->prices_json, 0, NULL);
    json_t *out = json_pack("{s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:I, s:o, s:s}", "id", (json_int_t)inv->id, "bot_id",
                            (json_int_t)inv->bot_id, "chat_id", (json_int_t)inv->chat_id, "seq", (json_int_t)inv->seq,
                            "title", inv->title, "description", inv->description, "currency", inv->currency,
                            "total_minor", (json_int_t)inv->total_minor, "prices", prices ? prices : json_array(),
                            "state", messenger_invoice_state_name(inv->state));
    if (out && inv->payer_id) json_object_set_new(out, "payer_id", json_integer(inv->payer_id));
    if (out && inv->receipt_id) json_object_set_new(out, "receipt_id", json_integer(inv->receipt_id));
    /* the ledger side of the state is done (a hold voided or posted): moves come first, settles after */
    if (out) json_object_set_new(out, "settled", json_boolean(inv->settled));
    if (out && inv->state == MESSENGER_INVOICE_CHECKOUT)
        json_object_set_new(out, "deadline_ms", json_integer(inv->deadline_ms));
    return out;
}

/* Tell the payer's devices where the invoice stands. */
static void notify_payer(api_server *srv, store *s, int64_t id) {
    messenger_botapi_invoice inv;
    if (messenger_botapi_invoice_get(s, id, &inv) != SB_OK || !inv.payer_id) return;
    json_t *note = json_pack("{s:s, s:o}", "type", "bot.invoice", "invoice", invoice_json(&inv));
    char *text = note ? json_dumps(note, JSON_COMPACT) : NULL;
    json_decref(note);
    if (text && api_ws_send_to_user(srv, inv.payer_id, text, strlen(text)) != SB_OK) {
        /* no open socket: the payer reads the state with GET /api/bot-invoices/:id */
    }
    free(text); /* jansson's allocation */
}

/* Add a payment update to the bot's inbox (not yet announced: wake_bot does that). */
static int bot_update(store *s, int64_t bot_id, json_t *event_take, int64_t *id_out) {
    char *text = event_take ? json_dumps(event_take, JSON_COMPACT) : NULL;
    json_decref(event_take);
    if (!text) return SB_ENOMEM;
    int result = messenger_bot_update_add(s, bot_id, text, sb_now_ms(), id_out);
    free(text); /* jansson's allocation */
    return result;
}

/* Settle the ledger side of the invoice's state (paid: post; refused, expired: void) and mark it settled. */
static int invoice_settle(api_server *srv, store *s, const messenger_botapi_invoice *inv) {
    if (inv->settled || !inv->receipt_id) return SB_OK;
    if (inv->state != MESSENGER_INVOICE_PAID && inv->state != MESSENGER_INVOICE_REFUSED &&
        inv->state != MESSENGER_INVOICE_EXPIRED)
        return SB_OK;
    payops_ctx ctx;
    int result = sb_app_payments(srv->app, s, &ctx);
    payops_receipt r;
    if (result == SB_OK)
        result = payops_merchant_settle(&ctx, inv->receipt_id, inv->state == MESSENGER_INVOICE_PAID, &r);
    if (result == SB_OK) result = messenger_botapi_invoice_settled(s, inv->id, 0);
    if (result != SB_OK)
        sb_log(SB_LOG_ERROR, "botapi.invoice", "invoice %lld (%s): cannot settle receipt %lld: %s", (long long)inv->id,
               messenger_invoice_state_name(inv->state), (long long)inv->receipt_id, sb_strerror(result));
    return result;
}

/* Move checkout -> to (paid, refused, expired) and settle; SB_ECONFLICT when another move won. */
static int invoice_finish(api_server *srv, store *s, int64_t id, int to, int64_t now_ms) {
    int result = messenger_botapi_invoice_move(s, id, MESSENGER_INVOICE_CHECKOUT, to, false, 0, 0, 0, -1, now_ms);
    messenger_botapi_invoice inv;
    if (result == SB_OK) result = messenger_botapi_invoice_get(s, id, &inv);
    if (result == SB_OK) result = invoice_settle(srv, s, &inv);
    if (result == SB_OK) notify_payer(srv, s, id);
    return result;
}

void api_botapi_invoices_expire(api_server *srv, store *s, int64_t now_ms) {
    int64_t ids[32];
    size_t n = 0;
    if (messenger_botapi_invoices_due(s, now_ms, ids, SB_ARRAY_LEN(ids), &n) != SB_OK) return;
    for (size_t i = 0; i < n; i++) {
        messenger_botapi_invoice inv;
        if (messenger_botapi_invoice_get(s, ids[i], &inv) != SB_OK) continue;
        if (inv.state == MESSENGER_INVOICE_CHECKOUT) {
            int result = invoice_finish(srv, s, inv.id, MESSENGER_INVOICE_EXPIRED, now_ms);
            if (result == SB_OK)
                sb_log(SB_LOG_INFO, "botapi.invoice", "invoice %lld: bot %lld did not answer in time: hold voided",
                       (long long)inv.id, (long long)inv.bot_id);
        } else if (invoice_settle(srv, s, &inv) == SB_OK) {
            notify_payer(srv, s, inv.id);
        }
    }
}

/* ---- what invoices add to Bot API objects ---- */

void api_botapi_invoice_fields(json_t *message_out, json_t *invoice) {
    json_object_del(message_out, "text");
    json_object_set_new(message_out, "invoice",
                        json_pack("{s:O, s:O, s:s, s:O, s:O}", "title", json_object_get(invoice, "title"),
                                  "description", json_object_get(invoice, "description"), "start_parameter", "",
                                  "currency", json_object_get(invoice, "currency"), "total_amount",
                                  json_object_get(invoice, "total_amount")));
}

int api_botapi_payment_kind(json_t *event, const char **field_out) {
    const char *kind = json_string_value(json_object_get(event, "kind"));
    if (kind && strcmp(kind, "pre_checkout_query") == 0) {
        *field_out = "pre_checkout_query";
        return API_BOTAPI_PRE_CHECKOUT_QUERY;
    }
    if (kind && strcmp(kind, "successful_payment") == 0) {
        *field_out = "message";
        return API_BOTAPI_MESSAGE;
    }
    return 0;
}

json_t *api_botapi_payment_update(store *s, int64_t bot_id, const messenger_botapi_chat *chat, json_t *event,
                                  int64_t update_id) {
    messenger_botapi_invoice inv;
    if (messenger_botapi_invoice_get(s, json_integer_value(json_object_get(event, "invoice_id")), &inv) != SB_OK ||
        inv.bot_id != bot_id || !inv.payer_id)
        return NULL;
    json_t *from = api_botapi_user(s, inv.payer_id);
    if (!from) return NULL;
    const char *kind = json_string_value(json_object_get(event, "kind"));
    if (strcmp(kind, "pre_checkout_query") == 0) {
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long)update_id);
        return json_pack("{s:s, s:o, s:s, s:I, s:s}", "id", id, "from", from, "currency", inv.currency, "total_amount",
                         (json_int_t)inv.total_minor, "invoice_payload", inv.payload);
    }
    json_t *chat_obj = api_botapi_chat(s, chat);
    char charge[24];
    snprintf(charge, sizeof charge, "%lld", (long long)inv.receipt_id);
    json_t *paid = json_pack("{s:s, s:I, s:s, s:s, s:s}", "currency", inv.currency, "total_amount",
                             (json_int_t)inv.total_minor, "invoice_payload", inv.payload, "telegram_payment_charge_id",
                             charge, "provider_payment_charge_id", charge);
    if (!chat_obj || !paid) {
        json_decref(from);
        json_decref(chat_obj);
        json_decref(paid);
        return NULL;
    }
    return json_pack("{s:I, s:o, s:o, s:I, s:o}", "message_id", (json_int_t)inv.seq, "from", from, "chat", chat_obj,
                     "date", json_integer_value(json_object_get(event, "date")), "successful_payment", paid);
}

/* ---- methods ---- */

int api_botapi_send_invoice(botapi_call *call) {
    messenger_botapi_chat chat;
    const char *title, *description, *payload, *currency;
    json_t *prices = NULL;
    if (api_botapi_resolve_chat(call, "chat_id", &chat) != SB_OK ||
        api_botapi_param_string(call, "title", true, SB_BOTAPI_INVOICE_TITLE_BYTES_MAX, &title) != SB_OK ||
        api_botapi_param_string(call, "description", true, SB_BOTAPI_INVOICE_DESCRIPTION_BYTES_MAX, &description) !=
            SB_OK ||
        api_botapi_param_string(call, "payload", true, SB_BOTAPI_INVOICE_PAYLOAD_BYTES_MAX, &payload) != SB_OK ||
        api_botapi_param_string(call, "currency", true, 3, &currency) != SB_OK ||
        api_botapi_param_json(call, "prices", &prices) != SB_OK)
        return SB_EINVAL;
    if (strcmp(currency, "IRR") != 0) {
        json_decref(prices);
        api_botapi_reply_fail(call->c, 400, 0, "Bad Request: CURRENCY_INVALID (only IRR)");
        return SB_EINVAL;
    }
    int64_t total = 0;
    bool ok = json_is_array(prices) && json_array_size(prices) >= 1 &&
              json_array_size(prices) <= SB_BOTAPI_INVOICE_PRICES_MAX;
    json_t *clean = json_array();
    for (size_t i = 0; ok && clean && i < json_array_size(prices); i++) {
        json_t *p = json_array_get(prices, i);
        json_t *label = json_object_get(p, "label"), *amount = json_object_get(p, "amount");
        ok = json_is_object(p) && json_is_string(label) && json_string_length(label) >= 1 &&
             json_string_length(label) <= SB_BOTAPI_INVOICE_TITLE_BYTES_MAX &&
             messenger_title_check(json_string_value(label)) == SB_OK && json_is_integer(amount) &&
             json_integer_value(amount) > 0 && sb_add_int64(total, json_integer_value(amount), &total) == SB_OK;
        if (ok) json_array_append_new(clean, json_pack("{s:O, s:O}", "label", label, "amount", amount));
    }
    json_decref(prices);
    if (!ok || !clean) {
        json_decref(clean);
        api_botapi_reply_fail(call->c, 400, 0,
                              "Bad Request: prices must be 1 to %d LabeledPrice {\"label\":String,\"amount\":Integer "
                              "> 0} (IRR has no minor unit: amounts are rials)",
                              SB_BOTAPI_INVOICE_PRICES_MAX);
        return SB_EINVAL;
    }
    if (messenger_title_check(title) != SB_OK || messenger_text_check(description, strlen(description)) != SB_OK ||
        payload[0] == '\0') {
        json_decref(clean);
        api_botapi_reply_fail(call->c, 400, 0, "Bad Request: title, description or payload is empty or invalid");
        return SB_EINVAL;
    }
    if (api_botapi_rate_limited(call, &chat) != SB_OK) {
        json_decref(clean);
        return SB_OK;
    }
    messenger_botapi_invoice inv = {.bot_id = call->bot_id, .chat_id = chat.chat_id, .total_minor = total};
    snprintf(inv.title, sizeof inv.title, "%s", title);
    snprintf(inv.description, sizeof inv.description, "%s", description);
    snprintf(inv.payload, sizeof inv.payload, "%s", payload);
    snprintf(inv.currency, sizeof inv.currency, "%s", currency);
    char *prices_text = json_dumps(clean, JSON_COMPACT);
    json_decref(clean);
    if (!prices_text || strlen(prices_text) >= sizeof inv.prices_json) {
        free(prices_text);
        api_botapi_reply_fail(call->c, 400, 0, "Bad Request: prices are too long");
        return SB_EINVAL;
    }
    snprintf(inv.prices_json, sizeof inv.prices_json, "%s", prices_text);
    free(prices_text);
    int64_t id = 0;
    int result = messenger_botapi_invoice_create(call->s, &inv, call->c->now_ms, &id);
    if (result != SB_OK) return api_botapi_fail_internal(call, result);
    /* the message members see: title and description, the invoice in its payload */
    json_t *message_payload =
        json_pack("{s:{s:I, s:s, s:s, s:s, s:I}}", "invoice", "id", (json_int_t)id, "title", title, "description",
                  description, "currency", currency, "total_amount", (json_int_t)total);
    char *payload_text = message_payload ? json_dumps(message_payload, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(message_payload);
    char text[SB_BOTAPI_INVOICE_TITLE_BYTES_MAX + SB_BOTAPI_INVOICE_DESCRIPTION_BYTES_MAX + 2];
    snprintf(text, sizeof text, "%s\n%s", title, description);
    messenger_send_request req = {.chat_id = chat.chat_id,
                                  .sender_id = call->bot_id,
                                  .kind = MESSENGER_MSG_KEYBOARD,
                                  .text = text,
                                  .payload_json = payload_text};
    messenger_message m = {0};
    messenger_events events = {0};
    result = payload_text ? messenger_send(call->s, &req, call->c->now_ms, &m, NULL, &events) : SB_ENOMEM;
    free(payload_text);
    if (result == SB_OK) result = messenger_botapi_invoice_attach(call->s, id, m.seq);
    if (result != SB_OK) {
        messenger_events_clear(&events);
        messenger_message_clear(&m);
        if (messenger_botapi_invoice_delete(call->s, id) != SB_OK)
            sb_log(SB_LOG_WARN, "botapi.invoice", "invoice %lld: left open without a message", (long long)id);
        if (result == SB_EPERM)
            return (api_botapi_reply_fail(call->c, 403, 0, "Forbidden: bot can't send messages to this chat"),
                    SB_EINVAL);
        if (result == SB_EINVAL || result == SB_ELIMIT)
            return (api_botapi_reply_fail(call->c, 400, 0, "Bad Request: title or description is invalid"), SB_EINVAL);
        return api_botapi_fail_internal(call, result);
    }
    api_botapi_push(call, &events);
    json_t *out = api_botapi_message_of(call->s, &chat, &m);
    messenger_message_clear(&m);
    if (!out) return api_botapi_fail_internal(call, SB_ENOMEM);
    api_botapi_reply_ok(call->c, out);
    return SB_OK;
}

int api_botapi_answer_pre_checkout(botapi_call *call) {
    const char *id_text, *error_message = NULL;
    json_t *okv = json_object_get(call->params, "ok");
    if (api_botapi_param_string(call, "pre_checkout_query_id", true, 24, &id_text) != SB_OK ||
        api_botapi_param_string(call, "error_message", false, 255, &error_message) != SB_OK)
        return SB_EINVAL;
    bool ok = false;
    if (!okv || json_is_null(okv)) {
        api_botapi_reply_fail(call->c, 400, 0, "Bad Request: ok is empty");
        return SB_EINVAL;
    }
    if (api_botapi_param_bool(call, "ok", &ok) != SB_OK) return SB_EINVAL;
    if (!ok && (!error_message || !error_message[0])) {
        api_botapi_reply_fail(call->c, 400, 0, "Bad Request: error_message is empty");
        return SB_EINVAL;
    }
    int64_t query_id = 0;
    json_t *ev = NULL;
    if (api_botapi_update_event(call, id_text, &query_id, &ev) != SB_OK) return SB_EINVAL;
    int64_t invoice_id = json_integer_value(json_object_get(ev, "invoice_id"));
    const char *kind = json_string_value(json_object_get(ev, "kind"));
    bool is_query = kind && strcmp(kind, "pre_checkout_query") == 0;
    json_decref(ev);
    messenger_botapi_invoice inv;
    int result = is_query ? messenger_botapi_invoice_get(call->s, invoice_id, &inv) : SB_ENOTFOUND;
    if (result != SB_OK && result != SB_ENOTFOUND) return api_botapi_fail_internal(call, result);
    if (result != SB_OK || inv.bot_id != call->bot_id || (inv.query_update_id && inv.query_update_id != query_id) ||
        inv.state != MESSENGER_INVOICE_CHECKOUT || sb_now_ms() > inv.deadline_ms) {
        api_botapi_reply_fail(call->c, 400, 0,
                              "Bad Request: query is too old and response timeout expired or query ID is invalid");
        return SB_EINVAL;
    }
    int64_t now = sb_now_ms();
    api_server *srv = call->c->request->thread->server;
    result = invoice_finish(srv, call->s, inv.id, ok ? MESSENGER_INVOICE_PAID : MESSENGER_INVOICE_REFUSED, now);
    if (result == SB_ECONFLICT) {
        api_botapi_reply_fail(call->c, 400, 0,
                              "Bad Request: query is too old and response timeout expired or query ID is invalid");
        return SB_EINVAL;
    }
    if (result != SB_OK) return api_botapi_fail_internal(call, result);
    if (ok) {
        int64_t update_id = 0;
        result =
            bot_update(call->s, call->bot_id,
                       json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "type", "bot.payment", "kind", "successful_payment",
                                 "invoice_id", (json_int_t)inv.id, "chat_id", (json_int_t)inv.chat_id, "user_id",
                                 (json_int_t)inv.payer_id, "date", (json_int_t)(now / 1000)),
                       &update_id);
        if (result == SB_OK)
            api_botapi_wake_bot(srv, call->bot_id);
        else
            sb_log(SB_LOG_WARN, "botapi.invoice",
                   "invoice %lld paid; the successful_payment update was not recorded: %s", (long long)inv.id,
                   sb_strerror(result));
    }
    api_botapi_reply_ok(call->c, json_true());
    return SB_OK;
}

/* ---- the customer's and staff's routes ---- */

/* The invoice of :id if the caller is a member of its chat; answers 404 otherwise. */
static int invoice_for_member(api_ctx *c, messenger_botapi_invoice *inv) {
    int64_t id = 0;
    int result =
        api_param_int64(c, "id", &id) == SB_OK ? messenger_botapi_invoice_get(c->store, id, inv) : SB_ENOTFOUND;
    messenger_chat chat;
    if (result == SB_OK) result = messenger_chat_get(c->store, c->principal->user_id, inv->chat_id, &chat);
    if (result == SB_ENOTFOUND || result == SB_EPERM) {
        api_reply_error(c, 404, "not_found", "no such invoice");
        return SB_ENOTFOUND;
    }
    return result;
}

/* GET /api/bot-invoices/:id -> {"invoice":{...}}: what a member is asked to pay. */
static int get_invoice(api_ctx *c) {
    messenger_botapi_invoice inv;
    int result = invoice_for_member(c, &inv);
    if (result == SB_ENOTFOUND) return SB_OK;
    if (result != SB_OK) return result;
    api_reply_json(c, 200, json_pack("{s:o}", "invoice", invoice_json(&inv)));
    return SB_OK;
}

/* POST /api/bot-invoices/:id/pay {"confirm":true} -> 202 {"invoice":{..."state":"checkout"}} */
static int post_invoice_pay(api_ctx *c) {
    if (!c->body || !json_is_true(json_object_get(c->body, "confirm"))) {
        api_reply_error(c, 400, "invalid", "field 'confirm' must be true (the payer confirms the amount shown)");
        return SB_OK;
    }
    messenger_botapi_invoice inv;
    int result = invoice_for_member(c, &inv);
    if (result == SB_ENOTFOUND) return SB_OK;
    if (result != SB_OK) return result;
    int64_t payer = c->principal->user_id;
    if (inv.state != MESSENGER_INVOICE_OPEN) {
        api_reply_error(c, 409, "conflict", "the invoice is %s", messenger_invoice_state_name(inv.state));
        return SB_OK;
    }
    payops_ctx ctx;
    if (api_payments_ctx(c, &ctx) != SB_OK) return SB_OK;
    char key[48], reference[48];
    snprintf(key, sizeof key, "bot-invoice-%lld", (long long)inv.id);
    snprintf(reference, sizeof reference, "invoice %lld", (long long)inv.id);
    payops_receipt r;
    result = payops_merchant_hold(&ctx, payer, inv.bot_id, inv.total_minor, reference, key, c->now_ms, &r);
    if (result != SB_OK) return api_payments_reply_error(c, result, &r);
    /* the hold stands: the invoice goes to checkout (one winner), then the bot is asked */
    int64_t deadline = c->now_ms + SB_BOTAPI_PRECHECKOUT_DEADLINE_MS;
    result = messenger_botapi_invoice_move(c->store, inv.id, MESSENGER_INVOICE_OPEN, MESSENGER_INVOICE_CHECKOUT, true,
                                           payer, r.id, 0, deadline, c->now_ms);
    if (result != SB_OK) {
        payops_receipt voided;
        if (payops_merchant_settle(&ctx, r.id, false, &voided) != SB_OK)
            sb_log(SB_LOG_ERROR, "botapi.invoice", "invoice %lld: hold %lld not voided", (long long)inv.id,
                   (long long)r.id);
        if (result == SB_ECONFLICT) {
            api_reply_error(c, 409, "conflict", "the invoice is being paid or was paid");
            return SB_OK;
        }
        return result;
    }
    int64_t query_id = 0;
    result = bot_update(c->store, inv.bot_id,
                        json_pack("{s:s, s:s, s:I, s:I, s:I}", "type", "bot.payment", "kind", "pre_checkout_query",
                                  "invoice_id", (json_int_t)inv.id, "chat_id", (json_int_t)inv.chat_id, "user_id",
                                  (json_int_t)payer),
                        &query_id);
    /* the query's id goes on the invoice before the bot is woken to read it */
    if (result == SB_OK)
        result = messenger_botapi_invoice_move(c->store, inv.id, MESSENGER_INVOICE_CHECKOUT, MESSENGER_INVOICE_CHECKOUT,
                                               true, 0, 0, query_id, -1, c->now_ms);
    if (result == SB_OK) api_botapi_wake_bot(c->request->thread->server, inv.bot_id);
    if (result != SB_OK) /* the bot cannot answer a query it never got: the deadline voids the hold */
        sb_log(SB_LOG_WARN, "botapi.invoice", "invoice %lld: pre-checkout query not recorded: %s", (long long)inv.id,
               sb_strerror(result));
    result = messenger_botapi_invoice_get(c->store, inv.id, &inv);
    if (result != SB_OK) return result;
    api_reply_json(c, 202, json_pack("{s:o}", "invoice", invoice_json(&inv)));
    return SB_OK;
}

/* POST /api/admin/bot-invoices/:id/refund -> {"invoice":{..."state":"refunded"},"receipt":{...}} */
static int post_invoice_refund(api_ctx *c) {
    int64_t id = 0;
    messenger_botapi_invoice inv;
    int result =
        api_param_int64(c, "id", &id) == SB_OK ? messenger_botapi_invoice_get(c->store, id, &inv) : SB_ENOTFOUND;
    if (result == SB_ENOTFOUND) {
        api_reply_error(c, 404, "not_found", "no such invoice");
        return SB_OK;
    }
    if (result != SB_OK) return result;
    if (inv.state != MESSENGER_INVOICE_PAID || !inv.settled) {
        api_reply_error(c, 409, "conflict", "only a paid invoice can be refunded (this one is %s)",
                        messenger_invoice_state_name(inv.state));
        return SB_OK;
    }
    payops_ctx ctx;
    if (api_payments_ctx(c, &ctx) != SB_OK) return SB_OK;
    payops_receipt r;
    result = payops_merchant_refund(&ctx, inv.bot_id, inv.receipt_id, c->now_ms, &r);
    if (result != SB_OK) return api_payments_reply_error(c, result, &r);
    result = messenger_botapi_invoice_move(c->store, inv.id, MESSENGER_INVOICE_PAID, MESSENGER_INVOICE_REFUNDED, true,
                                           0, 0, 0, -1, c->now_ms);
    if (result == SB_OK) result = messenger_botapi_invoice_settled(c->store, inv.id, r.id);
    if (result == SB_OK) result = messenger_botapi_invoice_get(c->store, inv.id, &inv);
    if (result != SB_OK) return result;
    sb_log(SB_LOG_INFO, "botapi.refund", "staff %lld refunded invoice %lld (receipt %lld)",
           (long long)c->principal->user_id, (long long)inv.id, (long long)r.id);
    notify_payer(c->request->thread->server, c->store, inv.id);
    api_reply_json(c, 200,
                   json_pack("{s:o, s:o}", "invoice", invoice_json(&inv), "receipt", api_payments_receipt_json(&r)));
    return SB_OK;
}

void api_routes_botapi_pay(api_router *r) {
    api_router_add(r, "GET", "/api/bot-invoices/:id", IDENTITY_ROLE_CUSTOMER, get_invoice);
    api_router_add(r, "POST", "/api/bot-invoices/:id/pay", IDENTITY_ROLE_CUSTOMER, post_invoice_pay);
    api_router_add(r, "POST", "/api/admin/bot-invoices/:id/refund", IDENTITY_ROLE_ADMIN, post_invoice_refund);
}
