/*
 * Large messages (hive/net.h LARGE MESSAGES, docs/PROTOCOL.md "Large
 * messages"): a 16 MiB reliable message goes in pieces while 30 Hz
 * snapshots keep arriving, arrives byte-exact as one recv event with its
 * own pid, progress is published on both sides, a peer without pieces
 * gets single frames, and broken pieces close with bad_transfer.
 */
#include "net_test.h"
#include "net/client/client_internal.h"
#include "net/server/server_internal.h"
#include "net/wire/piece.h"

#define BIG (16u << 20)

static uint8_t *level_blob(void)
{
    uint8_t *b = malloc(BIG);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < BIG; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        b[i] = (uint8_t)x;   /* incompressible: every byte travels */
    }
    return b;
}

typedef struct watch {
    const uint8_t *want;
    size_t want_len;
    int levels, levels_ok;
    int snaps;
    uint64_t last_snap_ns, max_gap_ns;
    int prog_in, prog_out;
    int64_t prog_in_done, prog_out_done;
} watch;

static void on_level(const hive_event *ev, void *u)
{
    watch *w = u;
    const void *raw, *obj;
    size_t len;
    cr_assert_eq(hive_event_get_msgpack(ev, "msg", &raw, &len, &obj), 0);
    hive_msg_view v;
    const msgpack_object *o;
    const void *p;
    size_t n;
    if (hive_event_msg(ev, &v, &o) == 0 && hive_msg_get_bin(o, "blob", &p, &n) == 0 && n == w->want_len &&
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
    if (w->snaps && now - w->last_snap_ns > w->max_gap_ns) w->max_gap_ns = now - w->last_snap_ns;
    w->last_snap_ns = now;
    w->snaps++;
}

static void on_progress(const hive_event *ev, void *u)
{
    watch *w = u;
    const char *dir = hive_event_str(ev, "direction");
    if (!dir) dir = "";
    int64_t done = hive_event_int(ev, "done", -1), total = hive_event_int(ev, "total", -1);
    cr_assert_leq(done, total);
    if (strcmp(dir, "in") == 0) {
        cr_assert_gt(done, w->prog_in_done, "progress only grows");
        w->prog_in_done = done;
        w->prog_in++;
    } else {
        w->prog_out_done = done;
        w->prog_out++;
    }
}

static void level_msg(hive_msg *m, const uint8_t *b, size_t n)
{
    hive_msg_init(m);
    hive_msg_map(m, 1);
    hive_msg_kv_bin(m, "blob", b, n);
}


/* The server sends one 16 MiB level while it keeps sending a 30 Hz
 * snapshot (unreliable where the transport has such a thing). The
 * client's gap between snapshots stays under a generous bound. */
static void big_with_snapshots(const char *scheme)
{
    test_scheme = scheme;
    hive_server_config sc = { .max_frame = 32u << 20, .compress_threshold = -1 };
    hive_client_config cc = { .max_frame = 32u << 20, .compress_threshold = -1 };
    hive_bus *sbus = hive_bus_create(NULL), *cbus = hive_bus_create(NULL);
    char addr[64];
    snprintf(addr, sizeof addr, "%s127.0.0.1:0", scheme);
    sc.addr = addr;
    hive_server *s = hive_server_create(&sc, sbus);
    cr_assert_not_null(s, "%s", hive_create_error());
    cr_assert_gt(hive_server_register(s, "game:level", 0, HIVE_RELIABLE), 0);
    cr_assert_gt(hive_server_register(s, "game:snap", 0, HIVE_UNRELIABLE), 0);
    cr_assert_eq(hive_server_start(s), HIVE_OK);
    test_addr(s, addr, sizeof addr);
    hive_client *c = hive_client_create(&cc, cbus);
    cr_assert_not_null(c);
    uint8_t *blob = level_blob();
    watch cw = { .want = blob, .want_len = BIG }, sw = { 0 };
    hive_bus_subscribe(cbus, "net:client.recv.game:level", on_level, &cw, NULL);
    hive_bus_subscribe(cbus, "net:client.recv.game:snap", on_snap, &cw, NULL);
    hive_bus_subscribe(cbus, HIVE_EV_CLIENT_TRANSFER, on_progress, &cw, NULL);
    hive_bus_subscribe(sbus, HIVE_EV_SERVER_TRANSFER, on_progress, &sw, NULL);
    cr_assert_eq(hive_client_connect(c, addr), 0);
    cr_assert(pump_both_open(s, c, 5000), "%s: no handshake", scheme);
    hive_cid cid = hive_client_cid(c);
    cr_assert(c->ep.conns->pieces, "%s: pieces agreed", scheme);

    hive_msg m;
    level_msg(&m, blob, BIG);
    cr_assert_eq(hive_server_send_msg(s, cid, "game:level", &m), HIVE_OK);
    hive_msg_free(&m);
    hive_msg snap;
    text_msg(&snap, "snapshot: 32 players, their positions");
    uint64_t t0 = hive_now_ns(), next = t0, end = t0 + 60ull * 1000000000u;
    while (!cw.levels && hive_now_ns() < end) {
        if (hive_now_ns() >= next) {
            cr_assert_eq(hive_server_send_msg(s, cid, "game:snap", &snap), HIVE_OK);
            next += 33333333u;
        }
        hive_server_service(s, 1);
        hive_client_service(c, 1);
    }
    /* A few more snapshots after it: nothing was stuck behind it. */
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(hive_server_send_msg(s, cid, "game:snap", &snap), HIVE_OK);
        uint64_t until = hive_now_ns() + 33333333u;
        while (hive_now_ns() < until) {
            hive_server_service(s, 1);
            hive_client_service(c, 1);
        }
    }
    hive_msg_free(&snap);
    double secs = (double)(hive_now_ns() - t0) / 1e9;
    cr_assert_eq(cw.levels, 1, "%s: the level arrived once (after %.1f s)", scheme, secs);
    cr_expect_eq(cw.levels_ok, 1, "%s: byte-exact", scheme);
    cr_expect_gt(cw.snaps, 5, "%s: snapshots kept coming (%d)", scheme, cw.snaps);
    /* Stuck behind the level, snapshots would stop for the whole of its
     * transfer; a loaded machine may pause this process a while anyway,
     * so the bound is a third of the transfer (at least 200 ms). */
    double bound_ns = secs * 1e9 / 3 > 2e8 ? secs * 1e9 / 3 : 2e8;
    cr_expect_lt((double)cw.max_gap_ns, bound_ns, "%s: the longest gap between snapshots was %.1f ms of %.1f s",
                 scheme, cw.max_gap_ns / 1e6, secs);
    cr_expect_gt(cw.prog_in, 100, "%s: progress in on the client", scheme);
    cr_expect_gt(cw.prog_in_done, BIG, "%s: the whole message (body and its msgpack header)", scheme);
    cr_expect_gt(sw.prog_out, 100, "%s: progress out on the server", scheme);
    cr_expect_eq(sw.prog_out_done, cw.prog_in_done, "%s: both ends saw it end at the same total", scheme);
    hive_net_stats st;
    cr_assert_eq(hive_server_stats(s, &st), 0);
    cr_expect_eq(st.transfers_out, 1);
    cr_assert_eq(hive_client_stats(c, &st), 0);
    cr_expect_eq(st.transfers_in, 1);
    fprintf(stderr, "transfer %s: 16 MiB in %.2f s, %d snapshots, longest gap %.1f ms\n", scheme[0] ? scheme : "enet://",
            secs, cw.snaps, cw.max_gap_ns / 1e6);
    free(blob);
    hive_client_destroy(c);
    hive_server_destroy(s);
    hive_bus_destroy(sbus);
    hive_bus_destroy(cbus);
}

