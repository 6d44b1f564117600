/*
 * transfer.c - large messages in pieces: the transfer queue a connection
 * feeds its transport from, and the reassembly of what a peer sends
 * (net/core/transfer.h, docs/PROTOCOL.md "Large messages").
 */
#include "events/internal.h"
#include "net/core/ep.h"

#include <stdio.h>
#include <string.h>

void hive__xfer_free(hive__xfer *x)
{
    while (x->out) {
        hive__xout *n = x->out->next;
        hive__free(x->out);
        x->out = n;
    }
    while (x->in) {
        hive__xin *n = x->in->next;
        hive__free(x->in->buf);
        hive__free(x->in);
        x->in = n;
    }
    memset(x, 0, sizeof *x);
}

bool hive__ep_xfer_wanted(const hive__conn *c, size_t len)
{
    return c->pieces && len > HIVE__PIECE_BYTES;
}

/* The progress event (voidable: built only when someone listens). */
static void progress(hive__ep *ep, hive__conn *c, uint32_t tid, uint32_t pid, bool out, size_t done, size_t total)
{
    hive_event_id id = ep->ev[HIVE__EV_TRANSFER];
    if (!hive_bus_wants(ep->bus, id)) return;
    const hive__pentry *pe = hive__ptable_find(ep->pt, pid);
    hive_field f[] = {
        HIVE_PTR(ep->self_key, ep->self),
        HIVE_INT("cid", c->cid),
        HIVE_INT("pid", pid),
        HIVE_STR("name", pe ? pe->name : ""),
        HIVE_INT("tid", tid),
        HIVE_STR("direction", out ? "out" : "in"),
        HIVE_INT("done", (int64_t)done),
        HIVE_INT("total", (int64_t)total),
    };
    hive__ep_emit(ep, id, f, 8);
}

int hive__xfer_push(hive__xfer *x, size_t max, uint32_t pid, const void *body, size_t len, size_t raw,
                    uint8_t flags)
{
    if (len > UINT32_MAX || x->out_bytes + len > max) return HIVE_EFULL;
    hive__xout *o = hive__malloc(sizeof *o + len);
    if (!o) return HIVE_ENOMEM;
    o->next = NULL;
    if (++x->next_tid == 0) x->next_tid = 1;   /* 0 is never a tid */
    o->tid = x->next_tid;
    o->pid = pid;
    o->flags = flags;
    o->total = (uint32_t)len;
    o->raw = (uint32_t)raw;
    o->off = 0;
    memcpy(o->data, body, len);
    if (x->out_tail) x->out_tail->next = o;
    else x->out = o;
    x->out_tail = o;
    x->out_bytes += len;
    return HIVE_OK;
}

int hive__ep_xfer_send(hive__ep *ep, hive__conn *c, uint32_t pid, const void *body, size_t len, size_t raw,
                       uint8_t flags)
{
    int rc = hive__xfer_push(&c->xf, ep->xfer_max, pid, body, len, raw, flags);
    if (rc == HIVE_OK) hive__ep_xfer_feed(ep, c);
    return rc;
}

void hive__ep_xfer_feed(hive__ep *ep, hive__conn *c)
{
    hive__xfer *x = &c->xf;
    /* No link (suspended): the rest waits for the resume. */
    if (!x->out || !c->link || c->state != HIVE__C_OPEN) return;
    size_t low = c->stream ? HIVE__XFER_LOW_STREAM : HIVE__XFER_LOW_DATAGRAM;
    uint32_t slice = HIVE__PIECE_BYTES;
    /* A peer with a small max_frame gets smaller slices. */
    if (c->peer_max_frame < slice + 64) slice = c->peer_max_frame - 64;
    for (int i = 0; i < HIVE__XFER_PIECES_PER_ROUND && x->out; i++) {
        if (ep->tr->vt->queued && hive__ep_sendq(ep, c) >= low) break;
        /* What is not acknowledged is kept for a resume: never make the
         * replay buffer drop a piece (which would end the session's
         * chance of a resume); acks within 50 ms make room again. */
        if (c->rp.max && !ep->no_seq && c->rp.bytes + slice + 64 > c->rp.max / 2) break;
        hive__xout *o = x->out;
        uint32_t n = o->total - o->off < slice ? o->total - o->off : slice;
        hive__piece p = { o->tid, o->pid, o->total, o->off, o->flags, NULL, n };
        uint8_t hdr[HIVE__PIECE_HEADER_MAX];
        size_t hn = hive__piece_header(hdr, &p);
        const void *parts[2] = { hdr, o->data + o->off };
        size_t lens[2] = { hn, n };
        int rc = hive__ep_send_frame_v(ep, c, HIVE__PID_PIECE, parts, lens, 2, true, 0);
        if (rc == HIVE_EFULL) break;   /* the queue said no: next round */
        if (rc < 0) {
            hive__ep_close(ep, c, rc == HIVE_ENOMEM ? HIVE_CLOSE_NO_MEMORY : HIVE_CLOSE_SLOW_CONSUMER,
                           "a piece could not be sent", false, HIVE__CLOSE_FRAME, false);
            return;
        }
        o->off += n;
        x->out_bytes -= n;
        progress(ep, c, o->tid, o->pid, true, o->off, o->total);
        if (o->off == o->total) {
            x->out = o->next;
            if (!x->out) x->out_tail = NULL;
            hive__free(o);
        }
        /* Push it into the socket now, so the queue measures what the
         * network has not taken yet. */
        if (c->stream) ep->tr->vt->flush(ep->tr);
    }
}

