/*
 * test_cluster.c - faults with the real thing: the whole NATS stopped and
 * restarted (the counters say what was dropped), and a 3-node cluster
 * carrying chat between three Hive servers while one node is killed.
 */
#include "bridge_test.h"
#include "bridge/codec.h"
#include "hive/msg.h"
#include "relay.h"

static bool contains(const seen *s, const char *name)
{
    for (int i = 0; i < s->n && i < SEEN_MAX; i++)
        if (strcmp(s->name[i], name) == 0) return true;
    return false;
}

typedef struct reconn_note { int n; int64_t dropped_out; } reconn_note;
static void on_reconn(const hive_event *ev, void *user)
{
    reconn_note *r = user;
    r->n++;
    r->dropped_out = hive_event_int(ev, "dropped_out", -1);
}

Test(bridge, a_whole_nats_restart_is_survived_and_the_counters_match, .timeout = 60)
{
    nats_proc np = { 0 };
    cr_assert(np_start(&np, NULL));
    char url[64], via[64];
    np_url(&np, url, sizeof url);
    /* the sender reaches NATS through a relay the test opens only once the
     * receiver is back: so what it kept is sent when someone listens */
    relay rl;
    relay_start(&rl, np.port);
    snprintf(via, sizeof via, "nats://127.0.0.1:%d", rl.port);
    hive_bus *a = hive_bus_create(NULL), *b = hive_bus_create(NULL);
    hive_bus *all[] = { a, b, NULL };
    hive_bridge *ba = hive_bridge_create(
        &(hive_bridge_config){ .url = via, .name = "sender", .reconnect_wait_ms = 50, .reconnect_buffer_bytes = 4096 }, a);
    hive_bridge *bb = mk_bridge(b, url, "receiver");
    cr_assert_not_null(ba);
    flag_counter fa = { 0 }, fb = { 0 };
    fc_attach(&fa, a);
    fc_attach(&fb, b);
    reconn_note rn = { 0 };
    hive_bus_subscribe(a, HIVE_EV_NATS_RECONNECTED, on_reconn, &rn, NULL);
    cr_assert_eq(hive_bridge_export(ba, "feed:**"), HIVE_OK);
    cr_assert_eq(hive_bridge_import(bb, "feed:**"), HIVE_OK);
    seen got = { 0 };
    hive_bus_subscribe(b, "feed:tick", seen_on, &got, NULL);
    seen probe = { 0 };
    hive_bus_subscribe(b, "feed:probe", seen_on, &probe, NULL);
    for (int t = 0; t < 100 && probe.n == 0; t++) {
        hive_bus_publish_name(a, "feed:probe", NULL, 0);
        pump_buses(all, 50, &probe.n, 1);
    }
    cr_assert_geq(probe.n, 1, "never connected");
    pump_buses(all, 100, NULL, 0);

    char pad[41];
    memset(pad, 'x', 40);
    pad[40] = 0;
    int seq = 0;
    for (; seq < 50; seq++) {
        hive_field f[] = { HIVE_INT("seq", seq), HIVE_STR("pad", pad) };
        hive_bus_publish_name(a, "feed:tick", f, 2);
    }
    cr_assert(pump_buses(all, 3000, &got.n, 50));

    /* the whole NATS goes away */
    atomic_store(&rl.open, false);
    np_stop(&np, false);
    cr_assert(pump_buses(all, 5000, &fa.disconnected, 1), "sender never saw the loss");
    cr_assert(pump_buses(all, 5000, &fb.disconnected, 1), "receiver never saw the loss");
    hive_bridge_counters st0;
    hive_bridge_stats(ba, &st0);
    for (int i = 0; i < 200; i++, seq++) {
        hive_field f[] = { HIVE_INT("seq", seq), HIVE_STR("pad", pad) };
        hive_bus_publish_name(a, "feed:tick", f, 2);
    }
    hive_bridge_counters st1;
    hive_bridge_stats(ba, &st1);
    uint64_t dropped = st1.dropped_out - st0.dropped_out, kept = st1.exported - st0.exported;
    cr_assert_eq(dropped + kept, 200);
    cr_assert_gt(dropped, 0, "a 4 KiB buffer held 200 events?");
    cr_assert_gt(kept, 0);

    /* back: the receiver first (its subscription live: a raw probe gets
     * through), then the sender through the relay */
    cr_assert(np_start(&np, NULL));
    cr_assert(pump_buses(all, 5000, &fb.reconnected, 1), "receiver never came back");
    natsConnection *raw = raw_nats(url);
    int before = probe.n;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    cr_assert_eq(hive__bridge_encode(&sb, "raw", "feed:probe", NULL, 0), HIVE_OK);
    for (int t = 0; t < 200 && probe.n == before; t++) {
        natsConnection_Publish(raw, "hive.feed.probe", sb.data, (int)sb.size);
        natsConnection_Flush(raw);
        pump_buses(all, 20, NULL, 0);
    }
    msgpack_sbuffer_destroy(&sb);
    natsConnection_Destroy(raw);
    cr_assert_gt(probe.n, before, "receiver's subscription never came back");
    atomic_store(&rl.open, true);
    cr_assert(pump_buses(all, 5000, &fa.reconnected, 1), "sender never came back");
    int want = 50 + (int)kept;
    pump_buses(all, 3000, &got.n, want);
    pump_buses(all, 300, NULL, 0);
    /* exactly what was kept arrived, the first ones, in order; the
     * nats:reconnected event carries the drop count */
    cr_assert_eq(got.n, want, "received %d, want 50 + %llu kept (%llu dropped)", got.n, (unsigned long long)kept,
                 (unsigned long long)dropped);
    for (int i = 0; i < want; i++) cr_assert_eq(got.seq[i], i);
    cr_assert_eq(rn.n, 1);
    cr_assert_eq(rn.dropped_out, (int64_t)st1.dropped_out);
    /* and it carries on */
    for (int i = 0; i < 10; i++, seq++) {
        hive_field f[] = { HIVE_INT("seq", seq), HIVE_STR("pad", pad) };
        hive_bus_publish_name(a, "feed:tick", f, 2);
    }
    cr_assert(pump_buses(all, 3000, &got.n, want + 10));
    hive_bridge_destroy(ba);
    hive_bridge_destroy(bb);
    hive_bus_destroy(a);
    hive_bus_destroy(b);
    relay_stop(&rl);
    np_stop(&np, false);
}

