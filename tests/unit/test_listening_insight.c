/*
 * test_listening_insight.c - the Poisson tail against published values, a
 * rumour burst that raises exactly one alert with the right statistics
 * while steady streams raise none, the alert sink, and suggestion grouping
 * by topic and key phrase in several languages.
 */
#include <math.h>

#include "listening_test_util.h"

static void test_poisson_tail(void **state) {
    (void)state;
    assert_float_equal(listening_poisson_upper_tail(0, 3.0), 1.0, 0);
    assert_float_equal(listening_poisson_upper_tail(1, 1.0), 1.0 - exp(-1.0), 1e-15);
    /* P(X >= 11 | 1) = 1 - e^-1 * sum_{k<=10} 1/k! = 1.00477663e-08 */
    assert_float_equal(listening_poisson_upper_tail(11, 1.0) / 1.0047766e-08, 1.0, 1e-6);
    assert_float_equal(listening_poisson_upper_tail(7, 1.0), 8.3241149e-05, 1e-11);
    assert_float_equal(listening_poisson_upper_tail(10, 0.5) / 1.7096700e-10, 1.0, 1e-6);
    assert_float_equal(listening_poisson_upper_tail(30, 30.0), 0.524283014, 1e-8);
    /* Large means do not underflow. */
    double p = listening_poisson_upper_tail(1000, 1000.0);
    assert_true(p > 0.49 && p < 0.51);
    assert_true(listening_poisson_upper_tail(3000, 1000.0) < 1e-200);
}

static int sink_calls;
static listening_alert sink_last;
static int sink_raise(void *arg, const listening_alert *a) {
    (void)arg;
    sink_calls++;
    sink_last = *a;
    return SB_OK;
}

static int setup_with_sink(void **state) {
    listening_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.alert_sink.raise = sink_raise;
    cfg.understander.understand = scripted_understand;
    sink_calls = 0;
    return fixture_setup_with(state, &cfg);
}

static void test_burst_raises_exactly_one_alert(void **state) {
    fixture *f = *state;
    static char ids[4000][16];
    listening_post *posts = calloc(4000, sizeof *posts);
    size_t n = 0;
    /* 30 hours of steady streams: 30 negative posts an hour (every even
     * minute) and one insolvency rumour at :05 of every hour. */
    for (int64_t h = 0; h < 30; h++) {
        for (int64_t m = 0; m < 60; m += 2) {
            snprintf(ids[n], sizeof ids[n], "n%lld", (long long)n);
            posts[n] = make_post("twitter", ids[n], "@steady", T0_MS + h * HOUR_MS_T + m * MIN_MS,
                                 "#s=negative,k=complaint,t=fees# fees again");
            n++;
        }
        snprintf(ids[n], sizeof ids[n], "r%lld", (long long)n);
        posts[n] = make_post("telegram", ids[n], "@rumour", T0_MS + h * HOUR_MS_T + 5 * MIN_MS,
                             "#s=negative,k=other,t=other,r=insolvency_rumour# is the bank going bust?");
        n++;
    }
    /* The burst: 20 rumours, one a minute from 26:10. */
    for (int64_t m = 0; m < 20; m++) {
        snprintf(ids[n], sizeof ids[n], "b%lld", (long long)n);
        posts[n] = make_post("telegram", ids[n], "@crowd", T0_MS + 26 * HOUR_MS_T + (10 + m) * MIN_MS,
                             "#s=negative,k=other,t=other,r=insolvency_rumour# withdraw your money now");
        n++;
    }
    listening_ingest_result r = {0};
    assert_int_equal(listening_ingest(f->l, posts, n, T0_MS + 31 * HOUR_MS_T, &r), SB_OK);
    assert_int_equal(r.accepted, n);
    /* Tick every 10 minutes once the baseline is full. */
    size_t total = 0;
    int64_t first_alert_at = 0;
    for (int64_t t = T0_MS + 25 * HOUR_MS_T; t <= T0_MS + 30 * HOUR_MS_T; t += 10 * MIN_MS) {
        listening_tick_result tr;
        assert_int_equal(listening_tick(f->l, t, &tr), SB_OK);
        if (tr.alerts && !first_alert_at) first_alert_at = t;
        total += tr.alerts;
    }
    assert_int_equal(total, 1);
    assert_int_equal(sink_calls, 1);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_alerts"), 1);
    /* First fired at 26:20: the window [25:20, 26:20) holds the 26:05
     * rumour and ten of the burst; the 24 hours before it one an hour. */
    assert_int_equal(first_alert_at, T0_MS + 26 * HOUR_MS_T + 20 * MIN_MS);
    listening_alert a[4];
    size_t count;
    assert_int_equal(listening_alerts_list(f->l, a, 4, &count), SB_OK);
    assert_int_equal(count, 1);
    assert_string_equal(a[0].metric, "risk:insolvency_rumour");
    assert_int_equal(a[0].raised_at_ms, first_alert_at);
    assert_int_equal(a[0].window_start_ms, first_alert_at - HOUR_MS_T);
    assert_int_equal(a[0].baseline_hours, 24);
    assert_float_equal(a[0].baseline_per_hour, 1.0, 1e-9);
    assert_float_equal(a[0].p_value / 1.0047766e-08, 1.0, 1e-6);
    assert_float_equal(a[0].p_threshold, SB_LISTENING_ALERT_P_THRESHOLD, 1e-18);
    assert_int_equal(a[0].min_count, SB_LISTENING_ALERT_MIN_COUNT);
    assert_int_equal(a[0].threshold_count, 10); /* P(X>=7|1) < 1e-4 already; the minimum count decides */
    assert_int_equal(a[0].observed, 21);        /* the peak while the burst lasted: [25:30, 26:30) */
    assert_string_equal(sink_last.metric, "risk:insolvency_rumour");
    assert_int_equal(sink_last.observed, 11); /* what the sink saw when it fired */
    free(posts);
}

