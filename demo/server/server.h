/*
 * server.h - the demo server's state, shared by its files:
 *
 *   main.c      command line, setup, the loop, the summary
 *   core.c      the game core: network messages in, world ticks, snapshots out
 *   features.c  server features written purely as bus subscribers
 *   logger.c    the live log of what the bus saw
 *
 * The core turns packets into world changes and publishes what happened
 * as the server's own events, namespace `arena:` (the `demo:` names are
 * the wire's packet types):
 *
 *   arena:join      {cid, name}
 *   arena:leave     {cid, name, reason, reason_name}
 *   arena:tag       {tagger, tagged, tagger_name, tagged_name, seconds, time, idle}
 *                   idle = 1: no touch, the tagger stood still too long
 *   arena:score     {cid, name, score}            a player's whole points went up
 *   arena:chat      {cid, name, text}
 *   arena:announce  {text}                        anyone may publish; the core
 *                                                 sends it to every player
 *   arena:mutualtag {a, b, a_name, b_name, seconds}   (features.c)
 *   arena:milestone {cid, name, score}                (features.c)
 */
#ifndef DEMO_SERVER_H
#define DEMO_SERVER_H

#include <hive/hive.h>
#include <hive/engine.h>
#include "demo/common/game.h"
#include "demo/common/opts.h"
#include "demo/common/proto.h"
#include "demo/common/snapshot.h"

#define DEMO_MAX_CONNS 32

typedef struct demo_server demo_server;

/* One connection, from accept to close. Fixed slots: a timer may point at
 * one safely. */
typedef struct demo_conn {
    bool used;
    hive_cid cid;
    bool joined;
    int join_timer;
    double chat_window;        /* start of the current 5 s chat window */
    int chat_count;
    bool spectator;            /* conntype "spectator": watches, never joins */
    demo_server *ds;
} demo_conn;

typedef struct demo_counts {
    uint64_t accepts, joins, leaves, clean_leaves, tags, chats;
    uint64_t snapshots, snapshot_bytes;
    uint64_t rtt_sum_ms, rtt_samples;
    uint64_t spectators;
    uint64_t handed_in;        /* players sent here by another server (cluster) */
} demo_counts;

struct demo_server {
    const demo_opts *opts;
    hive_bus *bus;
    hive_engine *engine;
    hive_server *srv;
    demo_world world;
    demo_conn conns[DEMO_MAX_CONNS];
    uint32_t last_score[DEMO_MAX_PLAYERS];
    uint32_t snap_seq;
    int pid_snapshot, pid_pong;
    hive_msg msg;              /* reused for every message built */
    hive_event_id ev_join, ev_leave, ev_tag, ev_score, ev_chat, ev_announce;
    hive_event_id ev_snapshot, ev_roster;   /* for remote subscribers (spectators) */
    demo_counts n;
};

/* core.c */
int demo_game_install(demo_server *ds);
void demo_game_uninstall(demo_server *ds);

/* cluster.c: with --nats, this server as one of a cluster (chat and
 * scores across servers, shards, handoffs). NULL without --nats, or on a
 * setup error (printed; *failed set). */
typedef struct demo_cluster demo_cluster;
demo_cluster *demo_cluster_install(demo_server *ds, bool *failed);
void demo_cluster_summary(const demo_cluster *cl);
void demo_cluster_uninstall(demo_cluster *cl);

/* features.c */
typedef struct demo_features demo_features;
demo_features *demo_features_install(hive_bus *bus);
void demo_features_uninstall(demo_features *f);

/* logger.c */
int demo_logger_install(demo_server *ds);

/* demo_announce - publish arena:announce (the core sends it to players). */
void demo_announce(hive_bus *bus, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
