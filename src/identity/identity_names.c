/*
 * identity_names.c - the names customers choose (display name, @username)
 * must not pass for the bank or its staff, nor be empty to the eye.
 *
 * Empty: a name is refused when nothing visible is left once invisible
 * characters are removed: Unicode's default-ignorable code points (zero-width
 * space, joiners, bidi controls, soft hyphen, variation selectors, Hangul
 * fillers...), the other format characters (category Cf), controls,
 * separators and lone combining marks.
 *
 * Confusable: Unicode's confusable skeletons (UTS #39) from ICU's spoof
 * checker (uspoof_getSkeletonUTF8), never hand-written tables.  A name's
 * "forms" are its skeleton and the skeleton of its case-folded text (so that
 * both "SOCIALBANK" and "SociaIBank", a capital I for the l, meet
 * "socialbank"), each case-folded again and kept to letters and digits (so
 * spaces, dots, ticks and check marks change nothing).  A name is reserved
 * when one of its forms contains a form of one of the bank's own names (in
 * Latin, Persian and Cyrillic), or equals a form of a staff account's
 * username or display name (bots included: they are staff accounts).
 */
#include <stdlib.h>
#include <string.h>
#include <unicode/uspoof.h>
#include <utf8proc.h>

#include "identity/identity.h"
#include "identity/identity_int.h"

/* The bank's own names, as customers would try to imitate them. */
static const char *const bank_names[] = {
    "SocialBank", "\xd8\xb3\xd9\x88\xd8\xb4\xdb\x8c\xd8\xa7\xd9\x84 \xd8\xa8\xd8\xa7\xd9\x86\xda\xa9", /* سوشیال بانک */
    "\xd0\xa1\xd0\xbe\xd1\x86\xd1\x96\xd0\xb0\xd0\xbb\xd0\x91\xd0\xb0\xd0\xbd\xd0\xba", /* СоціалБанк */
};

const char *identity_name_verdict_name(identity_name_verdict verdict) {
    static const char *const names[] = {"ok", "invalid", "name_empty", "name_reserved"};
    return (unsigned)verdict < SB_ARRAY_LEN(names) ? names[verdict] : "invalid";
}

/* The two comparison forms of a name (see the top of the file). */
typedef struct {
    char form[2][SB_NAME_SKELETON_BYTES_MAX + 1];
} name_forms;

/* text mapped by utf8proc with options into a malloc'd string (free), or NULL. */
static char *map_text(const char *text, int options) {
    utf8proc_uint8_t *out = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)text, 0, &out, options | UTF8PROC_NULLTERM);
    return n < 0 ? NULL : (char *)out;
}

static bool invisible_category(utf8proc_category_t c) {
    return c == UTF8PROC_CATEGORY_CF || c == UTF8PROC_CATEGORY_CC || c == UTF8PROC_CATEGORY_ZS ||
           c == UTF8PROC_CATEGORY_ZL || c == UTF8PROC_CATEGORY_ZP || c == UTF8PROC_CATEGORY_MN ||
           c == UTF8PROC_CATEGORY_ME || c == UTF8PROC_CATEGORY_MC || c == UTF8PROC_CATEGORY_CN;
}

/* Keep only the letters and digits of text (valid UTF-8) in out. */
static void keep_letters_digits(const char *text, char *out, size_t cap) {
    size_t n = 0;
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)text;
    utf8proc_ssize_t left = (utf8proc_ssize_t)strlen(text);
    while (left > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t w = utf8proc_iterate(p, left, &cp);
        if (w <= 0) break;
        utf8proc_category_t c = utf8proc_category(cp);
        bool keep = (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
                    (c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO);
        if (keep && n + (size_t)w < cap) {
            memcpy(out + n, p, (size_t)w);
            n += (size_t)w;
        }
        p += w;
        left -= w;
    }
    out[n] = '\0';
}

