/*
 * The ENet transport driven directly (no core): what a large flush reads
 * from the socket is held until the next ->service, and the link lifetime
 * rules still hold for it. A link the core aborts gets no callback for
 * what was read before; a connect read during a flush is offered to the
 * core after it, and a refusal drops the peer; a transport destroyed with
 * such events waiting frees them (the sanitizer's leak check says so).
 *
 * The crowd (more links than one flush slice, 256) is raw ENet peers on
 * one host, never serviced while the test looks, so nothing but the
 * players under test sends to the transport.
 */
#include <criterion/criterion.h>
#include <enet/enet.h>
#include <string.h>

#include "hive/net.h"
#include "net/transport/transport.h"

#define CROWD 300
#define SLOTS (CROWD + 8)

typedef struct slot {
    hive__link *link;
    int data, disconnects, reason;
} slot;

typedef struct core {
    slot s[SLOTS];
    int n, accepts, refuse, connected;
    int stray;                /* callbacks for a link the core let go of */
    hive__link *dropped[4];   /* links the core aborted or refused */
    int ndropped;
} core;

static bool was_dropped(core *c, hive__link *l)
{
    for (int i = 0; i < c->ndropped; i++)
        if (c->dropped[i] == l) return true;
    return false;
}

static int on_accepted(void *p, hive__link *l, const char *addr)
{
    core *c = p;
    c->accepts++;
    if (c->refuse) {
        cr_assert_lt(c->ndropped, 4);
        c->dropped[c->ndropped++] = l;
        return c->refuse;
    }
    cr_assert_lt(c->n, SLOTS);
    slot *s = &c->s[c->n++];
    memset(s, 0, sizeof *s);
    s->link = l;
    l->conn = s;
    return 0;
}

static void on_connected(void *p, hive__link *l) { ((core *)p)->connected++; }

static void on_data(void *p, hive__link *l, const uint8_t *b, size_t n, int ch)
{
    core *c = p;
    if (was_dropped(c, l)) { c->stray++; return; }
    ((slot *)l->conn)->data++;
}

static void on_disconnected(void *p, hive__link *l, int reason, const char *message)
{
    core *c = p;
    if (was_dropped(c, l)) { c->stray++; return; }
    slot *s = l->conn;
    s->disconnects++;
    s->reason = reason;
}

/* Every callback the transport has made so far. */
static int calls(const core *c)
{
    int n = c->accepts + c->connected + c->stray;
    for (int i = 0; i < c->n; i++) n += c->s[i].data + c->s[i].disconnects;
    return n;
}

typedef struct world {
    core c;
    hive__transport *t;
    ENetHost *crowd;
    ENetAddress to;
} world;

static void world_service(world *w, ENetHost *also, int rounds)
{
    for (int i = 0; i < rounds; i++) {
        w->t->vt->service(w->t, 1);
        ENetEvent ev;
        while (enet_host_service(w->crowd, &ev, 0) > 0)
            if (ev.type == ENET_EVENT_TYPE_RECEIVE) enet_packet_destroy(ev.packet);
        while (also && enet_host_service(also, &ev, 0) > 0)
            if (ev.type == ENET_EVENT_TYPE_RECEIVE) enet_packet_destroy(ev.packet);
    }
}

static void world_init(world *w)
{
    memset(w, 0, sizeof *w);
    cr_assert_eq(enet_initialize(), 0);
    hive__transport_cb cb = { .core = &w->c, .accepted = on_accepted, .connected = on_connected,
                              .data = on_data, .disconnected = on_disconnected };
    hive__transport_opts o = { .max_links = SLOTS + 8, .timeout_ms = 10000, .max_frame = 65536 };
    cr_assert_eq(hive__transport_enet_create(&cb, &o, &w->t), 0);
    hive__addr a = { .scheme = "enet", .host = "127.0.0.1", .port = 0 };
    cr_assert_eq(w->t->vt->listen(w->t, &a), 0);
    enet_address_set_host(&w->to, "127.0.0.1");
    w->to.port = w->t->vt->bound_port(w->t);
    w->crowd = enet_host_create(NULL, CROWD, 2, 0, 0);
    cr_assert_not_null(w->crowd);
    for (int i = 0; i < CROWD; i++) cr_assert_not_null(enet_host_connect(w->crowd, &w->to, 2, 0));
    for (int i = 0; i < 5000 && w->c.accepts < CROWD; i++) world_service(w, NULL, 1);
    cr_assert_eq(w->c.accepts, CROWD);
}

/* A player: one raw peer on its own host, connected and accepted. */
typedef struct player {
    ENetHost *host;
    ENetPeer *peer;
    slot *s;
} player;

static void player_join(world *w, player *p)
{
    p->host = enet_host_create(NULL, 1, 2, 0, 0);
    cr_assert_not_null(p->host);
    p->peer = enet_host_connect(p->host, &w->to, 2, 0);
    cr_assert_not_null(p->peer);
    int before = w->c.n;
    for (int i = 0; i < 2000 && w->c.n == before; i++) world_service(w, p->host, 1);
    cr_assert_eq(w->c.n, before + 1);
    p->s = &w->c.s[before];
    world_service(w, p->host, 10);
}

static void player_send(player *p, const char *text)
{
    ENetPacket *pk = enet_packet_create(text, strlen(text), ENET_PACKET_FLAG_RELIABLE);
    cr_assert_eq(enet_peer_send(p->peer, 0, pk), 0);
    enet_host_flush(p->host);
}

