#!/bin/sh
# Installs what the demo needs, builds everything and runs the demo: the
# inspection app (Qt Quick) in its scripted mode against the embedded
# attachments server, headless when there is no display.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${PSA_BUILD_DIR:-$root/build}
"$root/scripts/install-deps.sh"
# The PowerSync core and the SQLite it needs: the devices' checklists sync
# through PowerSync when they are there at configure time.
"$root/scripts/fetch-powersync.sh" "$build/powersync"
PSA_BUILD_DIR=$build "$root/scripts/build.sh"
if [ -x "$root/scripts/demo-inspection.sh" ]; then
    exec "$root/scripts/demo-inspection.sh" "$build"
fi
exec "$build/examples/console/attachments-console" "$build/demo-console"
