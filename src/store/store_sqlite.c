/*
 * store_sqlite.c - the SQLite backend of the store (the embedded default).
 *
 * WAL journal so readers never block the writer, foreign keys on, a busy
 * timeout, synchronous=FULL for durable stores (money) and NORMAL otherwise.
 * Backups use SQLite's online backup API into a temporary file (mode 0600)
 * that is renamed into place only when complete.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_int.h"

typedef struct {
    sqlite3 *db;
} sqlite_impl;

static int map_rc(int rc) {
    switch (rc & 0xff) {
    case SQLITE_OK:
        return SB_OK;
    case SQLITE_ROW:
        return STORE_ROW;
    case SQLITE_DONE:
        return STORE_DONE;
    case SQLITE_NOMEM:
        return SB_ENOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return SB_EBUSY;
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) return SB_EEXISTS;
        return SB_ECONFLICT;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return SB_ECORRUPT;
    case SQLITE_TOOBIG:
        return SB_ELIMIT;
    case SQLITE_MISUSE:
    case SQLITE_RANGE:
        return SB_EINTERNAL;
    default:
        return SB_EIO;
    }
}

/* Resolve `location` into a database file path. A directory (created if
 * missing) holds socialbank.db; "sqlite:PATH" names the file itself. */
static int resolve_path(const char *location, char *path, size_t path_len, char *err, size_t err_len) {
    if (strncmp(location, "sqlite:", 7) == 0) {
        if ((size_t)snprintf(path, path_len, "%s", location + 7) >= path_len) return SB_EINVAL;
        return SB_OK;
    }
    struct stat st;
    if (stat(location, &st) != 0) {
        if (mkdir(location, 0700) != 0 && errno != EEXIST) {
            snprintf(err, err_len, "cannot create directory %s: %s", location, strerror(errno));
            return SB_EIO;
        }
    } else if (!S_ISDIR(st.st_mode)) {
        snprintf(err, err_len, "%s is not a directory (use sqlite:PATH for a file)", location);
        return SB_EINVAL;
    }
    if ((size_t)snprintf(path, path_len, "%s/socialbank.db", location) >= path_len) return SB_EINVAL;
    return SB_OK;
}

static int sqlite_open(const char *location, const store_options *opts, void **impl_out, char *err, size_t err_len) {
    char path[SB_PATH_BYTES_MAX + 32];
    int result = resolve_path(location, path, sizeof path, err, err_len);
    if (result != SB_OK) return result;
    sqlite_impl *impl = sb_calloc(1, sizeof *impl);
    if (!impl) return SB_ENOMEM;
    int flags = opts->read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    flags |= SQLITE_OPEN_NOMUTEX; /* one connection per thread */
    int rc = sqlite3_open_v2(path, &impl->db, flags, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, err_len, "%s", impl->db ? sqlite3_errmsg(impl->db) : "out of memory");
        sqlite3_close(impl->db);
        sb_free(impl);
        return map_rc(rc) == SB_OK ? SB_EIO : map_rc(rc);
    }
    sqlite3_busy_timeout(impl->db, SB_STORE_BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(impl->db, 1);
    char pragmas[256];
    snprintf(pragmas, sizeof pragmas,
             "%s PRAGMA foreign_keys=ON; PRAGMA synchronous=%s; PRAGMA temp_store=MEMORY; PRAGMA cache_size=%d;",
             opts->read_only ? "" : "PRAGMA journal_mode=WAL;", opts->durable ? "FULL" : "NORMAL",
             opts->cache_kib > 0 ? -opts->cache_kib : -2000);
    char *msg = NULL;
    rc = sqlite3_exec(impl->db, pragmas, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        snprintf(err, err_len, "%s", msg ? msg : sqlite3_errmsg(impl->db));
        sqlite3_free(msg);
        sqlite3_close(impl->db);
        sb_free(impl);
        return map_rc(rc);
    }
    *impl_out = impl;
    return SB_OK;
}

static void sqlite_close(void *p) {
    sqlite_impl *impl = p;
    if (!impl) return;
    sqlite3_close(impl->db);
    sb_free(impl);
}

static const char *sqlite_errmsg(void *p) { return sqlite3_errmsg(((sqlite_impl *)p)->db); }

static int sqlite_exec_script(void *p, const char *sql) {
    sqlite_impl *impl = p;
    char *msg = NULL;
    int rc = sqlite3_exec(impl->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) sb_log(SB_LOG_ERROR, "store.sqlite", "script failed: %s", msg ? msg : "?");
    sqlite3_free(msg);
    return map_rc(rc);
}

