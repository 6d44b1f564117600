/*
 * hive-soak - N clients exchange reliable and unreliable messages with one
 * server for T seconds over one transport, and every reliable message is
 * checked: it must arrive exactly once and in order, in both directions.
 *
 *   hive-soak [--transport enet|tcp|tls|enet+tls] [--clients N] [--seconds T]
 *             [--rate MSGS_PER_SEC] [--cert F --key F --ca F]   (TLS transports)
 *
 * The server runs in this process and the clients in a forked child, so
 * the server's memory, counted through hive_set_allocator, is the
 * server's alone. The child reports what it sent and what it saw on a
 * pipe. Output, one figure a line (`hive-bench` lines, as the benchmarks):
 *
 *   hive-bench soak.<transport>.reliable_sent value=<n> unit=msgs
 *   hive-bench soak.<transport>.reliable_lost value=<n> unit=msgs
 *   hive-bench soak.<transport>.reliable_duplicated value=<n> unit=msgs
 *   hive-bench soak.<transport>.reliable_out_of_order value=<n> unit=msgs
 *   hive-bench soak.<transport>.resumes value=<n> unit=count
 *   hive-bench soak.<transport>.server_peak_bytes value=<n> unit=bytes
 *   (and unreliable_sent / unreliable_received, for information)
 *
 * Exit status 0 only when every client joined and no reliable message was
 * lost, duplicated or reordered. How a message is judged: each stream (a
 * direction of one client's connection) numbers its reliable messages
 * from 0. The receiver marks each number seen: a number seen before is a
 * duplicate; a number below the highest seen so far is out of order; a
 * number sent and never seen is lost.
 *
 * Each client stops sending after T seconds and sends `soak:done`; the
 * server answers with its own `soak:done` after everything it echoed,
 * so when a client has that answer both directions are drained (reliable
 * streams are ordered). Clients reconnect and resume after a lost link
 * (the simulator's cut_every): `resumes` counts the sessions the server
 * gave back, and the exactly-once check runs across them. A session that
 * could not be resumed fails the soak.
 */
#include <hive/hive.h>
#include "tests/support/countalloc.h"   /* the same counting allocator the tests bound memory with */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 256

/* ------------------------------------------------------------------ */
/* One stream's receive check                                           */
/* ------------------------------------------------------------------ */

typedef struct stream {
    uint8_t *seen;
    size_t cap;
    uint64_t distinct, dups, ooo, highest;
    bool any;
} stream;

static bool stream_note(stream *s, uint64_t seq)
{
    if (seq > 100000000u) return false;   /* nonsense: count it as lost data */
    if (seq >= s->cap) {
        size_t n = s->cap ? s->cap : 4096;
        while (n <= seq) n *= 2;
        uint8_t *p = realloc(s->seen, n);
        if (!p) return false;
        memset(p + s->cap, 0, n - s->cap);
        s->seen = p;
        s->cap = n;
    }
    if (s->seen[seq]) { s->dups++; return true; }
    s->seen[seq] = 1;
    s->distinct++;
    if (s->any && seq < s->highest) s->ooo++;
    if (!s->any || seq > s->highest) s->highest = seq;
    s->any = true;
    return true;
}

/* ------------------------------------------------------------------ */
/* Options                                                              */
/* ------------------------------------------------------------------ */

typedef struct opts {
    const char *transport;
    int clients;
    int seconds;
    int rate;
    int inject_loss, inject_dup;   /* checking the checker: every Nth echo skipped / sent twice */
    hive_tls_config tls_srv, tls_cli;
    const char *netsim;            /* the clients' network simulator spec, or NULL */
} opts;

static opts O;

static void usage(FILE *f)
{
    fprintf(f, "usage: hive-soak [--transport enet|tcp|tls|enet+tls] [--clients N] [--seconds T]\n"
               "                 [--rate MSGS_PER_SEC] [--cert FILE --key FILE --ca FILE]\n"
               "                 [--inject-loss N | --inject-dup N] [--netsim SPEC]\n"
               "Defaults: enet, 4 clients, 10 s, 200 reliable and 200 unreliable messages a second\n"
               "each way per client. TLS transports need --cert, --key (the server's) and --ca.\n"
               "--inject-loss N / --inject-dup N make the server skip / repeat every Nth reliable\n"
               "echo, to show that the check catches it (the soak must then fail).\n"
               "--netsim SPEC runs every client's link through Hive's network simulator (the\n"
               "HIVE_NETSIM syntax, e.g. \"latency=1000ms,jitter=100ms,loss=25%%,dup=25%%\"); the\n"
               "server's own HIVE_NETSIM is ignored so the impairment is applied once.\n");
}

