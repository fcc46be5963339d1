/*
 * test_identity.c - the identity module against a real SQLite store: phone
 * one-time codes (success, wrong code, expiry, reuse, the attempts cap, the
 * per-phone and per-address sliding windows), staff passwords (create,
 * login, duplicates, the login rate limit), sessions (create, lookup,
 * expiry, revoke, malformed tokens, hashes only in the table), profile
 * rules, the code sender ("log" kind, and "webhook" against a loopback
 * listener that fails once), and allocation-failure sweeps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "identity/identity.h"
#include "identity/identity_int.h"

#define T0 1700000000000LL /* a fixed "now" so windows are exact */
#define PHONE "+989121234567"

typedef struct {
    store *s;
    char dir[64];
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sb-identity-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(sb_crypto_init(), SB_OK);
    assert_int_equal(store_open(f->dir, &(store_options){.durable = 0}, &f->s), SB_OK);
    assert_int_equal(store_migrate(f->s, NULL), SB_OK);
    identity__pwhash_set_fast(true);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    store_close(f->s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) return -1;
    free(f);
    return 0;
}

/* A code that is certainly not `code`. */
static void wrong_code(const char *code, char out[SB_OTP_DIGITS + 1]) {
    memcpy(out, code, SB_OTP_DIGITS + 1);
    out[SB_OTP_DIGITS - 1] = code[SB_OTP_DIGITS - 1] == '9' ? '0' : (char)(code[SB_OTP_DIGITS - 1] + 1);
}

static int64_t count_rows(store *s, const char *sql) {
    int64_t n = -1;
    assert_int_equal(store_query_int64(s, &n, sql, NULL), SB_OK);
    return n;
}

/* ---- roles ---- */

static void test_roles(void **state) {
    (void)state;
    int role = 0;
    assert_int_equal(identity_role_parse("admin", &role), SB_OK);
    assert_int_equal(role, IDENTITY_ROLE_ADMIN);
    assert_int_equal(identity_role_parse("customer", &role), SB_OK);
    assert_int_equal(role, IDENTITY_ROLE_CUSTOMER);
    assert_int_equal(identity_role_parse("Admin", &role), SB_EINVAL);
    assert_int_equal(identity_role_parse(NULL, &role), SB_EINVAL);
    assert_string_equal(identity_role_name(IDENTITY_ROLE_MARKETER), "marketer");
    assert_null(identity_role_name(IDENTITY_ROLE_ADMIN | IDENTITY_ROLE_AGENT));
}

/* ---- one-time codes ---- */

static void test_otp_success_and_returning_customer(void **state) {
    fixture *f = *state;
    char code[SB_OTP_DIGITS + 1];
    assert_int_equal(identity_otp_request(f->s, PHONE, "10.0.0.1", T0, code), SB_OK);
    assert_int_equal(strlen(code), SB_OTP_DIGITS);
    for (int i = 0; i < SB_OTP_DIGITS; i++)
        assert_true(code[i] >= '0' && code[i] <= '9');
    int64_t id = 0;
    bool created = false;
    assert_int_equal(identity_otp_verify(f->s, PHONE, code, T0 + 1000, &id, &created), SB_OK);
    assert_true(created);
    assert_true(id > 0);
    identity_principal p;
    assert_int_equal(identity_user_get(f->s, id, &p), SB_OK);
    assert_int_equal(p.role, IDENTITY_ROLE_CUSTOMER);
    assert_string_equal(p.phone, PHONE);
    assert_string_equal(p.username, "");
    assert_int_equal(p.session_id, 0);

    /* The same phone again: the same customer, not created. */
    assert_int_equal(identity_otp_request(f->s, PHONE, "10.0.0.1", T0 + 2000, code), SB_OK);
    int64_t again = 0;
    assert_int_equal(identity_otp_verify(f->s, PHONE, code, T0 + 3000, &again, &created), SB_OK);
    assert_false(created);
    assert_int_equal(again, id);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM users"), 1);
}

static void test_otp_wrong_code_then_right(void **state) {
    fixture *f = *state;
    char code[SB_OTP_DIGITS + 1], wrong[SB_OTP_DIGITS + 1];
    assert_int_equal(identity_otp_request(f->s, PHONE, NULL, T0, code), SB_OK);
    wrong_code(code, wrong);
    int64_t id;
    bool created;
    assert_int_equal(identity_otp_verify(f->s, PHONE, wrong, T0 + 1, &id, &created), SB_EAUTH);
    assert_int_equal(count_rows(f->s, "SELECT attempts FROM otp_codes"), 1);
    /* Malformed codes and unknown phones are refused the same way. */
    assert_int_equal(identity_otp_verify(f->s, PHONE, "12345", T0 + 1, &id, &created), SB_EAUTH);
    assert_int_equal(identity_otp_verify(f->s, PHONE, "1234567", T0 + 1, &id, &created), SB_EAUTH);
    assert_int_equal(identity_otp_verify(f->s, PHONE, "12a456", T0 + 1, &id, &created), SB_EAUTH);
    assert_int_equal(identity_otp_verify(f->s, PHONE, NULL, T0 + 1, &id, &created), SB_EAUTH);
    assert_int_equal(identity_otp_verify(f->s, "+989120000000", code, T0 + 1, &id, &created), SB_EAUTH);
    assert_int_equal(identity_otp_verify(f->s, PHONE, code, T0 + 2, &id, &created), SB_OK);
    assert_true(created);
}

static void test_otp_persian_digits_accepted(void **state) {
    fixture *f = *state;
    char code[SB_OTP_DIGITS + 1];
    assert_int_equal(identity_otp_request(f->s, PHONE, NULL, T0, code), SB_OK);
    char persian[4 * SB_OTP_DIGITS + 1];
    size_t n = 0;
    for (int i = 0; i < SB_OTP_DIGITS; i++) { /* U+06F0 + d = DB B0+d */
        persian[n++] = (char)0xDB;
        persian[n++] = (char)(0xB0 + (code[i] - '0'));
    }
    persian[n] = '\0';
    int64_t id;
    bool created;
    assert_int_equal(identity_otp_verify(f->s, PHONE, persian, T0 + 1, &id, &created), SB_OK);
}

static void test_otp_expiry(void **state) {
    fixture *f = *state;
    char code[SB_OTP_DIGITS + 1];
    int64_t id;
    bool created;
    /* Valid one millisecond before the end of its lifetime... */
    assert_int_equal(identity_otp_request(f->s, PHONE, NULL, T0, code), SB_OK);
    assert_int_equal(identity_otp_verify(f->s, PHONE, code, T0 + SB_OTP_TTL_MS - 1, &id, &created), SB_OK);
    /* ...and not at it. */
    assert_int_equal(identity_otp_request(f->s, PHONE, NULL, T0 + 10, code), SB_OK);
    assert_int_equal(identity_otp_verify(f->s, PHONE, code, T0 + 10 + SB_OTP_TTL_MS, &id, &created), SB_EAUTH);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM otp_codes"), 0); /* removed once seen expired */
    assert_int_equal(identity_otp_verify(f->s, PHONE, code, T0 + 20, &id, &created), SB_EAUTH);
}

static void test_otp_reuse_and_replacement(void **state) {
    fixture *f = *state;
    char code[SB_OTP_DIGITS + 1], first[SB_OTP_DIGITS + 1];
    int64_t id;
    bool created;
    assert_int_equal(identity_otp_request(f->s, PHONE, NULL, T0, code), SB_OK);
    assert_int_equal(identity_otp_verify(f->s, PHONE, code, T0 + 1, &id, &created), SB_OK);
    assert_int_equal(identity_otp_verify(f->s, PHONE, code, T0 + 2, &id, &created), SB_EAUTH); /* used */

    /* A new request replaces the earlier code. */
    assert_int_equal(identity_otp_request(f->s, PHONE, NULL, T0 + 3, first), SB_OK);
    assert_int_equal(identity_otp_request(f->s, PHONE, NULL, T0 + 4, code), SB_OK);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM otp_codes"), 1);
    if (strcmp(first, code) != 0)
        assert_int_equal(identity_otp_verify(f->s, PHONE, first, T0 + 5, &id, &created), SB_EAUTH);
    assert_int_equal(identity_otp_verify(f->s, PHONE, code, T0 + 6, &id, &created), SB_OK);
}

