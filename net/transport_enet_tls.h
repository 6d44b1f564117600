/*
 * net/transport_enet_tls.h - counters of the enet+tls:// transport.
 *
 * Every sealed datagram that fails authentication, is replayed or is
 * malformed is dropped and counted here; the connection goes on.
 */
#ifndef HIVE_NET_TRANSPORT_ENET_TLS_H
#define HIVE_NET_TRANSPORT_ENET_TLS_H

#include "net/transport.h"
#include "net/aead.h"

/* Totals over every link this transport has had (open and closed).
 * t must be an enet+tls transport. I/O thread. Returns 0 or HIVE_EINVAL. */
int hive__enet_tls_stats(hive__transport *t, hive__aead_stats *out);

#endif
