/*
 * fuzz_zstd.c - libFuzzer target for the decompressing decoder of frame
 * bodies (net/wire/compress.c, hive__zstd_unpack), which reads the body
 * of every compressed frame a peer sends.
 *
 * Input: the first byte picks the limit (max_out, 1..65536 bytes in steps
 * of 256), the rest is the compressed body. Half the runs first wrap the
 * input in a valid zstd frame (so the decoder's later stages are reached
 * too, with the fuzzer's bytes as content).
 * Invariants (abort() = a crash for libFuzzer):
 *   - the result is HIVE_OK, HIVE_ETOOBIG, HIVE_EPROTO or HIVE_ENOMEM;
 *   - HIVE_OK gives at most max_out bytes, and exactly what the frame's
 *     header declared;
 *   - the decoder never holds a buffer larger than max_out (a bomb is
 *     refused, not decompressed);
 *   - a frame made by hive__zstd_pack from bytes of at most max_out comes
 *     back byte for byte.
 * Build and run: tools/fuzz.sh (make fuzz).
 */
#include "net/wire/compress.h"
#include "hive/common.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    size_t max_out = ((size_t)data[0] + 1) * 256;
    bool wrap = data[1] & 1;
    data += 2;
    size -= 2;
    static hive__zstd z;   /* kept across runs, as an endpoint keeps its own */
    const uint8_t *out;
    size_t n;
    if (wrap) {
        hive__zstd pz = { 0 };
        const uint8_t *c;
        size_t cn;
        int prc = hive__zstd_pack(&pz, data, size, &c, &cn);
        if (prc == HIVE_OK) {
            uint8_t *copy = malloc(cn ? cn : 1);
            memcpy(copy, c, cn);
            int rc = hive__zstd_unpack(&z, copy, cn, max_out, &out, &n);
            if (size <= max_out) {
                if (rc != HIVE_OK || n != size || memcmp(out, data, size) != 0) abort();
            } else if (rc != HIVE_ETOOBIG) {
                abort();
            }
            free(copy);
        } else if (prc != HIVE_EAGAIN) {
            abort();
        }
        hive__zstd_free(&pz);
        return 0;
    }
    int rc = hive__zstd_unpack(&z, data, size, max_out, &out, &n);
    if (rc != HIVE_OK && rc != HIVE_ETOOBIG && rc != HIVE_EPROTO && rc != HIVE_ENOMEM) abort();
    if (rc == HIVE_OK) {
        if (n > max_out) abort();
        unsigned long long declared = ZSTD_getFrameContentSize(data, size);
        if (declared != n) abort();
    }
    if (z.dcap > 65536 * 2) abort();   /* reserve() rounds up to a power of two */
    return 0;
}
