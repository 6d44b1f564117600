/*
 * net/frame.h - Hive's frame codec (internal, not installed).
 *
 * Every transport carries the same frame (docs/PROTOCOL.md, "Wire: Frames"):
 *
 *   varint length    LEB128, unsigned, counts every byte after itself
 *   varint pid       LEB128, unsigned, the packet id
 *   u8     flags     bit 0 = compressed (agreed in the handshake), bit 1 = counted
 *   body             exactly one msgpack object
 *
 * Varints: at most HIVE__VARINT_MAX bytes, value <= UINT32_MAX. Non-minimal
 * encodings (0x80 0x00 for 0) are accepted as long as they fit 5 bytes;
 * the encoder always writes the minimal form.
 *
 * None of these functions allocate, except the hive__rxbuf ones.
 * All are reentrant; an hive__rxbuf belongs to one thread at a time.
 */
#ifndef HIVE_NET_FRAME_H
#define HIVE_NET_FRAME_H

#include "hive/common.h"
#include "net/wire/registry_wire.h"

#define HIVE__VARINT_MAX 5
#define HIVE__FRAME_HEADER_MAX 11   /* length 5 + pid 5 + flags 1 */
/* Smallest legal value of the length varint: a 1-byte pid plus flags. */
#define HIVE__FRAME_LEN_MIN 2

/* Frame flag bits. An unknown set bit is a bad_frame. */
#define HIVE__FLAG_COMPRESSED 0x01u  /* protocol 2, when the handshake agreed: a user
                                        frame whose body is one zstd frame */
#define HIVE__FLAG_SEQ        0x02u  /* protocol 2: a counted reliable user frame
                                        (docs/PROTOCOL.md, "Resume") */
#define HIVE__FLAGS_KNOWN     0x03u  /* bits a protocol-2 peer may set */

/* Hive's own packet ids (< HIVE_PID_USER_MIN), fixed in protocol 1. */
#define HIVE__PID_HELLO   1u
#define HIVE__PID_WELCOME 2u
#define HIVE__PID_REJECT  3u
#define HIVE__PID_READY   4u
#define HIVE__PID_CLOSE   5u
#define HIVE__PID_PING    6u
#define HIVE__PID_PONG    7u
/* Protocol 2: acknowledgements and resume. */
#define HIVE__PID_ACK     8u
#define HIVE__PID_RESUME  9u
#define HIVE__PID_RESUMED 10u
#define HIVE__PID_PIECE   11u   /* a slice of a transfer (docs/PROTOCOL.md, "Large messages") */
/* 12..15: remote subscriptions (net/wire/remote.h). */

/* Frames counted for a resume when sent reliably (docs/PROTOCOL.md,
 * "Resume"): user frames, pieces and the remote subscription packets. */
static inline int hive__pid_counted(uint32_t pid)
{
    return pid >= 64u || pid == HIVE__PID_PIECE || (pid >= 12u && pid <= 15u);
}

/* Deepest msgpack nesting hive__frame_check_body accepts (msgpack-c's own
 * parser stack is MSGPACK_EMBED_STACK_SIZE = 32 deep). */
#define HIVE__MSGPACK_MAX_DEPTH 32

/*
 * hive__varint_encode - write v as a minimal LEB128 varint.
 * v must be <= UINT32_MAX; larger values write nothing and return 0.
 * Returns the number of bytes written (1..5).
 */
size_t hive__varint_encode(uint64_t v, uint8_t out[HIVE__VARINT_MAX]);

/*
 * hive__varint_decode - read one varint from p[0..n).
 * Returns 0 and sets *value and *used (bytes read, 1..5);
 * HIVE_EAGAIN when p ends inside the varint (nothing is set);
 * HIVE_EPROTO when the varint would be longer than 5 bytes or its value
 * is > UINT32_MAX (both decided as soon as the offending byte is seen).
 */
int hive__varint_decode(const uint8_t *p, size_t n, uint32_t *value, size_t *used);

typedef struct hive__frame {
    uint32_t pid;
    uint8_t  flags;
    const uint8_t *body;   /* points into the input buffer */
    size_t   body_len;     /* may be 0 (then check_body fails: no object) */
    size_t   size;         /* total bytes of this frame, length varint included */
} hive__frame;

/*
 * hive__frame_decode - decode one frame from the start of buf[0..len).
 *
 * max_frame: the largest accepted value of the length varint (pid + flags
 * + body; the length varint itself is not counted).
 *
 * Returns 1 and fills *f when a whole frame is there;
 * 0 when more bytes are needed (truncated varint or body), *f untouched;
 * HIVE_ETOOBIG when the declared length > max_frame. This is decided from
 * the length varint alone, before any of the body has arrived;
 * HIVE_EPROTO for a varint over 5 bytes or > UINT32_MAX, a length smaller
 * than HIVE__FRAME_LEN_MIN, a pid varint that does not fit inside the
 * length, or unknown flag bits. Header errors are reported as soon as the
 * offending header byte is in buf, without waiting for the body.
 *
 * It does NOT validate the msgpack body (see hive__frame_check_body), and
 * it does not judge the pid (0 and unregistered ids are the caller's call).
 * A prefix of a valid stream never yields an error.
 */
