/*
 * transport_enet.c - the ENet (UDP) transport: `enet://host:port`.
 *
 * Channel 0 is reliable-ordered, channel 1 unreliable: sequenced, or
 * unsequenced for unordered frames (HIVE__DLV_UNORDERED). A link with
 * more lanes (transport.h LANES) has two ENet channels per lane: 2k
 * reliable, 2k+1 unreliable, so lane 0 is channels 0 and 1 as before and
 * a peer that knows no lanes (it asks for two channels) still speaks
 * with us. Frames
 * queued on a link between two flushes are coalesced into one ENet packet
 * per kind of delivery, up to about one MTU, because ENet's cost is per packet
 * (allocation, command, acknowledgement), not per byte: sixty-four-byte
 * messages travel twenty to a datagram. A frame is never split across two
 * packets; a frame larger than the coalescing limit travels alone (ENet
 * fragments it).
 *
 * Waiting: instead of blocking inside enet_host_service we poll() the
 * host's socket together with a wake pipe, so another thread (a send from
 * the game thread, an interrupt, a signal handler) can cut the wait short.
 */
#include "events/internal.h"
#include "net/transport/transport.h"
#include "hive/net.h"

#include <enet/enet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ENet's disconnect carries 32 bits of data. Hive puts its close reason
 * there, tagged, so that a peer whose close packet was discarded (ENet
 * drops undelivered packets when a disconnect arrives) still learns why.
 * Data without the tag (another ENet program) means nothing to Hive. */
#define ENET_REASON_TAG  0x48560000u   /* "HV" */
#define ENET_REASON_MASK 0xFFFF0000u

/* Events handled per service call, and the time spent handling them,
 * before yielding back to the core and its caller: under a flood the
 * game's ticks, Hive's timers and flushes still run on time (what is
 * left waits in ENet's queue for the next call). Without the time bound
 * a server short of CPU spends it on inputs and its tick rate falls. */
#define ENET_EVENT_BUDGET 4096
#define DRAIN_NS 2000000ull
/* First capacity of a coalescing packet; it grows on demand (e_send). */
#define COALESCE_START 256
/* A flush of many links is handed to ENet in slices of this many links,
 * with a pump (see pump()) between two slices. */
#define FLUSH_SLICE 256
/* Half-open peers (a CONNECT seen, no connect event yet) are reset this
 * long after their CONNECT; the slots are checked this often. */
#define ENET_HALF_OPEN_MS 2000u
#define ENET_REAP_EVERY_MS 100u

/* ENet reads at most this many datagrams per enet_host_service. */
#define ENET_RECV_BATCH 256
/* Reads of the socket per pump, and the most events (and received bytes)
 * pumps may stash for the core: about one service call's worth, so that
 * what waits is fresh; past it the kernel drops, as before. */
#define PUMP_ROUNDS 4
#define PUMP_MAX 4096
#define PUMP_MAX_BYTES (4u << 20)
/* First capacity of the stash; it doubles on demand up to PUMP_MAX. */
#define STASH_START 64
/* What one ENet command costs beyond its data, for ->queued: the command
 * record, and the packet header it refers to (counted per command, so a
 * fragmented or shared packet is counted a little high, never low). */
#define ENET_CMD_COST (sizeof(ENetOutgoingCommand) + sizeof(ENetPacket))
/* Most often a link's ENet lists are walked by ->queued (see e_queued). */
#define ENET_QUEUED_WALK_NS 1000000ull

/* ------------------------------------------------------------------ */
/* ENet's global state: initialised once, refcounted                   */
/* ------------------------------------------------------------------ */

static pthread_mutex_t g_enet_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_enet_refs;

static void *enet_cb_malloc(size_t n) { return hive__malloc(n); }
static void enet_cb_free(void *p) { hive__free(p); }
/* ENet's default aborts; returning lets the failing call return NULL,
 * which Hive turns into HIVE_ENOMEM. */
static void enet_cb_nomem(void) {}

static int enet_ref(void)
{
    int rc = HIVE_OK;
    pthread_mutex_lock(&g_enet_lock);
    if (g_enet_refs == 0) {
        ENetCallbacks cb;
        memset(&cb, 0, sizeof cb);
        cb.malloc = enet_cb_malloc;
        cb.free = enet_cb_free;
        cb.no_memory = enet_cb_nomem;
        if (enet_initialize_with_callbacks(ENET_VERSION, &cb) != 0) rc = HIVE_EIO;
    }
    if (rc == HIVE_OK) g_enet_refs++;
    pthread_mutex_unlock(&g_enet_lock);
    return rc;
}

static void enet_unref(void)
{
    pthread_mutex_lock(&g_enet_lock);
    if (g_enet_refs > 0 && --g_enet_refs == 0) enet_deinitialize();
    pthread_mutex_unlock(&g_enet_lock);
}

/* ------------------------------------------------------------------ */
/* Objects                                                              */
/* ------------------------------------------------------------------ */

enum { SLOT_REL, SLOT_SEQ, SLOT_UNORD, SLOTS };

/* One lane's coalescing. Per slot (SLOT_*: reliable, sequenced,
 * unordered; the last two both on the lane's unreliable channel,
 * unordered ones with ENET_PACKET_FLAG_UNSEQUENCED): */
typedef struct eslots {
    ENetPacket *shared[SLOTS];          /* a broadcast's packet (e_share), handed
                                           to ENet before pend[] */
    ENetPacket *pend[SLOTS];            /* coalescing packet */
    size_t used[SLOTS];
} eslots;

