/*
 * test_botapi.c - the Telegram-shaped Bot API (/bot<token>/METHOD) against
 * the real `socialbank serve`:
 *   - python-telegram-bot v13 (Debian's python3-python-telegram-bot, a
 *     client nobody here wrote) runs tests/botapi/ptb_test.py: an echo bot
 *     over getUpdates and a long poll, an inline keyboard pressed by a
 *     customer, an edited message, a webhook bot, invoices paid, refused and
 *     left unanswered, with the wallets checked;
 *   - grammY (npm) runs tests/botapi/grammy_test.mjs with its own polling
 *     loop: echo, keyboard, edited message, an invoice paid;
 *   - hostile input, each answered in Telegram's error shape with nothing
 *     stored: bad and malformed tokens, unknown methods, wrong field types,
 *     bodies of every content type gone wrong, an oversized body, oversized
 *     and malformed keyboards, a bot writing in a chat it is not in, form and
 *     multipart bodies that are fine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "integration/harness.h"

static harness_server *srv;
static int phones;
static char admin_token[HARNESS_TOKEN_BYTES];

HARNESS_GROUP_FIXTURES(srv, admin_token)

/* A bot made by the admin: its Bot API token ("<id>:<secret>") and id. */
static json_int_t create_bot(const char *username, char token_out[160]) {
    char body[128];
    snprintf(body, sizeof body, "{\"username\":\"%s\"}", username);
    harness_response r = harness_call(srv, "POST", "/api/admin/bots", admin_token, body);
    HARNESS_ASSERT_STATUS(r, 201);
    snprintf(token_out, 160, "%s", harness_json_str(r.json, "token"));
    json_int_t id = harness_json_int(r.json, "bot.id");
    harness_response_free(&r);
    return id;
}

/* A raw Bot API call: path "/bot<token>/<method>[?query]", a body with its content type (both may be NULL). */
static harness_response raw(const char *method, const char *path, const char *content_type, const char *body,
                            size_t len) {
    harness_response r;
    assert_int_equal(harness_http(srv->port, method, path, NULL, content_type, body, body ? len : 0, NULL, &r), SB_OK);
    return r;
}

static harness_response call(const char *token, const char *bot_method, const char *json_body) {
    char path[256];
    snprintf(path, sizeof path, "/bot%s/%s", token, bot_method);
    return raw("POST", path, json_body ? "application/json" : NULL, json_body, json_body ? strlen(json_body) : 0);
}

/* The answer is Telegram's error shape with this code. */
static void assert_fail(harness_response *r, int code, const char *description_part) {
    if (r->status != code || !json_is_false(json_object_get(r->json, "ok")) ||
        harness_json_int(r->json, "error_code") != code ||
        !strstr(harness_json_str(r->json, "description"), description_part))
        fprintf(stderr, "want %d with '%s', got %d: %.500s\n", code, description_part, r->status,
                r->body ? r->body : "");
    assert_int_equal(r->status, code);
    assert_true(json_is_false(json_object_get(r->json, "ok")));
    assert_int_equal(harness_json_int(r->json, "error_code"), code);
    assert_non_null(strstr(harness_json_str(r->json, "description"), description_part));
    harness_response_free(r);
}

static json_t *assert_ok(harness_response *r) {
    if (r->status != 200 || !json_is_true(json_object_get(r->json, "ok")))
        fprintf(stderr, "want ok, got %d: %.500s\n", r->status, r->body ? r->body : "");
    assert_int_equal(r->status, 200);
    assert_true(json_is_true(json_object_get(r->json, "ok")));
    json_t *result = json_incref(json_object_get(r->json, "result"));
    harness_response_free(r);
    return result;
}

