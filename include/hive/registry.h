/*
 * hive/registry.h - the packet registry: packet type names <-> ids.
 *
 * Game code names its message types (`game:chat`, `game:move`); the wire
 * carries a small integer id instead. The server owns the table and sends
 * it to every client during the handshake; the client replaces its table
 * with the server's as a whole.
 *
 * Ids below HIVE_PID_USER_MIN are Hive's own (hello, welcome, ping, ...)
 * and can never be registered. Names follow the bus name rules
 * (hive/bus.h): segments of [A-Za-z0-9_-/+@#$] separated by ':' or '.',
 * at most HIVE_NAME_MAX-1 characters.
 *
 * THREADS: a registry is not locked. Several threads may read one
 * concurrently (id, name, count, at, delivery) as long as no thread
 * modifies it (add, set_delivery, destroy).
 */
#ifndef HIVE_REGISTRY_H
#define HIVE_REGISTRY_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hive_registry hive_registry;

#define HIVE_PID_USER_MIN 64u        /* ids < 64 are Hive's own */
#define HIVE_PID_MAX      0xFFFFFFu  /* largest id a user may register */

/* How a packet type travels on enet:// and enet+tls://. tcp:// and
 * tls:// carry everything reliably and in order, whatever is chosen
 * (unreliable allows loss, it never requires it). */
typedef enum hive_delivery {
    HIVE_RELIABLE   = 0,   /* reliable, ordered (the default) */
    HIVE_UNRELIABLE = 1,   /* unreliable, sequenced: a packet that arrives
                              after a later one of the same kind of
                              delivery is dropped (state the next one
                              supersedes: positions, snapshots) */
    HIVE_UNORDERED  = 2    /* unreliable, unordered: may be lost, arrives
                              in any order, never dropped for being late
                              (independent events: hits, sounds, effects) */
} hive_delivery;

/*
 * hive_registry_create - a new, empty registry.
 * Returns NULL when out of memory. Free with hive_registry_destroy().
 */
hive_registry *hive_registry_create(void);

/* hive_registry_destroy - free the registry and its names. NULL is a no-op.
 * Names returned by hive_registry_name/at are invalid afterwards. */
void hive_registry_destroy(hive_registry *r);

/*
 * hive_registry_add - register a packet type.
 *
 * name: a bus-style name, e.g. "game:chat" (copied).
 * id:   the id to use, HIVE_PID_USER_MIN..HIVE_PID_MAX, or 0 to let the
 *       registry choose the smallest free id >= HIVE_PID_USER_MIN.
 *
 * Returns the id (> 0); HIVE_EEXIST when the name or id is taken;
 * HIVE_EINVAL for a NULL r, a malformed name or an id outside the user
 * range (a reserved id < 64 included); HIVE_ELIMIT when no id is free;
 * HIVE_ENOMEM. The delivery of a new type is HIVE_RELIABLE.
 */
int hive_registry_add(hive_registry *r, const char *name, uint32_t id);

/* hive_registry_id - the id of a name; HIVE_ENOENT when not registered
 * (HIVE_EINVAL for NULL arguments). */
int hive_registry_id(const hive_registry *r, const char *name);

/* hive_registry_name - the name registered for id, or NULL. The string is
 * owned by the registry and lives until it is destroyed. */
const char *hive_registry_name(const hive_registry *r, uint32_t id);

/* hive_registry_count - number of registered packet types (0 for NULL). */
size_t hive_registry_count(const hive_registry *r);

/*
 * hive_registry_at - iterate: idx from 0 to count-1, in ascending id order.
 * name/id may be NULL when not wanted. Returns 0, HIVE_ENOENT when idx >=
 * count, HIVE_EINVAL for a NULL r. The name is owned by the registry.
 */
int hive_registry_at(const hive_registry *r, size_t idx, const char **name, uint32_t *id);

/* hive_registry_set_delivery - choose how packets of type id travel.
 * Returns 0, HIVE_ENOENT (id not registered), HIVE_EINVAL (NULL r or a
 * value outside hive_delivery). The server's choice is sent to clients
 * with the table. */
int hive_registry_set_delivery(hive_registry *r, uint32_t id, hive_delivery d);

/* hive_registry_delivery - how packets of type id travel; HIVE_RELIABLE
 * for unknown ids and a NULL r. */
hive_delivery hive_registry_delivery(const hive_registry *r, uint32_t id);

#ifdef __cplusplus
}
#endif

#endif /* HIVE_REGISTRY_H */
