/*
 * enet+tls://: the same peers as tests/net/test_enet_sendq.c. The queue
 * counted here adds this layer's batches and TLS records to what the inner
 * ENet link holds; the bound, the backpressure event and the
 * slow_consumer close apply just the same, while a good client plays.
 */
#include <criterion/criterion.h>
#include "certgen.h"
#include "tests/support/enet_sendq.h"

#define BOUND (256u * 1024u)

static certgen C;
static void setup(void) { cr_assert(certgen_make(&C)); }
static void teardown(void) { certgen_remove(&C); }

Test(enet_sendq, enet_tls_stalled_client_closed_as_slow_consumer, .init = setup, .fini = teardown, .timeout = 60)
{
    hive_tls_config st = { .cert_file = C.server_crt, .key_file = C.server_key };
    hive_tls_config ct = { .ca_file = C.ca };
    eq_run r;
    eq_run_scenario(&r, EQ_STALLED, "enet+tls", BOUND, &st, &ct, 8000);
    eq_expect(&r, BOUND, EQ_SLACK_ENET_TLS);
}

Test(enet_sendq, enet_tls_ack_withholding_ping_flood_stays_bounded, .init = setup, .fini = teardown, .timeout = 60)
{
    hive_tls_config st = { .cert_file = C.server_crt, .key_file = C.server_key };
    hive_tls_config ct = { .ca_file = C.ca };
    eq_run r;
    eq_run_scenario(&r, EQ_WITHHOLD, "enet+tls", BOUND, &st, &ct, 8000);
    eq_expect(&r, BOUND, EQ_SLACK_ENET_TLS);
}
