/*
 * cli_bench_pipeline.c - `socialbank bench pipeline`: listening posts per
 * second end to end, beside the classifier alone on the same posts in the
 * same run (bench/pipeline.sh runs it).
 *
 * The posts are real texts: the train splits of the multilingual datasets
 * in --data-dir (Persian, Russian, Ukrainian and English reviews, tweets
 * and complaints about banks and shops), each given a source, an id, an
 * author among a few thousand, a time within two days and counts, written
 * as one JSONL export in memory.  Without the datasets the project's own
 * stream (tests/data/listening_stream.jsonl) is repeated with fresh ids.
 *
 * End to end is what `socialbank ingest` does with that export:
 * listening_import reads and parses each line, checks it, redacts it,
 * understands it with the default model (normalise, language, the three
 * heads, signals) on the worker threads, and stores it on SQLite (a fresh
 * database, durable commits) with its understanding, statistics and rules
 * -> cases.  The baseline is the classifier alone on the same texts with
 * the same number of threads: normalise + predict, nothing else.  Both are
 * wall-clock times of the whole set.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/core.h"
#include "listening/listening.h"
#include "store/store.h"
#include "text/text.h"

#define BP "socialbank bench pipeline"

/* The datasets read, with the network their texts stand for. */
static const struct {
    const char *dir;
    const char *source;
} datasets[] = {
    {"sentipers", "forum"},
    {"cafebazaar-bank-apps", "app_store"},
    {"digikala-comments", "instagram"},
    {"snappfood", "telegram"},
    {"myfin-by-bank-reviews-sentiment", "forum"},
    {"sentirueval2016-banks", "twitter"},
    {"banki-ru-reviews", "forum"},
    {"sravni-ru-bank-reviews", "vk"},
    {"hotline-ua-shop-reviews", "facebook"},
    {"twitter-airline-sentiment", "twitter"},
    {"banking77", "messenger"},
    {"cfpb-complaints-product", "forum"},
};

typedef struct {
    char **texts;
    const char **sources;
    size_t n, cap;
} corpus;

static void corpus_free(corpus *c) {
    for (size_t k = 0; k < c->n; k++)
        sb_free(c->texts[k]);
    sb_free(c->texts);
    sb_free(c->sources);
    memset(c, 0, sizeof *c);
}

static int corpus_add(corpus *c, const char *text, size_t len, const char *source) {
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 4096;
        char **t = sb_realloc(c->texts, cap * sizeof *t);
        if (!t) return SB_ENOMEM;
        c->texts = t;
        const char **s = sb_realloc(c->sources, cap * sizeof *s);
        if (!s) return SB_ENOMEM;
        c->sources = s;
        c->cap = cap;
    }
    char *copy = sb_strndup(text, len);
    if (!copy) return SB_ENOMEM;
    c->texts[c->n] = copy;
    c->sources[c->n] = source;
    c->n++;
    return SB_OK;
}

/* The text column of a "label<TAB>text" file; lines that do not fit are skipped. */
static int corpus_read_tsv(corpus *c, const char *path, const char *source, size_t max) {
    FILE *f = fopen(path, "rb");
    if (!f) return SB_ENOTFOUND;
    char *line = sb_malloc(SB_CLI_LINE_BYTES_MAX + 2);
    int result = line ? SB_OK : SB_ENOMEM;
    bool header = true;
    while (result == SB_OK && c->n < max && fgets(line, SB_CLI_LINE_BYTES_MAX + 2, f)) {
        size_t len = strlen(line);
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (header) {
            header = false;
            continue;
        }
        char *tab = strchr(line, '\t');
        if (!tab || !tab[1]) continue;
        result = corpus_add(c, tab + 1, strlen(tab + 1), source);
    }
    sb_free(line);
    fclose(f);
    return result;
}

/* The project's stream: the "text" and "source" of each line. */
static int corpus_read_stream(corpus *c, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return SB_ENOTFOUND;
    char *line = sb_malloc(SB_LISTENING_JSONL_LINE_BYTES_MAX + 2);
    int result = line ? SB_OK : SB_ENOMEM;
    while (result == SB_OK && fgets(line, SB_LISTENING_JSONL_LINE_BYTES_MAX + 2, f)) {
        json_t *rec = json_loads(line, 0, NULL);
        const char *text = json_string_value(json_object_get(rec, "text"));
        const char *source = json_string_value(json_object_get(rec, "source"));
        /* sources are borrowed for the corpus's life: map to the static name */
        const char *known = "forum";
        for (size_t k = 0; source && k < SB_ARRAY_LEN(datasets); k++)
            if (strcmp(datasets[k].source, source) == 0) known = datasets[k].source;
        if (text) result = corpus_add(c, text, strlen(text), known);
        json_decref(rec);
    }
    sb_free(line);
    fclose(f);
    return result;
}