typedef struct elink {
    hive__link base;              /* first: the core sees a hive__link */
    ENetPeer *peer;
    eslots s0;                    /* lane 0 */
    eslots *sx;                   /* lanes 1..lanes-1, made at the first send on one */
    uint8_t lanes;                /* what the connect agreed: peer->channelCount / 2 */
    struct elink *next_dirty;
    bool dirty;
    bool up;                      /* the core has heard of the connect */
    bool closing;                 /* ->close called */
    bool dead;                    /* freed but for the stashed events naming it */
    uint32_t code;                /* the close reason given to ->close */
    uint32_t stashed;             /* events in the stash that name this link */
    struct elink *next_gone;
    /* ->queued's view of what ENet holds for the peer (see e_queued):
     * q_held as counted by the walk of round q_round, plus q_added
     * handed to ENet since. */
    uint64_t q_round, q_walk_ns;
    size_t q_held, q_added;
} elink;

/* An event taken out of ENet and not handed to the core yet (see pump()).
 * It names the link, never the ENet peer: a disconnect resets the peer,
 * and a connect in the same pump may reuse its slot. */
typedef struct stashed {
    elink *link;
    union {
        ENetPacket *packet;       /* RECEIVE: ours until handed out */
        ENetAddress addr;         /* CONNECT on a listening host: the peer's */
        enet_uint32 data;         /* DISCONNECT: ENet's disconnect data */
    } u;
    uint8_t type;                 /* ENetEventType */
    uint16_t channel;             /* as cb.data reports it (with its lane) */
} stashed;

typedef struct etransport {
    hive__transport base;
    ENetHost *host;
    int wake_rd, wake_wr;
    bool listening;
    size_t coalesce;              /* bytes per coalesced packet */
    elink *dirty;
    elink *gone;                  /* closed before ENet connected: their
                                     disconnected callback is still owed */
    stashed *stash;               /* FIFO ring of events pumps took out of ENet */
    size_t stash_cap, stash_head, stash_n;
    size_t stash_bytes;           /* received bytes held by the stash */
    /* Half-open peers (listening only; see reap_half_open): per peer slot,
     * the connectID of the CONNECT seen there and when it was first seen. */
    struct { enet_uint32 id; uint64_t since_ms; } *half;
    uint64_t next_reap_ms;
    uint64_t reaped;              /* __atomic: ->stats reads it from any thread */
    uint64_t round;               /* bumped whenever ENet may have sent, freed or
                                     acknowledged commands (e_queued); starts at 1 */
    uint64_t round_ns;            /* when it was last bumped */
    int lanes_offered;            /* listening: e_offer_lanes' n, 0: one */
} etransport;

static etransport *E(hive__transport *t) { return (etransport *)t; }

/* ENet may have sent, freed or acknowledged commands: e_queued walks anew. */
static void round_bump(etransport *et)
{
    et->round++;
    et->round_ns = hive_now_ns();
}

/* Drops one reference to a packet that may be shared between peers;
 * ENet does the same for each peer it has sent it to. */
static void packet_release(ENetPacket *p)
{
    if (--p->referenceCount == 0) enet_packet_destroy(p);
}

/* Lane ln's slots; lanes past 0 exist once something was sent on them. */
static eslots *lane_slots(elink *l, int ln)
{
    return ln == 0 ? &l->s0 : l->sx ? &l->sx[ln - 1] : NULL;
}

static void slots_drop(eslots *e)
{
    for (int ch = 0; ch < SLOTS; ch++) {
        if (e->shared[ch]) packet_release(e->shared[ch]);
        e->shared[ch] = NULL;
        if (e->pend[ch]) enet_packet_destroy(e->pend[ch]);
        e->pend[ch] = NULL;
        e->used[ch] = 0;
    }
}

static void link_drop_pending(elink *l)
{
    slots_drop(&l->s0);
    if (l->sx) {
        for (int ln = 1; ln < l->lanes; ln++) slots_drop(&l->sx[ln - 1]);
        hive__free(l->sx);
        l->sx = NULL;
    }
}

static void link_release(elink *l)
{
    link_drop_pending(l);
    hive__free(l);
}

/* Removes l from the dirty list (rare: only on abort/disconnect). */
static void dirty_remove(etransport *et, elink *l)
{
    if (!l->dirty) return;
    for (elink **p = &et->dirty; *p; p = &(*p)->next_dirty) {
        if (*p == l) { *p = l->next_dirty; break; }
    }
    l->dirty = false;
    l->next_dirty = NULL;
}

/* Detaches l from ENet and frees it; while stashed events still name it,
 * it is only marked dead: they are dropped when their turn comes, and the
 * last one frees it (deliver()). */
static void link_free(etransport *et, elink *l)
{
    dirty_remove(et, l);
    link_drop_pending(l);
    if (l->peer) l->peer->data = NULL;
    l->peer = NULL;
    if (l->stashed) {
        l->dead = true;
        return;
    }
    link_release(l);
}

/* A send's slot and its packets' flags. Unordered frames go on channel 1
 * unsequenced: ENet neither waits for nor drops them by order. */
static int dlv_slot(int dlv)
{
    return dlv == HIVE__DLV_RELIABLE ? SLOT_REL : dlv == HIVE__DLV_UNORDERED ? SLOT_UNORD : SLOT_SEQ;
}

static enet_uint32 slot_flags(int slot)
{
    return slot == SLOT_REL ? ENET_PACKET_FLAG_RELIABLE
         : slot == SLOT_UNORD ? ENET_PACKET_FLAG_UNSEQUENCED | ENET_PACKET_FLAG_UNRELIABLE_FRAGMENT
         : ENET_PACKET_FLAG_UNRELIABLE_FRAGMENT;
}

