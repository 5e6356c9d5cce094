#!/bin/bash
# HTTP/2 from clients, strata versus HAProxy 2.6, in interleaved rounds
# (strata, HAProxy, strata...): `h2load -n N -c 10 -m 10` (10 sessions x
# 10 concurrent streams, prior knowledge) against `bind ... proto h2`,
# both proxies forwarding HTTP/1.1 to the same backend (an HAProxy
# frontend answering `http-request return`, on CPU 0 with h2load; the
# proxies on CPU 1). Reported per round: requests/s and the proxy's CPU µs
# per request (utime + stime from /proc/PID/stat), and the ratios.
# Usage: tests/benches/h2/run.sh [ROUNDS] [REQUESTS]  (default 3 200000)
# Loopback only; every process it starts is stopped by PID. See
# docs/performance.md for what it measured.
set -u
ROUNDS="${1:-3}"; N="${2:-200000}"
source "$(dirname "$0")/../lib.sh"
bench_tools haproxy=haproxy h2load=nghttp2-client
[ -n "${STRATA:-}" ] || cargo build --release --quiet --bin strata || exit 1
STRATA="${STRATA:-$ROOT/target/release/strata}"
HAPROXY="$(command -v haproxy)"
bench_workdir h2-bench
start_return_backend

start() { # name binary -> sets PORT_<name> and PID_<name>
  local name="$1" bin="$2" p
  p=$(port)
  h2_bench_cfg "$p" "$WORK/$name.cfg"
  taskset -c 1 "$bin" -db -f "$WORK/$name.cfg" >/dev/null 2>&1 &
  local pid=$!; PIDS+=($pid)
  eval "PID_$name=$pid PORT_$name=$p"
}
start strata "$STRATA"
start haproxy "$HAPROXY"
sleep 1

load() { # name -> "rps us_per_req"
  local pidv="PID_$1" portv="PORT_$1"
  local pid="${!pidv}" p="${!portv}" before after out rps
  before=$(cpu_ticks "$pid")
  out=$(taskset -c 0 h2load -n "$N" -c 10 -m 10 "http://127.0.0.1:$p/" 2>&1)
  after=$(cpu_ticks "$pid")
  echo "$out" | grep -q "$N succeeded" || echo "FAILED $1: $(echo "$out" | grep requests:)" >&2
  rps=$(echo "$out" | awk '/^finished in/ {print $4}')
  python3 -c "print('%.0f %.2f' % ($rps, ($after-$before)*1e6/$TCK/$N))"
}

echo "round  strata req/s  us/req | haproxy req/s  us/req | CPU ratio  req/s ratio"
for r in $(seq 1 "$ROUNDS"); do
  read -r s_rps s_us < <(load strata)
  read -r h_rps h_us < <(load haproxy)
  python3 -c "print('%-6s %12s %7s | %13s %7s | %9.2f %11.2f' % ('$r', '$s_rps', '$s_us', '$h_rps', '$h_us', $s_us/$h_us, $s_rps/$h_rps))"
done
