/*
 * core.c - the server's game core, written as bus handlers.
 *
 * Nothing here calls the network to ask what happened: every packet
 * arrives as an event (`net:server.recv.demo:join`, ...), every tick as
 * `engine:tick`, every snapshot moment as `engine:nettick`. What the core
 * decides goes out as packets and as `arena:*` events for the features
 * and the log.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "server.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

static demo_conn *conn_find(demo_server *ds, hive_cid cid)
{
    for (int i = 0; i < DEMO_MAX_CONNS; i++)
        if (ds->conns[i].used && ds->conns[i].cid == cid) return &ds->conns[i];
    return NULL;
}

static hive_cid event_cid(const hive_event *ev)
{
    int64_t cid = hive_event_int(ev, "cid", 0);
    return cid > 0 && cid <= UINT32_MAX ? (hive_cid)cid : 0;
}

static const char *player_name(demo_server *ds, uint32_t id)
{
    demo_player *p = demo_world_find(&ds->world, id);
    return p ? p->name : "?";
}

void demo_announce(hive_bus *bus, const char *fmt, ...)
{
    char text[DEMO_CHAT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    hive_field f[] = { HIVE_STR("text", text) };
    hive_bus_publish_name(bus, "arena:announce", f, 1);
}

/* Send ds->msg to everyone (except one connection, or 0). */
static void broadcast(demo_server *ds, const char *name, hive_cid except)
{
    hive_server_broadcast(ds->srv, name, hive_msg_data(&ds->msg), hive_msg_size(&ds->msg), except);
}

/* ------------------------------------------------------------------ */
/* Connections                                                          */
/* ------------------------------------------------------------------ */

static void join_timeout(hive_engine *e, int timer, void *user)
{
    demo_conn *c = user;
    c->join_timer = 0;
    if (c->used && !c->joined)
        hive_server_close(c->ds->srv, c->cid, DEMO_CLOSE_NO_JOIN, "join within 5 seconds");
}

static demo_conn *conn_new(demo_server *ds, hive_cid cid)
{
    for (int i = 0; i < DEMO_MAX_CONNS; i++) {
        demo_conn *c = &ds->conns[i];
        if (c->used) continue;
        memset(c, 0, sizeof *c);
        c->used = true;
        c->cid = cid;
        c->ds = ds;
        /* A connection that never says demo:join is dropped: a timer, not
         * a check in every tick. */
        c->join_timer = hive_engine_after(ds->engine, 5000, join_timeout, c);
        return c;
    }
    hive_server_close(ds->srv, cid, DEMO_CLOSE_FULL, "too many connections");
    return NULL;
}

static void on_accept(const hive_event *ev, void *user)
{
    demo_server *ds = user;
    ds->n.accepts++;
    conn_new(ds, event_cid(ev));
}

static void join_player(demo_server *ds, demo_conn *c, const char *name);

/* A player sent here by another server of the cluster (HANDOFF): its
 * session came with it. data: the name it played under, when it was in a
 * game there (it sends no join again); empty from the lobby (its join
 * follows, replayed from the lobby). */
static void on_handedoff(const hive_event *ev, void *user)
{
    demo_server *ds = user;
    ds->n.handed_in++;
    demo_conn *c = conn_new(ds, event_cid(ev));
    const void *d;
    size_t n;
    if (!c || hive_event_get_bytes(ev, "data", &d, &n) != HIVE_OK || n == 0) return;
    char name[DEMO_NAME_MAX];
    demo_clean_text(name, sizeof name, (const char *)d, n);
    join_player(ds, c, name);
}

