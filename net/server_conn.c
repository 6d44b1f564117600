/*
 * server_conn.c - a server's connections on the I/O thread: links from
 * the transport (accepted, data, disconnected), what each frame means for
 * its connection (conn.c) and what the server does about it (welcome or
 * reject a hello, publish a recv, answer a ping, close with a reason),
 * sends, requests from other threads, timers, and the I/O round itself.
 */
#include "events/internal.h"
#include "net/server_internal.h"

#include <string.h>

/* ------------------------------------------------------------------ */
/* Connections                                                          */
/* ------------------------------------------------------------------ */

static void set_state(hive__conn *c, hive__cstate st, uint64_t now)
{
    c->state = (uint8_t)st;
    c->t_state = now;
    __atomic_store_n(&c->open_pub, st == HIVE__C_OPEN, __ATOMIC_RELEASE);
}

/* I/O thread. Unlinks and frees; the link must already be gone. */
static void conn_free(hive_server *s, hive__conn *c)
{
    pthread_mutex_lock(&s->ep.lock);
    hive__cidmap_del(&s->map, c->cid);
    if (c->prev) c->prev->next = c->next;
    else s->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    s->nconns--;
    pthread_mutex_unlock(&s->ep.lock);
    if (c->admitted) s->nadmitted--;
    hive__rxbuf_free(&c->rx);
    hive__free(c->addr);
    hive__free(c->conntype);
    hive__free(c->app_version);
    hive__free(c);
}

/* How a close travels to the peer. */
enum { CLOSE_SILENT = 0, CLOSE_FRAME = HIVE__CLOSE_FRAME, REJECT_FRAME };

/*
 * I/O thread. Moves c to CLOSING, publishes its close event (once), tells
 * the peer why (close or reject packet) and lets the transport finish.
 * abort_now: the peer is presumed dead; drop the link and free c at once
 * (only from places that hold no pointer to c afterwards).
 */
void hive__srv_close_conn(hive_server *s, hive__conn *c, int reason, const char *message,
                          bool remote, int how, bool abort_now)
{
    if (c->state == HIVE__C_CLOSING) return;
    uint64_t now = s->ep.now;
    set_state(c, HIVE__C_CLOSING, now);
    c->close_reason = reason;
    c->close_deadline = now + HIVE__CLOSE_WAIT_MS;
    if (c->admitted) {
        c->admitted = false;
        s->nadmitted--;
    }
    if (!c->close_published) {
        c->close_published = true;
        HIVE__STAT_ADD(&s->ep, closed, 1);
        hive_field f[] = {
            HIVE_PTR("server", s),
            HIVE_INT("cid", c->cid),
            HIVE_INT("reason", reason),
            HIVE_STR("reason_name", hive_close_reason_name(reason)),
            HIVE_STR("message", message ? message : ""),
            HIVE_INT("remote", remote),
        };
        hive__ep_emit(&s->ep, s->ev.close, f, 6);
    }
    if (!c->link) return;
    if (abort_now) {
        s->ep.tr->vt->abort(s->ep.tr, c->link);
        c->link = NULL;
        conn_free(s, c);
        return;
    }
    /* The side that decided to close ends the link; the other side
     * waits for that (bounded by close_deadline). Both ending it at once
     * makes ENet's disconnects cross and one side wait for a timeout. */
    if (remote) return;
    if (how != CLOSE_SILENT) {
        hive_msg m;
        hive_msg_init(&m);
        if (hive__close_pack(&m, reason, message) == 0)
            hive__ep_send_frame(&s->ep, c, how == REJECT_FRAME ? HIVE__PID_REJECT : HIVE__PID_CLOSE,
                                hive_msg_data(&m), hive_msg_size(&m), true);
        hive_msg_free(&m);
    }
    s->ep.tr->vt->close(s->ep.tr, c->link, (uint32_t)reason);
}

static int srv_accepted(void *core, hive__link *link, const char *addr)
{
    hive_server *s = core;
    if (s->stopping) return HIVE_ESTATE;
    hive__conn *c = hive__calloc(1, sizeof *c);
    if (!c) return HIVE_ENOMEM;
    c->addr = hive__strdup(addr);
    if (!c->addr) { hive__free(c); return HIVE_ENOMEM; }
    c->server_side = true;
    c->cid = s->next_cid++;
    c->link = link;
    c->peer_max_frame = HIVE__MAX_FRAME_MIN;
    uint64_t now = s->ep.now;
    c->last_rx = c->last_tx = now;
    set_state(c, HIVE__C_AWAIT_HELLO, now);
    pthread_mutex_lock(&s->ep.lock);
    int rc = hive__cidmap_put(&s->map, c->cid, c);
    if (rc == HIVE_OK) {
        c->next = s->conns;
        if (s->conns) s->conns->prev = c;
        s->conns = c;
        s->nconns++;
    }
    pthread_mutex_unlock(&s->ep.lock);
    if (rc < 0) {
        hive__free(c->addr);
        hive__free(c);
        return rc;
    }
    link->conn = c;
    HIVE__STAT_ADD(&s->ep, accepted, 1);
    hive_field f[] = { HIVE_PTR("server", s), HIVE_INT("cid", c->cid), HIVE_STR("addr", c->addr) };
    hive__ep_emit(&s->ep, s->ev.accept, f, 3);
    return HIVE_OK;
}

