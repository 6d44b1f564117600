/*
 * bridge.c - a bus on NATS (include/hive/bridge.h).
 *
 * Out: one bus subscription per export pattern; its handler encodes the
 * event (bridge/codec.c) and hands it to libnats, which buffers and never
 * waits for the network on the caller's thread. In: one NATS subscription
 * per import pattern; libnats calls on_msg on its delivery thread, which
 * checks the message and posts the event on the bus. Connection state
 * changes arrive on libnats' callback thread and are posted as nats:*
 * events. Nothing here runs on the game loop but the export handler.
 *
 * Lifetime: libnats may still be inside on_msg or a connection callback
 * when destroy begins, so destroy unsubscribes, closes, and waits for each
 * subscription's completion callback and for the closed callback before
 * it frees anything those callbacks touch.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <nats/nats.h>
#include "bridge/codec.h"
#include "events/bus_internal.h"
#include "events/internal.h"

#define MAX_PATTERNS 64
#define KEY_TABLE 4096   /* process-wide distinct imported field keys */

/* ------------------------------------------------------------------ */
/* Field keys of imported events                                       */
/* ------------------------------------------------------------------ */

/* A posted event's keys are kept by pointer and must outlive the bus
 * (hive_bus_post), while a bridge may be destroyed with its events still
 * queued. So imported keys live in one process-wide table that is never
 * freed: bounded (KEY_TABLE keys of at most 63 bytes, 256 KiB), reachable
 * from a static, and shared by every bridge of the process. */
static pthread_mutex_t key_lock = PTHREAD_MUTEX_INITIALIZER;
static char *key_slots[KEY_TABLE * 2];   /* open addressing, at most half full */
static size_t key_count;

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

/* The stable copy of key, adding it when new and *budget allows (one
 * unit per new key). NULL when the table or the budget is spent. */
static const char *key_intern(const char *key, atomic_uint *budget)
{
    size_t mask = KEY_TABLE * 2 - 1, h = (size_t)fnv1a(key) & mask;
    /* slots are only ever filled, never emptied or changed: a lookup needs
     * no lock (the release store below publishes the copy with its bytes) */
    for (size_t i = h;; i = (i + 1) & mask) {
        char *s = __atomic_load_n(&key_slots[i], __ATOMIC_ACQUIRE);
        if (!s) break;
        if (strcmp(s, key) == 0) return s;
    }
    const char *r = NULL;
    pthread_mutex_lock(&key_lock);
    size_t i = h;
    for (;; i = (i + 1) & mask) {
        char *s = key_slots[i];
        if (!s) break;
        if (strcmp(s, key) == 0) {
            r = s;
            goto out;
        }
    }
    if (key_count >= KEY_TABLE) goto out;
    unsigned b = atomic_load(budget);
    do {
        if (b == 0) goto out;
    } while (!atomic_compare_exchange_weak(budget, &b, b - 1));
    /* plain malloc: the table outlives any allocator a program installs */
    char *copy = strdup(key);
    if (!copy) goto out;
    __atomic_store_n(&key_slots[i], copy, __ATOMIC_RELEASE);
    key_count++;
    r = copy;
out:
    pthread_mutex_unlock(&key_lock);
    return r;
}

/* ------------------------------------------------------------------ */

typedef struct bridge_export {
    struct hive_bridge *br;
    char pattern[HIVE_NAME_MAX];
    int sub;
} bridge_export;

typedef struct bridge_import {
    struct hive_bridge *br;
    char pattern[HIVE_NAME_MAX];
    char subject[HIVE_NAME_MAX + 64];
    char group[64];
    natsSubscription *sub;
    bool done;   /* its completion callback ran */
    /* libnats delivers one subscription's messages on one thread at a
     * time: its decoder (and the memory it reuses) is that thread's */
    hive__bridge_decoded dec;
} bridge_import;

typedef struct bridge_request bridge_request;
struct bridge_request {
    struct hive_bridge *br;
    bridge_request *next, *prev;
    int64_t id;
    int expect;
    hive_bridge_reply_fn fn;
    void *user;
};

struct hive_bridge {
    hive_bus *bus;
    natsOptions *opts;
    natsConnection *nc;
    char name[HIVE_BRIDGE_ORIGIN_MAX];
    char prefix[64];
    char inbox[96];                 /* "_INBOX.<nuid>": replies to our requests */
    uint32_t max_event_bytes;
    atomic_uint budget;             /* new names and keys imports may still add */

