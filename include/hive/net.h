/*
 * hive/net.h - Hive's client and server: connections over ENet (UDP), TCP
 * or TLS - chosen by the address: `host:port` or `enet://`, `tcp://`,
 * `tls://`, `enet+tls://` - carrying length-prefixed msgpack frames, a
 * handshake with registry sync, heartbeats and reasoned closes, all
 * published as events on a hive_bus. docs/PROTOCOL.md has the wire.
 *
 * A SESSION IN EVENTS (prefix `net:`; data keys in brackets)
 *
 *   server                                    client
 *   server.initialize      [server]           client.initialize  [client]
 *   server.bind            [addr, port]       client.connect     [addr]
 *   server.start                              client.start       (link up, hello sent)
 *   server.connection.accept [cid, addr]
 *   server.connection.handshakecomplete       client.handshakecomplete
 *                          [cid, conntype, app_version]          [cid]
 *                          (+ peer_subject on TLS transports)    (+ peer_subject)
 *   server.connection.send [cid, pid, name, size]   client.send  [cid, pid, name, size]
 *   server.connection.recv [cid, pid, name, msg]    client.recv  [cid, pid, name, msg]
 *   server.recv.<packet name>  (same data)   client.recv.<packet name>
 *   server.connection.backpressure [cid, queued_bytes]
 *                                             client.backpressure [queued_bytes]
 *                          (a send queue crossed its high-water mark: SEND QUEUES)
 *   server.connection.stats [cid + the hive_conn_stats fields]
 *                                             client.stats [cid + the same]
 *                          (every stats_interval_ms per open connection; voidable:
 *                          built only when someone listens. SEEING THE CONNECTION)
 *   server.connection.close [cid, reason, reason_name, message, remote,
 *                            delivered, undelivered]
 *                                             client.close [the same]
 *                          (delivered 1: the peer confirmed every reliable message
 *                          sent to it; undelivered: how many it did not. CLOSING)
 *   server.warning [code, name, text (, cid)] client.warning [the same]
 *                          (a packet misfit its shape, or a subscription names a
 *                          packet the registry lacks: DECLARED SHAPES, UNKNOWN
 *                          PACKET NAMES)
 *   server.interrupt                          client.interrupt
 *   server.stop            [reason, reason_name]   client.stop [reason, reason_name]
 *   server.shutdown        [reason, reason_name]
 *
 *   Every event also carries `server` or `client` (PTR). `reason` is a
 *   HIVE_CLOSE_* code (INT), `reason_name` its stable string (STR),
 *   `remote` is 1 when the peer chose to close, 0 when this side did.
 *   `msg` is a HIVE_T_MSGPACK field: raw bytes always, the decoded
 *   msgpack_object only on the synchronous path (and not with
 *   `.lazy_decode`); hive_event_body() (or hive_event_msg()) gives the decoded object in every
 *   case. send/recv events are voidable:
 *   nobody subscribed, nothing is built. Hive's own packets (hello,
 *   welcome, ping...) never appear as send/recv events.
 *
 *   client.stop always follows client.close: close ends the connection,
 *   stop says the client is idle again (in threaded mode: its I/O thread
 *   has ended) and may connect anew.
 *
 * THREADS
 *   Default: no thread of Hive's own. hive_server_service() /
 *   hive_client_service() do the I/O and publish events on the calling
 *   thread, which must be the bus's owner thread; call them at least once
 *   per heartbeat interval (a game loop does, every frame). The I/O thread
 *   is the thread that called hive_server_start() / hive_client_connect().
 *   With `.threaded = true` Hive runs the same loop on its own thread and
 *   POSTS every event (hive_bus_post); the owner thread delivers them with
 *   hive_bus_dispatch(). Heartbeats are then answered however slow the
 *   game's handlers are.
 *   Sending (send, send_id, send_msg, broadcast, close) is safe from any
 *   thread in both modes: calls from a thread other than the I/O thread go
 *   through a locked queue that the I/O loop flushes (and wakes for).
 *   Functions not marked "any thread" belong to the bus owner thread.
 *
 * SEND QUEUES (slow and hostile peers)
 *   Every connection's frames wait in its transport until the socket takes
 *   them (tcp://, tls://) or the peer acknowledges them (enet://,
 *   enet+tls://). That queue is bounded on every transport:
 *   `send_queue_bytes` (server and client configs; default
 *   HIVE_DEFAULT_SEND_QUEUE_BYTES, 1 MiB; at least
 *   HIVE_MIN_SEND_QUEUE_BYTES) counts everything queued for the link:
 *   - tcp:// and tls://: what is not yet written to the socket, plaintext
 *     and TLS records (the kernel's socket buffer is not counted);
 *   - enet:// and enet+tls://: what ENet holds for the peer, unsent or
 *     sent and not yet acknowledged, reliable and unreliable (enet+tls://
 *     adds its batches and TLS records not yet handed to ENet). Each ENet
 *     command also counts its bookkeeping (144 bytes on 64-bit), so a
 *     stream of tiny packets cannot hold more memory than the bound
 *     says. A peer that stops acknowledging (withholds ENet's acks, or
 *     has stopped reading) fills it like a TCP peer that stops reading.
 *   What happens as it fills is declared:
 *   - at half the bound (the high-water mark) `backpressure` is published
 *     once (server.connection.backpressure [cid, queued_bytes],
 *     client.backpressure [queued_bytes]; voidable: built only when
 *     someone listens). It is armed again once the queue drains below a
 *     quarter of the bound. A game can send less to that peer meanwhile.
 *   - above the high-water mark Hive's own replies are not queued: pongs
 *     are dropped (hive_net_stats.pongs_dropped). Heartbeat pings (at
 *     most one per heartbeat_ms) and the close frame are queued only if
 *     they fit under the bound.
 *   - a frame that does not fit under the bound is not queued: the send
 *     returns HIVE_EFULL (a broadcast skips that connection) and the
 *     connection is closed with HIVE_CLOSE_SLOW_CONSUMER. A reliable
 *     stream with a hole in it cannot go on, so it ends instead. The
 *     close frame is sent only if it fits under the bound.
 *   - a queue that stays above the high-water mark for
 *     heartbeat_timeout_ms (the peer takes nothing) is closed with
 *     HIVE_CLOSE_SLOW_CONSUMER too, as a silent peer is with "timeout".
 *   Only that connection ends; hive_net_stats.slow_consumers counts them.
 *   The bound includes what this service round queued before its flush:
 *   a game that queues more than send_queue_bytes to one connection in
 *   one round must raise it (before refusing a frame Hive flushes once).
 *   A frame longer than the bound is HIVE_ETOOBIG. On ENet a reliable
 *   frame leaves the queue only when acknowledged, so the bound must hold
 *   about one round trip of what a game sends a peer (1 MiB: 8 Mbit/s at
 *   a 125 ms round trip).
 *
 * RECEIVE LIMITS (floods)
 *   `recv_frames_per_sec` and `recv_bytes_per_sec` (server and client
 *   configs; 0 = off, the default, because what is normal depends on the
 *   game) bound what one connection may send once its handshake is done:
 *   two token buckets, each holding one second's worth, refilled
 *   continuously, charged for every frame that arrives (Hive's own pings
 *   and pongs included: a ping flood is the attack) and its length. A
 *   frame that finds a bucket empty is not delivered; the connection
 *   closes with HIVE_CLOSE_RATE_LIMITED (hive_net_stats.rate_limited
 *   counts them) and only that connection ends. Traffic under the rate,
 *   with bursts up to a second's worth, is never touched. A frames limit
 *   under HIVE_MIN_RECV_FRAMES_PER_SEC, or a bytes limit under max_frame,
 *   makes create fail: heartbeats and one whole frame must always fit.
 *
 * HOSTILE PEERS ON ENET (half-open peers)
 *   An enet:// or enet+tls:// server gives a peer slot to every ENet
 *   CONNECT and answers it with VERIFY_CONNECT; the connection (and
 *   handshake_timeout_ms) begins only when the peer acknowledges that.
 *   A peer that sends CONNECTs and never acknowledges ("half-open") is
 *   reset silently 2 s after its CONNECT was first seen (the slots are
 *   checked every 100 ms, so 2.0-2.1 s on an unloaded loop), instead of
 *   after ENet's own timeouts (tens of seconds), and
 *   hive_net_stats.enet_half_open_reaped counts it. So a burst of
 *   CONNECTs holds the server's slots for about 2 s, not 24, and what the
 *   server sends back to one CONNECT is at most 3 VERIFY_CONNECT datagrams
 *   (48 bytes each for a 52-byte CONNECT: under 3x, measured 2.77x).
 *   Peers per address: `max_peers_per_addr` (server config; default
 *   HIVE_DEFAULT_MAX_PEERS_PER_ADDR, 16; at most HIVE_MAX_PEERS_PER_ADDR)
 *   bounds the ENet peers one IP address holds at once, connected or
 *   half-open, so one machine cannot take every slot. ENet ignores a
 *   CONNECT over it: no slot, no VERIFY_CONNECT, nothing for the server
 *   to hear or count; the refused client's connect ends with
 *   HIVE_CLOSE_CONNECT_FAILED after its connect_timeout_ms, as if the
 *   server were unreachable. (A Hive-level "server_full" reply would need
 *   the slot the limit exists to withhold.) Players behind one NAT share
 *   an address: raise it for them, and for load tests from one machine.
 *   Not yet bounded on ENet: a steady stream of fresh CONNECTs from many
 *   addresses, which keeps the slots full while it lasts; put a rate
 *   limiter in front of a public server.
 *
 * SLOW SENDERS (slowloris)
 *   On tcp:// and tls:// a frame can arrive a few bytes at a time. Every
 *   byte resets the heartbeat timeout, so a peer that trickles one frame
 *   byte by byte would hold its connection (and the buffer for the frame)
 *   forever. Instead, a frame whose first byte has arrived must be complete
 *   within `frame_timeout_ms` (server and client configs; default
 *   HIVE_DEFAULT_FRAME_TIMEOUT_MS, 10 s: a 64 KiB frame at 100 kbit/s takes
 *   about 5 s), else the connection closes with HIVE_CLOSE_SLOW_SENDER and
 *   hive_net_stats.slow_senders counts it. The clock restarts with each
 *   new frame, so a long stream of whole frames is never affected. It
 *   applies in every state; during the handshake the (shorter) handshake
 *   timeout usually ends such a peer first. Datagram transports (enet://,
 *   enet+tls://) carry whole frames only, so nothing is ever partial there.
 *
 * ADMISSION (who gets in, and who is told to come back)
 *   A server admits in two steps. A link the transport hands over (TCP
 *   accepted, on tls:// before TLS begins; on enet:// and enet+tls://
 *   after ENet's connect) is a HANDSHAKE until its hello is accepted; only
 *   then does it take one of max_connections' slots. So:
 *   - `server_full` is decided at the hello, by players alone: a client
 *     whose hello finds max_connections connections past their hello is
 *     rejected with it. Links that never say hello never fill the server.
 *   - handshakes have their own bound, `max_handshakes` (default
 *     HIVE_DEFAULT_MAX_HANDSHAKES, 128, at most HIVE_MAX_HANDSHAKES). A link
 *     that arrives when all are taken evicts the OLDEST handshake, which is
 *     closed with `busy` (hive_net_stats.handshakes_evicted). Why the
 *     oldest: a real client's hello follows its link within a round trip
 *     (two over TLS), so the oldest is the likeliest to be idle, and a storm
 *     of sockets that connect and say nothing can never keep a newcomer out
 *     (it only shortens how long each of them is kept). A legitimate client
 *     is evicted only if max_handshakes links arrive during its own
 *     handshake; it is told `busy`, and may try again.
 *   - `max_handshakes_per_addr` (default 8) bounds one source IP address
 *     (the port is not part of it; IPv4 and IPv4-mapped IPv6 count as the
 *     same address) once at least half of max_handshakes are under way: a
 *     link from an address already holding that many is refused with
 *     `busy` (hive_net_stats.busy_rejected), so under pressure one host
 *     cannot take the table, nor evict everyone else's handshakes. Below
 *     half nothing is at stake, so a LAN party behind one NAT, or a test's
 *     crowd of bots on 127.0.0.1, all get their handshakes started.
 *   A server that expects more simultaneous joins than that (a load
 *   generator: hundreds of bots from one address at once) raises both.
 *   `busy` (HIVE_CLOSE_BUSY, 23) travels in a reject frame where the link
 *   can carry it: on tcp:// it is written; on tls:// before the TLS
 *   handshake finished the link is just closed (no TLS work is spent on a
 *   refused link; a Hive client then reports tls_error); on enet:// it
 *   leaves with ENet's disconnect. A Hive client reports it as its close
 *   reason, as it does server_full. On tcp:// and tls:// a refused link's
 *   socket is closed at once, so a storm holds at most max_handshakes
 *   sockets. handshake_timeout_ms still ends every handshake that stalls.
 *   IPv6 hosts with many addresses (a /64) are not grouped yet.
 *
 * SEEING THE CONNECTION: hive_server_conn_stats / hive_client_conn_stats
 *   copy one connection's hive_conn_stats (RTT, bytes and frames each
 *   way, send queue, time connected) from any thread, and every
 *   stats_interval_ms (default 1000) an open connection publishes the same
 *   numbers as server.connection.stats / client.stats. RTT is measured the
 *   same way on every transport: from Hive's own heartbeat ping and its
 *   pong (so it includes the time the pong waited in the peer's queues,
 *   which is what a game feels), smoothed as TCP does (RFC 6298: srtt and
 *   rttvar, gains 1/8 and 1/4). Pings go out after heartbeat_ms of send
 *   silence and, while stats_interval_ms is on, at least once per interval
 *   on a connection that is never silent (unless its send queue is over
 *   the high-water mark).
 *
 * RESUME: a session outlives its link. When the client reconnects
 *   (reconnect_attempts) and the server's resume_window_ms is on (default
 *   30 s; -1 turns it off), the welcome carries a 128-bit single-use token.
 *   A lost link (peer_vanished, timeout) then suspends the session on the
 *   server instead of closing it: net:server.connection.suspended {cid,
 *   reason, window_ms}; the cid, user data and max_connections slot stay.
 *   The client's next link presents the token; the server checks it in
 *   constant time (and the certificate subject, when there was one), drops
 *   the old link if it still had it, and gives the session back with a new
 *   token (the one shown dies once the client has used its link, so a
 *   link lost while the answer was in flight costs nothing; a link lost
 *   between welcome and ready is kept too, and its resume completes the
 *   handshake):
 *   net:server.connection.resumed {cid, addr, resumes, replayed} and
 *   net:client.resumed {client, cid, resumes, replayed}. Every reliable
 *   message either side sent and the other had not received is sent again,
 *   so each arrives exactly once and in order (Hive counts reliable frames
 *   and acknowledges them cumulatively; docs/PROTOCOL.md "Resume").
 *   Unreliable messages are not replayed. Reliable messages sent to a
 *   suspended session are kept (hive_server_send returns HIVE_OK), and so
 *   are the client's own while it reconnects with a session to resume
 *   (hive_client_send returns HIVE_OK; HIVE_EFULL once the buffer below
 *   is full); unreliable ones are dropped, as a lossy link would. If the
 *   session is then refused, what it kept goes with it:
 *   net:client.session.invalidated's `undelivered` counts them. Each
 *   side keeps at most resume_buffer_bytes (default 1 MiB) of
 *   unacknowledged messages per session; if a suspended session's buffer
 *   would have to drop one, it closes with HIVE_CLOSE_SESSION_INVALID
 *   rather than lose it, and a resume that needs a dropped message is
 *   refused with the same reason. When the window ends the session closes
 *   with timeout, as without resume. hive_net_stats.resumes and
 *   resumes_refused count, hive_conn_stats.resumes per session.
 *
 * CLOSING: a close the game asks for - hive_server_close, hive_server_stop
 *   and hive_server_shutdown (each connection), hive_client_close,
 *   hive_client_stop - first lets every reliable message already sent
 *   arrive: the connection stays up, keeps receiving (and publishing
 *   what it receives), refuses new sends to it (HIVE_ESTATE), and closes
 *   as soon as the peer has acknowledged everything, or after
 *   drain_timeout_ms (default 1000; -1: close at once). Reliable sends
 *   queued just before a stop from other threads go first. A close
 *   packet carries the closer's final acknowledgement, so both sides'
 *   close events say exactly whether everything arrived: delivered = 1
 *   and undelivered = 0 when the peer confirmed every reliable message,
 *   else undelivered counts those it never confirmed (a lost link, a
 *   timeout, a protocol error or a drain that ran out: they may or may
 *   not have been processed). Unreliable messages are not counted. Hive's
 *   own closes (timeouts, limits, bad frames) do not wait. hive_*_stop
 *   returns once the drains are done (at most drain_timeout_ms, then
 *   close_linger_ms); hive_*_close returns at once and the close event
 *   comes later (a client stays HIVE_CLIENT_OPEN meanwhile).
 *
 * NETWORK SIMULATOR: set `netsim` in a server or client config, or
 *   HIVE_NETSIM in the environment of any Hive program (the config wins;
 *   "off" turns it off), to play over a bad network on loopback:
 *     HIVE_NETSIM="latency=100ms,jitter=20ms,loss=5%,dup=1%,cut_every=10s,seed=7"
 *   Keys: latency, jitter, cut_every (150ms, 1.5s), loss, dup, reorder
 *   (5%, 0.5%), bandwidth (256kbps, 2mbps: bits per second), seed (default
 *   1), dir (both, send or recv; default both). It sits between Hive's core
 *   and the transport, on every transport, and impairs this endpoint's
 *   sends and receives: latency and jitter are added each way (a client
 *   with latency=50ms sees its round trip grow by 100 ms). Channel 1
 *   (HIVE_SEND_UNRELIABLE on enet:// and enet+tls://) loses, and because it
 *   is sequenced, a datagram overtaken by a later one, or a second copy,
 *   is dropped as ENet would drop it. Unordered datagrams
 *   (HIVE_SEND_UNORDERED) lose too, but one overtaken is delivered late;
 *   only a second copy is dropped (within a window of 64). Reliable data (channel 0, and all
 *   of tcp:// and tls://) is never lost, duplicated or reordered: loss
 *   there becomes retransmission delay and head-of-line blocking, as on a
 *   real network; on enet:// that blocking is per channel (CHANNELS in
 *   hive/registry.h), as ENet's own. bandwidth serializes each direction of each link.
 *   cut_every cuts each link at a random moment about that often: the
 *   close reason is peer_vanished with the message "netsim: link cut".
 *   Each link draws from its own generator seeded by seed and the link's
 *   order, so the same traffic gives the same drops, delays and cuts.
 *   Frames waiting to leave count in send_queue_bytes; 16 MiB at most wait
 *   to be delivered per link (beyond: unreliable ones are dropped, a
 *   reliable one cuts the link). hive_net_stats.netsim_dropped,
 *   netsim_duplicated and netsim_cuts count what it did. A bad spec fails
 *   create; hive_create_error() names the key.
 *
 * RECONNECTING: with hive_client_config.reconnect_attempts set, a client
 *   whose link is lost (peer_vanished or timeout once open) dials the same
 *   address again instead of closing. Closes the server or the game chose
 *   (kicked, server_shutdown, auth_failed, a reject, hive_client_stop) and
 *   anything this side decided (bad frames, limits) never reconnect. Each
 *   attempt is announced by net:client.reconnecting {client, attempt,
 *   delay_ms, reason, reason_name}, where reason is why the link (or the
 *   last attempt) ended, and the state is HIVE_CLIENT_RECONNECTING until
 *   it dials. Delays grow by reconnect_factor from reconnect_delay_ms up to
 *   reconnect_max_delay_ms, and each is drawn uniformly from its upper
 *   half ("equal jitter": a floor, so a crowd of clients dropped together
 *   never hammers the server at once, and spread, so they do not return in
 *   step). An attempt that fails to connect, or whose handshake fails or
 *   times out, counts; one that completes resets the count. The new link
 *   resumes the session when the server kept it (RESUME below): same cid,
 *   net:client.resumed, nothing lost. Otherwise (resume off on the server,
 *   its window over, the token refused) the new link gets a fresh
 *   handshake and a new cid, and before handshakecomplete the client
 *   publishes net:client.session.invalidated {client, old_cid, cid,
 *   reason = HIVE_CLOSE_SESSION_INVALID, reason_name, message, undelivered}: whatever
 *   the game kept about the old session is void. While
 *   reconnecting there is no close event; the close comes once, when the
 *   attempts run out (with the last attempt's reason, e.g. connect_failed)
 *   or the game stops the client (reason normal, remote 0). Sends while
 *   reconnecting are kept for the resume when the server offered one
 *   (RESUME below), else fail with HIVE_ESTATE. Works with .threaded as
 *   without.
 *
 * ERRORS: negative HIVE_E* codes (hive/common.h). A connection's end is
 * reported with a close reason (HIVE_CLOSE_*), never with an errno.
 */