/* ---- three Hive servers on a 3-node NATS cluster --------------------- */

#define NS 3

typedef struct shard {
    hive_bus *bus;
    hive_server *srv;
    hive_bridge *br;
    hive_bus *cbus;
    hive_client *cli;
    seen heard;        /* chat lines this shard's client received */
    flag_counter fc;
    char name[16];
} shard;

/* a client's line: said on this server, sent across */
static void on_client_chat(const hive_event *ev, void *user)
{
    shard *s = user;
    size_t n;
    const char *text = hive_msg_str_or(hive_event_body(ev), "text", "", &n);
    char line[128];
    snprintf(line, sizeof line, "%.*s", (int)n, text);
    hive_field f[] = { HIVE_STR("text", line), HIVE_STR("server", s->name) };
    hive_bus_publish_name(s->bus, "chat:say", f, 2);
}

/* a chat line from anywhere (here or another server): to our clients */
static void on_say(const hive_event *ev, void *user)
{
    shard *s = user;
    hive_msg m;
    hive_msg_init(&m);
    hive_msg_map(&m, 1);
    hive_msg_kv_str(&m, "text", hive_event_str(ev, "text"));
    hive_server_broadcast(s->srv, "game:chat", hive_msg_data(&m), hive_msg_size(&m), 0);
    hive_msg_free(&m);
}

static void on_heard(const hive_event *ev, void *user)
{
    seen *s = user;
    size_t n;
    const char *text = hive_msg_str_or(hive_event_body(ev), "text", "", &n);
    if (s->n < SEEN_MAX) snprintf(s->name[s->n], HIVE_NAME_MAX, "%.*s", (int)n, text);
    s->n++;
}

static void pump_shards(shard *sh, int ms)
{
    uint64_t end = hive_now_ns() + (uint64_t)ms * 1000000u;
    do {
        for (int i = 0; i < NS; i++) {
            hive_server_service(sh[i].srv, 0);
            hive_bus_dispatch(sh[i].bus, 0);
            hive_client_service(sh[i].cli, 0);
        }
        np_sleep_ms(1);
    } while (hive_now_ns() < end);
}

static bool all_heard(shard *sh, const char *line, int ms)
{
    uint64_t end = hive_now_ns() + (uint64_t)ms * 1000000u;
    for (;;) {
        bool ok = true;
        for (int i = 0; i < NS; i++) ok = ok && contains(&sh[i].heard, line);
        if (ok) return true;
        if (hive_now_ns() >= end) return false;
        pump_shards(sh, 5);
    }
}

static void say(shard *s, const char *text)
{
    hive_msg m;
    hive_msg_init(&m);
    hive_msg_map(&m, 1);
    hive_msg_kv_str(&m, "text", text);
    cr_assert_eq(hive_client_send(s->cli, "game:chat", hive_msg_data(&m), hive_msg_size(&m)), HIVE_OK);
    hive_msg_free(&m);
}

