/*
 * test_shards.c - shard sets on a real nats-server: members see each
 * other join and leave (cleanly and by silence), agree on every key's
 * owner, and only the keys of a member that left move.
 */
#include "bridge_test.h"
#include <stdatomic.h>
#include "bridge/codec.h"

typedef struct member_log { int joined, left, timeouts; char last_left[64]; } member_log;

static void on_member(const hive_event *ev, void *user)
{
    member_log *l = user;
    if (strcmp(ev->name, HIVE_EV_NATS_SHARD_JOINED) == 0) {
        l->joined++;
    } else {
        l->left++;
        if (strcmp(hive_event_str(ev, "why"), "timeout") == 0) l->timeouts++;
        snprintf(l->last_left, sizeof l->last_left, "%s", hive_event_str(ev, "name"));
    }
}

#define NB 3

static hive_bridge *shard_bridge(hive_bus *bus, const char *url, const char *name)
{
    hive_bridge *br = hive_bridge_create(
        &(hive_bridge_config){ .url = url, .name = name, .reconnect_wait_ms = 50, .shard_heartbeat_ms = 300 }, bus);
    cr_assert_not_null(br, "%s", hive_create_error()->message);
    return br;
}

static int members(hive_bridge *br)
{
    return hive_bridge_shard_members(br, "arena", NULL, 0);
}

