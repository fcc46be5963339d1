/*
 * cli_textcore.c - `socialbank langid`, `socialbank normalize` and
 * `socialbank signals`: the text engine's line filters, one output line per
 * input line on stdin (for scripts, benchmarks and debugging).
 *
 * Lines longer than SB_TEXT_INPUT_BYTES_MAX and lines that are not valid
 * UTF-8 produce an "error <name>" line in their place and the filter goes
 * on, so output line N always answers input line N.  A trailing CR is
 * dropped.  Memory is bounded by the line limit whatever stdin holds.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/core.h"
#include "text/text.h"

typedef enum { FILTER_LANGID, FILTER_NORMALIZE, FILTER_SIGNALS } filter_kind;

static void print_signals_json(const text_signals_result *r, sb_buf *json) {
    sb_buf_reset(json);
    int rc = sb_buf_append_str(json, "{\"signals\":[");
    for (size_t i = 0; rc == SB_OK && i < r->count; i++) {
        const text_signal *s = &r->items[i];
        rc = sb_buf_printf(json, "%s{\"kind\":\"%s\",\"name\":\"", i ? "," : "", text_signal_kind_name(s->kind));
        if (rc == SB_OK) rc = sb_buf_append_json_escaped(json, text_signal_name(s->kind, s->code),
                                                         strlen(text_signal_name(s->kind, s->code)));
        if (rc == SB_OK && s->kind == TEXT_SIGNAL_LIFE_EVENT)
            rc = sb_buf_printf(json, "\",\"offer\":\"%s", text_life_event_offer((text_life_event)s->code));
        if (rc == SB_OK) rc = sb_buf_append_str(json, "\",\"trigger\":\"");
        if (rc == SB_OK) rc = sb_buf_append_json_escaped(json, s->trigger, strlen(s->trigger));
        if (rc == SB_OK) rc = sb_buf_append_str(json, "\"}");
    }
    if (rc == SB_OK) rc = sb_buf_printf(json, "],\"truncated\":%s}", r->truncated ? "true" : "false");
    if (rc == SB_OK) puts(json->data);
    else printf("error %s\n", sb_error_name(rc));
}

static int run_filter(filter_kind kind, bool script_only, bool with_confidence) {
    static char line[SB_TEXT_INPUT_BYTES_MAX + 2];
    sb_buf norm, json;
    sb_buf_init(&norm, SB_TEXT_NORMALIZED_BYTES_MAX);
    sb_buf_init(&json, 64 * 1024);
    size_t len = 0;
    long rejected = 0;
    int r;
    while ((r = cli_read_line(stdin, line, SB_TEXT_INPUT_BYTES_MAX, &len)) != 0) {
        if (r < 0) {
            puts("error limit");
            rejected++;
            continue;
        }
        int rc = SB_OK;
        if (kind == FILTER_LANGID) {
            text_lang lang = TEXT_LANG_OTHER;
            int conf = 0;
            rc = script_only ? text_langid_script_only(line, len, &lang) : text_langid(line, len, &lang, &conf);
            if (rc == SB_OK) {
                if (with_confidence && !script_only) printf("%s\t%d\n", text_lang_code(lang), conf);
                else puts(text_lang_code(lang));
            }
        } else {
            rc = text_normalize(line, len, &norm);
            if (rc == SB_OK && kind == FILTER_NORMALIZE) {
                puts(norm.len ? norm.data : "");
            } else if (rc == SB_OK) {
                text_signals_result res;
                rc = text_signals(norm.len ? norm.data : "", norm.len, &res);
                if (rc == SB_OK) print_signals_json(&res, &json);
            }
        }
        if (rc != SB_OK) {
            printf("error %s\n", sb_error_name(rc));
            rejected++;
        }
    }
    sb_buf_free(&norm);
    sb_buf_free(&json);
    if (rejected) fprintf(stderr, "socialbank: %ld line(s) rejected\n", rejected);
    return ferror(stdin) ? 1 : 0;
}

int cli_langid(int argc, char **argv) {
    cli_option opts[] = {
        {"script-only", NULL, "the naive baseline: majority Unicode block only", NULL, true, NULL, false},
        {"confidence", NULL, "also print the confidence (0..1000) after a tab", NULL, true, NULL, false},
        {NULL}};
    int rc;
    if (cli_begin(argc, argv, "langid [--script-only] [--confidence] < lines",
                  "Print a language code (fa, ar, uk, ru, en, other) for each line on stdin; "
                  "'error NAME' for a line that is too long or not UTF-8.",
                  opts, NULL, 0, NULL, &rc))
        return rc;
    return run_filter(FILTER_LANGID, cli_value(opts, "script-only") != NULL, cli_value(opts, "confidence") != NULL);
}

int cli_normalize(int argc, char **argv) {
    cli_option opts[] = {{NULL}};
    int rc;
    if (cli_begin(argc, argv, "normalize < lines",
                  "Print the normalised tokens of each line on stdin (the classifier's input); "
                  "'error NAME' for a line that is too long or not UTF-8.",
                  opts, NULL, 0, NULL, &rc))
        return rc;
    return run_filter(FILTER_NORMALIZE, false, false);
}

int cli_signals(int argc, char **argv) {
    cli_option opts[] = {{NULL}};
    int rc;
    if (cli_begin(argc, argv, "signals < lines",
                  "Print the signals of each line on stdin as one JSON object a line: urgent risks, life events "
                  "with their offer, competitor banks, each with its trigger words.",
                  opts, NULL, 0, NULL, &rc))
        return rc;
    return run_filter(FILTER_SIGNALS, false, false);
}
