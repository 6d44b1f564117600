/*
 * hive-loadgen - open N player connections from one process and drive
 * them like demo players; or run a load server.
 *
 *   hive-loadgen --spawn hive -n 1000 --hold 10     server in a child, loadgen here
 *   hive-loadgen --serve hive --port 7777           a load server only (Ctrl-C stops)
 *   hive-loadgen --connect 127.0.0.1:7777 -n 4000   loadgen against a running server
 *
 * Run with --help for every option.
 */
#include "tools/loadgen/lg.h"
#include "tools/loadgen/lg_spawn.h"

#include "hive/net.h"

#include <enet/enet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t g_interrupted;
static lg_server_shared serve_sh;
static lg_server_shared *volatile g_serve_sh;
/* Lock-free atomic stores are async-signal-safe. */
static void on_sigint(int s)
{
    (void)s;
    g_interrupted = 1;
    if (g_serve_sh) atomic_store(&g_serve_sh->stop, 1);
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: hive-loadgen [options]\n"
        "  --proto hive|raw     protocol the players speak (default hive)\n"
        "  --connect HOST:PORT  server to load (default 127.0.0.1:7777)\n"
        "  --spawn hive|raw     start that load server in a child process on a free port\n"
        "  --serve hive|raw     run only a load server (with --port; Ctrl-C stops)\n"
        "  --port P             port for --serve (default 7777)\n"
        "  --duration S         --serve: stop after S seconds\n"
        "  --max-clients M      --serve/--spawn: connection slots (default 4000; ENet\n"
        "                       walks every slot on each service, so size it to the load)\n"
        "  -n N                 players (default 100)\n"
        "  --per-host K         players per ENet host (default 1000, max 4095)\n"
        "  --hz F               inputs per player per second (default 30)\n"
        "  --ping-ms MS         one ping per player every MS (default 500)\n"
        "  --connect-rate R     connections started per second (default 2000)\n"
        "  --disconnect-rate R  disconnects per second on ramp-down (default 4000)\n"
        "  --hold S             seconds to hold all players active (default 10)\n"
        "  --stall-ms MS        snapshot gap counted as a stall (default 250)\n"
        "  --snapshot-bytes B   --spawn/--serve: snapshot payload (default 100)\n"
        "  --reliable           reliable inputs and snapshots (default unreliable)\n"
        "  --lazy-decode        --serve/--spawn hive: the server does not decode message\n"
        "                       bodies its handlers never read (hive_server_config.lazy_decode)\n");
}

static double pct_ms(const lg_hist *h, double p) { return lg_hist_percentile(h, p) / 1000.0; }

static void report(const lg *g, const lg_window *w)
{
    lg_conn_stats cs;
    lg_conn_stats_get(g, &cs);
    double s = w->seconds > 0 ? w->seconds : 1;
    printf("connected=%d failed=%d rejected=%d dropped=%d closed_clean=%d closed_unclean=%d proto_errors=%d hosts=%d\n",
           cs.connected, cs.failed, cs.rejected, cs.dropped, cs.closed_clean, cs.closed_unclean,
           cs.proto_errors, lg_hosts(g));
    if (cs.dropped) {
        printf("dropped by reason:");
        for (int r = 0; r < LG_REASONS; r++)
            if (cs.drop_reason[r]) printf(" %s=%d", r ? hive_close_reason_name(r - 1) : "unknown", cs.drop_reason[r]);
        printf("\n");
    }
    printf("hold=%.2fs inputs_per_s=%.0f snapshots_per_s=%.0f pings_per_s=%.0f pongs_per_s=%.0f"
           " kbytes_out_per_s=%.0f kbytes_in_per_s=%.0f\n",
           w->seconds, w->inputs_sent / s, w->snapshots_recv / s, w->pings_sent / s,
           w->pongs_recv / s, w->bytes_sent / s / 1024, w->bytes_recv / s / 1024);
    printf("rtt_ms p50=%.2f p99=%.2f max=%.2f samples=%llu\n", pct_ms(&w->rtt, 50), pct_ms(&w->rtt, 99),
           w->rtt.max_us / 1000.0, (unsigned long long)w->rtt.count);
    printf("snapshot_delay_ms p50=%.2f p99=%.2f max=%.2f\n", pct_ms(&w->snap_delay, 50),
           pct_ms(&w->snap_delay, 99), w->snap_delay.max_us / 1000.0);
    printf("stalls=%llu max_snapshot_gap_ms=%.1f loadgen_lag_skips=%llu loadgen_cpu=%.0f%%"
           " loadgen_runq_wait=%.0f%% loadgen_max_step_ms=%.1f\n",
           (unsigned long long)w->stalls, w->max_gap_us / 1000.0, (unsigned long long)w->lag_skips,
           100.0 * (double)w->cpu_ns / 1e9 / s, 100.0 * (double)w->runq_wait_ns / 1e9 / s,
           w->max_step_us / 1000.0);
}

