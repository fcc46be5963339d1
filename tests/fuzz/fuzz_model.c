/*
 * fuzz_model.c - libFuzzer target for the classifier's model loader
 * (text_model_load_bytes): any bytes must give SB_OK or a clean error,
 * never a crash, a leak or an allocation beyond what the bytes back.  A
 * loaded model is also asked for a prediction.  The checksum would stop
 * nearly every mutation at the door, so the target reseals the checksum
 * of its input first: the parser behind it is what gets fuzzed.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/core.h"
#include "text/classifier_int.h"
#include "text/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 1024 * 1024) return 0;
    uint8_t *copy = sb_malloc(size ? size : 1);
    if (!copy) return 0;
    memcpy(copy, data, size);
    if (size >= 16) {
        uint32_t crc = classifier_crc32c(copy, size - 4);
        memcpy(copy + size - 4, &crc, 4);
    }
    text_model *m = NULL;
    char err[TEXT_ERROR_BYTES];
    int rc = text_model_load_bytes(copy, size, &m, err);
    if (rc == SB_OK) {
        text_prediction out[SB_TEXT_MODEL_HEADS_MAX];
        if (text_model_predict(m, "the card is blocked", 19, out) != SB_OK) __builtin_trap();
        for (size_t h = 0; h < text_model_head_count(m); h++)
            if (out[h].label >= text_model_label_count(m, h)) __builtin_trap();
        text_model_free(m);
    } else if (m != NULL || err[0] == '\0') {
        __builtin_trap();
    }
    sb_free(copy);
    return 0;
}