#ifndef HIVE_NET_H
#define HIVE_NET_H

#include "common.h"
#include "bus.h"
#include "registry.h"
#include "msg.h"
#include "tls.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HIVE_PROTOCOL_VERSION 2
#define HIVE_DEFAULT_PORT     7777

/*
 * Defaults and limits of the server and client configs. A zero field
 * takes its HIVE_DEFAULT_*; hive_server_config_get / hive_client_config_get
 * read back what is in force. A value outside its limit makes create fail
 * (hive_create_error() names the field).
 */
#define HIVE_DEFAULT_ADDR                 "enet://0.0.0.0:7777"
#define HIVE_DEFAULT_APP                  "hive"
#define HIVE_DEFAULT_APP_VERSION          "0"
#define HIVE_DEFAULT_CONNTYPE             "player"
#define HIVE_DEFAULT_MAX_CONNECTIONS      64
#define HIVE_MAX_CONNECTIONS              4000    /* ENet's peer limit is 4095 */
#define HIVE_DEFAULT_MAX_FRAME            65536
#define HIVE_MIN_MAX_FRAME                8192    /* every peer accepts this much */
#define HIVE_MAX_MAX_FRAME                (64u << 20)   /* largest max_frame (64 MiB) */
#define HIVE_DEFAULT_TRANSFER_QUEUE_BYTES ((size_t)64 << 20)
#define HIVE_DEFAULT_MAX_TRANSFERS        4
#define HIVE_MAX_MAX_TRANSFERS            64
#define HIVE_DEFAULT_TRANSFER_RECV_BYTES  ((size_t)32 << 20)
#define HIVE_DEFAULT_CONNECT_TIMEOUT_MS   5000
#define HIVE_DEFAULT_HANDSHAKE_TIMEOUT_MS 5000
#define HIVE_DEFAULT_HEARTBEAT_TIMEOUT_MS 10000
#define HIVE_DEFAULT_HEARTBEAT_MS         1000    /* or a third of the timeout, if shorter */
#define HIVE_DEFAULT_CLOSE_LINGER_MS      200
#define HIVE_DEFAULT_DRAIN_TIMEOUT_MS     1000    /* a graceful close waits this long: CLOSING */
#define HIVE_MAX_DRAIN_TIMEOUT_MS         60000
#define HIVE_DEFAULT_COMPRESS_THRESHOLD   8192    /* bodies this large are compressed: COMPRESSION */
#define HIVE_MIN_COMPRESS_THRESHOLD       64
#define HIVE_DEFAULT_PULL_CAPACITY        4096
#define HIVE_DEFAULT_SEND_QUEUE_BYTES     (1u << 20)  /* per connection: see SEND QUEUES */
#define HIVE_MIN_SEND_QUEUE_BYTES         65536
#define HIVE_DEFAULT_FRAME_TIMEOUT_MS     10000   /* a started frame must complete in this */
#define HIVE_MIN_FRAME_TIMEOUT_MS         100
#define HIVE_MIN_RECV_FRAMES_PER_SEC      10      /* when set: heartbeats must fit */
#define HIVE_DEFAULT_STATS_INTERVAL_MS    1000    /* stats events per connection; -1: none */
#define HIVE_DEFAULT_RECONNECT_DELAY_MS   250     /* first reconnect delay (before jitter) */
#define HIVE_MIN_RECONNECT_DELAY_MS       10
#define HIVE_DEFAULT_RECONNECT_MAX_DELAY_MS 10000 /* the backoff's cap */
#define HIVE_DEFAULT_RECONNECT_FACTOR     2.0     /* each delay is this times the last */
#define HIVE_RECONNECT_FOREVER            UINT32_MAX  /* reconnect_attempts: no limit */
#define HIVE_DEFAULT_RESUME_WINDOW_MS     30000   /* a lost session waits this long */
#define HIVE_MIN_RESUME_WINDOW_MS         100
#define HIVE_MAX_RESUME_WINDOW_MS         3600000
#define HIVE_DEFAULT_RESUME_BUFFER_BYTES  (1u << 20)  /* kept for a replay, per session */
#define HIVE_MIN_RESUME_BUFFER_BYTES      65536
#define HIVE_MIN_STATS_INTERVAL_MS        10
#define HIVE_MAX_STATS_INTERVAL_MS        3600000
#define HIVE_DEFAULT_MAX_HANDSHAKES       128     /* links before their hello: see ADMISSION */
#define HIVE_DEFAULT_MAX_HANDSHAKES_PER_ADDR 8    /* ... from one source IP address */
#define HIVE_MAX_HANDSHAKES               4096    /* the limit of both */
#define HIVE_HELLO_STR_MAX                64      /* app, app_version, conntype: bytes */
#define HIVE_TOKEN_MAX                    4096    /* hive_client_config.token_len */
#define HIVE_DEFAULT_MAX_PEERS_PER_ADDR   16      /* enet://, enet+tls://: one IP's peers */
#define HIVE_MAX_PEERS_PER_ADDR           4095    /* ENet's own peer limit */

