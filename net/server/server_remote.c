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

typedef struct hive__rentry {
    hive__conn *c;
    hive__rspec *spec;
    rgroup *g;
    bool unreliable;
    struct hive__rentry *gnext, *gprev;   /* in the group */
    struct hive__rentry *cnext;           /* in the connection's list */
} rentry;

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
    uint64_t gen;
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
/* Delivery                                                             */
/* ------------------------------------------------------------------ */

/* One event's delivery to remote subscribers: encoded once. */
typedef struct rdeliv {
    hive__ep *ep;
    uint64_t gen;
    bool encoded, failed;
    hive_msg m;
    hive__bcast b[2];             /* [0] reliable, [1] unreliable */
    bool b_on[2];
} rdeliv;

static const char g_key = 0;

static void deliv_release(void *p)
{
    rdeliv *d = p;
    for (int i = 0; i < 2; i++)
        if (d->b_on[i]) hive__ep_bcast_fini(d->ep, &d->b[i]);
    if (d->encoded) hive_msg_free(&d->m);
    hive__free(d);
}

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

/* Sends the event to c alone, with its drop count (it changed since c
 * was last told). */
static int send_own(hive_server *s, hive__conn *c, const hive_event *ev, bool unreliable)
{
    hive_msg m;
    hive_msg_init(&m);
    int rc = hive__revent_pack(&m, ev->name, ev->fields, ev->nfields, c->rdropped);
    if (rc == 0) {
        const void *parts[1] = { hive_msg_data(&m) };
        size_t len = hive_msg_size(&m);
        rc = hive__ep_send_frame_v(&s->ep, c, HIVE__PID_REVENT, parts, &len, 1,
                                   unreliable ? HIVE__DLV_SEQUENCED : HIVE__DLV_RELIABLE, 0);
        if (rc == HIVE_OK) c->rdropped_told = c->rdropped;
    }
    hive_msg_free(&m);
    return rc;
}

static void on_group_event(const hive_event *ev, void *user)
{
    rgroup *g = user;
    hive_server *s = g->s;
    hive__ep *ep = &s->ep;
    if (!g->head) return;
    /* A remote event's name goes out with the client's prefix. */
    if (strlen(ev->name) + sizeof HIVE_REMOTE_PREFIX > HIVE_NAME_MAX) {
        for (rentry *e = g->head; e; e = e->gnext) note_drop(s, e->c);
        return;
    }
    rdeliv *d = hive_event_attached(ev, &g_key);
    if (!d) {
        d = hive__calloc(1, sizeof *d);
        if (!d) return;
        d->ep = ep;
        d->gen = ++s->rm->gen;
        if (hive_event_attach(ev, &g_key, d, deliv_release) != HIVE_OK) {
            hive__free(d);
            return;
        }
    }
    hive__ep_enter(ep);
    for (rentry *e = g->head, *next; e; e = next) {
        next = e->gnext;
        hive__conn *c = e->c;
        if (c->rgen == d->gen) continue;                      /* it has it (another subscription) */
        if (!(c->state == HIVE__C_OPEN || (c->state == HIVE__C_SUSPENDED && c->opened))) continue;
        if (!hive__rfilters_match(e->spec, ev->fields, ev->nfields)) continue;
        c->rgen = d->gen;
        if (c->state == HIVE__C_SUSPENDED && e->unreliable) continue;   /* lost, as unreliable may be */
        if (c->link && hive__ep_sendq(ep, c) >= s->cfg.remote_queue_bytes) {
            note_drop(s, c);
            continue;
        }
        int rc;
        if (c->rdropped != c->rdropped_told) {
            rc = send_own(s, c, ev, e->unreliable);
        } else {
            if (!d->encoded && !d->failed) {
                hive_msg_init(&d->m);
                d->encoded = true;
                if (hive__revent_pack(&d->m, ev->name, ev->fields, ev->nfields, 0) != 0) d->failed = true;
            }
            if (d->failed) break;
            int k = e->unreliable ? 1 : 0;
            if (!d->b_on[k]) {
                if (hive__ep_bcast_init(&d->b[k], HIVE__PID_REVENT, hive_msg_data(&d->m), hive_msg_size(&d->m),
                                        k ? HIVE__DLV_SEQUENCED : HIVE__DLV_RELIABLE) != HIVE_OK) {
                    d->failed = true;
                    break;
                }
                d->b_on[k] = true;
            }
            rc = hive__ep_bcast_send(ep, c, &d->b[k]);
        }
        if (rc == HIVE_EFULL || rc == HIVE_ETOOBIG) note_drop(s, c);
        /* (Closed or suspended-and-overflowing: the endpoint said so.) */
    }
    hive__ep_leave(ep, 0);
}

/* ------------------------------------------------------------------ */
/* Requests                                                             */
/* ------------------------------------------------------------------ */

