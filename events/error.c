/* error.c - the error table behind hive_strerror / hive_err_name. */
#include "events/internal.h"

#include <stdarg.h>
#include <stdio.h>

const char *hive_strerror(int err)
{
    if (err >= 0) return "success";
    switch (err) {
#define HIVE__ERRNO_MSG(name, val, msg) case HIVE_E##name: return msg;
    HIVE_ERRNO_MAP(HIVE__ERRNO_MSG)
#undef HIVE__ERRNO_MSG
    default: return "unknown error";
    }
}

const char *hive_err_name(int err)
{
    if (err >= 0) return "HIVE_OK";
    switch (err) {
#define HIVE__ERRNO_NAME(name, val, msg) case HIVE_E##name: return "HIVE_E" #name;
    HIVE_ERRNO_MAP(HIVE__ERRNO_NAME)
#undef HIVE__ERRNO_NAME
    default: return "HIVE_EUNKNOWN";
    }
}

/* The per-thread record behind hive_create_error(). field points at a
 * string literal of the caller's, so it never dangles. */
static _Thread_local hive_create_error_info g_create_error = { HIVE_OK, "", "" };

const hive_create_error_info *hive_create_error(void) { return &g_create_error; }

int hive__create_fail(int code, const char *field, const char *fmt, ...)
{
    g_create_error.code = code;
    g_create_error.field = field ? field : "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_create_error.message, sizeof g_create_error.message, fmt, ap);
    va_end(ap);
    return code;
}

void hive__create_ok(void)
{
    g_create_error.code = HIVE_OK;
    g_create_error.field = "";
    g_create_error.message[0] = '\0';
}
