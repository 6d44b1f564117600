/*
 * A TLS peer that completes the handshake, then sends pings as fast as it
 * can and never reads: what the server queues for it stays bounded, it is
 * closed with slow_consumer once its queue stays full, and a good client
 * keeps playing meanwhile.
 */
#include <criterion/criterion.h>
#include "certgen.h"
#include "tests/support/slow_consumer.h"

static certgen C;
static void setup(void) { cr_assert(certgen_make(&C)); }
static void teardown(void) { certgen_remove(&C); }

#define BOUND (256u * 1024u)

Test(slow_consumer, tls_ping_flood_that_never_reads_stays_bounded, .init = setup, .fini = teardown, .timeout = 60)
{
    hive_tls_config st = { .cert_file = C.server_crt, .key_file = C.server_key };
    hive_tls_config ct = { .ca_file = C.ca };
    sc_run r;
    sc_run_flood(&r, "tls", BOUND, &st, &ct, 4000);
    sc_expect(&r, BOUND);
}

Test(slow_consumer, wss_ping_flood_that_never_reads_stays_bounded, .init = setup, .fini = teardown, .timeout = 60)
{
    hive_tls_config st = { .cert_file = C.server_crt, .key_file = C.server_key };
    hive_tls_config ct = { .ca_file = C.ca };
    sc_run r;
    sc_run_flood(&r, "wss", BOUND, &st, &ct, 4000);
    sc_expect(&r, BOUND);
}