static void test_steady_stream_raises_none(void **state) {
    fixture *f = *state;
    static char ids[2000][16];
    listening_post *posts = calloc(2000, sizeof *posts);
    size_t n = 0;
    /* 12 negatives an hour with a little jitter, 48 hours. */
    for (int64_t h = 0; h < 48; h++)
        for (int64_t k = 0; k < 12 + (h % 3) - 1; k++) {
            snprintf(ids[n], sizeof ids[n], "s%lld", (long long)n);
            posts[n] = make_post("forum", ids[n], "@many", T0_MS + h * HOUR_MS_T + k * 4 * MIN_MS,
                                 "#s=negative,k=complaint,t=branch# queue at the branch");
            n++;
        }
    listening_ingest_result r = {0};
    assert_int_equal(listening_ingest(f->l, posts, n, T0_MS + 49 * HOUR_MS_T, &r), SB_OK);
    for (int64_t t = T0_MS + 25 * HOUR_MS_T; t <= T0_MS + 48 * HOUR_MS_T; t += 15 * MIN_MS) {
        listening_tick_result tr;
        assert_int_equal(listening_tick(f->l, t, &tr), SB_OK);
        assert_int_equal(tr.alerts, 0);
    }
    assert_int_equal(sink_calls, 0);
    free(posts);
}

typedef struct {
    const char *text, *kind, *topic, *lang;
} labelled;

