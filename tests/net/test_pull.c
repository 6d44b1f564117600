/*
 * The pull API: wait for a packet with a timeout, take it as (decoded
 * msgpack, raw bytes); a bounded queue that counts what it drops.
 */
#include "net_test.h"

static void send_text(hive_client *c, const char *name, const char *text)
{
    hive_msg m;
    text_msg(&m, text);
    cr_assert_eq(hive_client_send_msg(c, name, &m), 0);
    hive_msg_free(&m);
}

static void expect_text(const hive_packet *p, const char *text)
{
    const char *s;
    size_t n;
    cr_assert_eq(hive_msg_get_str(p->msg, "text", &s, &n), 0);
    cr_expect_eq(n, strlen(text));
    cr_expect_eq(memcmp(s, text, n), 0);
}

Test(pull, wait_then_take_both_ways, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, &(hive_server_config){ .pull = true }, &(hive_client_config){ .pull = true }, true);
    hive_cid cid = hive_client_cid(fx.cli);

    cr_expect_eq(hive_server_next(fx.srv, &(hive_packet){ 0 }), 0);   /* empty */
    cr_expect_eq(hive_server_wait(fx.srv, 20), 0);                    /* times out */

    send_text(fx.cli, "game:chat", "one");
    send_text(fx.cli, "game:chat", "two");
    hive_client_flush(fx.cli);
    cr_assert_eq(hive_server_wait(fx.srv, 2000), 1);
    hive_packet p;
    cr_assert_eq(hive_server_next(fx.srv, &p), 1);
    cr_expect_eq(p.cid, cid);
    cr_expect_eq(p.pid, (uint32_t)hive_server_packet_id(fx.srv, "game:chat"));
    cr_expect_str_eq(p.name, "game:chat");
    expect_text(&p, "one");
    /* The raw bytes are the body as sent. */
    hive_msg m;
    text_msg(&m, "one");
    cr_expect_eq(p.len, hive_msg_size(&m));
    cr_expect_eq(memcmp(p.raw, hive_msg_data(&m), p.len), 0);
    hive_msg_free(&m);
    hive_packet_free(&p);
    hive_packet_free(&p);   /* twice is harmless */

    cr_assert_eq(hive_server_wait(fx.srv, 2000), 1);
    cr_assert_eq(hive_server_next(fx.srv, &p), 1);
    expect_text(&p, "two");
    hive_packet_free(&p);

    /* The server's echo handler answered both; the client pulls them. */
    int got = 0;
    while (got < 2) {
        int rc = hive_client_wait(fx.cli, 2000);
        cr_assert_eq(rc, 1);
        hive_server_service(fx.srv, 0);
        while (hive_client_next(fx.cli, &p) == 1) {
            expect_text(&p, got == 0 ? "one" : "two");
            cr_expect_str_eq(p.name, "game:echo");
            hive_packet_free(&p);
            got++;
        }
    }
    fx_fini(&fx);
}

Test(pull, off_unless_asked_for, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, NULL, NULL, true);
    hive_packet p;
    cr_expect_eq(hive_server_wait(fx.srv, 0), HIVE_ESTATE);
    cr_expect_eq(hive_server_next(fx.srv, &p), HIVE_ESTATE);
    cr_expect_eq(hive_client_wait(fx.cli, 0), HIVE_ESTATE);
    cr_expect_eq(hive_client_next(fx.cli, &p), HIVE_ESTATE);
    fx_fini(&fx);
}

Test(pull, full_queue_drops_and_counts, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, &(hive_server_config){ .pull = true, .pull_capacity = 2 }, NULL, true);
    for (int i = 0; i < 5; i++) send_text(fx.cli, "game:chat", "x");
    cr_assert(pump_until_event(fx.srv, fx.cli, 3000, fx.sr, "net:server.recv.game:chat", 5));
    hive_net_stats st;
    cr_assert_eq(hive_server_stats(fx.srv, &st), 0);
    cr_expect_eq(st.packets_dropped, 3u);
    hive_packet p;
    int n = 0;
    while (hive_server_next(fx.srv, &p) == 1) { n++; hive_packet_free(&p); }
    cr_expect_eq(n, 2);
    fx_fini(&fx);
}

Test(pull, close_ends_the_wait, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, NULL, &(hive_client_config){ .pull = true }, true);
    /* Non-threaded: the wait services; the server kicks the client meanwhile. */
    cr_assert_eq(hive_server_close(fx.srv, hive_client_cid(fx.cli), HIVE_CLOSE_KICKED, "out"), 0);
    hive_server_flush(fx.srv);
    uint64_t t0 = hive_now_ns();
    int rc = hive_client_wait(fx.cli, 5000);
    cr_expect_eq(rc, HIVE_ECLOSED);
    cr_expect_lt((double)(hive_now_ns() - t0) / 1e6, 2000.0);
    fx_fini(&fx);
}
