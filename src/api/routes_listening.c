/*
 * routes_listening.c - the listening routes: POST /api/ingest (batches of
 * posts authenticated by a per-source API key) and /api/listening/... for
 * the staff: cases (list, one, state, assignment, notes, replies), posts and
 * corrections (and their export as training data), rules, departments and
 * agents, API keys, statistics, alerts, suggestion groups, advocates and
 * thanks, consents, leads, erasure of an author.  A thin layer over
 * listening.h: each request opens a listening context over its thread's
 * store with the application context's configuration (c->app) and closes it.
 *
 * Roles: agents work cases; analysts read everything, correct labels and
 * see alerts; marketers see reputation, suggestions, advocates and leads and
 * thank advocates; admins do all of that and edit rules, departments, API
 * keys, consents and erasure (docs/API.md).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"

#define ROLES_CASES (IDENTITY_ROLE_AGENT | IDENTITY_ROLE_ANALYST | IDENTITY_ROLE_ADMIN)
#define ROLES_ANALYSIS (IDENTITY_ROLE_ANALYST | IDENTITY_ROLE_ADMIN)
#define ROLES_INSIGHT (IDENTITY_ROLE_ANALYST | IDENTITY_ROLE_MARKETER | IDENTITY_ROLE_ADMIN)
#define ROLES_MARKETING (IDENTITY_ROLE_MARKETER | IDENTITY_ROLE_ADMIN)
#define ROLES_CONSENT (IDENTITY_ROLE_AGENT | IDENTITY_ROLE_ADMIN)
#define ROLES_ADMIN IDENTITY_ROLE_ADMIN

/* The request's listening context; answers 503 (and returns SB_ECLOSED) when
 * listening is not configured. */
static int open_listening(api_ctx *c, listening **out) {
    *out = NULL;
    if (!c->app->listening_ready) {
        api_reply_error(c, 503, "unavailable", "listening is not running on this server");
        return SB_ECLOSED;
    }
    int result = listening_open(c->store, &c->app->listening, out);
    if (result != SB_OK) api_reply_sb_error(c, result, "cannot open listening");
    return result;
}

/* The staff name recorded in histories. */
static const char *actor_of(const api_ctx *c) {
    return c->principal && c->principal->username[0] ? c->principal->username : "staff";
}

/* Answer a JSON value made by a listening query, or its error. */
static int reply_value(api_ctx *c, int result, json_t *value, int status) {
    if (result != SB_OK) return result;
    api_reply_json(c, status, value);
    return SB_OK;
}

/* ---- query and body helpers ---- */

/* An optional query parameter as text (NULL when absent).  Answers 400. */
static int query_text(api_ctx *c, const char *name, char *buf, size_t size, const char **out) {
    *out = NULL;
    int result = api_query_get(c, name, buf, size);
    if (result == SB_ENOTFOUND) return SB_OK;
    if (result != SB_OK || !sb_utf8_valid(buf, strlen(buf))) {
        api_reply_error(c, 400, "invalid", "query parameter '%s' is malformed or too long", name);
        return SB_EINVAL;
    }
    *out = buf;
    return SB_OK;
}

static int path_id(api_ctx *c, int64_t *out) {
    if (api_param_int64(c, "id", out) != SB_OK) {
        api_reply_error(c, 400, "invalid", "the id in the path must be a positive integer");
        return SB_EINVAL;
    }
    return SB_OK;
}

/* A case state's name. SB_EINVAL for another word. */
static int case_state_parse(const char *name, listening_case_state *out) {
    static const struct {
        const char *name;
        listening_case_state state;
    } states[] = {{"open", LISTENING_CASE_OPEN},
                  {"acknowledged", LISTENING_CASE_ACKNOWLEDGED},
                  {"waiting", LISTENING_CASE_WAITING},
                  {"resolved", LISTENING_CASE_RESOLVED}};
    for (size_t i = 0; i < SB_ARRAY_LEN(states); i++)
        if (strcmp(name, states[i].name) == 0) {
            *out = states[i].state;
            return SB_OK;
        }
    return SB_EINVAL;
}

/* ---- the staff console: staff, bulk actions, customer panel, audit ---- */

/* Staff who work cases and can be assigned: agents and admins. */
#define ROLES_ASSIGNABLE (IDENTITY_ROLE_AGENT | IDENTITY_ROLE_ADMIN)

typedef int (*staff_fn)(const identity_principal *p, void *arg);

/* Call fn for every user of roles (by id, at most SB_LISTENING_ALERT_STAFF_MAX);
 * fn returning non-zero stops (SB_OK is returned then). */
static int staff_each(store *s, int roles, staff_fn fn, void *arg) {
    identity_principal users[64];
    int64_t after = 0;
    size_t seen = 0;
    while (seen < SB_LISTENING_ALERT_STAFF_MAX) {
        size_t n = 0;
        int result = identity_user_list(s, roles, after, users, SB_ARRAY_LEN(users), &n);
        if (result != SB_OK) return result;
        for (size_t i = 0; i < n; i++)
            if (fn(&users[i], arg)) return SB_OK;
        seen += n;
        if (n < SB_ARRAY_LEN(users)) break;
        after = users[n - 1].user_id;
    }
    return SB_OK;
}

typedef struct {
    const char *username;
    identity_principal found;
    bool ok;
} staff_find_arg;

static int staff_find_fn(const identity_principal *p, void *arg) {
    staff_find_arg *a = arg;
    if (strcmp(p->username, a->username) != 0) return 0;
    a->found = *p;
    a->ok = true;
    return 1;
}

/* Is username an assignable staff member?  Answers 400 naming the field when not. */
static int assignee_check(api_ctx *c, const char *username, const char *field) {
    staff_find_arg a = {.username = username};
    int result = staff_each(c->store, ROLES_ASSIGNABLE, staff_find_fn, &a);
    if (result != SB_OK) return result;
    if (!a.ok) {
        api_reply_json(c, 400,
                       json_pack("{s:{s:s, s:s, s:s}}", "error", "code", "unknown_staff", "field", field, "message",
                                 "the assignee must be an agent or admin: pick one from GET /api/listening/staff"));
        return SB_EINVAL;
    }
    return SB_OK;
}

typedef struct {
    json_t *list;
    json_t *grants;
    int result;
} staff_list_arg;

static int staff_list_fn(const identity_principal *p, void *arg) {
    staff_list_arg *a = arg;
    json_t *grant = json_object_get(a->grants, p->username);
    bool payments = p->role == IDENTITY_ROLE_ADMIN || json_is_true(json_object_get(grant, "payments"));
    json_t *o =
        json_pack("{s:I, s:s, s:s, s:s, s:b}", "id", (json_int_t)p->user_id, "username", p->username, "display_name",
                  p->display_name, "role", identity_role_name(p->role), "sees_payments", payments);
    if (!o || json_array_append_new(a->list, o) != 0) {
        a->result = SB_ENOMEM;
        return 1;
    }
    return 0;
}

static int get_staff(api_ctx *c) {
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    staff_list_arg a = {.list = json_array()};
    int result = listening_staff_grants_json(l, &a.grants);
    listening_close(l);
    if (result == SB_OK && !a.list) result = SB_ENOMEM;
    if (result == SB_OK) result = staff_each(c->store, ROLES_ASSIGNABLE, staff_list_fn, &a);
    if (result == SB_OK) result = a.result;
    json_decref(a.grants);
    if (result != SB_OK) {
        json_decref(a.list);
        return result;
    }
    api_reply_json(c, 200, json_pack("{s:o}", "staff", a.list));
    return SB_OK;
}

static int put_staff_grants(api_ctx *c) {
    const char *username = api_param(c, "username");
    json_t *payments = c->body ? json_object_get(c->body, "payments") : NULL;
    if (!json_is_boolean(payments)) {
        api_reply_error(c, 400, "invalid", "field 'payments' must be true or false");
        return SB_OK;
    }
    int result = assignee_check(c, username, "username");
    if (result != SB_OK) return result == SB_EINVAL ? SB_OK : result;
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    result = listening_staff_grant_set(l, username, json_is_true(payments), actor_of(c), c->now_ms);
    listening_close(l);
    if (result != SB_OK) return result;
    api_reply_json(c, 200, json_pack("{s:s, s:b}", "username", username, "payments", json_is_true(payments)));
    return SB_OK;
}

