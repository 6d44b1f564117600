/*
 * test_bridge.c - the bus across processes on a real nats-server: names
 * and subjects, fields both ways, no echo, overlapping exports, hostile
 * input, the name bound, request/reply, queue groups, a late server.
 */
#include <msgpack.h>
#include "bridge_test.h"

Test(bridge, subjects_follow_the_documented_rule)
{
    char s[256];
    cr_assert_gt(hive_bridge_subject(NULL, "arena:zone.chat", s, sizeof s), 0);
    cr_assert_str_eq(s, "hive.arena.zone.chat");
    cr_assert_gt(hive_bridge_subject("g1", "arena:*.chat", s, sizeof s), 0);
    cr_assert_str_eq(s, "g1.arena.*.chat");
    cr_assert_gt(hive_bridge_subject(NULL, "arena:**", s, sizeof s), 0);
    cr_assert_str_eq(s, "hive.arena.>");
    cr_assert_gt(hive_bridge_subject(NULL, "*:chat", s, sizeof s), 0);
    cr_assert_str_eq(s, "hive.*.chat");
    cr_assert_eq(hive_bridge_subject(NULL, "net:server.recv.game:chat", s, sizeof s), HIVE_ENAME);
    cr_assert_eq(hive_bridge_subject(NULL, "nocolon", s, sizeof s), HIVE_ENAME);
    cr_assert_eq(hive_bridge_subject(NULL, "a.b:c", s, sizeof s), HIVE_ENAME);
    cr_assert_eq(hive_bridge_subject(NULL, "a:**.x", s, sizeof s), HIVE_EPATTERN);
    cr_assert_eq(hive_bridge_subject(NULL, "a:b*", s, sizeof s), HIVE_EPATTERN);
    cr_assert_eq(hive_bridge_subject(NULL, "a:b", s, 5), HIVE_ETOOBIG);
}

Test(bridge, create_says_which_setting_is_wrong)
{
    hive_bus *bus = hive_bus_create(NULL);
    cr_assert_null(hive_bridge_create(&(hive_bridge_config){ 0 }, bus));
    cr_assert_str_eq(hive_create_error()->field, "url");
    cr_assert_null(hive_bridge_create(&(hive_bridge_config){ .url = "nats://127.0.0.1:1", .name = "a b" }, bus));
    cr_assert_str_eq(hive_create_error()->field, "name");
    cr_assert_null(
        hive_bridge_create(&(hive_bridge_config){ .url = "nats://127.0.0.1:1", .subject_prefix = "a.b" }, bus));
    cr_assert_str_eq(hive_create_error()->field, "subject_prefix");
    cr_assert_null(hive_bridge_create(&(hive_bridge_config){ .url = "nats://127.0.0.1:1", .max_reconnect = -2 }, bus));
    cr_assert_str_eq(hive_create_error()->field, "max_reconnect");
    hive_bus *blk = hive_bus_create(&(hive_bus_config){ .overflow = HIVE_OVERFLOW_BLOCK });
    cr_assert_null(hive_bridge_create(&(hive_bridge_config){ .url = "nats://127.0.0.1:1" }, blk));
    cr_assert_str_eq(hive_create_error()->field, "bus");
    hive_bus_destroy(blk);
    hive_bus_destroy(bus);
}

typedef struct got_fields {
    int n;
    int64_t i;
    double d;
    char str[64];
    uint8_t bytes[8];
    size_t nbytes;
    char mp[8];
    size_t nmp;
    bool had_ptr;
    char origin[64];
} got_fields;

static void on_fields(const hive_event *ev, void *user)
{
    got_fields *g = user;
    g->n++;
    hive_event_get_int(ev, "i", &g->i);
    hive_event_get_double(ev, "d", &g->d);
    const char *s;
    size_t n;
    if (hive_event_get_str(ev, "s", &s, &n) == HIVE_OK) snprintf(g->str, sizeof g->str, "%.*s", (int)n, s);
    const void *b;
    if (hive_event_get_bytes(ev, "b", &b, &g->nbytes) == HIVE_OK && g->nbytes <= 8) memcpy(g->bytes, b, g->nbytes);
    const hive_field *m = hive_event_field(ev, "m");
    if (m && m->type == HIVE_T_MSGPACK && m->v.mp.len <= 8) {
        memcpy(g->mp, m->v.mp.raw, m->v.mp.len);
        g->nmp = m->v.mp.len;
    }
    g->had_ptr = hive_event_field(ev, "p") != NULL;
    snprintf(g->origin, sizeof g->origin, "%s", hive_event_str(ev, HIVE_BRIDGE_ORIGIN_FIELD));
}

