/*
 * The README's first server and client (examples/first-server,
 * examples/first-client) are real programs: run them against each other
 * over loopback and check that every event shows up, in order, and that
 * both exit cleanly (under the sanitizers when built so).
 * Programs are taken from $HIVE_BINDIR (default bin/Sanitize).
 */
#include "net_test.h"

#include <signal.h>
#include <sys/wait.h>

static const char *bindir(void)
{
    const char *d = getenv("HIVE_BINDIR");
    return d && *d ? d : "bin/Sanitize";
}

/* Checks that each of want[] appears in text, in this order. */
static void expect_in_order(const char *text, const char *const *want, const char *who)
{
    const char *at = text;
    for (int i = 0; want[i]; i++) {
        const char *hit = strstr(at, want[i]);
        cr_expect_not_null(hit, "%s: \"%s\" missing or out of order in:\n%s", who, want[i], text);
        if (hit) at = hit + strlen(want[i]);
    }
}

Test(examples, first_server_and_first_client_talk, .timeout = 30)
{
    char path[512];
    snprintf(path, sizeof path, "%s/first-server", bindir());
    cr_assert_eq(access(path, X_OK), 0, "%s is not built", path);

    int out[2];
    cr_assert_eq(pipe(out), 0);
    pid_t srv = fork();
    cr_assert_geq(srv, 0);
    if (srv == 0) {
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        execl(path, path, "127.0.0.1:0", (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    FILE *so = fdopen(out[0], "r");
    static char server_text[16384];
    size_t used = 0;
    unsigned port = 0;
    char line[512];
    while (!port && fgets(line, sizeof line, so)) {
        used += (size_t)snprintf(server_text + used, sizeof server_text - used, "%s", line);
        const char *b = strstr(line, "net:server.bind enet://127.0.0.1:");
        if (b) port = (unsigned)atoi(b + strlen("net:server.bind enet://127.0.0.1:"));
    }
    cr_assert_gt(port, 0u, "the server did not say where it listens:\n%s", server_text);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "%s/first-client 127.0.0.1:%u 2>&1", bindir(), port);
    FILE *co = popen(cmd, "r");
    cr_assert_not_null(co);
    static char client_text[16384];
    size_t cu = fread(client_text, 1, sizeof client_text - 1, co);
    client_text[cu] = 0;
    int cst = pclose(co);
    cr_expect(WIFEXITED(cst) && WEXITSTATUS(cst) == 0, "first-client failed (%d):\n%s", cst, client_text);

    kill(srv, SIGINT);
    size_t n;
    while ((n = fread(server_text + used, 1, sizeof server_text - 1 - used, so)) > 0) used += n;
    server_text[used] = 0;
    fclose(so);
    int sst;
    cr_assert_eq(waitpid(srv, &sst, 0), srv);
    cr_expect(WIFEXITED(sst) && WEXITSTATUS(sst) == 0, "first-server failed (%d):\n%s", sst, server_text);

    static const char *const want_client[] = {
        "client: net:client.initialize", "client: net:client.connect", "client: net:client.start",
        "client: net:client.handshakecomplete", "client: net:client.send", "client: net:client.recv\n",
        "client: net:client.recv.game:chat", "server says \"welcome to the hive\"",
        "client: net:client.close", "client: net:client.stop", NULL,
    };
    static const char *const want_server[] = {
        "net:server.initialize", "net:server.bind", "net:server.start",
        "net:server.connection.accept", "net:server.connection.handshakecomplete",
        "net:server.connection.recv", "net:server.recv.game:chat", "net:server.connection.send",
        "net:server.connection.close", "net:server.interrupt", "net:server.stop",
        "net:server.shutdown", NULL,
    };
    expect_in_order(client_text, want_client, "first-client");
    expect_in_order(server_text, want_server, "first-server");
}
