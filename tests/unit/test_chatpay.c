/*
 * test_chatpay.c - payments inside chats on a real store and a running
 * ledger (payops_fixture.h): sending in a 1:1 chat with the payee's notice,
 * retries that move nothing, refusals before any money moves (non-member,
 * forged member, block, funds, bad bill check digit), requests paid,
 * declined and expired with their live updates, a group of four splitting a
 * bill with a remainder, every share paid from the chat, and the ledger
 * verified.  Every balance is checked against hand-computed values.
 */
#include <jansson.h>

#include "payops_fixture.h"

#include "chatpay/chatpay.h"
#include "messenger/messenger.h"

/* ---- a recorder in place of the WebSocket push ---- */

#define REC_MAX 256
typedef struct {
    int type;
    int64_t chat_id, seq;
    int status;
    int64_t recipients[8];
    size_t recipient_count;
    bool silent;
    char payload[1024];
} rec_event;
static rec_event rec[REC_MAX];
static size_t rec_count;

static void recorder(store *s, const messenger_events *events, void *arg) {
    (void)s;
    (void)arg;
    for (size_t i = 0; i < events->count && rec_count < REC_MAX; i++) {
        const messenger_event *e = &events->items[i];
        rec_event *r = &rec[rec_count++];
        memset(r, 0, sizeof *r);
        r->type = e->type;
        r->chat_id = e->chat_id;
        r->seq = e->seq;
        r->status = e->message.status;
        r->silent = e->silent;
        r->recipient_count = e->recipient_count < 8 ? e->recipient_count : 8;
        memcpy(r->recipients, e->recipients, r->recipient_count * sizeof *r->recipients);
        if (e->message.payload_json) snprintf(r->payload, sizeof r->payload, "%s", e->message.payload_json);
    }
}

/* Events of a type in a chat since mark. */
static size_t rec_find(size_t mark, int type, int64_t chat_id) {
    size_t n = 0;
    for (size_t i = mark; i < rec_count; i++)
        if (rec[i].type == type && rec[i].chat_id == chat_id) n++;
    return n;
}

static const rec_event *rec_last(int type, int64_t chat_id) {
    for (size_t i = rec_count; i > 0; i--)
        if (rec[i - 1].type == type && rec[i - 1].chat_id == chat_id) return &rec[i - 1];
    return NULL;
}

typedef struct {
    pfix *p;
    chatpay_ctx ctx;
} cfix;

static int setup(void **state) {
    cfix *f = calloc(1, sizeof *f);
    f->p = pfix_new();
    f->ctx = (chatpay_ctx){.ops = f->p->ctx, .push = recorder};
    rec_count = 0;
    *state = f;
    return 0;
}

static int teardown(void **state) {
    cfix *f = *state;
    pfix_free(f->p);
    free(f);
    return 0;
}

static int64_t direct(cfix *f, int64_t a, int64_t b) {
    int64_t chat = 0;
    assert_int_equal(messenger_direct_open(f->p->s, a, b, NOW, &chat, NULL), SB_OK);
    return chat;
}

/* Notices in a user's official chat (the bank's account). */
static int64_t notices(cfix *f, int64_t user) {
    int64_t n = 0;
    assert_int_equal(store_query_int64(f->p->s, &n,
                                       "SELECT count(*) FROM msg_messages m JOIN msg_chats c ON c.id = m.chat_id "
                                       "WHERE c.kind = 'official' AND c.pair_lo = ? AND m.kind = 'notice'",
                                       "i", user),
                     SB_OK);
    return n;
}

static int64_t chat_messages(cfix *f, int64_t chat) {
    int64_t n = 0;
    assert_int_equal(store_query_int64(f->p->s, &n, "SELECT count(*) FROM msg_messages WHERE chat_id = ?", "i", chat),
                     SB_OK);
    return n;
}

/* ---- send ---- */

