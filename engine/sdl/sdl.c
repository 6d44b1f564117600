/*
 * sdl.c - SDL2 wrapped once: the window, the renderer, and SDL's events
 * republished as bus events, so game code hooks a key press the same way
 * it hooks a network message.
 *
 * This is the only file of the engine that includes SDL, and it is a
 * library of its own (libhive-sdl, hive/sdl.h): the loop (libhive-engine)
 * needs no SDL to build, link or install, so a headless server never sees
 * SDL. It uses the engine through its public header only.
 */
#include "events/internal.h"
#include <limits.h>
#include <string.h>
#include <SDL.h>
#include <SDL_image.h>
#include "hive/sdl.h"

enum {
    EV_QUIT, EV_KEYDOWN, EV_KEYUP, EV_MOTION, EV_BUTTON, EV_WHEEL, EV_TEXT,
    EV_RESIZED, EV__COUNT
};

static const char *const ev_names[EV__COUNT] = {
    HIVE_EV_SDL_QUIT, HIVE_EV_SDL_KEYDOWN, HIVE_EV_SDL_KEYUP, HIVE_EV_SDL_MOUSEMOTION,
    HIVE_EV_SDL_MOUSEBUTTON, HIVE_EV_SDL_MOUSEWHEEL, HIVE_EV_SDL_TEXTINPUT,
    HIVE_EV_SDL_WINDOW_RESIZED,
};

struct hive_sdl {
    hive_engine *engine;
    hive_bus *bus;
    hive_sdl_config cfg;
    char *title;
    SDL_Window *window;
    SDL_Renderer *renderer;
    hive_event_id ev[EV__COUNT];
    int service;
    int sub_clear, sub_present, sub_quit;
};

static void publish_key(hive_sdl *s, hive_event_id id, const SDL_KeyboardEvent *k)
{
    hive_field f[] = {
        HIVE_INT("key", k->keysym.sym),
        HIVE_INT("scancode", k->keysym.scancode),
        HIVE_INT("mods", k->keysym.mod),
        HIVE_INT("repeat", k->repeat),
        HIVE_STR("name", SDL_GetKeyName(k->keysym.sym)),
    };
    hive_bus_publish(s->bus, id, f, 5);
}

/* One SDL event -> at most one bus event, built only when someone
 * listens (hive_bus_wants is a single load). */
static void translate(hive_sdl *s, const SDL_Event *e)
{
    int which;
    switch (e->type) {
    case SDL_QUIT: which = EV_QUIT; break;
    case SDL_KEYDOWN: which = EV_KEYDOWN; break;
    case SDL_KEYUP: which = EV_KEYUP; break;
    case SDL_MOUSEMOTION: which = EV_MOTION; break;
    case SDL_MOUSEBUTTONDOWN: case SDL_MOUSEBUTTONUP: which = EV_BUTTON; break;
    case SDL_MOUSEWHEEL: which = EV_WHEEL; break;
    case SDL_TEXTINPUT: which = EV_TEXT; break;
    case SDL_WINDOWEVENT:
        /* SIZE_CHANGED covers user resizes and SDL_SetWindowSize alike;
         * RESIZED would report user resizes twice. */
        if (e->window.event != SDL_WINDOWEVENT_SIZE_CHANGED) return;
        which = EV_RESIZED;
        break;
    default: return;
    }
    hive_event_id id = s->ev[which];
    if (!hive_bus_wants(s->bus, id)) return;
    switch (which) {
    case EV_QUIT:
        hive_bus_publish(s->bus, id, NULL, 0);
        break;
    case EV_KEYDOWN: case EV_KEYUP:
        publish_key(s, id, &e->key);
        break;
    case EV_MOTION: {
        hive_field f[] = {
            HIVE_INT("x", e->motion.x), HIVE_INT("y", e->motion.y),
            HIVE_INT("dx", e->motion.xrel), HIVE_INT("dy", e->motion.yrel),
            HIVE_INT("buttons", e->motion.state),
        };
        hive_bus_publish(s->bus, id, f, 5);
        break;
    }
    case EV_BUTTON: {
        hive_field f[] = {
            HIVE_INT("button", e->button.button),
            HIVE_INT("down", e->button.state == SDL_PRESSED),
            HIVE_INT("x", e->button.x), HIVE_INT("y", e->button.y),
            HIVE_INT("clicks", e->button.clicks),
        };
        hive_bus_publish(s->bus, id, f, 5);
        break;
    }
    case EV_WHEEL: {
        hive_field f[] = { HIVE_INT("dx", e->wheel.x), HIVE_INT("dy", e->wheel.y) };
        hive_bus_publish(s->bus, id, f, 2);
        break;
    }
    case EV_TEXT: {
        hive_field f[] = { HIVE_STR("text", e->text.text) };
        hive_bus_publish(s->bus, id, f, 1);
        break;
    }
    case EV_RESIZED: {
        hive_field f[] = { HIVE_INT("width", e->window.data1), HIVE_INT("height", e->window.data2) };
        hive_bus_publish(s->bus, id, f, 2);
        break;
    }
    }
}

