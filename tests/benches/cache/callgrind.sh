#!/bin/bash
# Instructions per cache hit (user space only, not moved by the machine's
# load): the proxy under `valgrind --tool=callgrind` with the cache
# configuration of tests/benches/http_features.rs (one thread,
# `cache-use`/`cache-store`, a 1 KiB answer the backend marks
# `max-age=600`), one warming request (the miss that stores it), the
# counters zeroed (`callgrind_control -z`), `h2load --h1 -n N -c 2` hits
# of the same URL, the counters dumped (`callgrind_control -d`): that
# part's total divided by N, so start-up (heavier in HAProxy) counts for
# neither proxy.
# Usage: tests/benches/cache/callgrind.sh [REQUESTS] [OUT] [PROXY]
#   REQUESTS default 20000; OUT (default $WORK/cg.out) is kept when given:
#   `callgrind_annotate --inclusive=yes OUT` shows where they go; PROXY
#   `strata` (default) or `haproxy` (the same load on HAProxy 2.6, to
#   compare user-space instructions).
set -u
N="${1:-20000}"; OUT="${2:-}"; WHO="${3:-strata}"
source "$(dirname "$0")/../lib.sh"
bench_tools haproxy=haproxy h2load=nghttp2-client valgrind=valgrind
HAPROXY="$(command -v haproxy)"
if [ "$WHO" = haproxy ]; then
  BIN="$HAPROXY"
else
  [ -n "${STRATA:-}" ] || cargo build --release --quiet --bin strata || exit 1
  BIN="${STRATA:-$ROOT/target/release/strata}"
fi
bench_workdir cache-callgrind
OUT="${OUT:-$WORK/cg.out}"
# The backend: 1 KiB of text, cacheable for 10 minutes.
head -c 1024 /dev/zero | tr '\0' 'a' > "$WORK/body.txt"
start_return_backend "content-type text/plain file $WORK/body.txt hdr cache-control max-age=600"
P=$(port)
cat > "$WORK/proxy.cfg" <<CFG
global
    nbthread 1
    maxconn 1000
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fcache
    bind 127.0.0.1:$P
    default_backend b_cache
backend b_cache
    http-request cache-use c
    http-response cache-store c
    server s1 127.0.0.1:$BE
cache c
    total-max-size 16
    max-age 600
CFG
valgrind --tool=callgrind --callgrind-out-file="$OUT" "$BIN" -db -f "$WORK/proxy.cfg" >/dev/null 2>"$WORK/valgrind.err" &
VG=$!; PIDS+=($VG)
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$P/small" >/dev/null && break
  sleep 0.2
done
callgrind_control -z "$VG" >/dev/null 2>&1
h2load --h1 -n "$N" -c 2 "http://127.0.0.1:$P/small" | grep -q "$N succeeded" || echo "h2load: not every request succeeded" >&2
callgrind_control -d "$VG" >/dev/null 2>&1
kill -TERM "$VG"; wait "$VG"
# The dump made by -d is OUT.1 (OUT itself holds what came after it).
mv "$OUT.1" "$OUT" 2>/dev/null
callgrind_annotate "$OUT" 2>/dev/null | awk -v n="$N" -v who="$WHO" '/PROGRAM TOTALS/ {gsub(",", "", $1); printf "%s: %s instructions, %.0f per hit\n", who, $1, $1 / n}'
