/*
 * server.c - hive_server: accepts links from a transport, runs each
 * connection's handshake and life through the state machine of conn.c,
 * and publishes all of it on the bus.
 *
 * Threads: every function marked "I/O thread" below runs on the thread
 * that services (the caller's in default mode, Hive's own when threaded).
 * Other threads only touch what ep.lock guards (connection table, request
 * and pull queues) and the __atomic fields.
 */
#include "net/tls.h"
#include "net/server_internal.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Events                                                               */
/* ------------------------------------------------------------------ */

static int intern_events(hive_server *s)
{
    struct { hive_event_id *id; const char *name; } t[] = {
        { &s->ev.initialize, HIVE_EV_SERVER_INITIALIZE },
        { &s->ev.bind, HIVE_EV_SERVER_BIND },
        { &s->ev.start, HIVE_EV_SERVER_START },
        { &s->ev.stop, HIVE_EV_SERVER_STOP },
        { &s->ev.interrupt, HIVE_EV_SERVER_INTERRUPT },
        { &s->ev.shutdown, HIVE_EV_SERVER_SHUTDOWN },
        { &s->ev.accept, HIVE_EV_SERVER_ACCEPT },
        { &s->ev.handshake, HIVE_EV_SERVER_HANDSHAKE },
        { &s->ev.send, HIVE_EV_SERVER_SEND },
        { &s->ev.recv, HIVE_EV_SERVER_RECV },
        { &s->ev.close, HIVE_EV_SERVER_CLOSE },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        hive_event_id id = hive_bus_intern(s->ep.bus, t[i].name);
        if (id <= 0) return id < 0 ? id : HIVE_ENOMEM;
        *t[i].id = id;
    }
    return HIVE_OK;
}

static void emit_simple(hive_server *s, hive_event_id id)
{
    hive_field f[] = { HIVE_PTR("server", s) };
    hive__ep_emit(&s->ep, id, f, 1);
}

static void emit_reason(hive_server *s, hive_event_id id, int reason)
{
    hive_field f[] = {
        HIVE_PTR("server", s),
        HIVE_INT("reason", reason),
        HIVE_STR("reason_name", hive_close_reason_name(reason)),
    };
    hive__ep_emit(&s->ep, id, f, 3);
}

/* ------------------------------------------------------------------ */
/* Connections                                                          */
/* ------------------------------------------------------------------ */

