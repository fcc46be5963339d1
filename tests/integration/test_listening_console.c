/*
 * test_listening_console.c - the staff console's server side over real HTTP:
 * ingest times in every form docs/API.md names, assignment only to staff and
 * bulk actions with per-case results, the customer panel and its audit log
 * (payments only with a grant), canned replies with variables, a reply to a
 * comment on the bank's channel posted under that comment, replies to an
 * external network through the webhook connector (retries, then sent; and a
 * failure state), the post stream (full-text search in Persian and
 * Cyrillic, filters, cursor, CSV export, saved views), the dashboard,
 * suggestion groups across languages at the default minimum, and rule
 * errors that name the field.
 *
 * One server for the group, with the outbound connector pointed at a
 * listener in this process whose answers the test scripts (a short backoff
 * so retries take milliseconds; waits are bounds, never speed claims).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "integration/harness.h"
#include "store/store.h"

#define DAY_MS (24LL * 60 * 60 * 1000)
/* How long background work (the outbound sender, the channel feed) may take: a bound. */
#define BACKGROUND_BOUND_MS 30000

static harness_server *srv;
static char admin_token[HARNESS_TOKEN_BYTES], agent_token[HARNESS_TOKEN_BYTES], analyst_token[HARNESS_TOKEN_BYTES],
    marketer_token[HARNESS_TOKEN_BYTES];
static char agent_name[SB_USERNAME_BYTES_MAX + 1], analyst_name[SB_USERNAME_BYTES_MAX + 1];
static char api_key[2 * SB_TOKEN_BYTES + 1];
static int customers;

/* ---- the integration service: answers a scripted status per request ---- */
static struct {
    int fd, port;
    pthread_t thread;
    pthread_mutex_t lock;
    int statuses[16]; /* per request in order; after them, the last one */
    int status_count;
    int requests;
    char last_body[4096];
    volatile int stop;
} svc = {.fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER};

static void svc_serve(int fd) {
    char buf[16384];
    size_t len = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 5000) <= 0) break;
        ssize_t n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (n <= 0) break;
        len += (size_t)n;
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (!end) continue;
        char *cl = strcasestr(buf, "content-length:");
        long want = cl && cl < end ? strtol(cl + 15, NULL, 10) : 0;
        if ((long)(len - (size_t)(end + 4 - buf)) >= want || len == sizeof buf - 1) break;
    }
    pthread_mutex_lock(&svc.lock);
    int k = svc.requests < svc.status_count ? svc.requests : svc.status_count - 1;
    int status = svc.status_count ? svc.statuses[k] : 204;
    svc.requests++;
    char *body = strstr(buf, "\r\n\r\n");
    snprintf(svc.last_body, sizeof svc.last_body, "%s", body ? body + 4 : "");
    pthread_mutex_unlock(&svc.lock);
    char answer[128];
    int n = snprintf(answer, sizeof answer, "HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status);
    if (send(fd, answer, (size_t)n, MSG_NOSIGNAL) < 0) {
        /* the server gave up on this attempt: it retries */
    }
    close(fd);
}

static void *svc_main(void *arg) {
    (void)arg;
    while (!svc.stop) {
        struct pollfd p = {.fd = svc.fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0) continue;
        int fd = accept(svc.fd, NULL, NULL);
        if (fd >= 0) svc_serve(fd);
    }
    return NULL;
}

static void svc_script(const int *statuses, int count) {
    pthread_mutex_lock(&svc.lock);
    memcpy(svc.statuses, statuses, (size_t)count * sizeof *statuses);
    svc.status_count = count;
    svc.requests = 0;
    pthread_mutex_unlock(&svc.lock);
}

static int svc_requests(void) {
    pthread_mutex_lock(&svc.lock);
    int n = svc.requests;
    pthread_mutex_unlock(&svc.lock);
    return n;
}

/* ---- fixtures ---- */

static int group_setup(void **state) {
    (void)state;
    svc.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = 0};
    socklen_t al = sizeof a;
    if (svc.fd < 0 || bind(svc.fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(svc.fd, 8) != 0 ||
        getsockname(svc.fd, (struct sockaddr *)&a, &al) != 0)
        return -1;
    svc.port = ntohs(a.sin_port);
    if (pthread_create(&svc.thread, NULL, svc_main, NULL) != 0) return -1;
    static char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/replies", svc.port);
    static const char *args[5];
    args[0] = "--listening-outbound";
    args[1] = url;
    args[2] = "--listening-outbound-backoff-ms";
    args[3] = "20";
    args[4] = NULL;
    static harness_options opts;
    opts.extra_args = args;
    if (harness_server_up(&opts, &srv) != SB_OK) return -1;
    if (harness_staff_token(srv, "admin", admin_token, NULL) != SB_OK ||
        harness_staff_token(srv, "agent", agent_token, agent_name) != SB_OK ||
        harness_staff_token(srv, "analyst", analyst_token, analyst_name) != SB_OK ||
        harness_staff_token(srv, "marketer", marketer_token, NULL) != SB_OK)
        return -1;
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    int result = harness_server_down(&srv) == SB_OK ? 0 : -1;
    svc.stop = 1;
    pthread_join(svc.thread, NULL);
    close(svc.fd);
    return result;
}

