/*
 * test_listening_api.c - the server side of listening (listening_api.c):
 * API keys (only a hash stored, bound to sources, revocation), the case list
 * with its filters and cursor, one case as JSON, a post with its
 * corrections, consents and leads as JSON, statistics rows, thanks (a
 * message through the reply hook or text to post) and their erasure.
 */
#include "listening_test_util.h"

#include <sodium.h>

static int hook_calls;
static int64_t hook_case;
static char hook_author[64];

static int record_hook(void *arg, int64_t case_id, const char *author, const char *text) {
    (void)arg;
    (void)text;
    hook_calls++;
    hook_case = case_id;
    snprintf(hook_author, sizeof hook_author, "%s", author);
    return SB_OK;
}

static void test_api_keys(void **state) {
    fixture *f = *state;
    const char *sources[] = {"twitter", "telegram"};
    char key[2 * SB_TOKEN_BYTES + 1];
    int64_t id;
    assert_int_equal(listening_api_key_create(f->l, "export", sources, 2, "boss", T0_MS, key, &id), SB_OK);
    assert_int_equal(strlen(key), 64);
    /* only the hash is stored: it is BLAKE2b of the key's bytes, and the key text appears nowhere */
    unsigned char want[SB_TOKEN_HASH_BYTES];
    assert_int_equal(sb_token_hash(key, true, want), SB_OK);
    store_stmt *st;
    assert_int_equal(store_query(f->s, &st, "SELECT key_hash FROM listening_api_keys WHERE id = ?", "i", id), SB_OK);
    assert_int_equal(store_step(st), STORE_ROW);
    assert_int_equal(store_col_bytes(st, 0), SB_TOKEN_HASH_BYTES);
    assert_memory_equal(store_col_blob(st, 0), want, SB_TOKEN_HASH_BYTES);
    store_stmt_done(st);

    listening_api_key k;
    assert_int_equal(listening_api_key_check(f->l, key, T0_MS + 5, &k), SB_OK);
    assert_int_equal(k.id, id);
    assert_string_equal(k.name, "export");
    assert_int_equal(k.source_count, 2);
    assert_true(listening_api_key_allows(&k, "twitter"));
    assert_true(listening_api_key_allows(&k, "telegram"));
    assert_false(listening_api_key_allows(&k, "forum"));
    assert_false(listening_api_key_allows(&k, NULL));
    /* upper-case hex is the same key; a changed or short key is not */
    char upper[sizeof key];
    for (size_t i = 0; i < sizeof key; i++)
        upper[i] = (char)(key[i] >= 'a' && key[i] <= 'f' ? key[i] - 32 : key[i]);
    assert_int_equal(listening_api_key_check(f->l, upper, T0_MS, &k), SB_OK);
    char other[sizeof key];
    memcpy(other, key, sizeof key);
    other[0] = other[0] == '0' ? '1' : '0';
    assert_int_equal(listening_api_key_check(f->l, other, T0_MS, &k), SB_EAUTH);
    assert_int_equal(listening_api_key_check(f->l, "abc", T0_MS, &k), SB_EAUTH);
    assert_int_equal(listening_api_key_check(f->l, NULL, T0_MS, &k), SB_EAUTH);

    json_t *list;
    assert_int_equal(listening_api_keys_json(f->l, &list), SB_OK);
    assert_int_equal(json_array_size(list), 1);
    json_t *e = json_array_get(list, 0);
    assert_int_equal(json_integer_value(json_object_get(e, "last_used_at_ms")), T0_MS);
    assert_string_equal(json_string_value(json_array_get(json_object_get(e, "sources"), 1)), "twitter");
    assert_null(json_object_get(e, "key"));
    json_decref(list);

    assert_int_equal(listening_api_key_revoke(f->l, id, T0_MS + 10), SB_OK);
    assert_int_equal(listening_api_key_revoke(f->l, id, T0_MS + 11), SB_ENOTFOUND);
    assert_int_equal(listening_api_key_check(f->l, key, T0_MS + 12, &k), SB_EAUTH);

    /* bad input */
    const char *unknown[] = {"myspace"};
    const char *twice[] = {"twitter", "twitter"};
    assert_int_equal(listening_api_key_create(f->l, "x", unknown, 1, "boss", T0_MS, key, NULL), SB_EINVAL);
    assert_int_equal(listening_api_key_create(f->l, "x", twice, 2, "boss", T0_MS, key, NULL), SB_EINVAL);
    assert_int_equal(listening_api_key_create(f->l, "", sources, 1, "boss", T0_MS, key, NULL), SB_EINVAL);
    assert_int_equal(listening_api_key_create(f->l, "x", sources, 0, "boss", T0_MS, key, NULL), SB_EINVAL);
    assert_int_equal(listening_api_key_create(f->l, "a\nb", sources, 1, "boss", T0_MS, key, NULL), SB_EINVAL);
    assert_int_equal(key[0], '\0');
}