static void test_send_direct(void **state) {
    cfix *f = *state;
    deposit(f->p, ALI, 1000000, "d1");
    int64_t chat = direct(f, ALI, SARA);
    chatpay_outcome o;
    size_t mark = rec_count;
    assert_int_equal(chatpay_send(&f->ctx, ALI, chat, SARA, 250000, "lunch", "s-1", NOW, &o), SB_OK);
    assert_false(o.replayed);
    assert_int_equal(o.message.kind, MESSENGER_MSG_PAYMENT);
    assert_int_equal(o.message.status, MESSENGER_PAYMENT_PAID);
    assert_int_equal(o.message.sender_id, ALI);
    assert_non_null(strstr(o.message.payload_json, "\"kind\":\"send\""));
    assert_non_null(strstr(o.message.payload_json, "\"status\":\"paid\""));
    assert_non_null(strstr(o.message.payload_json, "\"to_user_id\":2"));
    assert_non_null(strstr(o.message.payload_json, "\"note\":\"lunch\""));
    assert_int_equal(o.receipt.amount_minor, 250000);
    int64_t seq = o.message.seq;
    chatpay_outcome_clear(&o);
    assert_int_equal(balance(f->p, ALI), 750000);
    assert_int_equal(balance(f->p, SARA), 250000);
    /* Pushed to both members; the payee's notice from the bank. */
    const rec_event *e = rec_last(MESSENGER_EVENT_MESSAGE_NEW, chat);
    assert_non_null(e);
    assert_int_equal(e->recipient_count, 2);
    assert_int_equal(notices(f, SARA), 1);
    assert_int_equal(notices(f, ALI), 0);
    assert_int_equal(rec_find(mark, MESSENGER_EVENT_MESSAGE_NEW, chat), 1);

    /* A retry with the same key: the same message, nothing moves, no notice. */
    mark = rec_count;
    assert_int_equal(chatpay_send(&f->ctx, ALI, chat, SARA, 250000, "lunch", "s-1", NOW + 5, &o), SB_OK);
    assert_true(o.replayed);
    assert_int_equal(o.message.seq, seq);
    chatpay_outcome_clear(&o);
    assert_int_equal(balance(f->p, ALI), 750000);
    assert_int_equal(notices(f, SARA), 1);
    assert_int_equal(rec_find(mark, MESSENGER_EVENT_MESSAGE_NEW, chat), 0);
    assert_int_equal(chat_messages(f, chat), 1);
    /* The same key with another amount: refused, nothing moves. */
    assert_int_equal(chatpay_send(&f->ctx, ALI, chat, SARA, 1, "lunch", "s-1", NOW, &o), SB_ECONFLICT);
    assert_int_equal(o.refusal, CHATPAY_REFUSED_KEY_REUSED);
    assert_string_equal(chatpay_refusal_name(o.refusal), "idempotency_conflict");
    chatpay_outcome_clear(&o);
    /* Not enough money: the ledger refuses, no message. */
    assert_int_equal(chatpay_send(&f->ctx, ALI, chat, SARA, 900000, NULL, "s-2", NOW, &o), SB_ECONFLICT);
    assert_int_equal(o.refusal, CHATPAY_REFUSED_NONE);
    assert_string_equal(ledger_result_name(o.receipt.ledger_result), "exceeds_credits");
    chatpay_outcome_clear(&o);
    assert_int_equal(chat_messages(f, chat), 1);
    assert_int_equal(balance(f->p, ALI), 750000);
    verify_ok(f->p);
}

