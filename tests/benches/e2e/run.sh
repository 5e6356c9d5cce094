#!/bin/bash
# strata versus HAProxy 2.6, same config file, interleaved rounds (A B A B...).
# Usage: tests/benches/e2e/run.sh [ROUNDS] [SECONDS_PER_LOAD]   (default 3, 8)
# Each round also runs the floor (tests/benches/relay_floor.rs: a relay that
# does no work of its own) through the same loads, so the table shows the
# best ratio to HAProxy any proxy can reach on this machine. FLOOR_MODE=uring
# runs the floor on io_uring instead of epoll.
# Installs haproxy and wrk from Debian's packages if absent. Loopback only;
# every process it starts is stopped by PID. The proxy runs pinned to CPU 1,
# wrk to CPU 0, and the backend to CPU 2 when the machine has one, else to
# CPU 0 beside wrk; CPU_PROXY, CPU_LOAD and CPU_BACKEND override this (see
# ../../../docs/performance.md).
set -u
ROUNDS="${1:-3}"; SECS="${2:-8}"
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$ROOT"
for tool in haproxy wrk python3; do
  command -v "$tool" >/dev/null || apt-get install -y haproxy wrk >/dev/null
done
cargo build --release --quiet --bin strata --bench e2e_backend --bench relay_floor || exit 1
STRATA="$ROOT/target/release/strata"
BACKEND="$(ls -t target/release/deps/e2e_backend-* | grep -v '\.d$' | head -1)"
FLOOR="$(ls -t target/release/deps/relay_floor-* | grep -v '\.d$' | head -1)"
FLOOR_MODE="${FLOOR_MODE:-epoll}"
HAPROXY="$(command -v haproxy)"
usable_cpu() { [[ "$1" =~ ^[0-9]+$ ]] && grep -q "^cpu$1 " /proc/stat && taskset -c "$1" true 2>/dev/null; }
CPU_PROXY="${CPU_PROXY:-1}"; CPU_LOAD="${CPU_LOAD:-0}"
CPU_BACKEND="${CPU_BACKEND:-$(usable_cpu 2 && echo 2 || echo 0)}"
for c in "$CPU_PROXY" "$CPU_LOAD" "$CPU_BACKEND"; do
  usable_cpu "$c" || { echo "CPU '$c' is not one CPU this script may run on"; exit 1; }
done
[ "$CPU_PROXY" != "$CPU_LOAD" ] && [ "$CPU_PROXY" != "$CPU_BACKEND" ] ||
  { echo "the proxy needs a CPU of its own (CPU_PROXY=$CPU_PROXY)"; exit 1; }
LOAD_CPU="CPU $CPU_LOAD (wrk)"; [ "$CPU_BACKEND" = "$CPU_LOAD" ] && LOAD_CPU="CPU $CPU_LOAD (wrk+backend)"
echo "proxy on CPU $CPU_PROXY, wrk on CPU $CPU_LOAD, backend on CPU $CPU_BACKEND"
WORK="$(mktemp -d /tmp/strata-e2e.XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$WORK"; }
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
BE=$(port); FE=$(port); FE_TCP=$(port); STATS=$(port); FE_FLOOR=$(port)
taskset -c "$CPU_BACKEND" "$BACKEND" "$BE" & PIDS+=($!)
cat > "$WORK/bench.cfg" <<EOF
global
    nbthread 1
    maxconn 9950
    stats socket ipv4@127.0.0.1:$STATS level admin
    stats timeout 2m
defaults
    mode http
    timeout connect 5s
    timeout client 2m
    timeout server 2m
    timeout http-keep-alive 2m
frontend fe
    bind 127.0.0.1:$FE
    tcp-request connection track-sc0 src
    stick-table type ip size 1m expire 60s store conn_cur,conn_cnt,http_req_rate(10s)
    default_backend be
backend be
    server s1 127.0.0.1:$BE
frontend fe_tcp
    mode tcp
    bind 127.0.0.1:$FE_TCP
    default_backend be_tcp
backend be_tcp
    mode tcp
    server s1 127.0.0.1:$BE
backend t_keys
    stick-table type ip size 2m store conn_cur,conn_cnt,http_req_rate(10s)
EOF

wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
rss_kib() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }
to_ms() { # wrk latency "1.23ms" / "850.00us" / "1.02s" -> ms
  awk -v v="$1" 'BEGIN{ if (v ~ /us$/) {sub(/us$/,"",v); print v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v); print v+0} else {sub(/s$/,"",v); print v*1000} }'
}
to_mbs() { # wrk "Transfer/sec: 512.3MB" -> MB/s
  awk -v v="$1" 'BEGIN{ if (v ~ /GB$/) {sub(/GB$/,"",v); print v*1024} else if (v ~ /MB$/) {sub(/MB$/,"",v); print v+0} else {sub(/KB$/,"",v); print v/1024} }'
}
TCK=$(getconf CLK_TCK)

# cpu_busy N: "busy total" jiffies of CPU N from /proc/stat (busy: user,
# nice, system, irq, softirq; total adds idle, iowait and steal).
cpu_busy() { awk -v c="cpu$1" '$1==c{b=$2+$3+$4+$7+$8; print b, b+$5+$6+$9}' /proc/stat; }
# proc_ticks PID: "utime stime" of the process, in clock ticks.
proc_ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }
# load PID URL [wrk args...]: prints "req/s p50ms p99ms cpu_us_per_req MB/s
# user_us_per_req sys_us_per_req proxy_cpu_busy% load_cpu_busy%": how busy
# the proxy's CPU and wrk's CPU were tells which side bounded the load.
load() {
  local pid=$1 url=$2; shift 2
  local u0 s0 u1 s1 p0 pt0 p1 pt1 b0 t0 b1 t1
  read -r u0 s0 < <(proc_ticks "$pid")
  read -r p0 pt0 < <(cpu_busy "$CPU_PROXY"); read -r b0 t0 < <(cpu_busy "$CPU_LOAD")
  local out; out=$(taskset -c "$CPU_LOAD" wrk -t1 -d"${SECS}s" --latency "$@" "$url" 2>&1)
  read -r u1 s1 < <(proc_ticks "$pid")
  read -r p1 pt1 < <(cpu_busy "$CPU_PROXY"); read -r b1 t1 < <(cpu_busy "$CPU_LOAD")
  local reqs; reqs=$(echo "$out" | awk '/requests in/{print $1}')
  local rps; rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
  [ -n "$reqs" ] && [ -n "$rps" ] || { echo "wrk failed: $out" >&2; reqs=0; rps=0; }
  local p50; p50=$(to_ms "$(echo "$out" | awk '$1=="50%"{print $2}')")
  local p99; p99=$(to_ms "$(echo "$out" | awk '$1=="99%"{print $2}')")
  local mbs; mbs=$(to_mbs "$(echo "$out" | awk '/Transfer\/sec/{print $2}')")
  awk -v u="$((u1 - u0))" -v s="$((s1 - s0))" -v n="$reqs" -v t="$TCK" \
      -v pb="$((p1 - p0))" -v pt="$((pt1 - pt0))" -v lb="$((b1 - b0))" -v lt="$((t1 - t0))" \
      -v rest="$rps $p50 $p99" -v mbs="$mbs" 'BEGIN{
    per = (n > 0) ? 1e6 / t / n : 0
    printf "%s %.2f %s %.2f %.2f %.0f %.0f\n", rest, (u + s) * per, mbs, u * per, s * per,
      (pt > 0) ? pb * 100 / pt : 0, (lt > 0) ? lb * 100 / lt : 0 }'
}

