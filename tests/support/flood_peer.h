/*
 * flood_peer.h - a hostile Hive peer on its own thread, for the
 * bounded-memory tests: it dials tcp:// (or tls://, through OpenSSL
 * directly), completes the Hive handshake over the raw socket (hello,
 * welcome, ready: docs/PROTOCOL.md), then sends pings as fast as it can
 * and never reads another byte. Every pong the server owes it piles up
 * on the server's side.
 *
 *   flood_peer p;
 *   flood_start(&p, port, tls);   returns at once; the thread dials
 *   ...service the server until flood_ready(&p) (or flood_failed)...
 *   flood_stop(&p);               ends the thread, closes the socket
 *
 * Trickle mode (the slowloris): flood_start_trickle(&p, port, tls, ms,
 * hello) sends one frame a byte every ms milliseconds instead of a flood,
 * and never finishes it: the hello itself when `hello` is true (the
 * handshake never completes), else a ping after a normal handshake.
 *
 * The thread allocates nothing through Hive (sockets, OpenSSL, and
 * hive_msg, whose buffer is msgpack-c's), so a counting allocator sees
 * the server alone. Nothing here asserts: the thread only records what
 * happened.
 */
#ifndef HIVE_TESTS_FLOOD_PEER_H
#define HIVE_TESTS_FLOOD_PEER_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <openssl/ssl.h>

#include "hive/hive.h"
#include "net/wire/frame.h"

#define FLOOD_PING_BODY 4096      /* bin payload per ping: the pong echoes it */
#define FLOOD_BATCH     32        /* pings per write */

typedef struct flood_peer {
    uint16_t port;
    bool tls;
    bool ws;                           /* ws:// or wss://: WebSocket framing */
    uint8_t wraw[65536];               /* ws: server bytes not yet unwrapped */
    size_t wlen;
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    pthread_t thread;
    bool started;
    int ready, failed, stop, broken;   /* __atomic */
    uint64_t pings_sent;               /* __atomic */
    int trickle_ms;                    /* trickle mode: ms between bytes, 0 = flood */
    bool trickle_hello;                /* trickle the hello, not a ping after it */
    uint64_t trickled;                 /* __atomic: bytes trickled so far */
    char why[128];                     /* failed: what went wrong */
} flood_peer;

static inline void flood_fail(flood_peer *p, const char *why)
{
    snprintf(p->why, sizeof p->why, "%s (errno %d)", why, errno);
    __atomic_store_n(&p->failed, 1, __ATOMIC_RELEASE);
}

/* Write all n bytes (blocking with a short timeout, so stop is seen).
 * 1 done, 0 stopped, -1 the connection broke. */
static inline int flood_write_raw(flood_peer *p, const uint8_t *b, size_t n);

/* ws: each write is one masked binary frame (key 0: the bytes stay as
 * they are, which a server cannot tell from any other key). */
static inline int flood_write(flood_peer *p, const uint8_t *b, size_t n)
{
    if (!p->ws) return flood_write_raw(p, b, n);
    uint8_t h[14];
    size_t k = 0;
    h[k++] = 0x82;
    if (n < 126) h[k++] = (uint8_t)(0x80 | n);
    else if (n < 65536) { h[k++] = 0x80 | 126; h[k++] = (uint8_t)(n >> 8); h[k++] = (uint8_t)n; }
    else { h[k++] = 0x80 | 127; for (int i = 7; i >= 0; i--) h[k++] = (uint8_t)((uint64_t)n >> (8 * i)); }
    memset(h + k, 0, 4);
    k += 4;
    int w = flood_write_raw(p, h, k);
    return w == 1 ? flood_write_raw(p, b, n) : w;
}

static inline int flood_write_raw(flood_peer *p, const uint8_t *b, size_t n)
{
    size_t off = 0;
    while (off < n) {
        if (__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) return 0;
        if (p->ssl) {
            size_t w = 0;
            if (SSL_write_ex(p->ssl, b + off, n - off, &w) == 1) { off += w; continue; }
            int e = SSL_get_error(p->ssl, 0);
            if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) continue;
            return -1;
        }
        ssize_t w = send(p->fd, b + off, n - off, MSG_NOSIGNAL);
        if (w > 0) { off += (size_t)w; continue; }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
        return -1;
    }
    return 1;
}

static inline ssize_t flood_read_raw(flood_peer *p, uint8_t *b, size_t n);

/* ws: the payloads of the server's (unmasked) frames, control ones
 * skipped. */
