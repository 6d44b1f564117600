/* cidmap.c - connection id -> pointer (see cidmap.h). */
#include "events/internal.h"
#include "net/core/cidmap.h"

/* cids are sequential; a multiplicative hash spreads them anyway so that
 * probing stays short when many neighbours are gone. */
static size_t slot(uint32_t cid, size_t cap) { return (size_t)((cid * 2654435761u) & (cap - 1)); }

static int grow(hive__cidmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    uint32_t *k = hive__calloc(cap, sizeof *k);
    void **v = hive__calloc(cap, sizeof *v);
    if (!k || !v) { hive__free(k); hive__free(v); return HIVE_ENOMEM; }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = slot(m->keys[i], cap);
        while (k[j]) j = (j + 1) & (cap - 1);
        k[j] = m->keys[i];
        v[j] = m->vals[i];
    }
    hive__free(m->keys);
    hive__free(m->vals);
    m->keys = k;
    m->vals = v;
    m->cap = cap;
    return HIVE_OK;
}

int hive__cidmap_put(hive__cidmap *m, uint32_t cid, void *v)
{
    if ((m->n + 1) * 2 > m->cap && grow(m) < 0) return HIVE_ENOMEM;
    size_t i = slot(cid, m->cap);
    while (m->keys[i] && m->keys[i] != cid) i = (i + 1) & (m->cap - 1);
    if (!m->keys[i]) m->n++;
    m->keys[i] = cid;
    m->vals[i] = v;
    return HIVE_OK;
}

void *hive__cidmap_get(const hive__cidmap *m, uint32_t cid)
{
    if (!m->cap || !cid) return NULL;
    size_t i = slot(cid, m->cap);
    while (m->keys[i]) {
        if (m->keys[i] == cid) return m->vals[i];
        i = (i + 1) & (m->cap - 1);
    }
    return NULL;
}

void hive__cidmap_del(hive__cidmap *m, uint32_t cid)
{
    if (!m->cap || !cid) return;
    size_t mask = m->cap - 1, i = slot(cid, m->cap);
    while (m->keys[i] && m->keys[i] != cid) i = (i + 1) & mask;
    if (!m->keys[i]) return;
    m->n--;
    /* Backward shift: pull later members of the cluster into the hole
     * when their home slot allows it. */
    size_t hole = i, j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!m->keys[j]) break;
        size_t home = slot(m->keys[j], m->cap);
        bool movable = (hole <= j) ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            m->keys[hole] = m->keys[j];
            m->vals[hole] = m->vals[j];
            hole = j;
        }
    }
    m->keys[hole] = 0;
    m->vals[hole] = NULL;
}

void hive__cidmap_free(hive__cidmap *m)
{
    hive__free(m->keys);
    hive__free(m->vals);
    m->keys = NULL;
    m->vals = NULL;
    m->cap = m->n = 0;
}
