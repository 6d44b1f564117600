/*
 * client_conn.c - the client's face of the endpoint core: what only a
 * client does with its one connection. It says hello once the dialed
 * link is up, installs the registry the welcome brings (the new table
 * replaces the old one whole) and answers ready, and keeps the client's
 * public state (connecting, handshaking, open, closing, closed) in step.
 * Everything both sides do is in net/core/endpoint.c.
 */
#include "events/internal.h"
#include "net/client/client_internal.h"

#include <string.h>

static hive_client *cli(hive__ep *ep) { return (hive_client *)ep->self; }

static void cli_connected(hive__ep *ep, hive__conn *k)
{
    hive_client *c = cli(ep);
    hive_msg m;
    hive_msg_init(&m);
    /* A kept session asks to be resumed; otherwise a fresh hello. */
    bool resume = c->sess.valid;
    hive__lanecounts more;
    hive__replay_recv_lanes(&c->sess.rp, &more);
    int rc = resume ? hive__resume_pack(&m, c->cfg.app, c->sess.cid, c->sess.token, c->sess.rp.recv, &more,
                                        c->cfg.max_frame)
                    : hive__hello_pack(&m, c->cfg.app, c->cfg.app_version, c->conntype, c->token,
                                       c->cfg.token_len, c->cfg.max_frame, c->cfg.reconnect_attempts > 0,
                                       ep->zmin != 0, !ep->no_pieces);
    hive__ep_conn_state(k, HIVE__C_AWAIT_WELCOME, ep->now);
    hive__cli_set_state(c, HIVE_CLIENT_HANDSHAKING);
    hive__ep_emit_self(ep, HIVE__EV_START);
    if (rc == 0) rc = hive__ep_send_msg(ep, k, resume ? HIVE__PID_RESUME : HIVE__PID_HELLO, &m);
    hive_msg_free(&m);
    if (rc != 0) hive__ep_close(ep, k, HIVE_CLOSE_NO_MEMORY, NULL, false, HIVE__CLOSE_SILENT, false);
}

/* The server gave the session back: its counts and unacknowledged frames
 * move onto this link, and what the server missed is sent again. */
static void on_resumed(hive_client *c, hive__conn *k, hive__act *act)
{
    hive__ep *ep = &c->ep;
    const hive__resumed_msg *r = &act->u.resumed;
    if (!c->sess.valid || r->cid != c->sess.cid || k->lanes < hive__replay_nlanes(&c->sess.rp) ||
        !hive__replay_covers_all(&c->sess.rp, r->recv, &r->recv_lanes)) {
        /* What the server lacks is no longer here: this session cannot go
         * on. The loss is said (session.invalidated), and a fresh
         * handshake follows (cli_closing). */
        hive__ep_close(ep, k, HIVE_CLOSE_SESSION_INVALID, "the messages the server missed are no longer kept", false,
                       HIVE__CLOSE_FRAME, false);
        return;
    }
    k->rp = c->sess.rp;
    memset(&c->sess.rp, 0, sizeof c->sess.rp);
    hive__replay_ack_all(&k->rp, r->recv, &r->recv_lanes);   /* covers_all checked it */
    k->cid = r->cid;
    k->has_token = true;
    memcpy(k->token, r->token, HIVE__RESUME_TOKEN);
    k->peer_max_frame = __atomic_load_n(&c->peer_max, __ATOMIC_ACQUIRE);
    k->zstd = c->zstd;   /* agreed at the session's welcome */
    k->pieces = c->pieces;
    /* The transfers go on: what the server missed of them is in the
     * replay, the rest in the queue, the reassembly as it was. */
    hive__xfer_free(&k->xf);
    k->xf = c->sess.xf;
    memset(&c->sess.xf, 0, sizeof c->sess.xf);
    uint32_t resumes = c->sess.resumes + 1;
    __atomic_store_n(&k->resumes, resumes, __ATOMIC_RELAXED);
    hive__cli_sess_valid(c, false);
    k->last_rx = ep->now;
    hive__ep_conn_state(k, HIVE__C_OPEN, ep->now);
    c->attempt = c->last_delay = c->old_cid = 0;
    c->invalidated_sent = false;
    if (hive__ep_replay(ep, k, 0, HIVE__LANES_MAX) != HIVE_OK) {
        hive__ep_close(ep, k, HIVE_CLOSE_SLOW_CONSUMER, "the replay did not fit", false, HIVE__CLOSE_FRAME, false);
        return;
    }
    /* At once, with the replay: any frame on this link tells the server
     * that resumed (and the token in it) arrived, which retires the token
     * this resume showed (docs/PROTOCOL.md, "Resume"). */
    hive__ep_send_ack(ep, k);
    /* The server kept the subscriptions: only what changed meanwhile. A
     * session that moved to a new server subscribes there afresh. */
    hive__cli_remote_open(c, k, c->redirected);
    c->redirected = false;
    c->late_redirects = 0;
    __atomic_store_n(&c->cid, r->cid, __ATOMIC_RELEASE);
    hive__cli_set_state(c, HIVE_CLIENT_OPEN);
    HIVE__STAT_ADD(ep, resumes, 1);
    hive_field f[] = { HIVE_PTR("client", c), HIVE_INT("cid", r->cid), HIVE_INT("resumes", resumes),
                       HIVE_INT("replayed", (int64_t)hive__replay_unacked(&k->rp)) };
    hive__ep_emit(ep, ep->ev[HIVE__EV_RESUMED], f, 4);
}

