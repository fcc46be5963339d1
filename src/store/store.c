/*
 * store.c - the backend-independent half of the store: dispatch through the
 * operations table, the per-connection prepared statement cache, argument
 * binding helpers and the migration runner.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store/store_int.h"

#define STMT_CACHE_SLOTS (SB_STORE_STMT_CACHE_MAX * 2) /* open addressing, half full at most */

struct store_stmt {
    store *owner;
    void *impl;
    char *sql;   /* owned copy: the cache key */
    bool cached; /* false: finalised at done */
    bool in_use;
};

struct store {
    const store_backend_ops *ops;
    void *impl;
    store_stmt *cache[STMT_CACHE_SLOTS];
    int cache_count;
    bool in_transaction;
    char err[256];
};

static uint64_t sql_hash(const char *s) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

int store_open(const char *location, const store_options *opts, store **out) {
    static const store_options defaults = {.durable = 1, .read_only = 0};
    *out = NULL;
    if (!location || !*location || strlen(location) >= SB_PATH_BYTES_MAX) return SB_EINVAL;
    if (!opts) opts = &defaults;
    const store_backend_ops *ops = &store_sqlite_ops;
    if (strncmp(location, "postgres://", 11) == 0 || strncmp(location, "postgresql://", 13) == 0) {
        sb_log(SB_LOG_ERROR, "store.open", "the PostgreSQL backend is not built into this binary yet");
        return SB_EINVAL;
    }
    store *s = sb_calloc(1, sizeof *s);
    if (!s) return SB_ENOMEM;
    s->ops = ops;
    int result = ops->open(location, opts, &s->impl, s->err, sizeof s->err);
    if (result != SB_OK) {
        sb_log(SB_LOG_ERROR, "store.open", "cannot open %s: %s", location, s->err);
        sb_free(s);
        return result;
    }
    *out = s;
    return SB_OK;
}

int store_lock_exclusive(const char *location, int *fd_out, char *err, size_t err_size) {
    *fd_out = -1;
    if (!location || !*location || strlen(location) >= SB_PATH_BYTES_MAX) return SB_EINVAL;
    /* PostgreSQL (when built) is shared by several nodes: no lock there */
    if (strncmp(location, "postgres://", 11) == 0 || strncmp(location, "postgresql://", 13) == 0) return SB_OK;
    return store_sqlite_ops.lock_exclusive(location, fd_out, err, err_size);
}

void store_unlock(int fd) {
    if (fd >= 0) close(fd);
}

void store_close(store *s) {
    if (!s) return;
    if (s->in_transaction) store_rollback(s);
    for (int i = 0; i < STMT_CACHE_SLOTS; i++) {
        store_stmt *st = s->cache[i];
        if (!st) continue;
        s->ops->finalize(st->impl);
        sb_free(st->sql);
        sb_free(st);
    }
    s->ops->close(s->impl);
    sb_free(s);
}

int store_open_local(void *location, void **local_out) {
    store *s = NULL;
    int result = store_open(location, NULL, &s);
    *local_out = s;
    return result;
}

void store_close_local(void *location, void *local) {
    (void)location;
    store_close(local);
}

const char *store_errmsg(store *s) { return s->ops->errmsg(s->impl); }
const char *store_backend_name(store *s) { return s->ops->name; }

/* ---- transactions ---- */

static int exec_plain(store *s, const char *sql) {
    store_stmt *st;
    int result = store_prepare(s, sql, &st);
    if (result != SB_OK) return result;
    result = store_step(st);
    store_stmt_done(st);
    return result < 0 ? result : SB_OK;
}

int store_begin(store *s) {
    SB_DEBUG_ASSERT(!s->in_transaction);
    int result = exec_plain(s, s->ops->sql_begin);
    if (result == SB_OK) s->in_transaction = true;
    return result;
}

int store_begin_read(store *s) {
    SB_DEBUG_ASSERT(!s->in_transaction);
    int result = exec_plain(s, s->ops->sql_begin_read);
    if (result == SB_OK) s->in_transaction = true;
    return result;
}

int store_commit(store *s) {
    int result = exec_plain(s, "COMMIT");
    if (result == SB_OK) {
        s->in_transaction = false;
    } else {
        store_rollback(s);
    }
    return result;
}

void store_rollback(store *s) {
    if (!s->in_transaction) return;
    /* Not through the statement cache: a rollback must not depend on an
     * allocation succeeding, or a failed one would leave the backend's
     * transaction open while we believe it closed. */
    int result = s->ops->exec_script(s->impl, "ROLLBACK");
    if (result != SB_OK) sb_log(SB_LOG_WARN, "store.rollback", "rollback failed: %s", store_errmsg(s));
    s->in_transaction = false;
}

