/*
 * test_listening_ingest.c - posts end to end inside the domain: dedup and
 * merge, rejected rows with reasons while good rows land, raw text sealed
 * at rest, understanding stored, corrections winning and exported,
 * statistics maintained and recomputable, advocates, leads only with
 * consent, and erasure leaving nothing of an author.
 */
#include <math.h>
#include <sodium.h>

#include "listening_test_util.h"

static void test_dedup_merges_counts(void **state) {
    fixture *f = *state;
    listening_post p = make_post("twitter", "t1", "@ali", T0_MS, "#s=positive# great app");
    p.likes = 5;
    p.shares = 1;
    listening_ingest_result r = {0};
    assert_int_equal(listening_ingest(f->l, &p, 1, T0_MS, &r), SB_OK);
    assert_int_equal(r.accepted, 1);
    /* The same post again (a later export): counts move, nothing doubles. */
    listening_post again[2] = {p, p};
    again[0].likes = 9;
    again[0].shares = 0; /* an older snapshot never lowers a count */
    again[1].likes = 7;
    again[1].author_reach = 5000;
    assert_int_equal(listening_ingest(f->l, again, 2, T0_MS + 1000, &r), SB_OK);
    assert_int_equal(r.accepted, 0);
    assert_int_equal(r.duplicates, 2);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_posts"), 1);
    assert_int_equal(count_rows(f->s, "SELECT likes FROM listening_posts"), 9);
    assert_int_equal(count_rows(f->s, "SELECT shares FROM listening_posts"), 1);
    assert_int_equal(count_rows(f->s, "SELECT author_reach FROM listening_posts"), 5000);
    listening_stat st;
    assert_int_equal(listening_stat_get(f->l, "day", T0_MS, "all", "", &st), SB_OK);
    assert_int_equal(st.posts, 1);
    assert_int_equal(st.positive, 1);
    /* Same external id on another source is another post. */
    listening_post other = make_post("instagram", "t1", "@ali", T0_MS, "hi");
    assert_int_equal(listening_ingest(f->l, &other, 1, T0_MS, &r), SB_OK);
    assert_int_equal(r.accepted, 1);
}

