/*
 * endpoint.c - the endpoint core on the I/O thread, for both faces: links
 * from the transport (arrived, up, data, gone), what each frame means for
 * its connection (conn.c) and the common answers (deliver, pong, close),
 * user sends and broadcasts, requests from other threads, timers, the
 * I/O round, the service loop and Hive's own I/O thread. What only one
 * side does comes in through ep->face (see ep.h).
 */
#include "events/internal.h"
#include "net/core/ep.h"
#include "net/core/limits.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Connections                                                          */
/* ------------------------------------------------------------------ */

void hive__ep_conn_state(hive__conn *c, hive__cstate st, uint64_t now)
{
    c->state = (uint8_t)st;
    c->t_state = now;
    if (st == HIVE__C_OPEN) c->opened = true;
    __atomic_store_n(&c->open_pub, st == HIVE__C_OPEN, __ATOMIC_RELEASE);
    /* A session suspended before its handshake completed was never open
     * to the application: it takes no sends until a resume opens it. */
    __atomic_store_n(&c->susp_pub, st == HIVE__C_SUSPENDED && c->opened, __ATOMIC_RELEASE);
}

bool hive__ep_link_stream(hive__ep *ep, hive__link *link)
{
    return ep->tr->vt->link_stream ? ep->tr->vt->link_stream(ep->tr, link) : ep->tr->vt->stream;
}

int hive__ep_link_lanes(hive__ep *ep, hive__link *link)
{
    int n = ep->tr->vt->lanes ? ep->tr->vt->lanes(ep->tr, link) : 1;
    return n < 1 ? 1 : n > (int)HIVE__LANES_MAX ? (int)HIVE__LANES_MAX : n;
}

hive__conn *hive__ep_conn_new(hive__ep *ep, hive__link *link, hive__cstate st)
{
    hive__conn *c = hive__calloc(1, sizeof *c);
    if (!c) return NULL;
    c->link = link;
    c->stream = hive__ep_link_stream(ep, link);
    c->lanes = 1;
    c->peer_max_frame = HIVE__MAX_FRAME_MIN;
    c->last_rx = c->last_tx = ep->now;
    c->t_made = c->last_stats = c->last_ping = ep->now;
    hive__ep_conn_state(c, st, ep->now);
    link->conn = c;
    return c;
}

static void conn_link(hive__ep *ep, hive__conn *c)
{
    /* Caller holds ep->lock. */
    c->prev = NULL;
    c->next = ep->conns;
    if (ep->conns) ep->conns->prev = c;
    ep->conns = c;
    ep->nconns++;
}

void hive__ep_conn_free(hive__ep *ep, hive__conn *c)
{
    hive__admit_del(&ep->adm, c);
    if (ep->face->remote_drop) ep->face->remote_drop(ep, c);
    pthread_mutex_lock(&ep->lock);
    if (ep->face->forget) ep->face->forget(ep, c);
    if (c->prev) c->prev->next = c->next;
    else ep->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    ep->nconns--;
    pthread_mutex_unlock(&ep->lock);
    hive__rxbuf_free(&c->rx);
    hive__replay_free(&c->rp);
    hive__xfer_free(&c->xf);
    hive__free(c->drain_msg);
    hive__free(c->subject);
    hive__free(c->handoff_data);
    hive__free(c->redirect_to);
    hive__free(c->addr);
    hive__free(c->conntype);
    hive__free(c->app_version);
    hive__free(c);
    if (ep->face->released) ep->face->released(ep);
}

/* Drops c's link now (no callbacks, peer not told) and frees c. */
static void conn_abort(hive__ep *ep, hive__conn *c)
{
    if (c->link) ep->tr->vt->abort(ep->tr, c->link);
    c->link = NULL;
    hive__ep_conn_free(ep, c);
}

void hive__ep_close(hive__ep *ep, hive__conn *c, int reason, const char *message, bool remote,
                    int how, bool abort_now)
{
    if (c->state == HIVE__C_CLOSING) return;
    hive__admit_del(&ep->adm, c);
    if (hive__ep_draining(c)) {
        /* The game's close ends here, however its drain ended (a lost
         * link, a timeout, the time up): its reason is the one told; the
         * close event's `undelivered` says what did not get through. */
        reason = c->drain_reason;
        message = c->drain_msg;
        remote = false;
    }
    int prev = c->state;
    bool was_dialing = prev == HIVE__C_DIALING;
    hive__ep_conn_state(c, HIVE__C_CLOSING, ep->now);
    c->close_reason = reason;
    c->close_deadline = ep->now + HIVE__CLOSE_WAIT_MS;
    /* (A draining c is closing at the game's word: the face never
     * carries its session on.) */
    int carry = ep->face->closing ? ep->face->closing(ep, c, reason, prev) : HIVE__CARRY_NO;
    c->drain_until = 0;   /* whatever closes c now ends its drain too */
    bool carry_on = carry != HIVE__CARRY_NO;
    if (carry == HIVE__CARRY_KEEP) {
        /* The session waits for a resume without its link (conn.h). */
        if (c->link) ep->tr->vt->abort(ep->tr, c->link);
        c->link = NULL;
        hive__rxbuf_free(&c->rx);
        c->partial_since = 0;
        c->sendq_warned = false;
        c->sendq_high_since = 0;
        hive__ep_conn_state(c, HIVE__C_SUSPENDED, ep->now);
        return;
    }
    if (carry_on) c->close_published = true;   /* the session lives on: no close event */
    if (!c->close_published) {
        c->close_published = true;
        HIVE__STAT_ADD(ep, closed, 1);
        uint64_t und = hive__replay_unacked(&c->rp);   /* acks never pass sent (replay.c) */
        hive_field f[] = {
            HIVE_PTR(ep->self_key, ep->self),
            HIVE_INT("cid", c->cid),
            HIVE_INT("reason", reason),
            HIVE_STR("reason_name", hive_close_reason_name(reason)),
            HIVE_STR("message", message ? message : ""),
            HIVE_INT("remote", remote),
            HIVE_INT("delivered", und == 0),
            HIVE_INT("undelivered", (int64_t)und),
        };
        hive__ep_emit(ep, ep->ev[HIVE__EV_CLOSE], f, 8);
    }
    /* One connection is all a client has: nothing more will arrive
     * (unless it reconnects). */
    if (ep->face->one_conn) hive__ep_wake_all(ep, !carry_on);
    if (!c->link) {
        /* A suspended session has no link to wait for: it ends here. */
        if (prev == HIVE__C_SUSPENDED) hive__ep_conn_free(ep, c);
        return;
    }
    if (abort_now || was_dialing) {
        conn_abort(ep, c);
        return;
    }
    /* The side that decided to close ends the link; the other side
     * waits for that (bounded by close_deadline). Both ending it at once
     * makes ENet's disconnects cross and one side wait for a timeout. */
    if (remote) return;
    if (how != HIVE__CLOSE_SILENT) {
        hive_msg m;
        hive_msg_init(&m);
        /* A close of an open session carries the final acknowledgement:
         * the peer's close event then knows exactly what arrived. */
        int64_t got = how == HIVE__CLOSE_FRAME && prev == HIVE__C_OPEN && !ep->no_seq ? (int64_t)c->rp.recv : -1;
        hive__lanecounts more;
        hive__replay_recv_lanes(&c->rp, &more);
        /* (A server's redirect carries where the session went: HANDOFF.) */
        if (hive__close_pack_redirect(&m, reason, message, got, &more, c->server_side ? c->redirect_to : NULL,
                                      c->redirect_cid, c->redirect_token) == 0)
            hive__ep_send_msg(ep, c, how == HIVE__REJECT_FRAME ? HIVE__PID_REJECT : HIVE__PID_CLOSE, &m);
        hive_msg_free(&m);
    }
    ep->tr->vt->close(ep->tr, c->link, (uint32_t)reason);
}

