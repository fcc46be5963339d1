/*
 * test_listening_cases.c - business-hour arithmetic (periods, lunch,
 * nights, weekends, a half day, UTC offset), rules opening cases routed to
 * several departments, joining by author and topic, deadlines, escalation
 * once per deadline, reassignment after business-time silence, resolve and
 * reopen moving the clock, replies through the messenger hook, history.
 *
 * The calendar is the default one (migration 0500): Tehran, UTC+03:30,
 * Saturday-Wednesday 08:00-12:00 and 13:00-16:00, Thursday 08:00-12:00.
 * T0_MS is Saturday 2026-11-21 00:00 UTC = 03:30 local.
 */
#include "listening_test_util.h"

/* Local Tehran time on the day `day` after Saturday T0: ms since the epoch. */
static int64_t tehran(int day, int hour, int minute) {
    return T0_MS + day * DAY_MS_T + (hour * 60 + minute - 210) * MIN_MS;
}

static listening_calendar iran_calendar(void) {
    listening_calendar cal;
    memset(&cal, 0, sizeof cal);
    cal.utc_offset_minutes = 210;
    int days[] = {6, 0, 1, 2, 3};
    for (int k = 0; k < 5; k++) {
        assert_int_equal(listening_calendar_add(&cal, days[k], 780, 960), SB_OK); /* out of order on purpose */
        assert_int_equal(listening_calendar_add(&cal, days[k], 480, 720), SB_OK);
    }
    assert_int_equal(listening_calendar_add(&cal, 4, 480, 720), SB_OK);
    return cal;
}

static void test_business_add_and_between(void **state) {
    (void)state;
    listening_calendar cal = iran_calendar();
    assert_int_equal(cal.periods[6][0].start_minute, 480); /* kept sorted */
    int64_t out;
    /* Before opening: the clock starts at 08:00. */
    assert_int_equal(listening_business_add(&cal, tehran(0, 7, 0), 60 * MIN_MS, &out), SB_OK);
    assert_int_equal(out, tehran(0, 9, 0));
    /* Over lunch. */
    assert_int_equal(listening_business_add(&cal, tehran(0, 11, 30), 60 * MIN_MS, &out), SB_OK);
    assert_int_equal(out, tehran(0, 13, 30));
    /* Over the night. */
    assert_int_equal(listening_business_add(&cal, tehran(0, 15, 30), 120 * MIN_MS, &out), SB_OK);
    assert_int_equal(out, tehran(1, 9, 30));
    /* Thursday's half day, Friday closed, on to Saturday. */
    assert_int_equal(listening_business_add(&cal, tehran(5, 11, 0), 180 * MIN_MS, &out), SB_OK);
    assert_int_equal(out, tehran(7, 10, 0));
    /* Ending exactly at closing time stays on that day. */
    assert_int_equal(listening_business_add(&cal, tehran(0, 13, 0), 180 * MIN_MS, &out), SB_OK);
    assert_int_equal(out, tehran(0, 16, 0));
    /* A full week holds 5 * 420 + 240 minutes. */
    assert_int_equal(listening_business_add(&cal, tehran(0, 0, 0), (5 * 420 + 240) * MIN_MS, &out), SB_OK);
    assert_int_equal(out, tehran(5, 12, 0));
    int64_t spent;
    assert_int_equal(listening_business_between(&cal, tehran(5, 11, 0), tehran(7, 10, 0), &spent), SB_OK);
    assert_int_equal(spent, 180 * MIN_MS);
    assert_int_equal(listening_business_between(&cal, tehran(0, 0, 0), tehran(7, 0, 0), &spent), SB_OK);
    assert_int_equal(spent, (5 * 420 + 240) * MIN_MS);
    assert_int_equal(listening_business_between(&cal, tehran(6, 9, 0), tehran(6, 15, 0), &spent), SB_OK);
    assert_int_equal(spent, 0); /* Friday */
    assert_int_equal(listening_business_between(&cal, tehran(1, 9, 0), tehran(0, 9, 0), &spent), SB_OK);
    assert_int_equal(spent, 0);
    /* Errors. */
    listening_calendar empty;
    memset(&empty, 0, sizeof empty);
    assert_int_equal(listening_business_add(&empty, T0_MS, MIN_MS, &out), SB_EINVAL);
    assert_int_equal(listening_calendar_add(&cal, 6, 700, 800), SB_EINVAL); /* overlaps both */
    assert_int_equal(listening_calendar_add(&cal, 6, 960, 960), SB_EINVAL);
    assert_int_equal(listening_calendar_add(&cal, 7, 0, 10), SB_EINVAL);
    assert_int_equal(listening_business_add(&cal, T0_MS, 1000LL * 24 * 60 * MIN_MS, &out), SB_ELIMIT);
    /* A negative offset and a 24-hour day. */
    listening_calendar always;
    memset(&always, 0, sizeof always);
    always.utc_offset_minutes = -300;
    for (int d = 0; d < 7; d++)
        assert_int_equal(listening_calendar_add(&always, d, 0, 1440), SB_OK);
    assert_int_equal(listening_business_add(&always, T0_MS + 17, 90 * MIN_MS, &out), SB_OK);
    assert_int_equal(out, T0_MS + 17 + 90 * MIN_MS);
}

