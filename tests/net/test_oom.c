/*
 * Out of memory on every create path: fail the Nth allocation (and every
 * one after it) for each N, through server create/register/start and
 * client create/connect. Each call must succeed or report HIVE_ENOMEM /
 * NULL (HIVE_EIO when ENet's own host allocation fails), and nothing may
 * leak. ENet's allocations go through the same hook.
 */
#include "net_test.h"

#include "tests/support/failalloc.h"

#define OK_OR_NOMEM(rc)                                                                   \
    cr_assert((rc) >= 0 || (rc) == HIVE_ENOMEM || (rc) == HIVE_EIO, "%s: %s at failure %ld", \
              #rc, hive_err_name(rc), failalloc_at)

/* Returns true when every step succeeded. */
static bool server_script(void)
{
    bool all = false;
    failalloc_nth = failalloc_live = 0;
    hive_set_allocator(&failalloc);
    hive_bus *bus = hive_bus_create(NULL);
    if (!bus) goto out;
    hive_server *s = hive_server_create(&(hive_server_config){ .addr = "127.0.0.1:0" }, bus);
    if (s) {
        int rc = hive_server_register(s, "game:chat", 0, HIVE_RELIABLE);
        OK_OR_NOMEM(rc);
        int rc2 = hive_server_register(s, "game:move", 0, HIVE_UNRELIABLE);
        OK_OR_NOMEM(rc2);
        int rc3 = hive_server_start(s);
        OK_OR_NOMEM(rc3);
        if (rc3 == 0) cr_assert_gt(hive_server_port(s), 0);
        all = rc > 0 && rc2 > 0 && rc3 == 0;
        hive_server_destroy(s);
    }
    hive_bus_destroy(bus);
out:
    hive_set_allocator(NULL);
    cr_assert_eq(failalloc_live, 0, "%ld blocks leaked at failure %ld", failalloc_live, failalloc_at);
    return all;
}

static bool client_script(void)
{
    bool all = false;
    failalloc_nth = failalloc_live = 0;
    hive_set_allocator(&failalloc);
    hive_bus *bus = hive_bus_create(NULL);
    if (!bus) goto out;
    hive_client *c = hive_client_create(&(hive_client_config){ .token = "tok", .token_len = 3 }, bus);
    if (c) {
        int rc = hive_client_connect(c, "127.0.0.1:9");
        OK_OR_NOMEM(rc);
        if (rc == 0) hive_client_service(c, 0);
        all = rc == 0;
        hive_client_destroy(c);
    }
    hive_bus_destroy(bus);
out:
    hive_set_allocator(NULL);
    cr_assert_eq(failalloc_live, 0, "%ld blocks leaked at failure %ld", failalloc_live, failalloc_at);
    return all;
}

Test(oom, server_create_register_start, .timeout = 30)
{
    long n;
    for (n = 1; n < 2000; n++) {
        failalloc_at = n;
        failalloc_persistent = true;
        if (server_script()) break;
    }
    cr_expect_lt(n, 2000, "the script never succeeded");
    cr_expect_gt(n, 10, "suspiciously few allocations");
}

Test(oom, client_create_connect, .timeout = 30)
{
    long n;
    for (n = 1; n < 2000; n++) {
        failalloc_at = n;
        failalloc_persistent = true;
        if (client_script()) break;
    }
    cr_expect_lt(n, 2000, "the script never succeeded");
    cr_expect_gt(n, 10, "suspiciously few allocations");
}
