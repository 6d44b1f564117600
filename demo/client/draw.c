/*
 * draw.c - the picture, on engine:frame: the arena, the players where
 * interpolation (others) and prediction (us) put them, their names, and
 * the HUD on top. hive_sdl clears before and presents after.
 */
#include <math.h>
#include <stdio.h>
#include "demo/common/log.h"
#include "demo/common/snapshot.h"
#include "client.h"

SDL_Color demo_player_color(uint32_t id)
{
    static const SDL_Color palette[] = {
        { 94, 176, 255, 255 }, { 255, 196, 70, 255 }, { 120, 220, 120, 255 }, { 236, 120, 220, 255 },
        { 100, 230, 220, 255 }, { 250, 150, 100, 255 }, { 180, 150, 255, 255 }, { 220, 230, 110, 255 },
    };
    return palette[id % (sizeof palette / sizeof palette[0])];
}

/* A filled circle as a triangle fan (SDL_RenderGeometry, SDL 2.0.18+). */
static void disc(SDL_Renderer *r, float cx, float cy, float rad, SDL_Color c)
{
    enum { SEG = 32 };
    SDL_Vertex v[SEG + 2];
    int idx[SEG * 3];
    SDL_Color col = c;
    v[0] = (SDL_Vertex){ { cx, cy }, col, { 0, 0 } };
    for (int i = 0; i <= SEG; i++) {
        float a = (float)i / SEG * 6.2831853f;
        v[i + 1] = (SDL_Vertex){ { cx + cosf(a) * rad, cy + sinf(a) * rad }, col, { 0, 0 } };
    }
    for (int i = 0; i < SEG; i++) {
        idx[i * 3] = 0;
        idx[i * 3 + 1] = i + 1;
        idx[i * 3 + 2] = i + 2;
    }
    SDL_RenderGeometry(r, NULL, v, SEG + 2, idx, SEG * 3);
}

/* A ring of a given thickness. */
static void ring(SDL_Renderer *r, float cx, float cy, float rad, float width, SDL_Color c)
{
    enum { SEG = 40 };
    SDL_Vertex v[(SEG + 1) * 2];
    int idx[SEG * 6];
    for (int i = 0; i <= SEG; i++) {
        float a = (float)i / SEG * 6.2831853f, ca = cosf(a), sa = sinf(a);
        v[i * 2] = (SDL_Vertex){ { cx + ca * rad, cy + sa * rad }, c, { 0, 0 } };
        v[i * 2 + 1] = (SDL_Vertex){ { cx + ca * (rad + width), cy + sa * (rad + width) }, c, { 0, 0 } };
    }
    for (int i = 0; i < SEG; i++) {
        int a = i * 2, b = a + 1, d = a + 2, e = a + 3;
        int *o = &idx[i * 6];
        o[0] = a; o[1] = b; o[2] = d;
        o[3] = b; o[4] = e; o[5] = d;
    }
    SDL_RenderGeometry(r, NULL, v, (SEG + 1) * 2, idx, SEG * 6);
}

static void fill(SDL_Renderer *r, int x, int y, int w, int h, SDL_Color c)
{
    SDL_SetRenderDrawColor(r, c.r, c.g, c.b, c.a);
    SDL_RenderFillRect(r, &(SDL_Rect){ x, y, w, h });
}

static void outline(SDL_Renderer *r, int x, int y, int w, int h, SDL_Color c)
{
    SDL_SetRenderDrawColor(r, c.r, c.g, c.b, c.a);
    SDL_RenderDrawRect(r, &(SDL_Rect){ x, y, w, h });
}

static void draw_floor(SDL_Renderer *r)
{
    fill(r, ARENA_X, ARENA_Y, (int)DEMO_ARENA_W, (int)DEMO_ARENA_H, (SDL_Color){ 28, 33, 46, 255 });
    SDL_SetRenderDrawColor(r, 36, 42, 58, 255);
    for (int x = 50; x < (int)DEMO_ARENA_W; x += 50)
        SDL_RenderDrawLine(r, ARENA_X + x, ARENA_Y, ARENA_X + x, ARENA_Y + (int)DEMO_ARENA_H - 1);
    for (int y = 50; y < (int)DEMO_ARENA_H; y += 50)
        SDL_RenderDrawLine(r, ARENA_X, ARENA_Y + y, ARENA_X + (int)DEMO_ARENA_W - 1, ARENA_Y + y);
    for (int i = 0; i < 3; i++)
        outline(r, ARENA_X - 1 - i, ARENA_Y - 1 - i, (int)DEMO_ARENA_W + 2 + 2 * i, (int)DEMO_ARENA_H + 2 + 2 * i,
                (SDL_Color){ (Uint8)(96 - i * 20), (Uint8)(110 - i * 20), (Uint8)(150 - i * 25), 255 });
    for (int i = 0; i < demo_npillars; i++) {
        const demo_rect *p = &demo_pillars[i];
        int x = ARENA_X + (int)p->x, y = ARENA_Y + (int)p->y, w = (int)p->w, h = (int)p->h;
        fill(r, x + 4, y + 5, w, h, (SDL_Color){ 14, 16, 24, 160 });              /* shadow */
        fill(r, x, y, w, h, (SDL_Color){ 74, 84, 112, 255 });
        fill(r, x, y, w, 4, (SDL_Color){ 112, 124, 160, 255 });                    /* lit edge */
        outline(r, x, y, w, h, (SDL_Color){ 54, 62, 84, 255 });
    }
}

