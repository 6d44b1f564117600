/* The loadgen core is compiled from its one source in tools/loadgen/. */
#include "tools/loadgen/lg_proto_raw.c"
