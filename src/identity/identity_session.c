/*
 * identity_session.c - bearer-token sessions for customers and staff.
 *
 * A token is SB_TOKEN_BYTES random bytes shown as lowercase hex.  The
 * database keeps only the BLAKE2b-256 hash of the raw bytes: the tokens are
 * uniformly random, so no salt or slow hash is needed, and a stolen copy of
 * the database cannot be used to sign in.  A lookup checks the token's shape
 * before touching the database, then its expiry and revocation.
 */
#include <sodium.h>
#include <string.h>

#include "identity/identity.h"
#include "identity/identity_int.h"

#define TOKEN_HASH_BYTES SB_TOKEN_HASH_BYTES

/* Session tokens are issued lowercase; either case is accepted back. */
static int token_hash(const char *token, unsigned char out[TOKEN_HASH_BYTES]) {
    return sb_token_hash(token, false, out);
}

int identity_session_create(store *s, int64_t user_id, int64_t now_ms, char token_out[IDENTITY_TOKEN_CHARS + 1]) {
    if (sb_crypto_init() != SB_OK) return SB_EINTERNAL;
    char token[IDENTITY_TOKEN_CHARS + 1];
    unsigned char hash[TOKEN_HASH_BYTES];
    sb_random_hex(token, SB_TOKEN_BYTES);
    int result = token_hash(token, hash);
    SB_ASSERT(result == SB_OK); /* we made it: it has the right shape */

    result = store_begin(s);
    if (result != SB_OK) return result;
    int64_t exists;
    result = store_query_int64(s, &exists, "SELECT id FROM users WHERE id = ?", "i", user_id);
    if (result == SB_OK)
        result =
            store_exec(s, "INSERT INTO sessions(user_id, token_hash, created_at_ms, expires_at_ms) VALUES (?, ?, ?, ?)",
                       "ibii", user_id, hash, (int)sizeof hash, now_ms, now_ms + SB_SESSION_TTL_MS);
    /* Sessions long past their expiry: a bounded batch at a time. */
    if (result == SB_OK)
        result = store_exec(s,
                            "DELETE FROM sessions WHERE id IN "
                            "(SELECT id FROM sessions WHERE expires_at_ms <= ? LIMIT ?)",
                            "ii", now_ms, (int64_t)SB_IDENTITY_PRUNE_BATCH);
    if (result == SB_OK) result = store_commit(s);
    if (result != SB_OK) {
        store_rollback(s);
    } else {
        memcpy(token_out, token, sizeof token);
    }
    sodium_memzero(token, sizeof token);
    return result;
}

/* One session row, by token hash or by id. */
typedef struct {
    int64_t session_id, user_id, expires_at_ms;
    bool revoked;
} session_row;

/* Step st (a query for id, user_id, expires_at_ms, revoked_at_ms) once and
 * finish it: SB_OK with *out, SB_EAUTH when there is no such session. */
static int session_row_read(store_stmt *st, session_row *out) {
    int result = store_step(st);
    if (result == STORE_ROW) {
        out->session_id = store_col_int64(st, 0);
        out->user_id = store_col_int64(st, 1);
        out->expires_at_ms = store_col_int64(st, 2);
        out->revoked = !store_col_is_null(st, 3);
        result = SB_OK;
    } else if (result == STORE_DONE) {
        result = SB_EAUTH;
    }
    store_stmt_done(st);
    return result;
}

int identity_session_lookup(store *s, const char *token, int64_t now_ms, identity_principal *out) {
    unsigned char hash[TOKEN_HASH_BYTES];
    int result = token_hash(token, hash);
    if (result != SB_OK) return result;
    store_stmt *st;
    result = store_query(s, &st,
                         "SELECT s.id, s.user_id, s.expires_at_ms, s.revoked_at_ms FROM sessions s "
                         "WHERE s.token_hash = ?",
                         "b", hash, (int)sizeof hash);
    if (result != SB_OK) return result;
    session_row row;
    result = session_row_read(st, &row);
    if (result != SB_OK) return result;
    if (row.revoked || now_ms >= row.expires_at_ms) return SB_EAUTH;
    result = identity__user_load(s, row.user_id, out);
    if (result == SB_ENOTFOUND) return SB_EAUTH; /* the foreign key cascades; belt and braces */
    if (result != SB_OK) return result;
    out->session_id = row.session_id;
    out->expires_at_ms = row.expires_at_ms;
    return SB_OK;
}

int identity_session_revoke(store *s, const char *token) {
    unsigned char hash[TOKEN_HASH_BYTES];
    int result = token_hash(token, hash);
    if (result != SB_OK) return result;
    int64_t now_ms = sb_now_ms();
    result = store_exec(s,
                        "UPDATE sessions SET revoked_at_ms = ? WHERE token_hash = ? AND revoked_at_ms IS NULL "
                        "AND expires_at_ms > ?",
                        "ibi", now_ms, hash, (int)sizeof hash, now_ms);
    if (result != SB_OK) return result;
    return store_changes(s) == 1 ? SB_OK : SB_EAUTH;
}

int identity_session_check(store *s, int64_t session_id, int64_t now_ms) {
    if (session_id <= 0) return SB_EAUTH;
    store_stmt *st;
    int result = store_query(s, &st, "SELECT id, user_id, expires_at_ms, revoked_at_ms FROM sessions WHERE id = ?", "i",
                             session_id);
    if (result != SB_OK) return result;
    session_row row;
    result = session_row_read(st, &row);
    if (result != SB_OK) return result;
    if (row.revoked) return SB_EAUTH;
    return now_ms >= row.expires_at_ms ? SB_ETIMEOUT : SB_OK;
}
