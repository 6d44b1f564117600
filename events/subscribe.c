/*
 * subscribe.c - subscriptions, observers, and the handler lists they build.
 *
 * Every id has one priority-sorted list of the subscriptions that match
 * it (exact, pattern, trigger, observer), computed when a subscription or
 * a name is added, so publish only walks an array. Adding builds new lists
 * first and swaps them in only when all allocations succeeded. A list that
 * a delivery may be walking is never modified: it is replaced, and the old
 * one is freed when the outermost delivery returns.
 */
#include "events/internal.h"
#include "bus_internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Observers last; then higher priority first; then subscription order. */
static int sub_cmp(const hive__sub *a, const hive__sub *b)
{
    bool ao = a->kind == HIVE__KIND_OBSERVER, bo = b->kind == HIVE__KIND_OBSERVER;
    if (ao != bo) return ao ? 1 : -1;
    if (a->priority != b->priority) return a->priority > b->priority ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

static int sub_qcmp(const void *a, const void *b)
{
    return sub_cmp(*(hive__sub *const *)a, *(hive__sub *const *)b);
}

static bool is_dead(const hive__sub *s) { return hive__flags(s) & HIVE__SUB_DEAD; }

static bool sub_matches(const hive__sub *s, const char *name)
{
    if (s->kind == HIVE__KIND_OBSERVER) return true;
    for (size_t i = 0; i < s->npatterns; i++)
        if (hive__pattern_match(s->patterns[i], name)) return true;
    return false;
}

static hive__list *list_alloc(uint32_t n)
{
    hive__list *l = hive__malloc(sizeof *l + n * sizeof l->items[0]);
    if (l) {
        l->n = n;
        l->next_garbage = NULL;
    }
    return l;
}

/* Caller holds bus->lock; may run on any thread. The owner may flag a sub
 * dead meanwhile (flags only ever gain DEAD), so the second pass can find
 * fewer than the first; a dead sub that slips in is cleaned up by the
 * compaction that its death scheduled. */
int hive__list_for_new_name(hive_bus *bus, const char *name, hive__list **out)
{
    *out = NULL;
    uint32_t n = 0;
    for (size_t i = 0; i < bus->npsubs; i++)
        if (!is_dead(bus->psubs[i]) && sub_matches(bus->psubs[i], name)) n++;
    if (n == 0) return HIVE_OK;
    hive__list *l = list_alloc(n);
    if (!l) return HIVE_ENOMEM;
    uint32_t k = 0;
    for (size_t i = 0; i < bus->npsubs && k < n; i++)
        if (!is_dead(bus->psubs[i]) && sub_matches(bus->psubs[i], name))
            l->items[k++] = bus->psubs[i];
    if (k == 0) {
        hive__free(l);
        return HIVE_OK;
    }
    l->n = k;
    qsort(l->items, k, sizeof l->items[0], sub_qcmp);
    *out = l;
    return HIVE_OK;
}

/* old's live entries plus s, in order. */
static hive__list *list_with(const hive__list *old, hive__sub *s)
{
    uint32_t live = 0;
    if (old)
        for (uint32_t i = 0; i < old->n; i++) live += !is_dead(old->items[i]);
    hive__list *l = list_alloc(live + 1);
    if (!l) return NULL;
    uint32_t j = 0;
    bool placed = false;
    if (old) {
        for (uint32_t i = 0; i < old->n; i++) {
            hive__sub *t = old->items[i];
            if (is_dead(t)) continue;
            if (!placed && sub_cmp(s, t) < 0) {
                l->items[j++] = s;
                placed = true;
            }
            l->items[j++] = t;
        }
    }
    if (!placed) l->items[j++] = s;
    return l;
}

static void retire(hive_bus *bus, hive__list *old)
{
    if (!old) return;
    if (bus->depth == 0) {
        hive__free(old);
    } else {
        old->next_garbage = bus->garbage;
        bus->garbage = old;
        bus->pending = true;
    }
}

static int reserve(hive__sub ***arr, size_t *cap, size_t need)
{
    if (need <= *cap) return HIVE_OK;
    size_t nc = *cap ? *cap * 2 : 8;
    while (nc < need) nc *= 2;
    hive__sub **p = hive__realloc(*arr, nc * sizeof *p);
    if (!p) return HIVE_ENOMEM;
    *arr = p;
    *cap = nc;
    return HIVE_OK;
}

typedef struct change {
    hive_event_id id;
    hive__list *list;
} change;

int hive__attach(hive_bus *bus, hive__sub *s)
{
    uint32_t nn = __atomic_load_n(&bus->nnames, __ATOMIC_RELAXED);
    size_t cnt = 0;
    if (s->kind == HIVE__KIND_EXACT) {
        cnt = 1;
    } else {
        for (uint32_t id = 1; id <= nn; id++)
            cnt += sub_matches(s, hive__entry(bus, (hive_event_id)id)->str);
    }
    change *ch = NULL;
    if (cnt) {
        ch = hive__calloc(cnt, sizeof *ch);
        if (!ch) return HIVE_ENOMEM;
    }
    size_t k = 0;
    if (s->kind == HIVE__KIND_EXACT) {
        ch[k++].id = s->exact;
    } else {
        for (uint32_t id = 1; id <= nn && k < cnt; id++)
            if (sub_matches(s, hive__entry(bus, (hive_event_id)id)->str))
                ch[k++].id = (hive_event_id)id;
    }
    int rc = HIVE_OK;
    for (size_t i = 0; i < cnt && !rc; i++) {
        hive__name *e = hive__entry(bus, ch[i].id);
        ch[i].list = list_with(__atomic_load_n(&e->list, __ATOMIC_RELAXED), s);
        if (!ch[i].list) rc = HIVE_ENOMEM;
    }
    if (!rc && s->id) rc = reserve(&bus->subs, &bus->subs_cap, bus->nsubs + 1);
    if (!rc && s->kind != HIVE__KIND_EXACT)
        rc = reserve(&bus->psubs, &bus->psubs_cap, bus->npsubs + 1);
    if (!rc && s->kind == HIVE__KIND_TRIGGER)
        rc = reserve(&bus->trigs, &bus->trigs_cap, bus->ntrigs + 1);
    if (rc) {
        for (size_t i = 0; i < cnt; i++) hive__free(ch[i].list);
        hive__free(ch);
        return rc;
    }

    /* Commit: nothing below can fail. */
    for (size_t i = 0; i < cnt; i++) {
        hive__name *e = hive__entry(bus, ch[i].id);
        hive__list *old = __atomic_load_n(&e->list, __ATOMIC_RELAXED);
        __atomic_store_n(&e->list, ch[i].list, __ATOMIC_RELEASE);
        retire(bus, old);
    }
    hive__free(ch);
    if (s->id) bus->subs[bus->nsubs++] = s; /* ids grow: stays sorted */
    if (s->kind != HIVE__KIND_EXACT) bus->psubs[bus->npsubs++] = s;
    if (s->kind == HIVE__KIND_TRIGGER) {
        bus->trigs[bus->ntrigs++] = s;
        __atomic_fetch_add(&bus->live_trigs, 1, __ATOMIC_RELAXED);
    } else {
        __atomic_fetch_add(&bus->live_subs, 1, __ATOMIC_RELAXED);
    }
    return HIVE_OK;
}

hive__sub *hive__sub_new(hive_bus *bus, hive__kind kind, hive_handler fn,
                         void *user, const hive_sub_opts *opts)
{
    if (kind != HIVE__KIND_TRIGGER && bus->next_sub_id == INT_MAX) return NULL;
    hive__sub *s = hive__calloc(1, sizeof *s);
    if (!s) return NULL;
    uint32_t fl = kind == HIVE__KIND_TRIGGER ? HIVE__SUB_TRIGGER : 0;
    if (opts) {
        s->priority = opts->priority;
        if (opts->once) fl |= HIVE__SUB_ONCE;
        if (opts->cond) {
            fl |= HIVE__SUB_COND;
            s->cond = opts->cond;
            s->cond_user = opts->cond_user;
        }
    }
    __atomic_store_n(&s->flags, fl, __ATOMIC_RELAXED);
    s->kind = kind;
    s->fn = fn;
    s->user = user;
    s->seq = ++bus->next_seq;
    if (kind != HIVE__KIND_TRIGGER) s->id = ++bus->next_sub_id;
    return s;
}

void hive__sub_free(hive__sub *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->npatterns; i++) hive__free(s->patterns[i]);
    hive__free(s->patterns);
    if (s->trig) {
        hive__free(s->trig->name);
        hive__free(s->trig->conds);
        for (size_t i = 0; i < s->trig->nretired; i++) hive__free(s->trig->retired[i]);
        hive__free(s->trig->retired);
        hive__free(s->trig->actions);
        hive__free(s->trig);
    }
    hive__free(s);
}

