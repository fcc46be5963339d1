/*
 * text.h - the text engine: what customers write, in Persian, Ukrainian,
 * Russian and English.
 *
 * Two owners share this one public header, each in its own section:
 *   - textcore: normalisation, tokenisation, language identification and
 *     signals (text_normalize.c, text_langid.c, text_signals.c);
 *   - classifier: the linear classifier, its model format, train/eval/classify
 *     (classifier*.c, model*.c), declared in the section at the end.
 *
 * Everything here is pure computation on caller-owned memory: no global
 * state, safe to call from any number of threads at once.  Input is UTF-8
 * and hostile: every function bounds its input (limits in core/limits.h,
 * section "text") and returns SB_EINVAL or SB_ELIMIT instead of guessing.
 */
#ifndef SB_TEXT_H
#define SB_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

/* ======================================================================
 * textcore section: normalisation, tokens, language, signals
 * ====================================================================== */

/* ---- normalisation ---------------------------------------------------- */
/* Normalise `in` (len bytes of UTF-8, need not be NUL-terminated) into
 * lowercase tokens separated by single ASCII spaces, nothing else: no
 * leading or trailing space, never two spaces in a row.
 *
 * What it does, in one pass over the code points after NFKC + case folding
 * (utf8proc):
 *   - Persian: Arabic yeh (U+064A, U+0649) -> Persian yeh U+06CC, Arabic kaf
 *     U+0643 -> Persian kaf U+06A9, heh goal U+06C1 -> heh U+0647; tatweel
 *     U+0640 and harakat (U+064B..U+0652, U+0656..U+065F, U+0670, Quranic
 *     marks U+06D6..U+06ED) removed; maddah and hamza are kept (آ أ stay).
 *     The zero-width non-joiner U+200C between two letters stays inside the
 *     token (می‌خواهم is one token); anywhere else it is dropped.
 *   - Persian (U+06F0..) and Arabic-Indic (U+0660..) digits become ASCII.
 *   - Cyrillic: case folding, ё -> е; the apostrophes ’ ʼ ' ` ‘ ′ are
 *     unified to ASCII ' and kept only between two letters (м'ясо).
 *   - Latin: case folding.
 *   - Special tokens:  <url> (http://, https://, www., and word.com/.ir/
 *     .ua/.ru/... without a scheme), <mention> (@name at the start of a
 *     token; '@' inside a word is punctuation, emails are not special),
 *     #tag (the tag text normalised, '_' kept), <num> (a run of digits with
 *     inner . , / : and Arabic separators; a number glued to letters is split
 *     from them: "100هزار" -> "<num> هزار"), emoji (each emoji its own token,
 *     skin tones and variation selectors dropped, ZWJ sequences and flags kept
 *     whole), emoticons -> <emo_pos> (:) :-) :D ;) =) xD <3 and ")))" runs)
 *     or <emo_neg> (:( :-( :'( :/ </3 and "(((" runs).
 *   - Punctuation: '?' (also ؟ ¿) and '!' (also ¡) are kept as tokens, a run
 *     of the same mark collapsed to one; currency signs ($ € ₽ ₴ ...; ﷼ is
 *     the word ریال under NFKC) and '%' are tokens of their own; all other
 *     punctuation and symbols split tokens and are dropped.  Hyphens split
 *     tokens.  The markers above typed literally stay markers, so
 *     normalising normalised text changes nothing.
 *   - A token longer than SB_TEXT_TOKEN_BYTES_MAX bytes is cut at a code point
 *     boundary; the rest of that word is skipped.
 * Errors: SB_EINVAL if `in` is not valid UTF-8 (invalid input is rejected,
 * never repaired), SB_ELIMIT if len > SB_TEXT_INPUT_BYTES_MAX or the result
 * would exceed out->max, SB_ENOMEM.  On error `out` has been freed (sb_buf
 * convention).  out is reset first, then filled; out->len == 0 means "no
 * tokens" (out->data may be NULL then).  The caller owns `out` and may reuse
 * it across calls (no allocation once it has grown).  An out->max of
 * SB_TEXT_NORMALIZED_BYTES_MAX is always enough. */
