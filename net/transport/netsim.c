/* netsim.c - the network simulator: a transport wrapping a transport (see
 * netsim.h for what each impairment does and why). */
#include "events/internal.h"
#include "hive/net.h"
#include "net/transport/netsim.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ */
/* The spec                                                             */
/* ------------------------------------------------------------------ */

static int spec_err(char *err, size_t n, const char *fmt, ...)
{
    if (err && n) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, n, fmt, ap);
        va_end(ap);
    }
    return HIVE_EINVAL;
}

/* A decimal number with an optional fraction: "150", "1.5", "0.25". The
 * value is scaled by 10^6 (micro-units), so "1.5" gives 1500000. *end
 * points past the digits. Returns false when there are none. */
static bool read_micro(const char *s, const char **end, uint64_t *out)
{
    uint64_t whole = 0, frac = 0, scale = 1000000;
    const char *p = s;
    bool any = false;
    while (isdigit((unsigned char)*p)) {
        if (whole > 1000000000000ull) return false;
        whole = whole * 10 + (uint64_t)(*p++ - '0');
        any = true;
    }
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            if (scale > 1) { scale /= 10; frac += (uint64_t)(*p - '0') * scale; }
            p++;
            any = true;
        }
    }
    *end = p;
    *out = whole * 1000000u + frac;
    return any;
}

static int read_dur(const char *key, const char *v, uint32_t *out, char *err, size_t n)
{
    const char *u;
    uint64_t m;
    if (!read_micro(v, &u, &m))
        return spec_err(err, n, "netsim: %s=%s: expected a duration such as 150ms or 1.5s", key, v);
    uint64_t ms;
    if (strcmp(u, "ms") == 0) ms = m / 1000000u;
    else if (strcmp(u, "s") == 0) ms = m / 1000u;
    else if (*u == 0 && m == 0) ms = 0;
    else return spec_err(err, n, "netsim: %s=%s: the unit must be ms or s", key, v);
    if (ms > HIVE__NETSIM_MAX_MS)
        return spec_err(err, n, "netsim: %s=%s: at most %us", key, v, HIVE__NETSIM_MAX_MS / 1000u);
    *out = (uint32_t)ms;
    return HIVE_OK;
}

static int read_pct(const char *key, const char *v, uint32_t *out, char *err, size_t n)
{
    const char *u;
    uint64_t m;
    if (!read_micro(v, &u, &m) || (strcmp(u, "%") != 0 && !(*u == 0 && m == 0)))
        return spec_err(err, n, "netsim: %s=%s: expected a percentage such as 5%% or 0.5%%", key, v);
    uint64_t ppm = m / 100u;   /* m is percent * 10^6; ppm = percent * 10^4 */
    if (ppm > 1000000u) return spec_err(err, n, "netsim: %s=%s: at most 100%%", key, v);
    *out = (uint32_t)ppm;
    return HIVE_OK;
}

static int read_rate(const char *key, const char *v, uint64_t *out, char *err, size_t n)
{
    const char *u;
    uint64_t m;
    if (!read_micro(v, &u, &m))
        return spec_err(err, n, "netsim: %s=%s: expected a rate such as 256kbps or 2mbps", key, v);
    uint64_t mult;
    if (strcasecmp(u, "bps") == 0) mult = 1;
    else if (strcasecmp(u, "kbps") == 0) mult = 1000;
    else if (strcasecmp(u, "mbps") == 0) mult = 1000000;
    else if (strcasecmp(u, "gbps") == 0) mult = 1000000000;
    else if (*u == 0 && m == 0) { *out = 0; return HIVE_OK; }
    else return spec_err(err, n, "netsim: %s=%s: the unit must be bps, kbps, mbps or gbps (bits per second)", key, v);
    long double bits = (long double)m / 1e6L * (long double)mult;
    if (bits < HIVE__NETSIM_MIN_BPS)
        return spec_err(err, n, "netsim: %s=%s: at least %ubps (0 means unlimited)", key, v, HIVE__NETSIM_MIN_BPS);
    if (bits > 1e12L) return spec_err(err, n, "netsim: %s=%s: at most 1000gbps", key, v);
    *out = (uint64_t)(bits / 8);
    return HIVE_OK;
}

