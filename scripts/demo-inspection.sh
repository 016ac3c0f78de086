#!/bin/sh
# Builds the project (scripts/build.sh) and runs the inspection example's
# scripted demo: an inspector's tablet takes checklist photos while the
# embedded attachments server is down, catches up when it comes back, removes
# one photo, and an office laptop (its own database and folder) downloads the
# rest. The checklist rows travel between the two devices through the PowerSync
# sync client (QPowerSyncDatabase) and a local stand-in for a PowerSync Service
# when the PowerSync core is in the build (scripts/fetch-powersync.sh; the
# first line printed says which). Prints what happens and saves a screenshot.
#
#   scripts/demo-inspection.sh [build-dir]
#
# PSA_DEMO_SCREENSHOT: where the screenshot goes (default <build-dir>/inspection-demo.png)
# PSA_DEMO_NO_BUILD=1: run what is already built
# Without a display the app renders offscreen.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${PSA_BUILD_DIR:-$root/build}}
if [ "${PSA_DEMO_NO_BUILD:-0}" != 1 ]; then
    PSA_BUILD_DIR=$build "$root/scripts/build.sh"
fi
app=$build/examples/inspection/inspection
if [ ! -x "$app" ]; then
    echo "demo-inspection: $app was not built (needs PSA_BUILD_QML, PSA_BUILD_EXAMPLES and PSA_BUILD_SERVER)" >&2
    exit 1
fi
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
    QT_QPA_PLATFORM=offscreen
    export QT_QPA_PLATFORM
fi
screenshot=${PSA_DEMO_SCREENSHOT:-$build/inspection-demo.png}
"$app" --demo --screenshot "$screenshot"
echo "screenshot: $screenshot"
