/*
 * test_listening_import.c - the file formats and their registry, the
 * importer (threads or not, batches of any size: the same posts, counts,
 * rejections with their lines, and statistics equal to a recompute from the
 * posts), the Telegram export reader's edge cases, channel comments as
 * posts, and the feed (queue, drain, duplicates, a full queue).
 */
#include <pthread.h>
#include <unistd.h>

#include "listening_test_util.h"

/* ---- registry ---- */
static void test_registry(void **state) {
    (void)state;
    assert_ptr_equal(listening_format_find("jsonl"), &listening_format_jsonl);
    assert_ptr_equal(listening_format_find("csv"), &listening_format_csv);
    assert_ptr_equal(listening_format_find("telegram"), &listening_format_telegram);
    assert_null(listening_format_find("xml"));
    assert_null(listening_format_find(NULL));
    assert_ptr_equal(listening_format_for_path("exports/a.JSONL"), &listening_format_jsonl);
    assert_ptr_equal(listening_format_for_path("reviews.csv"), &listening_format_csv);
    assert_ptr_equal(listening_format_for_path("/tmp/ChatExport/result.json"), &listening_format_telegram);
    assert_null(listening_format_for_path("posts"));
    assert_null(listening_format_for_path("dir.v2/posts"));
    assert_null(listening_format_for_path("posts."));
    size_t n = 0;
    for (; listening_formats[n]; n++) {
        assert_non_null(listening_formats[n]->open);
        assert_non_null(listening_formats[n]->next);
        assert_non_null(listening_formats[n]->position);
    }
    assert_int_equal(n, 3);
}

/* ---- the importer ---- */
/* 1000 lines: every 10th a duplicate of an earlier id, every 97th bad JSON,
 * every 89th an unknown source; sentiments and topics vary by line. */
static void export_make(sb_buf *out) {
    static const char *const sentiments[] = {"negative", "positive", "neutral"};
    static const char *const topics[] = {"cards", "fees", "app_online", "transfers"};
    for (int line = 1; line <= 1000; line++) {
        int result;
        if (line % 97 == 0) {
            result = sb_buf_printf(out, "{\"source\":\"twitter\",\"id\":\"x%d\",\n", line);
        } else {
            int id = line % 10 == 0 ? line - 5 : line;
            result = sb_buf_printf(out,
                                   "{\"source\":\"%s\",\"id\":\"p%d\",\"author\":\"@a%d\",\"followers\":%d,"
                                   "\"time\":%lld,\"likes\":%d,\"text\":\"#s=%s,k=complaint,t=%s,c=Tinkoff# post %d "
                                   "card 6037991234567893\"}\n",
                                   line % 89 == 0 ? "myspace" : "forum", id, line % 37, line, T0_MS + line * 60000LL,
                                   line % 10 == 0 ? 1000 : 1, sentiments[line % 3], topics[line % 4], line);
        }
        assert_int_equal(result, SB_OK);
    }
}

typedef struct {
    listening_import_result r;
    int64_t posts, cases, stats_rows, stats_posts, likes;
} import_outcome;

static void import_run(int threads, size_t batch, import_outcome *o) {
    void *state = NULL;
    assert_int_equal(fixture_setup(&state), 0);
    fixture *f = state;
    sb_buf data;
    sb_buf_init(&data, 1 << 24);
    export_make(&data);
    listening_import_options opt = {.batch_posts = batch, .threads = threads};
    const char *reason = "unset";
    assert_int_equal(
        listening_import(f->l, &listening_format_jsonl, data.data, data.len, &opt, T0_MS + DAY_MS_T, &o->r, &reason),
        SB_OK);
    assert_null(reason);
    o->posts = count_rows(f->s, "SELECT COUNT(*) FROM listening_posts");
    o->cases = count_rows(f->s, "SELECT COUNT(*) FROM listening_cases");
    o->likes = count_rows(f->s, "SELECT SUM(likes) FROM listening_posts");
    o->stats_rows = count_rows(f->s, "SELECT COUNT(*) FROM listening_stats");
    o->stats_posts = count_rows(f->s, "SELECT SUM(posts * 7 + positive * 3 + negative * 5) FROM listening_stats");
    /* The batch-summed statistics are exactly what the posts give one by one. */
    store_stmt *st;
    assert_int_equal(store_query(f->s, &st,
                                 "SELECT group_concat(granularity || bucket_ms || dimension || value || posts || "
                                 "positive || negative || neutral, ';') FROM (SELECT * FROM listening_stats ORDER BY "
                                 "1, 2, 3, 4)",
                                 ""),
                     SB_OK);
    assert_int_equal(store_step(st), STORE_ROW);
    char *before = strdup(store_col_text(st, 0));
    store_stmt_done(st);
    assert_int_equal(listening_stats_recompute(f->l), SB_OK);
    assert_int_equal(store_query(f->s, &st,
                                 "SELECT group_concat(granularity || bucket_ms || dimension || value || posts || "
                                 "positive || negative || neutral, ';') FROM (SELECT * FROM listening_stats WHERE "
                                 "posts > 0 ORDER BY 1, 2, 3, 4)",
                                 ""),
                     SB_OK);
    assert_int_equal(store_step(st), STORE_ROW);
    assert_string_equal(before, store_col_text(st, 0));
    store_stmt_done(st);
    free(before);
    sb_buf_free(&data);
    fixture_teardown(&state);
}

