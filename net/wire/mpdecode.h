/*
 * net/mpdecode.h - decode one msgpack object into msgpack-c's
 * msgpack_object tree with msgpack-c's own unpacker, for bodies
 * hive__msgpack_scan has already proven well formed. The scan must come
 * first: msgpack-c reserves memory for the element counts a body declares
 * before reading the elements, so a 5-byte body could ask for gigabytes.
 */
#ifndef HIVE_NET_MPDECODE_H
#define HIVE_NET_MPDECODE_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

/*
 * hive__mp_decode - decode p[0..n), exactly one object, into *out.
 * Scans first (hive__msgpack_scan), so hostile input is safe here.
 * Arrays and maps are allocated in z; strings, bins and exts may point
 * into p, which must outlive *out. Returns 0, HIVE_EMSGPACK (not exactly
 * one valid object, or nested deeper than HIVE__MSGPACK_MAX_DEPTH),
 * HIVE_ENOMEM.
 */
int hive__mp_decode(const uint8_t *p, size_t n, msgpack_zone *z, msgpack_object *out);

/* hive__mp_decode_scanned - the same without the scan, for a body that
 * hive__msgpack_scan has just accepted (the receive path scans every body
 * once, decoded or not). Never call it on unscanned input. */
int hive__mp_decode_scanned(const uint8_t *p, size_t n, msgpack_zone *z, msgpack_object *out);

/*
 * hive__mp_unpack - check p[0..n) (hive__msgpack_scan) and decode it into
 * up, which gets a zone of its own: what msgpack_unpack_next does, for
 * code that frees with msgpack_unpacked_destroy. up must have been
 * initialised (msgpack_unpacked_init); on failure it holds nothing.
 * Returns 0, HIVE_EMSGPACK, HIVE_ENOMEM.
 */
int hive__mp_unpack(msgpack_unpacked *up, const void *p, size_t n);

#endif /* HIVE_NET_MPDECODE_H */
