/*
 * main.c - the `socialbank` command: finds the subcommand and runs it.
 * Each subcommand lives in src/cli/ and has its own --help.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/core.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"version", cli_version, "print the version"},
    {"migrate", cli_migrate, "create or upgrade the database schema"},
    {"backup", cli_backup, "copy the live database to a file"},
    {"restore", cli_restore, "restore a backup into an empty data directory, checked"},
    {"ledger", cli_ledger, "verify the books, accounts and transfers"},
    {"bench", cli_bench, "run a built-in benchmark (bench ledger)"},
    {"user", cli_user, "add or list staff accounts"},
    {"check", cli_check, "validate card, Sheba, bill and phone values (JSON lines)"},
    {"serve", cli_serve, "run the HTTP and WebSocket server"},
    {"demo", cli_demo, "load the demo data (once)"},
    {"langid", cli_langid, "print the language of each line on stdin"},
    {"normalize", cli_normalize, "print the normalised tokens of each line on stdin"},
    {"signals", cli_signals, "print the risk, life-event and competitor signals of each line"},
    {"train", cli_train, "train a text classifier model from labelled TSV or JSONL"},
    {"eval", cli_eval, "evaluate a classifier model on labelled data"},
    {"classify", cli_classify, "classify each line on stdin (language, heads, signals)"},
    {"ingest", cli_ingest, "ingest an export of posts (JSONL, CSV, Telegram) into listening"},
};

static void usage(FILE *out) {
    fprintf(out, "usage: socialbank COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < SB_ARRAY_LEN(commands); i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'socialbank COMMAND --help' describes each command.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) return cli_version(1, (char *[]){"version", NULL});
    if (sb_crypto_init() != SB_OK) {
        fprintf(stderr, "socialbank: libsodium failed to initialise\n");
        return 1;
    }
    for (size_t i = 0; i < SB_ARRAY_LEN(commands); i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "socialbank: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
