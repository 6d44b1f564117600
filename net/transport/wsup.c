/* wsup.c - the WebSocket opening handshake (net/transport/wsup.h). */
#include "net/transport/wsup.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

static const char g_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static int bad(int st, const char *w, int *status, const char **why)
{
    *status = st;
    *why = w;
    return HIVE__WS_BAD;
}

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static bool ieq(const char *a, size_t an, const char *b)
{
    size_t bn = strlen(b);
    if (an != bn) return false;
    for (size_t i = 0; i < an; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) return false;
    return true;
}

/* A header value holds token tok in its comma-separated list (case ignored). */
static bool has_token(const char *v, size_t n, const char *tok)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) i++;
        size_t s = i;
        while (i < n && v[i] != ',') i++;
        size_t e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t')) e--;
        if (e > s && ieq(v + s, e - s, tok)) return true;
    }
    return false;
}

/* tchar of RFC 9110. */
static bool tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || strchr("!#$%&'*+-.^_`|~", c);
}

static void keep(char *dst, const char *s, size_t n)
{
    if (n > HIVE__WS_FIELD_MAX) n = HIVE__WS_FIELD_MAX;
    memcpy(dst, s, n);
    dst[n] = 0;
}

/* A Sec-WebSocket-Key: 24 base64 characters that decode to 16 bytes. */
static bool good_key(const char *v, size_t n)
{
    if (n != 24 || v[22] != '=' || v[23] != '=') return false;
    for (size_t i = 0; i < 22; i++) {
        char c = v[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/'))
            return false;
    }
    /* The last character before the padding carries 2 bits: its low 4 are 0. */
    const char *alpha = "AQgw";
    return strchr(alpha, v[21]) != NULL;
}

int hive__ws_parse(const uint8_t *p, size_t n, hive__ws_req *out, int *status, const char **why)
{
    memset(out, 0, sizeof *out);
    *status = 0;
    *why = "";
    const char *s = (const char *)p;
    size_t lim = n < HIVE__WS_REQ_MAX ? n : HIVE__WS_REQ_MAX;
    /* Lines, each ending in CRLF. */
    size_t at = 0, line = 0;
    int headers = 0;
    bool host = false, up = false, conn = false, ver = false, key = false, body = false;
    bool ver13 = false;
    for (;;) {
        size_t e = at;
        while (e < lim && s[e] != '\n') e++;
        if (e == lim) {
            if (n >= HIVE__WS_REQ_MAX) return bad(431, "the request is too large", status, why);
            /* Bytes so far must already be plausible: refuse garbage early. */
            for (size_t i = at; i < e; i++)
                if ((unsigned char)s[i] < 0x20 && s[i] != '\t' && s[i] != '\r')
                    return bad(400, "a control byte in the request", status, why);
            return HIVE__WS_MORE;
        }
        if (e == at || s[e - 1] != '\r') return bad(400, "a line does not end in CRLF", status, why);
        size_t len = e - 1 - at;
        const char *l = s + at;
        at = e + 1;
        for (size_t i = 0; i < len; i++)
            if (((unsigned char)l[i] < 0x20 && l[i] != '\t') || l[i] == 0x7f)
                return bad(400, "a control byte in the request", status, why);
        if (line++ == 0) {
            /* GET SP path SP HTTP/1.1 */
            const char *sp1 = memchr(l, ' ', len);
            if (!sp1) return bad(400, "a malformed request line", status, why);
            size_t mlen = (size_t)(sp1 - l);
            const char *rest = sp1 + 1;
            size_t rlen = len - mlen - 1;
            const char *sp2 = memchr(rest, ' ', rlen);
            if (!mlen || !sp2 || sp2 == rest) return bad(400, "a malformed request line", status, why);
            for (size_t i = 0; i < mlen; i++)
                if (!tchar((unsigned char)l[i])) return bad(400, "a malformed method", status, why);
            size_t plen = (size_t)(sp2 - rest);
            const char *v = sp2 + 1;
            size_t vlen = rlen - plen - 1;
            if (memchr(v, ' ', vlen)) return bad(400, "a malformed request line", status, why);
            if (vlen != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' || v[5] < '0' || v[5] > '9' || v[7] < '0' ||
                v[7] > '9')
                return bad(400, "a malformed HTTP version", status, why);
            if (memcmp(v, "HTTP/1.1", 8) != 0) return bad(505, "HTTP/1.1 only", status, why);
            if (mlen != 3 || memcmp(l, "GET", 3) != 0) return bad(405, "only GET", status, why);
            if (rest[0] != '/') return bad(400, "the path must start with /", status, why);
            keep(out->path, rest, plen);
            continue;
        }
        if (len == 0) break;   /* the blank line: done */
        if (l[0] == ' ' || l[0] == '\t') return bad(400, "obsolete line folding", status, why);
        if (++headers > HIVE__WS_HEADERS_MAX) return bad(431, "too many headers", status, why);
        const char *colon = memchr(l, ':', len);
        if (!colon || colon == l) return bad(400, "a malformed header line", status, why);
        size_t nlen = (size_t)(colon - l);
        for (size_t i = 0; i < nlen; i++)
            if (!tchar((unsigned char)l[i])) return bad(400, "a malformed header name", status, why);
        const char *v = colon + 1;
        size_t vlen = len - nlen - 1;
        while (vlen && (*v == ' ' || *v == '\t')) { v++; vlen--; }
        while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t')) vlen--;
        if (ieq(l, nlen, "host")) {
            if (host || !vlen) return bad(400, "one Host, not empty", status, why);
            host = true;
            keep(out->host, v, vlen);
        } else if (ieq(l, nlen, "upgrade")) {
            up = up || has_token(v, vlen, "websocket");
        } else if (ieq(l, nlen, "connection")) {
            conn = conn || has_token(v, vlen, "upgrade");
        } else if (ieq(l, nlen, "sec-websocket-key")) {
            if (key || !good_key(v, vlen)) return bad(400, "Sec-WebSocket-Key must be one base64 nonce of 16 bytes", status, why);
            key = true;
            memcpy(out->key, v, 24);
            out->key[24] = 0;
        } else if (ieq(l, nlen, "sec-websocket-version")) {
            if (ver) ver13 = false;   /* two of them: not 13 */
            else ver13 = vlen == 2 && v[0] == '1' && v[1] == '3';
            ver = true;
        } else if (ieq(l, nlen, "origin")) {
            if (out->has_origin) return bad(400, "one Origin", status, why);
            out->has_origin = true;
            keep(out->origin, v, vlen);
        } else if (ieq(l, nlen, "content-length")) {
            if (!(vlen == 1 && v[0] == '0')) body = true;
        } else if (ieq(l, nlen, "transfer-encoding")) {
            body = true;
        }
    }
    out->size = at;
    if (body) return bad(400, "a GET carries no body", status, why);
    if (!host) return bad(400, "no Host", status, why);
    if (!up) return HIVE__WS_DONE;   /* a plain GET */
    if (!conn) return bad(400, "an upgrade needs Connection: Upgrade", status, why);
    if (!key) return bad(400, "no Sec-WebSocket-Key", status, why);
    if (!ver || !ver13) return bad(426, "Sec-WebSocket-Version 13 only", status, why);
    out->upgrade = true;
    return HIVE__WS_DONE;
}

int hive__ws_accept(const char *key, char out[29])
{
    unsigned char in[64], md[SHA_DIGEST_LENGTH];
    size_t kl = strlen(key);
    if (kl + sizeof g_guid - 1 > sizeof in) return -1;
    memcpy(in, key, kl);
    memcpy(in + kl, g_guid, sizeof g_guid - 1);
    if (!SHA1(in, kl + sizeof g_guid - 1, md)) return -1;
    return EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH) == 28 ? 0 : -1;
}