static void on_close(const hive_event *ev, void *user)
{
    demo_server *ds = user;
    demo_conn *c = conn_find(ds, event_cid(ev));
    if (!c) return;
    if (c->join_timer > 0) hive_engine_cancel(ds->engine, c->join_timer);
    if (c->joined) {
        demo_player *p = demo_world_find(&ds->world, c->cid);
        char name[DEMO_NAME_MAX];
        snprintf(name, sizeof name, "%s", p ? p->name : "?");
        uint32_t old_it = ds->world.it;
        demo_world_remove(&ds->world, c->cid);
        int reason = (int)hive_event_int(ev, "reason", 0);
        const char *reason_name = hive_event_str(ev, "reason_name");
        if (!reason_name) reason_name = "unknown";
        ds->n.leaves++;
        if (reason == HIVE_CLOSE_NORMAL || reason == HIVE_CLOSE_SERVER_SHUTDOWN || reason == HIVE_CLOSE_REDIRECT)
            ds->n.clean_leaves++;

        hive_msg_reset(&ds->msg);
        hive_msg_map(&ds->msg, 3);
        hive_msg_kv_uint(&ds->msg, "id", c->cid);
        hive_msg_kv_str(&ds->msg, "name", name);
        hive_msg_kv_str(&ds->msg, "reason", reason_name);
        broadcast(ds, DEMO_P_LEFT, c->cid);

        hive_field f[] = { HIVE_INT("cid", c->cid), HIVE_STR("name", name),
                           HIVE_INT("reason", reason), HIVE_STR("reason_name", reason_name) };
        hive_bus_publish(ds->bus, ds->ev_leave, f, 4);
        if (old_it == c->cid && ds->world.it)
            demo_announce(ds->bus, "%s left while \"it\": %s is it now", name,
                          player_name(ds, ds->world.it));
    }
    c->used = false;
}

/* ------------------------------------------------------------------ */
/* Packets                                                              */
/* ------------------------------------------------------------------ */

static void on_join(const hive_event *ev, void *user)
{
    demo_server *ds = user;
    hive_cid cid = event_cid(ev);
    demo_conn *c = conn_find(ds, cid);
    if (!c || c->joined) return;       /* a second join is ignored */
    size_t len;
    const char *s = hive_msg_str_or(hive_event_body(ev), "name", "", &len);
    char name[DEMO_NAME_MAX];
    demo_clean_text(name, sizeof name, s, len);
    join_player(ds, c, name);
}

static void join_player(demo_server *ds, demo_conn *c, const char *name)
{
    hive_cid cid = c->cid;
    if (demo_world_count(&ds->world) >= ds->opts->max_players) {
        hive_server_close(ds->srv, cid, DEMO_CLOSE_FULL, "the arena is full");
        return;
    }
    demo_player *p = demo_world_add(&ds->world, cid, name);
    if (!p) {
        hive_server_close(ds->srv, cid, DEMO_CLOSE_FULL, "no room");
        return;
    }
    c->joined = true;
    if (c->join_timer > 0) hive_engine_cancel(ds->engine, c->join_timer);
    c->join_timer = 0;
    ds->n.joins++;
    ds->last_score[p - ds->world.p] = 0;

    /* To the newcomer: its id, the rates, who is here. */
    hive_msg *m = &ds->msg;
    hive_msg_reset(m);
    hive_msg_map_begin(m);
    hive_msg_kv_uint(m, "id", cid);
    hive_msg_kv_double(m, "tick_hz", ds->opts->tick_hz);
    hive_msg_kv_double(m, "net_hz", ds->opts->net_hz);
    hive_msg_kv_uint(m, "it", ds->world.it);
    hive_msg_key(m, "roster");
    hive_msg_array_begin(m);
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        const demo_player *q = &ds->world.p[i];
        if (!q->used) continue;
        hive_msg_array(m, 2);
        hive_msg_uint(m, q->id);
        hive_msg_str(m, q->name);
    }
    hive_msg_array_end(m);
    hive_msg_map_end(m);
    hive_server_send_msg(ds->srv, cid, DEMO_P_ACCEPTED, m);

    /* To everyone else: a new player. */
    hive_msg_reset(m);
    hive_msg_map(m, 2);
    hive_msg_kv_uint(m, "id", cid);
    hive_msg_kv_str(m, "name", p->name);
    broadcast(ds, DEMO_P_JOINED, cid);

    hive_field f[] = { HIVE_INT("cid", cid), HIVE_STR("name", p->name) };
    hive_bus_publish(ds->bus, ds->ev_join, f, 2);
}

