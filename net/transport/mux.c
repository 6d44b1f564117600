/*
 * net/transport/mux.c - one listening transport made of several
 * (hive__mux_create in transport.h): a server on `enet://0.0.0.0:7777`
 * and `ws://0.0.0.0:8080` at once has one cid space, one registry and one
 * set of events, because the core sees a single transport.
 *
 * Each child is an ordinary transport whose callbacks come here. Every
 * child link gets a small mux link that the core holds; calls on it go
 * to the child that made it. ->service services every child without
 * waiting, and when none had anything to do, waits on the children's
 * file descriptors (->pollfd) and the mux's own wake eventfd. A child
 * with no descriptor to wait on (the simulator, enet+tls) or timers of
 * its own (tcp's upgrade and linger deadlines, pacing) is never waited on
 * for longer than MUX_TICK_MS, so its timers run at most that late.
 */
#include "events/internal.h"
#include "net/transport/transport.h"
#include "net/transport/netsim.h"
#include "hive/net.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#define MUX_TICK_MS 5

typedef struct mux_tr mux_tr;

typedef struct mux_kid {
    mux_tr *m;
    hive__transport *t;
    hive__addr addr;
} mux_kid;

typedef struct mux_link {
    hive__link base;             /* first: the core sees this */
    hive__link *child;
    mux_kid *kid;
    struct mux_link *prev, *next;
} mux_link;

struct mux_tr {
    hive__transport base;        /* first */
    mux_kid kids[HIVE__MUX_MAX];
    int n;
    int wfd;                     /* eventfd: ->wake */
    mux_link *links;
};

typedef struct mux_shared {
    void *kid[HIVE__MUX_MAX];    /* each child's own shared buffer, or NULL */
    uint8_t *bytes;              /* the frames, for children without ->share */
    size_t len;
    int dlv;
} mux_shared;

static const hive__transport_vt mux_vt;

#define M(t) ((mux_tr *)(t))
#define L(l) ((mux_link *)(l))

static void link_unlist(mux_tr *m, mux_link *ml)
{
    if (ml->prev) ml->prev->next = ml->next; else m->links = ml->next;
    if (ml->next) ml->next->prev = ml->prev;
}

/* ------------------------------------------------------------------ */
/* The children's callbacks                                            */

static int kid_accepted(void *core, hive__link *child, const char *addr)
{
    mux_kid *k = core;
    mux_tr *m = k->m;
    mux_link *ml = hive__calloc(1, sizeof *ml);
    if (!ml) return HIVE_ENOMEM;
    ml->child = child;
    ml->kid = k;
    child->conn = ml;
    ml->next = m->links;
    if (m->links) m->links->prev = ml;
    m->links = ml;
    int rc = m->base.cb.accepted(m->base.cb.core, &ml->base, addr);
    if (rc < 0) {
        /* Refused: the child drops its link quietly. (Had the core
         * aborted it, mux_abort freed ml already and rc is 0.) */
        if (child->conn == ml) {   /* not already freed by mux_abort */
            child->conn = NULL;
            link_unlist(m, ml);
            hive__free(ml);
        }
    }
    return rc;
}

static void kid_connected(void *core, hive__link *child)
{
    (void)core; (void)child;   /* listening only: never dialed */
}

static void kid_data(void *core, hive__link *child, const uint8_t *p, size_t n, int channel)
{
    mux_kid *k = core;
    mux_link *ml = child->conn;
    if (ml) k->m->base.cb.data(k->m->base.cb.core, &ml->base, p, n, channel);
}

static void kid_disconnected(void *core, hive__link *child, int reason, const char *message)
{
    mux_kid *k = core;
    mux_link *ml = child->conn;
    if (!ml) return;
    child->conn = NULL;
    link_unlist(k->m, ml);
    k->m->base.cb.disconnected(k->m->base.cb.core, &ml->base, reason, message);
    hive__free(ml);
}

/* ------------------------------------------------------------------ */
/* vtable                                                              */

