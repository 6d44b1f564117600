/*
 * net/transport_tcp.c - tcp:// and tls:// (TLS over the same TCP code).
 *
 * Non-blocking sockets and one epoll set per transport object; an eventfd
 * in the set makes ->wake work from any thread. Every link owns an output
 * buffer: ->send only appends (frames queued in one service round leave in
 * one write), ->flush and the end of ->service push it out, and EPOLLOUT is
 * armed only while bytes are left over after a short write.
 *
 * tls:// puts a hive__tls session (net/tls.h) between the socket and the
 * core: recv() goes straight into the session's ciphertext input and
 * send() straight from its ciphertext output. Plaintext queued by ->send is
 * encrypted in one SSL_write per flush, so many small frames share records.
 *
 * ws:// and wss:// put a WebSocket layer (RFC 6455, framing by libwslay)
 * above the plaintext: socket [-> TLS] -> WebSocket -> core. A listening
 * link first reads the HTTP upgrade (net/transport/wsup.h, bounded in size and
 * in time) and is announced to the core (cb.accepted) only once it is a
 * WebSocket; a bad request gets its HTTP status and is dropped, the core
 * never hears of it. A dialing link sends the upgrade request after the
 * TCP (and TLS) handshake and reports cb.connected on a verified 101.
 * Binary messages carry the frame stream: what ->send queued in a round
 * leaves as one binary message (pieces of at most WS_MSG_MAX), and every
 * binary payload that arrives goes to the core as stream bytes, so Hive
 * frames may share a message or span several. Text messages close with
 * 1003, and whatever wslay refuses (an unmasked client frame, a fragmented
 * or oversize control frame, invalid UTF-8, a frame over WS_MSG_MAX, a
 * reserved bit or opcode) closes with its RFC code; the core sees
 * bad_frame with the code in the message. Pings are answered by wslay;
 * the pongs count in ->queued like any byte waiting for the peer.
 *
 * Callbacks into the core only happen from ->service. ->send, ->flush and
 * ->close never call back: a failure they meet is recorded on the link
 * (fail_at, fail_reason) and reported by the next ->service. A link that
 * is gone is parked in a graveyard and freed at the end of ->service, so
 * pointers still sitting in this round's epoll events stay valid.
 */
#include "events/internal.h"
#include "net/transport/transport.h"
#include "net/transport/tls.h"
#include "hive/net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/openat2.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <wslay/wslay.h>

#include "net/transport/wsup.h"

#define TCP_READ_CHUNK   65536
#define TCP_READS_PER_EV 4          /* fairness: then let other links in */
#define TCP_ACCEPTS_PER_EV 64     /* accepts per listener wakeup: a storm cannot stall the loop */
#define TCP_LISTEN_BACKLOG 1024    /* SYNs a storm can queue while the loop works; the kernel
                                      clamps it to net.core.somaxconn */
#define TCP_EVENTS       64
#define TCP_OUT_LIMIT    (64u << 20) /* hard limit per link, plaintext + TLS records; the
                                        core's send_queue_bytes bound comes first */
#define TCP_CONNECT_MS   5000
#define TCP_LINGER_MS    2000
#define TCP_ALT_MAX      4
#define WS_UPGRADE_MS    5000      /* TCP accept to a complete upgrade (TLS included) */
#define WS_MSG_MAX       (1u << 20) /* payload of one WebSocket frame, either way */
#define WS_ANSWER_MAX    1024
#define WS_FILE_MAX      (8u << 20) /* largest static file served (web_root) */
#define WS_FILES_QUEUED_MAX (64u << 20) /* static files' bytes queued on all links at once */
#define WS_PONG_QUEUE_MAX (1u << 20) /* a ping arriving with more queued ends the link */

enum { WS_NONE = 0, WS_UPGRADE, WS_OPEN, WS_REFUSED };

typedef struct obuf {
    uint8_t *data;
    size_t off, len, cap;
} obuf;

typedef struct tcp_link {
    hive__link base;             /* first: the core sees this */
    struct tcp_tr *tr;
    int fd;
    bool dialing;                /* made by ->connect */
    bool connecting;             /* TCP connect not finished */
    bool announced;              /* the core knows the link: callbacks allowed */
    bool closing;                /* ->close called */
    bool notify_sent;            /* TLS close_notify queued */
    bool wr_shut;                /* shutdown(SHUT_WR) done */
    bool want_out;               /* EPOLLOUT armed */
    bool dirty;                  /* in tr->dirty */
    bool dead;
    bool paced;                  /* bytes wait for pacing tokens (bw_out) */
    double tokens;               /* pacing: bytes that may be written now */
    uint64_t t_tokens;           /* ns of the last refill, 0: bucket not started */
    obuf out;                    /* plaintext waiting (TLS: to be encrypted) */
    hive__tls *tls;
    uint64_t fail_at;            /* ns; 0 = no deadline */
    int fail_reason;
    char *fail_msg;              /* pending message for fail_reason */
    char *close_msg;             /* passed to cb.disconnected */
    char addr[HIVE__ADDR_MAX];
    char host[HIVE__HOST_MAX];   /* dialing: the name to verify */
    /* Dialing: the resolved addresses not tried yet ("localhost" may be
     * ::1 then 127.0.0.1; a refusal on one moves on to the next). */
    struct sockaddr_storage alt[TCP_ALT_MAX];
    socklen_t alt_len[TCP_ALT_MAX];
    int nalt, next_alt;
    /* ws:// and wss:// */
    uint8_t ws;                  /* WS_* */
    uint8_t wop;                 /* opcode of the data message being read */
    uint8_t fop;                 /* opcode of the frame being read (data or control) */
    bool ws_close_queued;        /* our close frame is queued */
    wslay_event_context_ptr wsc;
    uint8_t *hs;                 /* the upgrade request / answer so far */
    size_t hs_len;
    size_t file_bytes;           /* a static file's bytes queued (counted in tr->file_bytes) */
    const uint8_t *win;          /* what wslay's recv callback reads */
    size_t wn;
    obuf wire;                   /* framed bytes for the socket (or TLS) */
    char ws_key[25];             /* dialing: the key sent */
    uint16_t ws_port;            /* dialing: the port dialed */
    struct tcp_link *prev, *next;
} tcp_link;

typedef struct tcp_tr {
    hive__transport base;        /* first */
    bool tls;
    bool ws;                     /* ws:// or wss:// */
    const char *scheme;
    int ep, lfd, wfd;
    uint16_t port;
    hive__tls_ctx *tls_ctx;
    const hive_tls_config *tls_cfg;
    hive_tls_config tls_cfg_copy;
    tcp_link *live;              /* every link not yet dead */
    size_t nlive;
    size_t file_bytes;           /* static files queued on links not yet gone (WS_FILES_QUEUED_MAX) */
    tcp_link *grave;             /* dead links, freed at the end of service */
    tcp_link **dirty;
    size_t ndirty, dirty_cap;
    size_t ndeadline;            /* live links with fail_at set */
    bool any_paced;              /* some live link may be paced (a hint) */
    int ncb;                     /* callbacks made during this service */
    uint8_t rbuf[TCP_READ_CHUNK];
} tcp_tr;

static const hive__transport_vt tcp_vt, tls_vt, ws_vt, wss_vt;
static void ws_in(tcp_link *l, const uint8_t *p, size_t n);
static void ws_frame_out(tcp_link *l);

/* ------------------------------------------------------------------ */
/* helpers                                                             */

