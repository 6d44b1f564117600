/*
 * hud.c - everything around the arena: the title bar, the scoreboard,
 * the network panel with its round-trip graph, and the chat box.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "demo/common/snapshot.h"
#include "client.h"

static const SDL_Color TEXT = { 225, 230, 240, 255 };
static const SDL_Color DIM = { 140, 150, 170, 255 };
static const SDL_Color GOLD = { 255, 205, 90, 255 };
static const SDL_Color PANEL = { 24, 28, 40, 255 };
static const SDL_Color EDGE = { 60, 70, 96, 255 };

static void box(SDL_Renderer *r, int x, int y, int w, int h)
{
    SDL_SetRenderDrawColor(r, PANEL.r, PANEL.g, PANEL.b, PANEL.a);
    SDL_RenderFillRect(r, &(SDL_Rect){ x, y, w, h });
    SDL_SetRenderDrawColor(r, EDGE.r, EDGE.g, EDGE.b, EDGE.a);
    SDL_RenderDrawRect(r, &(SDL_Rect){ x, y, w, h });
}

static void title_bar(demo_client *c, SDL_Renderer *r)
{
    demo_text_draw(c->text, FONT_TITLE, "HIVE ARENA", ARENA_X, 14, GOLD, 0);
    demo_text_draw(c->text, FONT_NORMAL, "a game of tag on the Hive bus", ARENA_X + 150, 19, DIM, 0);
    char s[400];
    const demo_snapshot *snap = demo_interp_latest(&c->interp);
    if (c->joined)
        snprintf(s, sizeof s, "%s  |  %s  |  %d players", demo_session_name(c, c->my_id), c->addr,
                 snap ? snap->n : 0);
    else if (c->opts->spectate && c->handshaken && !c->closed)
        snprintf(s, sizeof s, "spectating  |  %s  |  %d players", c->addr, snap ? snap->n : 0);
    else
        snprintf(s, sizeof s, "%s  |  %s", c->closed ? "disconnected" : "connecting", c->addr);
    demo_text_draw(c->text, FONT_NORMAL, s, SCREEN_W - 16, 19, TEXT, 2);
}

typedef struct row { uint32_t id; uint32_t score; bool it; } row;

static int by_score(const void *a, const void *b)
{
    const row *x = a, *y = b;
    return x->score != y->score ? (x->score < y->score ? 1 : -1) : (x->id > y->id) - (x->id < y->id);
}

static int scoreboard(demo_client *c, SDL_Renderer *r, int y)
{
    const demo_snapshot *s = demo_interp_latest(&c->interp);
    int n = s ? s->n : 0;
    int h = 34 + (n ? n : 1) * 22 + 8;
    box(r, PANEL_X, y, PANEL_W, h);
    demo_text_draw(c->text, FONT_BOLD, "SCORE", PANEL_X + 12, y + 9, GOLD, 0);
    demo_text_draw(c->text, FONT_SMALL, "1 point per second not \"it\"", PANEL_X + PANEL_W - 12, y + 11, DIM, 2);
    row rows[DEMO_MAX_PLAYERS];
    for (int i = 0; i < n; i++)
        rows[i] = (row){ s->p[i].id, s->p[i].score, (s->p[i].flags & DEMO_SNAP_IT) != 0 };
    qsort(rows, (size_t)n, sizeof rows[0], by_score);
    int yy = y + 34;
    if (!n) demo_text_draw(c->text, FONT_NORMAL, "nobody yet", PANEL_X + 12, yy, DIM, 0);
    for (int i = 0; i < n; i++, yy += 22) {
        SDL_Color col = demo_player_color(rows[i].id);
        SDL_SetRenderDrawColor(r, col.r, col.g, col.b, 255);
        SDL_RenderFillRect(r, &(SDL_Rect){ PANEL_X + 12, yy + 4, 10, 10 });
        char name[DEMO_NAME_MAX + 12];
        snprintf(name, sizeof name, "%s%s", demo_session_name(c, rows[i].id), rows[i].id == c->my_id ? " (you)" : "");
        demo_text_draw(c->text, rows[i].id == c->my_id ? FONT_BOLD : FONT_NORMAL, name, PANEL_X + 30, yy, TEXT, 0);
        if (rows[i].it) demo_text_draw(c->text, FONT_BOLD, "IT", PANEL_X + PANEL_W - 70, yy, (SDL_Color){ 255, 110, 90, 255 }, 0);
        char sc[16];
        snprintf(sc, sizeof sc, "%u", rows[i].score);
        demo_text_draw(c->text, FONT_BOLD, sc, PANEL_X + PANEL_W - 12, yy, TEXT, 2);
    }
    return y + h;
}

static void stat_line(demo_client *c, int y, const char *label, const char *value)
{
    demo_text_draw(c->text, FONT_NORMAL, label, PANEL_X + 12, y, DIM, 0);
    demo_text_draw(c->text, FONT_BOLD, value, PANEL_X + PANEL_W - 12, y, TEXT, 2);
}

static void rtt_graph(demo_client *c, SDL_Renderer *r, int x, int y, int w, int h)
{
    SDL_SetRenderDrawColor(r, 16, 19, 28, 255);
    SDL_RenderFillRect(r, &(SDL_Rect){ x, y, w, h });
    SDL_SetRenderDrawColor(r, EDGE.r, EDGE.g, EDGE.b, 255);
    SDL_RenderDrawRect(r, &(SDL_Rect){ x, y, w, h });
    const net_stats *st = &c->st;
    double top = 2.0;   /* ms; grows to fit the worst sample shown */
    for (int i = 0; i < st->rtt_n; i++)
        if (st->rtt_hist[i] * 1.2 > top) top = st->rtt_hist[i] * 1.2;
    SDL_SetRenderDrawColor(r, 40, 46, 64, 255);
    SDL_RenderDrawLine(r, x + 1, y + h / 2, x + w - 2, y + h / 2);
    char scale[24];
    snprintf(scale, sizeof scale, "%.1f ms", top);
    demo_text_draw(c->text, FONT_SMALL, scale, x + 4, y + 2, DIM, 0);
    if (st->rtt_n < 2) return;
    SDL_FPoint pts[RTT_KEEP];
    for (int i = 0; i < st->rtt_n; i++) {
        pts[i].x = (float)(x + w - 2) - (float)(st->rtt_n - 1 - i) * (float)(w - 4) / (RTT_KEEP - 1);
        pts[i].y = (float)(y + h - 2) - (float)(st->rtt_hist[i] / top) * (float)(h - 4);
    }
    SDL_SetRenderDrawColor(r, 110, 220, 160, 255);
    SDL_RenderDrawLinesF(r, pts, st->rtt_n);
}

