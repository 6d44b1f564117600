/*
 * codec.c - the bridge's wire form and its subject mapping.
 *
 * Wire form of one event (docs/SCALING.md, "Wire format"): a msgpack map
 *   { "v": 1, "o": origin, "n": name, "f": { key: value, ... } }
 * where a value is an int (INT), a float (DOUBLE), a str (STR), a bin
 * (BYTES) or an ext of type 1 whose payload is one msgpack object
 * (MSGPACK). Unknown top-level keys are ignored (a later version may add
 * some); everything else is checked.
 */
#include <stdlib.h>
#include <string.h>
#include "net/wire/frame.h"
#include "bridge/codec.h"
#include "net/wire/mpdecode.h"

#define EXT_MSGPACK 1

static bool seg_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '/' || c == '+' || c == '@' || c == '#' || c == '$';
}

/* A bus name or pattern of the carriable shape: one ':' after the first
 * segment, '.' afterwards, every segment non-empty (and, in a pattern, a
 * segment may be `*`, or `**` when it is the last). */
static bool shape_ok(const char *s, bool pattern)
{
    size_t n = strlen(s);
    if (n == 0 || n >= HIVE_NAME_MAX) return false;
    int colons = 0;
    const char *seg = s;
    for (const char *p = s;; p++) {
        if (*p == ':' || *p == '.' || *p == 0) {
            size_t len = (size_t)(p - seg);
            if (len == 0) return false;
            bool star = len == 1 && seg[0] == '*', star2 = len == 2 && seg[0] == '*' && seg[1] == '*';
            if (star || star2) {
                if (!pattern) return false;
                if (star2 && *p != 0) return false;   /* `**` only at the end */
            } else {
                for (const char *q = seg; q < p; q++)
                    if (!seg_char(*q)) return false;
            }
            if (*p == ':') {
                if (++colons > 1 || seg != s) return false;   /* the ':' ends the first segment */
            } else if (*p == '.' && colons == 0) {
                return false;                                  /* '.' before the namespace */
            }
            if (*p == 0) break;
            seg = p + 1;
        }
    }
    return colons == 1;
}

bool hive__bridge_carriable(const char *name)
{
    return name && shape_ok(name, false);
}

int hive_bridge_subject(const char *prefix, const char *name, char *out, size_t n)
{
    if (!name || !out) return HIVE_EINVAL;
    if (!prefix) prefix = "hive";
    bool pattern = strchr(name, '*') != NULL;
    if (!shape_ok(name, pattern)) {
        /* say which: a pattern whose only fault is a `**` inside */
        return pattern ? HIVE_EPATTERN : HIVE_ENAME;
    }
    size_t pl = strlen(prefix), nl = strlen(name);
    if (pl + 1 + nl + 1 > n) return HIVE_ETOOBIG;
    memcpy(out, prefix, pl);
    out[pl] = '.';
    size_t k = pl + 1;
    for (size_t i = 0; i < nl; i++) {
        char c = name[i];
        if (c == ':') c = '.';
        if (c == '*' && i + 1 < nl && name[i + 1] == '*') {
            out[k++] = '>';
            i++;
            continue;
        }
        out[k++] = c;
    }
    out[k] = 0;
    return (int)k;
}

int hive__bridge_name_of(const char *prefix, const char *subject, char *out, size_t n)
{
    if (!prefix) prefix = "hive";
    size_t pl = strlen(prefix);
    if (strncmp(subject, prefix, pl) != 0 || subject[pl] != '.') return HIVE_ENAME;
    const char *s = subject + pl + 1;
    size_t sl = strlen(s);
    if (sl + 1 > n || sl + 1 > HIVE_NAME_MAX) return HIVE_ENAME;
    const char *dot = strchr(s, '.');
    if (!dot) return HIVE_ENAME;
    memcpy(out, s, sl + 1);
    out[dot - s] = ':';
    return hive__bridge_carriable(out) ? (int)sl : HIVE_ENAME;
}

bool hive__bridge_origin_ok(const char *s, size_t n)
{
    if (n == 0 || n >= HIVE_BRIDGE_ORIGIN_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-'))
            return false;
    }
    return true;
}

/* Keys under "hive." are the bridge's own (hive.origin, hive.reply, ...):
 * never sent, never accepted, so a publisher cannot forge them. */
static bool reserved_key(const char *k, size_t n)
{
    return n >= 5 && memcmp(k, "hive.", 5) == 0;
}

static bool carried(const hive_field *x)
{
    return x->key && x->type >= HIVE_T_INT && x->type <= HIVE_T_MSGPACK && x->type != HIVE_T_PTR &&
           !reserved_key(x->key, strlen(x->key));
}

