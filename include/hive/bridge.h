/*
 * hive/bridge.h - the bus across processes and machines, on NATS.
 *
 * A bridge connects one bus to a NATS server (or a cluster) and carries
 * events both ways, by pattern, with an allow-list in each direction:
 *
 *   hive_bridge *br = hive_bridge_create(&(hive_bridge_config){
 *       .url = "nats://127.0.0.1:4222", .name = "arena-1" }, bus);
 *   hive_bridge_export(br, "chat:**");    // our chat:* events go out...
 *   hive_bridge_import(br, "chat:**");    // ...and everyone else's come in
 *
 * It is its own library (libhive-bridge.a, which links libnats): programs
 * that do not bridge never depend on NATS.
 *
 * NAMES AND SUBJECTS
 *   An event name `ns:a.b.c` travels on the NATS subject `hive.ns.a.b.c`
 *   (the prefix is hive_bridge_config.subject_prefix). A name can cross
 *   only if it has exactly one ':' (the namespace) and the rest uses '.'
 *   alone, so the mapping is one-to-one both ways; `net:server.recv.game:x`
 *   cannot cross (HIVE_ENAME at export or import time). In patterns `*`
 *   becomes `*` and a final `**` becomes `>`; a `**` anywhere else has no
 *   NATS form (HIVE_EPATTERN). An export pattern is matched on the local
 *   bus, so any bus pattern will do (`**` exports everything that can
 *   cross); an import pattern becomes a NATS subscription, so it must
 *   have a NATS form.
 *
 * WHAT TRAVELS
 *   An event's fields (INT, DOUBLE, STR, BYTES, MSGPACK) as one msgpack map
 *   with the sending bridge's name (docs/SCALING.md, "Wire format"). PTR
 *   fields are left out: a pointer means nothing in another process. An
 *   imported event has the same name and fields plus `hive.origin` (STR),
 *   the name of the bridge that published it. The namespaces net: (a
 *   connection's events), nats: (the bridge's) and hive-handoff: never
 *   cross: exports skip them (counted in unmappable), imports refuse them
 *   (HIVE_ENAME), and what arrives under them is dropped. Overlapping
 *   import patterns are separate NATS subscriptions: an event matching
 *   two is posted twice (import disjoint patterns). An event with more than
 *   HIVE_BRIDGE_MAX_FIELDS such fields, or over max_event_bytes encoded,
 *   is not sent (counted in too_big): nothing is cut silently. Events that came in through
 *   a bridge are never exported again (no echo between two bridges), and a
 *   bridge never receives its own events back (NATS no-echo, and the
 *   origin is checked).
 *
 * THREADS
 *   Create, export, import, stats and destroy on the bus's owner thread.
 *   Exports happen in a bus handler on that thread: the event is encoded
 *   and handed to libnats, which never waits for the network there.
 *   Imports arrive on libnats' threads and are posted to the bus
 *   (hive_bus_post): the owner thread delivers them at its next dispatch,
 *   like any posted event.
 *
 * FAULTS
 *   The connection is libnats': create returns at once even when no server
 *   answers yet, and the bridge dials in the background; a lost server is
 *   dialled again every reconnect_wait_ms (with jitter), other cluster
 *   members first. While disconnected, exports are kept in libnats'
 *   reconnect buffer (reconnect_buffer_bytes) and sent on reconnection;
 *   what does not fit is dropped and counted (dropped_out). The game loop
 *   never waits for NATS. The bridge publishes on its bus:
 *     nats:connected     {url}                    the first connection
 *     nats:disconnected  {dropped_out, dropped_in}
 *     nats:reconnected   {url, dropped_out, dropped_in}
 *     nats:closed        {}                       given up (max_reconnect)
 *   dropped_out and dropped_in are the totals so far (hive_bridge_stats).
 *   What NATS itself loses is not seen by anyone: core NATS delivers at
 *   most once, so an event published while a receiver is disconnected,
 *   or written to a socket the moment its server dies, is gone. Events
 *   exported while the bridge knows it is disconnected are either kept
 *   for the reconnection or counted in dropped_out: none vanishes
 *   uncounted on the sending side.
 *   Bad input from NATS (not a bridged event, a name that does not match
 *   its subject, too big, too many fields, a new name past max_names) is
 *   dropped and counted (dropped_in), never delivered.
 */
