/* lg_server_raw.c - the baseline: the load server's game traffic on bare
 * ENet, the way an ENet user would write it (one host, one packet shared
 * by every peer through enet_host_broadcast). */
#include "tools/loadgen/lg_server.h"
#include "tools/loadgen/lg_measure.h"
#include "tools/loadgen/lg_raw_wire.h"

#include <enet/enet.h>
#include <stdio.h>
#include <stdlib.h>

static void *cnt_malloc(size_t n) { return lg_count_malloc(n); }
static void cnt_free(void *p) { lg_count_free(p); }

static void on_receive(ENetEvent *ev, lg_server_shared *sh)
{
    const uint8_t *d = ev->packet->data;
    size_t n = ev->packet->dataLength;
    if (n == LG_RAW_INPUT_SIZE && d[0] == LG_RAW_INPUT) {
        atomic_fetch_add_explicit(&sh->inputs, 1, memory_order_relaxed);
    } else if (n == LG_RAW_PING_SIZE && d[0] == LG_RAW_PING) {
        uint8_t b[LG_RAW_PING_SIZE];
        memcpy(b, d, sizeof b);
        b[0] = LG_RAW_PONG;
        ENetPacket *p = enet_packet_create(b, sizeof b, ENET_PACKET_FLAG_RELIABLE);
        if (p && enet_peer_send(ev->peer, 0, p) < 0) enet_packet_destroy(p);
        atomic_fetch_add_explicit(&sh->pings, 1, memory_order_relaxed);
    } else {
        /* Anything else is hostile or broken: drop the peer. */
        enet_peer_reset(ev->peer);
        atomic_fetch_sub_explicit(&sh->open, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&sh->closed, 1, memory_order_relaxed);
    }
}

static void tick(ENetHost *host, const lg_server_config *cfg, lg_server_shared *sh,
                 uint8_t *snap, uint32_t t)
{
    if (!atomic_load_explicit(&sh->broadcast, memory_order_relaxed)) return;
    int open = atomic_load_explicit(&sh->open, memory_order_relaxed);
    if (open <= 0) return;
    snap[0] = LG_RAW_SNAPSHOT;
    lg_put_u32(snap + 1, t);
    lg_put_u64(snap + 5, lg_now_ns());
    ENetPacket *p = enet_packet_create(snap, cfg->snapshot_bytes,
                                       cfg->reliable ? ENET_PACKET_FLAG_RELIABLE : 0);
    if (!p) return;
    enet_host_broadcast(host, cfg->reliable ? 0 : 1, p);
    atomic_fetch_add_explicit(&sh->snapshots, (uint64_t)open, memory_order_relaxed);
}

int lg_server_raw_run(const lg_server_config *cfg_in, lg_server_shared *sh)
{
    lg_server_config cfg = *cfg_in;
    if (cfg.max_clients <= 0 || cfg.max_clients > ENET_PROTOCOL_MAXIMUM_PEER_ID)
        cfg.max_clients = ENET_PROTOCOL_MAXIMUM_PEER_ID;
    if (cfg.tick_hz <= 0) cfg.tick_hz = 30;
    if (cfg.snapshot_bytes < LG_RAW_SNAPSHOT_MIN) cfg.snapshot_bytes = 100;

    if (cfg.count_alloc) {
        ENetCallbacks cb = { .malloc = cnt_malloc, .free = cnt_free, .no_memory = NULL };
        if (enet_initialize_with_callbacks(ENET_VERSION, &cb) != 0) goto fail0;
    } else if (enet_initialize() != 0) {
        goto fail0;
    }
    ENetAddress addr = { .host = ENET_HOST_ANY, .port = cfg.port };
    enet_address_set_host(&addr, "127.0.0.1");
    ENetHost *host = enet_host_create(&addr, (size_t)cfg.max_clients, 2, 0, 0);
    if (!host) {
        if (!cfg.quiet) fprintf(stderr, "raw server: cannot bind port %u\n", cfg.port);
        goto fail1;
    }
    /* Socket buffers stay at ENet's defaults (256 KiB), as Hive's ENet
     * transport leaves them: the comparison is ENet-as-shipped on both
     * sides. (The loadgen enlarges its own: it is the instrument.) */
    if (cfg.sockbuf > 0) {
        enet_socket_set_option(host->socket, ENET_SOCKOPT_RCVBUF, cfg.sockbuf);
        enet_socket_set_option(host->socket, ENET_SOCKOPT_SNDBUF, cfg.sockbuf);
    }
    uint8_t *snap = calloc(1, cfg.snapshot_bytes);
    if (!snap) goto fail2;
    for (size_t i = 13; i < cfg.snapshot_bytes; i++) snap[i] = (uint8_t)i;

    atomic_store(&sh->port, host->address.port);
    atomic_store(&sh->live_bytes, lg_count_live());
    atomic_store(&sh->rss_bytes, lg_rss_bytes());
    atomic_store(&sh->ready, 1);

    const uint64_t period = (uint64_t)(1e9 / cfg.tick_hz);
    uint64_t next = lg_now_ns() + period, last_rss = 0;
    uint32_t t = 0;
    while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
        uint64_t now = lg_now_ns();
        if (now >= next) {
            tick(host, &cfg, sh, snap, t++);
            next += period;
            if (now > next + 4 * period) {
                /* Too far behind to catch up: skip, and say so. */
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
                atomic_store_explicit(&sh->sock_drops, lg_udp_drops(host->address.port), memory_order_relaxed);
                last_rss = now;
            }
            /* Service once between two ticks, even when the next tick is
             * already due: a loop that runs late ticks back to back would
             * not read its socket until it caught up. */
            now = lg_now_ns();
        }
        enet_uint32 wait = now >= next ? 0 : (enet_uint32)((next - now + 999999) / 1000000);
        ENetEvent ev;
        int r = enet_host_service(host, &ev, wait);
        while (r > 0) {
            switch (ev.type) {
            case ENET_EVENT_TYPE_CONNECT:
                atomic_fetch_add_explicit(&sh->accepted, 1, memory_order_relaxed);
                atomic_fetch_add_explicit(&sh->handshakes, 1, memory_order_relaxed);
                atomic_fetch_add_explicit(&sh->open, 1, memory_order_relaxed);
                break;
            case ENET_EVENT_TYPE_RECEIVE:
                on_receive(&ev, sh);
                enet_packet_destroy(ev.packet);
                break;
            case ENET_EVENT_TYPE_DISCONNECT:
                atomic_fetch_sub_explicit(&sh->open, 1, memory_order_relaxed);
                atomic_fetch_add_explicit(&sh->closed, 1, memory_order_relaxed);
                /* ENet carries no reason; a disconnect the client asked
                 * for is the normal close here. */
                atomic_fetch_add_explicit(&sh->closed_normal, 1, memory_order_relaxed);
                break;
            default:
                break;
            }
            r = enet_host_check_events(host, &ev);
        }
    }
    enet_host_flush(host);
    free(snap);
    enet_host_destroy(host);
    enet_deinitialize();
    return 0;
fail2:
    enet_host_destroy(host);
fail1:
    enet_deinitialize();
fail0:
    atomic_store(&sh->ready, -1);
    return -1;
}
