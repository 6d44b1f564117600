/*
 * nats_proc.h - a real nats-server for the bridge tests: started on
 * loopback on free ports, stopped by pid. A cluster is n servers joined
 * by routes on loopback.
 */
#ifndef HIVE_TESTS_NATS_PROC_H
#define HIVE_TESTS_NATS_PROC_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NATS_BIN "nats-server"

typedef struct nats_proc {
    pid_t pid;
    int port, cluster_port;
    const char *extra[8];   /* more nats-server arguments (NULL-ended) */
} nats_proc;

static inline int np_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t l = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(fd, (struct sockaddr *)&a, &l) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

static inline bool np_listening(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0) close(fd);
    return ok;
}

static inline void np_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Start (or restart, on the same ports) p. routes: "" or a comma list of
 * nats-route://127.0.0.1:PORT. Returns true once it accepts. */
static inline bool np_start(nats_proc *p, const char *routes)
{
    if (!p->port) p->port = np_free_port();
    char port[16], cl[64];
    snprintf(port, sizeof port, "%d", p->port);
    snprintf(cl, sizeof cl, "nats://127.0.0.1:%d", p->cluster_port);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) {
        /* a test that fails (or a bench that is killed) before it stops
         * its server does not leave it running: it dies with its parent */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        int devnull = open("/dev/null", 1);
        if (devnull >= 0) {
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        char *argv[32];
        int n = 0;
        argv[n++] = NATS_BIN;
        argv[n++] = "-a";
        argv[n++] = "127.0.0.1";
        argv[n++] = "-p";
        argv[n++] = port;
        if (p->cluster_port) {
            argv[n++] = "--cluster_name";
            argv[n++] = "hive-test";
            argv[n++] = "--cluster";
            argv[n++] = cl;
            if (routes && *routes) {
                argv[n++] = "--routes";
                argv[n++] = (char *)routes;
            }
        }
        for (int i = 0; i < 8 && p->extra[i]; i++) argv[n++] = (char *)p->extra[i];
        argv[n] = NULL;
        execvp(NATS_BIN, argv);
        _exit(127);
    }
    p->pid = pid;
    for (int i = 0; i < 500; i++) {
        if (np_listening(p->port)) return true;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            p->pid = 0;
            return false;
        }
        np_sleep_ms(10);
    }
    return false;
}

/* Stop p: SIGTERM (or SIGKILL when hard), then wait for it. */
static inline void np_stop(nats_proc *p, bool hard)
{
    if (p->pid <= 0) return;
    kill(p->pid, hard ? SIGKILL : SIGTERM);
    for (int i = 0; i < 300; i++) {
        int st;
        if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
            p->pid = 0;
            return;
        }
        np_sleep_ms(10);
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, NULL, 0);
    p->pid = 0;
}

static inline void np_url(const nats_proc *p, char *out, size_t n)
{
    snprintf(out, n, "nats://127.0.0.1:%d", p->port);
}

/* n servers joined in one cluster (each routes to all the others). */
static inline bool np_cluster(nats_proc *p, int n)
{
    for (int i = 0; i < n; i++) {
        p[i].port = np_free_port();
        p[i].cluster_port = np_free_port();
    }
    for (int i = 0; i < n; i++) {
        char routes[512] = "";
        for (int j = 0; j < n; j++) {
            if (j == i) continue;
            size_t l = strlen(routes);
            snprintf(routes + l, sizeof routes - l, "%snats-route://127.0.0.1:%d", l ? "," : "", p[j].cluster_port);
        }
        if (!np_start(&p[i], routes)) return false;
    }
    return true;
}

#endif
