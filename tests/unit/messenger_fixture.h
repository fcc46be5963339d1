/*
 * messenger_fixture.h - what the messenger's unit tests share: a fresh
 * migrated store in a temporary directory per test, users made by direct
 * inserts (customers with a phone, staff with a role), and small helpers to
 * send and to check events.
 */
#ifndef SB_TEST_MESSENGER_FIXTURE_H
#define SB_TEST_MESSENGER_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include <cmocka.h>

#include "messenger/messenger.h"
#include "messenger/messenger_int.h"

#define T0 1700000000000LL

typedef struct {
    store *s;
    char dir[64];
    int64_t phone_counter;
} fixture;

static inline int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sb-messenger-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(sb_crypto_init(), SB_OK);
    assert_int_equal(store_open(f->dir, &(store_options){.durable = 0}, &f->s), SB_OK);
    assert_int_equal(store_migrate(f->s, NULL), SB_OK);
    *state = f;
    return 0;
}

static inline int teardown(void **state) {
    fixture *f = *state;
    store_close(f->s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) return -1;
    free(f);
    return 0;
}

/* A customer with phone +98912000NNNN and optional @username, who has not
 * made themself discoverable: reached by id only through a shared chat. */
static inline int64_t hidden_customer(fixture *f, const char *username) {
    char phone[32];
    snprintf(phone, sizeof phone, "+98912%07d", (int)(++f->phone_counter % 10000000));
    assert_int_equal(store_exec(f->s,
                                "INSERT INTO users(role, phone, username, display_name, created_at_ms, updated_at_ms) "
                                "VALUES ('customer', ?, ?, 'c', 0, 0)",
                                "tt", phone, username),
                     SB_OK);
    return store_last_insert_id(f->s);
}

/* A discoverable customer (anyone may find them and open a chat). */
static inline int64_t customer(fixture *f, const char *username) {
    int64_t id = hidden_customer(f, username);
    assert_int_equal(messenger_discoverable_set(f->s, id, true), SB_OK);
    return id;
}

static inline int64_t staff(fixture *f, const char *role, const char *username) {
    assert_int_equal(store_exec(f->s,
                                "INSERT INTO users(role, username, display_name, password_hash, created_at_ms, "
                                "updated_at_ms) VALUES (?, ?, 's', 'x', 0, 0)",
                                "tt", role, username),
                     SB_OK);
    return store_last_insert_id(f->s);
}

/* Send a text and return its seq (asserting success). */
static inline int64_t send_text(fixture *f, int64_t chat_id, int64_t sender_id, const char *text) {
    messenger_send_request req = {.chat_id = chat_id, .sender_id = sender_id, .kind = MESSENGER_MSG_TEXT, .text = text};
    messenger_message m;
    assert_int_equal(messenger_send(f->s, &req, T0, &m, NULL, NULL), SB_OK);
    int64_t seq = m.seq;
    messenger_message_clear(&m);
    return seq;
}

static inline int send_result(fixture *f, int64_t chat_id, int64_t sender_id, const char *text) {
    messenger_send_request req = {.chat_id = chat_id, .sender_id = sender_id, .kind = MESSENGER_MSG_TEXT, .text = text};
    return messenger_send(f->s, &req, T0, NULL, NULL, NULL);
}

/* The recipients of an event as a sorted list compared with the expected ones. */
static inline void assert_recipients(const messenger_event *ev, const int64_t *expected, size_t count) {
    assert_int_equal(ev->recipient_count, count);
    int64_t sorted[64];
    assert_true(count <= 64);
    memcpy(sorted, ev->recipients, count * sizeof *sorted);
    for (size_t i = 1; i < count; i++)
        for (size_t j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
            int64_t t = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = t;
        }
    int64_t want[64];
    memcpy(want, expected, count * sizeof *want);
    for (size_t i = 1; i < count; i++)
        for (size_t j = i; j > 0 && want[j - 1] > want[j]; j--) {
            int64_t t = want[j];
            want[j] = want[j - 1];
            want[j - 1] = t;
        }
    for (size_t i = 0; i < count; i++)
        assert_int_equal(sorted[i], want[i]);
}

static inline int64_t count_rows(store *s, const char *sql) {
    int64_t n = -1;
    assert_int_equal(store_query_int64(s, &n, sql, NULL), SB_OK);
    return n;
}

#endif