static void setup_rules(fixture *f) {
    assert_int_equal(listening_rules_clear(f->l), SB_OK);
    listening_rule misuse = {.name = "card misuse",
                             .risk = "card_misuse",
                             .priority = "urgent",
                             .departments = {"support", "cards", "legal"},
                             .department_count = 3};
    listening_rule complaints = {.name = "complaints",
                                 .kind = "complaint",
                                 .min_permille = 600,
                                 .priority = "normal",
                                 .departments = {"support"},
                                 .department_count = 1};
    listening_rule bad = {
        .name = "bad", .kind = "rant", .priority = "normal", .departments = {"support"}, .department_count = 1};
    listening_rule nowhere = {
        .name = "nowhere", .priority = "normal", .departments = {"marketing"}, .department_count = 1};
    assert_int_equal(listening_rule_add(f->l, &misuse, T0_MS, NULL), SB_OK);
    assert_int_equal(listening_rule_add(f->l, &complaints, T0_MS, NULL), SB_OK);
    assert_int_equal(listening_rule_add(f->l, &complaints, T0_MS, NULL), SB_EEXISTS);
    assert_int_equal(listening_rule_add(f->l, &bad, T0_MS, NULL), SB_EINVAL);
    assert_int_equal(listening_rule_add(f->l, &nowhere, T0_MS, NULL), SB_EINVAL);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_rules"), 2);
}

static void test_rules_json_and_delete(void **state) {
    fixture *f = *state;
    setup_rules(f);
    sb_buf out;
    sb_buf_init(&out, 1 << 16);
    assert_int_equal(listening_rules_json(f->l, &out), SB_OK);
    json_error_t err;
    json_t *rules = json_loads(out.data, 0, &err);
    assert_non_null(rules);
    assert_int_equal(json_array_size(rules), 2);
    json_t *misuse = json_array_get(rules, 0);
    assert_string_equal(json_string_value(json_object_get(misuse, "risk")), "card_misuse");
    assert_true(json_is_null(json_object_get(misuse, "kind")));
    assert_string_equal(json_string_value(json_object_get(misuse, "priority")), "urgent");
    json_t *deps = json_object_get(misuse, "departments");
    assert_int_equal(json_array_size(deps), 3);
    assert_string_equal(json_string_value(json_array_get(deps, 0)), "cards");
    int64_t id = json_integer_value(json_object_get(misuse, "id"));
    json_decref(rules);
    sb_buf_free(&out);
    assert_int_equal(listening_rule_delete(f->l, id), SB_OK);
    assert_int_equal(listening_rule_delete(f->l, id), SB_ENOTFOUND);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_rule_departments"), 1);
    /* A card misuse post now only matches the complaint rule. */
    listening_post p = make_post("twitter", "d1", "@x", T0_MS, "#s=negative,k=complaint,t=cards,r=card_misuse# stolen");
    listening_ingest_result r = {0};
    assert_int_equal(listening_ingest(f->l, &p, 1, T0_MS, &r), SB_OK);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_case_departments"), 1);
    assert_int_equal(listening_ingest(f->l, &p, 1, T0_MS, NULL), SB_EINVAL);
}

static int64_t case_of(fixture *f, const char *source, const char *id) {
    int64_t post, c;
    assert_int_equal(listening_post_find(f->l, source, id, &post), SB_OK);
    assert_int_equal(listening_case_of_post(f->l, post, &c), SB_OK);
    return c;
}

