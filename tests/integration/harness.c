/*
 * harness.c - the integration-test harness (see harness.h for the API).
 *
 * Processes are started with fork/exec so that the server dies with the
 * test (PR_SET_PDEATHSIG) and its stderr lands in a file the test can read.
 * Sockets are non-blocking and every wait is a poll() against a deadline
 * taken from the monotonic clock, so no call can hang a test.  Parsers of
 * responses and frames are loops over a buffer with a maximum; nothing
 * recurses.
 */
#include "integration/harness.h"

/* cmocka (for the asserting helpers at the end) wants these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Interim (1xx) responses skipped before the real one. */
#define INTERIM_RESPONSES_MAX 8
/* A chunk-size or trailer line of a chunked body. */
#define CHUNK_LINE_BYTES_MAX 1024
/* Trailer lines after the last chunk. */
#define TRAILER_LINES_MAX 64
/* Everything a connection may buffer: one response head and body, or one frame. */
#define CONN_BUFFER_BYTES_MAX (HARNESS_RESPONSE_HEADER_BYTES_MAX + 2 * HARNESS_RESPONSE_BODY_BYTES_MAX)
/* Bytes of a request head the harness builds (path, headers). */
#define REQUEST_HEAD_BYTES_MAX (1024 * 1024)
/* The RFC 6455 GUID appended to the key. */
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

struct harness_ws {
    harness_conn *conn;
    bool close_sent;
};

static harness_server *servers[HARNESS_SERVERS_MAX];
static bool initialized;

SB_PRINTF(1, 2)
static void diag(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("harness: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
}

int64_t harness_now_ms(void) { return sb_mono_ns() / 1000000; }

void harness_sleep_ms(int ms) {
    if (ms <= 0) return;
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int remaining_ms(int64_t deadline_ms) {
    int64_t left = deadline_ms - harness_now_ms();
    if (left < 0) return 0;
    if (left > 3600000) return 3600000;
    return (int)left;
}

static bool keep_tmp(void) {
    const char *v = getenv("SB_KEEP_TMP");
    return v && strcmp(v, "1") == 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    if (remove(path) != 0) diag("cannot remove %s: %s", path, strerror(errno));
    return 0;
}

static void remove_tree(const char *root) {
    if (!root[0]) return;
    if (keep_tmp()) {
        diag("keeping %s (SB_KEEP_TMP=1)", root);
        return;
    }
    if (nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) diag("cannot remove %s", root);
}

static void reap_hard(pid_t pid) {
    if (pid <= 0) return;
    kill(pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
}

static void harness_atexit(void) {
    for (size_t i = 0; i < HARNESS_SERVERS_MAX; i++) {
        harness_server *srv = servers[i];
        if (!srv) continue;
        if (srv->pid > 0) {
            diag("server pid %d still running at exit: killed", (int)srv->pid);
            reap_hard(srv->pid);
            srv->pid = 0;
        }
        remove_tree(srv->root);
        servers[i] = NULL;
        sb_free(srv); /* a failed test never reached harness_server_free */
    }
}

static void harness_init(void) {
    if (initialized) return;
    initialized = true;
    signal(SIGPIPE, SIG_IGN);
    if (atexit(harness_atexit) != 0) diag("atexit failed");
    if (sb_crypto_init() != SB_OK) {
        diag("libsodium failed to initialise");
        exit(1);
    }
}

const char *harness_binary(void) {
    const char *bin = getenv("SB_BINARY");
    if (!bin || !bin[0]) {
        fprintf(stderr, "harness: SB_BINARY is not set (run the integration tests through ctest)\n");
        exit(1);
    }
    return bin;
}

static int exit_status_of(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

static int set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return SB_EIO;
    return SB_OK;
}

/* In a forked child: die with the parent (the test) so no server outlives it. */
static void child_die_with_parent(pid_t parent) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
}

/* ---- processes ------------------------------------------------------------ */

static void close_fd(int *fd) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

int harness_run(const char *const *args, const char *stdin_text, int timeout_ms, int *exit_status_out,
                char **stdout_out, char **stderr_out) {
    harness_init();
    if (stdout_out) *stdout_out = NULL;
    if (stderr_out) *stderr_out = NULL;
    *exit_status_out = -1;
    const char *argv[HARNESS_ARGS_MAX + 2];
    size_t argc = 0;
    argv[argc++] = harness_binary();
    for (size_t i = 0; args && args[i]; i++) {
        if (argc > HARNESS_ARGS_MAX) return SB_ELIMIT;
        argv[argc++] = args[i];
    }
    argv[argc] = NULL;

    int in[2], out[2], err[2];
    if (pipe2(in, O_CLOEXEC) != 0) return SB_EIO;
    if (pipe2(out, O_CLOEXEC) != 0) {
        close(in[0]);
        close(in[1]);
        return SB_EIO;
    }
    if (pipe2(err, O_CLOEXEC) != 0) {
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        return SB_EIO;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int fds[6] = {in[0], in[1], out[0], out[1], err[0], err[1]};
        for (int i = 0; i < 6; i++)
            close(fds[i]);
        return SB_EIO;
    }
    if (pid == 0) {
        child_die_with_parent(parent);
        if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0) _exit(127);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    int in_fd = in[1], out_fd = out[0], err_fd = err[0];
    if (set_nonblocking(in_fd) != SB_OK) diag("cannot make the child's stdin non-blocking");
    size_t stdin_len = stdin_text ? strlen(stdin_text) : 0, stdin_pos = 0;
    if (stdin_len == 0) close_fd(&in_fd);
    sb_buf bufs[2];
    sb_buf_init(&bufs[0], HARNESS_CLI_OUTPUT_BYTES_MAX);
    sb_buf_init(&bufs[1], HARNESS_CLI_OUTPUT_BYTES_MAX);
    int result = SB_OK;
    int64_t deadline = harness_now_ms() + timeout_ms;
    while (out_fd >= 0 || err_fd >= 0) {
        struct pollfd pfd[3];
        int n = 0, idx_in = -1, idx_out = -1, idx_err = -1;
        if (in_fd >= 0) {
            pfd[n] = (struct pollfd){in_fd, POLLOUT, 0};
            idx_in = n++;
        }
        if (out_fd >= 0) {
            pfd[n] = (struct pollfd){out_fd, POLLIN, 0};
            idx_out = n++;
        }
        if (err_fd >= 0) {
            pfd[n] = (struct pollfd){err_fd, POLLIN, 0};
            idx_err = n++;
        }
        int left = remaining_ms(deadline);
        if (left == 0) {
            result = SB_ETIMEOUT;
            break;
        }
        int ready = poll(pfd, (nfds_t)n, left);
        if (ready < 0 && errno != EINTR) {
            result = SB_EIO;
            break;
        }
        if (ready <= 0) continue;
        if (idx_in >= 0 && pfd[idx_in].revents) {
            ssize_t w = write(in_fd, stdin_text + stdin_pos, stdin_len - stdin_pos);
            if (w > 0) stdin_pos += (size_t)w;
            if ((w < 0 && errno != EAGAIN && errno != EINTR) || stdin_pos == stdin_len) close_fd(&in_fd);
        }
        int *fds[2] = {&out_fd, &err_fd};
        int idx[2] = {idx_out, idx_err};
        for (int k = 0; k < 2; k++) {
            if (idx[k] < 0 || !pfd[idx[k]].revents) continue;
            char chunk[4096];
            ssize_t r = read(*fds[k], chunk, sizeof chunk);
            if (r > 0) {
                if (sb_buf_append(&bufs[k], chunk, (size_t)r) != SB_OK) {
                    result = SB_ELIMIT;
                    close_fd(fds[k]);
                }
            } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                close_fd(fds[k]);
            }
        }
        if (result != SB_OK) break;
    }
    close_fd(&in_fd);
    close_fd(&out_fd);
    close_fd(&err_fd);
    int status = 0;
    bool reaped = false;
    while (!reaped) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            reaped = true;
            break;
        }
        if (w < 0 && errno != EINTR) break;
        if (result != SB_OK || remaining_ms(deadline) == 0) break;
        harness_sleep_ms(5);
    }
    if (!reaped) {
        if (result == SB_OK) result = SB_ETIMEOUT;
        diag("`%s %s` did not finish within %d ms: killed", argv[0], argc > 1 ? argv[1] : "", timeout_ms);
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    *exit_status_out = exit_status_of(status);
    for (int k = 0; k < 2; k++) {
        char **dest = k == 0 ? stdout_out : stderr_out;
        if (dest && result == SB_OK) {
            size_t len;
            char *text = sb_buf_take(&bufs[k], &len);
            *dest = text ? text : sb_strdup("");
        }
        sb_buf_free(&bufs[k]);
    }
    return result;
}

/* ---- files ------------------------------------------------------------------ */

/* Read path from byte `from` to its end (at most HARNESS_LOG_BYTES_MAX) into a
 * NUL-terminated sb_malloc'ed buffer. */
