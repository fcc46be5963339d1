/*
 * test_listening_stream.c - the project's multilingual demo stream
 * (tests/data/listening_stream.jsonl) through the domain: read by the JSON
 * connector, ingested in one batch, understood with the labels written
 * beside each post (the `expect` field, standing in for the text engine),
 * routed by the default rules of migration 0500, ticked every ten minutes.
 * Checks: redaction, cases with their departments and joining, exactly one
 * alert for the rumour burst, suggestion groups, advocates, leads only
 * with consent, erasure of one author.
 */
#include "listening_test_util.h"

typedef struct {
    json_t *records[256];
    size_t count;
} stream;

static void stream_load(stream *st) {
    const char *dir = getenv("SB_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/listening_stream.jsonl", dir ? dir : ".");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[8192];
    st->count = 0;
    while (fgets(line, sizeof line, f)) {
        json_error_t err;
        json_t *rec = json_loads(line, 0, &err);
        if (!rec) fail_msg("line %zu: %s", st->count + 1, err.text);
        assert_true(st->count < SB_ARRAY_LEN(st->records));
        st->records[st->count++] = rec;
    }
    fclose(f);
}

static void stream_free(stream *st) {
    for (size_t k = 0; k < st->count; k++)
        json_decref(st->records[k]);
}

static void copy_label(char *out, size_t cap, const json_t *v) {
    snprintf(out, cap, "%s", json_string_value(v) ? json_string_value(v) : "");
}

/* The labels written beside the post, as the text engine would give them. */
static void understanding_from_expect(const json_t *expect, listening_understanding *u) {
    memset(u, 0, sizeof *u);
    copy_label(u->lang, sizeof u->lang, json_object_get(expect, "lang"));
    copy_label(u->sentiment, sizeof u->sentiment, json_object_get(expect, "sentiment"));
    copy_label(u->kind, sizeof u->kind, json_object_get(expect, "kind"));
    copy_label(u->topic, sizeof u->topic, json_object_get(expect, "topic"));
    u->sentiment_permille = u->kind_permille = u->topic_permille = 900;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(expect, "risks"), i, v) {
        copy_label(u->risks[u->risk_count].name, LISTENING_LABEL_BYTES, v);
        u->risks[u->risk_count++].permille = 900;
    }
    json_array_foreach(json_object_get(expect, "life_events"), i, v) {
        copy_label(u->life_events[u->life_event_count].name, LISTENING_LABEL_BYTES, v);
        u->life_events[u->life_event_count++].permille = 900;
    }
    snprintf(u->model, sizeof u->model, "expect");
}

static int setup_plain(void **state) {
    listening_config cfg;
    memset(&cfg, 0, sizeof cfg);
    /* No understander at ingest: the labels arrive afterwards. */
    cfg.understander.understand = NULL;
    return fixture_setup_with(state, &cfg);
}

static int64_t post_id(fixture *f, const char *source, const char *id) {
    int64_t out;
    assert_int_equal(listening_post_find(f->l, source, id, &out), SB_OK);
    return out;
}

static bool has_group(const listening_suggestion_group *g, size_t n, const char *kind, const char *topic,
                      const char *phrase, size_t count) {
    for (size_t k = 0; k < n; k++)
        if (strcmp(g[k].kind, kind) == 0 && strcmp(g[k].topic, topic) == 0 && strcmp(g[k].phrase, phrase) == 0 &&
            g[k].count == count)
            return true;
    return false;
}

