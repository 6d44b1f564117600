/*
 * tests/net/net_test.h - helpers for the networking tests: an event
 * recorder, a server on 127.0.0.1 with a system-chosen port, pumping
 * server and client on one thread until a condition holds, and a raw ENet
 * peer that can say anything (for the hostile-input tests).
 */
#ifndef HIVE_TESTS_NET_TEST_H
#define HIVE_TESTS_NET_TEST_H

#include <criterion/criterion.h>
#include <enet/enet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hive/hive.h"
#include "net/wire/frame.h"

/* ------------------------------------------------------------------ */
/* Event recorder                                                       */
/* ------------------------------------------------------------------ */

#define REC_MAX 2048

typedef struct rec_event {
    char name[HIVE_NAME_MAX];
    int64_t cid, reason, pid, remote;
    char reason_name[32];
    char msg_text[64];        /* msg["text"] of recv events, when present */
} rec_event;

typedef struct recorder {
    rec_event ev[REC_MAX];
    int n;
} recorder;

static void rec_handler(const hive_event *ev, void *user)
{
    recorder *r = user;
    if (r->n >= REC_MAX) return;
    rec_event *e = &r->ev[r->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", ev->name);
    e->cid = hive_event_int(ev, "cid", -1);
    e->reason = hive_event_int(ev, "reason", -1);
    e->pid = hive_event_int(ev, "pid", -1);
    e->remote = hive_event_int(ev, "remote", -1);
    const char *rn = hive_event_str(ev, "reason_name");
    if (rn) snprintf(e->reason_name, sizeof e->reason_name, "%s", rn);
    hive_msg_view v;
    const msgpack_object *o;
    if (hive_event_msg(ev, &v, &o) == 0) {
        const char *s;
        size_t n;
        if (hive_msg_get_str(o, "text", &s, &n) == 0)
            snprintf(e->msg_text, sizeof e->msg_text, "%.*s", (int)n, s);
    }
    hive_msg_view_free(&v);
}

/* Records every `net:` event, before any other handler runs for it. */
static inline void rec_attach(recorder *r, hive_bus *bus)
{
    memset(r, 0, sizeof *r);
    hive_sub_opts o = { .priority = 1000 };
    cr_assert_gt(hive_bus_subscribe(bus, "net:**", rec_handler, r, &o), 0);
}

static inline int rec_count(const recorder *r, const char *name)
{
    int n = 0;
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->ev[i].name, name) == 0) n++;
    return n;
}

static inline const rec_event *rec_find(const recorder *r, const char *name)
{
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->ev[i].name, name) == 0) return &r->ev[i];
    return NULL;
}

static inline void rec_dump(const recorder *r, const char *who)
{
    for (int i = 0; i < r->n; i++)
        fprintf(stderr, "  %s[%d] %s cid=%lld reason=%s\n", who, i, r->ev[i].name,
                (long long)r->ev[i].cid, r->ev[i].reason_name);
}

/* Asserts that the recorded names are exactly `want` (NULL-terminated). */
static inline void rec_expect_sequence(const recorder *r, const char *who, const char *const *want)
{
    int n = 0;
    while (want[n]) n++;
    bool same = r->n == n;
    for (int i = 0; same && i < n; i++) same = strcmp(r->ev[i].name, want[i]) == 0;
    if (!same) {
        fprintf(stderr, "%s: got %d events:\n", who, r->n);
        rec_dump(r, who);
        fprintf(stderr, "%s: wanted %d events:\n", who, n);
        for (int i = 0; i < n; i++) fprintf(stderr, "  %s\n", want[i]);
    }
    cr_expect(same, "%s: event sequence differs (see stderr)", who);
}

/* ------------------------------------------------------------------ */
/* Server and client                                                    */
/* ------------------------------------------------------------------ */

/* A started, non-threaded server on 127.0.0.1 with a free port. cfg may
 * be NULL; its addr is replaced. */
/* Scheme for test servers: "" (plain host:port = ENet) or e.g. "tcp://". */
static const char *test_scheme = "";

