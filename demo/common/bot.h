/*
 * bot.h - a player that moves by itself (`hive-demo-client --bot`), for
 * headless runs, load and the demo's live log.
 *
 * "It" chases the nearest player; everyone else runs from "it", steering
 * away from walls and pillars and wandering a little so the game does not
 * settle into a corner. The choice is made from what the client sees (a
 * snapshot), through the same input bits a human would press.
 */
#ifndef DEMO_BOT_H
#define DEMO_BOT_H

#include "snapshot.h"

typedef struct demo_bot {
    uint32_t rng;
    float wander;        /* radians, drifts */
    uint8_t bits;        /* last choice */
    int hold;            /* ticks to keep it (no twitching) */
} demo_bot;

void demo_bot_init(demo_bot *b, uint32_t seed);

/* demo_bot_think - input bits for player `self` at (x, y), given the
 * latest snapshot. Returns 0 (stand still) when self is not in it. */
uint8_t demo_bot_think(demo_bot *b, const demo_snapshot *s, uint32_t self, float x, float y);

#endif
