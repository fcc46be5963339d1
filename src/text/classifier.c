/*
 * classifier.c - the supervised linear classifier of the text module
 * (fastText family): hashed features, training data, SGD training of
 * several softmax heads over shared averaged embeddings, and prediction.
 *
 * Features of a normalised text (tokens separated by single spaces):
 *   - each word: FNV-1a 64 of its bytes;
 *   - each pair of adjacent words (word_ngrams = 2): a mix of both hashes;
 *   - optionally each character n-gram of "<word>" (code points, lengths
 *     char_ngram_min..char_ngram_max, the whole "<word>" excluded), hashed
 *     with another basis so it never collides by construction with a word;
 * each reduced modulo `buckets`.  Training keeps one embedding row per
 * bucket seen in the training data; rows are initialised from (seed,
 * bucket) alone, so the model does not depend on the order rows are met,
 * and the examples are shuffled each epoch by a seeded generator: one seed,
 * one model, byte for byte (single-threaded on purpose).
 *
 * The update is fastText's: hidden = mean of the rows; for each head with a
 * label, scores = W hidden, p = softmax, alpha_j = lr (1[j = y] - p_j),
 * grad += alpha_j W_j, W_j += alpha_j hidden; then every row of the example
 * gets grad / rows.  lr decays linearly to 0 over all the updates.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "text/classifier_int.h"
#include "text/text.h"

#define TEXT_STR2(x) #x
#define SB_TEXT_STR(x) TEXT_STR2(x)

/* ---- small numerics ----------------------------------------------------- */

/* Dot product with eight independent sums, so the compiler vectorises it
 * without reassociating (no -ffast-math needed). */
static float vec_dot(const float *restrict a, const float *restrict b, size_t n) {
    float acc[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (size_t k = 0; k < 8; k++) acc[k] += a[i + k] * b[i + k];
    float sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < n; i++) sum += a[i] * b[i];
    return sum;
}

/* y += alpha x (y and x never overlap).  Blocks of eight with a fixed
 * inner loop: the compiler turns each block into vector instructions at -O2
 * without a runtime alias check or a generic epilogue. */
static void vec_axpy(float *restrict y, float alpha, const float *restrict x, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (size_t k = 0; k < 8; k++) y[i + k] += alpha * x[i + k];
    for (; i < n; i++) y[i] += alpha * x[i];
}

/* y += x (y and x never overlap) */
static void vec_add(float *restrict y, const float *restrict x, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (size_t k = 0; k < 8; k++) y[i + k] += x[i + k];
    for (; i < n; i++) y[i] += x[i];
}

static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint16_t classifier_float_to_half(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t exp = (x >> 23) & 0xFFu;
    uint32_t mant = x & 0x7FFFFFu;
    if (exp == 0xFFu) return (uint16_t)(sign | 0x7C00u | (mant ? 0x200u : 0)); /* inf, nan */
    int32_t e = (int32_t)exp - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7C00u); /* overflow -> inf */
    if (e <= 0) {                                   /* subnormal half or zero */
        if (e < -10) return (uint16_t)sign;
        mant |= 0x800000u;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t half = mant >> shift;
        uint32_t rest = mant & ((1u << shift) - 1);
        uint32_t halfway = 1u << (shift - 1);
        if (rest > halfway || (rest == halfway && (half & 1u))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)e << 10) | (mant >> 13);
    uint32_t rest = mant & 0x1FFFu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) half++; /* may carry into exp: still right */
    return (uint16_t)half;
}

float classifier_half_to_float(uint16_t h) {
    uint32_t sign = ((uint32_t)h & 0x8000u) << 16;
    uint32_t exp = ((uint32_t)h >> 10) & 0x1Fu;
    uint32_t mant = (uint32_t)h & 0x3FFu;
    uint32_t x;
    if (exp == 0) {
        if (mant == 0) {
            x = sign;
        } else { /* subnormal: normalise */
            int32_t e = -1;
            do {
                e++;
                mant <<= 1;
            } while (!(mant & 0x400u));
            x = sign | ((uint32_t)(127 - 15 - e) << 23) | ((mant & 0x3FFu) << 13);
        }
    } else if (exp == 31) {
        x = sign | 0x7F800000u | (mant << 13);
    } else {
        x = sign | ((exp - 15 + 127) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &x, sizeof f);
    return f;
}

/* ---- features ----------------------------------------------------------- */

#define FNV_BASIS 0xCBF29CE484222325ull
#define FNV_PRIME 0x100000001B3ull
#define FNV_BASIS_CHAR 0x84222325CBF29CE4ull /* character n-grams: another family */

static uint64_t fnv_feed(uint64_t h, const char *s, size_t len) {
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= FNV_PRIME;
    }
    return h;
}

