/*
 * test_privacy.c - who may find, reach and ask money of whom, against the
 * real server:
 *   - payments by phone or @username follow the contact rules: a customer
 *     who is not discoverable, or who blocked the caller, resolves exactly as
 *     a number nobody has (same status, same body) on /api/payments/resolve,
 *     /api/requests and /api/splits;
 *   - a chat by id opens only with someone findable or already sharing a
 *     chat, never with staff (the admin included): the same 404 as an
 *     unknown id; customers cannot add staff or hidden customers to groups;
 *   - a block (either way) stops money requests and splits, by alias, by id
 *     and inside a shared group chat.
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

static harness_server *srv;
static char admin[HARNESS_TOKEN_BYTES];
static int phones;

HARNESS_GROUP_FIXTURES(srv, admin)

typedef harness_customer user;

/* A customer with phone 0912666NNNN (its E.164 form in phone_out) and a username. */
static user person(bool discoverable, const char *username, char phone_out[16]) {
    user u = discoverable ? harness_customer_next(srv, "0912666", &phones)
                          : harness_customer_hidden(srv, "0912666", &phones);
    snprintf(phone_out, 16, "+98912666%04d", phones);
    harness_response r = harness_callf(srv, "PATCH", "/api/me", u.token, "{\"username\":\"%s\"}", username);
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);
    return u;
}

static void block(const user *blocker, const user *blocked, const char *method) {
    char path[64];
    snprintf(path, sizeof path, "/api/blocks/%lld", (long long)blocked->id);
    harness_response r = harness_call(srv, method, path, blocker->token, NULL);
    assert_true(r.status == 200 || r.status == 204);
    harness_response_free(&r);
}

/* Two answers are the same to the caller: status and body byte for byte. */
static void assert_same_answer(const harness_response *a, const harness_response *b) {
    if (a->status != b->status || strcmp(a->body, b->body) != 0)
        fprintf(stderr, "answers differ:\n  %d %s\n  %d %s\n", a->status, a->body, b->status, b->body);
    assert_int_equal(a->status, b->status);
    assert_string_equal(a->body, b->body);
}

/* POST path with the body template's one "%s" replaced by alias: the answer. */
static harness_response with_alias(const char *path, const user *caller, const char *template, const char *alias) {
    const char *at = strstr(template, "%s");
    assert_non_null(at);
    char body[512];
    snprintf(body, sizeof body, "%.*s%s%s", (int)(at - template), template, alias, at + 2);
    return harness_call(srv, "POST", path, caller->token, body);
}

/* The alias routes answer a hidden customer exactly as nobody. */
static void expect_hidden_like_unknown(const user *caller, const char *hidden_alias, const char *unknown_alias) {
    static const char *const forms[][2] = {
        {"/api/payments/resolve", "{\"alias\":\"%s\"}"},
        {"/api/payments/quote", "{\"alias\":\"%s\",\"amount_minor\":1000}"},
        {"/api/payments/pay", "{\"alias\":\"%s\",\"amount_minor\":1000,\"idempotency_key\":\"hidden-pay\"}"},
        {"/api/requests", "{\"payer_alias\":\"%s\",\"amount_minor\":5000}"},
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        harness_response hidden = with_alias(forms[i][0], caller, forms[i][1], hidden_alias);
        harness_response unknown = with_alias(forms[i][0], caller, forms[i][1], unknown_alias);
        HARNESS_ASSERT_ERROR(unknown, 404, "not_found");
        assert_same_answer(&hidden, &unknown);
        assert_null(strstr(hidden.body, "display_name"));
        harness_response_free(&hidden);
        harness_response_free(&unknown);
    }
    /* A split names the alias in its message: the same message for both. */
    harness_response hidden =
        with_alias("/api/splits", caller, "{\"members\":[\"%s\"],\"subtotal_minor\":9000}", hidden_alias);
    harness_response unknown =
        with_alias("/api/splits", caller, "{\"members\":[\"%s\"],\"subtotal_minor\":9000}", unknown_alias);
    HARNESS_ASSERT_ERROR(hidden, 404, "not_found");
    HARNESS_ASSERT_ERROR(unknown, 404, "not_found");
    char want_hidden[160], want_unknown[160];
    snprintf(want_hidden, sizeof want_hidden, "field 'members' item 0: no customer has the alias '%s'", hidden_alias);
    snprintf(want_unknown, sizeof want_unknown, "field 'members' item 0: no customer has the alias '%s'",
             unknown_alias);
    assert_string_equal(harness_error_message(&hidden), want_hidden);
    assert_string_equal(harness_error_message(&unknown), want_unknown);
    harness_response_free(&hidden);
    harness_response_free(&unknown);
}

