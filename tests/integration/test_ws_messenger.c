/*
 * test_ws_messenger.c - the messenger over WebSocket frames ("send",
 * "receipt", "typing"; docs/API.md) against the real server: 1:1 and group
 * chats where every device of every member gets every message in seq order
 * exactly once (sends from several connections gathered into one batch),
 * idempotent retries, HTTP and frames mixed, reconnect through /changes,
 * hostile frames answered with errors while the connection stays up, a flood
 * from one connection rate limited and closed while another user's messages
 * keep arriving, and a slow reader in a busy group dropped while everybody
 * else still gets everything.
 *
 * No timed assertions: every read has a generous bound (PUSH_BOUND_MS) that
 * only turns a hang into a failure.  "Exactly once" is proven by reading a
 * later message next: a duplicate would come before it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "integration/harness.h"

/* A bound on one awaited frame (not a speed claim: ASan on a loaded box). */
#define PUSH_BOUND_MS 10000

static harness_server *srv;
static int phones;

typedef harness_customer user;

HARNESS_GROUP_FIXTURES(srv, NULL)

static user login(void) {
    return harness_customer_next(srv, "0912444", &phones);
}

static harness_response call(const char *method, const char *path, const user *u, const char *body) {
    return harness_call(srv, method, path, u ? u->token : NULL, body);
}

static json_int_t direct(const user *a, const user *b) {
    char body[64];
    snprintf(body, sizeof body, "{\"user_id\":%lld}", (long long)b->id);
    harness_response r = call("POST", "/api/chats/direct", a, body);
    assert_true(r.status == 200 || r.status == 201);
    json_int_t id = harness_json_int(r.json, "id");
    harness_response_free(&r);
    return id;
}

/* A group owned by owner with the members. */
static json_int_t group(const user *owner, const user *const *members, size_t count) {
    harness_response r = call("POST", "/api/groups", owner, "{\"title\":\"frames\"}");
    HARNESS_ASSERT_STATUS(r, 201);
    json_int_t g = harness_json_int(r.json, "id");
    harness_response_free(&r);
    char path[96], body[64];
    snprintf(path, sizeof path, "/api/groups/%lld/members", (long long)g);
    for (size_t i = 0; i < count; i++) {
        snprintf(body, sizeof body, "{\"user_id\":%lld}", (long long)members[i]->id);
        r = call("POST", path, owner, body);
        HARNESS_ASSERT_STATUS(r, 204);
        harness_response_free(&r);
    }
    return g;
}

static harness_ws *ws_of(const user *u, int rcvbuf_bytes) {
    harness_ws *ws;
    if (rcvbuf_bytes == 0) {
        assert_int_equal(harness_ws_open(srv->port, u->token, &ws, NULL), SB_OK);
        return ws;
    }
    assert_int_equal(harness_ws_connect(srv->port, "/api/ws", u->token, rcvbuf_bytes, PUSH_BOUND_MS, &ws, NULL), SB_OK);
    json_t *hello;
    assert_int_equal(harness_ws_expect_type(ws, "hello", PUSH_BOUND_MS, &hello), SB_OK);
    json_decref(hello);
    return ws;
}

static void send_frame(harness_ws *ws, const char *fmt, ...) SB_PRINTF(2, 3);
static void send_frame(harness_ws *ws, const char *fmt, ...) {
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof text);
    assert_int_equal(harness_ws_send_text(ws, text), SB_OK);
}

static void send_message(harness_ws *ws, json_int_t chat, const char *client_id, const char *text) {
    send_frame(ws, "{\"type\":\"send\",\"chat_id\":%lld,\"text\":\"%s\",\"client_id\":\"%s\"}", (long long)chat, text,
               client_id);
}

/* Frames read from a connection while waiting for another type are kept
 * (per connection, in arrival order) so that a sender reading its "sent"
 * answers loses none of the pushes that came in between. */