bool hive__ws_origin_allowed(const hive__ws_req *r, const char *const *allow, size_t n)
{
    if (!n || !r->has_origin) return true;
    /* An Origin kept cut (HIVE__WS_FIELD_MAX) is no value the list can
     * vouch for: only "*" lets it in. */
    bool cut = strlen(r->origin) >= HIVE__WS_FIELD_MAX;
    for (size_t i = 0; i < n; i++) {
        if (cut && allow[i] && strcmp(allow[i], "*")) continue;
        if (!allow[i]) continue;
        if (!strcmp(allow[i], "*") || ieq(r->origin, strlen(r->origin), allow[i])) return true;
    }
    return false;
}

size_t hive__ws_answer_101(const hive__ws_req *r, char *buf, size_t cap)
{
    char acc[29];
    if (hive__ws_accept(r->key, acc) != 0) return 0;
    int k = snprintf(buf, cap,
                     "HTTP/1.1 101 Switching Protocols\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n\r\n",
                     acc);
    return k > 0 && (size_t)k < cap ? (size_t)k : 0;
}

static const char *reason_of(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 426: return "Upgrade Required";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

size_t hive__ws_answer_error(int status, const char *why, char *buf, size_t cap)
{
    const char *w = why ? why : "";
    int k = snprintf(buf, cap,
                     "HTTP/1.1 %d %s\r\n"
                     "%s"
                     "%s"
                     "Content-Type: text/plain; charset=utf-8\r\n"
                     "Content-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s\n",
                     status, reason_of(status), status == 426 ? "Sec-WebSocket-Version: 13\r\n" : "",
                     status == 405 ? "Allow: GET\r\n" : "", strlen(w) + 1, w);
    return k > 0 && (size_t)k < cap ? (size_t)k : 0;
}

/* ------------------------------------------------------------------ */
/* The dialing side                                                    */

int hive__ws_new_key(char out[25])
{
    unsigned char raw[16];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
        if (n < 0) return -1;
        got += (size_t)n;
    }
    return EVP_EncodeBlock((unsigned char *)out, raw, sizeof raw) == 24 ? 0 : -1;
}

