/*
 * net/tls.c - OpenSSL contexts and sessions over plain byte buffers.
 *
 * Why a custom BIO instead of BIO_s_mem: the transports want to recv()
 * straight into the ciphertext input and send() straight from the
 * ciphertext output. A memory BIO would cost one more copy each way and
 * offers no "consume n bytes" call. The BIO below is a thin view over two
 * growable arrays owned by the session.
 */
#include "events/internal.h"
#include "net/transport/tls.h"

#include <string.h>
#include <stdio.h>
#include <limits.h>
#include <pthread.h>
#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

struct hive__tls_ctx {
    SSL_CTX *ssl;
    bool server;
    bool skip_host;
    char *server_name;      /* client: overrides the address host */
};

typedef struct tls_buf {
    uint8_t *data;
    size_t off, len, cap;   /* live bytes are data[off .. off+len) */
} tls_buf;

struct hive__tls {
    SSL *ssl;
    hive__tls_ctx *ctx;
    tls_buf in, out;
    bool done;
    bool failed;
    bool oom;               /* the BIO could not grow the output */
    bool peer_alert;        /* the failure was an alert from the peer */
    char *peer_subject;
    char err[HIVE__TLS_ERR_MAX];
};

/* ------------------------------------------------------------------ */
/* growable byte buffers                                               */

static int buf_reserve(tls_buf *b, size_t n)
{
    if (b->cap - b->off - b->len >= n) return 0;
    /* Slide the live bytes to the front before growing: a stream that is
     * drained as fast as it fills never grows. */
    if (b->off) {
        memmove(b->data, b->data + b->off, b->len);
        b->off = 0;
        if (b->cap - b->len >= n) return 0;
    }
    size_t need = b->len + n;
    if (need < b->len) return HIVE_ENOMEM;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) return HIVE_ENOMEM;
        cap *= 2;
    }
    uint8_t *p = hive__realloc(b->data, cap);
    if (!p) return HIVE_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

static void buf_consume(tls_buf *b, size_t n)
{
    if (n > b->len) n = b->len;
    b->off += n;
    b->len -= n;
    if (b->len == 0) b->off = 0;
}

static void buf_free(tls_buf *b)
{
    hive__free(b->data);
    memset(b, 0, sizeof *b);
}

/* ------------------------------------------------------------------ */
/* the BIO: reads from t->in, writes to t->out                          */

static BIO_METHOD *g_bio_method;
static pthread_once_t g_bio_once = PTHREAD_ONCE_INIT;

static int bio_write(BIO *b, const char *data, int n)
{
    hive__tls *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (n <= 0) return 0;
    if (buf_reserve(&t->out, (size_t)n) < 0) {
        t->oom = true;
        return -1;
    }
    memcpy(t->out.data + t->out.off + t->out.len, data, (size_t)n);
    t->out.len += (size_t)n;
    return n;
}

static int bio_read(BIO *b, char *data, int n)
{
    hive__tls *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (n <= 0) return 0;
    if (t->in.len == 0) {
        /* Not end of stream: more may come from the network later. */
        BIO_set_retry_read(b);
        return -1;
    }
    size_t k = (size_t)n < t->in.len ? (size_t)n : t->in.len;
    memcpy(data, t->in.data + t->in.off, k);
    buf_consume(&t->in, k);
    return (int)k;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    hive__tls *t = BIO_get_data(b);
    switch (cmd) {
    case BIO_CTRL_FLUSH: return 1;
    case BIO_CTRL_PENDING: return t ? (long)t->in.len : 0;
    case BIO_CTRL_WPENDING: return t ? (long)t->out.len : 0;
    default: return 0;
    }
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static int bio_destroy(BIO *b)
{
    BIO_set_data(b, NULL);
    return 1;
}

static void bio_method_init(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "hive-tls");
    if (!m) return;
    BIO_meth_set_write(m, bio_write);
    BIO_meth_set_read(m, bio_read);
    BIO_meth_set_ctrl(m, bio_ctrl);
    BIO_meth_set_create(m, bio_create);
    BIO_meth_set_destroy(m, bio_destroy);
    g_bio_method = m;
}

