/* admit.c - the handshake table (see admit.h). */
#include "events/internal.h"
#include "net/core/admit.h"

#include <arpa/inet.h>
#include <string.h>

int hive__admit_init(hive__admit *a, uint32_t max, uint32_t max_per_addr, uint64_t seed)
{
    memset(a, 0, sizeof *a);
    /* Distinct keys never outnumber links: twice max keeps probes short. */
    uint32_t cap = 16;
    while (cap < 2 * max) cap *= 2;
    a->tab = hive__calloc(cap, sizeof *a->tab);
    if (!a->tab) return HIVE_ENOMEM;
    a->cap = cap;
    a->max = max;
    a->max_per_addr = max_per_addr;
    a->seed = seed;
    return HIVE_OK;
}

void hive__admit_free(hive__admit *a)
{
    hive__free(a->tab);
    memset(a, 0, sizeof *a);
}

void hive__admit_key(const char *addr, uint8_t key[16])
{
    hive__addr p;
    struct in_addr v4;
    memset(key, 0xff, 16);
    if (hive__addr_parse(addr, 0, &p) < 0) return;
    char *scope = strchr(p.host, '%');   /* fe80::1%eth0: the address is what counts */
    if (scope) *scope = 0;
    if (inet_pton(AF_INET, p.host, &v4) == 1) {
        memset(key, 0, 10);
        key[10] = key[11] = 0xff;
        memcpy(key + 12, &v4, 4);
    } else if (inet_pton(AF_INET6, p.host, key) != 1) {
        memset(key, 0xff, 16);
    }
}

static uint32_t slot_of(const hive__admit *a, const uint8_t key[16])
{
    /* FNV-1a, seeded, then mixed. */
    uint64_t h = 0xcbf29ce484222325ull ^ a->seed;
    for (int i = 0; i < 16; i++) h = (h ^ key[i]) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return (uint32_t)h & (a->cap - 1);
}

/* The slot holding key, or the free slot where it would go. */
static uint32_t find(const hive__admit *a, const uint8_t key[16])
{
    uint32_t i = slot_of(a, key);
    while (a->tab[i].n && memcmp(a->tab[i].key, key, 16) != 0) i = (i + 1) & (a->cap - 1);
    return i;
}

uint32_t hive__admit_count(const hive__admit *a, const uint8_t key[16])
{
    return a->tab ? a->tab[find(a, key)].n : 0;
}

void hive__admit_add(hive__admit *a, hive__conn *c)
{
    if (c->hs_in || !a->tab) return;
    hive__admit_slot *s = &a->tab[find(a, c->hs_key)];
    if (!s->n) memcpy(s->key, c->hs_key, 16);
    s->n++;
    c->hs_in = true;
    c->hs_next = NULL;
    c->hs_prev = a->tail;
    if (a->tail) a->tail->hs_next = c;
    else a->head = c;
    a->tail = c;
    a->n++;
}

/* Linear probing's deletion: move later entries of the run back into the
 * hole when their home slot allows, so lookups never stop early. */
static void slot_clear(hive__admit *a, uint32_t i)
{
    uint32_t mask = a->cap - 1;
    a->tab[i].n = 0;
    for (uint32_t j = (i + 1) & mask; a->tab[j].n; j = (j + 1) & mask) {
        uint32_t k = slot_of(a, a->tab[j].key);
        /* Entry j may fill hole i unless its home k lies cyclically in (i, j]. */
        bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (stays) continue;
        a->tab[i] = a->tab[j];
        a->tab[j].n = 0;
        i = j;
    }
}

void hive__admit_del(hive__admit *a, hive__conn *c)
{
    if (!c->hs_in) return;
    c->hs_in = false;
    if (c->hs_prev) c->hs_prev->hs_next = c->hs_next;
    else a->head = c->hs_next;
    if (c->hs_next) c->hs_next->hs_prev = c->hs_prev;
    else a->tail = c->hs_prev;
    c->hs_prev = c->hs_next = NULL;
    a->n--;
    uint32_t i = find(a, c->hs_key);
    if (a->tab[i].n && --a->tab[i].n == 0) slot_clear(a, i);
}
