/*
 * Admission over tcp:// (hive/net.h ADMISSION): sockets that connect and
 * never say hello hold a handshake slot, never a max_connections one,
 * until handshake_timeout_ms closes them or a newcomer evicts the oldest;
 * one address gets at most max_handshakes_per_addr of them; a link turned
 * away is told "busy". A legitimate client gets in through any storm.
 */
#include "net_test.h"
#include "tests/support/admission.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define ADM_IDLE 16

static int idle_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0, "connect: %s", strerror(errno));
    return fd;
}

/* True once the server has ended fd: EOF or a reset after any reject bytes. */
static bool idle_closed(int fd)
{
    struct pollfd pf = { .fd = fd, .events = POLLIN };
    if (poll(&pf, 1, 0) <= 0) return false;
    char buf[512];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0) return true;
        if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
    }
}

typedef struct {
    int fds[ADM_IDLE];
    bool closed[ADM_IDLE];
} idle_set;

static bool all_idle_closed(void *arg)
{
    idle_set *s = arg;
    bool all = true;
    for (int i = 0; i < ADM_IDLE; i++) {
        if (!s->closed[i]) s->closed[i] = idle_closed(s->fds[i]);
        all = all && s->closed[i];
    }
    return all;
}

static void use_tcp(void) { test_scheme = "tcp://"; }

Test(admission, idle_sockets_end_on_the_handshake_timeout_and_free_their_slots,
     .init = use_tcp, .timeout = 60)
{
    hive_bus *sbus = hive_bus_create(NULL);
    recorder *sr = calloc(1, sizeof *sr);
    rec_attach(sr, sbus);
    hive_server *srv = test_server(sbus, &(hive_server_config){
        .max_connections = ADM_IDLE, .handshake_timeout_ms = 500 }, NULL);

    idle_set set = { 0 };
    for (int i = 0; i < ADM_IDLE; i++) set.fds[i] = idle_connect(hive_server_port(srv));

    /* Every idle socket is ended by the server on its own, within a bounded wait. */
    cr_assert(pump(srv, NULL, 10000, all_idle_closed, &set), "idle sockets still open");
    int timeouts = 0;
    for (int i = 0; i < sr->n; i++)
        if (sr->ev[i].reason_name[0] && strcmp(sr->ev[i].reason_name, "handshake_timeout") == 0)
            timeouts++;
    cr_expect_eq(timeouts, ADM_IDLE, "closed on handshake_timeout: %d of %d", timeouts, ADM_IDLE);

    /* Their slots are free: a full house of real clients fits again. */
    char addr[64];
    test_addr(srv, addr, sizeof addr);
    hive_bus *cbus = hive_bus_create(NULL);
    hive_client *cli = hive_client_create(NULL, cbus);
    cr_assert_not_null(cli);
    cr_assert_eq(hive_client_connect(cli, addr), 0);
    cr_expect(pump_both_open(srv, cli, 5000), "the legitimate client did not get in");

    hive_client_destroy(cli);
    hive_bus_destroy(cbus);
    for (int i = 0; i < ADM_IDLE; i++) close(set.fds[i]);
    hive_server_destroy(srv);
    hive_bus_destroy(sbus);
    free(sr);
}

#define ADM_STORM 2000

static hive_net_stats stats_of(hive_server *srv)
{
    hive_net_stats st;
    cr_assert_eq(hive_server_stats(srv, &st), 0);
    return st;
}

/* 2000 idle links from 127.0.0.2, held open for the whole test and never
 * timed out (handshake_timeout_ms 60 s): only eviction makes room, and the
 * client from 127.0.0.1 still gets in and plays. */
