/*
 * main.c - hive-demo-server: set up a bus, an engine and a server, plug
 * the game in as bus subscribers, run, print what happened.
 *
 * Headless: it links the engine's loop but never its SDL half.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "demo/common/log.h"
#include "server.h"

static hive_engine *volatile g_engine;
static hive_server *volatile g_server;

/* Both calls are async-signal-safe: an atomic flag, and a wake-up. */
static void on_signal(int sig)
{
    if (g_engine) hive_engine_stop(g_engine);
    if (g_server) hive_server_interrupt(g_server);
}

static void stop_after(hive_engine *e, int timer, void *user)
{
    demo_log("demo", "duration reached, stopping");
    hive_engine_stop(e);
}

static void print_summary(demo_server *ds)
{
    hive_net_stats ns = { 0 };
    hive_server_stats(ds->srv, &ns);
    hive_bus_counters bc = { 0 };
    hive_bus_stats(ds->bus, &bc);
    uint64_t mutual = hive_bus_count(ds->bus, hive_bus_lookup(ds->bus, "arena:mutualtag"));
    uint64_t milestones = hive_bus_count(ds->bus, hive_bus_lookup(ds->bus, "arena:milestone"));
    double rtt = ds->n.rtt_samples ? (double)ds->n.rtt_sum_ms / (double)ds->n.rtt_samples : -1;
    demo_say("%s", "");
    demo_say("summary: %llu players joined, %llu left (%llu cleanly)",
             (unsigned long long)ds->n.joins, (unsigned long long)ds->n.leaves,
             (unsigned long long)ds->n.clean_leaves);
    demo_say("summary: %llu tags (%llu mutual), %llu chat lines, %llu milestones",
             (unsigned long long)ds->n.tags, (unsigned long long)mutual,
             (unsigned long long)ds->n.chats, (unsigned long long)milestones);
    demo_say("summary: %llu snapshots sent (%.1f kB); messages %llu in, %llu out (%.1f kB in, %.1f kB out)",
             (unsigned long long)ds->n.snapshots, ds->n.snapshot_bytes / 1024.0,
             (unsigned long long)ns.frames_in, (unsigned long long)ns.frames_out,
             ns.bytes_in / 1024.0, ns.bytes_out / 1024.0);
    if (rtt >= 0)
        demo_say("summary: average round trip %.2f ms (%llu samples)", rtt,
                 (unsigned long long)ds->n.rtt_samples);
    else
        demo_say("summary: average round trip n/a (no samples)");
    demo_say("summary: the bus carried %llu events (%llu handler calls)",
             (unsigned long long)(bc.published + bc.dispatched), (unsigned long long)bc.delivered);
    /* One line for scripts and tests. */
    demo_say("hive-demo-server summary joins=%llu leaves=%llu clean=%llu tags=%llu mutual=%llu "
             "chats=%llu milestones=%llu snapshots=%llu frames_in=%llu frames_out=%llu rtt_ms=%.2f "
             "spectators=%llu remote_dropped=%llu",
             (unsigned long long)ds->n.joins, (unsigned long long)ds->n.leaves,
             (unsigned long long)ds->n.clean_leaves, (unsigned long long)ds->n.tags,
             (unsigned long long)mutual, (unsigned long long)ds->n.chats,
             (unsigned long long)milestones, (unsigned long long)ds->n.snapshots,
             (unsigned long long)ns.frames_in, (unsigned long long)ns.frames_out, rtt,
             (unsigned long long)ds->n.spectators, (unsigned long long)ns.remote_dropped);
}

/* What clients may subscribe to (remote subscriptions): the spectator's
 * whole view. The first export that covers a request gives its delivery,
 * so positions (unreliable) come before the catch-all. Listed in --help
 * and in the start log. */
static const struct { const char *pattern; bool unreliable; } g_exports[] = {
    { "arena:snapshot", true },
    { "arena:roster", false },
    { "arena:**", false },
};

static int export_all(hive_server *srv)
{
    for (size_t i = 0; i < sizeof g_exports / sizeof g_exports[0]; i++) {
        int rc = hive_server_export(srv, g_exports[i].pattern,
                                    &(hive_export_opts){ .unreliable = g_exports[i].unreliable });
        if (rc < 0) return rc;
    }
    return 0;
}

/* The page and the one module it imports from node_modules must be there,
 * or a browser would get a 404 with no hint why: say so at start. */
static bool web_files_present(const char *root)
{
    static const char *const need[][2] = {
        { "/arena/index.html", "run the server from the repository, or name the folder with --web-root" },
        { "/hive.js", "--web-root names a folder without the Hive JavaScript client" },
        { "/node_modules/@msgpack/msgpack/dist.esm/index.mjs", "run `make web-deps` (npm ci in web/)" },
    };
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s%s", root, need[i][0]);
        FILE *f = fopen(path, "rb");
        if (!f) {
            fprintf(stderr, "hive-demo-server: no %s: %s\n", path, need[i][1]);
            return false;
        }
        fclose(f);
    }
    return true;
}

