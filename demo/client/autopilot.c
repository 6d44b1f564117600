/*
 * autopilot.c - what --bot adds to a client: it steers with the shared
 * bot (demo/common/bot.c) through the same input path as the keyboard,
 * and chats now and then, hooked on the same events as everything else.
 */
#include <stdio.h>
#include "demo/common/log.h"
#include "client.h"

static const char *const idle_lines[] = {
    "catch me if you can", "so close!", "these pillars are my friends",
    "anyone else dizzy?", "gg so far", "I saw that", "round and round we go",
};
static const char *const tagged_lines[] = {
    "argh, %s!", "ok ok, I'm it", "you'll pay for that, %s", "not again...",
};
static const char *const tagger_lines[] = {
    "gotcha, %s!", "tag, %s is it!", "too slow, %s",
};

static uint32_t rnd(demo_client *c)
{
    uint32_t x = c->chat_rng ? c->chat_rng : 1;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return c->chat_rng = x;
}

static void say(demo_client *c, const char *fmt, const char *name)
{
    double now = demo_log_seconds();
    if (now - c->bot_last_chat < 2.5) return;       /* a polite bot */
    char line[DEMO_CHAT_MAX];
    snprintf(line, sizeof line, fmt, name);
    demo_session_send_chat(c, line);
    c->bot_last_chat = now;
}

uint8_t demo_autopilot_bits(demo_client *c)
{
    const demo_snapshot *s = demo_interp_latest(&c->interp);
    if (!s || !c->pred.have) return 0;
    return demo_bot_think(&c->bot, s, c->my_id, c->pred.x, c->pred.y);
}

static void on_tag(const hive_event *ev, void *user)
{
    demo_client *c = user;
    const msgpack_object *m = hive_event_body(ev);
    uint64_t tagger, tagged;
    if (hive_msg_path_uint(m, "tagger", &tagger) == 0 && hive_msg_path_uint(m, "tagged", &tagged) == 0 &&
        !hive_msg_bool_or(m, "idle", false) && rnd(c) % 2 == 0) {
        if (tagged == c->my_id)
            say(c, tagged_lines[rnd(c) % 4], demo_session_name(c, (uint32_t)tagger));
        else if (tagger == c->my_id)
            say(c, tagger_lines[rnd(c) % 3], demo_session_name(c, (uint32_t)tagged));
    }
}

static void on_joined(const hive_event *ev, void *user)
{
    demo_client *c = user;
    say(c, "hi all, %s here", c->opts->name);
}

static void idle_chat(hive_engine *e, int timer, void *user)
{
    demo_client *c = user;
    double every = c->opts->chat_every > 0 ? c->opts->chat_every : 6.0;
    if (demo_log_seconds() >= c->bot_next_chat) {
        say(c, "%s", idle_lines[rnd(c) % (sizeof idle_lines / sizeof idle_lines[0])]);
        c->bot_next_chat = demo_log_seconds() + every * (0.7 + (rnd(c) % 60) / 100.0);
    }
}

int demo_autopilot_install(demo_client *c)
{
    if (!c->opts->bot) return 0;
    demo_bot_init(&c->bot, c->opts->seed * 2654435761u + 17);
    c->chat_rng = c->opts->seed * 40503u + 99;
    c->bot_next_chat = 3.0 + (rnd(c) % 300) / 100.0;
    c->bot_last_chat = -10;
    int rc;
    if ((rc = hive_bus_subscribe(c->bus, HIVE_EV_CLIENT_RECV_PREFIX DEMO_P_TAG, on_tag, c, NULL)) < 0 ||
        (rc = hive_bus_subscribe(c->bus, HIVE_EV_CLIENT_RECV_PREFIX DEMO_P_ACCEPTED, on_joined, c,
                                 &(hive_sub_opts){ .priority = -1, .once = true })) < 0 ||
        (rc = hive_engine_every(c->engine, 500, idle_chat, c)) < 0)
        return rc;
    return 0;
}
