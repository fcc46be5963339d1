/*
 * test_media.c - photos, files and voice notes in chats against the real
 * server:
 *   - upload, fetch by members (session and signed URL), EXIF stripped, a
 *     thumbnail made, files served as downloads with nosniff and a masked
 *     card number in the name;
 *   - a non-member, a former member and an unknown hash all get the same 404;
 *   - identical bytes are stored once and removed with the last message
 *     holding them; a restart keeps everything;
 *   - hostile input: HTML posing as a PNG, a polyglot (its payload is gone
 *     after re-encoding), a decompression bomb, truncated images, an
 *     oversize upload refused on its announced length, a voice note over
 *     the cap, an Ogg that is not Opus: each refused with its code and no
 *     file left on disk.
 * Fixtures are generated here (tests/media_fixtures.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "integration/harness.h"
#include "media_fixtures.h"

static harness_server *srv;
static int phones;

HARNESS_GROUP_FIXTURES(srv, NULL)

typedef harness_customer user;

static user login(void) { return harness_customer_next(srv, "0912777", &phones); }

/* Files (not directories) under DATA/media, temporary ones included. */
static int media_files_on_disk(void) {
    char root[HARNESS_PATH_BYTES + 16];
    snprintf(root, sizeof root, "%s/media", srv->data_dir);
    DIR *top = opendir(root);
    if (!top) return 0;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(top)) != NULL) {
        if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || e->d_name[1] == '.')) continue;
        char sub[sizeof root + 300];
        snprintf(sub, sizeof sub, "%s/%s", root, e->d_name);
        DIR *d = opendir(sub);
        if (!d) {
            count++;
            continue;
        }
        struct dirent *f;
        while ((f = readdir(d)) != NULL)
            if (strcmp(f->d_name, ".") != 0 && strcmp(f->d_name, "..") != 0) count++;
        closedir(d);
    }
    closedir(top);
    return count;
}

static json_int_t group_of(const user *owner, const user *const *members, size_t count) {
    harness_response r = harness_call(srv, "POST", "/api/groups", owner->token, "{\"title\":\"Receipts\"}");
    HARNESS_ASSERT_STATUS(r, 201);
    json_int_t g = harness_json_int(r.json, "id");
    harness_response_free(&r);
    char path[96];
    snprintf(path, sizeof path, "/api/groups/%lld/members", (long long)g);
    for (size_t i = 0; i < count; i++) {
        r = harness_callf(srv, "POST", path, owner->token, "{\"user_id\":%lld}", (long long)members[i]->id);
        HARNESS_ASSERT_STATUS(r, 204);
        harness_response_free(&r);
    }
    return g;
}

/* POST the bytes to chat g as kind (name may be NULL). */
static harness_response upload(const user *u, json_int_t g, const char *kind, const char *name,
                               const unsigned char *data, size_t len) {
    char path[256];
    snprintf(path, sizeof path, "/api/chats/%lld/media?kind=%s%s%s", (long long)g, kind, name ? "&name=" : "",
             name ? name : "");
    harness_response r;
    assert_int_equal(harness_http_slow(srv->port, "POST", path, u->token, "application/octet-stream", data, len, NULL,
                                       HARNESS_HTTP_SLOW_TIMEOUT_MS, &r),
                     SB_OK);
    return r;
}

/* Upload and attach as a message; the hash into hash_out, the seq returned. */
static json_int_t send_media(const user *u, json_int_t g, const char *kind, const char *name, const unsigned char *data,
                             size_t len, char hash_out[65]) {
    harness_response r = upload(u, g, kind, name, data, len);
    HARNESS_ASSERT_STATUS(r, 201);
    json_int_t upload_id = harness_json_int(r.json, "upload.id");
    snprintf(hash_out, 65, "%s", harness_json_str(r.json, "upload.hash"));
    assert_int_equal(strlen(hash_out), 64);
    harness_response_free(&r);
    char path[96];
    snprintf(path, sizeof path, "/api/chats/%lld/messages", (long long)g);
    r = harness_callf(srv, "POST", path, u->token, "{\"upload_id\":%lld,\"text\":\"see attached\"}",
                      (long long)upload_id);
    HARNESS_ASSERT_STATUS(r, 201);
    assert_string_equal(harness_json_str(r.json, "message.kind"), "media");
    assert_string_equal(harness_json_str(r.json, "message.payload.hash"), hash_out);
    json_int_t seq = harness_json_int(r.json, "message.seq");
    harness_response_free(&r);
    return seq;
}

