/*
 * net/server/server_internal.h - hive_server's insides, shared by
 * server.c (life cycle), server_conn.c (the server's face of the endpoint
 * core: accepting, admission, hello and ready) and server_api.c (sending
 * and queries).
 */
#ifndef HIVE_NET_SERVER_INTERNAL_H
#define HIVE_NET_SERVER_INTERNAL_H

#include "hive/net.h"
#include "net/core/cidmap.h"
#include "net/core/conn.h"
#include "net/core/ep.h"
#include "net/core/limits.h"

enum { HIVE__S_CREATED = 0, HIVE__S_BOUND, HIVE__S_RUNNING, HIVE__S_SHUT };

struct hive_server {
    hive__ep ep;                    /* first: the endpoint core */
    hive_server_config cfg;         /* defaults applied; strings below */
    char *addr;                     /* (app, app_version: kept by ep) */
    hive_registry *reg;

    /* Connections are on ep.conns; the map finds them by cid. It changes
     * only on the I/O thread and under ep.lock. */
    hive__cidmap map;
    size_t nadmitted;               /* past hello, not closing (I/O thread) */
    hive_cid next_cid;

    int st;                         /* HIVE__S_* (__atomic) */
    uint16_t port;                  /* (__atomic) */
    char bound[HIVE__ADDR_MAX * HIVE__MUX_MAX];   /* every listener, comma-separated */
    uint16_t ports[HIVE__MUX_MAX];  /* each listener's bound port (after bind) */
    int nports;
    bool started_once;
    uint64_t session_seed;
    struct hive__srv_remote *rm;    /* remote subscriptions (server_remote.c), or NULL */
    /* Sessions this server moved away (HANDOFF), for as long as the
     * target keeps them: a client that lost its link before it read the
     * redirect comes back here to resume, and is told again where its
     * session went. At most max_connections, oldest reused first; I/O
     * thread only. */
    struct hive__moved *moved;
    size_t nmoved, moved_cap;
    hive_event_id rm_ev_req, rm_ev_gone;   /* threaded: their requests to the game thread */
};

typedef struct hive__moved {
    hive_cid cid;
    uint8_t token[HIVE__RESUME_TOKEN], prev_token[HIVE__RESUME_TOKEN];
    bool prev_live;
    char *subject;                  /* its client certificate's subject, or NULL */
    uint64_t until;                 /* ep.now (ms) after which it is forgotten */
    char *to;
    hive_cid to_cid;
    uint8_t to_token[HIVE__RESUME_TOKEN];
} hive__moved;

/* A 64-bit mixer (splitmix64's finaliser): session ids from a seed. */
static inline uint64_t hive__mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* server_conn.c: the server's face of the endpoint core. */
extern const hive__ep_face hive__server_face;

/* server.c: face->setup and ->teardown. */
int  hive__srv_setup(hive__ep *ep, const void *cfg);
void hive__srv_teardown(hive__ep *ep);

/* server_remote.c: a remote subscription packet; a connection's
 * subscriptions dropped; everything freed (teardown). */
void hive__srv_remote(hive__ep *ep, hive__conn *c, uint32_t pid, const msgpack_object *o);
void hive__srv_remote_drop(hive__ep *ep, hive__conn *c);
void hive__srv_remote_send(hive__ep *ep, const uint8_t *data, size_t len, uint32_t ncids, bool unreliable);
/* At start (threaded): the game thread's side of requests. */
int  hive__srv_remote_start(hive_server *s);
void hive__srv_remote_free(hive_server *s);

/* server.c: stop now (closes every connection, publishes server.stop). */
void hive__srv_do_stop(hive_server *s);

#endif /* HIVE_NET_SERVER_INTERNAL_H */