#define NETSIM_KEYS "latency, jitter, loss, dup, reorder, bandwidth, cut_every, seed, dir"

int hive__netsim_parse(const char *text, hive__netsim_spec *out, char *err, size_t n)
{
    if (err && n) err[0] = 0;
    if (!out) return HIVE_EINVAL;
    memset(out, 0, sizeof *out);
    out->send = out->recv = true;
    out->seed = 1;
    if (!text) return HIVE_OK;
    while (isspace((unsigned char)*text)) text++;
    if (!*text || strcasecmp(text, "off") == 0 || strcasecmp(text, "none") == 0) return HIVE_OK;
    if (strlen(text) > 1024) return spec_err(err, n, "netsim: the spec is longer than 1024 bytes");
    char buf[1025];
    strcpy(buf, text);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*tok)) tok++;
        char *e = tok + strlen(tok);
        while (e > tok && isspace((unsigned char)e[-1])) *--e = 0;
        if (!*tok) continue;
        char *eq = strchr(tok, '=');
        if (!eq) return spec_err(err, n, "netsim: '%s' is not key=value (keys: " NETSIM_KEYS ")", tok);
        *eq = 0;
        char *key = tok, *v = eq + 1;
        e = eq;
        while (e > key && isspace((unsigned char)e[-1])) *--e = 0;
        while (isspace((unsigned char)*v)) v++;
        int rc;
        if (strcmp(key, "latency") == 0) rc = read_dur(key, v, &out->latency_ms, err, n);
        else if (strcmp(key, "jitter") == 0) rc = read_dur(key, v, &out->jitter_ms, err, n);
        else if (strcmp(key, "cut_every") == 0) {
            rc = read_dur(key, v, &out->cut_every_ms, err, n);
            if (rc == HIVE_OK && out->cut_every_ms && out->cut_every_ms < HIVE__NETSIM_MIN_CUT_MS)
                rc = spec_err(err, n, "netsim: cut_every=%s: at least %ums (0 means never)", v, HIVE__NETSIM_MIN_CUT_MS);
        } else if (strcmp(key, "loss") == 0) rc = read_pct(key, v, &out->loss_ppm, err, n);
        else if (strcmp(key, "dup") == 0) rc = read_pct(key, v, &out->dup_ppm, err, n);
        else if (strcmp(key, "reorder") == 0) rc = read_pct(key, v, &out->reorder_ppm, err, n);
        else if (strcmp(key, "bandwidth") == 0) rc = read_rate(key, v, &out->bytes_per_sec, err, n);
        else if (strcmp(key, "seed") == 0) {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(v, &end, 10);
            rc = (!isdigit((unsigned char)*v) || *end || errno)
                     ? spec_err(err, n, "netsim: seed=%s: expected an unsigned 64-bit number", v) : HIVE_OK;
            out->seed = s;
        } else if (strcmp(key, "dir") == 0) {
            rc = HIVE_OK;
            if (strcmp(v, "both") == 0) out->send = out->recv = true;
            else if (strcmp(v, "send") == 0) { out->send = true; out->recv = false; }
            else if (strcmp(v, "recv") == 0) { out->send = false; out->recv = true; }
            else rc = spec_err(err, n, "netsim: dir=%s: expected both, send or recv", v);
        } else return spec_err(err, n, "netsim: unknown key '%s' (keys: " NETSIM_KEYS ")", key);
        if (rc < 0) return rc;
    }
    out->on = true;
    return HIVE_OK;
}

/* ------------------------------------------------------------------ */
/* The simulator                                                        */
/* ------------------------------------------------------------------ */

