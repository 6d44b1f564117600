/*
 * net/cidmap.h - connection id -> pointer, an open-addressing hash table
 * (linear probing, backward-shift deletion: no tombstones, so a long-lived
 * server that churns connections never degrades). Not locked.
 */
#ifndef HIVE_NET_CIDMAP_H
#define HIVE_NET_CIDMAP_H

#include "hive/common.h"

typedef struct hive__cidmap {
    uint32_t *keys;      /* 0 = empty (cid 0 is never used) */
    void **vals;
    size_t cap, n;       /* cap is a power of two or 0 */
} hive__cidmap;

int   hive__cidmap_put(hive__cidmap *m, uint32_t cid, void *v);   /* HIVE_OK / HIVE_ENOMEM */
void *hive__cidmap_get(const hive__cidmap *m, uint32_t cid);      /* NULL when absent */
void  hive__cidmap_del(hive__cidmap *m, uint32_t cid);
void  hive__cidmap_free(hive__cidmap *m);

#endif /* HIVE_NET_CIDMAP_H */