static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 33)) * 0xFF51AFD7ED558CCDull;
    z = (z ^ (z >> 33)) * 0xC4CEB9FE1A85EC53ull;
    return z ^ (z >> 33);
}

static size_t utf8_lead_len(unsigned char c) {
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0) return 2;
    if ((c & 0xF0) == 0xE0) return 3;
    if ((c & 0xF8) == 0xF0) return 4;
    return 1; /* a stray byte counts as one character */
}

/* Character n-grams of "<tok>" into out[*n..max). */
static void char_ngrams(const text_train_params *p, const char *tok, size_t tok_len, uint32_t *out, size_t *n,
                        size_t max) {
    char word[SB_TEXT_TOKEN_BYTES_MAX + 8];
    if (tok_len > SB_TEXT_TOKEN_BYTES_MAX) tok_len = SB_TEXT_TOKEN_BYTES_MAX;
    word[0] = '<';
    memcpy(word + 1, tok, tok_len);
    word[tok_len + 1] = '>';
    size_t wlen = tok_len + 2;
    uint16_t starts[SB_TEXT_TOKEN_BYTES_MAX + 8]; /* code point start offsets, plus the end */
    size_t ncp = 0;
    for (size_t i = 0; i < wlen;) {
        starts[ncp++] = (uint16_t)i;
        size_t step = utf8_lead_len((unsigned char)word[i]);
        i = i + step <= wlen ? i + step : wlen;
    }
    starts[ncp] = (uint16_t)wlen;
    for (size_t s = 0; s < ncp; s++) {
        uint64_t h = FNV_BASIS_CHAR;
        for (size_t len = 1; len <= p->char_ngram_max && s + len <= ncp; len++) {
            h = fnv_feed(h, word + starts[s + len - 1], (size_t)(starts[s + len] - starts[s + len - 1]));
            if (len < p->char_ngram_min) continue;
            if (s == 0 && s + len == ncp) continue; /* the whole word is the unigram already */
            if (*n >= max) return;
            out[(*n)++] = (uint32_t)(mix64(h) % p->buckets);
        }
    }
}

size_t classifier_features(const text_train_params *p, const char *normalised, size_t len, uint32_t *out,
                           size_t max) {
    text_token_iter it;
    text_token_iter_init(&it, normalised, len);
    const char *tok;
    size_t tok_len;
    size_t n = 0;
    uint64_t prev = 0;
    bool have_prev = false;
    while (n < max && text_token_next(&it, &tok, &tok_len)) {
        uint64_t h = fnv_feed(FNV_BASIS, tok, tok_len);
        out[n++] = (uint32_t)(mix64(h) % p->buckets);
        if (p->word_ngrams >= 2 && have_prev && n < max)
            out[n++] = (uint32_t)(mix64(prev * 0x2545F4914F6CDD1Dull + h + 0x5851F42D4C957F2Dull) % p->buckets);
        if (p->char_ngram_min > 0) char_ngrams(p, tok, tok_len, out, &n, max);
        prev = h;
        have_prev = true;
    }
    return n;
}

/* ---- parameters --------------------------------------------------------- */

void text_train_params_default(text_train_params *p) {
    memset(p, 0, sizeof *p);
    p->dim = 64;
    p->buckets = 1u << 21;
    p->epochs = 25;
    p->word_ngrams = 2;
    p->char_ngram_min = 0;
    p->char_ngram_max = 0;
    p->seed = 1;
    p->lr = 0.5f;
    p->float16 = false;
}

static void set_err(char err[TEXT_ERROR_BYTES], const char *msg) {
    if (err) snprintf(err, TEXT_ERROR_BYTES, "%s", msg);
}

