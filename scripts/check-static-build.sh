#!/bin/sh
# Builds the library (and its QML module) as a static library, installs it
# into a scratch prefix, and builds and runs the install test's consumer
# project against it: headers, version macros, QML import and a saved file.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${PSA_STATIC_BUILD_DIR:-$root/build-static}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPSA_WARNINGS_AS_ERRORS=ON -DBUILD_SHARED_LIBS=OFF -DPSA_BUILD_TESTS=OFF \
    -DPSA_BUILD_EXAMPLES=OFF -DPSA_BUILD_SERVER=OFF -DPSA_BUILD_BENCHMARKS=OFF -DPSA_BUILD_QML=ON \
    "$@"
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)"
rm -rf "$build/prefix" "$build/consumer" "$build/run"
cmake --install "$build" --prefix "$build/prefix"
cmake -S "$root/tests/install/consumer" -B "$build/consumer" -G Ninja \
    -DCMAKE_PREFIX_PATH="$build/prefix" -DPSA_EXPECT_QML=ON
cmake --build "$build/consumer"
mkdir -p "$build/run"
QT_QPA_PLATFORM=offscreen "$build/consumer/consumer" "$build/run"
