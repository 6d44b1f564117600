/*
 * publish.c - synchronous delivery.
 *
 * The hot path is hive_bus_publish: a bounds check, the per-name counter,
 * one load of the handler list, and (when somebody listens) a loop that
 * calls plain handlers inline. Conditions, once, triggers and dead entries
 * take hive__deliver_slow. Nothing here allocates.
 */
#include "bus_internal.h"

static int run_trigger(hive_bus *bus, hive__sub *s, const hive_event *ev)
{
    const hive__trigger *t = s->trig;
    for (size_t i = 0; i < t->nconds; i++) {
        if (!t->conds[i].fn(ev, t->conds[i].user)) return 0;
        /* A condition may have removed its own trigger. */
        if (hive__flags(s) & HIVE__SUB_DEAD) return 0;
    }
    if (t->single_shot) hive__kill(bus, s);
    s->trig->fired++;
    /* A firing runs all its actions, even if one removes the trigger: the
     * record stays alive until the outermost delivery returns. */
    for (size_t i = 0; i < t->nactions; i++) t->actions[i].fn(ev, t->actions[i].user);
    return (int)t->nactions;
}

int hive__deliver_slow(hive_bus *bus, hive__sub *s, uint32_t fl, const hive_event *ev)
{
    if (fl & HIVE__SUB_DEAD) return 0;
    if (fl & HIVE__SUB_TRIGGER) return run_trigger(bus, s, ev);
    if (fl & HIVE__SUB_COND) {
        if (!s->cond(ev, s->cond_user)) return 0;
        if (hive__flags(s) & HIVE__SUB_DEAD) return 0; /* the condition unsubscribed it */
    }
    /* Dead before the call, so a nested publish of the same event cannot
     * run a once handler twice. */
    if (fl & HIVE__SUB_ONCE) hive__kill(bus, s);
    s->fn(ev, s->user);
    return 1;
}

/* The general case, out of line so that the common cases stay small. */
__attribute__((noinline))
static int publish_to(hive_bus *bus, const hive__name *e, const hive__list *l,
                      hive_event_id id, const hive_field *fields, size_t n)
{
    return hive__deliver(bus, e, l, id, fields, n);
}

int hive_bus_publish(hive_bus *bus, hive_event_id id, const hive_field *fields, size_t n)
{
    if (HIVE__UNLIKELY(!bus || !hive__valid_id(bus, id))) return HIVE_EINVAL;
    hive__name *e = hive__entry(bus, id);
    hive__count(&e->npub, 1);
    hive__list *l = __atomic_load_n(&e->list, __ATOMIC_ACQUIRE);
    if (HIVE__UNLIKELY(l == NULL)) return 0;
    if (HIVE__UNLIKELY(!fields) && n) return HIVE_EINVAL;
    hive__sub *s = l->items[0];
    if (HIVE__LIKELY(l->n == 1 && hive__flags(s) == 0)) {
        hive_event ev = { bus, id, e->str, fields, n };
        int depth = bus->depth;
        bus->depth = depth + 1;
        s->fn(&ev, s->user);
        hive_bus *b = ev.bus;
        b->depth = depth;
        hive__count(&b->delivered, 1);
        if (HIVE__UNLIKELY(b->pending)) hive__after_delivery(b, depth);
        return 1;
    }
    return publish_to(bus, e, l, id, fields, n);
}

int hive_bus_publish_name(hive_bus *bus, const char *name, const hive_field *fields, size_t n)
{
    if (!bus || !name) return HIVE_EINVAL;
    hive_event_id id = hive_bus_lookup(bus, name);
    if (id < 0) id = hive_bus_intern(bus, name);
    if (id < 0) return id;
    return hive_bus_publish(bus, id, fields, n);
}

bool hive_bus_wants(const hive_bus *bus, hive_event_id id)
{
    if (!bus || !hive__valid_id(bus, id)) return false;
    return __atomic_load_n(&hive__entry(bus, id)->list, __ATOMIC_RELAXED) != NULL;
}
