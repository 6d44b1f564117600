/*
 * Every tcp:// connection has a bounded send queue (send_queue_bytes):
 * crossing half of it publishes backpressure once, a frame that does not
 * fit is refused with HIVE_EFULL and the connection ends with
 * slow_consumer, alone; the bound is a config field with a default.
 */
#include "net_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define SMALL_BOUND HIVE_MIN_SEND_QUEUE_BYTES
#define CHUNK 8000

static void use_tcp(void) { test_scheme = "tcp://"; }

/* A raw TCP peer that completes the handshake and then reads nothing. */
static int mute_peer(fixture *fx)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int rcv = 16384;   /* a small window: the server's queue is what fills */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(hive_server_port(fx->srv)) };
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    hive_msg m;
    hello_msg(&m, "HIVE", HIVE_PROTOCOL_VERSION, "hive");
    uint8_t buf[512];
    size_t n = hive__frame_header(buf, HIVE__PID_HELLO, 0, hive_msg_size(&m));
    memcpy(buf + n, hive_msg_data(&m), hive_msg_size(&m));
    n += hive_msg_size(&m);
    hive_msg_free(&m);
    cr_assert_eq(send(fd, buf, n, 0), (ssize_t)n);
    uint8_t in[8192];
    size_t got = 0;
    hive__frame f;
    for (int i = 0; i < 2000; i++) {
        hive_server_service(fx->srv, 1);
        hive_client_service(fx->cli, 0);
        ssize_t r = recv(fd, in + got, sizeof in - got, MSG_DONTWAIT);
        if (r > 0) got += (size_t)r;
        if (got && hive__frame_decode(in, got, sizeof in, &f) == 1) break;
    }
    cr_assert_eq(hive__frame_decode(in, got, sizeof in, &f), 1, "no welcome");
    cr_assert_eq(f.pid, HIVE__PID_WELCOME);
    uint8_t ready[HIVE__FRAME_HEADER_MAX + 1];
    n = hive__frame_header(ready, HIVE__PID_READY, 0, 1);
    ready[n++] = 0x80;
    cr_assert_eq(send(fd, ready, n, 0), (ssize_t)n);
    int64_t cid = fx_accepted_cid(fx, 1);
    cr_assert_gt(cid, 0);
    for (int i = 0; i < 2000; i++) {
        hive_conn_info ci;
        if (hive_server_conn_info(fx->srv, (hive_cid)cid, &ci) == 0 && ci.open) break;
        hive_server_service(fx->srv, 1);
    }
    return fd;
}

static void chunk_msg(hive_msg *m)
{
    static char text[CHUNK];
    memset(text, 'x', sizeof text - 1);
    text_msg(m, text);
}

Test(send_queue, server_send_is_refused_with_efull_and_only_that_connection_closes, .init = use_tcp, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, &(hive_server_config){ .send_queue_bytes = SMALL_BOUND }, NULL, true);
    hive_server_config got;
    cr_assert_eq(hive_server_config_get(fx.srv, &got), HIVE_OK);
    cr_expect_eq(got.send_queue_bytes, SMALL_BOUND);
    int fd = mute_peer(&fx);
    hive_cid cid = (hive_cid)fx_accepted_cid(&fx, 1);

    /* On the I/O thread, between service calls: every send is queued at
     * once, so the one that does not fit is refused right there. */
    hive_msg m;
    chunk_msg(&m);
    int rc = HIVE_OK, sent = 0;
    while (sent < 100000 && (rc = hive_server_send_msg(fx.srv, cid, "game:echo", &m)) == HIVE_OK) sent++;
    cr_expect_eq(rc, HIVE_EFULL, "send returned %s after %d frames", hive_err_name(rc), sent);
    cr_expect_gt(sent, SMALL_BOUND / CHUNK / 2, "only %d frames went out", sent);
    /* The connection is closing: nothing more is queued for it. */
    cr_expect_eq(hive_server_send_msg(fx.srv, cid, "game:echo", &m), HIVE_ESTATE);
    hive_msg_free(&m);

    const rec_event *bp = NULL, *cl = NULL;
    int bp_at = -1, cl_at = -1;
    for (int i = 0; i < fx.sr->n; i++) {
        if (fx.sr->ev[i].cid != cid) continue;
        if (!bp && strcmp(fx.sr->ev[i].name, HIVE_EV_SERVER_BACKPRESSURE) == 0) { bp = &fx.sr->ev[i]; bp_at = i; }
        if (!cl && strcmp(fx.sr->ev[i].name, HIVE_EV_SERVER_CLOSE) == 0) { cl = &fx.sr->ev[i]; cl_at = i; }
    }
    cr_assert_not_null(bp, "no backpressure event");
    cr_assert_not_null(cl, "no close event");
    cr_expect_lt(bp_at, cl_at, "backpressure comes before the close");
    cr_expect_eq(rec_count(fx.sr, HIVE_EV_SERVER_BACKPRESSURE), 1, "backpressure once per crossing");
    cr_expect_str_eq(cl->reason_name, "slow_consumer");
    cr_expect_eq(cl->reason, HIVE_CLOSE_SLOW_CONSUMER);
    cr_expect_eq(cl->remote, 0);
    hive_net_stats st;
    hive_server_stats(fx.srv, &st);
    cr_expect_eq(st.slow_consumers, 1);

    /* The good client never noticed. */
    fx_roundtrip(&fx, "still serving");
    cr_expect_eq(hive_client_get_state(fx.cli), HIVE_CLIENT_OPEN);
    close(fd);
    fx_fini(&fx);
}

