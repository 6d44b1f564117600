/*
 * Compression (hive/net.h COMPRESSION, docs/PROTOCOL.md "Compression"):
 * large user bodies travel zstd-compressed between peers that agreed,
 * never to one that did not, and the receiver's work is bounded: a
 * corrupt frame, one that expands past what it declares (a bomb) or past
 * max_frame closes with bad_compression.
 */
#include "net_test.h"
#include "net/client/client_internal.h"
#include "net/wire/compress.h"

#include <zstd.h>

/* A body that compresses well: a level row of repeated tiles. */
static void big_body(hive_msg *m, size_t n)
{
    char *s = malloc(n);
    for (size_t i = 0; i < n; i++) s[i] = "..##~~..tt"[i % 10];
    hive_msg_reset(m);
    hive_msg_map(m, 1);
    hive_msg_kv_bin(m, "tiles", s, n);
    free(s);
}

static bool body_ok(const msgpack_object *o, size_t n)
{
    const void *p;
    size_t len;
    if (hive_msg_get_bin(o, "tiles", &p, &len) || len != n) return false;
    for (size_t i = 0; i < n; i++)
        if (((const char *)p)[i] != "..##~~..tt"[i % 10]) return false;
    return true;
}

typedef struct got { int n, ok; size_t want; } got;
static void on_blob(const hive_event *ev, void *u)
{
    got *g = u;
    hive_msg_view v;
    const msgpack_object *o;
    if (hive_event_msg(ev, &v, &o) == 0 && body_ok(o, g->want)) g->ok++;
    hive_msg_view_free(&v);
    g->n++;
}
static bool got_n(void *a) { got *g = a; return g->n >= 1; }

/* ------------------------------------------------------------------ */
/* The codec's bounds                                                   */
/* ------------------------------------------------------------------ */

Test(zstd, round_trip_and_bounds)
{
    hive__zstd z = { 0 };
    static uint8_t src[100000];
    for (size_t i = 0; i < sizeof src; i++) src[i] = (uint8_t)"abcabcab"[i % 8];
    const uint8_t *c, *d;
    size_t cn, dn;
    cr_assert_eq(hive__zstd_pack(&z, src, 20000, &c, &cn), HIVE_OK);
    cr_expect_lt(cn, 1000);
    uint8_t *copy = malloc(cn);
    memcpy(copy, c, cn);
    cr_assert_eq(hive__zstd_unpack(&z, copy, cn, 65536, &d, &dn), HIVE_OK);
    cr_expect_eq(dn, 20000);
    cr_expect_eq(memcmp(d, src, dn), 0);
    /* Declared over the limit: refused before any work. */
    cr_expect_eq(hive__zstd_unpack(&z, copy, cn, 19999, &d, &dn), HIVE_ETOOBIG);
    /* Truncated, and two frames back to back. */
    cr_expect_eq(hive__zstd_unpack(&z, copy, cn - 1, 65536, &d, &dn), HIVE_EPROTO);
    uint8_t *two = malloc(2 * cn);
    memcpy(two, copy, cn);
    memcpy(two + cn, copy, cn);
    cr_expect_eq(hive__zstd_unpack(&z, two, 2 * cn, 65536, &d, &dn), HIVE_EPROTO);
    /* Not zstd at all. */
    cr_expect_eq(hive__zstd_unpack(&z, src, 100, 65536, &d, &dn), HIVE_EPROTO);
    /* No declared size. */
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 0);
    uint8_t nosize[2000];
    size_t nn = ZSTD_compress2(cc, nosize, sizeof nosize, src, 1000);
    cr_assert(!ZSTD_isError(nn));
    cr_expect_eq(hive__zstd_unpack(&z, nosize, nn, 65536, &d, &dn), HIVE_EPROTO);
    ZSTD_freeCCtx(cc);
    /* Incompressible data is not worth it. */
    uint8_t noise[4096];
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < sizeof noise; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        noise[i] = (uint8_t)x;
    }
    cr_expect_eq(hive__zstd_pack(&z, noise, sizeof noise, &c, &cn), HIVE_EAGAIN);
    free(copy);
    free(two);
    hive__zstd_free(&z);
}

/* A frame whose header declares fewer bytes than its data holds: the
 * classic bomb. The 2-byte size field (256..65791 bytes) is patched. */
static size_t bomb(uint8_t *out, size_t cap, size_t real, size_t claim)
{
    static uint8_t src[60000];
    memset(src, 'z', sizeof src);
    size_t n = ZSTD_compress(out, cap, src, real, 1);
    cr_assert(!ZSTD_isError(n));
    uint8_t fhd = out[4];
    cr_assert_eq(fhd >> 6, 1, "a 2-byte content size field");
    size_t at = 5 + ((fhd & 0x20) ? 0 : 1);   /* single segment: no window byte */
    uint16_t v = (uint16_t)(claim - 256);
    out[at] = (uint8_t)v;
    out[at + 1] = (uint8_t)(v >> 8);
    return n;
}