static int obuf_append(obuf *b, const void *p, size_t n)
{
    if (b->cap - b->off - b->len < n) {
        if (b->off) {
            memmove(b->data, b->data + b->off, b->len);
            b->off = 0;
        }
        if (b->cap - b->len < n) {
            if (b->len + n > TCP_OUT_LIMIT) return HIVE_EFULL;
            size_t cap = b->cap ? b->cap : 4096;
            while (cap < b->len + n) cap *= 2;
            uint8_t *d = hive__realloc(b->data, cap);
            if (!d) return HIVE_ENOMEM;
            b->data = d;
            b->cap = cap;
        }
    }
    memcpy(b->data + b->off + b->len, p, n);
    b->len += n;
    return 0;
}

static void obuf_consume(obuf *b, size_t n)
{
    b->off += n;
    b->len -= n;
    if (!b->len) b->off = 0;
}

static void obuf_free(obuf *b)
{
    hive__free(b->data);
    memset(b, 0, sizeof *b);
}

static void fmt_sockaddr(const char *scheme, const struct sockaddr_storage *ss, char *buf, size_t n)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        port = ntohs(a->sin6_port);
        snprintf(buf, n, "%s://[%s]:%u", scheme, ip, port);
    } else {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        port = ntohs(a->sin_port);
        snprintf(buf, n, "%s://%s:%u", scheme, ip, port);
    }
}

static void set_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void arm(tcp_link *l, bool out)
{
    if (l->want_out == out || l->fd < 0) return;
    struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | (out ? EPOLLOUT : 0), .data.ptr = l };
    if (epoll_ctl(l->tr->ep, EPOLL_CTL_MOD, l->fd, &ev) == 0) l->want_out = out;
}

static void mark_dirty(tcp_link *l)
{
    tcp_tr *t = l->tr;
    if (l->dirty) return;
    if (t->ndirty == t->dirty_cap) {
        size_t cap = t->dirty_cap ? t->dirty_cap * 2 : 64;
        tcp_link **d = hive__realloc(t->dirty, cap * sizeof *d);
        if (!d) return;   /* it still leaves at the next EPOLLOUT/flush of all */
        t->dirty = d;
        t->dirty_cap = cap;
    }
    t->dirty[t->ndirty++] = l;
    l->dirty = true;
}

static void set_deadline(tcp_link *l, uint64_t at, int reason, const char *msg)
{
    tcp_tr *t = l->tr;
    if (!l->fail_at) t->ndeadline++;
    l->fail_at = at ? at : 1;
    l->fail_reason = reason;
    hive__free(l->fail_msg);
    l->fail_msg = msg ? hive__strdup(msg) : NULL;
}

static void clear_deadline(tcp_link *l)
{
    if (!l->fail_at) return;
    l->tr->ndeadline--;
    l->fail_at = 0;
    hive__free(l->fail_msg);
    l->fail_msg = NULL;
}

/* Fail the link at the next service (no callback from here). */
static void link_break(tcp_link *l, int reason, const char *msg)
{
    if (l->dead || l->fail_at == 1) return;   /* the first cause wins */
    set_deadline(l, 1, reason, msg);
}

static void link_free(tcp_link *l)
{
    hive__tls_destroy(l->tls);
    if (l->wsc) wslay_event_context_free(l->wsc);
    hive__free(l->hs);
    obuf_free(&l->wire);
    obuf_free(&l->out);
    hive__free(l->fail_msg);
    hive__free(l->close_msg);
    hive__free(l);
}

/* Take a link out of service: socket closed, parked in the graveyard. */
static void link_kill(tcp_link *l)
{
    tcp_tr *t = l->tr;
    if (l->dead) return;
    clear_deadline(l);
    t->file_bytes -= l->file_bytes;
    l->file_bytes = 0;
    if (l->fd >= 0) {
        epoll_ctl(t->ep, EPOLL_CTL_DEL, l->fd, NULL);
        close(l->fd);
        l->fd = -1;
    }
    if (l->prev) l->prev->next = l->next; else t->live = l->next;
    if (l->next) l->next->prev = l->prev;
    t->nlive--;
    l->dead = true;
    l->prev = NULL;
    l->next = t->grave;
    t->grave = l;
}

/* Kill and tell the core. Only from ->service. */
static void link_report(tcp_link *l, int reason, const char *msg)
{
    if (l->dead) return;
    if (msg && *msg && !l->close_msg) {
        l->close_msg = hive__strdup(msg);
    }
    bool tell = l->announced;
    link_kill(l);
    if (tell) {
        l->tr->ncb++;
        l->tr->base.cb.disconnected(l->tr->base.cb.core, &l->base, reason, l->close_msg);
    }
}

static void graveyard_free(tcp_tr *t)
{
    while (t->grave) {
        tcp_link *l = t->grave;
        t->grave = l->next;
        link_free(l);
    }
}

/* ------------------------------------------------------------------ */
/* writing                                                             */

/* send() what fits; false when the link broke. */
/* Pacing (opts.bw_out): a token bucket per link. It holds at most a tenth
 * of a second's worth (at least 4096 bytes) and starts full. */
static double pace_burst(uint32_t rate) { return rate / 10 > 4096 ? rate / 10 : 4096; }

/* How many of n bytes may be written now. */
static size_t pace_budget(tcp_link *l, size_t n)
{
    uint32_t rate = l->tr->base.opts.bw_out;
    if (!rate) return n;
    uint64_t now = hive_now_ns();
    double burst = pace_burst(rate);
    if (!l->t_tokens) l->tokens = burst;
    else l->tokens += (double)(now - l->t_tokens) * rate / 1e9;
    if (l->tokens > burst) l->tokens = burst;
    l->t_tokens = now;
    return l->tokens >= (double)n ? n : (size_t)l->tokens;
}

static bool push_bytes(tcp_link *l, const uint8_t *p, size_t n, size_t *sent)
{
    *sent = 0;
    size_t budget = pace_budget(l, n);
    l->paced = budget < n;
    if (l->paced) l->tr->any_paced = true;
    n = budget;
    if (l->tr->base.opts.bw_out) l->tokens -= (double)n;   /* what send refuses is given back below */
    bool ok = true;
    while (*sent < n) {
        ssize_t w = send(l->fd, p + *sent, n - *sent, MSG_NOSIGNAL);
        if (w > 0) { *sent += (size_t)w; continue; }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            l->paced = false;   /* the socket is full: EPOLLOUT wakes us */
            break;
        }
        link_break(l, l->closing ? HIVE_CLOSE_NORMAL : HIVE_CLOSE_PEER_VANISHED,
                   w < 0 ? strerror(errno) : "send failed");
        ok = false;
        break;
    }
    if (l->tr->base.opts.bw_out) l->tokens += (double)(n - *sent);
    return ok;
}

/* Everything queued for the link and not yet written to the socket: the
 * plaintext buffer and, on tls://, the records a flush encrypted into the
 * session's output (one SSL_write per flush moves all plaintext there,
 * so counting the plaintext alone would bound nothing). */
static size_t link_queued(const tcp_link *l)
{
    return l->out.len + (l->tls ? hive__tls_out_pending(l->tls) : 0) + l->wire.len +
           (l->wsc ? wslay_event_get_queued_msg_length(l->wsc) : 0);
}

static void tls_failed(tcp_link *l)
{
    link_break(l, HIVE_CLOSE_TLS_ERROR, hive__tls_error(l->tls));
}