/* POST /api/listening/cases/bulk {"ids":[...], "action":"assign"|"state", "agent"|"state"}. */
static int post_cases_bulk(api_ctx *c) {
    const char *action, *agent = NULL, *state = NULL;
    int result = api_body_string(c, "action", true, 16, &action);
    if (result != SB_OK) return result;
    json_t *ids = json_object_get(c->body, "ids");
    size_t n = json_is_array(ids) ? json_array_size(ids) : 0;
    if (n == 0 || n > SB_LISTENING_BULK_CASES_MAX) {
        api_reply_error(c, 400, "invalid", "field 'ids' must be an array of 1 to %d case ids",
                        SB_LISTENING_BULK_CASES_MAX);
        return SB_OK;
    }
    for (size_t i = 0; i < n; i++)
        if (!json_is_integer(json_array_get(ids, i)) || json_integer_value(json_array_get(ids, i)) <= 0) {
            api_reply_error(c, 400, "invalid", "ids[%zu] must be a positive integer", i);
            return SB_OK;
        }
    listening_case_state target = LISTENING_CASE_OPEN;
    if (strcmp(action, "assign") == 0) {
        result = api_body_string(c, "agent", true, SB_USERNAME_BYTES_MAX, &agent);
        if (result != SB_OK) return result;
        result = assignee_check(c, agent, "agent");
        if (result != SB_OK) return result == SB_EINVAL ? SB_OK : result;
    } else if (strcmp(action, "state") == 0) {
        result = api_body_string(c, "state", true, 16, &state);
        if (result != SB_OK) return result;
        if (case_state_parse(state, &target) != SB_OK) {
            api_reply_error(c, 400, "invalid", "field 'state' must be open, acknowledged, waiting or resolved");
            return SB_OK;
        }
    } else {
        api_reply_error(c, 400, "invalid", "field 'action' must be assign or state");
        return SB_OK;
    }
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    json_t *results = json_array();
    size_t done = 0, failed = 0;
    for (size_t i = 0; results && i < n; i++) {
        int64_t id = (int64_t)json_integer_value(json_array_get(ids, i));
        int r = agent ? listening_case_assign(l, id, agent, actor_of(c), c->now_ms)
                      : listening_case_set_state(l, id, target, actor_of(c), c->now_ms);
        const char *why = r == SB_OK          ? NULL
                          : r == SB_ENOTFOUND ? "not_found"
                          : r == SB_ECONFLICT ? "conflict"
                          : r == SB_EINVAL    ? "invalid"
                                              : "failed";
        if (r == SB_OK)
            done++;
        else
            failed++;
        json_t *o = why ? json_pack("{s:I, s:b, s:s}", "id", (json_int_t)id, "ok", false, "error", why)
                        : json_pack("{s:I, s:b}", "id", (json_int_t)id, "ok", true);
        if (!o || json_array_append_new(results, o) != 0) {
            json_decref(results);
            results = NULL;
        }
    }
    listening_close(l);
    if (!results) return SB_ENOMEM;
    api_reply_json(
        c, 200,
        json_pack("{s:o, s:I, s:I}", "results", results, "done", (json_int_t)done, "failed", (json_int_t)failed));
    return SB_OK;
}

/* "+989121234567" -> "+98912***4567": the country and operator, the last four. */
static void phone_mask(const char *phone, char *out, size_t size) {
    size_t n = strlen(phone);
    if (n < 8) {
        snprintf(out, size, "***");
        return;
    }
    snprintf(out, size, "%.*s***%s", (int)(n - 7), phone, phone + n - 4);
}

/* GET /api/listening/cases/:id/customer: the panel, audited. */
static int get_case_customer(api_ctx *c) {
    int64_t id;
    if (path_id(c, &id) != SB_OK) return SB_OK;
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    int64_t customer_id = 0;
    json_t *panel = NULL;
    int result = listening_case_customer_json(l, id, c->now_ms, &customer_id, &panel);
    bool payments_allowed = c->principal->role == IDENTITY_ROLE_ADMIN;
    if (result == SB_OK && !payments_allowed)
        result = listening_staff_grant_payments(l, actor_of(c), &payments_allowed);
    identity_principal who;
    bool have_customer = false;
    if (result == SB_OK && customer_id > 0) {
        int r = identity_user_get(c->store, customer_id, &who);
        have_customer = r == SB_OK && who.role == IDENTITY_ROLE_CUSTOMER;
        if (r != SB_OK && r != SB_ENOTFOUND) result = r;
    }
    if (result == SB_OK) {
        json_t *customer = json_null();
        if (have_customer) {
            char masked[IDENTITY_PHONE_BYTES + 4];
            phone_mask(who.phone, masked, sizeof masked);
            customer = json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)who.user_id, "name", who.display_name,
                                 "username", who.username, "phone_masked", masked);
        }
        result = customer && json_object_set_new(panel, "customer", customer) == 0 ? SB_OK : SB_ENOMEM;
    }
    if (result == SB_OK && have_customer && payments_allowed) {
        payops_ctx ops;
        payops_receipt receipts[SB_LISTENING_PANEL_PAYMENTS_MAX];
        size_t count = 0;
        json_t *list = json_array();
        if (api_payments_ctx(c, &ops) == SB_OK &&
            payops_receipt_recent(&ops, who.user_id, 0, receipts, SB_ARRAY_LEN(receipts), &count) == SB_OK)
            for (size_t k = 0; list && k < count; k++)
                json_array_append_new(list, api_payments_receipt_json(&receipts[k]));
        result = list && json_object_set_new(panel, "payments", list) == 0 ? SB_OK : SB_ENOMEM;
    }
    /* Every view of a customer's data is on record, linked or not. */
    if (result == SB_OK) {
        char detail[64];
        snprintf(detail, sizeof detail, "customer panel%s", have_customer && payments_allowed ? " with payments" : "");
        result = listening_audit_add(l, actor_of(c), "customer_view", have_customer ? who.user_id : 0,
                                     json_string_value(json_object_get(panel, "source")),
                                     json_string_value(json_object_get(panel, "author")), id, detail, c->now_ms);
    }
    listening_close(l);
    if (result != SB_OK) {
        json_decref(panel);
        return result;
    }
    json_object_set_new(panel, "case_id", json_integer(id));
    json_object_set_new(panel, "payments_allowed", json_boolean(payments_allowed));
    api_reply_json(c, 200, panel);
    return SB_OK;
}

static int get_audit(api_ctx *c) {
    int64_t customer_id, cursor, limit;
    if (api_query_int64(c, "customer_id", 0, INT64_MAX, 0, &customer_id) != SB_OK ||
        api_query_int64(c, "cursor", 0, INT64_MAX, 0, &cursor) != SB_OK ||
        api_query_int64(c, "limit", 1, SB_LISTENING_PAGE_MAX, SB_LISTENING_PAGE_DEFAULT, &limit) != SB_OK)
        return SB_OK;
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    json_t *out = NULL;
    int result = listening_audit_json(l, customer_id, cursor, (size_t)limit, &out);
    listening_close(l);
    return reply_value(c, result, out, 200);
}

/* ---- canned replies ---- */

static int get_canned(api_ctx *c) {
    char lang_buf[8];
    const char *lang;
    if (query_text(c, "lang", lang_buf, sizeof lang_buf, &lang) != SB_OK) return SB_OK;
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    json_t *out = NULL;
    int result = listening_canned_json(l, lang, &out);
    listening_close(l);
    return reply_value(c, result, out, 200);
}

static int post_canned(api_ctx *c) {
    const char *shortcut, *lang, *text;
    int result = api_body_string(c, "shortcut", true, SB_LISTENING_CANNED_SHORTCUT_BYTES_MAX, &shortcut);
    if (result == SB_OK) result = api_body_string(c, "lang", true, 8, &lang);
    if (result == SB_OK) result = api_body_string(c, "text", true, SB_LISTENING_NOTE_BYTES_MAX, &text);
    if (result != SB_OK) return result;
    const char *bad = NULL;
    if (listening_canned_check(text, &bad) != SB_OK) {
        api_reply_json(c, 400,
                       json_pack("{s:{s:s, s:s, s:s}}", "error", "code", "invalid", "field", "text", "message",
                                 "the text uses a variable other than {name}, {case} and {agent}"));
        return SB_OK;
    }
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    int64_t id = 0;
    result = listening_canned_set(l, shortcut, lang, text, actor_of(c), c->now_ms, &id);
    listening_close(l);
    if (result == SB_EINVAL) {
        api_reply_json(c, 400,
                       json_pack("{s:{s:s, s:s, s:s}}", "error", "code", "invalid", "field", "lang", "message",
                                 "lang must be fa, uk, ru or en"));
        return SB_OK;
    }
    if (result == SB_ELIMIT) {
        api_reply_error(c, 409, "limit", "at most %d canned replies", SB_LISTENING_CANNED_MAX);
        return SB_OK;
    }
    if (result != SB_OK) return result;
    api_reply_json(
        c, 201,
        json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)id, "shortcut", shortcut, "lang", lang, "text", text));
    return SB_OK;
}

static int delete_canned(api_ctx *c) {
    int64_t id;
    if (path_id(c, &id) != SB_OK) return SB_OK;
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    int result = listening_canned_delete(l, id);
    listening_close(l);
    if (result != SB_OK) return result;
    api_reply_empty(c, 204);
    return SB_OK;
}

/* ---- the post stream, its export and saved views ---- */

static const char *const stream_fields[] = {"q", "lang", "sentiment", "kind", "topic", "source", "risk", "competitor"};

