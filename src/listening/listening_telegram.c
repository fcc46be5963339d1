/*
 * listening_telegram.c - a Telegram Desktop export (Export chat history ->
 * JSON, the file result.json) of a channel or group about the bank, as a
 * listening format: the proof that a new export is one new file.
 *
 * The export is one JSON object {"name":..., "type":..., "id":...,
 * "messages":[...]} that can be hundreds of megabytes, so it is never
 * loaded whole: the top-level members before "messages" are decoded one by
 * one, then each element of the array is decoded alone (jansson's
 * JSON_DISABLE_EOF_CHECK stops after one value and reports how far it
 * read), so memory stays one message.  A loop, no recursion.
 *
 * A message becomes a post: source telegram, external id "CHAT/MESSAGE"
 * (the export's chat id and the message id), author the sender's stable
 * from_id ("user123456", or "channel..." for the channel itself), time from
 * date_unixtime (older exports only have "date" in the exporter's local
 * time without a zone: read as UTC), text the plain text with every
 * formatted piece of the "text" array joined, likes the sum of the
 * reaction counts.  Service messages (joins, pins) and media without text
 * are not posts and are skipped.  Once the array itself is broken nothing
 * after it can be trusted: that record is "bad_json" and the file ends.
 */
#include <stdio.h>
#include <string.h>

#include "listening/listening.h"

/* Top-level members looked at before "messages" (name, type, id: three). */
#define TELEGRAM_TOP_MEMBERS_MAX 64
/* Pieces of one message's "text" array. */
#define TELEGRAM_TEXT_PIECES_MAX 4096
/* Reactions of one message. */
#define TELEGRAM_REACTIONS_MAX 256

typedef struct {
    const char *data;
    size_t len, pos;
    size_t line;     /* 1-based line at line_pos */
    size_t line_pos; /* newlines before it are counted */
    bool first;      /* no element read yet */
    bool done;
    char chat_id[24]; /* "" if the export has none */
    json_t *record;
    sb_buf text;
    char external_id[SB_LISTENING_EXTERNAL_ID_BYTES_MAX + 1];
    char time_buf[48];
} telegram_state;

static void skip_ws(telegram_state *st) {
    while (st->pos < st->len) {
        char c = st->data[st->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        st->pos++;
    }
}

/* Count the lines up to pos. */
static size_t line_at(telegram_state *st, size_t pos) {
    for (; st->line_pos < pos; st->line_pos++)
        if (st->data[st->line_pos] == '\n') st->line++;
    return st->line;
}

/* Decode one JSON value at pos and move past it; NULL if it is not one. */
static json_t *value_at(telegram_state *st) {
    json_error_t err;
    json_t *v = json_loadb(st->data + st->pos, st->len - st->pos, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, &err);
    if (!v) return NULL;
    if (err.position <= 0 || (size_t)err.position > st->len - st->pos) {
        json_decref(v);
        return NULL;
    }
    st->pos += (size_t)err.position;
    return v;
}

static int telegram_open(const char *data, size_t len, void **state_out, const char **reason_out) {
    *reason_out = NULL;
    telegram_state *st = sb_calloc(1, sizeof *st);
    if (!st) return SB_ENOMEM;
    st->data = data;
    st->len = len;
    st->line = 1;
    st->first = true;
    sb_buf_init(&st->text, SB_LISTENING_TEXT_BYTES_MAX + 8);
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) st->pos = 3;
    const char *reason = "telegram_not_an_export";
    skip_ws(st);
    if (st->pos >= len || data[st->pos] != '{') goto fail;
    st->pos++;
    for (int member = 0; member < TELEGRAM_TOP_MEMBERS_MAX; member++) {
        skip_ws(st);
        json_t *key = value_at(st);
        if (!key || !json_is_string(key)) {
            json_decref(key);
            goto fail;
        }
        bool messages = strcmp(json_string_value(key), "messages") == 0;
        bool id = strcmp(json_string_value(key), "id") == 0;
        json_decref(key);
        skip_ws(st);
        if (st->pos >= len || data[st->pos] != ':') goto fail;
        st->pos++;
        skip_ws(st);
        if (messages) {
            if (st->pos >= len || data[st->pos] != '[') goto fail;
            st->pos++;
            *state_out = st;
            return SB_OK;
        }
        json_t *value = value_at(st);
        if (!value) goto fail;
        if (id && json_is_integer(value))
            snprintf(st->chat_id, sizeof st->chat_id, "%lld", (long long)json_integer_value(value));
        json_decref(value);
        skip_ws(st);
        if (st->pos < len && data[st->pos] == ',') {
            st->pos++;
            continue;
        }
        reason = "telegram_no_messages";
        goto fail;
    }
fail:
    sb_buf_free(&st->text);
    sb_free(st);
    *reason_out = reason;
    return SB_EINVAL;
}

/* Join the message's text (a string, or an array of strings and
 * {"type":..., "text":...} pieces) into st->text.  SB_ELIMIT if too long. */
