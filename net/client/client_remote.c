/*
 * client_remote.c - remote subscriptions, the client's side (hive/net.h
 * REMOTE SUBSCRIPTIONS, docs/PROTOCOL.md "Remote subscriptions").
 *
 * A subscription is keyed by its encoded request (pattern and filters,
 * with id 0): asking again for the same bytes adds a handle to it, and
 * only the first handle sends a request, only the last one's release an
 * unsubscribe. Requests go out when the session is open: at once, or
 * when it opens (every live one again after a fresh session; after a
 * resume only what changed while the link was away, since the server
 * kept the rest). Events arrive as `remote:<name>` on the client's bus.
 */
#include "events/internal.h"
#include "events/bus_internal.h"
#include "net/client/client_internal.h"
#include "net/wire/remote.h"

#include <stdio.h>
#include <string.h>

#define REMOTE_NAMES_MAX 4096   /* distinct remote:<name> a server may make us intern */

typedef struct csub {
    uint32_t id;
    int refs;
    bool sent;                  /* the server has (or will get) it on this session */
    bool refused;               /* the server said no: not asked again */
    bool answered;              /* the server answered (on this session) */
    uint8_t *key;               /* the request with id 0 (identity) */
    size_t key_len;
    char *pattern;
    struct csub *next;
} csub;

typedef struct ctrig {
    hive_client *c;
    char *name;
    int *handles;
    size_t n;
    struct ctrig *next;
} ctrig;

typedef struct chandle {
    int h;
    csub *s;
} chandle;

struct hive__cli_remote {
    csub *subs;
    uint32_t nsubs, next_id;
    chandle *hs;
    size_t nh, hcap;
    int next_h;
    uint32_t *unsub;            /* ids to unsubscribe once the link is back (a resume) */
    size_t nunsub, unsub_cap;
    uint64_t dropped;           /* (__atomic) */
    size_t names;
    hive_event_id ev_ok, ev_refused;
    msgpack_zone *zone;
    ctrig *trigs;               /* remote triggers */
    int sub_pkt, sub_open;      /* threaded: the internal subscriptions */
};

static clirm *rm_of(hive_client *c)
{
    if (!c->rm) {
        c->rm = hive__calloc(1, sizeof *c->rm);
        if (c->rm) {
            c->rm->ev_ok = hive_bus_intern(c->ep.bus, HIVE_EV_CLIENT_SUB_ACCEPTED);
            c->rm->ev_refused = hive_bus_intern(c->ep.bus, HIVE_EV_CLIENT_SUB_REFUSED);
        }
    }
    return c->rm;
}

/* The open connection, or NULL. Threaded: whether the client is open
 * (a non-NULL token; sends then go through the request queue). */
static hive__conn *open_conn(hive_client *c)
{
    if (c->ep.threaded)
        return hive_client_get_state(c) == HIVE_CLIENT_OPEN ? (hive__conn *)(uintptr_t)1 : NULL;
    hive__conn *k = c->ep.conns;
    return k && k->state == HIVE__C_OPEN ? k : NULL;
}

static int send_body(hive_client *c, hive__conn *k, uint32_t pid, const hive_msg *m)
{
    if (c->ep.threaded)   /* the I/O thread sends it (k is not ours to touch) */
        return hive__ep_request(&c->ep, HIVE__Q_HIVE, 0, pid, HIVE__DLV_RELIABLE, 0, hive_msg_data(m), hive_msg_size(m));
    const void *parts[1] = { hive_msg_data(m) };
    size_t len = hive_msg_size(m);
    return hive__ep_send_frame_v(&c->ep, k, pid, parts, &len, 1, HIVE__DLV_RELIABLE, 0);
}