static void test_import_counts_and_lines(void **state) {
    (void)state;
    import_outcome o;
    memset(&o, 0, sizeof o);
    import_run(0, 1000, &o);
    /* 1000 lines: 10 bad JSON (97, 194, ... 970), 11 unknown sources (89 ...
     * 979); of the rest, lines ending in 0 repeat an earlier id. */
    assert_int_equal(o.r.records, 1000);
    assert_int_equal(o.r.rejected, 10 + 11);
    assert_int_equal(o.r.reason_count, 2);
    assert_string_equal(o.r.reasons[0].reason, "unknown_source");
    assert_int_equal(o.r.reasons[0].count, 11);
    assert_string_equal(o.r.reasons[1].reason, "bad_json");
    assert_int_equal(o.r.reasons[1].count, 10);
    assert_int_equal(o.r.first_count, LISTENING_IMPORT_FIRST_REJECTIONS);
    static const size_t lines[] = {89, 97, 178, 194, 267, 291, 356, 388, 445, 485};
    for (size_t k = 0; k < SB_ARRAY_LEN(lines); k++)
        assert_int_equal(o.r.first[k].line, lines[k]);
    /* Duplicates: lines 10, 20, ... 1000 (100) minus those whose original
     * line was bad (95 -> no; 485 is 97*5: line 490 repeats it) or is itself
     * rejected (line 890 is 89*10: unknown source). */
    assert_int_equal(o.r.duplicates + o.r.accepted + o.r.rejected, 1000);
    assert_int_equal(o.posts, (int64_t)o.r.accepted);
    assert_int_equal(o.r.not_understood, 0);
    assert_int_equal(o.r.batches, 1);
}

static void test_import_threads_and_batches_agree(void **state) {
    (void)state;
    import_outcome one, many, tiny;
    memset(&one, 0, sizeof one);
    memset(&many, 0, sizeof many);
    memset(&tiny, 0, sizeof tiny);
    import_run(0, 1000, &one);
    import_run(3, 37, &many);
    import_run(1, 1, &tiny);
    const import_outcome *others[] = {&many, &tiny};
    for (int k = 0; k < 2; k++) {
        const import_outcome *o = others[k];
        assert_int_equal(o->r.records, one.r.records);
        assert_int_equal(o->r.accepted, one.r.accepted);
        assert_int_equal(o->r.duplicates, one.r.duplicates);
        assert_int_equal(o->r.rejected, one.r.rejected);
        assert_int_equal(o->r.cases_opened, one.r.cases_opened);
        assert_int_equal(o->r.cases_joined, one.r.cases_joined);
        assert_int_equal(o->posts, one.posts);
        assert_int_equal(o->cases, one.cases);
        assert_int_equal(o->likes, one.likes);
        assert_int_equal(o->stats_rows, one.stats_rows);
        assert_int_equal(o->stats_posts, one.stats_posts);
        for (size_t i = 0; i < one.r.first_count; i++) {
            assert_int_equal(o->r.first[i].line, one.r.first[i].line);
            assert_string_equal(o->r.first[i].reason, one.r.first[i].reason);
        }
    }
    assert_int_equal(many.r.batches, (990 + 36) / 37); /* a batch is 37 posts; the 10 bad lines ride along */
    assert_true(one.r.cases_opened > 0);
}

static void test_import_bad_options(void **state) {
    fixture *f = *state;
    listening_import_result r;
    listening_import_options opt = {.batch_posts = SB_LISTENING_BATCH_POSTS_MAX + 1};
    assert_int_equal(listening_import(f->l, &listening_format_jsonl, "", 0, &opt, T0_MS, &r, NULL), SB_EINVAL);
    opt.batch_posts = 10;
    opt.threads = -1;
    assert_int_equal(listening_import(f->l, &listening_format_jsonl, "", 0, &opt, T0_MS, &r, NULL), SB_EINVAL);
    /* An empty file is read: nothing in it. */
    opt.threads = 2;
    assert_int_equal(listening_import(f->l, &listening_format_jsonl, "", 0, &opt, T0_MS, &r, NULL), SB_OK);
    assert_int_equal(r.records, 0);
    const char *reason = NULL;
    const char *csv = "name,comment\nx,y\n";
    assert_int_equal(listening_import(f->l, &listening_format_csv, csv, strlen(csv), &opt, T0_MS, &r, &reason),
                     SB_EINVAL);
    assert_string_equal(reason, "csv_header_needs_text_and_id");
}

