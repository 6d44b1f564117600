/*
 * client.c - hive_client's life cycle: create, connect (with or without
 * Hive's own I/O thread), service, interrupt, stop, destroy. What the
 * client does with its connection (hello, welcome) is in client_conn.c,
 * its face of the endpoint core (net/core/); sending, waiting and queries
 * are in client_api.c.
 *
 * The client has one connection at a time. Its life in states:
 *   IDLE -connect-> CONNECTING -link up-> HANDSHAKING -welcome-> OPEN
 *        -close (either side)-> CLOSING -link gone-> CLOSED (-stop-> IDLE)
 * client.close is published on entering CLOSING, client.stop on CLOSED.
 * With reconnect_attempts, a lost link goes instead
 *   OPEN -lost-> RECONNECTING -delay-> CONNECTING -> ... -> OPEN
 * (client_conn.c decides; no close event until the attempts run out).
 */
#include "events/internal.h"
#include "net/transport/tls.h"
#include "net/client/client_internal.h"

#include <string.h>

void hive__cli_set_state(hive_client *c, hive_client_state st)
{
    pthread_mutex_lock(&c->ep.lock);
    __atomic_store_n(&c->state, (int)st, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&c->ep.cond);
    pthread_mutex_unlock(&c->ep.lock);
}

void hive__cli_emit_stop(hive_client *c)
{
    if (!c->stop_owed) return;
    c->stop_owed = false;
    hive__ep_emit_reason(&c->ep, HIVE__EV_STOP, __atomic_load_n(&c->close_reason, __ATOMIC_ACQUIRE));
}

/* ------------------------------------------------------------------ */
/* Public life cycle                                                    */
/* ------------------------------------------------------------------ */

/* The client's face->setup: its defaults and limits (the fields a server
 * has too: hive__ep_config_resolve), then its own copies. */
int hive__cli_setup(hive__ep *ep, const void *cfg)
{
    hive_client *c = (hive_client *)ep;
    hive_client_config k = cfg ? *(const hive_client_config *)cfg : (hive_client_config){ 0 };
    /* Threaded remote subscriptions: what the I/O thread posts to the
     * game thread (client_remote.c). Interned now: both threads read them. */
    c->rm_ev_pkt = hive_bus_intern(ep->bus, "net:client.remote.packet");
    c->rm_ev_open = hive_bus_intern(ep->bus, "net:client.remote.session");
    if (c->rm_ev_pkt <= 0 || c->rm_ev_open <= 0) return HIVE_ENOMEM;
    if (!k.conntype) k.conntype = HIVE_DEFAULT_CONNTYPE;
    if (!k.connect_timeout_ms) k.connect_timeout_ms = HIVE_DEFAULT_CONNECT_TIMEOUT_MS;
    int rc = HIVE__EP_CONFIG_RESOLVE("hive_client_config", k);
    if (rc < 0) return rc;
    ep->drain_ms = k.drain_timeout_ms > 0 ? (uint32_t)k.drain_timeout_ms : 0;
    ep->zmin = k.compress_threshold > 0 ? (size_t)k.compress_threshold : 0;
    if (strlen(k.conntype) > HIVE_HELLO_STR_MAX)
        return hive__create_fail(HIVE_EINVAL, "conntype", "hive_client_config.conntype: longer than %d bytes",
                                 HIVE_HELLO_STR_MAX);
    if (k.token_len > HIVE_TOKEN_MAX)
        return hive__create_fail(HIVE_EINVAL, "token_len",
                                 "hive_client_config.token_len: %zu is over the limit of %d",
                                 k.token_len, HIVE_TOKEN_MAX);
    if (k.token_len && !k.token)
        return hive__create_fail(HIVE_EINVAL, "token", "hive_client_config.token: NULL with token_len %zu",
                                 k.token_len);
    rc = hive__ep_stats_interval(ep, "hive_client_config", &k.stats_interval_ms);
    if (rc < 0) return rc;
    rc = hive__ep_netsim(ep, "hive_client_config", &k.netsim);
    if (rc < 0) return rc;
    if (!k.reconnect_delay_ms) k.reconnect_delay_ms = HIVE_DEFAULT_RECONNECT_DELAY_MS;
    if (!k.reconnect_max_delay_ms) k.reconnect_max_delay_ms = HIVE_DEFAULT_RECONNECT_MAX_DELAY_MS;
    if (k.reconnect_factor == 0) k.reconnect_factor = HIVE_DEFAULT_RECONNECT_FACTOR;
    if (k.reconnect_delay_ms < HIVE_MIN_RECONNECT_DELAY_MS)
        return hive__create_fail(HIVE_EINVAL, "reconnect_delay_ms",
                                 "hive_client_config.reconnect_delay_ms: %u is under the minimum of %u",
                                 k.reconnect_delay_ms, HIVE_MIN_RECONNECT_DELAY_MS);
    if (k.reconnect_max_delay_ms < k.reconnect_delay_ms)
        return hive__create_fail(HIVE_EINVAL, "reconnect_max_delay_ms",
                                 "hive_client_config.reconnect_max_delay_ms: %u is under reconnect_delay_ms (%u)",
                                 k.reconnect_max_delay_ms, k.reconnect_delay_ms);
    if (!k.resume_buffer_bytes) k.resume_buffer_bytes = HIVE_DEFAULT_RESUME_BUFFER_BYTES;
    if (k.resume_buffer_bytes < HIVE_MIN_RESUME_BUFFER_BYTES)
        return hive__create_fail(HIVE_EINVAL, "resume_buffer_bytes",
                                 "hive_client_config.resume_buffer_bytes: %zu is under the minimum of %u",
                                 k.resume_buffer_bytes, HIVE_MIN_RESUME_BUFFER_BYTES);
    if (!(k.reconnect_factor >= 1.0 && k.reconnect_factor <= 16.0))
        return hive__create_fail(HIVE_EINVAL, "reconnect_factor",
                                 "hive_client_config.reconnect_factor: %g is outside 1.0..16.0", k.reconnect_factor);
    if (hive__ep_transfers(ep, "hive_client_config", k.max_frame, &k.transfer_queue_bytes, &k.max_transfers,
                           &k.transfer_recv_bytes, k.no_pieces) < 0)
        return HIVE_EINVAL;
    ep->bw_in = k.bandwidth_in;
    ep->bw_out = k.bandwidth_out;
    c->cfg = k;
    c->close_reason = -1;
    hive__ep_options(ep, &c->cfg, sizeof c->cfg, k.threaded, k.pull, k.pull_capacity, k.lazy_decode,
                     k.max_frame, k.send_queue_bytes);
    ep->rx_fps = k.recv_frames_per_sec;
    ep->rx_bps = k.recv_bytes_per_sec;
    if (hive__ep_keep(ep, &c->cfg.app, &c->cfg.app_version, &c->cfg.tls) < 0) return HIVE_ENOMEM;
    c->cfg.conntype = c->conntype = hive__strdup(k.conntype);
    if (k.token) {
        c->cfg.token = c->token = hive__malloc(k.token_len);
        if (c->token) memcpy(c->token, k.token, k.token_len);
    }
    return c->conntype && (!k.token || c->token) ? HIVE_OK : HIVE_ENOMEM;
}

