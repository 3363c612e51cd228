#!/usr/bin/env bash
# The crash-point harness at length: recd under EVENT load with SAVE, RELOAD
# and FORGET mixed in, SIGKILLed at random moments ITERATIONS times (default
# 200) on one data-dir; after each kill every acknowledged event must be
# served exactly once and every forgotten user be gone (DurabilityTests).
set -euo pipefail
cd "$(dirname "$0")/.."
iterations="${1:-200}"
swift build --build-tests >/dev/null
RECD_KILL_ITERATIONS="$iterations" swift test --skip-build --filter sigkillAtRandomMoments 2>&1 \
    | grep -vE 'level=(info|warn)' | grep -E 'kill loop:|✔|✘|error|Fatal|iteration'
