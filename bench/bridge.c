/*
 * bench/bridge.c - bridged events across processes against raw libnats.
 *
 * Starts its own nats-server on a free loopback port (stopped by pid).
 * Each round runs a receiver in its own process (this program again, by
 * exec, with --recv) and sends from this one:
 *   throughput  N events as fast as the sender goes; events/s from the
 *               first send to the last arrival;
 *   latency     K events paced at 5 kHz; p50/p99 of send->handler time
 *               (CLOCK_MONOTONIC, comparable across processes);
 *   cpu         the receiver's and the sender's CPU time per event
 *               (getrusage: every thread, libnats' included).
 * The baseline (raw_nats) publishes payloads of the same size with
 * natsConnection_Publish and receives them with a plain subscription:
 * what NATS costs with nothing of Hive's in the way. The bridge path
 * adds the bus subscription, the encode, the decode, the checks, the
 * post and the dispatch.
 * Lines: `hive-bench bridge.<figure> value=<median> unit=<u> min= max= runs=`
 * and `hive-bench bridge.<figure> ratio=<r> vs=bridge.raw_nats.<figure>`.
 *   handoff     a player moved between two servers of this process (each
 *               with its bridge) and back, 10 times: from
 *               hive_bridge_handoff to the client's net:client.resumed,
 *               against a request/reply round trip through the same NATS
 *               (the ticket's trip is one; the client's dial and resume
 *               add the rest).
 * HIVE_BENCH_N / HIVE_BENCH_ROUNDS change the sizes; HIVE_BENCH_ONLY=throughput
 * skips the latency rounds (for a profiler); HIVE_BENCH_WRAP="perf record
 * -g -o rx.data" runs each bridged receiver under that command.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <nats/nats.h>
#include "bridge/codec.h"
#include "hive/bridge.h"
#include "hive/net.h"
#include "../tests/bridge/nats_proc.h"

#define MAXN 200000
#define K 2000
#define PAYLOAD_TEXT "a chat line of a typical length, with a few words"

static long N = 50000;
static int ROUNDS = 5;

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, long n, double p)
{
    if (n <= 0) return -1;
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    long i = (long)(p * (double)(n - 1) + 0.5);
    return v[i];
}

/* ---- the receiver (its own process) ---------------------------------- */

typedef struct rx {
    long want, got;
    uint64_t first_ns, last_ns;
    double *lat_us;
} rx;

static void rx_note(rx *r, uint64_t sent_ns)
{
    uint64_t now = hive_now_ns();
    if (r->got == 0) r->first_ns = now;
    r->last_ns = now;
    if (r->got < MAXN) r->lat_us[r->got] = (double)(now - sent_ns) / 1e3;
    r->got++;
}

static void on_bridged(const hive_event *ev, void *user)
{
    rx_note(user, (uint64_t)hive_event_int(ev, "ts", 0));
}

static void on_raw(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    uint64_t ts;
    memcpy(&ts, natsMsg_GetData(msg), sizeof ts);
    rx_note(closure, ts);
    natsMsg_Destroy(msg);
}

/* --recv MODE URL WANT: prints "ready" once subscribed, then
 * "got first_ns last_ns cpu_s p50 p99" when WANT arrived (or 20 s passed). */
