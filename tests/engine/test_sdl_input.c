/* SDL input becomes bus events with the documented fields. */
#include "sdl_util.h"

static void push(SDL_Event *e)
{
    cr_assert_eq(SDL_PushEvent(e), 1, "SDL_PushEvent: %s", SDL_GetError());
}

Test(sdl_input, keydown_and_keyup, .timeout = 10)
{
    sdl_rig x; sdl_rig_init(&x, &(hive_sdl_config){ .hidden = true });
    seen down = { .keys = { "key", "scancode", "mods", "repeat" } };
    seen up = { .keys = { "key" } };
    hive_bus_subscribe(x.r.bus, "sdl:keydown", seen_event, &down, NULL);
    hive_bus_subscribe(x.r.bus, "sdl:keyup", seen_event, &up, NULL);

    SDL_Event e = { .type = SDL_KEYDOWN };
    e.key.state = SDL_PRESSED;
    e.key.keysym.sym = SDLK_a;
    e.key.keysym.scancode = SDL_SCANCODE_A;
    e.key.keysym.mod = KMOD_LSHIFT;
    e.key.repeat = 1;
    push(&e);
    e.type = SDL_KEYUP;
    e.key.state = SDL_RELEASED;
    push(&e);
    rig_step(&x.r, 1 * MS);

    cr_expect_eq(down.n, 1);
    cr_expect_eq(down.v[0], SDLK_a);
    cr_expect_eq(down.v[1], SDL_SCANCODE_A);
    cr_expect_eq(down.v[2], KMOD_LSHIFT);
    cr_expect_eq(down.v[3], 1);
    cr_expect_str_eq(down.text, "A");
    cr_expect_eq(up.n, 1);
    cr_expect_eq(up.v[0], SDLK_a);
    sdl_rig_fini(&x);
}

Test(sdl_input, mouse_motion_button_wheel, .timeout = 10)
{
    sdl_rig x; sdl_rig_init(&x, &(hive_sdl_config){ .hidden = true });
    seen motion = { .keys = { "x", "y", "dx", "dy", "buttons" } };
    seen button = { .keys = { "button", "down", "x", "y", "clicks" } };
    seen wheel = { .keys = { "dx", "dy" } };
    hive_bus_subscribe(x.r.bus, "sdl:mousemotion", seen_event, &motion, NULL);
    hive_bus_subscribe(x.r.bus, "sdl:mousebutton", seen_event, &button, NULL);
    hive_bus_subscribe(x.r.bus, "sdl:mousewheel", seen_event, &wheel, NULL);

    SDL_Event e = { .type = SDL_MOUSEMOTION };
    e.motion.x = 120; e.motion.y = 80; e.motion.xrel = 3; e.motion.yrel = -4;
    e.motion.state = SDL_BUTTON_LMASK;
    push(&e);
    SDL_Event b = { .type = SDL_MOUSEBUTTONDOWN };
    b.button.button = SDL_BUTTON_RIGHT; b.button.state = SDL_PRESSED;
    b.button.x = 10; b.button.y = 20; b.button.clicks = 2;
    push(&b);
    SDL_Event w = { .type = SDL_MOUSEWHEEL };
    w.wheel.x = 0; w.wheel.y = -1;
    push(&w);
    rig_step(&x.r, 1 * MS);

    cr_expect_eq(motion.n, 1);
    cr_expect_eq(motion.v[0], 120);
    cr_expect_eq(motion.v[1], 80);
    cr_expect_eq(motion.v[2], 3);
    cr_expect_eq(motion.v[3], -4);
    cr_expect_eq(motion.v[4], SDL_BUTTON_LMASK);
    cr_expect_eq(button.n, 1);
    cr_expect_eq(button.v[0], SDL_BUTTON_RIGHT);
    cr_expect_eq(button.v[1], 1);
    cr_expect_eq(button.v[2], 10);
    cr_expect_eq(button.v[3], 20);
    cr_expect_eq(button.v[4], 2);
    cr_expect_eq(wheel.n, 1);
    cr_expect_eq(wheel.v[1], -1);
    sdl_rig_fini(&x);
}

Test(sdl_input, textinput_carries_utf8, .timeout = 10)
{
    sdl_rig x; sdl_rig_init(&x, &(hive_sdl_config){ .hidden = true });
    seen text = { 0 };
    hive_bus_subscribe(x.r.bus, "sdl:textinput", seen_event, &text, NULL);
    SDL_Event e = { .type = SDL_TEXTINPUT };
    snprintf(e.text.text, sizeof e.text.text, "h\xc3\xa9");
    push(&e);
    rig_step(&x.r, 1 * MS);
    cr_expect_eq(text.n, 1);
    cr_expect_str_eq(text.text, "h\xc3\xa9");
    sdl_rig_fini(&x);
}

