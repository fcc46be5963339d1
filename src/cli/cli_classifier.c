/*
 * cli_classifier.c - `socialbank train`, `socialbank eval` and
 * `socialbank classify`: the classifier of the text module on files and
 * on stdin.
 *
 * Training and evaluation files are either TSV with the header
 * `label<TAB>text` (one head, the label set read from the file) or JSONL,
 * one object a line with "text" and one string field per head
 * ("sentiment", "kind", "topic"; a missing or null field means no label for
 * that head).  The format is told by the first line: '{' is JSONL.  A bad
 * row (no tab, empty label, invalid UTF-8, bad JSON, no label at all...) is
 * reported with its line number (the first SB_TEXT_TRAIN_BAD_ROWS_REPORTED
 * of them), skipped and counted.
 *
 * The default model of `classify`: --model, else $SOCIALBANK_MODEL, else
 * models/default.sbm next to the binary (where `make model` and the build
 * put it, trained from models/starter/).
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/core.h"
#include "text/text.h"

/* ---- lines -------------------------------------------------------------- */

/* The line every reader here fills with cli_read_line. */
static char line_buf[SB_CLI_LINE_BYTES_MAX + 1];

/* ---- labelled examples from a file -------------------------------------- */

typedef enum { FORMAT_TSV, FORMAT_JSONL } input_format;

typedef struct {
    const char *cmd;
    const char *path;
    FILE *f;
    input_format format;
    long line_no;
    size_t head_count;
    const char *heads[SB_TEXT_MODEL_HEADS_MAX]; /* JSONL field names; TSV: heads[0] gets the label */
    const char *labels[SB_TEXT_MODEL_HEADS_MAX];
    const char *raw; /* the example's text, as written */
    size_t raw_len;
    json_t *doc;
    sb_buf norm; /* the example's normalised text */
    long bad;
    int pending; /* the first line when it was an example (JSONL) */
} example_reader;

static void bad_row(example_reader *r, const char *fmt, ...) SB_PRINTF(2, 3);
static void bad_row(example_reader *r, const char *fmt, ...) {
    r->bad++;
    if (r->bad > SB_TEXT_TRAIN_BAD_ROWS_REPORTED) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "socialbank %s: %s:%ld: ", r->cmd, r->path, r->line_no);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "%s\n", r->bad == SB_TEXT_TRAIN_BAD_ROWS_REPORTED ? " (further bad rows only counted)" : "");
    va_end(ap);
}

/* Open path and tell its format; returns 0 or an exit code (1). */
static int reader_open(example_reader *r, const char *cmd, const char *path) {
    memset(r, 0, sizeof *r);
    r->cmd = cmd;
    r->path = path;
    sb_buf_init(&r->norm, SB_TEXT_NORMALIZED_BYTES_MAX);
    r->f = fopen(path, "rb");
    if (!r->f) {
        fprintf(stderr, "socialbank %s: cannot open %s: %s\n", cmd, path, strerror(errno));
        return 1;
    }
    size_t len = 0;
    int got = cli_read_line(r->f, line_buf, SB_CLI_LINE_BYTES_MAX, &len);
    r->line_no = 1;
    if (got == 0) {
        fprintf(stderr, "socialbank %s: %s is empty\n", cmd, path);
        return 1;
    }
    size_t skip = got > 0 && len >= 3 && memcmp(line_buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0; /* BOM */
    if (got > 0 && line_buf[skip] == '{') {
        r->format = FORMAT_JSONL;
        memmove(line_buf, line_buf + skip, len - skip + 1);
        r->pending = 1;
        return 0;
    }
    if (got < 0 || strcmp(line_buf + skip, "label\ttext") != 0) {
        fprintf(stderr, "socialbank %s: %s: the first line must be the TSV header 'label<TAB>text' or a JSON object\n",
                cmd, path);
        return 1;
    }
    r->format = FORMAT_TSV;
    return 0;
}

static void reader_close(example_reader *r) {
    if (r->f) fclose(r->f);
    if (r->doc) json_decref(r->doc);
    sb_buf_free(&r->norm);
    r->f = NULL;
    r->doc = NULL;
}

static bool label_ok(const char *label, size_t len) {
    if (len == 0 || len > SB_TEXT_LABEL_BYTES_MAX || !sb_utf8_valid(label, len)) return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)label[i] < 0x20) return false;
    return true;
}

