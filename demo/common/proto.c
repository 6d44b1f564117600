/*
 * proto.c - packet registration, shared so both programs agree on names.
 */
#include "proto.h"

int demo_proto_register(hive_server *srv)
{
    /* Channels (hive/registry.h CHANNELS): chat has its own ordered
     * stream, so a lost chat line never holds up a tag or a join; the
     * round-trip probes have their own sequence, so a snapshot that
     * overtakes a pong no longer makes it count as late and dropped. */
    static const struct { const char *name; hive_delivery d; unsigned channel; } packets[] = {
        { DEMO_P_JOIN, HIVE_RELIABLE, 0 },     { DEMO_P_ACCEPTED, HIVE_RELIABLE, 0 },
        { DEMO_P_JOINED, HIVE_RELIABLE, 0 },   { DEMO_P_LEFT, HIVE_RELIABLE, 0 },
        { DEMO_P_INPUT, HIVE_UNRELIABLE, 0 },  { DEMO_P_SNAPSHOT, HIVE_UNRELIABLE, 0 },
        { DEMO_P_TAG, HIVE_RELIABLE, 0 },      { DEMO_P_CHAT, HIVE_RELIABLE, 1 },
        { DEMO_P_ANNOUNCE, HIVE_RELIABLE, 1 }, { DEMO_P_PING, HIVE_UNRELIABLE, 2 },
        { DEMO_P_PONG, HIVE_UNRELIABLE, 2 },
    };
    for (size_t i = 0; i < sizeof packets / sizeof packets[0]; i++) {
        int rc = hive_server_register(srv, packets[i].name, 0, packets[i].d);
        if (rc < 0) return rc;
        if (packets[i].channel && (rc = hive_server_set_channel(srv, packets[i].name, packets[i].channel)) < 0)
            return rc;
    }
    return 0;
}

const char *demo_close_text(int reason)
{
    switch (reason) {
    case DEMO_CLOSE_NO_JOIN: return "never joined";
    case DEMO_CLOSE_FULL: return "arena full";
    case DEMO_CLOSE_FLOOD: return "chat flood";
    default: return hive_close_reason_name(reason);
    }
}
