/*
 * media.h - photos, files and voice notes in chats: the whole public surface
 * of the media module.
 *
 * An upload is checked from its bytes, never from its name or the client's
 * Content-Type: media_sniff decides the type; a photo is decoded and
 * re-encoded with libvips (metadata such as EXIF and GPS does not survive,
 * a polyglot's trailing payload neither) after its header dimensions passed
 * the pixel cap, and gets a thumbnail; a voice note must be Opus in Ogg or
 * WebM under the duration cap (our own bounded parsers read the length);
 * anything else is an opaque file, always served as a download.
 *
 * Storage: the bytes kept (the re-encoded image, the voice note or file as
 * sent) are named by their BLAKE2b-256 hash and written through a table of
 * storage operations (media_storage_ops: the file system under
 * DATA/media/ab/cdef..., written to a temporary file, fsynced and renamed
 * into place; room for an S3-compatible store).  The database (migration
 * 0470) keeps one row per stored file with a reference count kept by SQL
 * triggers: a pending upload holds one reference until it is attached to a
 * message or expires, a media message holds one until it is deleted or its
 * author is erased.  media_sweep removes files whose count reached zero.
 *
 * Access: a file is readable by the members of a chat holding a message
 * that carries it, and by its uploader while the upload is pending; anyone
 * else, and an unknown hash, gets SB_ENOTFOUND alike.  Short-lived signed
 * URLs (HMAC-SHA512/256 with a key the media context draws at open) let a
 * page load an image without a header.
 *
 * Depends on store, listening (card masking of file names), core, libvips,
 * libsodium.
 */
#ifndef SB_MEDIA_H
#define SB_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "store/store.h"

/* ---- types decided from the bytes ---- */
typedef enum {
    MEDIA_TYPE_UNKNOWN = 0, /* an opaque file */
    MEDIA_TYPE_PNG = 1,
    MEDIA_TYPE_JPEG = 2,
    MEDIA_TYPE_WEBP = 3,
    MEDIA_TYPE_GIF = 4,
    MEDIA_TYPE_PDF = 5,
    MEDIA_TYPE_OGG = 6,  /* an Ogg container (Opus or not: media_ogg_opus_duration says) */
    MEDIA_TYPE_WEBM = 7, /* an EBML file whose DocType is webm */
    MEDIA_TYPE_ZIP = 8,  /* ZIP, as DOCX, XLSX, ODT are */
    MEDIA_TYPE_OLE = 9,  /* OLE2 compound file: DOC, XLS */
    MEDIA_TYPE_COUNT
} media_type;

/* The type of data (len bytes) from its first bytes.  Never fails. */
media_type media_sniff(const unsigned char *data, size_t len);
/* "png", "jpeg", ... "file" for MEDIA_TYPE_UNKNOWN; NULL out of range. */
const char *media_type_name(media_type type);
/* The Content-Type the file is served with: the image types for images
 * (after re-encoding), audio/ogg and audio/webm for voice notes,
 * application/pdf, else application/octet-stream. */
const char *media_type_content_type(media_type type);

/* Width and height an image's header announces (PNG IHDR, JPEG SOFn, GIF
 * screen, WebP VP8/VP8L/VP8X), read without decoding.  SB_EINVAL when the
 * header is truncated or malformed or type is not an image type. */
int media_image_header(const unsigned char *data, size_t len, media_type type, uint32_t *width_out,
                       uint32_t *height_out) SB_MUST_CHECK;

/* The duration of an Ogg Opus stream (the last page's granule position less
 * the OpusHead pre-skip, at 48 kHz), in ms.  SB_EINVAL for anything else:
 * no OpusHead first, a truncated or malformed page, more than one stream. */
int media_ogg_opus_duration(const unsigned char *data, size_t len, int64_t *duration_ms_out) SB_MUST_CHECK;
/* The duration of a WebM file with one Opus audio track and no video track
 * (Info/Duration, else the latest block's time), in ms.  SB_EINVAL for
 * anything else (another codec, a video track, a malformed element). */
int media_webm_opus_duration(const unsigned char *data, size_t len, int64_t *duration_ms_out) SB_MUST_CHECK;

/* ---- storage operations ---- */
/* A backend keeps blobs under keys such as "ab/cdef...64hex" (and ".thumb").
 * Every operation may run on any thread at once. */