Test(zstd, a_body_that_expands_past_its_declared_size_is_refused)
{
    hive__zstd z = { 0 };
    uint8_t buf[4096];
    size_t n = bomb(buf, sizeof buf, 50000, 1000);
    const uint8_t *d;
    size_t dn;
    cr_expect_eq(hive__zstd_unpack(&z, buf, n, 65536, &d, &dn), HIVE_ETOOBIG);
    cr_expect_leq(z.dcap, 4096, "it never held more than it declared");
    hive__zstd_free(&z);
}

/* ------------------------------------------------------------------ */
/* Between a server and a client                                        */
/* ------------------------------------------------------------------ */

static void both_ways(const char *scheme, int srv_threshold, int cli_threshold, bool expect_zip)
{
    test_scheme = scheme;
    hive_server_config sc = { .compress_threshold = srv_threshold };
    hive_client_config cc = { .compress_threshold = cli_threshold };
    fixture fx;
    fx_init(&fx, &sc, &cc, true);
    got sg = { .want = 20000 }, cg = { .want = 20000 };
    hive_bus_subscribe(fx.sbus, "net:server.recv.game:echo", on_blob, &sg, NULL);
    hive_bus_subscribe(fx.cbus, "net:client.recv.game:echo", on_blob, &cg, NULL);
    hive_msg m;
    hive_msg_init(&m);
    big_body(&m, 20000);
    cr_assert_eq(hive_server_send_msg(fx.srv, hive_client_cid(fx.cli), "game:echo", &m), HIVE_OK);
    cr_assert_eq(hive_client_send_msg(fx.cli, "game:echo", &m), HIVE_OK);
    hive_msg_free(&m);
    cr_assert(pump(fx.srv, fx.cli, 3000, got_n, &sg));
    cr_assert(pump(fx.srv, fx.cli, 3000, got_n, &cg));
    cr_expect_eq(sg.ok, 1, "%s: the server got the body intact", scheme);
    cr_expect_eq(cg.ok, 1, "%s: the client got the body intact", scheme);
    hive_net_stats ss, cs;
    cr_assert_eq(hive_server_stats(fx.srv, &ss), 0);
    cr_assert_eq(hive_client_stats(fx.cli, &cs), 0);
    if (expect_zip) {
        cr_expect_eq(ss.compressed_out, 1, "%s", scheme);
        cr_expect_eq(cs.compressed_out, 1, "%s", scheme);
        cr_expect_eq(ss.compressed_in, 1, "%s", scheme);
        cr_expect_eq(cs.compressed_in, 1, "%s", scheme);
        cr_expect_gt(ss.compress_saved, 15000, "%s: saved %llu", scheme, (unsigned long long)ss.compress_saved);
        cr_expect_lt(ss.bytes_out, 10000, "%s: the wire carried the small form (%llu bytes)", scheme,
                     (unsigned long long)ss.bytes_out);
    } else {
        cr_expect_eq(ss.compressed_out + cs.compressed_out + ss.compressed_in + cs.compressed_in, 0,
                     "%s: nothing compressed without agreement", scheme);
    }
    /* Small bodies are never compressed. */
    fx_roundtrip(&fx, "small");
    hive_net_stats s2;
    cr_assert_eq(hive_server_stats(fx.srv, &s2), 0);
    cr_expect_eq(s2.compressed_out, ss.compressed_out);
    fx_fini(&fx);
}

Test(compress, large_bodies_travel_compressed_both_ways, .timeout = 30)
{
    both_ways("tcp://", 0, 0, true);
    both_ways("", 0, 0, true);
}

Test(compress, never_without_agreement, .timeout = 30)
{
    both_ways("tcp://", 0, -1, false);   /* the client does not offer it */
    both_ways("", -1, 0, false);         /* the server does not agree */
}

