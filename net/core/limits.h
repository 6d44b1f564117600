/* net/limits.h - Hive's fixed numbers, in one place. The ones a user can
 * see or configure are public (HIVE_DEFAULT_* and limits in hive/net.h);
 * the rest are the engine room's. */
#ifndef HIVE_NET_LIMITS_H
#define HIVE_NET_LIMITS_H

#include "hive/net.h"

#define HIVE__MAX_CONNECTIONS   HIVE_MAX_CONNECTIONS
#define HIVE__MAX_FRAME_DEFAULT HIVE_DEFAULT_MAX_FRAME
#define HIVE__MAX_FRAME_MIN     HIVE_MIN_MAX_FRAME
#define HIVE__CLOSE_WAIT_MS     3000    /* CLOSING: longest wait for the transport to finish */
#define HIVE__TICK_MS           10      /* timers (heartbeats, timeouts) run this often */
#define HIVE__SLICE_MS          50      /* longest single wait inside service */
#define HIVE__THREAD_WAIT_MS    100     /* Hive's I/O thread: wait per round */
#define HIVE__CLIENT_LINGER_MS  200     /* client stop: time for its close packet to leave */

#endif /* HIVE_NET_LIMITS_H */
