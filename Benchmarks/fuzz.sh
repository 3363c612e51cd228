#!/usr/bin/env bash
# The long fuzz run: every command in both dialects with extreme arguments,
# raw mutated frames, live state and a restart at the end (FuzzTests), for
# SECONDS seconds (default 600). Prints frames sent, replies checked,
# commands covered, RSS before and after, and the restart's answer; a crash
# of the server ends the test process and the run fails.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
swift build --build-tests >/dev/null
RECD_FUZZ_SECONDS="$seconds" swift test --skip-build --filter FuzzTests 2>&1 \
    | grep -vE 'level=(info|warn)' | grep -E 'fuzz:|✔|✘|error|Fatal|signal'
