/* hive_server_run / service end on interrupt (from a handler or a signal)
 * and on stop from a handler; the interrupt event is published. */
#include "net_test.h"

#include <signal.h>

static void interrupt_on_accept(const hive_event *ev, void *user)
{
    hive_server_interrupt(hive_event_ptr(ev, "server"));
}

static void stop_on_handshake(const hive_event *ev, void *user)
{
    cr_expect_eq(hive_server_stop(hive_event_ptr(ev, "server")), 0);
}

typedef struct dial { hive_client *c; } dial;

Test(interrupt, run_returns_after_interrupt_from_a_handler, .timeout = 30)
{
    hive_bus *sbus = hive_bus_create(NULL), *cbus = hive_bus_create(NULL);
    recorder *r = calloc(1, sizeof *r);
    rec_attach(r, sbus);
    hive_bus_subscribe(sbus, HIVE_EV_SERVER_ACCEPT, interrupt_on_accept, NULL, NULL);
    hive_server *s = test_server(sbus, NULL, NULL);
    /* The client runs on its own thread: ENet needs both sides serviced
     * before the server sees the connection. */
    hive_client *c = hive_client_create(&(hive_client_config){ .threaded = true }, cbus);
    char addr[64];
    test_addr(s, addr, sizeof addr);
    cr_assert_eq(hive_client_connect(c, addr), 0);
    cr_expect_eq(hive_server_run(s), HIVE_OK);
    cr_expect_eq(rec_count(r, HIVE_EV_SERVER_INTERRUPT), 1);
    /* Still running: service works again after an interrupt. */
    cr_expect(pump(s, NULL, 3000, client_open, c));
    hive_client_destroy(c);
    hive_server_destroy(s);
    hive_bus_destroy(sbus);
    hive_bus_destroy(cbus);
    free(r);
}

Test(interrupt, run_returns_after_stop_from_a_handler, .timeout = 30)
{
    hive_bus *sbus = hive_bus_create(NULL), *cbus = hive_bus_create(NULL);
    recorder *r = calloc(1, sizeof *r);
    rec_attach(r, sbus);
    hive_bus_subscribe(sbus, HIVE_EV_SERVER_HANDSHAKE, stop_on_handshake, NULL, NULL);
    hive_server *s = test_server(sbus, NULL, NULL);
    hive_client *c = hive_client_create(&(hive_client_config){ .threaded = true }, cbus);
    char addr[64];
    test_addr(s, addr, sizeof addr);
    cr_assert_eq(hive_client_connect(c, addr), 0);
    cr_expect_eq(hive_server_run(s), HIVE_OK);
    cr_expect_eq(rec_count(r, HIVE_EV_SERVER_STOP), 1);
    cr_expect_eq(rec_count(r, HIVE_EV_SERVER_CLOSE), 1);
    cr_expect_eq(hive_server_service(s, 0), HIVE_ESTATE);
    hive_client_destroy(c);
    hive_server_destroy(s);
    hive_bus_dispatch(cbus, 0);
    hive_bus_destroy(sbus);
    hive_bus_destroy(cbus);
    free(r);
}

static hive_server *g_srv;
static void on_sigusr1(int sig) { (void)sig; hive_server_interrupt(g_srv); }

Test(interrupt, from_a_signal_handler, .timeout = 30)
{
    hive_bus *sbus = hive_bus_create(NULL);
    recorder *r = calloc(1, sizeof *r);
    rec_attach(r, sbus);
    g_srv = test_server(sbus, NULL, NULL);
    struct sigaction sa = { .sa_handler = on_sigusr1 };
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGUSR1, &sa, NULL), 0);
    raise(SIGUSR1);
    uint64_t t0 = hive_now_ns();
    cr_expect_eq(hive_server_service(g_srv, 5000), HIVE_ECLOSED);
    cr_expect_lt((double)(hive_now_ns() - t0) / 1e6, 1000.0);
    cr_expect_eq(rec_count(r, HIVE_EV_SERVER_INTERRUPT), 1);
    signal(SIGUSR1, SIG_DFL);
    hive_server_destroy(g_srv);
    hive_bus_destroy(sbus);
    free(r);
}

static void stop_server_on_close(const hive_event *ev, void *user)
{
    cr_expect_eq(hive_server_stop(hive_event_ptr(ev, "server")), 0);
}

static void stop_client_on_close(const hive_event *ev, void *user)
{
    cr_expect_eq(hive_client_stop(hive_event_ptr(ev, "client")), 0);
}

/* A handler may stop its server or client even when the event came from
 * a plain API call (not from service): the stop waits for that call. */
Test(interrupt, stop_from_a_close_handler_during_an_api_call, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, NULL, NULL, true);
    hive_bus_subscribe(fx.sbus, HIVE_EV_SERVER_CLOSE, stop_server_on_close, NULL, NULL);
    hive_bus_subscribe(fx.cbus, HIVE_EV_CLIENT_CLOSE, stop_client_on_close, NULL, NULL);
    cr_assert_eq(hive_server_close(fx.srv, hive_client_cid(fx.cli), HIVE_CLOSE_KICKED, NULL), 0);
    cr_expect_eq(rec_count(fx.sr, HIVE_EV_SERVER_STOP), 1);
    cr_expect_eq(hive_server_service(fx.srv, 0), HIVE_ESTATE);

    fixture fy;
    fx_init(&fy, NULL, NULL, true);
    hive_bus_subscribe(fy.cbus, HIVE_EV_CLIENT_CLOSE, stop_client_on_close, NULL, NULL);
    cr_assert_eq(hive_client_close(fy.cli, HIVE_CLOSE_NORMAL, NULL), 0);
    cr_expect_eq(hive_client_get_state(fy.cli), HIVE_CLIENT_IDLE);
    cr_expect_eq(rec_count(fy.cr, HIVE_EV_CLIENT_STOP), 1);
    fx_fini(&fy);
    fx_fini(&fx);
}