Test(bridge, an_event_crosses_with_its_fields_and_its_origin)
{
    nats_proc np = { 0 };
    cr_assert(np_start(&np, NULL), "nats-server did not start");
    char url[64];
    np_url(&np, url, sizeof url);
    hive_bus *a = hive_bus_create(NULL), *b = hive_bus_create(NULL);
    hive_bus *all[] = { a, b, NULL };
    hive_bridge *ba = mk_bridge(a, url, "proc-a"), *bb = mk_bridge(b, url, "proc-b");
    flag_counter fa = { 0 }, fb = { 0 };
    fc_attach(&fa, a);
    fc_attach(&fb, b);
    cr_assert(pump_buses(all, 3000, &fa.connected, 1));
    cr_assert(pump_buses(all, 3000, &fb.connected, 1));
    cr_assert_eq(hive_bridge_export(ba, "arena:**"), HIVE_OK);
    cr_assert_eq(hive_bridge_export(ba, "arena:**"), HIVE_EEXIST);
    cr_assert_eq(hive_bridge_import(bb, "arena:**"), HIVE_OK);
    got_fields g = { 0 };
    hive_bus_subscribe(b, "arena:zone.chat", on_fields, &g, NULL);
    /* b's subscription is at the server once its flush returns */
    cr_assert_eq(hive_bridge_flush(bb, 2000), HIVE_OK);
    uint8_t raw[3] = { 1, 2, 3 };
    char mp[] = "\x92\x01\x02";   /* [1, 2] */
    int x;
    hive_field f[] = { HIVE_INT("i", -42), HIVE_DOUBLE("d", 2.5), HIVE_STR("s", "hello"), HIVE_BYTES("b", raw, 3),
                       HIVE_MSGPACK("m", mp, 3, NULL), HIVE_PTR("p", &x) };
    hive_bus_publish_name(a, "arena:zone.chat", f, 6);
    cr_assert(pump_buses(all, 3000, &g.n, 1));
    pump_buses(all, 100, NULL, 0);
    cr_assert_eq(g.n, 1);
    cr_assert_eq(g.i, -42);
    cr_assert_float_eq(g.d, 2.5, 1e-12);
    cr_assert_str_eq(g.str, "hello");
    cr_assert_eq(g.nbytes, 3);
    cr_assert_eq(memcmp(g.bytes, raw, 3), 0);
    cr_assert_eq(g.nmp, 3);
    cr_assert_eq(memcmp(g.mp, mp, 3), 0);
    cr_assert_not(g.had_ptr, "a PTR field must not cross");
    cr_assert_str_eq(g.origin, "proc-a");
    hive_bridge_counters st;
    hive_bridge_stats(ba, &st);
    cr_assert_geq(st.exported, 1);
    cr_assert(st.connected);
    hive_bridge_stats(bb, &st);
    cr_assert_eq(st.imported, (uint64_t)g.n);
    cr_assert_eq(st.dropped_in, 0);
    hive_bridge_destroy(ba);
    hive_bridge_destroy(bb);
    hive_bus_destroy(a);
    hive_bus_destroy(b);
    np_stop(&np, false);
}

/* Two bridges that both export and import chat:**: every event reaches
 * the other exactly once, never comes back, and is not re-exported. */