static int receiver(const char *mode, const char *url, long want)
{
    rx r = { .want = want, .lat_us = calloc(MAXN, sizeof(double)) };
    bool raw = strcmp(mode, "raw") == 0;
    natsConnection *nc = NULL;
    natsSubscription *sub = NULL;
    hive_bus *bus = NULL;
    hive_bridge *br = NULL;
    if (raw) {
        if (natsConnection_ConnectTo(&nc, url) != NATS_OK) return 1;
        natsConnection_Subscribe(&sub, nc, "hive.bench.ev", on_raw, &r);
        natsSubscription_SetPendingLimits(sub, -1, -1);
        natsConnection_Flush(nc);
    } else {
        /* inline_bytes: room for the fields of these events in the queue slot (no allocation per post) */
        bus = hive_bus_create(&(hive_bus_config){ .queue_capacity = 1 << 16, .inline_bytes = 256 });
        br = hive_bridge_create(&(hive_bridge_config){ .url = url, .name = "bench-rx" }, bus);
        if (!br) return 1;
        hive_bridge_import(br, "bench:ev");
        hive_bus_subscribe(bus, "bench:ev", on_bridged, &r, NULL);
        while (hive_bridge_flush(br, 1000) != HIVE_OK) np_sleep_ms(5);
        /* a server that has run a while has touched its queue's memory:
         * so does this one, before it measures (each round is a new process) */
        hive_event_id warm = hive_bus_intern(bus, "bench:warm");
        hive_field wf[] = { HIVE_INT("ts", 0), HIVE_STR("text", PAYLOAD_TEXT), HIVE_STR("hive.origin", "bench-tx") };
        for (int i = 0; i < 4 * (1 << 16); i++) {
            hive_bus_post(bus, warm, wf, 3);
            if (i % 1024 == 1023) hive_bus_dispatch(bus, 0);
        }
        hive_bus_dispatch(bus, 0);
    }
    double c0 = cpu_s();
    printf("ready\n");
    fflush(stdout);
    uint64_t end = hive_now_ns() + 20000000000ull;
    /* when the bus is empty the loop naps: 50 us in the paced (latency)
     * rounds, so the figure is the bridge's and not a polling period's
     * (and a spinning loop would take a core from NATS on a 2-core
     * machine); 1 ms in the throughput rounds, so the CPU per event is
     * the bridge's work */
    struct timespec nap = { 0, want <= K ? 50000L : 1000000L };
    while (r.got < want && hive_now_ns() < end) {
        if (!bus || hive_bus_dispatch(bus, 0) == 0) nanosleep(&nap, NULL);
    }
    double c1 = cpu_s();
    long n = r.got < MAXN ? r.got : MAXN;
    double p50 = pct(r.lat_us, n, 0.50), p99 = pct(r.lat_us, n, 0.99);
    printf("got %ld %" PRIu64 " %" PRIu64 " %.6f %.3f %.3f\n", r.got, r.first_ns, r.last_ns, c1 - c0, p50, p99);
    fflush(stdout);
    if (br) {
        hive_bridge_counters st;
        hive_bridge_stats(br, &st);
        if (st.dropped_in || st.bus_full || st.slow_dropped)
            fprintf(stderr, "bench-bridge: receiver dropped %" PRIu64 " in, %" PRIu64 " bus full, %" PRIu64 " slow\n",
                    st.dropped_in, st.bus_full, st.slow_dropped);
        hive_bridge_destroy(br);
        hive_bus_destroy(bus);
    } else {
        natsSubscription_Destroy(sub);
        natsConnection_Destroy(nc);
    }
    free(r.lat_us);
    return 0;
}

/* ---- the sender ------------------------------------------------------ */

typedef struct result {
    long got;
    double rate, p50, p99, rx_cpu_us, tx_cpu_us;
} result;

static const char *self_path;

