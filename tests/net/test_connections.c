/* Connection ids, per-connection user data, iteration and facts. */
#include "net_test.h"

Test(connections, ids_user_data_and_iteration, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, NULL, &(hive_client_config){ .conntype = "spectator", .app_version = "2.1" }, true);
    hive_cid a = hive_client_cid(fx.cli);
    cr_assert_gt(a, 0u);

    hive_conn_info ci;
    cr_assert_eq(hive_server_conn_info(fx.srv, a, &ci), 0);
    cr_expect_eq(ci.cid, a);
    cr_expect(ci.open);
    cr_expect_str_eq(ci.conntype, "spectator");
    cr_expect_str_eq(ci.app_version, "2.1");
    cr_expect_not_null(strstr(ci.addr, "127.0.0.1"));
    cr_expect_geq(ci.rtt_ms, 0);          /* asked on the I/O thread: known */
    cr_expect_eq(hive_server_conn_info(fx.srv, 9999, &ci), HIVE_ENOENT);

    int game_data = 42;
    cr_expect_null(hive_server_user(fx.srv, a));
    cr_assert_eq(hive_server_set_user(fx.srv, a, &game_data), 0);
    cr_expect_eq(hive_server_user(fx.srv, a), &game_data);
    cr_expect_eq(hive_server_set_user(fx.srv, 9999, &game_data), HIVE_ENOENT);

    hive_cid ids[4];
    cr_expect_eq(hive_server_connections(fx.srv, ids, 4), 1u);
    cr_expect_eq(ids[0], a);
    cr_expect_eq(hive_server_connection_count(fx.srv), 1u);

    /* Reconnecting gets a new id: ids are never reused. */
    hive_cid seen[3] = { a };
    for (int i = 1; i < 3; i++) {
        hive_client_close(fx.cli, HIVE_CLOSE_NORMAL, NULL);
        cr_assert(pump(fx.srv, fx.cli, 3000, client_gone, fx.cli));
        cr_assert_eq(hive_client_connect(fx.cli, fx.addr), 0);
        cr_assert(pump_both_open(fx.srv, fx.cli, 3000));
        seen[i] = hive_client_cid(fx.cli);
        for (int k = 0; k < i; k++) cr_expect_neq(seen[i], seen[k]);
    }
    cr_expect_null(hive_server_user(fx.srv, seen[2]), "user data leaked into a new connection");
    hive_net_stats st;
    cr_assert_eq(hive_server_stats(fx.srv, &st), 0);
    cr_expect_eq(st.accepted, 3u);
    cr_expect_eq(st.closed, 2u);
    cr_expect_gt(st.frames_in, 0u);
    cr_expect_gt(st.bytes_out, 0u);
    fx_fini(&fx);
}

Test(connections, misuse_is_refused, .timeout = 30)
{
    hive_bus *bus = hive_bus_create(NULL);
    cr_expect_null(hive_server_create(NULL, NULL));
    cr_expect_null(hive_server_create(&(hive_server_config){ .max_frame = 100 }, bus));
    cr_expect_null(hive_server_create(&(hive_server_config){ .max_connections = 5000 }, bus));
    cr_expect_null(hive_server_create(&(hive_server_config){ .heartbeat_ms = 500, .heartbeat_timeout_ms = 400 }, bus));
    cr_expect_null(hive_client_create(&(hive_client_config){ .token_len = 5 }, bus));
    hive_server_destroy(NULL);
    hive_client_destroy(NULL);

    hive_server *s = hive_server_create(&(hive_server_config){ .addr = "127.0.0.1:0" }, bus);
    cr_expect_eq(hive_server_service(s, 0), HIVE_ESTATE, "service before start");
    cr_expect_eq(hive_server_send(s, 1, "x:y", "\x80", 1), HIVE_ENOENT);
    cr_expect_eq(hive_server_bind(s, "nope://1.2.3.4:5"), HIVE_EUNSUPPORTED);
    cr_expect_eq(hive_server_bind(s, "127.0.0.1:99999"), HIVE_EADDR);
    cr_expect_eq(hive_server_start(s), 0);
    cr_expect_eq(hive_server_start(s), HIVE_ESTATE);
    cr_expect_eq(hive_server_send(s, 1, "x:y", NULL, 1), HIVE_EINVAL);
    cr_expect_eq(hive_server_shutdown(s), 0);
    cr_expect_eq(hive_server_shutdown(s), HIVE_ESTATE);
    cr_expect_eq(hive_server_start(s), HIVE_ESTATE);
    hive_server_destroy(s);

    hive_client *c = hive_client_create(NULL, bus);
    cr_expect_eq(hive_client_service(c, 0), HIVE_ESTATE);
    cr_expect_eq(hive_client_wait_connected(c, 0), HIVE_ESTATE);
    cr_expect_eq(hive_client_close(c, HIVE_CLOSE_NORMAL, NULL), HIVE_ESTATE);
    cr_expect_eq(hive_client_connect(c, "[::1"), HIVE_EADDR);
    cr_expect_eq(hive_client_connect(c, "bogus://127.0.0.1:1"), HIVE_EUNSUPPORTED);
    cr_expect_eq(hive_client_get_state(c), HIVE_CLIENT_IDLE);
    cr_expect_eq(hive_client_close_reason(c), -1);
    cr_expect_eq(hive_client_stop(c), 0);
    hive_client_destroy(c);
    hive_bus_destroy(bus);
}