/* Read the stream's filter from the query string; answers 400 naming the field. */
static int stream_filter_read(api_ctx *c, char bufs[][SB_LISTENING_SEARCH_BYTES_MAX + 1], listening_stream_filter *f,
                              int64_t limit_max, int64_t limit_default) {
    memset(f, 0, sizeof *f);
    const char **slots[] = {&f->q, &f->lang, &f->sentiment, &f->kind, &f->topic, &f->source, &f->risk, &f->competitor};
    for (size_t k = 0; k < SB_ARRAY_LEN(stream_fields); k++) {
        if (query_text(c, stream_fields[k], bufs[k], SB_LISTENING_SEARCH_BYTES_MAX + 1, slots[k]) != SB_OK)
            return SB_EINVAL;
        if (*slots[k] && !**slots[k]) *slots[k] = NULL;
    }
    const char *bad = NULL;
    if (f->sentiment && !listening_label_valid("sentiment", f->sentiment)) bad = "sentiment";
    if (f->kind && !listening_label_valid("kind", f->kind)) bad = "kind";
    if (f->topic && !listening_label_valid("topic", f->topic)) bad = "topic";
    if (f->source && !listening_source_valid(f->source)) bad = "source";
    if (f->risk && !listening_risk_valid(f->risk)) bad = "risk";
    if (bad) {
        api_reply_json(c, 400,
                       json_pack("{s:{s:s, s:s, s:s}}", "error", "code", "invalid", "field", bad, "message",
                                 "this filter value is not one of the listening vocabulary (docs/API.md)"));
        return SB_EINVAL;
    }
    int64_t limit;
    if (api_query_int64(c, "from_ms", 0, INT64_MAX / 2, 0, &f->from_ms) != SB_OK ||
        api_query_int64(c, "to_ms", 0, INT64_MAX / 2, 0, &f->to_ms) != SB_OK ||
        api_query_int64(c, "cursor", 0, INT64_MAX, 0, &f->before_id) != SB_OK ||
        api_query_int64(c, "limit", 1, limit_max, limit_default, &limit) != SB_OK)
        return SB_EINVAL;
    if (f->to_ms && f->to_ms <= f->from_ms) {
        api_reply_json(c, 400,
                       json_pack("{s:{s:s, s:s, s:s}}", "error", "code", "invalid", "field", "to_ms", "message",
                                 "to_ms must be after from_ms"));
        return SB_EINVAL;
    }
    f->limit = (size_t)limit;
    return SB_OK;
}

static int stream_error(api_ctx *c, int result) {
    if (result == SB_ELIMIT) {
        api_reply_json(c, 400,
                       json_pack("{s:{s:s, s:s, s:s}}", "error", "code", "invalid", "field", "q", "message",
                                 "the search is too long: at most 256 bytes and 16 words"));
        return SB_OK;
    }
    if (result == SB_EINVAL) {
        api_reply_json(c, 400,
                       json_pack("{s:{s:s, s:s, s:s}}", "error", "code", "invalid", "field", "q", "message",
                                 "the search is not valid UTF-8 text"));
        return SB_OK;
    }
    return result;
}

static int get_stream(api_ctx *c) {
    char bufs[SB_ARRAY_LEN(stream_fields)][SB_LISTENING_SEARCH_BYTES_MAX + 1];
    listening_stream_filter f;
    if (stream_filter_read(c, bufs, &f, SB_LISTENING_PAGE_MAX, SB_LISTENING_PAGE_DEFAULT) != SB_OK) return SB_OK;
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    json_t *out = NULL;
    int result = listening_stream_json(l, &f, &out);
    listening_close(l);
    if (result != SB_OK) return stream_error(c, result);
    api_reply_json(c, 200, out);
    return SB_OK;
}

static int get_stream_csv(api_ctx *c) {
    char bufs[SB_ARRAY_LEN(stream_fields)][SB_LISTENING_SEARCH_BYTES_MAX + 1];
    listening_stream_filter f;
    if (stream_filter_read(c, bufs, &f, SB_LISTENING_EXPORT_ROWS_MAX, SB_LISTENING_EXPORT_ROWS_MAX) != SB_OK)
        return SB_OK;
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    sb_buf out;
    sb_buf_init(&out, (size_t)SB_LISTENING_EXPORT_ROWS_MAX * (SB_LISTENING_TEXT_BYTES_MAX / 8));
    size_t rows = 0;
    int result = listening_stream_csv(l, &f, &out, &rows);
    listening_close(l);
    if (result == SB_OK) {
        char count[24];
        snprintf(count, sizeof count, "%zu", rows);
        api_set_header(c, "x-rows", count);
        api_set_header(c, "content-disposition", "attachment; filename=\"posts.csv\"");
        api_reply_raw(c, 200, "text/csv; charset=utf-8", out.data ? out.data : "", out.len);
    }
    sb_buf_free(&out);
    return result == SB_OK ? SB_OK : stream_error(c, result);
}

static int get_views(api_ctx *c) {
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    json_t *out = NULL;
    int result = listening_views_json(l, actor_of(c), &out);
    listening_close(l);
    return reply_value(c, result, out, 200);
}