#ifndef HIVE_BRIDGE_H
#define HIVE_BRIDGE_H

#include "bus.h"
#include "net.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HIVE_BRIDGE_MAX_FIELDS 32            /* fields of a bridged event */
#define HIVE_BRIDGE_ORIGIN_MAX 64            /* bytes of a bridge name, NUL included */

/* Fields the bridge adds to the events it posts. */
#define HIVE_BRIDGE_ORIGIN_FIELD  "hive.origin"  /* STR: the publishing bridge's name */
#define HIVE_BRIDGE_REPLY_FIELD   "hive.reply"   /* STR: on a request, where the answer goes */
#define HIVE_BRIDGE_REQUEST_FIELD "hive.req"     /* INT: on nats:reply, the request id */

/* The bridge's own events (posted on its bus). */
#define HIVE_EV_NATS_SHARD_JOINED "nats:shard.joined"   /* {set, name, addr} another process joined */
#define HIVE_EV_NATS_SHARD_LEFT   "nats:shard.left"     /* {set, name, addr, why: "left"|"timeout"|"moved"} */
#define HIVE_EV_NATS_CONNECTED    "nats:connected"
#define HIVE_EV_NATS_DISCONNECTED "nats:disconnected"
#define HIVE_EV_NATS_RECONNECTED  "nats:reconnected"
#define HIVE_EV_NATS_CLOSED       "nats:closed"
#define HIVE_EV_NATS_REPLY        "nats:reply"   /* an answer to hive_bridge_request */
#define HIVE_EV_NATS_HANDOFF      "nats:handoff" /* {cid, target, ok, error} a handoff ended */

typedef struct hive_bridge hive_bridge;

typedef struct hive_bridge_config {
    const char *url;                 /* "nats://127.0.0.1:4222", or several,
                                        comma-separated (a cluster), tried
                                        in that order: nearest first.
                                        Required. Copied */
    const char *name;                /* this bridge's name, the origin others
                                        see: [A-Za-z0-9_.-], at most 63 bytes.
                                        NULL: "hive-<pid>-<random>". Copied */
    const char *subject_prefix;      /* NULL: "hive". One NATS token */
    const char *user, *password;     /* NATS user/password auth (optional) */
    const char *token;               /* NATS token auth (optional) */
    const char *creds_file;          /* NATS JWT credentials file (optional) */
    const char *ca_file;             /* non-NULL: TLS to NATS, trusting this CA */
    uint32_t reconnect_wait_ms;      /* between attempts; 0: 250 */
    int32_t max_reconnect;           /* attempts in a row; 0: forever; -1: none */
    uint32_t reconnect_buffer_bytes; /* exports kept while disconnected; 0: 1 MiB */
    uint32_t max_event_bytes;        /* largest bridged event either way; 0: 64 KiB */
    uint32_t shard_heartbeat_ms;     /* SHARDS: how often a member says it is
                                        here; one silent for 3.5 of these has
                                        left. 0: 1000; 20..60000 */
    uint32_t max_names;              /* new event names and field keys imports may
                                        add to the bus (a bound on what a NATS
                                        publisher can make it intern); 0: 1024 */
    const char *handoff_key;         /* HANDOFF OVER NATS: a secret every server
                                        of the game shares (at least 16 bytes);
                                        tickets and their answers are then
                                        signed with it and checked. NULL: not
                                        signed (NATS permissions alone guard
                                        them). Copied */
} hive_bridge_config;

/*
 * hive_bridge_create - a bridge for bus (owner thread). Returns at once;
 * the connection comes in the background (nats:connected). Returns NULL on
 * a bad config or no memory (hive_create_error() says which key), and for
 * a bus with HIVE_OVERFLOW_BLOCK (field "bus": NATS's threads post to it
 * and must never wait). Destroy the bridge before its bus.
 */
hive_bridge *hive_bridge_create(const hive_bridge_config *cfg, hive_bus *bus);

