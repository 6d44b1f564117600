/*
 * bench-remote - remote subscriptions (hive/net.h REMOTE SUBSCRIPTIONS)
 * against the server's own broadcast, same loopback, same run.
 *
 *   fanout   one server, C enet:// clients in this process, each
 *            subscribed to bench:tick; the server's time to publish one
 *            event (with its fields) and flush it to every subscriber,
 *            against hive_server_broadcast_id of a body of the same size
 *            and flush: events per second, median of ROUNDS, alternating
 *   memory   bytes the server allocates per subscription (a counting
 *            allocator around the server's service calls), and the
 *            client's per distinct subscription
 *   match    ns per publish of an event that 0, 1 and C connections
 *            subscribed to with a filter it fails (nothing is sent: the
 *            cost of matching), against a publish nobody listens to
 *
 * Output: `hive-bench <name> value=<v> unit=<u>` and
 *         `hive-bench <name> ratio=<r> vs=<baseline>`.
 * HIVE_BENCH_CLIENTS overrides C (default 1000).
 */
#include <hive/hive.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUNDS 9
#define EVENTS 200
#define MATCH_N 200000

static int C = 1000;

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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A counting allocator: live bytes. */
typedef struct blk { size_t size; size_t pad; } blk;
static long g_live;
static void *c_malloc(size_t n, void *u)
{
    (void)u;
    blk *b = malloc(sizeof *b + n);
    if (!b) return NULL;
    b->size = n;
    g_live += (long)n;
    return b + 1;
}
static void c_free(void *p, void *u)
{
    (void)u;
    if (!p) return;
    blk *b = (blk *)p - 1;
    g_live -= (long)b->size;
    free(b);
}
static void *c_realloc(void *p, size_t n, void *u)
{
    if (!p) return c_malloc(n, u);
    blk *b = (blk *)p - 1;
    size_t old = b->size;
    blk *nb = realloc(b, sizeof *nb + n);
    if (!nb) return NULL;
    nb->size = n;
    g_live += (long)n - (long)old;
    return nb + 1;
}

static hive_server *srv;
static hive_bus *sbus, *cbus;
static hive_client **cli;
static long srv_bytes;       /* what the server's service calls allocated (net) */
static long got, accepted;

static void on_tick(const hive_event *ev, void *u) { (void)ev; (void)u; got++; }
static void on_bc(const hive_event *ev, void *u) { (void)ev; (void)u; got++; }
static long refused;
static void on_acc(const hive_event *ev, void *u) { (void)ev; (void)u; accepted++; }
static long closes;
static void on_close(const hive_event *ev, void *u)
{
    (void)u;
    if (closes++ < 3) fprintf(stderr, "bench-remote: a client closed: %s %s\n", hive_event_str(ev, "reason_name"),
                              hive_event_str(ev, "message"));
}
static void on_ref(const hive_event *ev, void *u)
{
    (void)u;
    if (refused++ < 3) fprintf(stderr, "bench-remote: refused: %s\n", hive_event_str(ev, "reason"));
}

static void service_all(void)
{
    /* The server reads often: a thousand clients' datagrams would
     * overflow its socket between two reads of a slow loop. */
    for (int i = 0; i < C; i++) {
        if (i % 100 == 0) {
            long before = g_live;
            hive_server_service(srv, 0);
            srv_bytes += g_live - before;
        }
        hive_client_service(cli[i], 0);
    }
}

static int open_count(void)
{
    int n = 0;
    for (int i = 0; i < C; i++) n += hive_client_get_state(cli[i]) == HIVE_CLIENT_OPEN;
    return n;
}

static bool drain_until(long want, double secs)
{
    double end = now_s() + secs;
    while (got < want && now_s() < end) service_all();
    return got >= want;
}