/* The event's fields: the server's carries cid and queued_bytes. */
static int64_t bp_queued = -1, bp_cid = -1;
static void on_bp(const hive_event *ev, void *user)
{
    (void)user;
    bp_queued = hive_event_int(ev, "queued_bytes", -1);
    bp_cid = hive_event_int(ev, "cid", -1);
}

Test(send_queue, backpressure_carries_cid_and_queued_bytes_over_the_high_water_mark, .init = use_tcp, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, &(hive_server_config){ .send_queue_bytes = SMALL_BOUND }, NULL, true);
    cr_assert_gt(hive_bus_subscribe(fx.sbus, HIVE_EV_SERVER_BACKPRESSURE, on_bp, NULL, NULL), 0);
    int fd = mute_peer(&fx);
    hive_cid cid = (hive_cid)fx_accepted_cid(&fx, 1);
    hive_msg m;
    chunk_msg(&m);
    for (int i = 0; i < 100000 && bp_queued < 0; i++)
        cr_assert_eq(hive_server_send_msg(fx.srv, cid, "game:echo", &m), HIVE_OK);
    hive_msg_free(&m);
    cr_expect_eq(bp_cid, cid);
    cr_expect_geq(bp_queued, SMALL_BOUND / 2);
    cr_expect_leq(bp_queued, SMALL_BOUND);
    close(fd);
    fx_fini(&fx);
}

/* The client side: a server that stops reading fills the client's queue;
 * client.backpressure {client, queued_bytes} comes first, then HIVE_EFULL
 * and client.close with slow_consumer. */
Test(send_queue, client_send_is_refused_with_efull, .init = use_tcp, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, NULL, &(hive_client_config){ .send_queue_bytes = SMALL_BOUND }, true);
    hive_msg m;
    chunk_msg(&m);
    int rc = HIVE_OK, sent = 0;
    /* The server is not serviced from here on: it reads nothing. */
    while (sent < 100000 && (rc = hive_client_send_msg(fx.cli, "game:chat", &m)) == HIVE_OK) sent++;
    hive_msg_free(&m);
    cr_expect_eq(rc, HIVE_EFULL, "send returned %s after %d frames", hive_err_name(rc), sent);
    const rec_event *bp = rec_find(fx.cr, HIVE_EV_CLIENT_BACKPRESSURE);
    const rec_event *cl = rec_find(fx.cr, HIVE_EV_CLIENT_CLOSE);
    cr_assert_not_null(bp, "no client.backpressure");
    cr_assert_not_null(cl, "no client.close");
    cr_expect_lt(bp - fx.cr->ev, cl - fx.cr->ev, "backpressure comes before the close");
    cr_expect_str_eq(cl->reason_name, "slow_consumer");
    cr_expect_eq(hive_client_close_reason(fx.cli), HIVE_CLOSE_SLOW_CONSUMER);
    fx_fini(&fx);
}

Test(send_queue, the_bound_has_a_default_and_a_minimum, .timeout = 10)
{
    hive_bus *bus = hive_bus_create(NULL);
    hive_server *s = hive_server_create(NULL, bus);
    cr_assert_not_null(s);
    hive_server_config sc;
    cr_assert_eq(hive_server_config_get(s, &sc), HIVE_OK);
    cr_expect_eq(sc.send_queue_bytes, HIVE_DEFAULT_SEND_QUEUE_BYTES);
    hive_server_destroy(s);
    hive_client *c = hive_client_create(NULL, bus);
    cr_assert_not_null(c);
    hive_client_config cc;
    cr_assert_eq(hive_client_config_get(c, &cc), HIVE_OK);
    cr_expect_eq(cc.send_queue_bytes, HIVE_DEFAULT_SEND_QUEUE_BYTES);
    hive_client_destroy(c);

    cr_assert_null(hive_server_create(&(hive_server_config){ .send_queue_bytes = HIVE_MIN_SEND_QUEUE_BYTES - 1 }, bus));
    cr_expect_eq(hive_create_error()->code, HIVE_EINVAL);
    cr_expect_str_eq(hive_create_error()->field, "send_queue_bytes");
    cr_assert_null(hive_client_create(&(hive_client_config){ .send_queue_bytes = 1000 }, bus));
    cr_expect_str_eq(hive_create_error()->field, "send_queue_bytes");
    cr_expect_str_eq(hive_close_reason_name(HIVE_CLOSE_SLOW_CONSUMER), "slow_consumer");
    cr_expect_eq(hive_close_reason_from_name("slow_consumer"), HIVE_CLOSE_SLOW_CONSUMER);
    cr_expect_eq(HIVE_CLOSE_NO_MEMORY, 19, "existing codes keep their values");
    hive_bus_destroy(bus);
}
