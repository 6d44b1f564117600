/*
 * session.c - the client's side of the conversation, as bus handlers.
 *
 * Each packet type the server sends is its own event
 * (`net:client.recv.demo:snapshot`, ...), so each gets its own small
 * handler and there is no switch on packet ids anywhere.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "demo/common/log.h"
#include "demo/common/snapshot.h"
#include "client.h"

#define RECV(name) HIVE_EV_CLIENT_RECV_PREFIX name

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */
/* ------------------------------------------------------------------ */

const char *demo_session_name(const demo_client *c, uint32_t id)
{
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++)
        if (c->roster[i].used && c->roster[i].id == id) return c->roster[i].name;
    return "?";
}

static void roster_set(demo_client *c, uint32_t id, const char *name, size_t len)
{
    roster_entry *slot = NULL;
    for (int i = 0; i < DEMO_MAX_PLAYERS && !slot; i++)
        if (c->roster[i].used && c->roster[i].id == id) slot = &c->roster[i];
    for (int i = 0; i < DEMO_MAX_PLAYERS && !slot; i++)
        if (!c->roster[i].used) slot = &c->roster[i];
    if (!slot) return;
    slot->used = true;
    slot->id = id;
    demo_clean_text(slot->name, sizeof slot->name, name, len);
}

static void roster_remove(demo_client *c, uint32_t id)
{
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++)
        if (c->roster[i].used && c->roster[i].id == id) c->roster[i].used = false;
}

void demo_session_line(demo_client *c, line_kind kind, uint32_t from, const char *name, const char *fmt, ...)
{
    if (c->nchat == CHAT_KEEP) {
        memmove(c->chat, c->chat + 1, (CHAT_KEEP - 1) * sizeof c->chat[0]);
        c->nchat--;
    }
    chat_line *l = &c->chat[c->nchat++];
    l->kind = kind;
    l->from = from;
    snprintf(l->name, sizeof l->name, "%s", name ? name : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->text, sizeof l->text, fmt, ap);
    va_end(ap);
}

static void send_msg(demo_client *c, const char *name)
{
    hive_client_send_msg(c->cli, name, &c->msg);
}

/* ------------------------------------------------------------------ */
/* Connection                                                           */
/* ------------------------------------------------------------------ */

static void on_handshake(const hive_event *ev, void *user)
{
    demo_client *c = user;
    c->handshaken = true;
    demo_log(ev->name, "connected to %s as cid %lld", c->addr, (long long)hive_event_int(ev, "cid", 0));
    if (c->opts->spectate) return;   /* watching: the subscriptions go by themselves */
    hive_msg_reset(&c->msg);
    hive_msg_map(&c->msg, 1);
    hive_msg_kv_str(&c->msg, "name", c->opts->name);
    send_msg(c, DEMO_P_JOIN);
}

/* The link dropped; Hive dials again by itself (reconnect_attempts). */
static void on_reconnecting(const hive_event *ev, void *user)
{
    demo_client *c = user;
    long long delay = (long long)hive_event_int(ev, "delay_ms", 0);
    demo_log(ev->name, "link lost (%s): attempt %lld in %lld ms", hive_event_str(ev, "reason_name"),
             (long long)hive_event_int(ev, "attempt", 0), delay);
    demo_session_line(c, LINE_SYSTEM, 0, NULL, "Connection lost, reconnecting in %lld ms...", delay);
}

/* Back in the same session (the server kept it): the arena never lost
 * us, and every message of the gap was replayed. */
static void on_resumed(const hive_event *ev, void *user)
{
    demo_client *c = user;
    c->resumes++;
    demo_log(ev->name, "resumed session %lld (%lld messages replayed)", (long long)hive_event_int(ev, "cid", 0),
             (long long)hive_event_int(ev, "replayed", 0));
    demo_session_line(c, LINE_SYSTEM, 0, NULL, "Reconnected.");
}

/* Back, as a new session: the old player is gone from the arena; the
 * handshake that follows joins again. */