static int pack_str(msgpack_packer *pk, const char *s, size_t n)
{
    return msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, s, n);
}

int hive__bridge_encode_ref(msgpack_sbuffer *sb, const char *origin, const char *name, const hive_field *f,
                            size_t n)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    size_t ncarried = 0;
    for (size_t i = 0; i < n; i++)
        if (carried(&f[i])) ncarried++;
    if (ncarried > HIVE_BRIDGE_MAX_FIELDS) return HIVE_ETOOBIG;   /* never cut an event silently */
    int rc = msgpack_pack_map(&pk, 4);
    rc |= pack_str(&pk, "v", 1) | msgpack_pack_uint8(&pk, 1);
    rc |= pack_str(&pk, "o", 1) | pack_str(&pk, origin, strlen(origin));
    rc |= pack_str(&pk, "n", 1) | pack_str(&pk, name, strlen(name));
    rc |= pack_str(&pk, "f", 1) | msgpack_pack_map(&pk, (uint32_t)ncarried);
    size_t done = 0;
    for (size_t i = 0; i < n && done < ncarried; i++) {
        const hive_field *x = &f[i];
        if (!carried(x)) continue;
        rc |= pack_str(&pk, x->key, strlen(x->key));
        switch (x->type) {
        case HIVE_T_INT: rc |= msgpack_pack_int64(&pk, x->v.i); break;
        case HIVE_T_DOUBLE: rc |= msgpack_pack_double(&pk, x->v.d); break;
        case HIVE_T_STR: rc |= pack_str(&pk, x->v.str.s ? x->v.str.s : "", x->v.str.s ? x->v.str.len : 0); break;
        case HIVE_T_BYTES:
            rc |= msgpack_pack_bin(&pk, x->v.bytes.len);
            if (x->v.bytes.len) rc |= msgpack_pack_bin_body(&pk, x->v.bytes.p, x->v.bytes.len);
            break;
        case HIVE_T_MSGPACK:
            rc |= msgpack_pack_ext(&pk, x->v.mp.len, EXT_MSGPACK);
            if (x->v.mp.len) rc |= msgpack_pack_ext_body(&pk, x->v.mp.raw, x->v.mp.len);
            break;
        default: break;
        }
        done++;
    }
    return rc ? HIVE_ENOMEM : HIVE_OK;
}

static bool key_is(const msgpack_object *k, const char *s)
{
    size_t n = strlen(s);
    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n && memcmp(k->via.str.ptr, s, n) == 0;
}

/* One complete msgpack object, nothing after it (decoded into z, which
 * the caller clears). */
static bool one_object(const char *p, size_t n, msgpack_zone *z)
{
    if (n == 0) return false;
    msgpack_object o;
    return hive__mp_decode((const uint8_t *)p, n, z, &o) == 0;
}

int hive__bridge_decoded_init(hive__bridge_decoded *d)
{
    memset(d, 0, sizeof *d);
    d->zone_ok = msgpack_zone_init(&d->zone, 2048);
    return d->zone_ok ? HIVE_OK : HIVE_ENOMEM;
}

void hive__bridge_decoded_fini(hive__bridge_decoded *d)
{
    if (d->zone_ok) msgpack_zone_destroy(&d->zone);
    d->zone_ok = false;
}

