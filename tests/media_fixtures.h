/*
 * media_fixtures.h - media files made by the tests themselves (never copied
 * from elsewhere): images drawn with libvips, a JPEG with a hand-made EXIF
 * block carrying a marker, a PNG header announcing a decompression bomb,
 * and Ogg Opus voice notes written page by page.  Header-only (static
 * functions) for the integration test, the fuzz corpus writer and the
 * benchmark.  Every buffer is malloc'ed; the caller frees it.
 */
#ifndef SB_TESTS_MEDIA_FIXTURES_H
#define SB_TESTS_MEDIA_FIXTURES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vips/vips.h>

/* The marker a fixture's EXIF carries: it must not survive re-encoding. */
#define MEDIA_FIXTURE_EXIF_MARKER "GPS-SECRET-35.6892N-51.3890E"

/* An image w x h with a gradient (so encoders have work), as suffix
 * (".png", ".jpg", ".webp", ".gif") encodes it.  NULL on failure. */
static inline unsigned char *media_fixture_image(int w, int h, const char *suffix, size_t *len_out) {
    *len_out = 0;
    if (VIPS_INIT("fixtures") != 0) return NULL;
    VipsImage *xyz = NULL, *scaled = NULL, *img = NULL;
    unsigned char *out = NULL;
    void *buf = NULL;
    size_t len = 0;
    if (vips_xyz(&xyz, w, h, NULL) == 0 && vips_linear1(xyz, &scaled, 0.25, 7.0, "uchar", TRUE, NULL) == 0 &&
        vips_bandjoin_const1(scaled, &img, 128.0, NULL) == 0 &&
        vips_image_write_to_buffer(img, suffix, &buf, &len, NULL) == 0 && (out = malloc(len)) != NULL) {
        memcpy(out, buf, len);
        *len_out = len;
    }
    g_free(buf);
    if (img) g_object_unref(img);
    if (scaled) g_object_unref(scaled);
    if (xyz) g_object_unref(xyz);
    vips_error_clear();
    return out;
}

/* A JPEG with an APP1 Exif block: a little-endian TIFF whose one IFD entry
 * is an ImageDescription (0x010E, ASCII) holding the marker. */
static inline unsigned char *media_fixture_jpeg_exif(int w, int h, size_t *len_out) {
    size_t jpeg_len;
    unsigned char *jpeg = media_fixture_image(w, h, ".jpg", &jpeg_len);
    if (!jpeg) return NULL;
    size_t marker = strlen(MEDIA_FIXTURE_EXIF_MARKER) + 1;
    unsigned char exif[6 + 26 + 64] = {'E',  'x',  'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0, 0, 0, /* IFD at 8 */
                                       1,    0,                                                 /* one entry */
                                       0x0E, 0x01, 2,   0};                                     /* tag, ASCII */
    exif[20] = (unsigned char)marker;                                                           /* count */
    exif[24] = 26;                                                                              /* value offset */
    memcpy(exif + 6 + 26, MEDIA_FIXTURE_EXIF_MARKER, marker);
    size_t exif_len = 6 + 26 + marker;
    size_t seg = 2 + exif_len;
    unsigned char *out = malloc(jpeg_len + 2 + seg);
    if (!out) {
        free(jpeg);
        return NULL;
    }
    size_t at = 0;
    memcpy(out, jpeg, 2); /* SOI */
    at = 2;
    out[at++] = 0xFF;
    out[at++] = 0xE1;
    out[at++] = (unsigned char)(seg >> 8);
    out[at++] = (unsigned char)seg;
    memcpy(out + at, exif, exif_len);
    at += exif_len;
    memcpy(out + at, jpeg + 2, jpeg_len - 2);
    at += jpeg_len - 2;
    free(jpeg);
    *len_out = at;
    return out;
}

static inline uint32_t media_fixture_crc32(const unsigned char *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return ~c;
}

static inline void media_fixture_be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* A 57-byte PNG announcing w x h pixels (valid signature and IHDR with its
 * CRC, an empty IDAT and IEND): a decompression bomb's header. */
