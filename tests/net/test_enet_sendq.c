/*
 * enet://: a peer that acknowledges nothing the server sends fills its
 * send queue; the bound (send_queue_bytes) holds the server's memory, the
 * peer is closed with slow_consumer after a backpressure event, and a good
 * client keeps playing (tests/support/enet_sendq.h).
 */
#include <criterion/criterion.h>
#include "tests/support/enet_sendq.h"

#define BOUND (256u * 1024u)

Test(enet_sendq, stalled_client_closed_as_slow_consumer, .timeout = 60)
{
    eq_run r;
    eq_run_scenario(&r, EQ_STALLED, "enet", BOUND, NULL, NULL, 8000);
    eq_expect(&r, BOUND, EQ_SLACK_ENET);
}

Test(enet_sendq, ack_withholding_ping_flood_stays_bounded, .timeout = 60)
{
    eq_run r;
    eq_run_scenario(&r, EQ_WITHHOLD, "enet", BOUND, NULL, NULL, 8000);
    eq_expect(&r, BOUND, EQ_SLACK_ENET);
}