idle_rss() { # bytes of RSS per idle client connection (9,000 held: the fd hard limit is 20,000)
  local pid=$1 before after
  before=$(rss_kib "$pid")
  python3 - "$FE" "$pid" <<'PY' > "$WORK/idle.out"
import socket, sys, time
port, pid = int(sys.argv[1]), sys.argv[2]
conns = []
for _ in range(9000):
    s = socket.socket(); s.connect(("127.0.0.1", port)); conns.append(s)
time.sleep(2)
rss = [l for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS")][0].split()[1]
print(rss)
for s in conns: s.close()
PY
  after=$(cat "$WORK/idle.out")
  awk -v a="$before" -v b="$after" 'BEGIN{ printf "%.0f", (b-a)*1024/9000 }'
}

entry_bytes() { # RSS bytes per stick-table entry, 1,000,000 keys via set table
  local pid=$1 before after
  before=$(rss_kib "$pid")
  python3 - "$STATS" <<'PY'
import socket, sys, threading
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
def drain():
    while s.recv(1 << 20): pass
t = threading.Thread(target=drain); t.start()
s.sendall(b"prompt\n")
batch = []
for i in range(1_000_000):
    batch.append(b"set table t_keys key %d.%d.%d.%d data.conn_cnt 1\n" % (10, (i >> 16) & 255, (i >> 8) & 255, i & 255))
    if len(batch) == 10000:
        s.sendall(b"".join(batch)); batch = []
s.sendall(b"".join(batch) + b"show table\nquit\n")
t.join()
PY
  sleep 1
  after=$(rss_kib "$pid")
  local used; used=$(echo "show table" | python3 -c "
import socket,sys
s=socket.create_connection(('127.0.0.1',$STATS)); s.sendall(b'show table\n'); o=b''
while True:
    d=s.recv(65536)
    if not d: break
    o+=d
print([l for l in o.decode().splitlines() if 't_keys' in l][0].split('used:')[1])")
  awk -v a="$before" -v b="$after" -v n="$used" 'BEGIN{ printf "%.0f", (b-a)*1024/n }'
}

# small_loads WHO PID PORT: keep-alive then connection per request, into R.
small_loads() {
  local who=$1 pid=$2 port=$3 rps p50 p99 cpu user sys busy lbusy
  read -r rps p50 p99 cpu _ user sys busy lbusy <<<"$(load "$pid" "http://127.0.0.1:$port/" -c50)"
  R[$who,ka_rps]+="$rps "; R[$who,ka_p50]+="$p50 "; R[$who,ka_p99]+="$p99 "; R[$who,ka_cpu]+="$cpu "
  R[$who,ka_user]+="$user "; R[$who,ka_sys]+="$sys "; R[$who,ka_busy]+="$busy "; R[$who,ka_lbusy]+="$lbusy "
  read -r rps _ _ cpu _ _ _ busy lbusy <<<"$(load "$pid" "http://127.0.0.1:$port/" -c50 -H 'Connection: close')"
  R[$who,cl_rps]+="$rps "; R[$who,cl_cpu]+="$cpu "; R[$who,cl_busy]+="$busy "; R[$who,cl_lbusy]+="$lbusy "
}
# big_load WHO PID PORT MODE: 1 MiB bodies, into R's MODE (http or tcp) rows.
big_load() {
  local who=$1 pid=$2 port=$3 mode=$4 cpu mbs busy lbusy
  read -r _ _ _ cpu mbs _ _ busy lbusy <<<"$(load "$pid" "http://127.0.0.1:$port/1m" -c4)"
  R[$who,${mode}_mbs]+="$mbs "; R[$who,${mode}_cpu]+="$cpu "
  R[$who,${mode}_busy]+="$busy "; R[$who,${mode}_lbusy]+="$lbusy "
}

declare -A R
for round in $(seq "$ROUNDS"); do
  for who in strata haproxy; do
    bin=$STRATA; [ "$who" = haproxy ] && bin=$HAPROXY
    taskset -c "$CPU_PROXY" "$bin" -f "$WORK/bench.cfg" -db >"$WORK/$who.log" 2>&1 & pid=$!; PIDS+=($pid)
    wait_port "$FE" && wait_port "$STATS" || { echo "$who did not start"; cat "$WORK/$who.log"; exit 1; }
    small_loads "$who" "$pid" "$FE"
    big_load "$who" "$pid" "$FE" http
    big_load "$who" "$pid" "$FE_TCP" tcp
    R[$who,idle]+="$(idle_rss "$pid") "
    R[$who,entry]+="$(entry_bytes "$pid") "
    kill "$pid"; wait "$pid" 2>/dev/null
    echo "round $round $who done" >&2
  done
  # The floor: the same loads through a relay that does nothing else.
  taskset -c "$CPU_PROXY" "$FLOOR" "$FLOOR_MODE" "$FE_FLOOR" "$BE" >"$WORK/floor.log" 2>&1 & pid=$!; PIDS+=($pid)
  wait_port "$FE_FLOOR" && kill -0 "$pid" 2>/dev/null || { echo "the floor did not start"; cat "$WORK/floor.log"; exit 1; }
  small_loads floor "$pid" "$FE_FLOOR"
  big_load floor "$pid" "$FE_FLOOR" tcp # a byte relay: TCP mode (copies, no splice)
  kill "$pid"; wait "$pid" 2>/dev/null
  # io_uring releases its listener after the process is gone: wait for it.
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$FE_FLOOR") 2>/dev/null || break; sleep 0.05; done
  (exec 3<>"/dev/tcp/127.0.0.1/$FE_FLOOR") 2>/dev/null && { echo "the floor's listener outlived it"; exit 1; }
  echo "round $round floor ($FLOOR_MODE) done" >&2
done

median() { echo "$1" | tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
printf "%-36s %12s %12s %8s  %-18s %10s %8s\n" metric strata haproxy ratio "target" floor "floor/h"
ratio() { awk -v s="$1" -v h="$2" 'BEGIN{ if (s != "" && h>0) printf "%.2f", s/h; else print "-" }'; }
row() { # key label target
  local s h f; s=$(median "${R[strata,$1]}"); h=$(median "${R[haproxy,$1]}"); f=$(median "${R[floor,$1]:-}")
  printf "%-36s %12s %12s %8s  %-18s %10s %8s\n" "$2" "$s" "$h" "$(ratio "$s" "$h")" "$3" "${f:--}" "$(ratio "$f" "$h")"
}
row ka_rps  "keep-alive req/s"                ">= 1.25"
row ka_cpu  "keep-alive CPU us/request"       "<= 0.75"
row ka_user "  of which user us/request"      ""
row ka_sys  "  of which system us/request"    ""
row ka_busy "  CPU $CPU_PROXY (proxy) busy %"           ""
row ka_lbusy "  $LOAD_CPU busy %"      ""
row ka_p50  "keep-alive p50 ms"               ""
row ka_p99  "keep-alive p99 ms"               "<= 0.8"
row cl_rps  "conn-per-request req/s"          ">= 1.15"
row cl_cpu  "conn-per-request CPU us/request" ""
row cl_busy "  CPU $CPU_PROXY (proxy) busy %"           ""
row cl_lbusy "  $LOAD_CPU busy %"      ""
row http_mbs "1 MiB body MB/s (http)"         ">= 1.2"
row tcp_mbs "1 MiB body MB/s (tcp)"           ">= 1.2"
row http_cpu "1 MiB body CPU us/MiB (http)"   ""
row tcp_cpu "1 MiB body CPU us/MiB (tcp)"     ""
row http_busy "  CPU $CPU_PROXY (proxy) busy %, http"     ""
row tcp_busy "  CPU $CPU_PROXY (proxy) busy %, tcp"      ""
row http_lbusy "  $LOAD_CPU busy %, http"   ""
row tcp_lbusy "  $LOAD_CPU busy %, tcp"    ""
row idle    "RSS bytes per idle connection"   "<= 0.4"
row entry   "bytes per stick-table entry"     "<= 0.5 (<= 104 B)"
rounds() { # who key label: the ratio who/HAProxy of each round (same round, back to back)
  paste <(echo "${R[$1,$2]}" | tr ' ' '\n' | grep -v '^$') <(echo "${R[haproxy,$2]}" | tr ' ' '\n' | grep -v '^$') |
    awk -v l="$3" '{ r = ($2 > 0) ? sprintf("%.2f", $1/$2) : "-"; s = s " " r } END { printf "%-36s %s\n", l, s }'
}
echo "per-round ratios strata/HAProxy (the spread between rounds of one run):"
rounds strata ka_rps   "  keep-alive req/s"
rounds strata ka_cpu   "  keep-alive CPU us/request"
rounds strata ka_p99   "  keep-alive p99"
rounds strata cl_rps   "  conn-per-request req/s"
rounds strata http_mbs "  1 MiB body MB/s (http)"
rounds strata tcp_mbs  "  1 MiB body MB/s (tcp)"
echo "per-round ratios floor ($FLOOR_MODE)/HAProxy:"
rounds floor ka_rps    "  keep-alive req/s"
rounds floor ka_cpu    "  keep-alive CPU us/request"
rounds floor ka_p99    "  keep-alive p99"
rounds floor cl_rps    "  conn-per-request req/s"
echo "(CPU busy %: user, system, irq and softirq time of that CPU over the load, from /proc/stat.)"
echo "(medians of $ROUNDS interleaved rounds, ${SECS}s per load; raw: $(declare -p R | head -c 2000))"