static int parse_int(const char *flag, const char *v, int lo, int hi)
{
    char *end;
    errno = 0;
    long n = v ? strtol(v, &end, 10) : 0;
    if (!v || errno || *end || n < lo || n > hi) {
        fprintf(stderr, "hive-soak: %s wants a whole number from %d to %d, got \"%s\"\n", flag, lo, hi,
                v ? v : "");
        exit(2);
    }
    return (int)n;
}

static void parse(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->transport = "enet";
    o->clients = 4;
    o->seconds = 10;
    o->rate = 200;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); exit(0); }
        else if (!strcmp(a, "--transport") && v) { o->transport = v; i++; }
        else if (!strcmp(a, "--clients")) { o->clients = parse_int(a, v, 1, MAX_CLIENTS); i++; }
        else if (!strcmp(a, "--seconds")) { o->seconds = parse_int(a, v, 1, 86400); i++; }
        else if (!strcmp(a, "--rate")) { o->rate = parse_int(a, v, 1, 10000); i++; }
        else if (!strcmp(a, "--inject-loss")) { o->inject_loss = parse_int(a, v, 1, 1000000); i++; }
        else if (!strcmp(a, "--inject-dup")) { o->inject_dup = parse_int(a, v, 1, 1000000); i++; }
        else if (!strcmp(a, "--cert") && v) { o->tls_srv.cert_file = v; i++; }
        else if (!strcmp(a, "--key") && v) { o->tls_srv.key_file = v; i++; }
        else if (!strcmp(a, "--ca") && v) { o->tls_cli.ca_file = v; i++; }
        else if (!strcmp(a, "--netsim") && v) { o->netsim = v; i++; }
        else { fprintf(stderr, "hive-soak: unknown or incomplete option \"%s\"\n", a); usage(stderr); exit(2); }
    }
    const char *t = o->transport;
    bool tls = !strcmp(t, "tls") || !strcmp(t, "enet+tls");
    if (!tls && strcmp(t, "enet") && strcmp(t, "tcp")) {
        fprintf(stderr, "hive-soak: --transport must be enet, tcp, tls or enet+tls, not \"%s\"\n", t);
        exit(2);
    }
    if (tls && (!o->tls_srv.cert_file || !o->tls_srv.key_file || !o->tls_cli.ca_file)) {
        fprintf(stderr, "hive-soak: --transport %s needs --cert, --key and --ca (make certs makes some)\n", t);
        exit(2);
    }
}

static uint64_t now_ms(void) { return hive_now_ns() / 1000000u; }

static int pack_seq(hive_msg *m, uint64_t seq)
{
    hive_msg_reset(m);
    return hive_msg_array(m, 1) < 0 || hive_msg_uint(m, seq) < 0 ? -1 : 0;
}