/* Parse the line in line_buf into r; false (reported) for a bad row. */
static bool parse_row(example_reader *r, char *line, size_t len) {
    for (size_t h = 0; h < SB_TEXT_MODEL_HEADS_MAX; h++)
        r->labels[h] = NULL;
    if (r->format == FORMAT_TSV) {
        char *tab = memchr(line, '\t', len);
        if (!tab) {
            bad_row(r, "no tab between label and text");
            return false;
        }
        *tab = '\0';
        if (!label_ok(line, (size_t)(tab - line))) {
            bad_row(r, "empty, too long or invalid label");
            return false;
        }
        r->labels[0] = line;
        r->raw = tab + 1;
        r->raw_len = len - (size_t)(tab + 1 - line);
    } else {
        if (r->doc) json_decref(r->doc);
        json_error_t jerr;
        r->doc = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!r->doc || !json_is_object(r->doc)) {
            bad_row(r, "not a JSON object%s%s", r->doc ? "" : ": ", r->doc ? "" : jerr.text);
            return false;
        }
        json_t *text = json_object_get(r->doc, "text");
        if (!json_is_string(text)) {
            bad_row(r, "no \"text\" string");
            return false;
        }
        r->raw = json_string_value(text);
        r->raw_len = json_string_length(text);
        bool any = false;
        for (size_t h = 0; h < r->head_count; h++) {
            json_t *v = json_object_get(r->doc, r->heads[h]);
            if (!v || json_is_null(v)) continue;
            if (!json_is_string(v) || !label_ok(json_string_value(v), json_string_length(v))) {
                bad_row(r, "\"%s\" is not a label string", r->heads[h]);
                return false;
            }
            r->labels[h] = json_string_value(v);
            any = true;
        }
        if (!any) {
            bad_row(r, "no label for any head");
            return false;
        }
    }
    if (memchr(r->raw, '\0', r->raw_len)) {
        bad_row(r, "text contains a NUL");
        return false;
    }
    int rc = text_normalize(r->raw, r->raw_len, &r->norm);
    if (rc != SB_OK) {
        sb_buf_init(&r->norm, SB_TEXT_NORMALIZED_BYTES_MAX);
        bad_row(r, "text rejected: %s", rc == SB_EINVAL ? "not valid UTF-8" : sb_strerror(rc));
        return false;
    }
    return true;
}

/* Next good example: 1, or 0 at the end of the file. */
static int reader_next(example_reader *r) {
    for (;;) {
        size_t len = 0;
        int got;
        if (r->pending) {
            r->pending = 0;
            got = 1;
            len = strlen(line_buf);
        } else {
            got = cli_read_line(r->f, line_buf, SB_CLI_LINE_BYTES_MAX, &len);
            if (got == 0) return 0;
            r->line_no++;
        }
        if (got < 0) {
            bad_row(r, "line longer than %d bytes", SB_CLI_LINE_BYTES_MAX);
            continue;
        }
        if (len == 0) continue; /* blank lines are not rows */
        if (parse_row(r, line_buf, len)) return 1;
    }
}

static const char *const default_heads[] = {"sentiment", "kind", "topic"};

/* ---- train -------------------------------------------------------------- */

