/*
 * net/core/replay.h - a connection's side of protocol 2's reliable
 * accounting (docs/PROTOCOL.md, "Resume"): how many counted frames it
 * sent and received, what the peer acknowledged, and the copies of sent
 * frames not yet acknowledged, kept to replay after a resume. I/O thread
 * only.
 *
 * Sequence numbers are implicit: the n-th counted frame sent on a session
 * is number n (from 1), on every link the session has had. The buffer
 * holds at most `max` bytes; when a new frame does not fit, the oldest
 * go (and `lost_upto` remembers the newest dropped), so memory is bounded
 * while a resume that would need a dropped frame is refused rather than
 * silently losing it. An acknowledgement past lost_upto heals that.
 */
#ifndef HIVE_NET_REPLAY_H
#define HIVE_NET_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hive__rpitem {
    struct hive__rpitem *next;
    uint64_t seq;
    size_t n;
    uint8_t data[];            /* the whole frame, header included */
} hive__rpitem;

typedef struct hive__replay {
    hive__rpitem *head, *tail;
    size_t bytes, max;         /* max 0: keep nothing (no resume possible) */
    uint64_t sent;             /* counted frames sent: the last seq */
    uint64_t acked;            /* the peer's cumulative acknowledgement */
    uint64_t lost_upto;        /* newest seq dropped unacknowledged, 0: none */
    uint64_t recv;             /* counted frames received */
    uint64_t ack_sent;         /* the last acknowledgement we sent */
    uint64_t ack_at;           /* when (ms) */
} hive__replay;

/* Counts one frame sent and keeps a copy of its pieces. HIVE_OK or
 * HIVE_ENOMEM (the frame is still counted; lost_upto marks it). */
int  hive__replay_push(hive__replay *r, const void *const *pieces, const size_t *lens, int n);
/* The peer has received everything up to n. HIVE_OK, or HIVE_EPROTO when
 * n goes backwards or past what was sent. */
int  hive__replay_ack(hive__replay *r, uint64_t n);
/* Whether a peer that has received `peer_recv` frames can be brought up
 * to date from the buffer. */
bool hive__replay_covers(const hive__replay *r, uint64_t peer_recv);
/* Whether a resume is still possible at all (nothing dropped unacked). */
static inline bool hive__replay_whole(const hive__replay *r) { return r->lost_upto <= r->acked; }
void hive__replay_free(hive__replay *r);

#endif /* HIVE_NET_REPLAY_H */