Test(admission, a_client_gets_in_and_plays_while_2000_half_open_links_are_held, .timeout = 120)
{
    adm_nofile(ADM_STORM + 512);
    hive_bus *sbus = hive_bus_create(NULL);
    hive_server *srv = adm_server(sbus, "tcp", &(hive_server_config){
        .handshake_timeout_ms = 60000, .max_handshakes_per_addr = HIVE_MAX_HANDSHAKES });
    static int fds[ADM_STORM];
    adm_storm(srv, "127.0.0.2", ADM_STORM, fds);

    hive_net_stats st = stats_of(srv);
    cr_expect_eq(st.handshakes_evicted, ADM_STORM - HIVE_DEFAULT_MAX_HANDSHAKES, "evicted %llu",
                 (unsigned long long)st.handshakes_evicted);
    cr_expect_eq(st.busy_rejected, 0);
    cr_expect_eq(hive_server_connection_count(srv), HIVE_DEFAULT_MAX_HANDSHAKES,
                 "the server keeps max_handshakes links and lets the evicted ones go");
    /* The oldest was told why; the newest is still waiting for its hello. */
    cr_expect_eq(adm_reject_reason(srv, fds[0], 5000), HIVE_CLOSE_BUSY);
    cr_expect(adm_still_open(fds[ADM_STORM - 1]));

    adm_good g;
    adm_good_start(&g, srv, "tcp", NULL);
    cr_assert(adm_good_open(&g, 20000), "the good client did not get in (state %d, reason %s)",
              hive_client_get_state(g.cli), hive_close_reason_name(hive_client_close_reason(g.cli)));
    cr_expect(adm_roundtrip(&g, 5, 5000), "the good client's round trips");
    st = stats_of(srv);
    cr_expect_eq(st.handshakes_evicted, ADM_STORM - HIVE_DEFAULT_MAX_HANDSHAKES + 1,
                 "the newcomer made room by evicting one more: %llu", (unsigned long long)st.handshakes_evicted);

    adm_good_free(&g);
    for (int i = 0; i < ADM_STORM; i++) close(fds[i]);
    hive_server_destroy(srv);
    hive_bus_destroy(sbus);
}

/* max_handshakes 8, max_handshakes_per_addr 4: with four under way (half
 * the table) the fifth link from 127.0.0.3 is refused with a reject
 * saying "busy" while the four wait on; 127.0.0.1 still gets in. */
Test(admission, the_per_address_limit_refuses_the_next_link_with_busy, .timeout = 60)
{
    hive_bus *sbus = hive_bus_create(NULL);
    hive_server *srv = adm_server(sbus, "tcp", &(hive_server_config){
        .handshake_timeout_ms = 60000, .max_handshakes = 8, .max_handshakes_per_addr = 4 });
    int fds[5];
    adm_storm(srv, "127.0.0.3", 4, fds);
    adm_storm(srv, "127.0.0.3", 1, &fds[4]);
    cr_expect_eq(adm_reject_reason(srv, fds[4], 5000), HIVE_CLOSE_BUSY, "the fifth is refused with busy");
    for (int i = 0; i < 4; i++) cr_expect(adm_still_open(fds[i]), "link %d of the four", i);
    hive_net_stats st = stats_of(srv);
    cr_expect_eq(st.busy_rejected, 1);
    cr_expect_eq(st.handshakes_evicted, 0);

    adm_good g;
    adm_good_start(&g, srv, "tcp", NULL);
    cr_assert(adm_good_open(&g, 20000), "another address gets in");
    cr_expect(adm_roundtrip(&g, 3, 5000));

    adm_good_free(&g);
    for (int i = 0; i < 5; i++) close(fds[i]);
    hive_server_destroy(srv);
    hive_bus_destroy(sbus);
}

/* Below half of max_handshakes the per-address limit waits: a crowd
 * joining from one address (a LAN party behind a NAT, a test's bots) all
 * get their handshakes started. Past half, the address is held to it. */
Test(admission, a_quiet_server_lets_one_address_start_many_handshakes, .timeout = 60)
{
    hive_bus *sbus = hive_bus_create(NULL);
    hive_server *srv = adm_server(sbus, "tcp", &(hive_server_config){
        .handshake_timeout_ms = 60000, .max_handshakes = 32, .max_handshakes_per_addr = 2 });
    int fds[17];
    adm_storm(srv, "127.0.0.7", 16, fds);
    for (int i = 0; i < 16; i++) cr_expect(adm_still_open(fds[i]), "link %d of the crowd", i);
    cr_expect_eq(stats_of(srv).busy_rejected, 0);
    adm_storm(srv, "127.0.0.7", 1, &fds[16]);   /* the table is half full now */
    cr_expect_eq(adm_reject_reason(srv, fds[16], 5000), HIVE_CLOSE_BUSY);
    cr_expect_eq(stats_of(srv).busy_rejected, 1);
    for (int i = 0; i < 17; i++) close(fds[i]);
    hive_server_destroy(srv);
    hive_bus_destroy(sbus);
}