/* ------------------------------------------------------------------ */
/* Transport callbacks                                                  */
/* ------------------------------------------------------------------ */

void hive__ep_close_gently(hive__ep *ep, hive__conn *c, int reason, const char *message)
{
    if (hive__ep_draining(c)) return;   /* the first close asked for stands */
    if (c->state != HIVE__C_OPEN || !c->link || !ep->drain_ms || hive__replay_unacked(&c->rp) == 0) {
        hive__ep_close(ep, c, reason, message, false, HIVE__CLOSE_FRAME, false);
        return;
    }
    hive__free(c->drain_msg);
    c->drain_msg = message ? hive__strdup(message) : NULL;
    c->drain_reason = reason;
    c->drain_until = ep->now + ep->drain_ms;
    if (!c->drain_until) c->drain_until = 1;
    /* Other threads' sends get HIVE_ESTATE from now on. The peer owes its
     * acknowledgement within HIVE__ACK_DELAY_MS of the frames arriving,
     * so a drain takes about a round trip plus that. */
    __atomic_store_n(&c->open_pub, 0, __ATOMIC_RELEASE);
}

/* A draining c whose peer has confirmed everything, or whose time is up
 * (or whose link went), closes now. Returns whether it did. */
static bool drain_check(hive__ep *ep, hive__conn *c, bool force)
{
    if (!hive__ep_draining(c)) return false;
    if (!force && c->link && hive__replay_unacked(&c->rp) && ep->now < c->drain_until) return false;
    hive__ep_close(ep, c, c->drain_reason, c->drain_msg, false, HIVE__CLOSE_FRAME, false);
    return true;
}

void hive__ep_refuse(hive__ep *ep, hive__conn *c, int reason)
{
    hive__ep_close(ep, c, reason, hive_close_reason_text(reason), false, HIVE__REJECT_FRAME, false);
    if (c->stream && c->link) conn_abort(ep, c);
}

/*
 * A link has arrived: it enters the handshake table, or is refused
 * (hive/net.h ADMISSION). Once the table is at least half full, an
 * address already holding max_per_addr handshakes gets no more: the
 * newcomer is refused, so under pressure one host cannot take more than
 * its share (nor, through eviction, push everyone else's handshakes out).
 * Below half nothing is at stake, and a LAN party or a crowd of bots
 * joining from one address at once all get in. When the table is full
 * the OLDEST entry makes room: a real client's hello follows its link
 * within a round trip, so the oldest is the likeliest to be idle, and a
 * storm of idle links can then never keep a newcomer out (it only
 * shortens how long each idle link is kept).
 */
static void admit(hive__ep *ep, hive__conn *c)
{
    hive__admit *a = &ep->adm;
    hive__admit_key(c->addr, c->hs_key);
    if (a->n >= (a->max + 1) / 2 && hive__admit_count(a, c->hs_key) >= a->max_per_addr) {
        HIVE__STAT_ADD(ep, busy_rejected, 1);
        hive__ep_refuse(ep, c, HIVE_CLOSE_BUSY);
        return;
    }
    while (a->n >= a->max && a->head) {
        HIVE__STAT_ADD(ep, handshakes_evicted, 1);
        hive__ep_refuse(ep, a->head, HIVE_CLOSE_BUSY);   /* takes it out of the table */
    }
    hive__admit_add(a, c);
}

/* A new server-side connection c (its addr just copied) handed to the
 * face and linked in; on failure it is freed. */
static int conn_attach(hive__ep *ep, hive__conn *c)
{
    int rc = c->addr ? HIVE_OK : HIVE_ENOMEM;
    if (rc == HIVE_OK) {
        pthread_mutex_lock(&ep->lock);
        rc = ep->face->accepted(ep, c);
        if (rc == HIVE_OK) conn_link(ep, c);
        pthread_mutex_unlock(&ep->lock);
    }
    if (rc < 0) {
        hive__free(c->addr);
        hive__free(c);
    }
    return rc;
}

static int ep_accepted(void *core, hive__link *link, const char *addr)
{
    hive__ep *ep = core;
    if (ep->stopping || !ep->face->accepted) return HIVE_ESTATE;
    hive__conn *c = hive__ep_conn_new(ep, link, HIVE__C_AWAIT_HELLO);
    if (!c) return HIVE_ENOMEM;
    c->lanes = hive__ep_link_lanes(ep, link);
    c->server_side = true;
    c->addr = hive__strdup(addr);
    int rc = conn_attach(ep, c);
    if (rc < 0) {
        link->conn = NULL;
        return rc;
    }
    HIVE__STAT_ADD(ep, accepted, 1);
    hive_field f[] = { HIVE_PTR(ep->self_key, ep->self), HIVE_INT("cid", c->cid), HIVE_STR("addr", c->addr) };
    hive__ep_emit(ep, ep->ev[HIVE__EV_ACCEPT], f, 3);
    if (ep->adm.max) admit(ep, c);
    return HIVE_OK;
}

hive__conn *hive__ep_conn_adopt(hive__ep *ep)
{
    if (ep->stopping || !ep->face->accepted) return NULL;
    hive__conn *c = hive__calloc(1, sizeof *c);
    if (!c) return NULL;
    c->lanes = 1;
    c->server_side = true;
    c->peer_max_frame = HIVE__MAX_FRAME_MIN;
    c->last_rx = c->last_tx = ep->now;
    c->t_made = c->last_stats = c->last_ping = ep->now;
    c->addr = hive__strdup("");
    hive__ep_conn_state(c, HIVE__C_SUSPENDED, ep->now);
    return conn_attach(ep, c) < 0 ? NULL : c;
}

static void ep_connected(void *core, hive__link *link)
{
    hive__ep *ep = core;
    hive__conn *c = link->conn;
    if (!c || c->state != HIVE__C_DIALING) return;
    c->last_rx = c->last_tx = ep->now;
    c->lanes = hive__ep_link_lanes(ep, link);   /* the server's answer fixed them */
    if (ep->face->connected) ep->face->connected(ep, c);
}

/* A user packet arrived: recv events (the general one and the packet
 * type's) and the pull queue. */
