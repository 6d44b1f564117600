/*
 * tests/tls/certgen.h - throwaway certificates made at test run time.
 *
 * Every test that needs TLS calls certgen_make() for a fresh temporary
 * directory of PEM files (EC P-256 keys, made with OpenSSL's API so the
 * tests need no `openssl` program) and certgen_remove() at the end.
 * No key ever lives in the source tree.
 */
#ifndef HIVE_TESTS_CERTGEN_H
#define HIVE_TESTS_CERTGEN_H

#include <stdbool.h>

#define CERTGEN_PATH 300

typedef struct certgen {
    char dir[CERTGEN_PATH - 40];
    char ca[CERTGEN_PATH];            /* trusted CA certificate */
    char server_crt[CERTGEN_PATH];    /* CN=localhost, SAN DNS:localhost, IP:127.0.0.1, IP:::1 */
    char server_key[CERTGEN_PATH];
    char client_crt[CERTGEN_PATH];    /* CN=player-one,O=Hive Test, clientAuth */
    char client_key[CERTGEN_PATH];
    char other_ca[CERTGEN_PATH];      /* a CA nobody trusts */
    char rogue_crt[CERTGEN_PATH];     /* CN=localhost signed by other_ca */
    char rogue_key[CERTGEN_PATH];
    char expired_crt[CERTGEN_PATH];   /* CN=localhost by the trusted CA, expired yesterday */
    char expired_key[CERTGEN_PATH];
    char wronghost_crt[CERTGEN_PATH]; /* CN/SAN game.example.org by the trusted CA */
    char wronghost_key[CERTGEN_PATH];
} certgen;

/* Makes the directory and every file. true on success. */
bool certgen_make(certgen *c);
/* Deletes the files and the directory. */
void certgen_remove(certgen *c);

#endif