int hive__bridge_decode_ref(const uint8_t *p, size_t n, hive__bridge_decoded *d)
{
    d->nvalid = 0;   /* it writes keys[] without keeping them */
    d->n = 0;
    d->origin[0] = d->name[0] = 0;
    if (!d->zone_ok) return HIVE_ENOMEM;
    msgpack_zone_clear(&d->zone);
    msgpack_object topo;
    /* scanned before msgpack-c sees it: msgpack-c reserves memory for the
     * counts a message declares, so a 6-byte map header could ask for
     * gigabytes (net/wire/mpdecode.h) */
    if (!p || n == 0 || hive__mp_decode(p, n, &d->zone, &topo) != 0) goto bad;
    const msgpack_object *top = &topo;
    if (top->type != MSGPACK_OBJECT_MAP) goto bad;
    const msgpack_object *v = NULL, *o = NULL, *nm = NULL, *fl = NULL;
    for (uint32_t i = 0; i < top->via.map.size; i++) {
        const msgpack_object_kv *kv = &top->via.map.ptr[i];
        const msgpack_object **slot = key_is(&kv->key, "v") ? &v : key_is(&kv->key, "o") ? &o
                                    : key_is(&kv->key, "n") ? &nm : key_is(&kv->key, "f") ? &fl : NULL;
        if (!slot) continue;
        if (*slot) goto bad;   /* twice */
        *slot = &kv->val;
    }
    if (!v || v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 != 1) goto bad;
    if (!o || o->type != MSGPACK_OBJECT_STR || !hive__bridge_origin_ok(o->via.str.ptr, o->via.str.size)) goto bad;
    memcpy(d->origin, o->via.str.ptr, o->via.str.size);
    d->origin[o->via.str.size] = 0;
    if (!nm || nm->type != MSGPACK_OBJECT_STR || nm->via.str.size >= HIVE_NAME_MAX) goto bad;
    memcpy(d->name, nm->via.str.ptr, nm->via.str.size);
    d->name[nm->via.str.size] = 0;
    if (memchr(d->name, 0, nm->via.str.size) || !hive__bridge_carriable(d->name)) goto bad;
    if (!fl || fl->type != MSGPACK_OBJECT_MAP || fl->via.map.size > HIVE_BRIDGE_MAX_FIELDS) goto bad;
    for (uint32_t i = 0; i < fl->via.map.size; i++) {
        const msgpack_object *k = &fl->via.map.ptr[i].key, *x = &fl->via.map.ptr[i].val;
        if (k->type != MSGPACK_OBJECT_STR || k->via.str.size == 0 || k->via.str.size >= HIVE__BRIDGE_KEY_MAX ||
            memchr(k->via.str.ptr, 0, k->via.str.size) || reserved_key(k->via.str.ptr, k->via.str.size))
            goto bad;
        char *key = d->keys[d->n];
        memcpy(key, k->via.str.ptr, k->via.str.size);
        key[k->via.str.size] = 0;
        for (size_t j = 0; j < d->n; j++)
            if (strcmp(d->keys[j], key) == 0) goto bad;   /* duplicate key */
        hive_field *f = &d->f[d->n];
        f->key = key;
        switch (x->type) {
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            if (x->via.u64 > INT64_MAX) goto bad;
            f->type = HIVE_T_INT;
            f->v.i = (int64_t)x->via.u64;
            break;
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            f->type = HIVE_T_INT;
            f->v.i = x->via.i64;
            break;
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            f->type = HIVE_T_DOUBLE;
            f->v.d = x->via.f64;
            break;
        case MSGPACK_OBJECT_STR:
            f->type = HIVE_T_STR;
            f->v.str.s = x->via.str.size ? x->via.str.ptr : "";
            f->v.str.len = x->via.str.size;
            break;
        case MSGPACK_OBJECT_BIN:
            f->type = HIVE_T_BYTES;
            f->v.bytes.p = x->via.bin.size ? x->via.bin.ptr : NULL;
            f->v.bytes.len = x->via.bin.size;
            break;
        case MSGPACK_OBJECT_EXT:
            if (x->via.ext.type != EXT_MSGPACK || !one_object(x->via.ext.ptr, x->via.ext.size, &d->zone)) goto bad;
            f->type = HIVE_T_MSGPACK;
            f->v.mp.raw = x->via.ext.ptr;
            f->v.mp.len = x->via.ext.size;
            f->v.mp.obj = NULL;
            break;
        default:
            goto bad;
        }
        d->n++;
    }
    return HIVE_OK;
bad:
    d->n = 0;
    d->origin[0] = d->name[0] = 0;
    return HIVE_EPROTO;
}

/* ---- the hot path: the same wire form without msgpack-c's object tree --
 *
 * Every bridged event is encoded once and decoded once per receiving
 * process, and msgpack-c's general machinery (a packer calling back per
 * piece, an unpacker building a tree in a zone) was most of the bridge's
 * cost per event (docs/PERFORMANCE.md, bench-bridge). The envelope is
 * small and fixed, so it is written and read directly here. The _ref
 * versions above, on msgpack-c, stay the definition: fuzz/fuzz_bridge.c
 * checks on every input that hive__bridge_encode writes exactly the bytes
 * hive__bridge_encode_ref writes, and that hive__bridge_decode accepts
 * exactly what hive__bridge_decode_ref accepts, with the same result. */

static inline uint8_t *put_be(uint8_t *o, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--) {
        o[i] = (uint8_t)v;
        v >>= 8;
    }
    return o + bytes;
}

/* the header of a str, bin or map of n, in msgpack-c's choice of form */
static inline uint8_t *put_str_hdr(uint8_t *o, size_t n)
{
    if (n < 32) { *o++ = (uint8_t)(0xa0 | n); return o; }
    if (n < 256) { *o++ = 0xd9; return put_be(o, n, 1); }
    if (n < 65536) { *o++ = 0xda; return put_be(o, n, 2); }
    *o++ = 0xdb;
    return put_be(o, n, 4);
}