#define BACKLOGS_MAX 16
#define BACKLOG_FRAMES_MAX 20000
static struct {
    harness_ws *ws;
    json_t *frames;
} backlogs[BACKLOGS_MAX];

static json_t *backlog_of(harness_ws *ws) {
    size_t free_slot = BACKLOGS_MAX;
    for (size_t i = 0; i < BACKLOGS_MAX; i++) {
        if (backlogs[i].ws == ws) return backlogs[i].frames;
        if (!backlogs[i].ws && free_slot == BACKLOGS_MAX) free_slot = i;
    }
    assert_true(free_slot < BACKLOGS_MAX);
    backlogs[free_slot].ws = ws;
    backlogs[free_slot].frames = json_array();
    return backlogs[free_slot].frames;
}

static void ws_free(harness_ws *ws) {
    for (size_t i = 0; i < BACKLOGS_MAX; i++)
        if (backlogs[i].ws == ws) {
            json_decref(backlogs[i].frames);
            backlogs[i].ws = NULL;
            backlogs[i].frames = NULL;
        }
    harness_ws_free(ws);
}

/* The next frame of this type: first from the backlog, then read (frames of
 * other types go to the backlog). */
static json_t *next_of_type(harness_ws *ws, const char *type) {
    json_t *backlog = backlog_of(ws);
    for (size_t i = 0; i < json_array_size(backlog); i++) {
        json_t *msg = json_array_get(backlog, i);
        if (strcmp(harness_json_str(msg, "type"), type) == 0) {
            json_incref(msg);
            json_array_remove(backlog, i);
            return msg;
        }
    }
    int64_t deadline = harness_now_ms() + PUSH_BOUND_MS;
    for (;;) {
        int64_t left = deadline - harness_now_ms();
        json_t *msg = NULL;
        int result = left > 0 ? harness_ws_read_json(ws, (int)left, &msg, NULL) : SB_ETIMEOUT;
        if (result != SB_OK) fprintf(stderr, "waiting for a '%s' frame: %s\n", type, sb_strerror(result));
        assert_int_equal(result, SB_OK);
        if (strcmp(harness_json_str(msg, "type"), type) == 0) return msg;
        assert_true(json_array_size(backlog) < BACKLOG_FRAMES_MAX);
        json_array_append_new(backlog, msg);
    }
}

/* The "sent" answer for client_id; returns its seq. */
static json_int_t expect_sent(harness_ws *ws, const char *client_id, json_int_t chat) {
    json_t *msg = next_of_type(ws, "sent");
    if (strcmp(harness_json_str(msg, "client_id"), client_id) != 0 || harness_json_int(msg, "chat_id") != chat) {
        char *t = harness_json_text(msg);
        fprintf(stderr, "want sent for %s in chat %lld, got %s\n", client_id, (long long)chat, t);
        sb_free(t);
    }
    assert_string_equal(harness_json_str(msg, "client_id"), client_id);
    assert_int_equal(harness_json_int(msg, "chat_id"), chat);
    json_int_t seq = harness_json_int(msg, "seq");
    json_decref(msg);
    return seq;
}

/* The error answer: its code and client_id (NULL: must be null). */
static void expect_error(harness_ws *ws, const char *client_id, const char *code) {
    json_t *msg = next_of_type(ws, "error");
    char *t = harness_json_text(msg);
    fprintf(stderr, "error frame: %s\n", t);
    sb_free(t);
    assert_string_equal(harness_json_str(msg, "error.code"), code);
    json_t *cid = json_object_get(msg, "client_id");
    if (client_id)
        assert_string_equal(json_string_value(cid) ? json_string_value(cid) : "", client_id);
    else
        assert_true(cid == NULL || json_is_null(cid));
    json_decref(msg);
}

