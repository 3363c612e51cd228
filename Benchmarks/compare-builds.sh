#!/usr/bin/env bash
# Two recd binaries on the plain RESP2 path, alternated in one run: SIM and
# REC throughput from redis-benchmark, server pinned to CPU 0 and the client
# to CPU 1, ROUNDS rounds; prints each run, the medians and new/old ratios.
#
#   Benchmarks/compare-builds.sh OLD_RECD NEW_RECD [requests] [rounds]
#
# EXTRA_ARGS go to both servers (e.g. "--similarity cosine" to compare the
# request path on the same model); a server still tuning its model
# (similarity auto) is measured once the tuned model is in place.
#
# OLD_RECD: e.g. a release build of the last landed commit in a worktree
# (git worktree add /tmp/recd-old HEAD~1 && (cd /tmp/recd-old && swift build -c release)).
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=$1 NEW=$2 N=${3:-200000} ROUNDS=${4:-5}
WORK=${WORK:-/tmp/recd-compare}
PORT=7382 ITEMS=100000
command -v redis-benchmark > /dev/null || { echo "needs redis-benchmark: apt-get install redis-tools" >&2; exit 2; }
swift build -c release > /dev/null
mkdir -p "$WORK"
if [ ! -f "$WORK/snapshot/events.tsv" ]; then
  .build/release/recbench gen --users 100000 --items $ITEMS --events 2000000 --user-zipf 0 --out "$WORK/snapshot"
fi

# One server start, SIM then REC; prints "sim_rps rec_rps".
run() {
  local bin=$1 data; data=$(mktemp -d)
  # shellcheck disable=SC2086
  taskset -c 0 "$bin" --snapshot "$WORK/snapshot" --port $PORT --threads 1 --data-dir "$data" --loglevel warn ${EXTRA_ARGS:-} > /dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 1 150); do redis-cli -p $PORT PING > /dev/null 2>&1 && break; sleep 0.2; done
  for _ in $(seq 1 3000); do redis-cli -p $PORT INFO index | grep -q "build_stage:tuning" || break; sleep 0.2; done
  local sim rec
  sim=$(taskset -c 1 redis-benchmark -p $PORT -n "$N" -r $ITEMS -c 50 --csv SIM __rand_int__ k=10 2> /dev/null | tail -1 | awk -F'","' '{gsub(/"/, "", $2); print $2}')
  rec=$(taskset -c 1 redis-benchmark -p $PORT -n "$N" -r $ITEMS -c 50 --csv REC __rand_int__ k=10 2> /dev/null | tail -1 | awk -F'","' '{gsub(/"/, "", $2); print $2}')
  kill $pid; wait $pid 2> /dev/null || true
  rm -rf "$data"
  echo "$sim $rec"
}

old_sim=() old_rec=() new_sim=() new_rec=()
for r in $(seq 1 "$ROUNDS"); do
  read -r s c < <(run "$OLD"); old_sim+=("$s"); old_rec+=("$c"); echo "round $r old: SIM $s REC $c"
  read -r s c < <(run "$NEW"); new_sim+=("$s"); new_rec+=("$c"); echo "round $r new: SIM $s REC $c"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
os=$(median "${old_sim[@]}") ns=$(median "${new_sim[@]}") orc=$(median "${old_rec[@]}") nrc=$(median "${new_rec[@]}")
awk -v os="$os" -v ns="$ns" -v orc="$orc" -v nrc="$nrc" 'BEGIN {
  printf "medians: SIM old %.0f new %.0f (new/old %.3f); REC old %.0f new %.0f (new/old %.3f)\n", os, ns, ns / os, orc, nrc, nrc / orc }'