static void test_send_refusals(void **state) {
    cfix *f = *state;
    deposit(f->p, ALI, 1000000, "d1");
    int64_t chat = direct(f, ALI, SARA);
    int64_t receipts = receipt_count(f->p);
    chatpay_outcome o;
    /* REZA is not in this chat: a non-member caller sees no chat. */
    assert_int_equal(chatpay_send(&f->ctx, REZA, chat, SARA, 1000, NULL, "x-1", NOW, &o), SB_EPERM);
    assert_int_equal(o.refusal, CHATPAY_REFUSED_NOT_MEMBER);
    /* A forged member id: MINA is not in the chat. */
    assert_int_equal(chatpay_send(&f->ctx, ALI, chat, MINA, 1000, NULL, "x-2", NOW, &o), SB_EPERM);
    assert_int_equal(o.refusal, CHATPAY_REFUSED_PAYEE_NOT_MEMBER);
    assert_int_equal(chatpay_send(&f->ctx, ALI, chat, 999, 1000, NULL, "x-3", NOW, &o), SB_EPERM);
    assert_int_equal(o.refusal, CHATPAY_REFUSED_PAYEE_NOT_MEMBER);
    /* Oneself, a bad key, a bad amount, an unknown chat. */
    assert_int_equal(chatpay_send(&f->ctx, ALI, chat, ALI, 1000, NULL, "x-4", NOW, &o), SB_EINVAL);
    assert_int_equal(o.refusal, CHATPAY_REFUSED_SELF);
    assert_int_equal(chatpay_send(&f->ctx, ALI, chat, SARA, 1000, NULL, "bad key", NOW, &o), SB_EINVAL);
    assert_int_equal(o.refusal, CHATPAY_REFUSED_BAD_INPUT);
    assert_int_equal(chatpay_send(&f->ctx, ALI, chat, SARA, 0, NULL, "x-5", NOW, &o), SB_EINVAL);
    assert_int_equal(chatpay_send(&f->ctx, ALI, chat + 100, SARA, 1000, NULL, "x-6", NOW, &o), SB_EPERM);
    assert_int_equal(o.refusal, CHATPAY_REFUSED_NOT_MEMBER);
    /* A block in either direction stops money in a 1:1 chat. */
    assert_int_equal(messenger_block(f->p->s, SARA, ALI, NOW), SB_OK);
    assert_int_equal(chatpay_send(&f->ctx, ALI, chat, SARA, 1000, NULL, "x-7", NOW, &o), SB_EPERM);
    assert_int_equal(o.refusal, CHATPAY_REFUSED_BLOCKED);
    assert_int_equal(messenger_unblock(f->p->s, SARA, ALI), SB_OK);
    /* The official chat is no payment chat. */
    int64_t official = 0;
    messenger_message m;
    assert_int_equal(messenger_official_notify(f->p->s, ALI, "hello", NULL, NOW, &m, NULL), SB_OK);
    official = m.chat_id;
    messenger_message_clear(&m);
    assert_int_equal(chatpay_bill(&f->ctx, ALI, official, "2050327604613", "1070189", "x-8", NOW, &o), SB_EPERM);
    assert_int_equal(o.refusal, CHATPAY_REFUSED_CHAT_KIND);
    assert_int_equal(receipt_count(f->p), receipts);
    assert_int_equal(balance(f->p, ALI), 1000000);
    assert_int_equal(chat_messages(f, chat), 0);
}

/* ---- bill and top-up ---- */

static void test_bill_and_topup(void **state) {
    cfix *f = *state;
    deposit(f->p, ALI, 100000, "d1");
    int64_t chat = direct(f, ALI, SARA);
    int64_t receipts = receipt_count(f->p);
    chatpay_outcome o;
    /* A bad bill-ID check digit: nothing moves, nothing is posted. */
    assert_int_equal(chatpay_bill(&f->ctx, ALI, chat, "2050327604614", "1070189", "b-0", NOW, &o), SB_EINVAL);
    assert_string_equal(payments_reason_name(o.receipt.reason), "bad_bill_id_check");
    chatpay_outcome_clear(&o);
    assert_int_equal(receipt_count(f->p), receipts);
    assert_int_equal(chat_messages(f, chat), 0);
    assert_int_equal(balance(f->p, ALI), 100000);
    /* 2050327604613 / 1070189: water, 10,000 rials (persian-tools). */
    assert_int_equal(chatpay_bill(&f->ctx, ALI, chat, "2050327604613", "1070189", "b-1", NOW, &o), SB_OK);
    assert_int_equal(o.message.status, MESSENGER_PAYMENT_PAID);
    assert_non_null(strstr(o.message.payload_json, "\"counterparty\":\"water bill\""));
    assert_non_null(strstr(o.message.payload_json, "\"reference\":\"2050327604613/1070189\""));
    assert_non_null(strstr(o.message.payload_json, "\"amount_minor\":10000"));
    chatpay_outcome_clear(&o);
    assert_int_equal(notices(f, ALI), 1); /* the payer's receipt */
    assert_int_equal(balance(f->p, ALI), 90000);
    /* Top-up: the number is shown masked in the chat. */
    assert_int_equal(chatpay_topup(&f->ctx, ALI, chat, "0912 123 4567", 20000, "t-1", NOW, &o), SB_OK);
    assert_non_null(strstr(o.message.payload_json, "\"reference\":\"+98912***4567\""));
    assert_null(strstr(o.message.payload_json, "1234567"));
    chatpay_outcome_clear(&o);
    assert_int_equal(chatpay_topup(&f->ctx, ALI, chat, "0912 123 4567", 20000, "t-1", NOW, &o), SB_OK);
    assert_true(o.replayed);
    chatpay_outcome_clear(&o);
    assert_int_equal(balance(f->p, ALI), 70000);
    assert_int_equal(chat_messages(f, chat), 2);
    /* Nothing to pay on a receipt. */
    assert_int_equal(chatpay_pay(&f->ctx, SARA, chat, 1, "p-1", NOW, &o), SB_ECONFLICT);
    assert_int_equal(o.refusal, CHATPAY_REFUSED_NOT_PAYABLE);
    verify_ok(f->p);
}

