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
#define HIVE__RESUME_TOKEN    16    /* bytes of a resume token (128 bits) */

/* The counted frames of lanes 1..n (docs/PROTOCOL.md "Channels"); lane
 * 0's count is the message's plain field. n == 0: the session has one
 * lane. On the wire an array of n uints under its own key, absent when n
 * is 0, so a peer without lanes reads every message it ever did. */
typedef struct hive__lanecounts {
    uint8_t n;
    uint64_t v[HIVE_CHANNELS_MAX - 1];
} hive__lanecounts;

/* hive__lanecounts_get - map[key] into *out: absent is n = 0; an array of
 * at most HIVE_CHANNELS_MAX - 1 unsigned integers; 0, or HIVE_EPROTO
 * for anything else. */
int hive__lanecounts_get(const msgpack_object *map, const char *key, hive__lanecounts *out);
/* hive__lanecounts_obj - an array object (an ack's) into *out: element 0
 * is lane 0's count (into *first), the rest lanes 1.. ; 0 or HIVE_EPROTO. */
int hive__lanecounts_obj(const msgpack_object *arr, uint64_t *first, hive__lanecounts *out);

typedef struct hive__hello_msg {
    char app[HIVE__HELLO_STR_MAX + 1];
    char app_version[HIVE__HELLO_STR_MAX + 1];
    char conntype[HIVE__HELLO_STR_MAX + 1];
    const void *token;          /* points into the decoded body; NULL if absent */
    size_t token_len;
    uint32_t max_frame;         /* what the client accepts */
    bool resume;                /* the client would resume a lost session */
    bool zstd;                  /* its `compress` list has "zstd" */
    bool pieces;                /* `pieces`: it reassembles transfers */
} hive__hello_msg;

/* resume (client -> server, instead of hello on a new link). */
typedef struct hive__resume_msg {
    char app[HIVE__HELLO_STR_MAX + 1];
    uint32_t cid;
    uint8_t token[HIVE__RESUME_TOKEN];
    uint64_t recv;              /* counted frames the client has received (lane 0) */
    hive__lanecounts recv_lanes;   /* ... on lanes 1.. (`recv_lanes`) */
    uint32_t max_frame;
} hive__resume_msg;

/* resumed (server -> client). */
typedef struct hive__resumed_msg {
    uint32_t cid;
    uint8_t token[HIVE__RESUME_TOKEN];   /* the next resume's token */
    uint64_t recv;              /* counted frames the server has received (lane 0) */
    hive__lanecounts recv_lanes;   /* ... on lanes 1.. (`recv_lanes`) */
} hive__resumed_msg;

typedef struct hive__welcome_msg {
    uint32_t cid;
    uint64_t session;
    uint32_t heartbeat_ms;
    uint32_t heartbeat_timeout_ms;
    uint32_t max_frame;         /* what the server accepts */
    char app_version[HIVE__HELLO_STR_MAX + 1];
    hive_registry *registry;    /* new table, owned by the receiver of the struct */
    bool has_token;             /* the server keeps this session for a resume */
    uint8_t token[HIVE__RESUME_TOKEN];
    bool zstd;                  /* `compress` is "zstd": both may send compressed frames */
    bool pieces;                /* `pieces`: both may send transfers */
} hive__welcome_msg;

/* close and reject share one body: {reason, name, message}, and a close
 * of an open session also {received}: the counted frames its sender got
 * (a final acknowledgement, docs/PROTOCOL.md "Closing"). */
typedef struct hive__close_msg {
    int reason;
    char message[HIVE__CLOSE_MSG_MAX + 1];
    bool has_received;
    uint64_t received;
    hive__lanecounts received_lanes;   /* `received_lanes`, when valid */
    /* reason redirect (docs/PROTOCOL.md "Handoff"): where the session
     * went, when `to`, `to_cid` and `to_token` are all there and valid */
    bool has_redirect;
    char to[256];
    uint32_t to_cid;
    uint8_t to_token[HIVE__RESUME_TOKEN];
} hive__close_msg;

/* Encoders: append one body to m. Return 0 or HIVE_ENOMEM. */
/* zstd: offer compression (hello) / agree to it (welcome); pieces: the
 * same for transfers (docs/PROTOCOL.md, "Large messages"). */
int hive__hello_pack(hive_msg *m, const char *app, const char *app_version,
                     const char *conntype, const void *token, size_t token_len,
                     uint32_t max_frame, bool resume, bool zstd, bool pieces);
/* resume_token: HIVE__RESUME_TOKEN bytes, or NULL (no resume offered). */
int hive__welcome_pack(hive_msg *m, uint32_t cid, uint64_t session, uint32_t hb_ms,
                       uint32_t hb_timeout_ms, uint32_t max_frame,
                       const char *app_version, const hive_registry *reg,
                       const uint8_t *resume_token, bool zstd, bool pieces, bool channels);
/* lanes (resume, resumed, close): the counts of lanes 1.., or NULL. */
int hive__resume_pack(hive_msg *m, const char *app, uint32_t cid, const uint8_t *token, uint64_t recv,
                      const hive__lanecounts *lanes,
                      uint32_t max_frame);
int hive__resumed_pack(hive_msg *m, uint32_t cid, const uint8_t *token, uint64_t recv,
                       const hive__lanecounts *lanes);
/* received: the final acknowledgement, or -1 for none (a reject, or a
 * close before the session opened). */
int hive__close_pack(hive_msg *m, int reason, const char *message, int64_t received,
                     const hive__lanecounts *lanes);
/* The same with a redirect's target (to: at most 255 bytes). */
int hive__close_pack_redirect(hive_msg *m, int reason, const char *message, int64_t received,
                              const hive__lanecounts *lanes, const char *to, uint32_t to_cid,
                              const uint8_t *to_token);
int hive__ready_pack(hive_msg *m);
int hive__ping_pack(hive_msg *m, uint64_t t_us, uint64_t unrel_sent);

/*
 * Decoders. Each returns 0 and fills *out, or a HIVE_CLOSE_* code (> 0)
 * saying why the peer must be closed:
 *   hello:   bad_magic (not a map, magic missing or not "HIVE"),
 *            proto_mismatch (proto missing or not HIVE_PROTOCOL_VERSION), bad_handshake (any
 *            other field missing, of the wrong type or too long);
 *   welcome: proto_mismatch, bad_handshake (registry malformed included),
 *            no_memory;
 *   close:   bad_handshake (a reason that is not an integer 0..65535).
 */
int hive__hello_parse(const msgpack_object *o, hive__hello_msg *out);
int hive__welcome_parse(const msgpack_object *o, hive__welcome_msg *out);
int hive__close_parse(const msgpack_object *o, hive__close_msg *out);
/* resume: bad_magic, proto_mismatch, bad_handshake (as hello);
 * resumed: bad_handshake. */
int hive__resume_parse(const msgpack_object *o, hive__resume_msg *out);
int hive__resumed_parse(const msgpack_object *o, hive__resumed_msg *out);

#endif /* HIVE_NET_HANDSHAKE_H */
