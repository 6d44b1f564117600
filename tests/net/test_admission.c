/*
 * Admission over tcp://: sockets that connect and never say hello hold a
 * server slot only until handshake_timeout_ms; then the server closes them
 * and a legitimate client gets in.
 */
#include "net_test.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define ADM_IDLE 16

static int idle_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0, "connect: %s", strerror(errno));
    return fd;
}

/* True once the server has ended fd: EOF or a reset after any reject bytes. */
static bool idle_closed(int fd)
{
    struct pollfd pf = { .fd = fd, .events = POLLIN };
    if (poll(&pf, 1, 0) <= 0) return false;
    char buf[512];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0) return true;
        if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
    }
}

typedef struct {
    int fds[ADM_IDLE];
    bool closed[ADM_IDLE];
} idle_set;

static bool all_idle_closed(void *arg)
{
    idle_set *s = arg;
    bool all = true;
    for (int i = 0; i < ADM_IDLE; i++) {
        if (!s->closed[i]) s->closed[i] = idle_closed(s->fds[i]);
        all = all && s->closed[i];
    }
    return all;
}

static void use_tcp(void) { test_scheme = "tcp://"; }

Test(admission, idle_sockets_end_on_the_handshake_timeout_and_free_their_slots,
     .init = use_tcp, .timeout = 60)
{
    hive_bus *sbus = hive_bus_create(NULL);
    recorder *sr = calloc(1, sizeof *sr);
    rec_attach(sr, sbus);
    hive_server *srv = test_server(sbus, &(hive_server_config){
        .max_connections = ADM_IDLE, .handshake_timeout_ms = 500 }, NULL);

    idle_set set = { 0 };
    for (int i = 0; i < ADM_IDLE; i++) set.fds[i] = idle_connect(hive_server_port(srv));

    /* Every idle socket is ended by the server on its own, within a bounded wait. */
    cr_assert(pump(srv, NULL, 10000, all_idle_closed, &set), "idle sockets still open");
    int timeouts = 0;
    for (int i = 0; i < sr->n; i++)
        if (sr->ev[i].reason_name[0] && strcmp(sr->ev[i].reason_name, "handshake_timeout") == 0)
            timeouts++;
    cr_expect_eq(timeouts, ADM_IDLE, "closed on handshake_timeout: %d of %d", timeouts, ADM_IDLE);

    /* Their slots are free: a full house of real clients fits again. */
    char addr[64];
    test_addr(srv, addr, sizeof addr);
    hive_bus *cbus = hive_bus_create(NULL);
    hive_client *cli = hive_client_create(NULL, cbus);
    cr_assert_not_null(cli);
    cr_assert_eq(hive_client_connect(cli, addr), 0);
    cr_expect(pump_both_open(srv, cli, 5000), "the legitimate client did not get in");

    hive_client_destroy(cli);
    hive_bus_destroy(cbus);
    for (int i = 0; i < ADM_IDLE; i++) close(set.fds[i]);
    hive_server_destroy(srv);
    hive_bus_destroy(sbus);
    free(sr);
}