static void test_otp_attempts_cap_burns_code(void **state) {
    fixture *f = *state;
    char code[SB_OTP_DIGITS + 1], wrong[SB_OTP_DIGITS + 1];
    int64_t id;
    bool created;
    assert_int_equal(identity_otp_request(f->s, PHONE, NULL, T0, code), SB_OK);
    wrong_code(code, wrong);
    for (int i = 1; i < SB_OTP_ATTEMPTS_MAX; i++)
        assert_int_equal(identity_otp_verify(f->s, PHONE, wrong, T0 + i, &id, &created), SB_EAUTH);
    assert_int_equal(identity_otp_verify(f->s, PHONE, wrong, T0 + 100, &id, &created), SB_ERATE);
    /* Burnt: even the right code is refused now. */
    assert_int_equal(identity_otp_verify(f->s, PHONE, code, T0 + 101, &id, &created), SB_ERATE);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM users"), 0);
    /* A new code starts a fresh count. */
    assert_int_equal(identity_otp_request(f->s, PHONE, NULL, T0 + 200, code), SB_OK);
    assert_int_equal(identity_otp_verify(f->s, PHONE, code, T0 + 201, &id, &created), SB_OK);
}

static void test_otp_rate_limit_per_phone_slides(void **state) {
    fixture *f = *state;
    const int64_t W = SB_OTP_RATE_WINDOW_MS;
    char code[SB_OTP_DIGITS + 1];
    for (int i = 0; i < SB_OTP_REQUESTS_PER_PHONE_PER_HOUR; i++)
        assert_int_equal(identity_otp_request(f->s, PHONE, NULL, T0 + i * 1000, code), SB_OK);
    assert_int_equal(identity_otp_request(f->s, PHONE, NULL, T0 + 5000, code), SB_ERATE);
    assert_int_equal(identity_otp_request(f->s, PHONE, NULL, T0 + W - 1, code), SB_ERATE);
    /* Another phone is not affected. */
    assert_int_equal(identity_otp_request(f->s, "+989121234568", NULL, T0 + 5000, code), SB_OK);
    /* At T0 + W the first request leaves the window: exactly one more. */
    assert_int_equal(identity_otp_request(f->s, PHONE, NULL, T0 + W, code), SB_OK);
    assert_int_equal(identity_otp_request(f->s, PHONE, NULL, T0 + W + 1, code), SB_ERATE);
    assert_int_equal(identity_otp_request(f->s, PHONE, NULL, T0 + W + 1000, code), SB_OK);
    /* A refused request is not counted: the window holds exactly the cap. */
    int64_t n = 0;
    assert_int_equal(identity__rate_count(f->s, IDENTITY__RATE_OTP_PHONE, PHONE, T0 + W + 1000, W, &n), SB_OK);
    assert_int_equal(n, SB_OTP_REQUESTS_PER_PHONE_PER_HOUR);
}

static void test_otp_rate_limit_per_address_slides(void **state) {
    fixture *f = *state;
    const int64_t W = SB_OTP_RATE_WINDOW_MS;
    char code[SB_OTP_DIGITS + 1], phone[SB_PHONE_BYTES];
    for (int i = 0; i < SB_OTP_REQUESTS_PER_ADDR_PER_HOUR; i++) {
        snprintf(phone, sizeof phone, "+98912000%04d", i);
        assert_int_equal(identity_otp_request(f->s, phone, "192.0.2.7", T0 + i, code), SB_OK);
    }
    assert_int_equal(identity_otp_request(f->s, "+989129999999", "192.0.2.7", T0 + 100, code), SB_ERATE);
    /* Nothing was stored for the refused request. */
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM otp_codes WHERE phone = '+989129999999'"), 0);
    assert_int_equal(identity_otp_request(f->s, "+989129999999", "192.0.2.8", T0 + 100, code), SB_OK);
    assert_int_equal(identity_otp_request(f->s, "+989129999998", NULL, T0 + 100, code), SB_OK);
    /* The first request from .7 leaves the window at T0 + W. */
    assert_int_equal(identity_otp_request(f->s, "+989129999997", "192.0.2.7", T0 + W - 1, code), SB_ERATE);
    assert_int_equal(identity_otp_request(f->s, "+989129999997", "192.0.2.7", T0 + W, code), SB_OK);
    assert_int_equal(identity_otp_request(f->s, "+989129999996", "192.0.2.7", T0 + W, code), SB_ERATE);
}

static void test_otp_phone_forms_are_one_customer(void **state) {
    fixture *f = *state;
    char code[SB_OTP_DIGITS + 1];
    int64_t id, again;
    bool created;
    /* Requested as typed, verified in E.164 and in Persian digits: one phone. */
    assert_int_equal(identity_otp_request(f->s, "0912 123 4567", NULL, T0, code), SB_OK);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM otp_codes WHERE phone = '+989121234567'"), 1);
    assert_int_equal(identity_otp_verify(f->s, PHONE, code, T0 + 1, &id, &created), SB_OK);
    assert_true(created);
    assert_int_equal(identity_otp_request(f->s, "+98 (912) 123-4567", NULL, T0 + 2, code), SB_OK);
    const char *persian_phone =
        "\xdb\xb0\xdb\xb9\xdb\xb1\xdb\xb2\xdb\xb1\xdb\xb2\xdb\xb3\xdb\xb4\xdb\xb5\xdb\xb6\xdb\xb7";
    assert_int_equal(identity_otp_verify(f->s, persian_phone, code, T0 + 3, &again, &created), SB_OK);
    assert_false(created);
    assert_int_equal(again, id);
    /* The rate limit counts the phone, whatever its shape. */
    int64_t n = 0;
    assert_int_equal(identity__rate_count(f->s, IDENTITY__RATE_OTP_PHONE, PHONE, T0 + 3, SB_OTP_RATE_WINDOW_MS, &n),
                     SB_OK);
    assert_int_equal(n, 2);
    /* Ukrainian mobiles work; landlines do not. */
    assert_int_equal(identity_otp_request(f->s, "050 123 45 67", NULL, T0, code), SB_OK);
    assert_int_equal(identity_otp_verify(f->s, "+380501234567", code, T0 + 1, &id, &created), SB_OK);
    identity_principal p;
    assert_int_equal(identity_user_get(f->s, id, &p), SB_OK);
    assert_string_equal(p.phone, "+380501234567");
    assert_int_equal(identity_otp_request(f->s, "+982112345678", NULL, T0, code), SB_EINVAL);
}

static void test_otp_bad_arguments(void **state) {
    fixture *f = *state;
    char code[SB_OTP_DIGITS + 1];
    assert_int_equal(identity_otp_request(f->s, NULL, NULL, T0, code), SB_EINVAL);
    assert_int_equal(identity_otp_request(f->s, "", NULL, T0, code), SB_EINVAL);
    assert_int_equal(identity_otp_request(f->s, "hello", NULL, T0, code), SB_EINVAL);
    assert_int_equal(identity_otp_request(f->s, "+98912123456789012", NULL, T0, code), SB_EINVAL);
    char long_addr[SB_CLIENT_ADDR_BYTES_MAX + 2];
    memset(long_addr, '1', sizeof long_addr - 1);
    long_addr[sizeof long_addr - 1] = '\0';
    assert_int_equal(identity_otp_request(f->s, PHONE, long_addr, T0, code), SB_EINVAL);
    assert_int_equal(identity_otp_request(f->s, PHONE, "", T0, code), SB_EINVAL);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM rate_events"), 0);
}

static void test_otp_code_never_stored_in_clear(void **state) {
    fixture *f = *state;
    char code[SB_OTP_DIGITS + 1];
    assert_int_equal(identity_otp_request(f->s, PHONE, NULL, T0, code), SB_OK);
    store_stmt *st;
    assert_int_equal(store_query(f->s, &st, "SELECT * FROM otp_codes", NULL), SB_OK);
    assert_int_equal(store_step(st), STORE_ROW);
    for (int col = 0; col < 6; col++) {
        const char *text = store_col_text(st, col);
        int len = store_col_bytes(st, col);
        if (text && len > 0) assert_null(memmem(text, (size_t)len, code, SB_OTP_DIGITS));
    }
    /* The hash is the keyed BLAKE2b of phone NUL code under the row's salt. */
    unsigned char expect[32];
    crypto_generichash_state h;
    crypto_generichash_init(&h, store_col_blob(st, 1), 32, 32);
    crypto_generichash_update(&h, (const unsigned char *)PHONE "", sizeof PHONE);
    crypto_generichash_update(&h, (const unsigned char *)code, SB_OTP_DIGITS);
    crypto_generichash_final(&h, expect, 32);
    assert_int_equal(store_col_bytes(st, 2), 32);
    assert_memory_equal(store_col_blob(st, 2), expect, 32);
    store_stmt_done(st);
}

