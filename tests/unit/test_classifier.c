/*
 * test_classifier.c - the text classifier: features, training on small
 * corpora whose result is checked, determinism, the model file (round trip,
 * truncated, damaged, foreign, wrong version, absurd sizes), float16, and
 * the train/eval/classify commands on hostile input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/core.h"
#include "text/classifier_int.h"
#include "text/text.h"

/* ---- helpers ------------------------------------------------------------ */

static uint64_t rng_state;
static uint32_t rng_next(uint32_t upper) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)((rng_state >> 33) % upper);
}

static void add_text(text_dataset *ds, const char *raw, const char *const *labels) {
    sb_buf norm;
    sb_buf_init(&norm, SB_TEXT_NORMALIZED_BYTES_MAX);
    assert_int_equal(text_normalize(raw, strlen(raw), &norm), SB_OK);
    assert_int_equal(text_dataset_add(ds, norm.data, norm.len, labels), SB_OK);
    sb_buf_free(&norm);
}

static text_prediction predict_raw(const text_model *m, const char *raw, size_t head) {
    sb_buf norm;
    sb_buf_init(&norm, SB_TEXT_NORMALIZED_BYTES_MAX);
    assert_int_equal(text_normalize(raw, strlen(raw), &norm), SB_OK);
    text_prediction out[SB_TEXT_MODEL_HEADS_MAX];
    assert_int_equal(text_model_predict(m, norm.data, norm.len, out), SB_OK);
    sb_buf_free(&norm);
    return out[head];
}

/* A two-head toy corpus: sentiment from one word, topic from another, in
 * four languages; some examples lack one head's label. */
static const struct {
    const char *text, *sentiment, *topic;
} toy[] = {
    {"the card is great", "positive", "cards"},
    {"the card is awful", "negative", "cards"},
    {"my transfer is great", "positive", "transfers"},
    {"my transfer is awful", "negative", "transfers"},
    {"карта отличная", "positive", "cards"},
    {"карта ужасная", "negative", "cards"},
    {"перевод отличный", "positive", "transfers"},
    {"переказ жахливий", "negative", "transfers"},
    {"کارت عالی است", "positive", "cards"},
    {"کارت افتضاح است", "negative", "cards"},
    {"انتقال عالی بود", "positive", "transfers"},
    {"انتقال افتضاح بود", "negative", "transfers"},
    {"the fee is awful", "negative", NULL},
    {"the fee is great", NULL, "fees"},
    {"комісія жахлива", NULL, "fees"},
};

static text_model *train_toy(uint64_t seed, bool float16) {
    text_train_params p;
    text_train_params_default(&p);
    p.dim = 16;
    p.buckets = 1u << 16;
    p.epochs = 60;
    p.seed = seed;
    p.float16 = float16;
    const char *heads[] = {"sentiment", "topic"};
    text_dataset *ds;
    assert_int_equal(text_dataset_create(&p, heads, 2, &ds), SB_OK);
    for (size_t i = 0; i < SB_ARRAY_LEN(toy); i++) {
        const char *labels[] = {toy[i].sentiment, toy[i].topic};
        add_text(ds, toy[i].text, labels);
    }
    assert_int_equal(text_dataset_size(ds), SB_ARRAY_LEN(toy));
    assert_int_equal(text_dataset_label_count(ds, 0), 2);
    assert_int_equal(text_dataset_label_count(ds, 1), 3);
    text_model *m;
    double loss = -1;
    assert_int_equal(text_model_train(ds, &m, &loss), SB_OK);
    assert_true(loss >= 0.0 && loss < 0.2);
    text_dataset_free(ds);
    return m;
}

static void serialize(const text_model *m, sb_buf *out) {
    sb_buf_init(out, SB_TEXT_MODEL_BYTES_MAX);
    assert_int_equal(text_model_serialize(m, out), SB_OK);
}

/* ---- features ------------------------------------------------------------ */

