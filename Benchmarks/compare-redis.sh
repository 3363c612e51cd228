#!/usr/bin/env bash
# recd against the usual alternative: precomputed "similar items" lists in
# Redis sorted sets. Same data (recd's own neighbour lists are loaded into
# Redis), same client (redis-benchmark), same settings, one run, ratios printed.
#
#   Benchmarks/compare-redis.sh [requests]     (needs redis-server, redis-tools)
#
# With OPEN_LOOP=1 it also runs recbench load against both servers (one
# epoll client thread, 50 connections): each one's closed-loop maximum, then
# Redis ZREVRANGE and recd REC open loop at half of Redis's maximum, latency
# measured from each request's scheduled send.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}
ITEMS=100000 USERS=100000 EVENTS=2000000
WORK=${WORK:-/tmp/recd-compare}
REDIS_PORT=7380 RECD_PORT=7381

for tool in redis-server redis-cli redis-benchmark; do
  command -v $tool > /dev/null || { echo "needs $tool: apt-get install redis-server redis-tools" >&2; exit 2; }
done
swift build -c release > /dev/null
BIN=.build/release
mkdir -p "$WORK"
if [ ! -f "$WORK/snapshot/events.tsv" ]; then
  # Uniform user activity: every user has about 20 events (the REC target's history of 20).
  $BIN/recbench gen --users $USERS --items $ITEMS --events $EVENTS --user-zipf 0 --out "$WORK/snapshot"
fi

cleanup() { kill $REDIS_PID $RECD_PID 2> /dev/null || true; }
trap cleanup EXIT
redis-server --port $REDIS_PORT --save "" --appendonly no --daemonize no > "$WORK/redis.log" 2>&1 &
REDIS_PID=$!
rm -rf "$WORK/data"
$BIN/recd --snapshot "$WORK/snapshot" --port $RECD_PORT ${RECD_THREADS:+--threads $RECD_THREADS} --data-dir "$WORK/data" --loglevel warn > "$WORK/recd.log" 2>&1 &
RECD_PID=$!
for port in $REDIS_PORT $RECD_PORT; do
  for _ in $(seq 1 100); do redis-cli -p $port PING > /dev/null 2>&1 && break; sleep 0.2; done
done
$BIN/recbench redis-zsets --snapshot "$WORK/snapshot" | redis-cli -p $REDIS_PORT --pipe > /dev/null
echo "redis: $(redis-cli -p $REDIS_PORT DBSIZE) sorted sets; recd: $(redis-cli -p $RECD_PORT INFO | grep -E '^items:' | tr -d '\r')"

# One redis-benchmark run; prints "rps p99_ms".
bench() {
  local port=$1; shift
  redis-benchmark -p $port -n $N -r $ITEMS --csv "$@" 2> /dev/null | tail -1 \
    | awk -F'","' '{gsub(/"/, "", $2); gsub(/"/, "", $7); print $2, $7}'
}

printf "%-10s %-48s %12s %9s\n" server command requests/s p99_ms
for opts in "-c 50" "-c 50 -P 16"; do
  read -r zr zp < <(bench $REDIS_PORT $opts ZREVRANGE sim:__rand_int__ 0 9 WITHSCORES)
  read -r sr sp < <(bench $RECD_PORT $opts SIM __rand_int__ k=10)
  read -r rr rp < <(bench $RECD_PORT $opts REC __rand_int__ k=10)
  printf "%-10s %-48s %12s %9s\n" redis "ZREVRANGE sim:<id> 0 9 WITHSCORES ($opts)" "$zr" "$zp"
  printf "%-10s %-48s %12s %9s\n" recd "SIM <id> k=10 ($opts)" "$sr" "$sp"
  printf "%-10s %-48s %12s %9s\n" recd "REC <user> k=10 ($opts)" "$rr" "$rp"
  awk -v s="$sr" -v r="$rr" -v z="$zr" -v o="$opts" \
    'BEGIN { printf "ratio (%s): SIM/ZREVRANGE %.2f, REC/ZREVRANGE %.2f\n", o, s / z, r / z }'
done

if [ "${OPEN_LOOP:-0}" = 1 ]; then
  # One recbench load run; prints "rps p99_ms p99.9_ms" of its only command.
  load() {
    local port=$1 mix=$2; shift 2
    $BIN/recbench load --snapshot "$WORK/snapshot" --port $port --mix $mix --json "$@" \
      | python3 -c 'import json,sys; r=json.load(sys.stdin); a=r["commands"]["ALL"]; print(round(r["throughput"]), round(a["p99_ms"], 2), round(a["p99.9_ms"], 2))'
  }
  printf "\n%-10s %-48s %12s %9s %9s\n" server "recbench load" requests/s p99_ms p99.9_ms
  read -r zmax zp zpp < <(load $REDIS_PORT zrevrange:1 --duration 5)
  read -r smax sp spp < <(load $RECD_PORT sim:1 --duration 5)
  read -r rmax rp rpp < <(load $RECD_PORT rec:1 --duration 5)
  printf "%-10s %-48s %12s %9s %9s\n" redis "ZREVRANGE closed loop" "$zmax" "$zp" "$zpp"
  printf "%-10s %-48s %12s %9s %9s\n" recd "SIM closed loop" "$smax" "$sp" "$spp"
  printf "%-10s %-48s %12s %9s %9s\n" recd "REC closed loop" "$rmax" "$rp" "$rpp"
  rate=$((zmax / 2))
  read -r zr zp zpp < <(load $REDIS_PORT zrevrange:1 --duration 10 --rate $rate)
  read -r rr rp rpp < <(load $RECD_PORT rec:1 --duration 10 --rate $rate)
  printf "%-10s %-48s %12s %9s %9s\n" redis "ZREVRANGE open loop --rate $rate" "$zr" "$zp" "$zpp"
  printf "%-10s %-48s %12s %9s %9s\n" recd "REC open loop --rate $rate" "$rr" "$rp" "$rpp"
fi
