/* A whole session: the real server and two bot clients, headless, for a
 * few seconds. What the server's bus saw is in its log; what each client
 * saw is in its summary line. */
#include "proto_checks.h"

Test(session, server_and_two_bots_play_and_part_cleanly, .timeout = 30)
{
    char dir[64];
    make_tmpdir(dir, sizeof dir);
    int port;
    pid_t srv = start_server(dir, "9", &port);

    char bin[PATH_MAX], portstr[16];
    bin_path(bin, sizeof bin, "hive-demo-client");
    snprintf(portstr, sizeof portstr, "%d", port);
    const char *names[2] = { "ada", "bob" };
    pid_t cli[2];
    char logs[2][PATH_MAX];
    for (int i = 0; i < 2; i++) {
        snprintf(logs[i], sizeof logs[i], "%s/%s.log", dir, names[i]);
        char seed[16];
        snprintf(seed, sizeof seed, "%d", i + 1);
        char *argv[] = { bin, "--host", "127.0.0.1", "--port", portstr, "--name", (char *)names[i],
                         "--bot", "--headless", "--seed", seed, "--duration", "7", NULL };
        cli[i] = spawn(argv, NULL, logs[i]);
    }
    for (int i = 0; i < 2; i++) cr_expect_eq(wait_exit(cli[i], 20000), 0, "client %s failed", names[i]);
    cr_expect_eq(wait_exit(srv, 20000), 0, "server failed");

    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/server.log", dir);
    char *log = slurp(path);
    cr_assert_not_null(log);
    /* The bus saw both players arrive, handshake and join... */
    cr_expect_eq(count_of(log, "net:server.connection.accept"), 2, "%s", log);
    cr_expect_eq(count_of(log, "net:server.connection.handshakecomplete"), 2);
    cr_expect_eq(count_of(log, "arena:join "), 2);
    cr_expect(strstr(log, "ada joined") && strstr(log, "bob joined"));
    /* ...play: at least one tag, announced by the first-tag trigger... */
    cr_expect_geq(count_of(log, "arena:tag "), 1, "nobody got tagged:\n%s", log);
    cr_expect_eq(count_of(log, "First tag of the game"), 1);
    /* ...and leave with a normal close, each. */
    cr_expect_eq(count_of(log, "net:server.connection.close"), 2);
    cr_expect_eq(count_of(log, ": normal (by the client)"), 2);
    cr_expect_eq(count_of(log, "arena:leave "), 2);
    cr_expect(strstr(log, "net:server.shutdown"));
    const char *tag = "hive-demo-server summary";
    cr_expect_eq(summary_value(log, tag, "joins"), 2);
    cr_expect_eq(summary_value(log, tag, "clean"), 2);
    cr_expect_geq(summary_value(log, tag, "tags"), 1);
    cr_expect_geq(summary_value(log, tag, "snapshots"), 300, "2 players x 30 Hz x ~6 s");
    free(log);

    for (int i = 0; i < 2; i++) {
        char *c = slurp(logs[i]);
        cr_assert_not_null(c);
        char ctag[64];
        snprintf(ctag, sizeof ctag, "hive-demo-client %s summary", names[i]);
        cr_expect_eq(summary_value(c, ctag, "joined"), 1, "%s", c);
        /* 30 snapshots a second for ~6 s, on loopback: almost none lost. */
        cr_expect_geq(summary_value(c, ctag, "snapshots"), 150, "%s", c);
        cr_expect_leq(summary_value(c, ctag, "lost_pct"), 5.0);
        cr_expect_geq(summary_value(c, ctag, "rtt_ms"), 0, "no ping came back: %s", c);
        cr_expect_geq(summary_value(c, ctag, "tags_seen"), 1);
        cr_expect(strstr(c, "close=normal"), "%s", c);
        free(c);
    }
    remove_tmpdir(dir);
}

