/*
 * server_api.c - hive_server's sending, closing and query functions.
 *
 * Every send checks what it can where it is called (the body is one
 * well-formed msgpack value, packet id, target, size) so errors come back
 * to the caller rather than as the peer's bad_msgpack close. On the I/O thread the frame is
 * queued on the transport at once; from any other thread it travels
 * through the endpoint's locked request queue and the I/O loop sends it
 * in order with everything else from that thread.
 */
#include "net/server/server_internal.h"

#include <string.h>

static bool running(const hive_server *s)
{
    return __atomic_load_n(&s->st, __ATOMIC_ACQUIRE) == HIVE__S_RUNNING;
}


int hive_server_send_id(hive_server *s, hive_cid cid, uint32_t pid, const void *body,
                        size_t len, unsigned flags)
{
    if (!s || (!body && len) || !len) return HIVE_EINVAL;
    int bad = hive__send_check(body, len);
    if (bad) return bad;
    if (!running(s)) return HIVE_ESTATE;
    const hive__pentry *pe = hive__ptable_find(s->ep.pt, pid);
    if (!pe) return HIVE_ENOENT;
    int dlv = hive__pick_dlv(pe, flags);
    if (hive__ep_on_io_thread(&s->ep)) {
        hive__conn *c = hive__cidmap_get(&s->map, cid);
        if (!c) return HIVE_ENOENT;
        hive__ep_enter(&s->ep);
        return hive__ep_leave(&s->ep, hive__ep_send_user(&s->ep, c, pe, body, len, dlv));
    }
    pthread_mutex_lock(&s->ep.lock);
    hive__conn *c = hive__cidmap_get(&s->map, cid);
    /* A suspended session takes reliable frames too (kept for its replay). */
    bool open = c && (__atomic_load_n(&c->open_pub, __ATOMIC_ACQUIRE) || __atomic_load_n(&c->susp_pub, __ATOMIC_ACQUIRE));
    uint32_t maxf = c ? c->peer_max_frame : 0;
    pthread_mutex_unlock(&s->ep.lock);
    if (!c) return HIVE_ENOENT;
    if (!open) return HIVE_ESTATE;
    if (!hive__frame_fits(pid, len, maxf)) return HIVE_ETOOBIG;
    return hive__ep_request(&s->ep, HIVE__Q_SEND, cid, pid, dlv, 0, body, len);
}

int hive_server_send(hive_server *s, hive_cid cid, const char *name, const void *body, size_t len)
{
    if (!s || !name || !body || !len) return HIVE_EINVAL;
    int pid = hive_registry_id(s->reg, name);
    if (pid < 0) return pid;
    return hive_server_send_id(s, cid, (uint32_t)pid, body, len, 0);
}

int hive_server_send_msg(hive_server *s, hive_cid cid, const char *name, const hive_msg *m)
{
    if (!m) return HIVE_EINVAL;
    int bad = hive__send_unfinished(m);
    if (bad) return bad;
    return hive_server_send(s, cid, name, hive_msg_data(m), hive_msg_size(m));
}

int hive_server_broadcast_id(hive_server *s, uint32_t pid, const void *body, size_t len,
                             hive_cid except, unsigned flags)
{
    if (!s || (!body && len) || !len) return HIVE_EINVAL;
    int bad = hive__send_check(body, len);
    if (bad) return bad;
    if (!running(s)) return HIVE_ESTATE;
    const hive__pentry *pe = hive__ptable_find(s->ep.pt, pid);
    if (!pe) return HIVE_ENOENT;
    /* Every client accepts at least the handshake minimum; a bigger frame
     * is checked per connection when it is sent. */
    if (!hive__frame_fits(pid, len, s->cfg.max_frame > HIVE__MAX_FRAME_DEFAULT
                                       ? s->cfg.max_frame : HIVE__MAX_FRAME_DEFAULT))
        return HIVE_ETOOBIG;
    int dlv = hive__pick_dlv(pe, flags);
    if (hive__ep_on_io_thread(&s->ep)) {
        hive__ep_enter(&s->ep);
        return hive__ep_leave(&s->ep, hive__ep_bcast_user(&s->ep, pe, body, len, except, dlv));
    }
    int rc = hive__ep_request(&s->ep, HIVE__Q_BCAST, except, pid, dlv, 0, body, len);
    return rc < 0 ? rc : 0;
}

int hive_server_broadcast(hive_server *s, const char *name, const void *body, size_t len,
                          hive_cid except)
{
    if (!s || !name || !body || !len) return HIVE_EINVAL;
    int pid = hive_registry_id(s->reg, name);
    if (pid < 0) return pid;
    return hive_server_broadcast_id(s, (uint32_t)pid, body, len, except, 0);
}

int hive_server_flush(hive_server *s)
{
    if (!s) return HIVE_EINVAL;
    if (running(s)) hive__ep_flush(&s->ep);
    return HIVE_OK;
}

