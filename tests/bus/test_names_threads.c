/* Names from many threads: every thread gets the same id for a name. */
#include "helpers.h"

#include <pthread.h>

#define NT 4
#define NNAMES 600

typedef struct job {
    hive_bus *bus;
    int offset;
    hive_event_id ids[NNAMES];
    int bad;
} job;

static void *intern_all(void *arg)
{
    job *j = arg;
    char name[64];
    for (int k = 0; k < NNAMES; k++) {
        int i = (k + j->offset) % NNAMES; /* different orders: real races */
        snprintf(name, sizeof name, "shared:name.n%d", i);
        j->ids[i] = hive_bus_intern(j->bus, name);
        const char *back = hive_bus_name(j->bus, j->ids[i]);
        if (!back || strcmp(back, name) != 0) j->bad++;
        if (hive_bus_lookup(j->bus, name) != j->ids[i]) j->bad++;
    }
    return NULL;
}

Test(threads, intern_from_four_threads_agrees, .timeout = 30)
{
    hive_bus *bus = small_bus();
    static job jobs[NT];
    pthread_t th[NT];
    for (int t = 0; t < NT; t++) {
        jobs[t] = (job){ .bus = bus, .offset = t * (NNAMES / NT) };
        cr_assert_eq(pthread_create(&th[t], NULL, intern_all, &jobs[t]), 0);
    }
    for (int t = 0; t < NT; t++) pthread_join(th[t], NULL);
    for (int t = 0; t < NT; t++) {
        cr_expect_eq(jobs[t].bad, 0);
        for (int i = 0; i < NNAMES; i++) {
            cr_assert_gt(jobs[t].ids[i], 0);
            cr_assert_eq(jobs[t].ids[i], jobs[0].ids[i]);
        }
    }
    hive_bus_counters c;
    hive_bus_stats(bus, &c);
    cr_expect_eq(c.names, NNAMES);
    hive_bus_destroy(bus);
}

/* New names interned on other threads while the owner adds pattern
 * subscriptions: every name must end up with exactly the patterns that
 * match it, whichever side came first. */
typedef struct namer {
    hive_bus *bus;
    int t;
} namer;

static void *intern_family(void *arg)
{
    namer *n = arg;
    char name[64];
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "fam%d:item.n%d", n->t, i);
        hive_bus_intern(n->bus, name);
    }
    return NULL;
}

Test(threads, names_interned_elsewhere_get_patterns, .timeout = 30)
{
    hive_bus *bus = small_bus();
    int hits = 0;
    namer nm[2] = { { bus, 0 }, { bus, 1 } };
    pthread_t th[2];
    for (int t = 0; t < 2; t++) pthread_create(&th[t], NULL, intern_family, &nm[t]);
    /* Meanwhile, on the owner thread: */
    cr_assert_gt(hive_bus_subscribe(bus, "fam0:**", on_count, &hits, NULL), 0);
    cr_assert_gt(hive_bus_subscribe(bus, "*:item.*", on_count, &hits, NULL), 0);
    cr_assert_gt(hive_bus_subscribe(bus, "fam1:item.n7", on_count, &hits, NULL), 0);
    for (int t = 0; t < 2; t++) pthread_join(th[t], NULL);

    char name[64];
    for (int t = 0; t < 2; t++) {
        for (int i = 0; i < 300; i++) {
            snprintf(name, sizeof name, "fam%d:item.n%d", t, i);
            hive_event_id id = hive_bus_lookup(bus, name);
            cr_assert_gt(id, 0);
            int want = 1 + (t == 0) + (t == 1 && i == 7);
            hits = 0;
            cr_assert_eq(hive_bus_publish(bus, id, NULL, 0), want, "%s", name);
            cr_assert_eq(hits, want);
        }
    }
    hive_bus_destroy(bus);
}
