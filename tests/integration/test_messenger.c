/*
 * test_messenger.c - the messenger routes (docs/API.md) over real HTTP and
 * WebSocket connections: two and three users chatting with live push in
 * order, a group whose removed member neither receives nor reads, reconnect
 * through /changes (each missed change exactly once), cursor history, edits,
 * deletes, receipts and typing pushed, bad input (oversize text 413, unknown
 * and forged chat ids 404, non-members refused on every chat route), the
 * channel, and history kept across a server restart.
 *
 * One server for the group; the restart test restarts it on the same data
 * and runs last.  "Does not receive" is proven without timing: after the
 * event that must not arrive, another event that must arrive is sent, and
 * the next message.new read has to be that one.
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
#define PUSH_BOUND_MS 5000

static harness_server *srv;
static int phones;

typedef harness_customer user;

HARNESS_GROUP_FIXTURES(srv, NULL)

static user login(void) { return harness_customer_next(srv, "0912333", &phones); }

/* method path as token with a printf-made JSON body (fmt NULL: no body). */
static harness_response call(const char *method, const char *path, const user *u, const char *fmt, ...) SB_PRINTF(4, 5);
static harness_response call(const char *method, const char *path, const user *u, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    harness_response r = harness_callv(srv, method, path, u ? u->token : NULL, fmt, ap);
    va_end(ap);
    return r;
}

static void expect(const char *method, const char *path, const user *u, int status, const char *body) {
    harness_response r = call(method, path, u, body ? "%s" : NULL, body);
    HARNESS_ASSERT_STATUS(r, status);
    harness_response_free(&r);
}

static json_int_t direct(const user *a, const user *b) {
    harness_response r = call("POST", "/api/chats/direct", a, "{\"user_id\":%lld}", (long long)b->id);
    assert_true(r.status == 200 || r.status == 201);
    json_int_t id = harness_json_int(r.json, "id");
    assert_string_equal(harness_json_str(r.json, "kind"), "direct");
    harness_response_free(&r);
    return id;
}

static json_int_t send_text(const user *u, json_int_t chat, const char *text) {
    char path[128];
    snprintf(path, sizeof path, "/api/chats/%lld/messages", (long long)chat);
    harness_response r = call("POST", path, u, "{\"text\":\"%s\"}", text);
    HARNESS_ASSERT_STATUS(r, 201);
    assert_string_equal(harness_json_str(r.json, "message.text"), text);
    json_int_t seq = harness_json_int(r.json, "message.seq");
    harness_response_free(&r);
    return seq;
}

static harness_ws *ws_of(const user *u) {
    harness_ws *ws;
    assert_int_equal(harness_ws_open(srv->port, u->token, &ws, NULL), SB_OK);
    return ws;
}

/* The next event of this type must be about chat/seq (seq 0: any) and, when
 * text is not NULL, carry that message text. */
static json_t *expect_event(harness_ws *ws, const char *type, json_int_t chat, json_int_t seq, const char *text) {
    json_t *ev = NULL;
    assert_int_equal(harness_ws_expect_type(ws, type, PUSH_BOUND_MS, &ev), SB_OK);
    if (harness_json_int(ev, "chat_id") != chat || (seq && harness_json_int(ev, "seq") != seq) ||
        (text && strcmp(harness_json_str(ev, "message.text"), text) != 0)) {
        char *t = harness_json_text(ev);
        fprintf(stderr, "event %s, want %s chat %lld seq %lld text %s\n", t, type, (long long)chat, (long long)seq,
                text ? text : "-");
        sb_free(t);
        fail();
    }
    return ev;
}

static void expect_new(harness_ws *ws, json_int_t chat, json_int_t seq, const char *text) {
    json_decref(expect_event(ws, "message.new", chat, seq, text));
}

/* ---- tests ---- */