/* The export: one JSONL line per post, `posts` posts cycling the corpus. */
static int export_build(const corpus *c, size_t posts, int64_t now_ms, sb_buf *out) {
    int result = SB_OK;
    for (size_t k = 0; k < posts && result == SB_OK; k++) {
        size_t i = k % c->n;
        uint32_t h = (uint32_t)(k * 2654435761u);
        int64_t at = now_ms - (int64_t)(k % 172800) * 1000; /* two days, a post a second */
        result = sb_buf_printf(out,
                               "{\"source\":\"%s\",\"id\":\"bench-%zu\",\"author\":\"@user%u\",\"followers\":%u,"
                               "\"time\":%lld,\"likes\":%u,\"shares\":%u,\"replies\":%u,\"text\":\"",
                               c->sources[i], k, h % 5000, h % 20000, (long long)at, h % 50, h % 7, h % 11);
        if (result == SB_OK) result = sb_buf_append_json_escaped(out, c->texts[i], strlen(c->texts[i]));
        if (result == SB_OK) result = sb_buf_append_str(out, "\"}\n");
    }
    return result;
}

static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the baseline: normalise + predict on `threads` threads ---- */
typedef struct {
    const text_model *model;
    const corpus *c;
    size_t posts, first, step;
    int result;
    uint64_t checksum; /* labels seen, so the work cannot be skipped */
} classify_job;

static void *classify_main(void *arg) {
    classify_job *job = arg;
    sb_buf norm;
    sb_buf_init(&norm, SB_TEXT_NORMALIZED_BYTES_MAX);
    text_prediction pred[SB_TEXT_MODEL_HEADS_MAX];
    job->result = SB_OK;
    for (size_t k = job->first; k < job->posts && job->result == SB_OK; k += job->step) {
        const char *text = job->c->texts[k % job->c->n];
        size_t len = strlen(text);
        if (len > SB_LISTENING_TEXT_BYTES_MAX) continue; /* the pipeline rejects these too */
        sb_buf_reset(&norm);
        job->result = text_normalize(text, len, &norm);
        if (job->result == SB_OK)
            job->result = text_model_predict(job->model, norm.data ? norm.data : "", norm.len, pred);
        if (job->result == SB_OK) job->checksum += pred[0].label;
    }
    sb_buf_free(&norm);
    return NULL;
}

/* Seconds to classify the posts on `threads` threads (0 = 1). */
static int classify_all(const text_model *model, const corpus *c, size_t posts, int threads, double *seconds,
                        double *cpu_seconds) {
    double cpu0 = cpu_s();
    if (threads < 1) threads = 1;
    classify_job jobs[SB_THREADS_MAX];
    pthread_t ids[SB_THREADS_MAX];
    int64_t start = sb_mono_ns();
    int started = 0;
    for (int t = 0; t < threads; t++) {
        jobs[t] = (classify_job){model, c, posts, (size_t)t, (size_t)threads, SB_OK, 0};
        if (pthread_create(&ids[t], NULL, classify_main, &jobs[t]) != 0) break;
        started++;
    }
    int result = started == threads ? SB_OK : SB_EINTERNAL;
    for (int t = 0; t < started; t++) {
        pthread_join(ids[t], NULL);
        if (jobs[t].result != SB_OK) result = jobs[t].result;
    }
    *seconds = (double)(sb_mono_ns() - start) / 1e9;
    *cpu_seconds = cpu_s() - cpu0;
    return result;
}

