/*
 * cli_store.c - `socialbank version`, `socialbank migrate`,
 * `socialbank backup DEST` and `socialbank restore BACKUP`: the commands that
 * look after the database.
 *
 * restore puts a backup into an EMPTY data directory only (it never
 * overwrites a store): the copy goes to a temporary file beside the final
 * one, is checked there (PRAGMA integrity_check, a schema this binary knows,
 * ledger verify), made durable, and only then renamed to socialbank.db, so a
 * server never sees a half-written or unchecked database.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/core.h"
#include "ledger/ledger.h"
#include "store/store.h"

int cli_version(int argc, char **argv) {
    cli_option opts[] = {{NULL}};
    int rc;
    if (cli_begin(argc, argv, "version", "Print the version of this binary and the schema it carries.", opts, NULL, 0,
                  NULL, &rc))
        return rc;
    printf("socialbank %s (schema %d)\n", SB_VERSION, store_schema_version_latest());
    return 0;
}

int cli_migrate(int argc, char **argv) {
    cli_option opts[] = {CLI_DATA_OPTION, {NULL}};
    int rc;
    if (cli_begin(argc, argv, "migrate [--data DIR]",
                  "Create the database if needed and apply every migration this binary carries.", opts, NULL, 0, NULL,
                  &rc))
        return rc;
    store *s;
    int result = store_open(cli_value(opts, "data"), NULL, &s);
    if (result != SB_OK) {
        fprintf(stderr, "socialbank migrate: cannot open the store: %s\n", sb_strerror(result));
        return 1;
    }
    int applied = 0, version = 0;
    result = store_migrate(s, &applied);
    if (result == SB_OK) result = store_schema_version(s, &version);
    store_close(s);
    if (result != SB_OK) {
        fprintf(stderr, "socialbank migrate: %s\n", sb_strerror(result));
        return 1;
    }
    printf("schema at version %d (%d migration%s applied)\n", version, applied, applied == 1 ? "" : "s");
    return 0;
}

int cli_backup(int argc, char **argv) {
    cli_option opts[] = {CLI_DATA_OPTION, {NULL}};
    const char *pos[1];
    int npos, rc;
    if (cli_begin(argc, argv, "backup [--data DIR] DEST",
                  "Copy the live database to the file DEST with SQLite's online backup; the server may keep\n"
                  "running. DEST appears only once the copy is complete.",
                  opts, pos, 1, &npos, &rc))
        return rc;
    if (npos != 1) {
        fprintf(stderr, "socialbank backup: give the destination file (see --help)\n");
        return 2;
    }
    store *s;
    int result = store_open(cli_value(opts, "data"), NULL, &s);
    if (result != SB_OK) {
        fprintf(stderr, "socialbank backup: cannot open the store: %s\n", sb_strerror(result));
        return 1;
    }
    result = store_backup(s, pos[0]);
    store_close(s);
    if (result != SB_OK) {
        fprintf(stderr, "socialbank backup: %s\n", sb_strerror(result));
        return 1;
    }
    printf("backup written to %s\n", pos[0]);
    return 0;
}

/* ---- restore ---- */

/* SB_OK if dir does not exist (*created_out then says restore made it) or is
 * an empty directory; SB_EEXISTS if it holds anything; SB_EIO otherwise. */
static int restore_prepare_dir(const char *dir, bool *created_out) {
    *created_out = false;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno != ENOENT) return SB_EIO;
        if (mkdir(dir, 0700) != 0) return SB_EIO;
        *created_out = true;
        return SB_OK;
    }
    int result = SB_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        result = SB_EEXISTS;
        break;
    }
    closedir(d);
    return result;
}

/* Copy the file src to dst (created, must not exist) and fsync it. */
static int restore_copy(const char *src, const char *dst) {
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) return errno == ENOENT ? SB_ENOTFOUND : SB_EIO;
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        close(in);
        return SB_EIO;
    }
    char buf[64 * 1024];
    int result = SB_OK;
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            result = SB_EIO;
            break;
        }
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(out, buf + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) {
                result = SB_EIO;
                break;
            }
            done += w;
        }
        if (result != SB_OK) break;
    }
    if (result == SB_OK && fsync(out) != 0) result = SB_EIO;
    close(in);
    if (close(out) != 0 && result == SB_OK) result = SB_EIO;
    return result;
}

/* Check the database file at path: integrity, schema, ledger.  Prints what
 * is wrong on stderr. */