/* One round: a receiver process, n events (paced at 5 kHz when paced). */
static bool round_once(const char *mode, const char *url, long n, bool paced, result *out)
{
    char cmd[1024];
    /* HIVE_BENCH_WRAP: a command put before the receiver's (a profiler),
     * for the bridge's receivers only */
    const char *wrap = getenv("HIVE_BENCH_WRAP");
    if (!wrap || strcmp(mode, "bridge") != 0) wrap = "";
    snprintf(cmd, sizeof cmd, "%s %s --recv %s %s %ld", wrap, self_path, mode, url, n);
    FILE *p = popen(cmd, "r");
    if (!p) return false;
    char line[256];
    if (!fgets(line, sizeof line, p) || strncmp(line, "ready", 5) != 0) {
        pclose(p);
        return false;
    }
    bool raw = strcmp(mode, "raw") == 0;
    natsConnection *nc = NULL;
    hive_bus *bus = NULL;
    hive_bridge *br = NULL;
    /* raw payload: the bridged payload's size, the send time first */
    hive_field f[2] = { HIVE_INT("ts", 0), HIVE_STR("text", PAYLOAD_TEXT) };
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    char payload[512];
    size_t plen = 0;
    if (raw) {
        if (natsConnection_ConnectTo(&nc, url) != NATS_OK) return false;
        /* the very bytes the bridge sends for this event (the send time
         * then goes into the first 8 of them: same size, same subject) */
        if (hive__bridge_encode(&sb, "bench-tx", "bench:ev", f, 2) != HIVE_OK) return false;
        plen = sb.size;
        memcpy(payload, sb.data, plen);
    } else {
        bus = hive_bus_create(NULL);
        br = hive_bridge_create(&(hive_bridge_config){ .url = url, .name = "bench-tx" }, bus);
        if (!br) return false;
        hive_bridge_export(br, "bench:ev");
        while (hive_bridge_flush(br, 1000) != HIVE_OK) np_sleep_ms(5);
    }
    hive_event_id id = bus ? hive_bus_intern(bus, "bench:ev") : 0;
    double c0 = cpu_s();
    uint64_t start = hive_now_ns();
    for (long i = 0; i < n; i++) {
        if (paced) {
            uint64_t due = start + (uint64_t)i * 200000u;
            while (hive_now_ns() < due) {
            }
        }
        uint64_t ts = hive_now_ns();
        if (raw) {
            memcpy(payload, &ts, sizeof ts);
            natsConnection_Publish(nc, "hive.bench.ev", payload, (int)plen);
        } else {
            f[0].v.i = (int64_t)ts;
            hive_bus_publish(bus, id, f, 2);
        }
    }
    if (raw)
        natsConnection_FlushTimeout(nc, 10000);
    else
        hive_bridge_flush(br, 10000);
    double c1 = cpu_s();
    bool ok = fgets(line, sizeof line, p) != NULL;
    long got = 0;
    uint64_t first = 0, last = 0;
    double rx_cpu = 0, p50 = 0, p99 = 0;
    if (ok) ok = sscanf(line, "got %ld %" SCNu64 " %" SCNu64 " %lf %lf %lf", &got, &first, &last, &rx_cpu, &p50, &p99) == 6;
    pclose(p);
    if (raw) {
        natsConnection_Destroy(nc);
    } else {
        hive_bridge_destroy(br);
        hive_bus_destroy(bus);
    }
    msgpack_sbuffer_destroy(&sb);
    if (!ok) return false;
    out->got = got;
    out->rate = last > start ? (double)got / ((double)(last - start) / 1e9) : 0;
    out->p50 = p50;
    out->p99 = p99;
    out->rx_cpu_us = got ? rx_cpu * 1e6 / (double)got : 0;
    out->tx_cpu_us = (c1 - c0) * 1e6 / (double)n;
    return true;
}

static double med(double *v, int n, double *lo, double *hi)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    *lo = v[0];
    *hi = v[n - 1];
    return v[n / 2];
}

static void line(const char *name, double *v, int n, const char *unit, double *base)
{
    double lo, hi, m = med(v, n, &lo, &hi);
    printf("hive-bench bridge.%s value=%.3f unit=%s min=%.3f max=%.3f runs=%d\n", name, m, unit, lo, hi, n);
    if (base) {
        double blo, bhi, b = med(base, n, &blo, &bhi);
        printf("hive-bench bridge.raw_nats.%s value=%.3f unit=%s min=%.3f max=%.3f runs=%d\n", name, b, unit, blo, bhi,
               n);
        printf("hive-bench bridge.%s ratio=%.3f vs=bridge.raw_nats.%s\n", name, b > 0 ? m / b : 0.0, name);
    }
    fflush(stdout);
}

/* ---- handoff: redirect + resume ---------------------------------------- */

typedef struct hop { int resumed, answered; } hop;

static void on_hop(const hive_event *ev, void *user)
{
    ((hop *)user)->resumed++;
}

static void on_echo_req(const hive_event *ev, void *user)
{
    hive_bridge_reply(user, ev, NULL, 0);
}

static void on_echo_ans(const hive_event *reply, int status, void *user)
{
    if (status == HIVE_OK) ((hop *)user)->answered++;
}