int text_train_params_check(const text_train_params *p, char err[TEXT_ERROR_BYTES]) {
    if (p->dim < 1 || p->dim > SB_TEXT_MODEL_DIM_MAX) {
        set_err(err, "dim must be from 1 to " SB_TEXT_STR(SB_TEXT_MODEL_DIM_MAX));
        return SB_EINVAL;
    }
    if (p->buckets < 1 || p->buckets > SB_TEXT_MODEL_BUCKETS_MAX) {
        set_err(err, "buckets must be from 1 to 2^26");
        return SB_EINVAL;
    }
    if (p->epochs < 1 || p->epochs > SB_TEXT_TRAIN_EPOCHS_MAX) {
        set_err(err, "epochs must be from 1 to " SB_TEXT_STR(SB_TEXT_TRAIN_EPOCHS_MAX));
        return SB_EINVAL;
    }
    if (p->word_ngrams != 1 && p->word_ngrams != 2) {
        set_err(err, "word n-grams must be 1 or 2");
        return SB_EINVAL;
    }
    if (p->char_ngram_max > SB_TEXT_CHAR_NGRAM_MAX || p->char_ngram_min > p->char_ngram_max ||
        (p->char_ngram_min == 0 && p->char_ngram_max != 0)) {
        set_err(err, "character n-grams need 1 <= min <= max <= " SB_TEXT_STR(SB_TEXT_CHAR_NGRAM_MAX)
                     " (or both 0)");
        return SB_EINVAL;
    }
    if (!(p->lr > 0.0f && p->lr <= 10.0f)) {
        set_err(err, "learning rate must be in (0, 10]");
        return SB_EINVAL;
    }
    return SB_OK;
}

/* ---- the bucket -> row index ------------------------------------------- */

static uint32_t slot_hash(uint32_t bucket) {
    return (uint32_t)(((uint64_t)bucket * 0x9E3779B97F4A7C15ull) >> 32);
}

int classifier_index_build(text_model *m) {
    uint64_t cap = 16;
    while (cap < 2ull * m->rows) cap <<= 1;
    text_slot *slots = sb_malloc((size_t)cap * sizeof *slots);
    if (!slots) return SB_ENOMEM;
    for (uint64_t i = 0; i < cap; i++) slots[i].bucket = slots[i].row = TEXT_ROW_NONE;
    uint32_t mask = (uint32_t)(cap - 1);
    for (uint32_t r = 0; r < m->rows; r++) {
        uint32_t i = slot_hash(m->row_bucket[r]) & mask;
        while (slots[i].bucket != TEXT_ROW_NONE) i = (i + 1) & mask;
        slots[i].bucket = m->row_bucket[r];
        slots[i].row = r;
    }
    sb_free(m->slots);
    m->slots = slots;
    m->slot_mask = mask;
    return SB_OK;
}

uint32_t classifier_index_find(const text_model *m, uint32_t bucket) {
    uint32_t i = slot_hash(bucket) & m->slot_mask;
    for (;;) { /* bounded: the table is at most half full, so an empty slot exists */
        const text_slot *s = &m->slots[i];
        if (s->bucket == bucket) return s->row;
        if (s->bucket == TEXT_ROW_NONE) return TEXT_ROW_NONE;
        i = (i + 1) & m->slot_mask;
    }
}

/* ---- model accessors ---------------------------------------------------- */

void text_model_free(text_model *m) {
    if (!m) return;
    for (size_t h = 0; h < SB_TEXT_MODEL_HEADS_MAX; h++) {
        sb_free(m->head_names[h]);
        if (m->labels[h])
            for (uint32_t l = 0; l < m->label_count[h]; l++) sb_free(m->labels[h][l]);
        sb_free(m->labels[h]);
        sb_free(m->output[h]);
    }
    sb_free(m->row_bucket);
    sb_free(m->input);
    sb_free(m->slots);
    sb_free(m);
}

const text_train_params *text_model_params(const text_model *m) { return &m->params; }
size_t text_model_head_count(const text_model *m) { return m->head_count; }
const char *text_model_head_name(const text_model *m, size_t head) {
    return head < m->head_count ? m->head_names[head] : NULL;
}
size_t text_model_label_count(const text_model *m, size_t head) {
    return head < m->head_count ? m->label_count[head] : 0;
}
const char *text_model_label_name(const text_model *m, size_t head, size_t label) {
    return head < m->head_count && label < m->label_count[head] ? m->labels[head][label] : NULL;
}
int text_model_head_find(const text_model *m, const char *name) {
    for (size_t h = 0; h < m->head_count; h++)
        if (strcmp(m->head_names[h], name) == 0) return (int)h;
    return -1;
}
int text_model_label_find(const text_model *m, size_t head, const char *name) {
    if (head >= m->head_count) return -1;
    for (uint32_t l = 0; l < m->label_count[head]; l++)
        if (strcmp(m->labels[head][l], name) == 0) return (int)l;
    return -1;
}
size_t text_model_row_count(const text_model *m) { return m->rows; }