/* The request of s under its id (the key has id 0: re-encoded). */
static int send_sub(hive_client *c, hive__conn *k, csub *s)
{
    /* The key is {id: 0, pattern, filters?}: decode it and write the id. */
    msgpack_object o;
    size_t off = 0;
    msgpack_zone *z = msgpack_zone_new(1024);
    if (!z) return HIVE_ENOMEM;
    int rc = msgpack_unpack((const char *)s->key, s->key_len, &off, z, &o) == MSGPACK_UNPACK_SUCCESS ? 0 : HIVE_EPROTO;
    hive_msg m;
    hive_msg_init(&m);
    if (rc == 0) {
        rc = hive_msg_map(&m, o.via.map.size) ? HIVE_ENOMEM : 0;
        for (uint32_t i = 0; i < o.via.map.size && rc == 0; i++) {
            const msgpack_object_kv *kv = &o.via.map.ptr[i];
            if (kv->key.via.str.size == 2 && memcmp(kv->key.via.str.ptr, "id", 2) == 0)
                rc = hive_msg_kv_uint(&m, "id", s->id) ? HIVE_ENOMEM : 0;
            else
                rc = msgpack_pack_object(&m.pk, kv->key) || msgpack_pack_object(&m.pk, kv->val) ? HIVE_ENOMEM : 0;
        }
    }
    if (rc == 0) rc = send_body(c, k, HIVE__PID_SUBSCRIBE, &m);
    hive_msg_free(&m);
    msgpack_zone_free(z);
    if (rc == HIVE_OK) s->sent = true;
    return rc;
}

static int send_unsub(hive_client *c, hive__conn *k, uint32_t id)
{
    hive_msg m;
    hive_msg_init(&m);
    int rc = hive__runsub_pack(&m, id);
    if (rc == 0) rc = send_body(c, k, HIVE__PID_UNSUBSCRIBE, &m);
    hive_msg_free(&m);
    return rc;
}

int hive_client_subscribe(hive_client *c, const char *pattern, const hive_filter *f, size_t n)
{
    if (!c || !pattern) return HIVE_EINVAL;
    if (c->ep.threaded && hive__cli_remote_threaded(c) < 0) return HIVE_ENOMEM;
    char why[HIVE__REASON_MAX + 1] = "";
    if (strlen(pattern) + sizeof HIVE_REMOTE_PREFIX > HIVE_NAME_MAX) {
        hive__ep_warn(&c->ep, "bad_subscription", pattern, "the pattern is too long for its remote: name");
        return HIVE_EINVAL;
    }
    clirm *rm = rm_of(c);
    if (!rm) return HIVE_ENOMEM;
    hive_msg key;
    hive_msg_init(&key);
    int rc = hive__rsub_pack(&key, 0, pattern, f, n, why);
    if (rc < 0) {
        hive_msg_free(&key);
        if (rc == HIVE_EINVAL) hive__ep_warn(&c->ep, "bad_subscription", pattern, why);
        return rc;
    }
    csub *s = rm->subs;
    while (s && !(s->key_len == hive_msg_size(&key) && memcmp(s->key, hive_msg_data(&key), s->key_len) == 0))
        s = s->next;
    if (rm->nh == rm->hcap) {
        size_t cap = rm->hcap ? rm->hcap * 2 : 8;
        chandle *hs = hive__realloc(rm->hs, cap * sizeof *hs);
        if (!hs) { hive_msg_free(&key); return HIVE_ENOMEM; }
        rm->hs = hs;
        rm->hcap = cap;
    }
    if (!s) {
        if (rm->nsubs >= HIVE_SUBS_MAX) { hive_msg_free(&key); return HIVE_ELIMIT; }
        s = hive__calloc(1, sizeof *s);
        uint8_t *kb = hive__malloc(hive_msg_size(&key));
        char *p = hive__strdup(pattern);
        if (!s || !kb || !p) {
            hive__free(s);
            hive__free(kb);
            hive__free(p);
            hive_msg_free(&key);
            return HIVE_ENOMEM;
        }
        memcpy(kb, hive_msg_data(&key), hive_msg_size(&key));
        s->key = kb;
        s->key_len = hive_msg_size(&key);
        s->pattern = p;
        s->id = ++rm->next_id;
        s->next = rm->subs;
        rm->subs = s;
        rm->nsubs++;
        hive__conn *k = open_conn(c);
        if (k) send_sub(c, k, s);   /* a failure closes k: the next session asks again */
    }
    hive_msg_free(&key);
    s->refs++;
    int h = ++rm->next_h;
    rm->hs[rm->nh++] = (chandle){ h, s };
    return h;
}