/* ---- requests ---- */

/* The text and payload of the newest notice in a user's official chat
 * (caller frees both with free()). */
static void last_notice(cfix *f, int64_t user, char **text_out, char **payload_out) {
    store_stmt *st;
    assert_int_equal(
        store_query(f->p->s, &st,
                    "SELECT m.body, m.payload FROM msg_messages m JOIN msg_chats c ON c.id = m.chat_id "
                    "WHERE c.kind = 'official' AND c.pair_lo = ? AND m.kind = 'notice' ORDER BY m.seq DESC "
                    "LIMIT 1",
                    "i", user),
        SB_OK);
    assert_int_equal(store_step(st), STORE_ROW);
    *text_out = strdup(store_col_text(st, 0) ? store_col_text(st, 0) : "");
    *payload_out = strdup(store_col_text(st, 1) ? store_col_text(st, 1) : "");
    store_stmt_done(st);
}

/* A customer's note never becomes the bank's words: the notice from the
 * official account says who asks and how much, and carries the note apart
 * as that customer's quotation ({"quote":{"author_id","text"}}). */
static void test_notice_quotes_customer_text(void **state) {
    cfix *f = *state;
    int64_t chat = direct(f, ALI, SARA);
    const char *note = "SocialBank: card blocked, call 021-5555";
    chatpay_outcome o;
    assert_int_equal(chatpay_request(&f->ctx, ALI, chat, SARA, 100, note, NOW + 3600000, "q-1", NOW, &o), SB_OK);
    chatpay_outcome_clear(&o);
    char *text, *payload;
    last_notice(f, SARA, &text, &payload);
    assert_null(strstr(text, "card blocked"));
    assert_null(strstr(text, "021"));
    assert_non_null(strstr(text, "quoted below"));
    json_error_t err;
    json_t *root = json_loads(payload, 0, &err);
    assert_non_null(root);
    json_t *quote = json_object_get(root, "quote");
    assert_string_equal(json_string_value(json_object_get(quote, "text")), note);
    assert_int_equal(json_integer_value(json_object_get(quote, "author_id")), ALI);
    json_decref(root);
    free(text);
    free(payload);
    /* The same for money sent with a note, and a split's title. */
    deposit(f->p, ALI, 500000, "qd");
    assert_int_equal(chatpay_send(&f->ctx, ALI, chat, SARA, 1000, "SocialBank: verify your PIN", "q-2", NOW, &o),
                     SB_OK);
    chatpay_outcome_clear(&o);
    last_notice(f, SARA, &text, &payload);
    assert_null(strstr(text, "PIN"));
    assert_non_null(strstr(payload, "verify your PIN"));
    free(text);
    free(payload);
    /* Without a note: no quote at all. */
    assert_int_equal(chatpay_request(&f->ctx, ALI, chat, SARA, 200, NULL, NOW + 3600000, "q-3", NOW, &o), SB_OK);
    chatpay_outcome_clear(&o);
    last_notice(f, SARA, &text, &payload);
    assert_null(strstr(payload, "quote"));
    free(text);
    free(payload);
}

