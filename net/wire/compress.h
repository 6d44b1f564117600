/*
 * net/wire/compress.h - zstd for frame bodies (docs/PROTOCOL.md,
 * "Compression"): one compressor and one decompressor context per
 * endpoint, with their own output buffers, reused for every frame. No I/O.
 *
 * A compressed body is exactly one zstd frame that declares its content
 * size; the receiver refuses anything else before decompressing a byte,
 * and never writes more than the declared size, which may not exceed its
 * limit: a decompression bomb costs at most max_out bytes of buffer.
 */
#ifndef HIVE_NET_COMPRESS_H
#define HIVE_NET_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hive__zstd {
    void *cc, *dc;               /* ZSTD_CCtx, ZSTD_DCtx (made at first use) */
    uint8_t *cbuf, *dbuf;        /* outputs: compress, decompress */
    size_t ccap, dcap;
} hive__zstd;

/* zstd's level for frame bodies: its fastest regular level, so a game's
 * 8 KiB snapshot costs microseconds. */
#define HIVE__ZSTD_LEVEL 1

/*
 * hive__zstd_pack - compress src[0..n). Returns HIVE_OK with *out (valid
 * until the next pack) and *outn < n; HIVE_EAGAIN when the result would
 * not be smaller (send it as it is); HIVE_ENOMEM.
 */
int hive__zstd_pack(hive__zstd *z, const void *src, size_t n, const uint8_t **out, size_t *outn);

/*
 * hive__zstd_unpack - decompress one zstd frame src[0..n) of at most
 * max_out bytes. Returns HIVE_OK with *out (valid until the next unpack)
 * and *outn; HIVE_ETOOBIG (the declared size is over max_out, or the
 * data expands past what it declared); HIVE_EPROTO (not exactly one
 * well-formed zstd frame with its size declared, or corrupt data);
 * HIVE_ENOMEM.
 */
int hive__zstd_unpack(hive__zstd *z, const void *src, size_t n, size_t max_out, const uint8_t **out,
                      size_t *outn);

void hive__zstd_free(hive__zstd *z);

#endif /* HIVE_NET_COMPRESS_H */
