/*
 * hive/bus.h - Hive's publish/subscribe event bus.
 *
 * Events have names of the form `namespace:category.sub.name` (for example
 * `net:server.connection.recv`). A name is interned once into a small
 * integer id (hive_event_id); publishing by id does no string work.
 *
 * NAMES
 *   A name is a non-empty sequence of segments separated by ':' or '.'.
 *   A segment is one or more of [A-Za-z0-9_-/+@#$]. Names may hold several
 *   ':' (for example `net:recv.game:chat`). Maximum length: HIVE_NAME_MAX-1.
 *
 * PATTERNS (for subscriptions and triggers)
 *   A pattern is a name in which a whole segment may be a wildcard:
 *     `*`   matches exactly one segment;
 *     `**`  matches one or more segments, separators included.
 *   Separators must match literally. So `net:server.connection.*` matches
 *   `net:server.connection.recv` but not `net:server.start`; `net:**`
 *   matches every event of the `net` namespace; `**` matches every event.
 *   A `*` that is only part of a segment (`conn*`) is malformed
 *   (HIVE_EPATTERN). A pattern without wildcards is an exact subscription.
 *   Patterns are resolved against known names when a subscription or a new
 *   name is added, never while publishing.
 *   hive_bus_subscribe() reports a malformed string that contains a `*` as
 *   HIVE_EPATTERN and one without any `*` (an exact name) as HIVE_ENAME.
 *
 * ORDER AND RE-ENTRANCY
 *   Handlers run by descending priority; equal priorities run in the order
 *   they were subscribed (pattern and exact subscriptions interleave by that
 *   same rule). Inside a handler one may subscribe, unsubscribe (itself or
 *   any other), add/remove triggers, and publish (nested publish runs
 *   synchronously, depth-first). A subscription added during a dispatch
 *   does not run for the event in flight (it does for events published
 *   after it was added, nested ones included); a removed one never runs
 *   again, not even later in the same dispatch.
 *   Triggers take their place in that order by their priority; observers
 *   run after everything else. A condition is evaluated just before its
 *   handler would run. A `once` subscription is removed just before its
 *   handler runs, so a nested publish of the same event does not run it
 *   again. Memory of removed subscriptions is reclaimed when the outermost
 *   delivery returns.
 *
 * THREADS
 *   A bus has one owner thread: the thread that calls subscribe, publish,
 *   dispatch and destroy. hive_bus_post(), hive_bus_intern(),
 *   hive_bus_wants(), hive_bus_stats(), hive_bus_count(), hive_bus_name() and hive_bus_lookup()
 *   are safe from any thread.
 */
#ifndef HIVE_BUS_H
#define HIVE_BUS_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HIVE_NAME_MAX 128

typedef struct hive_bus hive_bus;

/* An interned event name. Valid ids are > 0; 0 is never a valid id. */
typedef int hive_event_id;

/* ------------------------------------------------------------------ */
/* Event data: typed fields read by key                                */
/* ------------------------------------------------------------------ */

typedef enum hive_type {
    HIVE_T_NONE = 0,
    HIVE_T_INT,     /* int64_t */
    HIVE_T_DOUBLE,  /* double */
    HIVE_T_STR,     /* NUL-terminated string (len excludes the NUL) */
    HIVE_T_BYTES,   /* pointer + length */
    HIVE_T_PTR,     /* opaque pointer, never owned or copied by the bus */
    HIVE_T_MSGPACK  /* a msgpack object: raw encoded bytes, plus optionally
                       its decoded `msgpack_object *` (sync path only) */
} hive_type;

typedef struct hive_field {
    const char *key;   /* static or outliving the event; compared by strcmp */
    hive_type type;
    union {
        int64_t i;
        double d;
        struct { const char *s; size_t len; } str;
        struct { const void *p; size_t len; } bytes;
        void *ptr;
        /* raw: encoded msgpack (always set); obj: decoded msgpack_object*
         * or NULL. A queued (posted) event copies raw and sets obj NULL. */
        struct { const void *raw; size_t len; const void *obj; } mp;
    } v;
} hive_field;