static void test_suggestions_group_by_topic_and_phrase(void **state) {
    fixture *f = *state;
    const labelled rows[] = {
        {"The phone menu is cumbersome, too many steps", "complaint", "call_center", "en"},
        {"phone menu is so cumbersome!!", "complaint", "call_center", "en"},
        {"I hate the phone menu", "complaint", "call_center", "en"},
        {"Phone menu takes forever", "complaint", "call_center", "en"},
        {"your PHONE MENU is a maze", "complaint", "call_center", "en"},
        {"Голосовое меню слишком длинное", "complaint", "call_center", "ru"},
        {"голосовое меню ужасно", "complaint", "call_center", "ru"},
        {"опять это голосовое меню", "complaint", "call_center", "ru"},
        {"لطفا اثر انگشت به اپلیکیشن اضافه کنید", "suggestion", "app_online", "fa"},
        {"اثر انگشت برای ورود لازم است", "suggestion", "app_online", "fa"},
        {"ورود با اثر انگشت", "suggestion", "app_online", "fa"},
        {"Додайте темну тему в застосунок", "suggestion", "app_online", "uk"},
        {"Добавьте тёмную тему, вечером глаза устают", "suggestion", "app_online", "ru"},
        {"Please add a dark mode", "suggestion", "app_online", "en"},
        {"لطفا تم تیره به برنامه اضافه کنید", "suggestion", "app_online", "fa"},
        {"waited forty minutes on hold", "complaint", "call_center", "en"},
        {"The statements page is slow to load", "complaint", "app_online", "en"},
        {"statements page slow again", "complaint", "app_online", "en"},
        {"great phone menu, quick answers", "praise", "call_center", "en"},
        {"great service at the branch", "praise", "branch", "en"},
    };
    size_t n = SB_ARRAY_LEN(rows);
    listening_post posts[SB_ARRAY_LEN(rows)];
    char ids[SB_ARRAY_LEN(rows)][8];
    for (size_t k = 0; k < n; k++) {
        snprintf(ids[k], sizeof ids[k], "g%zu", k);
        posts[k] = make_post("app_store", ids[k], "@u", T0_MS + (int64_t)k * MIN_MS, rows[k].text);
    }
    listening_ingest_result r = {0};
    assert_int_equal(listening_ingest(f->l, posts, n, T0_MS + HOUR_MS_T, &r), SB_OK);
    /* The engine's labels arrive later through the interface. */
    for (size_t k = 0; k < n; k++) {
        int64_t id;
        assert_int_equal(listening_post_find(f->l, "app_store", ids[k], &id), SB_OK);
        listening_understanding u;
        assert_int_equal(scripted_understand(NULL, "", 0, &u), SB_OK);
        snprintf(u.kind, sizeof u.kind, "%s", rows[k].kind);
        snprintf(u.topic, sizeof u.topic, "%s", rows[k].topic);
        snprintf(u.lang, sizeof u.lang, "%s", rows[k].lang);
        assert_int_equal(listening_understanding_set(f->l, id, &u, T0_MS + HOUR_MS_T), SB_OK);
    }
    listening_suggestion_group g[8];
    size_t count;
    assert_int_equal(listening_suggestions(f->l, T0_MS, T0_MS + DAY_MS_T, 2, g, 8, &count), SB_OK);
    for (size_t k = 0; k < count; k++)
        print_message("group %zu: %s/%s '%s' %zu\n", k, g[k].kind, g[k].topic, g[k].phrase, g[k].count);
    /* One group per idea whatever the language: the phone menu in en and
     * ru (8), the dark theme in uk, ru, en and fa (4), fingerprint login (3). */
    assert_int_equal(count, 4);
    assert_string_equal(g[0].phrase, "phone menu");
    assert_string_equal(g[0].concept, "phone_menu");
    assert_string_equal(g[0].kind, "complaint");
    assert_string_equal(g[0].topic, "call_center");
    assert_int_equal(g[0].count, 8);
    assert_int_equal(g[0].lang_count, 2);
    assert_int_equal(g[0].example_count, 3);
    /* examples: the first post of each language, then in order */
    int64_t first, russian, second;
    assert_int_equal(listening_post_find(f->l, "app_store", "g0", &first), SB_OK);
    assert_int_equal(listening_post_find(f->l, "app_store", "g5", &russian), SB_OK);
    assert_int_equal(listening_post_find(f->l, "app_store", "g1", &second), SB_OK);
    assert_int_equal(g[0].examples[0], first);
    assert_int_equal(g[0].examples[1], russian);
    assert_int_equal(g[0].examples[2], second);
    assert_string_equal(g[1].concept, "dark_theme");
    assert_string_equal(g[1].phrase, "dark theme");
    assert_int_equal(g[1].count, 4);
    assert_int_equal(g[1].lang_count, 4);
    assert_string_equal(g[2].concept, "fingerprint_login");
    assert_string_equal(g[2].kind, "suggestion");
    assert_string_equal(g[2].topic, "app_online");
    assert_int_equal(g[2].count, 3);
    /* A pair of words outside the lexicon still groups by phrase. */
    assert_string_equal(g[3].phrase, "page slow");
    assert_string_equal(g[3].concept, "");
    assert_int_equal(g[3].count, 2);
    /* A period without posts, and the cap. */
    assert_int_equal(listening_suggestions(f->l, T0_MS + 2 * DAY_MS_T, T0_MS + 3 * DAY_MS_T, 2, g, 8, &count), SB_OK);
    assert_int_equal(count, 0);
    assert_int_equal(listening_suggestions(f->l, T0_MS, T0_MS + DAY_MS_T, 2, g, 1, &count), SB_OK);
    assert_int_equal(count, 1);
    assert_true(listening_stop_word("fa", "از", strlen("از")));
    assert_true(listening_stop_word("uk", "та", strlen("та")));
    assert_false(listening_stop_word("en", "menu", 4));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_poisson_tail),
        cmocka_unit_test_setup_teardown(test_burst_raises_exactly_one_alert, setup_with_sink, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_steady_stream_raises_none, setup_with_sink, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_suggestions_group_by_topic_and_phrase, fixture_setup, fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