/* ---- prediction --------------------------------------------------------- */

/* hidden[0..dim) = mean of the known rows of the text's features.
 * Returns the number of known features. */
static size_t model_hidden(const text_model *m, const char *normalised, size_t len, float *hidden) {
    uint32_t feats[SB_TEXT_FEATURES_PER_TEXT_MAX];
    size_t nf = classifier_features(&m->params, normalised, len, feats, SB_TEXT_FEATURES_PER_TEXT_MAX);
    size_t dim = m->params.dim;
    memset(hidden, 0, dim * sizeof *hidden);
    /* First resolve every feature to its row and start fetching the rows
     * (they are scattered over megabytes: memory latency, not arithmetic,
     * is the cost here), then sum them. */
    size_t known = 0;
    for (size_t i = 0; i < nf; i++) {
        uint32_t row = classifier_index_find(m, feats[i]);
        if (row == TEXT_ROW_NONE) continue;
        const char *p = (const char *)(m->input + (size_t)row * dim);
        for (size_t off = 0; off < dim * sizeof(float); off += 64) __builtin_prefetch(p + off);
        feats[known++] = row;
    }
    for (size_t i = 0; i < known; i++) vec_add(hidden, m->input + (size_t)feats[i] * dim, dim);
    if (known > 1) {
        float scale = 1.0f / (float)known;
        for (size_t d = 0; d < dim; d++) hidden[d] *= scale;
    }
    return known;
}

/* scores of head h -> probabilities in place; returns the argmax. */
static uint32_t head_softmax(const text_model *m, size_t h, const float *hidden, float *probs) {
    size_t dim = m->params.dim;
    uint32_t labels = m->label_count[h];
    const float *w = m->output[h];
    uint32_t best = 0;
    float max = -INFINITY;
    for (uint32_t l = 0; l < labels; l++) {
        probs[l] = vec_dot(w + (size_t)l * dim, hidden, dim);
        if (probs[l] > max) {
            max = probs[l];
            best = l;
        }
    }
    float sum = 0.0f;
    for (uint32_t l = 0; l < labels; l++) {
        probs[l] = expf(probs[l] - max);
        sum += probs[l];
    }
    float inv = 1.0f / sum;
    for (uint32_t l = 0; l < labels; l++) probs[l] *= inv;
    return best;
}

static int predict_check(const text_model *m, const char *normalised, size_t len) {
    if (!m || (!normalised && len > 0)) return SB_EINVAL;
    if (len > SB_TEXT_NORMALIZED_BYTES_MAX) return SB_ELIMIT;
    return SB_OK;
}

int text_model_predict(const text_model *m, const char *normalised, size_t len,
                       text_prediction out[SB_TEXT_MODEL_HEADS_MAX]) {
    int rc = predict_check(m, normalised, len);
    if (rc != SB_OK) return rc;
    float hidden[SB_TEXT_MODEL_DIM_MAX];
    float probs[SB_TEXT_MODEL_LABELS_MAX];
    model_hidden(m, normalised ? normalised : "", len, hidden);
    for (size_t h = 0; h < m->head_count; h++) {
        uint32_t best = head_softmax(m, h, hidden, probs);
        out[h].label = best;
        out[h].p = probs[best];
    }
    return SB_OK;
}

int text_model_predict_head(const text_model *m, const char *normalised, size_t len, size_t head, float *probs) {
    int rc = predict_check(m, normalised, len);
    if (rc != SB_OK) return rc;
    if (head >= m->head_count || !probs) return SB_EINVAL;
    float hidden[SB_TEXT_MODEL_DIM_MAX];
    model_hidden(m, normalised ? normalised : "", len, hidden);
    head_softmax(m, head, hidden, probs);
    return SB_OK;
}

