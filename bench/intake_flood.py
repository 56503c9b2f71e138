#!/usr/bin/env python3
"""Issue 14's flood, against a running gateway: N connections announce 10 MiB bodies without a valid key and send
nothing. Prints the answers (all should be 401), their latency from each head being sent, and the gateway's resident
memory before and at its peak (from /proc/PID/status).

    HTTP_PORT=18777 DATA_DIR=/tmp/flood-data java -jar target/inference-gateway.jar demo &
    python3 bench/intake_flood.py 18777 $! 400
"""
import select
import socket
import sys
import time
from collections import Counter

port = int(sys.argv[1]); pid = int(sys.argv[2]); n = int(sys.argv[3]) if len(sys.argv) > 3 else 400
def rss():
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS:"): return int(l.split()[1]) // 1024
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
before = rss(); peak = before
sent = {}; got = {}
for i, s in enumerate(socks):
    auth = "" if i % 2 == 0 else f"Authorization: Bearer sk-not-a-key-{i}\r\n"
    s.sendall((f"POST /v1/chat/completions HTTP/1.1\r\nHost: g\r\nContent-Type: application/json\r\n{auth}"
               f"Content-Length: {10*1024*1024}\r\n\r\n").encode())
    sent[s] = time.monotonic()
    s.setblocking(False)
status = {}
end = time.monotonic() + 10
while len(got) < n and time.monotonic() < end:
    r, _, _ = select.select([s for s in socks if s not in got], [], [], 0.05)
    now = time.monotonic()
    for s in r:
        try: data = s.recv(65536)
        except OSError: data = b""
        got[s] = now; status[s] = data[9:12].decode() if data else "closed"
    peak = max(peak, rss())
lat = sorted((got[s] - sent[s]) * 1000 for s in got)
print(f"answers {len(got)}/{n} {dict(Counter(status.values()))}; latency ms p50 {lat[len(lat)//2]:.0f} p99 {lat[int(len(lat)*.99)-1]:.0f} max {lat[-1]:.0f}; RSS before {before} MiB, peak {peak} MiB (+{peak-before})")