int cli_train(int argc, char **argv) {
    cli_option opts[] = {
        {"input", NULL, "training data: TSV 'label<TAB>text' or JSONL (text + sentiment/kind/topic)", NULL, false},
        {"model", NULL, "model file to write", NULL, false},
        {"epochs", NULL, "passes over the data", "25", false},
        {"dim", NULL, "embedding size", "64", false},
        {"seed", NULL, "seed of initialisation and shuffling", "1", false},
        {"lr", NULL, "initial learning rate (decays linearly to 0)", "0.5", false},
        {"buckets", NULL, "hash space of features", "2097152", false},
        {"word-ngrams", NULL, "1 (words) or 2 (words and word pairs)", "2", false},
        {"char-min", NULL, "shortest character n-gram (0 = none)", "0", false},
        {"char-max", NULL, "longest character n-gram (0 = none)", "0", false},
        {"head", NULL, "TSV: the head's name (default label); JSONL: train only this field", NULL, false},
        {"float16", NULL, "store weights as 16-bit floats (half the size)", NULL, true},
        {NULL}};
    int rc;
    if (cli_begin(argc, argv,
                  "train --input FILE --model OUT [--epochs N] [--dim N] [--seed N] [--lr X] [--buckets N] "
                  "[--head NAME]",
                  "Train the text classifier (hashed word unigrams and bigrams, optional character n-grams,\n"
                  "averaged embeddings, a softmax per head) and write the model file. Same data and seed,\n"
                  "same model, byte for byte. Bad rows are reported with their line number and skipped.",
                  opts, NULL, 0, NULL, &rc))
        return rc;
    const char *input = cli_value(opts, "input"), *model_path = cli_value(opts, "model");
    if (!input || !model_path) {
        fprintf(stderr, "socialbank train: give --input FILE and --model OUT (see --help)\n");
        return 2;
    }
    text_train_params p;
    text_train_params_default(&p);
    long epochs, dim, seed, buckets, wng, cmin, cmax;
    if ((rc = cli_int(opts, "epochs", 1, SB_TEXT_TRAIN_EPOCHS_MAX, &epochs)) ||
        (rc = cli_int(opts, "dim", 1, SB_TEXT_MODEL_DIM_MAX, &dim)) ||
        (rc = cli_int(opts, "seed", 0, LONG_MAX, &seed)) ||
        (rc = cli_int(opts, "buckets", 1, SB_TEXT_MODEL_BUCKETS_MAX, &buckets)) ||
        (rc = cli_int(opts, "word-ngrams", 1, 2, &wng)) ||
        (rc = cli_int(opts, "char-min", 0, SB_TEXT_CHAR_NGRAM_MAX, &cmin)) ||
        (rc = cli_int(opts, "char-max", 0, SB_TEXT_CHAR_NGRAM_MAX, &cmax)))
        return rc;
    char *end = NULL;
    double lr = strtod(cli_value(opts, "lr"), &end);
    if (!end || *end || !(lr > 0.0 && lr <= 10.0)) {
        fprintf(stderr, "socialbank train: --lr must be a number in (0, 10]\n");
        return 2;
    }
    p.epochs = (uint32_t)epochs;
    p.dim = (uint32_t)dim;
    p.seed = (uint64_t)seed;
    p.buckets = (uint32_t)buckets;
    p.word_ngrams = (uint32_t)wng;
    p.char_ngram_min = (uint32_t)cmin;
    p.char_ngram_max = (uint32_t)cmax;
    p.lr = (float)lr;
    p.float16 = cli_value(opts, "float16") != NULL;
    char err[TEXT_ERROR_BYTES];
    if (text_train_params_check(&p, err) != SB_OK) {
        fprintf(stderr, "socialbank train: %s\n", err);
        return 2;
    }
    const char *head_opt = cli_value(opts, "head");
    if (head_opt && (!*head_opt || strlen(head_opt) > SB_TEXT_LABEL_BYTES_MAX)) {
        fprintf(stderr, "socialbank train: --head must be 1..%d bytes\n", SB_TEXT_LABEL_BYTES_MAX);
        return 2;
    }

    example_reader r;
    if (reader_open(&r, "train", input)) {
        reader_close(&r);
        return 1;
    }
    if (r.format == FORMAT_TSV) {
        r.head_count = 1;
        r.heads[0] = head_opt ? head_opt : "label";
    } else if (head_opt) {
        r.head_count = 1;
        r.heads[0] = head_opt;
    } else {
        r.head_count = SB_ARRAY_LEN(default_heads);
        for (size_t h = 0; h < r.head_count; h++)
            r.heads[h] = default_heads[h];
    }
    text_dataset *ds = NULL;
    rc = text_dataset_create(&p, r.heads, r.head_count, &ds);
    if (rc != SB_OK) {
        fprintf(stderr, "socialbank train: %s\n", sb_strerror(rc));
        reader_close(&r);
        return 1;
    }
    int64_t t0 = sb_mono_ns();
    int status = 0;
    while (status == 0 && reader_next(&r)) {
        rc = text_dataset_add(ds, r.norm.data, r.norm.len, r.labels);
        if (rc == SB_ELIMIT || rc == SB_ENOMEM) {
            fprintf(stderr, "socialbank train: %s:%ld: %s\n", input, r.line_no, sb_strerror(rc));
            status = 1;
        } else if (rc != SB_OK) {
            bad_row(&r, "rejected: %s", sb_strerror(rc));
        }
    }
    if (ferror(r.f)) {
        fprintf(stderr, "socialbank train: reading %s failed\n", input);
        status = 1;
    }
    long bad = r.bad;
    reader_close(&r);
    for (size_t h = 0; status == 0 && h < r.head_count; h++) {
        if (text_dataset_label_count(ds, h) == 0) {
            fprintf(stderr, "socialbank train: no example in %s has a \"%s\" label (choose heads with --head)\n", input,
                    r.heads[h]);
            status = 1;
        }
    }
    if (status == 0 && text_dataset_size(ds) == 0) {
        fprintf(stderr, "socialbank train: no usable example in %s\n", input);
        status = 1;
    }
    text_model *m = NULL;
    double loss = 0;
    if (status == 0) {
        rc = text_model_train(ds, &m, &loss);
        if (rc != SB_OK) {
            fprintf(stderr, "socialbank train: training failed: %s\n", sb_strerror(rc));
            status = 1;
        }
    }
    int64_t t1 = sb_mono_ns();
    if (status == 0) {
        rc = text_model_save(m, model_path, err);
        if (rc != SB_OK) {
            fprintf(stderr, "socialbank train: %s\n", err);
            status = 1;
        }
    }
    if (status == 0) {
        printf("train: examples=%zu bad_rows=%ld heads=", text_dataset_size(ds), bad);
        for (size_t h = 0; h < text_model_head_count(m); h++)
            printf("%s%s(%zu)", h ? "," : "", text_model_head_name(m, h), text_model_label_count(m, h));
        printf(" rows=%zu loss=%.4f seconds=%.3f model=%s\n", text_model_row_count(m), loss, (double)(t1 - t0) / 1e9,
               model_path);
    } else if (bad) {
        fprintf(stderr, "socialbank train: %ld bad rows skipped\n", bad);
    }
    text_model_free(m);
    text_dataset_free(ds);
    return status;
}

