/*
 * test_messenger_bank.c - what the bank brings into chats: structured
 * payment messages and their status transitions, the bank's channel (staff
 * post, likes once per user, comments and shares with counts and events,
 * the listening hook), the official account with mute, bots (tokens,
 * keyboards, button presses, the dispatch hook), and an allocation-failure
 * sweep over a send.
 */
#include "messenger_fixture.h"

#include "identity/identity_int.h"

#define PAYMENT_JSON                                                                                                   \
    "{\"type\":\"payment\",\"transfer_id\":\"tr-1\",\"amount_minor\":250000,\"currency\":\"IRR\",\"status\":"          \
    "\"pending\"}"

static int64_t direct(fixture *f, int64_t a, int64_t b) {
    int64_t chat = 0;
    assert_int_equal(messenger_direct_open(f->s, a, b, T0, &chat, NULL), SB_OK);
    return chat;
}

/* ---- payments ---- */

static void test_payment_payload_rules(void **state) {
    (void)state;
    char *canonical = NULL;
    assert_int_equal(messenger_payment_payload_check(PAYMENT_JSON, strlen(PAYMENT_JSON), &canonical), SB_OK);
    assert_string_equal(canonical, "{\"amount_minor\":250000,\"currency\":\"IRR\",\"status\":\"pending\","
                                   "\"transfer_id\":\"tr-1\",\"type\":\"payment\"}");
    sb_free(canonical);
    static const char *const bad[] = {
        "[]",
        "{}",
        "{\"type\":\"payment\",\"transfer_id\":\"tr-1\",\"amount_minor\":0,\"currency\":\"IRR\",\"status\":"
        "\"pending\"}",
        "{\"type\":\"payment\",\"transfer_id\":\"tr-1\",\"amount_minor\":1.5,\"currency\":\"IRR\",\"status\":"
        "\"pending\"}",
        "{\"type\":\"payment\",\"transfer_id\":\"tr-1\",\"amount_minor\":\"5\",\"currency\":\"IRR\",\"status\":"
        "\"pending\"}",
        "{\"type\":\"payment\",\"transfer_id\":\"tr-1\",\"amount_minor\":5,\"currency\":\"irr\",\"status\":"
        "\"pending\"}",
        "{\"type\":\"payment\",\"transfer_id\":\"tr-1\",\"amount_minor\":5,\"currency\":\"IRR\",\"status\":"
        "\"refunded\"}",
        "{\"type\":\"payment\",\"transfer_id\":\"t r\",\"amount_minor\":5,\"currency\":\"IRR\",\"status\":\"pending\"}",
        "{\"type\":\"payment\",\"transfer_id\":\"tr-1\",\"amount_minor\":5,\"currency\":\"IRR\",\"status\":\"pending\","
        "\"extra\":1}",
        "{\"type\":\"payment\",\"type\":\"payment\",\"transfer_id\":\"tr-1\",\"amount_minor\":5,\"currency\":\"IRR\","
        "\"status\":\"pending\"}",
        "{\"type\":\"payment\",\"transfer_id\":\"tr-1\",\"amount_minor\":5,\"currency\":\"IRR\",\"status\":\"pending\","
        "\"kind\":\"steal\"}",
        "{\"type\":\"payment\"",
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        int result = messenger_payment_payload_check(bad[i], strlen(bad[i]), NULL);
        if (result != SB_EINVAL) fail_msg("payload %zu (%s) gave %d", i, bad[i], result);
    }
    const char *with_kind = "{\"type\":\"payment\",\"transfer_id\":\"tr-1\",\"amount_minor\":5,\"currency\":\"IRR\","
                            "\"status\":\"pending\",\"kind\":\"split\",\"note\":\"شام\"}";
    assert_int_equal(messenger_payment_payload_check(with_kind, strlen(with_kind), NULL), SB_OK);
    char big[SB_MESSENGER_PAYLOAD_BYTES_MAX + 2];
    memset(big, ' ', sizeof big);
    assert_int_equal(messenger_payment_payload_check(big, sizeof big, NULL), SB_ELIMIT);
}

