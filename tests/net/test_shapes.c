/*
 * Declared shapes (hive/net.h DECLARED SHAPES) and unknown packet names
 * (UNKNOWN PACKET NAMES): a packet type's handlers can rely on its
 * fields, a misfit is dropped and counted or closes with bad_shape, and a
 * subscription to a packet the registry lacks is reported, not silent.
 */
#include "net_test.h"
#include "net/core/shape.h"

typedef struct warns {
    int n, shape, unknown;
    int64_t cid;
    char name[64], text[300];
} warns;

static void on_warn(const hive_event *ev, void *u)
{
    warns *w = u;
    w->n++;
    const char *code = hive_event_str(ev, "code");
    if (code && !strcmp(code, "bad_shape")) w->shape++;
    if (code && !strcmp(code, "unknown_packet")) w->unknown++;
    w->cid = hive_event_int(ev, "cid", -1);
    snprintf(w->name, sizeof w->name, "%s", hive_event_str(ev, "name") ? hive_event_str(ev, "name") : "");
    snprintf(w->text, sizeof w->text, "%s", hive_event_str(ev, "text") ? hive_event_str(ev, "text") : "");
}

typedef struct gotx { int n; double last_x; } gotx;

/* The handler relies on the shape: x is there and a number. */
static void on_pos(const hive_event *ev, void *u)
{
    gotx *g = u;
    hive_msg_view v;
    const msgpack_object *o;
    cr_assert_eq(hive_event_msg(ev, &v, &o), 0);
    cr_assert_eq(hive_msg_get_double(o, "x", &g->last_x), 0, "a shaped packet always has x");
    hive_msg_view_free(&v);
    g->n++;
}

static const hive_shape_field pos_shape[] = {
    { "x", HIVE_V_NUMBER, true },
    { "who", HIVE_V_STR, false },
};

static void send_raw(hive_client *c, const char *name, void (*build)(hive_msg *))
{
    hive_msg m;
    hive_msg_init(&m);
    build(&m);
    cr_assert_eq(hive_client_send_msg(c, name, &m), HIVE_OK);
    hive_msg_free(&m);
}

static void b_good(hive_msg *m) { hive_msg_map(m, 2); hive_msg_kv_double(m, "x", 2.5); hive_msg_kv_str(m, "who", "ada"); }
static void b_int(hive_msg *m) { hive_msg_map(m, 1); hive_msg_kv_int(m, "x", 7); }
static void b_missing(hive_msg *m) { hive_msg_map(m, 1); hive_msg_kv_int(m, "y", 7); }
static void b_wrong(hive_msg *m) { hive_msg_map(m, 1); hive_msg_kv_str(m, "x", "seven"); }
static void b_opt_wrong(hive_msg *m) { hive_msg_map(m, 2); hive_msg_kv_int(m, "x", 1); hive_msg_kv_int(m, "who", 3); }
static void b_array(hive_msg *m) { hive_msg_array(m, 1); hive_msg_int(m, 1); }

static void on_delivered(const hive_event *ev, void *u) { *(int64_t *)u = hive_event_int(ev, "delivered", -1); }

typedef struct pump_n { int *n; int want; } pump_n;
static bool reached_n(void *a) { pump_n *p = a; return *p->n >= p->want; }