Test(transfer, sixteen_mib_while_snapshots_flow_enet, .timeout = 120) { big_with_snapshots(""); }
Test(transfer, sixteen_mib_while_snapshots_flow_tcp, .timeout = 120) { big_with_snapshots("tcp://"); }

/* A peer that does not take pieces gets single frames up to its
 * max_frame, and HIVE_ETOOBIG above it. */
Test(transfer, a_peer_without_pieces_gets_single_frames, .timeout = 30)
{
    test_scheme = "tcp://";
    hive_server_config sc = { .max_frame = 1u << 20 };
    hive_client_config cc = { .max_frame = 200000, .no_pieces = true };
    fixture fx;
    fx_init(&fx, &sc, &cc, true);
    hive__conn *sk = fx.srv->ep.conns;
    cr_assert_not_null(sk);
    cr_expect(!sk->pieces, "not agreed");
    static uint8_t b[150000];
    memset(b, 'x', sizeof b);
    hive_msg m;
    level_msg(&m, b, sizeof b);
    cr_assert_eq(hive_server_send_msg(fx.srv, hive_client_cid(fx.cli), "game:echo", &m), HIVE_OK);
    hive_msg_free(&m);
    static uint8_t c2[250000];
    level_msg(&m, c2, sizeof c2);
    cr_expect_eq(hive_server_send_msg(fx.srv, hive_client_cid(fx.cli), "game:echo", &m), HIVE_ETOOBIG);
    hive_msg_free(&m);
    cr_assert(pump_until_event(fx.srv, fx.cli, 3000, fx.cr, "net:client.recv.game:echo", 1));
    hive_net_stats st;
    cr_assert_eq(hive_server_stats(fx.srv, &st), 0);
    cr_expect_eq(st.transfers_out, 0, "a single frame, no transfer");
    fx_fini(&fx);
}

