/*
 * botapi_params.c - the parameters of a Bot API call, as Telegram takes
 * them: from the query string, and from a body that is JSON, an
 * application/x-www-form-urlencoded form or multipart/form-data, all into
 * one JSON object (body fields after query fields: the body wins).  Form and
 * multipart values are strings; the method handlers read numbers, booleans
 * and JSON-encoded objects (reply_markup) from strings as Telegram does
 * (routes_botapi.c).  Pure and bounded: at most SB_BOTAPI_PARAMS_MAX fields,
 * names of [A-Za-z0-9_], values valid UTF-8 without NUL, no file parts (media
 * is not offered).  Fuzzed by tests/fuzz/fuzz_api.c.
 */
#include <string.h>
#include <strings.h>

#include "api/api_int.h"

#define NAME_BYTES_MAX 64

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decode a form component (+ is a space) into out (len + 1 bytes). */
static bool form_decode(const char *in, size_t len, char *out, size_t *out_len) {
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = in[i];
        if (ch == '+') {
            ch = ' ';
        } else if (ch == '%') {
            if (i + 2 >= len) return false;
            int hi = hex_digit(in[i + 1]), lo = hex_digit(in[i + 2]);
            if (hi < 0 || lo < 0) return false;
            ch = (char)(hi * 16 + lo);
            i += 2;
        }
        if (ch == '\0') return false;
        out[o++] = ch;
    }
    out[o] = '\0';
    *out_len = o;
    return true;
}

static bool name_ok(const char *name, size_t len) {
    if (len == 0 || len > NAME_BYTES_MAX) return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
    }
    return true;
}

static int fail(char *why, size_t why_size, const char *message) {
    snprintf(why, why_size, "%s", message);
    return SB_EINVAL;
}

/* Set params[name] = value (a string), counting fields. */
static int put(json_t *params, const char *name, size_t name_len, const char *value, size_t value_len, char *why,
               size_t why_size) {
    if (!name_ok(name, name_len)) return fail(why, why_size, "Bad Request: invalid parameter name");
    char key[NAME_BYTES_MAX + 1];
    memcpy(key, name, name_len);
    key[name_len] = '\0';
    if (!json_object_get(params, key) && json_object_size(params) >= SB_BOTAPI_PARAMS_MAX)
        return fail(why, why_size, "Bad Request: too many parameters");
    if (!sb_utf8_valid(value, value_len)) return fail(why, why_size, "Bad Request: strings must be encoded in UTF-8");
    json_t *v = json_stringn(value, value_len);
    if (!v) return SB_ENOMEM;
    return json_object_set_new(params, key, v) == 0 ? SB_OK : SB_ENOMEM;
}

/* name=value&name=value, each form-decoded. */
static int parse_form(json_t *params, const char *text, size_t len, char *why, size_t why_size) {
    if (len == 0) return SB_OK;
    char *buf = sb_malloc(len + 1);
    if (!buf) return SB_ENOMEM;
    int result = SB_OK;
    size_t pos = 0;
    while (result == SB_OK && pos <= len) {
        const char *amp = memchr(text + pos, '&', len - pos);
        size_t end = amp ? (size_t)(amp - text) : len;
        const char *pair = text + pos;
        size_t pair_len = end - pos;
        if (pair_len > 0) {
            const char *eq = memchr(pair, '=', pair_len);
            size_t name_len = eq ? (size_t)(eq - pair) : pair_len;
            size_t value_len = 0;
            char name[NAME_BYTES_MAX + 1];
            size_t decoded_name_len = 0;
            if (name_len > NAME_BYTES_MAX || !form_decode(pair, name_len, name, &decoded_name_len))
                result = fail(why, why_size, "Bad Request: invalid parameter name");
            else if (!form_decode(eq ? eq + 1 : pair + pair_len, eq ? pair_len - name_len - 1 : 0, buf, &value_len))
                result = fail(why, why_size, "Bad Request: invalid percent-encoding");
            else
                result = put(params, name, decoded_name_len, buf, value_len, why, why_size);
        }
        pos = end + 1;
    }
    sb_free(buf);
    return result;
}

/* The value of parameter `param` (e.g. boundary) of a header value, quotes removed. */
static bool header_param(const char *value, size_t len, const char *param, char *out, size_t out_size) {
    size_t plen = strlen(param);
    for (size_t i = 0; i + plen + 1 <= len; i++) {
        if ((i == 0 || value[i - 1] == ';' || value[i - 1] == ' ') && strncasecmp(value + i, param, plen) == 0 &&
            value[i + plen] == '=') {
            const char *v = value + i + plen + 1;
            size_t vlen = len - (size_t)(v - value);
            if (vlen > 0 && v[0] == '"') {
                const char *close = memchr(v + 1, '"', vlen - 1);
                if (!close) return false;
                vlen = (size_t)(close - v - 1);
                v++;
            } else {
                const char *semi = memchr(v, ';', vlen);
                if (semi) vlen = (size_t)(semi - v);
            }
            if (vlen == 0 || vlen >= out_size) return false;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return true;
        }
    }
    return false;
}