static void test_payment_status_transitions(void **state) {
    fixture *f = *state;
    int64_t a = customer(f, NULL), b = customer(f, NULL);
    int64_t chat = direct(f, a, b);
    messenger_send_request req = {.chat_id = chat,
                                  .sender_id = a,
                                  .kind = MESSENGER_MSG_PAYMENT,
                                  .payload_json = PAYMENT_JSON,
                                  .client_id = "pay-1"};
    messenger_message m;
    messenger_events ev = {0};
    assert_int_equal(messenger_send(f->s, &req, T0, &m, NULL, &ev), SB_OK);
    assert_int_equal(m.status, MESSENGER_PAYMENT_PENDING);
    assert_null(m.text);
    int64_t seq = m.seq;
    messenger_message_clear(&m);
    /* Not deletable, not editable. */
    assert_int_equal(messenger_delete(f->s, a, chat, seq, T0, NULL), SB_ECONFLICT);
    assert_int_equal(messenger_edit(f->s, a, chat, seq, "x", T0, NULL), SB_ECONFLICT);
    assert_int_equal(messenger_payment_status_set(f->s, chat, seq, MESSENGER_PAYMENT_PENDING, T0, &ev), SB_OK);
    assert_int_equal(ev.count, 0); /* same status: no change, no event */
    assert_int_equal(messenger_payment_status_set(f->s, chat, seq, MESSENGER_PAYMENT_PAID, T0, &ev), SB_OK);
    assert_int_equal(ev.count, 1);
    assert_int_equal(ev.items[0].type, MESSENGER_EVENT_PAYMENT_STATUS);
    assert_int_equal(ev.items[0].message.status, MESSENGER_PAYMENT_PAID);
    assert_int_equal(ev.items[0].rev, 2);
    int64_t both[] = {a, b};
    assert_recipients(&ev.items[0], both, 2);
    char *json = NULL;
    assert_int_equal(messenger_event_render(&ev.items[0], &json, NULL), SB_OK);
    assert_non_null(strstr(json, "\"type\":\"payment.status\""));
    assert_non_null(strstr(json, "\"status\":\"paid\""));
    assert_non_null(strstr(json, "\"payload\":{\"amount_minor\":250000,"));
    sb_free(json);
    /* Retried: fine.  Going back or sideways: refused. */
    assert_int_equal(messenger_payment_status_set(f->s, chat, seq, MESSENGER_PAYMENT_PAID, T0, &ev), SB_OK);
    assert_int_equal(ev.count, 0);
    assert_int_equal(messenger_payment_status_set(f->s, chat, seq, MESSENGER_PAYMENT_PENDING, T0, &ev), SB_ECONFLICT);
    assert_int_equal(messenger_payment_status_set(f->s, chat, seq, MESSENGER_PAYMENT_DECLINED, T0, &ev), SB_ECONFLICT);
    assert_int_equal(messenger_payment_status_set(f->s, chat, seq, MESSENGER_PAYMENT_EXPIRED, T0, &ev), SB_ECONFLICT);
    assert_int_equal(messenger_payment_status_set(f->s, chat, seq, 99, T0, &ev), SB_EINVAL);
    assert_int_equal(messenger_payment_status_set(f->s, chat, seq + 1, MESSENGER_PAYMENT_PAID, T0, &ev), SB_ENOTFOUND);
    /* A second payment declined, a third expired; then neither can be paid. */
    req.client_id = "pay-2";
    assert_int_equal(messenger_send(f->s, &req, T0, &m, NULL, NULL), SB_OK);
    assert_int_equal(messenger_payment_status_set(f->s, chat, m.seq, MESSENGER_PAYMENT_DECLINED, T0, NULL), SB_OK);
    assert_int_equal(messenger_payment_status_set(f->s, chat, m.seq, MESSENGER_PAYMENT_PAID, T0, NULL), SB_ECONFLICT);
    messenger_message_clear(&m);
    req.client_id = "pay-3";
    assert_int_equal(messenger_send(f->s, &req, T0, &m, NULL, NULL), SB_OK);
    assert_int_equal(messenger_payment_status_set(f->s, chat, m.seq, MESSENGER_PAYMENT_EXPIRED, T0, NULL), SB_OK);
    assert_int_equal(messenger_payment_status_set(f->s, chat, m.seq, MESSENGER_PAYMENT_PAID, T0, NULL), SB_ECONFLICT);
    messenger_message_clear(&m);
    /* Not a payment. */
    int64_t text_seq = send_text(f, chat, a, "thanks");
    assert_int_equal(messenger_payment_status_set(f->s, chat, text_seq, MESSENGER_PAYMENT_PAID, T0, NULL), SB_EINVAL);
    /* The stored status is what was set. */
    assert_int_equal(messenger_message_get(f->s, b, chat, seq, &m), SB_OK);
    assert_int_equal(m.status, MESSENGER_PAYMENT_PAID);
    messenger_message_clear(&m);
    /* A payment with a bad payload or a text message with a payload: refused. */
    req.payload_json = "{\"type\":\"payment\"}";
    assert_int_equal(messenger_send(f->s, &req, T0, NULL, NULL, NULL), SB_EINVAL);
    messenger_events_clear(&ev);
    int status = 0;
    assert_int_equal(messenger_payment_status_parse("expired", &status), SB_OK);
    assert_int_equal(status, MESSENGER_PAYMENT_EXPIRED);
    assert_int_equal(messenger_payment_status_parse("PAID", &status), SB_EINVAL);
}

#define SPLIT_JSON(s1, s2, status)                                                                                     \
    "{\"type\":\"payment\",\"kind\":\"split\",\"transfer_id\":\"split-1\",\"amount_minor\":300,\"currency\":\"IRR\","  \
    "\"status\":\"" status "\",\"shares\":[{\"user_id\":1,\"amount_minor\":100,\"status\":\"paid\"},"                  \
    "{\"user_id\":2,\"amount_minor\":150,\"status\":\"" s1 "\"},{\"user_id\":3,\"amount_minor\":50,\"status\":\"" s2   \
    "\"}]}"

