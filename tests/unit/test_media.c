/*
 * test_media.c - the media module in process: the sniffer and header
 * reader on the fuzz seeds (exact values), the Ogg and WebM durations, the
 * decompression bomb refused on its header, reference counts moved by the
 * database (an upload, a message, its deletion, an author erased), the
 * sweep removing blobs nothing holds, signed URLs, file names masked, and
 * the media directory copied for a backup and back for a restore.
 */
#include "messenger_fixture.h"

#include <sys/stat.h>
#include <unistd.h>

#include "media/media.h"
#include "media_fixtures.h"

/* A seed of tests/fuzz/corpus/media into *len_out (malloc'ed). */
static unsigned char *seed(const char *name, size_t *len_out) {
    char path[512];
    const char *root = getenv("SB_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus/media/%s", root ? root : ".", name);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    unsigned char *buf = malloc(65536);
    *len_out = fread(buf, 1, 65536, fp);
    fclose(fp);
    return buf;
}

static void test_sniff_and_headers(void **state) {
    (void)state;
    static const struct {
        const char *name;
        media_type type;
        uint32_t w, h;
    } cases[] = {{"png_2x2", MEDIA_TYPE_PNG, 2, 2},
                 {"png_bomb", MEDIA_TYPE_PNG, 100000, 100000},
                 {"jpeg_header", MEDIA_TYPE_JPEG, 640, 480},
                 {"gif_header", MEDIA_TYPE_GIF, 10, 20},
                 {"webp_vp8l", MEDIA_TYPE_WEBP, 10, 20},
                 {"webp_vp8x", MEDIA_TYPE_WEBP, 100, 50},
                 {"pdf", MEDIA_TYPE_PDF, 0, 0},
                 {"zip", MEDIA_TYPE_ZIP, 0, 0},
                 {"html", MEDIA_TYPE_UNKNOWN, 0, 0},
                 {"ogg_opus_3s", MEDIA_TYPE_OGG, 0, 0},
                 {"webm_opus", MEDIA_TYPE_WEBM, 0, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len;
        unsigned char *d = seed(cases[i].name, &len);
        if (media_sniff(d, len) != cases[i].type)
            fprintf(stderr, "%s sniffed as %d\n", cases[i].name, media_sniff(d, len));
        assert_int_equal(media_sniff(d, len), cases[i].type);
        uint32_t w = 0, h = 0;
        if (cases[i].w) {
            assert_int_equal(media_image_header(d, len, cases[i].type, &w, &h), SB_OK);
            assert_int_equal(w, cases[i].w);
            assert_int_equal(h, cases[i].h);
            assert_int_equal(media_image_header(d, 9, cases[i].type, &w, &h), SB_EINVAL); /* truncated */
        }
        free(d);
    }
}

static void test_voice_durations(void **state) {
    (void)state;
    size_t len;
    int64_t ms = -1;
    unsigned char *d = seed("ogg_opus_3s", &len);
    assert_int_equal(media_ogg_opus_duration(d, len, &ms), SB_OK);
    assert_int_equal(ms, 3000);
    assert_int_equal(media_ogg_opus_duration(d, len - 1, &ms), SB_EINVAL);
    assert_int_equal(media_webm_opus_duration(d, len, &ms), SB_EINVAL);
    free(d);
    d = seed("webm_opus", &len);
    assert_int_equal(media_webm_opus_duration(d, len, &ms), SB_OK);
    assert_int_equal(ms, 2500);                                             /* Info/Duration 2500 ticks of 1 ms */
    assert_int_equal(media_webm_opus_duration(d, len - 3, &ms), SB_EINVAL); /* a cut block */
    /* another codec is not a voice note */
    unsigned char *codec = memmem(d, len, "A_OPUS", 6);
    assert_non_null(codec);
    memcpy(codec, "V_VP80", 6);
    assert_int_equal(media_webm_opus_duration(d, len, &ms), SB_EINVAL);
    free(d);
    d = media_fixture_ogg(61500, "OpusHead", &len);
    assert_int_equal(media_ogg_opus_duration(d, len, &ms), SB_OK);
    assert_int_equal(ms, 61500);
    free(d);
}

typedef struct {
    fixture f;
    media *m;
    char media_dir[128];
} media_fixture;

static int media_setup(void **state) {
    setup(state);
    fixture *f = *state;
    media_fixture *mf = calloc(1, sizeof *mf);
    mf->f = *f;
    free(f);
    assert_int_equal(media_open(&(media_options){.data_location = mf->f.dir}, &mf->m), SB_OK);
    assert_int_equal(media_dir_for_location(mf->f.dir, mf->media_dir, sizeof mf->media_dir), SB_OK);
    *state = mf;
    return 0;
}

static int media_teardown(void **state) {
    media_fixture *mf = *state;
    media_close(mf->m);
    fixture *f = malloc(sizeof *f);
    *f = mf->f;
    free(mf);
    *state = f;
    return teardown(state);
}

/* Two new customers (*a_out sends) and their 1:1 chat. */
static int64_t pair_chat(media_fixture *mf, const char *name_a, const char *name_b, int64_t *a_out) {
    int64_t a = customer(&mf->f, name_a), b = customer(&mf->f, name_b), chat = 0;
    assert_int_equal(messenger_direct_open(mf->f.s, a, b, T0, &chat, NULL), SB_OK);
    *a_out = a;
    return chat;
}

static int64_t refs_of(store *s, const char *hash) {
    int64_t refs = -1;
    if (store_query_int64(s, &refs, "SELECT refs FROM media_files WHERE hash = ?", "t", hash) != SB_OK) return -1;
    return refs;
}

static bool blob_exists(const media_fixture *mf, const char *hash) {
    char path[256];
    snprintf(path, sizeof path, "%s/%.2s/%s", mf->media_dir, hash, hash);
    return access(path, F_OK) == 0;
}

static void send_with(media_fixture *mf, int64_t sender, int64_t chat, int64_t upload_id, const media_info *info,
                      int64_t *seq_out) {
    char *payload = NULL;
    assert_int_equal(media_message_payload(upload_id, info, &payload), SB_OK);
    messenger_send_request req = {
        .chat_id = chat, .sender_id = sender, .kind = MESSENGER_MSG_MEDIA, .payload_json = payload};
    messenger_message m = {0};
    messenger_events ev = {0};
    assert_int_equal(messenger_send(mf->f.s, &req, T0, &m, NULL, &ev), SB_OK);
    *seq_out = m.seq;
    messenger_message_clear(&m);
    messenger_events_clear(&ev);
    sb_free(payload);
}

static void test_references_and_sweep(void **state) {
    media_fixture *mf = *state;
    store *s = mf->f.s;
    int64_t a = customer(&mf->f, "alice"), b = customer(&mf->f, "bob");
    int64_t chat;
    messenger_events ev = {0};
    assert_int_equal(messenger_direct_open(s, a, b, T0, &chat, NULL), SB_OK);
    messenger_events_clear(&ev);

    static const unsigned char bytes[] = "%PDF-1.4 statement";
    int64_t up1, up2;
    media_info i1, i2;
    media_refusal why;
    assert_int_equal(media_upload(mf->m, s, a, chat, MEDIA_KIND_FILE, "card 4111 1111 1111 1111.pdf", bytes,
                                  sizeof bytes - 1, T0, &up1, &i1, &why),
                     SB_OK);
    assert_null(strstr(i1.name, "4111"));
    assert_non_null(strstr(i1.name, ".pdf"));
    assert_int_equal(
        media_upload(mf->m, s, b, chat, MEDIA_KIND_FILE, NULL, bytes, sizeof bytes - 1, T0, &up2, &i2, &why), SB_OK);
    assert_string_equal(i1.hash, i2.hash);
    assert_int_equal(refs_of(s, i1.hash), 2); /* two pending uploads */

    /* b cannot attach a's upload */
    char *payload = NULL;
    assert_int_equal(media_message_payload(up1, &i1, &payload), SB_OK);
    messenger_send_request req = {
        .chat_id = chat, .sender_id = b, .kind = MESSENGER_MSG_MEDIA, .payload_json = payload};
    assert_int_equal(messenger_send(s, &req, T0, NULL, NULL, &ev), SB_ECONFLICT);
    messenger_events_clear(&ev);
    sb_free(payload);

    int64_t seq1, seq2;
    send_with(mf, a, chat, up1, &i1, &seq1);
    send_with(mf, b, chat, up2, &i2, &seq2);
    assert_int_equal(refs_of(s, i1.hash), 2); /* two messages, no uploads */
    media_info seen;
    assert_int_equal(media_access(s, b, i1.hash, &seen), SB_OK);

    /* a's message deleted: one left; b erased: none; the sweep removes it */
    assert_int_equal(messenger_delete(s, a, chat, seq1, T0 + 1, &ev), SB_OK);
    messenger_events_clear(&ev);
    assert_int_equal(refs_of(s, i1.hash), 1);
    size_t removed = 9;
    assert_int_equal(media_sweep(mf->m, s, T0 + 2, &removed), SB_OK);
    assert_int_equal(removed, 0);
    assert_true(blob_exists(mf, i1.hash));
    assert_int_equal(store_exec(s, "DELETE FROM media_attachments WHERE sender_id = ?", "i", b), SB_OK);
    assert_int_equal(refs_of(s, i1.hash), 0);
    assert_int_equal(media_access(s, a, i1.hash, &seen), SB_ENOTFOUND);
    assert_int_equal(media_sweep(mf->m, s, T0 + 3, &removed), SB_OK);
    assert_int_equal(removed, 1);
    assert_false(blob_exists(mf, i1.hash));
    assert_int_equal(refs_of(s, i1.hash), -1);
    (void)seq2;
}

static void test_author_erased(void **state) {
    media_fixture *mf = *state;
    store *s = mf->f.s;
    int64_t a, up, seq;
    int64_t chat = pair_chat(mf, "carol", "dave", &a);
    static const unsigned char bytes[] = "just some bytes";
    media_info info;
    media_refusal why;
    assert_int_equal(
        media_upload(mf->m, s, a, chat, MEDIA_KIND_FILE, "x", bytes, sizeof bytes - 1, T0, &up, &info, &why), SB_OK);
    send_with(mf, a, chat, up, &info, &seq);
    assert_int_equal(refs_of(s, info.hash), 1);
    /* erasing the author (the users row) lets go of what they sent */
    assert_int_equal(store_exec(s, "DELETE FROM users WHERE id = ?", "i", a), SB_OK);
    assert_int_equal(refs_of(s, info.hash), 0);
}

static void test_bomb_and_expiry_and_urls(void **state) {
    media_fixture *mf = *state;
    store *s = mf->f.s;
    int64_t a, up;
    int64_t chat = pair_chat(mf, "erin", "frank", &a);
    size_t len;
    unsigned char *bomb = media_fixture_png_bomb(30000, 30000, &len);
    media_info info;
    media_refusal why;
    assert_int_equal(media_upload(mf->m, s, a, chat, MEDIA_KIND_PHOTO, NULL, bomb, len, T0, &up, &info, &why),
                     SB_EINVAL);
    assert_int_equal(why, MEDIA_REFUSED_IMAGE_TOO_LARGE);
    free(bomb);

    unsigned char *png = media_fixture_image(40, 30, ".png", &len);
    assert_int_equal(media_upload(mf->m, s, a, chat, MEDIA_KIND_PHOTO, NULL, png, len, T0, &up, &info, &why), SB_OK);
    free(png);
    assert_int_equal(info.width, 40);
    assert_true(info.has_thumb);
    /* every image type libvips can write here goes through its loader */
    static const struct {
        const char *suffix;
        media_type stored;
    } kinds[] = {{".webp", MEDIA_TYPE_WEBP}, {".gif", MEDIA_TYPE_PNG}, {".jpg", MEDIA_TYPE_JPEG}};
    size_t uploaded = 1;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        size_t n = 0;
        unsigned char *img = media_fixture_image(33, 21, kinds[k].suffix, &n);
        if (!img) {
            fprintf(stderr, "note: this libvips cannot write %s; not uploaded\n", kinds[k].suffix);
            continue;
        }
        media_info got;
        int64_t id;
        assert_int_equal(media_upload(mf->m, s, a, chat, MEDIA_KIND_PHOTO, NULL, img, n, T0, &id, &got, &why), SB_OK);
        assert_int_equal(got.type, kinds[k].stored);
        assert_int_equal(got.height, 21);
        free(img);
        uploaded++;
    }
    /* a pending upload expires */
    size_t removed = 0;
    assert_int_equal(media_sweep(mf->m, s, T0 + SB_MEDIA_UPLOAD_TTL_MS + 1, &removed), SB_OK);
    assert_int_equal(removed, uploaded);
    assert_false(blob_exists(mf, info.hash));

    char sig[65];
    media_url_sign(mf->m, info.hash, false, T0 + 1000, sig);
    assert_int_equal(media_url_check(mf->m, info.hash, false, T0 + 1000, sig, T0), SB_OK);
    assert_int_equal(media_url_check(mf->m, info.hash, true, T0 + 1000, sig, T0), SB_ENOTFOUND);
    assert_int_equal(media_url_check(mf->m, info.hash, false, T0 + 1000, sig, T0 + 1001), SB_ENOTFOUND);
    assert_int_equal(media_url_check(mf->m, info.hash, false, T0 + 1001, sig, T0), SB_ENOTFOUND);
}