/* ---- staff ---- */

static void test_staff_create_and_login(void **state) {
    fixture *f = *state;
    int64_t id = 0, login_id = 0;
    assert_int_equal(identity_staff_create(f->s, "Boss.Admin", "correct horse battery", IDENTITY_ROLE_ADMIN, &id),
                     SB_OK);
    identity_principal p;
    assert_int_equal(identity_user_get(f->s, id, &p), SB_OK);
    assert_string_equal(p.username, "boss.admin");
    assert_string_equal(p.display_name, "boss.admin");
    assert_string_equal(p.phone, "");
    assert_int_equal(p.role, IDENTITY_ROLE_ADMIN);
    assert_int_equal(identity_staff_login(f->s, "boss.admin", "correct horse battery", T0, &login_id), SB_OK);
    assert_int_equal(login_id, id);
    assert_int_equal(identity_staff_login(f->s, "BOSS.ADMIN", "correct horse battery", T0, &login_id), SB_OK);
    assert_int_equal(identity_staff_login(f->s, "boss.admin", "correct horse batterY", T0, &login_id), SB_EAUTH);
    assert_int_equal(identity_staff_login(f->s, "nobody", "correct horse battery", T0, &login_id), SB_EAUTH);
    assert_int_equal(identity_staff_login(f->s, "bad name!", "correct horse battery", T0, &login_id), SB_EAUTH);
    assert_int_equal(identity_staff_login(f->s, "boss.admin", "", T0, &login_id), SB_EAUTH);
    assert_int_equal(identity_staff_login(f->s, "boss.admin", NULL, T0, &login_id), SB_EAUTH);

    /* Stored as an argon2id string, never the password. */
    store_stmt *st;
    assert_int_equal(store_query(f->s, &st, "SELECT password_hash FROM users WHERE id = ?", "i", id), SB_OK);
    assert_int_equal(store_step(st), STORE_ROW);
    const char *hash = store_col_text(st, 0);
    assert_non_null(hash);
    assert_int_equal(strncmp(hash, "$argon2id$", 10), 0);
    assert_null(strstr(hash, "horse"));
    store_stmt_done(st);

    /* Customers cannot log in with a password. */
    char code[SB_OTP_DIGITS + 1];
    int64_t customer;
    bool created;
    assert_int_equal(identity_otp_request(f->s, PHONE, NULL, T0, code), SB_OK);
    assert_int_equal(identity_otp_verify(f->s, PHONE, code, T0, &customer, &created), SB_OK);
    assert_int_equal(identity_profile_update(f->s, customer, NULL, "ali"), SB_OK);
    assert_int_equal(identity_staff_login(f->s, "ali", "correct horse battery", T0, &login_id), SB_EAUTH);
}

static void test_staff_create_rules(void **state) {
    fixture *f = *state;
    int64_t id;
    const char *pw = "0123456789";
    assert_int_equal(identity_staff_create(f->s, "agent-1", pw, IDENTITY_ROLE_AGENT, &id), SB_OK);
    assert_int_equal(identity_staff_create(f->s, "agent-1", pw, IDENTITY_ROLE_ANALYST, &id), SB_EEXISTS);
    assert_int_equal(identity_staff_create(f->s, "AGENT-1", pw, IDENTITY_ROLE_ANALYST, &id), SB_EEXISTS);
    assert_int_equal(identity_staff_create(f->s, "", pw, IDENTITY_ROLE_AGENT, &id), SB_EINVAL);
    assert_int_equal(identity_staff_create(f->s, NULL, pw, IDENTITY_ROLE_AGENT, &id), SB_EINVAL);
    assert_int_equal(identity_staff_create(f->s, "a b", pw, IDENTITY_ROLE_AGENT, &id), SB_EINVAL);
    assert_int_equal(identity_staff_create(f->s, "عل", pw, IDENTITY_ROLE_AGENT, &id), SB_EINVAL);
    char long_name[SB_USERNAME_BYTES_MAX + 2];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    assert_int_equal(identity_staff_create(f->s, long_name, pw, IDENTITY_ROLE_AGENT, &id), SB_EINVAL);
    long_name[SB_USERNAME_BYTES_MAX] = '\0'; /* exactly the maximum */
    assert_int_equal(identity_staff_create(f->s, long_name, pw, IDENTITY_ROLE_AGENT, &id), SB_OK);
    assert_int_equal(identity_staff_create(f->s, "shorty", "012345678", IDENTITY_ROLE_AGENT, &id), SB_EINVAL);
    char long_pw[SB_PASSWORD_BYTES_MAX + 2];
    memset(long_pw, 'p', sizeof long_pw - 1);
    long_pw[sizeof long_pw - 1] = '\0';
    assert_int_equal(identity_staff_create(f->s, "longpw", long_pw, IDENTITY_ROLE_AGENT, &id), SB_EINVAL);
    long_pw[SB_PASSWORD_BYTES_MAX] = '\0';
    assert_int_equal(identity_staff_create(f->s, "longpw", long_pw, IDENTITY_ROLE_AGENT, &id), SB_OK);
    assert_int_equal(identity_staff_login(f->s, "longpw", long_pw, T0, &id), SB_OK);
    assert_int_equal(identity_staff_create(f->s, "cust", pw, IDENTITY_ROLE_CUSTOMER, &id), SB_EINVAL);
    assert_int_equal(identity_staff_create(f->s, "two", pw, IDENTITY_ROLE_ADMIN | IDENTITY_ROLE_AGENT, &id), SB_EINVAL);
    assert_int_equal(identity_staff_create(f->s, "zero", pw, 0, &id), SB_EINVAL);
    assert_int_equal(count_rows(f->s, "SELECT COUNT(*) FROM users"), 3);
}

static void test_staff_login_rate_limit(void **state) {
    fixture *f = *state;
    const int64_t W = SB_LOGIN_RATE_WINDOW_MS;
    int64_t id, login_id;
    assert_int_equal(identity_staff_create(f->s, "mia", "right password", IDENTITY_ROLE_ANALYST, &id), SB_OK);
    for (int i = 0; i < SB_LOGIN_FAILURES_PER_15_MIN; i++)
        assert_int_equal(identity_staff_login(f->s, "mia", "wrong password", T0 + i, &login_id), SB_EAUTH);
    /* Locked: even the right password is refused until the window slides. */
    assert_int_equal(identity_staff_login(f->s, "mia", "right password", T0 + 100, &login_id), SB_ERATE);
    assert_int_equal(identity_staff_login(f->s, "MIA", "right password", T0 + W - 1, &login_id), SB_ERATE);
    assert_int_equal(identity_staff_login(f->s, "mia", "right password", T0 + W, &login_id), SB_OK);
    assert_int_equal(login_id, id);
    /* Unknown names are counted too, so probing them is limited as well. */
    for (int i = 0; i < SB_LOGIN_FAILURES_PER_15_MIN; i++)
        assert_int_equal(identity_staff_login(f->s, "ghost", "whatever123", T0 + i, &login_id), SB_EAUTH);
    assert_int_equal(identity_staff_login(f->s, "ghost", "whatever123", T0 + 100, &login_id), SB_ERATE);
}

/* ---- sessions ---- */

