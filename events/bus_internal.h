/*
 * bus_internal.h - the private layout of hive_bus, shared by the .c files of events/.
 *
 * Who touches what:
 *   - The owner thread (the one that created the bus) publishes, dispatches,
 *     subscribes and compacts. It reads handler lists without any lock.
 *   - Any thread may intern a name. Interning a new name builds that name's
 *     handler list from the pattern subscriptions, so everything an interning
 *     thread reads (the pattern-bearing subscriptions, the hash table, the
 *     pages) is written under `lock`.
 *   - Any thread may post: the queue is a bounded multi-producer ring
 *     (Dmitry Vyukov's design: one sequence number per slot).
 *
 * Handler lists are copy-on-write while a delivery is in progress (depth > 0):
 * a handler list that a delivery is walking is never changed or freed under
 * it. Removed subscriptions are only flagged dead; their memory, and lists
 * replaced during a delivery, are reclaimed when depth returns to 0.
 */
#ifndef HIVE_EVENTS_BUS_INTERNAL_H
#define HIVE_EVENTS_BUS_INTERNAL_H

#include "hive/bus.h"

#include <pthread.h>

#define HIVE__LIKELY(x)   __builtin_expect(!!(x), 1)
#define HIVE__UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Name entries live in pages that never move, so an entry (and the string
 * it points to) stays where it is once its id has been handed out. */
#define HIVE__PAGE_BITS  8
#define HIVE__PAGE_SIZE  (1u << HIVE__PAGE_BITS)
#define HIVE__PAGE_MASK  (HIVE__PAGE_SIZE - 1u)
#define HIVE__MAX_PAGES  4096u
#define HIVE__MAX_NAMES  (HIVE__PAGE_SIZE * HIVE__MAX_PAGES - 1u)

/* Field descriptors a queue slot holds inline (payload bytes: config). */
#define HIVE__QFIELDS 4

/* Nested deliveries that may hold a temporary at once. */
#define HIVE__TMP_MAX 8

#define HIVE__DEFAULT_QUEUE   65536u
#define HIVE__MAX_QUEUE       (1u << 24)
#define HIVE__DEFAULT_INLINE  64u
#define HIVE__MAX_INLINE      32768u

/* Subscription flags. A live, unconditional, repeating handler has flags
 * == 0, which is the one case the publish loop handles inline. */
enum {
    HIVE__SUB_DEAD    = 1u,
    HIVE__SUB_ONCE    = 2u,
    HIVE__SUB_COND    = 4u,
    HIVE__SUB_TRIGGER = 8u
};

typedef enum hive__kind {
    HIVE__KIND_EXACT = 0,   /* one id */
    HIVE__KIND_PATTERN,     /* one wildcard pattern */
    HIVE__KIND_OBSERVER,    /* every name, after all other handlers */
    HIVE__KIND_TRIGGER      /* several names/patterns */
} hive__kind;

typedef struct hive__sub hive__sub;

typedef struct hive__trigger {
    char *name;
    hive_trigger_cond *conds;
    size_t nconds;
    /* Condition arrays replaced during a delivery (a condition may be
     * running from one): freed with the trigger. */
    hive_trigger_cond **retired;
    size_t nretired;
    hive_trigger_action *actions;
    size_t nactions;
    bool single_shot;
    uint64_t fired;
} hive__trigger;

struct hive__sub {
    /* Read by the publish loop: keep together. */
    uint32_t flags;
    int id;                 /* subscription id; 0 for triggers */
    hive_handler fn;
    void *user;
    hive_condition cond;
    void *cond_user;

    int priority;
    hive__kind kind;
    uint64_t seq;           /* subscription order, for equal priorities */
    hive_event_id exact;    /* HIVE__KIND_EXACT: the id */
    char **patterns;        /* pattern-bearing kinds: owned copies */
    size_t npatterns;
    hive__trigger *trig;    /* HIVE__KIND_TRIGGER */
    hive__sub *next_dead;   /* link in bus->dead */
};

/* A priority-sorted handler list. Immutable while any delivery runs. */
typedef struct hive__list {
    uint32_t n;
    struct hive__list *next_garbage;
    hive__sub *items[];
} hive__list;