Test(compress, a_type_can_opt_out_and_a_broadcast_compresses_once, .timeout = 30)
{
    test_scheme = "tcp://";
    hive_bus *sbus = hive_bus_create(NULL), *b1 = hive_bus_create(NULL), *b2 = hive_bus_create(NULL);
    hive_server *s = hive_server_create(&(hive_server_config){ .addr = "tcp://127.0.0.1:0" }, sbus);
    cr_assert_gt(hive_server_register(s, "game:level", 0, HIVE_RELIABLE), 0);
    cr_assert_gt(hive_server_register(s, "game:jpeg", 0, HIVE_RELIABLE), 0);
    cr_expect_eq(hive_server_compress(s, "game:nope", false), HIVE_ENOENT);
    cr_assert_eq(hive_server_compress(s, "game:jpeg", false), HIVE_OK);
    cr_assert_eq(hive_server_start(s), HIVE_OK);
    cr_expect_eq(hive_server_compress(s, "game:jpeg", true), HIVE_ESTATE);
    char addr[64];
    test_addr(s, addr, sizeof addr);
    hive_client *zc = hive_client_create(NULL, b1);
    hive_client *plain = hive_client_create(&(hive_client_config){ .compress_threshold = -1 }, b2);
    got g1 = { .want = 30000 }, g2 = { .want = 30000 };
    hive_bus_subscribe(b1, "net:client.recv.game:level", on_blob, &g1, NULL);
    hive_bus_subscribe(b2, "net:client.recv.game:level", on_blob, &g2, NULL);
    cr_assert_eq(hive_client_connect(zc, addr), 0);
    cr_assert_eq(hive_client_connect(plain, addr), 0);
    cr_assert(pump_both_open(s, zc, 5000));
    cr_assert(pump_both_open(s, plain, 5000));
    hive_msg m;
    hive_msg_init(&m);
    big_body(&m, 30000);
    cr_assert_eq(hive_server_broadcast(s, "game:level", hive_msg_data(&m), hive_msg_size(&m), 0), 2);
    uint64_t end = hive_now_ns() + 3000000000ull;
    while ((g1.n < 1 || g2.n < 1) && hive_now_ns() < end) {
        hive_server_service(s, 1);
        hive_client_service(zc, 1);
        hive_client_service(plain, 1);
    }
    cr_expect_eq(g1.ok, 1);
    cr_expect_eq(g2.ok, 1, "the peer that did not agree gets it plain");
    hive_net_stats st;
    cr_assert_eq(hive_server_stats(s, &st), 0);
    cr_expect_eq(st.compressed_out, 1, "only to the one that agreed");
    cr_assert_eq(hive_server_send_msg(s, hive_client_cid(zc), "game:jpeg", &m), HIVE_OK);
    hive_server_flush(s);
    hive_msg_free(&m);
    cr_assert_eq(hive_server_stats(s, &st), 0);
    cr_expect_eq(st.compressed_out, 1, "game:jpeg is never compressed");
    hive_client_destroy(zc);
    hive_client_destroy(plain);
    hive_server_destroy(s);
    hive_bus_destroy(sbus);
    hive_bus_destroy(b1);
    hive_bus_destroy(b2);
}

/* ------------------------------------------------------------------ */
/* Hostile compressed frames                                            */
/* ------------------------------------------------------------------ */

/* The client sends a raw compressed frame of its own making (bypassing
 * every check of the send path) and the server closes it. */
static void hostile(const char *scheme, int cli_threshold, const uint8_t *z, size_t zn, const char *reason)
{
    test_scheme = scheme;
    hive_client_config cc = { .compress_threshold = cli_threshold };
    fixture fx;
    fx_init(&fx, NULL, &cc, true);
    hive__ep *ep = &fx.cli->ep;
    hive__conn *k = ep->conns;
    int pid = hive_client_packet_id(fx.cli, "game:echo");
    cr_assert_gt(pid, 0);
    ep->now = hive__now_ms();
    cr_assert_eq(hive__ep_send_frame_f(ep, k, (uint32_t)pid, z, zn, true, HIVE__FLAG_COMPRESSED), HIVE_OK);
    hive_client_flush(fx.cli);
    cr_assert(pump(fx.srv, fx.cli, 3000, client_gone, fx.cli), "%s: not closed", reason);
    const rec_event *e = rec_find(fx.sr, HIVE_EV_SERVER_CLOSE);
    cr_assert_not_null(e);
    cr_expect_str_eq(e->reason_name, reason, "%s", scheme);
    cr_expect_eq(e->remote, 0);
    fx_fini(&fx);
}

Test(compress, hostile_frames_close_with_a_reason, .timeout = 30)
{
    uint8_t buf[4096];
    size_t n = bomb(buf, sizeof buf, 50000, 1000);
    hostile("tcp://", 0, buf, n, "bad_compression");      /* expands past its size */
    hostile("", 0, buf, n, "bad_compression");
    hostile("tcp://", 0, buf, n - 3, "bad_compression");  /* truncated */
    hostile("tcp://", -1, buf, n, "bad_frame");           /* never agreed */
    /* Declares more than the server's max_frame (65536). */
    static uint8_t big[70000];
    memset(big, 'q', sizeof big);
    size_t bn = ZSTD_compress(buf, sizeof buf, big, sizeof big, 1);
    cr_assert(!ZSTD_isError(bn));
    hostile("tcp://", 0, buf, bn, "bad_compression");
}
