/*
 * lg_load_wire.h - the Hive load mode's two packet types, shared by the
 * Hive load server and the loadgen's Hive players.
 *
 *   load:snapshot  server -> all, every tick. Body: one msgpack bin of
 *                  snapshot_bytes - 2 bytes (so the msgpack body is exactly
 *                  snapshot_bytes), holding [u32 tick][u64 t_ns server
 *                  clock][filler], little-endian.
 *   load:input     player -> server, input_hz per player. Body: a map
 *                  {seq, x, y, aim, b} as a demo player's input.
 *
 * Both are registered unreliable-sequenced unless the run asks for
 * reliable delivery.
 */
#ifndef HIVE_LOADGEN_LG_LOAD_WIRE_H
#define HIVE_LOADGEN_LG_LOAD_WIRE_H

#define LG_PKT_SNAPSHOT "load:snapshot"
#define LG_PKT_INPUT    "load:input"
#define LG_APP          "hive-load"
/* Smallest snapshot: bin8 header (2) + tick (4) + t_ns (8). */
#define LG_SNAPSHOT_MIN 14

#endif /* HIVE_LOADGEN_LG_LOAD_WIRE_H */
