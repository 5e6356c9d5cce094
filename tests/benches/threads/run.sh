#!/bin/bash
# nbthread 2 against nbthread 1, and against HAProxy 2.6 with nbthread 2,
# in interleaved rounds (strata 1, strata 2, HAProxy 2, strata 1, ...).
# Usage: tests/benches/threads/run.sh [ROUNDS] [SECONDS_PER_LOAD]  (default 3, 5)
# Loads (wrk, keep-alive, 50 connections) through two frontends of one
# config: `fe` (no stick table) and `fe_hot` (every request tracks the same
# stick-table entry: the hot-entry contention case). Reports CPU
# microseconds per request of the proxy (utime+stime over requests, and
# the kernel's share, stime, alone), req/s,
# how busy the proxy, wrk and the backend were (which one was CPU-bound),
# and the RSS per connection after one keep-alive request (4,000 held).
# Each round ends with the floor (tests/benches/relay_floor.rs, one
# thread, no parsing) under the same keep-alive load: the CPU per request
# these socket calls cost with no proxy work at all.
# SCALING=1 adds `fe_heavy`, where each request runs 400 unanchored regex
# rules over a 200-byte path (about 100 µs of the proxy's CPU), so that the
# proxy, not wrk or the backend, is what the CPUs are spent on: its req/s
# with nbthread 2 over nbthread 1 is how far the threads scale (at most 2
# on two CPUs, less what wrk and the backend take).
# No CPU pinning: nbthread 2 needs two CPUs, and this machine may have only
# two, shared with wrk and the backend; the CPU count is printed. Loopback
# only; every process it starts is stopped by PID. See docs/performance.md.
set -u
ROUNDS="${1:-3}"; SECS="${2:-5}"
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$ROOT"
for tool in haproxy wrk python3; do
  command -v "$tool" >/dev/null || apt-get install -y haproxy wrk >/dev/null
done
# NO_BUILD=1: measure the release binary already built.
[ -n "${NO_BUILD:-}" ] || cargo build --release --quiet --bin strata --bench e2e_backend --bench relay_floor || exit 1
STRATA="$ROOT/target/release/strata"
BACKEND="$(ls -t target/release/deps/e2e_backend-* | grep -v '\.d$' | head -1)"
HAPROXY="$(command -v haproxy)"
FLOOR_BIN="$(ls -t target/release/deps/relay_floor-* 2>/dev/null | grep -v '\.d$' | head -1)"
WORK="$(mktemp -d /tmp/strata-threads.XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$WORK"; }
trap cleanup EXIT
echo "CPUs usable: $(nproc)  (load average: $(cut -d' ' -f1-3 /proc/loadavg))"

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
BE=$(port); FE=$(port); FE_HOT=$(port); FE_HEAVY=$(port); STATS=$(port)
"$BACKEND" "$BE" & BPID=$!; PIDS+=($BPID)
config() { # config N: the same proxy with nbthread N
  cat <<EOF
global
    nbthread $1
    maxconn 9950
    stats socket ipv4@127.0.0.1:$STATS level admin
defaults
    mode http
    timeout connect 5s
    timeout client 2m
    timeout server 2m
    timeout http-keep-alive 2m
frontend fe
    bind 127.0.0.1:$FE
    default_backend be
frontend fe_hot
    bind 127.0.0.1:$FE_HOT
    http-request track-sc0 int(1) table t_hot
    default_backend be
frontend fe_heavy
    bind 127.0.0.1:$FE_HEAVY
$(for i in $(seq 400); do echo "    http-request deny if { path_reg [b-z][0-9][0-9]q$i }"; done)
    default_backend be
backend be
    server s1 127.0.0.1:$BE
backend t_hot
    stick-table type integer size 1k expire 60s store conn_cur,http_req_cnt,http_req_rate(10s)
EOF
}
config 1 > "$WORK/n1.cfg"; config 2 > "$WORK/n2.cfg"

wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
TCK=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime + stime of a process (all its threads)
sys_ticks() { awk '{print $15}' "/proc/$1/stat"; }     # stime alone: the kernel's share
now_ticks() { awk '{print int($1 * '"$TCK"')}' /proc/uptime; }

# load PID PORT: "req/s cpu_us_per_req proxy% wrk% backend% sys_us_per_req" (% of one CPU)
load() {
  local pid=$1 port=$2 path=${3:-} p0 b0 t0 p1 b1 t1 out reqs rps s0 s1
  p0=$(ticks "$pid"); b0=$(ticks "$BPID"); t0=$(now_ticks); s0=$(sys_ticks "$pid")
  out=$( { /usr/bin/time -f "WRKTICKS %U %S" wrk -t1 -c50 -d"${SECS}s" "http://127.0.0.1:$port/$path"; } 2>&1 )
  p1=$(ticks "$pid"); b1=$(ticks "$BPID"); t1=$(now_ticks); s1=$(sys_ticks "$pid")
  reqs=$(echo "$out" | awk '/requests in/{print $1}'); rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
  local wu ws; read -r wu ws < <(echo "$out" | awk '/WRKTICKS/{print $2, $3}')
  [ -n "$reqs" ] || { echo "wrk failed: $out" >&2; reqs=1; rps=0; wu=0; ws=0; }
  awk -v p="$((p1 - p0))" -v b="$((b1 - b0))" -v t="$((t1 - t0))" -v n="$reqs" -v k="$TCK" -v rps="$rps" \
      -v w="$wu" -v ws="$ws" -v s="$((s1 - s0))" 'BEGIN{
    printf "%s %.2f %.0f %.0f %.0f %.2f\n", rps, p * 1e6 / k / n, (t > 0) ? p * 100 / t : 0, (t > 0) ? (w + ws) * k * 100 / t : 0, (t > 0) ? b * 100 / t : 0, s * 1e6 / k / n }'
}