static int read_file_from(const char *path, size_t from, char **data_out, size_t *len_out) {
    *data_out = NULL;
    *len_out = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? SB_ENOTFOUND : SB_EIO;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return SB_EIO;
    }
    size_t size = (size_t)st.st_size;
    size_t want = size > from ? size - from : 0;
    if (want > HARNESS_LOG_BYTES_MAX) want = HARNESS_LOG_BYTES_MAX;
    char *data = sb_malloc(want + 1);
    if (!data) {
        close(fd);
        return SB_ENOMEM;
    }
    size_t got = 0;
    while (got < want) {
        ssize_t r = pread(fd, data + got, want - got, (off_t)(from + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    data[got] = '\0';
    *data_out = data;
    *len_out = got;
    return SB_OK;
}

static int write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) return SB_EIO;
    size_t len = strlen(text);
    bool ok = fwrite(text, 1, len, f) == len;
    if (fclose(f) != 0) ok = false;
    return ok ? SB_OK : SB_EIO;
}

/* ---- the server --------------------------------------------------------------- */

static int register_server(harness_server *srv) {
    for (size_t i = 0; i < HARNESS_SERVERS_MAX; i++) {
        if (!servers[i]) {
            servers[i] = srv;
            return SB_OK;
        }
    }
    diag("more than %d servers at once", HARNESS_SERVERS_MAX);
    return SB_ELIMIT;
}

static void unregister_server(const harness_server *srv) {
    for (size_t i = 0; i < HARNESS_SERVERS_MAX; i++)
        if (servers[i] == srv) servers[i] = NULL;
}

static int path_join(char out[HARNESS_PATH_BYTES], const char *dir, const char *name) {
    int n = snprintf(out, HARNESS_PATH_BYTES, "%s/%s", dir, name);
    return n > 0 && n < HARNESS_PATH_BYTES ? SB_OK : SB_ELIMIT;
}

int harness_server_new(const harness_options *opts, harness_server **srv_out) {
    harness_init();
    *srv_out = NULL;
    harness_server *srv = sb_calloc(1, sizeof *srv);
    if (!srv) return SB_ENOMEM;
    if (opts) srv->opts = *opts;
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !tmp[0]) tmp = "/tmp";
    int n = snprintf(srv->root, sizeof srv->root, "%s/sb-it-XXXXXX", tmp);
    if (n <= 0 || (size_t)n >= sizeof srv->root || !mkdtemp(srv->root)) {
        diag("cannot create a temp dir under %s: %s", tmp, strerror(errno));
        srv->root[0] = '\0';
        sb_free(srv);
        return SB_EIO;
    }
    if (register_server(srv) != SB_OK) {
        remove_tree(srv->root);
        sb_free(srv);
        return SB_ELIMIT;
    }
    int result = path_join(srv->data_dir, srv->root, "data");
    if (result == SB_OK && mkdir(srv->data_dir, 0700) != 0) result = SB_EIO;
    if (result == SB_OK && srv->opts.web_dir) {
        n = snprintf(srv->web_dir, sizeof srv->web_dir, "%s", srv->opts.web_dir);
        if (n <= 0 || (size_t)n >= sizeof srv->web_dir) result = SB_ELIMIT;
    } else if (result == SB_OK) {
        char index[HARNESS_PATH_BYTES];
        result = path_join(srv->web_dir, srv->root, "web");
        if (result == SB_OK && mkdir(srv->web_dir, 0700) != 0) result = SB_EIO;
        if (result == SB_OK) result = path_join(index, srv->web_dir, "index.html");
        if (result == SB_OK) result = write_file(index, HARNESS_INDEX_HTML);
    }
    if (result != SB_OK) {
        diag("cannot prepare %s", srv->root);
        harness_server_free(srv);
        return result;
    }
    const char *args[] = {"migrate", "--data", srv->data_dir, NULL};
    int exit_status;
    char *err_text = NULL;
    result = harness_run(args, NULL, HARNESS_CLI_TIMEOUT_MS, &exit_status, NULL, &err_text);
    if (result != SB_OK || exit_status != 0) {
        diag("migrate failed (exit %d): %s", exit_status, err_text ? err_text : "");
        sb_free(err_text);
        harness_server_free(srv);
        return result != SB_OK ? result : SB_EIO;
    }
    sb_free(err_text);
    *srv_out = srv;
    return SB_OK;
}

