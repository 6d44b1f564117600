/*
 * net/aead.h - sealing ENet's unreliable datagrams for enet+tls://.
 *
 * TLS protects the reliable channel; unreliable packets cannot go through a
 * TLS stream (losing or reordering one would break it), so each one is
 * sealed on its own with an AEAD keyed from the TLS session:
 *
 *   u8   version   (HIVE__AEAD_VERSION)
 *   u64  counter   big-endian, per direction, starts at 0, never repeats
 *   ...  ciphertext (as long as the plaintext)
 *   u8   tag[16]
 *
 * The 9 header bytes are the associated data. The nonce is the direction's
 * 12-byte IV XOR the counter (in its last 8 bytes), as in TLS 1.3. Keys and
 * IVs come from SSL_export_keying_material with one label per direction.
 * A 128-packet sliding window rejects replays; the window only moves after
 * a packet authenticates, so forged counters cannot push it.
 *
 * Not thread-safe: one hive__aead per connection, driven by one thread.
 */
#ifndef HIVE_NET_AEAD_H
#define HIVE_NET_AEAD_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <openssl/evp.h>
#include "hive/common.h"

#define HIVE__AEAD_VERSION   1
#define HIVE__AEAD_HEADER    9
#define HIVE__AEAD_TAG       16
#define HIVE__AEAD_OVERHEAD  (HIVE__AEAD_HEADER + HIVE__AEAD_TAG)
#define HIVE__AEAD_KEY       32
#define HIVE__AEAD_IV        12
#define HIVE__AEAD_WINDOW    128
/* Packets sealed per direction before the connection must end: far below
 * both the nonce space and AES-GCM's usage limits for small packets. */
#define HIVE__AEAD_MAX_PACKETS (UINT64_C(1) << 32)

/* The exporter labels (RFC 8446 7.5). */
#define HIVE__AEAD_LABEL_C2S "EXPORTER-hive-enet-c2s"
#define HIVE__AEAD_LABEL_S2C "EXPORTER-hive-enet-s2c"

typedef enum hive__aead_alg {
    HIVE__AEAD_AES256GCM = 0,
    HIVE__AEAD_CHACHA20POLY1305 = 1
} hive__aead_alg;

typedef struct hive__aead_stats {
    uint64_t sealed;       /* datagrams sealed */
    uint64_t opened;       /* datagrams that authenticated and were fresh */
    uint64_t auth_failed;  /* tag did not verify: dropped */
    uint64_t replayed;     /* counter seen already or older than the window: dropped */
    uint64_t malformed;    /* too short or unknown version: dropped */
} hive__aead_stats;

typedef struct hive__aead {
    EVP_CIPHER_CTX *tx, *rx;
    uint8_t tx_iv[HIVE__AEAD_IV], rx_iv[HIVE__AEAD_IV];
    uint64_t tx_next;              /* next counter to send */
    uint64_t rx_top;               /* highest counter accepted + 1; 0 = none yet */
    unsigned __int128 rx_seen;     /* bit i: counter rx_top-1-i was accepted */
    hive__aead_alg alg;
    hive__aead_stats stats;
} hive__aead;

struct hive__tls;

/*
 * hive__aead_init - key both directions. tx/rx: 32-byte key then 12-byte IV.
 * Returns 0, HIVE_ENOMEM or HIVE_ETLS. On failure *a is left freed.
 */
int hive__aead_init(hive__aead *a, hive__aead_alg alg,
                    const uint8_t tx[HIVE__AEAD_KEY + HIVE__AEAD_IV],
                    const uint8_t rx[HIVE__AEAD_KEY + HIVE__AEAD_IV]);

/*
 * hive__aead_init_tls - derive both directions from a finished TLS session
 * (server: sends with s2c, receives with c2s; client the other way). Uses
 * ChaCha20-Poly1305 when TLS negotiated it (both ends see the same suite),
 * AES-256-GCM otherwise. 0, HIVE_ESTATE, HIVE_ETLS or HIVE_ENOMEM.
 */
int hive__aead_init_tls(hive__aead *a, struct hive__tls *t, bool server);

/* Frees the cipher contexts and wipes the keys. Safe on a zeroed struct. */
void hive__aead_free(hive__aead *a);

/*
 * hive__aead_seal - seal pt[n] into out[cap] (cap >= n + HIVE__AEAD_OVERHEAD).
 * Returns the datagram size (> 0), HIVE_EINVAL (cap too small or n too big),
 * HIVE_ELIMIT (counter exhausted: close the connection), HIVE_ETLS.
 */
int hive__aead_seal(hive__aead *a, const uint8_t *pt, size_t n, uint8_t *out, size_t cap);

/*
 * hive__aead_open - check and decrypt a datagram into out[cap]
 * (cap >= n - HIVE__AEAD_OVERHEAD). Returns the plaintext size (>= 0), or,
 * after counting the drop in a->stats: HIVE_EPROTO (malformed or failed
 * authentication) or HIVE_EEXIST (replayed or too old). The caller just
 * drops the datagram; the connection goes on.
 */
int hive__aead_open(hive__aead *a, const uint8_t *in, size_t n, uint8_t *out, size_t cap);

#endif /* HIVE_NET_AEAD_H */