static int post_view(api_ctx *c) {
    const char *name;
    int result = api_body_string(c, "name", true, SB_LISTENING_VIEW_NAME_BYTES_MAX, &name);
    if (result != SB_OK) return result;
    json_t *query = json_object_get(c->body, "query");
    const char *key;
    json_t *value;
    bool ok = json_is_object(query);
    json_object_foreach(ok ? query : NULL, key, value) {
        bool known = strcmp(key, "from_ms") == 0 || strcmp(key, "to_ms") == 0;
        for (size_t k = 0; k < SB_ARRAY_LEN(stream_fields); k++)
            if (strcmp(key, stream_fields[k]) == 0) known = json_is_string(value);
        if (known && (strcmp(key, "from_ms") == 0 || strcmp(key, "to_ms") == 0)) known = json_is_integer(value);
        if (!known) ok = false;
    }
    char *text = ok ? json_dumps(query, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (!ok || !text || strlen(text) > SB_LISTENING_VIEW_QUERY_BYTES_MAX) {
        free(text);
        api_reply_json(c, 400,
                       json_pack("{s:{s:s, s:s, s:s}}", "error", "code", "invalid", "field", "query", "message",
                                 "query must be an object of the stream's filters (q, lang, sentiment, kind, topic, "
                                 "source, risk, competitor as text; from_ms, to_ms as integers)"));
        return SB_OK;
    }
    listening *l;
    if (open_listening(c, &l) != SB_OK) {
        free(text);
        return SB_OK;
    }
    int64_t id = 0;
    result = listening_view_save(l, actor_of(c), name, text, c->now_ms, &id);
    listening_close(l);
    free(text);
    if (result == SB_EEXISTS) {
        api_reply_error(c, 409, "conflict", "you have a view named '%s'", name);
        return SB_OK;
    }
    if (result == SB_ELIMIT) {
        api_reply_error(c, 409, "limit", "at most %d saved views each", SB_LISTENING_VIEWS_PER_OWNER_MAX);
        return SB_OK;
    }
    if (result != SB_OK) return result;
    api_reply_json(c, 201, json_pack("{s:I, s:s, s:O}", "id", (json_int_t)id, "name", name, "query", query));
    return SB_OK;
}

static int delete_view(api_ctx *c) {
    int64_t id;
    if (path_id(c, &id) != SB_OK) return SB_OK;
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    int result = listening_view_delete(l, actor_of(c), id);
    listening_close(l);
    if (result != SB_OK) return result;
    api_reply_empty(c, 204);
    return SB_OK;
}

static int get_dashboard(api_ctx *c) {
    int64_t from_ms, to_ms;
    if (api_query_int64(c, "to_ms", 1, INT64_MAX / 2, c->now_ms + 1, &to_ms) != SB_OK ||
        api_query_int64(c, "from_ms", 0, INT64_MAX / 2, to_ms - 30 * 24 * 3600 * 1000LL, &from_ms) != SB_OK)
        return SB_OK;
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    json_t *out = NULL;
    int result = listening_dashboard_json(l, from_ms, to_ms, c->now_ms, &out);
    listening_close(l);
    if (result == SB_EINVAL || result == SB_ELIMIT) {
        api_reply_error(c, 400, "invalid", "from_ms must be before to_ms and the range at most %lld days",
                        (long long)(SB_LISTENING_STATS_RANGE_MS_MAX / (24 * 3600 * 1000LL)));
        return SB_OK;
    }
    return reply_value(c, result, out, 200);
}

/* ---- live cases: agents' WebSockets hear about new cases ---- */

typedef struct {
    const sb_app *app;
    const char *text;
    size_t len;
} push_arg;

static int push_fn(const identity_principal *p, void *arg) {
    push_arg *a = arg;
    if (a->app->push.text && a->app->push.text(a->app->push.arg, &p->user_id, 1, a->text, a->len) != SB_OK) {
        /* staff without an open WebSocket are skipped */
    }
    return 0;
}

/* After a commit that opened cases: {"type":"listening.cases","opened":N,"joined":M}. */
static void push_cases(api_ctx *c, size_t opened, size_t joined) {
    if (opened == 0 && joined == 0) return;
    char text[96];
    int n = snprintf(text, sizeof text, "{\"type\":\"listening.cases\",\"opened\":%zu,\"joined\":%zu}", opened, joined);
    push_arg a = {c->app, text, (size_t)n};
    int result = staff_each(c->store, ROLES_CASES, push_fn, &a);
    if (result != SB_OK) sb_log(SB_LOG_WARN, "listening.cases_push", "cannot list the staff: %s", sb_strerror(result));
}

/* ---- ingest ---- */

/* X-Api-Key -> the key; answers 401 when missing, malformed or unknown. */
static int ingest_key(api_ctx *c, listening *l, listening_api_key *key) {
    const char *value;
    size_t len;
    char text[2 * SB_TOKEN_BYTES + 1];
    if (api_header_get(c, "x-api-key", &value, &len) != SB_OK) {
        api_set_header(c, "www-authenticate", "ApiKey");
        api_reply_error(c, 401, "unauthorized", "an X-Api-Key header with the source's API key is required");
        return SB_EAUTH;
    }
    int result = SB_EAUTH;
    if (len == 2 * SB_TOKEN_BYTES) {
        memcpy(text, value, len);
        text[len] = '\0';
        result = listening_api_key_check(l, text, c->now_ms, key);
        sodium_memzero(text, sizeof text);
    }
    if (result == SB_EAUTH) {
        api_set_header(c, "www-authenticate", "ApiKey");
        api_reply_error(c, 401, "unauthorized", "the API key is unknown or revoked");
        return result;
    }
    return result;
}

typedef struct {
    size_t index;
    const char *reason;
} ingest_reject;

static int reject_compare(const void *a, const void *b) {
    const ingest_reject *x = a, *y = b;
    return x->index < y->index ? -1 : x->index > y->index;
}

static int post_ingest(api_ctx *c) {
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    listening_api_key key;
    int result = ingest_key(c, l, &key);
    if (result != SB_OK || (result = api_body_parse(c)) != SB_OK) {
        listening_close(l);
        return result == SB_EAUTH || result == SB_EINVAL ? SB_OK : result;
    }
    json_t *posts_json = c->body ? json_object_get(c->body, "posts") : NULL;
    if (!json_is_array(posts_json)) {
        listening_close(l);
        api_reply_error(c, 400, "invalid", "the body must be {\"posts\":[...]} with an array of posts");
        return SB_OK;
    }
    size_t count = json_array_size(posts_json);
    if (count > SB_LISTENING_BATCH_POSTS_MAX) {
        listening_close(l);
        api_reply_error(c, 413, "too_many_posts", "a batch holds at most %d posts (this one has %zu)",
                        SB_LISTENING_BATCH_POSTS_MAX, count);
        return SB_OK;
    }
    listening_post *posts = count ? sb_calloc(count, sizeof *posts) : NULL;
    size_t *index_of = count ? sb_calloc(count, sizeof *index_of) : NULL;
    ingest_reject *rejects = count ? sb_calloc(count, sizeof *rejects) : NULL;
    listening_rejection *found = count ? sb_calloc(count, sizeof *found) : NULL;
    if (count && (!posts || !index_of || !rejects || !found)) {
        result = SB_ENOMEM;
        goto done;
    }
    /* Read every row: bad ones are rejected here, the rest go to ingest. */
    size_t n = 0, rejected = 0;
    for (size_t i = 0; i < count; i++) {
        const char *reason = NULL;
        json_t *record = json_array_get(posts_json, i);
        if (listening_connector_jsonl.from_json(&listening_connector_jsonl, record, &posts[n], &reason) != SB_OK) {
            rejects[rejected++] = (ingest_reject){i, reason ? reason : "bad_record"};
            continue;
        }
        if (!posts[n].source || !listening_source_valid(posts[n].source)) {
            rejects[rejected++] = (ingest_reject){i, posts[n].source ? "unknown_source" : "missing_source"};
            continue;
        }
        if (!listening_api_key_allows(&key, posts[n].source)) {
            rejects[rejected++] = (ingest_reject){i, "source_not_allowed"};
            continue;
        }
        index_of[n++] = i;
    }
    listening_ingest_result r = {.rejections = found, .rejections_cap = count};
    result = listening_ingest(l, posts, n, c->now_ms, &r);
    if (result != SB_OK) goto done;
    size_t ingest_rejected = r.rejected < count ? r.rejected : count;
    for (size_t k = 0; k < ingest_rejected; k++)
        rejects[rejected++] = (ingest_reject){index_of[found[k].index], found[k].reason};
    if (rejected > 1) /* an empty batch has no array at all: qsort(NULL, 0) is undefined */
        qsort(rejects, rejected, sizeof *rejects, reject_compare);
    json_t *list = json_array();
    for (size_t k = 0; list && k < rejected && k < SB_LISTENING_INGEST_REJECTIONS_SHOWN_MAX; k++)
        json_array_append_new(
            list, json_pack("{s:I, s:s}", "index", (json_int_t)rejects[k].index, "reason", rejects[k].reason));
    json_t *answer =
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "received", (json_int_t)count, "accepted",
                  (json_int_t)r.accepted, "duplicates", (json_int_t)r.duplicates, "rejected", (json_int_t)rejected,
                  "not_understood", (json_int_t)r.not_understood, "cases_opened", (json_int_t)r.cases_opened,
                  "cases_joined", (json_int_t)r.cases_joined, "leads", (json_int_t)r.leads, "rejections", list);
    if (!answer) {
        result = SB_ENOMEM;
        goto done;
    }
    char fields[200];
    snprintf(fields, sizeof fields, "{\"key_id\":%lld,\"accepted\":%zu,\"duplicates\":%zu,\"rejected\":%zu}",
             (long long)key.id, r.accepted, r.duplicates, rejected);
    sb_log_fields(SB_LOG_INFO, "listening.ingest", fields, "batch of %zu posts from key '%s'", count, key.name);
    push_cases(c, r.cases_opened, r.cases_joined);
    api_reply_json(c, 200, answer);
done:
    sb_free(posts);
    sb_free(index_of);
    sb_free(rejects);
    sb_free(found);
    listening_close(l);
    return result;
}

/* ---- API keys ---- */

static int get_api_keys(api_ctx *c) {
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    json_t *keys = NULL;
    int result = listening_api_keys_json(l, &keys);
    listening_close(l);
    return reply_value(c, result, json_pack("{s:o}", "keys", keys), 200);
}

static int post_api_key(api_ctx *c) {
    const char *name;
    int result = api_body_string(c, "name", true, SB_LISTENING_API_KEY_NAME_BYTES_MAX, &name);
    if (result != SB_OK) return result;
    json_t *list = json_object_get(c->body, "sources");
    const char *sources[LISTENING_API_KEY_SOURCES_MAX];
    size_t n = json_is_array(list) ? json_array_size(list) : 0;
    if (n == 0 || n > LISTENING_API_KEY_SOURCES_MAX) {
        api_reply_error(c, 400, "invalid", "field 'sources' must be an array of 1 to %d source names",
                        LISTENING_API_KEY_SOURCES_MAX);
        return SB_OK;
    }
    for (size_t i = 0; i < n; i++) {
        sources[i] = json_string_value(json_array_get(list, i));
        if (!sources[i] || !listening_source_valid(sources[i])) {
            api_reply_error(c, 400, "invalid", "sources[%zu] is not a known source", i);
            return SB_OK;
        }
    }
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    char key[2 * SB_TOKEN_BYTES + 1];
    int64_t id;
    result = listening_api_key_create(l, name, sources, n, actor_of(c), c->now_ms, key, &id);
    listening_close(l);
    if (result == SB_EINVAL) {
        api_reply_error(c, 400, "invalid", "the name or the sources are not valid (a source given twice?)");
        return SB_OK;
    }
    if (result != SB_OK) return result;
    json_t *answer = json_pack("{s:I, s:s, s:O, s:s}", "id", (json_int_t)id, "name", name, "sources", list, "key", key);
    sodium_memzero(key, sizeof key);
    api_reply_json(c, 201, answer);
    return SB_OK;
}

static int delete_api_key(api_ctx *c) {
    int64_t id;
    if (path_id(c, &id) != SB_OK) return SB_OK;
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    int result = listening_api_key_revoke(l, id, c->now_ms);
    listening_close(l);
    if (result != SB_OK) return result;
    api_reply_empty(c, 204);
    return SB_OK;
}

/* ---- cases ---- */