static inline hive_server *test_server(hive_bus *bus, const hive_server_config *cfg,
                                       const char *const *packets)
{
    hive_server_config c = cfg ? *cfg : (hive_server_config){ 0 };
    char addr[64];
    snprintf(addr, sizeof addr, "%s127.0.0.1:0", test_scheme);
    c.addr = addr;
    hive_server *s = hive_server_create(&c, bus);
    cr_assert_not_null(s);
    for (int i = 0; packets && packets[i]; i++)
        cr_assert_gt(hive_server_register(s, packets[i], 0, HIVE_RELIABLE), 0);
    cr_assert_eq(hive_server_start(s), HIVE_OK);
    cr_assert_gt(hive_server_port(s), 0);
    return s;
}

static inline void test_addr(const hive_server *s, char *buf, size_t n)
{
    snprintf(buf, n, "%s127.0.0.1:%u", test_scheme, (unsigned)hive_server_port(s));
}

typedef bool (*pump_cond)(void *arg);

/* When pump last called hive_client_service: a handler that runs inside
 * that call knows the event was made no earlier (a handler's own clock
 * reading may come much later on a loaded machine). */
static uint64_t pump_client_service_ns;

/* Services s and c (either may be NULL) in turns until cond(arg) is true
 * or ms milliseconds pass. Returns the final cond value. */
static inline bool pump(hive_server *s, hive_client *c, int ms, pump_cond cond, void *arg)
{
    uint64_t end = hive_now_ns() + (uint64_t)ms * 1000000u;
    while (!(cond && cond(arg))) {
        if (hive_now_ns() >= end) return cond ? cond(arg) : true;
        if (s) hive_server_service(s, 1);
        if (c) {
            pump_client_service_ns = hive_now_ns();
            hive_client_service(c, 1);
        }
    }
    return true;
}

static inline bool client_open(void *arg) { return hive_client_get_state(arg) == HIVE_CLIENT_OPEN; }

/* Both ends open: the client has the welcome and the server its ready.
 * (The client is open one half round trip before the server is.) */
typedef struct both_open_arg { hive_server *s; hive_client *c; } both_open_arg;
static inline bool both_open(void *arg)
{
    both_open_arg *a = arg;
    hive_conn_info ci;
    return client_open(a->c) && hive_server_conn_info(a->s, hive_client_cid(a->c), &ci) == 0 && ci.open;
}
static inline bool pump_both_open(hive_server *s, hive_client *c, int ms)
{
    both_open_arg a = { s, c };
    return pump(s, c, ms, both_open, &a);
}
static inline bool client_gone(void *arg)
{
    hive_client_state st = hive_client_get_state(arg);
    return st == HIVE_CLIENT_CLOSED || st == HIVE_CLIENT_IDLE;
}

typedef struct count_cond { const recorder *r; const char *name; int n; } count_cond;
static inline bool rec_reached(void *arg)
{
    count_cond *c = arg;
    return rec_count(c->r, c->name) >= c->n;
}

/* Pumps until `name` was recorded n times in r. */
static inline bool pump_until_event(hive_server *s, hive_client *c, int ms, const recorder *r,
                                    const char *name, int n)
{
    count_cond cc = { r, name, n };
    return pump(s, c, ms, rec_reached, &cc);
}

/* A msgpack body {"text": text}; free with hive_msg_free. */
static inline void text_msg(hive_msg *m, const char *text)
{
    hive_msg_init(m);
    hive_msg_map(m, 1);
    hive_msg_kv_str(m, "text", text);
}

/* ------------------------------------------------------------------ */
/* A raw ENet peer that speaks bytes, not Hive                          */
/* ------------------------------------------------------------------ */

typedef struct raw_peer {
    ENetHost *host;
    ENetPeer *peer;
    bool connected, disconnected;
    /* What the server sent back, frames concatenated (datagrams whole). */
    uint8_t rx[65536];
    size_t rx_len;
    int packets[2];          /* packets received per channel */
    int unsequenced;         /* of those on channel 1: sent unsequenced */
    int by_channel[64];      /* packets received per ENet channel (lanes: 2k, 2k+1) */
    int unseq_by_channel[64];
} raw_peer;

