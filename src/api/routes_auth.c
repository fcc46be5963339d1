/*
 * routes_auth.c - sign-in and the caller's own profile, mapped onto
 * identity.h: phone one-time codes for customers, passwords for staff,
 * bearer-token sessions, /api/me, and the admin's staff list.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "messenger/messenger.h"

/* GET /api/admin/staff reads the list a page at a time. */
#define API_STAFF_PAGE 100

/* USER = {"id","role","phone","username","display_name"} */
static json_t *user_json(const identity_principal *u) {
    const char *role = identity_role_name(u->role);
    return json_pack("{s:I, s:s, s:s?, s:s?, s:s}", "id", (json_int_t)u->user_id, "role", role ? role : "unknown",
                     "phone", u->phone[0] ? u->phone : NULL, "username", u->username[0] ? u->username : NULL,
                     "display_name", u->display_name);
}

/* The caller's own USER: for a customer also "language", "time_zone" (null
 * until chosen) and "discoverable":{"by_phone","by_username"}. */
static int me_json(api_ctx *c, const identity_principal *u, json_t **out) {
    *out = user_json(u);
    if (!*out) return SB_ENOMEM;
    if (u->role != IDENTITY_ROLE_CUSTOMER) return SB_OK;
    identity_prefs prefs;
    bool by_phone = false, by_username = false;
    int result = identity_prefs_get(c->store, u->user_id, &prefs);
    if (result == SB_OK) result = messenger_discoverability_get(c->store, u->user_id, &by_phone, &by_username);
    if (result != SB_OK) {
        json_decref(*out);
        *out = NULL;
        return result;
    }
    json_object_set_new(*out, "language", prefs.language[0] ? json_string(prefs.language) : json_null());
    json_object_set_new(*out, "time_zone", prefs.time_zone[0] ? json_string(prefs.time_zone) : json_null());
    json_object_set_new(*out, "discoverable",
                        json_pack("{s:b, s:b}", "by_phone", by_phone, "by_username", by_username));
    return SB_OK;
}

static void reply_rate_limited(api_ctx *c, const char *what) {
    api_set_header(c, "retry-after", "60");
    api_reply_error(c, 429, "rate_limited", "too many %s; try again later", what);
}

/* Answer 200 {"token","user"[,"created"]} for a fresh session of user_id. */
static int reply_session(api_ctx *c, int64_t user_id, int status, const bool *created) {
    char token[IDENTITY_TOKEN_CHARS + 1];
    identity_principal user;
    int result = identity_session_create(c->store, user_id, c->now_ms, token);
    if (result == SB_OK) result = identity_user_get(c->store, user_id, &user);
    json_t *me = NULL;
    if (result == SB_OK) result = me_json(c, &user, &me);
    if (result != SB_OK) {
        memset(token, 0, sizeof token);
        return result == SB_ENOTFOUND ? SB_EINTERNAL : result;
    }
    json_t *body = json_pack("{s:s, s:o}", "token", token, "user", me);
    if (body && created) json_object_set_new(body, "created", json_boolean(*created));
    memset(token, 0, sizeof token);
    if (!body) return SB_ENOMEM;
    api_reply_json(c, status, body);
    return SB_OK;
}

static int phone_field(api_ctx *c, char phone[SB_PHONE_BYTES]) {
    const char *text;
    int result = api_body_string(c, "phone", true, 64, &text);
    if (result != SB_OK) return result;
    if (sb_phone_normalize(text, phone, NULL) != SB_OK) {
        api_reply_error(c, 400, "invalid", "field 'phone' is not an Iranian or Ukrainian mobile number");
        return SB_EINVAL;
    }
    return SB_OK;
}

static int post_otp_request(api_ctx *c) {
    char phone[SB_PHONE_BYTES], code[SB_OTP_DIGITS + 1];
    int result = phone_field(c, phone);
    if (result != SB_OK) return result;
    result = identity_otp_request(c->store, phone, api_client_addr(c), c->now_ms, code);
    if (result == SB_ERATE) {
        reply_rate_limited(c, "code requests");
        return SB_OK;
    }
    if (result != SB_OK) return result;
    result = identity_sender_enqueue(c->app->otp, phone, code);
    memset(code, 0, sizeof code);
    if (result != SB_OK) {
        sb_log(SB_LOG_ERROR, "otp.enqueue", "cannot queue a code for delivery: %s", sb_strerror(result));
        api_set_header(c, "retry-after", "10");
        api_reply_error(c, 503, "unavailable", "the code sender is busy; try again shortly");
        return SB_OK;
    }
    api_reply_json(c, 202, json_pack("{s:s, s:i}", "phone", phone, "expires_in_s", (int)(SB_OTP_TTL_MS / 1000)));
    return SB_OK;
}