/* ---- helpers ---- */

static json_t *call(const char *method, const char *path, const char *token, json_t *body_take, int want_status) {
    return harness_call_json(srv, method, path, token, body_take, want_status);
}

static void key_once(void) {
    if (api_key[0]) return;
    json_t *k = call(
        "POST", "/api/listening/api-keys", admin_token,
        json_pack("{s:s, s:[s, s, s, s]}", "name", "console", "sources", "twitter", "telegram", "forum", "instagram"),
        201);
    snprintf(api_key, sizeof api_key, "%s", harness_json_str(k, "key"));
    json_decref(k);
}

static json_t *ingest(json_t *posts_take) {
    key_once();
    json_t *body = json_pack("{s:o}", "posts", posts_take);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    char header[128];
    snprintf(header, sizeof header, "X-Api-Key: %s", api_key);
    const char *headers[] = {header, NULL};
    harness_response r;
    assert_int_equal(harness_http_slow(srv->port, "POST", "/api/ingest", NULL, "application/json", text, strlen(text),
                                       headers, HARNESS_HTTP_SLOW_TIMEOUT_MS, &r),
                     SB_OK);
    free(text);
    HARNESS_ASSERT_STATUS(r, 200);
    json_t *out = json_incref(r.json);
    harness_response_free(&r);
    return out;
}

/* The case of the post (source, external id); fails the test if none. */
static int64_t case_of(const char *source, const char *external_id) {
    store *s;
    assert_int_equal(store_open(srv->data_dir, NULL, &s), SB_OK);
    int64_t id = 0;
    int result = store_query_int64(s, &id,
                                   "SELECT cp.case_id FROM listening_case_posts cp JOIN listening_posts p ON p.id = "
                                   "cp.post_id WHERE p.source = ? AND p.external_id = ?",
                                   "tt", source, external_id);
    store_close(s);
    if (result != SB_OK) fail_msg("no case for %s/%s: %s", source, external_id, sb_strerror(result));
    return id;
}

/* A card-misuse complaint (the lexicon's risk: rule 'card misuse' opens a case). */
static int64_t misuse_case(const char *source, const char *external_id, const char *author) {
    int64_t now_s = sb_now_ms() / 1000;
    json_t *res =
        ingest(json_pack("[{s:s, s:s, s:s, s:I, s:s}]", "source", source, "id", external_id, "author", author, "time",
                         (json_int_t)(now_s - 60), "text",
                         "Someone used my card in a shop in Warsaw, I did not make these payments, block it"));
    assert_int_equal(harness_json_int(res, "accepted"), 1);
    json_decref(res);
    return case_of(source, external_id);
}

static const char *error_field(json_t *j) { return harness_json_str(j, "error.field"); }

/* The newest reply of a case answer (borrowed), NULL if none. */
static json_t *last_reply(json_t *case_json) {
    json_t *replies = json_object_get(case_json, "replies");
    size_t n = json_array_size(replies);
    return n ? json_array_get(replies, n - 1) : NULL;
}

/* ---- tests ---- */

/* docs/API.md: "time (RFC 3339 text or epoch seconds/milliseconds)". */
static void test_ingest_times_as_documented(void **state) {
    (void)state;
    int64_t now_ms = sb_now_ms(), s = now_ms / 1000 - 3600;
    json_t *res = ingest(json_pack(
        "[{s:s, s:s, s:s, s:I, s:s}, {s:s, s:s, s:s, s:I, s:s}, {s:s, s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s, s:s},"
        " {s:s, s:s, s:s, s:I, s:s}]",
        "source", "twitter", "id", "t-sec", "author", "@t", "time", (json_int_t)s, "text", "seconds", "source",
        "twitter", "id", "t-ms", "author", "@t", "time", (json_int_t)(s * 1000 + 5), "text", "milliseconds", "source",
        "twitter", "id", "t-3339", "author", "@t", "time", "2026-11-22T09:30:00+03:30", "text", "rfc", "source",
        "twitter", "id", "t-sec-text", "author", "@t", "time", "1795000000", "text", "seconds as text", "source",
        "twitter", "id", "t-old", "author", "@t", "time", (json_int_t)946684799, "text", "1999"));
    assert_int_equal(harness_json_int(res, "accepted"), 4);
    assert_int_equal(harness_json_int(res, "rejected"), 1);
    assert_string_equal(harness_json_str(res, "rejections.0.reason"), "time_too_old");
    assert_int_equal(harness_json_int(res, "rejections.0.index"), 4);
    json_decref(res);
    store *st;
    assert_int_equal(store_open(srv->data_dir, NULL, &st), SB_OK);
    int64_t t = 0;
    assert_int_equal(
        store_query_int64(st, &t, "SELECT posted_at_ms FROM listening_posts WHERE external_id = 't-sec'", ""), SB_OK);
    assert_int_equal(t, s * 1000);
    assert_int_equal(
        store_query_int64(st, &t, "SELECT posted_at_ms FROM listening_posts WHERE external_id = 't-ms'", ""), SB_OK);
    assert_int_equal(t, s * 1000 + 5);
    assert_int_equal(
        store_query_int64(st, &t, "SELECT posted_at_ms FROM listening_posts WHERE external_id = 't-3339'", ""), SB_OK);
    assert_int_equal(t, 1795327200000LL); /* 2026-11-22T09:30+03:30 is 06:00Z */
    store_close(st);
}

