/*
 * The handshake refuses: wrong magic, protocol version, application,
 * failed auth, full server. Each refusal reaches the peer as a reject
 * packet with the reason, and both sides publish it in their close event.
 */
#include "net_test.h"

/* A raw peer sends a hello body; the server must reject it with want. */
static void raw_hello_rejected(const char *magic, unsigned proto, int want)
{
    fixture fx;
    fx_init(&fx, NULL, NULL, true);
    raw_peer p;
    raw_connect(&p, fx.srv);
    int64_t cid = fx_accepted_cid(&fx, 1);
    hive_msg m;
    hello_msg(&m, magic, proto, "hive");
    raw_send_frame(&p, HIVE__PID_HELLO, hive_msg_data(&m), hive_msg_size(&m));
    hive_msg_free(&m);
    const rec_event *e = fx_wait_close(&fx, &p, cid, 3000);
    cr_assert_not_null(e);
    cr_expect_str_eq(e->reason_name, hive_close_reason_name(want));
    uint32_t pid = 0;
    cr_expect_eq(raw_close_reason(&p, &pid), want);
    cr_expect_eq(pid, HIVE__PID_REJECT);
    cr_expect(p.disconnected, "the server did not end the link after rejecting");
    cr_expect_eq(rec_count(fx.sr, "net:server.connection.handshakecomplete"), 1);   /* the good client only */
    fx_roundtrip(&fx, "after a reject");
    raw_destroy(&p);
    fx_fini(&fx);
}

Test(reject, wrong_magic, .timeout = 30)
{
    raw_hello_rejected("HIVX", 1, HIVE_CLOSE_BAD_MAGIC);
}

Test(reject, protocol_version_mismatch, .timeout = 30)
{
    raw_hello_rejected("HIVE", HIVE_PROTOCOL_VERSION + 1, HIVE_CLOSE_PROTO_MISMATCH);
}

/* A protocol-1 peer (no counted frames, no resume) gets a clean
 * proto_mismatch reject: docs/PROTOCOL.md, "Versions". */
Test(reject, a_protocol_1_peer_is_refused_cleanly, .timeout = 30)
{
    raw_hello_rejected("HIVE", 1, HIVE_CLOSE_PROTO_MISMATCH);
}

Test(reject, hello_that_is_not_a_map, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, NULL, NULL, false);
    raw_peer p;
    raw_connect(&p, fx.srv);
    int64_t cid = fx_accepted_cid(&fx, 0);
    const uint8_t body[] = { 0xa4, 'H', 'I', 'V', 'E' };   /* the string "HIVE" */
    raw_send_frame(&p, HIVE__PID_HELLO, body, sizeof body);
    const rec_event *e = fx_wait_close(&fx, &p, cid, 3000);
    cr_assert_not_null(e);
    cr_expect_str_eq(e->reason_name, "bad_magic");
    raw_destroy(&p);
    fx_fini(&fx);
}

/* A real client is refused: its close event carries the server's reason. */
static void client_rejected(fixture *fx, hive_client *c, const char *want)
{
    cr_assert_eq(hive_client_connect(c, fx->addr), 0);
    cr_expect_eq(hive_client_wait_connected(c, 0), HIVE_ETIMEDOUT);
    cr_assert(pump(fx->srv, c, 3000, client_gone, c), "client not closed");
    cr_expect_str_eq(hive_close_reason_name(hive_client_close_reason(c)), want);
}

Test(reject, application_mismatch, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, &(hive_server_config){ .app = "arena" }, &(hive_client_config){ .app = "arena" }, true);
    hive_bus *bus = hive_bus_create(NULL);
    recorder *r = calloc(1, sizeof *r);
    rec_attach(r, bus);
    hive_client *c = hive_client_create(&(hive_client_config){ .app = "chess" }, bus);
    client_rejected(&fx, c, "app_mismatch");
    const rec_event *e = rec_find(r, "net:client.close");
    cr_assert_not_null(e);
    cr_expect_str_eq(e->reason_name, "app_mismatch");
    cr_expect_eq(e->remote, 1);
    cr_expect_eq(rec_count(r, "net:client.handshakecomplete"), 0);
    cr_expect_eq(rec_count(r, "net:client.stop"), 1);
    e = fx_server_close(&fx, fx_accepted_cid(&fx, 1));
    cr_assert_not_null(e);
    cr_expect_str_eq(e->reason_name, "app_mismatch");
    fx_roundtrip(&fx, "still here");
    hive_client_destroy(c);
    hive_bus_destroy(bus);
    free(r);
    fx_fini(&fx);
}

static int auth_calls;

static int check_token(hive_server *s, hive_cid cid, const hive_hello *h, void *user)
{
    auth_calls++;
    cr_expect_str_eq(h->conntype, user ? "spectator" : "player");
    cr_expect_not_null(h->addr);
    if (h->token_len == 6 && memcmp(h->token, "secret", 6) == 0) return 0;
    return HIVE_CLOSE_AUTH_FAILED;
}

Test(reject, auth_hook_refuses_a_bad_token, .timeout = 30)
{
    auth_calls = 0;
    hive_server_config sc = { .auth = check_token };
    fixture fx;
    fx_init(&fx, &sc, &(hive_client_config){ .token = "secret", .token_len = 6 }, true);
    cr_expect_eq(auth_calls, 1);

    hive_bus *bus = hive_bus_create(NULL);
    hive_client *c = hive_client_create(&(hive_client_config){ .token = "guess", .token_len = 5 }, bus);
    client_rejected(&fx, c, "auth_failed");
    cr_expect_eq(auth_calls, 2);
    hive_client_destroy(c);

    c = hive_client_create(NULL, bus);             /* no token at all */
    client_rejected(&fx, c, "auth_failed");
    hive_client_destroy(c);
    fx_roundtrip(&fx, "authenticated");
    hive_bus_destroy(bus);
    fx_fini(&fx);
}

Test(reject, server_full, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, &(hive_server_config){ .max_connections = 1 }, NULL, true);
    hive_bus *bus = hive_bus_create(NULL);
    recorder *r = calloc(1, sizeof *r);
    rec_attach(r, bus);
    hive_client *c = hive_client_create(NULL, bus);
    client_rejected(&fx, c, "server_full");
    cr_expect_str_eq(rec_find(r, "net:client.close")->reason_name, "server_full");
    cr_expect_eq(hive_client_cid(c), 0u);
    hive_client_destroy(c);

    /* Once the first one leaves, there is room again. */
    hive_client_close(fx.cli, HIVE_CLOSE_NORMAL, NULL);
    cr_assert(pump(fx.srv, fx.cli, 3000, client_gone, fx.cli));
    c = hive_client_create(NULL, bus);
    cr_assert_eq(hive_client_connect(c, fx.addr), 0);
    cr_expect(pump(fx.srv, c, 3000, client_open, c), "no room after the first left");
    hive_client_destroy(c);
    hive_bus_destroy(bus);
    free(r);
    fx_fini(&fx);
}