/* The next message.new (of any chat) must be chat/seq with text (NULL: any). */
static json_t *expect_new(harness_ws *ws, json_int_t chat, json_int_t seq, const char *text) {
    json_t *ev = next_of_type(ws, "message.new");
    if (harness_json_int(ev, "chat_id") != chat || harness_json_int(ev, "seq") != seq ||
        (text && strcmp(harness_json_str(ev, "message.text"), text) != 0)) {
        char *t = harness_json_text(ev);
        fprintf(stderr, "want message.new chat %lld seq %lld text %s, got %s\n", (long long)chat, (long long)seq,
                text ? text : "*", t);
        sb_free(t);
    }
    assert_int_equal(harness_json_int(ev, "chat_id"), chat);
    assert_int_equal(harness_json_int(ev, "seq"), seq);
    if (text) assert_string_equal(harness_json_str(ev, "message.text"), text);
    return ev;
}

static void expect_alive(harness_ws *ws) {
    send_frame(ws, "{\"type\":\"ping\",\"id\":7}");
    json_t *pong = next_of_type(ws, "pong");
    assert_int_equal(harness_json_int(pong, "id"), 7);
    json_decref(pong);
}

/* ---- tests ---- */

/* 1:1 and a group over frames: every device of every member gets every
 * message, in seq order, exactly once; acks name the client_id; retries are
 * duplicates; HTTP sends interleave; receipts and typing are pushed. */