Test(session, a_connection_that_never_joins_is_dropped, .timeout = 30)
{
    /* A plain Hive client (no demo:join) is closed by the server's join
     * timer after 5 s: the timer, not a per-tick check. */
    char dir[64];
    make_tmpdir(dir, sizeof dir);
    int port;
    pid_t srv = start_server(dir, "7", &port);

    hive_bus *bus = hive_bus_create(NULL);
    hive_client *c = hive_client_create(&(hive_client_config){ .app = DEMO_APP }, bus);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    cr_assert_eq(hive_client_connect(c, addr), HIVE_OK);
    cr_assert_eq(hive_client_wait_connected(c, 5000), HIVE_OK);
    cr_expect_eq(hive_client_wait_closed(c, 8000), HIVE_OK);
    cr_expect_eq(hive_client_close_reason(c), DEMO_CLOSE_NO_JOIN);
    hive_client_destroy(c);
    hive_bus_destroy(bus);
    cr_expect_eq(wait_exit(srv, 15000), 0);

    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/server.log", dir);
    char *log = slurp(path);
    cr_expect(strstr(log, "never joined (by the server)"), "%s", log);
    cr_expect_eq(count_of(log, "arena:join "), 0);
    free(log);
    remove_tmpdir(dir);
}

/* The same game through the network simulator: 150 ms each way, 10 % of
 * the unreliable snapshots lost, and the link cut every ~2 s. The bot
 * resumes its session after each cut; its summary shows the loss, the
 * latency and the resumes, and the server saw one player join, once. */
Test(session, a_bot_plays_through_the_network_simulator, .timeout = 40)
{
    char dir[64];
    make_tmpdir(dir, sizeof dir);
    int port;
    pid_t srv = start_server(dir, "10", &port);
    char bin[PATH_MAX], portstr[16], log[PATH_MAX];
    bin_path(bin, sizeof bin, "hive-demo-client");
    snprintf(portstr, sizeof portstr, "%d", port);
    snprintf(log, sizeof log, "%s/bot.log", dir);
    char *argv[] = { bin, "--host", "127.0.0.1", "--port", portstr, "--name", "cat", "--bot", "--headless",
                     "--netsim", "loss=10%,latency=150ms,cut_every=2s,seed=5", "--duration", "7", NULL };
    cr_expect_eq(wait_exit(spawn(argv, NULL, log), 25000), 0, "client failed");
    cr_expect_eq(wait_exit(srv, 25000), 0, "server failed");
    char *c = slurp(log);
    cr_assert_not_null(c);
    const char *tag = "hive-demo-client cat summary";
    cr_expect_eq(summary_value(c, tag, "joined"), 1, "%s", c);
    cr_expect_geq(summary_value(c, tag, "snapshots"), 60, "%s", c);
    cr_expect_geq(summary_value(c, tag, "lost_pct"), 2.0, "10 %% loss shows: %s", c);
    cr_expect_geq(summary_value(c, tag, "rtt_ms"), 290, "150 ms each way: %s", c);
    cr_expect_geq(summary_value(c, tag, "resumes"), 1, "%s", c);
    cr_expect_eq(summary_value(c, tag, "reconnects"), 0, "every cut was resumed: %s", c);
    cr_expect(strstr(c, "close=normal"), "%s", c);
    free(c);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/server.log", dir);
    char *slog = slurp(path);
    cr_assert_not_null(slog);
    cr_expect_eq(summary_value(slog, "hive-demo-server summary", "joins"), 1, "one session throughout:\n%s", slog);
    free(slog);
    remove_tmpdir(dir);
}

/* A spectator (hive-demo-client --spectate) beside two bots: it never
 * joins, gets no game packet at all, and builds its view - positions,
 * names, tags, chat - from remote subscriptions alone. */
