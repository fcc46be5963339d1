/*
 * test_api.c - the api module's own logic without sockets: the router
 * (parameters, literal precedence, 404 vs 405 with Allow, HEAD, pattern
 * errors, its limits), percent-decoding, JSON body validation (depth, line
 * and column, objects only), the error shape and statuses, and the metrics
 * text (exact lines for hand-counted requests).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/api_int.h"

static int handler_a(api_ctx *c) {
    (void)c;
    return SB_OK;
}
static int handler_b(api_ctx *c) {
    (void)c;
    return SB_OK;
}

static api_router *new_router(void) {
    api_router *r = calloc(1, sizeof *r);
    assert_non_null(r);
    api_router_init(r);
    return r;
}

static int match(const api_router *r, const char *method, const char *path, api_match *m, char *allow) {
    return api_router_match(r, method, strlen(method), path, strlen(path), m, allow, 96);
}

static void test_router_params(void **state) {
    (void)state;
    api_router *r = new_router();
    api_router_add(r, "GET", "/api/chats/:id/messages", IDENTITY_ROLES_ANY, handler_a);
    api_router_add(r, "GET", "/api/chats/new", IDENTITY_ROLES_ANY, handler_b);
    api_router_add(r, "GET", "/api/chats/:id", IDENTITY_ROLES_ANY, handler_a);
    api_router_add(r, "POST", "/api/chats/:chat/members/:user", IDENTITY_ROLE_ADMIN, handler_b);
    const char *why;
    assert_int_equal(api_router_check(r, &why), SB_OK);

    api_match m;
    char allow[96];
    assert_int_equal(match(r, "GET", "/api/chats/42/messages", &m, allow), API_MATCH_FOUND);
    assert_string_equal(m.route->pattern, "/api/chats/:id/messages");
    assert_int_equal(m.nparams, 1);
    assert_int_equal(m.params[0].name_len, 2);
    assert_memory_equal(m.params[0].name, "id", 2);
    assert_int_equal(m.params[0].value_len, 2);
    assert_memory_equal(m.params[0].value, "42", 2);

    /* a literal beats a parameter at the same place, whatever the order */
    assert_int_equal(match(r, "GET", "/api/chats/new", &m, allow), API_MATCH_FOUND);
    assert_string_equal(m.route->pattern, "/api/chats/new");
    assert_int_equal(m.nparams, 0);
    assert_int_equal(match(r, "GET", "/api/chats/7", &m, allow), API_MATCH_FOUND);
    assert_string_equal(m.route->pattern, "/api/chats/:id");

    assert_int_equal(match(r, "POST", "/api/chats/5/members/9", &m, allow), API_MATCH_FOUND);
    assert_int_equal(m.nparams, 2);
    assert_memory_equal(m.params[0].name, "chat", 4);
    assert_memory_equal(m.params[0].value, "5", 1);
    assert_memory_equal(m.params[1].name, "user", 4);
    assert_memory_equal(m.params[1].value, "9", 1);
    free(r);
}

static void test_router_prefix_params(void **state) {
    (void)state;
    api_router *r = new_router();
    api_router_add(r, "POST", "/bot:token/:method", API_PUBLIC, handler_a);
    api_router_add(r, "GET", "/bots/:name", API_PUBLIC, handler_b);
    const char *why;
    assert_int_equal(api_router_check(r, &why), SB_OK);
    api_match m;
    char allow[96];
    /* the prefix is matched and left out of the value */
    assert_int_equal(match(r, "POST", "/bot123:abc/getMe", &m, allow), API_MATCH_FOUND);
    assert_string_equal(m.route->pattern, "/bot:token/:method");
    assert_int_equal(m.nparams, 2);
    assert_int_equal(m.params[0].name_len, 5);
    assert_memory_equal(m.params[0].name, "token", 5);
    assert_int_equal(m.params[0].value_len, 7);
    assert_memory_equal(m.params[0].value, "123:abc", 7);
    assert_memory_equal(m.params[1].value, "getMe", 5);
    /* a literal segment that merely starts with the prefix goes to its own route */
    assert_int_equal(match(r, "GET", "/bots/x", &m, allow), API_MATCH_FOUND);
    assert_string_equal(m.route->pattern, "/bots/:name");
    /* the prefix alone (an empty value), another prefix, a wrong depth: no route */
    assert_int_equal(match(r, "POST", "/bot/getMe", &m, allow), API_MATCH_NOT_FOUND);
    assert_int_equal(match(r, "POST", "/bo1:a/getMe", &m, allow), API_MATCH_NOT_FOUND);
    assert_int_equal(match(r, "POST", "/bot1:a", &m, allow), API_MATCH_NOT_FOUND);
    assert_int_equal(match(r, "GET", "/bot1:a/getMe", &m, allow), API_MATCH_BAD_METHOD);
    /* the same prefix and shape twice is refused; a prefix without a name too */
    api_router_add(r, "POST", "/bot:other/:m", API_PUBLIC, handler_b);
    assert_int_equal(api_router_check(r, &why), SB_EEXISTS);
    api_router *r2 = new_router();
    api_router_add(r2, "POST", "/bot:/x", API_PUBLIC, handler_b);
    assert_int_equal(api_router_check(r2, &why), SB_EINVAL);
    free(r2);
    free(r);
}