int text_normalize(const char *in, size_t len, sb_buf *out) SB_MUST_CHECK;

/* ---- tokens ----------------------------------------------------------- */
/* Iterate over the tokens of normalised text (split on single spaces).
 *   text_token_iter it; text_token_iter_init(&it, buf.data, buf.len);
 *   const char *tok; size_t tok_len;
 *   while (text_token_next(&it, &tok, &tok_len)) ...
 * Tokens point into the caller's text (no allocation, no copy). */
typedef struct {
    const char *pos;
    const char *end;
} text_token_iter;
void text_token_iter_init(text_token_iter *it, const char *normalised, size_t len);
/* The next token, or false at the end.  Empty tokens (from stray spaces in
 * text that was not produced by text_normalize) are skipped. */
bool text_token_next(text_token_iter *it, const char **tok, size_t *tok_len);

/* ---- language identification ------------------------------------------ */
typedef enum {
    TEXT_LANG_OTHER = 0,
    TEXT_LANG_FA = 1, /* Persian */
    TEXT_LANG_AR = 2, /* Arabic */
    TEXT_LANG_UK = 3, /* Ukrainian */
    TEXT_LANG_RU = 4, /* Russian */
    TEXT_LANG_EN = 5, /* English */
} text_lang;
#define TEXT_LANG_COUNT 6
/* The ISO 639-1 code ("fa", "ar", "uk", "ru", "en") or "other" (static). */
const char *text_lang_code(text_lang lang);
/* Parse a code as given by text_lang_code; SB_EINVAL otherwise. */
int text_lang_parse(const char *code, text_lang *out) SB_MUST_CHECK;

/* Identify the language of raw (not normalised) UTF-8 text: Persian,
 * Arabic, Ukrainian, Russian, English or other.  Works on a single sentence:
 * the script decides the family, then letters unique to one language
 * (پ چ ژ گ vs ة أ إ; і ї є ґ vs ы э ъ ё), frequent function words and
 * weighted word endings decide within it; links and @mentions are skipped.
 * Persian written in Latin letters ("kheili khoob") is fa.  Text without letters
 * (emoji, digits) is "other" with low confidence.  Only the first
 * SB_TEXT_LANGID_BYTES_MAX bytes are read (more adds nothing); a code point
 * cut at that boundary is ignored.
 * *confidence_permille (may be NULL) gets 0..1000.
 * Errors: SB_EINVAL if the text (the part read) is not valid UTF-8. */
int text_langid(const char *text, size_t len, text_lang *out, int *confidence_permille) SB_MUST_CHECK;
/* The naive baseline the benchmark compares against: majority Unicode block
 * of the letters (Arabic block -> fa, Cyrillic -> ru, Latin -> en, none or
 * other -> other).  Same errors as text_langid. */
int text_langid_script_only(const char *text, size_t len, text_lang *out) SB_MUST_CHECK;

/* ---- signals ---------------------------------------------------------- */
/* What a text says beyond the classifier's heads, each with the words that
 * triggered it.  Matched on normalised text (text_normalize output) against
 * lexicons compiled into the binary (C tables in src/text/text_signals.c), in Persian,
 * Ukrainian, Russian and English: words, stems/prefixes for Persian suffixes
 * and Cyrillic endings, multi-word phrases; a signal preceded by a negation
 * within two tokens ("not", "не", "нет", "نه" ...) does not fire. */
typedef enum {
    TEXT_SIGNAL_RISK = 0,       /* urgent: a person should look now */
    TEXT_SIGNAL_LIFE_EVENT = 1, /* an occasion for an offer */
    TEXT_SIGNAL_COMPETITOR = 2, /* another bank is named */
} text_signal_kind;

