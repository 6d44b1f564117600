/* registry.c - packet type names <-> ids (hive/registry.h, net/registry_wire.h). */
#include "events/internal.h"
#include "net/wire/registry_wire.h"
#include "events/name_rules.h"
#include "hive/bus.h"      /* HIVE_NAME_MAX: packet names obey the bus rules */

#include <stdlib.h>
#include <string.h>

/*
 * Two sorted arrays instead of a hash table: tables hold tens to a few
 * hundred types, are built once at startup (or swapped whole from the
 * handshake), and read on every packet. Binary search over a compact
 * array is as fast as hashing at that size, and ordered iteration by id
 * comes for free (hive_registry_at, the wire encoding).
 */
typedef struct entry {
    char *name;
    uint32_t id;
    uint8_t delivery;
    uint8_t channel;     /* 0..HIVE_CHANNELS_MAX-1 */
} entry;

struct hive_registry {
    entry *by_id;        /* sorted by id; owns the names */
    size_t *by_name;     /* indexes into by_id, sorted by name */
    size_t n, cap;
};

hive_registry *hive_registry_create(void)
{
    return hive__calloc(1, sizeof(hive_registry));
}

void hive_registry_destroy(hive_registry *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) hive__free(r->by_id[i].name);
    hive__free(r->by_id);
    hive__free(r->by_name);
    hive__free(r);
}

/* Index of the first entry with id >= id. */
static size_t lower_id(const hive_registry *r, uint32_t id)
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->by_id[mid].id < id) lo = mid + 1; else hi = mid;
    }
    return lo;
}

/* Index of the first name >= name (compared as len bytes + implicit end). */
static size_t lower_name(const hive_registry *r, const char *name, size_t len, int *found)
{
    size_t lo = 0, hi = r->n;
    *found = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *m = r->by_id[r->by_name[mid]].name;
        int c = strncmp(m, name, len);
        if (c == 0 && m[len] != '\0') c = 1;   /* m is longer: m > name */
        if (c < 0) lo = mid + 1;
        else { if (c == 0) *found = 1; hi = mid; }
    }
    return lo;
}

static const entry *find_id(const hive_registry *r, uint32_t id)
{
    size_t i = lower_id(r, id);
    return (i < r->n && r->by_id[i].id == id) ? &r->by_id[i] : NULL;
}

static int grow(hive_registry *r)
{
    if (r->n < r->cap) return 0;
    size_t ncap = r->cap ? r->cap * 2 : 16;
    entry *ids = hive__realloc(r->by_id, ncap * sizeof *ids);
    if (!ids) return HIVE_ENOMEM;
    r->by_id = ids;
    size_t *names = hive__realloc(r->by_name, ncap * sizeof *names);
    if (!names) return HIVE_ENOMEM;   /* by_id is bigger, which is harmless */
    r->by_name = names;
    r->cap = ncap;
    return 0;
}

static int add_n(hive_registry *r, const char *name, size_t len, uint32_t id, uint8_t delivery)
{
    if (!hive__name_valid_n(name, len)) return HIVE_EINVAL;
    if (id != 0 && (id < HIVE_PID_USER_MIN || id > HIVE_PID_MAX)) return HIVE_EINVAL;
    int found;
    size_t ni = lower_name(r, name, len, &found);
    if (found) return HIVE_EEXIST;
    if (id == 0) {
        /* Smallest free id: walk the sorted ids from the user range up. */
        uint32_t cand = HIVE_PID_USER_MIN;
        for (size_t i = lower_id(r, cand); i < r->n && r->by_id[i].id == cand; i++) cand++;
        if (cand > HIVE_PID_MAX) return HIVE_ELIMIT;
        id = cand;
    } else if (find_id(r, id)) {
        return HIVE_EEXIST;
    }

    char *copy = hive__malloc(len + 1);
    if (!copy) return HIVE_ENOMEM;
    memcpy(copy, name, len);
    copy[len] = '\0';
    if (grow(r) != 0) { hive__free(copy); return HIVE_ENOMEM; }

    size_t ii = lower_id(r, id);
    /* Entries at ii.. move up one slot; so do the name indexes naming them. */
    for (size_t k = 0; k < r->n; k++)
        if (r->by_name[k] >= ii) r->by_name[k]++;
    memmove(r->by_id + ii + 1, r->by_id + ii, (r->n - ii) * sizeof *r->by_id);
    r->by_id[ii] = (entry){ copy, id, delivery, 0 };
    memmove(r->by_name + ni + 1, r->by_name + ni, (r->n - ni) * sizeof *r->by_name);
    r->by_name[ni] = ii;
    r->n++;
    return (int)id;
}

