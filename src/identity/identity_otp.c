/*
 * identity_otp.c - customers sign in with a phone number and a one-time code.
 *
 * A request makes a random SB_OTP_DIGITS-digit code, valid SB_OTP_TTL_MS,
 * and replaces any earlier code for that phone.  Only a keyed BLAKE2b hash
 * of phone and code is stored, under a fresh random 32-byte key per code,
 * and codes are compared in constant time.  (A leaked row could still be
 * brute-forced over the 10^6 codes within its five minutes; the key stops
 * precomputed tables and cross-row comparison, not that.)
 *
 * Guessing is bounded three ways: SB_OTP_ATTEMPTS_MAX wrong tries burn a
 * code, SB_OTP_REQUESTS_PER_PHONE_PER_HOUR codes per phone, and
 * SB_OTP_REQUESTS_PER_ADDR_PER_HOUR requests per client address, both as
 * sliding one-hour windows.  Every check-and-update runs in one write
 * transaction, so concurrent server threads cannot race past a limit.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "identity/identity.h"
#include "identity/identity_int.h"

#define OTP_SALT_BYTES 32
#define OTP_HASH_BYTES 32

/* The canonical E.164 form of a phone argument, or SB_EINVAL.  Callers
 * normally pass E.164 already; normalising again (idempotent) means a number
 * typed in any accepted shape can never make a second account or a second
 * rate-limit key. */
static int phone_canonical(const char *in, char out[SB_PHONE_BYTES]) {
    if (!in) return SB_EINVAL;
    return sb_phone_normalize(in, out, NULL);
}

static uint32_t otp_modulus(void) {
    uint32_t m = 1;
    for (int i = 0; i < SB_OTP_DIGITS; i++)
        m *= 10;
    return m;
}

static void otp_hash(const unsigned char salt[OTP_SALT_BYTES], const char *phone, const char *code,
                     unsigned char out[OTP_HASH_BYTES]) {
    crypto_generichash_state state;
    crypto_generichash_init(&state, salt, OTP_SALT_BYTES, OTP_HASH_BYTES);
    crypto_generichash_update(&state, (const unsigned char *)phone, strlen(phone));
    crypto_generichash_update(&state, (const unsigned char *)"\0", 1); /* phone and code cannot run together */
    crypto_generichash_update(&state, (const unsigned char *)code, strlen(code));
    crypto_generichash_final(&state, out, OTP_HASH_BYTES);
    sodium_memzero(&state, sizeof state);
}

int identity_otp_request(store *s, const char *phone_e164, const char *client_addr, int64_t now_ms,
                         char code_out[SB_OTP_DIGITS + 1]) {
    char phone[SB_PHONE_BYTES];
    if (phone_canonical(phone_e164, phone) != SB_OK) return SB_EINVAL;
    if (client_addr &&
        (client_addr[0] == '\0' || strnlen(client_addr, SB_CLIENT_ADDR_BYTES_MAX + 1) > SB_CLIENT_ADDR_BYTES_MAX))
        return SB_EINVAL;
    if (sb_crypto_init() != SB_OK) return SB_EINTERNAL;

    int result = store_begin(s);
    if (result != SB_OK) return result;
    int64_t count = 0;
    result = identity__rate_count(s, IDENTITY__RATE_OTP_PHONE, phone, now_ms, SB_OTP_RATE_WINDOW_MS, &count);
    if (result == SB_OK && count >= SB_OTP_REQUESTS_PER_PHONE_PER_HOUR) result = SB_ERATE;
    if (result == SB_OK && client_addr) {
        result = identity__rate_count(s, IDENTITY__RATE_OTP_ADDR, client_addr, now_ms, SB_OTP_RATE_WINDOW_MS, &count);
        if (result == SB_OK && count >= SB_OTP_REQUESTS_PER_ADDR_PER_HOUR) result = SB_ERATE;
    }
    if (result == SB_OK) result = identity__rate_record(s, IDENTITY__RATE_OTP_PHONE, phone, now_ms);
    if (result == SB_OK && client_addr) result = identity__rate_record(s, IDENTITY__RATE_OTP_ADDR, client_addr, now_ms);

    char code[SB_OTP_DIGITS + 1];
    unsigned char salt[OTP_SALT_BYTES], hash[OTP_HASH_BYTES];
    if (result == SB_OK) {
        snprintf(code, sizeof code, "%0*u", SB_OTP_DIGITS, (unsigned)sb_random_uniform(otp_modulus()));
        sb_random_bytes(salt, sizeof salt);
        otp_hash(salt, phone, code, hash);
        result =
            store_exec(s,
                       "INSERT INTO otp_codes(phone, salt, code_hash, created_at_ms, expires_at_ms, attempts) "
                       "VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT(phone) DO UPDATE SET salt = excluded.salt, "
                       "code_hash = excluded.code_hash, created_at_ms = excluded.created_at_ms, "
                       "expires_at_ms = excluded.expires_at_ms, attempts = 0",
                       "tbbii", phone, salt, (int)sizeof salt, hash, (int)sizeof hash, now_ms, now_ms + SB_OTP_TTL_MS);
    }
    /* Codes nobody verified: a bounded batch at a time. */
    if (result == SB_OK)
        result = store_exec(s,
                            "DELETE FROM otp_codes WHERE rowid IN "
                            "(SELECT rowid FROM otp_codes WHERE expires_at_ms <= ? LIMIT ?)",
                            "ii", now_ms, (int64_t)SB_IDENTITY_PRUNE_BATCH);
    if (result == SB_OK) result = store_commit(s);
    if (result != SB_OK) {
        store_rollback(s);
    } else {
        memcpy(code_out, code, sizeof code);
    }
    sodium_memzero(code, sizeof code);
    return result;
}

