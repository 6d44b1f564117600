/* first-server: answers every game:chat and prints every net event. Ctrl-C stops it. */
#include <hive/hive.h>
#include <signal.h>
#include <stdio.h>

static hive_server *srv;
static void on_signal(int sig) { hive_server_interrupt(srv); }

static void on_event(const hive_event *ev, void *user)
{
    const char *addr = hive_event_str(ev, "addr");          /* bind and accept carry one */
    printf("server: %s %s\n", ev->name, addr ? addr : "");
}

static void on_chat(const hive_event *ev, void *user)       /* net:server.recv.game:chat */
{
    hive_msg reply;
    hive_msg_init(&reply);
    hive_msg_map_begin(&reply);
    hive_msg_kv_str(&reply, "text", "welcome to the hive");
    hive_msg_map_end(&reply);
    hive_server_send_msg(srv, (hive_cid)hive_event_int(ev, "cid", 0), "game:chat", &reply);
    hive_msg_free(&reply);
}

int main(int argc, char **argv)
{
    hive_bus *bus = hive_bus_create(NULL);
    hive_bus_subscribe(bus, "net:**", on_event, NULL, NULL);
    hive_bus_subscribe(bus, "net:server.recv.game:chat", on_chat, NULL, NULL);
    srv = hive_server_create(&(hive_server_config){ .addr = argc > 1 ? argv[1] : "127.0.0.1:7777" }, bus);
    hive_server_register(srv, "game:chat", 0, HIVE_RELIABLE);
    signal(SIGINT, on_signal);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (hive_server_start(srv) != 0) return 1;
    hive_server_run(srv);                                   /* until Ctrl-C */
    hive_server_destroy(srv);
    hive_bus_destroy(bus);
    return 0;
}
