/*
 * model_io.c - the classifier's model file: serialise, save atomically,
 * and load with every size checked before anything is allocated.
 *
 * Layout (little-endian; see text.h):
 *   "SBTXTCLF" | u32 version | u32 dim, buckets, epochs, word_ngrams,
 *   char_ngram_min, char_ngram_max | u64 seed | f32 lr | u32 weight type |
 *   u32 heads, per head: u16 len + name, u32 labels, per label u16 len + name |
 *   u32 rows | u32 bucket[rows] | weights input[rows][dim] |
 *   weights output[h][labels][dim] per head | u32 CRC-32C of all before it.
 * Weights are float32 or IEEE float16 (weight type 1), loaded as float32.
 *
 * Error precedence when loading: not our magic -> SB_EINVAL; a version we do
 * not read -> SB_EINVAL; too large -> SB_ELIMIT; checksum mismatch (which
 * covers truncation and damage) -> SB_ECORRUPT; then any inconsistency
 * in the content (a file written by a buggy or hostile tool with a valid
 * checksum) -> SB_ECORRUPT.  Each comes with a sentence in err.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "text/classifier_int.h"
#include "text/text.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the model file is read and written in host order: little-endian hosts only"
#endif

#define MAGIC_BYTES 8
#define WEIGHT_F32 0u
#define WEIGHT_F16 1u

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78). */
uint32_t classifier_crc32c(const void *bytes, size_t len) {
    const uint8_t *data = bytes;
    uint32_t table[256];
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1u) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        table[i] = c;
    }
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) crc = table[(crc ^ data[i]) & 0xFFu] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

static void set_err(char err[TEXT_ERROR_BYTES], const char *fmt, ...) SB_PRINTF(2, 3);
static void set_err(char err[TEXT_ERROR_BYTES], const char *fmt, ...) {
    if (!err) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, TEXT_ERROR_BYTES, fmt, ap);
    va_end(ap);
}

/* ---- writing ------------------------------------------------------------ */

static int put_u32(sb_buf *b, uint32_t v) { return sb_buf_append(b, &v, sizeof v); }
static int put_u16(sb_buf *b, uint16_t v) { return sb_buf_append(b, &v, sizeof v); }
static int put_name(sb_buf *b, const char *s) {
    size_t len = strlen(s);
    SB_ASSERT(len <= SB_TEXT_LABEL_BYTES_MAX);
    int rc = put_u16(b, (uint16_t)len);
    return rc == SB_OK ? sb_buf_append(b, s, len) : rc;
}

static int put_weights(sb_buf *b, const float *w, size_t n, bool half) {
    int rc = SB_OK;
    if (!half) return sb_buf_append(b, w, n * sizeof *w);
    uint16_t chunk[1024];
    for (size_t i = 0; i < n && rc == SB_OK;) {
        size_t k = 0;
        for (; k < SB_ARRAY_LEN(chunk) && i < n; k++, i++) chunk[k] = classifier_float_to_half(w[i]);
        rc = sb_buf_append(b, chunk, k * sizeof *chunk);
    }
    return rc;
}

int text_model_serialize(const text_model *m, sb_buf *out) {
    if (!m || !out) return SB_EINVAL;
    sb_buf_reset(out);
    const text_train_params *p = &m->params;
    float lr = p->lr;
    uint32_t lr_bits;
    memcpy(&lr_bits, &lr, sizeof lr_bits);
    int rc = sb_buf_append(out, TEXT_MODEL_MAGIC, MAGIC_BYTES);
    uint32_t head[] = {TEXT_MODEL_FORMAT_VERSION, p->dim, p->buckets, p->epochs, p->word_ngrams,
                       p->char_ngram_min, p->char_ngram_max};
    for (size_t i = 0; rc == SB_OK && i < SB_ARRAY_LEN(head); i++) rc = put_u32(out, head[i]);
    if (rc == SB_OK) rc = sb_buf_append(out, &p->seed, sizeof p->seed);
    if (rc == SB_OK) rc = put_u32(out, lr_bits);
    if (rc == SB_OK) rc = put_u32(out, p->float16 ? WEIGHT_F16 : WEIGHT_F32);
    if (rc == SB_OK) rc = put_u32(out, (uint32_t)m->head_count);
    for (size_t h = 0; rc == SB_OK && h < m->head_count; h++) {
        rc = put_name(out, m->head_names[h]);
        if (rc == SB_OK) rc = put_u32(out, m->label_count[h]);
        for (uint32_t l = 0; rc == SB_OK && l < m->label_count[h]; l++) rc = put_name(out, m->labels[h][l]);
    }
    if (rc == SB_OK) rc = put_u32(out, m->rows);
    if (rc == SB_OK) rc = sb_buf_append(out, m->row_bucket, (size_t)m->rows * sizeof *m->row_bucket);
    if (rc == SB_OK) rc = put_weights(out, m->input, (size_t)m->rows * p->dim, p->float16);
    for (size_t h = 0; rc == SB_OK && h < m->head_count; h++)
        rc = put_weights(out, m->output[h], (size_t)m->label_count[h] * p->dim, p->float16);
    if (rc == SB_OK) rc = put_u32(out, classifier_crc32c(out->data, out->len));
    return rc;
}

