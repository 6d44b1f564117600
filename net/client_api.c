/*
 * client_api.c - hive_client's sending, waiting and query functions.
 * As on the server, a call on the I/O thread acts at once; from any other
 * thread it is checked, then queued for the I/O loop.
 */
#include "net/client_internal.h"

#include <errno.h>
#include <string.h>

static int state_of(const hive_client *c) { return __atomic_load_n(&c->state, __ATOMIC_ACQUIRE); }

/* As on the server: a handler run by this call may ask for a stop, which
 * waits until the call is done. */
static void enter(hive_client *c)
{
    if (!c->ep.threaded) c->in_service++;
}

static int leave(hive_client *c, int rc)
{
    if (!c->ep.threaded && --c->in_service == 0 && c->stop_pending) hive__cli_do_stop(c);
    return rc;
}

int hive_client_send_id(hive_client *c, uint32_t pid, const void *body, size_t len, unsigned flags)
{
    if (!c || (!body && len) || !len) return HIVE_EINVAL;
    if (state_of(c) != HIVE_CLIENT_OPEN) return HIVE_ESTATE;
    if (hive__ep_on_io_thread(&c->ep)) {
        const hive__pentry *pe = hive__ptable_find(c->pt, pid);
        if (!pe) return HIVE_ENOENT;
        enter(c);
        return leave(c, hive__cli_send_user(c, pe, body, len, hive__pick_reliable(pe, flags)));
    }
    pthread_mutex_lock(&c->ep.lock);
    const hive__pentry *pe = hive__ptable_find(c->pt, pid);
    bool reliable = pe ? hive__pick_reliable(pe, flags) : true;
    pthread_mutex_unlock(&c->ep.lock);
    if (!pe) return HIVE_ENOENT;
    if (!hive__frame_fits(pid, len, __atomic_load_n(&c->peer_max, __ATOMIC_ACQUIRE))) return HIVE_ETOOBIG;
    return hive__ep_request(&c->ep, HIVE__Q_SEND, 0, pid, reliable, 0, body, len);
}

int hive_client_packet_id(hive_client *c, const char *name)
{
    if (!c || !name) return HIVE_EINVAL;
    pthread_mutex_lock(&c->ep.lock);
    int pid = c->pt ? hive_registry_id(c->pt->reg, name) : HIVE_ENOENT;
    pthread_mutex_unlock(&c->ep.lock);
    return pid;
}

const char *hive_client_packet_name(hive_client *c, uint32_t pid, char *buf, size_t n)
{
    if (!c || !buf || !n) return NULL;
    const char *out = NULL;
    pthread_mutex_lock(&c->ep.lock);
    const hive__pentry *pe = hive__ptable_find(c->pt, pid);
    if (pe && strlen(pe->name) < n) {
        memcpy(buf, pe->name, strlen(pe->name) + 1);
        out = buf;
    }
    pthread_mutex_unlock(&c->ep.lock);
    return out;
}

int hive_client_send(hive_client *c, const char *name, const void *body, size_t len)
{
    if (!c || !name || !body || !len) return HIVE_EINVAL;
    if (state_of(c) != HIVE_CLIENT_OPEN) return HIVE_ESTATE;
    int pid;
    if (hive__ep_on_io_thread(&c->ep)) pid = c->pt ? hive_registry_id(c->pt->reg, name) : HIVE_ENOENT;
    else pid = hive_client_packet_id(c, name);
    if (pid < 0) return pid;
    return hive_client_send_id(c, (uint32_t)pid, body, len, 0);
}

int hive_client_send_msg(hive_client *c, const char *name, const hive_msg *m)
{
    if (!m) return HIVE_EINVAL;
    return hive_client_send(c, name, hive_msg_data(m), hive_msg_size(m));
}

int hive_client_flush(hive_client *c)
{
    if (!c) return HIVE_EINVAL;
    if (hive__ep_on_io_thread(&c->ep)) {
        if (c->ep.tr) c->ep.tr->vt->flush(c->ep.tr);
        return HIVE_OK;
    }
    pthread_mutex_lock(&c->ep.lock);
    if (c->ep.tr) c->ep.tr->vt->wake(c->ep.tr);
    pthread_mutex_unlock(&c->ep.lock);
    return HIVE_OK;
}

int hive_client_close(hive_client *c, int reason, const char *message)
{
    if (!c || reason < 0 || reason > HIVE_CLOSE_MAX) return HIVE_EINVAL;
    int st = state_of(c);
    if (st != HIVE_CLIENT_CONNECTING && st != HIVE_CLIENT_HANDSHAKING && st != HIVE_CLIENT_OPEN)
        return HIVE_ESTATE;
    if (hive__ep_on_io_thread(&c->ep)) {
        c->ep.now = hive__now_ms();
        enter(c);
        hive__cli_close(c, reason, message, false, true, false);
        return leave(c, HIVE_OK);
    }
    size_t n = message ? strlen(message) : 0;
    if (n > 255) n = 255;
    char buf[256];
    if (n) memcpy(buf, message, n);
    buf[n] = 0;
    return hive__ep_request(&c->ep, HIVE__Q_CLOSE, 0, 0, true, reason, buf, n ? n + 1 : 0);
}

