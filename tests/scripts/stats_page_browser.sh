#!/usr/bin/env bash
# Opens the stats page of haproxy-like.cfg in headless Chromium (Debian
# package `chromium`), as a person would: checks that the rendered page has
# the frontend, backend, server and stick-table rows with values, and saves
# docs/stats-page.png (shown in docs/management.md).
# usage: tests/scripts/stats_page_browser.sh [STRATA_BINARY]   (from the project root)
# Exit 77 (skipped) when Chromium is missing and cannot be installed.
# The ports are haproxy-like.cfg's (8080, 8081, 8404, 9999): they must be free.
set -u
BIN="${1:-target/debug/strata}"
if ! command -v chromium >/dev/null; then
  [ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1
  command -v chromium >/dev/null || { echo "chromium not installed: skipped"; exit 77; }
fi
for port in 8080 8081 8404 9999; do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && { echo "port $port is in use"; exit 2; }
done
DIR="$(mktemp -d "${TMPDIR:-/tmp}/stats-browser.XXXXXX")"
"$BIN" -f haproxy-like.cfg >"$DIR/proxy.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 1 50); do curl -sf -o /dev/null http://127.0.0.1:8080/ && break; sleep 0.1; done
sleep 2.5 # the first health check marks app1 UP
for _ in 1 2 3 4 5; do curl -sf -o /dev/null http://127.0.0.1:8080/; done
chrome() {
  timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$DIR/profile" --window-size=1400,1000 "$@" 2>>"$DIR/chrome.log"
}
chrome --dump-dom http://127.0.0.1:8404/ >"$DIR/dom.html"
failed=0
check() { # check DESCRIPTION EXTENDED-REGEX
  if grep -Eq "$2" "$DIR/dom.html"; then echo "ok   $1"; else echo "FAIL $1"; failed=1; fi
}
check "frontend row with its session total" '<tr class="frontend"><td class="ac"><a name="fe_main/Frontend"></a>.*<td>[1-9][0-9]*</td>'
check "server row app1 up (green)" '<tr class="active_up"><td class="ac"><a name="be_app/app1">'
check "backend row of be_app" '<a name="be_app/Backend"></a>'
check "stick table fe_main with the curl client's entry" '<td class="al">127\.0\.0\.1</td><td>[0-9]+</td><td>[1-9]'
check "stats proxy table" '<a class="px" href="#stats">stats</a>'
mkdir -p docs
chrome --screenshot="$DIR/page.png" http://127.0.0.1:8404/ >/dev/null
if [ -s "$DIR/page.png" ]; then cp "$DIR/page.png" docs/stats-page.png; echo "ok   screenshot saved to docs/stats-page.png"; else echo "FAIL screenshot"; failed=1; fi
if [ "$failed" = 0 ]; then echo "stats_page_browser: passed"; else echo "stats_page_browser: FAILED"; cat "$DIR/proxy.log" | tail -5; exit 1; fi