static void test_demo_stream(void **state) {
    fixture *f = *state;
    stream st;
    stream_load(&st);
    assert_true(st.count >= 80);
    listening_post *posts = calloc(st.count, sizeof *posts);
    for (size_t k = 0; k < st.count; k++) {
        const char *reason;
        assert_int_equal(
            listening_connector_jsonl.from_json(&listening_connector_jsonl, st.records[k], &posts[k], &reason), SB_OK);
    }
    int64_t base;
    assert_int_equal(listening_time_parse("2026-11-21T06:00:00Z", 20, &base), SB_OK);
    int64_t end = base + 36 * HOUR_MS_T;
    assert_int_equal(listening_consent_add(f->l, 2210, "own_channel", "user:2210", base - DAY_MS_T, NULL), SB_OK);
    listening_ingest_result r = {0};
    assert_int_equal(listening_ingest(f->l, posts, st.count, end, &r), SB_OK);
    assert_int_equal(r.accepted, st.count);
    assert_int_equal(r.rejected, 0);
    for (size_t k = 0; k < st.count; k++) {
        listening_understanding u;
        understanding_from_expect(json_object_get(st.records[k], "expect"), &u);
        assert_int_equal(listening_understanding_set(f->l, post_id(f, posts[k].source, posts[k].external_id), &u, end),
                         SB_OK);
    }

    /* Redaction of what analysts see. */
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_posts WHERE text LIKE '%[card]%'"), 2);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_posts WHERE text LIKE '%[iban]%'"), 1);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_posts WHERE text LIKE '%[email]%'"), 1);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_posts WHERE text LIKE '%[phone]%'"), 1);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_posts WHERE text LIKE '%[national_id]%'"), 1);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_posts WHERE text LIKE '%4111%' OR text LIKE "
                                      "'%0012345679%' OR text LIKE '%@example.com%'"),
                     0);

    /* Card misuse: support, cards and legal together; the author's follow-ups join. */
    int64_t c1, c;
    assert_int_equal(listening_case_of_post(f->l, post_id(f, "twitter", "demo-001"), &c1), SB_OK);
    assert_int_equal(listening_case_of_post(f->l, post_id(f, "twitter", "demo-002"), &c), SB_OK);
    assert_int_equal(c, c1);
    assert_int_equal(listening_case_of_post(f->l, post_id(f, "twitter", "demo-038"), &c), SB_OK);
    assert_int_equal(c, c1);
    store_stmt *q;
    assert_int_equal(store_query(f->s, &q,
                                 "SELECT group_concat(department, ',') FROM (SELECT department FROM "
                                 "listening_case_departments WHERE case_id = ? ORDER BY department)",
                                 "i", c1),
                     SB_OK);
    assert_int_equal(store_step(q), STORE_ROW);
    assert_string_equal(store_col_text(q, 0), "cards,legal,support");
    store_stmt_done(q);
    /* Every rumour opened a case for pr and risk. */
    assert_int_equal(count_rows(f->s,
                                "SELECT COUNT(DISTINCT d.case_id) FROM listening_case_departments d JOIN "
                                "listening_case_posts cp ON cp.case_id = d.case_id JOIN listening_signals s ON "
                                "s.post_id = cp.post_id WHERE s.name = 'insolvency_rumour' AND d.department = 'pr'"),
                     count_rows(f->s, "SELECT COUNT(DISTINCT c.id) FROM listening_cases c JOIN listening_case_posts cp "
                                      "ON cp.case_id = c.id JOIN listening_signals s ON s.post_id = cp.post_id WHERE "
                                      "s.name = 'insolvency_rumour'"));
    /* Praise opens nothing. */
    assert_int_equal(listening_case_of_post(f->l, post_id(f, "instagram", "demo-015"), &c), SB_ENOTFOUND);

    /* The rumour burst: exactly one alert over a day and more of ticks. */
    size_t alerts = 0;
    for (int64_t t = base + HOUR_MS_T; t <= end; t += 10 * MIN_MS) {
        listening_tick_result tr;
        assert_int_equal(listening_tick(f->l, t, &tr), SB_OK);
        alerts += tr.alerts;
    }
    assert_int_equal(alerts, 1);
    listening_alert a[2];
    size_t n;
    assert_int_equal(listening_alerts_list(f->l, a, 2, &n), SB_OK);
    assert_int_equal(n, 1);
    assert_string_equal(a[0].metric, "risk:insolvency_rumour");
    assert_true(a[0].observed >= SB_LISTENING_ALERT_MIN_COUNT);
    assert_true(a[0].p_value < a[0].p_threshold);
    assert_true(a[0].raised_at_ms > base + 27 * HOUR_MS_T && a[0].raised_at_ms <= base + 28 * HOUR_MS_T);

    /* Suggestions group across languages. */
    listening_suggestion_group g[32];
    assert_int_equal(listening_suggestions(f->l, base, end, 2, g, 32, &n), SB_OK);
    for (size_t k = 0; k < n; k++)
        print_message("%s/%s '%s' %zu\n", g[k].kind, g[k].topic, g[k].phrase, g[k].count);
    /* The same idea in every language is one group (the concept lexicon):
     * the phone menu in en (3), uk (2), ru and fa; fingerprint login in fa
     * (2) and ru; the dark theme in uk (2) and ru. */
    assert_true(has_group(g, n, "complaint", "call_center", "phone menu", 7));
    assert_true(has_group(g, n, "suggestion", "app_online", "fingerprint login", 3));
    assert_true(has_group(g, n, "suggestion", "app_online", "dark theme", 3));

    /* Advocates. */
    listening_advocate adv[3];
    assert_int_equal(listening_advocates(f->l, adv, 3, &n), SB_OK);
    /* 3 * ln(48001) = 32.3 before 3 * ln(15001) = 28.9. */
    assert_string_equal(adv[0].author, "@travel_with_sara");
    assert_int_equal(adv[0].positive_posts, 3);
    assert_string_equal(adv[1].author, "@dariia.photo");
    assert_int_equal(adv[1].positive_posts, 3);

    /* Leads: only the consenting customer's new child. */
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_leads"), 1);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_leads WHERE customer_id = 2210 AND offer = "
                                      "'child_savings'"),
                     1);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_signals WHERE kind = 'life_event'"), 1);

    /* Erasure of one author removes everything of theirs. */
    listening_erase_result er;
    assert_int_equal(listening_erase_author(f->l, "twitter", "@maryam_k", &er), SB_OK);
    assert_int_equal(er.posts, 4);
    assert_int_equal(er.cases, 1);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_posts WHERE author = '@maryam_k'"), 0);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_cases WHERE author = '@maryam_k'"), 0);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_case_posts WHERE post_id NOT IN (SELECT id FROM "
                                      "listening_posts)"),
                     0);
    int64_t before = count_rows(f->s, "SELECT SUM(posts * 3 + negative * 5 + positive) FROM listening_stats");
    assert_int_equal(listening_stats_recompute(f->l), SB_OK);
    assert_int_equal(count_rows(f->s, "SELECT SUM(posts * 3 + negative * 5 + positive) FROM listening_stats"), before);
    free(posts);
    stream_free(&st);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_demo_stream, setup_plain, fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
