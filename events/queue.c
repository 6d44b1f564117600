/*
 * queue.c - cross-thread posting and owner-thread dispatch.
 *
 * A bounded ring of preallocated slots with one sequence number each
 * (Dmitry Vyukov's bounded queue). A slot at ring position `pos` is free
 * for the producer of `pos` when seq == pos, and full (readable) when
 * seq == pos + 1; producers race for positions with one CAS on `tail`.
 * A slot stores seq minus its index, so an all-zero ring is a valid empty
 * ring: calloc'd memory needs no start-up pass that would touch every page
 * (a default bus holds 16 MiB of slots).
 *
 * The consumer copies an event out of its slot into `scratch` and frees the
 * slot before running handlers, so a slow handler never holds ring space
 * and DROP_OLDEST never has to wait for the event being dispatched.
 * Under DROP_OLDEST producers also take from the head (to discard), so
 * then the head is advanced with a CAS; otherwise only the owner moves it.
 */
#include "events/internal.h"
#include "bus_internal.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#define FIELDS_BYTES (HIVE__QFIELDS * sizeof(hive_field))

static size_t round_pow2(size_t n)
{
    size_t p = 2;
    while (p < n) p <<= 1;
    return p;
}

static hive__slot *slot_at(const hive__queue *q, size_t pos)
{
    return (hive__slot *)(q->slots + (pos & q->mask) * q->stride);
}

/* What a slot stores for sequence number pos + k: lap(pos) + k. */
static size_t lap(const hive__queue *q, size_t pos) { return pos & ~q->mask; }

static hive_field *slot_fields(hive__slot *s) { return (hive_field *)(s + 1); }
static hive__spill *slot_spill(hive__slot *s) { return (hive__spill *)(s + 1); }
static unsigned char *slot_payload(hive__slot *s) { return (unsigned char *)(s + 1) + FIELDS_BYTES; }

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

int hive__queue_init(hive__queue *q, const hive_bus_config *cfg)
{
    size_t cap = cfg->queue_capacity ? cfg->queue_capacity : HIVE__DEFAULT_QUEUE;
    size_t inl = cfg->inline_bytes ? cfg->inline_bytes : HIVE__DEFAULT_INLINE;
    if (cap > HIVE__MAX_QUEUE)
        return hive__create_fail(HIVE_EINVAL, "queue_capacity", "hive_bus_config.queue_capacity: %zu is over the limit of %zu",
                                 cap, (size_t)HIVE__MAX_QUEUE);
    if (inl > HIVE__MAX_INLINE)
        return hive__create_fail(HIVE_EINVAL, "inline_bytes", "hive_bus_config.inline_bytes: %zu is over the limit of %zu",
                                 inl, (size_t)HIVE__MAX_INLINE);
    if ((unsigned)cfg->overflow > HIVE_OVERFLOW_BLOCK)
        return hive__create_fail(HIVE_EINVAL, "overflow", "hive_bus_config.overflow: %d is not a hive_overflow",
                                 (int)cfg->overflow);
    cap = round_pow2(cap);
    q->mask = cap - 1;
    q->inline_bytes = (inl + 7) & ~(size_t)7;
    /* Whole cache lines per slot: neighbours written by different threads
     * do not share one. */
    q->stride = (sizeof(hive__slot) + FIELDS_BYTES + q->inline_bytes + 63) & ~(size_t)63;
    q->overflow = cfg->overflow;
    q->slots = hive__calloc(cap, q->stride); /* zero: every slot free, lap 0 */
    q->scratch = hive__malloc(q->stride);
    if (!q->slots || !q->scratch) return HIVE_ENOMEM;
    q->tail = q->head = 0; /* no other thread sees q before create returns */
    q->waiters = 0;
    q->dropped = 0;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&q->wait_cond, &ca);
    pthread_condattr_destroy(&ca);
    if (rc) return HIVE_ENOMEM;
    if (pthread_mutex_init(&q->wait_lock, NULL)) {
        pthread_cond_destroy(&q->wait_cond);
        return HIVE_ENOMEM;
    }
    q->sync_ready = true;
    return HIVE_OK;
}

void hive__queue_free(hive__queue *q)
{
    if (q->slots) {
        size_t head = __atomic_load_n(&q->head, __ATOMIC_RELAXED);
        size_t tail = __atomic_load_n(&q->tail, __ATOMIC_RELAXED);
        for (size_t pos = head; pos != tail; pos++) {
            hive__slot *s = slot_at(q, pos);
            if (__atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) == lap(q, pos) + 1 &&
                s->used == HIVE__SPILLED)
                hive__free(slot_spill(s)->block);
        }
    }
    hive__free(q->slots);
    hive__free(q->scratch);
    if (q->sync_ready) {
        pthread_mutex_destroy(&q->wait_lock);
        pthread_cond_destroy(&q->wait_cond);
    }
}

