/*
 * server_remote.c - remote subscriptions, the server's side (hive/net.h
 * REMOTE SUBSCRIPTIONS, docs/PROTOCOL.md "Remote subscriptions").
 *
 * Each distinct pattern any connection asked for is one group, and one
 * group is one subscription on the server's bus: the bus resolves which
 * names a pattern matches when a subscription or a name is added, so
 * matching costs nothing per publish and an event no connection wants
 * costs what any event without listeners costs. A group lists its
 * entries (connection, subscription). When an event reaches a group's
 * handler, each entry's filters are checked and the event is encoded
 * once per delivery (a temporary attached to the event, shared with the
 * other groups the same event reaches) and sent with the broadcast
 * machinery (one shared transport buffer). The temporary also carries a
 * generation that each connection remembers, so an event that matches
 * several subscriptions of one connection goes to it once.
 */
#include "events/internal.h"
#include "events/bus_internal.h"
#include "net/server/server_internal.h"
#include "net/wire/remote.h"
#include "net/core/ep.h"

#include <stdio.h>
#include <string.h>

#define EXPORTS_MAX 64

typedef struct rgroup rgroup;

typedef struct rcli rcli;

typedef struct hive__rentry {
    rcli *cl;
    hive__rspec *spec;
    rgroup *g;
    bool unreliable;
    struct hive__rentry *gnext, *gprev;   /* in the group */
    struct hive__rentry *cnext;           /* in the connection's list */
} rentry;

/* A connection's subscriptions, by cid: kept where the bus is owned (the
 * I/O thread without .threaded, the game thread with it), so they never
 * point at a connection the other thread may free. */
struct rcli {
    hive_cid cid;
    uint32_t n;
    uint64_t gen;               /* the last delivery it got */
    rentry *subs;
    rcli *next;
};

struct rgroup {
    hive_server *s;
    char *pattern;
    int sub;                      /* the bus subscription */
    rentry *head;
    rgroup *next;
};

typedef struct rexport {
    char *pattern;
    hive_export_opts o;
} rexport;

typedef struct hive__srv_remote {
    rexport ex[EXPORTS_MAX];
    size_t nex;
    rgroup *groups;
    rcli **tab;                 /* by cid: a chained hash table, cap a power of two */
    size_t cap, ncli;
    uint64_t gen;
    int sub_req, sub_gone;      /* threaded: the internal subscriptions */
} srvrm;

static srvrm *rm_of(hive_server *s)
{
    if (!s->rm) s->rm = hive__calloc(1, sizeof *s->rm);
    return s->rm;
}

int hive_server_export(hive_server *s, const char *pattern, const hive_export_opts *opts)
{
    if (!s || !pattern) return HIVE_EINVAL;
    if (s->started_once) return HIVE_ESTATE;
    bool wild;
    int rc = hive__pattern_check(pattern, &wild);
    if (rc < 0) return rc;
    srvrm *rm = rm_of(s);
    if (!rm) return HIVE_ENOMEM;
    if (rm->nex == EXPORTS_MAX) return HIVE_ELIMIT;
    char *p = hive__strdup(pattern);
    if (!p) return HIVE_ENOMEM;
    rm->ex[rm->nex].pattern = p;
    rm->ex[rm->nex].o = opts ? *opts : (hive_export_opts){ 0 };
    rm->nex++;
    return HIVE_OK;
}

int hive_server_exports(const hive_server *s, size_t idx, const char **pattern, bool *unreliable)
{
    if (!s) return HIVE_EINVAL;
    if (!s->rm || idx >= s->rm->nex) return HIVE_ENOENT;
    if (pattern) *pattern = s->rm->ex[idx].pattern;
    if (unreliable) *unreliable = s->rm->ex[idx].o.unreliable;
    return HIVE_OK;
}

/* ------------------------------------------------------------------ */
/* Sending (the I/O thread)                                             */
/* ------------------------------------------------------------------ */

