/*
 * cli_ingest.c - `socialbank ingest FILE`: an export of posts (JSONL, CSV,
 * a Telegram export, any registered listening_format) into listening.
 *
 * The file is mapped, never read whole into the heap; standard input ("-")
 * is spooled to an unlinked temporary file first and mapped the same way,
 * so memory stays bounded by the batch size whatever the input.  Records go
 * through listening_import: understanding (the text engine) on worker
 * threads, batches stored in file order, one transaction each.  A progress
 * bar goes to stderr only when stderr is a terminal; the summary goes to
 * stdout as "key: value" lines (stable, for scripts and tests).
 *
 * Exit: 0 when the file was read (rejected rows included), 1 on an I/O,
 * model or store error (batches stored before it stay), 2 on usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/core.h"
#include "listening/listening.h"
#include "store/store.h"

#define CI "socialbank ingest"

typedef struct {
    const char *data;
    size_t len;
    void *map; /* munmap on close */
    size_t map_len;
} mapped_input;

static void input_close(mapped_input *in) {
    if (in->map) munmap(in->map, in->map_len);
    memset(in, 0, sizeof *in);
}

/* Map fd (a regular file).  0, or 1 (reported). */
static int map_fd(int fd, const char *name, mapped_input *in) {
    struct stat st;
    if (fstat(fd, &st) != 0) {
        fprintf(stderr, CI ": cannot read %s: %s\n", name, strerror(errno));
        return 1;
    }
    if ((long long)st.st_size > SB_LISTENING_IMPORT_FILE_BYTES_MAX) {
        fprintf(stderr, CI ": %s is larger than %lld bytes\n", name, (long long)SB_LISTENING_IMPORT_FILE_BYTES_MAX);
        return 1;
    }
    in->len = (size_t)st.st_size;
    in->data = "";
    if (in->len == 0) return 0;
    void *map = mmap(NULL, in->len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        fprintf(stderr, CI ": cannot map %s: %s\n", name, strerror(errno));
        return 1;
    }
    madvise(map, in->len, MADV_SEQUENTIAL);
    in->map = map;
    in->map_len = in->len;
    in->data = map;
    return 0;
}

/* Standard input: a regular file is mapped; a pipe is copied to an
 * unlinked temporary file first.  0, or 1 (reported). */
static int open_stdin(mapped_input *in) {
    struct stat st;
    if (fstat(0, &st) == 0 && S_ISREG(st.st_mode)) return map_fd(0, "standard input", in);
    FILE *spool = tmpfile();
    if (!spool) {
        fprintf(stderr, CI ": cannot create a temporary file for standard input: %s\n", strerror(errno));
        return 1;
    }
    char chunk[64 * 1024];
    long long total = 0;
    int status = 0;
    for (;;) {
        ssize_t n = read(0, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            fprintf(stderr, CI ": reading standard input failed: %s\n", strerror(errno));
            status = 1;
            break;
        }
        if (n == 0) break;
        total += n;
        if (total > SB_LISTENING_IMPORT_FILE_BYTES_MAX) {
            fprintf(stderr, CI ": standard input is larger than %lld bytes\n",
                    (long long)SB_LISTENING_IMPORT_FILE_BYTES_MAX);
            status = 1;
            break;
        }
        if (fwrite(chunk, 1, (size_t)n, spool) != (size_t)n) {
            fprintf(stderr, CI ": spooling standard input failed: %s\n", strerror(errno));
            status = 1;
            break;
        }
    }
    if (status == 0 && fflush(spool) != 0) {
        fprintf(stderr, CI ": spooling standard input failed: %s\n", strerror(errno));
        status = 1;
    }
    if (status == 0) status = map_fd(fileno(spool), "standard input", in);
    fclose(spool); /* the mapping outlives the descriptor */
    return status;
}

static int open_input(const char *path, mapped_input *in) {
    memset(in, 0, sizeof *in);
    if (strcmp(path, "-") == 0) return open_stdin(in);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, CI ": cannot open %s: %s\n", path, strerror(errno));
        return 1;
    }
    struct stat st;
    int status = 0;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, CI ": %s is not a regular file\n", path);
        status = 1;
    }
    if (status == 0) status = map_fd(fd, path, in);
    close(fd);
    return status;
}

