/*
 * codec.h - bridged events to and from bytes, and names to and from NATS
 * subjects. Nothing here knows NATS's client or a connection, so the
 * fuzz target (fuzz/fuzz_bridge.c) links it alone.
 */
#ifndef HIVE_BRIDGE_CODEC_H
#define HIVE_BRIDGE_CODEC_H

#include <msgpack.h>
#include <string.h>
#include "hive/bridge.h"

#define HIVE__BRIDGE_KEY_MAX 64        /* bytes of a field key, NUL included */

/* hive__bridge_carriable - can this event name cross (one ':', then '.'
 * separators only, a valid bus name)? */
bool hive__bridge_carriable(const char *name);

/* hive__bridge_name_of - the event name for a subject under prefix into
 * out[n] (the inverse of hive_bridge_subject for names). Returns the
 * length, or HIVE_ENAME when the subject is no bridged name. */
int hive__bridge_name_of(const char *prefix, const char *subject, char *out, size_t n);

/* hive__bridge_encode - the wire form of an event (origin, name, fields;
 * PTR fields left out) appended to sb. HIVE_OK, HIVE_ETOOBIG (more than
 * HIVE_BRIDGE_MAX_FIELDS carried fields) or HIVE_ENOMEM. */
int hive__bridge_encode(msgpack_sbuffer *sb, const char *origin, const char *name,
                        const hive_field *f, size_t n);
/* hive__bridge_encode_ref - the same with msgpack-c's packer: the
 * definition hive__bridge_encode is checked against (byte for byte, in
 * fuzz/fuzz_bridge.c and tests/bridge); not used on the hot path. */
int hive__bridge_encode_ref(msgpack_sbuffer *sb, const char *origin, const char *name,
                            const hive_field *f, size_t n);

/* A decoded message: fields point into `zone` and the input bytes; valid
 * until the next decode into the same object. Keys are NUL-terminated
 * copies in keys[]. One object serves many decodes (the zone's memory is
 * reused): init once, fini once. */
typedef struct hive__bridge_decoded {
    char origin[HIVE_BRIDGE_ORIGIN_MAX];
    char name[HIVE_NAME_MAX];
    hive_field f[HIVE_BRIDGE_MAX_FIELDS];
    char keys[HIVE_BRIDGE_MAX_FIELDS][HIVE__BRIDGE_KEY_MAX];
    size_t n;
    msgpack_zone zone;
    bool zone_ok;
    /* set by the caller: a name already known to be carriable (the one
     * its subject maps to), whose shape need not be checked again */
    const char *known_name;
    /* keys[0..nvalid) are kept between decodes (hive__bridge_decode):
     * checked, distinct, klen[i] bytes long; interned[i] is the caller's
     * (the bridge's stable copy of keys[i]), NULL whenever keys[i] changes */
    size_t nvalid;
    uint8_t klen[HIVE_BRIDGE_MAX_FIELDS];
    const char *interned[HIVE_BRIDGE_MAX_FIELDS];
    /* the last origin that passed its check (hive__bridge_decode) */
    char last_origin[HIVE_BRIDGE_ORIGIN_MAX];
    size_t last_origin_len;
} hive__bridge_decoded;

/* hive__bridge_decoded_init / _fini - HIVE_OK or HIVE_ENOMEM. */
int hive__bridge_decoded_init(hive__bridge_decoded *d);
void hive__bridge_decoded_fini(hive__bridge_decoded *d);

/* hive__bridge_decode - check and read one message from the network.
 * Returns HIVE_OK, or HIVE_EPROTO for anything that is not a well-formed
 * bridged event: not a map, no or bad "v"/"o"/"n"/"f", an unknown
 * version, an origin or name too long or malformed, a name that cannot
 * cross, more than HIVE_BRIDGE_MAX_FIELDS fields, an empty, long,
 * reserved ("hive.") or duplicate key, a value of no bridged type, a
 * MSGPACK value that is not exactly one msgpack object, trailing bytes.
 * (HIVE_ENOMEM when the zone cannot grow.) */
int hive__bridge_decode(const uint8_t *p, size_t n, hive__bridge_decoded *out);
/* hive__bridge_decode_ref - the same through msgpack-c's unpacker: the
 * definition hive__bridge_decode is checked against (same verdict, same
 * origin, name and fields, on every fuzz input); not used on the hot
 * path. */
int hive__bridge_decode_ref(const uint8_t *p, size_t n, hive__bridge_decoded *out);

/* A shard set announcement (docs/SCALING.md, "Shards"):
 *   { "v": 1, "o": origin, "s": set, "op": "here"|"bye"|"ask", "a": addr }
 * ("a" only with "here"). */
typedef enum { HIVE__SHARD_HERE = 1, HIVE__SHARD_BYE, HIVE__SHARD_ASK } hive__shard_op;
typedef struct hive__shard_msg {
    char origin[HIVE_BRIDGE_ORIGIN_MAX];
    char set[64];
    char addr[HIVE_BRIDGE_ADDR_MAX];
    hive__shard_op op;
} hive__shard_msg;

/* hive__bridge_set_ok - a valid set name: [A-Za-z0-9_-], 1..63 bytes. */
bool hive__bridge_set_ok(const char *s, size_t n);
/* hive__bridge_shard_encode - appended to sb. HIVE_OK, HIVE_ENOMEM. */
int hive__bridge_shard_encode(msgpack_sbuffer *sb, const hive__shard_msg *m);
/* hive__bridge_shard_decode - HIVE_OK, or HIVE_EPROTO for anything else
 * than a well-formed announcement (z is cleared and reused). */
int hive__bridge_shard_decode(const uint8_t *p, size_t n, msgpack_zone *z, hive__shard_msg *out);
/* hive__bridge_hrw - the rendezvous score of member name for key. */
uint64_t hive__bridge_hrw(const char *name, const void *key, size_t len);

/* hive__bridge_origin_ok - a valid bridge name. */
bool hive__bridge_origin_ok(const char *s, size_t n);


/* hive__bridge_field_eq - two decoded fields alike: key, type and value
 * (a double bit for bit). For the checks of the codec against its
 * definition (tests/bridge/test_codec.c, fuzz/fuzz_bridge.c). */
static inline bool hive__bridge_field_eq(const hive_field *a, const hive_field *b)
{
    if (strcmp(a->key, b->key) != 0 || a->type != b->type) return false;
    switch (a->type) {
    case HIVE_T_INT: return a->v.i == b->v.i;
    case HIVE_T_DOUBLE: return memcmp(&a->v.d, &b->v.d, sizeof a->v.d) == 0;
    case HIVE_T_STR: return a->v.str.len == b->v.str.len && memcmp(a->v.str.s, b->v.str.s, a->v.str.len) == 0;
    case HIVE_T_BYTES:
        return a->v.bytes.len == b->v.bytes.len &&
               (!a->v.bytes.len || memcmp(a->v.bytes.p, b->v.bytes.p, a->v.bytes.len) == 0);
    case HIVE_T_MSGPACK: return a->v.mp.len == b->v.mp.len && memcmp(a->v.mp.raw, b->v.mp.raw, a->v.mp.len) == 0;
    default: return false;
    }
}

#endif