typedef enum {
    TEXT_RISK_FRAUD = 0,      /* card misuse, fraud, stolen money */
    TEXT_RISK_CHURN = 1,      /* threat to leave the bank */
    TEXT_RISK_LEGAL = 2,      /* threat to sue or complain to the regulator */
    TEXT_RISK_INSOLVENCY = 3, /* rumour of insolvency or a run on the bank */
} text_risk;
#define TEXT_RISK_COUNT 4

typedef enum {
    TEXT_LIFE_CHILD = 0,   /* new child   -> child savings */
    TEXT_LIFE_TRAVEL = 1,  /* abroad      -> travel insurance + FX card */
    TEXT_LIFE_WEDDING = 2, /* wedding     -> wedding loan */
    TEXT_LIFE_HOME = 3,    /* new home    -> mortgage / home loan */
    TEXT_LIFE_JOB = 4,     /* new job     -> salary account / credit card */
    TEXT_LIFE_STUDY = 5,   /* studies     -> student loan / education savings */
} text_life_event;
#define TEXT_LIFE_COUNT 6

/* One fired signal.  `code` is a text_risk, a text_life_event, or for a
 * competitor the index of the bank in the competitor table (its name via
 * text_signal_name).  `trigger` is the matched token(s) copied from the
 * normalised text (NUL-terminated, cut to fit). */
#define TEXT_SIGNAL_TRIGGER_BYTES 96
typedef struct {
    text_signal_kind kind;
    int code;
    char trigger[TEXT_SIGNAL_TRIGGER_BYTES];
} text_signal;

/* Bounded result: at most SB_TEXT_SIGNALS_MAX signals, each (kind, code)
 * reported once with its first trigger. `truncated` is set when more fired. */
typedef struct {
    size_t count;
    bool truncated;
    text_signal items[SB_TEXT_SIGNALS_MAX];
} text_signals_result;

/* Find the signals in `normalised` (len bytes, text_normalize output; other
 * text works but matches less).  Fills *out (count 0 if none).
 * Errors: SB_ELIMIT if len > SB_TEXT_NORMALIZED_BYTES_MAX, SB_EINVAL if
 * normalised is NULL with len > 0. */
int text_signals(const char *normalised, size_t len, text_signals_result *out) SB_MUST_CHECK;
/* Stable name of a signal, in the project's label vocabulary (the starter
 * corpus, listening): "card_misuse", "threat_leave", "threat_sue",
 * "insolvency_rumour"; "new_child", "travel_abroad", "wedding", "new_home",
 * "new_job", "studies"; or the competitor
 * bank's canonical name ("Tinkoff", "Bank Melli" ...).  Static string;
 * "unknown" for out-of-range codes. */
const char *text_signal_name(text_signal_kind kind, int code);
/* The offer category a life event suggests ("child_savings",
 * "travel_insurance_fx_card", "wedding_loan", "mortgage", "salary_account_credit_card",
 * "student_loan_education_savings"), "unknown" otherwise.  Static string. */
const char *text_life_event_offer(text_life_event event);
/* "risk", "life_event", "competitor". Static string. */
const char *text_signal_kind_name(text_signal_kind kind);

/* ======================================================================
 * classifier section (owned by the classifier engineer)
 * ====================================================================== */

/* A supervised linear classifier of the fastText family (classifier.c,
 * model_io.c).  Features of a normalised text are hashed into `buckets`:
 * word unigrams, word bigrams (word_ngrams = 2) and optionally character
 * n-grams of each word with boundary markers ("<word>", lengths
 * char_ngram_min..char_ngram_max).  The text's vector is the average of the
 * embedding rows of its features (dim floats each); each head is a softmax
 * layer over that vector.  All heads share the embeddings and are trained
 * together by SGD with a linearly decaying learning rate, single-threaded,
 * so a seed determines the model byte for byte.  Only rows of features seen
 * in training are kept: a feature unknown to the model is ignored. */