Test(bridge, no_echo_and_no_loop_between_two_bridges)
{
    nats_proc np = { 0 };
    cr_assert(np_start(&np, NULL));
    char url[64];
    np_url(&np, url, sizeof url);
    hive_bus *a = hive_bus_create(NULL), *b = hive_bus_create(NULL);
    hive_bus *all[] = { a, b, NULL };
    hive_bridge *ba = mk_bridge(a, url, "a"), *bb = mk_bridge(b, url, "b");
    hive_bridge *br[] = { ba, bb };
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(hive_bridge_export(br[i], "chat:**"), HIVE_OK);
        cr_assert_eq(hive_bridge_export(br[i], "chat:room.*"), HIVE_OK);   /* overlaps: sent once */
        cr_assert_eq(hive_bridge_import(br[i], "chat:**"), HIVE_OK);
    }
    seen sa = { 0 }, sb = { 0 };
    hive_bus_subscribe(a, "chat:**", seen_on, &sa, NULL);
    hive_bus_subscribe(b, "chat:**", seen_on, &sb, NULL);
    /* warm up until both subscriptions are live at the server */
    int warm = 0;
    for (int t = 0; t < 100 && !warm; t++) {
        hive_bus_publish_name(a, "chat:warm.a", NULL, 0);
        hive_bus_publish_name(b, "chat:warm.b", NULL, 0);
        pump_buses(all, 50, NULL, 0);
        int wa = 0, wb = 0;
        for (int i = 0; i < sa.n && i < 64; i++) wa += strcmp(sa.name[i], "chat:warm.b") == 0;
        for (int i = 0; i < sb.n && i < 64; i++) wb += strcmp(sb.name[i], "chat:warm.a") == 0;
        warm = wa && wb;
    }
    cr_assert(warm, "the bridges never heard each other");
    pump_buses(all, 200, NULL, 0);
    sa = (seen){ 0 };
    sb = (seen){ 0 };
    for (int i = 0; i < 20; i++) {
        hive_field f[] = { HIVE_INT("seq", i) };
        hive_bus_publish_name(a, "chat:room.lobby", f, 1);
    }
    pump_buses(all, 1000, &sb.nseq, 40);   /* 40 would mean duplicates */
    pump_buses(all, 300, NULL, 0);
    /* a saw its own 20 locally and nothing back; b saw each once, in order */
    cr_assert_eq(sa.nseq, 20, "a saw %d (its own 20, and echoes?)", sa.nseq);
    cr_assert_eq(sb.nseq, 20, "b saw %d", sb.nseq);
    for (int i = 0; i < 20; i++) cr_assert_eq(sb.seq[i], i);
    for (int i = 0; i < sb.n && i < SEEN_MAX; i++)
        if (strcmp(sb.name[i], "chat:room.lobby") == 0) cr_assert_str_eq(sb.origin[i], "a");
    hive_bridge_counters st;
    hive_bridge_stats(bb, &st);
    cr_assert_eq(st.dropped_in, 0);
    hive_bridge_destroy(ba);
    hive_bridge_destroy(bb);
    hive_bus_destroy(a);
    hive_bus_destroy(b);
    np_stop(&np, false);
}

Test(bridge, exports_refuse_names_nats_cannot_carry)
{
    hive_bus *bus = hive_bus_create(NULL);
    hive_bridge *br = mk_bridge(bus, "nats://127.0.0.1:1", "lonely");   /* no server: dials in the background */
    cr_assert_eq(hive_bridge_export(br, "net:server.recv.game:chat"), HIVE_ENAME);
    cr_assert_eq(hive_bridge_export(br, "plain"), HIVE_ENAME);
    cr_assert_eq(hive_bridge_export(br, "a:b*"), HIVE_EPATTERN);
    cr_assert_eq(hive_bridge_import(br, "a:**.x"), HIVE_EPATTERN);
    cr_assert_eq(hive_bridge_import(br, "net:server.recv.game:chat"), HIVE_ENAME);
    cr_assert_eq(hive_bridge_export(br, "net:**"), HIVE_OK);   /* matched locally; what cannot cross is counted */
    hive_bus_publish_name(bus, "net:server.recv.game:chat", NULL, 0);
    hive_bridge_counters st;
    hive_bridge_stats(br, &st);
    cr_assert_eq(st.unmappable, 1);
    cr_assert_not(st.connected);
    /* a publish while never connected: kept in the reconnect buffer */
    hive_bus_publish_name(bus, "game:fine", NULL, 0);
    hive_bridge_stats(br, &st);
    cr_assert_eq(st.exported, 0);   /* net:** matches game:fine? no: nothing sent */
    cr_assert_eq(hive_bridge_export(br, "game:*"), HIVE_OK);
    hive_bus_publish_name(bus, "game:fine", NULL, 0);
    hive_bridge_stats(br, &st);
    cr_assert_eq(st.exported, 1);   /* into libnats' reconnect buffer */
    cr_assert_eq(st.dropped_out, 0);
    /* net: and nats: never cross, even when a pattern matches them */
    cr_assert_eq(st.unmappable, 1);
    hive_bus_publish_name(bus, "net:server.stop", NULL, 0);
    hive_bridge_stats(br, &st);
    cr_assert_eq(st.unmappable, 2);
    cr_assert_eq(hive_bridge_import(br, "net:**"), HIVE_ENAME);
    cr_assert_eq(hive_bridge_import(br, "nats:x"), HIVE_ENAME);
    hive_bridge_destroy(br);
    hive_bus_destroy(bus);
}

/* ---- hostile NATS input ---------------------------------------------- */

static void must_not_run(const hive_event *ev, void *user)
{
    int *n = user;
    (*n)++;
}

