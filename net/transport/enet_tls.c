/*
 * net/transport/enet_tls.c - enet+tls://: TLS and sealed datagrams over
 * the ENet transport.
 *
 * A layer around net/transport/enet.c, not a second ENet transport: this
 * object owns an inner `enet` transport (created with coalesce_off, so one
 * inner send is one ENet packet) and is the core of that inner transport.
 *
 *   channel 0 (reliable-ordered): a TLS 1.3 connection. The handshake runs
 *     through hive__tls's buffers; every ENet packet on it carries TLS
 *     records. Inside TLS, each batch of frames the core queued before a
 *     flush travels as [u32 length, big-endian][frames], so the receiver
 *     hands the core exactly the batches the sender made and this layer
 *     looks at no frame.
 *   channel 1 (unreliable): each ENet packet is one datagram sealed with
 *     net/aead.c (keys exported from the TLS session, one per direction,
 *     a counter nonce, a 128-packet replay window). Anything that does not
 *     open is dropped and counted; the connection goes on.
 *
 * The core sees enet+tls links exactly like ENet links (datagram
 * semantics, stream == false) and gets `connected` only once TLS is up and
 * the datagram keys are set.
 */
#include "events/internal.h"
#include "net/transport/transport.h"
#include "net/transport/aead.h"
#include "net/transport/tls.h"
#include "hive/net.h"

#include <stdio.h>
#include <string.h>

#define BATCH_MAX      (256u << 10)  /* reliable batch size before a new one starts */
#define UNREL_MAX      1100u         /* plaintext per sealed datagram: one ENet MTU */
#define UNREL_QUEUE    (64u << 10)   /* unreliable bytes kept before keys exist */
#define REL_QUEUE      (64u << 20)
#define TLS_CHUNK      (64u << 10)   /* ciphertext per reliable ENet packet */

typedef struct sbuf {
    uint8_t *data;
    size_t len, cap;
} sbuf;

typedef struct slink {
    hive__link base;            /* first: what the core sees */
    struct stls *tr;
    hive__link *inner;          /* the ENet link; NULL once gone */
    hive__tls *tls;
    hive__aead aead;
    bool keyed;                 /* TLS done and aead set */
    bool dialing;
    bool announced;             /* the core knows this link */
    bool closing;
    bool failed;                /* TLS failed: report fail_reason at the end */
    bool dirty;
    bool dead;
    int fail_reason;
    size_t open_batch;          /* offset of the open batch header in rel, or SIZE_MAX */
    sbuf rel;                   /* [u32 len][frames]... waiting for TLS */
    sbuf unrel;                 /* frames for the next sealed datagram */
    sbuf unord;                 /* ... for the next unordered one (sent
                                   unsequenced; the AEAD's replay window
                                   takes datagrams up to 128 late) */
    sbuf rx;                    /* decrypted reliable bytes not yet a whole batch */
    char *close_msg;
    struct slink *next_dirty;
    struct slink *next_grave;
} slink;

typedef struct stls {
    hive__transport base;       /* first */
    hive__transport *inner;
    hive__tls_ctx *ctx;
    hive_tls_config cfg;
    bool has_cfg;
    slink *dirty;
    slink *grave;
    hive__transport_stats st;   /* over every link; __atomic (->stats reads
                                   them from any thread) */
    uint32_t rx_limit;          /* largest batch accepted */
    size_t nlinks;
    slink **all;                /* for destroy */
    size_t all_cap;
} stls;

static const hive__transport_vt stls_vt;

/* ------------------------------------------------------------------ */

static int sbuf_grow(sbuf *b, size_t more)
{
    if (b->cap - b->len >= more) return 0;
    size_t cap = b->cap ? b->cap : 2048;
    while (cap - b->len < more) cap *= 2;
    uint8_t *d = hive__realloc(b->data, cap);
    if (!d) return HIVE_ENOMEM;
    b->data = d;
    b->cap = cap;
    return 0;
}

