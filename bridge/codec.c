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
#include <string.h>
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

int hive__bridge_encode(msgpack_sbuffer *sb, const char *origin, const char *name, const hive_field *f, size_t n)
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

int hive__bridge_decode(const uint8_t *p, size_t n, hive__bridge_decoded *d)
{
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