static size_t good_event(char *out, size_t cap, const char *origin, const char *name, const char *key)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 4);
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_uint8(&pk, 1);
    msgpack_pack_str_with_body(&pk, "o", 1);
    msgpack_pack_str_with_body(&pk, origin, strlen(origin));
    msgpack_pack_str_with_body(&pk, "n", 1);
    msgpack_pack_str_with_body(&pk, name, strlen(name));
    msgpack_pack_str_with_body(&pk, "f", 1);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_str_with_body(&pk, key, strlen(key));
    msgpack_pack_int(&pk, 7);
    size_t n = sb.size < cap ? sb.size : cap;
    memcpy(out, sb.data, n);
    msgpack_sbuffer_destroy(&sb);
    return n;
}

Test(bridge, bad_input_from_nats_is_dropped_and_counted)
{
    nats_proc np = { 0 };
    cr_assert(np_start(&np, NULL));
    char url[64];
    np_url(&np, url, sizeof url);
    hive_bus *bus = hive_bus_create(NULL);
    hive_bus *all[] = { bus, NULL };
    hive_bridge *br = hive_bridge_create(
        &(hive_bridge_config){ .url = url, .name = "victim", .max_event_bytes = 4096, .max_names = 16 }, bus);
    cr_assert_not_null(br);
    cr_assert_eq(hive_bridge_import(br, "game:**"), HIVE_OK);
    flag_counter fc = { 0 };
    fc_attach(&fc, bus);
    cr_assert(pump_buses(all, 3000, &fc.connected, 1));
    int bad = 0;
    seen good = { 0 };
    hive_bus_subscribe(bus, "game:ok", seen_on, &good, NULL);
    hive_bus_subscribe(bus, "game:bad.**", must_not_run, &bad, NULL);
    natsConnection *nc = raw_nats(url);
    /* the import is live once a good one arrives */
    char buf[8192];
    size_t n = good_event(buf, sizeof buf, "evil", "game:ok", "k");
    for (int t = 0; t < 100 && good.n == 0; t++) {
        natsConnection_Publish(nc, "hive.game.ok", buf, (int)n);
        natsConnection_Flush(nc);
        pump_buses(all, 30, &good.n, 1);
    }
    cr_assert_geq(good.n, 1);
    natsConnection_Flush(nc);
    pump_buses(all, 300, NULL, 0);   /* the other probes land before counting starts */
    int goods = good.n;
    hive_bridge_counters st0;
    hive_bridge_stats(br, &st0);

    int sent_bad = 0;
    /* ... and headers that declare 4 G entries in 5 bytes (msgpack-c would
     * reserve memory for them before reading one) */
    const char *junk[] = { "", "\xc1", "\x81\xa1v\x01", "\x93\x01\x02\x03", "not msgpack at all",
                           "\xdf\xff\xff\xff\xff", "\x84\xa1v\x01\xa1" "f\xdd\xff\xff\xff\xff" };
    for (size_t i = 0; i < 7; i++, sent_bad++)
        natsConnection_Publish(nc, "hive.game.bad.junk", junk[i], (int)strlen(junk[i]));
    /* a valid event under a subject that names another event */
    n = good_event(buf, sizeof buf, "evil", "game:ok", "k");
    natsConnection_Publish(nc, "hive.game.bad.mismatch", buf, (int)n), sent_bad++;
    /* a forged origin field */
    n = good_event(buf, sizeof buf, "evil", "game:bad.forged", HIVE_BRIDGE_ORIGIN_FIELD);
    natsConnection_Publish(nc, "hive.game.bad.forged", buf, (int)n), sent_bad++;
    /* a bad origin */
    n = good_event(buf, sizeof buf, "sp ace", "game:bad.origin", "k");
    natsConnection_Publish(nc, "hive.game.bad.origin", buf, (int)n), sent_bad++;
    /* truncated */
    n = good_event(buf, sizeof buf, "evil", "game:bad.cut", "k");
    natsConnection_Publish(nc, "hive.game.bad.cut", buf, (int)n - 1), sent_bad++;
    /* trailing bytes */
    n = good_event(buf, sizeof buf, "evil", "game:bad.tail", "k");
    buf[n] = 0;
    natsConnection_Publish(nc, "hive.game.bad.tail", buf, (int)n + 1), sent_bad++;
    /* too big */
    memset(buf, 0x90, sizeof buf);
    natsConnection_Publish(nc, "hive.game.bad.big", buf, 5000), sent_bad++;
    /* a subject that is no event name */
    n = good_event(buf, sizeof buf, "evil", "game:x", "k");
    natsConnection_Publish(nc, "hive.game.b!d", buf, (int)n), sent_bad++;
    /* more new names than max_names (16): the rest are dropped */
    int flood = 40;
    for (int i = 0; i < flood; i++) {
        char name[64], subj[64];
        snprintf(name, sizeof name, "game:new.n%d", i);
        snprintf(subj, sizeof subj, "hive.game.new.n%d", i);
        n = good_event(buf, sizeof buf, "evil", name, "k");
        natsConnection_Publish(nc, subj, buf, (int)n);
    }
    natsConnection_Flush(nc);
    /* and a good one after all of it */
    n = good_event(buf, sizeof buf, "evil", "game:ok", "k");
    natsConnection_Publish(nc, "hive.game.ok", buf, (int)n);
    natsConnection_Flush(nc);
    cr_assert(pump_buses(all, 3000, &good.n, goods + 1), "the good event after the bad ones never came");
    pump_buses(all, 100, NULL, 0);
    cr_assert_eq(bad, 0, "a bad message reached a handler");
    hive_bridge_counters st;
    hive_bridge_stats(br, &st);
    uint64_t extra = st.dropped_in - st0.dropped_in;
    /* every bad one dropped; of the flood, all past the budget (16 new
     * names and keys, 3 spent already: game:ok, its key, and nothing else) */
    uint64_t flood_dropped = extra - (uint64_t)sent_bad;
    cr_assert_geq(extra, (uint64_t)sent_bad, "dropped %llu of %d bad", (unsigned long long)extra, sent_bad);
    cr_assert_geq(flood_dropped, (uint64_t)(flood - 16), "new names past the bound were not dropped");
    int interned = 0;
    for (int i = 0; i < flood; i++) {
        char name[64];
        snprintf(name, sizeof name, "game:new.n%d", i);
        interned += hive_bus_lookup(bus, name) > 0;
    }
    cr_assert_leq(interned, 16);
    cr_assert_eq((uint64_t)interned + flood_dropped, (uint64_t)flood, "interned %d dropped %llu extra %llu bad %d", interned, (unsigned long long)flood_dropped, (unsigned long long)extra, sent_bad);
    natsConnection_Destroy(nc);
    hive_bridge_destroy(br);
    hive_bus_destroy(bus);
    np_stop(&np, false);
}

