#!/bin/sh
# diff_test.sh FAASLET WASM [ARGS...]: runs a WASI program with the
# interpreter and with compiled code (no cache) and fails unless both print
# the same stdout and stderr and exit with the same status.
set -u
faaslet=$1
shift
tmp=$(mktemp -d "${TMPDIR:-/tmp}/faaslet-aot-diff-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
"$faaslet" run "$@" >"$tmp/interp.out" 2>"$tmp/interp.err"
interp_rc=$?
"$faaslet" run --tier=aot --no-cache "$@" >"$tmp/aot.out" 2>"$tmp/aot.err"
aot_rc=$?
status=0
if [ "$interp_rc" != "$aot_rc" ]; then
    echo "exit status differs: interp $interp_rc, aot $aot_rc"
    status=1
fi
if ! cmp -s "$tmp/interp.out" "$tmp/aot.out"; then
    echo "stdout differs:"
    diff "$tmp/interp.out" "$tmp/aot.out" | head -20
    status=1
fi
if ! cmp -s "$tmp/interp.err" "$tmp/aot.err"; then
    echo "stderr differs:"
    diff "$tmp/interp.err" "$tmp/aot.err" | head -20
    status=1
fi
[ $status = 0 ] && echo "same output and status ($interp_rc) in interp and aot"
exit $status