static int spawn_serve(harness_server *srv) {
    char threads[16];
    snprintf(threads, sizeof threads, "%d", srv->opts.threads > 0 ? srv->opts.threads : 2);
    const char *argv[HARNESS_ARGS_MAX + 2];
    const char *fixed[] = {harness_binary(), "serve",
                           "--port",         "0",
                           "--bind",         "127.0.0.1",
                           "--data",         srv->data_dir,
                           "--web",          srv->web_dir,
                           "--threads",      threads,
                           "--log-level",    srv->opts.log_level ? srv->opts.log_level : "info",
                           "--otp-sender",   "log"};
    size_t argc = 0;
    for (size_t i = 0; i < SB_ARRAY_LEN(fixed); i++)
        argv[argc++] = fixed[i];
    for (size_t i = 0; srv->opts.extra_args && srv->opts.extra_args[i]; i++) {
        if (argc > HARNESS_ARGS_MAX) return SB_ELIMIT;
        argv[argc++] = srv->opts.extra_args[i];
    }
    argv[argc] = NULL;

    char name[32];
    srv->starts++;
    snprintf(name, sizeof name, "serve-%d.log", srv->starts);
    if (path_join(srv->log_path, srv->root, name) != SB_OK) return SB_ELIMIT;
    int log_fd = open(srv->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (log_fd < 0) return SB_EIO;
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0) {
        close(log_fd);
        return SB_EIO;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(log_fd);
        close(null_fd);
        return SB_EIO;
    }
    if (pid == 0) {
        child_die_with_parent(parent);
        for (size_t i = 0; srv->opts.env && srv->opts.env[i]; i++) {
            const char *entry = srv->opts.env[i];
            const char *eq = strchr(entry, '=');
            char env_name[256];
            if (!eq || (size_t)(eq - entry) >= sizeof env_name) continue;
            memcpy(env_name, entry, (size_t)(eq - entry));
            env_name[eq - entry] = '\0';
            setenv(env_name, eq + 1, 1);
        }
        if (dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0) _exit(127);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(log_fd);
    close(null_fd);
    srv->pid = pid;
    srv->port = 0;
    return SB_OK;
}

/* The port in an "http.listen" line: a top-level "port", else fields.port. */
static int listen_port_of(json_t *line) {
    json_t *port = json_object_get(line, "port");
    if (!json_is_integer(port)) port = json_object_get(json_object_get(line, "fields"), "port");
    if (!json_is_integer(port)) return 0;
    json_int_t p = json_integer_value(port);
    return p > 0 && p < 65536 ? (int)p : 0;
}

static int http_request_timeout(int port, const char *method, const char *path, const char *token,
                                const char *content_type, const void *body, size_t body_len,
                                const char *const *extra_headers, int timeout_ms, harness_response *out);

int harness_server_start(harness_server *srv) {
    if (srv->pid > 0) {
        diag("server already running (pid %d)", (int)srv->pid);
        return SB_EINVAL;
    }
    int result = spawn_serve(srv);
    if (result != SB_OK) {
        diag("cannot start serve: %s", sb_strerror(result));
        return result;
    }
    int64_t deadline = harness_now_ms() + HARNESS_START_TIMEOUT_MS;
    result = SB_ETIMEOUT;
    while (remaining_ms(deadline) > 0) {
        int status;
        pid_t w = waitpid(srv->pid, &status, WNOHANG);
        if (w == srv->pid) {
            diag("serve exited during start with status %d", exit_status_of(status));
            srv->pid = 0;
            harness_server_print_log(srv, 40);
            return SB_EIO;
        }
        json_t *line = NULL;
        if (harness_log_find(srv, 0, "http.listen", NULL, NULL, &line, NULL) == SB_OK) {
            srv->port = listen_port_of(line);
            json_decref(line);
            if (srv->port == 0) {
                diag("the http.listen line has no valid \"port\"");
                result = SB_EINVAL;
                break;
            }
            result = SB_OK;
            break;
        }
        harness_sleep_ms(20);
    }
    while (result == SB_OK) {
        harness_response r;
        int left = remaining_ms(deadline);
        if (left == 0) {
            result = SB_ETIMEOUT;
            break;
        }
        int rc = http_request_timeout(srv->port, "GET", "/healthz", NULL, NULL, NULL, 0, NULL,
                                      left < 2000 ? left : 2000, &r);
        int status = rc == SB_OK ? r.status : 0;
        if (rc == SB_OK) harness_response_free(&r);
        if (status == 200) return SB_OK;
        harness_sleep_ms(50);
    }
    diag("serve did not become healthy within %d ms (%s)", HARNESS_START_TIMEOUT_MS, sb_strerror(result));
    harness_server_print_log(srv, 40);
    reap_hard(srv->pid);
    srv->pid = 0;
    return result;
}

int harness_server_up(const harness_options *opts, harness_server **srv_out) {
    harness_server *srv;
    int result = harness_server_new(opts, &srv);
    if (result != SB_OK) {
        *srv_out = NULL;
        return result;
    }
    result = harness_server_start(srv);
    if (result != SB_OK) {
        harness_server_free(srv);
        *srv_out = NULL;
        return result;
    }
    *srv_out = srv;
    return SB_OK;
}

int harness_server_signal(harness_server *srv, int signal_number) {
    if (srv->pid <= 0) return SB_EINVAL;
    return kill(srv->pid, signal_number) == 0 ? SB_OK : SB_EIO;
}

int harness_server_wait(harness_server *srv, int timeout_ms, int *exit_status_out) {
    *exit_status_out = -1;
    if (srv->pid <= 0) return SB_EINVAL;
    int64_t deadline = harness_now_ms() + timeout_ms;
    for (;;) {
        int status;
        pid_t w = waitpid(srv->pid, &status, WNOHANG);
        if (w == srv->pid) {
            *exit_status_out = exit_status_of(status);
            srv->pid = 0;
            return SB_OK;
        }
        if (w < 0 && errno != EINTR) return SB_EIO;
        if (remaining_ms(deadline) == 0) return SB_ETIMEOUT;
        harness_sleep_ms(10);
    }
}

int harness_server_stop(harness_server *srv, int *exit_status_out) {
    *exit_status_out = -1;
    int result = harness_server_signal(srv, SIGTERM);
    if (result != SB_OK) return result;
    result = harness_server_wait(srv, HARNESS_STOP_TIMEOUT_MS, exit_status_out);
    if (result == SB_ETIMEOUT) {
        diag("serve did not exit within %d ms of SIGTERM: killed", HARNESS_STOP_TIMEOUT_MS);
        harness_server_print_log(srv, 40);
        reap_hard(srv->pid);
        srv->pid = 0;
        return SB_ETIMEOUT;
    }
    if (result == SB_OK && *exit_status_out != 0) {
        diag("serve exited with status %d", *exit_status_out);
        harness_server_print_log(srv, 40);
    }
    return result;
}

int harness_server_kill(harness_server *srv) {
    if (srv->pid <= 0) return SB_EINVAL;
    reap_hard(srv->pid);
    srv->pid = 0;
    return SB_OK;
}

void harness_server_free(harness_server *srv) {
    if (!srv) return;
    if (srv->pid > 0) reap_hard(srv->pid);
    srv->pid = 0;
    remove_tree(srv->root);
    unregister_server(srv);
    sb_free(srv);
}

int harness_server_down(harness_server **srv_io) {
    harness_server *srv = *srv_io;
    if (!srv) return SB_OK;
    int exit_status = 0;
    int result = srv->pid > 0 ? harness_server_stop(srv, &exit_status) : SB_OK;
    harness_server_free(srv);
    *srv_io = NULL;
    if (result != SB_OK || exit_status != 0) {
        fprintf(stderr, "server stop: %s, exit status %d (want 0)\n", sb_strerror(result), exit_status);
        return result != SB_OK ? result : SB_EIO;
    }
    return SB_OK;
}

void harness_server_print_log(const harness_server *srv, int max_lines) {
    char *data;
    size_t len;
    if (!srv->log_path[0] || read_file_from(srv->log_path, 0, &data, &len) != SB_OK) return;
    size_t start = len;
    int lines = 0;
    while (start > 0) {
        if (data[start - 1] == '\n' && start != len && ++lines >= max_lines) break;
        start--;
    }
    fprintf(stderr, "harness: ---- last lines of %s ----\n%s", srv->log_path, data + start);
    if (len > 0 && data[len - 1] != '\n') fputc('\n', stderr);
    fprintf(stderr, "harness: ---- end of log ----\n");
    fflush(stderr);
    sb_free(data);
}

int harness_user_add(harness_server *srv, const char *username, const char *password, const char *role,
                     int64_t *user_id_out) {
    const char *args[] = {"user", "add", "--data", srv->data_dir, "--username", username, "--role", role, NULL};
    size_t plen = strlen(password);
    char *stdin_text = sb_malloc(plen + 2);
    if (!stdin_text) return SB_ENOMEM;
    memcpy(stdin_text, password, plen);
    memcpy(stdin_text + plen, "\n", 2);
    int exit_status;
    char *out = NULL, *err = NULL;
    int result = harness_run(args, stdin_text, HARNESS_CLI_TIMEOUT_MS, &exit_status, &out, &err);
    sb_free(stdin_text);
    if (result == SB_OK && exit_status != 0) {
        diag("user add %s (%s) exited %d: %s", username, role, exit_status, err ? err : "");
        result = SB_EIO;
    }
    if (result == SB_OK && user_id_out) {
        const char *brace = out ? strchr(out, '{') : NULL;
        json_error_t jerr;
        json_t *doc = brace ? json_loads(brace, JSON_DISABLE_EOF_CHECK, &jerr) : NULL;
        json_t *id = json_object_get(doc, "id");
        if (json_is_integer(id)) {
            *user_id_out = (int64_t)json_integer_value(id);
        } else {
            diag("user add printed no {\"id\":N}: %s", out ? out : "");
            result = SB_EINVAL;
        }
        json_decref(doc);
    }
    sb_free(out);
    sb_free(err);
    return result;
}

/* ---- the log ------------------------------------------------------------------ */

size_t harness_log_mark(const harness_server *srv) {
    struct stat st;
    if (!srv->log_path[0] || stat(srv->log_path, &st) != 0) return 0;
    return (size_t)st.st_size;
}

static bool field_matches(json_t *line, const char *field, const char *value) {
    if (!field) return true;
    json_t *v = json_object_get(line, field);
    if (json_is_string(v)) return value && strcmp(json_string_value(v), value) == 0;
    if (json_is_integer(v)) {
        char text[32];
        snprintf(text, sizeof text, "%lld", (long long)json_integer_value(v));
        return value && strcmp(text, value) == 0;
    }
    if (json_is_boolean(v)) return value && strcmp(json_is_true(v) ? "true" : "false", value) == 0;
    return false;
}

/* Visit the complete lines from `from` with this event; stop at the first that
 * matches field/value when stop_at_first.  Returns matches counted. */
static size_t log_scan(const harness_server *srv, size_t from, const char *event, const char *field, const char *value,
                       bool stop_at_first, json_t **line_out, size_t *next_out) {
    char *data;
    size_t len;
    if (!srv->log_path[0] || read_file_from(srv->log_path, from, &data, &len) != SB_OK) return 0;
    size_t count = 0, pos = 0;
    while (pos < len) {
        char *nl = memchr(data + pos, '\n', len - pos);
        if (!nl) break; /* an incomplete last line: not yet */
        *nl = '\0';
        char *line = data + pos;
        size_t line_len = (size_t)(nl - line);
        pos = (size_t)(nl - data) + 1;
        if (!strstr(line, event)) continue;
        json_error_t jerr;
        json_t *doc = json_loadb(line, line_len, 0, &jerr);
        if (!doc) continue;
        const char *ev = json_string_value(json_object_get(doc, "event"));
        if (ev && strcmp(ev, event) == 0 && field_matches(doc, field, value)) {
            count++;
            if (stop_at_first) {
                if (line_out)
                    *line_out = doc;
                else
                    json_decref(doc);
                if (next_out) *next_out = from + pos;
                break;
            }
        }
        json_decref(doc);
    }
    sb_free(data);
    return count;
}

int harness_log_find(const harness_server *srv, size_t from, const char *event, const char *field, const char *value,
                     json_t **line_out, size_t *next_out) {
    if (line_out) *line_out = NULL;
    return log_scan(srv, from, event, field, value, true, line_out, next_out) > 0 ? SB_OK : SB_ENOTFOUND;
}

int harness_log_wait(const harness_server *srv, size_t from, const char *event, const char *field, const char *value,
                     int timeout_ms, json_t **line_out) {
    int64_t deadline = harness_now_ms() + timeout_ms;
    for (;;) {
        if (harness_log_find(srv, from, event, field, value, line_out, NULL) == SB_OK) return SB_OK;
        if (remaining_ms(deadline) == 0) {
            diag("no log line with event %s%s%s%s%s within %d ms", event, field ? " and " : "", field ? field : "",
                 field ? "=" : "", field && value ? value : "", timeout_ms);
            return SB_ETIMEOUT;
        }
        harness_sleep_ms(20);
    }
}

size_t harness_log_count(const harness_server *srv, size_t from, const char *event) {
    return log_scan(srv, from, event, NULL, NULL, false, NULL, NULL);
}

/* ---- connections -------------------------------------------------------------- */

int harness_conn_open(int port, int rcvbuf_bytes, int timeout_ms, harness_conn **conn_out) {
    harness_init();
    *conn_out = NULL;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return SB_EIO;
    if (rcvbuf_bytes > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf_bytes, sizeof rcvbuf_bytes);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        if (errno != EINPROGRESS) {
            diag("connect to port %d: %s", port, strerror(errno));
            close(fd);
            return SB_EIO;
        }
        struct pollfd pfd = {fd, POLLOUT, 0};
        int ready;
        do {
            ready = poll(&pfd, 1, timeout_ms);
        } while (ready < 0 && errno == EINTR);
        int err = 0;
        socklen_t elen = sizeof err;
        if (ready <= 0) {
            close(fd);
            return SB_ETIMEOUT;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0) {
            diag("connect to port %d: %s", port, strerror(err));
            close(fd);
            return SB_EIO;
        }
    }
    harness_conn *conn = sb_calloc(1, sizeof *conn);
    if (!conn) {
        close(fd);
        return SB_ENOMEM;
    }
    conn->fd = fd;
    sb_buf_init(&conn->in, CONN_BUFFER_BYTES_MAX);
    *conn_out = conn;
    return SB_OK;
}

void harness_conn_close(harness_conn *conn) {
    if (!conn) return;
    if (conn->fd >= 0) close(conn->fd);
    sb_buf_free(&conn->in);
    sb_free(conn);
}