static int restore_check(const char *path) {
    char location[SB_PATH_BYTES_MAX + 8];
    if ((size_t)snprintf(location, sizeof location, "sqlite:%s", path) >= sizeof location) return SB_EINVAL;
    store *s;
    int result = store_open(location, NULL, &s);
    if (result != SB_OK) {
        fprintf(stderr, "socialbank restore: the backup is not a database this binary can open: %s\n",
                sb_strerror(result));
        return result;
    }
    result = store_check_integrity(s);
    if (result != SB_OK)
        fprintf(stderr, "socialbank restore: PRAGMA integrity_check failed: %s\n", sb_strerror(result));
    int version = 0;
    if (result == SB_OK) {
        result = store_schema_version(s, &version);
        if (result != SB_OK) {
            fprintf(stderr, "socialbank restore: no SocialBank schema in the backup: %s\n", sb_strerror(result));
        } else if (version > store_schema_version_latest()) {
            fprintf(stderr, "socialbank restore: the backup has schema %d, newer than this binary's %d\n", version,
                    store_schema_version_latest());
            result = SB_EINVAL;
        }
    }
    if (result == SB_OK) {
        ledger_verify_report rep;
        result = ledger_verify(s, &rep);
        if (result == SB_ECORRUPT)
            fprintf(stderr, "socialbank restore: ledger verify failed: %s\n", rep.problem);
        else if (result != SB_OK)
            fprintf(stderr, "socialbank restore: ledger verify could not run: %s\n", sb_strerror(result));
        else
            printf("checked: integrity ok, schema %d, ledger ok (%lld accounts, %lld transfers)\n", version,
                   (long long)rep.accounts, (long long)rep.transfers);
    }
    store_close(s);
    return result;
}

static int fsync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return SB_EIO;
    int result = fsync(fd) == 0 ? SB_OK : SB_EIO;
    close(fd);
    return result;
}

int cli_restore(int argc, char **argv) {
    cli_option opts[] = {CLI_DATA_OPTION, {NULL}};
    const char *pos[1];
    int npos, rc;
    if (cli_begin(argc, argv, "restore [--data DIR] BACKUP",
                  "Restore a file made by `socialbank backup` into DIR, which must be empty or absent (a store\n"
                  "is never overwritten). The copy is checked (PRAGMA integrity_check, schema, ledger verify)\n"
                  "before it becomes DIR/socialbank.db; on any failure nothing is left in DIR.",
                  opts, pos, 1, &npos, &rc))
        return rc;
    if (npos != 1) {
        fprintf(stderr, "socialbank restore: give the backup file (see --help)\n");
        return 2;
    }
    const char *dir = cli_value(opts, "data");
    char final_path[SB_PATH_BYTES_MAX], tmp_path[SB_PATH_BYTES_MAX];
    if ((size_t)snprintf(final_path, sizeof final_path, "%s/socialbank.db", dir) >= sizeof final_path ||
        (size_t)snprintf(tmp_path, sizeof tmp_path, "%s/.socialbank.db.restore", dir) >= sizeof tmp_path) {
        fprintf(stderr, "socialbank restore: the data directory path is too long\n");
        return 2;
    }
    struct stat st;
    if (stat(pos[0], &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "socialbank restore: %s is not a readable file\n", pos[0]);
        return 1;
    }
    bool created = false;
    int result = restore_prepare_dir(dir, &created);
    if (result == SB_EEXISTS) {
        fprintf(stderr, "socialbank restore: %s is not empty; restore only into an empty data directory\n", dir);
        return 1;
    }
    if (result != SB_OK) {
        fprintf(stderr, "socialbank restore: cannot use the data directory %s: %s\n", dir, strerror(errno));
        return 1;
    }
    result = restore_copy(pos[0], tmp_path);
    if (result != SB_OK) fprintf(stderr, "socialbank restore: cannot copy %s: %s\n", pos[0], sb_strerror(result));
    if (result == SB_OK) result = restore_check(tmp_path);
    if (result == SB_OK && rename(tmp_path, final_path) != 0) {
        fprintf(stderr, "socialbank restore: cannot rename into %s: %s\n", final_path, strerror(errno));
        result = SB_EIO;
    }
    if (result == SB_OK) result = fsync_dir(dir);
    if (result != SB_OK) {
        /* Leave the directory as it was: empty (or absent). */
        unlink(tmp_path);
        char side[SB_PATH_BYTES_MAX + 8];
        snprintf(side, sizeof side, "%s-wal", tmp_path);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", tmp_path);
        unlink(side);
        if (created) rmdir(dir);
        return 1;
    }
    printf("restored %s into %s\n", pos[0], final_path);
    return 0;
}
