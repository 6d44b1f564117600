/* expect.c - waiting for an event with a timeout, and event copies (hive/bus.h). */
#include "events/internal.h"
#include "events/bus_internal.h"

#include <string.h>

typedef struct hive__expect {
    int id, sub;
    uint64_t deadline;          /* ns, 0: none */
    hive_expect_fn fn;
    void *user;
    hive_bus *bus;
    struct hive__expect *next;
} hive__expect;

struct hive__expects {
    hive__expect *head;
    int next_id;
};

static void unlink_ex(hive_bus *bus, hive__expect *e)
{
    for (hive__expect **p = &bus->ex->head; *p; p = &(*p)->next)
        if (*p == e) {
            *p = e->next;
            return;
        }
}

static void fired(const hive_event *ev, void *user)
{
    hive__expect *e = user;
    /* A once subscription: the bus removed it before this runs. */
    unlink_ex(e->bus, e);
    hive_expect_fn fn = e->fn;
    void *u = e->user;
    hive__free(e);
    fn(ev, u);
}

int hive_bus_expect(hive_bus *bus, const char *pattern, hive_condition cond, void *cond_user, uint32_t timeout_ms,
                    hive_expect_fn fn, void *user)
{
    if (!bus || !pattern || !fn) return HIVE_EINVAL;
    if (!bus->ex && !(bus->ex = hive__calloc(1, sizeof *bus->ex))) return HIVE_ENOMEM;
    hive__expect *e = hive__calloc(1, sizeof *e);
    if (!e) return HIVE_ENOMEM;
    hive_sub_opts o = { .once = true, .cond = cond, .cond_user = cond_user, .priority = INT32_MIN };
    int sub = hive_bus_subscribe(bus, pattern, fired, e, &o);
    if (sub < 0) {
        hive__free(e);
        return sub;
    }
    e->id = ++bus->ex->next_id;
    if (e->id <= 0) e->id = bus->ex->next_id = 1;
    e->sub = sub;
    e->deadline = timeout_ms ? hive_now_ns() + (uint64_t)timeout_ms * 1000000u : 0;
    e->fn = fn;
    e->user = user;
    e->bus = bus;
    e->next = bus->ex->head;
    bus->ex->head = e;
    return e->id;
}

int hive_bus_expect_cancel(hive_bus *bus, int id)
{
    if (!bus) return HIVE_EINVAL;
    for (hive__expect *e = bus->ex ? bus->ex->head : NULL; e; e = e->next)
        if (e->id == id) {
            hive_bus_unsubscribe(bus, e->sub);
            unlink_ex(bus, e);
            hive__free(e);
            return HIVE_OK;
        }
    return HIVE_ENOENT;
}

int hive_bus_expire(hive_bus *bus)
{
    if (!bus || !bus->ex || !bus->ex->head) return 0;
    uint64_t now = hive_now_ns();
    int n = 0;
    /* One at a time from the head: a callback may add or cancel. */
    for (;;) {
        hive__expect *e = bus->ex->head;
        while (e && !(e->deadline && e->deadline <= now)) e = e->next;
        if (!e) return n;
        hive_bus_unsubscribe(bus, e->sub);
        unlink_ex(bus, e);
        hive_expect_fn fn = e->fn;
        void *u = e->user;
        hive__free(e);
        fn(NULL, u);
        n++;
    }
}

void hive__expects_free(hive_bus *bus)
{
    if (!bus->ex) return;
    while (bus->ex->head) {
        hive__expect *e = bus->ex->head;
        bus->ex->head = e->next;
        hive__free(e);
    }
    hive__free(bus->ex);
    bus->ex = NULL;
}

/* ---- Copies ---- */

struct hive_event_copy_store {
    hive_event_copy c;
    hive_field f[];
};

hive_event_copy *hive_event_copy_make(const hive_event *ev)
{
    if (!ev) return NULL;
    size_t names = ev->name ? strlen(ev->name) + 1 : 1, bytes = names;
    for (size_t i = 0; i < ev->nfields; i++) {
        const hive_field *f = &ev->fields[i];
        bytes += (f->key ? strlen(f->key) : 0) + 1;
        if (f->type == HIVE_T_STR) bytes += (f->v.str.s ? f->v.str.len : 0) + 1;
        else if (f->type == HIVE_T_BYTES) bytes += f->v.bytes.len;
        else if (f->type == HIVE_T_MSGPACK) bytes += f->v.mp.len;
    }
    struct hive_event_copy_store *s = hive__malloc(sizeof *s + ev->nfields * sizeof(hive_field) + bytes);
    if (!s) return NULL;
    char *pay = (char *)(s->f + ev->nfields);
    memcpy(pay, ev->name ? ev->name : "", names);
    s->c.ev = (hive_event){ .bus = ev->bus, .id = ev->id, .name = pay, .fields = s->f, .nfields = ev->nfields };
    pay += names;
    for (size_t i = 0; i < ev->nfields; i++) {
        hive_field f = ev->fields[i];
        size_t kl = f.key ? strlen(f.key) : 0;
        memcpy(pay, f.key ? f.key : "", kl + 1);
        f.key = pay;
        pay += kl + 1;
        if (f.type == HIVE_T_STR) {
            size_t l = f.v.str.s ? f.v.str.len : 0;
            if (l) memcpy(pay, f.v.str.s, l);
            pay[l] = 0;
            f.v.str.s = pay;
            f.v.str.len = l;
            pay += l + 1;
        } else if (f.type == HIVE_T_BYTES) {
            if (f.v.bytes.len) memcpy(pay, f.v.bytes.p, f.v.bytes.len);
            f.v.bytes.p = pay;
            pay += f.v.bytes.len;
        } else if (f.type == HIVE_T_MSGPACK) {
            if (f.v.mp.len) memcpy(pay, f.v.mp.raw, f.v.mp.len);
            f.v.mp.raw = pay;
            f.v.mp.obj = NULL;   /* it pointed into the delivery's zone */
            pay += f.v.mp.len;
        }
        s->f[i] = f;
    }
    return &s->c;
}

void hive_event_copy_free(hive_event_copy *c) { hive__free(c); }
