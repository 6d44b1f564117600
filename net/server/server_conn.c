/*
 * server_conn.c - the server's face of the endpoint core: what only a
 * server does with its connections. It numbers and indexes each accepted
 * link, admits or rejects a hello (app, capacity, the auth hook), sends
 * the welcome with the registry it owns, and completes the handshake on
 * ready. Everything both sides do is in net/core/endpoint.c.
 */
#include "events/internal.h"
#include "net/server/server_internal.h"

#include <string.h>
#include <sys/random.h>

static hive_server *srv(hive__ep *ep) { return (hive_server *)ep->self; }

/* ep->lock held. */
static int srv_accepted(hive__ep *ep, hive__conn *c)
{
    hive_server *s = srv(ep);
    c->cid = s->next_cid++;
    return hive__cidmap_put(&s->map, c->cid, c);
}

/* ep->lock held. */
static void srv_forget(hive__ep *ep, hive__conn *c)
{
    hive_server *s = srv(ep);
    hive__cidmap_del(&s->map, c->cid);
    if (c->admitted) s->nadmitted--;
    c->admitted = false;
}

/* A lost link (the network, not a decision) of a session with a resume
 * token keeps the session for resume_window_ms (hive/net.h RESUME). That
 * includes one whose ready has not arrived: the client had the welcome,
 * holds the token and, open on its side, will ask for a resume, not say
 * hello again. Such a session was never open to the application, so it is
 * kept quietly (no suspended event) and its resume completes the
 * handshake (on_resume). */
static int srv_closing(hive__ep *ep, hive__conn *c, int reason, int prev)
{
    hive_server *s = srv(ep);
    if ((prev == HIVE__C_OPEN || prev == HIVE__C_AWAIT_READY) && c->has_token && !ep->stopping &&
        !hive__ep_draining(c) && s->ep.tm.resume_ms &&
        (reason == HIVE_CLOSE_PEER_VANISHED || reason == HIVE_CLOSE_TIMEOUT) && hive__replay_whole(&c->rp)) {
        if (prev == HIVE__C_OPEN) {
            hive_field f[] = { HIVE_PTR("server", s), HIVE_INT("cid", c->cid), HIVE_INT("reason", reason),
                               HIVE_STR("reason_name", hive_close_reason_name(reason)),
                               HIVE_INT("window_ms", s->ep.tm.resume_ms) };
            hive__ep_emit(ep, ep->ev[HIVE__EV_SUSPENDED], f, 5);
        }
        return HIVE__CARRY_KEEP;   /* its max_connections slot stays taken */
    }
    if (c->admitted) {
        c->admitted = false;
        s->nadmitted--;
    }
    return HIVE__CARRY_NO;
}

/* 128 bits from the kernel's CSPRNG. false when there are none to be had
 * (then no resume is offered). */
static bool new_token(uint8_t *t)
{
    size_t got = 0;
    while (got < HIVE__RESUME_TOKEN) {
        ssize_t n = getrandom(t + got, HIVE__RESUME_TOKEN - got, 0);
        if (n <= 0) return false;
        got += (size_t)n;
    }
    return true;
}

/* Constant time: how long it takes says nothing of where they differ. */
static bool token_eq(const uint8_t *a, const uint8_t *b)
{
    unsigned d = 0;
    for (int i = 0; i < HIVE__RESUME_TOKEN; i++) d |= (unsigned)(a[i] ^ b[i]);
    return d == 0;
}

static void reject(hive_server *s, hive__conn *c, int reason, const char *message)
{
    hive__ep_close(&s->ep, c, reason, message, false, HIVE__REJECT_FRAME, false);
}

/* The peer certificate's subject of c's link, or NULL. */
static const char *link_subject(hive_server *s, hive__conn *c)
{
    hive__transport *tr = s->ep.tr;
    return c->link && tr->vt->peer_subject ? tr->vt->peer_subject(tr, c->link) : NULL;
}