static harness_response fetch(const user *u, const char *hash, const char *suffix) {
    char path[128];
    snprintf(path, sizeof path, "/api/media/%s%s", hash, suffix);
    harness_response r;
    assert_int_equal(harness_http_get(srv->port, path, u ? u->token : NULL, &r), SB_OK);
    return r;
}

static bool contains(const char *body, size_t len, const char *needle) {
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(body + i, needle, n) == 0) return true;
    return false;
}

static void test_photo_members_and_strangers(void **state) {
    (void)state;
    user a = login(), b = login(), stranger = login();
    const user *members[] = {&b};
    json_int_t g = group_of(&a, members, 1);
    size_t len = 0;
    unsigned char *jpeg = media_fixture_jpeg_exif(640, 480, &len);
    assert_non_null(jpeg);
    assert_true(contains((const char *)jpeg, len, MEDIA_FIXTURE_EXIF_MARKER));

    /* a stranger cannot upload into the chat */
    harness_response r = upload(&stranger, g, "photo", "x.jpg", jpeg, len);
    HARNESS_ASSERT_ERROR(r, 404, "not_found");
    harness_response_free(&r);

    char hash[65];
    send_media(&a, g, "photo", "IMG_0001.jpg", jpeg, len, hash);
    free(jpeg);

    r = fetch(&b, hash, "");
    HARNESS_ASSERT_STATUS(r, 200);
    assert_string_equal(harness_header_get(&r, "content-type"), "image/jpeg");
    assert_string_equal(harness_header_get(&r, "x-content-type-options"), "nosniff");
    assert_false(contains(r.body, r.body_len, MEDIA_FIXTURE_EXIF_MARKER)); /* metadata stripped */
    assert_true(r.body_len > 100 && (unsigned char)r.body[0] == 0xFF && (unsigned char)r.body[1] == 0xD8);
    harness_response_free(&r);
    r = fetch(&b, hash, "/thumb");
    HARNESS_ASSERT_STATUS(r, 200);
    assert_string_equal(harness_header_get(&r, "content-type"), "image/webp");
    assert_true(r.body_len > 12 && memcmp(r.body + 8, "WEBP", 4) == 0);
    harness_response_free(&r);

    /* a stranger, and an unknown hash, answer alike */
    harness_response forbidden = fetch(&stranger, hash, "");
    harness_response unknown = fetch(&stranger, "0000000000000000000000000000000000000000000000000000000000000000", "");
    HARNESS_ASSERT_ERROR(forbidden, 404, "not_found");
    assert_int_equal(forbidden.status, unknown.status);
    assert_string_equal(forbidden.body, unknown.body);
    harness_response_free(&forbidden);
    harness_response_free(&unknown);

    /* a signed URL works without a session, and only unaltered */
    char path[160];
    snprintf(path, sizeof path, "/api/media/%s/url?thumb=1", hash);
    r = harness_call(srv, "GET", path, b.token, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    char url[300];
    snprintf(url, sizeof url, "%s", harness_json_str(r.json, "url"));
    harness_response_free(&r);
    assert_int_equal(harness_http_get(srv->port, url, NULL, &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 200);
    assert_string_equal(harness_header_get(&r, "content-type"), "image/webp");
    harness_response_free(&r);
    size_t ul = strlen(url);
    url[ul - 1] = url[ul - 1] == '0' ? '1' : '0';
    assert_int_equal(harness_http_get(srv->port, url, NULL, &r), SB_OK);
    HARNESS_ASSERT_ERROR(r, 404, "not_found");
    harness_response_free(&r);
    r = harness_call(srv, "GET", path, stranger.token, NULL);
    HARNESS_ASSERT_ERROR(r, 404, "not_found");
    harness_response_free(&r);

    /* after leaving the group, b sees it no more */
    snprintf(path, sizeof path, "/api/groups/%lld/leave", (long long)g);
    r = harness_call(srv, "POST", path, b.token, NULL);
    assert_true(r.status == 200 || r.status == 204);
    harness_response_free(&r);
    r = fetch(&b, hash, "");
    HARNESS_ASSERT_ERROR(r, 404, "not_found");
    harness_response_free(&r);
}

static void test_file_download_dedup_delete_restart(void **state) {
    (void)state;
    user a = login(), b = login();
    const user *members[] = {&b};
    json_int_t g = group_of(&a, members, 1);
    static const unsigned char pdf[] = "%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n<html><script>x</script>";
    int before = media_files_on_disk();
    char h1[65], h2[65];
    json_int_t s1 = send_media(&a, g, "file", "statement-4111111111111111.pdf", pdf, sizeof pdf - 1, h1);
    json_int_t s2 = send_media(&b, g, "file", "copy.pdf", pdf, sizeof pdf - 1, h2);
    assert_string_equal(h1, h2);                         /* the same bytes */
    assert_int_equal(media_files_on_disk(), before + 1); /* stored once */

    harness_response r = fetch(&b, h1, "");
    HARNESS_ASSERT_STATUS(r, 200);
    assert_string_equal(harness_header_get(&r, "content-type"), "application/pdf");
    assert_string_equal(harness_header_get(&r, "x-content-type-options"), "nosniff");
    const char *disposition = harness_header_get(&r, "content-disposition");
    assert_non_null(disposition);
    assert_true(strncmp(disposition, "attachment;", 11) == 0);
    assert_null(strstr(disposition, "4111111111111111")); /* the card number is masked */
    assert_int_equal(r.body_len, sizeof pdf - 1);
    harness_response_free(&r);
    r = fetch(&b, h1, "/thumb");
    HARNESS_ASSERT_ERROR(r, 404, "not_found");
    harness_response_free(&r);

    /* a restart keeps files and rows */
    int exit_status = -1;
    assert_int_equal(harness_server_stop(srv, &exit_status), SB_OK);
    assert_int_equal(exit_status, 0);
    assert_int_equal(harness_server_start(srv), SB_OK);
    r = fetch(&a, h1, "");
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);

    /* a backup carries the file beside the database copy */
    char dest[HARNESS_PATH_BYTES + 32], blob[HARNESS_PATH_BYTES + 200];
    snprintf(dest, sizeof dest, "%s/backup.db", srv->root);
    const char *args[] = {"backup", "--data", srv->data_dir, dest, NULL};
    char *out = NULL, *err = NULL;
    assert_int_equal(harness_run(args, NULL, HARNESS_CLI_TIMEOUT_MS, &exit_status, &out, &err), SB_OK);
    if (exit_status != 0) fprintf(stderr, "backup: %s %s\n", out, err);
    assert_int_equal(exit_status, 0);
    sb_free(out);
    sb_free(err);
    snprintf(blob, sizeof blob, "%s.media/%.2s/%s", dest, h1, h1);
    FILE *fp = fopen(blob, "rb");
    assert_non_null(fp);
    char copy[sizeof pdf] = {0};
    assert_int_equal(fread(copy, 1, sizeof copy, fp), sizeof pdf - 1);
    fclose(fp);
    assert_memory_equal(copy, pdf, sizeof pdf - 1);

    /* one message gone: still held by the other; both gone: removed */
    char path[128];
    snprintf(path, sizeof path, "/api/chats/%lld/messages/%lld", (long long)g, (long long)s1);
    r = harness_call(srv, "DELETE", path, a.token, NULL);
    HARNESS_ASSERT_STATUS(r, 204);
    harness_response_free(&r);
    assert_int_equal(media_files_on_disk(), before + 1);
    r = fetch(&a, h1, "");
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);
    snprintf(path, sizeof path, "/api/chats/%lld/messages/%lld", (long long)g, (long long)s2);
    r = harness_call(srv, "DELETE", path, b.token, NULL);
    HARNESS_ASSERT_STATUS(r, 204);
    harness_response_free(&r);
    assert_int_equal(media_files_on_disk(), before);
    r = fetch(&a, h1, "");
    HARNESS_ASSERT_ERROR(r, 404, "not_found");
    harness_response_free(&r);

    /* an upload is attached once; a stranger's upload id is not ours */
    r = upload(&a, g, "file", NULL, pdf, sizeof pdf - 1);
    HARNESS_ASSERT_STATUS(r, 201);
    json_int_t upload_id = harness_json_int(r.json, "upload.id");
    harness_response_free(&r);
    snprintf(path, sizeof path, "/api/chats/%lld/messages", (long long)g);
    r = harness_callf(srv, "POST", path, b.token, "{\"upload_id\":%lld}", (long long)upload_id);
    HARNESS_ASSERT_ERROR(r, 404, "not_found");
    harness_response_free(&r);
    r = harness_callf(srv, "POST", path, a.token, "{\"upload_id\":%lld}", (long long)upload_id);
    HARNESS_ASSERT_STATUS(r, 201);
    assert_true(json_is_null(harness_json_path(r.json, "message.text")) ||
                harness_json_path(r.json, "message.text") == NULL);
    harness_response_free(&r);
    r = harness_callf(srv, "POST", path, a.token, "{\"upload_id\":%lld}", (long long)upload_id);
    HARNESS_ASSERT_ERROR(r, 404, "not_found");
    harness_response_free(&r);
}

