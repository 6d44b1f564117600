/*
 * bench/compress.c - what compression (hive/net.h COMPRESSION) gives and
 * costs on a game's data, each number next to a baseline measured in the
 * same run (median of 5 rounds, min-max in the line after):
 *
 *   zstd.level_1mib.*     a 1 MiB tile map (1024 x 1024 tiles: smooth
 *                         terrain bands, scattered items), the kind of blob
 *                         a game sends when a player joins a level
 *   zstd.noise_64k.*      64 KiB of random bytes (already compressed data:
 *                         what compression cannot help)
 *   zstd.snapshot_<n>.*   the demo's snapshot (demo/common/snapshot.c: tick,
 *                         seq, it, and per player [id, x, y, score, flags,
 *                         ack, frozen]) for n players
 *
 * For each: .size (compressed bytes; ratio vs the raw size), .compress and
 * .decompress (MB/s of raw data; ratio vs memcpy of the same bytes). For
 * the snapshots, .compress is ns per snapshot with its ratio vs building
 * the snapshot with hive_msg (the work a server does anyway). Hive
 * compresses only bodies of compress_threshold bytes (8 KiB) or more; the
 * snapshot lines show why the small ones are left alone.
 */
#include "hive/hive.h"
#include "net/wire/compress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUNDS 5

static void report(const char *name, double v, const char *unit)
{
    printf("hive-bench %s value=%.3f unit=%s\n", name, v, unit);
}

static void ratio(const char *name, double r, const char *vs)
{
    printf("hive-bench %s ratio=%.4f vs=%s\n", name, r, vs);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n, double *lo, double *hi)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    *lo = v[0];
    *hi = v[n - 1];
    return v[n / 2];
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

/* Seconds for `reps` calls of one operation on n bytes. */
typedef struct job { hive__zstd *z; const uint8_t *src; size_t n; uint8_t *comp; size_t cn; uint8_t *dst; } job;

static double time_memcpy(job *j, int reps)
{
    uint64_t t = hive_now_ns();
    for (int i = 0; i < reps; i++) {
        memcpy(j->dst, j->src, j->n);
        __asm__ volatile("" ::"r"(j->dst) : "memory");
    }
    return (double)(hive_now_ns() - t) / 1e9;
}

static double time_pack(job *j, int reps)
{
    const uint8_t *c;
    size_t cn = 0;
    uint64_t t = hive_now_ns();
    for (int i = 0; i < reps; i++)
        if (hive__zstd_pack(j->z, j->src, j->n, &c, &cn) != HIVE_OK) cn = j->n;
    return (double)(hive_now_ns() - t) / 1e9;
}

static double time_unpack(job *j, int reps)
{
    const uint8_t *d;
    size_t dn;
    uint64_t t = hive_now_ns();
    for (int i = 0; i < reps; i++) hive__zstd_unpack(j->z, j->comp, j->cn, 1u << 24, &d, &dn);
    return (double)(hive_now_ns() - t) / 1e9;
}

static void blob(const char *name, const uint8_t *src, size_t n, int reps)
{
    hive__zstd z = { 0 };
    job j = { &z, src, n, NULL, n, malloc(n) };
    const uint8_t *c;
    size_t cn;
    if (hive__zstd_pack(&z, src, n, &c, &cn) == HIVE_OK) {
        j.comp = malloc(cn);
        memcpy(j.comp, c, cn);
        j.cn = cn;
    } else {
        cn = n;   /* would be sent as it is */
    }
    char key[96];
    snprintf(key, sizeof key, "zstd.%s.size", name);
    report(key, (double)cn, "bytes");
    ratio(key, (double)cn / (double)n, "raw");
    double mc[ROUNDS], pk[ROUNDS], up[ROUNDS], lo, hi;
    for (int r = 0; r < ROUNDS; r++) {   /* interleaved: the same conditions for all three */
        mc[r] = (double)n * reps / time_memcpy(&j, reps) / 1e6;
        pk[r] = (double)n * reps / time_pack(&j, reps) / 1e6;
        up[r] = j.comp ? (double)n * reps / time_unpack(&j, reps) / 1e6 : 0;
    }
    double m = median(mc, ROUNDS, &lo, &hi);
    double p = median(pk, ROUNDS, &lo, &hi);
    snprintf(key, sizeof key, "zstd.%s.compress", name);
    report(key, p, "MB/s");
    printf("  (compress min-max %.1f-%.1f MB/s over %d rounds)\n", lo, hi, ROUNDS);
    ratio(key, p / m, "memcpy");
    if (j.comp) {
        double u = median(up, ROUNDS, &lo, &hi);
        snprintf(key, sizeof key, "zstd.%s.decompress", name);
        report(key, u, "MB/s");
        printf("  (decompress min-max %.1f-%.1f MB/s)\n", lo, hi);
        ratio(key, u / m, "memcpy");
    }
    free(j.comp);
    free(j.dst);
    hive__zstd_free(&z);
}

