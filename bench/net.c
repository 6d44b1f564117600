/*
 * bench-net - Hive's networking against raw ENet, same loopback, same run.
 *
 *   throughput  a client sends N reliable 64-byte messages, the server
 *               counts them: raw ENet packets, then 64-byte msgpack bodies
 *               through Hive, each decoded and delivered to a subscribed
 *               handler (with Hive's per-round coalescing, and without it)
 *   rtt         ping-pong round trip, median of K, raw ENet vs Hive
 *   memory      bytes per idle connected client, counted by an allocator
 *               hook: the server's share and the client's share
 *   send check  ns per call of the body check every send runs, against
 *               the whole per-message cost
 *
 * The server runs on its own thread in every case (Hive in caller-thread
 * mode, servicing in a loop), the client on the main thread.
 * Output: `hive-bench <name> value=<v> unit=<u>` and
 *         `hive-bench <name> ratio=<r> vs=<baseline>`.
 * HIVE_BENCH_N / HIVE_BENCH_K override the message and ping counts;
 * HIVE_BENCH_ONLY=<part>[,<part>...] runs only those parts: throughput,
 * resume (protocol 2's cost), rtt (with the resume latency), memory.
 */
#include <hive/hive.h>
/* Internals, for two measurements only: the protocol-2 baseline switch
 * (hive__ep.no_seq) and cutting a client's link to time its resume. */
#include "net/client/client_internal.h"
#include "net/server/server_internal.h"
#include "net/wire/frame.h"

#include <enet/enet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MSG_BYTES 64
/* Messages in flight at most (sent, not yet counted by the server). A
 * closed loop measures what the pair sustains, not how fast ENet can queue
 * a million packets in memory. */
#define WINDOW 4096
#define REPEATS 5
#define IDLE_CLIENTS 50

static long N = 500000;
static long K = 2000;

static void value(const char *name, double v, const char *unit)
{
    printf("hive-bench %s value=%.3f unit=%s\n", name, v, unit);
    fflush(stdout);
}

static void ratio(const char *name, double v, double base, const char *bname)
{
    printf("hive-bench %s ratio=%.3f vs=%s\n", name, base > 0 ? v / base : 0.0, bname);
    fflush(stdout);
}

static double now_s(void) { return (double)hive_now_ns() / 1e9; }

static const char *only;

/* Whether HIVE_BENCH_ONLY (unset: everything) names part. */
static bool run_part(const char *part)
{
    if (!only || !*only) return true;
    size_t n = strlen(part);
    for (const char *p = only; (p = strstr(p, part)) != NULL; p += n)
        if ((p == only || p[-1] == ',') && (p[n] == ',' || !p[n])) return true;
    return false;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, long n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ------------------------------------------------------------------ */
/* Raw ENet                                                             */
/* ------------------------------------------------------------------ */

typedef struct raw_server {
    ENetHost *host;
    uint16_t port;
    bool echo;
    int stop;            /* __atomic */
    long count __attribute__((aligned(64)));   /* __atomic (publish_count) */
    long seen __attribute__((aligned(64)));    /* the server thread's own count */
} raw_server;

/* The server thread tells the sending thread how far it got. Not per
 * message: the sender reads the count all the time (its window), and a
 * locked increment per message on a line the other core keeps reading
 * made the two threads' speeds depend on each other, which turned small
 * differences between two modes into large, run-to-run varying ones.
 * Every 64 messages, and at the last, is enough for a 4096 window. The
 * count and the server's own counter have cache lines of their own. */
static void publish_count(long *count, long seen)
{
    if ((seen & 63) == 0 || seen >= N) __atomic_store_n(count, seen, __ATOMIC_RELEASE);
}

static void *raw_server_main(void *arg)
{
    raw_server *s = arg;
    ENetEvent ev;
    while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
        if (enet_host_service(s->host, &ev, 1) <= 0) continue;
        do {
            if (ev.type != ENET_EVENT_TYPE_RECEIVE) continue;
            if (s->echo) {
                ENetPacket *p = enet_packet_create(ev.packet->data, ev.packet->dataLength,
                                                   ENET_PACKET_FLAG_RELIABLE);
                enet_peer_send(ev.peer, 0, p);
                enet_host_flush(s->host);
            }
            publish_count(&s->count, ++s->seen);
            enet_packet_destroy(ev.packet);
        } while (enet_host_check_events(s->host, &ev) > 0);
    }
    return NULL;
}