size_t hive__ws_request(const char *host, unsigned port, const char *path, const char *key,
                        char *buf, size_t cap)
{
    bool v6 = strchr(host, ':') != NULL;
    int k = snprintf(buf, cap,
                     "GET %s HTTP/1.1\r\n"
                     "Host: %s%s%s:%u\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     path && *path ? path : "/", v6 ? "[" : "", host, v6 ? "]" : "", port, key);
    return k > 0 && (size_t)k < cap ? (size_t)k : 0;
}

int hive__ws_parse_answer(const uint8_t *p, size_t n, const char *key, size_t *size, int *status,
                          const char **why)
{
    *status = 0;
    /* Find the blank line first: nothing is judged on half an answer. */
    size_t end = 0;
    for (size_t i = 0; i + 3 < n; i++) {
        if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n') {
            end = i + 4;
            break;
        }
    }
    if (!end) {
        if (n >= HIVE__WS_REQ_MAX) return bad(0, "the server's answer is too large", status, why);
        return HIVE__WS_MORE;
    }
    if (end > HIVE__WS_REQ_MAX) return bad(0, "the server's answer is too large", status, why);
    const char *s = (const char *)p;
    if (end < 14 || memcmp(s, "HTTP/1.1 ", 9) != 0 || s[9] < '1' || s[9] > '5' || s[10] < '0' ||
        s[10] > '9' || s[11] < '0' || s[11] > '9' || s[12] != ' ')
        return bad(0, "not an HTTP/1.1 answer", status, why);
    int st = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    if (st != 101) {
        *status = st;
        *why = "the server refused the WebSocket upgrade";
        return HIVE__WS_BAD;
    }
    char want[29];
    if (hive__ws_accept(key, want) != 0) return bad(0, "cannot compute Sec-WebSocket-Accept", status, why);
    bool up = false, conn = false, acc = false;
    size_t i = 0;
    while (i < end && s[i] != '\n') i++;
    i++;
    while (i + 2 <= end) {
        size_t ls = i;
        while (i < end && s[i] != '\n') i++;
        size_t le = i;           /* at '\n' */
        i++;
        if (le == ls || s[le - 1] != '\r') return bad(0, "malformed header line in the answer", status, why);
        le--;                    /* drop '\r' */
        if (le == ls) break;     /* the blank line */
        const char *c = memchr(s + ls, ':', le - ls);
        if (!c) return bad(0, "malformed header line in the answer", status, why);
        size_t nn = (size_t)(c - (s + ls));
        const char *v = c + 1;
        size_t vn = (size_t)((s + le) - v);
        while (vn && (*v == ' ' || *v == '\t')) { v++; vn--; }
        while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t')) vn--;
        if (ieq(s + ls, nn, "upgrade")) up = has_token(v, vn, "websocket");
        else if (ieq(s + ls, nn, "connection")) conn = has_token(v, vn, "upgrade");
        else if (ieq(s + ls, nn, "sec-websocket-accept")) acc = vn == 28 && memcmp(v, want, 28) == 0;
        else if (ieq(s + ls, nn, "sec-websocket-extensions") || ieq(s + ls, nn, "sec-websocket-protocol"))
            return bad(0, "the server chose an extension or subprotocol that was not offered", status, why);
    }
    if (!up || !conn) return bad(101, "the answer lacks Upgrade: websocket / Connection: Upgrade", status, why);
    if (!acc) return bad(101, "wrong Sec-WebSocket-Accept in the answer", status, why);
    *size = end;
    return HIVE__WS_DONE;
}