/* Move queued bytes towards the socket. Never calls back. */
static void link_flush(tcp_link *l)
{
    if (l->dead || l->connecting || l->fd < 0 || l->fail_at == 1) return;
    size_t left;          /* bytes still to write */
    bool finished = true; /* closing: nothing more will be queued (TLS: close_notify is out) */
    /* The bytes for the socket (or TLS): the plaintext, or on ws its
     * WebSocket frames (the upgrade exchange goes there directly). */
    obuf *low = &l->out;
    if (l->ws) {
        ws_frame_out(l);
        if (l->dead || l->fail_at == 1) return;
        low = &l->wire;
    }
    if (l->tls) {
        if (hive__tls_done(l->tls)) {
            if (low->len) {
                /* One SSL_write for everything queued: records fill up. */
                if (hive__tls_write(l->tls, low->data + low->off, low->len) < 0) {
                    tls_failed(l);
                    return;
                }
                obuf_consume(low, low->len);
            }
            if (l->closing && !l->notify_sent) {
                hive__tls_shutdown(l->tls);
                l->notify_sent = true;
            }
        }
        size_t n, sent;
        const uint8_t *p = hive__tls_out(l->tls, &n);
        if (n) {
            if (!push_bytes(l, p, n, &sent)) return;
            hive__tls_out_consume(l->tls, sent);
        }
        /* Plaintext waiting for the handshake is not writable yet: arm
         * EPOLLOUT for ciphertext only, or the loop would spin. */
        left = hive__tls_out_pending(l->tls);
        finished = l->notify_sent && !low->len;
    } else {
        size_t sent;
        if (low->len) {
            if (!push_bytes(l, low->data + low->off, low->len, &sent)) return;
            obuf_consume(low, sent);
        }
        left = low->len;
    }
    /* A WebSocket close goes out before the FIN (or close_notify). */
    if (l->ws == WS_OPEN && l->closing && (!l->ws_close_queued || (l->wsc && wslay_event_want_write(l->wsc))))
        finished = false;
    if (l->closing && finished && !left && !l->wr_shut) {
        /* Everything is out: the FIN tells the peer we are done. */
        shutdown(l->fd, SHUT_WR);
        l->wr_shut = true;
    }
    /* Paced bytes wait for the clock (tcp_service), not for EPOLLOUT. */
    arm(l, left > 0 && !l->wr_shut && !l->paced);
}

/* Flush every paced link whose tokens have come, and say how long until
 * the next one may write (ms, or timeout_ms when none waits). */
static int pace_run(tcp_tr *t, int timeout_ms)
{
    if (!t->any_paced) return timeout_ms;
    bool any = false;
    uint32_t rate = t->base.opts.bw_out;
    for (tcp_link *l = t->live; l; l = l->next) {
        if (!l->paced || l->dead) continue;
        link_flush(l);
        if (!l->paced || l->dead) continue;
        any = true;
        /* Wake when a small write (512 bytes, or the burst) is allowed. */
        double need = 512 - l->tokens;
        int ms = need <= 0 ? 1 : (int)(need * 1000.0 / rate) + 1;
        if (timeout_ms < 0 || ms < timeout_ms) timeout_ms = ms;
    }
    t->any_paced = any;
    return timeout_ms;
}

static void flush_dirty(tcp_tr *t)
{
    /* Entries may be added while flushing (never by flush itself). */
    for (size_t i = 0; i < t->ndirty; i++) {
        tcp_link *l = t->dirty[i];
        l->dirty = false;
        link_flush(l);
    }
    t->ndirty = 0;
}

/* ------------------------------------------------------------------ */
/* reading                                                             */

static void ws_dial(tcp_link *l);

static void tls_handshake_done(tcp_link *l)
{
    if (l->dialing && l->ws) {
        ws_dial(l);
        return;
    }
    if (l->dialing) {
        clear_deadline(l);
        l->tr->ncb++;
        l->tr->base.cb.connected(l->tr->base.cb.core, &l->base);
    }
}

/* Deliver plaintext to the core in large batches. */
static void deliver(tcp_link *l, const uint8_t *p, size_t n)
{
    if (l->ws) {
        ws_in(l, p, n);
        return;
    }
    l->tr->ncb++;
    l->tr->base.cb.data(l->tr->base.cb.core, &l->base, p, n, HIVE__CHANNEL_RELIABLE);
}

/* Run TLS over what was fed: handshake, then plaintext out. */
static void tls_pump(tcp_link *l)
{
    tcp_tr *t = l->tr;
    if (!hive__tls_done(l->tls)) {
        int h = hive__tls_handshake(l->tls);
        if (h < 0) {
            /* Try to get the alert out, then report now. Unless the peer
             * sent an alert, this side refused (its certificate check,
             * its version floor...): the close is not the peer's. */
            size_t n, sent;
            const uint8_t *p = hive__tls_out(l->tls, &n);
            if (n) push_bytes(l, p, n, &sent);
            int local = hive__tls_peer_alerted(l->tls) ? 0 : HIVE__LINK_LOCAL;
            link_report(l, HIVE_CLOSE_TLS_ERROR | local, hive__tls_error(l->tls));
            return;
        }
        if (h == 0) {
            link_flush(l);
            return;
        }
        tls_handshake_done(l);
        if (l->dead) return;
    }
    size_t fill = 0;
    for (;;) {
        int r = hive__tls_read(l->tls, t->rbuf + fill, sizeof t->rbuf - fill);
        if (r > 0) {
            fill += (size_t)r;
            if (fill < sizeof t->rbuf) continue;
        }
        if (fill) {
            deliver(l, t->rbuf, fill);
            fill = 0;
            if (l->dead) return;
        }
        if (r > 0) continue;
        if (r == 0) break;
        if (r == HIVE_ECLOSED) {
            /* close_notify without a Hive close before it: as a TCP FIN
             * without one, the peer left without saying why. */
            link_report(l, l->closing ? HIVE_CLOSE_NORMAL : HIVE_CLOSE_PEER_VANISHED,
                        l->closing ? NULL : "the peer ended TLS (close_notify) without a Hive close");
        } else {
            link_report(l, HIVE_CLOSE_TLS_ERROR, hive__tls_error(l->tls));
        }
        return;
    }
    /* Reading may have produced records to send (handshake, key update). */
    if (hive__tls_out_pending(l->tls) || l->out.len || l->wire.len) mark_dirty(l);
    if (hive__tls_done(l->tls) && (l->out.len || l->wire.len)) link_flush(l);
}

static void link_read(tcp_link *l)
{
    tcp_tr *t = l->tr;
    for (int i = 0; i < TCP_READS_PER_EV && !l->dead; i++) {
        uint8_t *dst = t->rbuf;
        if (l->tls) {
            dst = hive__tls_in_reserve(l->tls, TCP_READ_CHUNK);
            if (!dst) { link_report(l, HIVE_CLOSE_NO_MEMORY | HIVE__LINK_LOCAL, NULL); return; }
        }
        ssize_t n = recv(l->fd, dst, TCP_READ_CHUNK, 0);
        if (n > 0) {
            if (l->tls) {
                hive__tls_in_commit(l->tls, (size_t)n);
                tls_pump(l);
            } else {
                deliver(l, dst, (size_t)n);
            }
            if ((size_t)n < TCP_READ_CHUNK) return;
            continue;
        }
        if (n < 0 && errno == EINTR) { i--; continue; }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n == 0) {
            if (l->dialing && l->ws == WS_UPGRADE)
                link_report(l, HIVE_CLOSE_CONNECT_FAILED, "the server closed the connection during the WebSocket upgrade");
            else if (l->tls && !hive__tls_done(l->tls))
                link_report(l, HIVE_CLOSE_TLS_ERROR, "peer closed the connection during the TLS handshake");
            else
                link_report(l, l->closing ? HIVE_CLOSE_NORMAL : HIVE_CLOSE_PEER_VANISHED, NULL);
        } else if (l->dialing && l->ws == WS_UPGRADE) {
            link_report(l, HIVE_CLOSE_CONNECT_FAILED, strerror(errno));
        } else {
            link_report(l, l->closing ? HIVE_CLOSE_NORMAL : HIVE_CLOSE_PEER_VANISHED, strerror(errno));
        }
        return;
    }
}

/* Tell the core of a listening link (cb.accepted): tcp/tls at accept,
 * ws/wss once upgraded. A refusal drops it quietly. */
