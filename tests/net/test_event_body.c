/*
 * hive_event_body: the decoded body of a recv event in one call, nothing
 * to free, shared by the handlers of one delivery, in the synchronous
 * path (with and without .lazy_decode) and the posted one (.threaded).
 */
#include "net_test.h"

typedef struct body_seen {
    int calls, ok;
    const msgpack_object *first;   /* this delivery's object, from handler 1 */
    int same;                      /* handler 2 got the same object */
    int stable;                    /* a second call in one handler: same */
    char text[32];
    int64_t n;
} body_seen;

static void first_handler(const hive_event *ev, void *user)
{
    body_seen *s = user;
    s->calls++;
    const msgpack_object *o = hive_event_body(ev);
    s->first = o;
    if (o && hive_event_body(ev) == o) s->stable++;
    if (hive_msg_copy_str(o, "text", s->text, sizeof s->text) >= 0) s->ok++;
    s->n = hive_msg_int_or(o, "n", -1);
}

static void second_handler(const hive_event *ev, void *user)
{
    body_seen *s = user;
    if (s->first && hive_event_body(ev) == s->first) s->same++;
}

static void send_text(hive_client *c, const char *text, int n)
{
    hive_msg m;
    hive_msg_init(&m);
    hive_msg_map_begin(&m);
    hive_msg_kv_str(&m, "text", text);
    hive_msg_kv_int(&m, "n", n);
    cr_assert_eq(hive_msg_map_end(&m), 0);
    cr_assert_eq(hive_client_send_msg(c, "game:chat", &m), 0);
    hive_msg_free(&m);
}

static void sync_run(bool lazy)
{
    fixture fx;
    fx_init(&fx, &(hive_server_config){ .lazy_decode = lazy }, NULL, true);
    body_seen s = { 0 };
    cr_assert_gt(hive_bus_subscribe(fx.sbus, "net:server.recv.game:chat", first_handler, &s,
                                    &(hive_sub_opts){ .priority = 10 }), 0);
    cr_assert_gt(hive_bus_subscribe(fx.sbus, "net:server.recv.game:chat", second_handler, &s, NULL), 0);
    send_text(fx.cli, "hello", 5);
    cr_assert(pump_until_event(fx.srv, fx.cli, 3000, fx.sr, "net:server.recv.game:chat", 1));
    cr_expect_eq(s.calls, 1);
    cr_expect_eq(s.ok, 1);
    cr_expect_str_eq(s.text, "hello");
    cr_expect_eq(s.n, 5);
    cr_expect_eq(s.stable, 1);
    cr_expect_eq(s.same, 1, "every handler of a delivery sees one object");
    fx_fini(&fx);
}

Test(event_body, sync_path_carries_the_object, .timeout = 30) { sync_run(false); }
Test(event_body, sync_lazy_path_decodes_once_per_delivery, .timeout = 30) { sync_run(true); }

Test(event_body, not_a_recv_event_or_a_copy, .timeout = 5)
{
    hive_bus *bus = hive_bus_create(NULL);
    hive_field f[] = { HIVE_MSGPACK("msg", "\x81\xa1" "a" "\x01", 4, NULL) };
    hive_event hand = { .bus = bus, .fields = f, .nfields = 1 };
    cr_expect_null(hive_event_body(&hand), "a hand-built event has no delivery to own the decode");
    hive_event none = { .bus = bus };
    cr_expect_null(hive_event_body(&none));
    cr_expect_null(hive_event_body(NULL));
    cr_expect_eq(hive_event_attach(&hand, "k", NULL, free), HIVE_ESTATE);
    hive_bus_destroy(bus);
}

typedef struct attach_seen { int first, exist, other, second_sees; } attach_seen;
static int released;
static void count_release(void *p) { released++; free(p); }
static const char key_a = 0, key_b = 0;

static void attach_a(const hive_event *ev, void *user)
{
    attach_seen *s = user;
    s->first = hive_event_attach(ev, &key_a, malloc(8), count_release);
    s->exist = hive_event_attach(ev, &key_a, NULL, count_release);      /* the same key: taken */
    s->other = hive_event_attach(ev, &key_b, malloc(8), count_release); /* another key: its own */
}
static void read_a(const hive_event *ev, void *user)
{
    attach_seen *s = user;
    if (hive_event_attached(ev, &key_a) && hive_event_attached(ev, &key_b) &&
        hive_event_attached(ev, &key_a) != hive_event_attached(ev, &key_b))
        s->second_sees++;
}

