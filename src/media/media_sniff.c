/*
 * media_sniff.c - what a file is, from its bytes: the type sniffer, image
 * header dimensions (read before anything is decoded, so a decompression
 * bomb is refused on its header), and the durations of Opus voice notes in
 * Ogg and WebM.  Pure functions over a buffer, no allocation, no recursion;
 * every loop is bounded by the input and SB_MEDIA_CONTAINER_STEPS_MAX.
 * Fuzzed by tests/fuzz/fuzz_media.c.
 */
#include <string.h>

#include "media/media.h"

static const char *const type_names[MEDIA_TYPE_COUNT] = {"file", "png", "jpeg", "webp", "gif",
                                                         "pdf",  "ogg", "webm", "zip",  "ole"};
static const char *const type_content_types[MEDIA_TYPE_COUNT] = {
    "application/octet-stream", "image/png", "image/jpeg", "image/webp",      "image/gif",
    "application/pdf",          "audio/ogg", "audio/webm", "application/zip", "application/octet-stream"};

const char *media_type_name(media_type type) {
    return (int)type >= 0 && type < MEDIA_TYPE_COUNT ? type_names[type] : NULL;
}

const char *media_type_content_type(media_type type) {
    return (int)type >= 0 && type < MEDIA_TYPE_COUNT ? type_content_types[type] : type_content_types[0];
}

static bool starts(const unsigned char *d, size_t len, const void *magic, size_t n) {
    return len >= n && memcmp(d, magic, n) == 0;
}

