#!/bin/sh
# Fetches the PowerSync SQLite core extension and an SQLite new enough for it,
# checks them against scripts/powersync-pins.txt and places them in
#   ${1:-${PSA_BUILD_DIR:-build}/powersync}/lib/
#     libpowersync_<arch>.<os>.so   the core extension, as @powersync/node ships it
#     libsqlite3.so.0               SQLite built from @powersync/better-sqlite3's amalgamation
#     LICENSE.powersync, VERSIONS
#
# Only the npm registry is used (`npm pack`: nothing is installed). Downloads and
# the compiled SQLite are kept in ${PSA_CACHE_DIR:-<repo>/.cache/powersync}, so a
# second run needs no network and compiles nothing. Every file is hash-checked
# on every run, from the cache too; a mismatch stops the script.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
pins="$root/scripts/powersync-pins.txt"
dest=${1:-${PSA_BUILD_DIR:-$root/build}/powersync}
cache=${PSA_CACHE_DIR:-$root/.cache/powersync}
cc=${CC:-cc}

core_package="@powersync/node@1.1.0"
sqlite_package="@powersync/better-sqlite3@0.2.0"

# The options Debian 12 builds its libsqlite3 with (PRAGMA compile_options),
# so that Qt's QSQLITE plugin and every other user finds what it expects;
# SQLITE_ENABLE_COLUMN_METADATA is the one QSQLITE cannot load without.
sqlite_flags="-O2 -fPIC -DNDEBUG \
 -DSQLITE_THREADSAFE=1 -DSQLITE_ENABLE_COLUMN_METADATA -DSQLITE_SECURE_DELETE \
 -DSQLITE_ENABLE_FTS3 -DSQLITE_ENABLE_FTS3_PARENTHESIS -DSQLITE_ENABLE_FTS3_TOKENIZER \
 -DSQLITE_ENABLE_FTS4 -DSQLITE_ENABLE_FTS5 -DSQLITE_ENABLE_RTREE -DSQLITE_SOUNDEX \
 -DSQLITE_ENABLE_UNLOCK_NOTIFY -DSQLITE_OMIT_LOOKASIDE -DSQLITE_ENABLE_DBSTAT_VTAB \
 -DSQLITE_ENABLE_UPDATE_DELETE_LIMIT -DSQLITE_ENABLE_LOAD_EXTENSION \
 -DSQLITE_ENABLE_MATH_FUNCTIONS -DSQLITE_LIKE_DOESNT_MATCH_BLOBS -DSQLITE_USE_URI=1 \
 -DSQLITE_MAX_SCHEMA_RETRY=25 -DSQLITE_ENABLE_PREUPDATE_HOOK -DSQLITE_ENABLE_SESSION \
 -DSQLITE_ENABLE_STMTVTAB -DSQLITE_MAX_VARIABLE_NUMBER=250000 -DSQLITE_DEFAULT_FILE_PERMISSIONS=0644 \
 -DHAVE_USLEEP=1 -DHAVE_FDATASYNC=1 -DHAVE_LOCALTIME_R=1 -DHAVE_GMTIME_R=1 -DHAVE_STRCHRNUL=1"

die() {
    echo "fetch-powersync: $*" >&2
    exit 1
}

# pin <package@version> <path>: the pinned SHA-256, or nothing.
pin() {
    awk -v p="$1" -v f="$2" '$1 == p && $2 == f { print $3 }' "$pins"
}

sha256() {
    sha256sum "$1" | cut -d' ' -f1
}

# check <file> <package@version> <path>
check() {
    want=$(pin "$2" "$3")
    [ -n "$want" ] || die "no SHA-256 pinned for $2 $3 in $pins"
    [ -f "$1" ] || die "$2 has no $3"
    got=$(sha256 "$1")
    [ "$got" = "$want" ] || die "SHA-256 mismatch for $2 $3: expected $want, got $got"
}

