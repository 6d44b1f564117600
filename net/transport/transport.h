/*
 * net/transport/transport.h - the internal transport interface (not installed).
 *
 * A transport moves bytes between two endpoints; it knows nothing of
 * frames' contents, the handshake, packet names or the bus. The core
 * (net/core/endpoint.c) drives it through the small vtable below and
 * hears back through hive__transport_cb. One transport object is one ENet
 * host, one listening TCP socket, one dialing TLS client... and it may hold
 * many links (connections to peers).
 *
 * ADDRESSES
 *   `scheme://host:port`, or bare `host:port` (= enet). Schemes: `enet`
 *   (net/transport/enet.c), `tcp` and `tls` (net/transport/tcp.c, TLS
 *   through net/transport/tls.c), `ws` and `wss` (WebSocket, the same
 *   file) and `enet+tls` (net/transport/enet_tls.c).
 *   IPv6 hosts are bracketed: `tcp://[::1]:7777`. Port 0 on a
 *   listening address asks the system for a free port (see ->bound_port).
 *   hive__transport_create() maps the scheme to a constructor in the table
 *   of net/transport/transport.c; an unknown scheme gives HIVE_EUNSUPPORTED.
 *   A new transport adds one row there and one file net/transport/<name>.c.
 *
 * THREADS
 *   Every vtable function except ->wake runs on the core's I/O thread (the
 *   thread that calls hive_*_service, or Hive's own I/O thread), and every
 *   callback is invoked from inside ->service, ->send, ->flush or ->close
 *   on that same thread. ->wake may be called from any thread and from a
 *   signal handler (write() to a pipe/eventfd is enough).
 *
 * FRAMING CONTRACT
 *   ->send receives whole frames (one or several, already encoded by the
 *   core as "varint length, varint pid, u8 flags, msgpack body"). The
 *   transport may coalesce frames queued on the same link and channel
 *   until the next ->flush or the end of ->service (ENet: one packet;
 *   TCP: one write), but a frame is never split across two datagram
 *   packets: a datagram transport (stream == false) must deliver every
 *   received packet as a whole number of frames, and the core treats a
 *   frame cut at the end of a datagram as "bad_frame".
 *   A stream transport (stream == true: TCP, TLS) delivers bytes as they
 *   come: a callback may hold several frames, part of one, or both. The
 *   core reassembles them with hive__rxbuf (net/wire/frame.h), checking the
 *   declared length against max_frame before buffering a body. A
 *   transport never parses frames itself.
 *
 * CHANNELS
 *   Channel 0 carries reliable-ordered data (handshake, close, and every
 *   packet type sent reliably); channel 1 carries unreliable-sequenced
 *   data. A transport that has only one ordered stream (TCP, TLS) sends
 *   both on it, reliably; that is allowed because "unreliable" only
 *   permits loss, it never requires it. A transport with lanes (see
 *   LANES below) has these channels once per lane.
 *
 * LINK LIFETIME
 *   A link appears through cb.accepted (listening side) or is returned by
 *   ->connect (dialing side; cb.connected follows once it is usable, after
 *   the TLS handshake for TLS transports). It stays valid until the
 *   transport calls cb.disconnected for it, or until the core calls
 *   ->abort. After either, the core must not touch the link again and
 *   the transport must not call back for it. ->close is graceful: bytes
 *   already queued are delivered first, then the peer is told, then
 *   cb.disconnected(link, HIVE_CLOSE_NORMAL) follows (or a timeout reason
 *   if the peer never answers; the transport bounds this wait).
 *   ->destroy frees every remaining link without calling back.
 */
#ifndef HIVE_NET_TRANSPORT_H
#define HIVE_NET_TRANSPORT_H

#include "hive/common.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HIVE__CHANNEL_RELIABLE   0
#define HIVE__CHANNEL_UNRELIABLE 1
#define HIVE__CHANNELS           2
/* What cb.data reports for an unordered datagram (sent on channel 1
 * unsequenced): unreliable like channel 1, but never sequenced. With a
 * lane above the low byte (LANES below), the same three kinds per lane. */
#define HIVE__CHANNEL_UNORDERED  2

