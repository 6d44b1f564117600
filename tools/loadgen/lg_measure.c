/* lg_measure.c - histogram, counting allocator, clocks, memory. */
#include "tools/loadgen/lg_measure.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

void lg_hist_reset(lg_hist *h) { memset(h, 0, sizeof *h); }

static size_t bucket_of(uint64_t us)
{
    if (us < 10000) return (size_t)(us / 10);
    if (us < 100000) return LG_HIST_T1 + (size_t)((us - 10000) / 100);
    if (us < 10000000) return LG_HIST_T1 + LG_HIST_T2 + (size_t)((us - 100000) / 1000);
    return LG_HIST_BUCKETS - 1;
}

/* Upper edge of bucket b, in microseconds. */
static uint64_t bucket_top(size_t b)
{
    if (b < LG_HIST_T1) return (uint64_t)(b + 1) * 10;
    b -= LG_HIST_T1;
    if (b < LG_HIST_T2) return 10000 + (uint64_t)(b + 1) * 100;
    b -= LG_HIST_T2;
    if (b < LG_HIST_T3) return 100000 + (uint64_t)(b + 1) * 1000;
    return UINT64_MAX;
}

void lg_hist_add(lg_hist *h, uint64_t us)
{
    h->bucket[bucket_of(us)]++;
    h->count++;
    h->sum_us += us;
    if (us > h->max_us) h->max_us = us;
}

uint64_t lg_hist_percentile(const lg_hist *h, double p)
{
    if (!h->count) return 0;
    if (p <= 0) p = 0.0001;
    if (p > 100) p = 100;
    /* nearest rank: the smallest value with at least p% of samples <= it */
    uint64_t rank = (uint64_t)((p / 100.0) * (double)h->count + 0.999999);
    if (rank < 1) rank = 1;
    if (rank > h->count) rank = h->count;
    uint64_t seen = 0;
    for (size_t b = 0; b < LG_HIST_BUCKETS; b++) {
        seen += h->bucket[b];
        if (seen >= rank) {
            uint64_t top = bucket_top(b);
            return top < h->max_us ? top : h->max_us;
        }
    }
    return h->max_us;
}

double lg_hist_mean_us(const lg_hist *h)
{
    return h->count ? (double)h->sum_us / (double)h->count : 0.0;
}

/* The size lives in a 16-byte prefix so that free knows what to subtract
 * and the user pointer keeps malloc's alignment. */
#define PREFIX 16
static atomic_size_t g_live, g_peak;
static atomic_uint_fast64_t g_allocs;

static void note_add(size_t n)
{
    size_t live = atomic_fetch_add_explicit(&g_live, n, memory_order_relaxed) + n;
    size_t peak = atomic_load_explicit(&g_peak, memory_order_relaxed);
    while (live > peak &&
           !atomic_compare_exchange_weak_explicit(&g_peak, &peak, live,
                                                  memory_order_relaxed, memory_order_relaxed)) {
    }
    atomic_fetch_add_explicit(&g_allocs, 1, memory_order_relaxed);
}

void *lg_count_malloc(size_t n)
{
    unsigned char *p = malloc(n + PREFIX);
    if (!p) return NULL;
    memcpy(p, &n, sizeof n);
    note_add(n);
    return p + PREFIX;
}

void lg_count_free(void *ptr)
{
    if (!ptr) return;
    unsigned char *p = (unsigned char *)ptr - PREFIX;
    size_t n;
    memcpy(&n, p, sizeof n);
    atomic_fetch_sub_explicit(&g_live, n, memory_order_relaxed);
    free(p);
}

void *lg_count_realloc(void *ptr, size_t n)
{
    if (!ptr) return lg_count_malloc(n);
    unsigned char *p = (unsigned char *)ptr - PREFIX;
    size_t old;
    memcpy(&old, p, sizeof old);
    unsigned char *q = realloc(p, n + PREFIX);
    if (!q) return NULL;
    memcpy(q, &n, sizeof n);
    atomic_fetch_sub_explicit(&g_live, old, memory_order_relaxed);
    note_add(n);
    return q + PREFIX;
}

size_t lg_count_live(void) { return atomic_load_explicit(&g_live, memory_order_relaxed); }
size_t lg_count_peak(void) { return atomic_load_explicit(&g_peak, memory_order_relaxed); }
uint64_t lg_count_allocs(void) { return atomic_load_explicit(&g_allocs, memory_order_relaxed); }

uint64_t lg_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t lg_now_us(void) { return lg_now_ns() / 1000; }

uint64_t lg_thread_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t lg_process_cpu_ns(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
           ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
}

size_t lg_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long size = 0, resident = 0;
    int ok = fscanf(f, "%lu %lu", &size, &resident) == 2;
    fclose(f);
    return ok ? (size_t)resident * (size_t)sysconf(_SC_PAGESIZE) : 0;
}

uint64_t lg_thread_runq_wait_ns(void)
{
    FILE *f = fopen("/proc/thread-self/schedstat", "r");
    if (!f) return 0;
    unsigned long long run = 0, wait = 0;
    int ok = fscanf(f, "%llu %llu", &run, &wait) == 2;
    fclose(f);
    return ok ? (uint64_t)wait : 0;
}

uint64_t lg_udp_drops(uint16_t port)
{
    FILE *f = fopen("/proc/net/udp", "r");
    if (!f) return 0;
    char line[512];
    uint64_t drops = 0;
    if (!fgets(line, sizeof line, f)) { fclose(f); return 0; }
    while (fgets(line, sizeof line, f)) {
        unsigned laddr, lport;
        if (sscanf(line, " %*d: %x:%x", &laddr, &lport) != 2 || lport != port) continue;
        /* The last field is drops. The kernel pads the line with spaces
         * after it, so take the last token, not what follows the last
         * space. */
        char *end = line + strlen(line);
        while (end > line && (end[-1] == ' ' || end[-1] == '\n')) end--;
        char *tok = end;
        while (tok > line && tok[-1] != ' ') tok--;
        *end = 0;
        drops = strtoull(tok, NULL, 10);
        break;
    }
    fclose(f);
    return drops;
}

long lg_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return (long)rl.rlim_cur;
}