/* I/O thread: a hello arrived; welcome or reject it. */
static void on_hello(hive_server *s, hive__conn *c, hive__act *act)
{
    const hive__hello_msg *h = &act->u.hello;
    int reason = act->reason;
    if (!reason && strcmp(h->app, s->app) != 0) reason = HIVE_CLOSE_APP_MISMATCH;
    if (!reason && s->nadmitted >= s->cfg.max_connections) reason = HIVE_CLOSE_SERVER_FULL;
    if (!reason && s->cfg.auth) {
        hive_hello hh = {
            .addr = c->addr, .app = h->app, .app_version = h->app_version,
            .conntype = h->conntype, .token = h->token, .token_len = h->token_len,
        };
        int r = s->cfg.auth(s, c->cid, &hh, s->cfg.auth_user);
        if (r != 0) reason = (r > 0 && r <= HIVE_CLOSE_MAX) ? r : HIVE_CLOSE_AUTH_FAILED;
    }
    if (reason) {
        HIVE__STAT_ADD(&s->ep, rejected, 1);
        hive__srv_close_conn(s, c, reason, hive_close_reason_text(reason), false, REJECT_FRAME, false);
        return;
    }
    char *ct = hive__strdup(h->conntype), *av = hive__strdup(h->app_version);
    if (!ct || !av) {
        hive__free(ct);
        hive__free(av);
        hive__srv_close_conn(s, c, HIVE_CLOSE_NO_MEMORY, NULL, false, REJECT_FRAME, false);
        return;
    }
    pthread_mutex_lock(&s->ep.lock);
    c->conntype = ct;
    c->app_version = av;
    c->peer_max_frame = h->max_frame;
    pthread_mutex_unlock(&s->ep.lock);

    hive_msg m;
    hive_msg_init(&m);
    int rc = hive__welcome_pack(&m, c->cid, hive__mix64(s->session_seed ^ c->cid), s->tm.heartbeat_ms,
                                s->tm.heartbeat_timeout_ms, s->cfg.max_frame, s->app_version, s->reg);
    if (rc == 0) rc = hive__ep_send_msg(&s->ep, c, HIVE__PID_WELCOME, &m);
    hive_msg_free(&m);
    if (rc != 0) {
        int why = rc == HIVE_ETOOBIG ? HIVE_CLOSE_FRAME_TOO_LARGE : HIVE_CLOSE_NO_MEMORY;
        hive__srv_close_conn(s, c, why, NULL, false, REJECT_FRAME, false);
        return;
    }
    c->admitted = true;
    s->nadmitted++;
    set_state(c, HIVE__C_AWAIT_READY, s->ep.now);
}

/* I/O thread: a user packet arrived. */
static void on_deliver(hive_server *s, hive__conn *c, const hive__frame *f, const hive__act *act)
{
    const hive__pentry *pe = act->pe;
    bool want = hive_bus_wants(s->ep.bus, s->ev.recv);
    bool want_pe = pe->ev > 0 && hive_bus_wants(s->ep.bus, pe->ev);
    if (want || want_pe) {
        hive_field fl[] = {
            HIVE_PTR("server", s),
            HIVE_INT("cid", c->cid),
            HIVE_INT("pid", f->pid),
            HIVE_STR("name", pe->name),
            HIVE_MSGPACK("msg", f->body, f->body_len, act->obj),
        };
        if (want) hive__ep_emit(&s->ep, s->ev.recv, fl, 5);
        if (want_pe) hive__ep_emit(&s->ep, pe->ev, fl, 5);
    }
    if (s->ep.pull) hive__ep_pull_push(&s->ep, c->cid, f->pid, pe->name, f->body, f->body_len);
}

