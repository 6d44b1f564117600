/*
 * net/core/admit.h - the handshake table: which links are still before
 * their hello (hive/net.h ADMISSION), oldest first, and how many of them
 * each source address holds. No I/O and no policy: the endpoint core
 * (endpoint.c) decides whom to refuse or evict; this only keeps the
 * books, in O(1) per link (a FIFO list and an address hash).
 *
 * Addresses are keyed by IP alone (the port is the peer's choice): IPv4
 * as its IPv4-mapped IPv6 form, so the same host counts once whether it
 * came over an IPv4 or a dual-stack socket. I/O thread only.
 */
#ifndef HIVE_NET_ADMIT_H
#define HIVE_NET_ADMIT_H

#include "net/core/conn.h"

typedef struct hive__admit_slot {
    uint8_t key[16];
    uint32_t n;                 /* handshaking links from key; 0: free */
} hive__admit_slot;

typedef struct hive__admit {
    uint32_t max, max_per_addr; /* 0: no table (a client) */
    uint32_t n;                 /* links in the table */
    hive__conn *head, *tail;    /* oldest first */
    hive__admit_slot *tab;      /* cap slots, at most half used */
    uint32_t cap;
    uint64_t seed;              /* hash seed: colliding addresses cannot be chosen */
} hive__admit;

/* Room for max links (max_per_addr each). HIVE_OK or HIVE_ENOMEM. */
int  hive__admit_init(hive__admit *a, uint32_t max, uint32_t max_per_addr, uint64_t seed);
void hive__admit_free(hive__admit *a);

/* The key of "scheme://ip:port" (or "scheme://[v6]:port"); an address
 * that does not parse gets the all-ones key (they share one count). */
void hive__admit_key(const char *addr, uint8_t key[16]);

/* Handshaking links from key. */
uint32_t hive__admit_count(const hive__admit *a, const uint8_t key[16]);

/* Put c (its hs_key set) at the tail. The caller made room: a->n < a->max. */
void hive__admit_add(hive__admit *a, hive__conn *c);

/* Take c out, if it is in (harmless otherwise). */
void hive__admit_del(hive__admit *a, hive__conn *c);

#endif /* HIVE_NET_ADMIT_H */
