/*
 * net/registry_wire.h - the packet registry's table on the wire (internal).
 *
 * The server sends its table in `welcome`; the client decodes it into a
 * NEW registry and swaps it in whole, so a half-decoded table never exists.
 * Encoding (docs/PROTOCOL.md, "Wire: Registry table encoding"): a msgpack
 * map { name: entry }, where entry is the id (unsigned int) for a reliable
 * packet type, or the array [id, delivery] (delivery 1 = unreliable).
 */
#ifndef HIVE_NET_REGISTRY_WIRE_H
#define HIVE_NET_REGISTRY_WIRE_H

#include <msgpack.h>
#include "hive/registry.h"

/*
 * hive__registry_pack - write r as one msgpack map with pk.
 * Returns 0, HIVE_EINVAL (NULL argument) or HIVE_ENOMEM (packer write
 * failed; pk's buffer then holds a partial map and must be discarded).
 */
int hive__registry_pack(const hive_registry *r, msgpack_packer *pk);
/* The same; channels false leaves every type's channel out (for a link
 * with one lane, where it means nothing, and whose peer may predate
 * channels: docs/PROTOCOL.md "Channels"). */
int hive__registry_pack_ch(const hive_registry *r, msgpack_packer *pk, bool channels);

/*
 * hive__registry_from_msgpack - build a new registry from a decoded table.
 * All or nothing: on success *out owns a new registry (destroy it);
 * on failure *out is untouched. Returns 0, HIVE_EPROTO for a malformed
 * table (not a map, non-string key, bad name, id < HIVE_PID_USER_MIN or
 * > HIVE_PID_MAX, bad entry or delivery, duplicate name or id),
 * HIVE_EINVAL (NULL argument), HIVE_ENOMEM.
 */
int hive__registry_from_msgpack(const msgpack_object *obj, hive_registry **out);

#endif /* HIVE_NET_REGISTRY_WIRE_H */
