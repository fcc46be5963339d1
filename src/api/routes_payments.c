/*
 * routes_payments.c - the money routes, a thin layer over payments/ops.h:
 * the wallet, resolving and paying a person by alias (a quote held under an
 * id, then the confirm of that quote), payment links, money
 * requests, group splits, bills, top-up, card-to-card, receipts, and the
 * admin's deposits and ledger check.  Every route that moves money debits
 * the wallet of the authenticated caller (payops never takes a payer from
 * the client).  Amounts are JSON integers in minor units.  How payops
 * errors become answers (see docs/API.md): SB_EINVAL 400 "invalid" (the
 * instrument's reason in the message), SB_ENOTFOUND 404, SB_ELIMIT 422 with
 * the limit verdict as code, SB_ECONFLICT 409 with the ledger result as code
 * (or "idempotency_conflict"), SB_EPERM 409 (403 for not_the_payer /
 * not_the_requester) with the request verdict as code, SB_EEXISTS 409
 * "already_paid"; a refused quote 409 with its verdict as code
 * (quote_expired, quote_changed, quote_used).
 */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "ledger/ledger.h"
#include "payments/ops.h"

/* The handler's payops context (the application context's, over the
 * thread's connection); answers 503 and returns SB_ECLOSED if the ledger is
 * not running. */
static int ops_ctx(api_ctx *c, payops_ctx *out) {
    if (sb_app_payments(c->app, c->store, out) != SB_OK) {
        api_reply_error(c, 503, "unavailable", "payments are not running on this server");
        return SB_ECLOSED;
    }
    return SB_OK;
}

/* ---- body fields ---- */

static int body_amount(api_ctx *c, const char *field, int64_t *out) {
    return api_body_int64(c, field, true, 1, INT64_MAX, 0, out);
}

static int body_key(api_ctx *c, const char **out) {
    return api_body_string(c, "idempotency_key", true, SB_PAYOPS_IDEM_KEY_BYTES_MAX, out);
}

static int body_bool(api_ctx *c, const char *field, bool dflt, bool *out) {
    json_t *v = c->body && json_is_object(c->body) ? json_object_get(c->body, field) : NULL;
    if (!v || json_is_null(v)) {
        *out = dflt;
        return SB_OK;
    }
    if (!json_is_boolean(v)) {
        api_reply_error(c, 400, "invalid", "field '%s' must be true or false", field);
        return SB_EINVAL;
    }
    *out = json_is_true(v);
    return SB_OK;
}

/* expires_in_s (optional) as an absolute time. */
static int body_expiry(api_ctx *c, int64_t *expires_at_ms_out) {
    int64_t seconds;
    int result = api_body_int64(c, "expires_in_s", false, 1, SB_HTTP_PAY_EXPIRES_IN_S_MAX,
                                SB_HTTP_PAY_EXPIRES_IN_S_DEFAULT, &seconds);
    if (result != SB_OK) return result;
    *expires_at_ms_out = c->now_ms + seconds * 1000;
    return SB_OK;
}

/* ---- errors ---- */

/* Answer a payops error with what `why` says (may be NULL); returns SB_OK
 * when answered, the error itself for the generic mapping otherwise. */
static int reply_ops_error(api_ctx *c, int result, const payops_receipt *why) {
    if (result != SB_OK && why && why->quote != PAYOPS_QUOTE_OK) {
        static const char *const messages[] = {"", "the quote has expired: quote again",
                                               "the quote no longer holds (payee or fee changed): quote again",
                                               "the quote was already confirmed under another idempotency_key"};
        api_reply_error(c, 409, payops_quote_verdict_name(why->quote), "%s",
                        (unsigned)why->quote < SB_ARRAY_LEN(messages) ? messages[why->quote] : "quote refused");
        return SB_OK;
    }
    switch (result) {
    case SB_EINVAL:
        if (why && why->reason != PAYMENTS_OK)
            api_reply_error(c, 400, "invalid", "%s: %s", payments_reason_name(why->reason),
                            payments_reason_text(why->reason));
        else
            api_reply_error(c, 400, "invalid", "the operation's input is not valid");
        return SB_OK;
    case SB_ENOTFOUND:
        api_reply_error(c, 404, "not_found", "no such alias, user, request or receipt");
        return SB_OK;
    case SB_ELIMIT:
        api_reply_error(c, 422,
                        why && why->limit != PAYMENTS_LIMIT_OK ? payments_limit_verdict_name(why->limit) : "limit",
                        "a payment limit would be exceeded");
        return SB_OK;
    case SB_ECONFLICT:
        if (why && why->ledger_result != LEDGER_OK)
            api_reply_error(c, 409, ledger_result_name(why->ledger_result), "the ledger refused: %s",
                            ledger_result_name(why->ledger_result));
        else
            api_reply_error(c, 409, "idempotency_conflict", "this idempotency_key was used for another operation");
        return SB_OK;
    case SB_EPERM: {
        payments_request_verdict v = why ? why->verdict : PAYMENTS_REQUEST_OK;
        bool who = v == PAYMENTS_REQUEST_NOT_THE_PAYER || v == PAYMENTS_REQUEST_NOT_THE_REQUESTER;
        api_reply_error(c, who ? 403 : 409, v != PAYMENTS_REQUEST_OK ? payments_request_verdict_name(v) : "refused",
                        "the request does not allow this");
        return SB_OK;
    }
    case SB_EEXISTS:
        api_reply_error(c, 409, "already_paid", "this bill was already paid");
        return SB_OK;
    default:
        return result;
    }
}

