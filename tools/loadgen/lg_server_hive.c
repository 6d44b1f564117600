/*
 * lg_server_hive.c - the Hive load server: a hive_server on ENet, driven
 * from this thread (no I/O thread), ticking at tick_hz and broadcasting
 * one load:snapshot to every open connection per tick with
 * hive_server_broadcast_id (the frame is encoded once). It publishes its
 * events on a bus as usual; one subscriber on `net:server.connection.*`
 * counts them (so the per-connection accept, handshake, send, recv and
 * close events are all built and delivered: the cost a game pays when it
 * listens to them). Inputs are counted from the recv events.
 */
#include "tools/loadgen/lg_server.h"
#include "tools/loadgen/lg_load_wire.h"
#include "tools/loadgen/lg_measure.h"

#include "hive/bus.h"
#include "hive/net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct hctx {
    lg_server_shared *sh;
    hive_server *srv;
    hive_event_id ev_accept, ev_hs, ev_recv, ev_close;
    int pid_input;
} hctx;

static void on_event(const hive_event *ev, void *user)
{
    hctx *x = user;
    lg_server_shared *sh = x->sh;
    atomic_fetch_add_explicit(&sh->events, 1, memory_order_relaxed);
    if (ev->id == x->ev_recv) {
        if (hive_event_int(ev, "pid", -1) == x->pid_input)
            atomic_fetch_add_explicit(&sh->inputs, 1, memory_order_relaxed);
    } else if (ev->id == x->ev_accept) {
        atomic_fetch_add_explicit(&sh->accepted, 1, memory_order_relaxed);
    } else if (ev->id == x->ev_hs) {
        atomic_fetch_add_explicit(&sh->handshakes, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&sh->open, 1, memory_order_relaxed);
        /* Mark it, so that its close knows it was open. */
        hive_server_set_user(x->srv, (hive_cid)hive_event_int(ev, "cid", 0), x);
    } else if (ev->id == x->ev_close) {
        if (hive_server_user(x->srv, (hive_cid)hive_event_int(ev, "cid", 0)) == x)
            atomic_fetch_sub_explicit(&sh->open, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&sh->closed, 1, memory_order_relaxed);
        if (hive_event_int(ev, "reason", -1) == HIVE_CLOSE_NORMAL)
            atomic_fetch_add_explicit(&sh->closed_normal, 1, memory_order_relaxed);
    }
}

/* The counting allocator, shaped for hive_set_allocator. */
static void *h_malloc(size_t n, void *u) { (void)u; return lg_count_malloc(n); }
static void *h_realloc(void *p, size_t n, void *u) { (void)u; return lg_count_realloc(p, n); }
static void  h_free(void *p, void *u) { (void)u; lg_count_free(p); }