typedef struct hive_server hive_server;
typedef struct hive_client hive_client;

/* A connection id: > 0, unique within one server's life (never reused). */
typedef uint32_t hive_cid;

/* ------------------------------------------------------------------ */
/* Close reasons                                                        */
/* ------------------------------------------------------------------ */

/*
 * X(NAME, code, "stable_name", "description"). The code travels in the
 * close and reject packets; the stable name is what logs and other
 * languages use. Codes never change meaning; new ones are appended.
 * Codes >= HIVE_CLOSE_APP_MIN are the application's own (name
 * "application").
 */
#define HIVE_CLOSE_REASON_MAP(X)                                                          \
    X(NORMAL,             0, "normal",            "closed normally")                      \
    X(SERVER_SHUTDOWN,    1, "server_shutdown",   "the server is shutting down")          \
    X(TIMEOUT,            2, "timeout",           "no sign of life from the peer in time") \
    X(HANDSHAKE_TIMEOUT,  3, "handshake_timeout", "the handshake did not finish in time") \
    X(PROTO_MISMATCH,     4, "proto_mismatch",    "unsupported protocol version")         \
    X(BAD_MAGIC,          5, "bad_magic",         "not a Hive peer (wrong magic)")        \
    X(BAD_HANDSHAKE,      6, "bad_handshake",     "malformed handshake packet")           \
    X(BAD_FRAME,          7, "bad_frame",         "malformed frame")                      \
    X(FRAME_TOO_LARGE,    8, "frame_too_large",   "frame longer than max_frame")          \
    X(BAD_MSGPACK,        9, "bad_msgpack",       "body is not exactly one msgpack object") \
    X(UNKNOWN_PACKET,    10, "unknown_packet",    "packet id not in the registry")        \
    X(UNEXPECTED_PACKET, 11, "unexpected_packet", "packet not allowed at this point")     \
    X(AUTH_FAILED,       12, "auth_failed",       "authentication failed")                \
    X(SERVER_FULL,       13, "server_full",       "the server is full")                   \
    X(APP_MISMATCH,      14, "app_mismatch",      "client and server run different applications") \
    X(TLS_ERROR,         15, "tls_error",         "TLS failure")                          \
    X(KICKED,            16, "kicked",            "closed by the server")                 \
    X(PEER_VANISHED,     17, "peer_vanished",     "the peer dropped without closing")     \
    X(CONNECT_FAILED,    18, "connect_failed",    "could not reach the server")           \
    X(NO_MEMORY,         19, "no_memory",         "out of memory")                        \
    X(SLOW_CONSUMER,     20, "slow_consumer",     "the peer read too slowly: its send queue filled") \
    X(RATE_LIMITED,      21, "rate_limited",      "the peer sent more than its receive limits allow")     \
    X(SLOW_SENDER,       22, "slow_sender",       "the peer sent a frame too slowly: it did not complete in frame_timeout_ms") \
    X(BUSY,              23, "busy",              "too many connections are being set up; try again") \
    X(SESSION_INVALID,   25, "session_invalid",   "the session could not be resumed: a new one began") \
    X(BAD_SHAPE,         26, "bad_shape",         "a packet lacked the fields its type declares") \
    X(BAD_COMPRESSION,   27, "bad_compression",   "a compressed frame was corrupt or expanded past max_frame") \
    X(BAD_TRANSFER,      28, "bad_transfer",      "a piece of a large message broke the transfer rules or limits") \
    X(REDIRECT,          29, "redirect",          "the session moved to another server (HANDOFF)")

typedef enum hive_close_reason {
#define HIVE_CLOSE_ENUM_(name, code, str, text) HIVE_CLOSE_##name = (code),
    HIVE_CLOSE_REASON_MAP(HIVE_CLOSE_ENUM_)
#undef HIVE_CLOSE_ENUM_
    HIVE_CLOSE_APP_MIN = 1000,   /* first code free for applications */
    HIVE_CLOSE_MAX = 65535       /* largest code on the wire */
} hive_close_reason;

/* hive_close_reason_name - the stable name of a reason code ("normal",
 * "server_full", ...), "application" for codes >= HIVE_CLOSE_APP_MIN,
 * "unknown" otherwise. Static string. Any thread. */
const char *hive_close_reason_name(int reason);

/* hive_close_reason_text - a one-line English description. Static
 * string, never NULL. Any thread. */
const char *hive_close_reason_text(int reason);

/* hive_close_reason_from_name - the code for a stable name, or
 * HIVE_ENOENT. Any thread. */
int hive_close_reason_from_name(const char *name);

/* ------------------------------------------------------------------ */
/* Event names                                                          */
/* ------------------------------------------------------------------ */

#define HIVE_EV_SERVER_INITIALIZE   "net:server.initialize"
#define HIVE_EV_SERVER_BIND         "net:server.bind"
#define HIVE_EV_SERVER_START        "net:server.start"
#define HIVE_EV_SERVER_STOP         "net:server.stop"
#define HIVE_EV_SERVER_INTERRUPT    "net:server.interrupt"
#define HIVE_EV_SERVER_SHUTDOWN     "net:server.shutdown"
#define HIVE_EV_SERVER_ACCEPT       "net:server.connection.accept"
#define HIVE_EV_SERVER_HANDSHAKE    "net:server.connection.handshakecomplete"
#define HIVE_EV_SERVER_SEND         "net:server.connection.send"
#define HIVE_EV_SERVER_RECV         "net:server.connection.recv"
#define HIVE_EV_SERVER_CLOSE        "net:server.connection.close"
#define HIVE_EV_SERVER_BACKPRESSURE "net:server.connection.backpressure"
#define HIVE_EV_SERVER_STATS        "net:server.connection.stats"
#define HIVE_EV_SERVER_SUSPENDED    "net:server.connection.suspended"
#define HIVE_EV_SERVER_RESUMED      "net:server.connection.resumed"
#define HIVE_EV_SERVER_WARNING      "net:server.warning"
#define HIVE_EV_SERVER_TRANSFER     "net:server.connection.transfer"
#define HIVE_EV_SERVER_HANDEDOFF    "net:server.connection.handedoff"
#define HIVE_EV_SERVER_RECV_PREFIX  "net:server.recv."   /* + packet name */

#define HIVE_EV_CLIENT_INITIALIZE   "net:client.initialize"
#define HIVE_EV_CLIENT_CONNECT      "net:client.connect"
#define HIVE_EV_CLIENT_START        "net:client.start"
#define HIVE_EV_CLIENT_STOP         "net:client.stop"
#define HIVE_EV_CLIENT_INTERRUPT    "net:client.interrupt"
#define HIVE_EV_CLIENT_HANDSHAKE    "net:client.handshakecomplete"
#define HIVE_EV_CLIENT_SEND         "net:client.send"
#define HIVE_EV_CLIENT_RECV         "net:client.recv"
#define HIVE_EV_CLIENT_CLOSE        "net:client.close"
#define HIVE_EV_CLIENT_BACKPRESSURE "net:client.backpressure"
#define HIVE_EV_CLIENT_STATS        "net:client.stats"
#define HIVE_EV_CLIENT_RECONNECTING "net:client.reconnecting"
#define HIVE_EV_CLIENT_SESSION_INVALIDATED "net:client.session.invalidated"
#define HIVE_EV_CLIENT_RESUMED      "net:client.resumed"
#define HIVE_EV_CLIENT_WARNING      "net:client.warning"
#define HIVE_EV_CLIENT_TRANSFER     "net:client.transfer"
#define HIVE_EV_CLIENT_REDIRECTED   "net:client.redirected"
#define HIVE_EV_CLIENT_RECV_PREFIX  "net:client.recv."   /* + packet name */

/*
 * hive_event_msg - the decoded message of a recv event, whether it was
 * published (the decoded object is in the event) or posted (only raw
 * bytes travel; they are decoded into tmp). hive_event_body below does
 * the same without the caller's storage.
 * ev: a net recv event; tmp: caller storage, always release it with
 * hive_msg_view_free(tmp) afterwards (harmless when unused).
 * *out: the object, valid while both the event and tmp live.
 * Returns 0, HIVE_ENOENT (no `msg` field), HIVE_EMSGPACK, HIVE_EINVAL.
 */
int hive_event_msg(const hive_event *ev, hive_msg_view *tmp, const msgpack_object **out);

/*
 * hive_event_body - the decoded body of a recv event, in one call:
 *     static void on_chat(const hive_event *ev, void *user) {
 *         const char *text = hive_msg_str_or(hive_event_body(ev), "text", "", &n);
 * Published events (the synchronous path) carry the decoded object; for
 * posted ones (`.threaded`, `.lazy_decode`) the raw bytes are decoded on
 * the first call into a zone the bus owns for this delivery: later calls,
 * from the same or the next handler of the same event, return the same
 * object, and the bus frees it after the last handler returns. Nothing to
 * free; never keep the pointer (or strings inside it) past the handler.
 * Returns NULL when ev has no `msg` field (not a recv event), the bytes
 * do not decode, memory runs out, or ev is not the event the bus handed
 * the handler (a copy). Every hive_msg_* reader takes NULL as "absent".
 * Thread-safety: call it in the handler, on the bus's owner thread (where
 * handlers run).
 */
const msgpack_object *hive_event_body(const hive_event *ev);

/* ------------------------------------------------------------------ */
/* Sending options                                                      */
/* ------------------------------------------------------------------ */

/* Per-send delivery override; 0 = the packet type's registered delivery.
 * The packet still travels on its type's channel (hive/registry.h
 * CHANNELS; below, channel 0's ENet channels). */
#define HIVE_SEND_RELIABLE   0x1u   /* reliable-ordered, ENet channel 0 */
#define HIVE_SEND_UNRELIABLE 0x2u   /* unreliable-sequenced, ENet channel 1 */
#define HIVE_SEND_UNORDERED  0x4u   /* unreliable-unordered (ENet unsequenced,
                                       channel 1): lost or reordered, never
                                       dropped for being late; wins over
                                       the other two */

/* ------------------------------------------------------------------ */
/* The pull API                                                         */
/* ------------------------------------------------------------------ */