int hive__frame_decode(const uint8_t *buf, size_t len, uint32_t max_frame, hive__frame *f);

/*
 * hive__frame_check_body - 0 when body[0..len) is exactly one complete,
 * valid msgpack object with no trailing bytes; HIVE_EMSGPACK otherwise
 * (empty, truncated, malformed, trailing bytes, nested deeper than
 * HIVE__MSGPACK_MAX_DEPTH, or declaring more array/map elements than the
 * bytes left could hold). The last check runs first, without allocating,
 * so hostile sizes cost nothing; then msgpack-c parses the body.
 * hive_msg_view_init() runs the same check; calling both is redundant.
 */
int hive__frame_check_body(const uint8_t *body, size_t len);

/*
 * hive__msgpack_scan - the allocation-free half of hive__frame_check_body:
 * walks the msgpack structure and returns 0 when p[0..n) is exactly one
 * object whose every declared element and byte is present, depth
 * <= HIVE__MSGPACK_MAX_DEPTH; HIVE_EMSGPACK otherwise. O(n), no recursion.
 */
int hive__msgpack_scan(const uint8_t *p, size_t n);

/*
 * hive__msgpack_explain - hive__msgpack_scan, and when it fails a sentence
 * in why[0..wn) naming the problem ("map declared 3 pairs, found 2",
 * "4 bytes after the end of the value ..."). Returns 0 or HIVE_EMSGPACK;
 * why may be NULL. Allocation-free; the explaining walk runs only after the
 * fast scan has failed, so a good body costs what the scan costs.
 */
int hive__msgpack_explain(const uint8_t *p, size_t n, char *why, size_t wn);

/*
 * hive__msgpack_count - p[0..n) as a run of zero or more whole values (the
 * same rules as the scan, per value): 0 and *count = how many, or
 * HIVE_EMSGPACK with why filled as for hive__msgpack_explain. The message
 * builder uses it to count what was written since a *_begin.
 */
int hive__msgpack_count(const uint8_t *p, size_t n, uint64_t *count, char *why, size_t wn);

/*
 * hive__send_check - what every send call runs on a user body before it is
 * queued: 0 for exactly one well-formed msgpack value, else HIVE_EMSGPACK
 * with the reason kept for hive_msg_last_error(). The scan inline, the
 * explaining (hive__send_refuse, net/wire/msg.c) out of line.
 */
int hive__send_refuse(const void *body, size_t len);
/* hive__send_unfinished - HIVE_EMSGPACK when a hive_msg still has a begun
 * container open (the reason kept as above), else 0. */
struct hive_msg;
int hive__send_unfinished(const struct hive_msg *m);
static inline int hive__send_check(const void *body, size_t len)
{
    return hive__msgpack_scan((const uint8_t *)body, len) == 0 ? 0 : hive__send_refuse(body, len);
}

/*
 * hive__frame_header - write the header (length varint, pid varint, flags)
 * for a body of body_len bytes into out.
 * Returns the header size (3..11), or 0 when pid > UINT32_MAX would be
 * needed or the length (pid + flags + body) does not fit 32 bits.
 * The caller checks the total against the peer's max_frame.
 */
size_t hive__frame_header(uint8_t out[HIVE__FRAME_HEADER_MAX], uint32_t pid, uint8_t flags, size_t body_len);

/*
 * Stream reassembly for byte-stream transports (TCP/TLS): a growable
 * buffer. Zero-initialise it (`hive__rxbuf rx = {0};`), append what the
 * socket gave, then call hive__rxbuf_next until it returns 0 or an error.
 *
 * Memory bound: a peer cannot make the buffer hold more than one
 * incomplete frame (<= max_frame + HIVE__FRAME_HEADER_MAX bytes) plus the
 * bytes of the caller's latest append, because an oversize length is
 * refused from its varint. While a frame's length is known, the buffer
 * grows to exactly that frame's size, never past it.
 *
 * Fields are internal; read b->len - b->off for the unconsumed byte count.
 */
typedef struct hive__rxbuf {
    uint8_t *data;
    size_t len, cap, off;   /* data[off..len) is unconsumed */
    size_t want;            /* size of the frame being assembled, 0 = unknown */
} hive__rxbuf;

/* hive__rxbuf_append - copy n bytes in. Compacts consumed bytes first,
 * invalidating earlier frame bodies. Returns 0 or HIVE_ENOMEM (nothing
 * appended). */
int  hive__rxbuf_append(hive__rxbuf *b, const void *p, size_t n);

/* hive__rxbuf_next - next frame from the buffer: same returns as
 * hive__frame_decode; on 1 the frame is consumed and f->body is valid
 * until the next append (or free). After an error the stream is
 * unrecoverable: close the connection. */
int  hive__rxbuf_next(hive__rxbuf *b, uint32_t max_frame, hive__frame *f);

/* hive__rxbuf_free - release the memory; b is left zeroed and reusable.
 * NULL is a no-op. */
void hive__rxbuf_free(hive__rxbuf *b);

#endif /* HIVE_NET_FRAME_H */