static inline uint8_t *put_str(uint8_t *o, const char *s, size_t n)
{
    o = put_str_hdr(o, n);
    if (n) memcpy(o, s, n);
    return o + n;
}

static inline uint8_t *put_int(uint8_t *o, int64_t d)
{
    if (d < -(1LL << 5)) {
        if (d < -(1LL << 15)) {
            if (d < -(1LL << 31)) { *o++ = 0xd3; return put_be(o, (uint64_t)d, 8); }
            *o++ = 0xd2;
            return put_be(o, (uint64_t)d, 4);
        }
        if (d < -(1LL << 7)) { *o++ = 0xd1; return put_be(o, (uint64_t)d, 2); }
        *o++ = 0xd0;
        return put_be(o, (uint64_t)d, 1);
    }
    if (d < (1LL << 7)) { *o++ = (uint8_t)d; return o; }
    if (d < (1LL << 16)) {
        if (d < (1LL << 8)) { *o++ = 0xcc; return put_be(o, (uint64_t)d, 1); }
        *o++ = 0xcd;
        return put_be(o, (uint64_t)d, 2);
    }
    if (d < (1LL << 32)) { *o++ = 0xce; return put_be(o, (uint64_t)d, 4); }
    *o++ = 0xcf;
    return put_be(o, (uint64_t)d, 8);
}

int hive__bridge_encode(msgpack_sbuffer *sb, const char *origin, const char *name, const hive_field *f, size_t n)
{
    size_t ol = strlen(origin), nl = strlen(name), nc = 0;
    /* the carried fields and their key lengths, found once */
    struct { const hive_field *x; size_t kl; } c[HIVE_BRIDGE_MAX_FIELDS];
    /* an upper bound of the bytes: 5 per header, 9 per number */
    size_t need = 1 + 3 + 2 + 5 + ol + 2 + 5 + nl + 2 + 5;
    for (size_t i = 0; i < n; i++) {
        const hive_field *x = &f[i];
        if (!x->key || x->type < HIVE_T_INT || x->type > HIVE_T_MSGPACK || x->type == HIVE_T_PTR) continue;
        size_t kl = strlen(x->key);
        if (reserved_key(x->key, kl)) continue;
        if (nc == HIVE_BRIDGE_MAX_FIELDS) return HIVE_ETOOBIG;   /* never cut an event silently */
        c[nc].x = x;
        c[nc++].kl = kl;
        need += 5 + kl + 6;
        switch (x->type) {
        case HIVE_T_INT: case HIVE_T_DOUBLE: need += 9; break;
        case HIVE_T_STR: need += x->v.str.s ? x->v.str.len : 0; break;
        case HIVE_T_BYTES: need += x->v.bytes.len; break;
        case HIVE_T_MSGPACK: need += x->v.mp.len; break;
        default: break;
        }
    }
    if (sb->alloc - sb->size < need) {
        size_t cap = sb->alloc ? sb->alloc : 256;
        while (cap - sb->size < need) {
            if (cap > SIZE_MAX / 2) return HIVE_ENOMEM;
            cap *= 2;
        }
        char *d = realloc(sb->data, cap);
        if (!d) return HIVE_ENOMEM;
        sb->data = d;
        sb->alloc = cap;
    }
    uint8_t *o = (uint8_t *)sb->data + sb->size;
    *o++ = 0x84;                          /* a map of 4 */
    *o++ = 0xa1; *o++ = 'v'; *o++ = 1;
    *o++ = 0xa1; *o++ = 'o'; o = put_str(o, origin, ol);
    *o++ = 0xa1; *o++ = 'n'; o = put_str(o, name, nl);
    *o++ = 0xa1; *o++ = 'f';
    if (nc < 16) *o++ = (uint8_t)(0x80 | nc);
    else { *o++ = 0xde; o = put_be(o, nc, 2); }   /* HIVE_BRIDGE_MAX_FIELDS < 65536 */
    for (size_t i = 0; i < nc; i++) {
        const hive_field *x = c[i].x;
        o = put_str(o, x->key, c[i].kl);
        switch (x->type) {
        case HIVE_T_INT: o = put_int(o, x->v.i); break;
        case HIVE_T_DOUBLE: {
            uint64_t b;
            memcpy(&b, &x->v.d, sizeof b);
            *o++ = 0xcb;
            o = put_be(o, b, 8);
            break;
        }
        case HIVE_T_STR: o = put_str(o, x->v.str.s ? x->v.str.s : "", x->v.str.s ? x->v.str.len : 0); break;
        case HIVE_T_BYTES: {
            size_t bl = x->v.bytes.len;
            if (bl < 256) { *o++ = 0xc4; o = put_be(o, bl, 1); }
            else if (bl < 65536) { *o++ = 0xc5; o = put_be(o, bl, 2); }
            else { *o++ = 0xc6; o = put_be(o, bl, 4); }
            if (bl) memcpy(o, x->v.bytes.p, bl);
            o += bl;
            break;
        }
        case HIVE_T_MSGPACK: {
            size_t ml = x->v.mp.len;
            switch (ml) {
            case 1: *o++ = 0xd4; break;
            case 2: *o++ = 0xd5; break;
            case 4: *o++ = 0xd6; break;
            case 8: *o++ = 0xd7; break;
            case 16: *o++ = 0xd8; break;
            default:
                if (ml < 256) { *o++ = 0xc7; o = put_be(o, ml, 1); }
                else if (ml < 65536) { *o++ = 0xc8; o = put_be(o, ml, 2); }
                else { *o++ = 0xc9; o = put_be(o, ml, 4); }
            }
            *o++ = EXT_MSGPACK;
            if (ml) memcpy(o, x->v.mp.raw, ml);
            o += ml;
            break;
        }
        default: break;
        }
    }
    sb->size = (size_t)((char *)o - sb->data);
    return HIVE_OK;
}