/* ---- model lookup --------------------------------------------------------- */

/* --model, $SOCIALBANK_MODEL (both via the option), else
 * <dir of the binary>/models/default.sbm. */
int cli_shipped_path(const char *name, char *out, size_t size) {
    char exe[SB_PATH_BYTES_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return SB_ENOTFOUND;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) *slash = '\0';
    /* The build tree (beside the binary), then the install tree
     * (PREFIX/bin/socialbank -> PREFIX/share/socialbank), relocatable. */
    static const char *const layouts[] = {"/", "/../share/socialbank/"};
    for (size_t i = 0; i < sizeof layouts / sizeof *layouts; i++) {
        if ((size_t)snprintf(out, size, "%s%s%s", exe, layouts[i], name) >= size) return SB_ELIMIT;
        if (access(out, R_OK) == 0) return SB_OK;
    }
    /* Neither exists: name the build tree's, so a message says where it was looked for. */
    if ((size_t)snprintf(out, size, "%s%s%s", exe, layouts[0], name) >= size) return SB_ELIMIT;
    return SB_OK;
}

int cli_model_path(const char *given, char *out, size_t size) {
    if (given && *given) {
        if ((size_t)snprintf(out, size, "%s", given) >= size) return SB_ELIMIT;
        return SB_OK;
    }
    return cli_shipped_path("models/default.sbm", out, size);
}

static int open_model(const char *cmd, const char *given, text_model **out) {
    char path[SB_PATH_BYTES_MAX];
    if (cli_model_path(given, path, sizeof path) != SB_OK) {
        fprintf(stderr, "socialbank %s: give --model (cannot locate the binary's directory)\n", cmd);
        return 2;
    }
    char err[TEXT_ERROR_BYTES];
    int rc = text_model_load(path, out, err);
    if (rc != SB_OK) {
        fprintf(stderr, "socialbank %s: %s (%s)%s\n", cmd, err, sb_error_name(rc),
                rc == SB_ENOTFOUND && !(given && *given) ? "; build the default model with `make model` or give --model"
                                                         : "");
        return 1;
    }
    return 0;
}

/* ---- eval --------------------------------------------------------------- */

typedef struct {
    size_t head; /* model head */
    uint32_t labels;
    uint64_t *confusion; /* labels x labels: [true][predicted] */
    uint64_t unknown;    /* examples whose true label the model does not know */
    uint64_t n, correct;
} head_eval;

