/*
 * listening_test_util.h - shared by the test_listening_*.c files: a fresh
 * migrated database per test, and a scripted understander standing in for
 * the text engine (issue 5) so the domain is tested on known labels.
 *
 * The scripted understander reads labels from a marker at the start of the
 * text: "#s=negative,k=complaint,t=cards,p=900,g=fa,r=card_misuse,
 * l=new_child,c=Tinkoff# rest of the post".  Without a marker a post is
 * neutral/other/other in "en".
 */
#ifndef LISTENING_TEST_UTIL_H
#define LISTENING_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "listening/listening.h"
#include "store/store.h"

typedef struct {
    store *s;
    listening *l;
    char dir[64];
} fixture;

static inline int scripted_understand(void *arg, const char *text, size_t len, listening_understanding *u) {
    (void)arg;
    memset(u, 0, sizeof *u);
    snprintf(u->lang, sizeof u->lang, "en");
    snprintf(u->sentiment, sizeof u->sentiment, "neutral");
    snprintf(u->kind, sizeof u->kind, "other");
    snprintf(u->topic, sizeof u->topic, "other");
    snprintf(u->model, sizeof u->model, "scripted");
    int permille = 900;
    if (len < 2 || text[0] != '#') {
        u->sentiment_permille = u->kind_permille = u->topic_permille = permille;
        return SB_OK;
    }
    const char *end = memchr(text + 1, '#', len - 1);
    if (!end) return SB_EINVAL;
    const char *p = text + 1;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        if (!comma) comma = end;
        if (comma - p >= 3 && p[1] == '=') {
            char value[LISTENING_LABEL_BYTES];
            size_t n = (size_t)(comma - p - 2);
            if (n >= sizeof value) n = sizeof value - 1;
            memcpy(value, p + 2, n);
            value[n] = '\0';
            switch (p[0]) {
            case 's':
                snprintf(u->sentiment, sizeof u->sentiment, "%s", value);
                break;
            case 'k':
                snprintf(u->kind, sizeof u->kind, "%s", value);
                break;
            case 't':
                snprintf(u->topic, sizeof u->topic, "%s", value);
                break;
            case 'g':
                snprintf(u->lang, sizeof u->lang, "%.7s", value);
                break;
            case 'p':
                permille = (int)strtol(value, NULL, 10);
                break;
            case 'r':
                snprintf(u->risks[u->risk_count].name, LISTENING_LABEL_BYTES, "%s", value);
                u->risks[u->risk_count].permille = 950;
                snprintf(u->risks[u->risk_count].trigger, LISTENING_TRIGGER_BYTES, "%s", value);
                u->risk_count++;
                break;
            case 'l':
                snprintf(u->life_events[u->life_event_count].name, LISTENING_LABEL_BYTES, "%s", value);
                u->life_events[u->life_event_count].permille = 900;
                u->life_event_count++;
                break;
            case 'c':
                snprintf(u->competitors[u->competitor_count].name, LISTENING_LABEL_BYTES, "%s", value);
                u->competitors[u->competitor_count].permille = 1000;
                u->competitor_count++;
                break;
            default:
                break;
            }
        }
        p = comma + 1;
    }
    u->sentiment_permille = u->kind_permille = u->topic_permille = permille;
    return SB_OK;
}

/* cfg NULL: no raw storage, the scripted understander; otherwise cfg as given. */
static inline int fixture_setup_with(void **state, const listening_config *cfg) {
    sb_log_set_level(SB_LOG_ERROR);
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sb-listening-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    if (store_open(f->dir, NULL, &f->s) != SB_OK) return -1;
    if (store_migrate(f->s, NULL) != SB_OK) return -1;
    listening_config c;
    if (cfg)
        c = *cfg;
    else
        memset(&c, 0, sizeof c);
    if (!cfg) c.understander.understand = scripted_understand;
    if (listening_open(f->s, &c, &f->l) != SB_OK) return -1;
    *state = f;
    return 0;
}

static inline int fixture_setup(void **state) { return fixture_setup_with(state, NULL); }

static inline int fixture_teardown(void **state) {
    fixture *f = *state;
    listening_close(f->l);
    store_close(f->s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* A post with the given fields; text is a C string. */
static inline listening_post make_post(const char *source, const char *id, const char *author, int64_t at_ms,
                                       const char *text) {
    listening_post p;
    memset(&p, 0, sizeof p);
    p.source = source;
    p.external_id = id;
    p.author = author;
    p.author_reach = 100;
    p.posted_at_ms = at_ms;
    p.text = text;
    p.text_len = text ? strlen(text) : 0;
    return p;
}

static inline int64_t count_rows(store *s, const char *sql) {
    int64_t n = -1;
    assert_int_equal(store_query_int64(s, &n, sql, ""), SB_OK);
    return n;
}

/* 2026-11-21 (a Saturday) 00:00 UTC. */
#define T0_MS 1795219200000LL
#define MIN_MS 60000LL
#define HOUR_MS_T (60 * MIN_MS)
#define DAY_MS_T (24 * HOUR_MS_T)

#endif
