/* lg_core.c - hosts, players, ramps, send schedules and statistics. */
#include "tools/loadgen/lg_internal.h"

#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The loop wakes at least this often: sends are batched per wake, so an
 * input may leave up to one quantum late. Waking on every due send would
 * spin (4000 players at 30 Hz = one send every 8 us) and steal the CPU the
 * server needs on a 2-core machine. */
#define LG_QUANTUM_MS 2
/* Every host is serviced at least this often even when its socket is
 * quiet, so ENet's retransmits, acks and timeouts run. */
#define LG_IDLE_SERVICE_US 10000
/* At most this many enet_host_service rounds per host per wake (each
 * round receives up to 256 datagrams), so one busy host cannot starve
 * the others. */
#define LG_ROUNDS_PER_HOST 8

static void cfg_defaults(lg_config *c)
{
    if (!c->host) c->host = "127.0.0.1";
    if (c->clients <= 0) c->clients = 100;
    if (c->peers_per_host <= 0) c->peers_per_host = 1000;
    if (c->peers_per_host > ENET_PROTOCOL_MAXIMUM_PEER_ID) c->peers_per_host = ENET_PROTOCOL_MAXIMUM_PEER_ID;
    if (c->input_hz <= 0) c->input_hz = 30;
    if (c->ping_ms <= 0) c->ping_ms = 500;
    if (c->stall_ms <= 0) c->stall_ms = 250;
    if (c->connect_rate <= 0) c->connect_rate = 2000;
    if (c->disconnect_rate <= 0) c->disconnect_rate = 4000;
    if (c->connect_timeout_ms <= 0) c->connect_timeout_ms = 15000;
    if (c->close_timeout_ms <= 0) c->close_timeout_ms = 8000;
    if (!c->app) c->app = "hive-load";
    if (c->heartbeat_ms <= 0) c->heartbeat_ms = 1000;
    if (c->sockbuf <= 0) c->sockbuf = 4 << 20;
}

lg *lg_create(const lg_config *cfg)
{
    if (!cfg || !cfg->port) {
        fprintf(stderr, "loadgen: a server port is required\n");
        return NULL;
    }
    lg *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->cfg = *cfg;
    cfg_defaults(&g->cfg);
    g->proto = g->cfg.proto == LG_PROTO_HIVE ? &lg__proto_hive : &lg__proto_raw;
    g->nclients = g->cfg.clients;
    g->nhosts = (g->nclients + g->cfg.peers_per_host - 1) / g->cfg.peers_per_host;
    g->clients = calloc((size_t)g->nclients, sizeof *g->clients);
    g->hosts = calloc((size_t)g->nhosts, sizeof *g->hosts);
    if (!g->clients || !g->hosts) goto fail;
    lg_raise_nofile();
    for (int h = 0; h < g->nhosts; h++) {
        int peers = g->nclients - h * g->cfg.peers_per_host;
        if (peers > g->cfg.peers_per_host) peers = g->cfg.peers_per_host;
        /* 2 channels: Hive uses channel 0 reliable and 1 unreliable. */
        g->hosts[h] = enet_host_create(NULL, (size_t)peers, 2, 0, 0);
        if (!g->hosts[h]) {
            fprintf(stderr, "loadgen: enet_host_create failed for host %d\n", h);
            goto fail;
        }
        enet_socket_set_option(g->hosts[h]->socket, ENET_SOCKOPT_RCVBUF, g->cfg.sockbuf);
        enet_socket_set_option(g->hosts[h]->socket, ENET_SOCKOPT_SNDBUF, g->cfg.sockbuf);
    }
    for (int i = 0; i < g->nclients; i++) g->clients[i].host = i / g->cfg.peers_per_host;
    if (g->proto->init && g->proto->init(g) != 0) goto fail;
    return g;
fail:
    lg_destroy(g);
    return NULL;
}

static void client_release(lg *g, lg_client *c)
{
    if (c->peer) {
        c->peer->data = NULL;
        c->peer = NULL;
    }
    if (g->proto->client_free) g->proto->client_free(c);
}

