/*
 * One server, several listeners (hive_server_config.addr as a list):
 * enet://, ws:// and tcp:// clients share one cid space, one registry and
 * the same events, and a broadcast reaches all of them.
 */
#include "net_test.h"

#include <time.h>

#define NCLI 3
static const char *const schemes[NCLI] = { "enet", "ws", "tcp" };

typedef struct world {
    hive_bus *sbus, *cbus[NCLI];
    recorder sr, cr[NCLI];
    hive_server *srv;
    hive_client *cli[NCLI];
} world;

static void relay(const hive_event *ev, void *user)
{
    /* Whatever one client says, everyone hears. */
    world *w = user;
    const void *raw, *obj;
    size_t len;
    if (hive_event_get_msgpack(ev, "msg", &raw, &len, &obj) != 0) return;
    hive_server_broadcast(w->srv, "game:echo", raw, len, 0);
}

static bool all_open(void *arg)
{
    world *w = arg;
    for (int i = 0; i < NCLI; i++)
        if (hive_client_get_state(w->cli[i]) != HIVE_CLIENT_OPEN) return false;
    return rec_count(&w->sr, "net:server.connection.handshakecomplete") >= NCLI;
}

static bool all_heard(void *arg)
{
    world *w = arg;
    for (int i = 0; i < NCLI; i++)
        if (rec_count(&w->cr[i], "net:client.recv.game:echo") < NCLI) return false;
    return true;
}

static void pump_all(world *w, int ms, pump_cond cond)
{
    uint64_t end = hive_now_ns() + (uint64_t)ms * 1000000u;
    while (!cond(w) && hive_now_ns() < end) {
        if (hive_server_service(w->srv, 1) == HIVE_ESTATE) {   /* threaded: its events are posted */
            hive_bus_dispatch(w->sbus, 0);
            struct timespec ts = { 0, 1000000 };
            nanosleep(&ts, NULL);
        }
        for (int i = 0; i < NCLI; i++) hive_client_service(w->cli[i], 0);
    }
}

static void world_start(world *w, bool threaded)
{
    memset(w, 0, sizeof *w);
    w->sbus = hive_bus_create(NULL);
    rec_attach(&w->sr, w->sbus);
    cr_assert_gt(hive_bus_subscribe(w->sbus, "net:server.recv.game:chat", relay, w, NULL), 0);
    w->srv = hive_server_create(&(hive_server_config){
                                    .addr = "enet://127.0.0.1:0, ws://127.0.0.1:0,tcp://127.0.0.1:0",
                                    .threaded = threaded },
                                w->sbus);
    cr_assert_not_null(w->srv);
    cr_assert_gt(hive_server_register(w->srv, "game:chat", 0, HIVE_RELIABLE), 0);
    cr_assert_gt(hive_server_register(w->srv, "game:echo", 0, HIVE_RELIABLE), 0);
    cr_assert_eq(hive_server_start(w->srv), HIVE_OK);
    cr_expect_eq(hive_server_port_at(w->srv, 0), hive_server_port(w->srv));
    cr_expect_eq(hive_server_port_at(w->srv, 3), 0);
    for (int i = 0; i < NCLI; i++) {
        uint16_t port = hive_server_port_at(w->srv, i);
        cr_assert_gt(port, 0, "listener %d", i);
        char addr[64];
        snprintf(addr, sizeof addr, "%s://127.0.0.1:%u", schemes[i], (unsigned)port);
        w->cbus[i] = hive_bus_create(NULL);
        rec_attach(&w->cr[i], w->cbus[i]);
        w->cli[i] = hive_client_create(NULL, w->cbus[i]);
        cr_assert_eq(hive_client_connect(w->cli[i], addr), HIVE_OK);
    }
    pump_all(w, 5000, all_open);
    cr_assert(all_open(w), "every client is in");
}

static void world_stop(world *w)
{
    for (int i = 0; i < NCLI; i++) {
        hive_client_destroy(w->cli[i]);
        hive_bus_destroy(w->cbus[i]);
    }
    hive_server_destroy(w->srv);
    hive_bus_destroy(w->sbus);
}

static void everyone_hears_everyone(world *w)
{
    for (int i = 0; i < NCLI; i++) {
        hive_msg m;
        text_msg(&m, schemes[i]);
        cr_assert_eq(hive_client_send_msg(w->cli[i], "game:chat", &m), HIVE_OK);
        hive_msg_free(&m);
    }
    pump_all(w, 5000, all_heard);
    cr_assert(all_heard(w), "each client heard all three");
}

