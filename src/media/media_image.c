/*
 * media_image.c - images through libvips: the header dimensions are checked
 * against the side and pixel caps before anything is decoded (a
 * decompression bomb stops there), the loader libvips picks must be the one
 * for the sniffed type (so a polyglot cannot reach another decoder), the
 * image is decoded sequentially with fail-on-error (a truncated file is an
 * error, not a grey half), re-encoded without metadata (EXIF, GPS, XMP,
 * ICC comments do not survive) and thumbnailed.  Called from whichever
 * thread handles the upload; libvips is initialised once per process with
 * its operation cache off and untrusted loaders blocked.
 */
#include <pthread.h>
#include <string.h>
#include <vips/vips.h>

#include "media/media_int.h"

static pthread_once_t vips_once = PTHREAD_ONCE_INIT;
static int vips_ready = SB_EIO;

static void vips_start(void) {
    if (VIPS_INIT("socialbank") != 0) return;
    vips_cache_set_max(0);       /* no operation cache: each upload stands alone */
    vips_concurrency_set(1);     /* the caller's thread does the work */
    vips_block_untrusted_set(1); /* only the loaders libvips deems fuzzed and safe */
    vips_ready = SB_OK;
}

int media__image_init(void) {
    pthread_once(&vips_once, vips_start);
    return vips_ready;
}

/* The loader class name prefix libvips must choose for each image type. */
static const char *loader_prefix(media_type type) {
    switch (type) {
    case MEDIA_TYPE_PNG:
        return "VipsForeignLoadPng";
    case MEDIA_TYPE_JPEG:
        return "VipsForeignLoadJpeg";
    case MEDIA_TYPE_WEBP:
        return "VipsForeignLoadWebp";
    case MEDIA_TYPE_GIF:
        return "VipsForeignLoadNsgif";
    default:
        return NULL;
    }
}

/* The saver suffix and the type the re-encoded bytes have: a GIF becomes a
 * PNG of its first frame. */
static const char *saver_for(media_type type, media_type *out_type) {
    switch (type) {
    case MEDIA_TYPE_JPEG:
        *out_type = MEDIA_TYPE_JPEG;
        return ".jpg";
    case MEDIA_TYPE_WEBP:
        *out_type = MEDIA_TYPE_WEBP;
        return ".webp";
    default:
        *out_type = MEDIA_TYPE_PNG;
        return ".png";
    }
}

int media__image_check_header(const unsigned char *data, size_t len, media_type type, uint32_t *w, uint32_t *h) {
    if (media_image_header(data, len, type, w, h) != SB_OK) return SB_EINVAL;
    if (*w > SB_MEDIA_IMAGE_SIDE_MAX || *h > SB_MEDIA_IMAGE_SIDE_MAX ||
        (int64_t)*w * (int64_t)*h > SB_MEDIA_IMAGE_PIXELS_MAX)
        return SB_ELIMIT;
    return SB_OK;
}

/* Copy a g_malloc'ed buffer into an sb_malloc'ed one (and free it). */
static int take_gbuf(void *gbuf, size_t len, unsigned char **out) {
    *out = sb_malloc(len ? len : 1);
    if (*out) memcpy(*out, gbuf, len);
    g_free(gbuf);
    return *out ? SB_OK : SB_ENOMEM;
}

int media__image_process(const unsigned char *data, size_t len, media_type type, media_image_result *r,
                         media_refusal *why) {
    memset(r, 0, sizeof *r);
    *why = MEDIA_OK;
    int result = media__image_init();
    if (result != SB_OK) return result;
    const char *prefix = loader_prefix(type);
    if (!prefix) {
        *why = MEDIA_REFUSED_NOT_IMAGE;
        return SB_EINVAL;
    }
    uint32_t w, h;
    result = media__image_check_header(data, len, type, &w, &h);
    if (result != SB_OK) {
        *why = result == SB_ELIMIT ? MEDIA_REFUSED_IMAGE_TOO_LARGE : MEDIA_REFUSED_DECODE;
        return SB_EINVAL;
    }
    const char *loader = vips_foreign_find_load_buffer(data, len);
    if (!loader || strncmp(loader, prefix, strlen(prefix)) != 0) {
        vips_error_clear();
        *why = MEDIA_REFUSED_DECODE;
        return SB_EINVAL;
    }
    VipsImage *img = vips_image_new_from_buffer(data, len, "", "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                                                VIPS_FAIL_ON_ERROR, NULL);
    if (!img) {
        vips_error_clear();
        *why = MEDIA_REFUSED_DECODE;
        return SB_EINVAL;
    }
    int iw = vips_image_get_width(img), ih = vips_image_get_height(img);
    if (iw <= 0 || ih <= 0 || iw > SB_MEDIA_IMAGE_SIDE_MAX || ih > SB_MEDIA_IMAGE_SIDE_MAX ||
        (int64_t)iw * ih > SB_MEDIA_IMAGE_PIXELS_MAX) {
        g_object_unref(img);
        *why = MEDIA_REFUSED_IMAGE_TOO_LARGE;
        return SB_EINVAL;
    }
    const char *saver = saver_for(type, &r->type);
    void *out = NULL;
    size_t out_len = 0;
    int failed = r->type == MEDIA_TYPE_PNG
                     ? vips_image_write_to_buffer(img, saver, &out, &out_len, "strip", TRUE, NULL)
                     : vips_image_write_to_buffer(img, saver, &out, &out_len, "strip", TRUE, "Q", 85, NULL);
    g_object_unref(img);
    if (failed || !out) {
        g_free(out);
        vips_error_clear();
        *why = MEDIA_REFUSED_DECODE;
        return SB_EINVAL;
    }
    result = take_gbuf(out, out_len, &r->data);
    if (result != SB_OK) return result;
    r->len = out_len;
    r->width = (uint32_t)iw;
    r->height = (uint32_t)ih;

    /* the thumbnail, from the clean bytes (WebP keeps transparency) */
    VipsImage *thumb = NULL;
    if (vips_thumbnail_buffer(r->data, r->len, &thumb, SB_MEDIA_THUMB_SIDE_PX, "height", SB_MEDIA_THUMB_SIDE_PX,
                              NULL) != 0) {
        vips_error_clear();
        media__image_result_clear(r);
        *why = MEDIA_REFUSED_DECODE;
        return SB_EINVAL;
    }
    out = NULL;
    failed = vips_image_write_to_buffer(thumb, ".webp", &out, &out_len, "strip", TRUE, "Q", 75, NULL);
    g_object_unref(thumb);
    if (failed || !out) {
        g_free(out);
        vips_error_clear();
        media__image_result_clear(r);
        *why = MEDIA_REFUSED_DECODE;
        return SB_EINVAL;
    }
    result = take_gbuf(out, out_len, &r->thumb);
    if (result != SB_OK) {
        media__image_result_clear(r);
        return result;
    }
    r->thumb_len = out_len;
    return SB_OK;
}

void media__image_result_clear(media_image_result *r) {
    sb_free(r->data);
    sb_free(r->thumb);
    memset(r, 0, sizeof *r);
}
