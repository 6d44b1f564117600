#!/bin/sh
# install.sh PREFIX BINDIR - install Hive's headers, static libraries and
# pkg-config files:
#   hive.pc         libhive.a: the bus and the networking (events/ + net/)
#   hive-engine.pc  libhive-engine.a: the game loop and timers; needs hive only
#                   (a headless server builds and links without SDL)
#   hive-sdl.pc     libhive-sdl.a: the SDL2 window and input as bus events;
#                   requires hive-engine, sdl2 and SDL2_image
#   hive-bridge.pc  libhive-bridge.a: the bus on NATS; requires hive, libnats
# The build keeps events/ and net/ in two libraries (libhive-events.a,
# libhive-net.a) so each source is compiled once; the installed libhive.a
# holds the objects of both, so users link one library.
set -e
PREFIX=${1:?usage: install.sh PREFIX BINDIR}
BINDIR=${2:?usage: install.sh PREFIX BINDIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VERSION=$(sed -n 's/^#define HIVE_VERSION_STRING "\(.*\)"/\1/p' "$ROOT/include/hive/common.h")
for lib in libhive-events.a libhive-net.a; do
    [ -f "$BINDIR/$lib" ] || { echo "hive: install: $BINDIR/$lib missing (build first)" >&2; exit 1; }
done
mkdir -p "$PREFIX/include/hive" "$PREFIX/lib/pkgconfig"
cp "$ROOT"/include/hive/*.h "$PREFIX/include/hive/"

# One archive from two: ar's MRI script keeps members that share a file
# name (events/ and net/ may both have an error.o), which `ar x` would not.
BINABS=$(cd "$BINDIR" && pwd)
rm -f "$PREFIX/lib/libhive.a"
ar -M <<MRI
create $PREFIX/lib/libhive.a
addlib $BINABS/libhive-events.a
addlib $BINABS/libhive-net.a
save
end
MRI
ranlib "$PREFIX/lib/libhive.a"

cat > "$PREFIX/lib/pkgconfig/hive.pc" <<PC
prefix=$PREFIX
includedir=\${prefix}/include
libdir=\${prefix}/lib

Name: hive
Description: Hive - multiplayer networking with an event bus (ENet, TCP, TLS, msgpack)
Version: $VERSION
Requires.private: libenet msgpack libssl libcrypto
Cflags: -I\${includedir}
Libs: -L\${libdir} -lhive -lenet -lmsgpackc -lwslay -lssl -lcrypto -lzstd -lpthread -lm
PC

if [ -f "$BINDIR/libhive-engine.a" ]; then
    cp "$BINDIR/libhive-engine.a" "$PREFIX/lib/"
    cat > "$PREFIX/lib/pkgconfig/hive-engine.pc" <<PC
prefix=$PREFIX
includedir=\${prefix}/include
libdir=\${prefix}/lib

Name: hive-engine
Description: Hive's fixed-step game loop, timers and network services (no SDL)
Version: $VERSION
Requires: hive
Cflags: -I\${includedir}
Libs: -L\${libdir} -lhive-engine
PC
fi

if [ -f "$BINDIR/libhive-sdl.a" ]; then
    cp "$BINDIR/libhive-sdl.a" "$PREFIX/lib/"
    cat > "$PREFIX/lib/pkgconfig/hive-sdl.pc" <<PC
prefix=$PREFIX
includedir=\${prefix}/include
libdir=\${prefix}/lib

Name: hive-sdl
Description: Hive's SDL2 window, renderer and input as bus events
Version: $VERSION
Requires: hive-engine sdl2 SDL2_image
Cflags: -I\${includedir}
Libs: -L\${libdir} -lhive-sdl
PC
fi
if [ -f "$BINDIR/libhive-bridge.a" ]; then
    cp "$BINDIR/libhive-bridge.a" "$PREFIX/lib/"
    cat > "$PREFIX/lib/pkgconfig/hive-bridge.pc" <<PC
prefix=$PREFIX
includedir=\${prefix}/include
libdir=\${prefix}/lib

Name: hive-bridge
Description: Hive's bus across processes and machines, on NATS
Version: $VERSION
Requires: hive libnats
Cflags: -I\${includedir}
Libs: -L\${libdir} -lhive-bridge -lnats
PC
fi
echo "hive: installed $VERSION into $PREFIX (pkg-config: PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig)"