/* ---- statements ---- */

int store_prepare(store *s, const char *sql, store_stmt **out) {
    *out = NULL;
    uint64_t h = sql_hash(sql);
    size_t slot = (size_t)(h % STMT_CACHE_SLOTS);
    for (int probe = 0; probe < STMT_CACHE_SLOTS; probe++) {
        store_stmt *st = s->cache[slot];
        if (!st) break;
        if (strcmp(st->sql, sql) == 0) {
            if (st->in_use) break; /* re-entrant use of the same SQL: prepare an uncached copy */
            st->in_use = true;
            *out = st;
            return SB_OK;
        }
        slot = (slot + 1) % STMT_CACHE_SLOTS;
    }
    store_stmt *st = sb_calloc(1, sizeof *st);
    if (!st) return SB_ENOMEM;
    st->owner = s;
    st->sql = sb_strdup(sql);
    if (!st->sql) {
        sb_free(st);
        return SB_ENOMEM;
    }
    int result = s->ops->prepare(s->impl, sql, &st->impl);
    if (result != SB_OK) {
        sb_log(SB_LOG_ERROR, "store.prepare", "cannot prepare statement: %s", store_errmsg(s));
        sb_free(st->sql);
        sb_free(st);
        return result;
    }
    st->in_use = true;
    if (s->cache_count < SB_STORE_STMT_CACHE_MAX && !s->cache[slot]) {
        st->cached = true;
        s->cache[slot] = st;
        s->cache_count++;
    }
    *out = st;
    return SB_OK;
}

int store_bind_int64(store_stmt *st, int index, int64_t value) {
    return st->owner->ops->bind_int64(st->impl, index, value);
}

int store_bind_text(store_stmt *st, int index, const char *text, int len) {
    if (!text) return st->owner->ops->bind_null(st->impl, index);
    return st->owner->ops->bind_text(st->impl, index, text, len < 0 ? (int)strlen(text) : len);
}

int store_bind_blob(store_stmt *st, int index, const void *data, int len) {
    if (!data) return st->owner->ops->bind_null(st->impl, index);
    return st->owner->ops->bind_blob(st->impl, index, data, len);
}

int store_bind_null(store_stmt *st, int index) { return st->owner->ops->bind_null(st->impl, index); }
int store_step(store_stmt *st) { return st->owner->ops->step(st->impl); }
int64_t store_col_int64(store_stmt *st, int col) { return st->owner->ops->col_int64(st->impl, col); }
const char *store_col_text(store_stmt *st, int col) { return st->owner->ops->col_text(st->impl, col); }
const void *store_col_blob(store_stmt *st, int col) { return st->owner->ops->col_blob(st->impl, col); }
int store_col_bytes(store_stmt *st, int col) { return st->owner->ops->col_bytes(st->impl, col); }
int store_col_is_null(store_stmt *st, int col) { return st->owner->ops->col_is_null(st->impl, col); }

void store_stmt_done(store_stmt *st) {
    if (!st) return;
    st->owner->ops->reset(st->impl);
    if (st->cached) {
        st->in_use = false;
        return;
    }
    st->owner->ops->finalize(st->impl);
    sb_free(st->sql);
    sb_free(st);
}

static int bind_args(store_stmt *st, const char *fmt, va_list ap) {
    int index = 1;
    for (const char *f = fmt ? fmt : ""; *f; f++, index++) {
        int result;
        switch (*f) {
        case 'i':
            result = store_bind_int64(st, index, va_arg(ap, int64_t));
            break;
        case 't':
            result = store_bind_text(st, index, va_arg(ap, const char *), -1);
            break;
        case 'b': {
            const void *data = va_arg(ap, const void *);
            int len = va_arg(ap, int);
            result = store_bind_blob(st, index, data, len);
            break;
        }
        case 'n':
            result = store_bind_null(st, index);
            break;
        default:
            result = SB_EINTERNAL;
            break;
        }
        if (result != SB_OK) return result;
    }
    return SB_OK;
}

static int vquery(store *s, store_stmt **out, const char *sql, const char *fmt, va_list ap) {
    int result = store_prepare(s, sql, out);
    if (result != SB_OK) return result;
    result = bind_args(*out, fmt, ap);
    if (result != SB_OK) {
        store_stmt_done(*out);
        *out = NULL;
    }
    return result;
}