static inline unsigned char *media_fixture_png_bomb(uint32_t w, uint32_t h, size_t *len_out) {
    unsigned char *out = malloc(57);
    if (!out) return NULL;
    memcpy(out, "\x89PNG\r\n\x1a\n", 8);
    media_fixture_be32(out + 8, 13);
    memcpy(out + 12, "IHDR", 4);
    media_fixture_be32(out + 16, w);
    media_fixture_be32(out + 20, h);
    memcpy(out + 24, "\x08\x02\x00\x00\x00", 5); /* 8-bit RGB */
    media_fixture_be32(out + 29, media_fixture_crc32(out + 12, 17));
    media_fixture_be32(out + 33, 0);
    memcpy(out + 37, "IDAT", 4);
    media_fixture_be32(out + 41, media_fixture_crc32(out + 37, 4));
    media_fixture_be32(out + 45, 0);
    memcpy(out + 49, "IEND", 4);
    media_fixture_be32(out + 53, media_fixture_crc32(out + 49, 4));
    *len_out = 57;
    return out;
}

/* One Ogg page with one packet (at most 255 * 255 bytes). */
static inline size_t media_fixture_ogg_page(unsigned char *out, unsigned char flags, uint64_t granule, uint32_t seq,
                                            const unsigned char *packet, size_t len) {
    size_t segs = len / 255 + 1;
    memcpy(out, "OggS", 4);
    out[4] = 0;
    out[5] = flags;
    for (int i = 0; i < 8; i++)
        out[6 + i] = (unsigned char)(granule >> (8 * i));
    for (int i = 0; i < 4; i++)
        out[14 + i] = (unsigned char)(0x5B0A0D1Eu >> (8 * i)); /* serial */
    for (int i = 0; i < 4; i++)
        out[18 + i] = (unsigned char)(seq >> (8 * i));
    memset(out + 22, 0, 4); /* CRC: our parser does not check it */
    out[26] = (unsigned char)segs;
    for (size_t i = 0; i < segs; i++)
        out[27 + i] = (unsigned char)(i + 1 < segs ? 255 : len % 255);
    memcpy(out + 27 + segs, packet, len);
    return 27 + segs + len;
}

/* An Ogg Opus voice note of duration_ms (OpusHead with pre-skip 312,
 * OpusTags, then audio pages of small stand-in packets, one per second,
 * the last granule giving the length).  head: "OpusHead" or another
 * 8-byte magic to make a stream that is not Opus. */
static inline unsigned char *media_fixture_ogg(int64_t duration_ms, const char *head, size_t *len_out) {
    size_t pages = (size_t)(duration_ms / 1000) + 1;
    unsigned char *out = malloc(4096 + pages * 80);
    if (!out) return NULL;
    unsigned char opus_head[19] = {0};
    memcpy(opus_head, head, 8);
    opus_head[8] = 1;     /* version */
    opus_head[9] = 1;     /* channels */
    opus_head[10] = 0x38; /* pre-skip 312 */
    opus_head[11] = 0x01;
    opus_head[12] = 0x80; /* 48000 Hz */
    opus_head[13] = 0xBB;
    static const unsigned char tags[] = "OpusTags\x08\x00\x00\x00fixtures\x00\x00\x00\x00";
    size_t at = media_fixture_ogg_page(out, 0x02, 0, 0, opus_head, sizeof opus_head);
    at += media_fixture_ogg_page(out + at, 0x00, 0, 1, tags, sizeof tags - 1);
    unsigned char packet[20];
    memset(packet, 0xFC, sizeof packet);
    for (size_t i = 0; i < pages; i++) {
        int64_t ms = i + 1 == pages ? duration_ms : (int64_t)(i + 1) * 1000;
        uint64_t granule = (uint64_t)ms * 48 + 312;
        at += media_fixture_ogg_page(out + at, i + 1 == pages ? 0x04 : 0x00, granule, (uint32_t)(2 + i), packet,
                                     sizeof packet);
    }
    *len_out = at;
    return out;
}

/* A scanning command for --media-scan-cmd: a shell script in a new file
 * path_io (a mkstemp template) that exits 1 when its file contains
 * refuse_word, else 0.  0 on success, -1 on failure. */
static inline int media_fixture_scan_script(char *path_io, const char *refuse_word) {
    int fd = mkstemp(path_io);
    if (fd < 0) return -1;
    char text[256];
    int n = snprintf(text, sizeof text, "#!/bin/sh\nif grep -q %s \"$1\"; then exit 1; fi\nexit 0\n", refuse_word);
    bool ok = n > 0 && (size_t)n < sizeof text && write(fd, text, (size_t)n) == n;
    close(fd);
    return ok && chmod(path_io, 0700) == 0 ? 0 : -1;
}

#endif /* SB_TESTS_MEDIA_FIXTURES_H */
