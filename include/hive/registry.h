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

/*
 * CHANNELS. Every packet type travels on a channel, 0 by default. A
 * channel is an ordered stream of its own: on enet:// a reliable packet
 * of a type on channel 2 never waits for a lost reliable packet on
 * channel 0 to be sent again, and sequenced (HIVE_UNRELIABLE) packets
 * are sequenced per channel, so a late position update on channel 1 is
 * no longer dropped because a chat line on channel 0 overtook it. Within
 * one channel the order of reliable packets is kept as always, and every
 * reliable packet still arrives exactly once across a resume: each
 * channel has its own count (docs/PROTOCOL.md, "Channels").
 *
 * Use a channel for a reliable stream that should not hold up the rest:
 * a chat or inventory stream next to the game's reliable events. The
 * server's choice travels to clients with the table; both sides send a
 * type on the same channel.
 *
 * tcp://, tls:// and enet+tls:// have one ordered stream: there every
 * channel is channel 0 (the choice is allowed and changes nothing). A
 * client older than channels gets everything on channel 0 too (its table
 * is sent without channels). A large message that goes in pieces
 * (hive/net.h LARGE MESSAGES) travels on channel 0, whatever its type's
 * channel, so on another channel it is not ordered with the smaller
 * messages of its type.
 */
#define HIVE_CHANNELS_MAX 32u

/* hive_registry_set_channel - put packet type id on channel
 * 0..HIVE_CHANNELS_MAX-1. Returns 0, HIVE_ENOENT (id not registered),
 * HIVE_EINVAL (NULL r, channel out of range). */
int hive_registry_set_channel(hive_registry *r, uint32_t id, unsigned channel);

/* hive_registry_channel - the channel of type id; 0 for unknown ids and a
 * NULL r. */
unsigned hive_registry_channel(const hive_registry *r, uint32_t id);

/* hive_registry_channels - 1 + the highest channel any type uses (1 for
 * an empty table or NULL). */
unsigned hive_registry_channels(const hive_registry *r);

#ifdef __cplusplus
}
#endif

#endif /* HIVE_REGISTRY_H */