static void test_features(void **state) {
    (void)state;
    text_train_params p;
    text_train_params_default(&p);
    uint32_t f[64];
    p.word_ngrams = 1;
    assert_int_equal(classifier_features(&p, "a b c", 5, f, 64), 3);
    p.word_ngrams = 2;
    assert_int_equal(classifier_features(&p, "a b c", 5, f, 64), 5); /* 3 words + 2 pairs */
    assert_int_equal(classifier_features(&p, "", 0, f, 64), 0);
    assert_int_equal(classifier_features(&p, "a b c", 5, f, 2), 2); /* bounded */
    /* the same word hashes the same wherever it is; a pair is not its words */
    uint32_t g[64];
    assert_int_equal(classifier_features(&p, "c b", 3, g, 64), 3);
    assert_int_equal(f[0], classifier_features(&p, "a", 1, g, 64) == 1 ? g[0] : 0);
    assert_int_not_equal(f[2], f[0]);
    /* character n-grams of "<ab>" (4 code points), lengths 3..5: "<ab", "ab>";
     * the whole "<ab>" is left to the word */
    p.word_ngrams = 1;
    p.char_ngram_min = 3;
    p.char_ngram_max = 5;
    assert_int_equal(classifier_features(&p, "ab", 2, f, 64), 3);
    /* code points, not bytes: "мир" is 5 code points with the markers:
     * 3 of length 3, 2 of length 4, 0 of length 5 (the whole word) */
    assert_int_equal(classifier_features(&p, "мир", strlen("мир"), f, 64), 1 + 3 + 2);
    for (size_t i = 0; i < 6; i++) assert_true(f[i] < p.buckets);
}

static void test_params_check(void **state) {
    (void)state;
    text_train_params p;
    char err[TEXT_ERROR_BYTES];
    text_train_params_default(&p);
    assert_int_equal(text_train_params_check(&p, err), SB_OK);
    p.dim = 0;
    assert_int_equal(text_train_params_check(&p, err), SB_EINVAL);
    assert_non_null(strstr(err, "dim"));
    text_train_params_default(&p);
    p.char_ngram_min = 4;
    p.char_ngram_max = 3;
    assert_int_equal(text_train_params_check(&p, err), SB_EINVAL);
    text_train_params_default(&p);
    p.lr = 0;
    assert_int_equal(text_train_params_check(&p, err), SB_EINVAL);
    text_train_params_default(&p);
    p.word_ngrams = 3;
    assert_int_equal(text_train_params_check(&p, err), SB_EINVAL);
}

static void test_dataset_rejects(void **state) {
    (void)state;
    text_train_params p;
    text_train_params_default(&p);
    text_dataset *ds;
    const char *dup[] = {"a", "a"};
    assert_int_equal(text_dataset_create(&p, dup, 2, &ds), SB_EINVAL);
    const char *heads[] = {"sentiment", "topic"};
    assert_int_equal(text_dataset_create(&p, heads, 0, &ds), SB_EINVAL);
    assert_int_equal(text_dataset_create(&p, heads, 2, &ds), SB_OK);
    const char *none[] = {NULL, NULL};
    assert_int_equal(text_dataset_add(ds, "hello", 5, none), SB_EINVAL);
    const char *empty[] = {"", NULL};
    assert_int_equal(text_dataset_add(ds, "hello", 5, empty), SB_EINVAL);
    char long_label[SB_TEXT_LABEL_BYTES_MAX + 2];
    memset(long_label, 'x', sizeof long_label - 1);
    long_label[sizeof long_label - 1] = '\0';
    const char *too_long[] = {long_label, NULL};
    assert_int_equal(text_dataset_add(ds, "hello", 5, too_long), SB_EINVAL);
    const char *ok[] = {"positive", NULL};
    assert_int_equal(text_dataset_add(ds, "he\0llo", 6, ok), SB_EINVAL);
    assert_int_equal(text_dataset_size(ds), 0);
    /* a head never labelled cannot be trained */
    assert_int_equal(text_dataset_add(ds, "hello", 5, ok), SB_OK);
    text_model *m;
    assert_int_equal(text_model_train(ds, &m, NULL), SB_EINVAL);
    assert_null(m);
    text_dataset_free(ds);
}

