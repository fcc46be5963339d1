/*
 * media.c - the media context: uploads checked, processed and stored
 * (content-addressed through the storage operations), their rows and
 * references in the database, access checks, signed URLs and the sweep
 * that removes files nothing holds.
 *
 * Blobs and rows: a blob is written before its row exists and removed only
 * after its row is gone, under one mutex per context, so a concurrent
 * upload of the same bytes cannot see its blob removed under a new row.  A
 * crash between the two leaves at worst a blob without a row (harmless,
 * never served) - never a row without its blob.
 */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <stdlib.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "listening/listening.h"
#include "media/media_int.h"

struct media {
    const media_storage_ops *ops;
    void *impl;
    pthread_mutex_t lock; /* blob writes and removals against rows */
    unsigned char url_key[crypto_auth_KEYBYTES];
    /* the scanning thread (scan_cmd set) */
    char *data_location, *scan_cmd;
    pthread_t scan_thread;
    bool scan_running;
    pthread_mutex_t scan_lock;
    pthread_cond_t scan_cond;
    bool scan_stop, scan_wake;
};

extern char **environ;

static bool hash_ok(const char *hash);

static const char *const kind_names[] = {NULL, "photo", "file", "voice"};

const char *media_kind_name(media_kind kind) {
    return kind >= MEDIA_KIND_PHOTO && kind <= MEDIA_KIND_VOICE ? kind_names[kind] : NULL;
}

int media_kind_parse(const char *name, media_kind *out) {
    for (int k = MEDIA_KIND_PHOTO; name && k <= MEDIA_KIND_VOICE; k++) {
        if (strcmp(name, kind_names[k]) == 0) {
            *out = (media_kind)k;
            return SB_OK;
        }
    }
    return SB_EINVAL;
}

static const struct {
    const char *code, *message;
} refusals[] = {
    [MEDIA_OK] = {"ok", "accepted"},
    [MEDIA_REFUSED_TOO_LARGE] = {"too_large", "the file is larger than this kind allows"},
    [MEDIA_REFUSED_EMPTY] = {"empty", "the upload has no bytes"},
    [MEDIA_REFUSED_NOT_IMAGE] = {"not_image", "a photo must be a PNG, JPEG, WebP or GIF image (judged from its bytes)"},
    [MEDIA_REFUSED_IMAGE_TOO_LARGE] = {"image_too_large", "the image's dimensions are over the pixel cap"},
    [MEDIA_REFUSED_DECODE] = {"undecodable", "the image could not be decoded (truncated or corrupt)"},
    [MEDIA_REFUSED_NOT_VOICE] = {"not_voice", "a voice note must be Opus audio in Ogg or WebM"},
    [MEDIA_REFUSED_VOICE_TOO_LONG] = {"voice_too_long", "the voice note is longer than allowed"},
    [MEDIA_REFUSED_NAME] = {"invalid_name", "the file name must be valid UTF-8"},
};

const char *media_refusal_code(media_refusal why) {
    return (size_t)why < SB_ARRAY_LEN(refusals) ? refusals[why].code : "refused";
}
const char *media_refusal_message(media_refusal why) {
    return (size_t)why < SB_ARRAY_LEN(refusals) ? refusals[why].message : "refused";
}

/* ---- the scanning thread ---- */