Test(bridge, shard_members_agree_on_owners_and_see_leaves, .timeout = 60)
{
    nats_proc np = { 0 };
    cr_assert(np_start(&np, NULL));
    char url[64];
    np_url(&np, url, sizeof url);
    hive_bus *bus[NB + 2] = { 0 };
    hive_bridge *br[NB + 1];
    member_log log[NB + 1] = { 0 };
    for (int i = 0; i <= NB; i++) {
        char name[16], addr[32];
        snprintf(name, sizeof name, i < NB ? "arena-%d" : "lobby", i % 10);
        bus[i] = hive_bus_create(NULL);
        br[i] = shard_bridge(bus[i], url, name);
        hive_bus_subscribe(bus[i], "nats:shard.*", on_member, &log[i], NULL);
        while (hive_bridge_flush(br[i], 1000) != HIVE_OK) pump_buses(bus, 10, NULL, 0);
        if (i < NB) {
            snprintf(addr, sizeof addr, "enet://127.0.0.1:%d", 7000 + i);
            cr_assert_eq(hive_bridge_shard_join(br[i], "arena", addr), HIVE_OK);
            cr_assert_eq(hive_bridge_shard_join(br[i], "arena", addr), HIVE_EEXIST);
        } else {
            cr_assert_eq(hive_bridge_shard_watch(br[i], "arena"), HIVE_OK);   /* the lobby watches */
        }
    }
    cr_assert_eq(hive_bridge_shard_join(br[0], "bad set", "x"), HIVE_EINVAL);
    /* everyone knows the three members, at once (no heartbeat wait needed,
     * but allow a few) */
    uint64_t end = hive_now_ns() + 3000000000ull;
    bool all = false;
    while (!all && hive_now_ns() < end) {
        pump_buses(bus, 10, NULL, 0);
        all = true;
        for (int i = 0; i <= NB; i++) all = all && members(br[i]) == NB;
    }
    cr_assert(all, "members: %d %d %d %d", members(br[0]), members(br[1]), members(br[2]), members(br[3]));
    hive_shard_member m[4];
    cr_assert_eq(hive_bridge_shard_members(br[3], "arena", m, 4), NB);
    cr_assert_str_eq(m[0].name, "arena-0");
    cr_assert_str_eq(m[2].addr, "enet://127.0.0.1:7002");
    for (int i = 0; i < NB; i++) cr_assert_eq(log[i].joined, NB - 1, "bridge %d heard %d joins", i, log[i].joined);
    cr_assert_eq(log[NB].joined, NB);

    /* every process picks the same owner for every key; all members get keys */
    char owner[200][64];
    int per[NB] = { 0 };
    for (int k = 0; k < 200; k++) {
        char key[24];
        snprintf(key, sizeof key, "room-%d", k);
        hive_shard_member o;
        cr_assert_eq(hive_bridge_shard_for(br[NB], "arena", key, strlen(key), &o), HIVE_OK);
        snprintf(owner[k], sizeof owner[k], "%s", o.name);
        per[o.name[6] - '0']++;
        for (int i = 0; i < NB; i++) {
            hive_shard_member x;
            cr_assert_eq(hive_bridge_shard_for(br[i], "arena", key, strlen(key), &x), HIVE_OK);
            cr_assert_str_eq(x.name, o.name);
        }
    }
    for (int i = 0; i < NB; i++) cr_assert_gt(per[i], 30, "member %d owns %d of 200 keys", i, per[i]);
    cr_assert_eq(hive_bridge_shard_for(br[0], "nope", "k", 1, &m[0]), HIVE_ENOENT);

    /* arena-2 leaves cleanly: only its keys move */
    cr_assert_eq(hive_bridge_shard_leave(br[2], "arena"), HIVE_OK);
    cr_assert_eq(hive_bridge_shard_leave(br[2], "arena"), HIVE_ENOENT);
    cr_assert(pump_buses(bus, 3000, &log[3].left, 1));
    cr_assert_str_eq(log[3].last_left, "arena-2");
    cr_assert_eq(log[3].timeouts, 0);
    cr_assert_eq(members(br[3]), NB - 1);
    for (int k = 0; k < 200; k++) {
        char key[24];
        snprintf(key, sizeof key, "room-%d", k);
        hive_shard_member o;
        cr_assert_eq(hive_bridge_shard_for(br[3], "arena", key, strlen(key), &o), HIVE_OK);
        if (strcmp(owner[k], "arena-2") != 0) cr_assert_str_eq(o.name, owner[k], "key %d moved", k);
        else cr_assert_str_neq(o.name, "arena-2");
    }

    /* arena-1 goes silent (its process is gone without a word: here, its
     * NATS connection is cut by stopping its heartbeats via a raw fake) */
    natsConnection *raw = raw_nats(url);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    hive__shard_msg fake = { .op = HIVE__SHARD_HERE };
    snprintf(fake.origin, sizeof fake.origin, "ghost");
    snprintf(fake.set, sizeof fake.set, "arena");
    snprintf(fake.addr, sizeof fake.addr, "enet://127.0.0.1:9");
    cr_assert_eq(hive__bridge_shard_encode(&sb, &fake), HIVE_OK);
    natsConnection_Publish(raw, "hive._shard.arena", sb.data, (int)sb.size);
    natsConnection_Publish(raw, "hive._shard.arena", "\xdf\xff\xff\xff\xff", 5);   /* hostile */
    natsConnection_Flush(raw);
    int joined0 = log[3].joined;
    cr_assert(pump_buses(bus, 3000, &log[3].joined, joined0 + 1), "the ghost never joined");
    cr_assert(pump_buses(bus, 3000, &log[3].timeouts, 1), "the silent member never timed out");
    cr_assert_str_eq(log[3].last_left, "ghost");
    hive_bridge_counters st;
    hive_bridge_stats(br[3], &st);
    cr_assert_geq(st.dropped_in, 1);
    msgpack_sbuffer_destroy(&sb);
    natsConnection_Destroy(raw);

    /* a destroyed member says goodbye */
    int left0 = log[3].left;
    hive_bridge_destroy(br[0]);
    hive_bus_destroy(bus[0]);
    bus[0] = bus[3];
    bus[3] = NULL;
    hive_bus *rest[] = { bus[0], bus[1], bus[2], NULL };
    cr_assert(pump_buses(rest, 3000, &log[3].left, left0 + 1));
    cr_assert_str_eq(log[3].last_left, "arena-0");
    cr_assert_eq(members(br[3]), 1);   /* arena-1 alone */
    for (int i = 1; i <= NB; i++) hive_bridge_destroy(br[i]);
    for (int i = 0; i < 3; i++) hive_bus_destroy(rest[i]);
    np_stop(&np, false);
}