/* ---- progress ---- */
typedef struct {
    int64_t start_ns;
    bool drawn;
} progress_state;

static void progress_draw(void *arg, size_t done, size_t total, const listening_import_result *r) {
    progress_state *p = arg;
    int percent = total ? (int)((double)done * 100.0 / (double)total) : 100;
    if (percent > 100) percent = 100;
    char bar[31];
    int filled = percent * 30 / 100;
    for (int k = 0; k < 30; k++)
        bar[k] = k < filled ? '#' : '.';
    bar[30] = '\0';
    double seconds = (double)(sb_mono_ns() - p->start_ns) / 1e9;
    fprintf(stderr, "\r[%s] %3d%%  %zu records, %zu rejected, %.0f/s ", bar, percent, r->records, r->rejected,
            seconds > 0 ? (double)r->records / seconds : 0.0);
    fflush(stderr);
    p->drawn = true;
}

static void print_summary(const char *path, const listening_format *f, const listening_import_result *r,
                          double seconds) {
    printf("file: %s\n", path);
    printf("format: %s\n", f->name);
    printf("records: %zu\n", r->records);
    printf("accepted: %zu\n", r->accepted);
    printf("duplicates: %zu\n", r->duplicates);
    printf("rejected: %zu\n", r->rejected);
    for (size_t k = 0; k < r->reason_count; k++)
        printf("rejected.%s: %zu\n", r->reasons[k].reason, r->reasons[k].count);
    printf("not_understood: %zu\n", r->not_understood);
    printf("cases_opened: %zu\n", r->cases_opened);
    printf("cases_joined: %zu\n", r->cases_joined);
    printf("leads: %zu\n", r->leads);
    for (size_t k = 0; k < r->first_count; k++)
        printf("rejected_row: line %zu: %s\n", r->first[k].line, r->first[k].reason);
    printf("seconds: %.3f\n", seconds);
    printf("posts_per_second: %.0f\n", seconds > 0 ? (double)r->records / seconds : 0.0);
}

static void print_formats(FILE *out) {
    fprintf(out, "formats (--format, or picked by the file's extension):\n");
    for (size_t k = 0; listening_formats[k]; k++)
        fprintf(out, "  %-9s .%-6s %s\n", listening_formats[k]->name, listening_formats[k]->extension,
                listening_formats[k]->summary);
}