static void deliver(hive__ep *ep, hive__conn *c, const hive__frame *f, const hive__act *act)
{
    const hive__pentry *pe = act->pe;
    hive_event_id recv = ep->ev[HIVE__EV_RECV];
    bool want = hive_bus_wants(ep->bus, recv);
    bool want_pe = pe->ev > 0 && hive_bus_wants(ep->bus, pe->ev);
    if (want || want_pe) {
        hive_field fl[] = {
            HIVE_PTR(ep->self_key, ep->self),
            HIVE_INT("cid", c->cid),
            HIVE_INT("pid", f->pid),
            HIVE_STR("name", pe->name),
            HIVE_MSGPACK("msg", f->body, f->body_len, act->obj),
        };
        if (want) hive__ep_emit(ep, recv, fl, 5);
        if (want_pe) hive__ep_emit(ep, pe->ev, fl, 5);
    }
    if (ep->pull) hive__ep_pull_push(ep, c->cid, f->pid, pe->name, f->body, f->body_len);
}

/* A client's close or reject that says where the session went (HANDOFF):
 * kept on c for its face to follow. */
static void keep_redirect(hive__conn *c, const hive__act *act)
{
    hive__free(c->redirect_to);
    c->redirect_to = hive__strdup(act->u.close.to);
    c->redirect_cid = act->u.close.to_cid;
    memcpy(c->redirect_token, act->u.close.to_token, sizeof c->redirect_token);
}

static void act_on(hive__ep *ep, hive__conn *c, const hive__frame *f, hive__act *act)
{
    switch (act->kind) {
    case HIVE__ACT_NONE:
        break;
    case HIVE__ACT_DELIVER:
        deliver(ep, c, f, act);
        break;
    case HIVE__ACT_PIECE:
        hive__ep_xfer_piece(ep, c, &act->u.piece);
        break;
    case HIVE__ACT_MISSHAPEN:
        HIVE__STAT_ADD(ep, shape_rejected, 1);
        if (act->reason) {
            hive__ep_close(ep, c, act->reason, act->u.close.message, false, HIVE__CLOSE_FRAME, false);
        } else if (hive_bus_wants(ep->bus, ep->ev[HIVE__EV_WARNING])) {
            /* Voidable, and never to stderr: a hostile peer must not be
             * able to fill the server's log. */
            hive_field fl[] = { HIVE_PTR(ep->self_key, ep->self), HIVE_STR("code", "bad_shape"),
                                HIVE_INT("cid", c->cid), HIVE_STR("name", act->pe->name),
                                HIVE_STR("text", act->u.close.message) };
            hive__ep_emit(ep, ep->ev[HIVE__EV_WARNING], fl, 5);
        }
        break;
    case HIVE__ACT_PING:
        hive__ep_loss_sample(ep, c, f->body, f->body_len);
        /* A reply never grows a queue the peer is not draining: a ping
         * flood that never reads costs at most the high-water mark. */
        if (hive__ep_sendq_high(ep, c)) HIVE__STAT_ADD(ep, pongs_dropped, 1);
        else hive__ep_send_frame(ep, c, HIVE__PID_PONG, f->body, f->body_len, true);
        break;
    case HIVE__ACT_ACK:
        if (hive__replay_ack_all(&c->rp, act->n, &act->lanes) < 0)
            hive__ep_close(ep, c, HIVE_CLOSE_BAD_FRAME, "ack of frames never sent", false, HIVE__CLOSE_FRAME, false);
        else
            drain_check(ep, c, false);
        break;
    case HIVE__ACT_REMOTE:
        if (ep->face->remote) ep->face->remote(ep, c, f->pid, act->obj);
        else hive__ep_close(ep, c, HIVE_CLOSE_UNEXPECTED_PACKET, NULL, false, HIVE__CLOSE_FRAME, false);
        break;
    case HIVE__ACT_HELLO:
    case HIVE__ACT_READY:
    case HIVE__ACT_WELCOME:
    case HIVE__ACT_RESUME:
    case HIVE__ACT_RESUMED:
        /* conn.c hands each side only its own steps. */
        if (ep->face->handshake) ep->face->handshake(ep, c, act);
        /* A hello accepted: the link holds a max_connections slot now. */
        if (c->state != HIVE__C_AWAIT_HELLO) hive__admit_del(&ep->adm, c);
        break;
    case HIVE__ACT_PEER_CLOSE:
        /* A client told to go elsewhere keeps where (its face follows). */
        if (!c->server_side && act->u.close.has_redirect && c->state == HIVE__C_OPEN) keep_redirect(c, act);
        /* The closer's final acknowledgement (one past what was sent is
         * a broken peer's: it changes nothing but the close event). */
        if (act->u.close.has_received && act->u.close.received <= c->rp.sent && act->u.close.received > c->rp.acked)
            hive__replay_ack(&c->rp, act->u.close.received);
        /* ... and each other lane's, when they fit the session. */
        for (int i = 0; i < act->u.close.received_lanes.n && i + 1 < hive__replay_nlanes(&c->rp); i++) {
            hive__replay *r = hive__replay_lane(&c->rp, i + 1);
            uint64_t got = act->u.close.received_lanes.v[i];
            if (got <= r->sent && got > r->acked) hive__replay_ack(r, got);
        }
        /* fall through */
    case HIVE__ACT_REJECTED:
        /* A resume refused because the session moved on (HANDOFF): where */
        if (act->kind == HIVE__ACT_REJECTED && !c->server_side && act->u.close.has_redirect &&
            act->reason == HIVE_CLOSE_REDIRECT)
            keep_redirect(c, act);
        c->drain_until = 0;   /* both closed at once: the peer's close is the one told */
        hive__ep_close(ep, c, act->reason, act->u.close.message, true, HIVE__CLOSE_SILENT, false);
        break;
    case HIVE__ACT_CLOSE:
    default:
        hive__ep_close(ep, c, act->kind == HIVE__ACT_CLOSE ? act->reason : HIVE_CLOSE_UNEXPECTED_PACKET,
                       NULL, false, HIVE__CLOSE_FRAME, false);
        break;
    }
}

static bool rx_allow(hive__ep *ep, hive__conn *c, size_t size);

/*
 * A compressed frame (COMPRESSION in hive/net.h): its body becomes the
 * decompressed one, which never exceeds this side's max_frame whatever
 * the frame declares. A compressed frame the handshake did not agree to,
 * or a Hive packet, is a bad_frame; corrupt or over-size data (a bomb)
 * is bad_compression. Returns false when c was closed.
 */
