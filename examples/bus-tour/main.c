/*
 * bus-tour - a guided walk through Hive's event bus.
 *
 *   make release && bin/Release/bus-tour
 *
 * A tiny "game" wired entirely through events:
 *   1. names are interned once to ids;
 *   2. exact and pattern subscriptions, run by priority;
 *   3. a condition (only critical hits), a once handler (first blood);
 *   4. a trigger: "boss dead" and "key found" in any order, plus a condition,
 *      open the vault door exactly once;
 *   5. a network thread posts messages; the main loop dispatches them within
 *      a per-frame time budget;
 *   6. statistics at the end.
 */
#include "hive/bus.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

typedef struct game {
    int hp;
    bool boss_dead, key_found;
    int chat_lines;
    uint64_t seen;       /* counted by the observer */
} game;

static void sleep_ms(int ms)
{
    nanosleep(&(struct timespec){ ms / 1000, (ms % 1000) * 1000000L }, NULL);
}

/* ---- handlers ----------------------------------------------------------- */

/* Priority 10: the rules run before anything shows the result. */
static void apply_damage(const hive_event *ev, void *user)
{
    game *g = user;
    g->hp -= (int)hive_event_int(ev, "damage", 0);
}

static void show_hit(const hive_event *ev, void *user)
{
    game *g = user;
    printf("  [ui]      %s hits for %lld, hp now %d\n", hive_event_str(ev, "by"),
           (long long)hive_event_int(ev, "damage", 0), g->hp);
}

static bool is_critical(const hive_event *ev, void *user)
{
    (void)user;
    return hive_event_int(ev, "damage", 0) >= 50;
}

static void shake_screen(const hive_event *ev, void *user)
{
    (void)user;
    printf("  [fx]      critical hit! (%lld) the screen shakes\n",
           (long long)hive_event_int(ev, "damage", 0));
}

static void first_blood(const hive_event *ev, void *user)
{
    (void)user;
    printf("  [once]    first blood by %s\n", hive_event_str(ev, "by"));
}

/* Pattern `game:player.*`, lowest priority: a log line after the rest. */
static void log_player(const hive_event *ev, void *user)
{
    (void)user;
    printf("  [log]     %s\n", ev->name);
}

static void on_boss_dead(const hive_event *ev, void *user) { (void)ev; ((game *)user)->boss_dead = true; }
static void on_key_found(const hive_event *ev, void *user) { (void)ev; ((game *)user)->key_found = true; }

static bool boss_dead_and_key_found(const hive_event *ev, void *user)
{
    (void)ev;
    game *g = user;
    return g->boss_dead && g->key_found;
}

static void open_vault(const hive_event *ev, void *user)
{
    (void)user;
    printf("  [trigger] '%s' completed the quest: the vault opens\n", ev->name);
    hive_bus_publish_name(ev->bus, "game:vault.open", NULL, 0); /* nested publish */
}

static void play_fanfare(const hive_event *ev, void *user)
{
    (void)ev;
    (void)user;
    printf("  [trigger] fanfare!\n");
}

static void on_chat(const hive_event *ev, void *user)
{
    game *g = user;
    if (g->chat_lines++ < 3 || hive_event_int(ev, "seq", 0) % 50 == 0)
        printf("  [net]     client %lld says \"%s\"\n", (long long)hive_event_int(ev, "cid", -1),
               hive_event_str(ev, "text"));
}

static void observe_all(const hive_event *ev, void *user)
{
    (void)ev;
    ((game *)user)->seen++;
}

/* ---- the "network" thread ----------------------------------------------- */

typedef struct net {
    hive_bus *bus;
    hive_event_id recv;
    atomic_bool done;
} net;

static void *network_thread(void *arg)
{
    net *n = arg;
    char text[64];
    for (int i = 0; i < 200; i++) {
        snprintf(text, sizeof text, "hello #%d", i);
        /* `text` is reused at once: post copies strings. */
        hive_field f[] = { HIVE_INT("cid", 1 + i % 3), HIVE_INT("seq", i), HIVE_STR("text", text) };
        if (hive_bus_post(n->bus, n->recv, f, 3) != HIVE_OK) fprintf(stderr, "post dropped\n");
        if (i % 20 == 19) sleep_ms(5);
    }
    atomic_store(&n->done, true);
    return NULL;
}

/* ---- main --------------------------------------------------------------- */