/* Build fields inline without allocating, e.g.
 *   hive_field f[] = { HIVE_INT("cid", 7), HIVE_STR("addr", "127.0.0.1") };
 *   hive_bus_publish(bus, id, f, 2);                                       */
#define HIVE_INT(k, x)    ((hive_field){ .key = (k), .type = HIVE_T_INT,    .v.i = (int64_t)(x) })
#define HIVE_DOUBLE(k, x) ((hive_field){ .key = (k), .type = HIVE_T_DOUBLE, .v.d = (double)(x) })
#define HIVE_STR(k, x)    hive_field_str((k), (x))
#define HIVE_BYTES(k, p, n) ((hive_field){ .key = (k), .type = HIVE_T_BYTES, .v.bytes = { (p), (n) } })
#define HIVE_PTR(k, x)    ((hive_field){ .key = (k), .type = HIVE_T_PTR,    .v.ptr = (void *)(x) })
#define HIVE_MSGPACK(k, raw, n, obj) ((hive_field){ .key = (k), .type = HIVE_T_MSGPACK, .v.mp = { (raw), (n), (obj) } })

/*
 * hive_field_str - a string field (what HIVE_STR expands to; a function so
 * `x` is evaluated once). k: the key, not copied. x: a NUL-terminated
 * string or NULL (read as ""); not copied, so it must outlive the publish
 * (hive_bus_post copies it). Inline, allocation-free, thread-safe.
 */
static inline hive_field hive_field_str(const char *k, const char *x)
{
    hive_field f = { .key = k, .type = HIVE_T_STR };
    size_t n = 0;
    if (x) while (x[n]) n++;
    f.v.str.s = x;
    f.v.str.len = n;
    return f;
}

/* One event, as a handler sees it. Valid only during the handler call;
 * copy what you need to keep. */
typedef struct hive_event {
    hive_bus *bus;            /* the emitter */
    hive_event_id id;
    const char *name;         /* interned name, lives as long as the bus */
    const hive_field *fields;
    size_t nfields;
} hive_event;

/* Field lookup. Return the field with that key, or NULL. */
const hive_field *hive_event_field(const hive_event *ev, const char *key);

/* Typed getters: return HIVE_OK and store the value, HIVE_ENOENT when the
 * key is absent, HIVE_ETYPE when it holds another type (HIVE_EINVAL on NULL
 * ev/key). Borrowed pointers live as long as the event. */
int hive_event_get_int(const hive_event *ev, const char *key, int64_t *out);
int hive_event_get_double(const hive_event *ev, const char *key, double *out);
int hive_event_get_str(const hive_event *ev, const char *key, const char **out, size_t *len);
int hive_event_get_bytes(const hive_event *ev, const char *key, const void **out, size_t *len);
int hive_event_get_ptr(const hive_event *ev, const char *key, void **out);
int hive_event_get_msgpack(const hive_event *ev, const char *key,
                           const void **raw, size_t *len, const void **obj);

/*
 * hive_event_attach - give the current delivery of ev a temporary it owns:
 * after the last handler (and condition, and trigger action) of this
 * delivery returns, the bus calls release(data) once. Every handler of the
 * same delivery sees it through hive_event_attached(ev, key), so a value
 * derived from the event (hive_event_body decodes the body this way) is
 * computed once per delivery, whether the event was published or posted.
 * One temporary per event and key: HIVE_EEXIST when one is already
 * attached under that key; HIVE_ESTATE when ev->bus is not
 * delivering anything (a hand-built event outside a handler); HIVE_ELIMIT
 * when 8 temporaries are held already (by nested deliveries or other keys); HIVE_EINVAL for NULL ev, key
 * or release. Use the pointer the handler was given: a temporary is found
 * by it, and a copy's is released with the delivery that was running.
 * Owner thread (the handler's); the data must not be used after release.
 */
int hive_event_attach(const hive_event *ev, const void *key, void *data, void (*release)(void *data));

/* hive_event_attached - the temporary attached under key during this
 * delivery, or NULL. */
void *hive_event_attached(const hive_event *ev, const void *key);

/* Convenience getters: the value, or `def` when absent or of another type
 * (an INT field read as double is converted). hive_event_str returns NULL
 * when absent. */