/* ---- training data ------------------------------------------------------ */

#define LABEL_SLOTS 8192 /* per head, > 2 x SB_TEXT_MODEL_LABELS_MAX */
_Static_assert(LABEL_SLOTS >= 2 * SB_TEXT_MODEL_LABELS_MAX, "label table at most half full");

struct text_dataset {
    text_train_params params;
    size_t head_count;
    char *head_names[SB_TEXT_MODEL_HEADS_MAX];
    char **label_names[SB_TEXT_MODEL_HEADS_MAX]; /* in order of first appearance */
    uint32_t label_count[SB_TEXT_MODEL_HEADS_MAX];
    int16_t label_slots[SB_TEXT_MODEL_HEADS_MAX][LABEL_SLOTS]; /* -1 empty, else label index */
    size_t n;                                                  /* examples */
    size_t cap;                                                /* examples allocated */
    uint32_t *offsets;                                         /* n + 1: features of example i */
    int32_t *labels;                                           /* n x head_count, -1 = none */
    uint32_t *feats;
    size_t feats_len, feats_cap;
    uint32_t scratch[SB_TEXT_FEATURES_PER_TEXT_MAX];
};

int text_dataset_create(const text_train_params *p, const char *const *head_names, size_t head_count,
                        text_dataset **out) {
    *out = NULL;
    if (!p || !head_names || head_count < 1 || head_count > SB_TEXT_MODEL_HEADS_MAX) return SB_EINVAL;
    if (text_train_params_check(p, NULL) != SB_OK) return SB_EINVAL;
    for (size_t h = 0; h < head_count; h++) {
        size_t len = head_names[h] ? strlen(head_names[h]) : 0;
        if (len == 0 || len > SB_TEXT_LABEL_BYTES_MAX) return SB_EINVAL;
        for (size_t g = 0; g < h; g++)
            if (strcmp(head_names[g], head_names[h]) == 0) return SB_EINVAL;
    }
    text_dataset *ds = sb_calloc(1, sizeof *ds);
    if (!ds) return SB_ENOMEM;
    ds->params = *p;
    ds->head_count = head_count;
    memset(ds->label_slots, 0xFF, sizeof ds->label_slots);
    for (size_t h = 0; h < head_count; h++) {
        ds->head_names[h] = sb_strdup(head_names[h]);
        if (!ds->head_names[h]) {
            text_dataset_free(ds);
            return SB_ENOMEM;
        }
    }
    *out = ds;
    return SB_OK;
}

void text_dataset_free(text_dataset *ds) {
    if (!ds) return;
    for (size_t h = 0; h < SB_TEXT_MODEL_HEADS_MAX; h++) {
        sb_free(ds->head_names[h]);
        for (uint32_t l = 0; l < ds->label_count[h]; l++) sb_free(ds->label_names[h][l]);
        sb_free(ds->label_names[h]);
    }
    sb_free(ds->offsets);
    sb_free(ds->labels);
    sb_free(ds->feats);
    sb_free(ds);
}

size_t text_dataset_size(const text_dataset *ds) { return ds->n; }
size_t text_dataset_label_count(const text_dataset *ds, size_t head) {
    return head < ds->head_count ? ds->label_count[head] : 0;
}

/* Index of label in head h, or -1 if new (slot_out then gets where it goes). */
static int label_lookup(const text_dataset *ds, size_t h, const char *label, uint32_t *slot_out) {
    uint32_t i = (uint32_t)(fnv_feed(FNV_BASIS, label, strlen(label)) & (LABEL_SLOTS - 1));
    while (ds->label_slots[h][i] >= 0) {
        if (strcmp(ds->label_names[h][ds->label_slots[h][i]], label) == 0) return ds->label_slots[h][i];
        i = (i + 1) & (LABEL_SLOTS - 1);
    }
    *slot_out = i;
    return -1;
}