static void test_assignment_only_to_staff_and_bulk(void **state) {
    (void)state;
    int64_t a = misuse_case("twitter", "assign-1", "@assign_one");
    int64_t b = misuse_case("twitter", "assign-2", "@assign_two");
    json_t *staff = call("GET", "/api/listening/staff", agent_token, NULL, 200);
    bool listed = false;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(staff, "staff"), i, p) {
        if (strcmp(harness_json_str(p, "username"), agent_name) == 0) listed = true;
        assert_string_not_equal(harness_json_str(p, "username"), analyst_name); /* analysts do not take cases */
    }
    assert_true(listed);
    json_decref(staff);
    char path[96];
    snprintf(path, sizeof path, "/api/listening/cases/%lld/assign", (long long)a);
    json_t *j = call("POST", path, agent_token, json_pack("{s:s}", "agent", "nobody_here"), 400);
    assert_string_equal(harness_json_str(j, "error.code"), "unknown_staff");
    assert_string_equal(error_field(j), "agent");
    json_decref(j);
    j = call("POST", path, agent_token, json_pack("{s:s}", "agent", analyst_name), 400);
    json_decref(j);
    j = call("POST", path, agent_token, json_pack("{s:s}", "agent", agent_name), 200);
    assert_string_equal(harness_json_str(j, "assignee"), agent_name);
    json_decref(j);

    /* bulk: per-case results, an unknown case among them */
    j = call("POST", "/api/listening/cases/bulk", agent_token,
             json_pack("{s:s, s:[I, I, I], s:s}", "action", "state", "ids", (json_int_t)a, (json_int_t)b,
                       (json_int_t)999999, "state", "acknowledged"),
             200);
    assert_int_equal(harness_json_int(j, "done"), 2);
    assert_int_equal(harness_json_int(j, "failed"), 1);
    assert_true(json_is_true(harness_json_path(j, "results.0.ok")));
    assert_string_equal(harness_json_str(j, "results.2.error"), "not_found");
    json_decref(j);
    j = call("POST", "/api/listening/cases/bulk", agent_token,
             json_pack("{s:s, s:[I, I], s:s}", "action", "state", "ids", (json_int_t)a, (json_int_t)b, "state",
                       "acknowledged"),
             200);
    assert_string_equal(harness_json_str(j, "results.0.error"), "conflict"); /* already acknowledged */
    json_decref(j);
    j = call(
        "POST", "/api/listening/cases/bulk", agent_token,
        json_pack("{s:s, s:[I, I], s:s}", "action", "assign", "ids", (json_int_t)a, (json_int_t)b, "agent", "ghost"),
        400);
    assert_string_equal(error_field(j), "agent");
    json_decref(j);
    j = call(
        "POST", "/api/listening/cases/bulk", agent_token,
        json_pack("{s:s, s:[I, I], s:s}", "action", "assign", "ids", (json_int_t)a, (json_int_t)b, "agent", agent_name),
        200);
    assert_int_equal(harness_json_int(j, "done"), 2);
    json_decref(j);
    snprintf(path, sizeof path, "/api/listening/cases/%lld", (long long)b);
    j = call("GET", path, agent_token, NULL, 200);
    assert_string_equal(harness_json_str(j, "assignee"), agent_name);
    assert_string_equal(harness_json_str(j, "state"), "acknowledged");
    json_decref(j);
    j = call("GET", "/api/listening/cases?limit=5", agent_token, NULL, 200);
    assert_non_null(strstr(harness_json_str(j, "cases.0.text"), "Warsaw"));
    json_decref(j);
}

static int64_t audit_count(void) {
    json_t *j = call("GET", "/api/listening/audit?limit=200", admin_token, NULL, 200);
    int64_t n = (int64_t)json_array_size(json_object_get(j, "entries"));
    json_decref(j);
    return n;
}