typedef struct ns_item {
    struct ns_item *next;
    uint64_t due;           /* microseconds, hive_now_ns() / 1000 */
    uint64_t seq;           /* unreliable: order sent (the sequencing rule) */
    int channel;            /* as cb.data reports it (with its lane) */
    int dlv;                /* HIVE__DLV_* with its lane (stream transports: always reliable) */
    size_t n;
    uint8_t data[];
} ns_item;

/* One direction of one link. */
typedef struct ns_dir {
    ns_item *head, *tail;
    size_t bytes;
    uint64_t busy_until;    /* bandwidth: when the last item finished leaving */
    uint64_t last_rel_due[HIVE__LANES_MAX];   /* reliable items of a lane never overtake
                                                each other (other lanes' may) */
    uint64_t next_seq, last_seq[HIVE__LANES_MAX];   /* sequenced: per lane */
    uint64_t un_top, un_bits;   /* unordered: newest seq seen, and the 64 before it */
    uint64_t rng;
} ns_dir;

/* Whether an unordered item's seq was delivered before (a second copy),
 * marking it delivered. Items more than 64 behind the newest count as
 * seen: a bounded window, as ENet's unsequenced window is. */
static bool dup_seen(ns_dir *d, uint64_t seq)
{
    if (seq > d->un_top) {
        uint64_t shift = seq - d->un_top;
        d->un_bits = shift >= 64 ? 0 : d->un_bits << shift;
        d->un_bits |= 1;
        d->un_top = seq;
        return false;
    }
    uint64_t back = d->un_top - seq;
    if (back >= 64) return true;
    uint64_t bit = (uint64_t)1 << back;
    if (d->un_bits & bit) return true;
    d->un_bits |= bit;
    return false;
}

typedef struct ns_link {
    hive__link base;        /* what the core holds */
    struct ns_link *next;
    hive__link *inner;      /* NULL once the wrapped link is gone */
    ns_dir out, in;
    uint64_t next_cut;      /* microseconds; 0: none */
    uint64_t cut_rng;
    bool connected;         /* accepted, or cb.connected seen */
    bool dead;              /* the core no longer knows it; freed by sweep */
    bool closing, close_sent;
    uint32_t close_code;
    bool gone_pending;      /* wrapped link gone: tell the core once `in` drains */
    int gone_reason;
    char *gone_msg;
} ns_link;

typedef struct ns {
    hive__transport base;
    hive__transport_vt vt;  /* ours, with the wrapped one's `stream` */
    hive__transport *inner;
    hive__netsim_spec spec;
    ns_link *links;
    uint64_t ordinal;
    int depth;
    uint64_t dropped, duplicated, cuts;   /* atomics (->stats, any thread) */
} ns;

static uint64_t now_us(void) { return hive_now_ns() / 1000u; }

/* splitmix64: small, fast, and the same sequence everywhere. */
static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Always draws once, so the sequence of draws does not depend on ppm. */
static bool chance(uint64_t *s, uint32_t ppm)
{
    uint64_t r = rnd(s) % 1000000u;
    return r < ppm;
}

/* Uniform in [lo, hi]. */
static uint64_t uniform(uint64_t *s, uint64_t lo, uint64_t hi)
{
    uint64_t r = rnd(s);
    return hi > lo ? lo + r % (hi - lo + 1) : lo;
}

static uint64_t seed_for(const ns *t, uint64_t ordinal, uint64_t which)
{
    uint64_t s = t->spec.seed ^ (ordinal * 0x100000001b3ull + which * 0x9e3779b97f4a7c15ull);
    rnd(&s);
    return s;
}

static void dir_free(ns_dir *d)
{
    ns_item *it = d->head;
    while (it) { ns_item *nx = it->next; hive__free(it); it = nx; }
    d->head = d->tail = NULL;
    d->bytes = 0;
}