static void sleep_ms(long ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Run `scan_cmd PATH`: "clean" on exit 0, else "refused" (a failure to
 * start, another exit, a signal, the timeout, or the context closing). */
static const char *scan_one(media *m, const char *hash) {
    char key[80], path[SB_PATH_BYTES_MAX];
    snprintf(key, sizeof key, "%.2s/%s", hash, hash);
    if (m->ops->local_path(m->impl, key, path, sizeof path) != SB_OK) return "refused";
    char *argv[] = {m->scan_cmd, path, NULL};
    pid_t pid;
    if (posix_spawnp(&pid, m->scan_cmd, NULL, NULL, argv, environ) != 0) {
        sb_log(SB_LOG_ERROR, "media.scan", "cannot run the scanning command");
        return "refused";
    }
    int status = 0;
    for (long waited = 0;; waited += 10) {
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid) break;
        bool stop;
        pthread_mutex_lock(&m->scan_lock);
        stop = m->scan_stop;
        pthread_mutex_unlock(&m->scan_lock);
        if (done < 0 || waited >= SB_MEDIA_SCAN_TIMEOUT_MS || stop) {
            kill(pid, SIGKILL);
            (void)waitpid(pid, &status, 0);
            if (!stop) sb_log(SB_LOG_WARN, "media.scan", "the scanning command timed out");
            return stop ? NULL : "refused";
        }
        sleep_ms(10);
    }
    sb_log(SB_LOG_DEBUG, "media.scan", "scanned %s: exit %d", path, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "clean" : "refused";
}

static void *scan_main(void *arg) {
    media *m = arg;
    store *s = NULL;
    if (store_open(m->data_location, NULL, &s) != SB_OK) {
        sb_log(SB_LOG_ERROR, "media.scan", "cannot open the store: files stay scanning");
        return NULL;
    }
    pthread_mutex_lock(&m->scan_lock);
    while (!m->scan_stop) {
        pthread_mutex_unlock(&m->scan_lock);
        char hash[65] = "";
        store_stmt *st = NULL;
        int result = store_query(
            s, &st, "SELECT hash FROM media_files WHERE state = 'scanning' ORDER BY created_at_ms LIMIT 1", NULL);
        if (result == SB_OK && store_step(st) == STORE_ROW && store_col_text(st, 0) && hash_ok(store_col_text(st, 0)))
            memcpy(hash, store_col_text(st, 0), 65);
        if (result == SB_OK) store_stmt_done(st);
        const char *state = hash[0] ? scan_one(m, hash) : NULL;
        if (state) {
            result = store_exec(s, "UPDATE media_files SET state = ? WHERE hash = ? AND state = 'scanning'", "tt",
                                state, hash);
            if (result != SB_OK) sb_log(SB_LOG_WARN, "media.scan", "cannot record a verdict: %s", sb_strerror(result));
        }
        pthread_mutex_lock(&m->scan_lock);
        if ((!state || result != SB_OK) && !m->scan_stop && !m->scan_wake) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 1; /* also picks up what a full wake-up missed */
            pthread_cond_timedwait(&m->scan_cond, &m->scan_lock, &until);
        }
        m->scan_wake = false;
    }
    pthread_mutex_unlock(&m->scan_lock);
    store_close(s);
    return NULL;
}

static int scan_start(media *m, const media_options *options) {
    if (!m->ops->local_path) return SB_EINVAL;
    m->data_location = sb_strdup(options->data_location);
    m->scan_cmd = sb_strdup(options->scan_cmd);
    if (!m->data_location || !m->scan_cmd) return SB_ENOMEM;
    if (pthread_create(&m->scan_thread, NULL, scan_main, m) != 0) return SB_EIO;
    m->scan_running = true;
    return SB_OK;
}

static void scan_wake(media *m) {
    if (!m->scan_running) return;
    pthread_mutex_lock(&m->scan_lock);
    m->scan_wake = true;
    pthread_cond_signal(&m->scan_cond);
    pthread_mutex_unlock(&m->scan_lock);
}

/* ---- open and close ---- */

int media_open(const media_options *options, media **out) {
    *out = NULL;
    if (!options || !options->data_location) return SB_EINVAL;
    int result = media__image_init();
    if (result != SB_OK) return result;
    media *m = sb_malloc(sizeof *m);
    if (!m) return SB_ENOMEM;
    memset(m, 0, sizeof *m);
    if (options->storage) {
        m->ops = options->storage;
        m->impl = options->storage_impl;
    } else {
        char dir[SB_PATH_BYTES_MAX];
        result = media_dir_for_location(options->data_location, dir, sizeof dir);
        if (result == SB_OK) result = media_storage_fs_open(dir, &m->impl);
        if (result != SB_OK) {
            sb_free(m);
            return result;
        }
        m->ops = &media_storage_fs;
    }
    pthread_mutex_init(&m->lock, NULL);
    pthread_mutex_init(&m->scan_lock, NULL);
    pthread_cond_init(&m->scan_cond, NULL);
    crypto_auth_keygen(m->url_key);
    if (options->scan_cmd && *options->scan_cmd) {
        result = scan_start(m, options);
        if (result != SB_OK) {
            media_close(m);
            return result;
        }
    }
    *out = m;
    return SB_OK;
}

