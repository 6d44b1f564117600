/* Shared includes for the tests that run the demo programs. */
#ifndef HIVE_TEST_PROTO_CHECKS_H
#define HIVE_TEST_PROTO_CHECKS_H

#include <hive/hive.h>
#include "demo/common/proto.h"
#include "proc_util.h"

#endif