/* Stable insert by due time: after every item due at or before it. */
static void dir_insert(ns_dir *d, ns_item *it)
{
    d->bytes += it->n;
    it->next = NULL;
    if (!d->tail || d->tail->due <= it->due) {
        if (d->tail) d->tail->next = it;
        else d->head = it;
        d->tail = it;
        return;
    }
    ns_item **pp = &d->head;
    while (*pp && (*pp)->due <= it->due) pp = &(*pp)->next;
    it->next = *pp;
    *pp = it;
}

static ns_item *dir_pop(ns_dir *d)
{
    ns_item *it = d->head;
    d->head = it->next;
    if (!d->head) d->tail = NULL;
    d->bytes -= it->n;
    return it;
}

static void schedule_cut(ns *t, ns_link *l, uint64_t now)
{
    if (!t->spec.cut_every_ms) return;
    uint64_t mean = (uint64_t)t->spec.cut_every_ms * 1000u;
    l->next_cut = now + uniform(&l->cut_rng, mean / 2, mean + mean / 2);
}

/* Gives it its due time (or drops it) and queues it on d. Takes it. */
static void schedule(ns *t, ns_dir *d, ns_item *it, uint64_t now)
{
    const hive__netsim_spec *sp = &t->spec;
    uint64_t lat = (uint64_t)sp->latency_ms * 1000u, jit = (uint64_t)sp->jitter_ms * 1000u;
    /* Draws in a fixed order: jitter, loss, reorder, duplicate. */
    int64_t j = jit ? (int64_t)uniform(&d->rng, 0, 2 * jit) - (int64_t)jit : 0;
    uint64_t delay = (int64_t)lat + j > 0 ? (uint64_t)((int64_t)lat + j) : 0;
    uint64_t start = now;
    if (sp->bytes_per_sec) {
        start = d->busy_until > now ? d->busy_until : now;
        if (HIVE__KIND(it->dlv) != HIVE__DLV_RELIABLE && start - now > 1000000u) {
            hive__free(it);
            __atomic_add_fetch(&t->dropped, 1, __ATOMIC_RELAXED);
            return;
        }
        start += (uint64_t)((long double)it->n * 1e6L / (long double)sp->bytes_per_sec);
        d->busy_until = start;
    }
    if (HIVE__KIND(it->dlv) == HIVE__DLV_RELIABLE) {
        uint64_t rto = 2 * lat + 4 * jit, floor = t->vt.stream ? 200000u : 20000u;
        if (rto < floor) rto = floor;
        for (int tries = 0; tries < 16 && chance(&d->rng, sp->loss_ppm); tries++) delay += rto;
        uint64_t due = start + delay;
        /* A lost reliable item holds up its own lane only, as ENet's
         * per-channel ordering does. */
        uint64_t *last = &d->last_rel_due[HIVE__LANE(it->dlv) % HIVE__LANES_MAX];
        if (due < *last) due = *last;
        *last = due;
        it->due = due;
        dir_insert(d, it);
        return;
    }
    it->seq = ++d->next_seq;
    bool lost = chance(&d->rng, sp->loss_ppm);
    bool held = chance(&d->rng, sp->reorder_ppm);
    bool twice = chance(&d->rng, sp->dup_ppm);
    uint64_t extra = held ? uniform(&d->rng, 1000u, 2 * jit > 20000u ? 2 * jit : 20000u) : 0;
    uint64_t later = twice ? uniform(&d->rng, 0, jit + 1000u) : 0;
    if (lost) {
        hive__free(it);
        __atomic_add_fetch(&t->dropped, 1, __ATOMIC_RELAXED);
        return;
    }
    it->due = start + delay + extra;
    if (twice) {
        ns_item *c = hive__malloc(sizeof *c + it->n);
        if (c) {
            memcpy(c, it, sizeof *c + it->n);
            c->due = it->due + later;
            __atomic_add_fetch(&t->duplicated, 1, __ATOMIC_RELAXED);
            dir_insert(d, c);
        }
    }
    dir_insert(d, it);
}

/* The wrapped link is gone for good: drop what it carried. */
static void drop_inner(ns_link *l)
{
    l->inner = NULL;
    dir_free(&l->out);
}

