/*
 * A flood is handed out over several service calls: one call spends at
 * most a few milliseconds handling messages and returns, so the caller's
 * loop keeps running even when handlers are slow; the rest comes with
 * the next calls, in order, none lost.
 */
#include "net_test.h"

#define FLOOD 2000
#define HANDLER_US 100

typedef struct counter { int n, out_of_order; } counter;

static void on_chat(const hive_event *ev, void *user)
{
    counter *c = user;
    hive_msg_view v;
    const msgpack_object *o;
    int64_t i = -1;
    if (hive_event_msg(ev, &v, &o) == 0) hive_msg_get_int(o, "n", &i);
    hive_msg_view_free(&v);
    if (i != c->n) c->out_of_order++;
    c->n++;
    uint64_t until = hive_now_ns() + HANDLER_US * 1000u;   /* a slow handler */
    while (hive_now_ns() < until) {}
}

Test(flood, slow_handlers_get_a_flood_over_many_short_service_calls, .timeout = 60)
{
    fixture fx;
    /* One message per ENet packet: one transport event per message. */
    fx_init(&fx, NULL, &(hive_client_config){ .no_coalesce = true }, true);
    counter got = { 0 };
    cr_assert_gt(hive_bus_subscribe(fx.sbus, "net:server.recv.game:chat", on_chat, &got, NULL), 0);
    for (int i = 0; i < FLOOD; i++) {
        hive_msg m;
        hive_msg_init(&m);
        hive_msg_map(&m, 1);
        hive_msg_kv_int(&m, "n", i);
        cr_assert_eq(hive_client_send_msg(fx.cli, "game:chat", &m), 0);
        hive_msg_free(&m);
    }
    hive_client_flush(fx.cli);
    int calls = 0, most = 0;
    uint64_t end = hive_now_ns() + 20000000000ull;
    while (got.n < FLOOD && hive_now_ns() < end) {
        hive_client_service(fx.cli, 1);
        int rc = hive_server_service(fx.srv, 1);
        cr_assert_geq(rc, 0);
        if (rc > 0) calls++;
        if (rc > most) most = rc;
    }
    cr_expect_eq(got.n, FLOOD, "%d of %d messages arrived", got.n, FLOOD);
    cr_expect_eq(got.out_of_order, 0);
    /* 2 ms per call: about 20 of these handlers, never hundreds. */
    cr_expect_geq(calls, FLOOD / 200, "only %d calls", calls);
    cr_expect_leq(most, 200, "one call handled %d messages", most);
    fx_fini(&fx);
}
