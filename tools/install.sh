#!/bin/sh
# install.sh PREFIX BINDIR - install Hive's headers, static libraries and
# pkg-config files (hive.pc: events + net; hive-engine.pc: the SDL2 loop).
set -e
PREFIX=${1:?usage: install.sh PREFIX BINDIR}
BINDIR=${2:?usage: install.sh PREFIX BINDIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VERSION=$(sed -n 's/^#define HIVE_VERSION_STRING "\(.*\)"/\1/p' "$ROOT/include/hive/common.h")
mkdir -p "$PREFIX/include/hive" "$PREFIX/lib/pkgconfig"
cp "$ROOT"/include/hive/*.h "$PREFIX/include/hive/"
cp "$BINDIR/libhive.a" "$PREFIX/lib/"
cat > "$PREFIX/lib/pkgconfig/hive.pc" <<PC
prefix=$PREFIX
includedir=\${prefix}/include
libdir=\${prefix}/lib

Name: hive
Description: Hive - multiplayer networking with an event bus (ENet, TCP, TLS, msgpack)
Version: $VERSION
Requires.private: libenet msgpack libssl libcrypto
Cflags: -I\${includedir}
Libs: -L\${libdir} -lhive -lenet -lmsgpackc -lssl -lcrypto -lpthread -lm
PC
if [ -f "$BINDIR/libhive-engine.a" ]; then
    cp "$BINDIR/libhive-engine.a" "$PREFIX/lib/"
    cat > "$PREFIX/lib/pkgconfig/hive-engine.pc" <<PC
prefix=$PREFIX
includedir=\${prefix}/include
libdir=\${prefix}/lib

Name: hive-engine
Description: Hive's fixed-step game loop and SDL2 input on the bus
Version: $VERSION
Requires: hive sdl2 SDL2_ttf SDL2_image
Cflags: -I\${includedir}
Libs: -L\${libdir} -lhive-engine
PC
fi
echo "hive: installed $VERSION into $PREFIX (pkg-config: PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig)"