static void test_router_404_405(void **state) {
    (void)state;
    api_router *r = new_router();
    api_router_add(r, "GET", "/api/me", IDENTITY_ROLES_ANY, handler_a);
    api_router_add(r, "PATCH", "/api/me", IDENTITY_ROLE_CUSTOMER, handler_b);
    api_router_add(r, "POST", "/api/auth/login", API_PUBLIC, handler_a);
    api_match m;
    char allow[96];
    assert_int_equal(match(r, "GET", "/api/you", &m, allow), API_MATCH_NOT_FOUND);
    assert_int_equal(match(r, "GET", "/api/me/", &m, allow), API_MATCH_NOT_FOUND); /* trailing slash */
    assert_int_equal(match(r, "GET", "/api//me", &m, allow), API_MATCH_NOT_FOUND); /* empty segment */
    assert_int_equal(match(r, "GET", "api/me", &m, allow), API_MATCH_NOT_FOUND);   /* not absolute */
    assert_int_equal(match(r, "GET", "", &m, allow), API_MATCH_NOT_FOUND);
    assert_int_equal(match(r, "DELETE", "/api/me", &m, allow), API_MATCH_BAD_METHOD);
    assert_string_equal(allow, "GET, HEAD, PATCH");
    assert_int_equal(match(r, "GET", "/api/auth/login", &m, allow), API_MATCH_BAD_METHOD);
    assert_string_equal(allow, "POST");
    /* method names are case-sensitive (RFC 9110) */
    assert_int_equal(match(r, "get", "/api/me", &m, allow), API_MATCH_BAD_METHOD);
    /* HEAD is served by GET routes */
    assert_int_equal(match(r, "HEAD", "/api/me", &m, allow), API_MATCH_FOUND);
    assert_string_equal(m.route->method, "GET");
    free(r);
}

static void test_router_pattern_errors(void **state) {
    (void)state;
    const char *why;
    struct {
        const char *method, *pattern;
        int roles;
        int want;
    } cases[] = {
        {"GET", "api/x", API_PUBLIC, SB_EINVAL},
        {"GET", "/api//x", API_PUBLIC, SB_EINVAL},
        {"GET", "/api/x/", API_PUBLIC, SB_EINVAL},
        {"GET", "/api/:", API_PUBLIC, SB_EINVAL},
        {"FETCH", "/api/x", API_PUBLIC, SB_EINVAL},
        {"GET", "/api/x y", API_PUBLIC, SB_EINVAL},
        {"GET", "/api/x%20", API_PUBLIC, SB_EINVAL},
        {"GET", "/api/x", 1 << 12, SB_EINVAL},
        {NULL, "/api/x", API_PUBLIC, SB_EINVAL},
        {"GET", NULL, API_PUBLIC, SB_EINVAL},
        {"GET", "/:a/:b/:c/:d/:e/:f/:g/:h/:i", API_PUBLIC, SB_EINVAL},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(cases); i++) {
        api_router *r = new_router();
        api_router_add(r, cases[i].method, cases[i].pattern, cases[i].roles, handler_a);
        int got = api_router_check(r, &why);
        if (got != cases[i].want)
            fprintf(stderr, "case %zu (%s): got %d (%s)\n", i, cases[i].pattern ? cases[i].pattern : "-", got, why);
        assert_int_equal(got, cases[i].want);
        assert_true(strlen(why) > 0);
        assert_int_equal(r->count, 0);
        free(r);
    }
    /* eight parameters is the limit, and fine */
    api_router *r = new_router();
    api_router_add(r, "GET", "/:a/:b/:c/:d/:e/:f/:g/:h", API_PUBLIC, handler_a);
    assert_int_equal(api_router_check(r, &why), SB_OK);
    /* same method and shape (parameter names do not matter) is a duplicate */
    api_router_add(r, "GET", "/:x/:b/:c/:d/:e/:f/:g/:h", API_PUBLIC, handler_b);
    assert_int_equal(api_router_check(r, &why), SB_EEXISTS);
    assert_non_null(strstr(why, "/:x/"));
    /* after the first error nothing more is added */
    api_router_add(r, "GET", "/fine", API_PUBLIC, handler_b);
    assert_int_equal(r->count, 1);
    free(r);
}

