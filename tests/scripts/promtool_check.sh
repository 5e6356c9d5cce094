#!/usr/bin/env bash
# Validates strata's /metrics with Prometheus's own checker (`promtool check
# metrics`, Debian package `prometheus`), outside `cargo test` because it
# needs that package.  HAProxy 2.6.12's own output draws one lint warning
# (a counter without `_total`: haproxy_process_failed_resolutions); strata
# keeps HAProxy's names, so that one is expected and nothing else is allowed.
# usage: tests/scripts/promtool_check.sh [STRATA_BINARY]   (from the project root)
# Installs promtool with apt when missing and the user is root.
set -u
BIN="${1:-target/release/strata}"
command -v promtool >/dev/null || { [ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null; }
command -v promtool >/dev/null || { echo "promtool not installed (apt-get install prometheus)"; exit 77; }
DIR="$(mktemp -d "${TMPDIR:-/tmp}/promtool.XXXXXX")"
PORT="${PROMTOOL_PORT:-18380}"
cat >"$DIR/cfg" <<CFG
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe_main
    bind 127.0.0.1:$PORT
    stick-table type ip size 1k expire 10m store conn_cur,conn_cnt,conn_rate(10s),http_req_rate(10s)
    tcp-request connection track-sc0 src
    http-request use-service prometheus-exporter if { path /metrics }
    default_backend be_app
backend be_app
    server app1 127.0.0.1:9 check inter 1s
    server app2 127.0.0.1:9 disabled
frontend fe_tcp
    mode tcp
    bind 127.0.0.1:$((PORT + 1))
    default_backend be_tcp
backend be_tcp
    mode tcp
    server t1 127.0.0.1:9
CFG
"$BIN" -f "$DIR/cfg" >"$DIR/log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 1 50); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/metrics" && break; sleep 0.1; done
sleep 1.2 # one counters audit
curl -sf "http://127.0.0.1:$PORT/metrics" >"$DIR/metrics" || { echo "scrape failed"; cat "$DIR/log"; exit 1; }
promtool check metrics <"$DIR/metrics" >"$DIR/lint" 2>&1
grep -v '^haproxy_process_failed_resolutions counter metrics should have "_total" suffix$' "$DIR/lint" >"$DIR/unexpected"
families=$(grep -c '^# TYPE ' "$DIR/metrics")
grep -q '^strata_counters_consistent 1$' "$DIR/metrics" || { echo "strata_counters_consistent is not 1"; exit 1; }
if [ -s "$DIR/unexpected" ]; then
  echo "promtool found problems:"; cat "$DIR/unexpected"
  echo "promtool_check: FAILED"; exit 1
fi
echo "promtool: $families metric families, no problem beyond HAProxy's own naming"
echo "promtool_check: passed"
