/*
 * test_auth.c - authentication and authorisation over HTTP against the
 * contract (docs/API.md): one-time codes for customers (phone numbers in
 * every accepted spelling, wrong and reused codes, the attempts cap, the
 * request rate limit), staff passwords (wrong password, the login rate
 * limit), logout, the profile (/api/me), staff management by an admin, and
 * a crash (SIGKILL) losing nothing that was answered, and
 * the role walk: every route the server lists in GET /api/routes is called
 * with no token and with a token of every role, and must answer 401, 403 or
 * neither exactly as its declared roles say.  The walk reads the route table
 * at run time, so it keeps checking routes that other modules add.
 *
 * Each test gets its own server (so that rate limits do not leak between
 * tests); the teardown requires a clean exit (status 0) on SIGTERM.
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

static const char *const staff_roles[] = {"agent", "analyst", "marketer", "admin"};

static int setup(void **state) {
    (void)state;
    return harness_server_up(NULL, &srv) == SB_OK ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    return harness_server_down(&srv) == SB_OK ? 0 : -1;
}

/* A JSON text from a jansson pack format (the test frees it with free()). */
static char *pack(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    json_error_t err;
    json_t *doc = json_vpack_ex(&err, 0, fmt, ap);
    va_end(ap);
    assert_non_null(doc);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    assert_non_null(text);
    return text;
}

static void post_json(const char *path, const char *token, char *body_to_free, harness_response *r) {
    assert_int_equal(harness_http_json(srv->port, "POST", path, token, body_to_free, r), SB_OK);
    free(body_to_free);
}

static void assert_retry_after(const harness_response *r) {
    const char *retry = harness_header_get(r, "Retry-After");
    if (!retry) fprintf(stderr, "429 without Retry-After; body %s\n", r->body);
    assert_non_null(retry);
    char *end;
    long seconds = strtol(retry, &end, 10);
    assert_true(end != retry && *end == '\0');
    assert_true(seconds >= 1);
}

/* The USER shape of the contract. */
static void assert_user_shape(json_t *user, const char *role) {
    if (!json_is_object(user)) fprintf(stderr, "not a USER object\n");
    assert_true(json_is_object(user));
    assert_true(json_is_integer(json_object_get(user, "id")));
    assert_true(json_integer_value(json_object_get(user, "id")) > 0);
    assert_string_equal(json_string_value(json_object_get(user, "role")), role);
    json_t *username = json_object_get(user, "username");
    assert_true(json_is_string(username) || json_is_null(username));
    assert_true(json_is_string(json_object_get(user, "display_name")));
    assert_non_null(json_object_get(user, "phone"));
}

static void me(const char *token, harness_response *r) {
    assert_int_equal(harness_http_get(srv->port, "/api/me", token, r), SB_OK);
}

/* ---- one-time codes ---- */

static void test_otp_phone_forms(void **state) {
    (void)state;
    struct {
        const char *input;
        const char *e164;
    } forms[] = {
        {"09121000001", "+989121000001"},         {"0912 100 0002", "+989121000002"},
        {"+98 912 100 0003", "+989121000003"},    {"00989121000004", "+989121000004"},
        {"۰۹۱۲۱۰۰۰۰۰۵", "+989121000005"},                                                /* Persian digits */
        {"٠٩١٢١٠٠٠٠٠٦", "+989121000006"},                                                /* Arabic-Indic digits */
        {"+۹۸ ۹۱۲ ۱۰۰ ۰۰۰۷", "+989121000007"},                                           /* Persian digits after +98 */
        {"0912-100-0008", "+989121000008"},       {"+380 50 123 4567", "+380501234567"}, /* Ukraine, Vodafone */
        {"+380 (67) 123-45-68", "+380671234568"},                                        /* Ukraine, Kyivstar */
        {"00380631234569", "+380631234569"},                                             /* Ukraine, lifecell */
    };
    int64_t first_id = 0;
    for (size_t i = 0; i < SB_ARRAY_LEN(forms); i++) {
        char code[16], e164[SB_PHONE_BYTES];
        int status;
        assert_int_equal(harness_otp_request(srv, forms[i].input, &status, code, e164), SB_OK);
        assert_string_equal(e164, forms[i].e164);
        assert_int_equal((int)strlen(code), SB_OTP_DIGITS);
        harness_response r;
        post_json("/api/auth/otp/verify", NULL, pack("{s:s, s:s}", "phone", forms[i].input, "code", code), &r);
        HARNESS_ASSERT_STATUS(r, 200);
        assert_int_equal((int)strlen(json_string_value(json_object_get(r.json, "token"))), HARNESS_TOKEN_BYTES - 1);
        assert_true(json_is_true(json_object_get(r.json, "created")));
        json_t *user = json_object_get(r.json, "user");
        assert_user_shape(user, "customer");
        assert_string_equal(json_string_value(json_object_get(user, "phone")), forms[i].e164);
        if (i == 0) first_id = (int64_t)json_integer_value(json_object_get(user, "id"));
        harness_response_free(&r);
    }
    /* Another spelling of the first number is the same customer. */
    char token[HARNESS_TOKEN_BYTES];
    json_t *user;
    assert_int_equal(harness_customer_login(srv, "+98 (912) 100-0001", token, &user), SB_OK);
    assert_int_equal(json_integer_value(json_object_get(user, "id")), first_id);
    json_decref(user);

    /* The answer to a code request names the normalised phone and the code's lifetime. */
    harness_response req;
    post_json("/api/auth/otp/request", NULL, pack("{s:s}", "phone", "۰۹۱۲ ۱۰۰ ۰۰۰۹"), &req);
    HARNESS_ASSERT_STATUS(req, 202);
    assert_string_equal(json_string_value(json_object_get(req.json, "phone")), "+989121000009");
    assert_int_equal(json_integer_value(json_object_get(req.json, "expires_in_s")), SB_OTP_TTL_MS / 1000);
    harness_response_free(&req);

    /* What is not an Iranian or Ukrainian mobile number is refused, naming the field. */
    const char *bad[] = {"12345", "+1 202 555 0100", "02112345678", "", "091212345678901", "phone"};
    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        harness_response r;
        post_json("/api/auth/otp/request", NULL, pack("{s:s}", "phone", bad[i]), &r);
        HARNESS_ASSERT_ERROR(r, 400, "invalid");
        assert_non_null(strstr(harness_error_message(&r), "phone"));
        harness_response_free(&r);
    }
    harness_response r;
    post_json("/api/auth/otp/request", NULL, pack("{s:i}", "phone", 9121000009), &r);
    HARNESS_ASSERT_ERROR(r, 400, "invalid");
    assert_non_null(strstr(harness_error_message(&r), "phone"));
    harness_response_free(&r);
    post_json("/api/auth/otp/request", NULL, pack("{}"), &r);
    HARNESS_ASSERT_ERROR(r, 400, "invalid");
    harness_response_free(&r);
}

