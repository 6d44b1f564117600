/*
 * client_conn.c - the client's connection on the I/O thread: the link
 * coming up (hello), what each frame means (conn.c) and what the client
 * does about it (install the welcome's table, publish a recv, answer a
 * ping, close with a reason), sends, requests from other threads, timers
 * and the I/O round.
 */
#include "events/internal.h"
#include "net/client_internal.h"

#include <string.h>

static void emit_simple(hive_client *c, hive_event_id id)
{
    hive_field f[] = { HIVE_PTR("client", c) };
    hive__ep_emit(&c->ep, id, f, 1);
}

void hive__cli_conn_state(hive__conn *k, hive__cstate st, uint64_t now)
{
    k->state = (uint8_t)st;
    k->t_state = now;
    __atomic_store_n(&k->open_pub, st == HIVE__C_OPEN, __ATOMIC_RELEASE);
}

/* The link is gone: free the connection, publish client.stop. */
static void finish(hive_client *c)
{
    hive__conn *k = c->conn;
    if (!k) return;
    c->conn = NULL;
    hive__rxbuf_free(&k->rx);
    hive__free(k);
    int reason = __atomic_load_n(&c->close_reason, __ATOMIC_ACQUIRE);
    hive__cli_set_state(c, HIVE_CLIENT_CLOSED);
    if (c->stop_owed) {
        c->stop_owed = false;
        hive_field f[] = {
            HIVE_PTR("client", c),
            HIVE_INT("reason", reason),
            HIVE_STR("reason_name", hive_close_reason_name(reason)),
        };
        hive__ep_emit(&c->ep, c->ev.stop, f, 3);
    }
    hive__ep_wake_all(&c->ep, true);
}

void hive__cli_close(hive_client *c, int reason, const char *message, bool remote, bool send_frame,
                     bool abort_now)
{
    hive__conn *k = c->conn;
    if (!k || k->state == HIVE__C_CLOSING) return;
    bool was_dialing = k->state == HIVE__C_DIALING;
    hive__cli_conn_state(k, HIVE__C_CLOSING, c->ep.now);
    k->close_reason = reason;
    k->close_deadline = c->ep.now + HIVE__CLOSE_WAIT_MS;
    __atomic_store_n(&c->close_reason, reason, __ATOMIC_RELEASE);
    hive__cli_set_state(c, HIVE_CLIENT_CLOSING);
    if (!k->close_published) {
        k->close_published = true;
        HIVE__STAT_ADD(&c->ep, closed, 1);
        hive_field f[] = {
            HIVE_PTR("client", c),
            HIVE_INT("cid", k->cid),
            HIVE_INT("reason", reason),
            HIVE_STR("reason_name", hive_close_reason_name(reason)),
            HIVE_STR("message", message ? message : ""),
            HIVE_INT("remote", remote),
        };
        hive__ep_emit(&c->ep, c->ev.close, f, 6);
    }
    hive__ep_wake_all(&c->ep, true);
    if (!k->link) return;
    if (abort_now || was_dialing) {
        c->ep.tr->vt->abort(c->ep.tr, k->link);
        k->link = NULL;
        finish(c);
        return;
    }
    if (remote) return;   /* the peer ends the link (see server.c) */
    if (send_frame) {
        hive_msg m;
        hive_msg_init(&m);
        if (hive__close_pack(&m, reason, message) == 0)
            hive__ep_send_msg(&c->ep, k, HIVE__PID_CLOSE, &m);
        hive_msg_free(&m);
    }
    c->ep.tr->vt->close(c->ep.tr, k->link, (uint32_t)reason);
}

/* ------------------------------------------------------------------ */
/* Transport callbacks                                                  */
/* ------------------------------------------------------------------ */

static int cli_accepted(void *core, hive__link *link, const char *addr)
{
    return HIVE_ESTATE;   /* a dialing transport never accepts */
}

static void cli_connected(void *core, hive__link *link)
{
    hive_client *c = core;
    hive__conn *k = link->conn;
    if (!k || k->state != HIVE__C_DIALING) return;
    hive_msg m;
    hive_msg_init(&m);
    int rc = hive__hello_pack(&m, c->app, c->app_version, c->conntype, c->token,
                              c->cfg.token_len, c->cfg.max_frame);
    k->last_rx = k->last_tx = c->ep.now;
    hive__cli_conn_state(k, HIVE__C_AWAIT_WELCOME, c->ep.now);
    hive__cli_set_state(c, HIVE_CLIENT_HANDSHAKING);
    emit_simple(c, c->ev.start);
    if (rc == 0) rc = hive__ep_send_msg(&c->ep, k, HIVE__PID_HELLO, &m);
    hive_msg_free(&m);
    if (rc != 0) hive__cli_close(c, HIVE_CLOSE_NO_MEMORY, NULL, false, false, false);
}

void hive__cli_refresh_wants(hive_client *c)
{
    bool any = false;
    if (c->pt)
        for (size_t i = 0; i < c->pt->n && !any; i++)
            any = c->pt->e[i].ev > 0 && hive_bus_wants(c->ep.bus, c->pt->e[i].ev);
    c->any_pe_wanted = any;
}