int text_dataset_add(text_dataset *ds, const char *normalised, size_t len, const char *const *labels) {
    if (!ds || !labels || (!normalised && len > 0)) return SB_EINVAL;
    if (normalised && memchr(normalised, '\0', len)) return SB_EINVAL;
    if (len > SB_TEXT_NORMALIZED_BYTES_MAX) return SB_ELIMIT;
    if (ds->n >= SB_TEXT_TRAIN_EXAMPLES_MAX) return SB_ELIMIT;
    /* Validate every label before changing anything. */
    bool any = false;
    int32_t idx[SB_TEXT_MODEL_HEADS_MAX];
    uint32_t slot[SB_TEXT_MODEL_HEADS_MAX];
    for (size_t h = 0; h < ds->head_count; h++) {
        idx[h] = -1;
        if (!labels[h]) continue;
        size_t llen = strlen(labels[h]);
        if (llen == 0 || llen > SB_TEXT_LABEL_BYTES_MAX) return SB_EINVAL;
        any = true;
        idx[h] = label_lookup(ds, h, labels[h], &slot[h]);
        if (idx[h] < 0 && ds->label_count[h] >= SB_TEXT_MODEL_LABELS_MAX) return SB_ELIMIT;
    }
    if (!any) return SB_EINVAL;
    size_t nf = classifier_features(&ds->params, normalised ? normalised : "", len, ds->scratch,
                                    SB_TEXT_FEATURES_PER_TEXT_MAX);
    if (ds->feats_len + nf > SB_TEXT_TRAIN_FEATURES_MAX) return SB_ELIMIT;
    /* Grow the arrays (each growth leaves the dataset valid). */
    if (ds->n + 1 >= ds->cap) {
        size_t cap = ds->cap ? ds->cap * 2 : 1024;
        uint32_t *offsets = sb_realloc(ds->offsets, (cap + 1) * sizeof *offsets);
        if (!offsets) return SB_ENOMEM;
        ds->offsets = offsets;
        int32_t *lab = sb_realloc(ds->labels, cap * ds->head_count * sizeof *lab);
        if (!lab) return SB_ENOMEM;
        ds->labels = lab;
        ds->cap = cap;
    }
    if (ds->feats_len + nf > ds->feats_cap) {
        size_t cap = ds->feats_cap ? ds->feats_cap : 4096;
        while (cap < ds->feats_len + nf) cap *= 2;
        uint32_t *feats = sb_realloc(ds->feats, cap * sizeof *feats);
        if (!feats) return SB_ENOMEM;
        ds->feats = feats;
        ds->feats_cap = cap;
    }
    for (size_t h = 0; h < ds->head_count; h++) {
        if (!labels[h] || idx[h] >= 0) continue;
        char *copy = sb_strdup(labels[h]);
        if (!copy) return SB_ENOMEM;
        char **names = sb_realloc(ds->label_names[h], (ds->label_count[h] + 1) * sizeof *names);
        if (!names) {
            sb_free(copy);
            return SB_ENOMEM;
        }
        ds->label_names[h] = names;
        names[ds->label_count[h]] = copy;
        /* A label added for an earlier head stays even if a later one fails:
         * harmless, it is only a name until an example uses it. */
        idx[h] = (int32_t)ds->label_count[h]++;
        ds->label_slots[h][slot[h]] = (int16_t)idx[h];
    }
    if (ds->n == 0) ds->offsets[0] = 0;
    memcpy(ds->feats + ds->feats_len, ds->scratch, nf * sizeof *ds->feats);
    ds->feats_len += nf;
    ds->offsets[ds->n + 1] = (uint32_t)ds->feats_len;
    for (size_t h = 0; h < ds->head_count; h++) ds->labels[ds->n * ds->head_count + h] = idx[h];
    ds->n++;
    return SB_OK;
}

/* ---- training ----------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

typedef struct {
    const char *name;
    uint32_t old_index;
} label_order;

static int cmp_label_order(const void *a, const void *b) {
    return strcmp(((const label_order *)a)->name, ((const label_order *)b)->name);
}

/* Copy heads and labels (sorted by name) into m; remap[h][old] = new. */
static int model_take_labels(text_model *m, const text_dataset *ds, uint32_t *remap[SB_TEXT_MODEL_HEADS_MAX]) {
    m->head_count = ds->head_count;
    for (size_t h = 0; h < ds->head_count; h++) {
        uint32_t count = ds->label_count[h];
        m->head_names[h] = sb_strdup(ds->head_names[h]);
        m->labels[h] = sb_calloc(count, sizeof(char *));
        remap[h] = sb_calloc(count, sizeof(uint32_t));
        label_order *order = sb_calloc(count, sizeof *order);
        if (!m->head_names[h] || !m->labels[h] || !remap[h] || !order) {
            sb_free(order);
            return SB_ENOMEM;
        }
        for (uint32_t l = 0; l < count; l++) order[l] = (label_order){ds->label_names[h][l], l};
        qsort(order, count, sizeof *order, cmp_label_order);
        int rc = SB_OK;
        for (uint32_t l = 0; l < count && rc == SB_OK; l++) {
            m->labels[h][l] = sb_strdup(order[l].name);
            if (!m->labels[h][l]) rc = SB_ENOMEM;
            m->label_count[h] = l + 1; /* so text_model_free frees what exists */
            remap[h][order[l].old_index] = l;
        }
        sb_free(order);
        if (rc != SB_OK) return rc;
    }
    return SB_OK;
}

