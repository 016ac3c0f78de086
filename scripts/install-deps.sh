#!/bin/sh
# Installs the Debian packages listed in scripts/debian-packages.txt that are
# missing. Safe to run again: it does nothing when everything is there.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
packages=$(grep -v '^#' "$here/debian-packages.txt" | grep -v '^$')

# One dpkg-query for the whole list (one per package takes seconds on a busy
# machine, and every script of scripts/ calls this one first).
# shellcheck disable=SC2086
installed=$(dpkg-query -W -f='${Package} ${Status}\n' $packages 2>/dev/null \
    | awk '$NF == "installed" && $(NF - 1) == "ok" && $(NF - 2) == "install" { print $1 }' || true)

missing=""
for p in $packages; do
    # Node.js may come from elsewhere (e.g. NodeSource, which bundles npm and
    # conflicts with Debian's npm): any working node and npm will do.
    case "$p" in
        nodejs) command -v node >/dev/null 2>&1 && continue ;;
        npm) command -v npm >/dev/null 2>&1 && continue ;;
    esac
    case "
$installed
" in
        *"
$p
"*) ;;
        *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0

echo "Installing:$missing"
if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
else
    echo "missing packages:$missing (run as root or install sudo)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=900 $missing