Test(bridge, three_servers_chat_across_a_three_node_cluster_through_a_node_kill, .timeout = 90)
{
    nats_proc np[NS] = { 0 };
    cr_assert(np_cluster(np, NS), "cluster did not start");
    shard *sh = calloc(NS, sizeof *sh);
    for (int i = 0; i < NS; i++) {
        shard *s = &sh[i];
        snprintf(s->name, sizeof s->name, "shard-%d", i % 100);
        s->bus = hive_bus_create(NULL);
        s->srv = hive_server_create(&(hive_server_config){ .addr = "tcp://127.0.0.1:0" }, s->bus);
        cr_assert_not_null(s->srv);
        cr_assert_gt(hive_server_register(s->srv, "game:chat", 0, HIVE_RELIABLE), 0);
        cr_assert_eq(hive_server_start(s->srv), HIVE_OK);
        hive_bus_subscribe(s->bus, "net:server.recv.game:chat", on_client_chat, s, NULL);
        hive_bus_subscribe(s->bus, "chat:say", on_say, s, NULL);
        /* each server's own node first, the others after */
        char urls[256];
        snprintf(urls, sizeof urls, "nats://127.0.0.1:%d,nats://127.0.0.1:%d,nats://127.0.0.1:%d", np[i].port,
                 np[(i + 1) % NS].port, np[(i + 2) % NS].port);
        s->br = mk_bridge(s->bus, urls, s->name);
        fc_attach(&s->fc, s->bus);
        cr_assert_eq(hive_bridge_export(s->br, "chat:say"), HIVE_OK);
        cr_assert_eq(hive_bridge_import(s->br, "chat:say"), HIVE_OK);
        s->cbus = hive_bus_create(NULL);
        s->cli = hive_client_create(NULL, s->cbus);
        hive_bus_subscribe(s->cbus, "net:client.recv.game:chat", on_heard, &s->heard, NULL);
        char addr[64];
        snprintf(addr, sizeof addr, "tcp://127.0.0.1:%u", (unsigned)hive_server_port(s->srv));
        cr_assert_eq(hive_client_connect(s->cli, addr), HIVE_OK);
    }
    uint64_t end = hive_now_ns() + 5000000000ull;
    bool open = false;
    while (!open && hive_now_ns() < end) {
        pump_shards(sh, 5);
        open = true;
        for (int i = 0; i < NS; i++) open = open && hive_client_get_state(sh[i].cli) == HIVE_CLIENT_OPEN;
    }
    cr_assert(open, "clients did not connect");
    /* routes and interest take a moment to spread through the cluster */
    bool warm = false;
    for (int t = 0; t < 60 && !warm; t++) {
        char line[32];
        snprintf(line, sizeof line, "warm %d", t);
        say(&sh[0], line);
        say(&sh[1], line);
        say(&sh[2], line);
        warm = all_heard(sh, line, 200);
    }
    cr_assert(warm, "chat never crossed the cluster");
    pump_shards(sh, 300);
    for (int i = 0; i < NS; i++) {
        char line[32];
        snprintf(line, sizeof line, "hello from %d", i);
        say(&sh[i], line);
    }
    for (int i = 0; i < NS; i++) {
        char line[32];
        snprintf(line, sizeof line, "hello from %d", i);
        cr_assert(all_heard(sh, line, 3000), "'%s' did not reach everyone", line);
    }
    /* node 0 dies: shard 0's bridge moves to another node */
    np_stop(&np[0], true);
    end = hive_now_ns() + 10000000000ull;
    while (sh[0].fc.reconnected == 0 && hive_now_ns() < end) pump_shards(sh, 5);
    cr_assert_geq(sh[0].fc.reconnected, 1, "shard 0 never reconnected to another node");
    hive_bridge_counters st;
    hive_bridge_stats(sh[0].br, &st);
    cr_assert(st.connected);
    cr_assert_eq(st.reconnects, 1);
    /* chat still crosses, both ways */
    bool after = false;
    for (int t = 0; t < 40 && !after; t++) {
        char l0[32], l1[32];
        snprintf(l0, sizeof l0, "after 0 %d", t);
        snprintf(l1, sizeof l1, "after 1 %d", t);
        say(&sh[0], l0);
        say(&sh[1], l1);
        after = all_heard(sh, l0, 250) && all_heard(sh, l1, 250);
    }
    cr_assert(after, "chat stopped crossing after the node died");
    for (int i = 0; i < NS; i++) {
        hive_bridge_stats(sh[i].br, &st);
        cr_assert_eq(st.dropped_in, 0);
        hive_client_destroy(sh[i].cli);
        hive_bus_destroy(sh[i].cbus);
        hive_bridge_destroy(sh[i].br);
        hive_server_destroy(sh[i].srv);
        hive_bus_destroy(sh[i].bus);
    }
    free(sh);
    for (int i = 0; i < NS; i++) np_stop(&np[i], false);
}