Test(shapes, a_misfit_is_dropped_and_counted_and_the_connection_stays, .timeout = 30)
{
    test_scheme = "tcp://";
    hive_bus *sbus = hive_bus_create(NULL), *cbus = hive_bus_create(NULL);
    char addr[64];
    hive_server *s = hive_server_create(&(hive_server_config){ .addr = "tcp://127.0.0.1:0" }, sbus);
    cr_assert_not_null(s);
    cr_assert_gt(hive_server_register(s, "game:pos", 0, HIVE_RELIABLE), 0);
    cr_assert_eq(hive_server_shape(s, "game:pos", pos_shape, 2, HIVE_SHAPE_DROP), HIVE_OK);
    gotx g = { 0 };
    warns w = { 0 };
    hive_bus_subscribe(sbus, "net:server.recv.game:pos", on_pos, &g, NULL);
    hive_bus_subscribe(sbus, HIVE_EV_SERVER_WARNING, on_warn, &w, NULL);
    cr_assert_eq(hive_server_start(s), HIVE_OK);
    test_addr(s, addr, sizeof addr);
    hive_client *c = hive_client_create(NULL, cbus);
    cr_assert_eq(hive_client_connect(c, addr), 0);
    cr_assert(pump_both_open(s, c, 5000));
    send_raw(c, "game:pos", b_missing);
    send_raw(c, "game:pos", b_wrong);
    send_raw(c, "game:pos", b_opt_wrong);
    send_raw(c, "game:pos", b_array);
    send_raw(c, "game:pos", b_good);
    send_raw(c, "game:pos", b_int);
    pump_n pn = { &g.n, 2 };
    cr_assert(pump(s, c, 3000, reached_n, &pn), "the good packets arrive");
    cr_expect_eq(g.n, 2);
    cr_expect_eq(g.last_x, 7.0, "an integer is a number");
    hive_net_stats st;
    cr_assert_eq(hive_server_stats(s, &st), 0);
    cr_expect_eq(st.shape_rejected, 4);
    cr_expect_eq(w.shape, 4, "each drop is said");
    cr_expect_eq(w.cid, (int64_t)hive_client_cid(c));
    cr_expect_str_eq(w.name, "game:pos");
    cr_expect_eq(hive_client_get_state(c), HIVE_CLIENT_OPEN, "dropping never closes");
    /* The dropped ones were received all the same: the client's close
     * finds every message acknowledged. */
    int64_t delivered = -1;
    hive_bus_subscribe(cbus, HIVE_EV_CLIENT_CLOSE, on_delivered, &delivered, NULL);
    cr_assert_eq(hive_client_close(c, HIVE_CLOSE_NORMAL, NULL), HIVE_OK);
    cr_assert(pump(s, c, 3000, client_gone, c));
    cr_expect_eq(delivered, 1, "a dropped packet still counts as received");
    hive_client_destroy(c);
    hive_server_destroy(s);
    hive_bus_destroy(sbus);
    hive_bus_destroy(cbus);
}

Test(shapes, the_messages_say_which_field, .timeout = 30)
{
    hive_shape_field f[] = { { "x", HIVE_V_NUMBER, true }, { "who", HIVE_V_STR, false } };
    hive__shape *sh;
    cr_assert_eq(hive__shape_new(&sh, "game:pos", f, 2, HIVE_SHAPE_DROP), HIVE_OK);
    char why[200];
    hive_msg m;
    hive_msg_init(&m);
    void (*builds[])(hive_msg *) = { b_missing, b_wrong, b_opt_wrong, b_array, b_good };
    const char *want[] = { "required field \"x\" is missing", "\"x\" is not a number", "\"who\" is not a str",
                           "not a map", NULL };
    for (int i = 0; i < 5; i++) {
        hive_msg_reset(&m);
        builds[i](&m);
        hive_msg_view v;
        cr_assert_eq(hive_msg_view_init(&v, hive_msg_data(&m), hive_msg_size(&m)), 0);
        why[0] = 0;
        int rc = hive__shape_check(sh, v.obj, why, sizeof why);
        if (want[i]) {
            cr_expect_neq(rc, 0, "case %d", i);
            cr_expect(strstr(why, want[i]) != NULL, "case %d: %s", i, why);
        } else {
            cr_expect_eq(rc, 0, "%s", why);
        }
        hive_msg_view_free(&v);
    }
    hive_msg_free(&m);
    hive__shape_free_all(sh);
    /* Every type. */
    const struct { hive_vtype t; const char *hex; bool ok; } cases[] = {
        { HIVE_V_INT, "\xd3\x80\x00\x00\x00\x00\x00\x00\x00", true }, { HIVE_V_INT, "\xcf\xff\xff\xff\xff\xff\xff\xff\xff", false },
        { HIVE_V_UINT, "\x05", true }, { HIVE_V_UINT, "\xff", false }, { HIVE_V_DOUBLE, "\xca\x3f\x80\x00\x00", true },
        { HIVE_V_DOUBLE, "\x05", false }, { HIVE_V_BOOL, "\xc3", true }, { HIVE_V_NIL, "\xc0", true },
        { HIVE_V_BIN, "\xc4\x01\x00", true }, { HIVE_V_STR, "\xc4\x01\x00", false }, { HIVE_V_ARRAY, "\x90", true },
        { HIVE_V_MAP, "\x80", true }, { HIVE_V_ANY, "\xc0", true },
    };
    size_t lens[] = { 9, 9, 1, 1, 5, 1, 1, 1, 3, 3, 1, 1, 1 };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hive_msg_view v;
        cr_assert_eq(hive_msg_view_init(&v, cases[i].hex, lens[i]), 0, "case %zu", i);
        cr_expect_eq(hive__vtype_match(cases[i].t, v.obj), cases[i].ok, "case %zu", i);
        hive_msg_view_free(&v);
    }
}

