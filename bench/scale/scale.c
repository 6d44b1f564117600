/*
 * bench-scale - how many players one server process holds, and what each
 * costs, Hive against bare ENet doing the same broadcast.
 *
 * For each N (default 100, 1000, 4000) and each side (raw ENet, Hive):
 *   1. fork the load server (tools/loadgen/lg_server_*.c) with a counting
 *      allocator; it ticks at 30 Hz;
 *   2. connect N idle players (hive-loadgen core, in this process), settle,
 *      and read the server's live bytes: (after - before) / N is the memory
 *      per idle connection;
 *   3. switch on the 100-byte snapshot broadcast and the players' 30 Hz
 *      inputs and 2 Hz pings, warm up, then hold: the server's thread CPU
 *      over its ticks is the CPU per tick; pings give the round trip;
 *   4. ramp down and check every player closed cleanly.
 * The two sides alternate per N so that machine noise hits both alike.
 *
 * Output: `hive-bench <name> value=<v> unit=<u>` and
 * `hive-bench <name> ratio=<r> vs=<baseline>` lines, then a '#' table.
 *
 *   bench-scale [--quick] [--n 100,1000,4000] [--hold S] [--side raw|hive|both] [--reliable]
 *               [--raw-sockbuf BYTES] [--lazy-decode]
 *
 * The loadgen and the server share the machine's cores: on a 2-core
 * machine the loadgen's own cost limits what N can be held (see
 * docs/PERFORMANCE.md).
 */
#include "tools/loadgen/lg.h"
#include "tools/loadgen/lg_spawn.h"

#include "hive/net.h"

#include <enet/enet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct result {
    bool ran;
    int n, connected, failed, closed_clean, server_closed, dropped;
    int drop_reason[LG_REASONS];
    double cpu_tick_us, cpu_conn_ns, tick_hz;
    double mem_conn, rss_conn, peak_mem;
    double rtt50, rtt99, snap50, snap99;
    double inputs_s, inputs_in_s, snaps_s, expected_snaps_s;
    uint64_t stalls, late_ticks, drops;
    double lg_cpu, lg_runq, srv_runq;
} result;

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static int g_server_sockbuf;
static bool g_lazy_decode;

static int run_one(lg_server_kind kind, int n, double hold_s, bool reliable, result *r)
{
    memset(r, 0, sizeof *r);
    r->n = n;
    lg_server_config scfg = { .port = 0, .max_clients = n + 16, .count_alloc = true,
                              .reliable = reliable, .quiet = true,
                              .sockbuf = g_server_sockbuf, .lazy_decode = g_lazy_decode };
    lg_child ch;
    if (lg_spawn_server(&ch, kind, &scfg, 5000) != 0) {
        fprintf(stderr, "bench-scale: %s server did not start\n", kind == LG_SERVER_HIVE ? "hive" : "raw");
        return -1;
    }
    lg_server_shared *sh = ch.sh;
    sleep_ms(150);
    double mem0 = (double)atomic_load(&sh->live_bytes), rss0 = (double)atomic_load(&sh->rss_bytes);

    lg_config cfg = { .port = (uint16_t)atomic_load(&sh->port), .clients = n,
                      .proto = kind == LG_SERVER_HIVE ? LG_PROTO_HIVE : LG_PROTO_RAW,
                      .reliable = reliable };
    lg *g = lg_create(&cfg);
    if (!g) { lg_child_stop(&ch, NULL); return -1; }
    lg_connect_all(g, 30000);
    lg_run(g, 300);
    /* rss is refreshed once a second by the server */
    lg_run(g, 1000);
    double mem1 = (double)atomic_load(&sh->live_bytes), rss1 = (double)atomic_load(&sh->rss_bytes);

    atomic_store(&sh->broadcast, 1);
    lg_set_active(g, true);
    lg_run(g, 1000);

    lg_window w;
    uint64_t t0 = atomic_load(&sh->ticks), c0 = atomic_load(&sh->cpu_ns), l0 = atomic_load(&sh->late_ticks);
    uint64_t q0 = atomic_load(&sh->runq_ns), i0 = atomic_load(&sh->inputs);
    lg_window_begin(g);
    lg_run(g, (int)(hold_s * 1000));
    lg_window_end(g, &w);
    uint64_t t1 = atomic_load(&sh->ticks), c1 = atomic_load(&sh->cpu_ns), l1 = atomic_load(&sh->late_ticks);
    uint64_t q1 = atomic_load(&sh->runq_ns), i1 = atomic_load(&sh->inputs);
    lg_run(g, 1100);   /* the server samples its socket's drop count once a second */
    r->drops = atomic_load(&sh->sock_drops);
    atomic_store(&sh->broadcast, 0);
    lg_disconnect_all(g);
    lg_run(g, 200);

    lg_conn_stats cs;
    lg_conn_stats_get(g, &cs);
    r->ran = true;
    r->connected = cs.connected;
    r->failed = cs.failed;
    r->closed_clean = cs.closed_clean;
    r->dropped = cs.dropped;
    memcpy(r->drop_reason, cs.drop_reason, sizeof r->drop_reason);
    r->server_closed = (int)atomic_load(&sh->closed_normal);
    r->tick_hz = (double)(t1 - t0) / w.seconds;
    r->cpu_tick_us = t1 > t0 ? (double)(c1 - c0) / (double)(t1 - t0) / 1000.0 : 0;
    r->cpu_conn_ns = n ? r->cpu_tick_us * 1000.0 / n : 0;
    r->late_ticks = l1 - l0;
    r->mem_conn = cs.connected ? (mem1 - mem0) / cs.connected : 0;
    r->rss_conn = cs.connected ? (rss1 - rss0) / cs.connected : 0;
    r->rtt50 = lg_hist_percentile(&w.rtt, 50) / 1000.0;
    r->rtt99 = lg_hist_percentile(&w.rtt, 99) / 1000.0;
    r->snap50 = lg_hist_percentile(&w.snap_delay, 50) / 1000.0;
    r->snap99 = lg_hist_percentile(&w.snap_delay, 99) / 1000.0;
    r->inputs_s = w.inputs_sent / w.seconds;
    r->inputs_in_s = (double)(i1 - i0) / w.seconds;
    r->snaps_s = w.snapshots_recv / w.seconds;
    r->expected_snaps_s = 30.0 * cs.connected;
    r->stalls = w.stalls;
    r->lg_cpu = 100.0 * (double)w.cpu_ns / 1e9 / w.seconds;
    r->lg_runq = 100.0 * (double)w.runq_wait_ns / 1e9 / w.seconds;
    r->srv_runq = 100.0 * (double)(q1 - q0) / 1e9 / w.seconds;
    lg_destroy(g);
    lg_child_stop(&ch, NULL);
    return 0;
}