void media_close(media *m) {
    if (!m) return;
    if (m->scan_running) {
        pthread_mutex_lock(&m->scan_lock);
        m->scan_stop = true;
        pthread_cond_signal(&m->scan_cond);
        pthread_mutex_unlock(&m->scan_lock);
        pthread_join(m->scan_thread, NULL);
    }
    sb_free(m->data_location);
    sb_free(m->scan_cmd);
    pthread_cond_destroy(&m->scan_cond);
    pthread_mutex_destroy(&m->scan_lock);
    m->ops->close(m->impl);
    pthread_mutex_destroy(&m->lock);
    sodium_memzero(m->url_key, sizeof m->url_key);
    sb_free(m);
}

/* ---- helpers ---- */

static bool hash_ok(const char *hash) {
    /* 64 lowercase hex characters: nothing else is a file's name */
    if (!hash || strlen(hash) != 64) return false;
    for (size_t i = 0; i < 64; i++)
        if (!((hash[i] >= '0' && hash[i] <= '9') || (hash[i] >= 'a' && hash[i] <= 'f'))) return false;
    return true;
}

static void blob_key(const char *hash, bool thumb, char key[80]) {
    snprintf(key, 80, "%.2s/%s%s", hash, hash, thumb ? ".thumb" : "");
}

/* A file name as shown: control characters and path separators become '_',
 * card numbers, phones, IDs and e-mails are masked, cut to the cap on a
 * character boundary.  SB_EINVAL for invalid UTF-8. */
static int name_clean(const char *name, char out[SB_MEDIA_NAME_BYTES_MAX + 1]) {
    out[0] = '\0';
    if (!name || !*name) return SB_OK;
    size_t len = strnlen(name, SB_LISTENING_TEXT_BYTES_MAX);
    if (len >= SB_LISTENING_TEXT_BYTES_MAX) return SB_EINVAL;
    char *copy = sb_strndup(name, len);
    if (!copy) return SB_ENOMEM;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)copy[i] < 0x20 || copy[i] == 0x7F || copy[i] == '/' || copy[i] == '\\') copy[i] = '_';
    sb_buf masked;
    sb_buf_init(&masked, 3 * len + 16);
    int result = listening_redact(copy, len, &masked, NULL);
    sb_free(copy);
    if (result == SB_OK) {
        size_t n = masked.len < SB_MEDIA_NAME_BYTES_MAX ? masked.len : SB_MEDIA_NAME_BYTES_MAX;
        while (n > 0 && n < masked.len && ((unsigned char)masked.data[n] & 0xC0) == 0x80)
            n--;
        memcpy(out, masked.data, n);
        out[n] = '\0';
    }
    sb_buf_free(&masked);
    return result == SB_ENOMEM ? SB_ENOMEM : result == SB_OK ? SB_OK : SB_EINVAL;
}

static size_t kind_bytes_max(media_kind kind) {
    return kind == MEDIA_KIND_PHOTO   ? SB_MEDIA_PHOTO_BYTES_MAX
           : kind == MEDIA_KIND_VOICE ? SB_MEDIA_VOICE_BYTES_MAX
                                      : SB_MEDIA_FILE_BYTES_MAX;
}

/* Check and process the bytes: *stored (and *thumb for a photo) are what is
 * kept; they point into data or into img (cleared by the caller). */
static int check_bytes(media_kind kind, const unsigned char *data, size_t len, media_info *info,
                       media_image_result *img, media_refusal *why) {
    if (len == 0) {
        *why = MEDIA_REFUSED_EMPTY;
        return SB_EINVAL;
    }
    if (len > kind_bytes_max(kind)) {
        *why = MEDIA_REFUSED_TOO_LARGE;
        return SB_EINVAL;
    }
    media_type type = media_sniff(data, len);
    info->type = type;
    switch (kind) {
    case MEDIA_KIND_PHOTO: {
        if (type != MEDIA_TYPE_PNG && type != MEDIA_TYPE_JPEG && type != MEDIA_TYPE_WEBP && type != MEDIA_TYPE_GIF) {
            *why = MEDIA_REFUSED_NOT_IMAGE;
            return SB_EINVAL;
        }
        int result = media__image_process(data, len, type, img, why);
        if (result != SB_OK) return result;
        info->type = img->type;
        info->width = img->width;
        info->height = img->height;
        info->has_thumb = true;
        return SB_OK;
    }
    case MEDIA_KIND_VOICE: {
        int64_t ms = 0;
        int result = type == MEDIA_TYPE_OGG    ? media_ogg_opus_duration(data, len, &ms)
                     : type == MEDIA_TYPE_WEBM ? media_webm_opus_duration(data, len, &ms)
                                               : SB_EINVAL;
        if (result != SB_OK) {
            *why = MEDIA_REFUSED_NOT_VOICE;
            return SB_EINVAL;
        }
        if (ms > SB_MEDIA_VOICE_DURATION_MS_MAX) {
            *why = MEDIA_REFUSED_VOICE_TOO_LONG;
            return SB_EINVAL;
        }
        info->duration_ms = ms;
        return SB_OK;
    }
    case MEDIA_KIND_FILE:
        return SB_OK; /* an opaque file: served only as a download */
    }
    return SB_EINVAL;
}

