#!/usr/bin/env bash
# check_wrapper.sh BIN_DIR FUNCS_DIR: the installed faaslet-cc/faaslet-c++
# work by absolute path from an unrelated directory, through a symlink, for
# compile-only and link steps, with user flags overriding the defaults; and
# the CMake toolchain file builds a function.
set -euo pipefail
bin=$1 funcs=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

"$bin/faaslet-cc" -O2 -c "$funcs/echo.c" -o echo.o
"$bin/faaslet-cc" echo.o -o echo.wasm
ln -s "$bin/faaslet-c++" my-c++
./my-c++ -O1 "$funcs/hello_cpp.cpp" -o hello_cpp.wasm
FAASLET_STACK_SIZE=65536 "$bin/faaslet-cc" "$funcs/counter.c" -o counter.wasm -Wl,--max-memory=16777216
# Dump first, then grep: with pipefail, `grep -q` closing the pipe early makes
# wasm-objdump die of SIGPIPE and fails the test at random.
echo_dump=$(wasm-objdump -x echo.wasm)
counter_dump=$(wasm-objdump -x counter.wasm)
grep -q '_start' <<<"$echo_dump" || { echo "echo.wasm: no _start"; exit 1; }
grep -q 'max=256' <<<"$counter_dump" || { echo "counter.wasm: -Wl,--max-memory did not override"; exit 1; }
grep -q 'i32=65536' <<<"$counter_dump" || { echo "counter.wasm: FAASLET_STACK_SIZE ignored"; exit 1; }

mkdir proj
cat > proj/CMakeLists.txt <<'CM'
cmake_minimum_required(VERSION 3.20)
project(funcs C CXX)
add_executable(echo echo.c)
add_executable(hello_cpp hello_cpp.cpp)
CM
cp "$funcs/echo.c" "$funcs/hello_cpp.cpp" proj/
cmake -S proj -B proj/build -DCMAKE_TOOLCHAIN_FILE="$bin/../guest/cmake/faaslet-toolchain.cmake" >/dev/null
cmake --build proj/build >/dev/null
test -f proj/build/echo.wasm && test -f proj/build/hello_cpp.wasm || { echo "toolchain build produced no .wasm"; exit 1; }
echo "faaslet-cc ok"
