/*
 * tests/tls/mempair.h - two TLS sessions wired back to back in memory,
 * so the session layer is tested without any socket.
 */
#ifndef HIVE_TESTS_MEMPAIR_H
#define HIVE_TESTS_MEMPAIR_H

#include "net/transport/tls.h"

/* Move all waiting ciphertext from a to b. */
static inline int mempair_move(hive__tls *from, hive__tls *to)
{
    size_t n;
    const uint8_t *p = hive__tls_out(from, &n);
    if (!n) return 0;
    int r = hive__tls_feed(to, p, n);
    hive__tls_out_consume(from, n);
    return r < 0 ? r : (int)n;
}

/*
 * Run both handshakes until both finish or one fails (at most 20 rounds).
 * *cr / *sr get the last handshake results (1 done, <0 failed).
 */
static inline void mempair_handshake(hive__tls *cli, hive__tls *srv, int *cr, int *sr)
{
    *cr = *sr = 0;
    for (int round = 0; round < 20; round++) {
        if (*cr == 0) *cr = hive__tls_handshake(cli);
        mempair_move(cli, srv);
        if (*sr == 0) *sr = hive__tls_handshake(srv);
        mempair_move(srv, cli);
        if ((*cr != 0 && *sr != 0)) break;
    }
}

#endif
