/*
 * bench/tls.c - what security costs, each number next to its baseline
 * measured in the same run:
 *
 *   raw_openssl_tls_msgs     a bare OpenSSL client/server over loopback TCP,
 *                            one SSL_write per 64-byte frame, SSL_read loop
 *   raw_openssl_tls_batched  the same, 64 frames per SSL_write
 *   hive_tls_msgs            Hive over tls:// (client -> threaded server)
 *   hive_tcp_msgs            Hive over tcp:// (for the cost of TLS alone)
 *   hive_enet_msgs           Hive over enet://, reliable
 *   hive_enet_tls_msgs       Hive over enet+tls://, reliable
 *   tls_handshakes           full TLS 1.3 handshakes (ECDSA P-256, no
 *                            resumption) through Hive's TLS layer, in memory
 *   hive_tls_connects        Hive connections per second over tls:// (TCP
 *                            connect + TLS + Hive handshake), one at a time
 *   hive_ws_msgs             Hive over ws:// (WebSocket binary messages),
 *                            against hive_tcp_msgs
 *   hive_wss_msgs            Hive over wss://, against hive_tls_msgs
 *
 * HIVE_BENCH_ONLY=ws runs the four stream transports only (tcp, tls, ws,
 * wss), several rounds alternating, and prints each round's ratios.
 *
 * Every message is the same 64-byte frame: 1-byte length, 1-byte packet id,
 * flags, a 61-byte msgpack body. Certificates come from tools/certs.sh in a
 * temporary directory (run from the repository root, as `make bench` does).
 * Runs in well under a minute.
 */
#include "hive/hive.h"
#include "net/transport/tls.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FRAME 64
#define BODY  61
#define PID   100

static char g_dir[256], g_ca[300], g_crt[300], g_key[300];

static void report(const char *name, double v, const char *unit)
{
    printf("hive-bench %s value=%.1f unit=%s\n", name, v, unit);
    fflush(stdout);
}

static void ratio(const char *name, double v, double base, const char *bname)
{
    printf("hive-bench %s ratio=%.3f vs=%s\n", name, base > 0 ? v / base : 0.0, bname);
    fflush(stdout);
}

static double secs(uint64_t t0) { return (double)(hive_now_ns() - t0) / 1e9; }

/* The 64-byte frame: header + bin8 of 59 bytes. */
static void make_frame(uint8_t f[FRAME])
{
    f[0] = FRAME - 1;   /* length of what follows */
    f[1] = PID;
    f[2] = 0;
    f[3] = 0xc4;        /* msgpack bin 8 */
    f[4] = BODY - 2;
    for (int i = 5; i < FRAME; i++) f[i] = (uint8_t)i;
}

/* ------------------------------------------------------------------ */
/* raw OpenSSL baseline                                                 */

typedef struct raw_srv {
    int lfd;
    SSL_CTX *ctx;
    long want;
    long got;
} raw_srv;

static void *raw_server(void *arg)
{
    raw_srv *r = arg;
    int fd = accept(r->lfd, NULL, NULL);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    SSL *ssl = SSL_new(r->ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1) { fprintf(stderr, "raw: accept failed\n"); goto out; }
    static uint8_t buf[1 << 16];
    size_t have = 0;
    while (r->got < r->want) {
        int n = SSL_read(ssl, buf + have, (int)(sizeof buf - have));
        if (n <= 0) break;
        have += (size_t)n;
        /* Walk the frames like a receiver must: length first. */
        size_t off = 0;
        while (have - off >= 1 && have - off >= (size_t)buf[off] + 1) {
            off += (size_t)buf[off] + 1;
            r->got++;
        }
        memmove(buf, buf + off, have - off);
        have -= off;
    }
    SSL_shutdown(ssl);
out:
    SSL_free(ssl);
    close(fd);
    return NULL;
}

static double raw_tls(long n, int batch)
{
    SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_min_proto_version(sctx, TLS1_3_VERSION);
    SSL_CTX_use_certificate_chain_file(sctx, g_crt);
    SSL_CTX_use_PrivateKey_file(sctx, g_key, SSL_FILETYPE_PEM);
    SSL_CTX_set_num_tickets(sctx, 0);
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(cctx, TLS1_3_VERSION);
    SSL_CTX_load_verify_locations(cctx, g_ca, NULL);
    SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);

    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    bind(lfd, (struct sockaddr *)&a, sizeof a);
    listen(lfd, 4);
    socklen_t sl = sizeof a;
    getsockname(lfd, (struct sockaddr *)&a, &sl);
    raw_srv r = { .lfd = lfd, .ctx = sctx, .want = n };
    pthread_t th;
    pthread_create(&th, NULL, raw_server, &r);

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    connect(fd, (struct sockaddr *)&a, sizeof a);
    SSL *ssl = SSL_new(cctx);
    SSL_set_fd(ssl, fd);
    SSL_set1_host(ssl, "localhost");
    double rate = 0;
    if (SSL_connect(ssl) == 1) {
        static uint8_t burst[FRAME * 64];
        for (int i = 0; i < 64; i++) make_frame(burst + i * FRAME);
        uint64_t t0 = hive_now_ns();
        for (long i = 0; i < n; i += batch) {
            int k = (int)(n - i < batch ? n - i : batch);
            if (SSL_write(ssl, burst, k * FRAME) <= 0) break;
        }
        pthread_join(th, NULL);
        rate = (double)r.got / secs(t0);
    } else {
        fprintf(stderr, "raw: connect failed\n");
        ERR_print_errors_fp(stderr);
        shutdown(fd, SHUT_RDWR);
        pthread_join(th, NULL);
    }
    SSL_free(ssl);
    close(fd);
    close(lfd);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    return rate;
}

