/*
 * enet+tls:// wraps enet://: half-open ENet peers (a CONNECT, never an
 * acknowledgement) are reaped there too, and counted in the server's stats.
 */
#include <criterion/criterion.h>
#include <enet/enet.h>
#include "certgen.h"
#include "e2e.h"

static certgen C;
static void setup(void) { cr_assert(certgen_make(&C)); }
static void teardown(void) { certgen_remove(&C); }
TestSuite(enet_storm, .init = setup, .fini = teardown, .timeout = 60);

#define HALF_OPEN 4

static bool reaped_all(e2e *x)
{
    hive_net_stats ns;
    cr_assert_eq(hive_server_stats(x->srv, &ns), HIVE_OK);
    return ns.enet_half_open_reaped >= HALF_OPEN;
}

Test(enet_storm, enet_tls_half_open_peers_reaped)
{
    e2e x = { 0 };
    hive_tls_config st = { .cert_file = C.server_crt, .key_file = C.server_key };
    hive_tls_config ct = { .ca_file = C.ca };
    e2e_server(&x, "enet+tls", &st);
    cr_assert_eq(enet_initialize(), 0);
    ENetAddress local = { 0 }, srv = { 0 };
    enet_address_set_host(&local, "127.0.0.2");
    enet_address_set_host(&srv, "127.0.0.1");
    srv.port = hive_server_port(x.srv);
    ENetHost *h[HALF_OPEN];
    for (int i = 0; i < HALF_OPEN; i++) {
        h[i] = enet_host_create(&local, 1, 2, 0, 0);
        cr_assert_not_null(h[i]);
        cr_assert_not_null(enet_host_connect(h[i], &srv, 2, 0));
        enet_host_flush(h[i]);          /* and never serviced again */
    }
    /* A real client still gets its secured session meanwhile. */
    e2e_client(&x, "enet+tls", "localhost", &ct);
    cr_assert(e2e_pump(&x, 5000, e2e_open), "client open");
    cr_assert(e2e_pump(&x, 8000, reaped_all), "half-open ENet peers not reaped");
    hive_conn_info ci;
    cr_expect_eq(hive_server_conn_info(x.srv, hive_client_cid(x.cli), &ci), 0);
    cr_expect(ci.open, "the real session survives the reaping");
    for (int i = 0; i < HALF_OPEN; i++) enet_host_destroy(h[i]);
    enet_deinitialize();
    e2e_free(&x);
}