/* Ingest one post (scripted labels in the text). */
static int64_t put(fixture *f, const char *source, const char *id, const char *author, int64_t at, const char *text) {
    listening_post p = make_post(source, id, author, at, text);
    listening_ingest_result r = {0};
    assert_int_equal(listening_ingest(f->l, &p, 1, at + 1, &r), SB_OK);
    assert_int_equal(r.accepted, 1);
    int64_t post_id;
    assert_int_equal(listening_post_find(f->l, source, id, &post_id), SB_OK);
    return post_id;
}

static void test_cases_json(void **state) {
    fixture *f = *state;
    /* default rules: card misuse -> support, cards, legal (urgent); complaints -> support */
    put(f, "twitter", "1", "@a", T0_MS, "#s=negative,k=complaint,t=cards,r=card_misuse# card used");
    put(f, "twitter", "2", "@b", T0_MS + MIN_MS, "#s=negative,k=complaint,t=fees,p=900# fees too high");
    put(f, "forum", "3", "c", T0_MS + 2 * MIN_MS, "#s=negative,k=complaint,t=branch,p=900# queue");
    int64_t joined = put(f, "twitter", "4", "@a", T0_MS + 3 * MIN_MS, "#s=negative,k=complaint,t=cards# again");

    listening_case_filter all = {.limit = 10};
    json_t *out;
    assert_int_equal(listening_cases_json(f->l, &all, &out), SB_OK);
    json_t *cases = json_object_get(out, "cases");
    assert_int_equal(json_array_size(cases), 3);
    assert_true(json_is_null(json_object_get(out, "next_cursor")));
    /* newest first; the first case has two posts and three departments */
    json_t *first = json_array_get(cases, 2);
    assert_int_equal(json_integer_value(json_object_get(first, "posts")), 2);
    json_t *deps = json_object_get(first, "departments");
    assert_int_equal(json_array_size(deps), 3);
    assert_string_equal(json_string_value(json_array_get(deps, 0)), "cards");
    assert_string_equal(json_string_value(json_object_get(first, "priority")), "urgent");
    int64_t case_id = json_integer_value(json_object_get(first, "id"));
    json_decref(out);

    /* filters */
    listening_case_filter cards = {.department = "cards", .limit = 10};
    assert_int_equal(listening_cases_json(f->l, &cards, &out), SB_OK);
    assert_int_equal(json_array_size(json_object_get(out, "cases")), 1);
    json_decref(out);
    listening_case_filter normal = {.priority = "normal", .state = "open", .assignee = "", .limit = 10};
    assert_int_equal(listening_cases_json(f->l, &normal, &out), SB_OK);
    assert_int_equal(json_array_size(json_object_get(out, "cases")), 2);
    json_decref(out);
    /* paging: 2 then 1 */
    listening_case_filter page = {.limit = 2};
    assert_int_equal(listening_cases_json(f->l, &page, &out), SB_OK);
    assert_int_equal(json_array_size(json_object_get(out, "cases")), 2);
    page.before_id = json_integer_value(json_object_get(out, "next_cursor"));
    json_decref(out);
    assert_int_equal(listening_cases_json(f->l, &page, &out), SB_OK);
    assert_int_equal(json_array_size(json_object_get(out, "cases")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(out, "cases"), 0), "id")),
                     case_id);
    json_decref(out);
    listening_case_filter bad = {.state = "closed", .limit = 10};
    assert_int_equal(listening_cases_json(f->l, &bad, &out), SB_EINVAL);
    bad = (listening_case_filter){.limit = 0};
    assert_int_equal(listening_cases_json(f->l, &bad, &out), SB_EINVAL);

    /* assignment then filter by assignee; one case as JSON with its history */
    assert_int_equal(listening_case_assign(f->l, case_id, "agent.1", "boss", T0_MS + HOUR_MS_T), SB_OK);
    assert_int_equal(listening_case_note(f->l, case_id, "agent.1", "called", T0_MS + HOUR_MS_T), SB_OK);
    listening_case_filter mine = {.assignee = "agent.1", .limit = 10};
    assert_int_equal(listening_cases_json(f->l, &mine, &out), SB_OK);
    assert_int_equal(json_array_size(json_object_get(out, "cases")), 1);
    json_decref(out);
    assert_int_equal(listening_case_json(f->l, case_id, &out), SB_OK);
    assert_int_equal(json_array_size(json_object_get(out, "posts")), 2);
    assert_int_equal(json_array_size(json_object_get(out, "departments")), 3);
    json_t *history = json_object_get(out, "history");
    assert_int_equal(json_array_size(history), 4); /* opened, post_joined, assigned, note */
    assert_string_equal(json_string_value(json_object_get(json_array_get(history, 1), "type")), "post_joined");
    assert_string_equal(json_string_value(json_object_get(json_array_get(history, 3), "detail")), "called");
    json_t *post = json_array_get(json_object_get(out, "posts"), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(post, "labels"), "topic")), "cards");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(post, "risks"), 0), "name")), "card_misuse");
    json_decref(out);
    assert_int_equal(listening_case_json(f->l, 999, &out), SB_ENOTFOUND);
    assert_null(out);

    /* a post with a correction: effective label, model label, who corrected */
    assert_int_equal(listening_correct(f->l, joined, "topic", "fraud_security", "ana", T0_MS + 2 * HOUR_MS_T), SB_OK);
    assert_int_equal(listening_post_json(f->l, joined, &out), SB_OK);
    assert_string_equal(json_string_value(json_object_get(json_object_get(out, "labels"), "topic")), "fraud_security");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(out, "labels"), "topic_permille")), 1000);
    assert_string_equal(json_string_value(json_object_get(json_object_get(out, "model_labels"), "topic")), "cards");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(out, "corrections"), 0), "corrected_by")),
        "ana");
    assert_int_equal(json_integer_value(json_object_get(out, "case_id")), case_id);
    json_decref(out);
    assert_int_equal(listening_post_json(f->l, 999, &out), SB_ENOTFOUND);
}