/* Shares: validated, merged monotonically, the status derived from them. */
static void test_payment_update_shares(void **state) {
    fixture *f = *state;
    int64_t a = customer(f, NULL), b = customer(f, NULL);
    int64_t chat = direct(f, a, b);
    /* Shape: amounts must sum to the total, users distinct, statuses named. */
    static const char *const bad[] = {
        "{\"type\":\"payment\",\"transfer_id\":\"t\",\"amount_minor\":300,\"currency\":\"IRR\",\"status\":\"pending\","
        "\"shares\":[{\"user_id\":1,\"amount_minor\":100,\"status\":\"paid\"}]}",
        "{\"type\":\"payment\",\"transfer_id\":\"t\",\"amount_minor\":200,\"currency\":\"IRR\",\"status\":\"pending\","
        "\"shares\":[{\"user_id\":1,\"amount_minor\":100,\"status\":\"paid\"},{\"user_id\":1,\"amount_minor\":100,"
        "\"status\":\"paid\"}]}",
        "{\"type\":\"payment\",\"transfer_id\":\"t\",\"amount_minor\":100,\"currency\":\"IRR\",\"status\":\"pending\","
        "\"shares\":[{\"user_id\":1,\"amount_minor\":100,\"status\":\"owed\"}]}",
        "{\"type\":\"payment\",\"transfer_id\":\"t\",\"amount_minor\":100,\"currency\":\"IRR\",\"status\":\"pending\","
        "\"shares\":[{\"user_id\":1,\"amount_minor\":100,\"status\":\"paid\",\"x\":1}]}",
        "{\"type\":\"payment\",\"transfer_id\":\"t\",\"amount_minor\":100,\"currency\":\"IRR\",\"status\":\"pending\","
        "\"shares\":[]}",
        "{\"type\":\"payment\",\"transfer_id\":\"t\",\"amount_minor\":100,\"currency\":\"IRR\",\"status\":\"pending\","
        "\"request_id\":0}",
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        int result = messenger_payment_payload_check(bad[i], strlen(bad[i]), NULL);
        if (result != SB_EINVAL) fail_msg("payload %zu (%s) gave %d", i, bad[i], result);
    }
    messenger_send_request req = {.chat_id = chat,
                                  .sender_id = a,
                                  .kind = MESSENGER_MSG_PAYMENT,
                                  .payload_json = SPLIT_JSON("pending", "pending", "pending")};
    messenger_message m;
    assert_int_equal(messenger_send(f->s, &req, T0, &m, NULL, NULL), SB_OK);
    int64_t seq = m.seq, rev = m.rev;
    messenger_message_clear(&m);
    /* A message may not start declined. */
    req.payload_json = SPLIT_JSON("pending", "pending", "declined");
    assert_int_equal(messenger_send(f->s, &req, T0, NULL, NULL, NULL), SB_EINVAL);
    messenger_events ev = {0};
    /* Share 2 paid: a new rev, one event, still pending (share 3 owes). */
    assert_int_equal(messenger_payment_update(f->s, chat, seq, SPLIT_JSON("paid", "pending", "pending"), T0, &ev),
                     SB_OK);
    assert_int_equal(ev.count, 1);
    assert_int_equal(ev.items[0].type, MESSENGER_EVENT_PAYMENT_STATUS);
    assert_int_equal(ev.items[0].message.status, MESSENGER_PAYMENT_PENDING);
    assert_true(ev.items[0].rev > rev);
    /* A late update read before share 2 paid: share 2 stays paid. */
    assert_int_equal(messenger_payment_update(f->s, chat, seq, SPLIT_JSON("pending", "paid", "pending"), T0, &ev),
                     SB_OK);
    assert_int_equal(ev.count, 1);
    assert_int_equal(ev.items[0].message.status, MESSENGER_PAYMENT_PAID); /* derived: all paid */
    assert_non_null(strstr(ev.items[0].message.payload_json, "\"status\":\"paid\",\"user_id\":2"));
    assert_non_null(strstr(ev.items[0].message.payload_json, "\"status\":\"paid\",\"user_id\":3"));
    /* The same again: no change, no event. */
    assert_int_equal(messenger_payment_update(f->s, chat, seq, SPLIT_JSON("paid", "paid", "paid"), T0, &ev), SB_OK);
    assert_int_equal(ev.count, 0);
    /* Immutable fields and the shares' users and amounts cannot change. */
    const char *other_amount =
        "{\"type\":\"payment\",\"kind\":\"split\",\"transfer_id\":\"split-1\",\"amount_minor\":300,\"currency\":"
        "\"IRR\",\"status\":\"paid\",\"shares\":[{\"user_id\":1,\"amount_minor\":150,\"status\":\"paid\"},"
        "{\"user_id\":2,\"amount_minor\":100,\"status\":\"paid\"},{\"user_id\":3,\"amount_minor\":50,\"status\":"
        "\"paid\"}]}";
    assert_int_equal(messenger_payment_update(f->s, chat, seq, other_amount, T0, &ev), SB_EINVAL);
    assert_int_equal(messenger_payment_update(f->s, chat, seq, PAYMENT_JSON, T0, &ev), SB_EINVAL);
    assert_int_equal(messenger_payment_update(f->s, chat, seq + 5, SPLIT_JSON("paid", "paid", "paid"), T0, &ev),
                     SB_ENOTFOUND);
    /* Read back as stored, also by the trusted reader. */
    assert_int_equal(messenger_payment_get(f->s, chat, seq, &m), SB_OK);
    assert_int_equal(m.status, MESSENGER_PAYMENT_PAID);
    assert_non_null(strstr(m.payload_json, "\"status\":\"paid\",\"transfer_id\""));
    messenger_message_clear(&m);
    int64_t text_seq = send_text(f, chat, b, "ok");
    assert_int_equal(messenger_payment_get(f->s, chat, text_seq, &m), SB_EINVAL);
    /* Without shares the payload's status moves like status_set. */
    req.payload_json = PAYMENT_JSON;
    assert_int_equal(messenger_send(f->s, &req, T0, &m, NULL, NULL), SB_OK);
    seq = m.seq;
    messenger_message_clear(&m);
    const char *declined = "{\"type\":\"payment\",\"transfer_id\":\"tr-1\",\"amount_minor\":250000,\"currency\":"
                           "\"IRR\",\"status\":\"declined\"}";
    const char *pending = "{\"type\":\"payment\",\"transfer_id\":\"tr-1\",\"amount_minor\":250000,\"currency\":"
                          "\"IRR\",\"status\":\"pending\"}";
    assert_int_equal(messenger_payment_update(f->s, chat, seq, declined, T0, &ev), SB_OK);
    assert_int_equal(ev.count, 1);
    assert_int_equal(messenger_payment_update(f->s, chat, seq, pending, T0, &ev), SB_ECONFLICT);
    messenger_events_clear(&ev);
}

