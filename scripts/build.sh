#!/bin/sh
# Configures and builds the whole project (library, QML module, server,
# examples, tests, benchmarks) into ${PSA_BUILD_DIR:-build}. Line tables
# (-g1) give backtraces file and line, and build faster than full -g.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${PSA_BUILD_DIR:-$root/build}
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S "$root" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
    -DPSA_WARNINGS_AS_ERRORS=ON \
    "$@"
cmake --build "$build" -j "$jobs"