    bridge_export exp[MAX_PATTERNS];
    size_t nexp;
    bridge_import *imp[MAX_PATTERNS];
    size_t nimp;
    bridge_import reply_sub;        /* the inbox subscription */
    msgpack_sbuffer sb;             /* owner thread: the export encoder */

    /* owner thread: the subject of recently exported names, by id (an
     * id's name never changes), so an export does not map it each time */
    struct { hive_event_id id; bool ok; char subject[HIVE_NAME_MAX + 64]; } subj[64];

    bridge_request *reqs;           /* requests waiting (owner thread) */
    int64_t next_req;

    hive_event_id ev_connected, ev_disconnected, ev_reconnected, ev_closed, ev_reply;

    pthread_mutex_t lock;           /* done flags, closed */
    pthread_cond_t cond;
    bool closed;                    /* the closed callback ran */
    bool destroying;

    atomic_uint_fast64_t exported, imported, dropped_out, dropped_in, bus_full, unmappable, too_big,
        reconnects;
    atomic_bool connected;
};

static void count(atomic_uint_fast64_t *c)
{
    atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static uint64_t get(const atomic_uint_fast64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* ------------------------------------------------------------------ */
/* Connection callbacks (libnats' callback thread)                      */
/* ------------------------------------------------------------------ */

static void post_state(hive_bridge *br, hive_event_id id, natsConnection *nc, bool with_url)
{
    char url[256] = "";
    if (with_url && nc) natsConnection_GetConnectedUrl(nc, url, sizeof url);
    hive_field f[3] = {
        HIVE_INT("dropped_out", (int64_t)get(&br->dropped_out)),
        HIVE_INT("dropped_in", (int64_t)get(&br->dropped_in)),
        HIVE_STR("url", url),
    };
    hive_bus_post(br->bus, id, f, with_url ? 3 : 2);
}

static void on_connected(natsConnection *nc, void *closure)
{
    hive_bridge *br = closure;
    atomic_store(&br->connected, true);
    post_state(br, br->ev_connected, nc, true);
}

static void on_disconnected(natsConnection *nc, void *closure)
{
    hive_bridge *br = closure;
    atomic_store(&br->connected, false);
    post_state(br, br->ev_disconnected, nc, false);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    hive_bridge *br = closure;
    atomic_store(&br->connected, true);
    count(&br->reconnects);
    post_state(br, br->ev_reconnected, nc, true);
}

static void on_closed(natsConnection *nc, void *closure)
{
    hive_bridge *br = closure;
    atomic_store(&br->connected, false);
    pthread_mutex_lock(&br->lock);
    bool quiet = br->destroying;
    br->closed = true;
    pthread_cond_broadcast(&br->cond);
    pthread_mutex_unlock(&br->lock);
    /* a closed callback during destroy is ours; the bus may be
     * destroyed right after, so post nothing then */
    if (!quiet) hive_bus_post(br->bus, br->ev_closed, NULL, 0);
}

static void on_sub_complete(void *closure)
{
    bridge_import *im = closure;
    hive_bridge *br = im->br;
    pthread_mutex_lock(&br->lock);
    im->done = true;
    pthread_cond_broadcast(&br->cond);
    pthread_mutex_unlock(&br->lock);
}

/* ------------------------------------------------------------------ */
/* In: a message from NATS (libnats' delivery thread)                   */
/* ------------------------------------------------------------------ */

/* The id of an imported name: an existing one, or a new one while the
 * budget allows. */
static hive_event_id import_id(hive_bridge *br, const char *name)
{
    hive_event_id id = hive_bus_lookup(br->bus, name);
    if (id > 0) return id;
    unsigned b = atomic_load(&br->budget);
    do {
        if (b == 0) return HIVE_ELIMIT;
    } while (!atomic_compare_exchange_weak(&br->budget, &b, b - 1));
    return hive_bus_intern(br->bus, name);
}

/* Post the decoded event d as id, with the extra fields x[nx] after its
 * own. The keys are made stable first. */
static void post_decoded(hive_bridge *br, hive_event_id id, hive__bridge_decoded *d, const hive_field *x, size_t nx)
{
    hive_field f[HIVE_BRIDGE_MAX_FIELDS + 4];
    size_t n = 0;
    for (size_t i = 0; i < d->n; i++) {
        f[n] = d->f[i];
        f[n].key = key_intern(d->keys[i], &br->budget);
        if (!f[n].key) {
            count(&br->dropped_in);
            return;
        }
        n++;
    }
    for (size_t i = 0; i < nx; i++) f[n++] = x[i];
    int rc = hive_bus_post(br->bus, id, f, n);
    if (rc == HIVE_OK)
        count(&br->imported);
    else if (rc == HIVE_EFULL)
        count(&br->bus_full);
    else
        count(&br->dropped_in);
}

static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    bridge_import *im = closure;
    hive_bridge *br = im->br;
    const char *subject = natsMsg_GetSubject(msg), *reply = natsMsg_GetReply(msg);
    const uint8_t *data = (const uint8_t *)natsMsg_GetData(msg);
    int len = natsMsg_GetDataLength(msg);
    char name[HIVE_NAME_MAX];
    hive__bridge_decoded *d = &im->dec;

    if (len <= 0 || (uint32_t)len > br->max_event_bytes) goto bad;
    if (hive__bridge_name_of(br->prefix, subject, name, sizeof name) < 0) goto bad;
    if (hive__bridge_decode(data, (size_t)len, d) != HIVE_OK) goto bad;
    /* the subject is what NATS routed on: the name inside must agree, or a
     * publisher could reach a handler its subject's permissions do not allow */
    if (strcmp(d->name, name) != 0) goto bad;
    if (strcmp(d->origin, br->name) != 0) {   /* else: our own, back */
        hive_event_id id = import_id(br, name);
        if (id <= 0) goto bad;
        hive_field x[2] = { HIVE_STR(HIVE_BRIDGE_ORIGIN_FIELD, d->origin) };
        size_t nx = 1;
        if (reply && strncmp(reply, "_INBOX.", 7) == 0 && strlen(reply) < 256)
            x[nx++] = HIVE_STR(HIVE_BRIDGE_REPLY_FIELD, reply);
        post_decoded(br, id, d, x, nx);
    }
    natsMsg_Destroy(msg);
    return;
bad:
    count(&br->dropped_in);
    natsMsg_Destroy(msg);
}

/* A reply to one of our requests: "_INBOX.<nuid>.<request id>". */
static void on_reply(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    bridge_import *im = closure;
    hive_bridge *br = im->br;
    const char *subject = natsMsg_GetSubject(msg);
    const uint8_t *data = (const uint8_t *)natsMsg_GetData(msg);
    int len = natsMsg_GetDataLength(msg);
    size_t il = strlen(br->inbox);
    hive__bridge_decoded *d = &im->dec;
    char *end = NULL;
    if (len <= 0 || (uint32_t)len > br->max_event_bytes) goto bad;
    if (strncmp(subject, br->inbox, il) != 0 || subject[il] != '.') goto bad;
    long long req = strtoll(subject + il + 1, &end, 10);
    if (!end || *end || req <= 0) goto bad;
    if (hive__bridge_decode(data, (size_t)len, d) != HIVE_OK) goto bad;
    hive_field x[2] = { HIVE_INT(HIVE_BRIDGE_REQUEST_FIELD, req), HIVE_STR(HIVE_BRIDGE_ORIGIN_FIELD, d->origin) };
    post_decoded(br, br->ev_reply, d, x, 2);
    natsMsg_Destroy(msg);
    return;
bad:
    count(&br->dropped_in);
    natsMsg_Destroy(msg);
}

/* ------------------------------------------------------------------ */
/* Out                                                                  */
/* ------------------------------------------------------------------ */

/* Publish the event (name, fields) on subject, with an optional reply
 * subject. Counts what happens. Owner thread. */
static int publish(hive_bridge *br, const char *subject, const char *reply, const char *name, const hive_field *f,
                   size_t n)
{
    br->sb.size = 0;
    int rc = hive__bridge_encode(&br->sb, br->name, name, f, n);
    if (rc == HIVE_ETOOBIG || (rc == HIVE_OK && br->sb.size > br->max_event_bytes)) {
        count(&br->too_big);
        return HIVE_ETOOBIG;
    }
    if (rc != HIVE_OK) {
        count(&br->dropped_out);
        return rc;
    }
    natsStatus s = reply ? natsConnection_PublishRequest(br->nc, subject, reply, br->sb.data, (int)br->sb.size)
                         : natsConnection_Publish(br->nc, subject, br->sb.data, (int)br->sb.size);
    if (s != NATS_OK) {
        count(&br->dropped_out);
        return s == NATS_CONNECTION_CLOSED ? HIVE_ECLOSED : HIVE_EFULL;
    }
    count(&br->exported);
    return HIVE_OK;
}

static void on_export(const hive_event *ev, void *user)
{
    bridge_export *e = user;
    hive_bridge *br = e->br;
    if (hive_event_field(ev, HIVE_BRIDGE_ORIGIN_FIELD)) return;   /* came in through a bridge */
    /* an event two export patterns match runs both subscriptions: only
     * the first export that matches sends it */
    for (bridge_export *x = br->exp; x < e; x++)
        if (hive__pattern_match(x->pattern, ev->name)) return;
    __typeof__(br->subj[0]) *c = &br->subj[(unsigned)ev->id & 63];
    if (c->id != ev->id) {
        c->id = ev->id;
        c->ok = hive__bridge_carriable(ev->name) &&
                hive_bridge_subject(br->prefix, ev->name, c->subject, sizeof c->subject) >= 0;
    }
    if (!c->ok) {
        count(&br->unmappable);
        return;
    }
    publish(br, c->subject, NULL, ev->name, ev->fields, ev->nfields);
}

/* ------------------------------------------------------------------ */
/* Create and destroy                                                   */
/* ------------------------------------------------------------------ */

static bool prefix_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= 64) return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
              *p == '-'))
            return false;
    return true;
}

