/*
 * opts.c - getopt_long over the options of opts.h, one help text each.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "opts.h"

static const char server_help[] =
"usage: hive-demo-server [options]\n"
"\n"
"The authoritative, headless server of the Hive demo: a game of tag.\n"
"It logs what its bus sees (joins, handshakes, tags, chat, closes).\n"
"\n"
"  --host HOST          address to listen on (default 127.0.0.1; 0.0.0.0 for a LAN)\n"
"  --port PORT          port (default 7777; 0 = any free port, printed at start)\n"
"  --transport T        enet (default, UDP), tcp, tls, enet+tls, ws or wss\n"
"  --cert FILE          TLS: certificate chain (PEM), for tls, enet+tls and wss\n"
"  --key FILE           TLS: private key (PEM; default: in --cert)\n"
"  --ca FILE            TLS: CA bundle to check client certificates\n"
"  --secure             play over enet+tls with certs/server.pem and certs/server.key\n"
"                       (make certs writes them); --cert/--key still override\n"
"  --tick-hz HZ         simulation rate (default 60)\n"
"  --net-hz HZ          snapshot rate (default 30)\n"
"  --max-players N      arena size (default 16, at most 16)\n"
"  --web PORT           also listen on ws://HOST:PORT and serve the arena's web\n"
"                       page there: browsers open http://HOST:PORT/arena/\n"
"                       (0 = any free port, printed at start)\n"
"  --web-root DIR       the files --web serves (default web, the repository's\n"
"                       web/ folder; `make web-deps` installs its modules); with\n"
"                       --transport ws or wss the main listener serves them too\n"
"  --duration SECONDS   stop after this long (default: until Ctrl-C)\n"
"  --nats URL           be one server of a cluster on NATS (nats://127.0.0.1:4222,\n"
"                       or a comma-separated list): chat and scores are global,\n"
"                       and players can be moved between servers\n"
"  --node NAME          this server's name in the cluster (default arena-PORT)\n"
"  --lobby              the cluster's lobby: each player is sent on to the arena\n"
"                       shard that owns it (its game goes on there)\n"
"  --move-after SECONDS an arena shard: after this long, move one player to\n"
"                       another shard mid-game, once\n"
"  --seed N             spawn positions (default 1)\n"
"  --netsim SPEC        play over a simulated bad network, e.g.\n"
"                       \"loss=10%,latency=150ms,cut_every=8s\" (see HIVE_NETSIM)\n"
"  --quiet              log only the start and the summary\n"
"  --help               this text\n"
"\n"
"What clients may subscribe to (remote subscriptions; a spectator,\n"
"hive-demo-client --spectate, uses nothing else):\n"
"  arena:snapshot       every player's position and score, 30 Hz (unreliable)\n"
"  arena:roster         who is playing, once a second\n"
"  arena:**             joins, leaves, tags, scores, chat, announcements,\n"
"                       mutual tags and milestones (reliable)\n";

static const char client_help[] =
"usage: hive-demo-client [options]\n"
"\n"
"An SDL2 window on the Hive demo arena. Arrow keys or WASD move, Enter\n"
"opens the chat box, Enter sends, Escape cancels or quits.\n"
"\n"
"  --host HOST          server address (default 127.0.0.1)\n"
"  --port PORT          server port (default 7777)\n"
"  --transport T        enet (default, UDP), tcp, tls, enet+tls, ws or wss\n"
"  --ca FILE            TLS: CA bundle that signed the server (default: system)\n"
"  --cert FILE          TLS: client certificate, for servers that ask for one\n"
"  --key FILE           TLS: its private key\n"
"  --insecure           TLS: do not verify the server's certificate (local tests)\n"
"  --secure             play over enet+tls, trusting certs/ca.pem (make certs);\n"
"                       --transport tls and --ca still override\n"
"  --name NAME          your name in the arena (default: player)\n"
"  --bot                move (and chat) by itself\n"
"  --spectate           watch without playing: positions, tags, chat and\n"
"                       scores come from remote subscriptions alone\n"
"  --headless           no window at all (bots in scripts and load runs)\n"
"  --tick-hz HZ         input and prediction rate (default 60; match the server)\n"
"  --net-hz HZ          statistics rate (default 30)\n"
"  --duration SECONDS   leave the game after this long\n"
"  --screenshot FILE    save the window as a PNG, then exit...\n"
"  --after SECONDS      ...this long after start (default 3)\n"
"  --seed N             the bot's randomness\n"
"  --netsim SPEC        play over a simulated bad network, e.g.\n"
"                       \"loss=10%,latency=150ms,cut_every=8s\" (see HIVE_NETSIM)\n"
"  --quiet              print only errors and the final summary\n"
"  --help               this text\n"
"\n"
"Without a display, run it with SDL_VIDEODRIVER=dummy (it sets that itself\n"
"when neither DISPLAY nor WAYLAND_DISPLAY is set).\n";

enum { O_HOST = 256, O_PORT, O_TRANSPORT, O_CERT, O_KEY, O_CA, O_INSECURE, O_TICK, O_NET,
       O_DURATION, O_QUIET, O_SEED, O_MAXP, O_NAME, O_BOT, O_HEADLESS, O_SHOT, O_AFTER,
       O_CHAT, O_SECURE, O_NETSIM, O_SPECTATE, O_WEB, O_WEBROOT, O_HELP, O_NATS, O_NODE, O_LOBBY, O_MOVE };

static bool number(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= lo && v <= hi)) return false;
    *out = v;
    return true;
}

int demo_opts_parse(demo_opts *o, int argc, char **argv, bool server)
{
    static const struct option longopts[] = {
        { "host", required_argument, 0, O_HOST }, { "port", required_argument, 0, O_PORT },
        { "transport", required_argument, 0, O_TRANSPORT }, { "cert", required_argument, 0, O_CERT },
        { "key", required_argument, 0, O_KEY }, { "ca", required_argument, 0, O_CA },
        { "insecure", no_argument, 0, O_INSECURE }, { "tick-hz", required_argument, 0, O_TICK },
        { "net-hz", required_argument, 0, O_NET }, { "duration", required_argument, 0, O_DURATION },
        { "quiet", no_argument, 0, O_QUIET }, { "seed", required_argument, 0, O_SEED },
        { "max-players", required_argument, 0, O_MAXP }, { "name", required_argument, 0, O_NAME },
        { "bot", no_argument, 0, O_BOT }, { "headless", no_argument, 0, O_HEADLESS },
        { "screenshot", required_argument, 0, O_SHOT }, { "after", required_argument, 0, O_AFTER },
        { "chat-every", required_argument, 0, O_CHAT }, { "help", no_argument, 0, O_HELP },
        { "secure", no_argument, 0, O_SECURE }, { "netsim", required_argument, 0, O_NETSIM },
        { "spectate", no_argument, 0, O_SPECTATE }, { "web", required_argument, 0, O_WEB },
        { "web-root", required_argument, 0, O_WEBROOT },
        { "nats", required_argument, 0, O_NATS }, { "node", required_argument, 0, O_NODE },
        { "lobby", no_argument, 0, O_LOBBY }, { "move-after", required_argument, 0, O_MOVE },
        { 0, 0, 0, 0 },
    };
    const char *prog = server ? "hive-demo-server" : "hive-demo-client";
    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->port = 7777;
    o->transport = "enet";
    o->tick_hz = 60;
    o->net_hz = 30;
    o->seed = 1;
    o->max_players = 16;
    o->name = "player";
    o->after = 3;
    o->web_port = -1;
    optind = 1;
    opterr = 0;
    int c;
    double v;
    bool secure = false, transport_set = false;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        const char *bad = NULL;
        switch (c) {
        case O_HOST: o->host = optarg; break;
        case O_PORT: if (number(optarg, server ? 0 : 1, 65535, &v)) o->port = (int)v; else bad = "--port"; break;
        case O_TRANSPORT:
            o->transport = optarg;
            transport_set = true;
            if (strcmp(optarg, "enet") && strcmp(optarg, "tcp") && strcmp(optarg, "tls") &&
                strcmp(optarg, "enet+tls") && strcmp(optarg, "ws") && strcmp(optarg, "wss"))
                bad = "--transport (enet, tcp, tls, enet+tls, ws, wss)";
            break;
        case O_CERT: o->cert = optarg; break;
        case O_KEY: o->key = optarg; break;
        case O_CA: o->ca = optarg; break;
        case O_INSECURE: o->insecure = true; break;
        case O_TICK: if (number(optarg, 1, 1000, &v)) o->tick_hz = v; else bad = "--tick-hz"; break;
        case O_NET: if (number(optarg, 1, 1000, &v)) o->net_hz = v; else bad = "--net-hz"; break;
        case O_DURATION: if (number(optarg, 0, 1e6, &v)) o->duration = v; else bad = "--duration"; break;
        case O_QUIET: o->quiet = true; break;
        case O_SEED: if (number(optarg, 0, 4294967295.0, &v)) o->seed = (uint32_t)v; else bad = "--seed"; break;
        case O_MAXP: if (number(optarg, 1, 16, &v)) o->max_players = (int)v; else bad = "--max-players (1-16)"; break;
        case O_NAME: o->name = optarg; break;
        case O_BOT: o->bot = true; break;
        case O_SPECTATE: if (server) { fprintf(stderr, "%s: unknown option '--spectate' (try --help)\n", prog); return -1; }
                         o->spectate = true; break;
        case O_WEB: case O_WEBROOT:
            if (!server) { fprintf(stderr, "%s: unknown option '%s' (try --help)\n", prog, argv[optind - 1]); return -1; }
            if (c == O_WEBROOT) o->web_root = optarg;
            else if (number(optarg, 0, 65535, &v)) o->web_port = (int)v;
            else bad = "--web";
            break;
        case O_NATS: case O_NODE: case O_LOBBY: case O_MOVE:
            if (!server) { fprintf(stderr, "%s: unknown option '%s' (try --help)\n", prog, argv[optind - 1]); return -1; }
            if (c == O_NATS) o->nats = optarg;
            else if (c == O_NODE) o->node = optarg;
            else if (c == O_LOBBY) o->lobby = true;
            else if (number(optarg, 0.1, 1e6, &v)) o->move_after = v;
            else bad = "--move-after";
            break;
        case O_HEADLESS: o->headless = true; break;
        case O_SHOT: o->screenshot = optarg; break;
        case O_AFTER: if (number(optarg, 0, 3600, &v)) o->after = v; else bad = "--after"; break;
        case O_CHAT: if (number(optarg, 0.1, 3600, &v)) o->chat_every = v; else bad = "--chat-every"; break;
        case O_SECURE: secure = true; break;
        case O_NETSIM: o->netsim = optarg; break;   /* checked by create, which names a bad key */
        case O_HELP: fputs(server ? server_help : client_help, stdout); return 1;
        default:
            fprintf(stderr, "%s: unknown option '%s' (try --help)\n", prog, argv[optind - 1]);
            return -1;
        }
        if (bad) {
            fprintf(stderr, "%s: bad value '%s' for %s (try --help)\n", prog, optarg, bad);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s' (try --help)\n", prog, argv[optind]);
        return -1;
    }
    /* One flag for a secured game: the files `make certs` writes, unless
     * the user named others. A server needs its certificate and key; a
     * client the CA that signed them (the host name is still checked). */
    if (secure) {
        if (!transport_set) o->transport = "enet+tls";
        if (server) {
            if (!o->cert) o->cert = "certs/server.pem";
            if (!o->key) o->key = "certs/server.key";
        } else if (!o->ca) {
            o->ca = "certs/ca.pem";
        }
    }
    if ((o->lobby || o->move_after > 0 || o->node) && !o->nats) {
        fprintf(stderr, "%s: --lobby, --node and --move-after need --nats\n", prog);
        return -1;
    }
    if (o->screenshot && o->headless) {
        fprintf(stderr, "%s: --screenshot needs a window; drop --headless\n", prog);
        return -1;
    }
    return 0;
}

void demo_opts_addr(const demo_opts *o, char *buf, size_t n)
{
    bool v6 = strchr(o->host, ':') != NULL;
    snprintf(buf, n, "%s://%s%s%s:%d", o->transport, v6 ? "[" : "", o->host, v6 ? "]" : "", o->port);
}
