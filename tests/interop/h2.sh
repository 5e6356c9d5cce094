#!/usr/bin/env bash
# HTTP/2 interop outside `cargo test`: real clients against strata.
#   tests/interop/h2.sh [BINARY]   (default target/release/strata)
# Needs curl (with nghttp2), and nghttp + h2load (Debian: nghttp2-client).
# Runs on 127.0.0.1 only, bounded: a few seconds. With `httpwg-cli` on the
# PATH (`cargo install --locked httpwg-cli`) it also runs the conformance
# suite and prints its pass count.
set -u
cd "$(dirname "$0")/../.."
BIN="${1:-target/release/strata}"
DIR="$(mktemp -d)"
trap 'kill $PROXY $BACKEND 2>/dev/null; rm -rf "$DIR"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
BE=$(port); PLAIN=$(port); H2=$(port)
# A small HTTP/1.1 backend: 200 and a 1000-byte body for every request.
python3 - "$BE" > "$DIR/backend.log" 2>&1 <<'PY' &
import sys, http.server
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def reply(self, body):
        self.send_response(200); self.send_header("content-length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_GET(self):
        self.reply(b"x" * 1000)
    def do_POST(self):
        # /echo sends the body back; elsewhere the 1000 bytes, which the
        # conformance suite's flow-control cases need after an empty POST.
        n = int(self.headers.get("content-length") or 0); data = self.rfile.read(n)
        self.reply(data if self.path == "/echo" else b"x" * 1000)
    def log_message(self, *a): pass
# The conformance suite opens ~100 connections at once: a backlog of 5
# (the default) would refuse some of the proxy's connections.
http.server.ThreadingHTTPServer.request_queue_size = 256
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
BACKEND=$!
cat > "$DIR/strata.cfg" <<CFG
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend fe
    bind 127.0.0.1:$PLAIN
    bind 127.0.0.1:$H2 proto h2
    default_backend be
backend be
    server s1 127.0.0.1:$BE
CFG
"$BIN" -f "$DIR/strata.cfg" > "$DIR/strata.log" 2>&1 &
PROXY=$!
sleep 1
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
check "curl --http2-prior-knowledge" \
  '[ "$(curl -s -o /dev/null -w "%{http_version} %{http_code} %{size_download}" --http2-prior-knowledge http://127.0.0.1:$H2/)" = "2 200 1000" ]'
check "curl --http2-prior-knowledge on a plain bind (preface switch)" \
  '[ "$(curl -s -o /dev/null -w "%{http_version} %{http_code}" --http2-prior-knowledge http://127.0.0.1:$PLAIN/)" = "2 200" ]'
check "curl POST 1 MiB" \
  '[ "$(head -c 1048576 /dev/zero | curl -s --http2-prior-knowledge --data-binary @- -o /dev/null -w "%{size_download}" http://127.0.0.1:$H2/echo)" = "1048576" ]'
check "nghttp -n -m 20" 'nghttp -n -m 20 http://127.0.0.1:$H2/ > "$DIR/nghttp.log" 2>&1'
check "h2load -n 2000 -c 4 -m 10: all 2xx" \
  'h2load -n 2000 -c 4 -m 10 http://127.0.0.1:$H2/ > "$DIR/h2load.log" 2>&1 && grep -q "status codes: 2000 2xx" "$DIR/h2load.log"'
grep -E "^(finished|requests:)" "$DIR/h2load.log" 2>/dev/null
if command -v httpwg >/dev/null 2>&1; then
  # httpwg-cli's RFC 9113 cases; its summary line is "Passed N/M tests".
  httpwg -a "127.0.0.1:$H2" --frame-timeout 1000 2>&1 | sed 's/\x1b\[[0-9;]*m//g' > "$DIR/httpwg.log"
  grep -E "Test failed|Passed [0-9]+/[0-9]+" "$DIR/httpwg.log"
fi
[ $fail -eq 0 ] && echo "interop: all passed" || { echo "interop: failures"; tail -20 "$DIR/strata.log"; }
exit $fail
