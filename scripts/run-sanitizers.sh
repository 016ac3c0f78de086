#!/bin/sh
# Builds the library and its tests with AddressSanitizer and
# UndefinedBehaviorSanitizer (warnings as errors) and runs the unit tests and
# the HTTP, embedded server and PowerSync core tests; the 256 MiB transfer is
# left out. Only what those tests run is built.
#
#   scripts/run-sanitizers.sh [--build-only | --no-build]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${PSA_SANITIZE_BUILD_DIR:-$root/build-sanitize}
jobs=$(nproc 2>/dev/null || echo 2)
labels="unit|http|server|powersync"
exclude="large"
. "$root/scripts/build-step.sh"
psa_build_step "$0" "$@"

# needed_targets: the build outputs the selected tests run or name on their
# command line (a test program, or the library a check script reads), one per
# line, relative to the build directory; nothing when that cannot be told.
# ctest names the selected tests; their command lines are in the
# CTestTestfile.cmake files (ctest itself leaves out programs not built yet).
needed_targets() {
    command -v python3 >/dev/null 2>&1 || return 0
    (cd "$build" && ctest -N -L "$labels" -LE "$exclude" --show-only=json-v1) >"$build/tests.json" \
        || return 0
    ninja -C "$build" -t targets all >"$build/targets.txt" || return 0
    python3 - "$build" <<'EOF' || true
import json, os, re, sys
build = sys.argv[1]
selected = [t["name"] for t in json.load(open(os.path.join(build, "tests.json"))).get("tests", [])]
outputs = set()
with open(os.path.join(build, "targets.txt")) as f:
    for line in f:
        name, _, _ = line.rstrip("\n").rpartition(": ")
        if name:
            outputs.add(name)
commands = {}
for directory, _, files in os.walk(build):
    if "CTestTestfile.cmake" not in files:
        continue
    with open(os.path.join(directory, "CTestTestfile.cmake")) as f:
        for line in f:
            m = re.match(r'add_test\(\s*(?:\[(=*)\[(.*?)\]\1\]|([^\s")]+))(.*)', line)
            if m:
                words = re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(4))
                commands[m.group(2) if m.group(2) is not None else m.group(3)] = words
needed = []
for name in selected:
    if name not in commands:
        sys.exit(0)  # a test whose command is unknown: build everything
    for word in commands[name]:
        word = re.sub(r"^-D[A-Za-z_][A-Za-z0-9_]*=", "", word)
        path = os.path.relpath(word, build) if os.path.isabs(word) else word
        if path in outputs and path not in needed:
            needed.append(path)
print("\n".join(needed))
EOF
}

if [ "$step" != --no-build ]; then
    "$root/scripts/install-deps.sh"
    # Line tables (-g1) are all a sanitizer report needs, and build faster than -g.
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 \
        -DPSA_SANITIZE=address,undefined -DPSA_WARNINGS_AS_ERRORS=ON \
        -DPSA_UNITY_BUILD="${PSA_UNITY_BUILD:-ON}" \
        -DPSA_BUILD_EXAMPLES=OFF -DPSA_BUILD_QML=OFF -DPSA_BUILD_SERVER=ON -DPSA_BUILD_BENCHMARKS=OFF
    targets=$(needed_targets)
    if [ -n "$targets" ]; then
        # shellcheck disable=SC2086
        echo "run-sanitizers: building what the tests run:" $targets
        # shellcheck disable=SC2086
        cmake --build "$build" -j "$jobs" --target $targets
    else
        cmake --build "$build" -j "$jobs"
    fi
fi
[ "$step" = --build-only ] && exit 0

cd "$build"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure -L "$labels" -LE "$exclude" -j 2