static bool unzip(hive__ep *ep, hive__conn *c, hive__frame *f)
{
    if (f->pid < HIVE_PID_USER_MIN || !c->zstd || c->state != HIVE__C_OPEN) {
        hive__ep_close(ep, c, HIVE_CLOSE_BAD_FRAME, "a compressed frame the handshake did not agree to", false,
                       HIVE__CLOSE_FRAME, false);
        return false;
    }
    const uint8_t *out;
    size_t n;
    int rc = hive__zstd_unpack(&ep->z, f->body, f->body_len, ep->max_frame, &out, &n);
    if (rc < 0) {
        hive__ep_close(ep, c, rc == HIVE_ENOMEM ? HIVE_CLOSE_NO_MEMORY : HIVE_CLOSE_BAD_COMPRESSION,
                       rc == HIVE_ETOOBIG ? "the compressed body expands past max_frame"
                                          : "the compressed body is not one intact zstd frame with its size",
                       false, HIVE__CLOSE_FRAME, false);
        return false;
    }
    HIVE__STAT_ADD(ep, compressed_in, 1);
    f->body = out;
    f->body_len = n;
    f->flags &= (uint8_t)~HIVE__FLAG_COMPRESSED;
    return true;
}

/* Whether received user bodies are decoded: only the publishing mode
 * does, and only when a recv handler listens (posted events carry bytes). */
static bool decode_wanted(const hive__ep *ep)
{
    return !ep->threaded && !ep->lazy_decode && (hive_bus_wants(ep->bus, ep->ev[HIVE__EV_RECV]) || ep->any_pe_wanted);
}

void hive__ep_deliver_whole(hive__ep *ep, hive__conn *c, uint32_t pid, uint8_t flags, const uint8_t *body,
                            size_t len)
{
    hive__frame f = { .pid = pid, .flags = flags, .body = body, .body_len = len, .size = len };
    if ((f.flags & HIVE__FLAG_COMPRESSED) && !unzip(ep, c, &f)) return;
    hive__act act;
    hive__conn_on_frame(c, &f, HIVE__CHANNEL_RELIABLE, ep->pt, &ep->dec, decode_wanted(ep), &act);
    act_on(ep, c, &f, &act);
}

static void ep_data(void *core, hive__link *link, const uint8_t *p, size_t n, int channel)
{
    hive__ep *ep = core;
    hive__conn *c = link->conn;
    /* A dialed link carries nothing before cb.connected (transport.h);
     * should one, the bytes are ignored rather than acted on: a close of
     * a dialing connection frees it at once. */
    if (!c || c->state == HIVE__C_CLOSING || c->state == HIVE__C_DIALING) return;
    c->last_rx = ep->now;
    HIVE__STAT_BUMP(ep, bytes_in, n);
    HIVE__CSTAT_BUMP(c, st_bytes_in, n);
    /* Posted events carry bytes only, so only the publishing mode decodes,
     * and only when a recv handler listens. */
    bool decode = decode_wanted(ep);
    hive__frame f;
    int reason = 0, r;
    bool framed = false;
    /* Until the peer's hello is in, a server takes frames of at most
     * HIVE_MIN_MAX_FRAME (a hello needs far less): a half-open link
     * cannot make it buffer max_frame bytes. docs/PROTOCOL.md. */
    while ((r = hive__conn_next_frame(c, c->stream, &p, &n,
                                      c->state == HIVE__C_AWAIT_HELLO ? HIVE__MAX_FRAME_MIN : ep->max_frame,
                                      &f, &reason)) == 1) {
        framed = true;
        HIVE__STAT_BUMP(ep, frames_in, 1);
        if ((ep->rx_fps || ep->rx_bps) && c->state == HIVE__C_OPEN && !rx_allow(ep, c, f.size)) {
            HIVE__STAT_ADD(ep, rate_limited, 1);
            hive__ep_close(ep, c, HIVE_CLOSE_RATE_LIMITED, NULL, false, HIVE__CLOSE_FRAME, false);
            return;
        }
        HIVE__CSTAT_BUMP(c, st_frames_in, 1);
        if (HIVE__KIND(channel) != HIVE__CHANNEL_RELIABLE) c->unrel_in++;
        if ((f.flags & HIVE__FLAG_COMPRESSED) && !unzip(ep, c, &f)) return;
        if (c->prev_live && c->state == HIVE__C_OPEN) {
            /* A resumed client sends nothing on its new link before it
             * has read resumed: this frame proves it holds the token that
             * came in it, so the one before retires (server_conn.c). */
            c->prev_live = false;
            memset(c->prev_token, 0, sizeof c->prev_token);
        }
        /* Likewise, the lanes held since the resume go now. */
        if (c->lanes_held && c->state == HIVE__C_OPEN) {
            hive__ep_lanes_release(ep, c);
            if (c->state == HIVE__C_CLOSING) return;
        }
        /* A counted user frame on another lane than 0 can overtake the
         * client's ready, which it follows: it stands in for the ready. */
        if (c->state == HIVE__C_AWAIT_READY && HIVE__LANE(channel) && c->server_side && (f.flags & HIVE__FLAG_SEQ) &&
            HIVE__KIND(channel) == HIVE__CHANNEL_RELIABLE &&
            f.pid >= HIVE_PID_USER_MIN && HIVE__LANE(channel) < hive__replay_nlanes(&c->rp)) {
            hive__act ready = { .kind = HIVE__ACT_READY };
            c->ready_implied = true;
            act_on(ep, c, &f, &ready);
            if (link->conn != c || c->state != HIVE__C_OPEN) return;
        }
        hive__act act;
        hive__conn_on_frame(c, &f, channel, ep->pt, &ep->dec, decode, &act);
        if (f.pid == HIVE__PID_READY && act.kind == HIVE__ACT_NONE) c->ready_implied = false;   /* it came: done */
        if (f.pid == HIVE__PID_PONG && act.kind == HIVE__ACT_NONE)
            hive__ep_rtt_sample(ep, c, f.body, f.body_len);
        /* A packet dropped for its shape was received all the same: it
         * counts, or the peer would replay it after a resume. */
        bool counted = (act.kind == HIVE__ACT_DELIVER || act.kind == HIVE__ACT_MISSHAPEN || act.kind == HIVE__ACT_PIECE ||
                        act.kind == HIVE__ACT_REMOTE) &&
                       (f.flags & HIVE__FLAG_SEQ);
        /* A session on the move (HANDOFF) takes nothing more here: what
         * its client sends now, it sends again where it lands (uncounted,
         * so unacknowledged); unreliable data is dropped as a lossy link
         * would. */
        if (c->moving && (act.kind == HIVE__ACT_DELIVER || act.kind == HIVE__ACT_MISSHAPEN ||
                          act.kind == HIVE__ACT_PIECE || act.kind == HIVE__ACT_REMOTE))
            continue;
        if (counted) {
            /* Each lane counts its own (replay.h LANES); a lane the
             * session lacks carries nothing counted (conn.c). */
            int ln = HIVE__LANE(channel);
            hive__replay_lane(&c->rp, ln < hive__replay_nlanes(&c->rp) ? ln : 0)->recv++;
            c->rp.recv_unacked += f.size;
        }
        act_on(ep, c, &f, &act);
        /* A resume moved this link to the session it resumes: go on with
         * that one (the bytes still buffered moved with it). */
        if (link->conn != c) {
            c = link->conn;
            if (!c) return;
            continue;
        }
        if (c->state == HIVE__C_CLOSING) return;
        if (counted && c->rp.recv_unacked >= HIVE__ACK_BYTES) hive__ep_send_ack(ep, c);
    }
    if (r < 0) {
        hive__ep_close(ep, c, reason, NULL, false, HIVE__CLOSE_FRAME, false);
        return;
    }
    /* Bytes left over are the start of the next frame: its clock starts
     * now if this read finished a frame or nothing was pending (hive/net.h
     * SLOW SENDERS). */
    if (c->rx.len > c->rx.off) {
        if (framed || !c->partial_since) c->partial_since = ep->now ? ep->now : 1;
    } else {
        c->partial_since = 0;
    }
}

