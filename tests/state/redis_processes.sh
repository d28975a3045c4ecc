#!/usr/bin/env bash
# redis_processes.sh FAASLET STATE_SHARED_WASM REDIS_SERVER: separate
# `faaslet invoke --redis` processes share state through one Redis: a value
# put by one is read by another; concurrent counters under the global lock
# end exact; concurrent appends lose nothing; with Redis down a call fails
# with a clear error, and works again once Redis is back.
set -euo pipefail
faaslet=$1 wasm=$2 redis_server=$3
work=$(mktemp -d)
redis_pid=""
cleanup() {
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start_redis() {
  "$redis_server" --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$work" >"$work/redis.log" 2>&1 &
  redis_pid=$!
  for _ in $(seq 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "redis-server did not start"; cat "$work/redis.log"; exit 1
}
stop_redis() {
  kill "$redis_pid"; wait "$redis_pid" 2>/dev/null || true; redis_pid=""
}
invoke() {  # invoke INPUT -> stdout = call output
  "$faaslet" invoke --store "$work/store" --redis "127.0.0.1:$port" demo shared --input "$1" 2>"$work/err"
}
expect() {  # expect WHAT GOT WANT
  if [ "$2" != "$3" ]; then
    echo "FAIL $1: got '$2', want '$3'"; cat "$work/err"; exit 1
  fi
  echo "ok   $1"
}

start_redis
"$faaslet" upload --store "$work/store" demo shared "$wasm" >/dev/null

invoke "put:hello-from-A" >/dev/null
expect "value put by one process is read by another" "$(invoke get)" "hello-from-A"

invoke "incr:150" >"$work/a" & pa=$!
invoke "incr:150" >"$work/b" & pb=$!
wait $pa; wait $pb
expect "counter under the global lock from two processes" "$(invoke incr:1)" "counter=301"

invoke "append:A:200" >/dev/null & pa=$!
invoke "append:B:200" >/dev/null & pb=$!
wait $pa; wait $pb
expect "concurrent appends from two processes" "$(invoke check:400)" "appends=400 distinct=400"

stop_redis
set +e
invoke get >/dev/null
rc=$?
set -e
[ "$rc" -ne 0 ] || { echo "FAIL: a call with Redis down succeeded"; exit 1; }
grep -q "redis 127.0.0.1:$port" "$work/err" || { echo "FAIL: error does not name Redis:"; cat "$work/err"; exit 1; }
echo "ok   Redis down: the call fails naming it ($(head -c 160 "$work/err" | tr '\n' ' '))"

start_redis
invoke "put:back-again" >/dev/null
expect "works again once Redis is back" "$(invoke get)" "back-again"
