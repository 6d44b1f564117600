#!/bin/sh
# demo.sh BINDIR - a short game of tag on the loopback interface.
#
# Starts hive-demo-server on 127.0.0.1 (a free port), then bot clients;
# prints the server's live log (what its bus saw), then a summary, and
# stops everything by itself. Exits 0 only when the session went right:
# everyone joined, someone got tagged, everyone left cleanly.
#
#   sh tools/demo.sh bin/Release         what `make demo` runs
#   HIVE_DEMO_SECONDS=60 make demo       a longer game
#   HIVE_DEMO_HEADLESS=1 make demo       no windows even with a display
#   make demo SECURE=1                   the same game over enet+tls (--secure),
#                                        with throwaway certificates in certs/
#   make demo WEB=1                      the arena in your browser too: the server also
#                                        listens on ws://127.0.0.1:8080 (HIVE_DEMO_WEB_PORT)
#                                        and serves the page; the script prints its URL
#                                        and the game lasts 120 s (HIVE_DEMO_SECONDS)
#   HIVE_DEMO_HOST=0.0.0.0 make demo WEB=1
#                                        ...and let friends on your network join from
#                                        http://<this machine>:8080/arena/
#   make demo CLUSTER=1                  a lobby and two arena shards on a local NATS:
#                                        players are sent on and moved between shards,
#                                        chat is global (tools/demo-cluster.sh)
#   HIVE_DEMO_NETSIM="loss=10%,latency=150ms,cut_every=8s" make demo
#                                        every client plays over a simulated bad
#                                        network (--netsim): links are cut and
#                                        the players resume; the summary counts
#                                        the resumes
#
# With a display ($DISPLAY or $WAYLAND_DISPLAY), a window opens for you
# (arrows/WASD to move, Enter to chat) and one for a bot. Without one, the
# bots play alone: two with no window at all, one drawing into SDL's dummy
# video driver, exactly as a real client would.
BINDIR=${1:-bin/Release}
# make demo CLUSTER=1: the game on a lobby and two shards (tools/demo-cluster.sh)
[ -n "$HIVE_DEMO_CLUSTER" ] && exec sh "$(dirname "$0")/demo-cluster.sh" "$BINDIR"
WEB_PORT=""
if [ -n "$HIVE_DEMO_WEB" ]; then
    WEB_PORT=${HIVE_DEMO_WEB_PORT:-8080}
    case "$WEB_PORT" in ''|*[!0-9]*) echo "demo: HIVE_DEMO_WEB_PORT must be a port number" >&2; exit 2 ;; esac
fi
HOST=${HIVE_DEMO_HOST:-127.0.0.1}
CLIENT_HOST=$HOST                     # where the bots dial: this machine
case "$HOST" in 0.0.0.0|::) CLIENT_HOST=127.0.0.1 ;; esac
SECONDS_=${HIVE_DEMO_SECONDS:-${WEB_PORT:+120}}
SECONDS_=${SECONDS_:-15}
case "$SECONDS_" in ''|*[!0-9]*) echo "demo: HIVE_DEMO_SECONDS must be a whole number" >&2; exit 2 ;; esac
[ "$SECONDS_" -ge 6 ] || SECONDS_=6     # time for the late bot to join and someone to get tagged
SERVER="$BINDIR/hive-demo-server"
CLIENT="$BINDIR/hive-demo-client"

for b in "$SERVER" "$CLIENT"; do
    if [ ! -x "$b" ]; then
        echo "demo: $b is missing; build first (make release)" >&2
        exit 1
    fi
done

# Secured: --secure on every program (enet+tls). The certificates come from
# HIVE_DEMO_CERTS (default certs/, made here by tools/certs.sh if missing).
SECURE=""; SERVER_TLS=""; CLIENT_TLS=""
if [ -n "$HIVE_DEMO_SECURE" ]; then
    CERTS=${HIVE_DEMO_CERTS:-certs}
    if [ ! -f "$CERTS/server.pem" ] || [ ! -f "$CERTS/server.key" ] || [ ! -f "$CERTS/ca.pem" ]; then
        sh "$(dirname "$0")/certs.sh" "$CERTS" >/dev/null || { echo "demo: could not make $CERTS/" >&2; exit 1; }
    fi
    SECURE="--secure"
    SERVER_TLS="--cert $CERTS/server.pem --key $CERTS/server.key"
    CLIENT_TLS="--ca $CERTS/ca.pem"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/hive-demo.XXXXXX") || exit 1
