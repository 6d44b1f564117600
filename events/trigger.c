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

/* Installs conds[0..n) (owned) as t's; the old array is freed now, or
 * kept until the trigger goes when a delivery may be reading it. */
static int swap_conds(hive_bus *bus, hive__trigger *t, hive_trigger_cond *conds, size_t n)
{
    if (bus->depth && t->conds) {
        hive_trigger_cond **r = hive__realloc(t->retired, (t->nretired + 1) * sizeof *r);
        if (!r) {
            hive__free(conds);
            return HIVE_ENOMEM;
        }
        t->retired = r;
        t->retired[t->nretired++] = t->conds;
    } else {
        hive__free(t->conds);
    }
    t->conds = conds;
    t->nconds = n;
    return HIVE_OK;
}

int hive_bus_trigger_cond_add(hive_bus *bus, const char *name, hive_trigger_cond cond)
{
    if (!bus || !name || !cond.fn) return HIVE_EINVAL;
    hive__sub *s = find_live(bus, name);
    if (!s) return HIVE_ENOENT;
    hive__trigger *t = s->trig;
    hive_trigger_cond *c = hive__malloc((t->nconds + 1) * sizeof *c);
    if (!c) return HIVE_ENOMEM;
    if (t->nconds) memcpy(c, t->conds, t->nconds * sizeof *c);
    c[t->nconds] = cond;
    return swap_conds(bus, t, c, t->nconds + 1);
}

int hive_bus_trigger_cond_remove(hive_bus *bus, const char *name, hive_trigger_cond cond)
{
    if (!bus || !name || !cond.fn) return HIVE_EINVAL;
    hive__sub *s = find_live(bus, name);
    if (!s) return HIVE_ENOENT;
    hive__trigger *t = s->trig;
    size_t i = 0;
    while (i < t->nconds && !(t->conds[i].fn == cond.fn && t->conds[i].user == cond.user)) i++;
    if (i == t->nconds) return HIVE_ENOENT;
    hive_trigger_cond *c = NULL;
    if (t->nconds > 1) {
        if (!(c = hive__malloc((t->nconds - 1) * sizeof *c))) return HIVE_ENOMEM;
        memcpy(c, t->conds, i * sizeof *c);
        memcpy(c + i, t->conds + i + 1, (t->nconds - i - 1) * sizeof *c);
    }
    return swap_conds(bus, t, c, t->nconds - 1);
}

size_t hive_bus_trigger_conds(const hive_bus *bus, const char *name)
{
    hive__sub *s = bus && name ? find_live(bus, name) : NULL;
    return s ? s->trig->nconds : 0;
}

int hive_bus_subscribe_desc(hive_bus *bus, const hive_handler_desc *d, void *user)
{
    if (!bus || !d || !d->pattern || !d->fn) return HIVE_EINVAL;
    hive_sub_opts o = { .priority = d->priority, .once = d->once, .cond = d->cond, .cond_user = d->cond ? user : NULL };
    return hive_bus_subscribe(bus, d->pattern, d->fn, user, &o);
}

int hive_bus_subscribe_all(hive_bus *bus, const hive_handler_desc *d, size_t n, void *user, int *ids)
{
    if (!bus || (n && !d)) return HIVE_EINVAL;
    int *mine = ids ? ids : hive__malloc((n ? n : 1) * sizeof *mine);
    if (!mine) return HIVE_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        int id = hive_bus_subscribe_desc(bus, &d[i], user);
        if (id < 0) {
            /* All or nothing: the ones already made go again. */
            for (size_t j = 0; j < i; j++) hive_bus_unsubscribe(bus, mine[j]);
            if (mine != ids) hive__free(mine);
            return id;
        }
        mine[i] = id;
    }
    if (mine != ids) hive__free(mine);
    return (int)n;
}
