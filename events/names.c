/*
 * names.c - interning event names to ids.
 *
 * Readers (lookup, name, publish, post) never lock: they probe the current
 * hash table with acquire loads, and an id they see always has a fully
 * written entry behind it, because intern fills the entry before it
 * publishes the id (release). Writers serialise on bus->lock. Entries and
 * strings never move, so pointers handed out stay valid until destroy.
 */
#include "events/internal.h"
#include "bus_internal.h"

#include <string.h>

#define CHUNK_BYTES 4096u
#define HTAB_MIN    64u

static uint32_t hash_name(const char *s, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static hive_event_id find(const hive_bus *bus, const char *s, size_t len, uint32_t h)
{
    hive__htab *t = __atomic_load_n(&((hive_bus *)bus)->htab, __ATOMIC_ACQUIRE);
    for (uint32_t i = h & t->mask;; i = (i + 1) & t->mask) {
        int32_t id = __atomic_load_n(&t->slots[i], __ATOMIC_ACQUIRE);
        if (id == 0) return 0;
        const hive__name *e = hive__entry(bus, id);
        if (e->hash == h && e->len == len && memcmp(e->str, s, len) == 0) return id;
    }
}

static hive__htab *htab_new(uint32_t cap)
{
    hive__htab *t = hive__calloc(1, sizeof *t + cap * sizeof t->slots[0]);
    if (t) t->mask = cap - 1;
    return t;
}

static void htab_put(hive__htab *t, uint32_t h, int32_t id)
{
    uint32_t i = h & t->mask;
    while (__atomic_load_n(&t->slots[i], __ATOMIC_RELAXED))
        i = (i + 1) & t->mask;
    __atomic_store_n(&t->slots[i], id, __ATOMIC_RELEASE);
}

/* Keep the load at or under one half. The old table stays readable for
 * threads still probing it; it is freed with the bus. */
static int htab_reserve(hive_bus *bus, uint32_t count)
{
    hive__htab *t = __atomic_load_n(&bus->htab, __ATOMIC_RELAXED);
    if ((uint64_t)count * 2 <= (uint64_t)t->mask + 1) return HIVE_OK;
    hive__htab *n = htab_new((t->mask + 1) * 2);
    if (!n) return HIVE_ENOMEM;
    uint32_t have = __atomic_load_n(&bus->nnames, __ATOMIC_RELAXED);
    for (uint32_t id = 1; id <= have; id++)
        htab_put(n, hive__entry(bus, (hive_event_id)id)->hash, (int32_t)id);
    __atomic_store_n(&bus->htab, n, __ATOMIC_RELEASE);
    t->retired_next = bus->retired;
    bus->retired = t;
    return HIVE_OK;
}

static char *arena_copy(hive_bus *bus, const char *s, size_t len)
{
    hive__chunk *c = bus->chunks;
    if (!c || c->cap - c->used < len + 1) {
        c = hive__malloc(sizeof *c + CHUNK_BYTES);
        if (!c) return NULL;
        c->used = 0;
        c->cap = CHUNK_BYTES;
        c->next = bus->chunks;
        bus->chunks = c;
    }
    char *d = c->data + c->used;
    memcpy(d, s, len);
    d[len] = '\0';
    c->used += len + 1;
    return d;
}

/* Called with bus->lock held, after a failed find. */
static hive_event_id add_name(hive_bus *bus, const char *s, size_t len, uint32_t h)
{
    uint32_t have = __atomic_load_n(&bus->nnames, __ATOMIC_RELAXED);
    if (have >= HIVE__MAX_NAMES) return HIVE_ELIMIT;
    uint32_t id = have + 1;
    uint32_t page = id >> HIVE__PAGE_BITS;
    if (!bus->pages[page]) {
        bus->pages[page] = hive__calloc(HIVE__PAGE_SIZE, sizeof(hive__name));
        if (!bus->pages[page]) return HIVE_ENOMEM;
    }
    int rc = htab_reserve(bus, id);
    if (rc) return rc;
    /* The new name's handler list: resolved now, never during publish. */
    hive__list *list = NULL;
    rc = hive__list_for_new_name(bus, s, &list);
    if (rc) return rc;
    char *copy = arena_copy(bus, s, len);
    if (!copy) {
        hive__free(list);
        return HIVE_ENOMEM;
    }
    hive__name *e = hive__entry(bus, (hive_event_id)id);
    e->str = copy;
    e->hash = h;
    e->len = (uint32_t)len;
    __atomic_store_n(&e->npub, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&e->ndisp, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&e->list, list, __ATOMIC_RELAXED);
    /* Publish: the entry is complete before anyone can see its id. */
    __atomic_store_n(&bus->nnames, id, __ATOMIC_RELEASE);
    htab_put(__atomic_load_n(&bus->htab, __ATOMIC_RELAXED), h, (int32_t)id);
    return (hive_event_id)id;
}

hive_event_id hive_bus_intern(hive_bus *bus, const char *name)
{
    if (!bus || !name) return HIVE_EINVAL;
    size_t len;
    int rc = hive__name_check(name, &len);
    if (rc) return rc;
    uint32_t h = hash_name(name, len);
    hive_event_id id = find(bus, name, len, h);
    if (id) return id;
    pthread_mutex_lock(&bus->lock);
    id = find(bus, name, len, h);
    if (!id) id = add_name(bus, name, len, h);
    pthread_mutex_unlock(&bus->lock);
    return id;
}

hive_event_id hive_bus_lookup(const hive_bus *bus, const char *name)
{
    if (!bus || !name) return HIVE_EINVAL;
    size_t len = strnlen(name, HIVE_NAME_MAX);
    if (len == HIVE_NAME_MAX) return HIVE_ENOENT;
    hive_event_id id = find(bus, name, len, hash_name(name, len));
    return id ? id : HIVE_ENOENT;
}

const char *hive_bus_name(const hive_bus *bus, hive_event_id id)
{
    if (!bus || !hive__valid_id(bus, id)) return NULL;
    return hive__entry(bus, id)->str;
}

int hive__names_init(hive_bus *bus)
{
    hive__htab *t = htab_new(HTAB_MIN);
    if (!t) return HIVE_ENOMEM;
    __atomic_store_n(&bus->htab, t, __ATOMIC_RELAXED);
    return HIVE_OK;
}

void hive__names_free(hive_bus *bus)
{
    uint32_t n = __atomic_load_n(&bus->nnames, __ATOMIC_RELAXED);
    for (uint32_t id = 1; id <= n; id++)
        hive__free(__atomic_load_n(&hive__entry(bus, (hive_event_id)id)->list,
                                        __ATOMIC_RELAXED));
    for (uint32_t p = 0; p < HIVE__MAX_PAGES && bus->pages[p]; p++)
        hive__free(bus->pages[p]);
    hive__free(__atomic_load_n(&bus->htab, __ATOMIC_RELAXED));
    for (hive__htab *t = bus->retired, *next; t; t = next) {
        next = t->retired_next;
        hive__free(t);
    }
    for (hive__chunk *c = bus->chunks, *next; c; c = next) {
        next = c->next;
        hive__free(c);
    }
}
