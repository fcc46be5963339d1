/*
 * routes_media.c - photos, files and voice notes in chats over HTTP, mapped
 * onto media.h: the upload (raw bytes to a chat the caller belongs to), the
 * file and its thumbnail through the session or a short-lived signed URL.
 * A media message is sent with POST /api/chats/:id/messages and an
 * "upload_id" (routes_messenger.c).  An upload's checks, decoding,
 * re-encoding, hashing and storing run on the server's media pool
 * (api_defer_to), never on an event loop.
 *
 * What is served is never rendered as a page: every answer carries
 * X-Content-Type-Options: nosniff and a sandboxing Content-Security-Policy;
 * only a photo (re-encoded by us) is inline with its image type; voice
 * notes and files are attachments, files as application/octet-stream
 * unless PDF or ZIP.  An unknown hash, a forbidden one and a bad signature
 * all answer 404 not_found.
 */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "media/media.h"
#include "messenger/messenger.h"

static int media_unavailable(api_ctx *c) {
    api_reply_error(c, 503, "unavailable", "media are not available on this server");
    return SB_OK;
}

static void reply_not_found(api_ctx *c) { api_reply_error(c, 404, "not_found", "no such file"); }

static json_t *media_info_json(const media_info *info) {
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:I, s:s, s:b, s:s}", "hash", info->hash, "kind", media_kind_name(info->kind),
                  "type", media_type_name(info->type), "bytes", (json_int_t)info->bytes, "name", info->name, "thumb",
                  info->has_thumb, "state", info->state ? info->state : "clean");
    if (o && info->kind == MEDIA_KIND_PHOTO) {
        json_object_set_new(o, "width", json_integer(info->width));
        json_object_set_new(o, "height", json_integer(info->height));
    }
    if (o && info->kind == MEDIA_KIND_VOICE) json_object_set_new(o, "duration_ms", json_integer(info->duration_ms));
    return o;
}

/* An upload handed to the media pool. */
typedef struct {
    media *media;
    int64_t user_id, chat_id, now_ms;
    media_kind kind;
    char name[4 * SB_MEDIA_NAME_BYTES_MAX];
    unsigned char *data;
    size_t len;
    /* the outcome */
    int result;
    int64_t upload_id;
    media_info info;
    media_refusal why;
} upload_job;

static void upload_run(void *arg, store *worker_store) {
    upload_job *job = arg;
    job->result = media_upload(job->media, worker_store, job->user_id, job->chat_id, job->kind, job->name, job->data,
                               job->len, job->now_ms, &job->upload_id, &job->info, &job->why);
}

static void upload_answer(api_ctx *c, void *arg) {
    upload_job *job = arg;
    if (job->result == SB_EINVAL && job->why != MEDIA_OK) {
        api_reply_error(c, job->why == MEDIA_REFUSED_TOO_LARGE ? 413 : 422, media_refusal_code(job->why), "%s",
                        media_refusal_message(job->why));
        return;
    }
    if (job->result != SB_OK) {
        api_reply_sb_error(c, job->result, NULL);
        return;
    }
    json_t *upload = media_info_json(&job->info);
    if (!upload || json_object_set_new(upload, "id", json_integer(job->upload_id)) != 0) {
        json_decref(upload);
        api_reply_sb_error(c, SB_ENOMEM, NULL);
        return;
    }
    api_reply_json(c, 201, json_pack("{s:o}", "upload", upload));
}

static void upload_free(void *arg) {
    upload_job *job = arg;
    sb_free(job->data);
    sb_free(job);
}

static const api_deferred_ops upload_ops = {.run = upload_run, .answer = upload_answer, .free = upload_free};

/* POST /api/chats/:id/media?kind=photo|file|voice&name=NAME, the bytes as
 * the body; the work runs on the media pool. */