static void cut(ns *t, ns_link *l, const char *why)
{
    hive__link *il = l->inner;
    drop_inner(l);
    dir_free(&l->in);
    l->dead = true;
    if (il) t->inner->vt->abort(t->inner, il);
    __atomic_add_fetch(&t->cuts, 1, __ATOMIC_RELAXED);
    t->base.cb.disconnected(t->base.cb.core, &l->base, HIVE_CLOSE_PEER_VANISHED, why);
}

/* Hands due outgoing items to the wrapped transport. Returns how many. */
static int release_out(ns *t, ns_link *l, uint64_t now)
{
    int n = 0;
    while (!l->dead && l->inner && l->out.head && l->out.head->due <= now) {
        ns_item *it = l->out.head;
        const void *piece = it->data;
        int rc = t->inner->vt->send(t->inner, l->inner, &piece, &it->n, 1, it->dlv);
        if ((rc == HIVE_EFULL || rc == HIVE_ENOMEM) && HIVE__KIND(it->dlv) == HIVE__DLV_RELIABLE) break;   /* retry next round */
        hive__free(dir_pop(&l->out));
        n++;
        if (rc == HIVE_ECLOSED) break;
    }
    if (!l->dead && l->inner && l->closing && !l->close_sent && !l->out.head) {
        l->close_sent = true;
        t->inner->vt->close(t->inner, l->inner, l->close_code);
    }
    return n;
}

/* Delivers due incoming items to the core. Returns how many. */
static int release_in(ns *t, ns_link *l, uint64_t now)
{
    int n = 0;
    while (!l->dead && l->in.head && l->in.head->due <= now) {
        ns_item *it = dir_pop(&l->in);
        /* Sequenced frames: what was overtaken, and second copies, are
         * dropped here as the transport itself would drop them. Unordered
         * ones arrive as they come (ENet's unsequenced window drops a
         * second copy; so does this). */
        if (HIVE__KIND(it->dlv) == HIVE__DLV_UNORDERED && dup_seen(&l->in, it->seq)) {
            hive__free(it);
            __atomic_add_fetch(&t->dropped, 1, __ATOMIC_RELAXED);
            continue;
        }
        if (HIVE__KIND(it->dlv) == HIVE__DLV_SEQUENCED) {
            uint64_t *last = &l->in.last_seq[HIVE__LANE(it->dlv) % HIVE__LANES_MAX];
            if (it->seq <= *last) {
                hive__free(it);
                __atomic_add_fetch(&t->dropped, 1, __ATOMIC_RELAXED);
                continue;
            }
            *last = it->seq;
        }
        t->base.cb.data(t->base.cb.core, &l->base, it->data, it->n, it->channel);
        hive__free(it);
        n++;
    }
    if (!l->dead && l->gone_pending && !l->in.head) {
        l->dead = true;
        t->base.cb.disconnected(t->base.cb.core, &l->base, l->gone_reason, l->gone_msg);
        n++;
    }
    return n;
}

static int release_all(ns *t, uint64_t now)
{
    int n = 0;
    for (ns_link *l = t->links; l; l = l->next) {
        if (l->dead) continue;
        if (l->connected && l->inner && l->next_cut && now >= l->next_cut) {
            /* what was due before the cut still gets through */
            n += release_out(t, l, l->next_cut);
            n += release_in(t, l, l->next_cut);
            if (l->dead) continue;
            cut(t, l, "netsim: link cut");
            n++;
            continue;
        }
        n += release_out(t, l, now);
        n += release_in(t, l, now);
    }
    return n;
}

static uint64_t next_due(const ns *t)
{
    uint64_t next = UINT64_MAX;
    for (const ns_link *l = t->links; l; l = l->next) {
        if (l->dead) continue;
        if (l->out.head && l->inner && l->out.head->due < next) next = l->out.head->due;
        if (l->in.head && l->in.head->due < next) next = l->in.head->due;
        if (l->connected && l->inner && l->next_cut && l->next_cut < next) next = l->next_cut;
    }
    return next;
}

