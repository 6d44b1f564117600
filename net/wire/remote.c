/* remote.c - remote subscription bodies (net/wire/remote.h). */
#include "events/internal.h"
#include "events/bus_internal.h"
#include "net/wire/remote.h"
#include "net/wire/frame.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define TRY(x) do { if ((x) != 0) return HIVE_ENOMEM; } while (0)

static int fail(char *why, const char *fmt, const char *arg)
{
    if (why) snprintf(why, HIVE__REASON_MAX + 1, fmt, arg ? arg : "");
    return HIVE_EPROTO;
}

static bool str_is(const msgpack_object *o, const char *s)
{
    size_t n = strlen(s);
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n && memcmp(o->via.str.ptr, s, n) == 0;
}

static const msgpack_object *get(const msgpack_object *map, const char *key)
{
    if (map->type != MSGPACK_OBJECT_MAP) return NULL;
    for (uint32_t i = 0; i < map->via.map.size; i++)
        if (str_is(&map->via.map.ptr[i].key, key)) return &map->via.map.ptr[i].val;
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Subscribe                                                            */
/* ------------------------------------------------------------------ */

/* A filter value from the wire: int, float or str within bounds. */
static bool wire_val(const msgpack_object *o, bool numeric_only)
{
    switch (o->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        return o->via.u64 <= INT64_MAX;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return true;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return !isnan(o->via.f64);
    case MSGPACK_OBJECT_STR:
        return !numeric_only && o->via.str.size <= HIVE__RF_STR_MAX;
    default:
        return false;
    }
}

static void put_val(hive__rval *v, const msgpack_object *o, char **strs)
{
    memset(v, 0, sizeof *v);
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        v->type = HIVE_T_INT;
        v->u.i = (int64_t)o->via.u64;
    } else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        v->type = HIVE_T_INT;
        v->u.i = o->via.i64;
    } else if (o->type == MSGPACK_OBJECT_STR) {
        v->type = HIVE_T_STR;
        v->len = o->via.str.size;
        memcpy(*strs, o->via.str.ptr, v->len);
        (*strs)[v->len] = 0;
        v->u.s = *strs;
        *strs += v->len + 1;
    } else {
        v->type = HIVE_T_DOUBLE;
        v->u.d = o->via.f64;
    }
}

