/* Helpers for the documentation tests: find the repo, run shell commands. */
#ifndef HIVE_TESTS_DOCS_UTIL_H
#define HIVE_TESTS_DOCS_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* The configuration the tests were built in decides the flags a program
 * linked against that build's libraries needs. */
static inline const char *docs_bindir(void)
{
    const char *b = getenv("HIVE_BINDIR");
    return b && *b ? b : "bin/Sanitize";
}

static inline const char *docs_sanflags(void)
{
    const char *b = docs_bindir();
    if (strstr(b, "TSan")) return "-fsanitize=thread";
    if (strstr(b, "Sanitize")) return "-fsanitize=address,undefined -fno-sanitize-recover=all";
    return "";
}

/* Runs `cmd` through sh; returns its exit status (or -1). Output goes to
 * the test's stdout/stderr so a failure explains itself. */
static inline int docs_sh(const char *cmd)
{
    int st = system(cmd);
    if (st == -1 || !WIFEXITED(st)) return -1;
    return WEXITSTATUS(st);
}

/* Reads a whole file; caller frees. NULL when unreadable. */
static inline char *docs_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) { free(s); s = NULL; }
    fclose(f);
    if (s) { s[n] = 0; if (len) *len = (size_t)n; }
    return s;
}

/* Installs this build into a fresh dir (a mkdtemp template such as
 * "/tmp/hive-x-XXXXXX", rewritten in place) under dir/prefix with
 * tools/install.sh. Returns the install's exit status (0: installed). */
static inline int docs_install(char *dir)
{
    if (!mkdtemp(dir)) return -1;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "sh tools/install.sh %s/prefix %s >/dev/null", dir, docs_bindir());
    return docs_sh(cmd);
}

#endif
