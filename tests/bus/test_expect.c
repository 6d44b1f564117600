/* Waiting for an event with a timeout, copies of events, live trigger
 * conditions and handlers declared by descriptor (hive/bus.h). */
#include "helpers.h"

#include <time.h>

typedef struct seen {
    int events, timeouts;
    int64_t v;
} seen;

static void on_done(const hive_event *ev, void *user)
{
    seen *s = user;
    if (ev) {
        s->events++;
        s->v = hive_event_int(ev, "v", -1);
    } else {
        s->timeouts++;
    }
}

static bool big(const hive_event *ev, void *user) { (void)user; return hive_event_int(ev, "v", 0) > 10; }

static void sleep_ms(int ms)
{
    struct timespec ts = { 0, ms * 1000000L };
    nanosleep(&ts, NULL);
}

Test(expect, fires_once_with_the_first_matching_event, .timeout = 5)
{
    hive_bus *bus = small_bus();
    seen s = { 0 };
    cr_assert_gt(hive_bus_expect(bus, "game:score.*", big, NULL, 1000, on_done, &s), 0);
    hive_field small[] = { HIVE_INT("v", 3) }, large[] = { HIVE_INT("v", 42) }, later[] = { HIVE_INT("v", 99) };
    hive_bus_publish_name(bus, "game:score.red", small, 1);
    cr_expect_eq(s.events, 0, "the condition said no");
    hive_bus_publish_name(bus, "game:score.red", large, 1);
    hive_bus_publish_name(bus, "game:score.blue", later, 1);
    cr_expect_eq(s.events, 1, "once");
    cr_expect_eq(s.v, 42);
    sleep_ms(5);
    cr_expect_eq(hive_bus_expire(bus), 0, "a wait that fired never times out");
    cr_expect_eq(s.timeouts, 0);
    hive_bus_destroy(bus);
}

Test(expect, times_out_through_dispatch_and_expire, .timeout = 5)
{
    hive_bus *bus = small_bus();
    seen s = { 0 }, t = { 0 }, forever = { 0 };
    int id = hive_bus_expect(bus, "game:never", NULL, NULL, 20, on_done, &s);
    cr_assert_gt(id, 0);
    cr_assert_gt(hive_bus_expect(bus, "game:never", NULL, NULL, 40, on_done, &t), 0);
    cr_assert_gt(hive_bus_expect(bus, "game:never", NULL, NULL, 0, on_done, &forever), 0);
    cr_expect_eq(hive_bus_expire(bus), 0);
    sleep_ms(25);
    hive_bus_dispatch(bus, 0);
    cr_expect_eq(s.timeouts, 1, "the game loop's dispatch ended it");
    cr_expect_eq(t.timeouts, 0);
    cr_expect_eq(hive_bus_expect_cancel(bus, id), HIVE_ENOENT, "over already");
    sleep_ms(20);
    cr_expect_eq(hive_bus_expire(bus), 1);
    cr_expect_eq(t.timeouts, 1);
    hive_bus_publish_name(bus, "game:never", NULL, 0);
    cr_expect_eq(s.events + t.events, 0, "ended waits never fire");
    cr_expect_eq(forever.events, 1, "timeout 0: waits for the event alone");
    hive_bus_destroy(bus);
}

Test(expect, a_cancelled_wait_never_calls_back, .timeout = 5)
{
    hive_bus *bus = small_bus();
    seen s = { 0 };
    int id = hive_bus_expect(bus, "game:x", NULL, NULL, 10, on_done, &s);
    cr_assert_eq(hive_bus_expect_cancel(bus, id), HIVE_OK);
    hive_bus_publish_name(bus, "game:x", NULL, 0);
    sleep_ms(15);
    hive_bus_expire(bus);
    cr_expect_eq(s.events + s.timeouts, 0);
    cr_expect_eq(hive_bus_expect(bus, "game:*x", NULL, NULL, 10, on_done, &s), HIVE_EPATTERN);
    cr_expect_eq(hive_bus_expect(bus, "game:x", NULL, NULL, 10, NULL, &s), HIVE_EINVAL);
    /* Pending waits are freed with the bus (no callback, no leak). */
    cr_assert_gt(hive_bus_expect(bus, "game:y", NULL, NULL, 1000, on_done, &s), 0);
    hive_bus_destroy(bus);
    cr_expect_eq(s.events + s.timeouts, 0);
}

static hive_event_copy *g_copy;
static void keep(const hive_event *ev, void *user) { (void)user; g_copy = hive_event_copy_make(ev); }

Test(expect, a_copy_outlives_its_delivery, .timeout = 5)
{
    hive_bus *bus = small_bus();
    hive_bus_subscribe(bus, "game:copy", keep, NULL, NULL);
    char key[8] = "name", text[16] = "alice";
    static const uint8_t raw[] = { 0x92, 0x01, 0x02 };
    hive_field f[] = { HIVE_STR(key, text), HIVE_INT("n", 7), HIVE_BYTES("b", raw, 3), HIVE_MSGPACK("m", raw, 3, NULL),
                       HIVE_PTR("p", bus) };
    hive_bus_publish_name(bus, "game:copy", f, 5);
    memset(key, 'x', sizeof key - 1);
    memset(text, 'y', sizeof text - 1);
    cr_assert_not_null(g_copy);
    cr_expect_str_eq(g_copy->ev.name, "game:copy");
    cr_expect_str_eq(hive_event_str(&g_copy->ev, "name"), "alice", "keys and strings are the copy's own");
    cr_expect_eq(hive_event_int(&g_copy->ev, "n", 0), 7);
    const void *p, *obj;
    size_t n;
    cr_expect_eq(hive_event_get_bytes(&g_copy->ev, "b", &p, &n), HIVE_OK);
    cr_expect_eq(n, 3u);
    cr_expect_eq(memcmp(p, raw, 3), 0);
    cr_expect_eq(hive_event_get_msgpack(&g_copy->ev, "m", &p, &n, &obj), HIVE_OK);
    cr_expect_null(obj, "the decoded object is not copied");
    cr_expect_eq(hive_event_ptr(&g_copy->ev, "p"), bus);
    hive_event_copy_free(g_copy);
    hive_event_copy_free(NULL);
    hive_bus_destroy(bus);
}

