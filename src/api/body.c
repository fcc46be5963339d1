/*
 * body.c - what the api does with bytes it did not write: JSON request bodies
 * (depth bounded before jansson sees them, strict parse, errors naming line
 * and column) and the one error shape with its statuses.
 */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"

int api_json_depth(const char *data, size_t len, int max_depth) {
    int depth = 0, deepest = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char ch = data[i];
        if (in_string) {
            if (ch == '\\')
                i++; /* skip the escaped character */
            else if (ch == '"')
                in_string = false;
            continue;
        }
        if (ch == '"') {
            in_string = true;
        } else if (ch == '[' || ch == '{') {
            if (++depth > max_depth) return -1;
            if (depth > deepest) deepest = depth;
        } else if (ch == ']' || ch == '}') {
            if (depth > 0) depth--;
        }
    }
    return deepest;
}

int api_json_parse_body(const char *data, size_t len, json_t **out, char *err, size_t err_size, bool *err_is_syntax) {
    *out = NULL;
    *err_is_syntax = true;
    if (err_size) err[0] = '\0';
    if (api_json_depth(data, len, SB_JSON_DEPTH_MAX) < 0) {
        snprintf(err, err_size, "JSON nested deeper than %d levels", SB_JSON_DEPTH_MAX);
        return SB_EINVAL;
    }
    json_error_t jerr;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!root) {
        snprintf(err, err_size, "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
        return SB_EINVAL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        *err_is_syntax = false;
        snprintf(err, err_size, "body must be a JSON object");
        return SB_EINVAL;
    }
    *out = root;
    return SB_OK;
}

int api_status_for_error(int sb_code, const char **code_out) {
    int status;
    const char *code;
    switch (sb_code) {
    case SB_EINVAL:
        status = 400, code = "invalid";
        break;
    case SB_EAUTH:
        status = 401, code = "unauthorized";
        break;
    case SB_EPERM:
        status = 403, code = "forbidden";
        break;
    case SB_ENOTFOUND:
        status = 404, code = "not_found";
        break;
    case SB_EEXISTS:
    case SB_ECONFLICT:
        status = 409, code = "conflict";
        break;
    case SB_ELIMIT:
        status = 413, code = "body_too_large";
        break;
    case SB_ERATE:
        status = 429, code = "rate_limited";
        break;
    case SB_ECLOSED:
    case SB_EBUSY:
        status = 503, code = "unavailable";
        break;
    case SB_ETIMEOUT:
        status = 503, code = "unavailable";
        break;
    default:
        status = 500, code = "internal";
        break;
    }
    if (code_out) *code_out = code;
    return status;
}

const char *api_reason_phrase(int status) {
    switch (status) {
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Unknown";
    }
}

int api_error_body(sb_buf *out, const char *code, const char *message) {
    sb_buf_reset(out);
    int result = sb_buf_append_str(out, "{\"error\":{\"code\":\"");
    if (result == SB_OK) result = sb_buf_append_json_escaped(out, code, strlen(code));
    if (result == SB_OK) result = sb_buf_append_str(out, "\",\"message\":\"");
    if (result == SB_OK) result = sb_buf_append_json_escaped(out, message, strlen(message));
    if (result == SB_OK) result = sb_buf_append_str(out, "\"}}");
    return result;
}
