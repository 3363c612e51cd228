#!/usr/bin/env bash
# The staged build of `similarity auto`, timed from the outside: seconds
# from starting recd to its first answer (first stage, cosine) and to the
# tuned model in place (INFO build_stage:tuned), the chosen model, and the
# peak resident memory (VmHWM).
#
#   Benchmarks/time-to-tuned.sh SNAPSHOT [RECD]
set -uo pipefail
cd "$(dirname "$0")/.."
SNAPSHOT=$1 RECD=${2:-.build/release/recd} PORT=${PORT:-7391}
command -v redis-cli > /dev/null || { echo "needs redis-cli: apt-get install redis-tools" >&2; exit 2; }
data=$(mktemp -d)
start=$(date +%s.%N)
"$RECD" --snapshot "$SNAPSHOT" --port "$PORT" --data-dir "$data" --loglevel warn > "$data.log" 2>&1 &
pid=$!
trap 'kill $pid 2> /dev/null; wait $pid 2> /dev/null; rm -rf "$data" "$data.log"' EXIT
until redis-cli -p "$PORT" PING > /dev/null 2>&1; do
  kill -0 $pid 2> /dev/null || { echo "recd exited: $(tail -c 300 "$data.log")" >&2; exit 1; }
  sleep 0.05
done
first=$(date +%s.%N)
# A build without stages (pinned model, or a recd from before them) is done at once.
until redis-cli -p "$PORT" INFO index | grep -q "build_stage:tuned\|build_stage:single" || ! redis-cli -p "$PORT" INFO index | grep -q "build_stage:"; do
  kill -0 $pid 2> /dev/null || { echo "recd exited: $(tail -c 300 "$data.log")" >&2; exit 1; }
  sleep 0.1
done
tuned=$(date +%s.%N)
info=$(redis-cli -p "$PORT" INFO index | tr -d '\r')
printf "first answer %.2f s, tuned %.2f s, model %s, selection %s s, index %s bytes, peak RSS %s\n" \
  "$(echo "$first - $start" | bc)" "$(echo "$tuned - $start" | bc)" \
  "$(echo "$info" | sed -n 's/^model_chosen://p')" "$(echo "$info" | sed -n 's/^model_selection_seconds://p')" \
  "$(echo "$info" | sed -n 's/^index_memory_bytes://p')" "$(grep VmHWM /proc/$pid/status | awk '{print $2, $3}')"