static void on_input(const hive_event *ev, void *user)
{
    demo_server *ds = user;
    const msgpack_object *msg = hive_event_body(ev);
    uint64_t seq, bits;
    if (hive_msg_path_uint(msg, "seq", &seq) == 0 && hive_msg_path_uint(msg, "bits", &bits) == 0 &&
        seq <= UINT32_MAX)
        demo_world_input(&ds->world, event_cid(ev), (uint32_t)seq, (uint8_t)(bits & DEMO_INPUT_MASK));
}

static void on_chat(const hive_event *ev, void *user)
{
    demo_server *ds = user;
    hive_cid cid = event_cid(ev);
    demo_conn *c = conn_find(ds, cid);
    demo_player *p = demo_world_find(&ds->world, cid);
    if (!c || !p) return;
    /* At most 5 lines per 5 seconds; a client that keeps flooding is
     * shown the door. */
    double now = (double)hive_engine_now(ds->engine) / 1e9;
    if (now - c->chat_window > 5.0) {
        c->chat_window = now;
        c->chat_count = 0;
    }
    if (++c->chat_count > 5) {
        if (c->chat_count > 30) hive_server_close(ds->srv, cid, DEMO_CLOSE_FLOOD, "too much chat");
        return;
    }
    size_t len;
    const char *s = hive_msg_str_or(hive_event_body(ev), "text", "", &len);
    char text[DEMO_CHAT_MAX];
    demo_clean_text(text, sizeof text, s, len);
    if (!text[0]) return;
    ds->n.chats++;

    hive_msg *m = &ds->msg;
    hive_msg_reset(m);
    hive_msg_map(m, 3);
    hive_msg_kv_uint(m, "from", cid);
    hive_msg_kv_str(m, "name", p->name);
    hive_msg_kv_str(m, "text", text);
    broadcast(ds, DEMO_P_CHAT, 0);

    hive_field f[] = { HIVE_INT("cid", cid), HIVE_STR("name", p->name), HIVE_STR("text", text) };
    hive_bus_publish(ds->bus, ds->ev_chat, f, 3);
}

static void on_ping(const hive_event *ev, void *user)
{
    demo_server *ds = user;
    const hive_field *f = hive_event_field(ev, "msg");
    if (!f || f->type != HIVE_T_MSGPACK) return;
    /* Echo the body untouched: the client's timestamp comes back as is.
     * It is one valid msgpack object (the transport checked), and small. */
    if (f->v.mp.len <= 64)
        hive_server_send_id(ds->srv, event_cid(ev), (uint32_t)ds->pid_pong, f->v.mp.raw, f->v.mp.len, 0);
}

static void on_announce(const hive_event *ev, void *user)
{
    demo_server *ds = user;
    const char *text = hive_event_str(ev, "text");
    if (!text) return;
    hive_msg_reset(&ds->msg);
    hive_msg_map(&ds->msg, 1);
    hive_msg_kv_str(&ds->msg, "text", text);
    broadcast(ds, DEMO_P_ANNOUNCE, 0);
}

/* ------------------------------------------------------------------ */
/* Time                                                                 */
/* ------------------------------------------------------------------ */

