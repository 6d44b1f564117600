/*
 * cluster.c - the demo server as one of a cluster on NATS (--nats), built
 * as bus subscribers on top of the game core, like features.c:
 *
 *   every server    chat and scores are global: arena:chat and arena:score
 *                   are exported and imported; a line from another server
 *                   reaches this one's players as an announcement, and a
 *                   score goes on the cluster's scoreboard (the summary)
 *   an arena shard  is a member of the shard set "arena" at the address its
 *                   players dial, takes players other servers hand it, and
 *                   with --move-after moves one of its players to another
 *                   shard mid-game, once (the player keeps its name there)
 *   the lobby       (--lobby) watches the set and sends each player, as it
 *                   arrives, to the shard that owns it (its cid is the key);
 *                   with no shard known yet the player stays and plays here
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hive/bridge.h>
#include "demo/common/log.h"
#include "server.h"

#define SCOREBOARD_MAX 64

struct demo_cluster {
    demo_server *ds;
    hive_bridge *br;
    char self[HIVE_BRIDGE_ORIGIN_MAX];
    bool moved;
    uint64_t handoffs_ok, handoffs_failed, cross_chat, cross_scores, members_seen;
    struct { char name[48]; char node[HIVE_BRIDGE_ORIGIN_MAX]; int64_t score; } board[SCOREBOARD_MAX];
    int nboard;
};

static void board_set(demo_cluster *cl, const char *node, const char *name, int64_t score)
{
    for (int i = 0; i < cl->nboard; i++)
        if (strcmp(cl->board[i].name, name) == 0) {
            snprintf(cl->board[i].node, sizeof cl->board[i].node, "%s", node);
            cl->board[i].score = score;
            return;
        }
    if (cl->nboard == SCOREBOARD_MAX) return;
    snprintf(cl->board[cl->nboard].name, sizeof cl->board[0].name, "%s", name);
    snprintf(cl->board[cl->nboard].node, sizeof cl->board[0].node, "%s", node);
    cl->board[cl->nboard].score = score;
    cl->nboard++;
}

/* arena:chat - ours go out by themselves (exported); one from another
 * server is told to our players */
static void on_chat(const hive_event *ev, void *user)
{
    demo_cluster *cl = user;
    const char *from = hive_event_str(ev, HIVE_BRIDGE_ORIGIN_FIELD);
    if (!from) return;
    cl->cross_chat++;
    char name[DEMO_NAME_MAX], text[160];
    const char *n = hive_event_str(ev, "name"), *t = hive_event_str(ev, "text");
    demo_clean_text(name, sizeof name, n ? n : "?", n ? strlen(n) : 1);
    demo_clean_text(text, sizeof text, t ? t : "", t ? strlen(t) : 0);
    demo_announce(cl->ds->bus, "[%s] %s: %s", from, name, text);
}

static void on_score(const hive_event *ev, void *user)
{
    demo_cluster *cl = user;
    const char *from = hive_event_str(ev, HIVE_BRIDGE_ORIGIN_FIELD);
    const char *name = hive_event_str(ev, "name");
    if (!name) return;
    if (from) cl->cross_scores++;
    board_set(cl, from ? from : cl->self, name, hive_event_int(ev, "score", 0));
}

static void on_handoff_done(const hive_event *ev, void *user)
{
    demo_cluster *cl = user;
    bool ok = hive_event_int(ev, "ok", 0) != 0;
    if (ok)
        cl->handoffs_ok++;
    else
        cl->handoffs_failed++;
    if (ok)
        demo_say("cluster: player %lld handed off to %s", (long long)hive_event_int(ev, "cid", 0),
                 hive_event_str(ev, "target"));
    else
        demo_say("cluster: player %lld stays here: %s did not take it (%s)", (long long)hive_event_int(ev, "cid", 0),
                 hive_event_str(ev, "target"), hive_event_str(ev, "error"));
}

