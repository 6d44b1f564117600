/* frame.c - varints, frames, body checks and stream reassembly (net/frame.h). */
#include "events/internal.h"
#include "net/wire/frame.h"

#include <stdio.h>
#include <string.h>
#include <msgpack.h>

/* ------------------------------------------------------------------ */
/* Varints                                                              */
/* ------------------------------------------------------------------ */

size_t hive__varint_encode(uint64_t v, uint8_t out[HIVE__VARINT_MAX])
{
    if (v > UINT32_MAX) return 0;
    size_t n = 0;
    do {
        uint8_t b = (uint8_t)(v & 0x7f);
        v >>= 7;
        out[n++] = b | (v ? 0x80 : 0);
    } while (v);
    return n;
}

int hive__varint_decode(const uint8_t *p, size_t n, uint32_t *value, size_t *used)
{
    uint64_t v = 0;
    for (size_t i = 0; i < HIVE__VARINT_MAX; i++) {
        if (i >= n) return HIVE_EAGAIN;
        uint8_t b = p[i];
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        /* The 5th byte carries bits 28..34: anything above bit 31, or a
         * continuation bit asking for a 6th byte, is known bad right here,
         * so a hostile peer cannot make us wait for more. */
        if (v > UINT32_MAX) return HIVE_EPROTO;
        if (!(b & 0x80)) {
            *value = (uint32_t)v;
            *used = i + 1;
            return 0;
        }
    }
    return HIVE_EPROTO;
}

/* ------------------------------------------------------------------ */
/* Frames                                                               */
/* ------------------------------------------------------------------ */

int hive__frame_decode(const uint8_t *buf, size_t len, uint32_t max_frame, hive__frame *f)
{
    uint32_t flen, pid;
    size_t lu, pu;
    int rc = hive__varint_decode(buf, len, &flen, &lu);
    if (rc == HIVE_EAGAIN) return 0;
    if (rc < 0) return rc;
    if (flen < HIVE__FRAME_LEN_MIN) return HIVE_EPROTO;
    /* Decided before a single body byte is looked at or buffered. */
    if (flen > max_frame) return HIVE_ETOOBIG;

    size_t avail = len - lu;
    size_t inframe = avail < flen ? avail : flen;
    rc = hive__varint_decode(buf + lu, inframe, &pid, &pu);
    if (rc == HIVE_EAGAIN) return inframe == flen ? HIVE_EPROTO : 0;
    if (rc < 0) return rc;
    if (pu >= flen) return HIVE_EPROTO;        /* no room left for flags */
    if (inframe <= pu) return 0;               /* flags byte not here yet */
    uint8_t flags = buf[lu + pu];
    if (flags & ~HIVE__FLAGS_KNOWN) return HIVE_EPROTO;
    if (avail < flen) return 0;

    f->pid = pid;
    f->flags = flags;
    f->body = buf + lu + pu + 1;
    f->body_len = flen - pu - 1;
    f->size = lu + flen;
    return 1;
}

size_t hive__frame_header(uint8_t out[HIVE__FRAME_HEADER_MAX], uint32_t pid, uint8_t flags, size_t body_len)
{
    uint8_t pv[HIVE__VARINT_MAX];
    size_t pu = hive__varint_encode(pid, pv);
    if (body_len > (size_t)UINT32_MAX - pu - 1) return 0;
    size_t lu = hive__varint_encode(pu + 1 + body_len, out);
    memcpy(out + lu, pv, pu);
    out[lu + pu] = flags;
    return lu + pu + 1;
}

/* ------------------------------------------------------------------ */
/* Body checks                                                          */
/* ------------------------------------------------------------------ */

static uint64_t be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v = (v << 8) | p[i];
    return v;
}