/* ---- JSON forms ---- */

static json_t *receipt_json(const payops_receipt *r) {
    json_t *o = json_pack("{s:I, s:s, s:s, s:I, s:I, s:s, s:s?, s:s, s:s, s:I}", "id", (json_int_t)r->id, "kind",
                          payops_kind_name(r->kind), "state", payops_receipt_state_name(r->state), "amount_minor",
                          (json_int_t)r->amount_minor, "fee_minor", (json_int_t)r->fee_minor, "counterparty",
                          r->counterparty, "masked_card", r->masked_card[0] ? r->masked_card : NULL, "reference",
                          r->reference, "transfer_id", r->transfer_id, "created_at_ms", (json_int_t)r->created_at_ms);
    if (!o) return NULL;
    char tracking[PAYOPS_TRACKING_DIGITS + 1];
    payops_tracking_code(r->transfer_id, tracking);
    json_object_set_new(o, "tracking", json_string(tracking));
    if (r->fee_transfer_id[0]) json_object_set_new(o, "fee_transfer_id", json_string(r->fee_transfer_id));
    if (r->settle_transfer_id[0]) json_object_set_new(o, "settle_transfer_id", json_string(r->settle_transfer_id));
    if (r->rrn[0]) json_object_set_new(o, "rrn", json_string(r->rrn));
    if (r->request_id) json_object_set_new(o, "request_id", json_integer(r->request_id));
    return o;
}

/* 201 for a receipt made by this request, 200 for one an earlier request
 * with the same idempotency key made (or, for a money request, the payment
 * under another key that paid it).  Of concurrent requests with one key
 * exactly one answers 201: the executor says which made the receipt. */
static int reply_receipt(api_ctx *c, int result, const payops_receipt *r) {
    if (result != SB_OK) return reply_ops_error(c, result, r);
    json_t *o = receipt_json(r);
    if (!o) return SB_ENOMEM;
    bool replay = r->replayed;
    json_object_set_new(o, "replayed", json_boolean(replay));
    api_reply_json(c, replay ? 200 : 201, o);
    return SB_OK;
}

static json_t *payee_json(const payops_payee *p) {
    json_t *o = json_pack("{s:s, s:s?}", "display_name", p->display_name, "masked_card",
                          p->masked_card[0] ? p->masked_card : NULL);
    if (o && p->fixed_amount_minor) json_object_set_new(o, "fixed_amount_minor", json_integer(p->fixed_amount_minor));
    return o;
}

static json_t *quote_json(const payops_quote *q) {
    return json_pack("{s:o, s:I, s:I, s:I}", "payee", payee_json(&q->payee), "amount_minor",
                     (json_int_t)q->amount_minor, "fee_minor", (json_int_t)q->fee_minor, "total_minor",
                     (json_int_t)q->total_minor);
}

/* A held quote: the quote with its id and expiry. */
static json_t *held_quote_json(const payops_held_quote *h) {
    json_t *o = quote_json(&h->quote);
    if (o && (json_object_set_new(o, "quote_id", json_string(h->id)) != 0 ||
              json_object_set_new(o, "expires_at_ms", json_integer(h->expires_at_ms)) != 0)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *request_json(const payops_request *r) {
    json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:s, s:I, s:s}", "id", (json_int_t)r->id, "requester_id",
                          (json_int_t)r->req.requester_id, "payer_id", (json_int_t)r->req.payer_id, "amount_minor",
                          (json_int_t)r->req.amount_minor, "state", payments_request_state_name(r->req.state),
                          "expires_at_ms", (json_int_t)r->req.expires_at_ms, "note", r->note);
    if (o && r->split_id) json_object_set_new(o, "split_id", json_integer(r->split_id));
    return o;
}

