/*
 * cli_bench_text.c - `socialbank bench text`: our classifier against the
 * `fasttext` command on Banking77 (77 banking intents), the one
 * implementation behind bench/text.sh.
 *
 * Both train on Banking77's train split with word unigrams + bigrams, the
 * same epochs, dimension, learning rate and bucket count, single-threaded;
 * both are scored on the dev split (the test split is held out) by the same
 * code here; both predict a large set (the dev texts repeated --repeat
 * times) one text at a time.  Ours runs in this process (normalise, predict,
 * label: what `classify --labels` does per line), timed by the process CPU
 * clock; fastText runs as child processes (posix_spawn), timed by wait4's
 * rusage, and its model load time, measured on a one-line file, is
 * subtracted.  Times are CPU seconds (user + system): the machine is shared
 * and both are single-threaded; wall-clock figures are printed beside them.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/core.h"
#include "text/text.h"

extern char **environ;

#define BT "socialbank bench text"
#define BENCH_TEXT_BUCKETS 2000000

/* ---- the data ----------------------------------------------------------- */

typedef struct {
    char **labels;
    char **texts;
    size_t n, cap;
} rows;

static void rows_free(rows *r) {
    for (size_t i = 0; i < r->n; i++) {
        sb_free(r->labels[i]);
        sb_free(r->texts[i]);
    }
    sb_free(r->labels);
    sb_free(r->texts);
    memset(r, 0, sizeof *r);
}

/* Read a Banking77 TSV (header "label<TAB>text"); 0 or exit code 1 (reported). */
static int rows_read(const char *path, rows *out) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, BT ": cannot open %s: %s\n", path, strerror(errno));
        return 1;
    }
    char *line = sb_malloc(SB_CLI_LINE_BYTES_MAX + 2);
    int status = line ? 0 : 1;
    long line_no = 0;
    while (status == 0 && fgets(line, SB_CLI_LINE_BYTES_MAX + 2, f)) {
        line_no++;
        size_t len = strlen(line);
        if (len > 0 && line[len - 1] != '\n' && !feof(f)) {
            fprintf(stderr, BT ": %s:%ld: line longer than %d bytes\n", path, line_no, SB_CLI_LINE_BYTES_MAX);
            status = 1;
            break;
        }
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if (line_no == 1) {
            if (strcmp(line, "label\ttext") != 0) {
                fprintf(stderr, BT ": %s: the first line must be 'label<TAB>text'\n", path);
                status = 1;
            }
            continue;
        }
        if (len == 0) continue;
        char *tab = strchr(line, '\t');
        if (!tab || tab == line || strchr(tab + 1, '\t') || memchr(line, ' ', (size_t)(tab - line))) {
            fprintf(stderr, BT ": %s:%ld: expected 'label<TAB>text' (label without spaces)\n", path, line_no);
            status = 1;
            break;
        }
        if (out->n >= SB_BENCH_TEXT_ROWS_MAX) {
            fprintf(stderr, BT ": %s: more than %d rows\n", path, SB_BENCH_TEXT_ROWS_MAX);
            status = 1;
            break;
        }
        if (out->n == out->cap) {
            size_t cap = out->cap ? out->cap * 2 : 1024;
            char **l = sb_realloc(out->labels, cap * sizeof *l);
            if (l) out->labels = l;
            char **t = l ? sb_realloc(out->texts, cap * sizeof *t) : NULL;
            if (t) out->texts = t;
            if (!l || !t) {
                status = 1;
                break;
            }
            out->cap = cap;
        }
        *tab = '\0';
        char *label = sb_strdup(line), *text = sb_strdup(tab + 1);
        if (!label || !text) {
            sb_free(label);
            sb_free(text);
            status = 1;
            break;
        }
        out->labels[out->n] = label;
        out->texts[out->n] = text;
        out->n++;
    }
    if (status == 0 && ferror(f)) {
        fprintf(stderr, BT ": reading %s failed\n", path);
        status = 1;
    }
    if (status == 0 && out->n == 0) {
        fprintf(stderr, BT ": %s has no example\n", path);
        status = 1;
    }
    sb_free(line);
    fclose(f);
    if (status) rows_free(out);
    return status;
}

/* ---- scoring ------------------------------------------------------------ */

