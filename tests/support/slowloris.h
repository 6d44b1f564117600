/*
 * slowloris.h - the slow-sender scenario, run over tcp:// by tests/net
 * and over tls:// by tests/tls: a server with a short frame_timeout_ms,
 * a well-behaved client that keeps chatting (whole frames, one after
 * another, for longer than the timeout), and a flood_peer in trickle mode
 * that sends one frame a byte at a time and never finishes it. Every
 * byte is a sign of life, so only the frame deadline can end it.
 */
#ifndef HIVE_TESTS_SLOWLORIS_H
#define HIVE_TESTS_SLOWLORIS_H

#include <criterion/criterion.h>
#include <string.h>

#include "hive/hive.h"
#include "tests/support/flood_peer.h"

typedef struct sl_run {
    hive_bus *sbus, *cbus;
    hive_server *srv;
    hive_client *cli;
    hive_cid good_cid;
    int echoes, good_recv;
    int other_reason;                /* close of the other connection, -1 none */
    int other_remote;
    bool good_closed;
} sl_run;

static void sl_on_chat(const hive_event *ev, void *u)
{
    sl_run *r = u;
    hive_msg m;
    hive_msg_init(&m);
    hive_msg_map(&m, 0);
    if (hive_server_send_msg(r->srv, (hive_cid)hive_event_int(ev, "cid", 0), "game:chat", &m) == HIVE_OK) r->echoes++;
    hive_msg_free(&m);
}
static void sl_on_close(const hive_event *ev, void *u)
{
    sl_run *r = u;
    hive_cid cid = (hive_cid)hive_event_int(ev, "cid", 0);
    if (cid == r->good_cid) { r->good_closed = true; return; }
    r->other_reason = (int)hive_event_int(ev, "reason", -1);
    r->other_remote = (int)hive_event_int(ev, "remote", -1);
}
static void sl_on_echo(const hive_event *ev, void *u) { (void)ev; ((sl_run *)u)->good_recv++; }

static inline void sl_pump(sl_run *r, int ms)
{
    uint64_t end = hive_now_ns() + (uint64_t)ms * 1000000u;
    do {
        hive_server_service(r->srv, 1);
        hive_client_service(r->cli, 0);
    } while (hive_now_ns() < end);
}

/* One chat and its echo; false if it did not come back within ms. */
static inline bool sl_roundtrip(sl_run *r, int ms)
{
    int want = r->good_recv + 1;
    hive_msg m;
    hive_msg_init(&m);
    hive_msg_map(&m, 0);
    int rc = hive_client_send_msg(r->cli, "game:chat", &m);
    hive_msg_free(&m);
    if (rc != HIVE_OK) return false;
    uint64_t end = hive_now_ns() + (uint64_t)ms * 1000000u;
    while (r->good_recv < want && hive_now_ns() < end) {
        hive_server_service(r->srv, 1);
        hive_client_service(r->cli, 0);
    }
    return r->good_recv >= want;
}

/* Server + good client up on scheme; cfg is the server's (addr set here). */
static inline void sl_start(sl_run *r, const char *scheme, hive_server_config cfg, const hive_tls_config *ct)
{
    memset(r, 0, sizeof *r);
    r->other_reason = r->other_remote = -1;
    char addr[64];
    snprintf(addr, sizeof addr, "%s://127.0.0.1:0", scheme);
    cfg.addr = addr;
    r->sbus = hive_bus_create(NULL);
    r->cbus = hive_bus_create(NULL);
    r->srv = hive_server_create(&cfg, r->sbus);
    cr_assert_not_null(r->srv, "%s", hive_create_error()->message);
    cr_assert_gt(hive_server_register(r->srv, "game:chat", 0, HIVE_RELIABLE), 0);
    hive_bus_subscribe(r->sbus, "net:server.recv.game:chat", sl_on_chat, r, NULL);
    hive_bus_subscribe(r->sbus, HIVE_EV_SERVER_CLOSE, sl_on_close, r, NULL);
    cr_assert_eq(hive_server_start(r->srv), HIVE_OK);
    hive_client_config cc = { .tls = ct ? *ct : (hive_tls_config){ 0 } };
    r->cli = hive_client_create(&cc, r->cbus);
    cr_assert_not_null(r->cli);
    hive_bus_subscribe(r->cbus, "net:client.recv.game:chat", sl_on_echo, r, NULL);
    snprintf(addr, sizeof addr, "%s://localhost:%u", scheme, hive_server_port(r->srv));
    cr_assert_eq(hive_client_connect(r->cli, addr), HIVE_OK);
    uint64_t end = hive_now_ns() + 5000000000ull;
    while (hive_client_get_state(r->cli) != HIVE_CLIENT_OPEN && hive_now_ns() < end) {
        hive_server_service(r->srv, 1);
        hive_client_service(r->cli, 0);
    }
    cr_assert_eq(hive_client_get_state(r->cli), HIVE_CLIENT_OPEN);
    r->good_cid = hive_client_cid(r->cli);
}

static inline void sl_free(sl_run *r)
{
    hive_client_destroy(r->cli);
    hive_server_destroy(r->srv);
    hive_bus_destroy(r->cbus);
    hive_bus_destroy(r->sbus);
}

/*
 * The trickler: a frame a byte every 20 ms, never finished. hello: trickle
 * the hello itself. Waits up to wait_ms for its close; returns the reason.
 * The good client chats throughout (a frame every ~50 ms: whole frames in
 * a row, for longer than frame_timeout_ms, must never trip the deadline).
 */
static inline int sl_trickle(sl_run *r, bool tls, bool hello, int wait_ms, flood_peer *p)
{
    flood_start_trickle(p, hive_server_port(r->srv), tls, 20, hello);
    uint64_t end = hive_now_ns() + (uint64_t)wait_ms * 1000000u;
    while (r->other_reason < 0 && hive_now_ns() < end) {
        cr_assert(sl_roundtrip(r, 2000), "the good client must keep playing");
        sl_pump(r, 50);
    }
    return r->other_reason;
}

/*
 * The ping flooder (flood_peer, 4 KiB pings as fast as it can) against the
 * running server while the good client keeps playing; waits up to wait_ms
 * for the flooder's close and returns its reason (-1: none).
 */
static inline int sl_flood(sl_run *r, bool tls, int wait_ms, flood_peer *p)
{
    flood_start(p, hive_server_port(r->srv), tls);
    uint64_t end = hive_now_ns() + (uint64_t)wait_ms * 1000000u;
    while (r->other_reason < 0 && hive_now_ns() < end) {
        cr_assert(sl_roundtrip(r, 3000), "the good client must keep playing");
        sl_pump(r, 20);
    }
    return r->other_reason;
}

#endif