static void test_payment_aliases_follow_contact_rules(void **state) {
    (void)state;
    char a_phone[16], h_phone[16], d_phone[16];
    user a = person(true, "priv_a", a_phone);
    user h = person(false, "priv_hidden", h_phone);
    user d = person(true, "priv_open", d_phone);
    (void)a_phone;
    /* Not discoverable: by phone and by @username, as nobody. */
    expect_hidden_like_unknown(&a, h_phone, "+989126669999");
    expect_hidden_like_unknown(&a, "@priv_hidden", "@priv_nobody");
    /* Discoverable: the name the payee shows. */
    harness_response r = with_alias("/api/payments/resolve", &a, "{\"alias\":\"%s\"}", d_phone);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_non_null(json_object_get(r.json, "display_name"));
    harness_response_free(&r);
    /* Blocked the caller: hidden again, exactly as nobody. */
    block(&d, &a, "POST");
    expect_hidden_like_unknown(&a, d_phone, "+989126669998");
    expect_hidden_like_unknown(&a, "@priv_open", "@priv_nobody");
    block(&d, &a, "DELETE");
    /* The caller blocked them: no money request either. */
    block(&a, &d, "POST");
    r = with_alias("/api/requests", &a, "{\"payer_alias\":\"%s\",\"amount_minor\":5000}", "@priv_open");
    HARNESS_ASSERT_ERROR(r, 404, "not_found");
    harness_response_free(&r);
    block(&a, &d, "DELETE");
    r = with_alias("/api/requests", &a, "{\"payer_alias\":\"%s\",\"amount_minor\":5000}", "@priv_open");
    HARNESS_ASSERT_STATUS(r, 201);
    harness_response_free(&r);
    (void)h;
}

/* A new group of owner's. */
static json_int_t group_new(const user *owner, const char *title) {
    harness_response r = harness_callf(srv, "POST", "/api/groups", owner->token, "{\"title\":\"%s\"}", title);
    HARNESS_ASSERT_STATUS(r, 201);
    json_int_t id = harness_json_int(r.json, "id");
    harness_response_free(&r);
    return id;
}

/* actor adds user_id to group: the answer is want_status (and want_code for an error). */
static void group_add(json_int_t group, const user *actor, json_int_t user_id, int want_status, const char *want_code) {
    char path[64];
    snprintf(path, sizeof path, "/api/groups/%lld/members", (long long)group);
    harness_response r = harness_callf(srv, "POST", path, actor->token, "{\"user_id\":%lld}", (long long)user_id);
    if (want_code)
        HARNESS_ASSERT_ERROR(r, want_status, want_code);
    else
        HARNESS_ASSERT_STATUS(r, want_status);
    harness_response_free(&r);
}