static int get_cases(api_ctx *c) {
    char state[16], department[72], priority[16], assignee[SB_USERNAME_BYTES_MAX + 2];
    listening_case_filter f = {0};
    int64_t cursor, limit;
    if (query_text(c, "state", state, sizeof state, &f.state) != SB_OK ||
        query_text(c, "department", department, sizeof department, &f.department) != SB_OK ||
        query_text(c, "priority", priority, sizeof priority, &f.priority) != SB_OK ||
        query_text(c, "assignee", assignee, sizeof assignee, &f.assignee) != SB_OK ||
        api_query_int64(c, "cursor", 0, INT64_MAX, 0, &cursor) != SB_OK ||
        api_query_int64(c, "limit", 1, SB_LISTENING_PAGE_MAX, SB_LISTENING_PAGE_DEFAULT, &limit) != SB_OK)
        return SB_OK;
    f.before_id = cursor;
    f.limit = (size_t)limit;
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    json_t *out = NULL;
    int result = listening_cases_json(l, &f, &out);
    listening_close(l);
    if (result == SB_EINVAL) {
        api_reply_error(c, 400, "invalid",
                        "state must be open|acknowledged|waiting|resolved, priority "
                        "urgent|high|normal|low");
        return SB_OK;
    }
    return reply_value(c, result, out, 200);
}

static int get_case(api_ctx *c) {
    int64_t id;
    if (path_id(c, &id) != SB_OK) return SB_OK;
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    json_t *out = NULL;
    int result = listening_case_json(l, id, &out);
    listening_close(l);
    return reply_value(c, result, out, 200);
}

/* After a change: answer the case as it is now. */
static int reply_case(api_ctx *c, listening *l, int64_t id, int status) {
    json_t *out = NULL;
    int result = listening_case_json(l, id, &out);
    listening_close(l);
    return reply_value(c, result, out, status);
}

static int post_case_state(api_ctx *c) {
    int64_t id;
    const char *state;
    if (path_id(c, &id) != SB_OK) return SB_OK;
    int result = api_body_string(c, "state", true, 16, &state);
    if (result != SB_OK) return result;
    listening_case_state target;
    if (case_state_parse(state, &target) != SB_OK) {
        api_reply_error(c, 400, "invalid", "field 'state' must be open, acknowledged, waiting or resolved");
        return SB_OK;
    }
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    result = listening_case_set_state(l, id, target, actor_of(c), c->now_ms);
    if (result == SB_ECONFLICT) {
        listening_close(l);
        api_reply_error(c, 409, "conflict", "the case is already %s", state);
        return SB_OK;
    }
    if (result != SB_OK) {
        listening_close(l);
        return result;
    }
    return reply_case(c, l, id, 200);
}

static int post_case_assign(api_ctx *c) {
    int64_t id;
    const char *agent;
    if (path_id(c, &id) != SB_OK) return SB_OK;
    int result = api_body_string(c, "agent", true, SB_USERNAME_BYTES_MAX, &agent);
    if (result != SB_OK) return result;
    result = assignee_check(c, agent, "agent");
    if (result != SB_OK) return result == SB_EINVAL ? SB_OK : result;
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    result = listening_case_assign(l, id, agent, actor_of(c), c->now_ms);
    if (result != SB_OK) {
        listening_close(l);
        return result;
    }
    return reply_case(c, l, id, 200);
}

static int post_case_note(api_ctx *c) {
    int64_t id;
    const char *text;
    if (path_id(c, &id) != SB_OK) return SB_OK;
    int result = api_body_string(c, "text", true, SB_LISTENING_NOTE_BYTES_MAX, &text);
    if (result != SB_OK) return result;
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    result = listening_case_note(l, id, actor_of(c), text, c->now_ms);
    if (result != SB_OK) {
        listening_close(l);
        return result;
    }
    return reply_case(c, l, id, 201);
}

/* The name a canned reply greets: the linked customer's, else the handle. */
static void reply_name(api_ctx *c, listening *l, int64_t case_id, char *out, size_t size) {
    int64_t customer_id = 0;
    json_t *panel = NULL;
    out[0] = '\0';
    if (listening_case_customer_json(l, case_id, c->now_ms, &customer_id, &panel) != SB_OK) return;
    identity_principal who;
    if (customer_id > 0 && identity_user_get(c->store, customer_id, &who) == SB_OK && who.display_name[0])
        snprintf(out, size, "%s", who.display_name);
    else
        snprintf(out, size, "%s", json_string_value(json_object_get(panel, "author")));
    json_decref(panel);
}

/* Post a channel reply under its comment as the agent; record the outcome. */
static int reply_on_channel(api_ctx *c, listening *l, int64_t reply_id, const char *text) {
    char channel[16], target[SB_LISTENING_EXTERNAL_ID_BYTES_MAX + 1];
    int result = listening_reply_target(l, reply_id, channel, target);
    if (result != SB_OK || strcmp(channel, "channel") != 0) return result;
    long long chat_id = 0, seq = 0;
    char tail;
    messenger_events events = {0};
    int posted = sscanf(target, "%lld/%lld%c", &chat_id, &seq, &tail) == 2 ? SB_OK : SB_EINVAL;
    if (posted == SB_OK) posted = messenger_channel_subscribe(c->store, c->principal->user_id, c->now_ms, &events);
    if (posted == SB_OK) api_ctx_push(c, &events);
    messenger_events_clear(&events);
    messenger_message m = {0};
    if (posted == SB_OK)
        posted = messenger_channel_comment_reply(c->store, c->principal->user_id, chat_id, seq, text, c->now_ms, &m,
                                                 &events);
    if (posted == SB_OK) api_ctx_push(c, &events);
    messenger_events_clear(&events);
    char detail[64] = "";
    if (posted == SB_OK) snprintf(detail, sizeof detail, "%lld/%lld", (long long)m.chat_id, (long long)m.seq);
    messenger_message_clear(&m);
    return listening_reply_delivery_set(l, reply_id, posted == SB_OK ? "delivered" : "failed", 1, 0,
                                        posted == SB_OK ? detail : sb_strerror(posted), c->now_ms);
}

static int post_case_reply(api_ctx *c) {
    int64_t id;
    const char *text, *canned, *lang;
    if (path_id(c, &id) != SB_OK) return SB_OK;
    int result = api_body_string(c, "text", false, SB_LISTENING_NOTE_BYTES_MAX, &text);
    if (result == SB_OK) result = api_body_string(c, "canned", false, SB_LISTENING_CANNED_SHORTCUT_BYTES_MAX, &canned);
    if (result == SB_OK) result = api_body_string(c, "lang", false, 8, &lang);
    if (result != SB_OK) return result;
    if (!text == !canned || (canned && !lang)) {
        api_reply_error(c, 400, "invalid", "give either field 'text', or fields 'canned' and 'lang'");
        return SB_OK;
    }
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    char *rendered = NULL;
    if (canned) {
        char name[SB_LISTENING_AUTHOR_BYTES_MAX + 1];
        reply_name(c, l, id, name, sizeof name);
        const char *agent_name = c->principal->display_name[0] ? c->principal->display_name : actor_of(c);
        result = listening_canned_render(l, canned, lang, name, id, agent_name, &rendered, NULL);
        if (result == SB_ENOTFOUND) {
            listening_close(l);
            api_reply_json(c, 404,
                           json_pack("{s:{s:s, s:s, s:s}}", "error", "code", "not_found", "field", "canned", "message",
                                     "no canned reply with this shortcut in this language"));
            return SB_OK;
        }
        if (result != SB_OK) {
            listening_close(l);
            return result;
        }
        text = rendered;
    }
    int64_t reply_id;
    result = listening_case_reply(l, id, actor_of(c), text, c->now_ms, &reply_id);
    if (result == SB_OK) result = reply_on_channel(c, l, reply_id, text);
    sb_free(rendered);
    if (result != SB_OK) {
        listening_close(l);
        return result;
    }
    listening_outbound_wake(c->app->outbound);
    return reply_case(c, l, id, 201);
}

/* ---- posts and corrections ---- */

static int get_post(api_ctx *c) {
    int64_t id;
    if (path_id(c, &id) != SB_OK) return SB_OK;
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    json_t *out = NULL;
    int result = listening_post_json(l, id, &out);
    listening_close(l);
    return reply_value(c, result, out, 200);
}

static int post_correction(api_ctx *c) {
    int64_t id;
    const char *head, *label;
    if (path_id(c, &id) != SB_OK) return SB_OK;
    int result = api_body_string(c, "head", true, 16, &head);
    if (result == SB_OK) result = api_body_string(c, "label", true, LISTENING_LABEL_BYTES - 1, &label);
    if (result != SB_OK) return result;
    if (!listening_label_valid(head, label)) {
        api_reply_error(c, 400, "invalid", "'%s' is not a label of head '%s' (heads: sentiment, kind, topic)", label,
                        head);
        return SB_OK;
    }
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    result = listening_correct(l, id, head, label, actor_of(c), c->now_ms);
    json_t *out = NULL;
    if (result == SB_OK) result = listening_post_json(l, id, &out);
    listening_close(l);
    return reply_value(c, result, out, 201);
}