PIDS=""
TAIL=""

cleanup() {
    for p in $PIDS $TAIL; do kill "$p" 2>/dev/null; done
    for p in $PIDS $TAIL; do wait "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo "demo: interrupted"; exit 130' INT TERM

windows=0
if [ -z "$HIVE_DEMO_HEADLESS" ] && { [ -n "$DISPLAY" ] || [ -n "$WAYLAND_DISPLAY" ]; }; then
    windows=1
fi

echo "== Hive demo: a ${SECONDS_}-second game of tag on ${HOST}${SECURE:+, secured (enet+tls)}${HIVE_DEMO_NETSIM:+, clients over netsim $HIVE_DEMO_NETSIM}"
if [ "$windows" = 1 ]; then
    echo "   a window opens for you: arrows/WASD move, Enter chats, Esc leaves"
else
    echo "   no display: three bots play (two headless, one on SDL's dummy video driver)"
fi
echo "== live log of the server's bus"

# The server stops one second after the clients' planned end, so the last
# bot is still there to be closed with "server_shutdown".
: > "$TMP/server.log"     # exists before tail looks for it
"$SERVER" $SECURE $SERVER_TLS --host "$HOST" --port 0 ${WEB_PORT:+--web $WEB_PORT} --duration $((SECONDS_ + 1)) \
    > "$TMP/server.log" 2>&1 &
SERVER_PID=$!
PIDS="$SERVER_PID"
tail -n +1 -f "$TMP/server.log" &
TAIL=$!

port=""
i=0
while [ -z "$port" ] && [ $i -lt 50 ]; do
    port=$(sed -n 's/^hive-demo-server listening on [a-z+]*:\/\/[^ ]*:\([0-9][0-9]*\) .*/\1/p' "$TMP/server.log")
    if [ -z "$port" ]; then
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
        i=$((i + 1))
    fi
done
if [ -z "$port" ]; then
    echo "demo: the server did not start" >&2
    exit 1
fi

if [ -n "$WEB_PORT" ]; then
    url=$(sed -n 's/^hive-demo-server web arena at \([^ ]*\).*/\1/p' "$TMP/server.log")
    echo "== open $url in a browser: arrows/WASD move, Enter chats (the game lasts ${SECONDS_} s)"
fi

# name, seconds to wait before joining, an environment VAR=value, options
start_client() {
    name=$1; delay=$2; envvar=$3; shift 3
    [ -n "$HIVE_DEMO_NETSIM" ] && set -- "$@" --netsim "$HIVE_DEMO_NETSIM"
    ( sleep "$delay"; exec env "$envvar" "$CLIENT" --host "$CLIENT_HOST" --port "$port" --name "$name" --quiet $SECURE $CLIENT_TLS "$@" ) \
        > "$TMP/client-$name.log" 2>&1 &
    PIDS="$PIDS $!"
    eval "PID_$name=$!"
}

BOTS="ada bob cy"
if [ "$windows" = 1 ]; then
    start_client you 1 HIVE_DEMO=1 --duration "$SECONDS_"
    start_client ada 0.3 HIVE_DEMO=1 --bot --seed 1 --duration $((SECONDS_ - 2))
    start_client bob 0.4 HIVE_DEMO=1 --bot --seed 2 --headless --duration $((SECONDS_ - 2))
    start_client cy 3 HIVE_DEMO=1 --bot --seed 3 --headless
else
    start_client ada 0.3 HIVE_DEMO=1 --bot --seed 1 --headless --duration $((SECONDS_ - 2))
    start_client bob 0.4 HIVE_DEMO=1 --bot --seed 2 --headless --duration $((SECONDS_ - 2))
    start_client cy 3 SDL_VIDEODRIVER=dummy --bot --seed 3
fi

ok=1
wait "$SERVER_PID"; rc=$?
[ "$rc" = 0 ] || { echo "demo: the server exited with $rc"; ok=0; }
for n in $BOTS; do
    eval "p=\$PID_$n"
    wait "$p"; rc=$?
    [ "$rc" = 0 ] || { echo "demo: bot $n exited with $rc:"; sed 's/^/    /' "$TMP/client-$n.log"; ok=0; }
done
[ "$windows" = 1 ] && wait "$PID_you" 2>/dev/null
sleep 0.2
kill "$TAIL" 2>/dev/null; wait "$TAIL" 2>/dev/null; TAIL=""
PIDS=""

# key=value from a summary line
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" "$1" | tail -n 1; }

S="$TMP/server.log"
joins=$(field "$S" joins); leaves=$(field "$S" leaves); clean=$(field "$S" clean)
tags=$(field "$S" tags); mutual=$(field "$S" mutual); chats=$(field "$S" chats)
frames_in=$(field "$S" frames_in); frames_out=$(field "$S" frames_out)
snaps=$(field "$S" snapshots); enet_rtt=$(field "$S" rtt_ms)

echo
echo "== summary"
echo "players:    ${joins:-0} joined, ${leaves:-0} left (${clean:-0} cleanly)"
echo "game:       ${tags:-0} tags (${mutual:-0} mutual), ${chats:-0} chat lines"
echo "messages:   ${frames_in:-0} received and ${frames_out:-0} sent by the server, ${snaps:-0} of them snapshots"
sum=0; n=0
for f in "$TMP"/client-*.log; do
    name=$(basename "$f" .log); name=${name#client-}
    rtt=$(field "$f" rtt_ms); got=$(field "$f" snapshots); lost=$(field "$f" lost_pct); close=$(field "$f" close)
    rs=$(field "$f" resumes); rc_=$(field "$f" reconnects)
    [ -n "$got" ] || continue
    echo "client $name: ${got} snapshots, ${lost}% lost, round trip ${rtt} ms, ${rs:-0} resumes, ${rc_:-0} new sessions, closed: ${close}"
    resumes_total=$(( ${resumes_total:-0} + ${rs:-0} )); renewed_total=$(( ${renewed_total:-0} + ${rc_:-0} ))
    case "$rtt" in ''|-*) ;; *) sum=$(echo "$sum $rtt" | awk '{ print $1 + $2 }'); n=$((n + 1)) ;; esac