/* Services only p's host until its peer reaches state (or 200 ms). */
static void player_until(player *p, ENetPeerState state)
{
    ENetEvent ev;
    for (int i = 0; i < 200 && p->peer->state != state; i++)
        while (enet_host_service(p->host, &ev, 1) > 0)
            if (ev.type == ENET_EVENT_TYPE_RECEIVE) enet_packet_destroy(ev.packet);
    cr_assert_eq(p->peer->state, state);
}

/* One frame queued on every crowd link and a flush: more than a slice,
 * so the transport reads the socket between slices. No callback. */
static void big_flush(world *w)
{
    int before = calls(&w->c);
    static const uint8_t tick[4] = { 1, 2, 3, 4 };
    const void *pieces[1] = { tick };
    size_t lens[1] = { sizeof tick };
    for (int i = 0; i < CROWD; i++)
        cr_assert_eq(w->t->vt->send(w->t, w->c.s[i].link, pieces, lens, 1, true), 0);
    w->t->vt->flush(w->t);
    cr_assert_eq(calls(&w->c), before, "a callback ran inside ->flush");
}

/* p's message and disconnect, both read by flushes (the message by the
 * first, the disconnect, sent once the message was acknowledged, by the
 * second). */
static void last_words(world *w, player *p)
{
    player_send(p, "last words");
    enet_peer_disconnect_later(p->peer, 0);
    big_flush(w);
    player_until(p, ENET_PEER_STATE_DISCONNECTING);
    big_flush(w);
}

/* A newcomer whose connect completes in the second of two flushes. */
static void newcomer(world *w, player *p)
{
    p->host = enet_host_create(NULL, 1, 2, 0, 0);
    cr_assert_not_null(p->host);
    p->peer = enet_host_connect(p->host, &w->to, 2, 0);
    cr_assert_not_null(p->peer);
    enet_host_flush(p->host);
    big_flush(w);
    player_until(p, ENET_PEER_STATE_CONNECTED);
    big_flush(w);
}

static void world_fini(world *w)
{
    if (w->t) w->t->vt->destroy(w->t);
    enet_host_destroy(w->crowd);
    enet_deinitialize();
}

Test(enet_flush_events, read_during_flushes_they_come_with_the_next_service, .timeout = 60)
{
    world *w = calloc(1, sizeof *w);
    world_init(w);
    player p = { 0 };
    player_join(w, &p);
    last_words(w, &p);
    world_service(w, NULL, 50);
    cr_expect_eq(p.s->data, 1, "the last message was %s", p.s->data ? "duplicated" : "lost");
    cr_expect_eq(p.s->disconnects, 1);
    cr_expect_eq(p.s->reason, HIVE_CLOSE_PEER_VANISHED, "ENet's disconnect carried no Hive reason");
    enet_host_destroy(p.host);
    world_fini(w);
    free(w);
}

Test(enet_flush_events, an_aborted_link_hears_nothing_of_them, .timeout = 60)
{
    world *w = calloc(1, sizeof *w);
    world_init(w);
    player p = { 0 }, q = { 0 };
    player_join(w, &p);
    player_join(w, &q);
    last_words(w, &p);            /* p: message and disconnect read */
    player_send(&q, "unheard");   /* q: a message read */
    big_flush(w);
    w->c.dropped[w->c.ndropped++] = p.s->link;
    w->c.dropped[w->c.ndropped++] = q.s->link;
    w->t->vt->abort(w->t, p.s->link);
    w->t->vt->abort(w->t, q.s->link);
    world_service(w, q.host, 50);
    cr_expect_eq(w->c.stray, 0, "%d callbacks for aborted links", w->c.stray);
    cr_expect_eq(q.peer->state, ENET_PEER_STATE_DISCONNECTED, "the aborted peer was told");
    /* The crowd is untouched. */
    for (int i = 0; i < CROWD; i++) cr_expect_eq(w->c.s[i].disconnects, 0);
    enet_host_destroy(p.host);
    enet_host_destroy(q.host);
    world_fini(w);
    free(w);
}

Test(enet_flush_events, a_connect_read_during_flushes_can_be_refused_after_them, .timeout = 60)
{
    world *w = calloc(1, sizeof *w);
    world_init(w);
    int accepts = w->c.accepts;
    w->c.refuse = HIVE_ESTATE;
    player p = { 0 };
    newcomer(w, &p);
    cr_expect_eq(w->c.accepts, accepts, "accepted inside ->flush");
    player_send(&p, "let me in");
    for (int i = 0; i < 200 && p.peer->state != ENET_PEER_STATE_DISCONNECTED; i++) world_service(w, p.host, 1);
    cr_expect_eq(w->c.accepts, accepts + 1);
    cr_expect_eq(p.peer->state, ENET_PEER_STATE_DISCONNECTED, "the refused peer was not dropped");
    cr_expect_eq(w->c.stray, 0);
    enet_host_destroy(p.host);
    world_fini(w);
    free(w);
}

Test(enet_flush_events, destroy_frees_them_without_callbacks, .timeout = 60)
{
    world *w = calloc(1, sizeof *w);
    world_init(w);
    player p = { 0 }, n = { 0 };
    player_join(w, &p);
    last_words(w, &p);            /* a message and a disconnect */
    newcomer(w, &n);              /* a connect */
    int before = calls(&w->c);
    w->t->vt->destroy(w->t);
    w->t = NULL;
    cr_expect_eq(calls(&w->c), before, "->destroy called back");
    enet_host_destroy(p.host);
    enet_host_destroy(n.host);
    world_fini(w);
    free(w);
}