int text_model_save(const text_model *m, const char *path, char err[TEXT_ERROR_BYTES]) {
    if (!m || !path) return SB_EINVAL;
    sb_buf buf;
    sb_buf_init(&buf, SB_TEXT_MODEL_BYTES_MAX);
    int rc = text_model_serialize(m, &buf);
    if (rc != SB_OK) {
        set_err(err, "cannot serialise the model: %s", sb_strerror(rc));
        sb_buf_free(&buf);
        return rc;
    }
    size_t plen = strlen(path);
    if (plen + 16 > SB_PATH_BYTES_MAX) {
        sb_buf_free(&buf);
        set_err(err, "path is too long");
        return SB_ELIMIT;
    }
    char tmp[SB_PATH_BYTES_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        set_err(err, "cannot create a temporary file next to %s: %s", path, strerror(errno));
        sb_buf_free(&buf);
        return SB_EIO;
    }
    const char *data = buf.data;
    size_t left = buf.len;
    while (left > 0) {
        ssize_t w = write(fd, data, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        data += w;
        left -= (size_t)w;
    }
    bool ok = left == 0 && fchmod(fd, 0644) == 0 && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) != 0) ok = false;
    if (ok && rename(tmp, path) != 0) {
        saved = errno;
        ok = false;
    }
    sb_buf_free(&buf);
    if (!ok) {
        unlink(tmp);
        set_err(err, "cannot write %s: %s", path, strerror(saved));
        return SB_EIO;
    }
    return SB_OK;
}

/* ---- reading ------------------------------------------------------------ */

typedef struct {
    const uint8_t *data;
    size_t len; /* up to the checksum */
    size_t pos;
} reader;

static bool get(reader *r, void *out, size_t n) {
    if (r->len - r->pos < n) return false;
    memcpy(out, r->data + r->pos, n);
    r->pos += n;
    return true;
}

/* A name: u16 length 1..SB_TEXT_LABEL_BYTES_MAX, no NUL; copied. */
static int get_name(reader *r, char **out, char err[TEXT_ERROR_BYTES], const char *what) {
    uint16_t len;
    if (!get(r, &len, sizeof len) || len == 0 || len > SB_TEXT_LABEL_BYTES_MAX || r->len - r->pos < len) {
        set_err(err, "bad %s name at byte %zu", what, r->pos);
        return SB_ECORRUPT;
    }
    const char *s = (const char *)r->data + r->pos;
    if (memchr(s, '\0', len)) {
        set_err(err, "bad %s name at byte %zu", what, r->pos);
        return SB_ECORRUPT;
    }
    *out = sb_strndup(s, len);
    r->pos += len;
    return *out ? SB_OK : SB_ENOMEM;
}

static int get_weights(reader *r, float *w, size_t n, uint32_t type, char err[TEXT_ERROR_BYTES]) {
    size_t size = type == WEIGHT_F16 ? 2 : 4;
    SB_ASSERT(r->len - r->pos >= n * size); /* checked against the file length before */
    const uint8_t *src = r->data + r->pos;
    if (type == WEIGHT_F16) {
        for (size_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, src + 2 * i, sizeof h);
            w[i] = classifier_half_to_float(h);
        }
    } else {
        memcpy(w, src, n * sizeof *w);
    }
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(w[i])) {
            set_err(err, "a weight is not a finite number (byte %zu)", r->pos + i * size);
            return SB_ECORRUPT;
        }
    }
    r->pos += n * size;
    return SB_OK;
}

