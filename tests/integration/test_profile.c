/*
 * test_profile.c - the customer's profile and who may find them, over real
 * HTTP (docs/API.md "Sign-in", "Contacts and blocks", "Money"): language and
 * time zone set, cleared and refused by field; discoverable by phone and by
 * @username as two separate choices that never leak into each other; the
 * phone book lookup finds only discoverable people and existing contacts and
 * answers a hidden number exactly as an unknown one; names of members and of
 * a 1:1 chat's peer come from the server; a bill paid from the wallet posts
 * nothing into any chat, its receipt is the payer's alone and carries a
 * 12-digit tracking code.
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

/* The phone harness_customer_new gave the n-th customer of this file. */
#define PREFIX "0912555"
static void phone_of(int n, char out[16]) { snprintf(out, 16, PREFIX "%04d", n); }

static harness_response call(const char *method, const char *path, const char *token, const char *fmt, ...)
    SB_PRINTF(4, 5);
static harness_response call(const char *method, const char *path, const char *token, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    harness_response r = harness_callv(srv, method, path, token, fmt, ap);
    va_end(ap);
    return r;
}

static void expect(const char *method, const char *path, const char *token, int status, const char *body) {
    harness_response r = call(method, path, token, body ? "%s" : NULL, body);
    HARNESS_ASSERT_STATUS(r, status);
    harness_response_free(&r);
}

static bool json_is_true_at(json_t *root, const char *path) { return json_is_true(harness_json_path(root, path)); }

