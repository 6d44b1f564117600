/*
 * server.c - hive_server's life cycle: create, register packet types,
 * bind, start (with or without Hive's own I/O thread), service, run,
 * interrupt, stop, shutdown, destroy. What the server does with its
 * connections is in server_conn.c (its face of the endpoint core,
 * net/core/); sending and queries are in server_api.c.
 *
 * Threads: the I/O thread is the one that services (the caller's in
 * default mode, Hive's own when threaded). Other threads only touch what
 * ep.lock guards (connection table, request and pull queues) and the
 * __atomic fields.
 */
#include "events/internal.h"
#include "net/transport/tls.h"
#include "net/server/server_internal.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int get_st(const hive_server *s) { return __atomic_load_n(&s->st, __ATOMIC_ACQUIRE); }
static void set_st(hive_server *s, int st) { __atomic_store_n(&s->st, st, __ATOMIC_RELEASE); }

/* ------------------------------------------------------------------ */
/* Public API                                                           */
/* ------------------------------------------------------------------ */

/*
 * The server's face->setup: the one place server defaults are filled in
 * and limits checked (with the fields a client has too, in
 * hive__ep_config_resolve), then the server's own parts.
 */
int hive__srv_setup(hive__ep *ep, const void *cfg)
{
    hive_server *s = (hive_server *)ep;
    hive_server_config c = cfg ? *(const hive_server_config *)cfg : (hive_server_config){ 0 };
    int rc = HIVE__EP_CONFIG_RESOLVE("hive_server_config", c);
    if (rc < 0) return rc;
    ep->drain_ms = c.drain_timeout_ms > 0 ? (uint32_t)c.drain_timeout_ms : 0;
    ep->zmin = c.compress_threshold > 0 ? (size_t)c.compress_threshold : 0;
    if (!c.addr) c.addr = HIVE_DEFAULT_ADDR;
    if (!c.max_connections) c.max_connections = HIVE_DEFAULT_MAX_CONNECTIONS;
    if (!c.close_linger_ms) c.close_linger_ms = HIVE_DEFAULT_CLOSE_LINGER_MS;
    if (c.max_connections > HIVE_MAX_CONNECTIONS)
        return hive__create_fail(HIVE_EINVAL, "max_connections",
                                 "hive_server_config.max_connections: %u is over the limit of %u",
                                 c.max_connections, HIVE_MAX_CONNECTIONS);
    rc = hive__ep_stats_interval(ep, "hive_server_config", &c.stats_interval_ms);
    if (rc < 0) return rc;
    rc = hive__ep_netsim(ep, "hive_server_config", &c.netsim);
    if (rc < 0) return rc;
    if (!c.resume_window_ms) c.resume_window_ms = HIVE_DEFAULT_RESUME_WINDOW_MS;
    if (c.resume_window_ms != -1 &&
        (c.resume_window_ms < (int32_t)HIVE_MIN_RESUME_WINDOW_MS || c.resume_window_ms > (int32_t)HIVE_MAX_RESUME_WINDOW_MS))
        return hive__create_fail(HIVE_EINVAL, "resume_window_ms",
                                 "hive_server_config.resume_window_ms: %d is outside %u..%u (-1 turns resume off)",
                                 c.resume_window_ms, HIVE_MIN_RESUME_WINDOW_MS, HIVE_MAX_RESUME_WINDOW_MS);
    if (!c.resume_buffer_bytes) c.resume_buffer_bytes = HIVE_DEFAULT_RESUME_BUFFER_BYTES;
    if (c.resume_buffer_bytes < HIVE_MIN_RESUME_BUFFER_BYTES)
        return hive__create_fail(HIVE_EINVAL, "resume_buffer_bytes",
                                 "hive_server_config.resume_buffer_bytes: %zu is under the minimum of %u",
                                 c.resume_buffer_bytes, HIVE_MIN_RESUME_BUFFER_BYTES);
    if (!c.max_handshakes) c.max_handshakes = HIVE_DEFAULT_MAX_HANDSHAKES;
    if (!c.max_handshakes_per_addr) c.max_handshakes_per_addr = HIVE_DEFAULT_MAX_HANDSHAKES_PER_ADDR;
    if (c.max_handshakes > HIVE_MAX_HANDSHAKES)
        return hive__create_fail(HIVE_EINVAL, "max_handshakes",
                                 "hive_server_config.max_handshakes: %u is over the limit of %u",
                                 c.max_handshakes, HIVE_MAX_HANDSHAKES);
    if (c.max_handshakes_per_addr > HIVE_MAX_HANDSHAKES)
        return hive__create_fail(HIVE_EINVAL, "max_handshakes_per_addr",
                                 "hive_server_config.max_handshakes_per_addr: %u is over the limit of %u",
                                 c.max_handshakes_per_addr, HIVE_MAX_HANDSHAKES);
    if (!c.max_peers_per_addr) c.max_peers_per_addr = HIVE_DEFAULT_MAX_PEERS_PER_ADDR;
    if (c.max_peers_per_addr > HIVE_MAX_PEERS_PER_ADDR)
        return hive__create_fail(HIVE_EINVAL, "max_peers_per_addr",
                                 "hive_server_config.max_peers_per_addr: %u is over the limit of %u",
                                 c.max_peers_per_addr, HIVE_MAX_PEERS_PER_ADDR);
    if (hive__ep_transfers(ep, "hive_server_config", c.max_frame, &c.transfer_queue_bytes, &c.max_transfers,
                           &c.transfer_recv_bytes, c.no_pieces) < 0)
        return HIVE_EINVAL;
    if (!c.max_subscriptions) c.max_subscriptions = 64;
    if (c.max_subscriptions > HIVE_SUBS_MAX)
        return hive__create_fail(HIVE_EINVAL, "max_subscriptions",
                                 "hive_server_config.max_subscriptions: %u is over the limit of %u",
                                 c.max_subscriptions, HIVE_SUBS_MAX);
    if (!c.remote_queue_bytes) c.remote_queue_bytes = 262144;
    if (c.remote_queue_bytes < 4096)
        return hive__create_fail(HIVE_EINVAL, "remote_queue_bytes",
                                 "hive_server_config.remote_queue_bytes: %zu is under the minimum of 4096",
                                 c.remote_queue_bytes);
    ep->ev_sub_dropped = hive_bus_intern(ep->bus, HIVE_EV_SERVER_SUB_DROPPED);
    ep->max_per_addr = c.max_peers_per_addr;
    if (c.ws_origins_count) {
        if (!c.ws_origins)
            return hive__create_fail(HIVE_EINVAL, "ws_origins",
                                     "hive_server_config.ws_origins: NULL with ws_origins_count %u",
                                     c.ws_origins_count);
        ep->ws_origins = hive__calloc(c.ws_origins_count, sizeof *ep->ws_origins);
        if (!ep->ws_origins) return HIVE_ENOMEM;
        ep->ws_norigins = c.ws_origins_count;
        for (uint32_t i = 0; i < c.ws_origins_count; i++) {
            if (!c.ws_origins[i])
                return hive__create_fail(HIVE_EINVAL, "ws_origins",
                                         "hive_server_config.ws_origins[%u] is NULL", i);
            if (!(ep->ws_origins[i] = hive__strdup(c.ws_origins[i]))) return HIVE_ENOMEM;
        }
    }
    c.ws_origins = NULL;
    c.ws_origins_count = 0;
    if (c.web_root && !(ep->web_root = hive__strdup(c.web_root))) return HIVE_ENOMEM;
    c.web_root = NULL;
    ep->bw_in = c.bandwidth_in;
    ep->bw_out = c.bandwidth_out;
    s->cfg = c;
    hive__ep_options(ep, &s->cfg, sizeof s->cfg, c.threaded, c.pull, c.pull_capacity, c.lazy_decode,
                     c.max_frame, c.send_queue_bytes);
    ep->rx_fps = c.recv_frames_per_sec;
    ep->rx_bps = c.recv_bytes_per_sec;
    if (hive__ep_keep(ep, &s->cfg.app, &s->cfg.app_version, &s->cfg.tls) < 0) return HIVE_ENOMEM;
    s->cfg.addr = s->addr = hive__strdup(c.addr);
    s->reg = hive_registry_create();
    if (!s->addr || !s->reg) return HIVE_ENOMEM;
    ep->tm = (hive__timing){
        .handshake_ms = c.handshake_timeout_ms,
        .heartbeat_ms = c.heartbeat_ms,
        .heartbeat_timeout_ms = c.heartbeat_timeout_ms,
        .linger_ms = c.close_linger_ms,
        .frame_ms = c.frame_timeout_ms,
        .resume_ms = c.resume_window_ms > 0 ? (uint32_t)c.resume_window_ms : 0,
    };
    s->next_cid = 1;
    s->session_seed = hive__mix64(hive_now_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)s);
    return hive__admit_init(&ep->adm, c.max_handshakes, c.max_handshakes_per_addr, hive__mix64(s->session_seed));
}

