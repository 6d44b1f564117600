/* first-client: says hello to first-server, prints the answer, then leaves. */
#include <hive/hive.h>
#include <stdio.h>

static void on_event(const hive_event *ev, void *user) { printf("client: %s\n", ev->name); }

static void on_chat(const hive_event *ev, void *user)        /* net:client.recv.game:chat */
{
    char text[128];                     /* the body is decoded for us, nothing to free */
    if (hive_msg_copy_str(hive_event_body(ev), "text", text, sizeof text) >= 0)
        printf("client: server says \"%s\"\n", text);
    hive_client_close(user, HIVE_CLOSE_NORMAL, "thanks");
}

int main(int argc, char **argv)
{
    hive_bus *bus = hive_bus_create(NULL);
    hive_bus_subscribe(bus, "net:**", on_event, NULL, NULL);
    hive_client *client = hive_client_create(NULL, bus);
    hive_bus_subscribe(bus, "net:client.recv.game:chat", on_chat, client, NULL);
    int rc = hive_client_connect(client, argc > 1 ? argv[1] : "127.0.0.1:7777");
    if (rc == 0) rc = hive_client_wait_connected(client, 5000);
    hive_msg m;
    hive_msg_init(&m);
    hive_msg_map_begin(&m);                                    /* the builder counts */
    hive_msg_kv_str(&m, "text", "hello");
    hive_msg_map_end(&m);
    if (rc == 0) rc = hive_client_send_msg(client, "game:chat", &m);
    if (rc == 0) rc = hive_client_wait_closed(client, 5000);   /* on_chat closes */
    hive_msg_free(&m);
    rc = rc == 0 && hive_client_close_reason(client) == HIVE_CLOSE_NORMAL ? 0 : 1;
    hive_client_destroy(client);
    hive_bus_destroy(bus);
    return rc;
}