static void test_rules_route_to_several_departments(void **state) {
    fixture *f = *state;
    setup_rules(f);
    listening_post rows[] = {
        make_post("twitter", "p1", "@nima", T0_MS,
                  "#s=negative,k=complaint,t=cards,r=card_misuse# someone used my card"),
        make_post("twitter", "p2", "@nima", T0_MS + 30 * MIN_MS, "#s=negative,k=complaint,t=cards# still blocked"),
        make_post("twitter", "p3", "@nima", T0_MS + 40 * MIN_MS, "#s=negative,k=complaint,t=fees# and the fee!"),
        make_post("twitter", "p4", "@other", T0_MS, "#s=negative,k=complaint,t=cards# same here"),
        make_post("twitter", "p5", "@calm", T0_MS, "#s=negative,k=complaint,t=cards,p=500# maybe a complaint"),
        make_post("twitter", "p6", "@calm", T0_MS, "#s=positive,k=praise,t=cards# love the card"),
    };
    listening_ingest_result r = {0};
    assert_int_equal(listening_ingest(f->l, rows, SB_ARRAY_LEN(rows), T0_MS + HOUR_MS_T, &r), SB_OK);
    assert_int_equal(r.accepted, 6);
    assert_int_equal(r.cases_opened, 3); /* p1 (+p2 joined), p3 (other topic), p4 (other author) */
    assert_int_equal(r.cases_joined, 1);
    int64_t c1 = case_of(f, "twitter", "p1");
    assert_int_equal(case_of(f, "twitter", "p2"), c1);
    assert_true(case_of(f, "twitter", "p3") != c1);
    assert_true(case_of(f, "twitter", "p4") != c1);
    int64_t post, c;
    assert_int_equal(listening_post_find(f->l, "twitter", "p5", &post), SB_OK);
    assert_int_equal(listening_case_of_post(f->l, post, &c), SB_ENOTFOUND); /* below the probability threshold */
    store_stmt *st;
    assert_int_equal(store_query(f->s, &st,
                                 "SELECT group_concat(department, ',') FROM (SELECT department FROM "
                                 "listening_case_departments WHERE case_id = ? ORDER BY department)",
                                 "i", c1),
                     SB_OK);
    assert_int_equal(store_step(st), STORE_ROW);
    assert_string_equal(store_col_text(st, 0), "cards,legal,support");
    store_stmt_done(st);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_cases WHERE priority = 'urgent'"), 1);
    /* Urgent: 60 business minutes from ingest (Saturday 04:30 local) -> 09:00. */
    int64_t deadline;
    const char *deps[] = {"support", "cards", "legal"};
    for (int k = 0; k < 3; k++) {
        assert_int_equal(listening_case_deadline(f->l, c1, deps[k], &deadline), SB_OK);
        assert_int_equal(deadline, tehran(0, 9, 0));
    }
    /* History: opened, then the joined post. */
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_case_events WHERE type = 'opened'"), 3);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_case_events WHERE type = 'post_joined'"), 1);
    /* Append-only. */
    assert_int_not_equal(store_exec(f->s, "UPDATE listening_case_events SET actor = 'x'", ""), SB_OK);

    /* Escalation exactly once per deadline and department. */
    listening_tick_result t;
    assert_int_equal(listening_tick(f->l, tehran(0, 9, 0) - 1, &t), SB_OK);
    assert_int_equal(t.escalated, 0);
    assert_int_equal(listening_tick(f->l, tehran(0, 9, 0), &t), SB_OK);
    assert_int_equal(t.escalated, 3);
    assert_int_equal(listening_tick(f->l, tehran(0, 9, 5), &t), SB_OK);
    assert_int_equal(t.escalated, 0);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_case_departments WHERE escalation_level = 1"), 3);
    /* A disabled rule opens nothing. */
    assert_int_equal(listening_rule_enable(f->l, 1, false, T0_MS), SB_OK);
    assert_int_equal(listening_rule_enable(f->l, 999, false, T0_MS), SB_ENOTFOUND);
}