/* A reader of msgpack bytes that checks every bound as it goes, so a
 * malformed message is refused and never overread. (The whole message is
 * scanned first only where a value must be skipped: see
 * hive__bridge_decode.) */
typedef struct rd {
    const uint8_t *p;
    size_t n, pos;
} rd;

static inline bool rd_be(rd *r, int bytes, uint64_t *v)
{
    if (r->n - r->pos < (size_t)bytes) return false;
    uint64_t x = 0;
    for (int i = 0; i < bytes; i++) x = (x << 8) | r->p[r->pos + (size_t)i];
    r->pos += (size_t)bytes;
    *v = x;
    return true;
}

/* n bytes of payload at the cursor, skipped */
static inline bool rd_take(rd *r, uint64_t n, const uint8_t **at)
{
    if (n > r->n - r->pos) return false;
    *at = r->p + r->pos;
    r->pos += (size_t)n;
    return true;
}

/* the next value when it is a str: its bytes */
static inline __attribute__((always_inline)) bool rd_str(rd *r, const char **s, size_t *len)
{
    if (r->pos >= r->n) return false;
    uint8_t b = r->p[r->pos];
    uint64_t l;
    if (b >= 0xa0 && b <= 0xbf) { r->pos++; l = b & 0x1f; }
    else if (b >= 0xd9 && b <= 0xdb) { r->pos++; if (!rd_be(r, 1 << (b - 0xd9), &l)) return false; }
    else return false;
    const uint8_t *at;
    if (!rd_take(r, l, &at)) return false;
    *s = (const char *)at;
    *len = (size_t)l;
    return true;
}

/* the next value when it is a map: its pair count */
static bool rd_map(rd *r, uint64_t *pairs)
{
    if (r->pos >= r->n) return false;
    uint8_t b = r->p[r->pos];
    if (b >= 0x80 && b <= 0x8f) { r->pos++; *pairs = b & 0x0f; return true; }
    if (b == 0xde || b == 0xdf) { r->pos++; return rd_be(r, b == 0xde ? 2 : 4, pairs); }
    return false;
}

/* skip the next value, containers and all: one counter of values still to
 * skip is enough (a container adds its elements to it) */
