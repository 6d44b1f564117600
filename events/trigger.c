/*
 * trigger.c - triggers: several events, all conditions, several actions.
 *
 * A trigger is one subscription record (kind TRIGGER) that sits in the
 * handler list of every id matching any of its events, so it runs in
 * priority order with the other subscriptions and is added or removed as
 * one unit.
 */
#include "events/internal.h"
#include "bus_internal.h"

#include <string.h>

static hive__sub *find_live(const hive_bus *bus, const char *name)
{
    for (size_t i = 0; i < bus->ntrigs; i++) {
        hive__sub *s = bus->trigs[i];
        if (!(hive__flags(s) & HIVE__SUB_DEAD) && strcmp(s->trig->name, name) == 0) return s;
    }
    return NULL;
}

static int check_desc(const hive_trigger_desc *d)
{
    if (!d->name || !d->name[0] || !d->events || d->nevents == 0 || !d->actions ||
        d->nactions == 0 || (d->nconds && !d->conds))
        return HIVE_EINVAL;
    for (size_t i = 0; i < d->nactions; i++)
        if (!d->actions[i].fn) return HIVE_EINVAL;
    for (size_t i = 0; i < d->nconds; i++)
        if (!d->conds[i].fn) return HIVE_EINVAL;
    for (size_t i = 0; i < d->nevents; i++) {
        if (!d->events[i]) return HIVE_EINVAL;
        bool wild;
        int rc = hive__pattern_check(d->events[i], &wild);
        if (rc) return rc;
    }
    return HIVE_OK;
}

static void *dup_array(const void *src, size_t n, size_t size)
{
    if (n == 0) return NULL;
    void *d = hive__malloc(n * size);
    if (d) memcpy(d, src, n * size);
    return d;
}

/* A trigger runs its actions; its record's handler slot is never called. */
static void no_handler(const hive_event *ev, void *user) { (void)ev; (void)user; }

int hive_bus_trigger_add(hive_bus *bus, const hive_trigger_desc *d)
{
    if (!bus || !d) return HIVE_EINVAL;
    int rc = check_desc(d);
    if (rc) return rc;
    if (find_live(bus, d->name)) return HIVE_EEXIST;

    /* Exact event names become ids now, so the scan in attach sees them.
     * A name interned here stays if a later step fails: harmless. */
    for (size_t i = 0; i < d->nevents; i++) {
        if (strchr(d->events[i], '*')) continue;
        hive_event_id id = hive_bus_intern(bus, d->events[i]);
        if (id < 0) return id;
    }

    hive_sub_opts opts = { .priority = d->priority };
    hive__sub *s = hive__sub_new(bus, HIVE__KIND_TRIGGER, no_handler, NULL, &opts);
    if (!s) return HIVE_ENOMEM;
    hive__trigger *t = hive__calloc(1, sizeof *t);
    s->trig = t;
    if (!t) goto nomem;
    t->single_shot = d->single_shot;
    t->name = hive__strdup(d->name);
    t->actions = dup_array(d->actions, d->nactions, sizeof d->actions[0]);
    t->conds = dup_array(d->conds, d->nconds, sizeof d->conds[0]);
    if (!t->name || !t->actions || (d->nconds && !t->conds)) goto nomem;
    t->nactions = d->nactions;
    t->nconds = d->nconds;
    s->patterns = hive__calloc(d->nevents, sizeof *s->patterns);
    if (!s->patterns) goto nomem;
    for (size_t i = 0; i < d->nevents; i++) {
        s->patterns[i] = hive__strdup(d->events[i]);
        if (!s->patterns[i]) goto nomem;
        s->npatterns++;
    }
    pthread_mutex_lock(&bus->lock);
    rc = hive__attach(bus, s);
    pthread_mutex_unlock(&bus->lock);
    if (rc) {
        hive__sub_free(s);
        return rc;
    }
    return HIVE_OK;
nomem:
    hive__sub_free(s);
    return HIVE_ENOMEM;
}

int hive_bus_trigger_remove(hive_bus *bus, const char *name)
{
    if (!bus || !name) return HIVE_EINVAL;
    hive__sub *s = find_live(bus, name);
    if (!s) return HIVE_ENOENT;
    hive__kill(bus, s);
    if (bus->depth == 0) hive__compact(bus);
    return HIVE_OK;
}

int hive_bus_trigger_find(const hive_bus *bus, const char *name, uint64_t *fired)
{
    if (!bus || !name) return HIVE_EINVAL;
    hive__sub *s = find_live(bus, name);
    if (!s) return HIVE_ENOENT;
    if (fired) *fired = s->trig->fired;
    return HIVE_OK;
}