typedef struct media_storage_ops {
    const char *name; /* "fs" */
    /* Keep len bytes under key, all or nothing (a reader never sees part of
     * a blob); an existing key with the same bytes is fine.  SB_EIO. */
    int (*put)(void *impl, const char *key, const void *data, size_t len);
    /* The whole blob into *data_out (sb_malloc, caller frees), at most
     * max_bytes.  SB_ENOTFOUND, SB_ELIMIT, SB_EIO, SB_ENOMEM. */
    int (*get)(void *impl, const char *key, size_t max_bytes, unsigned char **data_out, size_t *len_out);
    /* Remove the blob; absent is fine.  SB_EIO. */
    int (*remove)(void *impl, const char *key);
    /* The blob as a local file path (for the scanning command); NULL when
     * the backend has none (then no scanning command may be configured). */
    int (*local_path)(void *impl, const char *key, char *out, size_t out_size);
    void (*close)(void *impl);
} media_storage_ops;

/* The file-system backend rooted at dir (created if missing): blobs live at
 * dir/ab/cdef..., written as dir/ab/.tmp-XXXXXX, fsynced, renamed, and the
 * directory fsynced.  *impl_out is closed by ops->close. */
extern const media_storage_ops media_storage_fs;
int media_storage_fs_open(const char *dir, void **impl_out) SB_MUST_CHECK;

/* The media directory of a store location: DIR/media for a directory,
 * PATH.media for "sqlite:PATH".  SB_ELIMIT if it does not fit out_size. */
int media_dir_for_location(const char *data_location, char *out, size_t out_size) SB_MUST_CHECK;

/* ---- the media context ---- */
typedef struct media media;

typedef struct {
    const char *data_location; /* required: media live in media_dir_for_location */
    /* NULL: the file system.  Else this backend (impl closed by media_close). */
    const media_storage_ops *storage;
    void *storage_impl;
    /* NULL: none.  Else a program run (off the event loop, on the context's
     * scanning thread) as `scan_cmd PATH` for every new file, which is held
     * in state "scanning" (not served) until it exits 0; any other exit, a
     * signal or SB_MEDIA_SCAN_TIMEOUT_MS refuses the file for good. */
    const char *scan_cmd;
} media_options;

/* Open a media context (libvips initialised once per process; with a
 * scanning command, its thread started: it also picks up files a previous
 * run left scanning).  SB_EINVAL, SB_EIO, SB_ENOMEM.  Thread-safe: one
 * context serves every loop thread. */
int media_open(const media_options *options, media **out) SB_MUST_CHECK;
void media_close(media *m); /* NULL allowed */

/* What a caller declares it sends; the bytes must agree. */
typedef enum { MEDIA_KIND_PHOTO = 1, MEDIA_KIND_FILE = 2, MEDIA_KIND_VOICE = 3 } media_kind;
const char *media_kind_name(media_kind kind);                          /* "photo", "file", "voice" */
int media_kind_parse(const char *name, media_kind *out) SB_MUST_CHECK; /* SB_EINVAL */

/* Why an upload was refused (a stable code for the API). */
typedef enum {
    MEDIA_OK = 0,
    MEDIA_REFUSED_TOO_LARGE,       /* over the kind's byte cap */
    MEDIA_REFUSED_EMPTY,           /* no bytes */
    MEDIA_REFUSED_NOT_IMAGE,       /* a photo whose bytes are no PNG, JPEG, WebP or GIF */
    MEDIA_REFUSED_IMAGE_TOO_LARGE, /* dimensions over the side or pixel cap (a bomb) */
    MEDIA_REFUSED_DECODE,          /* the image did not decode (truncated, corrupt) */
    MEDIA_REFUSED_NOT_VOICE,       /* a voice note that is not Opus in Ogg or WebM */
    MEDIA_REFUSED_VOICE_TOO_LONG,  /* over SB_MEDIA_VOICE_DURATION_MS_MAX */
    MEDIA_REFUSED_NAME,            /* a file name that is not valid UTF-8 text */
} media_refusal;
const char *media_refusal_code(media_refusal why);    /* "too_large", "not_image", ... */
const char *media_refusal_message(media_refusal why); /* one sentence */

/* A stored file as the API shows it. */
typedef struct {
    char hash[65];   /* lowercase hex BLAKE2b-256 of the stored bytes */
    media_kind kind; /* as uploaded */
    media_type type; /* as sniffed (an image's after re-encoding) */
    int64_t bytes;
    uint32_t width, height; /* images */
    int64_t duration_ms;    /* voice notes */
    bool has_thumb;
    const char *state;                      /* "clean", "scanning" or "refused" (static text) */
    char name[SB_MEDIA_NAME_BYTES_MAX + 1]; /* masked; may be empty */
} media_info;

