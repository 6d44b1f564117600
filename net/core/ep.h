/*
 * net/core/ep.h - the endpoint core: everything a server and a client
 * both do, written once. A client is an endpoint that dials and has at
 * most one connection; a server is one that accepts many (ENet's host,
 * seen from both sides).
 *
 * LAYERS of net/ (arrows: may include; never the other way):
 *
 *   net/server/  net/client/    the two faces: what is truly one side's
 *         \        /             (accepting, admission, the registry's
 *          v      v              owner side / dialing, the registry swap)
 *         net/core/             this endpoint core: connections, their
 *          |      \             state machine, events, sends, requests,
 *          |       v             timers, the I/O round, threads, pull
 *          |   net/transport/   enet, tcp, tls, enet+tls, aead, addresses
 *          v
 *       net/wire/               varints, frames, msgpack scan/decode,
 *                               registry wire format, handshake bodies
 *
 * net/wire/ and net/transport/ include nothing else of net/; the two
 * faces never include each other. tests/docs/test_layers.c checks this.
 *
 * What is here: the bus and how events leave (publish on the caller's
 * thread, or post from Hive's I/O thread), the connection list and what
 * each frame means for it, the locked queue that carries sends from other
 * threads to the I/O loop, the bounded pull queue with its waiters, frame
 * output, counters, the service loop and Hive's own I/O thread. What
 * differs between the sides comes in through hive__ep_face.
 *
 * Locking: `lock` guards the request queue, the pull queue, the
 * connection list (changed under the lock: on the I/O thread, or by
 * hive_client_connect before any I/O thread runs; read on the I/O thread
 * without it), `closed`, `wake_gen`, the packet table pointer and
 * whatever the face declares shared. Everything else belongs to the I/O
 * thread.
 */
#ifndef HIVE_NET_EP_H
#define HIVE_NET_EP_H

#include "hive/net.h"
#include "net/core/conn.h"
#include "net/core/admit.h"
#include "net/core/shape.h"
#include "net/transport/transport.h"
#include "net/transport/netsim.h"
#include "net/wire/compress.h"

#include <pthread.h>

/* A request from a thread other than the I/O thread. */
typedef enum hive__qkind {
    HIVE__Q_SEND = 0,
    HIVE__Q_BCAST,
    HIVE__Q_CLOSE,
    HIVE__Q_HIVE,        /* one of Hive's own frames (pid < 64) to cid */
    HIVE__Q_REMOTE       /* a remote event: cid = how many cids lead data; dlv: unreliable */
} hive__qkind;

typedef struct hive__qitem {
    struct hive__qitem *next;
    uint8_t kind;
    int dlv;
    hive_cid cid;        /* SEND/CLOSE target; BCAST: the one excepted */
    uint32_t pid;
    int reason;
    size_t len;          /* body (or close message) bytes in data */
    uint8_t data[];
} hive__qitem;

/* One packet waiting for hive_*_next. */
typedef struct hive__pitem {
    struct hive__pitem *next;
    hive_cid cid;
    uint32_t pid;
    size_t len;
    const char *name;    /* points into data, after the body */
    uint8_t data[];
} hive__pitem;

/* The events an endpoint publishes; a face without one names it NULL. */
typedef enum hive__ev {
    HIVE__EV_INITIALIZE = 0, HIVE__EV_START, HIVE__EV_STOP, HIVE__EV_INTERRUPT,
    HIVE__EV_HANDSHAKE, HIVE__EV_SEND, HIVE__EV_RECV, HIVE__EV_CLOSE,
    HIVE__EV_BIND, HIVE__EV_SHUTDOWN, HIVE__EV_ACCEPT, HIVE__EV_CONNECT,
    HIVE__EV_BACKPRESSURE, HIVE__EV_STATS, HIVE__EV_RECONNECTING, HIVE__EV_INVALIDATED,
    HIVE__EV_SUSPENDED, HIVE__EV_RESUMED, HIVE__EV_WARNING, HIVE__EV_TRANSFER,
    HIVE__EV_HANDOFF,   /* server: handedoff; client: redirected */
    HIVE__EV_COUNT
} hive__ev;

typedef struct hive__ep hive__ep;

enum { HIVE__CARRY_NO = 0, HIVE__CARRY_FREE = 1, HIVE__CARRY_KEEP = 2 };

