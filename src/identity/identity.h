/*
 * identity.h - who is calling: customers (phone number + one-time code),
 * staff (username + argon2id password, with roles), and the sessions both
 * hold (random bearer tokens stored only as hashes, with expiry and logout).
 *
 * A domain module: it uses store and core only.  The api module maps HTTP
 * routes onto these functions and declares, for every route, which roles may
 * call it (identity_role bits).
 *
 * Schema: migrations 0002-0099 (users, otp_codes, sessions, rate_events).
 */
#ifndef SB_IDENTITY_H
#define SB_IDENTITY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/core.h"
#include "store/store.h"

/* Roles are bits so that a route can allow several. */
typedef enum {
    IDENTITY_ROLE_CUSTOMER = 1 << 0,
    IDENTITY_ROLE_AGENT = 1 << 1,
    IDENTITY_ROLE_ANALYST = 1 << 2,
    IDENTITY_ROLE_MARKETER = 1 << 3,
    IDENTITY_ROLE_ADMIN = 1 << 4,
} identity_role;
#define IDENTITY_ROLES_STAFF                                                                                           \
    (IDENTITY_ROLE_AGENT | IDENTITY_ROLE_ANALYST | IDENTITY_ROLE_MARKETER | IDENTITY_ROLE_ADMIN)
#define IDENTITY_ROLES_ANY (IDENTITY_ROLE_CUSTOMER | IDENTITY_ROLES_STAFF)

/* "customer", "agent", "analyst", "marketer", "admin"; NULL for anything else. */
const char *identity_role_name(int role);
/* Parse a role name; SB_EINVAL for an unknown one. */
int identity_role_parse(const char *name, int *role_out) SB_MUST_CHECK;

#define IDENTITY_PHONE_BYTES SB_PHONE_BYTES
#define IDENTITY_TOKEN_CHARS (2 * SB_TOKEN_BYTES)

/* The authenticated caller of a request. */
typedef struct {
    int64_t user_id;
    int role; /* exactly one identity_role bit */
    int64_t session_id;
    int64_t expires_at_ms;
    char phone[IDENTITY_PHONE_BYTES];         /* customers; "" for staff */
    char username[SB_USERNAME_BYTES_MAX + 1]; /* staff login, or a customer's @username; may be "" */
    char display_name[SB_DISPLAY_NAME_BYTES_MAX + 1];
} identity_principal;

/* ---- customers: one-time codes ---- */
/* Phone numbers are normalised with sb_phone_normalize (core.h) first.
 * Create a one-time code for phone_e164, valid SB_OTP_TTL_MS, replacing any
 * earlier one.  Rate limited per phone and per client address (client_addr
 * may be NULL): SB_ERATE.  The code (SB_OTP_DIGITS digits) is written to
 * code_out for the sender; only its hash is stored. */
int identity_otp_request(store *s, const char *phone_e164, const char *client_addr, int64_t now_ms,
                         char code_out[SB_OTP_DIGITS + 1]) SB_MUST_CHECK;
/* Check a code.  On success the code is consumed, the customer is created if
 * new (*created_out true) and *user_id_out set.  SB_EAUTH for a wrong,
 * expired or used code; after SB_OTP_ATTEMPTS_MAX wrong tries the code is
 * burnt (SB_ERATE). */
int identity_otp_verify(store *s, const char *phone_e164, const char *code, int64_t now_ms, int64_t *user_id_out,
                        bool *created_out) SB_MUST_CHECK;

/* ---- staff ---- */
/* Create a staff user with one staff role; the password is hashed with
 * argon2id.  SB_EEXISTS if the username is taken, SB_EINVAL for a bad
 * username (1..SB_USERNAME_BYTES_MAX of [a-z0-9._-]; ASCII capitals are
 * folded, names are stored lowercase and unique across customers' @usernames
 * too), a password outside
 * SB_PASSWORD_BYTES_MIN..MAX, or a non-staff role. */
int identity_staff_create(store *s, const char *username, const char *password, int role,
                          int64_t *user_id_out) SB_MUST_CHECK;
/* Check a staff password.  SB_EAUTH for an unknown user or a wrong password
 * (the same answer and about the same time for both); SB_ERATE after
 * SB_LOGIN_FAILURES_PER_15_MIN failures for that username. */
int identity_staff_login(store *s, const char *username, const char *password, int64_t now_ms,
                         int64_t *user_id_out) SB_MUST_CHECK;

/* ---- sessions ---- */
/* Start a session for user_id, valid SB_SESSION_TTL_MS; writes the bearer
 * token (lowercase hex, NUL-terminated) to token_out.  Only a hash of the
 * token is stored.  SB_ENOTFOUND if there is no such user. */
int identity_session_create(store *s, int64_t user_id, int64_t now_ms,
                            char token_out[IDENTITY_TOKEN_CHARS + 1]) SB_MUST_CHECK;
/* Find the live session for a bearer token.  SB_EAUTH for an unknown,
 * malformed, expired or revoked token. */
int identity_session_lookup(store *s, const char *token, int64_t now_ms, identity_principal *out) SB_MUST_CHECK;
/* Log out: revoke the session of this token.  SB_EAUTH if it is not live. */
int identity_session_revoke(store *s, const char *token) SB_MUST_CHECK;
/* Is session session_id (identity_principal.session_id) still live at
 * now_ms?  SB_OK if so; SB_EAUTH when it was revoked or is gone (pruned,
 * its user deleted), SB_ETIMEOUT when it has expired; other codes are store
 * errors (the caller should not end anything on them).  For long-lived
 * connections that authenticated once and re-check now and then. */
int identity_session_check(store *s, int64_t session_id, int64_t now_ms) SB_MUST_CHECK;