static void raw_start(raw_server *s, pthread_t *t, bool echo)
{
    memset(s, 0, sizeof *s);
    ENetAddress a = { .host = ENET_HOST_ANY, .port = 0 };
    enet_address_set_host(&a, "127.0.0.1");
    s->host = enet_host_create(&a, 4, 2, 0, 0);
    ENetAddress got;
    enet_socket_get_address(s->host->socket, &got);
    s->port = got.port;
    s->echo = echo;
    pthread_create(t, NULL, raw_server_main, s);
}

static void raw_stop(raw_server *s, pthread_t t)
{
    __atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
    pthread_join(t, NULL);
    enet_host_destroy(s->host);
}

static ENetPeer *raw_dial(ENetHost *h, uint16_t port)
{
    ENetAddress a = { .port = port };
    enet_address_set_host(&a, "127.0.0.1");
    ENetPeer *p = enet_host_connect(h, &a, 2, 0);
    ENetEvent ev;
    for (int i = 0; i < 5000; i++)
        if (enet_host_service(h, &ev, 1) > 0 && ev.type == ENET_EVENT_TYPE_CONNECT) return p;
    fprintf(stderr, "bench-net: raw connect failed\n");
    exit(1);
}

static void raw_drain(ENetHost *h)
{
    ENetEvent ev;
    while (enet_host_service(h, &ev, 0) > 0)
        if (ev.type == ENET_EVENT_TYPE_RECEIVE) enet_packet_destroy(ev.packet);
}

static double raw_throughput(void)
{
    raw_server s;
    pthread_t t;
    raw_start(&s, &t, false);
    ENetHost *h = enet_host_create(NULL, 1, 2, 0, 0);
    ENetPeer *p = raw_dial(h, s.port);
    uint8_t buf[MSG_BYTES];
    memset(buf, 0xab, sizeof buf);
    double t0 = now_s();
    for (long i = 0; i < N; i++) {
        enet_peer_send(p, 0, enet_packet_create(buf, sizeof buf, ENET_PACKET_FLAG_RELIABLE));
        if (i % 64 == 63) {
            raw_drain(h);
            while (i - __atomic_load_n(&s.count, __ATOMIC_ACQUIRE) > WINDOW) raw_drain(h);
        }
    }
    while (__atomic_load_n(&s.count, __ATOMIC_ACQUIRE) < N) {
        ENetEvent ev;
        if (enet_host_service(h, &ev, 1) > 0 && ev.type == ENET_EVENT_TYPE_RECEIVE)
            enet_packet_destroy(ev.packet);
    }
    double dt = now_s() - t0;
    enet_peer_disconnect_now(p, 0);
    enet_host_destroy(h);
    raw_stop(&s, t);
    return (double)N / dt;
}

static double raw_rtt_us(void)
{
    raw_server s;
    pthread_t t;
    raw_start(&s, &t, true);
    ENetHost *h = enet_host_create(NULL, 1, 2, 0, 0);
    ENetPeer *p = raw_dial(h, s.port);
    uint8_t buf[MSG_BYTES] = { 0 };
    double *v = malloc((size_t)K * sizeof *v);
    for (long i = 0; i < K; i++) {
        double t0 = now_s();
        enet_peer_send(p, 0, enet_packet_create(buf, sizeof buf, ENET_PACKET_FLAG_RELIABLE));
        enet_host_flush(h);
        for (;;) {
            ENetEvent ev;
            if (enet_host_service(h, &ev, 1) > 0 && ev.type == ENET_EVENT_TYPE_RECEIVE) {
                enet_packet_destroy(ev.packet);
                break;
            }
        }
        v[i] = (now_s() - t0) * 1e6;
    }
    double m = median(v, K);
    free(v);
    enet_peer_disconnect_now(p, 0);
    enet_host_destroy(h);
    raw_stop(&s, t);
    return m;
}

/* ------------------------------------------------------------------ */
/* Hive                                                                 */
/* ------------------------------------------------------------------ */

