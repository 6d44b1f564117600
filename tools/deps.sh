#!/bin/sh
# deps.sh - make sure the Debian packages Hive builds with are installed.
# As root: installs what is missing (apt-get update first).
# Otherwise: prints the exact apt-get line and fails.
set -e
PKGS="build-essential premake4 pkg-config libenet-dev libmsgpack-dev libssl-dev openssl \
libsdl2-dev libsdl2-ttf-dev libsdl2-image-dev fonts-dejavu-core libcriterion-dev libzstd-dev libwslay-dev \
xvfb xauth clang libclang-rt-14-dev chromium nats-server libnats-dev"
[ -n "$HIVE_EXTRA_PKGS" ] && PKGS="$PKGS $HIVE_EXTRA_PKGS"
missing=""
for p in $PKGS; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done
# Node.js and npm (the JavaScript client's tests): by command, since a
# machine may have them from elsewhere than Debian (nodesource's nodejs
# carries its own npm, and Debian's npm package would conflict with it).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    missing="$missing nodejs npm"
fi
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != "0" ]; then
    echo "hive: missing Debian packages. Install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "hive: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends$missing