static void link_free(ns_link *l)
{
    dir_free(&l->out);
    dir_free(&l->in);
    hive__free(l->gone_msg);
    hive__free(l);
}

/* Frees the links the core has let go of. Only outside callbacks. */
static void sweep(ns *t)
{
    if (t->depth) return;
    ns_link **pp = &t->links;
    while (*pp) {
        ns_link *l = *pp;
        if (l->dead) { *pp = l->next; link_free(l); }
        else pp = &l->next;
    }
}

static ns_link *link_new(ns *t, hive__link *il)
{
    ns_link *l = hive__calloc(1, sizeof *l);
    if (!l) return NULL;
    uint64_t k = t->ordinal++;
    l->out.rng = seed_for(t, k, 1);
    l->in.rng = seed_for(t, k, 2);
    l->cut_rng = seed_for(t, k, 3);
    l->inner = il;
    il->conn = l;
    l->next = t->links;
    t->links = l;
    return l;
}

/* --- the wrapped transport's callbacks ----------------------------- */

static int on_accepted(void *core, hive__link *il, const char *addr)
{
    ns *t = core;
    ns_link *l = link_new(t, il);
    if (!l) return HIVE_ENOMEM;
    l->connected = true;
    schedule_cut(t, l, now_us());
    int rc = t->base.cb.accepted(t->base.cb.core, &l->base, addr);
    if (rc < 0) {
        l->inner = NULL;    /* the wrapped transport drops it quietly */
        l->dead = true;
    }
    return rc;
}

static void on_connected(void *core, hive__link *il)
{
    ns *t = core;
    ns_link *l = il->conn;
    if (!l || l->dead) return;
    l->connected = true;
    schedule_cut(t, l, now_us());
    t->base.cb.connected(t->base.cb.core, &l->base);
}

static void on_data(void *core, hive__link *il, const uint8_t *p, size_t n, int channel)
{
    ns *t = core;
    ns_link *l = il->conn;
    if (!l || l->dead) return;
    if (!t->spec.recv) {
        t->base.cb.data(t->base.cb.core, &l->base, p, n, channel);
        return;
    }
    bool reliable = t->vt.stream || HIVE__KIND(channel) == HIVE__CHANNEL_RELIABLE;
    int dlv = HIVE__WITH_LANE(reliable ? HIVE__DLV_RELIABLE
                              : HIVE__KIND(channel) == HIVE__CHANNEL_UNORDERED ? HIVE__DLV_UNORDERED
                                                                           : HIVE__DLV_SEQUENCED,
                              HIVE__LANE(channel));
    if (l->in.bytes + n > HIVE__NETSIM_RECV_MAX) {
        if (reliable) cut(t, l, "netsim: more than 16 MiB waiting to be delivered");
        else __atomic_add_fetch(&t->dropped, 1, __ATOMIC_RELAXED);
        return;
    }
    ns_item *it = hive__malloc(sizeof *it + n);
    if (!it) {
        if (reliable) cut(t, l, "netsim: out of memory");
        return;
    }
    memcpy(it->data, p, n);
    it->n = n;
    it->channel = channel;
    it->dlv = dlv;
    uint64_t now = now_us();
    schedule(t, &l->in, it, now);
    release_in(t, l, now);
}

static void on_disconnected(void *core, hive__link *il, int reason, const char *message)
{
    ns *t = core;
    ns_link *l = il->conn;
    if (!l || l->dead) return;
    drop_inner(l);
    if (!l->in.head) {
        l->dead = true;
        t->base.cb.disconnected(t->base.cb.core, &l->base, reason, message);
        return;
    }
    /* What arrived before the end is delivered first. */
    l->gone_pending = true;
    l->gone_reason = reason;
    l->gone_msg = message ? hive__strdup(message) : NULL;
}

/* --- the vtable ---------------------------------------------------- */

