#!/bin/sh
# cli_test.sh FAASLET FUNCS_DIR: `faaslet upload` / `faaslet invoke` end to
# end: valid upload and invoke (output on stdout, "return value: N" on
# stderr, exit status), invalid and truncated modules and bad names
# rejected with nothing stored.
set -u
faaslet=$1
funcs=$2
store=$(mktemp -d /tmp/faaslet-cli-XXXXXX)
trap 'rm -rf "$store"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$faaslet" upload --store "$store" u hello "$funcs/hello.wasm" >/dev/null || fail "upload hello"
out=$("$faaslet" invoke --store "$store" u hello 2>"$store/err") || fail "invoke hello exit"
[ "$out" = "Hello from a Faaslet
hello" ] || fail "hello stdout: $out"
grep -qx "return value: 0" "$store/err" || fail "hello stderr"

"$faaslet" upload --store "$store" u argv "$funcs/argv.wasm" >/dev/null || fail "upload argv"
FAASLET_STORE=$store "$faaslet" invoke u argv --cmdline "a b" >/dev/null 2>"$store/err"
[ $? -eq 2 ] || fail "argv exit status should be its return value 2"
grep -qx "return value: 2" "$store/err" || fail "argv stderr"

head -c 100 "$funcs/hello.wasm" > "$store/truncated.wasm"
"$faaslet" upload --store "$store" u trunc "$store/truncated.wasm" 2>"$store/err" && fail "truncated accepted"
grep -q "nothing stored" "$store/err" || fail "truncated message: $(cat "$store/err")"
[ ! -e "$store/u/trunc" ] || [ -z "$(ls -A "$store/u/trunc")" ] || fail "truncated left files"
printf 'not wasm at all' > "$store/junk.wasm"
"$faaslet" upload --store "$store" u junk "$store/junk.wasm" 2>/dev/null && fail "junk accepted"
[ ! -e "$store/u/junk/function.wasm" ] || fail "junk stored"
for bad in .. . ../x a/b .hidden ""; do
  "$faaslet" upload --store "$store" u "$bad" "$funcs/hello.wasm" 2>/dev/null && fail "name '$bad' accepted"
  "$faaslet" upload --store "$store" "$bad" f "$funcs/hello.wasm" 2>/dev/null && fail "user '$bad' accepted"
done
[ "$(ls -A "$store" | grep -vx -e .files -e err -e truncated.wasm -e junk.wasm)" = "u" ] || fail "bad names created: $(ls -A "$store")"
"$faaslet" invoke --store "$store" u missing >/dev/null 2>"$store/err" && fail "missing function ran"
grep -q "no function u/missing" "$store/err" || fail "missing message"
"$faaslet" upload --store "$store" u trap "$funcs/trap.wasm" >/dev/null
"$faaslet" invoke --store "$store" u trap >/dev/null 2>"$store/err" && fail "trap exit 0"
grep -q "call failed: .*unreachable" "$store/err" || fail "trap message"
# Tiers: upload generated code next to the module; both tiers run it.
ls "$store"/u/hello/*.so >/dev/null 2>&1 || fail "no compiled object after upload"
for t in aot interp auto; do
  out=$("$faaslet" invoke --store "$store" --tier=$t u hello 2>/dev/null) || fail "invoke --tier=$t"
  [ "$out" = "Hello from a Faaslet
hello" ] || fail "hello on $t: $out"
done
"$faaslet" invoke --store "$store" --tier bogus u hello >/dev/null 2>&1
[ $? -eq 2 ] || fail "bad --tier accepted"
# A module whose code cannot be generated (here: no linker) is not stored;
# --no-codegen stores it, and auto runs it on the interpreter.
FAASLET_LLD=/bin/false "$faaslet" upload --store "$store" u nocg "$funcs/hello.wasm" 2>"$store/err" && fail "codegen failure accepted"
grep -q "code generation failed.*nothing stored" "$store/err" || fail "codegen failure message: $(cat "$store/err")"
[ ! -e "$store/u/nocg" ] || fail "codegen failure left files"
FAASLET_LLD=/bin/false "$faaslet" upload --store "$store" --no-codegen u nocg "$funcs/hello.wasm" >/dev/null || fail "--no-codegen upload"
! ls "$store"/u/nocg/*.so >/dev/null 2>&1 || fail "--no-codegen generated code"
out=$(FAASLET_LLD=/bin/false "$faaslet" invoke --store "$store" u nocg 2>"$store/err") || fail "auto without codegen"
grep -q "running on the interpreter" "$store/err" || fail "no fallback log line"
FAASLET_LLD=/bin/false "$faaslet" invoke --store "$store" --tier=aot u nocg >/dev/null 2>"$store/err" && fail "aot without code ran"
grep -q "no compiled code" "$store/err" || fail "aot failure message: $(cat "$store/err")"
echo ok