static void note_drop(hive_server *s, hive__conn *c)
{
    c->rdropped++;
    HIVE__STAT_ADD(&s->ep, remote_dropped, 1);
    hive_event_id id = s->ep.ev_sub_dropped;
    if (id > 0 && hive_bus_wants(s->ep.bus, id)) {
        hive_field f[] = { HIVE_PTR("server", s), HIVE_INT("cid", c->cid), HIVE_INT("dropped", (int64_t)c->rdropped) };
        hive__ep_emit(&s->ep, id, f, 3);
    }
}

/* The body with its drop count: the encoder writes a fixmap of two
 * entries (name, fields); one more entry, `dropped`, goes at the end. */
static int with_dropped(const uint8_t *body, size_t len, uint64_t dropped, hive_msg *m)
{
    if (!len || body[0] != 0x82) return HIVE_EPROTO;
    uint8_t hdr = 0x83;
    if (hive_msg_raw(m, &hdr, 1) || hive_msg_raw(m, body + 1, len - 1) || hive_msg_str(m, "dropped") ||
        hive_msg_uint(m, dropped))
        return HIVE_ENOMEM;
    return HIVE_OK;
}

/* One encoded remote event to the connections cids[0..n): shared as a
 * broadcast is; a connection whose queue is at remote_queue_bytes has it
 * dropped and counted; one that has drops to report gets its own copy
 * with the count. */
static void send_to(hive_server *s, const uint8_t *body, size_t len, const hive_cid *cids, size_t n, bool unreliable)
{
    hive__ep *ep = &s->ep;
    int dlv = unreliable ? HIVE__DLV_SEQUENCED : HIVE__DLV_RELIABLE;
    hive__bcast b;
    bool b_on = false;
    for (size_t i = 0; i < n; i++) {
        hive__conn *c = hive__cidmap_get(&s->map, cids[i]);
        if (!c || !(c->state == HIVE__C_OPEN || (c->state == HIVE__C_SUSPENDED && c->opened))) continue;
        if (c->state == HIVE__C_SUSPENDED && unreliable) continue;   /* lost, as unreliable may be */
        if (c->link && hive__ep_sendq(ep, c) >= s->cfg.remote_queue_bytes) {
            note_drop(s, c);
            continue;
        }
        int rc;
        if (c->rdropped != c->rdropped_told) {
            hive_msg m;
            hive_msg_init(&m);
            rc = with_dropped(body, len, c->rdropped, &m);
            if (rc == 0) {
                const void *parts[1] = { hive_msg_data(&m) };
                size_t ml = hive_msg_size(&m);
                rc = hive__ep_send_frame_v(ep, c, HIVE__PID_REVENT, parts, &ml, 1, dlv, 0);
                if (rc == HIVE_OK) c->rdropped_told = c->rdropped;
            }
            hive_msg_free(&m);
        } else {
            if (!b_on) {
                if (hive__ep_bcast_init(&b, HIVE__PID_REVENT, body, len, dlv) != HIVE_OK) return;
                b_on = true;
            }
            rc = hive__ep_bcast_send(ep, c, &b);
        }
        if (rc == HIVE_EFULL || rc == HIVE_ETOOBIG) note_drop(s, c);
    }
    if (b_on) hive__ep_bcast_fini(ep, &b);
}

void hive__srv_remote_send(hive__ep *ep, const uint8_t *data, size_t len, uint32_t ncids, bool unreliable)
{
    /* data: ncids cids, then the body (HIVE__Q_REMOTE). */
    size_t head = (size_t)ncids * sizeof(hive_cid);
    if (len < head) return;
    hive_cid stack[256], *list = ncids <= 256 ? stack : hive__malloc(head);
    if (!list) return;
    memcpy(list, data, head);   /* the request's bytes promise no alignment */
    send_to((hive_server *)ep, data + head, len - head, list, ncids, unreliable);
    if (list != stack) hive__free(list);
}

/* ------------------------------------------------------------------ */
/* Delivery (where the bus is owned)                                    */
/* ------------------------------------------------------------------ */

/* One event's delivery to remote subscribers: encoded once. */
typedef struct rdeliv {
    uint64_t gen;
    bool encoded, failed;
    hive_msg m;
} rdeliv;

static const char g_key = 0;

