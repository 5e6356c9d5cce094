set -u
DIR="$(cd "$(dirname "$0")" && pwd)"; WORK="$(mktemp -d /tmp/peers-capture.XXXXXX)"; cd "$WORK" && mkfifo ctl
python3 "$DIR/peer.py" 18212 ctl > peer2.out 2>&1 & echo $! > peer.pid
exec 7>ctl
haproxy -L local -f "$DIR/receive.cfg" -db > ha2.log 2>&1 & echo $! > ha.pid
sleep 1; echo 0001 >&7; sleep 0.3
cli(){ echo "$1" | socat stdio tcp4:127.0.0.1:18211; }
# define t_rx: id 5, name len 4 't_rx', type 4, len 4, bits 0x454 (f4 45? compute in python), expire 60000, param 10 period 10000
python3 - >&7 <<'PY'
def enc(v):
    out=bytearray()
    if v<240: return bytes([v])
    out.append((v&0xff)|0xf0); v=(v-240)>>4
    while v>=128: out.append((v&0xff)|0x80); v=(v-128)>>7
    out.append(v); return bytes(out)
def msg(t,p): return bytes([10,t])+enc(len(p))+p
d=enc(5)+enc(4)+b"t_rx"+enc(4)+enc(4)+enc(0x454)+enc(60000)+enc(10)+enc(10000)
u1=(1).to_bytes(4,'big')+bytes([10,9,9,9])+enc(11)+enc(22)+enc(33)+enc(100)+enc(7)+enc(3)
u2=bytes([10,9,9,10])+enc(1)+enc(2)+enc(3)+enc(200)+enc(0)+enc(0)
u3=(10).to_bytes(4,'big')+(5000).to_bytes(4,'big')+bytes([10,9,9,11])+enc(5)+enc(5)+enc(5)+enc(0)+enc(0)+enc(0)
ds=enc(6)+enc(5)+b"t_str"+enc(6)+enc(17)+enc(4)+enc(60000)
us=(1).to_bytes(4,'big')+enc(20)+b"abcdefghijklmnopqrst"+enc(9)
print((msg(0x82,d)+msg(0x80,u1)+msg(0x81,u2)+msg(0x85,u3)+msg(0x82,ds)+msg(0x80,us)).hex())
PY
sleep 1
cli "show table t_rx"; cli "show table t_str"; cli "show peers"
echo ff00 >&7; sleep 1
cli "show peers mypeers" | head -4
echo quit >&7; exec 7>&-; sleep 1; kill $(cat ha.pid)
cat peer2.out; rm -rf "$WORK"