static void test_rejections_with_reasons(void **state) {
    fixture *f = *state;
    char *huge = malloc(SB_LISTENING_TEXT_BYTES_MAX + 2);
    memset(huge, 'a', SB_LISTENING_TEXT_BYTES_MAX + 1);
    huge[SB_LISTENING_TEXT_BYTES_MAX + 1] = '\0';
    char long_id[SB_LISTENING_EXTERNAL_ID_BYTES_MAX + 2];
    memset(long_id, '7', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    listening_post rows[] = {
        make_post("twitter", "ok1", "@a", T0_MS, "fine"),
        make_post("myspace", "x1", "@a", T0_MS, "unknown network"),
        make_post("twitter", "", "@a", T0_MS, "no id"),
        make_post("twitter", "x3", NULL, T0_MS, "no author"),
        make_post("twitter", "x4", "@a", T0_MS, "\xc3\x28 broken"),
        make_post("twitter", "x5", "@a", T0_MS, huge),
        make_post("twitter", "x6", "@a", T0_MS + 3 * DAY_MS_T, "from the future"),
        make_post("twitter", "x7", "@a", 1000, "from 1970"),
        make_post("twitter", long_id, "@a", T0_MS, "long id"),
        make_post("twitter", "x9", "@a", T0_MS, NULL),
        make_post(NULL, "x10", "@a", T0_MS, "no source"),
        make_post("forum", "ok2", "@b", T0_MS, "also fine"),
    };
    rows[1].likes = 0;
    listening_post negative = make_post("twitter", "x11", "@a", T0_MS, "neg");
    negative.likes = -1;
    listening_post all[SB_ARRAY_LEN(rows) + 1];
    memcpy(all, rows, sizeof rows);
    all[SB_ARRAY_LEN(rows)] = negative;
    listening_rejection rej[32];
    listening_ingest_result r = {.rejections = rej, .rejections_cap = 32};
    assert_int_equal(listening_ingest(f->l, all, SB_ARRAY_LEN(all), T0_MS, &r), SB_OK);
    assert_int_equal(r.accepted, 2);
    assert_int_equal(r.rejected, 11);
    const char *want[] = {"unknown_source", "missing_external_id", "missing_author", "invalid_utf8",
                          "text_too_long",  "time_in_future",      "time_too_old",   "external_id_too_long",
                          "missing_text",   "missing_source",      "bad_count"};
    size_t want_index[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12};
    for (size_t k = 0; k < 11; k++) {
        assert_int_equal(rej[k].index, want_index[k]);
        assert_string_equal(rej[k].reason, want[k]);
    }
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_posts"), 2);
    /* A batch over the limit is refused whole. */
    assert_int_equal(listening_ingest(f->l, all, SB_LISTENING_BATCH_POSTS_MAX + 1, T0_MS, &r), SB_ELIMIT);
    free(huge);
}

static void test_redacted_text_and_sealed_raw(void **state) {
    (void)state;
    void *st2 = NULL;
    listening_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.store_raw = true;
    cfg.understander.understand = scripted_understand;
    assert_int_equal(sb_crypto_init(), SB_OK);
    randombytes_buf(cfg.raw_key, sizeof cfg.raw_key);
    assert_int_equal(fixture_setup_with(&st2, &cfg), 0);
    fixture *f = st2;
    const char *raw = "my card 6037991234567893 and phone 09121234567 leaked";
    listening_post p = make_post("telegram", "m1", "@reza", T0_MS, raw);
    listening_ingest_result r = {0};
    assert_int_equal(listening_ingest(f->l, &p, 1, T0_MS, &r), SB_OK);
    store_stmt *st;
    assert_int_equal(store_query(f->s, &st, "SELECT text, redactions, raw_sealed FROM listening_posts", ""), SB_OK);
    assert_int_equal(store_step(st), STORE_ROW);
    assert_string_equal(store_col_text(st, 0), "my card [card] and phone [phone] leaked");
    assert_int_equal(store_col_int64(st, 1), 2);
    assert_null(memmem(store_col_blob(st, 2), (size_t)store_col_bytes(st, 2), "6037", 4));
    store_stmt_done(st);
    int64_t id;
    assert_int_equal(listening_post_find(f->l, "telegram", "m1", &id), SB_OK);
    char *back;
    size_t back_len;
    assert_int_equal(listening_post_raw(f->l, id, &back, &back_len), SB_OK);
    assert_string_equal(back, raw);
    sb_free(back);
    /* Another context with another key cannot read it; one without raw storage may not. */
    listening *wrong;
    listening_config other = cfg;
    other.raw_key[0] ^= 0xff;
    assert_int_equal(listening_open(f->s, &other, &wrong), SB_OK);
    assert_int_equal(listening_post_raw(wrong, id, &back, &back_len), SB_ECORRUPT);
    listening_close(wrong);
    listening *off;
    assert_int_equal(listening_open(f->s, NULL, &off), SB_OK);
    assert_int_equal(listening_post_raw(off, id, &back, &back_len), SB_EPERM);
    listening_close(off);
    assert_int_equal(fixture_teardown(&st2), 0);
}

static void test_without_raw_nothing_raw_is_kept(void **state) {
    fixture *f = *state;
    listening_post p = make_post("telegram", "m1", "@reza", T0_MS, "email me: reza@example.org");
    listening_ingest_result r = {0};
    assert_int_equal(listening_ingest(f->l, &p, 1, T0_MS, &r), SB_OK);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_posts WHERE raw_sealed IS NULL"), 1);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_posts WHERE text = 'email me: [email]'"), 1);
}