static void on_tick(const hive_event *ev, void *user)
{
    demo_server *ds = user;
    demo_tag tag;
    if (demo_world_tick(&ds->world, &tag)) {
        ds->n.tags++;
        hive_msg_reset(&ds->msg);
        hive_msg_map(&ds->msg, 3);
        hive_msg_kv_uint(&ds->msg, "tagger", tag.tagger);
        hive_msg_kv_uint(&ds->msg, "tagged", tag.tagged);
        hive_msg_kv_bool(&ds->msg, "idle", tag.idle);
        broadcast(ds, DEMO_P_TAG, 0);
        if (hive_bus_wants(ds->bus, ds->ev_tag)) {
            hive_field f[] = {
                HIVE_INT("tagger", tag.tagger), HIVE_INT("tagged", tag.tagged),
                HIVE_STR("tagger_name", player_name(ds, tag.tagger)),
                HIVE_STR("tagged_name", player_name(ds, tag.tagged)),
                HIVE_DOUBLE("seconds", tag.it_seconds),
                HIVE_DOUBLE("time", (double)ds->world.tick / ds->world.tick_hz),
                HIVE_INT("idle", tag.idle),
            };
            hive_bus_publish(ds->bus, ds->ev_tag, f, 7);
        }
    }
    /* Whole points went up: one event per player per second at most. */
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        const demo_player *p = &ds->world.p[i];
        if (!p->used) continue;
        uint32_t score = demo_score(&ds->world, p);
        if (score == ds->last_score[i]) continue;
        ds->last_score[i] = score;
        if (hive_bus_wants(ds->bus, ds->ev_score)) {
            hive_field f[] = { HIVE_INT("cid", p->id), HIVE_STR("name", p->name), HIVE_INT("score", score) };
            hive_bus_publish(ds->bus, ds->ev_score, f, 3);
        }
    }
}

static void on_nettick(const hive_event *ev, void *user)
{
    demo_server *ds = user;
    if (demo_world_count(&ds->world) == 0) return;
    demo_snapshot s;
    demo_snapshot_take(&ds->world, ++ds->snap_seq, &s);
    hive_msg_reset(&ds->msg);
    if (demo_snapshot_encode(&s, &ds->msg) != 0) return;
    /* By id: the name look-up is done once, at start. Unreliable is the
     * packet type's registered delivery, so no flag is needed. */
    int sent = hive_server_broadcast_id(ds->srv, (uint32_t)ds->pid_snapshot, hive_msg_data(&ds->msg),
                                        hive_msg_size(&ds->msg), 0, 0);
    /* The same bytes as an event, for spectators' remote subscriptions:
     * built only when someone subscribed (the bus says so). */
    if (hive_bus_wants(ds->bus, ds->ev_snapshot)) {
        hive_field f[] = { HIVE_MSGPACK("state", hive_msg_data(&ds->msg), hive_msg_size(&ds->msg), NULL) };
        hive_bus_publish(ds->bus, ds->ev_snapshot, f, 1);
    }
    if (sent > 0) {
        ds->n.snapshots += (uint64_t)sent;
        ds->n.snapshot_bytes += (uint64_t)sent * hive_msg_size(&ds->msg);
    }
}

/* Once a second, when a spectator wants it: who is playing, by name
 * (snapshots carry ids only). */
static void publish_roster(hive_engine *e, int timer, void *user)
{
    (void)e;
    (void)timer;
    demo_server *ds = user;
    if (!hive_bus_wants(ds->bus, ds->ev_roster)) return;
    hive_msg m;
    hive_msg_init(&m);
    hive_msg_array_begin(&m);
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        const demo_player *q = &ds->world.p[i];
        if (!q->used) continue;
        hive_msg_array(&m, 2);
        hive_msg_uint(&m, q->id);
        hive_msg_str(&m, q->name);
    }
    hive_msg_array_end(&m);
    hive_field f[] = { HIVE_MSGPACK("players", hive_msg_data(&m), hive_msg_size(&m), NULL) };
    hive_bus_publish(ds->bus, ds->ev_roster, f, 1);
    hive_msg_free(&m);
}

