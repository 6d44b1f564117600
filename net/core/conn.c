/* conn.c - the connection state machine (see conn.h). Everything here is
 * a pure function of (state, input): the I/O lives in server.c/client.c. */
#include "net/core/conn.h"
#include "net/wire/remote.h"
#include "net/core/shape.h"
#include "net/wire/mpdecode.h"

#include <string.h>

int hive__decode(hive__decoder *d, const uint8_t *body, size_t len, const msgpack_object **out)
{
    if (hive__msgpack_scan(body, len) != 0) return HIVE_EMSGPACK;
    if (!d->zone) {
        d->zone = msgpack_zone_new(MSGPACK_ZONE_CHUNK_SIZE);
        if (!d->zone) return HIVE_ENOMEM;
    } else {
        msgpack_zone_clear(d->zone);
    }
    int rc = hive__mp_decode_scanned(body, len, d->zone, &d->obj);
    if (rc) return rc;
    *out = &d->obj;
    return 0;
}

void hive__decoder_free(hive__decoder *d)
{
    if (d->zone) msgpack_zone_free(d->zone);
    d->zone = NULL;
}

static int frame_error_reason(int rc)
{
    return rc == HIVE_ETOOBIG ? HIVE_CLOSE_FRAME_TOO_LARGE : HIVE_CLOSE_BAD_FRAME;
}

int hive__conn_next_frame(hive__conn *c, bool stream, const uint8_t **p, size_t *n,
                          uint32_t max_frame, hive__frame *f, int *reason)
{
    if (!stream) {
        if (*n == 0) return 0;
        int rc = hive__frame_decode(*p, *n, max_frame, f);
        if (rc == 1) {
            *p += f->size;
            *n -= f->size;
            return 1;
        }
        /* A datagram holds whole frames: a cut one is malformed. */
        *reason = rc == 0 ? HIVE_CLOSE_BAD_FRAME : frame_error_reason(rc);
        return -1;
    }
    if (*n) {
        if (hive__rxbuf_append(&c->rx, *p, *n) < 0) {
            *reason = HIVE_CLOSE_NO_MEMORY;
            return -1;
        }
        *p += *n;
        *n = 0;
    }
    int rc = hive__rxbuf_next(&c->rx, max_frame, f);
    if (rc >= 0) return rc;
    *reason = frame_error_reason(rc);
    return -1;
}

static void act_close(hive__act *act, int reason)
{
    act->kind = HIVE__ACT_CLOSE;
    act->reason = reason;
}

