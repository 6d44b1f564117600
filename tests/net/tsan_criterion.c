/*
 * tsan_criterion.c - lets this Criterion binary start under ThreadSanitizer.
 * Same workaround as tests/bus/tsan_criterion.c (read its comment): BoxFort
 * draws its arena address with rand_r(), and under TSan only the PIE range
 * can hold it, so this rand_r steers the draw there. TSan builds only.
 */
#ifdef HIVE_TSAN
#include <stdlib.h>

int rand_r(unsigned int *seed)
{
    static unsigned calls;
    (void)seed;
    unsigned n = __atomic_fetch_add(&calls, 1, __ATOMIC_RELAXED);
    return (int)(0x360000u + (n * 0x10u) % 0x7f00u);
}
#else
typedef int hive_net_tsan_criterion_unused;
#endif