static int mux_listen(hive__transport *t, const hive__addr *ignored)
{
    mux_tr *m = M(t);
    (void)ignored;
    for (int i = 0; i < m->n; i++) {
        int rc = m->kids[i].t->vt->listen(m->kids[i].t, &m->kids[i].addr);
        if (rc < 0) return rc;
    }
    return HIVE_OK;
}

static int mux_connect(hive__transport *t, const hive__addr *a, hive__link **out)
{
    (void)t; (void)a; (void)out;
    return HIVE_EADDR;
}

static int mux_service(hive__transport *t, int timeout_ms)
{
    mux_tr *m = M(t);
    int total = 0;
    for (int i = 0; i < m->n; i++) {
        int r = m->kids[i].t->vt->service(m->kids[i].t, 0);
        if (r < 0) return r;
        total += r;
    }
    if (total || timeout_ms == 0) return total;
    /* Nothing happened: wait for a child's descriptor, a wake, or the tick. */
    struct pollfd pf[HIVE__MUX_MAX + 1];
    int np = 0;
    pf[np++] = (struct pollfd){ .fd = m->wfd, .events = POLLIN };
    for (int i = 0; i < m->n; i++) {
        hive__transport *k = m->kids[i].t;
        int fd = k->vt->pollfd ? k->vt->pollfd(k) : -1;
        if (fd >= 0) pf[np++] = (struct pollfd){ .fd = fd, .events = POLLIN };
    }
    int wait = timeout_ms < 0 || timeout_ms > MUX_TICK_MS ? MUX_TICK_MS : timeout_ms;
    int r = poll(pf, (nfds_t)np, wait);
    if (r > 0 && (pf[0].revents & POLLIN)) {
        uint64_t v;
        while (read(m->wfd, &v, sizeof v) > 0) {}
    }
    for (int i = 0; i < m->n; i++) {
        int n = m->kids[i].t->vt->service(m->kids[i].t, 0);
        if (n < 0) return n;
        total += n;
    }
    return total;
}

static int mux_send(hive__transport *t, hive__link *l, const void *const *pieces, const size_t *lens, int n,
                    int dlv)
{
    (void)t;
    hive__transport *k = L(l)->kid->t;
    return k->vt->send(k, L(l)->child, pieces, lens, n, dlv);
}

static void mux_flush(hive__transport *t)
{
    mux_tr *m = M(t);
    for (int i = 0; i < m->n; i++) m->kids[i].t->vt->flush(m->kids[i].t);
}

static void *mux_share(hive__transport *t, const void *const *pieces, const size_t *lens, int n, int dlv)
{
    mux_tr *m = M(t);
    mux_shared *sh = hive__calloc(1, sizeof *sh);
    if (!sh) return NULL;
    sh->dlv = dlv;
    bool need_bytes = false;
    for (int i = 0; i < m->n; i++) {
        hive__transport *k = m->kids[i].t;
        if (k->vt->share) sh->kid[i] = k->vt->share(k, pieces, lens, n, dlv);
        if (!sh->kid[i]) need_bytes = true;
    }
    if (need_bytes) {
        for (int i = 0; i < n; i++) sh->len += lens[i];
        sh->bytes = hive__malloc(sh->len ? sh->len : 1);
        if (!sh->bytes) {
            for (int i = 0; i < m->n; i++)
                if (sh->kid[i]) m->kids[i].t->vt->unshare(m->kids[i].t, sh->kid[i]);
            hive__free(sh);
            return NULL;
        }
        size_t off = 0;
        for (int i = 0; i < n; i++) {
            memcpy(sh->bytes + off, pieces[i], lens[i]);
            off += lens[i];
        }
    }
    return sh;
}

static int mux_send_shared(hive__transport *t, hive__link *l, void *shared)
{
    mux_tr *m = M(t);
    mux_shared *sh = shared;
    int i = (int)(L(l)->kid - m->kids);
    hive__transport *k = L(l)->kid->t;
    if (sh->kid[i]) return k->vt->send_shared(k, L(l)->child, sh->kid[i]);
    const void *p[1] = { sh->bytes };
    size_t n[1] = { sh->len };
    return k->vt->send(k, L(l)->child, p, n, 1, sh->dlv);
}

