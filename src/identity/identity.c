/*
 * identity.c - roles, user rows, profiles and the rate-event counters the
 * other identity files share.
 *
 * Users live in one table for customers (signed in by phone) and staff
 * (signed in by username and password).  Usernames are unique across both
 * and stored lowercase, so that @ali and the staff login "ali" can never be
 * two people.  Rate limits are sliding windows over rows of rate_events,
 * which keeps them exact and lets several server threads (each with its own
 * store connection) share them through the database.
 */
#include <string.h>

#include "identity/identity.h"
#include "identity/identity_int.h"

static const struct {
    int role;
    const char *name;
} role_names[] = {
    {IDENTITY_ROLE_CUSTOMER, "customer"}, {IDENTITY_ROLE_AGENT, "agent"}, {IDENTITY_ROLE_ANALYST, "analyst"},
    {IDENTITY_ROLE_MARKETER, "marketer"}, {IDENTITY_ROLE_ADMIN, "admin"},
};

const char *identity_role_name(int role) {
    for (size_t i = 0; i < SB_ARRAY_LEN(role_names); i++)
        if (role_names[i].role == role) return role_names[i].name;
    return NULL;
}

int identity_role_parse(const char *name, int *role_out) {
    if (!name) return SB_EINVAL;
    for (size_t i = 0; i < SB_ARRAY_LEN(role_names); i++) {
        if (strcmp(role_names[i].name, name) == 0) {
            *role_out = role_names[i].role;
            return SB_OK;
        }
    }
    return SB_EINVAL;
}

/* ---- rate events ---- */

static int rate_prune(store *s, int64_t now_ms);

int identity__rate_count(store *s, const char *kind, const char *subject, int64_t now_ms, int64_t window_ms,
                         int64_t *count_out) {
    /* No upper bound on at_ms: a concurrent request that read the clock a
     * moment later has recorded its event with a later time, and it counts
     * all the same (with "at_ms <= now" it would be missed, and parallel
     * requests would each see fewer events than there are). */
    return store_query_int64(s, count_out,
                             "SELECT COUNT(*) FROM rate_events WHERE kind = ? AND subject = ? AND at_ms > ?", "tti",
                             kind, subject, now_ms - window_ms);
}

int identity__rate_record(store *s, const char *kind, const char *subject, int64_t now_ms) {
    int result =
        store_exec(s, "INSERT INTO rate_events(kind, subject, at_ms) VALUES (?, ?, ?)", "tti", kind, subject, now_ms);
    if (result != SB_OK) return result;
    return rate_prune(s, now_ms);
}

int identity__rate_take(store *s, const char *kind, const char *subject, int64_t now_ms, int64_t window_ms,
                        int64_t limit, int64_t *event_id_out) {
    int result = store_begin(s);
    if (result != SB_OK) return result;
    int64_t count = 0;
    result = identity__rate_count(s, kind, subject, now_ms, window_ms, &count);
    if (result == SB_OK && count >= limit) result = SB_ERATE;
    if (result == SB_OK)
        result = store_exec(s, "INSERT INTO rate_events(kind, subject, at_ms) VALUES (?, ?, ?)", "tti", kind, subject,
                            now_ms);
    if (result == SB_OK) *event_id_out = store_last_insert_id(s);
    if (result == SB_OK) result = rate_prune(s, now_ms);
    if (result == SB_OK) result = store_commit(s);
    if (result != SB_OK) store_rollback(s);
    return result;
}

int identity__rate_give_back(store *s, int64_t event_id) {
    return store_exec(s, "DELETE FROM rate_events WHERE id = ?", "i", event_id);
}

static int rate_prune(store *s, int64_t now_ms) {
    /* The oldest rows have the lowest ids: look only at a bounded batch of
     * them, so that a write never pays for a large backlog at once. */
    return store_exec(s,
                      "DELETE FROM rate_events WHERE id IN (SELECT id FROM rate_events ORDER BY id LIMIT ?) "
                      "AND at_ms <= ?",
                      "ii", (int64_t)SB_IDENTITY_PRUNE_BATCH, now_ms - SB_OTP_RATE_WINDOW_MS);
}

/* ---- names ---- */

/* Fold ASCII capitals and check the alphabet and length.  allow_dash is the
 * staff alphabet. */
static int username_fold(const char *in, size_t min_bytes, size_t max_bytes, bool allow_dash, char *out) {
    if (!in) return SB_EINVAL;
    size_t len = strnlen(in, max_bytes + 1);
    if (len < min_bytes || len > max_bytes) return SB_EINVAL;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || (allow_dash && c == '-');
        if (!ok) return SB_EINVAL;
        out[i] = c;
    }
    out[len] = '\0';
    return SB_OK;
}

int identity__staff_username_fold(const char *in, char out[SB_USERNAME_BYTES_MAX + 1]) {
    return username_fold(in, 1, SB_USERNAME_BYTES_MAX, true, out);
}