static int post_otp_verify(api_ctx *c) {
    char phone[SB_PHONE_BYTES];
    const char *code;
    int result = phone_field(c, phone);
    if (result == SB_OK) result = api_body_string(c, "code", true, 16, &code);
    if (result != SB_OK) return result;
    int64_t user_id;
    bool created = false;
    result = identity_otp_verify(c->store, phone, code, c->now_ms, &user_id, &created);
    if (result == SB_EAUTH || result == SB_EINVAL || result == SB_ENOTFOUND) {
        api_reply_error(c, 401, "unauthorized", "wrong, expired or used code");
        return SB_OK;
    }
    if (result == SB_ERATE) {
        reply_rate_limited(c, "wrong codes; request a new one");
        return SB_OK;
    }
    if (result != SB_OK) return result;
    return reply_session(c, user_id, 200, &created);
}

/* A staff login runs off the event loop (argon2id costs about 0.1 s and
 * 64 MiB): the fields are copied into a job, the password pool checks the
 * password and opens the session with its own store connection, and the
 * loop only sends the answer.  A full pool answers 503 busy at once.  The
 * same goes for creating a staff user (post_staff). */
typedef struct {
    char username[SB_USERNAME_BYTES_MAX + 1];
    char password[SB_PASSWORD_BYTES_MAX + 1];
    int result;
    char token[IDENTITY_TOKEN_CHARS + 1];
    identity_principal user;
} login_job;

static void login_run(void *data, store *s) {
    login_job *j = data;
    int64_t now_ms = sb_now_ms(), user_id = 0;
    j->result = identity_staff_login(s, j->username, j->password, now_ms, &user_id);
    if (j->result == SB_OK) j->result = identity_session_create(s, user_id, now_ms, j->token);
    if (j->result == SB_OK) {
        j->result = identity_user_get(s, user_id, &j->user);
        if (j->result == SB_ENOTFOUND) j->result = SB_EINTERNAL;
    }
}

static void login_answer(api_ctx *c, void *data) {
    login_job *j = data;
    if (j->result == SB_EAUTH || j->result == SB_EINVAL || j->result == SB_ENOTFOUND) {
        api_reply_error(c, 401, "unauthorized", "wrong username or password");
        return;
    }
    if (j->result == SB_ERATE) {
        reply_rate_limited(c, "failed logins");
        return;
    }
    if (j->result != SB_OK) {
        api_reply_sb_error(c, j->result, NULL);
        return;
    }
    json_t *body = json_pack("{s:s, s:o}", "token", j->token, "user", user_json(&j->user));
    if (!body) {
        api_reply_sb_error(c, SB_ENOMEM, NULL);
        return;
    }
    api_reply_json(c, 200, body);
}

static void login_free(void *data) {
    sodium_memzero(data, sizeof(login_job));
    sb_free(data);
}

static const api_deferred_ops login_ops = {login_run, login_answer, login_free};

static int post_login(api_ctx *c) {
    const char *username, *password;
    int result = api_body_string(c, "username", true, SB_USERNAME_BYTES_MAX, &username);
    if (result == SB_OK) result = api_body_string(c, "password", true, SB_PASSWORD_BYTES_MAX, &password);
    if (result != SB_OK) return result;
    login_job *j = sb_calloc(1, sizeof *j);
    if (!j) return SB_ENOMEM;
    /* both were checked against these sizes above */
    memcpy(j->username, username, strlen(username) + 1);
    memcpy(j->password, password, strlen(password) + 1);
    return api_defer(c, &login_ops, j);
}

static int post_logout(api_ctx *c) {
    int result = identity_session_revoke(c->store, c->token);
    if (result != SB_OK && result != SB_EAUTH) return result;
    /* every WebSocket opened with this token ends now, on any thread */
    api_ws_session_end(api_ctx_server(c), c->principal->user_id, c->principal->session_id);
    api_reply_empty(c, 204);
    return SB_OK;
}

static int get_me(api_ctx *c) {
    identity_principal user;
    int result = identity_user_get(c->store, c->principal->user_id, &user);
    json_t *me = NULL;
    if (result == SB_OK) result = me_json(c, &user, &me);
    if (result != SB_OK) return result;
    api_reply_json(c, 200, me);
    return SB_OK;
}

