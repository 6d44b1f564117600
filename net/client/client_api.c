/*
 * client_api.c - hive_client's sending, waiting and query functions.
 * As on the server, a call on the I/O thread acts at once; from any other
 * thread it is checked, then queued for the I/O loop.
 */
#include "net/client/client_internal.h"

#include <errno.h>
#include <time.h>
#include <string.h>

static int state_of(const hive_client *c) { return __atomic_load_n(&c->state, __ATOMIC_ACQUIRE); }

/* Open, or between links with a session kept for a resume (its sends
 * wait in the session: RESUME in hive/net.h). */
static bool sendable(const hive_client *c)
{
    int st = state_of(c);
    if (st == HIVE_CLIENT_OPEN) return true;
    return (st == HIVE_CLIENT_RECONNECTING || st == HIVE_CLIENT_CONNECTING || st == HIVE_CLIENT_HANDSHAKING) &&
           __atomic_load_n(&c->keeps, __ATOMIC_ACQUIRE);
}


int hive_client_send_id(hive_client *c, uint32_t pid, const void *body, size_t len, unsigned flags)
{
    if (!c || (!body && len) || !len) return HIVE_EINVAL;
    /* A malformed body would cost the connection (the peer closes with
     * bad_msgpack); refuse it here, where the caller can see why. */
    int bad = hive__send_check(body, len);
    if (bad) return bad;
    if (!sendable(c)) return HIVE_ESTATE;
    if (hive__ep_on_io_thread(&c->ep)) {
        const hive__pentry *pe = hive__ptable_find(c->ep.pt, pid);
        if (!pe) return HIVE_ENOENT;
        hive__conn *k = c->ep.conns;
        /* (A link the server closed to send the session elsewhere lingers
         * CLOSING while the session is kept: HANDOFF.) */
        if (!k || k->state == HIVE__C_DIALING || k->state == HIVE__C_AWAIT_WELCOME ||
            (k->state == HIVE__C_CLOSING && c->sess.valid))
            return hive__cli_keep_send(c, pid, body, len, hive__pick_dlv(pe, flags));
        hive__ep_enter(&c->ep);
        return hive__ep_leave(&c->ep, hive__ep_send_user(&c->ep, c->ep.conns, pe, body, len,
                                                         hive__pick_dlv(pe, flags)));
    }
    pthread_mutex_lock(&c->ep.lock);
    const hive__pentry *pe = hive__ptable_find(c->ep.pt, pid);
    int dlv = pe ? hive__pick_dlv(pe, flags) : HIVE__DLV_RELIABLE;
    pthread_mutex_unlock(&c->ep.lock);
    if (!pe) return HIVE_ENOENT;
    if (!hive__frame_fits(pid, len, __atomic_load_n(&c->peer_max, __ATOMIC_ACQUIRE))) return HIVE_ETOOBIG;
    return hive__ep_request(&c->ep, HIVE__Q_SEND, 0, pid, dlv, 0, body, len);
}

int hive_client_packet_id(const hive_client *c, const char *name)
{
    if (!c || !name) return HIVE_EINVAL;
    hive_client *m = (hive_client *)c;   /* the lock is not part of the value */
    pthread_mutex_lock(&m->ep.lock);
    int pid = c->ep.pt ? hive_registry_id(c->ep.pt->reg, name) : HIVE_ENOENT;
    pthread_mutex_unlock(&m->ep.lock);
    return pid;
}

const char *hive_client_packet_name(const hive_client *c, uint32_t pid, char *buf, size_t n)
{
    if (!c || !buf || !n) return NULL;
    hive_client *m = (hive_client *)c;
    const char *out = NULL;
    pthread_mutex_lock(&m->ep.lock);
    const hive__pentry *pe = hive__ptable_find(c->ep.pt, pid);
    if (pe && strlen(pe->name) < n) {
        memcpy(buf, pe->name, strlen(pe->name) + 1);
        out = buf;
    }
    pthread_mutex_unlock(&m->ep.lock);
    return out;
}

int hive_client_send(hive_client *c, const char *name, const void *body, size_t len)
{
    if (!c || !name || !body || !len) return HIVE_EINVAL;
    if (!sendable(c)) return HIVE_ESTATE;
    int pid;
    if (hive__ep_on_io_thread(&c->ep)) pid = c->ep.pt ? hive_registry_id(c->ep.pt->reg, name) : HIVE_ENOENT;
    else pid = hive_client_packet_id(c, name);
    if (pid < 0) return pid;
    return hive_client_send_id(c, (uint32_t)pid, body, len, 0);
}

int hive_client_send_msg(hive_client *c, const char *name, const hive_msg *m)
{
    if (!m) return HIVE_EINVAL;
    int bad = hive__send_unfinished(m);
    if (bad) return bad;
    return hive_client_send(c, name, hive_msg_data(m), hive_msg_size(m));
}

int hive_client_flush(hive_client *c)
{
    if (!c) return HIVE_EINVAL;
    hive__ep_flush(&c->ep);
    return HIVE_OK;
}