/* ---- training ------------------------------------------------------------ */

static void test_toy_corpus_learned(void **state) {
    (void)state;
    text_model *m = train_toy(7, false);
    assert_int_equal(text_model_head_count(m), 2);
    assert_string_equal(text_model_head_name(m, 1), "topic");
    /* labels sorted bytewise */
    assert_string_equal(text_model_label_name(m, 1, 0), "cards");
    assert_string_equal(text_model_label_name(m, 1, 1), "fees");
    assert_string_equal(text_model_label_name(m, 1, 2), "transfers");
    assert_int_equal(text_model_label_find(m, 0, "positive"), 1);
    assert_int_equal(text_model_label_find(m, 0, "neutral"), -1);
    assert_int_equal(text_model_head_find(m, "kind"), -1);
    /* every training example right, in every head it has a label for */
    for (size_t i = 0; i < SB_ARRAY_LEN(toy); i++) {
        if (toy[i].sentiment) {
            text_prediction p = predict_raw(m, toy[i].text, 0);
            assert_string_equal(text_model_label_name(m, 0, p.label), toy[i].sentiment);
            assert_true(p.p > 0.5f && p.p <= 1.0f);
        }
        if (toy[i].topic) {
            text_prediction p = predict_raw(m, toy[i].text, 1);
            assert_string_equal(text_model_label_name(m, 1, p.label), toy[i].topic);
        }
    }
    /* unseen combinations: the words carry over */
    assert_string_equal(text_model_label_name(m, 0, predict_raw(m, "the transfer was awful", 0).label), "negative");
    assert_string_equal(text_model_label_name(m, 1, predict_raw(m, "Transfer!!", 1).label), "transfers");
    /* no known feature: the uniform distribution */
    text_prediction u = predict_raw(m, "zzzz qqqq", 1);
    assert_int_equal(u.label, 0);
    assert_float_equal(u.p, 1.0f / 3.0f, 1e-6);
    float probs[3];
    assert_int_equal(text_model_predict_head(m, "card", 4, 1, probs), SB_OK);
    assert_float_equal(probs[0] + probs[1] + probs[2], 1.0f, 1e-5);
    assert_true(probs[0] > probs[1] && probs[0] > probs[2]);
    assert_int_equal(text_model_predict_head(m, "card", 4, 2, probs), SB_EINVAL);
    text_model_free(m);
}

/* Held out: 4 classes, each text one of its class's 6 keywords among 5
 * noise words drawn from 200 shared ones.  The Bayes rate is 100% (the
 * keyword decides) and every keyword occurs in training many times, so a
 * linear bag-of-words model must reach it up to rare noise collisions; 95%
 * leaves room for those and for hash collisions of 2^14 buckets. */
static void make_synthetic(char *out, size_t cap, uint32_t cls) {
    size_t pos = 0;
    uint32_t key_at = rng_next(6);
    for (uint32_t w = 0; w < 6; w++) {
        int n = w == key_at ? snprintf(out + pos, cap - pos, "%skey%u_%u", pos ? " " : "", cls, rng_next(6))
                            : snprintf(out + pos, cap - pos, "%snoise%u", pos ? " " : "", rng_next(200));
        pos += (size_t)n;
    }
}

static void test_held_out_synthetic(void **state) {
    (void)state;
    text_train_params p;
    text_train_params_default(&p);
    p.dim = 16;
    p.buckets = 1u << 14;
    p.epochs = 10;
    const char *heads[] = {"label"};
    text_dataset *ds;
    assert_int_equal(text_dataset_create(&p, heads, 1, &ds), SB_OK);
    static const char *names[] = {"a", "b", "c", "d"};
    char text[256];
    rng_state = 42;
    for (int i = 0; i < 800; i++) {
        uint32_t cls = rng_next(4);
        make_synthetic(text, sizeof text, cls);
        const char *labels[] = {names[cls]};
        assert_int_equal(text_dataset_add(ds, text, strlen(text), labels), SB_OK);
    }
    text_model *m;
    assert_int_equal(text_model_train(ds, &m, NULL), SB_OK);
    int right = 0, n = 400;
    for (int i = 0; i < n; i++) {
        uint32_t cls = rng_next(4);
        make_synthetic(text, sizeof text, cls);
        text_prediction out[SB_TEXT_MODEL_HEADS_MAX];
        assert_int_equal(text_model_predict(m, text, strlen(text), out), SB_OK);
        if (strcmp(text_model_label_name(m, 0, out[0].label), names[cls]) == 0) right++;
    }
    printf("held-out synthetic accuracy %d/%d\n", right, n);
    assert_true(right >= n * 95 / 100);
    text_model_free(m);
    text_dataset_free(ds);
}