static int type_parse(const char *name, media_type *out) {
    for (int t = 0; t < MEDIA_TYPE_COUNT; t++) {
        if (strcmp(name, media_type_name((media_type)t)) == 0) {
            *out = (media_type)t;
            return SB_OK;
        }
    }
    return SB_ECORRUPT;
}

#define INFO_COLUMNS "f.hash, f.kind, f.type, f.bytes, f.width, f.height, f.duration_ms, f.has_thumb, f.state"

/* Fill info from a row whose first columns are INFO_COLUMNS. */
static int info_from_row(store_stmt *st, int name_col, media_info *out) {
    memset(out, 0, sizeof *out);
    const char *hash = store_col_text(st, 0);
    const char *kind = store_col_text(st, 1);
    const char *type = store_col_text(st, 2);
    if (!hash || !hash_ok(hash) || media_kind_parse(kind, &out->kind) != SB_OK || !type ||
        type_parse(type, &out->type) != SB_OK)
        return SB_ECORRUPT;
    memcpy(out->hash, hash, 65);
    out->bytes = store_col_int64(st, 3);
    out->width = (uint32_t)store_col_int64(st, 4);
    out->height = (uint32_t)store_col_int64(st, 5);
    out->duration_ms = store_col_int64(st, 6);
    out->has_thumb = store_col_int64(st, 7) != 0;
    const char *state = store_col_text(st, 8);
    out->state = state && strcmp(state, "clean") == 0      ? "clean"
                 : state && strcmp(state, "scanning") == 0 ? "scanning"
                                                           : "refused";
    const char *name = name_col >= 0 ? store_col_text(st, name_col) : NULL;
    if (name) snprintf(out->name, sizeof out->name, "%s", name);
    return SB_OK;
}

/* Step a query (from store_query) whose columns start with INFO_COLUMNS
 * to its first row into out, and give it back.  SB_ENOTFOUND: no row. */
static int info_step(int result, store_stmt *st, int name_col, media_info *out) {
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_ROW)
        result = info_from_row(st, name_col, out);
    else if (result == STORE_DONE)
        result = SB_ENOTFOUND;
    store_stmt_done(st);
    return result;
}

/* ---- upload ---- */

static int record_upload(store *s, const media_info *info, bool scan, int64_t uploader_id, int64_t chat_id,
                         int64_t now_ms, int64_t *upload_id_out) {
    int result = store_begin(s);
    if (result != SB_OK) return result;
    result = store_exec(s,
                        "INSERT INTO media_files(hash, kind, type, bytes, width, height, duration_ms, has_thumb, "
                        "state, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(hash) DO NOTHING",
                        "tttiiiiiti", info->hash, media_kind_name(info->kind), media_type_name(info->type), info->bytes,
                        (int64_t)info->width, (int64_t)info->height, info->duration_ms, (int64_t)info->has_thumb,
                        scan ? "scanning" : "clean", now_ms);
    if (result == SB_OK)
        result = store_exec(s,
                            "INSERT INTO media_uploads(hash, chat_id, uploader_id, name, created_at_ms) "
                            "VALUES (?, ?, ?, ?, ?)",
                            "tiiti", info->hash, chat_id, uploader_id, info->name, now_ms);
    if (result == SB_OK) *upload_id_out = store_last_insert_id(s);
    if (result == SB_OK) return store_commit(s);
    store_rollback(s);
    return result;
}