static int sqlite_prepare(void *p, const char *sql, void **stmt_out) {
    sqlite_impl *impl = p;
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v3(impl->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
    if (rc != SQLITE_OK) return map_rc(rc) == SB_OK ? SB_EINTERNAL : map_rc(rc);
    if (!stmt) return SB_EINVAL; /* empty SQL */
    *stmt_out = stmt;
    return SB_OK;
}

static void sqlite_finalize(void *stmt) { sqlite3_finalize(stmt); }
static int sqlite_bind_int64(void *stmt, int index, int64_t value) {
    return map_rc(sqlite3_bind_int64(stmt, index, value));
}
static int sqlite_bind_text(void *stmt, int index, const char *text, int len) {
    return map_rc(sqlite3_bind_text(stmt, index, text, len, SQLITE_TRANSIENT));
}
static int sqlite_bind_blob(void *stmt, int index, const void *data, int len) {
    return map_rc(sqlite3_bind_blob(stmt, index, data, len, SQLITE_TRANSIENT));
}
static int sqlite_bind_null(void *stmt, int index) { return map_rc(sqlite3_bind_null(stmt, index)); }
static int sqlite_step(void *stmt) { return map_rc(sqlite3_step(stmt)); }
static int64_t sqlite_col_int64(void *stmt, int col) { return sqlite3_column_int64(stmt, col); }
static const char *sqlite_col_text(void *stmt, int col) { return (const char *)sqlite3_column_text(stmt, col); }
static const void *sqlite_col_blob(void *stmt, int col) { return sqlite3_column_blob(stmt, col); }
static int sqlite_col_bytes(void *stmt, int col) { return sqlite3_column_bytes(stmt, col); }
static int sqlite_col_is_null(void *stmt, int col) { return sqlite3_column_type(stmt, col) == SQLITE_NULL; }
static void sqlite_reset(void *stmt) {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
}
static int64_t sqlite_changes(void *p) { return sqlite3_changes64(((sqlite_impl *)p)->db); }
static int64_t sqlite_last_insert_id(void *p) { return sqlite3_last_insert_rowid(((sqlite_impl *)p)->db); }

static int sqlite_backup(void *p, const char *dest_path) {
    sqlite_impl *impl = p;
    char tmp[SB_PATH_BYTES_MAX + 32];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.partial-%ld", dest_path, (long)getpid()) >= sizeof tmp) return SB_EINVAL;
    unlink(tmp);
    /* A backup holds everything the data directory (0700) guards: create it
     * 0600 ourselves, since SQLite would create it 0644 (less the umask);
     * its journal takes the same mode. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        sb_log(SB_LOG_ERROR, "store.backup", "cannot create %s: %s", tmp, strerror(errno));
        return SB_EIO;
    }
    close(fd);
    sqlite3 *dest = NULL;
    int rc = sqlite3_open_v2(tmp, &dest, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK) {
        sb_log(SB_LOG_ERROR, "store.backup", "cannot create %s: %s", tmp, dest ? sqlite3_errmsg(dest) : "?");
        sqlite3_close(dest);
        return SB_EIO;
    }
    sqlite3_backup *backup = sqlite3_backup_init(dest, "main", impl->db, "main");
    if (!backup) {
        sb_log(SB_LOG_ERROR, "store.backup", "backup init failed: %s", sqlite3_errmsg(dest));
        sqlite3_close(dest);
        unlink(tmp);
        return SB_EIO;
    }
    /* Copy in steps so writers are not blocked for the whole copy. */
    do {
        rc = sqlite3_backup_step(backup, 256);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(10);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    sqlite3_backup_finish(backup);
    int result = rc == SQLITE_DONE ? SB_OK : map_rc(rc);
    if (result == SB_OK) result = map_rc(sqlite3_exec(dest, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL));
    sqlite3_close(dest);
    if (result == SB_OK && rename(tmp, dest_path) != 0) {
        sb_log(SB_LOG_ERROR, "store.backup", "cannot rename into %s: %s", dest_path, strerror(errno));
        result = SB_EIO;
    }
    if (result != SB_OK) unlink(tmp);
    return result;
}

static int sqlite_check_integrity(void *p) {
    sqlite_impl *impl = p;
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(impl->db, "PRAGMA integrity_check", -1, &stmt, NULL) != SQLITE_OK) return SB_EIO;
    int result = SB_ECORRUPT;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(stmt, 0);
        if (text && strcmp(text, "ok") == 0) result = SB_OK;
    }
    sqlite3_finalize(stmt);
    return result;
}

/* flock on DIR/serve.lock (or PATH.lock): released by the kernel when the
 * process ends, however it ends. */
static int sqlite_lock_exclusive(const char *location, int *fd_out, char *err, size_t err_len) {
    char db_path[SB_PATH_BYTES_MAX + 32], path[SB_PATH_BYTES_MAX + 64];
    int result = resolve_path(location, db_path, sizeof db_path, err, err_len);
    if (result != SB_OK) return result;
    int n = strncmp(location, "sqlite:", 7) == 0 ? snprintf(path, sizeof path, "%s.lock", db_path)
                                                 : snprintf(path, sizeof path, "%s/serve.lock", location);
    if (n < 0 || (size_t)n >= sizeof path) return SB_EINVAL;
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, err_len, "cannot open the lock file %s: %s", path, strerror(errno));
        return SB_EIO;
    }
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EINTR) continue;
        int saved = errno;
        close(fd);
        if (saved == EWOULDBLOCK) {
            snprintf(err, err_len, "another server is running on %s (it holds %s)", location, path);
            return SB_EBUSY;
        }
        snprintf(err, err_len, "cannot lock %s: %s", path, strerror(saved));
        return SB_EIO;
    }
    *fd_out = fd;
    return SB_OK;
}

const store_backend_ops store_sqlite_ops = {
    .name = "sqlite",
    .open = sqlite_open,
    .close = sqlite_close,
    .errmsg = sqlite_errmsg,
    .exec_script = sqlite_exec_script,
    .prepare = sqlite_prepare,
    .finalize = sqlite_finalize,
    .bind_int64 = sqlite_bind_int64,
    .bind_text = sqlite_bind_text,
    .bind_blob = sqlite_bind_blob,
    .bind_null = sqlite_bind_null,
    .step = sqlite_step,
    .col_int64 = sqlite_col_int64,
    .col_text = sqlite_col_text,
    .col_blob = sqlite_col_blob,
    .col_bytes = sqlite_col_bytes,
    .col_is_null = sqlite_col_is_null,
    .reset = sqlite_reset,
    .changes = sqlite_changes,
    .last_insert_id = sqlite_last_insert_id,
    .backup = sqlite_backup,
    .check_integrity = sqlite_check_integrity,
    .lock_exclusive = sqlite_lock_exclusive,
    .sql_begin = "BEGIN IMMEDIATE",
    .sql_begin_read = "BEGIN",
    .migrations = store_migrations_sqlite,
};