static bool rd_skip(rd *r)
{
    uint64_t left = 1;
    while (left) {
        left--;
        if (r->pos >= r->n) return false;
        uint8_t b = r->p[r->pos++];
        uint64_t skip = 0, sz;
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) continue;
        if (b <= 0x8f) { left += 2u * (b & 0x0f); continue; }
        if (b <= 0x9f) { left += b & 0x0f; continue; }
        if (b <= 0xbf) { skip = b & 0x1f; }
        else switch (b) {
        case 0xc4: case 0xd9: if (!rd_be(r, 1, &skip)) return false; break;
        case 0xc5: case 0xda: if (!rd_be(r, 2, &skip)) return false; break;
        case 0xc6: case 0xdb: if (!rd_be(r, 4, &skip)) return false; break;
        case 0xc7: if (!rd_be(r, 1, &skip)) return false; skip++; break;
        case 0xc8: if (!rd_be(r, 2, &skip)) return false; skip++; break;
        case 0xc9: if (!rd_be(r, 4, &skip)) return false; skip++; break;
        case 0xca: case 0xce: case 0xd2: skip = 4; break;
        case 0xcb: case 0xcf: case 0xd3: skip = 8; break;
        case 0xcc: case 0xd0: skip = 1; break;
        case 0xcd: case 0xd1: skip = 2; break;
        case 0xd4: skip = 2; break;
        case 0xd5: skip = 3; break;
        case 0xd6: skip = 5; break;
        case 0xd7: skip = 9; break;
        case 0xd8: skip = 17; break;
        case 0xdc: if (!rd_be(r, 2, &sz)) return false; left += sz; continue;
        case 0xdd: if (!rd_be(r, 4, &sz)) return false; left += sz; continue;
        case 0xde: if (!rd_be(r, 2, &sz)) return false; left += 2 * sz; continue;
        case 0xdf: if (!rd_be(r, 4, &sz)) return false; left += 2 * sz; continue;
        default: return false;   /* 0xc1 */
        }
        const uint8_t *at;
        if (!rd_take(r, skip, &at)) return false;
    }
    return true;
}

/* one field's value: what decode_ref accepts, read the same way */
static bool rd_value(rd *r, hive_field *f, msgpack_zone *z)
{
    if (r->pos >= r->n) return false;
    uint8_t b = r->p[r->pos++];
    uint64_t u, l;
    const uint8_t *at;
    if (b <= 0x7f) { f->type = HIVE_T_INT; f->v.i = b; return true; }
    if (b >= 0xe0) { f->type = HIVE_T_INT; f->v.i = (int8_t)b; return true; }
    switch (b) {
    case 0xcc: case 0xcd: case 0xce: case 0xcf:
        if (!rd_be(r, 1 << (b - 0xcc), &u) || u > INT64_MAX) return false;
        f->type = HIVE_T_INT;
        f->v.i = (int64_t)u;
        return true;
    case 0xd0: if (!rd_be(r, 1, &u)) return false; f->type = HIVE_T_INT; f->v.i = (int8_t)u; return true;
    case 0xd1: if (!rd_be(r, 2, &u)) return false; f->type = HIVE_T_INT; f->v.i = (int16_t)u; return true;
    case 0xd2: if (!rd_be(r, 4, &u)) return false; f->type = HIVE_T_INT; f->v.i = (int32_t)u; return true;
    case 0xd3: if (!rd_be(r, 8, &u)) return false; f->type = HIVE_T_INT; f->v.i = (int64_t)u; return true;
    case 0xca: {
        if (!rd_be(r, 4, &u)) return false;
        uint32_t w = (uint32_t)u;
        float x;
        memcpy(&x, &w, sizeof x);
        f->type = HIVE_T_DOUBLE;
        f->v.d = (double)x;
        return true;
    }
    case 0xcb:
        if (!rd_be(r, 8, &u)) return false;
        f->type = HIVE_T_DOUBLE;
        memcpy(&f->v.d, &u, sizeof f->v.d);
        return true;
    case 0xc4: case 0xc5: case 0xc6:
        if (!rd_be(r, 1 << (b - 0xc4), &l) || !rd_take(r, l, &at)) return false;
        f->type = HIVE_T_BYTES;
        f->v.bytes.p = l ? at : NULL;
        f->v.bytes.len = (size_t)l;
        return true;
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: l = 1u << (b - 0xd4); goto ext;
    case 0xc7: case 0xc8: case 0xc9:
        if (!rd_be(r, 1 << (b - 0xc7), &l)) return false;
    ext: {
        uint64_t t;
        if (!rd_be(r, 1, &t) || !rd_take(r, l, &at)) return false;
        /* rare: the payload's check stays msgpack-c's (as in decode_ref) */
        if ((int8_t)t != EXT_MSGPACK || !one_object((const char *)at, (size_t)l, z)) return false;
        f->type = HIVE_T_MSGPACK;
        f->v.mp.raw = at;
        f->v.mp.len = (size_t)l;
        f->v.mp.obj = NULL;
        return true;
    }
    default:
        break;
    }
    r->pos--;
    const char *s;
    size_t sl;
    if (!rd_str(r, &s, &sl)) return false;   /* nil, bool, array, map: no bridged type */
    f->type = HIVE_T_STR;
    f->v.str.s = sl ? s : "";
    f->v.str.len = sl;
    return true;
}

