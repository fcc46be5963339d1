/*
 * test_bots.c - the bot API and the bank's service bot over real HTTP and
 * WebSocket connections to `socialbank serve`:
 *   - an admin creates a third-party bot (token shown once); a customer finds
 *     it, opens a 1:1 chat and writes; the bot reads the message as an
 *     update (cursor, each once), answers with an inline keyboard that the
 *     customer receives over WebSocket, the customer presses a button and
 *     the bot gets the callback as its next update;
 *   - authentication: no, malformed, unknown tokens 401; a session token on
 *     a bot route and a bot token on a customer route 403; a bot sees only
 *     its own inbox; a bot cannot write in a chat it is not a member of;
 *   - @bankbot, created by serve at start: a customer asks for the balance
 *     and receives the answer (the wallet's figure) over WebSocket.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "integration/harness.h"

/* A bound on one pushed event (not a speed claim: ASan on a loaded box). */
#define PUSH_BOUND_MS 10000

static harness_server *srv;
static int phones;
static char admin_token[HARNESS_TOKEN_BYTES];

typedef harness_customer user;

HARNESS_GROUP_FIXTURES(srv, admin_token)

static user login(void) { return harness_customer_next(srv, "0912444", &phones); }

/* A request with an Authorization header as given ("Bot <token>"). */
static harness_response call_as(const char *method, const char *path, const char *authorization, const char *body) {
    char header[256];
    snprintf(header, sizeof header, "Authorization: %s", authorization);
    const char *extra[] = {header, NULL};
    harness_response r;
    assert_int_equal(harness_http(srv->port, method, path, NULL, body ? "application/json" : NULL, body,
                                  body ? strlen(body) : 0, extra, &r),
                     SB_OK);
    return r;
}

static harness_response bot_call(const char *bot_token, const char *method, const char *path, const char *body) {
    char auth[128];
    snprintf(auth, sizeof auth, "Bot %s", bot_token);
    return call_as(method, path, auth, body);
}

/* An admin creates a bot; its token into token_out. */
static json_int_t create_bot(const char *username, char token_out[HARNESS_TOKEN_BYTES]) {
    char body[128];
    snprintf(body, sizeof body, "{\"username\":\"%s\"}", username);
    harness_response r = harness_call(srv, "POST", "/api/admin/bots", admin_token, body);
    HARNESS_ASSERT_STATUS(r, 201);
    /* "<bot id>:<secret>", the id in at least three digits; the old routes
     * take the secret alone (kept here) as well as the whole */
    const char *token = harness_json_str(r.json, "token");
    json_int_t id = harness_json_int(r.json, "bot.id");
    const char *colon = strchr(token, ':');
    assert_non_null(colon);
    assert_true(colon - token >= 3);
    assert_int_equal(strtoll(token, NULL, 10), id);
    assert_int_equal(strlen(colon + 1), 64);
    snprintf(token_out, HARNESS_TOKEN_BYTES, "%s", colon + 1);
    assert_string_equal(harness_json_str(r.json, "bot.username"), username);
    harness_response_free(&r);
    return id;
}