int hive_sdl_pump(hive_sdl *s, int timeout_ms)
{
    if (!s) return HIVE_EINVAL;
    SDL_Event e;
    int n = 0;
    if (timeout_ms > 0) {
        if (!SDL_WaitEventTimeout(&e, timeout_ms)) return 0;
        translate(s, &e);
        n++;
    }
    /* Bounded: a handler that pushes events cannot keep us here. */
    while (n < 4096 && SDL_PollEvent(&e)) {
        translate(s, &e);
        n++;
    }
    return n;
}

static int pump_service(void *obj, int timeout_ms)
{
    return hive_sdl_pump(obj, timeout_ms);
}

static void on_frame_clear(const hive_event *ev, void *user)
{
    hive_sdl *s = user;
    SDL_SetRenderDrawColor(s->renderer, s->cfg.clear_r, s->cfg.clear_g, s->cfg.clear_b, 255);
    SDL_RenderClear(s->renderer);
}

static void on_frame_present(const hive_event *ev, void *user)
{
    hive_sdl *s = user;
    SDL_RenderPresent(s->renderer);
}

static void on_quit(const hive_event *ev, void *user)
{
    hive_sdl *s = user;
    hive_engine_stop(s->engine);
}

static int open_window(hive_sdl *s)
{
    Uint32 wflags = SDL_WINDOW_SHOWN;
    if (s->cfg.hidden) wflags = SDL_WINDOW_HIDDEN;
    if (s->cfg.resizable) wflags |= SDL_WINDOW_RESIZABLE;
    s->window = SDL_CreateWindow(s->title, SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED,
                                 s->cfg.width, s->cfg.height, wflags);
    if (!s->window) return HIVE_EIO;
    Uint32 rflags = s->cfg.software ? SDL_RENDERER_SOFTWARE : SDL_RENDERER_ACCELERATED;
    if (s->cfg.vsync) rflags |= SDL_RENDERER_PRESENTVSYNC;
    s->renderer = SDL_CreateRenderer(s->window, -1, rflags);
    /* No GPU (a container, Xvfb without GL): SDL's software renderer draws
     * the same picture, only slower. */
    if (!s->renderer && !s->cfg.software)
        s->renderer = SDL_CreateRenderer(s->window, -1, SDL_RENDERER_SOFTWARE);
    if (!s->renderer) return HIVE_EIO;
    SDL_SetRenderDrawBlendMode(s->renderer, SDL_BLENDMODE_BLEND);
    return HIVE_OK;
}