static void test_customer_panel_audited(void **state) {
    (void)state;
    harness_customer who = harness_customer_next(srv, "0912555", &customers);
    json_t *j = call("PATCH", "/api/me", who.token, json_pack("{s:s}", "display_name", "Sara Ahmadi"), 200);
    json_decref(j);
    j = call("POST", "/api/listening/consents", agent_token,
             json_pack("{s:I, s:s, s:s}", "customer_id", who.id, "source", "twitter", "handle", "@sara_a"), 201);
    json_decref(j);
    int64_t earlier = misuse_case("twitter", "panel-0", "@sara_a");
    j = call("POST", "/api/listening/cases/bulk", agent_token,
             json_pack("{s:s, s:[I], s:s}", "action", "state", "ids", (json_int_t)earlier, "state", "resolved"), 200);
    json_decref(j);
    int64_t id = misuse_case("twitter", "panel-1", "@sara_a");
    assert_true(id != earlier);
    int64_t before = audit_count();
    char path[96];
    snprintf(path, sizeof path, "/api/listening/cases/%lld/customer", (long long)id);
    j = call("GET", path, agent_token, NULL, 200);
    assert_string_equal(harness_json_str(j, "customer.name"), "Sara Ahmadi");
    const char *masked = harness_json_str(j, "customer.phone_masked");
    assert_non_null(strstr(masked, "***"));
    assert_null(strstr(masked, "5550001")); /* the middle digits are hidden */
    assert_true(json_is_true(harness_json_path(j, "consent.active")));
    assert_int_equal(harness_json_int(j, "earlier_cases.0.id"), earlier);
    assert_true(json_array_size(json_object_get(j, "posts")) >= 2);
    assert_null(json_object_get(j, "payments")); /* no grant yet */
    assert_false(json_is_true(json_object_get(j, "payments_allowed")));
    json_decref(j);
    assert_int_equal(audit_count(), before + 1);
    j = call("GET", "/api/listening/audit?limit=1", admin_token, NULL, 200);
    assert_string_equal(harness_json_str(j, "entries.0.actor"), agent_name);
    assert_string_equal(harness_json_str(j, "entries.0.action"), "customer_view");
    assert_int_equal(harness_json_int(j, "entries.0.customer_id"), who.id);
    assert_int_equal(harness_json_int(j, "entries.0.case_id"), id);
    json_decref(j);
    j = call("GET", "/api/listening/audit", agent_token, NULL, 403);
    json_decref(j);

    /* a grant lets the agent see payments (and that view is audited too) */
    snprintf(path, sizeof path, "/api/listening/staff/%s/grants", agent_name);
    j = call("PUT", path, admin_token, json_pack("{s:b}", "payments", 1), 200);
    json_decref(j);
    j = call("PUT", "/api/listening/staff/nobody_here/grants", admin_token, json_pack("{s:b}", "payments", 1), 400);
    json_decref(j);
    snprintf(path, sizeof path, "/api/listening/cases/%lld/customer", (long long)id);
    j = call("GET", path, agent_token, NULL, 200);
    assert_true(json_is_array(json_object_get(j, "payments")));
    json_decref(j);
    assert_int_equal(audit_count(), before + 2);
    j = call("GET", "/api/listening/audit?limit=1", admin_token, NULL, 200);
    assert_non_null(strstr(harness_json_str(j, "entries.0.detail"), "payments"));
    json_decref(j);

    /* withdrawn consent: no customer data */
    j = call("POST", "/api/listening/consents/withdraw", agent_token,
             json_pack("{s:s, s:s}", "source", "twitter", "handle", "@sara_a"), 204);
    json_decref(j);
    j = call("GET", path, agent_token, NULL, 200);
    assert_true(json_is_null(json_object_get(j, "customer")));
    assert_false(json_is_true(harness_json_path(j, "consent.active")));
    json_decref(j);
    assert_int_equal(audit_count(), before + 3);

    /* a canned reply with variables */
    j = call("POST", "/api/listening/canned", admin_token,
             json_pack("{s:s, s:s, s:s}", "shortcut", "x", "lang", "en", "text", "Hi {customer}"), 400);
    assert_string_equal(error_field(j), "text");
    json_decref(j);
    j = call("GET", "/api/listening/canned?lang=fa", agent_token, NULL, 200);
    assert_true(json_array_size(json_object_get(j, "canned")) >= 2);
    json_decref(j);
    snprintf(path, sizeof path, "/api/listening/cases/%lld/replies", (long long)id);
    j = call("POST", path, agent_token, json_pack("{s:s, s:s}", "canned", "thanks", "lang", "en"), 201);
    const char *text = harness_json_str(last_reply(j), "text");
    char want[64];
    snprintf(want, sizeof want, "case %lld", (long long)id);
    assert_non_null(strstr(text, want));
    /* consent withdrawn: the handle, not the name, as a bidi isolate (U+2068 ... U+2069) */
    assert_non_null(strstr(text, "\xE2\x81\xA8@sara_a\xE2\x81\xA9"));
    json_decref(j);
    j = call("POST", path, agent_token, json_pack("{s:s, s:s}", "canned", "nope", "lang", "en"), 404);
    assert_string_equal(error_field(j), "canned");
    json_decref(j);
}

