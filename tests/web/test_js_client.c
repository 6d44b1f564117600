/*
 * The JavaScript client (web/hive.js) against a real Hive server: this
 * test serves ws:// on loopback and runs Node's test runner on
 * tests/web/client.test.mjs, which speaks the protocol from its own
 * implementation. The server side checks what it saw.
 */
#include <criterion/criterion.h>
#include "hive/hive.h"

#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

typedef struct srv_log {
    int accepts, handshakes, closes_normal, closes_bad_frame, closes_kicked, chats, suspended, resumed, replayed;
} srv_log;

static hive_server *g_srv;
static hive_server *g_srv2;            /* where game:moveme sends a session (HANDOFF) */
static hive_cid g_move_cid;            /* asked to move, done after the service round */
static int g_moved, g_handedoff;

static void on_chat(const hive_event *ev, void *user)
{
    srv_log *l = user;
    const void *raw, *obj;
    size_t len;
    l->chats++;
    if (hive_event_get_msgpack(ev, "msg", &raw, &len, &obj) != 0) return;
    hive_server_send(g_srv, (hive_cid)hive_event_int(ev, "cid", 0), "game:echo", raw, len);
}

static void on_chat2(const hive_event *ev, void *user)
{
    (void)user;
    const void *raw, *obj;
    size_t len;
    if (hive_event_get_msgpack(ev, "msg", &raw, &len, &obj) != 0) return;
    hive_server_send(g_srv2, (hive_cid)hive_event_int(ev, "cid", 0), "game:echo", raw, len);
}

static void on_moveme(const hive_event *ev, void *user)
{
    (void)user;
    g_move_cid = (hive_cid)hive_event_int(ev, "cid", 0);
}

static void on_handedoff(const hive_event *ev, void *user)
{
    (void)ev;
    (void)user;
    g_handedoff++;
}

/* The whole move, in this process: freeze at g_srv, adopt at g_srv2,
 * redirect the client there. */
static void move_now(void)
{
    hive_cid cid = g_move_cid;
    g_move_cid = 0;
    hive_msg t;
    hive_msg_init(&t);
    hive_cid to = 0;
    uint8_t token[HIVE_HANDOFF_TOKEN_BYTES];
    char addr[64];
    snprintf(addr, sizeof addr, "ws://127.0.0.1:%u/", (unsigned)hive_server_port(g_srv2));
    if (hive_server_handoff_begin(g_srv, cid, "js", 2, &t) == HIVE_OK &&
        hive_server_adopt(g_srv2, hive_msg_data(&t), hive_msg_size(&t), &to, token) == HIVE_OK &&
        hive_server_handoff_redirect(g_srv, cid, addr, to, token) == HIVE_OK)
        g_moved++;
    hive_msg_free(&t);
}

static void service_all(hive_client *native, int ms)
{
    hive_server_service(g_srv, ms);
    hive_server_service(g_srv2, 0);
    if (g_move_cid) move_now();
    hive_client_service(native, 0);
}

static void on_kickme(const hive_event *ev, void *user)
{
    (void)user;
    hive_server_close(g_srv, (hive_cid)hive_event_int(ev, "cid", 0), HIVE_CLOSE_KICKED, "asked for it");
}

static void on_shout(const hive_event *ev, void *user)
{
    (void)user;
    const void *raw, *obj;
    size_t len;
    if (hive_event_get_msgpack(ev, "msg", &raw, &len, &obj) == 0)
        hive_server_broadcast(g_srv, "game:echo", raw, len, 0);
}

/* game:burst {n}: n echoes {n: 0..n-1} at once (the resume test cuts the
 * link while they travel). */
static void on_burst(const hive_event *ev, void *user)
{
    (void)user;
    const void *raw, *obj;
    size_t len;
    uint64_t n = 0;
    if (hive_event_get_msgpack(ev, "msg", &raw, &len, &obj) != 0 || !obj || hive_msg_path_uint(obj, "n", &n) || n > 1000)
        return;
    hive_msg m;
    hive_msg_init(&m);
    for (uint64_t i = 0; i < n; i++) {
        hive_msg_reset(&m);
        hive_msg_map(&m, 1);
        hive_msg_kv_uint(&m, "n", i);
        hive_server_send_msg(g_srv, (hive_cid)hive_event_int(ev, "cid", 0), "game:echo", &m);
    }
    hive_msg_free(&m);
}

