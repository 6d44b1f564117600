/*
 * net/core/transfer.h - large messages in pieces (docs/PROTOCOL.md,
 * "Large messages"; hive/net.h LARGE MESSAGES). I/O thread only.
 *
 * Sending: a reliable message whose body is larger than one piece, to a
 * peer that agreed to pieces, is copied once into the connection's
 * transfer queue instead of the transport. Pieces leave from there only
 * while the link's own queue is short (HIVE__XFER_LOW_*), one transfer
 * after the other, so whatever the game sends meanwhile enters the
 * transport behind at most that much: chat and snapshots never wait for
 * the rest of a level download, on any transport. Pieces are counted
 * reliable frames: a resume replays the unacknowledged ones, and the
 * remainder is still in the queue, so the transfer carries on.
 *
 * Receiving: each transfer is reassembled in a buffer that grows with
 * what has arrived (never the declared total at once), within the
 * receiver's limits (max_transfers, transfer_recv_bytes, max_frame); the
 * whole message then takes the path of a frame (decompression, msgpack,
 * shape) and is delivered as one recv event with its own pid.
 */
#ifndef HIVE_NET_TRANSFER_H
#define HIVE_NET_TRANSFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The slice a piece carries. 16 KiB: a snapshot queued behind one piece
 * waits for 16 KiB of wire time (1.3 ms at 100 Mbit/s), while a piece's
 * own overhead (about 20 bytes of frame and piece header, one ack per
 * two pieces) stays near 0.1%. It is also small against every send queue
 * bound (at least 64 KiB) and the replay buffer, which hold several. */
#define HIVE__PIECE_BYTES 16384u

/* Pieces are fed while the link's queue holds less than this. On tcp://
 * and tls:// the queue is what the socket has not taken yet: two pieces
 * keep the socket busy between rounds and leave at most that ahead of a
 * new message. On enet:// and enet+tls:// it also counts what is sent
 * and not yet acknowledged, which does not hold anything up, so the mark
 * is a window of eight pieces (128 KiB in flight). */
#define HIVE__XFER_LOW_STREAM   (2u * HIVE__PIECE_BYTES)
#define HIVE__XFER_LOW_DATAGRAM (8u * HIVE__PIECE_BYTES)
/* At most this many pieces per connection per round: one connection's
 * download does not starve the others' turn. */
#define HIVE__XFER_PIECES_PER_ROUND 64

typedef struct hive__xout {
    struct hive__xout *next;
    uint32_t tid, pid;
    uint8_t flags;           /* HIVE__PIECE_FLAG_* */
    uint32_t total, off;     /* bytes, and how many are sent */
    uint32_t raw;            /* the body's size before compression */
    uint8_t data[];
} hive__xout;

typedef struct hive__xin {
    struct hive__xin *next;
    uint32_t tid, pid;
    uint8_t flags;
    uint32_t total, got, cap;
    uint8_t *buf;
} hive__xin;

typedef struct hive__xfer {
    hive__xout *out, *out_tail;   /* the transfer queue, oldest first */
    size_t out_bytes;             /* bytes in it not yet handed to the transport */
    uint32_t next_tid;            /* the last tid given out */
    hive__xin *in;                /* transfers being reassembled */
    uint32_t n_in;
    size_t in_bytes;              /* bytes they hold */
} hive__xfer;

void hive__xfer_free(hive__xfer *x);
/* Queue a copy of body (len bytes as sent; raw before compression) as a
 * new transfer, within max queued bytes. HIVE_OK, HIVE_EFULL, HIVE_ENOMEM. */
int  hive__xfer_push(hive__xfer *x, size_t max, uint32_t pid, const void *body, size_t len, size_t raw,
                     uint8_t flags);

#endif /* HIVE_NET_TRANSFER_H */