/* A code that differs from code in its last digit. */
static void wrong_code(const char *code, char out[16]) {
    snprintf(out, 16, "%s", code);
    size_t n = strlen(out);
    assert_true(n > 0);
    out[n - 1] = out[n - 1] == '9' ? '0' : (char)(out[n - 1] + 1);
}

static void test_otp_wrong_code_then_right(void **state) {
    (void)state;
    const char *phone = "09122000001";
    char code[16], bad[16];
    assert_int_equal(harness_otp_request(srv, phone, NULL, code, NULL), SB_OK);
    wrong_code(code, bad);
    harness_response r;
    post_json("/api/auth/otp/verify", NULL, pack("{s:s, s:s}", "phone", phone, "code", bad), &r);
    HARNESS_ASSERT_ERROR(r, 401, "unauthorized");
    assert_null(json_object_get(r.json, "token"));
    harness_response_free(&r);
    /* No code was ever sent to this number. */
    post_json("/api/auth/otp/verify", NULL, pack("{s:s, s:s}", "phone", "09122000002", "code", code), &r);
    HARNESS_ASSERT_ERROR(r, 401, "unauthorized");
    harness_response_free(&r);
    /* One wrong try does not burn the code. */
    post_json("/api/auth/otp/verify", NULL, pack("{s:s, s:s}", "phone", phone, "code", code), &r);
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);
}

static void test_otp_code_reuse(void **state) {
    (void)state;
    const char *phone = "09123000001";
    char code[16];
    assert_int_equal(harness_otp_request(srv, phone, NULL, code, NULL), SB_OK);
    harness_response r;
    post_json("/api/auth/otp/verify", NULL, pack("{s:s, s:s}", "phone", phone, "code", code), &r);
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);
    post_json("/api/auth/otp/verify", NULL, pack("{s:s, s:s}", "phone", phone, "code", code), &r);
    HARNESS_ASSERT_ERROR(r, 401, "unauthorized");
    harness_response_free(&r);

    /* A new code replaces the old one: the old is refused, the new works. */
    char first[16], second[16];
    assert_int_equal(harness_otp_request(srv, phone, NULL, first, NULL), SB_OK);
    assert_int_equal(harness_otp_request(srv, phone, NULL, second, NULL), SB_OK);
    if (strcmp(first, second) != 0) {
        post_json("/api/auth/otp/verify", NULL, pack("{s:s, s:s}", "phone", phone, "code", first), &r);
        HARNESS_ASSERT_ERROR(r, 401, "unauthorized");
        harness_response_free(&r);
    }
    post_json("/api/auth/otp/verify", NULL, pack("{s:s, s:s}", "phone", phone, "code", second), &r);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_true(json_is_false(json_object_get(r.json, "created")));
    harness_response_free(&r);
}