static json_int_t find_bot(const user *u, const char *username) {
    char path[128];
    snprintf(path, sizeof path, "/api/bots/%s", username);
    harness_response r = harness_call(srv, "GET", path, u->token, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    json_int_t id = harness_json_int(r.json, "id");
    harness_response_free(&r);
    return id;
}

static json_int_t open_direct(const user *u, json_int_t peer) { return harness_direct_chat(srv, u->token, peer); }

static json_int_t send_text(const user *u, json_int_t chat, const char *text) {
    char path[128], body[512];
    snprintf(path, sizeof path, "/api/chats/%lld/messages", (long long)chat);
    snprintf(body, sizeof body, "{\"text\":\"%s\"}", text);
    harness_response r = harness_call(srv, "POST", path, u->token, body);
    HARNESS_ASSERT_STATUS(r, 201);
    json_int_t seq = harness_json_int(r.json, "message.seq");
    harness_response_free(&r);
    return seq;
}

/* The bot's updates after `after`: the JSON answer (caller decrefs). */
static json_t *updates(const char *bot_token, json_int_t after) {
    char path[128];
    snprintf(path, sizeof path, "/api/bot/updates?after=%lld", (long long)after);
    harness_response r = bot_call(bot_token, "GET", path, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    json_t *j = json_incref(r.json);
    harness_response_free(&r);
    return j;
}

/* The next message.new pushed to ws for chat whose sender is `sender`. */
static json_t *expect_message_from(harness_ws *ws, json_int_t chat, json_int_t sender) {
    for (int i = 0; i < 10; i++) {
        json_t *ev = NULL;
        assert_int_equal(harness_ws_expect_type(ws, "message.new", PUSH_BOUND_MS, &ev), SB_OK);
        if (harness_json_int(ev, "chat_id") == chat && harness_json_int(ev, "message.sender_id") == sender) return ev;
        json_decref(ev);
    }
    fail_msg("no message from %lld in chat %lld", (long long)sender, (long long)chat);
    return NULL;
}

/* ---- a third-party bot end to end ---- */

static void test_third_party_bot(void **state) {
    (void)state;
    char bot_token[HARNESS_TOKEN_BYTES];
    json_int_t bot_id = create_bot("weatherbot", bot_token);

    /* Creation rules: a taken name, a name not ending in bot, a customer. */
    harness_response r = harness_call(srv, "POST", "/api/admin/bots", admin_token, "{\"username\":\"weatherbot\"}");
    HARNESS_ASSERT_STATUS(r, 409);
    harness_response_free(&r);
    r = harness_call(srv, "POST", "/api/admin/bots", admin_token, "{\"username\":\"weather\"}");
    HARNESS_ASSERT_STATUS(r, 400);
    harness_response_free(&r);
    user alice = login();
    r = harness_call(srv, "POST", "/api/admin/bots", alice.token, "{\"username\":\"alicebot\"}");
    HARNESS_ASSERT_STATUS(r, 403);
    harness_response_free(&r);

    /* The bot knows who it is. */
    r = bot_call(bot_token, "GET", "/api/bot/me", NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_int_equal(harness_json_int(r.json, "id"), bot_id);
    assert_string_equal(harness_json_str(r.json, "username"), "weatherbot");
    harness_response_free(&r);

    /* The customer finds it and writes. */
    assert_int_equal(find_bot(&alice, "weatherbot"), bot_id);
    assert_int_equal(find_bot(&alice, "@WeatherBot"), bot_id);
    r = harness_call(srv, "GET", "/api/bots/nosuchbot", alice.token, NULL);
    HARNESS_ASSERT_STATUS(r, 404);
    harness_response_free(&r);
    json_int_t chat = open_direct(&alice, bot_id);
    harness_ws *ws;
    assert_int_equal(harness_ws_open(srv->port, alice.token, &ws, NULL), SB_OK);
    json_int_t seq = send_text(&alice, chat, "weather in Kyiv?");

    /* The bot reads it as its first update. */
    json_t *u = updates(bot_token, 0);
    json_t *list = json_object_get(u, "updates");
    assert_int_equal(json_array_size(list), 1);
    json_t *first = json_array_get(list, 0);
    assert_string_equal(harness_json_str(first, "event.type"), "message.new");
    assert_int_equal(harness_json_int(first, "event.chat_id"), chat);
    assert_int_equal(harness_json_int(first, "event.seq"), seq);
    assert_string_equal(harness_json_str(first, "event.message.text"), "weather in Kyiv?");
    assert_int_equal(harness_json_int(first, "event.message.sender_id"), alice.id);
    json_int_t cursor = harness_json_int(u, "next_after");
    assert_int_equal(cursor, harness_json_int(first, "update_id"));
    json_decref(u);
    /* Read again after the cursor: nothing new (each update once). */
    u = updates(bot_token, cursor);
    assert_int_equal(json_array_size(json_object_get(u, "updates")), 0);
    assert_int_equal(harness_json_int(u, "next_after"), cursor);
    json_decref(u);

    /* The bot answers with a keyboard; the customer gets it live. */
    char path[128];
    snprintf(path, sizeof path, "/api/bot/chats/%lld/messages", (long long)chat);
    r = bot_call(bot_token, "POST", path,
                 "{\"text\":\"Which forecast?\",\"reply_to_seq\":1,\"keyboard\":{\"buttons\":[[{\"text\":\"Today\","
                 "\"data\":\"today\"},{\"text\":\"Week\",\"data\":\"week\"}]]}}");
    HARNESS_ASSERT_STATUS(r, 201);
    json_int_t keyboard_seq = harness_json_int(r.json, "message.seq");
    assert_string_equal(harness_json_str(r.json, "message.kind"), "keyboard");
    harness_response_free(&r);
    json_t *ev = expect_message_from(ws, chat, bot_id);
    assert_int_equal(harness_json_int(ev, "seq"), keyboard_seq);
    assert_string_equal(harness_json_str(ev, "message.text"), "Which forecast?");
    assert_string_equal(harness_json_str(ev, "message.kind"), "keyboard");
    json_decref(ev);
    /* A plain text answer too. */
    r = bot_call(bot_token, "POST", path, "{\"text\":\"or just ask\"}");
    HARNESS_ASSERT_STATUS(r, 201);
    harness_response_free(&r);
    /* A bad keyboard is refused. */
    r = bot_call(bot_token, "POST", path, "{\"text\":\"x\",\"keyboard\":{\"buttons\":[]}}");
    HARNESS_ASSERT_STATUS(r, 400);
    harness_response_free(&r);

    /* The customer presses a button: the bot gets the callback. */
    char press[160];
    snprintf(press, sizeof press, "/api/chats/%lld/messages/%lld/press", (long long)chat, (long long)keyboard_seq);
    r = harness_call(srv, "POST", press, alice.token, "{\"data\":\"week\"}");
    HARNESS_ASSERT_STATUS(r, 202);
    harness_response_free(&r);
    r = harness_call(srv, "POST", press, alice.token, "{\"data\":\"month\"}");
    HARNESS_ASSERT_STATUS(r, 404);
    harness_response_free(&r);
    u = updates(bot_token, cursor);
    list = json_object_get(u, "updates");
    assert_int_equal(json_array_size(list), 1); /* its own messages are not updates */
    first = json_array_get(list, 0);
    assert_string_equal(harness_json_str(first, "event.type"), "bot.callback");
    assert_string_equal(harness_json_str(first, "event.data"), "week");
    assert_int_equal(harness_json_int(first, "event.chat_id"), chat);
    assert_int_equal(harness_json_int(first, "event.seq"), keyboard_seq);
    assert_int_equal(harness_json_int(first, "event.user_id"), alice.id);
    json_decref(u);

    /* Someone outside the chat cannot press. */
    user mallory = login();
    r = harness_call(srv, "POST", press, mallory.token, "{\"data\":\"week\"}");
    HARNESS_ASSERT_STATUS(r, 404);
    harness_response_free(&r);
    assert_int_equal(harness_ws_close(ws, 1000, PUSH_BOUND_MS, NULL), SB_OK);
    harness_ws_free(ws);
}

/* ---- tokens, roles and membership ---- */

static void test_bot_auth_and_membership(void **state) {
    (void)state;
    char one[HARNESS_TOKEN_BYTES], two[HARNESS_TOKEN_BYTES];
    json_int_t one_id = create_bot("onebot", one);
    (void)create_bot("twobot", two);
    user bob = login(), carol = login();

    /* 401: nothing, a malformed token, an unknown token, a bot token as Bearer. */
    harness_response r = harness_call(srv, "GET", "/api/bot/updates", NULL, NULL);
    HARNESS_ASSERT_STATUS(r, 401);
    harness_response_free(&r);
    r = call_as("GET", "/api/bot/updates", "Bot not-a-token", NULL);
    HARNESS_ASSERT_STATUS(r, 401);
    assert_string_equal(harness_error_code(&r), "unauthorized");
    harness_response_free(&r);
    r = bot_call("0000000000000000000000000000000000000000000000000000000000000000", "GET", "/api/bot/updates", NULL);
    HARNESS_ASSERT_STATUS(r, 401);
    harness_response_free(&r);
    r = harness_call(srv, "GET", "/api/bot/updates", one, NULL);
    HARNESS_ASSERT_STATUS(r, 401);
    harness_response_free(&r);
    /* 403: a customer's session on a bot route, a bot on a customer route. */
    r = harness_call(srv, "GET", "/api/bot/updates", bob.token, NULL);
    HARNESS_ASSERT_STATUS(r, 403);
    harness_response_free(&r);
    r = bot_call(one, "GET", "/api/chats", NULL);
    HARNESS_ASSERT_STATUS(r, 403);
    assert_string_equal(harness_error_code(&r), "forbidden");
    harness_response_free(&r);
    r = bot_call(one, "POST", "/api/admin/bots", "{\"username\":\"evilbot\"}");
    HARNESS_ASSERT_STATUS(r, 403);
    harness_response_free(&r);

    /* A bot sees only its own inbox. */
    json_int_t chat_one = open_direct(&bob, one_id);
    (void)send_text(&bob, chat_one, "for one only");
    json_t *u = updates(two, 0);
    assert_int_equal(json_array_size(json_object_get(u, "updates")), 0);
    json_decref(u);
    u = updates(one, 0);
    assert_int_equal(json_array_size(json_object_get(u, "updates")), 1);
    json_decref(u);

    /* A bot cannot write in a chat it is not in (nor in a made-up one). */
    json_int_t chat_bc = open_direct(&bob, carol.id);
    char path[128];
    snprintf(path, sizeof path, "/api/bot/chats/%lld/messages", (long long)chat_bc);
    r = bot_call(two, "POST", path, "{\"text\":\"spam\"}");
    HARNESS_ASSERT_STATUS(r, 404);
    harness_response_free(&r);
    snprintf(path, sizeof path, "/api/bot/chats/%lld/messages", (long long)chat_one);
    r = bot_call(two, "POST", path, "{\"text\":\"spam\"}");
    HARNESS_ASSERT_STATUS(r, 404);
    harness_response_free(&r);
    r = bot_call(one, "POST", "/api/bot/chats/999999/messages", "{\"text\":\"spam\"}");
    HARNESS_ASSERT_STATUS(r, 404);
    harness_response_free(&r);
    /* ... and nothing was written there. */
    snprintf(path, sizeof path, "/api/chats/%lld/messages", (long long)chat_bc);
    r = harness_call(srv, "GET", path, bob.token, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "messages")), 0);
    harness_response_free(&r);
}

/* ---- @bankbot over WebSocket ---- */

static void test_bankbot_balance_over_ws(void **state) {
    (void)state;
    user dana = login();
    char body[160];
    snprintf(body, sizeof body, "{\"user_id\":%lld,\"amount_minor\":1250000,\"idempotency_key\":\"bot-dep-1\"}",
             (long long)dana.id);
    harness_response r = harness_call(srv, "POST", "/api/admin/deposits", admin_token, body);
    HARNESS_ASSERT_STATUS(r, 201);
    harness_response_free(&r);
    r = harness_call(srv, "GET", "/api/wallet", dana.token, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    char *wallet = harness_json_text(r.json);
    assert_non_null(strstr(wallet, "1250000"));
    sb_free(wallet);
    harness_response_free(&r);

    json_int_t bankbot = find_bot(&dana, "bankbot");
    json_int_t chat = open_direct(&dana, bankbot);
    harness_ws *ws;
    assert_int_equal(harness_ws_open(srv->port, dana.token, &ws, NULL), SB_OK);
    json_int_t seq = send_text(&dana, chat, "what's my balance");
    json_t *ev = expect_message_from(ws, chat, bankbot);
    assert_string_equal(harness_json_str(ev, "message.text"), "Your available balance: 1,250,000 rials");
    assert_int_equal(harness_json_int(ev, "message.reply_to_seq"), seq);
    json_decref(ev);
    /* In Persian, by command too. */
    (void)send_text(&dana, chat, "موجودی حسابم چقدره");
    ev = expect_message_from(ws, chat, bankbot);
    assert_string_equal(harness_json_str(ev, "message.text"), "موجودی قابل برداشت شما: ۱٬۲۵۰٬۰۰۰ ریال");
    json_decref(ev);
    (void)send_text(&dana, chat, "/transactions");
    ev = expect_message_from(ws, chat, bankbot);
    assert_non_null(strstr(harness_json_str(ev, "message.text"), "Your last transactions:\n#"));
    assert_non_null(strstr(harness_json_str(ev, "message.text"), "deposit · 1,250,000 rials · done"));
    json_decref(ev);
    assert_int_equal(harness_ws_close(ws, 1000, PUSH_BOUND_MS, NULL), SB_OK);
    harness_ws_free(ws);
}

/* ---- @bankbot hands off to an agent, whose reply comes back live ---- */

static void test_bankbot_handoff_and_agent_reply(void **state) {
    (void)state;
    user erin = login();
    char agent_token[HARNESS_TOKEN_BYTES];
    assert_int_equal(harness_staff_token(srv, "agent", agent_token, NULL), SB_OK);
    json_int_t bankbot = find_bot(&erin, "bankbot");
    json_int_t chat = open_direct(&erin, bankbot);
    harness_ws *ws;
    assert_int_equal(harness_ws_open(srv->port, erin.token, &ws, NULL), SB_OK);
    (void)send_text(&erin, chat, "/agent");
    json_t *ev = expect_message_from(ws, chat, bankbot);
    const char *text = harness_json_str(ev, "message.text");
    const char *prefix = "I have passed our conversation to a colleague (case #";
    assert_true(strncmp(text, prefix, strlen(prefix)) == 0);
    long long case_id = strtoll(text + strlen(prefix), NULL, 10);
    assert_true(case_id > 0);
    json_decref(ev);

    /* The agent sees the conversation in the case and answers it. */
    char path[128];
    snprintf(path, sizeof path, "/api/listening/cases/%lld", case_id);
    harness_response r = harness_call(srv, "GET", path, agent_token, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    char *body = harness_json_text(r.json);
    assert_non_null(strstr(body, "customer: /agent"));
    sb_free(body);
    harness_response_free(&r);
    snprintf(path, sizeof path, "/api/listening/cases/%lld/replies", case_id);
    r = harness_call(srv, "POST", path, agent_token, "{\"text\":\"Hello, I am Ann from support. How can I help?\"}");
    HARNESS_ASSERT_STATUS(r, 201);
    assert_string_equal(harness_json_str(r.json, "replies.0.delivery"), "delivered");
    assert_string_equal(harness_json_str(r.json, "replies.0.channel"), "messenger");
    harness_response_free(&r);
    ev = expect_message_from(ws, chat, bankbot);
    assert_string_equal(harness_json_str(ev, "message.text"),
                        "Our colleague answers: Hello, I am Ann from support. How can I help?");
    json_decref(ev);
    assert_int_equal(harness_ws_close(ws, 1000, PUSH_BOUND_MS, NULL), SB_OK);
    harness_ws_free(ws);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_third_party_bot),
        cmocka_unit_test(test_bot_auth_and_membership),
        cmocka_unit_test(test_bankbot_balance_over_ws),
        cmocka_unit_test(test_bankbot_handoff_and_agent_reply),
    };
    return cmocka_run_group_tests_name("bots", tests, group_setup, group_teardown);
}