/* ---- wallet, aliases, pay a person ---- */

static int get_wallet(api_ctx *c) {
    payops_ctx ctx;
    int result = ops_ctx(c, &ctx);
    if (result != SB_OK) return SB_OK;
    ledger_id id;
    int64_t available;
    result = payops_wallet_ensure(&ctx, c->principal->user_id, c->now_ms, &id);
    if (result == SB_OK) result = payops_wallet_balance(&ctx, c->principal->user_id, &available);
    if (result != SB_OK) return reply_ops_error(c, result, NULL);
    api_reply_json(c, 200, json_pack("{s:I, s:s}", "available_minor", (json_int_t)available, "currency", "IRR"));
    return SB_OK;
}

static int post_resolve(api_ctx *c) {
    payops_ctx ctx;
    const char *alias;
    int result = api_body_string(c, "alias", true, SB_PAYMENTS_INPUT_BYTES_MAX, &alias);
    if (result != SB_OK) return result;
    if (ops_ctx(c, &ctx) != SB_OK) return SB_OK;
    payops_payee payee;
    result = payops_resolve(&ctx, c->principal->user_id, alias, c->now_ms, &payee);
    if (result != SB_OK) return reply_ops_error(c, result, NULL);
    api_reply_json(c, 200, payee_json(&payee));
    return SB_OK;
}

static int post_quote(api_ctx *c) {
    payops_ctx ctx;
    const char *alias;
    int64_t amount;
    int result = api_body_string(c, "alias", true, SB_PAYMENTS_INPUT_BYTES_MAX, &alias);
    if (result == SB_OK) result = body_amount(c, "amount_minor", &amount);
    if (result != SB_OK) return result;
    if (ops_ctx(c, &ctx) != SB_OK) return SB_OK;
    payops_held_quote held;
    payops_receipt why = {0};
    result = payops_pay_quote_hold(&ctx, c->principal->user_id, alias, amount, c->now_ms, &held, &why.limit);
    if (result != SB_OK) return reply_ops_error(c, result, &why);
    json_t *o = held_quote_json(&held);
    if (!o) return SB_ENOMEM;
    api_reply_json(c, 200, o);
    return SB_OK;
}

/* Pay the quote named by quote_id (what the payer was shown), or, the
 * older shape, whoever alias names now for amount_minor. */
static int post_pay(api_ctx *c) {
    payops_ctx ctx;
    const char *quote_id, *alias = NULL, *key;
    int64_t amount = 0;
    int result = api_body_string(c, "quote_id", false, PAYOPS_QUOTE_ID_CHARS, &quote_id);
    if (result == SB_OK && quote_id) {
        json_t *a = json_object_get(c->body, "alias"), *m = json_object_get(c->body, "amount_minor");
        if ((a && !json_is_null(a)) || (m && !json_is_null(m))) {
            api_reply_error(c, 400, "invalid", "give quote_id, or alias and amount_minor, not both");
            return SB_OK;
        }
    } else if (result == SB_OK) {
        result = api_body_string(c, "alias", true, SB_PAYMENTS_INPUT_BYTES_MAX, &alias);
        if (result == SB_OK) result = body_amount(c, "amount_minor", &amount);
    }
    if (result == SB_OK) result = body_key(c, &key);
    if (result != SB_OK) return result;
    if (ops_ctx(c, &ctx) != SB_OK) return SB_OK;
    payops_receipt r = {0};
    if (quote_id)
        result = payops_pay_confirm_quote(&ctx, c->principal->user_id, quote_id, key, c->now_ms, &r);
    else
        result = payops_pay_confirm(&ctx, c->principal->user_id, alias, amount, key, c->now_ms, &r);
    if (quote_id && result == SB_EINVAL) {
        api_reply_error(c, 400, "invalid", "field 'quote_id' must be the 32 hex digits a quote answered");
        return SB_OK;
    }
    return reply_receipt(c, result, &r);
}

static int post_link(api_ctx *c) {
    payops_ctx ctx;
    int64_t amount, expires_at;
    bool single_use;
    int result = api_body_int64(c, "amount_minor", false, 0, INT64_MAX, 0, &amount);
    if (result == SB_OK) result = body_expiry(c, &expires_at);
    if (result == SB_OK) result = body_bool(c, "single_use", false, &single_use);
    if (result != SB_OK) return result;
    if (ops_ctx(c, &ctx) != SB_OK) return SB_OK;
    char token[PAYOPS_LINK_TOKEN_CHARS + 1];
    result = payops_link_create(&ctx, c->principal->user_id, amount, expires_at, !single_use, c->now_ms, token);
    if (result != SB_OK) return reply_ops_error(c, result, NULL);
    api_reply_json(c, 201,
                   json_pack("{s:s, s:I, s:I, s:b}", "token", token, "amount_minor", (json_int_t)amount,
                             "expires_at_ms", (json_int_t)expires_at, "single_use", single_use));
    return SB_OK;
}