static inline void raw_service(raw_peer *p, int ms)
{
    ENetEvent ev;
    while (enet_host_service(p->host, &ev, (enet_uint32)ms) > 0) {
        ms = 0;
        if (ev.type == ENET_EVENT_TYPE_CONNECT) p->connected = true;
        else if (ev.type == ENET_EVENT_TYPE_DISCONNECT) p->disconnected = true;
        else if (ev.type == ENET_EVENT_TYPE_RECEIVE) {
            if (ev.channelID < 2) p->packets[ev.channelID]++;
            if (ev.packet->flags & ENET_PACKET_FLAG_UNSEQUENCED) p->unsequenced++;
            if (ev.channelID < 64) p->by_channel[ev.channelID]++;
            if (ev.channelID < 64 && (ev.packet->flags & ENET_PACKET_FLAG_UNSEQUENCED))
                p->unseq_by_channel[ev.channelID]++;
            if (p->rx_len + ev.packet->dataLength <= sizeof p->rx) {
                memcpy(p->rx + p->rx_len, ev.packet->data, ev.packet->dataLength);
                p->rx_len += ev.packet->dataLength;
            }
            enet_packet_destroy(ev.packet);
        }
    }
}

/* Connects a raw ENet peer asking for `channels` ENet channels (two per
 * Hive lane), servicing the server meanwhile. */
static inline void raw_connect_n(raw_peer *p, hive_server *s, int channels)
{
    memset(p, 0, sizeof *p);
    cr_assert_eq(enet_initialize(), 0);
    p->host = enet_host_create(NULL, 1, (size_t)channels, 0, 0);
    cr_assert_not_null(p->host);
    ENetAddress a;
    enet_address_set_host(&a, "127.0.0.1");
    a.port = hive_server_port(s);
    p->peer = enet_host_connect(p->host, &a, (size_t)channels, 0);
    cr_assert_not_null(p->peer);
    for (int i = 0; i < 400 && !p->connected; i++) {
        raw_service(p, 1);
        hive_server_service(s, 1);
    }
    cr_assert(p->connected, "raw peer could not connect");
}

/* A peer as Hive before lanes: two channels. */
static inline void raw_connect(raw_peer *p, hive_server *s) { raw_connect_n(p, s, 2); }

/* Sends raw bytes as one ENet packet. */
static inline void raw_send(raw_peer *p, const void *bytes, size_t n, int channel)
{
    ENetPacket *pk = enet_packet_create(bytes, n, channel == 0 ? ENET_PACKET_FLAG_RELIABLE : 0);
    cr_assert_not_null(pk);
    cr_assert_eq(enet_peer_send(p->peer, (enet_uint8)channel, pk), 0);
    enet_host_flush(p->host);
}

/* Sends one well-formed frame with the given pid and body. */
static inline void raw_send_frame(raw_peer *p, uint32_t pid, const void *body, size_t len)
{
    uint8_t buf[HIVE__FRAME_HEADER_MAX + 4096];
    cr_assert_leq(len, 4096u);
    size_t hn = hive__frame_header(buf, pid, 0, len);
    memcpy(buf + hn, body, len);
    raw_send(p, buf, hn + len, 0);
}

/* A correct hello body; fields may be overridden by the caller's variants. */
static inline void hello_msg(hive_msg *m, const char *magic, unsigned proto, const char *app)
{
    hive_msg_init(m);
    hive_msg_map(m, 5);
    hive_msg_kv_str(m, "magic", magic);
    hive_msg_kv_uint(m, "proto", proto);
    hive_msg_kv_str(m, "app", app);
    hive_msg_kv_str(m, "app_version", "1");
    hive_msg_kv_str(m, "conntype", "player");
}

