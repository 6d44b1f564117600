#!/bin/sh
# run-tests.sh BINDIR [FILTER] - run every bin/<Config>/test-* Criterion
# binary, then print one summary line: "Tests: N passed, N failed".
# Exits non-zero when any test fails, crashes, or a binary fails to run.
BINDIR=${1:-bin/Sanitize}
FILTER=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# fast_unwind_on_malloc=0: libcriterion has no frame pointers, and the
# suppression below needs the runner's full stack to tell it from a test's.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=23:fast_unwind_on_malloc=0}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$ROOT/tools/lsan.supp}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export SDL_VIDEODRIVER="${SDL_VIDEODRIVER:-dummy}"
export SDL_AUDIODRIVER="${SDL_AUDIODRIVER:-dummy}"
export HIVE_BINDIR="$BINDIR"
passed=0; failed=0; bad=0
# Every failing test's lines, printed again just above the summary so that
# the tail of a long CI log names what failed.
fails=$(mktemp)
for t in "$BINDIR"/test-*; do
    [ -x "$t" ] || continue
    # With a suite filter (make tsan: "threads/*"), skip binaries whose area
    # has no test in that suite: they would only start Criterion for nothing.
    if [ -n "$FILTER" ]; then
        area=${t##*/test-}
        suite=${FILTER%%/*}
        grep -q "Test($suite," "$ROOT/tests/$area/"*.c 2>/dev/null || continue
    fi
    echo "=== $(basename "$t")"
    log=$(mktemp)
    if [ -n "$FILTER" ]; then
        "$t" --jobs 2 --filter "$FILTER" >"$log" 2>&1
    else
        "$t" --jobs 2 >"$log" 2>&1
    fi
    rc=$?
    cat "$log"
    sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -a -E "^\[(FAIL|----)\]|CRASH|ERROR: (Leak|Address)Sanitizer|runtime error:|WARNING: ThreadSanitizer" \
        | grep -a -v "^\[----\] *$" | sed "s|^|$(basename "$t"): |" >>"$fails"
    line=$(grep -a "Synthesis: Tested:" "$log" | tail -1 | sed 's/\x1b\[[0-9;]*m//g')
    # Criterion's workers report a leak after the verdict, so a sanitizer
    # report anywhere in the output fails the run on its own.
    san=$(grep -a -c -E "ERROR: (Leak|Address)Sanitizer|runtime error:|WARNING: ThreadSanitizer" "$log")
    rm -f "$log"
    if [ "${san:-0}" != "0" ]; then
        echo "hive: $(basename "$t"): $san sanitizer report(s) above" | tee -a "$fails"
        bad=$((bad + san))
    fi
    if [ -z "$line" ]; then
        echo "hive: $(basename "$t") printed no summary (exit $rc)" | tee -a "$fails"
        bad=$((bad + 1)); continue
    fi
    p=$(echo "$line" | sed -n 's/.*Passing: *\([0-9]*\).*/\1/p')
    f=$(echo "$line" | sed -n 's/.*Failing: *\([0-9]*\).*/\1/p')
    c=$(echo "$line" | sed -n 's/.*Crashing: *\([0-9]*\).*/\1/p')
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0} + ${c:-0}))
    if [ "$rc" != "0" ] && [ "${f:-0}" = "0" ] && [ "${c:-0}" = "0" ]; then
        echo "hive: $(basename "$t") exited $rc" | tee -a "$fails"
        bad=$((bad + 1))
    fi
done
failed=$((failed + bad))
if [ -s "$fails" ]; then
    echo "--- what failed (repeated from above)"
    head -n 60 "$fails"
fi
rm -f "$fails"
echo "Tests: $passed passed, $failed failed"
[ "$failed" = "0" ] && [ "$passed" != "0" ]