int hive_registry_add(hive_registry *r, const char *name, uint32_t id)
{
    if (!r || !name) return HIVE_EINVAL;
    return add_n(r, name, strlen(name), id, HIVE_RELIABLE);
}

int hive_registry_id(const hive_registry *r, const char *name)
{
    if (!r || !name) return HIVE_EINVAL;
    int found;
    size_t i = lower_name(r, name, strlen(name), &found);
    return found ? (int)r->by_id[r->by_name[i]].id : HIVE_ENOENT;
}

const char *hive_registry_name(const hive_registry *r, uint32_t id)
{
    if (!r) return NULL;
    const entry *e = find_id(r, id);
    return e ? e->name : NULL;
}

size_t hive_registry_count(const hive_registry *r)
{
    return r ? r->n : 0;
}

int hive_registry_at(const hive_registry *r, size_t idx, const char **name, uint32_t *id)
{
    if (!r) return HIVE_EINVAL;
    if (idx >= r->n) return HIVE_ENOENT;
    if (name) *name = r->by_id[idx].name;
    if (id) *id = r->by_id[idx].id;
    return 0;
}

int hive_registry_set_delivery(hive_registry *r, uint32_t id, hive_delivery d)
{
    if (!r || (d != HIVE_RELIABLE && d != HIVE_UNRELIABLE && d != HIVE_UNORDERED)) return HIVE_EINVAL;
    entry *e = (entry *)find_id(r, id);
    if (!e) return HIVE_ENOENT;
    e->delivery = (uint8_t)d;
    return 0;
}

hive_delivery hive_registry_delivery(const hive_registry *r, uint32_t id)
{
    const entry *e = r ? find_id(r, id) : NULL;
    return e ? (hive_delivery)e->delivery : HIVE_RELIABLE;
}

int hive_registry_set_channel(hive_registry *r, uint32_t id, unsigned channel)
{
    if (!r || channel >= HIVE_CHANNELS_MAX) return HIVE_EINVAL;
    entry *e = (entry *)find_id(r, id);
    if (!e) return HIVE_ENOENT;
    e->channel = (uint8_t)channel;
    return 0;
}

unsigned hive_registry_channel(const hive_registry *r, uint32_t id)
{
    const entry *e = r ? find_id(r, id) : NULL;
    return e ? e->channel : 0;
}

unsigned hive_registry_channels(const hive_registry *r)
{
    unsigned n = 1;
    for (size_t i = 0; r && i < r->n; i++)
        if (r->by_id[i].channel + 1u > n) n = r->by_id[i].channel + 1u;
    return n;
}

/* ------------------------------------------------------------------ */
/* Wire encoding: { name: id | [id, delivery] | [id, delivery, channel] } */
/* ------------------------------------------------------------------ */

int hive__registry_pack(const hive_registry *r, msgpack_packer *pk)
{
    return hive__registry_pack_ch(r, pk, true);
}

int hive__registry_pack_ch(const hive_registry *r, msgpack_packer *pk, bool channels)
{
    if (!r || !pk) return HIVE_EINVAL;
    if (r->n > UINT32_MAX) return HIVE_ELIMIT;
    if (msgpack_pack_map(pk, r->n)) return HIVE_ENOMEM;
    for (size_t i = 0; i < r->n; i++) {
        const entry *e = &r->by_id[i];
        size_t len = strlen(e->name);
        if (msgpack_pack_str(pk, len) || msgpack_pack_str_body(pk, e->name, len)) return HIVE_ENOMEM;
        /* The shortest form that says it all: a peer that predates
         * channels still reads every table that uses none. */
        uint8_t ch = channels ? e->channel : 0;
        if (e->delivery == HIVE_RELIABLE && !ch) {
            if (msgpack_pack_uint32(pk, e->id)) return HIVE_ENOMEM;
        } else {
            if (msgpack_pack_array(pk, ch ? 3 : 2) || msgpack_pack_uint32(pk, e->id) ||
                msgpack_pack_uint8(pk, e->delivery)) return HIVE_ENOMEM;
            if (ch && msgpack_pack_uint8(pk, ch)) return HIVE_ENOMEM;
        }
    }
    return 0;
}