static int parse(reader *r, text_model *m, char err[TEXT_ERROR_BYTES]) {
    uint32_t v[6];
    uint32_t lr_bits, wtype, heads;
    text_train_params *p = &m->params;
    if (!get(r, v, sizeof v) || !get(r, &p->seed, sizeof p->seed) || !get(r, &lr_bits, sizeof lr_bits) ||
        !get(r, &wtype, sizeof wtype) || !get(r, &heads, sizeof heads)) {
        set_err(err, "model header is cut short");
        return SB_ECORRUPT;
    }
    p->dim = v[0];
    p->buckets = v[1];
    p->epochs = v[2];
    p->word_ngrams = v[3];
    p->char_ngram_min = v[4];
    p->char_ngram_max = v[5];
    memcpy(&p->lr, &lr_bits, sizeof p->lr);
    if (wtype != WEIGHT_F32 && wtype != WEIGHT_F16) {
        set_err(err, "unknown weight type %u", wtype);
        return SB_ECORRUPT;
    }
    p->float16 = wtype == WEIGHT_F16;
    char why[TEXT_ERROR_BYTES];
    if (text_train_params_check(p, why) != SB_OK) {
        set_err(err, "bad parameters in the model: %s", why);
        return SB_ECORRUPT;
    }
    if (heads < 1 || heads > SB_TEXT_MODEL_HEADS_MAX) {
        set_err(err, "model has %u heads (1..%d allowed)", heads, SB_TEXT_MODEL_HEADS_MAX);
        return SB_ECORRUPT;
    }
    uint64_t weights = 0; /* counted as we go, checked against the bytes left */
    for (uint32_t h = 0; h < heads; h++) {
        int rc = get_name(r, &m->head_names[h], err, "head");
        if (rc != SB_OK) return rc;
        m->head_count = h + 1;
        for (uint32_t g = 0; g < h; g++)
            if (strcmp(m->head_names[g], m->head_names[h]) == 0) {
                set_err(err, "head '%s' appears twice", m->head_names[h]);
                return SB_ECORRUPT;
            }
        uint32_t labels;
        if (!get(r, &labels, sizeof labels) || labels < 1 || labels > SB_TEXT_MODEL_LABELS_MAX) {
            set_err(err, "head '%s' has a bad label count", m->head_names[h]);
            return SB_ECORRUPT;
        }
        /* each label needs at least 3 bytes: bound before allocating */
        if ((r->len - r->pos) / 3 < labels) {
            set_err(err, "head '%s' claims %u labels, more than the file holds", m->head_names[h], labels);
            return SB_ECORRUPT;
        }
        m->labels[h] = sb_calloc(labels, sizeof(char *));
        if (!m->labels[h]) return SB_ENOMEM;
        for (uint32_t l = 0; l < labels; l++) {
            rc = get_name(r, &m->labels[h][l], err, "label");
            m->label_count[h] = l + (rc == SB_OK ? 1 : 0);
            if (rc != SB_OK) return rc;
        }
        weights += (uint64_t)labels * p->dim;
    }
    uint32_t rows;
    if (!get(r, &rows, sizeof rows) || rows > p->buckets) {
        set_err(err, "bad row count");
        return SB_ECORRUPT;
    }
    weights += (uint64_t)rows * p->dim;
    uint64_t need = 4ull * rows + weights * (p->float16 ? 2 : 4);
    if (need != r->len - r->pos) {
        set_err(err, "sizes in the header (%llu bytes of rows and weights) do not match the file (%zu left)",
                (unsigned long long)need, r->len - r->pos);
        return SB_ECORRUPT;
    }
    /* From here every size is backed by bytes of the file. */
    m->rows = rows;
    m->row_bucket = sb_malloc((rows ? rows : 1) * sizeof *m->row_bucket);
    m->input = sb_malloc(((size_t)rows * p->dim + 1) * sizeof(float));
    if (!m->row_bucket || !m->input) return SB_ENOMEM;
    if (!get(r, m->row_bucket, (size_t)rows * sizeof *m->row_bucket)) return SB_EINTERNAL;
    for (uint32_t i = 0; i < rows; i++) {
        if (m->row_bucket[i] >= p->buckets || (i > 0 && m->row_bucket[i] <= m->row_bucket[i - 1])) {
            set_err(err, "row bucket ids are out of range or not increasing (row %u)", i);
            return SB_ECORRUPT;
        }
    }
    int rc = get_weights(r, m->input, (size_t)rows * p->dim, wtype, err);
    for (size_t h = 0; rc == SB_OK && h < m->head_count; h++) {
        m->output[h] = sb_malloc((size_t)m->label_count[h] * p->dim * sizeof(float));
        if (!m->output[h]) return SB_ENOMEM;
        rc = get_weights(r, m->output[h], (size_t)m->label_count[h] * p->dim, wtype, err);
    }
    if (rc != SB_OK) return rc;
    SB_ASSERT(r->pos == r->len);
    return classifier_index_build(m);
}