static void test_session_lifecycle(void **state) {
    fixture *f = *state;
    int64_t id;
    assert_int_equal(identity_staff_create(f->s, "ops", "0123456789", IDENTITY_ROLE_MARKETER, &id), SB_OK);
    int64_t now = sb_now_ms();
    char token[IDENTITY_TOKEN_CHARS + 1];
    assert_int_equal(identity_session_create(f->s, id, now, token), SB_OK);
    assert_int_equal(strlen(token), IDENTITY_TOKEN_CHARS);
    for (size_t i = 0; i < IDENTITY_TOKEN_CHARS; i++)
        assert_non_null(strchr("0123456789abcdef", token[i]));

    identity_principal p;
    assert_int_equal(identity_session_lookup(f->s, token, now + 1, &p), SB_OK);
    assert_int_equal(p.user_id, id);
    assert_int_equal(p.role, IDENTITY_ROLE_MARKETER);
    assert_string_equal(p.username, "ops");
    assert_true(p.session_id > 0);
    assert_int_equal(p.expires_at_ms, now + SB_SESSION_TTL_MS);
    /* Expiry is exclusive. */
    assert_int_equal(identity_session_lookup(f->s, token, now + SB_SESSION_TTL_MS - 1, &p), SB_OK);
    assert_int_equal(identity_session_lookup(f->s, token, now + SB_SESSION_TTL_MS, &p), SB_EAUTH);

    /* Two sessions are independent; revoking one leaves the other. */
    char other[IDENTITY_TOKEN_CHARS + 1];
    assert_int_equal(identity_session_create(f->s, id, now, other), SB_OK);
    assert_string_not_equal(token, other);
    assert_int_equal(identity_session_revoke(f->s, token), SB_OK);
    assert_int_equal(identity_session_lookup(f->s, token, now + 2, &p), SB_EAUTH);
    assert_int_equal(identity_session_revoke(f->s, token), SB_EAUTH);
    assert_int_equal(identity_session_lookup(f->s, other, now + 2, &p), SB_OK);

    /* No session for a user that does not exist. */
    assert_int_equal(identity_session_create(f->s, 999999, now, other), SB_ENOTFOUND);
}

static void test_session_malformed_tokens(void **state) {
    fixture *f = *state;
    int64_t id;
    assert_int_equal(identity_staff_create(f->s, "ops", "0123456789", IDENTITY_ROLE_AGENT, &id), SB_OK);
    int64_t now = sb_now_ms();
    char token[IDENTITY_TOKEN_CHARS + 1];
    assert_int_equal(identity_session_create(f->s, id, now, token), SB_OK);
    identity_principal p;
    char bad[IDENTITY_TOKEN_CHARS + 2];
    assert_int_equal(identity_session_lookup(f->s, NULL, now, &p), SB_EAUTH);
    assert_int_equal(identity_session_lookup(f->s, "", now, &p), SB_EAUTH);
    memcpy(bad, token, IDENTITY_TOKEN_CHARS - 1);
    bad[IDENTITY_TOKEN_CHARS - 1] = '\0'; /* one short */
    assert_int_equal(identity_session_lookup(f->s, bad, now, &p), SB_EAUTH);
    memcpy(bad, token, IDENTITY_TOKEN_CHARS);
    bad[IDENTITY_TOKEN_CHARS] = '0'; /* one long */
    bad[IDENTITY_TOKEN_CHARS + 1] = '\0';
    assert_int_equal(identity_session_lookup(f->s, bad, now, &p), SB_EAUTH);
    memcpy(bad, token, IDENTITY_TOKEN_CHARS + 1);
    bad[10] = 'g';
    assert_int_equal(identity_session_lookup(f->s, bad, now, &p), SB_EAUTH);
    bad[10] = ' ';
    assert_int_equal(identity_session_lookup(f->s, bad, now, &p), SB_EAUTH);
    memcpy(bad, token, IDENTITY_TOKEN_CHARS + 1);
    bad[5] = bad[5] == '0' ? '1' : '0'; /* right shape, unknown */
    assert_int_equal(identity_session_lookup(f->s, bad, now, &p), SB_EAUTH);
    assert_int_equal(identity_session_revoke(f->s, bad), SB_EAUTH);
    assert_int_equal(identity_session_revoke(f->s, "nope"), SB_EAUTH);
    assert_int_equal(identity_session_lookup(f->s, token, now, &p), SB_OK); /* still live */
}

static void test_session_token_never_stored_in_clear(void **state) {
    fixture *f = *state;
    int64_t id;
    assert_int_equal(identity_staff_create(f->s, "ops", "0123456789", IDENTITY_ROLE_AGENT, &id), SB_OK);
    char token[IDENTITY_TOKEN_CHARS + 1];
    assert_int_equal(identity_session_create(f->s, id, sb_now_ms(), token), SB_OK);
    unsigned char raw[SB_TOKEN_BYTES], hash[32];
    assert_int_equal(sodium_hex2bin(raw, sizeof raw, token, IDENTITY_TOKEN_CHARS, NULL, NULL, NULL), 0);
    crypto_generichash(hash, sizeof hash, raw, sizeof raw, NULL, 0);
    int64_t n = -1;
    assert_int_equal(
        store_query_int64(f->s, &n, "SELECT COUNT(*) FROM sessions WHERE token_hash = ?", "b", raw, (int)sizeof raw),
        SB_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_query_int64(f->s, &n,
                                       "SELECT COUNT(*) FROM sessions WHERE instr(CAST(token_hash AS TEXT), ?) > 0 "
                                       "OR instr(hex(token_hash), upper(?)) > 0",
                                       "tt", token, token),
                     SB_OK);
    assert_int_equal(n, 0);
    assert_int_equal(
        store_query_int64(f->s, &n, "SELECT COUNT(*) FROM sessions WHERE token_hash = ?", "b", hash, (int)sizeof hash),
        SB_OK);
    assert_int_equal(n, 1);
}

/* ---- profiles ---- */