/* ------------------------------------------------------------------ */
/* errors                                                              */

void hive__tls_last_error(char *buf, size_t len)
{
    if (!buf || !len) return;
    buf[0] = '\0';
    unsigned long e;
    size_t used = 0;
    /* Earliest error first: it names the cause; later ones are context. */
    while ((e = ERR_get_error()) != 0) {
        if (used + 3 >= len) continue;   /* drain the queue anyway */
        if (used) {
            memcpy(buf + used, "; ", 2);
            used += 2;
            buf[used] = '\0';
        }
        ERR_error_string_n(e, buf + used, len - used);
        used += strlen(buf + used);
    }
}

static void tls_fail(hive__tls *t, const char *fallback)
{
    char q[HIVE__TLS_ERR_MAX];
    /* Alerts received are reported with reasons from SSL_AD_REASON_OFFSET up. */
    unsigned long first = ERR_peek_error();
    t->peer_alert = first && ERR_GET_LIB(first) == ERR_LIB_SSL
                    && ERR_GET_REASON(first) >= SSL_AD_REASON_OFFSET;
    hive__tls_last_error(q, sizeof q);
    if (t->oom) snprintf(q, sizeof q, "out of memory");
    if (!q[0]) snprintf(q, sizeof q, "%s", fallback);
    long v = SSL_get_verify_result(t->ssl);
    if (v != X509_V_OK)
        snprintf(t->err, sizeof t->err, "%.200s (%.100s)", q, X509_verify_cert_error_string(v));
    else
        snprintf(t->err, sizeof t->err, "%s", q);
    t->failed = true;
}

/* ------------------------------------------------------------------ */
/* configs                                                             */

static bool dup_str(const char **dst, const char *src)
{
    *dst = NULL;
    if (!src) return true;
    return (*dst = hive__strdup(src)) != NULL;
}

int hive__tls_config_dup(hive_tls_config *dst, const hive_tls_config *src)
{
    static const hive_tls_config zero;
    if (!src) src = &zero;
    hive_tls_config c = *src;
    if (!dup_str(&c.cert_file, c.cert_file) || !dup_str(&c.key_file, c.key_file)
        || !dup_str(&c.ca_file, c.ca_file) || !dup_str(&c.server_name, c.server_name)
        || !dup_str(&c.ciphersuites, c.ciphersuites)) {
        /* Fields not reached yet still point at src's strings: clear them. */
        const char **f[] = { &c.cert_file, &c.key_file, &c.ca_file, &c.server_name, &c.ciphersuites };
        const char *orig[] = { src->cert_file, src->key_file, src->ca_file, src->server_name,
                               src->ciphersuites };
        for (int i = 0; i < 5; i++)
            if (*f[i] && *f[i] != orig[i]) hive__free((void *)*f[i]);
        memset(dst, 0, sizeof *dst);
        return HIVE_ENOMEM;
    }
    *dst = c;
    return 0;
}

void hive__tls_config_free(hive_tls_config *c)
{
    if (!c) return;
    hive__free((void *)c->cert_file);
    hive__free((void *)c->key_file);
    hive__free((void *)c->ca_file);
    hive__free((void *)c->server_name);
    hive__free((void *)c->ciphersuites);
    memset(c, 0, sizeof *c);
}

/* ------------------------------------------------------------------ */
/* contexts                                                            */

static void ctx_err(char *err, size_t errlen, const char *what, const char *file)
{
    char q[HIVE__TLS_ERR_MAX];
    hive__tls_last_error(q, sizeof q);
    if (!err || !errlen) return;
    if (file)
        snprintf(err, errlen, "%s '%s': %s", what, file, q[0] ? q : "failed");
    else
        snprintf(err, errlen, "%s: %s", what, q[0] ? q : "failed");
}

