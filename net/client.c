/*
 * client.c - hive_client's life cycle: create, connect (and Hive's own
 * I/O thread), service, interrupt, stop, destroy. The connection itself
 * (hello, welcome, frames, close) is in client_conn.c; sending, waiting
 * and queries in client_api.c.
 *
 * The client has one connection at a time. Its life in states:
 *   IDLE -connect-> CONNECTING -link up-> HANDSHAKING -welcome-> OPEN
 *        -close (either side)-> CLOSING -link gone-> CLOSED (-stop-> IDLE)
 * client.close is published on entering CLOSING, client.stop on CLOSED.
 */
#include "events/internal.h"
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
        hive__cli_refresh_wants(c);
        if (hive__cli_round(c, HIVE__THREAD_WAIT_MS) < 0) break;
    }
    hive__cli_close_and_linger(c);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Public life cycle                                                    */
/* ------------------------------------------------------------------ */

/* The one place client defaults are filled in and limits checked (see
 * server_config_resolve). */
static int client_config_resolve(const hive_client_config *in, hive_client_config *out)
{
    static const hive_client_config zero;
    hive_client_config k = in ? *in : zero;
    if (!k.app) k.app = HIVE_DEFAULT_APP;
    if (!k.app_version) k.app_version = HIVE_DEFAULT_APP_VERSION;
    if (!k.conntype) k.conntype = HIVE_DEFAULT_CONNTYPE;
    if (!k.connect_timeout_ms) k.connect_timeout_ms = HIVE_DEFAULT_CONNECT_TIMEOUT_MS;
    if (!k.handshake_timeout_ms) k.handshake_timeout_ms = HIVE_DEFAULT_HANDSHAKE_TIMEOUT_MS;
    if (!k.heartbeat_timeout_ms) k.heartbeat_timeout_ms = HIVE_DEFAULT_HEARTBEAT_TIMEOUT_MS;
    if (!k.heartbeat_ms) k.heartbeat_ms = hive__default_heartbeat_ms(k.heartbeat_timeout_ms);
    if (!k.max_frame) k.max_frame = HIVE_DEFAULT_MAX_FRAME;
    if (!k.pull_capacity) k.pull_capacity = HIVE_DEFAULT_PULL_CAPACITY;
    if (k.heartbeat_ms >= k.heartbeat_timeout_ms)
        return hive__create_fail(HIVE_EINVAL, "heartbeat_ms",
                                 "hive_client_config.heartbeat_ms: %u must be under heartbeat_timeout_ms (%u)",
                                 k.heartbeat_ms, k.heartbeat_timeout_ms);
    if (k.max_frame < HIVE_MIN_MAX_FRAME)
        return hive__create_fail(HIVE_EINVAL, "max_frame",
                                 "hive_client_config.max_frame: %u is under the minimum of %u",
                                 k.max_frame, HIVE_MIN_MAX_FRAME);
    if (k.token_len > HIVE_TOKEN_MAX)
        return hive__create_fail(HIVE_EINVAL, "token_len",
                                 "hive_client_config.token_len: %zu is over the limit of %d",
                                 k.token_len, HIVE_TOKEN_MAX);
    if (k.token_len && !k.token)
        return hive__create_fail(HIVE_EINVAL, "token", "hive_client_config.token: NULL with token_len %zu",
                                 k.token_len);
    const struct { const char *v, *name; } strs[] = {
        { k.app, "app" }, { k.app_version, "app_version" }, { k.conntype, "conntype" },
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (strlen(strs[i].v) > HIVE_HELLO_STR_MAX)
            return hive__create_fail(HIVE_EINVAL, strs[i].name, "hive_client_config.%s: longer than %d bytes",
                                     strs[i].name, HIVE_HELLO_STR_MAX);
    *out = k;
    return HIVE_OK;
}

hive_client *hive_client_create(const hive_client_config *cfg, hive_bus *bus)
{
    if (!bus) {
        hive__create_fail(HIVE_EINVAL, "bus", "hive_client_create: bus is NULL");
        return NULL;
    }
    hive_client_config k;
    if (client_config_resolve(cfg, &k) < 0) return NULL;

    hive_client *c = hive__calloc(1, sizeof *c);
    if (!c) goto nomem;
    if (hive__ep_init(&c->ep, bus, c, "client", k.threaded, k.pull, k.pull_capacity) < 0) {
        hive__free(c);
        goto nomem;
    }
    c->cfg = k;
    /* The TLS paths are read when the transport starts: keep copies. */
    if (hive__tls_config_dup(&c->cfg.tls, &k.tls) < 0) goto fail;
    c->app = hive__strdup(k.app);
    c->app_version = hive__strdup(k.app_version);
    c->conntype = hive__strdup(k.conntype);
    if (k.token) {
        c->token = hive__malloc(k.token_len);
        if (c->token) memcpy(c->token, k.token, k.token_len);
    }
    if (!c->app || !c->app_version || !c->conntype || (k.token && !c->token)) goto fail;
    if (intern_events(c) < 0) goto fail;
    c->cfg.app = c->app;
    c->cfg.app_version = c->app_version;
    c->cfg.conntype = c->conntype;
    c->cfg.token = c->token;
    c->close_reason = -1;
    hive__create_ok();
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
nomem:
    hive__create_fail(HIVE_ENOMEM, "", "hive_client_create: out of memory");
    return NULL;
}

int hive_client_config_get(const hive_client *c, hive_client_config *out)
{
    if (!c || !out) return HIVE_EINVAL;
    *out = c->cfg;
    return HIVE_OK;
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
    hive__transport_cb cb;
    hive__cli_transport_cb(c, &cb);
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
    hive__cli_conn_state(k, HIVE__C_DIALING, now);
    link->conn = k;
    c->conn = k;
    c->tm = (hive__timing){
        .connect_ms = c->cfg.connect_timeout_ms,
        .handshake_ms = c->cfg.handshake_timeout_ms,
        .heartbeat_ms = c->cfg.heartbeat_ms,
        .heartbeat_timeout_ms = c->cfg.heartbeat_timeout_ms,
        .linger_ms = HIVE__CLIENT_LINGER_MS,
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
        hive__cli_close_and_linger(c);
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
    hive__cli_refresh_wants(c);
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