static void sub_free(csub *s)
{
    hive__free(s->key);
    hive__free(s->pattern);
    hive__free(s);
}

int hive_client_unsubscribe(hive_client *c, int handle)
{
    if (!c) return HIVE_EINVAL;
    clirm *rm = c->rm;
    size_t i = 0;
    while (rm && i < rm->nh && rm->hs[i].h != handle) i++;
    if (!rm || i == rm->nh) return HIVE_ENOENT;
    csub *s = rm->hs[i].s;
    rm->hs[i] = rm->hs[--rm->nh];
    if (--s->refs > 0) return HIVE_OK;
    for (csub **p = &rm->subs; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            break;
        }
    rm->nsubs--;
    if (s->sent && !s->refused) {
        hive__conn *k = open_conn(c);
        if (k) send_unsub(c, k, s->id);
        /* Threaded, the link may be going as this is queued: asked again
         * when the session next opens (the server ignores a repeat). */
        if (!k || c->ep.threaded) {
            /* The server keeps it across the resume: tell it then. */
            if (rm->nunsub == rm->unsub_cap) {
                size_t cap = rm->unsub_cap ? rm->unsub_cap * 2 : 8;
                uint32_t *u = hive__realloc(rm->unsub, cap * sizeof *u);
                if (u) {
                    rm->unsub = u;
                    rm->unsub_cap = cap;
                }
            }
            if (rm->nunsub < rm->unsub_cap) rm->unsub[rm->nunsub++] = s->id;
        }
    }
    sub_free(s);
    return HIVE_OK;
}

uint64_t hive_client_remote_dropped(const hive_client *c)
{
    return c && c->rm ? __atomic_load_n(&c->rm->dropped, __ATOMIC_RELAXED) : 0;
}

static void remote_open(hive_client *c, hive__conn *k, bool fresh)
{
    clirm *rm = c->rm;
    if (!rm) return;
    if (fresh) {
        /* A new session: the server has none of them. */
        rm->nunsub = 0;
        for (csub *s = rm->subs; s; s = s->next) s->sent = s->refused = s->answered = false;
    }
    for (size_t i = 0; i < rm->nunsub; i++)
        if (send_unsub(c, k, rm->unsub[i]) < 0) return;
    rm->nunsub = 0;
    for (csub *s = rm->subs; s; s = s->next)
        if (!s->sent && !s->refused && send_sub(c, k, s) < 0) return;
}

void hive__cli_remote_open(hive_client *c, hive__conn *k, bool fresh)
{
    if (!c->ep.threaded) {
        remote_open(c, k, fresh);
        return;
    }
    /* Threaded: the subscriptions are the game thread's; it asks. A
     * resumed session re-sends what was not answered (a repeat is
     * granted again by the server, harmlessly). */
    if (!hive_bus_wants(c->ep.bus, c->rm_ev_open)) return;   /* nothing was ever subscribed */
    hive_field f[] = { HIVE_PTR("client", c), HIVE_INT("fresh", fresh) };
    hive_bus_post(c->ep.bus, c->rm_ev_open, f, 2);
}

static csub *by_id(clirm *rm, uint32_t id)
{
    csub *s = rm ? rm->subs : NULL;
    while (s && s->id != id) s = s->next;
    return s;
}

/* A protocol error in what the server sent: close (k NULL: from the game
 * thread, through the API). */
static void broken(hive_client *c, hive__conn *k, const char *why)
{
    if (k) hive__ep_close(&c->ep, k, HIVE_CLOSE_BAD_FRAME, why, false, HIVE__CLOSE_FRAME, false);
    else hive_client_close(c, HIVE_CLOSE_BAD_FRAME, why);
}

static void handle(hive_client *c, hive__conn *k, uint32_t pid, const msgpack_object *o);