/* Acknowledgements (docs/PROTOCOL.md, "Resume"): at once when this many
 * bytes of counted frames (as framed) came in since the last one, else
 * within HIVE__ACK_DELAY_MS. Bytes, not frames: what an ack frees is the
 * sender's replay buffer, bounded in bytes. Half the smallest buffer a
 * side may have (HIVE_MIN_RESUME_BUFFER_BYTES) leaves the other half for
 * what is in flight, whatever the frame size, while a stream of small
 * frames costs one ack per 32 KiB, not one per 32 frames (on a link with
 * nothing else going back an ack is a datagram of its own, and ENet's
 * acknowledgement of it another). */
#define HIVE__ACK_BYTES    (HIVE_MIN_RESUME_BUFFER_BYTES / 2)
#define HIVE__ACK_DELAY_MS 50u

/* Each face's event names (hive/net.h HIVE_EV_*), by hive__ev. */
extern const char *const hive__server_event_names[HIVE__EV_COUNT];
extern const char *const hive__client_event_names[HIVE__EV_COUNT];

/*
 * A face: what one side does differently. Every hook runs on the I/O
 * thread; NULL hooks do nothing.
 */
typedef struct hive__ep_face {
    const char *key;                         /* "server"/"client": the emitter's field */
    const char *const *names;                /* [HIVE__EV_COUNT]: hive__*_event_names */
    const char *recv_prefix;                 /* per-packet events: prefix + name */
    bool one_conn;                           /* a client: its connection's close
                                                closes the pull queue, and the I/O
                                                thread ends with it */
    int final_reason;                        /* what the I/O thread closes with */
    /* A peer arrived (listening transports): set up c (cid, admission) or
     * refuse with a negative code. */
    int  (*accepted)(hive__ep *ep, hive__conn *c);
    /* A dialed link is up. */
    void (*connected)(hive__ep *ep, hive__conn *c);
    /* The handshake steps: HELLO and READY (server), WELCOME (client). */
    void (*handshake)(hive__ep *ep, hive__conn *c, hive__act *act);
    /* c enters CLOSING with reason (before its close event); prev is the
     * state it was in. Returns HIVE__CARRY_NO to close as usual, or says
     * the session lives on past this link: no close event then, and the
     * endpoint is not "closed". HIVE__CARRY_FREE: c goes as usual (a
     * client that will redial: it set ep->redial_at and keeps what it
     * needs); HIVE__CARRY_KEEP: c stays, SUSPENDED, its link dropped (a
     * server keeping the session for a resume). */
    int  (*closing)(hive__ep *ep, hive__conn *c, int reason, int prev);
    /* one_conn: ep->redial_at has come and ep->conns is empty: dial again
     * (clear redial_at, or set a later one). */
    void (*redial)(hive__ep *ep);
    /* c is being unlinked (ep->lock held): drop the face's index of it. */
    void (*forget)(hive__ep *ep, hive__conn *c);
    /* c is freed; ep->conns no longer holds it. */
    void (*released)(hive__ep *ep);
    /* A user send from another thread whose connection is not open
     * (NULL, or still dialing): a client keeps it for its session. */
    void (*keep)(hive__ep *ep, const hive__pentry *pe, const void *body, size_t len, int dlv);
    /* A remote subscription packet (pid, its decoded body) on c, open. */
    void (*remote)(hive__ep *ep, hive__conn *c, uint32_t pid, const msgpack_object *o);
    /* c is about to be freed: drop what remote subscriptions hold of it. */
    void (*remote_drop)(hive__ep *ep, hive__conn *c);
    /* A HIVE__Q_REMOTE request: data is n cids then the event's body. */
    void (*remote_send)(hive__ep *ep, const uint8_t *data, size_t len, uint32_t n, bool unreliable);
    /* A request's target (HIVE__Q_SEND/CLOSE), or NULL. */
    hive__conn *(*find)(hive__ep *ep, hive_cid cid);
    /* Stop the endpoint (a stop asked for from inside a handler runs
     * when the outermost service or API call is done). */
    void (*do_stop)(hive__ep *ep);
    /* Create: resolve cfg (NULL: defaults) into the object and set up
     * its own parts (HIVE_OK, or the code: a bad field is recorded with
     * hive__create_fail first). Destroy (and a failed create): free what
     * setup made; safe on a half-made object. Owner thread. */
    int  (*setup)(hive__ep *ep, const void *cfg);
    void (*teardown)(hive__ep *ep);
    /* The side's public service call (its state checks included), and
     * whether nothing more can arrive: for the caller-thread pull wait. */
    int  (*service)(hive__ep *ep, int timeout_ms);
    bool (*ended)(hive__ep *ep);
} hive__ep_face;