/* Take the slot at the head, if one is ready. The caller owns it until it
 * calls release(). */
static inline hive__slot *take(hive__queue *q, size_t *out_pos, bool shared_head)
{
    size_t pos = __atomic_load_n(&q->head, __ATOMIC_RELAXED);
    for (;;) {
        hive__slot *s = slot_at(q, pos);
        size_t seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
        intptr_t diff = (intptr_t)(seq - (lap(q, pos) + 1));
        if (diff < 0) return NULL; /* empty, or its producer is still writing */
        if (diff == 0) {
            if (!shared_head) {
                __atomic_store_n(&q->head, pos + 1, __ATOMIC_RELAXED);
                *out_pos = pos;
                return s;
            }
            if (__atomic_compare_exchange_n(&q->head, &pos, pos + 1, true, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED)) {
                *out_pos = pos;
                return s;
            }
        } else {
            pos = __atomic_load_n(&q->head, __ATOMIC_RELAXED);
        }
    }
}

static void release(hive__queue *q, hive__slot *s, size_t pos)
{
    __atomic_store_n(&s->seq, lap(q, pos) + q->mask + 1, __ATOMIC_RELEASE);
}

static void wake_producers(hive__queue *q)
{
    pthread_mutex_lock(&q->wait_lock);
    pthread_cond_broadcast(&q->wait_cond);
    pthread_mutex_unlock(&q->wait_lock);
}

/* BLOCK: spin briefly (the consumer is usually about to free a slot),
 * then yield, then sleep on the condition variable. The timed wait bounds
 * the rare wake-up lost between our check and the consumer's. */
static void wait_for_room(hive__queue *q, unsigned round)
{
    if (round < 64) {
        cpu_relax();
        return;
    }
    if (round < 72) {
        sched_yield();
        return;
    }
    pthread_mutex_lock(&q->wait_lock);
    __atomic_fetch_add(&q->waiters, 1, __ATOMIC_SEQ_CST);
    size_t pos = __atomic_load_n(&q->tail, __ATOMIC_SEQ_CST);
    size_t seq = __atomic_load_n(&slot_at(q, pos)->seq, __ATOMIC_SEQ_CST);
    if ((intptr_t)(seq - lap(q, pos)) < 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += 1000000; /* 1 ms */
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&q->wait_cond, &q->wait_lock, &ts);
    }
    __atomic_fetch_sub(&q->waiters, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&q->wait_lock);
}

/* Discard the oldest queued event (DROP_OLDEST). */
static void drop_oldest(hive__queue *q)
{
    size_t pos;
    hive__slot *s = take(q, &pos, true);
    if (!s) {
        cpu_relax(); /* the head slot is being copied out or written */
        return;
    }
    void *spill = s->used == HIVE__SPILLED ? slot_spill(s)->block : NULL;
    release(q, s, pos);
    hive__free(spill);
    __atomic_fetch_add(&q->dropped, 1, __ATOMIC_RELAXED);
}

static int claim(hive_bus *bus, hive__slot **out, size_t *out_pos)
{
    hive__queue *q = &bus->q;
    size_t pos = __atomic_load_n(&q->tail, __ATOMIC_RELAXED);
    unsigned round = 0;
    for (;;) {
        hive__slot *s = slot_at(q, pos);
        size_t seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
        intptr_t diff = (intptr_t)(seq - lap(q, pos));
        if (diff == 0) {
            if (__atomic_compare_exchange_n(&q->tail, &pos, pos + 1, true, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED)) {
                *out = s;
                *out_pos = pos;
                return HIVE_OK;
            }
            continue; /* pos was reloaded by the failed CAS */
        }
        if (diff > 0) {
            pos = __atomic_load_n(&q->tail, __ATOMIC_RELAXED);
            continue;
        }
        /* Slot not free yet. With fewer than capacity events queued, the
         * consumer is copying it out right now: a matter of nanoseconds,
         * not a full queue. */
        if (pos - __atomic_load_n(&q->head, __ATOMIC_RELAXED) <= q->mask) {
            cpu_relax();
            pos = __atomic_load_n(&q->tail, __ATOMIC_RELAXED);
            continue;
        }
        switch (q->overflow) {
        case HIVE_OVERFLOW_DROP_OLDEST:
            drop_oldest(q);
            break;
        case HIVE_OVERFLOW_BLOCK:
            /* The owner waiting for itself to dispatch would never wake. */
            if (pthread_equal(pthread_self(), bus->owner)) {
                __atomic_fetch_add(&q->dropped, 1, __ATOMIC_RELAXED);
                return HIVE_EFULL;
            }
            wait_for_room(q, round++);
            break;
        default:
            __atomic_fetch_add(&q->dropped, 1, __ATOMIC_RELAXED);
            return HIVE_EFULL;
        }
        pos = __atomic_load_n(&q->tail, __ATOMIC_RELAXED);
    }
}