static int get_st(const hive_server *s) { return __atomic_load_n(&s->st, __ATOMIC_ACQUIRE); }
static void set_st(hive_server *s, int st) { __atomic_store_n(&s->st, st, __ATOMIC_RELEASE); }

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

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
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
    int rc = hive__welcome_pack(&m, c->cid, mix64(s->session_seed ^ c->cid), s->tm.heartbeat_ms,
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
    bool decode = !s->ep.threaded &&
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
    int n = 0;
    bool want = hive_bus_wants(s->ep.bus, s->ev.send);
    for (hive__conn *c = s->conns; c; c = c->next) {
        if (c->cid == except || c->state != HIVE__C_OPEN) continue;
        if (hive__ep_send_frame(&s->ep, c, pe->pid, body, len, reliable) != HIVE_OK) continue;
        n++;
        if (want) emit_send(s, c, pe, len);
    }
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

static void take_interrupt(hive_server *s)
{
    emit_simple(s, s->ev.interrupt);
    hive__ep_wake_all(&s->ep, false);
}

static void *io_main(void *arg)
{
    hive_server *s = arg;
    /* Pairs with the creator's unlock after pthread_create: everything it
     * wrote before is visible here. */
    pthread_mutex_lock(&s->ep.lock);
    pthread_mutex_unlock(&s->ep.lock);
    while (!__atomic_load_n(&s->thread_quit, __ATOMIC_ACQUIRE)) {
        if (__atomic_exchange_n(&s->ep.interrupt, 0, __ATOMIC_ACQ_REL)) take_interrupt(s);
        if (hive__srv_round(s, HIVE__THREAD_WAIT_MS) < 0) break;
    }
    hive__srv_close_all(s, HIVE_CLOSE_SERVER_SHUTDOWN);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Public API                                                           */
/* ------------------------------------------------------------------ */

hive_server *hive_server_create(const hive_server_config *cfg, hive_bus *bus)
{
    static const hive_server_config defaults;
    if (!bus) return NULL;
    if (!cfg) cfg = &defaults;
    hive_server_config c = *cfg;
    if (!c.max_connections) c.max_connections = 64;
    if (c.max_connections > HIVE__MAX_CONNECTIONS) return NULL;
    if (!c.max_frame) c.max_frame = HIVE__MAX_FRAME_DEFAULT;
    if (c.max_frame < HIVE__MAX_FRAME_MIN) return NULL;
    if (!c.handshake_timeout_ms) c.handshake_timeout_ms = 5000;
    if (!c.heartbeat_timeout_ms) c.heartbeat_timeout_ms = 10000;
    if (!c.heartbeat_ms) c.heartbeat_ms = c.heartbeat_timeout_ms / 3 < 1000 ? c.heartbeat_timeout_ms / 3 : 1000;
    if (!c.heartbeat_ms) c.heartbeat_ms = 1;
    if (c.heartbeat_ms >= c.heartbeat_timeout_ms) return NULL;
    if (!c.close_linger_ms) c.close_linger_ms = 200;

    hive_server *s = hive__calloc(1, sizeof *s);
    if (!s) return NULL;
    if (hive__ep_init(&s->ep, bus, s, "server", c.threaded, c.pull, c.pull_capacity) < 0) {
        hive__free(s);
        return NULL;
    }
    s->cfg = c;
    /* The TLS paths are read when the transport starts: keep copies. */
    if (hive__tls_config_dup(&s->cfg.tls, &c.tls) < 0) goto fail;
    s->addr = hive__strdup(c.addr ? c.addr : "enet://0.0.0.0:7777");
    s->app = hive__strdup(c.app ? c.app : "hive");
    s->app_version = hive__strdup(c.app_version ? c.app_version : "0");
    s->reg = hive_registry_create();
    if (!s->addr || !s->app || !s->app_version || !s->reg) goto fail;
    if (strlen(s->app) > HIVE__HELLO_STR_MAX || strlen(s->app_version) > HIVE__HELLO_STR_MAX) goto fail;
    if (intern_events(s) < 0) goto fail;
    s->cfg.addr = s->addr;
    s->cfg.app = s->app;
    s->cfg.app_version = s->app_version;
    s->tm = (hive__timing){
        .handshake_ms = c.handshake_timeout_ms,
        .heartbeat_ms = c.heartbeat_ms,
        .heartbeat_timeout_ms = c.heartbeat_timeout_ms,
        .linger_ms = c.close_linger_ms,
    };
    s->next_cid = 1;
    s->session_seed = mix64(hive_now_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)s);
    emit_simple(s, s->ev.initialize);
    return s;
fail:
    hive__tls_config_free(&s->cfg.tls);
    hive_registry_destroy(s->reg);
    hive__free(s->addr);
    hive__free(s->app);
    hive__free(s->app_version);
    hive__ep_fini(&s->ep);
    hive__free(s);
    return NULL;
}

int hive_server_register(hive_server *s, const char *name, uint32_t id, hive_delivery d)
{
    if (!s || !name) return HIVE_EINVAL;
    if (d != HIVE_RELIABLE && d != HIVE_UNRELIABLE) return HIVE_EINVAL;
    if (s->started_once || get_st(s) == HIVE__S_SHUT) return HIVE_ESTATE;
    char ev[HIVE_NAME_MAX + 32];
    int n = snprintf(ev, sizeof ev, "%s%s", HIVE_EV_SERVER_RECV_PREFIX, name);
    int rc = hive_registry_add(s->reg, name, id);
    if (rc < 0) return rc;
    if (d == HIVE_UNRELIABLE) hive_registry_set_delivery(s->reg, (uint32_t)rc, d);
    if (n > 0 && (size_t)n < HIVE_NAME_MAX && hive_bus_intern(s->ep.bus, ev) == HIVE_ENOMEM)
        return HIVE_ENOMEM;   /* the type stays registered; start interns again */
    return rc;
}

const hive_registry *hive_server_registry(const hive_server *s) { return s ? s->reg : NULL; }

int hive_server_packet_id(const hive_server *s, const char *name)
{
    return s ? hive_registry_id(s->reg, name) : HIVE_EINVAL;
}

const char *hive_server_packet_name(const hive_server *s, uint32_t pid)
{
    return s ? hive_registry_name(s->reg, pid) : NULL;
}

int hive_server_bind(hive_server *s, const char *addr)
{
    if (!s) return HIVE_EINVAL;
    if (get_st(s) != HIVE__S_CREATED) return HIVE_ESTATE;
    hive__addr a;
    int rc = hive__addr_parse(addr ? addr : s->addr, HIVE_DEFAULT_PORT, &a);
    if (rc < 0) return rc;
    hive__transport_cb cb = {
        .core = s,
        .accepted = srv_accepted,
        .data = srv_data,
        .disconnected = srv_disconnected,
    };
    uint32_t extra = s->cfg.max_connections / 4 > 8 ? s->cfg.max_connections / 4 : 8;
    hive__transport_opts o = {
        .max_links = s->cfg.max_connections + extra,
        .timeout_ms = s->tm.heartbeat_timeout_ms + s->tm.heartbeat_ms,
        .max_frame = s->cfg.max_frame,
        .coalesce_off = s->cfg.no_coalesce,
        .tls = &s->cfg.tls,
    };
    hive__transport *tr;
    rc = hive__transport_create(&a, &cb, &o, &tr);
    if (rc < 0) return rc;
    rc = tr->vt->listen(tr, &a);
    if (rc < 0) {
        tr->vt->destroy(tr);
        return rc;
    }
    pthread_mutex_lock(&s->ep.lock);
    __atomic_store_n(&s->ep.tr, tr, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&s->ep.lock);
    s->ep.stream = tr->vt->stream;
    a.port = tr->vt->bound_port(tr);
    __atomic_store_n(&s->port, a.port, __ATOMIC_RELEASE);
    hive__addr_format(&a, s->bound, sizeof s->bound);
    set_st(s, HIVE__S_BOUND);
    hive_field f[] = { HIVE_PTR("server", s), HIVE_STR("addr", s->bound), HIVE_INT("port", a.port) };
    hive__ep_emit(&s->ep, s->ev.bind, f, 3);
    return HIVE_OK;
}

uint16_t hive_server_port(const hive_server *s)
{
    return s ? __atomic_load_n(&s->port, __ATOMIC_ACQUIRE) : 0;
}

int hive_server_start(hive_server *s)
{
    if (!s) return HIVE_EINVAL;
    int st = get_st(s);
    if (st == HIVE__S_CREATED) {
        int rc = hive_server_bind(s, NULL);
        if (rc < 0) return rc;
    } else if (st != HIVE__S_BOUND) {
        return HIVE_ESTATE;
    }
    if (!s->pt) {
        int rc = hive__ptable_build(&s->pt, s->reg, false, s->ep.bus, HIVE_EV_SERVER_RECV_PREFIX);
        if (rc < 0) return rc;
        for (size_t i = 0; i < s->pt->n; i++)
            if (s->pt->e[i].ev > 0) s->any_pe_ids = true;
    }
    s->started_once = true;
    pthread_mutex_lock(&s->ep.lock);
    s->ep.closed = false;
    pthread_mutex_unlock(&s->ep.lock);
    __atomic_store_n(&s->ep.interrupt, 0, __ATOMIC_RELAXED);
    s->last_tick = s->ep.now = hive__now_ms();
    hive__srv_refresh_wants(s);
    if (s->ep.threaded) {
        __atomic_store_n(&s->thread_quit, 0, __ATOMIC_RELEASE);
        set_st(s, HIVE__S_RUNNING);
        emit_simple(s, s->ev.start);
        pthread_mutex_lock(&s->ep.lock);
        int rc = pthread_create(&s->thread, NULL, io_main, s);
        if (rc == 0) hive__ep_set_io_thread(&s->ep, s->thread);
        pthread_mutex_unlock(&s->ep.lock);
        if (rc != 0) {
            set_st(s, HIVE__S_BOUND);
            return HIVE_ENOMEM;
        }
        s->thread_on = true;
        return HIVE_OK;
    }
    hive__ep_set_io_thread(&s->ep, pthread_self());
    set_st(s, HIVE__S_RUNNING);
    emit_simple(s, s->ev.start);
    return HIVE_OK;
}

/* Whether any per-packet recv event has a listener decides whether user
 * bodies get decoded. Subscriptions can change at any time, so this is
 * refreshed every service call (a few loads per packet type). */
void hive__srv_refresh_wants(hive_server *s)
{
    bool any = false;
    if (s->any_pe_ids && s->pt)
        for (size_t i = 0; i < s->pt->n && !any; i++)
            any = s->pt->e[i].ev > 0 && hive_bus_wants(s->ep.bus, s->pt->e[i].ev);
    s->any_pe_wanted = any;
}

void hive__srv_do_stop(hive_server *s)
{
    /* Closing everything publishes close events; a handler asking for a
     * stop meanwhile must not start a second one inside this one. */
    s->in_service++;
    if (s->thread_on) {
        __atomic_store_n(&s->thread_quit, 1, __ATOMIC_RELEASE);
        s->ep.tr->vt->wake(s->ep.tr);
        pthread_join(s->thread, NULL);
        s->thread_on = false;
    } else {
        hive__srv_close_all(s, HIVE_CLOSE_SERVER_SHUTDOWN);
    }
    set_st(s, HIVE__S_BOUND);
    emit_reason(s, s->ev.stop, HIVE_CLOSE_SERVER_SHUTDOWN);
    hive__ep_wake_all(&s->ep, true);
    s->in_service--;
    s->stop_pending = false;
}

int hive_server_service(hive_server *s, int timeout_ms)
{
    if (!s) return HIVE_EINVAL;
    if (s->ep.threaded || get_st(s) != HIVE__S_RUNNING || s->stop_pending) return HIVE_ESTATE;
    s->in_service++;
    hive__srv_refresh_wants(s);
    uint64_t end = hive__now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    int total = 0, rc = 0;
    for (;;) {
        if (__atomic_exchange_n(&s->ep.interrupt, 0, __ATOMIC_ACQ_REL)) {
            take_interrupt(s);
            rc = HIVE_ECLOSED;
            break;
        }
        uint64_t now = hive__now_ms();
        int slice = now >= end ? 0 : (int)(end - now);
        if (slice > HIVE__SLICE_MS) slice = HIVE__SLICE_MS;
        int n = hive__srv_round(s, slice);
        if (n < 0) { rc = n; break; }
        total += n;
        if (total > 0 || s->stop_pending || hive__now_ms() >= end) break;
    }
    s->in_service--;
    if (s->stop_pending && !s->in_service) hive__srv_do_stop(s);
    return rc < 0 ? rc : total;
}

int hive_server_run(hive_server *s)
{
    if (!s) return HIVE_EINVAL;
    if (s->ep.threaded) return HIVE_ESTATE;
    while (get_st(s) == HIVE__S_RUNNING) {
        int rc = hive_server_service(s, 1000);
        if (rc == HIVE_ECLOSED) return HIVE_OK;
        if (rc < 0 && get_st(s) == HIVE__S_RUNNING) return rc;
    }
    return HIVE_OK;
}

void hive_server_interrupt(hive_server *s)
{
    if (!s) return;
    __atomic_store_n(&s->ep.interrupt, 1, __ATOMIC_RELEASE);
    /* No lock here: this must stay async-signal-safe. The transport lives
     * from bind to shutdown, and interrupting outside that is pointless. */
    hive__transport *tr = __atomic_load_n(&s->ep.tr, __ATOMIC_ACQUIRE);
    if (tr) tr->vt->wake(tr);
}

int hive_server_stop(hive_server *s)
{
    if (!s) return HIVE_EINVAL;
    if (get_st(s) != HIVE__S_RUNNING) return HIVE_ESTATE;
    if (s->in_service) {            /* from a handler: finish the round first */
        s->stop_pending = true;
        return HIVE_OK;
    }
    hive__srv_do_stop(s);
    return HIVE_OK;
}

int hive_server_shutdown(hive_server *s)
{
    if (!s) return HIVE_EINVAL;
    if (get_st(s) == HIVE__S_SHUT) return HIVE_ESTATE;
    if (s->in_service) return HIVE_ESTATE;   /* not from a handler */
    if (get_st(s) == HIVE__S_RUNNING) hive__srv_do_stop(s);
    pthread_mutex_lock(&s->ep.lock);
    hive__transport *tr = s->ep.tr;
    __atomic_store_n(&s->ep.tr, NULL, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&s->ep.lock);
    if (tr) tr->vt->destroy(tr);
    __atomic_store_n(&s->port, 0, __ATOMIC_RELEASE);
    set_st(s, HIVE__S_SHUT);
    emit_reason(s, s->ev.shutdown, HIVE_CLOSE_SERVER_SHUTDOWN);
    hive__ep_wake_all(&s->ep, true);
    return HIVE_OK;
}

void hive_server_destroy(hive_server *s)
{
    if (!s) return;
    if (get_st(s) != HIVE__S_SHUT) hive_server_shutdown(s);
    hive__ptable_free(s->pt);
    hive_registry_destroy(s->reg);
    hive__cidmap_free(&s->map);
    hive__tls_config_free(&s->cfg.tls);
    hive__free(s->addr);
    hive__free(s->app);
    hive__free(s->app_version);
    hive__ep_fini(&s->ep);
    hive__free(s);
}
