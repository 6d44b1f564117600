/*
 * game.h - the rules of the demo, a game of tag, as plain C.
 *
 * One player is "it". Touching another player passes it on; the new "it"
 * is frozen for a moment so the old one can get away (no tag-backs). An
 * "it" who does not move for a few seconds (someone who walked away from
 * the keyboard) hands it to the nearest player, so the game goes on.
 * Everyone who is not "it" scores a point per second while at least two
 * play. The arena is a walled rectangle with a few pillars.
 *
 * Nothing here knows the network, the bus or SDL: the server runs it
 * authoritatively, the client runs demo_move() to predict its own player,
 * and the tests run it directly. Positions are floats so the server's
 * state is exactly what a snapshot carries.
 */
#ifndef DEMO_GAME_H
#define DEMO_GAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DEMO_ARENA_W    800.0f
#define DEMO_ARENA_H    500.0f
#define DEMO_RADIUS     14.0f
#define DEMO_SPEED      190.0f   /* units per second */
#define DEMO_IT_SPEED   230.0f   /* "it" is a little faster, or nobody gets caught */
#define DEMO_FREEZE_MS  1000     /* the new "it" waits this long */
#define DEMO_IDLE_MS    5000     /* an "it" who does not move this long hands it on */
#define DEMO_MAX_PLAYERS 16
#define DEMO_NAME_MAX   24       /* bytes, NUL included */
#define DEMO_INPUT_QUEUE 8

/* Input bits, one per arrow key. */
enum { DEMO_UP = 1, DEMO_DOWN = 2, DEMO_LEFT = 4, DEMO_RIGHT = 8, DEMO_INPUT_MASK = 15 };

typedef struct demo_rect { float x, y, w, h; } demo_rect;

/* The pillars, in arena coordinates. */
extern const demo_rect demo_pillars[];
extern const int demo_npillars;

typedef struct demo_input { uint32_t seq; uint8_t bits; } demo_input;

typedef struct demo_player {
    bool used;
    uint32_t id;                 /* the connection id on the server */
    char name[DEMO_NAME_MAX];
    float x, y;
    uint32_t score_ticks;        /* ticks spent not being "it" with company */
    uint32_t frozen_ticks;       /* > 0: cannot move yet */
    uint64_t it_since;           /* tick this player became "it" */
    uint32_t idle_ticks;         /* ticks without a movement input (while
                                    thawed and in company) */
    uint32_t ack;                /* last input sequence applied */
    demo_input queue[DEMO_INPUT_QUEUE];
    int nqueue;
    float credit;                /* inputs this player may still apply: one per tick */
} demo_player;

typedef struct demo_world {
    uint64_t tick;
    int tick_hz;
    float dt;
    uint32_t it;                 /* id of "it"; 0 = nobody */
    uint32_t rng;
    demo_player p[DEMO_MAX_PLAYERS];
} demo_world;

/* What happened in one tick. */
typedef struct demo_tag {
    uint32_t tagger, tagged;
    double it_seconds;           /* how long the tagger had been "it" */
    bool idle;                   /* not a touch: the tagger stood still too long */
} demo_tag;

/* demo_world_init - an empty arena simulated at tick_hz (> 0). */
void demo_world_init(demo_world *w, int tick_hz, uint32_t seed);

/* demo_world_add - a player joins at a free spot. The first player alone
 * becomes "it". name: copied, cut to fit; control characters replaced.
 * Returns the player, or NULL (full, id 0, or id already playing). */
demo_player *demo_world_add(demo_world *w, uint32_t id, const char *name);

/* demo_world_remove - a player leaves; if it was "it", the player with the
 * lowest score becomes "it". Returns the new "it" id (0: nobody left), or
 * -1 when no such player. */
int64_t demo_world_remove(demo_world *w, uint32_t id);

demo_player *demo_world_find(demo_world *w, uint32_t id);
int demo_world_count(const demo_world *w);

/* demo_world_input - queue a player's input. Sequence numbers must grow;
 * stale or duplicate ones (the unreliable channel may repeat or reorder)
 * are ignored. Bits outside DEMO_INPUT_MASK are dropped. A full queue
 * drops the oldest input. Returns 1 queued, 0 ignored, -1 no such player. */
int demo_world_input(demo_world *w, uint32_t id, uint32_t seq, uint8_t bits);

/* demo_world_tick - advance one tick: apply queued inputs (at most one per
 * tick on average per player, so a client cannot run faster by sending
 * more), then the tag rule, then scores. Returns 1 and fills *tag when
 * "it" changed hands, else 0. */
int demo_world_tick(demo_world *w, demo_tag *tag);

/* demo_speed - the speed of a player, "it" or not. */
float demo_speed(bool is_it);

/* demo_move - one step of movement from input bits: walls and pillars
 * stop the player. Pure; the client predicts with the very same code. */
void demo_move(float *x, float *y, uint8_t bits, float speed, float dt);

/* demo_score - whole points from score ticks. */
static inline uint32_t demo_score(const demo_world *w, const demo_player *p)
{
    return p->score_ticks / (uint32_t)w->tick_hz;
}

/* demo_clean_text - make untrusted text safe to show and log: stops at
 * the first NUL or at len, drops control characters and invalid UTF-8,
 * trims spaces at both ends. Writes at most cap-1 bytes plus a NUL into
 * out; returns the length written. */
size_t demo_clean_text(char *out, size_t cap, const char *in, size_t len);

#endif