struct hive__ep {
    hive_bus *bus;
    void *self;                  /* the hive_server or hive_client */
    const char *self_key;        /* "server" or "client" */
    const hive__ep_face *face;
    hive_event_id ev[HIVE__EV_COUNT];
    bool threaded;
    bool stream;                 /* transport delivers a byte stream */
    bool lazy_decode;
    uint32_t max_frame;          /* largest frame this side accepts */
    size_t sendq_max;            /* send_queue_bytes: a connection's bound */
    uint32_t rx_fps, rx_bps;     /* receive limits, 0 = off (hive/net.h RECEIVE LIMITS) */
    size_t sendq_high, sendq_low;/* backpressure at high, re-armed under low */
    pthread_t io_thread;         /* read/written with __atomic */
    int io_thread_set;           /* __atomic */

    pthread_mutex_t lock;
    pthread_cond_t cond;
    int waiters;                 /* threads in a cond wait (lock) */
    unsigned wake_gen;           /* bumped to wake every waiter (lock) */
    bool closed;                 /* nothing more will arrive (lock) */
    hive__qitem *q_head, *q_tail;
    size_t q_count;
    bool pull;
    size_t p_cap, p_count;
    hive__pitem *p_head, *p_tail;

    hive__transport *tr;         /* I/O thread */
    hive__decoder dec;           /* I/O thread */
    uint64_t now;                /* I/O thread: ms clock of this round */
    int interrupt;               /* __atomic */
    hive_net_stats stats;        /* fields updated with __atomic */
    hive_event_id ev_sub_dropped;   /* server: net:server.subscription.dropped */

    const void *cfg;             /* the face's resolved config (read-only) */
    size_t cfg_size;
    char *app, *app_version;     /* the config's, kept (hive__ep_keep) */
    hive_tls_config *tls;        /* the face's stored TLS config, its paths kept */

    hive__conn *conns;           /* see Locking */
    size_t nconns;
    hive__ptable *pt;            /* packet types; replaced under lock */
    bool any_pe_ids;             /* some packet type has an event name */
    bool any_pe_wanted;          /* ... and a listener (refresh_wants) */
    bool stopping;               /* closing everything: refuse new links */
    size_t xfer_max;             /* transfer_queue_bytes (LARGE MESSAGES) */
    uint32_t xfer_n;             /* max_transfers */
    size_t xfer_recv_max;        /* transfer_recv_bytes */
    bool no_pieces;              /* pieces not offered / agreed */
    bool no_seq;                 /* measurement knob (bench/net.c's baseline):
                                    protocol 2's counting, replay copies and
                                    acks off. Never set by the library. */
    uint64_t redial_at;          /* one_conn: dial again at this time (ms; 0: no);
                                    the endpoint lives on with no connection */
    hive__timing tm;
    uint64_t last_tick;
    int32_t stats_interval_ms;   /* per-connection stats events; <= 0: none */
    uint32_t drain_ms;           /* drain_timeout_ms (0: a graceful close does not wait) */
    size_t zmin;                 /* compress_threshold: user bodies this large are
                                    compressed; 0: compression off (not offered) */
    hive__zstd z;                /* I/O thread: the compressor and decompressor */
    char **nozip;                /* packet names never compressed (set like shapes) */
    size_t n_nozip;
    hive__shape *shapes;         /* declared shapes by name (owner thread sets them
                                    while no I/O runs; the packet table points in) */
    uint32_t names_checked;      /* I/O thread: bus ids looked at for unknown
                                    packet names (UNKNOWN PACKET NAMES) */
    uint32_t bw_in, bw_out;      /* bandwidth_in / bandwidth_out (bytes/s, 0: unlimited) */
    hive__netsim_spec netsim;    /* the simulator between core and transport (off: .on false) */
    char *netsim_text;           /* the spec in force, kept */
    hive__admit adm;             /* I/O thread: links before their hello (a server's;
                                    set up by its face, freed with the endpoint) */
    uint32_t max_per_addr;       /* server: max_peers_per_addr (0 on a client) */
    char **ws_origins;           /* server: hive_server_config.ws_origins, copied */
    size_t ws_norigins;
    char *web_root;              /* server: hive_server_config.web_root, copied */

    int in_service;              /* owner thread: service / API call depth */
    bool stop_pending;           /* a handler asked for a stop */
    bool thread_on;
    int thread_quit;             /* __atomic */
    pthread_t thread;
};

