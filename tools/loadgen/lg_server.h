/*
 * tools/loadgen/lg_server.h - the two load servers the scale benchmark
 * compares: the same game traffic (a snapshot of snapshot_bytes broadcast
 * to every connection at tick_hz, inputs counted, pings answered) served
 * by bare ENet (lg_server_raw.c) and by Hive (lg_server_hive.c).
 *
 * A server runs on the calling thread until sh->stop becomes non-zero. It
 * publishes its counters into *sh, which may live in memory shared with a
 * parent process (the benchmark forks the server so that its CPU time and
 * allocations are its own) or simply in another thread's reach (the test).
 * Every field is atomic; the server writes, others read, except the
 * control fields `stop` and `broadcast`, which others write.
 */
#ifndef HIVE_LOADGEN_LG_SERVER_H
#define HIVE_LOADGEN_LG_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lg_server_config {
    uint16_t port;          /* 0: any free port (read it from sh->port) */
    int max_clients;        /* default 4095 */
    double tick_hz;         /* default 30 */
    size_t snapshot_bytes;  /* default 100: the application payload per snapshot */
    bool reliable;          /* snapshots (and inputs) reliable; default unreliable-sequenced
                               on channel 1, as games send snapshots */
    bool count_alloc;       /* install the counting allocator (lg_measure.h) */
    int sockbuf;            /* raw only: SO_RCVBUF/SO_SNDBUF; 0 = ENet's default
                               (256 KiB, what Hive's transport keeps) */
    bool quiet;
    bool lazy_decode;       /* Hive only: hive_server_config.lazy_decode (the counting
                               subscriber never reads message bodies) */
} lg_server_config;

typedef struct lg_server_shared {
    /* control (written by the owner of the server) */
    atomic_int stop;            /* non-zero: return */
    atomic_int broadcast;       /* non-zero: broadcast snapshots each tick */
    /* state (written by the server) */
    atomic_int ready;           /* 1 once listening; -1 when start failed */
    atomic_int port;            /* the bound port */
    atomic_int open;            /* connections open (handshake complete) */
    atomic_uint_fast64_t ticks;         /* ticks run */
    atomic_uint_fast64_t late_ticks;    /* ticks skipped because the loop fell behind */
    atomic_uint_fast64_t cpu_ns;        /* server thread CPU, updated every tick */
    atomic_uint_fast64_t runq_ns;       /* server thread time waiting for a CPU, every tick */
    atomic_uint_fast64_t accepted;      /* connections accepted */
    atomic_uint_fast64_t handshakes;    /* handshakes completed */
    atomic_uint_fast64_t closed;        /* connections closed, any reason */
    atomic_uint_fast64_t closed_normal; /* closed with reason normal (client's own close) */
    atomic_uint_fast64_t inputs;        /* input messages received */
    atomic_uint_fast64_t pings;         /* pings answered */
    atomic_uint_fast64_t snapshots;     /* snapshots queued (one per connection per tick) */
    atomic_uint_fast64_t events;        /* bus events seen by the counting subscriber (Hive) */
    atomic_uint_fast64_t live_bytes;    /* counting allocator: live bytes */
    atomic_uint_fast64_t rss_bytes;     /* resident set, refreshed every ~second */
    atomic_uint_fast64_t sock_drops;    /* datagrams the kernel dropped at the server's
                                           socket (receive queue full), every ~second */
} lg_server_shared;

/* Run the bare-ENet load server. Returns 0 after stop, or -1 when it could
 * not start (sh->ready is set to -1). */
int lg_server_raw_run(const lg_server_config *cfg, lg_server_shared *sh);

/* Run the Hive load server (hive_server + bus, one counting subscriber). */
int lg_server_hive_run(const lg_server_config *cfg, lg_server_shared *sh);

#endif /* HIVE_LOADGEN_LG_SERVER_H */
