/*
 * net/core/replay.h - a connection's side of protocol 2's reliable
 * accounting (docs/PROTOCOL.md, "Resume"): how many counted frames it
 * sent and received, what the peer acknowledged, and the copies of sent
 * frames not yet acknowledged, kept to replay after a resume. I/O thread
 * only.
 *
 * Sequence numbers are implicit: the n-th counted frame sent on a session
 * is number n (from 1), on every link the session has had. The copies sit
 * back to back (a length, then the frame) in a list of blocks, so keeping
 * a frame costs a memcpy, not an allocation, and nothing kept is ever
 * moved: a block is filled at its tail, emptied from its head by acks and
 * freed when both meet (one FIFO that slid its live bytes to the front
 * each time the tail reached the end moved more bytes than it kept, at a
 * full send window). Blocks start small and double up to
 * HIVE__REPLAY_BLOCK, so an idle connection holds little. The buffer holds
 * at most `max` frame bytes; when a new frame does not fit, the oldest go
 * (and
 * `lost_upto` remembers the newest dropped), so memory is bounded while a
 * resume that would need a dropped frame is refused rather than silently
 * losing it. An acknowledgement past lost_upto heals that.
 *
 * LANES (transport.h, hive/registry.h CHANNELS): a session whose link has
 * more than one lane counts each lane on its own, because the peer
 * receives each lane in order but the lanes in any order between them.
 * The hive__replay a connection holds is lane 0's, and carries the
 * others (lanes 1..) in `lx`, so moving a session's accounting (a
 * struct copy) moves every lane's. Lanes 1.. together hold at most `max`
 * bytes (`pool`), on top of lane 0's own `max`: a session keeps at most
 * twice resume_buffer_bytes, and a game that uses no channel keeps what
 * it always did. Lane 0's send path is untouched.
 */
#ifndef HIVE_NET_REPLAY_H
#define HIVE_NET_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest block grown to; a frame larger than that has a block of its
 * own. */
#define HIVE__REPLAY_BLOCK 65536u

typedef struct hive__replay_block {
    struct hive__replay_block *next;
    size_t len, cap;           /* entries live in data[..len) */
    uint8_t data[];
} hive__replay_block;

struct hive__lanes;

typedef struct hive__replay {
    hive__replay_block *head, *tail;   /* oldest and newest block, or NULL */
    hive__replay_block *spare; /* an emptied HIVE__REPLAY_BLOCK block kept for
                                  the next one while frames flow */
    size_t off;                /* the oldest entry: head->data + off */
    uint64_t first;            /* seq of the oldest entry (when any) */
    size_t bytes, max;         /* frame bytes held / allowed; max 0: keep nothing */
    uint64_t sent;             /* counted frames sent: the last seq */
    uint64_t acked;            /* the peer's cumulative acknowledgement */
    uint64_t lost_upto;        /* newest seq dropped unacknowledged, 0: none */
    uint64_t recv;             /* counted frames received */
    uint64_t ack_sent;         /* the last acknowledgement we sent */
    uint64_t recv_unacked;     /* bytes of counted frames received since */
    uint64_t ack_at;           /* when (ms) */
    size_t *pool;              /* lanes 1..: the bytes all of them hold (lx->pool) */
    struct hive__lanes *lx;    /* lane 0: lanes 1.. , or NULL for one lane */
} hive__replay;

typedef struct hive__lanes {
    size_t pool;
    int n;                     /* lanes 1..n */
    hive__replay r[];          /* lane k is r[k - 1] */
} hive__lanes;

/* Gives r (lane 0, its max set) lanes 1..lanes-1 with the same max.
 * HIVE_OK (also for lanes <= 1: nothing to do), HIVE_ENOMEM. Before
 * anything is counted. */
