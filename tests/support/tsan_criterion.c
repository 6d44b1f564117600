/*
 * tsan_criterion.c - lets Criterion start under ThreadSanitizer (TSan builds only).
 * Linked into every test binary (premake5.lua adds every file of tests/support).
 *
 * Criterion (through BoxFort) maps a shared "inheritable arena" at an address
 * it draws with rand_r() from 0x2000_0000_0000 + r * 16 MiB. Under TSan almost
 * all of that range is TSan's own shadow/meta memory, where TSan refuses fixed
 * mappings, so every test binary aborts at start-up ("Could not initialize
 * inheritable arena"). The only application range BoxFort can reach is the
 * one TSan keeps for PIE binaries (0x5500_0000_0000 - 0x5680_0000_0000).
 *
 * This rand_r (which takes precedence over libc's for the test binary) steers
 * the draw into the top of that range, above where ASLR puts the binary;
 * BoxFort still probes each candidate and skips mapped pages, and the values
 * vary so a busy candidate is never retried forever. Nothing in Hive or its
 * tests calls rand_r.
 */
#ifdef HIVE_TSAN
#include <stdlib.h>

int rand_r(unsigned int *seed)
{
    static unsigned calls;
    (void)seed;
    unsigned n = __atomic_fetch_add(&calls, 1, __ATOMIC_RELAXED);
    /* 0x360000..0x367eff: bases 0x5600_0000_0000..0x567e_ff00_0000 */
    return (int)(0x360000u + (n * 0x10u) % 0x7f00u);
}
#else
/* Not a TSan build: nothing to do (keeps this translation unit non-empty). */
typedef int hive_tsan_criterion_unused;
#endif