/*
 * hive_bridge_export - send local events matching pattern to NATS.
 * Returns HIVE_OK, HIVE_ENAME (an exact name that cannot cross),
 * HIVE_EPATTERN (a malformed bus pattern), HIVE_EEXIST (exported already),
 * HIVE_EFULL (64 exports), HIVE_ENOMEM. Matching names that cannot cross
 * are skipped and counted (unmappable). An event two export patterns match
 * is sent once. Owner thread.
 */
int hive_bridge_export(hive_bridge *br, const char *pattern);

/*
 * hive_bridge_import - post events from NATS whose names match pattern on
 * the bus. Returns as hive_bridge_export (HIVE_EEXIST for a pattern
 * imported already), or HIVE_EIO when the NATS subscription fails. Owner
 * thread. Works while disconnected: the subscription is made on
 * (re)connection.
 */
int hive_bridge_import(hive_bridge *br, const char *pattern);

/*
 * hive_bridge_import_queue - as hive_bridge_import, in the NATS queue
 * group `group` ([A-Za-z0-9_-], at most 63 bytes): of all the bridges that
 * import the same pattern in the same group, exactly one receives each
 * event (work that one server should do: matchmaking, a save). NULL
 * group: hive_bridge_import.
 */
int hive_bridge_import_queue(hive_bridge *br, const char *pattern, const char *group);

/*
 * REQUEST AND REPLY
 *   hive_bridge_request publishes the event `name` with fields (as an
 *   export would, whether or not name is exported) and waits for one
 *   answer without blocking: fn(reply, HIVE_OK, user) runs on the owner
 *   thread with the answer's fields (reply->name is nats:reply, with
 *   hive.origin and hive.req), or fn(NULL, HIVE_ETIMEDOUT, user) after
 *   timeout_ms, or fn(NULL, HIVE_ECLOSED, user) when the bridge is
 *   destroyed first. Exactly one call. The timeout is checked where the
 *   bus checks hive_bus_expect's (hive_bus_dispatch, hive_bus_expire, a
 *   server's or client's service). A later answer is ignored.
 *   The answering side imports name; the imported event carries
 *   hive.reply, and hive_bridge_reply(br, ev, fields, n) answers it. Only
 *   reply subjects under `_INBOX.` (one plain subject: no wildcard, no
 *   space) are honoured, on the way in and again in hive_bridge_reply
 *   (HIVE_EINVAL), so a publisher cannot make a bridge publish its answer
 *   on a game subject.
 *   Returns the request id (> 0), HIVE_ENAME, HIVE_EINVAL (NULL fn, zero
 *   timeout), HIVE_ETOOBIG, HIVE_EFULL / HIVE_ECLOSED (NATS would not
 *   take it: fn is then never called), HIVE_ENOMEM. Owner thread.
 */
typedef void (*hive_bridge_reply_fn)(const hive_event *reply, int status, void *user);
int64_t hive_bridge_request(hive_bridge *br, const char *name, const hive_field *fields, size_t n,
                            uint32_t timeout_ms, hive_bridge_reply_fn fn, void *user);

/*
 * hive_bridge_reply - answer an imported request event (one carrying
 * hive.reply) with fields. Returns HIVE_OK, HIVE_ENOENT (not a request),
 * or as hive_bridge_request. Owner thread; typically inside the handler.
 */
int hive_bridge_reply(hive_bridge *br, const hive_event *request, const hive_field *fields, size_t n);

/*
 * SHARDS
 *   A shard set is a named group of processes that share out work by key
 *   (rooms, zones, matches). Each member joins with the address its
 *   clients dial; every bridge in the set sees the others join and leave
 *   (nats:shard.joined, nats:shard.left, with why "left" for a clean
 *   leave or a destroyed bridge, "timeout" for one silent for 3.5
 *   heartbeats: a crash, a lost NATS link; "moved" then a joined for a
 *   member heard at a new address), and any process, member or
 *   not, that watches the set can ask which member owns a key.
 *
 *   The mapping is rendezvous hashing (docs/SCALING.md, "Shards"): the
 *   owner of key k is the member m with the largest
 *   mix(fnv1a64(m.name, 0x00, k)); ties go to the smaller name. So every
 *   process that sees the same members picks the same owner, and when a
 *   member joins or leaves only the keys it gains or held move. Members
 *   are announced on the subject <prefix>._shard.<set>, once per
 *   shard_heartbeat_ms, by a thread of the bridge's own.
 *   At most 256 members per set and 16 sets per bridge; announcements
 *   past those bounds, malformed or with a bad name, are dropped and
 *   counted (dropped_in).
 */