typedef struct hive_side {
    bool echo;                   /* answer bench:ping with bench:pong */
    bool no_coalesce;
    bool unobserved;             /* nobody subscribes: count frames_in instead */
    bool no_seq;                 /* protocol 2's counting and acks off (the baseline) */
    uint32_t max_connections;
    uint16_t port;               /* __atomic, set once started */
    long count __attribute__((aligned(64)));   /* __atomic: messages handled (publish_count) */
    long seen __attribute__((aligned(64)));    /* the server thread's own count */
    long bad;
    int stop;                    /* __atomic */
    long bytes_before, bytes_started, bytes_now;   /* server-side live bytes (memory phase) */
    hive_server *srv;
} hive_side;

static void on_msg(const hive_event *ev, void *user)
{
    hive_side *s = user;
    const void *raw, *obj;
    size_t len;
    /* The handler really looks at the decoded message. */
    if (hive_event_get_msgpack(ev, "msg", &raw, &len, &obj) != 0 || !obj ||
        ((const msgpack_object *)obj)->type != MSGPACK_OBJECT_BIN)
        s->bad++;
    if (s->echo) hive_server_send(s->srv, (hive_cid)hive_event_int(ev, "cid", 0), "bench:pong", raw, len);
    publish_count(&s->count, ++s->seen);
}

static long live_bytes(void);

static void *hive_server_main(void *arg)
{
    hive_side *s = arg;
    hive_bus *bus = hive_bus_create(NULL);
    s->bytes_before = live_bytes();      /* the bus is not the network's cost */
    s->srv = hive_server_create(&(hive_server_config){
        .addr = "127.0.0.1:0", .no_coalesce = s->no_coalesce,
        .max_connections = s->max_connections,
        /* the bench's clients join at once, all from one address */
        .max_handshakes = s->max_connections < HIVE_MAX_HANDSHAKES ? s->max_connections : HIVE_MAX_HANDSHAKES,
        .max_handshakes_per_addr = HIVE_MAX_HANDSHAKES,
        .max_peers_per_addr = HIVE_MAX_PEERS_PER_ADDR }, bus);   /* every client is on 127.0.0.1 */
    if (s->no_seq) s->srv->ep.no_seq = true;
    hive_server_register(s->srv, "bench:msg", 0, HIVE_RELIABLE);
    hive_server_register(s->srv, "bench:pong", 0, HIVE_RELIABLE);
    if (!s->unobserved) hive_bus_subscribe(bus, "net:server.recv.bench:msg", on_msg, s, NULL);
    if (hive_server_start(s->srv) != 0) {
        fprintf(stderr, "bench-net: server start failed\n");
        exit(1);
    }
    s->bytes_started = live_bytes();
    __atomic_store_n(&s->port, hive_server_port(s->srv), __ATOMIC_RELEASE);
    while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
        hive_server_service(s->srv, 1);
        __atomic_store_n(&s->bytes_now, live_bytes(), __ATOMIC_RELEASE);
        if (s->unobserved) {
            /* Frames in minus the two handshake frames (hello, ready). */
            hive_net_stats st;
            hive_server_stats(s->srv, &st);
            long n = st.frames_in > 2 ? (long)st.frames_in - 2 : 0;
            __atomic_store_n(&s->count, n, __ATOMIC_RELEASE);
        }
    }
    hive_server_destroy(s->srv);
    hive_bus_destroy(bus);
    return NULL;
}

static void side_start(hive_side *s, pthread_t *t, char *addr, size_t n)
{
    pthread_create(t, NULL, hive_server_main, s);
    while (!__atomic_load_n(&s->port, __ATOMIC_ACQUIRE)) usleep(1000);
    snprintf(addr, n, "127.0.0.1:%u", (unsigned)s->port);
}

static void side_stop(hive_side *s, pthread_t t)
{
    __atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
    pthread_join(t, NULL);
    if (s->bad) fprintf(stderr, "bench-net: %ld messages arrived wrong\n", s->bad);
}

