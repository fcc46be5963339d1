/*
 * test_listening.c - listening over real HTTP, with the real text engine
 * (the default model the build trains) and serve's own maintenance tick.
 *
 * One server for the group (raw-text storage on, alerts to a webhook
 * listener in this process).  The stream test: an admin replaces the rules
 * through the API and creates a per-source API key; the demo stream
 * (tests/data/listening_stream.jsonl, 100 posts in fa/uk/ru/en) and
 * tests/data/listening_stream_http.jsonl (lexicon-phrased card misuse, a
 * messenger user, life events with and without consent, a threat to sue) are
 * POSTed to /api/ingest with every time shifted so that the rumour burst ends
 * five minutes before the server's clock.  Checked: cases with the rules'
 * departments, redaction, the case workflow and its history, exactly one
 * alert for the burst (pushed to an analyst's WebSocket and received by the
 * webhook), suggestion groups (and a correction that wins in them, in the
 * post and in the export), advocates and thanks, leads only with consent,
 * erasure of an author.  The bad-input test: keys (missing, malformed,
 * unknown, revoked, for another source), malformed JSON, invalid UTF-8, the
 * wrong content type, missing fields, unknown sources, too many posts, the
 * ingest body cap above the other routes' cap, duplicates.
 *
 * The starter model's labels are not perfect: assertions rest on what the
 * system guarantees (lexicon signals, rules on risks, corrections) and on
 * model labels only for unambiguous posts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "integration/harness.h"
#include "listening/listening.h"

#define MINUTE_MS (60LL * 1000)
#define HOUR_MS (60 * MINUTE_MS)
#define DAY_MS (24 * HOUR_MS)
/* The last post of the rumour burst in the demo stream's clock. */
#define BURST_END "2026-11-22T09:34:30Z"
/* Waiting for the maintenance tick (every 10 s) to raise the alert. */
#define ALERT_WAIT_MS 40000

static harness_server *srv;
static char admin_token[HARNESS_TOKEN_BYTES], analyst_token[HARNESS_TOKEN_BYTES], agent_token[HARNESS_TOKEN_BYTES],
    marketer_token[HARNESS_TOKEN_BYTES];
static char analyst_name[SB_USERNAME_BYTES_MAX + 1], agent_name[SB_USERNAME_BYTES_MAX + 1];

/* ---- a webhook listener: accepts POSTs, keeps the bodies, answers 204 ---- */

#define HOOK_BODIES_MAX 16
static struct {
    int fd;
    int port;
    pthread_t thread;
    pthread_mutex_t lock;
    char *bodies[HOOK_BODIES_MAX];
    int count;
    volatile int stop;
} hook = {.fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER};

/* Read one request (headers + Content-Length body, at most 64 KiB). */
static void hook_serve(int fd) {
    char buf[65536];
    size_t len = 0;
    long content_length = -1;
    char *body = NULL;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 5000) <= 0) break;
        ssize_t n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (n <= 0) break;
        len += (size_t)n;
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (!end) continue;
        if (content_length < 0) {
            char *cl = strcasestr(buf, "content-length:");
            content_length = cl && cl < end ? strtol(cl + 15, NULL, 10) : 0;
        }
        size_t have = len - (size_t)(end + 4 - buf);
        if ((long)have >= content_length) {
            body = strndup(end + 4, (size_t)content_length);
            break;
        }
        if (len == sizeof buf - 1) break;
    }
    const char answer[] = "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
    if (send(fd, answer, sizeof answer - 1, MSG_NOSIGNAL) < 0) {
        /* the server gave up: it logs and retries */
    }
    close(fd);
    pthread_mutex_lock(&hook.lock);
    if (body && hook.count < HOOK_BODIES_MAX)
        hook.bodies[hook.count++] = body;
    else
        free(body);
    pthread_mutex_unlock(&hook.lock);
}

static void *hook_main(void *arg) {
    (void)arg;
    while (!hook.stop) {
        struct pollfd p = {.fd = hook.fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0) continue;
        int fd = accept(hook.fd, NULL, NULL);
        if (fd >= 0) hook_serve(fd);
    }
    return NULL;
}

static void hook_start(void) {
    hook.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(hook.fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = 0};
    assert_int_equal(bind(hook.fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(hook.fd, 8), 0);
    socklen_t al = sizeof a;
    assert_int_equal(getsockname(hook.fd, (struct sockaddr *)&a, &al), 0);
    hook.port = ntohs(a.sin_port);
    hook.stop = 0;
    assert_int_equal(pthread_create(&hook.thread, NULL, hook_main, NULL), 0);
}

static void hook_stop(void) {
    hook.stop = 1;
    pthread_join(hook.thread, NULL);
    close(hook.fd);
    for (int i = 0; i < hook.count; i++)
        free(hook.bodies[i]);
    hook.count = 0;
}

/* ---- HTTP helpers ---- */

static json_t *call(const char *method, const char *path, const char *token, json_t *body_take, int want_status) {
    return harness_call_json(srv, method, path, token, body_take, want_status);
}

/* POST /api/ingest with an API key (NULL: no header) and raw bytes. */
static void ingest_raw(const char *key, const char *content_type, const char *body, size_t len, harness_response *r) {
    char header[128];
    snprintf(header, sizeof header, "X-Api-Key: %s", key ? key : "");
    const char *headers[] = {header, NULL};
    assert_int_equal(harness_http_slow(srv->port, "POST", "/api/ingest", NULL, content_type, body, len,
                                       key ? headers : NULL, HARNESS_HTTP_SLOW_TIMEOUT_MS, r),
                     SB_OK);
}

static json_t *ingest(const char *key, json_t *posts_take, int want_status) {
    json_t *body = json_pack("{s:o}", "posts", posts_take);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    harness_response r;
    ingest_raw(key, "application/json", text, strlen(text), &r);
    free(text);
    HARNESS_ASSERT_STATUS(r, want_status);
    json_t *out = json_incref(r.json);
    harness_response_free(&r);
    return out;
}

static const char *jstr(json_t *o, const char *path) {
    json_t *v = harness_json_path(o, path);
    if (!json_is_string(v)) fail_msg("%s is not a string in %s", path, harness_json_text(o));
    return json_string_value(v);
}

static char api_key[2 * SB_TOKEN_BYTES + 1];

static void create_key(const char *name, const char *const *sources, size_t n, char out[2 * SB_TOKEN_BYTES + 1],
                       int64_t *id_out) {
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_string(sources[i]));
    json_t *k = call("POST", "/api/listening/api-keys", admin_token,
                     json_pack("{s:s, s:o}", "name", name, "sources", list), 201);
    snprintf(out, 2 * SB_TOKEN_BYTES + 1, "%s", jstr(k, "key"));
    assert_int_equal(strlen(out), 2 * SB_TOKEN_BYTES);
    if (id_out) *id_out = harness_json_int(k, "id");
    json_decref(k);
}

