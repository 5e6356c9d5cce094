#!/usr/bin/env bash
# Interop with a real HAProxy 2.6: a three-node peers mesh on loopback,
# two strata processes (s1, s2) and one haproxy (h), one `peers` section.
#   - an entry created or updated on any node shows the same values on
#     the other two (`show table`, address and exp aside) within 1 s;
#   - a restarted node (each of s2 and h, killed with SIGKILL) learns the
#     whole table back from the others;
#   - `show peers` of strata has the lines of HAProxy's (numbers aside).
# Usage: tests/interop/mesh.sh [STRATA_BINARY]   (default target/debug/strata)
# Installs haproxy with apt-get when it is missing. Needs bash only
# (the stats sockets are spoken to through /dev/tcp). Under 2 minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
STRATA="${1:-target/debug/strata}"
[ -x "$STRATA" ] || { echo "mesh.sh: no strata binary at $STRATA (cargo build first)"; exit 1; }
if ! command -v haproxy >/dev/null 2>&1; then
  echo "mesh.sh: installing haproxy"
  (apt-get update -qq && apt-get install -y -qq haproxy) >/dev/null 2>&1 || sudo apt-get install -y -qq haproxy >/dev/null
fi
HAPROXY="$(command -v haproxy)"
"$HAPROXY" -v | sed -n 1p
WORK="$(mktemp -d /tmp/strata-interop.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$WORK"/*.log; do echo "--- $f"; tail -20 "$f"; done; exit 1; }

# free ports: nothing answers on them now, none picked twice, and all below
# the ephemeral range (ip_local_port_range, 32768 and up on Linux): the nodes'
# own outgoing peer connections take ports from that range, and one of them
# holding a port picked here made a later bind fail (Address already in use)
PICKED=" "
port() { # sets P
  while :; do
    P=$((20000 + RANDOM % 12000))
    case "$PICKED" in *" $P "*) continue ;; esac
    if ! (exec 3<>/dev/tcp/127.0.0.1/$P) 2>/dev/null; then PICKED="$PICKED$P "; return; fi
  done
}
declare -A PEER STATS FE
for n in s1 s2 h; do
  port; PEER[$n]=$P; port; STATS[$n]=$P; port; FE[$n]=$P
done

cfg() {
  cat <<EOF
global
    stats socket ipv4@127.0.0.1:${STATS[$1]} level admin
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
peers mesh
    peer s1 127.0.0.1:${PEER[s1]}
    peer s2 127.0.0.1:${PEER[s2]}
    peer h 127.0.0.1:${PEER[h]}
frontend fe
    bind 127.0.0.1:${FE[$1]}
    tcp-request connection track-sc0 src table t
    http-request return status 200 content-type text/plain string ok
backend t
    stick-table type ip size 1000 expire 60s peers mesh store conn_cur,conn_cnt,http_req_cnt,gpc0,gpt0,http_req_rate(10s)
backend t_str
    stick-table type string len 24 size 100 expire 60s peers mesh store gpc0,bytes_in_cnt
EOF
}
declare -A PID
start() {
  cfg "$1" > "$WORK/$1.cfg"
  local bin="$STRATA"; [ "$1" = h ] && bin="$HAPROXY"
  "$bin" -L "$1" -f "$WORK/$1.cfg" -db >> "$WORK/$1.log" 2>&1 &
  PID[$1]=$!; PIDS+=($!); disown
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/${STATS[$1]}) 2>/dev/null && return; sleep 0.05; done
  fail "$1 did not start"
}
cli() {
  exec 3<>/dev/tcp/127.0.0.1/${STATS[$1]}
  printf '%s\n' "$2" >&3
  cat <&3
  exec 3<&-
}
http() {
  exec 4<>/dev/tcp/127.0.0.1/${FE[$1]}
  printf 'GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n' >&4
  cat <&4 > /dev/null
  exec 4<&-
}
# `show table` without addresses and exp, sorted: what must be equal
norm() { cli "$1" "show table $2" | grep '^0x' | sed -E 's/^0x[0-9a-f]+: //; s/ exp=[0-9]+//; s/ conn_cur=[0-9]+//' | sort; }
# waits up to $3 s for all nodes to show the same entries of table $1
# (at least $2 of them); prints how long it took
converge() {
  local t0=$(date +%s%N) deadline=$(( $(date +%s%N) + $3 * 1000000000 ))
  while :; do
    local a b c
    a="$(norm s1 "$1")"; b="$(norm s2 "$1")"; c="$(norm h "$1")"
    if [ "$a" = "$b" ] && [ "$a" = "$c" ] && [ "$(printf '%s\n' "$a" | grep -c key=)" -ge "$2" ]; then
      echo "  converged in $(( ($(date +%s%N) - t0) / 1000000 )) ms"; return 0
    fi
    [ "$(date +%s%N)" -gt "$deadline" ] && { echo "s1:"; echo "$a"; echo "s2:"; echo "$b"; echo "h:"; echo "$c"; return 1; }
    sleep 0.02
  done
}

start s1; start s2; start h
sleep 1.5 # connections up, first resyncs over
echo "1. entries created on each node"
cli s1 "set table t key 10.0.0.1 data.gpc0 11" >/dev/null
cli s2 "set table t key 10.0.0.2 data.gpc0 22 data.gpt0 2" >/dev/null
cli h "set table t key 10.0.0.3 data.gpc0 33" >/dev/null
cli h "set table t_str key from-haproxy data.gpc0 3 data.bytes_in_cnt 5000000000" >/dev/null
cli s1 "set table t_str key from-strata data.gpc0 1" >/dev/null
converge t 3 1 || fail "table t not the same on the three nodes within 1 s"
converge t_str 2 1 || fail "table t_str not the same within 1 s"
echo "2. entries updated on each node (requests on h and s2, set on s1)"
# one after the other (each learned before the next): values are the last
# writer's, so the third request, on s2, counts on top of h's two
http h; sleep 0.3; http h; sleep 0.3; http s2
cli s1 "set table t key 10.0.0.3 data.gpc0 34" >/dev/null
cli h "set table t key 10.0.0.1 data.gpc0 12" >/dev/null
converge t 4 1 || fail "updates not the same on the three nodes within 1 s"
norm s1 t | grep -q 'key=127.0.0.1 use=0 gpt0=0 gpc0=0 conn_cnt=3 http_req_cnt=3' \
  || { norm s1 t; fail "request counts from h and s2 not merged as last-writer values"; }
for i in $(seq 1 40); do cli s2 "set table t key 10.1.0.$i data.gpc0 $i" >/dev/null; done
converge t 44 1 || fail "a burst of 40 updates not everywhere within 1 s"

echo "3. a restarted strata node learns the table back"
kill -9 "${PID[s2]}"; sleep 0.2
start s2
converge t 44 10 || fail "restarted s2 did not learn the whole table"
echo "4. a restarted haproxy node learns the table back (taught by strata or the other)"
kill -9 "${PID[h]}"; sleep 0.2
start h
converge t 44 10 || fail "restarted haproxy did not learn the whole table"
converge t_str 2 5 || fail "restarted haproxy did not learn t_str"

echo "5. show peers: strata's lines are HAProxy's lines"
# (HAProxy prints `xprt=RAW src= addr=` only for connections it accepted:
# whether it has any depends on who connected first)
shape() { cli "$1" "show peers" | grep -v '^        xprt=RAW src=' | sed -E 's/id=(s1|s2|h)\(/id=P(/; s/0x[0-9a-f]+/0xX/g; s/[0-9]+/N/g; s/(<NEVER>|<PAST>|Ns)/T/g; s/\[N\/[A-Z][a-z]+\/N:N:N:N\]/[DATE]/'; }
shape h | sort -u > "$WORK/shape.h"
shape s1 | sort -u > "$WORK/shape.s1"
extra="$(comm -23 "$WORK/shape.s1" "$WORK/shape.h")"
[ -z "$extra" ] || { echo "$extra"; fail "lines of strata's show peers that HAProxy's has no line like"; }
echo "PASS: three-node mesh with haproxy $("$HAPROXY" -v | sed -n 1p | awk '{print $3}')"
