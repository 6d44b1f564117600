#!/bin/sh
# demo.sh BINDIR - run the demo (for now: the event bus tour).
# Usage: sh tools/demo.sh bin/Release
BINDIR=${1:-bin/Release}
exec "$BINDIR/bus-tour"
