/* Helpers for the SDL tests: everything runs on SDL's dummy video driver,
 * so no display is needed. */
#ifndef HIVE_TEST_SDL_UTIL_H
#define HIVE_TEST_SDL_UTIL_H

#include <stdlib.h>
#include <SDL.h>
#include <hive/sdl.h>
#include "engine_util.h"

typedef struct sdl_rig {
    rig r;
    hive_sdl *s;
} sdl_rig;

static inline void sdl_rig_init(sdl_rig *x, const hive_sdl_config *cfg)
{
    setenv("SDL_VIDEODRIVER", "dummy", 0);
    setenv("SDL_AUDIODRIVER", "dummy", 0);
    rig_init(&x->r, NULL);
    x->s = hive_sdl_create(x->r.e, cfg);
    cr_assert_not_null(x->s, "hive_sdl_create: %s", SDL_GetError());
}

static inline void sdl_rig_fini(sdl_rig *x)
{
    hive_sdl_destroy(x->s);
    rig_fini(&x->r);
}

/* The last event of one name, copied out of the handler. */
typedef struct seen {
    int n;
    int64_t v[6];
    const char *keys[6];
    char text[64];
} seen;

static inline void seen_event(const hive_event *ev, void *user)
{
    seen *s = user;
    s->n++;
    for (int i = 0; i < 6 && s->keys[i]; i++) s->v[i] = hive_event_int(ev, s->keys[i], -999);
    const char *t = hive_event_str(ev, "text");
    if (!t) t = hive_event_str(ev, "name");
    if (t) snprintf(s->text, sizeof s->text, "%s", t);
}

#endif