/* How ->send delivers a frame. An int whose 1 and 0 are what `true`
 * (reliable) and `false` (unreliable) always meant, plus unordered:
 *   HIVE__DLV_RELIABLE  reliable-ordered, channel 0;
 *   HIVE__DLV_SEQUENCED may be lost; one overtaken by a later sequenced
 *                       frame is dropped (channel 1);
 *   HIVE__DLV_UNORDERED may be lost and arrive in any order, never
 *                       dropped for being late (ENet: unsequenced).
 * Both unreliable kinds arrive with channel HIVE__CHANNEL_UNRELIABLE.
 * A transport with one ordered stream sends all three on it. */
#define HIVE__DLV_SEQUENCED 0
#define HIVE__DLV_RELIABLE  1
#define HIVE__DLV_UNORDERED 2

/*
 * LANES: a packet type may choose a channel (hive_registry_set_channel),
 * called a lane inside Hive so it is not confused with the transport
 * channel numbers above. Lane k is an ordered stream of its own: its
 * reliable frames never wait for another lane's (ENet: channel 2k
 * reliable, channel 2k+1 unreliable). A transport that carries lanes
 * says how many a link has (->lanes); both ends of a link see the same
 * number. The lane rides in the bits above the low byte of ->send's dlv
 * and of cb.data's channel, so a transport without lanes (all but enet)
 * never sees one (the core sends lane 0 there) and a lane-less value
 * keeps its meaning.
 */
#define HIVE__LANES_MAX        32           /* HIVE_CHANNELS_MAX, hive/registry.h */
#define HIVE__KIND(v)          ((v) & 0xff) /* dlv: HIVE__DLV_*; channel: HIVE__CHANNEL_* */
#define HIVE__LANE(v)          ((int)(((unsigned)(v) >> 8) & 0xffu))
#define HIVE__WITH_LANE(v, ln) ((v) | ((ln) << 8))

#define HIVE__SCHEME_MAX 16
#define HIVE__HOST_MAX   256
#define HIVE__ADDR_MAX   (HIVE__SCHEME_MAX + HIVE__HOST_MAX + 16)

/* A parsed address: scheme (lower case, "enet" when absent), host and port. */
typedef struct hive__addr {
    char scheme[HIVE__SCHEME_MAX];
    char host[HIVE__HOST_MAX];
    uint16_t port;
} hive__addr;

/*
 * hive__addr_parse - parse `scheme://host:port`, `host:port`, `[v6]:port`
 * or `scheme://[v6]:port`. When the port is missing, default_port is used.
 * Returns HIVE_OK or HIVE_EADDR (malformed, port out of range, too long).
 */
int hive__addr_parse(const char *s, uint16_t default_port, hive__addr *out);

/* hive__addr_format - "scheme://host:port" into buf (NUL-terminated,
 * truncated to n). Returns buf. */
char *hive__addr_format(const hive__addr *a, char *buf, size_t n);

typedef struct hive__transport hive__transport;

/*
 * A link: one connection to one peer. Transports embed it as the FIRST
 * member of their own per-link struct. The core owns `conn` (its
 * per-connection state) and sets it in cb.accepted / after ->connect.
 * Anything only some transports know (a certificate subject) is asked
 * for through the vtable, never kept here.
 */
typedef struct hive__link {
    void *conn;
} hive__link;

/* A transport's own counters (->stats); zero where it has none. */
typedef struct hive__transport_stats {
    uint64_t sealed_opened;     /* enet+tls: sealed datagrams that authenticated */
    uint64_t sealed_rejected;   /* ... dropped: forged, tampered or malformed */
    uint64_t sealed_replayed;   /* ... dropped: replays */
    uint64_t enet_half_open_reaped; /* enet, enet+tls: half-open peers reset */
    uint64_t netsim_dropped;    /* netsim: items it dropped (loss, full queues) */
    uint64_t netsim_duplicated; /* netsim: second copies it delivered */
    uint64_t netsim_cuts;       /* netsim: links it cut */
} hive__transport_stats;