/*
 * One received packet taken with hive_server_next / hive_client_next.
 * Everything in it is owned by the packet until hive_packet_free().
 */
typedef struct hive_packet {
    hive_cid cid;                 /* sender (server side) or own cid (client) */
    uint32_t pid;                 /* packet id */
    const char *name;             /* packet name (registered), never NULL */
    const msgpack_object *msg;    /* the decoded body */
    const void *raw;              /* the encoded body */
    size_t len;
    /* private */
    void *priv_;
    msgpack_unpacked up_;
} hive_packet;

/* hive_packet_free - release a packet's memory; p is zeroed. NULL and
 * an already freed or zeroed packet are no-ops. */
void hive_packet_free(hive_packet *p);

/* ------------------------------------------------------------------ */
/* Server                                                               */
/* ------------------------------------------------------------------ */

/* What a client said in its hello, for the auth hook. Strings are
 * NUL-terminated copies, valid during the hook call. */
typedef struct hive_hello {
    const char *addr;          /* "enet://127.0.0.1:52000" */
    const char *app;
    const char *app_version;
    const char *conntype;      /* the client's declared kind, e.g. "player" */
    const void *token;         /* auth token bytes (str or bin), NULL if none */
    size_t token_len;
} hive_hello;

/*
 * An auth hook: decide whether a client may join. Runs on the I/O thread
 * during the handshake (in threaded mode: Hive's thread, so keep it
 * thread-safe and quick). Return 0 to accept, or a HIVE_CLOSE_* code
 * (usually HIVE_CLOSE_AUTH_FAILED, or one >= HIVE_CLOSE_APP_MIN) to reject.
 */
typedef int (*hive_auth_fn)(hive_server *srv, hive_cid cid, const hive_hello *hello, void *user);

/* Zero means default for every field. */
typedef struct hive_server_config {
    const char *addr;               /* listen address, "enet://0.0.0.0:7777" by default;
                                       "host:port" = enet; port 0 = any free port.
                                       Several, comma-separated, listen at once
                                       ("enet://0.0.0.0:7777,ws://0.0.0.0:8080", at
                                       most 8): one cid space, one registry, the
                                       same events; broadcasts reach every
                                       listener's clients. See WEBSOCKET */
    uint32_t max_connections;       /* default 64; at most 4000. Beyond it a
                                       client is rejected with "server_full" */
    uint32_t max_frame;             /* largest frame accepted (length field), and
                                       largest message: default 65536, 8192..64 MiB.
                                       Messages above 16 KiB to a peer that agreed
                                       to pieces travel in pieces (LARGE MESSAGES) */
    uint32_t handshake_timeout_ms;  /* hello..ready must finish in this; default 5000.
                                       A link that connects and never says hello
                                       holds a handshake slot (max_handshakes, not
                                       max_connections) until this closes it or a
                                       newcomer evicts it (tcp:// and tls:// listen
                                       with a backlog of 1024, clamped by the
                                       kernel's somaxconn, and accept at most 64
                                       per wakeup). See ADMISSION */
    uint32_t heartbeat_ms;          /* ping after this much silence; default 1000 */
    uint32_t heartbeat_timeout_ms;  /* close "timeout" after this much silence
                                       from the peer; default 10000 */
    uint32_t close_linger_ms;       /* stop: time given to close packets to
                                       leave before links are dropped; default 200 */
    const char *app;                /* application name; clients must send the
                                       same; default "hive". Copied. */
    const char *app_version;        /* sent to clients in welcome; default "0". Copied. */
    hive_auth_fn auth;              /* optional */
    void *auth_user;
    bool threaded;                  /* run I/O on Hive's own thread and post events */
    bool pull;                      /* keep received packets for hive_server_next */
    size_t pull_capacity;           /* pull queue bound; default 4096. When full,
                                       new packets are dropped and counted */
    bool no_coalesce;               /* one frame per ENet packet (measurement knob) */
    hive_tls_config tls;            /* for tls:// and enet+tls:// addresses */
    bool lazy_decode;               /* recv events carry the body's bytes only, as
                                       posted events do: handlers that read it call
                                       hive_event_msg(), which decodes then. Saves a
                                       decode per message when most handlers never
                                       look at bodies. Bodies are still checked. */
    size_t send_queue_bytes;        /* per connection: most bytes queued for it and
                                       not yet written (tcp://, tls://); default
                                       1 MiB, at least 65536. See SEND QUEUES above */
    uint32_t frame_timeout_ms;      /* a frame whose first byte has arrived must be
                                       complete within this, else the connection
                                       closes with "slow_sender"; default 10000, at
                                       least 100. See SLOW SENDERS above */
    uint32_t recv_frames_per_sec;   /* per connection, after the handshake: most
                                       frames a second (Hive's pings too), with a
                                       burst of one second's worth; 0 = no limit
                                       (the default), else at least 10. Over it:
                                       close "rate_limited". See RECEIVE LIMITS */
    uint32_t recv_bytes_per_sec;    /* the same in frame bytes; 0 = no limit, else
                                       at least max_frame */
    int32_t stats_interval_ms;      /* server.connection.stats per connection this
                                       often (see SEEING THE CONNECTION); 0: default
                                       1000, -1: never, else 10..3600000 */
    uint32_t bandwidth_in;          /* bytes per second per connection, 0:
                                       unlimited. enet://, enet+tls://: given to
                                       ENet (enet_host_create's incoming bandwidth,
                                       announced to peers, which throttle their
                                       sending to it; on a server ENet shares it
                                       among all peers: a host total, not per peer);
                                       tcp://, tls://: not applied (TCP's own flow
                                       control paces what we do not read) */
    uint32_t bandwidth_out;         /* bytes per second per connection, 0:
                                       unlimited. enet://, enet+tls://: ENet's
                                       outgoing bandwidth (a host total, as above);
                                       tcp://, tls://: socket
                                       writes are paced by a token bucket (burst:
                                       a tenth of a second's worth, at least 4096
                                       bytes; tls:// counts the encrypted bytes)
                                       so what is queued leaves at this rate; the
                                       send_queue_bytes bound still applies */
    const char *netsim;             /* a network simulator spec (NETWORK
                                       SIMULATOR above), e.g. "latency=100ms,
                                       jitter=20ms,loss=5%,cut_every=10s,seed=7";
                                       NULL: the HIVE_NETSIM environment variable
                                       if set; "" or "off": none. Copied. A bad
                                       spec fails create, naming the key */
    int32_t resume_window_ms;       /* how long a session whose link was lost
                                       waits for its client to resume it
                                       (RESUME); 0: default 30000, -1: no
                                       resume, else 100..3600000 */
    size_t resume_buffer_bytes;     /* per session: reliable messages kept
                                       until the peer acknowledges them, to
                                       replay after a resume; default 1 MiB,
                                       at least 65536 */
    uint32_t max_handshakes;        /* links that have not had their hello accepted
                                       yet, overall; default 128, at most 4096.
                                       They hold no max_connections slot. A link
                                       arriving when they are all taken makes the
                                       OLDEST one close with "busy". See ADMISSION */
    uint32_t max_handshakes_per_addr; /* the same per source IP address, applied
                                       once half of max_handshakes are under way;
                                       default 8, at most 4096 (at or over
                                       max_handshakes only the overall limit
                                       applies). A link beyond it is refused with
                                       "busy". See ADMISSION */
    uint32_t max_peers_per_addr;    /* enet://, enet+tls://: most ENet peers
                                       (connected or connecting) from one IP
                                       address at once; default 16, 1..4095.
                                       Beyond it ENet ignores the peer's CONNECT:
                                       it gets no slot, the server hears nothing,
                                       and that client's connect ends with
                                       "connect_failed" after its
                                       connect_timeout_ms. Raise it for players
                                       behind one NAT, or for load tests from one
                                       machine. tcp://, tls://: not applied.
                                       See HOSTILE PEERS ON ENET above */
    int32_t compress_threshold;     /* user messages with a body of at least this many
                                       bytes are sent zstd-compressed to peers that
                                       agreed (when that makes them smaller); 0:
                                       default 8192, -1: compression off (not
                                       agreed: neither side compresses), else at
                                       least 64. See COMPRESSION */
    size_t transfer_queue_bytes;    /* per connection: most bytes of large messages
                                       queued and not yet sent in pieces; default
                                       64 MiB, at least max_frame. Beyond it a send
                                       returns HIVE_EFULL (nothing is lost, nothing
                                       closes). See LARGE MESSAGES */
    uint32_t max_transfers;         /* per connection: most large messages the peer
                                       may have in reassembly at once; default 4,
                                       1..64. More: close "bad_transfer" */
    size_t transfer_recv_bytes;     /* per connection: most bytes held in
                                       reassembly over all its transfers; default
                                       the larger of 32 MiB and max_frame, at least
                                       max_frame. More: close "bad_transfer" */
    bool no_pieces;                 /* do not agree to pieces (a peer of an older
                                       Hive): messages go as single frames up to
                                       the peer's max_frame */
    bool strict_names;              /* hive_server_start fails (HIVE_ENOENT) when a
                                       subscription names an unregistered packet
                                       (UNKNOWN PACKET NAMES) */
    int32_t drain_timeout_ms;       /* a close the game asks for (hive_server_close,
                                       stop, shutdown) waits at most this long for
                                       the peer to acknowledge every reliable
                                       message first; 0: default 1000, -1: no
                                       wait, else 1..60000. See CLOSING */
    uint32_t max_subscriptions;     /* per connection: remote subscriptions at
                                       once; default 64, at most 4096. One more
                                       is refused ("too many subscriptions"),
                                       the connection stays. See REMOTE
                                       SUBSCRIPTIONS */
    size_t remote_queue_bytes;      /* per connection: a remote event is dropped
                                       (and counted) instead of sent while the
                                       connection's send queue holds this many
                                       bytes; default 262144, at least 4096.
                                       See REMOTE SUBSCRIPTIONS */
    const char *const *ws_origins;  /* ws://, wss://: the Origin values a browser
                                       may connect from ("https://game.example.org",
                                       exact, ASCII case ignored; "*": any). NULL
                                       or 0 entries: any origin. A request with no
                                       Origin (a native client) is always let in.
                                       A refused one gets HTTP 403 and never
                                       reaches the server's events. Copied. See
                                       WEBSOCKET */
    uint32_t ws_origins_count;
    const char *web_root;           /* ws://, wss://: a folder whose files a plain
                                       HTTP GET on the same port gets (so one URL
                                       opens the game: "/" is index.html). Paths
                                       of [A-Za-z0-9._-/@] only, no hidden or ".."
                                       segment, regular files up to 8 MiB (64 MiB
                                       queued on all links at once, 503 beyond), one
                                       request per connection; a folder named
                                       without its '/' gets a 301 to it; anything
                                       else is 404. NULL: plain GETs get 426. Copied. See
                                       WEBSOCKET */
} hive_server_config;

/* Per-connection facts; strings are owned by the server and valid until
 * the connection's close event has been delivered. */
typedef struct hive_conn_info {
    hive_cid cid;
    const char *addr;
    const char *conntype;          /* NULL before the hello */
    const char *app_version;       /* NULL before the hello */
    bool open;                     /* handshake complete, not closing */
    int rtt_ms;                    /* transport's smoothed RTT, -1 unknown */
    void *user;
} hive_conn_info;