int hive_client_close(hive_client *c, int reason, const char *message)
{
    if (!c || reason < 0 || reason > HIVE_CLOSE_MAX) return HIVE_EINVAL;
    int st = state_of(c);
    if (st != HIVE_CLIENT_CONNECTING && st != HIVE_CLIENT_HANDSHAKING && st != HIVE_CLIENT_OPEN)
        return HIVE_ESTATE;
    if (hive__ep_on_io_thread(&c->ep)) {
        if (!c->ep.conns) return HIVE_ESTATE;
        c->ep.now = hive__now_ms();
        hive__ep_enter(&c->ep);
        hive__ep_close_gently(&c->ep, c->ep.conns, reason, message);
        return hive__ep_leave(&c->ep, HIVE_OK);
    }
    return hive__ep_request_close(&c->ep, 0, reason, message);
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

int hive_client_conn_stats(const hive_client *c, hive_conn_stats *out)
{
    if (!c || !out) return HIVE_EINVAL;
    hive_client *m = (hive_client *)c;
    pthread_mutex_lock(&m->ep.lock);
    hive__conn *k = m->ep.conns;
    if (k) hive__ep_conn_stats(&m->ep, k, out);
    pthread_mutex_unlock(&m->ep.lock);
    return k ? HIVE_OK : HIVE_ENOENT;
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
    return c ? hive__ep_wait_packet(&c->ep, timeout_ms) : HIVE_EINVAL;
}

int hive_client_next(hive_client *c, hive_packet *out)
{
    return c ? hive__ep_next(&c->ep, out) : HIVE_EINVAL;
}

int hive_client_shape(hive_client *c, const char *name, const hive_shape_field *fields, size_t n,
                      hive_shape_policy policy)
{
    if (!c || !name) return HIVE_EINVAL;
    int st = state_of(c);
    if ((st != HIVE_CLIENT_IDLE && st != HIVE_CLIENT_CLOSED) || c->ep.thread_on) return HIVE_ESTATE;
    return hive__ep_set_shape(&c->ep, name, fields, n, policy);
}

int hive_client_compress(hive_client *c, const char *name, bool on)
{
    if (!c || !name) return HIVE_EINVAL;
    int st = state_of(c);
    if ((st != HIVE_CLIENT_IDLE && st != HIVE_CLIENT_CLOSED) || c->ep.thread_on) return HIVE_ESTATE;
    return hive__ep_set_zip(&c->ep, name, on);
}

/* hive_client_wait_event's catch: the first matching event and the
 * close, copied as they go by. */
typedef struct wait_catch {
    hive_event_copy *ev, *close;
} wait_catch;

static void catch_event(const hive_event *ev, void *user)
{
    wait_catch *w = user;
    if (!w->ev) w->ev = hive_event_copy_make(ev);
}

static void catch_close(const hive_event *ev, void *user)
{
    wait_catch *w = user;
    if (!w->close) w->close = hive_event_copy_make(ev);
}

int hive_client_wait_event(hive_client *c, const char *pattern, int timeout_ms, hive_event_copy **out)
{
    if (!c || !pattern || !out) return HIVE_EINVAL;
    *out = NULL;
    int st = state_of(c);
    if (st == HIVE_CLIENT_IDLE || st == HIVE_CLIENT_CLOSED) return HIVE_ECLOSED;
    hive_bus *bus = c->ep.bus;
    wait_catch w = { 0 };
    int s1 = hive_bus_subscribe(bus, pattern, catch_event, &w, &(hive_sub_opts){ .once = true, .priority = INT32_MIN });
    if (s1 < 0) return s1;
    int s2 = hive_bus_subscribe(bus, HIVE_EV_CLIENT_CLOSE, catch_close, &w, NULL);
    if (s2 < 0) {
        hive_bus_unsubscribe(bus, s1);
        return s2;
    }
    uint64_t end = hive_now_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000u;
    int rc = HIVE_ETIMEDOUT;
    for (;;) {
        /* What is already here first (threaded: posted events), then the
         * network for at most what is left. */
        if (c->ep.threaded) hive_bus_dispatch(bus, 0);
        if (w.ev) { rc = HIVE_OK; break; }
        if (w.close) { rc = HIVE_ECLOSED; break; }
        st = state_of(c);
        if (st == HIVE_CLIENT_IDLE || st == HIVE_CLIENT_CLOSED) { rc = HIVE_ECLOSED; break; }
        uint64_t now = hive_now_ns();
        if (now >= end) break;
        int left = (int)((end - now + 999999u) / 1000000u);
        if (left > 10) left = 10;
        if (c->ep.threaded) {
            struct timespec ts = { 0, 1000000L };
            nanosleep(&ts, NULL);
        } else if (hive_client_service(c, left) == HIVE_ECLOSED && !w.ev) {
            rc = HIVE_ECLOSED;   /* interrupted */
            break;
        }
    }
    hive_bus_unsubscribe(bus, s1);   /* HIVE_ENOENT when it fired: fine */
    hive_bus_unsubscribe(bus, s2);
    if (rc == HIVE_OK) {
        *out = w.ev;
        hive_event_copy_free(w.close);
    } else {
        *out = w.close;   /* the close, when that is what ended it */
        hive_event_copy_free(w.ev);
    }
    return rc;
}