static int make_name(char *out, size_t n)
{
    uint32_t r = 0;
    FILE *f = fopen("/dev/urandom", "rb");
    if (f) {
        if (fread(&r, sizeof r, 1, f) != 1) r = 0;
        fclose(f);
    }
    if (!r) r = (uint32_t)time(NULL) ^ (uint32_t)(uintptr_t)out;
    snprintf(out, n, "hive-%ld-%08" PRIx32, (long)getpid(), r);
    return 0;
}

static natsStatus set_servers(natsOptions *o, const char *url)
{
    char buf[2048];
    const char *list[16];
    int k = 0;
    if (strlen(url) >= sizeof buf) return NATS_INVALID_ARG;
    strcpy(buf, url);
    for (char *save = NULL, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        if (k == 16) return NATS_INVALID_ARG;
        list[k++] = t;
    }
    if (k == 0) return NATS_INVALID_ARG;
    return natsOptions_SetServers(o, list, k);
}

static void bridge_free(hive_bridge *br)
{
    for (size_t i = 0; i < br->nimp; i++) {
        natsSubscription_Destroy(br->imp[i]->sub);
        hive__bridge_decoded_fini(&br->imp[i]->dec);
        hive__free(br->imp[i]);
    }
    natsSubscription_Destroy(br->reply_sub.sub);
    hive__bridge_decoded_fini(&br->reply_sub.dec);
    natsConnection_Destroy(br->nc);
    natsOptions_Destroy(br->opts);
    msgpack_sbuffer_destroy(&br->sb);
    pthread_cond_destroy(&br->cond);
    pthread_mutex_destroy(&br->lock);
    hive__free(br);
}