void hive__kill(hive_bus *bus, hive__sub *s)
{
    uint32_t fl = hive__flags(s);
    if (fl & HIVE__SUB_DEAD) return;
    /* Only the owner writes flags, so a load and a store suffice. */
    __atomic_store_n(&s->flags, fl | HIVE__SUB_DEAD, __ATOMIC_RELAXED);
    s->next_dead = bus->dead;
    bus->dead = s;
    bus->pending = true;
    if (s->kind == HIVE__KIND_TRIGGER)
        __atomic_fetch_sub(&bus->live_trigs, 1, __ATOMIC_RELAXED);
    else
        __atomic_fetch_sub(&bus->live_subs, 1, __ATOMIC_RELAXED);
}

/* In place: only at depth 0, when no delivery walks any list. */
static void compact_list(hive_bus *bus, hive_event_id id)
{
    hive__name *e = hive__entry(bus, id);
    hive__list *l = __atomic_load_n(&e->list, __ATOMIC_RELAXED);
    if (!l) return;
    uint32_t j = 0;
    for (uint32_t i = 0; i < l->n; i++)
        if (!is_dead(l->items[i])) l->items[j++] = l->items[i];
    if (j == l->n) return;
    if (j == 0) {
        __atomic_store_n(&e->list, NULL, __ATOMIC_RELEASE);
        hive__free(l);
    } else {
        l->n = j;
    }
}

