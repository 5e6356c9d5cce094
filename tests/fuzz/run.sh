#!/bin/bash
# Runs fuzz targets for a given time each, two at a time, at low priority,
# and prints each target's last libFuzzer status line.
# Usage: tests/fuzz/run.sh [SECONDS] [TARGET...]   (default 1800 s, all targets)
set -u
cd "$(dirname "$0")/../.."
SECS="${1:-1800}"; shift || true
TARGETS=("$@"); [ ${#TARGETS[@]} -eq 0 ] && TARGETS=(config http_request http_response cli_command hpack_decode peers_messages)
mkdir -p tests/fuzz/logs
run() {
  mkdir -p "tests/fuzz/corpus/$1"
  nice -n 19 cargo +nightly fuzz run --fuzz-dir tests/fuzz "$1" -- \
    -max_total_time="$SECS" -max_len=65536 -rss_limit_mb=2048 > "tests/fuzz/logs/$1.log" 2>&1
  echo "$1: exit $? -- $(grep -E '^(#[0-9]+|Done|==[0-9]+==)' "tests/fuzz/logs/$1.log" | tail -1)"
}
for ((i = 0; i < ${#TARGETS[@]}; i += 2)); do
  run "${TARGETS[$i]}" &
  [ $((i + 1)) -lt ${#TARGETS[@]} ] && run "${TARGETS[$((i + 1))]}" &
  wait
done