/* ---- the channel ---- */

static void test_channel_posts_likes_comments_shares(void **state) {
    fixture *f = *state;
    int64_t marketer = staff(f, "marketer", "mona"), analyst = staff(f, "analyst", "ali");
    int64_t c1 = customer(f, NULL), c2 = customer(f, NULL), c3 = customer(f, NULL);
    messenger_events ev = {0};
    messenger_message post;
    /* Customers and non-marketing staff cannot post. */
    assert_int_equal(messenger_channel_post(f->s, c1, "spam", T0, NULL, NULL), SB_EPERM);
    assert_int_equal(messenger_channel_post(f->s, analyst, "hi", T0, NULL, NULL), SB_EPERM);
    assert_int_equal(messenger_channel_subscribe(f->s, c1, T0, &ev), SB_OK);
    assert_int_equal(ev.count, 1);
    int64_t only_c1[] = {c1};
    assert_recipients(&ev.items[0], only_c1, 1);
    assert_int_equal(messenger_channel_subscribe(f->s, c1, T0, &ev), SB_OK); /* idempotent */
    assert_int_equal(ev.count, 0);
    assert_int_equal(messenger_channel_subscribe(f->s, c2, T0, NULL), SB_OK);
    assert_int_equal(messenger_channel_post(f->s, marketer, "New loans!", T0, &post, &ev), SB_OK);
    assert_int_equal(post.kind, MESSENGER_MSG_POST);
    int64_t audience[] = {marketer, c1, c2};
    assert_recipients(&ev.items[0], audience, 3);
    int64_t channel = post.chat_id, post_seq = post.seq;
    messenger_message_clear(&post);
    int64_t check = 0;
    assert_int_equal(messenger_channel_id(f->s, T0, &check), SB_OK);
    assert_int_equal(check, channel);
    /* A subscriber cannot write plain messages or list subscribers. */
    assert_int_equal(send_result(f, channel, c1, "hello channel"), SB_EPERM);
    messenger_member members[4];
    size_t n = 0;
    assert_int_equal(messenger_member_list(f->s, c1, channel, 0, members, 4, &n), SB_EPERM);
    assert_int_equal(messenger_member_list(f->s, marketer, channel, 0, members, 4, &n), SB_OK);
    assert_int_equal(n, 3);
    /* Likes: once per user; a non-subscriber cannot. */
    assert_int_equal(messenger_channel_like(f->s, c1, post_seq, T0, &ev), SB_OK);
    assert_int_equal(ev.items[0].type, MESSENGER_EVENT_POST_COUNTS);
    assert_int_equal(ev.items[0].message.like_count, 1);
    assert_int_equal(messenger_channel_like(f->s, c1, post_seq, T0, &ev), SB_EEXISTS);
    assert_int_equal(ev.count, 0);
    assert_int_equal(messenger_channel_like(f->s, c2, post_seq, T0, NULL), SB_OK);
    assert_int_equal(messenger_channel_like(f->s, c3, post_seq, T0, NULL), SB_EPERM);
    assert_int_equal(messenger_channel_like(f->s, c1, post_seq + 7, T0, NULL), SB_ENOTFOUND);
    /* Comments: a message replying to the post, the count rises, listening hears it. */
    messenger_message comment;
    assert_int_equal(messenger_channel_comment(f->s, c2, post_seq, "rates?", "cm-1", T0, &comment, &ev), SB_OK);
    assert_int_equal(ev.count, 2);
    assert_int_equal(ev.items[0].type, MESSENGER_EVENT_MESSAGE_NEW);
    assert_int_equal(ev.items[0].message.kind, MESSENGER_MSG_COMMENT);
    assert_int_equal(ev.items[0].message.reply_to_seq, post_seq);
    assert_int_equal(ev.items[1].type, MESSENGER_EVENT_POST_COUNTS);
    assert_int_equal(ev.items[1].message.comment_count, 1);
    assert_string_equal(comment.text, "rates?");
    /* Likes and comments only on posts, not on comments. */
    assert_int_equal(messenger_channel_like(f->s, c1, comment.seq, T0, NULL), SB_ENOTFOUND);
    messenger_message_clear(&comment);
    /* The same client id again: the first comment, no count, no hook. */
    assert_int_equal(messenger_channel_comment(f->s, c2, post_seq, "rates??", "cm-1", T0, NULL, &ev), SB_OK);
    assert_int_equal(ev.count, 0); /* no events: the caller's comment hook is not called */
    assert_int_equal(messenger_channel_comment(f->s, c3, post_seq, "x", NULL, T0, NULL, NULL), SB_EPERM);
    /* Shares: into a chat the sharer is in. */
    int64_t chat = direct(f, c1, c3);
    messenger_message share;
    assert_int_equal(messenger_channel_share(f->s, c1, post_seq, chat, T0, &share, &ev), SB_OK);
    assert_int_equal(share.kind, MESSENGER_MSG_SHARE);
    char want[64];
    snprintf(want, sizeof want, "{\"chat_id\":%lld,\"seq\":%lld}", (long long)channel, (long long)post_seq);
    assert_string_equal(share.payload_json, want);
    messenger_message_clear(&share);
    int64_t pair[] = {c1, c3};
    assert_recipients(&ev.items[0], pair, 2);
    assert_int_equal(ev.items[1].message.share_count, 1);
    int64_t other = direct(f, c2, c3);
    assert_int_equal(messenger_channel_share(f->s, c1, post_seq, other, T0, NULL, NULL), SB_EPERM);
    /* The counts as stored. */
    assert_int_equal(messenger_message_get(f->s, c1, channel, post_seq, &post), SB_OK);
    assert_int_equal(post.like_count, 2);
    assert_int_equal(post.comment_count, 1);
    assert_int_equal(post.share_count, 1);
    char *json = NULL;
    assert_int_equal(messenger_message_render(&post, &json, NULL), SB_OK);
    assert_non_null(strstr(json, "\"likes\":2,\"comments\":1,\"shares\":1"));
    sb_free(json);
    messenger_message_clear(&post);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM msg_likes"), 2);
    /* Unsubscribed: out. */
    assert_int_equal(messenger_channel_unsubscribe(f->s, c2), SB_OK);
    assert_int_equal(messenger_channel_unsubscribe(f->s, c2), SB_OK);
    assert_int_equal(messenger_channel_comment(f->s, c2, post_seq, "back?", NULL, T0, NULL, NULL), SB_EPERM);
    messenger_events_clear(&ev);
}

