/* ep.c - the endpoint core's queues, events and counters (see ep.h); the
 * I/O side is in endpoint.c. */
#include "events/internal.h"
#include "net/core/ep.h"
#include "net/transport/tls.h"
#include "net/wire/mpdecode.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

const char *const hive__server_event_names[HIVE__EV_COUNT] = {
    [HIVE__EV_INITIALIZE] = HIVE_EV_SERVER_INITIALIZE, [HIVE__EV_START] = HIVE_EV_SERVER_START,
    [HIVE__EV_STOP] = HIVE_EV_SERVER_STOP, [HIVE__EV_INTERRUPT] = HIVE_EV_SERVER_INTERRUPT,
    [HIVE__EV_HANDSHAKE] = HIVE_EV_SERVER_HANDSHAKE, [HIVE__EV_SEND] = HIVE_EV_SERVER_SEND,
    [HIVE__EV_RECV] = HIVE_EV_SERVER_RECV, [HIVE__EV_CLOSE] = HIVE_EV_SERVER_CLOSE,
    [HIVE__EV_BIND] = HIVE_EV_SERVER_BIND, [HIVE__EV_SHUTDOWN] = HIVE_EV_SERVER_SHUTDOWN,
    [HIVE__EV_ACCEPT] = HIVE_EV_SERVER_ACCEPT, [HIVE__EV_BACKPRESSURE] = HIVE_EV_SERVER_BACKPRESSURE,
    [HIVE__EV_STATS] = HIVE_EV_SERVER_STATS, [HIVE__EV_SUSPENDED] = HIVE_EV_SERVER_SUSPENDED,
    [HIVE__EV_RESUMED] = HIVE_EV_SERVER_RESUMED, [HIVE__EV_WARNING] = HIVE_EV_SERVER_WARNING,
    [HIVE__EV_TRANSFER] = HIVE_EV_SERVER_TRANSFER, [HIVE__EV_HANDOFF] = HIVE_EV_SERVER_HANDEDOFF,
};

const char *const hive__client_event_names[HIVE__EV_COUNT] = {
    [HIVE__EV_INITIALIZE] = HIVE_EV_CLIENT_INITIALIZE, [HIVE__EV_START] = HIVE_EV_CLIENT_START,
    [HIVE__EV_STOP] = HIVE_EV_CLIENT_STOP, [HIVE__EV_INTERRUPT] = HIVE_EV_CLIENT_INTERRUPT,
    [HIVE__EV_HANDSHAKE] = HIVE_EV_CLIENT_HANDSHAKE, [HIVE__EV_SEND] = HIVE_EV_CLIENT_SEND,
    [HIVE__EV_RECV] = HIVE_EV_CLIENT_RECV, [HIVE__EV_CLOSE] = HIVE_EV_CLIENT_CLOSE,
    [HIVE__EV_CONNECT] = HIVE_EV_CLIENT_CONNECT, [HIVE__EV_BACKPRESSURE] = HIVE_EV_CLIENT_BACKPRESSURE,
    [HIVE__EV_STATS] = HIVE_EV_CLIENT_STATS, [HIVE__EV_RECONNECTING] = HIVE_EV_CLIENT_RECONNECTING,
    [HIVE__EV_INVALIDATED] = HIVE_EV_CLIENT_SESSION_INVALIDATED, [HIVE__EV_RESUMED] = HIVE_EV_CLIENT_RESUMED,
    [HIVE__EV_WARNING] = HIVE_EV_CLIENT_WARNING, [HIVE__EV_TRANSFER] = HIVE_EV_CLIENT_TRANSFER,
    [HIVE__EV_HANDOFF] = HIVE_EV_CLIENT_REDIRECTED,
};

int hive__ep_config_resolve(const hive__ep_config *c)
{
    if (!*c->app) *c->app = HIVE_DEFAULT_APP;
    if (!*c->app_version) *c->app_version = HIVE_DEFAULT_APP_VERSION;
    if (!*c->handshake_timeout_ms) *c->handshake_timeout_ms = HIVE_DEFAULT_HANDSHAKE_TIMEOUT_MS;
    if (!*c->heartbeat_timeout_ms) *c->heartbeat_timeout_ms = HIVE_DEFAULT_HEARTBEAT_TIMEOUT_MS;
    if (!*c->heartbeat_ms) *c->heartbeat_ms = hive__default_heartbeat_ms(*c->heartbeat_timeout_ms);
    if (!*c->max_frame) *c->max_frame = HIVE_DEFAULT_MAX_FRAME;
    if (!*c->pull_capacity) *c->pull_capacity = HIVE_DEFAULT_PULL_CAPACITY;
    if (!*c->send_queue_bytes) *c->send_queue_bytes = HIVE_DEFAULT_SEND_QUEUE_BYTES;
    if (*c->send_queue_bytes < HIVE_MIN_SEND_QUEUE_BYTES)
        return hive__create_fail(HIVE_EINVAL, "send_queue_bytes", "%s.send_queue_bytes: %zu is under the minimum of %u",
                                 c->what, *c->send_queue_bytes, HIVE_MIN_SEND_QUEUE_BYTES);
    if (!*c->frame_timeout_ms) *c->frame_timeout_ms = HIVE_DEFAULT_FRAME_TIMEOUT_MS;
    if (*c->frame_timeout_ms < HIVE_MIN_FRAME_TIMEOUT_MS)
        return hive__create_fail(HIVE_EINVAL, "frame_timeout_ms", "%s.frame_timeout_ms: %u is under the minimum of %u",
                                 c->what, *c->frame_timeout_ms, HIVE_MIN_FRAME_TIMEOUT_MS);
    if (*c->recv_frames_per_sec && *c->recv_frames_per_sec < HIVE_MIN_RECV_FRAMES_PER_SEC)
        return hive__create_fail(HIVE_EINVAL, "recv_frames_per_sec",
                                 "%s.recv_frames_per_sec: %u is under the minimum of %u (0 turns it off)", c->what,
                                 *c->recv_frames_per_sec, HIVE_MIN_RECV_FRAMES_PER_SEC);
    if (*c->recv_bytes_per_sec && *c->recv_bytes_per_sec < *c->max_frame)
        return hive__create_fail(HIVE_EINVAL, "recv_bytes_per_sec",
                                 "%s.recv_bytes_per_sec: %u is under max_frame (%u): a whole frame must fit (0 turns it off)",
                                 c->what, *c->recv_bytes_per_sec, *c->max_frame);
    if (!*c->drain_timeout_ms) *c->drain_timeout_ms = HIVE_DEFAULT_DRAIN_TIMEOUT_MS;
    if (*c->drain_timeout_ms != -1 && (*c->drain_timeout_ms < 1 || *c->drain_timeout_ms > HIVE_MAX_DRAIN_TIMEOUT_MS))
        return hive__create_fail(HIVE_EINVAL, "drain_timeout_ms",
                                 "%s.drain_timeout_ms: %d is not -1 (no wait) nor within 1..%d", c->what,
                                 (int)*c->drain_timeout_ms, HIVE_MAX_DRAIN_TIMEOUT_MS);
    if (!*c->compress_threshold) *c->compress_threshold = HIVE_DEFAULT_COMPRESS_THRESHOLD;
    if (*c->compress_threshold != -1 && *c->compress_threshold < HIVE_MIN_COMPRESS_THRESHOLD)
        return hive__create_fail(HIVE_EINVAL, "compress_threshold",
                                 "%s.compress_threshold: %d is not -1 (off) nor at least %d", c->what,
                                 (int)*c->compress_threshold, HIVE_MIN_COMPRESS_THRESHOLD);
    if (*c->heartbeat_ms >= *c->heartbeat_timeout_ms)
        return hive__create_fail(HIVE_EINVAL, "heartbeat_ms", "%s.heartbeat_ms: %u must be under heartbeat_timeout_ms (%u)",
                                 c->what, *c->heartbeat_ms, *c->heartbeat_timeout_ms);
    if (*c->max_frame < HIVE_MIN_MAX_FRAME)
        return hive__create_fail(HIVE_EINVAL, "max_frame", "%s.max_frame: %u is under the minimum of %u",
                                 c->what, *c->max_frame, HIVE_MIN_MAX_FRAME);
    if (*c->max_frame > HIVE_MAX_MAX_FRAME)
        return hive__create_fail(HIVE_EINVAL, "max_frame", "%s.max_frame: %u is over the limit of %u",
                                 c->what, *c->max_frame, HIVE_MAX_MAX_FRAME);
    if (strlen(*c->app) > HIVE_HELLO_STR_MAX)
        return hive__create_fail(HIVE_EINVAL, "app", "%s.app: longer than %d bytes", c->what, HIVE_HELLO_STR_MAX);
    if (strlen(*c->app_version) > HIVE_HELLO_STR_MAX)
        return hive__create_fail(HIVE_EINVAL, "app_version", "%s.app_version: longer than %d bytes", c->what,
                                 HIVE_HELLO_STR_MAX);
    return HIVE_OK;
}