/* multipart/form-data (RFC 7578): every part a field named by its
 * Content-Disposition; parts with a filename are refused. */
static int parse_multipart(json_t *params, const char *content_type, size_t ct_len, const char *body, size_t len,
                           char *why, size_t why_size) {
    char boundary[80];
    if (!header_param(content_type, ct_len, "boundary", boundary + 4, sizeof boundary - 4))
        return fail(why, why_size, "Bad Request: multipart body without a boundary");
    memcpy(boundary, "\r\n--", 4);
    size_t blen = strlen(boundary);
    /* the first delimiter may start the body (no CRLF before it) */
    const char *p = body, *end = body + len;
    if (len >= blen - 2 && memcmp(body, boundary + 2, blen - 2) == 0)
        p = body + blen - 2;
    else {
        const char *first = memmem(body, len, boundary, blen);
        if (!first) return fail(why, why_size, "Bad Request: malformed multipart body");
        p = first + blen;
    }
    for (int parts = 0; parts <= SB_BOTAPI_PARAMS_MAX; parts++) {
        /* after a delimiter: "--" ends the body, CRLF starts a part */
        if (end - p >= 2 && p[0] == '-' && p[1] == '-') return SB_OK;
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
            return fail(why, why_size, "Bad Request: malformed multipart body");
        p += 2;
        const char *headers_end = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
        if (!headers_end) return fail(why, why_size, "Bad Request: malformed multipart body");
        char name[NAME_BYTES_MAX + 1];
        bool named = false, file = false;
        const char *line = p;
        while (line < headers_end) {
            const char *eol = memmem(line, (size_t)(headers_end + 2 - line), "\r\n", 2);
            size_t line_len = (size_t)(eol - line);
            static const char cd[] = "content-disposition:";
            if (line_len > sizeof cd - 1 && strncasecmp(line, cd, sizeof cd - 1) == 0) {
                char filename[8];
                named = header_param(line, line_len, "name", name, sizeof name);
                file = header_param(line, line_len, "filename", filename, sizeof filename) ||
                       (line_len > 9 && memmem(line, line_len, "filename", 8) != NULL);
            }
            line = eol + 2;
        }
        if (file) return fail(why, why_size, "Bad Request: files are not supported (no media methods)");
        if (!named) return fail(why, why_size, "Bad Request: a multipart part without a name");
        const char *value = headers_end + 4;
        const char *next = memmem(value, (size_t)(end - value), boundary, blen);
        if (!next) return fail(why, why_size, "Bad Request: malformed multipart body");
        int result = put(params, name, strlen(name), value, (size_t)(next - value), why, why_size);
        if (result != SB_OK) return result;
        p = next + blen;
    }
    return fail(why, why_size, "Bad Request: too many parameters");
}

static bool type_is(const char *ct, size_t len, const char *want) {
    size_t wl = strlen(want);
    return len >= wl && strncasecmp(ct, want, wl) == 0 && (len == wl || ct[wl] == ';' || ct[wl] == ' ');
}

int api_botapi_params_parse(const char *query, size_t query_len, const char *content_type, size_t content_type_len,
                            const char *body, size_t body_len, json_t **out, char *why, size_t why_size) {
    *out = NULL;
    why[0] = '\0';
    if (body_len > SB_BOTAPI_BODY_BYTES_MAX) return fail(why, why_size, "Request Entity Too Large");
    json_t *params = json_object();
    if (!params) return SB_ENOMEM;
    int result = query ? parse_form(params, query, query_len, why, why_size) : SB_OK;
    if (result == SB_OK && body_len > 0) {
        if (!content_type) content_type_len = 0;
        if (content_type_len && type_is(content_type, content_type_len, "application/json")) {
            json_t *obj = NULL;
            char err[200];
            bool syntax = false;
            result = api_json_parse_body(body, body_len, &obj, err, sizeof err, &syntax);
            if (result != SB_OK) {
                result = fail(why, why_size, "Bad Request: can't parse JSON body");
            } else if (json_object_size(obj) + json_object_size(params) > SB_BOTAPI_PARAMS_MAX) {
                result = fail(why, why_size, "Bad Request: too many parameters");
            } else if (json_object_update(params, obj) != 0) {
                result = SB_ENOMEM;
            }
            json_decref(obj);
        } else if (content_type_len && type_is(content_type, content_type_len, "application/x-www-form-urlencoded")) {
            result = parse_form(params, body, body_len, why, why_size);
        } else if (content_type_len && type_is(content_type, content_type_len, "multipart/form-data")) {
            result = parse_multipart(params, content_type, content_type_len, body, body_len, why, why_size);
        } else {
            result = fail(why, why_size, "Bad Request: unsupported Content-Type");
        }
    }
    if (result != SB_OK) {
        json_decref(params);
        return result;
    }
    *out = params;
    return SB_OK;
}
