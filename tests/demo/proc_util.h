/* Running the demo programs from a test: spawn with output to a file,
 * wait with a deadline (killing on timeout), read what they printed. */
#ifndef HIVE_TEST_PROC_UTIL_H
#define HIVE_TEST_PROC_UTIL_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The directory of the demo binaries: $HIVE_BINDIR, or this test's own. */
static inline const char *bindir(void)
{
    static char dir[PATH_MAX];
    const char *env = getenv("HIVE_BINDIR");
    if (env && *env) return env;
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    cr_assert_gt(n, 0);
    dir[n] = 0;
    return dirname(dir);
}

static inline void bin_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", bindir(), name);
}

/* Spawn argv with stdout+stderr to out_path. env: NULL-terminated
 * "K=V" strings added to the environment (or "K=" to remove K). */
static inline pid_t spawn(char *const argv[], const char *const env[], const char *out_path)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) _exit(126);
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
        /* The children are plain programs, not Criterion runners: the
         * sanitizer's fast unwinder and no suppressions are right. */
        setenv("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:exitcode=23", 1);
        unsetenv("LSAN_OPTIONS");
        for (int i = 0; env && env[i]; i++) {
            char kv[512];
            snprintf(kv, sizeof kv, "%s", env[i]);
            char *eq = strchr(kv, '=');
            if (!eq) continue;
            *eq = 0;
            if (eq[1]) setenv(kv, eq + 1, 1);
            else unsetenv(kv);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

/* Exit status (0-255), 128+signal, or -1 after killing it at the deadline. */
static inline int wait_exit(pid_t pid, int timeout_ms)
{
    for (int waited = 0;; waited += 20) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (r < 0 && errno != EINTR) return -1;
        if (waited >= timeout_ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        usleep(20 * 1000);
    }
}

/* The whole file, NUL-terminated (free it), or NULL. */
static inline char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, len = 0;
    char *s = malloc(cap);
    size_t n;
    while ((n = fread(s + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) s = realloc(s, cap *= 2);
    }
    fclose(f);
    s[len] = 0;
    return s;
}

/* Wait until the file holds `needle`; returns the text (free it) or NULL. */
static inline char *wait_for_text(const char *path, const char *needle, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 20) {
        char *s = slurp(path);
        if (s && strstr(s, needle)) return s;
        free(s);
        usleep(20 * 1000);
    }
    return NULL;
}

static inline int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

/* The value of key=<number> on the last line containing `line_tag`. */
static inline double summary_value(const char *text, const char *line_tag, const char *key)
{
    const char *line = NULL;
    for (const char *p = strstr(text, line_tag); p; p = strstr(p + 1, line_tag)) line = p;
    if (!line) return -1e9;
    const char *end = strchr(line, '\n');
    char pat[64];
    snprintf(pat, sizeof pat, " %s=", key);
    const char *k = strstr(line, pat);
    if (!k || (end && k > end)) return -1e9;
    return strtod(k + strlen(pat), NULL);
}

/* Start a server on a free loopback port; returns its pid, fills *port. */
static inline pid_t start_server(const char *dir, const char *duration, int *port)
{
    char bin[PATH_MAX], log[PATH_MAX];
    bin_path(bin, sizeof bin, "hive-demo-server");
    snprintf(log, sizeof log, "%s/server.log", dir);
    char *argv[] = { bin, "--host", "127.0.0.1", "--port", "0", "--duration", (char *)duration, NULL };
    pid_t pid = spawn(argv, NULL, log);
    char *text = wait_for_text(log, "listening on enet://127.0.0.1:", 10000);
    cr_assert_not_null(text, "the server did not start");
    *port = atoi(strstr(text, "listening on enet://127.0.0.1:") + strlen("listening on enet://127.0.0.1:"));
    free(text);
    cr_assert_gt(*port, 0);
    return pid;
}

static inline void make_tmpdir(char *dir, size_t n)
{
    snprintf(dir, n, "/tmp/hive-demo-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static inline void remove_tmpdir(const char *dir)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}

#endif