static void test_backup_and_restore_dirs(void **state) {
    media_fixture *mf = *state;
    store *s = mf->f.s;
    int64_t a, up;
    int64_t chat = pair_chat(mf, "gina", "hugo", &a);
    static const unsigned char bytes[] = "backup me";
    media_info info;
    media_refusal why;
    assert_int_equal(
        media_upload(mf->m, s, a, chat, MEDIA_KIND_FILE, NULL, bytes, sizeof bytes - 1, T0, &up, &info, &why), SB_OK);
    char copy[256], other[256], path[512];
    snprintf(copy, sizeof copy, "%s/backup.media", mf->f.dir);
    assert_int_equal(media_backup_dir(mf->f.dir, copy), SB_OK);
    snprintf(path, sizeof path, "%s/%.2s/%s", copy, info.hash, info.hash);
    assert_int_equal(access(path, F_OK), 0);
    snprintf(other, sizeof other, "%s/restored", mf->f.dir);
    assert_int_equal(mkdir(other, 0700), 0);
    assert_int_equal(media_restore_dir(copy, other), SB_OK);
    snprintf(path, sizeof path, "%s/media/%.2s/%s", other, info.hash, info.hash);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char got[32] = {0};
    assert_int_equal(fread(got, 1, sizeof got, fp), sizeof bytes - 1);
    fclose(fp);
    assert_memory_equal(got, bytes, sizeof bytes - 1);
}

