/*
 * client.c - hive_client: dials a server through a transport, says hello,
 * installs the packet table from the welcome, then lives and dies by the
 * same state machine as a server connection (conn.c), publishing it all.
 *
 * The client has one connection at a time. Its life in states:
 *   IDLE -connect-> CONNECTING -link up-> HANDSHAKING -welcome-> OPEN
 *        -close (either side)-> CLOSING -link gone-> CLOSED (-stop-> IDLE)
 * client.close is published on entering CLOSING, client.stop on CLOSED.
 */
#include "net/tls.h"
#include "net/client_internal.h"

#include <string.h>

static int intern_events(hive_client *c)
{
    struct { hive_event_id *id; const char *name; } t[] = {
        { &c->ev.initialize, HIVE_EV_CLIENT_INITIALIZE },
        { &c->ev.connect, HIVE_EV_CLIENT_CONNECT },
        { &c->ev.start, HIVE_EV_CLIENT_START },
        { &c->ev.stop, HIVE_EV_CLIENT_STOP },
        { &c->ev.interrupt, HIVE_EV_CLIENT_INTERRUPT },
        { &c->ev.handshake, HIVE_EV_CLIENT_HANDSHAKE },
        { &c->ev.send, HIVE_EV_CLIENT_SEND },
        { &c->ev.recv, HIVE_EV_CLIENT_RECV },
        { &c->ev.close, HIVE_EV_CLIENT_CLOSE },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        hive_event_id id = hive_bus_intern(c->ep.bus, t[i].name);
        if (id <= 0) return id < 0 ? id : HIVE_ENOMEM;
        *t[i].id = id;
    }
    return HIVE_OK;
}

static void emit_simple(hive_client *c, hive_event_id id)
{
    hive_field f[] = { HIVE_PTR("client", c) };
    hive__ep_emit(&c->ep, id, f, 1);
}

void hive__cli_set_state(hive_client *c, hive_client_state st)
{
    pthread_mutex_lock(&c->ep.lock);
    __atomic_store_n(&c->state, (int)st, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&c->ep.cond);
    pthread_mutex_unlock(&c->ep.lock);
}

static void conn_state(hive__conn *k, hive__cstate st, uint64_t now)
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
    conn_state(k, HIVE__C_CLOSING, c->ep.now);
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
    conn_state(k, HIVE__C_AWAIT_WELCOME, c->ep.now);
    hive__cli_set_state(c, HIVE_CLIENT_HANDSHAKING);
    emit_simple(c, c->ev.start);
    if (rc == 0) rc = hive__ep_send_msg(&c->ep, k, HIVE__PID_HELLO, &m);
    hive_msg_free(&m);
    if (rc != 0) hive__cli_close(c, HIVE_CLOSE_NO_MEMORY, NULL, false, false, false);
}

static void refresh_wants(hive_client *c)
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
    refresh_wants(c);

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
    conn_state(k, HIVE__C_OPEN, c->ep.now);
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
    bool decode = !c->ep.threaded && (hive_bus_wants(c->ep.bus, c->ev.recv) || c->any_pe_wanted);
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
static void close_and_linger(hive_client *c)
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

static void take_interrupt(hive_client *c)
{
    emit_simple(c, c->ev.interrupt);
    hive__ep_wake_all(&c->ep, false);
}