int main(int argc, char **argv)
{
    demo_opts opts;
    int prc = demo_opts_parse(&opts, argc, argv, true);
    if (prc != 0) return prc > 0 ? 0 : 2;
    demo_log_init(opts.quiet);

    static demo_server ds;     /* large (the world); static keeps it off the stack */
    ds.opts = &opts;
    int rc = 1;
    demo_features *features = NULL;
    demo_cluster *cluster = NULL;
    char addr[640];
    demo_opts_addr(&opts, addr, sizeof addr);
    /* The web arena: a second listener, ws://, in the same session space,
     * serving the page's files on plain GETs; with a ws or wss main
     * listener the files come from that one too. */
    bool ws_main = strcmp(opts.transport, "ws") == 0 || strcmp(opts.transport, "wss") == 0;
    const char *web_root = NULL;
    if (opts.web_port >= 0) {
        size_t at = strlen(addr);
        bool v6 = strchr(opts.host, ':') != NULL;
        snprintf(addr + at, sizeof addr - at, ",ws://%s%s%s:%d", v6 ? "[" : "", opts.host, v6 ? "]" : "",
                 opts.web_port);
    }
    if (opts.web_port >= 0 || (ws_main && opts.web_root)) {
        web_root = opts.web_root ? opts.web_root : "web";
        if (!web_files_present(web_root)) goto out;
    }

    ds.bus = hive_bus_create(NULL);
    if (!ds.bus) goto out;
    ds.engine = hive_engine_create(&(hive_engine_config){
        .bus = ds.bus, .tick_hz = opts.tick_hz, .net_hz = opts.net_hz });
    hive_server_config scfg = {
        .max_connections = (uint32_t)opts.max_players,
        .app = DEMO_APP, .app_version = DEMO_APP_VERSION,
        .tls = { .cert_file = opts.cert, .key_file = opts.key, .ca_file = opts.ca,
                 .client_auth = opts.ca ? HIVE_TLS_CLIENT_OPTIONAL : HIVE_TLS_CLIENT_NONE },
        .netsim = opts.netsim,
        .web_root = web_root,
    };
    ds.srv = hive_server_create(&scfg, ds.bus);
    if (!ds.engine || !ds.srv) {
        fprintf(stderr, "hive-demo-server: cannot create the %s: %s\n", ds.engine ? "server" : "engine",
                hive_create_error()->message);
        goto out;
    }
    if ((rc = demo_proto_register(ds.srv)) < 0 || (rc = export_all(ds.srv)) < 0 ||
        (rc = demo_logger_install(&ds)) < 0 ||
        (rc = demo_game_install(&ds)) < 0 ||
        !(features = demo_features_install(ds.bus))) {
        fprintf(stderr, "hive-demo-server: setup failed: %s\n", hive_strerror(rc < 0 ? rc : HIVE_ENOMEM));
        rc = 1;
        goto out;
    }
    if ((rc = hive_server_bind(ds.srv, addr)) < 0 || (rc = hive_server_start(ds.srv)) < 0) {
        fprintf(stderr, "hive-demo-server: cannot serve on %s: %s\n", addr, hive_strerror(rc));
        rc = 1;
        goto out;
    }
    bool cluster_failed;
    cluster = demo_cluster_install(&ds, &cluster_failed);
    if (cluster_failed) {
        rc = 1;
        goto out;
    }
    /* Scripts read the real port from this line (--port 0). */
    demo_say("hive-demo-server listening on %s://%s:%u (%g Hz simulation, %g Hz snapshots, up to %d players)",
             opts.transport, opts.host, hive_server_port(ds.srv), opts.tick_hz, opts.net_hz,
             opts.max_players);
    char list[256] = "";
    for (size_t i = 0; i < sizeof g_exports / sizeof g_exports[0]; i++) {
        const char *p;
        bool unrel;
        if (hive_server_exports(ds.srv, i, &p, &unrel) != HIVE_OK) break;
        size_t at = strlen(list);
        snprintf(list + at, sizeof list - at, "%s%s%s", i ? ", " : "", p, unrel ? " (unreliable)" : "");
    }
    demo_say("clients may subscribe to: %s", list);
    if (web_root) {
        /* Scripts read the page's address from this line (--web 0). */
        bool local = strcmp(opts.host, "0.0.0.0") == 0 || strcmp(opts.host, "::") == 0;
        bool v6 = strchr(opts.host, ':') != NULL && !local;
        demo_say("hive-demo-server web arena at %s://%s%s%s:%u/arena/ (files from %s/)",
                 strcmp(opts.transport, "wss") == 0 && opts.web_port < 0 ? "https" : "http", v6 ? "[" : "",
                 local ? "127.0.0.1" : opts.host, v6 ? "]" : "",
                 hive_server_port_at(ds.srv, opts.web_port >= 0 ? 1 : 0), web_root);
    }

    /* The server is one more service of the loop: the engine waits in it
     * between ticks, so a packet is handled the moment it arrives. */
    hive_engine_attach_server(ds.engine, ds.srv);
    if (opts.duration > 0) hive_engine_after(ds.engine, (uint64_t)(opts.duration * 1000), stop_after, NULL);
    g_engine = ds.engine;
    g_server = ds.srv;
    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    hive_engine_run(ds.engine);

    /* Say goodbye properly: every connection is closed "server_shutdown",
     * the close events run through the same handlers as any other. */
    hive_server_stop(ds.srv);
    hive_server_shutdown(ds.srv);
    g_engine = NULL;
    g_server = NULL;
    print_summary(&ds);
    demo_cluster_summary(cluster);
    rc = 0;
out:
    demo_cluster_uninstall(cluster);
    demo_features_uninstall(features);
    demo_game_uninstall(&ds);
    hive_server_destroy(ds.srv);
    hive_engine_destroy(ds.engine);
    hive_bus_destroy(ds.bus);
    return rc;
}
