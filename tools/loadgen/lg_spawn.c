/* lg_spawn.c - a load server in a forked child. */
#include "tools/loadgen/lg_spawn.h"
#include "tools/loadgen/lg_measure.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

int lg_spawn_server(lg_child *ch, lg_server_kind kind, const lg_server_config *cfg, int timeout_ms)
{
    memset(ch, 0, sizeof *ch);
    ch->sh = mmap(NULL, sizeof *ch->sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (ch->sh == MAP_FAILED) { ch->sh = NULL; return -1; }
    memset(ch->sh, 0, sizeof *ch->sh);
    fflush(NULL);
    ch->pid = fork();
    if (ch->pid < 0) {
        munmap(ch->sh, sizeof *ch->sh);
        ch->sh = NULL;
        return -1;
    }
    if (ch->pid == 0) {
        int rc = kind == LG_SERVER_HIVE ? lg_server_hive_run(cfg, ch->sh)
                                        : lg_server_raw_run(cfg, ch->sh);
        fflush(NULL);
        _exit(rc == 0 ? 0 : 1);
    }
    uint64_t t0 = lg_now_us();
    while (atomic_load(&ch->sh->ready) == 0 && lg_now_us() - t0 < (uint64_t)timeout_ms * 1000) {
        int st;
        if (waitpid(ch->pid, &st, WNOHANG) == ch->pid) { ch->pid = 0; break; }
        sleep_ms(5);
    }
    if (atomic_load(&ch->sh->ready) != 1) {
        lg_child_stop(ch, NULL);
        return -1;
    }
    return 0;
}

int lg_child_stop(lg_child *ch, struct rusage *ru)
{
    int status = -1;
    if (ch->sh) atomic_store(&ch->sh->stop, 1);
    if (ch->pid > 0) {
        uint64_t t0 = lg_now_us();
        int st = 0;
        pid_t r;
        while ((r = wait4(ch->pid, &st, WNOHANG, ru)) == 0 && lg_now_us() - t0 < 5000000) sleep_ms(5);
        if (r == 0) {
            kill(ch->pid, SIGKILL);
            r = wait4(ch->pid, &st, 0, ru);
        }
        if (r == ch->pid && WIFEXITED(st)) status = WEXITSTATUS(st);
        ch->pid = 0;
    }
    if (ch->sh) munmap(ch->sh, sizeof *ch->sh);
    ch->sh = NULL;
    return status;
}