/* ---- the stream ---- */

typedef struct {
    json_t *records[256];
    size_t count;
} stream;

static void stream_load(stream *st, const char *name) {
    const char *dir = getenv("SB_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/%s", dir ? dir : ".", name);
    FILE *f = fopen(path, "r");
    if (!f) fail_msg("cannot open %s", path);
    char line[8192];
    while (fgets(line, sizeof line, f)) {
        json_error_t err;
        json_t *rec = json_loads(line, 0, &err);
        if (!rec) fail_msg("%s line %zu: %s", name, st->count + 1, err.text);
        assert_true(st->count < SB_ARRAY_LEN(st->records));
        json_object_del(rec, "expect"); /* labels for the unit test; the engine decides here */
        st->records[st->count++] = rec;
    }
    fclose(f);
}

/* Shift each record's time by delta_ms (as epoch milliseconds). */
static void stream_shift(stream *st, int64_t delta_ms) {
    for (size_t i = 0; i < st->count; i++) {
        const char *t = json_string_value(json_object_get(st->records[i], "time"));
        assert_non_null(t);
        int64_t ms;
        assert_int_equal(listening_time_parse(t, strlen(t), &ms), SB_OK);
        json_object_set_new(st->records[i], "time", json_integer(ms + delta_ms));
    }
}

static void stream_free(stream *st) {
    for (size_t i = 0; i < st->count; i++)
        json_decref(st->records[i]);
    st->count = 0;
}

/* Post ids by external id: read once through GET /api/listening/posts/:id
 * over ids 1..max (ids are dense after the stream's ingest). */
static char external_ids[256][40];
static int64_t external_max;

static void post_ids_load(int64_t max_id) {
    assert_true(max_id < (int64_t)SB_ARRAY_LEN(external_ids));
    char path[96];
    for (int64_t id = 1; id <= max_id; id++) {
        snprintf(path, sizeof path, "/api/listening/posts/%lld", (long long)id);
        harness_response r;
        assert_int_equal(harness_http_get(srv->port, path, analyst_token, &r), SB_OK);
        HARNESS_ASSERT_STATUS(r, 200);
        snprintf(external_ids[id], sizeof external_ids[0], "%s", jstr(r.json, "external_id"));
        harness_response_free(&r);
    }
    external_max = max_id;
}

static int64_t post_id_of(const char *external_id, int64_t max_id) {
    (void)max_id;
    for (int64_t id = 1; id <= external_max; id++)
        if (strcmp(external_ids[id], external_id) == 0) return id;
    fail_msg("post %s not found", external_id);
    return 0;
}

static json_t *post_get(int64_t id, int want_status) {
    char path[96];
    snprintf(path, sizeof path, "/api/listening/posts/%lld", (long long)id);
    return call("GET", path, analyst_token, NULL, want_status);
}

static json_t *case_get(int64_t id) {
    char path[96];
    snprintf(path, sizeof path, "/api/listening/cases/%lld", (long long)id);
    return call("GET", path, agent_token, NULL, 200);
}

/* The departments of a case joined with commas ("cards,legal,support"). */
static void case_departments(json_t *c, char *out, size_t size) {
    size_t o = 0;
    out[0] = '\0';
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(c, "departments"), i, d) {
        const char *name = json_string_value(json_object_get(d, "department"));
        if (!name) name = json_string_value(d);
        o += (size_t)snprintf(out + o, size - o, "%s%s", i ? "," : "", name);
    }
}

static bool has_risk(json_t *post, const char *risk) {
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(post, "risks"), i, r) if (strcmp(jstr(r, "name"), risk) == 0) return true;
    return false;
}

/* The suggestion group (kind, topic, phrase) count, 0 if absent. */
static int64_t group_count(json_t *groups, const char *kind, const char *topic, const char *phrase) {
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(groups, "groups"), i, g) {
        if (strcmp(jstr(g, "kind"), kind) == 0 && strcmp(jstr(g, "topic"), topic) == 0 &&
            strcmp(jstr(g, "phrase"), phrase) == 0)
            return harness_json_int(g, "count");
    }
    return 0;
}

static int64_t stats_posts(int64_t from_ms, int64_t to_ms) {
    char path[200];
    snprintf(path, sizeof path, "/api/listening/stats?granularity=day&dimension=all&from_ms=%lld&to_ms=%lld",
             (long long)from_ms, (long long)to_ms);
    json_t *s = call("GET", path, analyst_token, NULL, 200);
    int64_t total = 0;
    size_t i;
    json_t *b;
    json_array_foreach(json_object_get(s, "buckets"), i, b) total += harness_json_int(b, "posts");
    json_decref(s);
    return total;
}

