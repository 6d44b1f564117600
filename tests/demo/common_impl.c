/* The demo's shared game code is compiled into each demo program, not
 * into a library, so the tests compile the same sources here. */
#include "demo/common/game.c"
#include "demo/common/snapshot.c"
#include "demo/common/interp.c"
#include "demo/common/predict.c"
#include "demo/common/bot.c"
#include "demo/common/proto.c"
