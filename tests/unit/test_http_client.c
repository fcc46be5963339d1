/*
 * test_http_client.c - the one outbound client (core/http_client.c) over
 * HTTPS on loopback.  The test makes its own CA and a server certificate
 * for 127.0.0.1 with the openssl command, and a second, unrelated CA; a
 * small python3 HTTPS receiver (http.server + ssl) answers 204 and prints
 * every body it gets.  Checked:
 *   - a POST with the test CA as ca_file succeeds and the body arrives;
 *   - with the other CA (or the system's) the certificate is refused
 *     (SB_EIO), and the one-time-code sender driving it through its worker
 *     retries SB_OTP_WEBHOOK_ATTEMPTS_MAX times, then counts one failure;
 *   - the same sender with the right CA delivers (done counted, no retry);
 *   - statuses map to done / retry / final, a redirect is not followed, an
 *     answer over the cap ends the exchange.
 * The receiver is a child of the test, killed by its pid at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/core.h"
#include "identity/identity.h"

static char dir[64];
static pid_t receiver_pid = -1;
static int receiver_out = -1; /* the receiver's stdout */
static int receiver_port;
static char received[8192];
static size_t received_len;

static const char *const receiver_py =
    "import http.server, ssl, sys\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_POST(self):\n"
    "        n = int(self.headers.get('Content-Length', '0'))\n"
    "        body = self.rfile.read(n).decode()\n"
    "        sys.stdout.write('BODY %s %s\\n' % (self.path, body))\n"
    "        sys.stdout.write('TOKEN %s %s\\n' % (self.path, self.headers.get('X-Token', '-'))); sys.stdout.flush()\n"
    "        if self.path == '/fail':\n"
    "            self.send_response(503); self.send_header('Content-Length', '0'); self.end_headers()\n"
    "        elif self.path == '/refuse':\n"
    "            self.send_response(400); self.send_header('Content-Length', '0'); self.end_headers()\n"
    "        elif self.path == '/moved':\n"
    "            self.send_response(302); self.send_header('Location', '/ok');\n"
    "            self.send_header('Content-Length', '0'); self.end_headers()\n"
    "        elif self.path == '/big':\n"
    "            data = b'x' * 200000\n"
    "            self.send_response(500); self.send_header('Content-Length', str(len(data))); self.end_headers()\n"
    "            self.wfile.write(data)\n"
    "        else:\n"
    "            self.send_response(204); self.end_headers()\n"
    "    def log_message(self, *a): pass\n"
    "srv = http.server.HTTPServer(('127.0.0.1', 0), H)\n"
    "ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
    "ctx.load_cert_chain(sys.argv[1], sys.argv[2])\n"
    "srv.socket = ctx.wrap_socket(srv.socket, server_side=True)\n"
    "sys.stdout.write('PORT %d\\n' % srv.server_address[1]); sys.stdout.flush()\n"
    "srv.serve_forever()\n";

static void path_in(char *out, size_t size, const char *name) { snprintf(out, size, "%s/%s", dir, name); }

