/* Errors: one table, every code has a name and a message. */
#include <criterion/criterion.h>
#include <string.h>
#include <stdlib.h>
#include "hive/common.h"
#include "hive/bus.h"

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

Test(errors, a_bad_bus_config_names_its_field, .timeout = 5)
{
    cr_assert_null(hive_bus_create(&(hive_bus_config){ .queue_capacity = (size_t)1 << 30 }));
    cr_expect_eq(hive_create_error()->code, HIVE_EINVAL);
    cr_expect_str_eq(hive_create_error()->field, "queue_capacity");
    cr_expect_neq(strstr(hive_create_error()->message, "hive_bus_config.queue_capacity"), NULL);
    cr_assert_null(hive_bus_create(&(hive_bus_config){ .inline_bytes = 1 << 20 }));
    cr_expect_str_eq(hive_create_error()->field, "inline_bytes");
    cr_assert_null(hive_bus_create(&(hive_bus_config){ .overflow = (hive_overflow)99 }));
    cr_expect_str_eq(hive_create_error()->field, "overflow");
    hive_bus *bus = hive_bus_create(NULL);
    cr_assert_not_null(bus);
    cr_expect_eq(hive_create_error()->code, HIVE_OK, "a success clears the record");
    hive_bus_destroy(bus);
}
