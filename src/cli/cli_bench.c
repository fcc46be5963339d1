/*
 * cli_bench.c - `socialbank bench NAME`: the benchmarks built into the
 * binary (bench/NAME.sh runs them).  Each prints its figures and ends with
 * the one summary line `bench: NAME value=... baseline=... ratio=...`.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} bench_entry;

static const bench_entry benches[] = {
    {"ledger", cli_bench_ledger, "durable transfers/s with group commit vs one transaction per transfer"},
    {"pipeline", cli_bench_pipeline, "listening posts/s end to end (ingest, understand, store, route) vs the classifier"},
    {"text", cli_bench_text, "Banking77 intents: our classifier vs the fasttext command (accuracy, predictions/s)"},
};

int cli_bench(int argc, char **argv) {
    if (argc >= 2) {
        for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++)
            if (strcmp(argv[1], benches[i].name) == 0) return benches[i].run(argc - 1, argv + 1);
    }
    bool help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
    FILE *out = help ? stdout : stderr;
    fprintf(out, "usage: socialbank bench NAME [OPTIONS]\n\nbenchmarks:\n");
    for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++)
        fprintf(out, "  %-10s %s\n", benches[i].name, benches[i].summary);
    return help ? 0 : 2;
}