/*
 * The fields. Most messages on a subscription carry the keys the one
 * before carried, in the same order, so the keys are kept between
 * decodes: keys[0..nvalid) are checked (non-empty, short, no NUL, not
 * reserved) and pairwise distinct. A key equal to the kept one at its
 * place needs no check and no copy (and keeps what the caller cached for
 * it in interned[]); any other is checked, against this message's
 * earlier keys too, then kept, and the kept ones after it are forgotten.
 */
static bool rd_fields(rd *r, hive__bridge_decoded *d)
{
    uint64_t pairs;
    if (!rd_map(r, &pairs) || pairs > HIVE_BRIDGE_MAX_FIELDS) return false;
    for (size_t i = 0; i < (size_t)pairs; i++) {
        const char *k;
        size_t kl;
        if (!rd_str(r, &k, &kl)) return false;
        if (!(i < d->nvalid && kl == d->klen[i] && memcmp(k, d->keys[i], kl) == 0)) {
            if (kl == 0 || kl >= HIVE__BRIDGE_KEY_MAX || memchr(k, 0, kl) || reserved_key(k, kl)) return false;
            for (size_t j = 0; j < i; j++)
                if (d->klen[j] == kl && memcmp(d->keys[j], k, kl) == 0) return false;   /* duplicate key */
            memcpy(d->keys[i], k, kl);
            d->keys[i][kl] = 0;
            d->klen[i] = (uint8_t)kl;
            d->interned[i] = NULL;
            d->nvalid = i + 1;
        }
        hive_field *f = &d->f[i];
        f->key = d->keys[i];
        if (!rd_value(r, f, &d->zone)) return false;
        d->n = i + 1;
    }
    return true;
}

int hive__bridge_decode(const uint8_t *p, size_t n, hive__bridge_decoded *d)
{
    d->n = 0;
    d->origin[0] = d->name[0] = 0;
    if (!d->zone_ok) return HIVE_ENOMEM;
    msgpack_zone_clear(&d->zone);   /* only MSGPACK values use it */
    if (!p || n == 0) goto bad;
    /* No scan first: every value of v, o, n and f is read with its bounds
     * checked, and none of them nests, so a message of those keys alone is
     * well formed exactly when this reading succeeds and ends at n. A key
     * of another kind has its value skipped: only then must the whole
     * message pass hive__msgpack_scan (depth, counts), as msgpack-c would
     * have it. */
    bool scanned = false;
    rd r = { p, n, 0 };
    uint64_t pairs;
    if (!rd_map(&r, &pairs)) goto bad;
    bool v = false, o = false, nm = false, fl = false;
    for (uint64_t i = 0; i < pairs; i++) {
        const char *k;
        size_t kl;
        size_t at = r.pos;
        if (!rd_str(&r, &k, &kl) || kl != 1 || (k[0] != 'v' && k[0] != 'o' && k[0] != 'n' && k[0] != 'f')) {
            /* a key of another type or name: it and its value ignored */
            if (!scanned && hive__msgpack_scan(p, n) != 0) goto bad;
            scanned = true;
            r.pos = at;
            if (!rd_skip(&r) || !rd_skip(&r)) goto bad;
            continue;
        }
        switch (k[0]) {
        case 'v': {
            if (v) goto bad;
            v = true;
            /* the version is the positive integer 1, in any of its forms */
            if (r.pos >= r.n) goto bad;
            uint8_t b = r.p[r.pos++];
            uint64_t x;
            if (b == 1) break;
            if (b >= 0xcc && b <= 0xcf) { if (!rd_be(&r, 1 << (b - 0xcc), &x) || x != 1) goto bad; break; }
            if (b >= 0xd0 && b <= 0xd3) { if (!rd_be(&r, 1 << (b - 0xd0), &x) || x != 1) goto bad; break; }
            goto bad;
        }
        case 'o': {
            const char *s;
            size_t sl;
            if (o || !rd_str(&r, &s, &sl)) goto bad;
            /* the same origin as the last message is known good */
            if (sl == 0 || sl != d->last_origin_len || memcmp(s, d->last_origin, sl) != 0) {
                if (!hive__bridge_origin_ok(s, sl)) goto bad;
                memcpy(d->last_origin, s, sl);
                d->last_origin_len = sl;
            }
            o = true;
            memcpy(d->origin, s, sl);
            d->origin[sl] = 0;
            break;
        }
        case 'n': {
            const char *s;
            size_t sl;
            if (nm || !rd_str(&r, &s, &sl) || sl >= HIVE_NAME_MAX || memchr(s, 0, sl)) goto bad;
            nm = true;
            memcpy(d->name, s, sl);
            d->name[sl] = 0;
            if (!(d->known_name && strcmp(d->name, d->known_name) == 0) && !hive__bridge_carriable(d->name))
                goto bad;
            break;
        }
        default: /* 'f' */
            if (fl || !rd_fields(&r, d)) goto bad;
            fl = true;
            break;
        }
    }
    if (!v || !o || !nm || !fl || r.pos != n) goto bad;
    return HIVE_OK;
bad:
    d->n = 0;
    d->origin[0] = d->name[0] = 0;
    return HIVE_EPROTO;
}

