/*
 * net/conn.h - one connection's protocol state machine, without I/O.
 *
 * The core (server.c, client.c) owns the sockets, the bus and the
 * decisions (auth, server full). This file only says what a frame or the
 * passing of time MEANS for a connection in a given state:
 *
 *     bytes --hive__conn_next_frame--> frame --hive__conn_on_frame--> action
 *     clock --hive__conn_tick--> action
 *
 * and the caller carries the action out (send a pong, publish a recv
 * event, close with a reason...) and applies the state change. Because
 * nothing here touches a socket, the handshake fuzz target and the tests
 * drive it directly.
 *
 * States (server side):  AWAIT_HELLO -> AWAIT_READY -> OPEN -> CLOSING
 *                        OPEN -link lost-> SUSPENDED -resume-> OPEN (or
 *                        -resume window over-> closed, "timeout");
 *                        AWAIT_READY -link lost-> SUSPENDED too (the
 *                        client holds the welcome's token and believes
 *                        itself open): a resume then stands in for ready
 * States (client side):  DIALING -> AWAIT_WELCOME -> OPEN -> CLOSING
 */
#ifndef HIVE_NET_CONN_H
#define HIVE_NET_CONN_H

#include "hive/net.h"
#include "net/wire/frame.h"
#include "net/wire/handshake.h"
#include "net/core/ptable.h"
#include "net/core/replay.h"
#include "net/core/transfer.h"
#include "net/wire/piece.h"
#include "net/transport/transport.h"

typedef enum hive__cstate {
    HIVE__C_DIALING = 0,    /* client: transport connecting */
    HIVE__C_AWAIT_HELLO,    /* server: link up, waiting for hello */
    HIVE__C_AWAIT_READY,    /* server: welcome sent */
    HIVE__C_AWAIT_WELCOME,  /* client: hello sent */
    HIVE__C_OPEN,           /* handshake complete */
    HIVE__C_CLOSING,        /* close decided; waiting for the transport */
    HIVE__C_SUSPENDED       /* server: link lost, session kept for a resume */
} hive__cstate;

/* Times in milliseconds. */
typedef struct hive__timing {
    uint32_t connect_ms;            /* DIALING limit (client) */
    uint32_t handshake_ms;          /* AWAIT_* limit */
    uint32_t heartbeat_ms;          /* ping after this much sending silence */
    uint32_t heartbeat_timeout_ms;  /* close after this much receiving silence */
    uint32_t linger_ms;             /* CLOSING limit before the link is dropped */
    uint32_t frame_ms;              /* a started frame must complete in this */
    uint32_t resume_ms;             /* SUSPENDED limit (server) */
} hive__timing;

