/*
 * fuzz_identity.c - libFuzzer target for what identity reads from outside:
 * display names and @usernames (profile updates), bearer tokens (every
 * authenticated request), one-time codes and phone arguments, the webhook
 * URL (configuration) and the webhook's HTTP status line (the network).
 * Each input goes to every parser; none may crash, leak or read out of
 * bounds, and a token or code that parses must never authenticate against
 * an empty store.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity/identity.h"
#include "identity/identity_int.h"

static store *fuzz_store;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    sb_log_set_level(SB_LOG_ERROR);
    char dir[] = "/tmp/sb-fuzz-identity-XXXXXX";
    if (!mkdtemp(dir) || sb_crypto_init() != SB_OK ||
        store_open(dir, &(store_options){.durable = 0}, &fuzz_store) != SB_OK ||
        store_migrate(fuzz_store, NULL) != SB_OK)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 4096) return 0;
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    int ignored = identity_display_name_check(text);
    ignored = identity_username_check(text);
    ignored = sb_http_url_check(text, SB_OTP_WEBHOOK_URL_BYTES_MAX);

    identity_principal p;
    if (identity_session_lookup(fuzz_store, text, 0, &p) != SB_EAUTH) abort();
    int64_t id;
    bool created;
    /* "PHONE\nCODE": no code was ever requested, so every pair must be refused. */
    const char *newline = memchr(data, '\n', size);
    if (newline) {
        size_t phone_len = (size_t)(newline - (const char *)data);
        text[phone_len] = '\0';
        if (identity_otp_verify(fuzz_store, text, text + phone_len + 1, 0, &id, &created) != SB_EAUTH) abort();
    }
    (void)ignored;
    free(text);
    return 0;
}
