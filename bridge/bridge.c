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
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include "events/bus_internal.h"
#include "events/internal.h"

#define MAX_PATTERNS 64
#define HANDOFF_NS_STR "hive-handoff:"
static bool reserved_ns(const char *name);
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

struct bridge_set;

typedef struct bridge_import {
    struct hive_bridge *br;
    struct bridge_set *set;   /* a shard set's announcements, or NULL */
    char pattern[HIVE_NAME_MAX];
    char subject[HIVE_NAME_MAX + 64];
    char group[64];
    natsSubscription *sub;
    bool done;   /* its completion callback ran */
    bool internal;   /* the bridge's own (serve_handoffs): reserved names pass */
    /* libnats delivers one subscription's messages on one thread at a
     * time: its decoder (and the memory it reuses) is that thread's */
    hive__bridge_decoded dec;
    /* and so is this: the last subject that passed every check, with its
     * name and id (a subscription mostly sees one subject, and an id never
     * changes once interned), so a message on it skips those checks */
    char last_subject[HIVE_NAME_MAX + 72];
    int64_t slow_seen;   /* the largest dropped count libnats gave (under br->lock) */
    char last_name[HIVE_NAME_MAX];
    hive_event_id last_id;
} bridge_import;

/* A watched shard set. Members other than this process; guarded by
 * br->set_lock (libnats' thread, the heartbeat thread and any caller of
 * shard_for read or change it). */
typedef struct bridge_set {
    char name[64];
    char subject[160];
    bool member;                    /* this process is one */
    char addr[HIVE_BRIDGE_ADDR_MAX];
    size_t n;
    struct { hive_shard_member m; uint64_t seen_ms; } mem[HIVE_BRIDGE_MAX_MEMBERS];
    uint64_t answered_ms;           /* when we last answered an ask or a newcomer */
    bool owe_answer;                /* one asked inside the gap: answered at its end */
} bridge_set;

typedef struct bridge_request bridge_request;
struct bridge_request {
    struct hive_bridge *br;
    bridge_request *next, *prev;
    int64_t id;
    int expect;
    hive_bridge_reply_fn fn;
    void *user;
};

#define HANDOFF_MAC_BYTES 32        /* HMAC-SHA256 */
#define HANDOFF_SKEW_MS 30000       /* a signed ticket's time, either way of ours */
#define HANDOFF_SEEN 4096           /* signed tickets remembered (the last ones), each taken once */

struct hive_bridge {
    hive_bus *bus;
    uint8_t *hkey;                  /* handoff_key, or NULL */
    size_t hkey_len;
    EVP_MAC *hmac;                  /* OpenSSL's HMAC, fetched once (with a key) */
    /* The last signed tickets taken, with their times (owner thread): a
     * ticket is taken once; one whose time is not after the newest that
     * left the ring is refused too, so a replay cannot outlast the ring. */
    struct { uint8_t mac[HANDOFF_MAC_BYTES]; uint64_t at; } *seen;
    size_t nseen, seen_next;
    uint64_t seen_floor;
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
    struct {
        hive_event_id id;
        bool ok;                    /* the name can cross */
        const struct bridge_export *first;   /* the first export that matches it: the one that sends */
        char subject[HIVE_NAME_MAX + 64];
    } subj[64];

    bridge_request *reqs;           /* requests waiting (owner thread) */
    hive_server *handoff_srv;       /* hive_bridge_serve_handoffs */
    struct handoff_req *moves;      /* hive_bridge_handoff: answers awaited */

    hive_event_id ev_connected, ev_disconnected, ev_reconnected, ev_closed, ev_reply, ev_joined, ev_left;