/* The newest reply of a case once its delivery is no longer pending. */
static json_t *reply_settled(int64_t case_id) {
    char path[96];
    snprintf(path, sizeof path, "/api/listening/cases/%lld", (long long)case_id);
    int64_t deadline = harness_now_ms() + BACKGROUND_BOUND_MS;
    for (;;) {
        json_t *j = call("GET", path, agent_token, NULL, 200);
        json_t *last = last_reply(j);
        if (last && strcmp(harness_json_str(last, "delivery"), "pending") != 0) {
            json_incref(last);
            json_decref(j);
            return last;
        }
        json_decref(j);
        if (harness_now_ms() > deadline) fail_msg("the reply of case %lld stayed pending", (long long)case_id);
        harness_sleep_ms(50);
    }
}

static void test_outbound_webhook_retries_then_fails(void **state) {
    (void)state;
    int64_t id = misuse_case("instagram", "out-1", "@insta_user");
    static const int flaky[] = {503, 500, 204};
    svc_script(flaky, 3);
    char path[96];
    snprintf(path, sizeof path, "/api/listening/cases/%lld/replies", (long long)id);
    json_t *j = call("POST", path, agent_token, json_pack("{s:s}", "text", "We are on it, please check your DMs"), 201);
    json_t *last = last_reply(j);
    assert_string_equal(harness_json_str(last, "channel"), "external");
    assert_string_equal(harness_json_str(last, "in_reply_to"), "out-1");
    json_decref(j);
    json_t *r = reply_settled(id);
    assert_string_equal(harness_json_str(r, "delivery"), "sent");
    assert_int_equal(harness_json_int(r, "attempts"), 3);
    json_decref(r);
    assert_int_equal(svc_requests(), 3);
    pthread_mutex_lock(&svc.lock);
    json_error_t err;
    json_t *body = json_loads(svc.last_body, 0, &err);
    pthread_mutex_unlock(&svc.lock);
    assert_non_null(body);
    assert_string_equal(harness_json_str(body, "type"), "listening.reply");
    assert_string_equal(harness_json_str(body, "in_reply_to"), "out-1");
    assert_string_equal(harness_json_str(body, "author"), "@insta_user");
    json_decref(body);

    /* always failing: 'failed' after the attempts, with the last error */
    static const int down[] = {502};
    svc_script(down, 1);
    j = call("POST", path, agent_token, json_pack("{s:s}", "text", "Second try"), 201);
    json_decref(j);
    r = reply_settled(id);
    assert_string_equal(harness_json_str(r, "delivery"), "failed");
    assert_int_equal(harness_json_int(r, "attempts"), 5);
    assert_string_equal(harness_json_str(r, "last_error"), "HTTP 502");
    json_decref(r);
    assert_int_equal(svc_requests(), 5);
    /* a final refusal is not retried */
    static const int refused[] = {422};
    svc_script(refused, 1);
    j = call("POST", path, agent_token, json_pack("{s:s}", "text", "Third"), 201);
    json_decref(j);
    r = reply_settled(id);
    assert_string_equal(harness_json_str(r, "delivery"), "failed");
    assert_int_equal(harness_json_int(r, "attempts"), 1);
    json_decref(r);
    assert_int_equal(svc_requests(), 1);
}