static void expect_closed_bad_shape(const char *scheme)
{
    test_scheme = scheme;
    hive_bus *sbus = hive_bus_create(NULL), *cbus = hive_bus_create(NULL);
    char a0[64];
    snprintf(a0, sizeof a0, "%s127.0.0.1:0", scheme);
    hive_server *s = hive_server_create(&(hive_server_config){ .addr = a0 }, sbus);
    cr_assert_gt(hive_server_register(s, "game:pos", 0, HIVE_RELIABLE), 0);
    cr_assert_eq(hive_server_shape(s, "game:pos", pos_shape, 2, HIVE_SHAPE_CLOSE), HIVE_OK);
    recorder *cr = calloc(1, sizeof *cr);
    rec_attach(cr, cbus);
    cr_assert_eq(hive_server_start(s), HIVE_OK);
    char addr[64];
    test_addr(s, addr, sizeof addr);
    hive_client *c = hive_client_create(NULL, cbus);
    cr_assert_eq(hive_client_connect(c, addr), 0);
    cr_assert(pump_both_open(s, c, 5000));
    send_raw(c, "game:pos", b_wrong);
    cr_assert(pump(s, c, 3000, client_gone, c));
    const rec_event *e = rec_find(cr, HIVE_EV_CLIENT_CLOSE);
    cr_assert_not_null(e);
    cr_expect_str_eq(e->reason_name, "bad_shape", "%s", scheme);
    cr_expect_eq(e->remote, 1);
    hive_net_stats st;
    cr_assert_eq(hive_server_stats(s, &st), 0);
    cr_expect_eq(st.shape_rejected, 1);
    hive_client_destroy(c);
    hive_server_destroy(s);
    hive_bus_destroy(sbus);
    hive_bus_destroy(cbus);
    free(cr);
}

Test(shapes, the_close_policy_closes_with_bad_shape, .timeout = 30)
{
    expect_closed_bad_shape("tcp://");
    expect_closed_bad_shape("");
}

Test(shapes, declaring_is_checked)
{
    hive_bus *bus = hive_bus_create(NULL);
    hive_server *s = hive_server_create(&(hive_server_config){ .addr = "tcp://127.0.0.1:0" }, bus);
    cr_expect_eq(hive_server_shape(s, "game:none", pos_shape, 2, HIVE_SHAPE_DROP), HIVE_ENOENT, "register first");
    cr_assert_gt(hive_server_register(s, "game:pos", 0, HIVE_RELIABLE), 0);
    hive_shape_field dup[] = { { "x", HIVE_V_INT, true }, { "x", HIVE_V_STR, false } };
    cr_expect_eq(hive_server_shape(s, "game:pos", dup, 2, HIVE_SHAPE_DROP), HIVE_EINVAL);
    hive_shape_field nokey[] = { { NULL, HIVE_V_INT, true } };
    cr_expect_eq(hive_server_shape(s, "game:pos", nokey, 1, HIVE_SHAPE_DROP), HIVE_EINVAL);
    hive_shape_field badtype[] = { { "x", (hive_vtype)99, true } };
    cr_expect_eq(hive_server_shape(s, "game:pos", badtype, 1, HIVE_SHAPE_DROP), HIVE_EINVAL);
    cr_expect_eq(hive_server_shape(s, "game:pos", pos_shape, 2, (hive_shape_policy)7), HIVE_EINVAL);
    cr_expect_eq(hive_server_shape(s, "game:pos", pos_shape, 2, HIVE_SHAPE_DROP), HIVE_OK);
    cr_expect_eq(hive_server_shape(s, "game:pos", pos_shape, 1, HIVE_SHAPE_CLOSE), HIVE_OK, "again replaces");
    cr_assert_eq(hive_server_start(s), HIVE_OK);
    cr_expect_eq(hive_server_shape(s, "game:pos", pos_shape, 2, HIVE_SHAPE_DROP), HIVE_ESTATE);
    hive_server_destroy(s);
    hive_bus_destroy(bus);
}

