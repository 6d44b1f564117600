/*
 * text.c - a small least-recently-used cache of text textures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <SDL_ttf.h>
#include "text.h"

#define CACHE 192
#define TEXT_MAX 200
#define MAX_IDLE_FRAMES 180

typedef struct entry {
    bool used;
    uint32_t hash;
    demo_font font;
    SDL_Color color;
    char s[TEXT_MAX];
    SDL_Texture *tex;
    int w, h;
    uint64_t last;
} entry;

struct demo_text {
    SDL_Renderer *r;
    TTF_Font *font[FONT__COUNT];
    entry cache[CACHE];
    uint64_t frame;
};

static const char *font_path(bool bold)
{
    const char *env = getenv(bold ? "HIVE_DEMO_FONT_BOLD" : "HIVE_DEMO_FONT");
    if (env && *env) return env;
    return bold ? "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
                : "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
}

demo_text *demo_text_create(SDL_Renderer *r)
{
    if (!r) return NULL;
    if (!TTF_WasInit() && TTF_Init() != 0) {
        fprintf(stderr, "hive-demo-client: SDL_ttf: %s (no text)\n", TTF_GetError());
        return NULL;
    }
    demo_text *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->r = r;
    static const struct { bool bold; int pt; } spec[FONT__COUNT] = {
        [FONT_SMALL] = { false, 12 }, [FONT_NORMAL] = { false, 14 },
        [FONT_BOLD] = { true, 14 }, [FONT_TITLE] = { true, 20 },
    };
    for (int i = 0; i < FONT__COUNT; i++) {
        t->font[i] = TTF_OpenFont(font_path(spec[i].bold), spec[i].pt);
        /* No bold face installed: the regular one will do. */
        if (!t->font[i] && spec[i].bold) t->font[i] = TTF_OpenFont(font_path(false), spec[i].pt);
        if (!t->font[i]) {
            fprintf(stderr, "hive-demo-client: font %s: %s (install fonts-dejavu-core; no text)\n",
                    font_path(spec[i].bold), TTF_GetError());
            demo_text_destroy(t);
            return NULL;
        }
    }
    return t;
}

void demo_text_destroy(demo_text *t)
{
    if (!t) return;
    for (int i = 0; i < CACHE; i++)
        if (t->cache[i].tex) SDL_DestroyTexture(t->cache[i].tex);
    for (int i = 0; i < FONT__COUNT; i++)
        if (t->font[i]) TTF_CloseFont(t->font[i]);
    free(t);
    TTF_Quit();
}

void demo_text_frame(demo_text *t)
{
    if (!t) return;
    t->frame++;
    for (int i = 0; i < CACHE; i++) {
        entry *e = &t->cache[i];
        if (e->used && t->frame - e->last > MAX_IDLE_FRAMES) {
            SDL_DestroyTexture(e->tex);
            memset(e, 0, sizeof *e);
        }
    }
}

static uint32_t fnv1a(const char *s, demo_font f, SDL_Color c)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
    h = (h ^ (uint32_t)f) * 16777619u;
    h = (h ^ ((uint32_t)c.r << 24 | (uint32_t)c.g << 16 | (uint32_t)c.b << 8 | c.a)) * 16777619u;
    return h;
}

static entry *lookup(demo_text *t, demo_font f, const char *s, SDL_Color c)
{
    uint32_t h = fnv1a(s, f, c);
    entry *victim = NULL;
    for (int i = 0; i < CACHE; i++) {
        entry *e = &t->cache[i];
        if (e->used && e->hash == h && e->font == f && !memcmp(&e->color, &c, sizeof c) && !strcmp(e->s, s)) {
            e->last = t->frame;
            return e;
        }
        if (!victim || !e->used || (victim->used && e->last < victim->last)) victim = e;
    }
    if (victim->tex) SDL_DestroyTexture(victim->tex);
    memset(victim, 0, sizeof *victim);
    SDL_Surface *surf = TTF_RenderUTF8_Blended(t->font[f], s, c);
    if (!surf) return NULL;
    victim->tex = SDL_CreateTextureFromSurface(t->r, surf);
    victim->w = surf->w;
    victim->h = surf->h;
    SDL_FreeSurface(surf);
    if (!victim->tex) return NULL;
    victim->used = true;
    victim->hash = h;
    victim->font = f;
    victim->color = c;
    snprintf(victim->s, sizeof victim->s, "%s", s);
    victim->last = t->frame;
    return victim;
}

int demo_text_draw(demo_text *t, demo_font f, const char *s, int x, int y, SDL_Color c, int align)
{
    if (!t || !s || !*s) return 0;
    char buf[TEXT_MAX];
    snprintf(buf, sizeof buf, "%s", s);   /* longer strings are cut, not refused */
    entry *e = lookup(t, f, buf, c);
    if (!e) return 0;
    if (align == 1) x -= e->w / 2;
    else if (align == 2) x -= e->w;
    SDL_RenderCopy(t->r, e->tex, NULL, &(SDL_Rect){ x, y, e->w, e->h });
    return e->w;
}

void demo_text_size(demo_text *t, demo_font f, const char *s, int *w, int *h)
{
    *w = *h = 0;
    if (!t || !s || !*s) return;
    TTF_SizeUTF8(t->font[f], s, w, h);
}