static void srv_act(hive_server *s, hive__conn *c, const hive__frame *f, hive__act *act)
{
    switch (act->kind) {
    case HIVE__ACT_NONE:
        break;
    case HIVE__ACT_DELIVER:
        on_deliver(s, c, f, act);
        break;
    case HIVE__ACT_PING:
        hive__ep_send_frame(&s->ep, c, HIVE__PID_PONG, f->body, f->body_len, true);
        break;
    case HIVE__ACT_HELLO:
        on_hello(s, c, act);
        break;
    case HIVE__ACT_READY: {
        set_state(c, HIVE__C_OPEN, s->ep.now);
        /* TLS transports: the verified client certificate's subject. */
        const char *subject = c->link ? c->link->peer_subject : NULL;
        hive_field fl[] = {
            HIVE_PTR("server", s),
            HIVE_INT("cid", c->cid),
            HIVE_STR("conntype", c->conntype),
            HIVE_STR("app_version", c->app_version),
            HIVE_STR("peer_subject", subject ? subject : ""),
        };
        hive__ep_emit(&s->ep, s->ev.handshake, fl, subject ? 5 : 4);
        break;
    }
    case HIVE__ACT_PEER_CLOSE:
        hive__srv_close_conn(s, c, act->reason, act->u.close.message, true, CLOSE_SILENT, false);
        break;
    case HIVE__ACT_WELCOME:      /* never on a server conn (conn.c refuses) */
        hive_registry_destroy(act->u.welcome.registry);
        hive__srv_close_conn(s, c, HIVE_CLOSE_UNEXPECTED_PACKET, NULL, false, CLOSE_FRAME, false);
        break;
    case HIVE__ACT_REJECTED:
    case HIVE__ACT_CLOSE:
    default:
        hive__srv_close_conn(s, c, act->kind == HIVE__ACT_CLOSE ? act->reason : HIVE_CLOSE_UNEXPECTED_PACKET,
                             NULL, false, CLOSE_FRAME, false);
        break;
    }
}

static void srv_data(void *core, hive__link *link, const uint8_t *p, size_t n, int channel)
{
    hive_server *s = core;
    hive__conn *c = link->conn;
    if (!c || c->state == HIVE__C_CLOSING) return;
    c->last_rx = s->ep.now;
    HIVE__STAT_ADD(&s->ep, bytes_in, n);
    bool decode = !s->ep.threaded && !s->cfg.lazy_decode &&
                  (hive_bus_wants(s->ep.bus, s->ev.recv) || s->any_pe_wanted);
    hive__frame f;
    int reason = 0, r;
    while ((r = hive__conn_next_frame(c, s->ep.stream, &p, &n, s->cfg.max_frame, &f, &reason)) == 1) {
        HIVE__STAT_ADD(&s->ep, frames_in, 1);
        hive__act act;
        hive__conn_on_frame(c, &f, channel, s->pt, &s->ep.dec, decode, &act);
        srv_act(s, c, &f, &act);
        if (c->state == HIVE__C_CLOSING) return;
    }
    if (r < 0) hive__srv_close_conn(s, c, reason, NULL, false, CLOSE_FRAME, false);
}

static void srv_disconnected(void *core, hive__link *link, int reason)
{
    hive_server *s = core;
    hive__conn *c = link->conn;
    if (!c) return;
    c->link = NULL;
    if (c->state != HIVE__C_CLOSING)
        hive__srv_close_conn(s, c, reason, link->close_message, true, CLOSE_SILENT, false);
    conn_free(s, c);
}

void hive__srv_transport_cb(hive_server *s, hive__transport_cb *cb)
{
    memset(cb, 0, sizeof *cb);
    cb->core = s;
    cb->accepted = srv_accepted;
    cb->data = srv_data;
    cb->disconnected = srv_disconnected;
}

/* ------------------------------------------------------------------ */
/* Sending (I/O thread side)                                            */
/* ------------------------------------------------------------------ */

static void emit_send(hive_server *s, hive__conn *c, const hive__pentry *pe, size_t len)
{
    hive_field f[] = {
        HIVE_PTR("server", s),
        HIVE_INT("cid", c->cid),
        HIVE_INT("pid", pe->pid),
        HIVE_STR("name", pe->name),
        HIVE_INT("size", len),
    };
    hive__ep_emit(&s->ep, s->ev.send, f, 5);
}

int hive__srv_send_user(hive_server *s, hive__conn *c, const hive__pentry *pe, const void *body,
                     size_t len, bool reliable)
{
    if (c->state != HIVE__C_OPEN) return HIVE_ESTATE;
    int rc = hive__ep_send_frame(&s->ep, c, pe->pid, body, len, reliable);
    if (rc == HIVE_OK && hive_bus_wants(s->ep.bus, s->ev.send)) emit_send(s, c, pe, len);
    return rc;
}