hive__tls_ctx *hive__tls_ctx_create(const hive_tls_config *cfg, bool server,
                                    char *err, size_t errlen)
{
    static const hive_tls_config zero;
    if (!cfg) cfg = &zero;
    if (err && errlen) err[0] = '\0';
    ERR_clear_error();

    hive__tls_ctx *c = hive__calloc(1, sizeof *c);
    if (!c) {
        if (err && errlen) snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->server = server;
    c->skip_host = cfg->insecure_skip_hostname || cfg->insecure_skip_verify;
    if (!server && cfg->server_name) {
        c->server_name = hive__strdup(cfg->server_name);
        if (!c->server_name) goto oom;
    }
    c->ssl = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!c->ssl) { ctx_err(err, errlen, "SSL_CTX_new", NULL); goto fail; }

    int minv = cfg->min_version == HIVE_TLS_1_2 ? TLS1_2_VERSION : TLS1_3_VERSION;
    if (cfg->min_version != HIVE_TLS_DEFAULT && cfg->min_version != HIVE_TLS_1_3
        && cfg->min_version != HIVE_TLS_1_2) {
        if (err && errlen) snprintf(err, errlen, "unknown min_version %d", (int)cfg->min_version);
        goto fail;
    }
    SSL_CTX_set_min_proto_version(c->ssl, minv);
    /* Renegotiation would let a peer restart a handshake mid-stream (TLS 1.2
     * only); Hive never needs it. */
    SSL_CTX_set_options(c->ssl, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    if (cfg->ciphersuites && !SSL_CTX_set_ciphersuites(c->ssl, cfg->ciphersuites)) {
        ctx_err(err, errlen, "ciphersuites", cfg->ciphersuites);
        goto fail;
    }

    if (cfg->cert_file) {
        if (SSL_CTX_use_certificate_chain_file(c->ssl, cfg->cert_file) != 1) {
            ctx_err(err, errlen, "cert_file", cfg->cert_file);
            goto fail;
        }
        const char *kf = cfg->key_file ? cfg->key_file : cfg->cert_file;
        if (SSL_CTX_use_PrivateKey_file(c->ssl, kf, SSL_FILETYPE_PEM) != 1) {
            ctx_err(err, errlen, "key_file", kf);
            goto fail;
        }
        if (SSL_CTX_check_private_key(c->ssl) != 1) {
            ctx_err(err, errlen, "key_file does not match cert_file", kf);
            goto fail;
        }
    } else if (server) {
        if (err && errlen) snprintf(err, errlen, "a TLS server needs cert_file and key_file");
        goto fail;
    }

    if (server) {
        /* Hive keeps no session cache, so tickets would be dead weight on
         * every handshake. */
        SSL_CTX_set_num_tickets(c->ssl, 0);
        SSL_CTX_set_session_cache_mode(c->ssl, SSL_SESS_CACHE_OFF);
        if (cfg->client_auth != HIVE_TLS_CLIENT_NONE) {
            if (!cfg->ca_file) {
                if (err && errlen) snprintf(err, errlen, "client_auth needs ca_file");
                goto fail;
            }
            if (SSL_CTX_load_verify_locations(c->ssl, cfg->ca_file, NULL) != 1) {
                ctx_err(err, errlen, "ca_file", cfg->ca_file);
                goto fail;
            }
            STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->ca_file);
            if (names) SSL_CTX_set_client_CA_list(c->ssl, names);
            int mode = SSL_VERIFY_PEER;
            if (cfg->client_auth == HIVE_TLS_CLIENT_REQUIRE) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
            SSL_CTX_set_verify(c->ssl, mode, NULL);
        }
    } else {
        if (cfg->ca_file) {
            if (SSL_CTX_load_verify_locations(c->ssl, cfg->ca_file, NULL) != 1) {
                ctx_err(err, errlen, "ca_file", cfg->ca_file);
                goto fail;
            }
        } else if (SSL_CTX_set_default_verify_paths(c->ssl) != 1) {
            ctx_err(err, errlen, "system trust store", NULL);
            goto fail;
        }
        SSL_CTX_set_verify(c->ssl, cfg->insecure_skip_verify ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
        SSL_CTX_set_session_cache_mode(c->ssl, SSL_SESS_CACHE_OFF);
    }
    ERR_clear_error();
    return c;
oom:
    if (err && errlen) snprintf(err, errlen, "out of memory");
fail:
    hive__tls_ctx_destroy(c);
    return NULL;
}

void hive__tls_ctx_destroy(hive__tls_ctx *c)
{
    if (!c) return;
    SSL_CTX_free(c->ssl);
    hive__free(c->server_name);
    hive__free(c);
}

bool hive__tls_ctx_is_server(const hive__tls_ctx *c)
{
    return c && c->server;
}

/* ------------------------------------------------------------------ */
/* sessions                                                            */

static bool is_ip_literal(const char *h)
{
    unsigned char tmp[16];
    return inet_pton(AF_INET, h, tmp) == 1 || inet_pton(AF_INET6, h, tmp) == 1;
}

hive__tls *hive__tls_create(hive__tls_ctx *c, const char *host)
{
    if (!c) return NULL;
    pthread_once(&g_bio_once, bio_method_init);
    if (!g_bio_method) return NULL;
    ERR_clear_error();

    hive__tls *t = hive__calloc(1, sizeof *t);
    if (!t) return NULL;
    t->ctx = c;
    t->ssl = SSL_new(c->ssl);
    if (!t->ssl) goto fail;
    BIO *b = BIO_new(g_bio_method);
    if (!b) goto fail;
    BIO_set_data(b, t);
    /* Same BIO both ways: SSL_set_bio takes a single reference then. */
    SSL_set_bio(t->ssl, b, b);

    if (c->server) {
        SSL_set_accept_state(t->ssl);
    } else {
        SSL_set_connect_state(t->ssl);
        const char *name = c->server_name ? c->server_name : host;
        if (name && *name) {
            bool ip = is_ip_literal(name);
            /* SNI carries DNS names only (RFC 6066). */
            if (!ip && !SSL_set_tlsext_host_name(t->ssl, name)) goto fail;
            if (!c->skip_host) {
                if (ip) {
                    X509_VERIFY_PARAM *vp = SSL_get0_param(t->ssl);
                    if (!X509_VERIFY_PARAM_set1_ip_asc(vp, name)) goto fail;
                } else if (!SSL_set1_host(t->ssl, name)) {
                    goto fail;
                }
            }
        }
    }
    return t;
fail:
    ERR_clear_error();
    hive__tls_destroy(t);
    return NULL;
}

void hive__tls_destroy(hive__tls *t)
{
    if (!t) return;
    SSL_free(t->ssl);    /* frees the BIO too */
    buf_free(&t->in);
    buf_free(&t->out);
    hive__free(t->peer_subject);
    hive__free(t);
}

uint8_t *hive__tls_in_reserve(hive__tls *t, size_t n)
{
    if (buf_reserve(&t->in, n) < 0) return NULL;
    return t->in.data + t->in.off + t->in.len;
}

void hive__tls_in_commit(hive__tls *t, size_t n)
{
    t->in.len += n;
}

int hive__tls_feed(hive__tls *t, const void *p, size_t n)
{
    if (!n) return 0;
    uint8_t *dst = hive__tls_in_reserve(t, n);
    if (!dst) return HIVE_ENOMEM;
    memcpy(dst, p, n);
    hive__tls_in_commit(t, n);
    return 0;
}

size_t hive__tls_in_pending(const hive__tls *t)
{
    return t->in.len;
}

const uint8_t *hive__tls_out(const hive__tls *t, size_t *len)
{
    *len = t->out.len;
    return t->out.len ? t->out.data + t->out.off : NULL;
}

void hive__tls_out_consume(hive__tls *t, size_t n)
{
    buf_consume(&t->out, n);
}

size_t hive__tls_out_pending(const hive__tls *t)
{
    return t->out.len;
}

static void capture_peer(hive__tls *t)
{
    X509 *peer = SSL_get1_peer_certificate(t->ssl);
    if (!peer) return;
    BIO *m = BIO_new(BIO_s_mem());
    if (m) {
        X509_NAME_print_ex(m, X509_get_subject_name(peer), 0, XN_FLAG_RFC2253);
        char *p = NULL;
        long n = BIO_get_mem_data(m, &p);
        if (n >= 0) {
            t->peer_subject = hive__malloc((size_t)n + 1);
            if (t->peer_subject) {
                memcpy(t->peer_subject, p, (size_t)n);
                t->peer_subject[n] = '\0';
            }
        }
        BIO_free(m);
    }
    X509_free(peer);
}

int hive__tls_handshake(hive__tls *t)
{
    if (t->failed) return HIVE_ETLS;
    if (t->done) return 1;
    ERR_clear_error();
    int r = SSL_do_handshake(t->ssl);
    if (r == 1) {
        t->done = true;
        capture_peer(t);
        return 1;
    }
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ && !t->oom) return 0;
    tls_fail(t, e == SSL_ERROR_ZERO_RETURN ? "peer closed during the TLS handshake"
                                            : "TLS handshake failed");
    return HIVE_ETLS;
}