static void test_otp_attempts_cap(void **state) {
    (void)state;
    const char *phone = "+989124000001";
    char code[16], bad[16];
    assert_int_equal(harness_otp_request(srv, phone, NULL, code, NULL), SB_OK);
    wrong_code(code, bad);
    harness_response r;
    for (int i = 0; i < SB_OTP_ATTEMPTS_MAX; i++) {
        post_json("/api/auth/otp/verify", NULL, pack("{s:s, s:s}", "phone", phone, "code", bad), &r);
        if (i < SB_OTP_ATTEMPTS_MAX - 1) {
            HARNESS_ASSERT_ERROR(r, 401, "unauthorized");
        } else {
            assert_true(r.status == 401 || r.status == 429);
        }
        harness_response_free(&r);
    }
    /* The code is burnt: even the right one is refused now. */
    post_json("/api/auth/otp/verify", NULL, pack("{s:s, s:s}", "phone", phone, "code", code), &r);
    if (r.status != 401 && r.status != 429) fprintf(stderr, "burnt code: status %d %s\n", r.status, r.body);
    assert_true(r.status == 401 || r.status == 429);
    assert_null(json_object_get(r.json, "token"));
    harness_response_free(&r);
    /* A fresh code works. */
    char token[HARNESS_TOKEN_BYTES];
    assert_int_equal(harness_customer_login(srv, phone, token, NULL), SB_OK);
}

static void test_otp_request_rate_limit(void **state) {
    (void)state;
    const char *phone = "09125000001";
    int status;
    char code[16];
    for (int i = 0; i < SB_OTP_REQUESTS_PER_PHONE_PER_HOUR; i++) {
        assert_int_equal(harness_otp_request(srv, phone, &status, code, NULL), SB_OK);
        assert_int_equal(status, 202);
    }
    harness_response r;
    post_json("/api/auth/otp/request", NULL, pack("{s:s}", "phone", "0912 500 0001"), &r);
    HARNESS_ASSERT_ERROR(r, 429, "rate_limited");
    assert_retry_after(&r);
    harness_response_free(&r);
    /* The limit is per number: another number still gets a code... */
    assert_int_equal(harness_otp_request(srv, "09125000002", &status, code, NULL), SB_OK);
    /* ...until this address has asked too often. */
    int used = SB_OTP_REQUESTS_PER_PHONE_PER_HOUR + 2;
    bool limited = false;
    for (int i = 0; i <= SB_OTP_REQUESTS_PER_ADDR_PER_HOUR && !limited; i++) {
        char phone_i[32];
        snprintf(phone_i, sizeof phone_i, "0912600%04d", i);
        post_json("/api/auth/otp/request", NULL, pack("{s:s}", "phone", phone_i), &r);
        used++;
        if (r.status == 429) {
            HARNESS_ASSERT_ERROR(r, 429, "rate_limited");
            assert_retry_after(&r);
            limited = true;
        } else {
            HARNESS_ASSERT_STATUS(r, 202);
        }
        harness_response_free(&r);
    }
    fprintf(stderr, "per-address limit hit after %d requests (limit %d)\n", used, SB_OTP_REQUESTS_PER_ADDR_PER_HOUR);
    assert_true(limited);
    assert_true(used <= SB_OTP_REQUESTS_PER_ADDR_PER_HOUR + 2);
}

/* ---- staff ---- */

static void test_staff_login(void **state) {
    (void)state;
    int64_t admin_id;
    assert_int_equal(harness_user_add(srv, "root.admin", "root-admin-password", "admin", &admin_id), SB_OK);
    char token[HARNESS_TOKEN_BYTES];
    json_t *user;
    assert_int_equal(harness_staff_login(srv, "root.admin", "root-admin-password", token, &user), SB_OK);
    assert_user_shape(user, "admin");
    assert_int_equal(json_integer_value(json_object_get(user, "id")), admin_id);
    assert_string_equal(json_string_value(json_object_get(user, "username")), "root.admin");
    json_decref(user);
    for (size_t i = 0; i < HARNESS_TOKEN_BYTES - 1; i++)
        assert_non_null(strchr("0123456789abcdef", token[i]));

    harness_response r;
    me(token, &r);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_user_shape(r.json, "admin");
    harness_response_free(&r);

    post_json("/api/auth/login", NULL, pack("{s:s, s:s}", "username", "root.admin", "password", "wrong-password-1"),
              &r);
    HARNESS_ASSERT_ERROR(r, 401, "unauthorized");
    assert_null(json_object_get(r.json, "token"));
    harness_response_free(&r);
    post_json("/api/auth/login", NULL, pack("{s:s, s:s}", "username", "no.such.user", "password", "whatever-pass"), &r);
    HARNESS_ASSERT_ERROR(r, 401, "unauthorized");
    harness_response_free(&r);
    post_json("/api/auth/login", NULL, pack("{s:s}", "username", "root.admin"), &r);
    HARNESS_ASSERT_ERROR(r, 400, "invalid");
    assert_non_null(strstr(harness_error_message(&r), "password"));
    harness_response_free(&r);
}