void lg_destroy(lg *g)
{
    if (!g) return;
    for (int i = 0; g->clients && i < g->nclients; i++) {
        lg_client *c = &g->clients[i];
        if (c->peer) enet_peer_reset(c->peer);
        client_release(g, c);
    }
    for (int h = 0; g->hosts && h < g->nhosts; h++)
        if (g->hosts[h]) enet_host_destroy(g->hosts[h]);
    free(g->hosts);
    free(g->clients);
    if (g->proto->fini) g->proto->fini(g);
    free(g);
}

int lg_hosts(const lg *g) { return g ? g->nhosts : 0; }

int lg_starved(const lg *g)
{
    int n = 0;
    for (int i = 0; i < g->nclients; i++)
        if (g->clients[i].ever_open && g->clients[i].snaps == 0) n++;
    return n;
}
void lg_conn_stats_get(const lg *g, lg_conn_stats *out) { *out = g->cs; }

/* ------------------------------------------------------------------ */
/* Reports from the protocols                                           */
/* ------------------------------------------------------------------ */

void lg__ready(lg *g, lg_client *c)
{
    if (c->state != LG_CONNECTING && c->state != LG_HANDSHAKE) return;
    c->state = LG_OPEN;
    c->ever_open = true;
    c->last_snap_us = lg_now_us();
    g->cs.connected++;
    g->cs.open++;
}

/* Connect or handshake failure: the peer is dropped at once. */
static void client_fail(lg *g, lg_client *c, bool reset)
{
    if (reset && c->peer) enet_peer_reset(c->peer);
    client_release(g, c);
    c->state = LG_DONE;
    g->cs.failed++;
}

void lg__reject(lg *g, lg_client *c)
{
    g->cs.rejected++;
    if (c->state == LG_CONNECTING || c->state == LG_HANDSHAKE) client_fail(g, c, true);
}

void lg__snapshot(lg *g, lg_client *c, uint64_t server_ns)
{
    uint64_t now_ns = lg_now_ns(), now = now_ns / 1000;
    g->win.snapshots_recv++;
    c->snaps++;
    if (c->last_snap_us && now > c->last_snap_us) {
        uint64_t gap = now - c->last_snap_us;
        if (gap > g->win.max_gap_us) g->win.max_gap_us = gap;
        if (gap >= (uint64_t)g->cfg.stall_ms * 1000) g->win.stalls++;
    }
    c->last_snap_us = now;
    if (server_ns && now_ns >= server_ns && g->in_window)
        lg_hist_add(&g->win.snap_delay, (now_ns - server_ns) / 1000);
}

void lg__pong(lg *g, lg_client *c, uint64_t sent_ns)
{
    uint64_t now = lg_now_ns();
    g->win.pongs_recv++;
    if (sent_ns && now >= sent_ns && g->in_window) lg_hist_add(&g->win.rtt, (now - sent_ns) / 1000);
}

void lg__other(lg *g, lg_client *c) { g->win.other_recv++; }

int lg__send(lg *g, lg_client *c, const void *data, size_t len, bool reliable)
{
    return lg__send2(g, c, data, len, NULL, 0, reliable);
}

int lg__send2(lg *g, lg_client *c, const void *head, size_t hlen,
              const void *body, size_t blen, bool reliable)
{
    if (!c->peer) return -1;
    size_t len = hlen + blen;
    ENetPacket *p = enet_packet_create(NULL, len, reliable ? ENET_PACKET_FLAG_RELIABLE : 0);
    if (!p) return -1;
    memcpy(p->data, head, hlen);
    if (blen) memcpy(p->data + hlen, body, blen);
    if (enet_peer_send(c->peer, reliable ? 0 : 1, p) < 0) {
        enet_packet_destroy(p);
        return -1;
    }
    g->win.bytes_sent += len;
    c->last_tx_us = lg_now_us();
    return 0;
}

/* ------------------------------------------------------------------ */
/* Events                                                               */
/* ------------------------------------------------------------------ */

static void proto_error(lg *g, lg_client *c)
{
    g->cs.proto_errors++;
    if (c->state == LG_OPEN) {
        g->cs.open--;
        g->cs.dropped++;
        enet_peer_reset(c->peer);
        client_release(g, c);
        c->state = LG_DONE;
    } else if (c->state == LG_CONNECTING || c->state == LG_HANDSHAKE) {
        client_fail(g, c, true);
    }
}