static void mux_unshare(hive__transport *t, void *shared)
{
    mux_tr *m = M(t);
    mux_shared *sh = shared;
    for (int i = 0; i < m->n; i++)
        if (sh->kid[i]) m->kids[i].t->vt->unshare(m->kids[i].t, sh->kid[i]);
    hive__free(sh->bytes);
    hive__free(sh);
}

static void mux_close(hive__transport *t, hive__link *l, uint32_t code)
{
    (void)t;
    hive__transport *k = L(l)->kid->t;
    k->vt->close(k, L(l)->child, code);
}

static void mux_abort(hive__transport *t, hive__link *l)
{
    mux_link *ml = L(l);
    hive__transport *k = ml->kid->t;
    ml->child->conn = NULL;
    k->vt->abort(k, ml->child);
    link_unlist(M(t), ml);
    hive__free(ml);
}

static void mux_wake(hive__transport *t)
{
    uint64_t one = 1;
    ssize_t r = write(M(t)->wfd, &one, sizeof one);
    (void)r;
}

static uint16_t mux_bound_port(hive__transport *t)
{
    mux_tr *m = M(t);
    return m->n ? m->kids[0].t->vt->bound_port(m->kids[0].t) : 0;
}

static int mux_rtt_ms(hive__transport *t, hive__link *l)
{
    (void)t;
    hive__transport *k = L(l)->kid->t;
    return k->vt->rtt_ms ? k->vt->rtt_ms(k, L(l)->child) : -1;
}

static const char *mux_peer_subject(hive__transport *t, hive__link *l)
{
    (void)t;
    hive__transport *k = L(l)->kid->t;
    return k->vt->peer_subject ? k->vt->peer_subject(k, L(l)->child) : NULL;
}

static size_t mux_queued(hive__transport *t, hive__link *l)
{
    (void)t;
    hive__transport *k = L(l)->kid->t;
    return k->vt->queued ? k->vt->queued(k, L(l)->child) : 0;
}

static int mux_lanes(hive__transport *t, hive__link *l)
{
    (void)t;
    hive__transport *k = L(l)->kid->t;
    return k->vt->lanes ? k->vt->lanes(k, L(l)->child) : 1;
}

static void mux_offer_lanes(hive__transport *t, int n)
{
    mux_tr *m = M(t);
    for (int i = 0; i < m->n; i++)
        if (m->kids[i].t->vt->offer_lanes) m->kids[i].t->vt->offer_lanes(m->kids[i].t, n);
}

static bool mux_link_stream(hive__transport *t, hive__link *l)
{
    (void)t;
    return L(l)->kid->t->vt->stream;
}

static int mux_stats(hive__transport *t, hive__transport_stats *out)
{
    mux_tr *m = M(t);
    memset(out, 0, sizeof *out);
    for (int i = 0; i < m->n; i++) {
        hive__transport *k = m->kids[i].t;
        hive__transport_stats s;
        if (!k->vt->stats || k->vt->stats(k, &s) != HIVE_OK) continue;
        out->sealed_opened += s.sealed_opened;
        out->sealed_rejected += s.sealed_rejected;
        out->sealed_replayed += s.sealed_replayed;
        out->enet_half_open_reaped += s.enet_half_open_reaped;
        out->netsim_dropped += s.netsim_dropped;
        out->netsim_duplicated += s.netsim_duplicated;
        out->netsim_cuts += s.netsim_cuts;
    }
    return HIVE_OK;
}

static void mux_destroy(hive__transport *t)
{
    mux_tr *m = M(t);
    if (!m) return;
    for (int i = 0; i < m->n; i++) m->kids[i].t->vt->destroy(m->kids[i].t);
    while (m->links) {
        mux_link *ml = m->links;
        m->links = ml->next;
        hive__free(ml);
    }
    if (m->wfd >= 0) close(m->wfd);
    hive__free(m);
}

/* Any child's own descriptor is not one to wait on from outside: a mux
 * is never a child of a mux. */
