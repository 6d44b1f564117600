/* A headless game server needs no SDL: after `make install`, a program
 * using the engine loop, timers and a hive_server builds with nothing but
 * `pkg-config --cflags --libs hive-engine`, whose flags and requirements
 * name no SDL package, and the binary links no libSDL2. */
#include <criterion/criterion.h>
#include <unistd.h>
#include "docs_util.h"

/* Engine loop + timers + a server and a client on loopback. It stops by
 * itself: after the handshake, or after 1.5 s at the latest. */
static const char *program =
    "#include <hive/hive.h>\n"
    "#include <hive/engine.h>\n"
    "#include <stdio.h>\n"
    "static int handshakes, beats;\n"
    "static void on_handshake(const hive_event *ev, void *u) { (void)ev; (void)u; handshakes++; }\n"
    "static void beat(hive_engine *e, int t, void *u) { (void)t; (void)u; if (++beats >= 5 && handshakes >= 2) hive_engine_stop(e); }\n"
    "static void give_up(hive_engine *e, int t, void *u) { (void)t; (void)u; hive_engine_stop(e); }\n"
    "int main(void) {\n"
    "    hive_bus *bus = hive_bus_create(NULL);\n"
    "    hive_engine *e = hive_engine_create(&(hive_engine_config){ .bus = bus });\n"
    "    hive_server *srv = hive_server_create(&(hive_server_config){ .addr = \"127.0.0.1:0\" }, bus);\n"
    "    hive_client *cli = hive_client_create(NULL, bus);\n"
    "    if (!e || !srv || !cli || hive_server_start(srv) != HIVE_OK) {\n"
    "        fprintf(stderr, \"create: %s\\n\", hive_create_error()->message);\n"
    "        return 1;\n"
    "    }\n"
    "    hive_bus_subscribe(bus, HIVE_EV_SERVER_HANDSHAKE, on_handshake, NULL, NULL);\n"
    "    hive_bus_subscribe(bus, HIVE_EV_CLIENT_HANDSHAKE, on_handshake, NULL, NULL);\n"
    "    int a = hive_engine_attach_server(e, srv), b = hive_engine_attach_client(e, cli);\n"
    "    char addr[64];\n"
    "    snprintf(addr, sizeof addr, \"127.0.0.1:%u\", hive_server_port(srv));\n"
    "    if (a <= 0 || b <= 0 || hive_client_connect(cli, addr) != HIVE_OK) return 2;\n"
    "    hive_engine_every(e, 20, beat, NULL);\n"
    "    hive_engine_after(e, 1500, give_up, NULL);\n"
    "    hive_engine_run(e);\n"
    "    printf(\"headless: ticks=%llu handshakes=%d\\n\", (unsigned long long)hive_engine_tick(e), handshakes);\n"
    "    int ok = handshakes == 2 && hive_engine_tick(e) > 0;\n"
    "    hive_engine_remove_service(e, b);\n"
    "    hive_engine_remove_service(e, a);\n"
    "    hive_client_destroy(cli);\n"
    "    hive_server_destroy(srv);\n"
    "    hive_engine_destroy(e);\n"
    "    hive_bus_destroy(bus);\n"
    "    return ok ? 0 : 3;\n"
    "}\n";

Test(install, headless_server_needs_no_sdl, .timeout = 120)
{
    char dir[] = "/tmp/hive-headless-XXXXXX";
    cr_assert_eq(docs_install(dir), 0, "tools/install.sh into %s/prefix failed", dir);
    char cmd[4096], pc[1024];
    snprintf(pc, sizeof pc, "PKG_CONFIG_PATH=%s/prefix/lib/pkgconfig pkg-config", dir);

    /* The flags and the requirement list name no SDL. */
    snprintf(cmd, sizeof cmd, "%s --cflags --libs hive-engine > %s/flags.txt && ! grep -i sdl %s/flags.txt",
             pc, dir, dir);
    cr_expect_eq(docs_sh(cmd), 0, "hive-engine's flags mention SDL: %s", cmd);
    snprintf(cmd, sizeof cmd, "%s --print-requires hive-engine > %s/req.txt && ! grep -i sdl %s/req.txt",
             pc, dir, dir);
    cr_expect_eq(docs_sh(cmd), 0, "hive-engine requires an SDL package: %s", cmd);

    snprintf(cmd, sizeof cmd, "%s/main.c", dir);
    FILE *f = fopen(cmd, "w");
    cr_assert_not_null(f);
    fputs(program, f);
    fclose(f);

    /* Built with hive-engine's flags alone, and it runs. */
    snprintf(cmd, sizeof cmd,
             "cd %s && cc -std=gnu11 -Wall -Wextra -Werror %s -o server main.c $(%s --cflags --libs hive-engine) "
             "&& timeout 20 ./server > out.txt && grep -q 'headless: ticks=[1-9][0-9]* handshakes=2' out.txt",
             dir, docs_sanflags(), pc);
    cr_expect_eq(docs_sh(cmd), 0, "build or run of the headless server failed: %s", cmd);

    /* ...and links no SDL. */
    snprintf(cmd, sizeof cmd, "ldd %s/server > %s/ldd.txt && ! grep -i sdl %s/ldd.txt", dir, dir, dir);
    cr_expect_eq(docs_sh(cmd), 0, "the headless server links SDL: %s", cmd);

    /* hive-sdl is where SDL comes in. */
    snprintf(cmd, sizeof cmd, "%s --print-requires hive-sdl | grep -q '^sdl2'", pc);
    cr_expect_eq(docs_sh(cmd), 0, "hive-sdl.pc does not require sdl2: %s", cmd);

    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    docs_sh(cmd);
}