static void run_shell(const char *cmd) {
    print_message("$ %s\n", cmd);
    int status = system(cmd);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Read what the receiver printed so far (up to wait_ms for more). */
static void receiver_read(int wait_ms) {
    struct pollfd p = {.fd = receiver_out, .events = POLLIN};
    while (poll(&p, 1, wait_ms) == 1 && received_len < sizeof received - 1) {
        ssize_t n = read(receiver_out, received + received_len, sizeof received - 1 - received_len);
        if (n <= 0) break;
        received_len += (size_t)n;
        received[received_len] = '\0';
        wait_ms = 0;
    }
}

/* Wait (bounded) until the receiver printed `text`. */
static bool receiver_saw(const char *text) {
    for (int i = 0; i < 300 && !strstr(received, text); i++)
        receiver_read(100);
    return strstr(received, text) != NULL;
}

static int setup(void **state) {
    (void)state;
    /* loopback only: no proxy from the environment in the way */
    const char *proxies[] = {"http_proxy", "https_proxy", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"};
    for (size_t i = 0; i < SB_ARRAY_LEN(proxies); i++)
        unsetenv(proxies[i]);
    assert_int_equal(sb_crypto_init(), SB_OK);
    snprintf(dir, sizeof dir, "/tmp/sb-test-https-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "cd %s && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem "
             "-days 2 -subj /CN=sb-test-ca 2>/dev/null && "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout srv.key -out srv.csr "
             "-subj /CN=127.0.0.1 2>/dev/null && "
             "printf 'subjectAltName=IP:127.0.0.1\\n' > ext && "
             "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 "
             "-extfile ext 2>/dev/null && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout other.key "
             "-out other.pem -days 2 -subj /CN=sb-other-ca 2>/dev/null",
             dir);
    run_shell(cmd);
    char script[128], cert[128], key[128];
    path_in(script, sizeof script, "receiver.py");
    path_in(cert, sizeof cert, "srv.pem");
    path_in(key, sizeof key, "srv.key");
    FILE *f = fopen(script, "w");
    assert_non_null(f);
    fputs(receiver_py, f);
    fclose(f);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    receiver_pid = fork();
    assert_true(receiver_pid >= 0);
    if (receiver_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execlp("python3", "python3", script, cert, key, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    receiver_out = fds[0];
    assert_true(receiver_saw("PORT "));
    receiver_port = atoi(strstr(received, "PORT ") + 5);
    assert_true(receiver_port > 0);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    if (receiver_pid > 0) {
        kill(receiver_pid, SIGTERM);
        waitpid(receiver_pid, NULL, 0);
    }
    if (receiver_out >= 0) close(receiver_out);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    int ignored = system(cmd);
    (void)ignored;
    return 0;
}

static sb_http_options options_with(const char *ca_name, char *ca_path, size_t ca_size) {
    sb_http_options o = {.connect_timeout_ms = 20000, .total_timeout_ms = 30000};
    if (ca_name) {
        path_in(ca_path, ca_size, ca_name);
        o.ca_file = ca_path;
    }
    return o;
}

static void test_https_with_test_ca(void **state) {
    (void)state;
    char ca[128], url[128];
    sb_http_options o = options_with("ca.pem", ca, sizeof ca);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/hooks/alert", receiver_port);
    int status = 0;
    const char *body = "{\"hello\":\"https\"}";
    assert_int_equal(sb_http_post_json(&o, url, body, strlen(body), &status), SB_OK);
    assert_int_equal(status, 204);
    assert_true(receiver_saw("BODY /hooks/alert {\"hello\":\"https\"}"));
}

static void test_extra_headers(void **state) {
    (void)state;
    char ca[128], url[128];
    sb_http_options o = options_with("ca.pem", ca, sizeof ca);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/hooks/token", receiver_port);
    const char *const good[] = {"X-Token: s3cret_Token-1", "X-Other:\tx y"};
    o.headers = good;
    o.header_count = 2;
    int status = 0;
    assert_int_equal(sb_http_post_json(&o, url, "{}", 2, &status), SB_OK);
    assert_true(receiver_saw("TOKEN /hooks/token s3cret_Token-1"));
    /* refused before anything is sent: CR/LF (header injection), no name, a
     * bad name, too long, too many, a missing list */
    snprintf(url, sizeof url, "https://127.0.0.1:%d/hooks/bad", receiver_port);
    static char long_line[SB_HTTP_OUT_HEADER_BYTES_MAX + 8];
    memset(long_line, 'a', sizeof long_line - 1);
    memcpy(long_line, "X-Long: ", 8);
    const char *bad[] = {"X-Token: a\r\nX-Evil: 1", "X-Token: a\nb", ": v", "X Token: v", "X-Token", long_line};
    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        const char *const one[] = {bad[i]};
        o.headers = one;
        o.header_count = 1;
        assert_int_equal(sb_http_header_check(bad[i]), SB_EINVAL);
        assert_int_equal(sb_http_post_json(&o, url, "{}", 2, &status), SB_EINVAL);
        assert_int_equal(status, 0);
    }
    const char *many[SB_HTTP_OUT_HEADERS_MAX + 1];
    for (size_t i = 0; i < SB_ARRAY_LEN(many); i++)
        many[i] = "X-Token: v";
    o.headers = many;
    o.header_count = SB_ARRAY_LEN(many);
    assert_int_equal(sb_http_post_json(&o, url, "{}", 2, &status), SB_EINVAL);
    o.headers = NULL;
    o.header_count = 1;
    assert_int_equal(sb_http_post_json(&o, url, "{}", 2, &status), SB_EINVAL);
    receiver_read(200);
    assert_null(strstr(received, "/hooks/bad"));
}

static void test_https_untrusted_refused(void **state) {
    (void)state;
    char ca[128], url[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/hooks/alert", receiver_port);
    int status = -1;
    sb_http_options other = options_with("other.pem", ca, sizeof ca);
    assert_int_equal(sb_http_post_json(&other, url, "{}", 2, &status), SB_EIO);
    assert_int_equal(status, 0);
    sb_http_options system_cas = options_with(NULL, ca, sizeof ca);
    assert_int_equal(sb_http_post_json(&system_cas, url, "{}", 2, &status), SB_EIO);
}

static void test_statuses_redirects_and_cap(void **state) {
    (void)state;
    char ca[128], url[128];
    sb_http_options o = options_with("ca.pem", ca, sizeof ca);
    int status = 0;
    snprintf(url, sizeof url, "https://127.0.0.1:%d/fail", receiver_port);
    assert_int_equal(sb_http_post_json(&o, url, "{}", 2, &status), SB_EBUSY);
    assert_int_equal(status, 503);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/refuse", receiver_port);
    assert_int_equal(sb_http_post_json(&o, url, "{}", 2, &status), SB_EINVAL);
    assert_int_equal(status, 400);
    /* not followed: the 302 is a final refusal and /ok is never asked */
    size_t before = received_len;
    snprintf(url, sizeof url, "https://127.0.0.1:%d/moved", receiver_port);
    assert_int_equal(sb_http_post_json(&o, url, "{}", 2, &status), SB_EINVAL);
    assert_int_equal(status, 302);
    assert_true(receiver_saw("BODY /moved"));
    receiver_read(200);
    assert_null(strstr(received + before, "BODY /ok"));
    /* an answer over the cap ends the exchange */
    o.response_bytes_max = 1000;
    snprintf(url, sizeof url, "https://127.0.0.1:%d/big", receiver_port);
    assert_int_equal(sb_http_post_json(&o, url, "{}", 2, &status), SB_ELIMIT);
    /* bad options and URLs never reach the network */
    assert_int_equal(sb_http_post_json(&o, "ftp://127.0.0.1/x", "{}", 2, &status), SB_EINVAL);
    o.total_timeout_ms = 0;
    assert_int_equal(sb_http_post_json(&o, url, "{}", 2, &status), SB_EINVAL);
}

/* The code sender drives the client through its worker: with the wrong CA
 * every attempt is refused and the worker counts retries, then one failure;
 * with the test CA the code is delivered on the first attempt. */
static void test_sender_over_https(void **state) {
    (void)state;
    char url[128], ca[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/otp", receiver_port);
    path_in(ca, sizeof ca, "other.pem");
    identity_sender *sender;
    assert_int_equal(identity_sender_start("webhook", url, ca, &sender), SB_OK);
    assert_int_equal(identity_sender_enqueue(sender, "+989121234567", "135790"), SB_OK);
    sb_worker *w = identity_sender_worker(sender);
    assert_int_equal(sb_worker_flush(w, 120000), SB_OK);
    sb_worker_stats s;
    sb_worker_stats_get(w, &s);
    assert_int_equal(s.queued, 1);
    assert_int_equal(s.done, 0);
    assert_int_equal(s.retried, SB_OTP_WEBHOOK_ATTEMPTS_MAX - 1);
    assert_int_equal(s.failed, 1);
    identity_sender_stop(sender);
    receiver_read(200);
    assert_null(strstr(received, "135790")); /* never reached the receiver */

    path_in(ca, sizeof ca, "ca.pem");
    assert_int_equal(identity_sender_start("webhook", url, ca, &sender), SB_OK);
    assert_int_equal(identity_sender_enqueue(sender, "+989121234567", "246801"), SB_OK);
    w = identity_sender_worker(sender);
    assert_int_equal(sb_worker_flush(w, 120000), SB_OK);
    sb_worker_stats_get(w, &s);
    assert_int_equal(s.done, 1);
    assert_int_equal(s.retried, 0);
    assert_int_equal(s.failed, 0);
    identity_sender_stop(sender);
    assert_true(receiver_saw("BODY /otp {\"phone\":\"+989121234567\",\"code\":\"246801\"}"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_https_with_test_ca),      cmocka_unit_test(test_extra_headers),
        cmocka_unit_test(test_https_untrusted_refused), cmocka_unit_test(test_statuses_redirects_and_cap),
        cmocka_unit_test(test_sender_over_https),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