/* A hello arrived: welcome or reject it. */
static void on_hello(hive_server *s, hive__conn *c, hive__act *act)
{
    const hive__hello_msg *h = &act->u.hello;
    int reason = act->reason;
    if (!reason && strcmp(h->app, s->cfg.app) != 0) reason = HIVE_CLOSE_APP_MISMATCH;
    if (!reason && s->nadmitted >= s->cfg.max_connections) reason = HIVE_CLOSE_SERVER_FULL;
    if (!reason && s->cfg.auth) {
        hive_hello hh = {
            .addr = c->addr, .app = h->app, .app_version = h->app_version,
            .conntype = h->conntype, .token = h->token, .token_len = h->token_len,
        };
        int r = s->cfg.auth(s, c->cid, &hh, s->cfg.auth_user);
        if (r != 0) reason = (r > 0 && r <= HIVE_CLOSE_MAX) ? r : HIVE_CLOSE_AUTH_FAILED;
    }
    if (reason) {
        HIVE__STAT_ADD(&s->ep, rejected, 1);
        reject(s, c, reason, hive_close_reason_text(reason));
        return;
    }
    char *ct = hive__strdup(h->conntype), *av = hive__strdup(h->app_version);
    if (!ct || !av) {
        hive__free(ct);
        hive__free(av);
        reject(s, c, HIVE_CLOSE_NO_MEMORY, NULL);
        return;
    }
    pthread_mutex_lock(&s->ep.lock);
    c->conntype = ct;
    c->app_version = av;
    c->peer_max_frame = h->max_frame;
    pthread_mutex_unlock(&s->ep.lock);
    /* A resume is offered when both sides want one. */
    c->wants_resume = h->resume;
    if (s->ep.tm.resume_ms && h->resume && new_token(c->token)) {
        c->has_token = true;
        c->rp.max = s->cfg.resume_buffer_bytes;
        /* TLS transports: a resume must come with the same certificate
         * (NULL: none). Noted now, as the link that had it may be gone
         * before the ready arrives. */
        const char *subject = link_subject(s, c);
        if (subject && !(c->subject = hive__strdup(subject))) c->has_token = false;
    }
    /* Compression when the client offers it and it is not off here. */
    c->zstd = h->zstd && s->ep.zmin;
    /* Pieces likewise (LARGE MESSAGES): for the whole session. */
    c->pieces = h->pieces && !s->ep.no_pieces;
    /* The session counts each lane its link has, for good (a resume
     * needs a link with as many). */
    if (hive__replay_lanes(&c->rp, c->lanes) < 0) {
        reject(s, c, HIVE_CLOSE_NO_MEMORY, NULL);
        return;
    }

    hive_msg m;
    hive_msg_init(&m);
    int rc = hive__welcome_pack(&m, c->cid, hive__mix64(s->session_seed ^ c->cid), s->ep.tm.heartbeat_ms,
                                s->ep.tm.heartbeat_timeout_ms, s->cfg.max_frame, s->cfg.app_version, s->reg,
                                c->has_token ? c->token : NULL, c->zstd, c->pieces, c->lanes > 1);
    if (rc == 0) rc = hive__ep_send_msg(&s->ep, c, HIVE__PID_WELCOME, &m);
    hive_msg_free(&m);
    if (rc != 0) {
        reject(s, c, rc == HIVE_ETOOBIG ? HIVE_CLOSE_FRAME_TOO_LARGE : HIVE_CLOSE_NO_MEMORY, NULL);
        return;
    }
    c->told_max_frame = s->cfg.max_frame;
    c->told_hb_ms = s->ep.tm.heartbeat_ms;
    c->told_hbt_ms = s->ep.tm.heartbeat_timeout_ms;
    c->admitted = true;
    s->nadmitted++;
    hive__ep_conn_state(c, HIVE__C_AWAIT_READY, s->ep.now);
}

/* The handshake is complete: handshakecomplete, with the verified client
 * certificate's subject on TLS transports. */
static void emit_handshake(hive_server *s, hive__conn *c, const char *subject)
{
    hive_field fl[] = {
        HIVE_PTR("server", s),
        HIVE_INT("cid", c->cid),
        HIVE_STR("conntype", c->conntype),
        HIVE_STR("app_version", c->app_version),
        HIVE_STR("peer_subject", subject ? subject : ""),
    };
    hive__ep_emit(&s->ep, s->ep.ev[HIVE__EV_HANDSHAKE], fl, subject ? 5 : 4);
}

/* ready: the handshake is complete. */
static void on_ready(hive_server *s, hive__conn *c)
{
    hive__ep_conn_state(c, HIVE__C_OPEN, s->ep.now);
    emit_handshake(s, c, link_subject(s, c));
}

/* ---- sessions moved away (HANDOFF) ------------------------------------ */