static void pump2(hive_server *a, hive_server *b, hive_bus *ba, hive_bus *bb, hive_client *c, hive_bus *bc)
{
    hive_server_service(a, 0);
    hive_server_service(b, 0);
    hive_bus_dispatch(ba, 0);
    hive_bus_dispatch(bb, 0);
    hive_bus_expire(ba);
    hive_bus_expire(bb);
    if (c) hive_client_service(c, 0);
    (void)bc;
}

static bool handoff_bench(const char *url, double *handoff_ms, int *nh, double *req_us, int *nr)
{
    hive_bus *bus[2];
    hive_server *srv[2];
    hive_bridge *br[2];
    char addr[2][64];
    const char *names[2] = { "bench-a", "bench-b" };
    for (int i = 0; i < 2; i++) {
        bus[i] = hive_bus_create(NULL);
        srv[i] = hive_server_create(&(hive_server_config){ .addr = "127.0.0.1:0" }, bus[i]);
        if (!srv[i] || hive_server_start(srv[i]) != HIVE_OK) return false;
        snprintf(addr[i], sizeof addr[i], "127.0.0.1:%u", (unsigned)hive_server_port(srv[i]));
        br[i] = hive_bridge_create(&(hive_bridge_config){ .url = url, .name = names[i] }, bus[i]);
        if (!br[i] || hive_bridge_serve_handoffs(br[i], srv[i]) != HIVE_OK) return false;
        while (hive_bridge_flush(br[i], 1000) != HIVE_OK) np_sleep_ms(5);
    }
    hive_bridge_import(br[1], "bench:echo");
    hive_bus_subscribe(bus[1], "bench:echo", on_echo_req, br[1], NULL);
    hive_bridge_flush(br[1], 1000);
    hive_bus *cb = hive_bus_create(NULL);
    hive_client *cli = hive_client_create(&(hive_client_config){ .reconnect_attempts = 5, .reconnect_delay_ms = 50 },
                                          cb);
    hop h = { 0 };
    hive_bus_subscribe(cb, HIVE_EV_CLIENT_RESUMED, on_hop, &h, NULL);
    hive_client_connect(cli, addr[0]);
    uint64_t end = hive_now_ns() + 5000000000ull;
    while (hive_client_get_state(cli) != HIVE_CLIENT_OPEN && hive_now_ns() < end)
        pump2(srv[0], srv[1], bus[0], bus[1], cli, cb);
    for (int k = 0; k < 100; k++) pump2(srv[0], srv[1], bus[0], bus[1], cli, cb);
    bool ok = hive_client_get_state(cli) == HIVE_CLIENT_OPEN;
    /* request/reply round trips through NATS, the baseline */
    *nr = 0;
    for (int k = 0; ok && k < 50; k++) {
        int before = h.answered;
        uint64_t t0 = hive_now_ns();
        if (hive_bridge_request(br[0], "bench:echo", NULL, 0, 2000, on_echo_ans, &h) <= 0) break;
        while (h.answered == before && hive_now_ns() - t0 < 2000000000ull) pump2(srv[0], srv[1], bus[0], bus[1], NULL, cb);
        if (h.answered == before) break;
        req_us[(*nr)++] = (double)(hive_now_ns() - t0) / 1e3;
    }
    /* the player back and forth */
    *nh = 0;
    int at = 0;
    for (int k = 0; ok && k < 10; k++) {
        int before = h.resumed;
        hive_cid cid = hive_client_cid(cli);
        uint64_t t0 = hive_now_ns();
        if (hive_bridge_handoff(br[at], srv[at], cid, names[1 - at], addr[1 - at], NULL, 0, 2000) != HIVE_OK) break;
        while (h.resumed == before && hive_now_ns() - t0 < 5000000000ull) pump2(srv[0], srv[1], bus[0], bus[1], cli, cb);
        if (h.resumed == before) break;
        handoff_ms[(*nh)++] = (double)(hive_now_ns() - t0) / 1e6;
        at = 1 - at;
        for (int j = 0; j < 20; j++) pump2(srv[0], srv[1], bus[0], bus[1], cli, cb);
    }
    hive_client_destroy(cli);
    hive_bus_destroy(cb);
    for (int i = 0; i < 2; i++) {
        hive_bridge_destroy(br[i]);
        hive_server_destroy(srv[i]);
        hive_bus_destroy(bus[i]);
    }
    return ok && *nh == 10 && *nr == 50;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--recv") == 0) return receiver(argv[2], argv[3], atol(argv[4]));
    self_path = argv[0];
    if (getenv("HIVE_BENCH_N")) N = atol(getenv("HIVE_BENCH_N"));
    if (getenv("HIVE_BENCH_ROUNDS")) ROUNDS = atoi(getenv("HIVE_BENCH_ROUNDS"));
    if (N < 1000 || N > MAXN) N = 50000;
    if (ROUNDS < 1 || ROUNDS > 15) ROUNDS = 5;
    nats_proc np = { 0 };
    if (!np_start(&np, NULL)) {
        fprintf(stderr, "bench-bridge: nats-server did not start (apt-get install nats-server)\n");
        return 1;
    }
    char url[64];
    np_url(&np, url, sizeof url);
    double rate[15], rrate[15], p50[15], rp50[15], p99[15], rp99[15], rxc[15], rrxc[15], txc[15], rtxc[15];
    int rc = 0;
    /* the two paths alternate, round by round, so drift hits both */
    for (int r = 0; r < ROUNDS && rc == 0; r++) {
        result b, w;
        if (!round_once("raw", url, N, false, &w) || !round_once("bridge", url, N, false, &b)) rc = 1;
        if (rc == 0 && (w.got != N || b.got != N)) {
            fprintf(stderr, "bench-bridge: throughput round lost events (raw %ld, bridge %ld of %ld)\n", w.got, b.got, N);
            rc = 1;
        }
        rate[r] = b.rate;
        rrate[r] = w.rate;
        rxc[r] = b.rx_cpu_us;
        rrxc[r] = w.rx_cpu_us;
        txc[r] = b.tx_cpu_us;
        rtxc[r] = w.tx_cpu_us;
        bool thr_only = getenv("HIVE_BENCH_ONLY") && strcmp(getenv("HIVE_BENCH_ONLY"), "throughput") == 0;
        if (rc == 0 && !thr_only &&
            (!round_once("raw", url, K, true, &w) || !round_once("bridge", url, K, true, &b)))
            rc = 1;
        p50[r] = b.p50;
        rp50[r] = w.p50;
        p99[r] = b.p99;
        rp99[r] = w.p99;
        fprintf(stderr, "round %d: %.0f vs %.0f ev/s, p50 %.1f vs %.1f us\n", r, b.rate, w.rate, b.p50, w.p50);
    }
    double hms[10], rus[50];
    int nh = 0, nr = 0;
    bool thr_only = getenv("HIVE_BENCH_ONLY") && strcmp(getenv("HIVE_BENCH_ONLY"), "throughput") == 0;
    if (rc == 0 && !thr_only && !handoff_bench(url, hms, &nh, rus, &nr)) {
        fprintf(stderr, "bench-bridge: the handoff part failed (%d handoffs, %d requests)\n", nh, nr);
        rc = 1;
    }
    if (rc == 0) {
        line("events_per_s", rate, ROUNDS, "events/s", rrate);
        line("latency_p50", p50, ROUNDS, "us", rp50);
        line("latency_p99", p99, ROUNDS, "us", rp99);
        line("recv_cpu_per_event", rxc, ROUNDS, "us", rrxc);
        line("send_cpu_per_event", txc, ROUNDS, "us", rtxc);
        if (!thr_only) {
            line("request_rtt", rus, nr, "us", NULL);
            line("handoff_ms", hms, nh, "ms", NULL);
            double lo, hi, rq = med(rus, nr, &lo, &hi), ho = med(hms, nh, &lo, &hi);
            printf("hive-bench bridge.handoff_ms ratio=%.3f vs=bridge.request_rtt\n", rq > 0 ? ho * 1000.0 / rq : 0);
        }
    } else {
        fprintf(stderr, "bench-bridge: a round failed\n");
    }
    np_stop(&np, false);
    return rc;
}
