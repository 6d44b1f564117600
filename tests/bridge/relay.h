/*
 * relay.h - a TCP relay on loopback that the test opens and shuts: while
 * shut, connections to it are refused (nothing listens); while open, each
 * one is joined to the target port. Lets a test decide when one NATS
 * client may reach a restarted server.
 */
#ifndef HIVE_TESTS_RELAY_H
#define HIVE_TESTS_RELAY_H

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include "nats_proc.h"

#define RELAY_PAIRS 8

typedef struct relay {
    int port, target;
    atomic_bool open, stop;
    pthread_t th;
} relay;

static inline int relay_listen(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 8) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static inline int relay_dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void *relay_main(void *arg)
{
    relay *r = arg;
    int lfd = -1, pair[RELAY_PAIRS][2];
    for (int i = 0; i < RELAY_PAIRS; i++) pair[i][0] = pair[i][1] = -1;
    char buf[16384];
    while (!atomic_load(&r->stop)) {
        bool want = atomic_load(&r->open);
        if (want && lfd < 0) lfd = relay_listen(r->port);
        if (!want && lfd >= 0) {
            close(lfd);
            lfd = -1;
        }
        struct pollfd pf[1 + 2 * RELAY_PAIRS];
        int n = 0;
        pf[n++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
        for (int i = 0; i < RELAY_PAIRS; i++)
            for (int k = 0; k < 2; k++) pf[n++] = (struct pollfd){ .fd = pair[i][k], .events = POLLIN };
        poll(pf, (nfds_t)n, 10);
        if (lfd >= 0 && (pf[0].revents & POLLIN)) {
            int c = accept(lfd, NULL, NULL), t = c >= 0 ? relay_dial(r->target) : -1;
            int slot = -1;
            for (int i = 0; i < RELAY_PAIRS && slot < 0; i++)
                if (pair[i][0] < 0) slot = i;
            if (c >= 0 && t >= 0 && slot >= 0) {
                pair[slot][0] = c;
                pair[slot][1] = t;
            } else {
                if (c >= 0) close(c);
                if (t >= 0) close(t);
            }
        }
        for (int i = 0; i < RELAY_PAIRS; i++) {
            for (int k = 0; k < 2; k++) {
                struct pollfd *p = &pf[1 + 2 * i + k];
                if (pair[i][k] < 0 || !(p->revents & (POLLIN | POLLHUP | POLLERR))) continue;
                ssize_t got = read(pair[i][k], buf, sizeof buf);
                if (got <= 0 || write(pair[i][1 - k], buf, (size_t)got) != got) {
                    close(pair[i][0]);
                    close(pair[i][1]);
                    pair[i][0] = pair[i][1] = -1;
                    break;
                }
            }
        }
    }
    if (lfd >= 0) close(lfd);
    for (int i = 0; i < RELAY_PAIRS; i++)
        for (int k = 0; k < 2; k++)
            if (pair[i][k] >= 0) close(pair[i][k]);
    return NULL;
}

static inline void relay_start(relay *r, int target)
{
    r->port = np_free_port();
    r->target = target;
    atomic_store(&r->open, true);
    atomic_store(&r->stop, false);
    pthread_create(&r->th, NULL, relay_main, r);
}

static inline void relay_stop(relay *r)
{
    atomic_store(&r->stop, true);
    pthread_join(r->th, NULL);
}

#endif