static const hive__transport_vt mux_vt = {
    .scheme = "mux", .stream = true,
    .listen = mux_listen, .connect = mux_connect, .service = mux_service, .send = mux_send,
    .flush = mux_flush, .share = mux_share, .send_shared = mux_send_shared, .unshare = mux_unshare,
    .close = mux_close, .abort = mux_abort, .wake = mux_wake, .bound_port = mux_bound_port,
    .rtt_ms = mux_rtt_ms, .peer_subject = mux_peer_subject, .queued = mux_queued, .lanes = mux_lanes,
    .offer_lanes = mux_offer_lanes, .link_stream = mux_link_stream, .stats = mux_stats,
    .destroy = mux_destroy,
};

/* The same for a mux whose children all carry one lane (no enet among
 * them): no offer_lanes, so the core knows no link of it has lanes. */
static const hive__transport_vt mux_vt_one_lane = {
    .scheme = "mux", .stream = true,
    .listen = mux_listen, .connect = mux_connect, .service = mux_service, .send = mux_send,
    .flush = mux_flush, .share = mux_share, .send_shared = mux_send_shared, .unshare = mux_unshare,
    .close = mux_close, .abort = mux_abort, .wake = mux_wake, .bound_port = mux_bound_port,
    .rtt_ms = mux_rtt_ms, .peer_subject = mux_peer_subject, .queued = mux_queued, .lanes = mux_lanes,
    .link_stream = mux_link_stream, .stats = mux_stats, .destroy = mux_destroy,
};

int hive__mux_create(const char *addrs, const hive__transport_cb *cb, const hive__transport_opts *opts,
                     const void *netsim, hive__addr *first, hive__transport **out)
{
    mux_tr *m = hive__calloc(1, sizeof *m);
    if (!m) return HIVE_ENOMEM;
    m->base.vt = &mux_vt;
    m->base.cb = *cb;
    if (opts) m->base.opts = *opts;
    m->wfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (m->wfd < 0) {
        hive__free(m);
        return HIVE_EIO;
    }
    int rc = HIVE_OK;
    const char *p = addrs;
    for (;;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char one[HIVE__ADDR_MAX];
        while (n && *p == ' ') { p++; n--; }
        while (n && p[n - 1] == ' ') n--;
        if (!n || n >= sizeof one || m->n == HIVE__MUX_MAX) { rc = HIVE_EADDR; break; }
        memcpy(one, p, n);
        one[n] = 0;
        mux_kid *k = &m->kids[m->n];
        k->m = m;
        if ((rc = hive__addr_parse(one, HIVE_DEFAULT_PORT, &k->addr)) < 0) break;
        hive__transport_cb kcb = { .core = k, .accepted = kid_accepted, .connected = kid_connected,
                                   .data = kid_data, .disconnected = kid_disconnected };
        rc = netsim ? hive__netsim_create(netsim, &k->addr, &kcb, opts, &k->t)
                    : hive__transport_create(&k->addr, &kcb, opts, &k->t);
        if (rc < 0) break;
        m->n++;
        if (!e) break;
        p = e + 1;
    }
    if (rc < 0) {
        mux_destroy(&m->base);
        return rc;
    }
    bool lanes = false;
    for (int i = 0; i < m->n; i++) lanes |= m->kids[i].t->vt->offer_lanes != NULL;
    if (!lanes) m->base.vt = &mux_vt_one_lane;
    *first = m->kids[0].addr;
    *out = &m->base;
    return HIVE_OK;
}

int hive__mux_count(hive__transport *t)
{
    return t && (t->vt == &mux_vt || t->vt == &mux_vt_one_lane) ? M(t)->n : 0;
}

int hive__mux_addr(hive__transport *t, int i, hive__addr *out)
{
    if (!t || (t->vt != &mux_vt && t->vt != &mux_vt_one_lane) || i < 0 || i >= M(t)->n) return HIVE_EINVAL;
    mux_kid *k = &M(t)->kids[i];
    *out = k->addr;
    out->port = k->t->vt->bound_port(k->t);
    return HIVE_OK;
}
