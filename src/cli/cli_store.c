/*
 * cli_store.c - `socialbank version`, `socialbank migrate` and
 * `socialbank backup DEST`: the commands that look after the database.
 *
 * A backup carries the media of chats in DEST.media/ (same layout as
 * DATA/media: ab/cdef..., hard links when on the same file system, else
 * copies).  Order: the files are copied, the database is copied to a
 * temporary name, the files are copied again (those uploaded meanwhile),
 * and only then is the database renamed to DEST - so a DEST that exists
 * has every file its rows name.  Restore (`socialbank restore`) puts
 * DEST.media back with media_restore_dir before the database.
 */
#include <stdio.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/core.h"
#include "media/media.h"
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
                  "Copy the live database to the file DEST with SQLite's online backup, and the media of\n"
                  "chats to the directory DEST.media; the server may keep running. DEST appears only once\n"
                  "both copies are complete.",
                  opts, pos, 1, &npos, &rc))
        return rc;
    if (npos != 1) {
        fprintf(stderr, "socialbank backup: give the destination file (see --help)\n");
        return 2;
    }
    const char *data = cli_value(opts, "data");
    char media_dest[SB_PATH_BYTES_MAX], db_tmp[SB_PATH_BYTES_MAX];
    if (media_backup_path(pos[0], media_dest, sizeof media_dest) != SB_OK ||
        snprintf(db_tmp, sizeof db_tmp, "%s.db-partial", pos[0]) >= (int)sizeof db_tmp) {
        fprintf(stderr, "socialbank backup: the destination path is too long\n");
        return 2;
    }
    store *s;
    int result = store_open(data, NULL, &s);
    if (result != SB_OK) {
        fprintf(stderr, "socialbank backup: cannot open the store: %s\n", sb_strerror(result));
        return 1;
    }
    result = media_backup_dir(data, media_dest);
    if (result == SB_OK) result = store_backup(s, db_tmp);
    store_close(s);
    if (result == SB_OK) result = media_backup_dir(data, media_dest); /* files uploaded meanwhile */
    if (result == SB_OK && rename(db_tmp, pos[0]) != 0) result = SB_EIO;
    if (result != SB_OK) {
        (void)unlink(db_tmp);
        fprintf(stderr, "socialbank backup: %s\n", sb_strerror(result));
        return 1;
    }
    printf("backup written to %s (media in %s)\n", pos[0], media_dest);
    return 0;
}