/* ---- the pipeline ---- */
static int run_pipeline(const char *data_dir, listening_text_engine *engine, const sb_buf *export, size_t batch,
                        int threads, int64_t now_ms, listening_import_result *r, double *seconds, double *cpu_seconds) {
    store *s = NULL;
    listening *l = NULL;
    store_options so = {.durable = 1, .cache_kib = SB_LISTENING_INGEST_CACHE_KIB};
    int result = store_open(data_dir, &so, &s);
    if (result == SB_OK) result = store_migrate(s, NULL);
    listening_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.understander = listening_text_understander(engine);
    if (result == SB_OK) result = listening_open(s, &cfg, &l);
    if (result != SB_OK) {
        fprintf(stderr, BP ": cannot open a store in %s: %s\n", data_dir, sb_strerror(result));
        store_close(s);
        return result;
    }
    listening_import_options options = {.batch_posts = batch, .threads = threads};
    int64_t start = sb_mono_ns();
    double cpu0 = cpu_s();
    result = listening_import(l, &listening_format_jsonl, export->data, export->len, &options, now_ms, r, NULL);
    *seconds = (double)(sb_mono_ns() - start) / 1e9;
    *cpu_seconds = cpu_s() - cpu0;
    if (result != SB_OK) fprintf(stderr, BP ": ingest failed: %s (%s)\n", sb_strerror(result), store_errmsg(s));
    listening_close(l);
    store_close(s);
    return result;
}

