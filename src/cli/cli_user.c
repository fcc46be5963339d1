/*
 * cli_user.c - `socialbank user add` and `socialbank user list`: create staff
 * accounts (the first admin in particular, before the server has anyone who
 * could create one) and list accounts as JSON lines.
 *
 * The password is read from the first line of standard input so that it
 * never appears in the process list or shell history; a pipe works.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/core.h"
#include "identity/identity.h"
#include "store/store.h"

/* Users printed per page of identity_user_list. */
#define CLI_USER_PAGE 256

/* Read the first line of stdin into out (without its line ending).
 * SB_ELIMIT if longer than SB_PASSWORD_BYTES_MAX, SB_EINVAL if absent. */
static int read_password(char *out, size_t cap) {
    if (!fgets(out, (int)cap, stdin)) return SB_EINVAL;
    size_t len = strlen(out);
    bool whole_line = len > 0 && out[len - 1] == '\n';
    if (!whole_line && !feof(stdin)) {
        int c;
        while ((c = getchar()) != EOF && c != '\n') {
        }
        return SB_ELIMIT;
    }
    if (whole_line) out[--len] = '\0';
    if (len > 0 && out[len - 1] == '\r') out[--len] = '\0';
    return SB_OK;
}

static int append_json_string(sb_buf *buf, const char *text) {
    if (!text || !*text) return sb_buf_append_str(buf, "null");
    int result = sb_buf_append_str(buf, "\"");
    if (result == SB_OK) result = sb_buf_append_json_escaped(buf, text, strlen(text));
    if (result == SB_OK) result = sb_buf_append_str(buf, "\"");
    return result;
}

static int user_add(int argc, char **argv) {
    cli_option opts[] = {
        CLI_DATA_OPTION,
        {"username", NULL, "login name: 1-64 of a-z 0-9 . _ - (capitals are folded)", NULL, false, NULL, false},
        {"role", NULL, "admin, agent, analyst or marketer", NULL, false, NULL, false},
        {"display-name", NULL, "name shown to others (default: the username)", NULL, false, NULL, false},
        {NULL},
    };
    int rc;
    if (cli_begin(argc, argv,
                  "user add --username U --role admin|agent|analyst|marketer [--display-name N] [--data DIR]",
                  "Create a staff account. The password is the first line of standard input\n"
                  "(e.g. printf '%s\\n' \"$PASSWORD\" | socialbank user add ...); 10 to 256 bytes.",
                  opts, NULL, 0, NULL, &rc))
        return rc;
    const char *username = cli_value(opts, "username"), *role_name = cli_value(opts, "role");
    const char *display_name = cli_value(opts, "display-name");
    if (!username || !role_name) {
        fprintf(stderr, "socialbank user add: --username and --role are required (see --help)\n");
        return 2;
    }
    int role;
    if (identity_role_parse(role_name, &role) != SB_OK || !(role & IDENTITY_ROLES_STAFF)) {
        fprintf(stderr, "socialbank user add: unknown role '%s' (use admin, agent, analyst or marketer)\n", role_name);
        return 1;
    }
    if (display_name && identity_display_name_check(display_name) != SB_OK) {
        fprintf(stderr,
                "socialbank user add: the display name must be 1 to %d bytes of UTF-8 without control characters\n",
                SB_DISPLAY_NAME_BYTES_MAX);
        return 1;
    }
    char password[SB_PASSWORD_BYTES_MAX + 3] = "";
    int result = read_password(password, sizeof password);
    size_t password_len = strlen(password);
    if (result == SB_EINVAL) {
        fprintf(stderr, "socialbank user add: give the password as the first line of standard input\n");
        return 1;
    }
    if (result != SB_OK || password_len < SB_PASSWORD_BYTES_MIN || password_len > SB_PASSWORD_BYTES_MAX) {
        sodium_memzero(password, sizeof password);
        fprintf(stderr, "socialbank user add: the password must be %d to %d bytes (got %s)\n", SB_PASSWORD_BYTES_MIN,
                SB_PASSWORD_BYTES_MAX, result == SB_ELIMIT ? "more" : "fewer");
        return 1;
    }

    store *s;
    result = store_open(cli_value(opts, "data"), NULL, &s);
    if (result != SB_OK) {
        sodium_memzero(password, sizeof password);
        fprintf(stderr, "socialbank user add: cannot open the store: %s\n", sb_strerror(result));
        return 1;
    }
    result = store_migrate(s, NULL);
    int64_t id = 0;
    if (result == SB_OK) result = identity_staff_create(s, username, password, role, &id);
    sodium_memzero(password, sizeof password);
    if (result == SB_OK && display_name) result = identity_profile_update(s, id, display_name, NULL);
    identity_principal user;
    if (result == SB_OK) result = identity_user_get(s, id, &user);
    store_close(s);
    if (result == SB_EEXISTS) {
        fprintf(stderr, "socialbank user add: the username '%s' is taken\n", username);
        return 1;
    }
    if (result == SB_EINVAL) {
        fprintf(stderr, "socialbank user add: the username must be 1 to %d of a-z, 0-9, '.', '_' and '-'\n",
                SB_USERNAME_BYTES_MAX);
        return 1;
    }
    if (result != SB_OK) {
        fprintf(stderr, "socialbank user add: %s\n", sb_strerror(result));
        return 1;
    }
    sb_buf out;
    sb_buf_init(&out, 4096);
    result = sb_buf_printf(&out, "{\"id\":%lld,\"username\":", (long long)user.user_id);
    if (result == SB_OK) result = append_json_string(&out, user.username);
    if (result == SB_OK) result = sb_buf_printf(&out, ",\"role\":\"%s\"}\n", identity_role_name(user.role));
    if (result != SB_OK) {
        fprintf(stderr, "socialbank user add: created user %lld but could not print it: %s\n", (long long)id,
                sb_strerror(result));
        return 1;
    }
    fwrite(out.data, 1, out.len, stdout);
    sb_buf_free(&out);
    return 0;
}

