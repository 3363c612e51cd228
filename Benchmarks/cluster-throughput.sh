#!/usr/bin/env bash
# EVENT throughput (per-user writes, what a cluster partitions) of one
# standalone recd and of three cluster nodes, without and with the ring of
# replicas: every server on CPU 0, redis-benchmark (-c 50, --cluster for the
# cluster) on CPU 1. Alternated RUNS times.
#
#   Benchmarks/cluster-throughput.sh [snapshot] [runs] [requests]
#
# RECDS="old new" alternates binaries (default .build/release/recd);
# MODES picks among standalone, plain and ring; EXTRA_ARGS go to every
# server (e.g. "--appendfsync always").
set -uo pipefail
cd "$(dirname "$0")/.."
SNAPSHOT=${1:-/tmp/retail} RUNS=${2:-3} N=${3:-100000}
RECDS=${RECDS:-.build/release/recd} MODES=${MODES:-standalone plain ring}
command -v redis-benchmark > /dev/null || { echo "needs redis-benchmark: apt-get install redis-tools" >&2; exit 2; }
work=$(mktemp -d)
trap 'kill $(jobs -p) 2> /dev/null; rm -rf "$work"' EXIT
ports=(7451 7452 7453)
python3 - "$work" <<'PY'
import json, sys
ports, ranges = [7451, 7452, 7453], [(0, 5460), (5461, 10922), (10923, 16383)]
for name, ring in (("plain", False), ("ring", True)):
    shards = [{"slots": [[a, b]], "primary": f"127.0.0.1:{ports[i]}",
               "replicas": [f"127.0.0.1:{ports[(i + 1) % 3]}"] if ring else []} for i, (a, b) in enumerate(ranges)]
    open(f"{sys.argv[1]}/{name}.json", "w").write(json.dumps({"epoch": 1, "shards": shards}))
PY
wait_up() { for _ in $(seq 1 100); do redis-cli -p "$1" PING > /dev/null 2>&1 && return; sleep 0.1; done; }
rate() { grep -o '[0-9.]* requests per second' | tail -1 | cut -d' ' -f1; }
run() {  # $1: standalone | plain | ring; RECD: the binary
  local pids=() r
  rm -rf "$work"/d* "$work"/log*
  if [ "$1" = standalone ]; then
    taskset -c 0 $RECD --snapshot "$SNAPSHOT" --data-dir "$work/d0" --port ${ports[0]} --threads 1 --similarity cosine --als-factors 0 --loglevel warn ${EXTRA_ARGS:-} 2> /dev/null > "$work/log0" & pids+=($!)
    wait_up ${ports[0]}
    r=$(taskset -c 1 redis-benchmark -p ${ports[0]} -c 50 -n "$N" -r 100000 -q EVENT u__rand_int__ 85123A view 2>&1 | tr '\r' '\n' | rate)
  else
    for p in "${ports[@]}"; do
      taskset -c 0 $RECD --snapshot "$SNAPSHOT" --data-dir "$work/d$p" --port "$p" --threads 1 --similarity cosine --als-factors 0 --loglevel warn ${EXTRA_ARGS:-} \
        --cluster-config "$work/$1.json" --cluster-announce "127.0.0.1:$p" > "$work/log$p" 2>&1 & pids+=($!)
    done
    for p in "${ports[@]}"; do wait_up "$p"; done
    r=$(taskset -c 1 redis-benchmark --cluster -p ${ports[0]} -c 50 -n "$N" -r 100000 -q EVENT "{tag}u__rand_int__" 85123A view 2>&1 | tr '\r' '\n' | rate)
  fi
  # A replica that left the set missed writes for a while: that part of
  # the run went unreplicated (the log says when; INFO what is still out).
  local left=""
  if [ "$1" = ring ]; then
    for p in "${ports[@]}"; do left+=$(redis-cli -p "$p" INFO cluster | tr -d '\r' | sed -n 's/^cluster_replicas_left://p')" "; done
  fi
  kill "${pids[@]}"; wait "${pids[@]}" 2> /dev/null
  local leaves; leaves=$(cat "$work"/log* 2> /dev/null | grep -c replica_left)
  left=$(echo $left)
  echo "$r${leaves:+ (replica_left events: $leaves${left:+; still out: $left})}"
}
for i in $(seq 1 "$RUNS"); do
  for RECD in $RECDS; do
    for mode in $MODES; do echo "run $i $RECD $mode: $(run $mode) EVENT/s"; done
  done
done
