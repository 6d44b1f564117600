/* ep.c - what a server and a client share (see ep.h). */
#include "events/internal.h"
#include "net/ep.h"
#include "net/mpdecode.h"
#include "net/transport_enet_tls.h"

#include <errno.h>
#include <string.h>
#include <time.h>

int hive__ep_init(hive__ep *ep, hive_bus *bus, void *self, const char *self_key,
                  bool threaded, bool pull, size_t pull_cap)
{
    memset(ep, 0, sizeof *ep);
    ep->bus = bus;
    ep->self = self;
    ep->self_key = self_key;
    ep->threaded = threaded;
    ep->pull = pull;
    ep->p_cap = pull_cap;   /* the config resolved the default */
    if (pthread_mutex_init(&ep->lock, NULL) != 0) return HIVE_ENOMEM;
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0) { pthread_mutex_destroy(&ep->lock); return HIVE_ENOMEM; }
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&ep->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0) { pthread_mutex_destroy(&ep->lock); return HIVE_ENOMEM; }
    ep->now = hive__now_ms();
    return HIVE_OK;
}

void hive__ep_fini(hive__ep *ep)
{
    hive__qitem *q = ep->q_head;
    while (q) { hive__qitem *n = q->next; hive__free(q); q = n; }
    hive__pitem *p = ep->p_head;
    while (p) { hive__pitem *n = p->next; hive__free(p); p = n; }
    ep->q_head = ep->q_tail = NULL;
    ep->p_head = ep->p_tail = NULL;
    hive__decoder_free(&ep->dec);
    pthread_cond_destroy(&ep->cond);
    pthread_mutex_destroy(&ep->lock);
}

void hive__ep_emit(hive__ep *ep, hive_event_id id, const hive_field *f, size_t n)
{
    if (id <= 0) return;
    if (ep->threaded) hive_bus_post(ep->bus, id, f, n);
    else hive_bus_publish(ep->bus, id, f, n);
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
                     bool reliable, int reason, const void *body, size_t len)
{
    hive__qitem *q = hive__malloc(sizeof *q + len);
    if (!q) return HIVE_ENOMEM;
    q->next = NULL;
    q->kind = (uint8_t)kind;
    q->reliable = reliable;
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

bool hive__pick_reliable(const hive__pentry *pe, unsigned flags)
{
    if (flags & HIVE_SEND_UNRELIABLE) return false;
    if (flags & HIVE_SEND_RELIABLE) return true;
    return pe->delivery == HIVE_RELIABLE;
}

bool hive__frame_fits(uint32_t pid, size_t len, uint32_t max_frame)
{
    uint8_t tmp[HIVE__VARINT_MAX];
    size_t pidlen = hive__varint_encode(pid, tmp);
    return pidlen && len <= max_frame && pidlen + 1 + len <= max_frame;
}

int hive__ep_send_frame(hive__ep *ep, hive__conn *c, uint32_t pid, const void *body,
                        size_t len, bool reliable)
{
    if (!c->link) return HIVE_ECLOSED;
    if (!hive__frame_fits(pid, len, c->peer_max_frame)) return HIVE_ETOOBIG;
    uint8_t hdr[HIVE__FRAME_HEADER_MAX];
    size_t hn = hive__frame_header(hdr, pid, 0, len);
    if (!hn) return HIVE_ETOOBIG;
    const void *pieces[2] = { hdr, body };
    size_t lens[2] = { hn, len };
    int rc = ep->tr->vt->send(ep->tr, c->link, pieces, lens, len ? 2 : 1, reliable);
    if (rc == HIVE_OK) {
        c->last_tx = ep->now;
        HIVE__STAT_ADD(ep, frames_out, 1);
        HIVE__STAT_ADD(ep, bytes_out, hn + len);
    }
    return rc;
}

int hive__ep_bcast_init(hive__bcast *b, uint32_t pid, const void *body, size_t len, bool reliable)
{
    memset(b, 0, sizeof *b);
    uint8_t tmp[HIVE__VARINT_MAX];
    size_t pidlen = hive__varint_encode(pid, tmp);
    b->hn = hive__frame_header(b->hdr, pid, 0, len);
    if (!pidlen || !b->hn) return HIVE_ETOOBIG;
    b->body = body;
    b->len = len;
    b->need = pidlen + 1 + len;
    b->reliable = reliable;
    return HIVE_OK;
}

int hive__ep_bcast_send(hive__ep *ep, hive__conn *c, hive__bcast *b)
{
    if (!c->link) return HIVE_ECLOSED;
    if (b->need > c->peer_max_frame) return HIVE_ETOOBIG;
    hive__transport *tr = ep->tr;
    const void *pieces[2] = { b->hdr, b->body };
    size_t lens[2] = { b->hn, b->len };
    int np = b->len ? 2 : 1;
    if (!b->tried) {
        b->tried = true;
        if (tr->vt->share) b->shared = tr->vt->share(tr, pieces, lens, np, b->reliable);
    }
    int rc = b->shared ? tr->vt->send_shared(tr, c->link, b->shared)
                       : tr->vt->send(tr, c->link, pieces, lens, np, b->reliable);
    if (rc == HIVE_OK) {
        c->last_tx = ep->now;
        b->frames++;
        b->bytes += b->hn + b->len;
    }
    return rc;
}

void hive__ep_bcast_fini(hive__ep *ep, hive__bcast *b)
{
    if (b->shared) ep->tr->vt->unshare(ep->tr, b->shared);
    b->shared = NULL;
    if (b->frames) {
        HIVE__STAT_ADD(ep, frames_out, b->frames);
        HIVE__STAT_ADD(ep, bytes_out, b->bytes);
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
    out->sealed_opened = out->sealed_rejected = out->sealed_replayed = 0;
    /* The secure-ENet transport's counters live with its links, which only
     * the servicing thread may walk. */
    hive__aead_stats st;
    if (ep->tr && hive__ep_on_io_thread((hive__ep *)ep) && hive__enet_tls_stats(ep->tr, &st) == 0) {
        out->sealed_opened = st.opened;
        out->sealed_rejected = st.auth_failed + st.malformed;
        out->sealed_replayed = st.replayed;
    }
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
