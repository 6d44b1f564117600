/*
 * net/wire/handoff.h - a handoff ticket: a frozen session's state, as the
 * bytes one server gives another (hive/net.h HANDOFF, docs/PROTOCOL.md
 * "Handoff"). One msgpack map:
 *   { "v": 1, "app": str, "reg": uint (registry digest), "from": uint (cid),
 *     "lanes": 1..32, "sent": [u..], "acked": [u..], "recv": [u..] (one per lane),
 *     "frames": [[lane, bin], ...]   every frame the client has not confirmed,
 *                                    lane by lane, in order (acked+1 .. sent),
 *     "maxf": uint (the client's max_frame), "zstd": bool, "pieces": bool,
 *     "subject": str (optional: the client certificate's subject),
 *     "smaxf", "shb", "shbt": uint (optional, each once: what the client was
 *         told at its first welcome and keeps - the largest frame it may
 *         send, the heartbeat and its timeout, ms),
 *     "data": bin (the game's, at most HIVE_HANDOFF_DATA_MAX) }
 */
#ifndef HIVE_NET_WIRE_HANDOFF_H
#define HIVE_NET_WIRE_HANDOFF_H

#include <msgpack.h>
#include "hive/msg.h"
#include "hive/net.h"
#include "hive/registry.h"
#include "net/wire/handshake.h"

#define HIVE__TICKET_FRAMES_MAX 65536   /* unconfirmed frames a ticket may carry */

typedef struct hive__ticket {
    char app[HIVE__HELLO_STR_MAX + 1];
    uint64_t reg;
    uint32_t from;
    int lanes;
    uint64_t sent[HIVE_CHANNELS_MAX], acked[HIVE_CHANNELS_MAX], recv[HIVE_CHANNELS_MAX];
    const msgpack_object *frames;   /* the checked array: [[lane, bin], ...] */
    uint32_t peer_max;
    /* What the client was told at the source's welcome (and keeps): the
     * frames it may send, how often it hears the server and when it gives
     * up on it. 0: not said (then not checked). */
    uint32_t src_max_frame, src_heartbeat_ms, src_heartbeat_timeout_ms;
    bool zstd, pieces;
    bool has_subject;
    char subject[256];
    const uint8_t *data;            /* into the input */
    size_t data_len;
} hive__ticket;

/* The digest of a registry (names, ids, channels): two servers whose
 * digests match number packets alike. */
uint64_t hive__registry_digest(const hive_registry *r);

/* One lane's unconfirmed frames for the ticket (the caller's loop over
 * its replay buffer calls this per frame, after hive__ticket_pack_head). */
typedef struct hive__ticket_out {
    hive_msg *m;
} hive__ticket_out;

/* hive__ticket_pack - the whole ticket into m. frames: nframes entries of
 * (lane, pointer, length), in lane then sequence order. 0 or HIVE_ENOMEM. */
typedef struct hive__ticket_frame { uint8_t lane; const uint8_t *p; size_t n; } hive__ticket_frame;
int hive__ticket_pack(hive_msg *m, const hive__ticket *t, const hive__ticket_frame *frames, size_t nframes);

/* hive__ticket_parse - check a decoded ticket (every field, the frame
 * counts against sent - acked per lane, each frame a whole counted Hive
 * frame of at most peer_max bytes). 0 or HIVE_EPROTO. *out points into o. */
int hive__ticket_parse(const msgpack_object *o, hive__ticket *out);

#endif