/* One form: skeleton of text, case-folded, letters and digits only. */
static int form_of(const USpoofChecker *sc, const char *text, char out[SB_NAME_SKELETON_BYTES_MAX + 1]) {
    char skeleton[SB_NAME_SKELETON_BYTES_MAX + 1];
    UErrorCode status = U_ZERO_ERROR;
    int32_t len = uspoof_getSkeletonUTF8(sc, 0, text, -1, skeleton, (int32_t)sizeof skeleton, &status);
    if (U_FAILURE(status) || len < 0 || (size_t)len >= sizeof skeleton) return SB_ELIMIT;
    skeleton[len] = '\0';
    char *folded = map_text(skeleton, UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
    if (!folded) return SB_ENOMEM;
    keep_letters_digits(folded, out, SB_NAME_SKELETON_BYTES_MAX + 1);
    free(folded);
    return SB_OK;
}

/* Both forms of a name; *visible_out (may be NULL) tells whether anything
 * visible is left once invisible characters are removed. */
static int forms_of(const USpoofChecker *sc, const char *name, name_forms *out, bool *visible_out) {
    /* NFKC without the default-ignorable code points. */
    char *plain = map_text(name, UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_IGNORE);
    if (!plain) return SB_EINVAL;
    if (visible_out) {
        bool visible = false;
        const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)plain;
        utf8proc_ssize_t left = (utf8proc_ssize_t)strlen(plain);
        while (left > 0 && !visible) {
            utf8proc_int32_t cp;
            utf8proc_ssize_t w = utf8proc_iterate(p, left, &cp);
            if (w <= 0) break;
            visible = !invisible_category(utf8proc_category(cp));
            p += w;
            left -= w;
        }
        *visible_out = visible;
    }
    char *folded = map_text(plain, UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
    int result = folded ? form_of(sc, plain, out->form[0]) : SB_ENOMEM;
    if (result == SB_OK) result = form_of(sc, folded, out->form[1]);
    free(folded);
    free(plain);
    return result;
}

static bool forms_contain(const name_forms *name, const name_forms *reserved) {
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            if (reserved->form[j][0] && strstr(name->form[i], reserved->form[j])) return true;
    return false;
}

static bool forms_equal(const name_forms *name, const name_forms *other) {
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            if (other->form[j][0] && strcmp(name->form[i], other->form[j]) == 0) return true;
    return false;
}

/* Does any staff account's username or display name look like `name`? */
static int staff_confusable(store *s, const USpoofChecker *sc, const name_forms *name, bool *out) {
    *out = false;
    store_stmt *st;
    int result =
        store_query(s, &st, "SELECT username, display_name FROM users WHERE role <> 'customer' ORDER BY id LIMIT ?",
                    "i", (int64_t)SB_NAME_STAFF_COMPARED_MAX);
    if (result != SB_OK) return result;
    while (!*out && (result = store_step(st)) == STORE_ROW) {
        for (int col = 0; col < 2 && !*out; col++) {
            const char *text = store_col_text(st, col);
            if (!text || !text[0] || !sb_utf8_valid(text, strlen(text))) continue;
            name_forms staff;
            if (forms_of(sc, text, &staff, NULL) != SB_OK) continue; /* an odd staff name compares with nothing */
            *out = forms_equal(name, &staff);
        }
    }
    store_stmt_done(st);
    return result < 0 ? result : SB_OK;
}

/* The confusable check shared by both kinds of name. */
static int name_vet(store *s, const char *name, identity_name_verdict *verdict_out) {
    UErrorCode status = U_ZERO_ERROR;
    USpoofChecker *sc = uspoof_open(&status);
    if (U_FAILURE(status) || !sc) return SB_ENOMEM;
    uspoof_setChecks(sc, USPOOF_CONFUSABLE, &status);
    name_forms forms;
    bool visible = false;
    int result = U_FAILURE(status) ? SB_EINTERNAL : forms_of(sc, name, &forms, &visible);
    if (result == SB_EINVAL || result == SB_ELIMIT) {
        *verdict_out = IDENTITY_NAME_MALFORMED;
        result = SB_OK;
    } else if (result == SB_OK && !visible) {
        *verdict_out = IDENTITY_NAME_EMPTY;
    } else if (result == SB_OK) {
        bool reserved = false;
        for (size_t i = 0; i < SB_ARRAY_LEN(bank_names) && !reserved && result == SB_OK; i++) {
            name_forms bank;
            result = forms_of(sc, bank_names[i], &bank, NULL);
            if (result == SB_OK) reserved = forms_contain(&forms, &bank);
        }
        if (result == SB_OK && !reserved) result = staff_confusable(s, sc, &forms, &reserved);
        if (result == SB_OK) *verdict_out = reserved ? IDENTITY_NAME_RESERVED : IDENTITY_NAME_OK;
    }
    uspoof_close(sc);
    return result;
}

int identity_display_name_vet(store *s, const char *display_name, identity_name_verdict *verdict_out) {
    *verdict_out = IDENTITY_NAME_MALFORMED;
    if (!display_name) return SB_OK;
    size_t len = strnlen(display_name, SB_DISPLAY_NAME_BYTES_MAX + 1);
    if (len > SB_DISPLAY_NAME_BYTES_MAX || !sb_utf8_valid(display_name, len)) return SB_OK;
    if (len == 0) {
        *verdict_out = IDENTITY_NAME_EMPTY;
        return SB_OK;
    }
    /* Nothing visible is "empty" whatever else is wrong with it; otherwise
     * the syntax rules (no controls, no bidi overrides) come first. */
    bool syntax_ok = identity_display_name_check(display_name) == SB_OK;
    int result = name_vet(s, display_name, verdict_out);
    if (result == SB_OK && *verdict_out != IDENTITY_NAME_EMPTY && !syntax_ok) *verdict_out = IDENTITY_NAME_MALFORMED;
    return result;
}

int identity_username_vet(store *s, const char *username, identity_name_verdict *verdict_out) {
    *verdict_out = IDENTITY_NAME_MALFORMED;
    if (identity_username_check(username) != SB_OK) return SB_OK;
    return name_vet(s, username, verdict_out);
}