int lg_server_hive_run(const lg_server_config *cfg_in, lg_server_shared *sh)
{
    lg_server_config cfg = *cfg_in;
    if (cfg.max_clients <= 0 || cfg.max_clients > 4000) cfg.max_clients = 4000;
    if (cfg.tick_hz <= 0) cfg.tick_hz = 30;
    if (cfg.snapshot_bytes < LG_SNAPSHOT_MIN) cfg.snapshot_bytes = 100;
    if (cfg.count_alloc) {
        hive_allocator a = { h_malloc, h_realloc, h_free, NULL };
        hive_set_allocator(&a);
    }

    hctx x = { .sh = sh };
    hive_bus *bus = hive_bus_create(NULL);
    if (!bus) goto fail0;
    char addr[64];
    snprintf(addr, sizeof addr, "enet://127.0.0.1:%u", cfg.port);
    hive_server_config sc = {
        .addr = addr,
        .max_connections = (uint32_t)cfg.max_clients,
        /* A load generator's players come from one machine (or a few). */
        .max_peers_per_addr = cfg.max_clients < HIVE_MAX_PEERS_PER_ADDR ? (uint32_t)cfg.max_clients
                                                                        : HIVE_MAX_PEERS_PER_ADDR,
        .app = LG_APP,
        .lazy_decode = cfg.lazy_decode,
        /* The load generator's bots join at once, all from one address. */
        .max_handshakes = cfg.max_clients < HIVE_MAX_HANDSHAKES ? (uint32_t)cfg.max_clients : HIVE_MAX_HANDSHAKES,
        .max_handshakes_per_addr = HIVE_MAX_HANDSHAKES,
    };
    hive_server *srv = hive_server_create(&sc, bus);
    if (!srv) goto fail1;
    x.srv = srv;
    hive_delivery d = cfg.reliable ? HIVE_RELIABLE : HIVE_UNRELIABLE;
    int pid_snap = hive_server_register(srv, LG_PKT_SNAPSHOT, 0, d);
    x.pid_input = hive_server_register(srv, LG_PKT_INPUT, 0, d);
    if (pid_snap < 0 || x.pid_input < 0) goto fail2;
    x.ev_accept = hive_bus_intern(bus, HIVE_EV_SERVER_ACCEPT);
    x.ev_hs = hive_bus_intern(bus, HIVE_EV_SERVER_HANDSHAKE);
    x.ev_recv = hive_bus_intern(bus, HIVE_EV_SERVER_RECV);
    x.ev_close = hive_bus_intern(bus, HIVE_EV_SERVER_CLOSE);
    if (hive_bus_subscribe(bus, "net:server.connection.*", on_event, &x, NULL) < 0) goto fail2;
    if (hive_server_start(srv) != 0) {
        if (!cfg.quiet) fprintf(stderr, "hive server: cannot start on %s\n", addr);
        goto fail2;
    }

    /* The snapshot body: one msgpack bin (hive/msg.h writes it). */
    hive_msg snap;
    hive_msg_init(&snap);
    uint8_t *blob = calloc(1, cfg.snapshot_bytes);
    if (!blob) goto fail3;
    for (size_t i = 12; i < cfg.snapshot_bytes - 2; i++) blob[i] = (uint8_t)i;

    atomic_store(&sh->port, hive_server_port(srv));
    atomic_store(&sh->live_bytes, lg_count_live());
    atomic_store(&sh->rss_bytes, lg_rss_bytes());
    atomic_store(&sh->ready, 1);

    const uint64_t period = (uint64_t)(1e9 / cfg.tick_hz);
    uint64_t next = lg_now_ns() + period, last_rss = 0;
    uint32_t t = 0;
    while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
        uint64_t now = lg_now_ns();
        if (now >= next) {
            if (atomic_load_explicit(&sh->broadcast, memory_order_relaxed)) {
                uint32_t tick = t;
                uint64_t tns = lg_now_ns();
                memcpy(blob, &tick, 4);
                memcpy(blob + 4, &tns, 8);
                hive_msg_reset(&snap);
                hive_msg_bin(&snap, blob, cfg.snapshot_bytes - 2);
                int n = hive_server_broadcast_id(srv, (uint32_t)pid_snap, hive_msg_data(&snap),
                                                 hive_msg_size(&snap), 0, 0);
                if (n > 0) atomic_fetch_add_explicit(&sh->snapshots, (uint64_t)n, memory_order_relaxed);
                hive_server_flush(srv);
            }
            t++;
            next += period;
            if (now > next + 4 * period) {
                uint64_t skipped = (now - next) / period;
                atomic_fetch_add_explicit(&sh->late_ticks, skipped, memory_order_relaxed);
                next += skipped * period;
            }
            atomic_fetch_add_explicit(&sh->ticks, 1, memory_order_relaxed);
            atomic_store_explicit(&sh->cpu_ns, lg_thread_cpu_ns(), memory_order_relaxed);
            atomic_store_explicit(&sh->runq_ns, lg_thread_runq_wait_ns(), memory_order_relaxed);
            atomic_store_explicit(&sh->live_bytes, lg_count_live(), memory_order_relaxed);
            if (now - last_rss > 1000000000ull) {
                atomic_store_explicit(&sh->rss_bytes, lg_rss_bytes(), memory_order_relaxed);
                atomic_store_explicit(&sh->sock_drops, lg_udp_drops(hive_server_port(srv)), memory_order_relaxed);
                last_rss = now;
            }
            /* Service once between two ticks, even when the next tick is
             * already due: a loop that runs late ticks back to back would
             * not read its socket until it caught up. */
            now = lg_now_ns();
        }
        int wait = now >= next ? 0 : (int)((next - now + 999999) / 1000000);
        hive_server_service(srv, wait);
    }
    free(blob);
    hive_msg_free(&snap);
    hive_server_destroy(srv);
    hive_bus_destroy(bus);
    return 0;
fail3:
    hive_msg_free(&snap);
fail2:
    hive_server_destroy(srv);
fail1:
    hive_bus_destroy(bus);
fail0:
    atomic_store(&sh->ready, -1);
    return -1;
}
