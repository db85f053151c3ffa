#!/usr/bin/env bash
# Usage: expect_error.sh SOURCE EXPECTED-MESSAGE COMPILER [ARGS...]
# Passes when compiling SOURCE fails AND the diagnostics contain EXPECTED-MESSAGE. The inline
# namespace named after the SIMD target (dendrite::target_avx512bw::nn...) is left out of the
# diagnostics before matching, as users read them: dendrite::nn...
src=$1
expected=$2
shift 2
if out=$("$@" -fsyntax-only "$src" 2>&1); then
    echo "FAIL: $src compiled, but it must not"
    exit 1
fi
out=$(sed -E 's/dendrite::target_[a-z0-9_]+::/dendrite::/g' <<<"$out")
if ! grep -qF -- "$expected" <<<"$out"; then
    echo "FAIL: $src failed to compile without the expected message: $expected"
    echo "$out" | head -40
    exit 1
fi
echo "ok: $src fails with: $expected"