static void flush_channel(elink *l, int ln, int ch)
{
    eslots *e = lane_slots(l, ln);
    enet_uint8 ech = (enet_uint8)(2 * ln + (ch == SLOT_REL ? HIVE__CHANNEL_RELIABLE : HIVE__CHANNEL_UNRELIABLE));
    ENetPacket *sp = e->shared[ch];
    if (sp) {
        /* On failure (the peer is going) ENet took no reference and the
         * frames are lost with the link, as a coalesced packet's are. */
        e->shared[ch] = NULL;
        if (enet_peer_send(l->peer, ech, sp) == 0) l->q_added += sp->dataLength + ENET_CMD_COST;
        packet_release(sp);
    }
    ENetPacket *p = e->pend[ch];
    if (!p) return;
    e->pend[ch] = NULL;
    p->dataLength = e->used[ch];      /* the packet was allocated at capacity */
    e->used[ch] = 0;
    size_t len = p->dataLength;
    if (enet_peer_send(l->peer, ech, p) < 0) enet_packet_destroy(p);
    else l->q_added += len + ENET_CMD_COST;
}

static void flush_link(elink *l)
{
    if (!l->peer) {               /* ENet has reset it: a stashed disconnect */
        link_drop_pending(l);
        return;
    }
    int lanes = l->sx ? l->lanes : 1;
    for (int ln = 0; ln < lanes; ln++) {
        flush_channel(l, ln, SLOT_REL);
        flush_channel(l, ln, SLOT_SEQ);
        flush_channel(l, ln, SLOT_UNORD);
    }
}

static void format_peer(const ENetAddress *a, char *buf, size_t n)
{
    char ip[64];
    if (enet_address_get_host_ip(a, ip, sizeof ip) < 0) snprintf(ip, sizeof ip, "?");
    snprintf(buf, n, "enet://%s:%u", ip, (unsigned)a->port);
}

static void peer_timeouts(etransport *et, ENetPeer *p)
{
    uint32_t t = et->base.opts.timeout_ms;
    if (t) enet_peer_timeout(p, 0, t, t);
}

static elink *link_new(etransport *et, ENetPeer *p)
{
    elink *l = hive__calloc(1, sizeof *l);
    if (!l) return NULL;
    l->peer = p;
    p->data = l;
    peer_timeouts(et, p);
    return l;
}

/* ------------------------------------------------------------------ */
/* Events: taken out of ENet, stashed, handed to the core               */
/* ------------------------------------------------------------------ */

/* Makes room for one more stashed event. False when the stash is at its
 * bound or out of memory: then nothing more may be taken out of ENet. */
static bool stash_room(etransport *et)
{
    if (et->stash_bytes >= PUMP_MAX_BYTES) return false;
    if (et->stash_n < et->stash_cap) return true;
    if (et->stash_cap >= PUMP_MAX) return false;
    size_t cap = et->stash_cap ? et->stash_cap * 2 : STASH_START;
    stashed *ring = hive__malloc(cap * sizeof *ring);
    if (!ring) return false;
    for (size_t i = 0; i < et->stash_n; i++)
        ring[i] = et->stash[(et->stash_head + i) % et->stash_cap];
    hive__free(et->stash);
    et->stash = ring;
    et->stash_cap = cap;
    et->stash_head = 0;
    return true;
}

static void stash_push(etransport *et, const stashed *s)
{
    et->stash[(et->stash_head + et->stash_n) % et->stash_cap] = *s;
    et->stash_n++;
    if (s->type == ENET_EVENT_TYPE_RECEIVE) et->stash_bytes += s->u.packet->dataLength;
}

static void stash_pop(etransport *et, stashed *out)
{
    *out = et->stash[et->stash_head];
    et->stash_head = (et->stash_head + 1) % et->stash_cap;
    et->stash_n--;
    if (out->type == ENET_EVENT_TYPE_RECEIVE) et->stash_bytes -= out->u.packet->dataLength;
}

/* The lanes a connected peer has: two ENet channels each. */
static uint8_t peer_lanes(const ENetPeer *p)
{
    size_t n = p->channelCount / 2;
    return (uint8_t)(n < 1 ? 1 : n > HIVE__LANES_MAX ? HIVE__LANES_MAX : n);
}

/*
 * Does ENet's side of an event at once and turns it into *s, which names
 * the link instead of the peer: a connect makes the link (the core hears
 * of it in deliver()), a disconnect detaches the link from the peer ENet
 * has just reset. Returns false when there is nothing for the core.
 */
static bool take(etransport *et, ENetEvent *ev, stashed *s)
{
    elink *l = ev->peer ? ev->peer->data : NULL;
    memset(s, 0, sizeof *s);
    s->type = (uint8_t)ev->type;
    /* ENet channel 2k + 1 is lane k's unreliable one; an unsequenced
     * packet there is unordered (transport.h: unreliable, never
     * sequenced). */
    int kind = ev->channelID & 1 ? HIVE__CHANNEL_UNRELIABLE : HIVE__CHANNEL_RELIABLE;
    if (ev->type == ENET_EVENT_TYPE_RECEIVE && kind == HIVE__CHANNEL_UNRELIABLE && ev->packet &&
        (ev->packet->flags & ENET_PACKET_FLAG_UNSEQUENCED))
        kind = HIVE__CHANNEL_UNORDERED;
    s->channel = (uint16_t)HIVE__WITH_LANE(kind, ev->channelID / 2);
    switch (ev->type) {
    case ENET_EVENT_TYPE_CONNECT:
        if (l) {                              /* our dial got through */
            l->lanes = peer_lanes(ev->peer);
            break;
        }
        if (!et->listening) { enet_peer_reset(ev->peer); return false; }
        l = link_new(et, ev->peer);
        if (!l) { enet_peer_disconnect_now(ev->peer, ENET_REASON_TAG | HIVE_CLOSE_NO_MEMORY); return false; }
        l->lanes = peer_lanes(ev->peer);
        s->u.addr = ev->peer->address;
        break;
    case ENET_EVENT_TYPE_RECEIVE:
        if (!l || l->closing) { enet_packet_destroy(ev->packet); return false; }
        s->u.packet = ev->packet;
        break;
    case ENET_EVENT_TYPE_DISCONNECT:
        if (!l) return false;
        s->u.data = ev->data;
        l->peer = NULL;                       /* ENet has reset it already */
        ev->peer->data = NULL;
        break;
    default:
        return false;
    }
    s->link = l;
    l->stashed++;
    return true;
}

