/*
 * fuzz_remote.c - libFuzzer target for the remote subscription decoders
 * (net/wire/remote.c): the subscribe body a client sends (filters
 * included), the server's answer and a remote event, and pattern
 * inclusion, which judges a client's pattern against the exports.
 *
 * Input: byte 0 chooses the decoder, the rest is a msgpack body (mode 3:
 * two NUL-separated patterns). Invariants (abort() = a crash):
 *   - an accepted subscribe has a valid pattern, at most HIVE_FILTERS_MAX
 *     filters of a known op with 1..HIVE_FILTER_VALUES_MAX values (range:
 *     exactly 2 numbers), NUL-ended keys and strings inside its block;
 *     evaluating it against fields made from its own values never fails;
 *   - an accepted remote event has a valid name, at most
 *     HIVE__REV_FIELDS_MAX fields of a type that travels, NUL-ended keys
 *     and strings in the scratch buffer, and re-encodes to a body that
 *     decodes to the same fields;
 *   - a pattern covers itself, and `**` covers every valid pattern;
 *   - no read past the input, no leak (ASan).
 */
#include "events/internal.h"
#include "events/bus_internal.h"
#include "net/wire/remote.h"
#include "net/wire/frame.h"

#include <stdlib.h>
#include <string.h>

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void subscribe(const msgpack_object *o)
{
    hive__rspec *s;
    uint32_t id;
    char why[HIVE__REASON_MAX + 1];
    int rc = hive__rsub_parse(o, &s, &id, why);
    if (rc != HIVE_OK) {
        CHECK(rc == HIVE_EPROTO || rc == HIVE_ENOMEM);
        CHECK(memchr(why, 0, sizeof why));
        return;
    }
    bool wild;
    CHECK(s->id == id && id > 0);
    CHECK(hive__pattern_check(s->pattern, &wild) == 0);
    CHECK(s->nf <= HIVE_FILTERS_MAX);
    const char *lo = (const char *)s, *hi = lo + s->bytes;
    hive_field fs[HIVE_FILTERS_MAX];
    for (uint8_t i = 0; i < s->nf; i++) {
        const hive__rfilter *f = &s->f[i];
        CHECK(f->key >= lo && f->key + strlen(f->key) < hi);
        CHECK(f->op >= HIVE_FILTER_EQ && f->op <= HIVE_FILTER_RANGE);
        CHECK(f->n >= 1 && f->n <= HIVE_FILTER_VALUES_MAX);
        if (f->op == HIVE_FILTER_RANGE) CHECK(f->n == 2 && f->v[0].type != HIVE_T_STR && f->v[1].type != HIVE_T_STR);
        for (uint16_t j = 0; j < f->n; j++)
            if (f->v[j].type == HIVE_T_STR) CHECK(f->v[j].u.s >= lo && f->v[j].u.s + f->v[j].len < hi && !f->v[j].u.s[f->v[j].len]);
        /* A field equal to the first value (or the low bound). */
        const hive__rval *v = &f->v[0];
        fs[i] = v->type == HIVE_T_INT ? HIVE_INT(f->key, v->u.i)
              : v->type == HIVE_T_DOUBLE ? HIVE_DOUBLE(f->key, v->u.d)
              : (hive_field){ .key = f->key, .type = HIVE_T_STR, .v.str = { v->u.s, v->len } };
    }
    /* Keys may repeat: only the first field of a key is seen, so a match
     * is certain only when every key is distinct and no range is empty. */
    bool distinct = true;
    for (uint8_t i = 0; i < s->nf; i++)
        for (uint8_t j = 0; j < i; j++)
            if (!strcmp(s->f[i].key, s->f[j].key)) distinct = false;
    for (uint8_t i = 0; i < s->nf; i++)
        if (s->f[i].op == HIVE_FILTER_RANGE) {
            double a = s->f[i].v[0].type == HIVE_T_INT ? (double)s->f[i].v[0].u.i : s->f[i].v[0].u.d;
            double b = s->f[i].v[1].type == HIVE_T_INT ? (double)s->f[i].v[1].u.i : s->f[i].v[1].u.d;
            if (!(a <= b) || s->f[i].v[0].type == HIVE_T_INT) distinct = false;   /* int->double may round */
        }
    bool m = hive__rfilters_match(s, fs, s->nf);
    if (distinct) CHECK(m);
    CHECK(hive__pattern_covers(s->pattern, s->pattern));
    CHECK(hive__pattern_covers("**", s->pattern));
    hive__free(s);
}