/* What the transport calls back into the core. `core` is cb.core. */
typedef struct hive__transport_cb {
    void *core;
    /* A peer arrived on a listening transport. addr is "scheme://ip:port"
     * (borrowed). Return 0 to keep the link (set link->conn first), or a
     * negative code to refuse: the transport then drops the link quietly
     * and never calls back for it. The core may also keep it and at once
     * ->send, ->close or ->abort it (a refusal that tells the peer why). */
    int  (*accepted)(void *core, hive__link *link, const char *addr);
    /* A link made by ->connect is ready to carry frames. */
    void (*connected)(void *core, hive__link *link);
    /* Bytes arrived on a link (see FRAMING CONTRACT). The bytes are
     * borrowed until the callback returns. The core may call ->send,
     * ->close or ->abort (this link or others) from inside. */
    void (*data)(void *core, hive__link *link, const uint8_t *p, size_t n, int channel);
    /* The link is gone. reason is a HIVE_CLOSE_* code as the transport saw
     * it: HIVE_CLOSE_NORMAL after ->close completed, HIVE_CLOSE_PEER_VANISHED
     * when the peer dropped without a close, HIVE_CLOSE_CONNECT_FAILED when
     * ->connect never got through, HIVE_CLOSE_TLS_ERROR, ... message: what
     * the transport knows beyond the code (OpenSSL's error text), or NULL;
     * borrowed for the call. The core puts it in the close event's
     * `message`. The link is freed right after this returns.
     * A reason OR'd with HIVE__LINK_LOCAL says this side decided the end
     * (it failed the peer's certificate, ran out of memory...): the close
     * event then reports remote = 0. Without it the end came from the
     * peer or the network (remote = 1). */
    void (*disconnected)(void *core, hive__link *link, int reason, const char *message);
} hive__transport_cb;

/* Flag on cb.disconnected's reason: this side, not the peer, ended it. */
#define HIVE__LINK_LOCAL 0x10000


/* Options common to every transport; zero means default. */
typedef struct hive__transport_opts {
    size_t max_links;        /* listening: links accepted at once (the core
                                passes its connection limit plus room to
                                send "server_full" rejections) */
    uint32_t timeout_ms;     /* transport-level dead-peer / connect limit */
    uint32_t max_frame;      /* the core's frame limit: a transport may
                                refuse to buffer more than this (plus
                                headers) for one message */
    bool coalesce_off;       /* one frame per datagram (for measurements) */
    const void *tls;         /* const struct hive_tls_config * (TLS
                                transports), NULL otherwise */
    uint32_t bw_in, bw_out;  /* bytes per second per link, 0: unlimited
                                (ENet: the host's bandwidth; tcp/tls: the
                                writes are paced to bw_out) */
    const char *const *ws_origins; /* ws, wss listening: the Origin allow-list
                                      (hive__ws_origin_allowed), borrowed */
    size_t ws_norigins;
    const char *web_root;    /* ws, wss listening: serve plain GETs from this
                                folder (NULL: answer them 426), borrowed */
    uint32_t max_per_addr;   /* listening: most links from one IP address
                                at once, 0: the transport's own (ENet:
                                host->duplicatePeers) */
} hive__transport_opts;