/* Hands one taken event to the core. Returns the callbacks made (0, 1).
 * Events for a link the core has let go of (aborted, refused, closed
 * before its dial was reported) are dropped. */
static int deliver(etransport *et, stashed *s)
{
    hive__transport_cb *cb = &et->base.cb;
    elink *l = s->link;
    int n = 0;
    switch (l->dead ? ENET_EVENT_TYPE_NONE : (ENetEventType)s->type) {
    case ENET_EVENT_TYPE_CONNECT:
        if (l->closing) break;                /* a dial closed first: close reset the peer */
        l->up = true;
        n = 1;
        if (!et->listening) {
            if (cb->connected) cb->connected(cb->core, &l->base);
            break;
        }
        char addr[96];
        format_peer(&s->u.addr, addr, sizeof addr);
        int rc = cb->accepted(cb->core, &l->base, addr);
        if (rc < 0) {
            ENetPeer *p = l->peer;            /* NULL when its disconnect is stashed */
            link_free(et, l);
            if (p) enet_peer_disconnect_now(p, ENET_REASON_TAG | (rc == HIVE_ENOMEM ? HIVE_CLOSE_NO_MEMORY
                                                                                     : HIVE_CLOSE_SERVER_SHUTDOWN));
        }
        break;
    case ENET_EVENT_TYPE_RECEIVE:
        if (l->closing) break;
        cb->data(cb->core, &l->base, s->u.packet->data, s->u.packet->dataLength, s->channel);
        n = 1;
        break;
    case ENET_EVENT_TYPE_DISCONNECT: {
        int reason = l->closing ? HIVE_CLOSE_NORMAL
                   : !l->up     ? HIVE_CLOSE_CONNECT_FAILED
                   : (s->u.data & ENET_REASON_MASK) == ENET_REASON_TAG ? (int)(s->u.data & 0xFFFFu)
                                : HIVE_CLOSE_PEER_VANISHED;
        cb->disconnected(cb->core, &l->base, reason, NULL);
        link_free(et, l);
        n = 1;
        break;
    }
    default:
        break;
    }
    if (s->type == ENET_EVENT_TYPE_RECEIVE) enet_packet_destroy(s->u.packet);
    if (--l->stashed == 0 && l->dead) link_release(l);
    return n;
}

/*
 * Sends what has been handed to ENet, and moves what has arrived
 * meanwhile from the socket into the transport's stash. A broadcast to
 * thousands of links is as many sendmsg calls, milliseconds of work; at
 * thousands of players' inputs a second the socket's receive buffer
 * (ENet's 256 KiB) fills in about as long, and the kernel drops what
 * does not fit: inputs, pings and the acknowledgements of reliable
 * packets, whose senders then back off and finally time out. A game loop
 * that runs late ticks back to back (broadcast, flush, broadcast...)
 * would not read the socket at all.
 *
 * Nothing reaches the core here (no callback runs inside a flush): the
 * events are stashed and handed out by the next ->service. They must
 * leave ENet, though. ENet acknowledges a reliable packet when it reads
 * it, so the sender may disconnect one round trip later; when ENet reads
 * that disconnect it frees the peer's received packets it has not
 * dispatched yet (enet_protocol_handle_disconnect resets the peer's
 * queues), and a player's last message and close frame would be lost.
 * So ENet only ever reads with its dispatch queue empty: an event it has
 * is taken (enet_host_check_events) before the socket is read again.
 *
 * Bounded per call (PUMP_ROUNDS reads) and in what may wait (PUMP_MAX
 * events, PUMP_MAX_BYTES bytes), so that a loop that stops servicing
 * holds a bounded backlog and the kernel drops the rest, as it would
 * without pumps.
 */
static void pump(etransport *et)
{
    ENetHost *h = et->host;
    ENetEvent ev;
    int reads = 0;
    while (stash_room(et)) {
        bool emptied = false;
        int r = enet_host_check_events(h, &ev);
        if (r == 0) {
            if (reads++ == PUMP_ROUNDS) return;
            enet_uint32 before = h->totalReceivedPackets;
            r = enet_host_service(h, &ev, 0);
            round_bump(et);
            /* Less than a batch read, and the call was not cut short by
             * a connect or disconnect (a receive comes only from the
             * dispatch at its end): the socket is empty. What ENet
             * dispatches next waits there for the next check. */
            emptied = h->totalReceivedPackets - before < ENET_RECV_BATCH &&
                      (r == 0 || ev.type == ENET_EVENT_TYPE_RECEIVE);
        }
        if (r < 0) return;
        stashed s;
        if (r > 0 && take(et, &ev, &s)) stash_push(et, &s);
        if (emptied) return;
    }
}

/* Returns whether anything was handed to ENet. */
static bool flush_dirty(etransport *et)
{
    elink *l = et->dirty;
    bool any = l != NULL;
    et->dirty = NULL;
    size_t n = 0;
    while (l) {
        elink *next = l->next_dirty;
        l->next_dirty = NULL;
        l->dirty = false;
        flush_link(l);
        if (++n % FLUSH_SLICE == 0 && next) pump(et);
        l = next;
    }
    return any;
}

