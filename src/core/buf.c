/*
 * buf.c - a growable byte buffer that knows its maximum.
 *
 * Modelled on curl's dynbuf: created with its maximum, grows geometrically,
 * and on any failure (allocation, over the maximum) frees itself so that
 * callers return the error without cleaning up.
 */
#include <stdio.h>
#include <string.h>

#include "core/core.h"

void sb_buf_init(sb_buf *buf, size_t max_bytes) {
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
    buf->max = max_bytes;
}

void sb_buf_free(sb_buf *buf) {
    sb_free(buf->data);
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
}

void sb_buf_reset(sb_buf *buf) {
    buf->len = 0;
    if (buf->data) buf->data[0] = '\0';
}

/* Make room for `extra` more bytes plus the NUL. */
static int buf_reserve(sb_buf *buf, size_t extra) {
    if (extra > buf->max || buf->len > buf->max - extra) {
        sb_buf_free(buf);
        return SB_ELIMIT;
    }
    size_t need = buf->len + extra + 1;
    if (need <= buf->cap) return SB_OK;
    size_t cap = buf->cap ? buf->cap : 64;
    while (cap < need) cap *= 2;
    if (cap > buf->max + 1) cap = buf->max + 1;
    char *grown = sb_realloc(buf->data, cap);
    if (!grown) {
        sb_buf_free(buf);
        return SB_ENOMEM;
    }
    buf->data = grown;
    buf->cap = cap;
    return SB_OK;
}

int sb_buf_append(sb_buf *buf, const void *data, size_t len) {
    int result = buf_reserve(buf, len);
    if (result != SB_OK) return result;
    if (len) memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
    return SB_OK;
}

int sb_buf_append_str(sb_buf *buf, const char *s) { return sb_buf_append(buf, s, strlen(s)); }

int sb_buf_printf(sb_buf *buf, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0) {
        sb_buf_free(buf);
        return SB_EINVAL;
    }
    int result = buf_reserve(buf, (size_t)need);
    if (result != SB_OK) return result;
    va_start(ap, fmt);
    vsnprintf(buf->data + buf->len, (size_t)need + 1, fmt, ap);
    va_end(ap);
    buf->len += (size_t)need;
    return SB_OK;
}

int sb_buf_append_json_escaped(sb_buf *buf, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[7];
        size_t esc_len = 0;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            esc_len = 2;
        } else if (c == '\n') {
            memcpy(esc, "\\n", 2);
            esc_len = 2;
        } else if (c == '\r') {
            memcpy(esc, "\\r", 2);
            esc_len = 2;
        } else if (c == '\t') {
            memcpy(esc, "\\t", 2);
            esc_len = 2;
        } else if (c < 0x20) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            esc_len = 6;
        }
        int result = esc_len ? sb_buf_append(buf, esc, esc_len) : sb_buf_append(buf, &s[i], 1);
        if (result != SB_OK) return result;
    }
    return SB_OK;
}

char *sb_buf_take(sb_buf *buf, size_t *len_out) {
    char *data = buf->data;
    if (len_out) *len_out = buf->len;
    if (!data) data = sb_strndup("", 0);
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
    return data;
}