static void print_head_eval(const text_model *m, const head_eval *e, double *acc_out, double *f1_out) {
    uint32_t L = e->labels;
    printf("head %s: n=%llu\n", text_model_head_name(m, e->head), (unsigned long long)e->n);
    printf("  %-40s %9s %9s %9s %8s\n", "label", "precision", "recall", "f1", "support");
    double f1_sum = 0;
    uint32_t present = 0;
    for (uint32_t c = 0; c < L; c++) {
        uint64_t tp = e->confusion[(size_t)c * L + c], pred = 0, support = 0;
        for (uint32_t k = 0; k < L; k++) {
            pred += e->confusion[(size_t)k * L + c];
            support += e->confusion[(size_t)c * L + k];
        }
        double precision = pred ? (double)tp / (double)pred : 0.0;
        double recall = support ? (double)tp / (double)support : 0.0;
        double f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
        if (support + pred > 0) { /* classes absent from truth and predictions do not count (as sklearn) */
            f1_sum += f1;
            present++;
        }
        printf("  %-40s %9.4f %9.4f %9.4f %8llu\n", text_model_label_name(m, e->head, c), precision, recall, f1,
               (unsigned long long)support);
    }
    if (e->unknown)
        printf("  (%llu examples with a label the model does not know, counted wrong)\n",
               (unsigned long long)e->unknown);
    printf("  confusion (rows: true label, columns: predicted, in the order above):\n");
    for (uint32_t c = 0; c < L; c++) {
        printf("  %4u", c);
        for (uint32_t k = 0; k < L; k++)
            printf(" %4llu", (unsigned long long)e->confusion[(size_t)c * L + k]);
        printf("\n");
    }
    double acc = e->n ? (double)e->correct / (double)e->n : 0.0;
    double macro = present ? f1_sum / present : 0.0;
    printf("head %s: accuracy=%.4f macro_f1=%.4f n=%llu\n", text_model_head_name(m, e->head), acc, macro,
           (unsigned long long)e->n);
    *acc_out = acc;
    *f1_out = macro;
}

int cli_eval(int argc, char **argv) {
    cli_option opts[] = {{"model", "SOCIALBANK_MODEL", "model file (default: the shipped model)", NULL, false},
                         {"input", NULL, "labelled data: TSV 'label<TAB>text' or JSONL", NULL, false},
                         {"head", NULL, "evaluate this head only (TSV: the head the label column is for)", NULL, false},
                         {NULL}};
    int rc;
    if (cli_begin(argc, argv, "eval --model M --input FILE [--head NAME]",
                  "Evaluate a model on labelled data: per-class precision, recall and F1, the confusion\n"
                  "matrix, and a last line 'eval: accuracy=A macro_f1=F n=N' (over several heads: the means\n"
                  "of their accuracies and macro-F1s, n the examples read). Macro-F1 averages the classes\n"
                  "that occur in the data or in the predictions.",
                  opts, NULL, 0, NULL, &rc))
        return rc;
    const char *input = cli_value(opts, "input");
    if (!input) {
        fprintf(stderr, "socialbank eval: give --input FILE (see --help)\n");
        return 2;
    }
    text_model *m = NULL;
    if ((rc = open_model("eval", cli_value(opts, "model"), &m))) return rc;
    example_reader r;
    if (reader_open(&r, "eval", input)) {
        reader_close(&r);
        text_model_free(m);
        return 1;
    }
    const char *head_opt = cli_value(opts, "head");
    head_eval evals[SB_TEXT_MODEL_HEADS_MAX];
    memset(evals, 0, sizeof evals);
    size_t count = 0;
    int status = 0;
    if (head_opt || r.format == FORMAT_TSV) {
        int h = head_opt ? text_model_head_find(m, head_opt) : (text_model_head_count(m) == 1 ? 0 : -1);
        if (h < 0 && !head_opt) h = text_model_head_find(m, "label");
        if (h < 0) {
            fprintf(stderr, "socialbank eval: %s\n",
                    head_opt ? "the model has no such head" : "the model has several heads: choose one with --head");
            status = 2;
        } else {
            evals[count++].head = (size_t)h;
        }
    } else {
        for (size_t h = 0; h < text_model_head_count(m); h++)
            evals[count++].head = h;
    }
    r.head_count = count;
    for (size_t i = 0; i < count; i++) {
        r.heads[i] = text_model_head_name(m, evals[i].head);
        evals[i].labels = (uint32_t)text_model_label_count(m, evals[i].head);
        evals[i].confusion = sb_calloc((size_t)evals[i].labels * evals[i].labels, sizeof(uint64_t));
        if (!evals[i].confusion) status = 1;
    }
    uint64_t n = 0;
    text_prediction pred[SB_TEXT_MODEL_HEADS_MAX];
    while (status == 0 && reader_next(&r)) {
        if (text_model_predict(m, r.norm.data, r.norm.len, pred) != SB_OK) {
            bad_row(&r, "cannot classify");
            continue;
        }
        n++;
        for (size_t i = 0; i < count; i++) {
            if (!r.labels[i]) continue;
            head_eval *e = &evals[i];
            e->n++;
            int truth = text_model_label_find(m, e->head, r.labels[i]);
            uint32_t got = pred[e->head].label;
            if (truth < 0) {
                e->unknown++;
                continue;
            }
            e->confusion[(size_t)truth * e->labels + got]++;
            if ((uint32_t)truth == got) e->correct++;
        }
    }
    if (status == 0) {
        double acc_sum = 0, f1_sum = 0;
        for (size_t i = 0; i < count; i++) {
            double acc, f1;
            print_head_eval(m, &evals[i], &acc, &f1);
            acc_sum += acc;
            f1_sum += f1;
        }
        if (r.bad) printf("bad rows skipped: %ld\n", r.bad);
        printf("eval: accuracy=%.4f macro_f1=%.4f n=%llu\n", count ? acc_sum / (double)count : 0.0,
               count ? f1_sum / (double)count : 0.0, (unsigned long long)n);
    }
    for (size_t i = 0; i < count; i++)
        sb_free(evals[i].confusion);
    reader_close(&r);
    text_model_free(m);
    return status;
}