/* ---- the official account ---- */

static void test_official_notify_and_mute(void **state) {
    fixture *f = *state;
    int64_t a = customer(f, NULL), b = customer(f, NULL);
    messenger_events ev = {0};
    messenger_message m;
    assert_int_equal(
        messenger_official_notify(f->s, a, "Your transfer arrived", "{\"transfer_id\":\"t1\"}", T0, &m, &ev), SB_OK);
    assert_int_equal(m.sender_id, 0);
    assert_int_equal(m.kind, MESSENGER_MSG_NOTICE);
    int64_t official = m.chat_id;
    messenger_message_clear(&m);
    int64_t only_a[] = {a};
    assert_recipients(&ev.items[0], only_a, 1);
    assert_false(ev.items[0].silent);
    /* One official chat per user; nobody writes into it but the bank. */
    assert_int_equal(messenger_official_notify(f->s, a, "second", NULL, T0, &m, NULL), SB_OK);
    assert_int_equal(m.chat_id, official);
    assert_int_equal(m.seq, 2);
    messenger_message_clear(&m);
    assert_int_equal(send_result(f, official, a, "reply"), SB_EPERM);
    assert_int_equal(messenger_typing(f->s, a, official, NULL), SB_EPERM);
    messenger_message page[4];
    size_t n = 0;
    assert_int_equal(messenger_history(f->s, b, official, 0, 0, 4, page, &n), SB_EPERM);
    /* Muted: still delivered (for sync), marked silent. */
    assert_int_equal(messenger_official_mute(f->s, a, true), SB_OK);
    assert_int_equal(messenger_official_notify(f->s, a, "promo", NULL, T0, NULL, &ev), SB_OK);
    assert_true(ev.items[0].silent);
    char *json = NULL;
    assert_int_equal(messenger_event_render(&ev.items[0], &json, NULL), SB_OK);
    assert_non_null(strstr(json, "\"silent\":true"));
    assert_non_null(strstr(json, "\"sender_id\":null"));
    sb_free(json);
    assert_int_equal(messenger_official_mute(f->s, a, false), SB_OK);
    assert_int_equal(messenger_official_notify(f->s, a, "unmuted", NULL, T0, NULL, &ev), SB_OK);
    assert_false(ev.items[0].silent);
    assert_int_equal(messenger_official_notify(f->s, a, "x", "[1]", T0, NULL, NULL), SB_EINVAL);
    assert_int_equal(messenger_official_notify(f->s, 9999, "x", NULL, T0, NULL, NULL), SB_ENOTFOUND);
    assert_int_equal(messenger_official_mute(f->s, 9999, true), SB_ENOTFOUND);
    messenger_events_clear(&ev);
}