static void announce(tcp_link *l)
{
    tcp_tr *t = l->tr;
    t->ncb++;
    if (t->base.cb.accepted(t->base.cb.core, &l->base, l->addr) < 0) {
        link_kill(l);
        return;
    }
    /* The core may have refused it already (->abort, ADMISSION). */
    if (!l->dead) l->announced = true;
}

/* ------------------------------------------------------------------ */
/* WebSocket (ws://, wss://)                                           */

static ssize_t ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *u)
{
    tcp_link *l = u;
    (void)flags;
    if (l->dead || !l->wn) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    size_t n = len < l->wn ? len : l->wn;
    memcpy(buf, l->win, n);
    l->win += n;
    l->wn -= n;
    return (ssize_t)n;
}

static ssize_t ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *u)
{
    tcp_link *l = u;
    (void)flags;
    if (l->dead || obuf_append(&l->wire, data, len) < 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)len;
}

static int ws_genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *u)
{
    (void)ctx; (void)u;
    size_t got = 0;
    while (got < len) {
        ssize_t n = getrandom(buf + got, len - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        got += (size_t)n;
    }
    return 0;
}

static void ws_frame_start_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_frame_recv_start_arg *a, void *u)
{
    tcp_link *l = u;
    (void)ctx;
    l->fop = a->opcode;
    if (a->opcode == WSLAY_TEXT_FRAME || a->opcode == WSLAY_BINARY_FRAME) l->wop = a->opcode;
    if (a->opcode == WSLAY_PING && link_queued(l) > WS_PONG_QUEUE_MAX) {
        /* Pings from a peer that does not read what it is sent: their
         * pongs would grow the queue without bound. */
        link_break(l, HIVE_CLOSE_SLOW_CONSUMER | HIVE__LINK_LOCAL,
                   "websocket pings from a peer that does not read its pongs");
    }
    if (a->opcode == WSLAY_CONNECTION_CLOSE && l->out.len && l->fail_at != 1) {
        /* wslay answers a close at once, ahead of queued messages: what
         * the core sent before it must leave first. */
        ws_frame_out(l);
    }
}

static void ws_chunk_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_frame_recv_chunk_arg *a, void *u)
{
    tcp_link *l = u;
    (void)ctx;
    /* wop is the data message's opcode, fop this frame's: a control
     * frame between two pieces of a message reaches here too (wslay also
     * buffers it for ws_msg_cb). Text is refused whole at its end
     * (ws_msg_cb), after wslay's UTF-8 check. */
    if (l->dead || l->wop != WSLAY_BINARY_FRAME || !a->data_length || l->ws != WS_OPEN) return;
    if (l->fop != WSLAY_BINARY_FRAME && l->fop != WSLAY_CONTINUATION_FRAME) return;   /* a control frame's payload */
    if (l->fail_at == 1) return;   /* the link is breaking: nothing more reaches the core */
    l->tr->ncb++;
    l->tr->base.cb.data(l->tr->base.cb.core, &l->base, a->data, a->data_length, HIVE__CHANNEL_RELIABLE);
}

static void ws_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *a, void *u)
{
    tcp_link *l = u;
    if (a->opcode == WSLAY_TEXT_FRAME && !l->dead) {
        wslay_event_queue_close(ctx, WSLAY_CODE_UNSUPPORTED_DATA, (const uint8_t *)"binary only", 11);
        wslay_event_shutdown_read(ctx);
    }
}

static const char *ws_code_text(uint16_t c)
{
    switch (c) {
    case WSLAY_CODE_PROTOCOL_ERROR: return "1002 protocol error";
    case WSLAY_CODE_UNSUPPORTED_DATA: return "1003 text message (Hive frames travel in binary messages)";
    case WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA: return "1007 invalid UTF-8";
    case WSLAY_CODE_MESSAGE_TOO_BIG: return "1009 frame too big";
    default: return "closed";
    }
}

static bool ws_open_ctx(tcp_link *l)
{
    struct wslay_event_callbacks cbs = {
        .recv_callback = ws_recv_cb, .send_callback = ws_send_cb, .genmask_callback = ws_genmask_cb,
        .on_frame_recv_start_callback = ws_frame_start_cb, .on_frame_recv_chunk_callback = ws_chunk_cb,
        .on_msg_recv_callback = ws_msg_cb,
    };
    int r = l->dialing ? wslay_event_context_client_init(&l->wsc, &cbs, l)
                       : wslay_event_context_server_init(&l->wsc, &cbs, l);
    if (r != 0) {
        l->wsc = NULL;
        return false;
    }
    /* Payloads stream to the core as they come: nothing is buffered per
     * message, and the size limit applies to each frame. */
    wslay_event_config_set_no_buffering(l->wsc, 1);
    wslay_event_config_set_max_recv_msg_length(l->wsc, WS_MSG_MAX);
    l->ws = WS_OPEN;
    hive__free(l->hs);
    l->hs = NULL;
    return true;
}

/* Move what wslay has to send into the wire buffer. */
static void ws_send_now(tcp_link *l)
{
    if (!l->wsc || l->dead) return;
    if (wslay_event_want_write(l->wsc) && wslay_event_send(l->wsc) != 0)
        link_break(l, HIVE_CLOSE_NO_MEMORY | HIVE__LINK_LOCAL, "websocket: cannot queue output");
}

/* The plaintext the core queued, as binary messages; then our close frame
 * when closing. Never calls back. */
static void ws_frame_out(tcp_link *l)
{
    if (l->ws != WS_OPEN || !l->wsc) return;
    while (l->out.len) {
        size_t n = l->out.len < WS_MSG_MAX ? l->out.len : WS_MSG_MAX;
        struct wslay_event_msg m = { WSLAY_BINARY_FRAME, l->out.data + l->out.off, n };
        if (wslay_event_queue_msg(l->wsc, &m) != 0) {
            if (wslay_event_get_close_sent(l->wsc) || wslay_event_get_close_received(l->wsc)) {
                obuf_consume(&l->out, l->out.len);   /* the peer said goodbye: it reads no more */
                break;
            }
            link_break(l, HIVE_CLOSE_NO_MEMORY | HIVE__LINK_LOCAL, "websocket: cannot queue a message");
            return;
        }
        obuf_consume(&l->out, n);
    }
    ws_send_now(l);
    /* wslay sends control frames ahead of queued messages: our close may
     * only be queued once every message is out, or it would overtake
     * them (and nothing is sent after a close). */
    if (l->closing && !l->ws_close_queued && !l->dead && wslay_event_get_queued_msg_count(l->wsc) == 0) {
        l->ws_close_queued = true;
        if (!wslay_event_get_close_sent(l->wsc)) wslay_event_queue_close(l->wsc, WSLAY_CODE_NORMAL_CLOSURE, NULL, 0);
        ws_send_now(l);
    }
}

/* Refuse an upgrade: the HTTP answer, then the connection ends (the core
 * never knew the link). */
static void ws_refuse(tcp_link *l, const char *answer, size_t n)
{
    l->ws = WS_REFUSED;
    if (n) obuf_append(&l->wire, answer, n);
    l->closing = true;
    /* Time to take the answer (a file may be megabytes), then the end. */
    set_deadline(l, hive_now_ns() + (n ? 1000000000ull : 10000000000ull), HIVE_CLOSE_NORMAL, NULL);
    link_flush(l);
}

/* End an open WebSocket link: send what wslay queued (its close frame
 * among it), push it out, then report. */
static void ws_end(tcp_link *l, int reason, const char *msg)
{
    ws_send_now(l);
    l->ws_close_queued = true;
    link_flush(l);
    link_report(l, reason, msg);
}

