/*
 * ENet under hostile peers: CONNECTs that never finish ENet's handshake
 * must not hold the server's peer slots past ENET_HALF_OPEN_MS (2 s), and
 * what the server sends back to such an address stays a small multiple
 * of what it received.
 */
#include "net_test.h"

#include <errno.h>
#include <sys/socket.h>

#define HALF_OPEN 13   /* max_connections 4 + max_handshakes 1 + the 8 slots kept for "server_full" */

typedef struct half_open {
    ENetHost *host[HALF_OPEN];
    uint64_t sent[HALF_OPEN];     /* bytes ENet put on the wire: the CONNECT */
    uint64_t back[HALF_OPEN];     /* bytes that came back from the server */
    uint64_t datagrams[HALF_OPEN];
} half_open;

/* Every slot gets a CONNECT from its own source port (127.0.0.2); the
 * hosts are never serviced again, so nothing is ever acknowledged. */
static void half_open_start(half_open *h, uint16_t port)
{
    memset(h, 0, sizeof *h);
    cr_assert_eq(enet_initialize(), 0);
    ENetAddress local = { 0 }, srv = { 0 };
    enet_address_set_host(&local, "127.0.0.2");
    enet_address_set_host(&srv, "127.0.0.1");
    srv.port = port;
    for (int i = 0; i < HALF_OPEN; i++) {
        h->host[i] = enet_host_create(&local, 1, 2, 0, 0);
        cr_assert_not_null(h->host[i]);
        cr_assert_not_null(enet_host_connect(h->host[i], &srv, 2, 0));
        enet_host_flush(h->host[i]);
        h->sent[i] = h->host[i]->totalSentData;
        cr_assert_gt(h->sent[i], 0);
    }
}

/* Reads what the server sent straight off the sockets, behind ENet's back. */
static void half_open_drain(half_open *h)
{
    uint8_t buf[2048];
    for (int i = 0; i < HALF_OPEN; i++) {
        ssize_t n;
        while ((n = recv(h->host[i]->socket, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
            h->back[i] += (uint64_t)n;
            h->datagrams[i]++;
        }
    }
}

static void half_open_stop(half_open *h)
{
    for (int i = 0; i < HALF_OPEN; i++) enet_host_destroy(h->host[i]);
    enet_deinitialize();
}

static bool open_and_drain_cond(void *arg);
typedef struct drain_arg { half_open *h; hive_client *c; } drain_arg;
static bool open_and_drain_cond(void *arg)
{
    drain_arg *a = arg;
    half_open_drain(a->h);
    return a->c && client_open(a->c);
}

Test(enet_storm, half_open_peers_reaped_and_slots_freed, .timeout = 60)
{
    hive_bus *sb = hive_bus_create(NULL), *cb = hive_bus_create(NULL);
    hive_server *s = test_server(sb, &(hive_server_config){ .max_connections = 4, .max_handshakes = 1 }, NULL);
    half_open h;
    half_open_start(&h, hive_server_port(s));
    /* Let the server take every CONNECT: all its slots are half-open now. */
    drain_arg da = { &h, NULL };
    pump(s, NULL, 300, open_and_drain_cond, &da);
    hive_net_stats st;
    cr_assert_eq(hive_server_stats(s, &st), 0);
    cr_expect_eq(st.enet_half_open_reaped, 0, "reaped before 2 s: %llu",
                 (unsigned long long)st.enet_half_open_reaped);

    /* A newcomer gets in once they are reaped, long before ENet's own
     * timeouts (tens of seconds) would have freed the slots. */
    char addr[64];
    test_addr(s, addr, sizeof addr);
    hive_client *c = hive_client_create(NULL, cb);
    cr_assert_not_null(c);
    cr_assert_eq(hive_client_connect(c, addr), 0);
    da.c = c;
    cr_assert(pump(s, c, 10000, open_and_drain_cond, &da), "newcomer not admitted");
    cr_assert(pump_both_open(s, c, 3000));
    cr_assert_eq(hive_server_stats(s, &st), 0);
    cr_expect_geq(st.enet_half_open_reaped, HALF_OPEN, "reaped %llu",
                  (unsigned long long)st.enet_half_open_reaped);

    /* Keep listening to the half-open addresses until ENet, unreaped,
     * would have sent its fourth VERIFY_CONNECT (3.5 s after the CONNECT). */
    uint64_t end = hive_now_ns() + 3000000000ull;
    while (hive_now_ns() < end) {
        hive_server_service(s, 1);
        hive_client_service(c, 1);
        half_open_drain(&h);
    }
    uint64_t sent = 0, back = 0, dgrams = 0;
    for (int i = 0; i < HALF_OPEN; i++) { sent += h.sent[i]; back += h.back[i]; dgrams += h.datagrams[i]; }
    cr_log_info("half-open: %d CONNECTs, %llu bytes sent, %llu bytes in %llu datagrams back (%.2fx)",
                HALF_OPEN, (unsigned long long)sent, (unsigned long long)back,
                (unsigned long long)dgrams, sent ? (double)back / (double)sent : 0.0);
    for (int i = 0; i < HALF_OPEN; i++) {
        /* At most 3 VERIFY_CONNECTs (48 bytes each) per 52-byte CONNECT. */
        cr_expect_leq(h.datagrams[i], 3, "peer %d: %llu datagrams back", i,
                      (unsigned long long)h.datagrams[i]);
        cr_expect_leq(h.back[i], 3 * h.sent[i], "peer %d: %llu bytes back for %llu sent", i,
                      (unsigned long long)h.back[i], (unsigned long long)h.sent[i]);
    }
    half_open_stop(&h);
    hive_client_destroy(c);
    hive_server_destroy(s);
    hive_bus_destroy(sb);
    hive_bus_destroy(cb);
}