static hive_client *dial_as(hive_bus *bus, const char *addr, bool no_coalesce, bool resume)
{
    hive_client *c = hive_client_create(&(hive_client_config){
        .no_coalesce = no_coalesce, .reconnect_attempts = resume ? 100 : 0, .reconnect_delay_ms = 10 }, bus);
    if (!c || hive_client_connect(c, addr) != 0 || hive_client_wait_connected(c, 5000) != 0) {
        fprintf(stderr, "bench-net: connect failed\n");
        exit(1);
    }
    return c;
}

static hive_client *dial(hive_bus *bus, const char *addr, bool no_coalesce)
{
    return dial_as(bus, addr, no_coalesce, false);
}

/* A 64-byte msgpack body: bin 8 header (2 bytes) + 62 bytes. */
static void body64(uint8_t *b)
{
    b[0] = 0xc4;
    b[1] = MSG_BYTES - 2;
    memset(b + 2, 0xab, MSG_BYTES - 2);
}

/* mode 0: as configured by default (protocol 2 counts and acks; no
 * resume asked, so nothing is copied for a replay); 1: the client asks
 * for resume (every frame kept until acknowledged); 2: the baseline,
 * counting and acks off on both ends. */
static double hive_throughput_mode(bool no_coalesce, bool unobserved, int mode)
{
    hive_side s = { .no_coalesce = no_coalesce, .unobserved = unobserved, .no_seq = mode == 2 };
    pthread_t t;
    char addr[64];
    side_start(&s, &t, addr, sizeof addr);
    hive_bus *bus = hive_bus_create(NULL);
    hive_client *c = dial_as(bus, addr, no_coalesce, mode == 1);
    if (mode == 2) c->ep.no_seq = true;
    uint32_t pid = (uint32_t)hive_client_packet_id(c, "bench:msg");
    uint8_t b[MSG_BYTES];
    body64(b);
    double t0 = now_s();
    for (long i = 0; i < N; i++) {
        if (hive_client_send_id(c, pid, b, sizeof b, 0) != 0) { fprintf(stderr, "send failed\n"); exit(1); }
        if (i % 64 == 63) {
            hive_client_service(c, 0);
            while (i - __atomic_load_n(&s.count, __ATOMIC_ACQUIRE) > WINDOW) hive_client_service(c, 0);
        }
    }
    while (__atomic_load_n(&s.count, __ATOMIC_ACQUIRE) < N) hive_client_service(c, 1);
    double dt = now_s() - t0;
    hive_client_destroy(c);
    hive_bus_destroy(bus);
    side_stop(&s, t);
    return (double)N / dt;
}

static bool pong;
static void on_pong(const hive_event *ev, void *user) { pong = true; }

static double hive_rtt_us(void)
{
    hive_side s = { .echo = true };
    pthread_t t;
    char addr[64];
    side_start(&s, &t, addr, sizeof addr);
    hive_bus *bus = hive_bus_create(NULL);
    hive_bus_subscribe(bus, "net:client.recv.bench:pong", on_pong, NULL, NULL);
    hive_client *c = dial(bus, addr, false);
    uint32_t pid = (uint32_t)hive_client_packet_id(c, "bench:msg");
    uint8_t b[MSG_BYTES];
    body64(b);
    double *v = malloc((size_t)K * sizeof *v);
    for (long i = 0; i < K; i++) {
        pong = false;
        double t0 = now_s();
        hive_client_send_id(c, pid, b, sizeof b, 0);
        hive_client_flush(c);
        while (!pong) hive_client_service(c, 1);
        v[i] = (now_s() - t0) * 1e6;
    }
    double m = median(v, K);
    free(v);
    hive_client_destroy(c);
    hive_bus_destroy(bus);
    side_stop(&s, t);
    return m;
}

/* ------------------------------------------------------------------ */
/* Memory: a counting allocator, per thread side                        */
/* ------------------------------------------------------------------ */

typedef struct blk { size_t size; int side; int pad; } blk;   /* 16 bytes keep alignment */
static long g_live[2];           /* __atomic, bytes per side */
static __thread int t_side;      /* 0 main (client) thread, 1 server thread */

static void *c_malloc(size_t n, void *u)
{
    blk *b = malloc(sizeof *b + n);
    if (!b) return NULL;
    b->size = n;
    b->side = t_side;
    __atomic_fetch_add(&g_live[b->side], (long)n, __ATOMIC_RELAXED);
    return b + 1;
}

