/*
 * identity_staff.c - staff accounts: username and argon2id password.
 *
 * Passwords are hashed with libsodium's crypto_pwhash_str (argon2id,
 * OPSLIMIT/MEMLIMIT_INTERACTIVE: about a tenth of a second and 64 MiB, fine
 * for a login form; tests switch to the minimum cost).  A login for an
 * unknown user is checked against a dummy hash of the same cost, so that
 * the answer (SB_EAUTH) and the time taken are the same as for a wrong
 * password and usernames cannot be enumerated.  Failures are counted per
 * username in a sliding 15-minute window, exactly even under parallel
 * attempts: before the hash is checked, an attempt takes a slot (a
 * rate_events row counted and inserted in one short write transaction, see
 * identity__rate_take), so at most SB_LOGIN_FAILURES_PER_15_MIN checks of
 * one username are ever in flight or failed in the window; a login that
 * succeeds gives its slot back.  The hash itself is computed outside any
 * transaction, so a login never holds the write lock for the hashing time.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <string.h>

#include "identity/identity.h"
#include "identity/identity_int.h"

static atomic_bool pwhash_fast;

void identity__pwhash_set_fast(bool fast) { atomic_store(&pwhash_fast, fast); }

static void pwhash_cost(unsigned long long *ops_out, size_t *mem_out) {
    if (atomic_load(&pwhash_fast)) {
        *ops_out = crypto_pwhash_OPSLIMIT_MIN;
        *mem_out = crypto_pwhash_MEMLIMIT_MIN;
    } else {
        *ops_out = crypto_pwhash_OPSLIMIT_INTERACTIVE;
        *mem_out = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    }
}

static int password_hash(const char *password, size_t len, char out[crypto_pwhash_STRBYTES]) {
    unsigned long long ops;
    size_t mem;
    pwhash_cost(&ops, &mem);
    if (crypto_pwhash_str_alg(out, password, len, ops, mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return SB_ENOMEM; /* argon2 could not get its memory */
    return SB_OK;
}

/* The dummy hash unknown users are checked against, at the current cost. */
static pthread_mutex_t dummy_lock = PTHREAD_MUTEX_INITIALIZER;
static char dummy_hash[crypto_pwhash_STRBYTES];
static bool dummy_fast;
static bool dummy_ready;

static int dummy_hash_get(char out[crypto_pwhash_STRBYTES]) {
    int result = SB_OK;
    bool fast = atomic_load(&pwhash_fast);
    pthread_mutex_lock(&dummy_lock);
    if (!dummy_ready || dummy_fast != fast) {
        char random_password[33];
        sb_random_hex(random_password, 16);
        result = password_hash(random_password, 32, dummy_hash);
        sodium_memzero(random_password, sizeof random_password);
        dummy_ready = result == SB_OK;
        dummy_fast = fast;
    }
    if (result == SB_OK) memcpy(out, dummy_hash, crypto_pwhash_STRBYTES);
    pthread_mutex_unlock(&dummy_lock);
    return result;
}

static bool staff_role(int role) {
    return role == IDENTITY_ROLE_AGENT || role == IDENTITY_ROLE_ANALYST || role == IDENTITY_ROLE_MARKETER ||
           role == IDENTITY_ROLE_ADMIN;
}