/* ---- classify ----------------------------------------------------------- */

static int append_signals(sb_buf *out, const char *normalised, size_t len) {
    text_signals_result sig;
    int rc = text_signals(normalised, len, &sig);
    if (rc != SB_OK) return rc;
    rc = sb_buf_append_str(out, ",\"signals\":[");
    for (size_t i = 0; rc == SB_OK && i < sig.count; i++) {
        const text_signal *s = &sig.items[i];
        const char *name = text_signal_name(s->kind, s->code);
        rc = sb_buf_printf(out, "%s{\"kind\":\"%s\",\"name\":\"", i ? "," : "", text_signal_kind_name(s->kind));
        if (rc == SB_OK) rc = sb_buf_append_json_escaped(out, name, strlen(name));
        if (rc == SB_OK && s->kind == TEXT_SIGNAL_LIFE_EVENT)
            rc = sb_buf_printf(out, "\",\"offer\":\"%s", text_life_event_offer((text_life_event)s->code));
        if (rc == SB_OK) rc = sb_buf_append_str(out, "\",\"trigger\":\"");
        if (rc == SB_OK) rc = sb_buf_append_json_escaped(out, s->trigger, strlen(s->trigger));
        if (rc == SB_OK) rc = sb_buf_append_str(out, "\"}");
    }
    if (rc == SB_OK) rc = sb_buf_append_str(out, "]");
    return rc;
}