/* The client sends raw pieces of its own making (past every check of
 * its send path); the server closes it with the named reason. */
typedef struct rawp { uint32_t tid, pid, total, off, flags, len; } rawp;
static void hostile(const rawp *ps, int n, const char *reason, const hive_server_config *sc0)
{
    test_scheme = "tcp://";
    hive_server_config sc = sc0 ? *sc0 : (hive_server_config){ 0 };
    fixture fx;
    fx_init(&fx, &sc, NULL, true);
    hive__ep *ep = &fx.cli->ep;
    hive__conn *k = ep->conns;
    int pid = hive_client_packet_id(fx.cli, "game:echo");
    static uint8_t slice[HIVE__PIECE_BYTES];
    memset(slice, 0xc0, sizeof slice);
    ep->now = hive__now_ms();
    for (int i = 0; i < n; i++) {
        hive__piece p = { ps[i].tid, ps[i].pid ? ps[i].pid : (uint32_t)pid, ps[i].total, ps[i].off, ps[i].flags,
                          NULL, ps[i].len };
        uint8_t hdr[HIVE__PIECE_HEADER_MAX];
        size_t hn = hive__piece_header(hdr, &p);
        const void *parts[2] = { hdr, slice };
        size_t lens[2] = { hn, ps[i].len };
        cr_assert_eq(hive__ep_send_frame_v(ep, k, HIVE__PID_PIECE, parts, lens, 2, true, 0), HIVE_OK);
    }
    hive_client_flush(fx.cli);
    cr_assert(pump(fx.srv, fx.cli, 3000, client_gone, fx.cli), "%s: not closed", reason);
    const rec_event *e = rec_find(fx.sr, HIVE_EV_SERVER_CLOSE);
    cr_assert_not_null(e);
    cr_expect_str_eq(e->reason_name, reason);
    fx_fini(&fx);
}