int hive__ep_transfers(hive__ep *ep, const char *what, uint32_t max_frame, size_t *queue, uint32_t *n,
                       size_t *recv, bool no_pieces)
{
    if (!*queue) *queue = HIVE_DEFAULT_TRANSFER_QUEUE_BYTES > max_frame ? HIVE_DEFAULT_TRANSFER_QUEUE_BYTES : max_frame;
    if (!*n) *n = HIVE_DEFAULT_MAX_TRANSFERS;
    if (!*recv) *recv = HIVE_DEFAULT_TRANSFER_RECV_BYTES > max_frame ? HIVE_DEFAULT_TRANSFER_RECV_BYTES : max_frame;
    if (*queue < max_frame)
        return hive__create_fail(HIVE_EINVAL, "transfer_queue_bytes",
                                 "%s.transfer_queue_bytes: %zu is under max_frame (%u): one whole message must fit",
                                 what, *queue, max_frame);
    if (*n > HIVE_MAX_MAX_TRANSFERS)
        return hive__create_fail(HIVE_EINVAL, "max_transfers", "%s.max_transfers: %u is over the limit of %u", what,
                                 *n, HIVE_MAX_MAX_TRANSFERS);
    if (*recv < max_frame)
        return hive__create_fail(HIVE_EINVAL, "transfer_recv_bytes",
                                 "%s.transfer_recv_bytes: %zu is under max_frame (%u): one whole message must fit",
                                 what, *recv, max_frame);
    ep->xfer_max = *queue;
    ep->xfer_n = *n;
    ep->xfer_recv_max = *recv;
    ep->no_pieces = no_pieces;
    return HIVE_OK;
}

int hive__ep_netsim(hive__ep *ep, const char *what, const char **spec)
{
    const char *text = *spec;
    bool env = false;
    if (!text) {
        text = getenv("HIVE_NETSIM");
        env = true;
    }
    char err[200];
    if (hive__netsim_parse(text, &ep->netsim, err, sizeof err) < 0) {
        if (env) return hive__create_fail(HIVE_EINVAL, "netsim", "HIVE_NETSIM (environment, for %s.netsim): %s", what, err);
        return hive__create_fail(HIVE_EINVAL, "netsim", "%s.netsim: %s", what, err);
    }
    *spec = NULL;
    if (!ep->netsim.on) return HIVE_OK;
    ep->netsim_text = hive__strdup(text);
    if (!ep->netsim_text) return HIVE_ENOMEM;
    *spec = ep->netsim_text;
    return HIVE_OK;
}

static int intern_events(hive__ep *ep)
{
    for (int i = 0; i < HIVE__EV_COUNT; i++) {
        if (!ep->face->names[i]) continue;
        hive_event_id id = hive_bus_intern(ep->bus, ep->face->names[i]);
        if (id <= 0) return id < 0 ? id : HIVE_ENOMEM;
        ep->ev[i] = id;
    }
    return HIVE_OK;
}

/* Sets up ep for face (interning its events on bus). */
static int ep_init(hive__ep *ep, hive_bus *bus, const hive__ep_face *face)
{
    memset(ep, 0, sizeof *ep);
    ep->bus = bus;
    ep->self = ep;        /* the face's object starts with its endpoint */
    ep->face = face;
    ep->self_key = face->key;
    if (pthread_mutex_init(&ep->lock, NULL) != 0) return HIVE_ENOMEM;
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0) { pthread_mutex_destroy(&ep->lock); return HIVE_ENOMEM; }
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&ep->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0) { pthread_mutex_destroy(&ep->lock); return HIVE_ENOMEM; }
    ep->now = hive__now_ms();
    rc = intern_events(ep);
    if (rc < 0) {
        pthread_cond_destroy(&ep->cond);
        pthread_mutex_destroy(&ep->lock);
    }
    return rc;
}

static void ep_fini(hive__ep *ep);

void *hive__ep_create(size_t size, hive_bus *bus, const hive__ep_face *face, const void *cfg)
{
    if (!bus) {
        hive__create_fail(HIVE_EINVAL, "bus", "hive_%s_create: bus is NULL", face->key);
        return NULL;
    }
    hive__ep *ep = hive__calloc(1, size);
    int rc = ep ? ep_init(ep, bus, face) : HIVE_ENOMEM;
    if (rc < 0) {
        hive__free(ep);
        if (rc == HIVE_ENOMEM) hive__create_fail(rc, "", "hive_%s_create: out of memory", face->key);
        else hive__create_fail(rc, "bus", "hive_%s_create: the bus refused its event names: %s", face->key,
                               hive_strerror(rc));
        return NULL;
    }
    rc = face->setup(ep, cfg);
    if (rc < 0) {
        /* A bad field was recorded by setup; anything else is memory. */
        if (rc == HIVE_ENOMEM) hive__create_fail(HIVE_ENOMEM, "", "hive_%s_create: out of memory", face->key);
        hive__ep_destroy(ep);
        return NULL;
    }
    hive__create_ok();
    hive__ep_emit_self(ep, HIVE__EV_INITIALIZE);
    return ep->self;
}

void hive__ep_destroy(hive__ep *ep)
{
    ep->face->teardown(ep);
    ep_fini(ep);
    hive__free(ep);
}

void hive__ep_options(hive__ep *ep, const void *cfg, size_t cfg_size, bool threaded, bool pull,
                      size_t pull_cap, bool lazy_decode, uint32_t max_frame, size_t send_queue_bytes)
{
    ep->sendq_max = send_queue_bytes;
    ep->sendq_high = send_queue_bytes / 2;
    ep->sendq_low = send_queue_bytes / 4;
    ep->cfg = cfg;
    ep->cfg_size = cfg_size;
    ep->threaded = threaded;
    ep->pull = pull;
    ep->p_cap = pull_cap;
    ep->lazy_decode = lazy_decode;
    ep->max_frame = max_frame;
}

int hive__ep_config_get(const hive__ep *ep, void *out)
{
    if (!ep || !out) return HIVE_EINVAL;
    memcpy(out, ep->cfg, ep->cfg_size);
    return HIVE_OK;
}

