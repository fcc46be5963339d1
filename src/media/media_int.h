/*
 * media_int.h - what the media module's files share (not public): the
 * libvips step.
 */
#ifndef SB_MEDIA_INT_H
#define SB_MEDIA_INT_H

#include "media/media.h"

/* A processed image: clean bytes of `type` and a WebP thumbnail, both
 * sb_malloc'ed (media__image_result_clear frees them). */
typedef struct {
    unsigned char *data;
    size_t len;
    media_type type;
    uint32_t width, height;
    unsigned char *thumb;
    size_t thumb_len;
} media_image_result;

/* Initialise libvips once per process.  SB_EIO if it cannot start. */
int media__image_init(void) SB_MUST_CHECK;
/* Header dimensions within the caps: SB_EINVAL unreadable, SB_ELIMIT over. */
int media__image_check_header(const unsigned char *data, size_t len, media_type type, uint32_t *w,
                              uint32_t *h) SB_MUST_CHECK;
/* Decode, strip, re-encode and thumbnail.  SB_EINVAL with *why for a
 * refused image; SB_ENOMEM, SB_EIO. */
int media__image_process(const unsigned char *data, size_t len, media_type type, media_image_result *r,
                         media_refusal *why) SB_MUST_CHECK;
void media__image_result_clear(media_image_result *r);

#endif /* SB_MEDIA_INT_H */