static void test_channel_reply_under_comment(void **state) {
    (void)state;
    harness_customer who = harness_customer_next(srv, "0912666", &customers);
    harness_response r = harness_call(srv, "POST", "/api/channel/subscribe", who.token, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    json_int_t chan = harness_json_int(r.json, "chat_id");
    harness_response_free(&r);
    r = harness_call(srv, "POST", "/api/channel/posts", marketer_token, "{\"text\":\"New cards this week\"}");
    HARNESS_ASSERT_STATUS(r, 201);
    json_int_t post = harness_json_int(r.json, "message.seq");
    harness_response_free(&r);
    char path[128];
    snprintf(path, sizeof path, "/api/channel/posts/%lld/comments", (long long)post);
    r = harness_call(srv, "POST", path, who.token,
                     "{\"text\":\"Someone used my card in a shop, I did not make these payments, block it\"}");
    HARNESS_ASSERT_STATUS(r, 201);
    json_int_t comment = harness_json_int(r.json, "message.seq");
    harness_response_free(&r);
    char external_id[64];
    snprintf(external_id, sizeof external_id, "%lld/%lld", (long long)chan, (long long)comment);
    /* the feed stores the comment and the rules open a case (bounded wait) */
    int64_t id = 0, deadline = harness_now_ms() + BACKGROUND_BOUND_MS;
    for (;;) {
        store *s;
        assert_int_equal(store_open(srv->data_dir, NULL, &s), SB_OK);
        int result =
            store_query_int64(s, &id,
                              "SELECT cp.case_id FROM listening_case_posts cp JOIN listening_posts p ON p.id = "
                              "cp.post_id WHERE p.source = 'own_channel' AND p.external_id = ?",
                              "t", external_id);
        store_close(s);
        if (result == SB_OK) break;
        if (harness_now_ms() > deadline) fail_msg("no case for the channel comment %s", external_id);
        harness_sleep_ms(50);
    }
    snprintf(path, sizeof path, "/api/listening/cases/%lld/replies", (long long)id);
    json_t *j = call("POST", path, agent_token, json_pack("{s:s}", "text", "We blocked it, check your messages"), 201);
    json_t *last = last_reply(j);
    assert_string_equal(harness_json_str(last, "channel"), "channel");
    assert_string_equal(harness_json_str(last, "delivery"), "delivered");
    json_decref(j);
    /* the answer is a comment in the channel replying to the customer's comment */
    store *s;
    assert_int_equal(store_open(srv->data_dir, NULL, &s), SB_OK);
    store_stmt *st;
    assert_int_equal(
        store_query(s, &st,
                    "SELECT kind, reply_to_seq, body FROM msg_messages WHERE chat_id = ? AND reply_to_seq = "
                    "?",
                    "ii", (int64_t)chan, (int64_t)comment),
        SB_OK);
    assert_int_equal(store_step(st), STORE_ROW);
    assert_string_equal(store_col_text(st, 0), "comment");
    assert_string_equal(store_col_text(st, 2), "We blocked it, check your messages");
    store_stmt_done(st);
    int64_t comments = 0;
    assert_int_equal(store_query_int64(s, &comments,
                                       "SELECT comment_count FROM msg_messages WHERE chat_id = ? AND seq = ?", "ii",
                                       (int64_t)chan, (int64_t)post),
                     SB_OK);
    assert_int_equal(comments, 2);
    /* the bank's answer is not a post about the bank */
    int64_t posts = 0;
    assert_int_equal(
        store_query_int64(s, &posts, "SELECT COUNT(*) FROM listening_posts WHERE source = 'own_channel'", ""), SB_OK);
    store_close(s);
    assert_int_equal(posts, 1);
}

static void test_stream_search_filters_export_views(void **state) {
    (void)state;
    int64_t now_s = sb_now_ms() / 1000;
    /* Arabic yeh and kaf typed, Persian ones searched; Cyrillic in any case. */
    json_t *res = ingest(json_pack(
        "[{s:s, s:s, s:s, s:I, s:s}, {s:s, s:s, s:s, s:I, s:s}, {s:s, s:s, s:s, s:I, s:s}, {s:s, s:s, s:s, s:I, s:s}]",
        "source", "telegram", "id", "s-fa", "author", "@fa1", "time", (json_int_t)(now_s - 100), "text",
        "\xd9\x83\xd8\xa7\xd8\xb1\xd9\x85\xd8\xb2\xd8\xaf \xd8\xa7\xd9\x86\xd8\xaa\xd9\x82\xd8\xa7\xd9\x84 "
        "\xd8\xb2\xdb\x8c\xd8\xa7\xd8\xaf \xd8\xb4\xd8\xaf\xd9\x87", /* كارمزد (Arabic kaf) انتقال زیاد شده */
        "source", "telegram", "id", "s-uk", "author", "@uk1", "time", (json_int_t)(now_s - 90), "text",
        "КОМІСІЯ за переказ знову зросла", "source", "forum", "id", "s-ru", "author", "ru1", "time",
        (json_int_t)(now_s - 80), "text", "=HYPERLINK(\"x\") комиссия за перевод", "source", "forum", "id", "s-en",
        "author", "en1", "time", (json_int_t)(now_s - 70), "text", "nothing to see here"));
    assert_int_equal(harness_json_int(res, "accepted"), 4);
    json_decref(res);
    /* Persian kaf typed: finds the post written with the Arabic kaf */
    json_t *j = call("GET", "/api/listening/stream?q=%DA%A9%D8%A7%D8%B1%D9%85%D8%B2%D8%AF", analyst_token, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "posts")), 1);
    assert_string_equal(harness_json_str(j, "posts.0.author"), "@fa1");
    json_decref(j);
    /* lower case finds upper case; a prefix finds the word */
    j = call("GET", "/api/listening/stream?q=%D0%BA%D0%BE%D0%BC%D1%96%D1%81", analyst_token, NULL, 200); /* коміс */
    assert_int_equal(json_array_size(json_object_get(j, "posts")), 1);
    assert_string_equal(harness_json_str(j, "posts.0.author"), "@uk1");
    json_decref(j);
    /* FTS syntax typed is text, not syntax */
    j = call("GET", "/api/listening/stream?q=%22OR%20NEAR(", analyst_token, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "posts")), 0);
    json_decref(j);
    /* filters and the cursor */
    j = call("GET", "/api/listening/stream?source=forum&limit=1", analyst_token, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "posts")), 1);
    assert_string_equal(harness_json_str(j, "posts.0.author"), "en1");
    json_int_t cursor = harness_json_int(j, "next_cursor");
    json_decref(j);
    char path[160];
    snprintf(path, sizeof path, "/api/listening/stream?source=forum&limit=1&cursor=%lld", (long long)cursor);
    j = call("GET", path, analyst_token, NULL, 200);
    assert_string_equal(harness_json_str(j, "posts.0.author"), "ru1");
    json_decref(j);
    j = call("GET", "/api/listening/stream?sentiment=furious", analyst_token, NULL, 400);
    assert_string_equal(error_field(j), "sentiment");
    json_decref(j);
    j = call("GET", "/api/listening/stream?risk=card_misuse&source=twitter", analyst_token, NULL, 200);
    assert_true(json_array_size(json_object_get(j, "posts")) >= 1);
    assert_string_equal(harness_json_str(j, "posts.0.risks.0"), "card_misuse");
    json_decref(j);
    j = call("GET", "/api/listening/stream", agent_token, NULL, 403);
    json_decref(j);
    /* CSV export: the same filter, a formula neutralised */
    harness_response r;
    assert_int_equal(harness_http_get(srv->port, "/api/listening/stream.csv?source=forum", analyst_token, &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_non_null(strstr(r.body, "id,posted_at,source,author,lang,sentiment,kind,topic,risks,competitors,text\r\n"));
    assert_non_null(strstr(r.body, "\"'=HYPERLINK(\"\"x\"\") комиссия за перевод\""));
    assert_non_null(strstr(r.body, "nothing to see here"));
    harness_response_free(&r);
    /* saved views */
    j = call("POST", "/api/listening/views", analyst_token,
             json_pack("{s:s, s:{s:s, s:s}}", "name", "fees", "query", "q", "комиссия", "source", "forum"), 201);
    json_int_t view = harness_json_int(j, "id");
    json_decref(j);
    j = call("POST", "/api/listening/views", analyst_token,
             json_pack("{s:s, s:{s:s}}", "name", "fees", "query", "q", "x"), 409);
    json_decref(j);
    j = call("POST", "/api/listening/views", analyst_token,
             json_pack("{s:s, s:{s:i}}", "name", "bad", "query", "colour", 1), 400);
    assert_string_equal(error_field(j), "query");
    json_decref(j);
    j = call("GET", "/api/listening/views", analyst_token, NULL, 200);
    assert_string_equal(harness_json_str(j, "views.0.query.source"), "forum");
    json_decref(j);
    j = call("GET", "/api/listening/views", marketer_token, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "views")), 0); /* views are their owner's */
    json_decref(j);
    snprintf(path, sizeof path, "/api/listening/views/%lld", (long long)view);
    j = call("DELETE", path, marketer_token, NULL, 404);
    json_decref(j);
    j = call("DELETE", path, analyst_token, NULL, 204);
    json_decref(j);
}