/* The receive limits' token buckets (hive/net.h RECEIVE LIMITS): each
 * holds one second's worth, in thousandths so that a rate of r a second
 * refills r thousandths a millisecond. Charges one frame of `size` bytes;
 * false when a bucket runs dry (the frame is not delivered). */
static bool rx_allow(hive__ep *ep, hive__conn *c, size_t size)
{
    int64_t fcap = (int64_t)ep->rx_fps * 1000, bcap = (int64_t)ep->rx_bps * 1000;
    if (!c->rl_t) {
        c->rl_frames = fcap;
        c->rl_bytes = bcap;
        c->rl_t = ep->now ? ep->now : 1;
    } else if (ep->now > c->rl_t) {
        int64_t ms = (int64_t)(ep->now - c->rl_t);
        if (ms > 1000) ms = 1000;   /* a full bucket is a second's worth anyway */
        c->rl_frames += ms * ep->rx_fps;
        c->rl_bytes += ms * ep->rx_bps;
        if (c->rl_frames > fcap) c->rl_frames = fcap;
        if (c->rl_bytes > bcap) c->rl_bytes = bcap;
        c->rl_t = ep->now;
    }
    if (ep->rx_fps) {
        if (c->rl_frames < 1000) return false;
        c->rl_frames -= 1000;
    }
    if (ep->rx_bps) {
        if (c->rl_bytes < (int64_t)size * 1000) return false;
        c->rl_bytes -= (int64_t)size * 1000;
    }
    return true;
}

static void ep_disconnected(void *core, hive__link *link, int reason, const char *message)
{
    hive__ep *ep = core;
    hive__conn *c = link->conn;
    if (!c) return;
    c->link = NULL;
    bool remote = !(reason & HIVE__LINK_LOCAL);
    reason &= ~HIVE__LINK_LOCAL;
    if (c->state != HIVE__C_CLOSING) hive__ep_close(ep, c, reason, message, remote, HIVE__CLOSE_SILENT, false);
    if (c->state == HIVE__C_SUSPENDED) return;   /* kept for a resume */
    hive__ep_conn_free(ep, c);
}

void hive__ep_transport_cb(hive__ep *ep, hive__transport_cb *cb)
{
    memset(cb, 0, sizeof *cb);
    cb->core = ep;
    cb->accepted = ep_accepted;
    cb->connected = ep_connected;
    cb->data = ep_data;
    cb->disconnected = ep_disconnected;
}

void hive__ep_refresh_wants(hive__ep *ep)
{
    /* Whether any per-packet recv event has a listener decides whether
     * user bodies get decoded. Subscriptions can change at any time, so
     * this runs every service call (a few loads per packet type). */
    bool any = false;
    if (ep->any_pe_ids && ep->pt)
        for (size_t i = 0; i < ep->pt->n && !any; i++)
            any = ep->pt->e[i].ev > 0 && hive_bus_wants(ep->bus, ep->pt->e[i].ev);
    ep->any_pe_wanted = any;
}

/* ------------------------------------------------------------------ */
/* Sending (I/O thread side)                                            */
/* ------------------------------------------------------------------ */

/* c's send queue is full or stuck (hive/net.h SEND QUEUES): end c alone.
 * The close frame goes only if it fits under the bound; the transport's
 * graceful close then gives what is queued its bounded linger. c stays
 * allocated (no abort), so callers iterating connections may go on. */
static void slow_consumer(hive__ep *ep, hive__conn *c, const char *why)
{
    char msg[96];
    snprintf(msg, sizeof msg, "%s (%zu bytes queued, send_queue_bytes %zu)", why, hive__ep_sendq(ep, c),
             ep->sendq_max);
    HIVE__STAT_ADD(ep, slow_consumers, 1);
    hive__ep_close(ep, c, HIVE_CLOSE_SLOW_CONSUMER, msg, false, HIVE__CLOSE_FRAME, false);
}

/* The timer side of c's send queue: re-arm backpressure once it drained
 * under the low mark; close c when its queue stayed over the high-water
 * mark for heartbeat_timeout_ms, as a peer silent that long is closed
 * with "timeout". True when c was closed. */
static bool sendq_tick(hive__ep *ep, hive__conn *c, uint64_t now)
{
    if (!ep->tr->vt->queued || !c->link || c->state == HIVE__C_CLOSING) return false;
    size_t q = hive__ep_sendq(ep, c);
    if (q < ep->sendq_high) {
        c->sendq_high_since = 0;
        if (q < ep->sendq_low) c->sendq_warned = false;
        return false;
    }
    if (!c->sendq_warned) {
        hive__ep_sendq_crossed(ep, c, q);
        return false;
    }
    if (!c->sendq_high_since) c->sendq_high_since = now;
    if (now - c->sendq_high_since < ep->tm.heartbeat_timeout_ms) return false;
    slow_consumer(ep, c, "the send queue stayed over its high-water mark");
    return true;
}

static void emit_send(hive__ep *ep, hive__conn *c, const hive__pentry *pe, size_t len)
{
    hive_field f[] = {
        HIVE_PTR(ep->self_key, ep->self),
        HIVE_INT("cid", c->cid),
        HIVE_INT("pid", pe->pid),
        HIVE_STR("name", pe->name),
        HIVE_INT("size", len),
    };
    hive__ep_emit(ep, ep->ev[HIVE__EV_SEND], f, 5);
}

/* Does a user body of len bytes of type pe go compressed (when the peer
 * agreed)? COMPRESSION in hive/net.h. */
static bool zip_wanted(const hive__ep *ep, const hive__pentry *pe, size_t len)
{
    return ep->zmin && len >= ep->zmin && !pe->no_zip;
}

/* One user message to c: compressed when that was agreed and pays, and
 * as a transfer when it is reliable, larger than a piece and the peer
 * agreed to pieces (LARGE MESSAGES); *xfer says which went. The peer's
 * max_frame bounds the message (before compression) either way. */