typedef struct hive__name {
    hive__list * list;  /* NULL: nobody listens */
    uint64_t npub;       /* written by the owner only */
    uint64_t ndisp;      /* written by the owner only */
    const char *str;
    uint32_t hash;
    uint32_t len;
} hive__name;

/* Open-addressing table of ids, read without a lock. A table replaced by
 * a bigger one is kept (readers may still be probing it) until destroy. */
typedef struct hive__htab {
    uint32_t mask;
    struct hive__htab *retired_next;
    int32_t slots[];
} hive__htab;

/* Name strings are copied into chunks that are never moved or freed
 * before the bus. */
typedef struct hive__chunk {
    struct hive__chunk *next;
    size_t used, cap;
    char data[];
} hive__chunk;

/* One queued event. The inline area follows the 16-byte header:
 *   hive_field fields[HIVE__QFIELDS]; unsigned char payload[inline_bytes];
 * so the header and one field share a cache line. An event needing more
 * goes to one heap block holding its fields and payload; the slot then
 * holds a hive__spill in place of its fields. */
typedef struct hive__slot {
    size_t seq;             /* __atomic_* access only */
    hive_event_id id;
    uint16_t nfields;       /* inline fields */
    uint16_t used;          /* inline payload bytes, or HIVE__SPILLED */
} hive__slot;

#define HIVE__SPILLED 0xFFFFu

typedef struct hive__spill {
    void *block;            /* hive_field[n], then their payload */
    size_t n;
} hive__spill;

/* tail, head, waiters, dropped and each slot's seq are shared between
 * threads: every access after init goes through an __atomic_* builtin. */
typedef struct hive__queue {
    char pad0[64];
    size_t tail;            /* next position to claim (producers) */
    char pad1[64 - sizeof(size_t)];
    size_t head;            /* next position to take (consumer) */
    char pad2[64 - sizeof(size_t)];
    unsigned char *slots;
    unsigned char *scratch; /* one slot: the event being dispatched */
    size_t mask;
    size_t stride;
    size_t inline_bytes;
    hive_overflow overflow;
    int waiters;            /* producers sleeping on wait_cond */
    uint64_t dropped;
    pthread_mutex_t wait_lock;
    pthread_cond_t wait_cond;
    bool sync_ready;
} hive__queue;

struct hive_bus {
    /* Read by every publish and post, written only when a name is added:
     * kept apart from what the owner writes per event, so producers on
     * other cores do not keep losing this line. */
    uint32_t nnames;
    pthread_t owner;            /* set at create; read by blocked producers */
    hive__name *pages[HIVE__MAX_PAGES];

    /* Written by the owner on every delivery. */
    char pad_hot[64];
    int depth;                  /* deliveries in progress (nesting) */
    bool pending;               /* dead subs / garbage lists to reclaim, or
                                   delivery temporaries to release */
    bool dispatching;
    uint64_t delivered; /* owner writes, anyone reads */
    uint64_t dispatched;

    /* Owner-thread bookkeeping. */
    struct hive__expects *ex;   /* hive_bus_expect's waits (expect.c), or NULL */
    hive__sub *dead;            /* killed, not yet reclaimed */
    hive__list *garbage;        /* replaced during a delivery */
    uint64_t next_seq;
    int next_sub_id;
    hive__sub **subs;           /* subscriptions and observers, by id */
    size_t nsubs, subs_cap;
    hive__sub **trigs;          /* triggers, in add order */
    size_t ntrigs, trigs_cap;
    size_t live_subs;
    size_t live_trigs;

    /* Shared with interning threads: written under lock. */
    pthread_mutex_t lock;
    bool lock_ready;
    hive__sub **psubs;          /* pattern-bearing subs, seq order */
    size_t npsubs, psubs_cap;
    hive__htab * htab;
    hive__htab *retired;
    hive__chunk *chunks;

    hive__queue q;
    /* Delivery temporaries (hive_event_attach), innermost last; owner
     * thread only. Read on the hot path only through ntmp. */
    struct hive__tmp {
        const hive_event *ev;
        const void *key;
        void *data;
        void (*release)(void *data);
        int depth;              /* the delivery's depth (bus->depth in its handlers) */
    } tmp[HIVE__TMP_MAX];
    int ntmp;                   /* tmp[] in use */
};