static int conn_send_deadline(harness_conn *conn, const void *bytes, size_t len, int64_t deadline) {
    const char *p = bytes;
    size_t sent = 0;
    while (sent < len) {
        ssize_t w = send(conn->fd, p + sent, len - sent, MSG_NOSIGNAL);
        if (w > 0) {
            sent += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pfd = {conn->fd, POLLOUT, 0};
            int left = remaining_ms(deadline);
            if (left == 0) return SB_ETIMEOUT;
            int ready = poll(&pfd, 1, left);
            if (ready < 0 && errno != EINTR) return SB_EIO;
            if (ready > 0 && (pfd.revents & (POLLERR | POLLHUP)) && !(pfd.revents & POLLOUT)) return SB_ECLOSED;
            continue;
        }
        if (w < 0 && (errno == EPIPE || errno == ECONNRESET)) return SB_ECLOSED;
        return SB_EIO;
    }
    return SB_OK;
}

int harness_conn_send(harness_conn *conn, const void *bytes, size_t len, int timeout_ms) {
    return conn_send_deadline(conn, bytes, len, harness_now_ms() + timeout_ms);
}

/* Send a request, but stop early if the server starts answering (it may
 * refuse a large body before reading it, then close): like curl, read the
 * answer instead of pushing more bytes into a connection that will be reset. */
static int conn_send_until_answer(harness_conn *conn, const void *bytes, size_t len, int64_t deadline) {
    const char *p = bytes;
    size_t sent = 0;
    while (sent < len) {
        struct pollfd pfd = {conn->fd, POLLIN | POLLOUT, 0};
        int left = remaining_ms(deadline);
        if (left == 0) return SB_ETIMEOUT;
        int ready = poll(&pfd, 1, left);
        if (ready < 0 && errno != EINTR) return SB_EIO;
        if (ready <= 0) continue;
        if (pfd.revents & POLLIN) return SB_OK; /* an early answer: go and read it */
        if (pfd.revents & (POLLERR | POLLHUP)) return SB_ECLOSED;
        size_t chunk = len - sent < 65536 ? len - sent : 65536;
        ssize_t w = send(conn->fd, p + sent, chunk, MSG_NOSIGNAL);
        if (w > 0) {
            sent += (size_t)w;
        } else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            return errno == EPIPE || errno == ECONNRESET ? SB_ECLOSED : SB_EIO;
        }
    }
    return SB_OK;
}

/* Receive whatever is available (waiting until the deadline for something).
 * SB_OK when bytes were added, SB_ECLOSED on EOF/reset, SB_ETIMEOUT, SB_ELIMIT. */
static int conn_fill(harness_conn *conn, int64_t deadline) {
    for (;;) {
        char chunk[65536];
        ssize_t r = recv(conn->fd, chunk, sizeof chunk, 0);
        if (r > 0) {
            if (sb_buf_append(&conn->in, chunk, (size_t)r) != SB_OK) {
                diag("a connection buffered more than %d bytes", CONN_BUFFER_BYTES_MAX);
                return SB_ELIMIT;
            }
            return SB_OK;
        }
        if (r == 0) return SB_ECLOSED;
        if (errno == EINTR) continue;
        if (errno == ECONNRESET || errno == EPIPE) return SB_ECLOSED;
        if (errno != EAGAIN && errno != EWOULDBLOCK) return SB_EIO;
        struct pollfd pfd = {conn->fd, POLLIN, 0};
        int left = remaining_ms(deadline);
        if (left == 0) return SB_ETIMEOUT;
        int ready = poll(&pfd, 1, left);
        if (ready < 0 && errno != EINTR) return SB_EIO;
    }
}

/* Make sure at least n bytes are buffered. */
static int conn_need(harness_conn *conn, size_t n, int64_t deadline) {
    while (conn->in.len < n) {
        int result = conn_fill(conn, deadline);
        if (result != SB_OK) return result;
    }
    return SB_OK;
}

static void conn_consume(harness_conn *conn, size_t n) {
    SB_ASSERT(n <= conn->in.len);
    if (n == 0) return;
    memmove(conn->in.data, conn->in.data + n, conn->in.len - n);
    conn->in.len -= n;
    conn->in.data[conn->in.len] = '\0';
}

/* Offset just after the first "\r\n" at or after from, or 0 if none yet. */
static size_t find_crlf(const harness_conn *conn, size_t from) {
    if (conn->in.len < from + 2) return 0;
    const char *hit = memmem(conn->in.data + from, conn->in.len - from, "\r\n", 2);
    return hit ? (size_t)(hit - conn->in.data) + 2 : 0;
}

int harness_conn_wait_closed(harness_conn *conn, int timeout_ms) {
    int64_t deadline = harness_now_ms() + timeout_ms;
    for (;;) {
        sb_buf_reset(&conn->in);
        int result = conn_fill(conn, deadline);
        if (result == SB_ECLOSED) return SB_OK;
        if (result != SB_OK) return result;
    }
}

/* ---- responses ------------------------------------------------------------------ */

void harness_response_free(harness_response *response) {
    for (size_t i = 0; i < response->header_count; i++) {
        sb_free(response->headers[i].name);
        sb_free(response->headers[i].value);
    }
    sb_free(response->body);
    json_decref(response->json);
    memset(response, 0, sizeof *response);
}

const char *harness_header_get(const harness_response *response, const char *name) {
    for (size_t i = 0; i < response->header_count; i++)
        if (strcasecmp(response->headers[i].name, name) == 0) return response->headers[i].value;
    return NULL;
}

const char *harness_error_code(const harness_response *response) {
    return json_string_value(json_object_get(json_object_get(response->json, "error"), "code"));
}

const char *harness_error_message(const harness_response *response) {
    return json_string_value(json_object_get(json_object_get(response->json, "error"), "message"));
}

static bool is_space(char c) { return c == ' ' || c == '\t'; }

/* Parse a response head (status line and header lines, without the final
 * empty line) of head_len bytes. */
static int parse_head(const char *head, size_t head_len, harness_response *out) {
    if (head_len < 12 || memcmp(head, "HTTP/1.", 7) != 0 || head[8] != ' ') return SB_EINVAL;
    int status = 0;
    for (int i = 9; i < 12; i++) {
        if (head[i] < '0' || head[i] > '9') return SB_EINVAL;
        status = status * 10 + (head[i] - '0');
    }
    if (head_len > 12 && head[12] != ' ' && head[12] != '\r') return SB_EINVAL;
    out->status = status;
    const char *p = memmem(head, head_len, "\r\n", 2);
    const char *end = head + head_len;
    while (p && p + 2 < end) {
        const char *line = p + 2;
        const char *eol = memmem(line, (size_t)(end - line), "\r\n", 2);
        if (!eol) eol = end;
        const char *colon = memchr(line, ':', (size_t)(eol - line));
        if (!colon || colon == line) return SB_EINVAL;
        if (out->header_count >= HARNESS_HEADERS_MAX) return SB_ELIMIT;
        const char *v = colon + 1, *ve = eol;
        while (v < ve && is_space(*v))
            v++;
        while (ve > v && is_space(ve[-1]))
            ve--;
        harness_header *h = &out->headers[out->header_count];
        h->name = sb_strndup(line, (size_t)(colon - line));
        h->value = sb_strndup(v, (size_t)(ve - v));
        if (!h->name || !h->value) {
            sb_free(h->name);
            sb_free(h->value);
            h->name = h->value = NULL;
            return SB_ENOMEM;
        }
        out->header_count++;
        p = eol < end ? eol : NULL;
    }
    return SB_OK;
}

static bool header_has_token(const harness_response *r, const char *name, const char *token) {
    const char *v = harness_header_get(r, name);
    if (!v) return false;
    size_t tlen = strlen(token);
    for (const char *p = v; *p; p++)
        if (strncasecmp(p, token, tlen) == 0) return true;
    return false;
}

static int read_chunked(harness_conn *conn, int64_t deadline, sb_buf *body) {
    for (;;) {
        size_t eol;
        while ((eol = find_crlf(conn, 0)) == 0) {
            if (conn->in.len > CHUNK_LINE_BYTES_MAX) return SB_EINVAL;
            int result = conn_fill(conn, deadline);
            if (result != SB_OK) return result;
        }
        char *endp;
        errno = 0;
        unsigned long long size = strtoull(conn->in.data, &endp, 16);
        if (endp == conn->in.data || errno != 0 || (*endp != '\r' && *endp != ';' && !is_space(*endp)))
            return SB_EINVAL;
        conn_consume(conn, eol);
        if (size == 0) break;
        if (size > HARNESS_RESPONSE_BODY_BYTES_MAX || body->len + size > HARNESS_RESPONSE_BODY_BYTES_MAX)
            return SB_ELIMIT;
        int result = conn_need(conn, (size_t)size + 2, deadline);
        if (result != SB_OK) return result;
        if (memcmp(conn->in.data + size, "\r\n", 2) != 0) return SB_EINVAL;
        if (sb_buf_append(body, conn->in.data, (size_t)size) != SB_OK) return SB_ELIMIT;
        conn_consume(conn, (size_t)size + 2);
    }
    /* Trailers, up to the empty line. */
    for (int lines = 0; lines < TRAILER_LINES_MAX; lines++) {
        size_t eol;
        while ((eol = find_crlf(conn, 0)) == 0) {
            if (conn->in.len > CHUNK_LINE_BYTES_MAX) return SB_EINVAL;
            int result = conn_fill(conn, deadline);
            if (result != SB_OK) return result;
        }
        conn_consume(conn, eol);
        if (eol == 2) return SB_OK;
    }
    return SB_ELIMIT;
}