typedef struct {
    uint32_t dim;            /* embedding size, 1..SB_TEXT_MODEL_DIM_MAX */
    uint32_t buckets;        /* hash space of features, 1..SB_TEXT_MODEL_BUCKETS_MAX */
    uint32_t epochs;         /* passes over the data, 1..SB_TEXT_TRAIN_EPOCHS_MAX */
    uint32_t word_ngrams;    /* 1 (unigrams) or 2 (unigrams + bigrams) */
    uint32_t char_ngram_min; /* 0 = no character n-grams; else 1..char_ngram_max */
    uint32_t char_ngram_max; /* at most SB_TEXT_CHAR_NGRAM_MAX */
    uint64_t seed;           /* initialisation and shuffling */
    float lr;                /* initial learning rate, (0, 10] */
    bool float16;            /* store weights as IEEE half floats (half the file) */
} text_train_params;

/* Defaults: dim 64, buckets 2^21, epochs 25, word bigrams, no character
 * n-grams, seed 1, lr 0.5, float32 weights. */
void text_train_params_default(text_train_params *p);
/* SB_EINVAL (with a sentence in err, TEXT_ERROR_BYTES) if a field is out of range. */
#define TEXT_ERROR_BYTES 256
int text_train_params_check(const text_train_params *p, char err[TEXT_ERROR_BYTES]) SB_MUST_CHECK;

/* ---- training data ---- */
/* Labelled examples for up to SB_TEXT_MODEL_HEADS_MAX heads.  Each example
 * has a label (or none) per head; the label set of a head is whatever the
 * examples name, sorted bytewise when the model is trained. */
typedef struct text_dataset text_dataset;
/* Create an empty dataset for the heads named (1..SB_TEXT_MODEL_HEADS_MAX
 * names, each 1..SB_TEXT_LABEL_BYTES_MAX bytes, distinct) with the feature
 * parameters of p (copied).  Errors: SB_EINVAL, SB_ENOMEM.  Caller frees
 * with text_dataset_free. */
int text_dataset_create(const text_train_params *p, const char *const *head_names, size_t head_count,
                        text_dataset **out) SB_MUST_CHECK;
/* Add one example: `normalised` (text_normalize output, len bytes) and
 * labels[head] (NUL-terminated, or NULL when the head has no label for this
 * example; a head without a label is skipped for the example).
 * Errors: SB_EINVAL (no label at all, empty or too long label, NUL in the
 * text), SB_ELIMIT (SB_TEXT_TRAIN_EXAMPLES_MAX, SB_TEXT_MODEL_LABELS_MAX
 * labels in a head, SB_TEXT_TRAIN_FEATURES_MAX features in all), SB_ENOMEM.
 * On error the dataset is unchanged.  An example whose text has no token is
 * kept (it counts, but teaches nothing). */
int text_dataset_add(text_dataset *ds, const char *normalised, size_t len, const char *const *labels) SB_MUST_CHECK;
size_t text_dataset_size(const text_dataset *ds);
/* Distinct labels seen so far for a head (0 for a head out of range). */
size_t text_dataset_label_count(const text_dataset *ds, size_t head);
void text_dataset_free(text_dataset *ds);

/* ---- the model ---- */
typedef struct text_model text_model;

/* Train a model on ds (which stays the caller's).  *loss_out (may be NULL)
 * gets the mean cross-entropy per labelled head over the last epoch.
 * Errors: SB_EINVAL (no example, or a head with no label at all),
 * SB_ELIMIT (the model would exceed SB_TEXT_MODEL_BYTES_MAX), SB_ENOMEM.
 * Caller frees *out with text_model_free. */
int text_model_train(const text_dataset *ds, text_model **out, double *loss_out) SB_MUST_CHECK;
void text_model_free(text_model *m);