static void test_router_limits(void **state) {
    (void)state;
    api_router *r = new_router();
    char pattern[64];
    for (int i = 0; i < SB_HTTP_ROUTES_MAX; i++) {
        snprintf(pattern, sizeof pattern, "/r/%d", i);
        api_router_add(r, "GET", pattern, API_PUBLIC, handler_a);
    }
    const char *why;
    assert_int_equal(api_router_check(r, &why), SB_OK);
    assert_int_equal(r->count, SB_HTTP_ROUTES_MAX);
    api_router_add(r, "GET", "/one/more", API_PUBLIC, handler_a);
    assert_int_equal(api_router_check(r, &why), SB_ELIMIT);
    api_match m;
    char allow[96];
    assert_int_equal(match(r, "GET", "/r/255", &m, allow), API_MATCH_FOUND);
    assert_int_equal(m.route->index, 255);
    /* a path over SB_HTTP_PATH_BYTES_MAX or deeper than the segment cap never matches */
    char *long_path = malloc(SB_HTTP_PATH_BYTES_MAX + 2);
    assert_non_null(long_path);
    memset(long_path, 'a', SB_HTTP_PATH_BYTES_MAX + 1);
    long_path[0] = '/';
    long_path[SB_HTTP_PATH_BYTES_MAX + 1] = '\0';
    assert_int_equal(match(r, "GET", long_path, &m, allow), API_MATCH_NOT_FOUND);
    free(long_path);
    char deep[2 * (SB_HTTP_PATH_SEGMENTS_MAX + 2) + 1];
    for (int i = 0; i < SB_HTTP_PATH_SEGMENTS_MAX + 2; i++)
        memcpy(deep + 2 * i, "/a", 2);
    deep[sizeof deep - 1] = '\0';
    assert_int_equal(match(r, "GET", deep, &m, allow), API_MATCH_NOT_FOUND);
    free(r);
}

static void test_percent_decode(void **state) {
    (void)state;
    char out[64];
    size_t len;
    assert_int_equal(api_percent_decode("a%20b%2Fc", 9, out, sizeof out, &len), SB_OK);
    assert_string_equal(out, "a b/c");
    assert_int_equal(len, 5);
    assert_int_equal(api_percent_decode("%d8%a7", 6, out, sizeof out, &len), SB_OK);
    assert_string_equal(out, "\xd8\xa7");
    assert_int_equal(api_percent_decode("bad%2", 5, out, sizeof out, &len), SB_EINVAL);
    assert_int_equal(api_percent_decode("bad%", 4, out, sizeof out, &len), SB_EINVAL);
    assert_int_equal(api_percent_decode("bad%zz", 6, out, sizeof out, &len), SB_EINVAL);
    assert_int_equal(api_percent_decode("nul%00", 6, out, sizeof out, &len), SB_EINVAL);
    assert_int_equal(api_percent_decode("abc", 3, out, 3, &len), SB_ELIMIT);
}