static natsStatus subscribe(hive_bridge *br, bridge_import *im, natsMsgHandler fn)
{
    natsStatus s = im->group[0] ? natsConnection_QueueSubscribe(&im->sub, br->nc, im->subject, im->group, fn, im)
                                : natsConnection_Subscribe(&im->sub, br->nc, im->subject, fn, im);
    if (s != NATS_OK) return s;
    natsSubscription_SetPendingLimits(im->sub, 65536, 64 << 20);
    return natsSubscription_SetOnCompleteCB(im->sub, on_sub_complete, im);
}

hive_bridge *hive_bridge_create(const hive_bridge_config *cfg, hive_bus *bus)
{
    if (!cfg || !bus) {
        hive__create_fail(HIVE_EINVAL, "", "hive_bridge_create: NULL config or bus");
        return NULL;
    }
    if (!cfg->url || !*cfg->url) {
        hive__create_fail(HIVE_EINVAL, "url", "hive_bridge_config.url: required (\"nats://127.0.0.1:4222\")");
        return NULL;
    }
    if (cfg->name && !hive__bridge_origin_ok(cfg->name, strlen(cfg->name))) {
        hive__create_fail(HIVE_EINVAL, "name", "hive_bridge_config.name: [A-Za-z0-9_.-], 1 to 63 bytes");
        return NULL;
    }
    if (cfg->subject_prefix && !prefix_ok(cfg->subject_prefix)) {
        hive__create_fail(HIVE_EINVAL, "subject_prefix",
                          "hive_bridge_config.subject_prefix: one NATS token of [A-Za-z0-9_-], at most 63 bytes");
        return NULL;
    }
    if (cfg->max_reconnect < -1) {
        hive__create_fail(HIVE_EINVAL, "max_reconnect", "hive_bridge_config.max_reconnect: 0 (forever), -1 (none) or a count");
        return NULL;
    }
    if (cfg->reconnect_buffer_bytes > (1u << 30) || cfg->max_event_bytes > (64u << 20)) {
        hive__create_fail(HIVE_EINVAL, cfg->max_event_bytes > (64u << 20) ? "max_event_bytes" : "reconnect_buffer_bytes",
                          "hive_bridge_config: max_event_bytes at most 64 MiB, reconnect_buffer_bytes at most 1 GiB");
        return NULL;
    }
    hive_bridge *br = hive__calloc(1, sizeof *br);
    if (!br) {
        hive__create_fail(HIVE_ENOMEM, "", "hive_bridge_create: out of memory");
        return NULL;
    }
    br->bus = bus;
    pthread_mutex_init(&br->lock, NULL);
    pthread_cond_init(&br->cond, NULL);
    msgpack_sbuffer_init(&br->sb);
    if (cfg->name)
        strcpy(br->name, cfg->name);
    else
        make_name(br->name, sizeof br->name);
    strcpy(br->prefix, cfg->subject_prefix ? cfg->subject_prefix : "hive");
    br->max_event_bytes = cfg->max_event_bytes ? cfg->max_event_bytes : 64u << 10;
    atomic_init(&br->budget, cfg->max_names ? cfg->max_names : 1024);
    br->reply_sub.br = br;
    if (hive__bridge_decoded_init(&br->reply_sub.dec) != HIVE_OK) {
        hive__create_fail(HIVE_ENOMEM, "", "hive_bridge_create: out of memory");
        goto fail;
    }
    br->ev_connected = hive_bus_intern(bus, HIVE_EV_NATS_CONNECTED);
    br->ev_disconnected = hive_bus_intern(bus, HIVE_EV_NATS_DISCONNECTED);
    br->ev_reconnected = hive_bus_intern(bus, HIVE_EV_NATS_RECONNECTED);
    br->ev_closed = hive_bus_intern(bus, HIVE_EV_NATS_CLOSED);
    br->ev_reply = hive_bus_intern(bus, HIVE_EV_NATS_REPLY);
    if (br->ev_connected <= 0 || br->ev_disconnected <= 0 || br->ev_reconnected <= 0 || br->ev_closed <= 0 ||
        br->ev_reply <= 0) {
        hive__create_fail(HIVE_ENOMEM, "", "hive_bridge_create: out of memory");
        goto fail;
    }

    uint32_t wait = cfg->reconnect_wait_ms ? cfg->reconnect_wait_ms : 250;
    natsOptions *o = NULL;
    natsStatus s = natsOptions_Create(&o);
    br->opts = o;
    if (s == NATS_OK) s = set_servers(o, cfg->url);
    if (s != NATS_OK) {
        hive__create_fail(HIVE_EINVAL, "url", "hive_bridge_config.url: not a NATS URL or list (%s)", natsStatus_GetText(s));
        goto fail;
    }
    /* the URLs are tried in the order given: list the nearest first */
    if (s == NATS_OK) s = natsOptions_SetNoRandomize(o, true);
    if (s == NATS_OK) s = natsOptions_SetName(o, br->name);
    if (s == NATS_OK) s = natsOptions_SetNoEcho(o, true);
    if (s == NATS_OK) s = natsOptions_SetRetryOnFailedConnect(o, true, on_connected, br);
    if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(o, on_disconnected, br);
    if (s == NATS_OK) s = natsOptions_SetReconnectedCB(o, on_reconnected, br);
    if (s == NATS_OK) s = natsOptions_SetClosedCB(o, on_closed, br);
    if (s == NATS_OK) s = natsOptions_SetAllowReconnect(o, cfg->max_reconnect != -1);
    if (s == NATS_OK) s = natsOptions_SetMaxReconnect(o, cfg->max_reconnect == 0 ? -1 : cfg->max_reconnect < 0 ? 0 : cfg->max_reconnect);
    if (s == NATS_OK) s = natsOptions_SetReconnectWait(o, wait);
    if (s == NATS_OK) s = natsOptions_SetReconnectJitter(o, wait / 2 + 1, wait / 2 + 1);
    if (s == NATS_OK) s = natsOptions_SetReconnectBufSize(o, (int)(cfg->reconnect_buffer_bytes ? cfg->reconnect_buffer_bytes : 1u << 20));
    if (s == NATS_OK) s = natsOptions_SetTimeout(o, 2000);
    /* a server that stops answering (not a closed socket) is found within
     * about 10 s on any network */
    if (s == NATS_OK) s = natsOptions_SetPingInterval(o, 5000);
    if (s == NATS_OK) s = natsOptions_SetMaxPingsOut(o, 2);
    if (s == NATS_OK && (cfg->user || cfg->password)) s = natsOptions_SetUserInfo(o, cfg->user, cfg->password);
    if (s == NATS_OK && cfg->token) s = natsOptions_SetToken(o, cfg->token);
    if (s == NATS_OK && cfg->creds_file) s = natsOptions_SetUserCredentialsFromFiles(o, cfg->creds_file, NULL);
    if (s == NATS_OK && cfg->ca_file) {
        s = natsOptions_SetSecure(o, true);
        if (s == NATS_OK) s = natsOptions_LoadCATrustedCertificates(o, cfg->ca_file);
        if (s != NATS_OK) {
            hive__create_fail(HIVE_ETLS, "ca_file", "hive_bridge_config.ca_file: %s", natsStatus_GetText(s));
            goto fail;
        }
    }
    if (s != NATS_OK) {
        hive__create_fail(HIVE_EINVAL, "", "hive_bridge_create: NATS options: %s", natsStatus_GetText(s));
        goto fail;
    }
    natsInbox *inbox = NULL;
    if (natsInbox_Create(&inbox) != NATS_OK) {
        hive__create_fail(HIVE_ENOMEM, "", "hive_bridge_create: out of memory");
        goto fail;
    }
    snprintf(br->inbox, sizeof br->inbox, "%s", (const char *)inbox);
    natsInbox_Destroy(inbox);

    s = natsConnection_Connect(&br->nc, o);
    if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
        hive__create_fail(HIVE_EIO, "url", "hive_bridge_create: NATS: %s", natsStatus_GetText(s));
        goto fail;
    }
    snprintf(br->reply_sub.subject, sizeof br->reply_sub.subject, "%s.*", br->inbox);
    if (subscribe(br, &br->reply_sub, on_reply) != NATS_OK) {
        hive__create_fail(HIVE_EIO, "", "hive_bridge_create: NATS: cannot subscribe the reply inbox");
        goto fail_conn;
    }
    if (s == NATS_OK) on_connected(br->nc, br);   /* libnats calls it only for a late connection */
    hive__create_ok();
    return br;

