/*
 * enet://: max_peers_per_addr bounds the ENet peers one IP address holds.
 * Over it ENet ignores the CONNECT: the server never hears of the peer
 * (no accept), and the client's connect ends with connect_failed after
 * its connect_timeout_ms. Another address still gets in, and a slot freed
 * by the address's own client can be taken again.
 */
#include <criterion/criterion.h>
#include <enet/enet.h>
#include <string.h>
#include "hive/hive.h"

#define LIMIT 3

typedef struct pa_run {
    hive_bus *sbus;
    hive_server *srv;
    int accepts, closes;
} pa_run;

static void on_server(const hive_event *ev, void *user)
{
    pa_run *r = user;
    if (strcmp(ev->name, HIVE_EV_SERVER_ACCEPT) == 0) r->accepts++;
    if (strcmp(ev->name, HIVE_EV_SERVER_CLOSE) == 0) r->closes++;
}

typedef struct pa_client {
    hive_bus *bus;
    hive_client *c;
    int close_reason;
} pa_client;

static void on_client_close(const hive_event *ev, void *user)
{
    pa_client *k = user;
    if (k->close_reason < 0) k->close_reason = (int)hive_event_int(ev, "reason", -1);
}

static void pa_connect(pa_run *r, pa_client *k)
{
    memset(k, 0, sizeof *k);
    k->close_reason = -1;
    k->bus = hive_bus_create(NULL);
    cr_assert_not_null(k->bus);
    k->c = hive_client_create(&(hive_client_config){ .connect_timeout_ms = 1000 }, k->bus);
    cr_assert_not_null(k->c);
    cr_assert_gt(hive_bus_subscribe(k->bus, HIVE_EV_CLIENT_CLOSE, on_client_close, k, NULL), 0);
    char a[64];
    snprintf(a, sizeof a, "enet://127.0.0.1:%u", (unsigned)hive_server_port(r->srv));
    cr_assert_eq(hive_client_connect(k->c, a), HIVE_OK);
}

static void pa_free(pa_client *k)
{
    hive_client_destroy(k->c);
    hive_bus_destroy(k->bus);
}

/* Services the server and the clients until done(k) or ms pass. */
static bool pa_until(pa_run *r, pa_client *ks, int n, ENetHost *raw, bool (*done)(pa_client *, ENetHost *, void *),
                     void *arg, int ms)
{
    uint64_t end = hive_now_ns() + (uint64_t)ms * 1000000u;
    while (hive_now_ns() < end) {
        hive_server_service(r->srv, 1);
        for (int i = 0; i < n; i++) hive_client_service(ks[i].c, 0);
        if (done(ks, raw, arg)) return true;
    }
    return false;
}

static bool all_open(pa_client *ks, ENetHost *raw, void *arg)
{
    (void)raw;
    for (int i = 0; i < *(int *)arg; i++)
        if (hive_client_get_state(ks[i].c) != HIVE_CLIENT_OPEN) return false;
    return true;
}

static bool last_closed(pa_client *ks, ENetHost *raw, void *arg)
{
    (void)raw;
    return ks[*(int *)arg].close_reason >= 0;
}

static bool raw_connected(pa_client *ks, ENetHost *raw, void *arg)
{
    (void)ks;
    ENetEvent ev;
    while (enet_host_service(raw, &ev, 0) > 0)
        if (ev.type == ENET_EVENT_TYPE_CONNECT) *(bool *)arg = true;
    return *(bool *)arg;
}