static void test_login_rate_limit(void **state) {
    (void)state;
    assert_int_equal(harness_user_add(srv, "limited.admin", "limited-admin-password", "admin", NULL), SB_OK);
    assert_int_equal(harness_user_add(srv, "other.agent", "other-agent-password", "agent", NULL), SB_OK);
    harness_response r;
    for (int i = 0; i < SB_LOGIN_FAILURES_PER_15_MIN; i++) {
        post_json("/api/auth/login", NULL,
                  pack("{s:s, s:s}", "username", "limited.admin", "password", "not-the-password"), &r);
        HARNESS_ASSERT_ERROR(r, 401, "unauthorized");
        harness_response_free(&r);
    }
    post_json("/api/auth/login", NULL, pack("{s:s, s:s}", "username", "limited.admin", "password", "not-the-password"),
              &r);
    HARNESS_ASSERT_ERROR(r, 429, "rate_limited");
    assert_retry_after(&r);
    harness_response_free(&r);
    /* Locked even with the right password, so guessing cannot continue. */
    post_json("/api/auth/login", NULL,
              pack("{s:s, s:s}", "username", "limited.admin", "password", "limited-admin-password"), &r);
    HARNESS_ASSERT_ERROR(r, 429, "rate_limited");
    harness_response_free(&r);
    /* Other users are not affected. */
    char token[HARNESS_TOKEN_BYTES];
    assert_int_equal(harness_staff_login(srv, "other.agent", "other-agent-password", token, NULL), SB_OK);
}

static void test_logout_and_bad_tokens(void **state) {
    (void)state;
    char customer[HARNESS_TOKEN_BYTES], admin[HARNESS_TOKEN_BYTES], admin2[HARNESS_TOKEN_BYTES];
    assert_int_equal(harness_customer_login(srv, "09127000001", customer, NULL), SB_OK);
    assert_int_equal(harness_user_add(srv, "logout.admin", "logout-admin-password", "admin", NULL), SB_OK);
    assert_int_equal(harness_staff_login(srv, "logout.admin", "logout-admin-password", admin, NULL), SB_OK);
    assert_int_equal(harness_staff_login(srv, "logout.admin", "logout-admin-password", admin2, NULL), SB_OK);
    const char *tokens[] = {customer, admin};
    for (size_t i = 0; i < SB_ARRAY_LEN(tokens); i++) {
        harness_response r;
        me(tokens[i], &r);
        HARNESS_ASSERT_STATUS(r, 200);
        harness_response_free(&r);
        assert_int_equal(harness_http_json(srv->port, "POST", "/api/auth/logout", tokens[i], NULL, &r), SB_OK);
        HARNESS_ASSERT_STATUS(r, 204);
        assert_int_equal((int)r.body_len, 0);
        harness_response_free(&r);
        me(tokens[i], &r);
        HARNESS_ASSERT_ERROR(r, 401, "unauthorized");
        harness_response_free(&r);
        assert_int_equal(harness_http_json(srv->port, "POST", "/api/auth/logout", tokens[i], NULL, &r), SB_OK);
        HARNESS_ASSERT_ERROR(r, 401, "unauthorized");
        harness_response_free(&r);
    }
    /* Logging out one session leaves the user's other sessions alone. */
    harness_response r;
    me(admin2, &r);
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);

    /* Tokens that were never issued, or are not tokens at all. */
    char random_token[HARNESS_TOKEN_BYTES];
    sb_random_hex(random_token, SB_TOKEN_BYTES);
    const char *bogus[] = {random_token, "abc", "", "0000000000000000000000000000000000000000000000000000000000000000",
                           "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"};
    for (size_t i = 0; i < SB_ARRAY_LEN(bogus); i++) {
        me(bogus[i], &r);
        HARNESS_ASSERT_ERROR(r, 401, "unauthorized");
        harness_response_free(&r);
    }
    char basic[128];
    snprintf(basic, sizeof basic, "Authorization: Basic %s", admin2);
    const char *headers[] = {basic, NULL};
    assert_int_equal(harness_http(srv->port, "GET", "/api/me", NULL, NULL, NULL, 0, headers, &r), SB_OK);
    HARNESS_ASSERT_ERROR(r, 401, "unauthorized");
    harness_response_free(&r);
    me(NULL, &r);
    HARNESS_ASSERT_ERROR(r, 401, "unauthorized");
    harness_response_free(&r);
}

/* ---- profile ---- */