void hive__cli_remote(hive__ep *ep, hive__conn *k, uint32_t pid, const msgpack_object *o)
{
    hive_client *c = (hive_client *)ep;
    if (!ep->threaded) {
        handle(c, k, pid, o);
        return;
    }
    /* Threaded: to the game thread, which owns the subscriptions. */
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    if (msgpack_pack_object(&pk, *o) == 0) {
        hive_field f[] = { HIVE_PTR("client", c), HIVE_INT("pid", pid), HIVE_BYTES("body", sb.data, sb.size) };
        if (hive_bus_post(ep->bus, c->rm_ev_pkt, f, 3) != HIVE_OK) HIVE__STAT_ADD(ep, packets_dropped, 1);
    }
    msgpack_sbuffer_destroy(&sb);
}

static void on_pkt_event(const hive_event *ev, void *user)
{
    hive_client *c = user;
    const void *body;
    size_t len;
    if (hive_event_ptr(ev, "client") != c || hive_event_get_bytes(ev, "body", &body, &len) != HIVE_OK) return;
    hive_msg_view v;
    if (hive_msg_view_init(&v, body, len) != 0) return;
    handle(c, NULL, (uint32_t)hive_event_int(ev, "pid", 0), v.obj);
    hive_msg_view_free(&v);
}

static void on_open_event(const hive_event *ev, void *user)
{
    hive_client *c = user;
    if (hive_event_ptr(ev, "client") != c || !c->rm) return;
    bool fresh = hive_event_int(ev, "fresh", 0) != 0;
    if (!fresh)   /* what was not answered may not have arrived */
        for (csub *s = c->rm->subs; s; s = s->next)
            if (!s->answered) s->sent = false;
    remote_open(c, (hive__conn *)(uintptr_t)1, fresh);
}

int hive__cli_remote_threaded(hive_client *c)
{
    clirm *rm = rm_of(c);
    if (!rm) return HIVE_ENOMEM;
    if (rm->sub_pkt) return HIVE_OK;
    int a = hive_bus_subscribe_id(c->ep.bus, c->rm_ev_pkt, on_pkt_event, c, NULL);
    if (a < 0) return a;
    int b = hive_bus_subscribe_id(c->ep.bus, c->rm_ev_open, on_open_event, c, NULL);
    if (b < 0) {
        hive_bus_unsubscribe(c->ep.bus, a);
        return b;
    }
    rm->sub_pkt = a;
    rm->sub_open = b;
    return HIVE_OK;
}