static void on_welcome(hive_client *c, hive__conn *k, hive__act *act)
{
    hive__ep *ep = &c->ep;
    hive__welcome_msg *w = &act->u.welcome;
    hive__ptable *pt;
    if (hive__ptable_build(&pt, w->registry, true, ep->bus, HIVE_EV_CLIENT_RECV_PREFIX) < 0) {
        hive__ep_close(ep, k, HIVE_CLOSE_NO_MEMORY, NULL, false, HIVE__CLOSE_FRAME, false);
        return;
    }
    hive__ep_attach_shapes(ep, pt);
    /* The new table replaces the old one whole; other threads look names
     * up under the lock. */
    pthread_mutex_lock(&ep->lock);
    hive__ptable *old = ep->pt;
    ep->pt = pt;
    pthread_mutex_unlock(&ep->lock);
    hive__ptable_free(old);
    ep->any_pe_ids = true;
    hive__ep_refresh_wants(ep);
    /* A new registry: every subscription and shape is looked at again
     * (UNKNOWN PACKET NAMES). */
    ep->names_checked = 0;
    hive__ep_check_names(ep);
    hive__ep_check_shapes(ep);

    k->cid = w->cid;
    k->peer_max_frame = w->max_frame;
    k->zstd = w->zstd && ep->zmin;
    c->zstd = k->zstd;
    if (w->pieces && ep->no_pieces) {
        hive__ep_close(ep, k, HIVE_CLOSE_BAD_HANDSHAKE, "the welcome agreed to pieces the hello never offered", false,
                       HIVE__CLOSE_FRAME, false);
        return;
    }
    k->pieces = w->pieces;
    c->pieces = k->pieces;
    k->has_token = w->has_token;
    if (w->has_token) {
        memcpy(k->token, w->token, HIVE__RESUME_TOKEN);
        k->rp.max = c->cfg.resume_buffer_bytes;
    }
    /* Each lane the link has is counted for the session (replay.h LANES). */
    if (hive__replay_lanes(&k->rp, k->lanes) < 0) {
        hive__ep_close(ep, k, HIVE_CLOSE_NO_MEMORY, NULL, false, HIVE__CLOSE_FRAME, false);
        return;
    }
    ep->tm.heartbeat_ms = w->heartbeat_ms;
    ep->tm.heartbeat_timeout_ms = w->heartbeat_timeout_ms;
    hive_msg m;
    hive_msg_init(&m);
    int rc = hive__ready_pack(&m);
    if (rc == 0) rc = hive__ep_send_msg(ep, k, HIVE__PID_READY, &m);
    hive_msg_free(&m);
    if (rc != 0) {
        hive__ep_close(ep, k, HIVE_CLOSE_NO_MEMORY, NULL, false, HIVE__CLOSE_FRAME, false);
        return;
    }
    k->last_rx = ep->now;
    hive__ep_conn_state(k, HIVE__C_OPEN, ep->now);
    __atomic_store_n(&c->cid, w->cid, __ATOMIC_RELEASE);
    __atomic_store_n(&c->peer_max, w->max_frame, __ATOMIC_RELEASE);
    hive__cli_set_state(c, HIVE_CLIENT_OPEN);
    if (c->attempt && !c->invalidated_sent) {
        /* A reconnect made it through as a new session (the server kept
         * none to resume): say so before the handshake. */
        hive_field iv[] = { HIVE_PTR("client", c), HIVE_INT("old_cid", c->old_cid), HIVE_INT("cid", w->cid),
                            HIVE_INT("reason", HIVE_CLOSE_SESSION_INVALID),
                            HIVE_STR("reason_name", hive_close_reason_name(HIVE_CLOSE_SESSION_INVALID)),
                            HIVE_STR("message", "the server began a new session"), HIVE_INT("undelivered", 0) };
        hive__ep_emit(ep, ep->ev[HIVE__EV_INVALIDATED], iv, 7);
    }
    c->attempt = c->last_delay = c->old_cid = 0;
    c->invalidated_sent = false;
    hive__cli_sess_drop(c);
    /* A new session: every remote subscription is asked for again. */
    hive__cli_remote_open(c, k, true);
    if (k->state != HIVE__C_OPEN) return;
    /* TLS transports: the verified server certificate's subject. */
    hive__transport *tr = ep->tr;
    const char *subject = k->link && tr->vt->peer_subject ? tr->vt->peer_subject(tr, k->link) : NULL;
    hive_field f[] = { HIVE_PTR("client", c), HIVE_INT("cid", w->cid),
                       HIVE_STR("peer_subject", subject ? subject : "") };
    hive__ep_emit(ep, ep->ev[HIVE__EV_HANDSHAKE], f, subject ? 3 : 2);
}