void hive__srv_teardown(hive__ep *ep)
{
    hive_server *s = (hive_server *)ep;
    hive__srv_remote_free(s);
    for (size_t i = 0; i < s->nmoved; i++) {
        hive__free(s->moved[i].to);
        hive__free(s->moved[i].subject);
    }
    hive__free(s->moved);
    s->moved = NULL;
    s->nmoved = s->moved_cap = 0;
    hive_registry_destroy(s->reg);
    hive__cidmap_free(&s->map);
    hive__free(s->addr);
    for (size_t i = 0; i < ep->ws_norigins; i++) hive__free(ep->ws_origins[i]);
    hive__free(ep->ws_origins);
    ep->ws_origins = NULL;
    hive__free(ep->web_root);
    ep->web_root = NULL;
    ep->ws_norigins = 0;
}

hive_server *hive_server_create(const hive_server_config *cfg, hive_bus *bus)
{
    return hive__ep_create(sizeof(hive_server), bus, &hive__server_face, cfg);
}

int hive_server_config_get(const hive_server *s, hive_server_config *out)
{
    return hive__ep_config_get(s ? &s->ep : NULL, out);
}

int hive_server_register(hive_server *s, const char *name, uint32_t id, hive_delivery d)
{
    if (!s || !name) return HIVE_EINVAL;
    if (d != HIVE_RELIABLE && d != HIVE_UNRELIABLE && d != HIVE_UNORDERED) return HIVE_EINVAL;
    if (s->started_once || get_st(s) == HIVE__S_SHUT) return HIVE_ESTATE;
    char ev[HIVE_NAME_MAX + 32];
    int n = snprintf(ev, sizeof ev, "%s%s", HIVE_EV_SERVER_RECV_PREFIX, name);
    int rc = hive_registry_add(s->reg, name, id);
    if (rc < 0) return rc;
    if (d != HIVE_RELIABLE) hive_registry_set_delivery(s->reg, (uint32_t)rc, d);
    if (n > 0 && (size_t)n < HIVE_NAME_MAX && hive_bus_intern(s->ep.bus, ev) == HIVE_ENOMEM)
        return HIVE_ENOMEM;   /* the type stays registered; start interns again */
    return rc;
}

