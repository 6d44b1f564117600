/* Servers and clients attached to an engine: the loop services them, and
 * waits inside them between frames. */
#include <hive/net.h>
#include "engine_util.h"

typedef struct session { hive_engine *e; int handshakes, messages; } session;

static void on_handshake(const hive_event *ev, void *user)
{
    session *s = user;
    s->handshakes++;
    hive_client *c = hive_event_ptr(ev, "client");
    if (c) {
        hive_msg m;
        hive_msg_init(&m);
        hive_msg_map(&m, 1);
        hive_msg_kv_str(&m, "text", "hello");
        hive_client_send_msg(c, "test:hello", &m);
        hive_msg_free(&m);
    }
}

static void on_hello(const hive_event *ev, void *user)
{
    session *s = user;
    s->messages++;
    hive_engine_stop(s->e);
}

static void give_up(hive_engine *e, int timer, void *user) { hive_engine_stop(e); }

Test(attach, server_and_client_in_one_loop, .timeout = 10)
{
    hive_bus *bus = hive_bus_create(NULL);
    hive_engine *e = hive_engine_create(&(hive_engine_config){ .bus = bus });
    hive_server *srv = hive_server_create(&(hive_server_config){ .addr = "127.0.0.1:0" }, bus);
    cr_assert_not_null(srv);
    cr_assert_gt(hive_server_register(srv, "test:hello", 0, HIVE_RELIABLE), 0);
    cr_assert_eq(hive_server_start(srv), HIVE_OK);
    hive_client *cli = hive_client_create(NULL, bus);
    cr_assert_not_null(cli);

    session s = { .e = e };
    hive_bus_subscribe(bus, HIVE_EV_SERVER_HANDSHAKE, on_handshake, &s, NULL);
    hive_bus_subscribe(bus, HIVE_EV_CLIENT_HANDSHAKE, on_handshake, &s, NULL);
    hive_bus_subscribe(bus, HIVE_EV_SERVER_RECV_PREFIX "test:hello", on_hello, &s, NULL);

    int a = hive_engine_attach_server(e, srv);
    int b = hive_engine_attach_client(e, cli);
    cr_assert_gt(a, 0);
    cr_assert_gt(b, a);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", hive_server_port(srv));
    cr_assert_eq(hive_client_connect(cli, addr), HIVE_OK);
    hive_engine_after(e, 5000, give_up, NULL);
    cr_assert_eq(hive_engine_run(e), HIVE_OK);

    cr_expect_eq(s.handshakes, 2, "both ends completed the handshake");
    cr_expect_eq(s.messages, 1, "the client's message reached the server");
    hive_engine_counters st;
    hive_engine_stats(e, &st);
    cr_expect_eq(st.service_errors, 0);

    cr_expect_eq(hive_engine_remove_service(e, b), HIVE_OK);
    cr_expect_eq(hive_engine_remove_service(e, a), HIVE_OK);
    hive_client_destroy(cli);
    hive_server_destroy(srv);
    hive_engine_destroy(e);
    hive_bus_destroy(bus);
}

Test(attach, idle_network_objects_are_not_errors, .timeout = 10)
{
    rig r; rig_init(&r, NULL);
    hive_server *srv = hive_server_create(&(hive_server_config){ .addr = "127.0.0.1:0" }, r.bus);
    hive_client *cli = hive_client_create(NULL, r.bus);
    cr_assert(srv && cli);
    /* Not started, not connected: their service calls say HIVE_ESTATE,
     * which a game loop should not treat as a failure. */
    hive_engine_attach_server(r.e, srv);
    hive_engine_attach_client(r.e, cli);
    for (int i = 0; i < 5; i++) rig_step(&r, TICK60);
    hive_engine_counters st;
    hive_engine_stats(r.e, &st);
    cr_expect_eq(st.service_errors, 0);
    cr_expect_eq(hive_engine_attach_server(r.e, NULL), HIVE_EINVAL);
    cr_expect_eq(hive_engine_attach_client(NULL, cli), HIVE_EINVAL);
    hive_client_destroy(cli);
    hive_server_destroy(srv);
    rig_fini(&r);
}