/* ------------------------------------------------------------------ */
/* Static files                                                        */

int hive__ws_file_path(const char *root, const char *reqpath, char *out, size_t n)
{
    if (!root || !*root) return 404;
    size_t pl = strcspn(reqpath, "?#");   /* the query and fragment name no file */
    if (pl == 0 || reqpath[0] != '/' || strlen(reqpath) >= HIVE__WS_FIELD_MAX) return 404;
    /* A conservative alphabet, no "..", no empty or hidden segment: what
     * a game's assets need, and nothing a path trick could use ('@' names
     * no parent and escapes nothing). */
    for (size_t i = 0; i < pl; i++) {
        char c = reqpath[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == '-' || c == '/' || c == '@';
        if (!ok) return 404;
        if (c == '/' && i + 1 < pl && (reqpath[i + 1] == '/' || reqpath[i + 1] == '.')) return 404;
    }
    bool dir = reqpath[pl - 1] == '/';
    int k = snprintf(out, n, "%s%.*s%s", root, (int)pl, reqpath, dir ? "index.html" : "");
    return k > 0 && (size_t)k < n ? 0 : 404;
}

const char *hive__ws_mime(const char *path)
{
    static const struct { const char *ext, *type; } t[] = {
        { ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
        { ".mjs", "text/javascript; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
        { ".json", "application/json" }, { ".png", "image/png" }, { ".jpg", "image/jpeg" },
        { ".svg", "image/svg+xml" }, { ".ico", "image/x-icon" }, { ".wasm", "application/wasm" },
        { ".txt", "text/plain; charset=utf-8" }, { ".ttf", "font/ttf" }, { ".woff2", "font/woff2" },
    };
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
            if (strcmp(dot, t[i].ext) == 0) return t[i].type;
    return "application/octet-stream";
}

size_t hive__ws_answer_file(const char *path, size_t size, char *buf, size_t cap)
{
    int k = snprintf(buf, cap,
                     "HTTP/1.1 200 OK\r\n"
                     "Content-Type: %s\r\n"
                     "Content-Length: %zu\r\n"
                     "Cache-Control: no-cache\r\n"
                     "X-Content-Type-Options: nosniff\r\n"
                     "Connection: close\r\n\r\n",
                     hive__ws_mime(path), size);
    return k > 0 && (size_t)k < cap ? (size_t)k : 0;
}

size_t hive__ws_answer_redirect(const char *reqpath, char *buf, size_t cap)
{
    size_t pl = strcspn(reqpath, "?#");
    int k = snprintf(buf, cap,
                     "HTTP/1.1 301 Moved Permanently\r\n"
                     "Location: %.*s/\r\n"
                     "Content-Length: 0\r\n"
                     "Connection: close\r\n\r\n",
                     (int)pl, reqpath);
    return k > 0 && (size_t)k < cap ? (size_t)k : 0;
}
