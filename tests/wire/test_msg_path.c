/* Readers: arrays, paths, typed getters with defaults and with errors. */
#include <criterion/criterion.h>
#include "hive/msg.h"

#include <string.h>

/* {"tick": 42, "players": [ {"id": 1, "name": "ann", "x": 1.5, "alive": true},
 *                           {"id": 2, "name": "bob", "x": -3, "alive": false,
 *                            "inv": [], "blob": bin"\x00\x01", "tag": nil} ],
 *  "by.dot": 7, "5": "five-str", 9: "nine"} */
static void world(hive_msg *m)
{
    hive_msg_init(m);
    hive_msg_map_begin(m);
    hive_msg_kv_int(m, "tick", 42);
    hive_msg_key(m, "players");
    hive_msg_array_begin(m);
    hive_msg_map_begin(m);
    hive_msg_kv_int(m, "id", 1);
    hive_msg_kv_str(m, "name", "ann");
    hive_msg_kv_double(m, "x", 1.5);
    hive_msg_kv_bool(m, "alive", true);
    hive_msg_map_end(m);
    hive_msg_map_begin(m);
    hive_msg_kv_int(m, "id", 2);
    hive_msg_kv_str(m, "name", "bob");
    hive_msg_kv_int(m, "x", -3);
    hive_msg_kv_bool(m, "alive", false);
    hive_msg_key(m, "inv"); hive_msg_array(m, 0);
    hive_msg_kv_bin(m, "blob", "\x00\x01", 2);
    hive_msg_kv_nil(m, "tag");
    hive_msg_map_end(m);
    hive_msg_array_end(m);
    hive_msg_kv_int(m, "by.dot", 7);
    hive_msg_kv_str(m, "5", "five-str");
    hive_msg_uint(m, 9); hive_msg_str(m, "nine");
    cr_assert_eq(hive_msg_map_end(m), 0);
}

Test(msg_path, paths_into_nested_maps_and_arrays, .timeout = 5)
{
    hive_msg m;
    world(&m);
    hive_msg_view v;
    cr_assert_eq(hive_msg_view_init(&v, hive_msg_data(&m), hive_msg_size(&m)), 0);
    const msgpack_object *o = v.obj;

    cr_expect_eq(hive_msg_int_or(o, "tick", 0), 42);
    cr_expect_eq(hive_msg_int_or(o, "players.1.id", 0), 2);
    cr_expect_eq(hive_msg_double_or(o, "players.0.x", 0), 1.5);
    cr_expect_eq(hive_msg_double_or(o, "players.1.x", 0), -3.0, "an int read as double");
    cr_expect(hive_msg_bool_or(o, "players.0.alive", false));
    cr_expect_not(hive_msg_bool_or(o, "players.1.alive", true));
    size_t n;
    const char *s = hive_msg_str_or(o, "players.1.name", "?", &n);
    cr_expect_eq(n, 3);
    cr_expect_eq(memcmp(s, "bob", 3), 0);
    char name[3];
    cr_expect_eq(hive_msg_copy_str(o, "players.0.name", name, sizeof name), 3, "full length, like snprintf");
    cr_expect_str_eq(name, "an");
    cr_expect_eq(hive_msg_copy_str(o, "players.0.id", name, sizeof name), HIVE_ETYPE);
    cr_expect_str_eq(name, "");
    cr_expect_eq(hive_msg_path_nil(o, "players.1.tag"), 0);
    const void *p;
    cr_expect_eq(hive_msg_path_bin(o, "players.1.blob", &p, &n), 0);
    cr_expect_eq(n, 2);
    cr_expect_eq(memcmp(p, "\x00\x01", 2), 0);
    uint32_t len;
    const msgpack_object *inv;
    cr_expect_eq(hive_msg_path_array(o, "players.1.inv", &inv, &len), 0);
    cr_expect_eq(len, 0);
    cr_expect_eq(hive_msg_path_map(o, "players.0", NULL, &len), 0);
    cr_expect_eq(len, 4);
    uint64_t u;
    cr_expect_eq(hive_msg_path_uint(o, "tick", &u), 0);
    cr_expect_eq(u, 42);
    /* Map steps: a string key first, then an integer key for digits. */
    s = hive_msg_str_or(o, "5", "", &n);
    cr_expect(n == 8 && memcmp(s, "five-str", 8) == 0);
    s = hive_msg_str_or(o, "9", "", &n);
    cr_expect(n == 4 && memcmp(s, "nine", 4) == 0);
    /* Root, and the step form for a key with a dot. */
    cr_expect_eq(hive_msg_path(o, ""), o);
    cr_expect_eq(hive_msg_path(o, NULL), o);
    cr_expect_null(hive_msg_path(o, "by.dot"));
    cr_expect_eq(hive_msg_walkv(o, HIVE_MSG_KEY("by.dot"))->via.u64, 7);
    uint32_t i = 1;
    const msgpack_object *x = hive_msg_walkv(o, HIVE_MSG_KEY("players"), HIVE_MSG_IDX(i), HIVE_MSG_KEY("x"));
    cr_assert_not_null(x);
    cr_expect_eq(x, hive_msg_path(o, "players.1.x"));
    hive_msg_step st[] = { HIVE_MSG_KEY("players"), HIVE_MSG_IDX(0), HIVE_MSG_KEY("name") };
    cr_expect_eq(hive_msg_walk(o, st, 3), hive_msg_path(o, "players.0.name"));
    cr_expect_eq(hive_msg_walk_find(o, st, 2, &x), 0);
    cr_expect_eq(hive_msg_walk_find(o, (hive_msg_step[]){ HIVE_MSG_IDX(0) }, 1, &x), HIVE_ETYPE, "index into a map");
    cr_expect_eq(hive_msg_walk_find(o, (hive_msg_step[]){ HIVE_MSG_KEY("players"), HIVE_MSG_IDX(2) }, 2, &x), HIVE_ENOENT);

    hive_msg_view_free(&v);
    hive_msg_free(&m);
}