/*
 * Creating and destroying a face's object (a struct whose first member is
 * its hive__ep), for hive_server_create / hive_client_create:
 *
 *   hive__ep_create - allocate `size` zeroed bytes, set up the endpoint
 *     for face on bus, then let face->setup resolve cfg into the object.
 *     Publishes initialize and returns the object; or records why not for
 *     hive_create_error() (no bus, a bad field, out of memory), undoes
 *     everything and returns NULL.
 *   hive__ep_destroy - face->teardown, then the endpoint, then the object.
 */
void *hive__ep_create(size_t size, hive_bus *bus, const hive__ep_face *face, const void *cfg);
void  hive__ep_destroy(hive__ep *ep);

/* For face->setup: the options of the config it resolved, and where that
 * config is kept (cfg_size bytes, read back by hive__ep_config_get). */
void hive__ep_options(hive__ep *ep, const void *cfg, size_t cfg_size, bool threaded, bool pull,
                      size_t pull_cap, bool lazy_decode, uint32_t max_frame, size_t send_queue_bytes);
/* hive_*_config_get: copy the config in force into out. Any thread. */
int  hive__ep_config_get(const hive__ep *ep, void *out);

/*
 * hive__ep_keep - keep copies of the strings both configs have: *app,
 * *app_version and the TLS paths in *tls (all in the face's stored config)
 * then point at the endpoint's copies, which hive__ep_destroy frees.
 * HIVE_OK or HIVE_ENOMEM (what was kept is freed by hive__ep_destroy).
 */
int hive__ep_keep(hive__ep *ep, const char **app, const char **app_version, hive_tls_config *tls);

/*
 * hive__ep_open - parse addr (default port HIVE_DEFAULT_PORT) into *a and
 * make the transport for its scheme, calling back into this endpoint,
 * with room for max_links links and ep's frame limit, heartbeat timing
 * (ep->tm) and TLS config. Returns HIVE_OK and *out (not installed yet),
 * HIVE_EADDR, HIVE_EUNSUPPORTED, HIVE_ENOMEM, HIVE_EIO.
 */
int hive__ep_open(hive__ep *ep, const char *addr, size_t max_links, bool no_coalesce, hive__addr *a,
                  hive__transport **out);

/* Install the transport (under the lock: other threads wake it) / take it
 * out and destroy it. Owner thread, with no I/O thread running. */
void hive__ep_set_transport(hive__ep *ep, hive__transport *tr);
void hive__ep_drop_transport(hive__ep *ep);

/* hive_*_next: the oldest packet of the pull queue (see hive_packet). */
int hive__ep_next(hive__ep *ep, hive_packet *out);


/* Deliver an event: publish (caller-thread mode) or post (threaded).
 * id <= 0 is ignored. */
void hive__ep_emit(hive__ep *ep, hive_event_id id, const hive_field *f, size_t n);
/* An event whose only field is the emitter; one with {reason, reason_name}. */
void hive__ep_emit_self(hive__ep *ep, hive__ev which);
void hive__ep_emit_reason(hive__ep *ep, hive__ev which, int reason);

/* Is the calling thread the I/O thread? */
bool hive__ep_on_io_thread(hive__ep *ep);
void hive__ep_set_io_thread(hive__ep *ep, pthread_t t);

/* Queue a request for the I/O loop and wake it. body copied. */
int hive__ep_request(hive__ep *ep, hive__qkind kind, hive_cid cid, uint32_t pid,
                     int dlv, int reason, const void *body, size_t len);
/* Take every queued request (FIFO), for the I/O loop. */
hive__qitem *hive__ep_take_requests(hive__ep *ep);
/* Drop every queued request unrun: they were meant for a connection that
 * is gone (a client about to dial a new one). Owner thread. */
void hive__ep_drop_requests(hive__ep *ep);

/*
 * Write one frame on c's link, within c's send queue bound (hive/net.h
 * SEND QUEUES): a frame that does not fit under ep->sendq_max (after one
 * flush to make room) is not queued. Crossing the high-water mark
 * publishes backpressure. Never closes c: the callers decide what a full
 * queue means (a user frame: slow_consumer; Hive's own: dropped).
 * Returns HIVE_OK, HIVE_ETOOBIG (over the peer's max_frame or the bound),
 * HIVE_EFULL, HIVE_ECLOSED, HIVE_ENOMEM. I/O thread.
 */
int hive__ep_send_frame(hive__ep *ep, hive__conn *c, uint32_t pid, const void *body,
                        size_t len, int dlv);
/* The same with frame flags (HIVE__FLAG_COMPRESSED: body is compressed,
 * and its decompressed size was checked against the peer's max_frame). */