static void test_resolve_stops_clock_reopen_restarts(void **state) {
    fixture *f = *state;
    setup_rules(f);
    listening_post p =
        make_post("forum", "r1", "@kaveh", tehran(0, 7, 0), "#s=negative,k=complaint,t=loans# slow loan");
    listening_ingest_result r = {0};
    assert_int_equal(listening_ingest(f->l, &p, 1, tehran(0, 8, 0), &r), SB_OK);
    int64_t c = case_of(f, "forum", "r1"), deadline;
    /* Normal: 480 business minutes from Saturday 08:00 -> Sunday 09:00. */
    assert_int_equal(listening_case_deadline(f->l, c, "support", &deadline), SB_OK);
    assert_int_equal(deadline, tehran(1, 9, 0));
    assert_int_equal(listening_case_set_state(f->l, c, LISTENING_CASE_ACKNOWLEDGED, "agent_a", tehran(0, 9, 0)), SB_OK);
    assert_int_equal(listening_case_set_state(f->l, c, LISTENING_CASE_ACKNOWLEDGED, "agent_a", tehran(0, 9, 0)),
                     SB_ECONFLICT);
    assert_int_equal(listening_case_set_state(f->l, c, LISTENING_CASE_RESOLVED, "agent_a", tehran(0, 10, 0)), SB_OK);
    assert_int_equal(listening_case_deadline(f->l, c, "support", &deadline), SB_ENOTFOUND);
    assert_int_equal(count_rows(f->s, "SELECT business_ms_used FROM listening_case_departments"), 120 * MIN_MS);
    /* Resolved: no escalation however late. */
    listening_tick_result t;
    assert_int_equal(listening_tick(f->l, tehran(3, 9, 0), &t), SB_OK);
    assert_int_equal(t.escalated, 0);
    /* Reopened Saturday 20:00 with 360 minutes left -> Sunday 15:00. */
    assert_int_equal(listening_case_set_state(f->l, c, LISTENING_CASE_OPEN, "agent_a", tehran(0, 20, 0)), SB_OK);
    assert_int_equal(listening_case_deadline(f->l, c, "support", &deadline), SB_OK);
    assert_int_equal(deadline, tehran(1, 15, 0));
    assert_int_equal(count_rows(f->s, "SELECT reopen_count FROM listening_cases"), 1);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_case_events WHERE type = 'reopened'"), 1);
    assert_int_equal(listening_tick(f->l, tehran(1, 15, 0), &t), SB_OK);
    assert_int_equal(t.escalated, 1);
    /* A later post by the author on the same topic after resolution opens a new case. */
    assert_int_equal(listening_case_set_state(f->l, c, LISTENING_CASE_RESOLVED, "agent_a", tehran(1, 15, 30)), SB_OK);
    listening_post again =
        make_post("forum", "r2", "@kaveh", tehran(1, 16, 0), "#s=negative,k=complaint,t=loans# again");
    assert_int_equal(listening_ingest(f->l, &again, 1, tehran(1, 16, 0), &r), SB_OK);
    assert_int_equal(r.cases_opened, 1);
    assert_true(case_of(f, "forum", "r2") != c);
}

static void test_reassignment_after_business_silence(void **state) {
    fixture *f = *state;
    setup_rules(f);
    assert_int_equal(listening_agent_add(f->l, "support", "agent_a"), SB_OK);
    assert_int_equal(listening_agent_add(f->l, "support", "agent_b"), SB_OK);
    assert_int_equal(listening_agent_add(f->l, "nowhere", "agent_c"), SB_EINVAL);
    listening_post p =
        make_post("app_store", "s1", "@user1", tehran(0, 15, 0), "#s=negative,k=complaint,t=app_online# crash");
    listening_ingest_result r = {0};
    assert_int_equal(listening_ingest(f->l, &p, 1, tehran(0, 15, 0), &r), SB_OK);
    int64_t c = case_of(f, "app_store", "s1");
    assert_int_equal(listening_case_assign(f->l, c, "agent_a", "lead_zahra", tehran(0, 15, 30)), SB_OK);
    /* support reassigns after 120 business minutes: 30 on Saturday, 90 on Sunday. */
    listening_tick_result t;
    assert_int_equal(listening_tick(f->l, tehran(1, 9, 29), &t), SB_OK);
    assert_int_equal(t.reassigned, 0);
    assert_int_equal(listening_tick(f->l, tehran(1, 9, 30), &t), SB_OK);
    assert_int_equal(t.reassigned, 1);
    store_stmt *st;
    assert_int_equal(store_query(f->s, &st, "SELECT assignee FROM listening_cases WHERE id = ?", "i", c), SB_OK);
    assert_int_equal(store_step(st), STORE_ROW);
    assert_string_equal(store_col_text(st, 0), "agent_b");
    store_stmt_done(st);
    /* agent_b replies: the clock of silence restarts. */
    int64_t reply;
    assert_int_equal(listening_case_reply(f->l, c, "agent_b", "Sorry! Which phone model?", tehran(1, 10, 0), &reply),
                     SB_OK);
    assert_int_equal(listening_tick(f->l, tehran(1, 11, 59), &t), SB_OK);
    assert_int_equal(t.reassigned, 0);
    assert_int_equal(count_rows(f->s,
                                "SELECT COUNT(*) FROM listening_replies WHERE channel = 'external' AND delivery = "
                                "'to_post' AND text = 'Sorry! Which phone model?'"),
                     1);
    assert_int_equal(listening_case_note(f->l, c, "agent_b", "asked for the model", tehran(1, 10, 1)), SB_OK);
    assert_int_equal(listening_case_note(f->l, c, "agent_b", "", tehran(1, 10, 1)), SB_EINVAL);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_case_events WHERE type IN ('assigned', "
                                      "'reassigned', 'reply', 'note')"),
                     4);
}

