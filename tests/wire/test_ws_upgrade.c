/* The WebSocket opening handshake (net/transport/wsup.h): the RFC's example,
 * every refusal with its status, limits, and bytes that come in pieces. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "net/transport/wsup.h"

#define GOOD "GET /play HTTP/1.1\r\nHost: game.example.org:8080\r\nUpgrade: websocket\r\n" \
             "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" \
             "Origin: https://game.example.org\r\nSec-WebSocket-Version: 13\r\n\r\n"

static int parse(const char *req, hive__ws_req *r, int *status)
{
    const char *why;
    return hive__ws_parse((const uint8_t *)req, strlen(req), r, status, &why);
}

Test(ws_upgrade, the_rfc_example_is_accepted_and_answered)
{
    hive__ws_req r;
    int st;
    cr_assert_eq(parse(GOOD "\x81\x05hello", &r, &st), HIVE__WS_DONE);
    cr_expect(r.upgrade);
    cr_expect_str_eq(r.path, "/play");
    cr_expect_str_eq(r.host, "game.example.org:8080");
    cr_expect_str_eq(r.origin, "https://game.example.org");
    cr_expect_eq(r.size, strlen(GOOD), "what follows the request is the peer's first frame");
    char acc[29];
    cr_assert_eq(hive__ws_accept(r.key, acc), 0);
    cr_expect_str_eq(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "RFC 6455 section 1.3");
    char buf[256];
    size_t n = hive__ws_answer_101(&r, buf, sizeof buf);
    cr_assert_gt(n, 0u);
    cr_expect(strstr(buf, "HTTP/1.1 101 Switching Protocols\r\n") == buf);
    cr_expect(strstr(buf, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    cr_expect(n >= 4 && !memcmp(buf + n - 4, "\r\n\r\n", 4));
}

Test(ws_upgrade, pieces_are_more_until_the_blank_line)
{
    hive__ws_req r;
    int st;
    const char *why;
    size_t total = strlen(GOOD);
    for (size_t k = 0; k < total; k++)
        cr_assert_eq(hive__ws_parse((const uint8_t *)GOOD, k, &r, &st, &why), HIVE__WS_MORE, "cut at %zu", k);
    cr_expect_eq(hive__ws_parse((const uint8_t *)GOOD, total, &r, &st, &why), HIVE__WS_DONE);
}

Test(ws_upgrade, each_refusal_has_its_status)
{
    static const struct { const char *what, *req; int status; } cases[] = {
        { "POST", "POST / HTTP/1.1\r\nHost: a\r\n\r\n", 405 },
        { "HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\n\r\n", 505 },
        { "garbage version", "GET / HTTQ/1.1\r\nHost: a\r\n\r\n", 400 },
        { "no path slash", "GET play HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
        { "bare LF", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400 },
        { "control byte", "GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n", 400 },
        { "folded header", "GET / HTTP/1.1\r\nHost: a\r\n  b\r\n\r\n", 400 },
        { "bad header name", "GET / HTTP/1.1\r\nHo st: a\r\n\r\n", 400 },
        { "no host", "GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", 400 },
        { "two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400 },
        { "a body", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", 400 },
        { "chunked", "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 400 },
        { "no connection upgrade", "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
                                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 400 },
        { "no key", "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Version: 13\r\n\r\n", 400 },
        { "short key", "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 400 },
        { "key of 17 bytes' padding", "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZR==\r\nSec-WebSocket-Version: 13\r\n\r\n", 400 },
        { "two keys", "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n", 400 },
        { "version 8", "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n", 426 },
        { "no version", "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", 426 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        hive__ws_req r;
        int st;
        cr_expect_eq(parse(cases[i].req, &r, &st), HIVE__WS_BAD, "%s: refused", cases[i].what);
        cr_expect_eq(st, cases[i].status, "%s: status %d", cases[i].what, st);
    }
    char buf[512];
    size_t n = hive__ws_answer_error(426, "Sec-WebSocket-Version 13 only", buf, sizeof buf);
    cr_assert_gt(n, 0u);
    cr_expect(strstr(buf, "HTTP/1.1 426 Upgrade Required\r\n") == buf);
    cr_expect(strstr(buf, "Sec-WebSocket-Version: 13\r\n"));
    cr_expect(strstr(buf, "Connection: close\r\n"));
    cr_expect_eq(hive__ws_answer_error(400, "x", buf, 10), 0u, "too small a buffer");
}

Test(ws_upgrade, limits_on_size_and_headers)
{
    static char big[HIVE__WS_REQ_MAX + 100];
    memset(big, 'a', sizeof big);
    memcpy(big, "GET / HTTP/1.1\r\nX-Long: ", 24);
    hive__ws_req r;
    int st;
    const char *why;
    cr_expect_eq(hive__ws_parse((const uint8_t *)big, sizeof big, &r, &st, &why), HIVE__WS_BAD);
    cr_expect_eq(st, 431, "one header line that never ends");
    char many[8000];
    size_t at = (size_t)snprintf(many, sizeof many, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 0; i < HIVE__WS_HEADERS_MAX + 1; i++) at += (size_t)snprintf(many + at, sizeof many - at, "X-%d: v\r\n", i);
    snprintf(many + at, sizeof many - at, "\r\n");
    cr_expect_eq(parse(many, &r, &st), HIVE__WS_BAD);
    cr_expect_eq(st, 431, "too many headers");
}

Test(ws_upgrade, a_plain_get_and_the_origin_list)
{
    hive__ws_req r;
    int st;
    cr_assert_eq(parse("GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n", &r, &st), HIVE__WS_DONE);
    cr_expect(!r.upgrade, "no Upgrade: a plain request (a file may be served)");
    cr_expect_str_eq(r.path, "/index.html");
    cr_assert_eq(parse(GOOD, &r, &st), HIVE__WS_DONE);
    const char *allow[] = { "https://other.example.org", "HTTPS://GAME.example.org" };
    cr_expect(hive__ws_origin_allowed(&r, allow, 2), "case does not matter");
    cr_expect(!hive__ws_origin_allowed(&r, allow, 1));
    cr_expect(hive__ws_origin_allowed(&r, NULL, 0), "no list: anyone");
    const char *any[] = { "*" };
    cr_expect(hive__ws_origin_allowed(&r, any, 1));
    cr_assert_eq(parse("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", &r, &st),
                 HIVE__WS_DONE);
    cr_expect(hive__ws_origin_allowed(&r, allow, 1), "no Origin (a native client): allowed");
}