static void test_profile_rules(void **state) {
    fixture *f = *state;
    char code[SB_OTP_DIGITS + 1];
    int64_t id, other_id;
    bool created;
    assert_int_equal(identity_otp_request(f->s, PHONE, NULL, T0, code), SB_OK);
    assert_int_equal(identity_otp_verify(f->s, PHONE, code, T0, &id, &created), SB_OK);
    assert_int_equal(identity_otp_request(f->s, "+989351112233", NULL, T0, code), SB_OK);
    assert_int_equal(identity_otp_verify(f->s, "+989351112233", code, T0, &other_id, &created), SB_OK);
    int64_t staff_id;
    assert_int_equal(identity_staff_create(f->s, "support", "0123456789", IDENTITY_ROLE_AGENT, &staff_id), SB_OK);

    assert_int_equal(identity_profile_update(f->s, id, NULL, "Ali.Reza_1"), SB_OK);
    identity_principal p;
    assert_int_equal(identity_user_get(f->s, id, &p), SB_OK);
    assert_string_equal(p.username, "ali.reza_1");
    assert_int_equal(identity_profile_update(f->s, other_id, NULL, "ali.reza_1"), SB_EEXISTS);
    assert_int_equal(identity_profile_update(f->s, other_id, NULL, "ALI.REZA_1"), SB_EEXISTS);
    assert_int_equal(identity_profile_update(f->s, other_id, NULL, "support"), SB_EPERM); /* a staff name: reserved */
    assert_int_equal(identity_profile_update(f->s, id, NULL, "ali.reza_1"), SB_OK);       /* own name again */
    const char *bad_names[] = {"ab", "ali-reza", "ali reza", "", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "عليرضا", "a@b"};
    for (size_t i = 0; i < SB_ARRAY_LEN(bad_names); i++) {
        assert_int_equal(identity_username_check(bad_names[i]), SB_EINVAL);
        assert_int_equal(identity_profile_update(f->s, other_id, NULL, bad_names[i]), SB_EINVAL);
    }
    assert_int_equal(identity_username_check("abc"), SB_OK);
    assert_int_equal(identity_username_check("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), SB_OK); /* 32 */

    /* Display names: UTF-8, no controls, 1..SB_DISPLAY_NAME_BYTES_MAX bytes. */
    const char *persian = "\xd9\x85\xdb\x8c\xe2\x80\x8c\xd8\xae\xd9\x88\xd8\xa7\xd9\x87\xd9\x85"; /* with ZWNJ */
    assert_int_equal(identity_profile_update(f->s, id, persian, NULL), SB_OK);
    assert_int_equal(identity_user_get(f->s, id, &p), SB_OK);
    assert_string_equal(p.display_name, persian);
    assert_string_equal(p.username, "ali.reza_1"); /* NULL left it alone */
    char name[SB_DISPLAY_NAME_BYTES_MAX + 2];
    memset(name, 'x', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    assert_int_equal(identity_profile_update(f->s, id, name, NULL), SB_EINVAL);
    name[SB_DISPLAY_NAME_BYTES_MAX] = '\0';
    assert_int_equal(identity_profile_update(f->s, id, name, NULL), SB_OK);
    const char *bad_display[] = {
        "",        "   ",          "tab\there",       "new\nline",           "del\x7f",       "c1\xc2\x85",
        "bad\xff", "over\xc0\xaf", "rlo\xe2\x80\xae", "isolate\xe2\x81\xa6", "ls\xe2\x80\xa8"};
    for (size_t i = 0; i < SB_ARRAY_LEN(bad_display); i++) {
        assert_int_equal(identity_display_name_check(bad_display[i]), SB_EINVAL);
        assert_int_equal(identity_profile_update(f->s, id, bad_display[i], NULL), SB_EINVAL);
    }
    /* A bad field changes nothing, even beside a good one. */
    assert_int_equal(identity_profile_update(f->s, id, "Good Name", "no"), SB_EINVAL);
    assert_int_equal(identity_user_get(f->s, id, &p), SB_OK);
    assert_string_equal(p.display_name, name);
    assert_int_equal(identity_profile_update(f->s, id, "Good Name", "support"), SB_EPERM);
    assert_int_equal(identity_user_get(f->s, id, &p), SB_OK);
    assert_string_equal(p.display_name, name);

    assert_int_equal(identity_profile_update(f->s, 424242, "X", NULL), SB_ENOTFOUND);
    assert_int_equal(identity_user_get(f->s, 424242, &p), SB_ENOTFOUND);
}

/* The verdict on a display name and on a username. */
static identity_name_verdict display_verdict(fixture *f, const char *name) {
    identity_name_verdict v = IDENTITY_NAME_OK;
    assert_int_equal(identity_display_name_vet(f->s, name, &v), SB_OK);
    return v;
}
static identity_name_verdict username_verdict(fixture *f, const char *name) {
    identity_name_verdict v = IDENTITY_NAME_OK;
    assert_int_equal(identity_username_vet(f->s, name, &v), SB_OK);
    return v;
}

/* Names that pass for the bank or its staff, or show nothing, are refused
 * with their own codes; ordinary Persian, Ukrainian and Latin names pass. */
static void test_names_vetted(void **state) {
    fixture *f = *state;
    int64_t staff_id, customer_id;
    bool created;
    char code[SB_OTP_DIGITS + 1];
    assert_int_equal(identity_staff_create(f->s, "agent.sara", "0123456789", IDENTITY_ROLE_AGENT, &staff_id), SB_OK);
    assert_int_equal(identity_otp_request(f->s, PHONE, NULL, T0, code), SB_OK);
    assert_int_equal(identity_otp_verify(f->s, PHONE, code, T0, &customer_id, &created), SB_OK);
    const char *reserved[] = {
        "SocialBank Official \u2714",                                    /* the review's example */
        "SocialBank",                                                    /* the name itself */
        "socialbank support",                                            /* any case, inside a longer name */
        "S O C I A L  B A N K",                                          /* spaced out */
        "S\u043eci\u0430lB\u0430nk",                                     /* Cyrillic o and a */
        "\u0405ocial\u0392ank",                                          /* Cyrillic S, Greek B */
        "S0cia1Bank",                                                    /* digits for letters */
        "SociaIBank",                                                    /* a capital I for the l */
        "Social\u200bBank",                                              /* a zero-width space inside */
        "\u0633\u0648\u0634\u06cc\u0627\u0644 \u0628\u0627\u0646\u06a9", /* the Persian name */
        "\u0633\u0648\u0634\u064a\u0627\u0644 \u0628\u0627\u0646\u0643", /* with Arabic yeh and kaf */
        "\u0421\u043e\u0446\u0456\u0430\u043b \u0411\u0430\u043d\u043a", /* the Ukrainian name */
        "Agent Sara",                                                    /* a staff account */
        "agent.s\u0430ra",                                               /* with a Cyrillic a */
        "bankbot",                                                       /* the bank's bot, once it exists (below) */
    };
    int64_t bot_id;
    assert_int_equal(identity_staff_create(f->s, "bankbot", "0123456789", IDENTITY_ROLE_AGENT, &bot_id), SB_OK);
    for (size_t i = 0; i < SB_ARRAY_LEN(reserved); i++) {
        if (display_verdict(f, reserved[i]) != IDENTITY_NAME_RESERVED)
            fprintf(stderr, "not reserved: %s\n", reserved[i]);
        assert_int_equal(display_verdict(f, reserved[i]), IDENTITY_NAME_RESERVED);
    }
    assert_int_equal(identity_profile_update(f->s, customer_id, "SocialBank Official \u2714", NULL), SB_EPERM);
    const char *reserved_usernames[] = {"socialbank",     "socia1bank", "s0cialbank_help",
                                        "the.socialbank", "agent_sara", "bank.bot"};
    for (size_t i = 0; i < SB_ARRAY_LEN(reserved_usernames); i++) {
        if (username_verdict(f, reserved_usernames[i]) != IDENTITY_NAME_RESERVED)
            fprintf(stderr, "not reserved: %s\n", reserved_usernames[i]);
        assert_int_equal(username_verdict(f, reserved_usernames[i]), IDENTITY_NAME_RESERVED);
    }
    assert_int_equal(identity_profile_update(f->s, customer_id, NULL, "socia1bank"), SB_EPERM);
    /* Nothing visible once invisible characters are removed. */
    const char *empty[] = {"\u200b", "\u200c\u200d", " \u2060 ", "\u00ad", "\u200e\u200f",
                           "\ufeff", "\u3164",       "\u034f",   ""};
    for (size_t i = 0; i < SB_ARRAY_LEN(empty); i++) {
        if (display_verdict(f, empty[i]) != IDENTITY_NAME_EMPTY) fprintf(stderr, "not empty: item %zu\n", i);
        assert_int_equal(display_verdict(f, empty[i]), IDENTITY_NAME_EMPTY);
        assert_int_equal(identity_profile_update(f->s, customer_id, empty[i], NULL), SB_EINVAL);
    }
    /* Ordinary names pass: Persian (with ZWNJ), Ukrainian, Russian, Latin. */
    const char *fine[] = {
        "\u0639\u0644\u06cc \u0631\u0636\u0627\u06cc\u06cc",                               /* علی رضایی */
        "\u0645\u062d\u0645\u062f\u200c\u0631\u0636\u0627 \u06a9\u0631\u06cc\u0645\u06cc", /* محمد‌رضا کریمی
                                                                                            */
        "\u0628\u0627\u0646\u06a9 \u0645\u0644\u06cc \u062f\u0648\u0633\u062a", /* بانک ملی دوست */
        "\u041e\u043b\u0435\u043d\u0430 \u041f\u0435\u0442\u0440\u0435\u043d\u043a\u043e", /* Олена Петренко */
        "\u0421\u0435\u0440\u0433\u0456\u0439 \u0411\u0430\u043d\u043a\u043e",             /* Сергій Банко */
        "Sara Ahmadi",
        "Social Club",
        "Bank Street Bakery",
        "Agent Smith",
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(fine); i++) {
        if (display_verdict(f, fine[i]) != IDENTITY_NAME_OK) fprintf(stderr, "refused: %s\n", fine[i]);
        assert_int_equal(display_verdict(f, fine[i]), IDENTITY_NAME_OK);
    }
    assert_int_equal(identity_profile_update(f->s, customer_id, fine[1], "ali.rezaei"), SB_OK);
    assert_int_equal(username_verdict(f, "sara_ahmadi"), IDENTITY_NAME_OK);
    assert_int_equal(username_verdict(f, "social.club"), IDENTITY_NAME_OK);
    assert_int_equal(username_verdict(f, "ab"), IDENTITY_NAME_MALFORMED);
    assert_int_equal(display_verdict(f, "rlo\xe2\x80\xae"), IDENTITY_NAME_MALFORMED);
    assert_string_equal(identity_name_verdict_name(IDENTITY_NAME_EMPTY), "name_empty");
    assert_string_equal(identity_name_verdict_name(IDENTITY_NAME_RESERVED), "name_reserved");
}

static void test_user_list_pages(void **state) {
    fixture *f = *state;
    int64_t id;
    char name[16];
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof name, "staff%d", i);
        assert_int_equal(
            identity_staff_create(f->s, name, "0123456789", i % 2 ? IDENTITY_ROLE_ADMIN : IDENTITY_ROLE_AGENT, &id),
            SB_OK);
    }
    char code[SB_OTP_DIGITS + 1];
    bool created;
    assert_int_equal(identity_otp_request(f->s, PHONE, NULL, T0, code), SB_OK);
    assert_int_equal(identity_otp_verify(f->s, PHONE, code, T0, &id, &created), SB_OK);

    identity_principal page[2];
    size_t count = 0, total = 0;
    int64_t after = 0;
    do {
        assert_int_equal(identity_user_list(f->s, IDENTITY_ROLES_STAFF, after, page, 2, &count), SB_OK);
        for (size_t i = 0; i < count; i++) {
            assert_true(page[i].user_id > after);
            assert_true(page[i].role & IDENTITY_ROLES_STAFF);
            after = page[i].user_id;
        }
        total += count;
    } while (count == 2);
    assert_int_equal(total, 5);
    assert_int_equal(identity_user_list(f->s, IDENTITY_ROLE_ADMIN, 0, page, 2, &count), SB_OK);
    assert_int_equal(count, 2);
    assert_string_equal(page[0].username, "staff1");
    assert_string_equal(page[1].username, "staff3");
    assert_int_equal(identity_user_list(f->s, IDENTITY_ROLE_CUSTOMER, 0, page, 2, &count), SB_OK);
    assert_int_equal(count, 1);
    assert_string_equal(page[0].phone, PHONE);
}

/* ---- the code sender ---- */

static pthread_mutex_t captured_lock = PTHREAD_MUTEX_INITIALIZER;
static char captured[16384];
static size_t captured_len;

static void capture_sink(const char *line, size_t len, void *arg) {
    (void)arg;
    pthread_mutex_lock(&captured_lock);
    if (captured_len + len < sizeof captured) {
        memcpy(captured + captured_len, line, len);
        captured_len += len;
        captured[captured_len] = '\0';
    }
    pthread_mutex_unlock(&captured_lock);
}

static void capture_start(void) {
    captured_len = 0;
    captured[0] = '\0';
    sb_log_set_sink(capture_sink, NULL);
}

static void test_sender_log_kind(void **state) {
    (void)state;
    identity_sender *sender = NULL;
    assert_int_equal(identity_sender_enqueue(sender, PHONE, "123456"), SB_ECLOSED); /* not started */
    assert_int_equal(identity_sender_start("sms", NULL, NULL, &sender), SB_EINVAL);
    assert_int_equal(identity_sender_start("webhook", NULL, NULL, &sender), SB_EINVAL);
    capture_start();
    assert_int_equal(identity_sender_start("webhook", "ftp://gateway.example/otp", NULL, &sender), SB_EINVAL);
    assert_int_equal(identity_sender_start("webhook", "http://user:pw@gateway.example/otp", NULL, &sender), SB_EINVAL);
    assert_int_equal(identity_sender_start("webhook", "http://gateway.example:99999/otp", NULL, &sender), SB_EINVAL);
    assert_int_equal(identity_sender_start("webhook", "http://[::1/otp", NULL, &sender), SB_EINVAL);
    assert_int_equal(identity_sender_start("log", NULL, NULL, &sender), SB_OK);
    assert_int_equal(identity_sender_enqueue(sender, PHONE, "123456"), SB_OK);
    assert_int_equal(identity_sender_enqueue(sender, "+380501234567", "000042"), SB_OK);
    assert_int_equal(identity_sender_enqueue(sender, PHONE, "12345"), SB_EINVAL);
    assert_int_equal(identity_sender_enqueue(sender, PHONE, "12\"456"), SB_EINVAL);
    assert_int_equal(identity_sender_enqueue(sender, "\"+98\"", "123456"), SB_EINVAL);
    assert_int_equal(identity_sender_enqueue(sender, NULL, "123456"), SB_EINVAL);
    identity_sender_stop(sender); /* delivers what is queued */
    sender = NULL;
    sb_log_set_sink(NULL, NULL);
    assert_int_equal(identity_sender_enqueue(sender, PHONE, "123456"), SB_ECLOSED);
    print_message("%s", captured);
    assert_non_null(strstr(captured, "\"event\":\"otp.code\""));
    assert_non_null(strstr(captured, "\"phone\":\"+989121234567\",\"code\":\"123456\""));
    assert_non_null(strstr(captured, "\"phone\":\"+380501234567\",\"code\":\"000042\""));
    assert_non_null(strstr(captured, "\"level\":\"info\""));
    /* Restartable. */
    assert_int_equal(identity_sender_start("log", NULL, NULL, &sender), SB_OK);
    identity_sender_stop(sender);
}

/* The OTP sender's URL rules: the outbound client's check with the OTP length bound. */
static int webhook_url_check(const char *url) { return sb_http_url_check(url, SB_OTP_WEBHOOK_URL_BYTES_MAX); }

static void test_sender_parsers(void **state) {
    (void)state;
    const char *good_urls[] = {"http://127.0.0.1:8080/otp", "HTTP://gw.example", "http://[::1]:9/x?y=z",
                               "http://h/p#frag", "https://gw.example/otp"};
    for (size_t i = 0; i < SB_ARRAY_LEN(good_urls); i++)
        assert_int_equal(webhook_url_check(good_urls[i]), SB_OK);
    const char *bad_urls[] = {"ftp://x",        "http://",        "http:///path",    "http://a b/",
                              "http://u@h/",    "http://h:0/",    "http://h:65536/", "http://h:-1/",
                              "http://[::1/",   "http://[::1]x/", "http://h/\x7f",   "",
                              "http://h:8080x/"};
    for (size_t i = 0; i < SB_ARRAY_LEN(bad_urls); i++) {
        print_message("url %s\n", bad_urls[i]);
        assert_int_equal(webhook_url_check(bad_urls[i]), SB_EINVAL);
    }
}

/* A log sink that holds the sender thread inside its first line until released. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool gate_entered, gate_open;
static int gate_lines;

static void gate_sink(const char *line, size_t len, void *arg) {
    (void)arg;
    if (!memmem(line, len, "\"otp.code\"", 10)) return;
    pthread_mutex_lock(&gate_lock);
    gate_lines++;
    gate_entered = true;
    pthread_cond_broadcast(&gate_cond);
    while (!gate_open)
        pthread_cond_wait(&gate_cond, &gate_lock);
    pthread_mutex_unlock(&gate_lock);
}

static void test_sender_queue_is_bounded(void **state) {
    (void)state;
    gate_entered = gate_open = false;
    gate_lines = 0;
    sb_log_set_sink(gate_sink, NULL);
    identity_sender *sender;
    assert_int_equal(identity_sender_start("log", NULL, NULL, &sender), SB_OK);
    assert_int_equal(identity_sender_enqueue(sender, PHONE, "000000"), SB_OK);
    pthread_mutex_lock(&gate_lock);
    while (!gate_entered)
        pthread_cond_wait(&gate_cond, &gate_lock); /* the thread holds the first code */
    pthread_mutex_unlock(&gate_lock);
    for (int i = 0; i < SB_OTP_SENDER_QUEUE_MAX; i++)
        assert_int_equal(identity_sender_enqueue(sender, PHONE, "111111"), SB_OK);
    assert_int_equal(identity_sender_enqueue(sender, PHONE, "222222"), SB_EBUSY); /* full, and it did not block */
    pthread_mutex_lock(&gate_lock);
    gate_open = true;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
    identity_sender_stop(sender);
    sb_log_set_sink(NULL, NULL);
    assert_int_equal(gate_lines, SB_OTP_SENDER_QUEUE_MAX + 1); /* everything queued was delivered */
}