int64_t     hive_event_int(const hive_event *ev, const char *key, int64_t def);
double      hive_event_double(const hive_event *ev, const char *key, double def);
const char *hive_event_str(const hive_event *ev, const char *key);
void       *hive_event_ptr(const hive_event *ev, const char *key);

/* ------------------------------------------------------------------ */
/* Bus lifetime                                                         */
/* ------------------------------------------------------------------ */

/* What post() does when the queue is full. */
typedef enum hive_overflow {
    HIVE_OVERFLOW_DROP_NEWEST = 0, /* the new event is dropped, post returns HIVE_EFULL (default) */
    HIVE_OVERFLOW_DROP_OLDEST,     /* the oldest queued event is dropped, post succeeds */
    HIVE_OVERFLOW_BLOCK            /* post waits until dispatch makes room */
} hive_overflow;

/* Zero means default for every field. */
typedef struct hive_bus_config {
    size_t queue_capacity;     /* posted events held at most; rounded up to a
                                  power of two; default 65536, max 1<<24 */
    hive_overflow overflow;    /* default HIVE_OVERFLOW_DROP_NEWEST */
    size_t inline_bytes;       /* field payload bytes stored inline per queued
                                  event before spilling to the heap; default 64,
                                  max 32768. Payload = the bytes a post copies:
                                  each string + its NUL, bytes, msgpack raw.
                                  Each queue slot also holds up to 4 field
                                  descriptors inline; an event with more fields
                                  or more payload costs one allocation in
                                  hive_bus_post. Memory: capacity * (256 +
                                  inline_bytes - 64) bytes, roughly (16 MiB
                                  with the defaults; a bus that posts little
                                  can ask for a smaller queue). */
} hive_bus_config;

/*
 * hive_bus_create - make a bus.
 * cfg: may be NULL (all defaults). Copied.
 * Returns the bus, or NULL when out of memory or cfg is invalid
 * (queue_capacity, inline_bytes or overflow out of range):
 * hive_create_error() then names the field.
 * The calling thread becomes the owner thread.
 */
hive_bus *hive_bus_create(const hive_bus_config *cfg);

/*
 * hive_bus_destroy - free the bus, its names, subscriptions, triggers and
 * any events still queued (they are dropped without dispatch).
 * NULL is a no-op. Owner thread only; no thread may be posting.
 * Must not be called from inside a handler (such a call is ignored: the
 * bus is not freed).
 */
void hive_bus_destroy(hive_bus *bus);

/* ------------------------------------------------------------------ */
/* Names                                                                */
/* ------------------------------------------------------------------ */

/*
 * hive_bus_intern - the id for a name, creating it if new (new names are
 * matched against existing pattern subscriptions at this moment).
 * Returns the id (> 0), HIVE_ENAME for a malformed name, HIVE_EINVAL for
 * NULL, HIVE_ENOMEM. Thread-safe.
 */
hive_event_id hive_bus_intern(hive_bus *bus, const char *name);

/* hive_bus_lookup - the id of an already interned name, or HIVE_ENOENT.
 * Thread-safe. */
hive_event_id hive_bus_lookup(const hive_bus *bus, const char *name);

/* hive_bus_name - the interned name for an id, or NULL. The string lives
 * as long as the bus. Thread-safe. */
const char *hive_bus_name(const hive_bus *bus, hive_event_id id);

/* ------------------------------------------------------------------ */
/* Subscriptions                                                        */
/* ------------------------------------------------------------------ */

typedef void (*hive_handler)(const hive_event *ev, void *user);
typedef bool (*hive_condition)(const hive_event *ev, void *user);

/* Zero means default: priority 0, every time, no condition. */
typedef struct hive_sub_opts {
    int priority;           /* higher runs first */
    bool once;              /* remove after the first run of the handler
                               (a call rejected by the condition does not count) */
    hive_condition cond;    /* optional: handler runs only when cond returns true */
    void *cond_user;        /* passed to cond */
} hive_sub_opts;

/*
 * hive_bus_subscribe - call `fn(ev, user)` for every event whose name
 * matches `pattern` (an exact name or a wildcard pattern, see above).
 * opts: may be NULL. Copied.
 * Returns a subscription id (> 0), or HIVE_EINVAL (NULL bus/pattern/fn),
 * HIVE_EPATTERN / HIVE_ENAME, HIVE_ENOMEM. Owner thread; safe in handlers.
 * An exact name that is not interned yet is interned.
 */