/* ---- money requests ---- */

static int reply_request(api_ctx *c, payops_ctx *ctx, int64_t id, int status) {
    payops_request req;
    int result = payops_request_get(ctx, c->principal->user_id, id, &req);
    if (result != SB_OK) return reply_ops_error(c, result, NULL);
    api_reply_json(c, status, request_json(&req));
    return SB_OK;
}

static int post_request(api_ctx *c) {
    payops_ctx ctx;
    const char *alias, *note;
    int64_t amount, expires_at;
    int result = api_body_string(c, "payer_alias", true, SB_PAYMENTS_INPUT_BYTES_MAX, &alias);
    if (result == SB_OK) result = body_amount(c, "amount_minor", &amount);
    if (result == SB_OK) result = api_body_string(c, "note", false, SB_PAYOPS_NOTE_BYTES_MAX, &note);
    if (result == SB_OK) result = body_expiry(c, &expires_at);
    if (result != SB_OK) return result;
    if (ops_ctx(c, &ctx) != SB_OK) return SB_OK;
    int64_t id;
    result = payops_request_create(&ctx, c->principal->user_id, alias, amount, note, expires_at, c->now_ms, &id);
    if (result != SB_OK) return reply_ops_error(c, result, NULL);
    return reply_request(c, &ctx, id, 201);
}

static int get_request(api_ctx *c) {
    payops_ctx ctx;
    int64_t id;
    if (api_param_int64(c, "id", &id) != SB_OK) return SB_ENOTFOUND;
    if (ops_ctx(c, &ctx) != SB_OK) return SB_OK;
    return reply_request(c, &ctx, id, 200);
}

static int post_request_pay(api_ctx *c) {
    payops_ctx ctx;
    const char *key;
    int64_t id;
    if (api_param_int64(c, "id", &id) != SB_OK) return SB_ENOTFOUND;
    int result = body_key(c, &key);
    if (result != SB_OK) return result;
    if (ops_ctx(c, &ctx) != SB_OK) return SB_OK;
    payops_receipt r = {0};
    result = payops_request_pay(&ctx, c->principal->user_id, id, key, c->now_ms, &r);
    return reply_receipt(c, result, &r);
}

static int request_settle(api_ctx *c, bool decline) {
    payops_ctx ctx;
    int64_t id;
    if (api_param_int64(c, "id", &id) != SB_OK) return SB_ENOTFOUND;
    if (ops_ctx(c, &ctx) != SB_OK) return SB_OK;
    payops_receipt why = {0};
    int result = decline ? payops_request_decline(&ctx, c->principal->user_id, id, c->now_ms, &why.verdict)
                         : payops_request_cancel(&ctx, c->principal->user_id, id, c->now_ms, &why.verdict);
    if (result != SB_OK) return reply_ops_error(c, result, &why);
    return reply_request(c, &ctx, id, 200);
}

static int post_request_decline(api_ctx *c) { return request_settle(c, true); }

static int post_request_cancel(api_ctx *c) { return request_settle(c, false); }

/* ---- splits ---- */

static const char *const split_modes[] = {"equal", "amounts", "weights", "percent_bp"};

/* An array field of integers into out (count_out); max entries. */
static int body_int_array(api_ctx *c, const char *field, int64_t min, int64_t *out, size_t max, size_t *count_out) {
    json_t *v = c->body && json_is_object(c->body) ? json_object_get(c->body, field) : NULL;
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > max) {
        api_reply_error(c, 400, "invalid", "field '%s' must be an array of 1 to %zu integers", field, max);
        return SB_EINVAL;
    }
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item) {
        if (!json_is_integer(item) || json_integer_value(item) < min) {
            api_reply_error(c, 400, "invalid", "field '%s' item %zu must be an integer >= %lld", field, i,
                            (long long)min);
            return SB_EINVAL;
        }
        out[i] = (int64_t)json_integer_value(item);
    }
    *count_out = json_array_size(v);
    return SB_OK;
}

/* The members field: 1..max entries, each a user id (integer >= 1) or an
 * alias (a string: @username, mobile number or e-mail).  Checks the shape
 * only; *count_out the entries.  Answers 400 naming the entry. */