/* ------------------------------------------------------------------ */
/* vtable                                                               */
/* ------------------------------------------------------------------ */

static int resolve(const hive__addr *a, ENetAddress *out)
{
    memset(out, 0, sizeof *out);
    out->port = a->port;
    if (strcmp(a->host, "*") == 0 || strcmp(a->host, "0.0.0.0") == 0) {
        out->host = ENET_HOST_ANY;
        return HIVE_OK;
    }
    if (strchr(a->host, ':')) return HIVE_EUNSUPPORTED;   /* ENet 1.3 is IPv4 only */
    return enet_address_set_host(out, a->host) == 0 ? HIVE_OK : HIVE_EADDR;
}

static size_t host_limits(etransport *et)
{
    /* Room for the datagram's own headers and a few acknowledgements. */
    et->coalesce = et->host->mtu > 256 ? et->host->mtu - 64 : 1024;
    /* A peer must not make ENet reassemble more than one frame's worth
     * (plus one coalesced packet) into memory. */
    size_t maxp = (size_t)et->base.opts.max_frame + 64;
    if (maxp < et->coalesce * 2) maxp = et->coalesce * 2;
    et->host->maximumPacketSize = maxp;
    /* Received data ENet holds for one peer before the core takes it
     * (out-of-order reliable packets waiting for a gap) is 32 MiB by
     * default; a few frames' worth is plenty. Above it ENet stops
     * acknowledging, so the sender retransmits later: back-pressure, not
     * loss. */
    size_t waiting = maxp * 8 > (4u << 20) ? maxp * 8 : (4u << 20);
    et->host->maximumWaitingData = waiting;
    return maxp;
}

static int e_listen(hive__transport *t, const hive__addr *addr)
{
    etransport *et = E(t);
    if (et->host) return HIVE_ESTATE;
    ENetAddress a;
    int rc = resolve(addr, &a);
    if (rc < 0) return rc;
    size_t n = t->opts.max_links ? t->opts.max_links : 64;
    if (n > ENET_PROTOCOL_MAXIMUM_PEER_ID) n = ENET_PROTOCOL_MAXIMUM_PEER_ID;
    et->host = enet_host_create(&a, n, (size_t)(2 * (et->lanes_offered ? et->lanes_offered : 1)), t->opts.bw_in,
                                t->opts.bw_out);
    if (!et->host) return HIVE_EIO;
    if (et->host->address.port == 0) {
        ENetAddress got;
        if (enet_socket_get_address(et->host->socket, &got) == 0) et->host->address.port = got.port;
    }
    et->listening = true;
    host_limits(et);
    /* ENet counts a peer against its address from its CONNECT on, and
     * ignores a CONNECT over the limit: no slot, no answer, no event. */
    if (t->opts.max_per_addr) et->host->duplicatePeers = t->opts.max_per_addr;
    et->half = hive__calloc(et->host->peerCount, sizeof *et->half);
    if (!et->half) { enet_host_destroy(et->host); et->host = NULL; et->listening = false; return HIVE_ENOMEM; }
    return HIVE_OK;
}

static int e_connect(hive__transport *t, const hive__addr *addr, hive__link **out)
{
    etransport *et = E(t);
    if (et->listening) return HIVE_ESTATE;
    ENetAddress a;
    int rc = resolve(addr, &a);
    if (rc < 0) return rc;
    if (!et->host) {
        et->host = enet_host_create(NULL, 1, 2 * HIVE__LANES_MAX, t->opts.bw_in, t->opts.bw_out);
        if (!et->host) return HIVE_EIO;
        host_limits(et);
    }
    /* Every lane there is: the server's answer says how many it keeps. */
    ENetPeer *p = enet_host_connect(et->host, &a, 2 * HIVE__LANES_MAX, 0);
    if (!p) return HIVE_ENOMEM;
    elink *l = link_new(et, p);
    if (!l) { enet_peer_reset(p); return HIVE_ENOMEM; }
    *out = &l->base;
    return HIVE_OK;
}

/*
 * Handles everything ENet has for us without waiting. Every
 * enet_host_service walks all peer slots twice (to send, then to
 * acknowledge what it read): at thousands of connections that walk, not
 * the datagrams, is the cost of a call that finds nothing. So once a
 * call has read less than a full batch the socket was empty, and when
 * its events are handled drain stops instead of asking again; what
 * arrives meanwhile makes the socket readable for the next wait.
 */
static int drain(etransport *et)
{
    int n = 0;
    bool empty = false;               /* the last service call emptied the socket */
    uint64_t t0 = hive_now_ns();
    ENetEvent ev;
    stashed s;
    while (n < ENET_EVENT_BUDGET) {
        if (et->stash_n) {
            stash_pop(et, &s);        /* older than anything ENet still has */
        } else {
            int r = enet_host_check_events(et->host, &ev);
            if (r == 0) {
                if (empty) break;
                enet_uint32 before = et->host->totalReceivedPackets;
                r = enet_host_service(et->host, &ev, 0);
                round_bump(et);
                empty = et->host->totalReceivedPackets - before < ENET_RECV_BATCH;
            }
            if (r <= 0) break;
            if (!take(et, &ev, &s)) continue;
        }
        n += deliver(et, &s);
        if ((n & 7) == 0 && hive_now_ns() - t0 >= DRAIN_NS) break;   /* the rest waits */
    }
    return n;
}

static void eat_wakes(etransport *et)
{
    char buf[64];
    while (read(et->wake_rd, buf, sizeof buf) > 0) {}
}

