/* compress.c - zstd for frame bodies (see compress.h). */
#include "net/wire/compress.h"
#include "events/internal.h"
#include "hive/common.h"

#include <zstd.h>
#include <zstd_errors.h>

/* Grows *buf to at least need bytes. */
static int reserve(uint8_t **buf, size_t *cap, size_t need)
{
    if (*cap >= need) return HIVE_OK;
    size_t n = *cap ? *cap : 4096;
    while (n < need) n *= 2;
    uint8_t *p = hive__realloc(*buf, n);
    if (!p) return HIVE_ENOMEM;
    *buf = p;
    *cap = n;
    return HIVE_OK;
}

int hive__zstd_pack(hive__zstd *z, const void *src, size_t n, const uint8_t **out, size_t *outn)
{
    if (!z->cc && !(z->cc = ZSTD_createCCtx())) return HIVE_ENOMEM;
    size_t bound = ZSTD_compressBound(n);
    if (reserve(&z->cbuf, &z->ccap, bound) < 0) return HIVE_ENOMEM;
    /* The content size goes in the frame header (zstd's default for a
     * one-shot compress): the receiver sizes its buffer from it. */
    size_t r = ZSTD_compressCCtx(z->cc, z->cbuf, z->ccap, src, n, HIVE__ZSTD_LEVEL);
    if (ZSTD_isError(r)) return ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation ? HIVE_ENOMEM : HIVE_EAGAIN;
    if (r >= n) return HIVE_EAGAIN;
    *out = z->cbuf;
    *outn = r;
    return HIVE_OK;
}

int hive__zstd_unpack(hive__zstd *z, const void *src, size_t n, size_t max_out, const uint8_t **out,
                      size_t *outn)
{
    /* Exactly one frame, and what it says it holds, before any work. */
    size_t fsz = ZSTD_findFrameCompressedSize(src, n);
    if (ZSTD_isError(fsz) || fsz != n) return HIVE_EPROTO;
    unsigned long long declared = ZSTD_getFrameContentSize(src, n);
    if (declared == ZSTD_CONTENTSIZE_ERROR || declared == ZSTD_CONTENTSIZE_UNKNOWN) return HIVE_EPROTO;
    if (declared > max_out) return HIVE_ETOOBIG;
    if (!z->dc && !(z->dc = ZSTD_createDCtx())) return HIVE_ENOMEM;
    /* zstd's window may not exceed what the frame can need: a header
     * asking for a huge window (memory) is refused. */
    ZSTD_DCtx_setParameter(z->dc, ZSTD_d_windowLogMax, 27);
    if (reserve(&z->dbuf, &z->dcap, declared ? (size_t)declared : 1) < 0) return HIVE_ENOMEM;
    size_t r = ZSTD_decompressDCtx(z->dc, z->dbuf, (size_t)declared, src, n);
    if (ZSTD_isError(r)) {
        ZSTD_DCtx_reset(z->dc, ZSTD_reset_session_only);
        return ZSTD_getErrorCode(r) == ZSTD_error_dstSize_tooSmall ? HIVE_ETOOBIG : HIVE_EPROTO;
    }
    if (r != declared) return HIVE_EPROTO;
    *out = z->dbuf;
    *outn = r;
    return HIVE_OK;
}

void hive__zstd_free(hive__zstd *z)
{
    if (z->cc) ZSTD_freeCCtx(z->cc);
    if (z->dc) ZSTD_freeDCtx(z->dc);
    hive__free(z->cbuf);
    hive__free(z->dbuf);
    *z = (hive__zstd){ 0 };
}
