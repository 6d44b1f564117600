/*
 * lg_raw_wire.h - the baseline's messages: the same game traffic as the
 * Hive load mode, as bare ENet packets without Hive's handshake, frames
 * or msgpack. Byte 0 is the type; integers are little-endian; both ends
 * run on one machine.
 *
 *   input     [1][u32 seq][u8 buttons][3 pad][f32 x][f32 y][f32 aim]  24 bytes
 *   ping      [2][u64 t_ns]                                            9 bytes
 *   pong      [3][u64 t_ns]  (the ping's t_ns echoed)                  9 bytes
 *   snapshot  [4][u32 tick][u64 t_ns server clock][filler]   snapshot_bytes total
 */
#ifndef HIVE_LOADGEN_LG_RAW_WIRE_H
#define HIVE_LOADGEN_LG_RAW_WIRE_H

#include <stdint.h>
#include <string.h>

enum {
    LG_RAW_INPUT = 1,
    LG_RAW_PING = 2,
    LG_RAW_PONG = 3,
    LG_RAW_SNAPSHOT = 4
};

#define LG_RAW_INPUT_SIZE 24
#define LG_RAW_PING_SIZE 9
#define LG_RAW_SNAPSHOT_MIN 13

static inline void lg_put_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void lg_put_u64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static inline uint32_t lg_get_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t lg_get_u64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

#endif /* HIVE_LOADGEN_LG_RAW_WIRE_H */
