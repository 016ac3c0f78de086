#!/bin/sh
# Configures and builds the whole project (library, QML module, server,
# examples, tests, benchmarks) into ${PSA_BUILD_DIR:-build}. Line tables
# (-g1) give backtraces file and line, and build faster than full -g. The
# library's sources are compiled in a few combined batches (unity build: about
# half the compile time); PSA_UNITY_BUILD=OFF compiles each on its own, which
# rebuilds less after a one-file edit.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${PSA_BUILD_DIR:-$root/build}
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S "$root" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
    -DPSA_WARNINGS_AS_ERRORS=ON \
    -DPSA_UNITY_BUILD="${PSA_UNITY_BUILD:-ON}" \
    "$@"
cmake --build "$build" -j "$jobs"
