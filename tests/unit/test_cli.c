/*
 * test_cli.c - the argument parser every subcommand shares: values given as
 * "--x V" and "--x=V", flags, environment fallbacks, defaults, positional
 * limits, unknown options and bounded integers; cli_begin's three outcomes;
 * the shared line reader.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli.h"

static void test_values_flags_and_positionals(void **state) {
    (void)state;
    cli_option opts[] = {{"port", NULL, "port", "8080", false, NULL, false},
                         {"bind", NULL, "address", NULL, false, NULL, false},
                         {"verbose", NULL, "more output", NULL, true, NULL, false},
                         {NULL}};
    char *argv[] = {"serve", "--port=9000", "--bind", "0.0.0.0", "--verbose", "a", "--", "--b", NULL};
    const char *pos[4];
    int npos;
    bool help;
    assert_int_equal(cli_parse(8, argv, opts, pos, 4, &npos, &help), 0);
    assert_false(help);
    assert_string_equal(cli_value(opts, "port"), "9000");
    assert_string_equal(cli_value(opts, "bind"), "0.0.0.0");
    assert_string_equal(cli_value(opts, "verbose"), "1");
    assert_int_equal(npos, 2);
    assert_string_equal(pos[0], "a");
    assert_string_equal(pos[1], "--b"); /* after "--" everything is positional */
}

static void test_env_fallback_and_default(void **state) {
    (void)state;
    cli_option opts[] = {{"threads", "SB_TEST_THREADS", "threads", "2", false, NULL, false},
                         {"data", "SB_TEST_DATA", "dir", "./data", false, NULL, false},
                         {NULL}};
    setenv("SB_TEST_THREADS", "7", 1);
    unsetenv("SB_TEST_DATA");
    char *argv[] = {"serve", NULL};
    const char *pos[1];
    int npos;
    bool help;
    assert_int_equal(cli_parse(1, argv, opts, pos, 0, &npos, &help), 0);
    assert_string_equal(cli_value(opts, "threads"), "7");
    assert_string_equal(cli_value(opts, "data"), "./data");
    long threads = 0;
    assert_int_equal(cli_int(opts, "threads", 1, 64, &threads), 0);
    assert_int_equal(threads, 7);
    /* The command line wins over the environment. */
    char *argv2[] = {"serve", "--threads", "3", NULL};
    assert_int_equal(cli_parse(3, argv2, opts, pos, 0, &npos, &help), 0);
    assert_string_equal(cli_value(opts, "threads"), "3");
    unsetenv("SB_TEST_THREADS");
}

static void test_usage_errors(void **state) {
    (void)state;
    cli_option opts[] = {{"port", NULL, "port", NULL, false, NULL, false},
                         {"quiet", NULL, "less", NULL, true, NULL, false},
                         {NULL}};
    const char *pos[1];
    int npos;
    bool help;
    char *unknown[] = {"x", "--nope", NULL};
    assert_int_equal(cli_parse(2, unknown, opts, pos, 1, &npos, &help), 2);
    char *missing[] = {"x", "--port", NULL};
    assert_int_equal(cli_parse(2, missing, opts, pos, 1, &npos, &help), 2);
    char *flag_value[] = {"x", "--quiet=1", NULL};
    assert_int_equal(cli_parse(2, flag_value, opts, pos, 1, &npos, &help), 2);
    char *too_many[] = {"x", "a", "b", NULL};
    assert_int_equal(cli_parse(3, too_many, opts, pos, 1, &npos, &help), 2);
    char *asks_help[] = {"x", "--port", "1", "-h", NULL};
    assert_int_equal(cli_parse(4, asks_help, opts, pos, 1, &npos, &help), 0);
    assert_true(help);
    /* Integers out of range or not integers are usage errors. */
    char *bad_int[] = {"x", "--port", "70000", NULL};
    assert_int_equal(cli_parse(3, bad_int, opts, pos, 1, &npos, &help), 0);
    long port;
    assert_int_equal(cli_int(opts, "port", 0, 65535, &port), 2);
    char *junk_int[] = {"x", "--port", "80x", NULL};
    assert_int_equal(cli_parse(3, junk_int, opts, pos, 1, &npos, &help), 0);
    assert_int_equal(cli_int(opts, "port", 0, 65535, &port), 2);
}

/* cli_begin: go on (false, exit code 0, positionals counted), finished after
 * --help (true, 0), finished on a usage error (true, 2). */
static void test_begin(void **state) {
    (void)state;
    cli_option opts[] = {{"port", NULL, "port", "8080", false, NULL, false}, {NULL}};
    const char *pos[2];
    int npos = -1, rc = -1;
    char *go[] = {"x", "a", "--port", "9", NULL};
    assert_false(cli_begin(4, go, "x [--port N] A", "Test.", opts, pos, 2, &npos, &rc));
    assert_int_equal(rc, 0);
    assert_int_equal(npos, 1);
    assert_string_equal(pos[0], "a");
    assert_string_equal(cli_value(opts, "port"), "9");
    char *help[] = {"x", "--help", NULL};
    rc = -1;
    assert_true(cli_begin(2, help, "x [--port N] A", "Test.", opts, pos, 2, &npos, &rc));
    assert_int_equal(rc, 0);
    char *unknown[] = {"x", "--nope", NULL};
    assert_true(cli_begin(2, unknown, "x", "Test.", opts, NULL, 0, NULL, &rc));
    assert_int_equal(rc, 2);
    char *extra[] = {"x", "a", NULL};
    assert_true(cli_begin(2, extra, "x", "Test.", opts, NULL, 0, NULL, &rc));
    assert_int_equal(rc, 2);
}

/* cli_read_line: CR LF and LF endings, an empty line, a line of exactly max
 * bytes, one longer (reported, skipped whole), a last line without newline. */
static void test_read_line(void **state) {
    (void)state;
    static char text[] = "ab\r\n\nabcd\nabcde\nxy";
    FILE *in = fmemopen(text, strlen(text), "r");
    assert_non_null(in);
    char buf[5];
    size_t len = 99;
    assert_int_equal(cli_read_line(in, buf, 4, &len), 1);
    assert_string_equal(buf, "ab");
    assert_int_equal(len, 2);
    assert_int_equal(cli_read_line(in, buf, 4, &len), 1);
    assert_string_equal(buf, "");
    assert_int_equal(len, 0);
    assert_int_equal(cli_read_line(in, buf, 4, &len), 1);
    assert_string_equal(buf, "abcd");
    assert_int_equal(cli_read_line(in, buf, 4, &len), -1);
    assert_int_equal(cli_read_line(in, buf, 4, &len), 1);
    assert_string_equal(buf, "xy");
    assert_int_equal(len, 2);
    assert_int_equal(cli_read_line(in, buf, 4, &len), 0);
    fclose(in);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_flags_and_positionals),
        cmocka_unit_test(test_env_fallback_and_default),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_begin),
        cmocka_unit_test(test_read_line),
    };
    return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