static int send_user_frame(hive__ep *ep, hive__conn *c, const hive__pentry *pe, const void *body, size_t len,
                           int dlv, bool *xfer)
{
    *xfer = false;
    if (!hive__frame_fits(pe->pid, len, c->peer_max_frame)) return HIVE_ETOOBIG;
    const uint8_t *z = NULL;
    size_t zn = 0;
    bool zipped = c->zstd && zip_wanted(ep, pe, len) && hive__zstd_pack(&ep->z, body, len, &z, &zn) == HIVE_OK;
    const void *b = zipped ? (const void *)z : body;
    size_t bl = zipped ? zn : len;
    int rc;
    if (HIVE__KIND(dlv) == HIVE__DLV_RELIABLE && hive__ep_xfer_wanted(c, bl)) {
        *xfer = true;
        rc = hive__ep_xfer_send(ep, c, pe->pid, b, bl, len, zipped ? HIVE__PIECE_FLAG_COMPRESSED : 0);
        if (rc == HIVE_OK) HIVE__STAT_ADD(ep, transfers_out, 1);
    } else {
        rc = hive__ep_send_frame_f(ep, c, pe->pid, b, bl, dlv, zipped ? HIVE__FLAG_COMPRESSED : 0);
    }
    if (zipped && rc == HIVE_OK) {
        HIVE__STAT_ADD(ep, compressed_out, 1);
        HIVE__STAT_ADD(ep, compress_saved, len - zn);
    }
    return rc;
}

int hive__ep_send_user(hive__ep *ep, hive__conn *c, const hive__pentry *pe, const void *body,
                       size_t len, int dlv)
{
    if (c->state == HIVE__C_SUSPENDED && !c->opened) return HIVE_ESTATE;   /* never open yet (conn.h) */
    if (c->state == HIVE__C_SUSPENDED && HIVE__KIND(dlv) != HIVE__DLV_RELIABLE) return HIVE_OK;   /* lost, as unreliable may be */
    if ((c->state != HIVE__C_OPEN && c->state != HIVE__C_SUSPENDED) || hive__ep_draining(c)) return HIVE_ESTATE;
    bool xfer;
    int rc = send_user_frame(ep, c, pe, body, len, dlv, &xfer);
    if (c->state == HIVE__C_SUSPENDED) {
        /* Kept for the replay; if the buffer had to drop one, the session
         * can no longer be resumed: it ends now, and says why. */
        if (!hive__replay_whole(&c->rp))
            hive__ep_close(ep, c, HIVE_CLOSE_SESSION_INVALID, "the replay buffer overflowed while suspended", false,
                           HIVE__CLOSE_SILENT, true);
        return rc;
    }
    if (rc == HIVE_OK && hive_bus_wants(ep->bus, ep->ev[HIVE__EV_SEND])) emit_send(ep, c, pe, len);
    /* (A full transfer queue only refuses: nothing was lost, the peer
     * is not behind on anything but what is queued.) */
    if (rc == HIVE_EFULL && !xfer) slow_consumer(ep, c, "a frame did not fit in the send queue");
    return rc;
}

int hive__ep_bcast_user(hive__ep *ep, const hive__pentry *pe, const void *body, size_t len,
                        hive_cid except, int dlv)
{
    hive__bcast b, bz;
    if (hive__ep_bcast_init(&b, pe->pid, body, len, dlv) != HIVE_OK) return 0;
    if (ep->no_seq && b.counted) {   /* the measurement knob (ep.h) */
        b.counted = false;
        b.hn = hive__frame_header(b.hdr, pe->pid, 0, len);
    }
    /* The compressed body, made once for every peer that agreed, in a
     * copy of its own: a send handler may compress something else. */
    uint8_t *zbody = NULL;
    bool zip = zip_wanted(ep, pe, len) && !ep->no_seq, zip_tried = false;
    int n = 0;
    bool want = hive_bus_wants(ep->bus, ep->ev[HIVE__EV_SEND]);
    hive__conn *next;
    for (hive__conn *c = ep->conns; c; c = next) {
        next = c->next;
        if (c->cid == except) continue;
        if (c->state != HIVE__C_OPEN && !(HIVE__KIND(dlv) == HIVE__DLV_RELIABLE && c->state == HIVE__C_SUSPENDED && c->opened)) continue;
        if (__atomic_load_n(&c->no_bcast, __ATOMIC_RELAXED)) continue;   /* hive_server_set_broadcast */
        if (hive__ep_draining(c)) continue;
        if (HIVE__KIND(dlv) == HIVE__DLV_RELIABLE && hive__ep_xfer_wanted(c, len)) {
            /* A large message to a peer that takes pieces: a transfer of
             * its own (each connection's queue holds its copy). */
            if (hive__ep_send_user(ep, c, pe, body, len, dlv) == HIVE_OK) n++;
            continue;
        }
        if (zip && c->zstd && !zip_tried) {
            zip_tried = true;
            const uint8_t *z;
            size_t zn;
            if (hive__zstd_pack(&ep->z, body, len, &z, &zn) == HIVE_OK && (zbody = hive__malloc(zn ? zn : 1))) {
                memcpy(zbody, z, zn);
                if (hive__ep_bcast_init_z(&bz, pe->pid, zbody, zn, len, dlv) != HIVE_OK) {
                    hive__free(zbody);
                    zbody = NULL;
                }
            }
        }
        bool zc = zbody && c->zstd;
        int rc = hive__ep_bcast_send(ep, c, zc ? &bz : &b);
        if (zc && rc == HIVE_OK) {
            HIVE__STAT_ADD(ep, compressed_out, 1);
            HIVE__STAT_ADD(ep, compress_saved, len - bz.len);
        }
        if (c->state == HIVE__C_SUSPENDED) {
            if (!hive__replay_whole(&c->rp))   /* as in hive__ep_send_user */
                hive__ep_close(ep, c, HIVE_CLOSE_SESSION_INVALID, "the replay buffer overflowed while suspended",
                               false, HIVE__CLOSE_SILENT, true);
            continue;
        }
        if (rc == HIVE_EFULL) slow_consumer(ep, c, "a frame did not fit in the send queue");
        if (rc != HIVE_OK) continue;
        n++;
        if (want) emit_send(ep, c, pe, len);
    }
    hive__ep_bcast_fini(ep, &b);
    if (zbody) {
        hive__ep_bcast_fini(ep, &bz);
        hive__free(zbody);
    }
    return n;
}

