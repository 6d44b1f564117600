/*
 * main.c - hive-demo-client: a bus, an engine, a client, a window; the
 * game plugs in as bus subscribers (session, controls, autopilot, draw).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <SDL.h>
#include "demo/common/log.h"
#include "client.h"

static hive_engine *volatile g_engine;

static void on_signal(int sig)
{
    if (g_engine) hive_engine_stop(g_engine);
}

static void leave_after(hive_engine *e, int timer, void *user)
{
    demo_session_leave(user, "duration reached");
}

static void screenshot_due(hive_engine *e, int timer, void *user)
{
    demo_client *c = user;
    c->shot_due = true;
}

/* After the frame is drawn and before hive_sdl presents it (INT_MIN). */
static void take_screenshot(const hive_event *ev, void *user)
{
    demo_client *c = user;
    if (!c->shot_due || c->shot_done) return;
    c->shot_done = true;
    if (hive_sdl_screenshot(c->sdl, c->opts->screenshot) == 0) {
        int w, h;
        SDL_GetRendererOutputSize(hive_sdl_renderer(c->sdl), &w, &h);
        demo_say("hive-demo-client: saved %s (%dx%d)", c->opts->screenshot, w, h);
    } else {
        fprintf(stderr, "hive-demo-client: screenshot %s failed: %s\n", c->opts->screenshot, SDL_GetError());
        c->exit_code = 1;
    }
    demo_session_leave(c, "screenshot taken");
}

static bool have_display(void)
{
    const char *d = getenv("DISPLAY"), *w = getenv("WAYLAND_DISPLAY");
    return (d && *d) || (w && *w);
}

static void print_summary(demo_client *c)
{
    const net_stats *st = &c->st;
    uint64_t expected = st->snapshots ? (uint64_t)(st->last_seq - st->first_seq) + 1 : 0;
    double lost = expected > st->snapshots ? 100.0 * (double)(expected - st->snapshots) / (double)expected : 0;
    double rtt = st->rtt_count ? st->rtt_sum / (double)st->rtt_count : -1;
    const char *close = c->closed ? demo_close_text(c->close_reason) : "none";
    hive_net_stats ns = { 0 };
    hive_client_stats(c->cli, &ns);
    demo_say("hive-demo-client %s summary joined=%d snapshots=%llu lost_pct=%.1f rtt_ms=%.2f tags_seen=%llu "
             "tagged_others=%llu chats_sent=%llu corrections=%u reconnects=%u resumes=%u spectator=%d "
             "game_packets=%llu remote_events=%llu close=%s",
             c->opts->name, c->joined || c->ever_joined, (unsigned long long)st->snapshots, lost, rtt,
             (unsigned long long)c->tags_seen, (unsigned long long)c->my_tags,
             (unsigned long long)c->chats_sent, c->pred.corrections, c->reconnects, c->resumes, c->opts->spectate,
             (unsigned long long)c->game_packets, (unsigned long long)ns.remote_events, close);
}