int hive__ep_send_frame_f(hive__ep *ep, hive__conn *c, uint32_t pid, const void *body,
                          size_t len, int dlv, uint8_t flags);

/*
 * A frame encoded once for many connections (a broadcast): the header is
 * built once, and where the transport can share one buffer between links
 * (->share: ENet) every connection gets that buffer instead of a copy.
 * init: HIVE_OK, or HIVE_ETOOBIG (the length does not fit a frame).
 * send: as hive__ep_send_frame for one connection. fini: releases the
 * shared buffer and adds the counters. I/O thread.
 */
typedef struct hive__bcast {
    uint8_t hdr[HIVE__FRAME_HEADER_MAX];
    size_t hn;
    const void *body;
    size_t len;
    size_t need;          /* the length field: at most the peer's max_frame */
    int dlv;
    uint32_t pid;
    bool compressed;      /* the body is compressed (FLAG_COMPRESSED) */
    bool counted;         /* a reliable user frame: counted, kept for a resume */
    bool tried;           /* ->share was asked (once, at the first send) */
    void *shared;         /* the transport's buffer, or NULL: ->send per link */
    uint64_t frames, bytes;
} hive__bcast;

int  hive__ep_bcast_init(hive__bcast *b, uint32_t pid, const void *body, size_t len, int dlv);
/* The same for a compressed body (flag COMPRESSED); raw_len: its size
 * before compression, which the peer's max_frame bounds. */
int  hive__ep_bcast_init_z(hive__bcast *b, uint32_t pid, const void *body, size_t len, size_t raw_len,
                           int dlv);
int  hive__ep_bcast_send(hive__ep *ep, hive__conn *c, hive__bcast *b);
void hive__ep_bcast_fini(hive__ep *ep, hive__bcast *b);

/* c's send queue in bytes (0 when the transport does not say), and
 * whether it is at or over the high-water mark. I/O thread. */
size_t hive__ep_sendq(hive__ep *ep, hive__conn *c);
bool   hive__ep_sendq_high(hive__ep *ep, hive__conn *c);
/* c's queue is at q, over the high-water mark: publish backpressure
 * (when someone listens) and start its stall clock. Once per crossing. */
void   hive__ep_sendq_crossed(hive__ep *ep, hive__conn *c, size_t q);

/* The same with the body in n parts (a piece: its header, then its
 * slice). */
int hive__ep_send_frame_v(hive__ep *ep, hive__conn *c, uint32_t pid, const void *const *parts,
                          const size_t *plens, int n, int dlv, uint8_t flags);

/* The transfer fields of a config, resolved (0: defaults) and checked
 * against max_frame into ep. HIVE_OK or HIVE_EINVAL (recorded). */
int hive__ep_transfers(hive__ep *ep, const char *what, uint32_t max_frame, size_t *queue, uint32_t *n,
                       size_t *recv, bool no_pieces);

/* ---- Large messages (net/core/transfer.c; I/O thread) ---- */
/* Whether a reliable body of len bytes goes to c as a transfer. */
bool hive__ep_xfer_wanted(const hive__conn *c, size_t len);
/* Queue body (len bytes as sent; raw: before compression, flags
 * HIVE__PIECE_FLAG_*) of type pid as a transfer to c. HIVE_OK, HIVE_EFULL
 * (over transfer_queue_bytes), HIVE_ENOMEM. */
int  hive__ep_xfer_send(hive__ep *ep, hive__conn *c, uint32_t pid, const void *body, size_t len, size_t raw,
                        uint8_t flags);
/* Hand c's transport the pieces it has room for. */
void hive__ep_xfer_feed(hive__ep *ep, hive__conn *c);
/* A piece arrived on c: checked, added, and the message delivered when
 * it is whole; a broken rule closes c (bad_transfer). */
void hive__ep_xfer_piece(hive__ep *ep, hive__conn *c, const hive__piece *p);
/* A whole message (from a transfer) takes a frame's path: decompression,
 * checks, delivery (endpoint.c). */
void hive__ep_deliver_whole(hive__ep *ep, hive__conn *c, uint32_t pid, uint8_t flags, const uint8_t *body,
                            size_t len);

/* Send an encoded Hive message (handshake, close, ping) reliably. */
int hive__ep_send_msg(hive__ep *ep, hive__conn *c, uint32_t pid, const hive_msg *m);

/* Reliable or not: the per-send flags win over the type's delivery. */
int  hive__pick_dlv(const hive__pentry *pe, unsigned flags);   /* HIVE__DLV_* */

