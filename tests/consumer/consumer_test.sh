#!/usr/bin/env bash
# Usage: consumer_test.sh SOURCE_ROOT APP_DIR LIBRARY_TARGET [MESON_SETUP_ARGS...]
# Builds the consumer project in APP_DIR the two ways a user would, and runs it each time:
#  1. with this checkout as its subprojects/dendrite (a symlink in a temporary copy): only the
#     library and the app may be built, and no test, example, tool or benchmark dependency may be
#     looked up;
#  2. through pkg-config, from the library the first build installed into a temporary prefix.
set -euo pipefail
src=$1 app=$2 library_target=$3
shift 3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

check_run() {  # runs the app built in $1 and checks what it prints
    local out
    out=$("$1/app") || fail "the app built in $1 exits with $?"
    echo "$out"
    grep -q "^target $library_target, " <<<"$out" || fail "the app was not compiled for $library_target"
    grep -q "^trained$" <<<"$out" || fail "the app did not train"
}

# 1. As a subproject. --force-fallback-for: an installed dendrite must not be taken instead.
cp -r "$app" "$work/sub"
mkdir "$work/sub/subprojects"
ln -s "$src" "$work/sub/subprojects/dendrite"
start=$(date +%s)
meson setup "$work/sub-build" "$work/sub" --force-fallback-for=dendrite --prefix="$work/prefix" \
    "$@" >"$work/sub-setup.log" 2>&1 || { cat "$work/sub-setup.log"; fail "configuring as a subproject"; }
for dep in catch2 benchmark CLI11 openblas; do
    if grep -qiE "dependency '?$dep\b" "$work/sub-build/meson-logs/meson-log.txt"; then
        grep -iE "dependency '?$dep\b" "$work/sub-build/meson-logs/meson-log.txt" | head -3
        fail "configuring as a subproject looked up $dep"
    fi
done
# What `ninja` would build by default: the library and the app, nothing else.
plan=$(ninja -C "$work/sub-build" -n)
linked=$(grep -oE 'Linking (static )?target [^ ]+' <<<"$plan" | awk '{print $NF}' | sort)
echo "linked by default: $(tr '\n' ' ' <<<"$linked")($(grep -c 'Compiling' <<<"$plan") units)"
while read -r t; do
    case "$t" in
        app | subprojects/dendrite/src/libdendrite.so*) ;;
        *) fail "building as a subproject also links $t" ;;
    esac
done <<<"$linked"
ninja -j2 -C "$work/sub-build" >"$work/sub-build.log" 2>&1 || { tail -30 "$work/sub-build.log"; fail "building as a subproject"; }
cpu=$(awk 'NR > 1 {s += $2 - $1} END {printf "%.0f", s / 1000}' "$work/sub-build/.ninja_log")
echo "subproject build: $(grep -c 'Compiling' "$work/sub-build.log") units in $(($(date +%s) - start)) s wall, ${cpu} s of compile jobs"
check_run "$work/sub-build"

# 2. Through pkg-config, after `meson install` of that build into a temporary prefix.
meson install -C "$work/sub-build" --no-rebuild >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "meson install"; }
pc=$(dirname "$(find "$work/prefix" -name dendrite.pc | head -1)")
[ -f "$pc/dendrite.pc" ] || fail "meson install wrote no dendrite.pc"
[ -f "$work/prefix/include/dendrite/library_target.hpp" ] || fail "library_target.hpp is not installed"
pc_target=$(PKG_CONFIG_PATH=$pc pkg-config --variable=target dendrite)
[ "$pc_target" = "$library_target" ] || fail "pkg-config's target variable is '$pc_target', expected $library_target"
echo "pkg-config --cflags dendrite: $(PKG_CONFIG_PATH=$pc pkg-config --cflags dendrite)"
cp -r "$app" "$work/pc"
PKG_CONFIG_PATH=$pc meson setup "$work/pc-build" "$work/pc" "$@" >"$work/pc-setup.log" 2>&1 ||
    { cat "$work/pc-setup.log"; fail "configuring through pkg-config"; }
grep -q "Run-time dependency dendrite found: YES" "$work/pc-setup.log" || { cat "$work/pc-setup.log"; fail "pkg-config did not find dendrite"; }
ninja -j2 -C "$work/pc-build" >"$work/pc-build.log" 2>&1 || { tail -30 "$work/pc-build.log"; fail "building through pkg-config"; }
LD_LIBRARY_PATH=$(dirname "$(find "$work/prefix" -name 'libdendrite.so' | head -1)") check_run "$work/pc-build"
echo "ok: built and ran as a subproject and through pkg-config"