int identity_username_check(const char *username) {
    char folded[SB_CUSTOMER_USERNAME_BYTES_MAX + 1];
    return username_fold(username, SB_CUSTOMER_USERNAME_BYTES_MIN, SB_CUSTOMER_USERNAME_BYTES_MAX, false, folded);
}

/* Decode one code point of valid UTF-8 at s (the caller validated it). */
static uint32_t utf8_decode(const unsigned char *s, size_t *len_out) {
    if (s[0] < 0x80) {
        *len_out = 1;
        return s[0];
    }
    if (s[0] < 0xE0) {
        *len_out = 2;
        return ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
    }
    if (s[0] < 0xF0) {
        *len_out = 3;
        return ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    }
    *len_out = 4;
    return ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) | ((uint32_t)(s[2] & 0x3F) << 6) |
           (s[3] & 0x3F);
}

int identity_display_name_check(const char *display_name) {
    if (!display_name) return SB_EINVAL;
    size_t len = strnlen(display_name, SB_DISPLAY_NAME_BYTES_MAX + 1);
    if (len == 0 || len > SB_DISPLAY_NAME_BYTES_MAX) return SB_EINVAL;
    if (!sb_utf8_valid(display_name, len)) return SB_EINVAL;
    const unsigned char *p = (const unsigned char *)display_name;
    bool visible = false;
    for (size_t i = 0; i < len;) {
        size_t n;
        uint32_t cp = utf8_decode(p + i, &n);
        i += n;
        /* C0, DEL and C1 controls; line and paragraph separators; the bidi
         * embeddings, overrides and isolates that can make a name read as
         * another.  ZWNJ (U+200C), which Persian needs, and the plain
         * direction marks (U+200E, U+200F) stay allowed. */
        if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) ||
            (cp >= 0x2066 && cp <= 0x2069))
            return SB_EINVAL;
        if (cp != ' ' && cp != 0xA0 && cp != 0x200C && cp != 0x200E && cp != 0x200F) visible = true;
    }
    return visible ? SB_OK : SB_EINVAL;
}

/* ---- users ---- */

static void copy_text(char *out, size_t cap, const char *text) {
    size_t len = text ? strnlen(text, cap - 1) : 0;
    if (len) memcpy(out, text, len);
    out[len] = '\0';
}

#define USER_COLUMNS "id, role, phone, username, display_name"

/* Fill out from a row whose first columns are USER_COLUMNS. */
static int user_from_row(store_stmt *st, identity_principal *out) {
    memset(out, 0, sizeof *out);
    out->user_id = store_col_int64(st, 0);
    const char *role = store_col_text(st, 1);
    if (identity_role_parse(role, &out->role) != SB_OK) return SB_ECORRUPT;
    copy_text(out->phone, sizeof out->phone, store_col_text(st, 2));
    copy_text(out->username, sizeof out->username, store_col_text(st, 3));
    copy_text(out->display_name, sizeof out->display_name, store_col_text(st, 4));
    return SB_OK;
}

int identity__user_load(store *s, int64_t user_id, identity_principal *out) {
    store_stmt *st;
    int result = store_query(s, &st, "SELECT " USER_COLUMNS " FROM users WHERE id = ?", "i", user_id);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_ROW)
        result = user_from_row(st, out);
    else if (result == STORE_DONE)
        result = SB_ENOTFOUND;
    store_stmt_done(st);
    return result;
}

int identity_user_get(store *s, int64_t user_id, identity_principal *out) {
    return identity__user_load(s, user_id, out);
}

int identity_user_list(store *s, int roles_mask, int64_t after_id, identity_principal *out, size_t out_max,
                       size_t *count_out) {
    *count_out = 0;
    if ((roles_mask & IDENTITY_ROLES_ANY) == 0 || out_max == 0) return SB_OK;
    /* The role set as SQL text parameters: one '?' per possible role, unused ones bound to NULL. */
    const char *names[SB_ARRAY_LEN(role_names)];
    size_t n = 0;
    for (size_t i = 0; i < SB_ARRAY_LEN(role_names); i++)
        if (roles_mask & role_names[i].role) names[n++] = role_names[i].name;
    for (size_t i = n; i < SB_ARRAY_LEN(names); i++)
        names[i] = NULL;
    _Static_assert(SB_ARRAY_LEN(role_names) == 5, "one parameter per role below");
    store_stmt *st;
    int64_t limit = out_max > INT64_MAX ? INT64_MAX : (int64_t)out_max;
    int result = store_query(s, &st,
                             "SELECT " USER_COLUMNS " FROM users WHERE role IN (?, ?, ?, ?, ?) AND id > ? "
                             "ORDER BY id LIMIT ?",
                             "tttttii", names[0], names[1], names[2], names[3], names[4], after_id, limit);
    if (result != SB_OK) return result;
    size_t count = 0;
    while (count < out_max && (result = store_step(st)) == STORE_ROW) {
        result = user_from_row(st, &out[count]);
        if (result != SB_OK) break;
        count++;
    }
    store_stmt_done(st);
    if (result < 0) return result;
    *count_out = count;
    return SB_OK;
}