static void revent(const msgpack_object *o, size_t body_len)
{
    const char *name;
    size_t nlen, n;
    uint64_t dropped;
    hive_field f[HIVE__REV_FIELDS_MAX];
    size_t cap = body_len + 2 * HIVE__REV_FIELDS_MAX;
    char *scratch = malloc(cap);
    msgpack_zone *z = msgpack_zone_new(1024);
    CHECK(scratch && z);
    if (hive__revent_parse(o, &name, &nlen, f, &n, &dropped, z, scratch, cap) == HIVE_OK) {
        CHECK(n <= HIVE__REV_FIELDS_MAX);
        CHECK(hive__name_valid_n(name, nlen));
        for (size_t i = 0; i < n; i++) {
            CHECK(f[i].key >= scratch && f[i].key < scratch + cap);
            CHECK(f[i].type != HIVE_T_PTR && f[i].type != HIVE_T_NONE);
            if (f[i].type == HIVE_T_STR) CHECK(!f[i].v.str.s[f[i].v.str.len]);
        }
        char nm[HIVE_NAME_MAX];
        memcpy(nm, name, nlen);
        nm[nlen] = 0;
        hive_msg m;
        hive_msg_init(&m);
        CHECK(hive__revent_pack(&m, nm, f, n, dropped) == 0);
        msgpack_unpacked u;
        msgpack_unpacked_init(&u);
        size_t off = 0;
        CHECK(msgpack_unpack_next(&u, hive_msg_data(&m), hive_msg_size(&m), &off) == MSGPACK_UNPACK_SUCCESS);
        const char *name2;
        size_t nlen2, n2;
        uint64_t d2;
        hive_field f2[HIVE__REV_FIELDS_MAX];
        size_t cap2 = hive_msg_size(&m) + 2 * HIVE__REV_FIELDS_MAX;
        char *s2 = malloc(cap2);
        CHECK(s2);
        CHECK(hive__revent_parse(&u.data, &name2, &nlen2, f2, &n2, &d2, z, s2, cap2) == HIVE_OK);
        CHECK(nlen2 == nlen && !memcmp(name2, name, nlen) && n2 == n && d2 == dropped);
        for (size_t i = 0; i < n; i++) {
            CHECK(!strcmp(f2[i].key, f[i].key) && f2[i].type == f[i].type);
            if (f[i].type == HIVE_T_INT) CHECK(f2[i].v.i == f[i].v.i);
            if (f[i].type == HIVE_T_STR) CHECK(f2[i].v.str.len == f[i].v.str.len && !memcmp(f2[i].v.str.s, f[i].v.str.s, f[i].v.str.len));
            if (f[i].type == HIVE_T_BYTES) CHECK(f2[i].v.bytes.len == f[i].v.bytes.len);
            if (f[i].type == HIVE_T_MSGPACK) CHECK(f2[i].v.mp.len == f[i].v.mp.len && !memcmp(f2[i].v.mp.raw, f[i].v.mp.raw, f[i].v.mp.len));
        }
        free(s2);
        msgpack_unpacked_destroy(&u);
        hive_msg_free(&m);
    }
    msgpack_zone_free(z);
    free(scratch);
}

static void covers(const uint8_t *data, size_t size)
{
    char a[HIVE_NAME_MAX], b[HIVE_NAME_MAX];
    const uint8_t *nul = memchr(data, 0, size);
    if (!nul) return;
    size_t la = (size_t)(nul - data), lb = size - la - 1;
    if (la >= sizeof a || lb >= sizeof b) return;
    memcpy(a, data, la);
    a[la] = 0;
    memcpy(b, nul + 1, lb);
    b[lb] = 0;
    bool wild;
    if (hive__pattern_check(a, &wild) || hive__pattern_check(b, &wild)) return;
    bool c = hive__pattern_covers(a, b);
    CHECK(hive__pattern_covers(a, a));
    /* When a covers b and b is a plain name, a matches it. */
    if (c && !strchr(b, '*')) CHECK(hive__pattern_match(a, b));
    /* A plain name covers only itself. */
    if (!strchr(a, '*') && c) CHECK(!strcmp(a, b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t mode = data[0] % 4;
    data++;
    size--;
    if (mode == 3) {
        covers(data, size);
        return 0;
    }
    char *in = malloc(size ? size : 1);
    if (!in) return 0;
    memcpy(in, data, size);
    msgpack_zone *z = msgpack_zone_new(2048);
    msgpack_object o;
    size_t off = 0;
    if (z && hive__msgpack_scan((const uint8_t *)in, size) == 0 &&
        msgpack_unpack(in, size, &off, z, &o) == MSGPACK_UNPACK_SUCCESS) {
        if (mode == 0) subscribe(&o);
        else if (mode == 1) revent(&o, size);
        else {
            uint32_t id;
            bool ok;
            const char *r;
            size_t rl;
            if (hive__ranswer_parse(&o, &id, &ok, &r, &rl) == HIVE_OK) CHECK(rl <= HIVE__REASON_MAX);
            if (hive__runsub_parse(&o, &id) == HIVE_OK) CHECK(id > 0);
        }
    }
    if (z) msgpack_zone_free(z);
    free(in);
    return 0;
}