#define NS(tt) ((ns *)(tt))
#define NL(ll) ((ns_link *)(ll))

static int ns_listen(hive__transport *tt, const hive__addr *a)
{
    return NS(tt)->inner->vt->listen(NS(tt)->inner, a);
}

static int ns_connect(hive__transport *tt, const hive__addr *a, hive__link **out)
{
    ns *t = NS(tt);
    hive__link *il = NULL;
    int rc = t->inner->vt->connect(t->inner, a, &il);
    if (rc < 0) return rc;
    ns_link *l = link_new(t, il);
    if (!l) {
        t->inner->vt->abort(t->inner, il);
        return HIVE_ENOMEM;
    }
    *out = &l->base;
    return HIVE_OK;
}

static int ns_service(hive__transport *tt, int timeout_ms)
{
    ns *t = NS(tt);
    t->depth++;
    uint64_t now = now_us();
    int n = release_all(t, now);
    int wait = n > 0 ? 0 : timeout_ms;
    uint64_t next = next_due(t);
    if (next != UINT64_MAX && wait > 0) {
        uint64_t w = next > now ? (next - now + 999u) / 1000u : 0;
        if (w < (uint64_t)wait) wait = (int)w;
    }
    int r = t->inner->vt->service(t->inner, wait);
    if (r >= 0) {
        n += r + release_all(t, now_us());
        t->inner->vt->flush(t->inner);
    }
    t->depth--;
    sweep(t);
    return r < 0 ? r : n;
}

static int ns_send(hive__transport *tt, hive__link *ll, const void *const *pieces, const size_t *lens,
                   int np, int dlv)
{
    ns *t = NS(tt);
    ns_link *l = NL(ll);
    if (l->dead || !l->inner || l->closing) return HIVE_ECLOSED;
    if (!t->spec.send) return t->inner->vt->send(t->inner, l->inner, pieces, lens, np, dlv);
    size_t total = 0;
    for (int i = 0; i < np; i++) total += lens[i];
    ns_item *it = hive__malloc(sizeof *it + total);
    if (!it) return HIVE_ENOMEM;
    size_t off = 0;
    for (int i = 0; i < np; i++) {
        memcpy(it->data + off, pieces[i], lens[i]);
        off += lens[i];
    }
    it->n = total;
    int kind = HIVE__KIND(dlv);
    it->channel = HIVE__WITH_LANE(kind == HIVE__DLV_RELIABLE ? HIVE__CHANNEL_RELIABLE
                                  : kind == HIVE__DLV_UNORDERED ? HIVE__CHANNEL_UNORDERED : HIVE__CHANNEL_UNRELIABLE,
                                  HIVE__LANE(dlv));
    it->dlv = t->vt.stream ? HIVE__DLV_RELIABLE : dlv;
    uint64_t now = now_us();
    schedule(t, &l->out, it, now);
    release_out(t, l, now);
    return HIVE_OK;
}

static void ns_flush(hive__transport *tt) { NS(tt)->inner->vt->flush(NS(tt)->inner); }

static void ns_close(hive__transport *tt, hive__link *ll, uint32_t code)
{
    ns *t = NS(tt);
    ns_link *l = NL(ll);
    if (l->dead || !l->inner || l->closing) return;
    l->closing = true;
    l->close_code = code;
    release_out(t, l, now_us());   /* closes now when nothing waits */
}

static void ns_abort(hive__transport *tt, hive__link *ll)
{
    ns *t = NS(tt);
    ns_link *l = NL(ll);
    if (l->dead) return;
    hive__link *il = l->inner;
    drop_inner(l);
    dir_free(&l->in);
    l->dead = true;
    if (il) t->inner->vt->abort(t->inner, il);
    /* freed by the next ->service's sweep: a caller up the stack may
     * still hold it */
}

static void ns_wake(hive__transport *tt) { NS(tt)->inner->vt->wake(NS(tt)->inner); }