static int body_members_shape(api_ctx *c, size_t max, size_t *count_out) {
    json_t *v = c->body && json_is_object(c->body) ? json_object_get(c->body, "members") : NULL;
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > max) {
        api_reply_error(c, 400, "invalid", "field 'members' must be an array of 1 to %zu user ids or aliases", max);
        return SB_EINVAL;
    }
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item) {
        bool id = json_is_integer(item) && json_integer_value(item) >= 1;
        bool alias = json_is_string(item) && json_string_length(item) >= 1 &&
                     json_string_length(item) <= SB_PAYMENTS_INPUT_BYTES_MAX;
        if (!id && !alias) {
            api_reply_error(c, 400, "invalid",
                            "field 'members' item %zu must be a user id (integer >= 1) or an alias (@username, "
                            "mobile number or e-mail, 1 to %d bytes)",
                            i, SB_PAYMENTS_INPUT_BYTES_MAX);
            return SB_EINVAL;
        }
    }
    *count_out = json_array_size(v);
    return SB_OK;
}

/* The members as user ids, aliases resolved to the customers they name
 * (body_members_shape checked the shape).  An alias that names nobody is
 * 404, one that is no alias 400, both naming the entry. */
static int body_members_resolve(api_ctx *c, const payops_ctx *ctx, int64_t *out) {
    json_t *v = json_object_get(c->body, "members");
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item) {
        if (json_is_integer(item)) {
            out[i] = (int64_t)json_integer_value(item);
            continue;
        }
        const char *alias = json_string_value(item);
        int result = payops_split_member_resolve(ctx, c->principal->user_id, alias, c->now_ms, &out[i]);
        if (result == SB_ENOTFOUND) {
            api_reply_error(c, 404, "not_found", "field 'members' item %zu: no customer has the alias '%s'", i, alias);
            return SB_ENOTFOUND;
        }
        if (result == SB_EINVAL) {
            api_reply_error(c, 400, "invalid",
                            "field 'members' item %zu: '%s' is not an @username, mobile number or e-mail", i, alias);
            return SB_EINVAL;
        }
        if (result != SB_OK) return result;
    }
    return SB_OK;
}

int api_payments_split_body(api_ctx *c, size_t members_max, int64_t *members, int64_t *values,
                            payments_split_spec *spec, const char **title, int64_t *expires_at) {
    size_t member_count = 0, value_count = 0;
    int64_t subtotal, tax, tip, remainder_share;
    const char *mode_name;
    int result = body_members_shape(c, members_max, &member_count);
    /* User ids now; aliases (0 here) are resolved by the caller that takes them. */
    for (size_t i = 0; result == SB_OK && i < member_count; i++) {
        json_t *item = json_array_get(json_object_get(c->body, "members"), i);
        members[i] = json_is_integer(item) ? (int64_t)json_integer_value(item) : 0;
    }
    if (result == SB_OK) result = api_body_int64(c, "subtotal_minor", true, 0, INT64_MAX, 0, &subtotal);
    if (result == SB_OK) result = api_body_int64(c, "tax_minor", false, 0, INT64_MAX, 0, &tax);
    if (result == SB_OK) result = api_body_int64(c, "tip_minor", false, 0, INT64_MAX, 0, &tip);
    if (result == SB_OK) result = api_body_string(c, "mode", false, 16, &mode_name);
    if (result == SB_OK) result = api_body_string(c, "title", false, SB_PAYOPS_NOTE_BYTES_MAX, title);
    if (result == SB_OK)
        result = api_body_int64(c, "remainder_share", false, 0, (int64_t)members_max - 1, -1, &remainder_share);
    if (result == SB_OK) result = body_expiry(c, expires_at);
    if (result != SB_OK) return result;
    *spec =
        (payments_split_spec){.count = member_count, .subtotal_minor = subtotal, .tax_minor = tax, .tip_minor = tip};
    int mode = -1;
    for (size_t i = 0; i < SB_ARRAY_LEN(split_modes); i++)
        if (strcmp(mode_name ? mode_name : "equal", split_modes[i]) == 0) mode = (int)i;
    if (mode < 0) {
        api_reply_error(c, 400, "invalid", "field 'mode' must be equal, amounts, weights or percent_bp");
        return SB_EINVAL;
    }
    spec->mode = (payments_split_mode)mode;
    if (spec->mode != PAYMENTS_SPLIT_EQUAL) {
        result = body_int_array(c, "values", 0, values, members_max, &value_count);
        if (result != SB_OK) return result;
        if (value_count != member_count) {
            api_reply_error(c, 400, "invalid", "field 'values' must have one entry per member");
            return SB_EINVAL;
        }
        spec->values = values;
    }
    if (remainder_share >= 0) {
        if ((size_t)remainder_share >= member_count) {
            api_reply_error(c, 400, "invalid", "field 'remainder_share' must index a member");
            return SB_EINVAL;
        }
        spec->rule = PAYMENTS_REMAINDER_TO_SHARE;
        spec->remainder_share = (size_t)remainder_share;
    }
    return SB_OK;
}

