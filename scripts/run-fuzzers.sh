#!/bin/sh
# Builds every libFuzzer target (tests/fuzz) with clang, ASan and UBSan, and
# runs each for PSA_FUZZ_SECONDS (default 30). A crash, a sanitizer report or
# a broken invariant fails the run; the input that did it is left in the
# build directory and named in the output.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${PSA_FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${PSA_FUZZ_SECONDS:-30}
"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
    -DPSA_BUILD_FUZZERS=ON -DPSA_WARNINGS_AS_ERRORS=ON -DPSA_BUILD_TESTS=OFF \
    -DPSA_BUILD_EXAMPLES=OFF -DPSA_BUILD_QML=OFF -DPSA_BUILD_SERVER=OFF -DPSA_BUILD_BENCHMARKS=OFF
cmake --build "$build" --target psa_fuzzers -j "$(nproc 2>/dev/null || echo 2)"

passed=0
failed=0
for fuzzer in "$build"/tests/fuzz/fuzz_*; do
    [ -f "$fuzzer" ] && [ -x "$fuzzer" ] || continue
    name=$(basename "$fuzzer")
    corpus="$build/corpus/$name"
    mkdir -p "$corpus" "$build/crashes"
    seeds="$root/tests/fuzz/corpus/${name#fuzz_}"
    [ -d "$seeds" ] || seeds=""
    log="$build/logs/$name.log"
    mkdir -p "$build/logs"
    # libFuzzer reports every new input: the whole report goes to a log, and
    # only its totals (or, on a failure, its end) to the console.
    # shellcheck disable=SC2086
    if "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$build/crashes/$name-" "$corpus" $seeds \
        >"$log" 2>&1; then
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