/* Counters, all since create. */
typedef struct hive_net_stats {
    uint64_t frames_in, frames_out;
    uint64_t bytes_in, bytes_out;         /* frame bytes */
    uint64_t packets_dropped;             /* pull queue full */
    uint64_t accepted, rejected, closed;  /* connections (server) */
    /* enet+tls:// only (0 on other transports): sealed unreliable
     * datagrams that authenticated, and those dropped because they failed
     * authentication (tampered, forged, malformed) or were replays. Read
     * from any thread, with or without .threaded; a client's counts
     * include its earlier connections. */
    uint64_t sealed_opened, sealed_rejected, sealed_replayed;
    /* Send queues (see SEND QUEUES): pongs not sent because the
     * connection's queue was above its high-water mark, and connections
     * closed with "slow_consumer". */
    uint64_t pongs_dropped, slow_consumers;
    /* Connections closed with "slow_sender" (SLOW SENDERS). */
    uint64_t slow_senders;
    /* Connections closed with "rate_limited" (RECEIVE LIMITS). */
    uint64_t rate_limited;
    /* enet:// and enet+tls:// servers: peers reset because they sent a
     * CONNECT and did not complete ENet's handshake within 2 s (HOSTILE
     * PEERS ON ENET). Such a peer holds a slot but is never a connection. */
    uint64_t enet_half_open_reaped;
    /* The network simulator (NETWORK SIMULATOR; 0 when it is off): items
     * it dropped (loss, a full bandwidth queue, a datagram overtaken or a
     * second copy on the sequenced channel), second copies it made, and
     * links it cut. */
    uint64_t netsim_dropped, netsim_duplicated, netsim_cuts;
    /* Resume (RESUME): sessions resumed, and resume attempts refused
     * (unknown session, wrong token, other certificate, gone frames). */
    uint64_t resumes, resumes_refused;
    /* DECLARED SHAPES: received packets that did not fit their type's
     * shape (dropped, or their connection closed with "bad_shape"). */
    uint64_t shape_rejected;
    /* COMPRESSION: user frames sent compressed and the bytes that saved
     * (body bytes before minus after), and compressed frames received. */
    uint64_t compressed_out, compress_saved, compressed_in;
    /* LARGE MESSAGES: messages queued to go in pieces, messages that
     * arrived whole from pieces, and connections closed "bad_transfer". */
    uint64_t transfers_out, transfers_in, transfers_refused;
    /* Servers (ADMISSION): links refused on arrival with "busy" because
     * their address already had max_handshakes_per_addr handshakes under
     * way, and handshaking links closed with "busy" to make room for a
     * newcomer when max_handshakes were under way. Every "busy" close is
     * counted in exactly one of them. */
    uint64_t busy_rejected, handshakes_evicted;
    /* REMOTE SUBSCRIPTIONS: remote events dropped at the source for slow
     * subscribers (server), and remote events received (client). */
    uint64_t remote_dropped, remote_events;
} hive_net_stats;

/*
 * One connection's numbers (hive_server_conn_stats, hive_client_conn_stats,
 * and the fields of the server.connection.stats / client.stats events,
 * named as here). Counts are since the connection was made and cover
 * every frame, Hive's own (handshake, ping, pong, close) included.
 */
typedef struct hive_conn_stats {
    double rtt_ms;             /* smoothed round-trip time from Hive's
                                  ping/pong (every transport); -1 until the
                                  first pong arrived */
    double rtt_var_ms;         /* its mean deviation (RFC 6298 rttvar); -1 likewise */
    uint32_t rtt_samples;      /* pongs measured */
    double loss;               /* loss of the peer's unreliable frames 0..1
                                  (enet://, enet+tls://): each ping carries
                                  how many the peer sent, compared with what
                                  arrived, smoothed with gain 1/8; 0 before
                                  the first sample and always on tcp:// and
                                  tls:// (TCP retransmits: nothing is lost) */
    uint64_t frames_in, frames_out;
    uint64_t bytes_in, bytes_out;  /* bytes received (as read) / frame bytes queued */
    uint64_t send_queue_bytes;     /* queued and not yet written (tcp://, tls://;
                                      0 where the transport does not say). Off the
                                      I/O thread: as of its last timer round (10 ms) */
    uint64_t connected_ms;         /* since the link was made (dial or accept) */
    uint32_t resumes;              /* resumes of this session (0: no resume yet) */
} hive_conn_stats;

/*
 * hive_server_create - a server publishing on bus.
 * cfg: may be NULL (defaults); copied (strings too).
 * bus: required; must outlive the server.
 * Publishes server.initialize. Returns NULL on a bad config
 * (max_connections over HIVE_MAX_CONNECTIONS, max_frame under
 * HIVE_MIN_MAX_FRAME, heartbeat_ms not under heartbeat_timeout_ms, app or
 * app_version over HIVE_HELLO_STR_MAX bytes, send_queue_bytes under
 * HIVE_MIN_SEND_QUEUE_BYTES, max_handshakes or max_handshakes_per_addr
 * over HIVE_MAX_HANDSHAKES, no bus) or HIVE_ENOMEM;
 * hive_create_error() then says which field and why.
 */
hive_server *hive_server_create(const hive_server_config *cfg, hive_bus *bus);

/*
 * hive_server_config_get - the config in force: every default filled in.
 * out: written whole; its strings (addr, app, app_version, tls paths) are
 * the server's copies, valid while s lives. auth and auth_user are as
 * given. Returns HIVE_OK or HIVE_EINVAL (NULL argument). Any thread.
 */
int hive_server_config_get(const hive_server *s, hive_server_config *out);

/* hive_server_destroy - shutdown (if not done) and free. NULL is a
 * no-op. Not from inside one of this server's event handlers. */
void hive_server_destroy(hive_server *s);

/*
 * DECLARED SHAPES: a packet type may declare the fields its body must
 * have, so its handlers can rely on them. A shape is a table of (key,
 * type, required); the body must be a map; declared fields that are
 * present must have their type, required ones must be present; other
 * keys are allowed. Each received packet of that type is checked on the
 * I/O thread before any event (it is decoded for that, even when nobody
 * listens) and one that does not fit is, by the policy:
 *   HIVE_SHAPE_DROP   dropped and counted (hive_net_stats.shape_rejected;
 *                     a voidable net:*.warning {code "bad_shape", cid,
 *                     name, text} says why); the connection stays;
 *   HIVE_SHAPE_CLOSE  counted, and its connection closed with "bad_shape"
 *                     (the close message says which field).
 * Shapes are this side's own check: nothing of them goes on the wire.
 */
typedef enum hive_vtype {
    HIVE_V_ANY = 0,     /* present, of any type */
    HIVE_V_NIL, HIVE_V_BOOL,
    HIVE_V_INT,         /* an integer that fits int64_t */
    HIVE_V_UINT,        /* a non-negative integer */
    HIVE_V_DOUBLE,      /* a float (32 or 64 bits) */
    HIVE_V_NUMBER,      /* an integer or a float */
    HIVE_V_STR, HIVE_V_BIN, HIVE_V_ARRAY, HIVE_V_MAP
} hive_vtype;

typedef struct hive_shape_field {
    const char *key;    /* copied */
    hive_vtype type;
    bool required;
} hive_shape_field;

typedef enum hive_shape_policy { HIVE_SHAPE_DROP = 0, HIVE_SHAPE_CLOSE = 1 } hive_shape_policy;

#define HIVE_SHAPE_MAX_FIELDS 64

/*
 * hive_server_shape - declare the shape of a registered packet type
 * (before start; again: replaces it). fields: n entries (copied), keys
 * distinct and non-empty. Returns HIVE_OK, HIVE_ENOENT (not registered),
 * HIVE_EINVAL (a bad table or policy, n over HIVE_SHAPE_MAX_FIELDS),
 * HIVE_ESTATE (after start), HIVE_ENOMEM. Owner thread.
 */
int hive_server_shape(hive_server *s, const char *name, const hive_shape_field *fields, size_t n,
                      hive_shape_policy policy);

/*
 * LARGE MESSAGES: max_frame (up to HIVE_MAX_MAX_FRAME) bounds every
 * message a peer may be sent; a larger send returns HIVE_ETOOBIG. A
 * reliable message over 16 KiB (after compression) to a peer that agreed
 * to pieces (both sides offer them unless no_pieces is set) is copied
 * once into the connection's transfer queue (transfer_queue_bytes;
 * beyond it HIVE_EFULL, the connection stays open) and sent in 16 KiB
 * pieces only while the link's own send queue is short, so every other
 * message sent meanwhile waits behind at most a couple of pieces, on
 * every transport. The receiver reassembles it in memory that grows with
 * what arrived, within max_transfers and transfer_recv_bytes, and
 * delivers it as one recv event with its own pid when its last piece is
 * in: reliable messages sent after it may be delivered before it. A
 * piece that breaks the rules closes with "bad_transfer". Pieces are
 * counted reliable frames: a transfer cut by a lost link carries on
 * after a resume. Progress: net:server.connection.transfer and
 * net:client.transfer {cid, pid, name, tid, direction "in"/"out", done,
 * total}, per piece, only when subscribed. hive_net_stats counts
 * transfers_out, transfers_in and transfers_refused. docs/PROTOCOL.md,
 * "Large messages", is the wire format.
 */

/*
 * COMPRESSION: user messages whose body is at least compress_threshold
 * bytes (default 8192, like peng3dnet; -1 turns compression off) are sent
 * compressed with zstd (level 1: a few hundred MB/s) when that makes them
 * smaller, to peers that agreed in the handshake: the client offers it in
 * its hello unless its own threshold is -1, the server agrees unless its
 * is. A peer that did not agree is never sent a compressed frame, and
 * one that sends it anyway is closed with "bad_frame". Both sides
 * compress what they send; a broadcast is compressed once for all.
 * Decompression is bounded: the frame must be one zstd frame declaring
 * its size, at most this side's max_frame, and may not expand past it;
 * otherwise the connection closes with "bad_compression" (a bomb costs
 * at most max_frame bytes). Limits and the send queue count the
 * compressed bytes; max_frame bounds the decompressed ones. Already
 * compressed data (images, audio) gains nothing: turn its type off with
 * hive_server_compress / hive_client_compress. hive_net_stats counts
 * compressed_out, compress_saved and compressed_in. zstd's own memory
 * comes from the C library's malloc.
 */

/* hive_server_compress - turn compression of one registered packet type
 * off (on: back to the threshold rule). Before start. Returns HIVE_OK,
 * HIVE_ENOENT (not registered), HIVE_ESTATE (after start), HIVE_EINVAL,
 * HIVE_ENOMEM. Owner thread. */
int hive_server_compress(hive_server *s, const char *name, bool on);

/*
 * UNKNOWN PACKET NAMES: a subscription to net:server.recv.<name> (or
 * net:client.recv.<name>) for a name the registry does not have never
 * fires - usually a typo. Hive looks for such subscriptions when the
 * registry is settled (server: hive_server_start; client: each welcome)
 * and, for ones made later, at its next timer round, and reports each
 * name once: net:server.warning / net:client.warning {server or client,
 * code = "unknown_packet", name (the packet name), text}. When nobody
 * listens to the warning event, the text goes to stderr instead
 * ("hive: warning: ..."), so a typo is never silent. With
 * hive_server_config.strict_names, hive_server_start fails with
 * HIVE_ENOENT instead when one exists at start (the warning says which).
 * Patterns (net:server.recv.game:*) are never reported.
 */

/*
 * hive_server_register - register a packet type before start.
 * id: 0 = automatic (smallest free >= 64). d: its default delivery.
 * Interns `net:server.recv.<name>`. Returns the id (> 0), HIVE_EEXIST,
 * HIVE_EINVAL, HIVE_ENOMEM, HIVE_ESTATE (after start: the table clients
 * received must not change).
 */
int hive_server_register(hive_server *s, const char *name, uint32_t id, hive_delivery d);

/*
 * hive_server_set_channel - put a registered packet type on a channel
 * (0..HIVE_CHANNELS_MAX-1, hive/registry.h CHANNELS) before start: an
 * ordered stream of its own on enet://, so its reliable packets never
 * wait behind another channel's. Returns HIVE_OK, HIVE_ENOENT (not
 * registered), HIVE_EINVAL (channel out of range), HIVE_ESTATE (after
 * start).
 */
int hive_server_set_channel(hive_server *s, const char *name, unsigned channel);

/* hive_server_registry - the server's packet table (read only; it does not
 * change after start). Any thread after start. */
const hive_registry *hive_server_registry(const hive_server *s);

/* hive_server_packet_id / _name - look ups in the server's table (see
 * registry.h), the same shape as the client's: the id (or HIVE_ENOENT,
 * HIVE_EINVAL), and the name copied into buf (n bytes), returning buf, or
 * NULL when unknown or it does not fit. Any thread once started; before
 * that, on the thread that registers. */