static void drop_dead(hive__sub **arr, size_t *n)
{
    size_t j = 0;
    for (size_t i = 0; i < *n; i++)
        if (!is_dead(arr[i])) arr[j++] = arr[i];
    *n = j;
}

void hive__compact(hive_bus *bus)
{
    if (bus->depth != 0) return;
    pthread_mutex_lock(&bus->lock);
    if (bus->dead) {
        bool scan_all = false;
        for (hive__sub *s = bus->dead; s; s = s->next_dead)
            scan_all |= s->kind != HIVE__KIND_EXACT;
        if (scan_all) {
            uint32_t nn = __atomic_load_n(&bus->nnames, __ATOMIC_RELAXED);
            for (uint32_t id = 1; id <= nn; id++) compact_list(bus, (hive_event_id)id);
        } else {
            for (hive__sub *s = bus->dead; s; s = s->next_dead) compact_list(bus, s->exact);
        }
        drop_dead(bus->subs, &bus->nsubs);
        drop_dead(bus->psubs, &bus->npsubs);
        drop_dead(bus->trigs, &bus->ntrigs);
        for (hive__sub *s = bus->dead, *next; s; s = next) {
            next = s->next_dead;
            hive__sub_free(s);
        }
        bus->dead = NULL;
    }
    for (hive__list *l = bus->garbage, *next; l; l = next) {
        next = l->next_garbage;
        hive__free(l);
    }
    bus->garbage = NULL;
    bus->pending = false;
    pthread_mutex_unlock(&bus->lock);
}

/* Takes ownership of s: frees it when it cannot be added. */
static int add(hive_bus *bus, hive__sub *s)
{
    pthread_mutex_lock(&bus->lock);
    int rc = hive__attach(bus, s);
    pthread_mutex_unlock(&bus->lock);
    if (rc) {
        hive__sub_free(s);
        return rc;
    }
    return s->id;
}

int hive_bus_subscribe_id(hive_bus *bus, hive_event_id id, hive_handler fn,
                          void *user, const hive_sub_opts *opts)
{
    if (!bus || !fn || !hive__valid_id(bus, id)) return HIVE_EINVAL;
    hive__sub *s = hive__sub_new(bus, HIVE__KIND_EXACT, fn, user, opts);
    if (!s) return HIVE_ENOMEM;
    s->exact = id;
    return add(bus, s);
}

int hive_bus_subscribe(hive_bus *bus, const char *pattern, hive_handler fn,
                       void *user, const hive_sub_opts *opts)
{
    if (!bus || !pattern || !fn) return HIVE_EINVAL;
    bool wild;
    int rc = hive__pattern_check(pattern, &wild);
    if (rc) return rc;
    if (!wild) {
        hive_event_id id = hive_bus_intern(bus, pattern);
        if (id < 0) return id;
        return hive_bus_subscribe_id(bus, id, fn, user, opts);
    }
    hive__sub *s = hive__sub_new(bus, HIVE__KIND_PATTERN, fn, user, opts);
    if (!s) return HIVE_ENOMEM;
    s->patterns = hive__calloc(1, sizeof *s->patterns);
    if (s->patterns) s->patterns[0] = hive__strdup(pattern);
    if (!s->patterns || !s->patterns[0]) {
        hive__sub_free(s);
        return HIVE_ENOMEM;
    }
    s->npatterns = 1;
    return add(bus, s);
}

int hive_bus_observe(hive_bus *bus, hive_handler fn, void *user)
{
    if (!bus || !fn) return HIVE_EINVAL;
    hive__sub *s = hive__sub_new(bus, HIVE__KIND_OBSERVER, fn, user, NULL);
    if (!s) return HIVE_ENOMEM;
    return add(bus, s);
}

int hive_bus_unsubscribe(hive_bus *bus, int sub)
{
    if (!bus) return HIVE_EINVAL;
    size_t lo = 0, hi = bus->nsubs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (bus->subs[mid]->id < sub) lo = mid + 1;
        else hi = mid;
    }
    if (lo == bus->nsubs || bus->subs[lo]->id != sub || is_dead(bus->subs[lo]))
        return HIVE_ENOENT;
    hive__kill(bus, bus->subs[lo]);
    if (bus->depth == 0) hive__compact(bus);
    return HIVE_OK;
}