static int get_corrections_export(api_ctx *c) {
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    sb_buf out;
    sb_buf_init(&out, SB_HTTP_INGEST_BODY_BYTES_MAX);
    size_t rows = 0;
    int result = listening_corrections_export(l, &out, &rows);
    listening_close(l);
    if (result == SB_OK) {
        char count[24];
        snprintf(count, sizeof count, "%zu", rows);
        api_set_header(c, "x-rows", count);
        api_reply_raw(c, 200, "application/x-ndjson; charset=utf-8", out.data ? out.data : "", out.len);
    }
    sb_buf_free(&out);
    return result;
}

/* ---- rules ---- */

static int get_rules(api_ctx *c) {
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    sb_buf out;
    sb_buf_init(&out, SB_HTTP_BODY_BYTES_MAX);
    int result = listening_rules_json(l, &out);
    listening_close(l);
    if (result == SB_OK) {
        json_error_t err;
        json_t *rules = json_loadb(out.data, out.len, 0, &err);
        if (rules)
            api_reply_json(c, 200, json_pack("{s:o}", "rules", rules));
        else
            result = SB_EINTERNAL;
    }
    sb_buf_free(&out);
    return result;
}

/* An optional label field: NULL when absent or null. */
static int body_label(api_ctx *c, const char *field, const char **out) {
    return api_body_string(c, field, false, LISTENING_LABEL_BYTES - 1, out);
}

static int post_rule(api_ctx *c) {
    listening_rule rule = {0};
    int64_t min_permille;
    int result = api_body_string(c, "name", true, 64, &rule.name);
    if (result == SB_OK) result = body_label(c, "kind", &rule.kind);
    if (result == SB_OK) result = body_label(c, "sentiment", &rule.sentiment);
    if (result == SB_OK) result = body_label(c, "topic", &rule.topic);
    if (result == SB_OK) result = body_label(c, "risk", &rule.risk);
    if (result == SB_OK) result = body_label(c, "source", &rule.source);
    if (result == SB_OK) result = api_body_string(c, "priority", true, 16, &rule.priority);
    if (result == SB_OK) result = api_body_int64(c, "min_permille", false, 0, 1000, 0, &min_permille);
    if (result != SB_OK) return result;
    rule.min_permille = (int)min_permille;
    json_t *deps = json_object_get(c->body, "departments");
    size_t n = json_is_array(deps) ? json_array_size(deps) : 0;
    if (n == 0 || n > SB_LISTENING_RULE_DEPARTMENTS_MAX) {
        api_reply_error(c, 400, "invalid", "field 'departments' must be an array of 1 to %d department names",
                        SB_LISTENING_RULE_DEPARTMENTS_MAX);
        return SB_OK;
    }
    for (size_t i = 0; i < n; i++) {
        rule.departments[i] = json_string_value(json_array_get(deps, i));
        if (!rule.departments[i]) {
            api_reply_error(c, 400, "invalid", "departments[%zu] must be a string", i);
            return SB_OK;
        }
    }
    rule.department_count = n;
    const char *field = NULL, *allowed = NULL;
    if (rule.kind && !listening_label_valid("kind", rule.kind))
        field = "kind", allowed = "complaint, suggestion, question, praise or other";
    else if (rule.sentiment && !listening_label_valid("sentiment", rule.sentiment))
        field = "sentiment", allowed = "positive, negative or neutral";
    else if (rule.topic && !listening_label_valid("topic", rule.topic))
        field = "topic", allowed = "cards, transfers, fees, loans, call_center, app_online, branch, fraud_security, "
                                   "staff or other";
    else if (rule.risk && !listening_risk_valid(rule.risk))
        field = "risk", allowed = "card_misuse, threat_leave, threat_sue or insolvency_rumour";
    else if (rule.source && !listening_source_valid(rule.source))
        field = "source", allowed = "a known source (twitter, instagram, telegram, ...; docs/API.md)";
    else if (strcmp(rule.priority, "urgent") != 0 && strcmp(rule.priority, "high") != 0 &&
             strcmp(rule.priority, "normal") != 0 && strcmp(rule.priority, "low") != 0)
        field = "priority", allowed = "urgent, high, normal or low";
    if (field) {
        char message[256];
        snprintf(message, sizeof message, "field '%s' must be %s", field, allowed);
        api_reply_json(
            c, 400, json_pack("{s:{s:s, s:s, s:s}}", "error", "code", "invalid", "field", field, "message", message));
        return SB_OK;
    }
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    for (size_t i = 0; i < n; i++) {
        listening_calendar cal;
        int r = listening_calendar_load(l, rule.departments[i], &cal);
        if (r == SB_ENOTFOUND) {
            listening_close(l);
            char name[32], message[160];
            snprintf(name, sizeof name, "departments[%zu]", i);
            snprintf(message, sizeof message, "%s is not a department (GET /api/listening/departments lists them)",
                     name);
            api_reply_json(
                c, 400,
                json_pack("{s:{s:s, s:s, s:s}}", "error", "code", "invalid", "field", name, "message", message));
            return SB_OK;
        }
        if (r != SB_OK) {
            listening_close(l);
            return r;
        }
    }
    int64_t id;
    result = listening_rule_add(l, &rule, c->now_ms, &id);
    listening_close(l);
    if (result == SB_EINVAL) {
        api_reply_error(c, 400, "invalid", "field 'min_permille' or the rule as a whole is not valid");
        return SB_OK;
    }
    if (result == SB_EEXISTS) {
        api_reply_error(c, 409, "conflict", "a rule named '%s' exists", rule.name);
        return SB_OK;
    }
    if (result != SB_OK) return result;
    api_reply_json(c, 201, json_pack("{s:I, s:s}", "id", (json_int_t)id, "name", rule.name));
    return SB_OK;
}

static int patch_rule(api_ctx *c) {
    int64_t id;
    if (path_id(c, &id) != SB_OK) return SB_OK;
    json_t *enabled = c->body ? json_object_get(c->body, "enabled") : NULL;
    if (!json_is_boolean(enabled)) {
        api_reply_error(c, 400, "invalid", "field 'enabled' must be true or false");
        return SB_OK;
    }
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    int result = listening_rule_enable(l, id, json_is_true(enabled), c->now_ms);
    listening_close(l);
    if (result != SB_OK) return result;
    api_reply_json(c, 200, json_pack("{s:I, s:b}", "id", (json_int_t)id, "enabled", json_is_true(enabled)));
    return SB_OK;
}

static int delete_rule(api_ctx *c) {
    int64_t id;
    if (path_id(c, &id) != SB_OK) return SB_OK;
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    int result = listening_rule_delete(l, id);
    listening_close(l);
    if (result != SB_OK) return result;
    api_reply_empty(c, 204);
    return SB_OK;
}

/* ---- departments and agents ---- */

static int get_departments(api_ctx *c) {
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    json_t *out = NULL;
    int result = listening_departments_json(l, &out);
    listening_close(l);
    return reply_value(c, result, json_pack("{s:o}", "departments", out), 200);
}

static int put_department(api_ctx *c) {
    const char *name = api_param(c, "name");
    int64_t offset, reassign;
    int result = api_body_int64(c, "utc_offset_minutes", true, -840, 840, 0, &offset);
    if (result == SB_OK) result = api_body_int64(c, "reassign_after_minutes", true, 1, 60 * 24 * 30, 0, &reassign);
    if (result != SB_OK) return result;
    json_t *hours = json_object_get(c->body, "hours");
    if (!json_is_array(hours) || json_array_size(hours) == 0 ||
        json_array_size(hours) > 7 * SB_LISTENING_PERIODS_PER_DAY_MAX) {
        api_reply_error(c, 400, "invalid",
                        "field 'hours' must be a non-empty array of {weekday, start_minute, "
                        "end_minute}");
        return SB_OK;
    }
    listening_calendar cal;
    memset(&cal, 0, sizeof cal);
    cal.utc_offset_minutes = (int)offset;
    size_t i;
    json_t *h;
    json_array_foreach(hours, i, h) {
        json_t *w = json_object_get(h, "weekday"), *s = json_object_get(h, "start_minute"),
               *e = json_object_get(h, "end_minute");
        if (!json_is_integer(w) || !json_is_integer(s) || !json_is_integer(e) || json_integer_value(w) < 0 ||
            json_integer_value(w) > 6 || json_integer_value(s) < 0 || json_integer_value(e) > 1440 ||
            listening_calendar_add(&cal, (int)json_integer_value(w), (int)json_integer_value(s),
                                   (int)json_integer_value(e)) != SB_OK) {
            api_reply_error(c, 400, "invalid",
                            "hours[%zu] is not a valid period (weekday 0-6, minutes 0-1440, no "
                            "overlap, at most %d a day)",
                            i, SB_LISTENING_PERIODS_PER_DAY_MAX);
            return SB_OK;
        }
    }
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    result = listening_department_set(l, name, &cal, (int)reassign);
    if (result == SB_EINVAL) {
        listening_close(l);
        api_reply_error(c, 400, "invalid", "the department name is not valid");
        return SB_OK;
    }
    json_t *out = NULL;
    if (result == SB_OK) result = listening_departments_json(l, &out);
    listening_close(l);
    return reply_value(c, result, json_pack("{s:o}", "departments", out), 200);
}