Test(bridge, hrw_is_the_documented_function)
{
    /* docs/SCALING.md "Shards" gives this value so other languages can check theirs */
    cr_assert_eq(hive__bridge_hrw("arena-0", "room-1", 6), 0xb4d3f00b33435666ull);
    cr_assert_neq(hive__bridge_hrw("arena-0", "room-1", 6), hive__bridge_hrw("arena-1", "room-1", 6));
    cr_assert_neq(hive__bridge_hrw("a", "bc", 2), hive__bridge_hrw("ab", "c", 1));   /* the 0x00 between */
}

/* Under ThreadSanitizer: the heartbeat thread, libnats' delivery thread
 * and a reader thread all touch the member table while members come and
 * go. */
typedef struct reader_arg { hive_bridge *br; atomic_bool stop; int found; } reader_arg;

static void *owner_reader(void *p)
{
    reader_arg *a = p;
    while (!atomic_load(&a->stop)) {
        hive_shard_member m, all[8];
        if (hive_bridge_shard_for(a->br, "arena", "room", 4, &m) == HIVE_OK) a->found++;
        hive_bridge_shard_members(a->br, "arena", all, 8);
    }
    return NULL;
}

Test(threads, shard_table_race_free, .timeout = 60)
{
    nats_proc np = { 0 };
    cr_assert(np_start(&np, NULL));
    char url[64];
    np_url(&np, url, sizeof url);
    hive_bus *a = hive_bus_create(NULL), *b = hive_bus_create(NULL);
    hive_bus *all[] = { a, b, NULL };
    hive_bridge *ba = shard_bridge(a, url, "ta"), *bb = shard_bridge(b, url, "tb");
    member_log la = { 0 };
    hive_bus_subscribe(a, "nats:shard.*", on_member, &la, NULL);
    while (hive_bridge_flush(ba, 1000) != HIVE_OK) pump_buses(all, 10, NULL, 0);
    cr_assert_eq(hive_bridge_shard_join(ba, "arena", "tcp://127.0.0.1:1"), HIVE_OK);
    reader_arg ra = { .br = ba };
    pthread_t th;
    pthread_create(&th, NULL, owner_reader, &ra);
    for (int i = 0; i < 5; i++) {
        while (hive_bridge_flush(bb, 1000) != HIVE_OK) pump_buses(all, 10, NULL, 0);
        cr_assert_eq(hive_bridge_shard_join(bb, "arena", "tcp://127.0.0.1:2"), HIVE_OK);
        cr_assert(pump_buses(all, 3000, &la.joined, i + 1));
        cr_assert_eq(hive_bridge_shard_leave(bb, "arena"), HIVE_OK);
        cr_assert(pump_buses(all, 3000, &la.left, i + 1));
    }
    pump_buses(all, 300, NULL, 0);   /* a few heartbeats */
    atomic_store(&ra.stop, true);
    pthread_join(th, NULL);
    cr_assert_gt(ra.found, 0);
    hive_bridge_destroy(ba);
    hive_bridge_destroy(bb);
    hive_bus_destroy(a);
    hive_bus_destroy(b);
    np_stop(&np, false);
}

/* (threads/: the owed answer goes out from the heartbeat thread, so this
 * also runs under ThreadSanitizer.)
 * One that floods a set with asks gets a bounded number of answers: each
 * member answers at most once per 50 ms, and those who asked inside that
 * gap get one answer when it ends (not at the next heartbeat, which here
 * is 10 s away). */
typedef struct here_count { atomic_int n; } here_count;