static bool cond_a(const hive_event *ev, void *user) { (void)ev; return *(bool *)user; }
static int fired_n;
static void act_count(const hive_event *ev, void *user) { (void)ev; (void)user; fired_n++; }
static bool flag_b;
/* A condition that removes itself (and adds another) while it runs. */
static bool cond_self(const hive_event *ev, void *user)
{
    (void)ev;
    hive_bus *bus = user;
    hive_bus_trigger_cond_remove(bus, "door", (hive_trigger_cond){ cond_self, bus });
    hive_bus_trigger_cond_add(bus, "door", (hive_trigger_cond){ cond_a, &flag_b });
    return true;
}

Test(expect, conditions_change_on_a_live_trigger, .timeout = 5)
{
    hive_bus *bus = small_bus();
    const char *ev[] = { "game:door" };
    hive_trigger_action act[] = { { act_count, NULL } };
    cr_assert_eq(hive_bus_trigger_add(bus, &(hive_trigger_desc){ .name = "door", .events = ev, .nevents = 1,
                                                                 .actions = act, .nactions = 1 }), HIVE_OK);
    fired_n = 0;
    hive_bus_publish_name(bus, "game:door", NULL, 0);
    cr_expect_eq(fired_n, 1);
    bool key = false;
    cr_assert_eq(hive_bus_trigger_cond_add(bus, "door", (hive_trigger_cond){ cond_a, &key }), HIVE_OK);
    cr_expect_eq(hive_bus_trigger_conds(bus, "door"), 1u);
    hive_bus_publish_name(bus, "game:door", NULL, 0);
    cr_expect_eq(fired_n, 1, "the new condition holds it shut");
    key = true;
    hive_bus_publish_name(bus, "game:door", NULL, 0);
    cr_expect_eq(fired_n, 2);
    cr_assert_eq(hive_bus_trigger_cond_remove(bus, "door", (hive_trigger_cond){ cond_a, &key }), HIVE_OK);
    cr_expect_eq(hive_bus_trigger_cond_remove(bus, "door", (hive_trigger_cond){ cond_a, &key }), HIVE_ENOENT);
    cr_expect_eq(hive_bus_trigger_cond_add(bus, "nope", (hive_trigger_cond){ cond_a, &key }), HIVE_ENOENT);
    cr_expect_eq(hive_bus_trigger_cond_add(bus, "door", (hive_trigger_cond){ NULL, &key }), HIVE_EINVAL);
    /* Changed from inside its own condition: counts from the next event. */
    cr_assert_eq(hive_bus_trigger_cond_add(bus, "door", (hive_trigger_cond){ cond_self, bus }), HIVE_OK);
    flag_b = false;
    hive_bus_publish_name(bus, "game:door", NULL, 0);
    cr_expect_eq(fired_n, 3, "cond_self let this one through");
    cr_expect_eq(hive_bus_trigger_conds(bus, "door"), 1u, "and put cond_a(flag_b) in its place");
    hive_bus_publish_name(bus, "game:door", NULL, 0);
    cr_expect_eq(fired_n, 3);
    flag_b = true;
    hive_bus_publish_name(bus, "game:door", NULL, 0);
    cr_expect_eq(fired_n, 4);
    hive_bus_destroy(bus);
}

static int h_chat, h_move;
static void on_chat(const hive_event *ev, void *user) { (void)ev; (void)user; h_chat++; }
static void on_move(const hive_event *ev, void *user) { (void)ev; (void)user; h_move++; }
static bool alive(const hive_event *ev, void *user) { (void)ev; return *(bool *)user; }

Test(expect, handlers_declared_in_one_table, .timeout = 5)
{
    hive_bus *bus = small_bus();
    bool is_alive = false;
    static const hive_handler_desc handlers[] = {
        { "chat", "game:recv.chat", on_chat, .priority = 10 },
        { "move", "game:recv.move.*", on_move, .cond = alive },
    };
    int ids[2];
    cr_assert_eq(hive_bus_subscribe_all(bus, handlers, 2, &is_alive, ids), 2);
    hive_bus_publish_name(bus, "game:recv.chat", NULL, 0);
    hive_bus_publish_name(bus, "game:recv.move.x", NULL, 0);
    cr_expect_eq(h_chat, 1);
    cr_expect_eq(h_move, 0, "the condition (with the same user) said no");
    is_alive = true;
    hive_bus_publish_name(bus, "game:recv.move.x", NULL, 0);
    cr_expect_eq(h_move, 1);
    cr_expect_eq(hive_bus_unsubscribe(bus, ids[0]), HIVE_OK);
    static const hive_handler_desc bad[] = {
        { "ok", "game:a", on_chat },
        { "broken", "game:*b", on_chat },
    };
    hive_bus_counters before, after;
    hive_bus_stats(bus, &before);
    int got[2];
    cr_expect_eq(hive_bus_subscribe_all(bus, bad, 2, NULL, got), HIVE_EPATTERN);
    hive_bus_stats(bus, &after);
    cr_expect_eq(after.subscriptions, before.subscriptions, "all or nothing");
    hive_bus_destroy(bus);
}
