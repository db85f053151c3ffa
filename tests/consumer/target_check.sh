#!/usr/bin/env bash
# Usage: target_check.sh PROBE.cpp LIBRARY_DIR LIBRARY_TARGET "TARGET FLAGS" CXX [ARGS...]
# Compiles PROBE against the built library twice: with the flags a consumer gets (it must link,
# run and report LIBRARY_TARGET), and for another instruction set (it must fail to link, with the
# symbol that names both targets in the linker's message).
set -uo pipefail
probe=$1 libdir=$2 library_target=$3 target_flags=$4
shift 4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck disable=SC2206
flags=($target_flags)
link=(-L"$libdir" -Wl,-rpath,"$libdir" -ldendrite -pthread)

if ! "$@" "${flags[@]}" "$probe" -o "$work/same" "${link[@]}" 2>"$work/same.log"; then
    echo "FAIL: the probe does not build with the library's flags (${flags[*]})"
    cat "$work/same.log"
    exit 1
fi
out=$("$work/same") || { echo "FAIL: the probe built with the library's flags does not run"; exit 1; }
if [ "$out" != "$library_target 1" ]; then
    echo "FAIL: the probe built with the library's flags reports \"$out\", expected \"$library_target 1\""
    exit 1
fi
echo "ok: with ${flags[*]:-no flags}: links, runs, reports $out"

# Another target: one level below the library's when it has AVX-512 or AVX, else above it.
case " ${flags[*]} " in
    *" -mavx512f "*) other=(-mno-avx512f) ;;
    *" -mavx "*) other=(-mno-avx) ;;
    *) other=(-mavx2 -mfma) ;;
esac
if "$@" "${flags[@]}" "${other[@]}" "$probe" -o "$work/other" "${link[@]}" 2>"$work/other.log"; then
    echo "FAIL: the probe compiled with ${other[*]} linked against a $library_target library"
    exit 1
fi
symbol="dendrite_library_built_for_${library_target}_but_this_unit_targets_target_"
if ! grep -q "$symbol" "$work/other.log"; then
    echo "FAIL: linking with ${other[*]} failed without naming $symbol..."
    head -20 "$work/other.log"
    exit 1
fi
echo "ok: with ${other[*]}: $(grep -o "${symbol}[a-z0-9_]*" "$work/other.log" | head -1)"