/* Remember that the session of c went to `to` as to_cid/to_token, for as
 * long as the target keeps it. The oldest record goes first when there
 * are max_connections of them. */
static void moved_add(hive_server *s, const hive__conn *c, const char *to, hive_cid to_cid,
                      const uint8_t *to_token)
{
    hive__ep *ep = &s->ep;
    char *copy = hive__strdup(to), *subj = c->subject ? hive__strdup(c->subject) : NULL;
    if (!copy || (c->subject && !subj)) {
        /* then that client, should its redirect be lost, starts afresh */
        hive__free(copy);
        hive__free(subj);
        return;
    }
    /* this session's older record, else an expired one, else a new one,
     * else (max_connections of them) the oldest */
    size_t w = SIZE_MAX, expired = SIZE_MAX, oldest = 0;
    for (size_t i = 0; i < s->nmoved; i++) {
        if (s->moved[i].cid == c->cid) {
            w = i;
            break;
        }
        if (expired == SIZE_MAX && s->moved[i].until <= ep->now) expired = i;
        if (s->moved[i].until < s->moved[oldest].until) oldest = i;
    }
    if (w == SIZE_MAX) w = expired;
    if (w == SIZE_MAX) {
        if (s->nmoved == s->moved_cap && s->moved_cap < s->cfg.max_connections) {
            size_t cap = s->moved_cap ? s->moved_cap * 2 : 16;
            if (cap > s->cfg.max_connections) cap = s->cfg.max_connections;
            hive__moved *m = hive__realloc(s->moved, cap * sizeof *m);
            if (m) {
                s->moved = m;
                s->moved_cap = cap;
            }
        }
        if (s->nmoved < s->moved_cap) {
            w = s->nmoved++;
            s->moved[w].to = s->moved[w].subject = NULL;
        } else if (s->nmoved) {
            w = oldest;
        } else {
            hive__free(copy);
            hive__free(subj);
            return;
        }
    }
    hive__moved *m = &s->moved[w];
    hive__free(m->to);
    hive__free(m->subject);
    m->cid = c->cid;
    memcpy(m->token, c->token, sizeof m->token);
    memcpy(m->prev_token, c->prev_token, sizeof m->prev_token);
    m->prev_live = c->prev_live;
    m->subject = subj;
    m->until = ep->now + ep->tm.resume_ms;
    m->to = copy;
    m->to_cid = to_cid;
    memcpy(m->to_token, to_token, sizeof m->to_token);
}

/* A resume of a session that was moved: refused with the redirect again
 * (the reject carries where the session went), and true. */
static bool resume_moved(hive_server *s, hive__conn *p, hive_cid cid, const uint8_t *token)
{
    hive__ep *ep = &s->ep;
    for (size_t i = 0; i < s->nmoved; i++) {
        hive__moved *m = &s->moved[i];
        if (m->cid != cid || m->until <= ep->now) continue;
        bool cur = token_eq(m->token, token), prev = token_eq(m->prev_token, token) && m->prev_live;
        if (!cur && !prev) continue;
        /* the same certificate as the session's, as for any resume */
        const char *now = link_subject(s, p);
        if ((m->subject || now) && !(m->subject && now && strcmp(m->subject, now) == 0)) return false;
        char *to = hive__strdup(m->to);
        if (!to) return false;
        hive__free(p->redirect_to);
        p->redirect_to = to;
        p->redirect_cid = m->to_cid;
        memcpy(p->redirect_token, m->to_token, HIVE__RESUME_TOKEN);
        HIVE__STAT_ADD(ep, resumes_refused, 1);
        reject(s, p, HIVE_CLOSE_REDIRECT, "the session moved to another server");
        return true;
    }
    return false;
}

/*
 * A resume arrived on the new link of placeholder p: give the session it
 * names its link back (hive/net.h RESUME, docs/PROTOCOL.md "Resume").
 * Every refusal says session_invalid with one message for unknown cid and
 * wrong token alike, so the answer tells a guesser nothing.
 */
