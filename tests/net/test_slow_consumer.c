/*
 * A raw TCP peer that completes the handshake, then sends pings as fast
 * as it can and never reads: what the server queues for it stays
 * bounded, it is closed with slow_consumer once its queue stays full, and
 * a good client keeps playing meanwhile.
 */
#include <criterion/criterion.h>
#include "tests/support/slow_consumer.h"

#define BOUND (256u * 1024u)

Test(slow_consumer, tcp_ping_flood_that_never_reads_stays_bounded, .timeout = 60)
{
    sc_run r;
    sc_run_flood(&r, "tcp", BOUND, NULL, NULL, 4000);
    sc_expect(&r, BOUND);
}

/* The same over ws://: the peer's pings come in WebSocket frames, the
 * pongs queue behind its unread socket like any byte. */
Test(slow_consumer, ws_ping_flood_that_never_reads_stays_bounded, .timeout = 60)
{
    sc_run r;
    sc_run_flood(&r, "ws", BOUND, NULL, NULL, 4000);
    sc_expect(&r, BOUND);
}
