/*
 * hive_net_stats counts sealed datagrams when Hive runs its own I/O
 * thread: the transport's counters are read through its ->stats slot
 * from the calling thread, not only on the thread that services.
 */
#include <criterion/criterion.h>
#include <string.h>
#include "hive/hive.h"
#include "certgen.h"
#include "udpproxy.h"

static certgen C;
static void setup(void) { cr_assert(certgen_make(&C)); }
static void teardown(void) { certgen_remove(&C); }
TestSuite(threads, .init = setup, .fini = teardown, .timeout = 30);

static int count_open(hive_client *k) { return hive_client_get_state(k) == HIVE_CLIENT_OPEN; }

Test(threads, threaded_stats_count_sealed_datagrams)
{
    hive_bus *sbus = hive_bus_create(NULL), *cbus = hive_bus_create(NULL);
    cr_assert(sbus && cbus);
    hive_server_config sc = {
        .addr = "enet+tls://127.0.0.1:0", .threaded = true,
        .tls = { .cert_file = C.server_crt, .key_file = C.server_key },
    };
    hive_server *s = hive_server_create(&sc, sbus);
    cr_assert_not_null(s, "%s", hive_create_error()->message);
    cr_assert_gt(hive_server_register(s, "game:pos", 0, HIVE_UNRELIABLE), 0);
    cr_assert_eq(hive_server_start(s), HIVE_OK);

    udpproxy px;
    cr_assert(proxy_open(&px, hive_server_port(s)));
    hive_client_config kc = { .threaded = true, .tls = { .ca_file = C.ca, .server_name = "localhost" } };
    hive_client *k = hive_client_create(&kc, cbus);
    cr_assert_not_null(k);
    char addr[64];
    snprintf(addr, sizeof addr, "enet+tls://127.0.0.1:%u", (unsigned)px.port);
    cr_assert_eq(hive_client_connect(k, addr), HIVE_OK);
    /* Both I/O threads run on their own; this thread relays and reads. */
    uint64_t end = hive_now_ns() + 10000000000ull;
    while (!count_open(k) && hive_now_ns() < end) {
        proxy_pump(&px);
        hive_bus_dispatch(sbus, 0);
        hive_bus_dispatch(cbus, 0);
    }
    cr_assert(count_open(k), "client open over the proxy");

    /* Untouched datagrams first, then tampered ones, then replays. */
    int modes[] = { PROXY_PASS, PROXY_FLIP, PROXY_REPLAY };
    for (int m = 0; m < 3; m++) {
        px.mode = modes[m];
        for (int i = 0; i < 20; i++) {
            char body[24];
            int n = snprintf(body, sizeof body, "\xa6" "pos%03d", m * 100 + i);   /* msgpack str */
            cr_assert_eq(hive_client_send_id(k, (uint32_t)hive_client_packet_id(k, "game:pos"), body,
                                             (size_t)n, 0), HIVE_OK);
            hive_client_flush(k);
            /* One datagram per send (the replay needs equal sizes): wait
             * until this one went through the proxy. */
            uint64_t seen = px.unreliable_seen, until = hive_now_ns() + 2000000000ull;
            while (px.unreliable_seen == seen && hive_now_ns() < until) proxy_pump(&px);
        }
        uint64_t until = hive_now_ns() + 200000000;
        while (hive_now_ns() < until) proxy_pump(&px);
    }

    hive_net_stats st;
    end = hive_now_ns() + 3000000000ull;
    do {
        proxy_pump(&px);
        cr_assert_eq(hive_server_stats(s, &st), HIVE_OK);
    } while (st.sealed_opened + st.sealed_rejected + st.sealed_replayed < px.unreliable_seen &&
             hive_now_ns() < end);
    cr_expect_gt(px.flipped, 0, "the proxy tampered");
    cr_expect_gt(px.replayed, 0, "the proxy replayed");
    /* A flipped bit in the counter can make a datagram look like a
     * replay, so only the two kinds of drop together are exact. */
    cr_expect_eq(st.sealed_rejected + st.sealed_replayed, px.flipped + px.replayed,
                 "dropped: %llu rejected + %llu replayed, of %llu flipped + %llu replayed",
                 (unsigned long long)st.sealed_rejected, (unsigned long long)st.sealed_replayed,
                 (unsigned long long)px.flipped, (unsigned long long)px.replayed);
    cr_expect_geq(st.sealed_replayed, px.replayed, "every replay counted as one");
    cr_expect_gt(st.sealed_rejected, 0, "forgeries counted");
    cr_expect_eq(st.sealed_opened, px.unreliable_seen - px.flipped - px.replayed,
                 "opened %llu of %llu seen", (unsigned long long)st.sealed_opened,
                 (unsigned long long)px.unreliable_seen);
    cr_expect_gt(st.sealed_opened, 0);

    hive_client_destroy(k);
    hive_server_destroy(s);
    proxy_close(&px);
    hive_bus_destroy(cbus);
    hive_bus_destroy(sbus);
}
