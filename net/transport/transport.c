/* transport.c - choosing a transport by address scheme. Adding a transport
 * is one row here and one net/transport_<name>.c. */
#include "net/transport/transport.h"

#include <string.h>

static const struct {
    const char *scheme;
    hive__transport_ctor create;
} g_transports[] = {
    { "enet", hive__transport_enet_create },
    { "tcp",  hive__transport_tcp_create },
    { "tls",  hive__transport_tls_create },
    { "enet+tls", hive__transport_enet_tls_create },
    { "ws",   hive__transport_ws_create },
    { "wss",  hive__transport_wss_create },
};

/* One extra scheme for tests and fuzz targets (a fake transport that
 * needs no socket); see hive__transport_set_test. */
static char g_test_scheme[HIVE__SCHEME_MAX];
static hive__transport_ctor g_test_ctor;

void hive__transport_set_test(const char *scheme, hive__transport_ctor ctor)
{
    g_test_ctor = scheme ? ctor : NULL;
    g_test_scheme[0] = 0;
    if (scheme && strlen(scheme) < sizeof g_test_scheme) strcpy(g_test_scheme, scheme);
}

int hive__transport_create(const hive__addr *addr, const hive__transport_cb *cb,
                           const hive__transport_opts *opts, hive__transport **out)
{
    if (!addr || !cb || !out) return HIVE_EINVAL;
    static const hive__transport_opts none;
    if (g_test_ctor && strcmp(addr->scheme, g_test_scheme) == 0)
        return g_test_ctor(cb, opts ? opts : &none, out);
    for (size_t i = 0; i < sizeof g_transports / sizeof g_transports[0]; i++)
        if (strcmp(addr->scheme, g_transports[i].scheme) == 0)
            return g_transports[i].create(cb, opts ? opts : &none, out);
    return HIVE_EUNSUPPORTED;
}
