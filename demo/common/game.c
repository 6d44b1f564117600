/*
 * game.c - the tag rules and the movement both sides share.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "game.h"

const demo_rect demo_pillars[] = {
    { 150, 110, 90, 36 }, { 560, 110, 90, 36 },
    { 150, 354, 90, 36 }, { 560, 354, 90, 36 },
    { 372, 212, 56, 76 },
};
const int demo_npillars = (int)(sizeof demo_pillars / sizeof demo_pillars[0]);

/* xorshift32: tiny, seedable, the same on every machine. */
static uint32_t rnd(demo_world *w)
{
    uint32_t x = w->rng ? w->rng : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return w->rng = x;
}

static float rndf(demo_world *w, float lo, float hi)
{
    return lo + (hi - lo) * (float)(rnd(w) % 10000u) / 10000.0f;
}

void demo_world_init(demo_world *w, int tick_hz, uint32_t seed)
{
    memset(w, 0, sizeof *w);
    w->tick_hz = tick_hz > 0 ? tick_hz : 60;
    w->dt = 1.0f / (float)w->tick_hz;
    w->rng = seed ? seed : 1;
}

float demo_speed(bool is_it)
{
    return is_it ? DEMO_IT_SPEED : DEMO_SPEED;
}

/* Push a circle out of a rectangle. A centre inside the rectangle (a
 * teleport, never a step) leaves through the nearest side. */
static void push_out(float *x, float *y, const demo_rect *r)
{
    float cx = *x < r->x ? r->x : (*x > r->x + r->w ? r->x + r->w : *x);
    float cy = *y < r->y ? r->y : (*y > r->y + r->h ? r->y + r->h : *y);
    float dx = *x - cx, dy = *y - cy;
    float d2 = dx * dx + dy * dy;
    if (d2 >= DEMO_RADIUS * DEMO_RADIUS) return;
    if (d2 > 1e-6f) {
        float d = sqrtf(d2);
        *x = cx + dx / d * DEMO_RADIUS;
        *y = cy + dy / d * DEMO_RADIUS;
        return;
    }
    float left = *x - r->x, right = r->x + r->w - *x;
    float top = *y - r->y, bottom = r->y + r->h - *y;
    float m = fminf(fminf(left, right), fminf(top, bottom));
    if (m == left) *x = r->x - DEMO_RADIUS;
    else if (m == right) *x = r->x + r->w + DEMO_RADIUS;
    else if (m == top) *y = r->y - DEMO_RADIUS;
    else *y = r->y + r->h + DEMO_RADIUS;
}

static void clamp_arena(float *x, float *y)
{
    if (*x < DEMO_RADIUS) *x = DEMO_RADIUS;
    if (*x > DEMO_ARENA_W - DEMO_RADIUS) *x = DEMO_ARENA_W - DEMO_RADIUS;
    if (*y < DEMO_RADIUS) *y = DEMO_RADIUS;
    if (*y > DEMO_ARENA_H - DEMO_RADIUS) *y = DEMO_ARENA_H - DEMO_RADIUS;
}

void demo_move(float *x, float *y, uint8_t bits, float speed, float dt)
{
    float vx = 0, vy = 0;
    if (bits & DEMO_LEFT) vx -= 1;
    if (bits & DEMO_RIGHT) vx += 1;
    if (bits & DEMO_UP) vy -= 1;
    if (bits & DEMO_DOWN) vy += 1;
    if (vx != 0 && vy != 0) {
        vx *= 0.70710678f;
        vy *= 0.70710678f;
    }
    *x += vx * speed * dt;
    *y += vy * speed * dt;
    for (int i = 0; i < demo_npillars; i++) push_out(x, y, &demo_pillars[i]);
    clamp_arena(x, y);
}

demo_player *demo_world_find(demo_world *w, uint32_t id)
{
    if (id == 0) return NULL;
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++)
        if (w->p[i].used && w->p[i].id == id) return &w->p[i];
    return NULL;
}

int demo_world_count(const demo_world *w)
{
    int n = 0;
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) n += w->p[i].used;
    return n;
}

