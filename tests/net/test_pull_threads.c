/* Closing wakes every thread waiting in the pull API (threaded mode). */
#include "net_test.h"

#include <pthread.h>

typedef struct waiter {
    hive_client *c;
    hive_server *s;
    int rc;
} waiter;

static void *client_waiter(void *arg)
{
    waiter *w = arg;
    w->rc = hive_client_wait(w->c, -1);
    return NULL;
}

static void *server_waiter(void *arg)
{
    waiter *w = arg;
    w->rc = hive_server_wait(w->s, -1);
    return NULL;
}

Test(threads, client_close_wakes_every_waiter, .timeout = 30)
{
    hive_bus *sbus = hive_bus_create(NULL), *cbus = hive_bus_create(NULL);
    hive_server *s = test_server(sbus, &(hive_server_config){ .threaded = true }, NULL);
    hive_client *c = hive_client_create(&(hive_client_config){ .threaded = true, .pull = true }, cbus);
    char addr[64];
    test_addr(s, addr, sizeof addr);
    cr_assert_eq(hive_client_connect(c, addr), 0);
    cr_assert_eq(hive_client_wait_connected(c, 3000), 0);

    waiter w[3];
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        w[i] = (waiter){ .c = c, .rc = 99 };
        cr_assert_eq(pthread_create(&t[i], NULL, client_waiter, &w[i]), 0);
    }
    usleep(50000);
    cr_assert_eq(hive_client_close(c, HIVE_CLOSE_NORMAL, NULL), 0);
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        cr_expect_eq(w[i].rc, HIVE_ECLOSED);
    }
    cr_expect_eq(hive_client_wait_closed(c, 3000), 0);
    hive_client_destroy(c);
    hive_server_destroy(s);
    hive_bus_destroy(sbus);
    hive_bus_destroy(cbus);
}

Test(threads, server_stop_wakes_every_waiter, .timeout = 30)
{
    hive_bus *sbus = hive_bus_create(NULL);
    hive_server *s = test_server(sbus, &(hive_server_config){ .threaded = true, .pull = true }, NULL);
    waiter w[2];
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        w[i] = (waiter){ .s = s, .rc = 99 };
        cr_assert_eq(pthread_create(&t[i], NULL, server_waiter, &w[i]), 0);
    }
    usleep(50000);
    cr_assert_eq(hive_server_stop(s), 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        cr_expect_eq(w[i].rc, HIVE_ECLOSED);
    }
    hive_server_destroy(s);
    hive_bus_dispatch(sbus, 0);
    hive_bus_destroy(sbus);
}