static void test_deterministic(void **state) {
    (void)state;
    text_model *a = train_toy(3, false), *b = train_toy(3, false), *c = train_toy(4, false);
    sb_buf sa, sb, sc;
    serialize(a, &sa);
    serialize(b, &sb);
    serialize(c, &sc);
    assert_int_equal(sa.len, sb.len);
    assert_memory_equal(sa.data, sb.data, sa.len);
    assert_int_equal(sa.len, sc.len);
    assert_memory_not_equal(sa.data, sc.data, sa.len);
    sb_buf_free(&sa);
    sb_buf_free(&sb);
    sb_buf_free(&sc);
    text_model_free(a);
    text_model_free(b);
    text_model_free(c);
}

/* ---- the model file ------------------------------------------------------ */

static void assert_same_predictions(const text_model *a, const text_model *b) {
    static const char *texts[] = {"the card is great", "переказ", "کارت عالی", "fee", "", "nothing known here"};
    for (size_t i = 0; i < SB_ARRAY_LEN(texts); i++) {
        for (size_t h = 0; h < text_model_head_count(a); h++) {
            text_prediction x = predict_raw(a, texts[i], h), y = predict_raw(b, texts[i], h);
            assert_int_equal(x.label, y.label);
            assert_memory_equal(&x.p, &y.p, sizeof x.p); /* bit for bit */
        }
    }
}

static void test_save_load_round_trip(void **state) {
    (void)state;
    for (int half = 0; half <= 1; half++) {
        text_model *m = train_toy(11, half);
        char dir[] = "/tmp/sb-classifier-XXXXXX";
        assert_non_null(mkdtemp(dir));
        char path[256];
        snprintf(path, sizeof path, "%s/m.sbm", dir);
        char err[TEXT_ERROR_BYTES];
        assert_int_equal(text_model_save(m, path, err), SB_OK);
        text_model *l;
        assert_int_equal(text_model_load(path, &l, err), SB_OK);
        assert_int_equal(text_model_params(l)->float16, half);
        assert_int_equal(text_model_params(l)->dim, 16);
        assert_int_equal(text_model_params(l)->seed, 11);
        assert_int_equal(text_model_row_count(l), text_model_row_count(m));
        assert_same_predictions(m, l);
        /* and it serialises back to the same bytes */
        sb_buf a, b;
        serialize(m, &a);
        serialize(l, &b);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
        sb_buf_free(&a);
        sb_buf_free(&b);
        text_model_free(l);
        assert_int_equal(text_model_load("/nonexistent/m.sbm", &l, err), SB_ENOTFOUND);
        assert_non_null(strstr(err, "/nonexistent/m.sbm"));
        unlink(path);
        rmdir(dir);
        text_model_free(m);
    }
}

static void test_float16_smaller(void **state) {
    (void)state;
    text_model *a = train_toy(5, false), *b = train_toy(5, true);
    sb_buf sa, sb;
    serialize(a, &sa);
    serialize(b, &sb);
    size_t weights = (text_model_row_count(a) + 2 + 3) * 16;
    assert_int_equal(sa.len - sb.len, weights * 2);
    /* rounding to half floats does not change what the toy model says */
    for (size_t i = 0; i < SB_ARRAY_LEN(toy); i++)
        if (toy[i].topic) assert_int_equal(predict_raw(a, toy[i].text, 1).label, predict_raw(b, toy[i].text, 1).label);
    sb_buf_free(&sa);
    sb_buf_free(&sb);
    text_model_free(a);
    text_model_free(b);
}

