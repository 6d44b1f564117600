/*
 * admission.h - the half-open storm, for the admission tests over tcp://
 * (tests/net) and tls:// (tests/tls): raw sockets that connect from a
 * chosen loopback address (127.0.0.2, ...) and say nothing, a reader for
 * the reject frame a server sends one, and a good Hive client that must
 * get in and play while the storm is held.
 *
 *   adm_nofile();                          soft RLIMIT_NOFILE up to the hard one
 *   adm_storm(srv, "127.0.0.2", n, fds);   n links, each accepted by srv
 *   adm_reject_reason(srv, fd, ms)         the reason of the reject srv sent on fd
 *   adm_good_start / adm_good_open / adm_roundtrip / adm_good_free
 *
 * Everything runs on the test's thread: the server is serviced while the
 * sockets connect (a storm larger than the listen backlog would otherwise
 * stall in the kernel).
 */
#ifndef HIVE_TESTS_ADMISSION_H
#define HIVE_TESTS_ADMISSION_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "hive/hive.h"
#include "net/wire/frame.h"

#define ADM_PID_REJECT 3   /* docs/PROTOCOL.md: reject */

/* Raise the soft limit on open files to the hard limit; the test needs
 * at least `need` descriptors. */
static inline void adm_nofile(int need)
{
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    rl.rlim_cur = rl.rlim_max;
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0, "setrlimit: %s", strerror(errno));
    cr_assert(rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= (rlim_t)need,
              "RLIMIT_NOFILE's hard limit %llu is under the %d this storm needs",
              (unsigned long long)rl.rlim_cur, need);
}

/* A non-blocking TCP connect from src (port chosen by the kernel) to
 * 127.0.0.1:port; the fd, connecting or connected. */
static inline int adm_dial(const char *src, uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
    struct sockaddr_in from = { .sin_family = AF_INET };
    cr_assert_eq(inet_pton(AF_INET, src, &from.sin_addr), 1);
    cr_assert_eq(bind(fd, (struct sockaddr *)&from, sizeof from), 0, "bind %s: %s", src, strerror(errno));
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int r = connect(fd, (struct sockaddr *)&to, sizeof to);
    cr_assert(r == 0 || errno == EINPROGRESS, "connect: %s", strerror(errno));
    return fd;
}

static inline uint64_t adm_accepted(hive_server *srv)
{
    hive_net_stats st;
    cr_assert_eq(hive_server_stats(srv, &st), 0);
    return st.accepted;
}

/* Open n half-open links from src and service srv until it has accepted
 * every one of them (bounded: 60 s). fds[0] is the oldest. */
static inline void adm_storm(hive_server *srv, const char *src, int n, int *fds)
{
    uint64_t want = adm_accepted(srv) + (uint64_t)n;
    for (int i = 0; i < n; i++) {
        fds[i] = adm_dial(src, hive_server_port(srv));
        if (i % 32 == 31) hive_server_service(srv, 0);
    }
    uint64_t end = hive_now_ns() + 60000000000ull;
    while (adm_accepted(srv) < want && hive_now_ns() < end) hive_server_service(srv, 5);
    cr_assert_geq(adm_accepted(srv), want, "the server accepted %llu of %llu links",
                  (unsigned long long)adm_accepted(srv), (unsigned long long)want);
}

/* Service srv and read fd until the server ends it (bounded by ms): the
 * reason of the reject frame it sent first, -1 when it ended the link
 * without one, -2 when the link was still open at the deadline. */
static inline int adm_reject_reason(hive_server *srv, int fd, int ms)
{
    uint8_t buf[4096];
    size_t len = 0;
    bool ended = false;
    uint64_t end = hive_now_ns() + (uint64_t)ms * 1000000u;
    while (!ended && hive_now_ns() < end) {
        hive_server_service(srv, 1);
        struct pollfd pf = { .fd = fd, .events = POLLIN };
        if (poll(&pf, 1, 1) <= 0) continue;
        ssize_t r = recv(fd, buf + len, sizeof buf - len, MSG_DONTWAIT);
        if (r > 0) len += (size_t)r;
        else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) ended = true;
        if (len == sizeof buf) ended = true;
    }
    if (!ended) return -2;
    hive__frame f;
    if (len == 0 || hive__frame_decode(buf, len, 1 << 16, &f) != 1 || f.pid != ADM_PID_REJECT) return -1;
    hive_msg_view v;
    if (hive_msg_view_init(&v, f.body, f.body_len) != 0) return -1;
    uint64_t reason = 0;
    int rc = hive_msg_get_uint(v.obj, "reason", &reason);
    hive_msg_view_free(&v);
    return rc == 0 ? (int)reason : -1;
}

