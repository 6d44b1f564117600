/*
 * text.h - drawing text with SDL2_ttf, rendered once and kept as
 * textures: a name or a HUD label is drawn 60 times a second but changes
 * rarely, so each (string, font, colour) becomes a texture on first use
 * and is dropped when unused for a while.
 */
#ifndef DEMO_TEXT_H
#define DEMO_TEXT_H

#include <stdbool.h>
#include <SDL.h>

typedef enum { FONT_SMALL, FONT_NORMAL, FONT_BOLD, FONT_TITLE, FONT__COUNT } demo_font;

typedef struct demo_text demo_text;

/* demo_text_create - open the fonts (DejaVu Sans, or $HIVE_DEMO_FONT).
 * Returns NULL (with a message on stderr) when SDL_ttf or the font is
 * missing; drawing text is then a no-op, the game still runs. */
demo_text *demo_text_create(SDL_Renderer *r);
void demo_text_destroy(demo_text *t);

/* demo_text_frame - call once per frame: ages the cache. */
void demo_text_frame(demo_text *t);

/* demo_text_draw - draw s with its top-left (align 0), centre (1) or
 * right edge (2) at x; returns the width drawn (0 for NULL t or "").
 * s is UTF-8. */
int demo_text_draw(demo_text *t, demo_font f, const char *s, int x, int y, SDL_Color c, int align);

/* demo_text_size - the size s would have. */
void demo_text_size(demo_text *t, demo_font f, const char *s, int *w, int *h);

#endif
