/*
 * net/ep.h - what a server and a client share: the bus and how events
 * leave (publish on the caller's thread, or post from Hive's I/O thread),
 * the locked queue that carries sends from other threads to the I/O loop,
 * the bounded pull queue with its waiters, frame output, and counters.
 *
 * Locking: `lock` guards the request queue, the pull queue, `closed`,
 * `wake_gen` and whatever the owner (server/client) declares shared.
 * Everything else in here belongs to the I/O thread.
 */
#ifndef HIVE_NET_EP_H
#define HIVE_NET_EP_H

#include "hive/net.h"
#include "net/conn.h"
#include "net/transport.h"

#include <pthread.h>

/* A request from a thread other than the I/O thread. */
typedef enum hive__qkind {
    HIVE__Q_SEND = 0,
    HIVE__Q_BCAST,
    HIVE__Q_CLOSE
} hive__qkind;

typedef struct hive__qitem {
    struct hive__qitem *next;
    uint8_t kind;
    bool reliable;
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

typedef struct hive__ep {
    hive_bus *bus;
    void *self;                  /* the hive_server or hive_client */
    const char *self_key;        /* "server" or "client" */
    bool threaded;
    bool stream;                 /* transport delivers a byte stream */
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
} hive__ep;

int  hive__ep_init(hive__ep *ep, hive_bus *bus, void *self, const char *self_key,
                   bool threaded, bool pull, size_t pull_cap);
void hive__ep_fini(hive__ep *ep);   /* frees queues, decoder; not the transport */

/* Deliver an event: publish (caller-thread mode) or post (threaded).
 * id <= 0 is ignored. */
void hive__ep_emit(hive__ep *ep, hive_event_id id, const hive_field *f, size_t n);

/* Is the calling thread the I/O thread? */
bool hive__ep_on_io_thread(hive__ep *ep);
void hive__ep_set_io_thread(hive__ep *ep, pthread_t t);

/* Queue a request for the I/O loop and wake it. body copied. */
int hive__ep_request(hive__ep *ep, hive__qkind kind, hive_cid cid, uint32_t pid,
                     bool reliable, int reason, const void *body, size_t len);
/* Take every queued request (FIFO), for the I/O loop. */
hive__qitem *hive__ep_take_requests(hive__ep *ep);

/* Write one frame on c's link. Returns HIVE_OK, HIVE_ETOOBIG (over the
 * peer's max_frame), HIVE_ECLOSED, HIVE_ENOMEM. I/O thread. */
int hive__ep_send_frame(hive__ep *ep, hive__conn *c, uint32_t pid, const void *body,
                        size_t len, bool reliable);

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
    bool reliable;
    bool tried;           /* ->share was asked (once, at the first send) */
    void *shared;         /* the transport's buffer, or NULL: ->send per link */
    uint64_t frames, bytes;
} hive__bcast;

int  hive__ep_bcast_init(hive__bcast *b, uint32_t pid, const void *body, size_t len, bool reliable);
int  hive__ep_bcast_send(hive__ep *ep, hive__conn *c, hive__bcast *b);
void hive__ep_bcast_fini(hive__ep *ep, hive__bcast *b);

/* Send an encoded Hive message (handshake, close, ping) reliably. */
int hive__ep_send_msg(hive__ep *ep, hive__conn *c, uint32_t pid, const hive_msg *m);

/* Reliable or not: the per-send flags win over the type's delivery. */
bool hive__pick_reliable(const hive__pentry *pe, unsigned flags);

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

/* The heartbeat interval a zero heartbeat_ms gets: HIVE_DEFAULT_HEARTBEAT_MS,
 * or a third of the timeout when that is shorter (at least 1). */
static inline uint32_t hive__default_heartbeat_ms(uint32_t timeout_ms)
{
    uint32_t third = timeout_ms / 3;
    uint32_t hb = third < HIVE_DEFAULT_HEARTBEAT_MS ? third : HIVE_DEFAULT_HEARTBEAT_MS;
    return hb ? hb : 1;
}

#define HIVE__STAT_ADD(ep, field, v) __atomic_fetch_add(&(ep)->stats.field, (v), __ATOMIC_RELAXED)
void hive__ep_stats(const hive__ep *ep, hive_net_stats *out);

#endif /* HIVE_NET_EP_H */