/* A loopback HTTP server that answers the first `fail_count` requests with
 * 503 and the next with 204, recording each request. */
typedef struct {
    int listen_fd;
    int fail_count;
    int requests;
    char last_request[4096];
} listener;

static void *listener_main(void *arg) {
    listener *l = arg;
    for (int served = 0; served <= l->fail_count; served++) {
        struct pollfd p = {.fd = l->listen_fd, .events = POLLIN};
        if (poll(&p, 1, 30000) != 1) break; /* the test fails on the missing request */
        int fd = accept(l->listen_fd, NULL, NULL);
        if (fd < 0) break;
        char buf[4096];
        size_t len = 0;
        /* Read headers, then Content-Length bytes of body. */
        for (;;) {
            struct pollfd q = {.fd = fd, .events = POLLIN};
            if (poll(&q, 1, 10000) != 1) break;
            ssize_t n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
            if (n <= 0) break;
            len += (size_t)n;
            buf[len] = '\0';
            char *end = strstr(buf, "\r\n\r\n");
            char *cl = strcasestr(buf, "Content-Length:");
            if (end && cl && len >= (size_t)(end + 4 - buf) + strtoul(cl + 15, NULL, 10)) break;
            if (len == sizeof buf - 1) break;
        }
        buf[len] = '\0';
        l->requests++;
        memcpy(l->last_request, buf, len + 1);
        const char *answer = served < l->fail_count
                                 ? "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                                 : "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
        ssize_t ignored = send(fd, answer, strlen(answer), MSG_NOSIGNAL);
        (void)ignored;
        close(fd);
    }
    return NULL;
}