/* Does the frame for a body of len bytes fit max_frame? */
bool hive__frame_fits(uint32_t pid, size_t len, uint32_t max_frame);

/* Pull queue. push: copy raw and name; false when full (counted).
 * I/O thread. pop: oldest item or NULL. */
bool hive__ep_pull_push(hive__ep *ep, hive_cid cid, uint32_t pid, const char *name,
                        const void *raw, size_t len);
int  hive__ep_pull_pop(hive__ep *ep, hive_packet *out);

/* Wake every waiter (cond broadcast, wake_gen++) and, when closed, make
 * them see it. */
void hive__ep_wake_all(hive__ep *ep, bool closed);

/* Threaded-mode wait for the pull queue: 1 ready, 0 timeout, HIVE_ECLOSED. */
int hive__ep_pull_wait(hive__ep *ep, int timeout_ms);

/* Deadline helpers for waits: a timespec `ms` from now (CLOCK_MONOTONIC
 * conds are set up in ep_init). */
void hive__deadline(struct timespec *ts, int ms);

/*
 * The config fields both sides have (pointers into a hive_server_config or
 * hive_client_config), resolved in one place: zero fields get their
 * HIVE_DEFAULT_*, then the limits are checked. Returns HIVE_OK, or records
 * the bad field for hive_create_error() and returns HIVE_EINVAL.
 */
typedef struct hive__ep_config {
    const char *what;                      /* the config struct's name, for messages */
    const char **app, **app_version;
    uint32_t *handshake_timeout_ms, *heartbeat_ms, *heartbeat_timeout_ms, *max_frame;
    size_t *pull_capacity;
    size_t *send_queue_bytes;
    uint32_t *frame_timeout_ms;
    uint32_t *recv_frames_per_sec, *recv_bytes_per_sec;
    int32_t *drain_timeout_ms;
    int32_t *compress_threshold;
} hive__ep_config;

int hive__ep_config_resolve(const hive__ep_config *c);
/* The shared fields of a config k (the two structs name them alike). */
#define HIVE__EP_CONFIG_RESOLVE(what, k)                                              \
    hive__ep_config_resolve(&(hive__ep_config){ (what), &(k).app, &(k).app_version,  \
        &(k).handshake_timeout_ms, &(k).heartbeat_ms, &(k).heartbeat_timeout_ms,     \
        &(k).max_frame, &(k).pull_capacity, &(k).send_queue_bytes, &(k).frame_timeout_ms,  \
        &(k).recv_frames_per_sec, &(k).recv_bytes_per_sec, &(k).drain_timeout_ms,    \
        &(k).compress_threshold })

/* The heartbeat interval a zero heartbeat_ms gets: HIVE_DEFAULT_HEARTBEAT_MS,
 * or a third of the timeout when that is shorter (at least 1). */
static inline uint32_t hive__default_heartbeat_ms(uint32_t timeout_ms)
{
    uint32_t third = timeout_ms / 3;
    uint32_t hb = third < HIVE_DEFAULT_HEARTBEAT_MS ? third : HIVE_DEFAULT_HEARTBEAT_MS;
    return hb ? hb : 1;
}

/* Per-connection counters (hive_conn_stats): I/O thread writes. */
#define HIVE__CSTAT_ADD(c, field, v) __atomic_fetch_add(&(c)->field, (v), __ATOMIC_RELAXED)
/* The same for a counter only the I/O side ever writes (the per-frame
 * ones): other threads still read it whole, but the writer needs no
 * locked read-modify-write, which on the per-frame path cost as much as
 * keeping a copy of the frame. */
#define HIVE__CSTAT_BUMP(c, field, v) \
    __atomic_store_n(&(c)->field, __atomic_load_n(&(c)->field, __ATOMIC_RELAXED) + (v), __ATOMIC_RELAXED)
/* Fill *out from c (caller holds ep->lock, or is the I/O thread). On the
 * I/O thread the send queue is asked of the transport, elsewhere it is
 * the last timer round's. */
void hive__ep_conn_stats(hive__ep *ep, const hive__conn *c, hive_conn_stats *out);
/* A pong's body (the ping's clock in microseconds) is in: an RTT sample. */
void hive__ep_rtt_sample(hive__ep *ep, hive__conn *c, const uint8_t *body, size_t len);
/* A ping's body is in: it says how many unreliable frames the peer has
 * sent; with what arrived, a loss sample (datagram transports). */