int text_model_load_bytes(const void *data, size_t len, text_model **out, char err[TEXT_ERROR_BYTES]) {
    *out = NULL;
    if (err) err[0] = '\0';
    if (!data && len > 0) return SB_EINVAL;
    const uint8_t *bytes = data;
    size_t head = len < MAGIC_BYTES ? len : MAGIC_BYTES;
    if (len == 0 || memcmp(bytes, TEXT_MODEL_MAGIC, head) != 0) {
        set_err(err, "not a SocialBank classifier model (bad magic)");
        return SB_EINVAL;
    }
    uint32_t version;
    if (len < MAGIC_BYTES + 2 * sizeof(uint32_t)) {
        set_err(err, "model file is truncated (%zu bytes)", len);
        return SB_ECORRUPT;
    }
    memcpy(&version, bytes + MAGIC_BYTES, sizeof version);
    if (version != TEXT_MODEL_FORMAT_VERSION) {
        set_err(err, "model format version %u; this binary reads version %u", version, TEXT_MODEL_FORMAT_VERSION);
        return SB_EINVAL;
    }
    if (len > SB_TEXT_MODEL_BYTES_MAX) {
        set_err(err, "model file is larger than %u bytes", (unsigned)SB_TEXT_MODEL_BYTES_MAX);
        return SB_ELIMIT;
    }
    uint32_t stored;
    memcpy(&stored, bytes + len - sizeof stored, sizeof stored);
    uint32_t computed = classifier_crc32c(bytes, len - sizeof stored);
    if (stored != computed) {
        set_err(err, "model file is damaged or truncated (checksum %08x, expected %08x)", computed, stored);
        return SB_ECORRUPT;
    }
    text_model *m = sb_calloc(1, sizeof *m);
    if (!m) return SB_ENOMEM;
    reader r = {bytes, len - sizeof stored, MAGIC_BYTES + sizeof version};
    int rc = parse(&r, m, err);
    if (rc != SB_OK) {
        if (rc == SB_ENOMEM) set_err(err, "out of memory loading the model");
        text_model_free(m);
        return rc;
    }
    *out = m;
    return SB_OK;
}

int text_model_load(const char *path, text_model **out, char err[TEXT_ERROR_BYTES]) {
    *out = NULL;
    if (err) err[0] = '\0';
    if (!path) return SB_EINVAL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        set_err(err, "cannot open %s: %s", path, strerror(e));
        return e == ENOENT ? SB_ENOTFOUND : SB_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        set_err(err, "%s is not a regular file", path);
        return SB_EIO;
    }
    if ((uint64_t)st.st_size > SB_TEXT_MODEL_BYTES_MAX) {
        close(fd);
        set_err(err, "%s is larger than %u bytes", path, (unsigned)SB_TEXT_MODEL_BYTES_MAX);
        return SB_ELIMIT;
    }
    size_t size = (size_t)st.st_size;
    uint8_t *data = sb_malloc(size ? size : 1);
    if (!data) {
        close(fd);
        return SB_ENOMEM;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, data + got, size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(fd);
    int rc = text_model_load_bytes(data, got, out, err);
    sb_free(data);
    if (rc != SB_OK && err) {
        char inner[TEXT_ERROR_BYTES];
        snprintf(inner, sizeof inner, "%s", err);
        set_err(err, "%s: %s", path, inner);
    }
    return rc;
}