static void on_welcome(hive_client *c, hive__conn *k, hive__act *act)
{
    hive__welcome_msg *w = &act->u.welcome;
    hive__ptable *pt;
    if (hive__ptable_build(&pt, w->registry, true, c->ep.bus, HIVE_EV_CLIENT_RECV_PREFIX) < 0) {
        hive__cli_close(c, HIVE_CLOSE_NO_MEMORY, NULL, false, true, false);
        return;
    }
    /* The new table replaces the old one whole; other threads look names
     * up under the lock. */
    pthread_mutex_lock(&c->ep.lock);
    hive__ptable *old = c->pt;
    c->pt = pt;
    pthread_mutex_unlock(&c->ep.lock);
    hive__ptable_free(old);
    hive__cli_refresh_wants(c);

    k->cid = w->cid;
    k->peer_max_frame = w->max_frame;
    c->tm.heartbeat_ms = w->heartbeat_ms;
    c->tm.heartbeat_timeout_ms = w->heartbeat_timeout_ms;
    hive_msg m;
    hive_msg_init(&m);
    int rc = hive__ready_pack(&m);
    if (rc == 0) rc = hive__ep_send_msg(&c->ep, k, HIVE__PID_READY, &m);
    hive_msg_free(&m);
    if (rc != 0) {
        hive__cli_close(c, HIVE_CLOSE_NO_MEMORY, NULL, false, true, false);
        return;
    }
    k->last_rx = c->ep.now;
    hive__cli_conn_state(k, HIVE__C_OPEN, c->ep.now);
    __atomic_store_n(&c->cid, w->cid, __ATOMIC_RELEASE);
    __atomic_store_n(&c->peer_max, w->max_frame, __ATOMIC_RELEASE);
    hive__cli_set_state(c, HIVE_CLIENT_OPEN);
    /* TLS transports: the verified server certificate's subject. */
    const char *subject = k->link ? k->link->peer_subject : NULL;
    hive_field f[] = { HIVE_PTR("client", c), HIVE_INT("cid", w->cid),
                       HIVE_STR("peer_subject", subject ? subject : "") };
    hive__ep_emit(&c->ep, c->ev.handshake, f, subject ? 3 : 2);
}

static void on_deliver(hive_client *c, hive__conn *k, const hive__frame *f, const hive__act *act)
{
    const hive__pentry *pe = act->pe;
    bool want = hive_bus_wants(c->ep.bus, c->ev.recv);
    bool want_pe = pe->ev > 0 && hive_bus_wants(c->ep.bus, pe->ev);
    if (want || want_pe) {
        hive_field fl[] = {
            HIVE_PTR("client", c),
            HIVE_INT("cid", k->cid),
            HIVE_INT("pid", f->pid),
            HIVE_STR("name", pe->name),
            HIVE_MSGPACK("msg", f->body, f->body_len, act->obj),
        };
        if (want) hive__ep_emit(&c->ep, c->ev.recv, fl, 5);
        if (want_pe) hive__ep_emit(&c->ep, pe->ev, fl, 5);
    }
    if (c->ep.pull) hive__ep_pull_push(&c->ep, k->cid, f->pid, pe->name, f->body, f->body_len);
}

static void cli_act(hive_client *c, hive__conn *k, const hive__frame *f, hive__act *act)
{
    switch (act->kind) {
    case HIVE__ACT_NONE:
        break;
    case HIVE__ACT_DELIVER:
        on_deliver(c, k, f, act);
        break;
    case HIVE__ACT_PING:
        hive__ep_send_frame(&c->ep, k, HIVE__PID_PONG, f->body, f->body_len, true);
        break;
    case HIVE__ACT_WELCOME:
        on_welcome(c, k, act);
        break;
    case HIVE__ACT_REJECTED:
    case HIVE__ACT_PEER_CLOSE:
        hive__cli_close(c, act->reason, act->u.close.message, true, false, false);
        break;
    case HIVE__ACT_CLOSE:
        hive__cli_close(c, act->reason, NULL, false, true, false);
        break;
    default:   /* HELLO / READY never reach a client (conn.c refuses) */
        hive__cli_close(c, HIVE_CLOSE_UNEXPECTED_PACKET, NULL, false, true, false);
        break;
    }
}

static void cli_data(void *core, hive__link *link, const uint8_t *p, size_t n, int channel)
{
    hive_client *c = core;
    hive__conn *k = link->conn;
    if (!k || k->state == HIVE__C_CLOSING) return;
    k->last_rx = c->ep.now;
    HIVE__STAT_ADD(&c->ep, bytes_in, n);
    bool decode = !c->ep.threaded && !c->cfg.lazy_decode &&
                  (hive_bus_wants(c->ep.bus, c->ev.recv) || c->any_pe_wanted);
    hive__frame f;
    int reason = 0, r;
    while ((r = hive__conn_next_frame(k, c->ep.stream, &p, &n, c->cfg.max_frame, &f, &reason)) == 1) {
        HIVE__STAT_ADD(&c->ep, frames_in, 1);
        hive__act act;
        hive__conn_on_frame(k, &f, channel, c->pt, &c->ep.dec, decode, &act);
        cli_act(c, k, &f, &act);
        if (k->state == HIVE__C_CLOSING) return;
    }
    if (r < 0) hive__cli_close(c, reason, NULL, false, true, false);
}