static void test_sender_webhook_retries_then_delivers(void **state) {
    (void)state;
    listener l = {.fail_count = 1};
    l.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(l.listen_fd >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(l.listen_fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(listen(l.listen_fd, 4), 0);
    socklen_t addr_len = sizeof addr;
    assert_int_equal(getsockname(l.listen_fd, (struct sockaddr *)&addr, &addr_len), 0);
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, listener_main, &l), 0);

    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hooks/otp?src=sb", ntohs(addr.sin_port));
    capture_start();
    identity_sender *sender;
    assert_int_equal(identity_sender_start("webhook", url, NULL, &sender), SB_OK);
    assert_int_equal(identity_sender_enqueue(sender, PHONE, "654321"), SB_OK);
    pthread_join(thread, NULL); /* the listener ends after the successful request */
    identity_sender_stop(sender);
    sb_log_set_sink(NULL, NULL);
    close(l.listen_fd);
    print_message("request:\n%s\nlog:\n%s", l.last_request, captured);

    assert_int_equal(l.requests, 2);
    const char *request_line = "POST /hooks/otp?src=sb HTTP/1.1\r\n";
    assert_int_equal(strncmp(l.last_request, request_line, strlen(request_line)), 0);
    assert_non_null(strcasestr(l.last_request, "\r\nContent-Type: application/json\r\n"));
    char host[64];
    snprintf(host, sizeof host, "\r\nHost: 127.0.0.1:%d\r\n", ntohs(addr.sin_port));
    assert_non_null(strstr(l.last_request, host));
    const char *body = strstr(l.last_request, "\r\n\r\n");
    assert_non_null(body);
    assert_string_equal(body + 4, "{\"phone\":\"+989121234567\",\"code\":\"654321\"}");
    assert_non_null(strstr(captured, "\"event\":\"otp.send_retry\""));
    assert_non_null(strstr(captured, "\"event\":\"otp.sent\""));
    assert_null(strstr(captured, "654321")); /* the webhook kind never logs codes */
}

static void test_sender_webhook_gives_up(void **state) {
    (void)state;
    /* A port nobody listens on: every attempt is refused, then it gives up. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    socklen_t addr_len = sizeof addr;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &addr_len), 0);
    close(fd); /* bound once, now free: connections are refused */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(addr.sin_port));
    capture_start();
    identity_sender *sender;
    assert_int_equal(identity_sender_start("webhook", url, NULL, &sender), SB_OK);
    assert_int_equal(identity_sender_enqueue(sender, PHONE, "111111"), SB_OK);
    identity_sender_stop(sender);
    sb_log_set_sink(NULL, NULL);
    print_message("%s", captured);
    int retries = 0;
    for (const char *p = captured; (p = strstr(p, "otp.send_retry")); p++)
        retries++;
    assert_int_equal(retries, SB_OTP_WEBHOOK_ATTEMPTS_MAX);
    assert_non_null(strstr(captured, "\"event\":\"otp.send_failed\""));
    assert_null(strstr(captured, "111111"));
}

static void test_sender_stop_is_bounded(void **state) {
    (void)state;
    /* A gateway that accepts connections (the kernel's backlog) and never answers. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(listen(fd, 8), 0);
    socklen_t addr_len = sizeof addr;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &addr_len), 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/otp", ntohs(addr.sin_port));
    capture_start();
    identity_sender *sender;
    assert_int_equal(identity_sender_start("webhook", url, NULL, &sender), SB_OK);
    assert_int_equal(identity_sender_enqueue(sender, PHONE, "333333"), SB_OK);
    assert_int_equal(identity_sender_enqueue(sender, PHONE, "444444"), SB_OK);
    identity_sender_stop(sender); /* returns after about SB_OTP_SENDER_STOP_WAIT_MS, not after every retry */
    sb_log_set_sink(NULL, NULL);
    close(fd);
    print_message("%s", captured);
    assert_non_null(strstr(captured, "\"event\":\"otp.send_failed\""));
    assert_non_null(strstr(captured, "\"event\":\"otp.send_dropped\""));
    assert_null(strstr(captured, "\"attempt\":2")); /* the stop deadline ended the retries */
}

/* ---- concurrency ---- */

#define RACE_THREADS 6
#define RACE_TRIES 4

typedef struct {
    const char *dir;
    const char *code; /* NULL: request codes; else verify this (wrong) code */
    int ok, rate, auth, other;
} race_arg;

static void *race_main(void *p) {
    race_arg *a = p;
    store *s;
    if (store_open(a->dir, &(store_options){.durable = 0}, &s) != SB_OK) {
        a->other = RACE_TRIES;
        return NULL;
    }
    for (int i = 0; i < RACE_TRIES; i++) {
        char code[SB_OTP_DIGITS + 1];
        int64_t id;
        bool created;
        int result = a->code ? identity_otp_verify(s, PHONE, a->code, T0 + 1, &id, &created)
                             : identity_otp_request(s, PHONE, NULL, T0, code);
        if (result == SB_OK)
            a->ok++;
        else if (result == SB_ERATE)
            a->rate++;
        else if (result == SB_EAUTH)
            a->auth++;
        else
            a->other++;
    }
    store_close(s);
    return NULL;
}

static void race(const char *dir, const char *code, race_arg *total) {
    pthread_t threads[RACE_THREADS];
    race_arg args[RACE_THREADS];
    for (int i = 0; i < RACE_THREADS; i++) {
        args[i] = (race_arg){.dir = dir, .code = code};
        assert_int_equal(pthread_create(&threads[i], NULL, race_main, &args[i]), 0);
    }
    *total = (race_arg){0};
    for (int i = 0; i < RACE_THREADS; i++) {
        pthread_join(threads[i], NULL);
        total->ok += args[i].ok;
        total->rate += args[i].rate;
        total->auth += args[i].auth;
        total->other += args[i].other;
    }
}

static void test_limits_hold_under_concurrent_connections(void **state) {
    fixture *f = *state;
    /* Threads with their own connections ask for codes for one phone at once:
     * exactly the cap succeeds. */
    race_arg total;
    race(f->dir, NULL, &total);
    print_message("requests: ok %d rate %d other %d\n", total.ok, total.rate, total.other);
    assert_int_equal(total.ok, SB_OTP_REQUESTS_PER_PHONE_PER_HOUR);
    assert_int_equal(total.rate, RACE_THREADS * RACE_TRIES - SB_OTP_REQUESTS_PER_PHONE_PER_HOUR);
    assert_int_equal(total.other, 0);
    /* Wrong guesses at once: exactly SB_OTP_ATTEMPTS_MAX are counted. */
    char code[SB_OTP_DIGITS + 1], wrong[SB_OTP_DIGITS + 1];
    assert_int_equal(store_exec(f->s, "DELETE FROM rate_events", NULL), SB_OK);
    assert_int_equal(identity_otp_request(f->s, PHONE, NULL, T0, code), SB_OK);
    wrong_code(code, wrong);
    race(f->dir, wrong, &total);
    print_message("guesses: auth %d rate %d other %d\n", total.auth, total.rate, total.other);
    assert_int_equal(total.auth, SB_OTP_ATTEMPTS_MAX - 1);
    assert_int_equal(total.rate, RACE_THREADS * RACE_TRIES - (SB_OTP_ATTEMPTS_MAX - 1));
    assert_int_equal(total.other, 0);
    assert_int_equal(count_rows(f->s, "SELECT attempts FROM otp_codes"), SB_OTP_ATTEMPTS_MAX);
}

/* ---- the command line ---- */