static void on_resume(hive_server *s, hive__conn *p, hive__act *act)
{
    hive__ep *ep = &s->ep;
    const hive__resume_msg *r = &act->u.resume;
    if (act->reason) {
        HIVE__STAT_ADD(ep, rejected, 1);
        reject(s, p, act->reason, hive_close_reason_text(act->reason));
        return;
    }
    if (strcmp(r->app, s->cfg.app) != 0) {
        HIVE__STAT_ADD(ep, rejected, 1);
        reject(s, p, HIVE_CLOSE_APP_MISMATCH, hive_close_reason_text(HIVE_CLOSE_APP_MISMATCH));
        return;
    }
    hive__conn *old = hive__cidmap_get(&s->map, r->cid);
    /*
     * Which tokens open the session. The newest one (old->token), and,
     * while prev_live, the one before it: a resumed hands out a new token,
     * and a link lost before that resumed arrives leaves the client with
     * only the token it had just shown. Refusing that one would end, on
     * a bad network, every session whose resume was cut short.
     *
     * Why it is safe: the previous token is accepted only until the client
     * proves it holds the newer one, and it proves that with its first
     * frame on the resumed link (it sends nothing there before reading
     * resumed; endpoint.c retires prev_token then) or by resuming with
     * the newer token (below). A stolen token is therefore no more use
     * than before once the client has moved on: at most two tokens are
     * ever live, both 128 bits from getrandom, both compared in constant
     * time (both compared always, so the time does not say which matched),
     * and a resume with the previous one hands back the same newer token,
     * never a third, so nothing is gained by replaying it. Once the
     * client has shown the newer token, the one before it is dead for
     * good.
     */
    bool cur = false, prev = false;
    if (old && old->has_token) {
        cur = token_eq(old->token, r->token);
        prev = token_eq(old->prev_token, r->token) && old->prev_live;
    }
    /* A session still waiting for its ready can be resumed too: only the
     * welcome carried its token, so the client had it (srv_closing). */
    bool ok = old && old != p && (cur || prev) &&
              (old->state == HIVE__C_OPEN || old->state == HIVE__C_SUSPENDED || old->state == HIVE__C_AWAIT_READY);
    if (!ok && (!old || old->state == HIVE__C_CLOSING) && resume_moved(s, p, r->cid, r->token)) return;
    if (!ok) {
        HIVE__STAT_ADD(ep, resumes_refused, 1);
        reject(s, p, HIVE_CLOSE_SESSION_INVALID, "no such session, or the token does not match");
        return;
    }
    const char *was = old->subject, *now = link_subject(s, p);
    if ((was || now) && !(was && now && strcmp(was, now) == 0)) {
        HIVE__STAT_ADD(ep, resumes_refused, 1);
        reject(s, p, HIVE_CLOSE_SESSION_INVALID, "the certificate differs from the session's");
        return;
    }
    if (p->lanes < hive__replay_nlanes(&old->rp) || r->recv_lanes.n != hive__replay_nlanes(&old->rp) - 1) {
        HIVE__STAT_ADD(ep, resumes_refused, 1);
        reject(s, p, HIVE_CLOSE_SESSION_INVALID,
               "the new link carries fewer channels than the session uses, or the counts do not fit them");
        return;
    }
    if (!hive__replay_covers_all(&old->rp, r->recv, &r->recv_lanes)) {
        /* The frames the client still needs are gone: this session can
         * never be resumed. Both ends say so. */
        HIVE__STAT_ADD(ep, resumes_refused, 1);
        reject(s, p, HIVE_CLOSE_SESSION_INVALID, "the messages the client missed are no longer kept");
        hive__ep_close(ep, old, HIVE_CLOSE_SESSION_INVALID, "the replay buffer no longer covers the client",
                       false, HIVE__CLOSE_FRAME, true);
        return;
    }
    /* The token is single-use: a new one for the next resume (used only
     * when the client showed the newest one). */
    uint8_t next[HIVE__RESUME_TOKEN];
    if (cur && !new_token(next)) {
        reject(s, p, HIVE_CLOSE_NO_MEMORY, "no random bytes for a new token");
        return;
    }
    /* A resume replaces the old link at once, even one not yet noticed
     * dead: what it received so far is final. */
    if (old->link) ep->tr->vt->abort(ep->tr, old->link);
    hive__link *link = p->link;
    p->link = NULL;
    link->conn = old;
    old->link = link;
    old->stream = p->stream;   /* a resume may come over another listener */
    hive__rxbuf_free(&old->rx);
    old->rx = p->rx;
    memset(&p->rx, 0, sizeof p->rx);
    old->partial_since = p->partial_since;
    pthread_mutex_lock(&ep->lock);
    char *a = old->addr;
    old->addr = p->addr;
    p->addr = a;
    pthread_mutex_unlock(&ep->lock);
    old->peer_max_frame = r->max_frame;
    old->rl_t = 0;
    old->last_rx = old->last_tx = old->last_ping = ep->now;
    old->sendq_warned = false;
    old->sendq_high_since = 0;
    if (cur) {
        /* The client holds the newest token: the one before it is dead,
         * and the one just shown is what the client falls back on should
         * this resumed never reach it. (With the previous token, the
         * newest stays as it is and goes out again.) */
        memcpy(old->prev_token, old->token, sizeof next);
        old->prev_live = true;
        memcpy(old->token, next, sizeof next);
    }
    hive__replay_ack_all(&old->rp, r->recv, &r->recv_lanes);   /* covers_all checked it */
    old->lanes = p->lanes;
    bool first = !old->opened;   /* the resume stands in for the ready */
    bool handed = old->adopted;  /* a session from a ticket: its client arrived (HANDOFF) */
    old->adopted = false;
    /* A session that was moving lost its link and came back here: the
     * move is over (its answer finds it no longer moving: redirect and
     * cancel refuse, and the target's copy expires unclaimed), and the
     * client replays what the freeze kept from this side. */
    old->moving = false;
    hive__ep_conn_state(old, HIVE__C_OPEN, ep->now);
    uint32_t resumes = __atomic_add_fetch(&old->resumes, 1, __ATOMIC_RELAXED);
    HIVE__STAT_ADD(ep, resumes, 1);
    /* The placeholder goes quietly: its link is the session's now. */
    p->close_published = true;
    hive__ep_conn_state(p, HIVE__C_CLOSING, ep->now);
    p->close_deadline = ep->now;
    hive_msg m;
    hive_msg_init(&m);
    hive__lanecounts more;
    hive__replay_recv_lanes(&old->rp, &more);
    int rc = hive__resumed_pack(&m, old->cid, old->token, old->rp.recv, &more);
    if (rc == 0) rc = hive__ep_send_msg(ep, old, HIVE__PID_RESUMED, &m);
    hive_msg_free(&m);
    /* Lane 0 follows resumed at once; the other lanes could overtake it,
     * so they wait for the client's first frame (conn.h lanes_held). */
    if (rc == 0) rc = hive__ep_replay(ep, old, 0, 1);
    old->lanes_held = hive__replay_nlanes(&old->rp) > 1;
    if (rc != 0) {
        hive__ep_close(ep, old, rc == HIVE_EFULL ? HIVE_CLOSE_SLOW_CONSUMER : HIVE_CLOSE_NO_MEMORY,
                       "the replay did not fit", false, HIVE__CLOSE_FRAME, false);
        return;
    }
    /* Only now, after resumed and the replay, so that what a handler
     * sends follows them on the link. */
    if (handed) {
        /* The game hears of a player who arrived with a session: in place
         * of handshakecomplete (and of resumed). */
        hive_field hf[] = { HIVE_PTR("server", s), HIVE_INT("cid", old->cid), HIVE_INT("from_cid", old->from_cid),
                            HIVE_STR("addr", old->addr),
                            HIVE_BYTES("data", old->handoff_data ? old->handoff_data : (const uint8_t *)"",
                                       old->handoff_len) };
        old->close_published = false;   /* from now on its close is told */
        hive__ep_emit(ep, ep->ev[HIVE__EV_HANDOFF], hf, 5);
        hive__free(old->handoff_data);
        old->handoff_data = NULL;
        old->handoff_len = 0;
        return;
    }
    if (first) emit_handshake(s, old, old->subject);
    hive_field f[] = { HIVE_PTR("server", s), HIVE_INT("cid", old->cid), HIVE_STR("addr", old->addr),
                       HIVE_INT("resumes", resumes), HIVE_INT("replayed", (int64_t)hive__replay_unacked(&old->rp)) };
    hive__ep_emit(ep, ep->ev[HIVE__EV_RESUMED], f, 5);
}