static void test_dashboard_figures(void **state) {
    (void)state;
    json_t *j = call("GET", "/api/listening/dashboard", analyst_token, NULL, 200);
    store *s;
    assert_int_equal(store_open(srv->data_dir, NULL, &s), SB_OK);
    int64_t volume = 0, from = harness_json_int(j, "from_ms"), to = harness_json_int(j, "to_ms");
    assert_int_equal(
        store_query_int64(s, &volume,
                          "SELECT COUNT(*) FROM listening_posts WHERE posted_at_ms >= ? AND posted_at_ms < ?", "ii",
                          from, to),
        SB_OK);
    store_close(s);
    assert_int_equal(harness_json_int(j, "volume"), volume);
    double share = json_real_value(json_object_get(j, "share_negative"));
    assert_true(share >= 0.0 && share <= 1.0);
    double net = json_real_value(json_object_get(j, "net_sentiment"));
    assert_true(net >= -1.0 && net <= 1.0);
    assert_int_equal(harness_json_int(j, "share_of_voice.bank"), volume);
    /* support answered the cases replied to above */
    size_t i;
    json_t *d;
    bool support = false;
    json_array_foreach(json_object_get(j, "departments"), i, d) {
        if (strcmp(harness_json_str(d, "department"), "support") != 0) continue;
        support = true;
        assert_true(harness_json_int(d, "cases") >= 3);
        assert_true(harness_json_int(d, "replied") >= 2);
        assert_true(json_is_integer(json_object_get(d, "first_response_ms_mean")));
    }
    assert_true(support);
    json_int_t open = 0;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(j, "open_cases_by_age"), k, v) open += json_integer_value(v);
    assert_true(open >= 1);
    json_decref(j);
    j = call("GET", "/api/listening/dashboard?from_ms=10&to_ms=5", analyst_token, NULL, 400);
    json_decref(j);
}

