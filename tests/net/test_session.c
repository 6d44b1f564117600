/*
 * A whole session over loopback - connect, handshake, one message each
 * way, close, stop - and the exact sequence of events on both sides.
 */
#include "net_test.h"

typedef struct world {
    hive_server *srv;
    hive_client *cli;
    int server_got, client_got;
    char server_text[64], client_text[64];
} world;

/* Server side: answer every game:chat with a game:echo to its sender. */
static void on_chat(const hive_event *ev, void *user)
{
    world *w = user;
    hive_msg_view v;
    const msgpack_object *o;
    cr_assert_eq(hive_event_msg(ev, &v, &o), 0);
    const char *s;
    size_t n;
    cr_assert_eq(hive_msg_get_str(o, "text", &s, &n), 0);
    snprintf(w->server_text, sizeof w->server_text, "%.*s", (int)n, s);
    hive_msg_view_free(&v);
    w->server_got++;

    hive_msg m;
    text_msg(&m, "pong");
    cr_assert_eq(hive_server_send_msg(w->srv, (hive_cid)hive_event_int(ev, "cid", 0), "game:echo", &m), 0);
    hive_msg_free(&m);
}

/* Client side: take the echo, then close. */
static void on_echo(const hive_event *ev, void *user)
{
    world *w = user;
    hive_msg_view v;
    const msgpack_object *o;
    cr_assert_eq(hive_event_msg(ev, &v, &o), 0);
    const char *s;
    size_t n;
    cr_assert_eq(hive_msg_get_str(o, "text", &s, &n), 0);
    snprintf(w->client_text, sizeof w->client_text, "%.*s", (int)n, s);
    hive_msg_view_free(&v);
    w->client_got++;
    cr_assert_eq(hive_client_close(w->cli, HIVE_CLOSE_NORMAL, "bye"), 0);
}

static bool both_gone(void *arg)
{
    world *w = arg;
    return client_gone(w->cli) && hive_server_connection_count(w->srv) == 0;
}

Test(session, full_session_event_sequence, .timeout = 30)
{
    hive_bus *sbus = hive_bus_create(NULL), *cbus = hive_bus_create(NULL);
    recorder *sr = calloc(1, sizeof *sr), *cr = calloc(1, sizeof *cr);
    rec_attach(sr, sbus);
    rec_attach(cr, cbus);
    world w = { 0 };
    cr_assert_gt(hive_bus_subscribe(sbus, "net:server.recv.game:chat", on_chat, &w, NULL), 0);
    cr_assert_gt(hive_bus_subscribe(cbus, "net:client.recv.game:echo", on_echo, &w, NULL), 0);

    const char *packets[] = { "game:chat", "game:echo", NULL };
    w.srv = test_server(sbus, NULL, packets);
    w.cli = hive_client_create(NULL, cbus);
    cr_assert_not_null(w.cli);
    char addr[64];
    test_addr(w.srv, addr, sizeof addr);
    cr_assert_eq(hive_client_connect(w.cli, addr), 0);
    cr_assert(pump(w.srv, w.cli, 3000, client_open, w.cli), "handshake did not complete");
    cr_expect_gt(hive_client_cid(w.cli), 0u);

    hive_msg m;
    text_msg(&m, "ping");
    cr_assert_eq(hive_client_send_msg(w.cli, "game:chat", &m), 0);
    hive_msg_free(&m);
    cr_assert(pump(w.srv, w.cli, 3000, both_gone, &w), "session did not end");

    cr_expect_eq(w.server_got, 1);
    cr_expect_eq(w.client_got, 1);
    cr_expect_str_eq(w.server_text, "ping");
    cr_expect_str_eq(w.client_text, "pong");

    hive_server_stop(w.srv);
    hive_server_destroy(w.srv);
    hive_client_destroy(w.cli);

    static const char *const want_server[] = {
        "net:server.initialize",
        "net:server.bind",
        "net:server.start",
        "net:server.connection.accept",
        "net:server.connection.handshakecomplete",
        "net:server.connection.recv",
        "net:server.recv.game:chat",
        "net:server.connection.send",
        "net:server.connection.close",
        "net:server.stop",
        "net:server.shutdown",
        NULL,
    };
    static const char *const want_client[] = {
        "net:client.initialize",
        "net:client.connect",
        "net:client.start",
        "net:client.handshakecomplete",
        "net:client.send",
        "net:client.recv",
        "net:client.recv.game:echo",
        "net:client.close",
        "net:client.stop",
        NULL,
    };
    rec_expect_sequence(sr, "server", want_server);
    rec_expect_sequence(cr, "client", want_client);

    /* Data carried by the events. */
    const rec_event *e = rec_find(sr, "net:server.connection.close");
    cr_assert_not_null(e);
    cr_expect_str_eq(e->reason_name, "normal");
    cr_expect_eq(e->remote, 1);
    cr_expect_eq(e->cid, (int64_t)rec_find(sr, "net:server.connection.accept")->cid);
    e = rec_find(cr, "net:client.close");
    cr_assert_not_null(e);
    cr_expect_str_eq(e->reason_name, "normal");
    cr_expect_eq(e->remote, 0);
    e = rec_find(sr, "net:server.connection.recv");
    cr_expect_str_eq(e->msg_text, "ping");
    cr_expect_eq(e->pid, 64);
    e = rec_find(cr, "net:client.recv");
    cr_expect_str_eq(e->msg_text, "pong");
    cr_expect_eq(e->pid, 65);
    cr_expect_str_eq(rec_find(sr, "net:server.stop")->reason_name, "server_shutdown");

    hive_bus_destroy(sbus);
    hive_bus_destroy(cbus);
    free(sr);
    free(cr);
}