/* Upload bytes as kind and expect a refusal with nothing left on disk. */
static void expect_refused(const user *u, json_int_t g, const char *kind, const unsigned char *data, size_t len,
                           int status, const char *code) {
    int before = media_files_on_disk();
    harness_response r = upload(u, g, kind, "evil.png", data, len);
    HARNESS_ASSERT_ERROR(r, status, code);
    assert_non_null(harness_error_message(&r));
    harness_response_free(&r);
    assert_int_equal(media_files_on_disk(), before);
}

static void test_hostile_input(void **state) {
    (void)state;
    user a = login();
    const user *none[] = {NULL};
    json_int_t g = group_of(&a, none, 0);

    static const unsigned char html[] = "<!DOCTYPE html><html><script>alert(document.cookie)</script></html>";
    expect_refused(&a, g, "photo", html, sizeof html - 1, 422, "not_image");

    size_t len = 0;
    unsigned char *bomb = media_fixture_png_bomb(100000, 100000, &len);
    expect_refused(&a, g, "photo", bomb, len, 422, "image_too_large");
    free(bomb);
    bomb = media_fixture_png_bomb(16000, 16000, &len); /* each side fits, the pixels do not */
    expect_refused(&a, g, "photo", bomb, len, 422, "image_too_large");
    free(bomb);

    unsigned char *png = media_fixture_image(300, 200, ".png", &len);
    assert_non_null(png);
    expect_refused(&a, g, "photo", png, len / 2, 422, "undecodable");
    free(png);
    unsigned char *jpeg = media_fixture_image(300, 200, ".jpg", &len);
    expect_refused(&a, g, "photo", jpeg, len / 2, 422, "undecodable");
    expect_refused(&a, g, "photo", jpeg, 3, 422, "undecodable");
    free(jpeg);

    /* a polyglot: a real PNG with an HTML page after IEND; what is kept is
     * the re-encoded image, without the page */
    png = media_fixture_image(64, 64, ".png", &len);
    static const char page[] = "<html><script>alert(1)</script></html>";
    unsigned char *poly = malloc(len + sizeof page);
    memcpy(poly, png, len);
    memcpy(poly + len, page, sizeof page);
    char hash[65];
    send_media(&a, g, "photo", "poly.png", poly, len + sizeof page - 1, hash);
    harness_response r = fetch(&a, hash, "");
    HARNESS_ASSERT_STATUS(r, 200);
    assert_string_equal(harness_header_get(&r, "content-type"), "image/png");
    assert_false(contains(r.body, r.body_len, "<script"));
    harness_response_free(&r);
    free(poly);
    free(png);

    /* voice notes */
    unsigned char *ogg = media_fixture_ogg(12 * 1000, "OpusHead", &len);
    char path[96];
    snprintf(path, sizeof path, "/api/chats/%lld/media?kind=voice", (long long)g);
    r = upload(&a, g, "voice", NULL, ogg, len);
    HARNESS_ASSERT_STATUS(r, 201);
    assert_int_equal(harness_json_int(r.json, "upload.duration_ms"), 12000);
    assert_string_equal(harness_json_str(r.json, "upload.type"), "ogg");
    harness_response_free(&r);
    free(ogg);
    ogg = media_fixture_ogg(SB_MEDIA_VOICE_DURATION_MS_MAX + 1000, "OpusHead", &len);
    expect_refused(&a, g, "voice", ogg, len, 422, "voice_too_long");
    expect_refused(&a, g, "voice", ogg, len - 10, 422, "not_voice"); /* truncated page */
    free(ogg);
    ogg = media_fixture_ogg(5000, "OpusHeaX", &len);
    expect_refused(&a, g, "voice", ogg, len, 422, "not_voice");
    free(ogg);
    expect_refused(&a, g, "voice", html, sizeof html - 1, 422, "not_voice");

    /* over the kind's cap */
    size_t big = SB_MEDIA_VOICE_BYTES_MAX + 1;
    unsigned char *blob = calloc(1, big);
    memcpy(blob, "OggS", 5);
    expect_refused(&a, g, "voice", blob, big, 413, "too_large");
    free(blob);

    /* an announced body over the route's cap is refused before it is sent */
    char request[512];
    int n = snprintf(request, sizeof request,
                     "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n"
                     "Content-Type: application/octet-stream\r\n\r\n",
                     path, a.token, SB_MEDIA_UPLOAD_BYTES_MAX + 1);
    int before = media_files_on_disk();
    assert_int_equal(harness_http_raw(srv->port, request, (size_t)n, 10000, &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 413);
    harness_response_free(&r);
    assert_int_equal(media_files_on_disk(), before);

    /* the server still serves */
    r = harness_call(srv, "GET", "/healthz", NULL, NULL);
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);
}