void hive__ep_loss_sample(hive__ep *ep, hive__conn *c, const uint8_t *body, size_t len);
/* Sends c's acknowledgement of what it received (an ack frame). */
void hive__ep_send_ack(hive__ep *ep, hive__conn *c);
/* After a resume: sends again every kept frame the peer has not
 * acknowledged (the resume's counts are acknowledgements), lane by lane
 * for lanes from..to-1 (to is capped at the session's lanes), in order,
 * several whole frames to a send: up to HIVE__REPLAY_BATCH_FRAMES of them
 * and HIVE__REPLAY_BATCH_BYTES (a larger frame goes alone), under ENet's
 * coalescing limit, so that each send is one packet (docs/PROTOCOL.md,
 * "enet://"). HIVE_OK, or the send's error (the caller closes). */
#define HIVE__REPLAY_BATCH_FRAMES 128
#define HIVE__REPLAY_BATCH_BYTES  1200u
int  hive__ep_replay(hive__ep *ep, hive__conn *c, int from, int to);
/* The peer has read resumed: the lanes past 0 held since the resume
 * (conn.h lanes_held) send what they kept. Closes c when that fails. */
void hive__ep_lanes_release(hive__ep *ep, hive__conn *c);
/* The stats_interval_ms field of a config: 0 takes the default, -1 is
 * off, the rest must be within the limits. HIVE_OK or HIVE_EINVAL (recorded). */
int hive__ep_stats_interval(hive__ep *ep, const char *what, int32_t *v);
/* The netsim field of a config: NULL takes HIVE_NETSIM from the
 * environment. Parses it into ep->netsim and points *spec at the kept copy
 * (NULL when no simulator runs). HIVE_OK, HIVE_EINVAL (recorded, naming
 * the bad key) or HIVE_ENOMEM. */
int hive__ep_netsim(hive__ep *ep, const char *what, const char **spec);

#define HIVE__STAT_ADD(ep, field, v) __atomic_fetch_add(&(ep)->stats.field, (v), __ATOMIC_RELAXED)
/* Single writer (the I/O side), as HIVE__CSTAT_BUMP. */
#define HIVE__STAT_BUMP(ep, field, v) \
    __atomic_store_n(&(ep)->stats.field, __atomic_load_n(&(ep)->stats.field, __ATOMIC_RELAXED) + (v), __ATOMIC_RELAXED)
void hive__ep_stats(const hive__ep *ep, hive_net_stats *out);

/* ---- The I/O side (net/core/endpoint.c); I/O thread unless noted ---- */

/* The transport callbacks of this endpoint. */
void hive__ep_transport_cb(hive__ep *ep, hive__transport_cb *cb);

/* A new connection on link (state st), put on the list. NULL: no memory. */
/* The lanes a link carries (1..HIVE__LANES_MAX; 1 when the transport has none). */
int hive__ep_link_lanes(hive__ep *ep, hive__link *link);
/* Whether a link delivers a byte stream (->link_stream, else ->stream):
 * a server listening on several transports has both kinds. */
bool hive__ep_link_stream(hive__ep *ep, hive__link *link);
hive__conn *hive__ep_conn_new(hive__ep *ep, hive__link *link, hive__cstate st);
/* A server connection without a link, SUSPENDED, numbered and listed: a
 * session that arrives in a handoff ticket (HANDOFF). NULL: no memory, or
 * stopping. */
hive__conn *hive__ep_conn_adopt(hive__ep *ep);
/* Unlink and free c (its link must be gone); face->forget and ->released. */
void hive__ep_conn_free(hive__ep *ep, hive__conn *c);
void hive__ep_conn_state(hive__conn *c, hive__cstate st, uint64_t now);

/* How a close travels to the peer. */
enum { HIVE__CLOSE_SILENT = 0, HIVE__CLOSE_FRAME, HIVE__REJECT_FRAME };

/*
 * hive__ep_close - move c to CLOSING, publish its close event (once), tell
 * the peer why (`how`) and let the transport finish. remote: the peer
 * closed; it ends the link. abort_now (or a link still dialing): drop the
 * link and free c at once - only from places that hold no pointer to c
 * afterwards.
 */
void hive__ep_close(hive__ep *ep, hive__conn *c, int reason, const char *message, bool remote,
                    int how, bool abort_now);

/*
 * hive__ep_close_gently - a close the game asked for (hive_*_close,
 * stop, shutdown): when c is OPEN and the peer has not yet confirmed
 * every counted frame sent to it, c first waits (up to ep->drain_ms)
 * for that confirmation - its link keeps working, user sends to it are
 * refused - then closes as hive__ep_close(..., HIVE__CLOSE_FRAME). The
 * close event's `undelivered` says what was never confirmed. Otherwise
 * it closes at once. c may be freed.
 */
