/* lg_proto_raw.c - the loadgen's side of the bare-ENet baseline
 * (lg_raw_wire.h): no handshake, ready on ENet connect. */
#include "tools/loadgen/lg_internal.h"
#include "tools/loadgen/lg_raw_wire.h"

static int raw_on_connect(lg *g, lg_client *c)
{
    lg__ready(g, c);
    return 0;
}

static int raw_on_packet(lg *g, lg_client *c, const uint8_t *d, size_t n)
{
    if (n < 1) return -1;
    switch (d[0]) {
    case LG_RAW_SNAPSHOT:
        if (n < LG_RAW_SNAPSHOT_MIN) return -1;
        lg__snapshot(g, c, lg_get_u64(d + 5));
        return 0;
    case LG_RAW_PONG:
        if (n != LG_RAW_PING_SIZE) return -1;
        lg__pong(g, c, lg_get_u64(d + 1));
        return 0;
    default:
        lg__other(g, c);
        return 0;
    }
}

static int raw_send_input(lg *g, lg_client *c)
{
    uint8_t b[LG_RAW_INPUT_SIZE] = { LG_RAW_INPUT };
    uint32_t seq = c->seq++;
    float x = (float)(seq % 640), y = (float)(seq % 480), aim = (float)(seq % 360);
    lg_put_u32(b + 1, seq);
    b[5] = (uint8_t)(seq & 3);
    memcpy(b + 8, &x, 4);
    memcpy(b + 12, &y, 4);
    memcpy(b + 16, &aim, 4);
    return lg__send(g, c, b, sizeof b, g->cfg.reliable);
}

static int raw_send_ping(lg *g, lg_client *c, uint64_t now_ns)
{
    uint8_t b[LG_RAW_PING_SIZE] = { LG_RAW_PING };
    lg_put_u64(b + 1, now_ns);
    return lg__send(g, c, b, sizeof b, true);
}

const lg_proto lg__proto_raw = {
    .name = "raw",
    .on_connect = raw_on_connect,
    .on_packet = raw_on_packet,
    .send_input = raw_send_input,
    .send_ping = raw_send_ping,
    .send_close = NULL,
    .client_free = NULL,
};
