/* Remote subscriptions over tls://: an export's check sees the client
 * certificate's subject, and the events arrive inside TLS as on tcp://. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "hive/hive.h"
#include "certgen.h"

static certgen C;
static void setup(void) { cr_assert(certgen_make(&C)); }
static void teardown(void) { certgen_remove(&C); }

static char g_subject[200];
static int g_checks;

/* Only the holder of the player-one certificate may watch. */
static int by_certificate(hive_server *s, hive_sub_request *r, void *u)
{
    (void)s;
    (void)u;
    g_checks++;
    snprintf(g_subject, sizeof g_subject, "%s", r->peer_subject);
    if (strcmp(r->peer_subject, "CN=player-one,O=Hive Test") != 0) {
        snprintf(r->reason, sizeof r->reason, "certificate required");
        return 1;
    }
    return 0;
}

static int g_accepted, g_events;
static void on_ok(const hive_event *ev, void *u) { (void)ev; (void)u; g_accepted++; }
static void on_ev(const hive_event *ev, void *u) { (void)ev; (void)u; g_events++; }

Test(remote_tls, the_check_sees_the_client_certificate, .init = setup, .fini = teardown, .timeout = 30)
{
    hive_bus *sbus = hive_bus_create(NULL), *cbus = hive_bus_create(NULL);
    hive_server_config sc = { .addr = "tls://127.0.0.1:0",
                              .tls = { .cert_file = C.server_crt, .key_file = C.server_key, .ca_file = C.ca,
                                       .client_auth = HIVE_TLS_CLIENT_REQUIRE } };
    hive_server *s = hive_server_create(&sc, sbus);
    cr_assert_not_null(s);
    cr_assert_eq(hive_server_export(s, "vault:*", &(hive_export_opts){ .check = by_certificate }), 0);
    cr_assert_eq(hive_server_start(s), 0);
    char addr[64];
    snprintf(addr, sizeof addr, "tls://127.0.0.1:%u", (unsigned)hive_server_port(s));
    hive_client_config cc = { .tls = { .ca_file = C.ca, .cert_file = C.client_crt, .key_file = C.client_key } };
    hive_client *c = hive_client_create(&cc, cbus);
    cr_assert_not_null(c);
    hive_bus_subscribe(cbus, HIVE_EV_CLIENT_SUB_ACCEPTED, on_ok, NULL, NULL);
    hive_bus_subscribe(cbus, "remote:vault:*", on_ev, NULL, NULL);
    cr_assert_gt(hive_client_subscribe(c, "vault:gold", NULL, 0), 0);
    cr_assert_eq(hive_client_connect(c, addr), 0);
    uint64_t end = hive_now_ns() + 10000000000ull;
    while (g_accepted < 1 && hive_now_ns() < end) {
        hive_server_service(s, 1);
        hive_client_service(c, 1);
    }
    cr_assert_eq(g_accepted, 1, "state %d, checks %d, subject '%s', close %d", hive_client_get_state(c), g_checks,
                 g_subject, hive_client_close_reason(c));
    cr_expect_eq(g_checks, 1);
    cr_expect_str_eq(g_subject, "CN=player-one,O=Hive Test");
    hive_field f[] = { HIVE_INT("bars", 3) };
    hive_bus_publish_name(sbus, "vault:gold", f, 1);
    end = hive_now_ns() + 5000000000ull;
    while (g_events < 1 && hive_now_ns() < end) {
        hive_server_service(s, 1);
        hive_client_service(c, 1);
    }
    cr_expect_eq(g_events, 1);
    hive_client_destroy(c);
    hive_server_destroy(s);
    hive_bus_destroy(sbus);
    hive_bus_destroy(cbus);
}