/* Carries out what other threads asked for. Returns how many. */
static int run_requests(hive__ep *ep)
{
    hive__qitem *q = hive__ep_take_requests(ep);
    int n = 0;
    while (q) {
        hive__qitem *next = q->next;
        bool own = q->kind == HIVE__Q_HIVE || q->kind == HIVE__Q_REMOTE;
        hive__conn *c = q->kind == HIVE__Q_BCAST || q->kind == HIVE__Q_REMOTE ? NULL : ep->face->find(ep, q->cid);
        const hive__pentry *pe = q->kind == HIVE__Q_CLOSE || own ? NULL : hive__ptable_find(ep->pt, q->pid);
        switch (q->kind) {
        case HIVE__Q_SEND:
            if (!pe) break;
            /* (A client's link closing under a kept session, one the server
             * redirected, keeps the send for the session too: HANDOFF.) */
            if (c && c->state != HIVE__C_DIALING && c->state != HIVE__C_AWAIT_WELCOME &&
                !(c->state == HIVE__C_CLOSING && !c->server_side && ep->face->keep))
                hive__ep_send_user(ep, c, pe, q->data, q->len, q->dlv);
            else if (ep->face->keep)
                ep->face->keep(ep, pe, q->data, q->len, q->dlv);
            break;
        case HIVE__Q_BCAST:
            if (pe) hive__ep_bcast_user(ep, pe, q->data, q->len, q->cid, q->dlv);
            break;
        case HIVE__Q_CLOSE:
            if (c) hive__ep_close_gently(ep, c, q->reason, q->len ? (const char *)q->data : NULL);
            break;
        case HIVE__Q_HIVE:
            if (c && (c->state == HIVE__C_OPEN || c->state == HIVE__C_SUSPENDED)) {
                const void *parts[1] = { q->data };
                hive__ep_send_frame_v(ep, c, q->pid, parts, &q->len, q->len ? 1 : 0, q->dlv, 0);
            }
            break;
        case HIVE__Q_REMOTE:
            if (ep->face->remote_send) ep->face->remote_send(ep, q->data, q->len, (uint32_t)q->cid, q->dlv != 0);
            break;
        }
        hive__free(q);
        q = next;
        n++;
    }
    return n;
}

int hive__ep_request_close(hive__ep *ep, hive_cid cid, int reason, const char *message)
{
    size_t n = message ? strlen(message) : 0;
    if (n > HIVE__CLOSE_MSG_MAX) n = HIVE__CLOSE_MSG_MAX;
    char buf[HIVE__CLOSE_MSG_MAX + 1];
    if (n) memcpy(buf, message, n);
    buf[n] = 0;
    return hive__ep_request(ep, HIVE__Q_CLOSE, cid, 0, true, reason, buf, n ? n + 1 : 0);
}

void hive__ep_flush(hive__ep *ep)
{
    if (hive__ep_on_io_thread(ep)) {
        if (ep->tr) ep->tr->vt->flush(ep->tr);
        return;
    }
    pthread_mutex_lock(&ep->lock);
    if (ep->tr) ep->tr->vt->wake(ep->tr);
    pthread_mutex_unlock(&ep->lock);
}

/* ------------------------------------------------------------------ */
/* Timers, the round, closing everything                                */
/* ------------------------------------------------------------------ */

/* The stats event of one open connection (voidable: the caller checked
 * that someone listens). */
static void emit_stats(hive__ep *ep, hive__conn *c)
{
    hive_conn_stats st;
    hive__ep_conn_stats(ep, c, &st);
    hive_field f[] = {
        HIVE_PTR(ep->self_key, ep->self),
        HIVE_INT("cid", c->cid),
        HIVE_DOUBLE("rtt_ms", st.rtt_ms),
        HIVE_DOUBLE("rtt_var_ms", st.rtt_var_ms),
        HIVE_INT("rtt_samples", st.rtt_samples),
        HIVE_DOUBLE("loss", st.loss),
        HIVE_INT("frames_in", (int64_t)st.frames_in),
        HIVE_INT("frames_out", (int64_t)st.frames_out),
        HIVE_INT("bytes_in", (int64_t)st.bytes_in),
        HIVE_INT("bytes_out", (int64_t)st.bytes_out),
        HIVE_INT("send_queue_bytes", (int64_t)st.send_queue_bytes),
        HIVE_INT("connected_ms", (int64_t)st.connected_ms),
        HIVE_INT("resumes", st.resumes),
    };
    hive__ep_emit(ep, ep->ev[HIVE__EV_STATS], f, sizeof f / sizeof f[0]);
}

/* Per connection: the send queue for other threads, and the stats event
 * every stats_interval_ms while OPEN. */
static void stats_tick(hive__ep *ep, hive__conn *c, uint64_t now)
{
    if (ep->tr->vt->queued) __atomic_store_n(&c->st_sendq, (uint64_t)hive__ep_sendq(ep, c), __ATOMIC_RELAXED);
    if (ep->stats_interval_ms <= 0 || c->state != HIVE__C_OPEN) return;
    if (now - c->last_stats < (uint64_t)ep->stats_interval_ms) return;
    c->last_stats = now;
    if (hive_bus_wants(ep->bus, ep->ev[HIVE__EV_STATS])) emit_stats(ep, c);
}

static void tick(hive__ep *ep)
{
    uint64_t now = ep->now;
    if (now - ep->last_tick < HIVE__TICK_MS) return;
    ep->last_tick = now;
    hive__ep_check_names(ep);   /* subscriptions made since: typos (UNKNOWN PACKET NAMES) */
    hive__conn *next;
    for (hive__conn *c = ep->conns; c; c = next) {
        next = c->next;
        if (drain_check(ep, c, false)) continue;
        if (c->link && sendq_tick(ep, c, now)) continue;
        if (c->link) stats_tick(ep, c, now);
        if (c->state == HIVE__C_OPEN && hive__replay_ack_owed(&c->rp) && now - c->rp.ack_at >= HIVE__ACK_DELAY_MS)
            hive__ep_send_ack(ep, c);
        int reason = 0;
        hive__tick_kind k = hive__conn_tick(c, now, &ep->tm, &reason);
        /* A connection that is never silent still gets an RTT sample per
         * stats interval: one small ping. */
        if (k == HIVE__TICK_NONE && c->state == HIVE__C_OPEN && ep->stats_interval_ms > 0 &&
            now - c->last_ping >= (uint64_t)ep->stats_interval_ms && !hive__ep_sendq_high(ep, c))
            k = HIVE__TICK_PING;
        switch (k) {
        case HIVE__TICK_PING: {
            c->last_ping = now;
            hive_msg m;
            hive_msg_init(&m);
            if (hive__ping_pack(&m, hive_now_ns() / 1000u, c->unrel_out) == 0) hive__ep_send_msg(ep, c, HIVE__PID_PING, &m);
            hive_msg_free(&m);
            break;
        }
        case HIVE__TICK_CLOSE:
            if (reason == HIVE_CLOSE_SLOW_SENDER) HIVE__STAT_ADD(ep, slow_senders, 1);
            /* A silent peer is presumed dead: nothing to wait for. A slow
             * handshake gets told why. */
            hive__ep_close(ep, c, reason, NULL, false, HIVE__CLOSE_FRAME, reason == HIVE_CLOSE_TIMEOUT);
            break;
        case HIVE__TICK_ABORT:
            conn_abort(ep, c);
            break;
        default:
            break;
        }
    }
}