# tarball <package@version>: prints the path of the checked tarball in the cache.
tarball() {
    name=$(echo "$1" | sed -e 's/^@//' -e 's/@[^@]*$//' -e 's|/|-|')
    version=${1##*@}
    file="$cache/$name-$version.tgz"
    want=$(pin "$1" tarball)
    if [ ! -f "$file" ] || [ "$(sha256 "$file")" != "$want" ]; then
        command -v npm >/dev/null 2>&1 || die "npm is needed to fetch $1 (scripts/install-deps.sh installs it)"
        rm -f "$file"
        echo "fetch-powersync: fetching $1 from the npm registry" >&2
        npm pack "$1" --pack-destination "$cache" --silent --no-audit --no-fund >/dev/null </dev/null \
            || die "npm pack $1 failed"
    fi
    check "$file" "$1" tarball
    echo "$file"
}

# unpack <package@version> <dir>: extracts the tarball and checks every pinned file.
unpack() {
    rm -rf "$2"
    mkdir -p "$2"
    tar -xzf "$(tarball "$1")" -C "$2" || die "cannot extract $1"
    awk -v p="$1" '$1 == p && $2 != "tarball" { print $2 }' "$pins" | while read -r path; do
        check "$2/package/$path" "$1" "$path"
    done
}

case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) core_file=libpowersync_x64.linux.so ;;
    Linux-aarch64) core_file=libpowersync_aarch64.linux.so ;;
    Linux-armv7l) core_file=libpowersync_armv7.linux.so ;;
    Linux-riscv64) core_file=libpowersync_riscv64gc.linux.so ;;
    Linux-i686) core_file=libpowersync_x86.linux.so ;;
    *) die "no PowerSync core for $(uname -s) $(uname -m) in $core_package" ;;
esac
command -v sha256sum >/dev/null 2>&1 || die "sha256sum (coreutils) is missing"

mkdir -p "$cache" "$dest/lib"
# Build trees configured side by side share the cache: one fetch at a time, so
# that the second finds what the first downloaded and compiled.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$cache/lock"
    flock 9
fi
work=$(mktemp -d "$cache/unpack.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# The core.
unpack "$core_package" "$work/core"
install -m 0644 "$work/core/package/lib/$core_file" "$dest/lib/$core_file"
install -m 0644 "$work/core/package/LICENSE" "$dest/lib/LICENSE.powersync"
check "$dest/lib/$core_file" "$core_package" "lib/$core_file"

# SQLite, compiled once per amalgamation, compiler and set of options.
unpack "$sqlite_package" "$work/sqlite"
key=$( (pin "$sqlite_package" deps/sqlite3/sqlite3.c; echo "$sqlite_flags"; "$cc" --version 2>/dev/null | head -n 1) \
    | sha256sum | cut -c1-16)
built="$cache/sqlite-$key/libsqlite3.so.0"
if [ ! -f "$built" ]; then
    echo "fetch-powersync: compiling SQLite from $sqlite_package (takes a minute)" >&2
    mkdir -p "$cache/sqlite-$key"
    # shellcheck disable=SC2086
    "$cc" $sqlite_flags -shared -Wl,-soname,libsqlite3.so.0 \
        -o "$built.tmp" "$work/sqlite/package/deps/sqlite3/sqlite3.c" -lm -ldl -lpthread \
        || die "compiling SQLite failed"
    mv "$built.tmp" "$built"
fi
install -m 0755 "$built" "$dest/lib/libsqlite3.so.0"

version=$(sed -n 's/^#define SQLITE_VERSION  *"\(.*\)"/\1/p' "$work/sqlite/package/deps/sqlite3/sqlite3.h")
cat >"$dest/lib/VERSIONS" <<EOF
core $core_package lib/$core_file $(sha256 "$dest/lib/$core_file")
sqlite $version $sqlite_package deps/sqlite3/sqlite3.c $(pin "$sqlite_package" deps/sqlite3/sqlite3.c)
EOF
echo "fetch-powersync: $dest/lib has $core_file and libsqlite3.so.0 (SQLite $version)" >&2