int hive__ep_keep(hive__ep *ep, const char **app, const char **app_version, hive_tls_config *tls)
{
    /* The TLS paths are read when the transport starts: keep copies. */
    hive_tls_config given = *tls;
    if (hive__tls_config_dup(tls, &given) < 0) return HIVE_ENOMEM;
    ep->tls = tls;
    ep->app = hive__strdup(*app);
    ep->app_version = hive__strdup(*app_version);
    if (!ep->app || !ep->app_version) return HIVE_ENOMEM;   /* fini frees what was kept */
    *app = ep->app;
    *app_version = ep->app_version;
    return HIVE_OK;
}

int hive__ep_open(hive__ep *ep, const char *addr, size_t max_links, bool no_coalesce, hive__addr *a,
                  hive__transport **out)
{
    int rc = strchr(addr, ',') ? HIVE_OK : hive__addr_parse(addr, HIVE_DEFAULT_PORT, a);
    if (rc < 0) return rc;
    hive__transport_cb cb;
    hive__ep_transport_cb(ep, &cb);
    hive__transport_opts o = {
        .max_links = max_links,
        .timeout_ms = ep->tm.heartbeat_timeout_ms + ep->tm.heartbeat_ms,
        .max_frame = ep->max_frame,
        .coalesce_off = no_coalesce,
        .tls = ep->tls,
        .bw_in = ep->bw_in,
        .bw_out = ep->bw_out,
        .max_per_addr = ep->max_per_addr,
        .ws_origins = (const char *const *)ep->ws_origins,
        .ws_norigins = ep->ws_norigins,
        .web_root = ep->web_root,
    };
    if (strchr(addr, ','))   /* several listeners (hive_server_config.addr) */
        return hive__mux_create(addr, &cb, &o, ep->netsim.on ? &ep->netsim : NULL, a, out);
    if (ep->netsim.on) return hive__netsim_create(&ep->netsim, a, &cb, &o, out);
    return hive__transport_create(a, &cb, &o, out);
}

void hive__ep_set_transport(hive__ep *ep, hive__transport *tr)
{
    pthread_mutex_lock(&ep->lock);
    __atomic_store_n(&ep->tr, tr, __ATOMIC_RELEASE);
    ep->closed = false;
    pthread_mutex_unlock(&ep->lock);
    ep->stream = tr->vt->stream;
}

void hive__ep_drop_transport(hive__ep *ep)
{
    pthread_mutex_lock(&ep->lock);
    hive__transport *tr = ep->tr;
    __atomic_store_n(&ep->tr, NULL, __ATOMIC_RELEASE);
    /* The transport's counters outlive it: "all since create". */
    hive__transport_stats ts;
    if (tr && tr->vt->stats && tr->vt->stats(tr, &ts) == HIVE_OK) {
        HIVE__STAT_ADD(ep, sealed_opened, ts.sealed_opened);
        HIVE__STAT_ADD(ep, sealed_rejected, ts.sealed_rejected);
        HIVE__STAT_ADD(ep, sealed_replayed, ts.sealed_replayed);
        HIVE__STAT_ADD(ep, enet_half_open_reaped, ts.enet_half_open_reaped);
        HIVE__STAT_ADD(ep, netsim_dropped, ts.netsim_dropped);
        HIVE__STAT_ADD(ep, netsim_duplicated, ts.netsim_duplicated);
        HIVE__STAT_ADD(ep, netsim_cuts, ts.netsim_cuts);
    }
    pthread_mutex_unlock(&ep->lock);
    if (tr) tr->vt->destroy(tr);
}

int hive__ep_next(hive__ep *ep, hive_packet *out)
{
    if (!out) return HIVE_EINVAL;
    if (!ep->pull) return HIVE_ESTATE;
    return hive__ep_pull_pop(ep, out);
}

/* Frees queues, decoder, table and kept strings; not the transport. */
static void ep_fini(hive__ep *ep)
{
    hive__qitem *q = ep->q_head;
    while (q) { hive__qitem *n = q->next; hive__free(q); q = n; }
    hive__pitem *p = ep->p_head;
    while (p) { hive__pitem *n = p->next; hive__free(p); p = n; }
    ep->q_head = ep->q_tail = NULL;
    ep->p_head = ep->p_tail = NULL;
    hive__decoder_free(&ep->dec);
    hive__ptable_free(ep->pt);
    ep->pt = NULL;
    hive__shape_free_all(ep->shapes);
    ep->shapes = NULL;
    hive__zstd_free(&ep->z);
    for (size_t k = 0; k < ep->n_nozip; k++) hive__free(ep->nozip[k]);
    hive__free(ep->nozip);
    ep->nozip = NULL;
    ep->n_nozip = 0;
    hive__tls_config_free(ep->tls);
    hive__admit_free(&ep->adm);
    hive__free(ep->app);
    hive__free(ep->app_version);
    hive__free(ep->netsim_text);
    pthread_cond_destroy(&ep->cond);
    pthread_mutex_destroy(&ep->lock);
}

void hive__ep_emit(hive__ep *ep, hive_event_id id, const hive_field *f, size_t n)
{
    if (id <= 0) return;
    if (ep->threaded) hive_bus_post(ep->bus, id, f, n);
    else hive_bus_publish(ep->bus, id, f, n);
}

void hive__ep_emit_self(hive__ep *ep, hive__ev which)
{
    hive_field f[] = { HIVE_PTR(ep->self_key, ep->self) };
    hive__ep_emit(ep, ep->ev[which], f, 1);
}

void hive__ep_emit_reason(hive__ep *ep, hive__ev which, int reason)
{
    hive_field f[] = {
        HIVE_PTR(ep->self_key, ep->self),
        HIVE_INT("reason", reason),
        HIVE_STR("reason_name", hive_close_reason_name(reason)),
    };
    hive__ep_emit(ep, ep->ev[which], f, 3);
}

bool hive__ep_on_io_thread(hive__ep *ep)
{
    if (!__atomic_load_n(&ep->io_thread_set, __ATOMIC_ACQUIRE)) return false;
    pthread_t t;
    __atomic_load(&ep->io_thread, &t, __ATOMIC_RELAXED);
    return pthread_equal(t, pthread_self()) != 0;
}

void hive__ep_set_io_thread(hive__ep *ep, pthread_t t)
{
    __atomic_store(&ep->io_thread, &t, __ATOMIC_RELAXED);
    __atomic_store_n(&ep->io_thread_set, 1, __ATOMIC_RELEASE);
}

int hive__ep_request(hive__ep *ep, hive__qkind kind, hive_cid cid, uint32_t pid,
                     int dlv, int reason, const void *body, size_t len)
{
    hive__qitem *q = hive__malloc(sizeof *q + len);
    if (!q) return HIVE_ENOMEM;
    q->next = NULL;
    q->kind = (uint8_t)kind;
    q->dlv = dlv;
    q->cid = cid;
    q->pid = pid;
    q->reason = reason;
    q->len = len;
    if (len) memcpy(q->data, body, len);
    pthread_mutex_lock(&ep->lock);
    if (ep->q_tail) ep->q_tail->next = q;
    else ep->q_head = q;
    ep->q_tail = q;
    __atomic_fetch_add(&ep->q_count, 1, __ATOMIC_RELAXED);   /* also read unlocked */
    hive__transport *tr = ep->tr;
    /* Waking under the lock: the I/O loop destroys the transport only
     * after clearing ep->tr under this same lock. */
    if (tr) tr->vt->wake(tr);
    pthread_mutex_unlock(&ep->lock);
    return HIVE_OK;
}

hive__qitem *hive__ep_take_requests(hive__ep *ep)
{
    /* Unlocked peek first: the common case is an empty queue and the I/O
     * loop asks every round. A request racing with the peek is seen next
     * round; its wake makes sure there is one. */
    if (!__atomic_load_n(&ep->q_count, __ATOMIC_RELAXED)) return NULL;
    pthread_mutex_lock(&ep->lock);
    hive__qitem *q = ep->q_head;
    ep->q_head = ep->q_tail = NULL;
    __atomic_store_n(&ep->q_count, 0, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&ep->lock);
    return q;
}