/* WebSocket bytes once open: through wslay to the core. */
static void ws_feed(tcp_link *l, const uint8_t *p, size_t n)
{
    l->win = p;
    l->wn = n;
    int r = wslay_event_recv(l->wsc);
    l->win = NULL;
    l->wn = 0;
    if (l->dead) return;
    if (r == WSLAY_ERR_NOMEM) {
        link_report(l, HIVE_CLOSE_NO_MEMORY | HIVE__LINK_LOCAL, "websocket: out of memory");
        return;
    }
    if (r != 0) {
        /* A frame wslay's framing layer cannot parse (a control frame
         * that is fragmented or over 125 bytes, a non-minimal length):
         * wslay has queued a close without a status code. Send it, end. */
        ws_end(l, HIVE_CLOSE_BAD_FRAME | HIVE__LINK_LOCAL, "websocket: 1002 protocol error (malformed frame)");
        return;
    }
    if (wslay_event_get_close_received(l->wsc)) {
        /* The peer closed: answer (wslay queued it), then end. */
        uint16_t code = wslay_event_get_status_code_received(l->wsc);
        char msg[64];
        snprintf(msg, sizeof msg, "websocket close %u", (unsigned)code);
        ws_end(l, l->closing ? HIVE_CLOSE_NORMAL : HIVE_CLOSE_PEER_VANISHED, l->closing ? NULL : msg);
        return;
    }
    if (!wslay_event_get_read_enabled(l->wsc)) {
        /* wslay (or ws_msg_cb) refused what the peer sent and queued a
         * close with the RFC's code: send it, then report. */
        char msg[96];
        snprintf(msg, sizeof msg, "websocket: %s", ws_code_text(wslay_event_get_status_code_sent(l->wsc)));
        if (l->closing) ws_end(l, HIVE_CLOSE_NORMAL, NULL);   /* our close went first */
        else ws_end(l, HIVE_CLOSE_BAD_FRAME | HIVE__LINK_LOCAL, msg);
        return;
    }
    if (wslay_event_want_write(l->wsc)) {
        ws_send_now(l);
        mark_dirty(l);
    }
}

/* A plain GET with a web root: the file, or 404, then the connection
 * ends (one request per connection: Connection: close). */
/* Open rel (a path hive__ws_file_path accepted, relative to root) for
 * reading without following a symbolic link anywhere on the way and
 * without leaving root (openat2, Linux 5.6+; where that is missing, the
 * last component is still never a link). O_NONBLOCK: a FIFO in the folder
 * cannot stall the I/O thread (it is no regular file and gets 404). */
static int open_beneath(const char *root, const char *rel)
{
    while (*rel == '/') rel++;
    int dir = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return -1;
    struct open_how how = { .flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW,
                            .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS };
    int fd = (int)syscall(SYS_openat2, dir, rel, &how, sizeof how);
    if (fd < 0 && (errno == ENOSYS || errno == EPERM))
        fd = openat(dir, rel, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
    close(dir);
    return fd;
}

static void ws_serve_file(tcp_link *l, const hive__ws_req *req)
{
    char path[HIVE__WS_FIELD_MAX + 4096], ans[WS_ANSWER_MAX];
    size_t n;
    int fd = -1;
    struct stat st = { 0 };
    const char *root = l->tr->base.opts.web_root;
    if (hive__ws_file_path(root, req->path, path, sizeof path) != 0 ||
        (fd = open_beneath(root, path + strlen(root))) < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
        st.st_size > (off_t)WS_FILE_MAX) {
        if (fd >= 0) close(fd);
        /* A folder named without its '/': send the browser to it. */
        size_t pl = strcspn(req->path, "?#");
        if (fd >= 0 && S_ISDIR(st.st_mode) && pl && req->path[pl - 1] != '/' &&
            (n = hive__ws_answer_redirect(req->path, ans, sizeof ans))) {
            ws_refuse(l, ans, n);
            return;
        }
        n = hive__ws_answer_error(404, "no such file", ans, sizeof ans);
        ws_refuse(l, ans, n);
        return;
    }
    size_t size = (size_t)st.st_size;
    /* Peers that ask for files and never read them must not hold the
     * server's memory: past WS_FILES_QUEUED_MAX queued in all, a busy
     * answer until some of it has gone out. */
    if (size > WS_FILES_QUEUED_MAX - l->tr->file_bytes) {
        close(fd);
        n = hive__ws_answer_error(503, "too many files are being sent; try again", ans, sizeof ans);
        ws_refuse(l, ans, n);
        return;
    }
    l->tr->file_bytes += size;
    l->file_bytes = size;
    n = hive__ws_answer_file(path, size, ans, sizeof ans);
    bool ok = n && obuf_append(&l->wire, ans, n) == 0;
    uint8_t chunk[16384];
    size_t left = size;
    while (ok && left) {
        ssize_t r = read(fd, chunk, left < sizeof chunk ? left : sizeof chunk);
        if (r <= 0) { ok = false; break; }
        ok = obuf_append(&l->wire, chunk, (size_t)r) == 0;
        left -= (size_t)r;
    }
    close(fd);
    if (!ok) {
        /* A short read or no memory: what was queued would be a lie. */
        link_report(l, HIVE_CLOSE_NO_MEMORY | HIVE__LINK_LOCAL, NULL);
        return;
    }
    ws_refuse(l, NULL, 0);
}

/* Listening side: the request is complete. */
static void ws_upgrade(tcp_link *l, const hive__ws_req *req)
{
    tcp_tr *t = l->tr;
    char ans[WS_ANSWER_MAX];
    size_t n;
    if (!req->upgrade) {
        if (t->base.opts.web_root) {
            ws_serve_file(l, req);
            return;
        }
        n = hive__ws_answer_error(426, "this is a Hive WebSocket endpoint", ans, sizeof ans);
        ws_refuse(l, ans, n);
        return;
    }
    if (!hive__ws_origin_allowed(req, t->base.opts.ws_origins, t->base.opts.ws_norigins)) {
        n = hive__ws_answer_error(403, "origin not allowed", ans, sizeof ans);
        ws_refuse(l, ans, n);
        return;
    }
    n = hive__ws_answer_101(req, ans, sizeof ans);
    if (!n || obuf_append(&l->wire, ans, n) < 0 || !ws_open_ctx(l)) {
        link_report(l, HIVE_CLOSE_NO_MEMORY | HIVE__LINK_LOCAL, NULL);
        return;
    }
    clear_deadline(l);
    mark_dirty(l);
    announce(l);
}

/* Dialing side: the TCP (and TLS) handshake is done; ask for the upgrade. */
static void ws_dial(tcp_link *l)
{
    char req[HIVE__HOST_MAX + 256];
    size_t n = 0;
    if (hive__ws_new_key(l->ws_key) == 0)
        n = hive__ws_request(l->host, l->ws_port, "/", l->ws_key, req, sizeof req);
    if (!n || obuf_append(&l->wire, req, n) < 0) {
        link_report(l, HIVE_CLOSE_NO_MEMORY | HIVE__LINK_LOCAL, NULL);
        return;
    }
    uint32_t ms = l->tr->base.opts.timeout_ms ? l->tr->base.opts.timeout_ms : TCP_CONNECT_MS;
    set_deadline(l, hive_now_ns() + (uint64_t)ms * 1000000u, HIVE_CLOSE_CONNECT_FAILED,
                 "the WebSocket upgrade did not complete in time");
    link_flush(l);
}

/* The bytes after the upgrade's first `used` bytes of hs, then more[0..m),
 * copied out (*tail, *rest; NULL, 0 when none) before hs goes. False when
 * out of memory (the link is reported). */
static bool ws_rest(tcp_link *l, size_t used, const uint8_t *more, size_t m, uint8_t **tail, size_t *rest)
{
    *rest = l->hs_len - used + m;
    *tail = *rest ? hive__malloc(*rest) : NULL;
    if (*rest && !*tail) {
        link_report(l, HIVE_CLOSE_NO_MEMORY | HIVE__LINK_LOCAL, NULL);
        return false;
    }
    if (*rest) {
        memcpy(*tail, l->hs + used, l->hs_len - used);
        memcpy(*tail + (l->hs_len - used), more, m);
    }
    return true;
}

static void ws_in(tcp_link *l, const uint8_t *p, size_t n)
{
    if (l->ws == WS_OPEN) {
        ws_feed(l, p, n);
        return;
    }
    if (l->ws != WS_UPGRADE) return;   /* refused: what follows is ignored */
    size_t room = HIVE__WS_REQ_MAX + 1 - l->hs_len;
    size_t take = n < room ? n : room;
    if (!l->hs && !(l->hs = hive__malloc(HIVE__WS_REQ_MAX + 1))) {
        link_report(l, HIVE_CLOSE_NO_MEMORY | HIVE__LINK_LOCAL, NULL);
        return;
    }
    memcpy(l->hs + l->hs_len, p, take);
    l->hs_len += take;
    if (l->dialing) {
        size_t size = 0;
        int st = 0;
        const char *why = NULL;
        int r = hive__ws_parse_answer(l->hs, l->hs_len, l->ws_key, &size, &st, &why);
        if (r == HIVE__WS_MORE) return;
        if (r == HIVE__WS_BAD) {
            char msg[160];
            if (st && st != 101) snprintf(msg, sizeof msg, "websocket upgrade refused: HTTP %d", st);
            else snprintf(msg, sizeof msg, "websocket upgrade failed: %s", why);
            link_report(l, HIVE_CLOSE_CONNECT_FAILED, msg);
            return;
        }
        /* Keep what followed the answer before hs goes. */
        size_t rest;
        uint8_t *tail;
        if (!ws_rest(l, size, p + take, n - take, &tail, &rest)) return;
        if (!ws_open_ctx(l)) {
            hive__free(tail);
            link_report(l, HIVE_CLOSE_NO_MEMORY | HIVE__LINK_LOCAL, NULL);
            return;
        }
        clear_deadline(l);
        l->tr->ncb++;
        l->tr->base.cb.connected(l->tr->base.cb.core, &l->base);
        if (!l->dead && rest) ws_feed(l, tail, rest);
        hive__free(tail);
        if (!l->dead && l->out.len) mark_dirty(l);
        return;
    }
    /* The parse's verdict can only change when a line ends, a control
     * byte comes or the size limit is reached (complete lines were judged
     * by the parse before): a request trickled in byte by byte is then
     * parsed once per line, not once per byte. */
    if (l->hs_len < HIVE__WS_REQ_MAX) {
        bool news = false;
        for (size_t i = l->hs_len - take; i < l->hs_len && !news; i++) {
            uint8_t b = l->hs[i];
            news = b == '\n' || (b < 0x20 && b != '\t' && b != '\r');
        }
        if (!news) return;
    }
    hive__ws_req req;
    int st = 0;
    const char *why = NULL;
    int r = hive__ws_parse(l->hs, l->hs_len, &req, &st, &why);
    if (r == HIVE__WS_MORE) return;
    if (r == HIVE__WS_BAD) {
        char ans[WS_ANSWER_MAX];
        ws_refuse(l, ans, hive__ws_answer_error(st, why, ans, sizeof ans));
        return;
    }
    /* A client may only speak after the 101: bytes after the request are
     * WebSocket frames sent early (allowed), fed once open. */
    size_t rest;
    uint8_t *tail;
    if (!ws_rest(l, req.size, p + take, n - take, &tail, &rest)) return;
    ws_upgrade(l, &req);
    if (!l->dead && l->ws == WS_OPEN && rest) ws_feed(l, tail, rest);
    hive__free(tail);
}

/* ------------------------------------------------------------------ */
/* links                                                               */

static tcp_link *link_new(tcp_tr *t, int fd, bool dialing)
{
    tcp_link *l = hive__calloc(1, sizeof *l);
    if (!l) return NULL;
    l->tr = t;
    l->fd = fd;
    l->dialing = dialing;
    l->next = t->live;
    if (t->live) t->live->prev = l;
    t->live = l;
    t->nlive++;
    return l;
}

static int link_register(tcp_link *l, bool out)
{
    struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | (out ? EPOLLOUT : 0), .data.ptr = l };
    if (epoll_ctl(l->tr->ep, EPOLL_CTL_ADD, l->fd, &ev) < 0) return HIVE_EIO;
    l->want_out = out;
    return 0;
}

