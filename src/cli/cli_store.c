/*
 * cli_store.c - `socialbank version`, `socialbank migrate` and
 * `socialbank backup DEST`: the commands that look after the database.
 */
#include <stdio.h>

#include "cli/cli.h"
#include "core/core.h"
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
