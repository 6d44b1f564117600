/*
 * ws:// - the same core over WebSocket (RFC 6455, libwslay framing):
 * a native client's whole session, then a raw WebSocket peer built by
 * hand for every bad input the transport must survive: bad upgrades,
 * unmasked and fragmented control frames, oversize frames, text and
 * invalid UTF-8, Hive frames split across and packed into messages.
 */
#include <netinet/tcp.h>
#include "net_test.h"

#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>

static uint8_t g_rb[65536];
static uint16_t g_code;
static size_t g_rn;   /* bytes of g_rb not parsed yet (reset by ws_open) */

static void use_ws(void) { test_scheme = "ws://"; }

Test(ws, session_and_roundtrips, .init = use_ws, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, NULL, NULL, true);
    for (int i = 0; i < 20; i++) fx_roundtrip(&fx, "over ws");
    const rec_event *e = rec_find(fx.sr, "net:server.connection.accept");
    cr_assert_not_null(e);
    cr_expect_eq(rec_count(fx.cr, "net:client.recv.game:echo"), 20);
    cr_assert_eq(hive_client_close(fx.cli, HIVE_CLOSE_NORMAL, "bye"), 0);
    cr_assert(pump(fx.srv, fx.cli, 3000, client_gone, fx.cli));
    close_wait w = { &fx, hive_client_cid(fx.cli) };
    cr_assert(pump(fx.srv, NULL, 3000, fx_closed, &w));
    cr_expect_str_eq(fx_server_close(&fx, w.cid)->reason_name, "normal");
    cr_expect_str_eq(rec_find(fx.cr, "net:client.close")->reason_name, "normal");
    fx_fini(&fx);
}

Test(ws, large_message_and_kick, .init = use_ws, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, NULL, NULL, true);
    static char text[60000];
    memset(text, 'x', sizeof text - 1);
    fx_roundtrip(&fx, text);
    fx_roundtrip(&fx, "after");
    cr_assert_eq(hive_server_close(fx.srv, hive_client_cid(fx.cli), HIVE_CLOSE_KICKED, "out"), 0);
    cr_assert(pump(fx.srv, fx.cli, 3000, client_gone, fx.cli));
    cr_expect_str_eq(rec_find(fx.cr, "net:client.close")->reason_name, "kicked");
    fx_fini(&fx);
}

/* A client dialing ws:// at a server that is not one fails cleanly. */
Test(ws, dial_non_websocket_server, .timeout = 30)
{
    test_scheme = "tcp://";
    hive_bus *bus = hive_bus_create(NULL);
    hive_server *srv = test_server(bus, NULL, NULL);
    char addr[64];
    snprintf(addr, sizeof addr, "ws://127.0.0.1:%u", (unsigned)hive_server_port(srv));
    hive_bus *cbus = hive_bus_create(NULL);
    recorder cr = { 0 };
    rec_attach(&cr, cbus);
    hive_client *cli = hive_client_create(&(hive_client_config){ .connect_timeout_ms = 1500 }, cbus);
    cr_assert_eq(hive_client_connect(cli, addr), HIVE_OK);
    cr_assert(pump(srv, cli, 8000, client_gone, cli));
    const rec_event *e = rec_find(&cr, "net:client.close");
    cr_assert_not_null(e);
    cr_expect(strcmp(e->reason_name, "connect_failed") == 0 || strcmp(e->reason_name, "handshake_timeout") == 0,
              "reason %s", e->reason_name);
    hive_client_destroy(cli);
    hive_server_destroy(srv);
    hive_bus_destroy(cbus);
    hive_bus_destroy(bus);
}

/* ------------------------------------------------------------------ */
/* A raw WebSocket peer                                                */