static void c_free(void *p, void *u)
{
    if (!p) return;
    blk *b = (blk *)p - 1;
    __atomic_fetch_sub(&g_live[b->side], (long)b->size, __ATOMIC_RELAXED);
    free(b);
}

static void *c_realloc(void *p, size_t n, void *u)
{
    if (!p) return c_malloc(n, u);
    blk *b = (blk *)p - 1;
    size_t old = b->size;
    int side = b->side;
    blk *nb = realloc(b, sizeof *nb + n);
    if (!nb) return NULL;
    nb->size = n;
    __atomic_fetch_add(&g_live[side], (long)n - (long)old, __ATOMIC_RELAXED);
    return nb + 1;
}

static long live_bytes(void) { return __atomic_load_n(&g_live[t_side], __ATOMIC_RELAXED); }

static void *counted_server_main(void *arg)
{
    t_side = 1;
    return hive_server_main(arg);
}

static void memory_per_client(double *server_bytes, double *server_total, double *client_bytes)
{
    hive_set_allocator(&(hive_allocator){ c_malloc, c_realloc, c_free, NULL });
    hive_side s = { .max_connections = IDLE_CLIENTS };
    pthread_t t;
    pthread_create(&t, NULL, counted_server_main, &s);
    while (!__atomic_load_n(&s.port, __ATOMIC_ACQUIRE)) usleep(1000);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)s.port);

    hive_bus *bus = hive_bus_create(NULL);
    long c0 = live_bytes();
    hive_client *c[IDLE_CLIENTS];
    for (int i = 0; i < IDLE_CLIENTS; i++) {
        c[i] = hive_client_create(NULL, bus);
        hive_client_connect(c[i], addr);
    }
    for (int open = 0; open < IDLE_CLIENTS;) {
        open = 0;
        for (int i = 0; i < IDLE_CLIENTS; i++) {
            hive_client_service(c[i], 0);
            open += hive_client_get_state(c[i]) == HIVE_CLIENT_OPEN;
        }
        usleep(200);
    }
    /* Idle for a while: heartbeats flow, nothing else. */
    double until = now_s() + 0.5;
    while (now_s() < until)
        for (int i = 0; i < IDLE_CLIENTS; i++) hive_client_service(c[i], 0);
    long c1 = live_bytes();
    long s1 = __atomic_load_n(&s.bytes_now, __ATOMIC_ACQUIRE);
    *server_bytes = (double)(s1 - s.bytes_started) / IDLE_CLIENTS;
    *server_total = (double)(s1 - s.bytes_before) / IDLE_CLIENTS;
    *client_bytes = (double)(c1 - c0) / IDLE_CLIENTS;
    for (int i = 0; i < IDLE_CLIENTS; i++) hive_client_destroy(c[i]);
    hive_bus_destroy(bus);
    side_stop(&s, t);
    hive_set_allocator(NULL);
}

/* ------------------------------------------------------------------ */

static double hive_throughput(bool no_coalesce, bool unobserved)
{
    return hive_throughput_mode(no_coalesce, unobserved, 0);
}
static double hive_coalesced(void) { return hive_throughput(false, false); }
static double hive_single(void) { return hive_throughput(true, false); }
static double hive_unobserved(void) { return hive_throughput(false, true); }

/* The time from a lost link's replacement being up (the client's state
 * HANDSHAKING: the resume frame is out) to net:client.resumed, over
 * enet:// on loopback. The link is dropped by hand at the client, as a
 * cut would; the server has not noticed, so the resume also replaces its
 * old link. Median of k. */
static int resumed_n;
static void on_resumed(const hive_event *ev, void *user) { (void)ev; (void)user; resumed_n++; }

