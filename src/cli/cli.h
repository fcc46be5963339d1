/*
 * cli.h - the `socialbank` subcommands, and a small argument parser they share.
 *
 * Each subcommand is `int cli_NAME(int argc, char **argv)` with argv[0] the
 * subcommand's name; it returns the process exit code (0 ok, 1 failure,
 * 2 usage error) and prints errors on stderr.  The cli sits on top, like the
 * api: it may use every module, and no module uses it.
 */
#ifndef SB_CLI_H
#define SB_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* ---- argument parsing ---- */
/* One option of a subcommand: --name VALUE or --name=VALUE (or a flag
 * without value when is_flag), with an optional environment variable that
 * supplies the value when the option is absent. */
typedef struct {
    const char *name;  /* without the dashes, e.g. "port" */
    const char *env;   /* e.g. "SOCIALBANK_PORT", or NULL */
    const char *help;  /* one line */
    const char *def;   /* default value text, or NULL */
    bool is_flag;      /* takes no value */
    const char *value; /* out: the value (argv, env or def), or NULL */
    bool seen;         /* out: given on the command line or in env */
} cli_option;

/* Parse argv[1..] against opts (terminated by a {NULL} entry).  Positional
 * arguments are gathered into positional (at most positional_max; more is a
 * usage error).  "--help" or "-h" sets *help_out.  On a usage error a message
 * goes to stderr and 2 is returned; otherwise 0. */
int cli_parse(int argc, char **argv, cli_option *opts, const char **positional, int positional_max,
              int *positional_count, bool *help_out);
/* The start every subcommand shares: cli_parse, and on --help print
 * cli_print_help(usage, summary, opts).  Returns true when the subcommand is
 * finished, with *exit_code to return (0 after the help, 2 on a usage error,
 * the message printed); false to go on (*exit_code 0).  positional and
 * positional_count may be NULL when positional_max is 0. */
bool cli_begin(int argc, char **argv, const char *usage, const char *summary, cli_option *opts, const char **positional,
               int positional_max, int *positional_count, int *exit_code);
/* Print "usage: socialbank USAGE", the summary and the options to stdout. */
void cli_print_help(const char *usage, const char *summary, const cli_option *opts);
/* Look up an option's value by name (NULL if absent and no default). */
const char *cli_value(const cli_option *opts, const char *name);
/* Parse an integer option within [min, max]; on error print it and return 2. */
int cli_int(const cli_option *opts, const char *name, long min, long max, long *out);
/* The data directory: --data, $SOCIALBANK_DATA, or ./data. */
#define CLI_DATA_OPTION                                                                                                \
    { "data", "SOCIALBANK_DATA", "data directory (SQLite database lives here)", "./data", false, NULL, false }

/* ---- line input ---- */
/* Read one line of in (without the newline; a trailing CR dropped) into buf,
 * which holds max + 1 bytes, NUL-terminated.  Returns 1 for a line
 * (*len_out its length), 0 at EOF (or a read error: check ferror), -1 for a
 * line longer than max bytes (its rest is consumed, so the next call reads
 * the next line).  Memory is bounded by max whatever in holds. */
int cli_read_line(FILE *in, char *buf, size_t max, size_t *len_out);

/* ---- subcommands ---- */
int cli_version(int argc, char **argv);
int cli_migrate(int argc, char **argv);
int cli_backup(int argc, char **argv);
int cli_restore(int argc, char **argv);
/* `ledger verify|account|transfer` (src/cli/cli_ledger.c). */
int cli_ledger(int argc, char **argv);
/* `bench NAME`: built-in benchmarks (src/cli/cli_bench.c dispatches). */
int cli_bench(int argc, char **argv);
int cli_bench_ledger(int argc, char **argv);
int cli_bench_text(int argc, char **argv);
/* `socialbank user add|list` (cli_user.c). */
int cli_user(int argc, char **argv);
/* payments: validate instruments (src/cli/cli_check.c) */
int cli_check(int argc, char **argv);
int cli_serve(int argc, char **argv);
/* demo data for `make run` (cli_demo.c) */
int cli_demo(int argc, char **argv);
/* text engine line filters (cli_textcore.c) */
int cli_langid(int argc, char **argv);
int cli_normalize(int argc, char **argv);
int cli_signals(int argc, char **argv);
/* text classifier (cli_classifier.c) */
int cli_train(int argc, char **argv);
int cli_eval(int argc, char **argv);
int cli_classify(int argc, char **argv);

/* listening: `ingest FILE` (cli_ingest.c), `bench pipeline` (cli_bench_pipeline.c) */
int cli_ingest(int argc, char **argv);
int cli_bench_pipeline(int argc, char **argv);

/* A file or directory shipped with the binary, `name` relative to where it
 * lives: beside the binary in a build tree (BUILD/models/default.sbm,
 * BUILD/web), else under PREFIX/share/socialbank after `cmake --install`
 * (the binary in PREFIX/bin).  The first that exists; if neither, the build
 * tree's path.  SB_ENOTFOUND if the binary's directory is unknown,
 * SB_ELIMIT if the path does not fit. */
int cli_shipped_path(const char *name, char *out, size_t size) __attribute__((warn_unused_result));

/* The classifier model to use: `given` when set (--model or
 * $SOCIALBANK_MODEL), else the shipped models/default.sbm (cli_shipped_path).
 * SB_ENOTFOUND if the binary's directory is unknown, SB_ELIMIT if the path
 * does not fit. */
int cli_model_path(const char *given, char *out, size_t size) __attribute__((warn_unused_result));

#endif /* SB_CLI_H */