int hive_server_packet_id(const hive_server *s, const char *name);
const char *hive_server_packet_name(const hive_server *s, uint32_t pid, char *buf, size_t n);

/*
 * hive_server_bind - open the listening endpoint.
 * addr: NULL = cfg->addr. Publishes server.bind. Returns HIVE_OK,
 * HIVE_EADDR, HIVE_EUNSUPPORTED (unknown scheme), HIVE_EIO (bind failed),
 * HIVE_ESTATE (already bound).
 */
int hive_server_bind(hive_server *s, const char *addr);

/* hive_server_port - the bound port (port 0 resolved), or 0. Any thread. */
uint16_t hive_server_port(const hive_server *s);
/* hive_server_port_at - the bound port of the i-th listener (0-based, in
 * the order of hive_server_config.addr's list; 0 is hive_server_port),
 * or 0 when there is no such listener or the server is not bound. Any
 * thread once hive_server_bind/start has returned. */
uint16_t hive_server_port_at(const hive_server *s, int i);

/*
 * hive_server_start - accept connections (binds first when needed).
 * Threaded: starts the I/O thread. Publishes server.start.
 * Returns HIVE_OK, a bind error, HIVE_ESTATE (running or shut down),
 * HIVE_ENOMEM / HIVE_EIO (thread).
 */
int hive_server_start(hive_server *s);

/*
 * hive_server_service - do the server's I/O for up to timeout_ms (0 =
 * poll once): accept, handshakes, receive (publishing events as it goes),
 * heartbeats, timeouts, flushing sends. Returns early when something was
 * handled, or hive_server_interrupt() was called. One call handles at
 * most a few milliseconds' worth of received messages (ENet), so a
 * flood cannot hold the caller's loop; the rest waits for the next call.
 * A game loop must call it at least once per tick even when it runs late:
 * a loop that only ticks (broadcast, flush) until it catches up publishes
 * nothing meanwhile and, under load, lets its transport's queue fill.
 * Returns the number of transport events handled (>= 0), HIVE_ESTATE
 * (not started, or threaded: the thread services), HIVE_ECLOSED after an
 * interrupt (the interrupt event has been published; the next call
 * services normally again). I/O thread.
 */
int hive_server_service(hive_server *s, int timeout_ms);

/*
 * hive_server_run - call service until hive_server_interrupt() or
 * hive_server_stop() (e.g. from a handler). Non-threaded mode. Returns
 * HIVE_OK, or the error that stopped it.
 */
int hive_server_run(hive_server *s);

/* hive_server_interrupt - make a running service/run/wait return now and
 * publish server.interrupt. Any thread; async-signal-safe. */
void hive_server_interrupt(hive_server *s);

/*
 * hive_server_stop - stop serving: every connection is closed with
 * "server_shutdown" (close events published), close packets get up to
 * close_linger_ms to leave, the I/O thread (threaded) ends, pull waiters
 * wake. Publishes server.stop. The server stays bound; start serves
 * again. Returns HIVE_OK or HIVE_ESTATE (not running). Owner thread.
 * From inside a handler (caller-thread mode) the stop is carried out as
 * soon as the Hive call that ran the handler (service, send, close...)
 * is done; in threaded mode handlers run at dispatch and stop at once.
 * Never from the auth hook (it runs on the I/O thread).
 */
int hive_server_stop(hive_server *s);

/* hive_server_shutdown - stop if running, close the listening endpoint,
 * publish server.shutdown. Only destroy is useful afterwards. Returns
 * HIVE_OK or HIVE_ESTATE (already shut down). */
int hive_server_shutdown(hive_server *s);

/*
 * hive_server_send - send one message to one connection.
 * name: a registered packet name; body/len: exactly one msgpack object
 * (not checked here: a malformed body makes the peer close with
 * "bad_msgpack"). Copied; the caller keeps ownership.
 * Returns HIVE_OK (queued; it leaves at the end of this service round
 * or at hive_server_flush), HIVE_ENOENT (unknown name or cid), HIVE_ESTATE
 * (server not running, connection not open yet or closing), HIVE_ETOOBIG
 * (frame over the peer's max_frame or over send_queue_bytes), HIVE_EFULL
 * (the connection's send queue is full: the frame is not queued and the
 * connection is being closed with "slow_consumer"; see SEND QUEUES),
 * HIVE_EINVAL (empty body), HIVE_ENOMEM.
 * A frame queued from another thread for a connection that closes before
 * the I/O loop gets to it is dropped; so is one that finds the send queue
 * full there (HIVE_OK was returned; the connection closes as above). Any
 * thread.
 */
int hive_server_send(hive_server *s, hive_cid cid, const char *name,
                     const void *body, size_t len);

/* hive_server_send_id - the same by packet id; flags: 0 or HIVE_SEND_*.
 * Any thread. */
int hive_server_send_id(hive_server *s, hive_cid cid, uint32_t pid,
                        const void *body, size_t len, unsigned flags);

/* hive_server_send_msg - send a built hive_msg (see hive/msg.h). Any thread. */
int hive_server_send_msg(hive_server *s, hive_cid cid, const char *name, const hive_msg *m);

/*
 * hive_server_broadcast - send to every open connection except `except`
 * (0 = nobody excepted). The frame is encoded once.
 * Returns the number of connections it was queued for (>= 0; from a
 * foreign thread: 0 once queued), or HIVE_ENOENT, HIVE_ETOOBIG,
 * HIVE_ENOMEM. A connection whose send queue is full is skipped and
 * closed with "slow_consumer" (SEND QUEUES). Any thread.
 */
int hive_server_broadcast(hive_server *s, const char *name, const void *body,
                          size_t len, hive_cid except);
int hive_server_broadcast_id(hive_server *s, uint32_t pid, const void *body,
                             size_t len, hive_cid except, unsigned flags);

/* hive_server_flush - push queued frames onto the network now. I/O thread
 * (elsewhere: wakes the I/O loop, which flushes). A flush to thousands of
 * connections also reads what arrives meanwhile into the transport's
 * queue (ENet), so the socket's receive buffer does not overflow during
 * the burst; nothing is published from inside a flush. Returns HIVE_OK. */
int hive_server_flush(hive_server *s);

/*
 * hive_server_close - close one connection: a close packet with reason
 * (HIVE_CLOSE_KICKED, HIVE_CLOSE_NORMAL, or >= HIVE_CLOSE_APP_MIN) and an
 * optional message (copied, at most 255 bytes kept) goes to the peer
 * after what is already queued. The close event is published when the
 * I/O loop handles it (at once on the I/O thread).
 * Returns HIVE_OK, HIVE_ENOENT (no such connection), HIVE_EINVAL (reason
 * out of range). Any thread.
 */
int hive_server_close(hive_server *s, hive_cid cid, int reason, const char *message);

/*
 * HANDOFF - moving a player's session to another server (a lobby sending
 * a player to a shard), with nothing lost and nothing twice. The player's
 * client follows by itself. hive_bridge_handoff (hive/bridge.h) does the
 * whole dance over NATS; these are its steps, for any other carrier:
 *
 *   source: hive_server_handoff_begin(src, cid, data, n, &ticket)
 *           the session is frozen: what its client sends is no longer
 *           delivered nor acknowledged (the client keeps it and sends it
 *           again where it lands), and sends to it are refused
 *           (HIVE_ESTATE). The ticket holds the session's counts, the
 *           frames the client has not confirmed, and data (the game's
 *           own, at most 64 KiB).
 *   carry:  the ticket's bytes to the target server.
 *   target: hive_server_adopt(dst, ticket, n, &new_cid, token) keeps the
 *           session, without a link, for resume_window_ms.
 *   carry:  new_cid and token back to the source.
 *   source: hive_server_handoff_redirect(src, cid, "addr of dst", new_cid,
 *           token): the client gets a close with reason `redirect`, the
 *           target's address, cid and token (docs/PROTOCOL.md "Handoff"),
 *           and the source's close event says redirect. Or, when the
 *           target refused or never answered, hive_server_handoff_cancel:
 *           the link is dropped without a word, the client resumes here
 *           and sends again what it sent while frozen.
 *   client: net:client.redirected {client, addr, from_cid, cid}, dials
 *           addr (with the client's transport settings), resumes the
 *           session there: net:client.resumed, the same reliable streams
 *           both ways. Its remote subscriptions are made again there.
 *   target: net:server.connection.handedoff {server, cid, from_cid, addr,
 *           data} instead of handshakecomplete: a player arrived with its
 *           session and the game's data.
 * Both servers must run the same application with the same registry
 * (adopt checks a digest of it), and the target must offer resume
 * (resume_window_ms), compression and pieces as the session agreed them,
 * and keep the promises of the source's welcome, which the client keeps
 * (as after any resume): frames up to the source's max_frame, a heartbeat
 * under the source's heartbeat timeout, a timeout over its heartbeat.
 * adopt refuses a session it could not keep (HIVE_ESTATE).
 * A client that loses its link before it reads the redirect resumes at
 * the source as after any loss: the source remembers where each session
 * it moved went (for its own resume_window_ms, at most max_connections
 * of them) and refuses that resume with reason redirect and the same
 * address, cid and token, so the client goes on to the target all the
 * same (net:client.redirected, then resumed there).
 * A ticket is input from another machine: hive_server_adopt checks every
 * field and refuses anything malformed (HIVE_EPROTO); carry it only over
 * links you trust (NATS with permissions, TLS). Not on a threaded server
 * (HIVE_ESTATE): call them on the I/O thread, which there is the game's.
 */
#define HIVE_HANDOFF_TOKEN_BYTES 16
#define HIVE_HANDOFF_DATA_MAX    65536

/* hive_server_handoff_begin - freeze cid and make its ticket (appended
 * to ticket, an initialised hive_msg; free it with hive_msg_free).
 * Returns HIVE_OK, HIVE_ENOENT, HIVE_ESTATE (not open, offered no resume,
 * draining, a large message under way, moving already, a threaded
 * server), HIVE_ETOOBIG (data over HIVE_HANDOFF_DATA_MAX, or more than
 * 65,536 unconfirmed frames), HIVE_ENOMEM. While frozen, sends to cid
 * (also from other threads), broadcasts and remote events pass it by:
 * they would be counted past what the ticket says. The freeze lasts until
 * the redirect or the cancel; the client keeps what it sends meanwhile in
 * its replay buffer (resume_buffer_bytes bounds how long that may be). */
int hive_server_handoff_begin(hive_server *s, hive_cid cid, const void *data, size_t len, hive_msg *ticket);

/* hive_server_handoff_redirect - end a move begun on cid: tell the client
 * where to go (addr: at most 255 bytes) and close. HIVE_OK, HIVE_ENOENT,
 * HIVE_ESTATE (not moving), HIVE_EINVAL. */
int hive_server_handoff_redirect(hive_server *s, hive_cid cid, const char *addr, hive_cid target_cid,
                                 const uint8_t token[HIVE_HANDOFF_TOKEN_BYTES]);

/* hive_server_handoff_cancel - give up a move: the session stays here
 * (its client resumes at once). HIVE_OK, HIVE_ENOENT, HIVE_ESTATE. */
int hive_server_handoff_cancel(hive_server *s, hive_cid cid);

/* hive_server_adopt - keep the session a ticket describes, for its
 * client to resume here. *cid: its cid here; token: what the client must
 * show. Returns HIVE_OK, HIVE_EPROTO (a malformed ticket), HIVE_ESTATE
 * (another application or registry, no resume here, compression or
 * pieces the session agreed to and this server does not offer, a session
 * with a client certificate on a server that asks for none, a session on
 * several lanes (channels over enet) on a server whose links have one, a
 * smaller max_frame or a heartbeat the client would not keep up with (see
 * above), a threaded
 * server, not running), HIVE_EFULL (max_connections),
 * HIVE_ETOOBIG (its frames exceed resume_buffer_bytes), HIVE_ENOMEM. */
