/*
 * error.c - names and sentences for the SB_E* error codes.
 */
#include "core/core.h"

static const struct {
    int code;
    const char *name;
    const char *sentence;
} error_table[] = {
    {SB_OK, "ok", "success"},
    {SB_ENOMEM, "out_of_memory", "out of memory"},
    {SB_EINVAL, "invalid", "invalid input"},
    {SB_ENOTFOUND, "not_found", "not found"},
    {SB_EEXISTS, "exists", "already exists"},
    {SB_EIO, "io_error", "storage or I/O error"},
    {SB_ELIMIT, "limit_exceeded", "a limit was exceeded"},
    {SB_EPERM, "forbidden", "not allowed"},
    {SB_ECONFLICT, "conflict", "conflicts with the current state"},
    {SB_EBUSY, "busy", "busy, try again"},
    {SB_ETIMEOUT, "timeout", "timed out"},
    {SB_ECORRUPT, "corrupt", "data failed its integrity check"},
    {SB_EAUTH, "unauthorized", "not authenticated"},
    {SB_ERATE, "rate_limited", "too many requests"},
    {SB_EINTERNAL, "internal", "internal error"},
    {SB_ECLOSED, "closed", "shutting down"},
};

const char *sb_error_name(int code) {
    for (size_t i = 0; i < SB_ARRAY_LEN(error_table); i++)
        if (error_table[i].code == code) return error_table[i].name;
    return "unknown_error";
}

const char *sb_strerror(int code) {
    for (size_t i = 0; i < SB_ARRAY_LEN(error_table); i++)
        if (error_table[i].code == code) return error_table[i].sentence;
    return "unknown error";
}