static void deliv_release(void *p)
{
    rdeliv *d = p;
    if (d->encoded) hive_msg_free(&d->m);
    hive__free(d);
}

static void deliver(hive_server *s, rdeliv *d, const hive_cid *cids, size_t n, bool unreliable)
{
    if (!n) return;
    if (!s->ep.threaded) {
        send_to(s, hive_msg_data(&d->m), hive_msg_size(&d->m), cids, n, unreliable);
        return;
    }
    /* Threaded: the I/O thread sends (one request for all of them). */
    size_t head = n * sizeof(hive_cid), len = hive_msg_size(&d->m);
    uint8_t *buf = hive__malloc(head + len);
    if (!buf) return;
    memcpy(buf, cids, head);
    memcpy(buf + head, hive_msg_data(&d->m), len);
    hive__ep_request(&s->ep, HIVE__Q_REMOTE, (hive_cid)n, 0, unreliable, 0, buf, head + len);
    hive__free(buf);
}

static void on_group_event(const hive_event *ev, void *user)
{
    rgroup *g = user;
    hive_server *s = g->s;
    if (!g->head) return;
    /* A remote event's name goes out with the client's prefix: too long
     * a name is never sent (counted where it can be: without .threaded). */
    if (strlen(ev->name) + sizeof HIVE_REMOTE_PREFIX > HIVE_NAME_MAX) {
        if (s->ep.threaded) return;
        /* The cids first: a handler of the drop event may close a
         * connection, which frees its entries (and maybe this group). */
        size_t n = 0;
        for (rentry *e = g->head; e; e = e->gnext) n++;
        hive_cid *cids = hive__malloc((n ? n : 1) * sizeof *cids);
        if (!cids) return;
        n = 0;
        for (rentry *e = g->head; e; e = e->gnext) cids[n++] = e->cl->cid;
        for (size_t i = 0; i < n; i++) {
            hive__conn *c = hive__cidmap_get(&s->map, cids[i]);
            if (c) note_drop(s, c);
        }
        hive__free(cids);
        return;
    }
    rdeliv *d = hive_event_attached(ev, &g_key);
    if (!d) {
        d = hive__calloc(1, sizeof *d);
        if (!d) return;
        d->gen = ++s->rm->gen;
        if (hive_event_attach(ev, &g_key, d, deliv_release) != HIVE_OK) {
            hive__free(d);
            return;
        }
    }
    hive_cid stack[2][128], *cids[2] = { stack[0], stack[1] };
    size_t n[2] = { 0, 0 }, cap[2] = { 128, 128 };
    for (rentry *e = g->head; e; e = e->gnext) {
        rcli *cl = e->cl;
        if (cl->gen == d->gen) continue;                      /* it has it (another subscription) */
        if (!hive__rfilters_match(e->spec, ev->fields, ev->nfields)) continue;
        cl->gen = d->gen;
        if (!d->encoded && !d->failed) {
            hive_msg_init(&d->m);
            d->encoded = true;
            if (hive__revent_pack(&d->m, ev->name, ev->fields, ev->nfields, 0) != 0) d->failed = true;
        }
        if (d->failed) break;
        int k = e->unreliable ? 1 : 0;
        if (n[k] == cap[k]) {
            size_t nc = cap[k] * 2;
            hive_cid *x = hive__malloc(nc * sizeof *x);
            if (!x) break;
            memcpy(x, cids[k], n[k] * sizeof *x);
            if (cids[k] != stack[k]) hive__free(cids[k]);
            cids[k] = x;
            cap[k] = nc;
        }
        cids[k][n[k]++] = cl->cid;
    }
    if (!d->failed) {
        if (!s->ep.threaded) hive__ep_enter(&s->ep);
        deliver(s, d, cids[0], n[0], false);
        deliver(s, d, cids[1], n[1], true);
        if (!s->ep.threaded) hive__ep_leave(&s->ep, 0);
    }
    for (int k = 0; k < 2; k++)
        if (cids[k] != stack[k]) hive__free(cids[k]);
}

