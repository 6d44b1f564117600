/*
 * server_conn.c - the server's face of the endpoint core: what only a
 * server does with its connections. It numbers and indexes each accepted
 * link, admits or rejects a hello (app, capacity, the auth hook), sends
 * the welcome with the registry it owns, and completes the handshake on
 * ready. Everything both sides do is in net/core/endpoint.c.
 */
#include "events/internal.h"
#include "net/server/server_internal.h"

#include <string.h>

static hive_server *srv(hive__ep *ep) { return (hive_server *)ep->self; }

/* ep->lock held. */
static int srv_accepted(hive__ep *ep, hive__conn *c)
{
    hive_server *s = srv(ep);
    c->cid = s->next_cid++;
    return hive__cidmap_put(&s->map, c->cid, c);
}

/* ep->lock held. */
static void srv_forget(hive__ep *ep, hive__conn *c)
{
    hive_server *s = srv(ep);
    hive__cidmap_del(&s->map, c->cid);
    if (c->admitted) s->nadmitted--;
    c->admitted = false;
}

static bool srv_closing(hive__ep *ep, hive__conn *c, int reason)
{
    (void)reason;
    hive_server *s = srv(ep);
    if (c->admitted) {
        c->admitted = false;
        s->nadmitted--;
    }
    return false;   /* a server's session ends with its link (no resume yet) */
}

static void reject(hive_server *s, hive__conn *c, int reason, const char *message)
{
    hive__ep_close(&s->ep, c, reason, message, false, HIVE__REJECT_FRAME, false);
}

/* A hello arrived: welcome or reject it. */
static void on_hello(hive_server *s, hive__conn *c, hive__act *act)
{
    const hive__hello_msg *h = &act->u.hello;
    int reason = act->reason;
    if (!reason && strcmp(h->app, s->cfg.app) != 0) reason = HIVE_CLOSE_APP_MISMATCH;
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
        reject(s, c, reason, hive_close_reason_text(reason));
        return;
    }
    char *ct = hive__strdup(h->conntype), *av = hive__strdup(h->app_version);
    if (!ct || !av) {
        hive__free(ct);
        hive__free(av);
        reject(s, c, HIVE_CLOSE_NO_MEMORY, NULL);
        return;
    }
    pthread_mutex_lock(&s->ep.lock);
    c->conntype = ct;
    c->app_version = av;
    c->peer_max_frame = h->max_frame;
    pthread_mutex_unlock(&s->ep.lock);

    hive_msg m;
    hive_msg_init(&m);
    int rc = hive__welcome_pack(&m, c->cid, hive__mix64(s->session_seed ^ c->cid), s->ep.tm.heartbeat_ms,
                                s->ep.tm.heartbeat_timeout_ms, s->cfg.max_frame, s->cfg.app_version, s->reg);
    if (rc == 0) rc = hive__ep_send_msg(&s->ep, c, HIVE__PID_WELCOME, &m);
    hive_msg_free(&m);
    if (rc != 0) {
        reject(s, c, rc == HIVE_ETOOBIG ? HIVE_CLOSE_FRAME_TOO_LARGE : HIVE_CLOSE_NO_MEMORY, NULL);
        return;
    }
    c->admitted = true;
    s->nadmitted++;
    hive__ep_conn_state(c, HIVE__C_AWAIT_READY, s->ep.now);
}

/* ready: the handshake is complete. */
static void on_ready(hive_server *s, hive__conn *c)
{
    hive__ep_conn_state(c, HIVE__C_OPEN, s->ep.now);
    /* TLS transports: the verified client certificate's subject. */
    hive__transport *tr = s->ep.tr;
    const char *subject = c->link && tr->vt->peer_subject ? tr->vt->peer_subject(tr, c->link) : NULL;
    hive_field fl[] = {
        HIVE_PTR("server", s),
        HIVE_INT("cid", c->cid),
        HIVE_STR("conntype", c->conntype),
        HIVE_STR("app_version", c->app_version),
        HIVE_STR("peer_subject", subject ? subject : ""),
    };
    hive__ep_emit(&s->ep, s->ep.ev[HIVE__EV_HANDSHAKE], fl, subject ? 5 : 4);
}

static void srv_handshake(hive__ep *ep, hive__conn *c, hive__act *act)
{
    hive_server *s = srv(ep);
    if (act->kind == HIVE__ACT_HELLO) {
        on_hello(s, c, act);
    } else if (act->kind == HIVE__ACT_READY) {
        on_ready(s, c);
    } else {   /* a welcome never reaches a server connection (conn.c) */
        if (act->kind == HIVE__ACT_WELCOME) hive_registry_destroy(act->u.welcome.registry);
        hive__ep_close(ep, c, HIVE_CLOSE_UNEXPECTED_PACKET, NULL, false, HIVE__CLOSE_FRAME, false);
    }
}

static hive__conn *srv_find(hive__ep *ep, hive_cid cid)
{
    return hive__cidmap_get(&srv(ep)->map, cid);
}

static void srv_do_stop(hive__ep *ep) { hive__srv_do_stop(srv(ep)); }

static int srv_service(hive__ep *ep, int timeout_ms) { return hive_server_service(srv(ep), timeout_ms); }

static bool srv_ended(hive__ep *ep)
{
    return __atomic_load_n(&srv(ep)->st, __ATOMIC_ACQUIRE) != HIVE__S_RUNNING;
}

/* A server accepts many connections and indexes them by cid; its I/O
 * thread ends only when stopped, closing everything as a shutdown. */
const hive__ep_face hive__server_face = {
    .key = "server", .names = hive__server_event_names, .recv_prefix = HIVE_EV_SERVER_RECV_PREFIX,
    .one_conn = false, .final_reason = HIVE_CLOSE_SERVER_SHUTDOWN,
    .setup = hive__srv_setup, .teardown = hive__srv_teardown, .do_stop = srv_do_stop, .service = srv_service,
    .accepted = srv_accepted, .forget = srv_forget, .find = srv_find, .handshake = srv_handshake,
    .closing = srv_closing, .ended = srv_ended,
};