Test(transfer, broken_pieces_close_with_bad_transfer, .timeout = 60)
{
    /* A declared total over max_frame (65536 by default). */
    hostile((rawp[]){ { 1, 0, 70000, 0, 0, 1000 } }, 1, "bad_transfer", NULL);
    /* Out of order: a gap, then an overlap (duplicate). */
    hostile((rawp[]){ { 1, 0, 40000, 0, 0, 1000 }, { 1, 0, 40000, 2000, 0, 1000 } }, 2, "bad_transfer", NULL);
    hostile((rawp[]){ { 1, 0, 40000, 0, 0, 1000 }, { 1, 0, 40000, 500, 0, 1000 } }, 2, "bad_transfer", NULL);
    /* A later piece of a transfer that never began. */
    hostile((rawp[]){ { 3, 0, 40000, 1000, 0, 1000 } }, 1, "bad_transfer", NULL);
    /* Past its own total; a changed total; unknown flags; compression never agreed. */
    hostile((rawp[]){ { 1, 0, 1500, 0, 0, 1000 }, { 1, 0, 1500, 1000, 0, 1000 } }, 2, "bad_transfer", NULL);
    hostile((rawp[]){ { 1, 0, 4000, 0, 0, 1000 }, { 1, 0, 5000, 1000, 0, 1000 } }, 2, "bad_transfer", NULL);
    hostile((rawp[]){ { 1, 0, 4000, 0, 4, 1000 } }, 1, "bad_transfer", NULL);
    /* A Hive packet's pid. */
    hostile((rawp[]){ { 1, 5, 4000, 0, 0, 1000 } }, 1, "bad_transfer", NULL);
    /* Too many at once (max_transfers 2). */
    hive_server_config two = { .max_transfers = 2 };
    hostile((rawp[]){ { 1, 0, 40000, 0, 0, 1000 }, { 2, 0, 40000, 0, 0, 1000 }, { 3, 0, 40000, 0, 0, 1000 } }, 3,
            "bad_transfer", &two);
    /* Over the reassembly bound: two transfers of 40000 declared each,
     * within max_frame, but together past transfer_recv_bytes. */
    hive_server_config small = { .max_frame = 65536, .transfer_recv_bytes = 65536 };
    rawp many[6];
    for (int i = 0; i < 6; i++) many[i] = (rawp){ (uint32_t)(1 + i % 2), 0, 60000, (uint32_t)(i / 2) * 16384, 0, 16384 };
    hostile(many, 6, "bad_transfer", &small);
    /* The whole message is still one msgpack object: 0xc0 bytes are not. */
    hostile((rawp[]){ { 1, 0, 2000, 0, 0, 1000 }, { 1, 0, 2000, 1000, 0, 1000 } }, 2, "bad_msgpack", NULL);
}

/* A piece body that is cut short (its header truncated) is a bad_transfer. */
Test(transfer, a_truncated_piece_header_is_a_bad_transfer, .timeout = 30)
{
    test_scheme = "tcp://";
    fixture fx;
    fx_init(&fx, NULL, NULL, true);
    hive__ep *ep = &fx.cli->ep;
    hive__conn *k = ep->conns;
    const uint8_t body[] = { 0x96, 0x01, 0xcd, 0x01 };   /* tid 1, then a pid cut in half */
    ep->now = hive__now_ms();
    const void *parts[1] = { body };
    size_t lens[1] = { sizeof body };
    cr_assert_eq(hive__ep_send_frame_v(ep, k, HIVE__PID_PIECE, parts, lens, 1, true, 0), HIVE_OK);
    hive_client_flush(fx.cli);
    cr_assert(pump(fx.srv, fx.cli, 3000, client_gone, fx.cli));
    const rec_event *e = rec_find(fx.sr, HIVE_EV_SERVER_CLOSE);
    cr_assert_not_null(e);
    cr_expect_str_eq(e->reason_name, "bad_transfer");
    fx_fini(&fx);
}