/* ------------------------------------------------------------------ */
/* Requests (where the bus is owned)                                    */
/* ------------------------------------------------------------------ */

static void answer(hive_server *s, hive_cid cid, uint32_t id, bool ok, const char *reason)
{
    hive_msg m;
    hive_msg_init(&m);
    if (hive__ranswer_pack(&m, id, ok, reason) == 0) {
        if (s->ep.threaded) {
            hive__ep_request(&s->ep, HIVE__Q_HIVE, cid, HIVE__PID_SUBANSWER, HIVE__DLV_RELIABLE, 0, hive_msg_data(&m),
                             hive_msg_size(&m));
        } else {
            hive__conn *c = hive__cidmap_get(&s->map, cid);
            const void *parts[1] = { hive_msg_data(&m) };
            size_t len = hive_msg_size(&m);
            if (c) hive__ep_send_frame_v(&s->ep, c, HIVE__PID_SUBANSWER, parts, &len, 1, HIVE__DLV_RELIABLE, 0);
        }
    }
    hive_msg_free(&m);
}

static size_t slot_of(const srvrm *rm, hive_cid cid) { return (size_t)hive__mix64(cid) & (rm->cap - 1); }

/* Doubles the table (all or nothing). */
static bool grow_tab(srvrm *rm)
{
    size_t cap = rm->cap ? rm->cap * 2 : 64;
    rcli **tab = hive__calloc(cap, sizeof *tab);
    if (!tab) return false;
    srvrm old = *rm;
    rm->tab = tab;
    rm->cap = cap;
    for (size_t i = 0; i < old.cap; i++)
        for (rcli *cl = old.tab[i], *next; cl; cl = next) {
            next = cl->next;
            size_t k = slot_of(rm, cl->cid);
            cl->next = tab[k];
            tab[k] = cl;
        }
    hive__free(old.tab);
    return true;
}

static rcli *cli_of(hive_server *s, hive_cid cid, bool make)
{
    srvrm *rm = s->rm;
    rcli *cl = rm->cap ? rm->tab[slot_of(rm, cid)] : NULL;
    while (cl && cl->cid != cid) cl = cl->next;
    if (cl || !make) return cl;
    if (rm->ncli + 1 > rm->cap && !grow_tab(rm)) return NULL;
    if (!(cl = hive__calloc(1, sizeof *cl))) return NULL;
    cl->cid = cid;
    size_t k = slot_of(rm, cid);
    cl->next = rm->tab[k];
    rm->tab[k] = cl;
    rm->ncli++;
    return cl;
}

static void entry_free(hive_server *s, rentry *e);

static void cli_free(hive_server *s, rcli *cl)
{
    while (cl->subs) {
        rentry *e = cl->subs;
        cl->subs = e->cnext;
        entry_free(s, e);
    }
    hive__free(cl);
}

static rentry *find_entry(rcli *cl, uint32_t id, rentry ***link)
{
    for (rentry **p = &cl->subs; *p; p = &(*p)->cnext)
        if ((*p)->spec->id == id) {
            if (link) *link = p;
            return *p;
        }
    return NULL;
}

static void entry_free(hive_server *s, rentry *e)
{
    rgroup *g = e->g;
    if (e->gprev) e->gprev->gnext = e->gnext;
    else g->head = e->gnext;
    if (e->gnext) e->gnext->gprev = e->gprev;
    e->cl->n--;
    hive__free(e->spec);
    hive__free(e);
    if (g->head) return;
    /* The last one: the bus subscription goes too. */
    hive_bus_unsubscribe(s->ep.bus, g->sub);
    for (rgroup **p = &s->rm->groups; *p; p = &(*p)->next)
        if (*p == g) {
            *p = g->next;
            break;
        }
    hive__free(g->pattern);
    hive__free(g);
}

