/* The README is the first thing a user reads, so its code must work:
 *  - a block after `<!-- hive:compile -->` is compiled against this build's
 *    libraries (libhive-bridge.a, libhive-engine.a, and libhive-net.a +
 *    libhive-events.a: what the installed libhive.a holds) and run; it must exit 0 within
 *    20 seconds;
 *  - a block after `<!-- hive:file PATH -->` must be exactly PATH's text
 *    (those files are built by premake and run by their own tests). */
#include <criterion/criterion.h>
#include <unistd.h>
#include "docs_util.h"

#define COMPILE_TAG "<!-- hive:compile -->"
#define FILE_TAG "<!-- hive:file "

/* Returns a malloc'd copy of the ```c block that follows `at`, or NULL. */
static char *block_after(const char *at)
{
    const char *open = strstr(at, "```c\n");
    if (!open) return NULL;
    open += 5;
    const char *close = strstr(open, "\n```");
    if (!close) return NULL;
    size_t n = (size_t)(close - open) + 1;
    char *s = malloc(n + 1);
    memcpy(s, open, n);
    s[n] = 0;
    return s;
}

Test(readme, compile_blocks_build_and_run, .timeout = 240)
{
    char *readme = docs_slurp("README.md", NULL);
    cr_assert_not_null(readme, "README.md not found (run from the repo root)");
    char dir[] = "/tmp/hive-readme-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));

    int blocks = 0;
    for (const char *p = strstr(readme, COMPILE_TAG); p; p = strstr(p + 1, COMPILE_TAG)) {
        char *code = block_after(p);
        cr_assert_not_null(code, "hive:compile tag without a ```c block");
        char path[512], cmd[4096];
        snprintf(path, sizeof path, "%s/block%d.c", dir, blocks);
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f);
        fputs(code, f);
        fclose(f);
        free(code);
        snprintf(cmd, sizeof cmd,
                 "cc -std=gnu11 -Wall -Werror -Wno-unused-parameter %s -Iinclude -o %s/block%d %s "
                 "%s/libhive-bridge.a %s/libhive-engine.a %s/libhive-net.a %s/libhive-events.a -lnats -lenet -lmsgpackc -lwslay -lssl -lcrypto -lzstd -lpthread -lm && "
                 "timeout 20 %s/block%d",
                 docs_sanflags(), dir, blocks, path, docs_bindir(), docs_bindir(), docs_bindir(), docs_bindir(), dir, blocks);
        cr_expect_eq(docs_sh(cmd), 0, "README block %d failed: %s", blocks, cmd);
        blocks++;
    }
    cr_expect_gt(blocks, 0, "the README has no compiled example");

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    docs_sh(cmd);
    free(readme);
}

Test(readme, quoted_files_match_the_tree, .timeout = 20)
{
    char *readme = docs_slurp("README.md", NULL);
    cr_assert_not_null(readme);
    for (const char *p = strstr(readme, FILE_TAG); p; p = strstr(p + 1, FILE_TAG)) {
        char path[256];
        const char *s = p + strlen(FILE_TAG);
        size_t n = strcspn(s, " \n");
        cr_assert_lt(n, sizeof path);
        memcpy(path, s, n);
        path[n] = 0;
        char *code = block_after(p);
        cr_assert_not_null(code, "hive:file %s has no ```c block", path);
        char *file = docs_slurp(path, NULL);
        cr_expect_not_null(file, "README quotes %s, which does not exist", path);
        if (file) cr_expect_str_eq(code, file, "README's copy of %s is out of date", path);
        free(file);
        free(code);
    }
    free(readme);
}