static void test_chat_over_frames(void **state) {
    (void)state;
    user a = login(), b = login(), c = login();
    json_int_t ab = direct(&a, &b);
    const user *members[] = {&b, &c};
    json_int_t g = group(&a, members, 2);
    /* a has two devices, c has two, b one */
    harness_ws *a1 = ws_of(&a, 0), *a2 = ws_of(&a, 0), *b1 = ws_of(&b, 0), *c1 = ws_of(&c, 0), *c2 = ws_of(&c, 0);

    send_message(a1, ab, "a-1", "salam b");
    assert_int_equal(expect_sent(a1, "a-1", ab), 1);
    json_decref(expect_new(b1, ab, 1, "salam b"));
    json_decref(expect_new(a2, ab, 1, "salam b")); /* the sender's other device */
    json_decref(expect_new(a1, ab, 1, "salam b"));

    /* A reply by frame; c is no member of the 1:1 chat. */
    send_frame(b1, "{\"type\":\"send\",\"chat_id\":%lld,\"text\":\"salam a\",\"client_id\":\"b-1\",\"reply_to_seq\":1}",
               (long long)ab);
    assert_int_equal(expect_sent(b1, "b-1", ab), 2);
    json_t *ev = expect_new(a1, ab, 2, "salam a");
    assert_int_equal(harness_json_int(ev, "message.reply_to_seq"), 1);
    assert_int_equal(harness_json_int(ev, "message.sender_id"), b.id);
    json_decref(ev);
    json_decref(expect_new(a2, ab, 2, "salam a"));
    json_decref(expect_new(b1, ab, 2, "salam a"));

    /* The group: three senders at once, frames written back to back so that
     * the server gathers them; then HTTP in between. */
    harness_ws *senders[] = {a1, b1, c2};
    const char *names[] = {"a", "b", "c"};
    const int rounds = 6;
    for (int i = 0; i < rounds; i++)
        for (int s = 0; s < 3; s++) {
            char client_id[16], text[32];
            snprintf(client_id, sizeof client_id, "g%s-%d", names[s], i);
            snprintf(text, sizeof text, "%s says %d", names[s], i);
            send_message(senders[s], g, client_id, text);
        }
    harness_response r = call("POST", "/api/chats/0/messages", &a, "{\"text\":\"nowhere\"}");
    HARNESS_ASSERT_ERROR(r, 404, "not_found");
    harness_response_free(&r);
    /* acks: each sender's in its own order, seqs distinct and within 1..18 */
    bool seen[3 * 6 + 1] = {false};
    for (int s = 0; s < 3; s++) {
        json_int_t last = 0;
        for (int i = 0; i < rounds; i++) {
            char client_id[16];
            snprintf(client_id, sizeof client_id, "g%s-%d", names[s], i);
            json_int_t seq = expect_sent(senders[s], client_id, g);
            assert_true(seq > last && seq <= 3 * rounds);
            assert_false(seen[seq]);
            seen[seq] = true;
            last = seq;
        }
    }
    char path[96];
    snprintf(path, sizeof path, "/api/chats/%lld/messages", (long long)g);
    r = call("POST", path, &b, "{\"text\":\"over http\"}");
    HARNESS_ASSERT_STATUS(r, 201);
    assert_int_equal(harness_json_int(r.json, "message.seq"), 3 * rounds + 1);
    harness_response_free(&r);
    /* every device of every member: 1..19 in order, exactly once */
    harness_ws *devices[] = {a1, a2, b1, c1, c2};
    for (size_t d = 0; d < SB_ARRAY_LEN(devices); d++) {
        for (json_int_t seq = 1; seq <= 3 * rounds + 1; seq++) {
            ev = expect_new(devices[d], g, seq, seq == 3 * rounds + 1 ? "over http" : NULL);
            json_decref(ev);
        }
    }

    /* A retry with the same client_id: the same seq, duplicate, no new event. */
    send_message(c2, g, "gc-0", "c says 0");
    json_t *ack = next_of_type(c2, "sent");
    assert_true(json_is_true(json_object_get(ack, "duplicate")));
    json_int_t first_seq = harness_json_int(ack, "seq");
    assert_true(first_seq >= 1 && first_seq <= 3 * rounds);
    json_decref(ack);
    send_message(a1, g, "a-next", "next");
    assert_int_equal(expect_sent(a1, "a-next", g), 3 * rounds + 2);
    for (size_t d = 0; d < SB_ARRAY_LEN(devices); d++)
        json_decref(expect_new(devices[d], g, 3 * rounds + 2, "next")); /* and not the duplicate before it */

    /* Receipts and typing by frame reach the other members. */
    send_frame(b1, "{\"type\":\"receipt\",\"chat_id\":%lld,\"read_seq\":%d,\"client_id\":\"r-1\"}", (long long)g,
               3 * rounds + 2);
    json_t *ok = next_of_type(b1, "ok");
    assert_string_equal(harness_json_str(ok, "client_id"), "r-1");
    json_decref(ok);
    json_t *receipt = next_of_type(a2, "receipt");
    assert_int_equal(harness_json_int(receipt, "chat_id"), g);
    assert_int_equal(harness_json_int(receipt, "read_seq"), 3 * rounds + 2);
    json_decref(receipt);
    send_frame(c1, "{\"type\":\"typing\",\"chat_id\":%lld}", (long long)g);
    json_t *typing = next_of_type(a1, "typing");
    assert_int_equal(harness_json_int(typing, "chat_id"), g);
    assert_int_equal(harness_json_int(typing, "user_id"), c.id);
    json_decref(typing);

    for (size_t d = 0; d < SB_ARRAY_LEN(devices); d++)
        ws_free(devices[d]);
}

/* A device that was away catches up through /changes: what it missed, in
 * order, once; then live frames go on with the next seq. */