static int user_list(int argc, char **argv) {
    cli_option opts[] = {
        CLI_DATA_OPTION,
        {"role", NULL, "only this role (customer, admin, agent, analyst, marketer)", NULL, false, NULL, false},
        {NULL},
    };
    int rc;
    if (cli_begin(argc, argv, "user list [--role R] [--data DIR]",
                  "Print every account, one JSON object a line:\n"
                  "{\"id\":N,\"role\":\"admin\",\"username\":\"u\",\"phone\":null,\"display_name\":\"...\"}",
                  opts, NULL, 0, NULL, &rc))
        return rc;
    int roles = IDENTITY_ROLES_ANY;
    const char *role_name = cli_value(opts, "role");
    if (role_name && identity_role_parse(role_name, &roles) != SB_OK) {
        fprintf(stderr, "socialbank user list: unknown role '%s'\n", role_name);
        return 1;
    }
    store *s;
    int result = store_open(cli_value(opts, "data"), &(store_options){.durable = 1, .read_only = 1}, &s);
    if (result != SB_OK) {
        fprintf(
            stderr,
            "socialbank user list: cannot open the store in %s: %s (has it been created with `socialbank migrate`?)\n",
            cli_value(opts, "data"), sb_strerror(result));
        return 1;
    }
    identity_principal *page = sb_calloc(CLI_USER_PAGE, sizeof *page);
    sb_buf out;
    sb_buf_init(&out, 4096);
    int64_t after_id = 0;
    size_t count = CLI_USER_PAGE;
    result = page ? SB_OK : SB_ENOMEM;
    while (result == SB_OK && count == CLI_USER_PAGE) {
        result = identity_user_list(s, roles, after_id, page, CLI_USER_PAGE, &count);
        for (size_t i = 0; result == SB_OK && i < count; i++) {
            const identity_principal *u = &page[i];
            sb_buf_reset(&out);
            result = sb_buf_printf(&out, "{\"id\":%lld,\"role\":\"%s\",\"username\":", (long long)u->user_id,
                                   identity_role_name(u->role));
            if (result == SB_OK) result = append_json_string(&out, u->username);
            if (result == SB_OK) result = sb_buf_append_str(&out, ",\"phone\":");
            if (result == SB_OK) result = append_json_string(&out, u->phone);
            if (result == SB_OK) result = sb_buf_append_str(&out, ",\"display_name\":\"");
            if (result == SB_OK) result = sb_buf_append_json_escaped(&out, u->display_name, strlen(u->display_name));
            if (result == SB_OK) result = sb_buf_append_str(&out, "\"}\n");
            if (result == SB_OK) fwrite(out.data, 1, out.len, stdout);
            after_id = u->user_id;
        }
    }
    sb_buf_free(&out);
    sb_free(page);
    store_close(s);
    if (result != SB_OK) {
        fprintf(stderr, "socialbank user list: %s (has the store been migrated?)\n", sb_strerror(result));
        return 1;
    }
    return 0;
}

int cli_user(int argc, char **argv) {
    static char add_name[] = "user add", list_name[] = "user list";
    if (argc >= 2 && strcmp(argv[1], "add") == 0) {
        argv[1] = add_name;
        return user_add(argc - 1, argv + 1);
    }
    if (argc >= 2 && strcmp(argv[1], "list") == 0) {
        argv[1] = list_name;
        return user_list(argc - 1, argv + 1);
    }
    bool help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
    fprintf(help ? stdout : stderr, "usage: socialbank user add|list [OPTIONS]\n\n"
                                    "  add    create a staff account (password on the first line of stdin)\n"
                                    "  list   print accounts as JSON lines\n\n"
                                    "'socialbank user add --help' describes each.\n");
    return help ? 0 : 2;
}