/* The distinct buckets of the dataset, sorted, into m->row_bucket. */
static int model_take_rows(text_model *m, const text_dataset *ds) {
    uint32_t *all = sb_malloc((ds->feats_len ? ds->feats_len : 1) * sizeof *all);
    if (!all) return SB_ENOMEM;
    memcpy(all, ds->feats, ds->feats_len * sizeof *all);
    qsort(all, ds->feats_len, sizeof *all, cmp_u32);
    size_t rows = 0;
    for (size_t i = 0; i < ds->feats_len; i++)
        if (rows == 0 || all[rows - 1] != all[i]) all[rows++] = all[i];
    /* Bound the model before the big allocations. */
    uint64_t bytes = (uint64_t)rows * (4 + 4ull * m->params.dim);
    for (size_t h = 0; h < m->head_count; h++) bytes += 4ull * m->label_count[h] * m->params.dim;
    if (bytes > SB_TEXT_MODEL_BYTES_MAX) {
        sb_free(all);
        return SB_ELIMIT;
    }
    uint32_t *shrunk = sb_realloc(all, (rows ? rows : 1) * sizeof *all);
    m->row_bucket = shrunk ? shrunk : all;
    m->rows = (uint32_t)rows;
    return SB_OK;
}

/* Row r: uniform in (-1/dim, 1/dim) from (seed, bucket) alone. */
static void init_row(float *row, size_t dim, uint64_t seed, uint32_t bucket) {
    uint64_t state = seed ^ ((uint64_t)bucket * 0xD1B54A32D192ED03ull);
    float bound = 1.0f / (float)dim;
    for (size_t d = 0; d < dim; d++) {
        double u = (double)(splitmix64(&state) >> 11) * 0x1.0p-53; /* [0, 1) */
        row[d] = (float)((2.0 * u - 1.0) * bound);
    }
}