static int dial(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void send_all(int fd, const void *p, size_t n)
{
    cr_assert_eq(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Read while servicing the server until `want` bytes or EOF or ms pass;
 * returns bytes read (the buffer is NUL-terminated). eof set on EOF. */
static size_t read_some(hive_server *s, int fd, uint8_t *buf, size_t cap, size_t want, int ms, bool *eof)
{
    size_t got = 0;
    *eof = false;
    uint64_t end = hive_now_ns() + (uint64_t)ms * 1000000u;
    while (got < want && got + 1 < cap && hive_now_ns() < end) {
        if (s) hive_server_service(s, 1);
        ssize_t r = recv(fd, buf + got, cap - 1 - got, MSG_DONTWAIT);
        if (r > 0) got += (size_t)r;
        else if (r == 0) { *eof = true; break; }
        else if (errno != EAGAIN && errno != EWOULDBLOCK) { *eof = true; break; }
    }
    buf[got] = 0;
    return got;
}

static const char *g_req =
    "GET /play HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/* Upgrade; asserts the 101 (with the RFC's example accept value). */
static int ws_open(hive_server *s)
{
    int fd = dial(hive_server_port(s));
    g_rn = 0;
    send_all(fd, g_req, strlen(g_req));
    uint8_t buf[1024];
    bool eof;
    size_t n = 0;
    uint64_t end = hive_now_ns() + 3000000000ull;
    while (!strstr((char *)buf, "\r\n\r\n") && hive_now_ns() < end) {
        hive_server_service(s, 1);
        ssize_t r = recv(fd, buf + n, 1, MSG_DONTWAIT);   /* one byte: leave frames after it */
        if (r == 1) { n++; buf[n] = 0; }
        else if (r == 0) break;
        if (n + 2 >= sizeof buf) break;
        buf[n] = 0;
    }
    (void)eof;
    cr_assert(strncmp((char *)buf, "HTTP/1.1 101 ", 13) == 0, "answer: %s", buf);
    cr_assert_not_null(strstr((char *)buf, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    return fd;
}

/* One client frame: fin, opcode, masked or not, the payload (len may be
 * declared larger than given with declared != 0). */
static size_t frame(uint8_t *out, bool fin, int op, bool mask, const void *p, size_t n, uint64_t declared)
{
    uint64_t len = declared ? declared : n;
    size_t k = 0;
    out[k++] = (uint8_t)((fin ? 0x80 : 0) | op);
    uint8_t m = mask ? 0x80 : 0;
    if (len < 126) out[k++] = (uint8_t)(m | len);
    else if (len < 65536) { out[k++] = m | 126; out[k++] = (uint8_t)(len >> 8); out[k++] = (uint8_t)len; }
    else { out[k++] = m | 127; for (int i = 7; i >= 0; i--) out[k++] = (uint8_t)(len >> (8 * i)); }
    const uint8_t key[4] = { 0x12, 0x34, 0x56, 0x78 };
    if (mask) { memcpy(out + k, key, 4); k += 4; }
    for (size_t i = 0; i < n; i++) out[k + i] = ((const uint8_t *)p)[i] ^ (mask ? key[i & 3] : 0);
    return k + n;
}

/* The hello frame bytes. */
static size_t hello_bytes(uint8_t *buf)
{
    hive_msg m;
    hello_msg(&m, "HIVE", HIVE_PROTOCOL_VERSION, "hive");
    size_t hn = hive__frame_header(buf, HIVE__PID_HELLO, 0, hive_msg_size(&m));
    memcpy(buf + hn, hive_msg_data(&m), hive_msg_size(&m));
    size_t total = hn + hive_msg_size(&m);
    hive_msg_free(&m);
    return total;
}

/* Wait for a server frame with opcode op (skipping others); returns its
 * payload length (the close code in *code for close), or -1. */

static int wait_ws(hive_server *s, int fd, int op, uint16_t *code, int ms)
{
    uint8_t *buf = g_rb;
    size_t have = g_rn;
    uint64_t end = hive_now_ns() + (uint64_t)ms * 1000000u;
    while (hive_now_ns() < end) {
        hive_server_service(s, 1);
        ssize_t r = recv(fd, buf + have, sizeof g_rb - have, MSG_DONTWAIT);
        if (r > 0) have += (size_t)r;
        else if (r == 0 && have == 0) return -1;
        for (;;) {
            if (have < 2) break;
            cr_assert_eq(buf[1] & 0x80, 0, "server frames are never masked");
            size_t len = buf[1] & 0x7f, hl = 2;
            if (len == 126) { if (have < 4) break; len = (size_t)buf[2] << 8 | buf[3]; hl = 4; }
            else if (len == 127) { if (have < 10) break; len = 0; for (int i = 0; i < 8; i++) len = len << 8 | buf[2 + i]; hl = 10; }
            if (have < hl + len) break;
            if (len >= 2) g_code = (uint16_t)(buf[hl] << 8 | buf[hl + 1]);
            int fop = buf[0] & 0x0f;
            memmove(buf, buf + hl + len, have - hl - len);
            have -= hl + len;
            g_rn = have;
            if (fop == op) {
                /* (the payload was moved away; only its first bytes are kept) */
                if (code && len >= 2) *code = g_code;
                return (int)len;
            }
        }
        g_rn = have;
        if (r == 0) return -1;
    }
    return -1;
}

/* The server answers a bad request with this status and drops it; no
 * connection event is ever seen. */
static void expect_status(hive_server *s, const recorder *sr, const char *req, const char *status)
{
    int before = rec_count(sr, "net:server.connection.accept");
    int fd = dial(hive_server_port(s));
    send_all(fd, req, strlen(req));
    uint8_t buf[2048];
    bool eof;
    read_some(s, fd, buf, sizeof buf, sizeof buf, 3000, &eof);
    cr_expect(strncmp((char *)buf, status, strlen(status)) == 0, "want %s, got: %.60s", status, buf);
    cr_expect(eof, "the connection ends after an error answer");
    cr_expect_eq(rec_count(sr, "net:server.connection.accept"), before);
    close(fd);
}

Test(ws, bad_upgrades_get_http_statuses, .init = use_ws, .timeout = 60)
{
    fixture fx;
    const char *origins[] = { "https://game.example.org" };
    fx_init(&fx, &(hive_server_config){ .ws_origins = origins, .ws_origins_count = 1 }, NULL, true);
    expect_status(fx.srv, fx.sr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 426 ");
    expect_status(fx.srv, fx.sr,
                  "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
                  "HTTP/1.1 426 ");
    expect_status(fx.srv, fx.sr, "POST / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 405 ");
    expect_status(fx.srv, fx.sr, "GET / HTTP/1.0\r\nHost: x\r\n\r\n", "HTTP/1.1 505 ");
    expect_status(fx.srv, fx.sr, "\x16\x03\x01 not http\r\n\r\n", "HTTP/1.1 400 ");
    expect_status(fx.srv, fx.sr,
                  "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Origin: https://evil.example.com\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                  "HTTP/1.1 403 ");
    /* Too large: 10,000 bytes of one header. */
    static char big[10240];
    strcpy(big, "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ");
    memset(big + strlen(big), 'a', 9000);
    strcat(big, "\r\n\r\n");
    expect_status(fx.srv, fx.sr, big, "HTTP/1.1 431 ");
    /* An allowed origin is let in, and the native client still plays. */
    int fd = dial(hive_server_port(fx.srv));
    const char *ok = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Origin: https://GAME.example.org\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    send_all(fd, ok, strlen(ok));
    uint8_t buf[512];
    bool eof;
    read_some(fx.srv, fd, buf, sizeof buf, 100, 2000, &eof);
    cr_expect(strncmp((char *)buf, "HTTP/1.1 101 ", 13) == 0, "got %s", buf);
    close(fd);
    fx_roundtrip(&fx, "still serving");
    fx_fini(&fx);
}

/* An upgrade that never completes (a slowloris before the 101) is
 * dropped within the upgrade limit; the core never sees it. */
Test(ws, slow_upgrade_is_dropped, .init = use_ws, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, &(hive_server_config){ .heartbeat_ms = 200, .heartbeat_timeout_ms = 800 }, NULL, true);
    int fd = dial(hive_server_port(fx.srv));
    send_all(fd, "GET / HTTP/1.1\r\nHost: x\r\n", 25);
    uint8_t buf[64];
    bool eof;
    uint64_t t0 = hive_now_ns();
    read_some(fx.srv, fd, buf, sizeof buf, sizeof buf, 4000, &eof);
    cr_expect(eof, "dropped (got %s)", buf);
    cr_expect_lt((hive_now_ns() - t0) / 1000000, 3000u);
    cr_expect_eq(rec_count(fx.sr, "net:server.connection.accept"), 1);
    close(fd);
    fx_fini(&fx);
}

/* An upgrade trickled in one byte per segment is answered as a whole one
 * is (the request is judged line by line, not re-read per byte), and a
 * control byte inside a line is refused as soon as it arrives. */
Test(ws, upgrade_trickled_byte_by_byte, .init = use_ws, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, NULL, NULL, true);
    int fd = dial(hive_server_port(fx.srv));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (size_t i = 0; g_req[i]; i++) {
        send_all(fd, g_req + i, 1);
        hive_server_service(fx.srv, 0);
    }
    uint8_t buf[512];
    bool eof;
    read_some(fx.srv, fd, buf, sizeof buf, 12, 3000, &eof);
    cr_expect(strncmp((char *)buf, "HTTP/1.1 101 ", 13) == 0, "answer: %s", buf);
    close(fd);

    fd = dial(hive_server_port(fx.srv));
    send_all(fd, "GET /play HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr", 41);
    pump(fx.srv, NULL, 50, NULL, NULL);
    send_all(fd, "a\x01", 2);   /* no line end: refused all the same */
    read_some(fx.srv, fd, buf, sizeof buf, 12, 3000, &eof);
    cr_expect(strncmp((char *)buf, "HTTP/1.1 400 ", 13) == 0, "answer: %s", buf);
    close(fd);
    fx_fini(&fx);
}

/* Hive frames split byte by byte over WebSocket frames (continuations
 * included), and several packed into one message, both work. */
Test(ws, frames_split_and_packed, .init = use_ws, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, NULL, NULL, true);
    int fd = ws_open(fx.srv);
    uint8_t h[512], f[64];
    size_t hn = hello_bytes(h);
    for (size_t i = 0; i < hn; i++) {
        /* a message of one-byte frames: first binary, then continuations */
        size_t k = frame(f, i + 1 == hn, i == 0 ? 2 : 0, true, h + i, 1, 0);
        send_all(fd, f, k);
        hive_server_service(fx.srv, 1);
    }
    int64_t cid = fx_accepted_cid(&fx, 1);
    cr_assert_gt(cid, 0);
    /* The welcome arrives in a binary message. */
    cr_expect_gt(wait_ws(fx.srv, fd, 2, NULL, 3000), 0);
    /* A ping is answered with a pong carrying its payload. */
    size_t k = frame(f, true, 9, true, "abc", 3, 0);
    send_all(fd, f, k);
    cr_expect_eq(wait_ws(fx.srv, fd, 10, NULL, 3000), 3);
    close(fd);
    fx_fini(&fx);
}

/* Each WebSocket-level offence ends the link with the RFC's close code;
 * the server reports bad_frame and keeps serving others. */
static void expect_ws_close(const uint8_t *bytes, size_t n, uint16_t want_code, bool after_hello)
{
    fixture fx;
    fx_init(&fx, NULL, NULL, true);
    int fd = ws_open(fx.srv);
    if (after_hello) {
        uint8_t h[512], f[600];
        size_t hn = hello_bytes(h);
        send_all(fd, f, frame(f, true, 2, true, h, hn, 0));
        cr_assert_gt(wait_ws(fx.srv, fd, 2, NULL, 3000), 0, "the welcome");
        cr_assert_gt(fx_accepted_cid(&fx, 1), 0);
    }
    send_all(fd, bytes, n);
    uint16_t code = 0;
    cr_expect_gt(wait_ws(fx.srv, fd, 8, &code, 3000), -1, "a close frame comes back");
    cr_expect_eq(code, want_code);
    bool eof;
    uint8_t tmp[256];
    read_some(fx.srv, fd, tmp, sizeof tmp, sizeof tmp, 3000, &eof);
    cr_expect(eof, "then the connection ends");
    if (after_hello) {
        int64_t cid = fx_accepted_cid(&fx, 1);
        const rec_event *e = fx_wait_close(&fx, NULL, cid, 3000);
        cr_assert_not_null(e);
        cr_expect_str_eq(e->reason_name, "bad_frame");
    }
    fx_roundtrip(&fx, "still serving");
    close(fd);
    fx_fini(&fx);
}

Test(ws, unmasked_client_frame, .init = use_ws, .timeout = 30)
{
    uint8_t f[64];
    expect_ws_close(f, frame(f, true, 2, false, "xyz", 3, 0), 1002, true);
}

Test(ws, fragmented_control_frame, .init = use_ws, .timeout = 30)
{
    uint8_t f[64];
    /* A framing-level error: the close carries no status code (RFC 6455
     * 7.1.5: "no status"), the connection still ends as bad_frame. */
    expect_ws_close(f, frame(f, false, 9, true, "p", 1, 0), 0, true);
}

Test(ws, oversize_control_frame, .init = use_ws, .timeout = 30)
{
    uint8_t f[256], pay[126] = { 0 };
    expect_ws_close(f, frame(f, true, 9, true, pay, sizeof pay, 0), 0, true);
}

Test(ws, oversize_frame_declared, .init = use_ws, .timeout = 30)
{
    /* Declared 2^40 bytes; the first 16 of them follow. Nothing is
     * buffered for it: the limit applies per frame, at its header. */
    uint8_t f[64];
    size_t k = frame(f, true, 2, true, "0123456789abcdef", 16, (uint64_t)1 << 40);
    expect_ws_close(f, k, 1009, true);
}

Test(ws, text_message_refused, .init = use_ws, .timeout = 30)
{
    uint8_t f[64];
    expect_ws_close(f, frame(f, true, 1, true, "hello", 5, 0), 1003, true);
}

Test(ws, invalid_utf8_text, .init = use_ws, .timeout = 30)
{
    uint8_t f[64];
    expect_ws_close(f, frame(f, true, 1, true, "\xc3\x28", 2, 0), 1007, true);
}

Test(ws, reserved_opcode_and_bits, .init = use_ws, .timeout = 30)
{
    uint8_t f[64];
    size_t k = frame(f, true, 3, true, "x", 1, 0);
    expect_ws_close(f, k, 1002, true);
    k = frame(f, true, 2, true, "x", 1, 0);
    f[0] |= 0x40;   /* RSV1 without an extension */
    expect_ws_close(f, k, 1002, false);
}

/* Inside binary messages the core's own checks apply as on tcp://. */
Test(ws, oversized_hive_length_inside_ws, .init = use_ws, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, &(hive_server_config){ .max_frame = 8192 }, NULL, true);
    int fd = ws_open(fx.srv);
    uint8_t h[512], f[600];
    size_t hn = hello_bytes(h);
    send_all(fd, f, frame(f, true, 2, true, h, hn, 0));
    cr_assert_gt(wait_ws(fx.srv, fd, 2, NULL, 3000), 0);
    int64_t cid = fx_accepted_cid(&fx, 1);
    const uint8_t huge[] = { 0xc0, 0x84, 0x3d };   /* length 1,000,000 */
    send_all(fd, f, frame(f, true, 2, true, huge, sizeof huge, 0));
    const rec_event *e = fx_wait_close(&fx, NULL, cid, 3000);
    cr_assert_not_null(e);
    cr_expect_str_eq(e->reason_name, "frame_too_large");
    fx_roundtrip(&fx, "still serving");
    close(fd);
    fx_fini(&fx);
}

/* A peer that vanishes mid-frame is a peer_vanished close. */
Test(ws, vanishing_peer_mid_frame, .init = use_ws, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, NULL, NULL, true);
    int fd = ws_open(fx.srv);
    uint8_t h[512], f[600];
    size_t hn = hello_bytes(h);
    send_all(fd, f, frame(f, true, 2, true, h, hn, 0));
    cr_assert_gt(wait_ws(fx.srv, fd, 2, NULL, 3000), 0);
    int64_t cid = fx_accepted_cid(&fx, 1);
    frame(f, true, 2, true, "abcdefgh", 8, 0);
    send_all(fd, f, 4);   /* a WebSocket frame header cut short */
    close(fd);
    const rec_event *e = fx_wait_close(&fx, NULL, cid, 3000);
    cr_assert_not_null(e);
    cr_expect_str_eq(e->reason_name, "peer_vanished");
    fx_fini(&fx);
}

/* Static files on the WebSocket port (web_root): one URL opens the game. */
Test(ws, static_files, .init = use_ws, .timeout = 30)
{
    char root[] = "/tmp/hive-webroot-XXXXXX";
    cr_assert_not_null(mkdtemp(root));
    char p[128];
    snprintf(p, sizeof p, "%s/index.html", root);
    FILE *f = fopen(p, "w");
    fputs("<!doctype html><title>arena</title>", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/hive.js", root);
    f = fopen(p, "w");
    fputs("export const x = 1;\n", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/.secret", root);
    f = fopen(p, "w");
    fputs("no", f);
    fclose(f);
    /* A folder with its own page, and an npm-style scoped module. */
    snprintf(p, sizeof p, "%s/arena", root);
    cr_assert_eq(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/arena/index.html", root);
    f = fopen(p, "w");
    fputs("<p>the arena</p>", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/@scope", root);
    cr_assert_eq(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/@scope/m.mjs", root);
    f = fopen(p, "w");
    fputs("export default 2;\n", f);
    fclose(f);
    /* A symbolic link to a folder outside the root, a FIFO, and a folder
     * standing where an index.html would be. */
    snprintf(p, sizeof p, "%s/out", root);
    cr_assert_eq(symlink("/etc", p), 0);
    snprintf(p, sizeof p, "%s/pipe.js", root);
    cr_assert_eq(mkfifo(p, 0600), 0);
    snprintf(p, sizeof p, "%s/odd", root);
    cr_assert_eq(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/odd/index.html", root);
    cr_assert_eq(mkdir(p, 0700), 0);
    fixture fx;
    fx_init(&fx, &(hive_server_config){ .web_root = root }, NULL, true);
    struct { const char *req, *status, *body; } cases[] = {
        { "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 ", "<!doctype html><title>arena</title>" },
        { "GET /hive.js?v=3 HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 ", "export const x = 1;\n" },
        { "GET /nope.js HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404 ", NULL },
        { "GET /../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404 ", NULL },
        { "GET /.secret HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404 ", NULL },
        { "GET /%2e%2e/x HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404 ", NULL },
        { "GET //etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404 ", NULL },
        { "GET /arena/ HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 ", "<p>the arena</p>" },
        { "GET /arena?name=ada HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 301 ", "" },
        { "GET /@scope/m.mjs HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 ", "export default 2;\n" },
        { "GET /@scope/ HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404 ", NULL },
        { "GET /out/hostname HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404 ", NULL },   /* no link is followed */
        { "GET /out HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404 ", NULL },
        { "GET /pipe.js HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404 ", NULL },       /* never blocks */
        { "GET /odd/ HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404 ", NULL },          /* no redirect loop */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int fd = dial(hive_server_port(fx.srv));
        send_all(fd, cases[i].req, strlen(cases[i].req));
        uint8_t buf[4096];
        bool eof;
        read_some(fx.srv, fd, buf, sizeof buf, sizeof buf, 3000, &eof);
        cr_expect(strncmp((char *)buf, cases[i].status, strlen(cases[i].status)) == 0, "%s -> %.40s",
                  cases[i].req, buf);
        cr_expect(eof, "one request per connection");
        if (cases[i].body) {
            const char *b = strstr((char *)buf, "\r\n\r\n");
            cr_assert_not_null(b);
            cr_expect_str_eq(b + 4, cases[i].body);
        }
        if (i == 1 || i == 9) cr_expect_not_null(strstr((char *)buf, "Content-Type: text/javascript"));
        if (i == 8) cr_expect_not_null(strstr((char *)buf, "\r\nLocation: /arena/\r\n"), "%s", buf);
        close(fd);
    }
    /* Upgrades on the same port still work, and no file request was a connection. */
    cr_expect_eq(rec_count(fx.sr, "net:server.connection.accept"), 1);
    fx_roundtrip(&fx, "still serving");
    fx_fini(&fx);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    cr_expect_eq(system(cmd), 0);
}

/* A storm of connections that never send their upgrade cannot lock a
 * player out: when every link is taken, the oldest unfinished upgrade
 * makes room, and the core never heard of any of them. */
/* Peers that ask for a large file and never read it hold at most 64 MiB
 * of the server's memory in all: the next one is told 503, and once those
 * links are gone the file is served again. */
Test(ws, files_nobody_reads_are_bounded_in_all, .init = use_ws, .timeout = 60)
{
    char root[] = "/tmp/hive-webroot-XXXXXX";
    cr_assert_not_null(mkdtemp(root));
    char p[128];
    snprintf(p, sizeof p, "%s/big.bin", root);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    static char chunk[1 << 16];
    memset(chunk, 'b', sizeof chunk);
    for (int i = 0; i < 127; i++) fwrite(chunk, 1, sizeof chunk, f);   /* just under 8 MiB */
    fclose(f);
    fixture fx;
    fx_init(&fx, &(hive_server_config){ .web_root = root }, NULL, true);
    const char *req = "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n";
    int fds[8];
    for (int i = 0; i < 8; i++) {   /* 8 x 7.9 MiB: all taken, none read */
        fds[i] = dial(hive_server_port(fx.srv));
        int small = 4096;
        setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        send_all(fds[i], req, strlen(req));
        pump(fx.srv, NULL, 30, NULL, NULL);
    }
    int extra = dial(hive_server_port(fx.srv));
    send_all(extra, req, strlen(req));
    uint8_t buf[256];
    bool eof;
    read_some(fx.srv, extra, buf, sizeof buf, 13, 3000, &eof);
    cr_expect(strncmp((char *)buf, "HTTP/1.1 503 ", 13) == 0, "the ninth: %.40s", buf);
    close(extra);
    for (int i = 0; i < 8; i++) close(fds[i]);
    /* the links go (their peers closed), and the file is served again */
    bool served = false;
    for (int k = 0; k < 40 && !served; k++) {
        pump(fx.srv, NULL, 50, NULL, NULL);
        int fd = dial(hive_server_port(fx.srv));
        send_all(fd, req, strlen(req));
        read_some(fx.srv, fd, buf, sizeof buf, 13, 2000, &eof);
        served = strncmp((char *)buf, "HTTP/1.1 200 ", 13) == 0;
        close(fd);
    }
    cr_expect(served, "never served again: %.40s", buf);
    fx_fini(&fx);
    unlink(p);
    rmdir(root);
}

Test(ws, half_open_storm_does_not_lock_players_out, .init = use_ws, .timeout = 60)
{
    fixture fx;
    fx_init(&fx, &(hive_server_config){ .max_connections = 4, .max_handshakes = 4 }, NULL, true);
    enum { STORM = 200 };
    int fds[STORM];
    for (int i = 0; i < STORM; i++) {
        fds[i] = dial(hive_server_port(fx.srv));
        if (i % 16 == 0) hive_server_service(fx.srv, 0);
    }
    for (int i = 0; i < 50; i++) hive_server_service(fx.srv, 1);
    /* A newcomer gets in at once. */
    hive_bus *cbus = hive_bus_create(NULL);
    hive_client *c = hive_client_create(NULL, cbus);
    cr_assert_eq(hive_client_connect(c, fx.addr), HIVE_OK);
    cr_assert(pump(fx.srv, c, 3000, client_open, c), "the newcomer got in past the storm");
    cr_expect_eq(rec_count(fx.sr, "net:server.connection.accept"), 2, "no storm link reached the core");
    fx_roundtrip(&fx, "the first player plays on");
    hive_client_destroy(c);
    hive_bus_destroy(cbus);
    for (int i = 0; i < STORM; i++) close(fds[i]);
    fx_fini(&fx);
}

/* WebSocket pings from a peer that never reads: the pongs wslay owes
 * would grow without bound; a ping arriving with over 1 MiB queued ends
 * the link with slow_consumer. */
Test(ws, ping_flood_that_never_reads_is_closed, .init = use_ws, .timeout = 60)
{
    fixture fx;
    fx_init(&fx, NULL, NULL, true);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int rcv = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(hive_server_port(fx.srv)) };
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    send_all(fd, g_req, strlen(g_req));
    uint8_t buf[512];
    bool eof;
    read_some(fx.srv, fd, buf, sizeof buf, 129, 2000, &eof);   /* the 101 (its exact length) */
    uint8_t h[512], f[600];
    size_t hn = hello_bytes(h);
    send_all(fd, f, frame(f, true, 2, true, h, hn, 0));
    for (int i = 0; i < 100; i++) hive_server_service(fx.srv, 1);
    int64_t cid = fx_accepted_cid(&fx, 1);
    cr_assert_gt(cid, 0);
    /* Pings of 125 bytes, 64 per write, never a read. */
    static uint8_t batch[64 * 131];
    uint8_t pay[125];
    memset(pay, 'p', sizeof pay);
    size_t bn = 0;
    for (int i = 0; i < 64; i++) bn += frame(batch + bn, true, 9, true, pay, sizeof pay, 0);
    const rec_event *e = NULL;
    uint64_t end = hive_now_ns() + 20000000000ull;
    while (!(e = fx_server_close(&fx, cid)) && hive_now_ns() < end) {
        ssize_t w = send(fd, batch, bn, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)w;
        hive_server_service(fx.srv, 0);
        hive_client_service(fx.cli, 0);
    }
    cr_assert_not_null(e, "the pinging peer was never closed");
    cr_expect_str_eq(e->reason_name, "slow_consumer");
    fx_roundtrip(&fx, "still serving");
    close(fd);
    fx_fini(&fx);
}
