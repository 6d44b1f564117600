/*
 * tools/loadgen/lg.h - the load generator core: N simulated players from
 * one process, each one ENet peer on one of a few ENet hosts.
 *
 * WHY RAW ENET PEERS, NOT ONE hive_client PER PLAYER: a hive_client owns
 * an ENet host (one UDP socket, one service loop). 4000 of them would mean
 * 4000 sockets and 4000 host scans per loop: the load generator would
 * measure itself. Instead each simulated player is an ENetPeer and speaks
 * the protocol itself (lg_proto_raw.c: the bare-ENet baseline;
 * lg_proto_hive.c: Hive's handshake and frames through net/frame.h and
 * hive/msg.h, so the bytes are exactly what a hive_client sends).
 *
 * WHY SEVERAL HOSTS: ENet caps a host at ENET_PROTOCOL_MAXIMUM_PEER_ID
 * (4095) peers, and every enet_host_service/flush walks all of a host's
 * peers, so one huge host costs O(N) per call. The loadgen spreads the
 * players over ceil(N / peers_per_host) hosts (default 1000 per host):
 * more sockets share the kernel's receive queues, and each scan is short.
 *
 * A player: connects (ramp-up at connect_rate per second), completes the
 * handshake, then while active sends an input at input_hz and a ping every
 * ping_ms, and receives snapshots; ramp-down disconnects at
 * disconnect_rate per second and waits for each disconnect to be
 * acknowledged (a clean close).
 *
 * One thread owns an lg; nothing here is thread-safe.
 */
#ifndef HIVE_LOADGEN_LG_H
#define HIVE_LOADGEN_LG_H

#include <stdbool.h>
#include <stdint.h>

#include "tools/loadgen/lg_measure.h"

typedef enum lg_proto_kind { LG_PROTO_RAW = 0, LG_PROTO_HIVE = 1 } lg_proto_kind;

/* Zero means default for every field but port. */
typedef struct lg_config {
    const char *host;         /* server address, default "127.0.0.1" */
    uint16_t port;            /* server port (required) */
    lg_proto_kind proto;      /* LG_PROTO_RAW or LG_PROTO_HIVE */
    int clients;              /* players to open, default 100 */
    int peers_per_host;       /* players per ENet host, default 1000, max 4095 */
    double input_hz;          /* inputs per player per second while active, default 30 */
    int ping_ms;              /* one ping per player every ping_ms while active, default 500 */
    int stall_ms;             /* a gap between snapshots this long is a stall, default 250 */
    int connect_rate;         /* connection attempts per second, default 2000 */
    int disconnect_rate;      /* disconnects per second on ramp-down, default 4000 */
    int connect_timeout_ms;   /* ENet connect plus handshake, default 15000 */
    int close_timeout_ms;     /* wait for disconnect acknowledgements, default 8000 */
    bool reliable;            /* raw protocol: send inputs reliable; default unreliable, as
                                 games send inputs (Hive: the server's registry decides) */
    const char *app;          /* app name in the Hive hello, default "hive-load" */
    int sockbuf;              /* SO_RCVBUF/SO_SNDBUF per host, default 4 MiB (kernel may cap) */
    int heartbeat_ms;         /* a player silent this long sends a ping, default 1000
                                 (hive_client's default) */
} lg_config;

/* Connection outcomes (cumulative over the lg's life). */
typedef struct lg_conn_stats {
    int attempted;      /* connect started */
    int connected;      /* handshake complete (raw: ENet connect) */
    int failed;         /* ENet connect or handshake failed or timed out */
    int rejected;       /* Hive reject received (counted in failed too) */
    int open;           /* connected now */
    int dropped;        /* closed by the server or timed out while open */
    int closed_clean;   /* our disconnect acknowledged */
    int closed_unclean; /* our disconnect not acknowledged in time */
    int proto_errors;   /* malformed or unexpected messages received */
    /* Why open players were dropped: drop_reason[r + 1] counts Hive close
     * reason r (0..LG_REASONS-2, from the server's close frame or the
     * reason Hive tags onto ENet's disconnect); drop_reason[0]: unknown
     * (bare ENet, or an ENet timeout). */
#define LG_REASONS 33
    int drop_reason[LG_REASONS];
} lg_conn_stats;

/* Traffic since the last lg_window_begin. */
typedef struct lg_window {
    double seconds;
    uint64_t inputs_sent, pings_sent, pongs_recv, snapshots_recv, other_recv;
    uint64_t bytes_sent, bytes_recv;   /* ENet payload bytes */
    uint64_t stalls;                   /* snapshot gaps >= stall_ms (open gaps included) */
    uint64_t max_gap_us;               /* longest snapshot gap seen */
    uint64_t lag_skips;                /* sends skipped because the loadgen fell behind */
    lg_hist rtt;                       /* ping -> pong round trips */
    lg_hist snap_delay;                /* server send -> client receive of snapshots (same host clock) */
    uint64_t cpu_ns;                   /* loadgen thread CPU during the window */
    uint64_t runq_wait_ns;             /* loadgen thread time spent waiting for a CPU */
    uint64_t max_step_us;              /* longest loop step (sends + service, no waiting) */
} lg_window;

typedef struct lg lg;

/* lg_create - set up hosts and player slots; opens no connection yet.
 * Returns NULL on bad config or out of memory (message on stderr). */
lg  *lg_create(const lg_config *cfg);
/* lg_destroy - reset every peer, destroy hosts, free. NULL is a no-op. */
void lg_destroy(lg *g);

/* lg_connect_all - ramp up: open all players at connect_rate per second
 * and service until each one is connected or failed (or timeout_ms).
 * Returns the number connected. */
int  lg_connect_all(lg *g, int timeout_ms);

/* lg_set_active - start (true) or stop sending inputs and pings. Players
 * keep receiving either way; idle players only answer ENet's keep-alive. */
void lg_set_active(lg *g, bool on);

/* lg_run - service everything for ms milliseconds. */
void lg_run(lg *g, int ms);

/* lg_window_begin / lg_window_end - measure traffic between the two calls.
 * end fills *w (stall accounting includes gaps still open at end). */
void lg_window_begin(lg *g);
void lg_window_end(lg *g, lg_window *w);

/* lg_disconnect_all - ramp down: disconnect every open player at
 * disconnect_rate per second and wait up to close_timeout_ms for the
 * acknowledgements. Returns the number closed cleanly by this call. */
int  lg_disconnect_all(lg *g);

void lg_conn_stats_get(const lg *g, lg_conn_stats *out);
int  lg_hosts(const lg *g);
/* lg_starved - players that completed the handshake but never received a
 * snapshot. */
int  lg_starved(const lg *g);

#endif /* HIVE_LOADGEN_LG_H */
