/* lg_spawn.h - run a load server in a child process with its counters in
 * shared memory, so its CPU time, allocations and RSS are its own and the
 * parent's load generator does not pollute them. */
#ifndef HIVE_LOADGEN_LG_SPAWN_H
#define HIVE_LOADGEN_LG_SPAWN_H

#include <sys/resource.h>
#include <sys/types.h>

#include "tools/loadgen/lg_server.h"

typedef enum lg_server_kind { LG_SERVER_RAW = 0, LG_SERVER_HIVE = 1 } lg_server_kind;

typedef struct lg_child {
    pid_t pid;
    lg_server_shared *sh;   /* shared mapping, valid until lg_child_stop */
} lg_child;

/* lg_spawn_server - fork; the child runs the server and exits. Waits up to
 * timeout_ms for it to listen. Returns 0 (ch filled, port in ch->sh->port)
 * or -1 (nothing left running). Call before the parent starts threads. */
int lg_spawn_server(lg_child *ch, lg_server_kind kind, const lg_server_config *cfg, int timeout_ms);

/* lg_child_stop - ask the child to stop, reap it (SIGKILL after 5 s), fill
 * *ru with its resource usage if ru is not NULL, unmap. Returns the
 * child's exit status, or -1. */
int lg_child_stop(lg_child *ch, struct rusage *ru);

#endif /* HIVE_LOADGEN_LG_SPAWN_H */