bool hive__tls_done(const hive__tls *t)
{
    return t->done;
}

int hive__tls_read(hive__tls *t, void *buf, size_t cap)
{
    if (t->failed) return HIVE_ETLS;
    if (!t->done) {
        int h = hive__tls_handshake(t);
        if (h <= 0) return h;
    }
    if (cap > INT_MAX) cap = INT_MAX;
    ERR_clear_error();
    int r = SSL_read(t->ssl, buf, (int)cap);
    if (r > 0) return r;
    int e = SSL_get_error(t->ssl, r);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        if (t->oom) break;
        return 0;
    case SSL_ERROR_ZERO_RETURN:
        return HIVE_ECLOSED;
    default:
        break;
    }
    tls_fail(t, "TLS read failed");
    return HIVE_ETLS;
}

int hive__tls_write(hive__tls *t, const void *p, size_t n)
{
    if (t->failed) return HIVE_ETLS;
    if (!t->done) return HIVE_ESTATE;
    if (n == 0) return 0;
    const uint8_t *src = p;
    /* SSL_write takes an int; without SSL_MODE_ENABLE_PARTIAL_WRITE it
     * writes all or nothing, and our BIO only fails on out-of-memory. */
    while (n) {
        int k = n > (size_t)INT_MAX ? INT_MAX : (int)n;
        ERR_clear_error();
        int r = SSL_write(t->ssl, src, k);
        if (r <= 0) {
            tls_fail(t, "TLS write failed");
            return HIVE_ETLS;
        }
        src += r;
        n -= (size_t)r;
    }
    return 0;
}