/*
 * Why a walk of our own before msgpack-c: msgpack-c allocates room for a
 * container's elements as soon as it reads the header (n * 24 bytes for a
 * declared array of n), so a 5-byte body "array of 4 billion" would ask
 * for ~100 GB. Each element needs at least one byte, so a body that really
 * contains every element it declares bounds msgpack-c's allocations by
 * ~24 bytes per body byte. This walk proves exactly that, and nothing is
 * decoded here: msgpack-c stays the judge of the values themselves.
 */
int hive__msgpack_scan(const uint8_t *p, size_t n)
{
    uint64_t rem[HIVE__MSGPACK_MAX_DEPTH + 1];  /* values left per open level */
    int top = 0;
    size_t pos = 0;
    rem[0] = 1;                                 /* the root value */
    if (!p && n) return HIVE_EMSGPACK;

    while (top >= 0) {
        if (rem[top] == 0) { top--; continue; }
        rem[top]--;
        if (pos >= n) return HIVE_EMSGPACK;
        uint8_t b = p[pos++];
        size_t left = n - pos;
        uint64_t skip = 0;      /* payload bytes after the header */
        uint64_t count = 0;     /* values a container holds */
        int container = 0;

        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
            /* fixints, nil, false, true: the byte is the value */
        } else if (b <= 0x8f) { container = 1; count = 2u * (b & 0x0f); }
        else if (b <= 0x9f) { container = 1; count = b & 0x0f; }
        else if (b <= 0xbf) { skip = b & 0x1f; }
        else {
            /* c4..df: a size field of 1, 2 or 4 bytes, or a fixed payload. */
            static const uint8_t szlen[32] = {
                /* c0 */ 0, 0, 0, 0, 1, 2, 4, 1, 2, 4, 0, 0, 0, 0, 0, 0,
                /* d0 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 4, 2, 4, 2, 4 };
            static const uint8_t fixed[32] = {
                /* c0 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 8, 1, 2, 4, 8,
                /* d0 */ 1, 2, 4, 8, 2, 3, 5, 9, 17, 0, 0, 0, 0, 0, 0, 0 };
            unsigned k = b - 0xc0;
            if (b == 0xc1) return HIVE_EMSGPACK;          /* never used */
            if (szlen[k]) {
                if (left < szlen[k]) return HIVE_EMSGPACK;
                uint64_t sz = be(p + pos, szlen[k]);
                pos += szlen[k];
                left = n - pos;
                if (b >= 0xdc) {                           /* array16/32, map16/32 */
                    container = 1;
                    count = (b >= 0xde) ? 2 * sz : sz;
                } else {
                    skip = sz + ((b >= 0xc7 && b <= 0xc9) ? 1 : 0); /* ext: + type byte */
                }
            } else {
                skip = fixed[k];
            }
        }

        if (container) {
            /* msgpack-c refuses a container once 32 are open; so do we. */
            if (top >= HIVE__MSGPACK_MAX_DEPTH) return HIVE_EMSGPACK;
            if (count > left) return HIVE_EMSGPACK;
            if (count) rem[++top] = count;
        } else {
            if (skip > left) return HIVE_EMSGPACK;
            pos += (size_t)skip;
        }
    }
    return pos == n ? 0 : HIVE_EMSGPACK;
}

/*
 * The slow twin of hive__msgpack_scan, for when a body has already failed
 * it (or for counting a builder's values): the same walk, but it keeps
 * what each open container declared so it can say what went wrong, and it
 * can walk a run of values instead of exactly one. It never runs on the
 * send path's success case, so it may spend a few more words per level.
 * It drops the scan's early "count > bytes left" refusal (which only guards
 * allocation, and nothing is allocated here): running out of bytes inside
 * the container then says how many of its elements were found. Every body
 * that refusal rejects still fails here, since each element takes a byte.
 */
typedef struct walk_level {
    uint64_t declared;      /* values the container declared (pairs * 2 for a map) */
    uint64_t left;          /* values not yet seen */
    bool map;
} walk_level;

/* seq: walk values until the bytes end (root count unbounded) and store how
 * many there were in *count. Otherwise exactly one root value. */