int hive__rsub_parse(const msgpack_object *o, hive__rspec **out, uint32_t *id, char *why)
{
    *out = NULL;
    *id = 0;
    if (o->type != MSGPACK_OBJECT_MAP) return fail(why, "the body is not a map%s", NULL);
    const msgpack_object *io = get(o, "id"), *po = get(o, "pattern"), *fo = get(o, "filters");
    if (!io || io->type != MSGPACK_OBJECT_POSITIVE_INTEGER || io->via.u64 == 0 || io->via.u64 > HIVE__RSUB_ID_MAX)
        return fail(why, "no id 1..2^31-1%s", NULL);
    *id = (uint32_t)io->via.u64;
    if (!po || po->type != MSGPACK_OBJECT_STR || po->via.str.size == 0 || po->via.str.size >= HIVE_NAME_MAX)
        return fail(why, "no pattern (a string of 1..127 bytes)%s", NULL);
    char pat[HIVE_NAME_MAX];
    memcpy(pat, po->via.str.ptr, po->via.str.size);
    pat[po->via.str.size] = 0;
    bool wild;
    if (strlen(pat) != po->via.str.size || hive__pattern_check(pat, &wild) != 0)
        return fail(why, "malformed pattern '%s'", pat);
    uint32_t nf = 0;
    size_t strs = po->via.str.size + 1, nvals = 0;
    if (fo && fo->type != MSGPACK_OBJECT_NIL) {
        if (fo->type != MSGPACK_OBJECT_ARRAY) return fail(why, "filters is not an array%s", NULL);
        nf = fo->via.array.size;
        if (nf > HIVE__RF_MAX) return fail(why, "more than " "8" " filters%s", NULL);
        for (uint32_t i = 0; i < nf; i++) {
            const msgpack_object *a = &fo->via.array.ptr[i];
            if (a->type != MSGPACK_OBJECT_ARRAY || a->via.array.size < 2) return fail(why, "a filter is not [key, op, ...]%s", NULL);
            const msgpack_object *k = &a->via.array.ptr[0], *op = &a->via.array.ptr[1];
            if (k->type != MSGPACK_OBJECT_STR || k->via.str.size == 0 || k->via.str.size > HIVE__RF_STR_MAX ||
                memchr(k->via.str.ptr, 0, k->via.str.size))
                return fail(why, "a filter's key is not a string of 1..255 bytes%s", NULL);
            strs += k->via.str.size + 1;
            uint32_t na = a->via.array.size;
            if (str_is(op, "eq")) {
                if (na != 3 || !wire_val(&a->via.array.ptr[2], false)) return fail(why, "eq takes one int, float or string%s", NULL);
                nvals += 1;
                if (a->via.array.ptr[2].type == MSGPACK_OBJECT_STR) strs += a->via.array.ptr[2].via.str.size + 1;
            } else if (str_is(op, "in")) {
                const msgpack_object *vs = na == 3 ? &a->via.array.ptr[2] : NULL;
                if (!vs || vs->type != MSGPACK_OBJECT_ARRAY || vs->via.array.size == 0 ||
                    vs->via.array.size > HIVE__RF_VALS_MAX)
                    return fail(why, "in takes an array of 1..32 values%s", NULL);
                for (uint32_t j = 0; j < vs->via.array.size; j++) {
                    if (!wire_val(&vs->via.array.ptr[j], false)) return fail(why, "in: a value is not an int, float or string%s", NULL);
                    if (vs->via.array.ptr[j].type == MSGPACK_OBJECT_STR) strs += vs->via.array.ptr[j].via.str.size + 1;
                }
                nvals += vs->via.array.size;
            } else if (str_is(op, "range")) {
                if (na != 4 || !wire_val(&a->via.array.ptr[2], true) || !wire_val(&a->via.array.ptr[3], true))
                    return fail(why, "range takes two numbers%s", NULL);
                nvals += 2;
            } else {
                return fail(why, "unknown filter op (eq, in, range)%s", NULL);
            }
        }
    } else if (fo && fo->type == MSGPACK_OBJECT_NIL) {
        fo = NULL;
    }
    size_t bytes = sizeof(hive__rspec) + nf * sizeof(hive__rfilter) + nvals * sizeof(hive__rval) + strs;
    hive__rspec *s = hive__calloc(1, bytes);
    if (!s) return HIVE_ENOMEM;
    s->bytes = bytes;
    s->id = *id;
    s->nf = (uint8_t)nf;
    s->f = (hive__rfilter *)(s + 1);
    hive__rval *vals = (hive__rval *)(s->f + nf);
    char *sp = (char *)(vals + nvals);
    memcpy(sp, pat, po->via.str.size + 1);
    s->pattern = sp;
    sp += po->via.str.size + 1;
    for (uint32_t i = 0; i < nf; i++) {
        const msgpack_object *a = &fo->via.array.ptr[i];
        hive__rfilter *f = &s->f[i];
        const msgpack_object *k = &a->via.array.ptr[0], *op = &a->via.array.ptr[1];
        memcpy(sp, k->via.str.ptr, k->via.str.size);
        sp[k->via.str.size] = 0;
        f->key = sp;
        sp += k->via.str.size + 1;
        f->v = vals;
        if (str_is(op, "eq")) {
            f->op = HIVE_FILTER_EQ;
            f->n = 1;
            put_val(vals++, &a->via.array.ptr[2], &sp);
        } else if (str_is(op, "in")) {
            const msgpack_object *vs = &a->via.array.ptr[2];
            f->op = HIVE_FILTER_IN;
            f->n = (uint16_t)vs->via.array.size;
            for (uint32_t j = 0; j < vs->via.array.size; j++) put_val(vals++, &vs->via.array.ptr[j], &sp);
        } else {
            f->op = HIVE_FILTER_RANGE;
            f->n = 2;
            put_val(vals++, &a->via.array.ptr[2], &sp);
            put_val(vals++, &a->via.array.ptr[3], &sp);
        }
    }
    *out = s;
    return HIVE_OK;
}

