/*
 * hive/tls.h - TLS settings for the secured transports (tls://, enet+tls://).
 *
 * A hive_tls_config sits inside hive_server_config and hive_client_config.
 * Every field left at zero takes the safe default: TLS 1.3 only, the
 * client verifies the server's chain and hostname, the server asks for no
 * client certificate. Strings are paths to PEM files; they are read when the
 * server or client is created (not kept), so they may be freed afterwards.
 *
 * See docs/SECURITY.md for how to run a secured server and what TLS in Hive
 * protects.
 */
#ifndef HIVE_TLS_H
#define HIVE_TLS_H

#include "hive/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Lowest protocol version accepted, in ascending order of version. Zero
 * (the default) is TLS 1.3. */
typedef enum hive_tls_version {
    HIVE_TLS_DEFAULT = 0,   /* TLS 1.3 */
    HIVE_TLS_1_2     = 1,   /* also accept TLS 1.2 (peers that lack 1.3) */
    HIVE_TLS_1_3     = 2
} hive_tls_version;

/* Whether a server asks connecting clients for a certificate (mutual TLS). */
typedef enum hive_tls_client_auth {
    HIVE_TLS_CLIENT_NONE     = 0,   /* default: no client certificate */
    HIVE_TLS_CLIENT_OPTIONAL = 1,   /* ask; verify one if sent; allow none */
    HIVE_TLS_CLIENT_REQUIRE  = 2    /* ask; the handshake fails without a valid one */
} hive_tls_client_auth;

typedef struct hive_tls_config {
    /* Certificate chain (PEM: leaf first, then intermediates) and its
     * private key (PEM). Required on a server; on a client only for mutual
     * TLS. key_file NULL = the key is in cert_file. */
    const char *cert_file;
    const char *key_file;
    /* PEM bundle of the CAs trusted to sign the peer's certificate.
     * Client: NULL = the system's default trust store.
     * Server: needed when client_auth is not NONE. */
    const char *ca_file;
    hive_tls_version min_version;
    /* Server only. */
    hive_tls_client_auth client_auth;
    /* Client only: the name the server's certificate must carry (DNS name
     * or IP address) and the SNI sent. NULL = the host part of the address
     * given to hive_client_connect. */
    const char *server_name;
    /* Client only, for tests and local play ONLY: skip hostname checking
     * (insecure_skip_hostname) or all certificate checking
     * (insecure_skip_verify). Both default to false (= verify). */
    bool insecure_skip_hostname;
    bool insecure_skip_verify;
    /* Optional OpenSSL cipher-suite list for TLS 1.3 (SSL_CTX_set_ciphersuites
     * syntax). NULL = OpenSSL's default. */
    const char *ciphersuites;
} hive_tls_config;

#ifdef __cplusplus
}
#endif

#endif /* HIVE_TLS_H */
