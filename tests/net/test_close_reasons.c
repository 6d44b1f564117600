/*
 * Every close carries a reason with a stable name, and both sides see it:
 * kicked by the server, an application's own code, the server stopping.
 */
#include "net_test.h"

Test(close_reasons, names_are_stable, .timeout = 30)
{
    cr_expect_str_eq(hive_close_reason_name(HIVE_CLOSE_NORMAL), "normal");
    cr_expect_str_eq(hive_close_reason_name(HIVE_CLOSE_SERVER_FULL), "server_full");
    cr_expect_str_eq(hive_close_reason_name(HIVE_CLOSE_FRAME_TOO_LARGE), "frame_too_large");
    cr_expect_str_eq(hive_close_reason_name(HIVE_CLOSE_PEER_VANISHED), "peer_vanished");
    cr_expect_str_eq(hive_close_reason_name(1234), "application");
    cr_expect_str_eq(hive_close_reason_name(999), "unknown");
    cr_expect_str_eq(hive_close_reason_name(-1), "unknown");
    cr_expect_eq(hive_close_reason_from_name("auth_failed"), HIVE_CLOSE_AUTH_FAILED);
    cr_expect_eq(hive_close_reason_from_name("nope"), HIVE_ENOENT);
    cr_expect_str_neq(hive_close_reason_text(HIVE_CLOSE_TIMEOUT), "unknown reason");
    /* Codes are wire values: they must never move. */
    cr_expect_eq(HIVE_CLOSE_TIMEOUT, 2);
    cr_expect_eq(HIVE_CLOSE_BAD_MSGPACK, 9);
    cr_expect_eq(HIVE_CLOSE_SERVER_FULL, 13);
}

Test(close_reasons, kicked_with_a_message, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, NULL, NULL, true);
    hive_cid cid = hive_client_cid(fx.cli);
    cr_assert_eq(hive_server_close(fx.srv, cid, HIVE_CLOSE_KICKED, "cheating"), 0);
    cr_expect_eq(hive_server_close(fx.srv, 12345, HIVE_CLOSE_KICKED, NULL), HIVE_ENOENT);
    cr_assert(pump(fx.srv, fx.cli, 3000, client_gone, fx.cli));
    const rec_event *e = rec_find(fx.cr, "net:client.close");
    cr_assert_not_null(e);
    cr_expect_str_eq(e->reason_name, "kicked");
    cr_expect_eq(e->remote, 1);
    e = fx_server_close(&fx, cid);
    cr_assert_not_null(e);
    cr_expect_str_eq(e->reason_name, "kicked");
    cr_expect_eq(e->remote, 0);
    fx_fini(&fx);
}

static char got_message[64];
static void on_close(const hive_event *ev, void *user)
{
    const char *m = hive_event_str(ev, "message");
    snprintf(got_message, sizeof got_message, "%s", m ? m : "");
}

Test(close_reasons, application_code_travels, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, NULL, NULL, true);
    hive_bus_subscribe(fx.sbus, "net:server.connection.close", on_close, NULL, NULL);
    hive_cid cid = hive_client_cid(fx.cli);
    cr_assert_eq(hive_client_close(fx.cli, HIVE_CLOSE_APP_MIN + 7, "rage quit"), 0);
    close_wait w = { &fx, cid };
    cr_assert(pump(fx.srv, fx.cli, 3000, fx_closed, &w));
    const rec_event *e = fx_server_close(&fx, cid);
    cr_expect_eq(e->reason, HIVE_CLOSE_APP_MIN + 7);
    cr_expect_str_eq(e->reason_name, "application");
    cr_expect_eq(e->remote, 1);
    cr_expect_str_eq(got_message, "rage quit");
    cr_expect_eq(hive_client_close(fx.cli, 70000, NULL), HIVE_EINVAL);
    fx_fini(&fx);
}

Test(close_reasons, server_stop_reaches_every_client, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, NULL, NULL, true);
    cr_assert_eq(hive_server_stop(fx.srv), 0);
    cr_expect_eq(hive_server_stop(fx.srv), HIVE_ESTATE);
    /* The close packet left during stop's linger; the client reads it now. */
    uint64_t end = hive_now_ns() + 3000000000ull;
    while (!client_gone(fx.cli) && hive_now_ns() < end) hive_client_service(fx.cli, 5);
    cr_expect_str_eq(hive_close_reason_name(hive_client_close_reason(fx.cli)), "server_shutdown");
    const rec_event *e = rec_find(fx.cr, "net:client.close");
    cr_assert_not_null(e);
    cr_expect_eq(e->remote, 1);
    cr_expect_eq(rec_count(fx.sr, "net:server.connection.close"), 1);
    cr_expect_eq(hive_server_connection_count(fx.srv), 0u);
    fx_fini(&fx);
}
