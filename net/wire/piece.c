/* piece.c - a piece's body (see piece.h). */
#include "net/wire/piece.h"

static size_t put_uint(uint8_t *o, uint32_t v)
{
    if (v < 0x80) { o[0] = (uint8_t)v; return 1; }
    if (v <= 0xff) { o[0] = 0xcc; o[1] = (uint8_t)v; return 2; }
    if (v <= 0xffff) { o[0] = 0xcd; o[1] = (uint8_t)(v >> 8); o[2] = (uint8_t)v; return 3; }
    o[0] = 0xce;
    o[1] = (uint8_t)(v >> 24); o[2] = (uint8_t)(v >> 16); o[3] = (uint8_t)(v >> 8); o[4] = (uint8_t)v;
    return 5;
}

size_t hive__piece_header(uint8_t *out, const hive__piece *p)
{
    size_t n = 0;
    out[n++] = 0x96;
    n += put_uint(out + n, p->tid);
    n += put_uint(out + n, p->pid);
    n += put_uint(out + n, p->total);
    n += put_uint(out + n, p->offset);
    n += put_uint(out + n, p->flags);
    uint32_t l = p->len;
    if (l <= 0xff) {
        out[n++] = 0xc4; out[n++] = (uint8_t)l;
    } else if (l <= 0xffff) {
        out[n++] = 0xc5; out[n++] = (uint8_t)(l >> 8); out[n++] = (uint8_t)l;
    } else {
        out[n++] = 0xc6;
        out[n++] = (uint8_t)(l >> 24); out[n++] = (uint8_t)(l >> 16); out[n++] = (uint8_t)(l >> 8); out[n++] = (uint8_t)l;
    }
    return n;
}

/* Big-endian n-byte integer at *p (n <= 8), advancing; -1 when cut. */
static int be(const uint8_t **p, const uint8_t *end, int n, uint64_t *v)
{
    if (end - *p < n) return -1;
    uint64_t x = 0;
    for (int i = 0; i < n; i++) x = x << 8 | (*p)[i];
    *p += n;
    *v = x;
    return 0;
}

/* Any msgpack unsigned encoding (positive fixint, uint 8/16/32/64),
 * at most 2^32-1. Signed encodings are refused: senders write these. */
static int get_uint(const uint8_t **p, const uint8_t *end, uint32_t *out)
{
    if (*p >= end) return -1;
    uint8_t t = *(*p)++;
    uint64_t v;
    if (t < 0x80) v = t;
    else if (t == 0xcc) { if (be(p, end, 1, &v)) return -1; }
    else if (t == 0xcd) { if (be(p, end, 2, &v)) return -1; }
    else if (t == 0xce) { if (be(p, end, 4, &v)) return -1; }
    else if (t == 0xcf) { if (be(p, end, 8, &v) || v > 0xffffffffu) return -1; }
    else return -1;
    *out = (uint32_t)v;
    return 0;
}

int hive__piece_parse(const uint8_t *body, size_t len, hive__piece *out)
{
    const uint8_t *p = body, *end = body + len;
    if (!len || *p++ != 0x96) return -1;
    if (get_uint(&p, end, &out->tid) || get_uint(&p, end, &out->pid) || get_uint(&p, end, &out->total) ||
        get_uint(&p, end, &out->offset) || get_uint(&p, end, &out->flags))
        return -1;
    if (p >= end) return -1;
    uint8_t t = *p++;
    uint64_t n;
    if (t == 0xc4) { if (be(&p, end, 1, &n)) return -1; }
    else if (t == 0xc5) { if (be(&p, end, 2, &n)) return -1; }
    else if (t == 0xc6) { if (be(&p, end, 4, &n)) return -1; }
    else return -1;
    if ((uint64_t)(end - p) != n) return -1;   /* cut short, or bytes after it */
    out->data = p;
    out->len = (uint32_t)n;
    return 0;
}