static int post_upload(api_ctx *c) {
    if (!c->app || !c->app->media) return media_unavailable(c);
    int64_t chat_id;
    messenger_chat chat;
    if (api_param_int64(c, "id", &chat_id) != SB_OK ||
        messenger_chat_get(c->store, c->principal->user_id, chat_id, &chat) == SB_EPERM) {
        api_reply_error(c, 404, "not_found", "no such chat");
        return SB_OK;
    }
    char kind_text[16], name[4 * SB_MEDIA_NAME_BYTES_MAX];
    media_kind kind;
    if (api_query_get(c, "kind", kind_text, sizeof kind_text) != SB_OK || media_kind_parse(kind_text, &kind) != SB_OK) {
        api_reply_error(c, 400, "invalid", "query parameter 'kind' must be photo, file or voice");
        return SB_OK;
    }
    int result = api_query_get(c, "name", name, sizeof name);
    if (result == SB_ENOTFOUND)
        name[0] = '\0';
    else if (result != SB_OK) {
        api_reply_error(c, 400, "invalid", "query parameter 'name' is longer than %d bytes",
                        4 * SB_MEDIA_NAME_BYTES_MAX - 1);
        return SB_OK;
    }
    const unsigned char *data;
    size_t len;
    api_body_raw(c, &data, &len);
    /* decoding, re-encoding and hashing run on the media pool; the body is
     * copied (the client may go, and h2o free it, before the job ends) */
    upload_job *job = sb_calloc(1, sizeof *job);
    if (!job) return SB_ENOMEM;
    job->media = c->app->media;
    job->user_id = c->principal->user_id;
    job->chat_id = chat_id;
    job->kind = kind;
    job->now_ms = c->now_ms;
    snprintf(job->name, sizeof job->name, "%s", name);
    job->data = len ? sb_malloc(len) : NULL;
    if (len && !job->data) {
        sb_free(job);
        return SB_ENOMEM;
    }
    if (len) memcpy(job->data, data, len);
    job->len = len;
    return api_defer_to(c, API_POOL_MEDIA, &upload_ops, job);
}

/* Content-Disposition for a name: an ASCII fallback and the UTF-8 name
 * percent-encoded (RFC 6266/5987). */
static void set_disposition(api_ctx *c, const media_info *info) {
    static const char hex[] = "0123456789ABCDEF";
    char ascii[SB_MEDIA_NAME_BYTES_MAX + 1], encoded[3 * SB_MEDIA_NAME_BYTES_MAX + 1];
    char value[sizeof ascii + sizeof encoded + 64];
    const char *name = info->name[0] ? info->name : info->hash;
    size_t a = 0, e = 0;
    for (size_t i = 0; name[i] && a < SB_MEDIA_NAME_BYTES_MAX; i++) {
        unsigned char ch = (unsigned char)name[i];
        bool plain = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                     ch == '-' || ch == '_';
        ascii[a++] = plain ? (char)ch : '_';
        if (plain) {
            encoded[e++] = (char)ch;
        } else {
            encoded[e++] = '%';
            encoded[e++] = hex[ch >> 4];
            encoded[e++] = hex[ch & 15];
        }
    }
    ascii[a] = '\0';
    encoded[e] = '\0';
    snprintf(value, sizeof value, "%s; filename=\"%s\"; filename*=UTF-8''%s",
             info->kind == MEDIA_KIND_PHOTO ? "inline" : "attachment", ascii, encoded);
    api_set_header(c, "content-disposition", value);
}

static const char *served_type(const media_info *info, bool thumb) {
    if (thumb) return "image/webp";
    if (info->kind == MEDIA_KIND_PHOTO || info->kind == MEDIA_KIND_VOICE) return media_type_content_type(info->type);
    return info->type == MEDIA_TYPE_PDF || info->type == MEDIA_TYPE_ZIP ? media_type_content_type(info->type)
                                                                        : "application/octet-stream";
}

/* Answer the bytes of a file the caller may read. */
static int reply_file(api_ctx *c, const media_info *info, bool thumb) {
    if (strcmp(info->state, "scanning") == 0) {
        api_reply_error(c, 409, "scanning", "the file is being checked; try again shortly");
        return SB_OK;
    }
    if (strcmp(info->state, "clean") != 0) {
        api_reply_error(c, 410, "refused", "the file was refused by the bank's scanner");
        return SB_OK;
    }
    if (thumb && !info->has_thumb) {
        reply_not_found(c);
        return SB_OK;
    }
    unsigned char *data = NULL;
    size_t len = 0;
    int result = media_read(c->app->media, info->hash, thumb, &data, &len);
    if (result == SB_ENOTFOUND) {
        reply_not_found(c);
        return SB_OK;
    }
    if (result != SB_OK) return result;
    api_set_header(c, "x-content-type-options", "nosniff");
    api_set_header(c, "content-security-policy", "default-src 'none'; sandbox");
    api_set_header(c, "cache-control", "private, max-age=300");
    set_disposition(c, info);
    api_reply_raw(c, 200, served_type(info, thumb), (const char *)data, len);
    sb_free(data);
    return SB_OK;
}