int hive_bus_subscribe(hive_bus *bus, const char *pattern, hive_handler fn,
                       void *user, const hive_sub_opts *opts);

/* hive_bus_subscribe_id - the same for an interned id (exact).
 * HIVE_EINVAL also when id is not an interned id. */
int hive_bus_subscribe_id(hive_bus *bus, hive_event_id id, hive_handler fn,
                          void *user, const hive_sub_opts *opts);

/*
 * hive_bus_unsubscribe - remove a subscription (or an observer).
 * Returns HIVE_OK, or HIVE_ENOENT for an unknown/already removed id
 * (HIVE_EINVAL for a NULL bus).
 * Owner thread; safe inside any handler, including the subscription's own.
 */
int hive_bus_unsubscribe(hive_bus *bus, int sub);

/*
 * hive_bus_observe - a catch-all observer: called for every event
 * delivered on this bus (published or dispatched), after its subscribers.
 * Observers make hive_bus_wants() true for every id.
 * Returns a subscription id for hive_bus_unsubscribe, or a negative code.
 */
int hive_bus_observe(hive_bus *bus, hive_handler fn, void *user);

/*
 * hive_bus_wants - does anyone listen to `id`? (a subscription, a trigger
 * or an observer). Producers use it to skip building events nobody wants.
 * Cheap (a few loads, no lock) and safe from any thread; the answer may
 * be stale by the time a cross-thread post arrives.
 */
bool hive_bus_wants(const hive_bus *bus, hive_event_id id);

/* ------------------------------------------------------------------ */
/* Publishing                                                           */
/* ------------------------------------------------------------------ */

/*
 * hive_bus_publish - deliver an event now, on the calling (owner) thread.
 * fields: borrowed for the duration of the call; may be NULL when n == 0.
 * Allocates nothing. With no listener it returns after one check.
 * Returns the number of handlers that ran (>= 0; each trigger action and
 * each observer counts one), or HIVE_EINVAL for a bad id/bus (or for
 * fields == NULL with n > 0 when someone listens).
 */
int hive_bus_publish(hive_bus *bus, hive_event_id id,
                     const hive_field *fields, size_t n);

/* hive_bus_publish_name - interns `name` then publishes. Returns as
 * hive_bus_publish, or the hive_bus_intern error. */
int hive_bus_publish_name(hive_bus *bus, const char *name,
                          const hive_field *fields, size_t n);

/*
 * hive_bus_post - queue an event for the owner thread. Safe from any
 * thread. The bus copies the fields: keys are kept by pointer (they must
 * be static or outlive the bus), strings, bytes and msgpack raw bytes are
 * copied; PTR values are copied as pointers.
 * Returns HIVE_OK, HIVE_EFULL (queue full under DROP_NEWEST: the event is
 * dropped and counted), HIVE_ENOMEM, HIVE_EINVAL (also for a field with a
 * NULL key, an unknown type, or a NULL pointer with a non-zero length).
 * Under HIVE_OVERFLOW_BLOCK a post from the owner thread itself never waits
 * (nobody else would make room): it is dropped with HIVE_EFULL. A blocked
 * producer spins briefly, then sleeps until dispatch frees a slot.
 * Events from one thread are dispatched in the order that thread posted them.
 */
int hive_bus_post(hive_bus *bus, hive_event_id id,
                  const hive_field *fields, size_t n);

/*
 * hive_bus_dispatch - deliver up to `max` queued events (0: all that were
 * queued when the call began). Owner thread. May be called from a handler
 * of a published event, but not from a handler of a dispatched one
 * (HIVE_ESTATE).
 * Returns the number of events dispatched (>= 0), or a negative code.
 */
int hive_bus_dispatch(hive_bus *bus, size_t max);

/*
 * hive_bus_dispatch_for - deliver queued events until the queue is empty
 * or `budget_ns` nanoseconds have passed (checked between events; an
 * event already started always finishes; the first queued event is always
 * dispatched, so a frame makes progress even with a tiny budget). For a
 * frame's time budget. Events posted while it runs are dispatched too.
 * Returns the number dispatched, or a negative code. Owner thread.
 */