static json_int_t admin_id(void) {
    harness_response r = harness_call(srv, "GET", "/api/me", admin, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    json_int_t id = harness_json_int(r.json, "id");
    harness_response_free(&r);
    return id;
}

static harness_response direct(const user *caller, json_int_t peer) {
    return harness_callf(srv, "POST", "/api/chats/direct", caller->token, "{\"user_id\":%lld}", (long long)peer);
}

static void test_chats_by_id_only_to_reachable(void **state) {
    (void)state;
    char phone[16];
    user a = person(true, "reach_a", phone);
    user h = person(false, "reach_hidden", phone);
    user d = person(true, "reach_open", phone);
    json_int_t staff = admin_id();
    harness_response unknown = direct(&a, 999999);
    HARNESS_ASSERT_ERROR(unknown, 404, "not_found");
    /* Staff (the admin) and hidden customers: as unknown.  (Id 1 on this
     * server is @bankbot: a bot, public by design.) */
    json_int_t ids[] = {staff, h.id};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        harness_response r = direct(&a, ids[i]);
        assert_same_answer(&r, &unknown);
        harness_response_free(&r);
    }
    harness_response_free(&unknown);
    harness_response r = direct(&a, d.id);
    HARNESS_ASSERT_STATUS(r, 201);
    harness_response_free(&r);

    /* Groups: no staff, no hidden customer; a findable one joins. */
    json_int_t group = group_new(&a, "reach");
    json_int_t refused[] = {staff, h.id, 999999};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        group_add(group, &a, refused[i], 404, "not_found");
    group_add(group, &a, d.id, 204, NULL);
    /* A hidden customer who shares a chat may be reached: h adds a to a group. */
    group_add(group_new(&h, "theirs"), &h, a.id, 204, NULL);
    r = direct(&a, h.id);
    HARNESS_ASSERT_STATUS(r, 201);
    harness_response_free(&r);
    /* Split members by id: staff and a hidden stranger are refused as unknown. */
    char other_phone[16];
    user stranger = person(false, "reach_stranger", other_phone);
    json_int_t strangers[] = {staff, stranger.id};
    for (size_t i = 0; i < sizeof strangers / sizeof strangers[0]; i++) {
        r = harness_callf(srv, "POST", "/api/splits", a.token, "{\"members\":[%lld,%lld],\"subtotal_minor\":9000}",
                          (long long)a.id, (long long)strangers[i]);
        HARNESS_ASSERT_ERROR(r, 404, "not_found");
        harness_response_free(&r);
    }
}

static void test_blocks_stop_requests_and_splits(void **state) {
    (void)state;
    char phone[16];
    user a = person(true, "blk_a", phone);
    user b = person(true, "blk_b", phone);
    /* They share a group (a adds b). */
    json_int_t group = group_new(&a, "lunch");
    group_add(group, &a, b.id, 204, NULL);
    char path[96];
    harness_response r;
    /* b blocks a: no request, no split, by alias, by id or in the group. */
    block(&b, &a, "POST");
    r = with_alias("/api/requests", &a, "{\"payer_alias\":\"%s\",\"amount_minor\":5000}", "@blk_b");
    HARNESS_ASSERT_ERROR(r, 404, "not_found");
    harness_response_free(&r);
    r = harness_callf(srv, "POST", "/api/splits", a.token, "{\"members\":[%lld,%lld],\"subtotal_minor\":9000}",
                      (long long)a.id, (long long)b.id);
    assert_true(r.status == 403 || r.status == 404 || r.status == 409);
    harness_response_free(&r);
    snprintf(path, sizeof path, "/api/chats/%lld/payments/request", (long long)group);
    r = harness_callf(srv, "POST", path, a.token,
                      "{\"from_user_id\":%lld,\"amount_minor\":5000,\"idempotency_key\":\"blk-req\"}", (long long)b.id);
    assert_true(r.status == 403 || r.status == 404 || r.status == 409);
    harness_response_free(&r);
    snprintf(path, sizeof path, "/api/chats/%lld/payments/split", (long long)group);
    r = harness_callf(srv, "POST", path, a.token,
                      "{\"members\":[%lld,%lld],\"subtotal_minor\":9000,\"idempotency_key\":\"blk-split\"}",
                      (long long)a.id, (long long)b.id);
    assert_true(r.status == 403 || r.status == 404 || r.status == 409);
    harness_response_free(&r);
    /* Unblocked: the same split goes through. */
    block(&b, &a, "DELETE");
    r = harness_callf(srv, "POST", "/api/splits", a.token, "{\"members\":[%lld,%lld],\"subtotal_minor\":9000}",
                      (long long)a.id, (long long)b.id);
    HARNESS_ASSERT_STATUS(r, 201);
    harness_response_free(&r);
}

/* PATCH /api/me with a display name or username: the answer. */
static harness_response set_name(const user *u, const char *field, const char *value) {
    json_t *body = json_pack("{s:s}", field, value);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    harness_response r = harness_call(srv, "PATCH", "/api/me", u->token, text);
    free(text);
    return r;
}