Test(session, a_spectator_watches_from_remote_subscriptions_alone, .timeout = 40)
{
    char dir[64];
    make_tmpdir(dir, sizeof dir);
    int port;
    pid_t srv = start_server(dir, "10", &port);

    char bin[PATH_MAX], portstr[16];
    bin_path(bin, sizeof bin, "hive-demo-client");
    snprintf(portstr, sizeof portstr, "%d", port);
    const char *names[3] = { "ada", "bob", "eve" };
    pid_t cli[3];
    char logs[3][PATH_MAX];
    for (int i = 0; i < 3; i++) {
        snprintf(logs[i], sizeof logs[i], "%s/%s.log", dir, names[i]);
        char seed[16];
        snprintf(seed, sizeof seed, "%d", i + 1);
        char *bot[] = { bin, "--host", "127.0.0.1", "--port", portstr, "--name", (char *)names[i],
                        "--bot", "--headless", "--seed", seed, "--duration", "8", NULL };
        char *spec[] = { bin, "--host", "127.0.0.1", "--port", portstr, "--name", (char *)names[i],
                         "--spectate", "--headless", "--duration", "7", NULL };
        cli[i] = spawn(i < 2 ? bot : spec, NULL, logs[i]);
    }
    for (int i = 0; i < 3; i++) cr_expect_eq(wait_exit(cli[i], 25000), 0, "client %s failed", names[i]);
    cr_expect_eq(wait_exit(srv, 25000), 0, "server failed");

    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/server.log", dir);
    char *log = slurp(path);
    cr_assert_not_null(log);
    cr_expect(strstr(log, "clients may subscribe to: arena:snapshot (unreliable), arena:roster, arena:**"),
              "the start log lists the exports:\n%s", log);
    const char *tag = "hive-demo-server summary";
    cr_expect_eq(summary_value(log, tag, "joins"), 2, "the spectator never joined");
    cr_expect_eq(summary_value(log, tag, "spectators"), 1);
    cr_expect_eq(summary_value(log, tag, "remote_dropped"), 0);
    free(log);

    char *c = slurp(logs[2]);
    cr_assert_not_null(c);
    const char *ctag = "hive-demo-client eve summary";
    cr_expect_eq(summary_value(c, ctag, "spectator"), 1, "%s", c);
    cr_expect_eq(summary_value(c, ctag, "joined"), 0);
    cr_expect_eq(summary_value(c, ctag, "game_packets"), 0, "no game packets: %s", c);
    /* Positions: 30 a second for about 6 s of two players playing. */
    cr_expect_geq(summary_value(c, ctag, "snapshots"), 120, "%s", c);
    cr_expect_geq(summary_value(c, ctag, "remote_events"), 120);
    cr_expect_geq(summary_value(c, ctag, "tags_seen"), 1, "%s", c);
    /* Names from arena:roster/join: the tag line says who. */
    cr_expect(strstr(c, "remote:arena:tag") && (strstr(c, "ada tagged bob") || strstr(c, "bob tagged ada")),
              "the spectator knows the players' names: %s", c);
    cr_expect(strstr(c, "close=normal"), "%s", c);
    free(c);
    remove_tmpdir(dir);
}

/* The same arena over ws:// (a browser's transport): the native client
 * dials WebSocket and plays as over ENet. */
Test(session, a_bot_plays_over_websocket, .timeout = 40)
{
    char dir[64];
    make_tmpdir(dir, sizeof dir);
    char bin[PATH_MAX], log[PATH_MAX];
    bin_path(bin, sizeof bin, "hive-demo-server");
    snprintf(log, sizeof log, "%s/server.log", dir);
    char *sargv[] = { bin, "--host", "127.0.0.1", "--port", "0", "--transport", "ws", "--duration", "6", NULL };
    pid_t srv = spawn(sargv, NULL, log);
    char *text = wait_for_text(log, "listening on ws://127.0.0.1:", 10000);
    cr_assert_not_null(text, "the server did not start");
    int port = atoi(strstr(text, "listening on ws://127.0.0.1:") + strlen("listening on ws://127.0.0.1:"));
    free(text);
    cr_assert_gt(port, 0);
    char cbin[PATH_MAX], portstr[16], clog[PATH_MAX];
    bin_path(cbin, sizeof cbin, "hive-demo-client");
    snprintf(portstr, sizeof portstr, "%d", port);
    snprintf(clog, sizeof clog, "%s/bot.log", dir);
    char *argv[] = { cbin, "--host", "127.0.0.1", "--port", portstr, "--transport", "ws", "--name", "web", "--bot",
                     "--headless", "--duration", "4", NULL };
    cr_expect_eq(wait_exit(spawn(argv, NULL, clog), 25000), 0, "client failed");
    cr_expect_eq(wait_exit(srv, 25000), 0, "server failed");
    char *c = slurp(clog);
    cr_assert_not_null(c);
    const char *tag = "hive-demo-client web summary";
    cr_expect_eq(summary_value(c, tag, "joined"), 1, "%s", c);
    cr_expect_geq(summary_value(c, tag, "snapshots"), 60, "%s", c);
    cr_expect_geq(summary_value(c, tag, "rtt_ms"), 0, "%s", c);
    cr_expect(strstr(c, "close=normal"), "%s", c);
    free(c);
    remove_tmpdir(dir);
}
