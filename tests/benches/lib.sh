#!/bin/bash
# Shared by the benchmark scripts (tests/benches/h2/run.sh,
# tests/benches/tls/run.sh): tools, a scratch directory and the processes
# to stop on exit, free ports, the common backend, CPU accounting.
# Source it after `set -u`; it changes to the repository root.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT" || exit 1

# bench_tools TOOL=PACKAGE...: installs from Debian's packages what is absent.
bench_tools() {
  local pair
  for pair in "$@"; do
    command -v "${pair%%=*}" >/dev/null || apt-get install -y "${pair#*=}" >/dev/null
  done
}

# bench_workdir NAME: sets WORK (removed on exit) and PIDS (stopped on exit, by PID).
bench_workdir() {
  WORK="$(mktemp -d "/tmp/strata-$1.XXXXXX")"
  PIDS=()
  trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$WORK"' EXIT
}

# port: a free loopback port.
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_return_backend [ANSWER]: an HAProxy frontend answering
# `http-request return status 200 ANSWER` (default: a text "ok") on CPU 0
# (beside the load generator), the backend both proxies forward to; sets
# BE to its port.
start_return_backend() {
  BE=$(port)
  cat > "$WORK/backend.cfg" <<CFG
global
    nbthread 1
defaults
    mode http
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 30s
frontend backend
    bind 127.0.0.1:$BE
    http-request return status 200 ${1:-content-type text/plain string ok}
CFG
  taskset -c 0 "$HAPROXY" -db -f "$WORK/backend.cfg" >/dev/null 2>&1 &
  PIDS+=($!)
}

# cpu_ticks PID: user + system clock ticks of PID so far (TCK per second).
TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# h2_bench_cfg PORT FILE: the HTTP/2 benchmarks' configuration (h2/run.sh,
# h2/callgrind.sh) in FILE: `bind 127.0.0.1:PORT proto h2` forwarding to the
# backend on $BE (start_return_backend), one thread, server connections reused.
h2_bench_cfg() {
  local p="$1"
  cat > "$2" <<CFG
global
    nbthread 1
    maxconn 5000
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 30s
    http-reuse always
frontend fe
    bind 127.0.0.1:$p proto h2
    default_backend be
backend be
    server s1 127.0.0.1:$BE
CFG
}
