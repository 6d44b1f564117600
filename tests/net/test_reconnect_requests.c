/* A send or close another thread asked for is meant for the connection of
 * that moment: after a stop and a new connect it must not reach the new
 * connection. */
#include <criterion/criterion.h>
#include <pthread.h>
#include "net_test.h"

static void *close_from_other_thread(void *cli)
{
    /* Not the I/O thread: queued for the I/O loop. */
    return (void *)(intptr_t)hive_client_close(cli, HIVE_CLOSE_NORMAL, "bye from a worker");
}

Test(reconnect, a_queued_close_does_not_reach_the_next_connection, .timeout = 20)
{
    fixture fx;
    fx_init(&fx, NULL, NULL, true);
    pthread_t t;
    void *rc;
    cr_assert_eq(pthread_create(&t, NULL, close_from_other_thread, fx.cli), 0);
    pthread_join(t, &rc);
    cr_assert_eq((intptr_t)rc, HIVE_OK, "queued");
    /* The game stops before the I/O loop ran the request, then dials again. */
    cr_assert_eq(hive_client_stop(fx.cli), HIVE_OK);
    cr_assert_eq(hive_client_connect(fx.cli, fx.addr), HIVE_OK);
    cr_assert(pump_both_open(fx.srv, fx.cli, 3000), "the new connection opened");
    pump(fx.srv, fx.cli, 200, NULL, NULL);
    cr_expect_eq(hive_client_get_state(fx.cli), HIVE_CLIENT_OPEN, "the old request did not close it");
    fx_roundtrip(&fx, "still here");
    fx_fini(&fx);
}