static void on_new_session(const hive_event *ev, void *user)
{
    demo_client *c = user;
    c->reconnects++;
    c->joined = false;
    demo_log(ev->name, "reconnected: session %lld ended, now %lld", (long long)hive_event_int(ev, "old_cid", 0),
             (long long)hive_event_int(ev, "cid", 0));
}

static void stop_now(hive_engine *e, int timer, void *user)
{
    hive_engine_stop(e);
}

static void on_close(const hive_event *ev, void *user)
{
    demo_client *c = user;
    c->closed = true;
    c->close_reason = (int)hive_event_int(ev, "reason", -1);
    const char *msg = hive_event_str(ev, "message");
    snprintf(c->close_text, sizeof c->close_text, "%s%s%s", demo_close_text(c->close_reason),
             msg && *msg ? ": " : "", msg && *msg ? msg : "");
    demo_log(ev->name, "%s (%s)", c->close_text, hive_event_int(ev, "remote", 0) ? "by the server" : "by us");
    demo_session_line(c, LINE_SYSTEM, 0, NULL, "Disconnected: %s", c->close_text);
    /* A person gets a moment to read why; a bot or a script goes now. */
    bool human = c->sdl && !c->opts->bot && !c->leaving && !c->opts->screenshot;
    hive_engine_after(c->engine, human ? 3000 : 0, stop_now, c);
}

void demo_session_leave(demo_client *c, const char *why)
{
    if (c->leaving) return;
    c->leaving = true;
    demo_log("demo", "leaving: %s", why);
    /* A normal close: what is queued leaves first, then client.close. If
     * there is nothing to close, stop at once. */
    if (c->closed || hive_client_close(c->cli, HIVE_CLOSE_NORMAL, why) != HIVE_OK)
        hive_engine_stop(c->engine);
    else
        hive_engine_after(c->engine, 2000, stop_now, c);   /* in case the close never completes */
}

/* ------------------------------------------------------------------ */
/* Packets                                                              */
/* ------------------------------------------------------------------ */

static void on_accepted(const hive_event *ev, void *user)
{
    demo_client *c = user;
    const msgpack_object *m = hive_event_body(ev);
    uint64_t id = hive_msg_uint_or(m, "id", 0);
    double tick_hz = hive_msg_double_or(m, "tick_hz", 0), net_hz = hive_msg_double_or(m, "net_hz", 0);
    if (id == 0 || id > UINT32_MAX || !(tick_hz >= 1 && tick_hz <= 1000) || !(net_hz >= 1 && net_hz <= 1000)) {
        hive_client_close(c->cli, HIVE_CLOSE_APP_MIN, "bad demo:accepted");
        return;
    }
    c->my_id = (uint32_t)id;
    c->tick_hz = tick_hz;
    c->net_hz = net_hz;
    c->joined = c->ever_joined = true;
    demo_predict_init(&c->pred, (int)(tick_hz + 0.5));
    /* roster: [[id, name], ...]; entries of another shape are skipped. */
    const msgpack_object *r = hive_msg_path(m, "roster"), *e;
    for (uint32_t i = 0; (e = hive_msg_next(r, &i)); ) {
        uint64_t pid;
        const char *pname;
        size_t plen;
        if (hive_msg_len(e) == 2 && hive_msg_path_uint(e, "0", &pid) == 0 && pid <= UINT32_MAX &&
            hive_msg_path_str(e, "1", &pname, &plen) == 0)
            roster_set(c, (uint32_t)pid, pname, plen);
    }
    demo_log(ev->name, "joined as %s (id %u), %g Hz", demo_session_name(c, c->my_id), c->my_id, tick_hz);
    demo_session_line(c, LINE_SYSTEM, 0, NULL, "Welcome to the arena, %s! Arrows/WASD move, Enter chats.",
                      demo_session_name(c, c->my_id));
}