static int pack_val(hive_msg *m, hive_type t, int64_t i, double d, const char *s, char *why)
{
    if (t == HIVE_T_INT) return hive_msg_int(m, i) ? HIVE_ENOMEM : 0;
    if (t == HIVE_T_DOUBLE) {
        if (isnan(d)) return fail(why, "a filter value is NaN%s", NULL) == HIVE_EPROTO ? HIVE_EINVAL : 0;
        return hive_msg_double(m, d) ? HIVE_ENOMEM : 0;
    }
    if (t == HIVE_T_STR) {
        if (!s || strlen(s) > HIVE__RF_STR_MAX) {
            fail(why, "a filter string is NULL or longer than 255 bytes%s", NULL);
            return HIVE_EINVAL;
        }
        return hive_msg_str(m, s) ? HIVE_ENOMEM : 0;
    }
    fail(why, "a filter value's type is not HIVE_T_INT, HIVE_T_DOUBLE or HIVE_T_STR%s", NULL);
    return HIVE_EINVAL;
}

int hive__rsub_pack(hive_msg *m, uint32_t id, const char *pattern, const hive_filter *f, size_t n, char *why)
{
    bool wild;
    if (!pattern || hive__pattern_check(pattern, &wild) != 0) {
        fail(why, "malformed pattern '%s'", pattern);
        return HIVE_EINVAL;
    }
    if (n > HIVE__RF_MAX || (n && !f)) {
        fail(why, "at most 8 filters%s", NULL);
        return HIVE_EINVAL;
    }
    TRY(hive_msg_map(m, n ? 3 : 2));
    TRY(hive_msg_kv_uint(m, "id", id));
    TRY(hive_msg_kv_str(m, "pattern", pattern));
    if (!n) return HIVE_OK;
    TRY(hive_msg_str(m, "filters"));
    TRY(hive_msg_array(m, (uint32_t)n));
    for (size_t i = 0; i < n; i++) {
        const hive_filter *x = &f[i];
        if (!x->key || !*x->key || strlen(x->key) > HIVE__RF_STR_MAX) {
            fail(why, "a filter's key is empty or longer than 255 bytes%s", NULL);
            return HIVE_EINVAL;
        }
        int rc;
        if (x->op == HIVE_FILTER_EQ) {
            TRY(hive_msg_array(m, 3));
            TRY(hive_msg_str(m, x->key));
            TRY(hive_msg_str(m, "eq"));
            if ((rc = pack_val(m, x->type, x->i, x->d, x->s, why)) != 0) return rc;
        } else if (x->op == HIVE_FILTER_IN) {
            if (!x->n || x->n > HIVE__RF_VALS_MAX || (x->type == HIVE_T_STR ? !x->strs : x->type == HIVE_T_INT ? !x->ints : !x->doubles)) {
                fail(why, "in takes 1..32 values%s", NULL);
                return HIVE_EINVAL;
            }
            TRY(hive_msg_array(m, 3));
            TRY(hive_msg_str(m, x->key));
            TRY(hive_msg_str(m, "in"));
            TRY(hive_msg_array(m, (uint32_t)x->n));
            for (size_t j = 0; j < x->n; j++) {
                rc = pack_val(m, x->type, x->type == HIVE_T_INT ? x->ints[j] : 0,
                              x->type == HIVE_T_DOUBLE ? x->doubles[j] : 0, x->type == HIVE_T_STR ? x->strs[j] : NULL, why);
                if (rc) return rc;
            }
        } else if (x->op == HIVE_FILTER_RANGE) {
            if (isnan(x->lo) || isnan(x->hi)) {
                fail(why, "a range bound is NaN%s", NULL);
                return HIVE_EINVAL;
            }
            TRY(hive_msg_array(m, 4));
            TRY(hive_msg_str(m, x->key));
            TRY(hive_msg_str(m, "range"));
            TRY(hive_msg_double(m, x->lo));
            TRY(hive_msg_double(m, x->hi));
        } else {
            fail(why, "unknown filter op%s", NULL);
            return HIVE_EINVAL;
        }
    }
    return HIVE_OK;
}

/* ------------------------------------------------------------------ */
/* Matching                                                             */
/* ------------------------------------------------------------------ */

static const hive_field *field(const hive_field *fs, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (fs[i].key && strcmp(fs[i].key, key) == 0) return &fs[i];
    return NULL;
}

/* A field against one value: numbers by value (an int field equals 3.0),
 * strings by bytes; anything else never equals. */
