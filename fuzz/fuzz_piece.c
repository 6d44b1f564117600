/*
 * fuzz_piece.c - libFuzzer target for the piece decoder (net/wire/piece.c,
 * hive__piece_parse), which reads the body of every piece of a transfer a
 * peer sends (docs/PROTOCOL.md, "Large messages").
 *
 * Input: a piece body. Invariants (abort() = a crash for libFuzzer):
 *   - an accepted body's slice lies inside the input and ends it exactly;
 *   - re-encoding what was read with hive__piece_header plus the slice
 *     gives a body that parses to the same fields (the encoder and the
 *     decoder agree on every value the decoder accepts);
 *   - the decoder never reads past the input (ASan).
 * Build and run: tools/fuzz.sh (make fuzz).
 */
#include "net/wire/piece.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly size bytes, so a read past the end is caught. */
    uint8_t *in = malloc(size ? size : 1);
    if (!in) return 0;
    memcpy(in, data, size);
    hive__piece p;
    if (hive__piece_parse(in, size, &p) == 0) {
        if (p.data < in || p.data + p.len != in + size) abort();
        uint8_t *again = malloc(HIVE__PIECE_HEADER_MAX + p.len + 1);
        if (!again) abort();
        size_t hn = hive__piece_header(again, &p);
        if (hn > HIVE__PIECE_HEADER_MAX) abort();
        memcpy(again + hn, p.data, p.len);
        hive__piece q;
        if (hive__piece_parse(again, hn + p.len, &q) != 0) abort();
        if (q.tid != p.tid || q.pid != p.pid || q.total != p.total || q.offset != p.offset || q.flags != p.flags ||
            q.len != p.len || memcmp(q.data, p.data, p.len) != 0)
            abort();
        free(again);
    }
    free(in);
    return 0;
}
