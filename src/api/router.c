/*
 * router.c - the table of routes and the matcher.
 *
 * A route is a method, a pattern of '/'-separated segments (literals or
 * ":name" parameters), the roles allowed to call it and a handler.  Matching
 * walks the table once (at most SB_HTTP_ROUTES_MAX routes, at most
 * API_SEGMENTS_MAX segments each): among the routes whose pattern fits the
 * path, the one with a literal at the earliest differing segment wins, so
 * "/api/chats/new" beats "/api/chats/:id".  A segment may also be a literal
 * prefix glued to a parameter ("/bot:token/:method" matches "/bot12:ab/getMe"
 * with token "12:ab"): it fits a path segment that starts with the prefix and
 * has at least one byte more, and counts as a parameter in the ranking.  If a pattern fits but no route
 * has the method, the answer is "method not allowed" with the list for the
 * Allow header.  Nothing here allocates, so the hot path stays cheap.
 */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"

static const char *const known_methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};

void api_router_init(api_router *r) { memset(r, 0, sizeof *r); }

static void router_fail(api_router *r, int code, const char *method, const char *pattern, const char *why) {
    if (r->error != SB_OK) return;
    r->error = code;
    snprintf(r->error_message, sizeof r->error_message, "route %s %.200s: %s", method ? method : "(null)",
             pattern ? pattern : "(null)", why);
}

/* Split pattern into segments; SB_EINVAL with *why on a malformed pattern. */
static int parse_pattern(api_route *rt, const char **why) {
    const char *p = rt->pattern;
    size_t len = strlen(p);
    if (len == 0 || p[0] != '/') {
        *why = "pattern must start with '/'";
        return SB_EINVAL;
    }
    rt->nsegments = 0;
    rt->param_mask = 0;
    if (len == 1) return SB_OK; /* "/" has no segments */
    int params = 0;
    size_t pos = 1;
    while (pos <= len) {
        const char *slash = memchr(p + pos, '/', len - pos);
        size_t end = slash ? (size_t)(slash - p) : len;
        size_t seg_len = end - pos;
        if (seg_len == 0) {
            *why = "empty segment";
            return SB_EINVAL;
        }
        if (rt->nsegments >= API_SEGMENTS_MAX) {
            *why = "too many segments";
            return SB_EINVAL;
        }
        const char *colon = memchr(p + pos, ':', seg_len);
        if (colon) {
            size_t prefix_len = (size_t)(colon - (p + pos));
            if (prefix_len + 1 == seg_len) {
                *why = "parameter without a name";
                return SB_EINVAL;
            }
            if (++params > SB_HTTP_PATH_PARAMS_MAX) {
                *why = "too many parameters";
                return SB_EINVAL;
            }
            rt->param_mask |= 1u << rt->nsegments;
            rt->seg_prefix[rt->nsegments] = (uint16_t)prefix_len;
        }
        for (size_t i = pos; i < end; i++) {
            unsigned char ch = (unsigned char)p[i];
            if (ch <= 0x20 || ch >= 0x7f || ch == '?' || ch == '#' || ch == '%') {
                *why = "pattern has a character that cannot appear in a path";
                return SB_EINVAL;
            }
        }
        rt->seg_off[rt->nsegments] = (uint16_t)pos;
        rt->seg_len[rt->nsegments] = (uint16_t)seg_len;
        rt->nsegments++;
        pos = end + 1;
    }
    return SB_OK;
}

static bool same_shape(const api_route *a, const api_route *b) {
    if (a->nsegments != b->nsegments || a->param_mask != b->param_mask) return false;
    for (int i = 0; i < a->nsegments; i++) {
        if (a->param_mask & (1u << i)) {
            if (a->seg_prefix[i] != b->seg_prefix[i] ||
                memcmp(a->pattern + a->seg_off[i], b->pattern + b->seg_off[i], a->seg_prefix[i]) != 0)
                return false;
            continue;
        }
        if (a->seg_len[i] != b->seg_len[i] ||
            memcmp(a->pattern + a->seg_off[i], b->pattern + b->seg_off[i], a->seg_len[i]) != 0)
            return false;
    }
    return true;
}

void api_router_add(api_router *r, const char *method, const char *pattern, int roles, api_handler_fn handler) {
    if (r->error != SB_OK) return;
    bool method_ok = false;
    for (size_t i = 0; method && i < SB_ARRAY_LEN(known_methods); i++)
        if (strcmp(method, known_methods[i]) == 0) method_ok = true;
    if (!method_ok) return router_fail(r, SB_EINVAL, method, pattern, "unknown method");
    if (!pattern || strlen(pattern) >= API_PATTERN_BYTES_MAX)
        return router_fail(r, SB_EINVAL, method, pattern, "pattern missing or too long");
    if (!handler) return router_fail(r, SB_EINVAL, method, pattern, "no handler");
    if ((roles & ~(API_ROLES_MASK | API_QUERY_TOKEN | API_KEY_AUTH | API_RAW_BODY)) != 0 ||
        (roles & API_ROLES_MASK & ~(IDENTITY_ROLES_ANY | API_ROLE_BOT)) != 0)
        return router_fail(r, SB_EINVAL, method, pattern, "unknown role bits");
    if ((roles & API_KEY_AUTH) && (roles & (API_ROLES_MASK | API_QUERY_TOKEN)) != 0)
        return router_fail(r, SB_EINVAL, method, pattern, "a key-authenticated route takes no roles");
    if (r->count >= SB_HTTP_ROUTES_MAX) return router_fail(r, SB_ELIMIT, method, pattern, "too many routes");
    api_route *rt = &r->routes[r->count];
    memset(rt, 0, sizeof *rt);
    snprintf(rt->method, sizeof rt->method, "%s", method);
    snprintf(rt->pattern, sizeof rt->pattern, "%s", pattern);
    rt->roles = roles;
    rt->handler = handler;
    const char *why = NULL;
    if (parse_pattern(rt, &why) != SB_OK) return router_fail(r, SB_EINVAL, method, pattern, why);
    for (int i = 0; i < r->count; i++)
        if (strcmp(r->routes[i].method, method) == 0 && same_shape(&r->routes[i], rt))
            return router_fail(r, SB_EEXISTS, method, pattern, "same method and shape as an earlier route");
    rt->index = r->count++;
}