static void test_half_conversion(void **state) {
    (void)state;
    assert_int_equal(classifier_float_to_half(1.0f), 0x3C00);
    assert_int_equal(classifier_float_to_half(-2.0f), 0xC000);
    assert_int_equal(classifier_float_to_half(65504.0f), 0x7BFF);
    assert_int_equal(classifier_float_to_half(1e6f), 0x7C00);
    assert_int_equal(classifier_float_to_half(0.1f), 0x2E66);
    assert_int_equal(classifier_float_to_half(1e-9f), 0x0000);
    assert_int_equal(classifier_float_to_half(5.9604645e-8f), 0x0001); /* smallest subnormal */
    /* every finite half survives the round trip exactly */
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7C00) == 0x7C00) continue;
        assert_int_equal(classifier_float_to_half(classifier_half_to_float((uint16_t)h)), h);
    }
}

static void test_crc32c_vector(void **state) {
    (void)state;
    assert_int_equal(classifier_crc32c("123456789", 9), 0xE3069283u); /* the standard check value */
    assert_int_equal(classifier_crc32c("", 0), 0);
}

static int load_error(const void *data, size_t len, char err[TEXT_ERROR_BYTES]) {
    text_model *m = (text_model *)1;
    int rc = text_model_load_bytes(data, len, &m, err);
    if (rc == SB_OK) text_model_free(m);
    else assert_null(m);
    return rc;
}

/* Rewrite the checksum after an edit, as a hostile tool would. */
static void reseal(char *data, size_t len) {
    uint32_t crc = classifier_crc32c(data, len - 4);
    memcpy(data + len - 4, &crc, 4);
}