int store_query(store *s, store_stmt **out, const char *sql, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int result = vquery(s, out, sql, fmt, ap);
    va_end(ap);
    return result;
}

int store_exec(store *s, const char *sql, const char *fmt, ...) {
    store_stmt *st;
    va_list ap;
    va_start(ap, fmt);
    int result = vquery(s, &st, sql, fmt, ap);
    va_end(ap);
    if (result != SB_OK) return result;
    do {
        result = store_step(st);
    } while (result == STORE_ROW);
    store_stmt_done(st);
    return result < 0 ? result : SB_OK;
}

int store_query_int64(store *s, int64_t *out, const char *sql, const char *fmt, ...) {
    store_stmt *st;
    va_list ap;
    va_start(ap, fmt);
    int result = vquery(s, &st, sql, fmt, ap);
    va_end(ap);
    if (result != SB_OK) return result;
    result = store_step(st);
    if (result == STORE_ROW) {
        *out = store_col_int64(st, 0);
        result = SB_OK;
    } else if (result == STORE_DONE) {
        result = SB_ENOTFOUND;
    }
    store_stmt_done(st);
    return result;
}

int64_t store_changes(store *s) { return s->ops->changes(s->impl); }
int64_t store_last_insert_id(store *s) { return s->ops->last_insert_id(s->impl); }

/* ---- schema ---- */

int store_schema_version_latest(void) {
    int latest = 0;
    for (const store_migration *m = store_migrations_sqlite; m->sql; m++)
        if (m->version > latest) latest = m->version;
    return latest;
}

static int ensure_version_table(store *s) {
    return s->ops->exec_script(s->impl, "CREATE TABLE IF NOT EXISTS schema_version ("
                                        " version INTEGER PRIMARY KEY,"
                                        " name TEXT NOT NULL,"
                                        " applied_at_ms INTEGER NOT NULL)");
}

int store_schema_version(store *s, int *version_out) {
    *version_out = 0;
    int result = ensure_version_table(s);
    if (result != SB_OK) return result;
    int64_t version = 0;
    result = store_query_int64(s, &version, "SELECT COALESCE(MAX(version), 0) FROM schema_version", NULL);
    if (result != SB_OK) return result;
    *version_out = (int)version;
    return SB_OK;
}

int store_migrate(store *s, int *applied_out) {
    if (applied_out) *applied_out = 0;
    int current;
    int result = store_schema_version(s, &current);
    if (result != SB_OK) return result;
    const store_migration *list = s->ops->migrations;
    size_t count = 0;
    while (list[count].sql)
        count++;
    /* The generated list is sorted; check rather than trust. */
    for (size_t i = 1; i < count; i++)
        SB_ASSERT(list[i - 1].version < list[i].version);
    /* Every migration not yet recorded is applied, in number order, even one
     * numbered below the highest recorded: modules own ranges of numbers
     * (store.h), so a module's new migration may sort below another module's
     * older one, and an upgraded database must still get it.  A migration
     * depends only on lower-numbered ones, which are all applied by then. */
    (void)current;
    int applied = 0;
    for (size_t i = 0; i < count; i++) {
        int64_t recorded = 0;
        result = store_query_int64(s, &recorded, "SELECT COUNT(*) FROM schema_version WHERE version = ?", "i",
                                   (int64_t)list[i].version);
        if (result != SB_OK) return result;
        if (recorded) continue;
        result = store_begin(s);
        if (result != SB_OK) return result;
        result = s->ops->exec_script(s->impl, list[i].sql);
        if (result == SB_OK)
            result = store_exec(s, "INSERT INTO schema_version(version, name, applied_at_ms) VALUES (?, ?, ?)", "iti",
                                (int64_t)list[i].version, list[i].name, sb_now_ms());
        if (result != SB_OK) {
            sb_log(SB_LOG_ERROR, "store.migrate", "migration %04d_%s failed: %s", list[i].version, list[i].name,
                   store_errmsg(s));
            store_rollback(s);
            return result;
        }
        result = store_commit(s);
        if (result != SB_OK) return result;
        sb_log(SB_LOG_INFO, "store.migrate", "applied migration %04d_%s", list[i].version, list[i].name);
        applied++;
    }
    if (applied_out) *applied_out = applied;
    return SB_OK;
}

/* ---- maintenance ---- */

int store_backup(store *s, const char *dest_path) {
    if (!dest_path || !*dest_path || strlen(dest_path) >= SB_PATH_BYTES_MAX) return SB_EINVAL;
    return s->ops->backup(s->impl, dest_path);
}

int store_check_integrity(store *s) { return s->ops->check_integrity(s->impl); }
