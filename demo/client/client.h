/*
 * client.h - the demo client's state, shared by its files:
 *
 *   main.c      command line, setup, the loop, leaving, the summary
 *   session.c   the conversation with the server: every packet is a bus
 *               event handled here; input sent every tick; stats timers
 *   controls.c  keyboard and chat box, from sdl:* events
 *   autopilot.c what --bot adds: steering each tick, a little chat
 *   draw.c      the arena and the players (engine:frame)
 *   hud.c       scoreboard, network stats, round-trip graph, chat box
 *   text.c      SDL2_ttf text as cached textures
 */
#ifndef DEMO_CLIENT_H
#define DEMO_CLIENT_H

#include <hive/hive.h>
#include <hive/engine.h>
#include <hive/sdl.h>
#include "demo/common/bot.h"
#include "demo/common/game.h"
#include "demo/common/interp.h"
#include "demo/common/opts.h"
#include "demo/common/predict.h"
#include "demo/common/proto.h"
#include "text.h"

#define CHAT_KEEP 8
#define RTT_KEEP 120          /* samples in the graph: 30 s at 4 a second */

typedef enum { LINE_CHAT, LINE_ANNOUNCE, LINE_SYSTEM } line_kind;

typedef struct chat_line {
    line_kind kind;
    uint32_t from;
    char name[DEMO_NAME_MAX];
    char text[DEMO_CHAT_MAX + 64];
} chat_line;

typedef struct roster_entry {
    bool used;
    uint32_t id;
    char name[DEMO_NAME_MAX];
} roster_entry;

typedef struct net_stats {
    double rtt_ms;                     /* Hive's smoothed RTT (net:client.stats), -1 before one */
    double rtt_hist[RTT_KEEP];
    int rtt_n;
    double rtt_sum;
    uint64_t rtt_count;
    double loss;                       /* Hive's loss estimate, percent (net:client.stats) */
    double loss_pct;                   /* snapshots lost over the last second (the summary's) */
    uint32_t win_first, win_max, win_got;
    uint32_t first_seq, last_seq;
    uint64_t snapshots, bad_snapshots;
    double kb_in, kb_out;              /* per second, message payload */
    uint64_t last_in, last_out;
} net_stats;

typedef struct demo_client {
    const demo_opts *opts;
    hive_bus *bus;
    hive_engine *engine;
    hive_client *cli;
    hive_sdl *sdl;                     /* NULL when headless */
    demo_text *text;
    char addr[300];
    hive_msg msg;

    /* session */
    bool handshaken, joined, closed, leaving;
    unsigned reconnects;        /* new sessions after a lost link */
    unsigned resumes;           /* the same session back after a lost link */
    bool ever_joined;
    int close_reason;
    char close_text[96];
    uint32_t my_id;
    double tick_hz, net_hz;
    roster_entry roster[DEMO_MAX_PLAYERS];
    demo_interp interp;
    demo_predict pred;
    net_stats st;
    chat_line chat[CHAT_KEEP];
    int nchat;
    uint64_t tags_seen, my_tags, times_tagged, chats_sent;
    uint64_t game_packets;     /* net:client.recv.* (a spectator gets none) */
    double flash_until;                /* seconds (log clock) */
    uint32_t flash_id;

    /* controls */
    bool up, down, left, right;        /* held keys */
    bool chat_open;
    char edit[DEMO_CHAT_MAX];

    /* bot */
    demo_bot bot;
    uint32_t chat_rng;
    double bot_next_chat, bot_last_chat;

    /* screenshot */
    bool shot_due, shot_done;
    int exit_code;
} demo_client;

/* session.c */
int demo_session_install(demo_client *c);
void demo_session_send_chat(demo_client *c, const char *text);
void demo_session_leave(demo_client *c, const char *why);
const char *demo_session_name(const demo_client *c, uint32_t id);
void demo_session_line(demo_client *c, line_kind kind, uint32_t from, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* the input bits for this tick: keys or bot */
uint8_t demo_session_bits(demo_client *c);

/* controls.c */
int demo_controls_install(demo_client *c);

/* autopilot.c */
int demo_autopilot_install(demo_client *c);
uint8_t demo_autopilot_bits(demo_client *c);

/* draw.c, hud.c */
int demo_draw_install(demo_client *c);
void demo_draw_arena(demo_client *c, SDL_Renderer *r);
void demo_draw_hud(demo_client *c, SDL_Renderer *r);

/* Layout of the 1120 x 700 logical screen. */
#define SCREEN_W 1120
#define SCREEN_H 700
#define ARENA_X 16
#define ARENA_Y 52
#define PANEL_X (ARENA_X + (int)DEMO_ARENA_W + 16)
#define PANEL_W (SCREEN_W - PANEL_X - 16)
#define CHAT_Y (ARENA_Y + (int)DEMO_ARENA_H + 12)

/* A player's colour, from its id. */
SDL_Color demo_player_color(uint32_t id);

#endif