/* ---- setup ---- */

static int group_setup(void **state) {
    (void)state;
    hook_start();
    static char url[64], key_env[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/alerts", hook.port);
    /* raw text sealed at rest with a key from the environment */
    snprintf(key_env, sizeof key_env, "SOCIALBANK_LISTENING_KEY=%s",
             "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    static const char *args[4];
    args[0] = "--listening-webhook";
    args[1] = url;
    args[2] = "--listening-store-raw";
    args[3] = NULL;
    static const char *env[2];
    env[0] = key_env;
    env[1] = NULL;
    static harness_options opts;
    opts.extra_args = args;
    opts.env = env;
    if (harness_server_up(&opts, &srv) != SB_OK) return -1;
    if (harness_staff_token(srv, "admin", admin_token, NULL) != SB_OK ||
        harness_staff_token(srv, "analyst", analyst_token, analyst_name) != SB_OK ||
        harness_staff_token(srv, "agent", agent_token, agent_name) != SB_OK ||
        harness_staff_token(srv, "marketer", marketer_token, NULL) != SB_OK)
        return -1;
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    int status = -1;
    int result = harness_server_stop(srv, &status);
    harness_server_free(srv);
    hook_stop();
    return result == SB_OK && status == 0 ? 0 : -1;
}

/* ---- the stream, end to end ---- */

static void test_stream(void **state) {
    (void)state;
    json_t *j;
    /* The model was found and is in use. */
    assert_int_equal(harness_log_find(srv, 0, "listening.model", NULL, NULL, NULL, NULL), SB_OK);

    /* Rules through the admin API: replace the defaults. */
    json_t *rules = call("GET", "/api/listening/rules", analyst_token, NULL, 200);
    size_t i;
    json_t *rule;
    json_array_foreach(json_object_get(rules, "rules"), i, rule) {
        char path[80];
        snprintf(path, sizeof path, "/api/listening/rules/%lld", (long long)harness_json_int(rule, "id"));
        json_decref(call("DELETE", path, admin_token, NULL, 204));
    }
    json_decref(rules);
    json_decref(call("POST", "/api/listening/rules", admin_token,
                     json_pack("{s:s, s:s, s:s, s:[s,s,s]}", "name", "card misuse", "risk", "card_misuse", "priority",
                               "urgent", "departments", "support", "cards", "legal"),
                     201));
    json_decref(call("POST", "/api/listening/rules", admin_token,
                     json_pack("{s:s, s:s, s:s, s:[s,s]}", "name", "insolvency rumour", "risk", "insolvency_rumour",
                               "priority", "urgent", "departments", "pr", "risk"),
                     201));
    json_decref(call("POST", "/api/listening/rules", admin_token,
                     json_pack("{s:s, s:s, s:s, s:[s]}", "name", "threat to sue", "risk", "threat_sue", "priority",
                               "high", "departments", "legal"),
                     201));
    /* a rule with an unknown risk or department is refused; a name twice is a conflict */
    j = call("POST", "/api/listening/rules", admin_token,
             json_pack("{s:s, s:s, s:s, s:[s]}", "name", "bad", "risk", "alien_invasion", "priority", "high",
                       "departments", "legal"),
             400);
    json_decref(j);
    j = call("POST", "/api/listening/rules", admin_token,
             json_pack("{s:s, s:s, s:s, s:[s]}", "name", "threat to sue", "risk", "threat_sue", "priority", "high",
                       "departments", "legal"),
             409);
    json_decref(j);
    rules = call("GET", "/api/listening/rules", admin_token, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(rules, "rules")), 3);
    json_decref(rules);

    /* A consent before the posts: user:7001's life events may become leads. */
    json_decref(call("POST", "/api/listening/consents", agent_token,
                     json_pack("{s:i, s:s, s:s}", "customer_id", 7001, "source", "own_channel", "handle", "user:7001"),
                     201));

    /* An analyst watches the WebSocket for alerts. */
    harness_ws *ws;
    assert_int_equal(harness_ws_open(srv->port, analyst_token, &ws, NULL), SB_OK);

    /* The API key for every source of the stream. */
    static const char *const sources[] = {"twitter",     "telegram",    "forum",    "app_store",
                                          "instagram",   "google_play", "facebook", "vk",
                                          "own_channel", "linkedin",    "messenger"};
    create_key("stream", sources, SB_ARRAY_LEN(sources), api_key, NULL);

    /* Shift the clock: the burst ends five minutes before now. */
    int64_t burst_end;
    assert_int_equal(listening_time_parse(BURST_END, strlen(BURST_END), &burst_end), SB_OK);
    int64_t now_ms = sb_now_ms();
    int64_t delta = now_ms - 5 * MINUTE_MS - burst_end;
    stream demo = {0}, extra = {0};
    stream_load(&demo, "listening_stream.jsonl");
    stream_load(&extra, "listening_stream_http.jsonl");
    assert_int_equal(demo.count, 100);
    stream_shift(&demo, delta);
    stream_shift(&extra, delta);
    /* The messenger post (http-005) is a real customer's, watching their WebSocket. */
    char customer_token[HARNESS_TOKEN_BYTES], customer_author[48];
    json_t *customer;
    assert_int_equal(harness_customer_login(srv, "09124449001", customer_token, &customer), SB_OK);
    snprintf(customer_author, sizeof customer_author, "user:%lld", (long long)harness_json_int(customer, "id"));
    json_decref(customer);
    for (size_t k = 0; k < extra.count; k++)
        if (strcmp(json_string_value(json_object_get(extra.records[k], "id")), "http-005") == 0)
            json_object_set_new(extra.records[k], "author", json_string(customer_author));
    harness_ws *customer_ws;
    assert_int_equal(harness_ws_open(srv->port, customer_token, &customer_ws, NULL), SB_OK);

    /* Two batches of the demo stream, then the extra posts. */
    size_t accepted = 0;
    for (size_t from = 0; from < demo.count; from += 50) {
        json_t *batch = json_array();
        for (size_t k = from; k < from + 50 && k < demo.count; k++)
            json_array_append(batch, demo.records[k]);
        json_t *res = ingest(api_key, batch, 200);
        assert_int_equal(harness_json_int(res, "rejected"), 0);
        assert_int_equal(harness_json_int(res, "not_understood"), 0);
        accepted += (size_t)harness_json_int(res, "accepted");
        json_decref(res);
    }
    assert_int_equal(accepted, 100);
    json_t *batch = json_array();
    for (size_t k = 0; k < extra.count; k++)
        json_array_append(batch, extra.records[k]);
    json_t *res = ingest(api_key, batch, 200);
    assert_int_equal(harness_json_int(res, "accepted"), (int64_t)extra.count);
    assert_int_equal(harness_json_int(res, "leads"), 1);
    json_decref(res);
    /* the same batch again merges, never doubles */
    batch = json_array();
    for (size_t k = 0; k < extra.count; k++)
        json_array_append(batch, extra.records[k]);
    res = ingest(api_key, batch, 200);
    assert_int_equal(harness_json_int(res, "accepted"), 0);
    assert_int_equal(harness_json_int(res, "duplicates"), (int64_t)extra.count);
    json_decref(res);
    int64_t max_id = 100 + (int64_t)extra.count;
    post_ids_load(max_id);

    /* Card misuse (lexicon-exact in the four languages): urgent cases for
     * support, cards and legal together; the card number is redacted. */
    static const char *const misuse[] = {"http-001", "http-002", "http-003", "http-004"};
    for (size_t k = 0; k < SB_ARRAY_LEN(misuse); k++) {
        json_t *p = post_get(post_id_of(misuse[k], max_id), 200);
        if (!has_risk(p, "card_misuse")) fail_msg("%s: no card_misuse in %s", misuse[k], harness_json_text(p));
        json_t *c = case_get(harness_json_int(p, "case_id"));
        char deps[128];
        case_departments(c, deps, sizeof deps);
        assert_string_equal(deps, "cards,legal,support");
        assert_string_equal(jstr(c, "priority"), "urgent");
        if (k == 0) {
            assert_non_null(strstr(jstr(p, "text"), "[card]"));
            assert_null(strstr(jstr(p, "text"), "4111"));
        }
        json_decref(c);
        json_decref(p);
    }
    /* The threat to sue goes to legal. */
    json_t *p = post_get(post_id_of("http-008", max_id), 200);
    assert_true(has_risk(p, "threat_sue"));
    json_t *c = case_get(harness_json_int(p, "case_id"));
    char deps[128];
    case_departments(c, deps, sizeof deps);
    assert_string_equal(deps, "legal");
    assert_string_equal(jstr(c, "priority"), "high");
    json_decref(c);
    json_decref(p);

    /* The case list filters by department and state; cursor paging. */
    json_t *list = call("GET", "/api/listening/cases?department=cards&state=open&limit=2", agent_token, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(list, "cases")), 2);
    int64_t cursor = harness_json_int(list, "next_cursor");
    json_decref(list);
    char path[256];
    snprintf(path, sizeof path, "/api/listening/cases?department=cards&state=open&limit=2&cursor=%lld",
             (long long)cursor);
    list = call("GET", path, agent_token, NULL, 200);
    size_t second_page = json_array_size(json_object_get(list, "cases"));
    json_decref(list);
    list = call("GET", "/api/listening/cases?department=cards&state=open&limit=200", agent_token, NULL, 200);
    size_t cards_cases = json_array_size(json_object_get(list, "cases"));
    assert_true(cards_cases >= 4);
    assert_int_equal(second_page, cards_cases - 2 < 2 ? cards_cases - 2 : 2);
    /* every listed case is routed to cards */
    json_array_foreach(json_object_get(list, "cases"), i, c) {
        case_departments(c, deps, sizeof deps);
        assert_non_null(strstr(deps, "cards"));
    }
    json_decref(list);
    j = call("GET", "/api/listening/cases?state=bogus", agent_token, NULL, 400);
    json_decref(j);

    /* Work a case: assign, note, reply (external: recorded to post), resolve. */
    p = post_get(post_id_of("http-003", max_id), 200);
    int64_t case_id = harness_json_int(p, "case_id");
    json_decref(p);
    snprintf(path, sizeof path, "/api/listening/cases/%lld/assign", (long long)case_id);
    j = call("POST", path, admin_token, json_pack("{s:s}", "agent", agent_name), 200);
    assert_string_equal(jstr(j, "assignee"), agent_name);
    json_decref(j);
    snprintf(path, sizeof path, "/api/listening/cases/%lld/notes", (long long)case_id);
    j = call("POST", path, agent_token, json_pack("{s:s}", "text", "called the customer, card blocked"), 201);
    json_decref(j);
    snprintf(path, sizeof path, "/api/listening/cases/%lld/replies", (long long)case_id);
    j = call("POST", path, agent_token, json_pack("{s:s}", "text", "Мы заблокировали карту, напишите нам в чат"), 201);
    assert_string_equal(jstr(j, "replies.0.delivery"), "to_post");
    assert_string_equal(jstr(j, "replies.0.channel"), "external");
    json_decref(j);
    snprintf(path, sizeof path, "/api/listening/cases/%lld/state", (long long)case_id);
    j = call("POST", path, agent_token, json_pack("{s:s}", "state", "resolved"), 200);
    assert_string_equal(jstr(j, "state"), "resolved");
    json_t *history = json_object_get(j, "history");
    const char *types[] = {"opened", "assigned", "note", "reply", "state"};
    assert_int_equal(json_array_size(history), SB_ARRAY_LEN(types));
    for (size_t k = 0; k < SB_ARRAY_LEN(types); k++)
        assert_string_equal(jstr(json_array_get(history, k), "type"), types[k]);
    assert_string_equal(jstr(json_array_get(history, 2), "actor"), agent_name);
    /* resolved: every department's clock stopped */
    json_array_foreach(json_object_get(j, "departments"), i, c)
        assert_true(json_is_null(json_object_get(c, "clock_started_ms")));
    json_decref(j);
    j = call("POST", path, agent_token, json_pack("{s:s}", "state", "resolved"), 409);
    json_decref(j);
    /* a messenger user's reply goes through the messenger's hook (the bank's
     * bot) into the customer's chat */
    p = post_get(post_id_of("http-005", max_id), 200);
    snprintf(path, sizeof path, "/api/listening/cases/%lld/replies", (long long)harness_json_int(p, "case_id"));
    json_decref(p);
    j = call("POST", path, agent_token, json_pack("{s:s}", "text", "We blocked your card"), 201);
    assert_string_equal(jstr(j, "replies.0.channel"), "messenger");
    assert_string_equal(jstr(j, "replies.0.delivery"), "delivered");
    json_decref(j);
    bool got = false;
    for (int k = 0; k < 10 && !got; k++) {
        json_t *ev = NULL;
        assert_int_equal(harness_ws_expect_type(customer_ws, "message.new", HARNESS_HTTP_TIMEOUT_MS, &ev), SB_OK);
        const char *text = json_string_value(harness_json_path(ev, "message.text"));
        got = text && strstr(text, "We blocked your card") != NULL;
        json_decref(ev);
    }
    assert_true(got);

    /* Leads only with consent: user:7001's new child, nothing for user:7002. */
    j = call("GET", "/api/listening/leads", marketer_token, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "leads")), 1);
    assert_string_equal(jstr(j, "leads.0.author"), "user:7001");
    assert_string_equal(jstr(j, "leads.0.life_event"), "new_child");
    assert_string_equal(jstr(j, "leads.0.offer"), "child_savings");
    assert_int_equal(harness_json_int(j, "leads.0.customer_id"), 7001);
    json_decref(j);
    p = post_get(post_id_of("http-007", max_id), 200);
    assert_int_equal(json_array_size(json_object_get(p, "life_events")), 0);
    json_decref(p);

    /* Exactly one alert for the burst, pushed to the analyst's WebSocket and
     * received by the webhook. */
    json_t *pushed;
    assert_int_equal(harness_ws_expect_type(ws, "listening.alert", ALERT_WAIT_MS, &pushed), SB_OK);
    assert_string_equal(jstr(pushed, "alert.metric"), "risk:insolvency_rumour");
    assert_true(harness_json_int(pushed, "alert.observed") >= 10);
    assert_true(json_real_value(harness_json_path(pushed, "alert.p_value")) <
                json_real_value(harness_json_path(pushed, "alert.p_threshold")));
    int64_t alert_id = harness_json_int(pushed, "alert.id");
    json_decref(pushed);
    int64_t waited = 0;
    for (;;) {
        pthread_mutex_lock(&hook.lock);
        int n = hook.count;
        pthread_mutex_unlock(&hook.lock);
        if (n > 0 || waited > 15000) break;
        harness_sleep_ms(100);
        waited += 100;
    }
    pthread_mutex_lock(&hook.lock);
    assert_int_equal(hook.count, 1);
    json_error_t err;
    json_t *hooked = json_loads(hook.bodies[0], 0, &err);
    pthread_mutex_unlock(&hook.lock);
    assert_non_null(hooked);
    assert_string_equal(jstr(hooked, "type"), "listening.alert");
    assert_int_equal(harness_json_int(hooked, "alert.id"), alert_id);
    json_decref(hooked);
    j = call("GET", "/api/listening/alerts", analyst_token, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "alerts")), 1);
    assert_string_equal(jstr(j, "alerts.0.metric"), "risk:insolvency_rumour");
    assert_int_equal(harness_json_int(j, "alerts.0.baseline_hours"), 24);
    json_decref(j);
    j = call("GET", "/api/listening/alerts", marketer_token, NULL, 403);
    json_decref(j);
    harness_ws_free(ws);

    /* Suggestions group by topic and idea across languages: the dark theme
     * asked for in Ukrainian (two) and Russian (one) is one group. */
    int64_t from = now_ms - 3 * DAY_MS, to = now_ms + DAY_MS;
    snprintf(path, sizeof path, "/api/listening/suggestions?from_ms=%lld&to_ms=%lld&min_count=2", (long long)from,
             (long long)to);
    json_t *groups = call("GET", path, marketer_token, NULL, 200);
    assert_int_equal(group_count(groups, "suggestion", "app_online", "dark theme"), 3);
    int64_t phone_menu_before = group_count(groups, "complaint", "call_center", "phone menu");
    json_decref(groups);
    assert_true(phone_menu_before < 3);

    /* A correction wins: the three English phone-menu posts, corrected to
     * complaints about the call centre, join the phone-menu group. */
    static const char *const menu[] = {"demo-006", "demo-010", "demo-040"};
    for (size_t k = 0; k < SB_ARRAY_LEN(menu); k++) {
        int64_t id = post_id_of(menu[k], max_id);
        snprintf(path, sizeof path, "/api/listening/posts/%lld/corrections", (long long)id);
        j = call("POST", path, analyst_token, json_pack("{s:s, s:s}", "head", "kind", "label", "complaint"), 201);
        json_decref(j);
        j = call("POST", path, analyst_token, json_pack("{s:s, s:s}", "head", "topic", "label", "call_center"), 201);
        json_decref(j);
        j = call("POST", path, analyst_token, json_pack("{s:s, s:s}", "head", "sentiment", "label", "negative"), 201);
        assert_string_equal(jstr(j, "labels.kind"), "complaint");
        assert_int_equal(harness_json_int(j, "labels.kind_permille"), 1000);
        assert_string_equal(jstr(j, "labels.sentiment"), "negative");
        assert_string_equal(jstr(j, "corrections.0.corrected_by"), analyst_name);
        json_decref(j);
    }
    /* bad corrections and roles */
    snprintf(path, sizeof path, "/api/listening/posts/%lld/corrections", (long long)post_id_of("demo-006", max_id));
    j = call("POST", path, analyst_token, json_pack("{s:s, s:s}", "head", "kind", "label", "rant"), 400);
    json_decref(j);
    j = call("POST", path, agent_token, json_pack("{s:s, s:s}", "head", "kind", "label", "complaint"), 403);
    json_decref(j);
    j = call("POST", "/api/listening/posts/999999/corrections", analyst_token,
             json_pack("{s:s, s:s}", "head", "kind", "label", "complaint"), 404);
    json_decref(j);
    snprintf(path, sizeof path, "/api/listening/suggestions?from_ms=%lld&to_ms=%lld&min_count=2", (long long)from,
             (long long)to);
    groups = call("GET", path, marketer_token, NULL, 200);
    /* the three English posts join the Russian one in the phone-menu idea */
    assert_int_equal(group_count(groups, "complaint", "call_center", "phone menu"), 4);
    json_decref(groups);
    /* ... and in the training export */
    harness_response r;
    assert_int_equal(harness_http_get(srv->port, "/api/listening/corrections/export", analyst_token, &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 200);
    size_t lines = 0;
    for (const char *q = r.body; (q = strchr(q, '\n')) != NULL; q++)
        lines++;
    assert_int_equal(lines, 3);
    assert_non_null(strstr(r.body, "\"kind\":\"complaint\""));
    assert_non_null(strstr(r.body, "Phone menu keeps sending me in circles"));
    harness_response_free(&r);

    /* Advocates: ranked; thank one on a network (recorded to post) and a
     * messenger customer (a message in their chat, through the hook). */
    j = call("GET", "/api/listening/advocates?limit=5", marketer_token, NULL, 200);
    assert_true(json_array_size(json_object_get(j, "advocates")) >= 1);
    char top_source[32], top_author[160];
    snprintf(top_source, sizeof top_source, "%s", jstr(j, "advocates.0.source"));
    snprintf(top_author, sizeof top_author, "%s", jstr(j, "advocates.0.author"));
    assert_true(json_real_value(harness_json_path(j, "advocates.0.score")) > 0);
    json_decref(j);
    j = call("POST", "/api/listening/advocates/thank", marketer_token,
             json_pack("{s:s, s:s, s:s}", "source", top_source, "author", top_author, "text", "Thank you!"), 201);
    bool message_channel = strcmp(top_source, "own_channel") == 0 || strcmp(top_source, "messenger") == 0;
    assert_string_equal(jstr(j, "channel"), message_channel ? "messenger" : "external");
    if (!message_channel) assert_string_equal(jstr(j, "delivery"), "to_post");
    json_decref(j);
    j = call("POST", "/api/listening/advocates/thank", admin_token,
             json_pack("{s:s, s:s, s:s}", "source", "messenger", "author", customer_author, "text",
                       "Thank you for staying with us!"),
             201);
    assert_string_equal(jstr(j, "channel"), "messenger");
    assert_string_equal(jstr(j, "delivery"), "delivered");
    json_decref(j);
    got = false;
    for (int k = 0; k < 10 && !got; k++) {
        json_t *ev = NULL;
        assert_int_equal(harness_ws_expect_type(customer_ws, "message.new", HARNESS_HTTP_TIMEOUT_MS, &ev), SB_OK);
        const char *text = json_string_value(harness_json_path(ev, "message.text"));
        got = text && strstr(text, "Thank you for staying with us!") != NULL;
        json_decref(ev);
    }
    assert_true(got);
    harness_ws_free(customer_ws);
    j = call("POST", "/api/listening/advocates/thank", admin_token,
             json_pack("{s:s, s:s, s:s}", "source", "twitter", "author", "@nobody_here", "text", "Thanks"), 404);
    json_decref(j);

    /* Statistics by day and by source; then erasure removes everything of
     * an author (posts, cases, their share of the statistics). */
    int64_t total_before = stats_posts(now_ms - 5 * DAY_MS, now_ms + 2 * DAY_MS);
    assert_int_equal(total_before, max_id);
    snprintf(path, sizeof path,
             "/api/listening/stats?granularity=hour&dimension=source&value=twitter&from_ms=%lld&to_ms=%lld",
             (long long)(now_ms - 3 * DAY_MS), (long long)(now_ms + DAY_MS));
    j = call("GET", path, marketer_token, NULL, 200);
    assert_true(json_array_size(json_object_get(j, "buckets")) > 0);
    json_decref(j);
    j = call("GET", "/api/listening/stats?granularity=week", analyst_token, NULL, 400);
    json_decref(j);

    int64_t neda_first = post_id_of("http-004", max_id), neda_second = post_id_of("http-009", max_id);
    p = post_get(neda_first, 200);
    int64_t neda_case = harness_json_int(p, "case_id");
    json_decref(p);
    j = call("POST", "/api/listening/erase", analyst_token,
             json_pack("{s:s, s:s}", "source", "twitter", "author", "@neda_card"), 403);
    json_decref(j);
    j = call("POST", "/api/listening/erase", admin_token,
             json_pack("{s:s, s:s}", "source", "twitter", "author", "@neda_card"), 200);
    int64_t erased = harness_json_int(j, "posts");
    assert_int_equal(erased, 2);
    assert_int_equal(harness_json_int(j, "cases"), 1);
    json_decref(j);
    j = post_get(neda_first, 404);
    json_decref(j);
    j = post_get(neda_second, 404);
    json_decref(j);
    snprintf(path, sizeof path, "/api/listening/cases/%lld", (long long)neda_case);
    j = call("GET", path, agent_token, NULL, 404);
    json_decref(j);
    assert_int_equal(stats_posts(now_ms - 5 * DAY_MS, now_ms + 2 * DAY_MS), total_before - erased);
    list = call("GET", "/api/listening/cases?limit=200", agent_token, NULL, 200);
    json_array_foreach(json_object_get(list, "cases"), i, c) assert_string_not_equal(jstr(c, "author"), "@neda_card");
    json_decref(list);
    /* the demo stream's @maryam_k: four posts, none left */
    j = call("POST", "/api/listening/erase", admin_token,
             json_pack("{s:s, s:s}", "source", "twitter", "author", "@maryam_k"), 200);
    assert_int_equal(harness_json_int(j, "posts"), 4);
    json_decref(j);

    stream_free(&demo);
    stream_free(&extra);
}

