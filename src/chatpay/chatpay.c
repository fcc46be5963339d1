/*
 * chatpay.c - payments inside chats (see chatpay.h): membership checks,
 * the link rows of migration 0410 that make every call exactly-once, the
 * payment message's payload (built here from what payops says, validated
 * and stored by the messenger), bringing a message up to date with its
 * request or split, and the bank's notices.
 *
 * The order of every operation: check the chat (members, kinds, blocks)
 * before anything moves; then the payments step (idempotent by itself);
 * then the message (idempotent by its client id); then the link row.  A
 * retry re-runs the steps, each of which finds its earlier result.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatpay/chatpay.h"
#include "identity/identity.h"

/* ---- names ---------------------------------------------------------------- */

static const char *const refusal_names[] = {NULL,
                                            "not_a_member",
                                            "payee_not_a_member",
                                            "not_a_payment_chat",
                                            "blocked",
                                            "not_the_payer",
                                            "not_the_requester",
                                            "no_such_payment",
                                            "not_payable",
                                            "idempotency_conflict",
                                            "self",
                                            "invalid",
                                            "too_many_members"};

const char *chatpay_refusal_name(int refusal) {
    return refusal > 0 && (size_t)refusal < SB_ARRAY_LEN(refusal_names) ? refusal_names[refusal] : NULL;
}

enum { KIND_SEND = 0, KIND_REQUEST, KIND_SPLIT, KIND_BILL, KIND_TOPUP, KIND_COUNT };
static const char *const kind_names[KIND_COUNT] = {"send", "request", "split", "bill", "topup"};

static int kind_parse(const char *name) {
    for (int i = 0; name && i < KIND_COUNT; i++)
        if (strcmp(name, kind_names[i]) == 0) return i;
    return -1;
}

void chatpay_outcome_clear(chatpay_outcome *out) {
    if (!out) return;
    messenger_message_clear(&out->message);
    memset(out, 0, sizeof *out);
}

static int refuse(chatpay_outcome *out, int refusal, int code) {
    out->refusal = refusal;
    return code;
}

/* ---- small helpers ---------------------------------------------------------- */

static void push(const chatpay_ctx *ctx, const messenger_events *events) {
    if (ctx->push && events && events->count) ctx->push(ctx->ops.s, events, ctx->push_arg);
}

/* The idempotency key rules are payops' own (chatpay passes the key on). */
static bool key_ok(const char *key) { return payops_idem_key_check(key) == SB_OK; }

/* An optional note: NULL/"" or message text rules within the payops cap. */
static bool note_ok(const char *note) {
    if (!note || !note[0]) return true;
    size_t len = strnlen(note, SB_PAYOPS_NOTE_BYTES_MAX + 1);
    return len <= SB_PAYOPS_NOTE_BYTES_MAX && messenger_title_check(note) == SB_OK;
}

