/*
 * opts.h - the command line both demo programs share.
 */
#ifndef DEMO_OPTS_H
#define DEMO_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct demo_opts {
    /* where */
    const char *host;          /* default 127.0.0.1 */
    int port;                  /* default 7777; server: 0 = any free port */
    const char *transport;     /* enet (default), tcp, tls, enet+tls, ws, wss */
    const char *cert, *key, *ca;
    bool insecure;             /* client: do not verify the server certificate */
    /* how fast */
    double tick_hz, net_hz;    /* defaults 60 and 30 */
    double duration;           /* seconds; 0 = until stopped */
    bool quiet;
    uint32_t seed;
    const char *netsim;        /* --netsim SPEC: the config's netsim (NULL: HIVE_NETSIM) */
    /* server */
    int max_players;
    int web_port;              /* --web PORT: a ws:// listener that also serves the web
                                  arena; -1 = none, 0 = any free port */
    const char *web_root;      /* the files it serves (default "web") */
    /* server, in a cluster (NATS): docs/SCALING.md */
    const char *nats;          /* --nats URL: join the cluster (NULL: alone) */
    const char *node;          /* --node NAME: this server's name there */
    bool lobby;                /* --lobby: send every player to an arena shard */
    double move_after;         /* --move-after S: move one player to another shard, once */
    /* client */
    const char *name;
    bool bot;
    bool spectate;             /* watch only: the view from remote subscriptions */
    bool headless;             /* no window at all (bots in scripts) */
    const char *screenshot;
    double after;              /* seconds before the screenshot */
    double chat_every;         /* bot: seconds between idle chat lines; 0 = default */
} demo_opts;

/* demo_opts_parse - fill o from argv. Returns 0 to go on, 1 when --help
 * was printed (exit 0), -1 after printing an error (exit 2). */
int demo_opts_parse(demo_opts *o, int argc, char **argv, bool server);

/* demo_opts_addr - "transport://host:port" for hive_server_bind /
 * hive_client_connect. */
void demo_opts_addr(const demo_opts *o, char *buf, size_t n);

#endif