static void test_json_body(void **state) {
    (void)state;
    json_t *body;
    char err[256];
    bool syntax;
    const char *ok = "{\"phone\":\"0912\",\"n\":[1,{\"a\":\"]]]\"}]}";
    assert_int_equal(api_json_parse_body(ok, strlen(ok), &body, err, sizeof err, &syntax), SB_OK);
    assert_string_equal(json_string_value(json_object_get(body, "phone")), "0912");
    json_decref(body);

    const char *bad = "{\n  \"a\": 1,\n  \"b\": ]\n}";
    assert_int_equal(api_json_parse_body(bad, strlen(bad), &body, err, sizeof err, &syntax), SB_EINVAL);
    assert_true(syntax);
    assert_null(body);
    assert_non_null(strstr(err, "line 3, column 8"));

    const char *dup = "{\"a\":1,\"a\":2}";
    assert_int_equal(api_json_parse_body(dup, strlen(dup), &body, err, sizeof err, &syntax), SB_EINVAL);
    assert_true(syntax);

    const char *arr = "[1,2]";
    assert_int_equal(api_json_parse_body(arr, strlen(arr), &body, err, sizeof err, &syntax), SB_EINVAL);
    assert_false(syntax);
    assert_string_equal(err, "body must be a JSON object");

    const char *bad_utf8 = "{\"a\":\"\xff\"}";
    assert_int_equal(api_json_parse_body(bad_utf8, strlen(bad_utf8), &body, err, sizeof err, &syntax), SB_EINVAL);

    /* depth: exactly the cap is fine, one more is refused before jansson */
    char deep[2 * SB_JSON_DEPTH_MAX + 16];
    size_t n = 0;
    deep[n++] = '{';
    memcpy(deep + n, "\"a\":", 4);
    n += 4;
    for (int i = 1; i < SB_JSON_DEPTH_MAX; i++)
        deep[n++] = '[';
    for (int i = 1; i < SB_JSON_DEPTH_MAX; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    assert_int_equal(api_json_depth(deep, n, SB_JSON_DEPTH_MAX), SB_JSON_DEPTH_MAX);
    assert_int_equal(api_json_parse_body(deep, n, &body, err, sizeof err, &syntax), SB_OK);
    json_decref(body);
    char deeper[2 * SB_JSON_DEPTH_MAX + 16];
    memcpy(deeper, "{\"a\":[", 6);
    memcpy(deeper + 6, deep + 5, n - 6);
    memcpy(deeper + 6 + n - 6, "]}", 2);
    size_t dn = n + 2;
    assert_int_equal(api_json_depth(deeper, dn, SB_JSON_DEPTH_MAX), -1);
    assert_int_equal(api_json_parse_body(deeper, dn, &body, err, sizeof err, &syntax), SB_EINVAL);
    assert_non_null(strstr(err, "deeper than 32"));
    /* brackets inside strings do not count, escaped quotes do not end them */
    const char *strs = "{\"a\":\"[[[[\\\"[[[[\"}";
    assert_int_equal(api_json_depth(strs, strlen(strs), 4), 1);
}

static void test_error_shape(void **state) {
    (void)state;
    sb_buf buf;
    sb_buf_init(&buf, 4096);
    assert_int_equal(api_error_body(&buf, "invalid", "field \"phone\" is\nwrong"), SB_OK);
    assert_string_equal(buf.data, "{\"error\":{\"code\":\"invalid\",\"message\":\"field \\\"phone\\\" is\\nwrong\"}}");
    json_error_t jerr;
    json_t *parsed = json_loads(buf.data, 0, &jerr);
    assert_non_null(parsed);
    assert_string_equal(json_string_value(json_object_get(json_object_get(parsed, "error"), "code")), "invalid");
    json_decref(parsed);
    sb_buf_free(&buf);

    struct {
        int sb;
        int status;
        const char *code;
    } map[] = {{SB_EINVAL, 400, "invalid"},        {SB_EAUTH, 401, "unauthorized"}, {SB_EPERM, 403, "forbidden"},
               {SB_ENOTFOUND, 404, "not_found"},   {SB_EEXISTS, 409, "conflict"},   {SB_ECONFLICT, 409, "conflict"},
               {SB_ELIMIT, 413, "body_too_large"}, {SB_ERATE, 429, "rate_limited"}, {SB_ECLOSED, 503, "unavailable"},
               {SB_EIO, 500, "internal"},          {SB_ENOMEM, 500, "internal"}};
    for (size_t i = 0; i < SB_ARRAY_LEN(map); i++) {
        const char *code;
        assert_int_equal(api_status_for_error(map[i].sb, &code), map[i].status);
        assert_string_equal(code, map[i].code);
    }
    assert_string_equal(api_reason_phrase(431), "Request Header Fields Too Large");
    assert_string_equal(api_reason_phrase(405), "Method Not Allowed");
}

static void test_metrics_text(void **state) {
    (void)state;
    api_router *r = new_router();
    api_router_add(r, "GET", "/healthz", API_PUBLIC, handler_a);
    api_router_add(r, "GET", "/api/me", IDENTITY_ROLES_ANY, handler_a);
    api_router_add(r, "PATCH", "/api/me", IDENTITY_ROLE_CUSTOMER, handler_b);
    api_metrics *t0 = calloc(1, sizeof *t0), *t1 = calloc(1, sizeof *t1);
    assert_non_null(t0);
    assert_non_null(t1);
    /* thread 0: 2 healthz at 50us and 3ms; thread 1: one more at 2s */
    api_metrics_record(t0, 0, 200, 50000);
    api_metrics_record(t0, 0, 200, 3000000);
    api_metrics_record(t1, 0, 200, 2000000000);
    /* /api/me: GET 200 at 1ms exactly (le="0.001"), PATCH 409 at 200us */
    api_metrics_record(t0, 1, 200, 1000000);
    api_metrics_record(t1, 2, 409, 200000);
    /* unmatched DELETE 404, a status without its own slot, static GET */
    api_metrics_record(t1, API_SLOT_UNMATCHED + api_method_group("DELETE", 6), 404, 10);
    api_metrics_record(t1, 1, 418, 10);
    api_metrics_record(t0, API_SLOT_STATIC, 200, 10);
    api_metrics_ws_add(t0, 3);
    api_metrics_ws_add(t1, 2);
    api_metrics_ws_add(t0, -1);
    api_metrics *threads[2] = {t0, t1};
    sb_buf text;
    sb_buf_init(&text, SB_HTTP_METRICS_TEXT_BYTES_MAX);
    assert_int_equal(api_metrics_render(r, threads, 2, &text), SB_OK);
    const char *want[] = {
        "# TYPE sb_http_requests_total counter\n",
        "sb_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 3\n",
        "sb_http_requests_total{route=\"/api/me\",method=\"GET\",status=\"200\"} 1\n",
        "sb_http_requests_total{route=\"/api/me\",method=\"GET\",status=\"other\"} 1\n",
        "sb_http_requests_total{route=\"/api/me\",method=\"PATCH\",status=\"409\"} 1\n",
        "sb_http_requests_total{route=\"unmatched\",method=\"DELETE\",status=\"404\"} 1\n",
        "sb_http_requests_total{route=\"/*\",method=\"GET\",status=\"200\"} 1\n",
        "# TYPE sb_http_request_duration_seconds histogram\n",
        "sb_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.0001\"} 1\n",
        "sb_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.0025\"} 1\n",
        "sb_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.005\"} 2\n",
        "sb_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"1\"} 2\n",
        "sb_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"5\"} 3\n",
        "sb_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} 3\n",
        "sb_http_request_duration_seconds_sum{route=\"/healthz\"} 2.003050000\n",
        "sb_http_request_duration_seconds_count{route=\"/healthz\"} 3\n",
        /* GET and PATCH /api/me share one histogram: 200us, 1ms, 10ns */
        "sb_http_request_duration_seconds_bucket{route=\"/api/me\",le=\"0.0001\"} 1\n",
        "sb_http_request_duration_seconds_bucket{route=\"/api/me\",le=\"0.00025\"} 2\n",
        "sb_http_request_duration_seconds_bucket{route=\"/api/me\",le=\"0.001\"} 3\n",
        "sb_http_request_duration_seconds_count{route=\"/api/me\"} 3\n",
        "sb_http_request_duration_seconds_count{route=\"unmatched\"} 1\n",
        "# TYPE sb_websocket_connections gauge\nsb_websocket_connections 4\n",
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(want); i++) {
        if (!strstr(text.data, want[i])) fprintf(stderr, "missing line: %s--- in ---\n%s\n", want[i], text.data);
        assert_non_null(strstr(text.data, want[i]));
    }
    /* the histogram of /api/me appears once; PATCH /api/me has no own histogram */
    const char *first = strstr(text.data, "_count{route=\"/api/me\"}");
    assert_null(strstr(first + 1, "_count{route=\"/api/me\"}"));
    /* no line for routes or statuses without requests */
    assert_null(strstr(text.data, "status=\"500\""));
    sb_buf_free(&text);
    free(t0);
    free(t1);
    free(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_router_params),
        cmocka_unit_test(test_router_404_405),
        cmocka_unit_test(test_router_prefix_params),
        cmocka_unit_test(test_router_pattern_errors),
        cmocka_unit_test(test_router_limits),
        cmocka_unit_test(test_percent_decode),
        cmocka_unit_test(test_json_body),
        cmocka_unit_test(test_error_shape),
        cmocka_unit_test(test_metrics_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