typedef struct hive__transport_vt {
    const char *scheme;
    bool stream;     /* true: bytes may split frames (TCP, TLS) */

    /* Start listening on addr. Returns HIVE_OK, HIVE_EADDR, HIVE_EIO... */
    int  (*listen)(hive__transport *t, const hive__addr *addr);
    /* Start dialing addr; *out receives the link (not usable before
     * cb.connected). Returns HIVE_OK or a negative code. */
    int  (*connect)(hive__transport *t, const hive__addr *addr, hive__link **out);
    /* Do I/O: wait up to timeout_ms for something to happen (0: just
     * poll), invoke callbacks for everything that arrived, then flush.
     * Returns the number of callbacks made (>= 0) or a negative code.
     * Returns early when ->wake is called. */
    int  (*service)(hive__transport *t, int timeout_ms);
    /* Queue whole frames given as n pieces (header, body...) on a link.
     * dlv: HIVE__DLV_*. Returns HIVE_OK,
     * HIVE_ECLOSED (link closing), HIVE_ENOMEM, HIVE_EFULL (the
     * transport's own hard limit for the link; nothing was queued). */
    int  (*send)(hive__transport *t, hive__link *l, const void *const *pieces,
                 const size_t *lens, int n, int dlv);
    /* Push everything queued onto the network now. A transport may also
     * read what has arrived meanwhile into its own queue (ENet does,
     * between slices of a large flush, so the socket's receive buffer
     * does not overflow), but it never calls back from ->flush: received
     * data reaches the core in the next ->service. */
    void (*flush)(hive__transport *t);
    /* Optional (NULL: the core sends a broadcast link by link with ->send).
     * ->share makes one buffer holding whole frames (given as for ->send)
     * that ->send_shared then queues on any number of links without a
     * copy per link (ENet: one refcounted packet for every peer, as
     * enet_host_broadcast does). ->send_shared keeps the frames' order on
     * the link and channel exactly as ->send would, returns what ->send
     * would, and holds its own reference. The core drops the reference
     * ->share gave it with ->unshare when the broadcast is done. ->share
     * returns NULL when out of memory (the core then uses ->send). */
    void *(*share)(hive__transport *t, const void *const *pieces, const size_t *lens,
                   int n, int dlv);
    int  (*send_shared)(hive__transport *t, hive__link *l, void *shared);
    void (*unshare)(hive__transport *t, void *shared);
    /* Graceful close (see LINK LIFETIME). `code` travels to the peer when
     * the transport can carry one (ENet disconnect data); the Hive close
     * frame the core sent before is what the peer reports. */
    void (*close)(hive__transport *t, hive__link *l, uint32_t code);
    /* Drop a link now, without callbacks and without telling the peer. */
    void (*abort)(hive__transport *t, hive__link *l);
    /* Make a blocked or the next ->service return promptly. Any thread,
     * async-signal-safe. */
    void (*wake)(hive__transport *t);
    /* The local port after ->listen (resolves port 0), or 0. */
    uint16_t (*bound_port)(hive__transport *t);
    /* Smoothed round-trip time of a link in milliseconds, or -1 unknown. */
    int  (*rtt_ms)(hive__transport *t, hive__link *l);
    /* Optional: the verified peer certificate's subject (RFC 2253,
     * "CN=alice,O=Hive") of a link, owned by the transport and valid while
     * the link is; NULL when the peer sent none. Known before
     * cb.connected (dialing) or the first cb.data (listening). The core
     * puts it in handshakecomplete as `peer_subject`. */
    const char *(*peer_subject)(hive__transport *t, hive__link *l);
    /* Optional: the bytes queued for a link and not yet handed to the
     * operating system: everything ->send appended and ->flush has not
     * written yet, in whatever form the transport keeps it (tcp: the
     * plaintext buffer; tls: that plus the TLS records not yet written to
     * the socket). A transport that retransmits (enet, enet+tls) counts
     * what it must keep until the peer acknowledges it as well. The core bounds each connection's send queue with it
     * (send_queue_bytes, hive/net.h SEND QUEUES): before ->send it asks
     * whether the frame fits, after ->send and every timer tick whether
     * the high-water mark was crossed. It must be cheap (called per frame)
     * and never call back. NULL: no bound applies (test transports). ->send may still refuse with HIVE_EFULL
     * when the transport's own hard limit is reached; the core treats that
     * as a full queue too. */
    size_t (*queued)(hive__transport *t, hive__link *l);
    /* Optional: how many lanes a link carries (LANES), known from
     * cb.accepted / cb.connected on. NULL: one. */
    int  (*lanes)(hive__transport *t, hive__link *l);
    /* Optional: a listening transport offers each link that arrives from
     * now on n lanes (1..HIVE__LANES_MAX; before: one). A dialing side
     * always asks for HIVE__LANES_MAX and gets what the listener offers. */
    void (*offer_lanes)(hive__transport *t, int n);
    /* Optional: a descriptor that becomes readable when ->service has
     * work (hive__mux waits on it), or -1. */
    int  (*pollfd)(hive__transport *t);
    /* Optional: whether this link delivers a byte stream (a transport
     * made of several, hive__mux). NULL: ->stream. */
    bool (*link_stream)(hive__transport *t, hive__link *l);
    /* Optional: the transport's own counters. Any thread (the counters are
     * updated with atomics); the core keeps t alive during the call. */
    int  (*stats)(hive__transport *t, hive__transport_stats *out);
    /* Free everything; no callbacks. */
    void (*destroy)(hive__transport *t);
} hive__transport_vt;

