/*
 * test_listening_csv.c - the CSV reader's edge cases (quotes, escaped
 * quotes, embedded newlines, CRLF, BOM, empty fields, bounds, recovery
 * after a bad row), time parsing, and both generic connectors.
 */
#include "listening_test_util.h"

static void read_row(listening_csv_reader *r, size_t fields) {
    const char *reason = NULL;
    int rc = listening_csv_next(r, &reason);
    if (rc != 1) fail_msg("row expected, got %d (%s)", rc, reason ? reason : "-");
    assert_int_equal(r->field_count, fields);
}

static void test_csv_quotes_newlines_bom(void **state) {
    (void)state;
    const char *csv = "\xEF\xBB\xBFid,text,likes\r\n"
                      "1,\"hello, world\",3\r\n"
                      "2,\"she said \"\"no\"\"\",\r\n"
                      "3,\"line one\nline two\",7\n"
                      "\n"
                      "4,,\n"
                      "5,last without newline,1";
    listening_csv_reader r;
    assert_int_equal(listening_csv_init(&r, csv, strlen(csv)), SB_OK);
    read_row(&r, 3);
    assert_string_equal(r.fields[0], "id"); /* the BOM is gone */
    assert_int_equal(r.line, 1);
    read_row(&r, 3);
    assert_string_equal(r.fields[1], "hello, world");
    read_row(&r, 3);
    assert_string_equal(r.fields[1], "she said \"no\"");
    assert_string_equal(r.fields[2], "");
    read_row(&r, 3);
    assert_string_equal(r.fields[1], "line one\nline two");
    assert_int_equal(r.line, 4);
    read_row(&r, 3);
    assert_string_equal(r.fields[0], "4");
    assert_int_equal(r.field_lens[1], 0);
    assert_int_equal(r.line, 7); /* the empty line 6 was skipped */
    read_row(&r, 3);
    assert_string_equal(r.fields[1], "last without newline");
    assert_int_equal(listening_csv_next(&r, NULL), 0);
    assert_int_equal(listening_csv_next(&r, NULL), 0);
    listening_csv_free(&r);
}

static void test_csv_errors_and_recovery(void **state) {
    (void)state;
    const char *csv = "a,\"b\"x,c\nok,row\n\"never closed,\nmore";
    listening_csv_reader r;
    const char *reason;
    assert_int_equal(listening_csv_init(&r, csv, strlen(csv)), SB_OK);
    assert_int_equal(listening_csv_next(&r, &reason), SB_EINVAL);
    assert_string_equal(reason, "junk_after_quote");
    read_row(&r, 2);
    assert_string_equal(r.fields[0], "ok");
    assert_int_equal(listening_csv_next(&r, &reason), SB_EINVAL);
    assert_string_equal(reason, "unterminated_quote");
    assert_int_equal(listening_csv_next(&r, &reason), 0);
    listening_csv_free(&r);

    /* Too many fields, a field too large. */
    char *many = malloc(4 * SB_LISTENING_CSV_FIELDS_MAX + 16);
    size_t n = 0;
    for (int k = 0; k <= SB_LISTENING_CSV_FIELDS_MAX; k++)
        n += (size_t)snprintf(many + n, 8, "x,");
    memcpy(many + n, "\nz\n", 4);
    assert_int_equal(listening_csv_init(&r, many, strlen(many)), SB_OK);
    assert_int_equal(listening_csv_next(&r, &reason), SB_ELIMIT);
    assert_string_equal(reason, "too_many_fields");
    read_row(&r, 1);
    assert_string_equal(r.fields[0], "z");
    listening_csv_free(&r);
    free(many);

    size_t big_len = SB_LISTENING_CSV_FIELD_BYTES_MAX + 10;
    char *big = malloc(big_len + 8);
    memset(big, 'y', big_len);
    memcpy(big + big_len, "\nq\n", 4);
    assert_int_equal(listening_csv_init(&r, big, strlen(big)), SB_OK);
    assert_int_equal(listening_csv_next(&r, &reason), SB_ELIMIT);
    assert_string_equal(reason, "field_too_large");
    read_row(&r, 1);
    assert_string_equal(r.fields[0], "q");
    listening_csv_free(&r);
    free(big);

    /* Empty input and a BOM alone. */
    assert_int_equal(listening_csv_init(&r, "\xEF\xBB\xBF", 3), SB_OK);
    assert_int_equal(listening_csv_next(&r, NULL), 0);
    listening_csv_free(&r);
}

