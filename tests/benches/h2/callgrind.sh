#!/bin/bash
# Instructions per HTTP/2 request (user space only, not moved by the
# machine's load): strata under `valgrind --tool=callgrind` with the
# configuration of run.sh (`bind ... proto h2`, one HTTP/1.1 server, the
# `http-request return` backend), `h2load -n N -c 10 -m M` (M=10 unless set), then the
# program's total divided by N (startup included, under 0.2% of it).
# Usage: [M=STREAMS] tests/benches/h2/callgrind.sh [REQUESTS] [OUT]  (default 20000, $WORK/cg.out,
# kept when OUT is given: `callgrind_annotate --inclusive=yes OUT` shows where they go).
set -u
N="${1:-20000}"; OUT="${2:-}"; M="${M:-10}"
source "$(dirname "$0")/../lib.sh"
bench_tools haproxy=haproxy h2load=nghttp2-client valgrind=valgrind
[ -n "${STRATA:-}" ] || cargo build --release --quiet --bin strata || exit 1
STRATA="${STRATA:-$ROOT/target/release/strata}"
HAPROXY="$(command -v haproxy)"
bench_workdir h2-callgrind
OUT="${OUT:-$WORK/cg.out}"
start_return_backend
P=$(port)
h2_bench_cfg "$P" "$WORK/strata.cfg"
valgrind --tool=callgrind --callgrind-out-file="$OUT" "$STRATA" -db -f "$WORK/strata.cfg" >/dev/null 2>"$WORK/valgrind.err" &
VG=$!; PIDS+=($VG)
for _ in $(seq 100); do
  curl -s --http2-prior-knowledge "http://127.0.0.1:$P/" >/dev/null && break
  sleep 0.2
done
h2load -n "$N" -c 10 -m "$M" "http://127.0.0.1:$P/" | grep -q "$N succeeded" || echo "h2load: not every request succeeded" >&2
kill -INT "$VG"; wait "$VG"
callgrind_annotate "$OUT" 2>/dev/null | awk -v n="$N" '/PROGRAM TOTALS/ {gsub(",", "", $1); printf "%s instructions, %.0f per request\n", $1, $1 / n}'