/* Accuracy and macro-F1 over the classes present in gold or predictions (as
 * sklearn).  Labels are indices into [0, classes); a prediction the model
 * does not know is index `classes` (one extra class, F1 0). */
static void score(const int *gold, const int *pred, size_t n, size_t classes, double *acc_out, double *f1_out) {
    uint64_t *tp = sb_calloc(classes + 1, sizeof *tp), *np = sb_calloc(classes + 1, sizeof *np),
             *ns = sb_calloc(classes + 1, sizeof *ns);
    uint64_t correct = 0;
    double f1_sum = 0;
    size_t present = 0;
    if (tp && np && ns) {
        for (size_t i = 0; i < n; i++) {
            np[pred[i]]++;
            ns[gold[i]]++;
            if (gold[i] == pred[i]) {
                tp[gold[i]]++;
                correct++;
            }
        }
        for (size_t c = 0; c <= classes; c++) {
            if (np[c] + ns[c] == 0) continue;
            double p = np[c] ? (double)tp[c] / (double)np[c] : 0.0, r = ns[c] ? (double)tp[c] / (double)ns[c] : 0.0;
            f1_sum += p + r > 0 ? 2 * p * r / (p + r) : 0.0;
            present++;
        }
    }
    *acc_out = n ? (double)correct / (double)n : 0.0;
    *f1_out = present ? f1_sum / (double)present : 0.0;
    sb_free(tp);
    sb_free(np);
    sb_free(ns);
}

/* ---- timing ------------------------------------------------------------- */

static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double tv_s(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec / 1e6; }

/* Run argv[0] (looked up in PATH) with stdin from in_path and stdout to
 * out_path, waiting at most SB_BENCH_TEXT_CHILD_TIMEOUT_S (then killed).
 * Its wall and CPU (user + system) seconds go to *wall, *cpu.  0, or 1
 * (reported) if it could not run, timed out or did not exit with 0. */
static int run_child(char *const argv[], const char *in_path, const char *out_path, double *wall, double *cpu) {
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0) return 1;
    int rc = posix_spawn_file_actions_addopen(&fa, 0, in_path, O_RDONLY, 0);
    if (rc == 0) rc = posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid = -1;
    int64_t start = sb_mono_ns();
    if (rc == 0) rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        fprintf(stderr, BT ": cannot run %s: %s\n", argv[0], strerror(rc));
        return 1;
    }
    int64_t deadline = start + (int64_t)SB_BENCH_TEXT_CHILD_TIMEOUT_S * 1000000000LL;
    int wstatus = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    for (;;) {
        pid_t got = wait4(pid, &wstatus, WNOHANG, &ru);
        if (got == pid) break;
        if (got < 0 && errno != EINTR) {
            fprintf(stderr, BT ": waiting for %s: %s\n", argv[0], strerror(errno));
            return 1;
        }
        if (sb_mono_ns() > deadline) {
            kill(pid, SIGKILL);
            while (wait4(pid, &wstatus, 0, &ru) < 0 && errno == EINTR) {}
            fprintf(stderr, BT ": %s took more than %d s, killed\n", argv[0], SB_BENCH_TEXT_CHILD_TIMEOUT_S);
            return 1;
        }
        usleep(2000);
    }
    *wall = (double)(sb_mono_ns() - start) / 1e9;
    *cpu = tv_s(ru.ru_utime) + tv_s(ru.ru_stime);
    if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
        fprintf(stderr, BT ": %s failed (%s %d)\n", argv[0], WIFEXITED(wstatus) ? "exit" : "signal",
                WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : WTERMSIG(wstatus));
        return 1;
    }
    return 0;
}

/* True if `name` is an executable file in one of $PATH's directories. */
static bool in_path(const char *name) {
    const char *path = getenv("PATH");
    if (!path) path = "/usr/bin:/bin";
    char buf[SB_PATH_BYTES_MAX];
    while (*path) {
        const char *colon = strchr(path, ':');
        size_t len = colon ? (size_t)(colon - path) : strlen(path);
        int n = snprintf(buf, sizeof buf, "%.*s/%s", (int)len, len ? path : ".", name);
        if (n > 0 && (size_t)n < sizeof buf && access(buf, X_OK) == 0) return true;
        path += len + (colon ? 1 : 0);
        if (!colon) break;
    }
    return false;
}

