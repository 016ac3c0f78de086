#!/bin/sh
# Builds the API reference (HTML) with Doxygen into ${PSA_APIDOC_OUT:-<build>/apidoc}:
# the public C++ headers, and the QML types from the .qmltypes file of a
# build in ${PSA_BUILD_DIR:-build} (build first). Any Doxygen warning fails.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${PSA_BUILD_DIR:-$root/build}
out=${PSA_APIDOC_OUT:-$build/apidoc}
qmltypes=$build/qml/PowerSync/Attachments/PowerSyncAttachmentsQml.qmltypes
if [ ! -f "$qmltypes" ]; then
    echo "build-apidoc: $qmltypes is missing: build the project first" >&2
    exit 1
fi
rm -rf "$out"
mkdir -p "$out/pages"
python3 "$root/doc/apidoc/qmltypes2md.py" "$qmltypes" "$out/pages/qmltypes.md"
cp "$root/doc/threads.md" "$out/pages/threads.md"

input="$root/doc/apidoc/mainpage.md $out/pages/qmltypes.md $out/pages/threads.md"
# The library's folders as src/CMakeLists.txt lists them (PSA_AREAS), and gui.
areas=$(sed -n 's/^set(PSA_AREAS \(.*\))$/\1/p' "$root/src/CMakeLists.txt")
if [ -z "$areas" ]; then
    echo "build-apidoc: no PSA_AREAS in src/CMakeLists.txt" >&2
    exit 1
fi
for area in $areas gui; do
    input="$input $root/src/$area"
done
cd "$root"
status=0
PSA_APIDOC_OUT=$out PSA_APIDOC_INPUT=$input PSA_APIDOC_MAINPAGE=$root/doc/apidoc/mainpage.md \
    PSA_APIDOC_FILTER=$root/doc/apidoc/filter.sh doxygen "$root/doc/apidoc/Doxyfile" || status=$?
if [ "$status" -ne 0 ] || [ -s "$out/warnings.log" ]; then
    cat "$out/warnings.log" >&2
    echo "build-apidoc: Doxygen warned (above)" >&2
    exit 1
fi
echo "build-apidoc: $out/html/index.html"
