#!/bin/sh
# Builds every libFuzzer target (tests/fuzz) with clang, ASan and UBSan, and
# runs each for PSA_FUZZ_SECONDS (default 30), PSA_FUZZ_JOBS at a time (default:
# one per core; each fuzzer is one process on one core, so each still gets its
# full time). A crash, a sanitizer report or a broken invariant fails the run;
# the input that did it is left in the build directory and named in the output.
#
#   scripts/run-fuzzers.sh [--build-only | --no-build]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${PSA_FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${PSA_FUZZ_SECONDS:-30}
cores=$(nproc 2>/dev/null || echo 2)
jobs=${PSA_FUZZ_JOBS:-$cores}
case "$jobs" in
    '' | *[!0-9]* | 0) jobs=1 ;;
esac
. "$root/scripts/build-step.sh"
psa_build_step "$0" "$@"

if [ "$step" != --no-build ]; then
    "$root/scripts/install-deps.sh"
    # Line tables (-g1) are all a report's stack needs, and build faster than -g.
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
        -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
        -DPSA_BUILD_FUZZERS=ON -DPSA_WARNINGS_AS_ERRORS=ON -DPSA_BUILD_TESTS=OFF \
        -DPSA_BUILD_EXAMPLES=OFF -DPSA_BUILD_QML=OFF -DPSA_BUILD_SERVER=OFF -DPSA_BUILD_BENCHMARKS=OFF
    cmake --build "$build" --target psa_fuzzers -j "$cores"
fi
[ "$step" = --build-only ] && exit 0

fuzzers=""
for fuzzer in "$build"/tests/fuzz/fuzz_*; do
    [ -f "$fuzzer" ] && [ -x "$fuzzer" ] || continue
    fuzzers="$fuzzers $fuzzer"
done
if [ -z "$fuzzers" ]; then
    echo "fuzzers: none built in $build/tests/fuzz" >&2
    exit 1
fi
results="$build/results"
rm -rf "$results"
mkdir -p "$results" "$build/crashes" "$build/logs"

# fuzz <fuzzer>: runs it for $seconds; leaves "passed" or "failed" in the results.
fuzz() {
    name=$(basename "$1")
    corpus="$build/corpus/$name"
    mkdir -p "$corpus"
    seeds="$root/tests/fuzz/corpus/${name#fuzz_}"
    [ -d "$seeds" ] || seeds=""
    log="$build/logs/$name.log"
    # libFuzzer reports every new input: the whole report goes to a log, and
    # only its totals (or, on a failure, its end) to the console.
    # shellcheck disable=SC2086
    if "$1" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$build/crashes/$name-" "$corpus" $seeds \
        >"$log" 2>&1; then
        echo passed >"$results/$name"
    else
        echo failed >"$results/$name"
    fi
}

# The fuzzers dealt round-robin into $jobs lanes that run side by side.
lane=0
while [ "$lane" -lt "$jobs" ]; do
    (
        i=0
        for fuzzer in $fuzzers; do
            [ $((i % jobs)) -eq "$lane" ] && fuzz "$fuzzer"
            i=$((i + 1))
        done
    ) &
    lane=$((lane + 1))
done
wait

passed=0
failed=0
for fuzzer in $fuzzers; do
    name=$(basename "$fuzzer")
    log="$build/logs/$name.log"
    if [ "$(cat "$results/$name" 2>/dev/null)" = passed ]; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        echo "$name: ${runs:-?} inputs in ${seconds}s, no failure"
        passed=$((passed + 1))
    else
        tail -n 60 "$log" >&2
        echo "$name FAILED: the input is in $build/crashes/, the report in $log" >&2
        failed=$((failed + 1))
    fi
done
echo "fuzzers: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