int api_router_check(const api_router *r, const char **message_out) {
    if (message_out) *message_out = r->error != SB_OK ? r->error_message : "";
    return r->error;
}

/* Does the route's pattern fit the path segments?  Returns a score: bit
 * (31 - i) set when segment i matched a literal, so a literal earlier in the
 * path beats a parameter there; -1 when it does not fit. */
static int64_t fit(const api_route *rt, const char *const *seg, const size_t *seg_len, int nseg) {
    if (rt->nsegments != nseg) return -1;
    int64_t score = 0;
    for (int i = 0; i < nseg; i++) {
        if (rt->param_mask & (1u << i)) {
            size_t prefix = rt->seg_prefix[i];
            if (prefix && (seg_len[i] <= prefix || memcmp(rt->pattern + rt->seg_off[i], seg[i], prefix) != 0))
                return -1;
            continue;
        }
        if (rt->seg_len[i] != seg_len[i] || memcmp(rt->pattern + rt->seg_off[i], seg[i], seg_len[i]) != 0) return -1;
        score |= (int64_t)1 << (31 - i);
    }
    return score;
}

static void allow_append(char *allow, size_t allow_size, const char *method) {
    size_t used = strlen(allow);
    /* no duplicates */
    const char *p = allow;
    size_t mlen = strlen(method);
    while ((p = strstr(p, method)) != NULL) {
        if ((p == allow || p[-1] == ' ') && (p[mlen] == ',' || p[mlen] == '\0')) return;
        p += mlen;
    }
    snprintf(allow + used, allow_size - used, "%s%s", used ? ", " : "", method);
}

int api_router_match(const api_router *r, const char *method, size_t method_len, const char *path, size_t path_len,
                     api_match *out, char *allow, size_t allow_size) {
    if (allow && allow_size) allow[0] = '\0';
    if (path_len == 0 || path[0] != '/' || path_len > SB_HTTP_PATH_BYTES_MAX) return API_MATCH_NOT_FOUND;
    const char *seg[API_SEGMENTS_MAX];
    size_t seg_len[API_SEGMENTS_MAX];
    int nseg = 0;
    if (path_len > 1) {
        size_t pos = 1;
        while (pos <= path_len) {
            const char *slash = memchr(path + pos, '/', path_len - pos);
            size_t end = slash ? (size_t)(slash - path) : path_len;
            if (end == pos || nseg >= API_SEGMENTS_MAX) return API_MATCH_NOT_FOUND; /* empty segment or too deep */
            seg[nseg] = path + pos;
            seg_len[nseg] = end - pos;
            nseg++;
            pos = end + 1;
        }
    }
    bool is_head = method_len == 4 && memcmp(method, "HEAD", 4) == 0;
    const api_route *best = NULL;
    int64_t best_score = -1;
    bool shape_fits = false;
    for (int i = 0; i < r->count; i++) {
        const api_route *rt = &r->routes[i];
        int64_t score = fit(rt, seg, seg_len, nseg);
        if (score < 0) continue;
        shape_fits = true;
        size_t rlen = strlen(rt->method);
        bool method_ok = (rlen == method_len && memcmp(rt->method, method, rlen) == 0) ||
                         (is_head && strcmp(rt->method, "GET") == 0);
        if (method_ok && score > best_score) {
            best = rt;
            best_score = score;
        }
    }
    if (!best) {
        if (!shape_fits) return API_MATCH_NOT_FOUND;
        if (allow && allow_size) {
            for (int i = 0; i < r->count; i++) {
                const api_route *rt = &r->routes[i];
                if (fit(rt, seg, seg_len, nseg) < 0) continue;
                allow_append(allow, allow_size, rt->method);
                if (strcmp(rt->method, "GET") == 0) allow_append(allow, allow_size, "HEAD");
            }
        }
        return API_MATCH_BAD_METHOD;
    }
    out->route = best;
    out->nparams = 0;
    for (int i = 0; i < nseg; i++) {
        if (!(best->param_mask & (1u << i))) continue;
        SB_ASSERT(out->nparams < SB_HTTP_PATH_PARAMS_MAX); /* checked when the route was added */
        api_param_ref *p = &out->params[out->nparams++];
        size_t prefix = best->seg_prefix[i];
        p->name = best->pattern + best->seg_off[i] + prefix + 1;
        p->name_len = best->seg_len[i] - prefix - 1u;
        p->value = seg[i] + prefix;
        p->value_len = seg_len[i] - prefix;
    }
    return API_MATCH_FOUND;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int api_percent_decode(const char *in, size_t in_len, char *out, size_t out_size, size_t *out_len) {
    if (out_size < in_len + 1) return SB_ELIMIT;
    size_t o = 0;
    for (size_t i = 0; i < in_len; i++) {
        char ch = in[i];
        if (ch == '%') {
            if (i + 2 >= in_len) return SB_EINVAL;
            int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
            if (hi < 0 || lo < 0) return SB_EINVAL;
            ch = (char)(hi * 16 + lo);
            if (ch == '\0') return SB_EINVAL;
            i += 2;
        } else if (ch == '\0') {
            return SB_EINVAL;
        }
        out[o++] = ch;
    }
    out[o] = '\0';
    *out_len = o;
    return SB_OK;
}