Test(transfer, the_piece_decoder_takes_exactly_what_the_encoder_writes)
{
    uint8_t buf[HIVE__PIECE_HEADER_MAX + 3];
    hive__piece p = { 70000, 300, 16u << 20, 65536, 1, NULL, 3 }, q;
    size_t hn = hive__piece_header(buf, &p);
    memcpy(buf + hn, "abc", 3);
    cr_assert_eq(hive__piece_parse(buf, hn + 3, &q), 0);
    cr_expect(q.tid == 70000 && q.pid == 300 && q.total == 16u << 20 && q.offset == 65536 && q.flags == 1 && q.len == 3);
    cr_expect_eq(memcmp(q.data, "abc", 3), 0);
    for (size_t cut = 0; cut < hn + 3; cut++) cr_expect_eq(hive__piece_parse(buf, cut, &q), -1, "cut at %zu", cut);
    uint8_t more[sizeof buf + 1];
    memcpy(more, buf, hn + 3);
    more[hn + 3] = 0;
    cr_expect_eq(hive__piece_parse(more, hn + 4, &q), -1, "a byte after the slice");
}

/* The send queue for transfers is bounded: beyond it HIVE_EFULL, and the
 * connection stays open. */
Test(transfer, a_full_transfer_queue_refuses_and_keeps_the_connection, .timeout = 30)
{
    test_scheme = "tcp://";
    hive_server_config sc = { .max_frame = 1u << 20, .transfer_queue_bytes = 1u << 20, .compress_threshold = -1 };
    hive_client_config cc = { .max_frame = 1u << 20 };
    fixture fx;
    fx_init(&fx, &sc, &cc, true);
    static uint8_t b[600000];
    hive_msg m;
    level_msg(&m, b, sizeof b);
    hive_cid cid = hive_client_cid(fx.cli);
    /* The client reads nothing meanwhile: once the socket's buffers are
     * full, the queue fills and the next send is refused. */
    int ok = 0, rc = HIVE_OK;
    while (ok < 60 && (rc = hive_server_send_msg(fx.srv, cid, "game:echo", &m)) == HIVE_OK) ok++;
    hive_msg_free(&m);
    cr_assert_eq(rc, HIVE_EFULL, "refused after %d", ok);
    cr_assert_gt(ok, 0);
    cr_assert(pump_until_event(fx.srv, fx.cli, 20000, fx.cr, "net:client.recv.game:echo", ok),
              "every accepted one arrives");
    cr_expect_eq(hive_client_get_state(fx.cli), HIVE_CLIENT_OPEN);
    fx_fini(&fx);
}

/* A transfer cut by a lost link carries on after the resume: the server
 * replays the pieces the client never acknowledged, feeds the rest from
 * its queue, and the client, which kept its reassembly with the session,
 * gets the message once and whole. */
typedef struct cutw { watch w; int resumed; } cutw;
static void on_resumed(const hive_event *ev, void *u) { (void)ev; ((cutw *)u)->resumed++; }
static bool half_in(void *a) { return ((watch *)a)->prog_in_done > (int64_t)(BIG / 4); }