/* Bytes a field copies into the event's storage; SIZE_MAX when invalid. */
static size_t payload_of(const hive_field *f)
{
    if (!f->key) return SIZE_MAX;
    switch (f->type) {
    case HIVE_T_INT:
    case HIVE_T_DOUBLE:
    case HIVE_T_PTR:
        return 0;
    case HIVE_T_STR:
        if (!f->v.str.s) return f->v.str.len ? SIZE_MAX : 0;
        return f->v.str.len < SIZE_MAX / 2 ? f->v.str.len + 1 : SIZE_MAX;
    case HIVE_T_BYTES:
        if (!f->v.bytes.p && f->v.bytes.len) return SIZE_MAX;
        return f->v.bytes.len < SIZE_MAX / 2 ? f->v.bytes.len : SIZE_MAX;
    case HIVE_T_MSGPACK:
        if (!f->v.mp.raw && f->v.mp.len) return SIZE_MAX;
        return f->v.mp.len < SIZE_MAX / 2 ? f->v.mp.len : SIZE_MAX;
    default:
        return SIZE_MAX;
    }
}

/* Copy fields into dst, their bytes into pay. Returns bytes used. */
static size_t copy_fields(hive_field *dst, unsigned char *pay, const hive_field *src, size_t n)
{
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        hive_field f = src[i];
        switch (f.type) {
        case HIVE_T_STR:
            if (f.v.str.s) {
                memcpy(pay + used, f.v.str.s, f.v.str.len);
                pay[used + f.v.str.len] = '\0';
                f.v.str.s = (const char *)pay + used;
                used += f.v.str.len + 1;
            }
            break;
        case HIVE_T_BYTES:
            if (f.v.bytes.len) memcpy(pay + used, f.v.bytes.p, f.v.bytes.len);
            f.v.bytes.p = f.v.bytes.p ? pay + used : NULL;
            used += f.v.bytes.len;
            break;
        case HIVE_T_MSGPACK:
            if (f.v.mp.len) memcpy(pay + used, f.v.mp.raw, f.v.mp.len);
            f.v.mp.raw = f.v.mp.raw ? pay + used : NULL;
            f.v.mp.obj = NULL; /* a decoded object points into someone else's zone */
            used += f.v.mp.len;
            break;
        default:
            break;
        }
        dst[i] = f;
    }
    return used;
}

int hive_bus_post(hive_bus *bus, hive_event_id id, const hive_field *fields, size_t n)
{
    if (!bus || !hive__valid_id(bus, id) || (n && !fields) || n > UINT32_MAX)
        return HIVE_EINVAL;
    hive__queue *q = &bus->q;
    size_t payload = 0;
    for (size_t i = 0; i < n; i++) {
        size_t p = payload_of(&fields[i]);
        if (p == SIZE_MAX || payload > SIZE_MAX / 2 - p) return HIVE_EINVAL;
        payload += p;
    }
    void *heap = NULL;
    if (n > HIVE__QFIELDS || payload > q->inline_bytes) {
        if (n > (SIZE_MAX / 2 - payload) / sizeof(hive_field)) return HIVE_EINVAL;
        heap = hive__malloc(n * sizeof(hive_field) + payload);
        if (!heap) return HIVE_ENOMEM;
    }
    hive__slot *s;
    size_t pos;
    int rc = claim(bus, &s, &pos);
    if (rc) {
        hive__free(heap);
        return rc;
    }
    if (heap) {
        copy_fields(heap, (unsigned char *)heap + n * sizeof(hive_field), fields, n);
        *slot_spill(s) = (hive__spill){ heap, n };
        s->used = HIVE__SPILLED;
        s->nfields = 0;
    } else {
        s->used = (uint16_t)copy_fields(slot_fields(s), slot_payload(s), fields, n);
        s->nfields = (uint16_t)n;
    }
    s->id = id;
    __atomic_store_n(&s->seq, lap(q, pos) + 1, __ATOMIC_RELEASE);
    return HIVE_OK;
}