static void test_stats_consents_leads_thanks(void **state) {
    fixture *f = *state;
    assert_int_equal(listening_consent_add(f->l, 42, "own_channel", "user:42", T0_MS - DAY_MS_T, NULL), SB_OK);
    put(f, "own_channel", "1", "user:42", T0_MS, "#s=positive,k=praise,t=branch,l=new_child# baby");
    put(f, "own_channel", "2", "user:43", T0_MS + MIN_MS, "#s=positive,k=praise,t=branch,l=new_child# baby");
    put(f, "twitter", "3", "@fan", T0_MS + HOUR_MS_T, "#s=positive,k=praise,t=app_online# love it");

    json_t *out;
    assert_int_equal(listening_leads_json(f->l, 0, 10, &out), SB_OK);
    json_t *leads = json_object_get(out, "leads");
    assert_int_equal(json_array_size(leads), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(leads, 0), "customer_id")), 42);
    assert_string_equal(json_string_value(json_object_get(json_array_get(leads, 0), "offer")), "child_savings");
    json_decref(out);
    assert_int_equal(listening_leads_json(f->l, 0, 0, &out), SB_EINVAL);
    assert_int_equal(listening_consents_json(f->l, &out), SB_OK);
    assert_int_equal(json_array_size(out), 1);
    json_decref(out);

    /* hourly buckets: two posts in the first hour, one in the next */
    assert_int_equal(listening_stats_json(f->l, "hour", "all", NULL, T0_MS, T0_MS + DAY_MS_T, &out), SB_OK);
    assert_int_equal(json_array_size(out), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(out, 0), "posts")), 2);
    assert_true(json_real_value(json_object_get(json_array_get(out, 0), "net_sentiment")) == 1.0);
    json_decref(out);
    assert_int_equal(listening_stats_json(f->l, "day", "source", "twitter", T0_MS, T0_MS + DAY_MS_T, &out), SB_OK);
    assert_int_equal(json_array_size(out), 1);
    json_decref(out);
    assert_int_equal(listening_stats_json(f->l, "week", "all", NULL, T0_MS, T0_MS + 1, &out), SB_EINVAL);
    assert_int_equal(listening_stats_json(f->l, "day", "all", NULL, T0_MS, T0_MS + 400 * DAY_MS_T, &out), SB_ELIMIT);

    /* thanks: own channel through the hook (case 0), twitter recorded to post */
    listening_config cfg = {.understander = {scripted_understand, NULL}, .reply_hook = {record_hook, NULL}};
    listening *l;
    assert_int_equal(listening_open(f->s, &cfg, &l), SB_OK);
    hook_calls = 0;
    assert_int_equal(listening_advocate_thank(l, "own_channel", "user:42", "Thank you!", "mk", T0_MS, &out), SB_OK);
    assert_string_equal(json_string_value(json_object_get(out, "delivery")), "delivered");
    assert_int_equal(hook_calls, 1);
    assert_int_equal(hook_case, 0);
    assert_string_equal(hook_author, "user:42");
    json_decref(out);
    assert_int_equal(listening_advocate_thank(l, "twitter", "@fan", "Thanks!", "mk", T0_MS, &out), SB_OK);
    assert_string_equal(json_string_value(json_object_get(out, "delivery")), "to_post");
    assert_string_equal(json_string_value(json_object_get(out, "channel")), "external");
    assert_int_equal(hook_calls, 1);
    json_decref(out);
    assert_int_equal(listening_advocate_thank(l, "twitter", "@nobody", "Thanks!", "mk", T0_MS, &out), SB_ENOTFOUND);
    assert_int_equal(listening_advocate_thank(l, "twitter", "@fan", "", "mk", T0_MS, &out), SB_EINVAL);
    listening_close(l);
    /* without a hook a message waits */
    assert_int_equal(listening_advocate_thank(f->l, "own_channel", "user:43", "Thanks", "mk", T0_MS, &out), SB_OK);
    assert_string_equal(json_string_value(json_object_get(out, "delivery")), "pending");
    json_decref(out);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_thanks"), 3);
    /* erasure takes the thanks with the author */
    assert_int_equal(listening_erase_author(f->l, "own_channel", "user:42", NULL), SB_OK);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_thanks WHERE author = 'user:42'"), 0);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_thanks"), 2);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_leads"), 0);
}

static void test_alert_json(void **state) {
    (void)state;
    listening_alert a = {.id = 7, .raised_at_ms = 5, .window_start_ms = 1, .observed = 20, .baseline_per_hour = 0.5,
                         .baseline_hours = 24, .p_value = 1e-9, .p_threshold = 1e-4, .min_count = 10,
                         .threshold_count = 6};
    snprintf(a.metric, sizeof a.metric, "risk:insolvency_rumour");
    json_t *j = listening_alert_to_json(&a);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "metric")), "risk:insolvency_rumour");
    assert_int_equal(json_integer_value(json_object_get(j, "observed")), 20);
    assert_true(json_real_value(json_object_get(j, "baseline_per_hour")) == 0.5);
    assert_int_equal(json_integer_value(json_object_get(j, "threshold_count")), 6);
    json_decref(j);
}

int main(void) {
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_api_keys, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_cases_json, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_stats_consents_leads_thanks, fixture_setup, fixture_teardown),
        cmocka_unit_test(test_alert_json),
    };
    return cmocka_run_group_tests_name("listening_api", tests, NULL, NULL);
}