/* ws, wss: every link is taken and one more arrives. A link still in its
 * upgrade is unknown to the core and costs it nothing, but a storm of
 * them would lock players out until their upgrade limit: the oldest of
 * them makes room (the core is never told: it never knew the link), as
 * the core's own admission evicts the oldest handshake. True when one
 * went. */
static bool ws_evict_oldest(tcp_tr *t)
{
    tcp_link *old = NULL;
    for (tcp_link *l = t->live; l; l = l->next)   /* newest first: the last match is the oldest */
        if (!l->dialing && !l->announced && !l->dead && l->ws == WS_UPGRADE) old = l;
    if (!old) return false;
    link_kill(old);
    return true;
}

static void on_accept(tcp_tr *t)
{
    for (int i = 0; i < TCP_ACCEPTS_PER_EV; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(t->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            return;   /* EAGAIN, or EMFILE and friends: try again next round */
        }
        if (t->base.opts.max_links && t->nlive >= t->base.opts.max_links && !(t->ws && ws_evict_oldest(t))) {
            close(fd);
            continue;
        }
        set_nodelay(fd);
        tcp_link *l = link_new(t, fd, false);
        if (!l) { close(fd); continue; }
        fmt_sockaddr(t->scheme, &ss, l->addr, sizeof l->addr);
        if (t->tls && !(l->tls = hive__tls_create(t->tls_ctx, NULL))) {
            link_kill(l);
            continue;
        }
        if (link_register(l, false) < 0) { link_kill(l); continue; }
        if (t->ws) {
            /* The core hears of it once the upgrade is done (ws_upgrade). */
            l->ws = WS_UPGRADE;
            uint32_t ms = t->base.opts.timeout_ms && t->base.opts.timeout_ms < WS_UPGRADE_MS
                              ? t->base.opts.timeout_ms : WS_UPGRADE_MS;
            set_deadline(l, hive_now_ns() + (uint64_t)ms * 1000000u, HIVE_CLOSE_HANDSHAKE_TIMEOUT,
                         "the WebSocket upgrade did not complete in time");
            continue;
        }
        announce(l);
    }
}

/* Start a non-blocking connect to the link's next address: 0 (started),
 * or an errno when no address is left that could be started. */
static int dial_next(tcp_link *l)
{
    int err = ENOENT;
    while (l->next_alt < l->nalt) {
        int i = l->next_alt++;
        int fd = socket(l->alt[i].ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) { err = errno; continue; }
        set_nodelay(fd);
        if (connect(fd, (struct sockaddr *)&l->alt[i], l->alt_len[i]) < 0 && errno != EINPROGRESS) {
            err = errno;
            close(fd);
            continue;
        }
        struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLOUT, .data.ptr = l };
        if (epoll_ctl(l->tr->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            err = errno;
            close(fd);
            continue;
        }
        l->fd = fd;
        l->want_out = true;
        return 0;
    }
    return err;
}