/* Move the event at s into scratch (rebasing its pointers), free the slot. */
static const hive_field *copy_out(hive__queue *q, hive__slot *s, size_t pos,
                                  hive_event_id *id, size_t *n, void **spill)
{
    *id = s->id;
    const hive_field *fields;
    if (s->used == HIVE__SPILLED) {
        *spill = slot_spill(s)->block;
        *n = slot_spill(s)->n;
        fields = *spill;
    } else {
        *spill = NULL;
        *n = s->nfields;
        hive__slot *d = (hive__slot *)q->scratch;
        hive_field *df = slot_fields(d);
        const hive_field *sf = slot_fields(s);
        unsigned char *dp = slot_payload(d), *sp = slot_payload(s);
        /* Copy each field, then patch its pointer from what the source
         * says: never read back what was just written (that stalls on
         * store forwarding). */
        for (size_t i = 0; i < *n; i++) {
            df[i] = sf[i];
            switch (sf[i].type) {
            case HIVE_T_STR:
                if (sf[i].v.str.s)
                    df[i].v.str.s = (const char *)dp + ((const unsigned char *)sf[i].v.str.s - sp);
                break;
            case HIVE_T_BYTES:
                if (sf[i].v.bytes.p)
                    df[i].v.bytes.p = dp + ((const unsigned char *)sf[i].v.bytes.p - sp);
                break;
            case HIVE_T_MSGPACK:
                if (sf[i].v.mp.raw)
                    df[i].v.mp.raw = dp + ((const unsigned char *)sf[i].v.mp.raw - sp);
                break;
            default:
                break;
            }
        }
        if (s->used) memcpy(dp, sp, s->used);
        fields = df;
    }
    release(q, s, pos);
    return fields;
}

static int dispatch(hive_bus *bus, size_t max, uint64_t budget_ns, bool timed)
{
    if (!bus) return HIVE_EINVAL;
    if (bus->dispatching) return HIVE_ESTATE; /* scratch holds the event in flight */
    hive__queue *q = &bus->q;
    bool shared_head = q->overflow == HIVE_OVERFLOW_DROP_OLDEST;
    uint64_t start = timed ? hive_now_ns() : 0;
    if (max == 0 && timed) {
        max = SIZE_MAX;
    } else if (max == 0) {
        /* "All that were queued when the call began". One read of tail
         * per call: producers write its line on every post. */
        size_t tail = __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE);
        size_t head = __atomic_load_n(&q->head, __ATOMIC_RELAXED);
        max = tail - head;
    }
    if (max > INT_MAX) max = INT_MAX;
    bus->dispatching = true;
    size_t done = 0;
    while (done < max) {
        if (timed && done && hive_now_ns() - start >= budget_ns) break;
        size_t pos;
        hive__slot *s = take(q, &pos, shared_head);
        if (!s) break;
        hive_event_id id;
        size_t n;
        void *spill;
        const hive_field *fields = copy_out(q, s, pos, &id, &n, &spill);
        if (__atomic_load_n(&q->waiters, __ATOMIC_RELAXED)) wake_producers(q);
        hive__name *e = hive__entry(bus, id);
        hive__count(&e->ndisp, 1);
        hive__count(&bus->dispatched, 1);
        hive__list *l = __atomic_load_n(&e->list, __ATOMIC_ACQUIRE);
        if (l) hive__deliver(bus, e, l, id, fields, n);
        if (spill) hive__free(spill);
        done++;
    }
    bus->dispatching = false;
    /* Pairs with the seq_cst increment in wait_for_room. A call that took
     * nothing freed no room, and skips the fence (a consumer polling an
     * empty queue makes many such calls). */
    if (done) {
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (__atomic_load_n(&q->waiters, __ATOMIC_RELAXED)) wake_producers(q);
    }
    return (int)done;
}

int hive_bus_dispatch(hive_bus *bus, size_t max)
{
    if (bus && bus->ex && !bus->dispatching && !bus->depth) hive_bus_expire(bus);
    return dispatch(bus, max, 0, false);
}

int hive_bus_dispatch_for(hive_bus *bus, uint64_t budget_ns)
{
    if (bus && bus->ex && !bus->dispatching && !bus->depth) hive_bus_expire(bus);
    return dispatch(bus, 0, budget_ns, true);
}