int hive_server_set_channel(hive_server *s, const char *name, unsigned channel)
{
    if (!s || !name) return HIVE_EINVAL;
    if (s->started_once || get_st(s) == HIVE__S_SHUT) return HIVE_ESTATE;
    int id = hive_registry_id(s->reg, name);
    if (id < 0) return id;
    return hive_registry_set_channel(s->reg, (uint32_t)id, channel);
}

int hive_server_shape(hive_server *s, const char *name, const hive_shape_field *fields, size_t n,
                      hive_shape_policy policy)
{
    if (!s || !name) return HIVE_EINVAL;
    if (s->started_once || get_st(s) == HIVE__S_SHUT) return HIVE_ESTATE;
    if (hive_registry_id(s->reg, name) <= 0) return HIVE_ENOENT;
    return hive__ep_set_shape(&s->ep, name, fields, n, policy);
}

int hive_server_compress(hive_server *s, const char *name, bool on)
{
    if (!s || !name) return HIVE_EINVAL;
    if (s->started_once || get_st(s) == HIVE__S_SHUT) return HIVE_ESTATE;
    if (hive_registry_id(s->reg, name) <= 0) return HIVE_ENOENT;
    return hive__ep_set_zip(&s->ep, name, on);
}

const hive_registry *hive_server_registry(const hive_server *s) { return s ? s->reg : NULL; }

