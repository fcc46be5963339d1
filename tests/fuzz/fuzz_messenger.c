/*
 * fuzz_messenger.c - libFuzzer target for what the messenger reads from
 * clients: message text, group titles, client ids, payment and keyboard
 * payloads, contact queries and bot tokens.  The first byte picks nothing:
 * every input goes to every checker.  Properties checked besides "no crash,
 * no leak": accepted text is valid UTF-8 within the limit with no control
 * character but newline; an accepted payload's canonical form is accepted
 * again and is a fixed point; a text accepted by the checker is stored and
 * read back byte for byte, and its rendered event is within the event limit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "messenger/messenger.h"
#include "messenger/messenger_int.h"

static store *fuzz_store;
static int64_t fuzz_chat, fuzz_user;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    sb_log_set_level(SB_LOG_ERROR);
    char dir[] = "/tmp/sb-fuzz-messenger-XXXXXX";
    if (!mkdtemp(dir) || sb_crypto_init() != SB_OK ||
        store_open(dir, &(store_options){.durable = 0}, &fuzz_store) != SB_OK ||
        store_migrate(fuzz_store, NULL) != SB_OK)
        abort();
    if (store_exec(fuzz_store,
                   "INSERT INTO users(role, phone, display_name, created_at_ms, updated_at_ms) "
                   "VALUES ('customer', '+989120000001', 'f', 0, 0)",
                   NULL) != SB_OK)
        abort();
    fuzz_user = store_last_insert_id(fuzz_store);
    if (messenger_group_create(fuzz_store, fuzz_user, "fuzz", 0, &fuzz_chat, NULL) != SB_OK) abort();
    return 0;
}

static void check_payload(int (*check)(const char *, size_t, char **), const char *text, size_t size) {
    char *canonical = NULL;
    if (check(text, size, &canonical) != SB_OK) return;
    char *again = NULL;
    if (check(canonical, strlen(canonical), &again) != SB_OK) abort();
    if (strcmp(canonical, again) != 0) abort();
    sb_free(again);
    sb_free(canonical);
}

/* An accepted payment payload merged into itself (a progress update that
 * changes nothing but may derive the status from the shares) is accepted,
 * and merging the result into itself again is a fixed point. */
static void check_payment_merge(const char *text, size_t size) {
    char *canonical = NULL;
    if (messenger_payment_payload_check(text, size, &canonical) != SB_OK) return;
    char *merged = NULL, *again = NULL;
    int status = 0, status2 = 0;
    if (messenger__payment_payload_merge(canonical, canonical, &merged, &status) != SB_OK) abort();
    if (!messenger_payment_status_name(status)) abort();
    if (messenger_payment_payload_check(merged, strlen(merged), NULL) != SB_OK) abort();
    if (messenger__payment_payload_merge(merged, merged, &again, &status2) != SB_OK) abort();
    if (strcmp(merged, again) != 0 || status != status2) abort();
    sb_free(again);
    sb_free(merged);
    sb_free(canonical);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > SB_MESSENGER_TEXT_BYTES_MAX + 16) return 0;
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    int result = messenger_text_check(text, size);
    if (result == SB_OK) {
        if (size > SB_MESSENGER_TEXT_BYTES_MAX || !sb_utf8_valid(text, size)) abort();
        for (size_t i = 0; i < size; i++)
            if (((unsigned char)text[i] < 0x20 && text[i] != '\n') || text[i] == 0x7F) abort();
        /* Stored and read back exactly (the text has no NUL: strlen == size). */
        messenger_send_request req = {
            .chat_id = fuzz_chat, .sender_id = fuzz_user, .kind = MESSENGER_MSG_TEXT, .text = text};
        messenger_message m = {0};
        messenger_events ev = {0};
        if (messenger_send(fuzz_store, &req, 0, &m, NULL, &ev) != SB_OK) abort();
        messenger_message got = {0};
        if (messenger_message_get(fuzz_store, fuzz_user, fuzz_chat, m.seq, &got) != SB_OK) abort();
        if (!got.text || strcmp(got.text, text) != 0) abort();
        char *json = NULL;
        size_t len = 0;
        if (messenger_event_render(&ev.items[0], &json, &len) != SB_OK) abort();
        if (len > SB_MESSENGER_EVENT_JSON_BYTES_MAX || strlen(json) != len) abort();
        sb_free(json);
        messenger_message_clear(&got);
        messenger_message_clear(&m);
        messenger_events_clear(&ev);
    } else if (result != SB_EINVAL && result != SB_ELIMIT) {
        abort();
    }
    if (messenger_title_check(text) == SB_OK && strchr(text, '\n')) abort();
    if (messenger_client_id_check(text) == SB_OK && strlen(text) > SB_MESSENGER_CLIENT_ID_BYTES_MAX) abort();
    check_payload(messenger_payment_payload_check, text, size);
    check_payment_merge(text, size);
    check_payload(messenger_keyboard_payload_check, text, size);
    int64_t found;
    result = messenger_contact_find(fuzz_store, fuzz_user, text, &found);
    if (result == SB_OK) abort(); /* nobody is discoverable */
    if (messenger_bot_authenticate(fuzz_store, text, &found) != SB_EAUTH) abort();
    free(text);
    return 0;
}
