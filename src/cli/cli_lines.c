/*
 * cli_lines.c - line input for the subcommands that read text a line at a
 * time (the text filters, train/eval files, classify on stdin): bounded
 * memory whatever the input holds, an over-long line reported as such and
 * skipped whole so that line numbers stay right.
 */
#include <stdio.h>

#include "cli/cli.h"

int cli_read_line(FILE *in, char *buf, size_t max, size_t *len_out) {
    size_t len = 0;
    bool over = false, any = false;
    int ch;
    while ((ch = getc_unlocked(in)) != EOF) {
        any = true;
        if (ch == '\n') break;
        if (len < max) buf[len++] = (char)ch;
        else over = true;
    }
    if (!any) return 0;
    if (over) return -1;
    if (len > 0 && buf[len - 1] == '\r') len--;
    buf[len] = '\0';
    *len_out = len;
    return 1;
}