static void handle(hive_client *c, hive__conn *k, uint32_t pid, const msgpack_object *o)
{
    hive__ep *ep = &c->ep;
    clirm *rm = c->rm;
    if (pid == HIVE__PID_SUBANSWER) {
        uint32_t id;
        bool ok;
        const char *reason;
        size_t rlen;
        if (hive__ranswer_parse(o, &id, &ok, &reason, &rlen) != HIVE_OK) {
            broken(c, k, "a malformed subscription answer");
            return;
        }
        csub *s = by_id(rm, id);
        if (!s) return;   /* released meanwhile */
        if (!ok) s->refused = true;
        s->answered = true;
        hive_event_id ev = ok ? rm->ev_ok : rm->ev_refused;
        if (ev > 0 && hive_bus_wants(ep->bus, ev)) {
            char r[HIVE__REASON_MAX + 1];
            memcpy(r, reason, rlen);
            r[rlen] = 0;
            /* A copy: a handler may release the subscription (and its pattern). */
            char pat[HIVE_NAME_MAX];
            snprintf(pat, sizeof pat, "%s", s->pattern);
            hive_field f[] = { HIVE_PTR("client", c), HIVE_STR("pattern", pat), HIVE_STR("reason", r) };
            hive__ep_emit(ep, ev, f, ok ? 2 : 3);
        }
        return;
    }
    /* A remote event. */
    const char *name;
    size_t nlen;
    hive_field fields[HIVE__REV_FIELDS_MAX];
    size_t nf;
    uint64_t dropped;
    if (!rm || (!rm->zone && !(rm->zone = msgpack_zone_new(2048)))) {
        broken(c, k, rm ? "out of memory" : "a remote event nobody asked for");
        return;
    }
    msgpack_zone_clear(rm->zone);
    /* Keys and strings get NUL-ended copies: what they take, counted. */
    size_t need = 16;
    const msgpack_object *fo = NULL;
    for (uint32_t i = 0; o->type == MSGPACK_OBJECT_MAP && i < o->via.map.size; i++)
        if (o->via.map.ptr[i].key.type == MSGPACK_OBJECT_STR && o->via.map.ptr[i].key.via.str.size == 6 &&
            memcmp(o->via.map.ptr[i].key.via.str.ptr, "fields", 6) == 0)
            fo = &o->via.map.ptr[i].val;
    for (uint32_t i = 0; fo && fo->type == MSGPACK_OBJECT_MAP && i < fo->via.map.size; i++) {
        const msgpack_object_kv *kv = &fo->via.map.ptr[i];
        if (kv->key.type == MSGPACK_OBJECT_STR) need += kv->key.via.str.size + 1;
        if (kv->val.type == MSGPACK_OBJECT_STR) need += kv->val.via.str.size + 1;
    }
    char stack[2048], *scratch = need <= sizeof stack ? stack : hive__malloc(need);
    if (!scratch) {
        broken(c, k, "out of memory");
        return;
    }
    if (hive__revent_parse(o, &name, &nlen, fields, &nf, &dropped, rm->zone, scratch, need) != HIVE_OK) {
        if (scratch != stack) hive__free(scratch);
        broken(c, k, "a malformed remote event");
        return;
    }
    if (dropped > __atomic_load_n(&rm->dropped, __ATOMIC_RELAXED)) __atomic_store_n(&rm->dropped, dropped, __ATOMIC_RELAXED);
    HIVE__STAT_ADD(ep, remote_events, 1);
    char full[HIVE_NAME_MAX];
    bool wanted = false;
    if (nlen + sizeof HIVE_REMOTE_PREFIX <= HIVE_NAME_MAX) {
        memcpy(full, HIVE_REMOTE_PREFIX, sizeof HIVE_REMOTE_PREFIX - 1);
        memcpy(full + sizeof HIVE_REMOTE_PREFIX - 1, name, nlen);
        full[sizeof HIVE_REMOTE_PREFIX - 1 + nlen] = 0;
        /* Only what a live subscription asked for (one released while
         * its events were on the way is not the server's fault): the
         * server cannot make the bus intern names nobody wanted. */
        const char *plain = full + sizeof HIVE_REMOTE_PREFIX - 1;
        for (csub *x = rm->subs; x && !wanted; x = x->next) wanted = !x->refused && hive__pattern_match(x->pattern, plain);
    }
    if (wanted) {
        hive_event_id id = hive_bus_lookup(ep->bus, full);
        if (id <= 0 && rm->names < REMOTE_NAMES_MAX) {
            id = hive_bus_intern(ep->bus, full);
            if (id > 0) rm->names++;
        }
        /* Threaded, this runs on the game thread: publish, never post. */
    if (id > 0 && hive_bus_wants(ep->bus, id)) {
        if (k) hive__ep_emit(ep, id, fields, nf);
        else hive_bus_publish(ep->bus, id, fields, nf);
    }
    }
    if (scratch != stack) hive__free(scratch);
}

void hive__cli_remote_free(hive_client *c)
{
    clirm *rm = c->rm;
    if (!rm) return;
    while (rm->subs) {
        csub *s = rm->subs;
        rm->subs = s->next;
        sub_free(s);
    }
    while (rm->trigs) {
        ctrig *t = rm->trigs;
        rm->trigs = t->next;
        /* The bus may outlive the client: its trigger must not call back into t. */
        hive_bus_trigger_remove(c->ep.bus, t->name);
        hive__free(t->handles);
        hive__free(t->name);
        hive__free(t);
    }
    hive__free(rm->hs);
    hive__free(rm->unsub);
    if (rm->zone) msgpack_zone_free(rm->zone);
    if (rm->sub_pkt) hive_bus_unsubscribe(c->ep.bus, rm->sub_pkt);
    if (rm->sub_open) hive_bus_unsubscribe(c->ep.bus, rm->sub_open);
    hive__free(rm);
    c->rm = NULL;
}