/* ------------------------------------------------------------------ */
/* Hive                                                                 */

static hive_tls_config server_tls(void)
{
    return (hive_tls_config){ .cert_file = g_crt, .key_file = g_key };
}

static hive_tls_config client_tls(void)
{
    return (hive_tls_config){ .ca_file = g_ca };
}

static uint64_t server_frames(hive_server *s)
{
    hive_net_stats st;
    hive_server_stats(s, &st);
    return st.frames_in;
}

/* n reliable 64-byte frames from one client to a threaded server. */
static double hive_msgs(const char *scheme, long n, double cap_s)
{
    hive_bus *sbus = hive_bus_create(NULL), *cbus = hive_bus_create(NULL);
    char addr[64];
    snprintf(addr, sizeof addr, "%s://127.0.0.1:0", scheme);
    hive_server_config sc = { .addr = addr, .threaded = true, .tls = server_tls(),
                              .heartbeat_timeout_ms = 30000 };
    hive_server *s = hive_server_create(&sc, sbus);
    hive_server_register(s, "bench:msg", PID, HIVE_RELIABLE);
    if (hive_server_start(s) != HIVE_OK) {
        fprintf(stderr, "bench: %s server did not start\n", scheme);
        hive_server_destroy(s);
        hive_bus_destroy(sbus);
        hive_bus_destroy(cbus);
        return 0;
    }
    hive_client_config cc = { .tls = client_tls(), .heartbeat_timeout_ms = 30000 };
    hive_client *c = hive_client_create(&cc, cbus);
    snprintf(addr, sizeof addr, "%s://localhost:%u", scheme, (unsigned)hive_server_port(s));
    hive_client_connect(c, addr);
    double rate = 0;
    if (hive_client_wait_connected(c, 5000) == HIVE_OK) {
        uint8_t f[FRAME];
        make_frame(f);
        const uint8_t *body = f + 3;
        uint64_t base = server_frames(s);
        uint64_t t0 = hive_now_ns();
        long sent = 0;
        while (sent < n && secs(t0) < cap_s) {
            for (int i = 0; i < 256 && sent < n; i++, sent++)
                hive_client_send_id(c, PID, body, BODY, HIVE_SEND_RELIABLE);
            hive_client_service(c, 0);
            /* Do not run more than ~8k messages ahead of the server:
             * we measure delivery, not queueing. */
            while ((uint64_t)sent > server_frames(s) - base + 8192 && secs(t0) < cap_s)
                hive_client_service(c, 1);
        }
        while (server_frames(s) - base < (uint64_t)sent && secs(t0) < cap_s + 5)
            hive_client_service(c, 1);
        rate = (double)(server_frames(s) - base) / secs(t0);
    } else {
        fprintf(stderr, "bench: %s client did not connect\n", scheme);
    }
    hive_client_destroy(c);
    hive_server_destroy(s);
    hive_bus_destroy(cbus);
    hive_bus_destroy(sbus);
    return rate;
}

/* Full handshakes through hive__tls, both ends in this thread. */
static double handshakes(double dur)
{
    char err[HIVE__TLS_ERR_MAX];
    hive_tls_config st = server_tls(), ct = client_tls();
    hive__tls_ctx *sc = hive__tls_ctx_create(&st, true, err, sizeof err);
    hive__tls_ctx *cc = hive__tls_ctx_create(&ct, false, err, sizeof err);
    if (!sc || !cc) { fprintf(stderr, "bench: %s\n", err); return 0; }
    long done = 0;
    uint64_t t0 = hive_now_ns();
    while (secs(t0) < dur) {
        hive__tls *s = hive__tls_create(sc, NULL), *c = hive__tls_create(cc, "localhost");
        int cr = 0, sr = 0;
        for (int round = 0; round < 10 && (cr != 1 || sr != 1); round++) {
            if (cr == 0) cr = hive__tls_handshake(c);
            size_t k;
            const uint8_t *p = hive__tls_out(c, &k);
            if (k) { hive__tls_feed(s, p, k); hive__tls_out_consume(c, k); }
            if (sr == 0) sr = hive__tls_handshake(s);
            p = hive__tls_out(s, &k);
            if (k) { hive__tls_feed(c, p, k); hive__tls_out_consume(s, k); }
            if (cr < 0 || sr < 0) break;
        }
        if (cr == 1 && sr == 1) done++;
        hive__tls_destroy(c);
        hive__tls_destroy(s);
    }
    double rate = (double)done / secs(t0);
    hive__tls_ctx_destroy(cc);
    hive__tls_ctx_destroy(sc);
    return rate;
}

