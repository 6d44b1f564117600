/* mpdecode.c - msgpack bodies into msgpack_object trees (net/mpdecode.h).
 *
 * The decoding itself is msgpack-c's (msgpack_unpack into a zone): message
 * bodies have no msgpack codec of Hive's own (only the bridge's small fixed
 * envelope does, bridge/codec.c, checked against msgpack-c's by
 * fuzz_bridge). What Hive adds is the allocation-free
 * scan that must pass first (hive__msgpack_scan), because msgpack-c
 * allocates in proportion to the element counts a body declares, and a
 * chunk size fitted to the message. */
#include "net/wire/mpdecode.h"
#include "net/wire/frame.h"

#include <string.h>

int hive__mp_decode(const uint8_t *p, size_t n, msgpack_zone *z, msgpack_object *out)
{
    if (!p || !z || !out || n == 0) return HIVE_EMSGPACK;
    if (hive__msgpack_scan(p, n) != 0) return HIVE_EMSGPACK;
    return hive__mp_decode_scanned(p, n, z, out);
}

int hive__mp_decode_scanned(const uint8_t *p, size_t n, msgpack_zone *z, msgpack_object *out)
{
    if (!p || !z || !out || n == 0) return HIVE_EMSGPACK;
    size_t off = 0;
    msgpack_unpack_return r = msgpack_unpack((const char *)p, n, &off, z, out);
    if (r == MSGPACK_UNPACK_NOMEM_ERROR) return HIVE_ENOMEM;
    if (r != MSGPACK_UNPACK_SUCCESS || off != n) return HIVE_EMSGPACK;
    return 0;
}

int hive__mp_unpack(msgpack_unpacked *up, const void *p, size_t n)
{
    if (!p && n) return HIVE_EMSGPACK;
    if (hive__msgpack_scan(p, n) != 0) return HIVE_EMSGPACK;
    /* A chunk sized to the message (every element takes a byte of it)
     * rather than msgpack-c's 8 KiB: small blocks stay in malloc's fast
     * path. The zone grows if a message needs more. */
    size_t chunk = 128 + 8 * n;
    if (chunk > MSGPACK_ZONE_CHUNK_SIZE) chunk = MSGPACK_ZONE_CHUNK_SIZE;
    msgpack_zone *z = msgpack_zone_new(chunk);
    if (!z) return HIVE_ENOMEM;
    int rc = hive__mp_decode_scanned(p, n, z, &up->data);
    if (rc) {
        msgpack_zone_free(z);
        up->data.type = MSGPACK_OBJECT_NIL;
        return rc;
    }
    if (up->zone) msgpack_zone_free(up->zone);
    up->zone = z;
    return 0;
}
