/*
 * aliases.c - how a payer names a payee without ever seeing their account:
 * mobile number, @username, e-mail, or a payment link token.  Resolving
 * gives the display name and the masked card on file, nothing more.
 */
#include <string.h>

#include "identity/identity.h"
#include "messenger/messenger.h"
#include "payments/ops_int.h"

void payops__copy(char *out, size_t cap, const char *text) {
    size_t len = text ? strnlen(text, cap - 1) : 0;
    if (len) memcpy(out, text, len);
    out[len] = '\0';
}

int payops_idem_key_check(const char *key) {
    if (!key) return SB_EINVAL;
    size_t len = strnlen(key, SB_PAYOPS_IDEM_KEY_BYTES_MAX + 1);
    if (len == 0 || len > SB_PAYOPS_IDEM_KEY_BYTES_MAX) return SB_EINVAL;
    for (size_t i = 0; i < len; i++) {
        char c = key[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
                  c == ':' || c == '-';
        if (!ok) return SB_EINVAL;
    }
    return SB_OK;
}

int payops__display_name(store *s, int64_t user_id, char out[PAYOPS_NAME_BYTES]) {
    identity_principal p;
    int result = identity_user_get(s, user_id, &p);
    if (result != SB_OK) return result;
    if (p.role != IDENTITY_ROLE_CUSTOMER) return SB_ENOTFOUND;
    if (p.display_name[0]) {
        payops__copy(out, PAYOPS_NAME_BYTES, p.display_name);
    } else if (p.username[0]) {
        out[0] = '@';
        payops__copy(out + 1, PAYOPS_NAME_BYTES - 1, p.username);
    } else {
        /* "+98912***4567": country and operator code, last four. */
        size_t len = strlen(p.phone);
        if (len < 10) return SB_ECORRUPT;
        char masked[SB_PHONE_BYTES + 4];
        memcpy(masked, p.phone, 6);
        memcpy(masked + 6, "***", 3);
        memcpy(masked + 9, p.phone + len - 4, 5);
        payops__copy(out, PAYOPS_NAME_BYTES, masked);
    }
    return SB_OK;
}

/* Lowercase copy of a plausible e-mail address, or SB_EINVAL. */
static int email_canonical(const char *in, char out[SB_PAYOPS_EMAIL_BYTES_MAX + 1]) {
    size_t len = strnlen(in, SB_PAYOPS_EMAIL_BYTES_MAX + 1);
    if (len < 3 || len > SB_PAYOPS_EMAIL_BYTES_MAX) return SB_EINVAL;
    size_t at = len, ats = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c <= ' ' || c >= 0x7f || c == '"' || c == '\\' || c == ',' || c == ';' || c == '<' || c == '>')
            return SB_EINVAL;
        if (c == '@') at = i, ats++;
        out[i] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
    out[len] = '\0';
    if (ats != 1 || at == 0 || at + 1 >= len || !strchr(out + at + 1, '.')) return SB_EINVAL;
    return SB_OK;
}

static int customer_check(store *s, int64_t user_id) {
    char name[PAYOPS_NAME_BYTES];
    return payops__display_name(s, user_id, name);
}

int payops_email_set(const payops_ctx *ctx, int64_t user_id, const char *email) {
    char canon[SB_PAYOPS_EMAIL_BYTES_MAX + 1];
    if (!email || email_canonical(email, canon) != SB_OK) return SB_EINVAL;
    int result = customer_check(ctx->s, user_id);
    if (result != SB_OK) return result;
    int64_t owner = 0;
    result = store_query_int64(ctx->s, &owner, "SELECT user_id FROM payments_emails WHERE email = ?", "t", canon);
    if (result == SB_OK) return owner == user_id ? SB_OK : SB_EEXISTS;
    if (result != SB_ENOTFOUND) return result;
    return store_exec(ctx->s, "INSERT INTO payments_emails(email, user_id) VALUES (?, ?)", "ti", canon, user_id);
}

int payops_card_on_file_set(const payops_ctx *ctx, int64_t user_id, const payments_card *card) {
    if (!card || strlen(card->masked) != PAYMENTS_CARD_DIGITS) return SB_EINVAL;
    int result = customer_check(ctx->s, user_id);
    if (result != SB_OK) return result;
    return store_exec(ctx->s,
                      "INSERT INTO payments_cards(user_id, masked) VALUES (?, ?) "
                      "ON CONFLICT(user_id) DO UPDATE SET masked = excluded.masked",
                      "it", user_id, card->masked);
}

int payops_link_create(const payops_ctx *ctx, int64_t user_id, int64_t amount_minor, int64_t expires_at_ms,
                       bool multi_use, int64_t now_ms, char token_out[PAYOPS_LINK_TOKEN_CHARS + 1]) {
    if (amount_minor < 0 || expires_at_ms <= now_ms) return SB_EINVAL;
    int result = customer_check(ctx->s, user_id);
    if (result != SB_OK) return result;
    char token[PAYOPS_LINK_TOKEN_CHARS + 1];
    sb_random_hex(token, PAYOPS_LINK_TOKEN_CHARS / 2);
    if (amount_minor > 0)
        result = store_exec(ctx->s,
                            "INSERT INTO payments_links(token, user_id, amount_minor, expires_at_ms, multi_use, "
                            "created_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
                            "tiiiii", token, user_id, amount_minor, expires_at_ms, (int64_t)multi_use, now_ms);
    else /* the payer chooses the amount: NULL */
        result = store_exec(ctx->s,
                            "INSERT INTO payments_links(token, user_id, amount_minor, expires_at_ms, multi_use, "
                            "created_at_ms) VALUES (?, ?, NULL, ?, ?, ?)",
                            "tiiii", token, user_id, expires_at_ms, (int64_t)multi_use, now_ms);
    if (result == SB_OK) memcpy(token_out, token, sizeof token);
    return result;
}