static void on_connected(tcp_link *l)
{
    int err = 0;
    socklen_t sl = sizeof err;
    if (getsockopt(l->fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0) err = errno;
    if (err) {
        /* Try the next address of the name, if any. */
        epoll_ctl(l->tr->ep, EPOLL_CTL_DEL, l->fd, NULL);
        close(l->fd);
        l->fd = -1;
        if (dial_next(l) == 0) return;
        link_report(l, HIVE_CLOSE_CONNECT_FAILED, strerror(err));
        return;
    }
    l->connecting = false;
    arm(l, false);
    if (l->tls) {
        /* The TLS handshake must also finish within the connect limit. */
        uint32_t ms = l->tr->base.opts.timeout_ms ? l->tr->base.opts.timeout_ms : TCP_CONNECT_MS;
        set_deadline(l, hive_now_ns() + (uint64_t)ms * 1000000u, HIVE_CLOSE_TLS_ERROR,
                     "TLS handshake timed out");
        tls_pump(l);     /* sends the ClientHello */
        return;
    }
    if (l->ws) {
        ws_dial(l);
        return;
    }
    clear_deadline(l);
    l->tr->ncb++;
    l->tr->base.cb.connected(l->tr->base.cb.core, &l->base);
    if (!l->dead && l->out.len) link_flush(l);
}

static void on_link_event(tcp_link *l, uint32_t ev)
{
    if (l->dead) return;
    if (l->connecting) {
        if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_connected(l);
        return;
    }
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) link_read(l);
    if (!l->dead && (ev & EPOLLOUT)) link_flush(l);
}

static void check_deadlines(tcp_tr *t)
{
    if (!t->ndeadline) return;
    uint64_t now = hive_now_ns();
    tcp_link *l = t->live;
    while (l) {
        tcp_link *next = l->next;
        if (l->fail_at && l->fail_at <= now) {
            int reason = l->fail_reason;
            char *msg = l->fail_msg;
            l->fail_msg = NULL;
            link_report(l, reason, msg);
            hive__free(msg);
            /* The callback may have killed `next` (it is then in the
             * graveyard, off this list): restart from the head. */
            if (next && next->dead) next = t->live;
        }
        l = next;
    }
}

static int next_deadline_ms(tcp_tr *t, int timeout_ms)
{
    if (!t->ndeadline) return timeout_ms;
    uint64_t now = hive_now_ns(), best = UINT64_MAX;
    for (tcp_link *l = t->live; l; l = l->next)
        if (l->fail_at && l->fail_at < best) best = l->fail_at;
    if (best == UINT64_MAX) return timeout_ms;
    int64_t ms = best <= now ? 0 : (int64_t)((best - now + 999999) / 1000000);
    if (timeout_ms < 0 || ms < timeout_ms) return (int)ms;
    return timeout_ms;
}

/* ------------------------------------------------------------------ */
/* vtable                                                              */

static int resolve(const hive__addr *a, bool passive, struct addrinfo **out)
{
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)a->port);
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0) };
    const char *host = a->host[0] ? a->host : NULL;
    if (host && strcmp(host, "*") == 0) host = NULL;
    return getaddrinfo(host, port, &hints, out) == 0 ? 0 : HIVE_EADDR;
}

static bool ensure_ctx(tcp_tr *t, bool server)
{
    if (!t->tls || t->tls_ctx) return true;
    char err[HIVE__TLS_ERR_MAX];
    t->tls_ctx = hive__tls_ctx_create(t->tls_cfg, server, err, sizeof err);
    return t->tls_ctx != NULL;
}

static int tcp_listen(hive__transport *base, const hive__addr *addr)
{
    tcp_tr *t = (tcp_tr *)base;
    if (t->lfd >= 0) return HIVE_ESTATE;
    if (!ensure_ctx(t, true)) return HIVE_ETLS;
    struct addrinfo *ai;
    if (resolve(addr, true, &ai) < 0) return HIVE_EADDR;
    int r = HIVE_EIO;
    for (struct addrinfo *p = ai; p; p = p->ai_next) {
        int fd = socket(p->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, p->ai_addr, p->ai_addrlen) == 0 && listen(fd, TCP_LISTEN_BACKLOG) == 0) {
            struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &t->lfd };
            if (epoll_ctl(t->ep, EPOLL_CTL_ADD, fd, &ev) == 0) {
                struct sockaddr_storage ss;
                socklen_t sl = sizeof ss;
                getsockname(fd, (struct sockaddr *)&ss, &sl);
                t->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                         : ((struct sockaddr_in *)&ss)->sin_port);
                t->lfd = fd;
                r = 0;
                break;
            }
        }
        close(fd);
    }
    freeaddrinfo(ai);
    return r;
}

static int tcp_connect(hive__transport *base, const hive__addr *addr, hive__link **out)
{
    tcp_tr *t = (tcp_tr *)base;
    if (!ensure_ctx(t, false)) return HIVE_ETLS;
    struct addrinfo *ai;
    if (resolve(addr, false, &ai) < 0) return HIVE_EADDR;
    tcp_link *l = link_new(t, -1, true);
    if (!l) { freeaddrinfo(ai); return HIVE_ENOMEM; }
    for (struct addrinfo *p = ai; p && l->nalt < TCP_ALT_MAX; p = p->ai_next) {
        if (p->ai_addrlen > sizeof l->alt[0]) continue;
        memcpy(&l->alt[l->nalt], p->ai_addr, p->ai_addrlen);
        l->alt_len[l->nalt++] = p->ai_addrlen;
    }
    freeaddrinfo(ai);
    l->connecting = true;
    l->announced = true;
    snprintf(l->host, sizeof l->host, "%s", addr->host);
    snprintf(l->addr, sizeof l->addr, "%s://%s%s%s:%u", t->scheme,
             strchr(addr->host, ':') ? "[" : "", addr->host, strchr(addr->host, ':') ? "]" : "",
             (unsigned)addr->port);
    if (t->tls && !(l->tls = hive__tls_create(t->tls_ctx, l->host))) {
        link_kill(l);
        return HIVE_ENOMEM;
    }
    if (t->ws) {
        l->ws = WS_UPGRADE;
        l->ws_port = addr->port;   /* the Host header's port */
    }
    int err = dial_next(l);
    uint32_t ms = t->base.opts.timeout_ms ? t->base.opts.timeout_ms : TCP_CONNECT_MS;
    if (err)   /* reported by the next service, as any failed connect */
        set_deadline(l, 1, HIVE_CLOSE_CONNECT_FAILED, strerror(err));
    else
        set_deadline(l, hive_now_ns() + (uint64_t)ms * 1000000u, HIVE_CLOSE_CONNECT_FAILED,
                     "connect timed out");
    *out = &l->base;
    return 0;
}

static int tcp_service(hive__transport *base, int timeout_ms)
{
    tcp_tr *t = (tcp_tr *)base;
    t->ncb = 0;
    flush_dirty(t);
    check_deadlines(t);
    int wait = t->ncb ? 0 : pace_run(t, next_deadline_ms(t, timeout_ms));
    struct epoll_event evs[TCP_EVENTS];
    int n = epoll_wait(t->ep, evs, TCP_EVENTS, wait);
    if (n < 0 && errno != EINTR) return HIVE_EIO;
    for (int i = 0; i < n; i++) {
        void *p = evs[i].data.ptr;
        if (p == &t->wfd) {
            uint64_t v;
            while (read(t->wfd, &v, sizeof v) > 0) {}
        } else if (p == &t->lfd) {
            on_accept(t);
        } else {
            on_link_event(p, evs[i].events);
        }
    }
    check_deadlines(t);
    flush_dirty(t);
    pace_run(t, 0);
    /* Flushing never calls back, so nothing can enter the graveyard after
     * this, and no dirty entry points into it. */
    graveyard_free(t);
    return t->ncb;
}