/* ------------------------------------------------------------------ */
/* HANDOFF (hive/net.h): moving a session to another server            */
/* ------------------------------------------------------------------ */

#include "net/wire/handoff.h"
#include "net/wire/mpdecode.h"

static int handoff_find(hive_server *s, hive_cid cid, hive__conn **out)
{
    if (!s) return HIVE_EINVAL;
    if (s->ep.threaded || __atomic_load_n(&s->st, __ATOMIC_ACQUIRE) != HIVE__S_RUNNING) return HIVE_ESTATE;
    hive__conn *c = hive__cidmap_get(&s->map, cid);
    if (!c) return HIVE_ENOENT;
    *out = c;
    return HIVE_OK;
}

int hive_server_handoff_begin(hive_server *s, hive_cid cid, const void *data, size_t len, hive_msg *ticket)
{
    hive__conn *c;
    int rc = handoff_find(s, cid, &c);
    if (rc) return rc;
    if (!ticket || (len && !data)) return HIVE_EINVAL;
    if (len > HIVE_HANDOFF_DATA_MAX) return HIVE_ETOOBIG;
    /* Only an open session that offered resume, with nothing lost from
     * its replay buffer and no large message under way, can move. */
    if (c->state != HIVE__C_OPEN || !c->has_token || c->moving || hive__ep_draining(c) ||
        !hive__replay_whole(&c->rp) || c->xf.out || c->xf.in)
        return HIVE_ESTATE;
    hive__ticket t = { .reg = hive__registry_digest(s->reg), .from = cid, .peer_max = c->peer_max_frame,
                       .src_max_frame = c->told_max_frame, .src_heartbeat_ms = c->told_hb_ms,
                       .src_heartbeat_timeout_ms = c->told_hbt_ms,
                       .zstd = c->zstd, .pieces = c->pieces, .data = data, .data_len = len };
    snprintf(t.app, sizeof t.app, "%s", s->cfg.app);
    if (c->subject) {
        t.has_subject = true;
        snprintf(t.subject, sizeof t.subject, "%s", c->subject);
    }
    t.lanes = hive__replay_nlanes(&c->rp);
    size_t nf = 0;
    for (int ln = 0; ln < t.lanes; ln++) {
        hive__replay *r = hive__replay_lane(&c->rp, ln);
        t.sent[ln] = r->sent;
        t.acked[ln] = r->acked;
        t.recv[ln] = r->recv;
        nf += (size_t)(r->sent - r->acked);
    }
    if (nf > HIVE__TICKET_FRAMES_MAX) return HIVE_ETOOBIG;
    hive__ticket_frame *fr = hive__malloc((nf ? nf : 1) * sizeof *fr);
    if (!fr) return HIVE_ENOMEM;
    size_t k = 0;
    for (int ln = 0; ln < t.lanes; ln++) {
        hive__replay *r = hive__replay_lane(&c->rp, ln);
        hive__replay_cur cur = { 0 };
        const uint8_t *p;
        size_t n;
        while (hive__replay_next(r, &cur, &p, &n)) {
            if (cur.seq <= r->acked || k == nf) continue;
            fr[k++] = (hive__ticket_frame){ .lane = (uint8_t)ln, .p = p, .n = n };
        }
    }
    rc = k == nf ? hive__ticket_pack(ticket, &t, fr, nf) : HIVE_ESTATE;
    hive__free(fr);
    if (rc) return rc;
    c->moving = true;
    /* other threads' sends see it closed (a queued one would be refused
     * on the I/O thread anyway): the resume here, or nothing, reopens it */
    __atomic_store_n(&c->open_pub, 0, __ATOMIC_RELEASE);
    return HIVE_OK;
}