static void test_time_parse(void **state) {
    (void)state;
    int64_t ms;
    assert_int_equal(listening_time_parse("2026-11-21T00:00:00Z", 20, &ms), SB_OK);
    assert_int_equal(ms, T0_MS);
    assert_int_equal(listening_time_parse("2026-11-21T03:30:00.250+03:30", 29, &ms), SB_OK);
    assert_int_equal(ms, T0_MS + 250);
    assert_int_equal(listening_time_parse("2026-11-20 22:00:00-02:00", 25, &ms), SB_OK);
    assert_int_equal(ms, T0_MS);
    assert_int_equal(listening_time_parse("1795219200", 10, &ms), SB_OK);
    assert_int_equal(ms, T0_MS);
    assert_int_equal(listening_time_parse("1795219200123", 13, &ms), SB_OK);
    assert_int_equal(ms, T0_MS + 123);
    assert_int_equal(listening_time_parse("2028-02-29T00:00:00Z", 20, &ms), SB_OK);
    const char *bad[] = {"2026-11-21T00:00:00",
                         "2026-13-01T00:00:00Z",
                         "2026-02-30T00:00:00Z",
                         "yesterday",
                         "2026-11-21T00:00:00Zjunk",
                         "2026-11-21T25:00:00Z",
                         ""};
    for (size_t k = 0; k < SB_ARRAY_LEN(bad); k++)
        assert_int_equal(listening_time_parse(bad[k], strlen(bad[k]), &ms), SB_EINVAL);
}

static void test_json_connector(void **state) {
    (void)state;
    json_error_t err;
    json_t *rec = json_loads("{\"source\":\"twitter\",\"id\":12345,\"user\":\"@ali\",\"followers\":\"900\","
                             "\"created_at\":\"2026-11-21T00:00:00Z\",\"text\":\"hi\",\"retweets\":4,\"comments\":2}",
                             0, &err);
    assert_non_null(rec);
    listening_post p;
    const char *reason;
    assert_int_equal(listening_connector_jsonl.from_json(&listening_connector_jsonl, rec, &p, &reason), SB_OK);
    assert_string_equal(p.source, "twitter");
    assert_string_equal(p.external_id, "12345");
    assert_string_equal(p.author, "@ali");
    assert_int_equal(p.author_reach, 900);
    assert_int_equal(p.posted_at_ms, T0_MS);
    assert_int_equal(p.shares, 4);
    assert_int_equal(p.replies, 2);
    assert_int_equal(p.text_len, 2);
    json_decref(rec);

    const char *bad[][2] = {
        {"[1,2]", "not_an_object"},
        {"{\"source\":\"x\",\"id\":\"1\",\"text\":\"t\"}", "missing_time"},
        {"{\"id\":\"1\",\"text\":\"t\",\"time\":\"soon\"}", "bad_time"},
        {"{\"id\":{},\"text\":\"t\",\"time\":1}", "bad_field_type"},
        {"{\"id\":\"1\",\"text\":\"t\",\"time\":1,\"likes\":\"many\"}", "bad_count"},
    };
    for (size_t k = 0; k < SB_ARRAY_LEN(bad); k++) {
        rec = json_loads(bad[k][0], 0, &err);
        assert_non_null(rec);
        assert_int_equal(listening_connector_jsonl.from_json(&listening_connector_jsonl, rec, &p, &reason), SB_EINVAL);
        assert_string_equal(reason, bad[k][1]);
        json_decref(rec);
    }
}

static void test_csv_connector(void **state) {
    (void)state;
    const char *csv = "Network, Post_ID ,Handle,Reach,Time,Message,Likes\n"
                      "telegram,77,@olena,5000,2026-11-21T00:00:00Z,\"Дякую, все працює\",12\n"
                      "telegram,78,@olena,5000,not-a-time,x,1\n";
    listening_csv_reader r;
    assert_int_equal(listening_csv_init(&r, csv, strlen(csv)), SB_OK);
    read_row(&r, 7);
    size_t cols[LISTENING_FIELD_COUNT];
    assert_int_equal(listening_csv_map_header(&r, cols), SB_OK);
    assert_int_equal(cols[LISTENING_FIELD_SOURCE], 0);
    assert_int_equal(cols[LISTENING_FIELD_EXTERNAL_ID], 1);
    assert_int_equal(cols[LISTENING_FIELD_SHARES], SIZE_MAX);
    read_row(&r, 7);
    listening_post p;
    const char *reason;
    assert_int_equal(listening_connector_csv.from_csv(&listening_connector_csv, cols, &r, &p, &reason), SB_OK);
    assert_string_equal(p.source, "telegram");
    assert_string_equal(p.external_id, "77");
    assert_string_equal(p.text, "Дякую, все працює");
    assert_int_equal(p.author_reach, 5000);
    assert_int_equal(p.likes, 12);
    read_row(&r, 7);
    assert_int_equal(listening_connector_csv.from_csv(&listening_connector_csv, cols, &r, &p, &reason), SB_EINVAL);
    assert_string_equal(reason, "bad_time");
    listening_csv_free(&r);

    const char *no_text = "id,author\n";
    assert_int_equal(listening_csv_init(&r, no_text, strlen(no_text)), SB_OK);
    read_row(&r, 2);
    assert_int_equal(listening_csv_map_header(&r, cols), SB_EINVAL);
    listening_csv_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_quotes_newlines_bom),
        cmocka_unit_test(test_csv_errors_and_recovery),
        cmocka_unit_test(test_time_parse),
        cmocka_unit_test(test_json_connector),
        cmocka_unit_test(test_csv_connector),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