static void test_understanding_stored_and_checked(void **state) {
    fixture *f = *state;
    listening_post p = make_post("twitter", "u1", "@a", T0_MS,
                                 "#s=negative,k=complaint,t=fees,g=ru,p=870,r=threat_leave,c=Tinkoff# fees again");
    listening_ingest_result r = {0};
    assert_int_equal(listening_ingest(f->l, &p, 1, T0_MS, &r), SB_OK);
    assert_int_equal(r.not_understood, 0);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_understanding WHERE lang = 'ru' AND sentiment = "
                                      "'negative' AND kind = 'complaint' AND topic = 'fees' AND kind_permille = 870"),
                     1);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_signals WHERE kind = 'risk' AND name = "
                                      "'threat_leave' AND trigger_words = 'threat_leave'"),
                     1);
    listening_stat st;
    assert_int_equal(listening_stat_get(f->l, "hour", T0_MS, "competitor", "Tinkoff", &st), SB_OK);
    assert_int_equal(st.negative, 1);
    assert_int_equal(listening_stat_get(f->l, "day", T0_MS, "lang", "ru", &st), SB_OK);
    assert_int_equal(st.posts, 1);
    /* A bad label from the engine: the post is kept, not understood. */
    listening_post bad = make_post("twitter", "u2", "@a", T0_MS, "#s=furious# !!!");
    assert_int_equal(listening_ingest(f->l, &bad, 1, T0_MS, &r), SB_OK);
    assert_int_equal(r.accepted, 1);
    assert_int_equal(r.not_understood, 1);
    listening_understanding u;
    assert_int_equal(scripted_understand(NULL, "x", 1, &u), SB_OK);
    snprintf(u.risks[0].name, sizeof u.risks[0].name, "alien_invasion");
    u.risk_count = 1;
    assert_int_equal(listening_understanding_check(&u), SB_EINVAL);
}

static void test_corrections_win_and_export(void **state) {
    fixture *f = *state;
    listening_post rows[] = {
        make_post("twitter", "c1", "@a", T0_MS, "#s=positive,k=praise,t=app_online# \"quick\" app"),
        make_post("twitter", "c2", "@b", T0_MS, "#s=neutral,k=question,t=cards# card?"),
    };
    listening_ingest_result r = {0};
    assert_int_equal(listening_ingest(f->l, rows, 2, T0_MS, &r), SB_OK);
    int64_t id;
    assert_int_equal(listening_post_find(f->l, "twitter", "c1", &id), SB_OK);
    assert_int_equal(listening_correct(f->l, id, "sentiment", "negative", "analyst_maryam", T0_MS + 5), SB_OK);
    assert_int_equal(listening_correct(f->l, id, "kind", "complaint", "analyst_maryam", T0_MS + 6), SB_OK);
    assert_int_equal(listening_correct(f->l, id, "kind", "suggestion", "analyst_oleh", T0_MS + 7), SB_OK);
    assert_int_equal(listening_correct(f->l, id, "topic", "space", "analyst_oleh", T0_MS), SB_EINVAL);
    assert_int_equal(listening_correct(f->l, 9999, "topic", "fees", "analyst_oleh", T0_MS), SB_ENOTFOUND);
    char label[LISTENING_LABEL_BYTES];
    assert_int_equal(listening_label_get(f->l, id, "sentiment", label), SB_OK);
    assert_string_equal(label, "negative");
    assert_int_equal(listening_label_get(f->l, id, "kind", label), SB_OK);
    assert_string_equal(label, "suggestion"); /* the newest correction */
    assert_int_equal(listening_label_get(f->l, id, "topic", label), SB_OK);
    assert_string_equal(label, "app_online"); /* untouched: the model's */
    /* Who corrected is kept. */
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_corrections WHERE corrected_by = 'analyst_oleh'"),
                     1);
    /* The statistics follow the correction. */
    listening_stat st;
    assert_int_equal(listening_stat_get(f->l, "day", T0_MS, "all", "", &st), SB_OK);
    assert_int_equal(st.posts, 2);
    assert_int_equal(st.positive, 0);
    assert_int_equal(st.negative, 1);
    assert_int_equal(st.neutral, 1);
    /* Export: only corrected posts, effective labels, the format `socialbank train` reads. */
    sb_buf out;
    sb_buf_init(&out, 1 << 20);
    size_t rows_out;
    assert_int_equal(listening_corrections_export(f->l, &out, &rows_out), SB_OK);
    assert_int_equal(rows_out, 1);
    assert_string_equal(out.data, "{\"text\":\"#s=positive,k=praise,t=app_online# \\\"quick\\\" app\",\"lang\":\"en\","
                                  "\"sentiment\":\"negative\",\"kind\":\"suggestion\",\"topic\":\"app_online\"}\n");
    json_error_t err;
    json_t *line = json_loads(out.data, JSON_DISABLE_EOF_CHECK, &err);
    assert_non_null(line);
    assert_string_equal(json_string_value(json_object_get(line, "sentiment")), "negative");
    json_decref(line);
    sb_buf_free(&out);
    /* Recomputing from scratch gives the same numbers. */
    assert_int_equal(listening_stats_recompute(f->l), SB_OK);
    assert_int_equal(listening_stat_get(f->l, "day", T0_MS, "all", "", &st), SB_OK);
    assert_int_equal(st.posts, 2);
    assert_int_equal(st.negative, 1);
    assert_int_equal(st.neutral, 1);
}