/* Hive's own packets (ids < 64). */
static void on_own(const hive__conn *c, const hive__frame *f, hive__decoder *dec, hive__act *act)
{
    if (f->pid == HIVE__PID_PIECE) {
        /* Read by its own strict decoder (net/wire/piece.c), which also
         * makes sure the body is one msgpack object; the endpoint judges
         * the fields against its transfers. */
        if (c->state != HIVE__C_OPEN || !c->pieces) { act_close(act, HIVE_CLOSE_UNEXPECTED_PACKET); return; }
        if (hive__piece_parse(f->body, f->body_len, &act->u.piece)) {
            act_close(act, HIVE_CLOSE_BAD_TRANSFER);
            return;
        }
        act->kind = HIVE__ACT_PIECE;
        return;
    }
    const msgpack_object *o;
    int rc = hive__decode(dec, f->body, f->body_len, &o);
    if (rc == HIVE_ENOMEM) { act_close(act, HIVE_CLOSE_NO_MEMORY); return; }
    if (rc) { act_close(act, HIVE_CLOSE_BAD_MSGPACK); return; }
    act->obj = o;
    uint8_t st = c->state;
    switch (f->pid) {
    case HIVE__PID_CLOSE:
        rc = hive__close_parse(o, &act->u.close);
        if (rc) { act_close(act, rc); return; }
        act->kind = HIVE__ACT_PEER_CLOSE;
        act->reason = act->u.close.reason;
        return;
    case HIVE__PID_HELLO:
        if (!c->server_side || st != HIVE__C_AWAIT_HELLO) break;
        act->kind = HIVE__ACT_HELLO;
        act->reason = hive__hello_parse(o, &act->u.hello);   /* 0 or why to reject */
        return;
    case HIVE__PID_READY:
        if (c->server_side && st == HIVE__C_OPEN && c->ready_implied) return;   /* a frame stood in for it */
        if (!c->server_side || st != HIVE__C_AWAIT_READY) break;
        act->kind = HIVE__ACT_READY;
        return;
    case HIVE__PID_WELCOME:
        if (c->server_side || st != HIVE__C_AWAIT_WELCOME) break;
        rc = hive__welcome_parse(o, &act->u.welcome);
        if (rc) { act_close(act, rc); return; }
        act->kind = HIVE__ACT_WELCOME;
        return;
    case HIVE__PID_REJECT:
        if (c->server_side || st != HIVE__C_AWAIT_WELCOME) break;
        rc = hive__close_parse(o, &act->u.close);
        if (rc) { act_close(act, rc); return; }
        act->kind = HIVE__ACT_REJECTED;
        act->reason = act->u.close.reason;
        return;
    case HIVE__PID_PING:
        if (st != HIVE__C_OPEN) break;
        act->kind = HIVE__ACT_PING;
        return;
    case HIVE__PID_SUBSCRIBE:
    case HIVE__PID_UNSUBSCRIBE:
        if (!c->server_side || st != HIVE__C_OPEN) break;
        act->kind = HIVE__ACT_REMOTE;
        return;
    case HIVE__PID_SUBANSWER:
    case HIVE__PID_REVENT:
        if (c->server_side || st != HIVE__C_OPEN) break;
        act->kind = HIVE__ACT_REMOTE;
        return;
    case HIVE__PID_PONG:
        if (st != HIVE__C_OPEN) break;
        act->kind = HIVE__ACT_NONE;
        return;
    case HIVE__PID_ACK:
        if (st != HIVE__C_OPEN) break;
        /* A count (lane 0), or every lane's (docs/PROTOCOL.md "Channels"). */
        act->lanes.n = 0;
        if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) act->n = o->via.u64;
        else if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != (uint32_t)hive__replay_nlanes(&c->rp) ||
                 hive__lanecounts_obj(o, &act->n, &act->lanes)) {
            act_close(act, HIVE_CLOSE_BAD_FRAME);
            return;
        }
        act->kind = HIVE__ACT_ACK;
        return;
    case HIVE__PID_RESUME:
        if (!c->server_side || st != HIVE__C_AWAIT_HELLO) break;
        act->kind = HIVE__ACT_RESUME;
        act->reason = hive__resume_parse(o, &act->u.resume);   /* 0 or why to reject */
        return;
    case HIVE__PID_RESUMED:
        if (c->server_side || st != HIVE__C_AWAIT_WELCOME) break;
        rc = hive__resumed_parse(o, &act->u.resumed);
        if (rc) { act_close(act, rc); return; }
        act->kind = HIVE__ACT_RESUMED;
        return;
    default:
        act_close(act, HIVE_CLOSE_UNKNOWN_PACKET);
        return;
    }
    act_close(act, HIVE_CLOSE_UNEXPECTED_PACKET);
}

