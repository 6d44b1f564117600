/* net/limits.h - Hive's fixed numbers, in one place. */
#ifndef HIVE_NET_LIMITS_H
#define HIVE_NET_LIMITS_H

#define HIVE__MAX_CONNECTIONS   4000    /* ENet's peer limit is 4095 */
#define HIVE__MAX_FRAME_DEFAULT 65536
#define HIVE__MAX_FRAME_MIN     8192    /* every peer accepts this much, before and after the handshake */
#define HIVE__CLOSE_WAIT_MS     3000    /* CLOSING: longest wait for the transport to finish */
#define HIVE__TICK_MS           10      /* timers (heartbeats, timeouts) run this often */
#define HIVE__SLICE_MS          50      /* longest single wait inside service */
#define HIVE__THREAD_WAIT_MS    100     /* Hive's I/O thread: wait per round */

#endif /* HIVE_NET_LIMITS_H */