static uint16_t ns_bound_port(hive__transport *tt)
{
    return NS(tt)->inner->vt->bound_port(NS(tt)->inner);
}

static int ns_rtt(hive__transport *tt, hive__link *ll)
{
    ns_link *l = NL(ll);
    return l->inner ? NS(tt)->inner->vt->rtt_ms(NS(tt)->inner, l->inner) : -1;
}

static const char *ns_subject(hive__transport *tt, hive__link *ll)
{
    hive__transport *in = NS(tt)->inner;
    ns_link *l = NL(ll);
    return l->inner && in->vt->peer_subject ? in->vt->peer_subject(in, l->inner) : NULL;
}

static size_t ns_queued(hive__transport *tt, hive__link *ll)
{
    hive__transport *in = NS(tt)->inner;
    ns_link *l = NL(ll);
    size_t q = l->out.bytes;
    if (l->inner && in->vt->queued) q += in->vt->queued(in, l->inner);
    return q;
}

static int ns_stats(hive__transport *tt, hive__transport_stats *out)
{
    ns *t = NS(tt);
    memset(out, 0, sizeof *out);
    if (t->inner->vt->stats) t->inner->vt->stats(t->inner, out);
    out->netsim_dropped += __atomic_load_n(&t->dropped, __ATOMIC_RELAXED);
    out->netsim_duplicated += __atomic_load_n(&t->duplicated, __ATOMIC_RELAXED);
    out->netsim_cuts += __atomic_load_n(&t->cuts, __ATOMIC_RELAXED);
    return HIVE_OK;
}

static int ns_lanes(hive__transport *tt, hive__link *ll)
{
    hive__transport *in = NS(tt)->inner;
    ns_link *l = NL(ll);
    return l->inner && in->vt->lanes ? in->vt->lanes(in, l->inner) : 1;
}

static void ns_offer_lanes(hive__transport *tt, int n)
{
    hive__transport *in = NS(tt)->inner;
    if (in->vt->offer_lanes) in->vt->offer_lanes(in, n);
}

static void ns_destroy(hive__transport *tt)
{
    ns *t = NS(tt);
    t->inner->vt->destroy(t->inner);
    ns_link *l = t->links;
    while (l) { ns_link *nx = l->next; link_free(l); l = nx; }
    hive__free(t);
}

int hive__netsim_create(const hive__netsim_spec *spec, const hive__addr *addr,
                        const hive__transport_cb *cb, const hive__transport_opts *opts,
                        hive__transport **out)
{
    if (!spec || !spec->on || !addr || !cb || !out) return HIVE_EINVAL;
    ns *t = hive__calloc(1, sizeof *t);
    if (!t) return HIVE_ENOMEM;
    t->spec = *spec;
    t->base.cb = *cb;
    if (opts) t->base.opts = *opts;
    hive__transport_cb mine = {
        .core = t, .accepted = on_accepted, .connected = on_connected,
        .data = on_data, .disconnected = on_disconnected,
    };
    int rc = hive__transport_create(addr, &mine, opts, &t->inner);
    if (rc < 0) { hive__free(t); return rc; }
    t->vt = (hive__transport_vt){
        .scheme = t->inner->vt->scheme, .stream = t->inner->vt->stream,
        .listen = ns_listen, .connect = ns_connect, .service = ns_service,
        .send = ns_send, .flush = ns_flush,
        /* no share/send_shared: a broadcast goes link by link, each link
         * with its own impairments */
        .close = ns_close, .abort = ns_abort, .wake = ns_wake,
        .bound_port = ns_bound_port, .rtt_ms = ns_rtt, .peer_subject = ns_subject,
        .queued = ns_queued, .stats = ns_stats, .destroy = ns_destroy,
        .lanes = t->inner->vt->lanes ? ns_lanes : NULL,
        .offer_lanes = t->inner->vt->offer_lanes ? ns_offer_lanes : NULL,
    };
    t->base.vt = &t->vt;
    *out = &t->base;
    return HIVE_OK;
}
