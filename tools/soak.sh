#!/bin/sh
# soak.sh BINDIR [SECONDS] - hive-soak on every transport, SECONDS each
# (default 45; with the drain under 1 s of latency, about five minutes in
# all), with 16 clients, through the network simulator, every link cut
# about every 6 s (3 to 9 s) so each client resumes its session many
# times: 1000 ms latency and 100 ms jitter each way on every transport,
# and on the datagram transports 25 % loss and 25 % duplicates as well
# (SOAK_NETSIM_DGRAM / SOAK_NETSIM_STREAM override the specs). Throwaway
# certificates for the TLS transports come from tools/certs.sh. Exits
# non-zero when any transport's soak fails.
BINDIR=${1:-bin/Release}
SECS=${2:-45}
DGRAM=${SOAK_NETSIM_DGRAM:-latency=1000ms,jitter=100ms,loss=25%,dup=25%,cut_every=6s}
STREAM=${SOAK_NETSIM_STREAM:-latency=1000ms,jitter=100ms,cut_every=6s}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CERTS=$(mktemp -d /tmp/hive-soak-certs.XXXXXX)
trap 'rm -rf "$CERTS"' EXIT
sh "$ROOT/tools/certs.sh" "$CERTS" >/dev/null || exit 1
fail=0
for t in enet tcp tls enet+tls; do
    case $t in enet*) spec=$DGRAM ;; *) spec=$STREAM ;; esac
    echo "=== soak $t, ${SECS} s, netsim $spec"
    "$BINDIR/hive-soak" --transport "$t" --clients 16 --seconds "$SECS" --rate 200 --netsim "$spec" \
        --cert "$CERTS/server.pem" --key "$CERTS/server.key" --ca "$CERTS/ca.pem" || fail=1
done
[ "$fail" = 0 ] && echo "soak: every transport OK" || echo "soak: FAILED"
exit $fail