int media_upload(media *m, store *s, int64_t uploader_id, int64_t chat_id, media_kind kind, const char *name,
                 const unsigned char *data, size_t len, int64_t now_ms, int64_t *upload_id_out, media_info *info_out,
                 media_refusal *why_out) {
    *why_out = MEDIA_OK;
    *upload_id_out = 0;
    memset(info_out, 0, sizeof *info_out);
    if (!m || !s || !media_kind_name(kind) || (!data && len)) return SB_EINVAL;
    media_info info = {.kind = kind};
    int result = name_clean(name, info.name);
    if (result != SB_OK) {
        if (result == SB_EINVAL) *why_out = MEDIA_REFUSED_NAME;
        return result;
    }
    media_image_result img = {0};
    result = check_bytes(kind, data, len, &info, &img, why_out);
    if (result != SB_OK) {
        media__image_result_clear(&img);
        return result;
    }
    const unsigned char *stored = img.data ? img.data : data;
    size_t stored_len = img.data ? img.len : len;
    unsigned char hash[32];
    crypto_generichash(hash, sizeof hash, stored, stored_len, NULL, 0);
    sodium_bin2hex(info.hash, sizeof info.hash, hash, sizeof hash);
    info.bytes = (int64_t)stored_len;

    char key[80];
    pthread_mutex_lock(&m->lock);
    blob_key(info.hash, false, key);
    result = m->ops->put(m->impl, key, stored, stored_len);
    if (result == SB_OK && img.thumb) {
        blob_key(info.hash, true, key);
        result = m->ops->put(m->impl, key, img.thumb, img.thumb_len);
    }
    if (result == SB_OK) result = record_upload(s, &info, m->scan_running, uploader_id, chat_id, now_ms, upload_id_out);
    pthread_mutex_unlock(&m->lock);
    media__image_result_clear(&img);
    if (result == SB_OK) {
        scan_wake(m);
        /* the bytes may have been stored (and judged) before */
        result = media_upload_get(s, uploader_id, chat_id, *upload_id_out, &info);
    }
    /* a failure after the blob was written leaves it without a new row:
     * the next sweep of a zero count, or nothing, removes it; it is never served */
    if (result == SB_OK) *info_out = info;
    return result;
}

int media_upload_get(store *s, int64_t uploader_id, int64_t chat_id, int64_t upload_id, media_info *out) {
    store_stmt *st = NULL;
    int result =
        store_query(s, &st,
                    "SELECT " INFO_COLUMNS ", u.name FROM media_uploads u JOIN media_files f ON f.hash = u.hash "
                    "WHERE u.id = ? AND u.uploader_id = ? AND u.chat_id = ?",
                    "iii", upload_id, uploader_id, chat_id);
    return info_step(result, st, 9, out);
}

int media_message_payload(int64_t upload_id, const media_info *info, char **json_out) {
    *json_out = NULL;
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:I, s:s, s:b}", "upload_id", (json_int_t)upload_id, "hash", info->hash,
                          "kind", media_kind_name(info->kind), "type", media_type_name(info->type), "bytes",
                          (json_int_t)info->bytes, "name", info->name, "thumb", info->has_thumb);
    if (!o) return SB_ENOMEM;
    int failed = 0;
    if (info->kind == MEDIA_KIND_PHOTO)
        failed = json_object_set_new(o, "width", json_integer(info->width)) ||
                 json_object_set_new(o, "height", json_integer(info->height));
    if (info->kind == MEDIA_KIND_VOICE) failed = json_object_set_new(o, "duration_ms", json_integer(info->duration_ms));
    char *text = failed ? NULL : json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    if (!text) return SB_ENOMEM;
    *json_out = sb_strdup(text);
    free(text);
    return *json_out ? SB_OK : SB_ENOMEM;
}

/* ---- access ---- */

int media_access(store *s, int64_t user_id, const char *hash, media_info *out) {
    if (!hash_ok(hash) || user_id <= 0) return SB_ENOTFOUND;
    /* a member of a chat with a live message carrying it (the attachment
     * row goes with the message's deletion), or the pending uploader */
    store_stmt *st = NULL;
    int result = store_query(s, &st,
                             "SELECT " INFO_COLUMNS ", a.name FROM media_attachments a "
                             "JOIN msg_members mm ON mm.chat_id = a.chat_id AND mm.user_id = ? "
                             "JOIN media_files f ON f.hash = a.hash WHERE a.hash = ? LIMIT 1",
                             "it", user_id, hash);
    result = info_step(result, st, 9, out);
    if (result != SB_ENOTFOUND) return result;
    result = store_query(s, &st,
                         "SELECT " INFO_COLUMNS ", u.name FROM media_uploads u JOIN media_files f ON f.hash = u.hash "
                         "WHERE u.hash = ? AND u.uploader_id = ? LIMIT 1",
                         "ti", hash, user_id);
    return info_step(result, st, 9, out);
}

