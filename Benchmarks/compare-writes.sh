#!/usr/bin/env bash
# EVENT throughput and latency of two recd binaries, alternated, for each
# appendfsync policy, and the same while a SAVE runs (started 2 s into the
# run): server pinned to CPU 0, recbench load to CPU 1, 16 connections.
#
#   Benchmarks/compare-writes.sh OLD_RECD NEW_RECD [snapshot] [seconds]
set -uo pipefail
cd "$(dirname "$0")/.."
OLD=$1 NEW=$2 SNAPSHOT=${3:-/tmp/retail} SECONDS_PER_RUN=${4:-6}
PORT=7383
command -v redis-cli > /dev/null || { echo "needs redis-cli: apt-get install redis-tools" >&2; exit 2; }
swift build -c release > /dev/null
BENCH=.build/release/recbench

# One run; prints "events/s p50_ms p99_ms max_ms".
run() {
  local bin=$1 policy=$2 save=$3 data; data=$(mktemp -d)
  PORT=$((PORT + 1))  # a fresh port per run: no waiting on the last one's shutdown
  taskset -c 0 "$bin" --snapshot "$SNAPSHOT" --port $PORT --threads 1 --data-dir "$data" --appendfsync "$policy" --loglevel warn > "$data.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 150); do kill -0 $pid 2> /dev/null && redis-cli -p $PORT PING > /dev/null 2>&1 && break; sleep 0.2; done
  local saver=""
  if [ "$save" = 1 ]; then (sleep 2; redis-cli -p $PORT SAVE > /dev/null) & saver=$!; fi
  taskset -c 1 $BENCH load --snapshot "$SNAPSHOT" --port $PORT --mix event:1 --connections 16 --duration "$SECONDS_PER_RUN" --json \
    | python3 -c 'import json,sys; r=json.load(sys.stdin); a=r["commands"]["ALL"]; print(round(r["throughput"]), round(a["p50_ms"], 3), round(a["p99_ms"], 2), round(a.get("max_ms", 0), 1))' \
    || echo "failed($(tail -c 200 "$data.log" | tr '\n ' '__')) - - -"
  [ -n "$saver" ] && { wait "$saver" 2> /dev/null || true; }
  kill $pid; wait $pid 2> /dev/null || true
  rm -rf "$data"
}

printf "%-9s %-5s %-4s %10s %8s %8s %8s\n" policy save bin events/s p50_ms p99_ms max_ms
i=0
for policy in always everysec no; do
  for save in 0 1; do
    for bin in old new; do
      path=$OLD; [ $bin = new ] && path=$NEW
      i=$((i + 1)); PORT=$((7400 + 2 * i))
      read -r rate p50 p99 mx < <(run "$path" $policy $save)
      printf "%-9s %-5s %-4s %10s %8s %8s %8s\n" $policy $save $bin "$rate" "$p50" "$p99" "$mx"
    done
  done
done