static bool val_eq(const hive_field *x, const hive__rval *v)
{
    if (x->type == HIVE_T_STR) return v->type == HIVE_T_STR && x->v.str.len == v->len && memcmp(x->v.str.s, v->u.s, v->len) == 0;
    if (x->type == HIVE_T_INT) {
        if (v->type == HIVE_T_INT) return x->v.i == v->u.i;
        return v->type == HIVE_T_DOUBLE && (double)x->v.i == v->u.d;
    }
    if (x->type == HIVE_T_DOUBLE) {
        if (v->type == HIVE_T_DOUBLE) return x->v.d == v->u.d;
        return v->type == HIVE_T_INT && x->v.d == (double)v->u.i;
    }
    return false;
}

static bool num(const hive_field *x, double *out)
{
    if (x->type == HIVE_T_INT) *out = (double)x->v.i;
    else if (x->type == HIVE_T_DOUBLE) *out = x->v.d;
    else return false;
    return true;
}

static double vnum(const hive__rval *v) { return v->type == HIVE_T_INT ? (double)v->u.i : v->u.d; }

bool hive__rfilters_match(const hive__rspec *s, const hive_field *fields, size_t n)
{
    for (uint8_t i = 0; i < s->nf; i++) {
        const hive__rfilter *f = &s->f[i];
        const hive_field *x = field(fields, n, f->key);
        if (!x) return false;
        bool ok = false;
        if (f->op == HIVE_FILTER_RANGE) {
            double d;
            ok = num(x, &d) && d >= vnum(&f->v[0]) && d <= vnum(&f->v[1]);
        } else {
            for (uint16_t j = 0; j < f->n && !ok; j++) ok = val_eq(x, &f->v[j]);
        }
        if (!ok) return false;
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* Pattern inclusion                                                    */
/* ------------------------------------------------------------------ */

#define SEG_MAX 64

typedef struct segs {
    int n;
    char sep[SEG_MAX];          /* the separator before segment i (0 for the first) */
    const char *s[SEG_MAX];
    uint8_t len[SEG_MAX];
} segs;

static bool split(const char *p, segs *out)
{
    out->n = 0;
    const char *start = p;
    char sep = 0;
    for (const char *c = p;; c++) {
        if (*c == ':' || *c == '.' || *c == 0) {
            if (out->n == SEG_MAX) return false;
            out->sep[out->n] = sep;
            out->s[out->n] = start;
            out->len[out->n] = (uint8_t)(c - start);
            out->n++;
            if (!*c) return true;
            sep = *c;
            start = c + 1;
        }
    }
}

static bool is(const segs *x, int i, const char *w) { return x->len[i] == strlen(w) && memcmp(x->s[i], w, x->len[i]) == 0; }

/* Does e[i..] cover r[j..]? Each (i, j) is decided once (memo: 0 not yet,
 * 1 no, 2 yes): without it, a pattern of many `**` against another tried
 * every way of splitting one among the other's segments, exponential in
 * their number (a client's subscription request could take the server's
 * I/O thread for minutes; found by fuzz_remote). With it: at most
 * SEG_MAX^2 cells, each costing at most SEG_MAX steps. */
typedef struct covctx {
    const segs *e, *r;
    uint8_t memo[SEG_MAX + 1][SEG_MAX + 1];
} covctx;

static bool cov(covctx *x, int i, int j)
{
    const segs *e = x->e, *r = x->r;
    if (i == e->n || j == r->n) return i == e->n && j == r->n;
    if (x->memo[i][j]) return x->memo[i][j] == 2;
    bool ok;
    if (i && j && e->sep[i] != r->sep[j]) {
        ok = false;
    } else if (is(e, i, "**")) {
        ok = false;
        for (int k = j + 1; k <= r->n && !ok; k++)
            ok = cov(x, i + 1, k) && (i + 1 == e->n || k == r->n || e->sep[i + 1] == r->sep[k]);
    } else if (is(r, j, "**")) {
        ok = false;                                          /* only ** covers ** */
    } else if (is(e, i, "*")) {
        ok = cov(x, i + 1, j + 1);                           /* any one segment, or * */
    } else if (is(r, j, "*")) {
        ok = false;
    } else {
        ok = e->len[i] == r->len[j] && memcmp(e->s[i], r->s[j], e->len[i]) == 0 && cov(x, i + 1, j + 1);
    }
    x->memo[i][j] = ok ? 2 : 1;
    return ok;
}

bool hive__pattern_covers(const char *exp, const char *req)
{
    segs e, r;
    if (!split(exp, &e) || !split(req, &r)) return false;
    covctx x = { .e = &e, .r = &r };
    memset(x.memo, 0, sizeof x.memo);
    return cov(&x, 0, 0);
}

/* ------------------------------------------------------------------ */
/* Unsubscribe, answer                                                  */
/* ------------------------------------------------------------------ */

int hive__runsub_pack(hive_msg *m, uint32_t id)
{
    TRY(hive_msg_map(m, 1));
    return hive_msg_kv_uint(m, "id", id) ? HIVE_ENOMEM : 0;
}

int hive__runsub_parse(const msgpack_object *o, uint32_t *id)
{
    const msgpack_object *io = get(o, "id");
    if (!io || io->type != MSGPACK_OBJECT_POSITIVE_INTEGER || io->via.u64 == 0 || io->via.u64 > HIVE__RSUB_ID_MAX)
        return HIVE_EPROTO;
    *id = (uint32_t)io->via.u64;
    return HIVE_OK;
}

int hive__ranswer_pack(hive_msg *m, uint32_t id, bool ok, const char *reason)
{
    TRY(hive_msg_map(m, ok ? 2 : 3));
    TRY(hive_msg_kv_uint(m, "id", id));
    TRY(hive_msg_kv_bool(m, "ok", ok));
    if (!ok) TRY(hive_msg_kv_str(m, "reason", reason ? reason : ""));
    return HIVE_OK;
}

int hive__ranswer_parse(const msgpack_object *o, uint32_t *id, bool *ok, const char **reason, size_t *rlen)
{
    /* id 0 answers a request whose id could not be read. */
    const msgpack_object *io = get(o, "id");
    if (!io || io->type != MSGPACK_OBJECT_POSITIVE_INTEGER || io->via.u64 > HIVE__RSUB_ID_MAX) return HIVE_EPROTO;
    *id = (uint32_t)io->via.u64;
    const msgpack_object *k = get(o, "ok"), *r = get(o, "reason");
    if (!k || k->type != MSGPACK_OBJECT_BOOLEAN) return HIVE_EPROTO;
    *ok = k->via.boolean;
    *reason = "";
    *rlen = 0;
    if (r) {
        if (r->type != MSGPACK_OBJECT_STR || r->via.str.size > HIVE__REASON_MAX) return HIVE_EPROTO;
        *reason = r->via.str.ptr;
        *rlen = r->via.str.size;
    }
    return HIVE_OK;
}

/* ------------------------------------------------------------------ */
/* Remote event                                                         */
/* ------------------------------------------------------------------ */

int hive__revent_pack(hive_msg *m, const char *name, const hive_field *fields, size_t n, uint64_t dropped)
{
    size_t nf = 0;
    for (size_t i = 0; i < n; i++)
        if (fields[i].key && fields[i].type != HIVE_T_PTR && fields[i].type != HIVE_T_NONE) nf++;
    if (nf > HIVE__REV_FIELDS_MAX) nf = HIVE__REV_FIELDS_MAX;
    TRY(hive_msg_map(m, dropped ? 3 : 2));
    TRY(hive_msg_kv_str(m, "name", name));
    if (dropped) TRY(hive_msg_kv_uint(m, "dropped", dropped));
    TRY(hive_msg_str(m, "fields"));
    TRY(hive_msg_map(m, (uint32_t)nf));
    size_t put = 0;
    for (size_t i = 0; i < n && put < nf; i++) {
        const hive_field *f = &fields[i];
        if (!f->key || f->type == HIVE_T_PTR || f->type == HIVE_T_NONE) continue;
        TRY(hive_msg_str(m, f->key));
        switch (f->type) {
        case HIVE_T_INT: TRY(hive_msg_int(m, f->v.i)); break;
        case HIVE_T_DOUBLE: TRY(hive_msg_double(m, f->v.d)); break;
        case HIVE_T_STR: TRY(hive_msg_strn(m, f->v.str.s ? f->v.str.s : "", f->v.str.s ? f->v.str.len : 0)); break;
        case HIVE_T_BYTES: TRY(hive_msg_bin(m, f->v.bytes.p, f->v.bytes.len)); break;
        default:   /* MSGPACK */
            TRY(msgpack_pack_ext(&m->pk, f->v.mp.len, HIVE__EXT_MSGPACK));
            TRY(msgpack_pack_ext_body(&m->pk, f->v.mp.raw, f->v.mp.len));
            break;
        }
        put++;
    }
    return HIVE_OK;
}

int hive__revent_parse(const msgpack_object *o, const char **name, size_t *name_len, hive_field *fields,
                       size_t *n, uint64_t *dropped, msgpack_zone *zone, char *scratch, size_t cap)
{
    const msgpack_object *no = get(o, "name"), *fo = get(o, "fields"), *d = get(o, "dropped");
    *n = 0;
    *dropped = 0;
    if (!no || no->type != MSGPACK_OBJECT_STR || !hive__name_valid_n(no->via.str.ptr, no->via.str.size)) return HIVE_EPROTO;
    if (!fo || fo->type != MSGPACK_OBJECT_MAP || fo->via.map.size > HIVE__REV_FIELDS_MAX) return HIVE_EPROTO;
    if (d && d->type != MSGPACK_OBJECT_POSITIVE_INTEGER) return HIVE_EPROTO;
    if (d) *dropped = d->via.u64;
    *name = no->via.str.ptr;
    *name_len = no->via.str.size;
    size_t used = 0;
    for (uint32_t i = 0; i < fo->via.map.size; i++) {
        const msgpack_object *k = &fo->via.map.ptr[i].key, *v = &fo->via.map.ptr[i].val;
        if (k->type != MSGPACK_OBJECT_STR || k->via.str.size == 0 || memchr(k->via.str.ptr, 0, k->via.str.size))
            return HIVE_EPROTO;
        if (used + k->via.str.size + 1 > cap) return HIVE_EPROTO;
        char *key = scratch + used;
        memcpy(key, k->via.str.ptr, k->via.str.size);
        key[k->via.str.size] = 0;
        used += k->via.str.size + 1;
        hive_field *f = &fields[i];
        memset(f, 0, sizeof *f);
        f->key = key;
        switch (v->type) {
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            if (v->via.u64 > INT64_MAX) return HIVE_EPROTO;
            f->type = HIVE_T_INT;
            f->v.i = (int64_t)v->via.u64;
            break;
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            f->type = HIVE_T_INT;
            f->v.i = v->via.i64;
            break;
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            f->type = HIVE_T_DOUBLE;
            f->v.d = v->via.f64;
            break;
        case MSGPACK_OBJECT_STR: {
            if (memchr(v->via.str.ptr, 0, v->via.str.size) || used + v->via.str.size + 1 > cap) return HIVE_EPROTO;
            char *s = scratch + used;
            memcpy(s, v->via.str.ptr, v->via.str.size);
            s[v->via.str.size] = 0;
            used += v->via.str.size + 1;
            f->type = HIVE_T_STR;
            f->v.str.s = s;
            f->v.str.len = v->via.str.size;
            break;
        }
        case MSGPACK_OBJECT_BIN:
            f->type = HIVE_T_BYTES;
            f->v.bytes.p = v->via.bin.ptr;
            f->v.bytes.len = v->via.bin.size;
            break;
        case MSGPACK_OBJECT_EXT: {
            if (v->via.ext.type != HIVE__EXT_MSGPACK || hive__msgpack_scan((const uint8_t *)v->via.ext.ptr, v->via.ext.size))
                return HIVE_EPROTO;
            msgpack_object *obj = msgpack_zone_malloc(zone, sizeof *obj);
            size_t off = 0;
            if (!obj || msgpack_unpack(v->via.ext.ptr, v->via.ext.size, &off, zone, obj) != MSGPACK_UNPACK_SUCCESS)
                return HIVE_EPROTO;
            f->type = HIVE_T_MSGPACK;
            f->v.mp.raw = v->via.ext.ptr;
            f->v.mp.len = v->via.ext.size;
            f->v.mp.obj = obj;
            break;
        }
        default:
            return HIVE_EPROTO;
        }
        (*n)++;
    }
    return HIVE_OK;
}
