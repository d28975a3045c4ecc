#!/usr/bin/env bash
# check_api.sh SRC_DIR: the three lists of host imports agree: the
# FAASM_IMPORT declarations in host_interface.h, guest/faasm.imports (what
# faaslet-cc lets stay undefined) and the contract in docs/GUEST-API.md.
set -euo pipefail
src=$1
declared=$(grep -o 'FAASM_IMPORT(__faasm_[a-z_]*)' "$src/guest/include/faasm/host_interface.h" \
  | sed 's/FAASM_IMPORT(\(.*\))/\1/' | sort)
listed=$(grep -v '^#' "$src/guest/faasm.imports" | sed '/^$/d' | sort)
documented=$(grep -o '^### `__faasm_[a-z_]*' "$src/docs/GUEST-API.md" | sed 's/^### `//' | sort)
status=0
if [ "$declared" != "$listed" ]; then
  echo "host_interface.h and faasm.imports differ:"; diff <(echo "$declared") <(echo "$listed") || true; status=1
fi
if [ "$declared" != "$documented" ]; then
  echo "host_interface.h and docs/GUEST-API.md differ:"; diff <(echo "$declared") <(echo "$documented") || true; status=1
fi
[ $status -eq 0 ] && echo "$(wc -l <<<"$declared") imports agree"
exit $status