int hive__srv_bcast_user(hive_server *s, const hive__pentry *pe, const void *body, size_t len,
                      hive_cid except, bool reliable)
{
    hive__bcast b;
    if (hive__ep_bcast_init(&b, pe->pid, body, len, reliable) != HIVE_OK) return 0;
    int n = 0;
    bool want = hive_bus_wants(s->ep.bus, s->ev.send);
    for (hive__conn *c = s->conns; c; c = c->next) {
        if (c->cid == except || c->state != HIVE__C_OPEN) continue;
        if (hive__ep_bcast_send(&s->ep, c, &b) != HIVE_OK) continue;
        n++;
        if (want) emit_send(s, c, pe, len);
    }
    hive__ep_bcast_fini(&s->ep, &b);
    return n;
}

/* Carries out what other threads asked for. Returns how many. */
static int run_requests(hive_server *s)
{
    hive__qitem *q = hive__ep_take_requests(&s->ep);
    int n = 0;
    while (q) {
        hive__qitem *next = q->next;
        const hive__pentry *pe = hive__ptable_find(s->pt, q->pid);
        hive__conn *c;
        switch (q->kind) {
        case HIVE__Q_SEND:
            c = hive__cidmap_get(&s->map, q->cid);
            if (c && pe) hive__srv_send_user(s, c, pe, q->data, q->len, q->reliable);
            break;
        case HIVE__Q_BCAST:
            if (pe) hive__srv_bcast_user(s, pe, q->data, q->len, q->cid, q->reliable);
            break;
        case HIVE__Q_CLOSE:
            c = hive__cidmap_get(&s->map, q->cid);
            if (c) hive__srv_close_conn(s, c, q->reason, q->len ? (const char *)q->data : NULL,
                                        false, CLOSE_FRAME, false);
            break;
        }
        hive__free(q);
        q = next;
        n++;
    }
    return n;
}

/* ------------------------------------------------------------------ */
/* The I/O loop                                                         */
/* ------------------------------------------------------------------ */

static void tick(hive_server *s)
{
    uint64_t now = s->ep.now;
    if (now - s->last_tick < HIVE__TICK_MS) return;
    s->last_tick = now;
    hive__conn *next;
    for (hive__conn *c = s->conns; c; c = next) {
        next = c->next;
        int reason = 0;
        switch (hive__conn_tick(c, now, &s->tm, &reason)) {
        case HIVE__TICK_PING: {
            hive_msg m;
            hive_msg_init(&m);
            if (hive__ping_pack(&m, now) == 0) hive__ep_send_msg(&s->ep, c, HIVE__PID_PING, &m);
            hive_msg_free(&m);
            break;
        }
        case HIVE__TICK_CLOSE:
            /* A silent peer is presumed dead: nothing to wait for. A slow
             * handshake gets told why. */
            hive__srv_close_conn(s, c, reason, NULL, false, CLOSE_FRAME, reason == HIVE_CLOSE_TIMEOUT);
            break;
        case HIVE__TICK_ABORT:
            if (c->link) s->ep.tr->vt->abort(s->ep.tr, c->link);
            c->link = NULL;
            conn_free(s, c);
            break;
        default:
            break;
        }
    }
}

/* One round: requests, transport I/O (callbacks run inside), requests
 * that came meanwhile, timers, flush. Returns transport events or < 0. */
int hive__srv_round(hive_server *s, int wait_ms)
{
    s->ep.now = hive__now_ms();
    run_requests(s);
    int n = s->ep.tr->vt->service(s->ep.tr, wait_ms);
    s->ep.now = hive__now_ms();
    int r = run_requests(s);
    tick(s);
    if (r) s->ep.tr->vt->flush(s->ep.tr);
    return n;
}

/* Closes every connection with `reason`, gives the close packets up to
 * linger_ms to leave, then drops what is left. I/O thread. */
void hive__srv_close_all(hive_server *s, int reason)
{
    s->stopping = true;
    s->ep.now = hive__now_ms();
    hive__conn *next;
    for (hive__conn *c = s->conns; c; c = next) {
        next = c->next;
        hive__srv_close_conn(s, c, reason, hive_close_reason_text(reason), false, CLOSE_FRAME, false);
    }
    s->ep.tr->vt->flush(s->ep.tr);
    uint64_t end = hive__now_ms() + s->tm.linger_ms;
    while (s->conns && hive__now_ms() < end) {
        s->ep.now = hive__now_ms();
        s->ep.tr->vt->service(s->ep.tr, 5);
    }
    while (s->conns) {
        hive__conn *c = s->conns;
        if (c->link) s->ep.tr->vt->abort(s->ep.tr, c->link);
        c->link = NULL;
        conn_free(s, c);
    }
    s->stopping = false;
}