int hive_server_handoff_redirect(hive_server *s, hive_cid cid, const char *addr, hive_cid target_cid,
                                 const uint8_t token[HIVE_HANDOFF_TOKEN_BYTES])
{
    hive__conn *c;
    int rc = handoff_find(s, cid, &c);
    if (rc) return rc;
    if (!addr || !*addr || strlen(addr) > 255 || !token || !target_cid) return HIVE_EINVAL;
    if (!c->moving || c->state != HIVE__C_OPEN) return HIVE_ESTATE;
    char *to = hive__strdup(addr);
    if (!to) return HIVE_ENOMEM;
    hive__free(c->redirect_to);
    c->redirect_to = to;
    c->redirect_cid = target_cid;
    memcpy(c->redirect_token, token, HIVE__RESUME_TOKEN);
    if (c->has_token) moved_add(s, c, to, target_cid, token);
    hive__ep_close(&s->ep, c, HIVE_CLOSE_REDIRECT, "the session moved to another server", false, HIVE__CLOSE_FRAME,
                   false);
    return HIVE_OK;
}

int hive_server_handoff_cancel(hive_server *s, hive_cid cid)
{
    hive__conn *c;
    int rc = handoff_find(s, cid, &c);
    if (rc) return rc;
    if (!c->moving || c->state != HIVE__C_OPEN) return HIVE_ESTATE;
    c->moving = false;
    /* What the client sent while frozen was neither delivered nor
     * acknowledged: its link goes without a word, so the client resumes
     * here and sends it again (srv_closing keeps the session). */
    hive__ep_close(&s->ep, c, HIVE_CLOSE_PEER_VANISHED, "the handoff was cancelled", false, HIVE__CLOSE_SILENT, true);
    return HIVE_OK;
}