static int network(demo_client *c, SDL_Renderer *r, int y)
{
    int h = 196;
    box(r, PANEL_X, y, PANEL_W, h);
    demo_text_draw(c->text, FONT_BOLD, "NETWORK", PANEL_X + 12, y + 9, GOLD, 0);
    demo_text_draw(c->text, FONT_SMALL, c->opts->transport, PANEL_X + PANEL_W - 12, y + 11, DIM, 2);
    const net_stats *st = &c->st;
    char v[64];
    if (st->rtt_ms >= 0) snprintf(v, sizeof v, "%.2f ms", st->rtt_ms);
    else snprintf(v, sizeof v, "-");
    stat_line(c, y + 32, "round trip", v);
    snprintf(v, sizeof v, "%.1f %%", st->loss);
    stat_line(c, y + 52, "loss", v);
    snprintf(v, sizeof v, "%.1f kB/s", st->kb_in);
    stat_line(c, y + 72, "in", v);
    snprintf(v, sizeof v, "%.1f kB/s", st->kb_out);
    stat_line(c, y + 92, "out", v);
    rtt_graph(c, r, PANEL_X + 12, y + 118, PANEL_W - 24, 66);
    return y + h;
}

static void chat_box(demo_client *c, SDL_Renderer *r)
{
    int x = ARENA_X, y = CHAT_Y, w = (int)DEMO_ARENA_W, h = SCREEN_H - CHAT_Y - 12;
    box(r, x, y, w, h);
    int line_h = 18, lines = (h - 30) / line_h;
    int first = c->nchat > lines ? c->nchat - lines : 0;
    int yy = y + 6;
    for (int i = first; i < c->nchat; i++, yy += line_h) {
        const chat_line *l = &c->chat[i];
        int xx = x + 10;
        switch (l->kind) {
        case LINE_CHAT: {
            char who[DEMO_NAME_MAX + 4];
            snprintf(who, sizeof who, "%s:", l->name);
            xx += demo_text_draw(c->text, FONT_BOLD, who, xx, yy, demo_player_color(l->from), 0) + 6;
            demo_text_draw(c->text, FONT_NORMAL, l->text, xx, yy, TEXT, 0);
            break;
        }
        case LINE_ANNOUNCE:
            demo_text_draw(c->text, FONT_BOLD, l->text, xx, yy, GOLD, 0);
            break;
        case LINE_SYSTEM:
            demo_text_draw(c->text, FONT_NORMAL, l->text, xx, yy, DIM, 0);
            break;
        }
    }
    int iy = y + h - 24;
    SDL_SetRenderDrawColor(r, EDGE.r, EDGE.g, EDGE.b, 255);
    SDL_RenderDrawLine(r, x + 1, iy - 3, x + w - 2, iy - 3);
    if (c->chat_open) {
        char line[DEMO_CHAT_MAX + 8];
        bool caret = ((int)(SDL_GetTicks() / 500)) % 2 == 0;
        snprintf(line, sizeof line, "> %s%s", c->edit, caret ? "_" : "");
        demo_text_draw(c->text, FONT_NORMAL, line, x + 10, iy, TEXT, 0);
    } else {
        demo_text_draw(c->text, FONT_SMALL,
                       c->opts->spectate ? "watching: Esc leaves   F12: screenshot"
                       : c->opts->bot    ? "bot at the wheel"
                                         : "Enter: chat   Arrows/WASD: move   Esc: leave   F12: screenshot",
                       x + 10, iy + 2, DIM, 0);
    }
}

