/*
 * predict.h - moving one's own player at once, without waiting a round
 * trip for the server.
 *
 * Each tick the client numbers its input, applies it locally with the
 * same demo_move() the server uses, keeps it, and sends it. A snapshot
 * says which input the server applied last (`ack`) and where that left
 * the player; the client restarts from there and replays the inputs the
 * server has not seen yet. When that lands somewhere else than predicted
 * (a tag froze us, a packet was lost), the difference is not snapped:
 * it becomes an offset that fades over a few frames.
 */
#ifndef DEMO_PREDICT_H
#define DEMO_PREDICT_H

#include "game.h"

#define DEMO_PREDICT_KEEP 128

typedef struct demo_predict {
    uint32_t next_seq;
    demo_input hist[DEMO_PREDICT_KEEP];   /* unacknowledged inputs, oldest first */
    int n;
    float x, y;            /* predicted position */
    float ox, oy;          /* visual correction, fades to 0 */
    uint32_t frozen;       /* ticks we expect to stay frozen */
    bool is_it;
    bool have;             /* got a first position from the server */
    float dt;
    uint32_t corrections;  /* reconciliations that moved us more than a hair */
} demo_predict;

void demo_predict_init(demo_predict *pr, int tick_hz);

/* demo_predict_input - one tick of local input: returns its sequence
 * number (to send with it) after applying it to the prediction. */
uint32_t demo_predict_input(demo_predict *pr, uint8_t bits);

/* demo_predict_reconcile - the server says: after input `ack` you were at
 * (x, y), "it" or not, frozen for `frozen` more ticks. */
void demo_predict_reconcile(demo_predict *pr, float x, float y, uint32_t ack,
                            bool is_it, uint32_t frozen);

/* demo_predict_smooth - fade the visual correction (call once a frame). */
void demo_predict_smooth(demo_predict *pr, double dt);

#endif