/* ---- small helpers ---------------------------------------------------- */

static inline hive__name *hive__entry(const hive_bus *bus, hive_event_id id)
{
    return &bus->pages[(uint32_t)id >> HIVE__PAGE_BITS][(uint32_t)id & HIVE__PAGE_MASK];
}

/* Is id a handed-out id? Acquire pairs with the release in intern, so the
 * entry behind it is fully visible. */
static inline bool hive__valid_id(const hive_bus *bus, hive_event_id id)
{
    uint32_t n = __atomic_load_n(&((hive_bus *)bus)->nnames, __ATOMIC_ACQUIRE);
    return (uint32_t)id - 1u < n;
}

/* Counters with a single writer: a plain add, made atomic only so other
 * threads may read them. No locked instruction. */
static inline void hive__count(uint64_t *c, uint64_t n)
{
    __atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n,
                          __ATOMIC_RELAXED);
}

static inline uint32_t hive__flags(const hive__sub *s)
{
    return __atomic_load_n(&((hive__sub *)s)->flags, __ATOMIC_RELAXED);
}

/* ---- expect.c --------------------------------------------------------- */
void hive__expects_free(hive_bus *bus);

/* ---- names.c ---------------------------------------------------------- */
#include "events/name_rules.h"
int hive__name_check(const char *s, size_t *len);
/* Returns 0 and sets *wild; HIVE_ENAME for a malformed name without '*',
 * HIVE_EPATTERN for a malformed string that has one. */
int hive__pattern_check(const char *p, bool *wild);
bool hive__pattern_match(const char *pattern, const char *name);
int  hive__names_init(hive_bus *bus);
void hive__names_free(hive_bus *bus);

/* ---- subscribe.c ------------------------------------------------------ */
int  hive__list_for_new_name(hive_bus *bus, const char *name, hive__list **out);
int  hive__attach(hive_bus *bus, hive__sub *s);     /* caller holds lock */
hive__sub *hive__sub_new(hive_bus *bus, hive__kind kind, hive_handler fn,
                         void *user, const hive_sub_opts *opts);
void hive__sub_free(hive__sub *s);
void hive__kill(hive_bus *bus, hive__sub *s);
void hive__compact(hive_bus *bus);

/* ---- publish.c -------------------------------------------------------- */
int hive__deliver_slow(hive_bus *bus, hive__sub *s, uint32_t fl, const hive_event *ev);

/* hive__after_delivery - a delivery returned to depth with bus->pending
 * set: release the temporaries attached deeper than depth, and at depth 0
 * reclaim dead subscriptions and old lists (fields.c). Temporaries set
 * pending too, so the hot path tests one flag for both. */
void hive__after_delivery(hive_bus *bus, int depth);

/* Run the handlers of `l` for one event. Used by publish and dispatch.
 * A temporary a handler attached is released after the last one. */
static inline int hive__deliver(hive_bus *bus, const hive__name *e, const hive__list *l,
                                hive_event_id id, const hive_field *f, size_t n)
{
    hive_event ev = { bus, id, e->str, f, n };
    int ran = 0;
    int depth = bus->depth;
    bus->depth = depth + 1;
    hive__sub *const *it = l->items;
    hive__sub *const *end = it + l->n;
    for (; it != end; it++) {
        hive__sub *s = *it;
        uint32_t fl = hive__flags(s);
        if (HIVE__LIKELY(fl == 0)) {
            s->fn(&ev, s->user);
            ran++;
        } else {
            ran += hive__deliver_slow(bus, s, fl, &ev);
        }
    }
    hive__count(&bus->delivered, (uint64_t)ran);
    bus->depth = depth;
    if (HIVE__UNLIKELY(bus->pending)) hive__after_delivery(bus, depth);
    return ran;
}

/* ---- queue.c ---------------------------------------------------------- */
int  hive__queue_init(hive__queue *q, const hive_bus_config *cfg);
void hive__queue_free(hive__queue *q);

#endif /* HIVE_EVENTS_BUS_INTERNAL_H */