void hive__cli_teardown(hive__ep *ep)
{
    hive_client *c = (hive_client *)ep;
    hive__cli_sess_drop(c);
    hive__cli_remote_free(c);
    hive__free(c->conntype);
    hive__free(c->token);
}

hive_client *hive_client_create(const hive_client_config *cfg, hive_bus *bus)
{
    return hive__ep_create(sizeof(hive_client), bus, &hive__client_face, cfg);
}

int hive_client_config_get(const hive_client *c, hive_client_config *out)
{
    return hive__ep_config_get(c ? &c->ep : NULL, out);
}

/* Joins a finished I/O thread and drops the transport. Owner thread. */
static void reap(hive_client *c)
{
    hive__ep_thread_join(&c->ep);
    hive__ep_drop_transport(&c->ep);
}

int hive__cli_dial(hive_client *c)
{
    hive__addr a;
    int rc = hive__addr_parse(c->addr, HIVE_DEFAULT_PORT, &a);
    if (rc < 0) return rc;
    hive__transport *tr = c->ep.tr;
    hive__link *link;
    rc = tr->vt->connect(tr, &a, &link);
    if (rc < 0) return rc;
    hive__conn *k = hive__ep_conn_new(&c->ep, link, HIVE__C_DIALING);
    if (!k) {
        tr->vt->abort(tr, link);
        return HIVE_ENOMEM;
    }
    pthread_mutex_lock(&c->ep.lock);
    c->ep.conns = k;
    c->ep.nconns = 1;
    pthread_mutex_unlock(&c->ep.lock);
    hive__cli_set_state(c, HIVE_CLIENT_CONNECTING);
    return HIVE_OK;
}