static int report_gone(etransport *et)
{
    int n = 0;
    while (et->gone) {
        elink *l = et->gone;
        et->gone = l->next_gone;
        et->base.cb.disconnected(et->base.cb.core, &l->base, HIVE_CLOSE_NORMAL, NULL);
        link_free(et, l);
        n++;
    }
    return n;
}

/*
 * ENet answers a CONNECT by giving it a peer slot and retransmitting
 * VERIFY_CONNECT until the peer acknowledges it or ENet's own timeout
 * (tens of seconds) ends it; the core hears of the peer only at ENet's
 * connect event. So a peer that sends CONNECTs and never acknowledges
 * holds slots the core cannot see. Every ENET_REAP_EVERY_MS this walks
 * the slots (peerCount, bounded by max_links) and silently resets those
 * still short of a connect event ENET_HALF_OPEN_MS after their CONNECT
 * was first seen: a real handshake takes one round trip, and 2 s leaves
 * room for a couple of lost datagrams. The reset sends nothing, which
 * also ends the VERIFY_CONNECT retransmissions to that address.
 */
static void reap_half_open(etransport *et, uint64_t now)
{
    if (!et->listening || !et->half || now < et->next_reap_ms) return;
    et->next_reap_ms = now + ENET_REAP_EVERY_MS;
    for (size_t i = 0; i < et->host->peerCount; i++) {
        ENetPeer *p = &et->host->peers[i];
        bool half = !p->data && (p->state == ENET_PEER_STATE_ACKNOWLEDGING_CONNECT ||
                                 p->state == ENET_PEER_STATE_CONNECTION_PENDING ||
                                 p->state == ENET_PEER_STATE_CONNECTION_SUCCEEDED);
        if (!half) { et->half[i].since_ms = 0; continue; }
        if (!et->half[i].since_ms || et->half[i].id != p->connectID) {
            et->half[i].id = p->connectID;
            et->half[i].since_ms = now;
            continue;
        }
        if (now - et->half[i].since_ms < ENET_HALF_OPEN_MS) continue;
        enet_peer_reset(p);
        et->half[i].since_ms = 0;
        __atomic_add_fetch(&et->reaped, 1, __ATOMIC_RELAXED);
    }
}

static int e_stats(hive__transport *t, hive__transport_stats *out)
{
    memset(out, 0, sizeof *out);
    out->enet_half_open_reaped = __atomic_load_n(&E(t)->reaped, __ATOMIC_RELAXED);
    return HIVE_OK;
}

static int e_pollfd(hive__transport *t)
{
    return E(t)->host ? (int)E(t)->host->socket : -1;
}

static int e_service(hive__transport *t, int timeout_ms)
{
    etransport *et = E(t);
    if (!et->host) return HIVE_ESTATE;
    flush_dirty(et);
    int n = report_gone(et);
    n += drain(et);
    if (n == 0 && timeout_ms > 0) {
        struct pollfd pf[2] = {
            { .fd = et->host->socket, .events = POLLIN },
            { .fd = et->wake_rd, .events = POLLIN },
        };
        int r = poll(pf, 2, timeout_ms);
        if (r > 0 && (pf[1].revents & POLLIN)) eat_wakes(et);
        n = drain(et);
    } else {
        eat_wakes(et);
    }
    /* enet_host_service has just sent what ENet had queued (acks,
     * retransmits); another walk over every peer slot is only worth it
     * when frames were handed to ENet after it. */
    if (flush_dirty(et)) { enet_host_flush(et->host); round_bump(et); }
    reap_half_open(et, hive_now_ns() / 1000000u);
    return n;
}

static void mark_dirty(etransport *et, elink *l)
{
    if (l->dirty) return;
    l->dirty = true;
    l->next_dirty = et->dirty;
    et->dirty = l;
}

/* Lane ln's slots, made when first needed (NULL: out of memory). A lane
 * the link does not have is lane 0 (the core never asks for one). */
static eslots *lane_want(elink *l, int *ln)
{
    if (*ln <= 0 || *ln >= l->lanes) {
        *ln = 0;
        return &l->s0;
    }
    if (!l->sx && !(l->sx = hive__calloc((size_t)l->lanes - 1, sizeof *l->sx))) return NULL;
    return &l->sx[*ln - 1];
}

/* Queues frames in lane ln's slot ch (SLOT_*). */
static int send_slot(hive__transport *t, hive__link *hl, const void *const *pieces,
                     const size_t *lens, int npieces, int ln, int ch)
{
    etransport *et = E(t);
    elink *l = (elink *)hl;
    if (l->closing || !l->peer) return HIVE_ECLOSED;
    eslots *e = lane_want(l, &ln);
    if (!e) return HIVE_ENOMEM;
    size_t total = 0;
    for (int i = 0; i < npieces; i++) total += lens[i];
    ENetPacket *p = e->pend[ch];
    if (p && e->used[ch] + total > p->dataLength) {
        /* Grow by doubling up to the coalescing limit before giving up on
         * coalescing: packets start small (COALESCE_START) so that the
         * common case, one frame per link per flush, stays in malloc's
         * fast path instead of a full-MTU allocation per link. */
        size_t want = e->used[ch] + total, cap = p->dataLength * 2;
        if (cap < want) cap = want;
        if (cap > et->coalesce) cap = et->coalesce;
        if (want > cap || enet_packet_resize(p, cap) != 0) {
            flush_channel(l, ln, ch);
            p = NULL;
        }
    }
    if (!p) {
        size_t cap = total > COALESCE_START ? total : COALESCE_START;
        if (et->base.opts.coalesce_off) cap = total;
        p = enet_packet_create(NULL, cap, slot_flags(ch));
        if (!p) return HIVE_ENOMEM;
        e->pend[ch] = p;
        e->used[ch] = 0;
    }
    uint8_t *dst = p->data + e->used[ch];
    for (int i = 0; i < npieces; i++) {
        memcpy(dst, pieces[i], lens[i]);
        dst += lens[i];
    }
    e->used[ch] += total;
    if (et->base.opts.coalesce_off) flush_channel(l, ln, ch);
    else mark_dirty(et, l);
    return HIVE_OK;
}