Test(event_body, a_delivery_temporary_is_released_after_the_last_handler, .timeout = 5)
{
    hive_bus *bus = hive_bus_create(NULL);
    attach_seen s = { 0 };
    hive_bus_subscribe(bus, "t:e", attach_a, &s, &(hive_sub_opts){ .priority = 5 });
    hive_bus_subscribe(bus, "t:e", read_a, &s, NULL);
    released = 0;
    cr_expect_eq(hive_bus_publish_name(bus, "t:e", NULL, 0), 2);
    cr_expect_eq(s.first, HIVE_OK);
    cr_expect_eq(s.exist, HIVE_EEXIST);
    cr_expect_eq(s.other, HIVE_OK);
    cr_expect_eq(s.second_sees, 1);
    cr_expect_eq(released, 2);
    cr_expect_eq(hive_bus_post(bus, hive_bus_lookup(bus, "t:e"), NULL, 0), 0);
    cr_expect_eq(hive_bus_dispatch(bus, 0), 1);
    cr_expect_eq(released, 4, "posted: released after dispatching it");
    hive_bus_destroy(bus);
}

/* Posted path: Hive's I/O threads post, the test thread dispatches. */
Test(threads, event_body_on_the_posted_path, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, &(hive_server_config){ .threaded = true }, &(hive_client_config){ .threaded = true }, false);
    body_seen s = { 0 };
    cr_assert_gt(hive_bus_subscribe(fx.sbus, "net:server.recv.game:chat", first_handler, &s,
                                    &(hive_sub_opts){ .priority = 10 }), 0);
    cr_assert_gt(hive_bus_subscribe(fx.sbus, "net:server.recv.game:chat", second_handler, &s, NULL), 0);
    cr_assert_eq(hive_client_connect(fx.cli, fx.addr), 0);
    cr_assert_eq(hive_client_wait_connected(fx.cli, 3000), 0);
    enum { N = 20 };
    for (int i = 0; i < N; i++) send_text(fx.cli, "posted", i);
    uint64_t end = hive_now_ns() + 10000000000ull;
    while (s.calls < N && hive_now_ns() < end) {
        hive_bus_dispatch(fx.sbus, 0);
        hive_bus_dispatch(fx.cbus, 0);
        usleep(1000);
    }
    cr_expect_eq(s.calls, N);
    cr_expect_eq(s.ok, N);
    cr_expect_eq(s.stable, N);
    cr_expect_eq(s.same, N);
    cr_expect_str_eq(s.text, "posted");
    cr_expect_eq(s.n, N - 1, "in order");
    fx_fini(&fx);
}

/* Nested deliveries each own their temporary: the inner one is released
 * when the inner delivery returns, the outer one after the outer. */
static int order[4], norder;
static void rel_inner(void *p) { (void)p; order[norder++] = 1; }
static void rel_outer(void *p) { (void)p; order[norder++] = 2; }
static int inner_seen_outer;

static void inner(const hive_event *ev, void *user)
{
    cr_expect_eq(hive_event_attach(ev, &key_b, NULL, rel_inner), HIVE_OK);
    inner_seen_outer = hive_event_attached(ev, &key_a) != NULL;   /* another event's */
}

static void outer(const hive_event *ev, void *user)
{
    static int token;
    cr_expect_eq(hive_event_attach(ev, &key_a, &token, rel_outer), HIVE_OK);
    hive_bus_publish_name(ev->bus, "t:inner", NULL, 0);
    cr_expect_eq(norder, 1, "the inner temporary is gone when the inner publish returns");
    cr_expect_eq(hive_event_attached(ev, &key_a), &token, "the outer one is still there");
}

Test(event_body, nested_deliveries_release_innermost_first, .timeout = 5)
{
    hive_bus *bus = hive_bus_create(NULL);
    hive_bus_subscribe(bus, "t:outer", outer, NULL, NULL);
    hive_bus_subscribe(bus, "t:inner", inner, NULL, NULL);
    norder = 0;
    cr_expect_eq(hive_bus_publish_name(bus, "t:outer", NULL, 0), 1);
    cr_expect_eq(norder, 2);
    cr_expect_eq(order[0], 1);
    cr_expect_eq(order[1], 2);
    cr_expect_not(inner_seen_outer, "a temporary belongs to its own event");
    hive_bus_destroy(bus);
}