static int text_join(telegram_state *st, const json_t *text) {
    sb_buf_reset(&st->text);
    if (json_is_string(text)) return sb_buf_append(&st->text, json_string_value(text), json_string_length(text));
    if (!json_is_array(text)) return SB_EINVAL;
    if (json_array_size(text) > TELEGRAM_TEXT_PIECES_MAX) return SB_ELIMIT;
    size_t i;
    const json_t *piece;
    json_array_foreach(text, i, piece) {
        const json_t *s = json_is_object(piece) ? json_object_get(piece, "text") : piece;
        if (!json_is_string(s)) return SB_EINVAL;
        int result = sb_buf_append(&st->text, json_string_value(s), json_string_length(s));
        if (result != SB_OK) return result;
    }
    return SB_OK;
}

/* Fill out from the message object; 0 if it is to be skipped, 1 if read
 * (or rejected with *reason_out), SB_ENOMEM. */
static int message_read(telegram_state *st, const json_t *m, listening_post *out, const char **reason_out) {
    const char *type = json_string_value(json_object_get(m, "type"));
    if (!type || strcmp(type, "message") != 0) return 0;
    const json_t *text = json_object_get(m, "text");
    if (!text) return 0;
    int result = text_join(st, text);
    if (result == SB_ENOMEM) return result;
    if (result != SB_OK) { /* the buffer freed itself; it is re-created on the next append */
        *reason_out = result == SB_ELIMIT ? "text_too_long" : "bad_field_type";
        return 1;
    }
    if (st->text.len == 0) return 0; /* a photo or sticker without a caption */
    out->source = "telegram";
    out->text = st->text.data;
    out->text_len = st->text.len;
    const json_t *id = json_object_get(m, "id");
    if (!json_is_integer(id)) {
        *reason_out = "missing_external_id";
        return 1;
    }
    if (st->chat_id[0])
        snprintf(st->external_id, sizeof st->external_id, "%s/%lld", st->chat_id, (long long)json_integer_value(id));
    else
        snprintf(st->external_id, sizeof st->external_id, "%lld", (long long)json_integer_value(id));
    out->external_id = st->external_id;
    const json_t *from = json_object_get(m, "from_id");
    if (from && !json_is_string(from)) {
        *reason_out = "bad_field_type";
        return 1;
    }
    out->author = json_string_value(from);
    const json_t *unixtime = json_object_get(m, "date_unixtime");
    const json_t *date = json_object_get(m, "date");
    if (json_is_integer(unixtime)) {
        out->posted_at_ms = json_integer_value(unixtime) * 1000;
    } else if (json_is_string(unixtime)) {
        int64_t seconds;
        if (sb_parse_int64(json_string_value(unixtime), &seconds) != SB_OK || seconds < 0 ||
            seconds > INT64_MAX / 1000) {
            *reason_out = "bad_time";
            return 1;
        }
        out->posted_at_ms = seconds * 1000;
    } else if (json_is_string(date) && json_string_length(date) < sizeof st->time_buf - 1) {
        int n = snprintf(st->time_buf, sizeof st->time_buf, "%sZ", json_string_value(date));
        if (listening_time_parse(st->time_buf, (size_t)n, &out->posted_at_ms) != SB_OK) {
            *reason_out = "bad_time";
            return 1;
        }
    } else {
        *reason_out = date || unixtime ? "bad_time" : "missing_time";
        return 1;
    }
    const json_t *reactions = json_object_get(m, "reactions");
    if (json_is_array(reactions)) {
        size_t i;
        const json_t *r;
        json_array_foreach(reactions, i, r) {
            if (i >= TELEGRAM_REACTIONS_MAX) break;
            const json_t *count = json_object_get(r, "count");
            if (!json_is_integer(count) || json_integer_value(count) < 0 ||
                sb_add_int64(out->likes, json_integer_value(count), &out->likes) != SB_OK) {
                *reason_out = "bad_count";
                return 1;
            }
        }
    }
    return 1;
}

static int telegram_next(void *state, listening_post *out, size_t *line_out, const char **reason_out) {
    telegram_state *st = state;
    *reason_out = NULL;
    json_decref(st->record);
    st->record = NULL;
    while (!st->done) {
        skip_ws(st);
        if (st->pos < st->len && st->data[st->pos] == ']') {
            st->done = true;
            break;
        }
        if (!st->first) {
            if (st->pos >= st->len || st->data[st->pos] != ',') goto broken;
            st->pos++;
            skip_ws(st);
        }
        st->first = false;
        *line_out = line_at(st, st->pos);
        st->record = value_at(st);
        if (!st->record) goto broken;
        memset(out, 0, sizeof *out);
        if (!json_is_object(st->record)) {
            *reason_out = "not_an_object";
            return 1;
        }
        int got = message_read(st, st->record, out, reason_out);
        if (got != 0) return got;
        json_decref(st->record);
        st->record = NULL;
    }
    return 0;
broken:
    *line_out = line_at(st, st->pos < st->len ? st->pos : st->len);
    st->done = true;
    *reason_out = "bad_json";
    return 1;
}

static size_t telegram_position(void *state) { return ((telegram_state *)state)->pos; }

static void telegram_close(void *state) {
    telegram_state *st = state;
    if (!st) return;
    json_decref(st->record);
    sb_buf_free(&st->text);
    sb_free(st);
}

const listening_format listening_format_telegram = {
    "telegram",
    "json",
    "a Telegram Desktop chat or channel export (result.json): messages with text, from_id, date, reactions",
    telegram_open,
    telegram_next,
    telegram_close,
    telegram_position,
};