static bool same_spec(const hive__rspec *a, const hive__rspec *b)
{
    /* The blocks hold pointers into themselves: compare the parsed form. */
    if (strcmp(a->pattern, b->pattern) != 0 || a->nf != b->nf) return false;
    for (uint8_t i = 0; i < a->nf; i++) {
        const hive__rfilter *x = &a->f[i], *y = &b->f[i];
        if (x->op != y->op || x->n != y->n || strcmp(x->key, y->key) != 0) return false;
        for (uint16_t j = 0; j < x->n; j++) {
            const hive__rval *u = &x->v[j], *v = &y->v[j];
            if (u->type != v->type) return false;
            if (u->type == HIVE_T_INT && u->u.i != v->u.i) return false;
            if (u->type == HIVE_T_DOUBLE && u->u.d != v->u.d) return false;
            if (u->type == HIVE_T_STR && (u->len != v->len || memcmp(u->u.s, v->u.s, u->len) != 0)) return false;
        }
    }
    return true;
}

/* Who asks: what an export's check sees. */
typedef struct asker {
    hive_cid cid;
    const char *conntype, *subject;
    void *user;
} asker;

static void on_subscribe(hive_server *s, const asker *a, const msgpack_object *o)
{
    char why[HIVE__REASON_MAX + 1] = "";
    uint32_t id;
    hive__rspec *spec;
    int rc = hive__rsub_parse(o, &spec, &id, why);
    if (rc == HIVE_ENOMEM) {
        answer(s, a->cid, id, false, "out of memory");
        return;
    }
    if (rc < 0) {
        answer(s, a->cid, id, false, why);
        return;
    }
    srvrm *rm = s->rm;
    rcli *cl = rm ? cli_of(s, a->cid, true) : NULL;
    if (!cl) {
        hive__free(spec);
        answer(s, a->cid, id, false, rm ? "out of memory" : "not exported");
        return;
    }
    rentry *old = find_entry(cl, id, NULL);
    if (old) {
        /* The same request again (a client that subscribes afresh) is
         * granted again; another under a used id is refused. */
        bool same = same_spec(old->spec, spec);
        hive__free(spec);
        answer(s, a->cid, id, same, same ? NULL : "that id is taken");
        return;
    }
    if (cl->n >= s->cfg.max_subscriptions) {
        hive__free(spec);
        answer(s, a->cid, id, false, "too many subscriptions");
        return;
    }
    const rexport *ex = NULL;
    const char *refusal = "not exported";
    hive_sub_request req = { 0 };
    for (size_t i = 0; i < rm->nex; i++) {
        if (!hive__pattern_covers(rm->ex[i].pattern, spec->pattern)) continue;
        if (rm->ex[i].o.check) {
            memset(&req, 0, sizeof req);
            req.cid = a->cid;
            req.conntype = a->conntype ? a->conntype : "";
            req.peer_subject = a->subject ? a->subject : "";
            req.user = a->user;
            req.pattern = spec->pattern;
            req.nfilters = spec->nf;
            int no = rm->ex[i].o.check(s, &req, rm->ex[i].o.user);
            req.reason[sizeof req.reason - 1] = 0;   /* whatever the check wrote */
            if (no != 0) {
                refusal = req.reason[0] ? req.reason : "forbidden";
                continue;
            }
        }
        ex = &rm->ex[i];
        break;
    }
    if (!ex) {
        char r[sizeof req.reason];
        snprintf(r, sizeof r, "%s", refusal);
        hive__free(spec);
        answer(s, a->cid, id, false, r);
        return;
    }
    rgroup *g = rm->groups;
    while (g && strcmp(g->pattern, spec->pattern) != 0) g = g->next;
    rentry *e = hive__calloc(1, sizeof *e);
    if (!e) {
        hive__free(spec);
        answer(s, a->cid, id, false, "out of memory");
        return;
    }
    if (!g) {
        g = hive__calloc(1, sizeof *g);
        char *p = hive__strdup(spec->pattern);
        int sub = g && p ? hive_bus_subscribe(s->ep.bus, spec->pattern, on_group_event, g, NULL) : HIVE_ENOMEM;
        if (sub < 0) {
            hive__free(g);
            hive__free(p);
            hive__free(e);
            hive__free(spec);
            answer(s, a->cid, id, false, "out of memory");
            return;
        }
        g->s = s;
        g->pattern = p;
        g->sub = sub;
        g->next = rm->groups;
        rm->groups = g;
    }
    e->cl = cl;
    e->spec = spec;
    e->g = g;
    e->unreliable = ex->o.unreliable;
    e->gnext = g->head;
    if (g->head) g->head->gprev = e;
    g->head = e;
    e->cnext = cl->subs;
    cl->subs = e;
    cl->n++;
    answer(s, a->cid, id, true, NULL);
}