int identity_staff_create(store *s, const char *username, const char *password, int role, int64_t *user_id_out) {
    char name[SB_USERNAME_BYTES_MAX + 1];
    if (identity__staff_username_fold(username, name) != SB_OK) return SB_EINVAL;
    if (!password) return SB_EINVAL;
    size_t len = strnlen(password, SB_PASSWORD_BYTES_MAX + 1);
    if (len < SB_PASSWORD_BYTES_MIN || len > SB_PASSWORD_BYTES_MAX) return SB_EINVAL;
    if (!staff_role(role)) return SB_EINVAL;
    if (sb_crypto_init() != SB_OK) return SB_EINTERNAL;

    /* Answer a taken name before paying for the hash; the insert below
     * still decides a race. */
    int64_t existing;
    int result = store_query_int64(s, &existing, "SELECT id FROM users WHERE username = ?", "t", name);
    if (result == SB_OK) return SB_EEXISTS;
    if (result != SB_ENOTFOUND) return result;

    char hash[crypto_pwhash_STRBYTES];
    result = password_hash(password, len, hash);
    if (result != SB_OK) return result;
    int64_t now_ms = sb_now_ms();
    result = store_exec(s,
                        "INSERT INTO users(role, username, display_name, password_hash, created_at_ms, updated_at_ms) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        "ttttii", identity_role_name(role), name, name, hash, now_ms, now_ms);
    sodium_memzero(hash, sizeof hash);
    if (result != SB_OK) return result;
    *user_id_out = store_last_insert_id(s);
    return SB_OK;
}

/* Check the password of the account named `name` (name_ok false: a
 * malformed name, checked against the dummy hash all the same).  SB_OK with
 * *user_id_out, SB_EAUTH, or a store or memory error. */
static int login_check(store *s, bool name_ok, const char *name, const char *password, int64_t now_ms,
                       int64_t *user_id_out) {
    size_t len = password ? strnlen(password, SB_PASSWORD_BYTES_MAX + 1) : 0;
    bool password_ok = password && len >= 1 && len <= SB_PASSWORD_BYTES_MAX;
    /* Find the account; an unknown or malformed name still costs one hash check. */
    char hash[crypto_pwhash_STRBYTES];
    int64_t user_id = 0;
    bool found = false;
    int result;
    if (name_ok) {
        store_stmt *st;
        result = store_query(s, &st,
                             "SELECT id, password_hash FROM users WHERE username = ? AND role <> 'customer' "
                             "AND password_hash IS NOT NULL",
                             "t", name);
        if (result != SB_OK) return result;
        result = store_step(st);
        if (result == STORE_ROW) {
            const char *stored = store_col_text(st, 1);
            size_t stored_len = stored ? strlen(stored) : 0;
            if (stored_len > 0 && stored_len < sizeof hash) {
                memcpy(hash, stored, stored_len + 1);
                user_id = store_col_int64(st, 0);
                found = true;
            }
            result = SB_OK;
        }
        store_stmt_done(st);
        if (result < 0) return result;
    }
    if (!found) {
        result = dummy_hash_get(hash);
        if (result != SB_OK) return result;
    }
    const char *candidate = password_ok ? password : "";
    bool match = crypto_pwhash_str_verify(hash, candidate, password_ok ? len : 0) == 0;
    bool success = found && password_ok && match;

    if (success) {
        /* Upgrade a hash made at another cost (e.g. an older default). */
        unsigned long long ops;
        size_t mem;
        pwhash_cost(&ops, &mem);
        if (crypto_pwhash_str_needs_rehash(hash, ops, mem) != 0) {
            char fresh[crypto_pwhash_STRBYTES];
            if (password_hash(password, len, fresh) == SB_OK) {
                int ignored = store_exec(s, "UPDATE users SET password_hash = ?, updated_at_ms = ? WHERE id = ?", "tii",
                                         fresh, now_ms, user_id);
                (void)ignored; /* the login stands; the upgrade is retried next time */
            }
            sodium_memzero(fresh, sizeof fresh);
        }
        *user_id_out = user_id;
    }
    sodium_memzero(hash, sizeof hash);
    return success ? SB_OK : SB_EAUTH;
}

int identity_staff_login(store *s, const char *username, const char *password, int64_t now_ms, int64_t *user_id_out) {
    if (sb_crypto_init() != SB_OK) return SB_EINTERNAL;
    char name[SB_USERNAME_BYTES_MAX + 1];
    bool name_ok = identity__staff_username_fold(username, name) == SB_OK;
    /* Take a slot before checking: at most SB_LOGIN_FAILURES_PER_15_MIN
     * checks of one name in flight or failed in the window. */
    int64_t slot = 0;
    if (name_ok) {
        int result = identity__rate_take(s, IDENTITY__RATE_LOGIN_FAIL, name, now_ms, SB_LOGIN_RATE_WINDOW_MS,
                                         SB_LOGIN_FAILURES_PER_15_MIN, &slot);
        if (result != SB_OK) return result;
    }
    int result = login_check(s, name_ok, name, password, now_ms, user_id_out);
    /* Only a wrong password counts; a success or our own error gives the slot back. */
    if (result != SB_EAUTH && slot) {
        int given = identity__rate_give_back(s, slot);
        if (result == SB_OK) result = given;
    }
    return result;
}