/* A boolean field of the body: 1/0, or -1 when absent; answers 400 (and returns SB_EINVAL) otherwise. */
static int body_bool(api_ctx *c, const char *field, int *out) {
    json_t *v = c->body ? json_object_get(c->body, field) : NULL;
    *out = v ? json_is_true(v) : -1;
    if (!v || json_is_boolean(v)) return SB_OK;
    api_reply_error(c, 400, "invalid", "field '%s' must be true or false", field);
    return SB_EINVAL;
}

/* 400 naming the field and why: "invalid", "name_empty" or "name_reserved". */
static int reply_name_refused(api_ctx *c, const char *field, identity_name_verdict verdict) {
    const char *code = identity_name_verdict_name(verdict);
    if (verdict == IDENTITY_NAME_EMPTY)
        api_reply_error(c, 400, code, "field '%s' has nothing visible once invisible characters are removed", field);
    else if (verdict == IDENTITY_NAME_RESERVED)
        api_reply_error(c, 400, code, "field '%s' looks like the bank's own name or a staff account's", field);
    else if (strcmp(field, "username") == 0)
        api_reply_error(c, 400, code, "field 'username' must be %d to %d of a-z, 0-9, '.' and '_'",
                        SB_CUSTOMER_USERNAME_BYTES_MIN, SB_CUSTOMER_USERNAME_BYTES_MAX);
    else
        api_reply_error(c, 400, code, "field 'display_name' must be 1 to %d bytes of printable text",
                        SB_DISPLAY_NAME_BYTES_MAX);
    return SB_OK;
}

static int patch_me(api_ctx *c) {
    const char *display_name, *username, *language, *time_zone;
    int by_phone, by_username;
    int result = api_body_string(c, "display_name", false, SB_DISPLAY_NAME_BYTES_MAX, &display_name);
    if (result == SB_OK) result = api_body_string(c, "username", false, SB_CUSTOMER_USERNAME_BYTES_MAX, &username);
    if (result == SB_OK) result = api_body_string(c, "language", false, SB_LANGUAGE_BYTES_MAX, &language);
    if (result == SB_OK) result = api_body_string(c, "time_zone", false, SB_TIME_ZONE_BYTES_MAX, &time_zone);
    if (result != SB_OK) return result;
    if (body_bool(c, "discoverable_by_phone", &by_phone) != SB_OK ||
        body_bool(c, "discoverable_by_username", &by_username) != SB_OK)
        return SB_OK;
    if (!display_name && !username && !language && !time_zone && by_phone < 0 && by_username < 0) {
        api_reply_error(c, 400, "invalid",
                        "give 'display_name', 'username', 'language', 'time_zone', 'discoverable_by_phone' or "
                        "'discoverable_by_username'");
        return SB_OK;
    }
    if (language && identity_language_check(language) != SB_OK) {
        api_reply_error(c, 400, "invalid", "field 'language' must be fa, uk, ru, en or empty");
        return SB_OK;
    }
    if (time_zone && identity_time_zone_check(time_zone) != SB_OK) {
        api_reply_error(c, 400, "invalid", "field 'time_zone' must be an IANA name such as Asia/Tehran, or empty");
        return SB_OK;
    }
    identity_name_verdict verdict = IDENTITY_NAME_OK;
    if (display_name) {
        result = identity_display_name_vet(c->store, display_name, &verdict);
        if (result != SB_OK) return result;
        if (verdict != IDENTITY_NAME_OK) return reply_name_refused(c, "display_name", verdict);
    }
    if (username) {
        result = identity_username_vet(c->store, username, &verdict);
        if (result != SB_OK) return result;
        if (verdict != IDENTITY_NAME_OK) return reply_name_refused(c, "username", verdict);
    }
    if (display_name || username) {
        result = identity_profile_update(c->store, c->principal->user_id, display_name, username);
        if (result == SB_EEXISTS) {
            api_reply_error(c, 409, "conflict", "that username is taken");
            return SB_OK;
        }
        if (result != SB_OK) return result;
    }
    if (language || time_zone) result = identity_prefs_set(c->store, c->principal->user_id, language, time_zone);
    if (result == SB_OK && (by_phone >= 0 || by_username >= 0))
        result = messenger_discoverability_set(c->store, c->principal->user_id, by_phone, by_username);
    if (result != SB_OK) return result;
    return get_me(c);
}