static int read_body(harness_conn *conn, bool no_body, int64_t deadline, harness_response *out) {
    sb_buf body;
    sb_buf_init(&body, HARNESS_RESPONSE_BODY_BYTES_MAX);
    int result = SB_OK;
    const char *cl = harness_header_get(out, "Content-Length");
    if (no_body) {
        /* nothing */
    } else if (header_has_token(out, "Transfer-Encoding", "chunked")) {
        result = read_chunked(conn, deadline, &body);
    } else if (cl) {
        char *endp;
        errno = 0;
        unsigned long long n = strtoull(cl, &endp, 10);
        if (endp == cl || *endp || errno) {
            result = SB_EINVAL;
        } else if (n > HARNESS_RESPONSE_BODY_BYTES_MAX) {
            result = SB_ELIMIT;
        } else {
            result = conn_need(conn, (size_t)n, deadline);
            if (result == SB_OK && n > 0) result = sb_buf_append(&body, conn->in.data, (size_t)n);
            if (result == SB_OK) conn_consume(conn, (size_t)n);
        }
    } else {
        /* No length: the body ends when the server closes the connection. */
        for (;;) {
            result = conn_fill(conn, deadline);
            if (result == SB_ECLOSED) {
                result = SB_OK;
                break;
            }
            if (result != SB_OK) break;
        }
        if (result == SB_OK && conn->in.len > 0) result = sb_buf_append(&body, conn->in.data, conn->in.len);
        if (result == SB_OK) sb_buf_reset(&conn->in);
    }
    if (result != SB_OK) {
        sb_buf_free(&body);
        return result;
    }
    size_t len = 0;
    char *data = sb_buf_take(&body, &len);
    if (!data) data = sb_strdup("");
    if (!data) return SB_ENOMEM;
    out->body = data;
    out->body_len = len;
    if (len > 0) {
        json_error_t jerr;
        out->json = json_loadb(data, len, JSON_DECODE_ANY, &jerr);
    }
    return SB_OK;
}

static int read_response_deadline(harness_conn *conn, bool head_request, int64_t deadline, harness_response *out) {
    memset(out, 0, sizeof *out);
    for (int interim = 0; interim <= INTERIM_RESPONSES_MAX; interim++) {
        const char *end;
        for (;;) {
            end = conn->in.len >= 4 ? memmem(conn->in.data, conn->in.len, "\r\n\r\n", 4) : NULL;
            if (end) break;
            if (conn->in.len > HARNESS_RESPONSE_HEADER_BYTES_MAX) return SB_ELIMIT;
            int result = conn_fill(conn, deadline);
            if (result != SB_OK) return result;
        }
        size_t head_len = (size_t)(end - conn->in.data);
        int result = parse_head(conn->in.data, head_len, out);
        if (result != SB_OK) {
            harness_response_free(out);
            return result;
        }
        conn_consume(conn, head_len + 4);
        if (out->status >= 100 && out->status < 200 && out->status != 101) {
            harness_response_free(out);
            continue;
        }
        bool no_body = head_request || out->status == 101 || out->status == 204 || out->status == 304;
        result = read_body(conn, no_body, deadline, out);
        if (result != SB_OK) harness_response_free(out);
        return result;
    }
    return SB_ELIMIT;
}

int harness_conn_read_response(harness_conn *conn, bool head_request, int timeout_ms, harness_response *out) {
    return read_response_deadline(conn, head_request, harness_now_ms() + timeout_ms, out);
}

/* ---- HTTP requests ---------------------------------------------------------------- */

static bool method_has_body(const char *method) {
    return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0;
}

static int http_request_timeout(int port, const char *method, const char *path, const char *token,
                                const char *content_type, const void *body, size_t body_len,
                                const char *const *extra_headers, int timeout_ms, harness_response *out) {
    memset(out, 0, sizeof *out);
    int64_t deadline = harness_now_ms() + timeout_ms;
    sb_buf req;
    sb_buf_init(&req, REQUEST_HEAD_BYTES_MAX + body_len);
    int result = sb_buf_printf(&req,
                               "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n"
                               "User-Agent: socialbank-harness\r\n",
                               method, path, port);
    if (result == SB_OK && token) result = sb_buf_printf(&req, "Authorization: Bearer %s\r\n", token);
    if (result == SB_OK && content_type) result = sb_buf_printf(&req, "Content-Type: %s\r\n", content_type);
    if (result == SB_OK && (body || method_has_body(method)))
        result = sb_buf_printf(&req, "Content-Length: %zu\r\n", body ? body_len : 0);
    for (size_t i = 0; result == SB_OK && extra_headers && extra_headers[i]; i++)
        result = sb_buf_printf(&req, "%s\r\n", extra_headers[i]);
    if (result == SB_OK) result = sb_buf_append(&req, "\r\n", 2);
    if (result == SB_OK && body && body_len) result = sb_buf_append(&req, body, body_len);
    if (result != SB_OK) {
        sb_buf_free(&req);
        return result;
    }
    harness_conn *conn;
    result = harness_conn_open(port, 0, remaining_ms(deadline), &conn);
    if (result == SB_OK) {
        int sent = conn_send_until_answer(conn, req.data, req.len, deadline);
        /* Even if sending failed (the server may answer early and close), try to read the answer. */
        result = read_response_deadline(conn, strcmp(method, "HEAD") == 0, deadline, out);
        if (result != SB_OK && sent != SB_OK) result = sent;
        harness_conn_close(conn);
    }
    sb_buf_free(&req);
    if (result != SB_OK) diag("%s %s on port %d: %s", method, path, port, sb_strerror(result));
    return result;
}

int harness_http(int port, const char *method, const char *path, const char *token, const char *content_type,
                 const void *body, size_t body_len, const char *const *extra_headers, harness_response *out) {
    return http_request_timeout(port, method, path, token, content_type, body, body_len, extra_headers,
                                HARNESS_HTTP_TIMEOUT_MS, out);
}

int harness_http_slow(int port, const char *method, const char *path, const char *token, const char *content_type,
                      const void *body, size_t body_len, const char *const *extra_headers, int timeout_ms,
                      harness_response *out) {
    return http_request_timeout(port, method, path, token, content_type, body, body_len, extra_headers, timeout_ms,
                                out);
}

int harness_http_get(int port, const char *path, const char *token, harness_response *out) {
    return harness_http(port, "GET", path, token, NULL, NULL, 0, NULL, out);
}

int harness_http_json(int port, const char *method, const char *path, const char *token, const char *json_text,
                      harness_response *out) {
    return harness_http(port, method, path, token, json_text ? "application/json" : NULL, json_text,
                        json_text ? strlen(json_text) : 0, NULL, out);
}

/* The gate a burst of parallel requests waits at, opened once all started. */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t opened;
    bool open;
} parallel_gate;

typedef struct {
    int port;
    harness_parallel_request *request;
    parallel_gate *gate;
} parallel_job;

static void *parallel_main(void *arg) {
    parallel_job *job = arg;
    pthread_mutex_lock(&job->gate->lock);
    while (!job->gate->open)
        pthread_cond_wait(&job->gate->opened, &job->gate->lock);
    pthread_mutex_unlock(&job->gate->lock);
    harness_parallel_request *q = job->request;
    q->result = harness_http_json(job->port, q->method, q->path, q->token, q->json_text, &q->response);
    return NULL;
}

int harness_http_parallel(int port, harness_parallel_request *requests, size_t count) {
    if (!requests || count == 0 || count > HARNESS_PARALLEL_MAX) return SB_EINVAL;
    pthread_t threads[HARNESS_PARALLEL_MAX];
    parallel_job jobs[HARNESS_PARALLEL_MAX];
    parallel_gate gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false};
    size_t started = 0;
    int result = SB_OK;
    for (; started < count; started++) {
        requests[started].result = SB_EIO;
        memset(&requests[started].response, 0, sizeof requests[started].response);
        jobs[started] = (parallel_job){port, &requests[started], &gate};
        if (pthread_create(&threads[started], NULL, parallel_main, &jobs[started]) != 0) {
            fprintf(stderr, "harness: cannot start request thread %zu of %zu\n", started, count);
            result = SB_EIO;
            break;
        }
    }
    pthread_mutex_lock(&gate.lock);
    gate.open = true;
    pthread_cond_broadcast(&gate.opened);
    pthread_mutex_unlock(&gate.lock);
    for (size_t i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    return result;
}

int harness_http_raw(int port, const void *bytes, size_t len, int timeout_ms, harness_response *out) {
    memset(out, 0, sizeof *out);
    int64_t deadline = harness_now_ms() + timeout_ms;
    harness_conn *conn;
    int result = harness_conn_open(port, 0, timeout_ms, &conn);
    if (result != SB_OK) return result;
    int sent = conn_send_until_answer(conn, bytes, len, deadline);
    result = read_response_deadline(conn, false, deadline, out);
    if (result != SB_OK && sent != SB_OK && sent != SB_ECLOSED) result = sent;
    harness_conn_close(conn);
    return result;
}