int hive_bus_dispatch_for(hive_bus *bus, uint64_t budget_ns);

/* ------------------------------------------------------------------ */
/* Triggers (several events, all conditions, several actions)          */
/* ------------------------------------------------------------------ */

typedef struct hive_trigger_cond {
    hive_condition fn;
    void *user;
} hive_trigger_cond;

typedef struct hive_trigger_action {
    hive_handler fn;
    void *user;
} hive_trigger_action;

typedef struct hive_trigger_desc {
    const char *name;                   /* required, unique per bus; copied */
    const char *const *events;          /* names or patterns; at least one */
    size_t nevents;
    const hive_trigger_cond *conds;     /* all must pass (AND); may be empty */
    size_t nconds;
    const hive_trigger_action *actions; /* at least one; run in order */
    size_t nactions;
    int priority;                       /* as for subscriptions */
    bool single_shot;                   /* remove the whole trigger after it fires once */
} hive_trigger_desc;

/*
 * hive_bus_trigger_add - add a trigger as one unit (all or nothing).
 * The desc and its arrays are copied. When an event matching one of its
 * names/patterns is delivered, the conditions run in order (stopping at the
 * first false); if all pass the trigger fires: its `fired` count grows and
 * every action runs, in order. A firing always runs all its actions, even
 * if one of them removes the trigger; a removed trigger never fires again.
 * A single-shot trigger is removed as it fires. Exact event names are
 * interned (and stay interned even if the add then fails).
 * Returns HIVE_OK, HIVE_EEXIST (name taken), HIVE_EINVAL (missing name,
 * events or actions), HIVE_EPATTERN/HIVE_ENAME, HIVE_ENOMEM.
 * Owner thread; safe in handlers.
 */
int hive_bus_trigger_add(hive_bus *bus, const hive_trigger_desc *desc);

/* hive_bus_trigger_remove - remove a trigger by name. Safe from inside its
 * own action. Returns HIVE_OK or HIVE_ENOENT (HIVE_EINVAL for NULL).
 * Owner thread. */
int hive_bus_trigger_remove(hive_bus *bus, const char *name);

/*
 * hive_bus_trigger_cond_add / _remove - change a live trigger's
 * conditions: add one at the end (copied), or remove the first one with
 * the same fn and user. A change made while the trigger's event is being
 * delivered (from a condition or an action) counts from the next event
 * on. HIVE_OK, HIVE_ENOENT (no such trigger, or no such condition),
 * HIVE_EINVAL (NULL name or fn), HIVE_ENOMEM. Owner thread; safe in
 * handlers. hive_bus_trigger_conds: how many it has (0 for none or no
 * trigger).
 */
int hive_bus_trigger_cond_add(hive_bus *bus, const char *name, hive_trigger_cond cond);
int hive_bus_trigger_cond_remove(hive_bus *bus, const char *name, hive_trigger_cond cond);
size_t hive_bus_trigger_conds(const hive_bus *bus, const char *name);

/* hive_bus_trigger_find - HIVE_OK when a trigger of that name exists,
 * HIVE_ENOENT otherwise (HIVE_EINVAL for NULL bus/name). `fired`, if not
 * NULL, receives how many times it fired. Owner thread. */
int hive_bus_trigger_find(const hive_bus *bus, const char *name, uint64_t *fired);

/* ------------------------------------------------------------------ */
/* Handlers declared in one statement                                   */
/* ------------------------------------------------------------------ */

/*
 * A handler with its name, pattern, priority and condition in one place:
 * C's answer to a decorator is a table of these, declared once next to
 * the handlers and subscribed in one call:
 *
 *   static const hive_handler_desc game_handlers[] = {
 *       { "chat", "net:server.recv.game:chat", on_chat, .priority = 10 },
 *       { "move", "net:server.recv.game:move", on_move, .cond = is_alive },
 *   };
 *   hive_bus_subscribe_all(bus, game_handlers, 2, game, NULL);
 *
 * name is for the reader and for logs (the bus does not keep it); the
 * condition gets the same user as the handler.
 */