static void test_stats_by_hour_day_source_topic(void **state) {
    fixture *f = *state;
    listening_post rows[] = {
        make_post("twitter", "s1", "@a", T0_MS + 10 * MIN_MS, "#s=negative,t=fees,g=fa# a"),
        make_post("twitter", "s2", "@b", T0_MS + 20 * MIN_MS, "#s=positive,t=fees,g=fa# b"),
        make_post("forum", "s3", "@c", T0_MS + 70 * MIN_MS, "#s=negative,t=cards,g=uk# c"),
        make_post("forum", "s4", "@d", T0_MS + DAY_MS_T, "#s=negative,t=cards,g=uk# d"),
    };
    listening_ingest_result r = {0};
    assert_int_equal(listening_ingest(f->l, rows, 4, T0_MS + 2 * DAY_MS_T, &r), SB_OK);
    listening_stat st;
    assert_int_equal(listening_stat_get(f->l, "hour", T0_MS, "all", "", &st), SB_OK);
    assert_int_equal(st.posts, 2);
    assert_int_equal(st.positive - st.negative, 0);
    assert_int_equal(listening_stat_get(f->l, "hour", T0_MS + HOUR_MS_T, "source", "forum", &st), SB_OK);
    assert_int_equal(st.negative, 1);
    assert_int_equal(listening_stat_get(f->l, "day", T0_MS, "topic", "fees", &st), SB_OK);
    assert_int_equal(st.posts, 2);
    assert_int_equal(listening_stat_get(f->l, "day", T0_MS, "lang", "uk", &st), SB_OK);
    assert_int_equal(st.posts, 1);
    assert_int_equal(listening_stat_get(f->l, "day", T0_MS + DAY_MS_T, "source", "forum", &st), SB_OK);
    assert_int_equal(st.posts, 1);
    assert_int_equal(listening_stat_get(f->l, "day", T0_MS + 5 * DAY_MS_T, "all", "", &st), SB_OK);
    assert_int_equal(st.posts, 0);
}

static void test_advocates_ranked_by_reach(void **state) {
    fixture *f = *state;
    listening_post rows[] = {
        make_post("instagram", "a1", "@small", T0_MS, "#s=positive# love it"),
        make_post("instagram", "a2", "@small", T0_MS, "#s=positive# love it again"),
        make_post("instagram", "a3", "@small", T0_MS, "#s=positive# and again"),
        make_post("instagram", "a4", "@big", T0_MS, "#s=positive# thanks"),
        make_post("instagram", "a5", "@grumpy", T0_MS, "#s=negative# meh"),
        make_post("twitter", "a6", "@mid", T0_MS, "#s=positive# nice"),
        make_post("twitter", "a7", "@mid", T0_MS, "#s=positive# nice"),
    };
    rows[0].author_reach = rows[1].author_reach = rows[2].author_reach = 20; /* 3 * ln 21 = 9.13 */
    rows[3].author_reach = 100000;                                           /* 1 * ln 100001 = 11.51 */
    rows[4].author_reach = 1000000;
    rows[5].author_reach = rows[6].author_reach = 999; /* 2 * ln 1000 = 13.82 */
    listening_ingest_result r = {0};
    assert_int_equal(listening_ingest(f->l, rows, SB_ARRAY_LEN(rows), T0_MS, &r), SB_OK);
    listening_advocate adv[2];
    size_t n;
    assert_int_equal(listening_advocates(f->l, adv, 2, &n), SB_OK);
    assert_int_equal(n, 2);
    assert_string_equal(adv[0].author, "@mid");
    assert_float_equal(adv[0].score, 2 * log(1000.0), 1e-9);
    assert_string_equal(adv[1].author, "@big");
    listening_advocate all[8];
    assert_int_equal(listening_advocates(f->l, all, 8, &n), SB_OK);
    assert_int_equal(n, 3); /* @grumpy has no positive post */
    assert_string_equal(all[2].author, "@small");
    assert_int_equal(all[2].positive_posts, 3);
}