/* "1,250,000" */
static void amount_text(int64_t v, char out[32]) {
    char digits[24];
    snprintf(digits, sizeof digits, "%lld", (long long)(v < 0 ? 0 : v));
    size_t n = strlen(digits), o = 0;
    for (size_t i = 0; i < n && o + 2 < 32; i++) {
        if (i && (n - i) % 3 == 0) out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

/* How a user is named in notices: display name, else @username. */
static void user_name(store *s, int64_t user_id, char *out, size_t cap) {
    identity_principal p;
    bool found = identity_user_get(s, user_id, &p) == SB_OK;
    if (found && p.display_name[0])
        snprintf(out, cap, "%s", p.display_name);
    else if (found && p.username[0])
        snprintf(out, cap, "@%s", p.username);
    else
        snprintf(out, cap, "a member");
}

/* Money moves only between customers: SB_ENOTFOUND for anyone else (bots,
 * staff).  Payments are then asked by user id, which payments checks
 * against the messenger's reach rules (fellow members share the chat). */
static int customer_check(store *s, int64_t user_id) {
    identity_principal p;
    int result = identity_user_get(s, user_id, &p);
    if (result != SB_OK) return result;
    if (p.role != IDENTITY_ROLE_CUSTOMER || !p.phone[0]) return SB_ENOTFOUND;
    return SB_OK;
}

/* The caller's chat: a member, and a 1:1 chat or a group. */
static int chat_of_member(const chatpay_ctx *ctx, int64_t user_id, int64_t chat_id, messenger_chat *chat,
                          chatpay_outcome *out) {
    int result = messenger_chat_get(ctx->ops.s, user_id, chat_id, chat);
    if (result == SB_EPERM) return refuse(out, CHATPAY_REFUSED_NOT_MEMBER, SB_EPERM);
    if (result != SB_OK) return result;
    if (chat->kind != MESSENGER_CHAT_DIRECT && chat->kind != MESSENGER_CHAT_GROUP)
        return refuse(out, CHATPAY_REFUSED_CHAT_KIND, SB_EPERM);
    return SB_OK;
}

/* Another user named by the caller must be a member of the same chat, not
 * the caller, and in a 1:1 chat neither may have blocked the other. */
static int counterpart_check(const chatpay_ctx *ctx, const messenger_chat *chat, int64_t actor_id, int64_t user_id,
                             chatpay_outcome *out) {
    if (user_id == actor_id) return refuse(out, CHATPAY_REFUSED_SELF, SB_EINVAL);
    messenger_chat theirs;
    int result = messenger_chat_get(ctx->ops.s, user_id, chat->id, &theirs);
    if (result == SB_EPERM) return refuse(out, CHATPAY_REFUSED_PAYEE_NOT_MEMBER, SB_EPERM);
    if (result != SB_OK) return result;
    if (chat->kind == MESSENGER_CHAT_DIRECT) {
        bool a = false, b = false;
        result = messenger_is_blocked(ctx->ops.s, actor_id, user_id, &a);
        if (result == SB_OK) result = messenger_is_blocked(ctx->ops.s, user_id, actor_id, &b);
        if (result != SB_OK) return result;
        if (a || b) return refuse(out, CHATPAY_REFUSED_BLOCKED, SB_EPERM);
    }
    return SB_OK;
}

/* ---- the bank's notices -------------------------------------------------------- */

/* ---- link rows ------------------------------------------------------------------ */

typedef struct {
    int64_t id, actor_id, chat_id, seq, request_id, split_id, receipt_id, expires_at_ms;
    int kind;   /* KIND_* */
    int status; /* messenger_payment_status */
    bool same_fingerprint;
} link_row;

#define LINK_COLUMNS                                                                                                   \
    "id, actor_id, chat_id, coalesce(seq, 0), kind, fingerprint, coalesce(request_id, 0), coalesce(split_id, 0), "     \
    "coalesce(receipt_id, 0), status, coalesce(expires_at_ms, 0)"

/* Step a prepared link query into *out; fingerprint (may be NULL) compared. */
static int link_step(store_stmt *st, const char *fingerprint, link_row *out) {
    memset(out, 0, sizeof *out);
    int result = store_step(st);
    if (result == STORE_ROW) {
        out->id = store_col_int64(st, 0);
        out->actor_id = store_col_int64(st, 1);
        out->chat_id = store_col_int64(st, 2);
        out->seq = store_col_int64(st, 3);
        out->kind = kind_parse(store_col_text(st, 4));
        const char *fp = store_col_text(st, 5);
        out->same_fingerprint = fingerprint && fp && strcmp(fp, fingerprint) == 0;
        out->request_id = store_col_int64(st, 6);
        out->split_id = store_col_int64(st, 7);
        out->receipt_id = store_col_int64(st, 8);
        int status = 0;
        result = messenger_payment_status_parse(store_col_text(st, 9), &status);
        out->status = status;
        out->expires_at_ms = store_col_int64(st, 10);
        if (result == SB_OK && out->kind < 0) result = SB_ECORRUPT;
        if (result == SB_EINVAL) result = SB_ECORRUPT;
    } else if (result == STORE_DONE) {
        result = SB_ENOTFOUND;
    }
    store_stmt_done(st);
    return result;
}

static int link_by_key(store *s, int64_t actor_id, const char *key, const char *fingerprint, link_row *out) {
    store_stmt *st;
    int result = store_query(s, &st, "SELECT " LINK_COLUMNS " FROM chatpay_links WHERE actor_id = ? AND idem_key = ?",
                             "it", actor_id, key);
    return result == SB_OK ? link_step(st, fingerprint, out) : result;
}

static int link_by_message(store *s, int64_t chat_id, int64_t seq, link_row *out) {
    store_stmt *st;
    int result = store_query(s, &st, "SELECT " LINK_COLUMNS " FROM chatpay_links WHERE chat_id = ? AND seq = ?", "ii",
                             chat_id, seq);
    return result == SB_OK ? link_step(st, NULL, out) : result;
}

static int link_by_id(store *s, int64_t id, link_row *out) {
    store_stmt *st;
    int result = store_query(s, &st, "SELECT " LINK_COLUMNS " FROM chatpay_links WHERE id = ?", "i", id);
    return result == SB_OK ? link_step(st, NULL, out) : result;
}

/* Write what a link knows now (zero ids stay NULL). */
static int link_save(store *s, const link_row *l) {
    return store_exec(
        s,
        "UPDATE chatpay_links SET seq = nullif(?, 0), request_id = nullif(?, 0), split_id = nullif(?, 0), "
        "receipt_id = nullif(?, 0), status = ? WHERE id = ?",
        "iiiiti", l->seq, l->request_id, l->split_id, l->receipt_id, messenger_payment_status_name(l->status), l->id);
}

/* Find the link of (actor, key), or make it.  SB_ECONFLICT with the
 * refusal when the key was used for other arguments. */
static int link_claim(store *s, int64_t actor_id, const char *key, int64_t chat_id, int kind, const char *fingerprint,
                      int64_t expires_at_ms, int64_t now_ms, link_row *out, chatpay_outcome *outcome) {
    int result = link_by_key(s, actor_id, key, fingerprint, out);
    if (result == SB_ENOTFOUND) {
        result = store_exec(s,
                            "INSERT INTO chatpay_links(actor_id, idem_key, chat_id, kind, fingerprint, status, "
                            "expires_at_ms, created_at_ms) VALUES (?, ?, ?, ?, ?, 'pending', nullif(?, 0), ?)",
                            "itittii", actor_id, key, chat_id, kind_names[kind], fingerprint, expires_at_ms, now_ms);
        /* SB_EEXISTS: a concurrent retry with the same key made it first. */
        if (result == SB_OK || result == SB_EEXISTS) result = link_by_key(s, actor_id, key, fingerprint, out);
    }
    if (result == SB_OK && !out->same_fingerprint) return refuse(outcome, CHATPAY_REFUSED_KEY_REUSED, SB_ECONFLICT);
    return result;
}

/* A fingerprint of a call's arguments (sb_buf, max SB_MESSENGER_PAYLOAD_BYTES_MAX). */
static int fingerprint_make(sb_buf *b, const char *fmt, ...) SB_PRINTF(2, 3);
static int fingerprint_make(sb_buf *b, const char *fmt, ...) {
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof text) return SB_ELIMIT;
    return sb_buf_append(b, text, (size_t)n);
}

/* ---- payloads and messages --------------------------------------------------------- */

typedef struct {
    int64_t user_id, amount_minor, request_id;
    int status;
} share_row;

static int status_of_request(payments_request_state state) {
    switch (state) {
    case PAYMENTS_REQUEST_PENDING:
        return MESSENGER_PAYMENT_PENDING;
    case PAYMENTS_REQUEST_PAID:
        return MESSENGER_PAYMENT_PAID;
    case PAYMENTS_REQUEST_EXPIRED:
        return MESSENGER_PAYMENT_EXPIRED;
    default:
        return MESSENGER_PAYMENT_DECLINED; /* declined, or cancelled by the requester */
    }
}

/* The messenger's rule for a message with shares (messenger_payment_update). */
static int shares_status(const share_row *shares, size_t count) {
    bool all_paid = true, any_declined = false;
    for (size_t i = 0; i < count; i++) {
        if (shares[i].status == MESSENGER_PAYMENT_PENDING) return MESSENGER_PAYMENT_PENDING;
        if (shares[i].status != MESSENGER_PAYMENT_PAID) all_paid = false;
        if (shares[i].status == MESSENGER_PAYMENT_DECLINED) any_declined = true;
    }
    return all_paid ? MESSENGER_PAYMENT_PAID : any_declined ? MESSENGER_PAYMENT_DECLINED : MESSENGER_PAYMENT_EXPIRED;
}

/* The shares of a request or split link as payops has them now. */
static int shares_load(const chatpay_ctx *ctx, const link_row *l, share_row *out, size_t *count_out,
                       int64_t *total_out) {
    *count_out = 0;
    if (l->kind == KIND_REQUEST) {
        payops_request r;
        int result = payops_request_get(&ctx->ops, l->actor_id, l->request_id, &r);
        if (result != SB_OK) return result;
        out[0] = (share_row){.user_id = r.req.payer_id,
                             .amount_minor = r.req.amount_minor,
                             .request_id = r.id,
                             .status = status_of_request(r.req.state)};
        *count_out = 1;
        *total_out = r.req.amount_minor;
        return SB_OK;
    }
    if (l->kind != KIND_SPLIT) return SB_EINVAL;
    payops_split_member members[SB_CHATPAY_SPLIT_MEMBERS_MAX];
    size_t n = 0;
    int result =
        payops_split_status(&ctx->ops, l->actor_id, l->split_id, members, SB_ARRAY_LEN(members), &n, total_out);
    if (result != SB_OK) return result;
    for (size_t i = 0; i < n; i++)
        out[i] = (share_row){.user_id = members[i].member_id,
                             .amount_minor = members[i].share_minor,
                             .request_id = members[i].request_id,
                             .status = status_of_request(members[i].state)};
    *count_out = n;
    return SB_OK;
}

static json_t *shares_json(const share_row *shares, size_t count) {
    json_t *list = json_array();
    for (size_t i = 0; list && i < count; i++) {
        json_t *o =
            json_pack("{s:I, s:I, s:s}", "user_id", (json_int_t)shares[i].user_id, "amount_minor",
                      (json_int_t)shares[i].amount_minor, "status", messenger_payment_status_name(shares[i].status));
        if (!o || json_array_append_new(list, o) != 0) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

/* Dump a payload object (taken) as text owned by the caller (sb_free). */
static int payload_take(json_t *root, char **out) {
    *out = NULL;
    if (!root) return SB_ENOMEM;
    char *text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(root);
    if (!text) return SB_ENOMEM;
    *out = sb_strdup(text);
    free(text);
    return *out ? SB_OK : SB_ENOMEM;
}

/* The common part of every payload. */
static json_t *payload_base(int kind, const char *transfer_id, int64_t amount_minor, int status) {
    return json_pack("{s:s, s:s, s:s, s:I, s:s, s:s}", "type", "payment", "kind", kind_names[kind], "transfer_id",
                     transfer_id, "amount_minor", (json_int_t)amount_minor, "currency", "IRR", "status",
                     messenger_payment_status_name(status));
}

static void payload_set_int(json_t *root, const char *key, int64_t v) {
    if (root && v) json_object_set_new(root, key, json_integer((json_int_t)v));
}

static void payload_set_text(json_t *root, const char *key, const char *v) {
    if (root && v && v[0]) json_object_set_new(root, key, json_string(v));
}

/* A notice from the official account; failures are logged (the money
 * already moved, or the request exists: a lost notice undoes nothing).
 * text is the bank's own sentence and never holds a customer's words: a
 * note or title the customer wrote (note, may be NULL or "") travels apart,
 * in the payload as {"quote":{"author_id":N,"text":...}}, for clients to
 * show as that customer's quoted words, never as the bank speaking. */
static void notify(const chatpay_ctx *ctx, int64_t user_id, const char *text, int64_t chat_id, int64_t seq,
                   int64_t author_id, const char *note, int64_t now_ms) {
    json_t *root =
        json_pack("{s:s, s:I, s:I}", "type", "chatpay", "chat_id", (json_int_t)chat_id, "seq", (json_int_t)seq);
    if (root && note && note[0])
        json_object_set_new(root, "quote", json_pack("{s:I, s:s}", "author_id", (json_int_t)author_id, "text", note));
    char *payload = NULL;
    messenger_events events = {0};
    int result = payload_take(root, &payload);
    if (result == SB_OK) result = messenger_official_notify(ctx->ops.s, user_id, text, payload, now_ms, NULL, &events);
    sb_free(payload);
    if (result == SB_OK)
        push(ctx, &events);
    else
        sb_log(SB_LOG_WARN, "chatpay.notice", "notice to user %lld failed: %s", (long long)user_id,
               sb_strerror(result));
    messenger_events_clear(&events);
}

/* Post the payment message (idempotent by client_id); *created_out false
 * when it was already there. */
static int message_post(const chatpay_ctx *ctx, int64_t actor_id, int64_t chat_id, const char *payload,
                        const char *client_id, int64_t now_ms, messenger_message *out, bool *created_out) {
    messenger_send_request req = {.chat_id = chat_id,
                                  .sender_id = actor_id,
                                  .kind = MESSENGER_MSG_PAYMENT,
                                  .payload_json = payload,
                                  .client_id = client_id};
    messenger_events events = {0};
    bool duplicate = false;
    int result = messenger_send(ctx->ops.s, &req, now_ms, out, &duplicate, &events);
    if (result == SB_OK) push(ctx, &events);
    messenger_events_clear(&events);
    *created_out = result == SB_OK && !duplicate;
    return result;
}

/* Bring a request or split message up to date with payops and push the
 * change; the link's mirrored status follows.  *out (may be NULL) gets the
 * message as it is now. */
static int link_sync(const chatpay_ctx *ctx, link_row *l, int64_t now_ms, messenger_message *out) {
    store *s = ctx->ops.s;
    messenger_message m = {0};
    int result = l->seq ? messenger_payment_get(s, l->chat_id, l->seq, &m) : SB_ENOTFOUND;
    if (result == SB_OK && (l->kind == KIND_REQUEST || l->kind == KIND_SPLIT)) {
        share_row shares[SB_CHATPAY_SPLIT_MEMBERS_MAX];
        size_t count = 0;
        int64_t total = 0;
        result = shares_load(ctx, l, shares, &count, &total);
        json_t *root = NULL;
        if (result == SB_OK) {
            json_error_t err;
            root = json_loads(m.payload_json ? m.payload_json : "", 0, &err);
            json_t *list = shares_json(shares, count);
            if (!root || !list || json_object_set_new(root, "shares", list) != 0 ||
                json_object_set_new(root, "status",
                                    json_string(messenger_payment_status_name(shares_status(shares, count)))) != 0)
                result = root ? SB_ENOMEM : SB_ECORRUPT;
        }
        char *payload = NULL;
        if (result == SB_OK) {
            result = payload_take(root, &payload);
            root = NULL;
        }
        json_decref(root);
        messenger_events events = {0};
        if (result == SB_OK) result = messenger_payment_update(s, l->chat_id, l->seq, payload, now_ms, &events);
        if (result == SB_OK) push(ctx, &events);
        messenger_events_clear(&events);
        sb_free(payload);
        messenger_message_clear(&m);
        if (result == SB_OK) result = messenger_payment_get(s, l->chat_id, l->seq, &m);
    }
    if (result == SB_OK && m.status != l->status) {
        l->status = m.status;
        result = link_save(s, l);
    }
    if (result == SB_OK && out)
        *out = m;
    else
        messenger_message_clear(&m);
    return result;
}

/* ---- money that moves at once: send, bill, top-up ----------------------------------------- */

/* What the three share once payops has moved the money: the message (paid)
 * and the link.  The notice is the caller's. */
static int receipt_post(const chatpay_ctx *ctx, int64_t actor_id, int64_t chat_id, int kind, const char *key,
                        const char *fingerprint, json_t *root_take, int64_t now_ms, chatpay_outcome *out,
                        bool *created_out) {
    store *s = ctx->ops.s;
    const payops_receipt *r = &out->receipt;
    payload_set_int(root_take, "receipt_id", r->id);
    if (root_take) json_object_set_new(root_take, "fee_minor", json_integer(r->fee_minor));
    char *payload = NULL;
    int result = payload_take(root_take, &payload);
    char client_id[32];
    snprintf(client_id, sizeof client_id, "chatpay-r%lld", (long long)r->id);
    if (result == SB_OK)
        result = message_post(ctx, actor_id, chat_id, payload, client_id, now_ms, &out->message, created_out);
    sb_free(payload);
    if (result != SB_OK) return result;
    link_row l;
    result = link_claim(s, actor_id, key, chat_id, kind, fingerprint, 0, now_ms, &l, out);
    if (result == SB_OK && !l.seq) {
        l.seq = out->message.seq;
        l.receipt_id = r->id;
        l.status = MESSENGER_PAYMENT_PAID;
        result = link_save(s, &l);
    }
    out->replayed = !*created_out;
    return result;
}

/* A finished link found again by its key: the same message, nothing moves. */
static int replay(const chatpay_ctx *ctx, link_row *l, int64_t now_ms, chatpay_outcome *out) {
    out->replayed = true;
    if (l->receipt_id) {
        int result = payops_receipt_get(&ctx->ops, l->actor_id, l->receipt_id, &out->receipt);
        if (result != SB_OK) return result;
    }
    return link_sync(ctx, l, now_ms, &out->message);
}

int chatpay_send(const chatpay_ctx *ctx, int64_t actor_id, int64_t chat_id, int64_t to_user_id, int64_t amount_minor,
                 const char *note, const char *idem_key, int64_t now_ms, chatpay_outcome *out) {
    memset(out, 0, sizeof *out);
    if (!key_ok(idem_key) || !note_ok(note) || amount_minor <= 0)
        return refuse(out, CHATPAY_REFUSED_BAD_INPUT, SB_EINVAL);
    store *s = ctx->ops.s;
    messenger_chat chat;
    int result = chat_of_member(ctx, actor_id, chat_id, &chat, out);
    if (result == SB_OK) result = counterpart_check(ctx, &chat, actor_id, to_user_id, out);
    if (result != SB_OK) return result;
    sb_buf fp;
    sb_buf_init(&fp, SB_MESSENGER_PAYLOAD_BYTES_MAX);
    result = fingerprint_make(&fp, "send|%lld|%lld|%lld|%s", (long long)chat_id, (long long)to_user_id,
                              (long long)amount_minor, note ? note : "");
    link_row l;
    if (result == SB_OK) result = link_by_key(s, actor_id, idem_key, fp.data, &l);
    if (result == SB_OK) {
        result = l.same_fingerprint ? (l.seq ? replay(ctx, &l, now_ms, out) : SB_ENOTFOUND)
                                    : refuse(out, CHATPAY_REFUSED_KEY_REUSED, SB_ECONFLICT);
        if (result != SB_ENOTFOUND) {
            sb_buf_free(&fp);
            return result;
        }
    }
    if (result == SB_ENOTFOUND) result = customer_check(s, to_user_id);
    if (result == SB_OK)
        result = payops_pay_user(&ctx->ops, actor_id, to_user_id, amount_minor, idem_key, now_ms, &out->receipt);
    bool created = false;
    if (result == SB_OK) {
        json_t *root = payload_base(KIND_SEND, out->receipt.transfer_id, amount_minor, MESSENGER_PAYMENT_PAID);
        payload_set_int(root, "from_user_id", actor_id);
        payload_set_int(root, "to_user_id", to_user_id);
        payload_set_text(root, "note", note);
        result = receipt_post(ctx, actor_id, chat_id, KIND_SEND, idem_key, fp.data, root, now_ms, out, &created);
    }
    sb_buf_free(&fp);
    if (result == SB_OK && created) {
        char amount[32], name[SB_DISPLAY_NAME_BYTES_MAX + 2], text[SB_CHATPAY_NOTICE_BYTES_MAX];
        amount_text(amount_minor, amount);
        user_name(s, actor_id, name, sizeof name);
        snprintf(text, sizeof text, "You received %s IRR from %s%s", amount, name,
                 note && note[0] ? ", with a note from them (quoted below)." : ".");
        notify(ctx, to_user_id, text, chat_id, out->message.seq, actor_id, note, now_ms);
    }
    return result;
}

/* "+98912***4567": a mobile number as a chat may show it. */
static void mobile_masked(const char *e164, char *out, size_t cap) {
    size_t len = strlen(e164);
    if (len < 10) {
        snprintf(out, cap, "***");
        return;
    }
    snprintf(out, cap, "%.6s***%s", e164, e164 + len - 4);
}

/* Bill and top-up: money first (payops checks the instrument before
 * anything moves), then the receipt in the chat and to the payer. */
static int receipt_op(const chatpay_ctx *ctx, int64_t actor_id, int64_t chat_id, int kind, const char *bill_id,
                      const char *payment_id, const char *mobile, int64_t amount_minor, const char *idem_key,
                      int64_t now_ms, chatpay_outcome *out) {
    memset(out, 0, sizeof *out);
    if (!key_ok(idem_key)) return refuse(out, CHATPAY_REFUSED_BAD_INPUT, SB_EINVAL);
    store *s = ctx->ops.s;
    messenger_chat chat;
    int result = chat_of_member(ctx, actor_id, chat_id, &chat, out);
    if (result != SB_OK) return result;
    sb_buf fp;
    sb_buf_init(&fp, SB_MESSENGER_PAYLOAD_BYTES_MAX);
    if (kind == KIND_BILL)
        result = fingerprint_make(&fp, "bill|%lld|%.128s|%.128s", (long long)chat_id, bill_id ? bill_id : "",
                                  payment_id ? payment_id : "");
    else
        result = fingerprint_make(&fp, "topup|%lld|%.128s|%lld", (long long)chat_id, mobile ? mobile : "",
                                  (long long)amount_minor);
    link_row l;
    if (result == SB_OK) result = link_by_key(s, actor_id, idem_key, fp.data, &l);
    if (result == SB_OK) {
        result = l.same_fingerprint ? (l.seq ? replay(ctx, &l, now_ms, out) : SB_ENOTFOUND)
                                    : refuse(out, CHATPAY_REFUSED_KEY_REUSED, SB_ECONFLICT);
        if (result != SB_ENOTFOUND) {
            sb_buf_free(&fp);
            return result;
        }
    }
    if (result == SB_ENOTFOUND)
        result = kind == KIND_BILL
                     ? payops_bill_pay(&ctx->ops, actor_id, bill_id, payment_id, idem_key, now_ms, &out->receipt)
                     : payops_topup(&ctx->ops, actor_id, mobile, amount_minor, idem_key, now_ms, &out->receipt);
    bool created = false;
    char reference[PAYOPS_REFERENCE_BYTES];
    if (result == SB_OK) {
        const payops_receipt *r = &out->receipt;
        if (kind == KIND_TOPUP)
            mobile_masked(r->reference, reference, sizeof reference);
        else
            snprintf(reference, sizeof reference, "%s", r->reference);
        json_t *root = payload_base(kind, r->transfer_id, r->amount_minor, MESSENGER_PAYMENT_PAID);
        payload_set_int(root, "from_user_id", actor_id);
        payload_set_text(root, "counterparty", r->counterparty);
        payload_set_text(root, "reference", reference);
        result = receipt_post(ctx, actor_id, chat_id, kind, idem_key, fp.data, root, now_ms, out, &created);
    }
    sb_buf_free(&fp);
    if (result == SB_OK && created) {
        char amount[32], text[SB_CHATPAY_NOTICE_BYTES_MAX];
        amount_text(out->receipt.amount_minor, amount);
        snprintf(text, sizeof text, "Receipt: you paid %s IRR to %s (%s).", amount, out->receipt.counterparty,
                 reference);
        notify(ctx, actor_id, text, chat_id, out->message.seq, 0, NULL, now_ms);
    }
    return result;
}

int chatpay_bill(const chatpay_ctx *ctx, int64_t actor_id, int64_t chat_id, const char *bill_id, const char *payment_id,
                 const char *idem_key, int64_t now_ms, chatpay_outcome *out) {
    return receipt_op(ctx, actor_id, chat_id, KIND_BILL, bill_id, payment_id, NULL, 0, idem_key, now_ms, out);
}

int chatpay_topup(const chatpay_ctx *ctx, int64_t actor_id, int64_t chat_id, const char *mobile, int64_t amount_minor,
                  const char *idem_key, int64_t now_ms, chatpay_outcome *out) {
    return receipt_op(ctx, actor_id, chat_id, KIND_TOPUP, NULL, NULL, mobile, amount_minor, idem_key, now_ms, out);
}

/* ---- requests and splits ----------------------------------------------------------------- */

/* After the request or split exists (l->request_id / l->split_id): post its
 * message with the shares as they are, record it, and on first posting ask
 * every member who owes something. */
static int asking_post(const chatpay_ctx *ctx, link_row *l, const char *note, int64_t now_ms, chatpay_outcome *out) {
    store *s = ctx->ops.s;
    share_row shares[SB_CHATPAY_SPLIT_MEMBERS_MAX];
    size_t count = 0;
    int64_t total = 0;
    int result = shares_load(ctx, l, shares, &count, &total);
    if (result != SB_OK) return result;
    char transfer_id[48];
    snprintf(transfer_id, sizeof transfer_id, "%s-%lld", kind_names[l->kind],
             (long long)(l->kind == KIND_REQUEST ? l->request_id : l->split_id));
    json_t *root = payload_base(l->kind, transfer_id, total, shares_status(shares, count));
    payload_set_int(root, l->kind == KIND_REQUEST ? "request_id" : "split_id",
                    l->kind == KIND_REQUEST ? l->request_id : l->split_id);
    payload_set_int(root, "to_user_id", l->actor_id);
    if (l->kind == KIND_REQUEST) payload_set_int(root, "from_user_id", shares[0].user_id);
    payload_set_text(root, "note", note);
    json_t *list = shares_json(shares, count);
    if (root && list)
        json_object_set_new(root, "shares", list);
    else
        json_decref(list);
    char *payload = NULL;
    result = payload_take(root, &payload);
    char client_id[32];
    snprintf(client_id, sizeof client_id, "chatpay-l%lld", (long long)l->id);
    bool created = false;
    if (result == SB_OK)
        result = message_post(ctx, l->actor_id, l->chat_id, payload, client_id, now_ms, &out->message, &created);
    sb_free(payload);
    if (result != SB_OK) return result;
    l->seq = out->message.seq;
    l->status = out->message.status;
    result = link_save(s, l);
    out->replayed = !created;
    if (result != SB_OK || !created) return result;
    char name[SB_DISPLAY_NAME_BYTES_MAX + 2];
    user_name(s, l->actor_id, name, sizeof name);
    for (size_t i = 0; i < count; i++) {
        if (shares[i].status != MESSENGER_PAYMENT_PENDING || shares[i].user_id == l->actor_id) continue;
        char amount[32], text[SB_CHATPAY_NOTICE_BYTES_MAX];
        amount_text(shares[i].amount_minor, amount);
        const char *quoted = note && note[0] ? " Their note is quoted below." : "";
        if (l->kind == KIND_SPLIT)
            snprintf(text, sizeof text,
                     "%s asks you for %s IRR, your share of a split bill. Pay or decline it in the chat.%s", name,
                     amount, quoted);
        else
            snprintf(text, sizeof text, "%s asks you for %s IRR. Pay or decline it in the chat.%s", name, amount,
                     quoted);
        notify(ctx, shares[i].user_id, text, l->chat_id, l->seq, l->actor_id, note, now_ms);
    }
    return SB_OK;
}

int chatpay_request(const chatpay_ctx *ctx, int64_t actor_id, int64_t chat_id, int64_t payer_id, int64_t amount_minor,
                    const char *note, int64_t expires_at_ms, const char *idem_key, int64_t now_ms,
                    chatpay_outcome *out) {
    memset(out, 0, sizeof *out);
    if (!key_ok(idem_key) || !note_ok(note) || amount_minor <= 0 || expires_at_ms <= now_ms)
        return refuse(out, CHATPAY_REFUSED_BAD_INPUT, SB_EINVAL);
    store *s = ctx->ops.s;
    messenger_chat chat;
    int result = chat_of_member(ctx, actor_id, chat_id, &chat, out);
    if (result == SB_OK) result = counterpart_check(ctx, &chat, actor_id, payer_id, out);
    if (result != SB_OK) return result;
    result = customer_check(s, payer_id);
    if (result != SB_OK) return result;
    sb_buf fp;
    sb_buf_init(&fp, SB_MESSENGER_PAYLOAD_BYTES_MAX);
    /* The expiry is not part of it: a retry computes it afresh. */
    result = fingerprint_make(&fp, "request|%lld|%lld|%lld|%s", (long long)chat_id, (long long)payer_id,
                              (long long)amount_minor, note ? note : "");
    link_row l;
    if (result == SB_OK)
        result = link_claim(s, actor_id, idem_key, chat_id, KIND_REQUEST, fp.data, expires_at_ms, now_ms, &l, out);
    sb_buf_free(&fp);
    if (result != SB_OK) return result;
    if (l.seq) return replay(ctx, &l, now_ms, out);
    if (!l.request_id) {
        result = payops_request_create_user(&ctx->ops, actor_id, payer_id, amount_minor, note ? note : "",
                                            expires_at_ms, now_ms, &l.request_id);
        if (result == SB_OK) result = link_save(s, &l);
        if (result != SB_OK) {
            /* Nothing was asked: free the key for a fresh try. */
            if (store_exec(s, "DELETE FROM chatpay_links WHERE id = ? AND request_id IS NULL", "i", l.id) != SB_OK)
                sb_log(SB_LOG_WARN, "chatpay.request", "cannot release link %lld", (long long)l.id);
            return result;
        }
    }
    return asking_post(ctx, &l, note, now_ms, out);
}

int chatpay_split(const chatpay_ctx *ctx, int64_t actor_id, int64_t chat_id, const int64_t *members,
                  size_t member_count, const payments_split_spec *spec, const char *title, int64_t expires_at_ms,
                  const char *idem_key, int64_t now_ms, chatpay_outcome *out) {
    memset(out, 0, sizeof *out);
    if (!key_ok(idem_key) || !note_ok(title) || !members || !spec || member_count == 0 || spec->count != member_count ||
        expires_at_ms <= now_ms)
        return refuse(out, CHATPAY_REFUSED_BAD_INPUT, SB_EINVAL);
    if (member_count > SB_CHATPAY_SPLIT_MEMBERS_MAX) return refuse(out, CHATPAY_REFUSED_TOO_MANY, SB_ELIMIT);
    store *s = ctx->ops.s;
    messenger_chat chat;
    int result = chat_of_member(ctx, actor_id, chat_id, &chat, out);
    for (size_t i = 0; result == SB_OK && i < member_count; i++) {
        if (members[i] == actor_id) continue; /* the payer's own share */
        result = counterpart_check(ctx, &chat, actor_id, members[i], out);
        if (result == SB_OK) result = customer_check(s, members[i]);
    }
    if (result != SB_OK) return result;
    sb_buf fp;
    sb_buf_init(&fp, SB_MESSENGER_PAYLOAD_BYTES_MAX);
    result = fingerprint_make(&fp, "split|%lld|%d|%lld|%lld|%lld|%d|%zu|%s|", (long long)chat_id, (int)spec->mode,
                              (long long)spec->subtotal_minor, (long long)spec->tax_minor, (long long)spec->tip_minor,
                              (int)spec->rule, spec->remainder_share, title ? title : "");
    for (size_t i = 0; result == SB_OK && i < member_count; i++)
        result =
            fingerprint_make(&fp, "%lld:%lld,", (long long)members[i], (long long)(spec->values ? spec->values[i] : 0));
    link_row l;
    if (result == SB_OK)
        result = link_claim(s, actor_id, idem_key, chat_id, KIND_SPLIT, fp.data, expires_at_ms, now_ms, &l, out);
    sb_buf_free(&fp);
    if (result != SB_OK) return result;
    if (l.seq) return replay(ctx, &l, now_ms, out);
    if (!l.split_id) {
        result = payops_split_create(&ctx->ops, actor_id, members, member_count, spec, title ? title : "",
                                     expires_at_ms, now_ms, &l.split_id);
        if (result == SB_OK) result = link_save(s, &l);
        if (result != SB_OK) {
            if (store_exec(s, "DELETE FROM chatpay_links WHERE id = ? AND split_id IS NULL", "i", l.id) != SB_OK)
                sb_log(SB_LOG_WARN, "chatpay.split", "cannot release link %lld", (long long)l.id);
            return result;
        }
    }
    return asking_post(ctx, &l, title, now_ms, out);
}

/* ---- acting on a request or split from the chat -------------------------------------------- */

/* The link of a payment message the caller (a member) acts on. */
static int message_link(const chatpay_ctx *ctx, int64_t actor_id, int64_t chat_id, int64_t seq, link_row *l,
                        chatpay_outcome *out) {
    messenger_chat chat;
    int result = messenger_chat_get(ctx->ops.s, actor_id, chat_id, &chat);
    if (result == SB_EPERM) return refuse(out, CHATPAY_REFUSED_NOT_MEMBER, SB_EPERM);
    if (result != SB_OK) return result;
    result = link_by_message(ctx->ops.s, chat_id, seq, l);
    if (result == SB_ENOTFOUND) return refuse(out, CHATPAY_REFUSED_NO_SUCH_PAYMENT, SB_ENOTFOUND);
    return result;
}

/* The caller's share of a request or split: its request and state. */
static int my_share(const chatpay_ctx *ctx, const link_row *l, int64_t actor_id, share_row *mine,
                    chatpay_outcome *out) {
    if (l->kind != KIND_REQUEST && l->kind != KIND_SPLIT) return refuse(out, CHATPAY_REFUSED_NOT_PAYABLE, SB_ECONFLICT);
    share_row shares[SB_CHATPAY_SPLIT_MEMBERS_MAX];
    size_t count = 0;
    int64_t total = 0;
    int result = shares_load(ctx, l, shares, &count, &total);
    if (result != SB_OK) return result;
    for (size_t i = 0; i < count; i++)
        if (shares[i].user_id == actor_id && shares[i].request_id) {
            *mine = shares[i];
            return SB_OK;
        }
    return refuse(out, CHATPAY_REFUSED_NOT_THE_PAYER, SB_EPERM);
}

/* Tell the requester that a share was paid or declined. */
static void tell_requester(const chatpay_ctx *ctx, const link_row *l, int64_t actor_id, int64_t amount_minor, bool paid,
                           int64_t now_ms) {
    char amount[32], name[SB_DISPLAY_NAME_BYTES_MAX + 2], text[SB_CHATPAY_NOTICE_BYTES_MAX];
    amount_text(amount_minor, amount);
    user_name(ctx->ops.s, actor_id, name, sizeof name);
    if (paid)
        snprintf(text, sizeof text, "%s paid you %s IRR%s.", name, amount,
                 l->kind == KIND_SPLIT ? " (a share of your split bill)" : " (your request)");
    else
        snprintf(text, sizeof text, "%s declined your request for %s IRR%s.", name, amount,
                 l->kind == KIND_SPLIT ? " (a share of your split bill)" : "");
    notify(ctx, l->actor_id, text, l->chat_id, l->seq, 0, NULL, now_ms);
}

int chatpay_pay(const chatpay_ctx *ctx, int64_t actor_id, int64_t chat_id, int64_t seq, const char *idem_key,
                int64_t now_ms, chatpay_outcome *out) {
    memset(out, 0, sizeof *out);
    if (!key_ok(idem_key)) return refuse(out, CHATPAY_REFUSED_BAD_INPUT, SB_EINVAL);
    link_row l;
    share_row mine;
    int result = message_link(ctx, actor_id, chat_id, seq, &l, out);
    if (result == SB_OK) result = my_share(ctx, &l, actor_id, &mine, out);
    if (result == SB_OK)
        result = payops_request_pay(&ctx->ops, actor_id, mine.request_id, idem_key, now_ms, &out->receipt);
    if (result != SB_OK) return result;
    /* Paid by this call only if the share was still pending before it. */
    out->replayed = mine.status != MESSENGER_PAYMENT_PENDING;
    result = link_sync(ctx, &l, now_ms, &out->message);
    if (result == SB_OK && !out->replayed) tell_requester(ctx, &l, actor_id, mine.amount_minor, true, now_ms);
    return result;
}

int chatpay_decline(const chatpay_ctx *ctx, int64_t actor_id, int64_t chat_id, int64_t seq, int64_t now_ms,
                    chatpay_outcome *out) {
    memset(out, 0, sizeof *out);
    link_row l;
    share_row mine;
    int result = message_link(ctx, actor_id, chat_id, seq, &l, out);
    if (result == SB_OK) result = my_share(ctx, &l, actor_id, &mine, out);
    if (result == SB_OK)
        result = payops_request_decline(&ctx->ops, actor_id, mine.request_id, now_ms, &out->receipt.verdict);
    if (result != SB_OK) return result;
    out->replayed = mine.status != MESSENGER_PAYMENT_PENDING;
    result = link_sync(ctx, &l, now_ms, &out->message);
    if (result == SB_OK && !out->replayed) tell_requester(ctx, &l, actor_id, mine.amount_minor, false, now_ms);
    return result;
}

int chatpay_cancel(const chatpay_ctx *ctx, int64_t actor_id, int64_t chat_id, int64_t seq, int64_t now_ms,
                   chatpay_outcome *out) {
    memset(out, 0, sizeof *out);
    link_row l;
    int result = message_link(ctx, actor_id, chat_id, seq, &l, out);
    if (result != SB_OK) return result;
    if (l.kind != KIND_REQUEST && l.kind != KIND_SPLIT) return refuse(out, CHATPAY_REFUSED_NOT_PAYABLE, SB_ECONFLICT);
    if (l.actor_id != actor_id) return refuse(out, CHATPAY_REFUSED_NOT_THE_REQUESTER, SB_EPERM);
    share_row shares[SB_CHATPAY_SPLIT_MEMBERS_MAX];
    size_t count = 0;
    int64_t total = 0;
    result = shares_load(ctx, &l, shares, &count, &total);
    bool any = false;
    for (size_t i = 0; result == SB_OK && i < count; i++) {
        if (!shares[i].request_id || shares[i].status != MESSENGER_PAYMENT_PENDING) continue;
        result = payops_request_cancel(&ctx->ops, actor_id, shares[i].request_id, now_ms, &out->receipt.verdict);
        /* A share settled meanwhile (paid, declined, expired) stays so. */
        if (result == SB_EPERM) result = SB_OK;
        any = true;
    }
    if (result != SB_OK) return result;
    out->replayed = !any;
    return link_sync(ctx, &l, now_ms, &out->message);
}

int chatpay_get(const chatpay_ctx *ctx, int64_t viewer_id, int64_t chat_id, int64_t seq, int64_t now_ms,
                chatpay_outcome *out) {
    memset(out, 0, sizeof *out);
    link_row l;
    int result = message_link(ctx, viewer_id, chat_id, seq, &l, out);
    if (result != SB_OK) return result;
    if (l.status != MESSENGER_PAYMENT_PENDING) return messenger_payment_get(ctx->ops.s, chat_id, seq, &out->message);
    return link_sync(ctx, &l, now_ms, &out->message);
}

/* Up to `max` pending link ids into ids: those whose expiry passed first,
 * then the least recently checked. */
static int pending_pick(store *s, int64_t now_ms, int64_t *ids, size_t max, size_t *count_out) {
    *count_out = 0;
    store_stmt *st;
    int result = store_query(s, &st,
                             "SELECT id FROM chatpay_links WHERE status = 'pending' AND expires_at_ms IS NOT NULL "
                             "AND expires_at_ms <= ? AND seq IS NOT NULL ORDER BY expires_at_ms, id LIMIT ?",
                             "ii", now_ms, (int64_t)max);
    if (result != SB_OK) return result;
    size_t n = 0;
    while (n < max && (result = store_step(st)) == STORE_ROW)
        ids[n++] = store_col_int64(st, 0);
    store_stmt_done(st);
    if (result < 0) return result;
    if (n < max) {
        result = store_query(s, &st,
                             "SELECT id FROM chatpay_links WHERE status = 'pending' AND seq IS NOT NULL "
                             "AND (expires_at_ms IS NULL OR expires_at_ms > ?) ORDER BY checked_at_ms, id LIMIT ?",
                             "ii", now_ms, (int64_t)(max - n));
        if (result != SB_OK) return result;
        while (n < max && (result = store_step(st)) == STORE_ROW)
            ids[n++] = store_col_int64(st, 0);
        store_stmt_done(st);
        if (result < 0) return result;
    }
    *count_out = n;
    return SB_OK;
}

int chatpay_expire_due(const chatpay_ctx *ctx, int64_t now_ms, int64_t *updated_out) {
    if (updated_out) *updated_out = 0;
    store *s = ctx->ops.s;
    int64_t ids[SB_CHATPAY_EXPIRE_BATCH_MAX];
    size_t n = 0;
    int result = pending_pick(s, now_ms, ids, SB_ARRAY_LEN(ids), &n);
    if (result != SB_OK) return result;
    int first_error = SB_OK;
    for (size_t i = 0; i < n; i++) {
        link_row l;
        result = link_by_id(s, ids[i], &l);
        int before = l.status;
        if (result == SB_OK) result = link_sync(ctx, &l, now_ms, NULL);
        if (result == SB_OK && l.status != before && updated_out) ++*updated_out;
        if (result == SB_OK)
            result = store_exec(s, "UPDATE chatpay_links SET checked_at_ms = ? WHERE id = ?", "ii", now_ms, ids[i]);
        /* One broken row does not stop the others; the first error is told. */
        if (result != SB_OK && first_error == SB_OK) first_error = result;
    }
    return first_error;
}
