/*
 * hive/hive.h - everything a Hive program needs: include this one header.
 *
 * It includes every public header but sdl.h: the bus (bus.h), errors and
 * the allocator (common.h), messages (msg.h), the packet registry
 * (registry.h), the network (net.h, tls.h) and the game loop (engine.h;
 * link hive-engine to use it). SDL2 input and windows are in "hive/sdl.h",
 * which needs SDL's headers and hive-sdl.
 */
#ifndef HIVE_HIVE_H
#define HIVE_HIVE_H

#include "common.h"
#include "bus.h"
#include "registry.h"
#include "msg.h"
#include "tls.h"
#include "net.h"
#include "engine.h"

#endif /* HIVE_HIVE_H */
