/* Event data: typed fields read by key. */
#include "helpers.h"

typedef struct got {
    int calls;
    int64_t i;
    double d;
    const char *s;
    size_t slen;
    const void *b;
    size_t blen;
    void *p;
    const void *raw, *obj;
    size_t rawlen;
    int rc_missing, rc_type, rc_null;
} got;

static void read_all(const hive_event *ev, void *user)
{
    got *g = user;
    g->calls++;
    cr_expect_eq(hive_event_get_int(ev, "cid", &g->i), HIVE_OK);
    cr_expect_eq(hive_event_get_double(ev, "hp", &g->d), HIVE_OK);
    cr_expect_eq(hive_event_get_str(ev, "addr", &g->s, &g->slen), HIVE_OK);
    cr_expect_eq(hive_event_get_bytes(ev, "blob", &g->b, &g->blen), HIVE_OK);
    cr_expect_eq(hive_event_get_ptr(ev, "peer", &g->p), HIVE_OK);
    cr_expect_eq(hive_event_get_msgpack(ev, "msg", &g->raw, &g->rawlen, &g->obj), HIVE_OK);
    g->rc_missing = hive_event_get_int(ev, "nope", &g->i);
    g->rc_type = hive_event_get_int(ev, "addr", NULL);
    g->rc_null = hive_event_get_int(ev, NULL, NULL);
}

Test(fields, typed_getters, .timeout = 5)
{
    hive_bus *bus = small_bus();
    got g = { 0 };
    int peer;
    const unsigned char blob[] = { 1, 2, 0, 3 };
    const unsigned char mp[] = { 0x93, 1, 2, 3 }; /* [1,2,3] */
    int fake_obj;
    hive_bus_subscribe(bus, "f:x", read_all, &g, NULL);
    hive_field f[] = {
        HIVE_INT("cid", -7), HIVE_DOUBLE("hp", 2.5), HIVE_STR("addr", "127.0.0.1"),
        HIVE_BYTES("blob", blob, sizeof blob), HIVE_PTR("peer", &peer),
        HIVE_MSGPACK("msg", mp, sizeof mp, &fake_obj),
    };
    cr_assert_eq(hive_bus_publish_name(bus, "f:x", f, 6), 1);
    cr_expect_eq(g.i, -7);
    cr_expect_eq(g.d, 2.5);
    cr_expect_str_eq(g.s, "127.0.0.1");
    cr_expect_eq(g.slen, 9);
    cr_expect_eq(g.blen, 4);
    cr_expect_eq(memcmp(g.b, blob, 4), 0);
    cr_expect_eq(g.p, &peer);
    cr_expect_eq(g.raw, mp); /* synchronous: borrowed, not copied */
    cr_expect_eq(g.rawlen, sizeof mp);
    cr_expect_eq(g.obj, &fake_obj);
    cr_expect_eq(g.rc_missing, HIVE_ENOENT);
    cr_expect_eq(g.rc_type, HIVE_ETYPE);
    cr_expect_eq(g.rc_null, HIVE_EINVAL);
    hive_bus_destroy(bus);
}

Test(fields, convenience_getters, .timeout = 5)
{
    int x;
    hive_field f[] = { HIVE_INT("n", 3), HIVE_DOUBLE("d", 0.5), HIVE_STR("s", "hi"),
                       HIVE_PTR("p", &x), HIVE_STR("null", NULL) };
    hive_event ev = { .fields = f, .nfields = 5 };
    cr_expect_eq(hive_event_int(&ev, "n", -1), 3);
    cr_expect_eq(hive_event_int(&ev, "d", -1), -1);   /* wrong type: default */
    cr_expect_eq(hive_event_int(&ev, "zz", -1), -1);
    cr_expect_eq(hive_event_double(&ev, "d", 9), 0.5);
    cr_expect_eq(hive_event_double(&ev, "n", 9), 3.0); /* int converts */
    cr_expect_eq(hive_event_double(&ev, "s", 9), 9.0);
    cr_expect_str_eq(hive_event_str(&ev, "s"), "hi");
    cr_expect_null(hive_event_str(&ev, "zz"));
    cr_expect_null(hive_event_str(&ev, "null"));
    cr_expect_eq(hive_event_ptr(&ev, "p"), &x);
    cr_expect_null(hive_event_ptr(&ev, "n"));
    cr_expect_null(hive_event_str(NULL, "s"));
    cr_expect_eq(hive_event_int(NULL, "n", 5), 5);
}

Test(fields, lookup_by_key_text, .timeout = 5)
{
    char key[] = "cid"; /* a different pointer with the same text */
    hive_field f[] = { HIVE_INT("a", 1), HIVE_INT("cid", 2), HIVE_INT("cid", 3) };
    hive_event ev = { .fields = f, .nfields = 3 };
    const hive_field *got = hive_event_field(&ev, key);
    cr_assert_not_null(got);
    cr_expect_eq(got->v.i, 2); /* the first with that key */
    cr_expect_eq(got->type, HIVE_T_INT);
    cr_expect_null(hive_event_field(&ev, "b"));
    cr_expect_null(hive_event_field(&ev, NULL));
    cr_expect_null(hive_event_field(NULL, "a"));
    hive_event empty = { 0 };
    cr_expect_null(hive_event_field(&empty, "a"));
}

static int evaluations;
static const char *next_name(void) { evaluations++; return "once"; }

Test(fields, hive_str_evaluates_its_argument_once, .timeout = 5)
{
    hive_field f = HIVE_STR("k", next_name());
    cr_expect_eq(evaluations, 1);
    cr_expect_eq(f.v.str.len, 4);
    cr_expect_str_eq(f.v.str.s, "once");
}