Test(enet_peers_per_addr, one_address_gets_no_more_than_its_slots, .timeout = 60)
{
    pa_run r = { 0 };
    r.sbus = hive_bus_create(NULL);
    r.srv = hive_server_create(&(hive_server_config){ .addr = "enet://127.0.0.1:0", .max_connections = 8,
                                                      .max_peers_per_addr = LIMIT }, r.sbus);
    cr_assert_not_null(r.srv, "%s", hive_create_error()->message);
    hive_server_config got;
    cr_assert_eq(hive_server_config_get(r.srv, &got), HIVE_OK);
    cr_expect_eq(got.max_peers_per_addr, LIMIT);
    cr_assert_gt(hive_bus_subscribe(r.sbus, "net:server.**", on_server, &r, NULL), 0);
    cr_assert_eq(hive_server_start(r.srv), HIVE_OK);

    /* LIMIT clients from 127.0.0.1 get in. */
    pa_client ks[LIMIT + 2];
    for (int i = 0; i < LIMIT; i++) pa_connect(&r, &ks[i]);
    int n = LIMIT;
    cr_assert(pa_until(&r, ks, LIMIT, NULL, all_open, &n, 10000), "the first %d clients are open", LIMIT);
    cr_expect_eq(r.accepts, LIMIT);

    /* One more from the same address: no slot. The server hears nothing;
     * the client gives up with connect_failed. */
    pa_connect(&r, &ks[LIMIT]);
    n = LIMIT;
    cr_assert(pa_until(&r, ks, LIMIT + 1, NULL, last_closed, &n, 10000), "the extra client's connect ends");
    cr_expect_eq(ks[LIMIT].close_reason, HIVE_CLOSE_CONNECT_FAILED, "reason %d", ks[LIMIT].close_reason);
    cr_expect_eq(r.accepts, LIMIT, "the server never accepted the extra peer");
    for (int i = 0; i < LIMIT; i++)
        cr_expect_eq(hive_client_get_state(ks[i].c), HIVE_CLIENT_OPEN, "client %d still open", i);

    /* A peer from 127.0.0.2 gets a slot: ENet connects it and the server
     * accepts it (the core counts it as a connection). */
    cr_assert_eq(enet_initialize(), 0);
    ENetAddress local = { .port = 0 }, to = { .port = hive_server_port(r.srv) };
    enet_address_set_host(&local, "127.0.0.2");
    enet_address_set_host(&to, "127.0.0.1");
    ENetHost *raw = enet_host_create(&local, 1, 2, 0, 0);
    cr_assert_not_null(raw, "a host on 127.0.0.2");
    ENetPeer *rp = enet_host_connect(raw, &to, 2, 0);
    cr_assert_not_null(rp);
    bool up = false;
    cr_assert(pa_until(&r, ks, LIMIT, raw, raw_connected, &up, 10000), "the peer from 127.0.0.2 connects");
    for (int i = 0; i < 200 && r.accepts == LIMIT; i++) {
        hive_server_service(r.srv, 1);
        raw_connected(ks, raw, &up);
    }
    cr_expect_eq(r.accepts, LIMIT + 1, "the server accepted the peer from 127.0.0.2");
    enet_peer_disconnect_now(rp, 0);
    enet_host_destroy(raw);

    /* The limit counts peers at once: when one of 127.0.0.1's clients
     * leaves, a new one from there gets its slot. */
    pa_free(&ks[0]);
    /* Until only the remaining LIMIT - 1 clients hold slots (the raw peer
     * has said goodbye too). */
    uint64_t end = hive_now_ns() + 10000000000ull;
    while (hive_server_connection_count(r.srv) > LIMIT - 1 && hive_now_ns() < end) {
        hive_server_service(r.srv, 1);
        for (int i = 1; i < LIMIT; i++) hive_client_service(ks[i].c, 0);
    }
    pa_connect(&r, &ks[LIMIT + 1]);
    ks[0] = ks[LIMIT + 1];
    n = LIMIT;
    cr_expect(pa_until(&r, ks, LIMIT, NULL, all_open, &n, 10000), "a freed slot is given again");

    for (int i = 0; i <= LIMIT; i++) pa_free(&ks[i]);
    hive_server_destroy(r.srv);
    hive_bus_destroy(r.sbus);
    enet_deinitialize();
}