static int parse_kind(const char *s, int *out)
{
    if (!strcmp(s, "hive")) { *out = 1; return 0; }
    if (!strcmp(s, "raw")) { *out = 0; return 0; }
    return -1;
}

int main(int argc, char **argv)
{
    lg_config cfg = { .proto = LG_PROTO_HIVE, .port = 7777 };
    lg_server_config scfg = { 0 };
    const char *host = "127.0.0.1";
    char hostbuf[256];
    int spawn = -1, serve = -1, kind;
    double hold = 10, duration = 0;
    uint16_t serve_port = 7777;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDV() do { if (!v) { fprintf(stderr, "%s needs a value\n", a); return 2; } i++; } while (0)
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--proto")) { NEEDV(); if (parse_kind(v, &kind)) goto bad; cfg.proto = kind ? LG_PROTO_HIVE : LG_PROTO_RAW; }
        else if (!strcmp(a, "--spawn")) { NEEDV(); if (parse_kind(v, &spawn)) goto bad; }
        else if (!strcmp(a, "--serve")) { NEEDV(); if (parse_kind(v, &serve)) goto bad; }
        else if (!strcmp(a, "--port")) { NEEDV(); serve_port = (uint16_t)atoi(v); }
        else if (!strcmp(a, "--connect")) {
            NEEDV();
            const char *colon = strrchr(v, ':');
            if (!colon || (size_t)(colon - v) >= sizeof hostbuf) goto bad;
            memcpy(hostbuf, v, (size_t)(colon - v));
            hostbuf[colon - v] = 0;
            host = hostbuf;
            cfg.port = (uint16_t)atoi(colon + 1);
        }
        else if (!strcmp(a, "-n")) { NEEDV(); cfg.clients = atoi(v); }
        else if (!strcmp(a, "--per-host")) { NEEDV(); cfg.peers_per_host = atoi(v); }
        else if (!strcmp(a, "--hz")) { NEEDV(); cfg.input_hz = atof(v); }
        else if (!strcmp(a, "--ping-ms")) { NEEDV(); cfg.ping_ms = atoi(v); }
        else if (!strcmp(a, "--connect-rate")) { NEEDV(); cfg.connect_rate = atoi(v); }
        else if (!strcmp(a, "--disconnect-rate")) { NEEDV(); cfg.disconnect_rate = atoi(v); }
        else if (!strcmp(a, "--hold")) { NEEDV(); hold = atof(v); }
        else if (!strcmp(a, "--duration")) { NEEDV(); duration = atof(v); }
        else if (!strcmp(a, "--max-clients")) { NEEDV(); scfg.max_clients = atoi(v); }
        else if (!strcmp(a, "--stall-ms")) { NEEDV(); cfg.stall_ms = atoi(v); }
        else if (!strcmp(a, "--snapshot-bytes")) { NEEDV(); scfg.snapshot_bytes = (size_t)atol(v); }
        else if (!strcmp(a, "--reliable")) { cfg.reliable = true; scfg.reliable = true; }
        else if (!strcmp(a, "--lazy-decode")) scfg.lazy_decode = true;
        else { bad: fprintf(stderr, "hive-loadgen: bad argument '%s'\n", a); usage(stderr); return 2; }
#undef NEEDV
    }
    signal(SIGINT, on_sigint);
    signal(SIGTERM, on_sigint);

    if (serve >= 0) {
        /* Server only, on this thread (so a profiler such as callgrind
         * sees it directly). A signal or --duration sets stop. */
        scfg.port = serve_port;
        g_serve_sh = &serve_sh;
        if (duration > 0) alarm((unsigned)duration);
        signal(SIGALRM, on_sigint);
        atomic_store(&serve_sh.broadcast, 1);
        printf("serving %s on 127.0.0.1:%u until Ctrl-C%s\n", serve ? "hive" : "raw", serve_port,
               duration > 0 ? " or --duration" : "");
        fflush(stdout);
        int rc = serve ? lg_server_hive_run(&scfg, &serve_sh) : lg_server_raw_run(&scfg, &serve_sh);
        printf("ticks=%llu snapshots=%llu inputs=%llu pings=%llu accepted=%llu closed=%llu late_ticks=%llu cpu_s=%.3f"
               " socket_drops=%llu\n",
               (unsigned long long)atomic_load(&serve_sh.ticks), (unsigned long long)atomic_load(&serve_sh.snapshots),
               (unsigned long long)atomic_load(&serve_sh.inputs), (unsigned long long)atomic_load(&serve_sh.pings),
               (unsigned long long)atomic_load(&serve_sh.accepted), (unsigned long long)atomic_load(&serve_sh.closed),
               (unsigned long long)atomic_load(&serve_sh.late_ticks), atomic_load(&serve_sh.cpu_ns) / 1e9,
               (unsigned long long)atomic_load(&serve_sh.sock_drops));
        return rc == 0 ? 0 : 1;
    }

    lg_child ch = { 0 };
    if (spawn >= 0) {
        scfg.port = 0;
        if (lg_spawn_server(&ch, spawn ? LG_SERVER_HIVE : LG_SERVER_RAW, &scfg, 5000) != 0) {
            fprintf(stderr, "hive-loadgen: server failed to start\n");
            return 1;
        }
        cfg.port = (uint16_t)atomic_load(&ch.sh->port);
        cfg.proto = spawn ? LG_PROTO_HIVE : LG_PROTO_RAW;
        atomic_store(&ch.sh->broadcast, 1);
    }
    cfg.host = host;
    if (enet_initialize() != 0) return 1;
    lg *g = lg_create(&cfg);
    if (!g) { lg_child_stop(&ch, NULL); return 1; }

    int n = lg_connect_all(g, 60000);
    printf("ramp-up: %d of %d connected\n", n, cfg.clients);
    lg_set_active(g, true);
    lg_run(g, 500);
    lg_window w;
    lg_window_begin(g);
    uint64_t st0 = ch.sh ? atomic_load(&ch.sh->ticks) : 0, sc0 = ch.sh ? atomic_load(&ch.sh->cpu_ns) : 0;
    for (double t = 0; t < hold && !g_interrupted; t += 0.25) lg_run(g, 250);
    lg_window_end(g, &w);
    uint64_t st1 = ch.sh ? atomic_load(&ch.sh->ticks) : 0, sc1 = ch.sh ? atomic_load(&ch.sh->cpu_ns) : 0;
    int closed = lg_disconnect_all(g);
    printf("ramp-down: %d closed cleanly\n", closed);
    report(g, &w);
    if (ch.sh && st1 > st0)
        printf("server ticks_per_s=%.1f cpu_per_tick_us=%.1f late_ticks=%llu inputs=%llu socket_drops=%llu\n",
               (st1 - st0) / w.seconds, (double)(sc1 - sc0) / (double)(st1 - st0) / 1000.0,
               (unsigned long long)atomic_load(&ch.sh->late_ticks),
               (unsigned long long)atomic_load(&ch.sh->inputs),
               (unsigned long long)atomic_load(&ch.sh->sock_drops));
    lg_conn_stats cs;
    lg_conn_stats_get(g, &cs);
    lg_destroy(g);
    enet_deinitialize();
    if (ch.sh) lg_child_stop(&ch, NULL);
    return cs.connected == cfg.clients && cs.closed_clean == cs.connected ? 0 : 1;
}