/* ---- request / reply ------------------------------------------------- */

typedef struct answer { int calls, status; int64_t value; char origin[64]; } answer;

static void on_answer(const hive_event *reply, int status, void *user)
{
    answer *a = user;
    a->calls++;
    a->status = status;
    if (reply) {
        a->value = hive_event_int(reply, "value", -1);
        snprintf(a->origin, sizeof a->origin, "%s", hive_event_str(reply, HIVE_BRIDGE_ORIGIN_FIELD));
    }
}

typedef struct responder { hive_bridge *br; int asked; } responder;
static void on_question(const hive_event *ev, void *user)
{
    responder *r = user;
    r->asked++;
    hive_field f[] = { HIVE_INT("value", hive_event_int(ev, "x", 0) * 2) };
    cr_assert_eq(hive_bridge_reply(r->br, ev, f, 1), HIVE_OK);
}

Test(bridge, request_gets_one_answer_or_a_timeout)
{
    nats_proc np = { 0 };
    cr_assert(np_start(&np, NULL));
    char url[64];
    np_url(&np, url, sizeof url);
    hive_bus *a = hive_bus_create(NULL), *b = hive_bus_create(NULL);
    hive_bus *all[] = { a, b, NULL };
    hive_bridge *ba = mk_bridge(a, url, "asker"), *bb = mk_bridge(b, url, "answerer");
    flag_counter fa = { 0 }, fb = { 0 };
    fc_attach(&fa, a);
    fc_attach(&fb, b);
    cr_assert(pump_buses(all, 3000, &fa.connected, 1));
    cr_assert(pump_buses(all, 3000, &fb.connected, 1));
    cr_assert_eq(hive_bridge_import(bb, "svc:double"), HIVE_OK);
    responder r = { bb, 0 };
    hive_bus_subscribe(b, "svc:double", on_question, &r, NULL);
    /* hive_bridge_reply on an event that is not a request */
    hive_event fake = { .bus = b, .name = "svc:double" };
    cr_assert_eq(hive_bridge_reply(bb, &fake, NULL, 0), HIVE_ENOENT);
    /* a reply subject outside _INBOX. (a local event that carries one) */
    hive_field rf[] = { HIVE_STR(HIVE_BRIDGE_REPLY_FIELD, "hive.game.steal") };
    hive_event forged = { .bus = b, .name = "svc:double", .fields = rf, .nfields = 1 };
    cr_assert_eq(hive_bridge_reply(bb, &forged, NULL, 0), HIVE_EINVAL);
    hive_field wf[] = { HIVE_STR(HIVE_BRIDGE_REPLY_FIELD, "_INBOX.>") };
    hive_event wild = { .bus = b, .name = "svc:double", .fields = wf, .nfields = 1 };
    cr_assert_eq(hive_bridge_reply(bb, &wild, NULL, 0), HIVE_EINVAL);

    /* the first requests may beat b's subscription to the server */
    answer ans = { 0 };
    for (int t = 0; t < 50; t++) {
        ans = (answer){ 0 };
        hive_field f[] = { HIVE_INT("x", 21) };
        cr_assert_gt(hive_bridge_request(ba, "svc:double", f, 1, 200, on_answer, &ans), 0);
        pump_buses(all, 400, &ans.calls, 1);
        if (ans.calls && ans.status == HIVE_OK) break;
    }
    pump_buses(all, 300, NULL, 0);   /* nothing more comes for it */
    cr_assert_eq(ans.calls, 1, "calls %d status %d value %lld", ans.calls, ans.status, (long long)ans.value);
    cr_assert_eq(ans.status, HIVE_OK);
    cr_assert_eq(ans.value, 42);
    cr_assert_str_eq(ans.origin, "answerer");

    /* nobody answers svc:nobody */
    answer none = { 0 };
    cr_assert_gt(hive_bridge_request(ba, "svc:nobody", NULL, 0, 100, on_answer, &none), 0);
    pump_buses(all, 1000, &none.calls, 1);
    pump_buses(all, 100, NULL, 0);
    cr_assert_eq(none.calls, 1);
    cr_assert_eq(none.status, HIVE_ETIMEDOUT);

    /* destroyed while waiting: told once */
    answer late = { 0 };
    cr_assert_gt(hive_bridge_request(ba, "svc:nobody", NULL, 0, 60000, on_answer, &late), 0);
    cr_assert_eq(hive_bridge_request(ba, "bad name", NULL, 0, 100, on_answer, &late), HIVE_ENAME);
    cr_assert_eq(hive_bridge_request(ba, "svc:x", NULL, 0, 0, on_answer, &late), HIVE_EINVAL);
    hive_bridge_destroy(ba);
    cr_assert_eq(late.calls, 1);
    cr_assert_eq(late.status, HIVE_ECLOSED);
    hive_bridge_destroy(bb);
    hive_bus_dispatch(a, 0);
    hive_bus_destroy(a);
    hive_bus_destroy(b);
    np_stop(&np, false);
}