static bool spot_is_free(const demo_world *w, float x, float y, float margin)
{
    for (int i = 0; i < demo_npillars; i++) {
        const demo_rect *r = &demo_pillars[i];
        if (x > r->x - margin && x < r->x + r->w + margin &&
            y > r->y - margin && y < r->y + r->h + margin)
            return false;
    }
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        const demo_player *p = &w->p[i];
        if (!p->used) continue;
        float dx = p->x - x, dy = p->y - y;
        if (dx * dx + dy * dy < 120.0f * 120.0f) return false;
    }
    return true;
}

demo_player *demo_world_add(demo_world *w, uint32_t id, const char *name)
{
    if (id == 0 || demo_world_find(w, id)) return NULL;
    demo_player *p = NULL;
    for (int i = 0; i < DEMO_MAX_PLAYERS && !p; i++)
        if (!w->p[i].used) p = &w->p[i];
    if (!p) return NULL;
    memset(p, 0, sizeof *p);
    p->used = true;
    p->id = id;
    demo_clean_text(p->name, sizeof p->name, name ? name : "", name ? strlen(name) : 0);
    if (!p->name[0]) snprintf(p->name, sizeof p->name, "player%u", (unsigned)id);
    /* A free spot away from pillars and players; after enough tries,
     * anywhere the pillars allow. */
    float x = 0, y = 0;
    for (int tries = 0; tries < 64; tries++) {
        x = rndf(w, 40, DEMO_ARENA_W - 40);
        y = rndf(w, 40, DEMO_ARENA_H - 40);
        if (spot_is_free(w, x, y, DEMO_RADIUS + 4) || tries == 63) break;
    }
    p->x = x;
    p->y = y;
    demo_move(&p->x, &p->y, 0, 0, 0);
    p->credit = 1;
    if (!w->it) {
        w->it = id;
        p->it_since = w->tick;
    }
    return p;
}

int64_t demo_world_remove(demo_world *w, uint32_t id)
{
    demo_player *p = demo_world_find(w, id);
    if (!p) return -1;
    p->used = false;
    if (w->it == id) {
        w->it = 0;
        demo_player *next = NULL;
        for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
            demo_player *q = &w->p[i];
            if (q->used && (!next || q->score_ticks < next->score_ticks)) next = q;
        }
        if (next) {
            w->it = next->id;
            next->it_since = w->tick;
            next->idle_ticks = 0;
            next->frozen_ticks = (uint32_t)(DEMO_FREEZE_MS * w->tick_hz / 1000);
        }
    }
    return w->it;
}

int demo_world_input(demo_world *w, uint32_t id, uint32_t seq, uint8_t bits)
{
    demo_player *p = demo_world_find(w, id);
    if (!p) return -1;
    uint32_t last = p->nqueue ? p->queue[p->nqueue - 1].seq : p->ack;
    if (seq <= last) return 0;
    if (p->nqueue == DEMO_INPUT_QUEUE) {
        memmove(p->queue, p->queue + 1, (DEMO_INPUT_QUEUE - 1) * sizeof p->queue[0]);
        p->nqueue--;
    }
    p->queue[p->nqueue++] = (demo_input){ seq, (uint8_t)(bits & DEMO_INPUT_MASK) };
    return 1;
}

static void apply_inputs(demo_world *w, demo_player *p)
{
    /* One credit per tick, a small burst allowed for network jitter: on
     * average a player moves at most one step per tick, however many
     * inputs its client sends. */
    p->credit += 1.0f;
    if (p->credit > 3.0f) p->credit = 3.0f;
    int used = 0;
    while (used < p->nqueue && p->credit >= 1.0f) {
        demo_input in = p->queue[used++];
        p->credit -= 1.0f;
        p->ack = in.seq;
        if (p->frozen_ticks == 0)
            demo_move(&p->x, &p->y, in.bits, demo_speed(w->it == p->id), w->dt);
        if (in.bits) p->idle_ticks = 0;
    }
    if (used) {
        memmove(p->queue, p->queue + used, (size_t)(p->nqueue - used) * sizeof p->queue[0]);
        p->nqueue -= used;
    }
}