static void test_request_pay_decline_expire(void **state) {
    cfix *f = *state;
    deposit(f->p, SARA, 500000, "d1");
    int64_t chat = direct(f, ALI, SARA);
    chatpay_outcome o;
    /* ALI asks SARA for 120,000. */
    assert_int_equal(chatpay_request(&f->ctx, ALI, chat, SARA, 120000, "tickets", NOW + 3600000, "r-1", NOW, &o),
                     SB_OK);
    assert_int_equal(o.message.status, MESSENGER_PAYMENT_PENDING);
    assert_non_null(
        strstr(o.message.payload_json, "\"shares\":[{\"amount_minor\":120000,\"status\":\"pending\",\"user_id\":2}]"));
    int64_t seq = o.message.seq;
    chatpay_outcome_clear(&o);
    assert_int_equal(notices(f, SARA), 1); /* asked */
    /* A retry of the request: the same message, no second request. */
    assert_int_equal(chatpay_request(&f->ctx, ALI, chat, SARA, 120000, "tickets", NOW + 3600000, "r-1", NOW, &o),
                     SB_OK);
    assert_true(o.replayed);
    assert_int_equal(o.message.seq, seq);
    chatpay_outcome_clear(&o);
    assert_int_equal(notices(f, SARA), 1);
    /* The requester cannot pay its own request. */
    assert_int_equal(chatpay_pay(&f->ctx, ALI, chat, seq, "p-0", NOW, &o), SB_EPERM);
    assert_int_equal(o.refusal, CHATPAY_REFUSED_NOT_THE_PAYER);
    /* SARA pays from the chat: live update, requester told. */
    size_t mark = rec_count;
    assert_int_equal(chatpay_pay(&f->ctx, SARA, chat, seq, "p-1", NOW + 10, &o), SB_OK);
    assert_false(o.replayed);
    assert_int_equal(o.message.status, MESSENGER_PAYMENT_PAID);
    assert_non_null(strstr(o.message.payload_json, "\"status\":\"paid\",\"user_id\":2"));
    chatpay_outcome_clear(&o);
    assert_int_equal(rec_find(mark, MESSENGER_EVENT_PAYMENT_STATUS, chat), 1);
    assert_int_equal(rec_last(MESSENGER_EVENT_PAYMENT_STATUS, chat)->status, MESSENGER_PAYMENT_PAID);
    assert_int_equal(notices(f, ALI), 1);
    assert_int_equal(balance(f->p, SARA), 380000);
    assert_int_equal(balance(f->p, ALI), 120000);
    /* Paid again with the same key: nothing moves, no event, no notice. */
    mark = rec_count;
    assert_int_equal(chatpay_pay(&f->ctx, SARA, chat, seq, "p-1", NOW + 20, &o), SB_OK);
    assert_true(o.replayed);
    chatpay_outcome_clear(&o);
    assert_int_equal(rec_find(mark, MESSENGER_EVENT_PAYMENT_STATUS, chat), 0);
    assert_int_equal(balance(f->p, SARA), 380000);
    assert_int_equal(notices(f, ALI), 1);

    /* A second request, declined. */
    assert_int_equal(chatpay_request(&f->ctx, ALI, chat, SARA, 5000, NULL, NOW + 3600000, "r-2", NOW, &o), SB_OK);
    int64_t seq2 = o.message.seq;
    chatpay_outcome_clear(&o);
    assert_int_equal(chatpay_decline(&f->ctx, SARA, chat, seq2, NOW, &o), SB_OK);
    assert_int_equal(o.message.status, MESSENGER_PAYMENT_DECLINED);
    chatpay_outcome_clear(&o);
    assert_int_equal(notices(f, ALI), 2);
    assert_int_equal(chatpay_pay(&f->ctx, SARA, chat, seq2, "p-2", NOW, &o), SB_EPERM);
    assert_string_equal(payments_request_verdict_name(o.receipt.verdict), "already_declined");
    chatpay_outcome_clear(&o);

    /* A third one expires: the maintenance pass turns its message expired. */
    assert_int_equal(chatpay_request(&f->ctx, ALI, chat, SARA, 7000, NULL, NOW + 1000, "r-3", NOW, &o), SB_OK);
    int64_t seq3 = o.message.seq;
    chatpay_outcome_clear(&o);
    int64_t expired = 0, updated = 0;
    assert_int_equal(chatpay_expire_due(&f->ctx, NOW + 500, &updated), SB_OK);
    assert_int_equal(updated, 0); /* not due yet */
    assert_int_equal(payops_request_expire_due(&f->ctx.ops, NOW + 2000, SB_PAYOPS_REQUEST_EXPIRE_PASS_MAX, &expired),
                     SB_OK);
    assert_int_equal(expired, 1);
    mark = rec_count;
    assert_int_equal(chatpay_expire_due(&f->ctx, NOW + 2000, &updated), SB_OK);
    assert_int_equal(updated, 1);
    const rec_event *e = rec_last(MESSENGER_EVENT_PAYMENT_STATUS, chat);
    assert_int_equal(e->seq, seq3);
    assert_int_equal(e->status, MESSENGER_PAYMENT_EXPIRED);
    assert_int_equal(e->recipient_count, 2);
    assert_int_equal(chatpay_expire_due(&f->ctx, NOW + 3000, &updated), SB_OK);
    assert_int_equal(updated, 0); /* done once */
    assert_int_equal(chatpay_get(&f->ctx, ALI, chat, seq3, NOW + 3000, &o), SB_OK);
    assert_int_equal(o.message.status, MESSENGER_PAYMENT_EXPIRED);
    chatpay_outcome_clear(&o);
    /* Reading a message outside the chat: no such chat. */
    assert_int_equal(chatpay_get(&f->ctx, REZA, chat, seq3, NOW, &o), SB_EPERM);
    assert_int_equal(o.refusal, CHATPAY_REFUSED_NOT_MEMBER);
    assert_int_equal(chatpay_get(&f->ctx, ALI, chat, 999, NOW, &o), SB_ENOTFOUND);
    assert_int_equal(o.refusal, CHATPAY_REFUSED_NO_SUCH_PAYMENT);
    assert_int_equal(balance(f->p, SARA), 380000);
    verify_ok(f->p);
}

