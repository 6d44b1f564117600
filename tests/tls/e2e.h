/*
 * tests/tls/e2e.h - whole Hive sessions (server, client, bus) over the
 * secured transports: an event log that keeps every event's name and
 * field keys, and a runner for one session.
 */
#ifndef HIVE_TESTS_E2E_H
#define HIVE_TESTS_E2E_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "hive/hive.h"

#define LOG_MAX 128

typedef struct log_event {
    char name[96];
    char keys[160];          /* field keys in order, comma separated */
    char reason_name[32];
    char message[400];
    char peer_subject[200];
    bool has_subject;
    int remote;              /* close events: 1 = the peer decided, -1 absent */
    char text[64];           /* msg["text"] of recv events */
} log_event;

typedef struct evlog {
    log_event ev[LOG_MAX];
    int n;
} evlog;

static void log_handler(const hive_event *ev, void *user)
{
    evlog *l = user;
    if (l->n >= LOG_MAX) return;
    log_event *e = &l->ev[l->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", ev->name);
    size_t off = 0;
    for (size_t i = 0; i < ev->nfields && off < sizeof e->keys; i++)
        off += (size_t)snprintf(e->keys + off, sizeof e->keys - off, "%s%s", i ? "," : "", ev->fields[i].key);
    const char *s;
    e->remote = (int)hive_event_int(ev, "remote", -1);
    if ((s = hive_event_str(ev, "reason_name"))) snprintf(e->reason_name, sizeof e->reason_name, "%s", s);
    if ((s = hive_event_str(ev, "message"))) snprintf(e->message, sizeof e->message, "%s", s);
    if ((s = hive_event_str(ev, "peer_subject"))) {
        e->has_subject = true;
        snprintf(e->peer_subject, sizeof e->peer_subject, "%s", s);
    }
    hive_msg_view v;
    const msgpack_object *o;
    if (hive_event_msg(ev, &v, &o) == 0) {
        const char *t;
        size_t n;
        if (hive_msg_get_str(o, "text", &t, &n) == 0) snprintf(e->text, sizeof e->text, "%.*s", (int)n, t);
    }
    hive_msg_view_free(&v);
}

static inline void log_attach(evlog *l, hive_bus *bus)
{
    memset(l, 0, sizeof *l);
    hive_sub_opts o = { .priority = 1000 };
    cr_assert_gt(hive_bus_subscribe(bus, "net:**", log_handler, l, &o), 0);
}

static inline const log_event *log_find(const evlog *l, const char *name)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->ev[i].name, name) == 0) return &l->ev[i];
    return NULL;
}

static inline int log_count(const evlog *l, const char *name)
{
    int n = 0;
    for (int i = 0; i < l->n; i++) n += strcmp(l->ev[i].name, name) == 0;
    return n;
}

static inline void log_dump(const evlog *l, const char *who)
{
    for (int i = 0; i < l->n; i++)
        fprintf(stderr, "  %s[%d] %s {%s} %s %s\n", who, i, l->ev[i].name, l->ev[i].keys,
                l->ev[i].reason_name, l->ev[i].message);
}

typedef struct e2e {
    hive_bus *sbus, *cbus;
    hive_server *srv;
    hive_client *cli;
    evlog slog, clog;
    char addr[128];
} e2e;

/* A started server on scheme://127.0.0.1:0 with packets game:chat
 * (reliable) and game:pos (unreliable). */
static inline void e2e_server(e2e *x, const char *scheme, const hive_tls_config *tls)
{
    x->sbus = hive_bus_create(NULL);
    cr_assert_not_null(x->sbus);
    log_attach(&x->slog, x->sbus);
    char a[64];
    snprintf(a, sizeof a, "%s://127.0.0.1:0", scheme);
    hive_server_config c = { .addr = a, .handshake_timeout_ms = 3000 };
    if (tls) c.tls = *tls;
    x->srv = hive_server_create(&c, x->sbus);
    cr_assert_not_null(x->srv);
    cr_assert_gt(hive_server_register(x->srv, "game:chat", 0, HIVE_RELIABLE), 0);
    cr_assert_gt(hive_server_register(x->srv, "game:pos", 0, HIVE_UNRELIABLE), 0);
    int r = hive_server_start(x->srv);
    cr_assert_eq(r, HIVE_OK, "start %s: %s", scheme, hive_strerror(r));
}

/* A client dialing scheme://host:<server port>. */
static inline void e2e_client(e2e *x, const char *scheme, const char *host, const hive_tls_config *tls)
{
    x->cbus = hive_bus_create(NULL);
    cr_assert_not_null(x->cbus);
    log_attach(&x->clog, x->cbus);
    hive_client_config c = { .connect_timeout_ms = 3000, .handshake_timeout_ms = 3000 };
    if (tls) c.tls = *tls;
    x->cli = hive_client_create(&c, x->cbus);
    cr_assert_not_null(x->cli);
    snprintf(x->addr, sizeof x->addr, "%s://%s:%u", scheme, host, (unsigned)hive_server_port(x->srv));
    cr_assert_eq(hive_client_connect(x->cli, x->addr), HIVE_OK);
}

typedef bool (*e2e_cond)(e2e *x);

static inline bool e2e_pump(e2e *x, int ms, e2e_cond cond)
{
    uint64_t end = hive_now_ns() + (uint64_t)ms * 1000000u;
    for (;;) {
        if (cond && cond(x)) return true;
        if (hive_now_ns() >= end) return cond ? cond(x) : true;
        hive_server_service(x->srv, 1);
        if (x->cli) hive_client_service(x->cli, 1);
    }
}

static inline bool e2e_open(e2e *x) { return hive_client_get_state(x->cli) == HIVE_CLIENT_OPEN; }
static inline bool e2e_client_closed(e2e *x) { return log_count(&x->clog, HIVE_EV_CLIENT_CLOSE) > 0; }
static inline bool e2e_both_closed(e2e *x)
{
    return log_count(&x->clog, HIVE_EV_CLIENT_CLOSE) > 0 && log_count(&x->slog, HIVE_EV_SERVER_CLOSE) > 0;
}

static inline void e2e_free(e2e *x)
{
    hive_client_destroy(x->cli);
    hive_server_destroy(x->srv);
    hive_bus_destroy(x->cbus);
    hive_bus_destroy(x->sbus);
    memset(x, 0, sizeof *x);
}

#endif
