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
    int rc = hive__hello_pack(&m, c->cfg.app, c->cfg.app_version, c->conntype, c->token,
                              c->cfg.token_len, c->cfg.max_frame);
    hive__ep_conn_state(k, HIVE__C_AWAIT_WELCOME, ep->now);
    hive__cli_set_state(c, HIVE_CLIENT_HANDSHAKING);
    hive__ep_emit_self(ep, HIVE__EV_START);
    if (rc == 0) rc = hive__ep_send_msg(ep, k, HIVE__PID_HELLO, &m);
    hive_msg_free(&m);
    if (rc != 0) hive__ep_close(ep, k, HIVE_CLOSE_NO_MEMORY, NULL, false, HIVE__CLOSE_SILENT, false);
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
    /* The new table replaces the old one whole; other threads look names
     * up under the lock. */
    pthread_mutex_lock(&ep->lock);
    hive__ptable *old = ep->pt;
    ep->pt = pt;
    pthread_mutex_unlock(&ep->lock);
    hive__ptable_free(old);
    ep->any_pe_ids = true;
    hive__ep_refresh_wants(ep);

    k->cid = w->cid;
    k->peer_max_frame = w->max_frame;
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
    else   /* hello and ready never reach a client connection (conn.c) */
        hive__ep_close(ep, k, HIVE_CLOSE_UNEXPECTED_PACKET, NULL, false, HIVE__CLOSE_FRAME, false);
}

static void cli_closing(hive__ep *ep, hive__conn *k, int reason)
{
    hive_client *c = cli(ep);
    __atomic_store_n(&c->close_reason, reason, __ATOMIC_RELEASE);
    hive__cli_set_state(c, HIVE_CLIENT_CLOSING);
}

/* The connection is gone: the client is CLOSED, and client.stop is out. */
static void cli_released(hive__ep *ep)
{
    hive_client *c = cli(ep);
    hive__cli_set_state(c, HIVE_CLIENT_CLOSED);
    hive__cli_emit_stop(c);
    hive__ep_wake_all(ep, true);
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
    return closed || !ep->conns;
}

/* A client dials one connection: its close is the end of the pull
 * queue and of the I/O thread, and stop closes it as "normal". */
const hive__ep_face hive__client_face = {
    .key = "client", .names = hive__client_event_names, .recv_prefix = HIVE_EV_CLIENT_RECV_PREFIX,
    .one_conn = true, .final_reason = HIVE_CLOSE_NORMAL, .connected = cli_connected,
    .handshake = cli_handshake, .closing = cli_closing, .released = cli_released, .find = cli_find,
    .setup = hive__cli_setup, .teardown = hive__cli_teardown, .do_stop = cli_do_stop, .service = cli_service,
    .ended = cli_ended,
};