int main(void)
{
    const char *e = getenv("HIVE_BENCH_CLIENTS");
    if (e && atoi(e) > 0) C = atoi(e);
    hive_set_allocator(&(hive_allocator){ c_malloc, c_realloc, c_free, NULL });
    sbus = hive_bus_create(NULL);
    cbus = hive_bus_create(NULL);
    hive_server_config sc = { .addr = "127.0.0.1:0", .max_connections = (uint32_t)C + 8,
                              .max_handshakes = (uint32_t)C + 8, .max_handshakes_per_addr = (uint32_t)C + 8,
                              .max_peers_per_addr = (uint32_t)C + 8, .max_subscriptions = 8,
                              .heartbeat_ms = 2000, .heartbeat_timeout_ms = 60000, .handshake_timeout_ms = 30000 };
    srv = hive_server_create(&sc, sbus);
    if (!srv) { fprintf(stderr, "bench-remote: %s\n", hive_create_error()->message); return 1; }
    hive_server_export(srv, "bench:**", NULL);
    int bc = hive_server_register(srv, "bench:bc", 0, HIVE_RELIABLE);
    if (bc < 0 || hive_server_start(srv) != HIVE_OK) return 1;
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)hive_server_port(srv));
    cli = calloc((size_t)C, sizeof *cli);
    hive_bus_subscribe(cbus, "remote:bench:tick", on_tick, NULL, NULL);
    hive_bus_subscribe(cbus, "net:client.recv.bench:bc", on_bc, NULL, NULL);
    hive_bus_subscribe(cbus, HIVE_EV_CLIENT_SUB_ACCEPTED, on_acc, NULL, NULL);
    hive_bus_subscribe(cbus, HIVE_EV_CLIENT_SUB_REFUSED, on_ref, NULL, NULL);
    hive_bus_subscribe(cbus, HIVE_EV_CLIENT_CLOSE, on_close, NULL, NULL);
    hive_client_config cc = { .heartbeat_ms = 2000, .heartbeat_timeout_ms = 60000, .connect_timeout_ms = 30000,
                              .handshake_timeout_ms = 30000 };
    double t0 = now_s();
    for (int i = 0; i < C; i++) {
        cli[i] = hive_client_create(&cc, cbus);
        hive_client_connect(cli[i], addr);
        if (i % 50 == 49)
            for (int k = 0; k < 20; k++) service_all();
    }
    while (open_count() < C && now_s() < t0 + 120) service_all();
    if (open_count() < C) { fprintf(stderr, "bench-remote: only %d of %d clients open\n", open_count(), C); return 1; }
    fprintf(stderr, "bench-remote: %d clients open in %.1f s\n", C, now_s() - t0);

    /* Memory: one subscription each. */
    long cl0 = g_live - srv_bytes;
    long s0 = srv_bytes;
    long client_before = g_live;
    for (int i = 0; i < C; i++) hive_client_subscribe(cli[i], "bench:tick", NULL, 0);
    long client_sub_bytes = g_live - client_before;
    double end = now_s() + 60;
    while (accepted < C && now_s() < end) service_all();
    if (accepted < C) {
        fprintf(stderr, "bench-remote: %ld of %d subscriptions granted (%ld refused, %d open)\n", accepted, C, refused,
                open_count());
        return 1;
    }
    for (int k = 0; k < 50; k++) service_all();
    (void)cl0;
    value("remote.server_bytes_per_subscription", (double)(srv_bytes - s0) / C, "bytes");
    value("remote.client_bytes_per_subscription", (double)client_sub_bytes / C, "bytes");

    /* Fan-out against broadcast, alternating, the same body size. */
    uint8_t blob[48];
    memset(blob, 7, sizeof blob);
    hive_msg body;
    hive_msg_init(&body);
    /* The remote event's body for {seq, data}: a map of name and fields. */
    hive_msg_map(&body, 2);
    hive_msg_kv_str(&body, "name", "bench:tick");
    hive_msg_key(&body, "fields");
    hive_msg_map(&body, 2);
    hive_msg_kv_int(&body, "seq", 1);
    hive_msg_kv_bin(&body, "data", blob, sizeof blob);
    double fan[ROUNDS], bro[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        for (int pass = 0; pass < 2; pass++) {
            bool do_fan = (pass == 0) == (r % 2 == 0);
            long want = got + (long)EVENTS * C;
            double t = 0;
            for (int ev = 0; ev < EVENTS; ev++) {
                double a = now_s();
                if (do_fan) {
                    hive_field f[] = { HIVE_INT("seq", ev), HIVE_BYTES("data", blob, sizeof blob) };
                    hive_bus_publish_name(sbus, "bench:tick", f, 2);
                } else {
                    hive_server_broadcast_id(srv, (uint32_t)bc, hive_msg_data(&body), hive_msg_size(&body), 0, 0);
                }
                hive_server_flush(srv);
                t += now_s() - a;
                /* Let the clients read (and acknowledge) before the next one. */
                service_all();
            }
            if (!drain_until(want, 60)) { fprintf(stderr, "bench-remote: lost events (%ld of %ld)\n", got, want); return 1; }
            (do_fan ? fan : bro)[r] = EVENTS / t;
        }
        fprintf(stderr, "bench-remote: round %d fanout %.0f broadcast %.0f events/s (%.3f)\n", r + 1, fan[r], bro[r],
                fan[r] / bro[r]);
    }
    hive_msg_free(&body);
    double fm = median(fan, ROUNDS), bm = median(bro, ROUNDS);
    value("remote.fanout_1000.events_per_s", fm, "events/s");
    value("remote.broadcast_1000.events_per_s", bm, "events/s");
    ratio("remote.fanout_1000.events_per_s", fm, bm, "remote.broadcast_1000.events_per_s");

    /* Matching: subscriptions whose filter the event fails. */
    hive_filter never[] = { HIVE_FILTER_EQ_INT("seq", -1) };
    hive_client_subscribe(cli[0], "bench:m1", never, 1);
    for (int i = 0; i < C; i++) hive_client_subscribe(cli[i], "bench:mall", never, 1);
    end = now_s() + 60;
    while (accepted < 2L * C + 1 && now_s() < end) service_all();
    const char *names[3] = { "bench:none", "bench:m1", "bench:mall" };
    const char *keys[3] = { "remote.match_0.publish", "remote.match_1.publish", "remote.match_1000.publish" };
    double ns[3];
    for (int k = 0; k < 3; k++) {
        hive_event_id id = hive_bus_intern(sbus, names[k]);
        double v[ROUNDS];
        int n = k == 2 ? MATCH_N / 100 : MATCH_N;
        for (int r = 0; r < ROUNDS; r++) {
            double a = now_s();
            for (int i = 0; i < n; i++) {
                hive_field f[] = { HIVE_INT("seq", i) };
                hive_bus_publish(sbus, id, f, 1);
            }
            v[r] = (now_s() - a) * 1e9 / n;
        }
        ns[k] = median(v, ROUNDS);
        value(keys[k], ns[k], "ns");
    }
    ratio("remote.match_1.publish", ns[1], ns[0], "remote.match_0.publish");
    ratio("remote.match_1000.publish", ns[2], ns[0], "remote.match_0.publish");
    for (int i = 0; i < C; i++) hive_client_destroy(cli[i]);
    hive_server_destroy(srv);
    hive_bus_destroy(sbus);
    hive_bus_destroy(cbus);
    free(cli);
    hive_set_allocator(NULL);
    return 0;
}
