#!/bin/bash
# Instructions and locks per keep-alive HTTP/1.1 request with `nbthread 1`
# and `nbthread 2` (user space only, not moved by the machine's load):
# strata under `valgrind --tool=callgrind` with the `fe` frontend of
# run.sh (no stick table) forwarding to the `http-request return`
# backend, `h2load --h1 -n N -c 10` (ten keep-alive connections, one
# request in flight each: the same load every run), then the program's
# total divided by N (startup and stop included, under 1% of it).
# Locks: calls of the functions every lock of the request path goes
# through (`runtime::shared::lock`, the process lock;
# `SharedBackends::lock`, the backends; `stick::table::lock`, a table's
# shards and queue; `Isolation::lock`; they are kept out of line so that
# callgrind sees each call), per request, with who called them. Not
# counted: the wakers' and mail locks (taken only when a thread wakes
# another) and `proc.` variables' (the config uses none).
# Usage: tests/benches/threads/callgrind.sh [REQUESTS] [OUTDIR]
#   (default 20000; OUTDIR keeps cg.n1.out and cg.n2.out:
#   `callgrind_annotate --inclusive=yes OUTDIR/cg.n2.out` shows where they go).
# STRATA=path measures that binary instead of building the release one.
set -u
N="${1:-20000}"; KEEP="${2:-}"
source "$(dirname "$0")/../lib.sh"
bench_tools haproxy=haproxy h2load=nghttp2-client valgrind=valgrind
[ -n "${STRATA:-}" ] || cargo build --release --quiet --bin strata || exit 1
STRATA="${STRATA:-$ROOT/target/release/strata}"
HAPROXY="$(command -v haproxy)"
bench_workdir threads-callgrind
OUTDIR="${KEEP:-$WORK}"
mkdir -p "$OUTDIR"
start_return_backend

config() { # config N PORT: run.sh's `fe` with nbthread N
  cat <<EOF
global
    nbthread $1
    maxconn 9950
defaults
    mode http
    timeout connect 5s
    timeout client 2m
    timeout server 2m
    timeout http-keep-alive 2m
frontend fe
    bind 127.0.0.1:$2
    default_backend be
backend be
    server s1 127.0.0.1:$BE
EOF
}

# locks FILE N: calls per request of each lock function, and their callers.
locks() {
  python3 - "$1" "$2" <<'PY'
import re, sys
path, n = sys.argv[1], int(sys.argv[2])
LOCKS = ("strata::runtime::shared::lock", "strata::backend::shared::SharedBackends::lock",
         "strata::stick::table::lock", "strata::runtime::isolate::Isolation::lock")
names, fn, cfn, calls = {}, None, None, {}
def name(v):
    m = re.match(r"\((\d+)\)(?: (.*))?", v)
    if not m:
        return v
    if m.group(2):
        names[m.group(1)] = m.group(2)
    return names.get(m.group(1), "?")
for line in open(path, errors="replace"):
    if line.startswith("fn="):
        fn = name(line[3:].strip())
    elif line.startswith("cfn="):
        cfn = name(line[4:].strip())
    elif line.startswith("calls=") and cfn is not None:
        k = int(line[6:].split()[0])
        calls.setdefault(cfn, {}).setdefault(fn, 0)
        calls[cfn][fn] += k
total = 0
for callee in sorted(calls):
    short = re.sub(r"(<[^>]*>)|(::h[0-9a-f]{16}$)", "", callee)
    if not any(short.startswith(l) for l in LOCKS) or not short.endswith("lock"):
        continue
    by = calls[callee]
    s = sum(by.values())
    total += s
    print(f"  {short}: {s / n:.2f} per request")
    for caller, k in sorted(by.items(), key=lambda kv: -kv[1]):
        if k / n >= 0.01:
            print(f"      {k / n:.2f} from {re.sub(r'::h[0-9a-f]{16}$', '', caller)}")
print(f"  locks taken: {total / n:.2f} per request")
PY
}

for threads in 1 2; do
  P=$(port)
  config "$threads" "$P" > "$WORK/n$threads.cfg"
  OUT="$OUTDIR/cg.n$threads.out"
  valgrind --tool=callgrind --callgrind-out-file="$OUT" "$STRATA" -db -f "$WORK/n$threads.cfg" >/dev/null 2>"$WORK/valgrind.n$threads.err" &
  VG=$!; PIDS+=($VG)
  for _ in $(seq 100); do
    curl -s "http://127.0.0.1:$P/" >/dev/null && break
    sleep 0.2
  done
  h2load --h1 -n "$N" -c 10 "http://127.0.0.1:$P/" | grep -q "$N succeeded" || echo "h2load: not every request succeeded" >&2
  kill -INT "$VG"; wait "$VG"
  echo "nbthread $threads:"
  callgrind_annotate "$OUT" 2>/dev/null | awk -v n="$N" '/PROGRAM TOTALS/ {gsub(",", "", $1); printf "  %s instructions, %.0f per request\n", $1, $1 / n}'
  locks "$OUT" "$N"
done
