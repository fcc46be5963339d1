/*
 * bench_media.c - uploads of ~200 KB photos per second through media_upload
 * (sniff, header check, libvips decode, strip, re-encode, thumbnail, hash,
 * temp file + fsync + rename, rows) against a plain copy of the same bytes
 * to disk (temp file + fsync + rename through the same storage backend) in
 * the same run.  Photos are noise drawn by libvips (distinct per upload
 * index modulo PHOTOS), so the encoder has real work.
 * Ends with: bench: media value=N unit=uploads/s baseline=copy ...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vips/vips.h>

#include "media/media.h"
#include "messenger/messenger.h"

#define PHOTOS 16

static void die(const char *what, int result) {
    fprintf(stderr, "bench_media: %s: %s\n", what, sb_strerror(result));
    exit(1);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A noisy JPEG of about 200 KB. */
static unsigned char *photo(int seed, size_t *len_out) {
    VipsImage *noise = NULL, *img = NULL;
    void *buf = NULL;
    size_t len = 0;
    if (vips_gaussnoise(&noise, 820 + seed, 600, "mean", 128.0, "sigma", 24.0, "seed", seed, NULL) != 0 ||
        vips_cast_uchar(noise, &img, NULL) != 0 ||
        vips_image_write_to_buffer(img, ".jpg", &buf, &len, "Q", 80, NULL) != 0)
        die("make a photo", SB_EIO);
    unsigned char *out = malloc(len);
    memcpy(out, buf, len);
    g_free(buf);
    g_object_unref(img);
    g_object_unref(noise);
    *len_out = len;
    return out;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: bench_media DIR UPLOADS\n");
        return 2;
    }
    int64_t uploads = 0;
    if (sb_parse_int64(argv[2], &uploads) != SB_OK || uploads < 1 || uploads > 1000000) die("UPLOADS", SB_EINVAL);
    sb_log_set_level(SB_LOG_ERROR);
    int result = sb_crypto_init();
    if (result != SB_OK) die("crypto", result);
    store *s = NULL;
    if ((result = store_open(argv[1], &(store_options){.durable = 0}, &s)) != SB_OK) die("open", result);
    if ((result = store_migrate(s, NULL)) != SB_OK) die("migrate", result);
    if ((result = store_exec(s,
                             "INSERT INTO users(role, phone, display_name, created_at_ms, updated_at_ms) "
                             "VALUES ('customer', '+989120000001', 'b', 0, 0)",
                             NULL)) != SB_OK)
        die("user", result);
    int64_t user = store_last_insert_id(s), chat = 0;
    if ((result = messenger_group_create(s, user, "bench", 0, &chat, NULL)) != SB_OK) die("group", result);
    media *m = NULL;
    if ((result = media_open(&(media_options){.data_location = argv[1]}, &m)) != SB_OK) die("media", result);

    unsigned char *photos[PHOTOS];
    size_t sizes[PHOTOS], total = 0;
    for (int i = 0; i < PHOTOS; i++) {
        photos[i] = photo(i, &sizes[i]);
        total += sizes[i];
    }

    /* baseline: the same bytes written to disk (temp, fsync, rename) */
    char copy_dir[4200];
    snprintf(copy_dir, sizeof copy_dir, "%s/copy", argv[1]);
    void *fs = NULL;
    if ((result = media_storage_fs_open(copy_dir, &fs)) != SB_OK) die("copy dir", result);
    double t0 = now_s();
    size_t copy_bytes = 0;
    for (int64_t i = 0; i < uploads; i++) {
        char key[80];
        snprintf(key, sizeof key, "%02x/%062llx%02x", (unsigned)(i & 0xff), (unsigned long long)i, 0u);
        int k = (int)(i % PHOTOS);
        if ((result = media_storage_fs.put(fs, key, photos[k], sizes[k])) != SB_OK) die("copy", result);
        copy_bytes += sizes[k];
    }
    double copy_s = now_s() - t0;
    media_storage_fs.close(fs);

    t0 = now_s();
    size_t media_bytes = 0;
    for (int64_t i = 0; i < uploads; i++) {
        int k = (int)(i % PHOTOS);
        int64_t id;
        media_info info;
        media_refusal why;
        result =
            media_upload(m, s, user, chat, MEDIA_KIND_PHOTO, "photo.jpg", photos[k], sizes[k], i, &id, &info, &why);
        if (result != SB_OK) {
            fprintf(stderr, "bench_media: upload refused: %s\n", media_refusal_code(why));
            die("upload", result);
        }
        media_bytes += sizes[k];
    }
    double media_s = now_s() - t0;

    double load = 0;
    FILE *fp = fopen("/proc/loadavg", "r");
    if (fp) {
        if (fscanf(fp, "%lf", &load) != 1) load = 0;
        fclose(fp);
    }
    double rate = (double)uploads / media_s, copy_rate = (double)uploads / copy_s;
    fprintf(stderr, "bench_media: %lld uploads of %zu KB on average: media %.2f s, copy %.2f s (%.0f bytes/s)\n",
            (long long)uploads, total / PHOTOS / 1024, media_s, copy_s, (double)copy_bytes / copy_s);
    printf("bench: media value=%.1f unit=uploads/s baseline=copy baseline_value=%.1f ratio=%.4f bytes_per_s=%.0f "
           "loadavg=%.2f\n",
           rate, copy_rate, rate / copy_rate, (double)media_bytes / media_s, load);
    for (int i = 0; i < PHOTOS; i++)
        free(photos[i]);
    media_close(m);
    store_close(s);
    return 0;
}