fail_conn:
    pthread_mutex_lock(&br->lock);
    br->destroying = true;
    pthread_mutex_unlock(&br->lock);
    natsConnection_Close(br->nc);
    pthread_mutex_lock(&br->lock);
    while (!br->closed) pthread_cond_wait(&br->cond, &br->lock);
    pthread_mutex_unlock(&br->lock);
fail:
    bridge_free(br);
    return NULL;
}

static bool quiet_done(hive_bridge *br)
{
    if (!br->closed) return false;
    if (br->reply_sub.sub && !br->reply_sub.done) return false;
    for (size_t i = 0; i < br->nimp; i++)
        if (br->imp[i]->sub && !br->imp[i]->done) return false;
    return true;
}

void hive_bridge_destroy(hive_bridge *br)
{
    if (!br) return;
    for (size_t i = 0; i < br->nexp; i++) hive_bus_unsubscribe(br->bus, br->exp[i].sub);
    while (br->reqs) {
        bridge_request *r = br->reqs;
        br->reqs = r->next;
        hive_bus_expect_cancel(br->bus, r->expect);
        r->fn(NULL, HIVE_ECLOSED, r->user);
        hive__free(r);
    }
    if (atomic_load(&br->connected)) natsConnection_FlushTimeout(br->nc, 1000);
    pthread_mutex_lock(&br->lock);
    br->destroying = true;
    pthread_mutex_unlock(&br->lock);
    /* unsubscribing and closing end every subscription: each one's
     * completion callback says libnats is done calling on_msg for it */
    for (size_t i = 0; i < br->nimp; i++) natsSubscription_Unsubscribe(br->imp[i]->sub);
    natsSubscription_Unsubscribe(br->reply_sub.sub);
    natsConnection_Close(br->nc);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    pthread_mutex_lock(&br->lock);
    int rc = 0;
    while (!quiet_done(br) && rc == 0) rc = pthread_cond_timedwait(&br->cond, &br->lock, &until);
    bool ok = quiet_done(br);
    pthread_mutex_unlock(&br->lock);
    if (!ok) {
        /* libnats still holds a callback into us: freeing would let it
         * touch freed memory; keep the bridge (a bounded leak) instead */
        fprintf(stderr, "hive: bridge %s: NATS callbacks did not finish in 10 s; bridge not freed\n", br->name);
        return;
    }
    bridge_free(br);
}

