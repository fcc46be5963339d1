/*
 * test_store.c - the store interface on the SQLite backend: migrations,
 * transactions, the statement cache, constraint errors, backup and a bad
 * location.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"

static int setup_store(void **state) {
    char tmpl[] = "/tmp/sb-store-XXXXXX";
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    store *s;
    assert_int_equal(store_open(dir, NULL, &s), SB_OK);
    assert_int_equal(store_migrate(s, NULL), SB_OK);
    char *copy = strdup(dir);
    void **pair = malloc(2 * sizeof(void *));
    pair[0] = s;
    pair[1] = copy;
    *state = pair;
    return 0;
}

static int teardown_store(void **state) {
    void **pair = *state;
    store_close(pair[0]);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", (char *)pair[1]);
    if (system(cmd) != 0) return -1;
    free(pair[1]);
    free(pair);
    return 0;
}

static void test_migrations_recorded_and_idempotent(void **state) {
    store *s = ((void **)*state)[0];
    int version = -1, applied = -1;
    assert_int_equal(store_schema_version(s, &version), SB_OK);
    assert_int_equal(version, store_schema_version_latest());
    assert_true(version >= 1);
    assert_int_equal(store_migrate(s, &applied), SB_OK);
    assert_int_equal(applied, 0);
}

/* A migration numbered below the highest recorded one (a module's new
 * migration in its own range) is still applied to an existing database. */
static void test_unapplied_lower_migration_applied(void **state) {
    store *s = ((void **)*state)[0];
    int applied = -1;
    assert_int_equal(store_exec(s, "DROP TABLE settings", NULL), SB_OK);
    assert_int_equal(store_exec(s, "DELETE FROM schema_version WHERE version = 1", NULL), SB_OK);
    int version = -1;
    assert_int_equal(store_schema_version(s, &version), SB_OK);
    assert_int_equal(version, store_schema_version_latest());
    assert_int_equal(store_migrate(s, &applied), SB_OK);
    assert_int_equal(applied, 1);
    assert_int_equal(store_exec(s, "INSERT INTO settings(key, value, updated_at_ms) VALUES (?, ?, ?)", "tti", "k",
                                "v", (int64_t)1),
                     SB_OK);
    assert_int_equal(store_migrate(s, &applied), SB_OK);
    assert_int_equal(applied, 0);
}

static void test_insert_query_and_unique_violation(void **state) {
    store *s = ((void **)*state)[0];
    assert_int_equal(store_exec(s, "INSERT INTO settings(key, value, updated_at_ms) VALUES (?, ?, ?)", "tti", "a",
                                "one", (int64_t)1),
                     SB_OK);
    assert_int_equal(store_changes(s), 1);
    assert_int_equal(store_exec(s, "INSERT INTO settings(key, value, updated_at_ms) VALUES (?, ?, ?)", "tti", "a",
                                "two", (int64_t)2),
                     SB_EEXISTS);
    store_stmt *st;
    assert_int_equal(store_query(s, &st, "SELECT value, updated_at_ms FROM settings WHERE key = ?", "t", "a"), SB_OK);
    assert_int_equal(store_step(st), STORE_ROW);
    assert_string_equal(store_col_text(st, 0), "one");
    assert_int_equal(store_col_int64(st, 1), 1);
    assert_int_equal(store_step(st), STORE_DONE);
    store_stmt_done(st);
    int64_t n = 0;
    assert_int_equal(store_query_int64(s, &n, "SELECT COUNT(*) FROM settings WHERE key = ?", "t", "zzz"), SB_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_query_int64(s, &n, "SELECT updated_at_ms FROM settings WHERE key = ?", "t", "zzz"),
                     SB_ENOTFOUND);
}

