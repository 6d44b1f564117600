/* lg_proto_hive.c - the loadgen's side of Hive's protocol. Placeholder
 * until the networking core lands: every connect fails. */
#include "tools/loadgen/lg_internal.h"

static int hive_on_connect(lg *g, lg_client *c) { return -1; }
static int hive_on_packet(lg *g, lg_client *c, const uint8_t *d, size_t n) { return -1; }
static int hive_send_input(lg *g, lg_client *c) { return -1; }
static int hive_send_ping(lg *g, lg_client *c, uint64_t now_ns) { return -1; }

const lg_proto lg__proto_hive = {
    .name = "hive",
    .on_connect = hive_on_connect,
    .on_packet = hive_on_packet,
    .send_input = hive_send_input,
    .send_ping = hive_send_ping,
};