static void on_joined(const hive_event *ev, void *user)
{
    demo_client *c = user;
    const msgpack_object *m = hive_event_body(ev);
    uint64_t id;
    const char *name;
    size_t len;
    if (hive_msg_path_uint(m, "id", &id) == 0 && id <= UINT32_MAX && hive_msg_path_str(m, "name", &name, &len) == 0) {
        roster_set(c, (uint32_t)id, name, len);
        demo_session_line(c, LINE_SYSTEM, 0, NULL, "%s joined", demo_session_name(c, (uint32_t)id));
    }
}

static void on_left(const hive_event *ev, void *user)
{
    demo_client *c = user;
    uint64_t id;
    if (hive_msg_path_uint(hive_event_body(ev), "id", &id) == 0 && id <= UINT32_MAX) {
        demo_session_line(c, LINE_SYSTEM, 0, NULL, "%s left", demo_session_name(c, (uint32_t)id));
        roster_remove(c, (uint32_t)id);
    }
}

static void count_snapshot(net_stats *st, uint32_t seq)
{
    if (st->snapshots == 0) {
        st->first_seq = st->win_first = seq;
        st->win_max = seq;
    }
    st->snapshots++;
    st->win_got++;
    if (seq > st->win_max) st->win_max = seq;
    if (seq > st->last_seq) st->last_seq = seq;
}

static void on_snapshot(const hive_event *ev, void *user)
{
    demo_client *c = user;
    const msgpack_object *m = hive_event_body(ev);
    demo_snapshot s;
    if (!m || demo_snapshot_decode(m, &s) != 0) {
        /* Untrusted input: count it and carry on; a bad snapshot is not
         * worth a disconnect. */
        c->st.bad_snapshots++;
        return;
    }
    count_snapshot(&c->st, s.seq);
    demo_interp_push(&c->interp, &s);
    const demo_snap_player *me = c->joined ? demo_snapshot_find(&s, c->my_id) : NULL;
    if (me)
        demo_predict_reconcile(&c->pred, me->x, me->y, me->ack, s.it == c->my_id, me->frozen);
}

static void on_tag(const hive_event *ev, void *user)
{
    demo_client *c = user;
    const msgpack_object *m = hive_event_body(ev);
    uint64_t tagger, tagged;
    if (hive_msg_path_uint(m, "tagger", &tagger) == 0 && hive_msg_path_uint(m, "tagged", &tagged) == 0 &&
        tagger <= UINT32_MAX && tagged <= UINT32_MAX) {
        c->tags_seen++;
        if (tagger == c->my_id) c->my_tags++;
        if (tagged == c->my_id) c->times_tagged++;
        c->flash_id = (uint32_t)tagged;
        c->flash_until = demo_log_seconds() + 0.6;
        if (hive_msg_bool_or(m, "idle", false))
            demo_session_line(c, LINE_SYSTEM, 0, NULL, "%s stood still: %s is it now",
                              demo_session_name(c, (uint32_t)tagger), demo_session_name(c, (uint32_t)tagged));
        else
            demo_session_line(c, LINE_SYSTEM, 0, NULL, "%s tagged %s", demo_session_name(c, (uint32_t)tagger),
                              demo_session_name(c, (uint32_t)tagged));
        demo_log(ev->name, "%s tagged %s", demo_session_name(c, (uint32_t)tagger),
                 demo_session_name(c, (uint32_t)tagged));
    }
}

static void on_chat(const hive_event *ev, void *user)
{
    demo_client *c = user;
    const msgpack_object *m = hive_event_body(ev);
    uint64_t from;
    const char *text, *name;
    size_t tlen, nlen;
    if (hive_msg_path_uint(m, "from", &from) == 0 && from <= UINT32_MAX &&
        hive_msg_path_str(m, "text", &text, &tlen) == 0 && hive_msg_path_str(m, "name", &name, &nlen) == 0) {
        char t[DEMO_CHAT_MAX], n[DEMO_NAME_MAX];
        demo_clean_text(t, sizeof t, text, tlen);
        demo_clean_text(n, sizeof n, name, nlen);
        demo_session_line(c, LINE_CHAT, (uint32_t)from, n, "%s", t);
        demo_log(ev->name, "<%s> %s", n, t);
    }
}