/* ---- a group of four splits a restaurant bill ---- */

static void test_group_split(void **state) {
    cfix *f = *state;
    int64_t group = 0;
    assert_int_equal(messenger_group_create(f->p->s, ALI, "Dinner club", NOW, &group, NULL), SB_OK);
    assert_int_equal(messenger_group_add(f->p->s, ALI, group, SARA, NOW, NULL), SB_OK);
    assert_int_equal(messenger_group_add(f->p->s, ALI, group, REZA, NOW, NULL), SB_OK);
    deposit(f->p, SARA, 1000000, "ds");
    deposit(f->p, REZA, 1000000, "dr");
    deposit(f->p, MINA, 1000000, "dm");
    int64_t members[] = {ALI, SARA, REZA, MINA};
    /* 1,000,003 rials equally among four: 250,000 each and three rials left,
     * which go one each to the first three shares (largest remainder, ties
     * to the lower index): 250,001 / 250,001 / 250,001 / 250,000. */
    payments_split_spec spec = {.mode = PAYMENTS_SPLIT_EQUAL, .count = 4, .subtotal_minor = 1000003};
    chatpay_outcome o;
    /* MINA is not in the group yet: refused before anything. */
    assert_int_equal(
        chatpay_split(&f->ctx, ALI, group, members, 4, &spec, "Restaurant", NOW + 3600000, "sp-1", NOW, &o), SB_EPERM);
    assert_int_equal(o.refusal, CHATPAY_REFUSED_PAYEE_NOT_MEMBER);
    assert_int_equal(messenger_group_add(f->p->s, ALI, group, MINA, NOW, NULL), SB_OK);
    assert_int_equal(
        chatpay_split(&f->ctx, ALI, group, members, 4, &spec, "Restaurant", NOW + 3600000, "sp-1", NOW, &o), SB_OK);
    assert_int_equal(o.message.status, MESSENGER_PAYMENT_PENDING);
    assert_non_null(strstr(o.message.payload_json, "\"amount_minor\":1000003"));
    assert_non_null(strstr(o.message.payload_json,
                           "\"shares\":[{\"amount_minor\":250001,\"status\":\"paid\",\"user_id\":1},"
                           "{\"amount_minor\":250001,\"status\":\"pending\",\"user_id\":2},"
                           "{\"amount_minor\":250001,\"status\":\"pending\",\"user_id\":3},"
                           "{\"amount_minor\":250000,\"status\":\"pending\",\"user_id\":4}]"));
    int64_t seq = o.message.seq;
    chatpay_outcome_clear(&o);
    assert_int_equal(notices(f, SARA) + notices(f, REZA) + notices(f, MINA), 3);
    /* Each pays from the chat; each payment is seen live by all four. */
    int64_t payers[] = {SARA, REZA, MINA};
    const char *keys[] = {"pay-s", "pay-r", "pay-m"};
    for (size_t i = 0; i < 3; i++) {
        size_t mark = rec_count;
        assert_int_equal(chatpay_pay(&f->ctx, payers[i], group, seq, keys[i], NOW + 10 * (int64_t)i, &o), SB_OK);
        int want = i < 2 ? MESSENGER_PAYMENT_PENDING : MESSENGER_PAYMENT_PAID;
        assert_int_equal(o.message.status, want);
        chatpay_outcome_clear(&o);
        assert_int_equal(rec_find(mark, MESSENGER_EVENT_PAYMENT_STATUS, group), 1);
        const rec_event *e = rec_last(MESSENGER_EVENT_PAYMENT_STATUS, group);
        assert_int_equal(e->recipient_count, 4);
        assert_int_equal(e->status, want);
        char share[96];
        snprintf(share, sizeof share, "\"status\":\"paid\",\"user_id\":%lld}", (long long)payers[i]);
        assert_non_null(strstr(e->payload, share));
    }
    /* A retried payment moves nothing. */
    assert_int_equal(chatpay_pay(&f->ctx, SARA, group, seq, "pay-s", NOW + 100, &o), SB_OK);
    assert_true(o.replayed);
    chatpay_outcome_clear(&o);
    assert_int_equal(balance(f->p, ALI), 750002);
    assert_int_equal(balance(f->p, SARA), 749999);
    assert_int_equal(balance(f->p, REZA), 749999);
    assert_int_equal(balance(f->p, MINA), 750000);
    assert_int_equal(notices(f, ALI), 3); /* told of each share */
    /* The payer itself owes nothing; cancelling a fully paid split changes nothing. */
    assert_int_equal(chatpay_pay(&f->ctx, ALI, group, seq, "pay-a", NOW, &o), SB_EPERM);
    assert_int_equal(o.refusal, CHATPAY_REFUSED_NOT_THE_PAYER);
    assert_int_equal(chatpay_cancel(&f->ctx, SARA, group, seq, NOW, &o), SB_EPERM);
    assert_int_equal(o.refusal, CHATPAY_REFUSED_NOT_THE_REQUESTER);
    assert_int_equal(chatpay_cancel(&f->ctx, ALI, group, seq, NOW, &o), SB_OK);
    assert_int_equal(o.message.status, MESSENGER_PAYMENT_PAID);
    chatpay_outcome_clear(&o);
    verify_ok(f->p);
}

