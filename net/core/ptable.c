/* ptable.c - the packet table in use (see ptable.h). */
#include "events/internal.h"
#include "net/core/ptable.h"

#include <stdio.h>
#include <string.h>

int hive__ptable_build(hive__ptable **out, hive_registry *reg, bool owns_reg,
                       hive_bus *bus, const char *prefix)
{
    hive__ptable *pt = hive__calloc(1, sizeof *pt);
    if (!pt) goto fail;
    pt->reg = reg;
    pt->owns_reg = owns_reg;
    pt->n = hive_registry_count(reg);
    if (pt->n) {
        pt->e = hive__calloc(pt->n, sizeof *pt->e);
        if (!pt->e) goto fail;
    }
    for (size_t i = 0; i < pt->n; i++) {
        hive__pentry *e = &pt->e[i];
        hive_registry_at(reg, i, &e->name, &e->pid);   /* ascending ids */
        e->delivery = hive_registry_delivery(reg, e->pid);
        e->channel = (uint8_t)hive_registry_channel(reg, e->pid);
        if (bus && prefix) {
            char name[HIVE_NAME_MAX + 32];
            int n = snprintf(name, sizeof name, "%s%s", prefix, e->name);
            if (n > 0 && (size_t)n < HIVE_NAME_MAX) {
                hive_event_id id = hive_bus_intern(bus, name);
                if (id == HIVE_ENOMEM) goto fail;
                e->ev = id > 0 ? id : 0;
            }
        }
    }
    *out = pt;
    return HIVE_OK;
fail:
    if (pt) {
        hive__free(pt->e);
        hive__free(pt);
    }
    if (owns_reg) hive_registry_destroy(reg);
    return HIVE_ENOMEM;
}

void hive__ptable_free(hive__ptable *pt)
{
    if (!pt) return;
    if (pt->owns_reg) hive_registry_destroy(pt->reg);
    hive__free(pt->e);
    hive__free(pt);
}

const hive__pentry *hive__ptable_find(const hive__ptable *pt, uint32_t pid)
{
    if (!pt) return NULL;
    size_t lo = 0, hi = pt->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t v = pt->e[mid].pid;
        if (v == pid) return &pt->e[mid];
        if (v < pid) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}
