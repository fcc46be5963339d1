/*
 * fuzz_api.c - libFuzzer target over the api's own parsing: route matching
 * of arbitrary methods and paths (against the real route table plus
 * parameter routes), path-parameter and query percent-decoding, JSON
 * body validation (depth scan, strict parse, objects only), and the Bot
 * API's parameters (query, JSON, form and multipart bodies).
 *
 * Input: first byte picks the mode; for matching, the bytes up to the first
 * space are the method and the rest the path; for Bot API parameters, the
 * second byte picks the content type, the bytes up to the first newline are
 * the query and the rest the body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"

static int fuzz_handler(api_ctx *c) {
    (void)c;
    return SB_OK;
}

static api_router *router(void) {
    static api_router *r;
    if (r) return r;
    r = calloc(1, sizeof *r);
    if (!r) abort();
    api_router_init(r);
    api_routes_register_all(r);
    api_router_add(r, "GET", "/api/fuzz/chats/:id/messages", IDENTITY_ROLES_ANY, fuzz_handler);
    api_router_add(r, "GET", "/api/fuzz/chats/new", IDENTITY_ROLES_ANY, fuzz_handler);
    api_router_add(r, "DELETE", "/api/fuzz/chats/:id", IDENTITY_ROLES_ANY, fuzz_handler);
    api_router_add(r, "POST", "/:a/:b/:c/:d/:e/:f/:g/:h", API_PUBLIC, fuzz_handler);
    if (api_router_check(r, NULL) != SB_OK) abort();
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t mode = data[0] % 4;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    if (mode == 0) {
        const char *space = memchr(text, ' ', len);
        size_t method_len = space ? (size_t)(space - text) : 0;
        const char *path = space ? space + 1 : text;
        size_t path_len = len - (space ? method_len + 1 : 0);
        api_match m;
        char allow[96];
        int result = api_router_match(router(), text, method_len, path, path_len, &m, allow, sizeof allow);
        if (result == API_MATCH_FOUND) {
            if (!m.route || m.nparams > SB_HTTP_PATH_PARAMS_MAX) abort();
            for (int i = 0; i < m.nparams; i++) {
                /* parameters lie inside the path and never contain '/' */
                if (m.params[i].value < path || m.params[i].value + m.params[i].value_len > path + path_len) abort();
                if (memchr(m.params[i].value, '/', m.params[i].value_len)) abort();
                char *decoded = malloc(m.params[i].value_len + 1);
                size_t out_len;
                if (decoded &&
                    api_percent_decode(m.params[i].value, m.params[i].value_len, decoded, m.params[i].value_len + 1,
                                       &out_len) == SB_OK &&
                    (out_len > m.params[i].value_len || strlen(decoded) != out_len))
                    abort();
                free(decoded);
            }
        } else if (result == API_MATCH_BAD_METHOD) {
            if (allow[0] == '\0') abort();
        } else if (result != API_MATCH_NOT_FOUND) {
            abort();
        }
    } else if (mode == 1) {
        json_t *body = NULL;
        char err[256];
        bool syntax;
        int result = api_json_parse_body(text, len, &body, err, sizeof err, &syntax);
        if (result == SB_OK) {
            if (!json_is_object(body)) abort();
            /* what was accepted serialises and parses back */
            char *again = json_dumps(body, JSON_COMPACT);
            if (!again) abort();
            json_t *back = json_loads(again, 0, NULL);
            if (!back || !json_equal(back, body)) abort();
            json_decref(back);
            free(again);
            json_decref(body);
        } else if (body != NULL || err[0] == '\0') {
            abort();
        }
    } else if (mode == 3 && len >= 1) {
        static const char *const types[] = {"application/json",
                                            "application/x-www-form-urlencoded",
                                            "multipart/form-data; boundary=B",
                                            "multipart/form-data; boundary=\"x y\"",
                                            "text/plain",
                                            ""};
        const char *type = types[(uint8_t)text[0] % SB_ARRAY_LEN(types)];
        const char *rest = text + 1;
        size_t rest_len = len - 1;
        const char *nl = memchr(rest, '\n', rest_len);
        size_t query_len = nl ? (size_t)(nl - rest) : 0;
        const char *body = nl ? nl + 1 : rest;
        size_t body_len = rest_len - (nl ? query_len + 1 : 0);
        json_t *params = NULL;
        char why[200];
        int result = api_botapi_params_parse(nl ? rest : NULL, query_len, type, strlen(type), body, body_len, &params,
                                             why, sizeof why);
        if (result == SB_OK) {
            /* an object of at most the cap of fields; form values are valid strings */
            if (!json_is_object(params) || json_object_size(params) > SB_BOTAPI_PARAMS_MAX) abort();
            char *dumped = json_dumps(params, JSON_COMPACT);
            if (!dumped) abort();
            free(dumped);
            json_decref(params);
        } else if (params != NULL || (result == SB_EINVAL && why[0] == '\0')) {
            abort();
        }
    } else {
        char *out = malloc(len + 1);
        size_t out_len;
        if (out && api_percent_decode(text, len, out, len + 1, &out_len) == SB_OK && memchr(out, '\0', out_len))
            abort();
        free(out);
    }
    return 0;
}
