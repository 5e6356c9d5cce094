set -u
DIR="$(cd "$(dirname "$0")" && pwd)"; WORK="$(mktemp -d /tmp/peers-capture.XXXXXX)"; cd "$WORK" && mkfifo ctl
python3 -m http.server 18214 --bind 127.0.0.1 >/dev/null 2>&1 & echo $! > web.pid
python3 "$DIR/peer.py" 18212 ctl > peer.out 2>&1 & echo $! > peer.pid
exec 7>ctl
haproxy -L local -f "$DIR/send.cfg" -db > ha.log 2>&1 & echo $! > ha.pid
sleep 1; echo 0001 >&7; sleep 0.5
cli(){ echo "$1" | socat stdio tcp4:127.0.0.1:18211; }
cli "set table t_ip key 10.1.2.3 data.gpc0 7 data.conn_cnt 300 data.server_id 3 data.bytes_in_cnt 5000000000 data.gpt0 1"
sleep 0.3; cli "set table t_int key 42 data.gpc0 1"
sleep 0.3; cli "set table t_v6 key 2001:db8::1 data.gpc0 2"
sleep 0.3; cli "set table t_str key hello data.gpc0 3 data.http_req_rate 5"
sleep 0.3; cli "set table t_str key abcdefghijklmnopqrstuvwxyz data.gpc0 4"
sleep 0.3; cli "set table t_noexp key 10.0.0.9 data.gpc0 9"
sleep 0.3; curl -s -o /dev/null -m 2 http://127.0.0.1:18210/; sleep 0.3
cli "set table t_int key 43 data.gpc0 1"; cli "set table t_int key 44 data.gpc0 1"; cli "set table t_int key 45 data.gpc0 1"
sleep 0.5
echo 0000 >&7; sleep 1.5; echo 0003 >&7; sleep 0.5
cli "show table be_stick"; cli "show table t_ip"; cli "show table t_str"; cli "show peers"
echo quit >&7; exec 7>&-; sleep 1; kill $(cat ha.pid) $(cat web.pid)
cat peer.out; rm -rf "$WORK"
