/*
 * features.c - server features that are nothing but bus subscribers.
 *
 * None of them knows the network, the world or the other features: each
 * gets the bus and nothing else, listens to the core's `arena:*` events
 * and says what it noticed by publishing events of its own
 * (`arena:mutualtag`, `arena:milestone`, `arena:announce`). Adding one to a game is a subscribe
 * call; removing it, an unsubscribe.
 *
 *   mutual tag     two players tag each other within a few seconds
 *                  (like a "mutual kill" detector): a plain subscription
 *                  with a little state.
 *   milestones     a player's score reaches 5, 10, 25, 50... (like a level-up
 *                  tracker): a subscription whose condition filters the
 *                  events, so the handler only runs for milestones.
 *   first tag      the game's very first tag: a single-shot trigger with a
 *                  condition (a touch, not an idle hand-over), which
 *                  removes itself once it fired.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server.h"

#define MUTUAL_WINDOW_S 5.0
#define MUTUAL_KEEP 32

struct demo_features {
    hive_bus *bus;
    hive_event_id ev_mutual, ev_milestone;
    struct { uint32_t tagger, tagged; double time; } recent[MUTUAL_KEEP];
    int nrecent;
    int subs[4];
    int nsubs;
};

/* ---- mutual tag ---------------------------------------------------- */

static void on_tag_mutual(const hive_event *ev, void *user)
{
    demo_features *f = user;
    if (hive_event_int(ev, "idle", 0)) return;     /* handing it on is no tag */
    uint32_t tagger = (uint32_t)hive_event_int(ev, "tagger", 0);
    uint32_t tagged = (uint32_t)hive_event_int(ev, "tagged", 0);
    double now = hive_event_double(ev, "time", 0);

    for (int i = 0; i < f->nrecent; i++) {
        /* The same pair the other way round, not long ago. */
        if (f->recent[i].tagger == tagged && f->recent[i].tagged == tagger &&
            now - f->recent[i].time <= MUTUAL_WINDOW_S) {
            double gap = now - f->recent[i].time;
            const char *a = hive_event_str(ev, "tagged_name"), *b = hive_event_str(ev, "tagger_name");
            hive_field fields[] = {
                HIVE_INT("a", tagged), HIVE_INT("b", tagger),
                HIVE_STR("a_name", a), HIVE_STR("b_name", b), HIVE_DOUBLE("seconds", gap),
            };
            hive_bus_publish(f->bus, f->ev_mutual, fields, 5);
            demo_announce(f->bus, "Mutual tag! %s and %s got each other within %.1f s", a, b, gap);
            /* Consumed: a third tag starts a new story. */
            f->recent[i] = f->recent[--f->nrecent];
            return;
        }
    }
    if (f->nrecent == MUTUAL_KEEP) {
        memmove(f->recent, f->recent + 1, (MUTUAL_KEEP - 1) * sizeof f->recent[0]);
        f->nrecent--;
    }
    f->recent[f->nrecent].tagger = tagger;
    f->recent[f->nrecent].tagged = tagged;
    f->recent[f->nrecent].time = now;
    f->nrecent++;
}

/* ---- milestones ------------------------------------------------------ */

static bool is_milestone(const hive_event *ev, void *user)
{
    static const int64_t marks[] = { 5, 10, 25, 50, 100, 250, 500, 1000 };
    int64_t score = hive_event_int(ev, "score", 0);
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
        if (score == marks[i]) return true;
    return false;
}

static void on_milestone(const hive_event *ev, void *user)
{
    demo_features *f = user;
    hive_field fields[] = { HIVE_INT("cid", hive_event_int(ev, "cid", 0)),
                            HIVE_STR("name", hive_event_str(ev, "name")),
                            HIVE_INT("score", hive_event_int(ev, "score", 0)) };
    hive_bus_publish(f->bus, f->ev_milestone, fields, 3);
    demo_announce(f->bus, "%s reached %lld points", hive_event_str(ev, "name"),
                  (long long)hive_event_int(ev, "score", 0));
}

/* ---- first tag -------------------------------------------------------- */

static bool a_real_tag(const hive_event *ev, void *user)
{
    return hive_event_int(ev, "idle", 0) == 0;
}

static void first_tag(const hive_event *ev, void *user)
{
    demo_features *f = user;
    demo_announce(f->bus, "First tag of the game: %s got %s after %.1f s",
                  hive_event_str(ev, "tagger_name"), hive_event_str(ev, "tagged_name"),
                  hive_event_double(ev, "seconds", 0));
}

/* ------------------------------------------------------------------ */

demo_features *demo_features_install(hive_bus *bus)
{
    demo_features *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->bus = bus;
    f->ev_mutual = hive_bus_intern(bus, "arena:mutualtag");
    f->ev_milestone = hive_bus_intern(bus, "arena:milestone");
    if (f->ev_mutual <= 0 || f->ev_milestone <= 0) goto fail;

    int s = hive_bus_subscribe(f->bus, "arena:tag", on_tag_mutual, f, NULL);
    if (s < 0) goto fail;
    f->subs[f->nsubs++] = s;
    s = hive_bus_subscribe(f->bus, "arena:score", on_milestone, f,
                           &(hive_sub_opts){ .cond = is_milestone });
    if (s < 0) goto fail;
    f->subs[f->nsubs++] = s;

    const char *events[] = { "arena:tag" };
    hive_trigger_cond cond = { a_real_tag, NULL };
    hive_trigger_action act = { first_tag, f };
    if (hive_bus_trigger_add(f->bus, &(hive_trigger_desc){
            .name = "first-tag", .events = events, .nevents = 1, .conds = &cond, .nconds = 1,
            .actions = &act, .nactions = 1, .single_shot = true }) != HIVE_OK)
        goto fail;
    return f;
fail:
    demo_features_uninstall(f);
    return NULL;
}

void demo_features_uninstall(demo_features *f)
{
    if (!f) return;
    for (int i = 0; i < f->nsubs; i++) hive_bus_unsubscribe(f->bus, f->subs[i]);
    hive_bus_trigger_remove(f->bus, "first-tag");   /* gone already once it fired */
    free(f);
}