Test(listeners, one_session_space_over_three_transports, .timeout = 30)
{
    world w;
    world_start(&w, false);
    /* One cid space: three distinct cids. */
    hive_cid c0 = hive_client_cid(w.cli[0]), c1 = hive_client_cid(w.cli[1]), c2 = hive_client_cid(w.cli[2]);
    cr_expect(c0 && c1 && c2 && c0 != c1 && c1 != c2 && c0 != c2);
    cr_expect_eq(rec_count(&w.sr, "net:server.connection.handshakecomplete"), NCLI);
    everyone_hears_everyone(&w);
    /* Each connection's address names its transport. */
    hive_cid cids[NCLI] = { c0, c1, c2 };
    for (int k = 0; k < NCLI; k++) {
        hive_conn_info ci;
        cr_assert_eq(hive_server_conn_info(w.srv, cids[k], &ci), HIVE_OK);
        cr_expect(!strncmp(ci.addr, schemes[k], strlen(schemes[k])) && ci.addr[strlen(schemes[k])] == ':',
                  "%s: addr %s", schemes[k], ci.addr);
    }
    /* A kick on one listener leaves the others playing. */
    cr_assert_eq(hive_server_close(w.srv, c1, HIVE_CLOSE_KICKED, "out"), HIVE_OK);
    uint64_t end = hive_now_ns() + 3000000000ull;
    while (hive_client_get_state(w.cli[1]) == HIVE_CLIENT_OPEN && hive_now_ns() < end) {
        hive_server_service(w.srv, 1);
        for (int i = 0; i < NCLI; i++) hive_client_service(w.cli[i], 0);
    }
    cr_expect_neq(hive_client_get_state(w.cli[1]), HIVE_CLIENT_OPEN);
    cr_expect_eq(hive_client_get_state(w.cli[0]), HIVE_CLIENT_OPEN);
    cr_expect_eq(hive_client_get_state(w.cli[2]), HIVE_CLIENT_OPEN);
    world_stop(&w);
}

Test(threads, listeners_threaded_server, .timeout = 30)
{
    world w;
    world_start(&w, true);
    everyone_hears_everyone(&w);
    world_stop(&w);
}

static int start_rc(const char *addr)
{
    hive_bus *bus = hive_bus_create(NULL);
    hive_server *s = hive_server_create(&(hive_server_config){ .addr = addr }, bus);
    cr_assert_not_null(s);
    int rc = hive_server_start(s);
    hive_server_destroy(s);
    hive_bus_destroy(bus);
    return rc;
}

Test(listeners, bad_lists_are_refused, .timeout = 30)
{
    cr_expect_eq(start_rc("enet://127.0.0.1:0,"), HIVE_EADDR);
    cr_expect_eq(start_rc(",ws://127.0.0.1:0"), HIVE_EADDR);
    cr_expect_eq(start_rc("enet://127.0.0.1:0,,ws://127.0.0.1:0"), HIVE_EADDR);
    cr_expect_eq(start_rc("enet://127.0.0.1:0,gopher://127.0.0.1:0"), HIVE_EUNSUPPORTED);
    cr_expect_eq(start_rc("ws://127.0.0.1:0,ws://127.0.0.1:0,ws://127.0.0.1:0,ws://127.0.0.1:0,"
                          "ws://127.0.0.1:0,ws://127.0.0.1:0,ws://127.0.0.1:0,ws://127.0.0.1:0,ws://127.0.0.1:0"),
                 HIVE_EADDR);
    /* Two listeners on one port: the second bind fails, nothing is left. */
    hive_bus *bus = hive_bus_create(NULL);
    hive_server *s = hive_server_create(&(hive_server_config){ .addr = "tcp://127.0.0.1:0" }, bus);
    cr_assert_eq(hive_server_start(s), HIVE_OK);
    char addr[96];
    snprintf(addr, sizeof addr, "enet://127.0.0.1:0,tcp://127.0.0.1:%u", (unsigned)hive_server_port(s));
    cr_expect_lt(start_rc(addr), 0);
    hive_server_destroy(s);
    hive_bus_destroy(bus);
    /* A client cannot dial a list. */
    hive_bus *cb = hive_bus_create(NULL);
    hive_client *c = hive_client_create(NULL, cb);
    cr_expect_lt(hive_client_connect(c, "enet://127.0.0.1:1,ws://127.0.0.1:2"), 0);
    hive_client_destroy(c);
    hive_bus_destroy(cb);
}