/* A Hive client turned away with busy reports it as its close reason,
 * as it does server_full: it may try again later. */
Test(admission, a_client_refused_with_busy_sees_busy_as_its_close_reason, .timeout = 60)
{
    hive_bus *sbus = hive_bus_create(NULL);
    hive_server *srv = adm_server(sbus, "tcp", &(hive_server_config){
        .handshake_timeout_ms = 60000, .max_handshakes = 4, .max_handshakes_per_addr = 2 });
    int fds[2];
    adm_storm(srv, "127.0.0.1", 2, fds);   /* the client's own address is at its limit, the table half full */

    adm_good g;
    adm_good_start(&g, srv, "tcp", NULL);
    cr_assert(adm_good_closed(&g, 10000), "the client was not turned away");
    cr_expect_eq(hive_client_close_reason(g.cli), HIVE_CLOSE_BUSY, "close reason %s",
                 hive_close_reason_name(hive_client_close_reason(g.cli)));
    cr_expect_eq(stats_of(srv).busy_rejected, 1);
    adm_good_free(&g);

    /* Once those handshakes are over, the same address gets in. */
    close(fds[0]);
    close(fds[1]);
    uint64_t end = hive_now_ns() + 10000000000ull;
    while (hive_server_connection_count(srv) > 0 && hive_now_ns() < end) hive_server_service(srv, 5);
    adm_good_start(&g, srv, "tcp", NULL);
    cr_expect(adm_good_open(&g, 20000), "the client gets in on its second try");
    adm_good_free(&g);
    hive_server_destroy(srv);
    hive_bus_destroy(sbus);
}

/* max_connections counts players past their hello: with the house full a
 * newcomer's hello is answered server_full, and with one seat free it
 * gets in however many idle links are held (more than the transport's
 * spare room for server_full replies, which once made it see a bare EOF). */
Test(admission, server_full_counts_players_not_half_open_links, .timeout = 60)
{
    hive_bus *sbus = hive_bus_create(NULL);
    hive_server *srv = adm_server(sbus, "tcp", &(hive_server_config){
        .max_connections = 2, .handshake_timeout_ms = 60000, .max_handshakes_per_addr = 64 });
    adm_good p1, p2, p3;
    adm_good_start(&p1, srv, "tcp", NULL);
    cr_assert(adm_good_open(&p1, 20000));
    adm_good_start(&p2, srv, "tcp", NULL);
    cr_assert(adm_good_open(&p2, 20000));

    adm_good_start(&p3, srv, "tcp", NULL);
    cr_assert(adm_good_closed(&p3, 10000));
    cr_expect_eq(hive_client_close_reason(p3.cli), HIVE_CLOSE_SERVER_FULL, "third player: %s",
                 hive_close_reason_name(hive_client_close_reason(p3.cli)));
    adm_good_free(&p3);

    int fds[40];
    adm_storm(srv, "127.0.0.4", 40, fds);
    hive_client_close(p2.cli, HIVE_CLOSE_NORMAL, NULL);
    cr_assert(adm_good_closed(&p2, 10000));
    adm_good_free(&p2);
    uint64_t end = hive_now_ns() + 5000000000ull;
    while (hive_server_connection_count(srv) > 41 && hive_now_ns() < end) hive_server_service(srv, 5);

    adm_good_start(&p3, srv, "tcp", NULL);
    cr_assert(adm_good_open(&p3, 20000), "a free seat is taken despite 40 idle links (state %d, reason %s)",
              hive_client_get_state(p3.cli), hive_close_reason_name(hive_client_close_reason(p3.cli)));
    cr_expect(adm_roundtrip(&p3, 3, 5000));
    cr_expect(adm_roundtrip(&p1, 3, 5000), "the first player plays on");
    for (int i = 0; i < 40; i++) cr_expect(adm_still_open(fds[i]), "idle link %d", i);

    adm_good_free(&p3);
    adm_good_free(&p1);
    for (int i = 0; i < 40; i++) close(fds[i]);
    hive_server_destroy(srv);
    hive_bus_destroy(sbus);
}

