#!/bin/bash
# Replays one of HAProxy's golden scenarios with strata standing in for
# haproxy, and compares the output with the scenario's observed.txt.
#
# Usage: tests/golden/replay.sh SCENARIO_DIR [STRATA_BIN]
#   SCENARIO_DIR  e.g. ../shared/reference/haproxy-golden/S1
#   STRATA_BIN    default: target/release/strata (built if missing)
#
# A wrapper named `haproxy` that execs strata goes first on PATH, so the
# scenario's commands.sh runs unchanged. Both outputs are normalised before
# the diff: entry addresses, `exp=` countdowns, pids, dates, uptime, byte
# counters (strata counts wire bytes by design) and reply sizes (they follow
# from the rest). Needs python3 and socat, like the scenarios themselves.
# Exit status: 0 when the outputs match, 1 otherwise (the diff is printed).
set -u
SCEN="$(cd "${1:?usage: replay.sh SCENARIO_DIR [STRATA_BIN]}" && pwd)"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BIN="${2:-$ROOT/target/release/strata}"
if [ ! -x "$BIN" ]; then
  (cd "$ROOT" && cargo build --release --quiet) || exit 2
fi
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
WORK="$(mktemp -d /tmp/strata-replay.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
printf '#!/bin/sh\nexec "%s" "$@"\n' "$BIN" > "$WORK/haproxy"
chmod +x "$WORK/haproxy"

normalise() {
  sed -E \
    -e 's/^0x[0-9a-f]+:/ADDR:/' \
    -e 's/exp=[0-9]+/exp=N/g' \
    -e 's/(bytes_(in|out)_(cnt|rate\([0-9]+\)))=[0-9]+/\1=N/g' \
    -e 's/end of reply: [0-9]+ bytes/end of reply: N bytes/' \
    -e 's/pid=[0-9]+/pid=N/g' \
    -e '/^# backend pid=/d' \
    -e '/^# --- haproxy -db/,$d' \
    -e 's/^(Pid|Uptime|Uptime_sec|Start_time_sec|Version|Release_date|Memmax_MB|PoolAlloc_MB|PoolUsed_MB|Memmax_bytes|PoolAlloc_bytes|PoolUsed_bytes|node|Ulimit-n|Maxsock|Hard_maxconn|Maxconn|Build info): .*/\1: X/' \
    -e 's/ (age|exp)=[0-9]+[smhd]?/ \1=N/g' \
    -e 's/\[[0-9]{2}\/[A-Z][a-z]{2}\/[0-9]{4}:[0-9:.]+\]/[DATE]/g'
}

PATH="$WORK:$PATH" bash "$SCEN/commands.sh" > "$WORK/strata.txt" 2>&1
normalise < "$SCEN/observed.txt" > "$WORK/expected.norm"
normalise < "$WORK/strata.txt" > "$WORK/strata.norm"
if diff -u "$WORK/expected.norm" "$WORK/strata.norm" > "$WORK/diff"; then
  echo "replay $(basename "$SCEN"): match"
  exit 0
fi
echo "replay $(basename "$SCEN"): DIFFERS ($(grep -c '^[-+][^-+]' "$WORK/diff") lines)"
cat "$WORK/diff"
exit 1