static int get_staff(api_ctx *c) {
    json_t *list = json_array();
    if (!list) return SB_ENOMEM;
    identity_principal *page = sb_malloc(sizeof *page * API_STAFF_PAGE);
    if (!page) {
        json_decref(list);
        return SB_ENOMEM;
    }
    int64_t after = 0;
    int result = SB_OK;
    for (size_t listed = 0; listed < SB_HTTP_STAFF_LIST_MAX;) {
        size_t count = 0;
        result = identity_user_list(c->store, IDENTITY_ROLES_STAFF, after, page, API_STAFF_PAGE, &count);
        if (result != SB_OK) break;
        for (size_t i = 0; i < count; i++)
            json_array_append_new(list, user_json(&page[i]));
        listed += count;
        if (count < API_STAFF_PAGE) break;
        after = page[count - 1].user_id;
    }
    sb_free(page);
    if (result != SB_OK) {
        json_decref(list);
        return result;
    }
    api_reply_json(c, 200, json_pack("{s:o}", "staff", list));
    return SB_OK;
}

/* Creating a staff user hashes the password (argon2id): off the loop too. */
typedef struct {
    char username[SB_USERNAME_BYTES_MAX + 1];
    char password[SB_PASSWORD_BYTES_MAX + 1];
    int role;
    int result;
    identity_principal user;
} staff_job;

static void staff_run(void *data, store *s) {
    staff_job *j = data;
    int64_t user_id = 0;
    j->result = identity_staff_create(s, j->username, j->password, j->role, &user_id);
    if (j->result == SB_OK) j->result = identity_user_get(s, user_id, &j->user);
}

static void staff_answer(api_ctx *c, void *data) {
    staff_job *j = data;
    if (j->result == SB_EEXISTS) {
        api_reply_error(c, 409, "conflict", "that username is taken");
    } else if (j->result == SB_EINVAL) {
        api_reply_error(c, 400, "invalid", "field 'username' must be 1 to %d of a-z, 0-9, '.', '_' and '-'",
                        SB_USERNAME_BYTES_MAX);
    } else if (j->result != SB_OK) {
        api_reply_sb_error(c, j->result, NULL);
    } else {
        api_reply_json(c, 201, user_json(&j->user));
    }
}

static void staff_free(void *data) {
    sodium_memzero(data, sizeof(staff_job));
    sb_free(data);
}

static const api_deferred_ops staff_ops = {staff_run, staff_answer, staff_free};

static int post_staff(api_ctx *c) {
    const char *username, *password, *role_name;
    int result = api_body_string(c, "username", true, SB_USERNAME_BYTES_MAX, &username);
    if (result == SB_OK) result = api_body_string(c, "password", true, SB_PASSWORD_BYTES_MAX, &password);
    if (result == SB_OK) result = api_body_string(c, "role", true, 16, &role_name);
    if (result != SB_OK) return result;
    int role;
    if (identity_role_parse(role_name, &role) != SB_OK || !(role & IDENTITY_ROLES_STAFF)) {
        api_reply_error(c, 400, "invalid", "field 'role' must be admin, agent, analyst or marketer");
        return SB_OK;
    }
    if (strlen(password) < SB_PASSWORD_BYTES_MIN) {
        api_reply_error(c, 400, "invalid", "field 'password' must be at least %d bytes", SB_PASSWORD_BYTES_MIN);
        return SB_OK;
    }
    staff_job *j = sb_calloc(1, sizeof *j);
    if (!j) return SB_ENOMEM;
    /* both were checked against these sizes above */
    memcpy(j->username, username, strlen(username) + 1);
    memcpy(j->password, password, strlen(password) + 1);
    j->role = role;
    return api_defer(c, &staff_ops, j);
}

void api_routes_auth(api_router *r) {
    api_router_add(r, "POST", "/api/auth/otp/request", API_PUBLIC, post_otp_request);
    api_router_add(r, "POST", "/api/auth/otp/verify", API_PUBLIC, post_otp_verify);
    api_router_add(r, "POST", "/api/auth/login", API_PUBLIC, post_login);
    api_router_add(r, "POST", "/api/auth/logout", IDENTITY_ROLES_ANY, post_logout);
    api_router_add(r, "GET", "/api/me", IDENTITY_ROLES_ANY, get_me);
    api_router_add(r, "PATCH", "/api/me", IDENTITY_ROLE_CUSTOMER, patch_me);
    api_router_add(r, "GET", "/api/admin/staff", IDENTITY_ROLE_ADMIN, get_staff);
    api_router_add(r, "POST", "/api/admin/staff", IDENTITY_ROLE_ADMIN, post_staff);
}