int  hive__replay_lanes(hive__replay *r, int lanes);
/* The number of lanes counted (1 + lanes 1..). */
static inline int hive__replay_nlanes(const hive__replay *r) { return r->lx ? 1 + r->lx->n : 1; }
/* Lane ln's accounting (ln < hive__replay_nlanes; lane 0 is r). */
static inline hive__replay *hive__replay_lane(hive__replay *r, int ln) { return ln ? &r->lx->r[ln - 1] : r; }
/* Counted frames sent and not acknowledged, on every lane. */
uint64_t hive__replay_unacked(const hive__replay *r);
/* Whether an acknowledgement is owed: a lane received more than was acked. */
bool hive__replay_ack_owed(const hive__replay *r);
/* The peer has received n0 frames on lane 0 and, when more->n, more->v[i]
 * on lane i + 1: all lanes (more->n == lanes - 1) or lane 0 alone
 * (more->n == 0). HIVE_OK, or HIVE_EPROTO (a count goes backwards or
 * past what was sent, or a lane count that does not fit the session). */
struct hive__lanecounts;
int  hive__replay_ack_all(hive__replay *r, uint64_t n0, const struct hive__lanecounts *more);
/* hive__replay_covers for every lane: more->n must be lanes - 1. */
bool hive__replay_covers_all(const hive__replay *r, uint64_t n0, const struct hive__lanecounts *more);
/* What this side received on lanes 1.. , for the peer (more->n = lanes - 1). */
void hive__replay_recv_lanes(const hive__replay *r, struct hive__lanecounts *more);

/* Counts one frame sent and keeps a copy of its pieces. HIVE_OK or
 * HIVE_ENOMEM (the frame is still counted; lost_upto marks it). */
int  hive__replay_push(hive__replay *r, const void *const *pieces, const size_t *lens, int n);
/* hive__replay_push for a frame given as header + body, inlined for the
 * common case (the tail block has room, the bound is not reached): the
 * send path pays a store and one memcpy of the body. hdr must be
 * readable for HIVE__REPLAY_HDR_MAX bytes (the frame header buffer is). */
#define HIVE__REPLAY_HDR_MAX 11
static inline int hive__replay_push2(hive__replay *r, const uint8_t *hdr, size_t hn,
                                     const void *body, size_t len)
{
    hive__replay_block *t = r->tail;
    size_t total = hn + len;
    if (t && t->len && hn <= HIVE__REPLAY_HDR_MAX && r->bytes + total <= r->max && !r->pool &&
        t->cap - t->len >= sizeof(uint32_t) + HIVE__REPLAY_HDR_MAX + len) {
        uint8_t *at = t->data + t->len;
        uint32_t n32 = (uint32_t)total;
        __builtin_memcpy(at, &n32, sizeof n32);
        __builtin_memcpy(at + sizeof n32, hdr, HIVE__REPLAY_HDR_MAX);   /* fixed size: no call */
        if (len) __builtin_memcpy(at + sizeof n32 + hn, body, len);
        t->len += sizeof n32 + total;
        r->bytes += total;
        r->sent++;
        return 0;
    }
    const void *pieces[2] = { hdr, body };
    size_t lens[2] = { hn, len };
    return hive__replay_push(r, pieces, lens, len ? 2 : 1);
}
/* The peer has received everything up to n. HIVE_OK, or HIVE_EPROTO when
 * n goes backwards or past what was sent. */
int  hive__replay_ack(hive__replay *r, uint64_t n);
/* Whether a peer that has received `peer_recv` frames can be brought up
 * to date from the buffer. */
bool hive__replay_covers(const hive__replay *r, uint64_t peer_recv);
/* Whether a resume is still possible at all (nothing dropped unacked),
 * on every lane. */
bool hive__replay_whole(const hive__replay *r);
/* A walk over the kept frames: zero it to start. */
typedef struct hive__replay_cur {
    const hive__replay_block *b;
    size_t off;
    uint64_t seq;              /* the frame the last call gave */
    bool started;
} hive__replay_cur;
/* Walks the kept frames in order: each call gives the next frame (its
 * seq in cur->seq, its bytes and length) and returns false at the end.
 * Nothing may be pushed or acked during a walk. */
bool hive__replay_next(const hive__replay *r, hive__replay_cur *cur, const uint8_t **p, size_t *n);
/* Frees r and its lanes. */
void hive__replay_free(hive__replay *r);

#endif /* HIVE_NET_REPLAY_H */
