/*
 * net/client/client_internal.h - hive_client's insides, shared by
 * client.c (life cycle), client_conn.c (the client's face of the endpoint
 * core: hello, the welcome and its registry swap) and client_api.c
 * (sending, waiting, queries).
 */
#ifndef HIVE_NET_CLIENT_INTERNAL_H
#define HIVE_NET_CLIENT_INTERNAL_H

#include "hive/net.h"
#include "net/core/conn.h"
#include "net/core/ep.h"
#include "net/core/limits.h"

#include <string.h>

struct hive_client {
    hive__ep ep;                     /* first: the endpoint core; its one
                                        connection is ep.conns (NULL when idle) */
    hive_client_config cfg;          /* defaults applied; strings below */
    char *conntype;                  /* (app, app_version: kept by ep) */
    void *token;
    char addr[HIVE__ADDR_MAX];

    int state;                       /* hive_client_state (__atomic) */
    uint32_t cid;                    /* (__atomic) */
    uint32_t peer_max;               /* server's max_frame from the welcome (__atomic) */
    bool zstd;                       /* the session's welcome agreed to compression (I/O thread) */
    bool pieces;                     /* ... and to pieces (I/O thread) */
    int close_reason;                /* (__atomic), -1 before a close */
    bool stop_owed;                  /* connect happened; client.stop not yet out */
    /* Reconnecting (I/O thread; RECONNECTING in hive/net.h). */
    uint32_t attempt;                /* attempts since the link was lost; 0: none */
    uint32_t last_delay;             /* the last backoff step (before jitter), ms */
    uint32_t old_cid;                /* the lost session's cid */
    uint64_t rng;                    /* jitter */
    /* The lost session, kept between links for a resume (I/O thread). */
    struct {
        bool valid;
        uint32_t cid;
        uint8_t token[HIVE__RESUME_TOKEN];
        hive__replay rp;             /* counts and unacknowledged frames */
        hive__xfer xf;               /* transfers under way, both ways */
        uint32_t resumes;
    } sess;
    bool invalidated_sent;           /* session.invalidated is out for this loss */
    bool redirected;                 /* the kept session goes to a new server (HANDOFF) */
    int late_redirects;              /* resumes refused with a redirect since the last open */
    int keeps;                       /* sess.valid, for other threads (__atomic):
                                        sends between links are kept */
    struct hive__cli_remote *rm;     /* remote subscriptions (client_remote.c), or NULL */
    hive_event_id rm_ev_pkt, rm_ev_open;   /* threaded: their packets and session opens, posted */
};

typedef struct hive__cli_remote clirm;
/* client_remote.c: a session opened on k (fresh: a new one, else a
 * resume) - send the requests it lacks; a remote packet; free it all. */
void hive__cli_remote_open(hive_client *c, hive__conn *k, bool fresh);
void hive__cli_remote(hive__ep *ep, hive__conn *k, uint32_t pid, const msgpack_object *o);
void hive__cli_remote_free(hive_client *c);
/* Threaded: subscribe the game thread's side (first subscription). */
int  hive__cli_remote_threaded(hive_client *c);

/* Marks the kept session valid or not (the flag other threads read). */
static inline void hive__cli_sess_valid(hive_client *c, bool v)
{
    c->sess.valid = v;
    __atomic_store_n(&c->keeps, v, __ATOMIC_RELEASE);
}

/* Drops a kept session (its replay buffer too). */
static inline void hive__cli_sess_drop(hive_client *c)
{
    hive__replay_free(&c->sess.rp);
    hive__xfer_free(&c->sess.xf);
    memset(&c->sess, 0, sizeof c->sess);
    __atomic_store_n(&c->keeps, 0, __ATOMIC_RELEASE);
}

/* A reliable user frame sent while the session has no open link (between
 * reconnect attempts, or while its resume is under way): counted and kept
 * in the session's replay buffer, so the resume sends it (RESUME in
 * hive/net.h). Unreliable frames are dropped (HIVE_OK), as a lossy link
 * would. HIVE_OK, HIVE_ESTATE (no session kept), HIVE_ETOOBIG (over the
 * server's max_frame), HIVE_EFULL (the buffer is full: not kept, the
 * session stays whole), HIVE_ENOMEM. I/O thread. */
int hive__cli_keep_send(hive_client *c, uint32_t pid, const void *body, size_t len, int dlv);

/* client_conn.c: the client's face of the endpoint core. */
extern const hive__ep_face hive__client_face;

/* client.c: face->setup and ->teardown, and the rest. */
int  hive__cli_setup(hive__ep *ep, const void *cfg);
void hive__cli_teardown(hive__ep *ep);
void hive__cli_set_state(hive_client *c, hive_client_state st);
void hive__cli_do_stop(hive_client *c);
/* Dial c->addr on the current transport (connect and reconnects). */
int  hive__cli_dial(hive_client *c);
/* client_conn.c: a close event for the session when no connection is
 * left to publish one (between reconnect attempts). */
void hive__cli_emit_close(hive_client *c, int reason, const char *message, bool remote);
/* client.stop, once per connect: {reason, reason_name}. */
void hive__cli_emit_stop(hive_client *c);

#endif /* HIVE_NET_CLIENT_INTERNAL_H */