static int sbuf_put(sbuf *b, const void *p, size_t n)
{
    if (sbuf_grow(b, n) < 0) return HIVE_ENOMEM;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

static void sbuf_drop(sbuf *b, size_t n)
{
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

static void sbuf_free(sbuf *b)
{
    hive__free(b->data);
    memset(b, 0, sizeof *b);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int track(stls *t, slink *l)
{
    if (t->nlinks == t->all_cap) {
        size_t cap = t->all_cap ? t->all_cap * 2 : 16;
        slink **a = hive__realloc(t->all, cap * sizeof *a);
        if (!a) return HIVE_ENOMEM;
        t->all = a;
        t->all_cap = cap;
    }
    t->all[t->nlinks++] = l;
    return 0;
}

static void untrack(stls *t, slink *l)
{
    for (size_t i = 0; i < t->nlinks; i++) {
        if (t->all[i] == l) {
            t->all[i] = t->all[--t->nlinks];
            return;
        }
    }
}

static slink *link_new(stls *t, bool dialing, const char *host)
{
    slink *l = hive__calloc(1, sizeof *l);
    if (!l) return NULL;
    l->tr = t;
    l->dialing = dialing;
    l->open_batch = SIZE_MAX;
    l->tls = hive__tls_create(t->ctx, host);
    if (!l->tls || track(t, l) < 0) {
        hive__tls_destroy(l->tls);
        hive__free(l);
        return NULL;
    }
    return l;
}

#define COUNT(t, field) __atomic_fetch_add(&(t)->st.field, 1, __ATOMIC_RELAXED)

static void link_free(stls *t, slink *l)
{
    untrack(t, l);
    hive__aead_free(&l->aead);
    hive__tls_destroy(l->tls);
    sbuf_free(&l->rel);
    sbuf_free(&l->unrel);
    sbuf_free(&l->unord);
    sbuf_free(&l->rx);
    hive__free(l->close_msg);
    hive__free(l);
}

/* Park a dead link; freed at the end of service (or destroy). */
static void link_bury(stls *t, slink *l)
{
    if (l->dead) return;
    l->dead = true;
    if (l->inner) l->inner->conn = NULL;
    l->inner = NULL;
    l->next_grave = t->grave;
    t->grave = l;
}

static void graveyard_free(stls *t)
{
    /* Dirty entries may point at buried links: drop them first. */
    slink **pp = &t->dirty;
    while (*pp) {
        if ((*pp)->dead) *pp = (*pp)->next_dirty; else pp = &(*pp)->next_dirty;
    }
    while (t->grave) {
        slink *l = t->grave;
        t->grave = l->next_grave;
        link_free(t, l);
    }
}

static void mark_dirty(slink *l)
{
    if (l->dirty || l->dead) return;
    l->dirty = true;
    l->next_dirty = l->tr->dirty;
    l->tr->dirty = l;
}

/* ------------------------------------------------------------------ */
/* outgoing                                                            */

/* Hand TLS's waiting ciphertext to ENet's reliable channel. */
static void push_tls(slink *l)
{
    if (!l->inner) return;
    stls *t = l->tr;
    size_t n;
    const uint8_t *p;
    /* Pieces of at most TLS_CHUNK: the receiving ENet host refuses
     * packets over its maximum size. */
    while ((p = hive__tls_out(l->tls, &n)) != NULL && n) {
        if (n > TLS_CHUNK) n = TLS_CHUNK;
        const void *pieces[1] = { p };
        size_t lens[1] = { n };
        if (t->inner->vt->send(t->inner, l->inner, pieces, lens, 1, true) < 0) return;
        hive__tls_out_consume(l->tls, n);
    }
}

/* TLS failed: say so to the peer (the alert), then close the ENet link;
 * the core hears tls_error with OpenSSL's text once ENet is done. */
static void fail_tls(slink *l)
{
    if (l->failed || l->dead) return;
    l->failed = true;
    /* This side refused unless the peer's alert said so first. */
    l->fail_reason = HIVE_CLOSE_TLS_ERROR | (hive__tls_peer_alerted(l->tls) ? 0 : HIVE__LINK_LOCAL);
    if (!l->close_msg) {
        l->close_msg = hive__strdup(hive__tls_error(l->tls));
    }
    push_tls(l);
    /* The peer that sent us an alert is already disconnecting: a second
     * disconnect from this side would cross it, and ENet then settles the
     * link only by timing out. Wait for its disconnect instead. */
    if (hive__tls_peer_alerted(l->tls)) return;
    if (l->inner) l->tr->inner->vt->close(l->tr->inner, l->inner, HIVE_CLOSE_TLS_ERROR);
}

static void seal_buf(slink *l, sbuf *b, int dlv)
{
    if (!b->len || !l->keyed || !l->inner) return;
    stls *t = l->tr;
    uint8_t dg[UNREL_MAX + HIVE__AEAD_OVERHEAD + 64];
    uint8_t *out = dg;
    size_t cap = b->len + HIVE__AEAD_OVERHEAD;
    if (cap > sizeof dg && !(out = hive__malloc(cap))) { b->len = 0; return; }
    int n = hive__aead_seal(&l->aead, b->data, b->len, out, cap);
    b->len = 0;
    if (n > 0) {
        const void *pieces[1] = { out };
        size_t lens[1] = { (size_t)n };
        t->inner->vt->send(t->inner, l->inner, pieces, lens, 1, dlv);
    } else if (n == HIVE_ELIMIT) {
        /* 2^32 datagrams on one key: end the connection rather than reuse a nonce. */
        l->close_msg = l->close_msg ? l->close_msg : hive__strdup("datagram counter exhausted");
        l->failed = true;
        l->fail_reason = HIVE_CLOSE_TLS_ERROR | HIVE__LINK_LOCAL;
        t->inner->vt->close(t->inner, l->inner, HIVE_CLOSE_TLS_ERROR);
    }
    if (out != dg) hive__free(out);
}

static void seal_unrel(slink *l)
{
    seal_buf(l, &l->unrel, HIVE__DLV_SEQUENCED);
    if (!l->failed) seal_buf(l, &l->unord, HIVE__DLV_UNORDERED);
}

/* Encrypt queued reliable batches and seal the datagram. Never calls back. */
static void link_flush(slink *l)
{
    if (l->dead || l->failed || !l->inner) return;
    if (hive__tls_done(l->tls) && l->rel.len) {
        if (hive__tls_write(l->tls, l->rel.data, l->rel.len) < 0) {
            fail_tls(l);
            return;
        }
        l->rel.len = 0;
        l->open_batch = SIZE_MAX;
    }
    push_tls(l);
    seal_unrel(l);
}

static void flush_dirty(stls *t)
{
    while (t->dirty) {
        slink *l = t->dirty;
        t->dirty = l->next_dirty;
        l->next_dirty = NULL;
        l->dirty = false;
        link_flush(l);
    }
}

/* ------------------------------------------------------------------ */
/* incoming (called by the inner transport, inside its service)        */

static void tls_up(slink *l)
{
    stls *t = l->tr;
    if (hive__aead_init_tls(&l->aead, l->tls, !l->dialing) < 0) {
        if (!l->close_msg) {
            l->close_msg = hive__strdup("could not derive the datagram keys");
        }
        fail_tls(l);
        return;
    }
    l->keyed = true;
    if (l->dialing && l->announced)
        t->base.cb.connected(t->base.cb.core, &l->base);
    if (!l->dead) mark_dirty(l);   /* whatever was queued meanwhile */
}

/* Split decrypted bytes into the sender's batches and hand them over. */
static void deliver_batches(slink *l)
{
    stls *t = l->tr;
    size_t off = 0;
    while (!l->dead && !l->failed && l->rx.len - off >= 4) {
        uint32_t n = get_u32(l->rx.data + off);
        if (n == 0 || n > t->rx_limit) {
            l->failed = true;
            l->fail_reason = HIVE_CLOSE_BAD_FRAME | HIVE__LINK_LOCAL;
            if (!l->close_msg) {
                l->close_msg = hive__strdup("bad batch length inside TLS");
            }
            t->inner->vt->close(t->inner, l->inner, HIVE_CLOSE_BAD_FRAME);
            break;
        }
        if (l->rx.len - off - 4 < n) break;
        if (!l->closing)
            t->base.cb.data(t->base.cb.core, &l->base, l->rx.data + off + 4, n, HIVE__CHANNEL_RELIABLE);
        off += 4 + (size_t)n;
    }
    if (!l->dead && off) sbuf_drop(&l->rx, off);
}

static void on_reliable(slink *l, const uint8_t *p, size_t n)
{
    if (l->failed) return;
    if (hive__tls_feed(l->tls, p, n) < 0) { fail_tls(l); return; }
    if (!hive__tls_done(l->tls)) {
        int h = hive__tls_handshake(l->tls);
        if (h < 0) { fail_tls(l); return; }
        push_tls(l);
        if (h == 0) return;
        tls_up(l);
        if (l->dead || l->failed) return;
    }
    uint8_t buf[16384];
    for (;;) {
        int r = hive__tls_read(l->tls, buf, sizeof buf);
        if (r > 0) {
            if (sbuf_put(&l->rx, buf, (size_t)r) < 0) { fail_tls(l); return; }
            continue;
        }
        if (r == HIVE_ETLS) {
            deliver_batches(l);
            if (!l->dead) fail_tls(l);
            return;
        }
        break;   /* 0: wait for more; HIVE_ECLOSED: ENet's disconnect follows */
    }
    deliver_batches(l);
    if (!l->dead) push_tls(l);    /* records TLS produced while reading */
}

static void on_unreliable(slink *l, const uint8_t *p, size_t n, int channel)
{
    if (!l->keyed || l->failed || l->closing) {
        COUNT(l->tr, sealed_rejected);   /* nothing can be opened yet */
        return;
    }
    uint8_t buf[UNREL_MAX + 256];
    uint8_t *out = buf;
    if (n > sizeof buf && !(out = hive__malloc(n))) return;
    int m = hive__aead_open(&l->aead, p, n, out, n);
    if (m >= 0) COUNT(l->tr, sealed_opened);
    else if (m == HIVE_EEXIST) COUNT(l->tr, sealed_replayed);
    else if (m == HIVE_EPROTO) COUNT(l->tr, sealed_rejected);
    if (m > 0)
        l->tr->base.cb.data(l->tr->base.cb.core, &l->base, out, (size_t)m, channel);
    if (out != buf) hive__free(out);
}

static int in_accepted(void *core, hive__link *inner, const char *addr)
{
    stls *t = core;
    slink *l = link_new(t, false, NULL);
    if (!l) return HIVE_ENOMEM;
    l->inner = inner;
    inner->conn = l;
    char a[HIVE__ADDR_MAX + 8];
    const char *rest = strstr(addr, "://");
    snprintf(a, sizeof a, "enet+tls://%s", rest ? rest + 3 : addr);
    if (t->base.cb.accepted(t->base.cb.core, &l->base, a) < 0) {
        inner->conn = NULL;
        link_free(t, l);
        return HIVE_ECLOSED;
    }
    l->announced = true;
    return 0;
}

static void in_connected(void *core, hive__link *inner)
{
    slink *l = inner->conn;
    if (!l || l->dead) return;
    /* ENet is up: start TLS (the ClientHello goes out now). */
    int h = hive__tls_handshake(l->tls);
    if (h < 0) { fail_tls(l); return; }
    push_tls(l);
}

static void in_data(void *core, hive__link *inner, const uint8_t *p, size_t n, int channel)
{
    slink *l = inner->conn;
    if (!l || l->dead) return;
    if (channel == HIVE__CHANNEL_RELIABLE) on_reliable(l, p, n);
    else on_unreliable(l, p, n, channel);
}

static void in_disconnected(void *core, hive__link *inner, int reason, const char *message)
{
    stls *t = core;
    slink *l = inner->conn;
    if (!l) return;
    inner->conn = NULL;
    l->inner = NULL;
    if (l->failed) reason = l->fail_reason;
    else if (l->dialing && !l->keyed && reason == HIVE_CLOSE_PEER_VANISHED) {
        /* The server hung up during TLS: say which step failed. */
        reason = HIVE_CLOSE_TLS_ERROR;
        if (!l->close_msg) {
            l->close_msg = hive__strdup("the server closed the connection during the TLS handshake");
        }
    }
    bool tell = l->announced;
    link_bury(t, l);
    if (tell) t->base.cb.disconnected(t->base.cb.core, &l->base, reason, l->close_msg);
}

/* ------------------------------------------------------------------ */
/* vtable                                                              */

static bool ensure_ctx(stls *t, bool server)
{
    if (t->ctx) return true;
    char err[HIVE__TLS_ERR_MAX];
    t->ctx = hive__tls_ctx_create(t->has_cfg ? &t->cfg : NULL, server, err, sizeof err);
    return t->ctx != NULL;
}

static hive__addr inner_addr(const hive__addr *a)
{
    hive__addr b = *a;
    snprintf(b.scheme, sizeof b.scheme, "enet");
    return b;
}

static int s_listen(hive__transport *base, const hive__addr *addr)
{
    stls *t = (stls *)base;
    if (!ensure_ctx(t, true)) return HIVE_ETLS;
    hive__addr a = inner_addr(addr);
    return t->inner->vt->listen(t->inner, &a);
}

static int s_connect(hive__transport *base, const hive__addr *addr, hive__link **out)
{
    stls *t = (stls *)base;
    if (!ensure_ctx(t, false)) return HIVE_ETLS;
    slink *l = link_new(t, true, addr->host);
    if (!l) return HIVE_ENOMEM;
    hive__addr a = inner_addr(addr);
    hive__link *in = NULL;
    int r = t->inner->vt->connect(t->inner, &a, &in);
    if (r < 0) {
        link_free(t, l);
        return r;
    }
    l->inner = in;
    in->conn = l;
    l->announced = true;
    *out = &l->base;
    return 0;
}

static int s_service(hive__transport *base, int timeout_ms)
{
    stls *t = (stls *)base;
    flush_dirty(t);
    int n = t->inner->vt->service(t->inner, timeout_ms);
    flush_dirty(t);
    t->inner->vt->flush(t->inner);
    graveyard_free(t);
    return n;
}

static int s_send(hive__transport *base, hive__link *link, const void *const *pieces,
                  const size_t *lens, int n, int dlv)
{
    slink *l = (slink *)link;
    if (l->dead || l->closing || l->failed || !l->inner) return HIVE_ECLOSED;
    dlv = HIVE__KIND(dlv);   /* one lane (transport.h LANES) */
    size_t total = 0;
    for (int i = 0; i < n; i++) total += lens[i];
    if (dlv == HIVE__DLV_RELIABLE) {
        if (l->rel.len + total + 4 > REL_QUEUE) return HIVE_EFULL;
        if (l->open_batch == SIZE_MAX || l->rel.len - l->open_batch - 4 + total > BATCH_MAX) {
            uint8_t hdr[4] = { 0 };
            if (sbuf_put(&l->rel, hdr, 4) < 0) return HIVE_ENOMEM;
            l->open_batch = l->rel.len - 4;
        }
        if (sbuf_grow(&l->rel, total) < 0) return HIVE_ENOMEM;
        for (int i = 0; i < n; i++) sbuf_put(&l->rel, pieces[i], lens[i]);
        put_u32(l->rel.data + l->open_batch, (uint32_t)(l->rel.len - l->open_batch - 4));
    } else {
        sbuf *b = dlv == HIVE__DLV_UNORDERED ? &l->unord : &l->unrel;
        int bd = dlv == HIVE__DLV_UNORDERED ? HIVE__DLV_UNORDERED : HIVE__DLV_SEQUENCED;
        if (b->len && b->len + total > UNREL_MAX) seal_buf(l, b, bd);
        /* Before the keys exist, or beyond a bound, unreliable data may
         * simply be lost. */
        if (b->len + total > UNREL_QUEUE) return 0;
        if (sbuf_grow(b, total) < 0) return HIVE_ENOMEM;
        for (int i = 0; i < n; i++) sbuf_put(b, pieces[i], lens[i]);
        if (base->opts.coalesce_off) seal_buf(l, b, bd);
    }
    mark_dirty(l);
    return 0;
}

static void s_flush(hive__transport *base)
{
    stls *t = (stls *)base;
    flush_dirty(t);
    t->inner->vt->flush(t->inner);
}

static void s_close(hive__transport *base, hive__link *link, uint32_t code)
{
    stls *t = (stls *)base;
    slink *l = (slink *)link;
    if (l->dead || l->closing) return;
    link_flush(l);            /* queued frames leave first, then ENet's disconnect */
    l->closing = true;
    if (l->inner) t->inner->vt->close(t->inner, l->inner, code);
}

static void s_abort(hive__transport *base, hive__link *link)
{
    stls *t = (stls *)base;
    slink *l = (slink *)link;
    if (l->dead) return;
    hive__link *in = l->inner;
    l->inner = NULL;          /* freed by the abort below */
    if (in) t->inner->vt->abort(t->inner, in);
    link_bury(t, l);
}

static void s_wake(hive__transport *base)
{
    stls *t = (stls *)base;
    t->inner->vt->wake(t->inner);
}

static uint16_t s_bound_port(hive__transport *base)
{
    stls *t = (stls *)base;
    return t->inner->vt->bound_port(t->inner);
}

static int s_rtt(hive__transport *base, hive__link *link)
{
    stls *t = (stls *)base;
    slink *l = (slink *)link;
    return l->inner ? t->inner->vt->rtt_ms(t->inner, l->inner) : -1;
}

static void s_destroy(hive__transport *base)
{
    stls *t = (stls *)base;
    if (!t) return;
    if (t->inner) t->inner->vt->destroy(t->inner);   /* no callbacks */
    /* Every link, buried or not, is in t->all until freed. */
    t->dirty = NULL;
    t->grave = NULL;
    while (t->nlinks) link_free(t, t->all[0]);
    hive__free(t->all);
    hive__tls_ctx_destroy(t->ctx);
    hive__free(t);
}

/* Everything queued for the link and not acknowledged by the peer:
 * reliable batches and unreliable frames waiting for this layer's flush,
 * TLS records not handed to ENet yet, and what the inner ENet link holds
 * (the ciphertext and sealed datagrams, unsent or unacknowledged). */
static size_t s_queued(hive__transport *base, hive__link *link)
{
    stls *t = (stls *)base;
    slink *l = (slink *)link;
    size_t n = l->rel.len + l->unrel.len + l->unord.len + (l->tls ? hive__tls_out_pending(l->tls) : 0);
    if (l->inner && !l->dead && t->inner->vt->queued) n += t->inner->vt->queued(t->inner, l->inner);
    return n;
}

static int s_stats(hive__transport *base, hive__transport_stats *out)
{
    stls *t = (stls *)base;
    out->sealed_opened = __atomic_load_n(&t->st.sealed_opened, __ATOMIC_RELAXED);
    out->sealed_rejected = __atomic_load_n(&t->st.sealed_rejected, __ATOMIC_RELAXED);
    out->sealed_replayed = __atomic_load_n(&t->st.sealed_replayed, __ATOMIC_RELAXED);
    /* Half-open ENet peers are the inner transport's to reap and count. */
    hive__transport_stats in;
    out->enet_half_open_reaped = 0;
    if (t->inner && t->inner->vt->stats && t->inner->vt->stats(t->inner, &in) == HIVE_OK)
        out->enet_half_open_reaped = in.enet_half_open_reaped;
    return HIVE_OK;
}

static const char *s_peer_subject(hive__transport *base, hive__link *link)
{
    slink *l = (slink *)link;
    return l->tls ? hive__tls_peer_subject(l->tls) : NULL;
}

static const hive__transport_vt stls_vt = {
    .scheme = "enet+tls", .stream = false,
    .listen = s_listen, .connect = s_connect, .service = s_service, .send = s_send,
    .flush = s_flush, .close = s_close, .abort = s_abort, .wake = s_wake,
    .bound_port = s_bound_port, .rtt_ms = s_rtt, .peer_subject = s_peer_subject,
    .queued = s_queued, .stats = s_stats, .destroy = s_destroy,
};

int hive__transport_enet_tls_create(const hive__transport_cb *cb, const hive__transport_opts *opts,
                                    hive__transport **out)
{
    stls *t = hive__calloc(1, sizeof *t);
    if (!t) return HIVE_ENOMEM;
    t->base.vt = &stls_vt;
    t->base.cb = *cb;
    if (opts) t->base.opts = *opts;
    if (opts && opts->tls) {
        t->cfg = *(const hive_tls_config *)opts->tls;
        t->has_cfg = true;
    }
    uint32_t mf = t->base.opts.max_frame ? t->base.opts.max_frame : 65536;
    t->rx_limit = mf + 64 > BATCH_MAX ? mf + 64 : BATCH_MAX;
    hive__transport_cb icb = { .core = t, .accepted = in_accepted, .connected = in_connected,
                               .data = in_data, .disconnected = in_disconnected };
    hive__transport_opts io = t->base.opts;
    io.coalesce_off = true;     /* one inner send = one ENet packet = one datagram */
    io.tls = NULL;
    /* Inner packets are TLS chunks (up to a whole reliable batch) and
     * sealed datagrams: allow a batch plus TLS overhead. */
    io.max_frame = t->rx_limit + 4096;
    int r = hive__transport_enet_create(&icb, &io, &t->inner);
    if (r < 0) {
        hive__free(t);
        return r;
    }
    *out = &t->base;
    return 0;
}
