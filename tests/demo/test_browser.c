/* The arena in a real browser: headless Chromium (driven by puppeteer-core,
 * tests/web/arena_browser.mjs) loads the page from the demo server's web
 * listener, joins, walks, chats, loses its link and resumes, takes a
 * screenshot and leaves - while two SDL bots (on SDL's dummy video driver)
 * play the same game over ENet. */
#include <SDL.h>
#include <SDL_image.h>
#include "proto_checks.h"

#define TAG "hive-arena-browser"

Test(browser, a_browser_player_and_sdl_bots_play_one_game, .timeout = 90)
{
    const char *chromium = getenv("HIVE_CHROMIUM") ? getenv("HIVE_CHROMIUM") : "/usr/bin/chromium";
    cr_assert_eq(access(chromium, X_OK), 0, "%s is missing (apt-get install chromium)", chromium);
    char dir[64];
    make_tmpdir(dir, sizeof dir);
    char bin[PATH_MAX], log[PATH_MAX], root[PATH_MAX], script[PATH_MAX];
    bin_path(bin, sizeof bin, "hive-demo-server");
    snprintf(log, sizeof log, "%s/server.log", dir);
    snprintf(root, sizeof root, "%s/../../web", bindir());
    snprintf(script, sizeof script, "%s/../../tests/web/arena_browser.mjs", bindir());
    char *sargv[] = { bin, "--host", "127.0.0.1", "--port", "0", "--web", "0", "--web-root", root,
                      "--duration", "40", NULL };
    pid_t srv = spawn(sargv, NULL, log);
    char *text = wait_for_text(log, "web arena at http://127.0.0.1:", 10000);
    cr_assert_not_null(text, "the server did not start its web listener:\n%s", text ? text : "");
    int port = atoi(strstr(text, "listening on enet://127.0.0.1:") + strlen("listening on enet://127.0.0.1:"));
    const char *w = strstr(text, "web arena at ") + strlen("web arena at ");
    char url[128];
    snprintf(url, sizeof url, "%.*s", (int)strcspn(w, " \n"), w);
    free(text);
    cr_assert_gt(port, 0);

    /* Two SDL bots: real clients with a renderer, on the dummy driver. */
    char cbin[PATH_MAX], portstr[16];
    bin_path(cbin, sizeof cbin, "hive-demo-client");
    snprintf(portstr, sizeof portstr, "%d", port);
    const char *names[2] = { "ada", "bob" };
    const char *env[] = { "SDL_VIDEODRIVER=dummy", NULL };
    pid_t bots[2];
    for (int i = 0; i < 2; i++) {
        char blog[PATH_MAX];
        snprintf(blog, sizeof blog, "%s/%s.log", dir, names[i]);
        char *argv[] = { cbin, "--host", "127.0.0.1", "--port", portstr, "--name", (char *)names[i], "--bot",
                         "--seed", i ? "2" : "1", "--duration", "30", "--quiet", NULL };
        bots[i] = spawn(argv, env, blog);
    }

    /* The browser player. */
    char shot[PATH_MAX], blog[PATH_MAX];
    snprintf(shot, sizeof shot, "%s/web.png", dir);
    snprintf(blog, sizeof blog, "%s/browser.log", dir);
    const char *node = getenv("HIVE_NODE") ? getenv("HIVE_NODE") : "node";
    char *nargv[] = { "/usr/bin/env", (char *)node, script, url, shot, NULL };
    int rc = wait_exit(spawn(nargv, NULL, blog), 60000);
    char *out = slurp(blog);
    cr_assert_not_null(out);
    cr_expect_eq(rc, 0, "the browser player failed:\n%s", out);
    cr_expect_eq(summary_value(out, TAG, "joined"), 1, "%s", out);
    cr_expect_geq(summary_value(out, TAG, "snapshots"), 90, "%s", out);
    cr_expect_geq(summary_value(out, TAG, "others"), 2, "the page saw both bots:\n%s", out);
    cr_expect_geq(summary_value(out, TAG, "moved"), 20, "%s", out);
    cr_expect_eq(summary_value(out, TAG, "chat_echo"), 1, "%s", out);
    cr_expect_geq(summary_value(out, TAG, "resumes"), 1, "%s", out);
    cr_expect_eq(summary_value(out, TAG, "bad_snapshots"), 0, "%s", out);
    cr_expect_eq(summary_value(out, TAG, "errors"), 0, "%s", out);
    cr_expect(strstr(out, "close=normal"), "%s", out);
    free(out);

    /* The screenshot is the game: the page's size, and many colours. */
    SDL_Surface *img = IMG_Load(shot);
    cr_assert_not_null(img, "no screenshot: %s", IMG_GetError());
    cr_expect_eq(img->w, 1120);
    cr_expect_eq(img->h, 700);
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
    cr_expect_geq(nseen, 40, "only %d colours: a blank page?", nseen);
    SDL_FreeSurface(rgb);
    SDL_FreeSurface(img);

    for (int i = 0; i < 2; i++) {
        kill(bots[i], SIGINT);
        cr_expect_eq(wait_exit(bots[i], 15000), 0, "bot %s", names[i]);
    }
    kill(srv, SIGINT);
    cr_expect_eq(wait_exit(srv, 15000), 0);
    /* The server saw one game: three players who all left cleanly, and
     * the browser's chat line. */
    char *s = slurp(log);
    cr_assert_not_null(s);
    const char *st = "hive-demo-server summary";
    cr_expect_eq(summary_value(s, st, "joins"), 3, "%s", s);
    cr_expect_eq(summary_value(s, st, "leaves"), summary_value(s, st, "clean"), "%s", s);
    cr_expect_geq(summary_value(s, st, "chats"), 1, "%s", s);
    cr_expect(strstr(s, "net:server.connection.resumed"), "the browser's session resumed:\n%s", s);
    free(s);
    remove_tmpdir(dir);
}
