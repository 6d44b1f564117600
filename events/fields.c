/* fields.c - reading an event's typed fields by key. */
#include "bus_internal.h"

#include <string.h>

const hive_field *hive_event_field(const hive_event *ev, const char *key)
{
    if (!ev || !key || (ev->nfields && !ev->fields)) return NULL;
    for (size_t i = 0; i < ev->nfields; i++) {
        const hive_field *f = &ev->fields[i];
        /* Keys are usually string literals: try the pointer first. */
        if (f->key == key || (f->key && strcmp(f->key, key) == 0)) return f;
    }
    return NULL;
}

/* The field, or the getter's error in *rc. */
static const hive_field *get(const hive_event *ev, const char *key, hive_type t, int *rc)
{
    if (!ev || !key) {
        *rc = HIVE_EINVAL;
        return NULL;
    }
    const hive_field *f = hive_event_field(ev, key);
    *rc = !f ? HIVE_ENOENT : f->type != t ? HIVE_ETYPE : HIVE_OK;
    return *rc ? NULL : f;
}

int hive_event_get_int(const hive_event *ev, const char *key, int64_t *out)
{
    int rc;
    const hive_field *f = get(ev, key, HIVE_T_INT, &rc);
    if (f && out) *out = f->v.i;
    return rc;
}

int hive_event_get_double(const hive_event *ev, const char *key, double *out)
{
    int rc;
    const hive_field *f = get(ev, key, HIVE_T_DOUBLE, &rc);
    if (f && out) *out = f->v.d;
    return rc;
}

int hive_event_get_str(const hive_event *ev, const char *key, const char **out, size_t *len)
{
    int rc;
    const hive_field *f = get(ev, key, HIVE_T_STR, &rc);
    if (f) {
        if (out) *out = f->v.str.s;
        if (len) *len = f->v.str.len;
    }
    return rc;
}

int hive_event_get_bytes(const hive_event *ev, const char *key, const void **out, size_t *len)
{
    int rc;
    const hive_field *f = get(ev, key, HIVE_T_BYTES, &rc);
    if (f) {
        if (out) *out = f->v.bytes.p;
        if (len) *len = f->v.bytes.len;
    }
    return rc;
}

int hive_event_get_ptr(const hive_event *ev, const char *key, void **out)
{
    int rc;
    const hive_field *f = get(ev, key, HIVE_T_PTR, &rc);
    if (f && out) *out = f->v.ptr;
    return rc;
}

int hive_event_get_msgpack(const hive_event *ev, const char *key,
                           const void **raw, size_t *len, const void **obj)
{
    int rc;
    const hive_field *f = get(ev, key, HIVE_T_MSGPACK, &rc);
    if (f) {
        if (raw) *raw = f->v.mp.raw;
        if (len) *len = f->v.mp.len;
        if (obj) *obj = f->v.mp.obj;
    }
    return rc;
}

int64_t hive_event_int(const hive_event *ev, const char *key, int64_t def)
{
    int64_t v;
    return hive_event_get_int(ev, key, &v) == HIVE_OK ? v : def;
}

double hive_event_double(const hive_event *ev, const char *key, double def)
{
    const hive_field *f = hive_event_field(ev, key);
    if (!f) return def;
    if (f->type == HIVE_T_DOUBLE) return f->v.d;
    if (f->type == HIVE_T_INT) return (double)f->v.i;
    return def;
}

const char *hive_event_str(const hive_event *ev, const char *key)
{
    const char *s;
    return hive_event_get_str(ev, key, &s, NULL) == HIVE_OK ? s : NULL;
}

void *hive_event_ptr(const hive_event *ev, const char *key)
{
    void *p;
    return hive_event_get_ptr(ev, key, &p) == HIVE_OK ? p : NULL;
}

/* ---- A delivery's temporary ---- */

/* The temporaries live in the bus, not in the event, and announce
 * themselves through bus->pending: hive_bus_publish's hot path pays
 * nothing for them beyond the flag test it already made. */

void hive__after_delivery(hive_bus *bus, int depth)
{
    /* Innermost first; a release may not attach (no delivery runs). */
    while (bus->ntmp > 0 && bus->tmp[bus->ntmp - 1].depth > depth) {
        struct hive__tmp *t = &bus->tmp[--bus->ntmp];
        t->release(t->data);
    }
    if (depth != 0) return;
    if (bus->dead || bus->garbage) hive__compact(bus);
    else bus->pending = false;          /* it was only temporaries */
}

int hive_event_attach(const hive_event *ev, const void *key, void *data, void (*release)(void *data))
{
    if (!ev || !key || !release) return HIVE_EINVAL;
    hive_bus *bus = ev->bus;
    if (!bus || bus->depth == 0) return HIVE_ESTATE;
    for (int i = 0; i < bus->ntmp; i++)
        if (bus->tmp[i].ev == ev && bus->tmp[i].key == key) return HIVE_EEXIST;
    if (bus->ntmp >= HIVE__TMP_MAX) return HIVE_ELIMIT;
    bus->tmp[bus->ntmp++] = (struct hive__tmp){ ev, key, data, release, bus->depth };
    bus->pending = true;
    return HIVE_OK;
}

void *hive_event_attached(const hive_event *ev, const void *key)
{
    if (!ev || !key || !ev->bus) return NULL;
    const hive_bus *bus = ev->bus;
    for (int i = bus->ntmp - 1; i >= 0; i--)
        if (bus->tmp[i].ev == ev && bus->tmp[i].key == key) return bus->tmp[i].data;
    return NULL;
}
