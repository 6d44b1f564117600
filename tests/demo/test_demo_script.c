/* `make demo` is the first thing a newcomer runs: tools/demo.sh on a
 * machine without a display must play a session and say it went right. */
#include "proto_checks.h"

Test(demo_script, headless_session_reports_ok, .timeout = 30)
{
    char dir[64], script[PATH_MAX + 32], out[PATH_MAX], bdir[PATH_MAX];
    make_tmpdir(dir, sizeof dir);
    snprintf(bdir, sizeof bdir, "%s", bindir());
    snprintf(script, sizeof script, "%s/../../tools/demo.sh", bdir);
    cr_assert_eq(access(script, R_OK), 0, "no %s", script);
    snprintf(out, sizeof out, "%s/out", dir);
    char *argv[] = { "/bin/sh", script, bdir, NULL };
    const char *env[] = { "HIVE_DEMO_SECONDS=8", "HIVE_DEMO_HEADLESS=1", NULL };
    int rc = wait_exit(spawn(argv, env, out), 25000);
    char *text = slurp(out);
    cr_assert_not_null(text);
    cr_expect_eq(rc, 0, "demo.sh failed:\n%s", text);
    cr_expect(strstr(text, "demo: OK"), "%s", text);
    /* The live log shows the session as the bus saw it... */
    cr_expect_eq(count_of(text, "arena:join "), 3, "%s", text);
    cr_expect_geq(count_of(text, "net:server.connection.handshakecomplete"), 3);
    cr_expect_geq(count_of(text, "arena:tag "), 1);
    cr_expect_eq(count_of(text, "net:server.connection.close"), 3);
    cr_expect_eq(count_of(text, "server_shutdown (by the server)"), 1, "the late bot stays to the end");
    /* ...and the summary the numbers. */
    cr_expect(strstr(text, "== summary"));
    cr_expect(strstr(text, "round trip:"), "%s", text);
    cr_expect(strstr(text, "3 joined, 3 left (3 cleanly)"), "%s", text);
    free(text);
    remove_tmpdir(dir);
}

/* The bad network: every client over 10 % loss and 150 ms each
 * way, its link cut every few seconds. The game plays on, the players
 * resume their sessions (none starts over), and the summary counts it. */
Test(demo_script, bad_network_session_resumes, .timeout = 60)
{
    char dir[64], script[PATH_MAX + 32], out[PATH_MAX], bdir[PATH_MAX];
    make_tmpdir(dir, sizeof dir);
    snprintf(bdir, sizeof bdir, "%s", bindir());
    snprintf(script, sizeof script, "%s/../../tools/demo.sh", bdir);
    snprintf(out, sizeof out, "%s/out", dir);
    char *argv[] = { "/bin/sh", script, bdir, NULL };
    const char *env[] = { "HIVE_DEMO_SECONDS=20", "HIVE_DEMO_HEADLESS=1",
                          "HIVE_DEMO_NETSIM=loss=10%,latency=150ms,cut_every=8s", NULL };
    int rc = wait_exit(spawn(argv, env, out), 50000);
    char *text = slurp(out);
    cr_assert_not_null(text);
    cr_expect_eq(rc, 0, "demo.sh failed:\n%s", text);
    cr_expect(strstr(text, "demo: OK"), "%s", text);
    cr_expect(strstr(text, "3 joined, 3 left (3 cleanly)"), "%s", text);
    const char *r = strstr(text, "resumes:    ");
    cr_assert_not_null(r, "%s", text);
    cr_expect_gt(atoi(r + strlen("resumes:    ")), 0, "%s", text);
    cr_expect_eq(count_of(text, "net:client.resumed"), 0, "the server's log is the one shown");
    cr_expect_geq(count_of(text, "net:server.connection.resumed"), 1, "%s", text);
    cr_expect_eq(count_of(text, " 0 new sessions"), 3, "nobody started over:\n%s", text);
    free(text);
    remove_tmpdir(dir);
}

/* One flag secures the game: every program gets --secure (enet+tls), the
 * clients verify the server's certificate, and the session plays the same. */
Test(demo_script, secured_session_reports_ok, .timeout = 30)
{
    char dir[64], script[PATH_MAX + 32], out[PATH_MAX], bdir[PATH_MAX], certs[PATH_MAX];
    make_tmpdir(dir, sizeof dir);
    snprintf(bdir, sizeof bdir, "%s", bindir());
    snprintf(script, sizeof script, "%s/../../tools/demo.sh", bdir);
    snprintf(out, sizeof out, "%s/out", dir);
    char certenv[PATH_MAX + 32];
    snprintf(certs, sizeof certs, "%s/certs", dir);
    snprintf(certenv, sizeof certenv, "HIVE_DEMO_CERTS=%s", certs);
    char *argv[] = { "/bin/sh", script, bdir, NULL };
    const char *env[] = { "HIVE_DEMO_SECONDS=7", "HIVE_DEMO_HEADLESS=1", "HIVE_DEMO_SECURE=1",
                          certenv, NULL };
    int rc = wait_exit(spawn(argv, env, out), 25000);
    char *text = slurp(out);
    cr_assert_not_null(text);
    cr_expect_eq(rc, 0, "secured demo failed:\n%s", text);
    cr_expect(strstr(text, "secured (enet+tls)"), "%s", text);
    cr_expect(strstr(text, "listening on enet+tls://"), "%s", text);
    cr_expect_eq(count_of(text, "arena:join "), 3, "%s", text);
    cr_expect(strstr(text, "3 joined, 3 left (3 cleanly)"), "%s", text);
    cr_expect(strstr(text, "demo: OK"), "%s", text);
    free(text);
    remove_tmpdir(dir);
}

/* make demo CLUSTER=1: a local NATS, a lobby and two arena shards. The
 * bots join through the lobby and are sent on to a shard, each shard
 * moves one player to the other mid-game, chat crosses between them, and
 * every player ends cleanly. */
Test(demo_script, cluster_session_hands_off_and_chats_across_shards, .timeout = 60)
{
    char dir[64], script[PATH_MAX + 32], out[PATH_MAX], bdir[PATH_MAX];
    make_tmpdir(dir, sizeof dir);
    snprintf(bdir, sizeof bdir, "%s", bindir());
    snprintf(script, sizeof script, "%s/../../tools/demo.sh", bdir);
    snprintf(out, sizeof out, "%s/out", dir);
    char *argv[] = { "/bin/sh", script, bdir, NULL };
    const char *env[] = { "HIVE_DEMO_SECONDS=14", "HIVE_DEMO_CLUSTER=1", NULL };
    int rc = wait_exit(spawn(argv, env, out), 50000);
    char *text = slurp(out);
    cr_assert_not_null(text);
    cr_expect_eq(rc, 0, "demo-cluster.sh failed:\n%s", text);
    cr_expect(strstr(text, "demo: OK (cluster: 4 sent from the lobby"), "%s", text);
    cr_expect(strstr(text, "lobby:      4 players sent on to a shard"), "%s", text);
    cr_expect_geq(count_of(text, "handed off to arena-"), 6, "4 from the lobby, one from each shard:\n%s", text);
    cr_expect_eq(count_of(text, "stays here"), 0, "%s", text);
    cr_expect_eq(count_of(text, "closed: normal"), 4, "%s", text);
    cr_expect_eq(count_of(text, " 0 resumes"), 0, "every bot resumed at least once (the lobby's handoff):\n%s", text);
    free(text);
    remove_tmpdir(dir);
}