/* The one number in a recv event's [seq] body, or -1. */
static int64_t event_seq(const hive_event *ev)
{
    hive_msg_view v;
    const msgpack_object *o;
    int64_t r = -1;
    if (hive_event_msg(ev, &v, &o) == 0 && o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size == 1 &&
        o->via.array.ptr[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        r = (int64_t)o->via.array.ptr[0].via.u64;
    hive_msg_view_free(&v);
    return r;
}

/* ------------------------------------------------------------------ */
/* The server (parent)                                                  */
/* ------------------------------------------------------------------ */

typedef struct peer {
    hive_cid cid;
    stream in;            /* client -> server reliable */
    uint64_t sent;        /* server -> client reliable */
    uint64_t unrel_in;
    bool done, closed;
} peer;

typedef struct server_side {
    hive_server *srv;
    peer peers[MAX_CLIENTS];
    int npeers, closed;
    uint64_t bad;         /* bodies that were not [seq] */
    hive_msg m;
} server_side;

static peer *peer_of(server_side *S, hive_cid cid)
{
    for (int i = 0; i < S->npeers; i++)
        if (S->peers[i].cid == cid) return &S->peers[i];
    if (S->npeers == MAX_CLIENTS) return NULL;
    peer *p = &S->peers[S->npeers++];
    memset(p, 0, sizeof *p);
    p->cid = cid;
    return p;
}

static void srv_rel(const hive_event *ev, void *u)
{
    server_side *S = u;
    peer *p = peer_of(S, (hive_cid)hive_event_int(ev, "cid", 0));
    int64_t seq = event_seq(ev);
    if (!p || seq < 0 || !stream_note(&p->in, (uint64_t)seq)) { S->bad++; return; }
    /* Echo on the server's own numbering for this client. */
    if (O.inject_loss && p->sent % (uint64_t)O.inject_loss == (uint64_t)O.inject_loss - 1) {
        p->sent++;   /* numbered, never sent: the client must count it lost */
        return;
    }
    if (pack_seq(&S->m, p->sent) == 0 && hive_server_send_msg(S->srv, p->cid, "soak:rel", &S->m) == HIVE_OK) {
        if (O.inject_dup && p->sent % (uint64_t)O.inject_dup == (uint64_t)O.inject_dup - 1)
            hive_server_send_msg(S->srv, p->cid, "soak:rel", &S->m);
        p->sent++;
    }
}

static void srv_unrel(const hive_event *ev, void *u)
{
    server_side *S = u;
    peer *p = peer_of(S, (hive_cid)hive_event_int(ev, "cid", 0));
    if (p) p->unrel_in++;
    /* One unreliable message back for each: both directions carry both kinds. */
    if (p && pack_seq(&S->m, p->unrel_in) == 0) hive_server_send_msg(S->srv, p->cid, "soak:unrel", &S->m);
}

static void srv_done(const hive_event *ev, void *u)
{
    server_side *S = u;
    peer *p = peer_of(S, (hive_cid)hive_event_int(ev, "cid", 0));
    if (!p) return;
    p->done = true;
    if (pack_seq(&S->m, p->sent) == 0) hive_server_send_msg(S->srv, p->cid, "soak:done", &S->m);
}

static void srv_close(const hive_event *ev, void *u)
{
    server_side *S = u;
    peer *p = peer_of(S, (hive_cid)hive_event_int(ev, "cid", 0));
    if (p && !p->closed) { p->closed = true; S->closed++; }
    const char *why = hive_event_str(ev, "reason_name");
    if (why && strcmp(why, "normal"))
        fprintf(stderr, "hive-soak: server: cid %lld closed: %s %s\n", (long long)hive_event_int(ev, "cid", 0),
                why, hive_event_str(ev, "message") ? hive_event_str(ev, "message") : "");
}

/* ------------------------------------------------------------------ */
/* The clients (child)                                                  */
/* ------------------------------------------------------------------ */

typedef struct client_side {
    hive_client *cli;
    hive_bus *bus;
    stream in;                    /* server -> client reliable */
    uint64_t sent, unrel_sent, unrel_in;
    int64_t server_sent;          /* from the server's soak:done, -1 until then */
    bool failed;
    bool done_out;                /* our soak:done went out (retried across reconnects) */
    hive_msg m;
} client_side;

static void cli_rel(const hive_event *ev, void *u)
{
    client_side *C = u;
    int64_t seq = event_seq(ev);
    if (seq < 0 || !stream_note(&C->in, (uint64_t)seq)) C->failed = true;
}
static void cli_unrel(const hive_event *ev, void *u) { (void)ev; ((client_side *)u)->unrel_in++; }
static void cli_done(const hive_event *ev, void *u) { ((client_side *)u)->server_sent = event_seq(ev); }
static void cli_close(const hive_event *ev, void *u)
{
    client_side *C = u;
    const char *why = hive_event_str(ev, "reason_name");
    if (C->server_sent < 0) {
        C->failed = true;
        fprintf(stderr, "hive-soak: client: closed before the end: %s %s\n", why ? why : "?",
                hive_event_str(ev, "message") ? hive_event_str(ev, "message") : "");
    }
}

/* A session that could not be resumed lost what was in flight: a failure. */
static void cli_invalidated(const hive_event *ev, void *u)
{
    client_side *C = u;
    C->failed = true;
    fprintf(stderr, "hive-soak: client: session %lld not resumed: %s\n", (long long)hive_event_int(ev, "old_cid", 0),
            hive_event_str(ev, "message") ? hive_event_str(ev, "message") : "");
}

static int run_clients(const opts *o, uint16_t port, int out_fd)
{
    static client_side C[MAX_CLIENTS];
    char addr[128];
    snprintf(addr, sizeof addr, "%s://%s:%u", o->transport,
             strstr(o->transport, "tls") ? "localhost" : "127.0.0.1", port);
    for (int i = 0; i < o->clients; i++) {
        /* Under a simulated bad network a peer may fall silent for
         * seconds behind one retransmitted frame: the timeouts allow it. */
        hive_client_config cfg = { .app = "hive-soak", .conntype = "soak", .tls = o->tls_cli,
                                   .netsim = o->netsim,
                                   .reconnect_attempts = 1000, .reconnect_delay_ms = 20,
                                   .reconnect_max_delay_ms = 500,
                                   .heartbeat_timeout_ms = o->netsim ? 60000 : 0,
                                   .handshake_timeout_ms = o->netsim ? 60000 : 0 };
        C[i].server_sent = -1;
        hive_msg_init(&C[i].m);
        /* Each client has its own bus: the events say nothing of which
         * client they are about beyond the `client` pointer. */
        hive_bus *b = C[i].bus = hive_bus_create(NULL);
        C[i].cli = b ? hive_client_create(&cfg, b) : NULL;
        if (!C[i].cli) { fprintf(stderr, "hive-soak: client create: %s\n", hive_create_error()->message); return 1; }
        hive_bus_subscribe(b, "net:client.recv.soak:rel", cli_rel, &C[i], NULL);
        hive_bus_subscribe(b, "net:client.recv.soak:unrel", cli_unrel, &C[i], NULL);
        hive_bus_subscribe(b, "net:client.recv.soak:done", cli_done, &C[i], NULL);
        hive_bus_subscribe(b, HIVE_EV_CLIENT_CLOSE, cli_close, &C[i], NULL);
        hive_bus_subscribe(b, HIVE_EV_CLIENT_SESSION_INVALIDATED, cli_invalidated, &C[i], NULL);
        if (hive_client_connect(C[i].cli, addr) != HIVE_OK) { C[i].failed = true; continue; }
    }
    uint64_t t0 = now_ms(), joined_by = t0 + (o->netsim ? 60000 : 10000);
    for (int i = 0; i < o->clients; i++) {
        while (!C[i].failed && hive_client_get_state(C[i].cli) != HIVE_CLIENT_OPEN && now_ms() < joined_by) {
            for (int j = 0; j < o->clients; j++)
                if (hive_client_get_state(C[j].cli) != HIVE_CLIENT_IDLE) hive_client_service(C[j].cli, 0);
            usleep(1000);
        }
        if (hive_client_get_state(C[i].cli) != HIVE_CLIENT_OPEN) {
            fprintf(stderr, "hive-soak: client %d did not join\n", i);
            C[i].failed = true;
        }
    }
    uint64_t start = now_ms(), stop_at = start + (uint64_t)o->seconds * 1000u;
    bool done_sent = false;
    uint64_t drain_by = 0;
    for (;;) {
        uint64_t now = now_ms();
        bool all_in = true;
        for (int i = 0; i < o->clients; i++) {
            client_side *c = &C[i];
            if (c->failed) continue;
            /* One that is reconnecting has not had everything yet. */
            if (hive_client_get_state(c->cli) != HIVE_CLIENT_OPEN) {
                all_in = false;
                continue;
            }
            if (now < stop_at) {
                uint64_t due = (now - start) * (uint64_t)o->rate / 1000u;
                while (c->sent < due && pack_seq(&c->m, c->sent) == 0 &&
                       hive_client_send_msg(c->cli, "soak:rel", &c->m) == HIVE_OK) {
                    c->sent++;
                    if (pack_seq(&c->m, c->unrel_sent) == 0 &&
                        hive_client_send_msg(c->cli, "soak:unrel", &c->m) == HIVE_OK)
                        c->unrel_sent++;
                }
            } else if (!c->done_out && pack_seq(&c->m, c->sent) == 0 &&
                       hive_client_send_msg(c->cli, "soak:done", &c->m) == HIVE_OK) {
                c->done_out = true;   /* a send while reconnecting fails: tried again */
            }
            if (!c->done_out || c->server_sent < 0 || (int64_t)c->in.distinct + (int64_t)c->in.dups < c->server_sent)
                all_in = false;
        }
        if (now >= stop_at && !done_sent) {
            done_sent = true;
            drain_by = now + (o->netsim ? 120000 : 30000);
        }
        for (int i = 0; i < o->clients; i++)
            if (hive_client_get_state(C[i].cli) != HIVE_CLIENT_IDLE) hive_client_service(C[i].cli, 0);
        if (done_sent && (all_in || now > drain_by)) break;
        usleep(500);
    }
    /* Report, then leave. */
    uint64_t sent = 0, distinct = 0, dups = 0, ooo = 0, unrel_sent = 0, unrel_in = 0, lost = 0, failed = 0;
    for (int i = 0; i < o->clients; i++) {
        client_side *c = &C[i];
        sent += c->sent;
        unrel_sent += c->unrel_sent;
        unrel_in += c->unrel_in;
        dups += c->in.dups;
        ooo += c->in.ooo;
        distinct += c->in.distinct;
        if (c->server_sent < 0) failed++;
        else if ((uint64_t)c->server_sent > c->in.distinct) lost += (uint64_t)c->server_sent - c->in.distinct;
        if (c->failed) failed++;
    }
    char line[512];
    int n = snprintf(line, sizeof line,
                     "sent=%llu s2c_received=%llu s2c_lost=%llu s2c_dups=%llu s2c_ooo=%llu unrel_sent=%llu "
                     "unrel_received=%llu failed=%llu\n",
                     (unsigned long long)sent, (unsigned long long)distinct, (unsigned long long)lost,
                     (unsigned long long)dups, (unsigned long long)ooo, (unsigned long long)unrel_sent,
                     (unsigned long long)unrel_in, (unsigned long long)failed);
    ssize_t w = write(out_fd, line, (size_t)n);
    (void)w;
    for (int i = 0; i < o->clients; i++) {
        if (C[i].cli && hive_client_get_state(C[i].cli) == HIVE_CLIENT_OPEN) {
            hive_client_close(C[i].cli, HIVE_CLOSE_NORMAL, "soak over");
            hive_client_wait_closed(C[i].cli, 3000);
        }
        hive_client_destroy(C[i].cli);
        hive_msg_free(&C[i].m);
        hive_bus_destroy(C[i].bus);
        free(C[i].in.seen);
    }
    return 0;
}

/* ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    parse(argc, argv, &O);
    opts o = O;
    signal(SIGPIPE, SIG_IGN);
    countalloc_reset();
    hive_set_allocator(&countalloc);

    static server_side S;
    hive_msg_init(&S.m);
    hive_bus *bus = hive_bus_create(NULL);
    char addr[64];
    snprintf(addr, sizeof addr, "%s://127.0.0.1:0", o.transport);
    /* The soak's clients join at once, all from one address. */
    hive_server_config cfg = { .addr = addr, .app = "hive-soak", .max_connections = (uint32_t)o.clients + 4,
                               .tls = o.tls_srv, .netsim = "off",
                               /* a close cut in flight at the end waits out the window: keep it short */
                               .resume_window_ms = o.netsim ? 10000 : 0,
                               .heartbeat_timeout_ms = o.netsim ? 60000 : 0,
                               .handshake_timeout_ms = o.netsim ? 60000 : 0,
                               /* every soak client is on 127.0.0.1 */
                               .max_handshakes = (uint32_t)o.clients + 4,
                               .max_handshakes_per_addr = (uint32_t)o.clients + 4,
                               .max_peers_per_addr = HIVE_MAX_PEERS_PER_ADDR };
    S.srv = bus ? hive_server_create(&cfg, bus) : NULL;
    if (!S.srv) { fprintf(stderr, "hive-soak: server create: %s\n", hive_create_error()->message); return 1; }
    if (hive_server_register(S.srv, "soak:rel", 0, HIVE_RELIABLE) < 0 ||
        hive_server_register(S.srv, "soak:unrel", 0, HIVE_UNRELIABLE) < 0 ||
        hive_server_register(S.srv, "soak:done", 0, HIVE_RELIABLE) < 0) return 1;
    hive_bus_subscribe(bus, "net:server.recv.soak:rel", srv_rel, &S, NULL);
    hive_bus_subscribe(bus, "net:server.recv.soak:unrel", srv_unrel, &S, NULL);
    hive_bus_subscribe(bus, "net:server.recv.soak:done", srv_done, &S, NULL);
    hive_bus_subscribe(bus, HIVE_EV_SERVER_CLOSE, srv_close, &S, NULL);
    int rc = hive_server_start(S.srv);
    if (rc != HIVE_OK) { fprintf(stderr, "hive-soak: start: %s\n", hive_err_name(rc)); return 1; }
    uint16_t port = hive_server_port(S.srv);

    int fds[2];
    if (pipe(fds) != 0) return 1;
    fflush(NULL);
    pid_t child = fork();
    if (child < 0) return 1;
    if (child == 0) {
        /* The child must not touch the parent's server: it only dials. */
        close(fds[0]);
        _exit(run_clients(&o, port, fds[1]));
    }
    close(fds[1]);

    uint64_t deadline = now_ms() + (uint64_t)o.seconds * 1000u + (o.netsim ? 200000u : 60000u);
    int status = 0;
    bool reaped = false;
    while (now_ms() < deadline) {
        hive_server_service(S.srv, 5);
        if (!reaped && waitpid(child, &status, WNOHANG) == child) reaped = true;
        if (reaped && S.closed >= S.npeers) break;
    }
    if (!reaped) {
        kill(child, SIGKILL);
        waitpid(child, &status, 0);
        fprintf(stderr, "hive-soak: the clients did not finish in time\n");
    }
    char rep[512] = { 0 };
    ssize_t got = read(fds[0], rep, sizeof rep - 1);
    close(fds[0]);
    unsigned long long c_sent = 0, s2c_in = 0, s2c_lost = 0, s2c_dups = 0, s2c_ooo = 0, u_sent = 0, u_in = 0,
                       c_failed = 1;
    bool report = got > 0 && sscanf(rep, "sent=%llu s2c_received=%llu s2c_lost=%llu s2c_dups=%llu s2c_ooo=%llu "
                                         "unrel_sent=%llu unrel_received=%llu failed=%llu",
                                    &c_sent, &s2c_in, &s2c_lost, &s2c_dups, &s2c_ooo, &u_sent, &u_in,
                                    &c_failed) == 8;

    uint64_t s_sent = 0, c2s_in = 0, c2s_dups = 0, c2s_ooo = 0, u_srv_in = 0;
    for (int i = 0; i < S.npeers; i++) {
        s_sent += S.peers[i].sent;
        c2s_in += S.peers[i].in.distinct;
        c2s_dups += S.peers[i].in.dups;
        c2s_ooo += S.peers[i].in.ooo;
        u_srv_in += S.peers[i].unrel_in;
        free(S.peers[i].in.seen);
    }
    uint64_t c2s_lost = c_sent > c2s_in ? c_sent - c2s_in : 0;
    uint64_t lost = c2s_lost + s2c_lost, dups = c2s_dups + s2c_dups + S.bad, ooo = c2s_ooo + s2c_ooo;
    const char *t = o.transport;
    printf("hive-bench soak.%s.reliable_sent value=%llu unit=msgs\n", t, (unsigned long long)(c_sent + s_sent));
    printf("hive-bench soak.%s.reliable_lost value=%llu unit=msgs\n", t, (unsigned long long)lost);
    printf("hive-bench soak.%s.reliable_duplicated value=%llu unit=msgs\n", t, (unsigned long long)dups);
    printf("hive-bench soak.%s.reliable_out_of_order value=%llu unit=msgs\n", t, (unsigned long long)ooo);
    hive_net_stats ns;
    hive_server_stats(S.srv, &ns);
    printf("hive-bench soak.%s.resumes value=%llu unit=count\n", t, (unsigned long long)ns.resumes);
    printf("hive-bench soak.%s.server_peak_bytes value=%ld unit=bytes\n", t, countalloc_peak());
    printf("hive-bench soak.%s.unreliable_sent value=%llu unit=msgs\n", t, u_sent + (unsigned long long)u_srv_in);
    printf("hive-bench soak.%s.unreliable_received value=%llu unit=msgs\n", t,
           (unsigned long long)u_srv_in + u_in);

    hive_server_destroy(S.srv);
    hive_msg_free(&S.m);
    hive_bus_destroy(bus);
    hive_set_allocator(NULL);

    bool ok = report && reaped && WIFEXITED(status) && WEXITSTATUS(status) == 0 && c_failed == 0 && lost == 0 &&
              dups == 0 && ooo == 0 && c_sent > 0;
    if (!report) fprintf(stderr, "hive-soak: no report from the clients\n");
    if (c_failed) fprintf(stderr, "hive-soak: %llu client(s) failed\n", c_failed);
    printf("soak %s: %s\n", t, ok ? "OK" : "FAILED");
    return ok ? 0 : 1;
}
