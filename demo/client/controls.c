/*
 * controls.c - the keyboard, from the engine's sdl:* events: arrows or
 * WASD move; Enter opens the chat box, Enter sends, Escape cancels (or,
 * with the box closed, leaves the game); F12 saves a screenshot.
 */
#include <string.h>
#include <SDL.h>
#include "demo/common/log.h"
#include "client.h"

static void set_key(demo_client *c, SDL_Keycode k, bool down)
{
    switch (k) {
    case SDLK_UP: case SDLK_w: c->up = down; break;
    case SDLK_DOWN: case SDLK_s: c->down = down; break;
    case SDLK_LEFT: case SDLK_a: c->left = down; break;
    case SDLK_RIGHT: case SDLK_d: c->right = down; break;
    default: break;
    }
}

static void open_chat(demo_client *c, bool open)
{
    c->chat_open = open;
    c->edit[0] = 0;
    /* Text input on only while typing: otherwise "w" would also type. */
    hive_sdl_text_input(c->sdl, open);
    c->up = c->down = c->left = c->right = false;
}

/* Remove the last UTF-8 character. */
static void backspace(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && ((unsigned char)s[n - 1] & 0xc0) == 0x80) n--;
    if (n > 0) n--;
    s[n] = 0;
}

static void on_keydown(const hive_event *ev, void *user)
{
    demo_client *c = user;
    SDL_Keycode k = (SDL_Keycode)hive_event_int(ev, "key", 0);
    if (c->chat_open) {
        if (k == SDLK_RETURN || k == SDLK_KP_ENTER) {
            demo_session_send_chat(c, c->edit);
            open_chat(c, false);
        } else if (k == SDLK_ESCAPE) {
            open_chat(c, false);
        } else if (k == SDLK_BACKSPACE) {
            backspace(c->edit);
        }
        return;
    }
    if (k == SDLK_RETURN || k == SDLK_KP_ENTER) open_chat(c, true);
    else if (k == SDLK_ESCAPE) demo_session_leave(c, "pressed Escape");
    else if (k == SDLK_F12) {
        int rc = hive_sdl_screenshot(c->sdl, "hive-screenshot.png");
        demo_session_line(c, LINE_SYSTEM, 0, NULL, rc == 0 ? "Saved hive-screenshot.png" : "Screenshot failed: %s",
                          rc == 0 ? "" : SDL_GetError());
    } else set_key(c, k, true);
}

static void on_keyup(const hive_event *ev, void *user)
{
    demo_client *c = user;
    if (!c->chat_open) set_key(c, (SDL_Keycode)hive_event_int(ev, "key", 0), false);
}

static void on_text(const hive_event *ev, void *user)
{
    demo_client *c = user;
    const char *t = hive_event_str(ev, "text");
    if (!c->chat_open || !t) return;
    size_t have = strlen(c->edit), add = strlen(t);
    if (have + add < sizeof c->edit) memcpy(c->edit + have, t, add + 1);
}

/* The window's close button: leave the game properly before the engine
 * stops (hive_sdl stops it after every other sdl:quit handler). */
static void on_quit(const hive_event *ev, void *user)
{
    demo_client *c = user;
    if (!c->closed && c->handshaken)
        hive_client_close(c->cli, HIVE_CLOSE_NORMAL, "window closed");
    c->leaving = true;
}

int demo_controls_install(demo_client *c)
{
    if (!c->sdl) return 0;
    int rc;
    if ((rc = hive_bus_subscribe(c->bus, HIVE_EV_SDL_KEYDOWN, on_keydown, c, NULL)) < 0 ||
        (rc = hive_bus_subscribe(c->bus, HIVE_EV_SDL_KEYUP, on_keyup, c, NULL)) < 0 ||
        (rc = hive_bus_subscribe(c->bus, HIVE_EV_SDL_TEXTINPUT, on_text, c, NULL)) < 0 ||
        (rc = hive_bus_subscribe(c->bus, HIVE_EV_SDL_QUIT, on_quit, c, NULL)) < 0)
        return rc;
    return 0;
}