int cli_ingest(int argc, char **argv) {
    char default_threads[16];
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1) cores = 1;
    if (cores > SB_THREADS_MAX) cores = SB_THREADS_MAX;
    snprintf(default_threads, sizeof default_threads, "%ld", cores);
    char default_batch[16];
    snprintf(default_batch, sizeof default_batch, "%d", SB_LISTENING_IMPORT_BATCH_DEFAULT);
    cli_option opts[] = {
        {"format", NULL, "jsonl, csv or telegram (default: from the file's extension; jsonl for -)", NULL, false, NULL,
         false},
        {"source", NULL, "source for records that name none (twitter, app_store, forum, ...)", NULL, false, NULL,
         false},
        CLI_DATA_OPTION,
        {"model", "SOCIALBANK_MODEL",
         "classifier model (default: models/default.sbm beside the binary; none: store "
         "without understanding)",
         NULL, false, NULL, false},
        {"batch", NULL, "posts per transaction", default_batch, false, NULL, false},
        {"threads", NULL, "understanding threads (0: all on one thread)", default_threads, false, NULL, false},
        {NULL}};
    const char *pos[1];
    int npos;
    bool help;
    int rc = cli_parse(argc, argv, opts, pos, 1, &npos, &help);
    if (rc) return rc;
    if (help) {
        cli_print_help("ingest FILE [OPTIONS]",
                       "Ingest an export of posts into listening: each record is checked, redacted, understood by\n"
                       "the text engine, stored (duplicates by source and id are merged), counted and routed to\n"
                       "cases.  FILE may be - for standard input.  Prints a summary: accepted, duplicates,\n"
                       "rejected with counts per reason and the first rejected rows with their lines.  Exit 0\n"
                       "when the file was read (even with rejected rows), 1 on I/O or store errors, 2 on usage.",
                       opts);
        printf("\n");
        print_formats(stdout);
        return 0;
    }
    if (npos != 1) {
        fprintf(stderr, CI ": give one FILE (or - for standard input); see --help\n");
        return 2;
    }
    const char *path = pos[0];
    long batch, threads;
    if ((rc = cli_int(opts, "batch", 1, SB_LISTENING_BATCH_POSTS_MAX, &batch)) != 0) return rc;
    if ((rc = cli_int(opts, "threads", 0, SB_THREADS_MAX, &threads)) != 0) return rc;
    const listening_format *f = NULL;
    const char *format_name = cli_value(opts, "format");
    if (format_name) {
        f = listening_format_find(format_name);
        if (!f) {
            fprintf(stderr, CI ": unknown --format '%s'\n", format_name);
            print_formats(stderr);
            return 2;
        }
    } else {
        f = strcmp(path, "-") == 0 ? &listening_format_jsonl : listening_format_for_path(path);
        if (!f) {
            fprintf(stderr, CI ": cannot tell the format of %s from its name: give --format\n", path);
            print_formats(stderr);
            return 2;
        }
    }
    const char *source = cli_value(opts, "source");
    if (source && !listening_source_valid(source)) {
        fprintf(stderr, CI ": unknown --source '%s'\n", source);
        return 2;
    }

    listening_text_engine *engine = NULL;
    const char *model = cli_value(opts, "model");
    if (!model || strcmp(model, "none") != 0) {
        char model_path[SB_PATH_BYTES_MAX];
        if (cli_model_path(model, model_path, sizeof model_path) != SB_OK) {
            fprintf(stderr, CI ": give --model (cannot locate the binary's directory)\n");
            return 2;
        }
        char err[TEXT_ERROR_BYTES];
        int result = listening_text_engine_open(model_path, &engine, err);
        if (result != SB_OK) {
            fprintf(stderr, CI ": %s (%s)%s\n", err, sb_error_name(result),
                    result == SB_ENOTFOUND && !model ? "; build it with `make model`, give --model, or --model none"
                                                     : "");
            return 1;
        }
    }
    mapped_input in;
    if (open_input(path, &in) != 0) {
        listening_text_engine_free(engine);
        return 1;
    }
    store *s = NULL;
    listening *l = NULL;
    store_options store_opts = {.durable = 1, .cache_kib = SB_LISTENING_INGEST_CACHE_KIB};
    int result = store_open(cli_value(opts, "data"), &store_opts, &s);
    if (result == SB_OK) result = store_migrate(s, NULL);
    listening_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (engine) cfg.understander = listening_text_understander(engine);
    if (result == SB_OK) result = listening_open(s, &cfg, &l);
    if (result != SB_OK) {
        fprintf(stderr, CI ": cannot open the store in %s: %s\n", cli_value(opts, "data"),
                s ? store_errmsg(s) : sb_strerror(result));
        store_close(s);
        input_close(&in);
        listening_text_engine_free(engine);
        return 1;
    }

    progress_state progress = {.start_ns = sb_mono_ns(), .drawn = false};
    listening_import_options options = {
        .batch_posts = (size_t)batch,
        .threads = (int)threads,
        .default_source = source,
        .progress = isatty(2) ? progress_draw : NULL,
        .progress_arg = &progress,
    };
    listening_import_result r;
    const char *reason = NULL;
    int64_t start = sb_mono_ns();
    result = listening_import(l, f, in.data, in.len, &options, sb_now_ms(), &r, &reason);
    double seconds = (double)(sb_mono_ns() - start) / 1e9;
    if (progress.drawn) fprintf(stderr, "\n");
    int status = 0;
    if (result == SB_EINVAL && reason) {
        fprintf(stderr, CI ": %s is not a readable %s file: %s\n", path, f->name, reason);
        status = 1;
    } else {
        print_summary(path, f, &r, seconds);
        if (result != SB_OK) {
            fprintf(stderr, CI ": stopped after %zu batches: %s (%s)\n", r.batches, sb_strerror(result),
                    store_errmsg(s));
            status = 1;
        }
    }
    listening_close(l);
    store_close(s);
    input_close(&in);
    listening_text_engine_free(engine);
    return status;
}