static void test_two_users_chat_live(void **state) {
    (void)state;
    user a = login(), b = login();
    harness_response r = call("POST", "/api/chats/direct", &a, "{\"user_id\":%lld}", (long long)b.id);
    HARNESS_ASSERT_STATUS(r, 201);
    json_int_t chat = harness_json_int(r.json, "id");
    harness_response_free(&r);
    r = call("POST", "/api/chats/direct", &b, "{\"user_id\":%lld}", (long long)a.id);
    HARNESS_ASSERT_STATUS(r, 200); /* the same chat, not a second one */
    assert_int_equal(harness_json_int(r.json, "id"), chat);
    harness_response_free(&r);

    harness_ws *wa = ws_of(&a), *wb = ws_of(&b), *wb2 = ws_of(&b); /* b has two devices */
    const char *texts[] = {"salam", "how are you?", "\u0633\u0644\u0627\u0645 \u062f\u0648\u0633\u062a"};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(send_text(&a, chat, texts[i]), (json_int_t)i + 1);
    for (size_t i = 0; i < 3; i++) {
        expect_new(wb, chat, (json_int_t)i + 1, texts[i]);
        expect_new(wb2, chat, (json_int_t)i + 1, texts[i]);
        expect_new(wa, chat, (json_int_t)i + 1, texts[i]); /* the sender's other devices too */
    }

    /* A reply, then an idempotent retry by client_id: 200, the same message, no new event. */
    char path[128];
    snprintf(path, sizeof path, "/api/chats/%lld/messages", (long long)chat);
    r = call("POST", path, &b, "{\"text\":\"fine\",\"reply_to_seq\":2,\"client_id\":\"b-1\"}");
    HARNESS_ASSERT_STATUS(r, 201);
    assert_int_equal(harness_json_int(r.json, "message.reply_to_seq"), 2);
    harness_response_free(&r);
    r = call("POST", path, &b, "{\"text\":\"fine\",\"reply_to_seq\":2,\"client_id\":\"b-1\"}");
    HARNESS_ASSERT_STATUS(r, 200);
    assert_int_equal(harness_json_int(r.json, "message.seq"), 4);
    assert_true(json_is_true(harness_json_path(r.json, "duplicate")));
    harness_response_free(&r);
    r = call("POST", path, &b, "{\"text\":\"x\",\"reply_to_seq\":99}");
    HARNESS_ASSERT_ERROR(r, 404, "not_found");
    harness_response_free(&r);
    assert_int_equal(send_text(&b, chat, "next"), 5);
    expect_new(wa, chat, 4, "fine");
    expect_new(wa, chat, 5, "next"); /* seq 4 came exactly once */

    /* Both list the chat. */
    r = call("GET", "/api/chats", &b, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_int_equal(json_array_size(harness_json_path(r.json, "chats")), 1);
    assert_int_equal(harness_json_int(r.json, "chats.0.id"), chat);
    assert_int_equal(harness_json_int(r.json, "chats.0.last_seq"), 5);
    harness_response_free(&r);

    harness_ws_free(wa);
    harness_ws_free(wb);
    harness_ws_free(wb2);
}

static void test_group_three_users_and_removal(void **state) {
    (void)state;
    user a = login(), b = login(), c = login(), d = login();
    harness_response r = call("POST", "/api/groups", &a, "{\"title\":\"Trip to Isfahan\"}");
    HARNESS_ASSERT_STATUS(r, 201);
    json_int_t g = harness_json_int(r.json, "id");
    assert_string_equal(harness_json_str(r.json, "my_role"), "owner");
    harness_response_free(&r);
    char members[128], path[160];
    snprintf(members, sizeof members, "/api/groups/%lld/members", (long long)g);
    char body[64];
    snprintf(body, sizeof body, "{\"user_id\":%lld}", (long long)b.id);
    expect("POST", members, &a, 204, body);
    expect("POST", members, &a, 409, body); /* already a member */
    snprintf(body, sizeof body, "{\"user_id\":%lld}", (long long)c.id);
    expect("POST", members, &a, 204, body);
    snprintf(body, sizeof body, "{\"user_id\":%lld}", (long long)d.id);
    expect("POST", members, &b, 403, body); /* a plain member cannot add */
    expect("POST", members, &d, 404, body); /* a non-member does not see the group */

    snprintf(path, sizeof path, "/api/chats/%lld", (long long)g);
    r = call("GET", path, &c, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_int_equal(harness_json_int(r.json, "member_count"), 3);
    assert_int_equal(json_array_size(harness_json_path(r.json, "members")), 3);
    harness_response_free(&r);

    harness_ws *wb = ws_of(&b), *wc = ws_of(&c);
    for (int i = 1; i <= 5; i++) {
        char text[32];
        snprintf(text, sizeof text, "group message %d", i);
        assert_int_equal(send_text(i % 2 ? &a : &b, g, text), i);
    }
    for (int i = 1; i <= 5; i++) {
        char text[32];
        snprintf(text, sizeof text, "group message %d", i);
        expect_new(wb, g, i, text);
        expect_new(wc, g, i, text);
    }

    /* Rename: a member may not, the owner may; everyone hears it. */
    snprintf(path, sizeof path, "/api/groups/%lld", (long long)g);
    expect("PATCH", path, &c, 403, "{\"title\":\"mine\"}");
    r = call("PATCH", path, &a, "{\"title\":\"Isfahan 2026\"}");
    HARNESS_ASSERT_STATUS(r, 200);
    assert_string_equal(harness_json_str(r.json, "title"), "Isfahan 2026");
    harness_response_free(&r);
    json_t *ev;
    assert_int_equal(harness_ws_expect_type(wc, "members", PUSH_BOUND_MS, &ev), SB_OK);
    assert_string_equal(harness_json_str(ev, "action"), "renamed");
    json_decref(ev);

    /* Remove c: c neither receives nor reads nor writes afterwards. */
    snprintf(path, sizeof path, "/api/groups/%lld/members/%lld", (long long)g, (long long)c.id);
    expect("DELETE", path, &b, 403, NULL); /* a plain member cannot remove */
    expect("DELETE", path, &a, 204, NULL);
    expect("DELETE", path, &a, 404, NULL); /* no longer a member */
    assert_int_equal(send_text(&a, g, "after c left"), 6);
    expect_new(wb, g, 6, "after c left");
    json_int_t bc = direct(&b, &c);
    assert_int_equal(send_text(&b, bc, "only for c"), 1);
    expect_new(wc, bc, 1, "only for c"); /* and not group seq 6 before it */
    snprintf(path, sizeof path, "/api/chats/%lld/messages", (long long)g);
    expect("GET", path, &c, 404, NULL);
    expect("POST", path, &c, 404, "{\"text\":\"let me in\"}");
    snprintf(path, sizeof path, "/api/chats/%lld/changes?after_rev=0", (long long)g);
    expect("GET", path, &c, 404, NULL);

    /* b leaves: the owner keeps the group, b is out. */
    snprintf(path, sizeof path, "/api/groups/%lld/leave", (long long)g);
    expect("POST", path, &b, 204, NULL);
    expect("POST", path, &b, 404, NULL);
    snprintf(path, sizeof path, "/api/chats/%lld", (long long)g);
    r = call("GET", path, &a, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_int_equal(harness_json_int(r.json, "member_count"), 1);
    harness_response_free(&r);
    expect("GET", path, &b, 404, NULL);

    harness_ws_free(wb);
    harness_ws_free(wc);
}

/* Every chat route refuses a non-member with 404, the same answer as for a
 * chat that does not exist and for a malformed id. */
static void test_non_members_and_forged_ids(void **state) {
    (void)state;
    user a = login(), b = login(), x = login();
    json_int_t chat = direct(&a, &b);
    assert_int_equal(send_text(&a, chat, "private"), 1);
    char ids[3][32];
    snprintf(ids[0], sizeof ids[0], "%lld", (long long)chat); /* exists, x is no member */
    snprintf(ids[1], sizeof ids[1], "%lld", (long long)chat + 100000);
    snprintf(ids[2], sizeof ids[2], "%s", "abc");
    for (int k = 0; k < 3; k++) {
        const struct {
            const char *method, *suffix, *body;
        } routes[] = {
            {"GET", "", NULL},
            {"GET", "/messages", NULL},
            {"GET", "/changes?after_rev=0", NULL},
            {"POST", "/messages", "{\"text\":\"hi\"}"},
            {"PATCH", "/messages/1", "{\"text\":\"mine now\"}"},
            {"DELETE", "/messages/1", NULL},
            {"POST", "/receipts", "{\"read_seq\":1}"},
            {"POST", "/typing", NULL},
        };
        for (size_t i = 0; i < SB_ARRAY_LEN(routes); i++) {
            char path[160];
            snprintf(path, sizeof path, "/api/chats/%s%s", ids[k], routes[i].suffix);
            harness_response r = call(routes[i].method, path, &x, routes[i].body ? "%s" : NULL, routes[i].body);
            if (r.status != 404) fprintf(stderr, "%s %s\n", routes[i].method, path);
            HARNESS_ASSERT_ERROR(r, 404, "not_found");
            harness_response_free(&r);
        }
        const char *group_routes[][3] = {
            {"POST", "/members", "{\"user_id\":1}"},
            {"DELETE", "/members/1", NULL},
            {"POST", "/leave", NULL},
            {"PATCH", "", "{\"title\":\"t\"}"},
        };
        for (size_t i = 0; i < SB_ARRAY_LEN(group_routes); i++) {
            char path[160];
            snprintf(path, sizeof path, "/api/groups/%s%s", ids[k], group_routes[i][1]);
            harness_response r =
                call(group_routes[i][0], path, &x, group_routes[i][2] ? "%s" : NULL, group_routes[i][2]);
            if (r.status != 404) fprintf(stderr, "%s %s\n", group_routes[i][0], path);
            HARNESS_ASSERT_ERROR(r, 404, "not_found");
            harness_response_free(&r);
        }
    }
    /* The message is untouched. */
    char path[160];
    snprintf(path, sizeof path, "/api/chats/%lld/messages", (long long)chat);
    harness_response r = call("GET", path, &a, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_int_equal(json_array_size(harness_json_path(r.json, "messages")), 1);
    assert_string_equal(harness_json_str(r.json, "messages.0.text"), "private");
    harness_response_free(&r);
    /* A member editing someone else's message is forbidden, not hidden. */
    snprintf(path, sizeof path, "/api/chats/%lld/messages/1", (long long)chat);
    r = call("PATCH", path, &b, "{\"text\":\"forged\"}");
    HARNESS_ASSERT_ERROR(r, 403, "forbidden");
    harness_response_free(&r);
    snprintf(path, sizeof path, "/api/chats/%lld/messages/77", (long long)chat);
    expect("PATCH", path, &a, 404, "{\"text\":\"nothing there\"}");
    /* A forged user id for a direct chat or a block. */
    expect("POST", "/api/chats/direct", &a, 404, "{\"user_id\":987654321}");
    expect("POST", "/api/chats/direct", &a, 400, "{\"user_id\":\"1\"}");
    expect("POST", "/api/blocks/987654321", &a, 404, NULL);
}

static void test_bad_input(void **state) {
    (void)state;
    user a = login(), b = login();
    json_int_t chat = direct(&a, &b);
    char path[160];
    snprintf(path, sizeof path, "/api/chats/%lld/messages", (long long)chat);
    size_t n = SB_MESSENGER_TEXT_BYTES_MAX + 1;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'a', n);
    big[n] = '\0';
    harness_response r = call("POST", path, &a, "{\"text\":\"%s\"}", big);
    HARNESS_ASSERT_STATUS(r, 413);
    harness_response_free(&r);
    big[n - 1] = '\0'; /* exactly the limit is fine */
    r = call("POST", path, &a, "{\"text\":\"%s\"}", big);
    HARNESS_ASSERT_STATUS(r, 201);
    harness_response_free(&r);
    free(big);
    const char *bad[] = {
        "{\"text\":\"\"}",
        "{\"text\":\"   \"}",
        "{\"text\":\"tab\\there\"}",
        "{\"text\":5}",
        "{}",
        "{\"text\":\"ok\",\"client_id\":\"has space\"}",
        "{\"text\":\"ok\",\"reply_to_seq\":-1}",
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        r = call("POST", path, &a, "%s", bad[i]);
        if (r.status != 400) fprintf(stderr, "body %s\n", bad[i]);
        HARNESS_ASSERT_ERROR(r, 400, "invalid");
        harness_response_free(&r);
    }
    snprintf(path, sizeof path, "/api/chats/%lld/messages?limit=abc", (long long)chat);
    expect("GET", path, &a, 400, NULL);
    snprintf(path, sizeof path, "/api/chats/%lld/receipts", (long long)chat);
    expect("POST", path, &a, 400, "{\"read_seq\":1000}");
    expect("POST", "/api/groups", &a, 400, "{\"title\":\"two\\nlines\"}");
    /* Blocking: neither can write in the 1:1 chat. */
    char block[64];
    snprintf(block, sizeof block, "/api/blocks/%lld", (long long)b.id);
    expect("POST", block, &a, 204, NULL);
    snprintf(path, sizeof path, "/api/chats/%lld/messages", (long long)chat);
    expect("POST", path, &b, 403, "{\"text\":\"hello?\"}");
    expect("DELETE", block, &a, 204, NULL);
    expect("POST", path, &b, 201, "{\"text\":\"hello again\"}");
}

static void test_history_and_reconnect(void **state) {
    (void)state;
    user a = login(), b = login();
    json_int_t chat = direct(&a, &b);
    /* b is offline (no WebSocket) while a writes. */
    for (int i = 1; i <= 7; i++) {
        char text[32];
        snprintf(text, sizeof text, "missed %d", i);
        assert_int_equal(send_text(&a, chat, text), i);
    }
    char path[160];
    snprintf(path, sizeof path, "/api/chats/%lld/changes?after_rev=0", (long long)chat);
    harness_response r = call("GET", path, &b, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    json_t *list = harness_json_path(r.json, "messages");
    assert_int_equal(json_array_size(list), 7);
    for (size_t i = 0; i < 7; i++) {
        char text[32];
        snprintf(text, sizeof text, "missed %zu", i + 1);
        assert_int_equal(json_integer_value(json_object_get(json_array_get(list, i), "seq")), (json_int_t)i + 1);
        assert_string_equal(json_string_value(json_object_get(json_array_get(list, i), "text")), text);
    }
    json_int_t last_rev = harness_json_int(r.json, "last_rev");
    harness_response_free(&r);

    /* Nothing new: nothing again. */
    snprintf(path, sizeof path, "/api/chats/%lld/changes?after_rev=%lld", (long long)chat, (long long)last_rev);
    r = call("GET", path, &b, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_int_equal(json_array_size(harness_json_path(r.json, "messages")), 0);
    harness_response_free(&r);

    /* Offline again: a new message, an edit and a delete; each comes once. */
    assert_int_equal(send_text(&a, chat, "missed 8"), 8);
    char mpath[160];
    snprintf(mpath, sizeof mpath, "/api/chats/%lld/messages/2", (long long)chat);
    expect("PATCH", mpath, &a, 200, "{\"text\":\"missed 2, edited\"}");
    snprintf(mpath, sizeof mpath, "/api/chats/%lld/messages/3", (long long)chat);
    expect("DELETE", mpath, &a, 204, NULL);
    expect("DELETE", mpath, &a, 204, NULL); /* again: no new change */
    r = call("GET", path, &b, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    list = harness_json_path(r.json, "messages");
    assert_int_equal(json_array_size(list), 3);
    assert_int_equal(harness_json_int(r.json, "messages.0.seq"), 8);
    assert_int_equal(harness_json_int(r.json, "messages.1.seq"), 2);
    assert_string_equal(harness_json_str(r.json, "messages.1.text"), "missed 2, edited");
    assert_true(harness_json_int(r.json, "messages.1.edited_at_ms") > 0);
    assert_int_equal(harness_json_int(r.json, "messages.2.seq"), 3);
    assert_true(json_is_true(harness_json_path(r.json, "messages.2.deleted")));
    assert_true(json_is_null(harness_json_path(r.json, "messages.2.text")));
    harness_response_free(&r);

    /* Cursor history: oldest first after a seq, newest first before one. */
    snprintf(path, sizeof path, "/api/chats/%lld/messages?after=0&limit=3", (long long)chat);
    r = call("GET", path, &b, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_int_equal(json_array_size(harness_json_path(r.json, "messages")), 3);
    assert_int_equal(harness_json_int(r.json, "messages.0.seq"), 1);
    assert_int_equal(harness_json_int(r.json, "messages.2.seq"), 3);
    assert_true(json_is_true(harness_json_path(r.json, "more")));
    harness_response_free(&r);
    snprintf(path, sizeof path, "/api/chats/%lld/messages?after=6&limit=3", (long long)chat);
    r = call("GET", path, &b, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_int_equal(json_array_size(harness_json_path(r.json, "messages")), 2);
    assert_int_equal(harness_json_int(r.json, "messages.0.seq"), 7);
    assert_int_equal(harness_json_int(r.json, "messages.1.seq"), 8);
    assert_true(json_is_false(harness_json_path(r.json, "more")));
    harness_response_free(&r);
    snprintf(path, sizeof path, "/api/chats/%lld/messages?before=6&limit=2", (long long)chat);
    r = call("GET", path, &b, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_int_equal(harness_json_int(r.json, "messages.0.seq"), 5);
    assert_int_equal(harness_json_int(r.json, "messages.1.seq"), 4);
    harness_response_free(&r);
}

static void test_edit_delete_receipts_typing_pushed(void **state) {
    (void)state;
    user a = login(), b = login();
    json_int_t chat = direct(&a, &b);
    harness_ws *wa = ws_of(&a), *wb = ws_of(&b);
    assert_int_equal(send_text(&a, chat, "typo"), 1);
    expect_new(wb, chat, 1, "typo");
    char path[160];
    snprintf(path, sizeof path, "/api/chats/%lld/messages/1", (long long)chat);
    expect("PATCH", path, &a, 200, "{\"text\":\"fixed\"}");
    json_decref(expect_event(wb, "message.edited", chat, 1, "fixed"));
    expect("DELETE", path, &a, 204, NULL);
    json_t *ev = expect_event(wb, "message.deleted", chat, 1, NULL);
    assert_true(json_is_true(harness_json_path(ev, "message.deleted")));
    json_decref(ev);
    expect("PATCH", path, &a, 409, "{\"text\":\"undead\"}");

    assert_int_equal(send_text(&a, chat, "read me"), 2);
    snprintf(path, sizeof path, "/api/chats/%lld/receipts", (long long)chat);
    expect("POST", path, &b, 204, "{\"delivered_seq\":2,\"read_seq\":2}");
    ev = expect_event(wa, "receipt", chat, 0, NULL);
    assert_int_equal(harness_json_int(ev, "user_id"), b.id);
    assert_int_equal(harness_json_int(ev, "read_seq"), 2);
    assert_int_equal(harness_json_int(ev, "delivered_seq"), 2);
    json_decref(ev);

    snprintf(path, sizeof path, "/api/chats/%lld/typing", (long long)chat);
    expect("POST", path, &b, 204, NULL);
    ev = expect_event(wa, "typing", chat, 0, NULL);
    assert_int_equal(harness_json_int(ev, "user_id"), b.id);
    json_decref(ev);

    harness_ws_free(wa);
    harness_ws_free(wb);
}

static void test_contacts(void **state) {
    (void)state;
    user a = login(), b = harness_customer_hidden(srv, "0912333", &phones);
    expect("PATCH", "/api/me", &b, 200, "{\"username\":\"bahar_k\"}");
    expect("POST", "/api/contacts/find", &a, 404, "{\"query\":\"@bahar_k\"}"); /* not discoverable yet */
    expect("PUT", "/api/me/discoverable", &b, 200, "{\"discoverable\":true}");
    harness_response r = call("POST", "/api/contacts/find", &a, "{\"query\":\"@bahar_k\"}");
    HARNESS_ASSERT_STATUS(r, 200);
    assert_int_equal(harness_json_int(r.json, "user_id"), b.id);
    harness_response_free(&r);
    expect("PUT", "/api/me/discoverable", &b, 400, "{\"discoverable\":\"yes\"}");
}

static void test_channel(void **state) {
    (void)state;
    user u = login(), marketer, agent;
    assert_int_equal(harness_staff_token(srv, "marketer", marketer.token, NULL), SB_OK);
    assert_int_equal(harness_staff_token(srv, "agent", agent.token, NULL), SB_OK);
    expect("GET", "/api/channel/posts", &u, 409, NULL); /* subscribe first */
    harness_response r = call("POST", "/api/channel/subscribe", &u, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    json_int_t chan = harness_json_int(r.json, "chat_id");
    harness_response_free(&r);
    harness_ws *wu = ws_of(&u);
    r = call("POST", "/api/channel/posts", &marketer, "{\"text\":\"New savings plan\"}");
    HARNESS_ASSERT_STATUS(r, 201);
    json_int_t post = harness_json_int(r.json, "message.seq");
    harness_response_free(&r);
    expect_new(wu, chan, post, "New savings plan");
    expect("POST", "/api/channel/posts", &agent, 403, "{\"text\":\"not mine to post\"}");
    expect("POST", "/api/channel/posts", &u, 403, "{\"text\":\"nor mine\"}");

    char path[128];
    snprintf(path, sizeof path, "/api/channel/posts/%lld/like", (long long)post);
    expect("POST", path, &u, 204, NULL);
    expect("POST", path, &u, 409, NULL);
    json_t *ev = expect_event(wu, "post.counts", chan, post, NULL);
    assert_int_equal(harness_json_int(ev, "message.likes"), 1);
    json_decref(ev);
    snprintf(path, sizeof path, "/api/channel/posts/%lld/comments", (long long)post);
    expect("POST", path, &u, 201, "{\"text\":\"what is the rate?\"}");
    expect("POST", "/api/channel/posts/424242/like", &u, 404, NULL);

    r = call("GET", "/api/channel/posts", &u, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    json_t *list = harness_json_path(r.json, "messages");
    bool seen = false;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *m = json_array_get(list, i);
        if (json_integer_value(json_object_get(m, "seq")) != post) continue;
        seen = true;
        assert_int_equal(json_integer_value(json_object_get(m, "likes")), 1);
        assert_int_equal(json_integer_value(json_object_get(m, "comments")), 1);
    }
    assert_true(seen);
    harness_response_free(&r);
    harness_ws_free(wu);
}

/* Runs last: restarts the group's server on the same data. */
static void test_restart_keeps_history(void **state) {
    (void)state;
    user a = login(), b = login();
    json_int_t chat = direct(&a, &b);
    for (int i = 1; i <= 3; i++) {
        char text[32];
        snprintf(text, sizeof text, "durable %d", i);
        assert_int_equal(send_text(i == 2 ? &b : &a, chat, text), i);
    }
    int exit_status = -1;
    assert_int_equal(harness_server_stop(srv, &exit_status), SB_OK);
    assert_int_equal(exit_status, 0);
    assert_int_equal(harness_server_start(srv), SB_OK);
    char path[160];
    snprintf(path, sizeof path, "/api/chats/%lld/messages?after=0", (long long)chat);
    harness_response r = call("GET", path, &b, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_int_equal(json_array_size(harness_json_path(r.json, "messages")), 3);
    for (int i = 0; i < 3; i++) {
        char text[32], key[32];
        snprintf(text, sizeof text, "durable %d", i + 1);
        snprintf(key, sizeof key, "messages.%d.text", i);
        assert_string_equal(harness_json_str(r.json, key), text);
    }
    harness_response_free(&r);
    /* The numbering continues. */
    assert_int_equal(send_text(&a, chat, "after restart"), 4);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_users_chat_live),
        cmocka_unit_test(test_group_three_users_and_removal),
        cmocka_unit_test(test_non_members_and_forged_ids),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_history_and_reconnect),
        cmocka_unit_test(test_edit_delete_receipts_typing_pushed),
        cmocka_unit_test(test_contacts),
        cmocka_unit_test(test_channel),
        cmocka_unit_test(test_restart_keeps_history),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