/* ---- queue groups ---------------------------------------------------- */

Test(bridge, a_queue_group_gives_each_event_to_exactly_one_member)
{
    nats_proc np = { 0 };
    cr_assert(np_start(&np, NULL));
    char url[64];
    np_url(&np, url, sizeof url);
    hive_bus *src = hive_bus_create(NULL), *w[3];
    hive_bus *all[5] = { src };
    hive_bridge *bs = mk_bridge(src, url, "boss"), *bw[3];
    seen got[3] = { 0 };
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "worker-%d", i % 10);
        w[i] = hive_bus_create(NULL);
        all[i + 1] = w[i];
        bw[i] = mk_bridge(w[i], url, name);
        cr_assert_eq(hive_bridge_import_queue(bw[i], "work:job", "savers"), HIVE_OK);
        hive_bus_subscribe(w[i], "work:job", seen_on, &got[i], NULL);
    }
    cr_assert_eq(hive_bridge_import_queue(bw[0], "work:job", "bad group"), HIVE_EINVAL);
    cr_assert_eq(hive_bridge_export(bs, "work:job"), HIVE_OK);
    /* warm up: until one worker hears a probe */
    int heard = 0;
    for (int t = 0; t < 100 && !heard; t++) {
        hive_field f[] = { HIVE_INT("seq", -1) };
        hive_bus_publish_name(src, "work:job", f, 1);
        pump_buses(all, 50, NULL, 0);
        heard = got[0].n + got[1].n + got[2].n;
    }
    cr_assert(heard);
    for (int i = 0; i < 3; i++) cr_assert_eq(hive_bridge_flush(bw[i], 2000), HIVE_OK);   /* every worker's is live */
    pump_buses(all, 300, NULL, 0);   /* the last probes land */
    for (int i = 0; i < 3; i++) got[i] = (seen){ 0 };
    for (int i = 0; i < 60; i++) {
        hive_field f[] = { HIVE_INT("seq", i) };
        hive_bus_publish_name(src, "work:job", f, 1);
    }
    uint64_t end = hive_now_ns() + 3000000000ull;
    while (got[0].nseq + got[1].nseq + got[2].nseq < 60 && hive_now_ns() < end) pump_buses(all, 10, NULL, 0);
    pump_buses(all, 200, NULL, 0);
    int jobs = 0;
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < got[i].nseq; k++) jobs += got[i].seq[k] >= 0;
    cr_assert_eq(jobs, 60, "%d %d %d", got[0].nseq, got[1].nseq, got[2].nseq);
    int times[60] = { 0 };
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < got[i].nseq; k++)
            if (got[i].seq[k] >= 0 && got[i].seq[k] < 60) times[got[i].seq[k]]++;
    for (int i = 0; i < 60; i++) cr_assert_eq(times[i], 1, "job %d done %d times", i, times[i]);
    cr_assert(got[0].nseq > 0 && got[1].nseq > 0 && got[2].nseq > 0, "spread: %d %d %d", got[0].nseq, got[1].nseq,
              got[2].nseq);
    hive_bridge_destroy(bs);
    hive_bus_destroy(src);
    for (int i = 0; i < 3; i++) {
        hive_bridge_destroy(bw[i]);
        hive_bus_destroy(w[i]);
    }
    np_stop(&np, false);
}