static void on_unsubscribe(hive_server *s, hive_cid cid, uint32_t id)
{
    rcli *cl = s->rm ? cli_of(s, cid, false) : NULL;
    rentry **link;
    rentry *e = cl ? find_entry(cl, id, &link) : NULL;
    if (!e) return;   /* never granted, or gone already: nothing to do */
    *link = e->cnext;
    entry_free(s, e);
}

/* Everything of cid goes (its session ended). */
static void drop_cli(hive_server *s, hive_cid cid)
{
    srvrm *rm = s->rm;
    if (!rm || !rm->cap) return;
    for (rcli **p = &rm->tab[slot_of(rm, cid)]; *p; p = &(*p)->next) {
        rcli *cl = *p;
        if (cl->cid != cid) continue;
        *p = cl->next;
        rm->ncli--;
        cli_free(s, cl);
        return;
    }
}

/* ------------------------------------------------------------------ */
/* The endpoint's hooks (the I/O thread)                                */
/* ------------------------------------------------------------------ */

/* The verified client certificate's subject: the one noted for a
 * resumable session, else the link's own (TLS transports), or NULL. */
static const char *subject_of(hive_server *s, hive__conn *c)
{
    if (c->subject) return c->subject;
    hive__transport *tr = s->ep.tr;
    return c->link && tr && tr->vt->peer_subject ? tr->vt->peer_subject(tr, c->link) : NULL;
}

