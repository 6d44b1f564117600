/*
 * service.c - the objects the loop drives (servers, clients, the SDL
 * pump), and the wait between frames.
 *
 * The wait is spent inside the first service (a network host blocked in
 * its poll with a timeout) rather than in a sleep, so a packet arriving
 * between frames is handled at once, not at the next frame.
 */
#include "events/internal.h"
#include <time.h>
#include "engine_internal.h"

/* With several services the first may block only this long at a time,
 * so the others (say, the SDL pump) still run often. */
#define HIVE__IDLE_SLICE_MS 2

int hive_engine_add_service(hive_engine *e, hive_service_fn fn, void *obj)
{
    if (!e || !fn) return HIVE_EINVAL;
    if (e->svc_next_id == INT32_MAX) return HIVE_ELIMIT;
    if (e->nsvc == e->svc_cap) {
        size_t cap = e->svc_cap ? e->svc_cap * 2 : 4;
        hive__service *s = hive__realloc(e->svc, cap * sizeof *s);
        if (!s) return HIVE_ENOMEM;
        e->svc = s;
        e->svc_cap = cap;
    }
    hive__service *s = &e->svc[e->nsvc++];
    s->id = ++e->svc_next_id;
    s->fn = fn;
    s->obj = obj;
    return s->id;
}

static void compact(hive_engine *e)
{
    size_t j = 0;
    for (size_t i = 0; i < e->nsvc; i++)
        if (e->svc[i].fn) e->svc[j++] = e->svc[i];
    e->nsvc = j;
}

int hive_engine_remove_service(hive_engine *e, int service)
{
    if (!e) return HIVE_EINVAL;
    for (size_t i = 0; i < e->nsvc; i++) {
        if (e->svc[i].id == service && e->svc[i].fn) {
            e->svc[i].fn = NULL;
            if (e->svc_depth == 0) compact(e);
            return HIVE_OK;
        }
    }
    return HIVE_ENOENT;
}

/* Call service i; an error is counted and published, never fatal: a
 * client whose connection dropped still lets the game draw its menu. */
static int call(hive_engine *e, size_t i, int timeout_ms)
{
    hive__service s = e->svc[i];     /* a copy: the call may grow the array */
    if (!s.fn) return 0;
    int r = s.fn(s.obj, timeout_ms);
    if (r < 0) {
        e->st.service_errors++;
        if (hive_bus_wants(e->bus, e->ev_svc_err)) {
            hive_field f[] = { HIVE_INT("service", s.id), HIVE_INT("error", r),
                               HIVE_STR("name", hive_err_name(r)) };
            hive_bus_publish(e->bus, e->ev_svc_err, f, 3);
        }
    }
    return r;
}

void hive__engine_poll_services(hive_engine *e)
{
    e->svc_depth++;
    for (size_t i = 0; i < e->nsvc; i++) call(e, i, 0);
    e->svc_depth--;
    if (e->svc_depth == 0) compact(e);
}

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
    while (nanosleep(&ts, &ts) != 0) {}
}

void hive__engine_idle(hive_engine *e, uint64_t deadline)
{
    uint64_t t0 = hive__engine_clock(e);
    for (;;) {
        if (hive__engine_stopping(e)) break;
        uint64_t now = hive__engine_clock(e);
        if (now >= deadline) break;
        uint64_t left = deadline - now;
        if (e->nsvc == 0 || left < 1000000u) {
            sleep_ns(left);
            break;
        }
        int ms = (int)(left / 1000000u);
        if (e->nsvc > 1 && ms > HIVE__IDLE_SLICE_MS) ms = HIVE__IDLE_SLICE_MS;
        e->svc_depth++;
        int r = call(e, 0, ms);
        int others = 0;
        for (size_t i = 1; i < e->nsvc; i++) {
            int x = call(e, i, 0);
            if (x > 0) others += x;
        }
        e->svc_depth--;
        if (e->svc_depth == 0) compact(e);
        /* Something happened: loop straight back to service it. Nothing
         * happened and no time passed: the service cannot wait (or has
         * nothing to wait on), so sleep a little instead of spinning. */
        if (r > 0 || others > 0) continue;
        if (hive__engine_clock(e) - now < 200000u)
            sleep_ns(left < 1000000u ? left : 1000000u);
    }
    uint64_t t1 = hive__engine_clock(e);
    e->st.idle_ns += t1 > t0 ? t1 - t0 : 0;
}

void hive__engine_free_services(hive_engine *e)
{
    hive__free(e->svc);
    e->svc = NULL;
    e->nsvc = e->svc_cap = 0;
}
