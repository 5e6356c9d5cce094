import socket, sys, time, threading
port = int(sys.argv[1])
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port)); ls.listen(1)
ctl = open(sys.argv[2])
c, _ = ls.accept(); c.settimeout(0.1)
buf = b""
while buf.count(b"\n") < 3:
    try: buf += c.recv(4096)
    except socket.timeout: pass
lines = buf.split(b"\n")
print("HELLO", lines[:3], flush=True)
c.sendall(b"200\n")
t0 = time.time()
def reader():
    while True:
        try:
            d = c.recv(65536)
            if not d: print("CLOSED", flush=True); return
            print("RX %.2f %s" % (time.time()-t0, d.hex()), flush=True)
        except socket.timeout: pass
        except Exception as e: print("ERR", e, flush=True); return
threading.Thread(target=reader, daemon=True).start()
for line in ctl:
    line = line.strip()
    if line == "quit": break
    if line.startswith("sleep"): time.sleep(float(line.split()[1])); continue
    c.sendall(bytes.fromhex(line)); print("TX %.2f %s" % (time.time()-t0, line), flush=True)
time.sleep(0.5)