static int e_send(hive__transport *t, hive__link *hl, const void *const *pieces,
                  const size_t *lens, int npieces, int dlv)
{
    return send_slot(t, hl, pieces, lens, npieces, HIVE__LANE(dlv), dlv_slot(HIVE__KIND(dlv)));
}

static void *e_share(hive__transport *t, const void *const *pieces, const size_t *lens,
                     int npieces, int dlv)
{
    (void)t;
    size_t total = 0;
    for (int i = 0; i < npieces; i++) total += lens[i];
    ENetPacket *p = enet_packet_create(NULL, total, slot_flags(dlv_slot(HIVE__KIND(dlv))));
    if (!p) return NULL;
    p->userData = (void *)(intptr_t)HIVE__LANE(dlv);   /* the lane it goes on */
    uint8_t *dst = p->data;
    for (int i = 0; i < npieces; i++) {
        memcpy(dst, pieces[i], lens[i]);
        dst += lens[i];
    }
    p->referenceCount = 1;        /* the core's, until e_unshare */
    return p;
}

static int e_send_shared(hive__transport *t, hive__link *hl, void *shared)
{
    etransport *et = E(t);
    elink *l = (elink *)hl;
    ENetPacket *sp = shared;
    int ch = (sp->flags & ENET_PACKET_FLAG_RELIABLE) ? SLOT_REL
           : (sp->flags & ENET_PACKET_FLAG_UNSEQUENCED) ? SLOT_UNORD : SLOT_SEQ;
    int ln = (int)(intptr_t)sp->userData;
    if (l->closing || !l->peer) return HIVE_ECLOSED;
    eslots *e = lane_want(l, &ln);
    if (!e) return HIVE_ENOMEM;
    if (e->pend[ch] || e->shared[ch] || et->base.opts.coalesce_off) {
        /* Frames already wait on this channel: this one joins them (one
         * copy, and the link still sends one datagram per flush). */
        const void *pieces[1] = { sp->data };
        size_t lens[1] = { sp->dataLength };
        return send_slot(t, hl, pieces, lens, 1, ln, ch);
    }
    sp->referenceCount++;         /* the link's, until flush_channel */
    e->shared[ch] = sp;
    mark_dirty(et, l);
    return HIVE_OK;
}

static void e_unshare(hive__transport *t, void *shared)
{
    (void)t;
    packet_release(shared);
}

static void e_flush(hive__transport *t)
{
    etransport *et = E(t);
    if (!et->host) return;
    flush_dirty(et);
    enet_host_flush(et->host);
    round_bump(et);
}

static void e_wake(hive__transport *t)
{
    etransport *et = E(t);
    char b = 1;
    ssize_t r = write(et->wake_wr, &b, 1);   /* full pipe: a wake is pending anyway */
    (void)r;
}

static void e_close(hive__transport *t, hive__link *hl, uint32_t code)
{
    etransport *et = E(t);
    elink *l = (elink *)hl;
    if (l->closing || !l->peer) return;
    dirty_remove(et, l);
    flush_link(l);
    l->closing = true;
    l->code = ENET_REASON_TAG | (code & 0xFFFFu);
    if (!l->up) {
        /* Never connected: nothing to deliver, and ENet resets such a
         * peer without an event. The core is still owed its disconnected
         * callback; the next service makes it (never from inside close). */
        enet_peer_disconnect_now(l->peer, l->code);
        l->peer->data = NULL;
        l->peer = NULL;
        l->next_gone = et->gone;
        et->gone = l;
        e_wake(t);
        return;
    }
    enet_peer_disconnect_later(l->peer, l->code);
}

static void e_abort(hive__transport *t, hive__link *hl)
{
    etransport *et = E(t);
    elink *l = (elink *)hl;
    ENetPeer *p = l->peer;
    link_drop_pending(l);
    if (p) {
        p->data = NULL;
        l->peer = NULL;
        enet_peer_disconnect_now(p, l->closing ? l->code : ENET_REASON_TAG | HIVE_CLOSE_TIMEOUT);
    }
    link_free(et, l);
}

/* What the walk in e_queued counts for one list of ENet commands. */
static size_t held_in(ENetList *list)
{
    size_t n = 0;
    for (ENetListIterator it = enet_list_begin(list); it != enet_list_end(list); it = enet_list_next(it)) {
        const ENetOutgoingCommand *c = (const ENetOutgoingCommand *)it;
        n += ENET_CMD_COST + (c->packet ? c->fragmentLength : 0);
    }
    return n;
}

/*
 * The bytes queued for a link and not yet acknowledged by the peer: the
 * frames waiting in the link's coalescing packets, plus every command
 * ENet holds for the peer, unsent (outgoingCommands) or sent and
 * unacknowledged (sentReliableCommands; sentUnreliableCommands only
 * lives inside a send), each its data plus ENET_CMD_COST. A peer that
 * withholds its acknowledgements makes this grow, and the core's bound
 * (send_queue_bytes) then applies as it does on tcp://.
 *
 * ENet says nothing when it frees a command (an acknowledgement, a
 * dropped unreliable one), and a packet's freeCallback is no per-link
 * hook: a broadcast shares one packet between every peer. So the lists
 * are walked, at most once per "round" and per millisecond (below):
 * between two calls into ENet
 * that may send, free or acknowledge commands (enet_host_service,
 * enet_host_flush) the count can only grow, by what flush_channel hands
 * over, which is added as it goes (q_added). The core asks per frame
 * sent and per timer tick; a walk costs what ENet's own send and timeout
 * passes already spend on the same lists each service, and the bound
 * keeps the lists short.
 */
