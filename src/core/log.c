/*
 * log.c - structured JSON log lines on stderr, and the release assertion.
 *
 * One line per event so that log shippers can read it without a grammar:
 *   {"ts":"...","level":"info","event":"http.listen","msg":"...",...fields}
 * A line is built in a stack buffer and written with one write(2) so lines
 * from several threads never interleave.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"

#define LOG_LINE_BYTES_MAX 8192

static atomic_int log_level = SB_LOG_INFO;
static void (*log_sink)(const char *line, size_t len, void *arg);
static void *log_sink_arg;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void sb_log_set_level(sb_log_level level) { atomic_store(&log_level, (int)level); }
sb_log_level sb_log_get_level(void) { return (sb_log_level)atomic_load(&log_level); }

int sb_log_level_parse(const char *text, sb_log_level *out) {
    for (int i = 0; i < 4; i++) {
        if (text && strcmp(text, level_names[i]) == 0) {
            *out = (sb_log_level)i;
            return SB_OK;
        }
    }
    return SB_EINVAL;
}

void sb_log_set_sink(void (*sink)(const char *line, size_t len, void *arg), void *arg) {
    log_sink = sink;
    log_sink_arg = arg;
}

/* Append JSON-escaped text into a fixed buffer, truncating safely. */
static size_t escape_into(char *out, size_t pos, size_t cap, const char *s) {
    static const char hex[] = "0123456789abcdef";
    for (; *s && pos + 8 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[pos++] = '\\';
            out[pos++] = (char)c;
        } else if (c == '\n') {
            out[pos++] = '\\';
            out[pos++] = 'n';
        } else if (c < 0x20) {
            memcpy(out + pos, "\\u00", 4);
            pos += 4;
            out[pos++] = hex[c >> 4];
            out[pos++] = hex[c & 15];
        } else {
            out[pos++] = (char)c;
        }
    }
    return pos;
}

SB_PRINTF(4, 0)
static void log_vwrite(sb_log_level level, const char *event, const char *fields_json, const char *fmt, va_list ap) {
    if ((int)level < atomic_load(&log_level)) return;
    char msg[LOG_LINE_BYTES_MAX / 2];
    vsnprintf(msg, sizeof msg, fmt, ap);
    char ts[32];
    sb_time_format_ms(sb_now_ms(), ts);

    char line[LOG_LINE_BYTES_MAX];
    size_t cap = sizeof line - 4;
    int head = snprintf(line, cap, "{\"ts\":\"%s\",\"level\":\"%s\",\"event\":\"", ts, level_names[level & 3]);
    size_t pos = head > 0 ? (size_t)head : 0;
    pos = escape_into(line, pos, cap, event ? event : "");
    if (pos + 9 < cap) {
        memcpy(line + pos, "\",\"msg\":\"", 9);
        pos += 9;
    }
    pos = escape_into(line, pos, cap, msg);
    if (pos < cap) line[pos++] = '"';
    /* Merge the fields object: copy what is between its outer braces. */
    if (fields_json) {
        const char *open = strchr(fields_json, '{');
        const char *close = strrchr(fields_json, '}');
        if (open && close && close > open + 1) {
            size_t inner = (size_t)(close - open - 1);
            if (pos + inner + 2 < cap) {
                line[pos++] = ',';
                memcpy(line + pos, open + 1, inner);
                pos += inner;
            }
        }
    }
    line[pos++] = '}';
    line[pos++] = '\n';
    if (log_sink) {
        log_sink(line, pos, log_sink_arg);
        return;
    }
    ssize_t ignored = write(STDERR_FILENO, line, pos);
    (void)ignored;
}

void sb_log(sb_log_level level, const char *event, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, event, NULL, fmt, ap);
    va_end(ap);
}

void sb_log_fields(sb_log_level level, const char *event, const char *fields_json, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, event, fields_json, fmt, ap);
    va_end(ap);
}

void sb_assert_fail(const char *expr, const char *file, int line, const char *func) {
    char fields[512];
    snprintf(fields, sizeof fields, "{\"file\":\"%s\",\"line\":%d,\"func\":\"%s\"}", file, line, func);
    sb_log_fields(SB_LOG_ERROR, "assert.failed", fields, "assertion failed: %s", expr);
    abort();
}