static void line(const char *side, int n, const char *metric, double v, const char *unit)
{
    printf("hive-bench scale.%s.n%d.%s value=%.6g unit=%s\n", side, n, metric, v, unit);
}

static void ratio(int n, const char *metric, double hive, double raw)
{
    if (raw > 0)
        printf("hive-bench scale.hive.n%d.%s ratio=%.3f vs=scale.raw.n%d.%s\n", n, metric, hive / raw, n, metric);
}

static void print_result(const char *side, const result *r)
{
    int n = r->n;
    line(side, n, "connected", r->connected, "clients");
    line(side, n, "failed", r->failed, "clients");
    line(side, n, "closed_clean", r->closed_clean, "clients");
    line(side, n, "dropped", r->dropped, "clients");
    line(side, n, "tick_rate", r->tick_hz, "Hz");
    line(side, n, "cpu_per_tick", r->cpu_tick_us, "us");
    line(side, n, "cpu_per_conn_tick", r->cpu_conn_ns, "ns");
    line(side, n, "mem_per_conn", r->mem_conn, "bytes");
    line(side, n, "rss_per_conn", r->rss_conn, "bytes");
    line(side, n, "rtt_p50", r->rtt50, "ms");
    line(side, n, "rtt_p99", r->rtt99, "ms");
    line(side, n, "snapshot_delay_p99", r->snap99, "ms");
    line(side, n, "snapshots_per_s", r->snaps_s, "msg/s");
    line(side, n, "inputs_per_s", r->inputs_s, "msg/s");
    line(side, n, "inputs_received_per_s", r->inputs_in_s, "msg/s");
    line(side, n, "stalls", (double)r->stalls, "count");
    line(side, n, "late_ticks", (double)r->late_ticks, "count");
    line(side, n, "server_socket_drops", (double)r->drops, "datagrams");
    line(side, n, "server_runq_wait", r->srv_runq, "percent");
    line(side, n, "loadgen_cpu", r->lg_cpu, "percent");
    line(side, n, "loadgen_runq_wait", r->lg_runq, "percent");
    fflush(stdout);
}

static int parse_list(const char *s, int *out, int max)
{
    int k = 0;
    while (*s && k < max) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v <= 0) return -1;
        out[k++] = (int)v;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return -1;
    }
    return k;
}

