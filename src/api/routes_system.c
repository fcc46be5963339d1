/*
 * routes_system.c - the routes about the server itself: GET /healthz (the
 * benchmark's target: a prebuilt answer, no allocation, no store query),
 * GET /metrics (Prometheus text), GET /api/routes (every route, for admins
 * and for tests that walk them all) and the WebSocket endpoint GET /api/ws.
 */
#include <string.h>
#include <strings.h>

#include "api/api_int.h"

static int get_healthz(api_ctx *c) {
    const api_server *srv = api_ctx_server(c);
    api_reply_static(c, 200, "application/json; charset=utf-8", srv->healthz, srv->healthz_len);
    return SB_OK;
}

static bool is_loopback(const char *addr) {
    return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 || strncmp(addr, "::ffff:127.", 11) == 0;
}

/* /metrics shows the server's inner state: with a token configured only a
 * scraper presenting it gets an answer; without one only the host itself. */
static bool metrics_allowed(api_ctx *c, const api_server_config *cfg) {
    if (!cfg->metrics_token) {
        if (is_loopback(api_client_addr(c))) return true;
        api_reply_error(c, 403, "forbidden", "/metrics answers loopback peers only unless a metrics token is set");
        return false;
    }
    const char *value;
    size_t len, want = strlen(cfg->metrics_token);
    static const char prefix[] = "Bearer ";
    if (api_header_get(c, "authorization", &value, &len) == SB_OK && len == sizeof prefix - 1 + want &&
        strncasecmp(value, prefix, sizeof prefix - 1) == 0 &&
        sb_equal_ct(value + sizeof prefix - 1, cfg->metrics_token, want))
        return true;
    api_set_header(c, "www-authenticate", "Bearer realm=\"metrics\"");
    api_reply_error(c, 401, "unauthorized", "/metrics needs the metrics token as a bearer token");
    return false;
}

static int get_metrics(api_ctx *c) {
    api_server *srv = api_ctx_server(c);
    if (!metrics_allowed(c, &srv->cfg)) return SB_OK;
    int n = srv->nthreads;
    api_metrics *per_thread[SB_THREADS_MAX];
    for (int i = 0; i < n; i++)
        per_thread[i] = srv->threads[i].metrics;
    sb_buf text;
    sb_buf_init(&text, API_METRICS_TEXT_BYTES_MAX);
    int result = api_metrics_render(&srv->router, per_thread, n, &text);
    if (result == SB_OK) result = api_metrics_render_runtime(srv, per_thread, n, &text);
    /* each background worker of the context: jobs by result, queue depth */
    sb_worker *workers[SB_APP_WORKERS_MAX];
    size_t nworkers = sb_app_workers(c->app, workers, SB_ARRAY_LEN(workers));
    if (result == SB_OK) result = sb_worker_metrics_render(workers, nworkers, &text);
    if (result != SB_OK) {
        sb_buf_free(&text);
        return result;
    }
    api_reply_raw(c, 200, "text/plain; version=0.0.4; charset=utf-8", text.data, text.len);
    sb_buf_free(&text);
    return SB_OK;
}

/* The roles of a route as JSON: "public" or a list of role names. */
static json_t *roles_json(int roles) {
    if (roles & API_KEY_AUTH) return json_string("api_key");
    roles &= API_ROLES_MASK;
    if (roles == API_PUBLIC) return json_string("public");
    json_t *list = json_array();
    for (int bit = 1; list && bit <= IDENTITY_ROLE_ADMIN; bit <<= 1)
        if ((roles & bit) && identity_role_name(bit)) json_array_append_new(list, json_string(identity_role_name(bit)));
    return list;
}

static int get_routes(api_ctx *c) {
    const api_server *srv = api_ctx_server(c);
    const api_router *r = &srv->router;
    json_t *list = json_array();
    if (!list) return SB_ENOMEM;
    for (int i = 0; i < r->count; i++) {
        const api_route *rt = &r->routes[i];
        json_t *entry =
            json_pack("{s:s, s:s, s:o}", "method", rt->method, "path", rt->pattern, "roles", roles_json(rt->roles));
        if (entry && (rt->roles & API_ROLE_BOT)) json_object_set_new(entry, "bots", json_true());
        if (!entry || json_array_append_new(list, entry) != 0) {
            json_decref(list);
            return SB_ENOMEM;
        }
    }
    if (srv->web_fd >= 0)
        json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "method", "GET", "path", "/*", "roles", "public"));
    api_reply_json(c, 200, json_pack("{s:o}", "routes", list));
    return SB_OK;
}

void api_routes_system(api_router *r) {
    api_router_add(r, "GET", "/healthz", API_PUBLIC, get_healthz);
    api_router_add(r, "GET", "/metrics", API_PUBLIC, get_metrics);
    api_router_add(r, "GET", "/api/routes", IDENTITY_ROLE_ADMIN, get_routes);
    api_router_add(r, "GET", "/api/ws", IDENTITY_ROLES_ANY | API_QUERY_TOKEN, api_ws_handle);
}
