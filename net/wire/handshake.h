/*
 * net/handshake.h - the bodies of Hive's own packets (ids < 64): hello,
 * welcome, reject, ready, close, ping, pong. Encoding with msgpack-c's
 * packer, decoding from msgpack-c objects; never any I/O.
 * docs/PROTOCOL.md, "Handshake" and "Close", is the normative text.
 */
#ifndef HIVE_NET_HANDSHAKE_H
#define HIVE_NET_HANDSHAKE_H

#include "hive/net.h"

/* Longest strings kept from a hello (longer ones are "bad_handshake"). */
#define HIVE__HELLO_STR_MAX   HIVE_HELLO_STR_MAX
#define HIVE__TOKEN_MAX       HIVE_TOKEN_MAX
#define HIVE__CLOSE_MSG_MAX   255
#define HIVE__MAGIC           "HIVE"

typedef struct hive__hello_msg {
    char app[HIVE__HELLO_STR_MAX + 1];
    char app_version[HIVE__HELLO_STR_MAX + 1];
    char conntype[HIVE__HELLO_STR_MAX + 1];
    const void *token;          /* points into the decoded body; NULL if absent */
    size_t token_len;
    uint32_t max_frame;         /* what the client accepts */
} hive__hello_msg;

typedef struct hive__welcome_msg {
    uint32_t cid;
    uint64_t session;
    uint32_t heartbeat_ms;
    uint32_t heartbeat_timeout_ms;
    uint32_t max_frame;         /* what the server accepts */
    char app_version[HIVE__HELLO_STR_MAX + 1];
    hive_registry *registry;    /* new table, owned by the receiver of the struct */
} hive__welcome_msg;

/* close and reject share one body: {reason, name, message}. */
typedef struct hive__close_msg {
    int reason;
    char message[HIVE__CLOSE_MSG_MAX + 1];
} hive__close_msg;

/* Encoders: append one body to m. Return 0 or HIVE_ENOMEM. */
int hive__hello_pack(hive_msg *m, const char *app, const char *app_version,
                     const char *conntype, const void *token, size_t token_len,
                     uint32_t max_frame);
int hive__welcome_pack(hive_msg *m, uint32_t cid, uint64_t session, uint32_t hb_ms,
                       uint32_t hb_timeout_ms, uint32_t max_frame,
                       const char *app_version, const hive_registry *reg);
int hive__close_pack(hive_msg *m, int reason, const char *message);
int hive__ready_pack(hive_msg *m);
int hive__ping_pack(hive_msg *m, uint64_t t_us, uint64_t unrel_sent);

/*
 * Decoders. Each returns 0 and fills *out, or a HIVE_CLOSE_* code (> 0)
 * saying why the peer must be closed:
 *   hello:   bad_magic (not a map, magic missing or not "HIVE"),
 *            proto_mismatch (proto missing or not 1), bad_handshake (any
 *            other field missing, of the wrong type or too long);
 *   welcome: proto_mismatch, bad_handshake (registry malformed included),
 *            no_memory;
 *   close:   bad_handshake (a reason that is not an integer 0..65535).
 */
int hive__hello_parse(const msgpack_object *o, hive__hello_msg *out);
int hive__welcome_parse(const msgpack_object *o, hive__welcome_msg *out);
int hive__close_parse(const msgpack_object *o, hive__close_msg *out);

#endif /* HIVE_NET_HANDSHAKE_H */
