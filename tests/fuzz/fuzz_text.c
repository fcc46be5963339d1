/*
 * fuzz_text.c - libFuzzer target for the text engine: the normaliser, the
 * token iterator, language identification (and its baseline) and signals,
 * on arbitrary bytes.  Checks the normaliser's output contract on every
 * input it accepts: valid UTF-8, no leading/trailing/double space, tokens
 * at most SB_TEXT_TOKEN_BYTES_MAX bytes (special tokens included), and
 * normalising twice gives the same text (idempotent).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text/text.h"
#include "text/text_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *in = (const char *)data;
    text_lang lang;
    int conf;
    int rc = text_langid(in, size, &lang, &conf);
    if (rc == SB_OK && (conf < 0 || conf > 1000 || (unsigned)lang >= TEXT_LANG_COUNT)) abort();
    rc = text_langid_script_only(in, size, &lang);
    if (rc == SB_OK && (unsigned)lang >= TEXT_LANG_COUNT) abort();

    /* signals must cope with text that is not normaliser output */
    text_signals_result res;
    if (text_signals(in, size, &res) == SB_OK && res.count > SB_TEXT_SIGNALS_MAX) abort();

    sb_buf out;
    sb_buf_init(&out, SB_TEXT_NORMALIZED_BYTES_MAX);
    rc = text_normalize(in, size, &out);
    if (rc != SB_OK) {
        if (out.data != NULL) abort(); /* freed on error */
        if (rc != SB_EINVAL && rc != SB_ELIMIT) abort();
        return 0;
    }
    sb_buf ref;
    sb_buf_init(&ref, SB_TEXT_NORMALIZED_BYTES_MAX);
    if (text_normalize_reference(in, size, &ref) != SB_OK) abort();
    if (ref.len != out.len || (out.len && memcmp(ref.data, out.data, out.len) != 0)) abort();
    sb_buf_free(&ref);
    if (out.len > 0) {
        if (!sb_utf8_valid(out.data, out.len)) abort();
        if (out.data[0] == ' ' || out.data[out.len - 1] == ' ') abort();
        if (memmem(out.data, out.len, "  ", 2) != NULL) abort();
    }
    text_token_iter it;
    text_token_iter_init(&it, out.data, out.len);
    const char *tok;
    size_t tok_len, total = 0;
    while (text_token_next(&it, &tok, &tok_len)) {
        if (tok_len == 0 || tok_len > SB_TEXT_TOKEN_BYTES_MAX + 64) abort();
        total += tok_len;
    }
    if (total > out.len) abort();
    if (text_signals(out.data, out.len, &res) != SB_OK) abort();
    if (res.count > SB_TEXT_SIGNALS_MAX) abort();
    for (size_t i = 0; i < res.count; i++)
        if (!sb_utf8_valid(res.items[i].trigger, strlen(res.items[i].trigger))) abort();

    /* idempotent: the output normalises to itself */
    sb_buf again;
    sb_buf_init(&again, SB_TEXT_NORMALIZED_BYTES_MAX);
    if (text_normalize(out.len ? out.data : "", out.len, &again) != SB_OK) abort();
    if (again.len != out.len || (out.len && memcmp(again.data, out.data, out.len) != 0)) abort();
    sb_buf_free(&again);
    sb_buf_free(&out);
    return 0;
}