typedef struct hive__conn {
    hive__link *link;          /* NULL once the transport has let go */
    hive_cid cid;
    bool server_side;
    uint8_t state;             /* hive__cstate; owned by the I/O thread */
    int open_pub;              /* state == OPEN, for other threads (__atomic) */
    int susp_pub;              /* state == SUSPENDED (of an opened session), likewise */
    bool opened;               /* has been OPEN: the handshake completed */
    bool close_published;      /* the close event went out */
    int close_reason;
    uint64_t t_state;          /* when the current state began */
    uint64_t last_rx, last_tx;
    uint64_t close_deadline;
    uint32_t peer_max_frame;   /* largest frame the peer accepts */
    /* server: what this session's client was told at its welcome and keeps
     * for good (a resume does not change them), even across handoffs: the
     * largest frame it may send, the heartbeat and its timeout */
    uint32_t told_max_frame, told_hb_ms, told_hbt_ms;
    hive__rxbuf rx;            /* stream transports only */
    uint64_t partial_since;    /* ms the unfinished frame in rx began, 0: none */
    int64_t rl_frames, rl_bytes; /* receive limit buckets, in 1/1000 frame / byte */
    uint64_t rl_t;             /* ms of their last refill, 0: not started */
    /* A graceful close waiting for the peer to confirm every counted
     * frame (hive__ep_close_gently): it happens when rp.acked reaches
     * rp.sent, or at drain_until (ms), whichever is first. 0: none. */
    uint64_t drain_until;
    int drain_reason;
    char *drain_msg;           /* the close's message (owned), or NULL */
    bool sendq_warned;         /* backpressure published; re-armed under the low mark */
    uint64_t sendq_high_since; /* ms the send queue has been over the high mark since, 0: not */
    /* server side */
    char *addr;
    char *conntype;
    char *app_version;
    void *user;
    bool admitted;             /* counted against max_connections */
    /* Numbers for hive_conn_stats: written on the I/O thread with
     * __atomic relaxed stores, read from any thread under ep->lock (which
     * keeps c alive: it leaves the face's index under the lock). */
    uint64_t st_frames_in, st_frames_out, st_bytes_in, st_bytes_out;
    uint64_t st_sendq;         /* transport's queue at the last timer round */
    uint32_t st_srtt_us, st_rttvar_us, st_rtt_n;
    uint64_t t_made;           /* when the link was made (ms) */
    uint64_t last_stats;       /* when the stats event last went out (ms) */
    uint64_t last_ping;        /* when Hive last sent a ping (ms) */
    uint32_t resumes;          /* resumes of this session (__atomic) */
    /* Protocol 2 (docs/PROTOCOL.md, "Resume"). */
    hive__replay rp;           /* counted frames, acks, the replay buffer */
    bool has_token;            /* a resume token was given in the welcome */
    uint8_t token[HIVE__RESUME_TOKEN];   /* the last one handed out */
    /* Server: the token the client last proved it holds, still accepted
     * while the resumed that replaced it may not have reached the client
     * (server_conn.c on_resume); retired, and zeroed, by the client's
     * first frame after that resumed. */
    bool prev_live;
    uint8_t prev_token[HIVE__RESUME_TOKEN];
    bool wants_resume;         /* server: the hello said the client resumes */
    /* Lanes (net/transport/transport.h LANES): what the link carries
     * (1 without), and the session counts that many from its hello or
     * welcome on (rp's lanes). */
    uint8_t lanes;
    bool stream;                 /* its link is a byte stream (tcp, tls, ws, wss) */
    /* Server, after a resume: the lanes past 0 keep their frames until
     * the client's first frame on the new link shows it read resumed
     * (a frame on another lane could overtake it and find the client
     * not open yet). */
    bool lanes_held;
    /* Server: a counted frame on a lane past 0 arrived before the ready
     * it follows (lanes are independent): it stood in for the ready, and
     * the ready itself is ignored when it comes. */
    bool ready_implied;
    /* Remote subscriptions (net/server/server_remote.c, which keeps the
     * subscriptions themselves by cid): the remote events dropped for
     * this connection and how many of those it was told of. I/O thread. */
    int no_bcast;              /* left out of broadcasts (hive_server_set_broadcast; __atomic) */
    bool rsubscribed;          /* it has sent a remote subscription packet */
    uint64_t rdropped, rdropped_told;
    bool zstd;                 /* both sides agreed to compressed frames (COMPRESSION) */
    bool pieces;               /* both sides agreed to pieces (LARGE MESSAGES) */
    hive__xfer xf;             /* transfers out and in (net/core/transfer.h) */
    char *subject;             /* server: the peer certificate's subject at the handshake */
    /* HANDOFF (hive/net.h). Server: `moving` between handoff_begin and its
     * redirect or cancel: the peer's frames are neither delivered nor
     * counted, counted sends are refused. `adopted`: the session came in
     * a ticket and its client has not arrived yet (then from_cid, and the
     * game's data for the handedoff event). Client: the redirect a peer's
     * close carried (redirect_to non-NULL). I/O thread. */
    bool moving, adopted;
    uint32_t from_cid;
    uint8_t *handoff_data;
    size_t handoff_len;
    char *redirect_to;
    uint32_t redirect_cid;
    uint8_t redirect_token[16];
    /* Loss of the peer's unreliable frames (hive_conn_stats.loss), from
     * the counts the pings carry. I/O thread; st_loss_* read anywhere. */
    uint64_t unrel_out, unrel_in;          /* unreliable frames sent / received */
    uint64_t loss_sent0, loss_got0;        /* both counts at the last ping */
    bool loss_seen;
    uint32_t st_loss_ppm, st_loss_n;       /* smoothed (gain 1/8), samples */
    /* Server side, before the hello is accepted: the handshake table
     * (net/core/admit.h, hive/net.h ADMISSION). I/O thread. */
    bool hs_in;                /* in the table */
    uint8_t hs_key[16];        /* source address key */
    struct hive__conn *hs_prev, *hs_next;   /* oldest first */
    struct hive__conn *next, *prev;
} hive__conn;

/* Decodes bodies into one reusable msgpack zone: no allocation per
 * message once the zone has grown. Objects live until the next decode. */