/* One input line -> one JSON object (or label) in out. */
static int classify_line(const text_model *m, char *line, size_t len, bool label_only, sb_buf *norm, sb_buf *out) {
    sb_buf_reset(out);
    json_t *doc = NULL;
    const char *text = line;
    size_t text_len = len;
    json_t *id = NULL;
    const char *error = NULL;
    size_t lead = 0;
    while (lead < len && (line[lead] == ' ' || line[lead] == '\t'))
        lead++;
    if (lead < len && line[lead] == '{') {
        json_error_t jerr;
        doc = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
        json_t *t = doc && json_is_object(doc) ? json_object_get(doc, "text") : NULL;
        if (!json_is_string(t)) {
            error = "bad_json";
        } else {
            text = json_string_value(t);
            text_len = json_string_length(t);
            id = json_object_get(doc, "id");
            if (id && !json_is_string(id) && !json_is_integer(id)) id = NULL;
        }
    }
    text_prediction pred[SB_TEXT_MODEL_HEADS_MAX];
    text_lang lang = TEXT_LANG_OTHER;
    int rc = SB_OK;
    if (!error && text_len == 0) error = "empty";
    if (!error && text_len > SB_TEXT_INPUT_BYTES_MAX) error = "too_long";
    if (!error && memchr(text, '\0', text_len)) error = "invalid_utf8";
    if (!error) {
        rc = text_normalize(text, text_len, norm);
        if (rc != SB_OK) {
            sb_buf_init(norm, SB_TEXT_NORMALIZED_BYTES_MAX);
            error = rc == SB_EINVAL ? "invalid_utf8" : sb_error_name(rc);
        }
    }
    if (!error && text_model_predict(m, norm->data, norm->len, pred) != SB_OK) error = "internal";
    if (label_only) {
        rc = error ? sb_buf_printf(out, "error %s", error)
                   : sb_buf_append_str(out, text_model_label_name(m, 0, pred[0].label));
        json_decref(doc);
        return rc;
    }
    rc = sb_buf_append_str(out, "{");
    if (rc == SB_OK && id) {
        if (json_is_integer(id)) {
            rc = sb_buf_printf(out, "\"id\":%lld,", (long long)json_integer_value(id));
        } else {
            rc = sb_buf_append_str(out, "\"id\":\"");
            if (rc == SB_OK) rc = sb_buf_append_json_escaped(out, json_string_value(id), json_string_length(id));
            if (rc == SB_OK) rc = sb_buf_append_str(out, "\",");
        }
    }
    if (error) {
        if (rc == SB_OK) rc = sb_buf_printf(out, "\"error\":\"%s\"}", error);
        json_decref(doc);
        return rc;
    }
    if (text_langid(text, text_len, &lang, NULL) != SB_OK) lang = TEXT_LANG_OTHER;
    if (rc == SB_OK) rc = sb_buf_printf(out, "\"lang\":\"%s\"", text_lang_code(lang));
    for (size_t h = 0; rc == SB_OK && h < text_model_head_count(m); h++) {
        const char *head = text_model_head_name(m, h), *label = text_model_label_name(m, h, pred[h].label);
        rc = sb_buf_append_str(out, ",\"");
        if (rc == SB_OK) rc = sb_buf_append_json_escaped(out, head, strlen(head));
        if (rc == SB_OK) rc = sb_buf_append_str(out, "\":{\"label\":\"");
        if (rc == SB_OK) rc = sb_buf_append_json_escaped(out, label, strlen(label));
        if (rc == SB_OK) rc = sb_buf_printf(out, "\",\"p\":%.4f}", (double)pred[h].p);
    }
    if (rc == SB_OK) rc = append_signals(out, norm->data ? norm->data : "", norm->len);
    if (rc == SB_OK) rc = sb_buf_append_str(out, "}");
    json_decref(doc);
    return rc;
}

int cli_classify(int argc, char **argv) {
    cli_option opts[] = {
        {"model", "SOCIALBANK_MODEL", "model file (default: models/default.sbm next to the binary)", NULL, false},
        {"labels", NULL, "print only the first head's label a line (like fasttext predict)", NULL, true},
        {NULL}};
    int rc;
    if (cli_begin(argc, argv, "classify [--model M] [--labels]",
                  "Classify each line on stdin (plain text, or JSONL with \"text\" and an optional \"id\") and\n"
                  "print one JSON object a line: the language, every head's label with its probability, and\n"
                  "the signals. A line that cannot be classified gets {\"error\":...} in its place.",
                  opts, NULL, 0, NULL, &rc))
        return rc;
    text_model *m = NULL;
    if ((rc = open_model("classify", cli_value(opts, "model"), &m))) return rc;
    bool label_only = cli_value(opts, "labels") != NULL;
    sb_buf norm, out;
    sb_buf_init(&norm, SB_TEXT_NORMALIZED_BYTES_MAX);
    sb_buf_init(&out, 4 * SB_CLI_LINE_BYTES_MAX);
    size_t len = 0;
    int got;
    int status = 0;
    while ((got = cli_read_line(stdin, line_buf, SB_CLI_LINE_BYTES_MAX, &len)) != 0) {
        if (got < 0) {
            puts(label_only ? "error too_long" : "{\"error\":\"too_long\"}");
            continue;
        }
        rc = classify_line(m, line_buf, len, label_only, &norm, &out);
        if (rc != SB_OK) {
            sb_buf_init(&out, 4 * SB_CLI_LINE_BYTES_MAX);
            printf(label_only ? "error %s\n" : "{\"error\":\"%s\"}\n", sb_error_name(rc));
            continue;
        }
        fwrite(out.data, 1, out.len, stdout);
        putchar('\n');
    }
    if (fflush(stdout) != 0) status = 1;
    sb_buf_free(&norm);
    sb_buf_free(&out);
    text_model_free(m);
    return status;
}