/* A scanning command holds new files until it exits; exit 1 refuses. */
static void test_scanning(void **state) {
    media_fixture *mf = *state;
    store *s = mf->f.s;
    char script[] = "/tmp/sb-media-scan-unit-XXXXXX";
    assert_int_equal(media_fixture_scan_script(script, "REFUSE-ME"), 0);
    media *scanning = NULL;
    assert_int_equal(media_open(&(media_options){.data_location = mf->f.dir, .scan_cmd = script}, &scanning), SB_OK);
    int64_t a, up;
    int64_t chat = pair_chat(mf, "ivan", "jane", &a);
    static const unsigned char ok[] = "fine bytes", bad[] = "REFUSE-ME please";
    media_info i_ok, i_bad, now;
    media_refusal why;
    assert_int_equal(media_upload(scanning, s, a, chat, MEDIA_KIND_FILE, NULL, ok, sizeof ok - 1, T0, &up, &i_ok, &why),
                     SB_OK);
    assert_int_equal(
        media_upload(scanning, s, a, chat, MEDIA_KIND_FILE, NULL, bad, sizeof bad - 1, T0, &up, &i_bad, &why), SB_OK);
    const char *final_ok = NULL, *final_bad = NULL;
    for (int attempt = 0; attempt < 3000 && (!final_ok || !final_bad); attempt++) {
        assert_int_equal(media_access(s, a, i_ok.hash, &now), SB_OK);
        if (strcmp(now.state, "scanning") != 0) final_ok = now.state;
        assert_int_equal(media_access(s, a, i_bad.hash, &now), SB_OK);
        if (strcmp(now.state, "scanning") != 0) final_bad = now.state;
        usleep(20000);
    }
    media_close(scanning);
    unlink(script);
    assert_non_null(final_ok);
    assert_string_equal(final_ok, "clean");
    assert_non_null(final_bad);
    assert_string_equal(final_bad, "refused");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sniff_and_headers),
        cmocka_unit_test(test_voice_durations),
        cmocka_unit_test_setup_teardown(test_references_and_sweep, media_setup, media_teardown),
        cmocka_unit_test_setup_teardown(test_author_erased, media_setup, media_teardown),
        cmocka_unit_test_setup_teardown(test_bomb_and_expiry_and_urls, media_setup, media_teardown),
        cmocka_unit_test_setup_teardown(test_backup_and_restore_dirs, media_setup, media_teardown),
        cmocka_unit_test_setup_teardown(test_scanning, media_setup, media_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
