/* lg_server_hive.c - the Hive load server. Placeholder until the
 * networking core lands. */
#include "tools/loadgen/lg_server.h"

int lg_server_hive_run(const lg_server_config *cfg, lg_server_shared *sh)
{
    atomic_store(&sh->ready, -1);
    return -1;
}
