#!/bin/bash
# TLS termination, strata (rustls) versus HAProxy 2.6 (OpenSSL), in
# interleaved rounds (strata, HAProxy, strata, HAProxy...), one load at a
# time. Both proxies forward plain HTTP/1.1 to the same backend (an
# HAProxy frontend answering `http-request return`, on CPU 0 with the load
# generator), so what differs is TLS termination and the proxying itself.
# (The backend is used because strata does not apply `option httpclose`
# to its own `http-request return` answers yet.)
# Usage: tests/benches/tls/run.sh [ROUNDS] [HANDSHAKES] [KEEPALIVE_REQUESTS]  (default 3 20000 100000)
# Loads (h2load from Debian's nghttp2-client, pinned to CPU 0; the proxies
# to CPU 1):
#   - full handshakes: `h2load --h1 -c 50 -n N` against a frontend with
#     `option httpclose` (one TLS connection per request), with an ECDSA
#     P-256 certificate and with an RSA 2048 one;
#   - keep-alive HTTPS: `h2load --h1 -c 50 -n M` over 50 connections.
# Reported per load: requests/s and the proxy's CPU µs per request (utime
# + stime from /proc/PID/stat); per round the strata/HAProxy ratios; and
# the RSS each proxy holds per idle TLS connection (500 connections held
# open by a Python ssl client). Loopback only; every process it starts is
# stopped by PID. See docs/performance.md for what it measured.
set -u
ROUNDS="${1:-3}"; N="${2:-20000}"; KA="${3:-100000}"
source "$(dirname "$0")/../lib.sh"
bench_tools haproxy=haproxy h2load=nghttp2-client openssl=openssl
cargo build --release --quiet --bin strata || exit 1
STRATA="$ROOT/target/release/strata"
HAPROXY="$(command -v haproxy)"
bench_workdir tls-bench

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=localhost \
  -keyout "$WORK/ec.key" -out "$WORK/ec.crt" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=localhost \
  -keyout "$WORK/rsa.key" -out "$WORK/rsa.crt" 2>/dev/null
cat "$WORK/ec.crt" "$WORK/ec.key" > "$WORK/ec.pem"
cat "$WORK/rsa.crt" "$WORK/rsa.key" > "$WORK/rsa.pem"

start_return_backend

# One config per proxy: three frontends (EC close, RSA close, EC keep-alive).
start() { # name binary -> sets PORT_<name>_{ec,rsa,ka} and PID_<name>
  local name="$1" bin="$2" ec rsa ka
  ec=$(port); rsa=$(port); ka=$(port)
  cat > "$WORK/$name.cfg" <<CFG
global
    nbthread 1
    maxconn 5000
    # Full handshakes only: no session cache, no tickets (h2load would resume).
    tune.ssl.cachesize 0
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 30s
frontend close_ec
    bind 127.0.0.1:$ec ssl crt $WORK/ec.pem alpn http/1.1 no-tls-tickets
    option httpclose
    default_backend be
frontend close_rsa
    bind 127.0.0.1:$rsa ssl crt $WORK/rsa.pem alpn http/1.1 no-tls-tickets
    option httpclose
    default_backend be
frontend keepalive
    bind 127.0.0.1:$ka ssl crt $WORK/ec.pem alpn http/1.1
    default_backend be
backend be
    server s1 127.0.0.1:$BE
CFG
  taskset -c 1 "$bin" -db -f "$WORK/$name.cfg" >/dev/null 2>&1 &
  local pid=$!; PIDS+=($pid)
  eval "PID_$name=$pid PORT_${name}_ec=$ec PORT_${name}_rsa=$rsa PORT_${name}_ka=$ka"
}
start strata "$STRATA"
start haproxy "$HAPROXY"
sleep 1

# load NAME KIND COUNT -> prints "rps cpu_us_per_req"
load() {
  local name="$1" kind="$2" n="$3" pidv="PID_$1" portv="PORT_$1_$2"
  local pid="${!pidv}" p="${!portv}" before after out rps
  before=$(cpu_ticks "$pid")
  out=$(taskset -c 0 h2load --h1 -c 50 -n "$n" "https://127.0.0.1:$p/" 2>&1)
  after=$(cpu_ticks "$pid")
  echo "$out" | grep -q "$n succeeded" || { echo "FAILED $name $kind: $(echo "$out" | grep requests:)" >&2; }
  rps=$(echo "$out" | awk '/^finished in/ {print $4}')
  python3 -c "print('%.0f %.1f' % ($rps, ($after-$before)*1e6/$TCK/$n))"
}

echo "round load           strata req/s  us/req | haproxy req/s  us/req | CPU ratio (strata/haproxy)"
declare -A SUM
for r in $(seq 1 "$ROUNDS"); do
  for kind in ec rsa ka; do
    n=$N; [ "$kind" = ka ] && n=$KA
    read -r s_rps s_us < <(load strata "$kind" "$n")
    read -r h_rps h_us < <(load haproxy "$kind" "$n")
    ratio=$(python3 -c "print('%.2f' % ($s_us/$h_us))")
    label="handshake-$kind"; [ "$kind" = ka ] && label="keep-alive"
    printf "%5d %-14s %12s %7s | %13s %7s | %s\n" "$r" "$label" "$s_rps" "$s_us" "$h_rps" "$h_us" "$ratio"
    SUM[$kind]="${SUM[$kind]:-} $ratio"
  done
done
for kind in ec rsa ka; do
  python3 -c "
import statistics,sys
v=[float(x) for x in '${SUM[$kind]}'.split()]
what = 'requests' if '$kind' == 'ka' else 'handshakes'
print('median CPU ratio %-12s %.2f  (%s per CPU-second ratio %.2f)' % ('$kind', statistics.median(v), what, 1/statistics.median(v)))"
done

# Memory per idle TLS connection: 500 held connections, RSS before/after.
cat > "$WORK/hold.py" <<'PY'
import socket, ssl, sys, time
port, n, pid = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
before = rss(); conns = []
for _ in range(n):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
    conns.append(s)
time.sleep(0.5)
print("%.0f" % ((rss() - before) / n))
for s in conns: s.close()
PY
for name in strata haproxy; do
  pidv="PID_$name"; portv="PORT_${name}_ka"
  taskset -c 0 python3 "$WORK/hold.py" "${!portv}" 50 "${!pidv}" >/dev/null # warm-up
  echo "idle TLS connection, $name: $(taskset -c 0 python3 "$WORK/hold.py" "${!portv}" 500 "${!pidv}") bytes of RSS each"
done