hive_client_state hive_client_get_state(const hive_client *c)
{
    return c ? (hive_client_state)state_of(c) : HIVE_CLIENT_IDLE;
}

hive_cid hive_client_cid(const hive_client *c)
{
    return c ? __atomic_load_n(&c->cid, __ATOMIC_ACQUIRE) : 0;
}

int hive_client_close_reason(const hive_client *c)
{
    return c ? __atomic_load_n(&c->close_reason, __ATOMIC_ACQUIRE) : -1;
}

int hive_client_stats(const hive_client *c, hive_net_stats *out)
{
    if (!c || !out) return HIVE_EINVAL;
    hive__ep_stats(&c->ep, out);
    return HIVE_OK;
}

/* Waits until done(state) says so. Threaded: on the condition variable;
 * otherwise by servicing. Returns HIVE_OK, HIVE_ETIMEDOUT, or HIVE_ECLOSED
 * (interrupt, or `fail(state)`). */
static int wait_for(hive_client *c, int timeout_ms, bool (*done)(int), bool (*fail)(int))
{
    uint64_t end = hive__now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    if (c->ep.threaded) {
        struct timespec dl;
        if (timeout_ms >= 0) hive__deadline(&dl, timeout_ms);
        int rc = HIVE_OK;
        pthread_mutex_lock(&c->ep.lock);
        unsigned gen = c->ep.wake_gen;
        c->ep.waiters++;
        for (;;) {
            int st = state_of(c);
            if (done(st)) { rc = HIVE_OK; break; }
            if (fail(st) || c->ep.wake_gen != gen) { rc = HIVE_ECLOSED; break; }
            int w = timeout_ms >= 0 ? pthread_cond_timedwait(&c->ep.cond, &c->ep.lock, &dl)
                                    : pthread_cond_wait(&c->ep.cond, &c->ep.lock);
            if (w == ETIMEDOUT) { rc = done(state_of(c)) ? HIVE_OK : HIVE_ETIMEDOUT; break; }
        }
        c->ep.waiters--;
        pthread_mutex_unlock(&c->ep.lock);
        return rc;
    }
    for (;;) {
        int st = state_of(c);
        if (done(st)) return HIVE_OK;
        if (fail(st)) return HIVE_ECLOSED;
        uint64_t now = hive__now_ms();
        if (timeout_ms >= 0 && now >= end) return HIVE_ETIMEDOUT;
        int slice = timeout_ms < 0 ? 100 : (int)(end - now);
        int rc = hive_client_service(c, slice);
        if (rc == HIVE_ECLOSED) return rc;
        if (rc < 0 && !done(state_of(c))) return fail(state_of(c)) ? HIVE_ECLOSED : rc;
    }
}

static bool is_open(int st) { return st == HIVE_CLIENT_OPEN; }
static bool is_over(int st) { return st == HIVE_CLIENT_CLOSING || st == HIVE_CLIENT_CLOSED || st == HIVE_CLIENT_IDLE; }
static bool is_gone(int st) { return st == HIVE_CLIENT_CLOSED || st == HIVE_CLIENT_IDLE; }
static bool never(int st) { (void)st; return false; }

int hive_client_wait_connected(hive_client *c, int timeout_ms)
{
    if (!c) return HIVE_EINVAL;
    if (state_of(c) == HIVE_CLIENT_IDLE) return HIVE_ESTATE;
    return wait_for(c, timeout_ms, is_open, is_over);
}

int hive_client_wait_closed(hive_client *c, int timeout_ms)
{
    if (!c) return HIVE_EINVAL;
    return wait_for(c, timeout_ms, is_gone, never);
}

int hive_client_wait(hive_client *c, int timeout_ms)
{
    if (!c) return HIVE_EINVAL;
    if (!c->ep.pull) return HIVE_ESTATE;
    if (c->ep.threaded) return hive__ep_pull_wait(&c->ep, timeout_ms);
    uint64_t end = hive__now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        pthread_mutex_lock(&c->ep.lock);
        size_t n = c->ep.p_count;
        bool closed = c->ep.closed;
        pthread_mutex_unlock(&c->ep.lock);
        if (n) return 1;
        if (closed || !c->conn) return HIVE_ECLOSED;
        uint64_t now = hive__now_ms();
        if (timeout_ms >= 0 && now >= end) return 0;
        int slice = timeout_ms < 0 ? 100 : (int)(end - now);
        int rc = hive_client_service(c, slice);
        if (rc == HIVE_ECLOSED) return rc;
        if (rc < 0 && rc != HIVE_ESTATE) return rc;
    }
}

int hive_client_next(hive_client *c, hive_packet *out)
{
    if (!c || !out) return HIVE_EINVAL;
    if (!c->ep.pull) return HIVE_ESTATE;
    return hive__ep_pull_pop(&c->ep, out);
}
