/*
 * fuzz_mp_decode.c - libFuzzer target for Hive's msgpack decoder
 * (net/mpdecode.h). The input is a message body. Whatever passes
 * hive__msgpack_scan must decode, with Hive's decoder and with msgpack-c's
 * msgpack_unpack, into the same tree (types, values, float bits, sizes,
 * pointers into the input), and Hive's decoder refuses exactly what the
 * scan refuses. Invariants are checked
 * with abort(). Build and run: tools/fuzz.sh (make fuzz).
 */
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "net/frame.h"
#include "net/mpdecode.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static int same(const msgpack_object *a, const msgpack_object *b)
{
    if (a->type != b->type) return 0;
    switch (a->type) {
    case MSGPACK_OBJECT_NIL: return 1;
    case MSGPACK_OBJECT_BOOLEAN: return a->via.boolean == b->via.boolean;
    case MSGPACK_OBJECT_POSITIVE_INTEGER: return a->via.u64 == b->via.u64;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return a->via.i64 == b->via.i64;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: return memcmp(&a->via.f64, &b->via.f64, sizeof(double)) == 0;
    case MSGPACK_OBJECT_STR:
        return a->via.str.size == b->via.str.size && (!a->via.str.size || a->via.str.ptr == b->via.str.ptr);
    case MSGPACK_OBJECT_BIN:
        return a->via.bin.size == b->via.bin.size && (!a->via.bin.size || a->via.bin.ptr == b->via.bin.ptr);
    case MSGPACK_OBJECT_EXT:
        return a->via.ext.type == b->via.ext.type && a->via.ext.size == b->via.ext.size &&
               a->via.ext.ptr == b->via.ext.ptr;
    case MSGPACK_OBJECT_ARRAY:
        if (a->via.array.size != b->via.array.size || !a->via.array.ptr || !b->via.array.ptr) return 0;
        for (uint32_t i = 0; i < a->via.array.size; i++)
            if (!same(&a->via.array.ptr[i], &b->via.array.ptr[i])) return 0;
        return 1;
    case MSGPACK_OBJECT_MAP:
        if (a->via.map.size != b->via.map.size || !a->via.map.ptr || !b->via.map.ptr) return 0;
        for (uint32_t i = 0; i < a->via.map.size; i++)
            if (!same(&a->via.map.ptr[i].key, &b->via.map.ptr[i].key) ||
                !same(&a->via.map.ptr[i].val, &b->via.map.ptr[i].val)) return 0;
        return 1;
    default:
        return 0;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    msgpack_zone *zh = msgpack_zone_new(MSGPACK_ZONE_CHUNK_SIZE);
    CHECK(zh);
    msgpack_object h;
    int hr = hive__mp_decode(data, size, zh, &h);
    CHECK(hr == 0 || hr == HIVE_EMSGPACK || hr == HIVE_ENOMEM);
    int scan = hive__msgpack_scan(data, size);
    /* The decoder refuses exactly what the scan refuses. */
    CHECK((hr == 0) == (scan == 0) || hr == HIVE_ENOMEM);
    if (scan == 0 && hr == 0) {
        msgpack_zone *zm = msgpack_zone_new(MSGPACK_ZONE_CHUNK_SIZE);
        CHECK(zm);
        msgpack_object m;
        size_t off = 0;
        msgpack_unpack_return r = msgpack_unpack((const char *)data, size, &off, zm, &m);
        CHECK(r == MSGPACK_UNPACK_SUCCESS && off == size);
        CHECK(same(&m, &h));
        msgpack_zone_free(zm);
    }
    msgpack_zone_free(zh);
    return 0;
}
