/*
 * net/transport/netsim.h - the network simulator (not installed).
 *
 * A transport that wraps any other one (enet, tcp, tls, enet+tls, a test
 * scheme) and impairs what passes through it, on send and on receive:
 * latency, jitter, loss, duplication, reordering, a bandwidth cap, and
 * link cuts. The core sees an ordinary transport (same `stream` flag,
 * same slots); the wrapped one sees an ordinary core. Nothing of it runs
 * unless a spec turns it on (hive_server_config.netsim,
 * hive_client_config.netsim, or HIVE_NETSIM in the environment).
 *
 * WHAT EACH IMPAIRMENT DOES
 *   It works on what crosses the core/transport boundary: ->send calls
 *   (whole frames) going out, data callbacks (datagrams, or stream
 *   chunks) coming in. Every item gets its own delay, drawn from the
 *   spec with a seeded generator, and leaves the simulator when due.
 *   - Unreliable items (channel 1 of a datagram transport) are what a
 *     lossy network can lose: `loss` drops them, `dup` delivers a second
 *     copy (up to jitter + 1 ms later), `reorder` holds one back by an
 *     extra 1..max(2*jitter, 20) ms so later ones overtake it, jitter
 *     alone reorders them too. Under a bandwidth cap, one that would
 *     wait more than a second behind earlier bytes is dropped, as a
 *     router's full queue would.
 *   - Reliable items (channel 0, and every byte of a stream transport)
 *     are never lost, duplicated or reordered, because the transport
 *     under them retransmits and removes duplicates: on those, `loss`
 *     becomes what it costs on a real network, a retransmission delay
 *     (each "lost" try adds one retransmission timeout, 2 * latency + 4 *
 *     jitter but at least 20 ms on datagram transports and 200 ms, Linux
 *     TCP's minimum, on stream ones), and every later reliable item waits
 *     behind it (head-of-line blocking). `dup` does nothing to them.
 *   - `latency` and `jitter` are added in each direction the spec covers
 *     (dir=both, the default: a client with latency=50ms sees its round
 *     trip grow by 100 ms; the same spec on the server too makes it 200).
 *   - `bandwidth` serializes each direction of each link at that rate.
 *   - `cut_every` cuts each established link at a random moment, on
 *     average that often (uniformly in 0.5x..1.5x): the wrapped link is
 *     aborted without a word, what was in flight both ways is lost, and
 *     the core hears `peer_vanished` with the message "netsim: link cut".
 *     The peer finds out as it would from a real cut (TCP: a reset;
 *     ENet: its timeout).
 *
 * MEMORY
 *   Items waiting to be sent count in ->queued, so the core's
 *   send_queue_bytes bound covers them. Items waiting to be delivered to
 *   the core are bounded per link (HIVE__NETSIM_RECV_MAX): beyond it an
 *   unreliable item is dropped and a reliable one cuts the link.
 *
 * DETERMINISM
 *   Each link and direction draws from its own generator, seeded from
 *   the spec's seed (default 1) and the link's ordinal in this transport
 *   (0 for the first link made or accepted). The same traffic on the same
 *   links gives the same drops, copies, delays and cut times.
 *
 * Thread: like every transport, the core's I/O thread (->wake and
 * ->stats: any thread).
 */
#ifndef HIVE_NET_NETSIM_H
#define HIVE_NET_NETSIM_H

#include "net/transport/transport.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HIVE__NETSIM_MAX_MS        60000u    /* latency, jitter: at most a minute */
#define HIVE__NETSIM_MIN_CUT_MS    100u      /* cut_every: at least this */
#define HIVE__NETSIM_MIN_BPS       8000u     /* bandwidth: at least 8 kbps */
#define HIVE__NETSIM_RECV_MAX      (16u << 20) /* bytes waiting for the core, per link */

typedef struct hive__netsim_spec {
    bool on;                  /* false: no simulator at all */
    bool send, recv;          /* the directions impaired (dir=) */
    uint32_t latency_ms, jitter_ms;
    uint32_t loss_ppm, dup_ppm, reorder_ppm;   /* parts per million */
    uint64_t bytes_per_sec;   /* bandwidth (0: unlimited) */
    uint32_t cut_every_ms;    /* 0: never */
    uint64_t seed;
} hive__netsim_spec;

/*
 * hive__netsim_parse - read a spec: comma-separated key=value pairs,
 * spaces allowed around them:
 *   latency=<dur> jitter=<dur> cut_every=<dur>   dur: 150ms, 1.5s, 0
 *   loss=<pct> dup=<pct> reorder=<pct>            pct: 5%, 0.5%, 0
 *   bandwidth=<rate>                              rate: 256kbps, 2mbps, 64000bps (bits/s)
 *   seed=<n>                                      unsigned 64-bit, default 1
 *   dir=both|send|recv                            default both
 * "", "off" and "none" mean no simulator (out->on = false).
 * Returns HIVE_OK, or HIVE_EINVAL with err (NUL-terminated, up to n bytes)
 * naming the bad key and what it accepts.
 */
int hive__netsim_parse(const char *text, hive__netsim_spec *out, char *err, size_t n);

/*
 * hive__netsim_create - the transport for addr (made with
 * hive__transport_create and the same opts), wrapped in a simulator
 * running spec (which must be on). cb is the core's, copied. Returns
 * HIVE_OK and *out, or what creating the wrapped transport returned, or
 * HIVE_ENOMEM.
 */
int hive__netsim_create(const hive__netsim_spec *spec, const hive__addr *addr,
                        const hive__transport_cb *cb, const hive__transport_opts *opts,
                        hive__transport **out);

#endif /* HIVE_NET_NETSIM_H */