int demo_world_tick(demo_world *w, demo_tag *tag)
{
    w->tick++;
    int n = demo_world_count(w);
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        demo_player *p = &w->p[i];
        if (!p->used) continue;
        if (p->frozen_ticks == 0 && n >= 2) p->idle_ticks++;
        apply_inputs(w, p);
        if (p->frozen_ticks) p->frozen_ticks--;
    }

    int tagged = 0;
    demo_player *it = demo_world_find(w, w->it);
    if (it && it->frozen_ticks == 0) {
        demo_player *victim = NULL;
        float best = (2 * DEMO_RADIUS) * (2 * DEMO_RADIUS);
        for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
            demo_player *q = &w->p[i];
            if (!q->used || q == it) continue;
            float dx = q->x - it->x, dy = q->y - it->y;
            float d2 = dx * dx + dy * dy;
            if (d2 <= best) { best = d2; victim = q; }
        }
        bool idle = false;
        if (!victim && n >= 2 && it->idle_ticks >= (uint32_t)(DEMO_IDLE_MS * w->tick_hz / 1000)) {
            /* Nobody at the keyboard: the nearest player takes over. */
            float nearest = 1e30f;
            for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
                demo_player *q = &w->p[i];
                if (!q->used || q == it) continue;
                float dx = q->x - it->x, dy = q->y - it->y;
                if (dx * dx + dy * dy < nearest) { nearest = dx * dx + dy * dy; victim = q; }
            }
            idle = victim != NULL;
        }
        if (victim) {
            if (tag) {
                tag->tagger = it->id;
                tag->tagged = victim->id;
                tag->it_seconds = (double)(w->tick - it->it_since) / w->tick_hz;
                tag->idle = idle;
            }
            it->idle_ticks = 0;
            victim->idle_ticks = 0;
            w->it = victim->id;
            victim->it_since = w->tick;
            victim->frozen_ticks = (uint32_t)(DEMO_FREEZE_MS * w->tick_hz / 1000);
            tagged = 1;
        }
    }

    if (n >= 2)
        for (int i = 0; i < DEMO_MAX_PLAYERS; i++)
            if (w->p[i].used && w->p[i].id != w->it) w->p[i].score_ticks++;
    return tagged;
}

/* Length of the valid UTF-8 sequence starting at s (at most n bytes), or
 * 0 when it is invalid (overlong forms and surrogates included). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80) return 1;
    size_t len;
    uint32_t cp;
    if ((s[0] & 0xe0) == 0xc0) { len = 2; cp = s[0] & 0x1f; }
    else if ((s[0] & 0xf0) == 0xe0) { len = 3; cp = s[0] & 0x0f; }
    else if ((s[0] & 0xf8) == 0xf0) { len = 4; cp = s[0] & 0x07; }
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    /* C1 controls (U+0080..U+009F) are as unprintable as C0 ones. */
    if (cp >= 0x80 && cp < 0xa0) return 0;
    return len;
}

size_t demo_clean_text(char *out, size_t cap, const char *in, size_t len)
{
    if (cap == 0) return 0;
    const unsigned char *s = (const unsigned char *)in;
    size_t o = 0;
    for (size_t i = 0; i < len && s[i];) {
        size_t n = utf8_len(s + i, len - i);
        if (n == 0) { i++; continue; }
        if (n == 1 && (s[i] < 0x20 || s[i] == 0x7f)) {
            /* A tab or newline becomes a space; other controls vanish. */
            if ((s[i] == '\t' || s[i] == '\n') && o > 0 && o + 1 < cap) out[o++] = ' ';
            i++;
            continue;
        }
        if (o + n >= cap) break;
        memcpy(out + o, s + i, n);
        o += n;
        i += n;
    }
    while (o > 0 && out[o - 1] == ' ') o--;
    size_t lead = 0;
    while (lead < o && out[lead] == ' ') lead++;
    if (lead) memmove(out, out + lead, o - lead);
    o -= lead;
    out[o] = 0;
    return o;
}