int hive_server_packet_id(const hive_server *s, const char *name)
{
    return s && name ? hive_registry_id(s->reg, name) : HIVE_EINVAL;
}

const char *hive_server_packet_name(const hive_server *s, uint32_t pid, char *buf, size_t n)
{
    if (!s || !buf || !n) return NULL;
    /* Types are registered before the first start, on the owner thread;
     * the copy gives the same contract as the client's swapped table. */
    const char *name = hive_registry_name(s->reg, pid);
    if (!name || strlen(name) >= n) return NULL;
    memcpy(buf, name, strlen(name) + 1);
    return buf;
}

int hive_server_bind(hive_server *s, const char *addr)
{
    if (!s) return HIVE_EINVAL;
    if (get_st(s) != HIVE__S_CREATED) return HIVE_ESTATE;
    /* The transport holds the admitted connections, the handshakes (they
     * take no max_connections slot: ADMISSION in hive/net.h) and room for
     * links that are closing, such as those being told "server_full"
     * (links refused with "busy" on tcp:// and tls:// are let go at once).
     * ENet clamps this to its own limit of 4095 peers. */
    uint32_t extra = s->cfg.max_connections / 4 > 8 ? s->cfg.max_connections / 4 : 8;
    size_t links = (size_t)s->cfg.max_connections + s->cfg.max_handshakes + extra;
    hive__addr a;
    hive__transport *tr;
    int rc = hive__ep_open(&s->ep, addr ? addr : s->addr, links, s->cfg.no_coalesce, &a, &tr);
    if (rc < 0) return rc;
    rc = tr->vt->listen(tr, &a);
    if (rc < 0) {
        tr->vt->destroy(tr);
        return rc;
    }
    hive__ep_set_transport(&s->ep, tr);
    a.port = tr->vt->bound_port(tr);
    __atomic_store_n(&s->port, a.port, __ATOMIC_RELEASE);
    hive__addr_format(&a, s->bound, sizeof s->bound);
    int nl = hive__mux_count(tr);
    s->nports = 1;
    s->ports[0] = a.port;
    if (nl > 0) {
        /* Several listeners: "enet://0.0.0.0:7777,ws://0.0.0.0:8080". */
        size_t off = 0;
        s->nports = nl;
        for (int i = 0; i < nl; i++) {
            hive__addr ai;
            char one[HIVE__ADDR_MAX];
            hive__mux_addr(tr, i, &ai);
            s->ports[i] = ai.port;
            hive__addr_format(&ai, one, sizeof one);
            int k = snprintf(s->bound + off, sizeof s->bound - off, "%s%s", i ? "," : "", one);
            if (k < 0 || (size_t)k >= sizeof s->bound - off) break;
            off += (size_t)k;
        }
    }
    set_st(s, HIVE__S_BOUND);
    hive_field f[] = { HIVE_PTR("server", s), HIVE_STR("addr", s->bound), HIVE_INT("port", a.port) };
    hive__ep_emit(&s->ep, s->ep.ev[HIVE__EV_BIND], f, 3);
    return HIVE_OK;
}

uint16_t hive_server_port(const hive_server *s)
{
    return s ? __atomic_load_n(&s->port, __ATOMIC_ACQUIRE) : 0;
}