const text_train_params *text_model_params(const text_model *m);
size_t text_model_head_count(const text_model *m);
/* Names are owned by the model (valid until text_model_free). */
const char *text_model_head_name(const text_model *m, size_t head);
size_t text_model_label_count(const text_model *m, size_t head);
const char *text_model_label_name(const text_model *m, size_t head, size_t label);
/* Index of the head / label with that name, or -1. */
int text_model_head_find(const text_model *m, const char *name);
int text_model_label_find(const text_model *m, size_t head, const char *name);
/* Embedding rows kept (features seen in training). */
size_t text_model_row_count(const text_model *m);

/* One head's answer: the most probable label and its probability. */
typedef struct {
    uint32_t label;
    float p;
} text_prediction;

/* Predict every head for `normalised` (text_normalize output, len bytes):
 * out[h] for h < text_model_head_count(m).  A text with no known feature
 * gets the uniform distribution (label 0, p = 1/labels).  Reads the model
 * only: any number of threads may predict with one model at once.  Uses
 * about 150 KiB of stack (the features of one text, bounded by
 * SB_TEXT_FEATURES_PER_TEXT_MAX) and no heap.
 * Errors: SB_EINVAL if normalised is NULL with len > 0, SB_ELIMIT if
 * len > SB_TEXT_NORMALIZED_BYTES_MAX. */
int text_model_predict(const text_model *m, const char *normalised, size_t len,
                       text_prediction out[SB_TEXT_MODEL_HEADS_MAX]) SB_MUST_CHECK;
/* The full distribution of one head: probs[0..label_count) (caller's array
 * of text_model_label_count(m, head) floats).  Same errors, and SB_EINVAL
 * for a head out of range. */
int text_model_predict_head(const text_model *m, const char *normalised, size_t len, size_t head,
                            float *probs) SB_MUST_CHECK;

/* ---- the model file (model_io.c) ---- */
/* Layout, little-endian: magic "SBTXTCLF", u32 format version
 * (TEXT_MODEL_FORMAT_VERSION), the parameters, u32 weight type (0 float32,
 * 1 float16), heads (u32 count; each: u16 name length + name, u32 label
 * count, each label u16 length + bytes), u32 rows, the rows' bucket ids
 * (u32, strictly increasing), the embedding rows (rows x dim), each head's
 * output layer (labels x dim), and last a CRC-32C of every byte before it. */
#define TEXT_MODEL_MAGIC "SBTXTCLF"
#define TEXT_MODEL_FORMAT_VERSION 1u
/* Serialise m into out (reset first; out->max must allow the size). */
int text_model_serialize(const text_model *m, sb_buf *out) SB_MUST_CHECK;
/* Write m to path atomically (a temporary file in the same directory,
 * fsync'd, then renamed): the path holds the old file or the whole new one.
 * Errors: SB_EIO (message in err), SB_ELIMIT, SB_ENOMEM. */
int text_model_save(const text_model *m, const char *path, char err[TEXT_ERROR_BYTES]) SB_MUST_CHECK;
/* Parse a model from len bytes (copied; data stays the caller's).  Every
 * size is checked against the limits and the bytes left before anything is
 * allocated.  Errors, with a sentence in err:
 *   SB_EINVAL   not a model file (magic), or a format version this binary
 *               does not read;
 *   SB_ECORRUPT truncated, checksum mismatch, or inconsistent content;
 *   SB_ELIMIT   a size beyond the limits; SB_ENOMEM.
 * Caller frees *out with text_model_free. */
int text_model_load_bytes(const void *data, size_t len, text_model **out, char err[TEXT_ERROR_BYTES]) SB_MUST_CHECK;
/* Read and parse the file at path (at most SB_TEXT_MODEL_BYTES_MAX bytes).
 * Same errors, plus SB_ENOTFOUND / SB_EIO when the file cannot be read. */
int text_model_load(const char *path, text_model **out, char err[TEXT_ERROR_BYTES]) SB_MUST_CHECK;

#endif /* SB_TEXT_H */