static int post_agent(api_ctx *c) {
    const char *department = api_param(c, "name"), *agent;
    int result = api_body_string(c, "agent", true, SB_USERNAME_BYTES_MAX, &agent);
    if (result != SB_OK) return result;
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    result = listening_agent_add(l, department, agent);
    listening_close(l);
    if (result == SB_EINVAL) {
        api_reply_error(c, 400, "invalid", "unknown department or bad agent name");
        return SB_OK;
    }
    if (result != SB_OK) return result;
    api_reply_json(c, 201, json_pack("{s:s, s:s}", "department", department, "agent", agent));
    return SB_OK;
}

static int delete_agent(api_ctx *c) {
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    int result = listening_agent_remove(l, api_param(c, "name"), api_param(c, "agent"));
    listening_close(l);
    if (result != SB_OK) return result;
    api_reply_empty(c, 204);
    return SB_OK;
}

/* ---- reputation ---- */

static int get_stats(api_ctx *c) {
    char granularity[8], dimension[16], value[80];
    const char *g, *d, *v;
    int64_t from_ms, to_ms;
    if (query_text(c, "granularity", granularity, sizeof granularity, &g) != SB_OK ||
        query_text(c, "dimension", dimension, sizeof dimension, &d) != SB_OK ||
        query_text(c, "value", value, sizeof value, &v) != SB_OK ||
        api_query_int64(c, "to_ms", 0, INT64_MAX / 2, c->now_ms, &to_ms) != SB_OK ||
        api_query_int64(c, "from_ms", 0, INT64_MAX / 2, to_ms - 7 * 24 * 3600 * 1000LL, &from_ms) != SB_OK)
        return SB_OK;
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    json_t *rows = NULL;
    int result = listening_stats_json(l, g ? g : "day", d ? d : "all", v, from_ms, to_ms, &rows);
    listening_close(l);
    if (result == SB_EINVAL) {
        api_reply_error(c, 400, "invalid",
                        "granularity must be hour or day, dimension all, source, topic, lang, "
                        "competitor or risk, and from_ms < to_ms");
        return SB_OK;
    }
    if (result == SB_ELIMIT) {
        api_reply_error(c, 400, "invalid", "the range is wider than %lld days",
                        (long long)(SB_LISTENING_STATS_RANGE_MS_MAX / (24 * 3600 * 1000LL)));
        return SB_OK;
    }
    return reply_value(c, result,
                       json_pack("{s:s, s:s, s:I, s:I, s:o}", "granularity", g ? g : "day", "dimension", d ? d : "all",
                                 "from_ms", (json_int_t)from_ms, "to_ms", (json_int_t)to_ms, "buckets", rows),
                       200);
}

static int get_alerts(api_ctx *c) {
    int64_t limit;
    if (api_query_int64(c, "limit", 1, SB_LISTENING_PAGE_MAX, SB_LISTENING_PAGE_DEFAULT, &limit) != SB_OK) return SB_OK;
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    listening_alert *alerts = sb_calloc((size_t)limit, sizeof *alerts);
    size_t n = 0;
    int result = alerts ? listening_alerts_list(l, alerts, (size_t)limit, &n) : SB_ENOMEM;
    listening_close(l);
    json_t *list = json_array();
    for (size_t i = 0; result == SB_OK && list && i < n; i++)
        json_array_append_new(list, listening_alert_to_json(&alerts[i]));
    sb_free(alerts);
    if (result != SB_OK) {
        json_decref(list);
        return result;
    }
    api_reply_json(c, 200, json_pack("{s:o}", "alerts", list));
    return SB_OK;
}

/* A post's id, source, author and (redacted) text for examples; NULL if gone. */
static json_t *example_json(listening *l, int64_t post_id) {
    json_t *p = NULL;
    if (listening_post_json(l, post_id, &p) != SB_OK) return NULL;
    json_t *o =
        json_pack("{s:I, s:O, s:O, s:O}", "post_id", (json_int_t)post_id, "source", json_object_get(p, "source"),
                  "author", json_object_get(p, "author"), "text", json_object_get(p, "text"));
    json_decref(p);
    return o;
}

static int get_suggestions(api_ctx *c) {
    int64_t from_ms, to_ms, min_count, limit;
    if (api_query_int64(c, "to_ms", 1, INT64_MAX / 2, c->now_ms + 1, &to_ms) != SB_OK ||
        api_query_int64(c, "from_ms", 0, INT64_MAX / 2, to_ms - 30 * 24 * 3600 * 1000LL, &from_ms) != SB_OK ||
        api_query_int64(c, "min_count", 1, 1000000, 2, &min_count) != SB_OK ||
        api_query_int64(c, "limit", 1, SB_LISTENING_PAGE_MAX, SB_LISTENING_PAGE_DEFAULT, &limit) != SB_OK)
        return SB_OK;
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    listening_suggestion_group *groups = sb_calloc((size_t)limit, sizeof *groups);
    size_t n = 0;
    int result =
        groups ? listening_suggestions(l, from_ms, to_ms, (size_t)min_count, groups, (size_t)limit, &n) : SB_ENOMEM;
    json_t *list = json_array();
    for (size_t i = 0; result == SB_OK && list && i < n; i++) {
        json_t *examples = json_array();
        for (size_t k = 0; examples && k < groups[i].example_count; k++) {
            json_t *e = example_json(l, groups[i].examples[k]);
            if (e) json_array_append_new(examples, e);
        }
        json_t *langs = json_array();
        for (size_t k = 0; langs && k < groups[i].lang_count; k++)
            json_array_append_new(langs, json_string(groups[i].langs[k]));
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s?, s:o, s:I, s:o}", "kind", groups[i].kind, "topic",
                                              groups[i].topic, "phrase", groups[i].phrase, "concept",
                                              groups[i].concept[0] ? groups[i].concept : NULL, "langs", langs, "count",
                                              (json_int_t)groups[i].count, "examples", examples));
    }
    listening_close(l);
    sb_free(groups);
    if (result == SB_ELIMIT) {
        json_decref(list);
        api_reply_error(c, 400, "invalid", "too many posts in the range: narrow from_ms/to_ms");
        return SB_OK;
    }
    if (result != SB_OK) {
        json_decref(list);
        return result;
    }
    api_reply_json(c, 200, json_pack("{s:o}", "groups", list));
    return SB_OK;
}

static int get_advocates(api_ctx *c) {
    int64_t limit;
    if (api_query_int64(c, "limit", 1, SB_LISTENING_PAGE_MAX, SB_LISTENING_PAGE_DEFAULT, &limit) != SB_OK) return SB_OK;
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    listening_advocate *adv = sb_calloc((size_t)limit, sizeof *adv);
    size_t n = 0;
    int result = adv ? listening_advocates(l, adv, (size_t)limit, &n) : SB_ENOMEM;
    listening_close(l);
    json_t *list = json_array();
    for (size_t i = 0; result == SB_OK && list && i < n; i++)
        json_array_append_new(list, json_pack("{s:s, s:s, s:I, s:I, s:f}", "source", adv[i].source, "author",
                                              adv[i].author, "positive_posts", (json_int_t)adv[i].positive_posts,
                                              "reach", (json_int_t)adv[i].reach, "score", adv[i].score));
    sb_free(adv);
    if (result != SB_OK) {
        json_decref(list);
        return result;
    }
    api_reply_json(c, 200, json_pack("{s:o}", "advocates", list));
    return SB_OK;
}

static int post_thank(api_ctx *c) {
    const char *source, *author, *text;
    int result = api_body_string(c, "source", true, SB_LISTENING_SOURCE_BYTES_MAX, &source);
    if (result == SB_OK) result = api_body_string(c, "author", true, SB_LISTENING_AUTHOR_BYTES_MAX, &author);
    if (result == SB_OK) result = api_body_string(c, "text", true, SB_LISTENING_NOTE_BYTES_MAX, &text);
    if (result != SB_OK) return result;
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    json_t *out = NULL;
    result = listening_advocate_thank(l, source, author, text, actor_of(c), c->now_ms, &out);
    listening_close(l);
    if (result == SB_ENOTFOUND) {
        api_reply_error(c, 404, "not_found", "no post of this author on this source");
        return SB_OK;
    }
    return reply_value(c, result, out, 201);
}

/* ---- consents, leads, erasure ---- */

static int get_consents(api_ctx *c) {
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    json_t *out = NULL;
    int result = listening_consents_json(l, &out);
    listening_close(l);
    return reply_value(c, result, json_pack("{s:o}", "consents", out), 200);
}

