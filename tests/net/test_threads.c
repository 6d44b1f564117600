/*
 * Threaded mode (Hive's own I/O thread posting to the bus) and sends from
 * threads that are not the I/O thread, in both modes. Run under TSan by
 * `make tsan` (suite `threads`).
 */
#include "net_test.h"

#include <pthread.h>

#define SENDERS 4
#define PER_SENDER 50

typedef struct tworld {
    hive_server *srv;
    hive_client *cli;
    int server_got, client_got;
    int bad;
} tworld;

/* Runs on the thread that dispatches the server bus: echo it back. */
static void on_chat(const hive_event *ev, void *user)
{
    tworld *w = user;
    hive_msg_view v;
    const msgpack_object *o;
    if (hive_event_msg(ev, &v, &o) != 0 || o->type != MSGPACK_OBJECT_MAP) w->bad++;
    hive_msg_view_free(&v);
    const void *raw, *obj;
    size_t len;
    hive_event_get_msgpack(ev, "msg", &raw, &len, &obj);
    if (obj) w->bad++;                     /* posted events carry raw bytes only */
    w->server_got++;
    if (hive_server_send(w->srv, (hive_cid)hive_event_int(ev, "cid", 0), "game:echo", raw, len) != 0)
        w->bad++;
}

static void on_echo(const hive_event *ev, void *user)
{
    tworld *w = user;
    w->client_got++;
}

typedef struct sender { hive_client *c; int id; int failures; } sender;

static void *send_many(void *arg)
{
    sender *s = arg;
    for (int i = 0; i < PER_SENDER; i++) {
        hive_msg m;
        hive_msg_init(&m);
        hive_msg_map(&m, 2);
        hive_msg_kv_int(&m, "from", s->id);
        hive_msg_kv_int(&m, "n", i);
        if (hive_client_send_msg(s->c, "game:chat", &m) != 0) s->failures++;
        hive_msg_free(&m);
    }
    return NULL;
}

Test(threads, threaded_both_sides_with_sends_from_many_threads, .timeout = 30)
{
    hive_bus *sbus = hive_bus_create(NULL), *cbus = hive_bus_create(NULL);
    recorder *sr = calloc(1, sizeof *sr), *cr = calloc(1, sizeof *cr);
    rec_attach(sr, sbus);
    rec_attach(cr, cbus);
    tworld w = { 0 };
    hive_bus_subscribe(sbus, "net:server.recv.game:chat", on_chat, &w, NULL);
    hive_bus_subscribe(cbus, "net:client.recv.game:echo", on_echo, &w, NULL);
    const char *packets[] = { "game:chat", "game:echo", NULL };
    w.srv = test_server(sbus, &(hive_server_config){ .threaded = true }, packets);
    cr_expect_eq(hive_server_service(w.srv, 0), HIVE_ESTATE, "threaded: service is Hive's");
    w.cli = hive_client_create(&(hive_client_config){ .threaded = true }, cbus);
    char addr[64];
    test_addr(w.srv, addr, sizeof addr);
    cr_assert_eq(hive_client_connect(w.cli, addr), 0);
    cr_assert_eq(hive_client_wait_connected(w.cli, 3000), 0);

    pthread_t t[SENDERS];
    sender s[SENDERS];
    for (int i = 0; i < SENDERS; i++) {
        s[i] = (sender){ .c = w.cli, .id = i };
        cr_assert_eq(pthread_create(&t[i], NULL, send_many, &s[i]), 0);
    }
    uint64_t end = hive_now_ns() + 10000000000ull;
    while (w.client_got < SENDERS * PER_SENDER && hive_now_ns() < end) {
        hive_bus_dispatch(sbus, 0);
        hive_bus_dispatch(cbus, 0);
        usleep(1000);
    }
    for (int i = 0; i < SENDERS; i++) {
        pthread_join(t[i], NULL);
        cr_expect_eq(s[i].failures, 0);
    }
    cr_expect_eq(w.server_got, SENDERS * PER_SENDER);
    cr_expect_eq(w.client_got, SENDERS * PER_SENDER);
    cr_expect_eq(w.bad, 0);

    hive_client_destroy(w.cli);
    hive_server_destroy(w.srv);
    hive_bus_dispatch(sbus, 0);
    hive_bus_dispatch(cbus, 0);
    /* Posted events arrive in the same order as published ones would. */
    cr_expect_str_eq(sr->ev[0].name, "net:server.initialize");
    cr_expect_str_eq(sr->ev[sr->n - 1].name, "net:server.shutdown");
    cr_expect_str_eq(sr->ev[sr->n - 2].name, "net:server.stop");
    cr_expect_str_eq(cr->ev[cr->n - 1].name, "net:client.stop");
    cr_expect_str_eq(cr->ev[cr->n - 2].name, "net:client.close");
    cr_expect_eq(rec_count(sr, "net:server.connection.close"), 1);
    hive_bus_destroy(sbus);
    hive_bus_destroy(cbus);
    free(sr);
    free(cr);
}

typedef struct srv_sender { hive_server *s; hive_cid cid; int failures; } srv_sender;

static void *server_send_many(void *arg)
{
    srv_sender *x = arg;
    for (int i = 0; i < PER_SENDER; i++) {
        if (hive_server_send(x->s, x->cid, "game:echo", "\x01", 1) != 0) x->failures++;
        if (hive_server_broadcast(x->s, "game:echo", "\x02", 1, 0) < 0) x->failures++;
    }
    return NULL;
}

Test(threads, foreign_thread_sends_in_caller_thread_mode, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, NULL, NULL, true);
    srv_sender x[2];
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        x[i] = (srv_sender){ .s = fx.srv, .cid = hive_client_cid(fx.cli) };
        cr_assert_eq(pthread_create(&t[i], NULL, server_send_many, &x[i]), 0);
    }
    int want = 2 * 2 * PER_SENDER;
    cr_expect(pump_until_event(fx.srv, fx.cli, 10000, fx.cr, "net:client.recv.game:echo", want));
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        cr_expect_eq(x[i].failures, 0);
    }
    pump(fx.srv, fx.cli, 50, NULL, NULL);
    cr_expect_eq(rec_count(fx.cr, "net:client.recv.game:echo"), want);
    fx_fini(&fx);
}