Test(msg_path, absent_and_wrong_type_are_told_apart, .timeout = 5)
{
    hive_msg m;
    world(&m);
    hive_msg_view v;
    cr_assert_eq(hive_msg_view_init(&v, hive_msg_data(&m), hive_msg_size(&m)), 0);
    const msgpack_object *o = v.obj, *x;
    int64_t i = 99;
    cr_expect_eq(hive_msg_path_int(o, "nope", &i), HIVE_ENOENT);
    cr_expect_eq(hive_msg_path_int(o, "players.7.id", &i), HIVE_ENOENT, "index out of range");
    cr_expect_eq(hive_msg_path_int(o, "players.99999999999.id", &i), HIVE_ENOENT, "index over 32 bits");
    cr_expect_eq(hive_msg_path_int(o, "players.0.name", &i), HIVE_ETYPE);
    cr_expect_eq(hive_msg_path_int(o, "players.first", &i), HIVE_ETYPE, "a key step into an array");
    cr_expect_eq(hive_msg_path_int(o, "tick.x", &i), HIVE_ETYPE, "a step into a scalar");
    cr_expect_eq(hive_msg_path_int(o, "players..id", &i), HIVE_EINVAL);
    cr_expect_eq(hive_msg_path_int(o, "tick.", &i), HIVE_EINVAL);
    cr_expect_eq(i, 99, "untouched on error");
    cr_expect_eq(hive_msg_find(o, "players.0", NULL), HIVE_EINVAL);
    cr_expect_eq(hive_msg_find(NULL, "a", &x), HIVE_ENOENT);
    cr_expect_null(x);
    cr_expect_eq(hive_msg_int_or(o, "players.0.name", -1), -1);
    cr_expect_eq(hive_msg_int_or(NULL, "tick", -2), -2);
    cr_expect_eq(hive_msg_uint_or(o, "players.1.x", 5), 5, "negative is not uint");
    cr_expect_eq(hive_msg_double_or(o, "players.0.name", 0.25), 0.25);
    cr_expect(hive_msg_bool_or(o, "tick", true));
    size_t n = 0;
    cr_expect_str_eq(hive_msg_str_or(o, "tick", "dflt", &n), "dflt");
    cr_expect_eq(n, 4);
    cr_expect_eq(hive_msg_path_nil(o, "tick"), HIVE_ETYPE);
    cr_expect_eq(hive_msg_path_bin(o, "players.0.name", NULL, NULL), HIVE_ETYPE);
    cr_expect_eq(hive_msg_path_array(o, "tick", NULL, NULL), HIVE_ETYPE);
    cr_expect_eq(hive_msg_path_map(o, "players", NULL, NULL), HIVE_ETYPE);
    cr_expect_eq(hive_msg_path_str(o, "players.0.x", NULL, NULL), HIVE_ETYPE);
    cr_expect_eq(hive_msg_path_bool(o, "gone", NULL), HIVE_ENOENT);
    /* The value readers: NULL is absent. */
    cr_expect_eq(hive_msg_as_int(NULL, &i), HIVE_ENOENT);
    cr_expect_eq(hive_msg_as_double(NULL, NULL), HIVE_ENOENT);
    cr_expect_eq(hive_msg_as_nil(NULL), HIVE_ENOENT);
    cr_expect_eq(hive_msg_as_map(o, NULL), 0);
    cr_expect_eq(hive_msg_as_array(o, NULL), HIVE_ETYPE);
    hive_msg_view_free(&v);
    hive_msg_free(&m);
}

Test(msg_path, iterate_and_index_arrays_and_maps, .timeout = 5)
{
    hive_msg m;
    world(&m);
    hive_msg_view v;
    cr_assert_eq(hive_msg_view_init(&v, hive_msg_data(&m), hive_msg_size(&m)), 0);
    const msgpack_object *ps = hive_msg_path(v.obj, "players"), *p;
    cr_expect_eq(hive_msg_len(ps), 2);
    int64_t sum = 0;
    int seen = 0;
    uint32_t i = 0;
    while ((p = hive_msg_next(ps, &i))) {
        sum += hive_msg_int_or(p, "id", 0);
        seen++;
    }
    cr_expect_eq(seen, 2);
    cr_expect_eq(sum, 3);
    cr_expect_eq(i, 2);
    cr_expect_null(hive_msg_next(ps, &i), "stays at the end");
    cr_expect_eq(hive_msg_at(ps, 1), hive_msg_path(v.obj, "players.1"));
    cr_expect_null(hive_msg_at(ps, 2));
    cr_expect_null(hive_msg_at(v.obj, 0), "a map is not indexed");
    i = 0;
    cr_expect_null(hive_msg_next(NULL, &i));
    cr_expect_eq(hive_msg_len(NULL), 0);
    cr_expect_eq(hive_msg_len(hive_msg_path(v.obj, "tick")), 0);

    const msgpack_object *k, *val;
    int pairs = 0, strkeys = 0;
    i = 0;
    while (hive_msg_next_pair(v.obj, &i, &k, &val)) {
        pairs++;
        if (k->type == MSGPACK_OBJECT_STR) strkeys++;
    }
    cr_expect_eq(pairs, 5);
    cr_expect_eq(strkeys, 4);
    cr_expect_eq(hive_msg_len(v.obj), 5);
    i = 0;
    cr_expect_not(hive_msg_next_pair(ps, &i, &k, &val), "an array has no pairs");
    hive_msg_view_free(&v);
    hive_msg_free(&m);
}