static void answer(hive_server *s, hive__conn *c, uint32_t id, bool ok, const char *reason)
{
    hive_msg m;
    hive_msg_init(&m);
    if (hive__ranswer_pack(&m, id, ok, reason) == 0) {
        const void *parts[1] = { hive_msg_data(&m) };
        size_t len = hive_msg_size(&m);
        hive__ep_send_frame_v(&s->ep, c, HIVE__PID_SUBANSWER, parts, &len, 1, HIVE__DLV_RELIABLE, 0);
    }
    hive_msg_free(&m);
}

static rentry *find_entry(hive__conn *c, uint32_t id, rentry ***link)
{
    for (rentry **p = (rentry **)&c->rsubs; *p; p = &(*p)->cnext)
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
    e->c->nrsubs--;
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

static void on_subscribe(hive_server *s, hive__conn *c, const msgpack_object *o)
{
    char why[HIVE__REASON_MAX + 1] = "";
    uint32_t id;
    hive__rspec *spec;
    int rc = hive__rsub_parse(o, &spec, &id, why);
    if (rc == HIVE_ENOMEM) {
        answer(s, c, id, false, "out of memory");
        return;
    }
    if (rc < 0) {
        answer(s, c, id, false, why);
        return;
    }
    rentry *old = find_entry(c, id, NULL);
    if (old) {
        /* The same request again (a client that subscribes afresh) is
         * granted again; another under a used id is refused. */
        bool same = same_spec(old->spec, spec);
        hive__free(spec);
        answer(s, c, id, same, same ? NULL : "that id is taken");
        return;
    }
    srvrm *rm = s->rm;
    if (s->ep.threaded) {
        hive__free(spec);
        answer(s, c, id, false, "remote subscriptions need a server without .threaded");
        return;
    }
    if (c->nrsubs >= s->cfg.max_subscriptions) {
        hive__free(spec);
        answer(s, c, id, false, "too many subscriptions");
        return;
    }
    const rexport *ex = NULL;
    const char *refusal = "not exported";
    hive_sub_request req = { 0 };
    for (size_t i = 0; rm && i < rm->nex; i++) {
        if (!hive__pattern_covers(rm->ex[i].pattern, spec->pattern)) continue;
        if (rm->ex[i].o.check) {
            memset(&req, 0, sizeof req);
            req.cid = c->cid;
            req.conntype = c->conntype ? c->conntype : "";
            req.peer_subject = c->subject ? c->subject : "";
            req.user = c->user;
            req.pattern = spec->pattern;
            req.nfilters = spec->nf;
            if (rm->ex[i].o.check(s, &req, rm->ex[i].o.user) != 0) {
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
        answer(s, c, id, false, r);
        return;
    }
    rgroup *g = rm->groups;
    while (g && strcmp(g->pattern, spec->pattern) != 0) g = g->next;
    rentry *e = hive__calloc(1, sizeof *e);
    if (!e) {
        hive__free(spec);
        answer(s, c, id, false, "out of memory");
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
            answer(s, c, id, false, "out of memory");
            return;
        }
        g->s = s;
        g->pattern = p;
        g->sub = sub;
        g->next = rm->groups;
        rm->groups = g;
    }
    e->c = c;
    e->spec = spec;
    e->g = g;
    e->unreliable = ex->o.unreliable;
    e->gnext = g->head;
    if (g->head) g->head->gprev = e;
    g->head = e;
    e->cnext = c->rsubs;
    c->rsubs = e;
    c->nrsubs++;
    answer(s, c, id, true, NULL);
}

void hive__srv_remote(hive__ep *ep, hive__conn *c, uint32_t pid, const msgpack_object *o)
{
    hive_server *s = (hive_server *)ep;
    if (pid == HIVE__PID_SUBSCRIBE) {
        on_subscribe(s, c, o);
        return;
    }
    uint32_t id;
    rentry **link;
    if (hive__runsub_parse(o, &id) != HIVE_OK) {
        hive__ep_close(ep, c, HIVE_CLOSE_BAD_FRAME, "an unsubscribe without an id", false, HIVE__CLOSE_FRAME, false);
        return;
    }
    rentry *e = find_entry(c, id, &link);
    if (!e) return;   /* never granted, or gone already: nothing to do */
    *link = e->cnext;
    entry_free(s, e);
}

void hive__srv_remote_drop(hive__ep *ep, hive__conn *c)
{
    hive_server *s = (hive_server *)ep;
    while (c->rsubs) {
        rentry *e = c->rsubs;
        c->rsubs = e->cnext;
        entry_free(s, e);
    }
}

void hive__srv_remote_free(hive_server *s)
{
    if (!s->rm) return;
    while (s->rm->groups) {
        rgroup *g = s->rm->groups;
        s->rm->groups = g->next;
        hive_bus_unsubscribe(s->ep.bus, g->sub);
        while (g->head) {
            rentry *e = g->head;
            g->head = e->gnext;
            hive__free(e->spec);
            hive__free(e);
        }
        hive__free(g->pattern);
        hive__free(g);
    }
    for (size_t i = 0; i < s->rm->nex; i++) hive__free(s->rm->ex[i].pattern);
    hive__free(s->rm);
    s->rm = NULL;
}
