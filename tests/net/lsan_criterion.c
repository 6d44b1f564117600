/*
 * lsan_criterion.c - Criterion's runner (criterion_run_all_tests) leaks a
 * 48-byte block now and then when it runs tests in parallel (--jobs 2).
 * That block is Criterion's, never Hive's. The suppression names the
 * runner's function, so it matches that block only: a test's own leaks
 * happen in a worker whose stack never holds criterion_run_all_tests.
 * Criterion is built without frame pointers, so the suppression can only
 * see that function with the slow (DWARF) unwinder on malloc.
 * The sanitizer runtimes ask for these two functions by name at start-up;
 * other builds ignore them.
 */
const char *__lsan_default_suppressions(void);
const char *__asan_default_options(void);

const char *__lsan_default_suppressions(void)
{
    return "leak:criterion_run_all_tests\n";
}

const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}