static int post_consent(api_ctx *c) {
    int64_t customer_id;
    const char *source, *handle;
    int result = api_body_int64(c, "customer_id", true, 1, INT64_MAX, 0, &customer_id);
    if (result == SB_OK) result = api_body_string(c, "source", true, SB_LISTENING_SOURCE_BYTES_MAX, &source);
    if (result == SB_OK) result = api_body_string(c, "handle", true, SB_LISTENING_AUTHOR_BYTES_MAX, &handle);
    if (result != SB_OK) return result;
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    int64_t id;
    result = listening_consent_add(l, customer_id, source, handle, c->now_ms, &id);
    listening_close(l);
    if (result == SB_EINVAL) {
        api_reply_error(c, 400, "invalid", "unknown source or bad handle");
        return SB_OK;
    }
    if (result != SB_OK) return result;
    api_reply_json(c, 201,
                   json_pack("{s:I, s:I, s:s, s:s}", "id", (json_int_t)id, "customer_id", (json_int_t)customer_id,
                             "source", source, "handle", handle));
    return SB_OK;
}

static int post_consent_withdraw(api_ctx *c) {
    const char *source, *handle;
    int result = api_body_string(c, "source", true, SB_LISTENING_SOURCE_BYTES_MAX, &source);
    if (result == SB_OK) result = api_body_string(c, "handle", true, SB_LISTENING_AUTHOR_BYTES_MAX, &handle);
    if (result != SB_OK) return result;
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    result = listening_consent_withdraw(l, source, handle, c->now_ms);
    listening_close(l);
    if (result == SB_ENOTFOUND) {
        api_reply_error(c, 404, "not_found", "no active consent for this handle");
        return SB_OK;
    }
    if (result != SB_OK) return result;
    api_reply_empty(c, 204);
    return SB_OK;
}

static int get_leads(api_ctx *c) {
    int64_t cursor, limit;
    if (api_query_int64(c, "cursor", 0, INT64_MAX, 0, &cursor) != SB_OK ||
        api_query_int64(c, "limit", 1, SB_LISTENING_PAGE_MAX, SB_LISTENING_PAGE_DEFAULT, &limit) != SB_OK)
        return SB_OK;
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    json_t *out = NULL;
    int result = listening_leads_json(l, cursor, (size_t)limit, &out);
    listening_close(l);
    return reply_value(c, result, out, 200);
}

static int post_erase(api_ctx *c) {
    const char *source, *author;
    int result = api_body_string(c, "source", true, SB_LISTENING_SOURCE_BYTES_MAX, &source);
    if (result == SB_OK) result = api_body_string(c, "author", true, SB_LISTENING_AUTHOR_BYTES_MAX, &author);
    if (result != SB_OK) return result;
    listening *l;
    if (open_listening(c, &l) != SB_OK) return SB_OK;
    listening_erase_result er;
    result = listening_erase_author(l, source, author, &er);
    if (result == SB_OK) {
        char detail[96];
        snprintf(detail, sizeof detail, "%zu posts, %zu cases, %zu consents", er.posts, er.cases, er.consents);
        result = listening_audit_add(l, actor_of(c), "erase", 0, source, author, 0, detail, c->now_ms);
    }
    listening_close(l);
    if (result == SB_EINVAL) {
        api_reply_error(c, 400, "invalid", "source and author are required");
        return SB_OK;
    }
    if (result != SB_OK) return result;
    char fields[160];
    snprintf(fields, sizeof fields, "{\"posts\":%zu,\"cases\":%zu,\"consents\":%zu}", er.posts, er.cases, er.consents);
    sb_log_fields(SB_LOG_INFO, "listening.erase", fields, "an author was erased by %s", actor_of(c));
    api_reply_json(c, 200,
                   json_pack("{s:s, s:s, s:I, s:I, s:I}", "source", source, "author", author, "posts",
                             (json_int_t)er.posts, "cases", (json_int_t)er.cases, "consents", (json_int_t)er.consents));
    return SB_OK;
}

void api_routes_listening(api_router *r) {
    api_router_add(r, "POST", "/api/ingest", API_PUBLIC | API_KEY_AUTH, post_ingest);
    api_router_add(r, "GET", "/api/listening/api-keys", ROLES_ADMIN, get_api_keys);
    api_router_add(r, "POST", "/api/listening/api-keys", ROLES_ADMIN, post_api_key);
    api_router_add(r, "DELETE", "/api/listening/api-keys/:id", ROLES_ADMIN, delete_api_key);

    api_router_add(r, "GET", "/api/listening/cases", ROLES_CASES, get_cases);
    api_router_add(r, "GET", "/api/listening/cases/:id", ROLES_CASES, get_case);
    api_router_add(r, "POST", "/api/listening/cases/:id/state", ROLES_CASES, post_case_state);
    api_router_add(r, "POST", "/api/listening/cases/:id/assign", ROLES_CASES, post_case_assign);
    api_router_add(r, "POST", "/api/listening/cases/:id/notes", ROLES_CASES, post_case_note);
    api_router_add(r, "POST", "/api/listening/cases/:id/replies", ROLES_CASES, post_case_reply);

    api_router_add(r, "GET", "/api/listening/posts/:id", ROLES_CASES | ROLES_INSIGHT, get_post);
    api_router_add(r, "POST", "/api/listening/posts/:id/corrections", ROLES_ANALYSIS, post_correction);
    api_router_add(r, "GET", "/api/listening/corrections/export", ROLES_ANALYSIS, get_corrections_export);

    api_router_add(r, "GET", "/api/listening/rules", ROLES_ANALYSIS, get_rules);
    api_router_add(r, "POST", "/api/listening/rules", ROLES_ADMIN, post_rule);
    api_router_add(r, "PATCH", "/api/listening/rules/:id", ROLES_ADMIN, patch_rule);
    api_router_add(r, "DELETE", "/api/listening/rules/:id", ROLES_ADMIN, delete_rule);
    api_router_add(r, "GET", "/api/listening/departments", ROLES_CASES, get_departments);
    api_router_add(r, "PUT", "/api/listening/departments/:name", ROLES_ADMIN, put_department);
    api_router_add(r, "POST", "/api/listening/departments/:name/agents", ROLES_ADMIN, post_agent);
    api_router_add(r, "DELETE", "/api/listening/departments/:name/agents/:agent", ROLES_ADMIN, delete_agent);

    api_router_add(r, "GET", "/api/listening/stats", ROLES_INSIGHT, get_stats);
    api_router_add(r, "GET", "/api/listening/alerts", ROLES_ANALYSIS, get_alerts);
    api_router_add(r, "GET", "/api/listening/suggestions", ROLES_INSIGHT, get_suggestions);
    api_router_add(r, "GET", "/api/listening/advocates", ROLES_INSIGHT, get_advocates);
    api_router_add(r, "POST", "/api/listening/advocates/thank", ROLES_MARKETING, post_thank);

    api_router_add(r, "GET", "/api/listening/consents", ROLES_CONSENT, get_consents);
    api_router_add(r, "POST", "/api/listening/consents", ROLES_CONSENT, post_consent);
    api_router_add(r, "POST", "/api/listening/consents/withdraw", ROLES_CONSENT, post_consent_withdraw);
    api_router_add(r, "GET", "/api/listening/leads", ROLES_MARKETING, get_leads);
    api_router_add(r, "POST", "/api/listening/erase", ROLES_ADMIN, post_erase);

    api_router_add(r, "GET", "/api/listening/staff", ROLES_CASES, get_staff);
    api_router_add(r, "PUT", "/api/listening/staff/:username/grants", ROLES_ADMIN, put_staff_grants);
    api_router_add(r, "POST", "/api/listening/cases/bulk", ROLES_CASES, post_cases_bulk);
    api_router_add(r, "GET", "/api/listening/cases/:id/customer", ROLES_CASES, get_case_customer);
    api_router_add(r, "GET", "/api/listening/audit", ROLES_ADMIN, get_audit);
    api_router_add(r, "GET", "/api/listening/canned", ROLES_CASES, get_canned);
    api_router_add(r, "POST", "/api/listening/canned", ROLES_ADMIN, post_canned);
    api_router_add(r, "DELETE", "/api/listening/canned/:id", ROLES_ADMIN, delete_canned);
    api_router_add(r, "GET", "/api/listening/stream", ROLES_INSIGHT, get_stream);
    api_router_add(r, "GET", "/api/listening/stream.csv", ROLES_INSIGHT, get_stream_csv);
    api_router_add(r, "GET", "/api/listening/views", ROLES_INSIGHT, get_views);
    api_router_add(r, "POST", "/api/listening/views", ROLES_INSIGHT, post_view);
    api_router_add(r, "DELETE", "/api/listening/views/:id", ROLES_INSIGHT, delete_view);
    api_router_add(r, "GET", "/api/listening/dashboard", ROLES_INSIGHT, get_dashboard);
}