static void on_announce(const hive_event *ev, void *user)
{
    demo_client *c = user;
    const char *text;
    size_t len;
    if (hive_msg_path_str(hive_event_body(ev), "text", &text, &len) == 0) {
        char t[DEMO_CHAT_MAX];
        demo_clean_text(t, sizeof t, text, len);
        demo_session_line(c, LINE_ANNOUNCE, 0, NULL, "%s", t);
    }
}

/* Hive's own measurements of the connection (net:client.stats, every
 * stats_interval_ms): the round trip of its ping/pong and the loss of the
 * server's unreliable frames. The panel shows these. */
static void on_stats(const hive_event *ev, void *user)
{
    demo_client *c = user;
    net_stats *st = &c->st;
    double rtt = hive_event_double(ev, "rtt_ms", -1);
    st->loss = hive_event_double(ev, "loss", 0) * 100.0;
    if (rtt < 0) return;
    st->rtt_ms = rtt;
    if (st->rtt_n == RTT_KEEP) {
        memmove(st->rtt_hist, st->rtt_hist + 1, (RTT_KEEP - 1) * sizeof st->rtt_hist[0]);
        st->rtt_n--;
    }
    st->rtt_hist[st->rtt_n++] = rtt;
    st->rtt_sum += rtt;
    st->rtt_count++;
}

/* ------------------------------------------------------------------ */
/* Time                                                                 */
/* ------------------------------------------------------------------ */

/* Every tick: this tick's input, predicted locally and sent. */
static void on_tick(const hive_event *ev, void *user)
{
    demo_client *c = user;
    if (!c->joined || c->closed || c->leaving) return;
    uint8_t bits = demo_session_bits(c);
    uint32_t seq = demo_predict_input(&c->pred, bits);
    hive_msg_reset(&c->msg);
    hive_msg_map(&c->msg, 2);
    hive_msg_kv_uint(&c->msg, "seq", seq);
    hive_msg_kv_uint(&c->msg, "bits", bits);
    send_msg(c, DEMO_P_INPUT);
}

static void on_frame(const hive_event *ev, void *user)
{
    demo_client *c = user;
    double dt = hive_event_double(ev, "dt", 0);
    demo_interp_advance(&c->interp, dt, (int)(c->tick_hz + 0.5));
    demo_predict_smooth(&c->pred, dt);
}

/* Once a second: loss over the last second, bandwidth. */
static void per_second(hive_engine *e, int timer, void *user)
{
    demo_client *c = user;
    net_stats *st = &c->st;
    if (st->snapshots) {
        uint32_t expected = st->win_max >= st->win_first ? st->win_max - st->win_first + 1 : 0;
        st->loss_pct = expected && st->win_got < expected ? 100.0 * (expected - st->win_got) / expected : 0;
        st->win_first = st->win_max + 1;
        st->win_got = 0;
    }
    hive_net_stats ns;
    if (hive_client_stats(c->cli, &ns) == 0) {
        st->kb_in = (double)(ns.bytes_in - st->last_in) / 1024.0;
        st->kb_out = (double)(ns.bytes_out - st->last_out) / 1024.0;
        st->last_in = ns.bytes_in;
        st->last_out = ns.bytes_out;
    }
}

/* ------------------------------------------------------------------ */
/* Spectating: the whole view from remote subscriptions                 */
/* ------------------------------------------------------------------ */

#define REMOTE(name) HIVE_REMOTE_PREFIX name

static void spec_snapshot(const hive_event *ev, void *user)
{
    demo_client *c = user;
    const void *raw, *obj;
    size_t len;
    demo_snapshot s;
    if (hive_event_get_msgpack(ev, "state", &raw, &len, &obj) != HIVE_OK || !obj ||
        demo_snapshot_decode(obj, &s) != 0) {
        c->st.bad_snapshots++;
        return;
    }
    count_snapshot(&c->st, s.seq);
    demo_interp_push(&c->interp, &s);
}