typedef struct hive_handler_desc {
    const char *name;
    const char *pattern;
    hive_handler fn;
    int priority;
    hive_condition cond;
    bool once;
} hive_handler_desc;

/* hive_bus_subscribe_desc - hive_bus_subscribe from a descriptor: the
 * subscription id or its error. */
int hive_bus_subscribe_desc(hive_bus *bus, const hive_handler_desc *d, void *user);

/* hive_bus_subscribe_all - every descriptor of d[0..n), all or nothing;
 * ids (may be NULL) receives the subscription ids. Returns n or the
 * first error (then none stays subscribed), HIVE_ENOMEM. */
int hive_bus_subscribe_all(hive_bus *bus, const hive_handler_desc *d, size_t n, void *user, int *ids);

/* ------------------------------------------------------------------ */
/* Waiting for an event                                                 */
/* ------------------------------------------------------------------ */

/* ev: the event that came, or NULL when the wait timed out. */
typedef void (*hive_expect_fn)(const hive_event *ev, void *user);

/*
 * hive_bus_expect - call fn once: with the first event matching pattern
 * (a name or pattern) for which cond (may be NULL) is true, or with NULL
 * when timeout_ms (0: none) passes first. For game loops: the timeout is
 * checked by hive_bus_dispatch, hive_bus_dispatch_for and hive_bus_expire
 * (and by hive_server_service / hive_client_service for their bus), so a
 * wait ends within one of those calls after its time. fn runs after the
 * event's other handlers. Returns an id (> 0) for hive_bus_expect_cancel,
 * or HIVE_EINVAL, HIVE_EPATTERN / HIVE_ENAME, HIVE_ENOMEM. Owner thread;
 * safe in handlers (also in fn itself, to wait again).
 */
int hive_bus_expect(hive_bus *bus, const char *pattern, hive_condition cond, void *cond_user, uint32_t timeout_ms,
                    hive_expect_fn fn, void *user);

/* hive_bus_expect_cancel - forget a wait that has not fired (fn is never
 * called). HIVE_OK, HIVE_ENOENT (fired or cancelled already). */
int hive_bus_expect_cancel(hive_bus *bus, int id);

/* hive_bus_expire - end the waits whose time is up (fn(NULL, user) for
 * each). Returns how many. Owner thread; cheap when nobody waits. */
int hive_bus_expire(hive_bus *bus);

/* A copy of an event that outlives its delivery: ev is readable with the
 * hive_event_* getters until hive_event_copy_free. Everything is copied
 * (name, keys, strings, bytes, msgpack bytes; PTR values as pointers); a
 * MSGPACK field's decoded object is not (its obj is NULL: decode raw). */
typedef struct hive_event_copy {
    hive_event ev;
} hive_event_copy;

/* hive_event_copy_make - one allocation; NULL when out of memory. */
hive_event_copy *hive_event_copy_make(const hive_event *ev);
void hive_event_copy_free(hive_event_copy *c);   /* NULL is a no-op */

/* ------------------------------------------------------------------ */
/* Statistics                                                           */
/* ------------------------------------------------------------------ */

typedef struct hive_bus_counters {
    uint64_t published;   /* hive_bus_publish calls with a valid id */
    uint64_t posted;      /* events accepted into the queue */
    uint64_t dispatched;  /* queued events delivered */
    uint64_t dropped;     /* events lost to overflow (either drop policy) */
    uint64_t delivered;   /* handler calls made (subscriptions, triggers, observers) */
    size_t   queued;      /* events waiting now */
    size_t   names;       /* interned names */
    size_t   subscriptions; /* live subscriptions, observers included */
    size_t   triggers;      /* live triggers */
} hive_bus_counters;

/* hive_bus_stats - snapshot the counters into *out. Thread-safe (values from other
 * threads may be slightly stale). Returns HIVE_OK or HIVE_EINVAL. */
int hive_bus_stats(const hive_bus *bus, hive_bus_counters *out);

/* hive_bus_count - how many times `id` was published or dispatched.
 * Returns 0 for unknown ids. */
uint64_t hive_bus_count(const hive_bus *bus, hive_event_id id);

#ifdef __cplusplus
}
#endif

#endif /* HIVE_BUS_H */