/* Messages in the chat as the customer sees them. */
static size_t message_count(const harness_customer *u, json_int_t chat) {
    char path[96];
    snprintf(path, sizeof path, "/api/chats/%lld/messages?limit=200", (long long)chat);
    harness_response r = harness_call(srv, "GET", path, u->token, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    size_t n = json_array_size(json_object_get(r.json, "messages"));
    harness_response_free(&r);
    return n;
}

static json_int_t open_direct(const harness_customer *u, json_int_t peer) {
    return harness_direct_chat(srv, u->token, peer);
}

/* Run a client library's test script (its own bound: timeout 600); it must exit 0. */
static void run_client(const char *command) {
    int status = system(command);
    if (status != 0) harness_server_print_log(srv, 40);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_python_telegram_bot(void **state) {
    (void)state;
    harness_customer a = harness_customer_next(srv, "0912555", &phones);
    harness_customer b = harness_customer_next(srv, "0912555", &phones);
    const char *source = getenv("SB_SOURCE_DIR");
    assert_non_null(source);
    char command[2048];
    snprintf(command, sizeof command,
             "SB_PORT=%d SB_ADMIN_TOKEN=%s SB_A_TOKEN=%s SB_A_ID=%lld SB_B_TOKEN=%s SB_B_ID=%lld "
             "timeout 600 /usr/bin/python3 %s/tests/botapi/ptb_test.py",
             srv->port, admin_token, a.token, (long long)a.id, b.token, (long long)b.id, source);
    run_client(command);
}

static void test_grammy(void **state) {
    (void)state;
    harness_customer a = harness_customer_next(srv, "0912558", &phones);
    const char *source = getenv("SB_SOURCE_DIR");
    assert_non_null(source);
    char command[2048];
    snprintf(command, sizeof command,
             "cd %s && SB_PORT=%d SB_ADMIN_TOKEN=%s SB_A_TOKEN=%s SB_A_ID=%lld timeout 600 node "
             "tests/botapi/grammy_test.mjs",
             source, srv->port, admin_token, a.token, (long long)a.id);
    run_client(command);
}

static void test_group_rate_limit(void **state) {
    (void)state;
    char token[160];
    json_int_t bot_id = create_bot("groupiebot", token);
    harness_customer a = harness_customer_next(srv, "0912560", &phones);
    harness_response r = harness_call(srv, "POST", "/api/groups", a.token, "{\"title\":\"Club\"}");
    HARNESS_ASSERT_STATUS(r, 201);
    json_int_t group = harness_json_int(r.json, "id");
    harness_response_free(&r);
    char path[96], body[160];
    snprintf(path, sizeof path, "/api/groups/%lld/members", (long long)group);
    snprintf(body, sizeof body, "{\"user_id\":%lld}", (long long)bot_id);
    r = harness_call(srv, "POST", path, a.token, body);
    HARNESS_ASSERT_STATUS(r, 204);
    harness_response_free(&r);
    /* the group is -id, of type group; the bot may write there 20 times a minute */
    snprintf(body, sizeof body, "{\"chat_id\":%lld}", (long long)-group);
    r = call(token, "getChat", body);
    json_t *chat = assert_ok(&r);
    assert_string_equal(harness_json_str(chat, "type"), "group");
    assert_string_equal(harness_json_str(chat, "title"), "Club");
    json_decref(chat);
    size_t before = message_count(&a, group);
    for (int i = 0; i < SB_BOTAPI_RATE_GROUP_PER_MIN; i++) {
        snprintf(body, sizeof body, "{\"chat_id\":%lld,\"text\":\"news %d\"}", (long long)-group, i);
        r = call(token, "sendMessage", body);
        json_decref(assert_ok(&r));
    }
    snprintf(body, sizeof body, "{\"chat_id\":%lld,\"text\":\"one too many\"}", (long long)-group);
    r = call(token, "sendMessage", body);
    assert_int_equal(harness_json_int(r.json, "parameters.retry_after") >= 1, 1);
    assert_non_null(harness_header_get(&r, "retry-after"));
    assert_fail(&r, 429, "Too Many Requests");
    assert_int_equal(message_count(&a, group), before + SB_BOTAPI_RATE_GROUP_PER_MIN);
}

/* A getUpdates long poll on a raw connection (not read here). */
static harness_conn *park_poll(const char *token, int timeout_s) {
    harness_conn *conn = NULL;
    assert_int_equal(harness_conn_open(srv->port, 0, HARNESS_HTTP_TIMEOUT_MS, &conn), SB_OK);
    char request[512];
    snprintf(request, sizeof request, "GET /bot%s/getUpdates?timeout=%d HTTP/1.1\r\nHost: t\r\n\r\n", token, timeout_s);
    assert_int_equal(harness_conn_send(conn, request, strlen(request), HARNESS_HTTP_TIMEOUT_MS), SB_OK);
    return conn;
}

/* Left parked when the tests end: the server must answer it while stopping and still exit 0. */
static harness_conn *left_parked;

static void test_parked_polls(void **state) {
    (void)state;
    char token[160];
    json_int_t bot_id = create_bot("pollerbot", token);
    harness_customer a = harness_customer_next(srv, "0912559", &phones);
    json_int_t chat = open_direct(&a, bot_id);
    /* a client that leaves while its poll is parked, then an update for that bot */
    harness_conn *gone = park_poll(token, 30);
    harness_sleep_ms(300);
    harness_conn_close(gone);
    harness_sleep_ms(100);
    char path[96];
    snprintf(path, sizeof path, "/api/chats/%lld/messages", (long long)chat);
    harness_response r = harness_call(srv, "POST", path, a.token, "{\"text\":\"anyone there\"}");
    HARNESS_ASSERT_STATUS(r, 201);
    harness_response_free(&r);
    /* the update is still there for the next poll, answered at once */
    r = call(token, "getUpdates", "{\"timeout\":5}");
    json_t *ups = assert_ok(&r);
    assert_int_equal(json_array_size(ups), 1);
    json_int_t next = harness_json_int(ups, "0.update_id") + 1;
    json_decref(ups);
    /* an empty poll ends with [] at its timeout, on its own connection */
    char body[96];
    snprintf(body, sizeof body, "{\"offset\":%lld}", (long long)next);
    r = call(token, "getUpdates", body); /* confirms */
    json_decref(assert_ok(&r));
    /* more parked polls than the server has loop threads, and the server still answers */
    harness_conn *many[6];
    for (size_t i = 0; i < SB_ARRAY_LEN(many); i++)
        many[i] = park_poll(token, 30);
    harness_sleep_ms(300);
    r = call(token, "getMe", NULL);
    json_decref(assert_ok(&r));
    for (size_t i = 0; i < SB_ARRAY_LEN(many); i++)
        harness_conn_close(many[i]);
    harness_conn *waiting = park_poll(token, 1);
    harness_response answer;
    assert_int_equal(harness_conn_read_response(waiting, false, HARNESS_HTTP_TIMEOUT_MS, &answer), SB_OK);
    json_t *empty = assert_ok(&answer);
    assert_true(json_is_array(empty) && json_array_size(empty) == 0);
    json_decref(empty);
    harness_conn_close(waiting);
    left_parked = park_poll(token, 50);
}

static void test_tokens_and_methods(void **state) {
    (void)state;
    char token[160];
    json_int_t bot_id = create_bot("hostilebot", token);
    /* the secret alone, a wrong id, a wrong secret, garbage: 401 Unauthorized */
    const char *colon = strchr(token, ':');
    char path[320];
    snprintf(path, sizeof path, "/bot%s/getMe", colon + 1);
    harness_response r = raw("GET", path, NULL, NULL, 0);
    assert_fail(&r, 401, "Unauthorized");
    snprintf(path, sizeof path, "/bot%lld%s/getMe", (long long)bot_id + 1, colon);
    r = raw("GET", path, NULL, NULL, 0);
    assert_fail(&r, 401, "Unauthorized");
    snprintf(path, sizeof path, "/bot%lld:%064d/getMe", (long long)bot_id, 0);
    r = raw("GET", path, NULL, NULL, 0);
    assert_fail(&r, 401, "Unauthorized");
    r = raw("GET", "/bot123:%zz/getMe", NULL, NULL, 0);
    assert_true(r.status == 401 || r.status == 400 || r.status == 404);
    harness_response_free(&r);
    /* the right token: getMe by GET with no body, method names case-insensitive */
    snprintf(path, sizeof path, "/bot%s/getme", token);
    r = raw("GET", path, NULL, NULL, 0);
    json_t *me = assert_ok(&r);
    assert_int_equal(harness_json_int(me, "id"), bot_id);
    assert_true(json_is_true(json_object_get(me, "is_bot")));
    json_decref(me);
    /* unknown method: 404 */
    r = call(token, "sendPhoto", "{}");
    assert_fail(&r, 404, "Not Found");
    r = call(token, "noSuchMethod", NULL);
    assert_fail(&r, 404, "Not Found");
    /* other HTTP methods: the server's 405 */
    snprintf(path, sizeof path, "/bot%s/getMe", token);
    r = raw("DELETE", path, NULL, NULL, 0);
    assert_int_equal(r.status, 405);
    harness_response_free(&r);
}

static void test_hostile_bodies(void **state) {
    (void)state;
    char token[160];
    json_int_t bot_id = create_bot("bodiesbot", token);
    harness_customer a = harness_customer_next(srv, "0912556", &phones);
    json_int_t chat = open_direct(&a, bot_id);
    size_t before = message_count(&a, chat);
    char body[512], path[320];

    /* wrong field types */
    harness_response r = call(token, "sendMessage", "{\"chat_id\":\"abc\",\"text\":\"x\"}");
    assert_fail(&r, 400, "chat_id");
    r = call(token, "sendMessage", "{\"chat_id\":\"--5\",\"text\":\"x\"}");
    assert_fail(&r, 400, "chat_id");
    r = call(token, "sendMessage", "{\"chat_id\":\"-+5\",\"text\":\"x\"}");
    assert_fail(&r, 400, "chat_id");
    r = call(token, "sendMessage", "{\"chat_id\":[1],\"text\":\"x\"}");
    assert_fail(&r, 400, "chat_id");
    snprintf(body, sizeof body, "{\"chat_id\":%lld,\"text\":{\"a\":1}}", (long long)a.id);
    r = call(token, "sendMessage", body);
    assert_fail(&r, 400, "text");
    snprintf(body, sizeof body, "{\"chat_id\":%lld,\"text\":\"\"}", (long long)a.id);
    r = call(token, "sendMessage", body);
    assert_fail(&r, 400, "message text is empty");
    snprintf(body, sizeof body, "{\"chat_id\":%lld}", (long long)a.id);
    r = call(token, "sendMessage", body);
    assert_fail(&r, 400, "message text is empty");
    r = call(token, "sendMessage", "{\"text\":\"no chat\"}");
    assert_fail(&r, 400, "chat_id is empty");
    snprintf(body, sizeof body, "{\"chat_id\":%lld,\"text\":\"x\",\"reply_markup\":\"{not json\"}", (long long)a.id);
    r = call(token, "sendMessage", body);
    assert_fail(&r, 400, "reply_markup");
    snprintf(body, sizeof body,
             "{\"chat_id\":%lld,\"text\":\"x\",\"reply_markup\":{\"inline_keyboard\":[[{\"text\":\"a\"}]]}}",
             (long long)a.id);
    r = call(token, "sendMessage", body);
    assert_fail(&r, 400, "button");
    snprintf(body, sizeof body,
             "{\"chat_id\":%lld,\"text\":\"x\",\"reply_markup\":{\"inline_keyboard\":[[{\"text\":\"a\",\"url\":"
             "\"javascript:alert(1)\"}]]}}",
             (long long)a.id);
    r = call(token, "sendMessage", body);
    assert_fail(&r, 400, "keyboard");
    /* a keyboard with more rows than allowed */
    sb_buf big;
    sb_buf_init(&big, 1 << 20);
    assert_int_equal(sb_buf_printf(&big, "{\"chat_id\":%lld,\"text\":\"x\",\"reply_markup\":{\"inline_keyboard\":[",
                                   (long long)a.id),
                     SB_OK);
    for (int i = 0; i < 50; i++)
        assert_int_equal(sb_buf_printf(&big, "%s[{\"text\":\"b\",\"callback_data\":\"d%d\"}]", i ? "," : "", i), SB_OK);
    assert_int_equal(sb_buf_append_str(&big, "]}}"), SB_OK);
    r = call(token, "sendMessage", big.data);
    assert_fail(&r, 400, "too long");
    sb_buf_free(&big);
    /* a body over the cap */
    size_t huge_len = SB_BOTAPI_BODY_BYTES_MAX + 10;
    char *huge = malloc(huge_len + 1);
    assert_non_null(huge);
    memset(huge, ' ', huge_len);
    huge[0] = '{';
    huge[huge_len - 1] = '}';
    huge[huge_len] = '\0';
    snprintf(path, sizeof path, "/bot%s/sendMessage", token);
    r = raw("POST", path, "application/json", huge, huge_len);
    assert_fail(&r, 413, "Too Large");
    free(huge);
    /* broken JSON, a JSON array, an unknown content type, a broken form escape, a file part */
    r = raw("POST", path, "application/json", "{\"chat_id\":", 11);
    assert_fail(&r, 400, "JSON");
    r = raw("POST", path, "application/json", "[1,2]", 5);
    assert_fail(&r, 400, "JSON");
    r = raw("POST", path, "text/plain", "chat_id=1", 9);
    assert_fail(&r, 400, "Content-Type");
    r = raw("POST", path, "application/x-www-form-urlencoded", "chat_id=%zz", 11);
    assert_fail(&r, 400, "percent");
    static const char file_part[] = "--XyZ\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.jpg\"\r\n"
                                    "\r\nJPEG\r\n--XyZ--\r\n";
    r = raw("POST", path, "multipart/form-data; boundary=XyZ", file_part, sizeof file_part - 1);
    assert_fail(&r, 400, "files");
    static const char unterminated[] = "--XyZ\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nhello";
    r = raw("POST", path, "multipart/form-data; boundary=XyZ", unterminated, sizeof unterminated - 1);
    assert_fail(&r, 400, "multipart");
    assert_int_equal(message_count(&a, chat), before); /* nothing of the above was stored */

    /* the same send as a form, as multipart and as a query string: each stored once */
    int n = snprintf(body, sizeof body, "chat_id=%lld&text=form+%%E2%%9C%%93", (long long)a.id);
    r = raw("POST", path, "application/x-www-form-urlencoded", body, (size_t)n);
    json_t *m = assert_ok(&r);
    assert_string_equal(harness_json_str(m, "text"), "form \xe2\x9c\x93");
    json_decref(m);
    n = snprintf(body, sizeof body,
                 "--b0undary\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n%lld\r\n"
                 "--b0undary\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nmulti\npart\r\n--b0undary--\r\n",
                 (long long)a.id);
    r = raw("POST", path, "multipart/form-data; boundary=\"b0undary\"", body, (size_t)n);
    m = assert_ok(&r);
    assert_string_equal(harness_json_str(m, "text"), "multi\npart");
    json_decref(m);
    snprintf(path, sizeof path, "/bot%s/sendMessage?chat_id=%lld&text=query", token, (long long)a.id);
    r = raw("GET", path, NULL, NULL, 0);
    m = assert_ok(&r);
    assert_string_equal(harness_json_str(m, "text"), "query");
    json_decref(m);
}

static void test_chats_not_its_own(void **state) {
    (void)state;
    char token[160];
    create_bot("outsiderbot", token);
    harness_customer a = harness_customer_next(srv, "0912557", &phones);
    harness_customer b = harness_customer_next(srv, "0912557", &phones);
    /* a group the bot is not in */
    harness_response r = harness_call(srv, "POST", "/api/groups", a.token, "{\"title\":\"Family\"}");
    HARNESS_ASSERT_STATUS(r, 201);
    json_int_t group = harness_json_int(r.json, "id");
    harness_response_free(&r);
    char body[256];
    snprintf(body, sizeof body, "{\"chat_id\":%lld,\"text\":\"hi\"}", (long long)-group);
    r = call(token, "sendMessage", body);
    assert_fail(&r, 400, "chat not found");
    snprintf(body, sizeof body, "{\"chat_id\":%lld}", (long long)-group);
    r = call(token, "getChat", body);
    assert_fail(&r, 400, "chat not found");
    /* a direct chat between two customers, named by either of them */
    json_int_t ab = open_direct(&a, b.id);
    snprintf(body, sizeof body, "{\"chat_id\":%lld,\"text\":\"hi\"}", (long long)b.id);
    r = call(token, "sendMessage", body);
    assert_fail(&r, 403, "initiate");
    snprintf(body, sizeof body, "{\"chat_id\":%lld,\"message_id\":1}", (long long)a.id);
    r = call(token, "deleteMessage", body);
    assert_fail(&r, 403, "initiate");
    snprintf(body, sizeof body, "{\"chat_id\":%lld,\"user_id\":%lld}", (long long)a.id, (long long)b.id);
    r = call(token, "getChatMember", body);
    assert_fail(&r, 403, "initiate");
    assert_int_equal(message_count(&a, group), 0);
    assert_int_equal(message_count(&a, ab), 0);
    /* its updates hold nothing of those chats */
    r = call(token, "getUpdates", NULL);
    json_t *ups = assert_ok(&r);
    assert_int_equal(json_array_size(ups), 0);
    json_decref(ups);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokens_and_methods),
        cmocka_unit_test(test_hostile_bodies),
        cmocka_unit_test(test_chats_not_its_own),
        cmocka_unit_test(test_python_telegram_bot),
        cmocka_unit_test(test_grammy),
        cmocka_unit_test(test_group_rate_limit),
        cmocka_unit_test(test_parked_polls),
    };
    int failed = cmocka_run_group_tests(tests, group_setup, group_teardown);
    harness_conn_close(left_parked);
    return failed;
}
