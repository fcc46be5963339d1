/*
 * store_int.h - what a storage backend implements (like SQLite's VFS or
 * curl's TLS backends): one table of operations, plus its embedded
 * migrations.  Only src/store/ includes this file.
 */
#ifndef SB_STORE_INT_H
#define SB_STORE_INT_H

#include <stddef.h>

#include "store/store.h"

typedef struct {
    int version;      /* NNNN from the file name */
    const char *name; /* the rest of the file name */
    const char *sql;  /* the whole file */
} store_migration;

typedef struct store_backend_ops {
    const char *name;
    /* Open a connection; on failure write a message to err. */
    int (*open)(const char *location, const store_options *opts, void **impl_out, char *err, size_t err_len);
    void (*close)(void *impl);
    const char *(*errmsg)(void *impl);
    /* Run a script of several statements without parameters (migrations). */
    int (*exec_script)(void *impl, const char *sql);
    int (*prepare)(void *impl, const char *sql, void **stmt_out);
    void (*finalize)(void *stmt);
    int (*bind_int64)(void *stmt, int index, int64_t value);
    int (*bind_text)(void *stmt, int index, const char *text, int len);
    int (*bind_blob)(void *stmt, int index, const void *data, int len);
    int (*bind_null)(void *stmt, int index);
    int (*step)(void *stmt);
    int64_t (*col_int64)(void *stmt, int col);
    const char *(*col_text)(void *stmt, int col);
    const void *(*col_blob)(void *stmt, int col);
    int (*col_bytes)(void *stmt, int col);
    int (*col_is_null)(void *stmt, int col);
    void (*reset)(void *stmt);
    int64_t (*changes)(void *impl);
    int64_t (*last_insert_id)(void *impl);
    int (*backup)(void *impl, const char *dest_path);
    int (*check_integrity)(void *impl);
    /* The one-server lock of location (store_lock_exclusive). */
    int (*lock_exclusive)(const char *location, int *fd_out, char *err, size_t err_len);
    const char *sql_begin;      /* e.g. "BEGIN IMMEDIATE" */
    const char *sql_begin_read; /* e.g. "BEGIN" */
    const store_migration *migrations; /* sorted, ends with {0, NULL, NULL} */
} store_backend_ops;

extern const store_backend_ops store_sqlite_ops;
extern const store_migration store_migrations_sqlite[];

#endif /* SB_STORE_INT_H */