static int post_split(api_ctx *c) {
    payops_ctx ctx;
    int64_t members[SB_HTTP_SPLIT_MEMBERS_MAX], values[SB_HTTP_SPLIT_MEMBERS_MAX];
    int64_t expires_at;
    const char *title = NULL;
    payments_split_spec spec;
    int result = api_payments_split_body(c, SB_HTTP_SPLIT_MEMBERS_MAX, members, values, &spec, &title, &expires_at);
    if (result != SB_OK) return SB_OK; /* answered */
    if (ops_ctx(c, &ctx) != SB_OK) return SB_OK;
    result = body_members_resolve(c, &ctx, members);
    if (result == SB_ENOTFOUND || result == SB_EINVAL) return SB_OK; /* answered */
    if (result != SB_OK) return result;
    int64_t split_id;
    result = payops_split_create(&ctx, c->principal->user_id, members, spec.count, &spec, title ? title : "",
                                 expires_at, c->now_ms, &split_id);
    if (result != SB_OK) return reply_ops_error(c, result, NULL);
    api_reply_json(c, 201, json_pack("{s:I}", "id", (json_int_t)split_id));
    return SB_OK;
}

static int get_split(api_ctx *c) {
    payops_ctx ctx;
    int64_t id, total;
    if (api_param_int64(c, "id", &id) != SB_OK) return SB_ENOTFOUND;
    if (ops_ctx(c, &ctx) != SB_OK) return SB_OK;
    payops_split_member *m = sb_malloc(sizeof *m * SB_PAYMENTS_SPLIT_SHARES_MAX);
    if (!m) return SB_ENOMEM;
    size_t count;
    int result = payops_split_status(&ctx, c->principal->user_id, id, m, SB_PAYMENTS_SPLIT_SHARES_MAX, &count, &total);
    if (result != SB_OK) {
        sb_free(m);
        return reply_ops_error(c, result, NULL);
    }
    json_t *list = json_array();
    for (size_t i = 0; list && i < count; i++)
        json_array_append_new(list,
                              json_pack("{s:I, s:I, s:I, s:s}", "member_id", (json_int_t)m[i].member_id, "share_minor",
                                        (json_int_t)m[i].share_minor, "request_id", (json_int_t)m[i].request_id,
                                        "state", payments_request_state_name(m[i].state)));
    sb_free(m);
    if (!list) return SB_ENOMEM;
    api_reply_json(
        c, 200, json_pack("{s:I, s:I, s:o}", "id", (json_int_t)id, "total_minor", (json_int_t)total, "members", list));
    return SB_OK;
}

/* ---- bills, top-up, card-to-card ---- */

static int post_bill(api_ctx *c) {
    payops_ctx ctx;
    const char *bill_id, *payment_id, *key;
    int result = api_body_string(c, "bill_id", true, SB_PAYMENTS_INPUT_BYTES_MAX, &bill_id);
    if (result == SB_OK) result = api_body_string(c, "payment_id", true, SB_PAYMENTS_INPUT_BYTES_MAX, &payment_id);
    if (result == SB_OK) result = body_key(c, &key);
    if (result != SB_OK) return result;
    if (ops_ctx(c, &ctx) != SB_OK) return SB_OK;
    payops_receipt r = {0};
    result = payops_bill_pay(&ctx, c->principal->user_id, bill_id, payment_id, key, c->now_ms, &r);
    return reply_receipt(c, result, &r);
}

static int post_topup(api_ctx *c) {
    payops_ctx ctx;
    const char *mobile, *key;
    int64_t amount;
    int result = api_body_string(c, "mobile", true, SB_PAYMENTS_INPUT_BYTES_MAX, &mobile);
    if (result == SB_OK) result = body_amount(c, "amount_minor", &amount);
    if (result == SB_OK) result = body_key(c, &key);
    if (result != SB_OK) return result;
    if (ops_ctx(c, &ctx) != SB_OK) return SB_OK;
    payops_receipt r = {0};
    result = payops_topup(&ctx, c->principal->user_id, mobile, amount, key, c->now_ms, &r);
    return reply_receipt(c, result, &r);
}

/* Card-to-card needs a switch: 503 without one. */
static int c2c_ctx(api_ctx *c, payops_ctx *ctx) {
    if (ops_ctx(c, ctx) != SB_OK) return SB_ECLOSED;
    if (!ctx->sw) {
        api_reply_error(c, 503, "unavailable", "card-to-card is not available on this server");
        return SB_ECLOSED;
    }
    return SB_OK;
}

