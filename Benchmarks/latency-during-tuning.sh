#!/usr/bin/env bash
# Request latency while a background build runs, two recd binaries
# alternated in one run. Each round starts recd on SNAPSHOT (both cores,
# one event loop), and as soon as it answers runs an open-loop REC load
# (`recbench load --rate`, client on CPU 1) for SECONDS: the window in which
# `similarity auto` tunes. A second load after `build_stage:tuned` is the
# quiet baseline. Prints p50/p99/max per run, then medians.
#
#   Benchmarks/latency-during-tuning.sh OLD_RECD NEW_RECD SNAPSHOT [rounds] [seconds] [rate]
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=$1 NEW=$2 SNAPSHOT=$3 ROUNDS=${4:-3} SECONDS_=${5:-6} RATE=${6:-5000}
PORT=${PORT:-7393}
command -v redis-cli > /dev/null || { echo "needs redis-cli: apt-get install redis-tools" >&2; exit 2; }
load() {
  taskset -c 1 .build/release/recbench load --snapshot "$SNAPSHOT" --port $PORT --duration "$1" --rate "$RATE" \
    --connections 8 --mix rec:100 --json | python3 -c 'import json,sys; a=json.load(sys.stdin)["commands"]["ALL"]; print(a["p50_ms"], a["p99_ms"], a["max_ms"], a["errors"])'
}
run() {
  local bin=$1 data; data=$(mktemp -d)
  "$bin" --snapshot "$SNAPSHOT" --port $PORT --threads 1 --data-dir "$data" --loglevel warn > /dev/null 2>&1 &
  local pid=$! start; start=$(date +%s.%N)
  until redis-cli -p $PORT PING > /dev/null 2>&1; do sleep 0.02; done
  local during; during=$(load "$SECONDS_")
  local tuned=""
  for _ in $(seq 1 600); do
    redis-cli -p $PORT INFO index | grep -q "build_stage:tuning" || { tuned=$(echo "$(date +%s.%N) - $start" | bc); break; }
    sleep 0.1
  done
  local quiet; quiet=$(load 3)
  kill $pid; wait $pid 2> /dev/null || true
  rm -rf "$data"
  echo "$during $quiet $tuned"
}
declare -A col
for r in $(seq 1 "$ROUNDS"); do
  for which in old new; do
    bin=$OLD; [ $which = new ] && bin=$NEW
    read -r p50 p99 mx err qp50 qp99 qmx qerr tuned < <(run "$bin")
    printf "round %s %s: during tuning p50 %s p99 %s max %s ms (errors %s); after p50 %s p99 %s ms; tuned by %.1f s\n" \
      "$r" $which "$p50" "$p99" "$mx" "$err" "$qp50" "$qp99" "${tuned:-0}"
    col[$which.p50]+="$p50 " col[$which.p99]+="$p99 " col[$which.tuned]+="${tuned:-0} " col[$which.qp99]+="$qp99 "
  done
done
median() { printf '%s\n' $1 | sort -g | awk '{a[NR] = $1} END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
for which in old new; do
  printf "median %s: during tuning p50 %s p99 %s ms; after p99 %s ms; tuned by %s s\n" $which \
    "$(median "${col[$which.p50]}")" "$(median "${col[$which.p99]}")" "$(median "${col[$which.qp99]}")" "$(median "${col[$which.tuned]}")"
done
