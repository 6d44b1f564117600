/*
 * net/core/replay.h - a connection's side of protocol 2's reliable
 * accounting (docs/PROTOCOL.md, "Resume"): how many counted frames it
 * sent and received, what the peer acknowledged, and the copies of sent
 * frames not yet acknowledged, kept to replay after a resume. I/O thread
 * only.
 *
 * Sequence numbers are implicit: the n-th counted frame sent on a session
 * is number n (from 1), on every link the session has had. The copies sit
 * back to back in one byte FIFO (a length, then the frame), so keeping a
 * frame costs a memcpy, not an allocation. The buffer holds at most `max`
 * frame bytes; when a new frame does not fit, the oldest go (and
 * `lost_upto` remembers the newest dropped), so memory is bounded while a
 * resume that would need a dropped frame is refused rather than silently
 * losing it. An acknowledgement past lost_upto heals that.
 */
#ifndef HIVE_NET_REPLAY_H
#define HIVE_NET_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hive__replay {
    uint8_t *buf;
    size_t off, len, cap;      /* entries live in buf[off..len) */
    uint64_t first;            /* seq of the entry at off (when any) */
    size_t bytes, max;         /* frame bytes held / allowed; max 0: keep nothing */
    uint64_t sent;             /* counted frames sent: the last seq */
    uint64_t acked;            /* the peer's cumulative acknowledgement */
    uint64_t lost_upto;        /* newest seq dropped unacknowledged, 0: none */
    uint64_t recv;             /* counted frames received */
    uint64_t ack_sent;         /* the last acknowledgement we sent */
    uint64_t recv_unacked;     /* bytes of counted frames received since */
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
/* Walks the kept frames in order: start with *cursor = 0 (and pass the
 * same seq back each time); each call gives the next frame (its seq,
 * bytes and length) and returns false at the end. */
bool hive__replay_next(const hive__replay *r, size_t *cursor, uint64_t *seq, const uint8_t **p, size_t *n);
void hive__replay_free(hive__replay *r);

#endif /* HIVE_NET_REPLAY_H */
