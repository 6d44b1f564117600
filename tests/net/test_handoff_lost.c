/*
 * A redirect lost with its link (HANDOFF in hive/net.h): the source sent
 * the close that says where the session went, and the link broke before
 * the client read it. The client resumes at the source, which remembers
 * the move and refuses that resume with the same redirect; the client
 * goes on to the target and resumes there, with nothing lost or twice.
 *
 * The break is made by a relay between the client and the source, pumped
 * by the test: it holds what the source sends, then resets both sockets,
 * so the close never reaches the client (as on a Wi-Fi drop).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "net_test.h"

typedef struct relay {
    int lfd, cfd, sfd;
    uint16_t port, target;
    bool hold_down;     /* keep what the server sends instead of passing it */
    size_t held;        /* bytes kept (never delivered) */
} relay;

static void nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void relay_open(relay *r, uint16_t target)
{
    memset(r, 0, sizeof *r);
    r->cfd = r->sfd = -1;
    r->target = target;
    r->lfd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(r->lfd, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    cr_assert_eq(bind(r->lfd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(r->lfd, 4), 0);
    socklen_t al = sizeof a;
    getsockname(r->lfd, (struct sockaddr *)&a, &al);
    r->port = ntohs(a.sin_port);
    nonblock(r->lfd);
}

/* Both sockets reset (SO_LINGER 0): what is in flight is gone. */
static void relay_cut(relay *r)
{
    struct linger lg = { 1, 0 };
    if (r->cfd >= 0) {
        setsockopt(r->cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(r->cfd);
    }
    if (r->sfd >= 0) {
        setsockopt(r->sfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(r->sfd);
    }
    r->cfd = r->sfd = -1;
}

/* false when the connection ended (the relay then closes its other side) */
static bool relay_move(relay *r, int from, int to, bool hold)
{
    char buf[16384];
    for (;;) {
        ssize_t n = read(from, buf, sizeof buf);
        if (n == 0) return false;
        if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
        if (hold) {
            r->held += (size_t)n;
            continue;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(to, buf + off, (size_t)(n - off));
            if (w < 0 && (errno == EAGAIN || errno == EINTR)) continue;   /* loopback: drains at once */
            if (w <= 0) return false;
            off += w;
        }
    }
}

static void relay_pump(relay *r)
{
    if (r->cfd < 0) {
        int fd = accept(r->lfd, NULL, NULL);
        if (fd < 0) return;
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(r->target),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        int s = socket(AF_INET, SOCK_STREAM, 0);
        cr_assert_eq(connect(s, (struct sockaddr *)&a, sizeof a), 0);
        nonblock(fd);
        nonblock(s);
        r->cfd = fd;
        r->sfd = s;
    }
    if (!relay_move(r, r->cfd, r->sfd, false) || !relay_move(r, r->sfd, r->cfd, r->hold_down)) {
        close(r->cfd);
        close(r->sfd);
        r->cfd = r->sfd = -1;
    }
}

static void relay_close(relay *r)
{
    relay_cut(r);
    close(r->lfd);
}

/* ---- the players' messages, by number ---------------------------------- */

typedef struct seen {
    int got[64];
    int n;
} seen;

static void on_chat(const hive_event *ev, void *user)
{
    seen *s = user;
    hive_msg_view v;
    const msgpack_object *o;
    if (hive_event_msg(ev, &v, &o) == 0 && s->n < 64) s->got[s->n++] = (int)hive_msg_int_or(o, "seq", -1);
    hive_msg_view_free(&v);
}

typedef struct world {
    hive_bus *abus, *bbus, *cbus;
    hive_server *a, *b;
    hive_client *cli;
    recorder *cr, *br;
    relay rl;
    seen at_a, at_b;
} world;

static void pump_world(world *w, int ms)
{
    uint64_t end = hive_now_ns() + (uint64_t)ms * 1000000u;
    do {
        hive_server_service(w->a, 0);
        hive_server_service(w->b, 0);
        relay_pump(&w->rl);
        hive_client_service(w->cli, 1);
    } while (hive_now_ns() < end);
}

typedef bool (*world_cond)(world *w);
static bool pump_until(world *w, int ms, world_cond cond)
{
    uint64_t end = hive_now_ns() + (uint64_t)ms * 1000000u;
    while (!cond(w)) {
        if (hive_now_ns() >= end) return false;
        pump_world(w, 1);
    }
    return true;
}

static bool is_open(world *w) { return hive_client_get_state(w->cli) == HIVE_CLIENT_OPEN; }
static bool a_has_10(world *w) { return w->at_a.n >= 10; }
static bool b_has_10(world *w) { return w->at_b.n >= 10; }
static bool resumed_after_redirect(world *w)
{
    return rec_count(w->cr, HIVE_EV_CLIENT_REDIRECTED) >= 1 && rec_count(w->cr, HIVE_EV_CLIENT_RESUMED) >= 1 &&
           is_open(w);
}

static void send_seq(hive_client *c, int from, int to)
{
    for (int i = from; i < to; i++) {
        hive_msg m;
        hive_msg_init(&m);
        hive_msg_map(&m, 1);
        hive_msg_kv_int(&m, "seq", i);
        cr_assert_eq(hive_client_send_msg(c, "game:chat", &m), HIVE_OK);
        hive_msg_free(&m);
    }
}

Test(handoff, a_redirect_lost_with_its_link_is_given_again_at_the_source, .timeout = 60)
{
    test_scheme = "tcp://";
    world w = { 0 };
    w.abus = hive_bus_create(NULL);
    w.bbus = hive_bus_create(NULL);
    w.cbus = hive_bus_create(NULL);
    w.cr = calloc(1, sizeof *w.cr);
    w.br = calloc(1, sizeof *w.br);
    rec_attach(w.cr, w.cbus);
    rec_attach(w.br, w.bbus);
    cr_assert_gt(hive_bus_subscribe(w.abus, "net:server.recv.game:chat", on_chat, &w.at_a, NULL), 0);
    cr_assert_gt(hive_bus_subscribe(w.bbus, "net:server.recv.game:chat", on_chat, &w.at_b, NULL), 0);
    hive_server_config sc = { .heartbeat_ms = 100, .heartbeat_timeout_ms = 2000, .resume_window_ms = 5000 };
    w.a = test_server(w.abus, &sc, fx_packets);
    w.b = test_server(w.bbus, &sc, fx_packets);
    relay_open(&w.rl, hive_server_port(w.a));
    w.cli = hive_client_create(&(hive_client_config){ .reconnect_attempts = 5, .reconnect_delay_ms = 20,
                                                       .heartbeat_ms = 100, .heartbeat_timeout_ms = 2000 },
                               w.cbus);
    cr_assert_not_null(w.cli);
    char via[64], to[64];
    snprintf(via, sizeof via, "tcp://127.0.0.1:%u", (unsigned)w.rl.port);
    snprintf(to, sizeof to, "tcp://127.0.0.1:%u", (unsigned)hive_server_port(w.b));
    cr_assert_eq(hive_client_connect(w.cli, via), HIVE_OK);
    cr_assert(pump_until(&w, 5000, is_open), "the client never got through the relay");

    send_seq(w.cli, 0, 10);
    cr_assert(pump_until(&w, 5000, a_has_10), "the source got %d of 10", w.at_a.n);
    hive_cid cid = hive_client_cid(w.cli);

    /* the move: freeze, ticket, adopt; what the client sends now is kept */
    hive_msg ticket;
    hive_msg_init(&ticket);
    cr_assert_eq(hive_server_handoff_begin(w.a, cid, "player-7", 8, &ticket), HIVE_OK);
    send_seq(w.cli, 10, 15);
    pump_world(&w, 50);
    hive_cid tcid = 0;
    uint8_t token[HIVE_HANDOFF_TOKEN_BYTES];
    cr_assert_eq(hive_server_adopt(w.b, hive_msg_data(&ticket), hive_msg_size(&ticket), &tcid, token), HIVE_OK);
    hive_msg_free(&ticket);

    /* the redirect goes out and is held by the relay; then the link breaks */
    w.rl.hold_down = true;
    cr_assert_eq(hive_server_handoff_redirect(w.a, cid, to, tcid, token), HIVE_OK);
    for (int i = 0; i < 100 && w.rl.held == 0; i++) {
        hive_server_service(w.a, 1);
        relay_pump(&w.rl);
    }
    cr_assert_gt(w.rl.held, 0, "the redirect never left the source");
    relay_cut(&w.rl);
    w.rl.hold_down = false;
    hive_net_stats st0, st1;
    cr_assert_eq(hive_server_stats(w.a, &st0), 0);

    /* the client resumes at the source, is sent on, resumes at the target */
    cr_assert(pump_until(&w, 10000, resumed_after_redirect), "the client did not reach the target (state %d)",
              (int)hive_client_get_state(w.cli));
    cr_expect_eq(rec_count(w.cr, HIVE_EV_CLIENT_SESSION_INVALIDATED), 0, "the session was lost");
    cr_expect_eq(rec_count(w.cr, HIVE_EV_CLIENT_REDIRECTED), 1, "one redirect, from the source's refusal");
    cr_assert_eq(hive_server_stats(w.a, &st1), 0);
    cr_expect_eq(st1.resumes_refused, st0.resumes_refused + 1, "the source refused the resume (with the redirect)");
    cr_expect_eq(st1.resumes, st0.resumes, "the source did not resume the moved session");
    cr_expect_eq(rec_count(w.br, HIVE_EV_SERVER_HANDEDOFF), 1);
    cr_expect_eq(hive_client_cid(w.cli), tcid);
    send_seq(w.cli, 15, 20);
    cr_assert(pump_until(&w, 5000, b_has_10), "the target got %d", w.at_b.n);
    pump_world(&w, 100);   /* and nothing more comes */

    /* every message once, in order: 0..9 at the source, 10..19 at the target */
    cr_expect_eq(w.at_a.n, 10);
    for (int i = 0; i < w.at_a.n; i++) cr_expect_eq(w.at_a.got[i], i, "source #%d", i);
    cr_expect_eq(w.at_b.n, 10, "the target got %d", w.at_b.n);
    for (int i = 0; i < w.at_b.n; i++) cr_expect_eq(w.at_b.got[i], 10 + i, "target #%d", i);

    hive_client_destroy(w.cli);
    hive_server_destroy(w.a);
    hive_server_destroy(w.b);
    relay_close(&w.rl);
    hive_bus_destroy(w.abus);
    hive_bus_destroy(w.bbus);
    hive_bus_destroy(w.cbus);
    free(w.cr);
    free(w.br);
}

/* The client keeps what the source's welcome told it (the frames it may
 * send, how often it hears the server, when it gives up): a target that
 * would break those is refused at adopt, so the source keeps the player. */
static hive_server *target_with(hive_bus *bus, hive_server_config c)
{
    c.addr = "tcp://127.0.0.1:0";
    hive_server *s = hive_server_create(&c, bus);
    cr_assert_not_null(s, "%s", hive_create_error()->message);
    for (int i = 0; fx_packets[i]; i++) cr_assert_gt(hive_server_register(s, fx_packets[i], 0, HIVE_RELIABLE), 0);
    cr_assert_eq(hive_server_start(s), HIVE_OK);
    return s;
}

Test(handoff, adopt_refuses_a_target_the_client_could_not_keep_up_with, .timeout = 30)
{
    test_scheme = "tcp://";
    hive_bus *sb = hive_bus_create(NULL), *cb = hive_bus_create(NULL), *tb = hive_bus_create(NULL);
    hive_server_config sc = { .heartbeat_ms = 100, .heartbeat_timeout_ms = 2000, .max_frame = 65536 };
    hive_server *src = test_server(sb, &sc, fx_packets);
    hive_client *c = hive_client_create(&(hive_client_config){ .reconnect_attempts = 3 }, cb);
    char addr[64];
    test_addr(src, addr, sizeof addr);
    cr_assert_eq(hive_client_connect(c, addr), HIVE_OK);
    cr_assert(pump_both_open(src, c, 3000));
    hive_msg t;
    hive_msg_init(&t);
    cr_assert_eq(hive_server_handoff_begin(src, hive_client_cid(c), NULL, 0, &t), HIVE_OK);
    static const struct { hive_server_config c; int want; const char *what; } targets[] = {
        { { .heartbeat_ms = 100, .heartbeat_timeout_ms = 2000, .max_frame = 16384 }, HIVE_ESTATE, "smaller frames" },
        { { .heartbeat_ms = 2500, .heartbeat_timeout_ms = 6000 }, HIVE_ESTATE, "pings after the client gives up" },
        { { .heartbeat_ms = 40, .heartbeat_timeout_ms = 90 }, HIVE_ESTATE, "gives up before the client pings" },
        { { .heartbeat_ms = 100, .heartbeat_timeout_ms = 2000, .max_frame = 65536 }, HIVE_OK, "the same" },
        { { .heartbeat_ms = 500, .heartbeat_timeout_ms = 1500, .max_frame = 1 << 20 }, HIVE_OK, "larger frames" },
    };
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        hive_server *dst = target_with(tb, targets[i].c);
        hive_cid cid;
        uint8_t tok[HIVE_HANDOFF_TOKEN_BYTES];
        int rc = hive_server_adopt(dst, hive_msg_data(&t), hive_msg_size(&t), &cid, tok);
        cr_expect_eq(rc, targets[i].want, "%s: %d", targets[i].what, rc);
        hive_server_destroy(dst);
    }
    hive_msg_free(&t);
    cr_expect_eq(hive_server_handoff_cancel(src, hive_client_cid(c)), HIVE_OK);
    hive_client_destroy(c);
    hive_server_destroy(src);
    hive_bus_destroy(sb);
    hive_bus_destroy(cb);
    hive_bus_destroy(tb);
}

/* The promises travel with the session: moved A -> B, the client still
 * keeps A's heartbeat timeout, so a next move to C is judged against A's
 * (C pings too seldom for it), not against B's own settings. */
static bool opened_at(void *arg)
{
    hive_client *c = arg;
    return hive_client_get_state(c) == HIVE_CLIENT_OPEN;
}

Test(handoff, a_second_move_keeps_the_first_servers_promises, .timeout = 30)
{
    test_scheme = "tcp://";
    hive_bus *ab = hive_bus_create(NULL), *bb = hive_bus_create(NULL), *cb = hive_bus_create(NULL),
             *xb = hive_bus_create(NULL);
    recorder *cr = calloc(1, sizeof *cr);
    rec_attach(cr, cb);
    hive_server *a = test_server(ab, &(hive_server_config){ .heartbeat_ms = 100, .heartbeat_timeout_ms = 1000 },
                                 fx_packets);
    hive_server *b = test_server(bb, &(hive_server_config){ .heartbeat_ms = 800, .heartbeat_timeout_ms = 3000 },
                                 fx_packets);
    hive_client *c = hive_client_create(&(hive_client_config){ .reconnect_attempts = 3, .reconnect_delay_ms = 20 },
                                        cb);
    char addr[64], to[64];
    test_addr(a, addr, sizeof addr);
    test_addr(b, to, sizeof to);
    cr_assert_eq(hive_client_connect(c, addr), HIVE_OK);
    cr_assert(pump_both_open(a, c, 3000));
    /* A -> B */
    hive_msg t;
    hive_msg_init(&t);
    cr_assert_eq(hive_server_handoff_begin(a, hive_client_cid(c), NULL, 0, &t), HIVE_OK);
    hive_cid bcid;
    uint8_t tok[HIVE_HANDOFF_TOKEN_BYTES];
    cr_assert_eq(hive_server_adopt(b, hive_msg_data(&t), hive_msg_size(&t), &bcid, tok), HIVE_OK);
    hive_msg_free(&t);
    cr_assert_eq(hive_server_handoff_redirect(a, hive_client_cid(c), to, bcid, tok), HIVE_OK);
    uint64_t end = hive_now_ns() + 5000000000ull;
    while ((rec_count(cr, HIVE_EV_CLIENT_RESUMED) < 1 || !opened_at(c)) && hive_now_ns() < end) {
        hive_server_service(a, 1);
        hive_server_service(b, 1);
        hive_client_service(c, 1);
    }
    cr_assert_eq(hive_client_cid(c), bcid, "the client did not reach B");
    for (int i = 0; i < 20; i++) {
        hive_server_service(b, 1);
        hive_client_service(c, 1);
    }
    /* B -> C: C's heartbeat (2 s) is under B's timeout (3 s) but over the
     * 1 s the client keeps from A */
    hive_msg_init(&t);
    cr_assert_eq(hive_server_handoff_begin(b, bcid, NULL, 0, &t), HIVE_OK);
    hive_server *cs = test_server(xb, &(hive_server_config){ .heartbeat_ms = 2000, .heartbeat_timeout_ms = 6000 },
                                  fx_packets);
    hive_cid ccid;
    cr_expect_eq(hive_server_adopt(cs, hive_msg_data(&t), hive_msg_size(&t), &ccid, tok), HIVE_ESTATE);
    hive_server_destroy(cs);
    cs = test_server(xb, &(hive_server_config){ .heartbeat_ms = 100, .heartbeat_timeout_ms = 1000 }, fx_packets);
    cr_expect_eq(hive_server_adopt(cs, hive_msg_data(&t), hive_msg_size(&t), &ccid, tok), HIVE_OK, "as A: fine");
    hive_msg_free(&t);
    cr_expect_eq(hive_server_handoff_cancel(b, bcid), HIVE_OK);
    hive_client_destroy(c);
    hive_server_destroy(a);
    hive_server_destroy(b);
    hive_server_destroy(cs);
    hive_bus_destroy(ab);
    hive_bus_destroy(bb);
    hive_bus_destroy(cb);
    hive_bus_destroy(xb);
    free(cr);
}