done
if [ "$n" -gt 0 ]; then
    echo "round trip: $(echo "$sum $n" | awk '{ printf "%.2f", $1 / $2 }') ms on average (Hive's ping/pong, net:client.stats; ENet's estimate ${enet_rtt} ms)"
fi

expect_joins=3; [ "$windows" = 1 ] && expect_joins=4
[ "${joins:-0}" -ge "$expect_joins" ] || { echo "demo: expected $expect_joins players, saw ${joins:-0}"; ok=0; }
[ "${tags:-0}" -ge 1 ] || { echo "demo: nobody got tagged"; ok=0; }
[ "${clean:-0}" = "${leaves:-x}" ] || { echo "demo: not every player left cleanly"; ok=0; }
if [ -n "$HIVE_DEMO_NETSIM" ]; then
    echo "resumes:    ${resumes_total:-0} in all (links cut by the simulator, sessions resumed)"
    # With cuts, a session must survive them: every player resumed at
    # least once and nobody had to start a new session.
    case "$HIVE_DEMO_NETSIM" in
        *cut_every=*) [ "${resumes_total:-0}" -ge 1 ] || { echo "demo: links were cut but nobody resumed"; ok=0; } ;;
    esac
    [ "${renewed_total:-0}" = 0 ] || { echo "demo: ${renewed_total} sessions had to start over instead of resuming"; ok=0; }
fi
if [ "$ok" = 1 ]; then
    echo "demo: OK"
    exit 0
fi
echo "demo: FAILED"
exit 1
