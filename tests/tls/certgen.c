/* Throwaway test PKI built with OpenSSL's C API (see certgen.h). */
#include "certgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

static EVP_PKEY *newkey(void)
{
    return EVP_EC_gen("P-256");
}

static bool add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ex) return false;
    int ok = X509_add_ext(cert, ex, -1);
    X509_EXTENSION_free(ex);
    return ok == 1;
}

/* issuer == NULL: self-signed CA. Validity in seconds relative to now. */
static X509 *mkcert(EVP_PKEY *key, const char *cn, const char *org, X509 *issuer,
                    EVP_PKEY *issuer_key, bool ca, long from, long to,
                    const char *san, const char *eku, long serial)
{
    X509 *x = X509_new();
    if (!x) return NULL;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), from);
    X509_gmtime_adj(X509_getm_notAfter(x), to);
    X509_set_pubkey(x, key);
    X509_NAME *n = X509_get_subject_name(x);
    if (org) X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)org, -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509 *iss = issuer ? issuer : x;
    X509_set_issuer_name(x, X509_get_subject_name(iss));
    bool ok = add_ext(x, iss, NID_subject_key_identifier, "hash");
    if (ca) {
        ok = ok && add_ext(x, iss, NID_basic_constraints, "critical,CA:TRUE")
                && add_ext(x, iss, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        ok = ok && add_ext(x, iss, NID_authority_key_identifier, "keyid")
                && add_ext(x, iss, NID_basic_constraints, "critical,CA:FALSE")
                && add_ext(x, iss, NID_key_usage, "critical,digitalSignature");
        if (eku) ok = ok && add_ext(x, iss, NID_ext_key_usage, eku);
        if (san) ok = ok && add_ext(x, iss, NID_subject_alt_name, san);
    }
    if (!ok || !X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256())) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static bool write_pair(const char *crt, const char *keyf, X509 *x, EVP_PKEY *k)
{
    bool ok = true;
    FILE *f = fopen(crt, "w");
    if (!f) return false;
    ok = ok && PEM_write_X509(f, x) == 1;
    fclose(f);
    if (keyf) {
        f = fopen(keyf, "w");
        if (!f) return false;
        ok = ok && PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1;
        fclose(f);
    }
    return ok;
}

#define PATH(field, name) snprintf(c->field, sizeof c->field, "%s/%s", c->dir, name)

static bool leaf(X509 *ca, EVP_PKEY *cakey, const char *cn, const char *org, long from, long to,
                 const char *san, const char *eku, long serial, const char *crt, const char *keyf)
{
    EVP_PKEY *k = newkey();
    if (!k) return false;
    X509 *x = mkcert(k, cn, org, ca, cakey, false, from, to, san, eku, serial);
    bool ok = x && write_pair(crt, keyf, x, k);
    X509_free(x);
    EVP_PKEY_free(k);
    return ok;
}

bool certgen_make(certgen *c)
{
    memset(c, 0, sizeof *c);
    const char *tmp = getenv("TMPDIR");
    snprintf(c->dir, sizeof c->dir, "%s/hive-tls-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(c->dir)) return false;
    PATH(ca, "ca.pem");
    PATH(server_crt, "server.pem"); PATH(server_key, "server.key");
    PATH(client_crt, "client.pem"); PATH(client_key, "client.key");
    PATH(other_ca, "other-ca.pem");
    PATH(rogue_crt, "rogue.pem"); PATH(rogue_key, "rogue.key");
    PATH(expired_crt, "expired.pem"); PATH(expired_key, "expired.key");
    PATH(wronghost_crt, "wronghost.pem"); PATH(wronghost_key, "wronghost.key");

    const long day = 86400;
    bool ok = false;
    EVP_PKEY *cak = newkey(), *ocak = newkey();
    X509 *ca = NULL, *oca = NULL;
    if (!cak || !ocak) goto done;
    ca = mkcert(cak, "Hive Test CA", "Hive Test", NULL, NULL, true, -day, 30 * day, NULL, NULL, 1);
    oca = mkcert(ocak, "Untrusted CA", "Elsewhere", NULL, NULL, true, -day, 30 * day, NULL, NULL, 1);
    if (!ca || !oca) goto done;
    ok = write_pair(c->ca, NULL, ca, cak) && write_pair(c->other_ca, NULL, oca, ocak)
        && leaf(ca, cak, "localhost", "Hive Test", -day, 30 * day,
                "DNS:localhost,IP:127.0.0.1,IP:::1", "serverAuth", 2, c->server_crt, c->server_key)
        && leaf(ca, cak, "player-one", "Hive Test", -day, 30 * day,
                NULL, "clientAuth", 3, c->client_crt, c->client_key)
        && leaf(oca, ocak, "localhost", "Elsewhere", -day, 30 * day,
                "DNS:localhost,IP:127.0.0.1,IP:::1", "serverAuth", 4, c->rogue_crt, c->rogue_key)
        && leaf(ca, cak, "localhost", "Hive Test", -10 * day, -day,
                "DNS:localhost,IP:127.0.0.1,IP:::1", "serverAuth", 5, c->expired_crt, c->expired_key)
        && leaf(ca, cak, "game.example.org", "Hive Test", -day, 30 * day,
                "DNS:game.example.org", "serverAuth", 6, c->wronghost_crt, c->wronghost_key);
done:
    X509_free(ca);
    X509_free(oca);
    EVP_PKEY_free(cak);
    EVP_PKEY_free(ocak);
    if (!ok) certgen_remove(c);
    return ok;
}

void certgen_remove(certgen *c)
{
    const char *files[] = { c->ca, c->server_crt, c->server_key, c->client_crt, c->client_key,
                            c->other_ca, c->rogue_crt, c->rogue_key, c->expired_crt,
                            c->expired_key, c->wronghost_crt, c->wronghost_key };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (files[i][0]) unlink(files[i]);
    if (c->dir[0]) rmdir(c->dir);
    c->dir[0] = '\0';
}