/* ---- a server that comes late ---------------------------------------- */

Test(bridge, a_bridge_created_before_its_server_connects_when_it_comes)
{
    nats_proc np = { .port = np_free_port() };
    char url[64];
    np_url(&np, url, sizeof url);
    hive_bus *bus = hive_bus_create(NULL);
    hive_bus *all[] = { bus, NULL };
    flag_counter fc = { 0 };
    fc_attach(&fc, bus);
    hive_bridge *br = mk_bridge(bus, url, "early");
    cr_assert_eq(hive_bridge_import(br, "x:y"), HIVE_OK);   /* made on connection */
    pump_buses(all, 200, NULL, 0);
    cr_assert_eq(fc.connected, 0);
    cr_assert(np_start(&np, NULL));
    cr_assert(pump_buses(all, 5000, &fc.connected, 1), "never connected");
    hive_bridge_counters st;
    hive_bridge_stats(br, &st);
    cr_assert(st.connected);
    hive_bridge_destroy(br);
    hive_bus_destroy(bus);
    np_stop(&np, false);
}

/* max_reconnect = -1: one try, then nats:closed */
Test(bridge, no_reconnect_means_closed_after_the_first_try)
{
    hive_bus *bus = hive_bus_create(NULL);
    hive_bus *all[] = { bus, NULL };
    flag_counter fc = { 0 };
    fc_attach(&fc, bus);
    char url[64];
    snprintf(url, sizeof url, "nats://127.0.0.1:%d", np_free_port());
    hive_bridge *br = hive_bridge_create(&(hive_bridge_config){ .url = url, .max_reconnect = -1 }, bus);
    cr_assert_not_null(br);
    cr_assert(pump_buses(all, 5000, &fc.closed, 1), "nats:closed never came");
    hive_bus_publish_name(bus, "x:y", NULL, 0);
    cr_assert_eq(hive_bridge_export(br, "x:y"), HIVE_OK);
    hive_bus_publish_name(bus, "x:y", NULL, 0);
    hive_bridge_counters st;
    hive_bridge_stats(br, &st);
    cr_assert_eq(st.dropped_out, 1);
    cr_assert_eq(strncmp(hive_bridge_name(br), "hive-", 5), 0);
    hive_bridge_destroy(br);
    hive_bus_destroy(bus);
}

/* ---- threads: libnats' threads post, the owner dispatches -------------- */

/* Under ThreadSanitizer (make tsan): imports arrive on libnats' delivery
 * threads, state changes on its callback thread, requests and exports on
 * the owner thread, stats from a third thread. */
static void *stats_reader(void *arg)
{
    hive_bridge *br = arg;
    for (int i = 0; i < 2000; i++) {
        hive_bridge_counters st;
        hive_bridge_stats(br, &st);
    }
    return NULL;
}