int hive_client_connect(hive_client *c, const char *addr)
{
    if (!c || !addr) return HIVE_EINVAL;
    int st = __atomic_load_n(&c->state, __ATOMIC_ACQUIRE);
    if ((st != HIVE_CLIENT_IDLE && st != HIVE_CLIENT_CLOSED) || c->ep.in_service) return HIVE_ESTATE;
    reap(c);
    /* Sends and closes asked for by other threads for the last connection
     * must not reach the next one. */
    hive__ep_drop_requests(&c->ep);
    /* Each connect starts from the configured timing (a welcome replaces
     * the heartbeat pair). */
    c->ep.tm = (hive__timing){
        .connect_ms = c->cfg.connect_timeout_ms,
        .handshake_ms = c->cfg.handshake_timeout_ms,
        .heartbeat_ms = c->cfg.heartbeat_ms,
        .heartbeat_timeout_ms = c->cfg.heartbeat_timeout_ms,
        .linger_ms = HIVE__CLIENT_LINGER_MS,
        .frame_ms = c->cfg.frame_timeout_ms,
    };
    hive__addr a;
    hive__transport *tr;
    int rc = hive__ep_open(&c->ep, addr, 1, c->cfg.no_coalesce, &a, &tr);
    if (rc < 0) return rc;
    uint64_t now = hive__now_ms();
    c->ep.now = c->ep.last_tick = now;
    hive__addr_format(&a, c->addr, sizeof c->addr);
    hive__ep_set_transport(&c->ep, tr);
    c->ep.redial_at = 0;
    c->attempt = c->last_delay = c->old_cid = 0;
    c->invalidated_sent = false;
    hive__cli_sess_drop(c);
    c->rng = now ^ ((uint64_t)(uintptr_t)c << 16) ^ hive_now_ns();
    rc = hive__cli_dial(c);
    if (rc < 0) {
        hive__ep_drop_transport(&c->ep);
        return rc;
    }
    hive__conn *k = c->ep.conns;
    __atomic_store_n(&c->cid, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&c->close_reason, -1, __ATOMIC_RELEASE);
    __atomic_store_n(&c->ep.interrupt, 0, __ATOMIC_RELEASE);
    c->stop_owed = true;
    hive_field f[] = { HIVE_PTR("client", c), HIVE_STR("addr", c->addr) };
    hive__ep_emit(&c->ep, c->ep.ev[HIVE__EV_CONNECT], f, 2);

    if (c->ep.threaded) {
        if (hive__ep_thread_start(&c->ep) < 0) {
            /* No thread: end the attempt here, events and all. */
            hive__ep_set_io_thread(&c->ep, pthread_self());
            c->ep.now = hive__now_ms();
            hive__ep_close(&c->ep, k, HIVE_CLOSE_NO_MEMORY, NULL, false, HIVE__CLOSE_SILENT, true);
            return HIVE_ENOMEM;
        }
    } else {
        hive__ep_set_io_thread(&c->ep, pthread_self());
    }
    return HIVE_OK;
}

void hive__cli_do_stop(hive_client *c)
{
    /* Closing publishes events; a handler that asks for a stop (or a
     * connect) meanwhile must not start a second one inside this one. */
    c->ep.in_service++;
    if (!c->ep.thread_on) {   /* else the thread closes, lingers and finishes */
        c->ep.now = hive__now_ms();
        hive__ep_close_all(&c->ep, HIVE_CLOSE_NORMAL, NULL);
    }
    reap(c);
    /* Stopped between two reconnect attempts: the session ends here. */
    if (c->ep.redial_at || __atomic_load_n(&c->state, __ATOMIC_ACQUIRE) == HIVE_CLIENT_RECONNECTING) {
        c->ep.redial_at = 0;
        c->attempt = 0;
        hive__cli_emit_close(c, HIVE_CLOSE_NORMAL, "stopped while reconnecting", false);
    }
    hive__cli_sess_drop(c);
    hive__cli_set_state(c, HIVE_CLIENT_IDLE);
    hive__cli_emit_stop(c);   /* connect happened but nothing finished it */
    hive__ep_wake_all(&c->ep, true);
    c->ep.in_service--;
    c->ep.stop_pending = false;
}

int hive_client_stop(hive_client *c)
{
    if (!c) return HIVE_EINVAL;
    if (c->ep.in_service) {
        c->ep.stop_pending = true;
        return HIVE_OK;
    }
    hive__cli_do_stop(c);
    return HIVE_OK;
}

int hive_client_service(hive_client *c, int timeout_ms)
{
    if (!c) return HIVE_EINVAL;
    if (c->ep.threaded || (!c->ep.conns && !c->ep.redial_at) || !c->ep.tr || c->ep.stop_pending)
        return HIVE_ESTATE;
    return hive__ep_service(&c->ep, timeout_ms);
}

void hive_client_interrupt(hive_client *c)
{
    if (c) hive__ep_interrupt(&c->ep);
}

void hive_client_destroy(hive_client *c)
{
    if (!c) return;
    hive__cli_do_stop(c);
    hive__ep_destroy(&c->ep);
}