/* ---- profile ---- */
/* Load a user by id into out (session fields zero).  SB_ENOTFOUND. */
int identity_user_get(store *s, int64_t user_id, identity_principal *out) SB_MUST_CHECK;
/* Set a customer's display name and/or @username (NULL leaves a field as it
 * is).  SB_EEXISTS if the username is taken, SB_EINVAL if malformed or
 * empty to the eye, SB_EPERM if reserved (identity_*_vet). */
int identity_profile_update(store *s, int64_t user_id, const char *display_name, const char *username) SB_MUST_CHECK;
/* A customer's interface preferences: language ("fa", "uk", "ru", "en"; ""
 * until chosen) and IANA time zone ("" for the device's own). */
typedef struct {
    char language[SB_LANGUAGE_BYTES_MAX + 1];
    char time_zone[SB_TIME_ZONE_BYTES_MAX + 1];
} identity_prefs;
/* Read user_id's preferences.  SB_ENOTFOUND. */
int identity_prefs_get(store *s, int64_t user_id, identity_prefs *out) SB_MUST_CHECK;
/* Set language and/or time zone (NULL leaves a field as it is, "" clears it).
 * SB_EINVAL if malformed (check first with the two checks below to name the
 * field), SB_ENOTFOUND for an unknown user. */
int identity_prefs_set(store *s, int64_t user_id, const char *language, const char *time_zone) SB_MUST_CHECK;
/* "" or one of fa, uk, ru, en. */
int identity_language_check(const char *language) SB_MUST_CHECK;
/* "" or an IANA-shaped name: 1..SB_TIME_ZONE_BYTES_MAX of A-Z a-z 0-9 _ + - /,
 * "UTC" or Area/Location with no empty, "." or ".." part. */
int identity_time_zone_check(const char *time_zone) SB_MUST_CHECK;
/* Check a customer @username ([a-z0-9._], SB_CUSTOMER_USERNAME_BYTES_MIN..MAX
 * bytes; ASCII capitals are accepted and folded) and a display name (1 to
 * SB_DISPLAY_NAME_BYTES_MAX bytes of valid UTF-8, no control characters, no
 * bidi overrides, not only spaces), so that a caller can name the bad field
 * before calling identity_profile_update.  SB_OK or SB_EINVAL. */
int identity_username_check(const char *username) SB_MUST_CHECK;
int identity_display_name_check(const char *display_name) SB_MUST_CHECK;
/* Why a name a customer wants is refused, in check order. */
typedef enum {
    IDENTITY_NAME_OK = 0,
    IDENTITY_NAME_MALFORMED, /* "invalid": outside identity_display_name_check / identity_username_check */
    IDENTITY_NAME_EMPTY,     /* "name_empty": nothing visible once invisible characters (default-ignorable
                                code points: zero-width, bidi controls, soft hyphen...; other format
                                characters, spaces, lone marks) are removed */
    IDENTITY_NAME_RESERVED,  /* "name_reserved": confusable (UTS #39 skeletons, ICU uspoof) with the bank's
                                own names ("SocialBank" in Latin, Persian, Cyrillic; contained anywhere in
                                the name) or with a staff account's username or display name (bots too) */
} identity_name_verdict;
/* The stable code of a verdict ("ok", "invalid", "name_empty", "name_reserved"). */
const char *identity_name_verdict_name(identity_name_verdict verdict);
/* Vet a display name or @username a customer wants: *verdict_out says
 * whether it may be taken.  Returns SB_OK (the verdict is the answer) or a
 * store or memory error.  identity_profile_update applies the same vetting. */
int identity_display_name_vet(store *s, const char *display_name, identity_name_verdict *verdict_out) SB_MUST_CHECK;
int identity_username_vet(store *s, const char *username, identity_name_verdict *verdict_out) SB_MUST_CHECK;

/* List users whose role is in roles_mask with id > after_id, by id, at most
 * out_max of them, into the caller's array out (session fields zero).
 * *count_out is how many were written; fewer than out_max means the end.
 * Used by the admin's staff list and `socialbank user list`. */
int identity_user_list(store *s, int roles_mask, int64_t after_id, identity_principal *out, size_t out_max,
                       size_t *count_out) SB_MUST_CHECK;

/* ---- delivering one-time codes ---- */
/* The code sender is a worker (core's sb_worker) so that a slow SMS gateway
 * never stalls a request.  Kinds: "log" (development: the code is written
 * to the log) and "webhook" (production: POST {"phone":...,"code":...} as
 * JSON to an http:// or https:// URL through the one outbound client, with
 * timeouts and retries; ca_file (may be NULL: the system's CAs) is the PEM
 * file of CAs a private gateway's certificate is checked against).  One per
 * application context.  SB_EINVAL for an unknown kind or a bad URL,
 * SB_ENOMEM, SB_EINTERNAL.  *out: identity_sender_stop. */
typedef struct identity_sender identity_sender;
int identity_sender_start(const char *kind, const char *webhook_url, const char *ca_file,
                          identity_sender **out) SB_MUST_CHECK;
/* Queue a code for delivery; SB_EBUSY if the queue is full, SB_ECLOSED if
 * sender is NULL (not running), SB_EINVAL unless phone is "+digits" and
 * code SB_OTP_DIGITS digits.  The strings are copied.  Never blocks. */
int identity_sender_enqueue(identity_sender *sender, const char *phone_e164, const char *code) SB_MUST_CHECK;
/* Deliver what is queued (for at most SB_OTP_SENDER_STOP_WAIT_MS), stop,
 * free.  NULL allowed. */
void identity_sender_stop(identity_sender *sender);
/* Its worker, for /metrics (NULL for NULL). */
sb_worker *identity_sender_worker(identity_sender *sender);

#endif /* SB_IDENTITY_H */
