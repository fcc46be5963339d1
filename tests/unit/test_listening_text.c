/*
 * test_listening_text.c - the text engine as the listening understander,
 * with the shipped default model (built next to the binary): language and
 * signals are exact (lexicons), labels come from the model and must be in
 * the listening vocabulary; ingest stores what the engine understood.
 */
#include "listening_test_util.h"

static listening_text_engine *engine;

static int group_setup(void **state) {
    (void)state;
    const char *bin = getenv("SB_BINARY");
    if (!bin) return -1;
    char path[512];
    snprintf(path, sizeof path, "%s", bin);
    char *slash = strrchr(path, '/');
    if (!slash) return -1;
    snprintf(slash, sizeof path - (size_t)(slash - path), "/models/default.sbm");
    char err[TEXT_ERROR_BYTES];
    if (listening_text_engine_open(path, &engine, err) != SB_OK) {
        fprintf(stderr, "cannot load %s: %s\n", path, err);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    listening_text_engine_free(engine);
    return 0;
}

static void understand_text(const char *text, listening_understanding *u) {
    listening_understander und = listening_text_understander(engine);
    assert_int_equal(und.understand(und.arg, text, strlen(text), u), SB_OK);
    assert_int_equal(listening_understanding_check(u), SB_OK);
    assert_string_equal(u->model, "default.sbm");
}

static bool has_signal(const listening_signal *list, size_t count, const char *name) {
    for (size_t i = 0; i < count; i++)
        if (strcmp(list[i].name, name) == 0) return true;
    return false;
}

static void test_languages_and_risks(void **state) {
    (void)state;
    listening_understanding u;
    understand_text("یکی با کارت من بدون اجازه خرید کرده، پول از حسابم برداشته شده", &u);
    assert_string_equal(u.lang, "fa");
    assert_true(has_signal(u.risks, u.risk_count, "card_misuse"));
    understand_text("Кажуть, що банк скоро збанкрутує, всі знімають гроші", &u);
    assert_string_equal(u.lang, "uk");
    assert_true(has_signal(u.risks, u.risk_count, "insolvency_rumour"));
    understand_text("Говорят, банк скоро обанкротится, все снимают деньги", &u);
    assert_string_equal(u.lang, "ru");
    understand_text("We just had a baby boy! Thanks for the quick transfer, great app", &u);
    assert_string_equal(u.lang, "en");
    assert_true(has_signal(u.life_events, u.life_event_count, "new_child"));
    /* The model answers every head with a label of the vocabulary. */
    assert_true(listening_label_valid("sentiment", u.sentiment));
    assert_true(listening_label_valid("kind", u.kind));
    assert_true(listening_label_valid("topic", u.topic));
    assert_in_range(u.sentiment_permille, 1, 1000);
}

static void test_clear_sentiment(void **state) {
    (void)state;
    listening_understanding u;
    understand_text("The worst bank ever, my transfer is stuck for a week and nobody answers the phone", &u);
    assert_string_equal(u.sentiment, "negative");
    understand_text("Thank you, the staff at the branch were wonderful and helpful", &u);
    assert_string_equal(u.sentiment, "positive");
}

static void test_ingest_with_the_engine(void **state) {
    (void)state;
    void *st = NULL;
    listening_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.understander = listening_text_understander(engine);
    assert_int_equal(fixture_setup_with(&st, &cfg), 0);
    fixture *f = st;
    listening_post p = make_post("twitter", "t1", "@olena", T0_MS,
                                 "Хтось зняв гроші з моєї картки 6037991234567893 без мого відома!");
    listening_ingest_result r = {0};
    assert_int_equal(listening_ingest(f->l, &p, 1, T0_MS, &r), SB_OK);
    assert_int_equal(r.accepted, 1);
    assert_int_equal(r.not_understood, 0);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_understanding WHERE lang = 'uk'"), 1);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_signals WHERE name = 'card_misuse'"), 1);
    fixture_teardown(&st);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_languages_and_risks),
        cmocka_unit_test(test_clear_sentiment),
        cmocka_unit_test(test_ingest_with_the_engine),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
