/*
 * ackstrip.h - a UDP relay between one ENet client and one server on
 * 127.0.0.1 that, once `strip` is set, removes every ACKNOWLEDGE command
 * from the client's datagrams: the client still receives everything and
 * its own reliable packets are still acknowledged by the server, but the
 * server never learns that anything it sent arrived. That is a peer that
 * withholds its acknowledgements while it keeps sending, as a hostile
 * client would, made from a real client.
 *
 *   ackstrip p;
 *   ackstrip_open(&p, server_port);   the client dials 127.0.0.1:p.port
 *   ackstrip_pump(&p);                relays what waits (non-blocking)
 *   p.strip = true;                   from here on: no acks reach the server
 *   ackstrip_close(&p);
 *
 * Pure sockets: nothing here allocates through Hive or ENet, so a counting
 * allocator sees Hive alone. It reads just enough of ENet's datagram
 * layout (unchecksummed, uncompressed: Hive's defaults) to walk commands.
 */
#ifndef HIVE_TESTS_ACKSTRIP_H
#define HIVE_TESTS_ACKSTRIP_H

#include <enet/enet.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

typedef struct ackstrip {
    int fd;
    uint16_t port;
    struct sockaddr_in server, client;
    bool have_client;
    bool strip;
    uint64_t acks_stripped, dropped;
} ackstrip;

static inline bool ackstrip_open(ackstrip *p, uint16_t server_port)
{
    memset(p, 0, sizeof *p);
    p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (p->fd < 0) return false;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(p->fd, (struct sockaddr *)&a, sizeof a) < 0) return false;
    socklen_t sl = sizeof a;
    getsockname(p->fd, (struct sockaddr *)&a, &sl);
    p->port = ntohs(a.sin_port);
    int big = 4 << 20;
    setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    p->server.sin_family = AF_INET;
    p->server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p->server.sin_port = htons(server_port);
    return true;
}

static inline void ackstrip_close(ackstrip *p)
{
    if (p->fd >= 0) close(p->fd);
    p->fd = -1;
}

/* Rewrites datagram d (n bytes) without its ACKNOWLEDGE commands into out;
 * returns the new length, 0 when nothing but acknowledgements was in it.
 * A datagram it cannot walk is passed on unchanged. */
static inline size_t ackstrip_filter(ackstrip *p, const uint8_t *d, size_t n, uint8_t *out)
{
    memcpy(out, d, n);
    if (n < 2) return n;
    uint16_t peer = (uint16_t)(d[0] << 8 | d[1]);
    if (peer & ENET_PROTOCOL_HEADER_FLAG_COMPRESSED) return n;
    size_t off = (peer & ENET_PROTOCOL_HEADER_FLAG_SENT_TIME) ? 4 : 2;
    size_t w = off, kept = 0;
    while (off < n) {
        if (off + sizeof(ENetProtocolCommandHeader) > n) return n;
        const ENetProtocol *c = (const ENetProtocol *)(d + off);
        uint8_t cmd = c->header.command & ENET_PROTOCOL_COMMAND_MASK;
        size_t sz = enet_protocol_command_size(cmd);
        if (!sz || off + sz > n) return n;
        size_t data = 0;
        switch (cmd) {
        case ENET_PROTOCOL_COMMAND_SEND_RELIABLE: data = ntohs(c->sendReliable.dataLength); break;
        case ENET_PROTOCOL_COMMAND_SEND_UNRELIABLE: data = ntohs(c->sendUnreliable.dataLength); break;
        case ENET_PROTOCOL_COMMAND_SEND_UNSEQUENCED: data = ntohs(c->sendUnsequenced.dataLength); break;
        case ENET_PROTOCOL_COMMAND_SEND_FRAGMENT:
        case ENET_PROTOCOL_COMMAND_SEND_UNRELIABLE_FRAGMENT: data = ntohs(c->sendFragment.dataLength); break;
        default: break;
        }
        if (off + sz + data > n) return n;
        if (cmd == ENET_PROTOCOL_COMMAND_ACKNOWLEDGE) {
            p->acks_stripped++;
        } else {
            memmove(out + w, d + off, sz + data);
            w += sz + data;
            kept++;
        }
        off += sz + data;
    }
    return kept ? w : 0;
}

/* Relays every datagram waiting on the relay's socket, both ways. */
static inline void ackstrip_pump(ackstrip *p)
{
    uint8_t buf[4096], out[4096];
    for (int i = 0; i < 4096; i++) {
        struct sockaddr_in from;
        socklen_t sl = sizeof from;
        ssize_t n = recvfrom(p->fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &sl);
        if (n <= 0) return;
        if (from.sin_port == p->server.sin_port) {
            if (p->have_client)
                sendto(p->fd, buf, (size_t)n, 0, (struct sockaddr *)&p->client, sizeof p->client);
            continue;
        }
        p->client = from;
        p->have_client = true;
        size_t m = (size_t)n;
        const uint8_t *send = buf;
        if (p->strip) {
            m = ackstrip_filter(p, buf, (size_t)n, out);
            send = out;
            if (!m) { p->dropped++; continue; }
        }
        sendto(p->fd, send, m, 0, (struct sockaddr *)&p->server, sizeof p->server);
    }
}

#endif /* HIVE_TESTS_ACKSTRIP_H */
