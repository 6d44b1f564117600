/*
 * hive/sdl.h - SDL2 wrapped once: the window, the renderer, and SDL's
 * input republished as bus events, so game code hooks a key press exactly
 * as it hooks a network message. libhive-sdl (pkg-config hive-sdl, which
 * brings hive-engine, sdl2 and SDL2_image); a headless program includes
 * only hive/engine.h and links no SDL.
 *
 * Registered as a service of an engine, a hive_sdl turns SDL's events
 * into the bus events below, built only when someone listens.
 *
 * Nothing here includes SDL's headers: SDL objects are named by their
 * struct tags, so the header is usable without SDL's -dev package.
 *
 * THREADS
 *   A hive_sdl belongs to its engine's thread (the bus's owner thread).
 */
#ifndef HIVE_SDL_H
#define HIVE_SDL_H

#include "common.h"
#include "bus.h"
#include "engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Event names (published by hive_sdl_pump, i.e. every engine frame)    */
/* ------------------------------------------------------------------ */

#define HIVE_EV_SDL_QUIT           "sdl:quit"           /* window closed, Ctrl-C, ... */
#define HIVE_EV_SDL_KEYDOWN        "sdl:keydown"        /* {key, scancode, mods, repeat, name} */
#define HIVE_EV_SDL_KEYUP          "sdl:keyup"          /* {key, scancode, mods, repeat, name} */
#define HIVE_EV_SDL_MOUSEMOTION    "sdl:mousemotion"    /* {x, y, dx, dy, buttons} */
#define HIVE_EV_SDL_MOUSEBUTTON    "sdl:mousebutton"    /* {button, down, x, y, clicks} */
#define HIVE_EV_SDL_MOUSEWHEEL     "sdl:mousewheel"     /* {dx, dy} */
#define HIVE_EV_SDL_TEXTINPUT      "sdl:textinput"      /* {text} (see hive_sdl_text_input) */
#define HIVE_EV_SDL_WINDOW_RESIZED "sdl:window.resized" /* {width, height} */

/* ------------------------------------------------------------------ */
/* Window, renderer, input                                              */
/* ------------------------------------------------------------------ */

struct SDL_Window;
struct SDL_Renderer;

typedef struct hive_sdl hive_sdl;

/* Zero means default. */
typedef struct hive_sdl_config {
    const char *title;          /* default "Hive" */
    int width, height;          /* window size; default 960 x 600 */
    bool resizable;
    bool hidden;                /* create the window hidden */
    bool no_window;             /* input only: no window, no renderer */
    bool vsync;                 /* present with vsync (off by default: the
                                   engine paces frames itself) */
    bool software;              /* force SDL's software renderer */
    bool manual_present;        /* default: the renderer is cleared before
                                   every engine:frame handler and presented
                                   after all of them; set to do it yourself */
    bool keep_running_on_quit;  /* default: sdl:quit stops the engine, after
                                   every other handler of sdl:quit ran */
    uint8_t clear_r, clear_g, clear_b; /* clear colour; default black */
} hive_sdl_config;

/*
 * hive_sdl_create - initialise SDL's video (honours SDL_VIDEODRIVER, e.g.
 * "dummy" without a display), open the window and renderer, and add the
 * event pump as a service of `e`.
 * cfg: may be NULL. Copied (title too).
 * Returns the object (destroy it with hive_sdl_destroy, before its
 * engine), or NULL: hive_create_error() then holds HIVE_EIO with SDL's
 * reason ("hive_sdl_create: SDL: ...", also in SDL_GetError()), HIVE_ENOMEM,
 * or HIVE_EINVAL for a NULL engine. One hive_sdl per engine. Owner thread.
 */
hive_sdl *hive_sdl_create(hive_engine *e, const hive_sdl_config *cfg);

/* hive_sdl_destroy - close the window, remove the service and the
 * subscriptions, and quit SDL's video. NULL is a no-op. */
void hive_sdl_destroy(hive_sdl *s);

/* The SDL objects, owned by the hive_sdl (NULL with no_window). */
struct SDL_Window *hive_sdl_window(const hive_sdl *s);
struct SDL_Renderer *hive_sdl_renderer(const hive_sdl *s);

/*
 * hive_sdl_pump - turn every pending SDL event into its bus event now.
 * The engine calls it each frame; call it yourself only without an engine
 * loop. timeout_ms: wait at most that long for a first event (0: no wait).
 * Returns the number of SDL events handled (>= 0).
 */
int hive_sdl_pump(hive_sdl *s, int timeout_ms);

/*
 * hive_sdl_text_input - start (true) or stop (false) SDL text input, which
 * produces sdl:textinput events (for a chat box). Off at creation.
 */
void hive_sdl_text_input(hive_sdl *s, bool on);

/*
 * hive_sdl_screenshot - save what the renderer holds now as a PNG file.
 * With automatic presenting the renderer is cleared by an engine:frame
 * handler of priority INT_MAX and presented by one of priority INT_MIN, so
 * call it from an engine:frame handler whose priority is lower than your
 * drawing's (and above INT_MIN); with manual_present, before you present.
 * Returns HIVE_OK, HIVE_EINVAL, HIVE_ESTATE (no renderer), HIVE_EIO
 * (SDL or the file failed; SDL_GetError() says why).
 */
int hive_sdl_screenshot(hive_sdl *s, const char *png_path);

#ifdef __cplusplus
}
#endif

#endif /* HIVE_SDL_H */
