/*
 * net/transport/wsup.h - the WebSocket opening handshake (RFC 6455 section 4):
 * a strict, bounded parser of the client's HTTP/1.1 upgrade request, the
 * server's 101 answer (Sec-WebSocket-Accept) and HTTP error answers. The
 * first piece of the ws:// transport; no I/O here: the transport feeds
 * bytes as they come and bounds the time a request may take.
 *
 * What is refused, and with which status:
 *   400  malformed request line or header line (bare LF, a control byte,
 *        obs-fold continuation lines, a name with bad bytes), a body
 *        (Content-Length other than 0, Transfer-Encoding), no Host, an
 *        upgrade without `Connection: Upgrade`, a Sec-WebSocket-Key that is
 *        missing, repeated or not base64 of 16 bytes
 *   403  an Origin the allow-list does not hold (hive__ws_origin_allowed)
 *   405  a method other than GET
 *   426  Sec-WebSocket-Version other than 13 (the answer names 13)
 *   431  a request over HIVE__WS_REQ_MAX bytes or HIVE__WS_HEADERS_MAX headers
 *   505  an HTTP version other than HTTP/1.1
 * A GET without `Upgrade: websocket` is a plain request (upgrade false):
 * the transport may serve a file for it.
 */
#ifndef HIVE_NET_WSUP_H
#define HIVE_NET_WSUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HIVE__WS_REQ_MAX     8192   /* bytes of request line and headers */
#define HIVE__WS_HEADERS_MAX 64
#define HIVE__WS_FIELD_MAX   255    /* path, host, origin kept up to this */

typedef struct hive__ws_req {
    bool upgrade;                       /* a WebSocket upgrade (else a plain GET) */
    char path[HIVE__WS_FIELD_MAX + 1];
    char host[HIVE__WS_FIELD_MAX + 1];
    char origin[HIVE__WS_FIELD_MAX + 1];
    bool has_origin;
    char key[25];                       /* Sec-WebSocket-Key, 24 base64 characters */
    size_t size;                        /* bytes the request took (through the blank line) */
} hive__ws_req;

enum { HIVE__WS_MORE = 0, HIVE__WS_DONE = 1, HIVE__WS_BAD = -1 };

/*
 * hive__ws_parse - the request at the start of p[0..n). Returns
 * HIVE__WS_MORE (not complete yet, and within the limits: call again
 * with more bytes), HIVE__WS_DONE (*out filled; out->size bytes were the
 * request, what follows is the peer's first WebSocket data), or
 * HIVE__WS_BAD (*status and *why, a static string, say what to answer).
 */
int hive__ws_parse(const uint8_t *p, size_t n, hive__ws_req *out, int *status, const char **why);

/* hive__ws_accept - Sec-WebSocket-Accept for key: base64(SHA-1(key +
 * the RFC's GUID)), 28 characters and a NUL into out. 0 or -1. */
int hive__ws_accept(const char *key, char out[29]);

/* hive__ws_origin_allowed - whether origin may connect: no allow-list
 * (n == 0) or "*" allows any; otherwise an exact match, ASCII case
 * ignored ("https://game.example.org"). A request without Origin (a
 * native client) is allowed: browsers always send one. */
bool hive__ws_origin_allowed(const hive__ws_req *r, const char *const *allow, size_t n);

/* hive__ws_answer_101 / hive__ws_answer_error - the response bytes into
 * buf[cap]; returns their length, or 0 when cap is too small. An error
 * answer closes the connection (Connection: close) and, for 426, says
 * Sec-WebSocket-Version: 13. */
size_t hive__ws_answer_101(const hive__ws_req *r, char *buf, size_t cap);
size_t hive__ws_answer_error(int status, const char *why, char *buf, size_t cap);

/*
 * The dialing side (a native ws:// client).
 * hive__ws_new_key - a fresh Sec-WebSocket-Key (16 random bytes, base64)
 * into out. 0 or -1.
 * hive__ws_request - the upgrade request for host:port and path ("/" when
 * NULL) into buf[cap]; its length, or 0 when cap is too small.
 * hive__ws_parse_answer - the server's answer at the start of p[0..n):
 * HIVE__WS_MORE (incomplete, within HIVE__WS_REQ_MAX), HIVE__WS_DONE
 * (a 101 with Upgrade, Connection and the right Sec-WebSocket-Accept for
 * key; *size bytes were the answer, what follows is WebSocket data) or
 * HIVE__WS_BAD (*status: the HTTP status when the server refused, else
 * 0 or 101; *why a static string).
 */
int hive__ws_new_key(char out[25]);
size_t hive__ws_request(const char *host, unsigned port, const char *path, const char *key,
                        char *buf, size_t cap);
int hive__ws_parse_answer(const uint8_t *p, size_t n, const char *key, size_t *size, int *status,
                          const char **why);

/*
 * Static files (hive_server_config.web_root): a plain GET on a ws:// or
 * wss:// port.
 * hive__ws_file_path - the file for request path reqpath under root into
 * out[n]: 0, or 404 when the path is not one Hive serves. The query and
 * fragment are ignored; the path may hold only [A-Za-z0-9._-/@] (the '@'
 * of npm's scoped packages, as in node_modules/@msgpack), no empty
 * segment and no segment starting with '.' (so no "..", no hidden files);
 * one ending in '/' means its index.html. The caller still checks that
 * the file is a regular file within its size limit.
 * hive__ws_mime - the Content-Type for a file name, by extension.
 * hive__ws_answer_file - the 200 answer's head for size bytes of path into
 * buf[cap]; its length, or 0 when cap is too small.
 * hive__ws_answer_redirect - a 301 to reqpath (up to its query) with a '/'
 * added, for a request naming a folder without one (so "/arena" opens
 * "/arena/" and its page's relative links work); its length, or 0. Only
 * for a reqpath hive__ws_file_path accepted.
 */
int hive__ws_file_path(const char *root, const char *reqpath, char *out, size_t n);
const char *hive__ws_mime(const char *path);
size_t hive__ws_answer_file(const char *path, size_t size, char *buf, size_t cap);
size_t hive__ws_answer_redirect(const char *reqpath, char *buf, size_t cap);

#endif /* HIVE_NET_WSUP_H */