static void test_leads_only_with_consent(void **state) {
    fixture *f = *state;
    assert_int_equal(listening_consent_add(f->l, 42, "instagram", "@sara", T0_MS - 1000, NULL), SB_OK);
    listening_post rows[] = {
        make_post("instagram", "l1", "@sara", T0_MS, "#s=positive,l=new_child# our baby girl arrived"),
        make_post("instagram", "l2", "@stranger", T0_MS, "#s=positive,l=wedding,l=new_home# we got married"),
        make_post("twitter", "l3", "@sara", T0_MS, "#s=positive,l=travel_abroad# off to Istanbul"),
    };
    listening_ingest_result r = {0};
    assert_int_equal(listening_ingest(f->l, rows, 3, T0_MS, &r), SB_OK);
    assert_int_equal(r.leads, 1);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_leads WHERE customer_id = 42 AND life_event = "
                                      "'new_child' AND offer = 'child_savings'"),
                     1);
    /* Nothing beyond the post about authors without consent (the twitter
     * handle is another account: consent is per source). */
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_leads"), 1);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_signals WHERE kind = 'life_event'"), 1);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_signals s JOIN listening_posts p ON p.id = "
                                      "s.post_id WHERE p.author = '@stranger' OR p.source = 'twitter'"),
                     0);
    /* Withdrawal removes what the consent allowed and stops new leads. */
    assert_int_equal(listening_consent_withdraw(f->l, "instagram", "@sara", T0_MS + 10), SB_OK);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_leads"), 0);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_signals WHERE kind = 'life_event'"), 0);
    listening_post later = make_post("instagram", "l4", "@sara", T0_MS + 20, "#s=positive,l=new_job# new job!");
    assert_int_equal(listening_ingest(f->l, &later, 1, T0_MS + 20, &r), SB_OK);
    assert_int_equal(r.leads, 0);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_leads"), 0);
    assert_int_equal(listening_consent_withdraw(f->l, "instagram", "@sara", T0_MS + 30), SB_ENOTFOUND);
}