void hive__ep_drop_requests(hive__ep *ep)
{
    hive__qitem *q = hive__ep_take_requests(ep);
    while (q) {
        hive__qitem *next = q->next;
        hive__free(q);
        q = next;
    }
}

int hive__pick_dlv(const hive__pentry *pe, unsigned flags)
{
    int kind = (flags & HIVE_SEND_UNORDERED) ? HIVE__DLV_UNORDERED
             : (flags & HIVE_SEND_UNRELIABLE) ? HIVE__DLV_SEQUENCED
             : (flags & HIVE_SEND_RELIABLE) ? HIVE__DLV_RELIABLE
             : pe->delivery == HIVE_UNORDERED ? HIVE__DLV_UNORDERED
             : pe->delivery == HIVE_UNRELIABLE ? HIVE__DLV_SEQUENCED : HIVE__DLV_RELIABLE;
    return HIVE__WITH_LANE(kind, pe->channel);
}

bool hive__frame_fits(uint32_t pid, size_t len, uint32_t max_frame)
{
    uint8_t tmp[HIVE__VARINT_MAX];
    size_t pidlen = hive__varint_encode(pid, tmp);
    return pidlen && len <= max_frame && pidlen + 1 + len <= max_frame;
}

size_t hive__ep_sendq(hive__ep *ep, hive__conn *c)
{
    hive__transport *tr = ep->tr;
    return c->link && tr->vt->queued ? tr->vt->queued(tr, c->link) : 0;
}

bool hive__ep_sendq_high(hive__ep *ep, hive__conn *c)
{
    return ep->tr->vt->queued && hive__ep_sendq(ep, c) >= ep->sendq_high;
}

/* Whether n more bytes fit under c's bound. At the edge the transport is
 * flushed once first: what a peer that reads would take leaves the queue
 * (a flush never calls back). HIVE_OK, HIVE_EFULL, HIVE_ETOOBIG. */
static int sendq_admit(hive__ep *ep, hive__conn *c, size_t n)
{
    hive__transport *tr = ep->tr;
    if (!tr->vt->queued) return HIVE_OK;
    if (n > ep->sendq_max) return HIVE_ETOOBIG;
    size_t q = tr->vt->queued(tr, c->link);
    if (q + n <= ep->sendq_max) return HIVE_OK;
    tr->vt->flush(tr);
    q = tr->vt->queued(tr, c->link);
    return q + n <= ep->sendq_max ? HIVE_OK : HIVE_EFULL;
}

/* After a frame was queued: has c's queue crossed the high-water mark? */
static void sendq_check(hive__ep *ep, hive__conn *c)
{
    if (!ep->tr->vt->queued || c->sendq_warned || c->state == HIVE__C_CLOSING) return;
    size_t q = hive__ep_sendq(ep, c);
    if (q >= ep->sendq_high) hive__ep_sendq_crossed(ep, c, q);
}

void hive__ep_sendq_crossed(hive__ep *ep, hive__conn *c, size_t q)
{
    c->sendq_warned = true;
    if (!c->sendq_high_since) c->sendq_high_since = ep->now;
    hive_event_id id = ep->ev[HIVE__EV_BACKPRESSURE];
    if (!hive_bus_wants(ep->bus, id)) return;
    if (ep->face->one_conn) {
        hive_field f[] = { HIVE_PTR(ep->self_key, ep->self), HIVE_INT("queued_bytes", (int64_t)q) };
        hive__ep_emit(ep, id, f, 2);
    } else {
        hive_field f[] = { HIVE_PTR(ep->self_key, ep->self), HIVE_INT("cid", c->cid),
                           HIVE_INT("queued_bytes", (int64_t)q) };
        hive__ep_emit(ep, id, f, 3);
    }
}

_Static_assert(HIVE__REPLAY_HDR_MAX == HIVE__FRAME_HEADER_MAX, "hive__replay_push2 copies a whole header buffer");

int hive__ep_send_frame(hive__ep *ep, hive__conn *c, uint32_t pid, const void *body,
                        size_t len, int dlv)
{
    return hive__ep_send_frame_f(ep, c, pid, body, len, dlv, 0);
}

int hive__ep_send_frame_f(hive__ep *ep, hive__conn *c, uint32_t pid, const void *body,
                          size_t len, int dlv, uint8_t flags)
{
    const void *parts[1] = { body };
    return hive__ep_send_frame_v(ep, c, pid, parts, &len, len ? 1 : 0, dlv, flags);
}

int hive__ep_send_frame_v(hive__ep *ep, hive__conn *c, uint32_t pid, const void *const *parts,
                          const size_t *plens, int n, int dlv, uint8_t flags)
{
    /* A lane the link lacks is lane 0 (transport.h LANES); Hive's own
     * frames and pieces always go on lane 0. */
    int ln = HIVE__LANE(dlv);
    if (ln && (ln >= hive__replay_nlanes(&c->rp) || pid < HIVE_PID_USER_MIN)) {
        ln = 0;
        dlv = HIVE__KIND(dlv);
    }
    /* Reliable user frames and pieces are counted and kept for a resume
     * (docs/PROTOCOL.md, "Resume"); a suspended session only keeps them. */
    bool counted = HIVE__KIND(dlv) == HIVE__DLV_RELIABLE && hive__pid_counted(pid) && !ep->no_seq;
    /* A session on the move (HANDOFF) sends nothing its ticket does not
     * count: the target numbers what follows. */
    if (c->moving && (counted || pid >= HIVE_PID_USER_MIN)) return HIVE_ESTATE;
    /* After a resume the lanes past 0 wait until the peer has read
     * resumed (hive__ep_lanes_release): their frames are only kept. */
    bool keep_only = !c->link || (ln && c->lanes_held);
    if (keep_only && !(counted && (c->state == HIVE__C_SUSPENDED || c->link))) return c->link ? HIVE_OK : HIVE_ECLOSED;
    hive__replay *rp = ln ? hive__replay_lane(&c->rp, ln) : &c->rp;
    size_t len = 0;
    for (int i = 0; i < n; i++) len += plens[i];
    /* (A compressed body was checked against the peer's limit before:
     * its decompressed size is what counts.) */
    if (!(flags & HIVE__FLAG_COMPRESSED) && !hive__frame_fits(pid, len, c->peer_max_frame)) return HIVE_ETOOBIG;
    uint8_t hdr[HIVE__FRAME_HEADER_MAX];
    size_t hn = hive__frame_header(hdr, pid, (uint8_t)((counted ? HIVE__FLAG_SEQ : 0) | flags), len);
    if (!hn) return HIVE_ETOOBIG;
    const void *pieces[4] = { hdr };
    size_t lens[4] = { hn };
    int np = 1;
    for (int i = 0; i < n && np < 4; i++)
        if (plens[i]) {
            pieces[np] = parts[i];
            lens[np++] = plens[i];
        }
    if (keep_only) {
        /* Held: never push out a frame the peer still needs (it would
         * never be sent). A full pool is a full send queue: the peer has
         * resume_buffer_bytes unacknowledged on its other lanes, and the
         * caller closes it as a slow consumer, as with any full queue. */
        if (c->link && rp->pool && *rp->pool + hn + len > rp->max) return HIVE_EFULL;
        return hive__replay_push(rp, pieces, lens, np) == HIVE_OK ? HIVE_OK : HIVE_ENOMEM;
    }
    int rc = sendq_admit(ep, c, hn + len);
    if (rc < 0) return rc;
    rc = ep->tr->vt->send(ep->tr, c->link, pieces, lens, np, dlv);
    if (rc == HIVE_OK) {
        if (counted) {
            if (np <= 2) hive__replay_push2(rp, hdr, hn, np == 2 ? pieces[1] : NULL, np == 2 ? lens[1] : 0);
            else hive__replay_push(rp, pieces, lens, np);
        }
        sendq_check(ep, c);
        c->last_tx = ep->now;
        HIVE__CSTAT_BUMP(c, st_frames_out, 1);
        HIVE__CSTAT_BUMP(c, st_bytes_out, hn + len);
        if (HIVE__KIND(dlv) != HIVE__DLV_RELIABLE) c->unrel_out++;
        HIVE__STAT_BUMP(ep, frames_out, 1);
        HIVE__STAT_BUMP(ep, bytes_out, hn + len);
    }
    return rc;
}