/* Drives the handshake from a raw peer: hello, wait for welcome, ready. */
static inline void raw_handshake(raw_peer *p, hive_server *s)
{
    hive_msg m;
    hello_msg(&m, "HIVE", HIVE_PROTOCOL_VERSION, "hive");
    raw_send_frame(p, HIVE__PID_HELLO, hive_msg_data(&m), hive_msg_size(&m));
    hive_msg_free(&m);
    for (int i = 0; i < 400 && p->rx_len == 0; i++) {
        hive_server_service(s, 1);
        raw_service(p, 1);
    }
    hive__frame f;
    cr_assert_eq(hive__frame_decode(p->rx, p->rx_len, 1 << 20, &f), 1);
    cr_assert_eq(f.pid, HIVE__PID_WELCOME);
    p->rx_len = 0;
    uint8_t ready = 0x80;   /* {} */
    raw_send_frame(p, HIVE__PID_READY, &ready, 1);
}

/* The first close/reject frame the server sent: its reason, or -1. */
static inline int raw_close_reason(raw_peer *p, uint32_t *pid_out)
{
    size_t off = 0;
    while (off < p->rx_len) {
        hive__frame f;
        if (hive__frame_decode(p->rx + off, p->rx_len - off, 1 << 20, &f) != 1) return -1;
        off += f.size;
        if (f.pid == HIVE__PID_CLOSE || f.pid == HIVE__PID_REJECT) {
            hive_msg_view v;
            if (hive_msg_view_init(&v, f.body, f.body_len) != 0) return -1;
            uint64_t r = 0;
            int rc = hive_msg_get_uint(v.obj, "reason", &r);
            hive_msg_view_free(&v);
            if (pid_out) *pid_out = f.pid;
            return rc == 0 ? (int)r : -1;
        }
    }
    return -1;
}

static inline void raw_destroy(raw_peer *p)
{
    if (p->host) enet_host_destroy(p->host);
    p->host = NULL;
}

#endif /* HIVE_TESTS_NET_TEST_H */

/* ------------------------------------------------------------------ */
/* A fixture: server + one good client on separate buses                */
/* ------------------------------------------------------------------ */

#ifndef HIVE_TESTS_NET_FIXTURE
#define HIVE_TESTS_NET_FIXTURE

typedef struct fixture {
    hive_bus *sbus, *cbus;
    recorder *sr, *cr;
    hive_server *srv;
    hive_client *cli;
    char addr[64];
    int echoes;
} fixture;

/* Server side: every game:chat is answered with a game:echo of its body. */
static void fx_echo(const hive_event *ev, void *user)
{
    fixture *fx = user;
    const void *raw, *obj;
    size_t len;
    cr_assert_eq(hive_event_get_msgpack(ev, "msg", &raw, &len, &obj), 0);
    hive_server_send(fx->srv, (hive_cid)hive_event_int(ev, "cid", 0), "game:echo", raw, len);
    fx->echoes++;
}

static const char *const fx_packets[] = { "game:chat", "game:echo", NULL };

static inline void fx_init(fixture *fx, const hive_server_config *scfg,
                           const hive_client_config *ccfg, bool connect)
{
    memset(fx, 0, sizeof *fx);
    fx->sbus = hive_bus_create(NULL);
    fx->cbus = hive_bus_create(NULL);
    fx->sr = calloc(1, sizeof *fx->sr);
    fx->cr = calloc(1, sizeof *fx->cr);
    rec_attach(fx->sr, fx->sbus);
    rec_attach(fx->cr, fx->cbus);
    cr_assert_gt(hive_bus_subscribe(fx->sbus, "net:server.recv.game:chat", fx_echo, fx, NULL), 0);
    fx->srv = test_server(fx->sbus, scfg, fx_packets);
    test_addr(fx->srv, fx->addr, sizeof fx->addr);
    fx->cli = hive_client_create(ccfg, fx->cbus);
    cr_assert_not_null(fx->cli);
    if (connect) {
        cr_assert_eq(hive_client_connect(fx->cli, fx->addr), 0);
        cr_assert(pump_both_open(fx->srv, fx->cli, 3000), "good client: no handshake");
    }
}