/* A split cancelled part way: the paid share stays paid, the rest declined. */
static void test_split_cancel_and_limit(void **state) {
    cfix *f = *state;
    int64_t group = 0;
    assert_int_equal(messenger_group_create(f->p->s, ALI, "Trip", NOW, &group, NULL), SB_OK);
    assert_int_equal(messenger_group_add(f->p->s, ALI, group, SARA, NOW, NULL), SB_OK);
    assert_int_equal(messenger_group_add(f->p->s, ALI, group, REZA, NOW, NULL), SB_OK);
    deposit(f->p, SARA, 100000, "ds");
    int64_t members[] = {SARA, REZA};
    int64_t values[] = {30000, 70000};
    payments_split_spec spec = {.mode = PAYMENTS_SPLIT_AMOUNTS, .count = 2, .values = values, .subtotal_minor = 100000};
    chatpay_outcome o;
    assert_int_equal(chatpay_split(&f->ctx, ALI, group, members, 2, &spec, NULL, NOW + 3600000, "sp", NOW, &o), SB_OK);
    int64_t seq = o.message.seq;
    chatpay_outcome_clear(&o);
    assert_int_equal(chatpay_pay(&f->ctx, SARA, group, seq, "p", NOW, &o), SB_OK);
    chatpay_outcome_clear(&o);
    assert_int_equal(chatpay_cancel(&f->ctx, ALI, group, seq, NOW, &o), SB_OK);
    assert_int_equal(o.message.status, MESSENGER_PAYMENT_DECLINED);
    assert_non_null(strstr(o.message.payload_json, "{\"amount_minor\":30000,\"status\":\"paid\",\"user_id\":2}"));
    assert_non_null(strstr(o.message.payload_json, "{\"amount_minor\":70000,\"status\":\"declined\",\"user_id\":3}"));
    chatpay_outcome_clear(&o);
    assert_int_equal(balance(f->p, ALI), 30000);
    /* Too many members for one chat split. */
    int64_t many[SB_CHATPAY_SPLIT_MEMBERS_MAX + 1];
    for (size_t i = 0; i < SB_ARRAY_LEN(many); i++)
        many[i] = (int64_t)i + 100;
    payments_split_spec big = {.mode = PAYMENTS_SPLIT_EQUAL, .count = SB_ARRAY_LEN(many), .subtotal_minor = 100000};
    assert_int_equal(
        chatpay_split(&f->ctx, ALI, group, many, SB_ARRAY_LEN(many), &big, NULL, NOW + 1000, "sp-big", NOW, &o),
        SB_ELIMIT);
    assert_int_equal(o.refusal, CHATPAY_REFUSED_TOO_MANY);
    verify_ok(f->p);
}