static int walk(const uint8_t *p, size_t n, bool seq, uint64_t *count, char *why, size_t wn)
{
    walk_level lv[HIVE__MSGPACK_MAX_DEPTH + 1];
    int top = 0;
    size_t pos = 0;
    uint64_t roots = 0;
    lv[0] = (walk_level){ .declared = 1, .left = seq ? UINT64_MAX : 1 };
#define WHY(...) do { if (why && wn) snprintf(why, wn, __VA_ARGS__); } while (0)
    if (!p && n) { WHY("no bytes (NULL with a length)"); return HIVE_EMSGPACK; }
    if (n == 0 && !seq) { WHY("empty body: a message is one msgpack value"); return HIVE_EMSGPACK; }

    while (top >= 0) {
        if (lv[top].left == 0) { top--; continue; }
        if (pos >= n) {
            if (top == 0 && seq) break;
            if (top == 0) { WHY("empty body: a message is one msgpack value"); return HIVE_EMSGPACK; }
            uint64_t found = lv[top].declared - lv[top].left;
            if (lv[top].map)
                WHY("map declared %llu pairs, found %llu%s", (unsigned long long)(lv[top].declared / 2),
                    (unsigned long long)(found / 2), found % 2 ? " and a key without a value" : "");
            else
                WHY("array declared %llu elements, found %llu", (unsigned long long)lv[top].declared,
                    (unsigned long long)found);
            return HIVE_EMSGPACK;
        }
        lv[top].left--;
        if (top == 0) roots++;
        size_t at = pos;
        uint8_t b = p[pos++];
        size_t left = n - pos;
        uint64_t skip = 0, cnt = 0;
        int container = 0;
        bool map = false;

        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
        } else if (b <= 0x8f) { container = 1; map = true; cnt = 2u * (b & 0x0f); }
        else if (b <= 0x9f) { container = 1; cnt = b & 0x0f; }
        else if (b <= 0xbf) { skip = b & 0x1f; }
        else {
            static const uint8_t szlen[32] = {
                0, 0, 0, 0, 1, 2, 4, 1, 2, 4, 0, 0, 0, 0, 0, 0,
                0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 4, 2, 4, 2, 4 };
            static const uint8_t fixed[32] = {
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 8, 1, 2, 4, 8,
                1, 2, 4, 8, 2, 3, 5, 9, 17, 0, 0, 0, 0, 0, 0, 0 };
            unsigned k = b - 0xc0;
            if (b == 0xc1) { WHY("byte 0xc1 at offset %zu is not a msgpack type", at); return HIVE_EMSGPACK; }
            if (szlen[k]) {
                if (left < szlen[k]) { WHY("value at offset %zu is cut off inside its size field", at); return HIVE_EMSGPACK; }
                uint64_t sz = be(p + pos, szlen[k]);
                pos += szlen[k];
                left = n - pos;
                if (b >= 0xdc) {
                    container = 1;
                    map = b >= 0xde;
                    cnt = map ? 2 * sz : sz;
                } else {
                    skip = sz + ((b >= 0xc7 && b <= 0xc9) ? 1 : 0);
                }
            } else {
                skip = fixed[k];
            }
        }
        if (container) {
            if (top >= HIVE__MSGPACK_MAX_DEPTH) {
                WHY("nested deeper than %d containers (offset %zu)", HIVE__MSGPACK_MAX_DEPTH, at);
                return HIVE_EMSGPACK;
            }
            if (cnt) lv[++top] = (walk_level){ .declared = cnt, .left = cnt, .map = map };
        } else {
            if (skip > left) {
                WHY("value at offset %zu declares %llu bytes, %zu left", at, (unsigned long long)skip, left);
                return HIVE_EMSGPACK;
            }
            pos += (size_t)skip;
        }
    }
    if (pos != n) {
        WHY("%zu bytes after the end of the value (a map or array declared too few elements?)", n - pos);
        return HIVE_EMSGPACK;
    }
#undef WHY
    if (count) *count = roots;
    return 0;
}

