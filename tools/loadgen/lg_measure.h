/*
 * tools/loadgen/lg_measure.h - what the scale tools measure with:
 * a latency histogram with percentiles, a counting allocator, the CPU
 * clock of the calling thread and the resident set size.
 *
 * Shared by hive-loadgen, bench-scale and tests/scale, which all link
 * libhive-loadgen-core (every tools/loadgen/ source but main.c).
 */
#ifndef HIVE_LOADGEN_LG_MEASURE_H
#define HIVE_LOADGEN_LG_MEASURE_H

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ */
/* Latency histogram                                                    */
/* ------------------------------------------------------------------ */

/* Bounded memory whatever the sample count: 10 us buckets up to 10 ms,
 * 100 us up to 100 ms, 1 ms up to 10 s, one overflow bucket. A percentile
 * is therefore exact to 10 us below 10 ms and to 1% above. */
#define LG_HIST_T1 1000   /* 0..10 ms    in 10 us steps */
#define LG_HIST_T2 900    /* 10..100 ms  in 100 us steps */
#define LG_HIST_T3 9900   /* 100 ms..10 s in 1 ms steps */
#define LG_HIST_BUCKETS (LG_HIST_T1 + LG_HIST_T2 + LG_HIST_T3 + 1)

typedef struct lg_hist {
    uint64_t count;
    uint64_t sum_us;
    uint64_t max_us;
    uint32_t bucket[LG_HIST_BUCKETS];
} lg_hist;

void     lg_hist_reset(lg_hist *h);
void     lg_hist_add(lg_hist *h, uint64_t us);
/* lg_hist_percentile - the nearest-rank p-th percentile (0 < p <= 100) in
 * microseconds, as the upper edge of its bucket (never above max_us);
 * 0 when the histogram is empty. */
uint64_t lg_hist_percentile(const lg_hist *h, double p);
double   lg_hist_mean_us(const lg_hist *h);

/* ------------------------------------------------------------------ */
/* Counting allocator                                                   */
/* ------------------------------------------------------------------ */

/* Live and peak bytes handed out through lg_count_malloc/realloc/free,
 * which wrap the C library's and prefix each block with its size. The
 * counters are process-wide atomics. Install them with hive_set_allocator
 * (Hive) or enet_initialize_with_callbacks (raw ENet). */
void  *lg_count_malloc(size_t n);
void  *lg_count_realloc(void *p, size_t n);
void   lg_count_free(void *p);
size_t lg_count_live(void);      /* bytes allocated and not yet freed */
size_t lg_count_peak(void);
uint64_t lg_count_allocs(void);  /* number of malloc/realloc calls so far */

/* ------------------------------------------------------------------ */
/* Clocks and memory                                                    */
/* ------------------------------------------------------------------ */

uint64_t lg_now_us(void);         /* CLOCK_MONOTONIC */
uint64_t lg_now_ns(void);
uint64_t lg_thread_cpu_ns(void);  /* CLOCK_THREAD_CPUTIME_ID of the caller */
uint64_t lg_process_cpu_ns(void); /* user + system, getrusage(RUSAGE_SELF) */
size_t   lg_rss_bytes(void);      /* resident set, from /proc/self/statm; 0 if unknown */
/* lg_thread_runq_wait_ns - how long the calling thread has waited on a run
 * queue for a CPU (/proc/thread-self/schedstat); 0 if unknown. On a busy
 * 2-core machine this shows who was starved. */
uint64_t lg_thread_runq_wait_ns(void);

/* lg_udp_drops - datagrams dropped at this process's UDP socket bound to
 * `port` (the `drops` column of /proc/net/udp); 0 if not found. */
uint64_t lg_udp_drops(uint16_t port);

/* lg_raise_nofile - lift RLIMIT_NOFILE's soft limit to its hard limit.
 * Returns the new soft limit. */
long     lg_raise_nofile(void);

#endif /* HIVE_LOADGEN_LG_MEASURE_H */
