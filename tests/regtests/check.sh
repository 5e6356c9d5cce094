#!/usr/bin/env bash
# usage: tests/regtests/check.sh BINARY [REGTESTS_DIR]
#
# Runs HAProxy's regression tests (the shared half: REGTESTS_DIR, default
# ../shared/acceptance/regtests next to the repository, or $STRATA_REGTESTS)
# against BINARY with their own runner, then fails if a test listed in
# tests/regtests/expected-pass.txt did not pass (failed, or skipped because
# the binary stopped claiming a feature). Tests passing beyond the list are
# printed so they can be added to it (one path per line, sorted).
#
# A test passed when VTest's log for it ends with "TEST <path> completed"
# and it was not skipped ("SKIPPING test" in the log). The runner's own
# summary line is printed as is.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bin="${1:?usage: check.sh BINARY [REGTESTS_DIR]}"
case "$bin" in /*) ;; *) bin="$PWD/$bin" ;; esac
suite="${2:-${STRATA_REGTESTS:-$repo/../shared/acceptance/regtests}}"
expected="$here/expected-pass.txt"
[ -x "$suite/run.sh" ] || { echo "check.sh: no regression suite at $suite" >&2; exit 2; }

# A short name right under /tmp: VTest puts each instance's stats socket
# four levels below it (haregtests-DATE.X/vtc.PID.HASH/INSTANCE/stats.sock),
# and a Unix socket is bound under that path plus ".PID.tmp", then renamed
# (as HAProxy does), all within 108 bytes: websocket.vtc's hap_srv_bad_key
# came to 109 under /tmp/srt.XXXXXX and could not start (HAProxy refuses
# such a path too). /tmp/r.XXXX leaves room for 7-digit pids.
work="$(mktemp -d /tmp/r.XXXX)"
trap 'rm -rf "$work"' EXIT
out="$work/run.txt"
(cd "$suite" && TMPDIR="$work" ./run.sh "$bin" --keep-logs) >"$out" 2>&1
summary="$(grep -E '^[0-9]+ tests failed, [0-9]+ tests skipped, [0-9]+ tests passed' "$out" | tail -1)"
echo "${summary:-run.sh printed no summary (see below)}"

passed="$work/passed.txt"
: >"$passed"
for info in "$work"/haregtests-*/vtc.*/INFO; do
    [ -e "$info" ] || continue
    dir="$(dirname "$info")"
    name="$(sed -n 's/^Test case: //p' "$info")"
    if grep -qF "TEST $name completed" "$dir/LOG" && ! grep -q "SKIPPING test" "$dir/LOG"; then
        echo "$name" >>"$passed"
    fi
done
sort -u -o "$passed" "$passed"

missing="$(grep -v '^#' "$expected" | grep -v '^$' | sort -u | comm -23 - "$passed")"
extra="$(grep -v '^#' "$expected" | grep -v '^$' | sort -u | comm -13 - "$passed")"
if [ -n "$extra" ]; then
    echo "passing but not in tests/regtests/expected-pass.txt (add them):"
    echo "$extra" | sed 's/^/  /'
fi
if [ -n "$missing" ]; then
    echo "REGRESSION: expected to pass but did not:"
    echo "$missing" | sed 's/^/  /'
    for t in $missing; do
        grep -A6 "^###### Test case: $t " "$out" | grep -E '^(----|\*    diag)' | head -4 | sed "s|^|    $t: |"
    done
    trap - EXIT
    echo "logs kept in $work"
    exit 1
fi
[ -n "$summary" ] || { cat "$out"; exit 1; }
exit 0
