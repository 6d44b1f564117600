#!/bin/sh
# soak.sh BINDIR [SECONDS] - hive-soak on every transport, SECONDS each
# (default 75: about five minutes in all), with 16 clients. Throwaway
# certificates for the TLS transports come from tools/certs.sh. Exits
# non-zero when any transport's soak fails.
BINDIR=${1:-bin/Release}
SECS=${2:-75}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CERTS=$(mktemp -d /tmp/hive-soak-certs.XXXXXX)
trap 'rm -rf "$CERTS"' EXIT
sh "$ROOT/tools/certs.sh" "$CERTS" >/dev/null || exit 1
fail=0
for t in enet tcp tls enet+tls; do
    echo "=== soak $t, ${SECS} s"
    "$BINDIR/hive-soak" --transport "$t" --clients 16 --seconds "$SECS" --rate 200 \
        --cert "$CERTS/server.pem" --key "$CERTS/server.key" --ca "$CERTS/ca.pem" || fail=1
done
[ "$fail" = 0 ] && echo "soak: every transport OK" || echo "soak: FAILED"
exit $fail