bool payops__is_hex_token(const char *s, size_t chars) {
    if (!s || strnlen(s, chars + 1) != chars) return false;
    for (size_t i = 0; i < chars; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return true;
}

/* A live link's owner and amount.  SB_ENOTFOUND if unknown, expired or used. */
static int link_lookup(store *s, const char *token, int64_t now_ms, int64_t *user_out, int64_t *amount_out) {
    store_stmt *st;
    int result = store_query(s, &st,
                             "SELECT user_id, coalesce(amount_minor, 0), expires_at_ms, multi_use, uses "
                             "FROM payments_links WHERE token = ?",
                             "t", token);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_ROW) {
        *user_out = store_col_int64(st, 0);
        *amount_out = store_col_int64(st, 1);
        bool live = now_ms < store_col_int64(st, 2) && (store_col_int64(st, 3) || store_col_int64(st, 4) == 0);
        result = live ? SB_OK : SB_ENOTFOUND;
    } else if (result == STORE_DONE) {
        result = SB_ENOTFOUND;
    }
    store_stmt_done(st);
    return result;
}

/* May the viewer name this customer by this kind of alias?  A phone number
 * or @username only as a contact search would find them (discoverable, not
 * blocking the viewer); an e-mail the customer registered for being paid,
 * unless they blocked the viewer; a payment link always (its owner handed it
 * out).  Every refusal is SB_ENOTFOUND, the answer for an alias nobody has. */
typedef enum { ALIAS_LOOKUP, ALIAS_EMAIL, ALIAS_LINK } alias_kind;

static int alias_visible(store *s, int64_t viewer_id, int64_t user_id, alias_kind kind) {
    if (kind == ALIAS_LINK) return SB_OK;
    if (kind == ALIAS_LOOKUP) return messenger_findable_check(s, viewer_id, user_id);
    bool blocks_viewer = false;
    int result = messenger_is_blocked(s, user_id, viewer_id, &blocks_viewer);
    if (result != SB_OK) return result;
    return blocks_viewer ? SB_ENOTFOUND : SB_OK;
}

int payops__target_user(const payops_ctx *ctx, int64_t user_id, payops_target *out) {
    int result = payops__display_name(ctx->s, user_id, out->payee.display_name);
    if (result != SB_OK) return result;
    store_stmt *st;
    result = store_query(ctx->s, &st, "SELECT masked FROM payments_cards WHERE user_id = ?", "i", user_id);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_ROW) payops__copy(out->payee.masked_card, sizeof out->payee.masked_card, store_col_text(st, 0));
    store_stmt_done(st);
    if (result < 0) return result;
    out->user_id = user_id;
    return SB_OK;
}

int payops__resolve(const payops_ctx *ctx, int64_t payer_id, const char *alias, int64_t now_ms, bool self_ok,
                    payops_target *out) {
    memset(out, 0, sizeof *out);
    alias_kind kind = ALIAS_LOOKUP;
    if (!alias) return SB_EINVAL;
    size_t len = strnlen(alias, SB_PAYMENTS_INPUT_BYTES_MAX * 2 + 1);
    if (len == 0 || len > SB_PAYMENTS_INPUT_BYTES_MAX * 2) return SB_EINVAL;
    int64_t user_id = 0;
    int result;
    if (alias[0] == '@') {
        char name[SB_USERNAME_BYTES_MAX + 1];
        if (identity_username_check(alias + 1) != SB_OK) return SB_EINVAL;
        size_t n = strlen(alias + 1);
        for (size_t i = 0; i <= n; i++) {
            char c = alias[1 + i];
            name[i] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
        }
        result = store_query_int64(ctx->s, &user_id, "SELECT id FROM users WHERE username = ? AND role = 'customer'",
                                   "t", name);
    } else if (strchr(alias, '@')) {
        char canon[SB_PAYOPS_EMAIL_BYTES_MAX + 1];
        if (email_canonical(alias, canon) != SB_OK) return SB_EINVAL;
        result = store_query_int64(ctx->s, &user_id, "SELECT user_id FROM payments_emails WHERE email = ?", "t", canon);
        kind = ALIAS_EMAIL;
    } else if (payops__is_hex_token(alias, PAYOPS_LINK_TOKEN_CHARS)) {
        result = link_lookup(ctx->s, alias, now_ms, &user_id, &out->payee.fixed_amount_minor);
        kind = ALIAS_LINK;
        if (result == SB_OK) memcpy(out->link_token, alias, PAYOPS_LINK_TOKEN_CHARS + 1);
    } else {
        char e164[SB_PHONE_BYTES];
        if (sb_phone_normalize(alias, e164, NULL) != SB_OK) return SB_EINVAL;
        result = store_query_int64(ctx->s, &user_id, "SELECT id FROM users WHERE phone = ? AND role = 'customer'", "t",
                                   e164);
    }
    if (result != SB_OK) return result;
    if (user_id == payer_id && !self_ok) return SB_EINVAL; /* paying oneself */
    if (user_id != payer_id) {
        result = alias_visible(ctx->s, payer_id, user_id, kind);
        if (result != SB_OK) {
            memset(out, 0, sizeof *out); /* nothing of a hidden customer leaves */
            return result;
        }
    }
    return payops__target_user(ctx, user_id, out);
}

int payops_resolve(const payops_ctx *ctx, int64_t payer_id, const char *alias, int64_t now_ms, payops_payee *out) {
    payops_target t;
    memset(out, 0, sizeof *out);
    int result = payops__resolve(ctx, payer_id, alias, now_ms, false, &t);
    if (result == SB_OK) *out = t.payee;
    return result;
}