static void cli_handshake(hive__ep *ep, hive__conn *k, hive__act *act)
{
    if (act->kind == HIVE__ACT_WELCOME) on_welcome(cli(ep), k, act);
    else if (act->kind == HIVE__ACT_RESUMED) on_resumed(cli(ep), k, act);
    else   /* hello and ready never reach a client connection (conn.c) */
        hive__ep_close(ep, k, HIVE_CLOSE_UNEXPECTED_PACKET, NULL, false, HIVE__CLOSE_FRAME, false);
}

/* Reasons that mean the network, not a decision, ended a link. */
static bool lost(int reason, bool attempting)
{
    if (reason == HIVE_CLOSE_PEER_VANISHED || reason == HIVE_CLOSE_TIMEOUT) return true;
    /* during an attempt, failing to get through is the same loss */
    return attempting && (reason == HIVE_CLOSE_CONNECT_FAILED || reason == HIVE_CLOSE_HANDSHAKE_TIMEOUT);
}

static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Schedules the next attempt after a loss with `reason`. Returns false
 * when the attempts have run out (the session then ends). */
static bool schedule(hive_client *c, int reason)
{
    const hive_client_config *k = &c->cfg;
    if (k->reconnect_attempts != HIVE_RECONNECT_FOREVER && c->attempt >= k->reconnect_attempts) {
        c->attempt = c->last_delay = 0;
        return false;
    }
    c->attempt++;
    double step = c->attempt == 1 ? (double)k->reconnect_delay_ms : (double)c->last_delay * k->reconnect_factor;
    if (step > k->reconnect_max_delay_ms) step = k->reconnect_max_delay_ms;
    c->last_delay = (uint32_t)step;
    /* Equal jitter: uniformly in the upper half of the step. */
    uint32_t half = c->last_delay / 2;
    uint32_t delay = half + (uint32_t)(rnd(&c->rng) % (uint64_t)(c->last_delay - half + 1));
    if (!delay) delay = 1;
    c->ep.redial_at = hive__now_ms() + delay;   /* the clock now, not the round's start */
    hive__cli_set_state(c, HIVE_CLIENT_RECONNECTING);
    hive_field f[] = { HIVE_PTR("client", c), HIVE_INT("attempt", c->attempt), HIVE_INT("delay_ms", delay),
                       HIVE_INT("reason", reason), HIVE_STR("reason_name", hive_close_reason_name(reason)) };
    hive__ep_emit(&c->ep, c->ep.ev[HIVE__EV_RECONNECTING], f, 5);
    return true;
}

