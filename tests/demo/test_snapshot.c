/* Snapshots survive the trip through msgpack, and hostile ones are refused. */
#include <criterion/criterion.h>
#include "demo/common/snapshot.h"

static int roundtrip(const demo_snapshot *in, demo_snapshot *out)
{
    hive_msg m;
    hive_msg_init(&m);
    cr_assert_eq(demo_snapshot_encode(in, &m), 0);
    hive_msg_view v;
    cr_assert_eq(hive_msg_view_init(&v, hive_msg_data(&m), hive_msg_size(&m)), 0);
    int rc = demo_snapshot_decode(v.obj, out);
    hive_msg_view_free(&v);
    hive_msg_free(&m);
    return rc;
}

Test(snapshot, world_state_round_trips_exactly, .timeout = 30)
{
    demo_world w;
    demo_world_init(&w, 60, 42);
    demo_world_add(&w, 3, "ada");
    demo_world_add(&w, 9, "bob");
    demo_world_find(&w, 9)->score_ticks = 185;
    demo_world_input(&w, 3, 17, DEMO_RIGHT);
    for (int i = 0; i < 5; i++) demo_world_tick(&w, NULL);
    demo_snapshot s, back;
    demo_snapshot_take(&w, 77, &s);
    cr_assert_eq(s.n, 2);
    cr_assert_eq(roundtrip(&s, &back), 0);
    cr_expect_eq(back.tick, 5);
    cr_expect_eq(back.seq, 77);
    cr_expect_eq(back.it, 3);
    cr_assert_eq(back.n, 2);
    const demo_snap_player *a = demo_snapshot_find(&back, 3), *b = demo_snapshot_find(&back, 9);
    cr_assert(a && b);
    cr_expect(a->x == demo_world_find(&w, 3)->x, "bit-exact float");
    cr_expect(a->y == demo_world_find(&w, 3)->y);
    cr_expect_eq(a->flags, DEMO_SNAP_IT);
    cr_expect_eq(a->ack, 17);
    cr_expect_eq(b->score, 3);
    cr_expect_eq(b->flags, 0);
}

Test(snapshot, a_full_arena_stays_small, .timeout = 30)
{
    demo_world w;
    demo_world_init(&w, 60, 1);
    for (uint32_t i = 1; i <= DEMO_MAX_PLAYERS; i++) demo_world_add(&w, i, "p");
    demo_snapshot s;
    demo_snapshot_take(&w, 1, &s);
    hive_msg m;
    hive_msg_init(&m);
    demo_snapshot_encode(&s, &m);
    cr_expect_lt(hive_msg_size(&m), 24 + DEMO_MAX_PLAYERS * 20, "%zu bytes", hive_msg_size(&m));
    hive_msg_free(&m);
}

/* Build a message from a msgpack-ish recipe and decode it. */
static int decode_built(void (*build)(hive_msg *m))
{
    hive_msg m;
    hive_msg_init(&m);
    build(&m);
    hive_msg_view v;
    cr_assert_eq(hive_msg_view_init(&v, hive_msg_data(&m), hive_msg_size(&m)), 0);
    demo_snapshot out;
    int rc = demo_snapshot_decode(v.obj, &out);
    hive_msg_view_free(&v);
    hive_msg_free(&m);
    return rc;
}

static void header(hive_msg *m, uint32_t nplayers)
{
    hive_msg_map(m, 4);
    hive_msg_kv_uint(m, "t", 10);
    hive_msg_kv_uint(m, "q", 1);
    hive_msg_kv_uint(m, "it", 1);
    hive_msg_key(m, "p");
    hive_msg_array(m, nplayers);
}

static void player(hive_msg *m, uint64_t id, double x, double y)
{
    hive_msg_array(m, 7);
    hive_msg_uint(m, id);
    hive_msg_double(m, x);
    hive_msg_double(m, y);
    for (int i = 0; i < 4; i++) hive_msg_uint(m, 0);
}

static void ok_one(hive_msg *m) { header(m, 1); player(m, 1, 10, 20); }
static void not_a_map(hive_msg *m) { hive_msg_array(m, 0); }
static void too_many(hive_msg *m) { header(m, DEMO_MAX_PLAYERS + 1); for (int i = 0; i <= DEMO_MAX_PLAYERS; i++) player(m, (uint64_t)i + 1, 1, 1); }
static void off_arena(hive_msg *m) { header(m, 1); player(m, 1, 1e9, 20); }
static void negative(hive_msg *m) { header(m, 1); player(m, 1, -5, 20); }
static void nan_coord(hive_msg *m) { header(m, 1); player(m, 1, 0.0 / 0.0, 20); }
static void dup_id(hive_msg *m) { header(m, 2); player(m, 4, 1, 1); player(m, 4, 2, 2); }
static void zero_id(hive_msg *m) { header(m, 1); player(m, 0, 1, 1); }
static void big_id(hive_msg *m) { header(m, 1); player(m, 1ull << 40, 1, 1); }
static void short_entry(hive_msg *m) { header(m, 1); hive_msg_array(m, 2); hive_msg_uint(m, 1); hive_msg_uint(m, 1); }
static void str_coord(hive_msg *m) { header(m, 1); hive_msg_array(m, 7); hive_msg_uint(m, 1); hive_msg_str(m, "x"); for (int i = 0; i < 5; i++) hive_msg_uint(m, 0); }
static void missing_tick(hive_msg *m) { hive_msg_map(m, 1); hive_msg_key(m, "p"); hive_msg_array(m, 0); }
static void bad_flags(hive_msg *m)
{
    header(m, 1);
    hive_msg_array(m, 7);
    hive_msg_uint(m, 1); hive_msg_double(m, 1); hive_msg_double(m, 1);
    hive_msg_uint(m, 0); hive_msg_uint(m, 200); hive_msg_uint(m, 0); hive_msg_uint(m, 0);
}

Test(snapshot, hostile_snapshots_are_refused, .timeout = 30)
{
    cr_expect_eq(decode_built(ok_one), 0);
    cr_expect_eq(decode_built(not_a_map), HIVE_EPROTO);
    cr_expect_eq(decode_built(too_many), HIVE_EPROTO);
    cr_expect_eq(decode_built(off_arena), HIVE_EPROTO);
    cr_expect_eq(decode_built(negative), HIVE_EPROTO);
    cr_expect_eq(decode_built(nan_coord), HIVE_EPROTO);
    cr_expect_eq(decode_built(dup_id), HIVE_EPROTO);
    cr_expect_eq(decode_built(zero_id), HIVE_EPROTO);
    cr_expect_eq(decode_built(big_id), HIVE_EPROTO);
    cr_expect_eq(decode_built(short_entry), HIVE_EPROTO);
    cr_expect_eq(decode_built(str_coord), HIVE_EPROTO);
    cr_expect_eq(decode_built(missing_tick), HIVE_EPROTO);
    cr_expect_eq(decode_built(bad_flags), HIVE_EPROTO);
}