static int get_file_common(api_ctx *c, bool thumb) {
    if (!c->app || !c->app->media) return media_unavailable(c);
    media_info info;
    int result = media_access(c->store, c->principal->user_id, api_param(c, "hash"), &info);
    if (result == SB_ENOTFOUND) {
        reply_not_found(c);
        return SB_OK;
    }
    if (result != SB_OK) return result;
    return reply_file(c, &info, thumb);
}

static int get_file(api_ctx *c) { return get_file_common(c, false); }
static int get_thumb(api_ctx *c) { return get_file_common(c, true); }

/* GET /api/media/:hash/url?thumb=1 -> {"url", "expires_at_ms"} */
static int get_url(api_ctx *c) {
    if (!c->app || !c->app->media) return media_unavailable(c);
    const char *hash = api_param(c, "hash");
    media_info info;
    int result = media_access(c->store, c->principal->user_id, hash, &info);
    if (result == SB_ENOTFOUND) {
        reply_not_found(c);
        return SB_OK;
    }
    if (result != SB_OK) return result;
    char thumb_text[4];
    result = api_query_get(c, "thumb", thumb_text, sizeof thumb_text);
    bool thumb = result == SB_OK && strcmp(thumb_text, "1") == 0;
    if (result != SB_ENOTFOUND && !thumb && !(result == SB_OK && strcmp(thumb_text, "0") == 0)) {
        api_reply_error(c, 400, "invalid", "query parameter 'thumb' must be 0 or 1");
        return SB_OK;
    }
    int64_t expires = c->now_ms + SB_MEDIA_URL_TTL_MS;
    char sig[65], url[256];
    media_url_sign(c->app->media, info.hash, thumb, expires, sig);
    snprintf(url, sizeof url, "/media/%s%s?exp=%lld&sig=%s", info.hash, thumb ? "/thumb" : "", (long long)expires, sig);
    api_reply_json(c, 200, json_pack("{s:s, s:I}", "url", url, "expires_at_ms", (json_int_t)expires));
    return SB_OK;
}

/* GET /media/:hash[/thumb]?exp=&sig= (public: the signature is the key). */
static int get_signed_common(api_ctx *c, bool thumb) {
    if (!c->app || !c->app->media) return media_unavailable(c);
    const char *hash = api_param(c, "hash");
    char exp_text[24], sig[80];
    int64_t expires = 0;
    media_info info;
    if (api_query_get(c, "exp", exp_text, sizeof exp_text) != SB_OK || sb_parse_int64(exp_text, &expires) != SB_OK ||
        api_query_get(c, "sig", sig, sizeof sig) != SB_OK ||
        media_url_check(c->app->media, hash, thumb, expires, sig, c->now_ms) != SB_OK ||
        media_info_get(c->store, hash, &info) != SB_OK) {
        reply_not_found(c);
        return SB_OK;
    }
    return reply_file(c, &info, thumb);
}

static int get_signed(api_ctx *c) { return get_signed_common(c, false); }
static int get_signed_thumb(api_ctx *c) { return get_signed_common(c, true); }

void api_routes_media(api_router *r) {
    const int customer = IDENTITY_ROLE_CUSTOMER;
    api_router_add(r, "POST", "/api/chats/:id/media", customer | API_RAW_BODY, post_upload);
    api_router_add(r, "GET", "/api/media/:hash", customer, get_file);
    api_router_add(r, "GET", "/api/media/:hash/thumb", customer, get_thumb);
    api_router_add(r, "GET", "/api/media/:hash/url", customer, get_url);
    api_router_add(r, "GET", "/media/:hash", API_PUBLIC, get_signed);
    api_router_add(r, "GET", "/media/:hash/thumb", API_PUBLIC, get_signed_thumb);
}
