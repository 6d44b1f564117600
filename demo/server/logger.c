/*
 * logger.c - the live log: what the server's bus saw, one line each.
 *
 * It subscribes to the network's lifecycle events by name and to every
 * game event it logs by name (a table of handler descriptors); the per-packet send/recv
 * events are left alone, so nobody builds them (they are voidable).
 */
#include <stdio.h>
#include <string.h>
#include "demo/common/log.h"
#include "server.h"

static const char *str(const hive_event *ev, const char *key)
{
    const char *s = hive_event_str(ev, key);
    return s ? s : "";
}

static void on_net(const hive_event *ev, void *user)
{
    const char *n = ev->name + strlen("net:server.");
    long long cid = (long long)hive_event_int(ev, "cid", 0);
    if (!strcmp(n, "connection.accept"))
        demo_log(ev->name, "cid %lld from %s", cid, str(ev, "addr"));
    else if (!strcmp(n, "connection.handshakecomplete"))
        demo_log(ev->name, "cid %lld is a \"%s\", app version %s", cid, str(ev, "conntype"),
                 str(ev, "app_version"));
    else if (!strcmp(n, "connection.close"))
        demo_log(ev->name, "cid %lld: %s (%s)%s%s", cid, demo_close_text((int)hive_event_int(ev, "reason", 0)),
                 hive_event_int(ev, "remote", 0) ? "by the client" : "by the server",
                 *str(ev, "message") ? ", " : "", str(ev, "message"));
    else if (!strcmp(n, "connection.suspended"))
        demo_log(ev->name, "cid %lld lost its link (%s): kept %lld s for a resume", cid, str(ev, "reason_name"),
                 (long long)hive_event_int(ev, "window_ms", 0) / 1000);
    else if (!strcmp(n, "connection.resumed"))
        demo_log(ev->name, "cid %lld is back from %s (%lld messages replayed)", cid, str(ev, "addr"),
                 (long long)hive_event_int(ev, "replayed", 0));
    else if (!strcmp(n, "bind"))
        demo_log(ev->name, "%s", str(ev, "addr"));
    else if (!strcmp(n, "stop") || !strcmp(n, "shutdown"))
        demo_log(ev->name, "%s", str(ev, "reason_name"));
    else
        demo_log(ev->name, "%s", "");
}

static void on_arena(const hive_event *ev, void *user)
{
    const char *n = ev->name + strlen("arena:");
    if (!strcmp(n, "join"))
        demo_log(ev->name, "%s joined (cid %lld)", str(ev, "name"), (long long)hive_event_int(ev, "cid", 0));
    else if (!strcmp(n, "leave"))
        demo_log(ev->name, "%s left: %s", str(ev, "name"), str(ev, "reason_name"));
    else if (!strcmp(n, "tag") && hive_event_int(ev, "idle", 0))
        demo_log(ev->name, "%s stood still as it: %s is it now", str(ev, "tagger_name"), str(ev, "tagged_name"));
    else if (!strcmp(n, "tag"))
        demo_log(ev->name, "%s tagged %s (was it for %.1f s)", str(ev, "tagger_name"),
                 str(ev, "tagged_name"), hive_event_double(ev, "seconds", 0));
    else if (!strcmp(n, "chat"))
        demo_log(ev->name, "<%s> %s", str(ev, "name"), str(ev, "text"));
    else if (!strcmp(n, "announce"))
        demo_log(ev->name, "%s", str(ev, "text"));
    else if (!strcmp(n, "mutualtag"))
        demo_log(ev->name, "%s <-> %s within %.1f s", str(ev, "a_name"), str(ev, "b_name"),
                 hive_event_double(ev, "seconds", 0));
    /* arena:score (every second) and arena:milestone (announced) stay quiet. */
}

int demo_logger_install(demo_server *ds)
{
    static const char *const net[] = {
        HIVE_EV_SERVER_BIND, HIVE_EV_SERVER_START, HIVE_EV_SERVER_ACCEPT, HIVE_EV_SERVER_HANDSHAKE,
        HIVE_EV_SERVER_CLOSE, HIVE_EV_SERVER_STOP, HIVE_EV_SERVER_SHUTDOWN, HIVE_EV_SERVER_SUSPENDED,
        HIVE_EV_SERVER_RESUMED,
    };
    /* A high priority: an event is logged before the handlers that react
     * to it run, so when those publish in turn (a tag causing an
     * announcement), the log reads in cause-then-effect order. */
    hive_sub_opts first = { .priority = 100 };
    for (size_t i = 0; i < sizeof net / sizeof net[0]; i++) {
        int rc = hive_bus_subscribe(ds->bus, net[i], on_net, ds, &first);
        if (rc < 0) return rc;
    }
    /* The game events it logs, by name, not `arena:*`: a subscription is
     * what makes an event wanted, and the spectators' arena:snapshot and
     * arena:roster should cost nothing while nobody watches. */
    static const hive_handler_desc game[] = {
        { "joins", "arena:join", on_arena, .priority = 100 },
        { "leaves", "arena:leave", on_arena, .priority = 100 },
        { "tags", "arena:tag", on_arena, .priority = 100 },
        { "chat", "arena:chat", on_arena, .priority = 100 },
        { "announcements", "arena:announce", on_arena, .priority = 100 },
        { "mutual tags", "arena:mutualtag", on_arena, .priority = 100 },
    };
    int ids[sizeof game / sizeof game[0]];
    int rc = hive_bus_subscribe_all(ds->bus, game, sizeof game / sizeof game[0], ds, ids);
    return rc < 0 ? rc : 0;
}