/* ---- bad input ---- */

static void test_bad_input(void **state) {
    (void)state;
    harness_response r;
    static const char *const twitter_only[] = {"twitter"};
    char key[2 * SB_TOKEN_BYTES + 1];
    int64_t key_id;
    create_key("twitter only", twitter_only, 1, key, &key_id);
    int64_t now = sb_now_ms();
    char good[512];
    snprintf(good, sizeof good,
             "{\"posts\":[{\"source\":\"twitter\",\"id\":\"bad-1\",\"author\":\"@a\",\"time\":%lld,\"text\":\"ok\"}]}",
             (long long)now);

    /* Keys: none, malformed, unknown, a bearer token instead. */
    ingest_raw(NULL, "application/json", good, strlen(good), &r);
    HARNESS_ASSERT_ERROR(r, 401, "unauthorized");
    harness_response_free(&r);
    ingest_raw("not-a-key", "application/json", good, strlen(good), &r);
    HARNESS_ASSERT_ERROR(r, 401, "unauthorized");
    harness_response_free(&r);
    ingest_raw("00000000000000000000000000000000000000000000000000000000000000ff", "application/json", good,
               strlen(good), &r);
    HARNESS_ASSERT_ERROR(r, 401, "unauthorized");
    harness_response_free(&r);
    assert_int_equal(harness_http_slow(srv->port, "POST", "/api/ingest", admin_token, "application/json", good,
                                       strlen(good), NULL, HARNESS_HTTP_SLOW_TIMEOUT_MS, &r),
                     SB_OK);
    HARNESS_ASSERT_ERROR(r, 401, "unauthorized");
    harness_response_free(&r);
    /* the key works */
    ingest_raw(key, "application/json", good, strlen(good), &r);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_int_equal(harness_json_int(r.json, "accepted"), 1);
    harness_response_free(&r);

    /* Malformed JSON, not an object, no posts array, wrong content type,
     * invalid UTF-8 (the wrong encoding: Latin-1 bytes). */
    ingest_raw(key, "application/json", "{\"posts\":[", 10, &r);
    HARNESS_ASSERT_ERROR(r, 400, "invalid_json");
    harness_response_free(&r);
    ingest_raw(key, "application/json", "[1,2]", 5, &r);
    HARNESS_ASSERT_ERROR(r, 400, "invalid");
    harness_response_free(&r);
    ingest_raw(key, "application/json", "{\"posts\":{}}", 12, &r);
    HARNESS_ASSERT_ERROR(r, 400, "invalid");
    harness_response_free(&r);
    ingest_raw(key, "text/csv", "a,b\n1,2\n", 8, &r);
    HARNESS_ASSERT_ERROR(r, 415, "unsupported_media_type");
    harness_response_free(&r);
    const char latin1[] =
        "{\"posts\":[{\"source\":\"twitter\",\"id\":\"x\",\"author\":\"@a\",\"time\":1,\"text\":\"caf\xe9\"}]}";
    ingest_raw(key, "application/json", latin1, sizeof latin1 - 1, &r);
    HARNESS_ASSERT_ERROR(r, 400, "invalid_json");
    harness_response_free(&r);
    ingest_raw(key, "application/json", NULL, 0, &r);
    HARNESS_ASSERT_ERROR(r, 400, "invalid");
    harness_response_free(&r);

    /* One batch of bad rows and good ones: each bad row has its reason, the
     * good ones land. */
    json_t *posts = json_pack(
        "[{s:s, s:s, s:s, s:I, s:s}, {s:s, s:s, s:I, s:s}, {s:s, s:s, s:s, s:I, s:s}, {s:s, s:s, s:s, s:I, s:s},"
        " {s:s, s:s, s:s, s:I, s:i}, i, {s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:I, s:s}, {s:s, s:s, s:s, s:I, s:s}]",
        /* 0 good */ "source", "twitter", "id", "bad-2", "author", "@b", "time", (json_int_t)now, "text", "fine post",
        /* 1 no author */ "source", "twitter", "id", "bad-3", "time", (json_int_t)now, "text", "who wrote me",
        /* 2 unknown source */ "source", "myspace", "id", "bad-4", "author", "@c", "time", (json_int_t)now, "text",
        "hello",
        /* 3 another source than the key's */ "source", "telegram", "id", "bad-5", "author", "@d", "time",
        (json_int_t)now, "text", "hello",
        /* 4 text is a number */ "source", "twitter", "id", "bad-6", "author", "@e", "time", (json_int_t)now, "text",
        42,
        /* 5 not an object */ 7,
        /* 6 no time */ "source", "twitter", "id", "bad-7", "author", "@f", "text", "when",
        /* 7 far future */ "source", "twitter", "id", "bad-8", "author", "@g", "time", (json_int_t)(now + 7 * DAY_MS),
        "text", "from the future",
        /* 8 good */ "source", "twitter", "id", "bad-9", "author", "@h", "time", (json_int_t)now, "text",
        "another fine post");
    assert_non_null(posts);
    json_t *res = ingest(key, posts, 200);
    assert_int_equal(harness_json_int(res, "received"), 9);
    assert_int_equal(harness_json_int(res, "accepted"), 2);
    assert_int_equal(harness_json_int(res, "rejected"), 7);
    static const struct {
        int index;
        const char *reason;
    } want[] = {{1, "missing_author"}, {2, "unknown_source"}, {3, "source_not_allowed"}, {4, "bad_field_type"},
                {5, "not_an_object"},  {6, "missing_time"},   {7, "time_in_future"}};
    json_t *rej = json_object_get(res, "rejections");
    assert_int_equal(json_array_size(rej), SB_ARRAY_LEN(want));
    for (size_t k = 0; k < SB_ARRAY_LEN(want); k++) {
        json_t *e = json_array_get(rej, k);
        if (harness_json_int(e, "index") != want[k].index || strcmp(jstr(e, "reason"), want[k].reason) != 0)
            fail_msg("rejection %zu: %s, want index %d reason %s", k, harness_json_text(e), want[k].index,
                     want[k].reason);
    }
    json_decref(res);

    /* Too many posts in one batch: refused whole, nothing stored. */
    json_t *many = json_array();
    for (int k = 0; k <= SB_LISTENING_BATCH_POSTS_MAX; k++)
        json_array_append_new(many, json_object());
    res = ingest(key, many, 413);
    assert_string_equal(jstr(res, "error.code"), "too_many_posts");
    json_decref(res);

    /* The ingest cap is larger than every other route's: a batch of about
     * 1.5 MiB is read (its rows for a source the key does not cover are
     * rejected, which keeps the model's work small under sanitizers; the
     * others land), the same bytes to another route are refused, and a
     * body over the ingest cap is refused. */
    size_t big_count = 1500;
    char text[1001];
    memset(text, 'a', sizeof text - 1);
    for (size_t k = 0; k < sizeof text - 1; k += 10)
        text[k] = ' ';
    text[sizeof text - 1] = '\0';
    json_t *big = json_array();
    for (size_t k = 0; k < big_count; k++) {
        char id[32];
        snprintf(id, sizeof id, "big-%zu", k);
        json_array_append_new(big,
                              json_pack("{s:s, s:s, s:s, s:I, s:s}", "source", k % 100 ? "telegram" : "twitter", "id",
                                        id, "author", "@bulk", "time", (json_int_t)(now - HOUR_MS), "text", text));
    }
    json_t *body = json_pack("{s:o}", "posts", big);
    char *big_text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    size_t big_len = strlen(big_text);
    assert_true(big_len > SB_HTTP_BODY_BYTES_MAX && big_len < SB_HTTP_INGEST_BODY_BYTES_MAX);
    ingest_raw(key, "application/json", big_text, big_len, &r);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_int_equal(harness_json_int(r.json, "accepted"), (int64_t)big_count / 100);
    assert_int_equal(harness_json_int(r.json, "rejected"), (int64_t)(big_count - big_count / 100));
    assert_string_equal(jstr(r.json, "rejections.0.reason"), "source_not_allowed");
    harness_response_free(&r);
    assert_int_equal(harness_http(srv->port, "POST", "/api/listening/rules", admin_token, "application/json", big_text,
                                  big_len, NULL, &r),
                     SB_OK);
    HARNESS_ASSERT_ERROR(r, 413, "body_too_large");
    harness_response_free(&r);
    free(big_text);
    size_t huge_len = SB_HTTP_INGEST_BODY_BYTES_MAX + 1;
    char *huge = malloc(huge_len);
    assert_non_null(huge);
    memset(huge, ' ', huge_len);
    huge[0] = '{';
    huge[huge_len - 1] = '}';
    ingest_raw(key, "application/json", huge, huge_len, &r);
    HARNESS_ASSERT_ERROR(r, 413, "body_too_large");
    harness_response_free(&r);
    free(huge);

    /* Revoked: the key no longer opens the door; listing never shows a key. */
    char path[80];
    snprintf(path, sizeof path, "/api/listening/api-keys/%lld", (long long)key_id);
    json_t *j = call("DELETE", path, admin_token, NULL, 204);
    json_decref(j);
    j = call("DELETE", path, admin_token, NULL, 404);
    json_decref(j);
    ingest_raw(key, "application/json", good, strlen(good), &r);
    HARNESS_ASSERT_ERROR(r, 401, "unauthorized");
    harness_response_free(&r);
    j = call("GET", "/api/listening/api-keys", admin_token, NULL, 200);
    char *listing = harness_json_text(j);
    assert_null(strstr(listing, key));
    assert_null(strstr(listing, "hash"));
    sb_free(listing);
    json_decref(j);
    j = call("GET", "/api/listening/api-keys", analyst_token, NULL, 403);
    json_decref(j);
    /* a key for an unknown source is refused */
    j = call("POST", "/api/listening/api-keys", admin_token,
             json_pack("{s:s, s:[s]}", "name", "bad", "sources", "myspace"), 400);
    json_decref(j);
    assert_int_equal(harness_http_get(srv->port, "/healthz", NULL, &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests_name("listening", tests, group_setup, group_teardown);
}