/* Every transport object starts with this. */
struct hive__transport {
    const hive__transport_vt *vt;
    hive__transport_cb cb;
    hive__transport_opts opts;
};

/*
 * hive__transport_create - make the transport for addr->scheme.
 * cb and opts are copied. Returns HIVE_OK and *out, HIVE_EUNSUPPORTED for
 * an unknown scheme (or one this build lacks), HIVE_ENOMEM, HIVE_EIO.
 */
int hive__transport_create(const hive__addr *addr, const hive__transport_cb *cb,
                           const hive__transport_opts *opts, hive__transport **out);

/* A transport constructor, one per scheme (the table in net/transport/transport.c). */
typedef int (*hive__transport_ctor)(const hive__transport_cb *cb,
                                    const hive__transport_opts *opts,
                                    hive__transport **out);

/*
 * hive__transport_set_test - route one more scheme to ctor (scheme NULL:
 * remove it). For tests and fuzz targets that drive a real server or
 * client over a fake, socket-free transport. Not thread-safe: call it
 * before creating anything that uses the scheme.
 */
void hive__transport_set_test(const char *scheme, hive__transport_ctor ctor);

/* ENet over UDP (net/transport/enet.c). */
int hive__transport_enet_create(const hive__transport_cb *cb,
                                const hive__transport_opts *opts,
                                hive__transport **out);

/* TCP (net/transport/tcp.c) and TLS over TCP (the same file with a TLS
 * layer; opts->tls is the hive_tls_config, NULL = defaults). */
int hive__transport_tcp_create(const hive__transport_cb *cb,
                               const hive__transport_opts *opts,
                               hive__transport **out);
int hive__transport_tls_create(const hive__transport_cb *cb,
                               const hive__transport_opts *opts,
                               hive__transport **out);
/* WebSocket over TCP and over TLS (net/transport/tcp.c, framing by
 * libwslay): the same stream, carried in binary WebSocket messages. */
int hive__transport_ws_create(const hive__transport_cb *cb,
                              const hive__transport_opts *opts,
                              hive__transport **out);
int hive__transport_wss_create(const hive__transport_cb *cb,
                               const hive__transport_opts *opts,
                               hive__transport **out);
/*
 * hive__mux_create - one listening transport made of several: addrs is a
 * comma-separated list ("enet://0.0.0.0:7777,ws://0.0.0.0:8080"), each
 * made with hive__transport_create (or wrapped in the simulator when
 * netsim is non-NULL: a const hive__netsim_spec *) with the same opts.
 * Links of every child come to cb as one set; ->listen starts every
 * child on its own address (the argument is ignored). Listening only:
 * ->connect gives HIVE_EADDR. *first receives the first address. Returns
 * HIVE_OK, HIVE_EADDR (a bad or empty item, more than HIVE__MUX_MAX),
 * HIVE_EUNSUPPORTED, HIVE_ENOMEM, HIVE_EIO.
 */
#define HIVE__MUX_MAX 8
int hive__mux_create(const char *addrs, const hive__transport_cb *cb, const hive__transport_opts *opts,
                     const void *netsim, hive__addr *first, hive__transport **out);
/* hive__mux_count - the listeners of a mux (0: t is not one);
 * hive__mux_addr - the i-th one's address with its bound port. */
int hive__mux_count(hive__transport *t);
int hive__mux_addr(hive__transport *t, int i, hive__addr *out);

/* TLS over ENet's reliable channel + AEAD-sealed unreliable packets
 * (net/transport/enet_tls.c). */
int hive__transport_enet_tls_create(const hive__transport_cb *cb,
                                    const hive__transport_opts *opts,
                                    hive__transport **out);

#endif /* HIVE_NET_TRANSPORT_H */