/* ---- shard sets ------------------------------------------------------ */

bool hive__bridge_set_ok(const char *s, size_t n)
{
    if (n == 0 || n >= 64) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static const char *const shard_ops[] = { NULL, "here", "bye", "ask" };

int hive__bridge_shard_encode(msgpack_sbuffer *sb, const hive__shard_msg *m)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    bool here = m->op == HIVE__SHARD_HERE;
    const char *op = shard_ops[m->op];
    int rc = msgpack_pack_map(&pk, here ? 5 : 4);
    rc |= pack_str(&pk, "v", 1) | msgpack_pack_uint8(&pk, 1);
    rc |= pack_str(&pk, "o", 1) | pack_str(&pk, m->origin, strlen(m->origin));
    rc |= pack_str(&pk, "s", 1) | pack_str(&pk, m->set, strlen(m->set));
    rc |= pack_str(&pk, "op", 2) | pack_str(&pk, op, strlen(op));
    if (here) rc |= pack_str(&pk, "a", 1) | pack_str(&pk, m->addr, strlen(m->addr));
    return rc ? HIVE_ENOMEM : HIVE_OK;
}

/* a str object into out[cap] (NUL-terminated, no NUL inside) */
static bool str_into(const msgpack_object *o, char *out, size_t cap)
{
    if (!o || o->type != MSGPACK_OBJECT_STR || o->via.str.size >= cap || memchr(o->via.str.ptr, 0, o->via.str.size))
        return false;
    memcpy(out, o->via.str.ptr, o->via.str.size);
    out[o->via.str.size] = 0;
    return true;
}

int hive__bridge_shard_decode(const uint8_t *p, size_t n, msgpack_zone *z, hive__shard_msg *m)
{
    memset(m, 0, sizeof *m);
    msgpack_zone_clear(z);
    msgpack_object top;
    if (!p || n == 0 || hive__mp_decode(p, n, z, &top) != 0 || top.type != MSGPACK_OBJECT_MAP) return HIVE_EPROTO;
    const msgpack_object *v = NULL, *o = NULL, *st = NULL, *op = NULL, *a = NULL;
    for (uint32_t i = 0; i < top.via.map.size; i++) {
        const msgpack_object_kv *kv = &top.via.map.ptr[i];
        const msgpack_object **slot = key_is(&kv->key, "v") ? &v : key_is(&kv->key, "o") ? &o
                                    : key_is(&kv->key, "s") ? &st : key_is(&kv->key, "op") ? &op
                                    : key_is(&kv->key, "a") ? &a : NULL;
        if (!slot) continue;
        if (*slot) return HIVE_EPROTO;
        *slot = &kv->val;
    }
    char opname[8];
    if (!v || v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 != 1) return HIVE_EPROTO;
    if (!str_into(o, m->origin, sizeof m->origin) || !hive__bridge_origin_ok(m->origin, strlen(m->origin)))
        return HIVE_EPROTO;
    if (!str_into(st, m->set, sizeof m->set) || !hive__bridge_set_ok(m->set, strlen(m->set))) return HIVE_EPROTO;
    if (!str_into(op, opname, sizeof opname)) return HIVE_EPROTO;
    for (int k = HIVE__SHARD_HERE; k <= HIVE__SHARD_ASK; k++)
        if (strcmp(opname, shard_ops[k]) == 0) m->op = (hive__shard_op)k;
    if (!m->op) return HIVE_EPROTO;
    if (m->op == HIVE__SHARD_HERE) {
        if (!str_into(a, m->addr, sizeof m->addr) || !m->addr[0]) return HIVE_EPROTO;
    } else if (a) {
        return HIVE_EPROTO;
    }
    return HIVE_OK;
}

uint64_t hive__bridge_hrw(const char *name, const void *key, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = name; *p; p++) h = (h ^ (uint8_t)*p) * 1099511628211ull;
    h = (h ^ 0u) * 1099511628211ull;   /* the 0x00 between name and key */
    const uint8_t *k = key;
    for (size_t i = 0; i < len; i++) h = (h ^ k[i]) * 1099511628211ull;
    /* splitmix64's finaliser: FNV's low bits alone spread keys poorly */
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}