/* ---- files -------------------------------------------------------------- */

static int write_file(const char *path, const rows *r, size_t repeat, size_t limit, bool ft_train) {
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, BT ": cannot create %s: %s\n", path, strerror(errno));
        return 1;
    }
    size_t n = limit && limit < r->n ? limit : r->n;
    for (size_t k = 0; k < repeat; k++)
        for (size_t i = 0; i < n; i++) {
            if (ft_train) fprintf(f, "__label__%s ", r->labels[i]);
            fputs(r->texts[i], f);
            fputc('\n', f);
        }
    if (fclose(f) != 0) {
        fprintf(stderr, BT ": writing %s failed\n", path);
        return 1;
    }
    return 0;
}

/* Read fastText's predictions (one "__label__X" a line) as indices of the
 * model's labels (unknown: `classes`); exactly n lines expected. */
static int read_ft_predictions(const char *path, const text_model *m, size_t n, int *pred) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, BT ": cannot open %s: %s\n", path, strerror(errno));
        return 1;
    }
    char line[SB_TEXT_LABEL_BYTES_MAX + 64];
    size_t got = 0;
    int status = 0;
    while (status == 0 && fgets(line, sizeof line, f)) {
        line[strcspn(line, " \r\n")] = '\0';
        if (got >= n) {
            status = 1;
            break;
        }
        const char *label = strncmp(line, "__label__", 9) == 0 ? line + 9 : line;
        int idx = text_model_label_find(m, 0, label);
        pred[got++] = idx < 0 ? (int)text_model_label_count(m, 0) : idx;
    }
    fclose(f);
    if (status || got != n) {
        fprintf(stderr, BT ": fasttext gave %s%zu predictions for %zu texts\n", status ? "more than " : "", got, n);
        return 1;
    }
    return 0;
}

static long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* ---- our side ----------------------------------------------------------- */

/* Predict every text of dev (first head), label indices into pred. */
static int our_predict(const text_model *m, const rows *dev, sb_buf *norm, int *pred) {
    text_prediction p[SB_TEXT_MODEL_HEADS_MAX];
    for (size_t i = 0; i < dev->n; i++) {
        int rc = text_normalize(dev->texts[i], strlen(dev->texts[i]), norm);
        if (rc == SB_OK) rc = text_model_predict(m, norm->data, norm->len, p);
        if (rc != SB_OK) {
            sb_buf_init(norm, SB_TEXT_NORMALIZED_BYTES_MAX);
            fprintf(stderr, BT ": dev text %zu: %s\n", i + 1, sb_strerror(rc));
            return 1;
        }
        pred[i] = (int)p[0].label;
    }
    return 0;
}

/* ---- the command -------------------------------------------------------- */