static void test_rollback_discards(void **state) {
    store *s = ((void **)*state)[0];
    assert_int_equal(store_begin(s), SB_OK);
    assert_int_equal(store_exec(s, "INSERT INTO settings(key, value, updated_at_ms) VALUES ('r', 'x', 0)", NULL), SB_OK);
    store_rollback(s);
    int64_t n = -1;
    assert_int_equal(store_query_int64(s, &n, "SELECT COUNT(*) FROM settings WHERE key = 'r'", NULL), SB_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_begin(s), SB_OK);
    assert_int_equal(store_exec(s, "INSERT INTO settings(key, value, updated_at_ms) VALUES ('c', 'x', 0)", NULL), SB_OK);
    assert_int_equal(store_commit(s), SB_OK);
    assert_int_equal(store_query_int64(s, &n, "SELECT COUNT(*) FROM settings WHERE key = 'c'", NULL), SB_OK);
    assert_int_equal(n, 1);
}

static void test_same_sql_nested_use(void **state) {
    store *s = ((void **)*state)[0];
    /* The same SQL asked for while the cached copy is in use gets its own statement. */
    store_stmt *a, *b;
    assert_int_equal(store_query(s, &a, "SELECT 1", NULL), SB_OK);
    assert_int_equal(store_query(s, &b, "SELECT 1", NULL), SB_OK);
    assert_ptr_not_equal(a, b);
    assert_int_equal(store_step(a), STORE_ROW);
    assert_int_equal(store_step(b), STORE_ROW);
    store_stmt_done(b);
    store_stmt_done(a);
}

static void test_backup_is_complete_copy(void **state) {
    store *s = ((void **)*state)[0];
    const char *dir = ((void **)*state)[1];
    assert_int_equal(store_exec(s, "INSERT INTO settings(key, value, updated_at_ms) VALUES ('b', 'kept', 0)", NULL),
                     SB_OK);
    char dest[512];
    snprintf(dest, sizeof dest, "%s/backup.db", dir);
    assert_int_equal(store_backup(s, dest), SB_OK);
    char location[600];
    snprintf(location, sizeof location, "sqlite:%s", dest);
    store *copy;
    assert_int_equal(store_open(location, &(store_options){.durable = 1, .read_only = 1}, &copy), SB_OK);
    assert_int_equal(store_check_integrity(copy), SB_OK);
    store_stmt *st;
    assert_int_equal(store_query(copy, &st, "SELECT value FROM settings WHERE key = 'b'", NULL), SB_OK);
    assert_int_equal(store_step(st), STORE_ROW);
    assert_string_equal(store_col_text(st, 0), "kept");
    store_stmt_done(st);
    store_close(copy);
    /* A destination in a missing directory fails and leaves nothing. */
    assert_int_not_equal(store_backup(s, "/nonexistent-dir/x.db"), SB_OK);
}

static void test_bad_locations(void **state) {
    (void)state;
    store *s = NULL;
    assert_int_equal(store_open("", NULL, &s), SB_EINVAL);
    assert_null(s);
    assert_int_equal(store_open("postgres://localhost/x", NULL, &s), SB_EINVAL);
    assert_int_equal(store_open("/etc/passwd", NULL, &s), SB_EINVAL); /* a file, not a directory */
    char junk[] = "/tmp/sb-junk-XXXXXX";
    int fd = mkstemp(junk);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "this is not a database, not at all....................................", 70), 70);
    close(fd);
    char location[64];
    snprintf(location, sizeof location, "sqlite:%s", junk);
    int result = store_open(location, NULL, &s);
    if (result == SB_OK) { /* SQLite opens lazily; the first query finds the damage */
        int v;
        assert_int_equal(store_schema_version(s, &v), SB_ECORRUPT);
        store_close(s);
    } else {
        assert_int_equal(result, SB_ECORRUPT);
    }
    unlink(junk);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrations_recorded_and_idempotent, setup_store, teardown_store),
        cmocka_unit_test_setup_teardown(test_unapplied_lower_migration_applied, setup_store, teardown_store),
        cmocka_unit_test_setup_teardown(test_insert_query_and_unique_violation, setup_store, teardown_store),
        cmocka_unit_test_setup_teardown(test_rollback_discards, setup_store, teardown_store),
        cmocka_unit_test_setup_teardown(test_same_sql_nested_use, setup_store, teardown_store),
        cmocka_unit_test_setup_teardown(test_backup_is_complete_copy, setup_store, teardown_store),
        cmocka_unit_test(test_bad_locations),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
