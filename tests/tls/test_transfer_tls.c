/*
 * Large messages over the secured transports (hive/net.h LARGE
 * MESSAGES): a 16 MiB message in pieces over tls:// (one stream for
 * everything) and enet+tls:// while 30 Hz snapshots keep arriving, and
 * the message arrives whole.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hive/hive.h"
#include "certgen.h"

static certgen C;
static void setup(void) { cr_assert(certgen_make(&C)); }
static void teardown(void) { certgen_remove(&C); }
TestSuite(transfer_tls, .init = setup, .fini = teardown, .timeout = 180);

#define BIG (16u << 20)

typedef struct watch {
    const uint8_t *want;
    int levels, levels_ok, snaps;
    uint64_t last, max_gap;
} watch;

static void on_level(const hive_event *ev, void *u)
{
    watch *w = u;
    hive_msg_view v;
    const msgpack_object *o;
    const void *p;
    size_t n;
    if (hive_event_msg(ev, &v, &o) == 0 && hive_msg_get_bin(o, "blob", &p, &n) == 0 && n == BIG &&
        memcmp(p, w->want, n) == 0)
        w->levels_ok++;
    hive_msg_view_free(&v);
    w->levels++;
}

static void on_snap(const hive_event *ev, void *u)
{
    (void)ev;
    watch *w = u;
    uint64_t now = hive_now_ns();
    if (w->snaps && now - w->last > w->max_gap) w->max_gap = now - w->last;
    w->last = now;
    w->snaps++;
}

static void big_with_snapshots(const char *scheme)
{
    hive_bus *sbus = hive_bus_create(NULL), *cbus = hive_bus_create(NULL);
    char addr[96];
    snprintf(addr, sizeof addr, "%s://127.0.0.1:0", scheme);
    hive_server_config sc = { .addr = addr, .max_frame = 32u << 20, .compress_threshold = -1,
                              .tls = { .cert_file = C.server_crt, .key_file = C.server_key } };
    hive_server *s = hive_server_create(&sc, sbus);
    cr_assert_not_null(s, "%s", hive_create_error());
    cr_assert_gt(hive_server_register(s, "game:level", 0, HIVE_RELIABLE), 0);
    /* Unreliable where the transport has such a thing (enet+tls); on
     * tls:// it shares the one stream, reliably. */
    cr_assert_gt(hive_server_register(s, "game:snap", 0, HIVE_UNRELIABLE), 0);
    cr_assert_eq(hive_server_start(s), HIVE_OK);
    snprintf(addr, sizeof addr, "%s://localhost:%u", scheme, (unsigned)hive_server_port(s));
    hive_client_config cc = { .max_frame = 32u << 20, .compress_threshold = -1, .tls = { .ca_file = C.ca } };
    hive_client *c = hive_client_create(&cc, cbus);
    cr_assert_not_null(c);
    uint8_t *blob = malloc(BIG);
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < BIG; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        blob[i] = (uint8_t)x;
    }
    watch w = { .want = blob };
    hive_bus_subscribe(cbus, "net:client.recv.game:level", on_level, &w, NULL);
    hive_bus_subscribe(cbus, "net:client.recv.game:snap", on_snap, &w, NULL);
    cr_assert_eq(hive_client_connect(c, addr), 0);
    hive_conn_info ci;
    uint64_t end = hive_now_ns() + 10000000000ull;
    while ((hive_client_get_state(c) != HIVE_CLIENT_OPEN || hive_server_conn_info(s, hive_client_cid(c), &ci) != 0 ||
            !ci.open) && hive_now_ns() < end) {
        hive_server_service(s, 1);
        hive_client_service(c, 1);
    }
    cr_assert_eq(hive_client_get_state(c), HIVE_CLIENT_OPEN, "%s: no handshake", scheme);
    hive_cid cid = hive_client_cid(c);
    hive_msg m, snap;
    hive_msg_init(&m);
    hive_msg_map(&m, 1);
    hive_msg_kv_bin(&m, "blob", blob, BIG);
    cr_assert_eq(hive_server_send_msg(s, cid, "game:level", &m), HIVE_OK);
    hive_msg_free(&m);
    hive_msg_init(&snap);
    hive_msg_map(&snap, 1);
    hive_msg_kv_str(&snap, "text", "snapshot");
    uint64_t t0 = hive_now_ns(), next = t0;
    end = t0 + 120000000000ull;
    while (!w.levels && hive_now_ns() < end) {
        if (hive_now_ns() >= next) {
            cr_assert_eq(hive_server_send_msg(s, cid, "game:snap", &snap), HIVE_OK);
            next += 33333333u;
        }
        hive_server_service(s, 1);
        hive_client_service(c, 1);
    }
    hive_msg_free(&snap);
    double secs = (double)(hive_now_ns() - t0) / 1e9;
    cr_assert_eq(w.levels, 1, "%s: the level arrived once (%.1f s)", scheme, secs);
    cr_expect_eq(w.levels_ok, 1, "%s: byte-exact", scheme);
    cr_expect_lt(w.max_gap, 200000000u, "%s: longest snapshot gap %.1f ms", scheme, w.max_gap / 1e6);
    fprintf(stderr, "transfer %s: 16 MiB in %.2f s, %d snapshots, longest gap %.1f ms\n", scheme, secs, w.snaps,
            w.max_gap / 1e6);
    free(blob);
    hive_client_destroy(c);
    hive_server_destroy(s);
    hive_bus_destroy(sbus);
    hive_bus_destroy(cbus);
}

Test(transfer_tls, sixteen_mib_while_snapshots_flow_tls) { big_with_snapshots("tls"); }
Test(transfer_tls, sixteen_mib_while_snapshots_flow_enet_tls) { big_with_snapshots("enet+tls"); }