static void spec_roster(const hive_event *ev, void *user)
{
    demo_client *c = user;
    const void *raw, *obj;
    size_t len;
    if (hive_event_get_msgpack(ev, "players", &raw, &len, &obj) != HIVE_OK || !obj) return;
    const msgpack_object *e;
    for (uint32_t i = 0; (e = hive_msg_next(obj, &i)); ) {
        uint64_t id;
        const char *name;
        size_t nlen;
        if (hive_msg_path_uint(e, "0", &id) == 0 && id <= UINT32_MAX && hive_msg_path_str(e, "1", &name, &nlen) == 0)
            roster_set(c, (uint32_t)id, name, nlen);
    }
}

static void spec_join(const hive_event *ev, void *user)
{
    demo_client *c = user;
    const char *name = hive_event_str(ev, "name");
    uint32_t id = (uint32_t)hive_event_int(ev, "cid", 0);
    if (!name || !id) return;
    roster_set(c, id, name, strlen(name));
    demo_session_line(c, LINE_SYSTEM, 0, NULL, "%s joined", demo_session_name(c, id));
}

static void spec_leave(const hive_event *ev, void *user)
{
    demo_client *c = user;
    uint32_t id = (uint32_t)hive_event_int(ev, "cid", 0);
    demo_session_line(c, LINE_SYSTEM, 0, NULL, "%s left", demo_session_name(c, id));
    roster_remove(c, id);
}

static void spec_tag(const hive_event *ev, void *user)
{
    demo_client *c = user;
    uint32_t tagger = (uint32_t)hive_event_int(ev, "tagger", 0), tagged = (uint32_t)hive_event_int(ev, "tagged", 0);
    c->tags_seen++;
    c->flash_id = tagged;
    c->flash_until = demo_log_seconds() + 0.6;
    demo_session_line(c, LINE_SYSTEM, 0, NULL, hive_event_int(ev, "idle", 0) ? "%s stood still: %s is it now" : "%s tagged %s",
                      demo_session_name(c, tagger), demo_session_name(c, tagged));
    demo_log(ev->name, "%s tagged %s", demo_session_name(c, tagger), demo_session_name(c, tagged));
}

static void spec_chat(const hive_event *ev, void *user)
{
    demo_client *c = user;
    const char *name = hive_event_str(ev, "name"), *text = hive_event_str(ev, "text");
    if (!name || !text) return;
    char t[DEMO_CHAT_MAX], n[DEMO_NAME_MAX];
    demo_clean_text(t, sizeof t, text, strlen(text));
    demo_clean_text(n, sizeof n, name, strlen(name));
    demo_session_line(c, LINE_CHAT, (uint32_t)hive_event_int(ev, "cid", 0), n, "%s", t);
    demo_log(ev->name, "<%s> %s", n, t);
}

static void spec_announce(const hive_event *ev, void *user)
{
    demo_client *c = user;
    const char *text = hive_event_str(ev, "text");
    if (!text) return;
    char t[DEMO_CHAT_MAX];
    demo_clean_text(t, sizeof t, text, strlen(text));
    demo_session_line(c, LINE_ANNOUNCE, 0, NULL, "%s", t);
}

static void count_game_packet(const hive_event *ev, void *user)
{
    (void)ev;
    ((demo_client *)user)->game_packets++;
}

static void spec_refused(const hive_event *ev, void *user)
{
    demo_client *c = user;
    demo_log(ev->name, "the server refused %s: %s", hive_event_str(ev, "pattern"), hive_event_str(ev, "reason"));
    demo_session_line(c, LINE_SYSTEM, 0, NULL, "Cannot watch %s: %s", hive_event_str(ev, "pattern"),
                      hive_event_str(ev, "reason"));
}

