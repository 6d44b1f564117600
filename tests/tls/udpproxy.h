/*
 * tests/tls/udpproxy.h - an attacker on the path for secure ENet tests.
 *
 * A UDP relay between one client and one server on 127.0.0.1. It reads
 * just enough of ENet's datagram layout to find the payloads of
 * unreliable sends (channel 1) going client -> server, and can flip bits
 * in them or swap in an older payload (a replay). ENet's own headers are
 * not authenticated, so the ENet layer accepts what it gets; whatever
 * protection there is comes from Hive's sealing.
 */
#ifndef HIVE_TESTS_UDPPROXY_H
#define HIVE_TESTS_UDPPROXY_H

#include <enet/enet.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <sys/socket.h>

enum { PROXY_PASS = 0, PROXY_FLIP = 1, PROXY_REPLAY = 2, PROXY_SWAP = 3 };

typedef struct udpproxy {
    int fd;
    uint16_t port;
    struct sockaddr_in server, client;
    bool have_client;
    int mode;
    unsigned flip_bit;
    uint64_t unreliable_seen, flipped, replayed, swapped;
    uint8_t held[2048];      /* PROXY_SWAP: a datagram held back */
    size_t held_len;
    uint8_t captured[2048];
    size_t captured_len;
} udpproxy;

static inline bool proxy_open(udpproxy *p, uint16_t server_port)
{
    memset(p, 0, sizeof *p);
    p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (p->fd < 0) return false;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(p->fd, (struct sockaddr *)&a, sizeof a) < 0) return false;
    socklen_t sl = sizeof a;
    getsockname(p->fd, (struct sockaddr *)&a, &sl);
    p->port = ntohs(a.sin_port);
    p->server.sin_family = AF_INET;
    p->server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p->server.sin_port = htons(server_port);
    return true;
}

static inline void proxy_close(udpproxy *p)
{
    if (p->fd >= 0) close(p->fd);
    p->fd = -1;
}

/* Visit every unreliable payload on channel 1 in an ENet datagram. */
static inline void proxy_tamper(udpproxy *p, uint8_t *d, size_t n)
{
    if (n < 2) return;
    uint16_t peer = (uint16_t)(d[0] << 8 | d[1]);
    if (peer & ENET_PROTOCOL_HEADER_FLAG_COMPRESSED) return;
    size_t off = (peer & ENET_PROTOCOL_HEADER_FLAG_SENT_TIME) ? 4 : 2;
    while (off + sizeof(ENetProtocolCommandHeader) <= n) {
        ENetProtocol *c = (ENetProtocol *)(d + off);
        uint8_t cmd = c->header.command & ENET_PROTOCOL_COMMAND_MASK;
        size_t sz = enet_protocol_command_size(cmd);
        if (!sz || off + sz > n) return;
        size_t data = 0;
        switch (cmd) {
        case ENET_PROTOCOL_COMMAND_SEND_RELIABLE: data = ntohs(c->sendReliable.dataLength); break;
        case ENET_PROTOCOL_COMMAND_SEND_UNRELIABLE: data = ntohs(c->sendUnreliable.dataLength); break;
        case ENET_PROTOCOL_COMMAND_SEND_UNSEQUENCED: data = ntohs(c->sendUnsequenced.dataLength); break;
        case ENET_PROTOCOL_COMMAND_SEND_FRAGMENT:
        case ENET_PROTOCOL_COMMAND_SEND_UNRELIABLE_FRAGMENT: data = ntohs(c->sendFragment.dataLength); break;
        default: break;
        }
        if (off + sz + data > n) return;
        if (cmd == ENET_PROTOCOL_COMMAND_SEND_UNRELIABLE && c->header.channelID == 1 && data) {
            uint8_t *pl = d + off + sz;
            p->unreliable_seen++;
            if (p->mode == PROXY_FLIP && (p->unreliable_seen % 2) == 0) {
                unsigned bit = p->flip_bit++ % (unsigned)(data * 8);
                pl[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                p->flipped++;
            } else if (p->mode == PROXY_REPLAY) {
                if (!p->captured_len && data <= sizeof p->captured) {
                    memcpy(p->captured, pl, data);
                    p->captured_len = data;
                } else if (p->captured_len == data) {
                    memcpy(pl, p->captured, data);
                    p->replayed++;
                }
            }
        }
        off += sz + data;
    }
}

/* Whether an ENet datagram carries an unreliable or unsequenced send on
 * channel 1. */
static inline bool proxy_has_unreliable(const uint8_t *d, size_t n)
{
    if (n < 2) return false;
    uint16_t peer = (uint16_t)(d[0] << 8 | d[1]);
    if (peer & ENET_PROTOCOL_HEADER_FLAG_COMPRESSED) return false;
    size_t off = (peer & ENET_PROTOCOL_HEADER_FLAG_SENT_TIME) ? 4 : 2;
    while (off + sizeof(ENetProtocolCommandHeader) <= n) {
        const ENetProtocol *c = (const ENetProtocol *)(d + off);
        uint8_t cmd = c->header.command & ENET_PROTOCOL_COMMAND_MASK;
        size_t sz = enet_protocol_command_size(cmd), data = 0;
        if (!sz || off + sz > n) return false;
        if (cmd == ENET_PROTOCOL_COMMAND_SEND_UNRELIABLE) data = ntohs(c->sendUnreliable.dataLength);
        else if (cmd == ENET_PROTOCOL_COMMAND_SEND_UNSEQUENCED) data = ntohs(c->sendUnsequenced.dataLength);
        else if (cmd == ENET_PROTOCOL_COMMAND_SEND_RELIABLE) data = ntohs(c->sendReliable.dataLength);
        else if (cmd == ENET_PROTOCOL_COMMAND_SEND_FRAGMENT || cmd == ENET_PROTOCOL_COMMAND_SEND_UNRELIABLE_FRAGMENT)
            data = ntohs(c->sendFragment.dataLength);
        if ((cmd == ENET_PROTOCOL_COMMAND_SEND_UNRELIABLE || cmd == ENET_PROTOCOL_COMMAND_SEND_UNSEQUENCED) &&
            c->header.channelID == 1)
            return true;
        off += sz + data;
    }
    return false;
}

static inline void proxy_pump(udpproxy *p)
{
    uint8_t buf[4096];
    for (;;) {
        struct sockaddr_in from;
        socklen_t sl = sizeof from;
        ssize_t n = recvfrom(p->fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &sl);
        if (n <= 0) return;
        if (from.sin_port == p->server.sin_port) {
            if (p->have_client)
                sendto(p->fd, buf, (size_t)n, 0, (struct sockaddr *)&p->client, sizeof p->client);
        } else {
            p->client = from;
            p->have_client = true;
            if (p->mode == PROXY_SWAP && proxy_has_unreliable(buf, (size_t)n)) {
                /* Every pair of unreliable datagrams leaves swapped. */
                if (!p->held_len && (size_t)n <= sizeof p->held) {
                    memcpy(p->held, buf, (size_t)n);
                    p->held_len = (size_t)n;
                    continue;
                }
                sendto(p->fd, buf, (size_t)n, 0, (struct sockaddr *)&p->server, sizeof p->server);
                sendto(p->fd, p->held, p->held_len, 0, (struct sockaddr *)&p->server, sizeof p->server);
                p->held_len = 0;
                p->swapped++;
                continue;
            }
            proxy_tamper(p, buf, (size_t)n);
            sendto(p->fd, buf, (size_t)n, 0, (struct sockaddr *)&p->server, sizeof p->server);
        }
    }
}

#endif