static void on_member(const hive_event *ev, void *user)
{
    demo_cluster *cl = user;
    bool joined = strcmp(ev->name, HIVE_EV_NATS_SHARD_JOINED) == 0;
    if (joined) cl->members_seen++;
    demo_say("cluster: shard %s %s (%s)%s%s", hive_event_str(ev, "name"), joined ? "joined" : "left",
             hive_event_str(ev, "addr"), joined ? "" : ", ", joined ? "" : hive_event_str(ev, "why"));
}

/* The lobby: a player who finished its handshake goes on to its shard. */
static void on_handshake(const hive_event *ev, void *user)
{
    demo_cluster *cl = user;
    const char *ct = hive_event_str(ev, "conntype");
    if (ct && strcmp(ct, "spectator") == 0) return;
    hive_cid cid = (hive_cid)hive_event_int(ev, "cid", 0);
    char key[16];
    snprintf(key, sizeof key, "%u", cid);
    hive_shard_member m;
    if (hive_bridge_shard_for(cl->br, "arena", key, strlen(key), &m) != HIVE_OK) {
        demo_say("cluster: no arena shard known yet: player %u plays in the lobby", cid);
        return;
    }
    int rc = hive_bridge_handoff(cl->br, cl->ds->srv, cid, m.name, m.addr, NULL, 0, 2000);
    if (rc != HIVE_OK) demo_say("cluster: cannot send player %u to %s: %s", cid, m.name, hive_strerror(rc));
}

/* A shard with --move-after: one player goes to another shard, keeping
 * its name (the handoff's data), once. */
static void move_one(hive_engine *e, int timer, void *user)
{
    demo_cluster *cl = user;
    demo_server *ds = cl->ds;
    hive_shard_member all[8];
    int n = hive_bridge_shard_members(cl->br, "arena", all, 8);
    const hive_shard_member *to = NULL;
    for (int i = 0; i < n && i < 8; i++)
        if (strcmp(all[i].name, cl->self) != 0) to = &all[i];
    const demo_player *p = NULL;
    for (int i = 0; i < DEMO_MAX_CONNS && !p && to; i++)
        if (ds->conns[i].used && ds->conns[i].joined) p = demo_world_find(&ds->world, ds->conns[i].cid);
    if (!to || !p) {
        hive_engine_after(ds->engine, 1000, move_one, cl);   /* nobody to move, or nowhere yet */
        return;
    }
    char name[DEMO_NAME_MAX];
    snprintf(name, sizeof name, "%s", p->name);
    demo_announce(ds->bus, "%s is moving to %s", name, to->name);
    int rc = hive_bridge_handoff(cl->br, ds->srv, p->id, to->name, to->addr, name, strlen(name), 2000);
    if (rc != HIVE_OK) {
        demo_say("cluster: cannot move %s to %s: %s", name, to->name, hive_strerror(rc));
        hive_engine_after(ds->engine, 1000, move_one, cl);
    }
}

