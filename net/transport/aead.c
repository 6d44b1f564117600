/*
 * net/aead.c - per-datagram AEAD with a counter nonce and a replay window.
 *
 * The cipher contexts are keyed once; each packet only sets its nonce, so a
 * seal or open costs no key schedule.
 */
#include "net/transport/aead.h"
#include "net/transport/tls.h"

#include <string.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

static const EVP_CIPHER *alg_cipher(hive__aead_alg alg)
{
    return alg == HIVE__AEAD_CHACHA20POLY1305 ? EVP_chacha20_poly1305() : EVP_aes_256_gcm();
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) { p[i] = (uint8_t)v; v >>= 8; }
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
    return v;
}

static void make_nonce(uint8_t nonce[HIVE__AEAD_IV], const uint8_t iv[HIVE__AEAD_IV], uint64_t ctr)
{
    uint8_t c[8];
    put_u64(c, ctr);
    memcpy(nonce, iv, HIVE__AEAD_IV);
    for (int i = 0; i < 8; i++) nonce[4 + i] ^= c[i];
}

static EVP_CIPHER_CTX *keyed(hive__aead_alg alg, const uint8_t *key, int enc)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (!c) return NULL;
    if (EVP_CipherInit_ex(c, alg_cipher(alg), NULL, NULL, NULL, enc) != 1
        || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, HIVE__AEAD_IV, NULL) != 1
        || EVP_CipherInit_ex(c, NULL, NULL, key, NULL, enc) != 1) {
        EVP_CIPHER_CTX_free(c);
        return NULL;
    }
    return c;
}

int hive__aead_init(hive__aead *a, hive__aead_alg alg,
                    const uint8_t tx[HIVE__AEAD_KEY + HIVE__AEAD_IV],
                    const uint8_t rx[HIVE__AEAD_KEY + HIVE__AEAD_IV])
{
    memset(a, 0, sizeof *a);
    a->alg = alg;
    a->tx = keyed(alg, tx, 1);
    a->rx = keyed(alg, rx, 0);
    if (!a->tx || !a->rx) {
        hive__aead_free(a);
        ERR_clear_error();
        return HIVE_ETLS;
    }
    memcpy(a->tx_iv, tx + HIVE__AEAD_KEY, HIVE__AEAD_IV);
    memcpy(a->rx_iv, rx + HIVE__AEAD_KEY, HIVE__AEAD_IV);
    return 0;
}

int hive__aead_init_tls(hive__aead *a, struct hive__tls *t, bool server)
{
    uint8_t c2s[HIVE__AEAD_KEY + HIVE__AEAD_IV], s2c[HIVE__AEAD_KEY + HIVE__AEAD_IV];
    memset(a, 0, sizeof *a);
    int r = hive__tls_export(t, HIVE__AEAD_LABEL_C2S, c2s, sizeof c2s);
    if (r == 0) r = hive__tls_export(t, HIVE__AEAD_LABEL_S2C, s2c, sizeof s2c);
    if (r == 0) {
        hive__aead_alg alg = hive__tls_uses_chacha(t) ? HIVE__AEAD_CHACHA20POLY1305
                                                      : HIVE__AEAD_AES256GCM;
        r = server ? hive__aead_init(a, alg, s2c, c2s) : hive__aead_init(a, alg, c2s, s2c);
    }
    OPENSSL_cleanse(c2s, sizeof c2s);
    OPENSSL_cleanse(s2c, sizeof s2c);
    return r;
}

void hive__aead_free(hive__aead *a)
{
    if (!a) return;
    EVP_CIPHER_CTX_free(a->tx);
    EVP_CIPHER_CTX_free(a->rx);
    OPENSSL_cleanse(a, sizeof *a);
}

