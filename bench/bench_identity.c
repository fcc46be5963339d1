/*
 * bench_identity.c - the cost of signing in.
 *
 * Staff logins: a failed login for an unknown username must take about as
 * long as one with a wrong password (the dummy argon2id check), or the time
 * would tell an attacker which usernames exist.  This measures both at the
 * production (interactive) cost, interleaved so that machine noise hits both
 * alike, and reports the unknown-user median against the wrong-password
 * median.  It also reports session lookups per second (the check every
 * authenticated request pays) and one-time-code requests per second.
 *
 * The store runs with durable = 0 (WAL, synchronous NORMAL); with durable = 1
 * every code request would also wait for an fsync.
 *
 * Usage: bench_identity DIR [ROUNDS]   (DIR: an empty scratch directory)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity/identity.h"

static int compare_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static double median_ms(int64_t *ns, int n) {
    qsort(ns, (size_t)n, sizeof *ns, compare_i64);
    return (n % 2 ? (double)ns[n / 2] : (ns[n / 2 - 1] + ns[n / 2]) / 2.0) / 1e6;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_identity DIR [ROUNDS]\n");
        return 2;
    }
    int rounds = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 15;
    if (rounds < 3 || rounds > 1000) rounds = 15;
    sb_log_set_level(SB_LOG_WARN);
    store *s;
    if (sb_crypto_init() != SB_OK || store_open(argv[1], &(store_options){.durable = 0}, &s) != SB_OK ||
        store_migrate(s, NULL) != SB_OK) {
        fprintf(stderr, "bench_identity: cannot set up the store in %s\n", argv[1]);
        return 1;
    }
    int64_t admin_id, id;
    if (identity_staff_create(s, "bench.admin", "the right password", IDENTITY_ROLE_ADMIN, &admin_id) != SB_OK) {
        fprintf(stderr, "bench_identity: cannot create the staff user\n");
        return 1;
    }
    int64_t *wrong = calloc((size_t)rounds, sizeof *wrong), *unknown = calloc((size_t)rounds, sizeof *unknown);
    int64_t now = sb_now_ms();
    for (int i = 0; i < rounds; i++) {
        /* Each round a fresh window start, so the failure cap never trips. */
        int64_t at = now + (int64_t)i * SB_LOGIN_RATE_WINDOW_MS;
        int64_t t0 = sb_mono_ns();
        int r1 = identity_staff_login(s, "bench.admin", "a wrong password", at, &id);
        int64_t t1 = sb_mono_ns();
        int r2 = identity_staff_login(s, "nobody.here", "a wrong password", at, &id);
        int64_t t2 = sb_mono_ns();
        if (r1 != SB_EAUTH || r2 != SB_EAUTH) {
            fprintf(stderr, "bench_identity: unexpected login results %d %d\n", r1, r2);
            return 1;
        }
        wrong[i] = t1 - t0;
        unknown[i] = t2 - t1;
    }
    double wrong_ms = median_ms(wrong, rounds), unknown_ms = median_ms(unknown, rounds);

    /* Session lookups. */
    char token[IDENTITY_TOKEN_CHARS + 1];
    if (identity_session_create(s, admin_id, now, token) != SB_OK) return 1;
    const int lookups = 20000;
    identity_principal p;
    int64_t t0 = sb_mono_ns();
    for (int i = 0; i < lookups; i++)
        if (identity_session_lookup(s, token, now + 1, &p) != SB_OK) return 1;
    double lookups_per_s = lookups / ((sb_mono_ns() - t0) / 1e9);

    /* One-time-code requests (each a write transaction), distinct phones. */
    const int requests = 2000;
    char code[SB_OTP_DIGITS + 1], phone[SB_PHONE_BYTES];
    t0 = sb_mono_ns();
    for (int i = 0; i < requests; i++) {
        snprintf(phone, sizeof phone, "+98912%07d", i);
        if (identity_otp_request(s, phone, NULL, now, code) != SB_OK) return 1;
    }
    double otp_per_s = requests / ((sb_mono_ns() - t0) / 1e9);
    store_close(s);
    free(wrong);
    free(unknown);
    printf("bench: identity_login_unknown_user value=%.1f unit=ms baseline=wrong_password baseline_value=%.1f "
           "ratio=%.3f rounds=%d session_lookups_per_s=%.0f otp_requests_per_s=%.0f\n",
           unknown_ms, wrong_ms, unknown_ms / wrong_ms, rounds, lookups_per_s, otp_per_s);
    return 0;
}