static void test_erasure_leaves_nothing(void **state) {
    fixture *f = *state;
    assert_int_equal(listening_consent_add(f->l, 7, "twitter", "@victim", T0_MS - 1, NULL), SB_OK);
    listening_post rows[] = {
        make_post("twitter", "e1", "@victim", T0_MS,
                  "#s=negative,k=complaint,t=cards,r=card_misuse,c=Monobank,l=new_home# card stolen 09121234567"),
        make_post("twitter", "e2", "@victim", T0_MS + MIN_MS, "#s=negative,k=complaint,t=cards# still nothing"),
        make_post("twitter", "e3", "@other", T0_MS, "#s=negative,k=complaint,t=cards# me too"),
    };
    listening_ingest_result r = {0};
    assert_int_equal(listening_ingest(f->l, rows, 3, T0_MS + 2 * MIN_MS, &r), SB_OK);
    int64_t e1, case_id;
    assert_int_equal(listening_post_find(f->l, "twitter", "e1", &e1), SB_OK);
    assert_int_equal(listening_correct(f->l, e1, "topic", "fraud_security", "analyst", T0_MS + 3 * MIN_MS), SB_OK);
    assert_int_equal(listening_case_of_post(f->l, e1, &case_id), SB_OK);
    assert_int_equal(listening_case_note(f->l, case_id, "agent_a", "called the customer", T0_MS + 4 * MIN_MS), SB_OK);
    assert_int_equal(listening_case_reply(f->l, case_id, "agent_a", "please DM us", T0_MS + 5 * MIN_MS, NULL), SB_OK);
    assert_true(count_rows(f->s, "SELECT COUNT(*) FROM listening_leads") == 1);

    listening_erase_result er;
    assert_int_equal(listening_erase_author(f->l, "twitter", "@victim", &er), SB_OK);
    assert_int_equal(er.posts, 2);
    assert_true(er.cases >= 1);
    assert_int_equal(er.consents, 1);
    const char *checks[] = {
        "SELECT COUNT(*) FROM listening_posts WHERE author = '@victim'",
        "SELECT COUNT(*) FROM listening_understanding WHERE post_id NOT IN (SELECT id FROM listening_posts)",
        "SELECT COUNT(*) FROM listening_signals WHERE post_id NOT IN (SELECT id FROM listening_posts)",
        "SELECT COUNT(*) FROM listening_corrections",
        "SELECT COUNT(*) FROM listening_leads",
        "SELECT COUNT(*) FROM listening_cases WHERE author = '@victim'",
        "SELECT COUNT(*) FROM listening_case_posts WHERE post_id NOT IN (SELECT id FROM listening_posts)",
        "SELECT COUNT(*) FROM listening_case_events WHERE case_id NOT IN (SELECT id FROM listening_cases)",
        "SELECT COUNT(*) FROM listening_case_departments WHERE case_id NOT IN (SELECT id FROM listening_cases)",
        "SELECT COUNT(*) FROM listening_replies",
        "SELECT COUNT(*) FROM listening_consents",
        "SELECT COUNT(*) FROM listening_stats WHERE dimension = 'competitor' AND posts > 0",
        "SELECT COUNT(*) FROM listening_stats WHERE dimension = 'risk' AND posts > 0",
        "SELECT COUNT(*) FROM listening_case_events WHERE detail LIKE '%victim%' OR actor LIKE '%victim%'",
    };
    for (size_t k = 0; k < SB_ARRAY_LEN(checks); k++) {
        int64_t n = count_rows(f->s, checks[k]);
        if (n != 0) fail_msg("%s -> %lld", checks[k], (long long)n);
    }
    /* The other author's post and case remain; the statistics equal a recompute. */
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_posts"), 1);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_cases"), 1);
    listening_stat st;
    assert_int_equal(listening_stat_get(f->l, "day", T0_MS, "all", "", &st), SB_OK);
    assert_int_equal(st.posts, 1);
    int64_t before = count_rows(f->s, "SELECT SUM(posts * 7 + negative) FROM listening_stats");
    assert_int_equal(listening_stats_recompute(f->l), SB_OK);
    assert_int_equal(count_rows(f->s, "SELECT SUM(posts * 7 + negative) FROM listening_stats"), before);
}

/* Every allocation failing in turn: the batch either lands whole or not at
 * all, and nothing leaks (the sanitizer build checks). */
static void test_allocation_failures_roll_back(void **state) {
    fixture *f = *state;
    listening_post rows[] = {
        make_post("twitter", "f1", "@a", T0_MS, "#s=negative,k=complaint,t=cards,r=card_misuse# card 4111111111111111"),
        make_post("twitter", "f2", "@a", T0_MS + MIN_MS, "#s=negative,k=complaint,t=cards# still"),
        make_post("forum", "f3", "@b", T0_MS, "#s=positive,c=Tinkoff# ok"),
    };
    bool landed = false;
    for (long n = 0; n < 200 && !landed; n++) {
        listening_ingest_result r = {0};
        sb_alloc_fail_after(n);
        int rc = listening_ingest(f->l, rows, SB_ARRAY_LEN(rows), T0_MS + HOUR_MS_T, &r);
        sb_alloc_fail_reset();
        int64_t posts = count_rows(f->s, "SELECT COUNT(*) FROM listening_posts");
        if (rc == SB_OK) {
            assert_int_equal(posts, 3);
            assert_int_equal(r.cases_opened, 1);
            landed = true;
        } else {
            assert_int_equal(rc, SB_ENOMEM);
            assert_int_equal(posts, 0);
            assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_stats"), 0);
            assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_cases"), 0);
        }
    }
    assert_true(landed);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dedup_merges_counts, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_rejections_with_reasons, fixture_setup, fixture_teardown),
        cmocka_unit_test(test_redacted_text_and_sealed_raw),
        cmocka_unit_test_setup_teardown(test_without_raw_nothing_raw_is_kept, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_understanding_stored_and_checked, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_corrections_win_and_export, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_stats_by_hour_day_source_topic, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_advocates_ranked_by_reach, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_leads_only_with_consent, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_erasure_leaves_nothing, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_allocation_failures_roll_back, fixture_setup, fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