int hive__tls_shutdown(hive__tls *t)
{
    if (t->failed || !t->done) return HIVE_ETLS;
    ERR_clear_error();
    int r = SSL_shutdown(t->ssl);
    if (r < 0) {
        int e = SSL_get_error(t->ssl, r);
        /* WANT_READ: close_notify is written, the peer's answer not in yet;
         * Hive does not wait for it. */
        if (e != SSL_ERROR_WANT_READ) {
            ERR_clear_error();
            return HIVE_ETLS;
        }
    }
    ERR_clear_error();
    return 0;
}

const char *hive__tls_error(const hive__tls *t)
{
    return t->err;
}

bool hive__tls_peer_alerted(const hive__tls *t)
{
    return t->peer_alert;
}

const char *hive__tls_peer_subject(const hive__tls *t)
{
    return t->peer_subject;
}

const char *hive__tls_version(const hive__tls *t)
{
    return SSL_get_version(t->ssl);
}

const char *hive__tls_cipher(const hive__tls *t)
{
    const SSL_CIPHER *c = SSL_get_current_cipher(t->ssl);
    return c ? SSL_CIPHER_get_name(c) : "";
}

bool hive__tls_uses_chacha(const hive__tls *t)
{
    const SSL_CIPHER *c = SSL_get_current_cipher(t->ssl);
    return c && SSL_CIPHER_get_cipher_nid(c) == NID_chacha20_poly1305;
}

int hive__tls_export(hive__tls *t, const char *label, uint8_t *out, size_t n)
{
    if (!t->done) return HIVE_ESTATE;
    ERR_clear_error();
    if (SSL_export_keying_material(t->ssl, out, n, label, strlen(label), NULL, 0, 0) != 1) {
        ERR_clear_error();
        return HIVE_ETLS;
    }
    return 0;
}

void *hive__tls_native(hive__tls *t)
{
    return t->ssl;
}