/* The session could not be resumed: say so once, forget it. */
static void invalidate(hive_client *c, const char *message)
{
    hive_field iv[] = { HIVE_PTR("client", c), HIVE_INT("old_cid", c->sess.valid ? c->sess.cid : c->old_cid),
                        HIVE_INT("cid", 0), HIVE_INT("reason", HIVE_CLOSE_SESSION_INVALID),
                        HIVE_STR("reason_name", hive_close_reason_name(HIVE_CLOSE_SESSION_INVALID)),
                        HIVE_STR("message", message),
                        HIVE_INT("undelivered", (int64_t)hive__replay_unacked(&c->sess.rp)) };
    hive__ep_emit(&c->ep, c->ep.ev[HIVE__EV_INVALIDATED], iv, 7);
    c->invalidated_sent = true;
    hive__cli_sess_drop(c);
}

/* Keep k's session in c for a resume as cid with token: its counts,
 * unconfirmed frames and transfers move off the closing link. */
static void keep_session(hive_client *c, hive__conn *k, uint32_t cid, const uint8_t *token)
{
    hive__cli_sess_drop(c);
    hive__cli_sess_valid(c, true);
    c->sess.cid = cid;
    memcpy(c->sess.token, token, HIVE__RESUME_TOKEN);
    c->sess.rp = k->rp;
    memset(&k->rp, 0, sizeof k->rp);
    c->sess.xf = k->xf;
    memset(&k->xf, 0, sizeof k->xf);
    c->sess.resumes = __atomic_load_n(&k->resumes, __ATOMIC_RELAXED);
}

/* Can the client follow k's redirect: an address that fits, and on the
 * client's own transport (a bare host:port is dialed on it)? */
static bool redirect_followable(const hive_client *c, const hive__conn *k)
{
    if (!k->redirect_to || strlen(k->redirect_to) >= sizeof c->addr) return false;
    hive__addr now, to;
    return hive__addr_parse(c->addr, HIVE_DEFAULT_PORT, &now) >= 0 &&
           hive__addr_parse(k->redirect_to, HIVE_DEFAULT_PORT, &to) >= 0 &&
           !(strstr(k->redirect_to, "://") && strcmp(to.scheme, now.scheme) != 0);
}

/* Dial where k's redirect says, with the kept session (c->sess, already
 * given the target's cid and token), and say so. */
static void redial_redirected(hive_client *c, const hive__conn *k, uint32_t from)
{
    hive__ep *ep = &c->ep;
    snprintf(c->addr, sizeof c->addr, "%s", k->redirect_to);
    c->redirected = true;
    /* an attempt under way: a failure to get there is a loss like any other */
    c->attempt = 1;
    c->last_delay = c->cfg.reconnect_delay_ms;
    ep->redial_at = hive__now_ms() + 1;
    hive__cli_set_state(c, HIVE_CLIENT_RECONNECTING);
    hive_field f[] = { HIVE_PTR("client", c), HIVE_STR("addr", c->addr), HIVE_INT("from_cid", from),
                       HIVE_INT("cid", c->sess.cid) };
    hive__ep_emit(ep, ep->ev[HIVE__EV_HANDOFF], f, 4);
}

/* The server moved the session (HANDOFF): keep it, go where the close
 * said, resume there. Returns false when it cannot be followed. */
static bool follow_redirect(hive_client *c, hive__conn *k)
{
    if (!k->has_token || !redirect_followable(c, k)) return false;
    uint32_t from = k->cid;
    c->old_cid = k->cid;
    keep_session(c, k, k->redirect_cid, k->redirect_token);
    redial_redirected(c, k, from);
    return true;
}

/* A resume was refused with a redirect: the session had been moved and
 * the redirect's close never arrived (the link went first). The kept
 * session goes where the refusal said, as if that close had come. A few
 * hops at most: servers whose records point round in a circle must not
 * keep a client dialing until the records expire. */
static bool follow_late_redirect(hive_client *c, hive__conn *k)
{
    if (!c->sess.valid || c->late_redirects >= 4 || !redirect_followable(c, k)) return false;
    uint32_t from = c->sess.cid;
    c->late_redirects++;
    c->sess.cid = k->redirect_cid;
    memcpy(c->sess.token, k->redirect_token, HIVE__RESUME_TOKEN);
    redial_redirected(c, k, from);
    return true;
}

