/*
 * classifier_int.h - internals of the classifier shared by classifier.c
 * (features, training, prediction) and model_io.c (the model file), and
 * looked at by the tests: the model structure and the feature extractor.
 */
#ifndef SB_TEXT_CLASSIFIER_INT_H
#define SB_TEXT_CLASSIFIER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "text/text.h"

/* Marks an empty slot of the bucket -> row index, and "no row". */
#define TEXT_ROW_NONE UINT32_MAX

typedef struct {
    uint32_t bucket; /* TEXT_ROW_NONE when empty */
    uint32_t row;
} text_slot;

struct text_model {
    text_train_params params;
    size_t head_count;
    char *head_names[SB_TEXT_MODEL_HEADS_MAX];
    uint32_t label_count[SB_TEXT_MODEL_HEADS_MAX];
    char **labels[SB_TEXT_MODEL_HEADS_MAX]; /* label_count[h] names each */
    uint32_t rows;
    uint32_t *row_bucket;                   /* rows bucket ids, strictly increasing */
    float *input;                           /* rows x dim */
    float *output[SB_TEXT_MODEL_HEADS_MAX]; /* label_count[h] x dim */
    uint32_t slot_mask;                     /* slots has slot_mask + 1 entries */
    text_slot *slots;                       /* open addressing: bucket -> row */
};

/* Build m->slots from m->row_bucket (m->rows entries).  SB_ENOMEM. */
int classifier_index_build(text_model *m) SB_MUST_CHECK;
/* The row of a bucket, or TEXT_ROW_NONE. */
uint32_t classifier_index_find(const text_model *m, uint32_t bucket);
/* The features (bucket ids) of normalised text under p: at most max of
 * them (the rest of the text is not read).  Returns the count. */
size_t classifier_features(const text_train_params *p, const char *normalised, size_t len, uint32_t *out,
                           size_t max);

/* CRC-32C (Castagnoli) of len bytes: the model file's checksum. */
uint32_t classifier_crc32c(const void *data, size_t len);

/* IEEE 754 half precision conversions (round to nearest even). */
uint16_t classifier_float_to_half(float f);
float classifier_half_to_float(uint16_t h);

#endif /* SB_TEXT_CLASSIFIER_INT_H */
