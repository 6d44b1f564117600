/*
 * hive/hive.h - everything a Hive program needs: include this one header.
 */
#ifndef HIVE_HIVE_H
#define HIVE_HIVE_H

#include "common.h"
#include "bus.h"
#include "registry.h"
#include "msg.h"
#include "net.h"

#endif /* HIVE_HIVE_H */