int main(int argc, char **argv)
{
    int ns[16] = { 100, 1000, 4000 }, nn = 3;
    double hold = 5;
    int sides = 3; /* bit 0 raw, bit 1 hive */
    bool reliable = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) { ns[0] = 100; ns[1] = 1000; nn = 2; hold = 2; }
        else if (!strcmp(argv[i], "--n") && i + 1 < argc) {
            nn = parse_list(argv[++i], ns, 16);
            if (nn <= 0) { fprintf(stderr, "bench-scale: bad --n list\n"); return 2; }
        }
        else if (!strcmp(argv[i], "--hold") && i + 1 < argc) hold = atof(argv[++i]);
        else if (!strcmp(argv[i], "--side") && i + 1 < argc) {
            const char *s = argv[++i];
            sides = !strcmp(s, "raw") ? 1 : !strcmp(s, "hive") ? 2 : 3;
        }
        else if (!strcmp(argv[i], "--reliable")) reliable = true;
        else if (!strcmp(argv[i], "--raw-sockbuf") && i + 1 < argc) g_server_sockbuf = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--lazy-decode")) g_lazy_decode = true;
        else {
            fprintf(stderr, "usage: bench-scale [--quick] [--n 100,1000,4000] [--hold S] [--side raw|hive|both] [--reliable] [--raw-sockbuf BYTES] [--lazy-decode]\n");
            return 2;
        }
    }
    if (hold < 0.5) hold = 0.5;
    if (enet_initialize() != 0) return 1;

    result raw[16], hv[16];
    for (int k = 0; k < nn; k++) {
        raw[k].ran = hv[k].ran = false;
        if (sides & 1) {
            if (run_one(LG_SERVER_RAW, ns[k], hold, reliable, &raw[k]) == 0) print_result("raw", &raw[k]);
        }
        if (sides & 2) {
            if (run_one(LG_SERVER_HIVE, ns[k], hold, reliable, &hv[k]) == 0) print_result("hive", &hv[k]);
        }
        if (raw[k].ran && hv[k].ran) {
            ratio(ns[k], "cpu_per_tick", hv[k].cpu_tick_us, raw[k].cpu_tick_us);
            ratio(ns[k], "cpu_per_conn_tick", hv[k].cpu_conn_ns, raw[k].cpu_conn_ns);
            ratio(ns[k], "mem_per_conn", hv[k].mem_conn, raw[k].mem_conn);
            ratio(ns[k], "rtt_p99", hv[k].rtt99, raw[k].rtt99);
        }
    }

    printf("#\n# %-5s %6s %9s %8s %9s %9s %10s %9s %8s %8s %9s %7s %10s %6s %6s %9s %8s %9s\n", "side", "N", "connected",
           "tick_hz", "cpu/tick", "ns/conn", "mem/conn", "rss/conn", "rtt p50", "rtt p99", "snap p99",
           "stalls", "snaps/s", "lg cpu", "lg runq", "srv drops", "srv runq", "inputs in");
    for (int k = 0; k < nn; k++) {
        const result *rs[2] = { &raw[k], &hv[k] };
        const char *names[2] = { "raw", "hive" };
        for (int s = 0; s < 2; s++) {
            const result *r = rs[s];
            if (!r->ran) continue;
            printf("# %-5s %6d %9d %8.1f %7.0fus %9.0f %9.0fB %8.0fB %6.2fms %6.2fms %7.2fms %7llu %10.0f %5.0f%% %5.0f%% %9llu %7.0f%% %8.0f%%\n",
                   names[s], r->n, r->connected, r->tick_hz, r->cpu_tick_us, r->cpu_conn_ns, r->mem_conn,
                   r->rss_conn, r->rtt50, r->rtt99, r->snap99, (unsigned long long)r->stalls, r->snaps_s,
                   r->lg_cpu, r->lg_runq, (unsigned long long)r->drops, r->srv_runq,
                   r->inputs_s > 0 ? 100.0 * r->inputs_in_s / r->inputs_s : 0);
        }
    }
    for (int k = 0; k < nn; k++) {
        const result *rs[2] = { &raw[k], &hv[k] };
        const char *names[2] = { "raw", "hive" };
        for (int s = 0; s < 2; s++) {
            if (!rs[s]->ran || !rs[s]->dropped) continue;
            printf("# %s %d: %d players dropped while playing, by reason:", names[s], rs[s]->n, rs[s]->dropped);
            for (int q = 0; q < LG_REASONS; q++)
                if (rs[s]->drop_reason[q])
                    printf(" %s=%d", q ? hive_close_reason_name(q - 1) : "unknown", rs[s]->drop_reason[q]);
            printf("\n");
        }
    }
    enet_deinitialize();
    return 0;
}