Test(admission, handshake_limits_are_checked_at_create_and_read_back, .timeout = 10)
{
    hive_bus *bus = hive_bus_create(NULL);
    cr_expect_null(hive_server_create(&(hive_server_config){ .max_handshakes = HIVE_MAX_HANDSHAKES + 1 }, bus));
    cr_expect_str_eq(hive_create_error()->field, "max_handshakes");
    cr_expect_null(hive_server_create(&(hive_server_config){ .max_handshakes_per_addr = HIVE_MAX_HANDSHAKES + 1 }, bus));
    cr_expect_str_eq(hive_create_error()->field, "max_handshakes_per_addr");
    cr_expect_neq(strstr(hive_create_error()->message, "4096"), NULL, "%s", hive_create_error()->message);

    hive_server *s = hive_server_create(NULL, bus);
    cr_assert_not_null(s);
    hive_server_config c;
    cr_assert_eq(hive_server_config_get(s, &c), 0);
    cr_expect_eq(c.max_handshakes, HIVE_DEFAULT_MAX_HANDSHAKES);
    cr_expect_eq(c.max_handshakes_per_addr, HIVE_DEFAULT_MAX_HANDSHAKES_PER_ADDR);
    hive_server_destroy(s);
    s = hive_server_create(&(hive_server_config){ .max_handshakes = 4096, .max_handshakes_per_addr = 1 }, bus);
    cr_assert_not_null(s);
    cr_assert_eq(hive_server_config_get(s, &c), 0);
    cr_expect_eq(c.max_handshakes, 4096);
    cr_expect_eq(c.max_handshakes_per_addr, 1);
    hive_server_destroy(s);
    hive_bus_destroy(bus);
}

/* Pumps until the raw ENet peer is disconnected; its reject's reason. */
static int raw_busy_wait(raw_peer *p, hive_server *srv)
{
    uint64_t end = hive_now_ns() + 10000000000ull;
    while (!p->disconnected && hive_now_ns() < end) {
        raw_service(p, 1);
        hive_server_service(srv, 1);
    }
    uint32_t pid = 0;
    int reason = raw_close_reason(p, &pid);
    cr_expect_eq(pid, HIVE__PID_REJECT, "a reject frame, not pid %u", pid);
    return reason;
}

/* The same rules on enet://, after ENet's connect: the oldest handshake
 * makes room, and the reject with "busy" reaches the peer. */
Test(admission, over_enet_the_oldest_handshake_is_evicted_with_busy, .timeout = 60)
{
    hive_bus *sbus = hive_bus_create(NULL);
    hive_server *srv = test_server(sbus, &(hive_server_config){
        .handshake_timeout_ms = 60000, .max_handshakes = 2, .max_handshakes_per_addr = 4 }, NULL);
    raw_peer a, b, c;
    raw_connect(&a, srv);
    raw_connect(&b, srv);
    raw_connect(&c, srv);   /* the table was full: a, the oldest, goes */
    cr_expect_eq(raw_busy_wait(&a, srv), HIVE_CLOSE_BUSY);
    cr_expect_not(b.disconnected);
    cr_expect_not(c.disconnected);
    cr_expect_eq(stats_of(srv).handshakes_evicted, 1);
    raw_destroy(&a);
    raw_destroy(&b);
    raw_destroy(&c);
    hive_server_destroy(srv);
    hive_bus_destroy(sbus);
}

Test(admission, over_enet_the_per_address_limit_rejects_with_busy, .timeout = 60)
{
    hive_bus *sbus = hive_bus_create(NULL);
    hive_server *srv = test_server(sbus, &(hive_server_config){
        .handshake_timeout_ms = 60000, .max_handshakes = 4, .max_handshakes_per_addr = 2 }, NULL);
    raw_peer a, b, c;
    raw_connect(&a, srv);
    raw_connect(&b, srv);
    raw_connect(&c, srv);   /* 127.0.0.1 holds two, the table is half full */
    cr_expect_eq(raw_busy_wait(&c, srv), HIVE_CLOSE_BUSY);
    cr_expect_not(a.disconnected);
    cr_expect_not(b.disconnected);
    cr_expect_eq(stats_of(srv).busy_rejected, 1);
    raw_destroy(&a);
    raw_destroy(&b);
    raw_destroy(&c);
    hive_server_destroy(srv);
    hive_bus_destroy(sbus);
}