int hive__msgpack_explain(const uint8_t *p, size_t n, char *why, size_t wn)
{
    if (why && wn) why[0] = '\0';
    if (hive__msgpack_scan(p, n) == 0) return 0;
    if (walk(p, n, false, NULL, why, wn) == 0 && why && wn)
        snprintf(why, wn, "invalid msgpack");   /* cannot happen: the walks agree */
    return HIVE_EMSGPACK;
}

int hive__msgpack_count(const uint8_t *p, size_t n, uint64_t *count, char *why, size_t wn)
{
    return walk(p, n, true, count, why, wn);
}

int hive__frame_check_body(const uint8_t *body, size_t len)
{
    if (hive__msgpack_scan(body, len) != 0) return HIVE_EMSGPACK;
    msgpack_unpacked up;
    size_t off = 0;
    msgpack_unpacked_init(&up);
    msgpack_unpack_return r = msgpack_unpack_next(&up, (const char *)body, len, &off);
    msgpack_unpacked_destroy(&up);
    return (r == MSGPACK_UNPACK_SUCCESS && off == len) ? 0 : HIVE_EMSGPACK;
}

/* ------------------------------------------------------------------ */
/* Stream reassembly                                                    */
/* ------------------------------------------------------------------ */

#define RXBUF_MIN  64u
#define RXBUF_KEEP (64u * 1024u)  /* larger buffers are given back when idle */

int hive__rxbuf_append(hive__rxbuf *b, const void *p, size_t n)
{
    if (!b || (!p && n)) return HIVE_EINVAL;
    if (n == 0) return 0;

    /* Compact: the unconsumed tail is at most one partial frame (when the
     * caller drains after every append), so this move is cheap. */
    size_t keep = b->len - b->off;
    if (b->off) {
        if (keep) memmove(b->data, b->data + b->off, keep);
        b->len = keep;
        b->off = 0;
    }
    if (n > SIZE_MAX - keep) return HIVE_ENOMEM;
    size_t need = keep + n;

    size_t ncap = b->cap;
    if (need > b->cap) {
        if (b->want && need <= b->want) {
            /* The head frame's size is known: take exactly that, so a
             * trickled frame never makes us hold more than it declared. */
            ncap = b->want;
        } else {
            ncap = b->cap < RXBUF_MIN ? RXBUF_MIN : b->cap;
            while (ncap < need) {
                if (ncap > SIZE_MAX / 2) { ncap = need; break; }
                ncap *= 2;
            }
        }
    } else if (b->cap > RXBUF_KEEP && need <= RXBUF_KEEP && b->want <= RXBUF_KEEP) {
        /* A big frame has gone; don't sit on its memory. */
        ncap = RXBUF_KEEP;
    }
    if (ncap != b->cap) {
        uint8_t *d = hive__realloc(b->data, ncap);
        if (!d) {
            if (need > b->cap) return HIVE_ENOMEM;
            ncap = b->cap;          /* failed shrink: keep the old block */
        } else {
            b->data = d;
        }
        b->cap = ncap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int hive__rxbuf_next(hive__rxbuf *b, uint32_t max_frame, hive__frame *f)
{
    if (!b || !f) return HIVE_EINVAL;
    const uint8_t *head = b->data ? b->data + b->off : NULL;
    size_t avail = b->len - b->off;
    int rc = hive__frame_decode(head, avail, max_frame, f);
    if (rc == 1) {
        b->off += f->size;
        b->want = 0;
        if (b->off == b->len) b->off = b->len = 0;  /* data stays until the next append */
    } else if (rc == 0) {
        uint32_t flen;
        size_t lu;
        /* decode returned 0, so a complete length varint is <= max_frame. */
        if (hive__varint_decode(head, avail, &flen, &lu) == 0) b->want = lu + flen;
    }
    return rc;
}

void hive__rxbuf_free(hive__rxbuf *b)
{
    if (!b) return;
    hive__free(b->data);
    memset(b, 0, sizeof *b);
}
