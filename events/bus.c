/* bus.c - creating and destroying a bus, and its statistics. */
#include "events/internal.h"
#include "bus_internal.h"

#include <string.h>

hive_bus *hive_bus_create(const hive_bus_config *cfg)
{
    hive_bus_config c = cfg ? *cfg : (hive_bus_config){ 0 };
    hive_bus *bus = hive__calloc(1, sizeof *bus);
    int rc = HIVE_ENOMEM;
    if (!bus) goto fail;
    bus->owner = pthread_self();
    if (pthread_mutex_init(&bus->lock, NULL)) goto fail;
    bus->lock_ready = true;
    if (hive__names_init(bus)) goto fail;
    rc = hive__queue_init(&bus->q, &c);   /* records a bad field itself */
    if (rc) goto fail;
    hive__create_ok();
    return bus;
fail:
    if (rc == HIVE_ENOMEM) hive__create_fail(HIVE_ENOMEM, "", "hive_bus_create: out of memory");
    hive_bus_destroy(bus);
    return NULL;
}

void hive_bus_destroy(hive_bus *bus)
{
    if (!bus) return;
    /* From inside a handler the lists and the event in flight are still
     * in use: refuse (a leak is better than a crash). */
    if (bus->depth || bus->dispatching) return;
    if (bus->pending) hive__compact(bus);
    hive__expects_free(bus);
    hive__queue_free(&bus->q);
    hive__names_free(bus);
    for (size_t i = 0; i < bus->nsubs; i++) hive__sub_free(bus->subs[i]);
    for (size_t i = 0; i < bus->ntrigs; i++) hive__sub_free(bus->trigs[i]);
    hive__free(bus->subs);
    hive__free(bus->trigs);
    hive__free(bus->psubs);
    if (bus->lock_ready) pthread_mutex_destroy(&bus->lock);
    hive__free(bus);
}

int hive_bus_stats(const hive_bus *bus, hive_bus_counters *out)
{
    if (!bus || !out) return HIVE_EINVAL;
    hive_bus *b = (hive_bus *)bus; /* atomics are read, never written */
    memset(out, 0, sizeof *out);
    uint32_t nn = __atomic_load_n(&b->nnames, __ATOMIC_ACQUIRE);
    /* Publishing bumps only its name's counter; the total is summed here,
     * which keeps the publish path one counter lighter. */
    for (uint32_t id = 1; id <= nn; id++)
        out->published += __atomic_load_n(&hive__entry(bus, (hive_event_id)id)->npub,
                                               __ATOMIC_RELAXED);
    size_t head = __atomic_load_n(&b->q.head, __ATOMIC_RELAXED);
    size_t tail = __atomic_load_n(&b->q.tail, __ATOMIC_RELAXED);
    out->posted = tail;
    out->dispatched = __atomic_load_n(&b->dispatched, __ATOMIC_RELAXED);
    out->dropped = __atomic_load_n(&b->q.dropped, __ATOMIC_RELAXED);
    out->delivered = __atomic_load_n(&b->delivered, __ATOMIC_RELAXED);
    out->queued = tail > head ? tail - head : 0;
    out->names = nn;
    out->subscriptions = __atomic_load_n(&b->live_subs, __ATOMIC_RELAXED);
    out->triggers = __atomic_load_n(&b->live_trigs, __ATOMIC_RELAXED);
    return HIVE_OK;
}

uint64_t hive_bus_count(const hive_bus *bus, hive_event_id id)
{
    if (!bus || !hive__valid_id(bus, id)) return 0;
    hive__name *e = hive__entry(bus, id);
    return __atomic_load_n(&e->npub, __ATOMIC_RELAXED) +
           __atomic_load_n(&e->ndisp, __ATOMIC_RELAXED);
}