/* Sends the n frames gathered in pieces/lens (total bytes) as one, on lane ln. */
static int replay_batch(hive__ep *ep, hive__conn *c, int ln, const void **pieces, const size_t *lens, int n,
                        size_t total)
{
    if (!n) return HIVE_OK;
    int rc = sendq_admit(ep, c, total);
    if (rc < 0) return rc;
    rc = ep->tr->vt->send(ep->tr, c->link, pieces, lens, n, HIVE__WITH_LANE(HIVE__DLV_RELIABLE, ln));
    if (rc < 0) return rc;
    HIVE__CSTAT_BUMP(c, st_frames_out, (uint64_t)n);
    HIVE__CSTAT_BUMP(c, st_bytes_out, total);
    HIVE__STAT_BUMP(ep, frames_out, (uint64_t)n);
    HIVE__STAT_BUMP(ep, bytes_out, total);
    return HIVE_OK;
}

static int replay_lane(hive__ep *ep, hive__conn *c, int ln);

int hive__ep_replay(hive__ep *ep, hive__conn *c, int from, int to)
{
    if (to > hive__replay_nlanes(&c->rp)) to = hive__replay_nlanes(&c->rp);
    for (int ln = from; ln < to; ln++) {
        int rc = replay_lane(ep, c, ln);
        if (rc < 0) return rc;
    }
    c->last_tx = ep->now;
    return HIVE_OK;
}

void hive__ep_lanes_release(hive__ep *ep, hive__conn *c)
{
    c->lanes_held = false;
    int rc = hive__ep_replay(ep, c, 1, HIVE__LANES_MAX);
    if (rc < 0)
        hive__ep_close(ep, c, rc == HIVE_EFULL ? HIVE_CLOSE_SLOW_CONSUMER : HIVE_CLOSE_NO_MEMORY,
                       "the replay did not fit", false, HIVE__CLOSE_FRAME, false);
}

/* Sends again what lane ln kept past the peer's acknowledgement. */
static int replay_lane(hive__ep *ep, hive__conn *c, int ln)
{
    hive__replay *r = hive__replay_lane(&c->rp, ln);
    uint64_t after = r->acked;
    /* Whole frames go a packet's worth at a time (ep.h): a replay is a
     * burst of many, often small, frames, and each send is a packet the
     * network may lose, so fewer sends leave fewer chances for one loss
     * to hold up everything behind it on the ordered channel. */
    const void *pieces[HIVE__REPLAY_BATCH_FRAMES];
    size_t lens[HIVE__REPLAY_BATCH_FRAMES], total = 0, n;
    int np = 0, rc;
    hive__replay_cur cur = { 0 };
    const uint8_t *p;
    while (hive__replay_next(r, &cur, &p, &n)) {
        if (cur.seq <= after) continue;
        if (np == HIVE__REPLAY_BATCH_FRAMES || (np && total + n > HIVE__REPLAY_BATCH_BYTES)) {
            if ((rc = replay_batch(ep, c, ln, pieces, lens, np, total)) < 0) return rc;
            np = 0;
            total = 0;
        }
        pieces[np] = p;
        lens[np++] = n;
        total += n;
    }
    return replay_batch(ep, c, ln, pieces, lens, np, total);
}

void hive__ep_send_ack(hive__ep *ep, hive__conn *c)
{
    hive_msg m;
    hive_msg_init(&m);
    /* One lane: the count. More: every lane's count, lane 0 first. */
    int nl = hive__replay_nlanes(&c->rp), rc = 0;
    if (nl == 1) rc = hive_msg_uint(&m, c->rp.recv);
    else {
        rc = hive_msg_array(&m, (uint32_t)nl);
        for (int ln = 0; ln < nl && rc == 0; ln++) rc = hive_msg_uint(&m, hive__replay_lane(&c->rp, ln)->recv);
    }
    if (rc == 0 && hive__ep_send_msg(ep, c, HIVE__PID_ACK, &m) == HIVE_OK) {
        for (int ln = 0; ln < nl; ln++) {
            hive__replay *r = hive__replay_lane(&c->rp, ln);
            r->ack_sent = r->recv;
        }
        c->rp.recv_unacked = 0;
        c->rp.ack_at = ep->now;
    }
    hive_msg_free(&m);
}

int hive__ep_bcast_init_z(hive__bcast *b, uint32_t pid, const void *body, size_t len, size_t raw_len,
                          int dlv)
{
    int rc = hive__ep_bcast_init(b, pid, body, len, dlv);
    if (rc < 0) return rc;
    b->hn = hive__frame_header(b->hdr, pid, (uint8_t)((b->counted ? HIVE__FLAG_SEQ : 0) | HIVE__FLAG_COMPRESSED), len);
    b->compressed = true;
    if (!b->hn) return HIVE_ETOOBIG;
    uint8_t tmp[HIVE__VARINT_MAX];
    b->need = hive__varint_encode(pid, tmp) + 1 + raw_len;   /* what the peer will hold */
    return HIVE_OK;
}

int hive__ep_bcast_init(hive__bcast *b, uint32_t pid, const void *body, size_t len, int dlv)
{
    memset(b, 0, sizeof *b);
    uint8_t tmp[HIVE__VARINT_MAX];
    size_t pidlen = hive__varint_encode(pid, tmp);
    b->counted = HIVE__KIND(dlv) == HIVE__DLV_RELIABLE && hive__pid_counted(pid);
    b->hn = hive__frame_header(b->hdr, pid, b->counted ? HIVE__FLAG_SEQ : 0, len);
    if (!pidlen || !b->hn) return HIVE_ETOOBIG;
    b->body = body;
    b->len = len;
    b->need = pidlen + 1 + len;
    b->dlv = dlv;
    b->pid = pid;
    return HIVE_OK;
}

