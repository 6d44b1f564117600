/*
 * net/ptable.h - a side's packet table in use: the registry plus, per
 * packet type, the interned id of its `net:<side>.recv.<name>` event.
 * Built once (server: at start; client: from each welcome) and never
 * changed afterwards, so the I/O thread reads it without a lock.
 */
#ifndef HIVE_NET_PTABLE_H
#define HIVE_NET_PTABLE_H

#include "hive/net.h"

typedef struct hive__pentry {
    uint32_t pid;
    hive_delivery delivery;
    uint8_t channel;           /* its lane (transport.h LANES), as registered */
    hive_event_id ev;          /* per-packet recv event, 0 when none */
    const char *name;          /* owned by the registry */
    const struct hive__shape *shape;   /* its declared shape (net/core/shape.h), or NULL */
    bool no_zip;               /* never compressed (hive_*_compress off) */
} hive__pentry;

typedef struct hive__ptable {
    hive_registry *reg;
    bool owns_reg;
    size_t n;
    hive__pentry *e;           /* sorted by pid */
} hive__ptable;

/*
 * hive__ptable_build - a table over reg. owns_reg: the table destroys reg
 * with itself (also when building fails). bus/prefix: intern
 * `<prefix><name>` for each type (bus may be NULL: no events; a name
 * that does not fit the bus's limit gets no per-packet event).
 * Returns HIVE_OK and *out, or HIVE_ENOMEM.
 */
int hive__ptable_build(hive__ptable **out, hive_registry *reg, bool owns_reg,
                       hive_bus *bus, const char *prefix);
void hive__ptable_free(hive__ptable *pt);   /* NULL is a no-op */

/* hive__ptable_find - the entry for pid, or NULL. */
const hive__pentry *hive__ptable_find(const hive__ptable *pt, uint32_t pid);

#endif /* HIVE_NET_PTABLE_H */
