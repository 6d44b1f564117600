/* The demo programs' command lines, and the server's independence from
 * SDL. */
#include "proto_checks.h"

static char *run_capture(const char *prog, const char *arg, int *rc)
{
    char dir[64], bin[PATH_MAX], out[PATH_MAX];
    make_tmpdir(dir, sizeof dir);
    bin_path(bin, sizeof bin, prog);
    snprintf(out, sizeof out, "%s/out", dir);
    char *argv[] = { bin, (char *)arg, NULL };
    *rc = wait_exit(spawn(argv, NULL, out), 10000);
    char *text = slurp(out);
    remove_tmpdir(dir);
    return text;
}

Test(programs, server_help_names_every_option, .timeout = 30)
{
    int rc;
    char *h = run_capture("hive-demo-server", "--help", &rc);
    cr_assert_not_null(h);
    cr_expect_eq(rc, 0);
    const char *opts[] = { "--host", "--port", "--transport", "--cert", "--key", "--tick-hz",
                           "--net-hz", "--duration", "--max-players" };
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        cr_expect(strstr(h, opts[i]), "server --help lacks %s", opts[i]);
    /* What clients may subscribe to is listed too. */
    cr_expect(strstr(h, "arena:snapshot") && strstr(h, "arena:roster") && strstr(h, "arena:**"), "%s", h);
    free(h);
}

Test(programs, client_help_names_every_option, .timeout = 30)
{
    int rc;
    char *h = run_capture("hive-demo-client", "--help", &rc);
    cr_assert_not_null(h);
    cr_expect_eq(rc, 0);
    const char *opts[] = { "--host", "--port", "--transport", "--ca", "--insecure", "--name", "--bot",
                           "--headless", "--tick-hz", "--net-hz", "--screenshot", "--after", "--spectate" };
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        cr_expect(strstr(h, opts[i]), "client --help lacks %s", opts[i]);
    free(h);
}

Test(programs, bad_options_are_refused, .timeout = 30)
{
    int rc;
    char *h = run_capture("hive-demo-server", "--port=banana", &rc);
    cr_expect_eq(rc, 2);
    cr_expect(h && strstr(h, "--port"), "%s", h);
    free(h);
    h = run_capture("hive-demo-client", "--frobnicate", &rc);
    cr_expect_eq(rc, 2);
    cr_expect(h && strstr(h, "unknown option"), "%s", h);
    free(h);
}

Test(programs, client_without_a_server_fails_cleanly, .timeout = 30)
{
    char dir[64], bin[PATH_MAX], out[PATH_MAX];
    make_tmpdir(dir, sizeof dir);
    bin_path(bin, sizeof bin, "hive-demo-client");
    snprintf(out, sizeof out, "%s/out", dir);
    /* Port 9 (discard) on loopback: nobody answers. */
    char *argv[] = { bin, "--host", "127.0.0.1", "--port", "9", "--bot", "--headless", NULL };
    int rc = wait_exit(spawn(argv, NULL, out), 20000);
    char *text = slurp(out);
    cr_expect_eq(rc, 1, "%s", text);
    cr_expect(text && strstr(text, "joined=0"), "%s", text);
    free(text);
    remove_tmpdir(dir);
}

Test(programs, the_server_links_no_sdl, .timeout = 30)
{
    char bin[PATH_MAX], cmd[PATH_MAX + 64];
    bin_path(bin, sizeof bin, "hive-demo-server");
    snprintf(cmd, sizeof cmd, "ldd '%s' 2>&1 | grep -c -i sdl", bin);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    int n = -1;
    cr_expect_eq(fscanf(p, "%d", &n), 1);
    pclose(p);
    cr_expect_eq(n, 0, "hive-demo-server links SDL");
    /* ...while the client does. */
    bin_path(bin, sizeof bin, "hive-demo-client");
    snprintf(cmd, sizeof cmd, "ldd '%s' 2>&1 | grep -c libSDL2-2", bin);
    p = popen(cmd, "r");
    cr_assert_not_null(p);
    cr_expect_eq(fscanf(p, "%d", &n), 1);
    pclose(p);
    cr_expect_eq(n, 1);
}

Test(programs, a_bad_netsim_spec_is_named, .timeout = 30)
{
    char dir[64], bin[PATH_MAX], out[PATH_MAX];
    make_tmpdir(dir, sizeof dir);
    bin_path(bin, sizeof bin, "hive-demo-server");
    snprintf(out, sizeof out, "%s/out", dir);
    char *argv[] = { bin, "--port", "0", "--netsim", "loss=10%,lag=5ms", NULL };
    int rc = wait_exit(spawn(argv, NULL, out), 10000);
    char *text = slurp(out);
    cr_expect_neq(rc, 0, "%s", text);
    cr_expect(text && strstr(text, "unknown key 'lag'"), "%s", text);
    free(text);
    remove_tmpdir(dir);
}
