/* error.c - the error table behind hive_strerror / hive_err_name. */
#include "hive/common.h"

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
