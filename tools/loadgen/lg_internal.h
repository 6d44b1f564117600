/* lg_internal.h - the loadgen's structures, shared by lg_core.c and the
 * protocol files (lg_proto_raw.c, lg_proto_hive.c). */
#ifndef HIVE_LOADGEN_LG_INTERNAL_H
#define HIVE_LOADGEN_LG_INTERNAL_H

#include <enet/enet.h>
#include <stddef.h>

#include "tools/loadgen/lg.h"

typedef enum lg_state {
    LG_IDLE = 0,      /* not started */
    LG_CONNECTING,    /* ENet connect in flight */
    LG_HANDSHAKE,     /* ENet connected, protocol handshake in flight */
    LG_OPEN,          /* ready: sends inputs, receives snapshots */
    LG_CLOSING,       /* our disconnect sent, waiting for its acknowledgement */
    LG_DONE           /* closed or failed; the peer is gone */
} lg_state;

typedef struct lg_client {
    ENetPeer *peer;
    int host;                 /* index into lg.hosts */
    lg_state state;
    uint32_t seq;             /* next input sequence number */
    uint64_t started_us;      /* connect began */
    uint64_t last_snap_us;    /* last snapshot, or window start */
    uint32_t ping_seq;
    uint32_t snaps;           /* snapshots received, ever */
    bool ever_open;           /* completed the handshake once */
    int close_reason;         /* from a close frame the server sent, or -1 */
    uint64_t last_tx_us;      /* last packet queued to the server */
    void *proto;              /* per-player protocol state (lg_proto_hive.c) */
} lg_client;

/* One protocol as the loadgen speaks it. Every function returns 0, or a
 * negative value when the peer must be dropped (counted as proto_errors). */
typedef struct lg_proto {
    const char *name;
    /* Per-lg protocol state (g->pstate); may be NULL. init returns 0 or -1. */
    int (*init)(lg *g);
    void (*fini)(lg *g);
    /* The ENet connection is up: raw is ready at once (call lg__ready),
     * Hive sends its hello. */
    int (*on_connect)(lg *g, lg_client *c);
    /* One ENet packet arrived; the protocol decodes it and reports through
     * lg__ready / lg__snapshot / lg__pong / lg__reject. */
    int (*on_packet)(lg *g, lg_client *c, const uint8_t *data, size_t len);
    int (*send_input)(lg *g, lg_client *c);
    int (*send_ping)(lg *g, lg_client *c, uint64_t now_ns);
    /* Before the ENet disconnect (Hive: a close frame); may be NULL. */
    int (*send_close)(lg *g, lg_client *c);
    void (*client_free)(lg_client *c);
} lg_proto;

extern const lg_proto lg__proto_raw;
extern const lg_proto lg__proto_hive;

struct lg {
    lg_config cfg;
    const lg_proto *proto;
    void *pstate;             /* the protocol's, see lg_proto.init */
    ENetHost **hosts;
    int nhosts;
    lg_client *clients;
    int nclients;
    bool active;

    /* send schedules: positions k of an endless round-robin over players */
    uint64_t sched_t0_ns;
    uint64_t input_done, ping_done;

    lg_conn_stats cs;
    lg_window win;
    uint64_t win_t0_us, win_cpu0, win_runq0;
    bool in_window;
    uint64_t last_hb_check_us;
};

/* Protocol -> core reports. */
void lg__ready(lg *g, lg_client *c);
void lg__reject(lg *g, lg_client *c);
/* server_ns: the server's CLOCK_MONOTONIC when it sent the snapshot (same
 * machine), or 0 when unknown. */
void lg__snapshot(lg *g, lg_client *c, uint64_t server_ns);
void lg__pong(lg *g, lg_client *c, uint64_t sent_ns);
void lg__other(lg *g, lg_client *c);
/* lg__send - queue bytes on the player's peer: reliable on channel 0,
 * unreliable-sequenced on channel 1 (as Hive's ENet transport). Counts
 * bytes. lg__send2 sends a header and a body as one packet. */
int  lg__send(lg *g, lg_client *c, const void *data, size_t len, bool reliable);
int  lg__send2(lg *g, lg_client *c, const void *head, size_t hlen,
               const void *body, size_t blen, bool reliable);

#endif /* HIVE_LOADGEN_LG_INTERNAL_H */