/* ------------------------------------------------------------------ */
/* Export, import                                                       */
/* ------------------------------------------------------------------ */

int hive_bridge_export(hive_bridge *br, const char *pattern)
{
    if (!br || !pattern) return HIVE_EINVAL;
    bool wild = strchr(pattern, '*') != NULL;
    if (!wild && !hive__bridge_carriable(pattern)) return HIVE_ENAME;
    if (wild) {
        bool w;
        int rc = hive__pattern_check(pattern, &w);
        if (rc < 0) return rc;
    }
    for (size_t i = 0; i < br->nexp; i++)
        if (strcmp(br->exp[i].pattern, pattern) == 0) return HIVE_EEXIST;
    if (br->nexp == MAX_PATTERNS) return HIVE_EFULL;
    bridge_export *e = &br->exp[br->nexp];
    e->br = br;
    snprintf(e->pattern, sizeof e->pattern, "%s", pattern);
    int sub = hive_bus_subscribe(br->bus, pattern, on_export, e, NULL);
    if (sub < 0) return sub;
    e->sub = sub;
    br->nexp++;
    return HIVE_OK;
}

int hive_bridge_import_queue(hive_bridge *br, const char *pattern, const char *group)
{
    if (!br || !pattern) return HIVE_EINVAL;
    if (group && (!*group || strlen(group) >= 64 || !prefix_ok(group))) return HIVE_EINVAL;
    char subject[HIVE_NAME_MAX + 64];
    int n = hive_bridge_subject(br->prefix, pattern, subject, sizeof subject);
    if (n < 0) return n;
    for (size_t i = 0; i < br->nimp; i++)
        if (strcmp(br->imp[i]->pattern, pattern) == 0 && strcmp(br->imp[i]->group, group ? group : "") == 0)
            return HIVE_EEXIST;
    if (br->nimp == MAX_PATTERNS) return HIVE_EFULL;
    bridge_import *im = hive__calloc(1, sizeof *im);
    if (!im) return HIVE_ENOMEM;
    if (hive__bridge_decoded_init(&im->dec) != HIVE_OK) {
        hive__free(im);
        return HIVE_ENOMEM;
    }
    im->br = br;
    snprintf(im->pattern, sizeof im->pattern, "%s", pattern);
    snprintf(im->subject, sizeof im->subject, "%s", subject);
    snprintf(im->group, sizeof im->group, "%s", group ? group : "");
    if (subscribe(br, im, on_msg) != NATS_OK) {
        if (im->sub) {
            /* subscribed but the limits or callback failed: undo */
            pthread_mutex_lock(&br->lock);
            br->imp[br->nimp++] = im;
            pthread_mutex_unlock(&br->lock);
            natsSubscription_Unsubscribe(im->sub);
            return HIVE_EIO;
        }
        hive__bridge_decoded_fini(&im->dec);
        hive__free(im);
        return HIVE_EIO;
    }
    pthread_mutex_lock(&br->lock);
    br->imp[br->nimp++] = im;
    pthread_mutex_unlock(&br->lock);
    return HIVE_OK;
}