static void test_profile_language_time_zone(void **state) {
    (void)state;
    harness_customer a = harness_customer_hidden(srv, PREFIX, &phones);
    harness_response r = call("GET", "/api/me", a.token, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_true(json_is_null(harness_json_path(r.json, "language")));
    assert_true(json_is_null(harness_json_path(r.json, "time_zone")));
    assert_false(json_is_true_at(r.json, "discoverable.by_phone"));
    assert_false(json_is_true_at(r.json, "discoverable.by_username"));
    harness_response_free(&r);

    r = call("PATCH", "/api/me", a.token, "{\"language\":\"fa\",\"time_zone\":\"Asia/Tehran\"}");
    HARNESS_ASSERT_STATUS(r, 200);
    assert_string_equal(harness_json_str(r.json, "language"), "fa");
    assert_string_equal(harness_json_str(r.json, "time_zone"), "Asia/Tehran");
    harness_response_free(&r);

    /* Refusals name the field; nothing is half-written. */
    static const char *const bad[] = {"{\"language\":\"de\"}",
                                      "{\"time_zone\":\"../../etc/passwd\"}",
                                      "{\"time_zone\":\"Tehran\"}",
                                      "{\"time_zone\":\"Asia//Tehran\"}",
                                      "{\"discoverable_by_phone\":\"yes\"}",
                                      "{}"};
    static const char *const field[] = {"language", "time_zone", "time_zone", "time_zone", "discoverable_by_phone",
                                        NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = call("PATCH", "/api/me", a.token, "%s", bad[i]);
        HARNESS_ASSERT_ERROR(r, 400, "invalid");
        if (field[i]) assert_non_null(strstr(harness_error_message(&r), field[i]));
        harness_response_free(&r);
    }
    r = call("PATCH", "/api/me", a.token, "{\"language\":\"de\",\"display_name\":\"Changed\"}");
    HARNESS_ASSERT_ERROR(r, 400, "invalid");
    harness_response_free(&r);
    r = call("GET", "/api/me", a.token, NULL);
    assert_string_equal(harness_json_str(r.json, "language"), "fa");
    assert_string_not_equal(harness_json_str(r.json, "display_name"), "Changed");
    harness_response_free(&r);

    /* "" clears. */
    r = call("PATCH", "/api/me", a.token, "{\"time_zone\":\"\",\"language\":\"uk\"}");
    HARNESS_ASSERT_STATUS(r, 200);
    assert_true(json_is_null(harness_json_path(r.json, "time_zone")));
    assert_string_equal(harness_json_str(r.json, "language"), "uk");
    harness_response_free(&r);

    /* Staff have no customer preferences in their USER. */
    r = call("GET", "/api/me", admin, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_null(harness_json_path(r.json, "language"));
    harness_response_free(&r);
}

static void test_discoverable_halves_never_leak(void **state) {
    (void)state;
    harness_customer x = harness_customer_hidden(srv, PREFIX, &phones);
    harness_customer by_name = harness_customer_hidden(srv, PREFIX, &phones);
    int n_name = phones;
    harness_customer by_phone = harness_customer_hidden(srv, PREFIX, &phones);
    int n_phone = phones;
    harness_customer hidden = harness_customer_hidden(srv, PREFIX, &phones);
    int n_hidden = phones;
    char p_name[16], p_phone[16], p_hidden[16];
    phone_of(n_name, p_name);
    phone_of(n_phone, p_phone);
    phone_of(n_hidden, p_hidden);
    expect("PATCH", "/api/me", by_name.token, 200,
           "{\"username\":\"halfname\",\"discoverable_by_username\":true,\"discoverable_by_phone\":false}");
    expect("PATCH", "/api/me", by_phone.token, 200, "{\"username\":\"halfphone\",\"discoverable_by_phone\":true}");
    expect("PATCH", "/api/me", hidden.token, 200, "{\"username\":\"halfhidden\"}");

    /* By @username only the @username half finds; by phone only the phone half. */
    expect("POST", "/api/contacts/find", x.token, 200, "{\"query\":\"@halfname\"}");
    expect("POST", "/api/contacts/find", x.token, 404, "{\"query\":\"@halfphone\"}");
    expect("POST", "/api/contacts/find", x.token, 404, "{\"query\":\"@halfhidden\"}");
    harness_response r = call("POST", "/api/contacts/find", x.token, "{\"query\":\"%s\"}", p_phone);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_int_equal(harness_json_int(r.json, "user_id"), by_phone.id);
    harness_response_free(&r);

    /* A hidden number and an unknown one get byte-identical answers. */
    harness_response h1 = call("POST", "/api/contacts/find", x.token, "{\"query\":\"%s\"}", p_name);
    harness_response h2 = call("POST", "/api/contacts/find", x.token, "{\"query\":\"%s\"}", p_hidden);
    harness_response h3 = call("POST", "/api/contacts/find", x.token, "{\"query\":\"09129998877\"}");
    HARNESS_ASSERT_ERROR(h1, 404, "not_found");
    assert_int_equal(h2.status, h3.status);
    assert_string_equal(h1.body, h3.body);
    assert_string_equal(h2.body, h3.body);
    harness_response_free(&h1);
    harness_response_free(&h2);
    harness_response_free(&h3);

    /* The phone book: only the phone-discoverable one is found; bad lines are named, the rest absent alike. */
    r = call("POST", "/api/contacts/lookup", x.token,
             "{\"phones\":[\"%s\",\"09129998877\",\"%s\",\"not a phone\",\"%s\"]}", p_hidden, p_phone, p_name);
    HARNESS_ASSERT_STATUS(r, 200);
    json_t *found = harness_json_path(r.json, "found");
    assert_int_equal(json_array_size(found), 1);
    assert_int_equal(harness_json_int(r.json, "found.0.index"), 2);
    assert_int_equal(harness_json_int(r.json, "found.0.user_id"), by_phone.id);
    assert_int_equal(json_array_size(harness_json_path(r.json, "invalid")), 1);
    assert_int_equal(harness_json_int(r.json, "invalid.0"), 3);
    harness_response_free(&r);

    /* An existing contact (a 1:1 chat) is found by phone though hidden by phone... */
    r = call("POST", "/api/chats/direct", x.token, "{\"user_id\":%lld}", (long long)by_name.id);
    assert_true(r.status == 200 || r.status == 201);
    harness_response_free(&r);
    r = call("POST", "/api/contacts/lookup", x.token, "{\"phones\":[\"%s\"]}", p_name);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_int_equal(json_array_size(harness_json_path(r.json, "found")), 1);
    harness_response_free(&r);
    /* ...until they block the caller: then absent, as an unknown number is. */
    char path[64];
    snprintf(path, sizeof path, "/api/blocks/%lld", (long long)x.id);
    expect("POST", path, by_name.token, 204, NULL);
    r = call("POST", "/api/contacts/lookup", x.token, "{\"phones\":[\"%s\"]}", p_name);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_int_equal(json_array_size(harness_json_path(r.json, "found")), 0);
    harness_response_free(&r);

    /* Limits and shapes. */
    char big[4096] = "{\"phones\":[";
    for (int i = 0; i < 101; i++)
        strcat(big, i ? ",\"09120000000\"" : "\"09120000000\"");
    strcat(big, "]}");
    expect("POST", "/api/contacts/lookup", x.token, 400, big);
    expect("POST", "/api/contacts/lookup", x.token, 400, "{\"phones\":\"09120000000\"}");
    expect("POST", "/api/contacts/lookup", x.token, 400, "{\"phones\":[]}");
    expect("POST", "/api/contacts/lookup", NULL, 401, "{\"phones\":[\"09120000000\"]}");

    /* The old switch still sets both halves. */
    r = call("PUT", "/api/me/discoverable", hidden.token, "{\"discoverable\":true}");
    HARNESS_ASSERT_STATUS(r, 200);
    assert_true(json_is_true_at(r.json, "by_phone"));
    assert_true(json_is_true_at(r.json, "by_username"));
    harness_response_free(&r);
    r = call("PUT", "/api/me/discoverable", hidden.token, "{\"by_phone\":false}");
    HARNESS_ASSERT_STATUS(r, 200);
    assert_false(json_is_true_at(r.json, "by_phone"));
    assert_true(json_is_true_at(r.json, "discoverable"));
    harness_response_free(&r);
    expect("POST", "/api/contacts/find", x.token, 200, "{\"query\":\"@halfhidden\"}");
    r = call("POST", "/api/contacts/find", x.token, "{\"query\":\"%s\"}", p_hidden);
    HARNESS_ASSERT_ERROR(r, 404, "not_found");
    harness_response_free(&r);
}

static void test_names_from_the_server(void **state) {
    (void)state;
    harness_customer a = harness_customer_next(srv, PREFIX, &phones);
    harness_customer b = harness_customer_next(srv, PREFIX, &phones);
    expect("PATCH", "/api/me", b.token, 200, "{\"display_name\":\"Bahar Namdar\",\"username\":\"bahar.n\"}");
    harness_response r = call("POST", "/api/chats/direct", a.token, "{\"user_id\":%lld}", (long long)b.id);
    assert_true(r.status == 200 || r.status == 201);
    json_int_t chat = harness_json_int(r.json, "id");
    assert_string_equal(harness_json_str(r.json, "peer.display_name"), "Bahar Namdar");
    harness_response_free(&r);
    r = call("GET", "/api/chats", a.token, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    bool seen = false;
    json_t *chats = harness_json_path(r.json, "chats");
    for (size_t i = 0; i < json_array_size(chats); i++) {
        json_t *c = json_array_get(chats, i);
        if (json_integer_value(json_object_get(c, "id")) != chat) continue;
        assert_string_equal(harness_json_str(c, "peer.display_name"), "Bahar Namdar");
        assert_string_equal(harness_json_str(c, "peer.username"), "bahar.n");
        seen = true;
    }
    assert_true(seen);
    harness_response_free(&r);
    char path[64];
    snprintf(path, sizeof path, "/api/chats/%lld", (long long)chat);
    r = call("GET", path, a.token, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    json_t *members = harness_json_path(r.json, "members");
    assert_int_equal(json_array_size(members), 2);
    bool named = false;
    for (size_t i = 0; i < 2; i++) {
        json_t *m = json_array_get(members, i);
        assert_true(json_is_string(json_object_get(m, "display_name")));
        if (json_integer_value(json_object_get(m, "user_id")) == b.id)
            named = strcmp(harness_json_str(m, "display_name"), "Bahar Namdar") == 0;
    }
    assert_true(named);
    harness_response_free(&r);
}

static void test_bill_receipt_private_with_tracking(void **state) {
    (void)state;
    harness_customer payer = harness_customer_next(srv, PREFIX, &phones);
    harness_customer friend_ = harness_customer_next(srv, PREFIX, &phones);
    harness_response r =
        call("POST", "/api/admin/deposits", admin,
             "{\"user_id\":%lld,\"amount_minor\":1000000,\"idempotency_key\":\"profile-fund\"}", (long long)payer.id);
    HARNESS_ASSERT_STATUS(r, 201);
    harness_response_free(&r);
    r = call("POST", "/api/groups", payer.token, "{\"title\":\"Flat\"}");
    HARNESS_ASSERT_STATUS(r, 201);
    json_int_t group = harness_json_int(r.json, "id");
    harness_response_free(&r);
    char path[96];
    snprintf(path, sizeof path, "/api/groups/%lld/members", (long long)group);
    r = call("POST", path, payer.token, "{\"user_id\":%lld}", (long long)friend_.id);
    HARNESS_ASSERT_STATUS(r, 204);
    harness_response_free(&r);
    snprintf(path, sizeof path, "/api/chats/%lld/messages?before=999999&limit=200", (long long)group);
    r = call("GET", path, friend_.token, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    size_t before = json_array_size(harness_json_path(r.json, "messages"));
    harness_response_free(&r);

    r = call("POST", "/api/bills/pay", payer.token,
             "{\"bill_id\":\"2050327604613\",\"payment_id\":\"1070189\",\"idempotency_key\":\"profile-bill\"}");
    HARNESS_ASSERT_STATUS(r, 201);
    json_int_t receipt = harness_json_int(r.json, "id");
    const char *tracking = harness_json_str(r.json, "tracking");
    assert_int_equal(strlen(tracking), 12);
    for (const char *p = tracking; *p; p++)
        assert_true(*p >= '0' && *p <= '9');
    char kept[16];
    snprintf(kept, sizeof kept, "%s", tracking);
    harness_response_free(&r);

    /* Nothing reached the group the payer shares with the friend. */
    r = call("GET", path, friend_.token, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_int_equal(json_array_size(harness_json_path(r.json, "messages")), before);
    harness_response_free(&r);
    /* The receipt is the payer's alone, with the same tracking code on every read. */
    snprintf(path, sizeof path, "/api/receipts/%lld", (long long)receipt);
    r = call("GET", path, payer.token, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_string_equal(harness_json_str(r.json, "tracking"), kept);
    harness_response_free(&r);
    r = call("GET", path, friend_.token, NULL);
    HARNESS_ASSERT_ERROR(r, 404, "not_found");
    harness_response_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile_language_time_zone),
        cmocka_unit_test(test_discoverable_halves_never_leak),
        cmocka_unit_test(test_names_from_the_server),
        cmocka_unit_test(test_bill_receipt_private_with_tracking),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