static void test_damaged_files(void **state) {
    (void)state;
    text_model *m = train_toy(9, false);
    sb_buf s;
    serialize(m, &s);
    text_model_free(m);
    char err[TEXT_ERROR_BYTES];
    char *copy = malloc(s.len);
    assert_int_equal(load_error(s.data, s.len, err), SB_OK);

    /* truncated anywhere */
    size_t cuts[] = {0, 1, 7, 8, 11, 12, 40, 60, s.len / 2, s.len - 5, s.len - 4, s.len - 1};
    for (size_t i = 0; i < SB_ARRAY_LEN(cuts); i++) {
        int rc = load_error(s.data, cuts[i], err);
        printf("cut at %zu: %s (%s)\n", cuts[i], sb_error_name(rc), err);
        assert_int_equal(rc, cuts[i] == 0 ? SB_EINVAL : SB_ECORRUPT);
        assert_true(strlen(err) > 0);
    }
    /* one flipped byte after the version: the checksum catches it */
    size_t flips[] = {12, 40, 56, 100, s.len / 2, s.len - 10, s.len - 1};
    for (size_t i = 0; i < SB_ARRAY_LEN(flips); i++) {
        memcpy(copy, s.data, s.len);
        copy[flips[i]] ^= 0x20;
        assert_int_equal(load_error(copy, s.len, err), SB_ECORRUPT);
        assert_non_null(strstr(err, "checksum"));
    }
    /* foreign file */
    memcpy(copy, s.data, s.len);
    memcpy(copy, "GIF89a..", 8);
    assert_int_equal(load_error(copy, s.len, err), SB_EINVAL);
    assert_non_null(strstr(err, "magic"));
    assert_int_equal(load_error("hello", 5, err), SB_EINVAL);
    /* another version */
    memcpy(copy, s.data, s.len);
    uint32_t v = TEXT_MODEL_FORMAT_VERSION + 1;
    memcpy(copy + 8, &v, 4);
    reseal(copy, s.len);
    assert_int_equal(load_error(copy, s.len, err), SB_EINVAL);
    assert_non_null(strstr(err, "version"));

    /* absurd sizes under a valid checksum: the content checks catch them */
    struct {
        size_t offset;
        uint32_t value;
        const char *why;
    } absurd[] = {
        {12, 1000000, "dim"},               /* dim */
        {12, 0, "dim"},                     /* dim 0 */
        {16, 0xFFFFFFFFu, "buckets"},       /* buckets */
        {28, 9, "character"},               /* char n-gram max */
        {48, 7, "weight type"},             /* weight type */
        {52, 1000, "heads"},                /* heads */
        {52, 0, "heads"},                   /* no head */
        {56 + 2 + 9, 0x7FFFFFFF, "label"},  /* label count of head "sentiment" */
        {56 + 2 + 9, 3, ""},                /* one label more than written */
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(absurd); i++) {
        memcpy(copy, s.data, s.len);
        memcpy(copy + absurd[i].offset, &absurd[i].value, 4);
        reseal(copy, s.len);
        int rc = load_error(copy, s.len, err);
        printf("absurd %zu: %s (%s)\n", i, sb_error_name(rc), err);
        assert_int_equal(rc, SB_ECORRUPT);
        assert_non_null(strstr(err, absurd[i].why));
    }
    /* rows: one more than the file holds */
    {
        memcpy(copy, s.data, s.len);
        /* find the row count: it follows the heads; recompute from the model layout */
        text_model *l;
        assert_int_equal(text_model_load_bytes(s.data, s.len, &l, err), SB_OK);
        size_t rows = text_model_row_count(l);
        size_t weights = (rows + 2 + 3) * 16 * 4;
        size_t rows_at = s.len - 4 - weights - rows * 4 - 4;
        uint32_t stored;
        memcpy(&stored, copy + rows_at, 4);
        assert_int_equal(stored, rows);
        uint32_t more = (uint32_t)rows + 1;
        memcpy(copy + rows_at, &more, 4);
        reseal(copy, s.len);
        assert_int_equal(load_error(copy, s.len, err), SB_ECORRUPT);
        assert_non_null(strstr(err, "sizes"));
        /* bucket ids out of order */
        memcpy(copy, s.data, s.len);
        uint32_t first;
        memcpy(&first, copy + rows_at + 4, 4);
        memcpy(copy + rows_at + 8, &first, 4);
        reseal(copy, s.len);
        assert_int_equal(load_error(copy, s.len, err), SB_ECORRUPT);
        assert_non_null(strstr(err, "increasing"));
        /* a NaN weight */
        memcpy(copy, s.data, s.len);
        uint32_t nan = 0x7FC00000u;
        memcpy(copy + s.len - 8, &nan, 4);
        reseal(copy, s.len);
        assert_int_equal(load_error(copy, s.len, err), SB_ECORRUPT);
        assert_non_null(strstr(err, "finite"));
        text_model_free(l);
    }
    free(copy);
    sb_buf_free(&s);
}

/* ---- the commands ---------------------------------------------------------- */

static const char *binary(void) {
    const char *b = getenv("SB_BINARY");
    return b && *b ? b : "./socialbank";
}

