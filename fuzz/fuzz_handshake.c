/*
 * fuzz_handshake.c - libFuzzer target for the connection state machine,
 * driven through a real hive_server or hive_client (net/server.c,
 * net/client.c, net/conn.c, net/handshake.c) over a fake, socket-free
 * transport registered for the scheme `fuzz`.
 *
 * Input: byte 0 chooses the setup, the rest is a script for the peer:
 *   bit 0   client role (else server role)
 *   bit 1   start with a valid handshake from the peer (hello + ready, or
 *           a welcome), so the fuzzer reaches the open state at once
 *   bit 2   stream transport (bytes go through hive__rxbuf) instead of datagrams
 *   bit 3   server: an auth hook that refuses tokens starting with 'x'
 *   bit 4   the link has 4 lanes (channels; transport.h LANES): game:chat
 *           is on channel 2 and game:move on channel 1, and each chunk's
 *           kind byte says the lane in its bits 4-5
 *   bit 5   handlers answer: a recv whose body starts with an odd byte
 *           makes the handler close that connection (server: kick; client:
 *           close), a byte with bit 1 set also stops the server/client -
 *           re-entrant calls from inside Hive's own callbacks
 * then chunks: [kind][len][len bytes]
 *   kind % 4 == 0 / 1   bytes from the peer on channel 0 / 1
 *   kind % 4 == 2       the peer vanishes (transport disconnect)
 *   kind % 4 == 3       [len16 LE][bytes] a longer chunk on channel 0
 *
 * Invariants (abort() = a crash for libFuzzer):
 *   - everything Hive sends is a sequence of whole, valid frames whose
 *     bodies are exactly one msgpack object, flagged as counted (0x02)
 *     exactly when they are reliable user frames; a lane past 0 carries
 *     user frames only, and only lanes the link has;
 *   - nothing is sent on a link after Hive closed it;
 *   - every accepted connection gets exactly one close event; no recv
 *     event before handshakecomplete; the recv message decodes;
 *   - the client publishes close at most once and stop exactly once;
 *   - no leak, no sanitizer report (ASan/UBSan build).
 * Build and run: tools/fuzz.sh (make fuzz).
 */
#include "events/internal.h"
#include <stdlib.h>
#include <string.h>

#include "hive/hive.h"
#include "net/wire/frame.h"
#include "net/transport/transport.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

/* ------------------------------------------------------------------ */
/* The fake transport                                                   */
/* ------------------------------------------------------------------ */

typedef struct flink {
    hive__link base;
    bool closing;
} flink;

typedef struct ftr {
    hive__transport base;
    flink *link;
    bool listening, dialing, announced;
    const uint8_t *prefix;       /* delivered first, in one chunk */
    size_t prefix_len;
    const uint8_t *in;
    size_t len, pos;
} ftr;

static const uint8_t *g_in, *g_prefix;
static size_t g_len, g_prefix_len;
static bool g_stream;
static int g_lanes;   /* 0: the transport has no lanes */

static int f_listen(hive__transport *t, const hive__addr *a) { ((ftr *)t)->listening = true; return 0; }

static int f_connect(hive__transport *t, const hive__addr *a, hive__link **out)
{
    ftr *f = (ftr *)t;
    f->link = hive__calloc(1, sizeof *f->link);
    if (!f->link) return HIVE_ENOMEM;
    f->dialing = true;
    *out = &f->link->base;
    return 0;
}

static void drop_link(ftr *f)
{
    hive__free(f->link);
    f->link = NULL;
}

static void deliver(ftr *f, const uint8_t *p, size_t n, int ch)
{
    /* The core may abort (free) the link from inside the callback. */
    f->base.cb.data(f->base.cb.core, &f->link->base, p, n, ch);
}