int media_info_get(store *s, const char *hash, media_info *out) {
    if (!hash_ok(hash)) return SB_ENOTFOUND;
    store_stmt *st = NULL;
    int result =
        store_query(s, &st, "SELECT " INFO_COLUMNS " FROM media_files f WHERE f.hash = ? AND f.refs > 0", "t", hash);
    return info_step(result, st, -1, out);
}

int media_read(media *m, const char *hash, bool thumb, unsigned char **data_out, size_t *len_out) {
    *data_out = NULL;
    *len_out = 0;
    if (!hash_ok(hash)) return SB_ENOTFOUND;
    char key[80];
    blob_key(hash, thumb, key);
    return m->ops->get(m->impl, key, SB_MEDIA_UPLOAD_BYTES_MAX, data_out, len_out);
}

/* ---- signed URLs ---- */

static void url_mac(const media *m, const char *hash, bool thumb, int64_t expires_at_ms,
                    unsigned char mac[crypto_auth_BYTES]) {
    char msg[128];
    int n = snprintf(msg, sizeof msg, "media|%s|%d|%lld", hash, thumb ? 1 : 0, (long long)expires_at_ms);
    crypto_auth(mac, (const unsigned char *)msg, (unsigned long long)n, m->url_key);
}

void media_url_sign(const media *m, const char *hash, bool thumb, int64_t expires_at_ms, char sig_out[65]) {
    unsigned char mac[crypto_auth_BYTES];
    url_mac(m, hash, thumb, expires_at_ms, mac);
    sodium_bin2hex(sig_out, 65, mac, sizeof mac);
}

int media_url_check(const media *m, const char *hash, bool thumb, int64_t expires_at_ms, const char *sig,
                    int64_t now_ms) {
    if (!hash_ok(hash) || !sig || strlen(sig) != 2 * crypto_auth_BYTES) return SB_ENOTFOUND;
    if (expires_at_ms < now_ms || expires_at_ms > now_ms + SB_MEDIA_URL_TTL_MS) return SB_ENOTFOUND;
    unsigned char given[crypto_auth_BYTES], mac[crypto_auth_BYTES];
    size_t got = 0;
    if (sodium_hex2bin(given, sizeof given, sig, strlen(sig), NULL, &got, NULL) != 0 || got != sizeof given)
        return SB_ENOTFOUND;
    url_mac(m, hash, thumb, expires_at_ms, mac);
    return sodium_memcmp(given, mac, sizeof mac) == 0 ? SB_OK : SB_ENOTFOUND;
}

/* ---- the sweep ---- */

int media_sweep(media *m, store *s, int64_t now_ms, size_t *removed_out) {
    if (removed_out) *removed_out = 0;
    int result =
        store_exec(s, "DELETE FROM media_uploads WHERE created_at_ms < ?", "i", now_ms - SB_MEDIA_UPLOAD_TTL_MS);
    if (result != SB_OK) return result;
    char hashes[SB_MEDIA_SWEEP_BATCH][65];
    size_t count = 0;
    store_stmt *st;
    result =
        store_query(s, &st, "SELECT hash FROM media_files WHERE refs = 0 LIMIT ?", "i", (int64_t)SB_MEDIA_SWEEP_BATCH);
    if (result != SB_OK) return result;
    while (result == SB_OK && count < SB_MEDIA_SWEEP_BATCH) {
        int step = store_step(st);
        if (step != STORE_ROW) {
            result = step == STORE_DONE ? SB_OK : step;
            break;
        }
        const char *h = store_col_text(st, 0);
        if (h && hash_ok(h)) memcpy(hashes[count++], h, 65);
    }
    store_stmt_done(st);
    size_t removed = 0;
    for (size_t i = 0; result == SB_OK && i < count; i++) {
        pthread_mutex_lock(&m->lock);
        result = store_exec(s, "DELETE FROM media_files WHERE hash = ? AND refs = 0", "t", hashes[i]);
        if (result == SB_OK && store_changes(s) == 1) {
            char key[80];
            blob_key(hashes[i], false, key);
            result = m->ops->remove(m->impl, key);
            blob_key(hashes[i], true, key);
            int thumb = m->ops->remove(m->impl, key);
            if (result == SB_OK) result = thumb;
            removed++;
        }
        pthread_mutex_unlock(&m->lock);
    }
    if (removed_out) *removed_out = removed;
    return result;
}
