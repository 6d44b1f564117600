/*
 * A broadcast shares one encoded frame between connections; each
 * connection still receives its frames in the order they were sent:
 * sends before, between and after broadcasts, two broadcasts in a row,
 * broadcasts larger than one datagram, and none lost or doubled.
 */
#include "net_test.h"

#define N 3

typedef struct world {
    hive_bus *sbus, *bus[N];
    recorder *sr, *r[N];
    hive_server *s;
    hive_client *c[N];
} world;

static void world_open(world *w)
{
    memset(w, 0, sizeof *w);
    w->sbus = hive_bus_create(NULL);
    w->sr = calloc(1, sizeof *w->sr);
    rec_attach(w->sr, w->sbus);
    const char *packets[] = { "game:news", NULL };
    w->s = test_server(w->sbus, NULL, packets);
    char addr[64];
    test_addr(w->s, addr, sizeof addr);
    for (int i = 0; i < N; i++) {
        w->bus[i] = hive_bus_create(NULL);
        w->r[i] = calloc(1, sizeof *w->r[i]);
        rec_attach(w->r[i], w->bus[i]);
        w->c[i] = hive_client_create(NULL, w->bus[i]);
        cr_assert_eq(hive_client_connect(w->c[i], addr), 0);
        cr_assert(pump_both_open(w->s, w->c[i], 3000));
    }
}

static void world_close(world *w)
{
    for (int i = 0; i < N; i++) {
        hive_client_destroy(w->c[i]);
        hive_bus_destroy(w->bus[i]);
        free(w->r[i]);
    }
    hive_server_destroy(w->s);
    hive_bus_destroy(w->sbus);
    free(w->sr);
}

/* Services everything until client i has `want` recv events (all i). */
static void pump_recv(world *w, const int *want)
{
    uint64_t end = hive_now_ns() + 3000000000ull;
    for (;;) {
        bool done = true;
        for (int i = 0; i < N; i++) done &= rec_count(w->r[i], "net:client.recv") >= want[i];
        if (done || hive_now_ns() >= end) break;
        hive_server_service(w->s, 1);
        for (int i = 0; i < N; i++) hive_client_service(w->c[i], 0);
    }
    for (int k = 0; k < 20; k++) {   /* anything extra would show up now */
        hive_server_service(w->s, 1);
        for (int i = 0; i < N; i++) hive_client_service(w->c[i], 0);
    }
}

/* The texts client i received, in order, joined by spaces. */
static void texts(const recorder *r, char *out, size_t n)
{
    out[0] = 0;
    for (int i = 0; i < r->n; i++) {
        if (strcmp(r->ev[i].name, "net:client.recv") != 0) continue;
        size_t len = strlen(out);
        snprintf(out + len, n - len, "%s%s", len ? " " : "", r->ev[i].msg_text);
    }
}

static void send_text(world *w, int to, const char *text)
{
    hive_msg m;
    text_msg(&m, text);
    cr_assert_eq(hive_server_send_msg(w->s, hive_client_cid(w->c[to]), "game:news", &m), HIVE_OK);
    hive_msg_free(&m);
}

static int bcast_text(world *w, const char *text, hive_cid except)
{
    hive_msg m;
    text_msg(&m, text);
    int n = hive_server_broadcast(w->s, "game:news", hive_msg_data(&m), hive_msg_size(&m), except);
    hive_msg_free(&m);
    return n;
}

Test(broadcast_order, sends_and_broadcasts_keep_their_order, .timeout = 30)
{
    world w;
    world_open(&w);
    hive_cid skip = hive_client_cid(w.c[2]);
    send_text(&w, 0, "a");
    cr_expect_eq(bcast_text(&w, "b", 0), N);
    send_text(&w, 0, "c");
    cr_expect_eq(bcast_text(&w, "d", skip), N - 1);
    cr_expect_eq(bcast_text(&w, "e", 0), N);        /* right after another broadcast */
    hive_server_flush(w.s);
    cr_expect_eq(bcast_text(&w, "f", 0), N);        /* nothing waiting: shared again */
    send_text(&w, 1, "g");
    pump_recv(&w, (const int[N]){ 6, 5, 3 });

    char got[256];
    texts(w.r[0], got, sizeof got);
    cr_expect_str_eq(got, "a b c d e f");
    texts(w.r[1], got, sizeof got);
    cr_expect_str_eq(got, "b d e f g");
    texts(w.r[2], got, sizeof got);
    cr_expect_str_eq(got, "b e f");
    /* One send event per connection a broadcast reached. */
    cr_expect_eq(rec_count(w.sr, "net:server.connection.send"), 3 + N + (N - 1) + N + N);
    world_close(&w);
}

Test(broadcast_order, broadcast_larger_than_a_datagram_arrives_whole, .timeout = 30)
{
    world w;
    world_open(&w);
    /* 6000 bytes of text: ENet fragments the one shared packet per peer. */
    char big[6001];
    for (size_t i = 0; i < sizeof big - 1; i++) big[i] = (char)('a' + i % 26);
    big[sizeof big - 1] = 0;
    hive_msg m;
    text_msg(&m, big);
    send_text(&w, 0, "before");
    cr_expect_eq(hive_server_broadcast(w.s, "game:news", hive_msg_data(&m), hive_msg_size(&m), 0), N);
    cr_expect_eq(hive_server_broadcast(w.s, "game:news", hive_msg_data(&m), hive_msg_size(&m), 0), N);
    hive_msg_free(&m);
    send_text(&w, 0, "after");
    pump_recv(&w, (const int[N]){ 4, 2, 2 });
    for (int i = 0; i < N; i++) cr_expect_eq(rec_count(w.r[i], "net:client.recv"), i == 0 ? 4 : 2);
    char got[256];
    texts(w.r[0], got, sizeof got);
    /* msg_text keeps the first 63 characters of each text. */
    char want[256];
    snprintf(want, sizeof want, "before %.63s %.63s after", big, big);
    cr_expect_str_eq(got, want);
    hive_net_stats st;
    hive_server_stats(w.s, &st);
    cr_expect_geq(st.bytes_out, 2 * N * sizeof big, "broadcast frames are counted per connection");
    world_close(&w);
}

Test(broadcast_order, broadcast_to_nobody_and_to_a_closing_connection, .timeout = 30)
{
    world w;
    world_open(&w);
    cr_expect_eq(bcast_text(&w, "x", 0), N);
    /* A connection being closed is not open any more: not counted. */
    cr_assert_eq(hive_server_close(w.s, hive_client_cid(w.c[1]), HIVE_CLOSE_KICKED, "bye"), HIVE_OK);
    cr_expect_eq(bcast_text(&w, "y", 0), N - 1);
    cr_expect_eq(bcast_text(&w, "z", hive_client_cid(w.c[0])), N - 2);
    pump_recv(&w, (const int[N]){ 2, 1, 3 });
    char got[256];
    texts(w.r[0], got, sizeof got);
    cr_expect_str_eq(got, "x y");
    texts(w.r[1], got, sizeof got);
    cr_expect_str_eq(got, "x");
    texts(w.r[2], got, sizeof got);
    cr_expect_str_eq(got, "x y z");
    cr_expect_eq(rec_count(w.r[1], "net:client.close"), 1);
    world_close(&w);
}