/* Run a shell command, capture stdout into out (cap bytes); return the exit status. */
static int run(const char *cmd, char *out, size_t cap) {
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void write_file(const char *path, const char *data, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void test_commands(void **state) {
    (void)state;
    char dir[] = "/tmp/sb-classifier-cli-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[512], cmd[2048];
    static char out[65536];
    /* TSV with bad rows: no tab, empty label, invalid UTF-8 */
    snprintf(path, sizeof path, "%s/train.tsv", dir);
    static const char tsv[] = "label\ttext\n"
                              "pos\tgreat service thank you\n"
                              "neg\tawful service never again\n"
                              "no tab here\n"
                              "\tempty label\n"
                              "neg\tbad \xff\xfe bytes\n"
                              "pos\tthank you so much great\n"
                              "neg\tnever again awful\n";
    write_file(path, tsv, sizeof tsv - 1);
    snprintf(cmd, sizeof cmd, "'%s' train --input '%s' --model '%s/m.sbm' --dim 8 --epochs 50 2>&1", binary(), path,
             dir);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    printf("%s", out);
    assert_non_null(strstr(out, "train.tsv:4: no tab"));
    assert_non_null(strstr(out, "train.tsv:5: empty"));
    assert_non_null(strstr(out, "train.tsv:6: text rejected: not valid UTF-8"));
    assert_non_null(strstr(out, "examples=4 bad_rows=3"));
    /* eval on the training file: all right, and the last line exact */
    snprintf(cmd, sizeof cmd, "'%s' eval --model '%s/m.sbm' --input '%s' 2>/dev/null | tail -n 1", binary(), dir, path);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    assert_string_equal(out, "eval: accuracy=1.0000 macro_f1=1.0000 n=4\n");
    /* eval by hand: one "neg" row the model calls "pos".  pos: P 2/3, R 1,
     * F1 0.8; neg: P 1, R 1/2, F1 2/3; macro 0.7333; accuracy 3/4. */
    snprintf(path, sizeof path, "%s/eval.tsv", dir);
    static const char eval_tsv[] = "label\ttext\r\n"
                                   "pos\tgreat service thank you\r\n"
                                   "pos\tthank you so much great\n"
                                   "neg\tawful service never again\n"
                                   "neg\tthank you great\n";
    write_file(path, eval_tsv, sizeof eval_tsv - 1);
    snprintf(cmd, sizeof cmd, "'%s' eval --model '%s/m.sbm' --input '%s'", binary(), dir, path);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    printf("%s", out);
    assert_non_null(strstr(out, "  neg                                         1.0000    0.5000    0.6667        2\n"));
    assert_non_null(strstr(out, "  pos                                         0.6667    1.0000    0.8000        2\n"));
    assert_non_null(strstr(out, "     0    1    1\n"));
    assert_non_null(strstr(out, "     1    0    2\n"));
    assert_non_null(strstr(out, "\neval: accuracy=0.7500 macro_f1=0.7333 n=4\n"));
    /* classify: plain, JSONL with id, empty, invalid UTF-8, bad JSON, huge */
    snprintf(path, sizeof path, "%s/in.txt", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("great service\n{\"id\":7,\"text\":\"awful, never again\"}\n\n\xc3\x28\n{\"text\":5}\n", f);
    for (int i = 0; i < 70000; i++) fputc('a', f);
    fputs("\nthank you\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "'%s' classify --model '%s/m.sbm' < '%s'", binary(), dir, path);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    printf("%s", out);
    char *line = out;
    const char *expect[] = {"\"label\":{\"label\":\"pos\"", "{\"id\":7,\"lang\":\"en\",\"label\":{\"label\":\"neg\"",
                            "{\"error\":\"empty\"}", "{\"error\":\"invalid_utf8\"}", "{\"error\":\"bad_json\"}",
                            "{\"error\":\"too_long\"}", "\"label\":{\"label\":\"pos\""};
    for (size_t i = 0; i < SB_ARRAY_LEN(expect); i++) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = '\0';
        if (!strstr(line, expect[i])) fail_msg("line %zu: '%s' lacks '%s'", i + 1, line, expect[i]);
        line = nl + 1;
    }
    assert_string_equal(line, "");
    /* a damaged model is a clear error */
    snprintf(cmd, sizeof cmd, "printf 'SBTXTCLF\\001\\000\\000\\000xxxxxxxxxxxx' > '%s/bad.sbm' && echo hi | '%s' classify --model '%s/bad.sbm' 2>&1",
             dir, binary(), dir);
    assert_int_equal(run(cmd, out, sizeof out), 1);
    assert_non_null(strstr(out, "corrupt"));
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_features),
        cmocka_unit_test(test_params_check),
        cmocka_unit_test(test_dataset_rejects),
        cmocka_unit_test(test_toy_corpus_learned),
        cmocka_unit_test(test_held_out_synthetic),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_save_load_round_trip),
        cmocka_unit_test(test_float16_smaller),
        cmocka_unit_test(test_half_conversion),
        cmocka_unit_test(test_crc32c_vector),
        cmocka_unit_test(test_damaged_files),
        cmocka_unit_test(test_commands),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