/* Everything a spectator shows, and nothing else: eight subscriptions
 * and a handler each (the server evaluates nothing for it but names). */
static int spectate_install(demo_client *c)
{
    static const hive_handler_desc view[] = {
        { "positions", REMOTE("arena:snapshot"), spec_snapshot },
        { "names", REMOTE("arena:roster"), spec_roster },
        { "arrivals", REMOTE("arena:join"), spec_join },
        { "departures", REMOTE("arena:leave"), spec_leave },
        { "tags", REMOTE("arena:tag"), spec_tag },
        { "chat", REMOTE("arena:chat"), spec_chat },
        { "announcements", REMOTE("arena:announce"), spec_announce },
        { "refusals", HIVE_EV_CLIENT_SUB_REFUSED, spec_refused },
        { "game packets (none expected)", HIVE_EV_CLIENT_RECV_PREFIX "**", count_game_packet },
    };
    int rc = hive_bus_subscribe_all(c->bus, view, sizeof view / sizeof view[0], c, NULL);
    if (rc < 0) return rc;
    for (size_t i = 0; i < 7; i++) {
        rc = hive_client_subscribe(c->cli, view[i].pattern + sizeof HIVE_REMOTE_PREFIX - 1, NULL, 0);
        if (rc < 0) return rc;
    }
    return 0;
}

void demo_session_send_chat(demo_client *c, const char *text)
{
    if (!c->joined || c->closed || !text || !*text) return;
    hive_msg_reset(&c->msg);
    hive_msg_map(&c->msg, 1);
    hive_msg_kv_str(&c->msg, "text", text);
    send_msg(c, DEMO_P_CHAT);
    c->chats_sent++;
}

uint8_t demo_session_bits(demo_client *c)
{
    if (c->opts->bot) return demo_autopilot_bits(c);
    if (c->chat_open) return 0;
    return (uint8_t)((c->up ? DEMO_UP : 0) | (c->down ? DEMO_DOWN : 0) |
                     (c->left ? DEMO_LEFT : 0) | (c->right ? DEMO_RIGHT : 0));
}

int demo_session_install(demo_client *c)
{
    static const struct { const char *name; hive_handler fn; } subs[] = {
        { HIVE_EV_CLIENT_HANDSHAKE, on_handshake },
        { HIVE_EV_CLIENT_CLOSE, on_close },
        { HIVE_EV_CLIENT_RECONNECTING, on_reconnecting },
        { HIVE_EV_CLIENT_SESSION_INVALIDATED, on_new_session },
        { HIVE_EV_CLIENT_RESUMED, on_resumed },
        { RECV(DEMO_P_ACCEPTED), on_accepted },
        { RECV(DEMO_P_JOINED), on_joined },
        { RECV(DEMO_P_LEFT), on_left },
        { RECV(DEMO_P_SNAPSHOT), on_snapshot },
        { RECV(DEMO_P_TAG), on_tag },
        { RECV(DEMO_P_CHAT), on_chat },
        { RECV(DEMO_P_ANNOUNCE), on_announce },
        { HIVE_EV_CLIENT_STATS, on_stats },
        { HIVE_EV_ENGINE_TICK, on_tick },
        { HIVE_EV_ENGINE_FRAME, on_frame },
    };
    hive_msg_init(&c->msg);
    demo_interp_init(&c->interp);
    demo_predict_init(&c->pred, (int)(c->opts->tick_hz + 0.5));
    c->tick_hz = c->opts->tick_hz;
    c->net_hz = c->opts->net_hz;
    c->st.rtt_ms = -1;
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        int rc = hive_bus_subscribe(c->bus, subs[i].name, subs[i].fn, c, NULL);
        if (rc < 0) return rc;
    }
    if (c->opts->spectate) {
        int rc = spectate_install(c);
        if (rc < 0) return rc;
    }
    int rc = hive_engine_every(c->engine, 1000, per_second, c);
    return rc < 0 ? rc : 0;
}