static int tcp_send(hive__transport *base, hive__link *link, const void *const *pieces,
                    const size_t *lens, int n, int dlv)
{
    tcp_link *l = (tcp_link *)link;
    (void)base; (void)dlv;   /* one ordered stream: everything is reliable */
    if (l->dead || l->closing) return HIVE_ECLOSED;
    size_t total = 0;
    for (int i = 0; i < n; i++) total += lens[i];
    if (link_queued(l) + total > TCP_OUT_LIMIT) return HIVE_EFULL;
    size_t keep = l->out.len;
    for (int i = 0; i < n; i++) {
        int r = obuf_append(&l->out, pieces[i], lens[i]);
        if (r < 0) {
            l->out.len = keep;   /* no cut frame left behind (a move keeps the bytes) */
            return r;
        }
    }
    mark_dirty(l);
    return 0;
}

static size_t tcp_queued(hive__transport *base, hive__link *link)
{
    (void)base;
    const tcp_link *l = (const tcp_link *)link;
    return l->dead ? 0 : link_queued(l);
}

static void tcp_flush(hive__transport *base)
{
    flush_dirty((tcp_tr *)base);
}

static void tcp_close(hive__transport *base, hive__link *link, uint32_t code)
{
    tcp_link *l = (tcp_link *)link;
    (void)code;   /* TCP carries no close code; the core's close frame did */
    if (l->dead || l->closing) return;
    l->closing = true;
    if (l->connecting || (l->fail_at == 1) || (l->dialing && l->ws == WS_UPGRADE)) {
        /* Nothing to say goodbye on: report at the next service. */
        if (l->fail_at != 1) set_deadline(l, 1, HIVE_CLOSE_NORMAL, NULL);
        return;
    }
    uint32_t ms = l->tr->base.opts.timeout_ms ? l->tr->base.opts.timeout_ms : TCP_LINGER_MS;
    if (ms > TCP_LINGER_MS) ms = TCP_LINGER_MS;
    set_deadline(l, hive_now_ns() + (uint64_t)ms * 1000000u, HIVE_CLOSE_TIMEOUT,
                 "the peer did not close in time");
    link_flush(l);
}

static void tcp_abort(hive__transport *base, hive__link *link)
{
    (void)base;
    link_kill((tcp_link *)link);
}

static void tcp_wake(hive__transport *base)
{
    tcp_tr *t = (tcp_tr *)base;
    uint64_t one = 1;
    ssize_t r = write(t->wfd, &one, sizeof one);
    (void)r;   /* a full counter already wakes */
}

static uint16_t tcp_bound_port(hive__transport *base)
{
    return ((tcp_tr *)base)->port;
}

static int tcp_rtt_ms(hive__transport *base, hive__link *link)
{
    tcp_link *l = (tcp_link *)link;
    struct tcp_info ti;
    socklen_t sl = sizeof ti;
    if (l->dead || l->fd < 0 || getsockopt(l->fd, IPPROTO_TCP, TCP_INFO, &ti, &sl) < 0) return -1;
    return (int)(ti.tcpi_rtt / 1000);
}

static int tcp_pollfd(hive__transport *base)
{
    return ((tcp_tr *)base)->ep;
}

static void tcp_destroy(hive__transport *base)
{
    tcp_tr *t = (tcp_tr *)base;
    if (!t) return;
    while (t->live) link_kill(t->live);
    graveyard_free(t);
    if (t->lfd >= 0) close(t->lfd);
    if (t->wfd >= 0) close(t->wfd);
    if (t->ep >= 0) close(t->ep);
    hive__free(t->dirty);
    hive__tls_ctx_destroy(t->tls_ctx);
    hive__free(t);
}

static const hive__transport_vt tcp_vt = {
    .scheme = "tcp", .stream = true,
    .listen = tcp_listen, .connect = tcp_connect, .service = tcp_service, .send = tcp_send,
    .flush = tcp_flush, .close = tcp_close, .abort = tcp_abort, .wake = tcp_wake,
    .bound_port = tcp_bound_port, .rtt_ms = tcp_rtt_ms, .queued = tcp_queued, .pollfd = tcp_pollfd, .destroy = tcp_destroy,
};

static const char *tls_peer_subject(hive__transport *t, hive__link *base)
{
    tcp_link *l = (tcp_link *)base;
    return l->tls ? hive__tls_peer_subject(l->tls) : NULL;
}

static const hive__transport_vt tls_vt = {
    .scheme = "tls", .stream = true,
    .listen = tcp_listen, .connect = tcp_connect, .service = tcp_service, .send = tcp_send,
    .flush = tcp_flush, .close = tcp_close, .abort = tcp_abort, .wake = tcp_wake,
    .bound_port = tcp_bound_port, .rtt_ms = tcp_rtt_ms, .peer_subject = tls_peer_subject,
    .queued = tcp_queued, .pollfd = tcp_pollfd, .destroy = tcp_destroy,
};

static const hive__transport_vt ws_vt = {
    .scheme = "ws", .stream = true,
    .listen = tcp_listen, .connect = tcp_connect, .service = tcp_service, .send = tcp_send,
    .flush = tcp_flush, .close = tcp_close, .abort = tcp_abort, .wake = tcp_wake,
    .bound_port = tcp_bound_port, .rtt_ms = tcp_rtt_ms, .queued = tcp_queued, .pollfd = tcp_pollfd, .destroy = tcp_destroy,
};

static const hive__transport_vt wss_vt = {
    .scheme = "wss", .stream = true,
    .listen = tcp_listen, .connect = tcp_connect, .service = tcp_service, .send = tcp_send,
    .flush = tcp_flush, .close = tcp_close, .abort = tcp_abort, .wake = tcp_wake,
    .bound_port = tcp_bound_port, .rtt_ms = tcp_rtt_ms, .peer_subject = tls_peer_subject,
    .queued = tcp_queued, .pollfd = tcp_pollfd, .destroy = tcp_destroy,
};

static int create(const hive__transport_cb *cb, const hive__transport_opts *opts,
                  hive__transport **out, bool tls, bool ws)
{
    tcp_tr *t = hive__calloc(1, sizeof *t);
    if (!t) return HIVE_ENOMEM;
    t->base.vt = ws ? (tls ? &wss_vt : &ws_vt) : tls ? &tls_vt : &tcp_vt;
    t->ws = ws;
    t->base.cb = *cb;
    if (opts) t->base.opts = *opts;
    t->tls = tls;
    t->scheme = t->base.vt->scheme;
    t->lfd = -1;
    if (tls && opts && opts->tls) {
        /* Strings stay the caller's (the core keeps its config alive). */
        t->tls_cfg_copy = *(const hive_tls_config *)opts->tls;
        t->tls_cfg = &t->tls_cfg_copy;
    }
    t->ep = epoll_create1(EPOLL_CLOEXEC);
    t->wfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (t->ep < 0 || t->wfd < 0) {
        if (t->ep >= 0) close(t->ep); else t->ep = -1;
        if (t->wfd >= 0) close(t->wfd); else t->wfd = -1;
        t->ep = t->wfd = -1;
        tcp_destroy(&t->base);
        return HIVE_EIO;
    }
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &t->wfd };
    if (epoll_ctl(t->ep, EPOLL_CTL_ADD, t->wfd, &ev) < 0) {
        tcp_destroy(&t->base);
        return HIVE_EIO;
    }
    *out = &t->base;
    return 0;
}

int hive__transport_tcp_create(const hive__transport_cb *cb, const hive__transport_opts *opts,
                               hive__transport **out)
{
    return create(cb, opts, out, false, false);
}

int hive__transport_tls_create(const hive__transport_cb *cb, const hive__transport_opts *opts,
                               hive__transport **out)
{
    return create(cb, opts, out, true, false);
}

int hive__transport_ws_create(const hive__transport_cb *cb, const hive__transport_opts *opts,
                              hive__transport **out)
{
    return create(cb, opts, out, false, true);
}

int hive__transport_wss_create(const hive__transport_cb *cb, const hive__transport_opts *opts,
                               hive__transport **out)
{
    return create(cb, opts, out, true, true);
}