Test(sdl_input, window_resize, .timeout = 10)
{
    sdl_rig x; sdl_rig_init(&x, &(hive_sdl_config){ .hidden = true, .resizable = true });
    seen rs = { .keys = { "width", "height" } };
    hive_bus_subscribe(x.r.bus, "sdl:window.resized", seen_event, &rs, NULL);
    SDL_Event e = { .type = SDL_WINDOWEVENT };
    e.window.event = SDL_WINDOWEVENT_SIZE_CHANGED;
    e.window.windowID = SDL_GetWindowID(hive_sdl_window(x.s));
    e.window.data1 = 640; e.window.data2 = 480;
    push(&e);
    rig_step(&x.r, 1 * MS);
    cr_expect_eq(rs.n, 1);
    cr_expect_eq(rs.v[0], 640);
    cr_expect_eq(rs.v[1], 480);
    sdl_rig_fini(&x);
}

static void quit_seen(const hive_event *ev, void *user) { ++*(int *)user; }

Test(sdl_input, quit_stops_the_engine_after_the_game_saw_it, .timeout = 10)
{
    setenv("SDL_VIDEODRIVER", "dummy", 0);
    hive_bus *bus = hive_bus_create(NULL);
    hive_engine *e = hive_engine_create(&(hive_engine_config){ .bus = bus });
    hive_sdl *s = hive_sdl_create(e, &(hive_sdl_config){ .hidden = true });
    cr_assert_not_null(s, "%s", SDL_GetError());
    int quits = 0;
    hive_bus_subscribe(bus, "sdl:quit", quit_seen, &quits, NULL);
    SDL_Event q = { .type = SDL_QUIT };
    push(&q);
    uint64_t t0 = hive_now_ns();
    cr_expect_eq(hive_engine_run(e), HIVE_OK);   /* returns after one frame */
    cr_expect_lt(hive_now_ns() - t0, 500 * MS);
    cr_expect_eq(quits, 1);
    hive_engine_counters st;
    hive_engine_stats(e, &st);
    cr_expect_eq(st.frames, 1);
    hive_sdl_destroy(s);
    hive_engine_destroy(e);
    hive_bus_destroy(bus);
}

static void stop_engine(hive_engine *e, int timer, void *user) { hive_engine_stop(e); }

Test(sdl_input, keep_running_on_quit, .timeout = 10)
{
    setenv("SDL_VIDEODRIVER", "dummy", 0);
    hive_bus *bus = hive_bus_create(NULL);
    hive_engine *e = hive_engine_create(&(hive_engine_config){ .bus = bus });
    hive_sdl *s = hive_sdl_create(e, &(hive_sdl_config){ .no_window = true, .keep_running_on_quit = true });
    cr_assert_not_null(s, "%s", SDL_GetError());
    cr_expect_null(hive_sdl_renderer(s));
    cr_expect_null(hive_sdl_window(s));
    int quits = 0;
    hive_bus_subscribe(bus, "sdl:quit", quit_seen, &quits, NULL);
    SDL_Event q = { .type = SDL_QUIT };
    push(&q);
    hive_engine_after(e, 100, stop_engine, NULL);
    /* The timer counts from the engine's time (its creation), not from
     * now: hive_sdl_create may take a while on a loaded machine. */
    uint64_t t0 = hive_engine_now(e);
    cr_expect_eq(hive_engine_run(e), HIVE_OK);
    cr_expect_geq(hive_now_ns() - t0, 95 * MS, "the quit did not stop the loop");
    cr_expect_eq(quits, 1);
    hive_sdl_destroy(s);
    hive_engine_destroy(e);
    hive_bus_destroy(bus);
}

Test(sdl_input, unheard_events_are_skipped, .timeout = 10)
{
    sdl_rig x; sdl_rig_init(&x, &(hive_sdl_config){ .no_window = true });
    SDL_Event e = { .type = SDL_KEYDOWN };
    e.key.keysym.sym = SDLK_b;
    push(&e);
    rig_step(&x.r, 1 * MS);
    hive_bus_counters c;
    hive_bus_stats(x.r.bus, &c);
    hive_event_id id = hive_bus_lookup(x.r.bus, "sdl:keydown");
    cr_expect_gt(id, 0);
    cr_expect_eq(hive_bus_count(x.r.bus, id), 0, "nobody listens: nothing published");
    sdl_rig_fini(&x);
}
