#!/usr/bin/env bash
# redis-cli's help and COMMAND probes against a running recd: redis_cli_help.sh PORT
# `redis-cli help SIM` builds its help table from COMMAND DOCS (an error reply
# there would give the built-in table and "Help not available").
set -uo pipefail
port="${1:?usage: redis_cli_help.sh PORT}"
cli=(redis-cli -h 127.0.0.1 -p "$port")

fail() { echo "FAIL $*" >&2; exit 1; }

# Colours off: redis-cli writes ANSI escapes around the help fields.
help="$(timeout 20 "${cli[@]}" help SIM 2>&1 | sed $'s/\x1b\\[[0-9;]*m//g' | tr -d '\r')" \
    || fail "redis-cli help SIM exited non-zero: $help"
grep -Eq '^ *SIM( |$)' <<<"$help" || fail "redis-cli help SIM: no 'SIM ...' line in: $help"
summary="$(grep -E '^ *summary: ' <<<"$help" | sed -E 's/^ *summary: *//')"
[ -n "$summary" ] || fail "redis-cli help SIM: no summary line in: $help"
[ "$summary" != "Help not available" ] || fail "redis-cli help SIM: 'Help not available' (COMMAND DOCS was not used): $help"
grep -Eq '^ *group: *[^ ]' <<<"$help" || fail "redis-cli help SIM: no 'group:' line in: $help"
echo "ok help SIM: $(grep -E '^ *SIM' <<<"$help" | head -1 | sed -E 's/^ +//') -- $summary"

count="$(timeout 20 "${cli[@]}" COMMAND COUNT 2>&1 | tr -d '\r')" || fail "redis-cli COMMAND COUNT exited non-zero: $count"
count="${count#(integer) }"
[[ "$count" =~ ^[0-9]+$ ]] && [ "$count" -gt 0 ] || fail "redis-cli COMMAND COUNT: expected a positive integer, got '$count'"
echo "ok COMMAND COUNT: $count"

echo "redis-cli: all checks passed"
