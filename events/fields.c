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

const char hive__ev_live = 0;

int hive_event_attach(const hive_event *ev, const void *key, void *data, void (*release)(void *data))
{
    if (!ev || !key || !release) return HIVE_EINVAL;
    if (!ev->tmp_.key) return HIVE_ESTATE;
    if (ev->tmp_.key != &hive__ev_live) return HIVE_EEXIST;
    /* The event a handler gets is the delivery's own (non-const) local;
     * only the view handed out is const. */
    hive_event *w = (hive_event *)ev;
    w->tmp_.key = key;
    w->tmp_.data = data;
    w->tmp_.release = release;
    return HIVE_OK;
}

void *hive_event_attached(const hive_event *ev, const void *key)
{
    if (!ev || !key || ev->tmp_.key != key) return NULL;
    return ev->tmp_.data;
}
