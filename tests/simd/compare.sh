#!/bin/sh
# compare.sh NATIVE FAASLET WASM TIER: runs the native build and the wasm
# build (faaslet run --tier=TIER) of one program and fails unless both exit 0
# with identical output. Checks first that the wasm really uses SIMD.
set -eu
native=$1 faaslet=$2 wasm=$3 tier=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Auto-vectorised code has dozens of v128 instructions; a scalar build none.
if command -v wasm-objdump >/dev/null 2>&1; then
    n=$(wasm-objdump -d "$wasm" | grep -cE '(i8x16|i16x8|i32x4|i64x2|f32x4|f64x2|v128)\.' || true)
    if [ "$n" -lt 50 ]; then
        echo "FAIL: $wasm has only $n SIMD instructions (not vectorised?)"
        exit 1
    fi
    echo "$wasm: $n SIMD instructions"
fi
"$native" > "$tmp/native.txt"
"$faaslet" run --tier="$tier" "$wasm" > "$tmp/wasm.txt"
if ! cmp -s "$tmp/native.txt" "$tmp/wasm.txt"; then
    echo "FAIL: outputs differ (native <, wasm >)"
    diff "$tmp/native.txt" "$tmp/wasm.txt" || true
    exit 1
fi
echo "ok: $(wc -l < "$tmp/native.txt") lines identical"