/* ------------------------------------------------------------------ */
/* Remote triggers                                                      */
/* ------------------------------------------------------------------ */


static ctrig **trig_list(hive_client *c) { return &c->rm->trigs; }

static void trig_release(ctrig *t)
{
    for (size_t i = 0; i < t->n; i++) hive_client_unsubscribe(t->c, t->handles[i]);
    for (ctrig **p = trig_list(t->c); *p; p = &(*p)->next)
        if (*p == t) {
            *p = t->next;
            break;
        }
    hive__free(t->handles);
    hive__free(t->name);
    hive__free(t);
}

/* The last action of a single-shot remote trigger: it fired, its
 * subscriptions go. */
static void trig_fired(const hive_event *ev, void *user)
{
    (void)ev;
    trig_release(user);
}

int hive_client_trigger_add(hive_client *c, const hive_trigger_desc *d, const hive_filter *f, size_t nf)
{
    if (!c || !d || !d->name || !d->events || !d->nevents || d->nevents > 64 || !d->actions || !d->nactions)
        return HIVE_EINVAL;
    clirm *rm = rm_of(c);
    if (!rm) return HIVE_ENOMEM;
    if (hive_bus_trigger_find(c->ep.bus, d->name, NULL) == HIVE_OK) return HIVE_EEXIST;
    ctrig *t = hive__calloc(1, sizeof *t);
    char (*names)[HIVE_NAME_MAX] = hive__calloc(d->nevents, sizeof *names);
    const char **evs = hive__calloc(d->nevents, sizeof *evs);
    hive_trigger_action *acts = hive__calloc(d->nactions + 1, sizeof *acts);
    int rc = HIVE_ENOMEM;
    if (!t || !names || !evs || !acts || !(t->name = hive__strdup(d->name)) ||
        !(t->handles = hive__calloc(d->nevents, sizeof *t->handles)))
        goto fail;
    t->c = c;
    for (size_t i = 0; i < d->nevents; i++) {
        if (!d->events[i] || strlen(d->events[i]) + sizeof HIVE_REMOTE_PREFIX > HIVE_NAME_MAX) {
            rc = HIVE_EINVAL;
            goto fail;
        }
        snprintf(names[i], sizeof names[i], "%s%s", HIVE_REMOTE_PREFIX, d->events[i]);
        evs[i] = names[i];
        int h = hive_client_subscribe(c, d->events[i], f, nf);
        if (h < 0) {
            rc = h;
            goto fail;
        }
        t->handles[t->n++] = h;
    }
    memcpy(acts, d->actions, d->nactions * sizeof *acts);
    hive_trigger_desc mine = *d;
    mine.events = evs;
    mine.actions = acts;
    if (d->single_shot) {
        acts[d->nactions] = (hive_trigger_action){ trig_fired, t };
        mine.nactions = d->nactions + 1;
    }
    rc = hive_bus_trigger_add(c->ep.bus, &mine);
    if (rc < 0) goto fail;
    t->next = rm->trigs;
    rm->trigs = t;
    hive__free(names);
    hive__free(evs);
    hive__free(acts);
    return HIVE_OK;
fail:
    if (t) {
        for (size_t i = 0; i < t->n; i++) hive_client_unsubscribe(c, t->handles[i]);
        hive__free(t->handles);
        hive__free(t->name);
        hive__free(t);
    }
    hive__free(names);
    hive__free(evs);
    hive__free(acts);
    return rc;
}

int hive_client_trigger_remove(hive_client *c, const char *name)
{
    if (!c || !name) return HIVE_EINVAL;
    ctrig *t = c->rm ? c->rm->trigs : NULL;
    while (t && strcmp(t->name, name) != 0) t = t->next;
    if (!t) return HIVE_ENOENT;
    int rc = hive_bus_trigger_remove(c->ep.bus, name);
    trig_release(t);
    return rc;
}