/* A spectator never joins: it is not timed out for it. */
static void on_handshake(const hive_event *ev, void *user)
{
    demo_server *ds = user;
    const char *ct = hive_event_str(ev, "conntype");
    demo_conn *c = conn_find(ds, event_cid(ev));
    if (!c || !ct || strcmp(ct, "spectator") != 0) return;
    c->spectator = true;
    ds->n.spectators++;
    /* No game packets: everything it sees comes from its subscriptions. */
    hive_server_set_broadcast(ds->srv, c->cid, false);
    if (c->join_timer > 0) hive_engine_cancel(ds->engine, c->join_timer);
    c->join_timer = 0;
}

/* Once a second: the transport's round-trip time of every player, for
 * the summary. */
static void sample_rtt(hive_engine *e, int timer, void *user)
{
    demo_server *ds = user;
    for (int i = 0; i < DEMO_MAX_CONNS; i++) {
        hive_conn_info info;
        if (!ds->conns[i].used || !ds->conns[i].joined) continue;
        if (hive_server_conn_info(ds->srv, ds->conns[i].cid, &info) == 0 && info.rtt_ms >= 0) {
            ds->n.rtt_sum_ms += (uint64_t)info.rtt_ms;
            ds->n.rtt_samples++;
        }
    }
}

/* ------------------------------------------------------------------ */

int demo_game_install(demo_server *ds)
{
    hive_bus *bus = ds->bus;
    demo_world_init(&ds->world, (int)(ds->opts->tick_hz + 0.5), ds->opts->seed);
    hive_msg_init(&ds->msg);
    ds->ev_join = hive_bus_intern(bus, "arena:join");
    ds->ev_leave = hive_bus_intern(bus, "arena:leave");
    ds->ev_tag = hive_bus_intern(bus, "arena:tag");
    ds->ev_score = hive_bus_intern(bus, "arena:score");
    ds->ev_chat = hive_bus_intern(bus, "arena:chat");
    ds->ev_announce = hive_bus_intern(bus, "arena:announce");
    ds->ev_snapshot = hive_bus_intern(bus, "arena:snapshot");
    ds->ev_roster = hive_bus_intern(bus, "arena:roster");
    ds->pid_snapshot = hive_server_packet_id(ds->srv, DEMO_P_SNAPSHOT);
    ds->pid_pong = hive_server_packet_id(ds->srv, DEMO_P_PONG);
    if (ds->ev_join <= 0 || ds->ev_leave <= 0 || ds->ev_tag <= 0 || ds->ev_score <= 0 ||
        ds->ev_chat <= 0 || ds->ev_announce <= 0 || ds->pid_snapshot <= 0 || ds->pid_pong <= 0)
        return HIVE_ENOMEM;

    static const struct { const char *name; hive_handler fn; } subs[] = {
        { HIVE_EV_SERVER_ACCEPT, on_accept },
        { HIVE_EV_SERVER_HANDSHAKE, on_handshake },
        { HIVE_EV_SERVER_CLOSE, on_close },
        { HIVE_EV_SERVER_HANDEDOFF, on_handedoff },
        { HIVE_EV_SERVER_RECV_PREFIX DEMO_P_JOIN, on_join },
        { HIVE_EV_SERVER_RECV_PREFIX DEMO_P_INPUT, on_input },
        { HIVE_EV_SERVER_RECV_PREFIX DEMO_P_CHAT, on_chat },
        { HIVE_EV_SERVER_RECV_PREFIX DEMO_P_PING, on_ping },
        { HIVE_EV_ENGINE_TICK, on_tick },
        { HIVE_EV_ENGINE_NETTICK, on_nettick },
        { "arena:announce", on_announce },
    };
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        int rc = hive_bus_subscribe(bus, subs[i].name, subs[i].fn, ds, NULL);
        if (rc < 0) return rc;
    }
    int rc = hive_engine_every(ds->engine, 1000, sample_rtt, ds);
    if (rc >= 0) rc = hive_engine_every(ds->engine, 1000, publish_roster, ds);
    return rc < 0 ? rc : 0;
}

void demo_game_uninstall(demo_server *ds)
{
    hive_msg_free(&ds->msg);
}
