/*
 * Every send path refuses a body that is not exactly one well-formed
 * msgpack value, with HIVE_EMSGPACK and a reason in hive_msg_last_error(),
 * before anything reaches the wire: the peer never closes with bad_msgpack.
 */
#include "net_test.h"

#include <pthread.h>

/* map declared 3 pairs, 2 written: what a new user once shipped. */
static void miscounted(hive_msg *m)
{
    hive_msg_init(m);
    hive_msg_map(m, 3);
    hive_msg_kv_str(m, "text", "hi");
    hive_msg_kv_int(m, "to", 7);
}

static const uint8_t short_array[] = { 0x93, 0x01, 0x02 };   /* 3 declared, 2 there */
#define ARRAY_WHY "array declared 3 elements, found 2"
#define MAP_WHY   "map declared 3 pairs, found 2"

static void expect_refused(int rc, const char *why, const char *what)
{
    cr_expect_eq(rc, HIVE_EMSGPACK, "%s: %d", what, rc);
    cr_expect_str_eq(hive_msg_last_error(), why, "%s", what);
}

static void every_path(fixture *fx)
{
    hive_msg m;
    miscounted(&m);
    hive_cid cid = hive_client_cid(fx->cli);
    int pid = hive_client_packet_id(fx->cli, "game:chat");
    cr_assert_gt(pid, 0);

    expect_refused(hive_server_send_msg(fx->srv, cid, "game:echo", &m), MAP_WHY, "server_send_msg");
    expect_refused(hive_server_send(fx->srv, cid, "game:echo", short_array, sizeof short_array), ARRAY_WHY, "server_send");
    expect_refused(hive_server_send_id(fx->srv, cid, (uint32_t)pid, hive_msg_data(&m), hive_msg_size(&m), 0), MAP_WHY, "server_send_id");
    expect_refused(hive_server_broadcast(fx->srv, "game:echo", short_array, sizeof short_array, 0), ARRAY_WHY, "server_broadcast");
    expect_refused(hive_server_broadcast_id(fx->srv, (uint32_t)pid, hive_msg_data(&m), hive_msg_size(&m), 0, 0), MAP_WHY, "server_broadcast_id");
    expect_refused(hive_client_send_msg(fx->cli, "game:chat", &m), MAP_WHY, "client_send_msg");
    expect_refused(hive_client_send(fx->cli, "game:chat", short_array, sizeof short_array), ARRAY_WHY, "client_send");
    expect_refused(hive_client_send_id(fx->cli, (uint32_t)pid, hive_msg_data(&m), hive_msg_size(&m), 0), MAP_WHY, "client_send_id");

    /* A builder with a container still open is refused by the _msg calls. */
    hive_msg_reset(&m);
    hive_msg_map_begin(&m);
    hive_msg_kv_int(&m, "n", 1);
    cr_expect_eq(hive_client_send_msg(fx->cli, "game:chat", &m), HIVE_EMSGPACK);
    cr_expect(strstr(hive_msg_last_error(), "not ended"), "%s", hive_msg_last_error());
    cr_expect_eq(hive_server_send_msg(fx->srv, cid, "game:echo", &m), HIVE_EMSGPACK);
    /* Ended, it goes. */
    cr_assert_eq(hive_msg_map_end(&m), 0);
    cr_expect_eq(hive_client_send_msg(fx->cli, "game:chat", &m), 0);
    hive_msg_free(&m);
}

Test(send_check, every_send_path_refuses_miscounted_bodies, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, NULL, NULL, true);
    every_path(&fx);
    /* Nothing malformed went out: the connection lives on, both ends. */
    fx_roundtrip(&fx, "still here");
    cr_expect_eq(rec_count(fx.sr, "net:server.connection.close"), 0);
    cr_expect_eq(rec_count(fx.cr, "net:client.close"), 0);
    fx_fini(&fx);
}

Test(send_check, refused_before_state_and_packet_checks, .timeout = 10)
{
    /* Unconnected client and unknown packet: the body is judged first, so
     * the error does not depend on the moment. */
    hive_bus *bus = hive_bus_create(NULL);
    hive_client *c = hive_client_create(NULL, bus);
    cr_expect_eq(hive_client_send_id(c, 4242, short_array, sizeof short_array, 0), HIVE_EMSGPACK);
    cr_expect_str_eq(hive_msg_last_error(), ARRAY_WHY);
    cr_expect_eq(hive_client_send_id(c, 4242, "\x01", 1, 0), HIVE_ESTATE, "a good body gets the old answer");
    hive_client_destroy(c);
    hive_bus_destroy(bus);
}

typedef struct foreign { fixture *fx; int rc_cli, rc_srv, rc_bc; char why[160]; } foreign;

static void *from_another_thread(void *arg)
{
    foreign *f = arg;
    hive_msg m;
    miscounted(&m);
    f->rc_cli = hive_client_send_msg(f->fx->cli, "game:chat", &m);
    f->rc_srv = hive_server_send_msg(f->fx->srv, hive_client_cid(f->fx->cli), "game:echo", &m);
    f->rc_bc = hive_server_broadcast(f->fx->srv, "game:echo", short_array, sizeof short_array, 0);
    snprintf(f->why, sizeof f->why, "%s", hive_msg_last_error());
    hive_msg_free(&m);
    return NULL;
}

Test(threads, send_check_on_threaded_endpoints_and_foreign_threads, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, &(hive_server_config){ .threaded = true }, &(hive_client_config){ .threaded = true }, false);
    cr_assert_eq(hive_client_connect(fx.cli, fx.addr), 0);
    cr_assert_eq(hive_client_wait_connected(fx.cli, 3000), 0);
    hive_msg_check("", 0, NULL, 0);
    foreign f = { .fx = &fx };
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, from_another_thread, &f), 0);
    pthread_join(t, NULL);
    cr_expect_eq(f.rc_cli, HIVE_EMSGPACK);
    cr_expect_eq(f.rc_srv, HIVE_EMSGPACK);
    cr_expect_eq(f.rc_bc, HIVE_EMSGPACK);
    cr_expect_str_eq(f.why, ARRAY_WHY, "the reason is the sending thread's");
    cr_expect_str_neq((char *)hive_msg_last_error(), ARRAY_WHY, "and only that thread's");
    fx_fini(&fx);
}