static void test_me_and_patch(void **state) {
    (void)state;
    char sara[HARNESS_TOKEN_BYTES], reza[HARNESS_TOKEN_BYTES], staff[HARNESS_TOKEN_BYTES];
    assert_int_equal(harness_customer_login(srv, "09128000001", sara, NULL), SB_OK);
    assert_int_equal(harness_customer_login(srv, "09128000002", reza, NULL), SB_OK);
    assert_int_equal(harness_user_add(srv, "patch.agent", "patch-agent-password", "agent", NULL), SB_OK);
    assert_int_equal(harness_staff_login(srv, "patch.agent", "patch-agent-password", staff, NULL), SB_OK);

    harness_response r;
    me(sara, &r);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_user_shape(r.json, "customer");
    assert_string_equal(json_string_value(json_object_get(r.json, "phone")), "+989128000001");
    assert_true(json_is_null(json_object_get(r.json, "username")));
    json_int_t id = json_integer_value(json_object_get(r.json, "id"));
    harness_response_free(&r);

    const char *persian = "سارا احمدی";
    char *body = pack("{s:s, s:s}", "display_name", persian, "username", "sara_a");
    assert_int_equal(harness_http_json(srv->port, "PATCH", "/api/me", sara, body, &r), SB_OK);
    free(body);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_user_shape(r.json, "customer");
    assert_string_equal(json_string_value(json_object_get(r.json, "display_name")), persian);
    assert_string_equal(json_string_value(json_object_get(r.json, "username")), "sara_a");
    assert_int_equal(json_integer_value(json_object_get(r.json, "id")), id);
    harness_response_free(&r);
    /* Only the fields given change. */
    body = pack("{s:s}", "display_name", "Sara");
    assert_int_equal(harness_http_json(srv->port, "PATCH", "/api/me", sara, body, &r), SB_OK);
    free(body);
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);
    me(sara, &r);
    assert_string_equal(json_string_value(json_object_get(r.json, "display_name")), "Sara");
    assert_string_equal(json_string_value(json_object_get(r.json, "username")), "sara_a");
    harness_response_free(&r);

    /* Someone else's username. */
    body = pack("{s:s}", "username", "sara_a");
    assert_int_equal(harness_http_json(srv->port, "PATCH", "/api/me", reza, body, &r), SB_OK);
    free(body);
    HARNESS_ASSERT_ERROR(r, 409, "conflict");
    harness_response_free(&r);

    /* Wrong fields, named in the message. */
    struct {
        const char *json;
        const char *field;
    } bad[] = {
        {"{\"display_name\": 5}", "display_name"},
        {"{\"username\": \"bad name!\"}", "username"},
        {"{\"username\": 7}", "username"},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        assert_int_equal(harness_http_json(srv->port, "PATCH", "/api/me", reza, bad[i].json, &r), SB_OK);
        HARNESS_ASSERT_ERROR(r, 400, "invalid");
        assert_non_null(strstr(harness_error_message(&r), bad[i].field));
        harness_response_free(&r);
    }
    /* A display name one byte too long: still under the authenticated body cap, so 400 not 413. */
    char *long_name = malloc(SB_HTTP_BODY_BYTES_MAX_UNAUTH + 2);
    assert_non_null(long_name);
    memset(long_name, 'n', SB_HTTP_BODY_BYTES_MAX_UNAUTH + 1);
    long_name[SB_HTTP_BODY_BYTES_MAX_UNAUTH + 1] = '\0';
    long_name[SB_DISPLAY_NAME_BYTES_MAX + 1] = '\0';
    body = pack("{s:s}", "display_name", long_name);
    assert_int_equal(harness_http_json(srv->port, "PATCH", "/api/me", reza, body, &r), SB_OK);
    free(body);
    HARNESS_ASSERT_ERROR(r, 400, "invalid");
    assert_non_null(strstr(harness_error_message(&r), "display_name"));
    harness_response_free(&r);
    long_name[SB_DISPLAY_NAME_BYTES_MAX + 1] = 'n';
    body = pack("{s:s}", "display_name", long_name); /* over the public cap, under the authenticated one */
    assert_int_equal(harness_http_json(srv->port, "PATCH", "/api/me", reza, body, &r), SB_OK);
    free(body);
    HARNESS_ASSERT_ERROR(r, 400, "invalid");
    harness_response_free(&r);
    free(long_name);
    /* Over the authenticated cap. */
    size_t huge_len = SB_HTTP_BODY_BYTES_MAX + 1;
    char *huge = malloc(huge_len + 1);
    assert_non_null(huge);
    memset(huge, ' ', huge_len);
    memcpy(huge, "{\"display_name\":\"x\"}", 20);
    huge[huge_len] = '\0';
    assert_int_equal(harness_http_json(srv->port, "PATCH", "/api/me", reza, huge, &r), SB_OK);
    HARNESS_ASSERT_ERROR(r, 413, "body_too_large");
    harness_response_free(&r);
    free(huge);

    /* Customers only. */
    assert_int_equal(harness_http_json(srv->port, "PATCH", "/api/me", staff, "{\"display_name\":\"x\"}", &r), SB_OK);
    HARNESS_ASSERT_ERROR(r, 403, "forbidden");
    harness_response_free(&r);
    assert_int_equal(harness_http_json(srv->port, "PATCH", "/api/me", NULL, "{\"display_name\":\"x\"}", &r), SB_OK);
    HARNESS_ASSERT_ERROR(r, 401, "unauthorized");
    harness_response_free(&r);
}

/* ---- staff management ---- */

static bool staff_list_has(json_t *list, const char *username, const char *role) {
    size_t i;
    json_t *u;
    json_array_foreach(list, i, u) {
        const char *name = json_string_value(json_object_get(u, "username"));
        const char *r = json_string_value(json_object_get(u, "role"));
        if (name && r && strcmp(name, username) == 0 && strcmp(r, role) == 0) return true;
    }
    return false;
}