/* card-to-card refuses a payer whose card on file is blocked (payops_card_block). */
static int reply_card_blocked(api_ctx *c) {
    api_reply_error(c, 409, "card_blocked", "your card is blocked: card-to-card is refused");
    return SB_OK;
}

static int post_c2c_quote(api_ctx *c) {
    payops_ctx ctx;
    const char *card;
    int64_t amount;
    int result = api_body_string(c, "dest_card", true, SB_PAYMENTS_INPUT_BYTES_MAX, &card);
    if (result == SB_OK) result = body_amount(c, "amount_minor", &amount);
    if (result != SB_OK) return result;
    if (c2c_ctx(c, &ctx) != SB_OK) return SB_OK;
    payops_quote quote;
    payops_receipt why = {0};
    result = payops_c2c_quote(&ctx, c->principal->user_id, card, amount, c->now_ms, &quote, &why.limit);
    if (result == SB_EPERM) return reply_card_blocked(c);
    if (result != SB_OK) return reply_ops_error(c, result, &why);
    api_reply_json(c, 200, quote_json(&quote));
    return SB_OK;
}

static int post_c2c(api_ctx *c) {
    payops_ctx ctx;
    const char *card, *key;
    int64_t amount;
    int result = api_body_string(c, "dest_card", true, SB_PAYMENTS_INPUT_BYTES_MAX, &card);
    if (result == SB_OK) result = body_amount(c, "amount_minor", &amount);
    if (result == SB_OK) result = body_key(c, &key);
    if (result != SB_OK) return result;
    if (c2c_ctx(c, &ctx) != SB_OK) return SB_OK;
    payops_receipt r = {0};
    result = payops_c2c_send(&ctx, c->principal->user_id, card, amount, key, c->now_ms, &r);
    if (result == SB_EPERM) return reply_card_blocked(c);
    return reply_receipt(c, result, &r);
}

/* ---- receipts ---- */

static int get_receipts(api_ctx *c) {
    payops_ctx ctx;
    char after_text[24];
    int64_t after = 0;
    int result = api_query_get(c, "after", after_text, sizeof after_text);
    if (result == SB_OK && (sb_parse_int64(after_text, &after) != SB_OK || after < 0)) {
        api_reply_error(c, 400, "invalid", "query 'after' must be a receipt id");
        return SB_OK;
    }
    if (result != SB_OK && result != SB_ENOTFOUND) {
        api_reply_error(c, 400, "invalid", "query 'after' must be a receipt id");
        return SB_OK;
    }
    if (ops_ctx(c, &ctx) != SB_OK) return SB_OK;
    payops_receipt *page = sb_malloc(sizeof *page * SB_HTTP_RECEIPTS_PAGE_MAX);
    if (!page) return SB_ENOMEM;
    size_t count = 0;
    result = payops_receipt_list(&ctx, c->principal->user_id, after, page, SB_HTTP_RECEIPTS_PAGE_MAX, &count);
    json_t *list = result == SB_OK ? json_array() : NULL;
    for (size_t i = 0; list && i < count; i++)
        json_array_append_new(list, receipt_json(&page[i]));
    sb_free(page);
    if (result != SB_OK) return result;
    if (!list) return SB_ENOMEM;
    api_reply_json(c, 200, json_pack("{s:o, s:b}", "receipts", list, "more", count == SB_HTTP_RECEIPTS_PAGE_MAX));
    return SB_OK;
}

static int get_receipt(api_ctx *c) {
    payops_ctx ctx;
    int64_t id;
    if (api_param_int64(c, "id", &id) != SB_OK) return SB_ENOTFOUND;
    if (ops_ctx(c, &ctx) != SB_OK) return SB_OK;
    payops_receipt r;
    int result = payops_receipt_get(&ctx, c->principal->user_id, id, &r);
    if (result != SB_OK) return reply_ops_error(c, result, NULL);
    api_reply_json(c, 200, receipt_json(&r));
    return SB_OK;
}

/* ---- staff ---- */

static int post_deposit(api_ctx *c) {
    payops_ctx ctx;
    const char *key;
    int64_t user_id, amount;
    int result = api_body_int64(c, "user_id", true, 1, INT64_MAX, 0, &user_id);
    if (result == SB_OK) result = body_amount(c, "amount_minor", &amount);
    if (result == SB_OK) result = body_key(c, &key);
    if (result != SB_OK) return result;
    if (ops_ctx(c, &ctx) != SB_OK) return SB_OK;
    payops_receipt r = {0};
    result = payops_deposit(&ctx, user_id, amount, key, c->now_ms, &r);
    return reply_receipt(c, result, &r);
}