/* The client checks what the server sends, by name. */
Test(shapes, a_client_shape_drops_what_does_not_fit, .timeout = 30)
{
    test_scheme = "tcp://";
    fixture fx;
    fx_init(&fx, NULL, NULL, false);
    hive_shape_field f[] = { { "text", HIVE_V_STR, true } };
    cr_assert_eq(hive_client_shape(fx.cli, "game:echo", f, 1, HIVE_SHAPE_DROP), HIVE_OK);
    warns w = { 0 };
    hive_bus_subscribe(fx.cbus, HIVE_EV_CLIENT_WARNING, on_warn, &w, NULL);
    cr_assert_eq(hive_client_connect(fx.cli, fx.addr), 0);
    cr_expect_eq(hive_client_shape(fx.cli, "game:echo", f, 1, HIVE_SHAPE_DROP), HIVE_ESTATE, "not while connecting");
    cr_assert(pump_both_open(fx.srv, fx.cli, 5000));
    hive_cid cid = hive_client_cid(fx.cli);
    hive_msg m;
    hive_msg_init(&m);
    hive_msg_map(&m, 1);
    hive_msg_kv_int(&m, "text", 5);
    cr_assert_eq(hive_server_send_msg(fx.srv, cid, "game:echo", &m), HIVE_OK);
    hive_msg_free(&m);
    fx_roundtrip(&fx, "fits");   /* game:chat is echoed as game:echo {text} */
    cr_expect_eq(rec_count(fx.cr, "net:client.recv.game:echo"), 1, "only the one that fits");
    cr_expect_eq(w.shape, 1);
    hive_net_stats st;
    cr_assert_eq(hive_client_stats(fx.cli, &st), 0);
    cr_expect_eq(st.shape_rejected, 1);
    fx_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* Unknown packet names                                                 */
/* ------------------------------------------------------------------ */

static void nop(const hive_event *ev, void *u) { (void)ev; (void)u; }

Test(typos, a_subscription_to_an_unregistered_packet_is_reported, .timeout = 30)
{
    test_scheme = "tcp://";
    hive_bus *bus = hive_bus_create(NULL);
    warns w = { 0 };
    hive_bus_subscribe(bus, HIVE_EV_SERVER_WARNING, on_warn, &w, NULL);
    hive_bus_subscribe(bus, "net:server.recv.game:chta", nop, NULL, NULL);   /* the typo */
    hive_bus_subscribe(bus, "net:server.recv.game:chat", nop, NULL, NULL);   /* fine */
    hive_bus_subscribe(bus, "net:server.recv.game:*", nop, NULL, NULL);      /* patterns: never */
    hive_server *s = test_server(bus, NULL, (const char *const[]){ "game:chat", NULL });
    cr_expect_eq(w.unknown, 1, "reported at start");
    cr_expect_str_eq(w.name, "game:chta");
    cr_expect(strstr(w.text, "never fire") != NULL, "%s", w.text);
    /* One made later is found at the next timer round, once. */
    hive_bus_subscribe(bus, "net:server.recv.game:mvoe", nop, NULL, NULL);
    pump_n pn = { &w.unknown, 2 };
    cr_expect(pump(s, NULL, 2000, reached_n, &pn), "a later typo is reported too");
    cr_expect_str_eq(w.name, "game:mvoe");
    pump(s, NULL, 200, NULL, NULL);
    cr_expect_eq(w.unknown, 2, "each once");
    hive_server_destroy(s);
    hive_bus_destroy(bus);
}

Test(typos, strict_names_fails_the_start, .timeout = 30)
{
    hive_bus *bus = hive_bus_create(NULL);
    warns w = { 0 };
    hive_bus_subscribe(bus, HIVE_EV_SERVER_WARNING, on_warn, &w, NULL);
    hive_bus_subscribe(bus, "net:server.recv.game:chta", nop, NULL, NULL);
    hive_server *s = hive_server_create(&(hive_server_config){ .addr = "tcp://127.0.0.1:0", .strict_names = true },
                                        bus);
    cr_assert_gt(hive_server_register(s, "game:chat", 0, HIVE_RELIABLE), 0);
    cr_expect_eq(hive_server_start(s), HIVE_ENOENT);
    cr_expect_eq(w.unknown, 1, "and says which");
    hive_server_destroy(s);
    hive_bus_destroy(bus);
}

Test(typos, a_client_reports_names_and_shapes_the_servers_registry_lacks, .timeout = 30)
{
    test_scheme = "tcp://";
    fixture fx;
    fx_init(&fx, NULL, NULL, false);
    warns w = { 0 };
    hive_bus_subscribe(fx.cbus, HIVE_EV_CLIENT_WARNING, on_warn, &w, NULL);
    hive_bus_subscribe(fx.cbus, "net:client.recv.game:ehco", nop, NULL, NULL);
    hive_shape_field f[] = { { "text", HIVE_V_STR, true } };
    cr_assert_eq(hive_client_shape(fx.cli, "game:eco", f, 1, HIVE_SHAPE_DROP), HIVE_OK);
    cr_assert_eq(hive_client_connect(fx.cli, fx.addr), 0);
    cr_assert(pump_both_open(fx.srv, fx.cli, 5000));
    cr_expect_eq(w.unknown, 2, "the subscription and the shape");
    fx_fini(&fx);
}