/* ---- WebSocket -------------------------------------------------------------------- */

int harness_ws_fd(const harness_ws *ws) { return ws->conn->fd; }

void harness_ws_free(harness_ws *ws) {
    if (!ws) return;
    harness_conn_close(ws->conn);
    sb_free(ws);
}

void harness_ws_message_free(harness_ws_message *message) {
    sb_free(message->data);
    memset(message, 0, sizeof *message);
}

int harness_ws_connect(int port, const char *path, const char *token, int rcvbuf_bytes, int timeout_ms,
                       harness_ws **ws_out, harness_response *refusal_out) {
    harness_init();
    *ws_out = NULL;
    if (refusal_out) memset(refusal_out, 0, sizeof *refusal_out);
    int64_t deadline = harness_now_ms() + timeout_ms;
    unsigned char nonce[16];
    sb_random_bytes(nonce, sizeof nonce);
    char key[sodium_base64_ENCODED_LEN(16, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(key, sizeof key, nonce, sizeof nonce, sodium_base64_VARIANT_ORIGINAL);
    char accept_src[128];
    snprintf(accept_src, sizeof accept_src, "%s%s", key, WS_GUID);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    if (!EVP_Digest(accept_src, strlen(accept_src), digest, &digest_len, EVP_sha1(), NULL)) return SB_EIO;
    char expected[sodium_base64_ENCODED_LEN(20, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(expected, sizeof expected, digest, digest_len, sodium_base64_VARIANT_ORIGINAL);

    sb_buf req;
    sb_buf_init(&req, REQUEST_HEAD_BYTES_MAX);
    int result =
        sb_buf_printf(&req,
                      "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nUser-Agent: socialbank-harness\r\n",
                      path, port, key);
    if (result == SB_OK && token) result = sb_buf_printf(&req, "Authorization: Bearer %s\r\n", token);
    if (result == SB_OK) result = sb_buf_append(&req, "\r\n", 2);
    if (result != SB_OK) {
        sb_buf_free(&req);
        return result;
    }
    harness_conn *conn;
    result = harness_conn_open(port, rcvbuf_bytes, timeout_ms, &conn);
    if (result != SB_OK) {
        sb_buf_free(&req);
        return result;
    }
    result = conn_send_deadline(conn, req.data, req.len, deadline);
    sb_buf_free(&req);
    harness_response resp;
    int read_result = read_response_deadline(conn, false, deadline, &resp);
    if (read_result != SB_OK) {
        diag("WebSocket upgrade on %s: no answer (%s)", path, sb_strerror(read_result));
        harness_conn_close(conn);
        return result != SB_OK ? result : read_result;
    }
    if (resp.status != 101) {
        if (refusal_out)
            *refusal_out = resp;
        else
            harness_response_free(&resp);
        harness_conn_close(conn);
        return SB_EPERM;
    }
    const char *accept = harness_header_get(&resp, "Sec-WebSocket-Accept");
    if (!accept || strcmp(accept, expected) != 0 || !header_has_token(&resp, "Upgrade", "websocket")) {
        diag("WebSocket upgrade: bad Sec-WebSocket-Accept or Upgrade header (got %s, want %s)",
             accept ? accept : "(none)", expected);
        harness_response_free(&resp);
        harness_conn_close(conn);
        return SB_EINVAL;
    }
    harness_response_free(&resp);
    harness_ws *ws = sb_calloc(1, sizeof *ws);
    if (!ws) {
        harness_conn_close(conn);
        return SB_ENOMEM;
    }
    ws->conn = conn; /* frames that came with the 101 stay buffered */
    *ws_out = ws;
    return SB_OK;
}

int harness_ws_open(int port, const char *token, harness_ws **ws_out, json_t **hello_out) {
    if (hello_out) *hello_out = NULL;
    int result = harness_ws_connect(port, "/api/ws", token, 0, HARNESS_HTTP_TIMEOUT_MS, ws_out, NULL);
    if (result != SB_OK) return result;
    json_t *hello;
    result = harness_ws_read_json(*ws_out, HARNESS_HTTP_TIMEOUT_MS, &hello, NULL);
    const char *type = result == SB_OK ? json_string_value(json_object_get(hello, "type")) : NULL;
    if (result == SB_OK && (!type || strcmp(type, "hello") != 0)) {
        diag("WebSocket: the first message is not a hello");
        json_decref(hello);
        result = SB_EINVAL;
    }
    if (result != SB_OK) {
        harness_ws_free(*ws_out);
        *ws_out = NULL;
        return result;
    }
    if (hello_out)
        *hello_out = hello;
    else
        json_decref(hello);
    return SB_OK;
}

int harness_ws_send_frame(harness_ws *ws, int opcode, bool fin, const void *payload, size_t len) {
    if (len > SIZE_MAX - 14) return SB_ELIMIT;
    unsigned char *frame = sb_malloc(len + 14);
    if (!frame) return SB_ENOMEM;
    size_t pos = 0;
    frame[pos++] = (unsigned char)((fin ? 0x80 : 0) | (opcode & 0x0F));
    if (len < 126) {
        frame[pos++] = (unsigned char)(0x80 | len);
    } else if (len <= 0xFFFF) {
        frame[pos++] = 0x80 | 126;
        frame[pos++] = (unsigned char)(len >> 8);
        frame[pos++] = (unsigned char)len;
    } else {
        frame[pos++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            frame[pos++] = (unsigned char)((uint64_t)len >> (8 * i));
    }
    unsigned char mask[4];
    sb_random_bytes(mask, sizeof mask);
    memcpy(frame + pos, mask, 4);
    pos += 4;
    const unsigned char *p = payload;
    for (size_t i = 0; i < len; i++)
        frame[pos + i] = p[i] ^ mask[i & 3];
    pos += len;
    int result = harness_conn_send(ws->conn, frame, pos, HARNESS_HTTP_TIMEOUT_MS);
    sb_free(frame);
    if (opcode == HARNESS_WS_CLOSE && result == SB_OK) ws->close_sent = true;
    return result;
}

int harness_ws_send_text(harness_ws *ws, const char *text) {
    return harness_ws_send_frame(ws, HARNESS_WS_TEXT, true, text, strlen(text));
}

int harness_ws_send_close(harness_ws *ws, int code) {
    unsigned char payload[2] = {(unsigned char)(code >> 8), (unsigned char)code};
    return harness_ws_send_frame(ws, HARNESS_WS_CLOSE, true, payload, 2);
}

static int read_frame_deadline(harness_ws *ws, int64_t deadline, harness_ws_message *out) {
    memset(out, 0, sizeof *out);
    harness_conn *conn = ws->conn;
    int result = conn_need(conn, 2, deadline);
    if (result != SB_OK) return result;
    const unsigned char *b = (const unsigned char *)conn->in.data;
    if (b[0] & 0x70) {
        diag("WebSocket frame with RSV bits set (no extension was negotiated)");
        return SB_EINVAL;
    }
    bool masked = (b[1] & 0x80) != 0;
    uint64_t len = b[1] & 0x7F;
    size_t head = 2;
    if (len == 126) {
        head = 4;
    } else if (len == 127) {
        head = 10;
    }
    result = conn_need(conn, head + (masked ? 4 : 0), deadline);
    if (result != SB_OK) return result;
    b = (const unsigned char *)conn->in.data;
    if (head == 4) len = ((uint64_t)b[2] << 8) | b[3];
    if (head == 10) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = (len << 8) | b[2 + i];
    }
    if (len > HARNESS_WS_MESSAGE_BYTES_MAX) {
        diag("WebSocket frame of %llu bytes is over the harness's cap", (unsigned long long)len);
        return SB_ELIMIT;
    }
    size_t mask_at = head;
    if (masked) head += 4;
    result = conn_need(conn, head + (size_t)len, deadline);
    if (result != SB_OK) return result;
    b = (const unsigned char *)conn->in.data;
    out->opcode = b[0] & 0x0F;
    out->fin = (b[0] & 0x80) != 0;
    out->data = sb_malloc((size_t)len + 1);
    if (!out->data) return SB_ENOMEM;
    for (size_t i = 0; i < (size_t)len; i++)
        out->data[i] = (char)(masked ? b[head + i] ^ b[mask_at + (i & 3)] : b[head + i]);
    out->data[len] = '\0';
    out->len = (size_t)len;
    conn_consume(conn, head + (size_t)len);
    if (out->opcode == HARNESS_WS_CLOSE) {
        if (out->len >= 2) {
            out->close_code = ((unsigned char)out->data[0] << 8) | (unsigned char)out->data[1];
            memmove(out->data, out->data + 2, out->len - 2 + 1);
            out->len -= 2;
        } else {
            out->close_code = 1005;
        }
    }
    return SB_OK;
}

int harness_ws_read_frame(harness_ws *ws, int timeout_ms, harness_ws_message *out) {
    return read_frame_deadline(ws, harness_now_ms() + timeout_ms, out);
}

int harness_ws_read(harness_ws *ws, int timeout_ms, harness_ws_message *out) {
    memset(out, 0, sizeof *out);
    int64_t deadline = harness_now_ms() + timeout_ms;
    sb_buf message;
    sb_buf_init(&message, HARNESS_WS_MESSAGE_BYTES_MAX);
    int message_opcode = -1;
    int result = SB_OK;
    for (int frames = 0; frames < HARNESS_WS_FRAGMENTS_MAX; frames++) {
        harness_ws_message frame;
        result = read_frame_deadline(ws, deadline, &frame);
        if (result != SB_OK) break;
        if (frame.opcode == HARNESS_WS_PING) {
            int ignored = harness_ws_send_frame(ws, HARNESS_WS_PONG, true, frame.data, frame.len);
            (void)ignored;
            harness_ws_message_free(&frame);
            continue;
        }
        if (frame.opcode == HARNESS_WS_PONG && message_opcode >= 0) {
            harness_ws_message_free(&frame);
            continue;
        }
        if (frame.opcode == HARNESS_WS_PONG || frame.opcode == HARNESS_WS_CLOSE) {
            if (frame.opcode == HARNESS_WS_CLOSE && !ws->close_sent) {
                int ignored = harness_ws_send_close(ws, frame.close_code == 1005 ? 1000 : frame.close_code);
                (void)ignored;
                ws->close_sent = true;
            }
            sb_buf_free(&message);
            *out = frame;
            return SB_OK;
        }
        if (frame.opcode == HARNESS_WS_TEXT || frame.opcode == HARNESS_WS_BINARY) {
            if (message_opcode >= 0) {
                diag("WebSocket: a new data frame inside a fragmented message");
                harness_ws_message_free(&frame);
                result = SB_EINVAL;
                break;
            }
            if (frame.fin) {
                sb_buf_free(&message);
                *out = frame;
                return SB_OK;
            }
            message_opcode = frame.opcode;
        } else if (frame.opcode == HARNESS_WS_CONTINUATION) {
            if (message_opcode < 0) {
                diag("WebSocket: a continuation frame outside a message");
                harness_ws_message_free(&frame);
                result = SB_EINVAL;
                break;
            }
        } else {
            diag("WebSocket: unknown opcode %d", frame.opcode);
            harness_ws_message_free(&frame);
            result = SB_EINVAL;
            break;
        }
        result = frame.len ? sb_buf_append(&message, frame.data, frame.len) : SB_OK;
        bool fin = frame.fin;
        harness_ws_message_free(&frame);
        if (result != SB_OK) {
            result = SB_ELIMIT;
            break;
        }
        if (fin) {
            size_t len = 0;
            char *data = sb_buf_take(&message, &len);
            out->opcode = message_opcode;
            out->fin = true;
            out->data = data ? data : sb_strdup("");
            out->len = len;
            return out->data ? SB_OK : SB_ENOMEM;
        }
    }
    sb_buf_free(&message);
    if (result == SB_OK) result = SB_ELIMIT;
    return result;
}

int harness_ws_read_json(harness_ws *ws, int timeout_ms, json_t **json_out, int *close_code_out) {
    *json_out = NULL;
    if (close_code_out) *close_code_out = 0;
    int64_t deadline = harness_now_ms() + timeout_ms;
    for (;;) {
        harness_ws_message msg;
        int result = harness_ws_read(ws, remaining_ms(deadline), &msg);
        if (result != SB_OK) return result;
        if (msg.opcode == HARNESS_WS_PONG) {
            harness_ws_message_free(&msg);
            continue;
        }
        if (msg.opcode == HARNESS_WS_CLOSE) {
            if (close_code_out) *close_code_out = msg.close_code;
            harness_ws_message_free(&msg);
            return SB_ECLOSED;
        }
        if (msg.opcode != HARNESS_WS_TEXT) {
            diag("WebSocket: expected a text message, got opcode %d", msg.opcode);
            harness_ws_message_free(&msg);
            return SB_EINVAL;
        }
        json_error_t jerr;
        json_t *doc = json_loadb(msg.data, msg.len, JSON_DECODE_ANY, &jerr);
        if (!doc) diag("WebSocket: text message is not JSON: %.200s", msg.data);
        harness_ws_message_free(&msg);
        if (!doc) return SB_EINVAL;
        *json_out = doc;
        return SB_OK;
    }
}

int harness_ws_expect_type(harness_ws *ws, const char *type, int timeout_ms, json_t **json_out) {
    *json_out = NULL;
    int64_t deadline = harness_now_ms() + timeout_ms;
    for (;;) {
        json_t *doc;
        int close_code;
        int result = harness_ws_read_json(ws, remaining_ms(deadline), &doc, &close_code);
        if (result != SB_OK) {
            diag("WebSocket: waiting for type %s: %s (close code %d)", type, sb_strerror(result), close_code);
            return result;
        }
        const char *t = json_string_value(json_object_get(doc, "type"));
        if (t && strcmp(t, type) == 0) {
            *json_out = doc;
            return SB_OK;
        }
        json_decref(doc);
    }
}

bool harness_ws_peer_gone(harness_ws *ws) {
    struct pollfd pfd = {ws->conn->fd, POLLRDHUP, 0};
    if (poll(&pfd, 1, 0) <= 0) return false;
    return (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

int harness_ws_close(harness_ws *ws, int code, int timeout_ms, int *peer_code_out) {
    if (peer_code_out) *peer_code_out = 0;
    int64_t deadline = harness_now_ms() + timeout_ms;
    if (!ws->close_sent) {
        int result = harness_ws_send_close(ws, code);
        if (result != SB_OK) return result;
    }
    for (;;) {
        harness_ws_message msg;
        int result = harness_ws_read(ws, remaining_ms(deadline), &msg);
        if (result != SB_OK) return result;
        bool is_close = msg.opcode == HARNESS_WS_CLOSE;
        if (is_close && peer_code_out) *peer_code_out = msg.close_code;
        harness_ws_message_free(&msg);
        if (is_close) return SB_OK;
    }
}

/* ---- logins ------------------------------------------------------------------------ */

static char *json_body_of(json_t *doc) {
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text) return NULL;
    char *copy = sb_strdup(text);
    free(text);
    return copy;
}

int harness_otp_request(harness_server *srv, const char *phone, int *status_out, char code_out[16],
                        char phone_e164_out[SB_PHONE_BYTES]) {
    if (status_out) *status_out = 0;
    code_out[0] = '\0';
    if (phone_e164_out) phone_e164_out[0] = '\0';
    size_t mark = harness_log_mark(srv);
    char *body = json_body_of(json_pack("{s:s}", "phone", phone));
    if (!body) return SB_ENOMEM;
    harness_response r;
    int result = harness_http_json(srv->port, "POST", "/api/auth/otp/request", NULL, body, &r);
    sb_free(body);
    if (result != SB_OK) return result;
    if (status_out) *status_out = r.status;
    const char *e164 = json_string_value(json_object_get(r.json, "phone"));
    if (r.status != 202 || !e164 || strlen(e164) >= SB_PHONE_BYTES) {
        diag("otp request for %s: status %d, body %.300s", phone, r.status, r.body);
        harness_response_free(&r);
        return SB_EPERM;
    }
    char phone_e164[SB_PHONE_BYTES];
    snprintf(phone_e164, sizeof phone_e164, "%s", e164);
    harness_response_free(&r);
    if (phone_e164_out) memcpy(phone_e164_out, phone_e164, SB_PHONE_BYTES);
    json_t *line;
    result = harness_log_wait(srv, mark, "otp.code", "phone", phone_e164, HARNESS_LOG_TIMEOUT_MS, &line);
    if (result != SB_OK) return result;
    const char *code = json_string_value(json_object_get(line, "code"));
    if (!code || strlen(code) >= 16) {
        diag("otp.code line without a \"code\" string");
        json_decref(line);
        return SB_EINVAL;
    }
    snprintf(code_out, 16, "%s", code);
    json_decref(line);
    return SB_OK;
}

static int token_from(harness_response *r, char token_out[HARNESS_TOKEN_BYTES], json_t **user_out) {
    const char *token = json_string_value(json_object_get(r->json, "token"));
    if (!token || strlen(token) != HARNESS_TOKEN_BYTES - 1) return SB_EPERM;
    memcpy(token_out, token, HARNESS_TOKEN_BYTES);
    if (user_out) {
        *user_out = json_object_get(r->json, "user");
        json_incref(*user_out);
    }
    return SB_OK;
}

int harness_customer_login(harness_server *srv, const char *phone, char token_out[HARNESS_TOKEN_BYTES],
                           json_t **user_out) {
    token_out[0] = '\0';
    if (user_out) *user_out = NULL;
    char code[16];
    int result = harness_otp_request(srv, phone, NULL, code, NULL);
    if (result != SB_OK) return result;
    char *body = json_body_of(json_pack("{s:s, s:s}", "phone", phone, "code", code));
    if (!body) return SB_ENOMEM;
    harness_response r;
    result = harness_http_json(srv->port, "POST", "/api/auth/otp/verify", NULL, body, &r);
    sb_free(body);
    if (result != SB_OK) return result;
    result = r.status == 200 ? token_from(&r, token_out, user_out) : SB_EPERM;
    if (result != SB_OK) diag("otp verify for %s: status %d, body %.300s", phone, r.status, r.body);
    harness_response_free(&r);
    return result;
}

int harness_staff_login(harness_server *srv, const char *username, const char *password,
                        char token_out[HARNESS_TOKEN_BYTES], json_t **user_out) {
    token_out[0] = '\0';
    if (user_out) *user_out = NULL;
    char *body = json_body_of(json_pack("{s:s, s:s}", "username", username, "password", password));
    if (!body) return SB_ENOMEM;
    harness_response r;
    int result = harness_http_json(srv->port, "POST", "/api/auth/login", NULL, body, &r);
    sb_free(body);
    if (result != SB_OK) return result;
    result = r.status == 200 ? token_from(&r, token_out, user_out) : SB_EPERM;
    if (result != SB_OK) diag("login %s: status %d, body %.300s", username, r.status, r.body);
    harness_response_free(&r);
    return result;
}

int harness_staff_token(harness_server *srv, const char *role, char token_out[HARNESS_TOKEN_BYTES],
                        char *username_out) {
    static int made;
    char username[SB_USERNAME_BYTES_MAX + 1], password[SB_PASSWORD_BYTES_MAX + 1];
    made++;
    snprintf(username, sizeof username, "%s.%d", role, made);
    /* Unguessable enough for a test server, and well over SB_PASSWORD_BYTES_MIN. */
    char random_part[17];
    sb_random_hex(random_part, 8);
    snprintf(password, sizeof password, "pw-%s-%s", role, random_part);
    int result = harness_user_add(srv, username, password, role, NULL);
    if (result == SB_OK) result = harness_staff_login(srv, username, password, token_out, NULL);
    if (result == SB_OK && username_out) memcpy(username_out, username, strlen(username) + 1);
    return result;
}

/* ---- helpers ------------------------------------------------------------------------ */

json_t *harness_json_path(json_t *root, const char *dotted_path) {
    json_t *node = root;
    const char *p = dotted_path;
    while (node && *p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        char key[256];
        if (len == 0 || len >= sizeof key) return NULL;
        memcpy(key, p, len);
        key[len] = '\0';
        if (json_is_array(node)) {
            char *endp;
            unsigned long idx = strtoul(key, &endp, 10);
            node = *endp ? NULL : json_array_get(node, idx);
        } else {
            node = json_object_get(node, key);
        }
        p += len;
        if (*p == '.') p++;
    }
    return node;
}

char *harness_json_text(const json_t *value) {
    if (!value) return sb_strdup("(null)");
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text) return sb_strdup("(unprintable)");
    char *copy = sb_strdup(text);
    free(text);
    return copy;
}

double harness_metrics_sum(const char *text, const char *name, const char *const *labels, bool *found_out) {
    double sum = 0;
    bool found = false;
    size_t name_len = strlen(name);
    const char *line = text;
    while (line && *line) {
        const char *eol = strchr(line, '\n');
        size_t line_len = eol ? (size_t)(eol - line) : strlen(line);
        if (line[0] != '#' && line_len > name_len && strncmp(line, name, name_len) == 0 &&
            (line[name_len] == '{' || line[name_len] == ' ')) {
            const char *value_at = line + name_len;
            bool ok = true;
            if (*value_at == '{') {
                const char *close = memchr(value_at, '}', line_len - name_len);
                if (!close) {
                    ok = false;
                } else {
                    size_t lab_len = (size_t)(close - value_at);
                    for (size_t i = 0; ok && labels && labels[i]; i++)
                        if (!memmem(value_at, lab_len, labels[i], strlen(labels[i]))) ok = false;
                    value_at = close + 1;
                }
            } else if (labels && labels[0]) {
                ok = false;
            }
            if (ok) {
                char *endp;
                double v = strtod(value_at, &endp);
                if (endp != value_at) {
                    sum += v;
                    found = true;
                }
            }
        }
        line = eol ? eol + 1 : NULL;
    }
    if (found_out) *found_out = found;
    return sum;
}

/* ---- shared fixtures of cmocka test files --------------------------------------------- */

int harness_group_up(harness_server **srv_out, char *admin_token_out) {
    int result = harness_server_up(NULL, srv_out);
    if (result != SB_OK || !admin_token_out) return result;
    result = harness_staff_token(*srv_out, "admin", admin_token_out, NULL);
    if (result != SB_OK) {
        fprintf(stderr, "harness: no admin token: %s\n", sb_strerror(result));
        if (harness_server_down(srv_out) != SB_OK) fprintf(stderr, "harness: and the server did not stop cleanly\n");
    }
    return result;
}

int harness_customer_new(harness_server *srv, const char *phone_prefix, int *counter_io,
                         char token_out[HARNESS_TOKEN_BYTES], json_int_t *user_id_out) {
    char phone[32];
    int n = snprintf(phone, sizeof phone, "%s%04d", phone_prefix, ++*counter_io);
    if (n < 0 || (size_t)n >= sizeof phone) return SB_EINVAL;
    json_t *info = NULL;
    int result = harness_customer_login(srv, phone, token_out, &info);
    if (result != SB_OK) return result;
    *user_id_out = json_integer_value(json_object_get(info, "id"));
    json_decref(info);
    return SB_OK;
}

harness_customer harness_customer_hidden(harness_server *srv, const char *phone_prefix, int *counter_io) {
    harness_customer c;
    memset(&c, 0, sizeof c); /* gcc -O3 cannot see that the call sets c.id */
    assert_int_equal(harness_customer_new(srv, phone_prefix, counter_io, c.token, &c.id), SB_OK);
    assert_true(c.id > 0);
    return c;
}

harness_customer harness_customer_next(harness_server *srv, const char *phone_prefix, int *counter_io) {
    harness_customer c = harness_customer_hidden(srv, phone_prefix, counter_io);
    harness_response r = harness_call(srv, "PUT", "/api/me/discoverable", c.token, "{\"discoverable\":true}");
    HARNESS_ASSERT_STATUS(r, 200);
    harness_response_free(&r);
    return c;
}

json_int_t harness_direct_chat(const harness_server *srv, const char *token, json_int_t peer_id) {
    char body[64];
    snprintf(body, sizeof body, "{\"user_id\":%lld}", (long long)peer_id);
    harness_response r = harness_call(srv, "POST", "/api/chats/direct", token, body);
    assert_true(r.status == 200 || r.status == 201);
    json_int_t id = harness_json_int(r.json, "id");
    harness_response_free(&r);
    return id;
}

json_int_t harness_json_int(json_t *root, const char *dotted_path) {
    json_t *v = harness_json_path(root, dotted_path);
    if (!json_is_integer(v)) {
        char *t = harness_json_text(root);
        fprintf(stderr, "no integer at %s in %s\n", dotted_path, t ? t : "?");
        sb_free(t);
    }
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

const char *harness_json_str(json_t *root, const char *dotted_path) {
    json_t *v = harness_json_path(root, dotted_path);
    return json_is_string(v) ? json_string_value(v) : "";
}

harness_response harness_call(const harness_server *srv, const char *method, const char *path, const char *token,
                              const char *json_text) {
    harness_response r;
    assert_int_equal(harness_http_json(srv->port, method, path, token, json_text, &r), SB_OK);
    return r;
}

json_t *harness_call_json(const harness_server *srv, const char *method, const char *path, const char *token,
                          json_t *body_take, int want_status) {
    char *text = body_take ? json_dumps(body_take, JSON_COMPACT) : NULL;
    json_decref(body_take);
    harness_response r = harness_call(srv, method, path, token, text);
    free(text);
    HARNESS_ASSERT_STATUS(r, want_status);
    json_t *out = r.json ? json_incref(r.json) : NULL;
    harness_response_free(&r);
    return out;
}

harness_response harness_callv(const harness_server *srv, const char *method, const char *path, const char *token,
                               const char *fmt, va_list ap) {
    char *body = NULL;
    if (fmt) {
        va_list measure;
        va_copy(measure, ap);
        int n = vsnprintf(NULL, 0, fmt, measure);
        va_end(measure);
        assert_true(n >= 0);
        body = sb_malloc((size_t)n + 1);
        assert_non_null(body);
        vsnprintf(body, (size_t)n + 1, fmt, ap);
    }
    harness_response r;
    int result = harness_http_json(srv->port, method, path, token, body, &r);
    sb_free(body);
    assert_int_equal(result, SB_OK);
    return r;
}

harness_response harness_callf(const harness_server *srv, const char *method, const char *path, const char *token,
                               const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    harness_response r = harness_callv(srv, method, path, token, fmt, ap);
    va_end(ap);
    return r;
}

json_t *harness_ledger_verify(int port, const char *admin_token) {
    harness_response r;
    assert_int_equal(harness_http_json(port, "POST", "/api/admin/ledger/verify", admin_token, NULL, &r), SB_OK);
    HARNESS_ASSERT_STATUS(r, 202);
    json_int_t id = harness_json_int(r.json, "job_id");
    const char *location = harness_header_get(&r, "location");
    char path[96];
    snprintf(path, sizeof path, "/api/admin/ledger/verify/%lld", (long long)id);
    assert_non_null(location);
    assert_string_equal(location, path);
    harness_response_free(&r);
    for (int64_t deadline = harness_now_ms() + HARNESS_VERIFY_WAIT_MS;;) {
        assert_int_equal(harness_http_get(port, path, admin_token, &r), SB_OK);
        HARNESS_ASSERT_STATUS(r, 200);
        const char *state = harness_json_str(r.json, "state");
        if (strcmp(state, "running") != 0) {
            assert_string_equal(state, "done");
            json_t *result = json_incref(json_object_get(r.json, "result"));
            harness_response_free(&r);
            assert_non_null(result);
            return result;
        }
        harness_response_free(&r);
        assert_true(harness_now_ms() < deadline);
        harness_sleep_ms(20);
    }
}