static int hook_calls;
static int hook_deliver(void *arg, int64_t case_id, const char *author, const char *text) {
    (void)arg;
    (void)case_id;
    hook_calls++;
    return strcmp(author, "user:77") == 0 && strcmp(text, "We refunded it") == 0 ? SB_OK : SB_EIO;
}

static void test_messenger_reply_hook(void **state) {
    fixture *f = *state;
    setup_rules(f);
    listening_post p =
        make_post("messenger", "m1", "user:77", T0_MS, "#s=negative,k=complaint,t=transfers# lost transfer");
    listening_ingest_result r = {0};
    assert_int_equal(listening_ingest(f->l, &p, 1, T0_MS, &r), SB_OK);
    int64_t c = case_of(f, "messenger", "m1");
    /* Without a hook the reply waits. */
    assert_int_equal(listening_case_reply(f->l, c, "agent_a", "We refunded it", T0_MS + MIN_MS, NULL), SB_OK);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_replies WHERE delivery = 'pending'"), 1);
    listening_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.reply_hook.deliver = hook_deliver;
    listening *with_hook;
    assert_int_equal(listening_open(f->s, &cfg, &with_hook), SB_OK);
    assert_int_equal(listening_case_reply(with_hook, c, "agent_a", "We refunded it", T0_MS + 2 * MIN_MS, NULL), SB_OK);
    assert_int_equal(hook_calls, 1);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_replies WHERE channel = 'messenger' AND delivery "
                                      "= 'delivered'"),
                     1);
    listening_close(with_hook);
    assert_int_equal(listening_case_reply(f->l, 9999, "agent_a", "x", T0_MS, NULL), SB_ENOTFOUND);
}

static void test_department_set(void **state) {
    fixture *f = *state;
    listening_calendar cal;
    memset(&cal, 0, sizeof cal);
    cal.utc_offset_minutes = 120; /* Kyiv */
    for (int d = 1; d <= 5; d++)
        assert_int_equal(listening_calendar_add(&cal, d, 540, 1080), SB_OK);
    assert_int_equal(listening_department_set(f->l, "kyiv_support", &cal, 60), SB_OK);
    listening_calendar back;
    assert_int_equal(listening_calendar_load(f->l, "kyiv_support", &back), SB_OK);
    assert_int_equal(back.utc_offset_minutes, 120);
    assert_int_equal(back.period_count[1], 1);
    assert_int_equal(back.period_count[6], 0);
    assert_int_equal(back.periods[5][0].end_minute, 1080);
    listening_calendar empty;
    memset(&empty, 0, sizeof empty);
    assert_int_equal(listening_department_set(f->l, "x", &empty, 60), SB_EINVAL);
    assert_int_equal(listening_calendar_load(f->l, "nope", &back), SB_ENOTFOUND);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_business_add_and_between),
        cmocka_unit_test_setup_teardown(test_rules_route_to_several_departments, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_resolve_stops_clock_reopen_restarts, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_reassignment_after_business_silence, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_messenger_reply_hook, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_department_set, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_rules_json_and_delete, fixture_setup, fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
