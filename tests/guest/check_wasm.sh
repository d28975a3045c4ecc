#!/usr/bin/env bash
# check_wasm.sh IMPORTS_FILE WASM [zygote]: a function built by faaslet-cc
# imports only WASI preview1 and the listed env.__faasm_* host functions, and
# exports memory, _start, _faasm_init, _faasm_call_ptr (+ _faasm_zygote when
# "zygote" is given, and not otherwise).
set -euo pipefail
imports_file=$1 wasm=$2 want_zygote=${3:-}
dump=$(wasm-objdump -x -j Import -j Export "$wasm")
status=0

while read -r what; do
  mod=${what%%.*} name=${what#*.}
  case "$mod" in
    wasi_snapshot_preview1) ;;
    env)
      if ! grep -qx -- "$name" "$imports_file"; then
        echo "$wasm: imports env.$name, which is not in $imports_file"; status=1
      fi ;;
    *) echo "$wasm: imports $what from an unknown module"; status=1 ;;
  esac
done < <(printf '%s\n' "$dump" | sed -n 's/.* <- \([^ ]*\)$/\1/p')

exports=$(printf '%s\n' "$dump" | sed -n 's/.* -> "\(.*\)"$/\1/p')
for e in memory _start _faasm_init _faasm_call_ptr; do
  grep -qx "$e" <<<"$exports" || { echo "$wasm: does not export $e"; status=1; }
done
if [ "$want_zygote" = zygote ]; then
  grep -qx _faasm_zygote <<<"$exports" || { echo "$wasm: does not export _faasm_zygote"; status=1; }
elif grep -qx _faasm_zygote <<<"$exports"; then
  echo "$wasm: exports _faasm_zygote but defines none"; status=1
fi
# wasm-ld wraps exports in constructor calls when the start code does not
# call them itself; faaslet's crt1 must prevent that (snapshots need it).
if grep -q 'command_export' <<<"$dump"; then
  echo "$wasm: exports are wrapped in command_export constructors"; status=1
fi
[ $status -eq 0 ] && echo "$wasm: imports and exports ok"
exit $status