int hive_bridge_import(hive_bridge *br, const char *pattern)
{
    return hive_bridge_import_queue(br, pattern, NULL);
}

/* ------------------------------------------------------------------ */
/* Request and reply                                                    */
/* ------------------------------------------------------------------ */

static bool req_match(const hive_event *ev, void *user)
{
    bridge_request *r = user;
    return hive_event_int(ev, HIVE_BRIDGE_REQUEST_FIELD, 0) == r->id;
}

static void req_done(const hive_event *ev, void *user)
{
    bridge_request *r = user;
    hive_bridge *br = r->br;
    if (r->prev)
        r->prev->next = r->next;
    else
        br->reqs = r->next;
    if (r->next) r->next->prev = r->prev;
    r->fn(ev, ev ? HIVE_OK : HIVE_ETIMEDOUT, r->user);
    hive__free(r);
}

int64_t hive_bridge_request(hive_bridge *br, const char *name, const hive_field *f, size_t n, uint32_t timeout_ms,
                            hive_bridge_reply_fn fn, void *user)
{
    if (!br || !name || !fn || (n && !f) || timeout_ms == 0) return HIVE_EINVAL;
    if (!hive__bridge_carriable(name)) return HIVE_ENAME;
    char subject[HIVE_NAME_MAX + 64], reply[128];
    int rc = hive_bridge_subject(br->prefix, name, subject, sizeof subject);
    if (rc < 0) return rc;
    bridge_request *r = hive__calloc(1, sizeof *r);
    if (!r) return HIVE_ENOMEM;
    r->br = br;
    r->id = ++br->next_req;
    r->fn = fn;
    r->user = user;
    snprintf(reply, sizeof reply, "%s.%" PRId64, br->inbox, r->id);
    rc = hive_bus_expect(br->bus, HIVE_EV_NATS_REPLY, req_match, r, timeout_ms, req_done, r);
    if (rc < 0) {
        hive__free(r);
        return rc;
    }
    r->expect = rc;
    rc = publish(br, subject, reply, name, f, n);
    if (rc != HIVE_OK) {
        hive_bus_expect_cancel(br->bus, r->expect);
        hive__free(r);
        return rc;
    }
    r->next = br->reqs;
    if (br->reqs) br->reqs->prev = r;
    br->reqs = r;
    return r->id;
}