Test(threads, bridge_imports_race_free, .timeout = 60)
{
    nats_proc np = { 0 };
    cr_assert(np_start(&np, NULL));
    char url[64];
    np_url(&np, url, sizeof url);
    hive_bus *a = hive_bus_create(NULL), *b = hive_bus_create(NULL);
    hive_bus *all[] = { a, b, NULL };
    hive_bridge *ba = mk_bridge(a, url, "ta"), *bb = mk_bridge(b, url, "tb");
    cr_assert_eq(hive_bridge_export(ba, "t:**"), HIVE_OK);
    cr_assert_eq(hive_bridge_import(bb, "t:**"), HIVE_OK);
    cr_assert_eq(hive_bridge_import_queue(bb, "q:*", "g"), HIVE_OK);
    seen got = { 0 };
    hive_bus_subscribe(b, "t:n", seen_on, &got, NULL);
    while (hive_bridge_flush(bb, 1000) != HIVE_OK) pump_buses(all, 10, NULL, 0);
    while (hive_bridge_flush(ba, 1000) != HIVE_OK) pump_buses(all, 10, NULL, 0);
    pthread_t th;
    pthread_create(&th, NULL, stats_reader, bb);
    for (int i = 0; i < 2000; i++) {
        hive_field f[] = { HIVE_INT("seq", i), HIVE_STR("k", "v") };
        hive_bus_publish_name(a, "t:n", f, 2);
        if (i % 100 == 0) pump_buses(all, 1, NULL, 0);
    }
    pump_buses(all, 10000, &got.n, 2000);
    pthread_join(th, NULL);
    cr_assert_eq(got.n, 2000);
    for (int i = 0; i < 2000 && i < got.nseq; i++) cr_assert_eq(got.seq[i], i);
    hive_bridge_destroy(ba);
    hive_bridge_destroy(bb);
    hive_bus_destroy(a);
    hive_bus_destroy(b);
    np_stop(&np, false);
}

/* ---- NATS security options: credentials and TLS -------------------------- */

static bool connects(const hive_bridge_config *cfg, int ms)
{
    hive_bus *bus = hive_bus_create(NULL);
    hive_bus *all[] = { bus, NULL };
    flag_counter fc = { 0 };
    fc_attach(&fc, bus);
    hive_bridge *br = hive_bridge_create(cfg, bus);
    cr_assert_not_null(br, "%s", hive_create_error()->message);
    bool ok = pump_buses(all, ms, &fc.connected, 1);
    hive_bridge_destroy(br);
    hive_bus_dispatch(bus, 0);
    hive_bus_destroy(bus);
    return ok;
}

Test(bridge, user_and_password_are_sent_and_checked, .timeout = 30)
{
    nats_proc np = { .extra = { "--user", "game", "--pass", "s3cret" } };
    cr_assert(np_start(&np, NULL));
    char url[64];
    np_url(&np, url, sizeof url);
    cr_assert(connects(&(hive_bridge_config){ .url = url, .user = "game", .password = "s3cret" }, 3000));
    cr_assert_not(connects(&(hive_bridge_config){ .url = url, .user = "game", .password = "wrong",
                                                   .reconnect_wait_ms = 100 }, 1000),
                  "a wrong password connected");
    np_stop(&np, false);
}

Test(bridge, tls_to_nats_with_a_trusted_ca, .timeout = 60)
{
    char dir[] = "/tmp/hive-nats-tls-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char cmd[512];
    snprintf(cmd, sizeof cmd, "sh tools/certs.sh %s > /dev/null 2>&1", dir);
    cr_assert_eq(system(cmd), 0, "tools/certs.sh failed (run from the repository root)");
    char cert[128], key[128], ca[128];
    snprintf(cert, sizeof cert, "%s/server.pem", dir);
    snprintf(key, sizeof key, "%s/server.key", dir);
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    nats_proc np = { .extra = { "--tls", "--tlscert", cert, "--tlskey", key } };
    cr_assert(np_start(&np, NULL));
    char url[64];
    snprintf(url, sizeof url, "tls://127.0.0.1:%d", np.port);
    cr_assert(connects(&(hive_bridge_config){ .url = url, .ca_file = ca }, 5000), "no TLS connection to NATS");
    /* with another CA the server's certificate is not trusted */
    snprintf(cmd, sizeof cmd, "sh tools/certs.sh %s/other > /dev/null 2>&1", dir);
    cr_assert_eq(system(cmd), 0);
    char other[160];
    snprintf(other, sizeof other, "%s/other/ca.pem", dir);
    cr_assert_not(connects(&(hive_bridge_config){ .url = url, .ca_file = other, .reconnect_wait_ms = 100 }, 1000),
                  "a certificate from an untrusted CA was accepted");
    np_stop(&np, false);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}
