/*
 * fuzz_media.c - libFuzzer target over the media module's own parsers: the
 * type sniffer, the image header reader (each image type), the Ogg Opus and
 * WebM Opus duration parsers.  Beyond "no crash, no sanitizer report", each
 * success is checked against what it claims: a sniffed image type has its
 * magic at the start; header dimensions are positive and fit 24 bits
 * (none of the formats can announce more); a duration is not negative and
 * an Ogg stream starts "OggS", a WebM one with the EBML magic.
 * The seeds (tests/fuzz/corpus/media) are tiny files written by hand:
 * headers of each image type, an Ogg Opus note, a WebM note.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/media.h"

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond)) abort();                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    media_type type = media_sniff(data, size);
    CHECK((int)type >= 0 && type < MEDIA_TYPE_COUNT);
    CHECK(media_type_name(type) != NULL);
    if (type == MEDIA_TYPE_PNG) CHECK(size >= 8 && data[0] == 0x89);
    if (type == MEDIA_TYPE_JPEG) CHECK(size >= 3 && data[0] == 0xFF && data[1] == 0xD8);
    for (int t = MEDIA_TYPE_PNG; t <= MEDIA_TYPE_GIF; t++) {
        uint32_t w = 0, h = 0;
        if (media_image_header(data, size, (media_type)t, &w, &h) == SB_OK)
            CHECK(w > 0 && h > 0 && (t == MEDIA_TYPE_PNG || (w <= (1u << 24) && h <= (1u << 24))));
    }
    int64_t ms = -1;
    if (media_ogg_opus_duration(data, size, &ms) == SB_OK) CHECK(ms >= 0 && size >= 4 && memcmp(data, "OggS", 4) == 0);
    ms = -1;
    if (media_webm_opus_duration(data, size, &ms) == SB_OK)
        CHECK(ms >= 0 && size >= 4 && memcmp(data, "\x1A\x45\xDF\xA3", 4) == 0);
    return 0;
}
