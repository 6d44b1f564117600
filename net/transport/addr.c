/* addr.c - parsing `scheme://host:port` addresses for the transports. */
#include "net/transport/transport.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Reads a decimal port; rejects empty, signs, junk and > 65535. */
static int parse_port(const char *s, size_t n, uint16_t *out)
{
    if (n == 0 || n > 5) return HIVE_EADDR;
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return HIVE_EADDR;
        v = v * 10 + (uint32_t)(s[i] - '0');
    }
    if (v > 65535) return HIVE_EADDR;
    *out = (uint16_t)v;
    return HIVE_OK;
}

int hive__addr_parse(const char *s, uint16_t default_port, hive__addr *out)
{
    if (!s || !out) return HIVE_EINVAL;
    hive__addr a;
    memset(&a, 0, sizeof a);
    const char *sep = strstr(s, "://");
    if (sep) {
        size_t n = (size_t)(sep - s);
        if (n == 0 || n >= sizeof a.scheme) return HIVE_EADDR;
        for (size_t i = 0; i < n; i++) {
            char ch = (char)tolower((unsigned char)s[i]);
            if (!isalnum((unsigned char)ch) && ch != '+' && ch != '-' && ch != '.') return HIVE_EADDR;
            a.scheme[i] = ch;
        }
        s = sep + 3;
    } else {
        memcpy(a.scheme, "enet", 5);
    }

    const char *host = s, *port = NULL;
    size_t hn;
    if (*s == '[') {                     /* [v6]:port */
        const char *end = strchr(s, ']');
        if (!end) return HIVE_EADDR;
        host = s + 1;
        hn = (size_t)(end - host);
        if (end[1] == ':') port = end + 2;
        else if (end[1] != 0) return HIVE_EADDR;
    } else {
        const char *colon = strrchr(s, ':');
        if (colon && strchr(s, ':') != colon) return HIVE_EADDR;   /* bare v6 needs [] */
        hn = colon ? (size_t)(colon - s) : strlen(s);
        if (colon) port = colon + 1;
    }
    if (hn == 0 || hn >= sizeof a.host) return HIVE_EADDR;
    for (size_t i = 0; i < hn; i++)
        if ((unsigned char)host[i] <= ' ' || host[i] == '/' || host[i] == '[' || host[i] == ']')
            return HIVE_EADDR;
    memcpy(a.host, host, hn);
    a.host[hn] = 0;
    a.port = default_port;
    if (port && parse_port(port, strlen(port), &a.port) < 0) return HIVE_EADDR;
    *out = a;
    return HIVE_OK;
}

char *hive__addr_format(const hive__addr *a, char *buf, size_t n)
{
    if (!buf || n == 0) return buf;
    bool v6 = strchr(a->host, ':') != NULL;
    snprintf(buf, n, v6 ? "%s://[%s]:%u" : "%s://%s:%u", a->scheme, a->host, (unsigned)a->port);
    return buf;
}