static int cli_closing(hive__ep *ep, hive__conn *k, int reason, int prev)
{
    (void)prev;
    hive_client *c = cli(ep);
    int st = __atomic_load_n(&c->state, __ATOMIC_ACQUIRE);
    if (reason == HIVE_CLOSE_REDIRECT && st == HIVE_CLIENT_OPEN && !ep->stopping && !hive__ep_draining(k) &&
        follow_redirect(c, k))
        return HIVE__CARRY_FREE;
    bool attempting = c->attempt > 0;
    if (reason == HIVE_CLOSE_REDIRECT && attempting && !ep->stopping) {
        if (follow_late_redirect(c, k)) return HIVE__CARRY_FREE;
        /* one it cannot follow (another transport, too many hops): the
         * session is as gone as after any refused resume */
        reason = HIVE_CLOSE_SESSION_INVALID;
    }
    bool again = c->cfg.reconnect_attempts && !ep->stopping && !hive__ep_draining(k);   /* draining: the game closed it */
    if (again && attempting && reason == HIVE_CLOSE_SESSION_INVALID) {
        /* The server (or this side) refused the resume: a fresh handshake
         * at once, as a new session. */
        invalidate(c, "the session could not be resumed");
        c->redirected = false;
        ep->redial_at = ep->now + 1;
        hive__cli_set_state(c, HIVE_CLIENT_RECONNECTING);
        return HIVE__CARRY_FREE;
    }
    if (again && (st == HIVE_CLIENT_OPEN || attempting) &&
        lost(reason, attempting)) {
        if (st == HIVE_CLIENT_OPEN) {
            c->old_cid = k->cid;
            /* Keep the session for a resume when the server offered one
             * and nothing it may still need was dropped. */
            if (k->has_token && hive__replay_whole(&k->rp)) keep_session(c, k, k->cid, k->token);
        }
        if (schedule(c, reason)) return HIVE__CARRY_FREE;
    }
    c->attempt = 0;
    if (c->sess.valid && !k->rp.sent) {
        /* The session ends on this attempt's link: its close event counts
         * what the session never had confirmed. */
        hive__replay_free(&k->rp);
        k->rp = c->sess.rp;
        memset(&c->sess.rp, 0, sizeof c->sess.rp);
    }
    hive__cli_sess_drop(c);
    c->redirected = false;
    __atomic_store_n(&c->close_reason, reason, __ATOMIC_RELEASE);
    hive__cli_set_state(c, HIVE_CLIENT_CLOSING);
    return HIVE__CARRY_NO;
}

/* The session ends with no connection to close (between attempts): the
 * close event a connection's end would have published, then CLOSED. */
void hive__cli_emit_close(hive_client *c, int reason, const char *message, bool remote)
{
    hive__ep *ep = &c->ep;
    __atomic_store_n(&c->close_reason, reason, __ATOMIC_RELEASE);
    HIVE__STAT_ADD(ep, closed, 1);
    uint64_t und = hive__replay_unacked(&c->sess.rp);   /* what the lost session never had confirmed */
    hive_field f[] = {
        HIVE_PTR("client", c), HIVE_INT("cid", c->old_cid), HIVE_INT("reason", reason),
        HIVE_STR("reason_name", hive_close_reason_name(reason)), HIVE_STR("message", message ? message : ""),
        HIVE_INT("remote", remote), HIVE_INT("delivered", und == 0), HIVE_INT("undelivered", (int64_t)und),
    };
    hive__ep_emit(ep, ep->ev[HIVE__EV_CLOSE], f, 8);
    c->old_cid = 0;
}

/* The connection is gone: the client is CLOSED, and client.stop is out
 * (unless it is about to dial again). */
static void cli_released(hive__ep *ep)
{
    hive_client *c = cli(ep);
    if (ep->redial_at) return;
    hive__cli_set_state(c, HIVE_CLIENT_CLOSED);
    hive__cli_emit_stop(c);
    hive__ep_wake_all(ep, true);
}

/* The backoff delay is over: dial again. A dial that fails at once is a
 * failed attempt like any other. */
