/*
 * fuzz_bridge.c - libFuzzer target for what the bridge reads from NATS.
 *
 * First input byte chooses the mode:
 *   0:    the rest is a message body for hive__bridge_decode, which must
 *         give the verdict hive__bridge_decode_ref (msgpack-c's unpacker)
 *         gives, with the same origin, name and fields; one that decodes
 *         must encode (hive__bridge_encode, byte for byte what
 *         hive__bridge_encode_ref writes) and decode back to the same;
 *   1:    the rest is a NATS subject for hive__bridge_name_of; a subject
 *         that names an event must map back to itself (hive_bridge_subject);
 *   2:    the rest is a shard set announcement; one that decodes must
 *         encode and decode back to the same.
 * (The first byte modulo 3 picks: 0, 1, 2.)
 * Build and run: tools/fuzz.sh (make fuzz).
 */
#include <stdlib.h>
#include <string.h>

#include "bridge/codec.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    if (data[0] % 3 == 2) {
        static msgpack_zone z;
        static bool zready;
        if (!zready) zready = msgpack_zone_init(&z, 2048);
        CHECK(zready);
        hive__shard_msg m, back;
        if (hive__bridge_shard_decode(p, n, &z, &m) != HIVE_OK) return 0;
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        CHECK(hive__bridge_shard_encode(&sb, &m) == HIVE_OK);
        CHECK(hive__bridge_shard_decode((const uint8_t *)sb.data, sb.size, &z, &back) == HIVE_OK);
        CHECK(memcmp(&m, &back, sizeof m) == 0);
        msgpack_sbuffer_destroy(&sb);
    } else if (data[0] % 3 == 0) {
        static hive__bridge_decoded d, e, r;
        static bool ready;
        if (!ready) {
            CHECK(hive__bridge_decoded_init(&d) == HIVE_OK && hive__bridge_decoded_init(&e) == HIVE_OK &&
                  hive__bridge_decoded_init(&r) == HIVE_OK);
            ready = true;   /* reused by every input, as the bridge does */
        }
        /* the bridge passes the (carriable) name its subject maps to: some
         * inputs name it, and the verdict must not change */
        d.known_name = (data[0] & 4) ? "game:chat" : NULL;
        int rc = hive__bridge_decode(p, n, &d);
        CHECK(rc == hive__bridge_decode_ref(p, n, &r));
        if (rc != HIVE_OK) return 0;
        CHECK(strcmp(d.origin, r.origin) == 0 && strcmp(d.name, r.name) == 0 && d.n == r.n);
        for (size_t i = 0; i < d.n; i++) CHECK(hive__bridge_field_eq(&d.f[i], &r.f[i]));
        CHECK(hive__bridge_origin_ok(d.origin, strlen(d.origin)));
        CHECK(hive__bridge_carriable(d.name));
        msgpack_sbuffer sb, sr;
        msgpack_sbuffer_init(&sb);
        msgpack_sbuffer_init(&sr);
        CHECK(hive__bridge_encode(&sb, d.origin, d.name, d.f, d.n) == HIVE_OK);
        CHECK(hive__bridge_encode_ref(&sr, d.origin, d.name, d.f, d.n) == HIVE_OK);
        CHECK(sb.size == sr.size && memcmp(sb.data, sr.data, sb.size) == 0);
        CHECK(hive__bridge_decode((const uint8_t *)sb.data, sb.size, &e) == HIVE_OK);
        CHECK(strcmp(d.origin, e.origin) == 0 && strcmp(d.name, e.name) == 0 && d.n == e.n);
        for (size_t i = 0; i < d.n; i++) CHECK(hive__bridge_field_eq(&d.f[i], &e.f[i]));
        msgpack_sbuffer_destroy(&sb);
        msgpack_sbuffer_destroy(&sr);
    } else {
        char subject[512], name[HIVE_NAME_MAX], back[512];
        if (n >= sizeof subject) return 0;
        memcpy(subject, p, n);
        subject[n] = 0;
        int k = hive__bridge_name_of("hive", subject, name, sizeof name);
        if (k < 0) return 0;
        CHECK(hive__bridge_carriable(name));
        CHECK(hive_bridge_subject("hive", name, back, sizeof back) > 0);
        CHECK(strcmp(back, subject) == 0);
    }
    return 0;
}
