/* close.c - close reason codes and their stable names (one table: net.h). */
#include "hive/net.h"

#include <string.h>

const char *hive_close_reason_name(int reason)
{
    switch (reason) {
#define HIVE__CLOSE_NAME(name, code, str, text) case code: return str;
    HIVE_CLOSE_REASON_MAP(HIVE__CLOSE_NAME)
#undef HIVE__CLOSE_NAME
    default: break;
    }
    if (reason >= HIVE_CLOSE_APP_MIN && reason <= HIVE_CLOSE_MAX) return "application";
    return "unknown";
}

const char *hive_close_reason_text(int reason)
{
    switch (reason) {
#define HIVE__CLOSE_TEXT(name, code, str, text) case code: return text;
    HIVE_CLOSE_REASON_MAP(HIVE__CLOSE_TEXT)
#undef HIVE__CLOSE_TEXT
    default: break;
    }
    if (reason >= HIVE_CLOSE_APP_MIN && reason <= HIVE_CLOSE_MAX) return "closed by the application";
    return "unknown reason";
}

int hive_close_reason_from_name(const char *name)
{
    if (!name) return HIVE_EINVAL;
#define HIVE__CLOSE_FIND(n, code, str, text) if (strcmp(name, str) == 0) return code;
    HIVE_CLOSE_REASON_MAP(HIVE__CLOSE_FIND)
#undef HIVE__CLOSE_FIND
    return HIVE_ENOENT;
}