static void test_suggestions_across_languages(void **state) {
    (void)state;
    int64_t now_s = sb_now_ms() / 1000;
    json_t *res = ingest(json_pack(
        "[{s:s, s:s, s:s, s:I, s:s}, {s:s, s:s, s:s, s:I, s:s}, {s:s, s:s, s:s, s:I, s:s}, {s:s, s:s, s:s, s:I, s:s}]",
        "source", "telegram", "id", "sg-uk", "author", "@a1", "time", (json_int_t)(now_s - 50), "text",
        "Додайте, будь ласка, темну тему в застосунок", "source", "telegram", "id", "sg-ru", "author", "@a2", "time",
        (json_int_t)(now_s - 40), "text", "Добавьте тёмную тему в приложение, вечером глаза устают", "source",
        "twitter", "id", "sg-en", "author", "@a3", "time", (json_int_t)(now_s - 30), "text",
        "Please add a dark theme to the app", "source", "twitter", "id", "sg-uk2", "author", "@a4", "time",
        (json_int_t)(now_s - 20), "text", "Хотілося б бачити темну тему в додатку"));
    assert_int_equal(harness_json_int(res, "accepted"), 4);
    json_decref(res);
    /* The model's labels decide kind and topic; an analyst settles them. */
    static const char *const ids[] = {"sg-uk", "sg-ru", "sg-en", "sg-uk2"};
    store *s;
    assert_int_equal(store_open(srv->data_dir, NULL, &s), SB_OK);
    for (size_t k = 0; k < 4; k++) {
        int64_t post = 0;
        assert_int_equal(
            store_query_int64(s, &post, "SELECT id FROM listening_posts WHERE external_id = ?", "t", ids[k]), SB_OK);
        char path[96];
        snprintf(path, sizeof path, "/api/listening/posts/%lld/corrections", (long long)post);
        json_t *j =
            call("POST", path, analyst_token, json_pack("{s:s, s:s}", "head", "kind", "label", "suggestion"), 201);
        json_decref(j);
        j = call("POST", path, analyst_token, json_pack("{s:s, s:s}", "head", "topic", "label", "app_online"), 201);
        json_decref(j);
    }
    store_close(s);
    /* the default minimum, the default period */
    json_t *j = call("GET", "/api/listening/suggestions", marketer_token, NULL, 200);
    json_t *groups = json_object_get(j, "groups");
    assert_true(json_array_size(groups) >= 1);
    size_t i;
    json_t *g;
    bool found = false;
    json_array_foreach(groups, i, g) {
        if (strcmp(harness_json_str(g, "concept"), "dark_theme") != 0) continue;
        found = true;
        assert_string_equal(harness_json_str(g, "kind"), "suggestion");
        assert_string_equal(harness_json_str(g, "phrase"), "dark theme");
        assert_int_equal(harness_json_int(g, "count"), 4);
        assert_int_equal(json_array_size(json_object_get(g, "langs")), 3);
        assert_int_equal(json_array_size(json_object_get(g, "examples")), 3);
    }
    if (!found) fail_msg("no dark_theme group in %s", harness_json_text(j));
    json_decref(j);
}

static void test_rule_errors_name_the_field(void **state) {
    (void)state;
    json_t *j = call("POST", "/api/listening/rules", admin_token,
                     json_pack("{s:s, s:s, s:s, s:[s]}", "name", "bad kind", "kind", "rant", "priority", "high",
                               "departments", "support"),
                     400);
    assert_string_equal(error_field(j), "kind");
    assert_non_null(strstr(harness_json_str(j, "error.message"), "complaint"));
    json_decref(j);
    j = call(
        "POST", "/api/listening/rules", admin_token,
        json_pack("{s:s, s:s, s:[s, s]}", "name", "bad dep", "priority", "high", "departments", "support", "nowhere"),
        400);
    assert_string_equal(error_field(j), "departments[1]");
    json_decref(j);
    j = call("POST", "/api/listening/rules", admin_token,
             json_pack("{s:s, s:s, s:[s]}", "name", "bad prio", "priority", "asap", "departments", "support"), 400);
    assert_string_equal(error_field(j), "priority");
    json_decref(j);
    j = call("POST", "/api/listening/rules", admin_token,
             json_pack("{s:s, s:s, s:s, s:[s]}", "name", "bad risk", "risk", "meteor", "priority", "low", "departments",
                       "support"),
             400);
    assert_string_equal(error_field(j), "risk");
    json_decref(j);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ingest_times_as_documented),  cmocka_unit_test(test_assignment_only_to_staff_and_bulk),
        cmocka_unit_test(test_customer_panel_audited),      cmocka_unit_test(test_outbound_webhook_retries_then_fails),
        cmocka_unit_test(test_channel_reply_under_comment), cmocka_unit_test(test_stream_search_filters_export_views),
        cmocka_unit_test(test_dashboard_figures),           cmocka_unit_test(test_suggestions_across_languages),
        cmocka_unit_test(test_rule_errors_name_the_field),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
