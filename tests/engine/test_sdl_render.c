/* The window and renderer: automatic clear/present around engine:frame,
 * and PNG screenshots of what was drawn. */
#include <SDL_image.h>
#include <string.h>
#include <unistd.h>
#include "sdl_util.h"

typedef struct painter { hive_sdl *s; int frames; const char *shot; int shot_rc; } painter;

/* Left half red, a green square in the right half. */
static void paint(const hive_event *ev, void *user)
{
    painter *p = user;
    SDL_Renderer *r = hive_sdl_renderer(p->s);
    SDL_SetRenderDrawColor(r, 200, 20, 20, 255);
    SDL_RenderFillRect(r, &(SDL_Rect){ 0, 0, 160, 240 });
    SDL_SetRenderDrawColor(r, 20, 200, 20, 255);
    SDL_RenderFillRect(r, &(SDL_Rect){ 200, 100, 40, 40 });
    p->frames++;
}

static void shoot(const hive_event *ev, void *user)
{
    painter *p = user;
    if (p->shot) p->shot_rc = hive_sdl_screenshot(p->s, p->shot);
}

static Uint32 pixel(SDL_Surface *s, int x, int y)
{
    Uint8 *row = (Uint8 *)s->pixels + y * s->pitch;
    Uint32 v = 0;
    memcpy(&v, row + x * s->format->BytesPerPixel, s->format->BytesPerPixel);
    return v;
}

Test(sdl_render, screenshot_saves_the_drawn_frame, .timeout = 10)
{
    sdl_rig x;
    sdl_rig_init(&x, &(hive_sdl_config){ .width = 320, .height = 240, .hidden = true,
                                         .clear_r = 10, .clear_g = 10, .clear_b = 40 });
    char path[] = "/tmp/hive-shot-XXXXXX.png";
    int fd = mkstemps(path, 4);
    cr_assert_geq(fd, 0);
    close(fd);
    painter p = { .s = x.s, .shot = path };
    hive_bus_subscribe(x.r.bus, "engine:frame", paint, &p, &(hive_sub_opts){ .priority = 10 });
    hive_bus_subscribe(x.r.bus, "engine:frame", shoot, &p, &(hive_sub_opts){ .priority = -10 });
    rig_step(&x.r, TICK60);
    cr_expect_eq(p.frames, 1);
    cr_assert_eq(p.shot_rc, HIVE_OK, "%s", SDL_GetError());

    SDL_Surface *img = IMG_Load(path);
    cr_assert_not_null(img, "%s", IMG_GetError());
    cr_expect_eq(img->w, 320);
    cr_expect_eq(img->h, 240);
    SDL_Surface *rgb = SDL_ConvertSurfaceFormat(img, SDL_PIXELFORMAT_RGBA32, 0);
    cr_assert_not_null(rgb);
    Uint8 r, g, b, a;
    SDL_GetRGBA(pixel(rgb, 10, 10), rgb->format, &r, &g, &b, &a);
    cr_expect(r == 200 && g == 20 && b == 20, "red half: %d,%d,%d", r, g, b);
    SDL_GetRGBA(pixel(rgb, 220, 120), rgb->format, &r, &g, &b, &a);
    cr_expect(r == 20 && g == 200 && b == 20, "green square: %d,%d,%d", r, g, b);
    SDL_GetRGBA(pixel(rgb, 300, 10), rgb->format, &r, &g, &b, &a);
    cr_expect(r == 10 && g == 10 && b == 40, "clear colour: %d,%d,%d", r, g, b);
    SDL_FreeSurface(rgb);
    SDL_FreeSurface(img);
    unlink(path);
    sdl_rig_fini(&x);
}

Test(sdl_render, screenshot_errors, .timeout = 10)
{
    sdl_rig x; sdl_rig_init(&x, &(hive_sdl_config){ .no_window = true });
    cr_expect_eq(hive_sdl_screenshot(x.s, "/tmp/x.png"), HIVE_ESTATE);
    cr_expect_eq(hive_sdl_screenshot(x.s, NULL), HIVE_EINVAL);
    cr_expect_eq(hive_sdl_screenshot(NULL, "/tmp/x.png"), HIVE_EINVAL);
    sdl_rig_fini(&x);

    sdl_rig y; sdl_rig_init(&y, &(hive_sdl_config){ .hidden = true, .width = 64, .height = 64 });
    cr_expect_eq(hive_sdl_screenshot(y.s, "/nonexistent-dir/shot.png"), HIVE_EIO);
    sdl_rig_fini(&y);
}

Test(sdl_render, window_has_the_configured_size_and_title, .timeout = 10)
{
    sdl_rig x;
    sdl_rig_init(&x, &(hive_sdl_config){ .title = "arena", .width = 400, .height = 300, .hidden = true });
    int w = 0, h = 0;
    SDL_GetWindowSize(hive_sdl_window(x.s), &w, &h);
    cr_expect_eq(w, 400);
    cr_expect_eq(h, 300);
    cr_expect_str_eq(SDL_GetWindowTitle(hive_sdl_window(x.s)), "arena");
    cr_expect_not_null(hive_sdl_renderer(x.s));
    sdl_rig_fini(&x);
    hive_sdl_destroy(NULL);
}

Test(sdl_render, a_failed_create_says_why, .timeout = 10)
{
    setenv("SDL_VIDEODRIVER", "no-such-driver", 1);   /* this test's process only */
    rig r; rig_init(&r, NULL);
    cr_expect_null(hive_sdl_create(r.e, &(hive_sdl_config){ .hidden = true }));
    const hive_create_error_info *err = hive_create_error();
    cr_expect_eq(err->code, HIVE_EIO, "code %d (%s)", err->code, err->message);
    cr_expect_neq(strstr(err->message, "hive_sdl_create: SDL: "), NULL, "message \"%s\"", err->message);
    cr_expect_null(hive_sdl_create(NULL, NULL));
    cr_expect_eq(hive_create_error()->code, HIVE_EINVAL);
    rig_fini(&r);
}