static void bad(hive__ep *ep, hive__conn *c, const char *why)
{
    HIVE__STAT_ADD(ep, transfers_refused, 1);
    hive__ep_close(ep, c, HIVE_CLOSE_BAD_TRANSFER, why, false, HIVE__CLOSE_FRAME, false);
}

static void unlink_in(hive__xfer *x, hive__xin *t)
{
    for (hive__xin **pp = &x->in; *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    x->n_in--;
    x->in_bytes -= t->got;
}

void hive__ep_xfer_piece(hive__ep *ep, hive__conn *c, const hive__piece *p)
{
    hive__xfer *x = &c->xf;
    char msg[128];
    if (p->flags & ~HIVE__PIECE_FLAGS_KNOWN) { bad(ep, c, "a piece with unknown flags"); return; }
    if ((p->flags & HIVE__PIECE_FLAG_COMPRESSED) && !c->zstd)
        { bad(ep, c, "a compressed transfer the handshake did not agree to"); return; }
    if (!p->tid) { bad(ep, c, "a piece of transfer 0"); return; }
    if (!p->len) { bad(ep, c, "an empty piece"); return; }
    if (p->pid < HIVE_PID_USER_MIN) { bad(ep, c, "a transfer of a Hive packet"); return; }
    if (p->total > ep->max_frame) {
        snprintf(msg, sizeof msg, "a transfer of %u bytes, over max_frame (%u)", p->total, ep->max_frame);
        { bad(ep, c, msg); return; }
    }
    if ((uint64_t)p->offset + p->len > p->total) { bad(ep, c, "a piece past its transfer's total"); return; }
    hive__xin *t = x->in;
    while (t && t->tid != p->tid) t = t->next;
    if (!t) {
        if (p->offset != 0) { bad(ep, c, "a piece of a transfer that never began (out of order)"); return; }
        if (x->n_in >= ep->xfer_n) {
            snprintf(msg, sizeof msg, "more than %u transfers at once", ep->xfer_n);
            { bad(ep, c, msg); return; }
        }
        t = hive__calloc(1, sizeof *t);
        if (!t) { hive__ep_close(ep, c, HIVE_CLOSE_NO_MEMORY, NULL, false, HIVE__CLOSE_FRAME, false); return; }
        t->tid = p->tid;
        t->pid = p->pid;
        t->flags = (uint8_t)p->flags;
        t->total = p->total;
        t->next = x->in;
        x->in = t;
        x->n_in++;
    } else {
        if (p->pid != t->pid || p->total != t->total || p->flags != t->flags)
            { bad(ep, c, "a piece whose pid, total or flags differ from its transfer's"); return; }
        if (p->offset != t->got)
            { bad(ep, c, p->offset < t->got ? "a piece that overlaps what arrived (duplicate)"
                                                 : "a piece out of order (a gap before it)"); return; }
    }
    if (x->in_bytes + p->len > ep->xfer_recv_max) {
        snprintf(msg, sizeof msg, "transfers holding more than transfer_recv_bytes (%zu)", ep->xfer_recv_max);
        { bad(ep, c, msg); return; }
    }
    /* The buffer grows with what arrived (doubling, up to the total):
     * a declared total costs nothing until its bytes come. */
    if (t->got + p->len > t->cap) {
        uint64_t cap = t->cap ? (uint64_t)t->cap * 2 : HIVE__PIECE_BYTES;
        if (cap < (uint64_t)t->got + p->len) cap = (uint64_t)t->got + p->len;
        if (cap > t->total) cap = t->total;
        uint8_t *nb = hive__realloc(t->buf, (size_t)cap);
        if (!nb) { hive__ep_close(ep, c, HIVE_CLOSE_NO_MEMORY, NULL, false, HIVE__CLOSE_FRAME, false); return; }
        t->buf = nb;
        t->cap = (uint32_t)cap;
    }
    memcpy(t->buf + t->got, p->data, p->len);
    t->got += p->len;
    x->in_bytes += p->len;
    progress(ep, c, t->tid, t->pid, false, t->got, t->total);
    if (t->got < t->total) return;
    unlink_in(x, t);
    HIVE__STAT_ADD(ep, transfers_in, 1);
    hive__ep_deliver_whole(ep, c, t->pid, (t->flags & HIVE__PIECE_FLAG_COMPRESSED) ? HIVE__FLAG_COMPRESSED : 0,
                           t->buf, t->total);
    hive__free(t->buf);
    hive__free(t);
}
