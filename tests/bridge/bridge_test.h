/*
 * bridge_test.h - helpers for the bridge tests: buses pumped together,
 * a recorder of events, a raw NATS connection for hostile input.
 */
#ifndef HIVE_TESTS_BRIDGE_TEST_H
#define HIVE_TESTS_BRIDGE_TEST_H

#include <criterion/criterion.h>
#include <pthread.h>
#include <nats/nats.h>
#include <string.h>
#include "hive/bridge.h"
#include "hive/bus.h"
#include "hive/net.h"
#include "nats_proc.h"

#define SEEN_MAX 512
typedef struct seen {
    int n;
    char name[SEEN_MAX][HIVE_NAME_MAX];
    char origin[SEEN_MAX][HIVE_BRIDGE_ORIGIN_MAX];
    int64_t seq[4096];
    int nseq;
} seen;

static inline void seen_on(const hive_event *ev, void *user)
{
    seen *s = user;
    if (s->n < SEEN_MAX) {
        snprintf(s->name[s->n], HIVE_NAME_MAX, "%s", ev->name);
        const char *o = hive_event_str(ev, HIVE_BRIDGE_ORIGIN_FIELD);
        snprintf(s->origin[s->n], HIVE_BRIDGE_ORIGIN_MAX, "%s", o ? o : "");
    }
    int64_t q;
    if (hive_event_get_int(ev, "seq", &q) == HIVE_OK && s->nseq < 4096) s->seq[s->nseq++] = q;
    s->n++;
}

/* Dispatch every bus (NULL-terminated list) until *flag reaches want or
 * ms pass. Returns whether it did. */
static inline bool pump_buses(hive_bus **b, int ms, const int *flag, int want)
{
    uint64_t end = hive_now_ns() + (uint64_t)ms * 1000000u;
    for (;;) {
        for (int i = 0; b[i]; i++) {
            hive_bus_dispatch(b[i], 0);
            hive_bus_expire(b[i]);
        }
        if (flag && *flag >= want) return true;
        if (hive_now_ns() >= end) return !flag;
        np_sleep_ms(1);
    }
}

static inline hive_bridge *mk_bridge(hive_bus *bus, const char *url, const char *name)
{
    hive_bridge *br = hive_bridge_create(&(hive_bridge_config){ .url = url, .name = name, .reconnect_wait_ms = 50 },
                                         bus);
    cr_assert_not_null(br, "bridge %s: %s", name, hive_create_error()->message);
    return br;
}

typedef struct flag_counter { int connected, disconnected, reconnected, closed; } flag_counter;
static void fc_on(const hive_event *ev, void *user)
{
    flag_counter *f = user;
    if (strcmp(ev->name, HIVE_EV_NATS_CONNECTED) == 0) f->connected++;
    if (strcmp(ev->name, HIVE_EV_NATS_DISCONNECTED) == 0) f->disconnected++;
    if (strcmp(ev->name, HIVE_EV_NATS_RECONNECTED) == 0) f->reconnected++;
    if (strcmp(ev->name, HIVE_EV_NATS_CLOSED) == 0) f->closed++;
}
static inline void fc_attach(flag_counter *f, hive_bus *bus)
{
    cr_assert_gt(hive_bus_subscribe(bus, "nats:*", fc_on, f, NULL), 0);
}

/* A raw NATS connection (no Hive), for hostile publishers. */
static inline natsConnection *raw_nats(const char *url)
{
    natsConnection *nc = NULL;
    cr_assert_eq(natsConnection_ConnectTo(&nc, url), NATS_OK);
    return nc;
}

#endif
