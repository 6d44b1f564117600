/*
 * attach.c - servers and clients as engine services.
 *
 * Kept apart from loop.c so a program that never attaches a network
 * object does not pull the network code out of the library, and the loop
 * itself stays free of net types.
 */
#include "hive/net.h"
#include "engine_internal.h"

/* A server not started yet (or a client not connected) is not an error
 * for a game loop: the frame goes on. An interrupt only ends the wait. */
static int quiet(int r)
{
    return (r == HIVE_ESTATE || r == HIVE_ECLOSED) ? 0 : r;
}

static int server_service(void *obj, int timeout_ms)
{
    return quiet(hive_server_service(obj, timeout_ms));
}

static int client_service(void *obj, int timeout_ms)
{
    return quiet(hive_client_service(obj, timeout_ms));
}

int hive_engine_attach_server(hive_engine *e, struct hive_server *srv)
{
    if (!e || !srv) return HIVE_EINVAL;
    return hive_engine_add_service(e, server_service, srv);
}

int hive_engine_attach_client(hive_engine *e, struct hive_client *cli)
{
    if (!e || !cli) return HIVE_EINVAL;
    return hive_engine_add_service(e, client_service, cli);
}