int hive__ep_bcast_send(hive__ep *ep, hive__conn *c, hive__bcast *b)
{
    /* (A session on the move takes no broadcast: HANDOFF.) */
    if (c->moving && (b->counted || b->pid >= HIVE_PID_USER_MIN)) return HIVE_ESTATE;
    if (b->need > c->peer_max_frame) return HIVE_ETOOBIG;
    /* A connection without the broadcast's lane, or whose lanes wait
     * after a resume, sends it as a frame of its own. */
    int ln = HIVE__LANE(b->dlv);
    if (ln && (ln >= hive__replay_nlanes(&c->rp) || c->lanes_held || !c->link)) {
        const void *parts[1] = { b->body };
        return hive__ep_send_frame_v(ep, c, b->pid, parts, &b->len, b->len ? 1 : 0, b->dlv,
                                     b->compressed ? HIVE__FLAG_COMPRESSED : 0);
    }
    if (!c->link) {
        if (!b->counted || c->state != HIVE__C_SUSPENDED) return HIVE_ECLOSED;
        const void *pieces[2] = { b->hdr, b->body };
        size_t lens[2] = { b->hn, b->len };
        return hive__replay_push(&c->rp, pieces, lens, b->len ? 2 : 1) == HIVE_OK ? HIVE_OK : HIVE_ENOMEM;
    }
    hive__transport *tr = ep->tr;
    int rc = sendq_admit(ep, c, b->hn + b->len);
    if (rc < 0) return rc;
    const void *pieces[2] = { b->hdr, b->body };
    size_t lens[2] = { b->hn, b->len };
    int np = b->len ? 2 : 1;
    if (!b->tried) {
        b->tried = true;
        if (tr->vt->share) b->shared = tr->vt->share(tr, pieces, lens, np, b->dlv);
    }
    rc = b->shared ? tr->vt->send_shared(tr, c->link, b->shared)
                   : tr->vt->send(tr, c->link, pieces, lens, np, b->dlv);
    if (rc == HIVE_OK) {
        if (b->counted) hive__replay_push2(ln ? hive__replay_lane(&c->rp, ln) : &c->rp, b->hdr, b->hn, b->body, b->len);
        sendq_check(ep, c);
        c->last_tx = ep->now;
        b->frames++;
        b->bytes += b->hn + b->len;
        if (HIVE__KIND(b->dlv) != HIVE__DLV_RELIABLE) c->unrel_out++;
        HIVE__CSTAT_BUMP(c, st_frames_out, 1);
        HIVE__CSTAT_BUMP(c, st_bytes_out, b->hn + b->len);
    }
    return rc;
}

void hive__ep_bcast_fini(hive__ep *ep, hive__bcast *b)
{
    if (b->shared) ep->tr->vt->unshare(ep->tr, b->shared);
    b->shared = NULL;
    if (b->frames) {
        HIVE__STAT_BUMP(ep, frames_out, b->frames);
        HIVE__STAT_BUMP(ep, bytes_out, b->bytes);
    }
}

int hive__ep_send_msg(hive__ep *ep, hive__conn *c, uint32_t pid, const hive_msg *m)
{
    return hive__ep_send_frame(ep, c, pid, hive_msg_data(m), hive_msg_size(m), true);
}

bool hive__ep_pull_push(hive__ep *ep, hive_cid cid, uint32_t pid, const char *name,
                        const void *raw, size_t len)
{
    size_t nl = strlen(name) + 1;
    hive__pitem *p = hive__malloc(sizeof *p + len + nl);
    if (!p) {
        HIVE__STAT_ADD(ep, packets_dropped, 1);
        return false;
    }
    p->next = NULL;
    p->cid = cid;
    p->pid = pid;
    p->len = len;
    memcpy(p->data, raw, len);
    memcpy(p->data + len, name, nl);
    p->name = (const char *)p->data + len;
    pthread_mutex_lock(&ep->lock);
    if (ep->p_count >= ep->p_cap) {
        pthread_mutex_unlock(&ep->lock);
        hive__free(p);
        HIVE__STAT_ADD(ep, packets_dropped, 1);
        return false;
    }
    if (ep->p_tail) ep->p_tail->next = p;
    else ep->p_head = p;
    ep->p_tail = p;
    ep->p_count++;
    if (ep->waiters) pthread_cond_broadcast(&ep->cond);
    pthread_mutex_unlock(&ep->lock);
    return true;
}

int hive__ep_pull_pop(hive__ep *ep, hive_packet *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&ep->lock);
    hive__pitem *p = ep->p_head;
    if (p) {
        ep->p_head = p->next;
        if (!ep->p_head) ep->p_tail = NULL;
        ep->p_count--;
    }
    pthread_mutex_unlock(&ep->lock);
    if (!p) return 0;
    msgpack_unpacked_init(&out->up_);
    /* The I/O loop checked the body before queueing it. */
    int rc = hive__mp_unpack(&out->up_, p->data, p->len);
    if (rc) {
        msgpack_unpacked_destroy(&out->up_);
        memset(out, 0, sizeof *out);
        hive__free(p);
        return rc;
    }
    out->cid = p->cid;
    out->pid = p->pid;
    out->name = p->name;
    out->msg = &out->up_.data;
    out->raw = p->data;
    out->len = p->len;
    out->priv_ = p;
    return 1;
}

void hive_packet_free(hive_packet *p)
{
    if (!p || !p->priv_) return;
    msgpack_unpacked_destroy(&p->up_);
    hive__free(p->priv_);
    memset(p, 0, sizeof *p);
}

void hive__ep_wake_all(hive__ep *ep, bool closed)
{
    pthread_mutex_lock(&ep->lock);
    if (closed) ep->closed = true;
    ep->wake_gen++;
    pthread_cond_broadcast(&ep->cond);
    pthread_mutex_unlock(&ep->lock);
}

