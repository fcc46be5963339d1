/*
 * test_api_push.c - api_ws_send_to_user from a thread that is not a server
 * loop: the server runs in-process (api_server_run on a free port, 2 loop
 * threads), a raw WebSocket client signs in as a staff user, and texts pushed
 * from the test thread must arrive, in order, on every connection of that
 * user and on no other.  Also the refusals: unknown user, oversize text,
 * server stopped.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/api.h"
#include "identity/identity.h"

static pthread_mutex_t port_lock = PTHREAD_MUTEX_INITIALIZER;
static int listen_port;

static void capture_port(const char *line, size_t len, void *arg) {
    (void)arg;
    (void)len;
    const char *p = strstr(line, "\"event\":\"http.listen\"");
    if (!p) return;
    p = strstr(line, "\"port\":");
    if (!p) return;
    pthread_mutex_lock(&port_lock);
    listen_port = (int)strtol(p + 7, NULL, 10);
    pthread_mutex_unlock(&port_lock);
}

static char data_dir[64];
static int server_result = 1;
static sb_app app; /* only the store: no payments, no listening */
static api_server *srv;

static void *server_main(void *arg) {
    (void)arg;
    server_result = api_server_run(srv);
    return NULL;
}

static int connect_ws(int port, const char *token) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET /api/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                     "Authorization: Bearer %s\r\n\r\n",
                     token);
    assert_int_equal(write(fd, req, (size_t)n), n);
    /* read the head byte by byte so no frame byte is swallowed */
    char head[1024];
    size_t len = 0;
    while (len < sizeof head - 1) {
        assert_int_equal(read(fd, head + len, 1), 1);
        len++;
        if (len >= 4 && memcmp(head + len - 4, "\r\n\r\n", 4) == 0) break;
    }
    head[len] = '\0';
    assert_non_null(strstr(head, " 101 "));
    return fd;
}

/* Read one unmasked text frame (server to client) into out. */
static void read_text(int fd, char *out, size_t out_size) {
    unsigned char h[2];
    size_t got = 0;
    while (got < 2) {
        ssize_t n = read(fd, h + got, 2 - got);
        assert_true(n > 0);
        got += (size_t)n;
    }
    assert_int_equal(h[0] & 0x0f, 1);
    size_t len = h[1] & 0x7f;
    if (len == 126) {
        unsigned char ext[2];
        assert_int_equal(read(fd, ext, 2), 2);
        len = (size_t)ext[0] << 8 | ext[1];
    }
    assert_true(len < out_size);
    got = 0;
    while (got < len) {
        ssize_t n = read(fd, out + got, len - got);
        assert_true(n > 0);
        got += (size_t)n;
    }
    out[len] = '\0';
}

