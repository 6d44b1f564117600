/*
 * lg_proto_hive.c - the loadgen's players speaking Hive's protocol 1 over
 * their ENet peers, with Hive's own codec (net/frame.h, net/handshake.h,
 * hive/msg.h): hello -> welcome -> ready, pings answered with pongs,
 * frames cut from datagrams exactly as hive_client does, close frame
 * before the disconnect. Reliable frames on channel 0, unreliable on 1.
 *
 * Unlike hive_client, a player does not coalesce: each frame is its own
 * ENet packet (a player sends one input per tick anyway).
 */
#include "tools/loadgen/lg_internal.h"
#include "tools/loadgen/lg_load_wire.h"

#include "hive/msg.h"
#include "hive/net.h"
#include "net/core/conn.h"
#include "net/wire/frame.h"
#include "net/wire/handshake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LG_MAX_FRAME 65536u

typedef struct hstate {
    hive_msg msg;            /* reused body buffer */
    hive__decoder dec;       /* reused decode zone */
    uint32_t pid_snapshot, pid_input;   /* from the first welcome */
    bool input_reliable;
    bool have_table;
} hstate;

static int hv_init(lg *g)
{
    hstate *s = calloc(1, sizeof *s);
    if (!s) return -1;
    hive_msg_init(&s->msg);
    g->pstate = s;
    return 0;
}

static void hv_fini(lg *g)
{
    hstate *s = g->pstate;
    if (!s) return;
    hive_msg_free(&s->msg);
    hive__decoder_free(&s->dec);
    free(s);
    g->pstate = NULL;
}

/* Frame the body in s->msg with pid and queue it. */
static int send_frame(lg *g, lg_client *c, uint32_t pid, bool reliable)
{
    hstate *s = g->pstate;
    uint8_t head[HIVE__FRAME_HEADER_MAX];
    size_t blen = hive_msg_size(&s->msg);
    size_t hlen = hive__frame_header(head, pid, 0, blen);
    if (!hlen) return -1;
    return lg__send2(g, c, head, hlen, hive_msg_data(&s->msg), blen, reliable);
}

static int hv_on_connect(lg *g, lg_client *c)
{
    hstate *s = g->pstate;
    hive_msg_reset(&s->msg);
    if (hive__hello_pack(&s->msg, g->cfg.app, "0", "player", NULL, 0, LG_MAX_FRAME, false, false, false) != 0) return -1;
    return send_frame(g, c, HIVE__PID_HELLO, true);
}

/* The welcome's table must name both load packets; every player checks
 * that it got the same ids as the first. */
static int on_welcome(lg *g, lg_client *c, const msgpack_object *o)
{
    hstate *s = g->pstate;
    hive__welcome_msg w;
    memset(&w, 0, sizeof w);
    if (hive__welcome_parse(o, &w) != 0) return -1;
    int snap = hive_registry_id(w.registry, LG_PKT_SNAPSHOT);
    int in = hive_registry_id(w.registry, LG_PKT_INPUT);
    bool in_rel = in > 0 && hive_registry_delivery(w.registry, (uint32_t)in) == HIVE_RELIABLE;
    hive_registry_destroy(w.registry);
    if (snap <= 0 || in <= 0) {
        fprintf(stderr, "loadgen: the server's table lacks %s/%s (not a load server?)\n",
                LG_PKT_SNAPSHOT, LG_PKT_INPUT);
        return -1;
    }
    if (!s->have_table) {
        s->pid_snapshot = (uint32_t)snap;
        s->pid_input = (uint32_t)in;
        s->input_reliable = in_rel;
        s->have_table = true;
    } else if (s->pid_snapshot != (uint32_t)snap || s->pid_input != (uint32_t)in) {
        return -1;
    }
    hive_msg_reset(&s->msg);
    if (hive__ready_pack(&s->msg) != 0 || send_frame(g, c, HIVE__PID_READY, true) != 0) return -1;
    lg__ready(g, c);
    return 0;
}

