#!/bin/sh
# Builds the library and its tests with AddressSanitizer and
# UndefinedBehaviorSanitizer (warnings as errors) and runs the unit tests and
# the HTTP, embedded server and PowerSync core tests; the 256 MiB transfer is
# left out.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${PSA_SANITIZE_BUILD_DIR:-$root/build-sanitize}
"$root/scripts/install-deps.sh"
# Line tables (-g1) are all a sanitizer report needs, and build faster than -g.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 \
    -DPSA_SANITIZE=address,undefined -DPSA_WARNINGS_AS_ERRORS=ON \
    -DPSA_BUILD_EXAMPLES=OFF -DPSA_BUILD_QML=OFF -DPSA_BUILD_SERVER=ON -DPSA_BUILD_BENCHMARKS=OFF
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)"
cd "$build"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure -L "unit|http|server|powersync" -LE large -j 2
