/*
 * tests/tls/trpair.h - drive a transport directly (no core): a recorder
 * for its callbacks and helpers to pump a listening and a dialing side.
 */
#ifndef HIVE_TESTS_TRPAIR_H
#define HIVE_TESTS_TRPAIR_H

#include <criterion/criterion.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include "net/transport/transport.h"
#include "hive/net.h"

#define REC_LINKS 16

typedef struct rec_link {
    hive__link *link;
    bool connected;
    bool gone;
    int reason;              /* without HIVE__LINK_LOCAL ... */
    bool local;              /* ... which lands here: this side decided */
    char message[400];
    char subject[200];
    uint8_t *data;
    size_t len, cap;
    int packets[3];          /* data callbacks per channel (2: unordered) */
    size_t bytes[3];
    uint8_t last[32];        /* the start of the last unreliable delivery */
} rec_link;

typedef struct rec {
    rec_link links[REC_LINKS];
    int n;
    int accepts;
    int refuse;          /* accepted() returns this when nonzero */
    hive__transport *t;  /* set after create: asked for peer subjects */
} rec;

/* The link's certificate subject as its transport reports it, or NULL. */
static inline const char *rec_subject(rec *r, hive__link *l)
{
    return r->t && r->t->vt->peer_subject ? r->t->vt->peer_subject(r->t, l) : NULL;
}

static inline rec_link *rec_find(rec *r, hive__link *l)
{
    for (int i = 0; i < r->n; i++)
        if (r->links[i].link == l && !r->links[i].gone) return &r->links[i];
    return NULL;
}

static inline rec_link *rec_add(rec *r, hive__link *l)
{
    cr_assert_lt(r->n, REC_LINKS);
    rec_link *x = &r->links[r->n++];
    memset(x, 0, sizeof *x);
    x->link = l;
    l->conn = x;
    return x;
}

static inline int rec_accepted(void *core, hive__link *l, const char *addr)
{
    rec *r = core;
    r->accepts++;
    if (r->refuse) return r->refuse;
    rec_add(r, l);
    return 0;
}

static inline void rec_connected(void *core, hive__link *l)
{
    rec_link *x = l->conn;
    cr_assert_not_null(x);
    x->connected = true;
    const char *ps = rec_subject(core, l);
    if (ps) snprintf(x->subject, sizeof x->subject, "%s", ps);
}

static inline void rec_data(void *core, hive__link *l, const uint8_t *p, size_t n, int ch)
{
    rec_link *x = l->conn;
    cr_assert_not_null(x);
    const char *ps = rec_subject(core, l);
    if (ps && !x->subject[0]) snprintf(x->subject, sizeof x->subject, "%s", ps);
    if (x->len + n > x->cap) {
        x->cap = (x->len + n) * 2;
        x->data = realloc(x->data, x->cap);
    }
    memcpy(x->data + x->len, p, n);
    x->len += n;
    cr_assert(ch == 0 || ch == 1 || ch == 2);
    if (ch) memcpy(x->last, p, n < sizeof x->last ? n : sizeof x->last);
    x->packets[ch]++;
    x->bytes[ch] += n;
}

static inline void rec_disconnected(void *core, hive__link *l, int reason, const char *message)
{
    rec_link *x = l->conn;
    cr_assert_not_null(x);
    cr_assert(!x->gone, "disconnected twice");
    x->gone = true;
    x->local = (reason & HIVE__LINK_LOCAL) != 0;
    x->reason = reason & ~HIVE__LINK_LOCAL;
    if (message) snprintf(x->message, sizeof x->message, "%s", message);
}

static inline hive__transport_cb rec_cb(rec *r)
{
    return (hive__transport_cb){ .core = r, .accepted = rec_accepted, .connected = rec_connected,
                                 .data = rec_data, .disconnected = rec_disconnected };
}

static inline void rec_free(rec *r)
{
    for (int i = 0; i < r->n; i++) free(r->links[i].data);
    memset(r, 0, sizeof *r);
}

typedef bool (*rec_pred)(void *arg);

/* Service both transports until pred(arg) holds or ms pass. */
static inline bool pump_until(hive__transport *a, hive__transport *b, int ms, rec_pred pred, void *arg)
{
    uint64_t end = hive_now_ns() + (uint64_t)ms * 1000000u;
    while (hive_now_ns() < end) {
        if (a) a->vt->service(a, 1);
        if (b) b->vt->service(b, 1);
        if (pred && pred(arg)) return true;
    }
    return pred ? pred(arg) : true;
}

static inline uint16_t test_port(int salt)
{
    return (uint16_t)(20000 + (getpid() * 7 + salt * 131) % 20000);
}

#endif