/* One table entry's value -> id, delivery and channel; 0 or HIVE_EPROTO. */
static int entry_value(const msgpack_object *v, uint32_t *id, uint8_t *delivery, uint8_t *channel)
{
    const msgpack_object *idobj = v;
    *delivery = HIVE_RELIABLE;
    *channel = 0;
    if (v->type == MSGPACK_OBJECT_ARRAY) {
        if (v->via.array.size != 2 && v->via.array.size != 3) return HIVE_EPROTO;
        if (v->via.array.size == 3) {
            const msgpack_object *ch = &v->via.array.ptr[2];
            if (ch->type != MSGPACK_OBJECT_POSITIVE_INTEGER || ch->via.u64 >= HIVE_CHANNELS_MAX) return HIVE_EPROTO;
            *channel = (uint8_t)ch->via.u64;
        }
        idobj = &v->via.array.ptr[0];
        const msgpack_object *d = &v->via.array.ptr[1];
        if (d->type != MSGPACK_OBJECT_POSITIVE_INTEGER || d->via.u64 > HIVE_UNORDERED)
            return HIVE_EPROTO;
        *delivery = (uint8_t)d->via.u64;
    }
    if (idobj->type != MSGPACK_OBJECT_POSITIVE_INTEGER) return HIVE_EPROTO;
    if (idobj->via.u64 < HIVE_PID_USER_MIN || idobj->via.u64 > HIVE_PID_MAX) return HIVE_EPROTO;
    *id = (uint32_t)idobj->via.u64;
    return 0;
}

static int cmp_id(const void *a, const void *b)
{
    uint32_t x = ((const entry *)a)->id, y = ((const entry *)b)->id;
    return (x > y) - (x < y);
}

typedef struct name_ref { const char *name; size_t idx; } name_ref;

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const name_ref *)a)->name, ((const name_ref *)b)->name);
}

/*
 * Built in bulk rather than by repeated hive_registry_add: a table comes
 * from the network, and one-at-a-time sorted inserts cost O(n^2) - a
 * 1 MB table of 100k names took seconds. Collect, sort once, then reject
 * neighbours that collide: O(n log n) whatever the peer sends.
 */
int hive__registry_from_msgpack(const msgpack_object *obj, hive_registry **out)
{
    if (!obj || !out) return HIVE_EINVAL;
    if (obj->type != MSGPACK_OBJECT_MAP) return HIVE_EPROTO;
    size_t n = obj->via.map.size;
    hive_registry *r = hive_registry_create();
    name_ref *refs = NULL;
    int rc = HIVE_ENOMEM;
    if (!r) return HIVE_ENOMEM;
    if (n) {
        r->by_id = hive__calloc(n, sizeof *r->by_id);
        r->by_name = hive__calloc(n, sizeof *r->by_name);
        refs = hive__calloc(n, sizeof *refs);
        if (!r->by_id || !r->by_name || !refs) goto fail;
        r->cap = n;
    }
    for (size_t i = 0; i < n; i++) {
        const msgpack_object_kv *kv = &obj->via.map.ptr[i];
        entry e;
        if (kv->key.type != MSGPACK_OBJECT_STR ||
            !hive__name_valid_n(kv->key.via.str.ptr, kv->key.via.str.size)) { rc = HIVE_EPROTO; goto fail; }
        if ((rc = entry_value(&kv->val, &e.id, &e.delivery, &e.channel)) != 0) goto fail;
        rc = HIVE_ENOMEM;
        if (!(e.name = hive__malloc(kv->key.via.str.size + 1))) goto fail;
        memcpy(e.name, kv->key.via.str.ptr, kv->key.via.str.size);
        e.name[kv->key.via.str.size] = '\0';
        r->by_id[r->n++] = e;           /* owned by r from here: freed on failure */
    }
    rc = HIVE_EPROTO;                   /* duplicates from here on */
    if (n) qsort(r->by_id, n, sizeof *r->by_id, cmp_id);
    for (size_t i = 0; i < n; i++) {
        if (i && r->by_id[i].id == r->by_id[i - 1].id) goto fail;
        refs[i] = (name_ref){ r->by_id[i].name, i };
    }
    if (n) qsort(refs, n, sizeof *refs, cmp_name);
    for (size_t i = 0; i < n; i++) {
        if (i && strcmp(refs[i].name, refs[i - 1].name) == 0) goto fail;
        r->by_name[i] = refs[i].idx;
    }
    hive__free(refs);
    *out = r;
    return 0;
fail:
    hive__free(refs);
    hive_registry_destroy(r);
    return rc;
}