/* Check, process and store an upload of `kind` by uploader_id into chat_id
 * (the caller has checked membership), and record it as a pending upload
 * (*upload_id_out) holding a reference.  name (NULL or "") is masked and
 * cut to SB_MEDIA_NAME_BYTES_MAX.  Refusal of the bytes: SB_EINVAL with
 * *why_out set, nothing stored.  Also SB_EIO, SB_ENOMEM, store errors. */
int media_upload(media *m, store *s, int64_t uploader_id, int64_t chat_id, media_kind kind, const char *name,
                 const unsigned char *data, size_t len, int64_t now_ms, int64_t *upload_id_out, media_info *info_out,
                 media_refusal *why_out) SB_MUST_CHECK;

/* The pending upload upload_id of uploader_id in chat_id.  SB_ENOTFOUND. */
int media_upload_get(store *s, int64_t uploader_id, int64_t chat_id, int64_t upload_id, media_info *out) SB_MUST_CHECK;

/* The payload of a media message carrying upload_id: a JSON object text
 * (*json_out sb_malloc'ed) that the migration's trigger turns into an
 * attachment when the message is inserted. */
int media_message_payload(int64_t upload_id, const media_info *info, char **json_out) SB_MUST_CHECK;

/* The file `hash` (64 hex) if user_id may read it: a member of a chat
 * holding a live message with it, or its uploader while pending.
 * SB_ENOTFOUND for unknown and forbidden alike.  out->state says whether it
 * may be served yet (only "clean" is). */
int media_access(store *s, int64_t user_id, const char *hash, media_info *out) SB_MUST_CHECK;
/* The file `hash` (no access check: after media_access or a signed URL);
 * held by something.  SB_ENOTFOUND. */
int media_info_get(store *s, const char *hash, media_info *out) SB_MUST_CHECK;

/* The stored bytes (thumb: the thumbnail) into *data_out (sb_malloc).
 * SB_ENOTFOUND, SB_EIO, SB_ENOMEM. */
int media_read(media *m, const char *hash, bool thumb, unsigned char **data_out, size_t *len_out) SB_MUST_CHECK;

/* A signature for (hash, thumb, expires_at_ms) as 64 hex characters + NUL. */
void media_url_sign(const media *m, const char *hash, bool thumb, int64_t expires_at_ms, char sig_out[65]);
/* SB_OK when sig is right and expires_at_ms is not past now_ms (and not
 * further than SB_MEDIA_URL_TTL_MS ahead); else SB_ENOTFOUND. */
int media_url_check(const media *m, const char *hash, bool thumb, int64_t expires_at_ms, const char *sig,
                    int64_t now_ms) SB_MUST_CHECK;

/* Drop uploads older than SB_MEDIA_UPLOAD_TTL_MS, then remove up to
 * SB_MEDIA_SWEEP_BATCH files no message or upload holds (rows and blobs).
 * *removed_out (may be NULL) gets the count. */
int media_sweep(media *m, store *s, int64_t now_ms, size_t *removed_out) SB_MUST_CHECK;

/* Where a backup written to backup_db_path keeps its media: PATH.media.
 * SB_ELIMIT if it does not fit out_size. */
int media_backup_path(const char *backup_db_path, char *out, size_t out_size) SB_MUST_CHECK;
/* Copy every stored file (fs backend) into dest_dir (created; files hard
 * linked when on the same file system, else copied and fsynced).  For
 * backup: call before the database copy is renamed into place.  SB_EIO. */
int media_backup_dir(const char *data_location, const char *dest_dir) SB_MUST_CHECK;
/* The reverse for restore: the media directory of data_location gets every
 * file of src_dir (existing ones kept).  SB_EIO. */
int media_restore_dir(const char *src_dir, const char *data_location) SB_MUST_CHECK;
/* Undo a failed restore: remove the media directory of data_location with
 * the blobs in it (two levels, ab/cdef...; nothing else is touched, and a
 * directory still holding something else stays).  Absent: SB_OK.  SB_EIO. */
int media_remove_dir(const char *data_location) SB_MUST_CHECK;

#endif /* SB_MEDIA_H */
