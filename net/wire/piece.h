/*
 * net/wire/piece.h - the body of a piece (pid 11): one slice of a large
 * reliable message sent as a transfer (docs/PROTOCOL.md, "Large
 * messages"). The body is one msgpack array of six elements,
 *
 *     [tid, pid, total, offset, flags, data]
 *
 * four unsigned integers of at most 32 bits, a flags integer (bit 0: the
 * whole message is compressed) and a bin holding the slice, which must
 * end the body. Encoding and a strict, allocation-free decoder; no I/O.
 */
#ifndef HIVE_NET_PIECE_H
#define HIVE_NET_PIECE_H

#include <stddef.h>
#include <stdint.h>

#define HIVE__PIECE_FLAG_COMPRESSED 0x01u
#define HIVE__PIECE_FLAGS_KNOWN     0x01u
/* The longest encoded header before the slice: array byte, five uint32
 * (5 bytes each: flags too may be any uint on the wire) and a bin32
 * header. */
#define HIVE__PIECE_HEADER_MAX      (1 + 5 * 5 + 5)

typedef struct hive__piece {
    uint32_t tid;            /* the transfer, > 0, chosen by the sender */
    uint32_t pid;            /* the message's packet id */
    uint32_t total;          /* the message's bytes (as sent: compressed when flagged) */
    uint32_t offset;         /* where this slice starts */
    uint32_t flags;          /* HIVE__PIECE_FLAG_* */
    const uint8_t *data;     /* the slice (points into the body) */
    uint32_t len;
} hive__piece;

/* Writes the header of a piece whose slice is p->len bytes (p->data is
 * not read) into out[HIVE__PIECE_HEADER_MAX]; returns its length. */
size_t hive__piece_header(uint8_t *out, const hive__piece *p);

/* Reads a piece body. 0 and *out (data pointing into body), or -1 when
 * the body is not exactly that array (wrong element count or types, an
 * integer over 2^32-1, a bin that is cut short or not the last byte). */
int hive__piece_parse(const uint8_t *body, size_t len, hive__piece *out);

#endif /* HIVE_NET_PIECE_H */