static void test_push_from_another_thread(void **state) {
    (void)state;
    snprintf(data_dir, sizeof data_dir, "/tmp/sb-test-push-XXXXXX");
    assert_non_null(mkdtemp(data_dir));
    assert_int_equal(sb_crypto_init(), SB_OK);
    store *s;
    assert_int_equal(store_open(data_dir, NULL, &s), SB_OK);
    assert_int_equal(store_migrate(s, NULL), SB_OK);
    int64_t alice, bob;
    char token_alice[IDENTITY_TOKEN_CHARS + 1], token_bob[IDENTITY_TOKEN_CHARS + 1];
    assert_int_equal(identity_staff_create(s, "alice", "correct horse battery", IDENTITY_ROLE_AGENT, &alice), SB_OK);
    assert_int_equal(identity_staff_create(s, "bob", "correct horse battery", IDENTITY_ROLE_ANALYST, &bob), SB_OK);
    assert_int_equal(identity_session_create(s, alice, sb_now_ms(), token_alice), SB_OK);
    assert_int_equal(identity_session_create(s, bob, sb_now_ms(), token_bob), SB_OK);
    store_close(s);

    /* the server's signals: blocked here so that only its sigwait sees them */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    sb_log_set_sink(capture_port, NULL);
    app.data_location = data_dir;
    api_server_config cfg = {
        .bind_addr = "127.0.0.1", .port = 0, .data_location = data_dir, .threads = 2, .web_dir = NULL};
    assert_int_equal(api_server_new(&app, &cfg, &srv), SB_OK);
    assert_int_equal(api_ws_send_to_user(srv, alice, "{}", 2), SB_ECLOSED); /* not running yet */
    pthread_t server;
    assert_int_equal(pthread_create(&server, NULL, server_main, NULL), 0);
    int port = 0;
    for (int i = 0; i < 500 && port == 0; i++) {
        usleep(10000);
        pthread_mutex_lock(&port_lock);
        port = listen_port;
        pthread_mutex_unlock(&port_lock);
    }
    assert_true(port > 0);

    /* alice twice (likely on both loops), bob once */
    int a1 = connect_ws(port, token_alice), a2 = connect_ws(port, token_alice), b1 = connect_ws(port, token_bob);
    char text[4096];
    read_text(a1, text, sizeof text);
    assert_non_null(strstr(text, "\"type\":\"hello\""));
    read_text(a2, text, sizeof text);
    read_text(b1, text, sizeof text);
    assert_non_null(strstr(text, "\"role\":\"analyst\""));

    const char *messages[] = {"{\"type\":\"message\",\"n\":1}", "{\"type\":\"message\",\"n\":2}",
                              "{\"type\":\"message\",\"n\":3,\"text\":\"\xd8\xb3\xd9\x84\xd8\xa7\xd9\x85\"}"};
    for (size_t i = 0; i < SB_ARRAY_LEN(messages); i++)
        assert_int_equal(api_ws_send_to_user(srv, alice, messages[i], strlen(messages[i])), SB_OK);
    for (size_t i = 0; i < SB_ARRAY_LEN(messages); i++) {
        read_text(a1, text, sizeof text);
        assert_string_equal(text, messages[i]);
        read_text(a2, text, sizeof text);
        assert_string_equal(text, messages[i]);
    }
    /* bob got none of them: his next frame is the one pushed to him */
    assert_int_equal(api_ws_send_to_user(srv, bob, "{\"for\":\"bob\"}", 13), SB_OK);
    read_text(b1, text, sizeof text);
    assert_string_equal(text, "{\"for\":\"bob\"}");

    /* refusals */
    assert_int_equal(api_ws_send_to_user(srv, 424242, "{}", 2), SB_ENOTFOUND);
    char *big = malloc(SB_WS_MESSAGE_BYTES_MAX + 2);
    assert_non_null(big);
    memset(big, ' ', SB_WS_MESSAGE_BYTES_MAX + 1);
    assert_int_equal(api_ws_send_to_user(srv, alice, big, SB_WS_MESSAGE_BYTES_MAX + 1), SB_ELIMIT);
    free(big);

    /* once bob's only connection is gone, he is unknown again */
    close(b1);
    int result = SB_OK;
    for (int i = 0; i < 200 && result == SB_OK; i++) {
        usleep(10000);
        result = api_ws_send_to_user(srv, bob, "{}", 2);
    }
    assert_int_equal(result, SB_ENOTFOUND);

    close(a1);
    close(a2);
    kill(getpid(), SIGTERM);
    pthread_join(server, NULL);
    assert_int_equal(server_result, SB_OK);
    assert_int_equal(api_ws_send_to_user(srv, alice, "{}", 2), SB_ECLOSED);
    api_server_free(srv);
    sb_log_set_sink(NULL, NULL);
    const char *files[] = {"socialbank.db", "socialbank.db-wal", "socialbank.db-shm"};
    for (size_t i = 0; i < SB_ARRAY_LEN(files); i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s", data_dir, files[i]);
        unlink(path);
    }
    rmdir(data_dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_push_from_another_thread)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