static double resume_latency_us(long k)
{
    hive_side s = { 0 };
    pthread_t t;
    char addr[64];
    side_start(&s, &t, addr, sizeof addr);
    hive_bus *bus = hive_bus_create(NULL);
    hive_bus_subscribe(bus, HIVE_EV_CLIENT_RESUMED, on_resumed, NULL, NULL);
    hive_client *c = dial_as(bus, addr, false, true);
    double *v = malloc((size_t)k * sizeof *v);
    long got = 0;
    for (long i = 0; i < k; i++) {
        hive__conn *conn = c->ep.conns;
        if (!conn || !conn->link) break;
        /* The cut: the link goes without a word, the core hears "vanished". */
        c->ep.tr->vt->abort(c->ep.tr, conn->link);
        conn->link = NULL;
        c->ep.now = hive__now_ms();
        hive__ep_close(&c->ep, conn, HIVE_CLOSE_PEER_VANISHED, NULL, true, HIVE__CLOSE_SILENT, false);
        hive__ep_conn_free(&c->ep, conn);
        int before = resumed_n;
        double end = now_s() + 5;
        while (hive_client_get_state(c) != HIVE_CLIENT_HANDSHAKING && now_s() < end) hive_client_service(c, 0);
        double t0 = now_s();
        while (resumed_n == before && now_s() < end) hive_client_service(c, 0);
        if (resumed_n == before) {
            /* Reported, not hidden: the figure is over the samples taken. */
            fprintf(stderr, "bench-net: resume %ld did not complete in 5 s; %ld samples\n", i + 1, got);
            break;
        }
        v[got++] = (now_s() - t0) * 1e6;
    }
    double m = got ? median(v, got) : -1;
    free(v);
    hive_client_destroy(c);
    hive_bus_destroy(bus);
    side_stop(&s, t);
    return m;
}

/* The send path's body check (hive__send_check: the receiver's scan, run
 * by every send call) alone, in ns per call: on the 64-byte bench body and
 * on a demo-sized snapshot (16 players of 7 numbers under a map), to set
 * against the whole send's cost (1e9 / throughput). */
static double send_check_ns(const void *body, size_t len)
{
    const long reps = 2000000;
    volatile int sink = 0;
    double best = 1e30;
    for (int r = 0; r < REPEATS; r++) {
        double t0 = now_s();
        for (long i = 0; i < reps; i++) sink += hive__send_check(body, len);
        double ns = (now_s() - t0) * 1e9 / (double)reps;
        if (ns < best) best = ns;
    }
    if (sink) fprintf(stderr, "bench-net: the check refused a good body\n");
    return best;
}

static void snapshot_like(hive_msg *m)
{
    hive_msg_init(m);
    hive_msg_map_begin(m);
    hive_msg_kv_uint(m, "t", 123456);
    hive_msg_kv_uint(m, "q", 4242);
    hive_msg_kv_uint(m, "it", 3);
    hive_msg_key(m, "p");
    hive_msg_array_begin(m);
    for (int i = 0; i < 16; i++) {
        hive_msg_array(m, 7);
        hive_msg_uint(m, (uint64_t)i + 1);
        hive_msg_double(m, 100.5 + i);
        hive_msg_double(m, 200.25 + i);
        hive_msg_uint(m, (uint64_t)i * 3);
        hive_msg_uint(m, i & 3);
        hive_msg_uint(m, 1000 + (uint64_t)i);
        hive_msg_uint(m, 0);
    }
    hive_msg_array_end(m);
    hive_msg_map_end(m);
}

/* Interleaved rounds, best of each: the machine is shared, and a burst
 * of someone else's work should not land on one side only. */
static void part_throughput(void)
{
    double raw = 0, hive = 0, single = 0, quiet = 0;
    for (int r = 0; r < REPEATS; r++) {
        double v = raw_throughput();
        if (v > raw) raw = v;
        v = hive_coalesced();
        if (v > hive) hive = v;
        v = hive_single();
        if (v > single) single = v;
        v = hive_unobserved();
        if (v > quiet) quiet = v;
    }
    value("net.raw_enet.throughput", raw, "msg/s");
    value("net.hive.throughput", hive, "msg/s");
    ratio("net.hive.throughput", hive, raw, "net.raw_enet.throughput");
    /* What the send-path body check adds per message. */
    uint8_t b64[MSG_BYTES];
    body64(b64);
    double chk = send_check_ns(b64, sizeof b64);
    hive_msg snap;
    snapshot_like(&snap);
    double chk_snap = send_check_ns(hive_msg_data(&snap), hive_msg_size(&snap));
    value("net.hive.send_check_64B", chk, "ns");
    value("net.hive.per_message", 1e9 / hive, "ns");
    ratio("net.hive.send_check_64B", chk, 1e9 / hive, "net.hive.per_message");
    value("net.hive.send_check_snapshot", chk_snap, "ns");
    value("net.hive.snapshot_bytes", (double)hive_msg_size(&snap), "bytes");
    hive_msg_free(&snap);
    value("net.hive_no_coalesce.throughput", single, "msg/s");
    ratio("net.hive_no_coalesce.throughput", single, raw, "net.raw_enet.throughput");

    /* recv events are voidable: nobody subscribed, nothing decoded or built. */
    value("net.hive_unobserved.throughput", quiet, "msg/s");
    ratio("net.hive.throughput", hive, quiet, "net.hive_unobserved.throughput");
}