static void legend(demo_client *c, SDL_Renderer *r, int y)
{
    int h = SCREEN_H - 12 - y;
    if (h < 60) return;
    box(r, PANEL_X, y, PANEL_W, h);
    demo_text_draw(c->text, FONT_BOLD, c->opts->spectate ? "SPECTATOR" : "YOU", PANEL_X + 12, y + 9, GOLD, 0);
    char s[80];
    if (c->opts->spectate)
        snprintf(s, sizeof s, "%llu tags seen, %llu game packets", (unsigned long long)c->tags_seen,
                 (unsigned long long)c->game_packets);
    else
        snprintf(s, sizeof s, "tagged others %llu, got tagged %llu", (unsigned long long)c->my_tags,
                 (unsigned long long)c->times_tagged);
    demo_text_draw(c->text, FONT_NORMAL, s, PANEL_X + 12, y + 30, TEXT, 0);
    snprintf(s, sizeof s, "%llu snapshots, %u prediction fixes", (unsigned long long)c->st.snapshots,
             c->pred.corrections);
    demo_text_draw(c->text, FONT_SMALL, s, PANEL_X + 12, y + 50, DIM, 0);
    static const char *const rules[] = {
        "IT (red ring) chases everyone.",
        "Touch a player to pass IT on.",
        "The new IT is frozen for a second",
        "(blue ring): time to run!",
    };
    int yy = y + 76;
    if (yy + 22 + 4 * 17 > y + h) return;
    demo_text_draw(c->text, FONT_BOLD, "HOW TO PLAY", PANEL_X + 12, yy, GOLD, 0);
    for (int i = 0; i < 4; i++)
        demo_text_draw(c->text, FONT_SMALL, rules[i], PANEL_X + 12, yy + 22 + i * 17, TEXT, 0);
}

void demo_draw_hud(demo_client *c, SDL_Renderer *r)
{
    title_bar(c, r);
    int y = scoreboard(c, r, ARENA_Y);
    y = network(c, r, y + 10);
    legend(c, r, y + 10);
    chat_box(c, r);
}