static void handle(lg *g, ENetEvent *ev)
{
    lg_client *c = ev->peer ? ev->peer->data : NULL;
    switch (ev->type) {
    case ENET_EVENT_TYPE_CONNECT:
        if (!c || c->state != LG_CONNECTING) break;
        c->state = LG_HANDSHAKE;
        if (g->proto->on_connect(g, c) < 0) proto_error(g, c);
        break;
    case ENET_EVENT_TYPE_RECEIVE:
        if (c && c->state != LG_DONE) {
            g->win.bytes_recv += ev->packet->dataLength;
            if (g->proto->on_packet(g, c, ev->packet->data, ev->packet->dataLength) < 0)
                proto_error(g, c);
        }
        enet_packet_destroy(ev->packet);
        break;
    case ENET_EVENT_TYPE_DISCONNECT:
        if (!c) break;
        /* ENet resets the peer itself after this event. */
        if (c->state == LG_CLOSING) {
            g->cs.closed_clean++;
        } else if (c->state == LG_OPEN) {
            g->cs.open--;
            g->cs.dropped++;
            /* Hive tags its close reason onto ENet's disconnect data. */
            int r = c->close_reason;
            if (r < 0 && (ev->data & 0xFFFF0000u) == 0x48560000u) r = (int)(ev->data & 0xFFFFu);
            g->cs.drop_reason[r >= 0 && r < LG_REASONS - 1 ? r + 1 : 0]++;
        } else if (c->state == LG_CONNECTING || c->state == LG_HANDSHAKE) {
            client_release(g, c);
            c->state = LG_DONE;
            g->cs.failed++;
            break;
        }
        client_release(g, c);
        c->state = LG_DONE;
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------------ */
/* The loop                                                             */
/* ------------------------------------------------------------------ */

/* Send what the schedules say is due. A schedule is an endless
 * round-robin over the players: position k belongs to player k % n, and
 * positions come at rate * n per second, so every player sends at `rate`
 * with the sends evenly spread. Falling more than one round behind skips
 * ahead (counted) instead of bursting. */
static void run_schedule(lg *g, double rate, uint64_t *done, bool ping, uint64_t now_ns)
{
    uint64_t n = (uint64_t)g->nclients;
    double el = (double)(now_ns - g->sched_t0_ns) / 1e9;
    uint64_t target = (uint64_t)(el * rate * (double)n);
    if (target > *done + n) {
        g->win.lag_skips += target - n - *done;
        *done = target - n;
    }
    for (; *done < target; (*done)++) {
        lg_client *c = &g->clients[*done % n];
        if (c->state != LG_OPEN) continue;
        int rc;
        if (ping) {
            rc = g->proto->send_ping(g, c, now_ns);
            if (rc == 0) g->win.pings_sent++;
        } else {
            rc = g->proto->send_input(g, c);
            if (rc == 0) g->win.inputs_sent++;
        }
        if (rc < 0) proto_error(g, c);
    }
}

/* Heartbeat, as hive_client does: a player that has sent nothing for
 * heartbeat_ms (idle, or between inputs slower than that) sends a ping,
 * so the server's heartbeat timeout hears from it. Checked every 100 ms. */
static void heartbeats(lg *g, uint64_t now_ns)
{
    uint64_t now = now_ns / 1000;
    if (now - g->last_hb_check_us < 100000) return;
    g->last_hb_check_us = now;
    uint64_t hb = (uint64_t)g->cfg.heartbeat_ms * 1000;
    for (int i = 0; i < g->nclients; i++) {
        lg_client *c = &g->clients[i];
        if (c->state != LG_OPEN || now - c->last_tx_us < hb) continue;
        if (g->proto->send_ping(g, c, now_ns) < 0) proto_error(g, c);
        else g->win.pings_sent++;
    }
}

static void service_host(lg *g, int h)
{
    ENetEvent ev;
    for (int round = 0; round < LG_ROUNDS_PER_HOST; round++) {
        int r = enet_host_service(g->hosts[h], &ev, 0);
        if (r <= 0) break;
        do handle(g, &ev);
        while (enet_host_check_events(g->hosts[h], &ev) > 0);
    }
}

/* One wake: due sends, flush, wait for input up to the next quantum (or
 * deadline), then service readable hosts and any host quiet too long. */
static void step(lg *g, uint64_t deadline_us, uint64_t *last_service)
{
    uint64_t now_ns = lg_now_ns();
    if (g->active) {
        run_schedule(g, g->cfg.input_hz, &g->input_done, false, now_ns);
        run_schedule(g, 1000.0 / g->cfg.ping_ms, &g->ping_done, true, now_ns);
    }
    heartbeats(g, now_ns);
    for (int h = 0; h < g->nhosts; h++) enet_host_flush(g->hosts[h]);

    struct pollfd pfd[64];
    int np = g->nhosts < 64 ? g->nhosts : 64;
    for (int h = 0; h < np; h++) pfd[h] = (struct pollfd){ .fd = g->hosts[h]->socket, .events = POLLIN };
    uint64_t now = now_ns / 1000;
    int wait = LG_QUANTUM_MS;
    if (deadline_us <= now) wait = 0;
    else if (deadline_us - now < (uint64_t)wait * 1000) wait = (int)((deadline_us - now) / 1000);
    uint64_t busy = now - now_ns / 1000;
    poll(pfd, (nfds_t)np, wait);
    uint64_t woke = lg_now_us();
    now = woke;
    for (int h = 0; h < g->nhosts; h++) {
        bool readable = h >= np || (pfd[h].revents & POLLIN);
        if (readable || now - last_service[h] >= LG_IDLE_SERVICE_US) {
            service_host(g, h);
            last_service[h] = now;
        }
    }
    busy += lg_now_us() - woke;
    if (busy > g->win.max_step_us) g->win.max_step_us = busy;
}

typedef bool (*lg_until_fn)(lg *g, void *user);

/* Step until `done` says so or ms elapse. Returns true when done. */
static bool run_until(lg *g, int ms, lg_until_fn done, void *user,
                      void (*each)(lg *g, uint64_t now_us, void *user))
{
    uint64_t t0 = lg_now_us(), deadline = t0 + (uint64_t)ms * 1000;
    uint64_t *last = calloc((size_t)g->nhosts, sizeof *last);
    bool ok = false;
    for (;;) {
        uint64_t now = lg_now_us();
        if (each) each(g, now, user);
        if (done && done(g, user)) { ok = true; break; }
        if (now >= deadline) break;
        step(g, deadline, last ? last : &(uint64_t){ 0 });
    }
    free(last);
    return ok;
}

void lg_run(lg *g, int ms) { run_until(g, ms, NULL, NULL, NULL); }

void lg_set_active(lg *g, bool on)
{
    if (on && !g->active) {
        g->sched_t0_ns = lg_now_ns();
        g->input_done = g->ping_done = 0;
    }
    g->active = on;
}

/* ---- ramp-up ---- */

typedef struct ramp {
    uint64_t t0;
    int next;     /* next player index to start or stop */
    int rate;
    int timeout_ms;
} ramp;

static void connect_due(lg *g, uint64_t now, void *user)
{
    ramp *r = user;
    uint64_t due = (now - r->t0) * (uint64_t)r->rate / 1000000 + 1;
    ENetAddress addr;
    enet_address_set_host(&addr, g->cfg.host);
    addr.port = g->cfg.port;
    while (r->next < g->nclients && (uint64_t)r->next < due) {
        lg_client *c = &g->clients[r->next++];
        c->peer = enet_host_connect(g->hosts[c->host], &addr, 2, 0);
        g->cs.attempted++;
        if (!c->peer) {
            c->state = LG_DONE;
            g->cs.failed++;
            continue;
        }
        c->peer->data = c;
        c->close_reason = -1;
        c->state = LG_CONNECTING;
        c->started_us = now;
    }
    /* Handshakes that take too long count as failed. */
    for (int i = 0; i < r->next; i++) {
        lg_client *c = &g->clients[i];
        if ((c->state == LG_CONNECTING || c->state == LG_HANDSHAKE) &&
            now - c->started_us > (uint64_t)r->timeout_ms * 1000)
            client_fail(g, c, true);
    }
}

static bool all_settled(lg *g, void *user)
{
    ramp *r = user;
    return r->next >= g->nclients && g->cs.connected + g->cs.failed >= g->nclients;
}

int lg_connect_all(lg *g, int timeout_ms)
{
    ramp r = { .t0 = lg_now_us(), .next = 0, .rate = g->cfg.connect_rate,
               .timeout_ms = g->cfg.connect_timeout_ms };
    run_until(g, timeout_ms, all_settled, &r, connect_due);
    /* Whatever is still pending at the deadline failed. */
    for (int i = 0; i < g->nclients; i++) {
        lg_client *c = &g->clients[i];
        if (c->state == LG_CONNECTING || c->state == LG_HANDSHAKE) client_fail(g, c, true);
        else if (c->state == LG_IDLE) { c->state = LG_DONE; g->cs.failed++; }
    }
    return g->cs.connected;
}

/* ---- ramp-down ---- */

static void disconnect_due(lg *g, uint64_t now, void *user)
{
    ramp *r = user;
    uint64_t due = (now - r->t0) * (uint64_t)r->rate / 1000000 + 1;
    while (r->next < g->nclients && (uint64_t)r->next < due) {
        lg_client *c = &g->clients[r->next++];
        if (c->state != LG_OPEN) continue;
        if (g->proto->send_close) g->proto->send_close(g, c);
        /* disconnect_later: queued packets (the close frame) go first. */
        enet_peer_disconnect_later(c->peer, 0);
        c->state = LG_CLOSING;
        g->cs.open--;
    }
}

static bool none_closing(lg *g, void *user)
{
    ramp *r = user;
    if (r->next < g->nclients) return false;
    for (int i = 0; i < g->nclients; i++)
        if (g->clients[i].state == LG_CLOSING) return false;
    return true;
}

int lg_disconnect_all(lg *g)
{
    int before = g->cs.closed_clean;
    g->active = false;
    ramp r = { .t0 = lg_now_us(), .next = 0, .rate = g->cfg.disconnect_rate };
    int ramp_ms = (int)(1000.0 * g->nclients / g->cfg.disconnect_rate);
    run_until(g, ramp_ms + g->cfg.close_timeout_ms, none_closing, &r, disconnect_due);
    for (int i = 0; i < g->nclients; i++) {
        lg_client *c = &g->clients[i];
        if (c->state == LG_CLOSING) {
            g->cs.closed_unclean++;
            enet_peer_reset(c->peer);
            client_release(g, c);
            c->state = LG_DONE;
        }
    }
    /* Let the last acknowledgements leave. */
    for (int h = 0; h < g->nhosts; h++) enet_host_flush(g->hosts[h]);
    return g->cs.closed_clean - before;
}

/* ---- windows ---- */

void lg_window_begin(lg *g)
{
    memset(&g->win, 0, sizeof g->win);
    g->win_t0_us = lg_now_us();
    g->win_cpu0 = lg_thread_cpu_ns();
    g->win_runq0 = lg_thread_runq_wait_ns();
    g->in_window = true;
    for (int i = 0; i < g->nclients; i++)
        if (g->clients[i].state == LG_OPEN) g->clients[i].last_snap_us = g->win_t0_us;
}

void lg_window_end(lg *g, lg_window *w)
{
    uint64_t now = lg_now_us();
    /* A player still waiting for a snapshot at the end is in a stall too. */
    for (int i = 0; i < g->nclients; i++) {
        lg_client *c = &g->clients[i];
        if (c->state != LG_OPEN || !c->last_snap_us) continue;
        uint64_t gap = now - c->last_snap_us;
        if (gap > g->win.max_gap_us) g->win.max_gap_us = gap;
        if (gap >= (uint64_t)g->cfg.stall_ms * 1000) g->win.stalls++;
    }
    g->in_window = false;
    g->win.seconds = (double)(now - g->win_t0_us) / 1e6;
    g->win.cpu_ns = lg_thread_cpu_ns() - g->win_cpu0;
    g->win.runq_wait_ns = lg_thread_runq_wait_ns() - g->win_runq0;
    *w = g->win;
}
