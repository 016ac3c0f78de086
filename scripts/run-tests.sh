#!/bin/sh
# Installs what the tests need, builds everything and runs the whole test
# suite (unit, QML, HTTP against nginx and the embedded server, faults and
# hostile clients, S3 against s3rver and Ceph's RADOS Gateway, install of the
# package into a consumer project, the PowerSync core, fetched from npm by
# scripts/fetch-powersync.sh).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${PSA_BUILD_DIR:-$root/build}
"$root/scripts/install-deps.sh"
# The S3 test server's npm packages, fetched while the PowerSync core and the
# SQLite it needs (for the powersync tests) are fetched and compiled.
npm_pid=""
if [ -f "$root/tests/s3rver/package.json" ]; then
    npm ci --prefix "$root/tests/s3rver" --no-audit --no-fund --loglevel=error </dev/null &
    npm_pid=$!
fi
"$root/scripts/fetch-powersync.sh" "$build/powersync"
if [ -n "$npm_pid" ] && ! wait "$npm_pid"; then
    echo "run-tests: npm ci --prefix tests/s3rver failed" >&2
    exit 1
fi
PSA_BUILD_DIR=$build "$root/scripts/build.sh"
cd "$build"
ctest --output-on-failure --timeout 600 -j 2 "$@"