static int on_frame(lg *g, lg_client *c, const hive__frame *f)
{
    hstate *s = g->pstate;
    if (s->have_table && f->pid == s->pid_snapshot) {
        /* The hot path: no msgpack-c decode, only the structure check a
         * hive_client does and a read of the bin's first bytes. */
        if (f->body_len < LG_SNAPSHOT_MIN || f->body[0] != 0xc4 || hive__msgpack_scan(f->body, f->body_len) != 0)
            return -1;
        uint64_t t;
        memcpy(&t, f->body + 2 + 4, 8);
        lg__snapshot(g, c, t);
        return 0;
    }
    const msgpack_object *o;
    if (hive__decode(&s->dec, f->body, f->body_len, &o) != 0) return -1;
    switch (f->pid) {
    case HIVE__PID_WELCOME:
        if (c->state != LG_HANDSHAKE) return -1;
        return on_welcome(g, c, o);
    case HIVE__PID_REJECT:
        lg__reject(g, c);
        return 0;
    case HIVE__PID_PING:
        /* Heartbeat from the server: echo the body in a pong. */
        hive_msg_reset(&s->msg);
        if (hive_msg_raw(&s->msg, f->body, f->body_len) != 0) return -1;
        return send_frame(g, c, HIVE__PID_PONG, true);
    case HIVE__PID_PONG:
        if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER) return -1;
        lg__pong(g, c, o->via.u64);
        return 0;
    case HIVE__PID_CLOSE: {
        /* The server's side of a close; ENet's disconnect follows. */
        hive__close_msg cm;
        if (hive__close_parse(o, &cm) == 0) c->close_reason = cm.reason;
        lg__other(g, c);
        return 0;
    }
    default:
        lg__other(g, c);
        return 0;
    }
}

static int hv_on_packet(lg *g, lg_client *c, const uint8_t *d, size_t n)
{
    /* A datagram holds whole frames only (coalesced); a frame cut short is
     * a bad_frame, as for hive_client. */
    while (n > 0) {
        hive__frame f;
        int rc = hive__frame_decode(d, n, LG_MAX_FRAME, &f);
        if (rc != 1) return -1;
        if (on_frame(g, c, &f) != 0) return -1;
        if (c->state == LG_DONE) return 0;
        d += f.size;
        n -= f.size;
    }
    return 0;
}

static int hv_send_input(lg *g, lg_client *c)
{
    hstate *s = g->pstate;
    uint32_t seq = c->seq++;
    hive_msg_reset(&s->msg);
    hive_msg_map(&s->msg, 5);
    hive_msg_kv_uint(&s->msg, "seq", seq);
    hive_msg_kv_double(&s->msg, "x", (double)(seq % 640));
    hive_msg_kv_double(&s->msg, "y", (double)(seq % 480));
    hive_msg_kv_double(&s->msg, "aim", (double)(seq % 360));
    if (hive_msg_kv_uint(&s->msg, "b", seq & 3) != 0) return -1;
    return send_frame(g, c, s->pid_input, s->input_reliable);
}

static int hv_send_ping(lg *g, lg_client *c, uint64_t now_ns)
{
    hstate *s = g->pstate;
    hive_msg_reset(&s->msg);
    /* A ping body may be the clock alone (docs/PROTOCOL.md): the pong
     * echoes it, and lg__pong reads it back as one integer. */
    if (hive_msg_uint(&s->msg, now_ns) != 0) return -1;
    return send_frame(g, c, HIVE__PID_PING, true);
}

static int hv_send_close(lg *g, lg_client *c)
{
    hstate *s = g->pstate;
    hive_msg_reset(&s->msg);
    if (hive__close_pack(&s->msg, HIVE_CLOSE_NORMAL, "", -1, NULL) != 0) return -1;
    return send_frame(g, c, HIVE__PID_CLOSE, true);
}

const lg_proto lg__proto_hive = {
    .name = "hive",
    .init = hv_init,
    .fini = hv_fini,
    .on_connect = hv_on_connect,
    .on_packet = hv_on_packet,
    .send_input = hv_send_input,
    .send_ping = hv_send_ping,
    .send_close = hv_send_close,
    .client_free = NULL,
};