/* ---- bots ---- */

static int bot_events;
static int64_t bot_heard_from;

static void on_bot_event(store *s, int64_t bot_id, const messenger_event *event, void *arg) {
    (void)arg;
    bot_events++;
    bot_heard_from = event->actor_id;
    /* The hook answers in the chat, as the service bot will. */
    if (event->type == MESSENGER_EVENT_MESSAGE_NEW) {
        messenger_send_request req = {
            .chat_id = event->chat_id, .sender_id = bot_id, .kind = MESSENGER_MSG_TEXT, .text = "echo"};
        messenger_events mine = {0};
        assert_int_equal(messenger_send(s, &req, T0, NULL, NULL, &mine), SB_OK);
        /* Its own answer does not come back to it. */
        messenger_dispatch_bots(s, &mine, on_bot_event, NULL);
        messenger_events_clear(&mine);
    }
}

static void test_bots(void **state) {
    fixture *f = *state;
    identity__pwhash_set_fast(true);
    int64_t a = customer(f, NULL), b = customer(f, NULL);
    char token[MESSENGER_BOT_TOKEN_CHARS + 1];
    int64_t bot = 0;
    assert_int_equal(messenger_bot_create(f->s, "helper", T0, token, &bot), SB_EINVAL); /* must end in bot */
    assert_int_equal(messenger_bot_create(f->s, "help_bot", T0, token, &bot), SB_OK);
    assert_int_equal(strlen(token), MESSENGER_BOT_TOKEN_CHARS);
    char token2[MESSENGER_BOT_TOKEN_CHARS + 1];
    int64_t bot2 = 0;
    assert_int_equal(messenger_bot_create(f->s, "help_bot", T0, token2, &bot2), SB_EEXISTS);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM msg_bots"), 1);
    int64_t who = 0;
    assert_int_equal(messenger_bot_authenticate(f->s, token, &who), SB_OK);
    assert_int_equal(who, bot);
    char wrong[MESSENGER_BOT_TOKEN_CHARS + 1];
    memcpy(wrong, token, sizeof wrong);
    wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
    assert_int_equal(messenger_bot_authenticate(f->s, wrong, &who), SB_EAUTH);
    assert_int_equal(messenger_bot_authenticate(f->s, "short", &who), SB_EAUTH);
    assert_int_equal(messenger_bot_authenticate(f->s, NULL, &who), SB_EAUTH);
    /* The token is not stored in clear. */
    int64_t clear = -1;
    assert_int_equal(store_query_int64(f->s, &clear, "SELECT COUNT(*) FROM msg_bots WHERE token_hash = ?", "t", token),
                     SB_OK);
    assert_int_equal(clear, 0);

    /* In a group, the bot is a recipient and is flagged as a bot. */
    int64_t g = 0;
    assert_int_equal(messenger_group_create(f->s, a, "with bot", T0, &g, NULL), SB_OK);
    assert_int_equal(messenger_group_add(f->s, a, g, b, T0, NULL), SB_OK);
    assert_int_equal(messenger_group_add(f->s, a, g, bot, T0, NULL), SB_OK);
    messenger_events ev = {0};
    messenger_send_request req = {.chat_id = g, .sender_id = a, .kind = MESSENGER_MSG_TEXT, .text = "/balance"};
    assert_int_equal(messenger_send(f->s, &req, T0, NULL, NULL, &ev), SB_OK);
    int64_t all[] = {a, b, bot};
    assert_recipients(&ev.items[0], all, 3);
    assert_int_equal(ev.items[0].bot_recipient_count, 1);
    assert_int_equal(ev.items[0].bot_recipients[0], bot);
    bot_events = 0;
    messenger_dispatch_bots(f->s, &ev, on_bot_event, NULL);
    assert_int_equal(bot_events, 1);
    assert_int_equal(bot_heard_from, a);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM msg_messages"), 2); /* the question and the echo */

    /* Keyboards: only from bots. */
    const char *keyboard = "{\"buttons\":[[{\"text\":\"Yes, block it\",\"data\":\"block:yes\"},"
                           "{\"text\":\"No\",\"data\":\"block:no\"}]]}";
    messenger_send_request kb = {.chat_id = g,
                                 .sender_id = a,
                                 .kind = MESSENGER_MSG_KEYBOARD,
                                 .text = "Block card 6037-99**-****-1234?",
                                 .payload_json = keyboard};
    assert_int_equal(messenger_send(f->s, &kb, T0, NULL, NULL, NULL), SB_EPERM);
    kb.sender_id = bot;
    messenger_message m;
    assert_int_equal(messenger_send(f->s, &kb, T0, &m, NULL, NULL), SB_OK);
    int64_t kb_seq = m.seq;
    messenger_message_clear(&m);
    /* A press reaches the bot only. */
    assert_int_equal(messenger_bot_press(f->s, b, g, kb_seq, "block:yes", &ev), SB_OK);
    assert_int_equal(ev.count, 1);
    assert_int_equal(ev.items[0].type, MESSENGER_EVENT_BOT_CALLBACK);
    int64_t only_bot[] = {bot};
    assert_recipients(&ev.items[0], only_bot, 1);
    char *json = NULL;
    assert_int_equal(messenger_event_render(&ev.items[0], &json, NULL), SB_OK);
    char want[160];
    snprintf(want, sizeof want,
             "{\"type\":\"bot.callback\",\"chat_id\":%lld,\"seq\":%lld,\"user_id\":%lld,\"data\":\"block:yes\"}",
             (long long)g, (long long)kb_seq, (long long)b);
    assert_string_equal(json, want);
    sb_free(json);
    bot_events = 0;
    messenger_dispatch_bots(f->s, &ev, on_bot_event, NULL);
    assert_int_equal(bot_events, 1);
    assert_int_equal(messenger_bot_press(f->s, b, g, kb_seq, "block:maybe", &ev), SB_ENOTFOUND);
    assert_int_equal(messenger_bot_press(f->s, b, g, 1, "block:yes", &ev), SB_ENOTFOUND);
    /* Bad keyboards. */
    kb.payload_json = "{\"buttons\":[]}";
    assert_int_equal(messenger_send(f->s, &kb, T0, NULL, NULL, NULL), SB_EINVAL);
    kb.payload_json = "{\"buttons\":[[{\"text\":\"x\",\"data\":\"has space\"}]]}";
    assert_int_equal(messenger_send(f->s, &kb, T0, NULL, NULL, NULL), SB_EINVAL);
    kb.payload_json = "{\"buttons\":[[{\"text\":\"x\",\"data\":\"d\",\"url\":\"http://evil\"}]]}";
    assert_int_equal(messenger_send(f->s, &kb, T0, NULL, NULL, NULL), SB_EINVAL);
    messenger_events_clear(&ev);
}