/* True while the server has not ended fd (nothing to read, no EOF). */
static inline bool adm_still_open(int fd)
{
    char b;
    ssize_t r = recv(fd, &b, 1, MSG_DONTWAIT | MSG_PEEK);
    return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* ---- A good client that plays: game:chat, echoed by the server ---- */

typedef struct adm_good {
    hive_server *srv;
    hive_bus *cbus;
    hive_client *cli;
    int echoes;
} adm_good;

static void adm_on_chat(const hive_event *ev, void *u)
{
    hive_server *srv = u;
    const void *raw, *obj;
    size_t len;
    if (hive_event_get_msgpack(ev, "msg", &raw, &len, &obj) == 0)
        hive_server_send(srv, (hive_cid)hive_event_int(ev, "cid", 0), "game:chat", raw, len);
}

static void adm_on_echo(const hive_event *ev, void *u)
{
    (void)ev;
    ((adm_good *)u)->echoes++;
}

/* A server on scheme://127.0.0.1:0 that echoes game:chat, with cfg
 * (may be NULL) on bus. */
static inline hive_server *adm_server(hive_bus *bus, const char *scheme, const hive_server_config *cfg)
{
    hive_server_config c = cfg ? *cfg : (hive_server_config){ 0 };
    char a[64];
    snprintf(a, sizeof a, "%s://127.0.0.1:0", scheme);
    c.addr = a;
    hive_server *srv = hive_server_create(&c, bus);
    cr_assert_not_null(srv, "create: %s", hive_create_error()->message);
    cr_assert_gt(hive_server_register(srv, "game:chat", 0, HIVE_RELIABLE), 0);
    cr_assert_gt(hive_bus_subscribe(bus, "net:server.recv.game:chat", adm_on_chat, srv, NULL), 0);
    cr_assert_eq(hive_server_start(srv), HIVE_OK);
    return srv;
}

/* A client dialing the server from 127.0.0.1. */
static inline void adm_good_start(adm_good *g, hive_server *srv, const char *scheme, const hive_tls_config *tls)
{
    memset(g, 0, sizeof *g);
    g->srv = srv;
    g->cbus = hive_bus_create(NULL);
    cr_assert_not_null(g->cbus);
    cr_assert_gt(hive_bus_subscribe(g->cbus, "net:client.recv.game:chat", adm_on_echo, g, NULL), 0);
    hive_client_config c = { .connect_timeout_ms = 20000, .handshake_timeout_ms = 20000 };
    if (tls) c.tls = *tls;
    g->cli = hive_client_create(&c, g->cbus);
    cr_assert_not_null(g->cli);
    char addr[96];
    snprintf(addr, sizeof addr, "%s://127.0.0.1:%u", scheme, (unsigned)hive_server_port(srv));
    cr_assert_eq(hive_client_connect(g->cli, addr), HIVE_OK);
}

/* Service both until the client is open (true) or ended or ms passed. */
static inline bool adm_good_open(adm_good *g, int ms)
{
    uint64_t end = hive_now_ns() + (uint64_t)ms * 1000000u;
    for (;;) {
        hive_client_state st = hive_client_get_state(g->cli);
        if (st == HIVE_CLIENT_OPEN) return true;
        if (st == HIVE_CLIENT_CLOSED || st == HIVE_CLIENT_IDLE || hive_now_ns() >= end) return false;
        hive_server_service(g->srv, 1);
        hive_client_service(g->cli, 1);
    }
}

/* Service both until the client's connection is over (bounded by ms). */
static inline bool adm_good_closed(adm_good *g, int ms)
{
    uint64_t end = hive_now_ns() + (uint64_t)ms * 1000000u;
    for (;;) {
        hive_client_state st = hive_client_get_state(g->cli);
        if (st == HIVE_CLIENT_CLOSED || st == HIVE_CLIENT_IDLE) return true;
        if (hive_now_ns() >= end) return false;
        hive_server_service(g->srv, 1);
        hive_client_service(g->cli, 1);
    }
}

/* n chats, each echoed back before the next goes (bounded by ms each). */
static inline bool adm_roundtrip(adm_good *g, int n, int ms)
{
    for (int i = 0; i < n; i++) {
        int want = g->echoes + 1;
        hive_msg m;
        hive_msg_init(&m);
        hive_msg_map(&m, 1);
        hive_msg_kv_int(&m, "seq", i);
        int rc = hive_client_send_msg(g->cli, "game:chat", &m);
        hive_msg_free(&m);
        if (rc != HIVE_OK) return false;
        uint64_t end = hive_now_ns() + (uint64_t)ms * 1000000u;
        while (g->echoes < want && hive_now_ns() < end) {
            hive_server_service(g->srv, 1);
            hive_client_service(g->cli, 1);
        }
        if (g->echoes < want) return false;
    }
    return true;
}

static inline void adm_good_free(adm_good *g)
{
    hive_client_destroy(g->cli);
    hive_bus_destroy(g->cbus);
    memset(g, 0, sizeof *g);
}

#endif /* HIVE_TESTS_ADMISSION_H */