/* Run a shell command; return its exit status and its output (both streams). */
static int run_command(const char *cmd, char *out, size_t cap) {
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t len = fread(out, 1, cap - 1, p);
    out[len] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_cli_user_add_and_list(void **state) {
    fixture *f = *state;
    const char *binary = getenv("SB_BINARY");
    if (!binary) skip(); /* run under ctest, which says where the binary is */
    char cmd[1024], out[4096];
    snprintf(cmd, sizeof cmd, "printf 'a long password\\n' | '%s' user add --data '%s' --username Root --role admin",
             binary, f->dir);
    assert_int_equal(run_command(cmd, out, sizeof out), 0);
    assert_string_equal(out, "{\"id\":1,\"username\":\"root\",\"role\":\"admin\"}\n");
    /* The password works (no line ending kept). */
    int64_t id;
    identity__pwhash_set_fast(false);
    assert_int_equal(identity_staff_login(f->s, "root", "a long password", T0, &id), SB_OK);
    identity__pwhash_set_fast(true);
    assert_int_equal(id, 1);

    snprintf(cmd, sizeof cmd, "printf 'a long password' | '%s' user add --data '%s' --username root --role agent 2>&1",
             binary, f->dir);
    assert_int_equal(run_command(cmd, out, sizeof out), 1);
    assert_non_null(strstr(out, "taken"));
    snprintf(cmd, sizeof cmd, "printf 'short\\n' | '%s' user add --data '%s' --username ann --role agent 2>&1", binary,
             f->dir);
    assert_int_equal(run_command(cmd, out, sizeof out), 1);
    assert_non_null(strstr(out, "password must be"));
    snprintf(cmd, sizeof cmd, "printf 'a long password\\n' | '%s' user add --data '%s' --username ann --role boss 2>&1",
             binary, f->dir);
    assert_int_equal(run_command(cmd, out, sizeof out), 1);
    assert_non_null(strstr(out, "unknown role 'boss'"));
    snprintf(cmd, sizeof cmd, "'%s' user add --data '%s' --username ann --role agent 2>&1 </dev/null", binary, f->dir);
    assert_int_equal(run_command(cmd, out, sizeof out), 1);
    assert_non_null(strstr(out, "standard input"));
    snprintf(cmd, sizeof cmd,
             "printf 'another password\\r\\n' | '%s' user add --data '%s' --username ann --role marketer "
             "--display-name 'Ann \xd8\xa2' >/dev/null && '%s' user list --data '%s'",
             binary, f->dir, binary, f->dir);
    assert_int_equal(run_command(cmd, out, sizeof out), 0);
    assert_string_equal(out,
                        "{\"id\":1,\"role\":\"admin\",\"username\":\"root\",\"phone\":null,\"display_name\":\"root\"}\n"
                        "{\"id\":2,\"role\":\"marketer\",\"username\":\"ann\",\"phone\":null,"
                        "\"display_name\":\"Ann \xd8\xa2\"}\n");
    identity__pwhash_set_fast(false);
    assert_int_equal(identity_staff_login(f->s, "ann", "another password", T0, &id), SB_OK);
    identity__pwhash_set_fast(true);
}

/* ---- allocation failures ---- */

/* Run op with the Nth allocation failing, for N = 0, 1, ... until it
 * succeeds; every failure must be a clean error. Returns the N that passed. */
typedef int (*sweep_op)(store *s, void *arg);

static long sweep(store *s, sweep_op op, void *arg) {
    for (long n = 0; n < 10000; n++) {
        sb_alloc_fail_after(n);
        int result = op(s, arg);
        sb_alloc_fail_reset();
        if (result == SB_OK) return n;
        assert_int_equal(result, SB_ENOMEM);
    }
    fail_msg("the operation never succeeded");
    return -1;
}

typedef struct {
    int64_t user_id;
    char token[IDENTITY_TOKEN_CHARS + 1];
    char code[SB_OTP_DIGITS + 1];
    int64_t now_ms;
} sweep_state;

static int op_session_create(store *s, void *arg) {
    sweep_state *st = arg;
    return identity_session_create(s, st->user_id, st->now_ms, st->token);
}
static int op_session_lookup(store *s, void *arg) {
    sweep_state *st = arg;
    identity_principal p;
    return identity_session_lookup(s, st->token, st->now_ms, &p);
}
static int op_session_revoke(store *s, void *arg) { return identity_session_revoke(s, ((sweep_state *)arg)->token); }
static int op_otp_request(store *s, void *arg) {
    sweep_state *st = arg;
    return identity_otp_request(s, PHONE, "198.51.100.1", st->now_ms, st->code);
}
static int op_otp_verify(store *s, void *arg) {
    sweep_state *st = arg;
    bool created;
    return identity_otp_verify(s, PHONE, st->code, st->now_ms, &st->user_id, &created);
}
static int op_staff_login(store *s, void *arg) {
    sweep_state *st = arg;
    int64_t id;
    return identity_staff_login(s, "sweeper", "0123456789", st->now_ms, &id);
}

static void test_allocation_failures(void **state) {
    fixture *f = *state;
    int64_t staff;
    assert_int_equal(identity_staff_create(f->s, "sweeper", "0123456789", IDENTITY_ROLE_AGENT, &staff), SB_OK);
    /* A fresh connection, so that every statement is prepared (and allocated) under the sweep. */
    store *s;
    assert_int_equal(store_open(f->dir, NULL, &s), SB_OK);
    sweep_state st = {.now_ms = T0};

    long n = sweep(s, op_otp_request, &st);
    print_message("otp_request passed with %ld allocations\n", n);
    assert_true(n > 0);
    /* Failed attempts left nothing behind: one code, one event per key. */
    assert_int_equal(count_rows(s, "SELECT COUNT(*) FROM otp_codes"), 1);
    assert_int_equal(count_rows(s, "SELECT COUNT(*) FROM rate_events"), 2);

    n = sweep(s, op_otp_verify, &st);
    print_message("otp_verify passed with %ld allocations\n", n);
    assert_int_equal(count_rows(s, "SELECT COUNT(*) FROM users WHERE role = 'customer'"), 1);
    assert_int_equal(count_rows(s, "SELECT COUNT(*) FROM otp_codes"), 0);

    st.now_ms = sb_now_ms();
    n = sweep(s, op_session_create, &st);
    print_message("session_create passed with %ld allocations\n", n);
    assert_int_equal(count_rows(s, "SELECT COUNT(*) FROM sessions"), 1);
    n = sweep(s, op_session_lookup, &st);
    print_message("session_lookup passed with %ld allocations\n", n);
    n = sweep(s, op_session_revoke, &st);
    print_message("session_revoke passed with %ld allocations\n", n);
    assert_int_equal(op_session_lookup(s, &st), SB_EAUTH);
    n = sweep(s, op_staff_login, &st);
    print_message("staff_login passed with %ld allocations\n", n);
    store_close(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles),
        cmocka_unit_test_setup_teardown(test_otp_success_and_returning_customer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_otp_wrong_code_then_right, setup, teardown),
        cmocka_unit_test_setup_teardown(test_otp_persian_digits_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_otp_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_otp_reuse_and_replacement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_otp_attempts_cap_burns_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_otp_rate_limit_per_phone_slides, setup, teardown),
        cmocka_unit_test_setup_teardown(test_otp_rate_limit_per_address_slides, setup, teardown),
        cmocka_unit_test_setup_teardown(test_otp_phone_forms_are_one_customer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_otp_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_otp_code_never_stored_in_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_staff_create_and_login, setup, teardown),
        cmocka_unit_test_setup_teardown(test_staff_create_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_staff_login_rate_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_malformed_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_token_never_stored_in_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_vetted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_list_pages, setup, teardown),
        cmocka_unit_test(test_sender_log_kind),
        cmocka_unit_test(test_sender_parsers),
        cmocka_unit_test(test_sender_queue_is_bounded),
        cmocka_unit_test(test_sender_webhook_retries_then_delivers),
        cmocka_unit_test(test_sender_webhook_gives_up),
        cmocka_unit_test(test_sender_stop_is_bounded),
        cmocka_unit_test_setup_teardown(test_limits_hold_under_concurrent_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cli_user_add_and_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allocation_failures, setup, teardown),
    };
    return cmocka_run_group_tests_name("identity", tests, NULL, NULL);
}
