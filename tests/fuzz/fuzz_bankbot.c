/*
 * fuzz_bankbot.c - libFuzzer target over what the service bot reads from a
 * customer before any module is asked: the "/command [N]" parser, the
 * keyword tables over text_normalize output, the button data of a press,
 * and the amount formatter (every int64, every language).
 *
 * Input: the first 8 bytes are an amount (little-endian), the rest the text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bankbot/bankbot_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 8) return 0;
    uint64_t raw = 0;
    for (int i = 0; i < 8; i++)
        raw |= (uint64_t)data[i] << (8 * i);
    static const char *const langs[] = {"fa", "uk", "ru", "en", "xx"};
    char out[64];
    for (size_t i = 0; i < sizeof langs / sizeof langs[0]; i++) {
        bankbot_format_amount((int64_t)raw, langs[i], out, sizeof out);
        if (strlen(out) >= sizeof out) abort();
    }
    size_t len = size - 8;
    if (len > SB_TEXT_INPUT_BYTES_MAX) return 0;
    char *text = malloc(len + 1);
    if (!text) return 0;
    memcpy(text, data + 8, len);
    text[len] = '\0';
    int64_t number = -1;
    int intent = bankbot__command_intent(text, &number);
    if (intent < BANKBOT_INTENT_NONE || intent > BANKBOT_INTENT_AGENT || number < 0) abort();
    sb_buf norm;
    sb_buf_init(&norm, SB_TEXT_NORMALIZED_BYTES_MAX);
    if (text_normalize(text, len, &norm) == SB_OK) {
        intent = bankbot__keyword_intent(norm.data, norm.len);
        if (intent < BANKBOT_INTENT_NONE || intent > BANKBOT_INTENT_AGENT) abort();
    }
    sb_buf_free(&norm);
    (void)bankbot__lang_index(text);
    (void)bankbot__topic_message(text);
    free(text);
    return 0;
}
