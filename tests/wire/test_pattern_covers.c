/* Pattern inclusion (remote subscriptions: does an export cover what a
 * client asks for?), including the hostile shape fuzz_remote found: many
 * `**` against many `**`, which once took exponential time. */
#include <criterion/criterion.h>
#include <string.h>
#include "net/wire/remote.h"

Test(pattern_covers, the_rules, .timeout = 5)
{
    cr_assert(hive__pattern_covers("arena:**", "arena:player.*"));
    cr_assert(hive__pattern_covers("arena:**", "arena:x"));
    cr_assert(hive__pattern_covers("arena:*", "arena:x"));
    cr_assert_not(hive__pattern_covers("arena:*", "arena:**"));
    cr_assert_not(hive__pattern_covers("arena:**", "**"));
    cr_assert_not(hive__pattern_covers("arena:x", "arena:y"));
    cr_assert(hive__pattern_covers("**", "**"));
}

Test(pattern_covers, many_double_stars_take_no_time, .timeout = 5)
{
    /* 40 segments of `**` against 40 of `*` and `**` mixed: decided in a
     * bounded number of steps (the test's timeout would catch the old
     * exponential search, which ran for minutes) */
    char a[128] = "", b[128] = "";
    for (int i = 0; i < 40; i++) {
        strcat(a, i ? ":**" : "**");
        strcat(b, i ? (i % 3 ? ":**" : ":*") : "**");
    }
    strcat(b, ":x");
    /* 40 `**` over 41 segments: each takes one or more, so it covers */
    cr_assert(hive__pattern_covers(a, b));
    cr_assert(hive__pattern_covers(a, a));
    /* ... but not 39: every `**` needs a segment of its own */
    char c[128] = "";
    for (int i = 0; i < 39; i++) strcat(c, i ? ":**" : "**");
    cr_assert_not(hive__pattern_covers(a, c));
    /* and a plain segment at the end that `*` cannot cover */
    strcat(c, ":*:**:y");
    cr_assert_not(hive__pattern_covers(c, "**:**"));
}