static size_t e_queued(hive__transport *t, hive__link *hl)
{
    etransport *et = E(t);
    elink *l = (elink *)hl;
    size_t n = 0;
    int lanes = l->sx ? l->lanes : 1;
    for (int ln = 0; ln < lanes; ln++) {
        const eslots *e = lane_slots(l, ln);
        for (int ch = 0; ch < SLOTS; ch++) {
            if (e->pend[ch]) n += e->used[ch] + ENET_CMD_COST;
            if (e->shared[ch]) n += e->shared[ch]->dataLength + ENET_CMD_COST;
        }
    }
    ENetPeer *p = l->peer;
    if (!p) return n;
    /* Between walks the sum is an upper bound: ENet only sends, frees or
     * acknowledges inside the calls that bump the round. A link is walked
     * at most once per ENET_QUEUED_WALK_NS, so one that sends frame after
     * frame between short service rounds (a client streaming at full
     * speed) does not walk its whole window each round; what it reports
     * meanwhile is at most that long stale, and only ever high. */
    if (l->q_round != et->round) {
        /* The round's time, not the clock's: no clock read per frame. */
        if (l->q_walk_ns && et->round_ns - l->q_walk_ns < ENET_QUEUED_WALK_NS) return n + l->q_held + l->q_added;
        l->q_walk_ns = et->round_ns;
        l->q_round = et->round;
        l->q_added = 0;
        l->q_held = held_in(&p->outgoingCommands) + held_in(&p->sentReliableCommands) +
                    held_in(&p->sentUnreliableCommands);
#if ENET_VERSION_PATCH >= 18
        l->q_held += held_in(&p->outgoingSendReliableCommands);
#endif
    }
    return n + l->q_held + l->q_added;
}

static uint16_t e_bound_port(hive__transport *t)
{
    etransport *et = E(t);
    return et->host && et->listening ? et->host->address.port : 0;
}

static int e_rtt(hive__transport *t, hive__link *hl)
{
    elink *l = (elink *)hl;
    return l->peer ? (int)l->peer->roundTripTime : -1;
}

static void e_destroy(hive__transport *t)
{
    etransport *et = E(t);
    if (!et) return;
    /* Stashed events first: their packets, and the links only they hold
     * (detached by a stashed disconnect, or dead). */
    while (et->stash_n) {
        stashed s;
        stash_pop(et, &s);
        elink *l = s.link;
        if (s.type == ENET_EVENT_TYPE_RECEIVE) enet_packet_destroy(s.u.packet);
        if (s.type == ENET_EVENT_TYPE_DISCONNECT) l->dead = true;
        if (--l->stashed == 0 && l->dead) link_release(l);
    }
    hive__free(et->stash);
    hive__free(et->half);
    if (et->host) {
        for (size_t i = 0; i < et->host->peerCount; i++) {
            ENetPeer *p = &et->host->peers[i];
            if (p->data) {
                elink *l = p->data;
                l->peer = p;
                link_drop_pending(l);
                p->data = NULL;
                link_release(l);
            }
        }
        enet_host_destroy(et->host);
    }
    while (et->gone) {
        elink *l = et->gone;
        et->gone = l->next_gone;
        link_release(l);
    }
    close(et->wake_rd);
    close(et->wake_wr);
    hive__free(et);
    enet_unref();
}

static int e_lanes(hive__transport *t, hive__link *hl)
{
    (void)t;
    return ((elink *)hl)->lanes ? ((elink *)hl)->lanes : 1;
}

/* Links that arrive from now on get n lanes: ENet gives a CONNECT
 * min(asked, channelLimit) channels. */
static void e_offer_lanes(hive__transport *t, int n)
{
    etransport *et = E(t);
    if (n < 1) n = 1;
    if (n > (int)HIVE__LANES_MAX) n = HIVE__LANES_MAX;
    et->lanes_offered = n;
    if (et->host) et->host->channelLimit = (size_t)(2 * n);
}

static const hive__transport_vt g_enet_vt = {
    .scheme = "enet",
    .stream = false,
    .listen = e_listen,
    .connect = e_connect,
    .service = e_service,
    .pollfd = e_pollfd,
    .send = e_send,
    .flush = e_flush,
    .share = e_share,
    .send_shared = e_send_shared,
    .unshare = e_unshare,
    .close = e_close,
    .abort = e_abort,
    .wake = e_wake,
    .bound_port = e_bound_port,
    .rtt_ms = e_rtt,
    .queued = e_queued,
    .lanes = e_lanes,
    .offer_lanes = e_offer_lanes,
    .stats = e_stats,
    .destroy = e_destroy,
};

int hive__transport_enet_create(const hive__transport_cb *cb, const hive__transport_opts *opts,
                                hive__transport **out)
{
    int rc = enet_ref();
    if (rc < 0) return rc;
    etransport *et = hive__calloc(1, sizeof *et);
    if (!et) { enet_unref(); return HIVE_ENOMEM; }
    int fds[2];
    if (pipe(fds) != 0) { hive__free(et); enet_unref(); return HIVE_EIO; }
    for (int i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    }
    et->wake_rd = fds[0];
    et->wake_wr = fds[1];
    et->base.vt = &g_enet_vt;
    et->base.cb = *cb;
    et->base.opts = *opts;
    et->round = 1;                /* a new link's q_round (0) is stale */
    if (!et->base.opts.max_frame) et->base.opts.max_frame = 65536;
    *out = &et->base;
    return HIVE_OK;
}