typedef struct splayer { uint32_t id; float x, y; uint32_t score, flags, ack, frozen; } splayer;

static void build_snapshot(hive_msg *m, const splayer *p, int n, uint32_t tick)
{
    hive_msg_reset(m);
    hive_msg_map(m, 4);
    hive_msg_kv_uint(m, "t", tick);
    hive_msg_kv_uint(m, "q", tick);
    hive_msg_kv_uint(m, "it", p[0].id);
    hive_msg_key(m, "p");
    hive_msg_array(m, (uint32_t)n);
    for (int i = 0; i < n; i++) {
        hive_msg_array(m, 7);
        hive_msg_uint(m, p[i].id);
        msgpack_pack_float(&m->pk, p[i].x);
        msgpack_pack_float(&m->pk, p[i].y);
        hive_msg_uint(m, p[i].score);
        hive_msg_uint(m, p[i].flags);
        hive_msg_uint(m, p[i].ack);
        hive_msg_uint(m, p[i].frozen);
    }
}

static void snapshot(int n, int reps)
{
    splayer p[256];
    for (int i = 0; i < n; i++)
        p[i] = (splayer){ (uint32_t)(i + 1), (float)(next() % 8000) / 10.f, (float)(next() % 6000) / 10.f,
                          next() % 50, next() % 4, next() % 100000, 0 };
    hive_msg m;
    hive_msg_init(&m);
    build_snapshot(&m, p, n, 1000);
    size_t raw = hive_msg_size(&m);
    hive__zstd z = { 0 };
    const uint8_t *c;
    size_t cn;
    int rc = hive__zstd_pack(&z, hive_msg_data(&m), raw, &c, &cn);
    if (rc != HIVE_OK) cn = raw;
    char key[96];
    snprintf(key, sizeof key, "zstd.snapshot_%d.size", n);
    report(key, (double)cn, "bytes");
    ratio(key, (double)cn / (double)raw, "raw");
    double enc[ROUNDS], pk[ROUNDS], lo, hi;
    for (int r = 0; r < ROUNDS; r++) {
        uint64_t t = hive_now_ns();
        for (int i = 0; i < reps; i++) build_snapshot(&m, p, n, 1000u + (uint32_t)i);
        enc[r] = (double)(hive_now_ns() - t) / reps;
        t = hive_now_ns();
        for (int i = 0; i < reps; i++) hive__zstd_pack(&z, hive_msg_data(&m), hive_msg_size(&m), &c, &cn);
        pk[r] = (double)(hive_now_ns() - t) / reps;
    }
    double e = median(enc, ROUNDS, &lo, &hi);
    double k = median(pk, ROUNDS, &lo, &hi);
    snprintf(key, sizeof key, "zstd.snapshot_%d.compress", n);
    report(key, k, "ns");
    printf("  (%zu raw bytes; compress min-max %.0f-%.0f ns)\n", raw, lo, hi);
    ratio(key, k / e, "hive_msg_build");
    hive_msg_free(&m);
    hive__zstd_free(&z);
}

int main(void)
{
    /* The level: bands of terrain that change slowly along a row, items
     * scattered on about 2 % of the tiles. */
    size_t n = 1u << 20;
    uint8_t *level = malloc(n);
    for (size_t y = 0; y < 1024; y++) {
        uint8_t t = (uint8_t)(y / 97 % 5);
        for (size_t x = 0; x < 1024; x++) {
            if (next() % 64 == 0) t = (uint8_t)(next() % 5);
            uint8_t v = (uint8_t)(t * 16);
            if (next() % 50 == 0) v |= (uint8_t)(1 + next() % 15);
            level[y * 1024 + x] = v;
        }
    }
    blob("level_1mib", level, n, 20);
    uint8_t *noise = malloc(65536);
    for (size_t i = 0; i < 65536; i++) noise[i] = (uint8_t)next();
    blob("noise_64k", noise, 65536, 200);
    snapshot(8, 20000);
    snapshot(32, 10000);
    snapshot(64, 5000);
    free(level);
    free(noise);
    return 0;
}