int hive_server_adopt(hive_server *s, const void *ticket, size_t len, hive_cid *cid,
                      uint8_t token[HIVE_HANDOFF_TOKEN_BYTES]);

/* hive_server_connection_count - open or opening connections. Any thread. */
size_t hive_server_connection_count(const hive_server *s);

/* hive_server_connections - copy up to max connection ids into out;
 * returns how many there are in all (may exceed max). Any thread. */
size_t hive_server_connections(const hive_server *s, hive_cid *out, size_t max);

/* hive_server_set_broadcast - whether broadcasts reach connection cid
 * (on by default). Off suits a spectator or a connection still logging
 * in: hive_server_broadcast passes it by, sends to it still work. Any
 * thread; a broadcast already queued from another thread may still
 * reach it. HIVE_OK, HIVE_ENOENT. */
int hive_server_set_broadcast(hive_server *s, hive_cid cid, bool on);

/* hive_server_set_user / hive_server_user - one pointer of game data per
 * connection (never touched by Hive). set: HIVE_OK or HIVE_ENOENT; user:
 * the pointer or NULL. Any thread. */
int   hive_server_set_user(hive_server *s, hive_cid cid, void *user);
void *hive_server_user(const hive_server *s, hive_cid cid);

/* hive_server_conn_info - facts about a connection. Returns HIVE_OK or
 * HIVE_ENOENT. The strings stay valid only while the connection exists:
 * call from the I/O thread, or copy them at once. */
int hive_server_conn_info(const hive_server *s, hive_cid cid, hive_conn_info *out);

/* hive_server_conn_stats - connection cid's hive_conn_stats into *out.
 * Any thread (with or without .threaded). Returns HIVE_OK, HIVE_EINVAL
 * (NULL), HIVE_ENOENT (no such connection). */
int hive_server_conn_stats(const hive_server *s, hive_cid cid, hive_conn_stats *out);

/* hive_server_stats - copy the counters. Any thread. */
int hive_server_stats(const hive_server *s, hive_net_stats *out);

/*
 * hive_server_wait - wait until a received packet is ready for
 * hive_server_next (cfg.pull must be true). Non-threaded: runs service
 * meanwhile. Returns 1 (a packet is ready), 0 (timed out), HIVE_ECLOSED
 * (stopped, or interrupted: every waiter wakes), HIVE_ESTATE (pull off).
 * timeout_ms < 0 waits without limit. Any thread in threaded mode.
 */
int hive_server_wait(hive_server *s, int timeout_ms);

/*
 * hive_server_next - take the oldest received packet.
 * Returns 1 and fills *out (free it with hive_packet_free), 0 when none
 * is waiting, HIVE_ESTATE (pull off), HIVE_ENOMEM / HIVE_EMSGPACK (the
 * packet is consumed and lost). Any thread in threaded mode.
 */
int hive_server_next(hive_server *s, hive_packet *out);

/* ------------------------------------------------------------------ */
/* Client                                                               */
/* ------------------------------------------------------------------ */

typedef enum hive_client_state {
    HIVE_CLIENT_IDLE = 0,       /* never connected, or stopped */
    HIVE_CLIENT_CONNECTING,     /* dialing / TLS */
    HIVE_CLIENT_HANDSHAKING,    /* hello sent */
    HIVE_CLIENT_OPEN,           /* welcome received, ready sent */
    HIVE_CLIENT_CLOSING,        /* close sent or received */
    HIVE_CLIENT_CLOSED,         /* the connection is over (see close_reason) */
    HIVE_CLIENT_RECONNECTING    /* the link was lost; waiting to dial again
                                   (RECONNECTING in the top comment) */
} hive_client_state;

/* Zero means default for every field. */
typedef struct hive_client_config {
    const char *app;                /* must equal the server's; default "hive" */
    const char *app_version;        /* default "0" */
    const char *conntype;           /* what this client is; default "player" */
    const void *token;              /* auth token sent in hello (bin); may be NULL */
    size_t token_len;               /* at most 4096 */
    uint32_t connect_timeout_ms;    /* to reach the server; default 5000 */
    uint32_t handshake_timeout_ms;  /* hello..welcome; default 5000 */
    uint32_t heartbeat_ms;          /* until the welcome gives the server's; default 1000 */
    uint32_t heartbeat_timeout_ms;  /* idem; default 10000 */
    uint32_t max_frame;             /* as hive_server_config.max_frame */
    bool threaded;                  /* run I/O on Hive's own thread and post events */
    bool pull;                      /* keep received packets for hive_client_next */
    size_t pull_capacity;           /* default 4096 */
    bool no_coalesce;               /* one frame per ENet packet (measurement knob) */
    hive_tls_config tls;            /* for tls:// and enet+tls:// */
    bool lazy_decode;               /* as hive_server_config.lazy_decode */
    size_t send_queue_bytes;        /* as hive_server_config.send_queue_bytes */
    uint32_t frame_timeout_ms;      /* as hive_server_config.frame_timeout_ms */
    uint32_t recv_frames_per_sec;   /* as hive_server_config (what the server may send) */
    uint32_t recv_bytes_per_sec;
    int32_t stats_interval_ms;      /* client.stats this often; as the server's */
    uint32_t bandwidth_in;          /* as hive_server_config.bandwidth_in */
    uint32_t bandwidth_out;         /* as hive_server_config.bandwidth_out */
    const char *netsim;             /* as hive_server_config.netsim (NULL:
                                       HIVE_NETSIM; "" or "off": none) */
    uint32_t reconnect_attempts;    /* after a lost link, dial again up to this
                                       many times in a row (RECONNECTING); 0: never
                                       (the default), HIVE_RECONNECT_FOREVER: no limit */
    uint32_t reconnect_delay_ms;    /* before the first attempt; default 250, at
                                       least 10 */
    uint32_t reconnect_max_delay_ms;/* the backoff's cap; default 10000, at least
                                       reconnect_delay_ms */
    double reconnect_factor;        /* each delay is the last one times this;
                                       default 2.0, 1.0..16.0 */
    size_t resume_buffer_bytes;     /* as hive_server_config.resume_buffer_bytes */
    int32_t drain_timeout_ms;       /* as hive_server_config.drain_timeout_ms, for
                                       hive_client_close and hive_client_stop */
    int32_t compress_threshold;     /* as hive_server_config.compress_threshold
                                       (-1: not offered in the hello) */
    size_t transfer_queue_bytes;    /* as hive_server_config.transfer_queue_bytes */
    uint32_t max_transfers;         /* as hive_server_config.max_transfers */
    size_t transfer_recv_bytes;     /* as hive_server_config.transfer_recv_bytes */
    bool no_pieces;                 /* as hive_server_config.no_pieces (not offered
                                       in the hello) */
} hive_client_config;

/*
 * hive_client_create - a client publishing on bus (must outlive it).
 * cfg may be NULL (defaults); copied (strings and token too). Publishes
 * client.initialize. Returns NULL on a bad config (heartbeat_ms not under
 * heartbeat_timeout_ms, max_frame under HIVE_MIN_MAX_FRAME, token_len over
 * HIVE_TOKEN_MAX or without a token, a string over HIVE_HELLO_STR_MAX
 * bytes, send_queue_bytes under HIVE_MIN_SEND_QUEUE_BYTES, no bus) or HIVE_ENOMEM; hive_create_error() says which and why.
 */
hive_client *hive_client_create(const hive_client_config *cfg, hive_bus *bus);

/*
 * hive_client_config_get - the config in force, defaults filled in (the
 * heartbeat pair as configured, before a welcome replaces it). Strings
 * and token point at the client's copies, valid while c lives. Returns
 * HIVE_OK or HIVE_EINVAL. Any thread.
 */
int hive_client_config_get(const hive_client *c, hive_client_config *out);

/* hive_client_destroy - close (normal) and stop if needed, then free. NULL
 * is a no-op. Not from inside this client's handlers. */
void hive_client_destroy(hive_client *c);

/*
 * hive_client_connect - start connecting to addr ("127.0.0.1:7777",
 * "enet://host:port"; default port 7777). Returns at once; the link comes
 * up during service (or on the I/O thread). Publishes client.connect.
 * Returns HIVE_OK, HIVE_EADDR, HIVE_EUNSUPPORTED, HIVE_ESTATE (already
 * connected: stop first; or called from inside one of this client's
 * handlers - reconnect from the game loop instead), HIVE_ENOMEM, HIVE_EIO.
 */
int hive_client_connect(hive_client *c, const char *addr);

/* hive_client_service - I/O for up to timeout_ms; returns early when
 * something happened or on interrupt. Returns the number of transport
 * events (>= 0), HIVE_ESTATE (idle, or threaded), HIVE_ECLOSED after an
 * interrupt. I/O thread. */
int hive_client_service(hive_client *c, int timeout_ms);

/* hive_client_interrupt - make service/wait return now and publish
 * client.interrupt. Any thread; async-signal-safe. */
void hive_client_interrupt(hive_client *c);

/*
 * hive_client_wait_connected - wait for the handshake (non-threaded: runs
 * service meanwhile). timeout_ms < 0: no limit.
 * Returns HIVE_OK (open), HIVE_ETIMEDOUT, HIVE_ECLOSED (the connection
 * ended - see hive_client_close_reason - or interrupt), HIVE_ESTATE (idle).
 */
int hive_client_wait_connected(hive_client *c, int timeout_ms);

/* hive_client_wait_closed - wait until the connection is over (client
 * idle or closed). Returns HIVE_OK, HIVE_ETIMEDOUT, HIVE_ECLOSED on
 * interrupt. */
int hive_client_wait_closed(hive_client *c, int timeout_ms);

/* hive_client_send / _id / _msg - as hive_server_send, to the server.
 * HIVE_ESTATE before the handshake completes, after a close was asked
 * for (CLOSING), or while reconnecting without a session to resume;
 * HIVE_EFULL when the send queue is full (the connection then closes with
 * "slow_consumer") or, while reconnecting, when the session's
 * resume_buffer_bytes is (nothing closes; the message is not kept).
 * Between links a reliable message is kept for the resume (RESUME).
 * Any thread. */
int hive_client_send(hive_client *c, const char *name, const void *body, size_t len);
int hive_client_send_id(hive_client *c, uint32_t pid, const void *body, size_t len, unsigned flags);
int hive_client_send_msg(hive_client *c, const char *name, const hive_msg *m);

/* hive_client_flush - push queued frames now (elsewhere than the I/O
 * thread: wakes it). Returns HIVE_OK. */
int hive_client_flush(hive_client *c);

/*
 * hive_client_close - close the connection with reason (HIVE_CLOSE_NORMAL
 * or >= HIVE_CLOSE_APP_MIN) and optional message; queued frames leave
 * first. client.close then client.stop follow. Returns HIVE_OK,
 * HIVE_ESTATE (nothing to close), HIVE_EINVAL. Any thread.
 */
int hive_client_close(hive_client *c, int reason, const char *message);

/* hive_client_stop - close (normal) if connected, end the I/O thread,
 * drop the link, publish client.stop (when there was something to stop).
 * From inside a handler it is carried out once the Hive call that ran the
 * handler is done. Returns HIVE_OK. Owner thread. */
int hive_client_stop(hive_client *c);

/* hive_client_state / _cid / _close_reason - current facts. Any thread.
 * cid is 0 before the welcome; close_reason is -1 until a close. */
hive_client_state hive_client_get_state(const hive_client *c);
hive_cid hive_client_cid(const hive_client *c);
int hive_client_close_reason(const hive_client *c);

/* hive_client_shape - as hive_server_shape, for packets the client
 * receives, by name (the server's registry arrives with each welcome;
 * a shape for a name it lacks is reported as UNKNOWN PACKET NAMES are).
 * Only while the client is idle or closed (else HIVE_ESTATE). */
int hive_client_shape(hive_client *c, const char *name, const hive_shape_field *fields, size_t n,
                      hive_shape_policy policy);

/* hive_client_compress - as hive_server_compress, for what the client
 * sends, by name; while idle or closed (else HIVE_ESTATE). */
int hive_client_compress(hive_client *c, const char *name, bool on);