/* A chat request paid through /api/requests (payops directly, outside the
 * chat): the maintenance pass shows it paid in the chat. */
static void test_paid_outside_chat(void **state) {
    cfix *f = *state;
    deposit(f->p, SARA, 100000, "d1");
    int64_t chat = direct(f, ALI, SARA);
    chatpay_outcome o;
    assert_int_equal(chatpay_request(&f->ctx, ALI, chat, SARA, 40000, NULL, NOW + 3600000, "r-1", NOW, &o), SB_OK);
    int64_t seq = o.message.seq;
    payops_request req;
    assert_non_null(strstr(o.message.payload_json, "\"request_id\":"));
    chatpay_outcome_clear(&o);
    int64_t request_id = 0;
    assert_int_equal(store_query_int64(f->p->s, &request_id,
                                       "SELECT request_id FROM chatpay_links WHERE chat_id = ? AND seq = ?", "ii", chat,
                                       seq),
                     SB_OK);
    assert_int_equal(payops_request_get(&f->ctx.ops, SARA, request_id, &req), SB_OK);
    assert_int_equal(req.req.amount_minor, 40000);
    payops_receipt r;
    assert_int_equal(payops_request_pay(&f->ctx.ops, SARA, request_id, "outside", NOW + 10, &r), SB_OK);
    size_t mark = rec_count;
    int64_t updated = 0;
    assert_int_equal(chatpay_expire_due(&f->ctx, NOW + 20, &updated), SB_OK);
    assert_int_equal(updated, 1);
    assert_int_equal(rec_find(mark, MESSENGER_EVENT_PAYMENT_STATUS, chat), 1);
    assert_int_equal(rec_last(MESSENGER_EVENT_PAYMENT_STATUS, chat)->status, MESSENGER_PAYMENT_PAID);
    /* Checked once: the next pass has nothing to change. */
    assert_int_equal(chatpay_expire_due(&f->ctx, NOW + 30, &updated), SB_OK);
    assert_int_equal(updated, 0);
    assert_int_equal(balance(f->p, ALI), 40000);
    verify_ok(f->p);
}

/* Muted notices still arrive, marked silent. */
static void test_notice_muted(void **state) {
    cfix *f = *state;
    deposit(f->p, ALI, 10000, "d1");
    int64_t chat = direct(f, ALI, SARA);
    assert_int_equal(messenger_official_mute(f->p->s, SARA, true), SB_OK);
    chatpay_outcome o;
    size_t mark = rec_count;
    assert_int_equal(chatpay_send(&f->ctx, ALI, chat, SARA, 1000, NULL, "m-1", NOW, &o), SB_OK);
    chatpay_outcome_clear(&o);
    bool found = false;
    for (size_t i = mark; i < rec_count; i++)
        if (rec[i].type == MESSENGER_EVENT_MESSAGE_NEW && rec[i].chat_id != chat) {
            assert_true(rec[i].silent);
            assert_int_equal(rec[i].recipients[0], SARA);
            found = true;
        }
    assert_true(found);
    assert_int_equal(notices(f, SARA), 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_send_direct, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bill_and_topup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_pay_decline_expire, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notice_quotes_customer_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_split, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_cancel_and_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paid_outside_chat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notice_muted, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
