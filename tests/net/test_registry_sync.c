/*
 * The packet table: registered on the server (chosen or automatic ids,
 * duplicates refused), sent in the welcome, swapped in whole by the client.
 */
#include "net_test.h"

Test(registry_sync, register_rules, .timeout = 30)
{
    hive_bus *bus = hive_bus_create(NULL);
    hive_server *s = hive_server_create(&(hive_server_config){ .addr = "127.0.0.1:0" }, bus);
    cr_assert_not_null(s);
    cr_expect_eq(hive_server_register(s, "game:chat", 0, HIVE_RELIABLE), 64);
    cr_expect_eq(hive_server_register(s, "game:move", 200, HIVE_UNRELIABLE), 200);
    cr_expect_eq(hive_server_register(s, "game:hit", 0, HIVE_RELIABLE), 65);
    cr_expect_eq(hive_server_register(s, "game:chat", 0, HIVE_RELIABLE), HIVE_EEXIST);
    cr_expect_eq(hive_server_register(s, "game:other", 200, HIVE_RELIABLE), HIVE_EEXIST);
    cr_expect_eq(hive_server_register(s, "game:low", 5, HIVE_RELIABLE), HIVE_EINVAL);
    cr_expect_eq(hive_server_register(s, "not a name", 0, HIVE_RELIABLE), HIVE_EINVAL);
    cr_expect_eq(hive_server_packet_id(s, "game:move"), 200);
    char nb[32];
    cr_expect_str_eq(hive_server_packet_name(s, 65, nb, sizeof nb), "game:hit");
    cr_expect_null(hive_server_packet_name(s, 65, nb, 4), "a name that does not fit is not cut");
    cr_expect_null(hive_server_packet_name(s, 9999, nb, sizeof nb));
    cr_expect_gt(hive_bus_lookup(bus, "net:server.recv.game:move"), 0, "per-packet event not interned");
    cr_assert_eq(hive_server_start(s), 0);
    cr_expect_eq(hive_server_register(s, "game:late", 0, HIVE_RELIABLE), HIVE_ESTATE);
    hive_server_destroy(s);
    hive_bus_destroy(bus);
}

static int on_move_calls;
static void on_move(const hive_event *ev, void *user) { on_move_calls++; }

Test(registry_sync, client_receives_the_table, .timeout = 30)
{
    hive_bus *sbus = hive_bus_create(NULL), *cbus = hive_bus_create(NULL);
    hive_server *s = hive_server_create(&(hive_server_config){ .addr = "127.0.0.1:0" }, sbus);
    cr_assert_eq(hive_server_register(s, "game:chat", 100, HIVE_RELIABLE), 100);
    cr_assert_eq(hive_server_register(s, "game:move", 300, HIVE_UNRELIABLE), 300);
    cr_assert_eq(hive_server_start(s), 0);
    hive_client *c = hive_client_create(NULL, cbus);
    cr_expect_eq(hive_client_packet_id(c, "game:chat"), HIVE_ENOENT, "a table before any welcome");
    cr_expect_eq(hive_client_send(c, "game:chat", "\x80", 1), HIVE_ESTATE);
    cr_assert_gt(hive_bus_subscribe(cbus, "net:client.recv.game:move", on_move, NULL, NULL), 0);

    char addr[64];
    test_addr(s, addr, sizeof addr);
    cr_assert_eq(hive_client_connect(c, addr), 0);
    cr_assert(pump_both_open(s, c, 3000));
    cr_expect_eq(hive_client_packet_id(c, "game:chat"), 100);
    cr_expect_eq(hive_client_packet_id(c, "game:move"), 300);
    char buf[64];
    cr_expect_str_eq(hive_client_packet_name(c, 300, buf, sizeof buf), "game:move");
    cr_expect_null(hive_client_packet_name(c, 300, buf, 4), "too small a buffer");
    cr_expect_eq(hive_client_send(c, "game:unknown", "\x80", 1), HIVE_ENOENT);
    cr_expect_eq(hive_client_send_id(c, 101, "\x80", 1, 0), HIVE_ENOENT);

    /* The synced per-packet event works on the client. */
    on_move_calls = 0;
    hive_cid cid = hive_client_cid(c);
    for (int i = 0; i < 5 && !on_move_calls; i++) {
        cr_assert_eq(hive_server_send(s, cid, "game:move", "\x01", 1), 0);
        uint64_t end = hive_now_ns() + 300000000ull;
        while (!on_move_calls && hive_now_ns() < end) { hive_server_service(s, 1); hive_client_service(c, 1); }
    }
    cr_expect_geq(on_move_calls, 1);

    /* Another server, another table: the client's table is replaced whole. */
    hive_client_close(c, HIVE_CLOSE_NORMAL, NULL);
    cr_assert(pump(s, c, 3000, client_gone, c));
    hive_server *s2 = hive_server_create(&(hive_server_config){ .addr = "127.0.0.1:0" }, sbus);
    cr_assert_eq(hive_server_register(s2, "game:move", 0, HIVE_RELIABLE), 64);
    cr_assert_eq(hive_server_start(s2), 0);
    test_addr(s2, addr, sizeof addr);
    cr_assert_eq(hive_client_connect(c, addr), 0);
    cr_assert(pump(s2, c, 3000, client_open, c));
    cr_expect_eq(hive_client_packet_id(c, "game:move"), 64);
    cr_expect_eq(hive_client_packet_id(c, "game:chat"), HIVE_ENOENT, "old table entries survived");

    hive_client_destroy(c);
    hive_server_destroy(s);
    hive_server_destroy(s2);
    hive_bus_destroy(sbus);
    hive_bus_destroy(cbus);
}