/* Protocol 2's cost: the same workload with resume asked for (each frame
 * counted, kept until acknowledged, acks flowing back) against counting
 * and acks switched off. The two differ by a few percent while one run of
 * either swings by more than that on a shared 2-core machine (the
 * client and the server thread spin on two cores that other processes
 * also use), so: more rounds than the other parts, the order within a
 * round alternating (so neither mode always runs first, on a warmer or a
 * colder machine), the median of each. Each round's pair goes to stderr,
 * so the spread is visible next to the median. */
#define RESUME_ROUNDS 9
static void part_resume(void)
{
    double p2[RESUME_ROUNDS], p0[RESUME_ROUNDS];
    for (int r = 0; r < RESUME_ROUNDS; r++) {
        if (r % 2) {
            p0[r] = hive_throughput_mode(false, false, 2);
            p2[r] = hive_throughput_mode(false, false, 1);
        } else {
            p2[r] = hive_throughput_mode(false, false, 1);
            p0[r] = hive_throughput_mode(false, false, 2);
        }
        fprintf(stderr, "bench-net: round %d resume %.0f noseq %.0f msg/s (%.3f)\n", r + 1, p2[r], p0[r],
                p0[r] > 0 ? p2[r] / p0[r] : 0.0);
    }
    double p2m = median(p2, RESUME_ROUNDS), p0m = median(p0, RESUME_ROUNDS);
    value("net.hive_resume.throughput", p2m, "msg/s");
    value("net.hive_noseq.throughput", p0m, "msg/s");
    ratio("net.hive_resume.throughput", p2m, p0m, "net.hive_noseq.throughput");
}

static void part_rtt(void)
{
    double rrtt = raw_rtt_us();
    value("net.raw_enet.rtt_median", rrtt, "us");
    double hrtt = hive_rtt_us();
    value("net.hive.rtt_median", hrtt, "us");
    ratio("net.hive.rtt_median", hrtt, rrtt, "net.raw_enet.rtt_median");
    value("net.hive.rtt_overhead", hrtt - rrtt, "us");

    double rl = resume_latency_us(50);
    value("net.hive.resume_latency", rl, "us");
    ratio("net.hive.resume_latency", rl, hrtt, "net.hive.rtt_median");
}

static void part_memory(void)
{
    double sb, st, cb;
    memory_per_client(&sb, &st, &cb);
    /* Marginal: what one more connection adds. Total: everything the
     * server holds (bus, tables, ENet's preallocated peer slots sized by
     * max_connections = the client count here) divided by the clients. */
    value("net.hive.server_bytes_per_idle_client", sb, "bytes");
    value("net.hive.server_total_bytes_per_client", st, "bytes");
    value("net.hive.client_bytes_per_idle_client", cb, "bytes");
}

int main(void)
{
    const char *e = getenv("HIVE_BENCH_N");
    if (e && atol(e) > 0) N = atol(e);
    e = getenv("HIVE_BENCH_K");
    if (e && atol(e) > 0) K = atol(e);
    only = getenv("HIVE_BENCH_ONLY");
    if (enet_initialize() != 0) return 1;
    if (run_part("throughput")) part_throughput();
    if (run_part("resume")) part_resume();
    if (run_part("rtt")) part_rtt();
    if (run_part("memory")) part_memory();
    return 0;
}