/* The good client sends game:chat {text} and waits for its echo. */
static inline void fx_roundtrip(fixture *fx, const char *text)
{
    int before = rec_count(fx->cr, "net:client.recv.game:echo");
    hive_msg m;
    text_msg(&m, text);
    cr_assert_eq(hive_client_send_msg(fx->cli, "game:chat", &m), 0);
    hive_msg_free(&m);
    cr_assert(pump_until_event(fx->srv, fx->cli, 3000, fx->cr, "net:client.recv.game:echo", before + 1),
              "no echo for the good client");
}

static inline void fx_fini(fixture *fx)
{
    hive_client_destroy(fx->cli);
    hive_server_destroy(fx->srv);
    hive_bus_destroy(fx->sbus);
    hive_bus_destroy(fx->cbus);
    free(fx->sr);
    free(fx->cr);
}

/* The close event the server published for cid, or NULL. */
static inline const rec_event *fx_server_close(const fixture *fx, int64_t cid)
{
    for (int i = 0; i < fx->sr->n; i++)
        if (strcmp(fx->sr->ev[i].name, "net:server.connection.close") == 0 && fx->sr->ev[i].cid == cid)
            return &fx->sr->ev[i];
    return NULL;
}

/* The cid of the n-th accepted connection (0-based), or -1. */
static inline int64_t fx_accepted_cid(const fixture *fx, int n)
{
    for (int i = 0; i < fx->sr->n; i++)
        if (strcmp(fx->sr->ev[i].name, "net:server.connection.accept") == 0 && n-- == 0)
            return fx->sr->ev[i].cid;
    return -1;
}

typedef struct close_wait { const fixture *fx; int64_t cid; } close_wait;
static inline bool fx_closed(void *arg)
{
    close_wait *w = arg;
    return fx_server_close(w->fx, w->cid) != NULL;
}

/* Pumps server, good client and raw peer until the server closed cid. */
static inline const rec_event *fx_wait_close(fixture *fx, raw_peer *p, int64_t cid, int ms)
{
    uint64_t end = hive_now_ns() + (uint64_t)ms * 1000000u;
    close_wait w = { fx, cid };
    while (!fx_closed(&w) && hive_now_ns() < end) {
        hive_server_service(fx->srv, 1);
        if (hive_client_get_state(fx->cli) != HIVE_CLIENT_IDLE) hive_client_service(fx->cli, 0);
        if (p && p->host) raw_service(p, 0);
    }
    /* Let the close packet reach the raw peer. */
    for (int i = 0; p && p->host && i < 50 && !p->disconnected; i++) {
        hive_server_service(fx->srv, 1);
        raw_service(p, 1);
    }
    return fx_server_close(fx, cid);
}

#endif /* HIVE_TESTS_NET_FIXTURE */

#ifndef HIVE_TESTS_NET_BAD
#define HIVE_TESTS_NET_BAD
/*
 * A raw peer (after a full handshake when `handshake`) sends `bytes` as
 * one reliable ENet packet. The server must close it with `want`, tell it
 * so in a close packet, and keep serving the good client.
 */
static inline void expect_bad(const void *bytes, size_t n, bool handshake, int want,
                              const hive_server_config *cfg)
{
    fixture fx;
    fx_init(&fx, cfg, NULL, true);
    raw_peer p;
    raw_connect(&p, fx.srv);
    if (handshake) raw_handshake(&p, fx.srv);
    int64_t cid = fx_accepted_cid(&fx, 1);
    cr_assert_gt(cid, 0);
    raw_send(&p, bytes, n, 0);
    const rec_event *e = fx_wait_close(&fx, &p, cid, 3000);
    cr_assert_not_null(e, "the server did not close the hostile peer");
    cr_expect_str_eq(e->reason_name, hive_close_reason_name(want));
    cr_expect_eq(e->reason, want);
    cr_expect_eq(e->remote, 0);
    uint32_t pid = 0;
    cr_expect_eq(raw_close_reason(&p, &pid), want, "the peer was not told why");
    fx_roundtrip(&fx, "still serving");
    cr_expect_eq(hive_server_connection_count(fx.srv), 1u + (p.disconnected ? 0u : 1u));
    raw_destroy(&p);
    fx_fini(&fx);
}
#endif
