/*
 * The short soak: hive-soak runs a few seconds on every transport and
 * must report every reliable message delivered exactly once and in order
 * (both directions, several clients); and the soak's check itself must
 * catch a loss and a duplicate when the server is told to make one. The
 * clients play through the network simulator (latency, jitter, loss and
 * duplicates), so reliable delivery is checked over a bad network.
 * `make soak` runs the long version (tools/soak.sh).
 */
#include <criterion/criterion.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "certgen.h"

static certgen C;
static void setup(void) { cr_assert(certgen_make(&C)); }
static void teardown(void) { certgen_remove(&C); }
TestSuite(soak, .init = setup, .fini = teardown, .timeout = 120);

static const char *bindir(void)
{
    static char dir[PATH_MAX];
    const char *env = getenv("HIVE_BINDIR");
    if (env && *env) return env;
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    cr_assert_gt(n, 0);
    dir[n] = 0;
    return dirname(dir);
}

/* Runs hive-soak with args; returns its exit status, the output in out. */
static int soak(const char *args, char *out, size_t cap)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s/hive-soak %s --cert %s --key %s --ca %s 2>&1", bindir(), args, C.server_crt,
             C.server_key, C.ca);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The value of `hive-bench soak.<t>.<what> value=N`, or -1. */
static long long figure(const char *out, const char *t, const char *what)
{
    char key[128];
    snprintf(key, sizeof key, "hive-bench soak.%s.%s value=", t, what);
    const char *at = strstr(out, key);
    return at ? atoll(at + strlen(key)) : -1;
}

static void clean_soak(const char *t)
{
    static char out[16384];
    char args[128];
    snprintf(args, sizeof args, "--transport %s --clients 3 --seconds 4 --rate 150 "
             "--netsim latency=50ms,jitter=20ms,loss=10%%,dup=10%%", t);
    int rc = soak(args, out, sizeof out);
    cr_expect_eq(rc, 0, "hive-soak %s failed:\n%s", t, out);
    /* 3 clients x 4 s x 150/s, echoed: about 3600 reliable messages. */
    cr_expect_gt(figure(out, t, "reliable_sent"), 1000, "%s", out);
    cr_expect_eq(figure(out, t, "reliable_lost"), 0, "%s", out);
    cr_expect_eq(figure(out, t, "reliable_duplicated"), 0, "%s", out);
    cr_expect_eq(figure(out, t, "reliable_out_of_order"), 0, "%s", out);
    cr_expect_eq(figure(out, t, "resumes"), 0, "%s", out);
    cr_expect_gt(figure(out, t, "server_peak_bytes"), 0, "%s", out);
    /* The simulator was there: unreliable messages were lost on the
     * datagram transports, none on the stream ones. */
    long long us = figure(out, t, "unreliable_sent"), ur = figure(out, t, "unreliable_received");
    cr_expect_gt(us, 0, "%s", out);
    if (strstr(t, "enet")) cr_expect_lt(ur, us, "%s: no unreliable loss under loss=10%%:\n%s", t, out);
    else cr_expect_eq(ur, us, "%s", out);
}

Test(soak, enet) { clean_soak("enet"); }
Test(soak, tcp) { clean_soak("tcp"); }
Test(soak, tls) { clean_soak("tls"); }
Test(soak, enet_tls) { clean_soak("enet+tls"); }

Test(soak, the_check_catches_a_loss_and_a_duplicate)
{
    static char out[16384];
    int rc = soak("--transport tcp --clients 2 --seconds 1 --rate 100 --inject-loss 20", out, sizeof out);
    cr_expect_neq(rc, 0, "a skipped message must fail the soak:\n%s", out);
    cr_expect_gt(figure(out, "tcp", "reliable_lost"), 0, "%s", out);
    rc = soak("--transport enet --clients 2 --seconds 1 --rate 100 --inject-dup 20", out, sizeof out);
    cr_expect_neq(rc, 0, "a repeated message must fail the soak:\n%s", out);
    cr_expect_gt(figure(out, "enet", "reliable_duplicated"), 0, "%s", out);
}

Test(soak, bad_options_are_refused_by_name)
{
    static char out[4096];
    cr_expect_eq(soak("--transport carrier-pigeon", out, sizeof out), 2);
    cr_expect(strstr(out, "carrier-pigeon") != NULL, "%s", out);
    cr_expect_eq(soak("--clients 0", out, sizeof out), 2);
    cr_expect(strstr(out, "--clients") != NULL, "%s", out);
}
