#!/bin/sh
# fuzz.sh [SECONDS] - build every fuzz/*.c as a libFuzzer target (clang,
# ASan + UBSan) and run each for SECONDS seconds (default 60), one after
# the other. Prints one line per target:
#   fuzz <name>: runs=<executions> exec/s=<rate> corpus=<inputs> ok|FAILED
# and exits non-zero when any target fails to build, crashes, leaks, hits
# undefined behaviour or breaks one of its own invariants.
#
# A target is any fuzz/<name>.c defining LLVMFuzzerTestOneInput; it is
# linked with every events/*.c and net/*/*.c, so new targets need no edit
# here. Work lives in build/fuzz/<name>/: the binary, log, corpus/ (kept
# between runs, seeded with a few valid frames plus fuzz/seeds/<name>/*
# when that folder exists) and crash-*/leak-* inputs on failure.
# Reproduce a crash:  build/fuzz/<name>/<name> build/fuzz/<name>/crash-...
# FUZZ_ONLY=<name> runs one target.
set -u
SECS=${1:-60}
cd "$(dirname "$0")/.." || exit 1

CC=${CLANG:-clang}
OUT=build/fuzz
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
CFLAGS="-g -O1 -std=gnu11 -D_GNU_SOURCE -Iinclude -I. -w"
LIBS="-lenet -lmsgpackc -lwslay -lssl -lcrypto -lzstd -lpthread -lm"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

if ! command -v "$CC" >/dev/null 2>&1; then
    echo "hive: fuzz: $CC not found (make deps installs clang)" >&2
    exit 1
fi
mkdir -p "$OUT/obj" || exit 1

# The library, compiled once per run with coverage instrumentation but
# without libFuzzer's main (that comes with each target).
objs=""
for src in events/*.c net/*/*.c bridge/codec.c; do
    [ -f "$src" ] || continue
    obj="$OUT/obj/$(echo "$src" | tr / _ | sed 's/\.c$/.o/')"
    if ! "$CC" $CFLAGS -fsanitize=fuzzer-no-link $SAN -c "$src" -o "$obj"; then
        echo "hive: fuzz: $src does not compile" >&2
        exit 1
    fi
    objs="$objs $obj"
done

# A few valid frames every target starts from (octal escapes: POSIX printf).
seed() {
    d=$1
    printf '\007\254\002\000\201\241a\001' > "$d/seed-frame-map"          # pid 300 {"a":1}
    printf '\003\006\000\300' > "$d/seed-frame-nil"                         # pid 6 nil
    printf '\003\006\000\300\003\007\000\300' > "$d/seed-two-frames"       # ping, pong
    printf '\033\002\000\202\251game:chat\100\251game:move\222\101\001' \
        > "$d/seed-frame-table"   # pid 2 {"game:chat":64,"game:move":[65,1]}
    if [ -d "fuzz/seeds/$2" ]; then cp "fuzz/seeds/$2"/* "$d/" 2>/dev/null; fi
    return 0
}

failed=0
for t in fuzz/*.c; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .c)
    # FUZZ_ONLY=<name>: that target alone
    [ -n "${FUZZ_ONLY:-}" ] && [ "$name" != "$FUZZ_ONLY" ] && continue
    dir="$OUT/$name"
    mkdir -p "$dir/corpus"
    if ! "$CC" $CFLAGS -fsanitize=fuzzer $SAN "$t" $objs $LIBS -o "$dir/$name"; then
        echo "fuzz $name: runs=0 exec/s=0 corpus=0 FAILED (build)"
        failed=1
        continue
    fi
    seed "$dir/corpus" "$name"
    "$dir/$name" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$dir/" "$dir/corpus" > "$dir/log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$dir/log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *\([0-9]*\).*/\1/p' "$dir/log" | tail -1)
    ninputs=$(ls "$dir/corpus" | wc -l)
    if [ "$rc" = "0" ]; then
        verdict=ok
    else
        verdict="FAILED (exit $rc, see $dir/log)"
        failed=1
        grep -E "ERROR|runtime error|SUMMARY|^artifact_prefix|Test unit written" "$dir/log" | head -5 >&2
    fi
    echo "fuzz $name: runs=${runs:-0} exec/s=${rate:-0} corpus=$ninputs $verdict"
done
exit $failed