static inline ssize_t flood_read(flood_peer *p, uint8_t *b, size_t n)
{
    if (!p->ws) return flood_read_raw(p, b, n);
    ssize_t r = flood_read_raw(p, p->wraw + p->wlen, sizeof p->wraw - p->wlen);
    if (r < 0) return r;
    p->wlen += (size_t)r;
    size_t out = 0;
    for (;;) {
        if (p->wlen < 2) break;
        size_t len = p->wraw[1] & 0x7f, hl = 2;
        if (len == 126) { if (p->wlen < 4) break; len = (size_t)p->wraw[2] << 8 | p->wraw[3]; hl = 4; }
        else if (len == 127) { if (p->wlen < 10) break; len = 0; for (int i = 0; i < 8; i++) len = len << 8 | p->wraw[2 + i]; hl = 10; }
        if (p->wlen < hl + len || out + len > n) break;
        int op = p->wraw[0] & 0x0f;
        if (op == 0 || op == 2) { memcpy(b + out, p->wraw + hl, len); out += len; }
        memmove(p->wraw, p->wraw + hl + len, p->wlen - hl - len);
        p->wlen -= hl + len;
    }
    return (ssize_t)out;
}

static inline ssize_t flood_read_raw(flood_peer *p, uint8_t *b, size_t n)
{
    if (p->ssl) {
        size_t r = 0;
        if (SSL_read_ex(p->ssl, b, n, &r) == 1) return (ssize_t)r;
        int e = SSL_get_error(p->ssl, 0);
        return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
    }
    ssize_t r = recv(p->fd, b, n, 0);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return 0;
    return r == 0 ? -1 : r;
}

static inline size_t flood_frame(uint8_t *out, uint32_t pid, const void *body, size_t len)
{
    size_t hn = hive__frame_header(out, pid, 0, len);
    memcpy(out + hn, body, len);
    return hn + len;
}

/* One byte every p->trickle_ms of b[0..n) (the last byte never: the
 * frame stays unfinished), until stopped or cut off. */
static void flood_trickle(flood_peer *p, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i + 1 < n && !__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE); i++) {
        int w = flood_write(p, b + i, 1);
        if (w == 0) return;
        if (w < 0) { __atomic_store_n(&p->broken, 1, __ATOMIC_RELEASE); return; }
        __atomic_add_fetch(&p->trickled, 1, __ATOMIC_RELAXED);
        usleep((useconds_t)p->trickle_ms * 1000u);
    }
}