/* GET the file until the scanner has judged it (bounded tries, no timing
 * assertion): the final status. */
static int status_after_scan(harness_server *server, const user *u, const char *hash) {
    char path[128];
    snprintf(path, sizeof path, "/api/media/%s", hash);
    for (int attempt = 0; attempt < 3000; attempt++) {
        harness_response r;
        assert_int_equal(harness_http_get(server->port, path, u->token, &r), SB_OK);
        int status = r.status;
        bool scanning = status == 409 && harness_error_code(&r) && strcmp(harness_error_code(&r), "scanning") == 0;
        harness_response_free(&r);
        if (!scanning) return status;
        harness_sleep_ms(20);
    }
    return 0;
}

/* --media-scan-cmd: a file is held until the command exits 0; a file it
 * refuses is never served. */
static void test_scanning_hook(void **state) {
    (void)state;
    char script[] = "/tmp/sb-media-scan-XXXXXX";
    assert_int_equal(media_fixture_scan_script(script, "EICAR-LIKE"), 0);
    const char *extra[] = {"--media-scan-cmd", script, NULL};
    harness_options opts = {.extra_args = extra};
    harness_server *scanned = NULL;
    assert_int_equal(harness_server_up(&opts, &scanned), SB_OK);
    harness_server *saved = srv;
    srv = scanned;
    user a = login(), b = login();
    const user *members[] = {&b};
    json_int_t g = group_of(&a, members, 1);
    static const unsigned char clean[] = "an ordinary statement";
    static const unsigned char evil[] = "X5O-EICAR-LIKE-TEST-FILE";
    char h_clean[65], h_evil[65];
    send_media(&a, g, "file", "ok.txt", clean, sizeof clean - 1, h_clean);
    send_media(&a, g, "file", "bad.txt", evil, sizeof evil - 1, h_evil);
    int clean_status = status_after_scan(scanned, &b, h_clean);
    if (clean_status != 200) harness_server_print_log(scanned, 20);
    assert_int_equal(clean_status, 200);
    assert_int_equal(status_after_scan(scanned, &b, h_evil), 410);
    srv = saved;
    assert_int_equal(harness_server_down(&scanned), SB_OK);
    unlink(script);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_photo_members_and_strangers),
        cmocka_unit_test(test_file_download_dedup_delete_restart),
        cmocka_unit_test(test_hostile_input),
        cmocka_unit_test(test_scanning_hook),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
