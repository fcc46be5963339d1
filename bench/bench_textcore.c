/*
 * bench_textcore.c - single-thread throughput of the text engine's per-post
 * work: text_normalize + text_langid + text_signals on real posts, against
 * the bare library step it is built on, utf8proc NFKC with case folding
 * (utf8proc_map, the same texts, the same thread).
 *
 * usage: bench_textcore FILE.tsv...   (header label<TAB>text; the text
 * column is used).  Each measurement runs whole passes over all texts for
 * at least SECONDS_MIN seconds.  Prints per-pass figures and one line
 *   posts_per_s=N baseline_posts_per_s=B bytes_per_s=N posts=N
 * for bench/textcore.sh to read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/core.h"
#include "text/text.h"

#define SECONDS_MIN 1.5
#define POSTS_MAX 200000

typedef struct {
    char *text;
    size_t len;
} post;

static post posts[POSTS_MAX];
static size_t post_count;

static int load(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "bench_textcore: cannot open %s\n", path);
        return -1;
    }
    static char line[SB_TEXT_INPUT_BYTES_MAX + 2];
    bool header = true;
    while (fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if (header) {
            header = false;
            continue;
        }
        char *tab = memchr(line, '\t', len);
        if (!tab || post_count >= POSTS_MAX) continue;
        char *text = tab + 1;
        size_t text_len = len - (size_t)(text - line);
        posts[post_count].text = sb_strndup(text, text_len);
        if (!posts[post_count].text) break;
        posts[post_count].len = text_len;
        post_count++;
    }
    fclose(f);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_textcore FILE.tsv...\n");
        return 2;
    }
    for (int i = 1; i < argc; i++)
        if (load(argv[i]) != 0) return 1;
    if (post_count == 0) return 1;
    size_t bytes = 0;
    for (size_t i = 0; i < post_count; i++) bytes += posts[i].len;

    sb_buf norm;
    sb_buf_init(&norm, SB_TEXT_NORMALIZED_BYTES_MAX);
    size_t signals = 0, rejected = 0, tokens = 0;
    size_t passes = 0;
    int64_t t0 = sb_mono_ns();
    double secs = 0;
    while (secs < SECONDS_MIN) {
        for (size_t i = 0; i < post_count; i++) {
            text_lang lang;
            int conf;
            if (text_normalize(posts[i].text, posts[i].len, &norm) != SB_OK ||
                text_langid(posts[i].text, posts[i].len, &lang, &conf) != SB_OK) {
                rejected++;
                sb_buf_init(&norm, SB_TEXT_NORMALIZED_BYTES_MAX);
                continue;
            }
            text_signals_result r;
            if (text_signals(norm.len ? norm.data : "", norm.len, &r) == SB_OK) signals += r.count;
            if (passes == 0) {
                text_token_iter it;
                text_token_iter_init(&it, norm.data, norm.len);
                const char *tok;
                size_t tl;
                while (text_token_next(&it, &tok, &tl)) tokens++;
            }
        }
        passes++;
        secs = (double)(sb_mono_ns() - t0) / 1e9;
    }
    double ours = (double)(passes * post_count) / secs;
    double ours_bytes = (double)(passes * bytes) / secs;
    sb_buf_free(&norm);

    size_t base_passes = 0, base_out = 0;
    t0 = sb_mono_ns();
    secs = 0;
    while (secs < SECONDS_MIN) {
        for (size_t i = 0; i < post_count; i++) {
            utf8proc_uint8_t *out = NULL;
            utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)posts[i].text, (utf8proc_ssize_t)posts[i].len,
                                              &out, UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD);
            if (n > 0) base_out += (size_t)n;
            free(out); /* utf8proc allocates with malloc */
        }
        base_passes++;
        secs = (double)(sb_mono_ns() - t0) / 1e9;
    }
    double base = (double)(base_passes * post_count) / secs;

    printf("posts: %zu (%zu bytes, %.0f bytes/post), tokens in one pass: %zu, signals per pass: %zu, rejected: %zu\n",
           post_count, bytes, (double)bytes / (double)post_count, tokens, signals / passes, rejected / passes);
    printf("text engine (normalize+langid+signals): %zu passes, %.0f posts/s, %.1f MB/s\n", passes, ours,
           ours_bytes / 1e6);
    printf("utf8proc NFKC_Casefold alone:          %zu passes, %.0f posts/s (checksum %zu)\n", base_passes, base,
           base_out % 1000);
    printf("posts_per_s=%.0f baseline_posts_per_s=%.0f bytes_per_s=%.0f posts=%zu\n", ours, base, ours_bytes, post_count);
    for (size_t i = 0; i < post_count; i++) sb_free(posts[i].text);
    return 0;
}
