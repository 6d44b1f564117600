/* The client under a real X server (Xvfb): --screenshot saves the window
 * as a PNG of the window's size, and it shows a game, not a blank. */
#include <SDL.h>
#include <SDL_image.h>
#include "proto_checks.h"

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

Test(screenshot, client_window_under_xvfb, .timeout = 30)
{
    cr_assert_eq(access("/usr/bin/xvfb-run", X_OK), 0, "xvfb-run is missing (apt-get install xvfb xauth)");
    char dir[64];
    make_tmpdir(dir, sizeof dir);
    int port;
    pid_t srv = start_server(dir, "9", &port);
    char bin[PATH_MAX], portstr[16], shot[PATH_MAX], log[PATH_MAX];
    bin_path(bin, sizeof bin, "hive-demo-client");
    snprintf(portstr, sizeof portstr, "%d", port);

    /* Two bots so there is a game to see. */
    pid_t bots[2];
    const char *names[2] = { "ada", "bob" };
    for (int i = 0; i < 2; i++) {
        snprintf(log, sizeof log, "%s/%s.log", dir, names[i]);
        char *argv[] = { bin, "--host", "127.0.0.1", "--port", portstr, "--name", (char *)names[i],
                         "--bot", "--headless", "--seed", i ? "2" : "1", "--duration", "7", "--quiet", NULL };
        bots[i] = spawn(argv, NULL, log);
    }

    snprintf(shot, sizeof shot, "%s/shot.png", dir);
    snprintf(log, sizeof log, "%s/cy.log", dir);
    char *argv[] = { "/usr/bin/xvfb-run", "-a", "-s", "-screen 0 1280x800x24", bin, "--host", "127.0.0.1",
                     "--port", portstr, "--name", "cy", "--bot", "--seed", "3",
                     "--screenshot", shot, "--after", "3", NULL };
    /* Under X11 the system's own libraries (D-Bus, Mesa) leave memory
     * behind at exit, which is not ours to fix; the same client is
     * leak-checked on SDL's dummy driver by the other demo tests. */
    const char *env[] = { "SDL_VIDEODRIVER=", "ASAN_OPTIONS=detect_leaks=0:exitcode=23", NULL };
    int rc = wait_exit(spawn(argv, env, log), 25000);
    char *out = slurp(log);
    cr_expect_eq(rc, 0, "the windowed client failed:\n%s", out);
    cr_expect(out && strstr(out, "saved"), "%s", out);
    free(out);

    /* The PNG header says the window's size... */
    FILE *f = fopen(shot, "rb");
    cr_assert_not_null(f, "no screenshot at %s", shot);
    unsigned char hdr[24];
    cr_assert_eq(fread(hdr, 1, sizeof hdr, f), sizeof hdr);
    fclose(f);
    cr_expect_eq(memcmp(hdr, "\x89PNG\r\n\x1a\n", 8), 0, "not a PNG");
    cr_expect_eq(memcmp(hdr + 12, "IHDR", 4), 0);
    cr_expect_eq(be32(hdr + 16), 1120);
    cr_expect_eq(be32(hdr + 20), 700);

    /* ...and the picture is a game: many colours, not one. */
    SDL_Surface *img = IMG_Load(shot);
    cr_assert_not_null(img, "%s", IMG_GetError());
    SDL_Surface *rgb = SDL_ConvertSurfaceFormat(img, SDL_PIXELFORMAT_RGBA32, 0);
    cr_assert_not_null(rgb);
    uint32_t seen[256];
    int nseen = 0;
    for (int y = 0; y < rgb->h && nseen < 256; y += 3) {
        const uint32_t *row = (const uint32_t *)((const uint8_t *)rgb->pixels + y * rgb->pitch);
        for (int x = 0; x < rgb->w && nseen < 256; x += 3) {
            int k = 0;
            while (k < nseen && seen[k] != row[x]) k++;
            if (k == nseen) seen[nseen++] = row[x];
        }
    }
    cr_expect_gt(nseen, 1, "the screenshot is one flat colour");
    cr_expect_geq(nseen, 40, "only %d colours: no text, players or HUD?", nseen);
    SDL_FreeSurface(rgb);
    SDL_FreeSurface(img);

    for (int i = 0; i < 2; i++) cr_expect_eq(wait_exit(bots[i], 15000), 0);
    cr_expect_eq(wait_exit(srv, 15000), 0);
    remove_tmpdir(dir);
}
