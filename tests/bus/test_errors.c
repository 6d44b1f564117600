/* Errors: one table, every code has a name and a message. */
#include <criterion/criterion.h>
#include <string.h>
#include <stdlib.h>
#include "hive/common.h"

Test(errors, every_code_has_name_and_message, .timeout = 5)
{
    int codes[] = {
#define CODE(name, val, msg) HIVE_E##name,
        HIVE_ERRNO_MAP(CODE)
#undef CODE
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        int e = codes[i];
        cr_expect_neq(strcmp(hive_strerror(e), "unknown error"), 0, "code %d", e);
        cr_expect_eq(strncmp(hive_err_name(e), "HIVE_E", 6), 0);
    }
    cr_expect_str_eq(hive_err_name(HIVE_ENOMEM), "HIVE_ENOMEM");
    cr_expect_str_eq(hive_strerror(0), "success");
    cr_expect_str_eq(hive_strerror(-999), "unknown error");
    cr_expect_str_eq(hive_err_name(-999), "HIVE_EUNKNOWN");
}
