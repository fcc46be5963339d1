/*
 * store.h - the one storage interface the domain modules use.
 *
 * A store is one connection to one database.  It is not shared between
 * threads: each server thread, and the ledger's writer, opens its own.
 * Domain modules speak portable SQL with `?` positional parameters through
 * prepared statements that the store caches per connection; a backend (SQLite
 * today, PostgreSQL later) implements the operations table in store_int.h and
 * translates placeholders where it must.  No domain module includes a driver
 * header.
 *
 * Schema changes are numbered migrations embedded in the binary (one file per
 * migration under src/store/migrations/<backend>/NNNN_name.sql), applied in
 * order at start inside a transaction each, and recorded in schema_version.
 *
 * Number ranges per module, so that modules never collide:
 *   0001-0099 core and identity     0100-0199 ledger     0200-0299 payments
 *   0300-0399 text                  0400-0499 messenger  0500-0599 listening
 *   0600-0699 engage
 */
#ifndef SB_STORE_H
#define SB_STORE_H

#include <stdint.h>

#include "core/core.h"

typedef struct store store;
typedef struct store_stmt store_stmt;

/* store_step results (besides negative SB_E* errors). */
enum { STORE_DONE = 0, STORE_ROW = 1 };

typedef struct {
    /* Synchronous commit: 1 = every commit is durable (fsync); 0 = NORMAL
     * in WAL mode (durable at checkpoints). Money needs 1. */
    int durable;
    /* Open read-only (CLI inspection, verify). */
    int read_only;
    /* Page cache of this connection in KiB; 0 = the backend's default.
     * The ledger's writer needs a large one (see SB_LEDGER_WRITER_CACHE_KIB). */
    int cache_kib;
} store_options;

/* Open the database named by `location`: a directory (SQLite file
 * DIR/socialbank.db, created if missing) or "sqlite:PATH" or
 * "postgres://..." (not built yet: SB_EINVAL with a message).
 * opts may be NULL for defaults (durable).  On success *out is owned by the
 * caller, who must store_close it. */
int store_open(const char *location, const store_options *opts, store **out) SB_MUST_CHECK;
/* Close and free; finalises cached statements. NULL is allowed. */
void store_close(store *s);
/* The same pair shaped for a worker's thread_start/thread_end (core's
 * sb_worker): location is the const char * store_open takes; *local_out
 * the store (NULL on error). */
int store_open_local(void *location, void **local_out) SB_MUST_CHECK;
void store_close_local(void *location, void *local);
/* The last error message from the backend, for logs (static until next call). */
const char *store_errmsg(store *s);
/* "sqlite" or "postgres". */
const char *store_backend_name(store *s);

/* ---- schema ---- */
/* Apply every embedded migration newer than the recorded version.
 * *applied_out (may be NULL) receives how many were applied. */
int store_migrate(store *s, int *applied_out) SB_MUST_CHECK;
/* Highest applied migration number (0 for an empty database). */
int store_schema_version(store *s, int *version_out) SB_MUST_CHECK;
/* Highest migration number built into this binary. */
int store_schema_version_latest(void);

/* ---- transactions ---- */
/* Begin a write transaction (takes the write lock at once). */
int store_begin(store *s) SB_MUST_CHECK;
/* Begin a read transaction: a consistent snapshot for several queries. */
int store_begin_read(store *s) SB_MUST_CHECK;
int store_commit(store *s) SB_MUST_CHECK;
/* Roll back; safe to call when no transaction is open. */
void store_rollback(store *s);

/* ---- statements ---- */
/* Get the prepared statement for `sql` from the connection's cache (prepared
 * on first use; `sql` should be a string literal: it is the cache key by
 * content).  The statement belongs to the store; give it back with
 * store_stmt_done before asking for the same SQL again. */
int store_prepare(store *s, const char *sql, store_stmt **out) SB_MUST_CHECK;
/* Bind by 1-based position.  Text and blobs are copied. */
int store_bind_int64(store_stmt *st, int index, int64_t value) SB_MUST_CHECK;
int store_bind_text(store_stmt *st, int index, const char *text,
                    int len) SB_MUST_CHECK; /* len<0: strlen; NULL: SQL NULL */
int store_bind_blob(store_stmt *st, int index, const void *data, int len) SB_MUST_CHECK;
int store_bind_null(store_stmt *st, int index) SB_MUST_CHECK;
/* STORE_ROW, STORE_DONE, or an error: SB_EEXISTS for a unique or primary
 * key violation, SB_EBUSY when locked past the timeout, SB_EIO otherwise. */
int store_step(store_stmt *st) SB_MUST_CHECK;
int64_t store_col_int64(store_stmt *st, int col);
/* Text of a column: valid until the next step/done; NULL for SQL NULL. */
const char *store_col_text(store_stmt *st, int col);
const void *store_col_blob(store_stmt *st, int col);
int store_col_bytes(store_stmt *st, int col);
int store_col_is_null(store_stmt *st, int col);
/* Reset the statement and clear its bindings, returning it to the cache. */
void store_stmt_done(store_stmt *st);

/* ---- conveniences ---- */
/* Prepare `sql` and bind arguments described by `fmt`, one char each:
 *   'i' int64_t, 't' const char * (NULL binds SQL NULL), 'b' const void *, int len,
 *   'n' no argument, binds NULL.
 * On success *out is ready for store_step and must be given back with
 * store_stmt_done. */
int store_query(store *s, store_stmt **out, const char *sql, const char *fmt, ...) SB_MUST_CHECK;
/* Prepare, bind, step to completion, done.  For INSERT/UPDATE/DELETE. */
int store_exec(store *s, const char *sql, const char *fmt, ...) SB_MUST_CHECK;
/* Run a query that yields at most one row with one integer column.
 * SB_ENOTFOUND when there is no row. */
int store_query_int64(store *s, int64_t *out, const char *sql, const char *fmt, ...) SB_MUST_CHECK;
/* Rows changed by the last statement, and the last inserted row id. */
int64_t store_changes(store *s);
int64_t store_last_insert_id(store *s);

/* ---- maintenance ---- */
/* Copy the whole database to the file `dest_path` while others keep using it
 * (SQLite online backup).  The destination is written to a temporary file and
 * renamed, so a failed backup never leaves a half-written file. */
int store_backup(store *s, const char *dest_path) SB_MUST_CHECK;
/* Run the backend's own integrity check. */
int store_check_integrity(store *s) SB_MUST_CHECK;

/* ---- one server per database ---- */
/* Take the exclusive lock that makes a server the only one on `location`
 * (an embedded SQLite database cannot be shared by two servers: pushes and
 * in-memory state would split).  For SQLite it is an flock(2) on the file
 * "serve.lock" in the data directory (PATH.lock for "sqlite:PATH"), held
 * until store_unlock or the process ends (so a crash never leaves it stuck).
 * *fd_out gets the lock's descriptor, owned by the caller.  SB_EBUSY when
 * another process holds it, SB_EIO when the lock file cannot be opened
 * (the message in err, err_size bytes). */
int store_lock_exclusive(const char *location, int *fd_out, char *err, size_t err_size) SB_MUST_CHECK;
/* Release a lock from store_lock_exclusive (fd < 0 is fine). */
void store_unlock(int fd);

#endif /* SB_STORE_H */