int hive__aead_seal(hive__aead *a, const uint8_t *pt, size_t n, uint8_t *out, size_t cap)
{
    if (!a->tx) return HIVE_ESTATE;
    if (n > (size_t)INT_MAX - HIVE__AEAD_OVERHEAD || cap < n + HIVE__AEAD_OVERHEAD)
        return HIVE_EINVAL;
    if (a->tx_next >= HIVE__AEAD_MAX_PACKETS) return HIVE_ELIMIT;
    uint64_t ctr = a->tx_next;
    uint8_t nonce[HIVE__AEAD_IV];
    make_nonce(nonce, a->tx_iv, ctr);
    out[0] = HIVE__AEAD_VERSION;
    put_u64(out + 1, ctr);

    int len = 0, fin = 0;
    uint8_t *ct = out + HIVE__AEAD_HEADER;
    if (EVP_EncryptInit_ex(a->tx, NULL, NULL, NULL, nonce) != 1
        || EVP_EncryptUpdate(a->tx, NULL, &len, out, HIVE__AEAD_HEADER) != 1
        || (n && EVP_EncryptUpdate(a->tx, ct, &len, pt, (int)n) != 1)
        || EVP_EncryptFinal_ex(a->tx, ct + (n ? len : 0), &fin) != 1
        || EVP_CIPHER_CTX_ctrl(a->tx, EVP_CTRL_AEAD_GET_TAG, HIVE__AEAD_TAG, ct + n) != 1) {
        ERR_clear_error();
        return HIVE_ETLS;
    }
    /* The counter moves even if the caller then fails to send: a nonce is
     * never used twice. */
    a->tx_next++;
    a->stats.sealed++;
    return (int)(n + HIVE__AEAD_OVERHEAD);
}

/* 0: fresh; HIVE_EEXIST: seen or older than the window. */
static int window_check(const hive__aead *a, uint64_t ctr)
{
    if (a->rx_top == 0 || ctr >= a->rx_top) return 0;
    uint64_t back = a->rx_top - 1 - ctr;
    if (back >= HIVE__AEAD_WINDOW) return HIVE_EEXIST;
    return (a->rx_seen >> back) & 1 ? HIVE_EEXIST : 0;
}

static void window_mark(hive__aead *a, uint64_t ctr)
{
    if (a->rx_top == 0 || ctr >= a->rx_top) {
        uint64_t shift = a->rx_top == 0 ? HIVE__AEAD_WINDOW : ctr + 1 - a->rx_top;
        a->rx_seen = shift >= HIVE__AEAD_WINDOW ? 0 : a->rx_seen << shift;
        a->rx_seen |= 1;
        a->rx_top = ctr + 1;
    } else {
        a->rx_seen |= (unsigned __int128)1 << (a->rx_top - 1 - ctr);
    }
}

int hive__aead_open(hive__aead *a, const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    if (!a->rx) return HIVE_ESTATE;
    if (n < HIVE__AEAD_OVERHEAD || n > (size_t)INT_MAX || in[0] != HIVE__AEAD_VERSION) {
        a->stats.malformed++;
        return HIVE_EPROTO;
    }
    size_t m = n - HIVE__AEAD_OVERHEAD;
    if (cap < m) return HIVE_EINVAL;
    uint64_t ctr = get_u64(in + 1);
    /* Cheap rejection before any crypto; re-checked implicitly by marking
     * only after the tag verifies. */
    /* A counter no sender may use is malformed, not a replay. */
    if (ctr >= HIVE__AEAD_MAX_PACKETS) {
        a->stats.malformed++;
        return HIVE_EPROTO;
    }
    if (window_check(a, ctr) < 0) {
        a->stats.replayed++;
        return HIVE_EEXIST;
    }
    uint8_t nonce[HIVE__AEAD_IV];
    make_nonce(nonce, a->rx_iv, ctr);
    const uint8_t *ct = in + HIVE__AEAD_HEADER;
    uint8_t tag[HIVE__AEAD_TAG];
    memcpy(tag, ct + m, HIVE__AEAD_TAG);
    int len = 0, fin = 0;
    if (EVP_DecryptInit_ex(a->rx, NULL, NULL, NULL, nonce) != 1
        || EVP_DecryptUpdate(a->rx, NULL, &len, in, HIVE__AEAD_HEADER) != 1
        || (m && EVP_DecryptUpdate(a->rx, out, &len, ct, (int)m) != 1)
        || EVP_CIPHER_CTX_ctrl(a->rx, EVP_CTRL_AEAD_SET_TAG, HIVE__AEAD_TAG, tag) != 1
        || EVP_DecryptFinal_ex(a->rx, out + (m ? len : 0), &fin) != 1) {
        ERR_clear_error();
        /* Whatever was decrypted is unauthenticated: do not leave it. */
        if (m) OPENSSL_cleanse(out, m);
        a->stats.auth_failed++;
        return HIVE_EPROTO;
    }
    window_mark(a, ctr);
    a->stats.opened++;
    return (int)m;
}