int identity_profile_update(store *s, int64_t user_id, const char *display_name, const char *username) {
    char folded[SB_CUSTOMER_USERNAME_BYTES_MAX + 1];
    if (display_name && identity_display_name_check(display_name) != SB_OK) return SB_EINVAL;
    if (username &&
        username_fold(username, SB_CUSTOMER_USERNAME_BYTES_MIN, SB_CUSTOMER_USERNAME_BYTES_MAX, false, folded) != SB_OK)
        return SB_EINVAL;
    identity_name_verdict verdicts[2] = {IDENTITY_NAME_OK, IDENTITY_NAME_OK};
    int result = display_name ? identity_display_name_vet(s, display_name, &verdicts[0]) : SB_OK;
    if (result == SB_OK && username) result = identity_username_vet(s, folded, &verdicts[1]);
    if (result != SB_OK) return result;
    for (int i = 0; i < 2; i++)
        if (verdicts[i] != IDENTITY_NAME_OK) return verdicts[i] == IDENTITY_NAME_RESERVED ? SB_EPERM : SB_EINVAL;
    result = store_begin(s);
    if (result != SB_OK) return result;
    int64_t exists;
    result = store_query_int64(s, &exists, "SELECT id FROM users WHERE id = ?", "i", user_id);
    int64_t now_ms = sb_now_ms();
    if (result == SB_OK && display_name)
        result = store_exec(s, "UPDATE users SET display_name = ?, updated_at_ms = ? WHERE id = ?", "tii", display_name,
                            now_ms, user_id);
    if (result == SB_OK && username)
        result = store_exec(s, "UPDATE users SET username = ?, updated_at_ms = ? WHERE id = ?", "tii", folded, now_ms,
                            user_id);
    if (result == SB_OK) result = store_commit(s);
    if (result != SB_OK) store_rollback(s);
    return result;
}

/* ---- preferences ---- */

int identity_language_check(const char *language) {
    static const char *const known[] = {"", "fa", "uk", "ru", "en"};
    if (!language) return SB_EINVAL;
    for (size_t i = 0; i < SB_ARRAY_LEN(known); i++)
        if (strcmp(language, known[i]) == 0) return SB_OK;
    return SB_EINVAL;
}

int identity_time_zone_check(const char *time_zone) {
    if (!time_zone) return SB_EINVAL;
    size_t len = strnlen(time_zone, SB_TIME_ZONE_BYTES_MAX + 1);
    if (len == 0) return SB_OK;
    if (len > SB_TIME_ZONE_BYTES_MAX) return SB_EINVAL;
    if (strcmp(time_zone, "UTC") == 0) return SB_OK;
    bool slash = false;
    size_t part = 0; /* bytes in the current part */
    for (size_t i = 0; i <= len; i++) {
        char c = time_zone[i];
        if (c == '/' || c == '\0') {
            if (part == 0) return SB_EINVAL;
            if ((part == 1 && time_zone[i - 1] == '.') ||
                (part == 2 && time_zone[i - 1] == '.' && time_zone[i - 2] == '.'))
                return SB_EINVAL;
            if (c == '/') slash = true;
            part = 0;
            continue;
        }
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '+' ||
                  c == '-' || c == '.';
        if (!ok) return SB_EINVAL;
        part++;
    }
    return slash ? SB_OK : SB_EINVAL;
}

int identity_prefs_get(store *s, int64_t user_id, identity_prefs *out) {
    memset(out, 0, sizeof *out);
    store_stmt *st;
    int result = store_query(s, &st, "SELECT language, time_zone FROM users WHERE id = ?", "i", user_id);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_ROW) {
        copy_text(out->language, sizeof out->language, store_col_text(st, 0));
        copy_text(out->time_zone, sizeof out->time_zone, store_col_text(st, 1));
        result = SB_OK;
    } else if (result == STORE_DONE) {
        result = SB_ENOTFOUND;
    }
    store_stmt_done(st);
    return result;
}

int identity_prefs_set(store *s, int64_t user_id, const char *language, const char *time_zone) {
    if (language && identity_language_check(language) != SB_OK) return SB_EINVAL;
    if (time_zone && identity_time_zone_check(time_zone) != SB_OK) return SB_EINVAL;
    int result = store_begin(s);
    if (result != SB_OK) return result;
    int64_t exists;
    result = store_query_int64(s, &exists, "SELECT id FROM users WHERE id = ?", "i", user_id);
    int64_t now_ms = sb_now_ms();
    /* "" clears: stored as NULL (NULLIF), which the column CHECKs allow. */
    if (result == SB_OK && language)
        result = store_exec(s, "UPDATE users SET language = NULLIF(?, ''), updated_at_ms = ? WHERE id = ?", "tii",
                            language, now_ms, user_id);
    if (result == SB_OK && time_zone)
        result = store_exec(s, "UPDATE users SET time_zone = NULLIF(?, ''), updated_at_ms = ? WHERE id = ?", "tii",
                            time_zone, now_ms, user_id);
    if (result == SB_OK) result = store_commit(s);
    if (result != SB_OK) store_rollback(s);
    return result;
}