int hive_server_adopt(hive_server *s, const void *ticket, size_t len, hive_cid *cid_out,
                      uint8_t token_out[HIVE_HANDOFF_TOKEN_BYTES])
{
    if (!s || !ticket || !len || !cid_out || !token_out) return HIVE_EINVAL;
    if (s->ep.threaded || __atomic_load_n(&s->st, __ATOMIC_ACQUIRE) != HIVE__S_RUNNING || !s->ep.tm.resume_ms)
        return HIVE_ESTATE;
    msgpack_zone z;
    if (!msgpack_zone_init(&z, 4096)) return HIVE_ENOMEM;
    msgpack_object o;
    hive__ticket t;
    int rc = hive__mp_decode(ticket, len, &z, &o) == 0 && hive__ticket_parse(&o, &t) == 0 ? HIVE_OK : HIVE_EPROTO;
    if (rc == HIVE_OK && (strcmp(t.app, s->cfg.app) != 0 || t.reg != hive__registry_digest(s->reg) ||
                          (t.zstd && !s->ep.zmin) || (t.pieces && s->ep.no_pieces)))
        rc = HIVE_ESTATE;
    /* A session with a client certificate resumes only where one is asked
     * for (as for any resume, the same one): refused now rather than at the
     * client's resume, so the source keeps the player. */
    if (rc == HIVE_OK && t.has_subject && s->cfg.tls.client_auth == HIVE_TLS_CLIENT_NONE) rc = HIVE_ESTATE;
    /* and one on several lanes only where links carry lanes (enet) */
    if (rc == HIVE_OK && t.lanes > 1 && !s->ep.tr->vt->offer_lanes) rc = HIVE_ESTATE;
    /* The client keeps what the source's welcome told it: this server must
     * take frames that large, ping it before it gives up, and wait for its
     * pings long enough. */
    if (rc == HIVE_OK && ((t.src_max_frame && s->cfg.max_frame < t.src_max_frame) ||
                          (t.src_heartbeat_timeout_ms && s->ep.tm.heartbeat_ms >= t.src_heartbeat_timeout_ms) ||
                          (t.src_heartbeat_ms && s->ep.tm.heartbeat_timeout_ms <= t.src_heartbeat_ms)))
        rc = HIVE_ESTATE;
    if (rc == HIVE_OK && s->nadmitted >= s->cfg.max_connections) rc = HIVE_EFULL;
    hive__conn *c = NULL;
    if (rc == HIVE_OK && !(c = hive__ep_conn_adopt(&s->ep))) rc = HIVE_ENOMEM;
    if (rc == HIVE_OK) {
        c->lanes = (uint8_t)t.lanes;
        c->peer_max_frame = t.peer_max;
        /* what its client keeps from its first welcome, for the next move
         * (a ticket that does not say: this server's own) */
        c->told_max_frame = t.src_max_frame ? t.src_max_frame : s->cfg.max_frame;
        c->told_hb_ms = t.src_heartbeat_ms ? t.src_heartbeat_ms : s->ep.tm.heartbeat_ms;
        c->told_hbt_ms = t.src_heartbeat_timeout_ms ? t.src_heartbeat_timeout_ms : s->ep.tm.heartbeat_timeout_ms;
        c->zstd = t.zstd;
        c->pieces = t.pieces;
        c->adopted = true;
        c->from_cid = t.from;
        c->close_published = true;   /* nothing is told of it until its client arrives */
        c->conntype = hive__strdup("");
        c->app_version = hive__strdup("");
        if (!c->conntype || !c->app_version) rc = HIVE_ENOMEM;
        c->rp.max = s->cfg.resume_buffer_bytes;
        if (!new_token(c->token) || hive__replay_lanes(&c->rp, t.lanes) < 0) rc = HIVE_ENOMEM;
        c->has_token = rc == HIVE_OK;
        if (rc == HIVE_OK && t.has_subject && !(c->subject = hive__strdup(t.subject))) rc = HIVE_ENOMEM;
        if (rc == HIVE_OK && t.data_len) {
            c->handoff_data = hive__malloc(t.data_len);
            if (c->handoff_data) {
                memcpy(c->handoff_data, t.data, t.data_len);
                c->handoff_len = t.data_len;
            } else {
                rc = HIVE_ENOMEM;
            }
        }
        /* The counts go on from where the source stopped; the frames the
         * client has not confirmed are kept here to replay. */
        for (int ln = 0; rc == HIVE_OK && ln < t.lanes; ln++) {
            hive__replay *r = hive__replay_lane(&c->rp, ln);
            r->sent = r->acked = t.acked[ln];
            r->recv = t.recv[ln];
        }
        for (uint32_t i = 0; rc == HIVE_OK && i < t.frames->via.array.size; i++) {
            const msgpack_object *e = t.frames->via.array.ptr[i].via.array.ptr;
            hive__replay *r = hive__replay_lane(&c->rp, (int)e[0].via.u64);
            const void *pieces[1] = { e[1].via.bin.ptr };
            size_t lens[1] = { e[1].via.bin.size };
            if (hive__replay_push(r, pieces, lens, 1) != HIVE_OK) rc = HIVE_ENOMEM;
        }
        if (rc == HIVE_OK && !hive__replay_whole(&c->rp)) rc = HIVE_ETOOBIG;   /* more than resume_buffer_bytes */
        if (rc == HIVE_OK) {
            c->admitted = true;
            s->nadmitted++;
            *cid_out = c->cid;
            memcpy(token_out, c->token, HIVE__RESUME_TOKEN);
        } else {
            hive__ep_conn_free(&s->ep, c);
        }
    }
    msgpack_zone_destroy(&z);
    return rc;
}