/* ---- Telegram ---- */
typedef struct {
    size_t line;
    const char *reason;
    char external_id[64];
    char text[128];
    int64_t likes;
} tg_record;

static size_t tg_read(const char *json, tg_record *out, size_t cap, const char **open_reason) {
    void *st = NULL;
    *open_reason = NULL;
    if (listening_format_telegram.open(json, strlen(json), &st, open_reason) != SB_OK) return 0;
    size_t n = 0;
    for (;;) {
        listening_post p;
        memset(&p, 0, sizeof p);
        size_t line = 0;
        const char *reason = NULL;
        int got = listening_format_telegram.next(st, &p, &line, &reason);
        assert_true(got >= 0);
        if (got == 0) break;
        assert_true(n < cap);
        out[n].line = line;
        out[n].reason = reason;
        snprintf(out[n].external_id, sizeof out[n].external_id, "%s", !reason && p.external_id ? p.external_id : "");
        snprintf(out[n].text, sizeof out[n].text, "%.*s", !reason ? (int)p.text_len : 0, !reason ? p.text : "");
        out[n].likes = p.likes;
        n++;
    }
    listening_format_telegram.close(st);
    return n;
}

static void test_telegram_edges(void **state) {
    (void)state;
    tg_record recs[8];
    const char *reason;
    assert_int_equal(tg_read("[1,2]", recs, 8, &reason), 0);
    assert_string_equal(reason, "telegram_not_an_export");
    assert_int_equal(tg_read("{\"name\":\"x\",\"id\":5}", recs, 8, &reason), 0);
    assert_string_equal(reason, "telegram_no_messages");
    assert_int_equal(tg_read("{\"messages\":{}}", recs, 8, &reason), 0);
    assert_string_equal(reason, "telegram_not_an_export");
    /* No chat id: the message id alone; a broken element ends the file. */
    const char *json =
        "{\"messages\":[\n"
        "{\"id\":7,\"type\":\"message\",\"date_unixtime\":\"1795168800\",\"from_id\":\"user1\","
        "\"text\":[{\"type\":\"link\",\"text\":\"a\"},\"b\"],\"reactions\":[{\"count\":4}]},\n"
        "5,\n"
        "{\"id\":8,\"type\":\"message\",\"date_unixtime\":\"soon\",\"from_id\":\"user1\",\"text\":\"t\"},\n"
        "{\"id\":9,\"type\":\"message\",\"text\":[1]},\n"
        "{\"id\":10,\"type\":\"message\" oops},\n"
        "{\"id\":11,\"type\":\"message\",\"date_unixtime\":\"1795168800\",\"text\":\"never read\"}]}";
    size_t n = tg_read(json, recs, 8, &reason);
    assert_null(reason);
    assert_int_equal(n, 5);
    assert_null(recs[0].reason);
    assert_string_equal(recs[0].external_id, "7");
    assert_string_equal(recs[0].text, "ab");
    assert_int_equal(recs[0].likes, 4);
    assert_int_equal(recs[0].line, 2);
    assert_string_equal(recs[1].reason, "not_an_object");
    assert_int_equal(recs[1].line, 3);
    assert_string_equal(recs[2].reason, "bad_time");
    assert_string_equal(recs[3].reason, "bad_field_type");
    assert_string_equal(recs[4].reason, "bad_json");
    assert_int_equal(recs[4].line, 6);
    /* A text over the limit. */
    sb_buf big;
    sb_buf_init(&big, 1 << 20);
    assert_int_equal(sb_buf_append_str(&big, "{\"id\":1,\"messages\":[{\"id\":2,\"type\":\"message\",\"text\":\""),
                     SB_OK);
    for (int k = 0; k < SB_LISTENING_TEXT_BYTES_MAX + 100; k++)
        assert_int_equal(sb_buf_append_str(&big, "a"), SB_OK);
    assert_int_equal(sb_buf_append_str(&big, "\"}]}"), SB_OK);
    n = tg_read(big.data, recs, 8, &reason);
    assert_int_equal(n, 1);
    assert_string_equal(recs[0].reason, "text_too_long");
    sb_buf_free(&big);
}