typedef struct hive__decoder {
    msgpack_zone *zone;
    msgpack_object obj;
} hive__decoder;

/* hive__decode - the one msgpack object of body[0..len). First the
 * allocation-free structure scan (so hostile element counts cost
 * nothing), then the tree (net/mpdecode.h: what msgpack-c would build).
 * Returns 0 and *out, HIVE_EMSGPACK, HIVE_ENOMEM. */
int  hive__decode(hive__decoder *d, const uint8_t *body, size_t len, const msgpack_object **out);
void hive__decoder_free(hive__decoder *d);

typedef enum hive__act_kind {
    HIVE__ACT_NONE = 0,    /* nothing to do (pong, dropped early unreliable) */
    HIVE__ACT_DELIVER,     /* a user packet: pe, obj (NULL when not decoded) */
    HIVE__ACT_PING,        /* answer with a pong echoing the frame's body */
    HIVE__ACT_HELLO,       /* server: u.hello parsed; welcome or reject it */
    HIVE__ACT_READY,       /* server: the handshake is complete -> OPEN */
    HIVE__ACT_WELCOME,     /* client: u.welcome parsed (owns a registry) -> OPEN */
    HIVE__ACT_REJECTED,    /* client: the server refused: reason, u.close */
    HIVE__ACT_PEER_CLOSE,  /* the peer closes: reason, u.close */
    HIVE__ACT_CLOSE,       /* the peer broke the protocol: close with reason */
    HIVE__ACT_ACK,         /* the peer received n counted frames */
    HIVE__ACT_RESUME,      /* server: u.resume parsed (reason: 0 or why to reject) */
    HIVE__ACT_RESUMED,     /* client: u.resumed parsed */
    HIVE__ACT_PIECE,       /* a piece of a transfer: u.piece (checked by the endpoint) */
    HIVE__ACT_REMOTE,      /* a remote subscription packet for the face: obj */
    HIVE__ACT_MISSHAPEN    /* a user packet that does not fit its declared shape:
                              pe; reason: 0 (drop) or bad_shape; why in u.close.message */
} hive__act_kind;

typedef struct hive__act {
    hive__act_kind kind;
    int reason;
    const hive__pentry *pe;
    const msgpack_object *obj;
    union {
        hive__hello_msg hello;
        hive__welcome_msg welcome;
        hive__close_msg close;
        hive__resume_msg resume;
        hive__resumed_msg resumed;
        hive__piece piece;
    } u;
    uint64_t n;            /* ACK: lane 0's count */
    hive__lanecounts lanes;   /* ACK: lanes 1.. (n == 0: lane 0 alone) */
} hive__act;

/*
 * hive__conn_next_frame - the next frame of received bytes.
 * Datagram transports (stream false): frames are cut from (*p, *n) directly
 * and a frame that does not end inside the datagram is "bad_frame".
 * Stream transports: the bytes are appended to c->rx first.
 * Returns 1 (frame in *f; *p and *n advanced), 0 (nothing more), or -1 with
 * *reason set (frame_too_large, bad_frame, no_memory).
 */
int hive__conn_next_frame(hive__conn *c, bool stream, const uint8_t **p, size_t *n,
                          uint32_t max_frame, hive__frame *f, int *reason);

/*
 * hive__conn_on_frame - what a frame means for c in its current state.
 * pt: the side's packet table (NULL = empty); dec: scratch decoder;
 * decode_user: decode user bodies (else they are only checked);
 * channel: the transport channel it came on (unreliable user packets that
 * overtake the handshake are dropped, not punished).
 * Fills *act; never changes c.
 */
void hive__conn_on_frame(const hive__conn *c, const hive__frame *f, int channel,
                         const hive__ptable *pt, hive__decoder *dec, bool decode_user,
                         hive__act *act);

typedef enum hive__tick_kind {
    HIVE__TICK_NONE = 0,
    HIVE__TICK_PING,       /* send a ping */
    HIVE__TICK_CLOSE,      /* close with *reason (timeouts) */
    HIVE__TICK_ABORT       /* CLOSING took too long: drop the link */
} hive__tick_kind;

/* hive__conn_tick - what the passing of time means for c at `now`. */
hive__tick_kind hive__conn_tick(const hive__conn *c, uint64_t now, const hive__timing *t, int *reason);

/* hive__now_ms - the monotonic clock in milliseconds. */
static inline uint64_t hive__now_ms(void) { return hive_now_ns() / 1000000u; }

#endif /* HIVE_NET_CONN_H */
