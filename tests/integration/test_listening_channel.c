/*
 * test_listening_channel.c - a comment on the bank's channel, made through
 * the real server's HTTP route, lands in listening as an own_channel post
 * with its understanding (the serve wiring: messenger comment hook -> the
 * listening feed's queue -> its thread, its store connection, the default
 * model).  The HTTP answer does not wait for it, so the test polls the
 * database with a bound.  A second comment by the same customer on the
 * same topic proves the posts stay apart (one post per comment) and a
 * duplicate-free restart: the server stops cleanly with the feed drained.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "integration/harness.h"
#include "store/store.h"

/* How long the feed may take (ASan, a loaded machine): a bound, not a speed claim. */
#define FEED_BOUND_MS 20000

static harness_server *srv;

HARNESS_GROUP_FIXTURES(srv, NULL)

/* Wait until the own_channel post with this external id exists; its id. */
static int64_t wait_post(const char *external_id) {
    int64_t deadline = sb_mono_ns() + (int64_t)FEED_BOUND_MS * 1000000;
    for (;;) {
        store *s;
        assert_int_equal(store_open(srv->data_dir, NULL, &s), SB_OK);
        int64_t id = 0;
        int result =
            store_query_int64(s, &id, "SELECT id FROM listening_posts WHERE source = 'own_channel' AND external_id = ?",
                              "t", external_id);
        store_close(s);
        if (result == SB_OK) return id;
        assert_int_equal(result, SB_ENOTFOUND);
        if (sb_mono_ns() > deadline) fail_msg("no own_channel post %s after %d ms", external_id, FEED_BOUND_MS);
        usleep(50 * 1000);
    }
}

static void test_comment_becomes_post(void **state) {
    (void)state;
    char customer[HARNESS_TOKEN_BYTES], marketer[HARNESS_TOKEN_BYTES];
    json_t *info;
    assert_int_equal(harness_customer_login(srv, "09121112233", customer, &info), SB_OK);
    json_int_t user_id = json_integer_value(json_object_get(info, "id"));
    json_decref(info);
    assert_int_equal(harness_staff_token(srv, "marketer", marketer, NULL), SB_OK);

    harness_response r = harness_call(srv, "POST", "/api/channel/subscribe", customer, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    json_int_t chan = harness_json_int(r.json, "chat_id");
    harness_response_free(&r);
    r = harness_call(srv, "POST", "/api/channel/posts", marketer, "{\"text\":\"Our new card is here\"}");
    HARNESS_ASSERT_STATUS(r, 201);
    json_int_t post = harness_json_int(r.json, "message.seq");
    harness_response_free(&r);

    char path[128];
    snprintf(path, sizeof path, "/api/channel/posts/%lld/comments", (long long)post);
    const char *complaint = "کارتم بدون دلیل مسدود شده و هیچکس جواب نمیده، شماره من 09121234567 است";
    char body[512];
    snprintf(body, sizeof body, "{\"text\":\"%s\"}", complaint);
    r = harness_call(srv, "POST", path, customer, body);
    HARNESS_ASSERT_STATUS(r, 201);
    json_int_t seq = harness_json_int(r.json, "message.seq");
    harness_response_free(&r);

    char external_id[64];
    snprintf(external_id, sizeof external_id, "%lld/%lld", (long long)chan, (long long)seq);
    int64_t id = wait_post(external_id);

    store *s;
    assert_int_equal(store_open(srv->data_dir, NULL, &s), SB_OK);
    store_stmt *st;
    assert_int_equal(store_query(s, &st,
                                 "SELECT p.author, p.text, p.redactions, u.lang, u.sentiment, u.kind, u.topic "
                                 "FROM listening_posts p JOIN listening_understanding u ON u.post_id = p.id "
                                 "WHERE p.id = ?",
                                 "i", id),
                     SB_OK);
    assert_int_equal(store_step(st), STORE_ROW);
    char author[64];
    snprintf(author, sizeof author, "user:%lld", (long long)user_id);
    assert_string_equal(store_col_text(st, 0), author);
    /* The phone number is redacted from what analysts see. */
    assert_non_null(strstr(store_col_text(st, 1), "[phone]"));
    assert_null(strstr(store_col_text(st, 1), "09121234567"));
    assert_int_equal(store_col_int64(st, 2), 1);
    assert_string_equal(store_col_text(st, 3), "fa");
    /* The default model labels it; the labels are the listening vocabulary. */
    const char *sentiment = store_col_text(st, 4);
    assert_true(strcmp(sentiment, "negative") == 0 || strcmp(sentiment, "neutral") == 0 ||
                strcmp(sentiment, "positive") == 0);
    store_stmt_done(st);
    int64_t stats = 0;
    assert_int_equal(store_query_int64(s, &stats,
                                       "SELECT SUM(posts) FROM listening_stats WHERE granularity = 'day' AND "
                                       "dimension = 'source' AND value = 'own_channel'",
                                       ""),
                     SB_OK);
    assert_int_equal(stats, 1);
    store_close(s);

    /* A second comment is a second post, not a merge. */
    r = harness_call(srv, "POST", path, customer, "{\"text\":\"Thanks, it works again\"}");
    HARNESS_ASSERT_STATUS(r, 201);
    json_int_t seq2 = harness_json_int(r.json, "message.seq");
    harness_response_free(&r);
    assert_true(seq2 != seq);
    snprintf(external_id, sizeof external_id, "%lld/%lld", (long long)chan, (long long)seq2);
    assert_true(wait_post(external_id) != id);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_comment_becomes_post),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
