/*
 * net/mpdecode.h - decode one msgpack object into msgpack-c's
 * msgpack_object tree, for bodies hive__msgpack_scan has already proven
 * well formed.
 *
 * The tree is what msgpack-c's msgpack_unpack builds (the same types,
 * integer signs, float widths, sizes, strings, bins and exts pointing
 * into the input, a block for every container, empty ones too), so code
 * reading a decoded message cannot tell the two apart. One difference
 * nobody can read: an empty str or bin points where its bytes would be
 * (msgpack-c leaves that pointer to chance: NULL or a stale position). It is faster because the scan has done the checking: this walk
 * only builds, with arrays and maps taken from the zone in one piece.
 * It still refuses what it cannot decode (HIVE_EMSGPACK) instead of
 * trusting its caller, but hostile element counts must be stopped by the
 * scan first: a container's array is allocated before its elements are
 * read.
 */
#ifndef HIVE_NET_MPDECODE_H
#define HIVE_NET_MPDECODE_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

/*
 * hive__mp_decode - decode p[0..n), exactly one object, into *out.
 * Arrays and maps are allocated in z; strings, bins and exts point into
 * p, which must outlive *out. Returns 0, HIVE_EMSGPACK (not exactly one
 * object, or nested deeper than HIVE__MSGPACK_MAX_DEPTH), HIVE_ENOMEM.
 */
int hive__mp_decode(const uint8_t *p, size_t n, msgpack_zone *z, msgpack_object *out);

/*
 * hive__mp_unpack - check p[0..n) (hive__msgpack_scan) and decode it into
 * up, which gets a zone of its own: what msgpack_unpack_next does, for
 * code that frees with msgpack_unpacked_destroy. up must have been
 * initialised (msgpack_unpacked_init); on failure it holds nothing.
 * Returns 0, HIVE_EMSGPACK, HIVE_ENOMEM.
 */
int hive__mp_unpack(msgpack_unpacked *up, const void *p, size_t n);

#endif /* HIVE_NET_MPDECODE_H */