void hive__ep_close_gently(hive__ep *ep, hive__conn *c, int reason, const char *message);
/* Whether c is waiting out a graceful close. */
static inline bool hive__ep_draining(const hive__conn *c) { return c->drain_until != 0; }

/*
 * hive__ep_refuse - close c with a reject frame saying reason (at once,
 * during its handshake). On stream transports (one socket per link) the
 * link is then let go at once: the reject was handed to the socket (the
 * kernel still delivers it; a TLS link whose TLS handshake is not done
 * just closes), so a storm of refused links holds no sockets. Datagram
 * transports close gracefully, so the reject arrives. c may be freed:
 * callers hold no pointer to it afterwards.
 */
void hive__ep_refuse(hive__ep *ep, hive__conn *c, int reason);

/* A user packet to c (OPEN only) / to every OPEN connection but except,
 * with the send events. Return what hive__ep_send_frame does / the count. */
int hive__ep_send_user(hive__ep *ep, hive__conn *c, const hive__pentry *pe, const void *body,
                       size_t len, int dlv);
int hive__ep_bcast_user(hive__ep *ep, const hive__pentry *pe, const void *body, size_t len,
                        hive_cid except, int dlv);

/* Points pt's entries at their declared shapes and per-type settings. */
void hive__ep_attach_shapes(hive__ep *ep, hive__ptable *pt);
/* Turns compression of one packet type (by name) off or back on.
 * HIVE_OK or HIVE_ENOMEM. */
int  hive__ep_set_zip(hive__ep *ep, const char *name, bool on);
/* Adds or replaces the shape for name. HIVE_OK, HIVE_EINVAL, HIVE_ENOMEM. */
int  hive__ep_set_shape(hive__ep *ep, const char *name, const hive_shape_field *fields, size_t n,
                        hive_shape_policy policy);
/* Looks at the bus names interned since the last call for subscribed
 * net:<side>.recv.<name> with a name the packet table lacks, and warns
 * once for each. Returns how many it found. I/O thread (or owner before
 * any I/O). */
int  hive__ep_check_names(hive__ep *ep);
/* Warns for each declared shape whose name the packet table lacks. */
int  hive__ep_check_shapes(hive__ep *ep);
/* A warning: net:<side>.warning when someone listens, else stderr. */
void hive__ep_warn(hive__ep *ep, const char *code, const char *name, const char *text);

/* Whether any per-packet event has a listener (decides decoding). */
void hive__ep_refresh_wants(hive__ep *ep);

/* One round: requests, transport I/O, requests again, timers, flush. */
int  hive__ep_round(hive__ep *ep, int wait_ms);
/* Close every connection with reason (and message), give the close
 * packets tm.linger_ms to leave, drop what is left. */
void hive__ep_close_all(hive__ep *ep, int reason, const char *message);

/* hive_*_service's loop: rounds until something happened, a stop was
 * asked for, (one_conn) the connection is gone, or timeout_ms passed. */
int  hive__ep_service(hive__ep *ep, int timeout_ms);
/* Any thread, async-signal-safe: make service return, publish interrupt. */
void hive__ep_interrupt(hive__ep *ep);
/* Hive's own I/O thread: start (owner thread) and join. */
int  hive__ep_thread_start(hive__ep *ep);
void hive__ep_thread_join(hive__ep *ep);

/* API calls on the I/O thread may publish, and a handler may ask for a
 * stop: like inside service, the stop waits until the call is done. */
void hive__ep_enter(hive__ep *ep);
int  hive__ep_leave(hive__ep *ep, int rc);

/* hive_*_wait: until a received packet is ready for hive_*_next. 1
 * ready, 0 timeout, HIVE_ECLOSED (ended, or interrupt), HIVE_ESTATE (pull
 * off). Threaded: on the condition variable; else servicing meanwhile. */
int hive__ep_wait_packet(hive__ep *ep, int timeout_ms);

/* Any thread: queue a close of cid with reason and message (copied, at
 * most 255 bytes) for the I/O loop. */
int hive__ep_request_close(hive__ep *ep, hive_cid cid, int reason, const char *message);
/* Any thread: push what is queued (I/O thread) or wake the loop. */
void hive__ep_flush(hive__ep *ep);

#endif /* HIVE_NET_EP_H */
