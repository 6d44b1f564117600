/*
 * server.c - hive_server's life cycle: create, register packet types,
 * bind, start (and Hive's own I/O thread), service, run, interrupt, stop,
 * shutdown, destroy. What happens to each connection is in
 * server_conn.c; sending and queries are in server_api.c.
 *
 * Threads: the I/O thread is the one that services (the caller's in
 * default mode, Hive's own when threaded). Other threads only touch what
 * ep.lock guards (connection table, request and pull queues) and the
 * __atomic fields.
 */
#include "events/internal.h"
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
/* The I/O thread and the life cycle                                    */
/* ------------------------------------------------------------------ */

static int get_st(const hive_server *s) { return __atomic_load_n(&s->st, __ATOMIC_ACQUIRE); }
static void set_st(hive_server *s, int st) { __atomic_store_n(&s->st, st, __ATOMIC_RELEASE); }

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

/*
 * The one place server defaults are filled in and limits checked. Writes
 * *out (strings still the caller's) or records why not and returns the
 * code for hive_create_error().
 */
static int server_config_resolve(const hive_server_config *in, hive_server_config *out)
{
    static const hive_server_config zero;
    hive_server_config c = in ? *in : zero;
    if (!c.addr) c.addr = HIVE_DEFAULT_ADDR;
    if (!c.app) c.app = HIVE_DEFAULT_APP;
    if (!c.app_version) c.app_version = HIVE_DEFAULT_APP_VERSION;
    if (!c.max_connections) c.max_connections = HIVE_DEFAULT_MAX_CONNECTIONS;
    if (!c.max_frame) c.max_frame = HIVE_DEFAULT_MAX_FRAME;
    if (!c.handshake_timeout_ms) c.handshake_timeout_ms = HIVE_DEFAULT_HANDSHAKE_TIMEOUT_MS;
    if (!c.heartbeat_timeout_ms) c.heartbeat_timeout_ms = HIVE_DEFAULT_HEARTBEAT_TIMEOUT_MS;
    if (!c.heartbeat_ms) c.heartbeat_ms = hive__default_heartbeat_ms(c.heartbeat_timeout_ms);
    if (!c.close_linger_ms) c.close_linger_ms = HIVE_DEFAULT_CLOSE_LINGER_MS;
    if (!c.pull_capacity) c.pull_capacity = HIVE_DEFAULT_PULL_CAPACITY;
    if (c.max_connections > HIVE_MAX_CONNECTIONS)
        return hive__create_fail(HIVE_EINVAL, "max_connections",
                                 "hive_server_config.max_connections: %u is over the limit of %u",
                                 c.max_connections, HIVE_MAX_CONNECTIONS);
    if (c.max_frame < HIVE_MIN_MAX_FRAME)
        return hive__create_fail(HIVE_EINVAL, "max_frame",
                                 "hive_server_config.max_frame: %u is under the minimum of %u",
                                 c.max_frame, HIVE_MIN_MAX_FRAME);
    if (c.heartbeat_ms >= c.heartbeat_timeout_ms)
        return hive__create_fail(HIVE_EINVAL, "heartbeat_ms",
                                 "hive_server_config.heartbeat_ms: %u must be under heartbeat_timeout_ms (%u)",
                                 c.heartbeat_ms, c.heartbeat_timeout_ms);
    if (strlen(c.app) > HIVE_HELLO_STR_MAX)
        return hive__create_fail(HIVE_EINVAL, "app", "hive_server_config.app: longer than %d bytes",
                                 HIVE_HELLO_STR_MAX);
    if (strlen(c.app_version) > HIVE_HELLO_STR_MAX)
        return hive__create_fail(HIVE_EINVAL, "app_version",
                                 "hive_server_config.app_version: longer than %d bytes", HIVE_HELLO_STR_MAX);
    *out = c;
    return HIVE_OK;
}

static hive_server *create_failed_nomem(void)
{
    hive__create_fail(HIVE_ENOMEM, "", "hive_server_create: out of memory");
    return NULL;
}

hive_server *hive_server_create(const hive_server_config *cfg, hive_bus *bus)
{
    if (!bus) {
        hive__create_fail(HIVE_EINVAL, "bus", "hive_server_create: bus is NULL");
        return NULL;
    }
    hive_server_config c;
    if (server_config_resolve(cfg, &c) < 0) return NULL;

    hive_server *s = hive__calloc(1, sizeof *s);
    if (!s) return create_failed_nomem();
    if (hive__ep_init(&s->ep, bus, s, "server", c.threaded, c.pull, c.pull_capacity) < 0) {
        hive__free(s);
        return create_failed_nomem();
    }
    s->cfg = c;
    /* The TLS paths are read when the transport starts: keep copies. */
    if (hive__tls_config_dup(&s->cfg.tls, &c.tls) < 0) goto fail;
    s->addr = hive__strdup(c.addr);
    s->app = hive__strdup(c.app);
    s->app_version = hive__strdup(c.app_version);
    s->reg = hive_registry_create();
    if (!s->addr || !s->app || !s->app_version || !s->reg) goto fail;
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
    s->session_seed = hive__mix64(hive_now_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)s);
    hive__create_ok();
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
    return create_failed_nomem();
}

int hive_server_config_get(const hive_server *s, hive_server_config *out)
{
    if (!s || !out) return HIVE_EINVAL;
    *out = s->cfg;
    return HIVE_OK;
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
    hive__transport_cb cb;
    hive__srv_transport_cb(s, &cb);
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
