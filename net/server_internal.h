/*
 * net/server_internal.h - hive_server's insides, shared by server.c (life
 * cycle), server_conn.c (connections and the I/O round) and server_api.c
 * (sending and queries).
 */
#ifndef HIVE_NET_SERVER_INTERNAL_H
#define HIVE_NET_SERVER_INTERNAL_H

#include "hive/net.h"
#include "net/cidmap.h"
#include "net/conn.h"
#include "net/ep.h"
#include "net/limits.h"

enum { HIVE__S_CREATED = 0, HIVE__S_BOUND, HIVE__S_RUNNING, HIVE__S_SHUT };

struct hive_server {
    hive__ep ep;
    hive_server_config cfg;         /* defaults applied; strings below */
    char *addr, *app, *app_version;
    hive__timing tm;
    hive_registry *reg;
    hive__ptable *pt;               /* built at the first start */
    struct {
        hive_event_id initialize, bind, start, stop, interrupt, shutdown;
        hive_event_id accept, handshake, send, recv, close;
    } ev;

    /* Connections: the list and map change only on the I/O thread and
     * under ep.lock; the I/O thread reads them without the lock. */
    hive__conn *conns;
    size_t nconns;
    hive__cidmap map;
    size_t nadmitted;               /* past hello, not closing (I/O thread) */
    hive_cid next_cid;

    int st;                         /* HIVE__S_* (__atomic) */
    uint16_t port;                  /* (__atomic) */
    char bound[HIVE__ADDR_MAX];
    bool started_once;
    bool stopping;                  /* closing everything: refuse new links */
    bool any_pe_ids, any_pe_wanted;
    int in_service;
    bool stop_pending;
    bool thread_on;
    int thread_quit;                /* (__atomic) */
    pthread_t thread;
    uint64_t last_tick;
    uint64_t session_seed;
};

/* A 64-bit mixer (splitmix64's finaliser): session ids from a seed. */
static inline uint64_t hive__mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* server_conn.c */
void hive__srv_transport_cb(hive_server *s, hive__transport_cb *cb);
void hive__srv_close_conn(hive_server *s, hive__conn *c, int reason, const char *message,
                          bool remote, int how, bool abort_now);
int  hive__srv_round(hive_server *s, int wait_ms);
void hive__srv_close_all(hive_server *s, int reason);
int  hive__srv_send_user(hive_server *s, hive__conn *c, const hive__pentry *pe,
                         const void *body, size_t len, bool reliable);
int  hive__srv_bcast_user(hive_server *s, const hive__pentry *pe, const void *body,
                          size_t len, hive_cid except, bool reliable);

/* server.c */
void hive__srv_refresh_wants(hive_server *s);
void hive__srv_do_stop(hive_server *s);

#define HIVE__CLOSE_FRAME 1   /* hive__srv_close_conn `how`: send a close packet */

#endif /* HIVE_NET_SERVER_INTERNAL_H */