static void cli_redial(hive__ep *ep)
{
    hive_client *c = cli(ep);
    ep->redial_at = 0;
    if (hive__cli_dial(c) == HIVE_OK) return;
    if (schedule(c, HIVE_CLOSE_CONNECT_FAILED)) return;
    hive__cli_emit_close(c, HIVE_CLOSE_CONNECT_FAILED, "could not dial again", false);
    hive__cli_sess_drop(c);
    hive__cli_set_state(c, HIVE_CLIENT_CLOSED);
    hive__cli_emit_stop(c);
    hive__ep_wake_all(ep, true);
}

int hive__cli_keep_send(hive_client *c, uint32_t pid, const void *body, size_t len, int dlv)
{
    if (!c->sess.valid) return HIVE_ESTATE;
    if (HIVE__KIND(dlv) != HIVE__DLV_RELIABLE) return HIVE_OK;
    if (!hive__frame_fits(pid, len, __atomic_load_n(&c->peer_max, __ATOMIC_ACQUIRE))) return HIVE_ETOOBIG;
    /* A large one waits in the session's transfer queue (sent uncompressed),
     * to go in pieces once the session is back. */
    if (c->pieces && len > HIVE__PIECE_BYTES) {
        int rc = hive__xfer_push(&c->sess.xf, c->ep.xfer_max, pid, body, len, len, 0);
        if (rc == HIVE_OK) HIVE__STAT_ADD(&c->ep, transfers_out, 1);
        return rc;
    }
    uint8_t hdr[HIVE__FRAME_HEADER_MAX];
    size_t hn = hive__frame_header(hdr, pid, HIVE__FLAG_SEQ, len);
    if (!hn) return HIVE_ETOOBIG;
    /* Never push the oldest out: that would make the session unresumable
     * for the sake of a newer message. The game hears "full" instead. */
    int ln = HIVE__LANE(dlv);
    hive__replay *rp = ln && ln < hive__replay_nlanes(&c->sess.rp) ? hive__replay_lane(&c->sess.rp, ln) : &c->sess.rp;
    if ((rp->pool ? *rp->pool : rp->bytes) + hn + len > rp->max) return HIVE_EFULL;
    const void *pieces[2] = { hdr, body };
    size_t lens[2] = { hn, len };
    return hive__replay_push(rp, pieces, lens, len ? 2 : 1) == HIVE_OK ? HIVE_OK : HIVE_ENOMEM;
}

/* A send from another thread that found no open connection: the session
 * keeps it when it can. (The caller was told HIVE_OK when it was queued;
 * like any queued send whose connection is gone meanwhile, one that
 * cannot be kept is dropped.) */
static void cli_keep(hive__ep *ep, const hive__pentry *pe, const void *body, size_t len, int dlv)
{
    (void)hive__cli_keep_send(cli(ep), pe->pid, body, len, dlv);
}

static hive__conn *cli_find(hive__ep *ep, hive_cid cid)
{
    (void)cid;   /* requests from other threads always mean the one connection */
    return ep->conns;
}

static void cli_do_stop(hive__ep *ep) { hive__cli_do_stop(cli(ep)); }

static int cli_service(hive__ep *ep, int timeout_ms) { return hive_client_service(cli(ep), timeout_ms); }

/* The connection is closed or gone: nothing more will arrive. */
static bool cli_ended(hive__ep *ep)
{
    pthread_mutex_lock(&ep->lock);
    bool closed = ep->closed;
    pthread_mutex_unlock(&ep->lock);
    return closed || (!ep->conns && !ep->redial_at);
}

/* A client dials one connection: its close is the end of the pull
 * queue and of the I/O thread, and stop closes it as "normal". */
const hive__ep_face hive__client_face = {
    .key = "client", .names = hive__client_event_names, .recv_prefix = HIVE_EV_CLIENT_RECV_PREFIX,
    .one_conn = true, .final_reason = HIVE_CLOSE_NORMAL, .connected = cli_connected,
    .handshake = cli_handshake, .closing = cli_closing, .released = cli_released, .find = cli_find,
    .redial = cli_redial, .keep = cli_keep, .remote = hive__cli_remote,
    .setup = hive__cli_setup, .teardown = hive__cli_teardown, .do_stop = cli_do_stop, .service = cli_service,
    .ended = cli_ended,
};