static double connects(const char *scheme, double dur)
{
    hive_bus *sbus = hive_bus_create(NULL);
    char addr[64];
    snprintf(addr, sizeof addr, "%s://127.0.0.1:0", scheme);
    hive_server_config sc = { .addr = addr, .threaded = true, .tls = server_tls(),
                              .max_connections = 4000,
                              .max_peers_per_addr = HIVE_MAX_PEERS_PER_ADDR };   /* all on 127.0.0.1 */
    hive_server *s = hive_server_create(&sc, sbus);
    if (hive_server_start(s) != HIVE_OK) { hive_server_destroy(s); hive_bus_destroy(sbus); return 0; }
    snprintf(addr, sizeof addr, "%s://localhost:%u", scheme, (unsigned)hive_server_port(s));
    long done = 0;
    uint64_t t0 = hive_now_ns();
    while (secs(t0) < dur) {
        hive_bus *cbus = hive_bus_create(NULL);
        hive_client_config cc = { .tls = client_tls() };
        hive_client *c = hive_client_create(&cc, cbus);
        hive_client_connect(c, addr);
        if (hive_client_wait_connected(c, 3000) == HIVE_OK) done++;
        hive_client_destroy(c);
        hive_bus_destroy(cbus);
    }
    double rate = (double)done / secs(t0);
    hive_server_destroy(s);
    hive_bus_destroy(sbus);
    return rate;
}

static bool make_certs(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/hive-bench-tls-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g_dir)) return false;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "sh tools/certs.sh '%s' >/dev/null", g_dir);
    if (system(cmd) != 0) return false;
    snprintf(g_ca, sizeof g_ca, "%s/ca.pem", g_dir);
    snprintf(g_crt, sizeof g_crt, "%s/server.pem", g_dir);
    snprintf(g_key, sizeof g_key, "%s/server.key", g_dir);
    return true;
}

static void remove_certs(void)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "bench: could not remove %s\n", g_dir);
}

int main(void)
{
    if (!make_certs()) {
        fprintf(stderr, "bench-tls: tools/certs.sh failed (run from the repository root; needs openssl)\n");
        return 1;
    }
    const long N = 400000;
    const char *only = getenv("HIVE_BENCH_ONLY");
    if (only && strcmp(only, "ws") == 0) {
        /* Rounds alternate the transports, so a slow spell of the machine
         * touches each; the medians are what to quote. */
        for (int round = 0; round < 5; round++) {
            double tcp = hive_msgs("tcp", N, 8), ws = hive_msgs("ws", N, 8);
            double tls = hive_msgs("tls", N, 8), wss = hive_msgs("wss", N, 8);
            report("hive_tcp_msgs", tcp, "msgs/s");
            report("hive_ws_msgs", ws, "msgs/s");
            ratio("hive_ws_msgs", ws, tcp, "hive_tcp_msgs");
            report("hive_tls_msgs", tls, "msgs/s");
            report("hive_wss_msgs", wss, "msgs/s");
            ratio("hive_wss_msgs", wss, tls, "hive_tls_msgs");
        }
        remove_certs();
        return 0;
    }
    double raw1 = raw_tls(N, 1);
    report("raw_openssl_tls_msgs", raw1, "msgs/s");
    double raw64 = raw_tls(N, 64);
    report("raw_openssl_tls_batched_msgs", raw64, "msgs/s");
    double tls = hive_msgs("tls", N, 8);
    report("hive_tls_msgs", tls, "msgs/s");
    ratio("hive_tls_msgs", tls, raw1, "raw_openssl_tls_msgs");
    ratio("hive_tls_msgs", tls, raw64, "raw_openssl_tls_batched_msgs");
    double tcp = hive_msgs("tcp", N, 8);
    report("hive_tcp_msgs", tcp, "msgs/s");
    ratio("hive_tls_msgs", tls, tcp, "hive_tcp_msgs");

    const long NE = 200000;
    double en = hive_msgs("enet", NE, 8);
    report("hive_enet_msgs", en, "msgs/s");
    double ent = hive_msgs("enet+tls", NE, 8);
    report("hive_enet_tls_msgs", ent, "msgs/s");
    ratio("hive_enet_tls_msgs", ent, en, "hive_enet_msgs");

    report("tls_handshakes", handshakes(2.0), "handshakes/s");
    report("hive_tls_connects", connects("tls", 2.0), "connections/s");
    double ws = hive_msgs("ws", N, 8);
    report("hive_ws_msgs", ws, "msgs/s");
    ratio("hive_ws_msgs", ws, tcp, "hive_tcp_msgs");
    double wss = hive_msgs("wss", N, 8);
    report("hive_wss_msgs", wss, "msgs/s");
    ratio("hive_wss_msgs", wss, tls, "hive_tls_msgs");
    remove_certs();
    return 0;
}