int hive_server_close(hive_server *s, hive_cid cid, int reason, const char *message)
{
    if (!s || reason < 0 || reason > HIVE_CLOSE_MAX) return HIVE_EINVAL;
    if (!running(s)) return HIVE_ESTATE;
    if (hive__ep_on_io_thread(&s->ep)) {
        hive__conn *c = hive__cidmap_get(&s->map, cid);
        if (!c) return HIVE_ENOENT;
        hive__ep_enter(&s->ep);
        hive__ep_close_gently(&s->ep, c, reason, message);
        return hive__ep_leave(&s->ep, HIVE_OK);
    }
    pthread_mutex_lock(&s->ep.lock);
    bool found = hive__cidmap_get(&s->map, cid) != NULL;
    pthread_mutex_unlock(&s->ep.lock);
    if (!found) return HIVE_ENOENT;
    return hive__ep_request_close(&s->ep, cid, reason, message);
}

size_t hive_server_connection_count(const hive_server *s)
{
    if (!s) return 0;
    hive_server *m = (hive_server *)s;   /* the lock is not part of the value */
    pthread_mutex_lock(&m->ep.lock);
    size_t n = s->ep.nconns;
    pthread_mutex_unlock(&m->ep.lock);
    return n;
}

size_t hive_server_connections(const hive_server *s, hive_cid *out, size_t max)
{
    if (!s) return 0;
    hive_server *m = (hive_server *)s;
    pthread_mutex_lock(&m->ep.lock);
    size_t i = 0;
    for (const hive__conn *c = s->ep.conns; c; c = c->next, i++)
        if (out && i < max) out[i] = c->cid;
    pthread_mutex_unlock(&m->ep.lock);
    return i;
}

int hive_server_set_broadcast(hive_server *s, hive_cid cid, bool on)
{
    if (!s) return HIVE_EINVAL;
    pthread_mutex_lock(&s->ep.lock);
    hive__conn *c = hive__cidmap_get(&s->map, cid);
    if (c) __atomic_store_n(&c->no_bcast, !on, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&s->ep.lock);
    return c ? HIVE_OK : HIVE_ENOENT;
}

int hive_server_set_user(hive_server *s, hive_cid cid, void *user)
{
    if (!s) return HIVE_EINVAL;
    pthread_mutex_lock(&s->ep.lock);
    hive__conn *c = hive__cidmap_get(&s->map, cid);
    if (c) c->user = user;
    pthread_mutex_unlock(&s->ep.lock);
    return c ? HIVE_OK : HIVE_ENOENT;
}

void *hive_server_user(const hive_server *s, hive_cid cid)
{
    if (!s) return NULL;
    hive_server *m = (hive_server *)s;
    pthread_mutex_lock(&m->ep.lock);
    hive__conn *c = hive__cidmap_get(&s->map, cid);
    void *u = c ? c->user : NULL;
    pthread_mutex_unlock(&m->ep.lock);
    return u;
}

int hive_server_conn_info(const hive_server *s, hive_cid cid, hive_conn_info *out)
{
    if (!s || !out) return HIVE_EINVAL;
    hive_server *m = (hive_server *)s;
    pthread_mutex_lock(&m->ep.lock);
    hive__conn *c = hive__cidmap_get(&s->map, cid);
    if (c) {
        out->cid = c->cid;
        out->addr = c->addr;
        out->conntype = c->conntype;
        out->app_version = c->app_version;
        out->open = __atomic_load_n(&c->open_pub, __ATOMIC_ACQUIRE);
        out->user = c->user;
        out->rtt_ms = -1;
    }
    pthread_mutex_unlock(&m->ep.lock);
    if (!c) return HIVE_ENOENT;
    /* The transport's own numbers belong to the I/O thread. */
    if (hive__ep_on_io_thread(&m->ep) && c->link && m->ep.tr)
        out->rtt_ms = m->ep.tr->vt->rtt_ms(m->ep.tr, c->link);
    return HIVE_OK;
}

int hive_server_conn_stats(const hive_server *s, hive_cid cid, hive_conn_stats *out)
{
    if (!s || !out) return HIVE_EINVAL;
    hive_server *m = (hive_server *)s;
    pthread_mutex_lock(&m->ep.lock);
    hive__conn *c = hive__cidmap_get(&s->map, cid);
    if (c) hive__ep_conn_stats(&m->ep, c, out);
    pthread_mutex_unlock(&m->ep.lock);
    return c ? HIVE_OK : HIVE_ENOENT;
}

int hive_server_stats(const hive_server *s, hive_net_stats *out)
{
    if (!s || !out) return HIVE_EINVAL;
    hive__ep_stats(&s->ep, out);
    return HIVE_OK;
}

int hive_server_wait(hive_server *s, int timeout_ms)
{
    return s ? hive__ep_wait_packet(&s->ep, timeout_ms) : HIVE_EINVAL;
}

int hive_server_next(hive_server *s, hive_packet *out)
{
    return s ? hive__ep_next(&s->ep, out) : HIVE_EINVAL;
}
