/*
 * bench/web.c - the JavaScript client's round trip against the C
 * client's, in one run, over the same ws:// listener of one server:
 *
 *   web.js_rtt   web/hive.js in Node (bench/web_rtt.mjs), sequential echoes
 *   web.c_rtt    hive_client over ws://, the same echoes
 *   web.c_enet_rtt  hive_client over enet:// (the native path, for scale)
 *
 * The server runs in this process's thread and is serviced with a 0 ms
 * wait while Node runs (a busy loop: the figure is the clients' and the
 * transports', not a poll timeout's). Run from the repository root with
 * web/node_modules installed (`make web-deps`). Medians of 2000 echoes.
 */
#include "hive/hive.h"

#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>
#include <errno.h>

#define N 2000

extern char **environ;
static hive_server *g_srv;

static void echo(const hive_event *ev, void *user)
{
    (void)user;
    const void *raw, *obj;
    size_t len;
    if (hive_event_get_msgpack(ev, "msg", &raw, &len, &obj) == 0)
        hive_server_send(g_srv, (hive_cid)hive_event_int(ev, "cid", 0), "bench:echo", raw, len);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int g_got;
static void on_echo(const hive_event *ev, void *user) { (void)ev; (void)user; g_got++; }

/* Sequential echoes with a hive_client over addr: the median in µs. */
static double c_rtt(const char *addr)
{
    hive_bus *bus = hive_bus_create(NULL);
    hive_bus_subscribe(bus, "net:client.recv.bench:echo", on_echo, NULL, NULL);
    hive_client *c = hive_client_create(NULL, bus);
    hive_client_connect(c, addr);
    for (int i = 0; i < 5000 && hive_client_get_state(c) != HIVE_CLIENT_OPEN; i++) {
        hive_server_service(g_srv, 0);
        hive_client_service(c, 1);
    }
    static double s[N];
    int n = 0;
    uint8_t body[64];
    hive_msg m;
    hive_msg_init(&m);
    hive_msg_map(&m, 2);
    hive_msg_kv_uint(&m, "seq", 0);
    hive_msg_kv_str(&m, "text", "0123456789abcdef0123456789abcdef");
    size_t bl = hive_msg_size(&m) < sizeof body ? hive_msg_size(&m) : sizeof body;
    memcpy(body, hive_msg_data(&m), bl);
    hive_msg_free(&m);
    while (n < N && hive_client_get_state(c) == HIVE_CLIENT_OPEN) {
        int want = g_got + 1;
        uint64_t t0 = hive_now_ns();
        hive_client_send(c, "bench:msg", body, bl);
        hive_client_flush(c);
        while (g_got < want && hive_now_ns() - t0 < 2000000000ull) {
            hive_server_service(g_srv, 0);
            hive_client_service(c, 0);
        }
        s[n++] = (double)(hive_now_ns() - t0) / 1000.0;
    }
    hive_client_destroy(c);
    hive_bus_destroy(bus);
    if (n < N) return 0;
    qsort(s, (size_t)n, sizeof s[0], cmp);
    return s[n / 2];
}

/* Node running bench/web_rtt.mjs against url: its median in µs. */
static double js_rtt(const char *url)
{
    int pfd[2];
    if (pipe(pfd) != 0) return 0;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_addclose(&fa, pfd[0]);
    char n[16];
    snprintf(n, sizeof n, "%d", N);
    const char *node = getenv("HIVE_NODE") ? getenv("HIVE_NODE") : "node";
    char *argv[] = { (char *)node, "--experimental-websocket", "--no-warnings", "bench/web_rtt.mjs", (char *)url, n, NULL };
    pid_t pid;
    int rc = posix_spawnp(&pid, node, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (rc != 0) {
        close(pfd[0]);
        fprintf(stderr, "bench-web: cannot run %s\n", node);
        return 0;
    }
    fcntl(pfd[0], F_SETFL, O_NONBLOCK);
    char out[512];
    size_t got = 0;
    int status = 0;
    for (;;) {
        hive_server_service(g_srv, 0);
        ssize_t r = read(pfd[0], out + got, sizeof out - 1 - got);
        if (r > 0) got += (size_t)r;
        if (waitpid(pid, &status, WNOHANG) == pid) break;
    }
    ssize_t r;
    while ((r = read(pfd[0], out + got, sizeof out - 1 - got)) > 0) got += (size_t)r;
    close(pfd[0]);
    out[got] = 0;
    const char *m = strstr(out, "median=");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !m) {
        fprintf(stderr, "bench-web: node failed: %s\n", out);
        return 0;
    }
    fprintf(stderr, "bench-web: node: %s", out);
    return atof(m + 7);
}

int main(void)
{
    hive_bus *bus = hive_bus_create(NULL);
    g_srv = hive_server_create(&(hive_server_config){ .addr = "enet://127.0.0.1:0,ws://127.0.0.1:0" }, bus);
    hive_server_register(g_srv, "bench:msg", 0, HIVE_RELIABLE);
    hive_server_register(g_srv, "bench:echo", 0, HIVE_RELIABLE);
    hive_server_register(g_srv, "bench:ping", 0, HIVE_RELIABLE);
    hive_bus_subscribe(bus, "net:server.recv.bench:msg", echo, NULL, NULL);
    if (hive_server_start(g_srv) != HIVE_OK) {
        fprintf(stderr, "bench-web: the server did not start\n");
        return 1;
    }
    char ws[64], en[64], url[64];
    snprintf(ws, sizeof ws, "ws://127.0.0.1:%u", (unsigned)hive_server_port_at(g_srv, 1));
    snprintf(url, sizeof url, "ws://127.0.0.1:%u/", (unsigned)hive_server_port_at(g_srv, 1));
    snprintf(en, sizeof en, "enet://127.0.0.1:%u", (unsigned)hive_server_port_at(g_srv, 0));
    double js = js_rtt(url);
    double c = c_rtt(ws);
    double ce = c_rtt(en);
    printf("hive-bench web.js_rtt value=%.1f unit=us\n", js);
    printf("hive-bench web.c_rtt value=%.1f unit=us\n", c);
    printf("hive-bench web.c_enet_rtt value=%.1f unit=us\n", ce);
    printf("hive-bench web.js_rtt ratio=%.3f vs=web.c_rtt\n", c > 0 ? js / c : 0.0);
    hive_server_destroy(g_srv);
    hive_bus_destroy(bus);
    return js > 0 && c > 0 && ce > 0 ? 0 : 1;
}
