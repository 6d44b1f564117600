/*
 * net/client_internal.h - hive_client's insides, shared by client.c (life
 * cycle), client_conn.c (the connection and the I/O round) and
 * client_api.c (sending, waiting, queries).
 */
#ifndef HIVE_NET_CLIENT_INTERNAL_H
#define HIVE_NET_CLIENT_INTERNAL_H

#include "hive/net.h"
#include "net/conn.h"
#include "net/ep.h"
#include "net/limits.h"

struct hive_client {
    hive__ep ep;
    hive_client_config cfg;          /* defaults applied; strings below */
    char *app, *app_version, *conntype;
    void *token;
    hive__timing tm;                 /* the welcome replaces the heartbeat pair */
    struct {
        hive_event_id initialize, connect, start, stop, interrupt;
        hive_event_id handshake, send, recv, close;
    } ev;

    hive__conn *conn;                /* the connection (I/O thread), NULL when idle */
    hive__ptable *pt;                /* the server's table; swapped under ep.lock */
    bool any_pe_wanted;
    char addr[HIVE__ADDR_MAX];

    int state;                       /* hive_client_state (__atomic) */
    uint32_t cid;                    /* (__atomic) */
    uint32_t peer_max;               /* server's max_frame from the welcome (__atomic) */
    int close_reason;                /* (__atomic), -1 before a close */
    int in_service;
    bool stop_pending;
    bool stop_owed;                  /* connect happened; client.stop not yet out */
    bool thread_on;
    int thread_quit;                 /* (__atomic) */
    pthread_t thread;
    uint64_t last_tick;
};

/* client_conn.c */
void hive__cli_transport_cb(hive_client *c, hive__transport_cb *cb);
void hive__cli_conn_state(hive__conn *k, hive__cstate st, uint64_t now);
void hive__cli_refresh_wants(hive_client *c);
void hive__cli_close_and_linger(hive_client *c);
int  hive__cli_round(hive_client *c, int wait_ms);
void hive__cli_close(hive_client *c, int reason, const char *message, bool remote, bool send_frame,
                     bool abort_now);
int  hive__cli_send_user(hive_client *c, const hive__pentry *pe, const void *body, size_t len,
                         bool reliable);

/* client.c */
void hive__cli_set_state(hive_client *c, hive_client_state st);
void hive__cli_do_stop(hive_client *c);

#endif /* HIVE_NET_CLIENT_INTERNAL_H */
