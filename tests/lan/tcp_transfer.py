#!/usr/bin/env python3
"""tcp_transfer.py: moves pseudo-random bytes over one TCP connection and prints their SHA-256,
so a test can check that a link (e.g. through wire_impair.py) delivers a stream intact.

  tcp_transfer.py recv PORT [--timeout S]          accept one connection, read to EOF, print
                                                   "bytes=N sha256=HEX"
  tcp_transfer.py send HOST PORT BYTES [--seed N]  connect (retrying up to --timeout), send,
                                                   print "bytes=N sha256=HEX"
Every wait is bounded by --timeout (default 60 s). Python 3 standard library only.
"""
import argparse
import hashlib
import random
import socket
import sys
import time


def recv(args):
    srv = socket.create_server(("0.0.0.0", args.port), reuse_port=False)
    srv.settimeout(args.timeout)
    conn, _ = srv.accept()
    deadline = time.monotonic() + args.timeout
    h, n = hashlib.sha256(), 0
    with conn:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                print(f"timeout after {n} bytes", file=sys.stderr)
                return 1
            conn.settimeout(left)
            chunk = conn.recv(1 << 16)
            if not chunk:
                break
            h.update(chunk)
            n += len(chunk)
    print(f"bytes={n} sha256={h.hexdigest()}", flush=True)
    return 0


def send(args):
    rng = random.Random(args.seed)
    deadline = time.monotonic() + args.timeout
    while True:
        try:
            conn = socket.create_connection((args.host, args.port), timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    h, n = hashlib.sha256(), 0
    with conn:
        conn.settimeout(max(1.0, deadline - time.monotonic()))
        while n < args.bytes:
            chunk = rng.randbytes(min(1 << 16, args.bytes - n))
            conn.sendall(chunk)
            h.update(chunk)
            n += len(chunk)
        conn.shutdown(socket.SHUT_WR)
        conn.recv(1)  # EOF from the receiver: it has read everything
    print(f"bytes={n} sha256={h.hexdigest()}", flush=True)
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("recv")
    r.add_argument("port", type=int)
    s = sub.add_parser("send")
    s.add_argument("host")
    s.add_argument("port", type=int)
    s.add_argument("bytes", type=int)
    s.add_argument("--seed", type=int, default=1)
    for q in (r, s):
        q.add_argument("--timeout", type=float, default=60.0)
    args = p.parse_args()
    return recv(args) if args.cmd == "recv" else send(args)


if __name__ == "__main__":
    sys.exit(main())