static void cut_mid_transfer(const char *scheme)
{
    test_scheme = scheme;
    hive_server_config sc = { .max_frame = 32u << 20, .compress_threshold = -1 };
    hive_client_config cc = { .max_frame = 32u << 20, .compress_threshold = -1, .reconnect_attempts = 5,
                              .reconnect_delay_ms = 20 };
    fixture fx;
    fx_init(&fx, &sc, &cc, true);
    uint8_t *blob = level_blob();
    cutw cw = { .w = { .want = blob, .want_len = BIG } };
    hive_bus_subscribe(fx.cbus, "net:client.recv.game:echo", on_level, &cw.w, NULL);
    hive_bus_subscribe(fx.cbus, HIVE_EV_CLIENT_TRANSFER, on_progress, &cw.w, NULL);
    hive_bus_subscribe(fx.cbus, HIVE_EV_CLIENT_RESUMED, on_resumed, &cw, NULL);
    hive_msg m;
    level_msg(&m, blob, BIG);
    cr_assert_eq(hive_server_send_msg(fx.srv, hive_client_cid(fx.cli), "game:echo", &m), HIVE_OK);
    hive_msg_free(&m);
    cr_assert(pump(fx.srv, fx.cli, 30000, half_in, &cw.w), "%s: a quarter never arrived", scheme);
    cr_assert_eq(cw.w.levels, 0);
    /* Cut at the transport, as a lost network would. */
    hive__conn *k = fx.cli->ep.conns;
    fx.cli->ep.tr->vt->abort(fx.cli->ep.tr, k->link);
    k->link = NULL;
    hive__ep_close(&fx.cli->ep, k, HIVE_CLOSE_PEER_VANISHED, NULL, true, HIVE__CLOSE_SILENT, false);
    hive__ep_conn_free(&fx.cli->ep, k);
    uint64_t end = hive_now_ns() + 60ull * 1000000000u;
    while (cw.w.levels == 0 && hive_now_ns() < end) {
        hive_server_service(fx.srv, 1);
        hive_client_service(fx.cli, 1);
    }
    pump(fx.srv, fx.cli, 300, NULL, NULL);
    cr_expect_eq(cw.resumed, 1, "%s: the session was resumed", scheme);
    cr_expect_eq(cw.w.levels, 1, "%s: the message arrived once", scheme);
    cr_expect_eq(cw.w.levels_ok, 1, "%s: and whole", scheme);
    free(blob);
    fx_fini(&fx);
}

Test(transfer, a_cut_transfer_is_resumed_tcp, .timeout = 120) { cut_mid_transfer("tcp://"); }
Test(transfer, a_cut_transfer_is_resumed_enet, .timeout = 120) { cut_mid_transfer(""); }

/* The client's side sends in pieces too, and progress is "out" there. */
static void client_to_server(const char *scheme)
{
    test_scheme = scheme;
    hive_server_config sc = { .max_frame = 4u << 20, .compress_threshold = -1 };
    hive_client_config cc = { .max_frame = 4u << 20, .compress_threshold = -1 };
    fixture fx;
    fx_init(&fx, &sc, &cc, true);
    size_t n = 3u << 20;
    uint8_t *blob = malloc(n);
    for (size_t i = 0; i < n; i++) blob[i] = (uint8_t)(i * 131 + (i >> 12));
    watch sw = { .want = blob, .want_len = n }, cw = { 0 };
    hive_bus_subscribe(fx.sbus, "net:server.recv.game:echo", on_level, &sw, NULL);
    hive_bus_subscribe(fx.sbus, HIVE_EV_SERVER_TRANSFER, on_progress, &sw, NULL);
    hive_bus_subscribe(fx.cbus, HIVE_EV_CLIENT_TRANSFER, on_progress, &cw, NULL);
    hive_msg m;
    level_msg(&m, blob, n);
    cr_assert_eq(hive_client_send_msg(fx.cli, "game:echo", &m), HIVE_OK);
    hive_msg_free(&m);
    uint64_t end = hive_now_ns() + 30000000000ull;
    while (!sw.levels && hive_now_ns() < end) {
        hive_server_service(fx.srv, 1);
        hive_client_service(fx.cli, 1);
    }
    cr_expect_eq(sw.levels, 1, "%s", scheme);
    cr_expect_eq(sw.levels_ok, 1, "%s: byte-exact", scheme);
    cr_expect_gt(cw.prog_out, 100, "%s: the client's progress out", scheme);
    cr_expect_gt(sw.prog_in, 100, "%s: the server's progress in", scheme);
    cr_expect_eq(cw.prog_out_done, sw.prog_in_done);
    free(blob);
    fx_fini(&fx);
}

Test(transfer, the_client_sends_in_pieces_too, .timeout = 60)
{
    client_to_server("tcp://");
    client_to_server("");
}