#define HIVE_BRIDGE_MAX_SETS 16
#define HIVE_BRIDGE_MAX_MEMBERS 256
#define HIVE_BRIDGE_ADDR_MAX 256

typedef struct hive_shard_member {
    char name[HIVE_BRIDGE_ORIGIN_MAX];   /* the member's bridge name */
    char addr[HIVE_BRIDGE_ADDR_MAX];     /* what its clients dial */
} hive_shard_member;

/*
 * hive_bridge_shard_join - be a member of set ([A-Za-z0-9_-], 1..63
 * bytes), reachable at addr (at most 255 bytes, for example
 * "enet://10.0.0.5:7777"). Also watches the set. Returns HIVE_OK,
 * HIVE_EINVAL, HIVE_EEXIST (a member already), HIVE_EFULL (16 sets),
 * HIVE_ENOMEM. Owner thread.
 */
int hive_bridge_shard_join(hive_bridge *br, const char *set, const char *addr);

/* hive_bridge_shard_watch - follow set's members without joining (a
 * lobby that sends players to shards). Returns as shard_join. */
int hive_bridge_shard_watch(hive_bridge *br, const char *set);

/* hive_bridge_shard_leave - stop being a member (the others hear "left"
 * at once); the set stays watched. HIVE_OK, HIVE_ENOENT. Owner thread. */
int hive_bridge_shard_leave(hive_bridge *br, const char *set);

/*
 * hive_bridge_shard_for - the member of set that owns key[0..len) (see
 * the mapping above), this process included when it is a member, into
 * *out. Returns HIVE_OK, HIVE_ENOENT (no members known, or set not
 * watched), HIVE_EINVAL. Any thread.
 */
int hive_bridge_shard_for(const hive_bridge *br, const char *set, const void *key, size_t len,
                          hive_shard_member *out);

/* hive_bridge_shard_members - the members of set known now (this process
 * included when a member), sorted by name, at most max into out. Returns
 * the number of members (which may exceed max), or HIVE_ENOENT. Any thread. */
int hive_bridge_shard_members(const hive_bridge *br, const char *set, hive_shard_member *out, size_t max);

/*
 * HANDOFF OVER NATS (hive/net.h HANDOFF)
 *   The target server's bridge serves handoffs; the source asks it to
 *   take a player, and the player's client follows by itself:
 *
 *     hive_bridge_serve_handoffs(shard_br, shard_srv);          // on each shard
 *     hive_shard_member m;
 *     hive_bridge_shard_for(lobby_br, "arena", room, n, &m);
 *     hive_bridge_handoff(lobby_br, lobby_srv, cid, m.name, m.addr, data, len, 2000);
 *
 *   hive_bridge_handoff freezes the session (hive_server_handoff_begin),
 *   sends its ticket to the bridge named target as a request, and on the
 *   answer redirects the client (hive_server_handoff_redirect) or, when
 *   the target refused or did not answer in timeout_ms, keeps the player
 *   (hive_server_handoff_cancel). Either way the bus hears nats:handoff
 *   {cid, target, ok, error}. The target hears
 *   net:server.connection.handedoff when the player arrives. Tickets
 *   travel as bridged events (hive-handoff:<target name>), so
 *   max_event_bytes bounds them (HIVE_ETOOBIG: the player stays).
 *
 *   A ticket opens a session on the target without the hello's auth
 *   hook, so whoever can publish one can play as anyone. Give the game's
 *   servers alone the right to publish under <prefix>.hive-handoff.>, and
 *   set handoff_key on every bridge that moves players: each ticket then
 *   carries an HMAC-SHA256 of the target's name, the sending time and the
 *   ticket, and the target takes it only once (it remembers the last
 *   4096, and refuses any older than those it forgot), within 30 s of its
 *   time (the servers' clocks must agree that well), with the right key;
 *   its answer (the new cid and token) is signed back, bound to its ticket.
 *   The key gives integrity, not secrecy: tickets and tokens still cross
 *   NATS in the clear (use TLS to NATS: ca_file). A ticket that fails is
 *   refused (nats:handoff error "HIVE_EPROTO" at the source, dropped_in
 *   counted at the target) and the player stays. Both ends need the same
 *   key: a bridge with one refuses unsigned tickets and answers.
 */