int text_model_train(const text_dataset *ds, text_model **out, double *loss_out) {
    *out = NULL;
    if (!ds || ds->n == 0) return SB_EINVAL;
    for (size_t h = 0; h < ds->head_count; h++)
        if (ds->label_count[h] == 0) return SB_EINVAL;
    text_model *m = sb_calloc(1, sizeof *m);
    if (!m) return SB_ENOMEM;
    m->params = ds->params;
    uint32_t *remap[SB_TEXT_MODEL_HEADS_MAX] = {0};
    uint32_t *rowfeats = NULL, *order = NULL;
    int32_t *labels = NULL;
    float *grad = NULL, *hidden = NULL, *probs = NULL;
    int rc = model_take_labels(m, ds, remap);
    if (rc == SB_OK) rc = model_take_rows(m, ds);
    if (rc == SB_OK) rc = classifier_index_build(m);
    size_t dim = m->params.dim;
    if (rc == SB_OK) {
        m->input = sb_malloc(((size_t)m->rows * dim + 1) * sizeof(float));
        rowfeats = sb_malloc((ds->feats_len ? ds->feats_len : 1) * sizeof *rowfeats);
        order = sb_malloc(ds->n * sizeof *order);
        labels = sb_malloc(ds->n * ds->head_count * sizeof *labels);
        grad = sb_malloc(dim * sizeof *grad);
        hidden = sb_malloc(dim * sizeof *hidden);
        probs = sb_malloc(SB_TEXT_MODEL_LABELS_MAX * sizeof *probs);
        if (!m->input || !rowfeats || !order || !labels || !grad || !hidden || !probs) rc = SB_ENOMEM;
        for (size_t h = 0; rc == SB_OK && h < m->head_count; h++) {
            m->output[h] = sb_calloc((size_t)m->label_count[h] * dim, sizeof(float));
            if (!m->output[h]) rc = SB_ENOMEM;
        }
    }
    if (rc == SB_OK) {
        for (uint32_t r = 0; r < m->rows; r++) init_row(m->input + (size_t)r * dim, dim, m->params.seed, m->row_bucket[r]);
        for (size_t i = 0; i < ds->feats_len; i++) {
            rowfeats[i] = classifier_index_find(m, ds->feats[i]);
            SB_ASSERT(rowfeats[i] != TEXT_ROW_NONE);
        }
        for (size_t i = 0; i < ds->n * ds->head_count; i++) {
            int32_t l = ds->labels[i];
            labels[i] = l < 0 ? -1 : (int32_t)remap[i % ds->head_count][l];
        }
        for (size_t i = 0; i < ds->n; i++) order[i] = (uint32_t)i;

        uint64_t rng = m->params.seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
        double total = (double)m->params.epochs * (double)ds->n;
        double step = 0.0;
        double loss_sum = 0.0;
        uint64_t loss_count = 0;
        for (uint32_t epoch = 0; epoch < m->params.epochs; epoch++) {
            for (size_t i = ds->n; i > 1; i--) { /* Fisher-Yates */
                size_t j = (size_t)(splitmix64(&rng) % i);
                uint32_t t = order[i - 1];
                order[i - 1] = order[j];
                order[j] = t;
            }
            bool last = epoch + 1 == m->params.epochs;
            for (size_t k = 0; k < ds->n; k++, step += 1.0) {
                size_t ex = order[k];
                const uint32_t *f = rowfeats + ds->offsets[ex];
                size_t nf = ds->offsets[ex + 1] - ds->offsets[ex];
                if (nf == 0) continue;
                float lr = (float)(m->params.lr * (1.0 - step / total));
                memset(hidden, 0, dim * sizeof *hidden);
                for (size_t i = 0; i < nf; i++) vec_add(hidden, m->input + (size_t)f[i] * dim, dim);
                float inv = 1.0f / (float)nf;
                for (size_t d = 0; d < dim; d++) hidden[d] *= inv;
                memset(grad, 0, dim * sizeof *grad);
                for (size_t h = 0; h < m->head_count; h++) {
                    int32_t y = labels[ex * ds->head_count + h];
                    if (y < 0) continue;
                    head_softmax(m, h, hidden, probs);
                    if (last) {
                        loss_sum -= log(probs[y] > 1e-10f ? (double)probs[y] : 1e-10);
                        loss_count++;
                    }
                    float *w = m->output[h];
                    for (uint32_t j = 0; j < m->label_count[h]; j++) {
                        float alpha = lr * ((j == (uint32_t)y ? 1.0f : 0.0f) - probs[j]);
                        vec_axpy(grad, alpha, w + (size_t)j * dim, dim);
                        vec_axpy(w + (size_t)j * dim, alpha, hidden, dim);
                    }
                }
                for (size_t d = 0; d < dim; d++) grad[d] *= inv;
                for (size_t i = 0; i < nf; i++) vec_add(m->input + (size_t)f[i] * dim, grad, dim);
            }
        }
        if (loss_out) *loss_out = loss_count ? loss_sum / (double)loss_count : 0.0;
    }
    for (size_t h = 0; h < SB_TEXT_MODEL_HEADS_MAX; h++) sb_free(remap[h]);
    sb_free(rowfeats);
    sb_free(order);
    sb_free(labels);
    sb_free(grad);
    sb_free(hidden);
    sb_free(probs);
    if (rc != SB_OK) {
        text_model_free(m);
        return rc;
    }
    /* A model stored as float16 predicts exactly as it will after loading. */
    if (m->params.float16) {
        for (size_t i = 0; i < (size_t)m->rows * dim; i++)
            m->input[i] = classifier_half_to_float(classifier_float_to_half(m->input[i]));
        for (size_t h = 0; h < m->head_count; h++)
            for (size_t i = 0; i < (size_t)m->label_count[h] * dim; i++)
                m->output[h][i] = classifier_half_to_float(classifier_float_to_half(m->output[h][i]));
    }
    *out = m;
    return SB_OK;
}
