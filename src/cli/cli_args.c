/*
 * cli_args.c - the argument parser every subcommand uses: long options with
 * values or flags, environment fallbacks, defaults, positional arguments,
 * bounded integers and a uniform --help.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/core.h"

static cli_option *find_option(cli_option *opts, const char *name, size_t name_len) {
    for (cli_option *o = opts; o->name; o++)
        if (strlen(o->name) == name_len && strncmp(o->name, name, name_len) == 0) return o;
    return NULL;
}

int cli_parse(int argc, char **argv, cli_option *opts, const char **positional, int positional_max,
              int *positional_count, bool *help_out) {
    *help_out = false;
    *positional_count = 0;
    for (cli_option *o = opts; o->name; o++) {
        o->value = NULL;
        o->seen = false;
    }
    bool only_positional = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strlen(arg) > SB_CLI_LINE_BYTES_MAX) {
            fprintf(stderr, "socialbank %s: argument %d is too long\n", argv[0], i);
            return 2;
        }
        if (!only_positional && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)) {
            *help_out = true;
            return 0;
        }
        if (!only_positional && strcmp(arg, "--") == 0) {
            only_positional = true;
            continue;
        }
        if (!only_positional && strncmp(arg, "--", 2) == 0) {
            const char *name = arg + 2;
            const char *eq = strchr(name, '=');
            size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
            cli_option *o = find_option(opts, name, name_len);
            if (!o) {
                fprintf(stderr, "socialbank %s: unknown option --%.*s (see --help)\n", argv[0], (int)name_len, name);
                return 2;
            }
            if (o->is_flag) {
                if (eq) {
                    fprintf(stderr, "socialbank %s: --%s takes no value\n", argv[0], o->name);
                    return 2;
                }
                o->value = "1";
            } else if (eq) {
                o->value = eq + 1;
            } else if (i + 1 < argc) {
                o->value = argv[++i];
            } else {
                fprintf(stderr, "socialbank %s: --%s needs a value\n", argv[0], o->name);
                return 2;
            }
            o->seen = true;
            continue;
        }
        if (*positional_count >= positional_max) {
            fprintf(stderr, "socialbank %s: unexpected argument '%s' (see --help)\n", argv[0], arg);
            return 2;
        }
        positional[(*positional_count)++] = arg;
    }
    for (cli_option *o = opts; o->name; o++) {
        if (o->seen) continue;
        const char *env = o->env ? getenv(o->env) : NULL;
        if (env && *env) {
            o->value = env;
            o->seen = true;
        } else {
            o->value = o->def;
        }
    }
    return 0;
}

bool cli_begin(int argc, char **argv, const char *usage, const char *summary, cli_option *opts, const char **positional,
               int positional_max, int *positional_count, int *exit_code) {
    int count = 0;
    bool help = false;
    *exit_code = cli_parse(argc, argv, opts, positional, positional_max, &count, &help);
    if (positional_count) *positional_count = count;
    if (*exit_code != 0) return true;
    if (help) cli_print_help(usage, summary, opts);
    return help;
}

void cli_print_help(const char *usage, const char *summary, const cli_option *opts) {
    printf("usage: socialbank %s\n\n%s\n", usage, summary);
    if (opts && opts->name) printf("\noptions:\n");
    for (const cli_option *o = opts; o && o->name; o++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s", o->name, o->is_flag ? "" : " VALUE");
        printf("  %-22s %s", left, o->help);
        if (o->def) printf(" (default %s)", o->def);
        if (o->env) printf(" [env %s]", o->env);
        printf("\n");
    }
    printf("  %-22s %s\n", "--help", "show this help");
}

const char *cli_value(const cli_option *opts, const char *name) {
    for (const cli_option *o = opts; o->name; o++)
        if (strcmp(o->name, name) == 0) return o->value;
    return NULL;
}

int cli_int(const cli_option *opts, const char *name, long min, long max, long *out) {
    const char *text = cli_value(opts, name);
    int64_t value;
    if (!text || sb_parse_int64(text, &value) != SB_OK || value < min || value > max) {
        fprintf(stderr, "socialbank: --%s must be a whole number from %ld to %ld (got '%s')\n", name, min, max,
                text ? text : "");
        return 2;
    }
    *out = (long)value;
    return 0;
}