static void test_admin_creates_staff(void **state) {
    (void)state;
    assert_int_equal(harness_user_add(srv, "boss.admin", "boss-admin-password", "admin", NULL), SB_OK);
    char admin[HARNESS_TOKEN_BYTES], customer[HARNESS_TOKEN_BYTES];
    assert_int_equal(harness_staff_login(srv, "boss.admin", "boss-admin-password", admin, NULL), SB_OK);
    assert_int_equal(harness_customer_login(srv, "09129000001", customer, NULL), SB_OK);

    harness_response r;
    for (size_t i = 0; i < SB_ARRAY_LEN(staff_roles); i++) {
        char username[32], password[64];
        snprintf(username, sizeof username, "new.%s", staff_roles[i]);
        snprintf(password, sizeof password, "password-of-%s", staff_roles[i]);
        post_json("/api/admin/staff", admin,
                  pack("{s:s, s:s, s:s}", "username", username, "password", password, "role", staff_roles[i]), &r);
        HARNESS_ASSERT_STATUS(r, 201);
        assert_user_shape(r.json, staff_roles[i]);
        assert_string_equal(json_string_value(json_object_get(r.json, "username")), username);
        harness_response_free(&r);
        char token[HARNESS_TOKEN_BYTES];
        json_t *user;
        assert_int_equal(harness_staff_login(srv, username, password, token, &user), SB_OK);
        assert_string_equal(json_string_value(json_object_get(user, "role")), staff_roles[i]);
        json_decref(user);
    }
    post_json("/api/admin/staff", admin,
              pack("{s:s, s:s, s:s}", "username", "new.agent", "password", "another-password", "role", "agent"), &r);
    HARNESS_ASSERT_ERROR(r, 409, "conflict");
    harness_response_free(&r);

    struct {
        const char *username, *password, *role, *field;
    } bad[] = {
        {"x.customer", "customer-password", "customer", "role"},
        {"x.super", "superuser-password", "superuser", "role"},
        {"x.short", "short", "agent", "password"},
        {"Bad Name!", "good-long-password", "agent", "username"},
        {"", "good-long-password", "agent", "username"},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        post_json(
            "/api/admin/staff", admin,
            pack("{s:s, s:s, s:s}", "username", bad[i].username, "password", bad[i].password, "role", bad[i].role), &r);
        HARNESS_ASSERT_ERROR(r, 400, "invalid");
        assert_non_null(strstr(harness_error_message(&r), bad[i].field));
        harness_response_free(&r);
    }

    assert_int_equal(harness_http_get(srv->port, "/api/admin/staff", admin, &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 200);
    json_t *list = json_object_get(r.json, "staff");
    assert_true(json_is_array(list));
    assert_true(staff_list_has(list, "boss.admin", "admin"));
    for (size_t i = 0; i < SB_ARRAY_LEN(staff_roles); i++) {
        char username[32];
        snprintf(username, sizeof username, "new.%s", staff_roles[i]);
        assert_true(staff_list_has(list, username, staff_roles[i]));
    }
    size_t i;
    json_t *u;
    json_array_foreach(list, i, u) {
        assert_string_not_equal(json_string_value(json_object_get(u, "role")), "customer");
        assert_null(json_object_get(u, "password"));
        assert_null(json_object_get(u, "password_hash"));
    }
    harness_response_free(&r);

    /* Only admins. */
    char agent[HARNESS_TOKEN_BYTES];
    assert_int_equal(harness_staff_login(srv, "new.agent", "password-of-agent", agent, NULL), SB_OK);
    const char *not_admins[] = {agent, customer};
    for (size_t k = 0; k < SB_ARRAY_LEN(not_admins); k++) {
        assert_int_equal(harness_http_get(srv->port, "/api/admin/staff", not_admins[k], &r), SB_OK);
        HARNESS_ASSERT_ERROR(r, 403, "forbidden");
        harness_response_free(&r);
        post_json("/api/admin/staff", not_admins[k],
                  pack("{s:s, s:s, s:s}", "username", "sneaky", "password", "sneaky-password", "role", "admin"), &r);
        HARNESS_ASSERT_ERROR(r, 403, "forbidden");
        harness_response_free(&r);
    }
    assert_int_equal(harness_http_get(srv->port, "/api/admin/staff", NULL, &r), SB_OK);
    HARNESS_ASSERT_ERROR(r, 401, "unauthorized");
    harness_response_free(&r);
    char token[HARNESS_TOKEN_BYTES];
    assert_int_not_equal(harness_staff_login(srv, "sneaky", "sneaky-password", token, NULL), SB_OK);
}

/* ---- crash ---- */

static void test_committed_writes_survive_sigkill(void **state) {
    (void)state;
    assert_int_equal(harness_user_add(srv, "crash.admin", "crash-admin-password", "admin", NULL), SB_OK);
    char admin[HARNESS_TOKEN_BYTES], customer[HARNESS_TOKEN_BYTES];
    assert_int_equal(harness_staff_login(srv, "crash.admin", "crash-admin-password", admin, NULL), SB_OK);
    assert_int_equal(harness_customer_login(srv, "09121310001", customer, NULL), SB_OK);
    harness_response r;
    post_json("/api/admin/staff", admin,
              pack("{s:s, s:s, s:s}", "username", "crash.agent", "password", "crash-agent-password", "role", "agent"),
              &r);
    HARNESS_ASSERT_STATUS(r, 201);
    harness_response_free(&r);
    assert_int_equal(
        harness_http_json(srv->port, "PATCH", "/api/me", customer, "{\"display_name\":\"Before crash\"}", &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);

    /* Everything answered before the crash is there after it, sessions included. */
    assert_int_equal(harness_server_kill(srv), SB_OK);
    assert_int_equal(harness_server_start(srv), SB_OK);
    char token[HARNESS_TOKEN_BYTES];
    assert_int_equal(harness_staff_login(srv, "crash.agent", "crash-agent-password", token, NULL), SB_OK);
    me(customer, &r);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "display_name")), "Before crash");
    harness_response_free(&r);
    me(admin, &r);
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);
}