int hive_bridge_reply(hive_bridge *br, const hive_event *request, const hive_field *f, size_t n)
{
    if (!br || !request || (n && !f)) return HIVE_EINVAL;
    const char *reply = hive_event_str(request, HIVE_BRIDGE_REPLY_FIELD);
    if (!reply) return HIVE_ENOENT;
    return publish(br, reply, NULL, request->name, f, n);
}

/* ------------------------------------------------------------------ */

int hive_bridge_stats(const hive_bridge *br, hive_bridge_counters *out)
{
    if (!br || !out) return HIVE_EINVAL;
    hive_bridge *b = (hive_bridge *)br;
    memset(out, 0, sizeof *out);
    out->exported = get(&b->exported);
    out->imported = get(&b->imported);
    out->dropped_out = get(&b->dropped_out);
    out->dropped_in = get(&b->dropped_in);
    out->bus_full = get(&b->bus_full);
    out->unmappable = get(&b->unmappable);
    out->too_big = get(&b->too_big);
    out->reconnects = get(&b->reconnects);
    out->connected = atomic_load(&b->connected);
    /* what libnats dropped because a subscription fell behind */
    pthread_mutex_lock(&b->lock);
    for (size_t i = 0; i < b->nimp; i++) {
        int64_t d = 0;
        if (b->imp[i]->sub && natsSubscription_GetDropped(b->imp[i]->sub, &d) == NATS_OK && d > 0)
            out->slow_dropped += (uint64_t)d;
    }
    pthread_mutex_unlock(&b->lock);
    return HIVE_OK;
}

int hive_bridge_flush(hive_bridge *br, uint32_t timeout_ms)
{
    if (!br || timeout_ms == 0) return HIVE_EINVAL;
    if (!atomic_load(&br->connected)) return HIVE_ECLOSED;
    natsStatus s = natsConnection_FlushTimeout(br->nc, timeout_ms);
    return s == NATS_OK ? HIVE_OK : s == NATS_TIMEOUT ? HIVE_ETIMEDOUT : HIVE_ECLOSED;
}

const char *hive_bridge_name(const hive_bridge *br)
{
    return br ? br->name : NULL;
}