static void test_names_that_pass_for_the_bank_are_refused(void **state) {
    (void)state;
    char phone[16];
    user u = person(true, "names_u", phone);
    const char *reserved[] = {"SocialBank Official \u2714", "S\u043eci\u0430lB\u0430nk",
                              "\u0633\u0648\u0634\u064a\u0627\u0644 \u0628\u0627\u0646\u0643"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
        harness_response r = set_name(&u, "display_name", reserved[i]);
        HARNESS_ASSERT_ERROR(r, 400, "name_reserved");
        harness_response_free(&r);
    }
    harness_response r = set_name(&u, "username", "socia1bank");
    HARNESS_ASSERT_ERROR(r, 400, "name_reserved");
    harness_response_free(&r);
    r = set_name(&u, "display_name", "\u200b");
    HARNESS_ASSERT_ERROR(r, 400, "name_empty");
    harness_response_free(&r);
    const char *fine[] = {"\u0645\u062d\u0645\u062f\u200c\u0631\u0636\u0627 \u06a9\u0631\u06cc\u0645\u06cc",
                          "\u041e\u043b\u0435\u043d\u0430 \u041f\u0435\u0442\u0440\u0435\u043d\u043a\u043e"};
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        r = set_name(&u, "display_name", fine[i]);
        HARNESS_ASSERT_STATUS(r, 200);
        assert_string_equal(harness_json_str(r.json, "display_name"), fine[i]);
        harness_response_free(&r);
    }
}

/* The payer's newest notice from the bank (caller json_decref's). */
static json_t *newest_notice(const user *u) {
    harness_response r = harness_call(srv, "GET", "/api/chats", u->token, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    json_int_t official = 0;
    json_t *chats = json_object_get(r.json, "chats");
    for (size_t i = 0; i < json_array_size(chats); i++)
        if (strcmp(harness_json_str(json_array_get(chats, i), "kind"), "official") == 0)
            official = harness_json_int(json_array_get(chats, i), "id");
    harness_response_free(&r);
    assert_true(official > 0);
    char path[96];
    snprintf(path, sizeof path, "/api/chats/%lld/messages?before=999999&limit=1", (long long)official);
    r = harness_call(srv, "GET", path, u->token, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    json_t *m = json_incref(json_array_get(json_object_get(r.json, "messages"), 0));
    harness_response_free(&r);
    assert_non_null(m);
    return m;
}

static void test_request_note_is_quoted_not_spoken_by_the_bank(void **state) {
    (void)state;
    char phone[16];
    user a = person(true, "note_a", phone);
    user b = person(true, "note_b", phone);
    harness_response r =
        harness_callf(srv, "POST", "/api/chats/direct", a.token, "{\"user_id\":%lld}", (long long)b.id);
    HARNESS_ASSERT_STATUS(r, 201);
    json_int_t chat = harness_json_int(r.json, "id");
    harness_response_free(&r);
    char path[96];
    snprintf(path, sizeof path, "/api/chats/%lld/payments/request", (long long)chat);
    r = harness_callf(srv, "POST", path, a.token,
                      "{\"from_user_id\":%lld,\"amount_minor\":100,\"note\":\"SocialBank: card blocked, call "
                      "021\",\"idempotency_key\":\"note-1\"}",
                      (long long)b.id);
    HARNESS_ASSERT_STATUS(r, 201);
    harness_response_free(&r);
    json_t *m = newest_notice(&b);
    assert_string_equal(harness_json_str(m, "kind"), "notice");
    const char *text = harness_json_str(m, "text");
    assert_null(strstr(text, "card blocked"));
    assert_null(strstr(text, "021"));
    assert_string_equal(harness_json_str(m, "payload.quote.text"), "SocialBank: card blocked, call 021");
    assert_int_equal(harness_json_int(m, "payload.quote.author_id"), a.id);
    json_decref(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_payment_aliases_follow_contact_rules),
        cmocka_unit_test(test_chats_by_id_only_to_reachable),
        cmocka_unit_test(test_blocks_stop_requests_and_splits),
        cmocka_unit_test(test_names_that_pass_for_the_bank_are_refused),
        cmocka_unit_test(test_request_note_is_quoted_not_spoken_by_the_bank),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