static void on_raw_here(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    hive__shard_msg m;
    static msgpack_zone z;
    static bool zok;
    if (!zok) zok = msgpack_zone_init(&z, 1024);
    if (hive__bridge_shard_decode((const uint8_t *)natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg), &z,
                                  &m) == HIVE_OK &&
        m.op == HIVE__SHARD_HERE && strcmp(m.origin, "arena-0") == 0)
        atomic_fetch_add(&((here_count *)closure)->n, 1);
    natsMsg_Destroy(msg);
}

static bool answered(here_count *hc, int want, int ms)
{
    uint64_t end = hive_now_ns() + (uint64_t)ms * 1000000u;
    while (atomic_load(&hc->n) < want && hive_now_ns() < end) np_sleep_ms(2);
    return atomic_load(&hc->n) >= want;
}

Test(threads, a_flood_of_asks_gets_a_bounded_number_of_answers, .timeout = 60)
{
    nats_proc np = { 0 };
    cr_assert(np_start(&np, NULL));
    char url[64];
    np_url(&np, url, sizeof url);
    hive_bus *bus[2] = { hive_bus_create(NULL), NULL };
    hive_bridge *br = hive_bridge_create(
        &(hive_bridge_config){ .url = url, .name = "arena-0", .shard_heartbeat_ms = 10000 }, bus[0]);
    cr_assert_not_null(br);
    while (hive_bridge_flush(br, 1000) != HIVE_OK) pump_buses(bus, 10, NULL, 0);
    natsConnection *raw = raw_nats(url);
    here_count hc = { 0 };
    natsSubscription *sub = NULL;
    cr_assert_eq(natsConnection_Subscribe(&sub, raw, "hive._shard.arena", on_raw_here, &hc), NATS_OK);
    natsConnection_Flush(raw);
    cr_assert_eq(hive_bridge_shard_join(br, "arena", "enet://127.0.0.1:7000"), HIVE_OK);
    cr_assert(answered(&hc, 1, 3000), "the join was not announced");
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    hive__shard_msg ask = { .op = HIVE__SHARD_ASK };
    snprintf(ask.origin, sizeof ask.origin, "asker");
    snprintf(ask.set, sizeof ask.set, "arena");
    cr_assert_eq(hive__bridge_shard_encode(&sb, &ask), HIVE_OK);

    /* two asks back to back: the first answered at once, the second at the
     * end of the gap - long before the heartbeat */
    np_sleep_ms(60);
    int base = atomic_load(&hc.n);
    natsConnection_Publish(raw, "hive._shard.arena", sb.data, (int)sb.size);
    natsConnection_Publish(raw, "hive._shard.arena", sb.data, (int)sb.size);
    natsConnection_Flush(raw);
    cr_expect(answered(&hc, base + 2, 3000), "%d answers to two asks (one owed)", atomic_load(&hc.n) - base);

    /* a flood */
    np_sleep_ms(60);
    int before = atomic_load(&hc.n);
    uint64_t t0 = hive_now_ns();
    for (int i = 0; i < 500; i++) natsConnection_Publish(raw, "hive._shard.arena", sb.data, (int)sb.size);
    natsConnection_Flush(raw);
    np_sleep_ms(300);   /* the asks and the owed answer are all handled by now */
    uint64_t span_ms = (hive_now_ns() - t0) / 1000000u;
    int answers = atomic_load(&hc.n) - before;
    /* one at once, then at most one per 50 ms gap of the span */
    int bound = (int)(span_ms / 50) + 2;
    cr_expect_geq(answers, 2, "the first ask and those inside its gap: %d answers", answers);
    cr_expect_leq(answers, bound, "%d answers to 500 asks in %llu ms", answers, (unsigned long long)span_ms);
    msgpack_sbuffer_destroy(&sb);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(raw);
    hive_bridge_destroy(br);
    hive_bus_destroy(bus[0]);
    np_stop(&np, false);
}
