/*
 * test_http_guard.c - the head scanner the body guard uses to find a
 * request's route and declared body size before h2o buffers the body
 * (api_head_scan in src/api/http_guard.c): incomplete heads wait, the
 * largest of several Content-Lengths counts, chunked is seen in any case,
 * the query is not part of the path, and malformed or oversized heads are
 * left to h2o.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/api_int.h"

static int scan(const char *text, api_head *head) { return api_head_scan(text, strlen(text), head); }

static void test_complete_head(void **state) {
    (void)state;
    api_head h;
    const char *req = "POST /api/auth/login?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\n\r\n{\"body\":";
    assert_int_equal(scan(req, &h), SB_OK);
    assert_int_equal(h.method_len, 4);
    assert_memory_equal(h.method, "POST", 4);
    assert_int_equal(h.path_len, strlen("/api/auth/login"));
    assert_memory_equal(h.path, "/api/auth/login", h.path_len);
    assert_int_equal(h.head_len, strstr(req, "\r\n\r\n") - req + 4);
    assert_int_equal(h.content_length, 42);
    assert_false(h.chunked);
}

static void test_incomplete_head_waits(void **state) {
    (void)state;
    api_head h;
    assert_int_equal(scan("POST /api/auth/login HTTP/1.1\r\nContent-Len", &h), SB_ENOTFOUND);
    assert_int_equal(scan("", &h), SB_ENOTFOUND);
}

static void test_length_and_chunked(void **state) {
    (void)state;
    api_head h;
    assert_int_equal(scan("POST / HTTP/1.1\r\ncontent-length: 5\r\nCONTENT-LENGTH:  900000\r\n\r\n", &h), SB_OK);
    assert_int_equal(h.content_length, 900000);
    assert_int_equal(scan("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n", &h), SB_OK);
    assert_true(h.chunked);
    assert_int_equal(h.content_length, -1);
    assert_int_equal(scan("GET /healthz HTTP/1.1\r\n\r\n", &h), SB_OK);
    assert_int_equal(h.content_length, -1);
    assert_false(h.chunked);
}

static void test_malformed_left_to_h2o(void **state) {
    (void)state;
    api_head h;
    assert_int_equal(scan("POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", &h), SB_EINVAL);
    assert_int_equal(scan("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", &h), SB_EINVAL);
    assert_int_equal(scan("NOPATH\r\n\r\n", &h), SB_EINVAL);
    /* a head longer than the caps without its end: refused by h2o, not waited for */
    size_t len = SB_HTTP_HEADER_BYTES_MAX + SB_HTTP_PATH_BYTES_MAX + 100;
    char *big = malloc(len);
    assert_non_null(big);
    memset(big, 'a', len);
    memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
    assert_int_equal(api_head_scan(big, len, &h), SB_EINVAL);
    free(big);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_complete_head),
        cmocka_unit_test(test_incomplete_head_waits),
        cmocka_unit_test(test_length_and_chunked),
        cmocka_unit_test(test_malformed_left_to_h2o),
    };
    return cmocka_run_group_tests_name("http_guard", tests, NULL, NULL);
}