/* ---- allocation failures ---- */

static void test_send_allocation_failure_sweep(void **state) {
    fixture *f = *state;
    int64_t a = customer(f, NULL), b = customer(f, NULL), c = customer(f, NULL);
    int64_t g = 0;
    assert_int_equal(messenger_group_create(f->s, a, "sweep", T0, &g, NULL), SB_OK);
    assert_int_equal(messenger_group_add(f->s, a, g, b, T0, NULL), SB_OK);
    assert_int_equal(messenger_group_add(f->s, a, g, c, T0, NULL), SB_OK);
    int64_t expected_seq = 1;
    bool completed = false;
    for (long n = 0; n < 200 && !completed; n++) {
        char client_id[32];
        snprintf(client_id, sizeof client_id, "sweep-%ld", n);
        messenger_send_request req = {.chat_id = g,
                                      .sender_id = a,
                                      .kind = MESSENGER_MSG_PAYMENT,
                                      .text = "dinner",
                                      .payload_json = PAYMENT_JSON,
                                      .client_id = client_id};
        messenger_message m = {0};
        messenger_events ev = {0};
        sb_alloc_fail_after(n);
        int result = messenger_send(f->s, &req, T0, &m, NULL, &ev);
        sb_alloc_fail_reset();
        if (result == SB_OK) {
            /* Done: the message and all three recipients are there. */
            assert_int_equal(m.seq, expected_seq);
            assert_int_equal(ev.count, 1);
            assert_int_equal(ev.items[0].recipient_count, 3);
            completed = true;
        } else {
            /* Failed cleanly: nothing written, no event, the seq not taken. */
            assert_true(result == SB_ENOMEM || result == SB_EIO);
            assert_int_equal(ev.count, 0);
            assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM msg_messages"), expected_seq - 1);
            assert_int_equal(count_rows(f->s, "SELECT last_seq FROM msg_chats"), expected_seq - 1);
        }
        messenger_message_clear(&m);
        messenger_events_clear(&ev);
    }
    assert_true(completed);
    /* The store still works. */
    assert_int_equal(send_text(f, g, b, "after"), 2);
    /* Rendering under failures too. */
    messenger_message m;
    assert_int_equal(messenger_message_get(f->s, a, g, 1, &m), SB_OK);
    for (long n = 0; n < 20; n++) {
        char *json = NULL;
        sb_alloc_fail_after(n);
        int result = messenger_message_render(&m, &json, NULL);
        sb_alloc_fail_reset();
        if (result == SB_OK) {
            sb_free(json);
            break;
        }
        assert_int_equal(result, SB_ENOMEM);
    }
    messenger_message_clear(&m);
}