static void *flood_main(void *arg)
{
    flood_peer *p = arg;
    p->fd = socket(AF_INET, SOCK_STREAM, 0);
    /* A small receive window: the kernel holds little of what the server
     * sends, so the server's own queue is what fills. */
    int rcv = 16384;
    setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };
    setsockopt(p->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(p->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(p->port) };
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(p->fd, (struct sockaddr *)&a, sizeof a) < 0) { flood_fail(p, "connect"); return NULL; }
    if (p->tls) {
        p->ctx = SSL_CTX_new(TLS_client_method());
        if (!p->ctx) { flood_fail(p, "SSL_CTX_new"); return NULL; }
        SSL_CTX_set_verify(p->ctx, SSL_VERIFY_NONE, NULL);   /* the attacker trusts anyone */
        p->ssl = SSL_new(p->ctx);
        if (!p->ssl || SSL_set_fd(p->ssl, p->fd) != 1) { flood_fail(p, "SSL_new"); return NULL; }
        uint64_t end = hive_now_ns() + 5000000000ull;
        for (;;) {
            if (SSL_connect(p->ssl) == 1) break;
            int e = SSL_get_error(p->ssl, 0);
            if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) || hive_now_ns() > end ||
                __atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
                flood_fail(p, "TLS handshake");
                return NULL;
            }
        }
    }
    /* hello {magic, proto, app, app_version, conntype} */
    uint8_t buf[FLOOD_BATCH * (FLOOD_PING_BODY + 16)];
    if (p->ws) {
        static const char req[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                                  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                  "Sec-WebSocket-Version: 13\r\n\r\n";
        if (flood_write_raw(p, (const uint8_t *)req, sizeof req - 1) != 1) { flood_fail(p, "upgrade"); return NULL; }
        size_t got = 0;
        uint64_t uend = hive_now_ns() + 5000000000ull;
        /* Byte by byte up to the blank line: what follows is WebSocket. */
        while (got < 4 || memcmp(buf + got - 4, "\r\n\r\n", 4) != 0) {
            ssize_t r = flood_read_raw(p, buf + got, 1);
            if (r < 0 || hive_now_ns() > uend || got + 1 >= sizeof buf) { flood_fail(p, "no 101"); return NULL; }
            got += (size_t)r;
        }
        if (memcmp(buf, "HTTP/1.1 101 ", 13) != 0) { flood_fail(p, "upgrade refused"); return NULL; }
    }
    hive_msg m;
    hive_msg_init(&m);
    hive_msg_map(&m, 5);
    hive_msg_kv_str(&m, "magic", "HIVE");
    hive_msg_kv_uint(&m, "proto", HIVE_PROTOCOL_VERSION);
    hive_msg_kv_str(&m, "app", "hive");
    hive_msg_kv_str(&m, "app_version", "1");
    hive_msg_kv_str(&m, "conntype", "player");
    size_t n = flood_frame(buf, HIVE__PID_HELLO, hive_msg_data(&m), hive_msg_size(&m));
    hive_msg_free(&m);
    if (p->trickle_ms && p->trickle_hello) {
        __atomic_store_n(&p->ready, 1, __ATOMIC_RELEASE);
        flood_trickle(p, buf, n);
        return NULL;
    }
    if (flood_write(p, buf, n) != 1) { flood_fail(p, "hello"); return NULL; }
    /* Read until the welcome is whole. */
    size_t have = 0;
    uint64_t end = hive_now_ns() + 5000000000ull;
    for (;;) {
        hive__frame f;
        if (have && hive__frame_decode(buf, have, sizeof buf, &f) == 1) {
            if (f.pid != HIVE__PID_WELCOME) { flood_fail(p, "no welcome"); return NULL; }
            break;
        }
        ssize_t r = flood_read(p, buf + have, sizeof buf - have);
        if (r < 0 || hive_now_ns() > end || __atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
            flood_fail(p, "welcome");
            return NULL;
        }
        have += (size_t)r;
    }
    uint8_t empty = 0x80;   /* {} */
    n = flood_frame(buf, HIVE__PID_READY, &empty, 1);
    if (flood_write(p, buf, n) != 1) { flood_fail(p, "ready"); return NULL; }
    __atomic_store_n(&p->ready, 1, __ATOMIC_RELEASE);

    /* Pings with a bin body (the server echoes it back in the pong),
     * FLOOD_BATCH per write, until stopped or cut off. Never a read. */
    static uint8_t body[FLOOD_PING_BODY + 3];
    body[0] = 0xc5;   /* bin 16 */
    body[1] = (uint8_t)(FLOOD_PING_BODY >> 8);
    body[2] = (uint8_t)(FLOOD_PING_BODY & 0xff);
    if (p->trickle_ms) {
        n = flood_frame(buf, HIVE__PID_PING, body, sizeof body);
        flood_trickle(p, buf, n);
        return NULL;
    }
    n = 0;
    for (int i = 0; i < FLOOD_BATCH; i++) n += flood_frame(buf + n, HIVE__PID_PING, body, sizeof body);
    for (;;) {
        int w = flood_write(p, buf, n);
        if (w == 0) break;
        if (w < 0) { __atomic_store_n(&p->broken, 1, __ATOMIC_RELEASE); break; }
        __atomic_add_fetch(&p->pings_sent, FLOOD_BATCH, __ATOMIC_RELAXED);
    }
    return NULL;
}

static inline void flood_start(flood_peer *p, uint16_t port, bool tls)
{
    memset(p, 0, sizeof *p);
    p->fd = -1;
    p->port = port;
    p->tls = tls;
    p->started = pthread_create(&p->thread, NULL, flood_main, p) == 0;
}

static inline void flood_start_ws(flood_peer *p, uint16_t port, bool tls)
{
    memset(p, 0, sizeof *p);
    p->fd = -1;
    p->port = port;
    p->tls = tls;
    p->ws = true;
    p->started = pthread_create(&p->thread, NULL, flood_main, p) == 0;
}

static inline void flood_start_trickle(flood_peer *p, uint16_t port, bool tls, int ms, bool hello)
{
    memset(p, 0, sizeof *p);
    p->fd = -1;
    p->port = port;
    p->tls = tls;
    p->trickle_ms = ms;
    p->trickle_hello = hello;
    p->started = pthread_create(&p->thread, NULL, flood_main, p) == 0;
}

static inline bool flood_ready(flood_peer *p) { return __atomic_load_n(&p->ready, __ATOMIC_ACQUIRE); }
static inline bool flood_failed(flood_peer *p) { return __atomic_load_n(&p->failed, __ATOMIC_ACQUIRE); }
static inline bool flood_broken(flood_peer *p) { return __atomic_load_n(&p->broken, __ATOMIC_ACQUIRE); }

static inline void flood_stop(flood_peer *p)
{
    __atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
    if (p->started) pthread_join(p->thread, NULL);
    p->started = false;
    if (p->ssl) SSL_free(p->ssl);
    if (p->ctx) SSL_CTX_free(p->ctx);
    if (p->fd >= 0) close(p->fd);
    p->ssl = NULL;
    p->ctx = NULL;
    p->fd = -1;
}

#endif /* HIVE_TESTS_FLOOD_PEER_H */