static void *io_main(void *arg)
{
    hive_client *c = arg;
    pthread_mutex_lock(&c->ep.lock);     /* see everything connect() wrote */
    pthread_mutex_unlock(&c->ep.lock);
    while (c->conn && !__atomic_load_n(&c->thread_quit, __ATOMIC_ACQUIRE)) {
        if (__atomic_exchange_n(&c->ep.interrupt, 0, __ATOMIC_ACQ_REL)) take_interrupt(c);
        refresh_wants(c);
        if (hive__cli_round(c, HIVE__THREAD_WAIT_MS) < 0) break;
    }
    close_and_linger(c);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Public life cycle                                                    */
/* ------------------------------------------------------------------ */

hive_client *hive_client_create(const hive_client_config *cfg, hive_bus *bus)
{
    static const hive_client_config defaults;
    if (!bus) return NULL;
    if (!cfg) cfg = &defaults;
    hive_client_config k = *cfg;
    if (!k.connect_timeout_ms) k.connect_timeout_ms = 5000;
    if (!k.handshake_timeout_ms) k.handshake_timeout_ms = 5000;
    if (!k.heartbeat_timeout_ms) k.heartbeat_timeout_ms = 10000;
    if (!k.heartbeat_ms) k.heartbeat_ms = k.heartbeat_timeout_ms / 3 < 1000 ? k.heartbeat_timeout_ms / 3 : 1000;
    if (!k.heartbeat_ms) k.heartbeat_ms = 1;
    if (k.heartbeat_ms >= k.heartbeat_timeout_ms) return NULL;
    if (!k.max_frame) k.max_frame = HIVE__MAX_FRAME_DEFAULT;
    if (k.max_frame < HIVE__MAX_FRAME_MIN) return NULL;
    if (k.token_len > HIVE__TOKEN_MAX || (k.token_len && !k.token)) return NULL;

    hive_client *c = hive__calloc(1, sizeof *c);
    if (!c) return NULL;
    if (hive__ep_init(&c->ep, bus, c, "client", k.threaded, k.pull, k.pull_capacity) < 0) {
        hive__free(c);
        return NULL;
    }
    c->cfg = k;
    /* The TLS paths are read when the transport starts: keep copies. */
    if (hive__tls_config_dup(&c->cfg.tls, &k.tls) < 0) goto fail;
    c->app = hive__strdup(k.app ? k.app : "hive");
    c->app_version = hive__strdup(k.app_version ? k.app_version : "0");
    c->conntype = hive__strdup(k.conntype ? k.conntype : "player");
    if (k.token) {
        c->token = hive__malloc(k.token_len);
        if (c->token) memcpy(c->token, k.token, k.token_len);
    }
    if (!c->app || !c->app_version || !c->conntype || (k.token && !c->token)) goto fail;
    if (strlen(c->app) > HIVE__HELLO_STR_MAX || strlen(c->app_version) > HIVE__HELLO_STR_MAX ||
        strlen(c->conntype) > HIVE__HELLO_STR_MAX)
        goto fail;
    if (intern_events(c) < 0) goto fail;
    c->cfg.app = c->app;
    c->cfg.app_version = c->app_version;
    c->cfg.conntype = c->conntype;
    c->cfg.token = c->token;
    c->close_reason = -1;
    emit_simple(c, c->ev.initialize);
    return c;
fail:
    hive__tls_config_free(&c->cfg.tls);
    hive__free(c->app);
    hive__free(c->app_version);
    hive__free(c->conntype);
    hive__free(c->token);
    hive__ep_fini(&c->ep);
    hive__free(c);
    return NULL;
}

/* Joins a finished I/O thread and drops the transport. Owner thread. */
static void reap(hive_client *c)
{
    if (c->thread_on) {
        __atomic_store_n(&c->thread_quit, 1, __ATOMIC_RELEASE);
        if (c->ep.tr) c->ep.tr->vt->wake(c->ep.tr);
        pthread_join(c->thread, NULL);
        c->thread_on = false;
    }
    pthread_mutex_lock(&c->ep.lock);
    hive__transport *tr = c->ep.tr;
    __atomic_store_n(&c->ep.tr, NULL, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&c->ep.lock);
    if (tr) tr->vt->destroy(tr);
}

int hive_client_connect(hive_client *c, const char *addr)
{
    if (!c || !addr) return HIVE_EINVAL;
    int st = __atomic_load_n(&c->state, __ATOMIC_ACQUIRE);
    if ((st != HIVE_CLIENT_IDLE && st != HIVE_CLIENT_CLOSED) || c->in_service) return HIVE_ESTATE;
    reap(c);
    hive__addr a;
    int rc = hive__addr_parse(addr, HIVE_DEFAULT_PORT, &a);
    if (rc < 0) return rc;
    hive__transport_cb cb = {
        .core = c,
        .accepted = cli_accepted,
        .connected = cli_connected,
        .data = cli_data,
        .disconnected = cli_disconnected,
    };
    hive__transport_opts o = {
        .max_links = 1,
        .timeout_ms = c->cfg.heartbeat_timeout_ms + c->cfg.heartbeat_ms,
        .max_frame = c->cfg.max_frame,
        .coalesce_off = c->cfg.no_coalesce,
        .tls = &c->cfg.tls,
    };
    hive__transport *tr;
    rc = hive__transport_create(&a, &cb, &o, &tr);
    if (rc < 0) return rc;
    hive__conn *k = hive__calloc(1, sizeof *k);
    if (!k) {
        tr->vt->destroy(tr);
        return HIVE_ENOMEM;
    }
    hive__link *link;
    rc = tr->vt->connect(tr, &a, &link);
    if (rc < 0) {
        hive__free(k);
        tr->vt->destroy(tr);
        return rc;
    }
    uint64_t now = hive__now_ms();
    k->link = link;
    k->peer_max_frame = HIVE__MAX_FRAME_MIN;
    k->last_rx = k->last_tx = now;
    conn_state(k, HIVE__C_DIALING, now);
    link->conn = k;
    c->conn = k;
    c->tm = (hive__timing){
        .connect_ms = c->cfg.connect_timeout_ms,
        .handshake_ms = c->cfg.handshake_timeout_ms,
        .heartbeat_ms = c->cfg.heartbeat_ms,
        .heartbeat_timeout_ms = c->cfg.heartbeat_timeout_ms,
        .linger_ms = 200,
    };
    c->ep.stream = tr->vt->stream;
    c->ep.now = c->last_tick = now;
    hive__addr_format(&a, c->addr, sizeof c->addr);
    pthread_mutex_lock(&c->ep.lock);
    __atomic_store_n(&c->ep.tr, tr, __ATOMIC_RELEASE);
    c->ep.closed = false;
    pthread_mutex_unlock(&c->ep.lock);
    __atomic_store_n(&c->cid, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&c->close_reason, -1, __ATOMIC_RELEASE);
    __atomic_store_n(&c->ep.interrupt, 0, __ATOMIC_RELEASE);
    c->stop_owed = true;
    hive__cli_set_state(c, HIVE_CLIENT_CONNECTING);
    hive_field f[] = { HIVE_PTR("client", c), HIVE_STR("addr", c->addr) };
    hive__ep_emit(&c->ep, c->ev.connect, f, 2);

    if (c->ep.threaded) {
        __atomic_store_n(&c->thread_quit, 0, __ATOMIC_RELEASE);
        pthread_mutex_lock(&c->ep.lock);
        rc = pthread_create(&c->thread, NULL, io_main, c);
        if (rc == 0) hive__ep_set_io_thread(&c->ep, c->thread);
        pthread_mutex_unlock(&c->ep.lock);
        if (rc != 0) {
            /* No thread: end the attempt here, events and all. */
            hive__ep_set_io_thread(&c->ep, pthread_self());
            c->ep.now = hive__now_ms();
            hive__cli_close(c, HIVE_CLOSE_NO_MEMORY, NULL, false, false, true);
            return HIVE_ENOMEM;
        }
        c->thread_on = true;
    } else {
        hive__ep_set_io_thread(&c->ep, pthread_self());
    }
    return HIVE_OK;
}

void hive__cli_do_stop(hive_client *c)
{
    /* Closing publishes events; a handler that asks for a stop (or a
     * connect) meanwhile must not start a second one inside this one. */
    c->in_service++;
    if (c->thread_on) {
        reap(c);        /* the thread closes, lingers and finishes */
    } else {
        close_and_linger(c);
        reap(c);
    }
    hive__cli_set_state(c, HIVE_CLIENT_IDLE);
    if (c->stop_owed) {   /* connect happened but nothing finished it */
        c->stop_owed = false;
        int reason = __atomic_load_n(&c->close_reason, __ATOMIC_ACQUIRE);
        hive_field f[] = {
            HIVE_PTR("client", c),
            HIVE_INT("reason", reason),
            HIVE_STR("reason_name", hive_close_reason_name(reason)),
        };
        hive__ep_emit(&c->ep, c->ev.stop, f, 3);
    }
    hive__ep_wake_all(&c->ep, true);
    c->in_service--;
    c->stop_pending = false;
}

int hive_client_stop(hive_client *c)
{
    if (!c) return HIVE_EINVAL;
    if (c->in_service) {
        c->stop_pending = true;
        return HIVE_OK;
    }
    hive__cli_do_stop(c);
    return HIVE_OK;
}

int hive_client_service(hive_client *c, int timeout_ms)
{
    if (!c) return HIVE_EINVAL;
    if (c->ep.threaded || !c->conn || !c->ep.tr || c->stop_pending) return HIVE_ESTATE;
    c->in_service++;
    refresh_wants(c);
    uint64_t end = hive__now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    int total = 0, rc = 0;
    for (;;) {
        if (__atomic_exchange_n(&c->ep.interrupt, 0, __ATOMIC_ACQ_REL)) {
            take_interrupt(c);
            rc = HIVE_ECLOSED;
            break;
        }
        uint64_t now = hive__now_ms();
        int slice = now >= end ? 0 : (int)(end - now);
        if (slice > HIVE__SLICE_MS) slice = HIVE__SLICE_MS;
        int n = hive__cli_round(c, slice);
        if (n < 0) { rc = n; break; }
        total += n;
        if (total > 0 || !c->conn || c->stop_pending || hive__now_ms() >= end) break;
    }
    c->in_service--;
    if (c->stop_pending && !c->in_service) hive__cli_do_stop(c);
    return rc < 0 ? rc : total;
}

void hive_client_interrupt(hive_client *c)
{
    if (!c) return;
    __atomic_store_n(&c->ep.interrupt, 1, __ATOMIC_RELEASE);
    /* No lock: async-signal-safe. Without a transport there is no loop
     * to interrupt. */
    hive__transport *tr = __atomic_load_n(&c->ep.tr, __ATOMIC_ACQUIRE);
    if (tr) tr->vt->wake(tr);
}

void hive_client_destroy(hive_client *c)
{
    if (!c) return;
    hive__cli_do_stop(c);
    hive__ptable_free(c->pt);
    hive__tls_config_free(&c->cfg.tls);
    hive__free(c->app);
    hive__free(c->app_version);
    hive__free(c->conntype);
    hive__free(c->token);
    hive__ep_fini(&c->ep);
    hive__free(c);
}