static void cli_disconnected(void *core, hive__link *link, int reason)
{
    hive_client *c = core;
    hive__conn *k = link->conn;
    if (!k || k != c->conn) return;
    k->link = NULL;
    if (k->state != HIVE__C_CLOSING) hive__cli_close(c, reason, link->close_message, true, false, false);
    finish(c);
}

void hive__cli_transport_cb(hive_client *c, hive__transport_cb *cb)
{
    memset(cb, 0, sizeof *cb);
    cb->core = c;
    cb->accepted = cli_accepted;
    cb->connected = cli_connected;
    cb->data = cli_data;
    cb->disconnected = cli_disconnected;
}

/* ------------------------------------------------------------------ */
/* Sending (I/O thread side) and the loop                               */
/* ------------------------------------------------------------------ */

int hive__cli_send_user(hive_client *c, const hive__pentry *pe, const void *body, size_t len,
                        bool reliable)
{
    hive__conn *k = c->conn;
    if (!k || k->state != HIVE__C_OPEN) return HIVE_ESTATE;
    int rc = hive__ep_send_frame(&c->ep, k, pe->pid, body, len, reliable);
    if (rc == HIVE_OK && hive_bus_wants(c->ep.bus, c->ev.send)) {
        hive_field f[] = {
            HIVE_PTR("client", c),
            HIVE_INT("pid", pe->pid),
            HIVE_STR("name", pe->name),
            HIVE_INT("size", len),
        };
        hive__ep_emit(&c->ep, c->ev.send, f, 4);
    }
    return rc;
}

static int run_requests(hive_client *c)
{
    hive__qitem *q = hive__ep_take_requests(&c->ep);
    int n = 0;
    while (q) {
        hive__qitem *next = q->next;
        if (q->kind == HIVE__Q_SEND) {
            const hive__pentry *pe = hive__ptable_find(c->pt, q->pid);
            if (pe) hive__cli_send_user(c, pe, q->data, q->len, q->reliable);
        } else if (q->kind == HIVE__Q_CLOSE) {
            hive__cli_close(c, q->reason, q->len ? (const char *)q->data : NULL, false, true, false);
        }
        hive__free(q);
        q = next;
        n++;
    }
    return n;
}

static void tick(hive_client *c)
{
    hive__conn *k = c->conn;
    uint64_t now = c->ep.now;
    if (!k || now - c->last_tick < HIVE__TICK_MS) return;
    c->last_tick = now;
    int reason = 0;
    switch (hive__conn_tick(k, now, &c->tm, &reason)) {
    case HIVE__TICK_PING: {
        hive_msg m;
        hive_msg_init(&m);
        if (hive__ping_pack(&m, now) == 0) hive__ep_send_msg(&c->ep, k, HIVE__PID_PING, &m);
        hive_msg_free(&m);
        break;
    }
    case HIVE__TICK_CLOSE:
        hive__cli_close(c, reason, NULL, false, true, reason == HIVE_CLOSE_TIMEOUT);
        break;
    case HIVE__TICK_ABORT:
        if (k->link) c->ep.tr->vt->abort(c->ep.tr, k->link);
        k->link = NULL;
        finish(c);
        break;
    default:
        break;
    }
}

int hive__cli_round(hive_client *c, int wait_ms)
{
    c->ep.now = hive__now_ms();
    run_requests(c);
    int n = c->ep.tr->vt->service(c->ep.tr, wait_ms);
    c->ep.now = hive__now_ms();
    int r = run_requests(c);
    tick(c);
    if (r && c->ep.tr) c->ep.tr->vt->flush(c->ep.tr);
    return n;
}

/* Closes the connection (if any) with a close packet, gives it up to
 * linger_ms to leave, then drops the link. I/O thread. */
void hive__cli_close_and_linger(hive_client *c)
{
    if (!c->conn) return;
    c->ep.now = hive__now_ms();
    hive__cli_close(c, HIVE_CLOSE_NORMAL, NULL, false, true, false);
    if (c->ep.tr) c->ep.tr->vt->flush(c->ep.tr);
    uint64_t end = hive__now_ms() + c->tm.linger_ms;
    while (c->conn && hive__now_ms() < end) {
        c->ep.now = hive__now_ms();
        c->ep.tr->vt->service(c->ep.tr, 5);
    }
    if (c->conn) {
        if (c->conn->link) c->ep.tr->vt->abort(c->ep.tr, c->conn->link);
        c->conn->link = NULL;
        finish(c);
    }
}