hive_sdl *hive_sdl_create(hive_engine *e, const hive_sdl_config *cfg)
{
    if (!e) {
        hive__create_fail(HIVE_EINVAL, "", "hive_sdl_create: engine is NULL");
        return NULL;
    }
    hive_sdl *s = hive__calloc(1, sizeof *s);
    if (!s) {
        hive__create_fail(HIVE_ENOMEM, "", "hive_sdl_create: out of memory");
        return NULL;
    }
    bool sdl_up = false;
    int code = HIVE_ENOMEM;    /* what a failed Hive call below means, unless it says */
    s->engine = e;
    s->bus = hive_engine_bus(e);
    if (cfg) s->cfg = *cfg;
    if (s->cfg.width <= 0) s->cfg.width = 960;
    if (s->cfg.height <= 0) s->cfg.height = 600;
    s->title = hive__strdup(s->cfg.title ? s->cfg.title : "Hive");
    if (!s->title) goto fail;
    s->cfg.title = s->title;
    for (int i = 0; i < EV__COUNT; i++)
        if ((s->ev[i] = hive_bus_intern(s->bus, ev_names[i])) <= 0) {
            if (s->ev[i] < 0) code = s->ev[i];
            goto fail;
        }

    code = HIVE_EIO;
    if (SDL_InitSubSystem(SDL_INIT_VIDEO | SDL_INIT_EVENTS) != 0) goto fail;
    sdl_up = true;
    if (!s->cfg.no_window && open_window(s) != HIVE_OK) goto fail;
    code = HIVE_ENOMEM;
    /* SDL2 starts with text input on; a game wants it only in a chat box. */
    SDL_StopTextInput();

    if ((s->service = hive_engine_add_service(e, pump_service, s)) <= 0) {
        if (s->service < 0) code = s->service;
        goto fail;
    }
    if (s->renderer && !s->cfg.manual_present) {
        hive_event_id frame = hive_bus_intern(s->bus, HIVE_EV_ENGINE_FRAME);
        s->sub_clear = hive_bus_subscribe_id(s->bus, frame, on_frame_clear, s,
                                             &(hive_sub_opts){ .priority = INT_MAX });
        s->sub_present = hive_bus_subscribe_id(s->bus, frame, on_frame_present, s,
                                               &(hive_sub_opts){ .priority = INT_MIN });
        if (s->sub_clear <= 0 || s->sub_present <= 0) goto fail;
    }
    if (!s->cfg.keep_running_on_quit) {
        /* Lowest priority: the game's own sdl:quit handlers (save, say
         * goodbye to the server) run first. */
        s->sub_quit = hive_bus_subscribe_id(s->bus, s->ev[EV_QUIT], on_quit, s,
                                            &(hive_sub_opts){ .priority = INT_MIN });
        if (s->sub_quit <= 0) goto fail;
    }
    hive__create_ok();
    return s;
fail:
    /* Recorded before SDL is shut down, while SDL_GetError() still says why. */
    if (code == HIVE_EIO)
        hive__create_fail(code, "", "hive_sdl_create: SDL: %s", SDL_GetError());
    else
        hive__create_fail(code, "", "hive_sdl_create: %s", hive_strerror(code));
    if (s->sub_clear > 0) hive_bus_unsubscribe(s->bus, s->sub_clear);
    if (s->sub_present > 0) hive_bus_unsubscribe(s->bus, s->sub_present);
    if (s->service > 0) hive_engine_remove_service(e, s->service);
    if (s->renderer) SDL_DestroyRenderer(s->renderer);
    if (s->window) SDL_DestroyWindow(s->window);
    if (sdl_up) SDL_QuitSubSystem(SDL_INIT_VIDEO | SDL_INIT_EVENTS);
    hive__free(s->title);
    hive__free(s);
    return NULL;
}

void hive_sdl_destroy(hive_sdl *s)
{
    if (!s) return;
    if (s->sub_clear > 0) hive_bus_unsubscribe(s->bus, s->sub_clear);
    if (s->sub_present > 0) hive_bus_unsubscribe(s->bus, s->sub_present);
    if (s->sub_quit > 0) hive_bus_unsubscribe(s->bus, s->sub_quit);
    hive_engine_remove_service(s->engine, s->service);
    if (s->renderer) SDL_DestroyRenderer(s->renderer);
    if (s->window) SDL_DestroyWindow(s->window);
    SDL_QuitSubSystem(SDL_INIT_VIDEO | SDL_INIT_EVENTS);
    /* Last user of SDL gone: SDL_Quit also releases what SDL keeps
     * process-wide (its D-Bus connection, hints). */
    if (SDL_WasInit(SDL_INIT_EVERYTHING) == 0) SDL_Quit();
    hive__free(s->title);
    hive__free(s);
}

struct SDL_Window *hive_sdl_window(const hive_sdl *s) { return s ? s->window : NULL; }
struct SDL_Renderer *hive_sdl_renderer(const hive_sdl *s) { return s ? s->renderer : NULL; }

void hive_sdl_text_input(hive_sdl *s, bool on)
{
    if (!s) return;
    if (on) SDL_StartTextInput();
    else SDL_StopTextInput();
}

int hive_sdl_screenshot(hive_sdl *s, const char *png_path)
{
    if (!s || !png_path) return HIVE_EINVAL;
    if (!s->renderer) return HIVE_ESTATE;
    int w, h;
    if (SDL_GetRendererOutputSize(s->renderer, &w, &h) != 0) return HIVE_EIO;
    /* RGB without alpha: a renderer may leave alpha at 0, which would
     * save a fully transparent picture. */
    SDL_Surface *shot = SDL_CreateRGBSurfaceWithFormat(0, w, h, 24, SDL_PIXELFORMAT_RGB24);
    if (!shot) return HIVE_EIO;
    int rc = HIVE_OK;
    if (SDL_RenderReadPixels(s->renderer, NULL, SDL_PIXELFORMAT_RGB24, shot->pixels, shot->pitch) != 0 ||
        IMG_SavePNG(shot, png_path) != 0)
        rc = HIVE_EIO;
    SDL_FreeSurface(shot);
    return rc;
}