int hive__ep_round(hive__ep *ep, int wait_ms)
{
    ep->now = hive__now_ms();
    run_requests(ep);
    int n = ep->tr->vt->service(ep->tr, wait_ms);
    ep->now = hive__now_ms();
    int r = run_requests(ep);
    tick(ep);
    /* Large messages: each connection's next pieces, as its link has
     * room (net/core/transfer.h). */
    hive__conn *next;
    for (hive__conn *c = ep->conns; c; c = next) {
        next = c->next;
        if (c->xf.out && c->link && c->state == HIVE__C_OPEN) {
            hive__ep_xfer_feed(ep, c);
            r = 1;
        }
    }
    if (ep->redial_at && !ep->conns && ep->now >= ep->redial_at && ep->face->redial && !ep->stopping) {
        ep->face->redial(ep);
        r = 1;
    }
    if (r) ep->tr->vt->flush(ep->tr);
    return n;
}

void hive__ep_close_all(hive__ep *ep, int reason, const char *message)
{
    if (!ep->tr) return;
    ep->now = hive__now_ms();
    /* What other threads sent before the stop goes first (CLOSING in
     * hive/net.h); nothing sent from now on is taken. */
    run_requests(ep);
    ep->stopping = true;
    hive__conn *next;
    for (hive__conn *c = ep->conns; c; c = next) {
        next = c->next;
        hive__ep_close_gently(ep, c, reason, message);
    }
    ep->tr->vt->flush(ep->tr);
    /* The drains: the links keep working (acknowledgements come in,
     * received messages are still delivered) until every peer has
     * confirmed what it was sent, or drain_ms is over. */
    bool draining = true;
    while (draining) {
        ep->now = hive__now_ms();
        draining = false;
        for (hive__conn *c = ep->conns; c; c = next) {
            next = c->next;
            drain_check(ep, c, false);
            if (hive__ep_draining(c)) draining = true;
        }
        ep->tr->vt->flush(ep->tr);
        if (draining) ep->tr->vt->service(ep->tr, 5);
    }
    uint64_t end = hive__now_ms() + ep->tm.linger_ms;
    while (ep->conns && hive__now_ms() < end) {
        ep->now = hive__now_ms();
        ep->tr->vt->service(ep->tr, 5);
    }
    while (ep->conns) conn_abort(ep, ep->conns);
    ep->stopping = false;
}

/* ------------------------------------------------------------------ */
/* Service loop, interrupts, Hive's own I/O thread                      */
/* ------------------------------------------------------------------ */

static void take_interrupt(hive__ep *ep)
{
    hive__ep_emit_self(ep, HIVE__EV_INTERRUPT);
    hive__ep_wake_all(ep, false);
}

int hive__ep_service(hive__ep *ep, int timeout_ms)
{
    ep->in_service++;
    hive__ep_refresh_wants(ep);
    uint64_t end = hive__now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    int total = 0, rc = 0;
    for (;;) {
        if (__atomic_exchange_n(&ep->interrupt, 0, __ATOMIC_ACQ_REL)) {
            take_interrupt(ep);
            rc = HIVE_ECLOSED;
            break;
        }
        uint64_t now = hive__now_ms();
        int slice = now >= end ? 0 : (int)(end - now);
        if (slice > HIVE__SLICE_MS) slice = HIVE__SLICE_MS;
        int n = hive__ep_round(ep, slice);
        if (n < 0) { rc = n; break; }
        total += n;
        if (total > 0 || ep->stop_pending || (ep->face->one_conn && !ep->conns && !ep->redial_at) ||
            hive__now_ms() >= end)
            break;
    }
    ep->in_service--;
    /* Waits on the bus end on time in a loop that only services
     * (hive_bus_expect): the servicing thread owns the bus here. */
    if (!ep->in_service) hive_bus_expire(ep->bus);
    if (ep->stop_pending && !ep->in_service) ep->face->do_stop(ep);
    return rc < 0 ? rc : total;
}

void hive__ep_interrupt(hive__ep *ep)
{
    __atomic_store_n(&ep->interrupt, 1, __ATOMIC_RELEASE);
    /* No lock here: this must stay async-signal-safe. The transport lives
     * from bind/connect to shutdown/stop; interrupting outside is moot. */
    hive__transport *tr = __atomic_load_n(&ep->tr, __ATOMIC_ACQUIRE);
    if (tr) tr->vt->wake(tr);
}

static void *io_main(void *arg)
{
    hive__ep *ep = arg;
    /* Pairs with the starter's unlock after pthread_create: everything it
     * wrote before is visible here. */
    pthread_mutex_lock(&ep->lock);
    pthread_mutex_unlock(&ep->lock);
    while (!__atomic_load_n(&ep->thread_quit, __ATOMIC_ACQUIRE) &&
           (!ep->face->one_conn || ep->conns || ep->redial_at)) {
        if (__atomic_exchange_n(&ep->interrupt, 0, __ATOMIC_ACQ_REL)) take_interrupt(ep);
        /* (No refresh_wants: posted events carry bytes, nothing decodes.) */
        if (hive__ep_round(ep, HIVE__THREAD_WAIT_MS) < 0) break;
    }
    int reason = ep->face->final_reason;
    hive__ep_close_all(ep, reason, ep->face->one_conn ? NULL : hive_close_reason_text(reason));
    return NULL;
}

int hive__ep_thread_start(hive__ep *ep)
{
    __atomic_store_n(&ep->thread_quit, 0, __ATOMIC_RELEASE);
    pthread_mutex_lock(&ep->lock);
    int rc = pthread_create(&ep->thread, NULL, io_main, ep);
    if (rc == 0) hive__ep_set_io_thread(ep, ep->thread);
    pthread_mutex_unlock(&ep->lock);
    if (rc != 0) return HIVE_ENOMEM;
    ep->thread_on = true;
    return HIVE_OK;
}

void hive__ep_thread_join(hive__ep *ep)
{
    if (!ep->thread_on) return;
    __atomic_store_n(&ep->thread_quit, 1, __ATOMIC_RELEASE);
    if (ep->tr) ep->tr->vt->wake(ep->tr);
    pthread_join(ep->thread, NULL);
    ep->thread_on = false;
}

void hive__ep_enter(hive__ep *ep)
{
    if (!ep->threaded) ep->in_service++;
}

int hive__ep_leave(hive__ep *ep, int rc)
{
    if (!ep->threaded && --ep->in_service == 0 && ep->stop_pending) ep->face->do_stop(ep);
    return rc;
}

int hive__ep_wait_packet(hive__ep *ep, int timeout_ms)
{
    if (!ep->pull) return HIVE_ESTATE;
    if (ep->threaded) return hive__ep_pull_wait(ep, timeout_ms);
    /* Caller-thread mode: the waiting is servicing. */
    uint64_t end = hive__now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        pthread_mutex_lock(&ep->lock);
        size_t n = ep->p_count;
        pthread_mutex_unlock(&ep->lock);
        if (n) return 1;
        if (ep->face->ended(ep)) return HIVE_ECLOSED;
        uint64_t now = hive__now_ms();
        if (timeout_ms >= 0 && now >= end) return 0;
        int slice = timeout_ms < 0 ? 100 : (int)(end - now);
        int rc = ep->face->service(ep, slice);
        if (rc == HIVE_ECLOSED) return rc;
        if (rc < 0 && rc != HIVE_ESTATE) return rc;
    }
}