int main(void)
{
    game g = { .hp = 300 };
    hive_bus *bus = hive_bus_create(&(hive_bus_config){ .queue_capacity = 1024 });
    if (!bus) return 1;

    printf("1. names -> ids\n");
    hive_event_id hit = hive_bus_intern(bus, "game:player.hit");
    hive_event_id tick = hive_bus_intern(bus, "game:tick");
    hive_event_id recv = hive_bus_intern(bus, "net:client.recv");
    printf("  game:player.hit=%d game:tick=%d net:client.recv=%d (lookup again: %d)\n", hit, tick,
           recv, hive_bus_lookup(bus, "game:player.hit"));

    printf("2./3. subscriptions: priorities, a pattern, a condition, once\n");
    hive_bus_subscribe_id(bus, hit, apply_damage, &g, &(hive_sub_opts){ .priority = 10 });
    hive_bus_subscribe_id(bus, hit, show_hit, &g, NULL);
    hive_bus_subscribe_id(bus, hit, shake_screen, NULL, &(hive_sub_opts){ .cond = is_critical });
    hive_bus_subscribe_id(bus, hit, first_blood, NULL, &(hive_sub_opts){ .priority = 5, .once = true });
    hive_bus_subscribe(bus, "game:player.*", log_player, NULL, &(hive_sub_opts){ .priority = -10 });
    hive_bus_subscribe_id(bus, recv, on_chat, &g, NULL);
    /* Voidable events: a producer asks before building an event. */
    printf("  anyone listening to game:tick? %s\n", hive_bus_wants(bus, tick) ? "yes" : "no");
    hive_bus_observe(bus, observe_all, &g);
    printf("  and with a catch-all observer? %s\n", hive_bus_wants(bus, tick) ? "yes" : "no");

    hive_field h1[] = { HIVE_STR("by", "goblin"), HIVE_INT("damage", 12) };
    hive_field h2[] = { HIVE_STR("by", "troll"), HIVE_INT("damage", 70) };
    hive_bus_publish(bus, hit, h1, 2);
    hive_bus_publish(bus, hit, h2, 2);
    /* A name nobody interned yet still reaches the pattern subscription. */
    hive_bus_publish_name(bus, "game:player.respawn", NULL, 0);

    printf("4. a trigger: two events + a condition -> actions, single-shot\n");
    hive_bus_subscribe(bus, "game:boss.dead", on_boss_dead, &g, &(hive_sub_opts){ .priority = 1 });
    hive_bus_subscribe(bus, "game:key.found", on_key_found, &g, &(hive_sub_opts){ .priority = 1 });
    const char *quest_events[] = { "game:boss.dead", "game:key.found" };
    hive_trigger_cond quest_conds[] = { { boss_dead_and_key_found, &g } };
    hive_trigger_action quest_actions[] = { { open_vault, NULL }, { play_fanfare, NULL } };
    hive_bus_trigger_add(bus, &(hive_trigger_desc){
        .name = "vault-quest", .events = quest_events, .nevents = 2,
        .conds = quest_conds, .nconds = 1, .actions = quest_actions, .nactions = 2,
        .single_shot = true });
    hive_bus_publish_name(bus, "game:key.found", NULL, 0);  /* condition not met yet */
    printf("  key found; boss still alive\n");
    hive_bus_publish_name(bus, "game:boss.dead", NULL, 0);  /* fires */
    hive_bus_publish_name(bus, "game:key.found", NULL, 0);  /* gone: single-shot */
    printf("  trigger still there? %s\n",
           hive_bus_trigger_find(bus, "vault-quest", NULL) == HIVE_OK ? "yes" : "no");

    printf("5. a network thread posts; the frame loop dispatches with a 2 ms budget\n");
    net n = { .bus = bus, .recv = recv };
    pthread_t th;
    if (pthread_create(&th, NULL, network_thread, &n) != 0) return 1;
    int frames = 0, dispatched = 0;
    for (;;) {
        bool producer_done = atomic_load(&n.done);
        int got = hive_bus_dispatch_for(bus, 2000000);
        if (got < 0) return 1;
        dispatched += got;
        frames++;
        if (hive_bus_wants(bus, tick)) {
            hive_field f[] = { HIVE_INT("frame", frames) };
            hive_bus_publish(bus, tick, f, 1);
        }
        hive_bus_counters c;
        hive_bus_stats(bus, &c);
        if (producer_done && c.queued == 0) break;
        sleep_ms(4); /* the rest of the frame */
    }
    pthread_join(th, NULL);
    printf("  %d frames, %d network events dispatched\n", frames, dispatched);

    printf("6. statistics\n");
    hive_bus_counters c;
    hive_bus_stats(bus, &c);
    printf("  published=%llu posted=%llu dispatched=%llu dropped=%llu delivered=%llu\n",
           (unsigned long long)c.published, (unsigned long long)c.posted,
           (unsigned long long)c.dispatched, (unsigned long long)c.dropped,
           (unsigned long long)c.delivered);
    printf("  names=%zu subscriptions=%zu triggers=%zu queued=%zu observer saw %llu events\n",
           c.names, c.subscriptions, c.triggers, c.queued, (unsigned long long)g.seen);
    printf("  count(game:player.hit)=%llu count(net:client.recv)=%llu\n",
           (unsigned long long)hive_bus_count(bus, hit), (unsigned long long)hive_bus_count(bus, recv));

    hive_bus_destroy(bus);
    return c.dispatched == 200 && g.hp == 300 - 12 - 70 ? 0 : 1;
}
