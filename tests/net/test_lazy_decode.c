/*
 * `.lazy_decode`: recv events carry the body's bytes only, even on the
 * synchronous path, and hive_event_msg() decodes them when a handler
 * asks; without it the synchronous event carries the decoded object too.
 * Bodies are checked either way: a malformed one still closes the
 * connection with bad_msgpack.
 */
#include "net_test.h"

typedef struct seen {
    int events, with_obj, decoded_ok;
    char text[64];
} seen;

static void on_recv(const hive_event *ev, void *user)
{
    seen *s = user;
    s->events++;
    const void *raw, *obj;
    size_t len;
    cr_assert_eq(hive_event_get_msgpack(ev, "msg", &raw, &len, &obj), 0);
    cr_assert(raw && len > 0, "the raw body is always there");
    if (obj) s->with_obj++;
    hive_msg_view v;
    const msgpack_object *o;
    const char *t;
    size_t n;
    if (hive_event_msg(ev, &v, &o) == 0 && hive_msg_get_str(o, "text", &t, &n) == 0) {
        s->decoded_ok++;
        snprintf(s->text, sizeof s->text, "%.*s", (int)n, t);
    }
    hive_msg_view_free(&v);
}

static void run(bool lazy)
{
    fixture fx;
    fx_init(&fx, &(hive_server_config){ .lazy_decode = lazy }, &(hive_client_config){ .lazy_decode = lazy }, true);
    seen srv = { 0 }, cli = { 0 };
    cr_assert_gt(hive_bus_subscribe(fx.sbus, "net:server.connection.recv", on_recv, &srv, NULL), 0);
    cr_assert_gt(hive_bus_subscribe(fx.cbus, "net:client.recv.game:echo", on_recv, &cli, NULL), 0);
    fx_roundtrip(&fx, "hello");
    fx_roundtrip(&fx, "again");
    cr_expect_eq(srv.events, 2);
    cr_expect_eq(cli.events, 2);
    cr_expect_eq(srv.decoded_ok, 2, "hive_event_msg decodes on the server");
    cr_expect_eq(cli.decoded_ok, 2, "hive_event_msg decodes on the client");
    cr_expect_str_eq(srv.text, "again");
    cr_expect_str_eq(cli.text, "again");
    cr_expect_eq(srv.with_obj, lazy ? 0 : 2);
    cr_expect_eq(cli.with_obj, lazy ? 0 : 2);
    fx_fini(&fx);
}

Test(lazy_decode, events_carry_raw_bytes_and_decode_on_demand, .timeout = 30)
{
    run(true);
}

Test(lazy_decode, without_it_the_sync_event_carries_the_object, .timeout = 30)
{
    run(false);
}

Test(lazy_decode, malformed_bodies_are_still_refused, .timeout = 30)
{
    hive_bus *bus = hive_bus_create(NULL);
    recorder *r = calloc(1, sizeof *r);
    rec_attach(r, bus);
    const char *packets[] = { "game:chat", NULL };
    hive_server *s = test_server(bus, &(hive_server_config){ .lazy_decode = true }, packets);
    raw_peer p;
    raw_connect(&p, s);
    raw_handshake(&p, s);
    cr_assert(pump_until_event(s, NULL, 3000, r, "net:server.connection.handshakecomplete", 1));
    const uint8_t body[] = { 0x92, 0x01 };      /* array of 2 with one element */
    raw_send_frame(&p, 64, body, sizeof body);
    for (int i = 0; i < 400 && rec_count(r, "net:server.connection.close") == 0; i++) {
        hive_server_service(s, 1);
        raw_service(&p, 1);
    }
    const rec_event *e = rec_find(r, "net:server.connection.close");
    cr_assert_not_null(e);
    cr_expect_eq(e->reason, HIVE_CLOSE_BAD_MSGPACK);
    cr_expect_eq(rec_count(r, "net:server.connection.recv"), 0);
    raw_destroy(&p);
    hive_server_destroy(s);
    hive_bus_destroy(bus);
    free(r);
}