int main(int argc, char **argv)
{
    demo_opts opts;
    int prc = demo_opts_parse(&opts, argc, argv, false);
    if (prc != 0) return prc > 0 ? 0 : 2;
    demo_log_init(opts.quiet);
    /* No display: SDL's dummy driver still gives a renderer to draw into
     * (and to take screenshots from), just no window on a screen. */
    if (!opts.headless && !have_display() && !getenv("SDL_VIDEODRIVER"))
        setenv("SDL_VIDEODRIVER", "dummy", 1);

    static demo_client c;
    c.opts = &opts;
    demo_opts_addr(&opts, c.addr, sizeof c.addr);
    int rc = 1;

    c.bus = hive_bus_create(NULL);
    if (!c.bus) goto out;
    c.engine = hive_engine_create(&(hive_engine_config){
        .bus = c.bus, .tick_hz = opts.tick_hz, .net_hz = opts.net_hz });
    hive_client_config ccfg = {
        .app = DEMO_APP, .app_version = DEMO_APP_VERSION, .conntype = opts.spectate ? "spectator" : opts.bot ? "bot" : "player",
        .tls = { .cert_file = opts.cert, .key_file = opts.key, .ca_file = opts.ca,
                 .insecure_skip_verify = opts.insecure },
        .netsim = opts.netsim,
        /* A dropped Wi-Fi link comes back by itself: the demo rejoins. */
        .stats_interval_ms = 250,   /* the network panel's figures (session.c) */
        .reconnect_attempts = 20, .reconnect_delay_ms = 250, .reconnect_max_delay_ms = 4000,
    };
    c.cli = hive_client_create(&ccfg, c.bus);
    if (!c.engine || !c.cli) {
        fprintf(stderr, "hive-demo-client: cannot create the %s: %s\n", c.engine ? "client" : "engine",
                hive_create_error()->message);
        goto out;
    }
    /* Attached first, so the loop waits between frames in the network
     * (a packet wakes it at once) rather than in SDL's event queue. */
    int svc = hive_engine_attach_client(c.engine, c.cli);
    if (!opts.headless) {
        char title[96];
        snprintf(title, sizeof title, "Hive arena - %s", opts.name);
        c.sdl = hive_sdl_create(c.engine, &(hive_sdl_config){
            .title = title, .width = SCREEN_W, .height = SCREEN_H, .resizable = true,
            .clear_r = 14, .clear_g = 16, .clear_b = 24 });
        if (!c.sdl) {
            fprintf(stderr, "hive-demo-client: no window: %s (try --headless, or SDL_VIDEODRIVER=dummy)\n",
                    SDL_GetError());
            goto out;
        }
    }
    if ((rc = demo_session_install(&c)) < 0 || (rc = demo_controls_install(&c)) < 0 ||
        (rc = demo_autopilot_install(&c)) < 0 || (rc = demo_draw_install(&c)) < 0) {
        fprintf(stderr, "hive-demo-client: setup failed: %s\n", hive_strerror(rc));
        rc = 1;
        goto out;
    }
    if (opts.screenshot) {
        hive_engine_after(c.engine, (uint64_t)(opts.after * 1000), screenshot_due, &c);
        hive_bus_subscribe(c.bus, HIVE_EV_ENGINE_FRAME, take_screenshot, &c, &(hive_sub_opts){ .priority = -100 });
    }
    if (opts.duration > 0) hive_engine_after(c.engine, (uint64_t)(opts.duration * 1000), leave_after, &c);

    if ((rc = hive_client_connect(c.cli, c.addr)) < 0) {
        fprintf(stderr, "hive-demo-client: cannot connect to %s: %s\n", c.addr, hive_strerror(rc));
        rc = 1;
        goto out;
    }
    g_engine = c.engine;
    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    hive_engine_run(c.engine);

    g_engine = NULL;
    hive_engine_remove_service(c.engine, svc);
    hive_client_stop(c.cli);
    print_summary(&c);
    /* Success: we played, and the game ended by a proper close. */
    bool clean = c.closed && (c.close_reason == HIVE_CLOSE_NORMAL || c.close_reason == HIVE_CLOSE_SERVER_SHUTDOWN);
    /* A spectator succeeds by having watched. */
    bool took_part = opts.spectate ? c.st.snapshots > 0 : c.joined;
    rc = c.exit_code ? c.exit_code : (took_part && clean) ? 0 : 1;
    if (opts.screenshot && !c.shot_done) {
        fprintf(stderr, "hive-demo-client: the screenshot was never taken\n");
        rc = 1;
    }
out:
    demo_text_destroy(c.text);
    hive_sdl_destroy(c.sdl);
    hive_client_destroy(c.cli);
    hive_engine_destroy(c.engine);
    hive_msg_free(&c.msg);
    hive_bus_destroy(c.bus);
    return rc;
}