demo_cluster *demo_cluster_install(demo_server *ds, bool *failed)
{
    *failed = false;
    const demo_opts *o = ds->opts;
    if (!o->nats) return NULL;
    demo_cluster *cl = calloc(1, sizeof *cl);
    if (!cl) goto fail;
    cl->ds = ds;
    if (o->node)
        snprintf(cl->self, sizeof cl->self, "%s", o->node);
    else
        snprintf(cl->self, sizeof cl->self, "%s-%u", o->lobby ? "lobby" : "arena", hive_server_port(ds->srv));
    /* HIVE_HANDOFF_KEY: the cluster's shared secret for signed handoffs
     * (from the environment, so it shows in no process listing) */
    const char *key = getenv("HIVE_HANDOFF_KEY");
    cl->br = hive_bridge_create(&(hive_bridge_config){ .url = o->nats, .name = cl->self, .shard_heartbeat_ms = 500,
                                                       .handoff_key = key && *key ? key : NULL },
                                ds->bus);
    if (!cl->br) {
        fprintf(stderr, "hive-demo-server: --nats: %s\n", hive_create_error()->message);
        goto fail;
    }
    char addr[256];
    bool v6 = strchr(o->host, ':') != NULL;
    bool any = strcmp(o->host, "0.0.0.0") == 0 || strcmp(o->host, "::") == 0;
    snprintf(addr, sizeof addr, "%s://%s%s%s:%u", o->transport, v6 && !any ? "[" : "", any ? "127.0.0.1" : o->host,
             v6 && !any ? "]" : "", hive_server_port(ds->srv));
    int rc = hive_bridge_export(cl->br, "arena:chat");
    if (rc == HIVE_OK) rc = hive_bridge_import(cl->br, "arena:chat");
    if (rc == HIVE_OK) rc = hive_bridge_export(cl->br, "arena:score");
    if (rc == HIVE_OK) rc = hive_bridge_import(cl->br, "arena:score");
    if (rc == HIVE_OK) rc = o->lobby ? hive_bridge_shard_watch(cl->br, "arena") : hive_bridge_serve_handoffs(cl->br, ds->srv);
    if (rc == HIVE_OK && !o->lobby) rc = hive_bridge_shard_join(cl->br, "arena", addr);
    if (rc >= 0) rc = hive_bus_subscribe(ds->bus, "arena:chat", on_chat, cl, NULL);
    if (rc >= 0) rc = hive_bus_subscribe(ds->bus, "arena:score", on_score, cl, NULL);
    if (rc >= 0) rc = hive_bus_subscribe(ds->bus, HIVE_EV_NATS_HANDOFF, on_handoff_done, cl, NULL);
    if (rc >= 0) rc = hive_bus_subscribe(ds->bus, "nats:shard.*", on_member, cl, NULL);
    if (rc >= 0 && o->lobby) rc = hive_bus_subscribe(ds->bus, HIVE_EV_SERVER_HANDSHAKE, on_handshake, cl, NULL);
    if (rc >= 0 && o->move_after > 0) rc = hive_engine_after(ds->engine, (uint64_t)(o->move_after * 1000), move_one, cl);
    if (rc < 0) {
        fprintf(stderr, "hive-demo-server: cluster setup: %s\n", hive_strerror(rc));
        goto fail;
    }
    demo_say("cluster: %s %s on %s%s%s", o->lobby ? "lobby" : "arena shard", cl->self, o->nats,
             o->lobby ? "" : ", players dial ", o->lobby ? "" : addr);
    return cl;
fail:
    if (cl) hive_bridge_destroy(cl->br);
    free(cl);
    *failed = true;
    return NULL;
}

void demo_cluster_summary(const demo_cluster *cl)
{
    if (!cl) return;
    hive_bridge_counters st = { 0 };
    hive_bridge_stats(cl->br, &st);
    demo_say("summary: cluster node=%s handoffs_out=%llu handoffs_failed=%llu handed_in=%llu cross_chat=%llu "
             "cross_scores=%llu bridged_out=%llu bridged_in=%llu dropped=%llu",
             cl->self, (unsigned long long)cl->handoffs_ok, (unsigned long long)cl->handoffs_failed,
             (unsigned long long)cl->ds->n.handed_in, (unsigned long long)cl->cross_chat,
             (unsigned long long)cl->cross_scores, (unsigned long long)st.exported, (unsigned long long)st.imported,
             (unsigned long long)(st.dropped_in + st.dropped_out));
    char line[1024] = "";
    for (int i = 0; i < cl->nboard; i++) {
        size_t at = strlen(line);
        snprintf(line + at, sizeof line - at, "%s%s@%s=%lld", i ? " " : "", cl->board[i].name, cl->board[i].node,
                 (long long)cl->board[i].score);
    }
    demo_say("summary: cluster scoreboard %s", cl->nboard ? line : "(no scores yet)");
}

void demo_cluster_uninstall(demo_cluster *cl)
{
    if (!cl) return;
    hive_bridge_destroy(cl->br);
    free(cl);
}
