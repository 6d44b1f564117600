/*
 * net/tls.h - OpenSSL 3 contexts and transport-independent TLS sessions.
 *
 * A hive__tls session never touches a socket. Ciphertext from the network
 * is written into its input buffer (hive__tls_in_reserve/commit or
 * hive__tls_feed); ciphertext to send is read from its output buffer
 * (hive__tls_out/out_consume). The same code therefore runs TLS over a TCP
 * stream (tls://) and over ENet's reliable channel (enet+tls://).
 *
 * The buffers are plain byte arrays behind a small custom BIO, so the TCP
 * transport can recv() straight into the input and send() straight from the
 * output: no extra copy over a memory BIO.
 *
 * Not thread-safe: one session is driven by one thread at a time. Contexts
 * may be shared by sessions on any thread (OpenSSL reference-counts them).
 */
#ifndef HIVE_NET_TLS_H
#define HIVE_NET_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "hive/common.h"
#include "hive/tls.h"

/* Longest error text kept for a session or context (with its NUL). */
#define HIVE__TLS_ERR_MAX 320

typedef struct hive__tls_ctx hive__tls_ctx;
typedef struct hive__tls hive__tls;

/*
 * hive__tls_config_dup - deep copy of a config (every string duplicated),
 * so servers and clients keep their own. src may be NULL (zero config).
 * Returns 0, or HIVE_ENOMEM with *dst zeroed (nothing to free).
 * hive__tls_config_free frees the copies and zeroes *c.
 */
int  hive__tls_config_dup(hive_tls_config *dst, const hive_tls_config *src);
void hive__tls_config_free(hive_tls_config *c);

/*
 * hive__tls_ctx_create - build an OpenSSL context from a config.
 * server: true for the accepting side. cfg may be NULL (client defaults).
 * On failure returns NULL and writes OpenSSL's reason (with the file name)
 * into err[errlen] when err is not NULL.
 */
hive__tls_ctx *hive__tls_ctx_create(const hive_tls_config *cfg, bool server,
                                    char *err, size_t errlen);
/* Drops the context; sessions made from it keep it alive. NULL is a no-op. */
void hive__tls_ctx_destroy(hive__tls_ctx *c);
bool hive__tls_ctx_is_server(const hive__tls_ctx *c);

/*
 * hive__tls_create - a new session in the handshake state.
 * host: client only, the name (DNS or IP literal) the server certificate
 * must match and the SNI sent, unless the config sets server_name (which
 * wins) or insecure_skip_hostname. NULL = no name check.
 * Returns NULL on out-of-memory or an OpenSSL failure.
 */
hive__tls *hive__tls_create(hive__tls_ctx *c, const char *host);
void hive__tls_destroy(hive__tls *t);   /* NULL is a no-op */

/* --- ciphertext in (from the network) --- */
/* Space for at least n more bytes; NULL on HIVE_ENOMEM. */
uint8_t *hive__tls_in_reserve(hive__tls *t, size_t n);
/* n bytes were written into the reserved space. */
void hive__tls_in_commit(hive__tls *t, size_t n);
/* reserve + copy + commit. 0 or HIVE_ENOMEM. */
int hive__tls_feed(hive__tls *t, const void *p, size_t n);
/* Bytes fed but not yet consumed by TLS. */
size_t hive__tls_in_pending(const hive__tls *t);

/* --- ciphertext out (to the network) --- */
/* Pointer to the waiting ciphertext, its length in *len (0: nothing). */
const uint8_t *hive__tls_out(const hive__tls *t, size_t *len);
/* n bytes of it were sent. */
void hive__tls_out_consume(hive__tls *t, size_t n);
size_t hive__tls_out_pending(const hive__tls *t);

/*
 * hive__tls_handshake - advance the handshake with what has been fed.
 * Returns 1 once complete (and every later call), 0 while waiting for the
 * peer (send what hive__tls_out holds, feed the answer, call again),
 * HIVE_ETLS on failure (text in hive__tls_error; an alert for the peer may
 * still wait in the output: send it before closing).
 */
int hive__tls_handshake(hive__tls *t);
bool hive__tls_done(const hive__tls *t);

/*
 * hive__tls_read - decrypt into buf[cap].
 * Returns the number of bytes (> 0), 0 when no whole record is buffered,
 * HIVE_ECLOSED after the peer's close_notify, HIVE_ETLS on failure.
 * Call until it returns <= 0 after each feed.
 */
int hive__tls_read(hive__tls *t, void *buf, size_t cap);

/*
 * hive__tls_write - encrypt n plaintext bytes into the output buffer.
 * All n bytes are taken or none: 0, HIVE_ESTATE before the handshake is
 * complete, HIVE_ETLS on failure. A successful write is never retried.
 */
int hive__tls_write(hive__tls *t, const void *p, size_t n);

/* Queue a close_notify alert in the output. 0 or HIVE_ETLS. */
int hive__tls_shutdown(hive__tls *t);

/* Last error text ("" if none): OpenSSL's error string, with the
 * certificate verification reason when that was the cause. */
const char *hive__tls_error(const hive__tls *t);
/* True when the failure came as an alert from the peer (it is closing
 * the connection itself), false when this side found the fault. */
bool hive__tls_peer_alerted(const hive__tls *t);
/* Verified peer certificate subject (RFC 2253, e.g. "CN=alice,O=Hive"),
 * or NULL when the peer sent none. Valid until destroy. */
const char *hive__tls_peer_subject(const hive__tls *t);
/* Negotiated protocol and cipher names after the handshake ("TLSv1.3"). */
const char *hive__tls_version(const hive__tls *t);
const char *hive__tls_cipher(const hive__tls *t);
/* True when the negotiated cipher is ChaCha20-Poly1305. */
bool hive__tls_uses_chacha(const hive__tls *t);

/*
 * hive__tls_export - RFC 5705 / RFC 8446 exporter: n bytes of keying
 * material bound to this session and label (no context). Both ends get
 * the same bytes. 0 or HIVE_ESTATE/HIVE_ETLS.
 */
int hive__tls_export(hive__tls *t, const char *label, uint8_t *out, size_t n);

/* The underlying SSL object (as void *), for tests and diagnostics. */
void *hive__tls_native(hive__tls *t);

/* Last OpenSSL error on this thread as text, clearing the queue. */
void hive__tls_last_error(char *buf, size_t len);

#endif /* HIVE_NET_TLS_H */