/* Accept the code as typed: ASCII, Persian or Arabic-Indic digits. */
static int code_canonical(const char *in, char out[SB_OTP_DIGITS + 1]) {
    if (!in) return SB_EINVAL;
    /* A Persian digit is two bytes; anything longer cannot be a code. */
    size_t len = strnlen(in, 2 * SB_OTP_DIGITS + 1);
    if (len > 2 * SB_OTP_DIGITS) return SB_EINVAL;
    char ascii[2 * SB_OTP_DIGITS + 1];
    size_t n = sb_digits_to_ascii(in, len, ascii);
    if (n != SB_OTP_DIGITS) return SB_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (ascii[i] < '0' || ascii[i] > '9') return SB_EINVAL;
    memcpy(out, ascii, SB_OTP_DIGITS + 1);
    return SB_OK;
}

/* The customer with this phone, created if new. */
static int customer_find_or_create(store *s, const char *phone, int64_t now_ms, int64_t *user_id_out,
                                   bool *created_out) {
    int result = store_query_int64(s, user_id_out, "SELECT id FROM users WHERE phone = ?", "t", phone);
    if (result != SB_ENOTFOUND) {
        *created_out = false;
        return result;
    }
    result = store_exec(s,
                        "INSERT INTO users(role, phone, display_name, created_at_ms, updated_at_ms) "
                        "VALUES ('customer', ?, '', ?, ?)",
                        "tii", phone, now_ms, now_ms);
    if (result != SB_OK) return result;
    *user_id_out = store_last_insert_id(s);
    *created_out = true;
    return SB_OK;
}

int identity_otp_verify(store *s, const char *phone_e164, const char *code, int64_t now_ms, int64_t *user_id_out,
                        bool *created_out) {
    char phone[SB_PHONE_BYTES], typed[SB_OTP_DIGITS + 1];
    if (phone_canonical(phone_e164, phone) != SB_OK) return SB_EAUTH;
    if (code_canonical(code, typed) != SB_OK) return SB_EAUTH;

    int result = store_begin(s);
    if (result != SB_OK) return result;
    store_stmt *st;
    result = store_query(s, &st, "SELECT salt, code_hash, expires_at_ms, attempts FROM otp_codes WHERE phone = ?", "t",
                         phone);
    if (result != SB_OK) {
        store_rollback(s);
        return result;
    }
    unsigned char salt[OTP_SALT_BYTES], stored[OTP_HASH_BYTES];
    int64_t expires_at_ms = 0, attempts = 0;
    result = store_step(st);
    if (result == STORE_ROW) {
        if (store_col_bytes(st, 0) == OTP_SALT_BYTES && store_col_bytes(st, 1) == OTP_HASH_BYTES) {
            memcpy(salt, store_col_blob(st, 0), OTP_SALT_BYTES);
            memcpy(stored, store_col_blob(st, 1), OTP_HASH_BYTES);
            expires_at_ms = store_col_int64(st, 2);
            attempts = store_col_int64(st, 3);
            result = SB_OK;
        } else {
            result = SB_ECORRUPT;
        }
    } else if (result == STORE_DONE) {
        result = SB_EAUTH; /* never requested, already used, or replaced and pruned */
    }
    store_stmt_done(st);

    /* Set when the call fails but what it wrote must persist: an expired
     * code's removal, a counted wrong try. */
    bool persist = false;
    if (result == SB_OK && now_ms >= expires_at_ms) {
        result = store_exec(s, "DELETE FROM otp_codes WHERE phone = ?", "t", phone);
        if (result == SB_OK) {
            persist = true;
            result = SB_EAUTH;
        }
    }
    if (result == SB_OK && attempts >= SB_OTP_ATTEMPTS_MAX) result = SB_ERATE;
    if (result == SB_OK) {
        unsigned char hash[OTP_HASH_BYTES];
        otp_hash(salt, phone, typed, hash);
        if (sb_equal_ct(hash, stored, OTP_HASH_BYTES)) {
            /* Consume the code and sign the customer in (creating them). */
            result = store_exec(s, "DELETE FROM otp_codes WHERE phone = ?", "t", phone);
            if (result == SB_OK) result = customer_find_or_create(s, phone, now_ms, user_id_out, created_out);
        } else {
            /* The wrong try must be counted even though the call fails. */
            result = store_exec(s, "UPDATE otp_codes SET attempts = attempts + 1 WHERE phone = ?", "t", phone);
            if (result == SB_OK) {
                persist = true;
                result = attempts + 1 >= SB_OTP_ATTEMPTS_MAX ? SB_ERATE : SB_EAUTH;
            }
        }
    }
    if (result == SB_OK || persist) {
        int commit = store_commit(s);
        if (commit != SB_OK) {
            store_rollback(s);
            result = commit;
        }
    } else {
        store_rollback(s);
    }
    sodium_memzero(typed, sizeof typed);
    return result;
}