void hive__deadline(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

int hive__ep_pull_wait(hive__ep *ep, int timeout_ms)
{
    struct timespec dl;
    if (timeout_ms >= 0) hive__deadline(&dl, timeout_ms);
    int rc = 0;
    pthread_mutex_lock(&ep->lock);
    unsigned gen = ep->wake_gen;
    ep->waiters++;
    for (;;) {
        if (ep->p_count) { rc = 1; break; }
        if (ep->closed || ep->wake_gen != gen) { rc = HIVE_ECLOSED; break; }
        int w = timeout_ms >= 0 ? pthread_cond_timedwait(&ep->cond, &ep->lock, &dl)
                                : pthread_cond_wait(&ep->cond, &ep->lock);
        if (w == ETIMEDOUT) { rc = ep->p_count ? 1 : 0; break; }
    }
    ep->waiters--;
    pthread_mutex_unlock(&ep->lock);
    return rc;
}

void hive__ep_stats(const hive__ep *ep, hive_net_stats *out)
{
    out->frames_in = __atomic_load_n(&ep->stats.frames_in, __ATOMIC_RELAXED);
    out->frames_out = __atomic_load_n(&ep->stats.frames_out, __ATOMIC_RELAXED);
    out->bytes_in = __atomic_load_n(&ep->stats.bytes_in, __ATOMIC_RELAXED);
    out->bytes_out = __atomic_load_n(&ep->stats.bytes_out, __ATOMIC_RELAXED);
    out->packets_dropped = __atomic_load_n(&ep->stats.packets_dropped, __ATOMIC_RELAXED);
    out->accepted = __atomic_load_n(&ep->stats.accepted, __ATOMIC_RELAXED);
    out->rejected = __atomic_load_n(&ep->stats.rejected, __ATOMIC_RELAXED);
    out->closed = __atomic_load_n(&ep->stats.closed, __ATOMIC_RELAXED);
    out->pongs_dropped = __atomic_load_n(&ep->stats.pongs_dropped, __ATOMIC_RELAXED);
    out->slow_consumers = __atomic_load_n(&ep->stats.slow_consumers, __ATOMIC_RELAXED);
    out->slow_senders = __atomic_load_n(&ep->stats.slow_senders, __ATOMIC_RELAXED);
    out->rate_limited = __atomic_load_n(&ep->stats.rate_limited, __ATOMIC_RELAXED);
    out->resumes = __atomic_load_n(&ep->stats.resumes, __ATOMIC_RELAXED);
    out->resumes_refused = __atomic_load_n(&ep->stats.resumes_refused, __ATOMIC_RELAXED);
    out->shape_rejected = __atomic_load_n(&ep->stats.shape_rejected, __ATOMIC_RELAXED);
    out->compressed_out = __atomic_load_n(&ep->stats.compressed_out, __ATOMIC_RELAXED);
    out->compress_saved = __atomic_load_n(&ep->stats.compress_saved, __ATOMIC_RELAXED);
    out->compressed_in = __atomic_load_n(&ep->stats.compressed_in, __ATOMIC_RELAXED);
    out->transfers_out = __atomic_load_n(&ep->stats.transfers_out, __ATOMIC_RELAXED);
    out->transfers_in = __atomic_load_n(&ep->stats.transfers_in, __ATOMIC_RELAXED);
    out->transfers_refused = __atomic_load_n(&ep->stats.transfers_refused, __ATOMIC_RELAXED);
    out->busy_rejected = __atomic_load_n(&ep->stats.busy_rejected, __ATOMIC_RELAXED);
    out->handshakes_evicted = __atomic_load_n(&ep->stats.handshakes_evicted, __ATOMIC_RELAXED);
    out->remote_dropped = __atomic_load_n(&ep->stats.remote_dropped, __ATOMIC_RELAXED);
    out->remote_events = __atomic_load_n(&ep->stats.remote_events, __ATOMIC_RELAXED);
    /* Earlier transports' counters plus the live one's (any thread, see
     * ->stats). The lock keeps the transport from being destroyed (and
     * its counts moved into ep->stats) meanwhile. */
    hive__ep *m = (hive__ep *)ep;   /* the lock is not part of the value */
    pthread_mutex_lock(&m->lock);
    out->sealed_opened = __atomic_load_n(&ep->stats.sealed_opened, __ATOMIC_RELAXED);
    out->sealed_rejected = __atomic_load_n(&ep->stats.sealed_rejected, __ATOMIC_RELAXED);
    out->sealed_replayed = __atomic_load_n(&ep->stats.sealed_replayed, __ATOMIC_RELAXED);
    out->enet_half_open_reaped = __atomic_load_n(&ep->stats.enet_half_open_reaped, __ATOMIC_RELAXED);
    out->netsim_dropped = __atomic_load_n(&ep->stats.netsim_dropped, __ATOMIC_RELAXED);
    out->netsim_duplicated = __atomic_load_n(&ep->stats.netsim_duplicated, __ATOMIC_RELAXED);
    out->netsim_cuts = __atomic_load_n(&ep->stats.netsim_cuts, __ATOMIC_RELAXED);
    hive__transport_stats ts;
    if (m->tr && m->tr->vt->stats && m->tr->vt->stats(m->tr, &ts) == HIVE_OK) {
        out->sealed_opened += ts.sealed_opened;
        out->sealed_rejected += ts.sealed_rejected;
        out->sealed_replayed += ts.sealed_replayed;
        out->enet_half_open_reaped += ts.enet_half_open_reaped;
        out->netsim_dropped += ts.netsim_dropped;
        out->netsim_duplicated += ts.netsim_duplicated;
        out->netsim_cuts += ts.netsim_cuts;
    }
    pthread_mutex_unlock(&m->lock);
}

int hive_event_msg(const hive_event *ev, hive_msg_view *tmp, const msgpack_object **out)
{
    if (!ev || !tmp || !out) return HIVE_EINVAL;
    memset(tmp, 0, sizeof *tmp);
    const void *raw, *obj;
    size_t len;
    int rc = hive_event_get_msgpack(ev, "msg", &raw, &len, &obj);
    if (rc) return rc;
    if (obj) {
        *out = obj;
        return 0;
    }
    rc = hive_msg_view_init(tmp, raw, len);
    if (rc) return rc;
    *out = tmp->obj;
    return 0;
}

/* The decoded body of a posted event: a zone attached to the delivery,
 * holding this record and the object tree (strings point into the
 * event's raw bytes, which the bus keeps for the same delivery). */
typedef struct body_tmp {
    msgpack_zone *zone;
    msgpack_object obj;
} body_tmp;

static const char body_key = 0;

static void body_release(void *data)
{
    body_tmp *b = data;
    msgpack_zone_free(b->zone);   /* b lives inside the zone */
}

const msgpack_object *hive_event_body(const hive_event *ev)
{
    const void *raw, *obj;
    size_t len;
    if (hive_event_get_msgpack(ev, "msg", &raw, &len, &obj)) return NULL;
    if (obj) return obj;
    body_tmp *b = hive_event_attached(ev, &body_key);
    if (b) return &b->obj;
    /* Sized to the message, as hive__mp_unpack does. */
    size_t chunk = 128 + 8 * len;
    if (chunk > MSGPACK_ZONE_CHUNK_SIZE) chunk = MSGPACK_ZONE_CHUNK_SIZE;
    msgpack_zone *z = msgpack_zone_new(chunk);
    if (!z) return NULL;
    b = msgpack_zone_malloc(z, sizeof *b);
    /* hive__mp_decode scans first: the bytes may come from any publisher. */
    if (!b || hive__mp_decode(raw, len, z, &b->obj) != 0) {
        msgpack_zone_free(z);
        return NULL;
    }
    b->zone = z;
    if (hive_event_attach(ev, &body_key, b, body_release) != HIVE_OK) {
        msgpack_zone_free(z);
        return NULL;
    }
    return &b->obj;
}

/* ---- Per-connection statistics ---- */

int hive__ep_stats_interval(hive__ep *ep, const char *what, int32_t *v)
{
    if (!*v) *v = HIVE_DEFAULT_STATS_INTERVAL_MS;
    if (*v != -1 && (*v < HIVE_MIN_STATS_INTERVAL_MS || *v > HIVE_MAX_STATS_INTERVAL_MS))
        return hive__create_fail(HIVE_EINVAL, "stats_interval_ms",
                                 "%s.stats_interval_ms: %d is not -1 (off) nor within %d..%d", what, (int)*v,
                                 HIVE_MIN_STATS_INTERVAL_MS, HIVE_MAX_STATS_INTERVAL_MS);
    ep->stats_interval_ms = *v;
    return HIVE_OK;
}

/* A ping body: the sender's clock in microseconds, alone (protocol 1
 * peers) or followed by how many unreliable frames it has sent so far. */
static bool ping_fields(const msgpack_object *o, uint64_t *t_us, uint64_t *unrel, bool *has_unrel)
{
    *has_unrel = false;
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        *t_us = o->via.u64;
        return true;
    }
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 1 ||
        o->via.array.ptr[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return false;
    *t_us = o->via.array.ptr[0].via.u64;
    if (o->via.array.size >= 2 && o->via.array.ptr[1].type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        *unrel = o->via.array.ptr[1].via.u64;
        *has_unrel = true;
    }
    return true;
}

void hive__ep_loss_sample(hive__ep *ep, hive__conn *c, const uint8_t *body, size_t len)
{
    /* Stream transports lose nothing; the estimate is for datagrams. */
    if (c->stream) return;
    const msgpack_object *o;
    uint64_t t, sent;
    bool has;
    if (hive__decode(&ep->dec, body, len, &o) < 0 || !ping_fields(o, &t, &sent, &has) || !has) return;
    uint64_t got = c->unrel_in;
    if (c->loss_seen && sent >= c->loss_sent0 && got >= c->loss_got0) {
        uint64_t ds = sent - c->loss_sent0, dg = got - c->loss_got0;
        /* Frames sent just before the ping may arrive just after it (the
         * channels are independent): the window's count can be off by a
         * few either way; the average evens that out. */
        if (ds) {
            if (dg > ds) dg = ds;
            uint32_t sample = (uint32_t)((ds - dg) * 1000000u / ds);
            uint32_t ppm = c->st_loss_n ? (uint32_t)(((uint64_t)c->st_loss_ppm * 7 + sample) / 8) : sample;
            __atomic_store_n(&c->st_loss_ppm, ppm, __ATOMIC_RELAXED);
            __atomic_store_n(&c->st_loss_n, c->st_loss_n + 1, __ATOMIC_RELAXED);
        }
    }
    c->loss_seen = true;
    c->loss_sent0 = sent;
    c->loss_got0 = got;
}

void hive__ep_rtt_sample(hive__ep *ep, hive__conn *c, const uint8_t *body, size_t len)
{
    const msgpack_object *o;
    uint64_t sent, unused;
    bool has;
    if (hive__decode(&ep->dec, body, len, &o) < 0 || !ping_fields(o, &sent, &unused, &has)) return;
    uint64_t now = hive_now_ns() / 1000u;
    /* The peer echoes what we sent; a pong that did not come from one of
     * our pings (in the future, or older than a minute) is not a sample. */
    if (sent > now || now - sent > 60000000u) return;
    uint32_t r = (uint32_t)(now - sent);
    if (!r) r = 1;   /* measured, but under the clock's resolution */
    uint32_t srtt = c->st_srtt_us, var = c->st_rttvar_us;
    if (!c->st_rtt_n) {
        srtt = r;
        var = r / 2;
    } else {
        uint32_t d = srtt > r ? srtt - r : r - srtt;
        var = (uint32_t)(((uint64_t)var * 3 + d) / 4);
        srtt = (uint32_t)(((uint64_t)srtt * 7 + r) / 8);
    }
    __atomic_store_n(&c->st_srtt_us, srtt, __ATOMIC_RELAXED);
    __atomic_store_n(&c->st_rttvar_us, var, __ATOMIC_RELAXED);
    __atomic_store_n(&c->st_rtt_n, c->st_rtt_n + 1, __ATOMIC_RELAXED);
}

void hive__ep_conn_stats(hive__ep *ep, const hive__conn *c, hive_conn_stats *out)
{
    memset(out, 0, sizeof *out);
    uint32_t n = __atomic_load_n(&c->st_rtt_n, __ATOMIC_RELAXED);
    out->rtt_samples = n;
    out->rtt_ms = n ? __atomic_load_n(&c->st_srtt_us, __ATOMIC_RELAXED) / 1000.0 : -1;
    out->rtt_var_ms = n ? __atomic_load_n(&c->st_rttvar_us, __ATOMIC_RELAXED) / 1000.0 : -1;
    out->loss = __atomic_load_n(&c->st_loss_n, __ATOMIC_RELAXED)
                    ? __atomic_load_n(&c->st_loss_ppm, __ATOMIC_RELAXED) / 1e6 : 0;
    out->frames_in = __atomic_load_n(&c->st_frames_in, __ATOMIC_RELAXED);
    out->frames_out = __atomic_load_n(&c->st_frames_out, __ATOMIC_RELAXED);
    out->bytes_in = __atomic_load_n(&c->st_bytes_in, __ATOMIC_RELAXED);
    out->bytes_out = __atomic_load_n(&c->st_bytes_out, __ATOMIC_RELAXED);
    if (hive__ep_on_io_thread(ep) && ep->tr) out->send_queue_bytes = hive__ep_sendq(ep, (hive__conn *)c);
    else out->send_queue_bytes = __atomic_load_n(&c->st_sendq, __ATOMIC_RELAXED);
    uint64_t now = hive__now_ms();
    out->connected_ms = now > c->t_made ? now - c->t_made : 0;
    out->resumes = __atomic_load_n(&c->resumes, __ATOMIC_RELAXED);
}

/* ---- Declared shapes and unknown packet names ---- */

void hive__ep_attach_shapes(hive__ep *ep, hive__ptable *pt)
{
    for (size_t i = 0; pt && i < pt->n; i++) {
        pt->e[i].shape = hive__shape_find(ep->shapes, pt->e[i].name);
        pt->e[i].no_zip = false;
        for (size_t k = 0; k < ep->n_nozip; k++)
            if (!strcmp(ep->nozip[k], pt->e[i].name)) pt->e[i].no_zip = true;
    }
}

int hive__ep_set_zip(hive__ep *ep, const char *name, bool on)
{
    for (size_t k = 0; k < ep->n_nozip; k++) {
        if (strcmp(ep->nozip[k], name)) continue;
        if (on) {
            hive__free(ep->nozip[k]);
            ep->nozip[k] = ep->nozip[--ep->n_nozip];
        }
        hive__ep_attach_shapes(ep, ep->pt);
        return HIVE_OK;
    }
    if (on) return HIVE_OK;
    char **v = hive__realloc(ep->nozip, (ep->n_nozip + 1) * sizeof *v);
    if (!v) return HIVE_ENOMEM;
    ep->nozip = v;
    if (!(v[ep->n_nozip] = hive__strdup(name))) return HIVE_ENOMEM;
    ep->n_nozip++;
    hive__ep_attach_shapes(ep, ep->pt);
    return HIVE_OK;
}

int hive__ep_set_shape(hive__ep *ep, const char *name, const hive_shape_field *fields, size_t n,
                       hive_shape_policy policy)
{
    hive__shape *sh;
    int rc = hive__shape_new(&sh, name, fields, n, policy);
    if (rc < 0) return rc;
    /* Replace an earlier one for the same name (nothing points at it:
     * shapes change only while no packet table is in use). */
    for (hive__shape **pp = &ep->shapes; *pp; pp = &(*pp)->next) {
        if (!strcmp((*pp)->name, name)) {
            hive__shape *old = *pp;
            sh->next = old->next;
            *pp = sh;
            old->next = NULL;
            hive__ep_attach_shapes(ep, ep->pt);   /* a client's last table points at old */
            hive__shape_free_all(old);
            return HIVE_OK;
        }
    }
    sh->next = ep->shapes;
    ep->shapes = sh;
    hive__ep_attach_shapes(ep, ep->pt);
    return HIVE_OK;
}

void hive__ep_warn(hive__ep *ep, const char *code, const char *name, const char *text)
{
    hive_event_id id = ep->ev[HIVE__EV_WARNING];
    if (hive_bus_wants(ep->bus, id)) {
        hive_field f[] = { HIVE_PTR(ep->self_key, ep->self), HIVE_STR("code", code), HIVE_STR("name", name),
                           HIVE_STR("text", text) };
        hive__ep_emit(ep, id, f, 4);
    } else {
        fprintf(stderr, "hive: warning: %s\n", text);
    }
}

int hive__ep_check_names(hive__ep *ep)
{
    const char *prefix = ep->face->recv_prefix;
    if (!ep->pt || !prefix) return 0;
    size_t plen = strlen(prefix);
    int found = 0;
    for (;;) {
        hive_event_id id = (hive_event_id)(ep->names_checked + 1);
        const char *nm = hive_bus_name(ep->bus, id);
        if (!nm) break;
        ep->names_checked++;
        if (strncmp(nm, prefix, plen) != 0 || !hive_bus_wants(ep->bus, id)) continue;
        const char *pkt = nm + plen;
        if (hive_registry_id(ep->pt->reg, pkt) > 0) continue;
        char text[HIVE_NAME_MAX + 160];
        snprintf(text, sizeof text, "a handler listens to %s, but \"%s\" is no packet type of this %s's registry: it will never fire",
                 nm, pkt, ep->self_key);
        hive__ep_warn(ep, "unknown_packet", pkt, text);
        found++;
    }
    return found;
}

int hive__ep_check_shapes(hive__ep *ep)
{
    int found = 0;
    for (const hive__shape *sh = ep->shapes; sh && ep->pt; sh = sh->next) {
        if (hive_registry_id(ep->pt->reg, sh->name) > 0) continue;
        char text[HIVE_NAME_MAX + 120];
        snprintf(text, sizeof text, "a shape is declared for \"%s\", which is no packet type of this %s's registry",
                 sh->name, ep->self_key);
        hive__ep_warn(ep, "unknown_packet", sh->name, text);
        found++;
    }
    return found;
}