/* The owner leaving (two events, a hand-off) and a batch, failing each
 * allocation in turn: every failure leaves the group as it was. */
static void test_leave_and_batch_allocation_failure_sweep(void **state) {
    fixture *f = *state;
    int64_t owner = customer(f, NULL), admin = customer(f, NULL), member = customer(f, NULL);
    int64_t g = 0;
    assert_int_equal(messenger_group_create(f->s, owner, "sweep", T0, &g, NULL), SB_OK);
    assert_int_equal(messenger_group_add(f->s, owner, g, admin, T0, NULL), SB_OK);
    assert_int_equal(messenger_group_add(f->s, owner, g, member, T0, NULL), SB_OK);
    assert_int_equal(messenger_group_set_role(f->s, owner, g, admin, MESSENGER_ROLE_ADMIN, NULL), SB_OK);
    bool completed = false;
    for (long n = 0; n < 100 && !completed; n++) {
        messenger_events ev = {0};
        sb_alloc_fail_after(n);
        int result = messenger_group_leave(f->s, owner, g, &ev);
        sb_alloc_fail_reset();
        if (result == SB_OK) {
            assert_int_equal(ev.count, 2);
            assert_int_equal(ev.items[1].subject_id, admin);
            completed = true;
        } else {
            assert_int_equal(result, SB_ENOMEM);
            assert_int_equal(ev.count, 0);
            assert_int_equal(count_rows(f->s, "SELECT member_count FROM msg_chats"), 3);
            assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM msg_members WHERE role = 'owner'"), 1);
        }
        messenger_events_clear(&ev);
    }
    assert_true(completed);
    completed = false;
    for (long n = 0; n < 200 && !completed; n++) {
        messenger_send_request reqs[3] = {
            {.chat_id = g, .sender_id = admin, .kind = MESSENGER_MSG_TEXT, .text = "a", .client_id = "k1"},
            {.chat_id = g, .sender_id = owner, .kind = MESSENGER_MSG_TEXT, .text = "gone"},
            {.chat_id = g, .sender_id = member, .kind = MESSENGER_MSG_TEXT, .text = "b"},
        };
        messenger_send_outcome out[3];
        sb_alloc_fail_after(n);
        int result = messenger_send_batch(f->s, reqs, 3, T0, out);
        sb_alloc_fail_reset();
        if (result != SB_OK) {
            /* The transaction itself failed (a statement of the savepoint
             * machinery could not be prepared): all or nothing. */
            assert_int_equal(result, SB_ENOMEM);
            for (int k = 0; k < 3; k++) {
                assert_int_equal(out[k].result, SB_ENOMEM);
                assert_int_equal(out[k].events.count, 0);
            }
            assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM msg_messages"), 0);
            continue;
        }
        /* Otherwise allocation failures are per request. */
        if (out[1].result != SB_ENOMEM) assert_int_equal(out[1].result, SB_EPERM); /* the owner left */
        int64_t ok = (out[0].result == SB_OK) + (out[2].result == SB_OK);
        /* Exactly the successful ones are stored, with dense seqs. */
        assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM msg_messages"), ok);
        assert_int_equal(count_rows(f->s, "SELECT last_seq FROM msg_chats"), ok);
        for (int k = 0; k < 3; k++)
            if (out[k].result != SB_OK) assert_int_equal(out[k].events.count, 0);
        if (ok == 2) completed = true;
        messenger_send_outcomes_clear(out, 3);
        if (!completed) {
            assert_int_equal(store_exec(f->s, "DELETE FROM msg_messages", NULL), SB_OK);
            assert_int_equal(store_exec(f->s, "UPDATE msg_chats SET last_seq = 0, last_rev = 0", NULL), SB_OK);
        }
    }
    assert_true(completed);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_payment_payload_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_payment_status_transitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_payment_update_shares, setup, teardown),
        cmocka_unit_test_setup_teardown(test_channel_posts_likes_comments_shares, setup, teardown),
        cmocka_unit_test_setup_teardown(test_official_notify_and_mute, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_allocation_failure_sweep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leave_and_batch_allocation_failure_sweep, setup, teardown),
    };
    sb_log_set_level(SB_LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