static int f_service(hive__transport *t, int timeout_ms)
{
    ftr *f = (ftr *)t;
    hive__transport_cb *cb = &f->base.cb;
    if (f->link && f->link->closing) {
        cb->disconnected(cb->core, &f->link->base, HIVE_CLOSE_NORMAL, NULL);
        drop_link(f);
        return 1;
    }
    if (f->listening && !f->announced) {
        f->announced = true;
        f->link = hive__calloc(1, sizeof *f->link);
        if (!f->link) return 0;
        if (cb->accepted(cb->core, &f->link->base, "fuzz://peer:1") < 0) drop_link(f);
        return 1;
    }
    if (f->dialing && !f->announced) {
        f->announced = true;
        cb->connected(cb->core, &f->link->base);
        return 1;
    }
    if (!f->link) return 0;
    if (f->prefix_len) {
        size_t n = f->prefix_len;
        f->prefix_len = 0;
        deliver(f, f->prefix, n, 0);
        return 1;
    }
    if (f->pos >= f->len) return 0;
    uint8_t raw = f->in[f->pos++], kind = raw % 4;
    int lane = g_lanes ? (raw >> 4) & 3 : 0;
    size_t n = 0;
    if (kind == 2) {
        cb->disconnected(cb->core, &f->link->base, HIVE_CLOSE_PEER_VANISHED, NULL);
        drop_link(f);
        return 1;
    }
    if (kind == 3) {
        if (f->pos + 2 > f->len) { f->pos = f->len; return 0; }
        n = (size_t)f->in[f->pos] | (size_t)f->in[f->pos + 1] << 8;
        f->pos += 2;
    } else if (f->pos < f->len) {
        n = f->in[f->pos++];
    }
    if (n > f->len - f->pos) n = f->len - f->pos;
    /* Copy: the core must not keep pointers into a datagram it was given. */
    uint8_t *buf = malloc(n ? n : 1);
    CHECK(buf);
    memcpy(buf, f->in + f->pos, n);
    f->pos += n;
    deliver(f, buf, n, HIVE__WITH_LANE(kind == 1 ? 1 : 0, lane));
    free(buf);
    return 1;
}

/* Every send must be whole valid frames. */
static int f_send(hive__transport *t, hive__link *l, const void *const *pieces, const size_t *lens,
                  int n, int dlv)
{
    CHECK(!((flink *)l)->closing);
    size_t total = 0;
    for (int i = 0; i < n; i++) total += lens[i];
    uint8_t *buf = malloc(total ? total : 1), *at = buf;
    CHECK(buf);
    for (int i = 0; i < n; i++) { memcpy(at, pieces[i], lens[i]); at += lens[i]; }
    size_t off = 0;
    while (off < total) {
        hive__frame fr;
        CHECK(hive__frame_decode(buf + off, total - off, 1u << 24, &fr) == 1);
        /* Only reliable user frames are counted (docs/PROTOCOL.md, "Resume");
         * only user frames are compressed ("Compression"). */
        uint8_t seq = fr.flags & HIVE__FLAG_SEQ, zip = fr.flags & HIVE__FLAG_COMPRESSED;
        CHECK((fr.flags & ~HIVE__FLAGS_KNOWN) == 0);
        CHECK(!seq || (HIVE__KIND(dlv) == HIVE__DLV_RELIABLE && hive__pid_counted(fr.pid)));
        CHECK(!HIVE__LANE(dlv) || (fr.pid >= HIVE_PID_USER_MIN && HIVE__LANE(dlv) < g_lanes));
        CHECK(!zip || fr.pid >= HIVE_PID_USER_MIN);
        if (!zip) CHECK(hive__frame_check_body(fr.body, fr.body_len) == 0);
        off += fr.size;
    }
    CHECK(total > 0);
    free(buf);
    return 0;
}

static void f_flush(hive__transport *t) {}
static void f_close(hive__transport *t, hive__link *l, uint32_t code) { ((flink *)l)->closing = true; }
static void f_abort(hive__transport *t, hive__link *l) { drop_link((ftr *)t); }
static void f_wake(hive__transport *t) {}
static uint16_t f_port(hive__transport *t) { return 1; }
static int f_rtt(hive__transport *t, hive__link *l) { return -1; }
static int f_lanes(hive__transport *t, hive__link *l) { return g_lanes ? g_lanes : 1; }

static void f_destroy(hive__transport *t)
{
    ftr *f = (ftr *)t;
    if (f->link) drop_link(f);
    hive__free(f);
}

static hive__transport_vt g_vt = {
    .scheme = "fuzz", .listen = f_listen, .connect = f_connect, .service = f_service,
    .send = f_send, .flush = f_flush, .close = f_close, .abort = f_abort, .wake = f_wake,
    .bound_port = f_port, .rtt_ms = f_rtt, .destroy = f_destroy,
};