void hive__conn_on_frame(const hive__conn *c, const hive__frame *f, int channel,
                         const hive__ptable *pt, hive__decoder *dec, bool decode_user,
                         hive__act *act)
{
    act->kind = HIVE__ACT_NONE;
    act->reason = 0;
    act->pe = NULL;
    act->obj = NULL;
    if (f->flags & ~HIVE__FLAGS_KNOWN) { act_close(act, HIVE_CLOSE_BAD_FRAME); return; }
    /* Hive's own frames and pieces travel on lane 0 only; a counted frame
     * on a lane the session does not count is broken too. */
    int lane = HIVE__LANE(channel);
    if (lane && (f->pid < HIVE_PID_USER_MIN || ((f->flags & HIVE__FLAG_SEQ) && lane >= hive__replay_nlanes(&c->rp)))) {
        act_close(act, HIVE_CLOSE_BAD_FRAME);
        return;
    }
    channel = HIVE__KIND(channel);
    if (f->pid < HIVE_PID_USER_MIN) {
        /* Only user frames and pieces are counted (docs/PROTOCOL.md,
         * "Resume"), and a piece only on the reliable channel. */
        uint8_t ok = hive__pid_counted(f->pid) && channel == HIVE__CHANNEL_RELIABLE ? HIVE__FLAG_SEQ : 0;
        if (f->flags & (uint8_t)~ok) { act_close(act, HIVE_CLOSE_BAD_FRAME); return; }
        /* Remote subscription packets: requests and answers reliable
         * only, a remote event either way. */
        if (f->pid >= HIVE__PID_SUBSCRIBE && f->pid <= HIVE__PID_SUBANSWER && channel != HIVE__CHANNEL_RELIABLE) {
            act_close(act, HIVE_CLOSE_BAD_FRAME);
            return;
        }
        if (f->pid == HIVE__PID_PIECE && channel != HIVE__CHANNEL_RELIABLE) { act_close(act, HIVE_CLOSE_BAD_FRAME); return; }
        on_own(c, f, dec, act);
        return;
    }
    /* The endpoint decompresses agreed frames before this point
     * (endpoint.c); one still compressed was never agreed. */
    if (f->flags & HIVE__FLAG_COMPRESSED) { act_close(act, HIVE_CLOSE_BAD_FRAME); return; }
    /* A counted frame on the unreliable channel: no such thing. */
    if ((f->flags & HIVE__FLAG_SEQ) && channel != HIVE__CHANNEL_RELIABLE) {
        act_close(act, HIVE_CLOSE_BAD_FRAME);
        return;
    }

    if (c->state != HIVE__C_OPEN) {
        /* An unreliable packet may overtake the reliable `ready` (ENet
         * channels are independent); losing it is within its contract. */
        if (channel != HIVE__CHANNEL_RELIABLE &&
            (c->state == HIVE__C_AWAIT_READY || (!c->server_side && c->state == HIVE__C_AWAIT_WELCOME))) return;
        act_close(act, HIVE_CLOSE_UNEXPECTED_PACKET);
        return;
    }
    const hive__pentry *pe = hive__ptable_find(pt, f->pid);
    if (!pe) { act_close(act, HIVE_CLOSE_UNKNOWN_PACKET); return; }
    int rc;
    /* A declared shape needs the tree, listener or not (hive/net.h
     * DECLARED SHAPES). */
    if (decode_user || pe->shape) rc = hive__decode(dec, f->body, f->body_len, &act->obj);
    else rc = hive__msgpack_scan(f->body, f->body_len) ? HIVE_EMSGPACK : 0;
    if (rc == HIVE_ENOMEM) { act_close(act, HIVE_CLOSE_NO_MEMORY); return; }
    if (rc) { act_close(act, HIVE_CLOSE_BAD_MSGPACK); return; }
    act->pe = pe;
    if (pe->shape && hive__shape_check(pe->shape, act->obj, act->u.close.message, sizeof act->u.close.message)) {
        act->kind = HIVE__ACT_MISSHAPEN;
        act->reason = pe->shape->policy == HIVE_SHAPE_CLOSE ? HIVE_CLOSE_BAD_SHAPE : 0;
        return;
    }
    act->kind = HIVE__ACT_DELIVER;
}

hive__tick_kind hive__conn_tick(const hive__conn *c, uint64_t now, const hive__timing *t, int *reason)
{
    /* A frame begun and not finished in time: a slowloris (hive/net.h SLOW
     * SENDERS). Before the state's own limits, which a trickle keeps fresh. */
    if (c->partial_since && c->state != HIVE__C_CLOSING && c->state != HIVE__C_DIALING &&
        c->state != HIVE__C_SUSPENDED &&
        now - c->partial_since >= t->frame_ms) {
        *reason = HIVE_CLOSE_SLOW_SENDER;
        return HIVE__TICK_CLOSE;
    }
    switch (c->state) {
    case HIVE__C_DIALING:
        if (now - c->t_state >= t->connect_ms) { *reason = HIVE_CLOSE_CONNECT_FAILED; return HIVE__TICK_CLOSE; }
        return HIVE__TICK_NONE;
    case HIVE__C_AWAIT_HELLO:
    case HIVE__C_AWAIT_READY:
    case HIVE__C_AWAIT_WELCOME:
        if (now - c->t_state >= t->handshake_ms) { *reason = HIVE_CLOSE_HANDSHAKE_TIMEOUT; return HIVE__TICK_CLOSE; }
        return HIVE__TICK_NONE;
    case HIVE__C_OPEN:
        if (now - c->last_rx >= t->heartbeat_timeout_ms) { *reason = HIVE_CLOSE_TIMEOUT; return HIVE__TICK_CLOSE; }
        if (now - c->last_tx >= t->heartbeat_ms) return HIVE__TICK_PING;
        return HIVE__TICK_NONE;
    case HIVE__C_CLOSING:
        if (now >= c->close_deadline) return HIVE__TICK_ABORT;
        return HIVE__TICK_NONE;
    case HIVE__C_SUSPENDED:
        if (now - c->t_state >= t->resume_ms) { *reason = HIVE_CLOSE_TIMEOUT; return HIVE__TICK_CLOSE; }
        return HIVE__TICK_NONE;
    default:
        return HIVE__TICK_NONE;
    }
}