/* hive_client_packet_id / _name - look ups in the table the server sent
 * (empty before the welcome). The name is copied into buf (n bytes);
 * returns buf or NULL. Any thread. */
int hive_client_packet_id(const hive_client *c, const char *name);
const char *hive_client_packet_name(const hive_client *c, uint32_t pid, char *buf, size_t n);

/* hive_client_stats - copy the counters. Any thread. */
int hive_client_stats(const hive_client *c, hive_net_stats *out);

/* hive_client_conn_stats - the current connection's hive_conn_stats into
 * *out. Any thread (with or without .threaded). Returns HIVE_OK,
 * HIVE_EINVAL (NULL), HIVE_ENOENT (no connection now). */
int hive_client_conn_stats(const hive_client *c, hive_conn_stats *out);

/*
 * hive_client_wait_event - wait for the next event on the client's bus
 * matching pattern (any event: net:client.*, remote:*, recv...), running
 * the network meanwhile (service; threaded: dispatching what the I/O
 * thread posts), for at most timeout_ms (0: what is already there).
 * For scripts and tests; a game loop uses hive_bus_expect.
 * Returns HIVE_OK and *out, a copy of the event (free it with
 * hive_event_copy_free); HIVE_ETIMEDOUT (*out NULL); HIVE_ECLOSED when
 * the connection ended first (*out the copy of its net:client.close, or
 * NULL when none was published: idle, closed already, interrupted);
 * HIVE_EINVAL, HIVE_EPATTERN / HIVE_ENAME. Never waits past timeout_ms
 * by more than one service slice (10 ms). The bus owner's thread.
 */
int hive_client_wait_event(hive_client *c, const char *pattern, int timeout_ms, hive_event_copy **out);

/* Pull API, as on the server (cfg.pull must be true). Closing the
 * connection wakes every waiter (HIVE_ECLOSED once the queue is empty). */
int hive_client_wait(hive_client *c, int timeout_ms);
int hive_client_next(hive_client *c, hive_packet *out);

/* ------------------------------------------------------------------ */
/* Remote subscriptions                                                 */
/* ------------------------------------------------------------------ */

/*
 * REMOTE SUBSCRIPTIONS
 *   A client asks the server for the server's own bus events by name or
 *   pattern (`arena:**`, `arena:player.*`), optionally with filters the
 *   server evaluates on the event's fields, and gets each matching event
 *   on its own bus as `remote:<name>` with the same fields (INT, DOUBLE,
 *   STR, BYTES and MSGPACK travel; PTR fields never do):
 *
 *     server: hive_server_export(srv, "arena:**", NULL);    before start
 *     client: hive_client_subscribe(cli, "arena:player.*", NULL, 0);
 *             hive_bus_subscribe(bus, "remote:arena:player.*", on_player, NULL, NULL);
 *
 *   Why the prefix: a client's own events and the server's never mix up
 *   (a client may publish `arena:player.moved` itself), and a handler can
 *   tell what came over the wire; `remote:**` catches everything remote.
 *   A server event whose name is longer than HIVE_NAME_MAX - 8 is never
 *   sent (counted as dropped).
 *
 *   Exports. Nothing is visible until the server exports it: each export
 *   is a pattern (an allow-list), a delivery (reliable by default; an
 *   unreliable one suits positions) and an optional check that sees the
 *   connection (cid, conntype, TLS peer subject, user data) and the
 *   request. A request is granted when one export's pattern covers every
 *   name the requested pattern can match (`arena:**` covers
 *   `arena:player.*`, not `**`) and that export's check allows it; the
 *   first such export, in the order they were added, gives the delivery.
 *   A refusal (not exported, forbidden, malformed, too many) is answered,
 *   and the connection stays: the client publishes
 *   `net:client.subscription.refused {pattern, reason}`; a grant,
 *   `net:client.subscription.accepted {pattern}`.
 *
 *   Filters (hive_filter, at most HIVE_FILTERS_MAX, all must pass):
 *   equality and set membership on INT, DOUBLE (numbers compare by value:
 *   an INT field 3 equals 3.0) and STR fields, numeric ranges (inclusive)
 *   on INT and DOUBLE fields. A filter on a field the event lacks, or of
 *   another type, fails.
 *
 *   On the client, subscriptions are reference counted by (pattern,
 *   filters): subscribing twice to the same one sends one request and
 *   returns two handles; the request to stop goes when the last handle is
 *   released. An event that matches several of a client's subscriptions
 *   arrives once. Across a resume the server keeps them (and nothing is
 *   lost or doubled: requests, answers and reliable remote events are
 *   counted frames, replayed exactly once); after a fresh session (a
 *   resume refused, or none) the client subscribes again by itself.
 *
 *   Cost and bounds. The server holds one bus subscription per distinct
 *   pattern any connection asked for, so the bus resolves names against
 *   patterns when a subscription or a name is added, never per publish;
 *   an event no connection wants costs what any unsubscribed event costs.
 *   A matching event is encoded once and shared by every connection that
 *   gets it, as a broadcast is. Each connection holds at most
 *   max_subscriptions; while its send queue holds remote_queue_bytes or
 *   more, remote events for it are dropped at the source and counted
 *   (reliable exports too: a slow subscriber never stalls the server or
 *   the others). The server publishes `net:server.subscription.dropped
 *   {cid, dropped}` (voidable) as drops happen; the client reads its
 *   total with hive_client_remote_dropped.
 *
 *   Threads: the subscriptions, the exports' checks and the matching live
 *   where the server's bus is owned; with .threaded = true that is the
 *   game thread (the one that dispatches): requests reach it as the
 *   posted events net:server.remote.request / .gone (internal; a full
 *   bus queue answers a request "busy: try again"), and matching events
 *   go to the I/O thread as one request each, still encoded once. A
 *   client with .threaded = true likewise keeps its subscriptions on the
 *   game thread (net:client.remote.packet / .session carry what arrives
 *   and when a session opens; remote events are published there). The
 *   API calls: the bus owner's thread.
 */
#define HIVE_REMOTE_PREFIX        "remote:"
#define HIVE_FILTERS_MAX          8
#define HIVE_FILTER_VALUES_MAX    32
#define HIVE_EV_CLIENT_SUB_ACCEPTED "net:client.subscription.accepted"
#define HIVE_EV_CLIENT_SUB_REFUSED  "net:client.subscription.refused"
#define HIVE_EV_SERVER_SUB_DROPPED  "net:server.subscription.dropped"

typedef enum hive_filter_op {
    HIVE_FILTER_EQ = 1,     /* field == value */
    HIVE_FILTER_IN,         /* field is one of values[0..n) */
    HIVE_FILTER_RANGE       /* lo <= field <= hi (numbers) */
} hive_filter_op;

/* One filter; build it with the macros below. Strings are copied when
 * the request is made. */
typedef struct hive_filter {
    const char *key;
    hive_filter_op op;
    hive_type type;               /* EQ, IN: HIVE_T_INT, HIVE_T_DOUBLE or HIVE_T_STR */
    int64_t i;                    /* EQ */
    double d;
    const char *s;
    const int64_t *ints;          /* IN: n values of the type */
    const double *doubles;
    const char *const *strs;
    size_t n;
    double lo, hi;                /* RANGE */
} hive_filter;

#define HIVE_FILTER_EQ_INT(k, x)    ((hive_filter){ .key = (k), .op = HIVE_FILTER_EQ, .type = HIVE_T_INT, .i = (x) })
#define HIVE_FILTER_EQ_DOUBLE(k, x) ((hive_filter){ .key = (k), .op = HIVE_FILTER_EQ, .type = HIVE_T_DOUBLE, .d = (x) })
#define HIVE_FILTER_EQ_STR(k, x)    ((hive_filter){ .key = (k), .op = HIVE_FILTER_EQ, .type = HIVE_T_STR, .s = (x) })
#define HIVE_FILTER_IN_INT(k, a, cnt) \
    ((hive_filter){ .key = (k), .op = HIVE_FILTER_IN, .type = HIVE_T_INT, .ints = (a), .n = (cnt) })
#define HIVE_FILTER_IN_STR(k, a, cnt) \
    ((hive_filter){ .key = (k), .op = HIVE_FILTER_IN, .type = HIVE_T_STR, .strs = (a), .n = (cnt) })
#define HIVE_FILTER_RANGE(k, a, b)  ((hive_filter){ .key = (k), .op = HIVE_FILTER_RANGE, .type = HIVE_T_DOUBLE, .lo = (a), .hi = (b) })

/* What an export's check sees. Borrowed for the call. */
typedef struct hive_sub_request {
    hive_cid cid;
    const char *conntype;         /* from the hello */
    const char *peer_subject;     /* TLS client certificate subject, or "" */
    void *user;                   /* hive_server_set_user's */
    const char *pattern;          /* what the client asked for */
    size_t nfilters;              /* how many filters it gave (Hive checks them) */
    char reason[128];             /* a refusal's text: the check may write it
                                     (default "forbidden") */
} hive_sub_request;

/* 0 allows; anything else refuses with req->reason. */
typedef int (*hive_export_check)(hive_server *s, hive_sub_request *req, void *user);

typedef struct hive_export_opts {
    bool unreliable;              /* sent unreliable-sequenced (enet://) */
    hive_export_check check;      /* NULL: everyone may */
    void *user;
} hive_export_opts;

/*
 * hive_server_export - let clients subscribe to events matching pattern
 * (a name or a bus pattern). opts may be NULL. Before start. Returns
 * HIVE_OK, HIVE_EINVAL (NULL), HIVE_EPATTERN / HIVE_ENAME, HIVE_ENOMEM,
 * HIVE_ESTATE (after start), HIVE_ELIMIT (more than 64 exports).
 */
int hive_server_export(hive_server *s, const char *pattern, const hive_export_opts *opts);

/* hive_server_exports - the exported patterns, in order: idx 0.. (the
 * string is the server's). HIVE_OK, HIVE_ENOENT past the end. */
int hive_server_exports(const hive_server *s, size_t idx, const char **pattern, bool *unreliable);

/*
 * hive_client_subscribe - ask for the server's events matching pattern
 * that pass every filter (f[0..n), n <= HIVE_FILTERS_MAX; copied). Any
 * state: made now when open, else when the session opens. Returns a
 * handle (> 0) for hive_client_unsubscribe; HIVE_EINVAL (a bad pattern or
 * filter: a warning, code bad_subscription, says which), HIVE_ELIMIT (HIVE_SUBS_MAX
 * distinct ones), HIVE_ENOMEM. The bus owner's thread (threaded or not).
 */
#define HIVE_SUBS_MAX 4096
int hive_client_subscribe(hive_client *c, const char *pattern, const hive_filter *f, size_t n);

/* hive_client_unsubscribe - release a handle; the last one of a
 * subscription stops it on the server. HIVE_OK, HIVE_ENOENT. */
int hive_client_unsubscribe(hive_client *c, int handle);

/*
 * hive_client_trigger_add - a remote trigger: d's events are the server's
 * event names or patterns; each becomes a remote subscription (with the
 * filters f[0..nf), run on the server), and the trigger itself is added
 * to the client's bus on `remote:<event>`, where its conditions run (on
 * the client). Its subscriptions go when hive_client_trigger_remove
 * removes it, or as a single-shot trigger fires. Returns HIVE_OK,
 * HIVE_EEXIST (name taken), HIVE_EINVAL, HIVE_ENOMEM, or what
 * hive_client_subscribe / hive_bus_trigger_add return. Owner thread.
 * (A trigger removed with hive_bus_trigger_remove keeps its remote
 * subscriptions until hive_client_trigger_remove.)
 */
int hive_client_trigger_add(hive_client *c, const hive_trigger_desc *d, const hive_filter *f, size_t nf);
int hive_client_trigger_remove(hive_client *c, const char *name);

/* hive_client_remote_dropped - remote events the server dropped for this
 * session (slow subscriber, see remote_queue_bytes), as last reported. */
uint64_t hive_client_remote_dropped(const hive_client *c);

#ifdef __cplusplus
}
#endif

#endif /* HIVE_NET_H */