# conn_rss PID: RSS bytes per connection after one keep-alive request each (4,000 held)
conn_rss() {
  python3 - "$FE" "$1" <<'PY'
import socket, sys, time
port, pid = int(sys.argv[1]), sys.argv[2]
rss = lambda: int([l for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS")][0].split()[1])
time.sleep(0.5)
before = rss()
conns = []
for _ in range(4000):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET / HTTP/1.1\r\nHost: b\r\n\r\n")
    got = b""
    while not got.endswith(b"hello"):
        got += s.recv(4096)
    conns.append(s)
time.sleep(2)
print(round((rss() - before) * 1024 / 4000))
for s in conns: s.close()
PY
}

declare -A R
run() { # run WHO BIN CFG
  local who=$1 bin=$2 cfg=$3 pid
  "$bin" -f "$cfg" -db >"$WORK/$who.log" 2>&1 & pid=$!; PIDS+=($pid)
  wait_port "$FE" && wait_port "$FE_HOT" || { echo "$who did not start"; cat "$WORK/$who.log"; exit 1; }
  local rps cpu pb wb bb sys
  read -r rps cpu pb wb bb sys <<<"$(load "$pid" "$FE")"
  R[$who,rps]+="$rps "; R[$who,cpu]+="$cpu "; R[$who,pbusy]+="$pb "; R[$who,wbusy]+="$wb "; R[$who,bbusy]+="$bb "
  R[$who,sys]+="$sys "
  read -r rps cpu pb wb bb _ <<<"$(load "$pid" "$FE_HOT")"
  R[$who,hot_rps]+="$rps "; R[$who,hot_cpu]+="$cpu "; R[$who,hot_pbusy]+="$pb "
  if [ -n "${SCALING:-}" ]; then
    read -r rps cpu pb wb bb _ <<<"$(load "$pid" "$FE_HEAVY" "$(printf 'a%.0s' $(seq 200))")"
    R[$who,heavy_rps]+="$rps "; R[$who,heavy_cpu]+="$cpu "; R[$who,heavy_pbusy]+="$pb "
  fi
  R[$who,rss]+="$(conn_rss "$pid") "
  kill "$pid"; wait "$pid" 2>/dev/null
}
# run_floor: the keep-alive load through the no-work relay (one thread,
# tests/benches/relay_floor.rs) on the `fe` port: the least CPU a request
# costs with these socket calls, most of it the kernel's.
run_floor() {
  local pid rps cpu pb wb bb sys
  "$FLOOR_BIN" epoll "$FE" "$BE" >"$WORK/floor.log" 2>&1 & pid=$!; PIDS+=($pid)
  wait_port "$FE" || { echo "the floor did not start"; cat "$WORK/floor.log"; exit 1; }
  read -r rps cpu pb wb bb sys <<<"$(load "$pid" "$FE")"
  R[floor,rps]+="$rps "; R[floor,cpu]+="$cpu "; R[floor,sys]+="$sys "
  kill "$pid"; wait "$pid" 2>/dev/null
}
for round in $(seq "$ROUNDS"); do
  run strata1 "$STRATA" "$WORK/n1.cfg"
  run strata2 "$STRATA" "$WORK/n2.cfg"
  run haproxy2 "$HAPROXY" "$WORK/n2.cfg"
  [ -n "$FLOOR_BIN" ] && run_floor
  echo "round $round done" >&2
done

median() { echo "$1" | tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else print "-" }'; }
m() { median "${R[$1,$2]}"; }
printf "%-44s %10s %10s %10s %9s %9s\n" metric "strata n1" "strata n2" "haproxy n2" "n2/n1" "n2/hap"
row() { # key label
  local a b c; a=$(m strata1 "$1"); b=$(m strata2 "$1"); c=$(m haproxy2 "$1")
  printf "%-44s %10s %10s %10s %9s %9s\n" "$2" "$a" "$b" "$c" "$(ratio "$b" "$a")" "$(ratio "$b" "$c")"
}
row cpu       "keep-alive CPU us/request (target n2/n1<=1.1)"
row sys       "  of which kernel (stime) us/request"
row rps       "keep-alive req/s"
row pbusy     "  proxy busy % of one CPU"
row wbusy     "  wrk busy % of one CPU"
row bbusy     "  backend busy % of one CPU"
row hot_cpu   "hot entry CPU us/request"
row hot_rps   "hot entry req/s"
row hot_pbusy "  proxy busy % (hot entry)"
row rss       "RSS bytes/conn after 1 request"
if [ -n "${SCALING:-}" ]; then
  row heavy_rps   "heavy rules req/s (n2/n1: thread scaling)"
  row heavy_cpu   "heavy rules CPU us/request"
  row heavy_pbusy "  proxy busy % (heavy rules)"
fi
echo "per-round CPU us/request (strata n1 | n2 | haproxy n2):"
echo "  ${R[strata1,cpu]}| ${R[strata2,cpu]}| ${R[haproxy2,cpu]}"
echo "per-round kernel (stime) us/request (strata n1 | n2 | haproxy n2):"
echo "  ${R[strata1,sys]}| ${R[strata2,sys]}| ${R[haproxy2,sys]}"
if [ -n "$FLOOR_BIN" ]; then
  echo "the floor (relay_floor epoll, one thread), keep-alive: CPU us/request $(m floor cpu) (kernel $(m floor sys)), req/s $(m floor rps); floor/haproxy n2 CPU $(ratio "$(m floor cpu)" "$(m haproxy2 cpu)")"
  echo "  per round CPU: ${R[floor,cpu]}"
fi