    bridge_set *sets[HIVE_BRIDGE_MAX_SETS];
    size_t nsets;
    pthread_mutex_t set_lock;
    pthread_cond_t hb_cond;         /* with set_lock: wakes the heartbeat thread */
    uint32_t hb_ms;
    pthread_t hb;                   /* the heartbeat thread, once a set is watched */
    bool hb_started, hb_stop;       /* hb_stop under lock */

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

/* Whether destroy has begun: then nothing more is posted (the bus may be
 * destroyed right after, and a handler of a late nats:* event would
 * reach a freed bridge). */
static bool quiet(hive_bridge *br)
{
    pthread_mutex_lock(&br->lock);
    bool q = br->destroying;
    pthread_mutex_unlock(&br->lock);
    return q;
}

static void on_connected(natsConnection *nc, void *closure)
{
    hive_bridge *br = closure;
    atomic_store(&br->connected, true);
    if (!quiet(br)) post_state(br, br->ev_connected, nc, true);
}

static void on_disconnected(natsConnection *nc, void *closure)
{
    hive_bridge *br = closure;
    atomic_store(&br->connected, false);
    if (!quiet(br)) post_state(br, br->ev_disconnected, nc, false);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    hive_bridge *br = closure;
    atomic_store(&br->connected, true);
    count(&br->reconnects);
    if (!quiet(br)) post_state(br, br->ev_reconnected, nc, true);
}

static void on_closed(natsConnection *nc, void *closure)
{
    hive_bridge *br = closure;
    atomic_store(&br->connected, false);
    /* post first, then say closed: once destroy sees closed it may free
     * br, so nothing of br is touched after the broadcast */
    if (!quiet(br)) hive_bus_post(br->bus, br->ev_closed, NULL, 0);
    pthread_mutex_lock(&br->lock);
    br->closed = true;
    pthread_cond_broadcast(&br->cond);
    pthread_mutex_unlock(&br->lock);
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

/* A reply subject we will publish on: under _INBOX., one plain subject
 * (no wildcard, no space), not too long. */
static bool reply_ok(const char *r)
{
    size_t n = strlen(r);
    if (n < 8 || n >= 256 || strncmp(r, "_INBOX.", 7) != 0) return false;
    for (size_t i = 0; i < n; i++)
        if (r[i] == '*' || r[i] == '>' || r[i] <= ' ' || r[i] == 0x7f) return false;
    return true;
}

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
        /* the decoder keeps a key that came again at its place, and our
         * stable copy of it with it */
        if (!d->interned[i]) d->interned[i] = key_intern(d->keys[i], &br->budget);
        f[n].key = d->interned[i];
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
    hive__bridge_decoded *d = &im->dec;

    if (len <= 0 || (uint32_t)len > br->max_event_bytes) goto bad;
    bool known = im->last_id > 0 && strcmp(subject, im->last_subject) == 0;
    if (!known) {
        char name[HIVE_NAME_MAX];
        if (hive__bridge_name_of(br->prefix, subject, name, sizeof name) < 0) goto bad;
        if (reserved_ns(name) && !(im->internal && strncmp(name, HANDOFF_NS_STR, strlen(HANDOFF_NS_STR)) == 0))
            goto bad;
        hive_event_id id = import_id(br, name);
        if (id <= 0) goto bad;
        size_t sl = strlen(subject);
        if (sl < sizeof im->last_subject) {
            memcpy(im->last_subject, subject, sl + 1);
            memcpy(im->last_name, name, sizeof name);
            im->last_id = id;
        } else {
            im->last_id = 0;
            goto bad;   /* cannot happen: name_of bounds it */
        }
    }
    d->known_name = im->last_name;
    if (hive__bridge_decode(data, (size_t)len, d) != HIVE_OK) goto bad;
    /* the subject is what NATS routed on: the name inside must agree, or a
     * publisher could reach a handler its subject's permissions do not allow */
    if (strcmp(d->name, im->last_name) != 0) goto bad;
    /* With no-echo, our own name coming back is a forgery or a second
     * bridge with our name: dropped, and counted */
    if (strcmp(d->origin, br->name) == 0) goto bad;
    {
        hive_event_id id = im->last_id;
        hive_field x[2] = { HIVE_STR(HIVE_BRIDGE_ORIGIN_FIELD, d->origin) };
        size_t nx = 1;
        if (reply && reply_ok(reply)) x[nx++] = HIVE_STR(HIVE_BRIDGE_REPLY_FIELD, reply);
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

/* Namespaces that never cross: a connection's own events (net:), the
 * bridge's (nats:), and its private subjects (hive-handoff:, _shard). */
static bool reserved_ns(const char *name)
{
    static const char *const ns[] = { "net:", "nats:", HANDOFF_NS_STR, "_shard:" };
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
        if (strncmp(name, ns[i], strlen(ns[i])) == 0) return true;
    return false;
}

static void on_export(const hive_event *ev, void *user)
{
    bridge_export *e = user;
    hive_bridge *br = e->br;
    /* came in through a bridge: it carries hive.origin (looked for by its
     * first byte before the whole key, as every exported event pays this) */
    for (size_t i = 0; i < ev->nfields; i++) {
        const char *k = ev->fields[i].key;
        if (k && k[0] == 'h' && strcmp(k, HIVE_BRIDGE_ORIGIN_FIELD) == 0) return;
    }
    /* What an id needs is worked out once (its name never changes):
     * whether it crosses, its subject, and which export sends it. An event
     * two export patterns match runs both subscriptions; only the first
     * export that matches sends it. Exports are only ever appended, so
     * the first match of a name never changes either. */
    __typeof__(br->subj[0]) *c = &br->subj[(unsigned)ev->id & 63];
    if (c->id != ev->id) {
        c->id = ev->id;
        c->first = e;
        for (bridge_export *x = br->exp; x < e; x++)
            if (hive__pattern_match(x->pattern, ev->name)) {
                c->first = x;
                break;
            }
        c->ok = hive__bridge_carriable(ev->name) && !reserved_ns(ev->name) &&
                hive_bridge_subject(br->prefix, ev->name, c->subject, sizeof c->subject) >= 0;
    }
    if (c->first != e) return;
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
    if (br->hkey) {
        OPENSSL_cleanse(br->hkey, br->hkey_len);
        hive__free(br->hkey);
    }
    EVP_MAC_free(br->hmac);
    hive__free(br->seen);
    for (size_t i = 0; i < br->nsets; i++) hive__free(br->sets[i]);
    pthread_mutex_destroy(&br->set_lock);
    pthread_cond_destroy(&br->hb_cond);
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
    if (cfg->shard_heartbeat_ms && (cfg->shard_heartbeat_ms < 20 || cfg->shard_heartbeat_ms > 60000)) {
        hive__create_fail(HIVE_EINVAL, "shard_heartbeat_ms", "hive_bridge_config.shard_heartbeat_ms: 0 (1000) or 20..60000");
        return NULL;
    }
    if (cfg->reconnect_buffer_bytes > (1u << 30) || cfg->max_event_bytes > (64u << 20)) {
        hive__create_fail(HIVE_EINVAL, cfg->max_event_bytes > (64u << 20) ? "max_event_bytes" : "reconnect_buffer_bytes",
                          "hive_bridge_config: max_event_bytes at most 64 MiB, reconnect_buffer_bytes at most 1 GiB");
        return NULL;
    }
    if (cfg->handoff_key && strlen(cfg->handoff_key) < 16) {
        hive__create_fail(HIVE_EINVAL, "handoff_key", "hive_bridge_config.handoff_key: at least 16 bytes of secret");
        return NULL;
    }
    /* libnats' threads post to the bus: one that could block them would
     * stall every connection's callbacks, and a destroy behind them */
    if (bus->q.overflow == HIVE_OVERFLOW_BLOCK) {
        hive__create_fail(HIVE_EINVAL, "bus", "hive_bridge_create: a bus with HIVE_OVERFLOW_BLOCK cannot take "
                                              "a bridge's posts (NATS threads must never wait)");
        return NULL;
    }
    hive_bridge *br = hive__calloc(1, sizeof *br);
    if (!br) {
        hive__create_fail(HIVE_ENOMEM, "", "hive_bridge_create: out of memory");
        return NULL;
    }
    br->bus = bus;
    if (cfg->handoff_key) {
        br->hkey_len = strlen(cfg->handoff_key);
        br->hkey = hive__malloc(br->hkey_len);
        br->seen = hive__calloc(HANDOFF_SEEN, sizeof *br->seen);
        br->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        if (!br->hkey || !br->seen || !br->hmac) {
            ERR_clear_error();
            bool no_hmac = br->hkey && br->seen;
            hive__free(br->hkey);
            hive__free(br->seen);
            EVP_MAC_free(br->hmac);
            hive__free(br);
            if (no_hmac)
                hive__create_fail(HIVE_EINVAL, "handoff_key", "hive_bridge_create: OpenSSL offers no HMAC here");
            else
                hive__create_fail(HIVE_ENOMEM, "", "hive_bridge_create: out of memory");
            return NULL;
        }
        memcpy(br->hkey, cfg->handoff_key, br->hkey_len);
    }
    pthread_mutex_init(&br->lock, NULL);
    pthread_mutex_init(&br->set_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);   /* a wall-clock step must not stop heartbeats */
    pthread_cond_init(&br->hb_cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&br->cond, NULL);
    msgpack_sbuffer_init(&br->sb);
    if (cfg->name)
        strcpy(br->name, cfg->name);
    else
        make_name(br->name, sizeof br->name);
    strcpy(br->prefix, cfg->subject_prefix ? cfg->subject_prefix : "hive");
    br->max_event_bytes = cfg->max_event_bytes ? cfg->max_event_bytes : 64u << 10;
    br->hb_ms = cfg->shard_heartbeat_ms ? cfg->shard_heartbeat_ms : 1000;
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
    br->ev_joined = hive_bus_intern(bus, HIVE_EV_NATS_SHARD_JOINED);
    br->ev_left = hive_bus_intern(bus, HIVE_EV_NATS_SHARD_LEFT);
    if (br->ev_connected <= 0 || br->ev_disconnected <= 0 || br->ev_reconnected <= 0 || br->ev_closed <= 0 ||
        br->ev_reply <= 0 || br->ev_joined <= 0 || br->ev_left <= 0) {
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
    /* An export copies into libnats' buffer; when that is full libnats
     * writes on the caller's thread. A deadline on those writes bounds how
     * long the game loop can ever wait on a stalled server (the write
     * fails, the connection is treated as lost, exports go to the
     * reconnect buffer); a larger buffer makes such writes rare. */
    if (s == NATS_OK) s = natsOptions_SetWriteDeadline(o, 250);
    if (s == NATS_OK) s = natsOptions_SetIOBufSize(o, 256 * 1024);
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


/* ------------------------------------------------------------------ */
/* Shard sets                                                           */
/* ------------------------------------------------------------------ */

static uint64_t now_ms(void) { return hive_now_ns() / 1000000u; }

/* Publish an announcement of ours on set. Caller holds set_lock, so a
 * HERE can never follow the BYE of a leave (both decide and send under
 * it, and HERE goes out only while a member). Any thread: its own buffer. */
static void announce_locked(hive_bridge *br, const bridge_set *st, hive__shard_op op)
{
    if (op == HIVE__SHARD_HERE && !st->member) return;
    hive__shard_msg m = { .op = op };
    snprintf(m.origin, sizeof m.origin, "%s", br->name);
    snprintf(m.set, sizeof m.set, "%s", st->name);
    snprintf(m.addr, sizeof m.addr, "%s", st->addr);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    if (hive__bridge_shard_encode(&sb, &m) == HIVE_OK)
        natsConnection_Publish(br->nc, st->subject, sb.data, (int)sb.size);
    msgpack_sbuffer_destroy(&sb);
}

static void announce(hive_bridge *br, const bridge_set *st, hive__shard_op op)
{
    pthread_mutex_lock(&br->set_lock);
    announce_locked(br, st, op);
    pthread_mutex_unlock(&br->set_lock);
}

static void post_member(hive_bridge *br, hive_event_id id, const char *set, const hive_shard_member *m, const char *why)
{
    hive_field f[4] = { HIVE_STR("set", set), HIVE_STR("name", m->name), HIVE_STR("addr", m->addr),
                        HIVE_STR("why", why ? why : "") };
    hive_bus_post(br->bus, id, f, why ? 4 : 3);
}

static void drop_member(bridge_set *st, size_t i)
{
    st->mem[i] = st->mem[st->n - 1];
    st->n--;
}

#define ASK_GAP_MS 50

static void on_shard_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    bridge_import *im = closure;
    hive_bridge *br = im->br;
    bridge_set *st = im->set;
    hive__shard_msg m;
    const uint8_t *data = (const uint8_t *)natsMsg_GetData(msg);
    int len = natsMsg_GetDataLength(msg);
    if (len <= 0 || len > 4096 || hive__bridge_shard_decode(data, (size_t)len, &im->dec.zone, &m) != HIVE_OK ||
        strcmp(m.set, st->name) != 0) {
        count(&br->dropped_in);
        natsMsg_Destroy(msg);
        return;
    }
    natsMsg_Destroy(msg);
    if (strcmp(m.origin, br->name) == 0) return;   /* ours */
    hive_shard_member gone = { { 0 } }, added = { { 0 } };
    bool ask_back = false, full = false, moved = false;
    pthread_mutex_lock(&br->set_lock);
    size_t i = 0;
    while (i < st->n && strcmp(st->mem[i].m.name, m.origin) != 0) i++;
    if (m.op == HIVE__SHARD_HERE) {
        if (i < st->n) {
            st->mem[i].seen_ms = now_ms();
            if (strcmp(st->mem[i].m.addr, m.addr) != 0) {
                /* a member at a new address: said as a leave and a join,
                 * so watchers route to the new one */
                gone = st->mem[i].m;
                snprintf(st->mem[i].m.addr, sizeof st->mem[i].m.addr, "%s", m.addr);
                added = st->mem[i].m;
                moved = true;
            }
        } else if (st->n < HIVE_BRIDGE_MAX_MEMBERS) {
            snprintf(st->mem[st->n].m.name, sizeof st->mem[0].m.name, "%s", m.origin);
            snprintf(st->mem[st->n].m.addr, sizeof st->mem[0].m.addr, "%s", m.addr);
            st->mem[st->n].seen_ms = now_ms();
            added = st->mem[st->n].m;
            st->n++;
            /* a newcomer hears of us now, not at our next heartbeat */
            ask_back = st->member;
        } else {
            full = true;
        }
    } else if (m.op == HIVE__SHARD_BYE) {
        if (i < st->n) {
            gone = st->mem[i].m;
            drop_member(st, i);
        }
    } else {
        ask_back = st->member;
    }
    /* At most one answer per ASK_GAP_MS, however many ask: an answer goes
     * to the whole set, and a flood of asks from one publisher must not
     * turn every member into a flood of answers. Those who ask inside the
     * gap get one answer together when it ends. */
    if (ask_back) {
        uint64_t t = now_ms();
        if (!st->answered_ms || t - st->answered_ms >= ASK_GAP_MS) {
            st->answered_ms = t;
            announce_locked(br, st, HIVE__SHARD_HERE);
        } else if (!st->owe_answer) {
            /* asked inside the gap: one answer when it ends, for all who
             * asked meanwhile (the heartbeat thread sends it) */
            st->owe_answer = true;
            pthread_cond_signal(&br->hb_cond);
        }
    }
    pthread_mutex_unlock(&br->set_lock);
    if (full) count(&br->dropped_in);
    if (gone.name[0]) post_member(br, br->ev_left, st->name, &gone, moved ? "moved" : "left");
    if (added.name[0]) post_member(br, br->ev_joined, st->name, &added, NULL);
}

/* The heartbeat thread: announces our memberships, and ends members that
 * fell silent. */
/* The answers owed at the end of an ask gap, sent when due; returns the
 * earliest of `wake` and the next one due. Caller holds set_lock. */
static uint64_t owed_answers(hive_bridge *br, uint64_t t, uint64_t wake)
{
    for (size_t k = 0; k < br->nsets; k++) {
        bridge_set *st = br->sets[k];
        if (!st->owe_answer) continue;
        uint64_t due = st->answered_ms + ASK_GAP_MS;
        if (t >= due) {
            st->owe_answer = false;
            st->answered_ms = t;
            announce_locked(br, st, HIVE__SHARD_HERE);
        } else if (due < wake) {
            wake = due;
        }
    }
    return wake;
}

static void *heartbeat_main(void *arg)
{
    hive_bridge *br = arg;
    for (;;) {
        uint64_t next_hb = now_ms() + br->hb_ms;
        pthread_mutex_lock(&br->set_lock);
        for (;;) {
            if (br->hb_stop) {
                pthread_mutex_unlock(&br->set_lock);
                return NULL;
            }
            uint64_t t = now_ms();
            uint64_t wake = owed_answers(br, t, next_hb);
            if (t >= next_hb) break;
            /* now_ms is CLOCK_MONOTONIC, as hb_cond's clock */
            struct timespec until = { (time_t)(wake / 1000u), (long)(wake % 1000u) * 1000000L };
            pthread_cond_timedwait(&br->hb_cond, &br->set_lock, &until);
        }
        uint64_t t = now_ms(), span = (uint64_t)br->hb_ms * 7 / 2;
        uint64_t dead = t > span ? t - span : 0;
        hive_shard_member gone[8];
        char gone_set[8][64];
        size_t ngone = 0;
        bridge_set *mine[HIVE_BRIDGE_MAX_SETS];
        size_t nmine = 0;
        for (size_t k = 0; k < br->nsets; k++) {
            bridge_set *st = br->sets[k];
            if (st->member) mine[nmine++] = st;
            for (size_t i = 0; i < st->n;) {
                if (st->mem[i].seen_ms < dead && ngone < 8) {
                    gone[ngone] = st->mem[i].m;
                    snprintf(gone_set[ngone], sizeof gone_set[0], "%s", st->name);
                    ngone++;
                    drop_member(st, i);
                } else {
                    i++;
                }
            }
        }
        /* sets are never freed before this thread ends: the pointers stay good */
        pthread_mutex_unlock(&br->set_lock);
        for (size_t i = 0; i < ngone; i++) post_member(br, br->ev_left, gone_set[i], &gone[i], "timeout");
        for (size_t i = 0; i < nmine; i++) announce(br, mine[i], HIVE__SHARD_HERE);   /* re-checks membership */
    }
}

static void shards_stop(hive_bridge *br)
{
    pthread_mutex_lock(&br->set_lock);
    br->hb_stop = true;
    pthread_cond_broadcast(&br->hb_cond);
    pthread_mutex_unlock(&br->set_lock);
    if (br->hb_started) pthread_join(br->hb, NULL);
    br->hb_started = false;
    pthread_mutex_lock(&br->set_lock);
    for (size_t i = 0; i < br->nsets; i++) {
        if (!br->sets[i]->member) continue;
        br->sets[i]->member = false;   /* no HERE (an ASK's answer) after this BYE */
        announce_locked(br, br->sets[i], HIVE__SHARD_BYE);
    }
    pthread_mutex_unlock(&br->set_lock);
}

static bridge_set *find_set(const hive_bridge *br, const char *set)
{
    for (size_t i = 0; i < br->nsets; i++)
        if (strcmp(br->sets[i]->name, set) == 0) return br->sets[i];
    return NULL;
}

/* Watch set (make it known, subscribe, ask who is there). */
static int watch(hive_bridge *br, const char *set, bridge_set **out)
{
    if (!set || !hive__bridge_set_ok(set, strlen(set))) return HIVE_EINVAL;
    bridge_set *st = find_set(br, set);
    if (st) {
        *out = st;
        return HIVE_OK;
    }
    if (br->nsets == HIVE_BRIDGE_MAX_SETS || br->nimp == MAX_PATTERNS) return HIVE_EFULL;
    st = hive__calloc(1, sizeof *st);
    bridge_import *im = hive__calloc(1, sizeof *im);
    if (!st || !im || hive__bridge_decoded_init(&im->dec) != HIVE_OK) {
        if (im) hive__bridge_decoded_fini(&im->dec);
        hive__free(st);
        hive__free(im);
        return HIVE_ENOMEM;
    }
    snprintf(st->name, sizeof st->name, "%s", set);
    snprintf(st->subject, sizeof st->subject, "%s._shard.%s", br->prefix, set);
    im->br = br;
    im->set = st;
    snprintf(im->subject, sizeof im->subject, "%s", st->subject);
    if (!br->hb_started) {
        if (pthread_create(&br->hb, NULL, heartbeat_main, br) != 0) {
            hive__bridge_decoded_fini(&im->dec);
            hive__free(st);
            hive__free(im);
            return HIVE_ENOMEM;
        }
        br->hb_started = true;
    }
    pthread_mutex_lock(&br->set_lock);
    br->sets[br->nsets++] = st;
    pthread_mutex_unlock(&br->set_lock);
    natsStatus s = subscribe(br, im, on_shard_msg);
    pthread_mutex_lock(&br->lock);
    br->imp[br->nimp++] = im;   /* ended and freed with the imports */
    pthread_mutex_unlock(&br->lock);
    if (s != NATS_OK) return HIVE_EIO;
    *out = st;
    return HIVE_OK;
}

int hive_bridge_shard_watch(hive_bridge *br, const char *set)
{
    if (!br) return HIVE_EINVAL;
    bridge_set *st;
    bool known = find_set(br, set ? set : "") != NULL;
    int rc = watch(br, set, &st);
    if (rc == HIVE_OK && !known) announce(br, st, HIVE__SHARD_ASK);
    return rc;
}

int hive_bridge_shard_join(hive_bridge *br, const char *set, const char *addr)
{
    if (!br || !addr || !*addr || strlen(addr) >= HIVE_BRIDGE_ADDR_MAX) return HIVE_EINVAL;
    bridge_set *st;
    int rc = watch(br, set, &st);
    if (rc != HIVE_OK) return rc;
    if (st->member) return HIVE_EEXIST;
    pthread_mutex_lock(&br->set_lock);
    st->member = true;
    snprintf(st->addr, sizeof st->addr, "%s", addr);
    announce_locked(br, st, HIVE__SHARD_HERE);
    announce_locked(br, st, HIVE__SHARD_ASK);
    pthread_mutex_unlock(&br->set_lock);
    return HIVE_OK;
}

int hive_bridge_shard_leave(hive_bridge *br, const char *set)
{
    if (!br || !set) return HIVE_EINVAL;
    bridge_set *st = find_set(br, set);
    if (!st || !st->member) return HIVE_ENOENT;
    pthread_mutex_lock(&br->set_lock);
    st->member = false;
    announce_locked(br, st, HIVE__SHARD_BYE);
    pthread_mutex_unlock(&br->set_lock);
    return HIVE_OK;
}

/* Every member of st, this process included when a member. Caller holds
 * set_lock. */
static size_t all_members(const hive_bridge *br, const bridge_set *st, hive_shard_member *out)
{
    size_t n = 0;
    for (size_t i = 0; i < st->n; i++) out[n++] = st->mem[i].m;
    if (st->member) {
        snprintf(out[n].name, sizeof out[n].name, "%s", br->name);
        snprintf(out[n].addr, sizeof out[n].addr, "%s", st->addr);
        n++;
    }
    return n;
}

int hive_bridge_shard_for(const hive_bridge *br, const char *set, const void *key, size_t len, hive_shard_member *out)
{
    if (!br || !set || !out || (len && !key)) return HIVE_EINVAL;
    hive_bridge *b = (hive_bridge *)br;
    int rc = HIVE_ENOENT;
    pthread_mutex_lock(&b->set_lock);
    const bridge_set *st = find_set(br, set);
    if (st) {
        const char *me = st->member ? br->name : NULL;
        uint64_t best = 0;
        const char *bn = NULL, *ba = NULL;
        for (size_t i = 0; i <= st->n; i++) {
            const char *name = i < st->n ? st->mem[i].m.name : me;
            const char *addr = i < st->n ? st->mem[i].m.addr : st->addr;
            if (!name) continue;
            uint64_t sc = hive__bridge_hrw(name, key, len);
            if (!bn || sc > best || (sc == best && strcmp(name, bn) < 0)) {
                best = sc;
                bn = name;
                ba = addr;
            }
        }
        if (bn) {
            snprintf(out->name, sizeof out->name, "%s", bn);
            snprintf(out->addr, sizeof out->addr, "%s", ba);
            rc = HIVE_OK;
        }
    }
    pthread_mutex_unlock(&b->set_lock);
    return rc;
}

static int cmp_member(const void *a, const void *b)
{
    return strcmp(((const hive_shard_member *)a)->name, ((const hive_shard_member *)b)->name);
}

int hive_bridge_shard_members(const hive_bridge *br, const char *set, hive_shard_member *out, size_t max)
{
    if (!br || !set || (max && !out)) return HIVE_EINVAL;
    hive_bridge *b = (hive_bridge *)br;
    hive_shard_member *all = hive__malloc(sizeof *all * (HIVE_BRIDGE_MAX_MEMBERS + 1));
    if (!all) return HIVE_ENOMEM;
    int rc = HIVE_ENOENT;
    pthread_mutex_lock(&b->set_lock);
    const bridge_set *st = find_set(br, set);
    size_t n = st ? all_members(br, st, all) : 0;
    pthread_mutex_unlock(&b->set_lock);
    if (st) {
        qsort(all, n, sizeof *all, cmp_member);
        if (max) memcpy(out, all, sizeof *all * (n < max ? n : max));
        rc = (int)n;
    }
    hive__free(all);
    return rc;
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
    shards_stop(br);
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

static int import_any(hive_bridge *br, const char *pattern, const char *group, bool internal);

int hive_bridge_import_queue(hive_bridge *br, const char *pattern, const char *group)
{
    if (!br || !pattern) return HIVE_EINVAL;
    /* a pattern in a reserved namespace is refused (and on_msg drops
     * reserved names a wildcard namespace lets through): those events are
     * never another process's to post here */
    if (reserved_ns(pattern)) return HIVE_ENAME;
    return import_any(br, pattern, group, false);
}

static int import_any(hive_bridge *br, const char *pattern, const char *group, bool internal)
{
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
    im->internal = internal;
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
    static atomic_int_fast64_t next_id;   /* process-wide: two bridges on one bus never match each other's */
    r->id = atomic_fetch_add(&next_id, 1) + 1;
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
    if (!reply_ok(reply)) return HIVE_EINVAL;
    return publish(br, reply, NULL, request->name, f, n);
}

/* ------------------------------------------------------------------ */
/* Handoff over NATS                                                    */
/* ------------------------------------------------------------------ */

#define HANDOFF_NS HANDOFF_NS_STR

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* HMAC-SHA256 under handoff_key of: what ("ticket" or "answer"), 0, the
 * target's name, 0, at (8 bytes, big-endian), then p[0..n). */
static bool handoff_mac(const hive_bridge *br, const char *what, const char *target, uint64_t at, const void *p,
                        size_t n, uint8_t out[HANDOFF_MAC_BYTES])
{
    uint8_t be[8];
    for (int i = 0; i < 8; i++) be[i] = (uint8_t)(at >> (56 - 8 * i));
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(br->hmac);
    OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
                            OSSL_PARAM_construct_end() };
    size_t len = 0;
    bool ok = ctx && EVP_MAC_init(ctx, br->hkey, br->hkey_len, params) &&
              EVP_MAC_update(ctx, (const unsigned char *)what, strlen(what) + 1) &&
              EVP_MAC_update(ctx, (const unsigned char *)target, strlen(target) + 1) && EVP_MAC_update(ctx, be, 8) &&
              (!n || EVP_MAC_update(ctx, p, n)) && EVP_MAC_final(ctx, out, &len, HANDOFF_MAC_BYTES) &&
              len == HANDOFF_MAC_BYTES;
    EVP_MAC_CTX_free(ctx);
    if (!ok) ERR_clear_error();
    return ok;
}

/* A signed ticket to us: the right MAC, a time near ours, never seen. */
static bool ticket_signed(hive_bridge *br, const hive_event *ev, const void *t, size_t n)
{
    const void *m = NULL;
    size_t mn = 0;
    int64_t at = hive_event_int(ev, "at", -1);
    uint64_t now = wall_ms();
    uint8_t want[HANDOFF_MAC_BYTES];
    if (at <= 0 || hive_event_get_bytes(ev, "mac", &m, &mn) != HIVE_OK || mn != HANDOFF_MAC_BYTES) return false;
    if ((uint64_t)at + HANDOFF_SKEW_MS < now || (uint64_t)at > now + HANDOFF_SKEW_MS) return false;
    if (!handoff_mac(br, "ticket", br->name, (uint64_t)at, t, n, want) || CRYPTO_memcmp(want, m, sizeof want) != 0)
        return false;
    if ((uint64_t)at <= br->seen_floor) return false;   /* older than what the ring forgot */
    for (size_t i = 0; i < br->nseen; i++)
        if (memcmp(br->seen[i].mac, want, sizeof want) == 0) return false;   /* a replay */
    if (br->nseen == HANDOFF_SEEN && br->seen[br->seen_next].at > br->seen_floor)
        br->seen_floor = br->seen[br->seen_next].at;
    memcpy(br->seen[br->seen_next].mac, want, sizeof want);
    br->seen[br->seen_next].at = (uint64_t)at;
    br->seen_next = (br->seen_next + 1) % HANDOFF_SEEN;
    if (br->nseen < HANDOFF_SEEN) br->nseen++;
    return true;
}

/* The answer's bytes under its MAC: the ticket's MAC (so an answer is
 * good for its own ticket alone), the cid (4 bytes, big-endian), the token. */
#define ANSWER_BYTES (HANDOFF_MAC_BYTES + 4 + HIVE_HANDOFF_TOKEN_BYTES)
static void answer_bytes(const uint8_t *ticket_mac, hive_cid cid, const uint8_t *tok, uint8_t out[ANSWER_BYTES])
{
    memcpy(out, ticket_mac, HANDOFF_MAC_BYTES);
    for (int i = 0; i < 4; i++) out[HANDOFF_MAC_BYTES + i] = (uint8_t)(cid >> (24 - 8 * i));
    memcpy(out + HANDOFF_MAC_BYTES + 4, tok, HIVE_HANDOFF_TOKEN_BYTES);
}

static void on_ticket(const hive_event *ev, void *user)
{
    hive_bridge *br = user;
    const void *t = NULL;
    size_t n = 0;
    hive_cid cid = 0;
    uint8_t tok[HIVE_HANDOFF_TOKEN_BYTES] = { 0 };
    int rc = hive_event_get_bytes(ev, "ticket", &t, &n) == HIVE_OK && br->handoff_srv ? HIVE_OK : HIVE_EPROTO;
    if (rc == HIVE_OK && br->hkey && !ticket_signed(br, ev, t, n)) {
        count(&br->dropped_in);
        rc = HIVE_EPROTO;
    }
    if (rc == HIVE_OK) rc = hive_server_adopt(br->handoff_srv, t, n, &cid, tok);
    uint8_t mac[HANDOFF_MAC_BYTES] = { 0 }, ab[ANSWER_BYTES];
    int64_t at = hive_event_int(ev, "at", 0);
    const void *tm = NULL;
    size_t tml = 0;
    if (br->hkey && rc == HIVE_OK) {
        hive_event_get_bytes(ev, "mac", &tm, &tml);   /* checked by ticket_signed */
        answer_bytes(tm, cid, tok, ab);
        if (!handoff_mac(br, "answer", br->name, (uint64_t)at, ab, sizeof ab, mac)) rc = HIVE_ENOMEM;
    }
    hive_field f[] = { HIVE_INT("ok", rc == HIVE_OK), HIVE_INT("cid", cid), HIVE_BYTES("token", tok, sizeof tok),
                       HIVE_STR("error", rc == HIVE_OK ? "" : hive_err_name(rc)), HIVE_BYTES("mac", mac, sizeof mac) };
    hive_bridge_reply(br, ev, f, br->hkey ? 5 : 4);
}

int hive_bridge_serve_handoffs(hive_bridge *br, hive_server *srv)
{
    if (!br || !srv) return HIVE_EINVAL;
    if (br->handoff_srv) return HIVE_EEXIST;
    char name[HIVE_NAME_MAX];
    snprintf(name, sizeof name, HANDOFF_NS "%s", br->name);
    if (!hive__bridge_carriable(name)) return HIVE_ENAME;
    int rc = import_any(br, name, NULL, true);
    if (rc != HIVE_OK) return rc;
    rc = hive_bus_subscribe(br->bus, name, on_ticket, br, NULL);
    if (rc < 0) return rc;
    br->handoff_srv = srv;
    return HIVE_OK;
}

typedef struct handoff_req {
    struct handoff_req *next;        /* br->moves: moves waiting for their answer */
    hive_bridge *br;
    hive_server *srv;
    hive_cid cid;
    char target[HIVE_BRIDGE_ORIGIN_MAX];
    char addr[256];
    uint64_t at;                     /* the signed ticket's time (handoff_key) */
    uint8_t mac[HANDOFF_MAC_BYTES];  /* and its MAC, which its answer signs */
} handoff_req;

static void on_handoff_answer(const hive_event *reply, int status, void *user)
{
    handoff_req *h = user;
    for (handoff_req **pp = &h->br->moves; *pp; pp = &(*pp)->next)
        if (*pp == h) {
            *pp = h->next;
            break;
        }
    bool ok = false;
    const char *err = hive_err_name(status);
    if (status == HIVE_OK) {
        const void *tok = NULL;
        size_t tn = 0;
        int64_t cid = hive_event_int(reply, "cid", 0);
        err = hive_event_str(reply, "error");
        bool good = hive_event_int(reply, "ok", 0) == 1 && hive_event_get_bytes(reply, "token", &tok, &tn) == HIVE_OK &&
                    tn == HIVE_HANDOFF_TOKEN_BYTES && cid > 0 && cid <= UINT32_MAX;
        if (good && h->br->hkey) {
            /* signed back by the target we asked, for this ticket */
            const void *m = NULL;
            size_t mn = 0;
            uint8_t ab[ANSWER_BYTES], want[HANDOFF_MAC_BYTES];
            answer_bytes(h->mac, (hive_cid)cid, tok, ab);
            good = hive_event_get_bytes(reply, "mac", &m, &mn) == HIVE_OK && mn == HANDOFF_MAC_BYTES &&
                   handoff_mac(h->br, "answer", h->target, h->at, ab, sizeof ab, want) &&
                   CRYPTO_memcmp(want, m, sizeof want) == 0;
            if (!good) err = "HIVE_EPROTO";
        }
        if (good) {
            int rc = hive_server_handoff_redirect(h->srv, h->cid, h->addr, (hive_cid)cid, tok);
            ok = rc == HIVE_OK;
            if (!ok) err = hive_err_name(rc);
        } else if (!err || !*err) {
            err = "HIVE_EPROTO";
        }
    }
    if (!ok) hive_server_handoff_cancel(h->srv, h->cid);
    hive_field f[] = { HIVE_INT("cid", h->cid), HIVE_STR("target", h->target), HIVE_INT("ok", ok),
                       HIVE_STR("error", ok ? "" : err ? err : "") };
    if (status != HIVE_ECLOSED) hive_bus_publish_name(h->br->bus, HIVE_EV_NATS_HANDOFF, f, 4);   /* not in destroy */
    hive__free(h);
}

int hive_bridge_handoff(hive_bridge *br, hive_server *srv, hive_cid cid, const char *target, const char *addr,
                        const void *data, size_t len, uint32_t timeout_ms)
{
    if (!br || !srv || !target || !addr || !*addr || strlen(addr) > 255 || timeout_ms == 0) return HIVE_EINVAL;
    if (!hive__bridge_origin_ok(target, strlen(target))) return HIVE_EINVAL;
    /* one move per player at a time: a late answer must never end a later move */
    for (handoff_req *m = br->moves; m; m = m->next)
        if (m->srv == srv && m->cid == cid) return HIVE_ESTATE;
    char name[HIVE_NAME_MAX];
    snprintf(name, sizeof name, HANDOFF_NS "%s", target);
    if (!hive__bridge_carriable(name)) return HIVE_ENAME;
    handoff_req *h = hive__calloc(1, sizeof *h);
    if (!h) return HIVE_ENOMEM;
    h->br = br;
    h->srv = srv;
    h->cid = cid;
    snprintf(h->target, sizeof h->target, "%s", target);
    snprintf(h->addr, sizeof h->addr, "%s", addr);
    hive_msg ticket;
    hive_msg_init(&ticket);
    int rc = hive_server_handoff_begin(srv, cid, data, len, &ticket);
    uint8_t *mac = h->mac;
    h->at = wall_ms();
    if (rc == HIVE_OK && br->hkey &&
        !handoff_mac(br, "ticket", target, h->at, hive_msg_data(&ticket), hive_msg_size(&ticket), mac)) {
        hive_server_handoff_cancel(srv, cid);
        rc = HIVE_ENOMEM;
    }
    if (rc == HIVE_OK) {
        hive_field f[] = { HIVE_BYTES("ticket", hive_msg_data(&ticket), hive_msg_size(&ticket)),
                           HIVE_INT("at", (int64_t)h->at), HIVE_BYTES("mac", mac, HANDOFF_MAC_BYTES) };
        int64_t id = hive_bridge_request(br, name, f, br->hkey ? 3 : 1, timeout_ms, on_handoff_answer, h);
        if (id < 0) {
            hive_server_handoff_cancel(srv, cid);
            rc = (int)id;
        } else {
            h->next = br->moves;
            br->moves = h;
        }
    }
    hive_msg_free(&ticket);
    if (rc != HIVE_OK) hive__free(h);
    return rc;
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
        /* the most libnats ever said: it says nothing once the connection
         * closed, and the count must not go back */
        int64_t d = 0;
        bridge_import *im = b->imp[i];
        if (im->sub && natsSubscription_GetDropped(im->sub, &d) == NATS_OK && d > im->slow_seen) im->slow_seen = d;
        out->slow_dropped += (uint64_t)im->slow_seen;
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
