#!/bin/sh
# demo-cluster.sh BINDIR - the demo as a cluster (make demo CLUSTER=1):
# a local nats-server, a lobby and two arena shards, all on 127.0.0.1.
# Bots connect to the lobby, which sends each one to the shard that owns
# it; chat and scores are global across the shards; after a few seconds
# each shard moves one of its players to the other, mid-game. Prints the
# three servers' logs, then a summary; exits 0 only when players joined
# through the lobby, at least one was moved between shards, and chat
# crossed from one shard to the other.
#
#   HIVE_DEMO_SECONDS=30 make demo CLUSTER=1     a longer game (default 15)
BINDIR=${1:-bin/Release}
SECONDS_=${HIVE_DEMO_SECONDS:-15}
case "$SECONDS_" in ''|*[!0-9]*) echo "demo: HIVE_DEMO_SECONDS must be a whole number" >&2; exit 2 ;; esac
[ "$SECONDS_" -ge 10 ] || SECONDS_=10
SERVER="$BINDIR/hive-demo-server"
CLIENT="$BINDIR/hive-demo-client"
for b in "$SERVER" "$CLIENT"; do
    [ -x "$b" ] || { echo "demo: $b is missing; build first (make release)" >&2; exit 1; }
done
NATS=$(command -v nats-server) || { echo "demo: nats-server is missing (make deps installs it)" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/hive-cluster.XXXXXX") || exit 1
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    for p in $PIDS; do wait "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo "demo: interrupted"; exit 130' INT TERM

# NATS on a free loopback port (-p -1: it picks one and logs it)
"$NATS" -a 127.0.0.1 -p -1 > "$TMP/nats.log" 2>&1 &
NATS_PID=$!
PIDS="$NATS_PID"
i=0
until grep -q "Server is ready" "$TMP/nats.log" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "demo: nats-server did not start:"; cat "$TMP/nats.log"; exit 1; }
    sleep 0.05
done
nport=$(sed -n 's/.*Listening for client connections on 127.0.0.1:\([0-9][0-9]*\).*/\1/p' "$TMP/nats.log" | head -n 1)
[ -n "$nport" ] || { echo "demo: cannot tell nats-server's port:"; cat "$TMP/nats.log"; exit 1; }
URL="nats://127.0.0.1:$nport"
# the cluster's handoff secret, new for each run: every server signs the
# tickets it sends and checks those it takes (docs/SECURITY.md)
HIVE_HANDOFF_KEY=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
[ ${#HIVE_HANDOFF_KEY} -eq 32 ] || { echo "demo: no random bytes for the handoff key"; exit 1; }
export HIVE_HANDOFF_KEY
echo "== Hive demo as a cluster: NATS on $URL, a lobby and two arena shards, a ${SECONDS_}-second game"

# name, extra options
start_server() {
    name=$1; shift
    "$SERVER" --host 127.0.0.1 --port 0 --nats "$URL" --node "$name" --duration $((SECONDS_ + 1)) "$@" \
        > "$TMP/$name.log" 2>&1 &
    PIDS="$PIDS $!"
    eval "PID_$(echo "$name" | tr - _)=$!"
}
port_of() {
    sed -n 's/^hive-demo-server listening on [a-z+]*:\/\/[^ ]*:\([0-9][0-9]*\) .*/\1/p' "$TMP/$1.log"
}
wait_port() {
    i=0
    while [ -z "$(port_of "$1")" ]; do
        i=$((i + 1)); [ $i -lt 100 ] || { echo "demo: $1 did not start:"; cat "$TMP/$1.log"; exit 1; }
        sleep 0.05
    done
}
start_server arena-1 --move-after 5 --seed 1
start_server arena-2 --move-after 7 --seed 2
wait_port arena-1; wait_port arena-2
start_server lobby --lobby
wait_port lobby
LOBBY=$(port_of lobby)
# the lobby must know the shards before players arrive
i=0
until [ "$(grep -c 'cluster: shard arena-[12] joined' "$TMP/lobby.log")" -ge 2 ]; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "demo: the lobby never saw the shards"; cat "$TMP/lobby.log"; exit 1; }
    sleep 0.05
done
echo "== lobby on 127.0.0.1:$LOBBY; bots join there"

BOTS="ada bob cy dee"
seed=1
for n in $BOTS; do
    ( exec env HIVE_DEMO=1 "$CLIENT" --host 127.0.0.1 --port "$LOBBY" --name "$n" --quiet --bot --seed $seed \
        --headless --chat-every 1.5 --duration $((SECONDS_ - 2)) ) > "$TMP/client-$n.log" 2>&1 &
    PIDS="$PIDS $!"
    eval "PID_$n=$!"
    seed=$((seed + 1))
    sleep 0.2
done

ok=1
for s in arena_1 arena_2 lobby; do
    eval "p=\$PID_$s"; wait "$p"; rc=$?
    [ "$rc" = 0 ] || { echo "demo: server $s exited with $rc"; ok=0; }
done
for n in $BOTS; do
    eval "p=\$PID_$n"; wait "$p"; rc=$?
    [ "$rc" = 0 ] || { echo "demo: bot $n exited with $rc:"; sed 's/^/    /' "$TMP/client-$n.log"; ok=0; }
done
kill "$NATS_PID" 2>/dev/null; wait "$NATS_PID" 2>/dev/null
PIDS=""

for s in lobby arena-1 arena-2; do
    echo "== $s"
    grep -E "cluster:|summary:" "$TMP/$s.log" | sed 's/^/   /'
done

field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" "$1" | tail -n 1; }
sent=$(field "$TMP/lobby.log" handoffs_out)
moved1=$(field "$TMP/arena-1.log" handoffs_out); moved2=$(field "$TMP/arena-2.log" handoffs_out)
in1=$(field "$TMP/arena-1.log" handed_in); in2=$(field "$TMP/arena-2.log" handed_in)
x1=$(field "$TMP/arena-1.log" cross_chat); x2=$(field "$TMP/arena-2.log" cross_chat)
moves=$(( ${moved1:-0} + ${moved2:-0} )); cross=$(( ${x1:-0} + ${x2:-0} ))
echo
echo "== summary"
echo "lobby:      ${sent:-0} players sent on to a shard"
echo "arena-1:    ${in1:-0} players arrived by handoff, ${moved1:-0} moved on, ${x1:-0} chat lines from the other shard"
echo "arena-2:    ${in2:-0} players arrived by handoff, ${moved2:-0} moved on, ${x2:-0} chat lines from the other shard"
for f in "$TMP"/client-*.log; do
    n=$(basename "$f" .log); n=${n#client-}
    echo "bot $n:     $(field "$f" snapshots) snapshots, $(field "$f" resumes) resumes, closed: $(field "$f" close)"
done
grep -h "scoreboard" "$TMP/arena-1.log" "$TMP/arena-2.log" | tail -n 1 | sed 's/^.*scoreboard/scoreboard:/'
[ "${sent:-0}" -ge 1 ] || { echo "demo: the lobby sent nobody on"; ok=0; }
[ "$moves" -ge 1 ] || { echo "demo: nobody moved between the shards"; ok=0; }
[ "$cross" -ge 1 ] || { echo "demo: no chat crossed between the shards"; ok=0; }
if [ "$ok" = 1 ]; then
    echo "demo: OK (cluster: ${sent:-0} sent from the lobby, $moves moved between shards, $cross cross-shard chat lines)"
    exit 0
fi
echo "demo: FAILED"
exit 1