typedef struct shown { uint32_t id; float x, y; uint32_t score; uint8_t flags; } shown;

static int visible_players(demo_client *c, shown *out)
{
    const demo_snapshot *s = demo_interp_latest(&c->interp);
    if (!s) return 0;
    /* Others are drawn a little in the past, between two snapshots. */
    double ratio = c->tick_hz / (c->net_hz > 0 ? c->net_hz : 30);
    double at = c->interp.server_tick - (2.0 * ratio + 1.0);
    int n = 0;
    for (int i = 0; i < s->n; i++) {
        const demo_snap_player *p = &s->p[i];
        shown *o = &out[n];
        o->id = p->id;
        o->score = p->score;
        o->flags = p->flags;
        if (p->id == c->my_id && c->pred.have) {
            o->x = c->pred.x + c->pred.ox;
            o->y = c->pred.y + c->pred.oy;
        } else if (!demo_interp_sample(&c->interp, at, p->id, &o->x, &o->y)) {
            continue;
        }
        n++;
    }
    return n;
}

void demo_draw_arena(demo_client *c, SDL_Renderer *r)
{
    draw_floor(r);
    shown ps[DEMO_MAX_PLAYERS];
    int n = visible_players(c, ps);
    double now = demo_log_seconds();
    float pulse = 0.5f + 0.5f * sinf((float)now * 8.0f);

    for (int i = 0; i < n; i++) {
        const shown *p = &ps[i];
        float x = ARENA_X + p->x, y = ARENA_Y + p->y;
        SDL_Color col = demo_player_color(p->id);
        disc(r, x + 3, y + 4, DEMO_RADIUS, (SDL_Color){ 10, 12, 18, 150 });       /* shadow */
        if (p->flags & DEMO_SNAP_IT)
            ring(r, x, y, DEMO_RADIUS + 3, 3 + 3 * pulse, (SDL_Color){ 255, 70, 50, 230 });
        disc(r, x, y, DEMO_RADIUS, col);
        disc(r, x - 4, y - 5, DEMO_RADIUS * 0.35f, (SDL_Color){ 255, 255, 255, 70 });  /* shine */
        if (p->flags & DEMO_SNAP_FROZEN)
            ring(r, x, y, DEMO_RADIUS - 3, 3, (SDL_Color){ 200, 240, 255, 220 });
        if (p->id == c->my_id)
            ring(r, x, y, DEMO_RADIUS, 2, (SDL_Color){ 255, 255, 255, 255 });
        if (p->id == c->flash_id && now < c->flash_until) {
            float k = (float)(1.0 - (c->flash_until - now) / 0.6);
            ring(r, x, y, DEMO_RADIUS + 6 + k * 30, 3, (SDL_Color){ 255, 220, 120, (Uint8)(255 * (1 - k)) });
        }
    }
    /* Names on top of every disc, so none hides under a neighbour. */
    for (int i = 0; i < n; i++) {
        const shown *p = &ps[i];
        int x = ARENA_X + (int)p->x, y = ARENA_Y + (int)p->y;
        const char *name = demo_session_name(c, p->id);
        SDL_Color white = { 235, 238, 245, 255 };
        if (p->flags & DEMO_SNAP_IT) {
            char label[DEMO_NAME_MAX + 8];
            snprintf(label, sizeof label, "%s  IT", name);
            demo_text_draw(c->text, FONT_BOLD, label, x + 1, y - 37, (SDL_Color){ 0, 0, 0, 180 }, 1);
            demo_text_draw(c->text, FONT_BOLD, label, x, y - 38, (SDL_Color){ 255, 110, 90, 255 }, 1);
        } else {
            demo_text_draw(c->text, FONT_BOLD, name, x + 1, y - 37, (SDL_Color){ 0, 0, 0, 180 }, 1);
            demo_text_draw(c->text, FONT_BOLD, name, x, y - 38, white, 1);
        }
    }
    if (!c->joined && !(c->opts->spectate && c->handshaken && !c->closed)) {
        const char *msg = c->closed ? c->close_text : "connecting...";
        demo_text_draw(c->text, FONT_TITLE, msg, ARENA_X + (int)DEMO_ARENA_W / 2, ARENA_Y + (int)DEMO_ARENA_H / 2 - 12,
                       (SDL_Color){ 220, 225, 240, 255 }, 1);
    }
}

static void on_frame(const hive_event *ev, void *user)
{
    demo_client *c = user;
    SDL_Renderer *r = hive_sdl_renderer(c->sdl);
    demo_text_frame(c->text);
    demo_draw_arena(c, r);
    demo_draw_hud(c, r);
}

int demo_draw_install(demo_client *c)
{
    if (!c->sdl) return 0;
    SDL_Renderer *r = hive_sdl_renderer(c->sdl);
    /* Draw in a fixed 1120 x 700 space; SDL scales it to the window. */
    SDL_RenderSetLogicalSize(r, SCREEN_W, SCREEN_H);
    c->text = demo_text_create(r);
    int rc = hive_bus_subscribe(c->bus, HIVE_EV_ENGINE_FRAME, on_frame, c, NULL);
    return rc < 0 ? rc : 0;
}