static void srv_handshake(hive__ep *ep, hive__conn *c, hive__act *act)
{
    hive_server *s = srv(ep);
    if (act->kind == HIVE__ACT_RESUME) {
        on_resume(s, c, act);
    } else if (act->kind == HIVE__ACT_HELLO) {
        on_hello(s, c, act);
    } else if (act->kind == HIVE__ACT_READY) {
        on_ready(s, c);
    } else {   /* a welcome never reaches a server connection (conn.c) */
        if (act->kind == HIVE__ACT_WELCOME) hive_registry_destroy(act->u.welcome.registry);
        hive__ep_close(ep, c, HIVE_CLOSE_UNEXPECTED_PACKET, NULL, false, HIVE__CLOSE_FRAME, false);
    }
}

static hive__conn *srv_find(hive__ep *ep, hive_cid cid)
{
    return hive__cidmap_get(&srv(ep)->map, cid);
}

static void srv_do_stop(hive__ep *ep) { hive__srv_do_stop(srv(ep)); }

static int srv_service(hive__ep *ep, int timeout_ms) { return hive_server_service(srv(ep), timeout_ms); }

static bool srv_ended(hive__ep *ep)
{
    return __atomic_load_n(&srv(ep)->st, __ATOMIC_ACQUIRE) != HIVE__S_RUNNING;
}

/* A server accepts many connections and indexes them by cid; its I/O
 * thread ends only when stopped, closing everything as a shutdown. */
const hive__ep_face hive__server_face = {
    .key = "server", .names = hive__server_event_names, .recv_prefix = HIVE_EV_SERVER_RECV_PREFIX,
    .one_conn = false, .final_reason = HIVE_CLOSE_SERVER_SHUTDOWN,
    .setup = hive__srv_setup, .teardown = hive__srv_teardown, .do_stop = srv_do_stop, .service = srv_service,
    .accepted = srv_accepted, .forget = srv_forget, .find = srv_find, .handshake = srv_handshake,
    .closing = srv_closing, .ended = srv_ended,
    .remote = hive__srv_remote, .remote_drop = hive__srv_remote_drop, .remote_send = hive__srv_remote_send,
};