static uint32_t be16(const unsigned char *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t be32(const unsigned char *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | be16(p + 2); }
static uint32_t le16(const unsigned char *p) { return (uint32_t)p[1] << 8 | p[0]; }
static uint32_t le24(const unsigned char *p) { return (uint32_t)p[2] << 16 | le16(p); }
static uint32_t le32(const unsigned char *p) { return (uint32_t)p[3] << 24 | le24(p); }
static uint64_t le64(const unsigned char *p) { return (uint64_t)le32(p + 4) << 32 | le32(p); }

/* ---- EBML (WebM) ---- */

/* One EBML variable-length integer at d[*pos..len): the ID keeps its
 * marker bit (keep_marker), a size drops it; *unknown for an all-ones size. */
static int ebml_vint(const unsigned char *d, size_t len, size_t *pos, bool keep_marker, uint64_t *out, bool *unknown) {
    if (*pos >= len) return SB_EINVAL;
    unsigned char first = d[*pos];
    int width = 1;
    while (width <= 8 && !(first & (0x80 >> (width - 1))))
        width++;
    if (width > 8 || (keep_marker && width > 4) || len - *pos < (size_t)width) return SB_EINVAL;
    uint64_t v = keep_marker ? first : (first & (0xFFu >> width));
    bool all_ones = v == (0xFFu >> width);
    for (int i = 1; i < width; i++) {
        v = v << 8 | d[*pos + (size_t)i];
        all_ones = all_ones && d[*pos + (size_t)i] == 0xFF;
    }
    *pos += (size_t)width;
    if (unknown) *unknown = !keep_marker && all_ones;
    *out = v;
    return SB_OK;
}

enum {
    EBML_HEADER = 0x1A45DFA3,
    EBML_DOCTYPE = 0x4282,
    EBML_SEGMENT = 0x18538067,
    EBML_INFO = 0x1549A966,
    EBML_TIMECODE_SCALE = 0x2AD7B1,
    EBML_DURATION = 0x4489,
    EBML_TRACKS = 0x1654AE6B,
    EBML_TRACK_ENTRY = 0xAE,
    EBML_CODEC_ID = 0x86,
    EBML_CLUSTER = 0x1F43B675,
    EBML_CLUSTER_TIMECODE = 0xE7,
    EBML_BLOCK_GROUP = 0xA0,
    EBML_BLOCK = 0xA1,
    EBML_SIMPLE_BLOCK = 0xA3,
};

static bool ebml_is_master(uint64_t id) {
    return id == EBML_HEADER || id == EBML_SEGMENT || id == EBML_INFO || id == EBML_TRACKS || id == EBML_TRACK_ENTRY ||
           id == EBML_CLUSTER || id == EBML_BLOCK_GROUP;
}

static uint64_t be_uint(const unsigned char *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

typedef struct {
    bool webm;       /* DocType webm seen */
    int opus_tracks; /* A_OPUS codec ids */
    int other_tracks;
    uint64_t timecode_scale_ns;
    double duration_ticks; /* Info/Duration, 0 when absent */
    uint64_t cluster_ticks;
    uint64_t last_block_ticks;
} webm_scan;

/* Walk the element stream flat: a master element (the few we read inside)
 * is entered, any other skipped.  Unknown sizes only on Segment and Cluster
 * (a live recording), where they mean "to the end". */
static int webm_walk(const unsigned char *d, size_t len, webm_scan *w) {
    size_t pos = 0;
    for (unsigned steps = 0; pos < len; steps++) {
        if (steps >= SB_MEDIA_CONTAINER_STEPS_MAX) return SB_EINVAL;
        uint64_t id, size;
        bool unknown = false;
        if (ebml_vint(d, len, &pos, true, &id, NULL) != SB_OK) return SB_EINVAL;
        if (ebml_vint(d, len, &pos, false, &size, &unknown) != SB_OK) return SB_EINVAL;
        if (steps == 0 && id != EBML_HEADER) return SB_EINVAL;
        if (unknown) {
            if (id != EBML_SEGMENT && id != EBML_CLUSTER) return SB_EINVAL;
            continue; /* enter: its children follow */
        }
        if (ebml_is_master(id)) {
            if (size > len - pos) return SB_EINVAL;
            continue;
        }
        if (size > len - pos) return SB_EINVAL; /* truncated */
        const unsigned char *v = d + pos;
        size_t n = (size_t)size;
        switch (id) {
        case EBML_DOCTYPE:
            w->webm = n == 4 && memcmp(v, "webm", 4) == 0;
            break;
        case EBML_TIMECODE_SCALE:
            if (n == 0 || n > 8) return SB_EINVAL;
            w->timecode_scale_ns = be_uint(v, n);
            if (w->timecode_scale_ns == 0) return SB_EINVAL;
            break;
        case EBML_DURATION:
            if (n == 4) {
                uint32_t bits = (uint32_t)be_uint(v, 4);
                float f;
                memcpy(&f, &bits, sizeof f);
                w->duration_ticks = (double)f;
            } else if (n == 8) {
                uint64_t bits = be_uint(v, 8);
                double f;
                memcpy(&f, &bits, sizeof f);
                w->duration_ticks = f;
            } else {
                return SB_EINVAL;
            }
            /* NaN, negative or absurd: refused rather than trusted */
            if (!(w->duration_ticks >= 0 && w->duration_ticks < 1e18)) return SB_EINVAL;
            break;
        case EBML_CODEC_ID:
            if (n == 6 && memcmp(v, "A_OPUS", 6) == 0)
                w->opus_tracks++;
            else
                w->other_tracks++;
            break;
        case EBML_CLUSTER_TIMECODE:
            if (n > 8) return SB_EINVAL;
            w->cluster_ticks = be_uint(v, n);
            break;
        case EBML_SIMPLE_BLOCK:
        case EBML_BLOCK: {
            /* track number (vint), then a signed 16-bit time relative to the cluster */
            size_t at = 0;
            uint64_t track;
            if (ebml_vint(v, n, &at, false, &track, NULL) != SB_OK || n - at < 2) return SB_EINVAL;
            int16_t rel = (int16_t)be16(v + at);
            uint64_t t =
                rel < 0 && (uint64_t)(-(int32_t)rel) > w->cluster_ticks ? 0 : w->cluster_ticks + (uint64_t)(int64_t)rel;
            if (t > w->last_block_ticks) w->last_block_ticks = t;
            break;
        }
        default:
            break;
        }
        pos += n;
    }
    return SB_OK;
}

int media_webm_opus_duration(const unsigned char *data, size_t len, int64_t *duration_ms_out) {
    *duration_ms_out = 0;
    webm_scan w = {.timecode_scale_ns = 1000000};
    if (!data || webm_walk(data, len, &w) != SB_OK) return SB_EINVAL;
    if (!w.webm || w.opus_tracks != 1 || w.other_tracks != 0) return SB_EINVAL;
    /* ticks * scale ns; both bounded above, computed without overflow */
    double ticks = w.duration_ticks > (double)w.last_block_ticks ? w.duration_ticks : (double)w.last_block_ticks;
    double ms = ticks * (double)w.timecode_scale_ns / 1e6;
    if (!(ms >= 0 && ms < 1e15)) return SB_EINVAL;
    *duration_ms_out = (int64_t)ms;
    return SB_OK;
}

/* ---- Ogg ---- */

int media_ogg_opus_duration(const unsigned char *data, size_t len, int64_t *duration_ms_out) {
    *duration_ms_out = 0;
    if (!data) return SB_EINVAL;
    size_t pos = 0;
    uint32_t serial = 0;
    uint32_t pre_skip = 0;
    uint64_t last_granule = 0;
    bool have_granule = false;
    for (unsigned page = 0; pos < len; page++) {
        if (page >= SB_MEDIA_CONTAINER_STEPS_MAX) return SB_EINVAL;
        if (len - pos < 27 || memcmp(data + pos, "OggS", 4) != 0 || data[pos + 4] != 0) return SB_EINVAL;
        const unsigned char *h = data + pos;
        uint64_t granule = le64(h + 6);
        uint32_t page_serial = le32(h + 14);
        size_t segments = h[26];
        if (len - pos - 27 < segments) return SB_EINVAL;
        size_t body = 0;
        for (size_t i = 0; i < segments; i++)
            body += h[27 + i];
        size_t header = 27 + segments;
        if (len - pos - header < body) return SB_EINVAL; /* truncated page */
        const unsigned char *packet = h + header;
        if (page == 0) {
            /* the first page carries exactly the OpusHead packet */
            if (!(h[5] & 0x02) || body < 19 || memcmp(packet, "OpusHead", 8) != 0) return SB_EINVAL;
            if ((packet[8] & 0xF0) != 0) return SB_EINVAL; /* major version 0 */
            serial = page_serial;
            pre_skip = le16(packet + 10);
        } else if (page_serial != serial) {
            return SB_EINVAL; /* one logical stream only */
        } else if (page == 1 && (body < 8 || memcmp(packet, "OpusTags", 8) != 0)) {
            return SB_EINVAL;
        }
        if (granule != UINT64_MAX && page >= 2) { /* -1: no packet ends on this page */
            if (have_granule && granule < last_granule) return SB_EINVAL;
            last_granule = granule;
            have_granule = true;
        }
        pos += header + body;
    }
    if (!have_granule) return SB_EINVAL; /* no audio */
    if (last_granule > (uint64_t)INT64_MAX / 2) return SB_EINVAL;
    uint64_t samples = last_granule > pre_skip ? last_granule - pre_skip : 0;
    *duration_ms_out = (int64_t)(samples / 48); /* Opus granules count 48 kHz samples */
    return SB_OK;
}

/* ---- images ---- */

static bool jpeg_is_sof(unsigned char marker) {
    return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

static int jpeg_header(const unsigned char *d, size_t len, uint32_t *w, uint32_t *h) {
    size_t pos = 2;
    for (unsigned steps = 0; steps < SB_MEDIA_CONTAINER_STEPS_MAX; steps++) {
        if (pos > len || len - pos < 2) return SB_EINVAL;
        if (d[pos] != 0xFF) return SB_EINVAL;
        unsigned char marker = d[pos + 1];
        if (marker == 0xFF) { /* fill byte */
            pos++;
            continue;
        }
        pos += 2;
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue; /* no length */
        if (marker == 0xD9 || marker == 0xDA) return SB_EINVAL;             /* no frame header before data */
        if (len - pos < 2) return SB_EINVAL;
        uint32_t seg = be16(d + pos);
        if (seg < 2 || len - pos < seg) return SB_EINVAL;
        if (jpeg_is_sof(marker)) {
            if (seg < 7) return SB_EINVAL;
            *h = be16(d + pos + 3);
            *w = be16(d + pos + 5);
            return SB_OK;
        }
        pos += seg;
    }
    return SB_EINVAL;
}

static int webp_header(const unsigned char *d, size_t len, uint32_t *w, uint32_t *h) {
    if (len < 30) return SB_EINVAL;
    if (memcmp(d + 12, "VP8 ", 4) == 0) {
        if (d[23] != 0x9D || d[24] != 0x01 || d[25] != 0x2A) return SB_EINVAL;
        *w = le16(d + 26) & 0x3FFF;
        *h = le16(d + 28) & 0x3FFF;
        return SB_OK;
    }
    if (memcmp(d + 12, "VP8L", 4) == 0) {
        if (d[20] != 0x2F) return SB_EINVAL;
        uint32_t bits = le32(d + 21);
        *w = (bits & 0x3FFF) + 1;
        *h = ((bits >> 14) & 0x3FFF) + 1;
        return SB_OK;
    }
    if (memcmp(d + 12, "VP8X", 4) == 0) {
        *w = le24(d + 24) + 1;
        *h = le24(d + 27) + 1;
        return SB_OK;
    }
    return SB_EINVAL;
}

int media_image_header(const unsigned char *data, size_t len, media_type type, uint32_t *width_out,
                       uint32_t *height_out) {
    uint32_t w = 0, h = 0;
    int result = SB_EINVAL;
    if (!data) return SB_EINVAL;
    switch (type) {
    case MEDIA_TYPE_PNG:
        if (len >= 24 && memcmp(data + 12, "IHDR", 4) == 0) {
            w = be32(data + 16);
            h = be32(data + 20);
            result = SB_OK;
        }
        break;
    case MEDIA_TYPE_JPEG:
        result = len >= 4 ? jpeg_header(data, len, &w, &h) : SB_EINVAL;
        break;
    case MEDIA_TYPE_GIF:
        if (len >= 10) {
            w = le16(data + 6);
            h = le16(data + 8);
            result = SB_OK;
        }
        break;
    case MEDIA_TYPE_WEBP:
        result = webp_header(data, len, &w, &h);
        break;
    default:
        break;
    }
    if (result != SB_OK || w == 0 || h == 0) return SB_EINVAL;
    *width_out = w;
    *height_out = h;
    return SB_OK;
}

/* ---- the sniffer ---- */

media_type media_sniff(const unsigned char *d, size_t len) {
    if (!d) return MEDIA_TYPE_UNKNOWN;
    if (starts(d, len, "\x89PNG\r\n\x1a\n", 8)) return MEDIA_TYPE_PNG;
    if (starts(d, len, "\xFF\xD8\xFF", 3)) return MEDIA_TYPE_JPEG;
    if (starts(d, len, "GIF87a", 6) || starts(d, len, "GIF89a", 6)) return MEDIA_TYPE_GIF;
    if (len >= 16 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBPVP8", 7) == 0) return MEDIA_TYPE_WEBP;
    if (starts(d, len, "%PDF-", 5)) return MEDIA_TYPE_PDF;
    if (starts(d, len, "OggS\0", 5)) return MEDIA_TYPE_OGG;
    if (starts(d, len, "PK\x03\x04", 4)) return MEDIA_TYPE_ZIP;
    if (starts(d, len, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8)) return MEDIA_TYPE_OLE;
    if (starts(d, len, "\x1A\x45\xDF\xA3", 4)) {
        /* the EBML header's DocType, within the header element */
        size_t pos = 4;
        uint64_t size, id, child;
        bool unknown;
        if (ebml_vint(d, len, &pos, false, &size, &unknown) != SB_OK || unknown || size > len - pos)
            return MEDIA_TYPE_UNKNOWN;
        size_t end = pos + (size_t)size;
        for (unsigned steps = 0; pos < end && steps < 16; steps++) {
            if (ebml_vint(d, end, &pos, true, &id, NULL) != SB_OK ||
                ebml_vint(d, end, &pos, false, &child, &unknown) != SB_OK || unknown || child > end - pos)
                return MEDIA_TYPE_UNKNOWN;
            if (id == EBML_DOCTYPE)
                return child == 4 && memcmp(d + pos, "webm", 4) == 0 ? MEDIA_TYPE_WEBM : MEDIA_TYPE_UNKNOWN;
            pos += (size_t)child;
        }
    }
    return MEDIA_TYPE_UNKNOWN;
}