void hive__srv_remote(hive__ep *ep, hive__conn *c, uint32_t pid, const msgpack_object *o)
{
    hive_server *s = (hive_server *)ep;
    uint32_t id = 0;
    if (pid == HIVE__PID_UNSUBSCRIBE && hive__runsub_parse(o, &id) != HIVE_OK) {
        hive__ep_close(ep, c, HIVE_CLOSE_BAD_FRAME, "an unsubscribe without an id", false, HIVE__CLOSE_FRAME, false);
        return;
    }
    c->rsubscribed = true;
    if (!ep->threaded) {
        asker a = { c->cid, c->conntype, subject_of(s, c), c->user };
        if (pid == HIVE__PID_SUBSCRIBE) on_subscribe(s, &a, o);
        else on_unsubscribe(s, c->cid, id);
        return;
    }
    /* Threaded: the game thread owns the bus (and so the subscriptions):
     * the request goes there as an event. Nothing exported: answered here. */
    if (!s->rm) {
        asker a = { c->cid, NULL, NULL, NULL };
        if (pid == HIVE__PID_SUBSCRIBE) on_subscribe(s, &a, o);
        return;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    int rc = msgpack_pack_object(&pk, *o);
    hive_field f[] = { HIVE_PTR("server", s), HIVE_INT("cid", c->cid), HIVE_INT("pid", pid),
                       HIVE_BYTES("body", sb.data, sb.size), HIVE_STR("conntype", c->conntype ? c->conntype : ""),
                       HIVE_STR("peer_subject", subject_of(s, c) ? subject_of(s, c) : ""), HIVE_PTR("user", c->user) };
    if (rc != 0 || hive_bus_post(ep->bus, s->rm ? s->rm_ev_req : 0, f, 7) != HIVE_OK) {
        /* The game thread's queue is full: said, not lost in silence. */
        uint32_t sid = 0;
        char why[HIVE__REASON_MAX + 1];
        hive__rspec *spec;
        if (pid == HIVE__PID_SUBSCRIBE && hive__rsub_parse(o, &spec, &sid, why) == HIVE_OK) hive__free(spec);
        if (pid == HIVE__PID_SUBSCRIBE) {
            hive_msg m;
            hive_msg_init(&m);
            if (hive__ranswer_pack(&m, sid, false, "busy: try again") == 0) {
                const void *parts[1] = { hive_msg_data(&m) };
                size_t len = hive_msg_size(&m);
                hive__ep_send_frame_v(ep, c, HIVE__PID_SUBANSWER, parts, &len, 1, HIVE__DLV_RELIABLE, 0);
            }
            hive_msg_free(&m);
        }
    }
    msgpack_sbuffer_destroy(&sb);
}

void hive__srv_remote_drop(hive__ep *ep, hive__conn *c)
{
    hive_server *s = (hive_server *)ep;
    if (!c->rsubscribed) return;
    if (!ep->threaded) {
        drop_cli(s, c->cid);
        return;
    }
    hive_field f[] = { HIVE_PTR("server", s), HIVE_INT("cid", c->cid) };
    hive_bus_post(ep->bus, s->rm ? s->rm_ev_gone : 0, f, 2);   /* full queue: kept until the server goes */
}

/* ------------------------------------------------------------------ */
/* Threaded: the game thread's side of requests                         */
/* ------------------------------------------------------------------ */

static void on_req_event(const hive_event *ev, void *user)
{
    hive_server *s = user;
    const void *body;
    size_t len;
    if (hive_event_ptr(ev, "server") != s || hive_event_get_bytes(ev, "body", &body, &len) != HIVE_OK) return;
    hive_msg_view v;
    if (hive_msg_view_init(&v, body, len) != 0) return;
    hive_cid cid = (hive_cid)hive_event_int(ev, "cid", 0);
    uint32_t pid = (uint32_t)hive_event_int(ev, "pid", 0);
    if (pid == HIVE__PID_SUBSCRIBE) {
        asker a = { cid, hive_event_str(ev, "conntype"), hive_event_str(ev, "peer_subject"), hive_event_ptr(ev, "user") };
        if (a.subject && !*a.subject) a.subject = NULL;
        on_subscribe(s, &a, v.obj);
    } else {
        uint32_t id;
        if (hive__runsub_parse(v.obj, &id) == HIVE_OK) on_unsubscribe(s, cid, id);
    }
    hive_msg_view_free(&v);
}

static void on_gone_event(const hive_event *ev, void *user)
{
    hive_server *s = user;
    if (hive_event_ptr(ev, "server") == s) drop_cli(s, (hive_cid)hive_event_int(ev, "cid", 0));
}

int hive__srv_remote_start(hive_server *s)
{
    if (!s->rm || !s->ep.threaded || s->rm->sub_req) return HIVE_OK;
    s->rm_ev_req = hive_bus_intern(s->ep.bus, "net:server.remote.request");
    s->rm_ev_gone = hive_bus_intern(s->ep.bus, "net:server.remote.gone");
    if (s->rm_ev_req <= 0 || s->rm_ev_gone <= 0) return HIVE_ENOMEM;
    int a = hive_bus_subscribe_id(s->ep.bus, s->rm_ev_req, on_req_event, s, NULL);
    if (a < 0) return a;
    int b = hive_bus_subscribe_id(s->ep.bus, s->rm_ev_gone, on_gone_event, s, NULL);
    if (b < 0) {
        hive_bus_unsubscribe(s->ep.bus, a);
        return b;
    }
    s->rm->sub_req = a;
    s->rm->sub_gone = b;
    return HIVE_OK;
}

void hive__srv_remote_free(hive_server *s)
{
    if (!s->rm) return;
    if (s->rm->sub_req) hive_bus_unsubscribe(s->ep.bus, s->rm->sub_req);
    if (s->rm->sub_gone) hive_bus_unsubscribe(s->ep.bus, s->rm->sub_gone);
    for (size_t i = 0; i < s->rm->cap; i++)
        while (s->rm->tab[i]) {
            rcli *cl = s->rm->tab[i];
            s->rm->tab[i] = cl->next;
            cli_free(s, cl);
        }
    hive__free(s->rm->tab);
    for (size_t i = 0; i < s->rm->nex; i++) hive__free(s->rm->ex[i].pattern);
    hive__free(s->rm);
    s->rm = NULL;
}