static int f_create(const hive__transport_cb *cb, const hive__transport_opts *o, hive__transport **out)
{
    ftr *f = hive__calloc(1, sizeof *f);
    if (!f) return HIVE_ENOMEM;
    g_vt.stream = g_stream;
    g_vt.lanes = g_lanes ? f_lanes : NULL;
    f->base.vt = &g_vt;
    f->base.cb = *cb;
    f->base.opts = *o;
    f->in = g_in;
    f->len = g_len;
    f->prefix = g_prefix;
    f->prefix_len = g_prefix_len;
    *out = &f->base;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Event bookkeeping                                                    */
/* ------------------------------------------------------------------ */

typedef struct tally {
    int accept, handshake, recv, close, stop, client_close, client_stop, client_handshake;
    bool react;
} tally;

/* Handlers that call back into Hive, as game code does. */
static void react(const hive_event *ev, const msgpack_object *o, tally *t)
{
    const void *raw, *obj;
    size_t len;
    if (!t->react || hive_event_get_msgpack(ev, "msg", &raw, &len, &obj) != 0 || !len) return;
    uint8_t b = ((const uint8_t *)raw)[0];
    hive_server *s = hive_event_ptr(ev, "server");
    hive_client *c = hive_event_ptr(ev, "client");
    if (b & 1) {
        if (s) hive_server_close(s, (hive_cid)hive_event_int(ev, "cid", 0), HIVE_CLOSE_KICKED, "fuzz");
        if (c) hive_client_close(c, HIVE_CLOSE_NORMAL, "fuzz");
    }
    if (b & 2) {
        if (s) hive_server_stop(s);
        if (c) hive_client_stop(c);
    }
    if (b & 4) {   /* answer with whatever came */
        if (s) hive_server_send_id(s, (hive_cid)hive_event_int(ev, "cid", 0),
                                   (uint32_t)hive_event_int(ev, "pid", 0), raw, len, 0);
        if (c) hive_client_send_id(c, (uint32_t)hive_event_int(ev, "pid", 0), raw, len, 0);
    }
}

static void on_any(const hive_event *ev, void *user)
{
    tally *t = user;
    const char *n = ev->name;
    if (!strcmp(n, HIVE_EV_SERVER_ACCEPT)) t->accept++;
    else if (!strcmp(n, HIVE_EV_SERVER_HANDSHAKE)) t->handshake++;
    else if (!strcmp(n, HIVE_EV_SERVER_CLOSE)) t->close++;
    else if (!strcmp(n, HIVE_EV_CLIENT_CLOSE)) t->client_close++;
    else if (!strcmp(n, HIVE_EV_CLIENT_STOP)) t->client_stop++;
    else if (!strcmp(n, HIVE_EV_CLIENT_HANDSHAKE)) t->client_handshake++;
    else if (!strcmp(n, HIVE_EV_SERVER_RECV) || !strcmp(n, HIVE_EV_CLIENT_RECV)) {
        t->recv++;
        CHECK(t->handshake > 0 || t->client_handshake > 0);
        hive_msg_view v;
        const msgpack_object *o;
        CHECK(hive_event_msg(ev, &v, &o) == 0);
        hive_msg_view_free(&v);
        react(ev, o, t);
    }
}

static int deny_x(hive_server *s, hive_cid cid, const hive_hello *h, void *user)
{
    return h->token_len && ((const char *)h->token)[0] == 'x' ? HIVE_CLOSE_AUTH_FAILED : 0;
}

/* Appends one frame (pid, body) to buf at *n. */
static void put_frame(uint8_t *buf, size_t *n, uint32_t pid, const void *body, size_t len)
{
    size_t hn = hive__frame_header(buf + *n, pid, 0, len);
    memcpy(buf + *n + hn, body, len);
    *n += hn + len;
}

static void run_server(uint8_t flags, tally *t, hive_bus *bus)
{
    static uint8_t prefix[512];
    size_t pn = 0;
    if (flags & 2) {
        hive_msg m;
        hive_msg_init(&m);
        hive_msg_map(&m, 6);
        hive_msg_kv_str(&m, "magic", "HIVE");
        hive_msg_kv_uint(&m, "proto", HIVE_PROTOCOL_VERSION);
        hive_msg_kv_str(&m, "app", "hive");
        hive_msg_kv_str(&m, "app_version", "1");
        hive_msg_kv_str(&m, "conntype", "player");
        hive_msg_kv_str(&m, "token", "ok");
        put_frame(prefix, &pn, 1, hive_msg_data(&m), hive_msg_size(&m));
        hive_msg_free(&m);
        const uint8_t ready = 0x80;
        put_frame(prefix, &pn, 4, &ready, 1);
    }
    g_prefix = prefix;
    g_prefix_len = pn;
    hive_server_config cfg = {
        .addr = "fuzz://here:1",
        .auth = (flags & 8) ? deny_x : NULL,
        .close_linger_ms = 1,
    };
    hive_server *s = hive_server_create(&cfg, bus);
    if (!s) return;
    hive_server_register(s, "game:chat", 0, HIVE_RELIABLE);
    hive_server_register(s, "game:move", 0, HIVE_UNRELIABLE);
    if (g_lanes) {
        hive_server_set_channel(s, "game:chat", 2);
        hive_server_set_channel(s, "game:move", 1);
    }
    if (hive_server_start(s) == 0)
        for (int i = 0; i < 100000 && hive_server_service(s, 0) > 0; i++) {}
    hive_server_destroy(s);
    CHECK(t->close == t->accept);
    CHECK(t->handshake <= t->accept);
}

static void run_client(uint8_t flags, tally *t, hive_bus *bus)
{
    static uint8_t prefix[512];
    size_t pn = 0;
    if (flags & 2) {
        hive_msg m;
        hive_msg_init(&m);
        hive_msg_map(&m, 7);
        hive_msg_kv_uint(&m, "proto", HIVE_PROTOCOL_VERSION);
        hive_msg_kv_uint(&m, "cid", 7);
        hive_msg_kv_uint(&m, "session", 42);
        hive_msg_kv_uint(&m, "heartbeat_ms", 1000);
        hive_msg_kv_uint(&m, "heartbeat_timeout_ms", 10000);
        hive_msg_kv_uint(&m, "max_frame", 65536);
        hive_msg_key(&m, "registry");
        hive_msg_map(&m, 2);
        hive_msg_key(&m, "game:chat");
        hive_msg_array(&m, 3);
        hive_msg_uint(&m, 64);
        hive_msg_uint(&m, 0);
        hive_msg_uint(&m, g_lanes ? 2 : 0);
        hive_msg_key(&m, "game:move");
        hive_msg_array(&m, 3);
        hive_msg_uint(&m, 65);
        hive_msg_uint(&m, 1);
        hive_msg_uint(&m, g_lanes ? 1 : 0);
        put_frame(prefix, &pn, 2, hive_msg_data(&m), hive_msg_size(&m));
        hive_msg_free(&m);
    }
    g_prefix = prefix;
    g_prefix_len = pn;
    hive_client *c = hive_client_create(&(hive_client_config){ .token = "tok", .token_len = 3 }, bus);
    if (!c) return;
    if (hive_client_connect(c, "fuzz://there:1") == 0) {
        for (int i = 0; i < 100000 && hive_client_service(c, 0) > 0; i++) {
            /* Exercise sending while open, as a game would. */
            if (hive_client_get_state(c) == HIVE_CLIENT_OPEN && (i & 7) == 0)
                hive_client_send(c, "game:chat", "\x80", 1);
        }
        hive_client_destroy(c);
        CHECK(t->client_close <= 1);
        CHECK(t->client_stop == 1);
        return;
    }
    hive_client_destroy(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t flags = data[0];
    g_in = data + 1;
    g_len = size - 1;
    g_stream = (flags & 4) != 0;
    g_lanes = (flags & 16) ? 4 : 0;
    hive__transport_set_test("fuzz", f_create);
    hive_bus *bus = hive_bus_create(&(hive_bus_config){ .queue_capacity = 64 });
    if (!bus) return 0;
    tally t = { .react = (flags & 32) != 0 };
    hive_bus_observe(bus, on_any, &t);
    if (flags & 1) run_client(flags, &t, bus);
    else run_server(flags, &t, bus);
    hive_bus_destroy(bus);
    return 0;
}