int cli_bench_pipeline(int argc, char **argv) {
    char default_threads[16];
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1) cores = 1;
    if (cores > SB_THREADS_MAX) cores = SB_THREADS_MAX;
    snprintf(default_threads, sizeof default_threads, "%ld", cores);
    cli_option opts[] = {
        {"data-dir", "SB_DATA_DIR", "the datasets directory (shared/data); absent: the project's own stream", NULL,
         false, NULL, false},
        {"stream", NULL, "the project's stream, used when the datasets are absent", "tests/data/listening_stream.jsonl",
         false, NULL, false},
        {"model", "SOCIALBANK_MODEL", "classifier model (default: models/default.sbm beside the binary)", NULL, false,
         NULL, false},
        {"posts", NULL, "posts in the export (the texts are cycled; 0: each text once)", "0", false, NULL, false},
        {"batch", NULL, "posts per transaction", "1000", false, NULL, false},
        {"threads", NULL, "understanding threads of the pipeline, and classifier threads", default_threads, false, NULL,
         false},
        {"store", NULL, "directory for the benchmark's database (default: a new temporary one, removed)", NULL, false,
         NULL, false},
        {NULL}};
    const char *pos[1];
    int npos;
    bool help;
    int rc = cli_parse(argc, argv, opts, pos, 0, &npos, &help);
    if (rc) return rc;
    if (help) {
        cli_print_help("bench pipeline [OPTIONS]",
                       "Listening posts per second end to end (read, check, redact, understand, store, count,\n"
                       "route) on SQLite with the default model, beside the classifier alone (normalise +\n"
                       "predict) on the same posts and threads.  Ends with one line\n"
                       "  bench: pipeline value=N unit=posts/s baseline=classifier baseline_value=N ratio=R ...",
                       opts);
        return 0;
    }
    long posts_opt, batch, threads;
    if ((rc = cli_int(opts, "posts", 0, 100000000, &posts_opt)) != 0) return rc;
    if ((rc = cli_int(opts, "batch", 1, SB_LISTENING_BATCH_POSTS_MAX, &batch)) != 0) return rc;
    if ((rc = cli_int(opts, "threads", 0, SB_THREADS_MAX, &threads)) != 0) return rc;

    /* The texts. */
    corpus c = {0};
    const char *data_dir = cli_value(opts, "data-dir");
    const char *corpus_name = "datasets";
    size_t datasets_read = 0;
    int result = SB_OK;
    for (size_t k = 0; data_dir && k < SB_ARRAY_LEN(datasets) && result != SB_ENOMEM; k++) {
        char path[SB_PATH_BYTES_MAX];
        snprintf(path, sizeof path, "%s/%s/train.tsv", data_dir, datasets[k].dir);
        result = corpus_read_tsv(&c, path, datasets[k].source, SB_BENCH_TEXT_ROWS_MAX);
        if (result == SB_OK) datasets_read++;
    }
    if (result == SB_ENOMEM) {
        fprintf(stderr, BP ": out of memory reading the datasets\n");
        corpus_free(&c);
        return 1;
    }
    if (c.n == 0) {
        corpus_name = "stream";
        if (corpus_read_stream(&c, cli_value(opts, "stream")) != SB_OK || c.n == 0) {
            fprintf(stderr, BP ": no datasets in %s and no stream at %s\n", data_dir ? data_dir : "(none)",
                    cli_value(opts, "stream"));
            corpus_free(&c);
            return 1;
        }
    }
    size_t posts = posts_opt > 0 ? (size_t)posts_opt : c.n;

    /* The model, shared by the pipeline's engine and the baseline. */
    char model_path[SB_PATH_BYTES_MAX];
    if (cli_model_path(cli_value(opts, "model"), model_path, sizeof model_path) != SB_OK) {
        fprintf(stderr, BP ": give --model\n");
        corpus_free(&c);
        return 2;
    }
    char err[TEXT_ERROR_BYTES];
    text_model *model = NULL;
    result = text_model_load(model_path, &model, err);
    listening_text_engine *engine = NULL;
    if (result == SB_OK) result = listening_text_engine_wrap(model, "bench", &engine);
    if (result != SB_OK) {
        fprintf(stderr, BP ": %s: %s\n", model_path, result == SB_ENOMEM ? "out of memory" : err);
        text_model_free(model);
        corpus_free(&c);
        return 1;
    }

    int64_t now_ms = sb_now_ms();
    sb_buf export;
    sb_buf_init(&export, (size_t)1 << 34);
    result = export_build(&c, posts, now_ms, &export);
    char store_dir[SB_PATH_BYTES_MAX];
    bool temporary = !cli_value(opts, "store");
    if (temporary) {
        snprintf(store_dir, sizeof store_dir, "/tmp/sb-bench-pipeline-XXXXXX");
        if (!mkdtemp(store_dir)) result = SB_EIO;
    } else {
        snprintf(store_dir, sizeof store_dir, "%s", cli_value(opts, "store"));
    }
    double base_s = 0, base1_s = 0, pipe_s = 0, base_cpu = 0, base1_cpu = 0, pipe_cpu = 0;
    listening_import_result r;
    memset(&r, 0, sizeof r);
    if (result == SB_OK) result = classify_all(model, &c, posts, (int)threads, &base_s, &base_cpu);
    if (result == SB_OK && threads > 1) result = classify_all(model, &c, posts, 1, &base1_s, &base1_cpu);
    sb_log_set_level(SB_LOG_WARN); /* no migration chatter */
    if (result == SB_OK)
        result = run_pipeline(store_dir, engine, &export, (size_t)batch, (int)threads, now_ms, &r, &pipe_s, &pipe_cpu);
    if (temporary && store_dir[0] != '\0') {
        static const char *const files[] = {"socialbank.db", "socialbank.db-wal", "socialbank.db-shm"};
        for (size_t k = 0; k < SB_ARRAY_LEN(files); k++) {
            char path[SB_PATH_BYTES_MAX + 32];
            snprintf(path, sizeof path, "%s/%s", store_dir, files[k]);
            unlink(path);
        }
        rmdir(store_dir);
    }
    int status = 0;
    if (result != SB_OK) {
        fprintf(stderr, BP ": failed: %s\n", sb_strerror(result));
        status = 1;
    } else {
        double value = pipe_s > 0 ? (double)r.records / pipe_s : 0;
        double base = base_s > 0 ? (double)posts / base_s : 0;
        printf("corpus: %s (%zu texts from %zu datasets), %zu posts, %.1f MiB of JSONL\n", corpus_name, c.n,
               datasets_read, posts, (double)export.len / (1024.0 * 1024.0));
        printf("pipeline: %zu records in %.3f s (%.3f CPU s): accepted %zu, duplicates %zu, rejected %zu, not "
               "understood %zu, "
               "cases opened %zu, joined %zu, batches %zu\n",
               r.records, pipe_s, pipe_cpu, r.accepted, r.duplicates, r.rejected, r.not_understood, r.cases_opened,
               r.cases_joined, r.batches);
        printf("classifier: %zu posts in %.3f s (%.3f CPU s) on %ld threads", posts, base_s, base_cpu,
               threads < 1 ? 1L : threads);
        if (base1_s > 0) printf(" (%.3f s on one thread: %.0f posts/s)", base1_s, (double)posts / base1_s);
        printf("\n");
        printf("bench: pipeline value=%.0f unit=posts/s baseline=classifier baseline_value=%.0f ratio=%.3f posts=%zu "
               "cases=%zu threads=%ld batch=%ld corpus=%s\n",
               value, base, base > 0 ? value / base : 0.0, r.records, r.cases_opened, threads, batch, corpus_name);
    }
    sb_buf_free(&export);
    listening_text_engine_free(engine);
    text_model_free(model);
    corpus_free(&c);
    return status;
}