/* POST starts the check off the event loop (verify_jobs.c): 202 with the
 * job to poll; GET of the job: its state, and its report once done. */
static int post_ledger_verify(api_ctx *c) {
    int64_t id = 0;
    int result = api_verify_job_start(api_ctx_server(c)->verify, c->now_ms, &id);
    if (result != SB_OK) return result;
    char location[64];
    snprintf(location, sizeof location, "/api/admin/ledger/verify/%lld", (long long)id);
    api_set_header(c, "location", location);
    api_reply_json(c, 202, json_pack("{s:I, s:s}", "job_id", (json_int_t)id, "state", "running"));
    return SB_OK;
}

static int get_ledger_verify_job(api_ctx *c) {
    int64_t id;
    int result = api_param_int64(c, "id", &id);
    if (result != SB_OK) return result;
    api_verify_job job;
    result = api_verify_job_get(api_ctx_server(c)->verify, id, &job);
    if (result != SB_OK) return result;
    static const char *const states[] = {"", "running", "done", "failed"};
    json_t *o = json_pack("{s:I, s:s, s:I}", "job_id", (json_int_t)job.id, "state", states[job.state], "started_at_ms",
                          (json_int_t)job.started_at_ms);
    if (o && job.state != API_VERIFY_RUNNING) {
        json_object_set_new(o, "finished_at_ms", json_integer(job.finished_at_ms));
        const ledger_verify_report *report = &job.report;
        json_t *r = json_pack("{s:b, s:I, s:I, s:s}", "ok", job.status == SB_OK && report->ok, "accounts",
                              (json_int_t)report->accounts, "transfers", (json_int_t)report->transfers, "problem",
                              report->problem);
        if (r && report->has_broken_account) {
            char hex[LEDGER_ID_HEX_BYTES];
            ledger_id_format(report->broken_account, hex);
            json_object_set_new(r, "broken_account", json_string(hex));
        }
        json_object_set_new(o, "result", r);
    }
    api_reply_json(c, 200, o);
    return SB_OK;
}

/* ---- shared with the other money routes (api_int.h) ---- */

int api_payments_ctx(api_ctx *c, payops_ctx *out) { return ops_ctx(c, out); }

int api_payments_reply_error(api_ctx *c, int result, const payops_receipt *why) {
    return reply_ops_error(c, result, why);
}

json_t *api_payments_receipt_json(const payops_receipt *r) { return receipt_json(r); }

int api_payments_body_expiry(api_ctx *c, int64_t *expires_at_ms_out) { return body_expiry(c, expires_at_ms_out); }

void api_routes_payments(api_router *r) {
    const int customer = IDENTITY_ROLE_CUSTOMER;
    api_router_add(r, "GET", "/api/wallet", customer, get_wallet);
    api_router_add(r, "POST", "/api/payments/resolve", customer, post_resolve);
    api_router_add(r, "POST", "/api/payments/quote", customer, post_quote);
    api_router_add(r, "POST", "/api/payments/pay", customer, post_pay);
    api_router_add(r, "POST", "/api/payment-links", customer, post_link);
    api_router_add(r, "POST", "/api/requests", customer, post_request);
    api_router_add(r, "GET", "/api/requests/:id", customer, get_request);
    api_router_add(r, "POST", "/api/requests/:id/pay", customer, post_request_pay);
    api_router_add(r, "POST", "/api/requests/:id/decline", customer, post_request_decline);
    api_router_add(r, "POST", "/api/requests/:id/cancel", customer, post_request_cancel);
    api_router_add(r, "POST", "/api/splits", customer, post_split);
    api_router_add(r, "GET", "/api/splits/:id", customer, get_split);
    api_router_add(r, "POST", "/api/bills/pay", customer, post_bill);
    api_router_add(r, "POST", "/api/topups", customer, post_topup);
    api_router_add(r, "POST", "/api/card-transfers/quote", customer, post_c2c_quote);
    api_router_add(r, "POST", "/api/card-transfers", customer, post_c2c);
    api_router_add(r, "GET", "/api/receipts", customer, get_receipts);
    api_router_add(r, "GET", "/api/receipts/:id", customer, get_receipt);
    api_router_add(r, "POST", "/api/admin/deposits", IDENTITY_ROLE_ADMIN, post_deposit);
    api_router_add(r, "POST", "/api/admin/ledger/verify", IDENTITY_ROLE_ADMIN, post_ledger_verify);
    api_router_add(r, "GET", "/api/admin/ledger/verify/:id", IDENTITY_ROLE_ADMIN, get_ledger_verify_job);
}
