/*
 * identity_int.h - what the files of the identity module share with each
 * other and with its tests, and nothing else may use: the rate-event
 * counters, the user-row loader, and test settings (fast password hashing).
 * Names carry the identity__ prefix so that they are never mistaken for the
 * public interface.
 */
#ifndef SB_IDENTITY_INT_H
#define SB_IDENTITY_INT_H

#include "identity/identity.h"

/* Rate-event kinds (the `kind` column of rate_events). */
#define IDENTITY__RATE_OTP_PHONE "otp.phone"
#define IDENTITY__RATE_OTP_ADDR "otp.addr"
#define IDENTITY__RATE_LOGIN_FAIL "login.fail"

/* Count events of kind for subject with at_ms in (now_ms - window_ms, now_ms]. */
int identity__rate_count(store *s, const char *kind, const char *subject, int64_t now_ms, int64_t window_ms,
                         int64_t *count_out) SB_MUST_CHECK;
/* Record one event, and prune a bounded batch of events older than the
 * longest window.  Call inside the write transaction that counted. */
int identity__rate_record(store *s, const char *kind, const char *subject, int64_t now_ms) SB_MUST_CHECK;
/* Take one of `limit` slots of kind/subject in the window, in a write
 * transaction of its own (store_begin takes the write lock at once, so the
 * count and the insert of concurrent callers are serialised and the limit
 * holds exactly across threads): SB_ERATE when limit events are already
 * there, else the event is recorded and its id written to *event_id_out,
 * for identity__rate_give_back when the attempt turns out not to count. */
int identity__rate_take(store *s, const char *kind, const char *subject, int64_t now_ms, int64_t window_ms,
                        int64_t limit, int64_t *event_id_out) SB_MUST_CHECK;
/* Remove an event taken by identity__rate_take (a login that succeeded). */
int identity__rate_give_back(store *s, int64_t event_id) SB_MUST_CHECK;

/* Load a user row into out (session fields zero).  SB_ENOTFOUND. */
int identity__user_load(store *s, int64_t user_id, identity_principal *out) SB_MUST_CHECK;

/* Lowercase and check a staff login name ([a-z0-9._-], 1..SB_USERNAME_BYTES_MAX).
 * Writes the folded name to out.  SB_EINVAL if malformed. */
int identity__staff_username_fold(const char *in, char out[SB_USERNAME_BYTES_MAX + 1]) SB_MUST_CHECK;

/* Tests: hash new passwords with argon2id's minimum cost instead of the
 * interactive one, so that the suite is not slow.  Never used by the server. */
void identity__pwhash_set_fast(bool fast);

#endif /* SB_IDENTITY_INT_H */