/* hive_bridge_serve_handoffs - take the sessions other servers send to
 * this bridge's name into srv (one server per bridge). HIVE_OK, HIVE_EEXIST,
 * or as hive_bridge_import. Owner thread (srv's I/O thread: not threaded). */
int hive_bridge_serve_handoffs(hive_bridge *br, hive_server *srv);

/* hive_bridge_handoff - move cid from srv to the server whose bridge is
 * named target, whose clients dial addr; data (at most
 * HIVE_HANDOFF_DATA_MAX) reaches its handedoff event. Returns HIVE_OK
 * (under way: nats:handoff tells the end), HIVE_ESTATE also while a move
 * of cid is under way, or the hive_server_handoff_begin /
 * hive_bridge_request error (nothing changed then). Owner thread. Destroy
 * the bridge before the servers it moves players of (a move under way is
 * then cancelled, and no nats:handoff is published). */
int hive_bridge_handoff(hive_bridge *br, hive_server *srv, hive_cid cid, const char *target, const char *addr,
                        const void *data, size_t len, uint32_t timeout_ms);

/*
 * hive_bridge_flush - wait until the NATS server has everything this
 * bridge sent so far, subscriptions included (a round trip). For setup
 * and tests ("are my imports live?"), not for the game loop: it blocks
 * the calling thread for up to timeout_ms. Returns HIVE_OK, HIVE_ETIMEDOUT,
 * HIVE_ECLOSED (not connected). Owner thread.
 */
int hive_bridge_flush(hive_bridge *br, uint32_t timeout_ms);

typedef struct hive_bridge_counters {
    uint64_t exported;       /* events handed to NATS */
    uint64_t imported;       /* events posted on the bus */
    uint64_t dropped_out;    /* exports NATS could not take (buffer full, closed) */
    uint64_t dropped_in;     /* messages from NATS that were not valid bridged events */
    uint64_t bus_full;       /* imports the bus queue refused */
    uint64_t unmappable;     /* local events a pattern matched that cannot cross */
    uint64_t too_big;        /* local events over max_event_bytes (not sent) */
    uint64_t slow_dropped;   /* messages libnats dropped because the bus fell behind
                                (64 Ki messages or 64 MiB pending per import) */
    uint64_t reconnects;     /* times the connection came back */
    bool connected;
} hive_bridge_counters;

/* hive_bridge_stats - counters so far. Any thread. */
int hive_bridge_stats(const hive_bridge *br, hive_bridge_counters *out);

/* hive_bridge_name - this bridge's name (the origin others see). */
const char *hive_bridge_name(const hive_bridge *br);

/*
 * hive_bridge_subject - the NATS subject for an event name or pattern
 * under prefix (NULL: "hive") into out[n]. Returns the length, or
 * HIVE_ENAME / HIVE_EPATTERN (see NAMES AND SUBJECTS), HIVE_ETOOBIG.
 * Pure, any thread.
 */
int hive_bridge_subject(const char *prefix, const char *name, char *out, size_t n);

/*
 * hive_bridge_destroy - stop exporting and importing, flush what libnats
 * holds (up to 1 s), close the connection. Events already posted on the
 * bus stay queued there and are valid (their names and keys live as long
 * as the bus). Owner thread; NULL is a no-op.
 */
void hive_bridge_destroy(hive_bridge *br);

#ifdef __cplusplus
}
#endif

#endif