static void test_reconnect_through_changes(void **state) {
    (void)state;
    user a = login(), b = login();
    json_int_t ab = direct(&a, &b);
    harness_ws *wa = ws_of(&a, 0), *wb = ws_of(&b, 0);
    send_message(wa, ab, "r-1", "before");
    assert_int_equal(expect_sent(wa, "r-1", ab), 1);
    json_t *ev = expect_new(wb, ab, 1, "before");
    json_int_t last_rev = harness_json_int(ev, "rev");
    json_decref(ev);
    ws_free(wb); /* b goes away */
    for (int i = 2; i <= 4; i++) {
        char client_id[16], text[32];
        snprintf(client_id, sizeof client_id, "r-%d", i);
        snprintf(text, sizeof text, "missed %d", i);
        send_message(wa, ab, client_id, text);
        assert_int_equal(expect_sent(wa, client_id, ab), i);
    }
    wb = ws_of(&b, 0);
    char path[128];
    snprintf(path, sizeof path, "/api/chats/%lld/changes?after_rev=%lld", (long long)ab, (long long)last_rev);
    harness_response r = call("GET", path, &b, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    json_t *list = harness_json_path(r.json, "messages");
    assert_int_equal(json_array_size(list), 3);
    for (size_t i = 0; i < 3; i++) {
        char text[32];
        snprintf(text, sizeof text, "missed %zu", i + 2);
        assert_int_equal(json_integer_value(json_object_get(json_array_get(list, i), "seq")), (json_int_t)i + 2);
        assert_string_equal(json_string_value(json_object_get(json_array_get(list, i), "text")), text);
    }
    assert_false(json_is_true(harness_json_path(r.json, "more")));
    harness_response_free(&r);
    send_message(wa, ab, "r-5", "live again");
    assert_int_equal(expect_sent(wa, "r-5", ab), 5);
    json_decref(expect_new(wb, ab, 5, "live again")); /* nothing replayed before it */
    ws_free(wa);
    ws_free(wb);
}

/* Hostile frames: each is refused with an error naming the client_id where
 * it could be read, and the connection stays up. */
static void test_hostile_frames(void **state) {
    (void)state;
    user a = login(), b = login(), x = login();
    json_int_t ab = direct(&a, &b);
    harness_ws *wx = ws_of(&x, 0), *wa = ws_of(&a, 0);

    send_message(wx, ab, "x-1", "let me in"); /* not a member */
    expect_error(wx, "x-1", "not_found");
    send_message(wx, 987654321, "x-2", "nobody here"); /* no such chat: the same answer */
    expect_error(wx, "x-2", "not_found");
    send_frame(wx, "{\"type\":\"receipt\",\"chat_id\":%lld,\"read_seq\":1}", (long long)ab);
    expect_error(wx, NULL, "not_found");
    send_frame(wx, "{\"type\":\"typing\",\"chat_id\":%lld,\"client_id\":\"x-3\"}", (long long)ab);
    expect_error(wx, "x-3", "not_found");

    send_frame(wa, "{\"type\":\"send\",\"chat_id\":%lld,\"text\":\"no id\"}", (long long)ab);
    expect_error(wa, NULL, "invalid");
    send_frame(wa, "{\"type\":\"send\",\"chat_id\":%lld,\"text\":\"bad id\",\"client_id\":\"has space\"}",
               (long long)ab);
    expect_error(wa, NULL, "invalid");
    send_frame(wa, "{\"type\":\"send\",\"chat_id\":\"%lld\",\"text\":\"t\",\"client_id\":\"a-1\"}", (long long)ab);
    expect_error(wa, "a-1", "invalid");
    send_frame(wa, "{\"type\":\"send\",\"chat_id\":%lld,\"client_id\":\"a-2\"}", (long long)ab);
    expect_error(wa, "a-2", "invalid");
    send_frame(wa, "{\"type\":\"send\",\"chat_id\":%lld,\"text\":\"\\u0007bell\",\"client_id\":\"a-3\"}",
               (long long)ab);
    expect_error(wa, "a-3", "invalid");
    send_frame(wa, "{\"type\":\"send\",\"chat_id\":%lld,\"text\":\"nul\\u0000\",\"client_id\":\"a-4\"}", (long long)ab);
    expect_error(wa, NULL, "invalid_json"); /* the parser refuses an escaped NUL */
    send_frame(wa, "{\"type\":\"send\",\"chat_id\":%lld,\"text\":\"   \",\"client_id\":\"a-5\"}", (long long)ab);
    expect_error(wa, "a-5", "invalid");
    send_frame(wa, "{\"type\":\"send\",\"chat_id\":%lld,\"text\":\"r\",\"client_id\":\"a-6\",\"reply_to_seq\":99}",
               (long long)ab);
    expect_error(wa, "a-6", "not_found");
    send_frame(wa, "{\"type\":\"send\",\"chat_id\":%lld,\"text\":\"r\",\"client_id\":\"a-7\",\"reply_to_seq\":-1}",
               (long long)ab);
    expect_error(wa, "a-7", "invalid");
    send_frame(wa, "{\"type\":\"receipt\",\"chat_id\":%lld,\"read_seq\":5}", (long long)ab); /* past the last seq */
    expect_error(wa, NULL, "invalid");
    assert_int_equal(harness_ws_send_text(wa, "{\"type\":\"send\",\"chat_id\":"), SB_OK);
    expect_error(wa, NULL, "invalid_json");
    assert_int_equal(harness_ws_send_text(wa, "[\"send\"]"), SB_OK);
    expect_error(wa, NULL, "invalid_json");

    /* Oversize text: one byte over the limit is too_large. */
    size_t over = SB_MESSENGER_TEXT_BYTES_MAX + 1;
    char *big = malloc(over + 128);
    assert_non_null(big);
    int head =
        snprintf(big, 128, "{\"type\":\"send\",\"chat_id\":%lld,\"client_id\":\"a-big\",\"text\":\"", (long long)ab);
    memset(big + head, 'x', over);
    memcpy(big + head + over, "\"}", 3);
    assert_int_equal(harness_ws_send_text(wa, big), SB_OK);
    expect_error(wa, "a-big", "too_large");
    free(big);

    /* Still up, and the first good message is seq 1: nothing was half-written. */
    expect_alive(wx);
    expect_alive(wa);
    send_message(wa, ab, "a-good", "finally");
    assert_int_equal(expect_sent(wa, "a-good", ab), 1);
    json_decref(expect_new(wa, ab, 1, "finally"));
    ws_free(wx);
    ws_free(wa);
}

/* A flood of sends from one connection: refused past the rate limit, closed
 * past twice it; another user's messages in the same group keep flowing and
 * all arrive, and every flood message that was accepted arrives too. */
static void test_flood_is_rate_limited(void **state) {
    (void)state;
    user f = login(), h = login(), r = login();
    const user *members[] = {&h, &r};
    json_int_t g = group(&f, members, 2);
    harness_ws *wf = ws_of(&f, 0), *wh = ws_of(&h, 0), *wr = ws_of(&r, 0);
    const int burst = 6 * SB_WS_CLIENT_MESSAGES_PER_S_MAX;
    int sent = 0, calm = 0;
    for (int i = 0; i < burst; i++) {
        char client_id[16];
        snprintf(client_id, sizeof client_id, "f-%d", i);
        char text[160];
        snprintf(text, sizeof text, "{\"type\":\"send\",\"chat_id\":%lld,\"text\":\"flood %d\",\"client_id\":\"%s\"}",
                 (long long)g, i, client_id);
        if (harness_ws_send_text(wf, text) != SB_OK) break; /* closed on us: fine */
        sent++;
        if (i % 60 == 59) { /* the calm user goes on meanwhile */
            char cid[16];
            snprintf(cid, sizeof cid, "h-%d", calm++);
            send_message(wh, g, cid, "calm");
            json_int_t seq = expect_sent(wh, cid, g);
            assert_true(seq >= 1);
        }
    }
    /* What the flooder hears: acks, rate_limited errors, then (maybe) 1008. */
    int acked = 0, limited = 0, close_code = 0;
    for (;;) {
        json_t *msg;
        int result = harness_ws_read_json(wf, 2000, &msg, &close_code);
        if (result != SB_OK) break; /* closed, or quiet for 2 s: the flood is over */
        const char *type = harness_json_str(msg, "type");
        if (strcmp(type, "sent") == 0) acked++;
        if (strcmp(type, "error") == 0 && strcmp(harness_json_str(msg, "error.code"), "rate_limited") == 0) limited++;
        json_decref(msg);
    }
    fprintf(stderr, "flood: sent %d, acked %d, rate_limited %d, close code %d, calm %d\n", sent, acked, limited,
            close_code, calm);
    assert_true(limited > 0 || close_code == 1008);
    assert_true(acked < sent);
    assert_true(acked <= 3 * SB_WS_CLIENT_MESSAGES_PER_S_MAX);
    /* The calm user is still heard, and r got every stored message once, in order. */
    send_message(wh, g, "h-last", "after the flood");
    json_int_t last = expect_sent(wh, "h-last", g);
    assert_true(last >= (json_int_t)calm + 1);
    int calm_seen = 0;
    for (json_int_t seq = 1; seq <= last; seq++) {
        json_t *ev = expect_new(wr, g, seq, NULL);
        if (harness_json_int(ev, "message.sender_id") == h.id) calm_seen++;
        json_decref(ev);
    }
    assert_int_equal(calm_seen, calm + 1);
    ws_free(wf);
    ws_free(wh);
    ws_free(wr);
}

/* A slow reader (tiny receive buffer, never reads) in a busy group: its
 * bounded queue fills, the server drops it, and the others get everything. */
static void test_slow_reader_in_a_busy_group(void **state) {
    (void)state;
    user slow = login(), x = login(), y = login(), w = login();
    const user *members[] = {&slow, &y, &w};
    json_int_t g = group(&x, members, 3);
    size_t mark = harness_log_mark(srv);
    harness_ws *ws_slow = ws_of(&slow, 4096);
    harness_ws *wx = ws_of(&x, 0), *wy = ws_of(&y, 0), *ww = ws_of(&w, 0);
    harness_ws *readers[] = {wx, wy, ww};
    /* Texts near the limit so that the queue's bytes fill in a few hundred messages. */
    size_t text_len = SB_MESSENGER_TEXT_BYTES_MAX - 64;
    char *frame = malloc(text_len + 160);
    assert_non_null(frame);
    char slow_id[32];
    snprintf(slow_id, sizeof slow_id, "%lld", (long long)slow.id);
    const int rounds_max = 2000; /* far more than the queue can take */
    json_int_t seq = 0;
    bool dropped = false;
    for (int round = 0; round < rounds_max && !dropped; round++) {
        harness_ws *sender = round % 2 ? wy : wx;
        int head = snprintf(frame, 160, "{\"type\":\"send\",\"chat_id\":%lld,\"client_id\":\"s-%d\",\"text\":\"%d ",
                            (long long)g, round, round);
        memset(frame + head, 'm', text_len);
        memcpy(frame + head + text_len, "\"}", 3);
        assert_int_equal(harness_ws_send_text(sender, frame), SB_OK);
        char client_id[16];
        snprintf(client_id, sizeof client_id, "s-%d", round);
        assert_int_equal(expect_sent(sender, client_id, g), ++seq);
        for (size_t i = 0; i < SB_ARRAY_LEN(readers); i++)
            json_decref(expect_new(readers[i], g, seq, NULL));
        /* The slow reader says something now and then (it never reads). */
        if (round % 10 == 0 && harness_ws_send_text(ws_slow, "{\"type\":\"ping\"}") != SB_OK) dropped = true;
        if (harness_log_find(srv, mark, "ws.drop", "user_id", slow_id, NULL, NULL) == SB_OK) dropped = true;
        harness_sleep_ms(1000 / SB_WS_CLIENT_MESSAGES_PER_S_MAX); /* each sender stays under the rate limit */
    }
    fprintf(stderr, "slow reader: %s after %lld messages of %zu bytes\n", dropped ? "dropped" : "NOT dropped",
            (long long)seq, text_len);
    assert_true(dropped);
    json_t *line = NULL;
    assert_int_equal(harness_log_wait(srv, mark, "ws.drop", "user_id", slow_id, PUSH_BOUND_MS, &line), SB_OK);
    json_decref(line);
    /* The others go on. */
    send_message(ww, g, "w-after", "still here");
    assert_int_equal(expect_sent(ww, "w-after", g), seq + 1);
    for (size_t i = 0; i < SB_ARRAY_LEN(readers); i++)
        json_decref(expect_new(readers[i], g, seq + 1, "still here"));
    free(frame);
    ws_free(ws_slow);
    ws_free(wx);
    ws_free(wy);
    ws_free(ww);
}

/* Send bytes on a non-blocking socket, all of them (bounded wait). */
static void send_all(int fd, const uint8_t *bytes, size_t len) {
    int64_t deadline = harness_now_ms() + PUSH_BOUND_MS;
    while (len > 0) {
        ssize_t n = send(fd, bytes, len, MSG_NOSIGNAL);
        if (n > 0) {
            bytes += n;
            len -= (size_t)n;
            continue;
        }
        assert_true(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
        assert_true(harness_now_ms() < deadline);
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        (void)poll(&p, 1, 100);
    }
}

/* A burst of large answers to one connection: the frames go out in ONE
 * write, so the server reads several at once and frames more than one
 * socket write's worth (SB_WS_WRITE_BYTES_MAX) of answers; every answer
 * arrives, whole and in order.  (A full write buffer once made the server
 * spin inside h2o's proceed loop; how many frames one read takes depends on
 * the kernel's buffers, so this does not always reach that state.) */
static void test_burst_larger_than_one_write(void **state) {
    (void)state;
    user u = login();
    harness_ws *ws = ws_of(&u, 0);
    const size_t payload = SB_WS_MESSAGE_BYTES_MAX - 1024;
    const int count = (int)(2 * SB_WS_WRITE_BYTES_MAX / payload) + 2;
    assert_true(count < SB_WS_CLIENT_MESSAGES_PER_S_MAX);
    const char *head_text = "{\"type\":\"echo\",\"data\":\"";
    size_t frame_bytes = 2 + 2 + 4 + payload; /* 16-bit length, zero mask key (legal) */
    uint8_t *burst = malloc(frame_bytes * (size_t)count);
    assert_non_null(burst);
    for (int i = 0; i < count; i++) {
        uint8_t *f = burst + (size_t)i * frame_bytes;
        f[0] = 0x81;
        f[1] = 0x80 | 126;
        f[2] = (uint8_t)(payload >> 8);
        f[3] = (uint8_t)payload;
        memset(f + 4, 0, 4);
        char *text = (char *)f + 8;
        int head = snprintf(text, 64, "%s%03d", head_text, i);
        memset(text + head, 'e', payload - (size_t)head - 2);
        memcpy(text + payload - 2, "\"}", 2);
    }
    send_all(harness_ws_fd(ws), burst, frame_bytes * (size_t)count);
    free(burst);
    for (int i = 0; i < count; i++) {
        json_t *echo = next_of_type(ws, "echo");
        const char *data = harness_json_str(echo, "data");
        char want[16]; /* room for any int: gcc -Og warns about a smaller one */
        snprintf(want, sizeof want, "%03d", i);
        assert_int_equal(strncmp(data, want, 3), 0);
        assert_int_equal(strlen(data), payload - strlen(head_text) - 2);
        json_decref(echo);
    }
    expect_alive(ws);
    ws_free(ws);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chat_over_frames),
        cmocka_unit_test(test_reconnect_through_changes),
        cmocka_unit_test(test_hostile_frames),
        cmocka_unit_test(test_flood_is_rate_limited),
        cmocka_unit_test(test_slow_reader_in_a_busy_group),
        cmocka_unit_test(test_burst_larger_than_one_write),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