/* ---- channel comments ---- */
static void test_channel_post(void **state) {
    fixture *f = *state;
    listening_post p;
    char ids[LISTENING_CHANNEL_IDS_BYTES];
    listening_channel_post(7, 42, 1234, T0_MS, "#s=negative,k=complaint,t=cards# card blocked", &p, ids);
    assert_string_equal(p.source, "own_channel");
    assert_string_equal(p.external_id, "7/42");
    assert_string_equal(p.author, "user:1234");
    assert_int_equal(p.posted_at_ms, T0_MS);
    assert_int_equal(p.author_reach, 0);
    listening_channel_post(INT64_MAX, INT64_MAX, INT64_MAX, T0_MS, "x", &p, ids);
    assert_string_equal(p.external_id, "9223372036854775807/9223372036854775807");
    assert_string_equal(p.author, "user:9223372036854775807");
    listening_channel_post(7, 42, 1234, T0_MS, "#s=negative,k=complaint,t=cards# card blocked", &p, ids);
    listening_ingest_result r;
    memset(&r, 0, sizeof r);
    assert_int_equal(listening_ingest(f->l, &p, 1, T0_MS, &r), SB_OK);
    assert_int_equal(r.accepted, 1);
    assert_int_equal(r.cases_opened, 1);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_cases WHERE source = 'own_channel' AND author = "
                                      "'user:1234'"),
                     1);
}

/* ---- the feed ---- */
/* An understander that holds the feed thread until released. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_changed = PTHREAD_COND_INITIALIZER;
static bool gate_open, gate_entered;

static int gated_understand(void *arg, const char *text, size_t len, listening_understanding *u) {
    pthread_mutex_lock(&gate_lock);
    gate_entered = true;
    pthread_cond_broadcast(&gate_changed);
    while (!gate_open)
        pthread_cond_wait(&gate_changed, &gate_lock);
    pthread_mutex_unlock(&gate_lock);
    return scripted_understand(arg, text, len, u);
}

static void test_feed(void **state) {
    fixture *f = *state;
    listening_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.understander.understand = gated_understand;
    gate_open = false;
    gate_entered = false;
    listening_feed *feed;
    assert_int_equal(listening_feed_start(f->dir, &cfg, 0, &feed), SB_EINVAL);
    assert_int_equal(listening_feed_start(f->dir, &cfg, SB_LISTENING_FEED_QUEUE_MAX + 1, &feed), SB_EINVAL);
    assert_int_equal(listening_feed_start(f->dir, &cfg, 2, &feed), SB_OK);
    listening_post p[5];
    char ids[5][LISTENING_CHANNEL_IDS_BYTES];
    for (int k = 0; k < 5; k++)
        listening_channel_post(3, k < 4 ? k + 1 : 1, 50 + k, T0_MS, "#s=positive# thanks", &p[k], ids[k]);
    assert_int_equal(listening_feed_push(feed, &p[0]), SB_OK);
    /* Wait until the thread holds the first post inside the understander. */
    pthread_mutex_lock(&gate_lock);
    while (!gate_entered)
        pthread_cond_wait(&gate_changed, &gate_lock);
    pthread_mutex_unlock(&gate_lock);
    assert_int_equal(listening_feed_push(feed, &p[1]), SB_OK);
    assert_int_equal(listening_feed_push(feed, &p[2]), SB_OK);
    assert_int_equal(listening_feed_push(feed, &p[3]), SB_EBUSY); /* queue of 2 is full */
    assert_int_equal(listening_feed_flush(feed, 50), SB_ETIMEOUT);
    pthread_mutex_lock(&gate_lock);
    gate_open = true;
    pthread_cond_broadcast(&gate_changed);
    pthread_mutex_unlock(&gate_lock);
    assert_int_equal(listening_feed_flush(feed, 20000), SB_OK);
    assert_int_equal(listening_feed_push(feed, &p[4]), SB_OK); /* seq 1 again: a duplicate */
    assert_int_equal(listening_feed_flush(feed, 20000), SB_OK);
    listening_feed_stats stats;
    listening_feed_stats_get(feed, &stats);
    assert_int_equal(stats.queued, 4);
    assert_int_equal(stats.accepted, 3);
    assert_int_equal(stats.duplicates, 1);
    assert_int_equal(stats.dropped, 1);
    assert_int_equal(stats.failed, 0);
    listening_feed_stop(feed);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_posts WHERE source = 'own_channel'"), 3);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_understanding"), 3);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_posts WHERE external_id = '3/4'"), 0);
    /* Stopping stores what is still queued. */
    gate_open = true;
    assert_int_equal(listening_feed_start(f->dir, &cfg, 10, &feed), SB_OK);
    assert_int_equal(listening_feed_push(feed, &p[3]), SB_OK);
    listening_feed_stop(feed);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM listening_posts WHERE external_id = '3/4'"), 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_import_counts_and_lines),
        cmocka_unit_test(test_import_threads_and_batches_agree),
        cmocka_unit_test_setup_teardown(test_import_bad_options, fixture_setup, fixture_teardown),
        cmocka_unit_test(test_telegram_edges),
        cmocka_unit_test_setup_teardown(test_channel_post, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_feed, fixture_setup, fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