uint16_t hive_server_port_at(const hive_server *s, int i)
{
    if (!s || !__atomic_load_n(&s->port, __ATOMIC_ACQUIRE) || i < 0 || i >= s->nports) return 0;
    return s->ports[i];
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
    if (!s->ep.pt) {
        hive__ptable *pt;
        int rc = hive__ptable_build(&pt, s->reg, false, s->ep.bus, HIVE_EV_SERVER_RECV_PREFIX);
        if (rc < 0) return rc;
        hive__ep_attach_shapes(&s->ep, pt);
        pthread_mutex_lock(&s->ep.lock);
        s->ep.pt = pt;
        pthread_mutex_unlock(&s->ep.lock);
        for (size_t i = 0; i < pt->n; i++)
            if (pt->e[i].ev > 0) s->ep.any_pe_ids = true;
    }
    /* The registry is settled: links get a lane per channel it uses. */
    if (s->ep.tr->vt->offer_lanes) s->ep.tr->vt->offer_lanes(s->ep.tr, (int)hive_registry_channels(s->reg));
    /* Subscriptions to packets it lacks. */
    s->ep.names_checked = 0;
    if (hive__ep_check_names(&s->ep) > 0 && s->cfg.strict_names) return HIVE_ENOENT;
    if (hive__srv_remote_start(s) < 0) return HIVE_ENOMEM;
    s->started_once = true;
    pthread_mutex_lock(&s->ep.lock);
    s->ep.closed = false;
    pthread_mutex_unlock(&s->ep.lock);
    __atomic_store_n(&s->ep.interrupt, 0, __ATOMIC_RELAXED);
    s->ep.last_tick = s->ep.now = hive__now_ms();
    hive__ep_refresh_wants(&s->ep);
    if (s->ep.threaded) {
        set_st(s, HIVE__S_RUNNING);
        hive__ep_emit_self(&s->ep, HIVE__EV_START);
        if (hive__ep_thread_start(&s->ep) < 0) {
            set_st(s, HIVE__S_BOUND);
            return HIVE_ENOMEM;
        }
        return HIVE_OK;
    }
    hive__ep_set_io_thread(&s->ep, pthread_self());
    set_st(s, HIVE__S_RUNNING);
    hive__ep_emit_self(&s->ep, HIVE__EV_START);
    return HIVE_OK;
}

void hive__srv_do_stop(hive_server *s)
{
    /* Closing everything publishes close events; a handler asking for a
     * stop meanwhile must not start a second one inside this one. */
    s->ep.in_service++;
    if (s->ep.thread_on) {
        hive__ep_thread_join(&s->ep);   /* the thread closes everything */
    } else {
        int reason = HIVE_CLOSE_SERVER_SHUTDOWN;
        hive__ep_close_all(&s->ep, reason, hive_close_reason_text(reason));
    }
    set_st(s, HIVE__S_BOUND);
    hive__ep_emit_reason(&s->ep, HIVE__EV_STOP, HIVE_CLOSE_SERVER_SHUTDOWN);
    hive__ep_wake_all(&s->ep, true);
    s->ep.in_service--;
    s->ep.stop_pending = false;
}

int hive_server_service(hive_server *s, int timeout_ms)
{
    if (!s) return HIVE_EINVAL;
    if (s->ep.threaded || get_st(s) != HIVE__S_RUNNING || s->ep.stop_pending) return HIVE_ESTATE;
    return hive__ep_service(&s->ep, timeout_ms);
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
    if (s) hive__ep_interrupt(&s->ep);
}

int hive_server_stop(hive_server *s)
{
    if (!s) return HIVE_EINVAL;
    if (get_st(s) != HIVE__S_RUNNING) return HIVE_ESTATE;
    if (s->ep.in_service) {         /* from a handler: finish the round first */
        s->ep.stop_pending = true;
        return HIVE_OK;
    }
    hive__srv_do_stop(s);
    return HIVE_OK;
}

int hive_server_shutdown(hive_server *s)
{
    if (!s) return HIVE_EINVAL;
    if (get_st(s) == HIVE__S_SHUT) return HIVE_ESTATE;
    if (s->ep.in_service) return HIVE_ESTATE;   /* not from a handler */
    if (get_st(s) == HIVE__S_RUNNING) hive__srv_do_stop(s);
    hive__ep_drop_transport(&s->ep);
    __atomic_store_n(&s->port, 0, __ATOMIC_RELEASE);
    set_st(s, HIVE__S_SHUT);
    hive__ep_emit_reason(&s->ep, HIVE__EV_SHUTDOWN, HIVE_CLOSE_SERVER_SHUTDOWN);
    hive__ep_wake_all(&s->ep, true);
    return HIVE_OK;
}

void hive_server_destroy(hive_server *s)
{
    if (!s) return;
    if (get_st(s) != HIVE__S_SHUT) hive_server_shutdown(s);
    hive__ep_destroy(&s->ep);
}