/* ---- the role walk ---- */

#define WALK_ROLES 5
static const char *const walk_roles[WALK_ROLES] = {"customer", "agent", "analyst", "marketer", "admin"};

/* The route's path with every :param (or {param}) segment replaced by an id
 * no object has (so that a DELETE or an update touches nothing the walk
 * needs) and * by x. */
static void concrete_path(const char *pattern, char *out, size_t out_size) {
    size_t o = 0;
    const char *p = pattern;
    while (*p && o + 2 < out_size) {
        if (p[0] == '/' && (p[1] == ':' || p[1] == '{' || p[1] == '*')) {
            const char *dummy = p[1] == '*' ? "x" : "999999";
            out[o++] = '/';
            for (size_t d = 0; dummy[d] && o + 2 < out_size; d++)
                out[o++] = dummy[d];
            p++;
            while (*p && *p != '/')
                p++;
            continue;
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
}

/* Roles of a route: a bit per walk_roles entry, -1 for "public", or -3 for
 * "api_key" (a route with its own key: no bearer token opens it, 401). */
static int route_roles(json_t *route) {
    json_t *roles = json_object_get(route, "roles");
    if (json_is_string(roles) && strcmp(json_string_value(roles), "public") == 0) return -1;
    if (json_is_string(roles) && strcmp(json_string_value(roles), "api_key") == 0) return -3;
    if (!json_is_array(roles)) return -2;
    int bits = 0;
    size_t i;
    json_t *role;
    json_array_foreach(roles, i, role) {
        const char *name = json_string_value(role);
        int found = -1;
        for (int k = 0; k < WALK_ROLES; k++)
            if (name && strcmp(name, walk_roles[k]) == 0) found = k;
        if (found < 0) return -2;
        bits |= 1 << found;
    }
    return bits;
}

static json_t *find_route(json_t *routes, const char *method, const char *path) {
    size_t i;
    json_t *route;
    json_array_foreach(routes, i, route) {
        const char *m = json_string_value(json_object_get(route, "method"));
        const char *p = json_string_value(json_object_get(route, "path"));
        if (m && p && strcmp(m, method) == 0 && strcmp(p, path) == 0) return route;
    }
    return NULL;
}

/* Call one route as one caller (token NULL = nobody) and check the answer
 * against the roles; violations are counted and printed. */
static int walk_call(json_t *route, int roles, int caller, const char *token) {
    const char *method = json_string_value(json_object_get(route, "method"));
    const char *pattern = json_string_value(json_object_get(route, "path"));
    char path[1024];
    concrete_path(pattern, path, sizeof path);
    bool has_body = strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0;
    harness_response r;
    int result = harness_http_json(srv->port, method, path, token, has_body ? "{}" : NULL, &r);
    if (result != SB_OK) {
        fprintf(stderr, "WALK %s %s as %s: no answer (%s)\n", method, path, caller < 0 ? "nobody" : walk_roles[caller],
                sb_strerror(result));
        return 1;
    }
    int want = 0; /* 0: anything but 401/403 */
    if (roles == -3) {
        want = 401;
    } else if (roles != -1) {
        if (caller < 0)
            want = 401;
        else if (!(roles & (1 << caller)))
            want = 403;
    }
    bool ok = want ? r.status == want : (r.status != 401 && r.status != 403);
    if (ok && want) {
        const char *code = harness_error_code(&r);
        /* the Telegram Bot API (/bot<token>/...) answers in Telegram's shape */
        bool telegram = strncmp(pattern, "/bot:", 5) == 0 && json_is_false(json_object_get(r.json, "ok")) &&
                        json_integer_value(json_object_get(r.json, "error_code")) == want;
        ok = telegram || (code && strcmp(code, want == 401 ? "unauthorized" : "forbidden") == 0);
    }
    if (!ok)
        fprintf(stderr, "WALK %s %s as %s: status %d, want %s%d; body %.200s\n", method, path,
                caller < 0 ? "nobody" : walk_roles[caller], r.status, want ? "" : "not 401/403, e.g. ",
                want ? want : 200, r.body);
    harness_response_free(&r);
    return ok ? 0 : 1;
}

static char walk_tokens[WALK_ROLES][HARNESS_TOKEN_BYTES];
static int walk_customers;

/* Log role k in (again): staff by password, a customer by a new phone. */
static void walk_login(int k) {
    if (k == 0) {
        char phone[32];
        snprintf(phone, sizeof phone, "0912111%04d", ++walk_customers);
        assert_int_equal(harness_customer_login(srv, phone, walk_tokens[0], NULL), SB_OK);
        return;
    }
    char username[32], password[64];
    snprintf(username, sizeof username, "walk.%s", walk_roles[k]);
    snprintf(password, sizeof password, "walk-password-%s", walk_roles[k]);
    json_t *user;
    assert_int_equal(harness_staff_login(srv, username, password, walk_tokens[k], &user), SB_OK);
    assert_string_equal(json_string_value(json_object_get(user, "role")), walk_roles[k]);
    json_decref(user);
}

/* A route earlier in the walk may have spent a token (logout, deleting the
 * account): make sure role k holds a live one before the next call. */
static void walk_ensure_token(int k) {
    harness_response r;
    assert_int_equal(harness_http_get(srv->port, "/api/me", walk_tokens[k], &r), SB_OK);
    int status = r.status;
    harness_response_free(&r);
    if (status == 200) return;
    assert_int_equal(status, 401);
    walk_login(k);
}

static void test_role_walk(void **state) {
    (void)state;
    char(*tokens)[HARNESS_TOKEN_BYTES] = walk_tokens;
    walk_customers = 0;
    for (int k = 1; k < WALK_ROLES; k++) {
        char username[32], password[64];
        snprintf(username, sizeof username, "walk.%s", walk_roles[k]);
        snprintf(password, sizeof password, "walk-password-%s", walk_roles[k]);
        assert_int_equal(harness_user_add(srv, username, password, walk_roles[k], NULL), SB_OK);
    }
    for (int k = 0; k < WALK_ROLES; k++)
        walk_login(k);

    harness_response listing;
    assert_int_equal(harness_http_get(srv->port, "/api/routes", tokens[4], &listing), SB_OK);
    HARNESS_ASSERT_STATUS(listing, 200);
    json_t *routes = json_object_get(listing.json, "routes");
    assert_true(json_is_array(routes));

    /* The contract's routes are listed with the contract's roles. */
    const int any = (1 << WALK_ROLES) - 1;
    struct {
        const char *method, *path;
        int roles;
    } expected[] = {
        {"GET", "/healthz", -1},
        {"GET", "/metrics", -1},
        {"POST", "/api/auth/otp/request", -1},
        {"POST", "/api/auth/otp/verify", -1},
        {"POST", "/api/auth/login", -1},
        {"POST", "/api/auth/logout", any},
        {"GET", "/api/me", any},
        {"PATCH", "/api/me", 1 << 0},
        {"GET", "/api/admin/staff", 1 << 4},
        {"POST", "/api/admin/staff", 1 << 4},
        {"GET", "/api/routes", 1 << 4},
        {"GET", "/api/ws", any},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(expected); i++) {
        json_t *route = find_route(routes, expected[i].method, expected[i].path);
        if (!route) fprintf(stderr, "route %s %s is not listed\n", expected[i].method, expected[i].path);
        assert_non_null(route);
        int roles = route_roles(route);
        if (roles != expected[i].roles)
            fprintf(stderr, "route %s %s: roles bits %d, want %d\n", expected[i].method, expected[i].path, roles,
                    expected[i].roles);
        assert_int_equal(roles, expected[i].roles);
    }

    /* Walk them all; the routes that may spend a token (logout, DELETE) last,
     * with a live token checked before every call. */
    int violations = 0, calls = 0;
    size_t i;
    json_t *route;
    for (int pass = 0; pass < 2; pass++) {
        json_array_foreach(routes, i, route) {
            const char *method = json_string_value(json_object_get(route, "method"));
            const char *path = json_string_value(json_object_get(route, "path"));
            assert_non_null(method);
            assert_non_null(path);
            int roles = route_roles(route);
            if (roles == -2) fprintf(stderr, "route %s %s has unknown roles\n", method, path);
            assert_int_not_equal(roles, -2);
            bool spends_token = strstr(path, "/logout") != NULL || strcmp(method, "DELETE") == 0;
            if (spends_token != (pass == 1)) continue;
            violations += walk_call(route, roles, -1, NULL);
            calls++;
            for (int k = 0; k < WALK_ROLES; k++) {
                walk_ensure_token(k);
                violations += walk_call(route, roles, k, tokens[k]);
                calls++;
            }
        }
    }
    fprintf(stderr, "role walk: %zu routes, %d calls, %d violations\n", json_array_size(routes), calls, violations);
    harness_response_free(&listing);
    assert_int_equal(violations, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_otp_phone_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_otp_wrong_code_then_right, setup, teardown),
        cmocka_unit_test_setup_teardown(test_otp_code_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_otp_attempts_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_otp_request_rate_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_staff_login, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login_rate_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logout_and_bad_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_me_and_patch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_admin_creates_staff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_committed_writes_survive_sigkill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_role_walk, setup, teardown),
    };
    return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