int cli_bench_text(int argc, char **argv) {
    cli_option opts[] = {
        {"data-dir", "SB_DATA_DIR",
         "directory holding banking77/ (default: $SB_SOURCE_DIR/../shared/data, else /work/shared/data)", NULL,
         false, NULL, false},
        {"epochs", NULL, "training epochs (both)", "25", false, NULL, false},
        {"dim", NULL, "embedding size (both)", "100", false, NULL, false},
        {"lr", NULL, "initial learning rate (both)", "0.5", false, NULL, false},
        {"repeat", NULL, "copies of the dev texts predicted for the throughput figures", "200", false, NULL, false},
        {NULL}};
    int rc;
    if (cli_begin(argc, argv, "bench text [--data-dir DIR] [--epochs N] [--dim N] [--lr X] [--repeat N]",
                  "Our classifier against the fasttext command on Banking77: accuracy and macro-F1 on the dev\n"
                  "split, training CPU time, predictions/s (CPU and wall) and model size, same hyper-parameters\n"
                  "and one thread for both. Needs `fasttext` in PATH.",
                  opts, NULL, 0, NULL, &rc))
        return rc;
    long epochs, dim, repeat;
    if ((rc = cli_int(opts, "epochs", 1, SB_TEXT_TRAIN_EPOCHS_MAX, &epochs)) ||
        (rc = cli_int(opts, "dim", 1, SB_TEXT_MODEL_DIM_MAX, &dim)) ||
        (rc = cli_int(opts, "repeat", 1, SB_BENCH_TEXT_REPEAT_MAX, &repeat)))
        return rc;
    char *end = NULL;
    const char *lr_text = cli_value(opts, "lr");
    double lr = strtod(lr_text, &end);
    if (!end || *end || !(lr > 0.0 && lr <= 10.0)) {
        fprintf(stderr, BT ": --lr must be a number in (0, 10]\n");
        return 2;
    }
    const char *data = cli_value(opts, "data-dir");
    char data_buf[SB_PATH_BYTES_MAX];
    if (!data || !*data) {
        const char *src = getenv("SB_SOURCE_DIR");
        data = "/work/shared/data";
        if (src && *src) {
            snprintf(data_buf, sizeof data_buf, "%s/../shared/data/banking77/train.tsv", src);
            if (access(data_buf, R_OK) == 0) {
                snprintf(data_buf, sizeof data_buf, "%s/../shared/data", src);
                data = data_buf;
            }
        }
    }
    char train_path[SB_PATH_BYTES_MAX], dev_path[SB_PATH_BYTES_MAX];
    int n1 = snprintf(train_path, sizeof train_path, "%s/banking77/train.tsv", data);
    int n2 = snprintf(dev_path, sizeof dev_path, "%s/banking77/dev.tsv", data);
    if (n1 < 0 || (size_t)n1 >= sizeof train_path || n2 < 0 || (size_t)n2 >= sizeof dev_path) {
        fprintf(stderr, BT ": --data-dir is too long\n");
        return 1;
    }
    if (access(train_path, R_OK) != 0 || access(dev_path, R_OK) != 0) {
        fprintf(stderr, BT ": no Banking77 at %s/banking77 (train.tsv, dev.tsv; give --data-dir)\n", data);
        return 1;
    }
    if (!in_path("fasttext")) {
        fprintf(stderr, BT ": the fasttext command is missing (scripts/deps.sh installs it)\n");
        return 1;
    }

    rows train, dev;
    if (rows_read(train_path, &train)) return 1;
    if (rows_read(dev_path, &dev)) {
        rows_free(&train);
        return 1;
    }
    char tmp[64];
    snprintf(tmp, sizeof tmp, "/tmp/sb-bench-text-XXXXXX");
    if (!mkdtemp(tmp)) {
        perror(BT ": mkdtemp");
        rows_free(&train);
        rows_free(&dev);
        return 1;
    }
    char p_ft_train[128], p_dev[128], p_one[128], p_big[128], p_empty[128], p_ft[128], p_ft_bin[128], p_log[128],
        p_ft_dev[128], p_ft_big[128], p_ft_one[128], p_ours[128];
    snprintf(p_ft_train, sizeof p_ft_train, "%s/ft_train.txt", tmp);
    snprintf(p_dev, sizeof p_dev, "%s/dev_text.txt", tmp);
    snprintf(p_one, sizeof p_one, "%s/one.txt", tmp);
    snprintf(p_big, sizeof p_big, "%s/big.txt", tmp);
    snprintf(p_empty, sizeof p_empty, "%s/empty.txt", tmp);
    snprintf(p_ft, sizeof p_ft, "%s/ft", tmp);
    snprintf(p_ft_bin, sizeof p_ft_bin, "%s/ft.bin", tmp);
    snprintf(p_log, sizeof p_log, "%s/ft_train.log", tmp);
    snprintf(p_ft_dev, sizeof p_ft_dev, "%s/ft_dev_pred.txt", tmp);
    snprintf(p_ft_big, sizeof p_ft_big, "%s/ft_big.txt", tmp);
    snprintf(p_ft_one, sizeof p_ft_one, "%s/ft_one.txt", tmp);
    snprintf(p_ours, sizeof p_ours, "%s/ours.sbm", tmp);

    int status = write_file(p_ft_train, &train, 1, 0, true);
    if (!status) status = write_file(p_dev, &dev, 1, 0, false);
    if (!status) status = write_file(p_one, &dev, 1, 1, false);
    if (!status) status = write_file(p_big, &dev, (size_t)repeat, 0, false);
    if (!status) status = write_file(p_empty, &dev, 0, 0, false);
    size_t n_big = dev.n * (size_t)repeat;
    fprintf(stderr, "text: Banking77 train=%zu dev=%zu epochs=%ld dim=%ld lr=%s buckets=%d\n", train.n, dev.n, epochs,
            dim, lr_text, BENCH_TEXT_BUCKETS);

    /* ---- training: ours in process, fastText as a child */
    text_train_params p;
    text_train_params_default(&p);
    p.epochs = (uint32_t)epochs;
    p.dim = (uint32_t)dim;
    p.lr = (float)lr;
    p.buckets = BENCH_TEXT_BUCKETS;
    p.seed = 1;
    p.word_ngrams = 2;
    char err[TEXT_ERROR_BYTES];
    if (!status && text_train_params_check(&p, err) != SB_OK) {
        fprintf(stderr, BT ": %s\n", err);
        status = 1;
    }
    text_model *m = NULL;
    text_dataset *ds = NULL;
    sb_buf norm;
    sb_buf_init(&norm, SB_TEXT_NORMALIZED_BYTES_MAX);
    double our_train_cpu = 0, our_train_wall = 0;
    if (!status) {
        const char *const head[] = {"label"};
        double c0 = cpu_s();
        int64_t w0 = sb_mono_ns();
        rc = text_dataset_create(&p, head, 1, &ds);
        for (size_t i = 0; rc == SB_OK && i < train.n; i++) {
            rc = text_normalize(train.texts[i], strlen(train.texts[i]), &norm);
            const char *labels[] = {train.labels[i]};
            if (rc == SB_OK) rc = text_dataset_add(ds, norm.data, norm.len, labels);
            if (rc != SB_OK) fprintf(stderr, BT ": train row %zu: %s\n", i + 2, sb_strerror(rc));
        }
        if (rc == SB_OK) rc = text_model_train(ds, &m, NULL);
        our_train_cpu = cpu_s() - c0;
        our_train_wall = (double)(sb_mono_ns() - w0) / 1e9;
        if (rc == SB_OK) rc = text_model_save(m, p_ours, err);
        if (rc != SB_OK) {
            fprintf(stderr, BT ": training ours failed: %s\n", sb_strerror(rc));
            status = 1;
        }
    }
    char epochs_s[24], dim_s[24], buckets_s[24];
    snprintf(epochs_s, sizeof epochs_s, "%ld", epochs);
    snprintf(dim_s, sizeof dim_s, "%ld", dim);
    snprintf(buckets_s, sizeof buckets_s, "%d", BENCH_TEXT_BUCKETS);
    char *ft_train_argv[] = {"fasttext", "supervised", "-input", p_ft_train, "-output", p_ft, "-wordNgrams", "2",
                             "-epoch", epochs_s, "-dim", dim_s, "-lr", (char *)lr_text, "-bucket", buckets_s,
                             "-thread", "1", "-verbose", "0", NULL};
    char *ft_predict_argv[] = {"fasttext", "predict", p_ft_bin, "-", NULL};
    double ft_train_wall = 0, ft_train_cpu = 0, w, c;
    if (!status) status = run_child(ft_train_argv, p_empty, p_log, &ft_train_wall, &ft_train_cpu);

    /* ---- accuracy on dev, scored by the same code for both */
    int *gold = sb_calloc(dev.n, sizeof *gold), *our_pred = sb_calloc(dev.n, sizeof *our_pred),
        *ft_pred = sb_calloc(dev.n, sizeof *ft_pred), *again = sb_calloc(dev.n, sizeof *again);
    if (!gold || !our_pred || !ft_pred || !again) status = 1;
    size_t classes = m ? text_model_label_count(m, 0) : 0;
    for (size_t i = 0; !status && i < dev.n; i++) {
        int idx = text_model_label_find(m, 0, dev.labels[i]);
        gold[i] = idx < 0 ? (int)classes : idx; /* a label absent from train: never right */
    }
    if (!status) status = our_predict(m, &dev, &norm, our_pred);
    if (!status) status = run_child(ft_predict_argv, p_dev, p_ft_dev, &w, &c);
    if (!status) status = read_ft_predictions(p_ft_dev, m, dev.n, ft_pred);
    double our_acc = 0, our_f1 = 0, ft_acc = 0, ft_f1 = 0;
    if (!status) {
        score(gold, our_pred, dev.n, classes, &our_acc, &our_f1);
        score(gold, ft_pred, dev.n, classes, &ft_acc, &ft_f1);
    }

    /* ---- prediction throughput: ours on the big set in process (no load to
     * subtract); fastText's big file minus its one-line run (model load) */
    double our_big_cpu = 0, our_big_wall = 0, ft_big_cpu = 0, ft_big_wall = 0, ft_one_cpu = 0, ft_one_wall = 0;
    if (!status) {
        double c0 = cpu_s();
        int64_t w0 = sb_mono_ns();
        for (long k = 0; !status && k < repeat; k++) {
            status = our_predict(m, &dev, &norm, again);
            if (!status && memcmp(again, our_pred, dev.n * sizeof *again) != 0) {
                fprintf(stderr, BT ": our predictions differ between runs\n");
                status = 1;
            }
        }
        our_big_cpu = cpu_s() - c0;
        our_big_wall = (double)(sb_mono_ns() - w0) / 1e9;
    }
    if (!status) status = run_child(ft_predict_argv, p_big, p_ft_big, &ft_big_wall, &ft_big_cpu);
    if (!status) status = run_child(ft_predict_argv, p_one, p_ft_one, &ft_one_wall, &ft_one_cpu);
    long our_size = file_size(p_ours), ft_size = file_size(p_ft_bin);

    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, BT ": could not remove %s\n", tmp);
    sb_free(gold);
    sb_free(our_pred);
    sb_free(ft_pred);
    sb_free(again);
    sb_buf_free(&norm);
    text_model_free(m);
    text_dataset_free(ds);
    rows_free(&train);
    rows_free(&dev);
    if (status) return 1;

    /* n_big - 1: the one-line run's text is subtracted for fastText; ours
     * predicts n_big texts in the measured time. */
    if (ft_big_cpu - ft_one_cpu <= 0.0) {
        fprintf(stderr, BT ": fasttext's big run took no more CPU than its one-line run: raise --repeat\n");
        return 1;
    }
    double ft_n = (double)(n_big - 1);
    double our_rate = (double)n_big / (our_big_cpu > 1e-6 ? our_big_cpu : 1e-6);
    double our_rate_wall = (double)n_big / (our_big_wall > 1e-6 ? our_big_wall : 1e-6);
    double ft_rate = ft_n / (ft_big_cpu - ft_one_cpu);
    double ft_rate_wall = ft_big_wall > ft_one_wall ? ft_n / (ft_big_wall - ft_one_wall) : 0.0; /* 0: lost in noise */
    printf("%-10s %9s %9s %12s %12s %16s %16s %12s\n", "system", "accuracy", "macro_f1", "train_cpu_s",
           "train_wall_s", "pred/s (cpu)", "pred/s (wall)", "model_bytes");
    printf("%-10s %9.4f %9.4f %12.4f %12.4f %16.0f %16.0f %12ld\n", "socialbank", our_acc, our_f1, our_train_cpu,
           our_train_wall, our_rate, our_rate_wall, our_size);
    printf("%-10s %9.4f %9.4f %12.4f %12.4f %16.0f %16.0f %12ld\n", "fasttext", ft_acc, ft_f1, ft_train_cpu,
           ft_train_wall, ft_rate, ft_rate_wall, ft_size);
    printf("ratios: training time ours/fasttext=%.2f  prediction speed ours/fasttext=%.2f  "
           "accuracy ours-fasttext=%+.4f\n",
           ft_train_cpu > 0 ? our_train_cpu / ft_train_cpu : 0.0, our_rate / ft_rate, our_acc - ft_acc);
    printf("bench: text value=%.0f unit=predictions/s baseline=fasttext baseline_value=%.0f ratio=%.2f "
           "accuracy=%.4f fasttext_accuracy=%.4f macro_f1=%.4f fasttext_macro_f1=%.4f train_cpu_s=%.2f "
           "fasttext_train_cpu_s=%.2f\n",
           our_rate, ft_rate, our_rate / ft_rate, our_acc, ft_acc, our_f1, ft_f1, our_train_cpu, ft_train_cpu);
    return 0;
}