static void on_heard(const hive_event *ev, void *user)
{
    (void)ev;
    ++*(int *)user;
}

static void on_event(const hive_event *ev, void *user)
{
    srv_log *l = user;
    if (!strcmp(ev->name, HIVE_EV_SERVER_ACCEPT)) l->accepts++;
    if (!strcmp(ev->name, HIVE_EV_SERVER_HANDSHAKE)) l->handshakes++;
    if (!strcmp(ev->name, HIVE_EV_SERVER_SUSPENDED)) l->suspended++;
    if (!strcmp(ev->name, HIVE_EV_SERVER_RESUMED)) {
        l->resumed++;
        l->replayed += (int)hive_event_int(ev, "replayed", 0);
    }
    if (!strcmp(ev->name, HIVE_EV_SERVER_CLOSE)) {
        const char *r = hive_event_str(ev, "reason_name");
        if (r && !strcmp(r, "normal")) l->closes_normal++;
        if (r && !strcmp(r, "bad_frame")) l->closes_bad_frame++;
        if (r && !strcmp(r, "kicked")) l->closes_kicked++;
    }
}

Test(web, js_client_against_the_c_server, .timeout = 120)
{
    hive_bus *bus = hive_bus_create(NULL);
    srv_log log = { 0 };
    g_srv = hive_server_create(&(hive_server_config){ .addr = "enet://127.0.0.1:0,ws://127.0.0.1:0",
                                                      .heartbeat_ms = 200, .heartbeat_timeout_ms = 3000 },
                               bus);
    cr_assert_not_null(g_srv);
    cr_assert_gt(hive_server_register(g_srv, "game:chat", 0, HIVE_RELIABLE), 0);
    cr_assert_gt(hive_server_register(g_srv, "game:echo", 0, HIVE_RELIABLE), 0);
    cr_assert_gt(hive_server_register(g_srv, "game:kickme", 0, HIVE_RELIABLE), 0);
    cr_assert_gt(hive_server_register(g_srv, "game:shout", 0, HIVE_RELIABLE), 0);
    cr_assert_gt(hive_server_register(g_srv, "game:pos", 0, HIVE_UNRELIABLE), 0);
    cr_assert_gt(hive_server_register(g_srv, "game:burst", 0, HIVE_RELIABLE), 0);
    hive_bus_subscribe(bus, "net:server.recv.game:chat", on_chat, &log, NULL);
    hive_bus_subscribe(bus, "net:server.recv.game:kickme", on_kickme, &log, NULL);
    hive_bus_subscribe(bus, "net:server.recv.game:shout", on_shout, &log, NULL);
    hive_bus_subscribe(bus, "net:server.recv.game:burst", on_burst, &log, NULL);
    hive_bus_subscribe(bus, "net:server.connection.*", on_event, &log, NULL);
    cr_assert_gt(hive_server_register(g_srv, "game:moveme", 0, HIVE_RELIABLE), 0);
    hive_bus_subscribe(bus, "net:server.recv.game:moveme", on_moveme, &log, NULL);
    cr_assert_eq(hive_server_start(g_srv), HIVE_OK);
    /* The other server: the same application and registry, ws only. */
    hive_bus *bus2 = hive_bus_create(NULL);
    g_srv2 = hive_server_create(&(hive_server_config){ .addr = "ws://127.0.0.1:0", .heartbeat_ms = 200,
                                                       .heartbeat_timeout_ms = 3000 },
                                bus2);
    cr_assert_not_null(g_srv2);
    static const char *const names[] = { "game:chat", "game:echo", "game:kickme", "game:shout", "game:pos",
                                         "game:burst", "game:moveme" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        cr_assert_gt(hive_server_register(g_srv2, names[i], 0, strcmp(names[i], "game:pos") ? HIVE_RELIABLE
                                                                                             : HIVE_UNRELIABLE), 0);
    hive_bus_subscribe(bus2, "net:server.recv.game:chat", on_chat2, NULL, NULL);
    hive_bus_subscribe(bus2, HIVE_EV_SERVER_HANDEDOFF, on_handedoff, NULL, NULL);
    cr_assert_eq(hive_server_start(g_srv2), HIVE_OK);

    /* A native client on the enet listener hears what a browser shouts. */
    hive_bus *cbus = hive_bus_create(NULL);
    int heard = 0;
    hive_bus_subscribe(cbus, "net:client.recv.game:echo", on_heard, &heard, NULL);
    hive_client *native = hive_client_create(NULL, cbus);
    char addr[64], url[64], env_url[96];
    snprintf(addr, sizeof addr, "enet://127.0.0.1:%u", (unsigned)hive_server_port_at(g_srv, 0));
    cr_assert_eq(hive_client_connect(native, addr), HIVE_OK);
    for (int i = 0; i < 3000 && hive_client_get_state(native) != HIVE_CLIENT_OPEN; i++) service_all(native, 1);
    cr_assert_eq(hive_client_get_state(native), HIVE_CLIENT_OPEN);
    int before_accepts = log.accepts;

    snprintf(url, sizeof url, "ws://127.0.0.1:%u/", (unsigned)hive_server_port_at(g_srv, 1));
    snprintf(env_url, sizeof env_url, "HIVE_WS_URL=%s", url);
    const char *node = getenv("HIVE_NODE") ? getenv("HIVE_NODE") : "node";
    char *argv[] = { (char *)node, "--experimental-websocket", "--no-warnings", "--test",
                     "--test-reporter=spec", "tests/web/client.test.mjs", "tests/web/arena_game.test.mjs", NULL };
    /* The environment plus the URL. */
    int ne = 0;
    while (environ[ne]) ne++;
    char **envp = calloc((size_t)ne + 2, sizeof *envp);
    for (int i = 0; i < ne; i++) envp[i] = environ[i];
    envp[ne] = env_url;
    pid_t pid;
    int rc = posix_spawnp(&pid, node, NULL, NULL, argv, envp);
    free(envp);
    cr_assert_eq(rc, 0, "cannot run %s (install nodejs; web/ needs `npm ci`)", node);
    int status = 0;
    uint64_t end = hive_now_ns() + 100000000000ull;
    for (;;) {
        service_all(native, 2);
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) break;
        if (hive_now_ns() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            cr_assert_fail("node did not finish in 100 s");
        }
    }
    for (int i = 0; i < 200; i++) service_all(native, 1);
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "node --test failed (status %d): see its output above",
              status);
    /* What the server saw of the JS clients. */
    cr_expect_geq(log.accepts - before_accepts, 5, "accepts %d", log.accepts - before_accepts);
    cr_expect_geq(log.chats, 100);
    cr_expect_geq(log.closes_normal, 1);
    cr_expect_geq(log.closes_bad_frame, 1);
    cr_expect_geq(log.closes_kicked, 1);
    cr_expect_geq(log.suspended, 2, "the cut links suspended their sessions");
    cr_expect_eq(log.resumed, 1, "one resume accepted, one refused");
    /* The burst left while its link died, and nobody acknowledged it: the
     * server sent all 50 again on the resumed link. */
    cr_expect_geq(log.replayed, 50, "replayed %d", log.replayed);
    cr_expect_eq(hive_client_get_state(native), HIVE_CLIENT_OPEN, "the native client played on");
    cr_expect_geq(heard, 1, "the native client heard the browser's shout");
    cr_expect_eq(g_moved, 1, "one session moved");
    cr_expect_eq(g_handedoff, 1, "and arrived at the other server");
    hive_client_destroy(native);
    hive_bus_destroy(cbus);
    hive_server_destroy(g_srv);
    hive_server_destroy(g_srv2);
    hive_bus_destroy(bus);
    hive_bus_destroy(bus2);
}
